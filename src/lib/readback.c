/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading the live table back: the dumps and their netlink callbacks. */
#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "state.h"

static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return v;
	size_t c = *cap ? *cap * 2 : 8;
	void *nv = realloc(v, c * size);
	if (nv)
		*cap = c;
	return nv;
}

struct dump_ctx {
	struct hg_state *s;
	size_t cap_sets, cap_chains, cap_rules;
	struct lset *cur;
	int err;
};

/* a NEWSET's attributes by type, those read checked: libmnl alone (libnftnl
 * copied every attribute, user data and expressions included, into an
 * object of its own first) */
static int set_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);
	enum mnl_attr_data_type want = MNL_TYPE_UNSPEC;

	if (mnl_attr_type_valid(a, NFTA_SET_MAX) < 0)
		return MNL_CB_OK;
	if (type == NFTA_SET_TABLE || type == NFTA_SET_NAME)
		want = MNL_TYPE_NUL_STRING;
	else if (type == NFTA_SET_FLAGS || type == NFTA_SET_KEY_TYPE || type == NFTA_SET_KEY_LEN ||
		 type == NFTA_SET_GC_INTERVAL)
		want = MNL_TYPE_U32;
	else if (type == NFTA_SET_TIMEOUT)
		want = MNL_TYPE_U64;
	else if (type == NFTA_SET_DESC)
		want = MNL_TYPE_NESTED;
	if (want != MNL_TYPE_UNSPEC && mnl_attr_validate(a, want) < 0)
		return MNL_CB_ERROR;
	tb[type] = a;
	return MNL_CB_OK;
}

static uint32_t be32_attr(const struct nlattr *a)
{
	return a ? ntohl(mnl_attr_get_u32(a)) : 0;
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFTA_SET_MAX + 1] = { 0 }, *a;
	struct dump_ctx *d = data;
	struct hg_state *s = d->s;
	struct lset *v;

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), set_attr_cb, tb) < 0 ||
	    !tb[NFTA_SET_TABLE] || !tb[NFTA_SET_NAME]) {
		d->err = -EPROTO;
		return MNL_CB_ERROR;
	}
	if (strcmp(mnl_attr_get_str(tb[NFTA_SET_TABLE]), HG_TABLE_NAME) != 0)
		return MNL_CB_OK;
	v = grow(s->sets, &d->cap_sets, s->n_sets, sizeof(*v));
	if (!v)
		goto fail;
	s->sets = v;
	v = &s->sets[s->n_sets];
	memset(v, 0, sizeof(*v));
	v->key = -1;
	v->name = strdup(mnl_attr_get_str(tb[NFTA_SET_NAME]));
	if (!v->name)
		goto fail;
	v->grant = hg_pset_index(v->name);
	v->flags = be32_attr(tb[NFTA_SET_FLAGS]);
	v->key_type = be32_attr(tb[NFTA_SET_KEY_TYPE]);
	v->key_len = be32_attr(tb[NFTA_SET_KEY_LEN]);
	v->timeout = tb[NFTA_SET_TIMEOUT] ? be64toh(mnl_attr_get_u64(tb[NFTA_SET_TIMEOUT])) : 0;
	v->gc_interval = be32_attr(tb[NFTA_SET_GC_INTERVAL]);
	v->exprs = tb[NFTA_SET_EXPR] || tb[NFTA_SET_EXPRESSIONS];
	if (tb[NFTA_SET_DESC])
		mnl_attr_for_each_nested(a, tb[NFTA_SET_DESC])
			if (mnl_attr_get_type(a) == NFTA_SET_DESC_SIZE &&
			    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
				v->size = ntohl(mnl_attr_get_u32(a));
	s->n_sets++;
	return MNL_CB_OK;
fail:
	d->err = -ENOMEM;
	return MNL_CB_ERROR;
}

static void data_value(const struct nlattr *x, unsigned char *out, size_t max)
{
	const struct nlattr *v;

	mnl_attr_for_each_nested(v, x) {
		uint16_t len = mnl_attr_get_payload_len(v);
		if (mnl_attr_get_type(v) == NFTA_DATA_VALUE)
			memcpy(out, mnl_attr_get_payload(v), len < max ? len : max);
	}
}

