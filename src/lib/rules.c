/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The chains' rules as libnftnl objects; see doc/ruleset.md for the why. */
#include <arpa/inet.h>
#include <stdio.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>

#include "internal.h"

const struct hg_setdef hg_setdefs[HG_KEY_MAX] = {
	[HG_KEY_UIDS] = { "allowed_uids", HG_KIND_ID, HG_TYPE_UID, 4, 0, HG_BYTEORDER_HOST },
	[HG_KEY_GIDS] = { "allowed_gids", HG_KIND_ID, HG_TYPE_GID, 4, 0, HG_BYTEORDER_HOST },
	[HG_KEY_IFACES] = { "container_ifaces", HG_KIND_IFNAME, HG_TYPE_IFNAME, 16, NFT_SET_INTERVAL,
			    HG_BYTEORDER_HOST },
	[HG_KEY_TCP] = { "allow_from_containers_tcp", HG_KIND_PORT, HG_TYPE_INET_SERVICE, 2,
			 NFT_SET_INTERVAL, HG_BYTEORDER_BIG },
	[HG_KEY_UDP] = { "allow_from_containers_udp", HG_KIND_PORT, HG_TYPE_INET_SERVICE, 2,
			 NFT_SET_INTERVAL, HG_BYTEORDER_BIG },
	[HG_KEY_PUBLISHED_TCP] = { "published_tcp", HG_KIND_PORT, HG_TYPE_INET_SERVICE, 2,
				   NFT_SET_INTERVAL, HG_BYTEORDER_BIG },
	[HG_KEY_PUBLISHED_UDP] = { "published_udp", HG_KIND_PORT, HG_TYPE_INET_SERVICE, 2,
				   NFT_SET_INTERVAL, HG_BYTEORDER_BIG },
	/* config keys only: their elements live in the grant sets (grant.c) */
	[HG_KEY_GRANT_UIDS] = { "grant_uids", HG_KIND_GRANT, 0, 0, 0, 0 },
	[HG_KEY_GRANT_GIDS] = { "grant_gids", HG_KIND_GRANT, 0, 0, 0, 0 },
};

const char *const hg_chain_names[HG_NCHAINS] = {
	[HG_CHAIN_EGRESS] = "egress",
	[HG_CHAIN_INGRESS] = "ingress_local",
	[HG_CH_FROM_UNALLOWED] = "from_unallowed",
	[HG_CH_FROM_CONTAINERS] = "from_containers",
	[HG_CH_TO_PROTECTED] = "to_protected",
};

/* nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert */
const uint8_t hg_icmpv6_nd_types[3] = { 133, 135, 136 };
#define ANON_SET_NAME "__set%d"
#define ANON_SET_ID 100
/* the loopback device has this ifindex in every network namespace */
#define LOOPBACK_IFINDEX 1

/* ---- expression helpers ---------------------------------------------------------
 *
 * A rule under construction and a sticky error: a helper whose allocation
 * failed marks the rule, the others then do nothing, and the builder
 * reports -ENOMEM once at the end.  No helper touches a NULL expression.
 */
struct rb {
	struct nftnl_rule *r;
	bool oom;
};

static struct nftnl_expr *add(struct rb *b, const char *name)
{
	struct nftnl_expr *e;

	if (b->oom || !b->r)
		return NULL;
	e = nftnl_expr_alloc(name);
	if (!e) {
		b->oom = true;
		return NULL;
	}
	nftnl_rule_add_expr(b->r, e);
	return e;
}

static void x_meta(struct rb *b, uint32_t key)
{
	struct nftnl_expr *e = add(b, "meta");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

static void x_lookup(struct rb *b, const char *set, uint32_t set_id, bool inverted)
{
	struct nftnl_expr *e = add(b, "lookup");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	if (nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set) < 0)
		b->oom = true;
	if (set_id)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
	if (inverted)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
}

static void x_cmp(struct rb *b, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = add(b, "cmp");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

static void x_cmp_u8(struct rb *b, uint8_t v)
{
	x_cmp(b, NFT_CMP_EQ, &v, 1);
}

static void x_payload(struct rb *b, uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = add(b, "payload");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
}

static void x_fib(struct rb *b, uint32_t flags, uint32_t result)
{
	struct nftnl_expr *e = add(b, "fib");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, flags);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, result);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
}

