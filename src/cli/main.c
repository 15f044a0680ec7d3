/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hostguard: a small CLI over libhostguard.  One table entry per command;
 * the help text is generated from it. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "record.h"

const char *prog = "hostguard";
const char *config_path = HG_DEFAULT_CONFIG;
bool config_explicit;
bool config_missing;

static const struct cmd commands[] = {
	{ "apply", cmd_apply, "[--dry-run [--full]] [--defaults] [--reset-counters] [--quiet] [--force]",
	  "bring table inet hostguard to the config, in one transaction", CAPS_NET_ADMIN },
	{ "reset-counters", cmd_apply, "",
	  "zero the drop counters (apply --reset-counters)", CAPS_NET_ADMIN },
	{ "status", cmd_status, "[--json]",
	  "show the live table, whether it matches the config, and drop counters", CAPS_NET_ADMIN },
	{ "check", cmd_check, "[--json]",
	  "exit 0 if the live table matches the config, 1 if missing, drifted or incomplete,\n"
	  "      3 if it differs only by --runtime edits", CAPS_NET_ADMIN },
	{ "save", cmd_save, "[--dry-run] [--force]",
	  "write the table's runtime entries (--runtime edits) to the config", CAPS_NET_ADMIN | CAPS_CHOWN },
	{ "remove", cmd_remove, "",
	  "delete table inet hostguard (and nothing else)", CAPS_NET_ADMIN },
	{ "watch", cmd_watch, "[--json | --journal]",
	  "print denied attempts as they happen (needs log_denied = yes)", CAPS_NET_ADMIN },
	{ "follow", cmd_follow, "",
	  "apply, then keep the table in step with Docker's containers and networks", CAPS_NET_ADMIN },
	{ "audit", cmd_audit, "[--json] [--fail-on low|medium|high] [--daemon-json PATH]",
	  "containers, daemon and who reaches each container port (docker-bench ids)", CAPS_NET_ADMIN },
	{ "verify", cmd_verify, "[--uid UID|USER] [--timeout MS] [--json]",
	  "prove with real connects that a non-allowed user reaches no container", CAPS_NET_ADMIN | CAPS_SETID },
	{ "guard", cmd_guard, "",
	  "re-apply at once whenever another program changes or deletes the table", CAPS_NET_ADMIN },
	{ "ifaces", cmd_ifaces, "[--json]",
	  "list interfaces, and warn about bridges container_ifaces misses", CAPS_NET_ADMIN | CAPS_OPTIONAL },
	{ "allow-uid", cmd_edit, "[--runtime] UID|USER... | USER --to TARGET... [--for DURATION]",
	  "let these users reach container interfaces (with --to: only TARGET, an address or container name)",
	  CAPS_NET_ADMIN | CAPS_CHOWN },
	{ "revoke-uid", cmd_edit, "[--runtime] UID|USER... | USER --to TARGET...",
	  "take that back", CAPS_NET_ADMIN | CAPS_CHOWN },
	{ "allow-gid", cmd_edit, "[--runtime] GID|GROUP... | GROUP --to TARGET... [--for DURATION]",
	  "let processes with these (primary) groups reach containers (with --to: only TARGET)",
	  CAPS_NET_ADMIN | CAPS_CHOWN },
	{ "revoke-gid", cmd_edit, "[--runtime] GID|GROUP... | GROUP --to TARGET...",
	  "take that back", CAPS_NET_ADMIN | CAPS_CHOWN },
	{ "allow-port", cmd_edit, "[--runtime] tcp|udp PORT[-PORT]... | PORT[-PORT]/tcp|udp...",
	  "let containers reach these host ports", CAPS_NET_ADMIN | CAPS_CHOWN },
	{ "revoke-port", cmd_edit, "[--runtime] tcp|udp PORT[-PORT]... | PORT[-PORT]/tcp|udp...",
	  "take that back", CAPS_NET_ADMIN | CAPS_CHOWN },
	{ "add-iface", cmd_edit, "[--runtime] NAME|PREFIX*...",
	  "treat these interfaces as container interfaces", CAPS_NET_ADMIN | CAPS_CHOWN },
	{ "remove-iface", cmd_edit, "[--runtime] NAME|PREFIX*...",
	  "take that back", CAPS_NET_ADMIN | CAPS_CHOWN },
};

static const struct cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

