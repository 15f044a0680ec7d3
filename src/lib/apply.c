/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * apply: bring the live table to the policy in one transaction.
 *
 * The table is changed in place, never deleted and re-created: a set that
 * is created anew is, on the kernels tested (6.18), briefly seen empty by
 * packets right after the commit, so a "delete table; add table" replace
 * lets a few packets of a non-allowed uid through (tests/netns/apply-loop
 * shows it for "nft -f" too).  Elements are added and removed, chains are
 * flushed and refilled only when their rules differ, and a set is only
 * re-created when someone changed its type.
 *
 * The plan is computed from a snapshot taken at generation G and sent with
 * NFNL_BATCH_GENID = G: if anything changed the ruleset in between, the
 * kernel refuses the whole batch with ERESTART, and we read and plan again.
 */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>

#include "state.h"


static int plan_set_fill(struct hg_batch *b, enum hg_key k, const struct hg_canon *want)
{
	struct hg_unit *u;
	size_t n;
	int r = hg_batch_set(b, k);

	if (r == 0)
		r = hg_units_from_canon(want, k, &u, &n);
	if (r == 0) {
		r = hg_batch_units(b, k, u, n, NFT_MSG_NEWSETELEM, 0);
		free(u);
	}
	return r;
}

/* The changes that turn the live table s into want; *changes counts them. */
static int plan_update(struct hg_batch *b, struct hg_state *s, const struct hg_canon *want,
		       unsigned flags, size_t *changes)
{
	struct hg_chaincheck cc[HG_NCHAINS];
	int status[HG_KEY_MAX], gstatus[HG_NPSETS];
	bool refill[HG_NCHAINS], unbind = false;
	int r = 0;

	/* flags (a dormant table): NEWTABLE with flags 0 wakes it, in the
	 * same transaction as everything else */
	if (s->table_flags) {
		r = hg_batch_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE);
		if (r < 0)
			return r;
		(*changes)++;
	}
	for (int ps = 0; ps < HG_NPSETS; ps++) {
		gstatus[ps] = hg_state_gset_status(s, ps);
		unbind |= gstatus[ps] == HG_SET_WRONG_DEF || gstatus[ps] == HG_SET_ANOMALY;
	}
	for (int k = 0; k < HG_KEY_MAX; k++) {
		status[k] = HG_KIND(k) == HG_KIND_GRANT ? HG_SET_OK : hg_state_set_status(s, k);
		unbind |= status[k] == HG_SET_WRONG_DEF || status[k] == HG_SET_ANOMALY;
	}
	for (size_t i = 0; i < s->n_sets; i++)
		unbind |= s->sets[i].key < 0 && s->sets[i].grant < 0 &&
			  !(s->sets[i].flags & NFT_SET_ANONYMOUS);
	for (size_t i = 0; i < s->n_chains; i++)
		unbind |= !hg_is_our_chain(s->chains[i].name);
	unbind |= s->n_foreign > 0;
	for (int ch = 0; ch < HG_NCHAINS; ch++) {
		r = hg_state_check_chain(s, ch, &want->log, &cc[ch]);
		if (r < 0)
			return r;
	}
	/* A set or chain about to be deleted may be referenced by a rule:
	 * then every rule goes and comes back in the same transaction.  A
	 * regular chain that is re-created takes its base chain's jump along. */
	for (int ch = 0; ch < HG_NCHAINS; ch++)
		refill[ch] = cc[ch].missing || cc[ch].def_differs || cc[ch].rules_differ || unbind;
	/* zeroing the counters is re-creating their rules (the regular
	 * chains hold them), in this same transaction */
	if (flags & HG_APPLY_RESET_COUNTERS)
		for (int ch = 0; ch < HG_NCHAINS; ch++)
			refill[ch] |= !hg_chaindefs[ch].base;
	for (int ch = 0; ch < HG_NCHAINS; ch++)
		if (!hg_chaindefs[ch].base && (cc[ch].missing || cc[ch].def_differs))
			refill[hg_chaindefs[ch].parent] = true;
	/* base chains first: their jumps go before the chains they name */
	for (int ch = 0; ch < HG_NCHAINS; ch++) {
		if (!refill[ch] || cc[ch].missing)
			continue;
		r = hg_batch_delete(b, cc[ch].def_differs ? NFT_MSG_DELCHAIN : NFT_MSG_DELRULE,
				    hg_chain_names[ch]);
		if (r < 0)
			return r;
		(*changes)++;
	}
	for (size_t i = 0; i < s->n_chains && r == 0; i++) {
		if (hg_is_our_chain(s->chains[i].name))
			continue;
		r = hg_batch_delete(b, NFT_MSG_DELCHAIN, s->chains[i].name);
		(*changes)++;
	}
	/* after the rules that might use them are gone */
	for (size_t i = 0; i < s->n_foreign && r == 0; i++) {
		r = hg_batch_delete_foreign(b, s->foreign[i].delmsg,
					    s->foreign[i].objtype, s->foreign[i].name);
		(*changes)++;
	}
	for (size_t i = 0; i < s->n_sets && r == 0; i++) {
		if (s->sets[i].key >= 0 || s->sets[i].grant >= 0 ||
		    (s->sets[i].flags & NFT_SET_ANONYMOUS))
			continue;
		/* a set of our name but a foreign type: re-created below */
		r = hg_batch_delete(b, NFT_MSG_DELSET, s->sets[i].name);
		(*changes)++;
	}
	for (int gs = 0; gs < HG_NGSETS && r == 0; gs++) {
		bool fresh[HG_NGSHAPES] = { false };

		for (int shape = 0; shape < HG_NGSHAPES && r == 0; shape++) {
			int ps = HG_PSET(gs, shape);

			switch (gstatus[ps]) {
			case HG_SET_OK:
				break;
			case HG_SET_WRONG_DEF:
			case HG_SET_ANOMALY:
				/* runtime grants in a set someone changed are lost */
				r = hg_batch_delete(b, NFT_MSG_DELSET, hg_psetdefs[ps].name);
				/* fall through */
			case HG_SET_MISSING:
				/* (the previous release's table has no hash sets:
				 * created here, its grants move in below) */
				if (r == 0)
					r = hg_batch_gset(b, ps);
				fresh[shape] = true;
				(*changes)++;
				break;
			}
		}
		if (r == 0)
			r = hg_batch_grant_diff(b, gs, &s->canon, want, fresh, changes);
	}
	for (int k = 0; k < HG_KEY_MAX && r == 0; k++) {
		if (HG_KIND(k) == HG_KIND_GRANT)
			continue;
		switch (status[k]) {
		case HG_SET_OK:
			r = hg_batch_diff(b, k, &s->canon, want, changes);
			break;
		case HG_SET_WRONG_DEF:
		case HG_SET_ANOMALY:
			if (hg_state_set(s, hg_setdefs[k].name)->key >= 0)
				r = hg_batch_delete(b, NFT_MSG_DELSET, hg_setdefs[k].name);
			/* fall through */
		case HG_SET_MISSING:
			if (r == 0)
				r = plan_set_fill(b, k, want);
			(*changes)++;
			break;
		}
	}
	/* every chain that is (re-)created before any rule that jumps to it */
	for (int ch = 0; ch < HG_NCHAINS && r == 0; ch++)
		if (refill[ch] && (cc[ch].missing || cc[ch].def_differs))
			r = hg_batch_chain(b, ch);
	for (int ch = 0; ch < HG_NCHAINS && r == 0; ch++) {
		if (!refill[ch])
			continue;
		r = hg_batch_rules(b, ch, &want->log);
		(*changes)++;
	}
	return r;
}

