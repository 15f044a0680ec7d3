/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading the live table back, and comparing it with a policy. */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <stdarg.h>
#include <stdio.h>

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

HG_EXPORT void hg_state_free(struct hg_state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_sets; i++) {
		free(s->sets[i].name);
		free(s->sets[i].e);
		free(s->sets[i].ge);
	}
	free(s->sets);
	for (size_t i = 0; i < s->n_foreign; i++)
		free(s->foreign[i].name);
	free(s->foreign);
	for (size_t i = 0; i < s->n_chains; i++) {
		free(s->chains[i].name);
		free(s->chains[i].type);
	}
	free(s->chains);
	for (size_t i = 0; i < s->n_rules; i++) {
		free(s->rules[i].chain);
		nftnl_rule_free(s->rules[i].r);
	}
	free(s->rules);
	hg_lines_free(s->anomalies, s->n_anomalies);
	hg_canon_clear(&s->canon);
	free(s);
}

/* ---- dumps -------------------------------------------------------------------- */

struct dump_ctx {
	struct hg_state *s;
	size_t cap_sets, cap_chains, cap_rules;
	struct lset *cur;
	int err;
};

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *d = data;
	struct nftnl_set *t = nftnl_set_alloc();
	struct hg_state *s = d->s;
	struct lset *v;

	if (!t || nftnl_set_nlmsg_parse(nlh, t) < 0)
		goto fail;
	if (strcmp(nftnl_set_get_str(t, NFTNL_SET_TABLE), HG_TABLE_NAME) != 0) {
		hg_nftnl_free(nftnl_set_free, t);
		return MNL_CB_OK;
	}
	v = grow(s->sets, &d->cap_sets, s->n_sets, sizeof(*v));
	if (!v)
		goto fail;
	s->sets = v;
	v = &s->sets[s->n_sets];
	memset(v, 0, sizeof(*v));
	v->key = -1;
	v->name = strdup(nftnl_set_get_str(t, NFTNL_SET_NAME));
	if (!v->name)
		goto fail;
	v->grant = hg_gset_index(v->name);
	v->flags = nftnl_set_is_set(t, NFTNL_SET_FLAGS) ? nftnl_set_get_u32(t, NFTNL_SET_FLAGS) : 0;
	v->key_type = nftnl_set_get_u32(t, NFTNL_SET_KEY_TYPE);
	v->key_len = nftnl_set_get_u32(t, NFTNL_SET_KEY_LEN);
	if (nftnl_set_is_set(t, NFTNL_SET_DESC_SIZE))
		v->size = nftnl_set_get_u32(t, NFTNL_SET_DESC_SIZE);
	s->n_sets++;
	hg_nftnl_free(nftnl_set_free, t);
	return MNL_CB_OK;
fail:
	hg_nftnl_free(nftnl_set_free, t);
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

