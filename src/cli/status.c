/* SPDX-License-Identifier: GPL-2.0-or-later */
/* status, check */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "cli.h"
#include "internal.h"
#include "proxy.h"
#include "record.h"

/*
 * Names of ids.  A small set asks NSS id by id; a large one reads the user
 * or group database once (one lookup per id through systemd's userdb made
 * status of 50,000 uids take 6 s).  Ids the enumeration does not list
 * (directories that do not enumerate) are shown without a name.
 */
#define ENUMERATE_FROM 64

struct idname {
	uint32_t id;
	char *name;
};

static struct idname *names_v[HG_KEY_MAX];
static size_t names_n[HG_KEY_MAX];
static bool names_read[HG_KEY_MAX];

static int idname_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct idname *)a)->id, y = ((const struct idname *)b)->id;
	return x < y ? -1 : x > y;
}

static void names_load(enum hg_key k)
{
	size_t cap = 0;

	names_read[k] = true;
	if (k == HG_KEY_UIDS)
		setpwent();
	else
		setgrent();
	for (;;) {
		const char *name;
		uint32_t id;
		struct idname *v;

		if (k == HG_KEY_UIDS) {
			struct passwd *pw = getpwent();
			if (!pw)
				break;
			name = pw->pw_name, id = pw->pw_uid;
		} else {
			struct group *gr = getgrent();
			if (!gr)
				break;
			name = gr->gr_name, id = gr->gr_gid;
		}
		if (names_n[k] == cap) {
			cap = cap ? 2 * cap : 256;
			v = realloc(names_v[k], cap * sizeof(*v));
			if (!v)
				break;
			names_v[k] = v;
		}
		names_v[k][names_n[k]].id = id;
		if (!(names_v[k][names_n[k]].name = strdup(name)))
			break;
		names_n[k]++;
	}
	if (k == HG_KEY_UIDS)
		endpwent();
	else
		endgrent();
	if (names_n[k])
		qsort(names_v[k], names_n[k], sizeof(*names_v[k]), idname_cmp);
}

static void names_free(void)
{
	for (int k = 0; k < HG_KEY_MAX; k++) {
		for (size_t i = 0; i < names_n[k]; i++)
			free(names_v[k][i].name);
		free(names_v[k]);
		names_v[k] = NULL;
		names_n[k] = 0;
		names_read[k] = false;
	}
}

static const char *id_name(const struct hg_state *s, enum hg_key k, uint32_t id)
{
	if (hg_state_count(s, k) >= ENUMERATE_FROM) {
		struct idname key = { id, NULL }, *found;
		if (!names_read[k])
			names_load(k);
		found = names_n[k] ? bsearch(&key, names_v[k], names_n[k], sizeof(key), idname_cmp) : NULL;
		return found ? found->name : NULL;
	}
	if (k == HG_KEY_UIDS) {
		struct passwd *pw = getpwuid(id);
		return pw ? pw->pw_name : NULL;
	}
	struct group *gr = getgrgid(id);
	return gr ? gr->gr_name : NULL;
}

/* " [+]" after a live value the config does not hold ("*" would read as
 * part of an interface pattern) */
static const char *mark(const struct rt_list *rt, enum hg_key k, uint32_t lo, uint32_t hi, const char *iface)
{
	return rt && rt_added(rt, k, lo, hi, iface) ? " [+]" : "";
}

static void print_set_text(const struct hg_state *s, enum hg_key k, const struct rt_list *rt)
{
	size_t n = hg_state_count(s, k);

	printf("  %-26s", hg_key_name(k));
	if (n == 0)
		printf(" (none)");
	for (size_t i = 0; i < n; i++) {
		uint32_t lo = 0, hi = 0;
		const char *sep = i ? ", " : " ";

		if (HG_KIND(k) == HG_KIND_IFNAME) {
			printf("%s%s%s", sep, hg_state_iface(s, i), mark(rt, k, 0, 0, hg_state_iface(s, i)));
			continue;
		}
		hg_state_range(s, k, i, &lo, &hi);
		if (HG_KIND(k) == HG_KIND_ID) {
			const char *name = id_name(s, k, lo);
			if (name)
				printf("%s%u (%s)%s", sep, lo, name, mark(rt, k, lo, hi, NULL));
			else
				printf("%s%u%s", sep, lo, mark(rt, k, lo, hi, NULL));
		} else if (lo == hi) {
			printf("%s%u%s", sep, lo, mark(rt, k, lo, hi, NULL));
		} else {
			printf("%s%u-%u%s", sep, lo, hi, mark(rt, k, lo, hi, NULL));
		}
	}
	putchar('\n');
}