static uint64_t be64_attr(const struct nlattr *x)
{
	uint64_t v;

	if (mnl_attr_get_payload_len(x) != sizeof(v))
		return 0;
	memcpy(&v, mnl_attr_get_payload(x), sizeof(v));
	return be64toh(v);
}

/* An element hostguard never writes: a catch-all ("*", no key: the
 * lookup matches every key it does not hold, so one in allowed_uids lets
 * every uid past and one in a grant set grants every uid everything), or
 * one with expressions (run on each match: a limit or quota turns a match
 * into none).  The set is then not ours (hg_lset_decode*). */
static bool foreign_elem(const struct nlattr *el)
{
	const struct nlattr *x;
	bool key = false;

	mnl_attr_for_each_nested(x, el) {
		switch (mnl_attr_get_type(x)) {
		case NFTA_SET_ELEM_FLAGS:
			if (mnl_attr_get_payload_len(x) == sizeof(uint32_t) &&
			    (ntohl(mnl_attr_get_u32(x)) & NFT_SET_ELEM_CATCHALL))
				return true;
			break;
		case NFTA_SET_ELEM_KEY:
			key = true;
			break;
		case NFTA_SET_ELEM_EXPR:
		case NFTA_SET_ELEM_EXPRESSIONS:
			return true;
		}
	}
	return !key;
}

/* A grant set's elements: a start key, an (inclusive) end key, and for
 * runtime grants a timeout and the time left. */
static int grant_elem_cb(struct dump_ctx *d, struct lset *ls, const struct nlattr *list)
{
	const struct nlattr *el, *x;

	mnl_attr_for_each_nested(el, list) {
		struct hg_gkelem *k = grow(ls->ge, &ls->gcap, ls->gn, sizeof(*k));

		if (!k) {
			d->err = -ENOMEM;
			return MNL_CB_ERROR;
		}
		ls->ge = k;
		if (foreign_elem(el)) {
			ls->foreign = true;
			continue;
		}
		k = &ls->ge[ls->gn++];
		memset(k, 0, sizeof(*k));
		mnl_attr_for_each_nested(x, el) {
			switch (mnl_attr_get_type(x)) {
			case NFTA_SET_ELEM_KEY:
				data_value(x, k->key, sizeof(k->key));
				break;
			case NFTA_SET_ELEM_KEY_END:
				data_value(x, k->key_end, sizeof(k->key_end));
				k->has_end = true;
				break;
			case NFTA_SET_ELEM_TIMEOUT:
				k->timeout_ms = be64_attr(x);
				break;
			case NFTA_SET_ELEM_EXPIRATION:
				k->expires_ms = be64_attr(x);
				break;
			case NFTA_SET_ELEM_USERDATA:   /* where it comes from (grant.c) */
				hg_grant_tag_decode(&k->tag, mnl_attr_get_payload(x),
						    mnl_attr_get_payload_len(x));
				break;
			}
		}
	}
	return MNL_CB_OK;
}

/* Elements are decoded straight from the wire with libmnl: a set of
 * 100,000 elements would otherwise cost 100,000 libnftnl objects. */
