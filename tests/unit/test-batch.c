/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The transaction apply sends, built into a buffer and parsed back with
 * libnftnl: no kernel needed. */
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <errno.h>
#include <stdio.h>

#include "check.h"
#include "table.h"

#define MSG(t) ((NFNL_SUBSYS_NFTABLES << 8) | (t))

struct seen {
	int tables, sets, elem_msgs, chains, rules;
	size_t max_len;
	char rule_exprs[32][256];
	int n_rules;
	size_t uid_elems;
};

/* Elements are decoded straight from the wire format with libmnl. */
static void walk_elems(const struct nlmsghdr *nlh, struct seen *sn)
{
	const struct nlattr *a, *list = NULL, *el;
	const char *name = NULL;
	int i = 0;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_SET)
			name = mnl_attr_get_str(a);
		else if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
			list = a;
	}
	CHECK(name && list, "element message names its set and has elements");
	if (!name || !list)
		return;
	mnl_attr_for_each_nested(el, list) {
		const struct nlattr *x, *v;
		const unsigned char *key = NULL;
		uint32_t len = 0, flags = 0;

		/* libnftnl numbers the element nests 1, 2, 3...; the kernel
		 * does not look at their type */
		CHECK(mnl_attr_get_type(el) == (uint16_t)(i + 1), "element nest %d", i + 1);
		mnl_attr_for_each_nested(x, el) {
			if (mnl_attr_get_type(x) == NFTA_SET_ELEM_FLAGS)
				flags = ntohl(mnl_attr_get_u32(x));
			if (mnl_attr_get_type(x) != NFTA_SET_ELEM_KEY)
				continue;
			mnl_attr_for_each_nested(v, x) {
				if (mnl_attr_get_type(v) == NFTA_DATA_VALUE) {
					key = mnl_attr_get_payload(v);
					len = mnl_attr_get_payload_len(v);
				}
			}
		}
		CHECK(key != NULL, "element of %s has a key", name);
		if (!key)
			continue;
		if (strcmp(name, "allowed_uids") == 0) {
			CHECK(len == 4, "uid key length %u", len);
			sn->uid_elems++;
		}
		if (strcmp(name, "container_ifaces") == 0) {
			CHECK(len == 16, "ifname key length %u", len);
			/* the policy below holds only "br-*": [ "br-", "br." ) */
			if (i == 0)
				CHECK(memcmp(key, "br-\0\0", 5) == 0 && !(flags & NFT_SET_ELEM_INTERVAL_END), "br- start");
			if (i == 1)
				CHECK(memcmp(key, "br.\0\0", 5) == 0 && (flags & NFT_SET_ELEM_INTERVAL_END), "br. end");
		}
		if (strcmp(name, "allow_from_containers_tcp") == 0) {
			uint16_t port;
			memcpy(&port, key, 2);
			/* 8000-8100 -> start 8000, end 8101, network order */
			if (i == 0)
				CHECK(ntohs(port) == 8000 && !flags, "tcp start %u", ntohs(port));
			if (i == 1)
				CHECK(ntohs(port) == 8101 && (flags & NFT_SET_ELEM_INTERVAL_END), "tcp end %u", ntohs(port));
		}
		i++;
	}
}

/* hg_batch_units() as libnftnl writes it: the oracle its own encoder is
 * held to, byte for byte */
static int ref_units(struct hg_batch *b, enum hg_key k, const struct hg_unit *u, size_t n,
		     uint16_t type, uint16_t flags)
{
	const struct hg_setdef *d = &hg_setdefs[k];
	size_t per = 48000u / (2 * d->key_len + 64);

	for (size_t i = 0; i < n; i += per) {
		struct nftnl_set *s = nftnl_set_alloc();
		char *at = hg_batch_tail(b);
		struct nlmsghdr *nlh;

		if (!s || !at)
			return -ENOMEM;
		nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
		nftnl_set_set_str(s, NFTNL_SET_TABLE, HG_TABLE_NAME);
		nftnl_set_set_str(s, NFTNL_SET_NAME, d->name);
		for (size_t j = i; j < n && j < i + per; j++) {
			struct nftnl_set_elem *e = nftnl_set_elem_alloc();
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, u[j].start, d->key_len);
			nftnl_set_elem_add(s, e);
			if (u[j].has_end) {
				e = nftnl_set_elem_alloc();
				nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, u[j].end, d->key_len);
				nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
				nftnl_set_elem_add(s, e);
			}
		}
		nlh = nftnl_set_elem_nlmsg_build_hdr(at, type, NFPROTO_INET,
						     (type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0) | flags,
						     hg_batch_seq(b));
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
		hg_batch_add(b, nlh, (int)k, "ref");
	}
	return 0;
}