static void print_set_json(const struct hg_state *s, enum hg_key k, const struct rt_list *rt)
{
	size_t n = hg_state_count(s, k);

	printf("\"%s\":[", hg_key_name(k));
	for (size_t i = 0; i < n; i++) {
		uint32_t lo = 0, hi = 0;

		if (i)
			putchar(',');
		if (HG_KIND(k) == HG_KIND_IFNAME) {
			json_str(stdout, hg_state_iface(s, i));
			continue;
		}
		hg_state_range(s, k, i, &lo, &hi);
		if (HG_KIND(k) == HG_KIND_ID) {
			const char *name = id_name(s, k, lo);
			printf("{\"id\":%u,\"name\":", lo);
			if (name)
				json_str(stdout, name);
			else
				fputs("null", stdout);
			printf(",\"runtime\":%s}", *mark(rt, k, lo, hi, NULL) ? "true" : "false");
		} else {
			printf("{\"first\":%u,\"last\":%u,\"runtime\":%s}", lo, hi,
			       *mark(rt, k, lo, hi, NULL) ? "true" : "false");
		}
	}
	putchar(']');
}

static bool is_grant_key(int k)
{
	return HG_KIND(k) == HG_KIND_GRANT;
}

/* "alice@192.0.2.2:8080" without its principal */
static const char *grant_target(const struct hg_grant_info *g)
{
	const char *at = strchr(g->text, '@');
	return at ? at + 1 : g->text;
}

/* Where grant i comes from: "runtime" (a --for grant, or a --runtime one
 * the config does not hold), "label", or "config" (by address or by
 * container name).  *ret_o says which container, for names and labels. */
static const char *grant_source(const struct hg_state *s, size_t i, const struct hg_grant_info *g,
				const struct rt_list *rt, struct hg_grant_origin *ret_o)
{
	if (hg_state_grant_origin(s, i, ret_o) < 0)
		memset(ret_o, 0, sizeof(*ret_o));
	if (g->timeout_ms)
		return "runtime";
	if (ret_o->source == HG_GRANT_LABEL)
		return "label";
	if (ret_o->source == HG_GRANT_CONFIG && rt &&
	    rt_added(rt, g->gid ? HG_KEY_GRANT_GIDS : HG_KEY_GRANT_UIDS, 0, 0, g->text))
		return "runtime";
	return "config";
}

static void print_grants_text(const struct hg_state *s, const struct rt_list *rt)
{
	size_t n = hg_state_grant_count(s);

	printf("grants:%s\n", n ? "" : " (none)");
	for (size_t i = 0; i < n; i++) {
		struct hg_grant_info g;
		struct hg_grant_origin o;
		const char *name, *src;
		char who[64];

		if (hg_state_grant(s, i, &g) < 0)
			continue;
		src = grant_source(s, i, &g, rt, &o);
		name = id_name(s, g.gid ? HG_KEY_GIDS : HG_KEY_UIDS, g.id);
		if (name)
			snprintf(who, sizeof(who), "%s %u (%s)", g.gid ? "gid" : "uid", g.id, name);
		else
			snprintf(who, sizeof(who), "%s %u", g.gid ? "gid" : "uid", g.id);
		printf("  %-26s %-34s ", who, grant_target(&g));
		if (g.timeout_ms)
			printf("runtime, expires in %llus\n",
			       (unsigned long long)((g.expires_ms + 999) / 1000));
		else if (o.source == HG_GRANT_NAME)
			printf("config (container name %s)\n", o.container);
		else if (o.source == HG_GRANT_LABEL)
			printf("label (container %s)\n", o.container);
		else
			printf("%s\n", strcmp(src, "runtime") == 0 ? "runtime [+]" : src);
	}
}