static int elem_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *d = data;
	struct lset *ls = d->cur;
	const struct nlattr *a, *list = NULL, *el;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
			list = a;
	if (!list)
		return MNL_CB_OK;
	if (ls->grant >= 0)
		return grant_elem_cb(d, ls, list);
	mnl_attr_for_each_nested(el, list) {
		const struct nlattr *x, *v;
		struct hg_kelem *k = grow(ls->e, &ls->cap, ls->n, sizeof(*k));

		if (!k) {
			d->err = -ENOMEM;
			return MNL_CB_ERROR;
		}
		ls->e = k;
		k = &ls->e[ls->n++];
		memset(k, 0, sizeof(*k));
		if (foreign_elem(el)) {
			ls->foreign = true;
			ls->n--;
			continue;
		}
		mnl_attr_for_each_nested(x, el) {
			if (mnl_attr_get_type(x) == NFTA_SET_ELEM_FLAGS &&
			    mnl_attr_get_payload_len(x) == sizeof(uint32_t)) {
				k->end = ntohl(mnl_attr_get_u32(x)) & NFT_SET_ELEM_INTERVAL_END;
			} else if (mnl_attr_get_type(x) == NFTA_SET_ELEM_KEY) {
				mnl_attr_for_each_nested(v, x) {
					uint16_t len = mnl_attr_get_payload_len(v);
					if (mnl_attr_get_type(v) == NFTA_DATA_VALUE)
						memcpy(k->key, mnl_attr_get_payload(v),
						       len < IFNAMSIZ_ ? len : IFNAMSIZ_);
				}
			}
		}
	}
	return MNL_CB_OK;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *d = data;
	struct nftnl_chain *t = nftnl_chain_alloc();
	struct hg_state *s = d->s;
	struct lchain *v;

	if (!t || nftnl_chain_nlmsg_parse(nlh, t) < 0)
		goto fail;
	/* the kernel dumps every table's chains of the family */
	if (strcmp(nftnl_chain_get_str(t, NFTNL_CHAIN_TABLE), HG_TABLE_NAME) != 0) {
		hg_nftnl_free(nftnl_chain_free, t);
		return MNL_CB_OK;
	}
	v = grow(s->chains, &d->cap_chains, s->n_chains, sizeof(*v));
	if (!v)
		goto fail;
	s->chains = v;
	v = &s->chains[s->n_chains];
	memset(v, 0, sizeof(*v));
	v->name = strdup(nftnl_chain_get_str(t, NFTNL_CHAIN_NAME));
	v->base = nftnl_chain_is_set(t, NFTNL_CHAIN_HOOKNUM);
	if (v->base) {
		v->hook = nftnl_chain_get_u32(t, NFTNL_CHAIN_HOOKNUM);
		v->prio = nftnl_chain_get_s32(t, NFTNL_CHAIN_PRIO);
		v->policy = nftnl_chain_get_u32(t, NFTNL_CHAIN_POLICY);
		v->type = strdup(nftnl_chain_get_str(t, NFTNL_CHAIN_TYPE));
	}
	s->n_chains++;
	hg_nftnl_free(nftnl_chain_free, t);
	if (!v->name || (v->base && !v->type)) {
		d->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
fail:
	hg_nftnl_free(nftnl_chain_free, t);
	d->err = -ENOMEM;
	return MNL_CB_ERROR;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *d = data;
	struct nftnl_rule *t = nftnl_rule_alloc();
	struct hg_state *s = d->s;
	struct lrule *v;

	if (!t || nftnl_rule_nlmsg_parse(nlh, t) < 0)
		goto fail;
	if (strcmp(nftnl_rule_get_str(t, NFTNL_RULE_TABLE), HG_TABLE_NAME) != 0) {
		hg_nftnl_free(nftnl_rule_free, t);
		return MNL_CB_OK;
	}
	v = grow(s->rules, &d->cap_rules, s->n_rules, sizeof(*v));
	if (!v)
		goto fail;
	s->rules = v;
	v = &s->rules[s->n_rules];
	v->chain = strdup(nftnl_rule_get_str(t, NFTNL_RULE_CHAIN));
	v->r = t;
	s->n_rules++;
	if (!v->chain) {
		d->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
fail:
	hg_nftnl_free(nftnl_rule_free, t);
	d->err = -ENOMEM;
	return MNL_CB_ERROR;
}

static struct nlmsghdr *dump_req(struct hg_nl *nl, char *buf, uint16_t type, uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(buf, type, NFPROTO_INET, flags, hg_nl_next_seq(nl));
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_table *t = nftnl_table_alloc();
	uint32_t *flags = data;

	if (!t)
		return MNL_CB_ERROR;
	if (nftnl_table_nlmsg_parse(nlh, t) == 0 && flags &&
	    nftnl_table_is_set(t, NFTNL_TABLE_FLAGS))
		*flags = nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS);
	hg_nftnl_free(nftnl_table_free, t);
	return MNL_CB_OK;
}

/* 0 when the table exists (its flags in *ret_flags when given), -ENOENT when not. */
static int table_exists(struct hg_nl *nl, uint32_t *ret_flags)
{
	char buf[512] = { 0 };
	struct nlmsghdr *nlh = dump_req(nl, buf, NFT_MSG_GETTABLE, NLM_F_ACK);

	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, HG_TABLE_NAME);
	return hg_nl_query(nl, nlh, table_cb, ret_flags);
}

static int dump_elems(struct hg_nl *nl, struct dump_ctx *d, struct lset *ls)
{
	char buf[1024] = { 0 };
	struct nlmsghdr *nlh = dump_req(nl, buf, NFT_MSG_GETSETELEM, NLM_F_DUMP);
	int r;

	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, HG_TABLE_NAME);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, ls->name);
	d->cur = ls;
	r = hg_nl_query(nl, nlh, elem_cb, d);
	return r < 0 ? (d->err ? d->err : r) : 0;
}

