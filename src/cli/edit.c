/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * allow-uid, revoke-uid, allow-gid, revoke-gid, allow-port, revoke-port,
 * add-iface, remove-iface: one set, one transaction, the config along.
 *
 * Order, under the config's exclusive lock (lock.c; a --runtime edit, which
 * skips 2, 3 and 5, takes none), and from 3 to 5 the record's (record.c):
 *   1. every value is parsed: one bad value and nothing changes;
 *   2. the new config is written to a temporary file beside the old one
 *      (nothing changes if that fails);
 *   3. it is renamed over the config, the old one kept under a second name;
 *   4. the kernel edit is sent (one batch, generation-guarded);
 *   5. the old version is dropped - or, if the kernel refused, renamed back.
 * A crash leaves the old config or the new one, whole; between 3 and 4 the
 * config is ahead of the table, which check reports and apply repairs.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "docker.h"
#include "internal.h"
#include "record.h"

struct edit_cmd {
	const char *name;
	enum hg_key key;       /* HG_KEY_TCP stands for "tcp or udp, given first" */
	enum hg_edit op;
	const char *what;      /* for messages */
};

static const struct edit_cmd edit_cmds[] = {
	{ "allow-uid", HG_KEY_UIDS, HG_EDIT_ADD, "uid" },
	{ "revoke-uid", HG_KEY_UIDS, HG_EDIT_REMOVE, "uid" },
	{ "allow-gid", HG_KEY_GIDS, HG_EDIT_ADD, "gid" },
	{ "revoke-gid", HG_KEY_GIDS, HG_EDIT_REMOVE, "gid" },
	{ "allow-port", HG_KEY_TCP, HG_EDIT_ADD, "port" },
	{ "revoke-port", HG_KEY_TCP, HG_EDIT_REMOVE, "port" },
	{ "add-iface", HG_KEY_IFACES, HG_EDIT_ADD, "interface pattern" },
	{ "remove-iface", HG_KEY_IFACES, HG_EDIT_REMOVE, "interface pattern" },
};

/*
 * A config that does not exist is edited as if it held the defaults.  That
 * is right on a first run (the table holds the defaults), but when the live
 * table holds more, the edit would write a config that drops it, and the
 * next apply would load that: refuse, like apply.
 */
static int refuse_missing_config(struct hg_nl *nl, const char *cmd)
{
	struct hg_state *s = NULL;
	struct hg_error e = { 0 };
	int fd, r;

	fd = open(config_path, O_PATH | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT) {
		if (fd >= 0)
			close(fd);
		return EXIT_OK;
	}
	if (hg_state_read(nl, &s, &e) < 0)
		return e.code == -ENOENT ? EXIT_OK : fail(&e);
	r = live_beyond_defaults(s);
	hg_state_free(s);
	if (r < 0) {
		err_msg("%s: out of memory", cmd);
		return EXIT_FAIL;
	}
	if (r == 0)
		return EXIT_OK;
	err_msg("%s: %s does not exist, and the live table holds more than the built-in defaults; "
		"an edit would write a config without it. Restore the config first (or "
		"'hostguard apply --defaults'), or use --runtime; nothing changed", cmd, config_path);
	return EXIT_FAIL;
}

/* The values of an edit, as typed: at most 10, each cut at 64 bytes. */
static void print_values(const char *const *v, size_t n)
{
	for (size_t i = 0; i < n && i < 10; i++)
		printf("%s%.64s%s", i ? ", " : "", v[i], strlen(v[i]) > 64 ? "..." : "");
	if (n > 10)
		printf(" and %zu more", n - 10);
}

static void edit_usage(FILE *f, const struct edit_cmd *c)
{
	cmd_usage(f, c->name);
	fprintf(f, "  --runtime  change only the live table, not the config file\n"
		   "  Values are checked first: one bad value and nothing changes.\n");
	if (HG_KIND(c->key) == HG_KIND_IFNAME && c->op == HG_EDIT_ADD)
		fprintf(f, "  --force    even a pattern that covers the interface of the default route\n"
			   "             or of this SSH session (new connections to the host through\n"
			   "             it would be dropped)\n");
	if (HG_KIND(c->key) == HG_KIND_ID)
		fprintf(f, "  --to TARGET     a grant: only this destination (key %s of the config):\n"
			   "                  ADDRESS, PREFIX, [IPv6 ADDRESS/PREFIX] or a container NAME,\n"
			   "                  with an optional :PORT or :FIRST-LAST (no port: every port),\n"
			   "                  e.g. 192.0.2.2:8080, 192.0.2.0/24, [2001:db8::2]:8000-8100,\n"
			   "                  web1:8080 (every address of the running container web1,\n"
			   "                  followed by 'hostguard follow'); repeat it: all --to are\n"
			   "                  one transaction\n"
			   "%s",
			c->key == HG_KEY_UIDS ? "grant_uids" : "grant_gids",
			c->op == HG_EDIT_ADD
			? "  --for DURATION  a runtime grant that the kernel expires: 90s, 30m, 2h, 1d\n"
			  "                  (not written to the config; without --to: every address;\n"
			  "                  addresses only, like --runtime)\n" : "");
}

