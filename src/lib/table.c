/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing the table: the whole-table replace and its removal. */
#include <arpa/inet.h>
#include <stdio.h>
#include <time.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "nl.h"
#include "table.h"

/* A message of one set's elements stays well under the 64 KiB nla_len cap. */
#define ELEM_MSG_BYTES 48000u

int hg_unit_cmp(const void *a, const void *b)
{
	const struct hg_unit *x = a, *y = b;
	int c = memcmp(x->start, y->start, IFNAMSIZ_);

	if (c)
		return c;
	if (x->has_end != y->has_end)
		return x->has_end < y->has_end ? -1 : 1;
	return memcmp(x->end, y->end, IFNAMSIZ_);
}

int hg_units_from_canon(const struct hg_canon *c, enum hg_key k, struct hg_unit **ret,
			size_t *ret_n)
{
	size_t n = HG_KIND(k) == HG_KIND_IFNAME ? c->n_if : c->n[k];
	struct hg_unit *v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct hg_unit *u = &v[i];
		if (HG_KIND(k) == HG_KIND_IFNAME) {
			memcpy(u->start, c->ifr[i].start, IFNAMSIZ_);
			if (!c->ifr[i].open_end) {
				memcpy(u->end, c->ifr[i].end, IFNAMSIZ_);
				u->has_end = 1;
			}
		} else if (HG_KIND(k) == HG_KIND_ID) {
			memcpy(u->start, &c->r[k][i].lo, 4);
		} else {
			uint16_t lo = htons((uint16_t)c->r[k][i].lo);
			memcpy(u->start, &lo, 2);
			/* A range up to 65535 has no end key that fits in 16
			 * bits: it stays open to the end of the key space. */
			if (c->r[k][i].hi < 65535) {
				uint16_t end = htons((uint16_t)(c->r[k][i].hi + 1));
				memcpy(u->end, &end, 2);
				u->has_end = 1;
			}
		}
	}
	*ret = v;
	*ret_n = n;
	return 0;
}


/* Adds to the batch the element changes that turn live into want. */
static int ifr_cmp(const struct hg_ifrange *a, const struct hg_ifrange *b)
{
	int c = memcmp(a->start, b->start, IFNAMSIZ_);

	if (c)
		return c;
	if (a->open_end != b->open_end)
		return a->open_end - b->open_end;
	return memcmp(a->end, b->end, IFNAMSIZ_);
}

/* Both sides are sorted already (ids and ports by value, interface
 * intervals by start): one merge walk finds what goes and what comes. */
int hg_batch_diff(struct hg_batch *b, enum hg_key k, const struct hg_canon *live,
		  const struct hg_canon *want, size_t *changes)
{
	struct hg_canon del = { 0 }, add = { 0 };
	struct hg_unit *u = NULL;
	size_t nu = 0, i = 0, j = 0, na, nw, nd = 0, nn = 0;
	int r = 0;

	if (HG_KIND(k) == HG_KIND_IFNAME) {
		na = live->n_if, nw = want->n_if;
		del.ifr = calloc(na + 1, sizeof(*del.ifr));
		add.ifr = calloc(nw + 1, sizeof(*add.ifr));
		if (!del.ifr || !add.ifr) {
			r = -ENOMEM;
			goto out;
		}
		while (i < na || j < nw) {
			int c = i == na ? 1 : j == nw ? -1 : ifr_cmp(&live->ifr[i], &want->ifr[j]);
			if (c == 0)
				i++, j++;
			else if (c < 0)
				del.ifr[nd++] = live->ifr[i++];
			else
				add.ifr[nn++] = want->ifr[j++];
		}
		del.n_if = nd, add.n_if = nn;
	} else {
		na = live->n[k], nw = want->n[k];
		del.r[k] = calloc(na + 1, sizeof(struct hg_range));
		add.r[k] = calloc(nw + 1, sizeof(struct hg_range));
		if (!del.r[k] || !add.r[k]) {
			r = -ENOMEM;
			goto out;
		}
		while (i < na || j < nw) {
			int c = i == na ? 1 : j == nw ? -1 : hg_range_cmp(&live->r[k][i], &want->r[k][j]);
			if (c == 0)
				i++, j++;
			else if (c < 0)
				del.r[k][nd++] = live->r[k][i++];
			else
				add.r[k][nn++] = want->r[k][j++];
		}
		del.n[k] = nd, add.n[k] = nn;
	}
	/* Removals first: a changed range ("8000-8100" to "8000-8200")
	 * must not overlap its old self inside the transaction. */
	if (nd) {
		r = hg_units_from_canon(&del, k, &u, &nu);
		if (r == 0)
			r = hg_batch_units(b, k, u, nu, NFT_MSG_DELSETELEM, 0);
		free(u);
		u = NULL;
	}
	if (r == 0 && nn) {
		r = hg_units_from_canon(&add, k, &u, &nu);
		if (r == 0)
			r = hg_batch_units(b, k, u, nu, NFT_MSG_NEWSETELEM, 0);
		free(u);
	}
	*changes += nd + nn;
out:
	hg_canon_clear(&del);
	hg_canon_clear(&add);
	return r;
}