/* Reads one set's definition (not its elements) into d->s: the answer
 * that came with the generation (hg_nl_genid_with_set), else asked now. */
static int get_set(struct hg_nl *nl, struct dump_ctx *d, const char *name)
{
	char buf[1024] = { 0 };
	struct nlmsghdr *nlh;
	bool taken;
	int r = hg_nl_take_set(nl, name, set_cb, d, &taken);

	if (taken)
		return r;
	nlh = dump_req(nl, buf, NFT_MSG_GETSET, NLM_F_ACK);

	mnl_attr_put_strz(nlh, NFTA_SET_TABLE, HG_TABLE_NAME);
	mnl_attr_put_strz(nlh, NFTA_SET_NAME, name);
	return hg_nl_query(nl, nlh, set_cb, d);
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(((const struct hg_kelem *)a)->key, ((const struct hg_kelem *)b)->key, IFNAMSIZ_);
}

/* Sorts and drops repeated keys; returns the new count. */
static size_t uniq_keys(struct hg_kelem *e, size_t n)
{
	size_t m = 0;

	if (n)
		qsort(e, n, sizeof(*e), key_cmp);
	for (size_t i = 0; i < n; i++)
		if (m == 0 || memcmp(e[m - 1].key, e[i].key, IFNAMSIZ_) != 0)
			e[m++] = e[i];
	return m;
}

/*
 * A hash set is dumped by walking its rhashtable, one skb at a time, each
 * skb restarting the walk and skipping what was sent.  A resize of the
 * table (the kernel grows it in the background after a large insert, and
 * the generation id does not move) reorders the buckets between two skbs:
 * the dump then misses some elements and repeats others (seen with a
 * million uids: "22 missing" right after apply).  A walk never invents an
 * element, so the union of dumps is exact once another dump adds nothing.
 */
#define HASH_REREAD_MIN 4096
#define HASH_REREAD_MAX 8

static int gkey_cmp(const void *a, const void *b)
{
	return memcmp(((const struct hg_gkelem *)a)->key, ((const struct hg_gkelem *)b)->key, 24);
}

/* The same for the elements of a grant hash set. */
static size_t uniq_gkeys(struct hg_gkelem *e, size_t n)
{
	size_t m = 0;

	if (n)
		qsort(e, n, sizeof(*e), gkey_cmp);
	for (size_t i = 0; i < n; i++)
		if (m == 0 || memcmp(e[m - 1].key, e[i].key, 24) != 0)
			e[m++] = e[i];
	return m;
}

static size_t uniq_lset(struct lset *ls)
{
	if (ls->grant >= 0)
		return ls->gn = uniq_gkeys(ls->ge, ls->gn);
	return ls->n = uniq_keys(ls->e, ls->n);
}

static int dump_hash_until_stable(struct hg_nl *nl, struct dump_ctx *d, struct lset *ls)
{
	uniq_lset(ls);
	for (int i = 0; i < HASH_REREAD_MAX; i++) {
		size_t before = ls->grant >= 0 ? ls->gn : ls->n;
		int r = dump_elems(nl, d, ls);  /* appends */

		if (r < 0)
			return r;
		if (uniq_lset(ls) == before)
			return 0;
	}
	return -EINTR;  /* kept changing: read the whole table again */
}

/* Flowtables and objects share their first attributes: 1 table, 2 name,
 * and for objects 3 type (NFTA_FLOWTABLE_*, NFTA_OBJ_*). */
static int foreign_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t t = mnl_attr_get_type(a);

	if (t <= 3)
		tb[t] = a;
	return MNL_CB_OK;
}

struct foreign_ctx {
	struct hg_state *s;
	uint16_t delmsg;
	int err;
};

