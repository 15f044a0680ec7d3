/* SPDX-License-Identifier: GPL-2.0-or-later */
/* apply, remove */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli.h"
#include "record.h"

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void print_applied(int r, const struct hg_policy *p)
{
	size_t u = hg_policy_count(p, HG_KEY_UIDS), g = hg_policy_count(p, HG_KEY_GIDS);
	size_t i = hg_policy_count(p, HG_KEY_IFACES), t = hg_policy_count(p, HG_KEY_TCP);
	size_t d = hg_policy_count(p, HG_KEY_UDP);
	size_t pt = hg_policy_count(p, HG_KEY_PUBLISHED_TCP), pu = hg_policy_count(p, HG_KEY_PUBLISHED_UDP);

	printf("hostguard: %s table inet hostguard (%zu %s, %zu %s, %zu interface %s, %zu tcp and %zu udp port %s",
	       r ? "applied" : "already in sync:", u, plural(u, "uid", "uids"), g, plural(g, "gid", "gids"),
	       i, plural(i, "pattern", "patterns"), t, d, plural(t + d, "entry", "entries"));
	/* Docker's (or the config's) published ports, when there are any */
	if (pt + pu)
		printf(", %zu tcp and %zu udp published", pt, pu);
	printf(")\n");
}

/*
 * The config could not be used (invalid, untrusted, unreadable).  With a
 * table loaded nothing changes.  With none (boot), the host is not left
 * open: the built-in defaults, the most restrictive policy there is (uid 0
 * only, no ports), are loaded, and apply still fails loudly.
 */
static int fail_closed(struct hg_nl *nl, int ret)
{
	struct hg_policy *def = NULL;
	struct hg_state *s = NULL;
	struct hg_error e = { 0 };
	int r = hg_state_read(nl, &s, &e);

	hg_state_free(s);
	if (r == 0) {
		err_msg("apply: the config is unusable; table inet hostguard is left as it is (nothing changed)");
		return ret;
	}
	if (e.code != -ENOENT) {
		fail(&e);
		return ret;
	}
	r = hg_policy_new_default(&def, &e);
	if (r == 0)
		r = hg_apply(nl, def, &e);
	if (r < 0) {
		fail(&e);
		err_msg("apply: the config is unusable and table inet hostguard is NOT loaded");
	} else {
		err_msg("apply: the config is unusable and no table was loaded: loaded the built-in defaults "
			"(uid 0 only, no ports) until it is fixed; run 'hostguard apply' again then");
	}
	hg_policy_free(def);
	return ret;
}

/*
 * The config does not exist.  Loading the defaults is right on a first run,
 * but if the live table holds more (a config someone deleted, say with
 * podman0 covered), its protection stays: the live sets are kept (the rest
 * of the table is repaired) and apply exits 1, until the config is restored
 * or --defaults asks for the defaults on purpose.
 */
static int missing_config(struct hg_nl *nl, struct hg_policy **p, bool defaults)
{
	struct hg_policy *live = NULL;
	struct hg_state *s = NULL;
	struct hg_error e = { 0 };
	int r, ret = EXIT_OK;

	if (defaults)
		return EXIT_OK;
	r = hg_state_read(nl, &s, &e);
	if (r < 0) {
		if (e.code == -ENOENT) {
			if (!config_explicit)
				printf("hostguard: note: %s does not exist; loading the built-in defaults\n",
				       config_path);
			return EXIT_OK;
		}
		return fail(&e);
	}
	r = live_beyond_defaults(s);
	if (r == 1)
		r = live_policy(s, true, &live);
	if (r < 0) {
		err_msg("apply: out of memory");
		ret = EXIT_FAIL;
	} else if (live) {
		err_msg("apply: %s does not exist, and the live table holds more than the built-in defaults: "
			"keeping its sets (restore the config, or load the defaults on purpose with "
			"'hostguard apply --defaults')", config_path);
		hg_policy_free(*p);
		*p = live;
		ret = EXIT_FAIL;
	}
	hg_state_free(s);
	return ret;
}

/*
 * apply --dry-run: what apply would change in the live table.  Returns an
 * exit code, or -1 when the whole ruleset should be printed instead (no
 * table loaded, or no privilege to read it).
 */
static int dry_delta(const struct hg_policy *p)
{
	struct hg_state *s = NULL;
	struct hg_error e = { 0 };
	struct hg_nl *nl = NULL;
	char **lines = NULL;
	int n, ret = EXIT_OK;

	if (hg_nl_open(&nl, &e) < 0 || hg_state_read(nl, &s, &e) < 0) {
		hg_nl_close(nl);
		if (e.code == -ENOENT) {
			printf("# table inet hostguard is not loaded: apply would create it\n");
			return -1;
		}
		if (e.code == -EPERM) {
			fprintf(stderr, "hostguard: note: cannot read the live table without CAP_NET_ADMIN; "
					"this is the whole ruleset\n");
			return -1;
		}
		return fail(&e);
	}
	n = hg_state_delta(s, p, &lines);
	if (n < 0) {
		err_msg("out of memory");
		ret = EXIT_FAIL;
	} else if (n == 0) {
		printf("hostguard: in sync: apply would change nothing\n");
	} else {
		printf("hostguard: apply would change:\n");
		print_delta(lines, (size_t)n);
		hg_lines_free(lines, (size_t)n);
	}
	hg_state_free(s);
	hg_nl_close(nl);
	return ret;
}

