/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Runtime entries: what the live table holds that the config does not (an
 * "allow-uid --runtime"), and what the config holds that the table does not
 * (a "revoke-uid --runtime").  Only the keys a config decides: allowed
 * uids/gids, container_ifaces, the container ports and grants without a
 * kernel timeout.  Published ports are Docker's, and a grant with --for
 * expires by itself.  status marks them, save writes them to the config.
 */
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "internal.h"
#include "record.h"

static int push(struct rt_list *l, int key, bool removed, uint32_t lo, uint32_t hi, const char *value)
{
	struct rt_entry *e;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		e = realloc(l->v, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		l->v = e;
		l->cap = cap;
	}
	e = &l->v[l->n++];
	e->key = key;
	e->removed = removed;
	e->lo = lo;
	e->hi = hi;
	snprintf(e->value, sizeof(e->value), "%s", value);
	return 0;
}

void rt_list_free(struct rt_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A policy key's values as the kernel holds them: sorted, port ranges
 * merged, ids unique.  Names that do not resolve are left out. */
static int policy_ranges(const struct hg_policy *p, enum hg_key k, struct hg_range **ret, size_t *ret_n)
{
	size_t n = hg_policy_count(p, k), m = 0;
	struct hg_range *v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (hg_value_parse(k, hg_policy_token(p, k, i), &v[m].lo, &v[m].hi, NULL) == 0)
			m++;
	*ret = v;
	*ret_n = hg_ranges_normalize(v, m, HG_KIND(k) == HG_KIND_PORT);
	return 0;
}

/* Pushes a - b (both sorted, no two overlapping) as entries. */
static int push_difference(struct rt_list *l, int k, bool removed, const struct hg_range *a,
			   size_t na, const struct hg_range *b, size_t nb)
{
	struct hg_range *d = calloc(na + nb + 1, sizeof(*d));
	size_t nd;
	int r = d ? 0 : -ENOMEM;
	char buf[32];

	nd = d ? hg_ranges_difference(a, na, b, nb, d) : 0;
	for (size_t i = 0; r == 0 && i < nd; i++) {
		if (d[i].lo == d[i].hi)
			snprintf(buf, sizeof(buf), "%u", d[i].lo);
		else
			snprintf(buf, sizeof(buf), "%u-%u", d[i].lo, d[i].hi);
		r = push(l, k, removed, d[i].lo, d[i].hi, buf);
	}
	free(d);
	return r;
}

static int diff_ranges(struct rt_list *l, const struct hg_state *s, const struct hg_policy *full,
		       enum hg_key k)
{
	size_t nl = hg_state_count(s, k), nf = 0;
	struct hg_range *live = calloc(nl ? nl : 1, sizeof(*live)), *conf = NULL;
	int r = live ? policy_ranges(full, k, &conf, &nf) : -ENOMEM;

	for (size_t i = 0; r == 0 && i < nl; i++)
		hg_state_range(s, k, i, &live[i].lo, &live[i].hi);
	if (r == 0)
		r = push_difference(l, k, false, live, nl, conf, nf);
	if (r == 0)
		r = push_difference(l, k, true, conf, nf, live, nl);
	free(live);
	free(conf);
	return r;
}

/* Strings: live values a (canonical) against the policy's b. */
static int diff_strings(struct rt_list *l, int k, char **a, size_t na, char **b, size_t nb, bool removed)
{
	qsort(b, nb, sizeof(*b), str_cmp);
	for (size_t i = 0; i < na; i++)
		if (!bsearch(&a[i], b, nb, sizeof(*b), str_cmp) && push(l, k, removed, 0, 0, a[i]) < 0)
			return -ENOMEM;
	return 0;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

/* A policy key's values, canonical (grants: "1002@192.0.2.2"). */
static int policy_strings(const struct hg_policy *p, enum hg_key k, char ***ret, size_t *ret_n)
{
	size_t n = hg_policy_count(p, k), m = 0;
	char **v = calloc(n ? n : 1, sizeof(*v)), buf[112];

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *tok = hg_policy_token(p, k, i);
		char name[HG_CONTAINER_NAME_MAX];
		/* a grant to a container name follows Docker: never a runtime entry */
		if (HG_KIND(k) == HG_KIND_GRANT &&
		    hg_grant_target_name(k, tok, name, sizeof(name), NULL) != 0)
			continue;
		if (hg_value_canonical(k, tok, buf, sizeof(buf), NULL) < 0)
			continue;
		if (!(v[m] = strdup(buf))) {
			strv_free(v, m);
			return -ENOMEM;
		}
		m++;
	}
	*ret = v;
	*ret_n = m;
	return 0;
}

/* The live values of a string key: interface patterns, or grants without
 * a timeout (grants of kind gid for HG_KEY_GRANT_GIDS). */
static int live_strings(const struct hg_state *s, enum hg_key k, char ***ret, size_t *ret_n)
{
	size_t n = HG_KIND(k) == HG_KIND_IFNAME ? hg_state_count(s, k) : hg_state_grant_count(s), m = 0;
	char **v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *val;
		struct hg_grant_info g;
		struct hg_grant_origin o;
		if (HG_KIND(k) == HG_KIND_IFNAME) {
			val = hg_state_iface(s, i);
		} else {
			/* grants of container names and labels follow Docker */
			if (hg_state_grant(s, i, &g) < 0 || hg_state_grant_origin(s, i, &o) < 0 ||
			    g.timeout_ms || g.gid != (k == HG_KEY_GRANT_GIDS) || o.source != HG_GRANT_CONFIG)
				continue;
			val = g.text;
		}
		if (!(v[m] = strdup(val))) {
			strv_free(v, m);
			return -ENOMEM;
		}
		m++;
	}
	*ret = v;
	*ret_n = m;
	return 0;
}