/* "90s", "30m", "2h", "1d" in milliseconds; 0 when invalid */
static uint64_t parse_duration(const char *s)
{
	char *end;
	unsigned long long v;
	uint64_t unit;

	if (!s || s[0] < '0' || s[0] > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || v == 0)
		return 0;
	if (strcmp(end, "s") == 0 || !*end)
		unit = 1000;
	else if (strcmp(end, "m") == 0)
		unit = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		unit = 3600 * 1000;
	else if (strcmp(end, "d") == 0)
		unit = 86400 * 1000;
	else
		return 0;
	if (v > 366ULL * 86400 * 1000 / unit)
		return 0;
	return v * unit;
}

int cmd_edit(int argc, char **argv)
{
	const struct edit_cmd *c = NULL;
	struct hg_config_edit *ce = NULL;
	struct hg_nl *nl = NULL;
	struct hg_policy *resolver = NULL;   /* container names: their addresses */
	struct hg_error e = { 0 };
	char **vals = NULL;        /* argv's own strings, or the grants */
	const char **kvals = NULL, **targets = NULL;
	char **grants = NULL;
	size_t n = 0, nk = 0, nt = 0, n_grants = 0;
	uint64_t timeout_ms = 0;
	bool force = false, runtime = false, loaded = true, config_changed = false;
	struct record_edit re = { .lock = -1 };
	enum hg_key key;
	int ret = EXIT_FAIL, lock = -1, kr = 0, cr = 0;

	for (size_t i = 0; i < sizeof(edit_cmds) / sizeof(edit_cmds[0]); i++)
		if (strcmp(argv[0], edit_cmds[i].name) == 0)
			c = &edit_cmds[i];
	if (!c)
		return EXIT_INVALID;
	key = c->key;
	vals = calloc((size_t)argc, sizeof(*vals));
	targets = calloc((size_t)argc, sizeof(*targets));
	if (!vals || !targets) {
		free(vals);
		free(targets);
		return EXIT_FAIL;
	}
	for (int i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			edit_usage(stdout, c);
			free(vals);
			free(targets);
			return EXIT_OK;
		}
		if (strcmp(argv[i], "--runtime") == 0) {
			runtime = true;
			continue;
		}
		if (strcmp(argv[i], "--force") == 0 && HG_KIND(c->key) == HG_KIND_IFNAME) {
			force = true;
			continue;
		}
		if ((strcmp(argv[i], "--to") == 0 || strcmp(argv[i], "--for") == 0) &&
		    HG_KIND(c->key) == HG_KIND_ID) {
			bool to = argv[i][2] == 't';
			if (i + 1 >= argc) {
				err_msg("%s: %s needs a value; nothing changed", c->name, argv[i]);
				ret = EXIT_INVALID;
				goto out;
			}
			if (to) {
				targets[nt++] = argv[++i];
				continue;
			}
			if (c->op != HG_EDIT_ADD || !(timeout_ms = parse_duration(argv[i + 1]))) {
				err_msg(c->op != HG_EDIT_ADD ? "%s: --for is only for allowing; nothing changed"
							      : "%s: invalid duration '%s' (expected e.g. 90s, 30m, 2h, 1d); nothing changed",
					c->name, argv[i + 1]);
				ret = EXIT_INVALID;
				goto out;
			}
			i++;
			continue;
		}
		if (strcmp(argv[i], "--") == 0) {
			for (i++; i < argc; i++)
				vals[n++] = argv[i];
			break;
		}
		/* anything else, "-1" included, is a value and is checked as one */
		vals[n++] = argv[i];
	}
	if (c->key == HG_KEY_TCP && n && strchr(vals[0], '/')) {
		/* ufw's form: 53/udp 5353/udp; one set per transaction, so one
		 * protocol per command */
		const char *proto = strchr(vals[0], '/') + 1;
		for (size_t i = 0; i < n; i++) {
			char *slash = strchr(vals[i], '/');
			if (!slash || (strcmp(slash + 1, "tcp") != 0 && strcmp(slash + 1, "udp") != 0)) {
				err_msg("%s: '%s': expected PORT/tcp or PORT/udp", c->name, vals[i]);
				ret = EXIT_INVALID;
				goto out;
			}
			if (strcmp(slash + 1, proto) != 0) {
				err_msg("%s: '%s' and '%s': one protocol per command (each is one transaction on one set); nothing changed",
					c->name, vals[0], vals[i]);
				ret = EXIT_INVALID;
				goto out;
			}
		}
		key = strcmp(proto, "tcp") == 0 ? HG_KEY_TCP : HG_KEY_UDP;
		for (size_t i = 0; i < n; i++)
			*strchr(vals[i], '/') = '\0';
	} else if (c->key == HG_KEY_TCP) {
		if (n == 0 || (strcmp(vals[0], "tcp") != 0 && strcmp(vals[0], "udp") != 0)) {
			if (n)
				err_msg("%s: unknown protocol '%s' (expected tcp or udp)", c->name, vals[0]);
			else
				err_msg("%s: missing protocol and ports (see '%s %s --help')", c->name, prog, c->name);
			ret = EXIT_INVALID;
			goto out;
		}
		key = strcmp(vals[0], "tcp") == 0 ? HG_KEY_TCP : HG_KEY_UDP;
		memmove(vals, vals + 1, --n * sizeof(*vals));
	}
	if (n == 0) {
		err_msg("%s: missing value (see '%s %s --help')", c->name, prog, c->name);
		ret = EXIT_INVALID;
		goto out;
	}
	if (HG_KIND(key) == HG_KIND_IFNAME && c->op == HG_EDIT_ADD) {
		ret = safety_rails(c->name, (const char *const *)vals, n, force, NULL);
		if (ret)
			goto out;
		ret = EXIT_FAIL;
	}
	if (nt || timeout_ms) {
		/* grants: USER@TARGET for each --to; --for without --to grants
		 * every address (a runtime grant: never in the config) */
		static const char *const everywhere[] = { "0.0.0.0/0", "::/0" };
		const char *const *tv = nt ? (const char *const *)targets : everywhere;
		size_t tn = nt ? nt : 2;
		if (n != 1) {
			err_msg("%s: --to and --for take one %s, got %zu; nothing changed", c->name, c->what, n);
			ret = EXIT_INVALID;
			goto out;
		}
		grants = calloc(tn, sizeof(*grants));
		if (!grants)
			goto out;
		for (size_t i = 0; i < tn; i++) {
			if (asprintf(&grants[i], "%s@%s", vals[0], tv[i]) < 0) {
				grants[i] = NULL;
				goto out;
			}
			n_grants++;
		}
		key = c->key == HG_KEY_UIDS ? HG_KEY_GRANT_UIDS : HG_KEY_GRANT_GIDS;
		free(vals);
		vals = calloc(tn, sizeof(*vals));
		if (!vals)
			goto out;
		for (size_t i = 0; i < tn; i++)
			vals[i] = grants[i];
		n = tn;
		if (timeout_ms)
			runtime = true;
	}
	if (HG_KIND(key) == HG_KIND_GRANT) {
		ret = docker_edit_resolver(c->name, key, c->op, (const char *const *)vals, n, runtime,
					   &resolver);
		if (ret)
			goto out;
		ret = EXIT_FAIL;
	}
	/* the kernel edit gets the values that resolve; revoking a user or
	 * group name that no longer resolves only removes it from the config */
	kvals = calloc(n, sizeof(*kvals));
	if (!kvals)
		goto out;
	for (size_t i = 0; i < n; i++) {
		int r = hg_value_parse(key, vals[i], NULL, NULL, &e);
		if (r == -ENOENT && c->op == HG_EDIT_REMOVE &&
		    (HG_KIND(key) == HG_KIND_ID || HG_KIND(key) == HG_KIND_GRANT)) {
			if (runtime) {
				err_msg("%s: %s: it is not in the live table (which holds ids); nothing changed",
					c->name, e.message);
				ret = EXIT_INVALID;
				goto out;
			}
			continue;
		}
		if (r < 0) {
			err_msg("%s: %s; nothing changed", c->name, e.message);
			ret = EXIT_INVALID;
			goto out;
		}
		kvals[nk++] = vals[i];
	}

	/* The config lock orders whatever reads or writes the config.  A
	 * --runtime edit does neither: its one transaction is planned on a
	 * ruleset generation and refused whole, then planned again, when
	 * another commit came first, and the record has a lock of its own. */
	if (!runtime) {
		ret = config_lock(c->name, LOCK_EX, true, &lock);
		if (ret)
			goto out;
		ret = EXIT_FAIL;
		/* what SIGKILLed edits left; no other edit runs: we hold the lock */
		hg_config_edit_cleanup(config_path, NULL);
		ret = open_nl(&nl);
		if (ret)
			goto out;
		ret = refuse_missing_config(nl, c->name);
		if (ret)
			goto out;
		ret = EXIT_FAIL;
	}
	if (!runtime) {
		cr = hg_config_edit_prepare(config_path, key, c->op, (const char *const *)vals, n, &ce, &e);
		if (cr < 0) {
			err_msg("%s: %s; nothing changed", c->name, e.message);
			ret = e.code == -EINVAL || e.code == -ENOENT || e.code == -EPERM ? EXIT_INVALID : EXIT_FAIL;
			goto out;
		}
	}

	if (!nl) {
		ret = open_nl(&nl);
		if (ret)
			goto out;
	}
	/* what hostguard last put in the kernel, before anything changes
	 * (the new config is only a temporary file so far) */
	record_edit_begin(&re, nl, ce != NULL, (int)key);
	if (ce)
		re.config_same = hg_config_edit_same(ce);
	/* the new config goes in first, the old one kept aside: if the
	 * kernel refuses, putting it back is exact */
	if (ce && hg_config_edit_commit(ce, &e) < 0) {
		record_edit_release(&re);
		err_msg("%s: %s; nothing changed", c->name, e.message);
		ret = EXIT_FAIL;
		goto out;
	}
	kr = !nk ? 0 : resolver ? hg_edit_grants(nl, key, c->op, kvals, nk, resolver, &e)
			      : hg_edit_table_for(nl, key, c->op, kvals, nk, timeout_ms, &e);
	/* the record's lock goes before anything is printed, failures too:
	 * a stopped terminal must not hold up apply or the guard */
	if (kr < 0)
		record_edit_release(&re);
	if (kr == -ENOENT) {
		loaded = false;
		if (runtime) {
			err_msg("%s: table inet hostguard is not loaded; nothing to change at runtime", c->name);
			ret = EXIT_FAIL;
			goto out;
		}
	} else if (kr < 0) {
		/* out: puts the old config back */
		ret = fail(&e);
		if (ret == EXIT_FAIL && e.code == -EINVAL)
			ret = EXIT_INVALID;
		goto out;
	}

	if (ce) {
		hg_config_edit_finish(ce);
		ce = NULL;
		config_changed = true;
	}
	/* the record's lock goes before anything is printed: a stopped
	 * terminal must not hold up apply or the guard */
	if (loaded)
		record_edit_end(&re, nl, config_changed, c->name);

	/* what changed, key and values, never a whole config line (it may
	 * be a megabyte long) */
	if (config_changed) {
		printf("hostguard: config: %s %s ", c->op == HG_EDIT_ADD ? "+" : "-", hg_key_name(key));
		print_values((const char *const *)vals, n);
		printf("\n");
	} else if (!runtime) {
		printf("hostguard: config: %s %s ", hg_key_name(key),
		       c->op == HG_EDIT_ADD ? "already has" : "already lacks");
		print_values((const char *const *)vals, n);
		printf(", unchanged\n");
	}
	if (!loaded) {
		printf("hostguard: note: table inet hostguard is not loaded; 'hostguard apply' will load the config\n");
	} else if (kr > 0) {
		printf("hostguard: table: %s %s ", c->op == HG_EDIT_ADD ? "+" : "-", hg_key_name(key));
		print_values(kvals, nk);
		printf(" (%d element%s changed)\n", kr, kr == 1 ? "" : "s");
	} else {
		printf("hostguard: table: %s %s ", hg_key_name(key),
		       c->op == HG_EDIT_ADD ? "already has" : "already lacks");
		print_values(kvals, nk);
		printf(", unchanged\n");
	}
	if (timeout_ms && loaded && kr == 0)
		/* a --for never shortens a grant held without a timeout */
		printf("hostguard: note: --for: the table holds it without a timeout: it does not expire\n");
	else if (timeout_ms)
		printf("hostguard: note: --for: expires in %llus, and the config file was not changed\n",
		       (unsigned long long)(timeout_ms / 1000));
	else if (runtime)
		printf("hostguard: note: --runtime: the config file was not changed\n");
	ret = EXIT_OK;
out:
	hg_config_edit_abort(ce);
	record_edit_release(&re);
	hg_nl_close(nl);
	hg_policy_free(resolver);
	if (lock >= 0)
		close(lock);
	free(vals);
	free(kvals);
	free(targets);
	for (size_t i = 0; i < n_grants; i++)
		free(grants[i]);
	free(grants);
	return ret;
}
