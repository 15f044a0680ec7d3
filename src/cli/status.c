/* SPDX-License-Identifier: GPL-2.0-or-later */
/* status, check */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *id_name(enum hg_key k, uint32_t id)
{
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
			const char *name = id_name(k, lo);
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
			const char *name = id_name(k, lo);
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
		size_t np;
		char **pat = state_patterns(s, &np);
		if (pat)
			uncovered_warnings(pat, np, &warn, &n_warn);
		free(pat);
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
				if (k)
					putchar(',');
				print_set_json(s, k);
			}
			printf("},\"counters\":{");
			for (int ch = 0; ch < HG_CHAIN_MAX; ch++) {
				uint64_t pk, by;
				hg_state_drops(s, ch, &pk, &by);
				printf("%s\"%s\":{\"dropped_packets\":%llu,\"dropped_bytes\":%llu}",
				       ch ? "," : "", ch == HG_CHAIN_EGRESS ? "egress" : "ingress_local",
				       (unsigned long long)pk, (unsigned long long)by);
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
				print_set_text(s, k);
			printf("drops since the last apply:\n");
			for (int ch = 0; ch < HG_CHAIN_MAX; ch++) {
				uint64_t pk, by;
				hg_state_drops(s, ch, &pk, &by);
				printf("  %-14s (%s) %llu packets, %llu bytes\n",
				       ch == HG_CHAIN_EGRESS ? "egress" : "ingress_local", chain_dir[ch],
				       (unsigned long long)pk, (unsigned long long)by);
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
			printf("  exit 0: in sync; 1: table missing or drifted (one line says what);\n"
			       "  2: the config is invalid; 4: needs root or CAP_NET_ADMIN\n");
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
out:
	hg_lines_free(diff, n_diff > 0 ? (size_t)n_diff : 0);
	hg_state_free(s);
	hg_nl_close(nl);
	hg_policy_free(p);
	return ret;
}