static int dump_hash_until_stable(struct hg_nl *nl, struct dump_ctx *d, struct lset *ls)
{
	ls->n = uniq_keys(ls->e, ls->n);
	for (int i = 0; i < HASH_REREAD_MAX; i++) {
		size_t before = ls->n;
		int r = dump_elems(nl, d, ls);  /* appends */

		if (r < 0)
			return r;
		ls->n = uniq_keys(ls->e, ls->n);
		if (ls->n == before)
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
		    s->sets[i].n > HASH_REREAD_MIN) {
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

/* ---- decoding set contents ------------------------------------------------------- */

static int kelem_cmp(const void *a, const void *b)
{
	const struct hg_kelem *x = a, *y = b;
	int c = memcmp(x->key, y->key, IFNAMSIZ_);

	if (c)
		return c;
	/* at the same key an interval's end sorts before the next start */
	return (int)y->end - (int)x->end;
}

/* The rbtree backend dumps in descending order: reversing is enough then. */
void hg_lset_sort(struct lset *ls)
{
	bool descending = true;

	for (size_t i = 1; i < ls->n && descending; i++)
		descending = kelem_cmp(&ls->e[i - 1], &ls->e[i]) > 0;
	if (descending) {
		for (size_t i = 0, j = ls->n; i + 1 < j; i++, j--) {
			struct hg_kelem t = ls->e[i];
			ls->e[i] = ls->e[j - 1];
			ls->e[j - 1] = t;
		}
	} else if (ls->n) {
		qsort(ls->e, ls->n, sizeof(*ls->e), kelem_cmp);
	}
}

static int HG_PRINTF(2, 3) add_anomaly(struct hg_state *s, const char *fmt, ...)
{
	char line[256], **v;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	v = realloc(s->anomalies, (s->n_anomalies + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->anomalies = v;
	if (!(v[s->n_anomalies] = strdup(line)))
		return -ENOMEM;
	s->n_anomalies++;
	return 0;
}

static bool key_is_zero(const struct hg_kelem *e)
{
	static const unsigned char zero[IFNAMSIZ_];
	return memcmp(e->key, zero, IFNAMSIZ_) == 0;
}

/* Intervals come as start/end element pairs (rbtree dumps them in
 * descending order).  A start with no end runs to the end of the key space;
 * an end at key zero is nft's "first non-matching segment" marker. */
int hg_lset_decode(struct hg_state *s, enum hg_key k, struct lset *ls)
{
	const struct hg_setdef *d = &hg_setdefs[k];
	struct hg_canon *c = &s->canon;
	size_t n = ls->n;
	int r;

	if (!(d->flags & NFT_SET_INTERVAL)) {
		c->r[k] = calloc(n ? n : 1, sizeof(struct hg_range));
		if (!c->r[k])
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			uint32_t v;
			memcpy(&v, ls->e[i].key, 4);
			c->r[k][c->n[k]++] = (struct hg_range){ v, v };
		}
		/* keys are host-endian: sort by value, not by bytes; a set holds
		 * each key once, a dump racing a rehash may repeat one */
		c->n[k] = hg_ranges_normalize(c->r[k], c->n[k], false);
		return 0;
	}
	if (k == HG_KEY_IFACES) {
		c->ifr = calloc(n ? n : 1, sizeof(*c->ifr));
		c->ifnames = calloc(n ? n : 1, sizeof(*c->ifnames));
		if (!c->ifr || !c->ifnames)
			return -ENOMEM;
	} else if (!(c->r[k] = calloc(n ? n : 1, sizeof(struct hg_range)))) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct hg_kelem *st = &ls->e[i], *en = NULL;

		if (st->end) {
			if (key_is_zero(st))
				continue;
			ls->anomaly = true;
			r = add_anomaly(s, "set %s: stray interval end element", d->name);
			if (r < 0)
				return r;
			continue;
		}
		if (i + 1 < n && ls->e[i + 1].end)
			en = &ls->e[++i];
		if (k == HG_KEY_IFACES) {
			struct hg_ifrange *ir = &c->ifr[c->n_if];
			char pat[IFNAMSIZ_ + 2];

			memcpy(ir->start, st->key, IFNAMSIZ_);
			if (en)
				memcpy(ir->end, en->key, IFNAMSIZ_);
			else
				ir->open_end = 1;
			if (hg_ifrange_pattern(ir, pat) < 0) {
				char raw[40];
				snprintf(raw, sizeof(raw), "'%.16s'", (const char *)st->key);
				ls->anomaly = true;
				r = add_anomaly(s, "set %s: interval starting at %s matches no pattern",
						d->name, raw);
				if (r < 0)
					return r;
				continue;
			}
			if (!(c->ifnames[c->n_if] = strdup(pat)))
				return -ENOMEM;
			c->n_if++;
		} else {
			uint32_t lo = (uint32_t)(st->key[0] << 8 | st->key[1]);
			uint32_t hi = en ? (uint32_t)(en->key[0] << 8 | en->key[1]) - 1 : 65535;
			c->r[k][c->n[k]++] = (struct hg_range){ lo, hi };
		}
	}
	return 0;
}

HG_EXPORT int hg_state_read(struct hg_nl *nl, struct hg_state **ret, struct hg_error *err)
{
	struct hg_state *s = NULL;
	int r = -EAGAIN;

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
	char buf[1024] = { 0 };
	struct nlmsghdr *nlh;
	int r;

	if (!s)
		return -ENOMEM;
	r = table_exists(nl, NULL);
	if (r < 0)
		goto out;
	nlh = dump_req(nl, buf, NFT_MSG_GETSET, NLM_F_ACK);
	mnl_attr_put_strz(nlh, NFTA_SET_TABLE, HG_TABLE_NAME);
	mnl_attr_put_strz(nlh, NFTA_SET_NAME, hg_setdefs[k].name);
	r = hg_nl_query(nl, nlh, set_cb, &d);
	if (r == -ENOENT || (r == 0 && s->n_sets != 1))
		r = -ESRCH;
	if (r < 0)
		goto out;
	if (with_elements) {
		r = dump_elems(nl, &d, &s->sets[0]);
		if (r < 0)
			goto out;
	}
	/* a foreign size limit does not change what the elements mean: the
	 * kernel will say when the set is full */
	if (s->sets[0].key_type != hg_setdefs[k].key_type ||
	    s->sets[0].key_len != hg_setdefs[k].key_len || s->sets[0].flags != hg_setdefs[k].flags) {
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
	struct nlmsghdr *nlh = dump_req(nl, buf, NFT_MSG_GETSETELEM, NLM_F_ACK);
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

/* Looks up one grant in its set (a non-dump GETSETELEM of its start and
 * end keys: the cost does not grow with the size of the set).  Returns 1
 * with *ret_timeout_ms when the set holds exactly this grant, 0 when not. */
int hg_gset_lookup(struct hg_nl *nl, int gs, const struct hg_grant *g, uint64_t *ret_timeout_ms)
{
	const struct hg_gsetdef *d = &hg_gsetdefs[gs];
	struct gget_ctx c = { .ls = { .grant = gs, .key = -1 } };
	char buf[1024] = { 0 };
	struct nlmsghdr *nlh = dump_req(nl, buf, NFT_MSG_GETSETELEM, NLM_F_ACK);
	struct nlattr *list, *elem, *kn;
	unsigned char k[24], ke[24];
	int r, found = 0;

	hg_grant_key(g, false, k);
	hg_grant_key(g, true, ke);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, HG_TABLE_NAME);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, d->name);
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	kn = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, d->key_len, k);
	mnl_attr_nest_end(nlh, kn);
	kn = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY_END);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, d->key_len, ke);
	mnl_attr_nest_end(nlh, kn);
	mnl_attr_nest_end(nlh, elem);
	mnl_attr_nest_end(nlh, list);
	r = hg_nl_query(nl, nlh, gget_cb, &c);
	if (r == 0 && c.d.err)
		r = c.d.err;
	/* the kernel answers with the element that holds the start key:
	 * only an element with the same ends is this grant */
	for (size_t i = 0; r == 0 && i < c.ls.gn; i++) {
		if (memcmp(c.ls.ge[i].key, k, d->key_len) == 0 &&
		    memcmp(c.ls.ge[i].key_end, ke, d->key_len) == 0) {
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

/* Reads the definitions of the grant sets; -ENOENT: no table; -ESRCH: a
 * grant set is missing; -EBADSLT: one is not of hostguard's type. */
int hg_state_read_gsets(struct hg_nl *nl, struct hg_state **ret)
{
	struct hg_state *s = calloc(1, sizeof(*s));
	struct dump_ctx d = { .s = s };
	char buf[1024] = { 0 };
	struct nlmsghdr *nlh;
	int r;

	if (!s)
		return -ENOMEM;
	r = table_exists(nl, NULL);
	for (int gs = 0; r == 0 && gs < HG_NGSETS; gs++) {
		memset(buf, 0, sizeof(buf));
		nlh = dump_req(nl, buf, NFT_MSG_GETSET, NLM_F_ACK);
		mnl_attr_put_strz(nlh, NFTA_SET_TABLE, HG_TABLE_NAME);
		mnl_attr_put_strz(nlh, NFTA_SET_NAME, hg_gsetdefs[gs].name);
		r = hg_nl_query(nl, nlh, set_cb, &d);
		if (r == -ENOENT)
			r = -ESRCH;
		if (r == 0 && hg_state_gset_status(s, gs) != HG_SET_OK)
			r = hg_state_gset_status(s, gs) == HG_SET_MISSING ? -ESRCH : -EBADSLT;
	}
	if (r < 0) {
		hg_state_free(s);
		return d.err ? d.err : r;
	}
	*ret = s;
	return 0;
}

/* ---- accessors -------------------------------------------------------------------- */

HG_EXPORT size_t hg_state_count(const struct hg_state *s, enum hg_key key)
{
	size_t n = 0;

	if ((unsigned)key >= HG_KEY_MAX)
		return 0;
	if (HG_KIND(key) == HG_KIND_GRANT) {
		for (int gs = 0; gs < HG_NGSETS; gs++)
			if (hg_gsetdefs[gs].key == key)
				n += s->canon.ng[gs];
		return n;
	}
	return key == HG_KEY_IFACES ? s->canon.n_if : s->canon.n[key];
}

HG_EXPORT size_t hg_state_grant_count(const struct hg_state *s)
{
	size_t n = 0;

	for (int gs = 0; gs < HG_NGSETS; gs++)
		n += s->canon.ng[gs];
	return n;
}

HG_EXPORT int hg_state_grant(const struct hg_state *s, size_t i, struct hg_grant_info *ret)
{
	for (int gs = 0; gs < HG_NGSETS; gs++) {
		const struct hg_grant *g;
		if (i >= s->canon.ng[gs]) {
			i -= s->canon.ng[gs];
			continue;
		}
		g = &s->canon.g[gs][i];
		memset(ret, 0, sizeof(*ret));
		ret->gid = hg_gsetdefs[gs].key == HG_KEY_GRANT_GIDS;
		ret->id = g->id;
		ret->timeout_ms = g->timeout_ms;
		ret->expires_ms = g->expires_ms;
		ret->source = (enum hg_grant_source)g->src;
		memcpy(ret->container, g->name, sizeof(ret->container));
		return hg_grant_format(g, ret->text, sizeof(ret->text));
	}
	return -ENOENT;
}

HG_EXPORT void hg_state_range(const struct hg_state *s, enum hg_key key, size_t i,
			      uint32_t *ret_lo, uint32_t *ret_hi)
{
	if (key == HG_KEY_IFACES || (unsigned)key >= HG_KEY_MAX || i >= s->canon.n[key])
		return;
	*ret_lo = s->canon.r[key][i].lo;
	*ret_hi = s->canon.r[key][i].hi;
}

HG_EXPORT const char *hg_state_iface(const struct hg_state *s, size_t i)
{
	return i < s->canon.n_if ? s->canon.ifnames[i] : NULL;
}

HG_EXPORT int hg_state_log_group(const struct hg_state *s)
{
	int group = -1;

	for (size_t i = 0; i < s->n_rules && group < 0; i++) {
		struct nftnl_expr_iter *it = nftnl_expr_iter_create(s->rules[i].r);
		struct nftnl_expr *e;

		if (!it)
			continue;
		while ((e = nftnl_expr_iter_next(it)))
			if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "log") == 0 &&
			    nftnl_expr_is_set(e, NFTNL_EXPR_LOG_GROUP))
				group = nftnl_expr_get_u16(e, NFTNL_EXPR_LOG_GROUP);
		nftnl_expr_iter_destroy(it);
	}
	return group;
}