/* -ENOMEM when libnftnl could not copy a name */
static int set_base(struct nftnl_set *s, const char *name)
{
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	if (nftnl_set_set_str(s, NFTNL_SET_TABLE, HG_TABLE_NAME) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, name) < 0)
		return -ENOMEM;
	return 0;
}

static int chain_base(struct nftnl_chain *c, const char *name)
{
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	if (nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, HG_TABLE_NAME) < 0 ||
	    nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name) < 0)
		return -ENOMEM;
	return 0;
}

int hg_batch_table(struct hg_batch *b, uint16_t type, uint16_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	char *at = hg_batch_tail(b);

	if (!t || !at) {
		hg_nftnl_free(nftnl_table_free, t);
		return -ENOMEM;
	}
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	if (nftnl_table_set_str(t, NFTNL_TABLE_NAME, HG_TABLE_NAME) < 0) {
		nftnl_table_free(t);
		return -ENOMEM;
	}
	/* explicit zero flags: on an existing table this wakes a dormant one */
	if (type == NFT_MSG_NEWTABLE)
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, 0);
	nlh = nftnl_table_nlmsg_build_hdr(at, type, NFPROTO_INET, flags, hg_batch_seq(b));
	nftnl_table_nlmsg_build_payload(nlh, t);
	hg_nftnl_free(nftnl_table_free, t);
	hg_batch_add(b, nlh, -1, "%s table inet %s", type == NFT_MSG_DELTABLE ? "delete" : "add",
		     HG_TABLE_NAME);
	return b->oom ? -ENOMEM : 0;
}

int hg_batch_set(struct hg_batch *b, enum hg_key k)
{
	const struct hg_setdef *d = &hg_setdefs[k];
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(64);
	struct nlmsghdr *nlh;
	char *at = hg_batch_tail(b);
	int r = -ENOMEM;

	if (!s || !ud || !at || set_base(s, d->name) < 0)
		goto out;
	nftnl_set_set_u32(s, NFTNL_SET_ID, (uint32_t)k + 1);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, d->key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, d->key_len);
	if (d->flags)
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, d->flags);
	/* Byte order is userspace metadata: it lets "nft list" print
	 * 1001 rather than 1001 byte-swapped. */
	if (!nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, d->byteorder) ||
	    nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
			       nftnl_udata_buf_len(ud)) < 0)
		goto out;
	nlh = nftnl_set_nlmsg_build_hdr(at, NFT_MSG_NEWSET, NFPROTO_INET, NLM_F_CREATE,
					hg_batch_seq(b));
	nftnl_set_nlmsg_build_payload(nlh, s);
	hg_batch_add(b, nlh, -1, "set %s", d->name);
	r = b->oom ? -ENOMEM : 0;
out:
	hg_nftnl_free(nftnl_udata_buf_free, ud);
	hg_nftnl_free(nftnl_set_free, s);
	return r;
}

/* Element messages for the units, each under the 64 KiB a message can be;
 * an interval's start and end stay in the same message.  flags: more
 * message flags (NLM_F_EXCL: adding an element the set holds fails the
 * batch with -EEXIST). */
/* One element: a nest numbered idx, its flags, its key (the bytes
 * libnftnl's nftnl_set_elem_nlmsg_build_payload() writes for it). */