static int foreign_cb(const struct nlmsghdr *nlh, void *data)
{
	struct foreign_ctx *f = data;
	const struct nlattr *tb[4] = { 0 };
	struct lforeign *v;

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), foreign_attr_cb, tb) < 0 || !tb[1] ||
	    !tb[2] || mnl_attr_validate(tb[1], MNL_TYPE_NUL_STRING) < 0 ||
	    mnl_attr_validate(tb[2], MNL_TYPE_NUL_STRING) < 0)
		return MNL_CB_OK;
	if (strcmp(mnl_attr_get_str(tb[1]), HG_TABLE_NAME) != 0)
		return MNL_CB_OK;
	v = realloc(f->s->foreign, (f->s->n_foreign + 1) * sizeof(*v));
	if (!v) {
		f->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	f->s->foreign = v;
	v = &v[f->s->n_foreign];
	v->delmsg = f->delmsg;
	v->objtype = tb[3] && mnl_attr_get_payload_len(tb[3]) == 4 ? ntohl(mnl_attr_get_u32(tb[3])) : 0;
	v->name = strdup(mnl_attr_get_str(tb[2]));
	if (!v->name) {
		f->err = -ENOMEM;
		return MNL_CB_ERROR;
	}
	f->s->n_foreign++;
	return MNL_CB_OK;
}

/* Dumps the flowtables (get = NFT_MSG_GETFLOWTABLE) or objects (NFT_MSG_GETOBJ)
 * of our table. */
static int read_foreign(struct hg_nl *nl, struct hg_state *s, uint16_t get, uint16_t del)
{
	struct foreign_ctx f = { s, del, 0 };
	char buf[512] = { 0 };
	struct nlmsghdr *nlh = dump_req(nl, buf, get, NLM_F_DUMP);
	int r;

	mnl_attr_put_strz(nlh, 1, HG_TABLE_NAME);  /* NFTA_{FLOWTABLE,OBJ}_TABLE */
	r = hg_nl_query(nl, nlh, foreign_cb, &f);
	if (r == -ENOENT || r == -EOPNOTSUPP)
		return 0;
	return f.err ? f.err : r;
}

static int read_once(struct hg_nl *nl, struct hg_state *s)
{
	struct dump_ctx d = { .s = s };
	char buf[1024] = { 0 };
	struct nlmsghdr *nlh;
	int r;

	/* the table itself: does it exist, and is it awake? */
	r = table_exists(nl, &s->table_flags);
	if (r < 0)
		return r;
	/* requests are written with libmnl: nothing to allocate */
	{
		memset(buf, 0, sizeof(buf));
		nlh = dump_req(nl, buf, NFT_MSG_GETSET, NLM_F_DUMP);
		mnl_attr_put_strz(nlh, NFTA_SET_TABLE, HG_TABLE_NAME);
		r = hg_nl_query(nl, nlh, set_cb, &d);
		if (r < 0)
			return d.err ? d.err : r;
	}
	for (size_t i = 0; i < s->n_sets; i++) {
		r = dump_elems(nl, &d, &s->sets[i]);
		if (r < 0)
			return r;
		if (!(s->sets[i].flags & (NFT_SET_INTERVAL | NFT_SET_ANONYMOUS)) &&
		    s->sets[i].n + s->sets[i].gn > HASH_REREAD_MIN) {
			r = dump_hash_until_stable(nl, &d, &s->sets[i]);
			if (r < 0)
				return r;
		}
	}
	{
		memset(buf, 0, sizeof(buf));
		nlh = dump_req(nl, buf, NFT_MSG_GETCHAIN, NLM_F_DUMP);
		mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, HG_TABLE_NAME);
		r = hg_nl_query(nl, nlh, chain_cb, &d);
		if (r < 0)
			return d.err ? d.err : r;
	}
	{
		memset(buf, 0, sizeof(buf));
		nlh = dump_req(nl, buf, NFT_MSG_GETRULE, NLM_F_DUMP);
		mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, HG_TABLE_NAME);
		r = hg_nl_query(nl, nlh, rule_cb, &d);
		if (r < 0)
			return d.err ? d.err : r;
	}
	r = read_foreign(nl, s, NFT_MSG_GETFLOWTABLE, NFT_MSG_DELFLOWTABLE);
	if (r == 0)
		r = read_foreign(nl, s, NFT_MSG_GETOBJ, NFT_MSG_DELOBJ);
	return r;
}