/* The chain index of a rule's chain name, or -1. */
static int chain_index(const char *name)
{
	for (int ch = 0; ch < HG_NCHAINS; ch++)
		if (strcmp(name, hg_chain_names[ch]) == 0)
			return ch;
	return -1;
}

bool hg_is_our_chain(const char *name)
{
	return chain_index(name) >= 0;
}

HG_EXPORT void hg_state_drops(const struct hg_state *s, enum hg_chain chain,
			      uint64_t *ret_packets, uint64_t *ret_bytes)
{
	uint64_t p = 0, b = 0;

	if (!s || (unsigned)chain >= HG_CHAIN_MAX)
		return;
	for (size_t i = 0; i < s->n_rules; i++) {
		struct nftnl_expr_iter *it;
		struct nftnl_expr *e;
		uint64_t rp = 0, rb = 0;
		bool counted = false, drops = false;
		int ch = chain_index(s->rules[i].chain);

		/* a base chain and the regular chain it jumps to count together */
		if (ch < 0 || hg_chaindefs[ch].dir != chain)
			continue;
		it = nftnl_expr_iter_create(s->rules[i].r);
		if (!it)
			continue;
		while ((e = nftnl_expr_iter_next(it))) {
			const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
			if (strcmp(name, "counter") == 0) {
				counted = true;
				rp = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
				rb = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
			} else if (strcmp(name, "immediate") == 0 &&
				   nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT)) {
				drops = nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT) == NF_DROP;
			}
		}
		nftnl_expr_iter_destroy(it);
		if (counted && drops) {
			p += rp;
			b += rb;
		}
	}
	*ret_packets = p;
	*ret_bytes = b;
}