/* the program's zero-initialised static storage (GNU ld's symbols) */
extern char __bss_start[], _end[];
static bool in_bss(const char *p)
{
	return p >= __bss_start && p < _end;
}

static unsigned grant_sets_seen;
static const bool no_fresh[HG_NGSHAPES];

/* Counts the elements of NEWSETELEM (add) or DELSETELEM messages of set name. */
static size_t elems_in(const struct hg_batch *b, int type, const char *name)
{
	size_t n = 0;

	for (size_t off = 0; off < b->len;) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)(b->buf + off);
		if ((nlh->nlmsg_type >> 8) == NFNL_SUBSYS_NFTABLES && (nlh->nlmsg_type & 0xff) == type) {
			const struct nlattr *a, *list = NULL, *el;
			const char *set = "";
			mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
				if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_SET)
					set = mnl_attr_get_str(a);
				if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
					list = a;
			}
			if (list && strcmp(set, name) == 0)
				mnl_attr_for_each_nested(el, list)
					n++;
		}
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	return n;
}

static void walk_set(const struct nlmsghdr *nlh)
{
	struct nftnl_set *s = nftnl_set_alloc();
	const char *name;
	uint32_t len = 0;
	const unsigned char *ud;

	CHECK(nftnl_set_nlmsg_parse(nlh, s) == 0, "set parse");
	name = nftnl_set_get_str(s, NFTNL_SET_NAME);
	CHECK(nftnl_set_is_set(s, NFTNL_SET_ID), "set %s has an ID (the kernel requires it)", name);
	int k = hg_key_from_name(name);
	if (k >= 0) {
		const struct hg_setdef *d = &hg_setdefs[k];
		CHECK(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE) == d->key_type, "%s key type", name);
		CHECK(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN) == d->key_len, "%s key len", name);
		uint32_t flags = nftnl_set_is_set(s, NFTNL_SET_FLAGS) ? nftnl_set_get_u32(s, NFTNL_SET_FLAGS) : 0;
		CHECK(flags == d->flags, "%s flags %u", name, flags);
		ud = nftnl_set_get_data(s, NFTNL_SET_USERDATA, &len);
		/* one TLV: type 0 (key byte order), length 4, host u32 value */
		CHECK(len == 6 && ud[0] == 0 && ud[1] == 4 && ud[2] == d->byteorder, "%s byte order udata", name);
	} else if (hg_pset_index(name) >= 0) {
		int ps = hg_pset_index(name);
		const struct hg_psetdef *d = &hg_psetdefs[ps];
		bool range = HG_PSET_SHAPE(ps) == HG_GSHAPE_RANGE;
		CHECK(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE) == d->key_type, "%s key type", name);
		CHECK(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN) == d->key_len, "%s key len", name);
		CHECK(nftnl_set_get_u32(s, NFTNL_SET_FLAGS) ==
		      (range ? NFT_SET_INTERVAL | NFT_SET_TIMEOUT | NFT_SET_CONCAT : NFT_SET_TIMEOUT),
		      "%s flags", name);
		CHECK(nftnl_set_is_set(s, NFTNL_SET_DESC_CONCAT) == range, "%s concat field lengths", name);
		grant_sets_seen |= 1u << ps;
	} else {
		CHECK(strcmp(name, "__set%d") == 0, "unexpected set %s", name);
		CHECK(nftnl_set_get_u32(s, NFTNL_SET_FLAGS) == (NFT_SET_ANONYMOUS | NFT_SET_CONSTANT), "anon flags");
	}
	nftnl_set_free(s);
}

