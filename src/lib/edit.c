/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Edits of one set in the live table: only the named elements change, in
 * one transaction guarded by the ruleset generation.
 *
 * For uids and gids each named id is looked up on its own (a non-dump
 * GETSETELEM), so the cost does not grow with the size of the set.  Port
 * and interface sets are read whole (they are small by nature: at most
 * 65,535 ports) because an edit there can merge or split intervals.
 */
#include <arpa/inet.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>

#include "state.h"

#define MAX_ATTEMPTS 10

static int parse_all(enum hg_key k, const char *const *tokens, size_t n, struct hg_range **ret,
		     struct hg_error *err)
{
	struct hg_range *v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		return hg_err(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		int r = hg_value_parse(k, tokens[i], &v[i].lo, &v[i].hi, err);
		if (r < 0) {
			free(v);
			return r;
		}
	}
	*ret = v;
	return 0;
}

/* ids: look each one up, then add the absent / delete the present ones */
static int plan_ids(struct hg_nl *nl, struct hg_batch *b, enum hg_key k, enum hg_edit op,
		    const struct hg_range *ids, size_t n, size_t *changes)
{
	struct hg_unit *u = calloc(n ? n : 1, sizeof(*u));
	size_t m = 0;
	int r = 0;

	if (!u)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		unsigned char key[IFNAMSIZ_] = { 0 };
		bool dup = false;

		memcpy(key, &ids[i].lo, 4);
		for (size_t j = 0; j < m; j++)
			dup |= memcmp(u[j].start, key, 4) == 0;
		if (dup)
			continue;
		r = hg_set_has_key(nl, k, key);
		if (r < 0)
			goto out;
		if ((op == HG_EDIT_ADD) != (r == 1))
			memcpy(u[m++].start, key, IFNAMSIZ_);
	}
	r = 0;
	if (m)
		r = hg_batch_units(b, k, u, m, op == HG_EDIT_ADD ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM);
	*changes += m;
out:
	free(u);
	return r;
}

/* live minus [lo, hi]; v has room for n + 1 ranges */
static size_t subtract(struct hg_range *v, size_t n, uint32_t lo, uint32_t hi)
{
	struct hg_range out[2];
	size_t m = 0, k = 0;

	for (size_t i = 0; i < n; i++) {
		struct hg_range x = v[i];
		if (x.hi < lo || x.lo > hi) {
			v[m++] = x;
			continue;
		}
		k = 0;
		if (x.lo < lo)
			out[k++] = (struct hg_range){ x.lo, lo - 1 };
		if (x.hi > hi)
			out[k++] = (struct hg_range){ hi + 1, x.hi };
		/* at most one range splits in two, and only when it is the
		 * only one touched: there is always room */
		for (size_t j = 0; j < k; j++)
			v[m++] = out[j];
	}
	return hg_ranges_normalize(v, m, true);
}

static int plan_ports(struct hg_batch *b, enum hg_key k, enum hg_edit op, struct hg_state *s,
		      const struct hg_range *req, size_t n, size_t *changes)
{
	struct hg_canon want = { 0 };
	size_t live_n = s->canon.n[k], m = live_n;
	int r;

	want.r[k] = calloc(live_n + n + 1, sizeof(struct hg_range));
	if (!want.r[k])
		return -ENOMEM;
	if (live_n)
		memcpy(want.r[k], s->canon.r[k], live_n * sizeof(struct hg_range));
	for (size_t i = 0; i < n; i++) {
		if (op == HG_EDIT_ADD) {
			want.r[k][m++] = req[i];
			m = hg_ranges_normalize(want.r[k], m, true);
		} else {
			m = subtract(want.r[k], m, req[i].lo, req[i].hi);
		}
	}
	want.n[k] = m;
	r = hg_batch_diff(b, k, &s->canon, &want, changes);
	hg_canon_clear(&want);
	return r;
}

static int plan_ifaces(struct hg_batch *b, enum hg_edit op, struct hg_state *s,
		       const char *const *tokens, size_t n, size_t *changes, struct hg_error *err)
{
	struct hg_policy *p = hg_policy_new();
	struct hg_canon want = { 0 };
	int r = 0;

	if (!p)
		return -ENOMEM;
	for (size_t i = 0; r == 0 && i < s->canon.n_if; i++)
		r = hg_policy_add(p, HG_KEY_IFACES, s->canon.ifnames[i], err);
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = op == HG_EDIT_ADD ? hg_policy_add(p, HG_KEY_IFACES, tokens[i], err)
				      : hg_policy_remove(p, HG_KEY_IFACES, tokens[i], err);
	if (r < 0)
		goto out;
	/* validates too: a new pattern overlapping a live one is named */
	r = hg_canon_from_policy(p, &want, err);
	if (r < 0)
		goto out;
	r = hg_batch_diff(b, HG_KEY_IFACES, &s->canon, &want, changes);
out:
	hg_canon_clear(&want);
	hg_policy_free(p);
	return r;
}

HG_EXPORT int hg_edit_table(struct hg_nl *nl, enum hg_key k, enum hg_edit op,
			    const char *const *tokens, size_t n, struct hg_error *err)
{
	struct hg_range *req = NULL;
	int r;

	if ((unsigned)k >= HG_KEY_MAX)
		return hg_err(err, -EINVAL, "invalid key");
	r = parse_all(k, tokens, n, &req, err);
	if (r < 0)
		return r;
	for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
		struct hg_state *s = NULL;
		struct hg_batch b;
		size_t changes = 0;
		uint32_t gen;

		r = hg_nl_genid(nl, &gen);
		if (r == 0)
			r = hg_state_read_set(nl, k, k != HG_KEY_UIDS && k != HG_KEY_GIDS, &s);
		if (r < 0)
			break;
		r = hg_batch_begin(&b, nl, gen);
		if (r == 0) {
			if (k == HG_KEY_UIDS || k == HG_KEY_GIDS)
				r = plan_ids(nl, &b, k, op, req, n, &changes);
			else if (k == HG_KEY_IFACES)
				r = plan_ifaces(&b, op, s, tokens, n, &changes, err);
			else
				r = plan_ports(&b, k, op, s, req, n, &changes);
		}
		hg_state_free(s);
		if (r < 0 || changes == 0) {
			hg_batch_free(&b);
			break;
		}
		r = hg_batch_send(nl, &b, true, err);
		hg_batch_free(&b);
		if (r == -ERESTART)
			continue;
		if (r == 0)
			r = (int)(changes < INT32_MAX ? changes : INT32_MAX);
		free(req);
		return r;
	}
	free(req);
	switch (r) {
	case 0:
		return 0;
	case -ENOENT:
		return hg_err(err, -ENOENT, "table inet %s is not loaded", HG_TABLE_NAME);
	case -ESRCH:
		return hg_err(err, -ESRCH, "set %s is missing from table inet %s; run 'hostguard apply'",
			      hg_setdefs[k].name, HG_TABLE_NAME);
	case -EBADSLT:
		return hg_err(err, -EBADSLT, "set %s of table inet %s was changed by someone else; run 'hostguard apply'",
			      hg_setdefs[k].name, HG_TABLE_NAME);
	case -EPERM:
		return hg_err_perm(err);
	case -ERESTART:
		return hg_err(err, -EBUSY, "the ruleset kept changing; gave up after %d attempts", MAX_ATTEMPTS);
	default:
		if (err && err->code == r)
			return r;
		return hg_err(err, r, "cannot edit set %s: %s", hg_setdefs[k].name, strerror(-r));
	}
}