HG_EXPORT long long hg_state_counting_since(const struct hg_state *s, enum hg_chain chain)
{
	long long since = 0;

	if (!s || (unsigned)chain >= HG_CHAIN_MAX)
		return 0;
	for (size_t i = 0; i < s->n_rules; i++) {
		int ch = chain_index(s->rules[i].chain);
		const char *ud;
		uint32_t len = 0;
		long long t;

		if (ch < 0 || hg_chaindefs[ch].dir != chain ||
		    !nftnl_rule_is_set(s->rules[i].r, NFTNL_RULE_USERDATA))
			continue;
		ud = nftnl_rule_get_data(s->rules[i].r, NFTNL_RULE_USERDATA, &len);
		/* one TLV: type NFTNL_UDATA_RULE_COMMENT, length, the text */
		if (len < 2 || ud[0] != NFTNL_UDATA_RULE_COMMENT || (uint8_t)ud[1] + 2u > len)
			continue;
		{
			char text[64];
			size_t n = (uint8_t)ud[1] < sizeof(text) - 1 ? (uint8_t)ud[1] : sizeof(text) - 1;
			memcpy(text, ud + 2, n);
			text[n] = '\0';
			if (sscanf(text, HG_SINCE_PREFIX "%lld", &t) == 1 && t > 0 && (!since || t < since))
				since = t;
		}
	}
	return since;
}