static void put_elem(struct nlmsghdr *nlh, uint16_t idx, const void *key, size_t len, uint32_t flags)
{
	struct nlattr *e = mnl_attr_nest_start(nlh, idx), *k;

	if (flags)
		mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS, htonl(flags));
	k = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, len, key);
	mnl_attr_nest_end(nlh, k);
	mnl_attr_nest_end(nlh, e);
}

/* The units' elements, ELEM_MSG_BYTES a message at most, written as
 * libnftnl's nftnl_set_elems_nlmsg_build_payload() writes them (the same
 * bytes: test-batch compares), without its objects: a calloc(), a copy, a
 * list and a free() per element, and their cold code, were a tenth of a
 * one-uid edit. */
int hg_batch_units(struct hg_batch *b, enum hg_key k, const struct hg_unit *u, size_t n,
		   uint16_t type, uint16_t flags)
{
	const struct hg_setdef *d = &hg_setdefs[k];
	size_t per = ELEM_MSG_BYTES / (2 * d->key_len + 64);
	const char *verb = type == NFT_MSG_DELSETELEM ? "delete elements from" : "add elements to";

	for (size_t i = 0; i < n; i += per) {
		char *at = hg_batch_tail(b);
		struct nlmsghdr *nlh;
		struct nlattr *list;
		uint16_t idx = 0;

		if (!at)
			return -ENOMEM;
		nlh = nftnl_nlmsg_build_hdr(at, type, NFPROTO_INET,
					    (type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0) | flags,
					    hg_batch_seq(b));
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, d->name);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, HG_TABLE_NAME);
		list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
		for (size_t j = i; j < n && j < i + per; j++) {
			put_elem(nlh, ++idx, u[j].start, d->key_len, 0);
			if (u[j].has_end)
				put_elem(nlh, ++idx, u[j].end, d->key_len, NFT_SET_ELEM_INTERVAL_END);
		}
		mnl_attr_nest_end(nlh, list);
		hg_batch_add(b, nlh, (int)k, "%s set %s", verb, d->name);
		if (b->oom)
			return -ENOMEM;
	}
	return 0;
}

int hg_batch_anon_set(struct hg_batch *b)
{
	struct nftnl_set *s = hg_icmpv6_set_build();
	struct nlmsghdr *nlh;
	char *at = hg_batch_tail(b);

	if (!s || !at) {
		hg_nftnl_free(nftnl_set_free, s);
		return -ENOMEM;
	}
	nlh = nftnl_set_nlmsg_build_hdr(at, NFT_MSG_NEWSET, NFPROTO_INET, NLM_F_CREATE,
					hg_batch_seq(b));
	nftnl_set_nlmsg_build_payload(nlh, s);
	hg_batch_add(b, nlh, -1, "set of ICMPv6 neighbour discovery types");
	at = hg_batch_tail(b);
	if (!at) {
		hg_nftnl_free(nftnl_set_free, s);
		return -ENOMEM;
	}
	nlh = nftnl_set_elem_nlmsg_build_hdr(at, NFT_MSG_NEWSETELEM, NFPROTO_INET, NLM_F_CREATE,
					     hg_batch_seq(b));
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	hg_batch_add(b, nlh, -1, "elements of the ICMPv6 neighbour discovery set");
	hg_nftnl_free(nftnl_set_free, s);
	return b->oom ? -ENOMEM : 0;
}

const struct hg_chaindef hg_chaindefs[HG_NCHAINS] = {
	[HG_CHAIN_EGRESS] = { true, NF_INET_POST_ROUTING, 0, HG_CHAIN_EGRESS, -1 },
	[HG_CHAIN_INGRESS] = { true, NF_INET_LOCAL_IN, 0, HG_CHAIN_INGRESS, -1 },
	[HG_CH_FROM_UNALLOWED] = { false, 0, 0, HG_CHAIN_EGRESS, HG_CHAIN_EGRESS },
	[HG_CH_FROM_CONTAINERS] = { false, 0, 0, HG_CHAIN_INGRESS, HG_CHAIN_INGRESS },
	[HG_CH_TO_PROTECTED] = { false, 0, 0, HG_CHAIN_EGRESS, HG_CH_FROM_UNALLOWED },
};