static void x_verdict(struct rb *b, uint32_t verdict, const char *chain)
{
	struct nftnl_expr *e = add(b, "immediate");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdict);
	if (chain && nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain) < 0)
		b->oom = true;
}

/* meta skuid|skgid . ip|ip6 daddr [. th dport] @grant_*: nft's
 * concatenation, one 32-bit register per field from reg 1 on.  For the
 * interval set the id is byte-swapped so that pipapo orders it as a number;
 * a hash set takes it as it is (nft does the same). */
static void m_grant(struct rb *b, int ps)
{
	const struct hg_gsetdef *d = &hg_gsetdefs[HG_PSET_GS(ps)];
	int shape = HG_PSET_SHAPE(ps);
	struct nftnl_expr *e;

	x_meta(b, NFT_META_NFPROTO);
	x_cmp_u8(b, d->v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
	x_meta(b, d->key == HG_KEY_GRANT_GIDS ? NFT_META_SKGID : NFT_META_SKUID);
	if (shape == HG_GSHAPE_RANGE && (e = add(b, "byteorder"))) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, 4);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, 4);
	}
	e = add(b, "payload");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG32_01);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, d->v6 ? 24 : 16);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, d->v6 ? 16 : 4);
	}
	if (shape != HG_GSHAPE_ADDR && (e = add(b, "payload"))) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, d->v6 ? NFT_REG32_05 : NFT_REG32_02);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 2);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 2);
	}
	x_lookup(b, hg_psetdefs[ps].name, 0, false);
}

static void x_counter(struct rb *b)
{
	add(b, "counter");
}

/* tcp|udp dport @set (in an inet table: meta l4proto, then the payload) */
static void m_dport_in(struct rb *b, uint8_t proto, enum hg_key set)
{
	x_meta(b, NFT_META_L4PROTO);
	x_cmp_u8(b, proto);
	x_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	x_lookup(b, hg_setdefs[set].name, 0, false);
}

/* oifname @container_ifaces (iifname with NFT_META_IIFNAME) */
static void m_ifname(struct rb *b, uint32_t key)
{
	x_meta(b, key);
	x_lookup(b, hg_setdefs[HG_KEY_IFACES].name, 0, false);
}

/* oif "lo" */
static void m_oif_lo(struct rb *b)
{
	uint32_t lo = LOOPBACK_IFINDEX;

	x_meta(b, NFT_META_OIF);
	x_cmp(b, NFT_CMP_EQ, &lo, sizeof(lo));
}

/*
 * limit rate N/unit burst 5 packets log prefix "..." group G
 *
 * A rule of its own before the drop: over the rate, limit ends the rule,
 * and that must not skip the drop.
 */
static void x_log(struct rb *b, const struct hg_log_settings *log, const char *prefix)
{
	struct nftnl_expr *e = add(b, "limit");

	if (!e)
		return;
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, log->rate);
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, log->per_seconds);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, 5);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
	e = add(b, "log");
	if (!e)
		return;
	if (nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix) < 0)
		b->oom = true;
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, log->group);
}

/* A chain's rules are built as a list; each rule starts with its match. */
struct rules {
	int chain;
	struct nftnl_rule *v[16];
	size_t n;
	bool oom;
};

static struct rb next_rule(struct rules *l)
{
	struct rb b = { NULL, true };
	struct nftnl_rule *r;

	if (l->oom || l->n >= ARRAY_SIZE(l->v)) {
		l->oom = true;
		return b;
	}
	r = nftnl_rule_alloc();
	if (!r) {
		l->oom = true;
		return b;
	}
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	l->v[l->n++] = r;
	if (nftnl_rule_set_str(r, NFTNL_RULE_TABLE, HG_TABLE_NAME) < 0 ||
	    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, hg_chain_names[l->chain]) < 0) {
		l->oom = true;
		return b;
	}
	b.r = r;
	b.oom = false;
	return b;
}

static void done(struct rules *l, struct rb *b)
{
	l->oom |= b->oom;
}