/* ---- diff ------------------------------------------------------------------------- */

struct lines {
	char **v;
	size_t n;
	bool oom;
	bool delta;               /* "+ key value" / "- key value" / "~ what" */
};

static void HG_PRINTF(2, 3) line_add(struct lines *l, const char *fmt, ...)
{
	char **v;
	char *s;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0) {
		l->oom = true;
		return;
	}
	if (l->delta && !((s[0] == '+' || s[0] == '-') && s[1] == ' ')) {
		char *t;
		r = asprintf(&t, "~ %s", s);
		free(s);
		if (r < 0) {
			l->oom = true;
			return;
		}
		s = t;
	}
	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v) {
		free(s);
		l->oom = true;
		return;
	}
	l->v = v;
	l->v[l->n++] = s;
}

HG_EXPORT void hg_lines_free(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

static void fmt_range(char *buf, size_t len, enum hg_key k, const struct hg_range *r)
{
	if (k == HG_KEY_UIDS || k == HG_KEY_GIDS || r->lo == r->hi)
		snprintf(buf, len, "%u", r->lo);
	else
		snprintf(buf, len, "%u-%u", r->lo, r->hi);
}

/* Differences are listed up to a limit per set, then counted. */
#define MAX_LISTED 10

static void diff_ranges(struct lines *l, enum hg_key k, const struct hg_canon *live,
			const struct hg_canon *want)
{
	const struct hg_range *a = live->r[k], *b = want->r[k];
	size_t na = live->n[k], nb = want->n[k], i = 0, j = 0, missing = 0, extra = 0;
	char buf[32];

	while (i < na || j < nb) {
		int c;
		if (i == na)
			c = 1;
		else if (j == nb)
			c = -1;
		else if (a[i].lo != b[j].lo)
			c = a[i].lo < b[j].lo ? -1 : 1;
		else
			c = a[i].hi == b[j].hi ? 0 : a[i].hi < b[j].hi ? -1 : 1;
		if (c == 0) {
			i++, j++;
		} else if (c < 0) {
			if (extra++ < MAX_LISTED) {
				fmt_range(buf, sizeof(buf), k, &a[i]);
				if (l->delta)
					line_add(l, "- %s %s", hg_key_name(k), buf);
				else
					line_add(l, "%s: %s is in the table but not in the config", hg_key_name(k), buf);
			}
			i++;
		} else {
			if (missing++ < MAX_LISTED) {
				fmt_range(buf, sizeof(buf), k, &b[j]);
				if (l->delta)
					line_add(l, "+ %s %s", hg_key_name(k), buf);
				else
					line_add(l, "%s: %s is in the config but not in the table", hg_key_name(k), buf);
			}
			j++;
		}
	}
	if (extra > MAX_LISTED)
		line_add(l, l->delta ? "- %s: %zu more values" : "%s: %zu more values in the table but not in the config",
			 hg_key_name(k), extra - MAX_LISTED);
	if (missing > MAX_LISTED)
		line_add(l, l->delta ? "+ %s: %zu more values" : "%s: %zu more values in the config but not in the table",
			 hg_key_name(k), missing - MAX_LISTED);
}

static void diff_ifaces(struct lines *l, const struct hg_canon *live, const struct hg_canon *want)
{
	for (size_t i = 0; i < live->n_if; i++) {
		size_t j;
		for (j = 0; j < want->n_if; j++)
			if (strcmp(live->ifnames[i], want->ifnames[j]) == 0)
				break;
		if (j == want->n_if)
			line_add(l, l->delta ? "- container_ifaces %s" : "container_ifaces: '%s' is in the table but not in the config",
				 live->ifnames[i]);
	}
	for (size_t j = 0; j < want->n_if; j++) {
		size_t i;
		for (i = 0; i < live->n_if; i++)
			if (strcmp(live->ifnames[i], want->ifnames[j]) == 0)
				break;
		if (i == live->n_if)
			line_add(l, l->delta ? "+ container_ifaces %s" : "container_ifaces: '%s' is in the config but not in the table",
				 want->ifnames[j]);
	}
}

/* Grants: runtime ones (with a timeout) are no difference. */
static void diff_grants(struct lines *l, int gs, const struct hg_canon *live,
			const struct hg_canon *want)
{
	const char *key = hg_key_name(hg_gsetdefs[gs].key);
	size_t na = live->ng[gs], nb = want->ng[gs], i = 0, j = 0, missing = 0, extra = 0;
	char buf[96], src[HG_CONTAINER_NAME_MAX + 24];

	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : hg_grant_cmp(&live->g[gs][i], &want->g[gs][j]);
		if (c == 0) {
			if (live->g[gs][i].timeout_ms && missing++ < MAX_LISTED) {
				hg_grant_format(&want->g[gs][j], buf, sizeof(buf));
				line_add(l, "%s: %s is in the config but the table holds it with a timeout", key, buf);
			}
			i++, j++;
		} else if (c < 0) {
			if (!live->g[gs][i].timeout_ms && extra++ < MAX_LISTED) {
				hg_grant_format(&live->g[gs][i], buf, sizeof(buf));
				hg_grant_source_text(&live->g[gs][i], src, sizeof(src));
				if (l->delta)
					line_add(l, "- %s %s%s", key, buf, src);
				else
					line_add(l, "%s: %s%s is in the table but not in the config", key, buf, src);
			}
			i++;
		} else {
			if (missing++ < MAX_LISTED) {
				hg_grant_format(&want->g[gs][j], buf, sizeof(buf));
				hg_grant_source_text(&want->g[gs][j], src, sizeof(src));
				if (l->delta)
					line_add(l, "+ %s %s%s", key, buf, src);
				else
					line_add(l, "%s: %s%s is in the config but not in the table", key, buf, src);
			}
			j++;
		}
	}
	if (extra > MAX_LISTED)
		line_add(l, "%s: %zu more grants in the table but not in the config", key, extra - MAX_LISTED);
	if (missing > MAX_LISTED)
		line_add(l, "%s: %zu more grants in the config but not in the table", key, missing - MAX_LISTED);
}