int hg_batch_chain(struct hg_batch *b, int ch)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;
	char *at = hg_batch_tail(b);

	if (!c || !at) {
		hg_nftnl_free(nftnl_chain_free, c);
		return -ENOMEM;
	}
	if (chain_base(c, hg_chain_names[ch]) < 0 ||
	    (hg_chaindefs[ch].base && nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter") < 0)) {
		nftnl_chain_free(c);
		return -ENOMEM;
	}
	if (hg_chaindefs[ch].base) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hg_chaindefs[ch].hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, hg_chaindefs[ch].prio);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nlh = nftnl_chain_nlmsg_build_hdr(at, NFT_MSG_NEWCHAIN, NFPROTO_INET, NLM_F_CREATE,
					  hg_batch_seq(b));
	nftnl_chain_nlmsg_build_payload(nlh, c);
	hg_nftnl_free(nftnl_chain_free, c);
	hg_batch_add(b, nlh, -1, "chain %s", hg_chain_names[ch]);
	return b->oom ? -ENOMEM : 0;
}

static bool has_counter(struct nftnl_rule *r)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e;
	bool found = false;

	if (!it)
		return false;
	while (!found && (e = nftnl_expr_iter_next(it)))
		found = strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter") == 0;
	nftnl_expr_iter_destroy(it);
	return found;
}

/*
 * A counting rule says since when it counts, in its comment: the kernel
 * keeps no creation time, and a rule's counter starts at zero when the rule
 * is created (apply re-creates a chain's rules only when they differ, and
 * HG_APPLY_RESET_COUNTERS re-creates them on purpose).  Rules are compared
 * without their comments.
 */
static int set_since(struct nftnl_rule *r, long long since)
{
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(64);
	char text[48];
	int ret = -ENOMEM;

	if (!ud)
		return -ENOMEM;
	snprintf(text, sizeof(text), HG_SINCE_PREFIX "%lld", since);
	if (nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, text) &&
	    nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
				nftnl_udata_buf_len(ud)) == 0)
		ret = 0;
	nftnl_udata_buf_free(ud);
	return ret;
}

int hg_batch_rules(struct hg_batch *b, int ch, const struct hg_log_settings *log)
{
	struct nftnl_rule **v;
	size_t n;
	long long now = (long long)time(NULL);
	int r = hg_rules_build(ch, log, &v, &n);

	if (r < 0)
		return r;
	for (size_t i = 0; r == 0 && i < n; i++)
		if (has_counter(v[i]))
			r = set_since(v[i], now);
	if (r < 0)
		goto out;
	/* the anonymous set of "icmpv6 type { ... }" lives and dies with
	 * its rule, so it is created along with the chain's rules */
	if (ch == HG_CH_ANON_SET)
		r = hg_batch_anon_set(b);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char *at = hg_batch_tail(b);
		struct nlmsghdr *nlh;

		if (at) {
			nlh = nftnl_rule_nlmsg_build_hdr(at, NFT_MSG_NEWRULE, NFPROTO_INET,
							 NLM_F_CREATE | NLM_F_APPEND, hg_batch_seq(b));
			nftnl_rule_nlmsg_build_payload(nlh, v[i]);
			hg_batch_add(b, nlh, -1, "rule %zu of chain %s", i + 1, hg_chain_names[ch]);
		}
	}
	r = b->oom ? -ENOMEM : 0;
out:
	for (size_t i = 0; i < n; i++)
		nftnl_rule_free(v[i]);
	free(v);
	return r;
}

int hg_batch_full_table(struct hg_batch *b, const struct hg_canon *c)
{
	int r = hg_batch_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE);

	for (int k = 0; r == 0 && k < HG_KEY_MAX; k++) {
		struct hg_unit *u;
		size_t n;

		if (HG_KIND(k) == HG_KIND_GRANT)
			continue;
		r = hg_batch_set(b, k);
		if (r == 0)
			r = hg_units_from_canon(c, k, &u, &n);
		if (r == 0) {
			r = hg_batch_units(b, k, u, n, NFT_MSG_NEWSETELEM, 0);
			free(u);
		}
	}
	for (int gs = 0; r == 0 && gs < HG_NGSETS; gs++) {
		for (int shape = 0; r == 0 && shape < HG_NGSHAPES; shape++)
			r = hg_batch_gset(b, HG_PSET(gs, shape));
		if (r == 0 && c->ng[gs])
			r = hg_batch_grants(b, gs, c->g[gs], c->ng[gs], NFT_MSG_NEWSETELEM, 0);
	}
	/* every chain before any rule: the base chains' rules jump to the
	 * regular ones */
	for (int ch = 0; r == 0 && ch < HG_NCHAINS; ch++)
		r = hg_batch_chain(b, ch);
	for (int ch = 0; r == 0 && ch < HG_NCHAINS; ch++)
		r = hg_batch_rules(b, ch, &c->log);
	return r;
}