static void walk_chain(const struct nlmsghdr *nlh)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	const char *name;

	CHECK(nftnl_chain_nlmsg_parse(nlh, c) == 0, "chain parse");
	name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
	if (strcmp(name, "from_unallowed") == 0 || strcmp(name, "from_containers") == 0 ||
	    strcmp(name, "to_protected") == 0) {
		/* regular chains, reached only by the base chains' jumps */
		CHECK(!nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM), "%s is a regular chain", name);
		nftnl_chain_free(c);
		return;
	}
	if (strcmp(name, "egress") == 0)
		CHECK(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM) == NF_INET_POST_ROUTING,
		      "egress hooks postrouting (DNAT'd local connections)");
	else
		CHECK(strcmp(name, "ingress_local") == 0 &&
		      nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM) == NF_INET_LOCAL_IN, "ingress_local hooks input");
	CHECK(nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_ACCEPT, "%s policy accept", name);
	CHECK(nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO) == 0, "%s priority 0", name);
	nftnl_chain_free(c);
}

static void walk_rule(const struct nlmsghdr *nlh, struct seen *sn)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_expr_iter *it;
	struct nftnl_expr *e;
	char *out;

	CHECK(nftnl_rule_nlmsg_parse(nlh, r) == 0, "rule parse");
	CHECK(nlh->nlmsg_flags & NLM_F_APPEND, "rules are appended");
	out = sn->rule_exprs[sn->n_rules < 32 ? sn->n_rules : 31];
	out[0] = '\0';
	it = nftnl_expr_iter_create(r);
	while ((e = nftnl_expr_iter_next(it))) {
		strcat(out, nftnl_expr_get_str(e, NFTNL_EXPR_NAME));
		strcat(out, " ");
	}
	nftnl_expr_iter_destroy(it);
	sn->n_rules++;
	nftnl_rule_free(r);
}