/* An anonymous set's contents, for the canonical text of the rule that
 * uses it: its kernel-chosen name differs from table to table. */
static void anon_lookup(FILE *f, const char *name, const void *data)
{
	const struct hg_state *s = data;

	for (size_t i = 0; i < s->n_sets; i++) {
		if (strcmp(s->sets[i].name, name) != 0)
			continue;
		fprintf(f, "{type %u len %u", s->sets[i].key_type, s->sets[i].key_len);
		for (size_t j = 0; j < s->sets[i].n; j++)
			fprintf(f, " %u", s->sets[i].e[j].key[0]);
		fputc('}', f);
	}
}

/* What hostguard's only anonymous set holds. */
static void anon_wanted(FILE *f, const char *name, const void *data)
{
	(void)name;
	(void)data;
	fprintf(f, "{type %u len 1", HG_TYPE_ICMP6_TYPE);
	for (size_t i = 0; i < ARRAY_SIZE(hg_icmpv6_nd_types); i++)
		fprintf(f, " %u", hg_icmpv6_nd_types[i]);
	fputc('}', f);
}

static const char *hook_name(uint32_t hook)
{
	switch (hook) {
	case NF_INET_PRE_ROUTING: return "prerouting";
	case NF_INET_LOCAL_IN: return "input";
	case NF_INET_FORWARD: return "forward";
	case NF_INET_LOCAL_OUT: return "output";
	case NF_INET_POST_ROUTING: return "postrouting";
	default: return "?";
	}
}

const struct lset *hg_state_set(const struct hg_state *s, const char *name)
{
	for (size_t i = 0; i < s->n_sets; i++)
		if (strcmp(s->sets[i].name, name) == 0)
			return &s->sets[i];
	return NULL;
}

int hg_state_set_status(const struct hg_state *s, enum hg_key k)
{
	const struct hg_setdef *d = &hg_setdefs[k];
	const struct lset *ls = hg_state_set(s, d->name);

	if (!ls)
		return HG_SET_MISSING;
	if (ls->key_type != d->key_type || ls->key_len != d->key_len || ls->flags != d->flags ||
	    ls->size)
		return HG_SET_WRONG_DEF;
	if (ls->anomaly)
		return HG_SET_ANOMALY;
	return HG_SET_OK;
}

int hg_state_gset_status(const struct hg_state *s, int gs)
{
	const struct hg_gsetdef *d = &hg_gsetdefs[gs];
	const struct lset *ls = hg_state_set(s, d->name);

	if (!ls)
		return HG_SET_MISSING;
	if (ls->key_type != d->key_type || ls->key_len != d->key_len || ls->flags != HG_GSET_FLAGS ||
	    ls->size)
		return HG_SET_WRONG_DEF;
	if (ls->anomaly)
		return HG_SET_ANOMALY;
	return HG_SET_OK;
}

