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
	[HG_KEY_UIDS] = { "allowed_uids", HG_TYPE_UID, 4, 0, HG_BYTEORDER_HOST },
	[HG_KEY_GIDS] = { "allowed_gids", HG_TYPE_GID, 4, 0, HG_BYTEORDER_HOST },
	[HG_KEY_IFACES] = { "container_ifaces", HG_TYPE_IFNAME, 16, NFT_SET_INTERVAL, HG_BYTEORDER_HOST },
	[HG_KEY_TCP] = { "allow_from_containers_tcp", HG_TYPE_INET_SERVICE, 2, NFT_SET_INTERVAL, HG_BYTEORDER_BIG },
	[HG_KEY_UDP] = { "allow_from_containers_udp", HG_TYPE_INET_SERVICE, 2, NFT_SET_INTERVAL, HG_BYTEORDER_BIG },
};

const char *const hg_chain_names[HG_CHAIN_MAX] = {
	[HG_CHAIN_EGRESS] = "egress",
	[HG_CHAIN_INGRESS] = "ingress_local",
};

/* nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert */
const uint8_t hg_icmpv6_nd_types[3] = { 133, 135, 136 };
#define ANON_SET_NAME "__set%d"
#define ANON_SET_ID 100

/* ---- expression helpers (each a few lines around libnftnl) ------------------- */

static struct nftnl_expr *add(struct nftnl_rule *r, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);
	if (e)
		nftnl_rule_add_expr(r, e);
	return e;
}

static void x_meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = add(r, "meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

static void x_lookup(struct nftnl_rule *r, const char *set, uint32_t set_id, bool inverted)
{
	struct nftnl_expr *e = add(r, "lookup");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	if (set_id)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
	if (inverted)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
}

static void x_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = add(r, "cmp");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

static void x_cmp_u8(struct nftnl_rule *r, uint8_t v)
{
	x_cmp(r, NFT_CMP_EQ, &v, 1);
}

static void x_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = add(r, "payload");
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
}

static void x_verdict(struct nftnl_rule *r, uint32_t verdict)
{
	struct nftnl_expr *e = add(r, "immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdict);
}

static void x_counter(struct nftnl_rule *r)
{
	add(r, "counter");
}

/* iifname/oifname @container_ifaces fib daddr type local */
static void m_from_container_to_host(struct nftnl_rule *r)
{
	uint32_t local = RTN_LOCAL;
	struct nftnl_expr *e;

	x_meta(r, NFT_META_IIFNAME);
	x_lookup(r, "container_ifaces", 0, false);
	e = add(r, "fib");
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	x_cmp(r, NFT_CMP_EQ, &local, sizeof(local));
}

/* tcp|udp dport @set (in an inet table: meta l4proto, then the payload) */
static void m_dport_in(struct nftnl_rule *r, uint8_t proto, const char *set)
{
	x_meta(r, NFT_META_L4PROTO);
	x_cmp_u8(r, proto);
	x_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	x_lookup(r, set, 0, false);
}

static struct nftnl_rule *rule_new(enum hg_chain chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	if (!r)
		return NULL;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, HG_TABLE_NAME);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, hg_chain_names[chain]);
	return r;
}

/*
 * meta skuid != @allowed_uids meta skgid != @allowed_gids oifname @container_ifaces
 *
 * The same conjunction as ruleset.md's "oifname ... skuid ... skgid", in
 * the order that costs least per packet: a forwarded packet has no socket
 * and leaves at the first expression, and so does an allowed uid's packet
 * after one hash lookup; only packets of non-allowed local sockets reach
 * the interval lookup of the interface name.
 */
static void m_egress(struct nftnl_rule *r)
{
	x_meta(r, NFT_META_SKUID);
	x_lookup(r, "allowed_uids", 0, true);
	x_meta(r, NFT_META_SKGID);
	x_lookup(r, "allowed_gids", 0, true);
	x_meta(r, NFT_META_OIFNAME);
	x_lookup(r, "container_ifaces", 0, false);
}

/*
 * limit rate N/unit burst 5 packets log prefix "..." group G
 *
 * A rule of its own before the drop: over the rate, limit ends the rule,
 * and that must not skip the drop.
 */
static void x_log(struct nftnl_rule *r, const struct hg_log_settings *log, const char *prefix)
{
	struct nftnl_expr *e = add(r, "limit");

	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, log->rate);
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, log->per_seconds);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, 5);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
	e = add(r, "log");
	nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, log->group);
}

/*
 * egress (postrouting, where the real output device is known even for
 * DNAT'd local connections; locally generated packets still carry their
 * socket there):
 *
 *   ct direction reply accept
 *       Replies of host services (a SYN-ACK carries the listener's uid)
 *       must leave; "established" would let a revoked user keep sending.
 *   [<match> limit ... log ... group G]                 when logging
 *   <match> counter drop
 */