/* Decodes what the dumps put in s into s->canon. */
static int decode_all(struct hg_state *s)
{
	int r = 0;

	/* interval sets need their elements in key order to pair starts
	 * and ends; hash sets are sorted by value when decoded */
	for (size_t i = 0; i < s->n_sets; i++)
		if (s->sets[i].flags & (NFT_SET_INTERVAL | NFT_SET_ANONYMOUS))
			hg_lset_sort(&s->sets[i]);
	for (int k = 0; r == 0 && k < HG_KEY_MAX; k++) {
		if (HG_KIND(k) == HG_KIND_GRANT)
			continue;
		for (size_t i = 0; i < s->n_sets; i++) {
			struct lset *ls = &s->sets[i];
			const struct hg_setdef *d = &hg_setdefs[k];
			if (strcmp(ls->name, d->name) == 0 && ls->key_len == d->key_len &&
			    (ls->flags & NFT_SET_INTERVAL) == (d->flags & NFT_SET_INTERVAL)) {
				ls->key = k;
				r = hg_lset_decode(s, k, ls);
				break;
			}
		}
	}
	for (size_t i = 0; r == 0 && i < s->n_sets; i++)
		if (s->sets[i].grant >= 0 && hg_state_gset_status(s, s->sets[i].grant) != HG_SET_WRONG_DEF)
			r = hg_lset_decode_grants(s, s->sets[i].grant, &s->sets[i]);
	return r;
}

/* A batch's messages have the layout of the dumps' replies: fed through
 * the same callbacks, a batch that creates the table reads back as the
 * table it creates (kernel-free; the unit tests compare it). */
int hg_state_from_msgs(const void *buf, size_t len, struct hg_state **ret)
{
	struct hg_state *s = calloc(1, sizeof(*s));
	struct dump_ctx d = { .s = s };
	const struct nlmsghdr *nlh = buf;
	int n = (int)len, r = MNL_CB_OK;

	if (!s)
		return -ENOMEM;
	for (; r >= MNL_CB_OK && mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
		if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES)
			continue;
		switch (nlh->nlmsg_type & 0xff) {
		case NFT_MSG_NEWSET:
			r = set_cb(nlh, &d);
			break;
		case NFT_MSG_NEWCHAIN:
			r = chain_cb(nlh, &d);
			break;
		case NFT_MSG_NEWRULE:
			r = rule_cb(nlh, &d);
			break;
		case NFT_MSG_NEWSETELEM: {
			const struct nlattr *a;
			d.cur = NULL;
			mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
				if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_SET &&
				    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
					for (size_t i = 0; i < s->n_sets; i++)
						if (strcmp(s->sets[i].name, mnl_attr_get_str(a)) == 0)
							d.cur = &s->sets[i];
			if (d.cur)
				r = elem_cb(nlh, &d);
			break;
		}
		}
	}
	if (r == MNL_CB_ERROR || (r = decode_all(s)) < 0) {
		hg_state_free(s);
		return d.err ? d.err : r < 0 ? r : -ENOMEM;
	}
	*ret = s;
	return 0;
}

