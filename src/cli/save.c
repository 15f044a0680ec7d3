/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * save: the live table's runtime entries into the config, like firewalld's
 * --runtime-to-permanent.  What "allow-* --runtime" added is added to the
 * config, what "revoke-* --runtime" removed is removed from it, in one
 * atomic config edit (hg_config_edit_prepare_many: every key in one new
 * version of the file); the table is not touched.  Grants with --for are
 * not saved: the kernel expires them.
 *
 * Only hostguard's own runtime edits are saved: when the record of what
 * hostguard last put in the kernel (record.c) says another program changed
 * the table, or the config was edited since it was applied, or there is no
 * record, save refuses (--force saves the table's differences anyway).
 */
#include <errno.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli.h"
#include "record.h"

static void save_usage(FILE *f)
{
	cmd_usage(f, "save");
	fprintf(f, "  Writes what --runtime edits changed in the live table to the config (one\n"
		   "  atomic edit; the table is not touched), and prints what it wrote. Grants\n"
		   "  with --for are not saved (the kernel expires them).\n"
		   "  --dry-run  print what would be written, write nothing\n"
		   "  --force    save even when the table was changed outside hostguard, the\n"
		   "             config was edited since the last apply, or hostguard has no\n"
		   "             record of its last change (every difference of a config key)\n"
		   "  exit 0: saved, or nothing to save; 1: refused (see above), table not\n"
		   "  loaded, or the write failed; 2: invalid config or usage\n");
}

static const char *refusal(enum cause c)
{
	switch (c) {
	case CAUSE_OUTSIDE:
		return "the table was changed outside hostguard: not saving what another program put there "
		       "('hostguard status' shows it; 'hostguard apply' restores the config; --force saves it)";
	case CAUSE_CONFIG:
		return "the config was edited since it was last applied: the table's differences are not all "
		       "runtime edits ('hostguard apply' loads the config and drops the runtime entries; "
		       "--force saves every difference)";
	case CAUSE_UNKNOWN:
		return "hostguard has no record of its last change to this table (written by apply and edits "
		       "run as root): it cannot tell runtime edits from another program's ('hostguard status'; "
		       "--force saves every difference)";
	default:
		return NULL;
	}
}

int cmd_save(int argc, char **argv)
{
	struct hg_policy *full = NULL, *file = NULL;
	struct hg_state *s = NULL;
	struct hg_nl *nl = NULL;
	struct hg_error e = { 0 };
	struct hg_config_edit *ce = NULL;
	struct hg_config_change *ch = NULL;
	struct record_edit re = { .lock = -1 };
	struct rt_list rt = { 0 };
	const char **vals = NULL;
	char **lines = NULL, **diff = NULL;
	size_t n_ch = 0, n_lines = 0, expiring = 0;
	bool dry = false, force = false;
	enum cause cause = CAUSE_UNKNOWN;
	int ret = EXIT_FAIL, lock = -1, n_diff = 0, r;

	for (int i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			save_usage(stdout);
			return EXIT_OK;
		} else if (strcmp(argv[i], "--dry-run") == 0) {
			dry = true;
		} else if (strcmp(argv[i], "--force") == 0) {
			force = true;
		} else {
			err_msg("save: unexpected argument '%s'", argv[i]);
			save_usage(stderr);
			return EXIT_INVALID;
		}
	}
	/* exclusive, as for edits: nothing else rewrites the config meanwhile */
	ret = config_lock("save", dry ? LOCK_SH : LOCK_EX, !dry, &lock);
	if (ret)
		return ret;
	ret = load_policy(&full);
	if (ret)
		goto out;
	r = load_policy_quiet(&file);
	if (r < 0) {
		err_msg("save: cannot read %s again: %s", config_path, strerror(-r));
		ret = EXIT_FAIL;
		goto out;
	}
	ret = open_nl(&nl);
	if (ret)
		goto out;
	if (hg_state_read(nl, &s, &e) < 0) {
		if (e.code == -ENOENT) {
			err_msg("save: table inet hostguard is not loaded: nothing to save");
			ret = EXIT_FAIL;
		} else {
			ret = fail(&e);
		}
		goto out;
	}
	ret = EXIT_FAIL;
	n_diff = hg_state_diff(s, full, &diff);
	if (n_diff < 0 || runtime_list(s, full, file, &rt) < 0 ||
	    drift_cause(nl, s, &rt, n_diff, &cause) < 0) {
		err_msg("save: out of memory");
		goto out;
	}
	for (size_t i = 0; i < hg_state_grant_count(s); i++) {
		struct hg_grant_info g;
		if (hg_state_grant(s, i, &g) == 0 && g.timeout_ms)
			expiring++;
	}
	if (expiring)
		printf("hostguard: note: %zu grant%s with --for not saved: the kernel expires %s\n",
		       expiring, expiring == 1 ? "" : "s", expiring == 1 ? "it" : "them");
	if (rt.n == 0) {
		printf("hostguard: nothing to save: the table holds no runtime entries%s\n",
		       n_diff ? " (its other differences from the config are not: see 'hostguard status')" : "");
		ret = EXIT_OK;
		goto out;
	}
	if (refusal(cause) && !force) {
		err_msg("save: %s; nothing changed", refusal(cause));
		goto out;
	}

	/* one change per key and direction: removals first */
	ch = calloc(2 * HG_KEY_MAX, sizeof(*ch));
	vals = calloc(rt.n, sizeof(*vals));
	lines = calloc(rt.n, sizeof(*lines));
	if (!ch || !vals || !lines)
		goto out;
	for (int op = HG_EDIT_REMOVE, at = 0; op >= HG_EDIT_ADD; op--) {
		for (int k = 0; k < HG_KEY_MAX; k++) {
			size_t first = (size_t)at;
			for (size_t i = 0; i < rt.n; i++) {
				if (rt.v[i].key != k || rt.v[i].removed != (op == HG_EDIT_REMOVE))
					continue;
				vals[at++] = rt.v[i].value;
				if (asprintf(&lines[n_lines], "%c %s %s", op == HG_EDIT_ADD ? '+' : '-',
					     hg_key_name(k), rt.v[i].value) < 0)
					goto out;
				n_lines++;
			}
			if ((size_t)at > first)
				ch[n_ch++] = (struct hg_config_change){ k, op, vals + first, (size_t)at - first };
		}
	}
	if (dry) {
		printf("hostguard: save would write to %s:\n", config_path);
		print_delta(lines, n_lines);
		ret = EXIT_OK;
		goto out;
	}
	hg_config_edit_cleanup(config_path, NULL);
	record_edit_begin(&re, nl, true, -1);
	r = hg_config_edit_prepare_many(config_path, ch, n_ch, &ce, &e);
	if (ce)
		re.config_same = hg_config_edit_same(ce);
	if (r <= 0)
		record_edit_release(&re);  /* before anything is printed */
	if (r < 0) {
		err_msg("save: %s; nothing changed", e.message);
		ret = e.code == -EINVAL || e.code == -ENOENT || e.code == -EPERM ? EXIT_INVALID : EXIT_FAIL;
		goto out;
	}
	if (r == 0) {
		printf("hostguard: nothing to save: %s already says so\n", config_path);
		ret = EXIT_OK;
		goto out;
	}
	if (hg_config_edit_commit(ce, &e) < 0) {
		record_edit_release(&re);
		err_msg("save: %s; nothing changed", e.message);
		goto out;
	}
	hg_config_edit_finish(ce);
	ce = NULL;
	/* the record's lock goes before anything is printed */
	record_edit_end(&re, nl, true, "save");
	printf("hostguard: saved to %s:\n", config_path);
	print_delta(lines, n_lines);
	ret = EXIT_OK;
out:
	hg_config_edit_abort(ce);
	record_edit_release(&re);
	if (lock >= 0)
		close(lock);
	lines_free(lines, n_lines);
	hg_lines_free(diff, n_diff > 0 ? (size_t)n_diff : 0);
	free(vals);
	free(ch);
	rt_list_free(&rt);
	hg_state_free(s);
	hg_nl_close(nl);
	hg_policy_free(full);
	hg_policy_free(file);
	return ret;
}
