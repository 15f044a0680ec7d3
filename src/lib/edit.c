/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Edits of one set in the live table: only the named elements change, in
 * one transaction guarded by the ruleset generation.
 *
 * For uids and gids the named ids go in as they are, the additions with
 * NLM_F_EXCL: the kernel refuses the batch when the set already holds one
 * (-EEXIST), or lacks one that is to go (-ENOENT), and only then is each
 * id looked up on its own (a non-dump GETSETELEM) and the edit planned
 * again.  Neither costs more with the size of the set.  Port and interface
 * sets are read whole (they are small by nature: at most 65,535 ports)
 * because an edit there can merge or split intervals.
 */
#include <arpa/inet.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>

#include "state.h"


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

/* ids: each one once; with lookup, only the absent ones added / the
 * present ones deleted, else all of them (see the top of the file) */
static int plan_ids(struct hg_nl *nl, struct hg_batch *b, enum hg_key k, enum hg_edit op,
		    const struct hg_range *ids, size_t n, bool lookup, size_t *changes)
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
		r = lookup ? hg_set_has_key(nl, k, key) : op == HG_EDIT_REMOVE;
		if (r < 0)
			goto out;
		if ((op == HG_EDIT_ADD) != (r == 1))
			memcpy(u[m++].start, key, IFNAMSIZ_);
	}
	r = 0;
	if (m)
		r = hg_batch_units(b, k, u, m, op == HG_EDIT_ADD ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
				   op == HG_EDIT_ADD ? NLM_F_EXCL : 0);
	*changes += m;
out:
	free(u);
	return r;
}