/* The table is the policy plus l, nothing else: the policy with the config
 * keys taken from the live table differs from it in nothing. */
static int only_these(const struct hg_state *s, const struct hg_policy *full,
		      const struct hg_policy *file, bool *ret)
{
	struct hg_policy *want = NULL;
	struct hg_log_settings log;
	char **lines = NULL;
	int r = live_policy_sourced(s, false, &want), n;

	for (int k = 0; r == 0 && k < HG_KEY_MAX; k++) {
		bool published = k == HG_KEY_PUBLISHED_TCP || k == HG_KEY_PUBLISHED_UDP;
		for (size_t i = 0; r == 0 && i < hg_policy_count(full, k); i++) {
			const char *tok = hg_policy_token(full, k, i);
			bool docker = false;
			/* Docker's own bridges are no runtime entry */
			if (HG_KIND(k) == HG_KIND_IFNAME) {
				docker = true;
				for (size_t j = 0; docker && j < hg_policy_count(file, k); j++)
					docker = strcmp(hg_policy_token(file, k, j), tok) != 0;
			}
			if (published || docker)
				r = hg_policy_add(want, k, tok, NULL);
		}
	}
	if (r < 0) {
		hg_policy_free(want);
		return r;
	}
	hg_policy_get_log(full, &log);
	hg_policy_set_log(want, &log);
	n = hg_state_diff(s, want, &lines);
	hg_policy_free(want);
	if (n < 0)
		return n;
	hg_lines_free(lines, (size_t)n);
	*ret = n == 0;
	return 0;
}

int runtime_list(const struct hg_state *s, const struct hg_policy *full,
		 const struct hg_policy *file, struct rt_list *ret)
{
	static const int ranges[] = { HG_KEY_UIDS, HG_KEY_GIDS, HG_KEY_TCP, HG_KEY_UDP };
	static const int strings[] = { HG_KEY_IFACES, HG_KEY_GRANT_UIDS, HG_KEY_GRANT_GIDS };
	struct rt_list l = { 0 };
	int r = 0;

	for (size_t i = 0; r == 0 && i < sizeof(ranges) / sizeof(ranges[0]); i++)
		r = diff_ranges(&l, s, full, ranges[i]);
	for (size_t i = 0; r == 0 && i < sizeof(strings) / sizeof(strings[0]); i++) {
		char **live = NULL, **conf = NULL, **fconf = NULL;
		size_t nl = 0, nc = 0, nfc = 0;
		int k = strings[i];
		r = live_strings(s, k, &live, &nl);
		if (r == 0)
			r = policy_strings(full, k, &conf, &nc);
		if (r == 0)
			r = policy_strings(file, k, &fconf, &nfc);
		if (r == 0)
			r = diff_strings(&l, k, live, nl, conf, nc, false);
		/* removed: what the config file says (not Docker's bridges) */
		if (r == 0)
			r = diff_strings(&l, k, fconf, nfc, live, nl, true);
		strv_free(live, nl);
		strv_free(conf, nc);
		strv_free(fconf, nfc);
	}
	if (r == 0)
		r = only_these(s, full, file, &l.only);
	if (r < 0) {
		rt_list_free(&l);
		return r;
	}
	*ret = l;
	return 0;
}

bool rt_added(const struct rt_list *l, int key, uint32_t lo, uint32_t hi, const char *iface)
{
	/* few entries (each an operator's command): a linear scan */
	for (size_t i = 0; i < l->n; i++) {
		const struct rt_entry *e = &l->v[i];
		if (e->removed || e->key != key)
			continue;
		if (iface ? strcmp(e->value, iface) == 0 : e->lo <= hi && lo <= e->hi)
			return true;
	}
	return false;
}