static void print_grants_json(const struct hg_state *s, const struct rt_list *rt)
{
	size_t n = hg_state_grant_count(s);

	printf(",\"grants\":[");
	for (size_t i = 0, first = 1; i < n; i++) {
		struct hg_grant_info g;
		struct hg_grant_origin o;
		const char *name, *src;

		if (hg_state_grant(s, i, &g) < 0)
			continue;
		src = grant_source(s, i, &g, rt, &o);
		name = id_name(s, g.gid ? HG_KEY_GIDS : HG_KEY_UIDS, g.id);
		printf("%s{\"kind\":\"%s\",\"id\":%u,\"name\":", first ? "" : ",",
		       g.gid ? "gid" : "uid", g.id);
		first = 0;
		if (name)
			json_str(stdout, name);
		else
			fputs("null", stdout);
		printf(",\"target\":");
		json_str(stdout, grant_target(&g));
		/* a name grant is the config's; container says which, for
		 * label grants too (null: a grant by address) */
		printf(",\"source\":\"%s\",\"container\":", src);
		if (o.source != HG_GRANT_CONFIG)
			json_str(stdout, o.container);
		else
			fputs("null", stdout);
		printf(",\"by_name\":%s,\"timeout_ms\":", o.source == HG_GRANT_NAME ? "true" : "false");
		if (g.timeout_ms)
			printf("%llu,\"expires_in_ms\":%llu}", (unsigned long long)g.timeout_ms,
			       (unsigned long long)g.expires_ms);
		else
			printf("null,\"expires_in_ms\":null}");
	}
	putchar(']');
}

static const char *const chain_dir[HG_CHAIN_MAX] = {
	[HG_CHAIN_EGRESS] = "host to container",
	[HG_CHAIN_INGRESS] = "container to host",
};

/*
 * What check and status judge: the config (with what Docker publishes),
 * the live table, their differences, the runtime entries among them, and
 * who made them (record.c).
 */
struct assessment {
	struct hg_policy *p;      /* NULL: the config is invalid */
	struct hg_state *s;       /* NULL: not loaded */
	char **diff;
	int n_diff;
	struct rt_list rt;
	enum cause cause;
	bool judged;              /* cause and rt are known (both p and s) */
};

static void assessment_free(struct assessment *a)
{
	hg_lines_free(a->diff, a->n_diff > 0 ? (size_t)a->n_diff : 0);
	rt_list_free(&a->rt);
	hg_state_free(a->s);
	hg_policy_free(a->p);
}

/* Returns an exit code; a->p stays NULL for an invalid config (cfg says
 * which exit code that is). */
static int assess(struct hg_nl *nl, struct assessment *a, int *cfg)
{
	struct hg_policy *file = NULL;
	struct hg_error e = { 0 };
	int r;

	memset(a, 0, sizeof(*a));
	*cfg = load_policy(&a->p);
	if (hg_state_read(nl, &a->s, &e) < 0 && e.code != -ENOENT)
		return fail(&e);
	if (!a->s || !a->p) {
		a->cause = a->s ? CAUSE_UNKNOWN : CAUSE_NOT_LOADED;
		return EXIT_OK;
	}
	a->n_diff = hg_state_diff(a->s, a->p, &a->diff);
	r = a->n_diff < 0 ? a->n_diff : load_policy_quiet(&file);
	if (r == 0)
		r = runtime_list(a->s, a->p, file, &a->rt);
	if (r == 0)
		r = drift_cause(nl, a->s, &a->rt, a->n_diff, &a->cause);
	hg_policy_free(file);
	if (r < 0) {
		err_msg("cannot compare the table with the config: %s", strerror(-r));
		return EXIT_FAIL;
	}
	a->judged = true;
	return EXIT_OK;
}

/* Why the table differs, one phrase. */
static const char *cause_text(enum cause c)
{
	switch (c) {
	case CAUSE_OUTSIDE:
		return "table changed outside hostguard";
	case CAUSE_CONFIG:
		return "config edited, not applied yet: run hostguard apply";
	case CAUSE_DOCKER:
		return "Docker's published ports or bridges changed since the last apply: run hostguard apply";
	case CAUSE_RUNTIME:
		return "runtime entries only ('hostguard save' keeps them, 'hostguard apply' drops them)";
	default:
		return NULL;
	}
}

