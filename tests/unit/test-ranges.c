/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The same port edit made twice: in the config file (hg_config_edit_prepare
 * rewrites the key's tokens, merging and splitting them) and in the live
 * set (edit.c's hg_ranges_edit, whose result hg_batch_diff sends).  After
 * every edit of a pseudo-random sequence (fixed seed), the config loaded
 * again must give exactly the ranges the live set holds, and the config
 * must change exactly when the set does.  No kernel; the config lives in a
 * private directory under /tmp.
 *
 * First the range module itself (ranges.h): the edge values 0, 65535 and
 * UINT32_MAX, adjacent ranges, and every function against a bitmap of a
 * small domain over a pseudo-random sequence.
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

static bool same_as(const struct hg_range *v, size_t n, const uint32_t (*want)[2], size_t nw)
{
	if (n != nw)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i].lo != want[i][0] || v[i].hi != want[i][1])
			return false;
	return true;
}

/* The fixed cases: edges and adjacency. */
static void module_cases(void)
{
	const uint32_t max = UINT32_MAX;
	struct hg_range v[8], p[2];
	size_t n;

	/* merge joins touching ranges (0 and 1-2), ids keep one of each */
	v[0] = (struct hg_range){ 5, 9 };
	v[1] = (struct hg_range){ 10, 12 };
	v[2] = (struct hg_range){ 1, 2 };
	v[3] = (struct hg_range){ 0, 0 };
	v[4] = (struct hg_range){ 65535, 65535 };
	v[5] = (struct hg_range){ 14, 65534 };
	n = hg_ranges_normalize(v, 6, true);
	CHECK(same_as(v, n, (const uint32_t[][2]){ { 0, 2 }, { 5, 12 }, { 14, 65535 } }, 3),
	      "normalize(merge): %zu ranges", n);
	v[0] = (struct hg_range){ 3, 3 };
	v[1] = (struct hg_range){ 1, 1 };
	v[2] = (struct hg_range){ 3, 3 };
	v[3] = (struct hg_range){ 2, 2 };
	n = hg_ranges_normalize(v, 4, false);
	CHECK(same_as(v, n, (const uint32_t[][2]){ { 1, 1 }, { 2, 2 }, { 3, 3 } }, 3),
	      "normalize(ids): %zu ranges", n);
	CHECK(hg_ranges_normalize(v, 0, true) == 0, "an empty list stays empty");

	/* touching at the ends of the value space does not wrap */
	CHECK(hg_range_touches((struct hg_range){ 0, 9 }, (struct hg_range){ 10, 20 }), "9 touches 10");
	CHECK(!hg_range_touches((struct hg_range){ 0, 9 }, (struct hg_range){ 11, 20 }), "9 and 11 do not touch");
	CHECK(!hg_range_touches((struct hg_range){ max, max }, (struct hg_range){ 0, 0 }), "no wrap at UINT32_MAX");
	CHECK(hg_range_touches((struct hg_range){ 0, max }, (struct hg_range){ 5, 5 }), "inside touches");

	v[0] = (struct hg_range){ 0, 10 };
	v[1] = (struct hg_range){ 20, 65535 };
	CHECK(hg_ranges_cover(v, 2, (struct hg_range){ 0, 0 }), "0 is covered");
	CHECK(hg_ranges_cover(v, 2, (struct hg_range){ 65535, 65535 }), "65535 is covered");
	CHECK(hg_ranges_cover(v, 2, (struct hg_range){ 5, 10 }), "5-10 is covered");
	CHECK(!hg_ranges_cover(v, 2, (struct hg_range){ 10, 20 }), "10-20 spans a gap");
	CHECK(!hg_ranges_cover(v, 2, (struct hg_range){ 11, 19 }), "the gap is not covered");
	CHECK(!hg_ranges_cover(v, 2, (struct hg_range){ 65535, 65536 }), "past 65535");
	CHECK(!hg_ranges_cover(v, 0, (struct hg_range){ 0, 0 }), "nothing covers nothing");

	n = hg_range_minus((struct hg_range){ 0, 65535 }, (struct hg_range){ 0, 0 }, p);
	CHECK(same_as(p, n, (const uint32_t[][2]){ { 1, 65535 } }, 1), "0-65535 minus 0");
	n = hg_range_minus((struct hg_range){ 0, 65535 }, (struct hg_range){ 65535, 65535 }, p);
	CHECK(same_as(p, n, (const uint32_t[][2]){ { 0, 65534 } }, 1), "0-65535 minus 65535");
	n = hg_range_minus((struct hg_range){ 0, 65535 }, (struct hg_range){ 100, 200 }, p);
	CHECK(same_as(p, n, (const uint32_t[][2]){ { 0, 99 }, { 201, 65535 } }, 2), "a cut inside splits");
	n = hg_range_minus((struct hg_range){ 10, 20 }, (struct hg_range){ 0, max }, p);
	CHECK(n == 0, "all of it goes: %zu left", n);
	n = hg_range_minus((struct hg_range){ 10, 20 }, (struct hg_range){ 21, 30 }, p);
	CHECK(same_as(p, n, (const uint32_t[][2]){ { 10, 20 } }, 1), "an adjacent cut takes nothing");

	v[0] = (struct hg_range){ 1, 5 };
	v[1] = (struct hg_range){ 10, 20 };
	v[2] = (struct hg_range){ 30, 40 };
	n = hg_ranges_subtract(v, 3, (struct hg_range){ 15, 15 });
	CHECK(same_as(v, n, (const uint32_t[][2]){ { 1, 5 }, { 10, 14 }, { 16, 20 }, { 30, 40 } }, 4),
	      "subtract splits one range, the rest moves up: %zu", n);
	n = hg_ranges_subtract(v, n, (struct hg_range){ 3, 35 });
	CHECK(same_as(v, n, (const uint32_t[][2]){ { 1, 2 }, { 36, 40 } }, 2), "subtract across ranges: %zu", n);
	n = hg_ranges_subtract(v, n, (struct hg_range){ 0, 65535 });
	CHECK(n == 0, "subtract everything: %zu", n);

	{
		const struct hg_range a[] = { { 0, 10 }, { 20, 30 }, { 65530, 65535 } };
		const struct hg_range b[] = { { 0, 0 }, { 5, 5 }, { 10, 20 }, { 65535, 65535 } };
		const struct hg_range c[] = { { 1, 5 }, { 6, 10 } };
		const struct hg_range d[] = { { 0, max } };
		const struct hg_range e[] = { { 5, max } };
		struct hg_range out[8];

		n = hg_ranges_difference(a, 3, b, 4, out);
		CHECK(same_as(out, n, (const uint32_t[][2]){ { 1, 4 }, { 6, 9 }, { 21, 30 }, { 65530, 65534 } }, 4),
		      "difference with edges: %zu", n);
		n = hg_ranges_difference(b, 4, a, 3, out);
		CHECK(same_as(out, n, (const uint32_t[][2]){ { 11, 19 } }, 1), "the other way: %zu", n);
		n = hg_ranges_difference((const struct hg_range[]){ { 1, 10 } }, 1, c, 2, out);
		CHECK(n == 0, "two adjacent ranges cover their union: %zu", n);
		n = hg_ranges_difference(d, 1, e, 1, out);
		CHECK(same_as(out, n, (const uint32_t[][2]){ { 0, 4 } }, 1), "up to UINT32_MAX: %zu", n);
		n = hg_ranges_difference(e, 1, NULL, 0, out);
		CHECK(same_as(out, n, (const uint32_t[][2]){ { 5, max } }, 1), "minus nothing: %zu", n);
	}
}