/* DELSET / DELCHAIN of a named object, or DELRULE of every rule of a chain. */
int hg_batch_delete(struct hg_batch *b, uint16_t type, const char *name)
{
	struct nlmsghdr *nlh;
	char *at = hg_batch_tail(b);

	if (!at)
		return -ENOMEM;
	if (type == NFT_MSG_DELSET) {
		struct nftnl_set *s = nftnl_set_alloc();
		if (!s || set_base(s, name) < 0) {
			hg_nftnl_free(nftnl_set_free, s);
			return -ENOMEM;
		}
		nlh = nftnl_set_nlmsg_build_hdr(at, type, NFPROTO_INET, 0, hg_batch_seq(b));
		nftnl_set_nlmsg_build_payload(nlh, s);
		hg_nftnl_free(nftnl_set_free, s);
		hg_batch_add(b, nlh, -1, "delete set %s", name);
	} else if (type == NFT_MSG_DELCHAIN) {
		struct nftnl_chain *c = nftnl_chain_alloc();
		if (!c || chain_base(c, name) < 0) {
			hg_nftnl_free(nftnl_chain_free, c);
			return -ENOMEM;
		}
		nlh = nftnl_chain_nlmsg_build_hdr(at, type, NFPROTO_INET, 0, hg_batch_seq(b));
		nftnl_chain_nlmsg_build_payload(nlh, c);
		hg_nftnl_free(nftnl_chain_free, c);
		hg_batch_add(b, nlh, -1, "delete chain %s", name);
	} else {
		struct nftnl_rule *r = nftnl_rule_alloc();
		/* a DELRULE without its chain would flush every chain */
		if (!r || nftnl_rule_set_str(r, NFTNL_RULE_TABLE, HG_TABLE_NAME) < 0 ||
		    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, name) < 0) {
			hg_nftnl_free(nftnl_rule_free, r);
			return -ENOMEM;
		}
		nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
		nlh = nftnl_rule_nlmsg_build_hdr(at, NFT_MSG_DELRULE, NFPROTO_INET, 0, hg_batch_seq(b));
		nftnl_rule_nlmsg_build_payload(nlh, r);
		hg_nftnl_free(nftnl_rule_free, r);
		hg_batch_add(b, nlh, -1, "flush chain %s", name);
	}
	return b->oom ? -ENOMEM : 0;
}

int hg_batch_delete_foreign(struct hg_batch *b, uint16_t type, uint32_t objtype, const char *name)
{
	struct nlmsghdr *nlh;
	char *at = hg_batch_tail(b);

	if (!at)
		return -ENOMEM;
	nlh = nftnl_nlmsg_build_hdr(at, type, NFPROTO_INET, 0, hg_batch_seq(b));
	mnl_attr_put_strz(nlh, 1, HG_TABLE_NAME);  /* NFTA_{FLOWTABLE,OBJ}_TABLE */
	mnl_attr_put_strz(nlh, 2, name);           /* NFTA_{FLOWTABLE,OBJ}_NAME */
	if (type == NFT_MSG_DELOBJ)
		mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(objtype));
	hg_batch_add(b, nlh, -1, "delete %s %s", type == NFT_MSG_DELOBJ ? "object" : "flowtable", name);
	return b->oom ? -ENOMEM : 0;
}

HG_EXPORT int hg_remove(struct hg_nl *nl, struct hg_error *err)
{
	struct hg_batch b;
	int r;

	if (!nl)
		return hg_err(err, -EINVAL, "invalid argument");
	r = hg_batch_begin(&b, nl, 0);
	if (r == 0)
		r = hg_batch_table(&b, NFT_MSG_DELTABLE, 0);
	if (r < 0)
		r = hg_err(err, r, "out of memory");
	else
		r = hg_batch_send(nl, &b, true, err);
	hg_batch_free(&b);
	if (r == -ENOENT)
		r = hg_err(err, -ENOENT, "table inet %s is not loaded", HG_TABLE_NAME);
	return r;
}