static int plan_ports(struct hg_batch *b, enum hg_key k, enum hg_edit op, struct hg_state *s,
		      const struct hg_range *req, size_t n, size_t *changes)
{
	struct hg_canon want = { 0 };
	size_t live_n = s->canon.n[k];
	int r;

	want.r[k] = calloc(live_n + n + 1, sizeof(struct hg_range));
	if (!want.r[k])
		return -ENOMEM;
	if (live_n)
		memcpy(want.r[k], s->canon.r[k], live_n * sizeof(struct hg_range));
	want.n[k] = hg_ranges_edit(want.r[k], live_n, op, req, n);
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

struct edit_ctx {
	enum hg_key k;
	enum hg_edit op;
	const struct hg_range *req;
	const char *const *tokens;
	size_t n;
	uint64_t timeout_ms;
	const struct hg_policy *resolver;   /* container names: their addresses */
	bool names_removed;                 /* a name grant is revoked: read the elements */
	bool lookup;                        /* ids: look each one up first */
	bool planned;                       /* a batch went out: its errors are the kernel's */
};

/*
 * The grants a token stands for: itself (an address), the addresses of a
 * container name now (adding), or every live element of that principal and
 * ports commented with the name, wherever the container was (revoking).
 */
static int expand_grant(const struct edit_ctx *c, const struct hg_state *s, const struct hg_grant *g,
			struct hg_grant **v, size_t *n, size_t *cap)
{
	if (g->src != HG_GRANT_NAME)
		return hg_grants_push(v, n, cap, g);
	if (c->op == HG_EDIT_ADD)
		return hg_grant_resolve(c->resolver, g, v, n, cap);
	for (int gs = 0; gs < HG_NGSETS; gs++) {
		if (hg_gsetdefs[gs].key != c->k)
			continue;
		for (size_t i = 0; i < s->canon.ng[gs]; i++) {
			const struct hg_grant *x = &s->canon.g[gs][i];
			if (x->src == HG_GRANT_NAME && x->id == g->id && x->p_lo == g->p_lo &&
			    x->p_hi == g->p_hi && strcmp(x->name, g->name) == 0 &&
			    hg_grants_push(v, n, cap, x) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/*
 * grants: each one looked up on its own.  Adding one that is there without
 * a timeout changes nothing; one that is there with a timeout is replaced
 * (a new --for restarts its clock, a persistent grant makes it permanent).
 */
static int plan_grants(struct hg_nl *nl, struct hg_batch *b, const struct edit_ctx *c,
		       const struct hg_state *s, size_t *changes, struct hg_error *err)
{
	struct hg_grant *del[HG_NGSETS] = { 0 }, *add[HG_NGSETS] = { 0 }, *want = NULL;
	size_t nd[HG_NGSETS] = { 0 }, na[HG_NGSETS] = { 0 }, nw = 0, wcap = 0, extra = 0;
	int r = 0;

	for (size_t i = 0; i < c->n && r == 0; i++) {
		struct hg_grant g;

		r = hg_grant_parse(c->k, c->tokens[i], &g, err);
		if (r == 0 && g.src == HG_GRANT_NAME && !c->resolver)
			r = hg_err(err, -EINVAL, "invalid grant '%s': a container name needs Docker", c->tokens[i]);
		if (r == 0 && expand_grant(c, s, &g, &want, &nw, &wcap) < 0)
			r = -ENOMEM;
	}
	if (r < 0)
		goto out;
	for (int gs = 0; gs < HG_NGSETS; gs++) {
		del[gs] = calloc(HG_NGSHAPES * nw + 1, sizeof(struct hg_grant));
		add[gs] = calloc(nw + 1, sizeof(struct hg_grant));
		if (!del[gs] || !add[gs]) {
			r = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < nw && r == 0; i++) {
		struct hg_grant g = want[i];
		uint64_t tmo = 0;
		unsigned shapes = 0, permanent = 0, own;
		bool dup = false;
		int gs;

		gs = (c->k == HG_KEY_GRANT_GIDS ? 2 : 0) + g.v6;
		for (size_t j = 0; j < na[gs]; j++)
			dup |= hg_grant_equal(&add[gs][j], &g);
		for (size_t j = 0; j < nd[gs]; j++)
			dup |= c->op == HG_EDIT_REMOVE && hg_grant_equal(&del[gs][j], &g);
		if (dup)
			continue;
		r = hg_gset_lookup(nl, gs, &g, &tmo, &shapes, &permanent);
		if (r < 0)
			goto out;
		r = 0;
		/* a --for never shortens a grant held without a timeout in
		 * another set than its own (the previous release's layout keeps
		 * a config grant in the interval set: replaced by an expiring
		 * one, the config's grant would be gone once it expired); it is
		 * left where it is, for apply to move */
		if (c->op == HG_EDIT_ADD && c->timeout_ms && permanent &&
		    !(permanent & (1u << hg_grant_shape(&g))))
			continue;
		own = shapes & (1u << hg_grant_shape(&g));
		/* revoking: every copy goes, wherever it is.  Adding: one in its
		 * set without a timeout stays; one expiring or elsewhere is
		 * replaced by one in its set; copies elsewhere go. */
		if (c->op == HG_EDIT_ADD && own && !tmo)
			shapes &= ~own;
		for (int sh = 0; sh < HG_NGSHAPES; sh++) {
			if (!(shapes & (1u << sh)))
				continue;
			g.where = (uint8_t)sh;
			del[gs][nd[gs]++] = g;
			extra += c->op == HG_EDIT_ADD && own && !tmo;
		}
		if (c->op == HG_EDIT_ADD && (!own || tmo))
			add[gs][na[gs]++] = g;
	}
	for (int gs = 0; gs < HG_NGSETS && r == 0; gs++) {
		if (nd[gs])
			r = hg_batch_grants(b, gs, del[gs], nd[gs], NFT_MSG_DELSETELEM, 0);
		if (r == 0 && na[gs])
			r = hg_batch_grants(b, gs, add[gs], na[gs], NFT_MSG_NEWSETELEM, c->timeout_ms);
		*changes += c->op == HG_EDIT_REMOVE ? nd[gs] : na[gs];
	}
	*changes += extra;
out:
	for (int gs = 0; gs < HG_NGSETS; gs++) {
		free(del[gs]);
		free(add[gs]);
	}
	free(want);
	return r;
}

/* Reads the set at a generation and plans the edit.  The codes that
 * hg_edit_table() turns into sentences (-ENOENT, -ESRCH, -EBADSLT, -EPERM)
 * come back bare; every other failure is named here. */
static int plan_edit(struct hg_nl *nl, struct hg_batch *b, void *data, struct hg_error *err)
{
	struct edit_ctx *c = data;
	enum hg_key k = c->k;
	struct hg_state *s = NULL;
	size_t changes = 0;
	uint32_t gen;
	int r;

	c->planned = false;
	r = hg_nl_plan_genid(nl, &gen);
	if (r == 0)
		r = HG_KIND(k) == HG_KIND_GRANT ? (c->names_removed ? hg_state_read(nl, &s, NULL)
								    : hg_state_read_gsets(nl, &s))
						: hg_state_read_set(nl, k, HG_KIND(k) != HG_KIND_ID, &s);
	if (r == -ENOENT || r == -ESRCH || r == -EBADSLT || r == -EPERM)
		return r;
	if (r < 0)
		return hg_err(err, r, "cannot read set %s: %s", hg_setdefs[k].name, strerror(-r));
	r = hg_batch_begin(b, nl, gen);
	if (r == 0) {
		if (HG_KIND(k) == HG_KIND_GRANT)
			r = plan_grants(nl, b, c, s, &changes, err);
		else if (HG_KIND(k) == HG_KIND_ID)
			r = plan_ids(nl, b, k, c->op, c->req, c->n, c->lookup, &changes);
		else if (HG_KIND(k) == HG_KIND_IFNAME)
			r = plan_ifaces(b, c->op, s, c->tokens, c->n, &changes, err);
		else
			r = plan_ports(b, k, c->op, s, c->req, c->n, &changes);
	}
	hg_state_free(s);
	c->planned = r >= 0;
	if (r < 0) {
		/* plan_ifaces names a refused pattern itself */
		if (r == -EINVAL)
			return r;
		return hg_err(err, r, "cannot edit set %s: %s", hg_setdefs[k].name, strerror(-r));
	}
	return changes > INT32_MAX ? INT32_MAX : (int)changes;
}

static int edit_table(struct hg_nl *nl, enum hg_key k, enum hg_edit op, const char *const *tokens,
		      size_t n, uint64_t timeout_ms, const struct hg_policy *resolver,
		      struct hg_error *err);

HG_EXPORT int hg_edit_table(struct hg_nl *nl, enum hg_key k, enum hg_edit op,
			    const char *const *tokens, size_t n, struct hg_error *err)
{
	return hg_edit_table_for(nl, k, op, tokens, n, 0, err);
}

HG_EXPORT int hg_edit_table_for(struct hg_nl *nl, enum hg_key k, enum hg_edit op,
				const char *const *tokens, size_t n, uint64_t timeout_ms,
				struct hg_error *err)
{
	return edit_table(nl, k, op, tokens, n, timeout_ms, NULL, err);
}

HG_EXPORT int hg_edit_grants(struct hg_nl *nl, enum hg_key k, enum hg_edit op,
			     const char *const *tokens, size_t n, const struct hg_policy *resolver,
			     struct hg_error *err)
{
	if ((unsigned)k >= HG_KEY_MAX || HG_KIND(k) != HG_KIND_GRANT)
		return hg_err(err, -EINVAL, "invalid key");
	return edit_table(nl, k, op, tokens, n, 0, resolver, err);
}

static int edit_table(struct hg_nl *nl, enum hg_key k, enum hg_edit op, const char *const *tokens,
		      size_t n, uint64_t timeout_ms, const struct hg_policy *resolver,
		      struct hg_error *err)
{
	struct hg_range *req = NULL;
	bool names_removed = false;
	int r;

	if (!nl || (n && !tokens) || (op != HG_EDIT_ADD && op != HG_EDIT_REMOVE))
		return hg_err(err, -EINVAL, "invalid argument");
	if ((unsigned)k >= HG_KEY_MAX)
		return hg_err(err, -EINVAL, "invalid key");
	if (timeout_ms && (HG_KIND(k) != HG_KIND_GRANT || op != HG_EDIT_ADD))
		return hg_err(err, -EINVAL, "a timeout is only for adding grants");
	r = parse_all(k, tokens, n, &req, err);
	if (r < 0)
		return r;
	for (size_t i = 0; op == HG_EDIT_REMOVE && HG_KIND(k) == HG_KIND_GRANT && i < n; i++)
		names_removed |= hg_grant_target_name(k, tokens[i], NULL, 0, NULL) == 1;
	if (timeout_ms && resolver) {
		free(req);
		return hg_err(err, -EINVAL, "a timeout is not for grants by container name");
	}
	{
		struct edit_ctx ctx = { k, op, req, tokens, n, timeout_ms, resolver, names_removed,
					false, false };
		r = hg_transact(nl, plan_edit, &ctx, err);
		/* an id that is there already, or not there to go: the kernel
		 * refused the whole batch, nothing changed; look them up */
		if (HG_KIND(k) == HG_KIND_ID && ctx.planned &&
		    r == (op == HG_EDIT_ADD ? -EEXIST : -ENOENT)) {
			ctx.lookup = true;
			ctx.planned = false;
			r = hg_transact(nl, plan_edit, &ctx, err);
		}
	}
	free(req);
	switch (r) {
	case -ENOENT:
		return hg_err(err, -ENOENT, "table inet %s is not loaded", HG_TABLE_NAME);
	case -ESRCH:
		return hg_err(err, -ESRCH, "set %s is missing from table inet %s; run 'hostguard apply'",
			      HG_KIND(k) == HG_KIND_GRANT ? "grant_*" : hg_setdefs[k].name, HG_TABLE_NAME);
	case -EBADSLT:
		return hg_err(err, -EBADSLT, "set %s of table inet %s was changed by someone else; run 'hostguard apply'",
			      HG_KIND(k) == HG_KIND_GRANT ? "grant_*" : hg_setdefs[k].name, HG_TABLE_NAME);
	case -EPERM:
		return hg_err_perm(err);
	default:
		/* changes made, or a failure named where it happened */
		return r;
	}
}