/* "counter drop", preceded by its rate-limited log when logging is on. */
static void drop_rule(struct rules *l, const struct hg_log_settings *log, const char *prefix)
{
	struct rb b;

	if (log->enabled) {
		b = next_rule(l);
		x_log(&b, log, prefix);
		done(l, &b);
	}
	b = next_rule(l);
	x_counter(&b);
	x_verdict(&b, NF_DROP, NULL);
	done(l, &b);
}

/*
 * egress (postrouting, where the real output device is known even for
 * DNAT'd local connections; locally generated packets still carry their
 * socket there):
 *
 *   meta skuid != @allowed_uids meta skgid != @allowed_gids jump from_unallowed
 *
 * Packets without a socket (forwarded ones) leave at the first expression,
 * and so do an allowed uid's after one hash lookup: the decision for the
 * rest is made once, in from_unallowed.
 */
static void build_egress(struct rules *l)
{
	struct rb b = next_rule(l);

	x_meta(&b, NFT_META_SKUID);
	x_lookup(&b, hg_setdefs[HG_KEY_UIDS].name, 0, true);
	x_meta(&b, NFT_META_SKGID);
	x_lookup(&b, hg_setdefs[HG_KEY_GIDS].name, 0, true);
	x_verdict(&b, NFT_JUMP, hg_chain_names[HG_CH_FROM_UNALLOWED]);
	done(l, &b);
}

/*
 * from_unallowed: packets of local sockets whose uid and gid are not allowed.
 * Most of them (a user's own traffic to the world) leave after one interval
 * lookup and one compare; those to a protected destination go on to
 * to_protected, where grants and the drop are.
 *
 *   ct direction reply oifname @container_ifaces fib saddr type local accept
 *       Replies of host services (a SYN-ACK carries the listener's uid)
 *       must leave.  The direction first: an original-direction packet
 *       (most of them) leaves the rule after a compare, not an interval
 *       lookup.  Only from a host address: a local socket that binds
 *       a remote address (IP_FREEBIND) can forge the reply of a container's
 *       forwarded flow, and that reply does not come from a host address.
 *       Not "established": a revoked user's open flows must stop.
 *   oifname @container_ifaces jump to_protected
 *       Bridges and their ports (veth*): a socket can send straight out of a
 *       bridge port (SO_BINDTODEVICE, IP_PKTINFO, IPV6_MULTICAST_IF).
 *   oif "lo" tcp dport @published_tcp jump to_protected
 *   oif "lo" udp dport @published_udp jump to_protected
 *       Ports that Docker publishes on host addresses are served by
 *       docker-proxy (a root process) when the userland proxy is on: a
 *       local connection to any host address goes out through lo.
 */
static void build_from_unallowed(struct rules *l)
{
	static const enum hg_key pub[2] = { HG_KEY_PUBLISHED_TCP, HG_KEY_PUBLISHED_UDP };
	uint8_t reply = IP_CT_DIR_REPLY;
	uint32_t local = RTN_LOCAL;
	struct rb b = next_rule(l);
	struct nftnl_expr *e;

	e = add(&b, "ct");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_DIRECTION);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	x_cmp(&b, NFT_CMP_EQ, &reply, 1);
	m_ifname(&b, NFT_META_OIFNAME);
	x_fib(&b, NFTA_FIB_F_SADDR, NFT_FIB_RESULT_ADDRTYPE);
	x_cmp(&b, NFT_CMP_EQ, &local, sizeof(local));
	x_verdict(&b, NF_ACCEPT, NULL);
	done(l, &b);

	b = next_rule(l);
	m_ifname(&b, NFT_META_OIFNAME);
	x_verdict(&b, NFT_JUMP, hg_chain_names[HG_CH_TO_PROTECTED]);
	done(l, &b);
	for (size_t i = 0; i < 2; i++) {
		b = next_rule(l);
		m_oif_lo(&b);
		m_dport_in(&b, pub[i] == HG_KEY_PUBLISHED_TCP ? IPPROTO_TCP : IPPROTO_UDP, pub[i]);
		x_verdict(&b, NFT_JUMP, hg_chain_names[HG_CH_TO_PROTECTED]);
		done(l, &b);
	}
}

