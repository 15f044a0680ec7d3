/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The differences between the live table and a policy, as text. */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdarg.h>

#include "state.h"

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
	for (size_t i = 0; lines && i < n; i++)
		free(lines[i]);
	free(lines);
}

static void fmt_range(char *buf, size_t len, enum hg_key k, const struct hg_range *r)
{
	if (HG_KIND(k) == HG_KIND_ID || r->lo == r->hi)
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

/* Grants: runtime ones (with a timeout) are no difference, but the
 * config's held with a timeout are, hostguard's (marked) or not: it
 * expires (security.md #22, #28).  A grant is
 * compared in the logical list; one held in another physical set than its
 * shape's, or in two, is named with the set.  Those wanted in a physical
 * set that is missing or changed (ok[shape] false) are said by that set's
 * line. */
static void diff_grants(struct lines *l, int gs, const struct hg_canon *live,
			const struct hg_canon *want, const bool ok[HG_NGSHAPES])
{
	const char *key = hg_key_name(hg_gsetdefs[gs].key);
	size_t na = live->ng[gs], nb = want->ng[gs], i = 0, j = 0, missing = 0, extra = 0;
	const struct hg_grant *L = live->g[gs], *W = want->g[gs];
	char buf[96], src[HG_CONTAINER_NAME_MAX + 24];

	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : hg_grant_cmp(&L[i], &W[j]);
		if (c == 0) {
			if ((L[i].timeout_ms || L[i].forged) && missing++ < MAX_LISTED) {
				hg_grant_format(&W[j], buf, sizeof(buf));
				line_add(l, "%s: %s is in the config but the table holds it with a timeout", key, buf);
			} else if (L[i].where != hg_grant_shape(&W[j]) && extra++ < MAX_LISTED) {
				hg_grant_format(&W[j], buf, sizeof(buf));
				line_add(l, "%s: %s is in set %s, hostguard keeps it in set %s", key, buf,
					 hg_psetdefs[HG_PSET(gs, L[i].where)].name,
					 hg_psetdefs[HG_PSET(gs, hg_grant_shape(&W[j]))].name);
			}
			i++, j++;
		} else if (c < 0) {
			if (i > 0 && hg_grant_cmp(&L[i - 1], &L[i]) == 0) {
				if (extra++ < MAX_LISTED) {
					hg_grant_format(&L[i], buf, sizeof(buf));
					line_add(l, "%s: %s is in set %s too", key, buf,
						 hg_psetdefs[HG_PSET(gs, L[i].where)].name);
				}
			} else if (!L[i].timeout_ms && extra++ < MAX_LISTED) {
				hg_grant_format(&L[i], buf, sizeof(buf));
				hg_grant_source_text(&L[i], src, sizeof(src));
				if (l->delta)
					line_add(l, "- %s %s%s", key, buf, src);
				else
					line_add(l, "%s: %s%s is in the table but not in the config", key, buf, src);
			}
			i++;
		} else {
			if (ok[hg_grant_shape(&W[j])] && missing++ < MAX_LISTED) {
				hg_grant_format(&W[j], buf, sizeof(buf));
				hg_grant_source_text(&W[j], src, sizeof(src));
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
		if (HG_KIND(k) == HG_KIND_IFNAME)
			diff_ifaces(&l, &s->canon, &want);
		else
			diff_ranges(&l, k, &s->canon, &want);
	}
	for (int gs = 0; gs < HG_NGSETS; gs++) {
		bool ok[HG_NGSHAPES];

		for (int shape = 0; shape < HG_NGSHAPES; shape++) {
			int ps = HG_PSET(gs, shape), st = hg_state_gset_status(s, ps);

			ok[shape] = st != HG_SET_MISSING && st != HG_SET_WRONG_DEF;
			if (st == HG_SET_MISSING)
				line_add(&l, "set %s: missing", hg_psetdefs[ps].name);
			else if (st == HG_SET_WRONG_DEF)
				line_add(&l, "set %s: type, flags or size differ from hostguard's",
					 hg_psetdefs[ps].name);
		}
		diff_grants(&l, gs, &s->canon, &want, ok);
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