static int build_egress(struct nftnl_rule **v, const struct hg_log_settings *log)
{
	uint8_t reply = IP_CT_DIR_REPLY;
	struct nftnl_expr *e;
	int n = 0;

	for (int i = 0; i < (log->enabled ? 3 : 2); i++)
		if (!(v[i] = rule_new(HG_CHAIN_EGRESS)))
			return -ENOMEM;
	e = add(v[n], "ct");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_DIRECTION);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	x_cmp(v[n], NFT_CMP_EQ, &reply, 1);
	x_verdict(v[n++], NF_ACCEPT);

	if (log->enabled) {
		m_egress(v[n]);
		x_log(v[n++], log, HG_LOG_PREFIX_EGRESS);
	}
	m_egress(v[n]);
	x_counter(v[n]);
	x_verdict(v[n++], NF_DROP);
	return n;
}

/*
 * ingress_local (input):
 *   ct state established,related accept
 *   icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } accept
 *       Unicast neighbour discovery to a host address is "local" and
 *       untracked; without this IPv6 to containers fails from a cold cache.
 *   iifname @container_ifaces fib daddr type local tcp dport @allow_from_containers_tcp accept
 *   iifname @container_ifaces fib daddr type local udp dport @allow_from_containers_udp accept
 *   [iifname @container_ifaces fib daddr type local limit ... log ...]    when logging
 *   iifname @container_ifaces fib daddr type local counter drop
 */
static int build_ingress(struct nftnl_rule **v, const struct hg_log_settings *log)
{
	uint32_t mask = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);
	uint32_t zero = 0;
	struct nftnl_expr *e;
	int n = 4;

	for (int i = 0; i < (log->enabled ? 6 : 5); i++)
		if (!(v[i] = rule_new(HG_CHAIN_INGRESS)))
			return -ENOMEM;
	e = add(v[0], "ct");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	e = add(v[0], "bitwise");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof(uint32_t));
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof(mask));
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof(zero));
	x_cmp(v[0], NFT_CMP_NEQ, &zero, sizeof(zero));
	x_verdict(v[0], NF_ACCEPT);

	/* nft encodes "icmpv6 type" in an inet table with both dependencies */
	x_meta(v[1], NFT_META_NFPROTO);
	x_cmp_u8(v[1], NFPROTO_IPV6);
	x_meta(v[1], NFT_META_L4PROTO);
	x_cmp_u8(v[1], IPPROTO_ICMPV6);
	x_payload(v[1], NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
	x_lookup(v[1], ANON_SET_NAME, ANON_SET_ID, false);
	x_verdict(v[1], NF_ACCEPT);

	m_from_container_to_host(v[2]);
	m_dport_in(v[2], IPPROTO_TCP, "allow_from_containers_tcp");
	x_verdict(v[2], NF_ACCEPT);

	m_from_container_to_host(v[3]);
	m_dport_in(v[3], IPPROTO_UDP, "allow_from_containers_udp");
	x_verdict(v[3], NF_ACCEPT);

	if (log->enabled) {
		m_from_container_to_host(v[n]);
		x_log(v[n++], log, HG_LOG_PREFIX_INGRESS);
	}
	m_from_container_to_host(v[n]);
	x_counter(v[n]);
	x_verdict(v[n++], NF_DROP);
	return n;
}

int hg_rules_build(enum hg_chain chain, const struct hg_log_settings *log,
		   struct nftnl_rule ***ret, size_t *ret_n)
{
	struct nftnl_rule **v = calloc(8, sizeof(*v));
	int n;

	if (!v)
		return -ENOMEM;
	n = chain == HG_CHAIN_EGRESS ? build_egress(v, log) : build_ingress(v, log);
	if (n < 0) {
		for (int i = 0; i < 8; i++)
			if (v[i])
				nftnl_rule_free(v[i]);
		free(v);
		return n;
	}
	*ret = v;
	*ret_n = (size_t)n;
	return 0;
}

struct nftnl_set *hg_icmpv6_set_build(void)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return NULL;
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, HG_TABLE_NAME);
	nftnl_set_set_str(s, NFTNL_SET_NAME, ANON_SET_NAME);
	nftnl_set_set_u32(s, NFTNL_SET_ID, ANON_SET_ID);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, HG_TYPE_ICMP6_TYPE);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 1);
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, ARRAY_SIZE(hg_icmpv6_nd_types));
	for (size_t i = 0; i < ARRAY_SIZE(hg_icmpv6_nd_types); i++) {
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();
		if (!e) {
			nftnl_set_free(s);
			return NULL;
		}
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &hg_icmpv6_nd_types[i], 1);
		nftnl_set_elem_add(s, e);
	}
	return s;
}

/* ---- canonical text, to compare desired and live rules ----------------------- */

char *hg_rule_canonical(const struct nftnl_rule *r,
			const char *(*anon)(const char *name, void *data), void *data)
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
			const char *a = NULL;
			if (set && strncmp(set, "__set", 5) == 0 && anon)
				a = anon(set, data);
			fprintf(f, "[lookup reg %u set %s flags %u]",
				nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG),
				a ? a : set ? set : "?",
				nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS)
					? nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) : 0);
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