/*
 * to_protected: a non-allowed socket's packet to a container or to a port
 * Docker publishes: the one place where it is decided.
 *
 *   meta skuid . ip daddr . th dport @grant_uids4_port accept
 *   meta skuid . ip daddr @grant_uids4_addr accept
 *   meta skuid . ip daddr . th dport @grant_uids4 accept
 *   (the same for ip6, and for skgid)
 *       Grants: this uid (gid) may reach this address and port (range).
 *       One lookup per shape of element: a grant of one address and port,
 *       or of one address, is a hash lookup, whose cost does not grow with
 *       the number of grants as pipapo's does; only prefixes and port
 *       ranges are left to the interval set.
 *   [log]  counter drop
 */
static void build_to_protected(struct rules *l, const struct hg_log_settings *log)
{
	static const int order[HG_NGSHAPES] = { HG_GSHAPE_PORT, HG_GSHAPE_ADDR, HG_GSHAPE_RANGE };
	struct rb b;

	for (int gs = 0; gs < HG_NGSETS; gs++) {
		for (int i = 0; i < HG_NGSHAPES; i++) {
			b = next_rule(l);
			m_grant(&b, HG_PSET(gs, order[i]));
			x_verdict(&b, NF_ACCEPT, NULL);
			done(l, &b);
		}
	}
	drop_rule(l, log, HG_LOG_PREFIX_EGRESS);
}

/*
 * ingress_local (input: everything delivered to the host, whatever the
 * destination address type - unicast, broadcast, multicast, anycast):
 *
 *   iifname @container_ifaces jump from_containers
 */
static void build_ingress(struct rules *l)
{
	struct rb b = next_rule(l);

	m_ifname(&b, NFT_META_IIFNAME);
	x_verdict(&b, NFT_JUMP, hg_chain_names[HG_CH_FROM_CONTAINERS]);
	done(l, &b);
}

/*
 * from_containers: what containers send to the host.
 *
 *   icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } accept
 *       Unicast neighbour discovery to a host address is untracked; without
 *       it IPv6 to containers fails from a cold cache.
 *   fib saddr . iif oif missing counter drop
 *       A source address that is not routed back through the interface it
 *       came in on is forged: without this a container can fake the reply of
 *       a host's own flow (conntrack calls it established).
 *   ct state established,related accept
 *   tcp dport @allow_from_containers_tcp accept
 *   udp dport @allow_from_containers_udp accept
 *   tcp dport @published_tcp accept
 *   udp dport @published_udp accept
 *       Hairpin: a container reaching a port Docker publishes on a host
 *       address (served by docker-proxy).
 *   [log]  counter drop
 */
static void build_from_containers(struct rules *l, const struct hg_log_settings *log)
{
	static const enum hg_key open_keys[4] = { HG_KEY_TCP, HG_KEY_UDP, HG_KEY_PUBLISHED_TCP,
						  HG_KEY_PUBLISHED_UDP };
	uint32_t mask = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);
	uint32_t zero = 0;
	struct nftnl_expr *e;
	struct rb b;

	/* nft encodes "icmpv6 type" in an inet table with both dependencies */
	b = next_rule(l);
	x_meta(&b, NFT_META_NFPROTO);
	x_cmp_u8(&b, NFPROTO_IPV6);
	x_meta(&b, NFT_META_L4PROTO);
	x_cmp_u8(&b, IPPROTO_ICMPV6);
	x_payload(&b, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
	x_lookup(&b, ANON_SET_NAME, ANON_SET_ID, false);
	x_verdict(&b, NF_ACCEPT, NULL);
	done(l, &b);

	b = next_rule(l);
	x_fib(&b, NFTA_FIB_F_SADDR | NFTA_FIB_F_IIF | NFTA_FIB_F_PRESENT, NFT_FIB_RESULT_OIF);
	x_cmp(&b, NFT_CMP_EQ, &zero, sizeof(zero));
	x_counter(&b);
	x_verdict(&b, NF_DROP, NULL);
	done(l, &b);

	b = next_rule(l);
	e = add(&b, "ct");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	e = add(&b, "bitwise");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof(uint32_t));
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof(mask));
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof(zero));
	}
	x_cmp(&b, NFT_CMP_NEQ, &zero, sizeof(zero));
	x_verdict(&b, NF_ACCEPT, NULL);
	done(l, &b);

	for (size_t i = 0; i < ARRAY_SIZE(open_keys); i++) {
		enum hg_key k = open_keys[i];
		b = next_rule(l);
		m_dport_in(&b, k == HG_KEY_TCP || k == HG_KEY_PUBLISHED_TCP ? IPPROTO_TCP : IPPROTO_UDP, k);
		x_verdict(&b, NF_ACCEPT, NULL);
		done(l, &b);
	}
	drop_rule(l, log, HG_LOG_PREFIX_INGRESS);
}