HG_EXPORT int hg_state_read(struct hg_nl *nl, struct hg_state **ret, struct hg_error *err)
{
	struct hg_state *s = NULL;
	int r = -EAGAIN;

	if (!nl || !ret)
		return hg_err(err, -EINVAL, "invalid argument");
	/* A snapshot is consistent when the generation did not move while it
	 * was read; otherwise read again. */
	for (int attempt = 0; attempt < 20; attempt++) {
		uint32_t g1, g2;

		hg_state_free(s);
		s = calloc(1, sizeof(*s));
		if (!s)
			return hg_err(err, -ENOMEM, "out of memory");
		r = hg_nl_genid(nl, &g1);
		if (r == 0)
			r = read_once(nl, s);
		if (r == -EINTR)
			continue;
		if (r < 0)
			break;
		r = hg_nl_genid(nl, &g2);
		if (r < 0)
			break;
		if (g1 == g2) {
			s->genid = g1;
			r = 0;
			break;
		}
		r = -EAGAIN;
	}
	if (r == 0) {
		r = decode_all(s);
		if (r < 0)
			r = hg_err(err, r, "out of memory");
	} else if (r == -ENOENT) {
		r = hg_err(err, -ENOENT, "table inet %s is not loaded", HG_TABLE_NAME);
	} else if (r == -EPERM) {
		r = hg_err_perm(err);
	} else if (r == -EAGAIN) {
		r = hg_err(err, -EAGAIN, "the ruleset kept changing while it was read");
	} else {
		r = hg_err(err, r, "cannot read table inet %s: %s", HG_TABLE_NAME, strerror(-r));
	}
	if (r < 0) {
		hg_state_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

/* ---- one set at a time, for edits ----------------------------------------------- */

int hg_state_read_set(struct hg_nl *nl, enum hg_key k, bool with_elements, struct hg_state **ret)
{
	struct hg_state *s = calloc(1, sizeof(*s));
	struct dump_ctx d = { .s = s };
	int r;

	if (!s)
		return -ENOMEM;
	/* the set first: the table is asked for only when the set is not
	 * found, to tell "not loaded" (-ENOENT) from "set missing" (-ESRCH) */
	r = get_set(nl, &d, hg_setdefs[k].name);
	if (r == -ENOENT) {
		r = table_exists(nl, NULL);
		if (r == 0)
			r = -ESRCH;
	} else if (r == 0 && s->n_sets != 1) {
		r = -ESRCH;
	}
	if (r < 0)
		goto out;
	if (with_elements) {
		r = dump_elems(nl, &d, &s->sets[0]);
		if (r < 0)
			goto out;
	}
	/* a foreign size limit does not change what the elements mean: the
	 * kernel will say when the set is full */
	if (!hg_lset_is(&s->sets[0], hg_setdefs[k].key_type, hg_setdefs[k].key_len, hg_setdefs[k].flags)) {
		r = -EBADSLT;
		goto out;
	}
	s->sets[0].key = k;
	if (with_elements) {
		hg_lset_sort(&s->sets[0]);
		r = hg_lset_decode(s, k, &s->sets[0]);
		if (r == 0 && s->sets[0].anomaly)
			r = -EBADSLT;
	}
out:
	if (r < 0) {
		hg_state_free(s);
		return d.err ? d.err : r;
	}
	*ret = s;
	return 0;
}

static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	(*(int *)data)++;
	return MNL_CB_OK;
}

int hg_set_has_key(struct hg_nl *nl, enum hg_key k, const unsigned char *key)
{
	char buf[1024] = { 0 };
	/* one key, one answer (the element or an error): no ack after it */
	struct nlmsghdr *nlh = dump_req(nl, buf, NFT_MSG_GETSETELEM, 0);
	struct nlattr *list, *elem, *kn;
	int n = 0, r;

	/* a non-dump GETSETELEM looks up just this key: the cost does not
	 * grow with the size of the set */
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, HG_TABLE_NAME);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, hg_setdefs[k].name);
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	kn = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, hg_setdefs[k].key_len, key);
	mnl_attr_nest_end(nlh, kn);
	mnl_attr_nest_end(nlh, elem);
	mnl_attr_nest_end(nlh, list);
	r = hg_nl_query(nl, nlh, count_cb, &n);
	if (r == -ENOENT)
		return 0;
	return r < 0 ? r : n > 0;
}

struct gget_ctx {
	struct dump_ctx d;
	struct lset ls;
};

static int gget_cb(const struct nlmsghdr *nlh, void *data)
{
	struct gget_ctx *c = data;

	c->d.cur = &c->ls;
	return elem_cb(nlh, &c->d);
}

/* Looks up one grant in physical set ps (a non-dump GETSETELEM of its key,
 * or its start and end keys: the cost does not grow with the size of the
 * set).  Returns 1 with *ret_timeout_ms when the set holds exactly this
 * grant, 0 when not. */
static int pset_lookup(struct hg_nl *nl, int ps, const struct hg_grant *g, uint64_t *ret_timeout_ms)
{
	const struct hg_psetdef *d = &hg_psetdefs[ps];
	bool range = HG_PSET_SHAPE(ps) == HG_GSHAPE_RANGE;
	struct gget_ctx c = { .ls = { .grant = ps, .key = -1 } };
	char buf[1024] = { 0 };
	struct nlmsghdr *nlh = dump_req(nl, buf, NFT_MSG_GETSETELEM, NLM_F_ACK);
	struct nlattr *list, *elem, *kn;
	unsigned char k[24], ke[24];
	int r, found = 0;

	if (range) {
		hg_grant_key(g, false, k);
		hg_grant_key(g, true, ke);
	} else {
		hg_grant_hkey(g, HG_PSET_SHAPE(ps), k);
	}
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, HG_TABLE_NAME);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, d->name);
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	kn = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, d->key_len, k);
	mnl_attr_nest_end(nlh, kn);
	if (range) {
		kn = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY_END);
		mnl_attr_put(nlh, NFTA_DATA_VALUE, d->key_len, ke);
		mnl_attr_nest_end(nlh, kn);
	}
	mnl_attr_nest_end(nlh, elem);
	mnl_attr_nest_end(nlh, list);
	r = hg_nl_query(nl, nlh, gget_cb, &c);
	if (r == 0 && c.d.err)
		r = c.d.err;
	/* an interval set answers with the element that holds the start
	 * key: only an element with the same ends is this grant */
	for (size_t i = 0; r == 0 && i < c.ls.gn; i++) {
		if (memcmp(c.ls.ge[i].key, k, d->key_len) == 0 &&
		    (!range || memcmp(c.ls.ge[i].key_end, ke, d->key_len) == 0)) {
			found = 1;
			if (ret_timeout_ms)
				*ret_timeout_ms = c.ls.ge[i].timeout_ms;
		}
	}
	free(c.ls.ge);
	if (r == -ENOENT)
		return 0;
	return r < 0 ? r : found;
}