void cmd_usage(FILE *f, const char *name)
{
	const struct cmd *c = find_cmd(name);

	if (!c)
		return;
	fprintf(f, "Usage: %s [--config PATH] %s%s%s\n  %s\n", prog, c->name,
		c->args[0] ? " " : "", c->args, c->help);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s [--config PATH] COMMAND [ARGS]\n"
		"\n"
		"Keeps local users away from container ports, and containers away from the\n"
		"host's services, with one nftables table: inet hostguard.\n"
		"\n"
		"Commands:\n", prog);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		fprintf(f, "  %s %s\n      %s\n", commands[i].name, commands[i].args, commands[i].help);
	}
	fprintf(f,
		"\n"
		"Options:\n"
		"  --config PATH          config file (default %s,\n"
		"                         or $HOSTGUARD_CONFIG); without a file the\n"
		"                         built-in defaults apply\n"
		"  -h, --help             this help; COMMAND --help for one command\n"
		"  -V, --version          print the version\n"
		"\n"
		"Environment: HOSTGUARD_CONFIG (the config), HOSTGUARD_LOCK_TIMEOUT (seconds\n"
		"apply and edits wait for the lock, default 10; then exit 1 naming its holder),\n"
		"HOSTGUARD_DOCKER_SOCKET (overrides docker_socket; none: no Docker; keep: do\n"
		"not ask Docker, keep what the live table learned from it).\n"
		"\n"
		"Exit codes: 0 ok; 1 failed (kernel refused, I/O, lock held too long; for\n"
		"apply: no config and the live table kept; for check: missing, drifted, a\n"
		"user/group name skipped, or an interface not covered; for audit: a finding\n"
		"reaching --fail-on, or Docker unreachable; for verify: a leak or an allowed\n"
		"attempt refused); 2 usage, invalid input or invalid config (nothing\n"
		"changed; at boot, with no table, apply loads the built-in defaults); 3 for\n"
		"check: the table differs from the config only by --runtime edits; 4 needs\n"
		"root or CAP_NET_ADMIN.\n"
		"\n"
		"Edits (allow-*, revoke-*, add-iface, remove-iface) change the live table in\n"
		"one transaction and the config file along with it (only that key's line);\n"
		"--runtime changes only the table until the next apply ('hostguard save'\n"
		"writes such runtime entries to the config). Repeating an edit is harmless:\n"
		"it exits 0 and says nothing changed.\n"
		"\n"
		"It acts in the network namespace it runs in. See hostguard(8) and\n"
		"hostguard.conf(5).\n", HG_DEFAULT_CONFIG);
}

int main(int argc, char **argv)
{
	const struct cmd *c;
	const char *env = getenv("HOSTGUARD_CONFIG");
	int i = 1;

	if (env && *env) {
		config_path = env;
		config_explicit = true;
	}
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (is_help(argv[i])) {
			usage(stdout);
			return EXIT_OK;
		} else if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0) {
			printf("hostguard %s\n", hg_version());
			return EXIT_OK;
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config_path = argv[++i];
			config_explicit = true;
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			config_path = argv[i] + 9;
			config_explicit = true;
		} else {
			err_msg("unknown option '%s' (see '%s --help')", argv[i], prog);
			return EXIT_INVALID;
		}
	}
	if (i == argc) {
		usage(stderr);
		return EXIT_INVALID;
	}
	if (!*config_path) {
		err_msg("empty config path");
		return EXIT_INVALID;
	}
	/* "hostguard help [COMMAND]" */
	if (strcmp(argv[i], "help") == 0) {
		if (i + 1 == argc) {
			usage(stdout);
			return EXIT_OK;
		}
		if (!find_cmd(argv[i + 1])) {
			err_msg("unknown command '%s' (see '%s --help')", argv[i + 1], prog);
			return EXIT_INVALID;
		}
		/* the command's own --help, without privilege */
		static char help_opt[] = "--help";
		char *help_argv[] = { argv[i + 1], help_opt, NULL };
		(void)caps_limit(0);
		return find_cmd(argv[i + 1])->run(2, help_argv);
	}
	c = find_cmd(argv[i]);
	if (!c) {
		err_msg("unknown command '%s' (see '%s --help')", argv[i], prog);
		return EXIT_INVALID;
	}
	argc -= i;
	argv += i;
	/* a global option after the command is a common slip: say where it goes */
	for (int j = 1; j < argc; j++) {
		if (strcmp(argv[j], "--config") == 0 || strncmp(argv[j], "--config=", 9) == 0 ||
		    strcmp(argv[j], "--version") == 0 || strcmp(argv[j], "-V") == 0) {
			bool cfg = strncmp(argv[j], "--config", 8) == 0;
			err_msg("%s: '%s' is a global option: put it before the command (%s %s %s ...)",
				c->name, argv[j], prog, cfg ? "--config PATH" : argv[j], c->name);
			return EXIT_INVALID;
		}
	}

	/* Capabilities go before anything reads input: CAP_NET_ADMIN stays for
	 * the commands that talk to the kernel, nothing for --help/--dry-run. */
	unsigned need = c->caps;
	int held;
	for (int j = 1; j < argc; j++)
		if (strcmp(argv[j], "--dry-run") == 0)
			need = (need & CAPS_NET_ADMIN) | CAPS_OPTIONAL;  /* reads the table if it may */
	for (int j = 1; j < argc; j++)
		if (is_help(argv[j]))
			need = 0;
	held = caps_limit(need);
	if (held < 0)
		return EXIT_FAIL;
	if ((need & CAPS_NET_ADMIN) && !(need & CAPS_OPTIONAL) && !(held & CAPS_NET_ADMIN)) {
		err_msg("permission denied: this command needs root or CAP_NET_ADMIN");
		return EXIT_NOPERM;
	}
	/* hostguard's own runtime grants carry a mark under the record's key;
	 * a timed element without one is tampering (security.md #22).  An
	 * edit reads the record under its lock (record_edit_begin), before
	 * it reads or writes any element, and takes the key from there. */
	if (c->run != cmd_edit) {
		struct record rec;

		if ((held & CAPS_NET_ADMIN) && record_load(&rec) == 0)
			hg_grant_set_runtime_key(rec.key);
	}
	return c->run(argc, argv);
}