static void walk(const struct hg_batch *b, struct seen *sn)
{
	size_t off = 0;

	memset(sn, 0, sizeof(*sn));
	while (off < b->len) {
		const struct nlmsghdr *nlh = (const void *)(b->buf + off);
		if (nlh->nlmsg_len > sn->max_len && nlh->nlmsg_type != NFNL_MSG_BATCH_BEGIN)
			sn->max_len = nlh->nlmsg_len;
		switch (nlh->nlmsg_type) {
		case MSG(NFT_MSG_NEWTABLE): sn->tables++; break;
		case MSG(NFT_MSG_NEWSET): sn->sets++; walk_set(nlh); break;
		case MSG(NFT_MSG_NEWSETELEM): sn->elem_msgs++; walk_elems(nlh, sn); break;
		case MSG(NFT_MSG_NEWCHAIN): sn->chains++; walk_chain(nlh); break;
		case MSG(NFT_MSG_NEWRULE): walk_rule(nlh, sn); break;
		case NFNL_MSG_BATCH_BEGIN: CHECK(off == 0, "BEGIN first"); break;
		case NFNL_MSG_BATCH_END: break;
		default: CHECK(0, "unexpected message type 0x%x", nlh->nlmsg_type);
		}
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	CHECK(off == b->len, "messages fill the buffer exactly");
}

static int build(struct hg_policy *p, struct hg_batch *b)
{
	struct hg_nl nl = { 0 };
	struct hg_canon c;
	int r = hg_canon_from_policy(p, &c, NULL);

	if (r == 0)
		r = hg_batch_begin(b, &nl, 0);
	if (r == 0)
		r = hg_batch_full_table(b, &c);
	hg_canon_clear(&c);
	return r;
}

int main(void)
{
	struct hg_policy *p = hg_policy_new();
	struct hg_batch b;
	struct seen sn;

	hg_policy_add(p, HG_KEY_UIDS, "0", NULL);
	hg_policy_add(p, HG_KEY_UIDS, "1001", NULL);
	hg_policy_add(p, HG_KEY_IFACES, "br-*", NULL);
	hg_policy_add(p, HG_KEY_TCP, "8000-8100", NULL);
	CHECK(build(p, &b) == 0, "build");
	walk(&b, &sn);
	CHECK(sn.tables == 1, "one NEWTABLE (%d): the table is never deleted", sn.tables);
	CHECK(sn.sets == 20, "seven named sets, twelve grant sets and the ICMPv6 set (%d)", sn.sets);
	CHECK(grant_sets_seen == (1u << HG_NPSETS) - 1, "every grant set created (0x%x)", grant_sets_seen);
	CHECK(sn.chains == 5, "two base chains and three regular ones (%d)", sn.chains);
	CHECK(sn.n_rules == 27, "twenty-seven rules (%d)", sn.n_rules);
	CHECK(sn.uid_elems == 2, "two uids (%zu)", sn.uid_elems);
	/* egress: skuid, skgid, jump from_unallowed */
	CHECK_STR(sn.rule_exprs[0], "meta lookup meta lookup immediate ");
	/* ingress_local: iifname @container_ifaces jump from_containers */
	CHECK_STR(sn.rule_exprs[1], "meta lookup immediate ");
	/* from_unallowed: replies from host addresses, then container
	 * interfaces and published ports jump to to_protected */
	CHECK_STR(sn.rule_exprs[2], "ct cmp meta lookup fib cmp immediate ");
	CHECK_STR(sn.rule_exprs[3], "meta lookup immediate ");
	CHECK_STR(sn.rule_exprs[4], "meta cmp meta cmp payload lookup immediate ");
	CHECK_STR(sn.rule_exprs[5], "meta cmp meta cmp payload lookup immediate ");
	/* from_containers: ND, anti-spoofing, established, four port sets, drop */
	CHECK_STR(sn.rule_exprs[6], "meta cmp meta cmp payload lookup immediate ");
	CHECK_STR(sn.rule_exprs[7], "fib cmp counter immediate ");
	CHECK_STR(sn.rule_exprs[8], "ct bitwise cmp immediate ");
	CHECK_STR(sn.rule_exprs[9], "meta cmp payload lookup immediate ");
	CHECK_STR(sn.rule_exprs[12], "meta cmp payload lookup immediate ");
	CHECK_STR(sn.rule_exprs[13], "counter immediate ");
	/* to_protected: per principal kind and family a hash lookup of
	 * address and port, one of the address, the interval lookup (byte-
	 * swapped id), then the one drop */
	for (int i = 14; i < 26; i += 3) {
		CHECK_STR(sn.rule_exprs[i], "meta cmp meta payload payload lookup immediate ");
		CHECK_STR(sn.rule_exprs[i + 1], "meta cmp meta payload lookup immediate ");
		CHECK_STR(sn.rule_exprs[i + 2], "meta cmp meta byteorder payload payload lookup immediate ");
	}
	CHECK_STR(sn.rule_exprs[26], "counter immediate ");
	/* records name every message for error reports */
	CHECK(b.n_rec > 10 && strcmp(b.rec[1].what, "add table inet hostguard") == 0, "%s", b.rec[1].what);
	hg_batch_free(&b);

	/* 100,000 uids: several element messages, each under the 64 KiB cap */
	char tok[16];
	for (int i = 0; i < 100000; i++) {
		snprintf(tok, sizeof(tok), "%d", 100000 + i);
		hg_policy_add(p, HG_KEY_UIDS, tok, NULL);
	}
	CHECK(build(p, &b) == 0, "build large");
	walk(&b, &sn);
	CHECK(sn.uid_elems == 100002, "all uids sent (%zu)", sn.uid_elems);
	CHECK(sn.elem_msgs > 50, "split into %d element messages", sn.elem_msgs);
	CHECK(sn.max_len < 65536, "largest message %zu bytes", sn.max_len);
	hg_batch_free(&b);
	hg_policy_free(p);

	/* grants with a source: an element of a name or label carries it as
	 * its comment (nft's comment TLV); the same key with another comment,
	 * or a runtime one where a name wants it, is replaced */
	{
		static const char *const web1[] = { "10.0.0.2" };
		struct hg_policy *w = hg_policy_new(), *lp = hg_policy_new();
		struct hg_canon live = { 0 }, want = { 0 };
		struct hg_nl nl = { 0 };
		size_t changes = 0;
		int comments = 0;

		/* live: 1002@10.0.0.2 by label of web1, 1003@10.0.0.2 runtime,
		 * 1004@10.0.0.2 by name web1 (unchanged) */
		CHECK(hg_policy_add_grant_from(lp, HG_KEY_GRANT_UIDS, "1002@10.0.0.2", HG_GRANT_LABEL, "web1", NULL) == 0, "live label");
		CHECK(hg_policy_add(lp, HG_KEY_GRANT_UIDS, "1003@10.0.0.2", NULL) == 0, "live runtime");
		CHECK(hg_policy_add(lp, HG_KEY_GRANT_UIDS, "1004@web1", NULL) == 0, "live name");
		CHECK(hg_policy_set_container(lp, "web1", web1, 1, NULL) == 0, "web1");
		CHECK(hg_canon_from_policy(lp, &live, NULL) == 0 && live.ng[0] == 3, "live canon (%zu)", live.ng[0]);
		for (size_t i = 0; i < live.ng[0]; i++) {
			live.g[0][i].where = (uint8_t)hg_grant_shape(&live.g[0][i]);
			if (live.g[0][i].id == 1003)
				live.g[0][i].timeout_ms = 60000;
		}
		/* want: the three by name web1 */
		CHECK(hg_policy_add(w, HG_KEY_GRANT_UIDS, "1002@web1", NULL) == 0, "want 1002");
		CHECK(hg_policy_add(w, HG_KEY_GRANT_UIDS, "1003@web1", NULL) == 0, "want 1003");
		CHECK(hg_policy_add(w, HG_KEY_GRANT_UIDS, "1004@web1", NULL) == 0, "want 1004");
		CHECK(hg_policy_set_container(w, "web1", web1, 1, NULL) == 0, "web1");
		CHECK(hg_canon_from_policy(w, &want, NULL) == 0 && want.ng[0] == 3, "want canon (%zu)", want.ng[0]);
		CHECK(hg_batch_begin(&b, &nl, 0) == 0, "begin");
		CHECK(hg_batch_grant_diff(&b, 0, &live, &want, no_fresh, &changes) == 0, "grant diff");
		CHECK(changes == 4, "1002 and 1003 replaced, 1004 left alone (%zu changes)", changes);
		/* the added elements carry "name:web1" */
		for (size_t off = 0; off < b.len;) {
			const struct nlmsghdr *nlh = (const struct nlmsghdr *)(b.buf + off);
			if ((nlh->nlmsg_type & 0xff) == NFT_MSG_NEWSETELEM)
				comments += memmem(nlh, nlh->nlmsg_len, "name:web1", 10) != NULL;
			off += NLMSG_ALIGN(nlh->nlmsg_len);
		}
		CHECK(comments == 1, "one NEWSETELEM message with the comment name:web1 (%d)", comments);
		hg_batch_free(&b);
		hg_canon_clear(&live);
		hg_canon_clear(&want);
		hg_policy_free(w);
		hg_policy_free(lp);
	}
	/* the previous release's layout: every grant in the interval set.
	 * One-address grants move to the hash sets of their shape (deleted
	 * from grant_uids4, added there, in the same batch); the rest stay;
	 * a runtime grant stays where it is; a fresh set's live elements
	 * count as gone */
	{
		static const char *const toks[] = { "1002@10.0.0.2:80", "1003@10.0.0.3", "1004@10.0.0.0/24",
						    "1005@10.0.0.5:80-90" };
		struct hg_policy *w = hg_policy_new();
		struct hg_canon live = { 0 }, want = { 0 };
		struct hg_nl nl = { 0 };
		bool fresh[HG_NGSHAPES] = { false, true, true };
		size_t changes = 0;

		for (size_t i = 0; i < 4; i++)
			CHECK(hg_policy_add(w, HG_KEY_GRANT_UIDS, toks[i], NULL) == 0, "%s", toks[i]);
		CHECK(hg_canon_from_policy(w, &want, NULL) == 0 && want.ng[0] == 4, "want canon");
		CHECK(hg_canon_from_policy(w, &live, NULL) == 0, "live canon");
		CHECK(hg_grant_shape(&want.g[0][0]) == HG_GSHAPE_PORT && hg_grant_shape(&want.g[0][1]) == HG_GSHAPE_ADDR &&
		      hg_grant_shape(&want.g[0][2]) == HG_GSHAPE_RANGE && hg_grant_shape(&want.g[0][3]) == HG_GSHAPE_RANGE,
		      "shapes: port, address, prefix, port range");
		for (size_t i = 0; i < live.ng[0]; i++)
			live.g[0][i].where = HG_GSHAPE_RANGE;
		CHECK(hg_batch_begin(&b, &nl, 0) == 0, "begin");
		CHECK(hg_batch_grant_diff(&b, 0, &live, &want, fresh, &changes) == 0, "grant diff");
		CHECK(changes == 4, "two grants moved (%zu changes)", changes);
		CHECK(elems_in(&b, NFT_MSG_DELSETELEM, "grant_uids4") == 2, "two deleted from grant_uids4");
		CHECK(elems_in(&b, NFT_MSG_NEWSETELEM, "grant_uids4_port") == 1, "one added to grant_uids4_port");
		CHECK(elems_in(&b, NFT_MSG_NEWSETELEM, "grant_uids4_addr") == 1, "one added to grant_uids4_addr");
		CHECK(elems_in(&b, NFT_MSG_NEWSETELEM, "grant_uids4") == 0, "none added to grant_uids4");
		hg_batch_free(&b);

		/* the new layout, plus a copy of 1002's grant someone put in
		 * grant_uids4: that copy goes, the right one stays */
		for (size_t i = 0; i < live.ng[0]; i++)
			live.g[0][i].where = (uint8_t)hg_grant_shape(&live.g[0][i]);
		{
			struct hg_grant *v = realloc(live.g[0], (live.ng[0] + 1) * sizeof(*v));
			CHECK(v != NULL, "realloc");
			live.g[0] = v;
			v[live.ng[0]] = v[0];
			v[live.ng[0]++].where = HG_GSHAPE_RANGE;
			/* as decoded: equal grants, the misplaced one last */
			struct hg_grant t = v[live.ng[0] - 1];
			memmove(&v[2], &v[1], (live.ng[0] - 2) * sizeof(*v));
			v[1] = t;
		}
		changes = 0;
		CHECK(hg_batch_begin(&b, &nl, 0) == 0, "begin");
		CHECK(hg_batch_grant_diff(&b, 0, &live, &want, no_fresh, &changes) == 0, "grant diff");
		CHECK(changes == 1, "one copy deleted (%zu changes)", changes);
		CHECK(elems_in(&b, NFT_MSG_DELSETELEM, "grant_uids4") == 1, "the copy deleted from grant_uids4");
		CHECK(elems_in(&b, NFT_MSG_DELSETELEM, "grant_uids4_port") == 0, "the right one kept");
		hg_batch_free(&b);
		hg_canon_clear(&live);
		hg_canon_clear(&want);
		hg_policy_free(w);
	}
	/* the first buffer: one batch at a time has it, and the next one
	 * finds it zero past its messages however much the last one wrote
	 * (libmnl leaves attribute padding as it finds it) */
	{
		struct hg_nl nl = { 0 };
		struct hg_batch a, c;
		const char *first;
		bool zero = true;

		CHECK(hg_batch_begin(&a, &nl, 0) == 0, "begin a");
		first = a.buf;
		CHECK(in_bss(first), "the first batch is built in the static buffer");
		CHECK(hg_batch_begin(&c, &nl, 0) == 0 && c.buf != first, "a second batch at the same time gets a buffer of its own");
		hg_batch_free(&c);
		/* a message built and never added, as a failed build leaves it */
		memset(hg_batch_tail(&a), 0xa5, 4096);
		hg_batch_free(&a);
		CHECK(hg_batch_begin(&a, &nl, 0) == 0 && a.buf == first, "the next batch gets the first buffer back");
		for (size_t i = a.len; i < a.len + 8192; i++)
			zero &= a.buf[i] == 0;
		CHECK(zero, "zero past its messages");
		/* growing past it leaves it free for the next batch */
		for (int i = 0; i < 8; i++) {
			char *at = hg_batch_tail(&a);
			struct nlmsghdr *nlh;
			CHECK(at != NULL, "tail");
			nlh = mnl_nlmsg_put_header(at);
			nlh->nlmsg_len = 60000;
			hg_batch_add(&a, nlh, -1, "filler %d", i);
		}
		CHECK(a.buf != first && a.cap > 4 * 128 * 1024, "grown into a buffer of its own (%zu bytes)", a.cap);
		CHECK(hg_batch_begin(&c, &nl, 0) == 0 && c.buf == first, "and the first one is free again");
		zero = true;
		for (size_t i = c.len; i < 4 * 128 * 1024; i++)
			zero &= c.buf[i] == 0;
		CHECK(zero, "zero past the new batch's messages, all of it");
		hg_batch_free(&c);
		hg_batch_free(&a);
	}
	/* element messages: the same bytes as libnftnl's, for ids (hash
	 * sets), port and interface intervals, one and many messages, adds
	 * with NLM_F_EXCL and deletes */
	{
		static const struct { enum hg_key k; size_t n; uint16_t type, flags; } cases[] = {
			{ HG_KEY_UIDS, 1, NFT_MSG_NEWSETELEM, NLM_F_EXCL },
			{ HG_KEY_UIDS, 1500, NFT_MSG_NEWSETELEM, 0 },
			{ HG_KEY_GIDS, 3, NFT_MSG_DELSETELEM, 0 },
			{ HG_KEY_TCP, 1200, NFT_MSG_NEWSETELEM, 0 },
			{ HG_KEY_UDP, 2, NFT_MSG_DELSETELEM, 0 },
			{ HG_KEY_IFACES, 700, NFT_MSG_NEWSETELEM, 0 },
		};
		struct hg_nl nl = { 0 };

		for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
			struct hg_unit *u = calloc(cases[c].n, sizeof(*u));
			struct hg_batch x, y;
			size_t klen = hg_setdefs[cases[c].k].key_len;

			CHECK(u != NULL, "units");
			if (!u)
				continue;
			for (size_t i = 0; i < cases[c].n; i++) {
				for (size_t j = 0; j < klen; j++) {
					u[i].start[j] = (unsigned char)(i * 7 + j);
					u[i].end[j] = (unsigned char)(i * 7 + j + 3);
				}
				u[i].has_end = HG_KIND(cases[c].k) != HG_KIND_ID && i % 3 != 1;
			}
			CHECK(hg_batch_begin(&x, &nl, 0) == 0 && hg_batch_begin(&y, &nl, 0) == 0, "begin");
			CHECK(hg_batch_units(&x, cases[c].k, u, cases[c].n, cases[c].type, cases[c].flags) == 0 &&
			      ref_units(&y, cases[c].k, u, cases[c].n, cases[c].type, cases[c].flags) == 0,
			      "built, case %zu", c);
			CHECK(x.len == y.len && x.n_rec == y.n_rec && memcmp(x.buf, y.buf, x.len) == 0,
			      "case %zu: %zu messages, %zu bytes, as libnftnl's (%zu messages, %zu bytes)",
			      c, x.n_rec, x.len, y.n_rec, y.len);
			hg_batch_free(&x);
			hg_batch_free(&y);
			free(u);
		}
	}
	/* the first socket's answer buffer: one live socket at a time has
	 * it (the kernel's answer to an unprivileged request, EPERM, takes
	 * the buffer as any answer does) */
	{
		struct hg_nl *x = NULL, *y = NULL, *z = NULL;
		struct hg_error e = { 0 };
		uint32_t g;
		const char *first;

		CHECK(hg_nl_open(&x, &e) == 0 && hg_nl_open(&y, &e) == 0, "two sockets: %s", e.message);
		/* numbered from 1 on each socket: a batch's numbers never wrap
		 * past 2^32 (find_rec looks them up in ascending order) */
		CHECK(x && x->seq == 0, "a new socket numbers its requests from 1");
		if (x && y) {
			hg_nl_genid(x, &g);
			hg_nl_genid(y, &g);
			first = x->rbuf;
			CHECK(in_bss(first), "the first socket reads into the static buffer, not the heap's");
			CHECK(first && y->rbuf && y->rbuf != first, "a second live socket reads into a buffer of its own");
			hg_nl_genid(x, &g);
			CHECK(x->rbuf == first, "a socket keeps its buffer from request to request");
			hg_nl_close(x);
			x = NULL;
			CHECK(hg_nl_open(&z, &e) == 0, "a third socket");
			if (z) {
				hg_nl_genid(z, &g);
				CHECK(z->rbuf == first, "once the first socket is closed, the next one gets its buffer");
			}
		}
		hg_nl_close(z);
		hg_nl_close(y);
		hg_nl_close(x);
	}
	return check_done("test-batch");
}
