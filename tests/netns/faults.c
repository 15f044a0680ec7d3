/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Allocation failure, injected at every allocation in turn.
 *
 * This program replaces malloc, calloc and realloc for the whole process
 * (libhostguard, libnftnl, libmnl and libc alike: glibc lets a program
 * interpose them) and makes the Nth call fail, for N = 1, 2, ... until an
 * operation completes without reaching N.  For each N and each operation it
 * checks: no crash; the result is success or a clean negative errno with a
 * message; the kernel holds the table as before or exactly as asked (never
 * half of it); and every allocation made during the operation was freed
 * (no leak).  Run as root in a scratch network namespace
 * (tests/netns/faults.sh); not under ASan or valgrind, which bring their
 * own allocator.
 */
#include <errno.h>
#include <execinfo.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostguard.h"

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);

static long fail_at;   /* 0: no failure */
static long calls;
static long failed;
static long trap_at;

static int fail_now(void)
{
	if (!fail_at)
		return 0;
	if (++calls == fail_at) {
		failed++;
		if (trap_at == fail_at)
			raise(SIGTRAP);  /* HG_FAULTS_TRAP=N under gdb: who failed */
		errno = ENOMEM;
		return 1;
	}
	return 0;
}

void __libc_free(void *p);

/*
 * Every allocation made during an operation is remembered (an open-addressing
 * table keyed by pointer) until it is freed: what is left afterwards leaked.
 * HG_FAULTS_LEAKS=1 also records where each came from.  (glibc's own
 * counters do not do: its per-thread cache counts freed chunks as in use.)
 */
#define TRACK_SLOTS 65536
static struct track {
	void *p;
	size_t n;
	void *frames[10];
	int depth;
} track[TRACK_SLOTS];
static int tracking, with_frames;
static long live_n;
static size_t live_bytes;

static size_t slot_of(void *p)
{
	return ((uintptr_t)p >> 4) * 2654435761u % TRACK_SLOTS;
}

static void track_add(void *p, size_t n)
{
	size_t i;

	if (!tracking || !p)
		return;
	for (i = slot_of(p); track[i].p; i = (i + 1) % TRACK_SLOTS)
		;
	track[i].p = p;
	track[i].n = n;
	live_n++;
	live_bytes += n;
	if (with_frames) {
		tracking = 0;  /* backtrace() may allocate */
		track[i].depth = backtrace(track[i].frames, 10);
		tracking = 1;
	}
}

static void track_del(void *p)
{
	size_t i;

	if (!p || !live_n)
		return;
	for (i = slot_of(p); track[i].p; i = (i + 1) % TRACK_SLOTS) {
		if (track[i].p == p) {
			live_n--;
			live_bytes -= track[i].n;
			/* backward-shift deletion keeps the probe chains whole */
			size_t j = i;
			for (;;) {
				track[i].p = NULL;
				for (;;) {
					j = (j + 1) % TRACK_SLOTS;
					if (!track[j].p)
						return;
					size_t k = slot_of(track[j].p);
					if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
						continue;
					break;
				}
				track[i] = track[j];
				i = j;
			}
		}
	}
}

void *malloc(size_t n)
{
	void *p = fail_now() ? NULL : __libc_malloc(n);
	track_add(p, n);
	return p;
}

void *calloc(size_t n, size_t size)
{
	void *p = fail_now() ? NULL : __libc_calloc(n, size);
	track_add(p, n * size);
	return p;
}

void *realloc(void *p, size_t n)
{
	void *q = fail_now() ? NULL : __libc_realloc(p, n);
	if (q) {
		track_del(p);
		track_add(q, n);
	}
	return q;
}

void free(void *p)
{
	track_del(p);
	__libc_free(p);
}

