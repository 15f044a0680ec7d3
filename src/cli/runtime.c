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

static int range_cmp(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;
	return x[0] != y[0] ? (x[0] < y[0] ? -1 : 1) : x[1] != y[1] ? (x[1] < y[1] ? -1 : 1) : 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A policy key's values as sorted, merged [lo, hi] pairs (ids: lo == hi).
 * Names that do not resolve are left out. */
static int policy_ranges(const struct hg_policy *p, enum hg_key k, uint32_t (**ret)[2], size_t *ret_n)
{
	size_t n = hg_policy_count(p, k), m = 0;
	uint32_t (*v)[2] = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (hg_value_parse(k, hg_policy_token(p, k, i), &v[m][0], &v[m][1], NULL) == 0)
			m++;
	qsort(v, m, sizeof(*v), range_cmp);
	/* merge overlapping and touching ranges, as the kernel holds them */
	size_t w = 0;
	for (size_t i = 0; i < m; i++) {
		if (w && v[i][0] <= v[w - 1][1] + (uint64_t)1) {
			if (v[i][1] > v[w - 1][1])
				v[w - 1][1] = v[i][1];
			continue;
		}
		v[w][0] = v[i][0];
		v[w][1] = v[i][1];
		w++;
	}
	*ret = v;
	*ret_n = w;
	return 0;
}

/* Pushes a - b (both sorted, merged) as entries. */
static int subtract(struct rt_list *l, int k, bool removed, uint32_t (*a)[2], size_t na,
		    uint32_t (*b)[2], size_t nb)
{
	size_t j = 0;
	char buf[32];

	for (size_t i = 0; i < na; i++) {
		uint64_t lo = a[i][0], hi = a[i][1];
		while (j < nb && b[j][1] < lo)
			j++;
		for (size_t q = j; q < nb && b[q][0] <= hi && lo <= hi; q++) {
			if (b[q][0] > lo) {
				if (k == HG_KEY_UIDS || k == HG_KEY_GIDS || lo == b[q][0] - 1)
					snprintf(buf, sizeof(buf), "%llu", (unsigned long long)lo);
				else
					snprintf(buf, sizeof(buf), "%llu-%llu", (unsigned long long)lo,
						 (unsigned long long)b[q][0] - 1);
				if (push(l, k, removed, (uint32_t)lo, b[q][0] - 1, buf) < 0)
					return -ENOMEM;
			}
			lo = (uint64_t)b[q][1] + 1;
		}
		if (lo <= hi) {
			if (lo == hi)
				snprintf(buf, sizeof(buf), "%llu", (unsigned long long)lo);
			else
				snprintf(buf, sizeof(buf), "%llu-%llu", (unsigned long long)lo,
					 (unsigned long long)hi);
			if (push(l, k, removed, (uint32_t)lo, (uint32_t)hi, buf) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static int diff_ranges(struct rt_list *l, const struct hg_state *s, const struct hg_policy *full,
		       enum hg_key k)
{
	size_t nl = hg_state_count(s, k), nf = 0;
	uint32_t (*live)[2] = calloc(nl ? nl : 1, sizeof(*live)), (*conf)[2] = NULL;
	int r = live ? policy_ranges(full, k, &conf, &nf) : -ENOMEM;

	for (size_t i = 0; r == 0 && i < nl; i++)
		hg_state_range(s, k, i, &live[i][0], &live[i][1]);
	if (r == 0)
		r = subtract(l, k, false, live, nl, conf, nf);
	if (r == 0)
		r = subtract(l, k, true, conf, nf, live, nl);
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
		if ((k == HG_KEY_GRANT_UIDS || k == HG_KEY_GRANT_GIDS) &&
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
	size_t n = k == HG_KEY_IFACES ? hg_state_count(s, k) : hg_state_grant_count(s), m = 0;
	char **v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *val;
		struct hg_grant_info g;
		struct hg_grant_origin o;
		if (k == HG_KEY_IFACES) {
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
			if (k == HG_KEY_IFACES) {
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