/* Warnings: names the config skipped, interfaces no pattern covers (the
 * live table's patterns, or the config's when it is not loaded),
 * docker-proxy processes nothing keeps local users from, and default
 * routes a container's router advertisement made. */
static int collect_warnings(const struct assessment *a, char ***ret, size_t *ret_n,
			    struct proxy **ret_px, size_t *ret_npx)
{
	char **warn = NULL, **all, **ra = NULL;
	size_t n_warn = 0, np = 0, ni = 0, nc = 0, npx = 0, nra = 0;
	const char *const *ign = a->p ? hg_policy_ignored_ifaces(a->p, &ni) : NULL;
	const char *const *cw = a->p ? hg_policy_warnings(a->p, &nc) : NULL;
	const char **pat = NULL;
	struct proxy *px = NULL;

	if (a->s) {
		pat = state_patterns(a->s, &np);
	} else if (a->p) {
		pat = policy_patterns(a->p, &np);
	}
	if (pat) {
		uncovered_list(pat, np, ign, ni, &warn, &n_warn);
		ra_route_warnings(pat, np, &ra, &nra);
	}
	free(pat);
	if (proxies_read(&px, &npx) < 0)
		npx = 0;
	all = calloc(n_warn + nc + npx + nra + 1, sizeof(*all));
	if (!all) {
		lines_free(warn, n_warn);
		lines_free(ra, nra);
		free(px);
		return -ENOMEM;
	}
	/* names the config skipped come first */
	for (size_t i = 0; i < nc; i++)
		all[i] = strdup(cw[i]);
	for (size_t i = 0; i < n_warn; i++)
		all[nc + i] = warn[i];
	free(warn);
	n_warn += nc;
	for (size_t i = 0; i < npx; i++)
		if ((a->p || a->s) && !proxy_protected(&px[i], a->p, a->s))
			all[n_warn++] = proxy_warning(&px[i], a->p);
		else if (!a->p && !a->s)
			all[n_warn++] = proxy_warning(&px[i], NULL);
	for (size_t i = 0; i < nra; i++)
		all[n_warn++] = ra[i];
	free(ra);
	*ret = all;
	*ret_n = n_warn;
	*ret_px = px;
	*ret_npx = npx;
	return 0;
}

static void print_runtime_json(const struct assessment *a)
{
	printf(",\"drift\":");
	if (a->judged || !a->s)
		printf("\"%s\"", cause_names[a->cause]);
	else
		fputs("null", stdout);
	printf(",\"runtime\":{\"added\":[");
	for (int removed = 0; removed < 2; removed++) {
		bool first = true;
		if (removed)
			printf("],\"removed\":[");
		for (size_t i = 0; i < a->rt.n; i++) {
			if (a->rt.v[i].removed != removed)
				continue;
			printf("%s{\"key\":\"%s\",\"value\":", first ? "" : ",", hg_key_name(a->rt.v[i].key));
			json_str(stdout, a->rt.v[i].value);
			putchar('}');
			first = false;
		}
	}
	printf("]}");
}

static void print_removed_text(const struct rt_list *rt)
{
	bool any = false;

	for (size_t i = 0; i < rt->n; i++) {
		if (!rt->v[i].removed)
			continue;
		printf("%s%s %s", any ? ", " : "  in the config, not in the table (runtime removals): ",
		       hg_key_name(rt->v[i].key), rt->v[i].value);
		any = true;
	}
	if (any)
		putchar('\n');
}