static void track_reset(void)
{
	for (size_t i = 0; i < TRACK_SLOTS; i++) {
		if (track[i].p && with_frames) {
			printf("    live: %zu bytes from\n", track[i].n);
			fflush(stdout);
			backtrace_symbols_fd(track[i].frames, track[i].depth, 1);
		}
		track[i].p = NULL;
	}
	live_n = 0;
	live_bytes = 0;
}

static int passed_n, failed_n;

#define EXPECT(cond, ...)                                                     \
	do {                                                                  \
		if (cond) {                                                   \
			passed_n++;                                           \
		} else {                                                      \
			failed_n++;                                           \
			printf("FAIL - ");                                    \
			printf(__VA_ARGS__);                                  \
			putchar('\n');                                        \
		}                                                             \
	} while (0)

static struct hg_policy *policy(const char *uids, const char *ports, const char *ifaces)
{
	struct hg_policy *p = hg_policy_new();
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", uids);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		hg_policy_add(p, HG_KEY_UIDS, t, NULL);
	snprintf(buf, sizeof(buf), "%s", ports);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		hg_policy_add(p, HG_KEY_TCP, t, NULL);
	snprintf(buf, sizeof(buf), "%s", ifaces);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		hg_policy_add(p, HG_KEY_IFACES, t, NULL);
	return p;
}

static struct hg_policy *with_grants(struct hg_policy *p, const char *grants)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", grants);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		hg_policy_add(p, HG_KEY_GRANT_UIDS, t, NULL);
	return p;
}

#define GRANTS_A "1001@10.0.0.1:80 7@[fd00::1]"
#define GRANTS_B "1001@10.0.0.0/24 8@[fd00::2]:53 9@10.1.0.0/16:8000-8100"

/* Does the live table equal p?  1 yes, 0 no, -ENOENT no table. */
static int live_is(struct hg_nl *nl, const struct hg_policy *p)
{
	struct hg_state *s;
	char **lines;
	int n;

	if (hg_state_read(nl, &s, NULL) < 0)
		return -ENOENT;
	n = hg_state_diff(s, p, &lines);
	hg_state_free(s);
	if (n < 0)
		return n;
	for (int i = 0; i < n && getenv("HG_FAULTS_VERBOSE"); i++)
		printf("    %s\n", lines[i]);
	hg_lines_free(lines, (size_t)n);
	return n == 0;
}

enum op { OP_CREATE, OP_UPDATE, OP_EDIT_UID, OP_EDIT_IFACE, OP_STATUS, OP_EDIT_GRANT, OP_SAVE, OP_MAX };
static const char *const op_names[OP_MAX] = {
	"apply (no table)", "apply (update)", "allow-uid", "add-iface", "status (read + diff)",
	"allow-uid --to (two grants)", "save (a config edit of three keys)",
};

/* save's config edit: three keys in one new version of the file */
#define SAVE_OLD "# kept\nallowed_uids = 0, 1001  # root, proxy\nallow_from_containers_tcp = 8000-8100\n"
#define SAVE_NEW "# kept\nallowed_uids = 0, 2000  # root, proxy\n" \
		 "allow_from_containers_tcp = 8000-8049, 8051-8100\ngrant_uids = 0@192.0.2.2\n"
static char save_dir[64] = "/tmp/hg-faults.XXXXXX", save_path[96];

static void save_write(void)
{
	FILE *f = fopen(save_path, "w");
	if (f) {
		fputs(SAVE_OLD, f);
		fclose(f);
	}
}

static int save_run(struct hg_error *e)
{
	static const char *const rm_uid[] = { "1001" }, *const add_uid[] = { "2000" };
	static const char *const rm_tcp[] = { "8050" }, *const add_grant[] = { "0@192.0.2.2" };
	const struct hg_config_change ch[] = {
		{ HG_KEY_UIDS, HG_EDIT_REMOVE, rm_uid, 1 }, { HG_KEY_TCP, HG_EDIT_REMOVE, rm_tcp, 1 },
		{ HG_KEY_UIDS, HG_EDIT_ADD, add_uid, 1 }, { HG_KEY_GRANT_UIDS, HG_EDIT_ADD, add_grant, 1 },
	};
	struct hg_config_edit *ce = NULL;
	int r = hg_config_edit_prepare_many(save_path, ch, 4, &ce, e);

	if (r == 1 && (r = hg_config_edit_commit(ce, e)) == 0) {
		hg_config_edit_finish(ce);
		return 1;
	}
	hg_config_edit_abort(ce);
	return r;
}

