/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The same port edit made twice: in the config file (hg_config_edit_prepare
 * rewrites the key's tokens, merging and splitting them) and in the live
 * set (edit.c's hg_ranges_edit, whose result hg_batch_diff sends).  After
 * every edit of a pseudo-random sequence (fixed seed), the config loaded
 * again must give exactly the ranges the live set holds, and the config
 * must change exactly when the set does.  No kernel; the config lives in a
 * private directory under /tmp.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "state.h"

#define ROOM 4096

static unsigned rnd_state = 88172645u;
#define rnd(n) check_rnd(&rnd_state, (n))

/* The tcp ranges of the config at path, into v; -1 when it does not load. */
static long config_ranges(const char *path, struct hg_range *v)
{
	struct hg_policy *p = NULL;
	struct hg_canon c;
	struct hg_error e = { 0 };
	long n;

	if (hg_config_load(path, &p, &e) < 0) {
		CHECK(0, "load %s: %s", path, e.message);
		return -1;
	}
	if (hg_canon_from_policy(p, &c, &e) < 0) {
		CHECK(0, "canon: %s", e.message);
		hg_policy_free(p);
		return -1;
	}
	n = (long)c.n[HG_KEY_TCP];
	memcpy(v, c.r[HG_KEY_TCP], (size_t)n * sizeof(*v));
	hg_canon_clear(&c);
	hg_policy_free(p);
	return n;
}

static bool same(const struct hg_range *a, size_t na, const struct hg_range *b, size_t nb)
{
	return na == nb && (na == 0 || memcmp(a, b, na * sizeof(*a)) == 0);
}

static void print_ranges(const char *what, const struct hg_range *v, size_t n)
{
	printf("  %s:", what);
	for (size_t i = 0; i < n; i++)
		printf(" %u-%u", v[i].lo, v[i].hi);
	putchar('\n');
}

int main(void)
{
	char dir[] = "/tmp/hg-unit-ranges.XXXXXX", path[64];
	static struct hg_range live[ROOM], cfg[ROOM];
	size_t n_live;
	long n;
	FILE *f;
	int failures_before;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/hostguard.conf", dir);
	f = fopen(path, "w");
	if (!f)
		return 1;
	fputs("allowed_uids = 0\nallow_from_containers_tcp = 10-20, 25, 65530-65535  # kept\n", f);
	fclose(f);
	chmod(path, 0644);
	n = config_ranges(path, live);
	if (n < 0) {
		/* a /tmp the config's trust checks refuse: not this test's subject */
		printf("SKIP: the config in %s does not load\n", dir);
		unlink(path);
		rmdir(dir);
		return 77;
	}
	n_live = (size_t)n;

	for (int round = 0; round < 300; round++) {
		enum hg_edit op = rnd(2) ? HG_EDIT_ADD : HG_EDIT_REMOVE;
		size_t nreq = 1 + rnd(3);
		struct hg_range req[3];
		char text[3][32];
		const char *tok[3];
		struct hg_config_edit *e = NULL;
		struct hg_error err = { 0 };
		size_t before_n = n_live;
		static struct hg_range before[ROOM];
		int r;

		memcpy(before, live, n_live * sizeof(*live));
		for (size_t i = 0; i < nreq; i++) {
			/* low ports, and ranges up to 65535 (open-ended in the set) */
			uint32_t lo = rnd(5) ? 1 + rnd(60) : 65500 + rnd(36);
			uint32_t hi = rnd(2) ? lo : lo + rnd(12);
			if (hi > 65535)
				hi = 65535;
			req[i] = (struct hg_range){ lo, hi };
			if (lo == hi)
				snprintf(text[i], sizeof(text[i]), "%u", lo);
			else
				snprintf(text[i], sizeof(text[i]), "%u-%u", lo, hi);
			tok[i] = text[i];
		}
		failures_before = check_failed;
		r = hg_config_edit_prepare(path, HG_KEY_TCP, op, tok, nreq, &e, &err);
		CHECK(r >= 0, "round %d: prepare: %s", round, err.message);
		if (r == 1) {
			CHECK(hg_config_edit_commit(e, &err) == 0, "round %d: commit: %s", round, err.message);
			hg_config_edit_finish(e);
		}
		n_live = hg_ranges_edit(live, n_live, op, req, nreq);
		n = config_ranges(path, cfg);
		CHECK(n >= 0 && same(cfg, (size_t)n, live, n_live),
		      "round %d: %s %s%s%s%s%s: config and set disagree", round,
		      op == HG_EDIT_ADD ? "add" : "remove", tok[0], nreq > 1 ? " " : "",
		      nreq > 1 ? tok[1] : "", nreq > 2 ? " " : "", nreq > 2 ? tok[2] : "");
		CHECK((r == 1) == !same(before, before_n, live, n_live),
		      "round %d: the config %s but the set %s", round, r == 1 ? "changed" : "did not change",
		      same(before, before_n, live, n_live) ? "did not" : "did");
		if (check_failed != failures_before) {
			print_ranges("before", before, before_n);
			print_ranges("set", live, n_live);
			if (n >= 0)
				print_ranges("config", cfg, (size_t)n);
			break;
		}
	}
	unlink(path);
	CHECK(rmdir(dir) == 0, "the edits left nothing beside the config in %s", dir);
	return check_done("test-ranges");
}