struct apply_ctx {
	const struct hg_canon *want;
	const struct hg_policy *p;
	unsigned flags;
	bool report;
	char **delta;             /* of the last plan that had changes */
	size_t n_delta;
};

static int plan_apply(struct hg_nl *nl, struct hg_batch *b, void *data, struct hg_error *err)
{
	struct apply_ctx *ctx = data;
	const struct hg_canon *want = ctx->want;
	char **lines = NULL;
	struct hg_state *s = NULL;
	size_t changes = 0;
	uint32_t gen;
	int r;

	r = hg_state_read(nl, &s, err);
	if (r == -ENOENT) {
		/* no table: created whole, guarded by the generation at which
		 * it was seen missing */
		r = hg_nl_plan_genid(nl, &gen);
		if (r < 0)
			return r == -EPERM ? hg_err_perm(err)
					   : hg_err(err, r, "cannot read the ruleset generation: %s", strerror(-r));
		r = hg_batch_begin(b, nl, gen);
		if (r == 0)
			r = hg_batch_full_table(b, want);
		changes = 1;
		if (r == 0 && ctx->report) {
			char *line = strdup("~ table inet " HG_TABLE_NAME ": created");
			lines = line ? calloc(1, sizeof(*lines)) : NULL;
			if (!lines) {
				free(line);
				r = -ENOMEM;
			} else {
				lines[0] = line;
				hg_lines_free(ctx->delta, ctx->n_delta);
				ctx->delta = lines;
				ctx->n_delta = 1;
			}
		}
	} else if (r == 0) {
		r = hg_batch_begin(b, nl, s->genid);
		if (r == 0)
			r = plan_update(b, s, want, ctx->flags, &changes);
		if (r == 0 && changes && ctx->report) {
			int n = hg_state_delta(s, ctx->p, &lines);
			if (n < 0) {
				r = n;
			} else {
				hg_lines_free(ctx->delta, ctx->n_delta);
				ctx->delta = lines;
				ctx->n_delta = (size_t)n;
			}
		}
	} else {
		return r;  /* err filled by hg_state_read() */
	}
	hg_state_free(s);
	if (r < 0)
		return hg_err(err, r, "cannot build the transaction: %s", strerror(-r));
	return changes > INT32_MAX ? INT32_MAX : (int)changes;
}

HG_EXPORT int hg_apply_flags(struct hg_nl *nl, const struct hg_policy *p, unsigned flags,
			     char ***ret_delta, size_t *ret_n, struct hg_error *err)
{
	struct hg_canon want;
	struct apply_ctx ctx = { .want = &want, .p = p, .flags = flags, .report = ret_delta != NULL };
	int r;

	if (!nl || !p || (flags & ~HG_APPLY_RESET_COUNTERS) || (ret_delta && !ret_n))
		return hg_err(err, -EINVAL, "invalid argument");
	r = hg_canon_from_policy(p, &want, err);
	if (r < 0)
		return r;
	r = hg_transact(nl, plan_apply, &ctx, err);
	hg_canon_clear(&want);
	if (ret_delta && r > 0) {
		*ret_delta = ctx.delta;
		*ret_n = ctx.n_delta;
	} else {
		hg_lines_free(ctx.delta, ctx.n_delta);
		if (ret_delta) {
			*ret_delta = NULL;
			*ret_n = 0;
		}
	}
	return r > 0 ? 1 : r;
}

HG_EXPORT int hg_apply(struct hg_nl *nl, const struct hg_policy *p, struct hg_error *err)
{
	return hg_apply_flags(nl, p, 0, NULL, NULL, err);
}