/* the file is the old version or the new one, and nothing else is there */
static int save_file_is(const char *want)
{
	char buf[512] = "", cmd[160];
	FILE *f = fopen(save_path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	int others;

	if (f)
		fclose(f);
	buf[n] = '\0';
	snprintf(cmd, sizeof(cmd), "ls -A %s | grep -vx h.conf | grep -q .", save_dir);
	others = system(cmd) == 0;
	return strcmp(buf, want) == 0 && !others;
}

/* Runs one operation with the Nth allocation failing; returns 1 when the
 * operation finished without reaching N. */
static int one(struct hg_nl *nl, enum op op, long n, struct hg_policy *a, struct hg_policy *b)
{
	static const char *const uid[] = { "4242" };
	static const char *const iface[] = { "podman0" };
	static const char *const grant[] = { "4242@192.0.2.1:8080", "4242@[2001:db8::1]" };
	struct hg_error e = { 0 };
	struct hg_state *s = NULL;
	char **lines = NULL;
	int r = 0, done, live;

	/* the starting point, without injection */
	if (op == OP_SAVE)
		save_write();
	hg_remove(nl, NULL);
	if (op != OP_CREATE && hg_apply(nl, a, NULL) < 0) {
		EXPECT(0, "%s: cannot set up", op_names[op]);
		return 1;
	}
	calls = 0;
	tracking = 1;
	fail_at = n;
	switch (op) {
	case OP_CREATE:
	case OP_UPDATE:
		r = hg_apply(nl, op == OP_CREATE ? a : b, &e);
		break;
	case OP_EDIT_UID:
		r = hg_edit_table(nl, HG_KEY_UIDS, HG_EDIT_ADD, uid, 1, &e);
		break;
	case OP_EDIT_IFACE:
		r = hg_edit_table(nl, HG_KEY_IFACES, HG_EDIT_ADD, iface, 1, &e);
		break;
	case OP_EDIT_GRANT:
		r = hg_edit_table(nl, HG_KEY_GRANT_UIDS, HG_EDIT_ADD, grant, 2, &e);
		break;
	case OP_SAVE:
		r = save_run(&e);
		break;
	case OP_STATUS:
		r = hg_state_read(nl, &s, &e);
		if (r == 0) {
			/* hg_state_diff() has no error detail: only its code */
			r = hg_state_diff(s, b, &lines);
			if (r >= 0)
				hg_lines_free(lines, (size_t)r);
			else
				EXPECT(r == -ENOMEM, "status, allocation %ld fails: diff returned %d", n, r);
			hg_state_free(s);
			if (r < 0)
				r = 0;
		}
		break;
	default:
		break;
	}
	fail_at = 0;
	tracking = 0;
	done = calls < n;
	EXPECT(live_n == 0, "%s, allocation %ld fails: %ld allocations (%zu bytes) leaked", op_names[op], n,
	       live_n, live_bytes);
	track_reset();
	if (r < 0) {
		EXPECT(e.code == r && e.message[0], "%s, allocation %ld fails: %d without a message",
		       op_names[op], n, r);
	}
	/* all or nothing in the kernel */
	switch (op) {
	case OP_CREATE:
		live = live_is(nl, a);
		EXPECT(r >= 0 ? live == 1 : live == -ENOENT,
		       "%s, allocation %ld fails: r=%d, table %s", op_names[op], n, r,
		       live == 1 ? "complete" : live == -ENOENT ? "absent" : "PARTIAL");
		break;
	case OP_UPDATE:
		live = r >= 0 ? live_is(nl, b) : live_is(nl, a);
		EXPECT(live == 1, "%s, allocation %ld fails: r=%d, table is neither old nor new",
		       op_names[op], n, r);
		break;
	case OP_EDIT_UID:
	case OP_EDIT_GRANT:
	case OP_EDIT_IFACE: {
		struct hg_policy *want = with_grants(
			policy(op == OP_EDIT_UID ? "0 1001 4242" : "0 1001", "53 8000-8100",
			       op == OP_EDIT_IFACE ? "docker0 br-* podman0" : "docker0 br-*"),
			op == OP_EDIT_GRANT ? GRANTS_A " 4242@192.0.2.1:8080 4242@[2001:db8::1]" : GRANTS_A);
		live = r >= 0 ? live_is(nl, want) : live_is(nl, a);
		EXPECT(live == 1, "%s, allocation %ld fails: r=%d, set is neither old nor new",
		       op_names[op], n, r);
		hg_policy_free(want);
		break;
	}
	case OP_SAVE:
		EXPECT(save_file_is(r >= 0 ? SAVE_NEW : SAVE_OLD), "%s, allocation %ld fails: r=%d, the config "
		       "is neither old nor new, or a temporary file is left", op_names[op], n, r);
		break;
	default:
		break;
	}
	return done;
}

int main(void)
{
	struct hg_policy *a = with_grants(policy("0 1001", "53 8000-8100", "docker0 br-*"), GRANTS_A);
	struct hg_policy *b = with_grants(policy("0 2002 3003", "53 9000", "docker0 br-* virbr0"), GRANTS_B);
	struct hg_nl *nl;
	long total = 0;

	if (hg_nl_open(&nl, NULL) < 0) {
		printf("FAIL - cannot open netlink\n");
		return 1;
	}
	with_frames = getenv("HG_FAULTS_LEAKS") != NULL;
	if (!mkdtemp(save_dir)) {
		printf("FAIL - mkdtemp\n");
		return 1;
	}
	snprintf(save_path, sizeof(save_path), "%s/h.conf", save_dir);
	{
		void *frames[4];
		backtrace(frames, 4);  /* its first call loads libgcc */
	}
	/* HG_FAULTS_ONLY=OP:N runs that one case (debugging, e.g. under valgrind) */
	if (getenv("HG_FAULTS_ONLY")) {
		const char *o = getenv("HG_FAULTS_ONLY");
		hg_apply(nl, a, NULL);
		one(nl, atoi(o), strchr(o, ':') ? atol(strchr(o, ':') + 1) : 1, a, b);
		hg_remove(nl, NULL);
		hg_nl_close(nl);
		hg_policy_free(a);
		hg_policy_free(b);
		return failed_n ? 1 : 0;
	}
	/* warm-up: lazy allocations of libc (stdio, locale) happen once here */
	hg_apply(nl, a, NULL);
	live_is(nl, a);
	for (int op = 0; op < OP_MAX; op++) {
		long n;
		/* HG_FAULTS_TRAP=OP:N stops at that failure (debugging) */
		const char *t = getenv("HG_FAULTS_TRAP");
		trap_at = t && atoi(t) == op && strchr(t, ':') ? atol(strchr(t, ':') + 1) : 0;
		failed = 0;
		for (n = 1; n < 100000; n++)
			if (one(nl, op, n, a, b))
				break;
		printf("ok   - %s: each of its %ld allocations failed in turn\n", op_names[op], n - 1);
		total += n - 1;
	}
	hg_remove(nl, NULL);
	hg_nl_close(nl);
	hg_policy_free(a);
	hg_policy_free(b);
	unlink(save_path);
	rmdir(save_dir);
	printf("faults: %ld injected failures, %d checks passed, %d failed\n", total, passed_n, failed_n);
	return failed_n ? 1 : 0;
}
