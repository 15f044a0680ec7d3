/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The table as read back: freeing it and the public accessors. */
#include <stdio.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>

#include "state.h"

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

HG_EXPORT size_t hg_state_count(const struct hg_state *s, enum hg_key key)
{
	size_t n = 0;

	if (!s || (unsigned)key >= HG_KEY_MAX)
		return 0;
	if (HG_KIND(key) == HG_KIND_GRANT) {
		for (int gs = 0; gs < HG_NGSETS; gs++)
			if (hg_gsetdefs[gs].key == key)
				n += s->canon.ng[gs];
		return n;
	}
	return HG_KIND(key) == HG_KIND_IFNAME ? s->canon.n_if : s->canon.n[key];
}

HG_EXPORT size_t hg_state_grant_count(const struct hg_state *s)
{
	size_t n = 0;

	for (int gs = 0; s && gs < HG_NGSETS; gs++)
		n += s->canon.ng[gs];
	return n;
}

/* Grant i of the four grant sets in their order, and its set. */
static const struct hg_grant *grant_at(const struct hg_state *s, size_t i, int *ret_gs)
{
	for (int gs = 0; gs < HG_NGSETS; gs++) {
		if (i < s->canon.ng[gs]) {
			*ret_gs = gs;
			return &s->canon.g[gs][i];
		}
		i -= s->canon.ng[gs];
	}
	return NULL;
}

HG_EXPORT int hg_state_grant(const struct hg_state *s, size_t i, struct hg_grant_info *ret)
{
	const struct hg_grant *g;
	int gs;

	if (!s || !ret)
		return -EINVAL;
	if (!(g = grant_at(s, i, &gs)))
		return -ENOENT;
	memset(ret, 0, sizeof(*ret));
	ret->gid = hg_gsetdefs[gs].key == HG_KEY_GRANT_GIDS;
	ret->id = g->id;
	ret->timeout_ms = g->timeout_ms;
	ret->expires_ms = g->expires_ms;
	return hg_grant_format(g, ret->text, sizeof(ret->text));
}

HG_EXPORT int hg_state_grant_origin(const struct hg_state *s, size_t i, struct hg_grant_origin *ret)
{
	const struct hg_grant *g;
	int gs;

	if (!s || !ret)
		return -EINVAL;
	if (!(g = grant_at(s, i, &gs)))
		return -ENOENT;
	memset(ret, 0, sizeof(*ret));
	ret->source = (enum hg_grant_source)g->src;
	memcpy(ret->container, g->name, sizeof(ret->container));
	return 0;
}

HG_EXPORT void hg_state_range(const struct hg_state *s, enum hg_key key, size_t i,
			      uint32_t *ret_lo, uint32_t *ret_hi)
{
	if (!s || !ret_lo || !ret_hi || (unsigned)key >= HG_KEY_MAX || HG_KIND(key) == HG_KIND_IFNAME ||
	    i >= s->canon.n[key])
		return;
	*ret_lo = s->canon.r[key][i].lo;
	*ret_hi = s->canon.r[key][i].hi;
}

HG_EXPORT const char *hg_state_iface(const struct hg_state *s, size_t i)
{
	return s && i < s->canon.n_if ? s->canon.ifnames[i] : NULL;
}

HG_EXPORT int hg_state_log_group(const struct hg_state *s)
{
	int group = -1;

	if (!s)
		return -EINVAL;
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

	if (!s || !ret_packets || !ret_bytes || (unsigned)chain >= HG_CHAIN_MAX)
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