int hg_lset_decode_grants(struct hg_state *s, int gs, struct lset *ls)
{
	struct hg_canon *c = &s->canon;

	free(c->g[gs]);
	c->ng[gs] = 0;
	c->g[gs] = calloc(ls->gn ? ls->gn : 1, sizeof(struct hg_grant));
	if (!c->g[gs])
		return -ENOMEM;
	for (size_t i = 0; i < ls->gn; i++) {
		const struct hg_gkelem *k = &ls->ge[i];
		struct hg_grant g;

		if (!k->has_end || hg_grant_from_keys(gs, k->key, k->key_end, &g) < 0) {
			ls->anomaly = true;
			if (add_anomaly(s, "set %s: an element that is no grant hostguard makes",
					hg_gsetdefs[gs].name) < 0)
				return -ENOMEM;
			continue;
		}
		g.timeout_ms = k->timeout_ms;
		g.expires_ms = k->expires_ms;
		g.src = k->tag.src;
		memcpy(g.name, k->tag.name, sizeof(g.name));
		g.marked = k->tag.marked;
		g.mark = k->tag.mark;
		/* a timeout hostguard did not set (security.md #22): no runtime
		 * grant, an element like any other (check names it, apply
		 * removes it) */
		if (g.timeout_ms && !hg_grant_runtime_ok(&g))
			g.timeout_ms = g.expires_ms = 0;
		c->g[gs][c->ng[gs]++] = g;
	}
	if (c->ng[gs])
		qsort(c->g[gs], c->ng[gs], sizeof(struct hg_grant), hg_grant_cmp);
	return 0;
}

const struct lchain *hg_state_chain(const struct hg_state *s, const char *name)
{
	for (size_t i = 0; i < s->n_chains; i++)
		if (strcmp(s->chains[i].name, name) == 0)
			return &s->chains[i];
	return NULL;
}

int hg_state_check_chain(const struct hg_state *s, int ch, const struct hg_log_settings *log,
			 struct hg_chaincheck *ret)
{
	const char *name = hg_chain_names[ch];
	const struct hg_chaindef *cd = &hg_chaindefs[ch];
	const struct lchain *c = hg_state_chain(s, name);
	struct hg_chaincheck r = { .chain = c, .first_diff = 0 };
	struct nftnl_rule **want;
	size_t n_want, k = 0;
	int err = 0;

	if (!c) {
		r.missing = true;
		*ret = r;
		return 0;
	}
	if (cd->base)
		r.def_differs = !c->base || c->hook != cd->hook || c->prio != cd->prio ||
				c->policy != NF_ACCEPT || strcmp(c->type, "filter") != 0;
	else
		r.def_differs = c->base;
	err = hg_rules_build(ch, log, &want, &n_want);
	if (err < 0)
		return err;
	for (size_t i = 0; i < s->n_rules; i++) {
		char *a, *b;
		if (strcmp(s->rules[i].chain, name) != 0)
			continue;
		if (k >= n_want) {
			k++;
			continue;
		}
		a = hg_rule_canonical(s->rules[i].r, anon_lookup, s);
		b = hg_rule_canonical(want[k], anon_wanted, NULL);
		if (!a || !b)
			err = -ENOMEM;
		else if (strcmp(a, b) != 0 && !r.first_diff)
			r.first_diff = k + 1;
		free(a);
		free(b);
		k++;
	}
	r.n_live = k;
	r.n_want = n_want;
	r.rules_differ = r.first_diff || k != n_want;
	for (size_t i = 0; i < n_want; i++)
		nftnl_rule_free(want[i]);
	free(want);
	if (err)
		return err;
	*ret = r;
	return 0;
}

static void diff_chain(struct lines *l, const struct hg_state *s, int ch,
		       const struct hg_log_settings *log)
{
	const char *name = hg_chain_names[ch];
	const struct hg_chaindef *cd = &hg_chaindefs[ch];
	struct hg_chaincheck r;
	const struct lchain *c;

	if (hg_state_check_chain(s, ch, log, &r) < 0) {
		l->oom = true;
		return;
	}
	c = r.chain;
	if (r.missing) {
		line_add(l, "chain %s: missing", name);
		return;
	}
	if (r.def_differs && cd->base)
		line_add(l, "chain %s: expected 'type filter hook %s priority %d; policy accept', found '%s%s hook %s priority %d; policy %s'",
			 name, hook_name(cd->hook), cd->prio, c->base ? "type " : "not a base chain",
			 c->base ? c->type : "", c->base ? hook_name(c->hook) : "-", c->prio,
			 c->policy == NF_ACCEPT ? "accept" : c->policy == NF_DROP ? "drop" : "?");
	else if (r.def_differs)
		line_add(l, "chain %s: expected a regular chain, found a base chain (hook %s)",
			 name, hook_name(c->hook));
	if (r.first_diff)
		line_add(l, "chain %s: rule %zu differs from hostguard's", name, r.first_diff);
	if (r.n_live != r.n_want)
		line_add(l, "chain %s: %zu rules, expected %zu", name, r.n_live, r.n_want);
}