int hg_rules_build(int chain, const struct hg_log_settings *log, struct nftnl_rule ***ret,
		   size_t *ret_n)
{
	struct rules l = { .chain = chain };
	struct nftnl_rule **v;

	if (chain < 0 || chain >= HG_NCHAINS || !log)
		return -EINVAL;
	switch (chain) {
	case HG_CHAIN_EGRESS:
		build_egress(&l);
		break;
	case HG_CHAIN_INGRESS:
		build_ingress(&l);
		break;
	case HG_CH_FROM_UNALLOWED:
		build_from_unallowed(&l);
		break;
	case HG_CH_TO_PROTECTED:
		build_to_protected(&l, log);
		break;
	case HG_CH_FROM_CONTAINERS:
		build_from_containers(&l, log);
		break;
	}
	v = l.oom ? NULL : calloc(l.n ? l.n : 1, sizeof(*v));
	if (!v) {
		for (size_t i = 0; i < l.n; i++)
			nftnl_rule_free(l.v[i]);
		return -ENOMEM;
	}
	memcpy(v, l.v, l.n * sizeof(*v));
	*ret = v;
	*ret_n = l.n;
	return 0;
}

struct nftnl_set *hg_icmpv6_set_build(void)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return NULL;
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	if (nftnl_set_set_str(s, NFTNL_SET_TABLE, HG_TABLE_NAME) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, ANON_SET_NAME) < 0) {
		nftnl_set_free(s);
		return NULL;
	}
	nftnl_set_set_u32(s, NFTNL_SET_ID, ANON_SET_ID);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, HG_TYPE_ICMP6_TYPE);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 1);
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, ARRAY_SIZE(hg_icmpv6_nd_types));
	for (size_t i = 0; i < ARRAY_SIZE(hg_icmpv6_nd_types); i++) {
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();
		if (!e) {
			hg_nftnl_free(nftnl_set_free, s);
			return NULL;
		}
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &hg_icmpv6_nd_types[i], 1);
		nftnl_set_elem_add(s, e);
	}
	return s;
}

/* ---- canonical text, to compare desired and live rules ----------------------- */

char *hg_rule_canonical(const struct nftnl_rule *r,
			void (*anon)(FILE *f, const char *name, const void *data), const void *data)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if (!it)
		return NULL;
	f = open_memstream(&out, &len);
	if (!f) {
		nftnl_expr_iter_destroy(it);
		return NULL;
	}
	while ((e = nftnl_expr_iter_next(it))) {
		const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
		char buf[512];

		if (strcmp(name, "counter") == 0) {
			fputs("[counter]", f);
		} else if (strcmp(name, "lookup") == 0) {
			const char *set = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
			fprintf(f, "[lookup reg %u set ", nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG));
			if (set && strncmp(set, "__set", 5) == 0 && anon)
				anon(f, set, data);
			else
				fputs(set ? set : "?", f);
			fprintf(f, " flags %u",
				nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS)
					? nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) : 0);
			/* a map's lookup loads a value (a verdict map: a verdict) */
			if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG))
				fprintf(f, " dreg %u", nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG));
			fputc(']', f);
		} else {
			nftnl_expr_snprintf(buf, sizeof(buf), e, NFTNL_OUTPUT_DEFAULT, 0);
			fprintf(f, "[%s %s]", name, buf);
		}
	}
	nftnl_expr_iter_destroy(it);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}
