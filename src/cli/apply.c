/* SPDX-License-Identifier: GPL-2.0-or-later */
/* apply, remove */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli.h"

int cmd_apply(int argc, char **argv)
{
	struct hg_policy *p = NULL;
	struct hg_nl *nl = NULL;
	struct hg_error e = { 0 };
	bool dry = false;
	int ret, lock = -1;

	for (int i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			cmd_usage(stdout, "apply");
			printf("  --dry-run  print the ruleset in nft syntax and change nothing\n");
			return EXIT_OK;
		} else if (strcmp(argv[i], "--dry-run") == 0) {
			dry = true;
		} else {
			err_msg("apply: unexpected argument '%s'", argv[i]);
			cmd_usage(stderr, "apply");
			return EXIT_INVALID;
		}
	}
	/* shared: no edit rewrites the config while apply reads and loads it */
	if (!dry)
		lock = lock_config_dir(LOCK_SH, false);
	ret = load_policy(&p);
	if (ret)
		goto out;
	if (dry) {
		char *text = hg_policy_to_nft(p);
		if (!text) {
			err_msg("out of memory");
			ret = EXIT_FAIL;
		} else {
			fputs(text, stdout);
			free(text);
		}
		goto out;
	}
	ret = open_nl(&nl);
	if (ret)
		goto out;
	ret = hg_apply(nl, p, &e);
	if (ret < 0) {
		ret = fail(&e);
		goto out;
	}
	printf("hostguard: %s table inet hostguard (%zu uids, %zu gids, %zu interface patterns, %zu tcp and %zu udp port entries, %zu tcp and %zu udp published)\n",
	       ret ? "applied" : "already in sync:",
	       hg_policy_count(p, HG_KEY_UIDS), hg_policy_count(p, HG_KEY_GIDS),
	       hg_policy_count(p, HG_KEY_IFACES), hg_policy_count(p, HG_KEY_TCP),
	       hg_policy_count(p, HG_KEY_UDP), hg_policy_count(p, HG_KEY_PUBLISHED_TCP),
	       hg_policy_count(p, HG_KEY_PUBLISHED_UDP));
	ret = EXIT_OK;
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
		printf("hostguard: removed table inet hostguard\n");
	}
	hg_nl_close(nl);
	return ret;
}