int hg_gset_lookup(struct hg_nl *nl, int gs, const struct hg_grant *g, uint64_t *ret_timeout_ms,
		   unsigned *ret_shapes, unsigned *ret_permanent)
{
	int shape = hg_grant_shape(g);
	unsigned shapes = 0, permanent = 0;

	/* its own set first (its timeout is the one that counts); then the
	 * others, where the previous layout or someone's "nft add element"
	 * may have put it too */
	for (int k = 0; k < HG_NGSHAPES; k++) {
		int sh = k == 0 ? shape : (k <= shape ? k - 1 : k);
		uint64_t tmo = 0;
		int r = pset_lookup(nl, HG_PSET(gs, sh), g, &tmo);

		if (r < 0)
			return r;
		if (r == 1 && !shapes && ret_timeout_ms)
			*ret_timeout_ms = tmo;
		if (r == 1)
			shapes |= 1u << sh;
		if (r == 1 && !tmo)
			permanent |= 1u << sh;
	}
	if (ret_shapes)
		*ret_shapes = shapes;
	if (ret_permanent)
		*ret_permanent = permanent;
	return shapes != 0;
}

/* The twelve grant sets with their elements, decoded into canon.g; a grant set
 * that is missing or not of hostguard's type is left empty.  -ENOENT: no
 * table. */
int hg_state_read_grants(struct hg_nl *nl, struct hg_state **ret)
{
	struct hg_state *s = calloc(1, sizeof(*s));
	struct dump_ctx d = { .s = s };
	int r;

	if (!s)
		return -ENOMEM;
	r = table_exists(nl, NULL);
	for (int ps = 0; r == 0 && ps < HG_NPSETS; ps++) {
		size_t i = s->n_sets;

		r = get_set(nl, &d, hg_psetdefs[ps].name);
		if (r == -ENOENT) {
			r = 0;
			continue;
		}
		if (r < 0 || s->n_sets == i || hg_state_gset_status(s, ps) == HG_SET_WRONG_DEF)
			continue;
		r = dump_elems(nl, &d, &s->sets[i]);
		if (r == 0)
			r = hg_lset_decode_grants(s, ps, &s->sets[i]);
	}
	if (r < 0) {
		hg_state_free(s);
		return d.err ? d.err : r;
	}
	*ret = s;
	return 0;
}

/* Reads the definitions of the grant sets; -ENOENT: no table; -ESRCH: a
 * grant set is missing; -EBADSLT: one is not of hostguard's type. */
int hg_state_read_gsets(struct hg_nl *nl, struct hg_state **ret)
{
	struct hg_state *s = calloc(1, sizeof(*s));
	struct dump_ctx d = { .s = s };
	int r;

	if (!s)
		return -ENOMEM;
	r = table_exists(nl, NULL);
	for (int ps = 0; r == 0 && ps < HG_NPSETS; ps++) {
		r = get_set(nl, &d, hg_psetdefs[ps].name);
		if (r == -ENOENT)
			r = -ESRCH;
		if (r == 0 && hg_state_gset_status(s, ps) != HG_SET_OK)
			r = hg_state_gset_status(s, ps) == HG_SET_MISSING ? -ESRCH : -EBADSLT;
	}
	if (r < 0) {
		hg_state_free(s);
		return d.err ? d.err : r;
	}
	*ret = s;
	return 0;
}