int cmd_status(int argc, char **argv)
{
	struct assessment a = { 0 };
	struct hg_nl *nl = NULL;
	struct proxy *px = NULL;
	char **warn = NULL;
	size_t n_warn = 0, npx = 0;
	int ret, cfg = EXIT_OK;
	bool json = false;

	for (int i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			cmd_usage(stdout, "status");
			printf("  --json  one JSON object (schema: doc/json.md)\n"
			       "  Values marked [+] are runtime entries: in the table, not in the config\n"
			       "  (--runtime edits; 'hostguard save' writes them to the config).\n");
			return EXIT_OK;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else {
			err_msg("status: unexpected argument '%s'", argv[i]);
			return EXIT_INVALID;
		}
	}
	/* An invalid config still leaves the live table worth showing. */
	ret = open_nl(&nl);
	if (ret)
		goto out;
	ret = assess(nl, &a, &cfg);
	if (ret)
		goto out;
	if (collect_warnings(&a, &warn, &n_warn, &px, &npx) < 0) {
		err_msg("out of memory");
		ret = EXIT_FAIL;
		goto out;
	}

	const struct hg_policy *p = a.p;
	const struct hg_state *s = a.s;
	const struct rt_list *rt = a.judged ? &a.rt : NULL;
	int n_diff = a.n_diff;
	char **diff = a.diff;

	if (json) {
		printf("{\"loaded\":%s,\"config\":", s ? "true" : "false");
		json_str(stdout, config_path);
		printf(",\"config_exists\":%s", config_missing ? "false" : "true");
		printf(",\"config_valid\":%s,\"in_sync\":%s,\"differences\":[", p ? "true" : "false",
		       !s || !p ? (p ? "false" : "null") : n_diff == 0 ? "true" : "false");
		for (int i = 0; i < n_diff; i++) {
			if (i)
				putchar(',');
			json_str(stdout, diff[i]);
		}
		putchar(']');
		print_runtime_json(&a);
		printf(",\"record\":");
		if (record_path())
			json_str(stdout, record_path());
		else
			fputs("null", stdout);
		if (s) {
			printf(",\"sets\":{");
			for (int k = 0; k < HG_KEY_MAX; k++) {
				if (is_grant_key(k))
					continue;
				if (k)
					putchar(',');
				print_set_json(s, k, rt);
			}
			putchar('}');
			print_grants_json(s, rt);
			printf(",\"counters\":{");
			for (int ch = 0; ch < HG_CHAIN_MAX; ch++) {
				uint64_t pk, by;
				hg_state_drops(s, ch, &pk, &by);
				printf("%s\"%s\":{\"dropped_packets\":%llu,\"dropped_bytes\":%llu,\"since\":",
				       ch ? "," : "", hg_chain_name(ch),
				       (unsigned long long)pk, (unsigned long long)by);
				if (hg_state_counting_since(s, ch))
					printf("%lld}", hg_state_counting_since(s, ch));
				else
					printf("null}");
			}
			putchar('}');
			/* logging of denied packets: the live group, the config's rate */
			int lg = hg_state_log_group(s);
			struct hg_log_settings log = { 0 };
			if (p)
				hg_policy_get_log(p, &log);
			if (lg < 0)
				printf(",\"logging\":{\"enabled\":false}");
			else
				printf(",\"logging\":{\"enabled\":true,\"group\":%d,\"rate\":%u,\"per_seconds\":%u}",
				       lg, log.rate, log.per_seconds);
		}
		printf(",\"ignore_ifaces\":");
		if (p) {
			size_t ni;
			const char *const *ign = hg_policy_ignored_ifaces(p, &ni);
			putchar('[');
			for (size_t i = 0; i < ni; i++) {
				if (i)
					putchar(',');
				json_str(stdout, ign[i]);
			}
			putchar(']');
		} else {
			fputs("null", stdout);
		}
		printf(",\"docker_proxies\":[");
		for (size_t i = 0; i < npx; i++) {
			printf("%s{\"pid\":%d,\"proto\":", i ? "," : "", px[i].pid);
			px[i].proto[0] ? json_str(stdout, px[i].proto) : (void)fputs("null", stdout);
			printf(",\"host_port\":");
			px[i].host_port ? (void)printf("%d", px[i].host_port) : (void)fputs("null", stdout);
			printf(",\"protected\":%s}", (p || s) && proxy_protected(&px[i], p, s) ? "true" : "false");
		}
		printf("],\"warnings\":[");
		for (size_t i = 0; i < n_warn; i++) {
			if (i)
				putchar(',');
			json_str(stdout, warn[i] ? warn[i] : "out of memory");
		}
		printf("]}\n");
	} else {
		if (!s)
			printf("table inet hostguard: not loaded (run 'hostguard apply')\n");
		else if (!p)
			printf("table inet hostguard: loaded; config %s is invalid, cannot compare\n", config_path);
		else if (n_diff == 0)
			printf("table inet hostguard: loaded, in sync with %s\n", config_label());
		else if (a.cause == CAUSE_RUNTIME)
			printf("table inet hostguard: loaded, %s plus runtime entries (marked [+]; 'hostguard save'\n"
			       "  writes them to the config, 'hostguard apply' drops them):\n", config_label());
		else if (cause_text(a.cause))
			printf("table inet hostguard: loaded, DRIFTED from %s (%s):\n", config_label(), cause_text(a.cause));
		else
			printf("table inet hostguard: loaded, DRIFTED from %s:\n", config_label());
		for (int i = 0; i < n_diff; i++)
			printf("  - %s\n", diff[i]);
		if (s) {
			printf("sets:\n");
			for (int k = 0; k < HG_KEY_MAX; k++)
				if (!is_grant_key(k))
					print_set_text(s, k, rt);
			if (rt && rt->n) {
				bool added = false;
				for (size_t i = 0; i < rt->n; i++)
					added |= !rt->v[i].removed;
				if (added)
					printf("  [+] %s\n", a.cause == CAUSE_RUNTIME
					       ? "runtime: in the table, not in the config ('hostguard save' keeps it)"
					       : "in the table, not in the config");
				print_removed_text(rt);
			}
			if (p) {
				size_t ni;
				const char *const *ign = hg_policy_ignored_ifaces(p, &ni);
				printf("  %-26s", "ignore_ifaces (config)");
				if (ni == 0)
					printf(" (none)");
				for (size_t i = 0; i < ni; i++)
					printf("%s%s", i ? ", " : " ", ign[i]);
				putchar('\n');
			}
			print_grants_text(s, rt);
			printf("drops (cumulative; 'hostguard reset-counters' zeroes them):\n");
			for (int ch = 0; ch < HG_CHAIN_MAX; ch++) {
				uint64_t pk, by;
				long long since = hg_state_counting_since(s, ch);
				char when[64] = "an unknown time";
				time_t t = (time_t)since;
				struct tm tm;
				if (since && gmtime_r(&t, &tm))
					strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
				hg_state_drops(s, ch, &pk, &by);
				printf("  %-14s (%s) %llu packets, %llu bytes since %s\n",
				       hg_chain_name(ch), chain_dir[ch],
				       (unsigned long long)pk, (unsigned long long)by, when);
			}
			int lg = hg_state_log_group(s);
			struct hg_log_settings log = { 0 };
			if (p)
				hg_policy_get_log(p, &log);
			if (lg < 0)
				printf("logging: off (log_denied = no)\n");
			else
				printf("logging: denied packets to NFLOG group %d, at most %u per %s; 'hostguard watch',\n"
				       "         journal: hostguard-watch.service (journalctl -u hostguard-watch)\n",
				       lg, log.rate, log.per_seconds == 3600 ? "hour" : log.per_seconds == 60 ? "minute" : "second");
		}
		for (size_t i = 0; i < n_warn; i++)
			printf("warning: %s\n", warn[i] ? warn[i] : "out of memory");
	}
	ret = cfg;
out:
	names_free();
	lines_free(warn, n_warn);
	free(px);
	assessment_free(&a);
	hg_nl_close(nl);
	return ret;
}

