/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Checking the live sets' definitions and chains against hostguard's. */
#include <linux/netfilter.h>
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