/* A set of 0..63 as sorted, merged ranges; returns how many. */
static size_t from_bits(uint64_t bits, struct hg_range *v)
{
	size_t n = 0;

	for (uint32_t i = 0; i < 64; i++) {
		if (!(bits >> i & 1))
			continue;
		if (n && v[n - 1].hi + 1 == i)
			v[n - 1].hi = i;
		else
			v[n++] = (struct hg_range){ i, i };
	}
	return n;
}

static uint64_t to_bits(const struct hg_range *v, size_t n)
{
	uint64_t bits = 0;

	for (size_t i = 0; i < n; i++)
		for (uint32_t x = v[i].lo; x <= v[i].hi && x < 64; x++)
			bits |= 1ull << x;
	return bits;
}

static uint64_t rnd_bits(void)
{
	uint64_t bits = 0;
	/* runs, so that ranges are long, short, adjacent and at the edges */
	for (unsigned runs = rnd(6); runs; runs--) {
		unsigned lo = rnd(64), len = 1 + rnd(rnd(2) ? 3 : 20);
		for (unsigned x = lo; x < lo + len && x < 64; x++)
			bits |= 1ull << x;
	}
	return bits;
}

/* Each function against the same sets as bitmaps. */
static void module_random(void)
{
	for (int round = 0; round < 3000; round++) {
		uint64_t a = rnd_bits(), b = rnd_bits(), want;
		struct hg_range va[40], vb[40], out[80], merged[40], cut = { rnd(64), 0 };
		size_t na = from_bits(a, va), nb = from_bits(b, vb), n;
		int failures_before = check_failed;

		cut.hi = cut.lo + rnd(64 - cut.lo);
		want = 0;
		for (uint32_t x = cut.lo; x <= cut.hi; x++)
			want |= 1ull << x;

		n = hg_ranges_difference(va, na, vb, nb, out);
		/* the same values, and as few ranges as they need */
		CHECK(to_bits(out, n) == (a & ~b) && n == from_bits(a & ~b, merged),
		      "round %d: difference", round);
		CHECK(hg_ranges_cover(va, na, cut) == ((a & want) == want), "round %d: cover %u-%u", round,
		      cut.lo, cut.hi);
		memcpy(out, va, na * sizeof(*va));
		n = hg_ranges_subtract(out, na, cut);
		CHECK(to_bits(out, n) == (a & ~want) && n == hg_ranges_normalize(out, n, true),
		      "round %d: subtract %u-%u", round, cut.lo, cut.hi);
		memcpy(out, va, na * sizeof(*va));
		n = hg_ranges_edit(out, na, HG_EDIT_ADD, vb, nb);
		CHECK(to_bits(out, n) == (a | b) && n == from_bits(a | b, merged), "round %d: edit add", round);
		memcpy(out, va, na * sizeof(*va));
		n = hg_ranges_edit(out, na, HG_EDIT_REMOVE, vb, nb);
		CHECK(to_bits(out, n) == (a & ~b) && n == from_bits(a & ~b, merged), "round %d: edit remove",
		      round);
		if (check_failed != failures_before)
			break;
	}
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

	module_cases();
	module_random();
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
		return check_failed ? check_done("test-ranges") : 77;
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