static void check_usage(void)
{
	cmd_usage(stdout, "check");
	printf("  --json  one JSON object: state, exit, differences, runtime, warnings\n"
	       "  exit 0: in sync; 1: table missing or drifted (\"table changed outside\n"
	       "  hostguard\", \"config edited, not applied yet\", Docker's ports changed),\n"
	       "  a user or group name in the config that does not resolve, or a\n"
	       "  bridge/macvlan/ipvlan (or a port of a covered bridge) that container_ifaces\n"
	       "  does not cover and ignore_ifaces does not list (one line each says what);\n"
	       "  2: the config is invalid; 3: the table differs from the config only by\n"
	       "  hostguard's own --runtime edits ('hostguard save' keeps them, 'hostguard\n"
	       "  apply' drops them); 4: needs root or CAP_NET_ADMIN\n");
}

int cmd_check(int argc, char **argv)
{
	struct assessment a = { 0 };
	struct hg_nl *nl = NULL;
	char **notes = NULL;
	size_t n_notes = 0, np, ni, nu = 0, nc;
	bool json = false;
	int ret, cfg = EXIT_OK;
	char *msg = NULL;

	for (int i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			check_usage();
			return EXIT_OK;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else {
			err_msg("check: unexpected argument '%s'", argv[i]);
			return EXIT_INVALID;
		}
	}
	ret = open_nl(&nl);
	if (ret)
		return ret;
	ret = assess(nl, &a, &cfg);
	if (ret == EXIT_OK && !a.p)
		ret = cfg;
	if (ret)
		goto out;
	if (!a.s) {
		msg = strdup("table inet hostguard is not loaded");
		ret = EXIT_FAIL;
	} else if (a.n_diff > 0) {
		char more[64] = "";
		int r;
		if (a.n_diff > 1)
			snprintf(more, sizeof(more), " (and %d more; see 'hostguard status')", a.n_diff - 1);
		switch (a.cause) {
		case CAUSE_RUNTIME:
			r = asprintf(&msg, "runtime entries only: %s%s; 'hostguard save' keeps them, "
				     "'hostguard apply' drops them", a.diff[0], more);
			break;
		case CAUSE_OUTSIDE:
			r = asprintf(&msg, "drifted: table changed outside hostguard: %s%s", a.diff[0], more);
			break;
		case CAUSE_CONFIG:
		case CAUSE_DOCKER:
			r = asprintf(&msg, "drifted: %s; %s%s", cause_text(a.cause), a.diff[0], more);
			break;
		default:
			r = asprintf(&msg, "drifted: %s%s", a.diff[0], more);
			break;
		}
		ret = r < 0 ? EXIT_FAIL : a.cause == CAUSE_RUNTIME ? EXIT_RUNTIME : EXIT_FAIL;
	} else {
		ret = asprintf(&msg, "in sync with %s", config_label()) < 0 ? EXIT_FAIL : EXIT_OK;
	}
	if (ret == EXIT_OK || ret == EXIT_RUNTIME) {
		/* in sync, but is it what was meant?  A skipped name, or an
		 * interface that no pattern covers, is worth an alarm */
		const char *const *cw = hg_policy_warnings(a.p, &nc);
		const char *const *ign = hg_policy_ignored_ifaces(a.p, &ni);
		const char **pat = state_patterns(a.s, &np);
		char **unc = NULL;

		notes = calloc(nc + 1, sizeof(*notes));
		for (size_t i = 0; notes && i < nc; i++)
			notes[n_notes++] = strdup(cw[i]);
		if (!notes || !pat || uncovered_list(pat, np, ign, ni, &unc, &nu) < 0) {
			err_msg("check: cannot list interfaces");
			ret = EXIT_FAIL;
		}
		for (size_t i = 0; i < nu && notes; i++) {
			char **v = realloc(notes, (n_notes + 2) * sizeof(*v));
			if (!v)
				break;
			notes = v;
			if (asprintf(&notes[n_notes], "uncovered: %s", unc[i]) >= 0)
				n_notes++;
		}
		if (nc || nu)
			ret = EXIT_FAIL;
		lines_free(unc, nu);
		free(pat);
	}
	if (json) {
		printf("{\"state\":\"%s\",\"exit\":%d,\"message\":", cause_names[a.cause], ret);
		json_str(stdout, msg ? msg : "");
		printf(",\"config\":");
		json_str(stdout, config_path);
		printf(",\"differences\":[");
		for (int i = 0; i < a.n_diff; i++) {
			if (i)
				putchar(',');
			json_str(stdout, a.diff[i]);
		}
		putchar(']');
		print_runtime_json(&a);
		printf(",\"warnings\":[");
		for (size_t i = 0; i < n_notes; i++) {
			if (i)
				putchar(',');
			json_str(stdout, notes[i] ? notes[i] : "out of memory");
		}
		printf("]}\n");
	} else {
		printf("hostguard: %s\n", msg ? msg : "out of memory");
		for (size_t i = 0; i < n_notes; i++)
			printf("hostguard: %s\n", notes[i] ? notes[i] : "out of memory");
	}
out:
	free(msg);
	lines_free(notes, n_notes);
	assessment_free(&a);
	hg_nl_close(nl);
	return ret;
}