int cmd_apply(int argc, char **argv)
{
	struct hg_policy *p = NULL;
	struct hg_nl *nl = NULL;
	struct hg_error e = { 0 };
	bool dry = false, defaults = false, quiet = false, full = false, force = false;
	char **delta = NULL;
	size_t n_delta = 0;
	unsigned flags = 0;
	int ret, lock = -1, kept = EXIT_OK;

	/* "hostguard reset-counters" is "apply --reset-counters" */
	bool reset_cmd = strcmp(argv[0], "reset-counters") == 0;

	if (reset_cmd)
		flags |= HG_APPLY_RESET_COUNTERS;

	for (int i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			if (reset_cmd) {
				cmd_usage(stdout, "reset-counters");
				printf("  Zeroes the drop counters (status shows since when they count), in the\n"
				       "  same transaction as an apply of the config.\n");
				return EXIT_OK;
			}
			cmd_usage(stdout, "apply");
			printf("  --dry-run         print what apply would change in the live table, and\n"
			       "                    change nothing (the whole ruleset when the table is\n"
			       "                    not loaded or cannot be read without privilege)\n"
			       "  --dry-run --full  the whole ruleset in nft syntax (needs no privilege)\n"
			       "  --defaults        when the config does not exist, load the built-in\n"
			       "                    defaults even over a loaded table that holds more\n"
			       "  --reset-counters  also zero the drop counters (they are cumulative)\n"
			       "  --quiet           say nothing when the table is already in sync\n"
			       "                    (an in-sync apply sends nothing to the kernel)\n"
			       "  --force           apply even when container_ifaces covers the interface\n"
			       "                    of the default route or of this SSH session (a\n"
			       "                    repair is never refused: the config applied last,\n"
			       "                    or any config when hostguard's table has gone)\n"
			       "  Without a config, a loaded table that holds more than the defaults is\n"
			       "  kept (exit 1). With an invalid config nothing changes (exit 2), except\n"
			       "  when no table is loaded: then the built-in defaults are loaded (exit 2).\n");
			return EXIT_OK;
		} else if (strcmp(argv[i], "--dry-run") == 0 && !reset_cmd) {
			dry = true;
		} else if (strcmp(argv[i], "--full") == 0 && !reset_cmd) {
			full = true;
		} else if (strcmp(argv[i], "--defaults") == 0 && !reset_cmd) {
			defaults = true;
		} else if (strcmp(argv[i], "--reset-counters") == 0) {
			flags |= HG_APPLY_RESET_COUNTERS;
		} else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
			quiet = true;
		} else if (strcmp(argv[i], "--force") == 0) {
			force = true;
		} else {
			err_msg("apply: unexpected argument '%s'", argv[i]);
			cmd_usage(stderr, "apply");
			return EXIT_INVALID;
		}
	}
	/* shared: no edit rewrites the config while apply reads and loads it */
	if (!dry) {
		ret = config_lock("apply", LOCK_SH, false, &lock);
		if (ret)
			return ret;
	}
	ret = load_policy(&p);
	if (dry) {
		char *text;
		if (ret)
			goto out;
		print_policy_warnings(p);
		if (!full) {
			ret = dry_delta(p);
			if (ret >= 0)
				goto out;
			ret = EXIT_OK;  /* no table, or no privilege: the whole ruleset */
		}
		text = hg_policy_to_nft(p);
		if (!text) {
			err_msg("out of memory");
			ret = EXIT_FAIL;
		} else {
			fputs(text, stdout);
			free(text);
		}
		goto out;
	}
	if (ret) {
		int r = open_nl(&nl);
		ret = r ? r : fail_closed(nl, ret);
		goto out;
	}
	print_policy_warnings(p);
	/* a pattern over the uplink would cut every new connection to the
	 * host on it */
	ret = policy_rails("apply", p, force);
	if (ret)
		goto out;
	ret = open_nl(&nl);
	if (ret)
		goto out;
	if (config_missing) {
		kept = missing_config(nl, &p, defaults);
		if (kept != EXIT_OK && kept != EXIT_FAIL) {
			ret = kept;
			goto out;
		}
	}
	/* recorded: only the config's own policy (not the live sets kept for
	 * a missing one) */
	ret = record_apply(nl, p, flags, kept == EXIT_OK, &delta, &n_delta, &e);
	if (ret < 0) {
		ret = fail(&e);
		goto out;
	}
	print_delta(delta, n_delta);
	hg_lines_free(delta, n_delta);
	if (ret || !quiet)
		print_applied(ret, p);
	if (flags & HG_APPLY_RESET_COUNTERS)
		printf("hostguard: drop counters zeroed\n");
	ret = kept;
out:
	if (lock >= 0)
		close(lock);
	hg_nl_close(nl);
	hg_policy_free(p);
	return ret;
}

int cmd_remove(int argc, char **argv)
{
	struct hg_nl *nl = NULL;
	struct hg_error e = { 0 };
	int ret;

	if (argc > 1) {
		if (is_help(argv[1])) {
			cmd_usage(stdout, "remove");
			return EXIT_OK;
		}
		err_msg("remove: unexpected argument '%s'", argv[1]);
		return EXIT_INVALID;
	}
	ret = open_nl(&nl);
	if (ret)
		return ret;
	if (hg_remove(nl, &e) < 0) {
		if (e.code == -ENOENT) {
			printf("hostguard: table inet hostguard is not loaded; nothing to remove\n");
			ret = EXIT_OK;
		} else {
			ret = fail(&e);
		}
	} else {
		record_forget();
		printf("hostguard: removed table inet hostguard\n");
	}
	hg_nl_close(nl);
	return ret;
}
