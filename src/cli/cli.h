/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HG_CLI_H
#define HG_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "hostguard.h"

/* Exit codes, documented in --help and hostguard(8). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,      /* the operation failed: kernel refused, I/O; check: drift */
	EXIT_INVALID = 2,   /* usage, invalid input or config; nothing changed */
	EXIT_RUNTIME = 3,   /* check: the table differs only by hostguard's --runtime edits */
	EXIT_NOPERM = 4,    /* needs root or CAP_NET_ADMIN */
};

struct cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;
	const char *help;
	unsigned caps;      /* CAPS_*: CAP_NET_ADMIN is required, the rest wanted
			       (none with --help or --dry-run) */
};

extern const char *prog;
extern const char *config_path;
extern bool config_explicit;
extern bool config_missing;     /* load_policy() fell back to the defaults */
/* The config path for messages, or a note that the defaults are in use. */
const char *config_label(void);

/* "hostguard: <message>" on stderr. */
void err_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Maps a library error to an exit code, printing its message. */
int fail(const struct hg_error *e);
/* The policy of the config file, or the built-in defaults when there is no
 * file. Returns an exit code. */
int load_policy(struct hg_policy **ret);
int open_nl(struct hg_nl **ret);
/* "hostguard: warning: ..." on stderr for each name the config skipped. */
void print_policy_warnings(const struct hg_policy *p);
/* The live table's set contents as a policy (log group included; the
 * published_tcp/udp sets only when learned is true). */
int live_policy(const struct hg_state *s, bool learned, struct hg_policy **ret);
/* The same, grants of container names and labels kept as such (their
 * elements' comments), so that the policy builds the very same elements. */
int live_policy_sourced(const struct hg_state *s, bool learned, struct hg_policy **ret);
/* 1 when the live sets a config decides say more than the built-in
 * defaults (a config that went missing must not replace them silently),
 * 0 when not, or -ENOMEM. */
int live_beyond_defaults(const struct hg_state *s);
/* Prints "Usage: hostguard CMD ARGS" and the command's help. */
void cmd_usage(FILE *f, const char *name);
/* Handles "--help" for a command that takes no other arguments but the
 * given flags; returns -1 to continue, or an exit code. */
bool is_help(const char *arg);

/* CAPS_OPTIONAL: CAP_NET_ADMIN is wanted, not required (ifaces lists
 * without it, judging coverage by the config); CAPS_SETID: CAP_SETUID and
 * CAP_SETGID (verify's probes drop to other uids) */
enum { CAPS_NET_ADMIN = 1, CAPS_CHOWN = 2, CAPS_OPTIONAL = 4, CAPS_SETID = 8 };
/* Keeps the needed capabilities the process has, drops all others.
 * Returns the CAPS_* flags held, or -1. */
int caps_limit(unsigned need);

void json_str(FILE *f, const char *s);
/* Refuses (EXIT_INVALID, one line each) interface patterns that cover the
 * default route's interface or the current SSH session's; with force it
 * only warns.  Returns an exit code. */
/* excuse: asked when the rail finds something (and not forced): a reason
 * to say it and go ahead, or NULL to refuse. */
int safety_rails(const char *cmd, const char *const *patterns, size_t n, bool force,
		 const char *(*excuse)(void));
/* apply's and follow's rail over p's container_ifaces; a repair is never
 * refused (rails.c repair_excuse). */
int policy_rails(const char *cmd, const struct hg_policy *p, bool force);
/* status: a default route learnt from a router advertisement on an
 * interface the patterns cover (a container can plant one), one warning
 * each; none when the routes cannot be read.  0 or -ENOMEM. */
int ra_route_warnings(const char *const *patterns, size_t n, char ***ret, size_t *ret_n);
/* Prints hg_state_delta() lines, uids and gids with their names. */
void print_delta(char *const *lines, size_t n);

int cmd_apply(int argc, char **argv);
int cmd_remove(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_save(int argc, char **argv);
int cmd_edit(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_follow(int argc, char **argv);
int cmd_guard(int argc, char **argv);
int cmd_ifaces(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_verify(int argc, char **argv);

bool iface_covered(const char *name, const char *const *patterns, size_t n);
/* The live container_ifaces patterns (pointers into s; free the array). */
const char **state_patterns(const struct hg_state *s, size_t *ret_n);
/* The same, of a policy's container_ifaces (borrowed from p). */
const char **policy_patterns(const struct hg_policy *p, size_t *ret_n);
/* One line per bridge, macvlan or ipvlan the patterns do not cover, and
 * per port of a covered bridge they do not cover; ignore: ignore_ifaces. */
int uncovered_list(const char *const *patterns, size_t np, const char *const *ignore, size_t ni,
		   char ***ret, size_t *ret_n);
int uncovered_warnings(const char *const *patterns, size_t np, char ***ret, size_t *ret_n);
/* load_policy() without messages; a negative errno. */
int load_policy_quiet(struct hg_policy **ret);
void lines_free(char **v, size_t n);

/* flock() on <configdir>/.hostguard.lock (LOCK_EX for edits, LOCK_SH for
 * apply), waiting at most HOSTGUARD_LOCK_TIMEOUT seconds.  Returns an exit
 * code (the error printed, prefixed with cmd); *ret_fd is the fd to close,
 * or -1 when no lock was needed (see lock.c). */
int config_lock(const char *cmd, int how, bool create_dir, int *ret_fd);
/* HOSTGUARD_LOCK_TIMEOUT in milliseconds (default 10 s); -1 when invalid. */
long lock_timeout_ms(void);

#endif
