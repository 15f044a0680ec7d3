/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Checking the live sets' definitions and chains against hostguard's. */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/rule.h>

#include "state.h"

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
	if (!hg_lset_is(ls, d->key_type, d->key_len, d->flags) || ls->size)
		return HG_SET_WRONG_DEF;
	if (ls->anomaly)
		return HG_SET_ANOMALY;
	return HG_SET_OK;
}

bool hg_lset_is(const struct lset *ls, uint32_t key_type, uint32_t key_len, uint32_t flags)
{
	return ls->key_type == key_type && ls->key_len == key_len && ls->flags == flags && !ls->timeout &&
	       !ls->gc_interval && !ls->exprs;
}

/* the status of physical grant set ps */
int hg_state_gset_status(const struct hg_state *s, int ps)
{
	const struct hg_psetdef *d = &hg_psetdefs[ps];
	const struct lset *ls = hg_state_set(s, d->name);

	if (!ls)
		return HG_SET_MISSING;
	if (!hg_lset_is(ls, d->key_type, d->key_len, d->flags) || ls->size)
		return HG_SET_WRONG_DEF;
	if (ls->anomaly)
		return HG_SET_ANOMALY;
	return HG_SET_OK;
}

const struct lchain *hg_state_chain(const struct hg_state *s, const char *name)
{
	for (size_t i = 0; i < s->n_chains; i++)
		if (strcmp(s->chains[i].name, name) == 0)
			return &s->chains[i];
	return NULL;
}

static int kelem_cmp(const void *a, const void *b)
{
	const struct hg_kelem *x = a, *y = b;
	int c = memcmp(x->key, y->key, sizeof(x->key));

	return c ? c : (int)x->end - (int)y->end;
}

/* An anonymous set as text: its definition (flags tell a map or an
 * interval set), what an element may carry beyond its key, and its
 * elements whole, in order.  Both sides print the same way. */
static void anon_print(FILE *f, uint32_t flags, uint32_t key_type, uint32_t key_len,
		       const struct lset *ls, const struct hg_kelem *e, size_t n)
{
	fprintf(f, "{flags %u type %u len %u", flags, key_type, key_len);
	if (ls && (ls->timeout || ls->gc_interval || ls->exprs || ls->foreign))
		fprintf(f, " timeout %llu gc %u exprs %d foreign %d", (unsigned long long)ls->timeout,
			ls->gc_interval, ls->exprs, ls->foreign);
	for (size_t i = 0; i < n; i++) {
		fputc(' ', f);
		for (size_t j = 0; j < key_len && j < sizeof(e[i].key); j++)
			fprintf(f, "%02x", e[i].key[j]);
		if (e[i].end)
			fputs("/end", f);
	}
	fputc('}', f);
}

/* An anonymous set's contents, for the canonical text of the rule that
 * uses it: its kernel-chosen name differs from table to table.  All of
 * it: a catch-all element, an element with a counter or an interval end
 * would otherwise read as hostguard's own set (security.md #30). */
static void anon_lookup(FILE *f, const char *name, const void *data)
{
	const struct hg_state *s = data;

	for (size_t i = 0; i < s->n_sets; i++) {
		const struct lset *ls = &s->sets[i];
		struct hg_kelem *e;

		if (strcmp(ls->name, name) != 0)
			continue;
		e = ls->n ? malloc(ls->n * sizeof(*e)) : NULL;
		if (ls->n && !e) {
			fputs("{?}", f);
			continue;
		}
		if (ls->n)
			memcpy(e, ls->e, ls->n * sizeof(*e));
		qsort(e, ls->n, sizeof(*e), kelem_cmp);
		anon_print(f, ls->flags, ls->key_type, ls->key_len, ls, e, ls->n);
		free(e);
	}
}

/* What hostguard's only anonymous set holds. */
static void anon_wanted(FILE *f, const char *name, const void *data)
{
	struct hg_kelem e[ARRAY_SIZE(hg_icmpv6_nd_types)] = { 0 };

	(void)name;
	(void)data;
	for (size_t i = 0; i < ARRAY_SIZE(hg_icmpv6_nd_types); i++)
		e[i].key[0] = hg_icmpv6_nd_types[i];
	qsort(e, ARRAY_SIZE(e), sizeof(*e), kelem_cmp);
	anon_print(f, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT, HG_TYPE_ICMP6_TYPE, 1, NULL, e, ARRAY_SIZE(e));
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
