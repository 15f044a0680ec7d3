/* SPDX-License-Identifier: GPL-2.0-or-later */
/* status, check */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include "cli.h"

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

static void print_set_text(const struct hg_state *s, enum hg_key k)
{
	size_t n = hg_state_count(s, k);

	printf("  %-26s", hg_key_name(k));
	if (n == 0)
		printf(" (none)");
	for (size_t i = 0; i < n; i++) {
		uint32_t lo = 0, hi = 0;
		const char *sep = i ? ", " : " ";

		if (k == HG_KEY_IFACES) {
			printf("%s%s", sep, hg_state_iface(s, i));
			continue;
		}
		hg_state_range(s, k, i, &lo, &hi);
		if (k == HG_KEY_UIDS || k == HG_KEY_GIDS) {
			const char *name = id_name(s, k, lo);
			if (name)
				printf("%s%u (%s)", sep, lo, name);
			else
				printf("%s%u", sep, lo);
		} else if (lo == hi) {
			printf("%s%u", sep, lo);
		} else {
			printf("%s%u-%u", sep, lo, hi);
		}
	}
	putchar('\n');
}

static void print_set_json(const struct hg_state *s, enum hg_key k)
{
	size_t n = hg_state_count(s, k);

	printf("\"%s\":[", hg_key_name(k));
	for (size_t i = 0; i < n; i++) {
		uint32_t lo = 0, hi = 0;

		if (i)
			putchar(',');
		if (k == HG_KEY_IFACES) {
			json_str(stdout, hg_state_iface(s, i));
			continue;
		}
		hg_state_range(s, k, i, &lo, &hi);
		if (k == HG_KEY_UIDS || k == HG_KEY_GIDS) {
			const char *name = id_name(s, k, lo);
			printf("{\"id\":%u,\"name\":", lo);
			if (name)
				json_str(stdout, name);
			else
				fputs("null", stdout);
			putchar('}');
		} else {
			printf("{\"first\":%u,\"last\":%u}", lo, hi);
		}
	}
	putchar(']');
}

static bool is_grant_key(int k)
{
	return k == HG_KEY_GRANT_UIDS || k == HG_KEY_GRANT_GIDS;
}

/* "alice@192.0.2.2:8080" without its principal */
static const char *grant_target(const struct hg_grant_info *g)
{
	const char *at = strchr(g->text, '@');
	return at ? at + 1 : g->text;
}

static void print_grants_text(const struct hg_state *s)
{
	size_t n = hg_state_grant_count(s);

	printf("grants:%s\n", n ? "" : " (none)");
	for (size_t i = 0; i < n; i++) {
		struct hg_grant_info g;
		const char *name;
		char who[64];

		if (hg_state_grant(s, i, &g) < 0)
			continue;
		name = id_name(s, g.gid ? HG_KEY_GIDS : HG_KEY_UIDS, g.id);
		if (name)
			snprintf(who, sizeof(who), "%s %u (%s)", g.gid ? "gid" : "uid", g.id, name);
		else
			snprintf(who, sizeof(who), "%s %u", g.gid ? "gid" : "uid", g.id);
		printf("  %-26s %-34s ", who, grant_target(&g));
		if (g.timeout_ms)
			printf("runtime, expires in %llus\n",
			       (unsigned long long)((g.expires_ms + 999) / 1000));
		else if (g.source == HG_GRANT_NAME)
			printf("config (container name %s)\n", g.container);
		else if (g.source == HG_GRANT_LABEL)
			printf("label (container %s)\n", g.container);
		else
			printf("config\n");
	}
}