static int diff_or_delta(const struct hg_state *s, const struct hg_policy *p, bool delta,
			 char ***ret_lines)
{
	struct lines l = { .delta = delta };
	struct hg_canon want;
	int r = hg_canon_from_policy(p, &want, NULL);

	if (r < 0)
		return r;

	/* a dormant table is loaded but sees no packet: the worst drift */
	if (s->table_flags & NFT_TABLE_F_DORMANT)
		line_add(&l, "table inet %s: dormant (flags 0x%x): it filters nothing",
			 HG_TABLE_NAME, s->table_flags);
	else if (s->table_flags)
		line_add(&l, "table inet %s: flags 0x%x, hostguard's table has none",
			 HG_TABLE_NAME, s->table_flags);

	for (int k = 0; k < HG_KEY_MAX; k++) {
		const struct hg_setdef *d = &hg_setdefs[k];
		const struct lset *ls = NULL;
		if (HG_KIND(k) == HG_KIND_GRANT)
			continue;
		for (size_t i = 0; i < s->n_sets; i++)
			if (strcmp(s->sets[i].name, d->name) == 0)
				ls = &s->sets[i];
		if (!ls) {
			line_add(&l, "set %s: missing", d->name);
			continue;
		}
		if (hg_state_set_status(s, k) == HG_SET_WRONG_DEF) {
			line_add(&l, "set %s: type, flags or size differ from hostguard's", d->name);
			continue;
		}
		if (k == HG_KEY_IFACES)
			diff_ifaces(&l, &s->canon, &want);
		else
			diff_ranges(&l, k, &s->canon, &want);
	}
	for (int gs = 0; gs < HG_NGSETS; gs++) {
		int st = hg_state_gset_status(s, gs);
		if (st == HG_SET_MISSING)
			line_add(&l, "set %s: missing", hg_gsetdefs[gs].name);
		else if (st == HG_SET_WRONG_DEF)
			line_add(&l, "set %s: type, flags or size differ from hostguard's", hg_gsetdefs[gs].name);
		else
			diff_grants(&l, gs, &s->canon, &want);
	}
	for (size_t i = 0; i < s->n_anomalies; i++)
		line_add(&l, "%s", s->anomalies[i]);
	for (size_t i = 0; i < s->n_sets; i++) {
		if ((s->sets[i].flags & NFT_SET_ANONYMOUS) || s->sets[i].grant >= 0 ||
		    (hg_key_from_name(s->sets[i].name) >= 0 &&
		     HG_KIND(hg_key_from_name(s->sets[i].name)) != HG_KIND_GRANT))
			continue;
		line_add(&l, "set %s: not part of hostguard", s->sets[i].name);
	}
	for (int ch = 0; ch < HG_NCHAINS; ch++)
		diff_chain(&l, s, ch, &want.log);
	for (size_t i = 0; i < s->n_chains; i++)
		if (!hg_is_our_chain(s->chains[i].name))
			line_add(&l, "chain %s: not part of hostguard", s->chains[i].name);
	for (size_t i = 0; i < s->n_foreign; i++)
		line_add(&l, "%s %s: not part of hostguard",
			 s->foreign[i].delmsg == NFT_MSG_DELFLOWTABLE ? "flowtable" : "object",
			 s->foreign[i].name);
	hg_canon_clear(&want);
	if (l.oom) {
		hg_lines_free(l.v, l.n);
		return -ENOMEM;
	}
	*ret_lines = l.v;
	return (int)l.n;
}

HG_EXPORT int hg_state_diff(const struct hg_state *s, const struct hg_policy *p, char ***ret_lines)
{
	if (!s || !p || !ret_lines)
		return -EINVAL;
	return diff_or_delta(s, p, false, ret_lines);
}

HG_EXPORT int hg_state_delta(const struct hg_state *s, const struct hg_policy *p, char ***ret_lines)
{
	if (!s || !p || !ret_lines)
		return -EINVAL;
	return diff_or_delta(s, p, true, ret_lines);
}