static void print_grants_json(const struct hg_state *s)
{
	size_t n = hg_state_grant_count(s);

	printf(",\"grants\":[");
	for (size_t i = 0, first = 1; i < n; i++) {
		struct hg_grant_info g;
		const char *name;

		if (hg_state_grant(s, i, &g) < 0)
			continue;
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
		printf(",\"source\":\"%s\",\"container\":",
		       g.timeout_ms ? "runtime" : g.source == HG_GRANT_LABEL ? "label" : "config");
		if (g.source != HG_GRANT_CONFIG)
			json_str(stdout, g.container);
		else
			fputs("null", stdout);
		printf(",\"by_name\":%s,\"timeout_ms\":", g.source == HG_GRANT_NAME ? "true" : "false");
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

int cmd_status(int argc, char **argv)
{
	struct hg_policy *p = NULL;
	struct hg_state *s = NULL;
	struct hg_nl *nl = NULL;
	struct hg_error e = { 0 };
	char **diff = NULL, **warn = NULL;
	size_t n_warn = 0;
	int n_diff = 0, ret, cfg;
	bool json = false;

	for (int i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			cmd_usage(stdout, "status");
			printf("  --json  one JSON object (schema: doc/json.md)\n");
			return EXIT_OK;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else {
			err_msg("status: unexpected argument '%s'", argv[i]);
			return EXIT_INVALID;
		}
	}
	/* An invalid config still leaves the live table worth showing. */
	cfg = load_policy(&p);
	ret = open_nl(&nl);
	if (ret)
		goto out;
	if (hg_state_read(nl, &s, &e) < 0 && e.code != -ENOENT) {
		ret = fail(&e);
		goto out;
	}
	if (s) {
		size_t np, ni = 0;
		const char **pat = state_patterns(s, &np);
		const char *const *ign = p ? hg_policy_ignored_ifaces(p, &ni) : NULL;
		if (pat)
			uncovered_list(pat, np, ign, ni, &warn, &n_warn);
		free(pat);
	}
	if (p) {
		/* names the config skipped come first */
		size_t nc;
		const char *const *cw = hg_policy_warnings(p, &nc);
		char **all = calloc(n_warn + nc + 1, sizeof(*all));
		if (!all) {
			err_msg("out of memory");
			ret = EXIT_FAIL;
			goto out;
		}
		for (size_t i = 0; i < nc; i++)
			all[i] = strdup(cw[i]);
		for (size_t i = 0; i < n_warn; i++)
			all[nc + i] = warn[i];
		free(warn);
		warn = all;
		n_warn += nc;
	}
	if (s && p) {
		n_diff = hg_state_diff(s, p, &diff);
		if (n_diff < 0) {
			err_msg("out of memory");
			ret = EXIT_FAIL;
			goto out;
		}
	}

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
		if (s) {
			printf(",\"sets\":{");
			for (int k = 0; k < HG_KEY_MAX; k++) {
				if (is_grant_key(k))
					continue;
				if (k)
					putchar(',');
				print_set_json(s, k);
			}
			putchar('}');
			print_grants_json(s);
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
		printf(",\"warnings\":[");
		for (size_t i = 0; i < n_warn; i++) {
			if (i)
				putchar(',');
			json_str(stdout, warn[i]);
		}
		printf("]}\n");
	} else {
		if (!s)
			printf("table inet hostguard: not loaded (run 'hostguard apply')\n");
		else if (!p)
			printf("table inet hostguard: loaded; config %s is invalid, cannot compare\n", config_path);
		else if (n_diff == 0)
			printf("table inet hostguard: loaded, in sync with %s\n", config_label());
		else
			printf("table inet hostguard: loaded, DRIFTED from %s:\n", config_label());
		for (int i = 0; i < n_diff; i++)
			printf("  - %s\n", diff[i]);
		if (s) {
			printf("sets:\n");
			for (int k = 0; k < HG_KEY_MAX; k++)
				if (!is_grant_key(k))
					print_set_text(s, k);
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
			print_grants_text(s);
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
			printf("warning: %s\n", warn[i]);
	}
	ret = cfg;
out:
	names_free();
	lines_free(warn, n_warn);
	hg_lines_free(diff, n_diff > 0 ? (size_t)n_diff : 0);
	hg_state_free(s);
	hg_nl_close(nl);
	hg_policy_free(p);
	return ret;
}

int cmd_check(int argc, char **argv)
{
	struct hg_policy *p = NULL;
	struct hg_state *s = NULL;
	struct hg_nl *nl = NULL;
	struct hg_error e = { 0 };
	char **diff = NULL;
	int n_diff = 0, ret;

	if (argc > 1) {
		if (is_help(argv[1])) {
			cmd_usage(stdout, "check");
			printf("  exit 0: in sync; 1: table missing or drifted, a user or group name in\n"
			       "  the config that does not resolve, or a bridge/macvlan/ipvlan (or a port of\n"
			       "  a covered bridge) that container_ifaces does not cover and ignore_ifaces\n"
			       "  does not list (one line each says what); 2: the config is invalid;\n"
			       "  4: needs root or CAP_NET_ADMIN\n");
			return EXIT_OK;
		}
		err_msg("check: unexpected argument '%s'", argv[1]);
		return EXIT_INVALID;
	}
	ret = load_policy(&p);
	if (ret)
		return ret;
	ret = open_nl(&nl);
	if (ret)
		goto out;
	if (hg_state_read(nl, &s, &e) < 0) {
		if (e.code == -ENOENT) {
			printf("hostguard: table inet hostguard is not loaded\n");
			ret = EXIT_FAIL;
		} else {
			ret = fail(&e);
		}
		goto out;
	}
	n_diff = hg_state_diff(s, p, &diff);
	if (n_diff < 0) {
		err_msg("out of memory");
		ret = EXIT_FAIL;
	} else if (n_diff > 0) {
		if (n_diff > 1)
			printf("hostguard: drifted: %s (and %d more; see 'hostguard status')\n", diff[0], n_diff - 1);
		else
			printf("hostguard: drifted: %s\n", diff[0]);
		ret = EXIT_FAIL;
	} else {
		printf("hostguard: in sync with %s\n", config_label());
	}
	if (ret == EXIT_OK) {
		/* in sync, but is it what was meant?  A skipped name, or an
		 * interface that no pattern covers, is worth an alarm */
		size_t nc, np, ni, nu = 0;
		const char *const *cw = hg_policy_warnings(p, &nc);
		const char *const *ign = hg_policy_ignored_ifaces(p, &ni);
		const char **pat = state_patterns(s, &np);
		char **unc = NULL;

		for (size_t i = 0; i < nc; i++)
			printf("hostguard: %s\n", cw[i]);
		if (!pat || uncovered_list(pat, np, ign, ni, &unc, &nu) < 0) {
			err_msg("check: cannot list interfaces");
			ret = EXIT_FAIL;
		}
		for (size_t i = 0; i < nu; i++)
			printf("hostguard: uncovered: %s\n", unc[i]);
		if (nc || nu)
			ret = EXIT_FAIL;
		lines_free(unc, nu);
		free(pat);
	}
out:
	hg_lines_free(diff, n_diff > 0 ? (size_t)n_diff : 0);
	hg_state_free(s);
	hg_nl_close(nl);
	hg_policy_free(p);
	return ret;
}
