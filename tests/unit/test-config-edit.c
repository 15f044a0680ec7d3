/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The atomic edit of one key of the config file: the bytes it writes, what
 * it refuses, and that a refused edit changes nothing.  No kernel needed. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "hostguard.h"

static char dir[] = "/tmp/hg-test-edit.XXXXXX";
static char path[64];

static void put(const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL, "cannot write %s", path);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
	chmod(path, 0644);
}

static char *get(void)
{
	static char *buf;
	size_t cap = 0;
	FILE *f = fopen(path, "r");

	free(buf);
	buf = NULL;
	if (!f)
		return NULL;
	if (getdelim(&buf, &cap, '\0', f) < 0) {
		free(buf);
		buf = strdup("");
	}
	fclose(f);
	return buf;
}

/* Edits and commits; returns what hg_config_edit_prepare returned. */
static int edit(enum hg_key k, enum hg_edit op, const char *const *v, size_t n, struct hg_error *e)
{
	struct hg_config_edit *ce = (struct hg_config_edit *)0x1;
	int r = hg_config_edit_prepare(path, k, op, v, n, &ce, e);

	if (r < 0) {
		CHECK(ce == (struct hg_config_edit *)0x1, "ret touched on failure");
		return r;
	}
	if (r == 0) {
		CHECK(ce == NULL, "no change, but an edit was returned");
		return r;
	}
	CHECK(hg_config_edit_commit(ce, e) == 0, "commit: %s", e->message);
	hg_config_edit_finish(ce);
	return r;
}

static void expect(const char *before, enum hg_key k, enum hg_edit op, const char *const *v, size_t n,
		   const char *after)
{
	struct hg_error e = { 0 };
	int r;

	put(before);
	r = edit(k, op, v, n, &e);
	CHECK(r >= 0, "'%s' %s %s: %s", before, op == HG_EDIT_ADD ? "+" : "-", v[0], e.message);
	CHECK(r == (strcmp(before, after) != 0), "'%s' %s %s: returned %d", before,
	      op == HG_EDIT_ADD ? "+" : "-", v[0], r);
	CHECK(strcmp(get(), after) == 0, "'%s' %s %s: got '%s', expected '%s'", before,
	      op == HG_EDIT_ADD ? "+" : "-", v[0], get(), after);
	/* what an edit writes, a load reads back */
	{
		struct hg_policy *p = NULL;
		CHECK(hg_config_load(path, &p, &e) == 0, "'%s' does not load: %s", get(), e.message);
		hg_policy_free(p);
	}
}

static void refused(const char *before, enum hg_key k, enum hg_edit op, const char *tok, unsigned line,
		    const char *msg)
{
	struct hg_error e = { 0 };
	int r;

	put(before);
	r = edit(k, op, &tok, 1, &e);
	CHECK(r == -EINVAL, "'%s' + %s: returned %d (%s)", before, tok, r, e.message);
	CHECK(e.line == line, "'%s' + %s: line %u, expected %u (%s)", before, tok, e.line, line, e.message);
	CHECK(strstr(e.message, msg) != NULL, "message '%s' lacks '%s'", e.message, msg);
	CHECK(strcmp(get(), before) == 0, "a refused edit changed the file: '%s'", get());
}

#define V(...) ((const char *const[]){ __VA_ARGS__ }), (sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *))

/* The file prepare leaves and its hg_config_edit_line(), without commit;
 * returns what prepare returned (the file text is "" when it is 0). */
static int prepared(const char *before, enum hg_key k, const char *const *v, size_t n, char **ret_text,
		    char **ret_line)
{
	struct hg_config_edit *ce = NULL;
	struct hg_error e = { 0 };
	int r;

	put(before);
	r = hg_config_edit_prepare(path, k, HG_EDIT_ADD, v, n, &ce, &e);
	*ret_line = strdup(r > 0 && hg_config_edit_line(ce) ? hg_config_edit_line(ce) : "");
	if (r > 0 && hg_config_edit_commit(ce, &e) < 0)
		r = -EIO;
	if (r > 0)
		hg_config_edit_finish(ce);
	*ret_text = strdup(r > 0 ? get() : "");
	return r;
}

/*
 * Adding ids to a line exactly as an edit writes it takes a way of its own
 * (config-line.c extend_ids: the old values are not rewritten); the same
 * values typed any other way take the general way, which writes them as
 * an edit does.  Both must end in the same bytes, the same line.
 */
static void extend_matches_general(unsigned seed)
{
	static const char *const vals[] = { "0", "1", "2", "3", "5", "8", "13", "root", "007", "4294967294" };
	static const char *const seps[] = { ",", " ", ", ", " ,", "\t", ",,", " , " };
	char canon[512], messy[512], tail[64];
	const char *add[4];
	size_t nv, na, ca = 0, ma = 0;

	srand(seed);
	nv = (size_t)rand() % 7;
	na = 1 + (size_t)rand() % 3;
	for (size_t i = 0; i < na; i++)
		add[i] = vals[rand() % 10];
	/* what follows the values: nothing, or blanks and a comment */
	if (rand() % 2)
		snprintf(tail, sizeof(tail), "%.*s# c%d", 1 + rand() % 3, "   ", rand() % 9);
	else
		tail[0] = '\0';
	ca += (size_t)snprintf(canon, sizeof(canon), "# t\nallowed_uids =");
	ma += (size_t)snprintf(messy, sizeof(messy), "# t\nallowed_uids=");
	for (size_t i = 0; i < nv; i++) {
		const char *v = vals[rand() % 10];
		ca += (size_t)snprintf(canon + ca, sizeof(canon) - ca, "%s %s", i ? "," : "", v);
		ma += (size_t)snprintf(messy + ma, sizeof(messy) - ma, "%s%s", seps[rand() % 7], v);
	}
	snprintf(canon + ca, sizeof(canon) - ca, "%s\nallowed_gids = 4\n", tail);
	snprintf(messy + ma, sizeof(messy) - ma, "%s\nallowed_gids = 4\n", tail);
	if (!tail[0] && nv == 0)
		snprintf(canon + ca, sizeof(canon) - ca, "\nallowed_gids = 4\n");
	{
		char *ta, *la, *tb, *lb;
		int ra = prepared(canon, HG_KEY_UIDS, add, na, &ta, &la);
		int rb = prepared(messy, HG_KEY_UIDS, add, na, &tb, &lb);
		/* unchanged, both are as they were (and differ) */
		if (ra != 0 || rb != 0)
			CHECK(ra == rb && strcmp(ta, tb) == 0 && strcmp(la, lb) == 0,
			      "seed %u: '%s' + %s...: %d '%s' line '%s'; typed otherwise '%s': %d '%s' line '%s'",
			      seed, canon, add[0], ra, ta, la, messy, rb, tb, lb);
		CHECK(ra >= 0 && rb >= 0, "seed %u: prepare %d %d", seed, ra, rb);
		free(ta);
		free(la);
		free(tb);
		free(lb);
	}
}

/* The line of the file at lineno (1-based), without its newline. */
static char *line_at(const char *text, unsigned lineno)
{
	const char *s = text, *nl;

	while (--lineno && (nl = strchr(s, '\n')))
		s = nl + 1;
	nl = strchr(s, '\n');
	return strndup(s, nl ? (size_t)(nl - s) : strlen(s));
}

/*
 * Hostile lines of allowed_uids, as an edit writes them or nearly (CR, tabs,
 * '#' right after a value, blanks before a comment, an empty list, names,
 * leading zeros, the largest id), ids added by one change or by two (the
 * second one on the text the first left, or one with nothing to do), by
 * whatever way config-line.c takes: the file must load, hold the old values
 * and exactly the ids it lacked, every other line unchanged, and
 * hg_config_edit_line() must be the file's line.
 */
static void extend_semantics(unsigned seed)
{
	static const char *const vals[] = { "0", "1", "5", "007", "root", "4294967294", "12" };
	static const char *const tails[] = { "", " # c", "\t# c", "# c", "  #", "\r", "\r # c", " " };
	static const char *const adds[] = { "5", "7", "0", "root", "007", "4294967294", "8", "08" };
	unsigned st = seed * 2246822519u | 1;
	char before[512], line[256];
	const char *a1[3], *a2[2];
	size_t nv = check_rnd(&st, 5), n1 = 1 + check_rnd(&st, 3), n2 = check_rnd(&st, 3), at = 0, n_ch;
	struct hg_config_change ch[2];
	struct hg_config_edit *ce = NULL;
	struct hg_policy *p0 = NULL, *p1 = NULL;
	struct hg_error e = { 0 };
	int r;

	at += (size_t)snprintf(line, sizeof(line), "allowed_uids =");
	for (size_t i = 0; i < nv; i++)
		at += (size_t)snprintf(line + at, sizeof(line) - at, "%s %s", i ? "," : "",
				       vals[check_rnd(&st, 7)]);
	snprintf(line + at, sizeof(line) - at, "%s", tails[check_rnd(&st, 8)]);
	snprintf(before, sizeof(before), "# t\n%s\nallowed_gids = 4\n", line);
	for (size_t i = 0; i < n1; i++)
		a1[i] = adds[check_rnd(&st, 8)];
	for (size_t i = 0; i < n2; i++)
		a2[i] = adds[check_rnd(&st, 8)];
	ch[0] = (struct hg_config_change){ HG_KEY_UIDS, HG_EDIT_ADD, a1, n1 };
	/* a second change: more ids, or gid 4 the file has (nothing to do) */
	ch[1] = n2 ? (struct hg_config_change){ HG_KEY_UIDS, HG_EDIT_ADD, a2, n2 }
		   : (struct hg_config_change){ HG_KEY_GIDS, HG_EDIT_ADD, (const char *const[]){ "4" }, 1 };
	put(before);
	if (hg_config_load(path, &p0, &e) < 0) {
		CHECK(0, "seed %u: '%s' does not load: %s", seed, before, e.message);
		return;
	}
	n_ch = 1 + check_rnd(&st, 2);
	if (n_ch == 1)
		n2 = 0;
	r = hg_config_edit_prepare_many(path, ch, n_ch, &ce, &e);
	CHECK(r >= 0, "seed %u: '%s': %s", seed, before, e.message);
	if (r > 0) {
		char *got;
		CHECK(hg_config_edit_commit(ce, &e) == 0, "seed %u: commit: %s", seed, e.message);
		got = line_at(get(), 2);
		CHECK(strcmp(hg_config_edit_line(ce), got) == 0, "seed %u: '%s': line '%s', the file's '%s'",
		      seed, before, hg_config_edit_line(ce), got);
		free(got);
		hg_config_edit_finish(ce);
	}
	{
		char *text = get(), *l1 = line_at(text, 1), *l3 = line_at(text, 3), *l4 = line_at(text, 4);
		CHECK(strcmp(l1, "# t") == 0 && strcmp(l3, "allowed_gids = 4") == 0 && !*l4,
		      "seed %u: other lines changed: '%s'", seed, text);
		free(l1);
		free(l3);
		free(l4);
	}
	if (hg_config_load(path, &p1, &e) < 0) {
		CHECK(0, "seed %u: '%s' -> '%s' does not load: %s", seed, before, get(), e.message);
		hg_policy_free(p0);
		return;
	}
	/* the old tokens first, in order, then one for each id that was not there */
	{
		size_t n0 = hg_policy_count(p0, HG_KEY_UIDS), nn = hg_policy_count(p1, HG_KEY_UIDS);
		for (size_t i = 0; i < n0 && i < nn; i++)
			CHECK_STR(hg_policy_token(p1, HG_KEY_UIDS, i), hg_policy_token(p0, HG_KEY_UIDS, i));
		for (int c = 0; c < 2; c++) {
			for (size_t i = 0; i < (c ? n2 : n1); i++) {
				uint32_t v, w;
				const char *tok = c ? a2[i] : a1[i];
				size_t hits = 0;
				hg_value_parse(HG_KEY_UIDS, tok, &v, NULL, NULL);
				for (size_t j = 0; j < nn; j++)
					if (hg_value_parse(HG_KEY_UIDS, hg_policy_token(p1, HG_KEY_UIDS, j), &w, NULL,
							   NULL) == 0 && w == v)
						hits++;
				CHECK(hits >= 1, "seed %u: '%s' + %s: not in '%s'", seed, before, tok, get());
			}
		}
		for (size_t j = n0; j < nn; j++) {
			uint32_t v, w;
			hg_value_parse(HG_KEY_UIDS, hg_policy_token(p1, HG_KEY_UIDS, j), &v, NULL, NULL);
			for (size_t i = 0; i < j; i++)
				CHECK(!(hg_value_parse(HG_KEY_UIDS, hg_policy_token(p1, HG_KEY_UIDS, i), &w, NULL,
						       NULL) == 0 && w == v),
				      "seed %u: '%s': added id %u was there: '%s'", seed, before, v, get());
		}
	}
	hg_policy_free(p0);
	hg_policy_free(p1);
}

int main(void)
{
	struct hg_error e = { 0 };

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/hostguard.conf", dir);

	/* ids: appended, duplicates (however typed) change nothing; the
	 * comment and the blanks before it stay */
	expect("# head\nallowed_uids = 0, 5   # ops\nallowed_gids = 9\n", HG_KEY_UIDS, HG_EDIT_ADD, V("7"),
	       "# head\nallowed_uids = 0, 5, 7   # ops\nallowed_gids = 9\n");
	expect("allowed_uids = 0,5\n", HG_KEY_UIDS, HG_EDIT_ADD, V("5"), "allowed_uids = 0,5\n");
	expect("allowed_uids = 0 5\n", HG_KEY_UIDS, HG_EDIT_ADD, V("root"), "allowed_uids = 0 5\n");
	expect("allowed_uids = 0\n", HG_KEY_UIDS, HG_EDIT_ADD, V("7", "7", "8", "0"), "allowed_uids = 0, 7, 8\n");
	expect("allowed_uids =\n", HG_KEY_UIDS, HG_EDIT_ADD, V("3"), "allowed_uids = 3\n");
	/* removing: every token naming the id, however typed */
	expect("allowed_uids = root, 5, 0\n", HG_KEY_UIDS, HG_EDIT_REMOVE, V("0"), "allowed_uids = 5\n");
	expect("allowed_uids = 5\n", HG_KEY_UIDS, HG_EDIT_REMOVE, V("6"), "allowed_uids = 5\n");
	expect("allowed_gids = 5, 6, 7 # g\n", HG_KEY_GIDS, HG_EDIT_REMOVE, V("6", "7"), "allowed_gids = 5 # g\n");
	/* a name that no longer resolves: its literal token goes, and only it */
	expect("allowed_uids = hg-no-such-user, 5\n", HG_KEY_UIDS, HG_EDIT_REMOVE, V("hg-no-such-user"),
	       "allowed_uids = 5\n");
	expect("allowed_uids = hg-no-such-user, 5\n", HG_KEY_UIDS, HG_EDIT_ADD, V("6"),
	       "allowed_uids = hg-no-such-user, 5, 6\n");
	/* an absent key starts from its defaults; the file's last line gets
	 * its newline */
	expect("allowed_gids = 9", HG_KEY_UIDS, HG_EDIT_ADD, V("8"), "allowed_gids = 9\nallowed_uids = 0, 8\n");
	expect("", HG_KEY_UIDS, HG_EDIT_REMOVE, V("0"), "allowed_uids =\n");
	expect("", HG_KEY_UIDS, HG_EDIT_ADD, V("0"), "");

	/* ports: touching and overlapping ranges merge, a removal splits */
	expect("allow_from_containers_tcp = 53, 8000-8100\n", HG_KEY_TCP, HG_EDIT_ADD, V("8101-8200"),
	       "allow_from_containers_tcp = 53, 8000-8200\n");
	expect("allow_from_containers_tcp = 53, 60, 8000-8100\n", HG_KEY_TCP, HG_EDIT_ADD, V("54-59"),
	       "allow_from_containers_tcp = 8000-8100, 53-60\n");
	expect("allow_from_containers_tcp = 53, 8000-8100\n", HG_KEY_TCP, HG_EDIT_ADD, V("8050"),
	       "allow_from_containers_tcp = 53, 8000-8100\n");
	expect("allow_from_containers_tcp = 53, 8000-8100\n", HG_KEY_TCP, HG_EDIT_REMOVE, V("8050"),
	       "allow_from_containers_tcp = 53, 8000-8049, 8051-8100\n");
	expect("allow_from_containers_udp = 53, 8000-8100\n", HG_KEY_UDP, HG_EDIT_REMOVE, V("1-8000"),
	       "allow_from_containers_udp = 8001-8100\n");

	/* interfaces and grants */
	expect("container_ifaces = docker0\n", HG_KEY_IFACES, HG_EDIT_ADD, V("br-*"),
	       "container_ifaces = docker0, br-*\n");
	expect("container_ifaces = docker0, br-*\n", HG_KEY_IFACES, HG_EDIT_REMOVE, V("docker0"),
	       "container_ifaces = br-*\n");
	expect("grant_uids = 1000@10.0.0.1:80\n", HG_KEY_GRANT_UIDS, HG_EDIT_ADD, V("1000@10.0.0.1:80-80"),
	       "grant_uids = 1000@10.0.0.1:80\n");
	expect("grant_uids = 1000@10.0.0.1:80\n", HG_KEY_GRANT_UIDS, HG_EDIT_ADD, V("1000@10.0.0.2"),
	       "grant_uids = 1000@10.0.0.1:80, 1000@10.0.0.2\n");
	expect("grant_uids = 1000@10.0.0.1:80, 1001@10.0.0.1:80\n", HG_KEY_GRANT_UIDS, HG_EDIT_REMOVE,
	       V("1000@10.0.0.1:80-80"), "grant_uids = 1001@10.0.0.1:80\n");
	expect("grant_uids = hg-no-such-user@10.0.0.1, 7@10.0.0.1\n", HG_KEY_GRANT_UIDS, HG_EDIT_REMOVE,
	       V("hg-no-such-user@10.0.0.1"), "grant_uids = 7@10.0.0.1\n");

	/* the file must be valid before, and the result too */
	refused("allowed_uids = 0\nbogus = 1\n", HG_KEY_UIDS, HG_EDIT_ADD, "5", 2, "unknown key 'bogus'");
	refused("allowed_uids = 0\nallowed_uids = 1\n", HG_KEY_UIDS, HG_EDIT_ADD, "5", 2, "duplicate key");
	refused("container_ifaces = docker0, docker*\n", HG_KEY_UIDS, HG_EDIT_ADD, "5", 1, "overlaps");
	refused("# x\n\ncontainer_ifaces = docker0\n", HG_KEY_IFACES, HG_EDIT_ADD, "docker*", 3, "overlaps");
	refused("# x\nallowed_uids = 0\n", HG_KEY_IFACES, HG_EDIT_ADD, "veth1", 3, "overlaps");
	refused("grant_uids = 7@10.0.0.0/24\n", HG_KEY_GRANT_UIDS, HG_EDIT_ADD, "7@10.0.0.1", 1, "overlap");
	refused("allowed_uids = 0\n", HG_KEY_UIDS, HG_EDIT_ADD, "-1", 0, "invalid uid");

	/* several changes in one edit: each on the text the last one left,
	 * the result validated once, as a whole */
	{
		static const char *const add7[] = { "7" }, *const rm0[] = { "0" }, *const add53[] = { "53" },
					 *const dockstar[] = { "docker*" }, *const dock0[] = { "docker0" },
					 *const add8[] = { "8" };
		const struct hg_config_change two[] = {
			{ HG_KEY_UIDS, HG_EDIT_ADD, add7, 1 }, { HG_KEY_TCP, HG_EDIT_ADD, add53, 1 },
			{ HG_KEY_UIDS, HG_EDIT_REMOVE, rm0, 1 },
		};
		const struct hg_config_change noop_last[] = {
			{ HG_KEY_UIDS, HG_EDIT_ADD, add8, 1 }, { HG_KEY_UIDS, HG_EDIT_ADD, add8, 1 },
		};
		const struct hg_config_change swap[] = {
			{ HG_KEY_IFACES, HG_EDIT_ADD, dockstar, 1 }, { HG_KEY_IFACES, HG_EDIT_REMOVE, dock0, 1 },
		};
		const struct hg_config_change bad[] = {
			{ HG_KEY_UIDS, HG_EDIT_ADD, add7, 1 }, { HG_KEY_IFACES, HG_EDIT_ADD, dockstar, 1 },
		};
		struct hg_config_edit *ce = NULL;

		put("# x\nallowed_uids = 0, 5 # u\ncontainer_ifaces = docker0\n");
		CHECK(hg_config_edit_prepare_many(path, two, 3, &ce, &e) == 1, "%s", e.message);
		CHECK(ce && strcmp(hg_config_edit_line(ce), "allowed_uids = 5, 7 # u") == 0, "line '%s'",
		      ce ? hg_config_edit_line(ce) : "");
		CHECK(ce && hg_config_edit_commit(ce, &e) == 0, "%s", e.message);
		hg_config_edit_finish(ce);
		CHECK_STR(get(), "# x\nallowed_uids = 5, 7 # u\ncontainer_ifaces = docker0\n"
				 "allow_from_containers_tcp = 53\n");

		ce = NULL;
		put("allowed_uids = 0\n");
		CHECK(hg_config_edit_prepare_many(path, noop_last, 2, &ce, &e) == 1, "%s", e.message);
		/* the line the first change appended to, already in the text
		 * the second was tried on: not appended twice */
		CHECK(ce && strcmp(hg_config_edit_line(ce), "allowed_uids = 0, 8") == 0, "line '%s'",
		      ce ? hg_config_edit_line(ce) : "");
		CHECK(ce && hg_config_edit_commit(ce, &e) == 0, "%s", e.message);
		hg_config_edit_finish(ce);
		CHECK_STR(get(), "allowed_uids = 0, 8\n");

		ce = NULL;
		put("container_ifaces = docker0, br-*\n");
		CHECK(hg_config_edit_prepare_many(path, swap, 2, &ce, &e) == 1, "docker0 -> docker*: %s", e.message);
		CHECK(ce && hg_config_edit_commit(ce, &e) == 0, "%s", e.message);
		hg_config_edit_finish(ce);
		CHECK_STR(get(), "container_ifaces = br-*, docker*\n");

		ce = (struct hg_config_edit *)0x1;
		put("allowed_uids = 0\ncontainer_ifaces = docker0\n");
		CHECK(hg_config_edit_prepare_many(path, bad, 2, &ce, &e) == -EINVAL, "overlap accepted");
		CHECK(e.line == 2 && strstr(e.message, "overlaps"), "line %u: %s", e.line, e.message);
		CHECK(ce == (struct hg_config_edit *)0x1, "ret touched on failure");
		CHECK_STR(get(), "allowed_uids = 0\ncontainer_ifaces = docker0\n");
	}

	/* the mode of the file is kept */
	put("allowed_uids = 0\n");
	chmod(path, 0600);
	CHECK(edit(HG_KEY_UIDS, HG_EDIT_ADD, V("1"), &e) == 1, "%s", e.message);
	{
		struct stat st;
		CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "mode %o", st.st_mode & 07777);
	}

	/* 50,000 uids: one added at the end, one removed from the middle */
	{
		size_t cap = 50000 * 8 + 64, len;
		char *big = malloc(cap), *want = malloc(cap + 16);
		len = (size_t)snprintf(big, cap, "allowed_uids = 0");
		for (unsigned i = 0; i < 50000; i++)
			len += (size_t)snprintf(big + len, cap - len, ", %u", 100000 + i);
		snprintf(big + len, cap - len, "\nallowed_gids = 1\n");
		snprintf(want, cap + 16, "%.*s, 7\nallowed_gids = 1\n", (int)len, big);
		expect(big, HG_KEY_UIDS, HG_EDIT_ADD, V("7"), want);
		expect(big, HG_KEY_UIDS, HG_EDIT_ADD, V("125000"), big);
		{
			char *cut;
			snprintf(want, cap + 16, "%s", big);
			cut = strstr(want, ", 125000");
			memmove(cut, cut + 8, strlen(cut + 8) + 1);
			expect(big, HG_KEY_UIDS, HG_EDIT_REMOVE, V("125000"), want);
		}
		free(big);
		free(want);
	}

	for (unsigned seed = 1; seed <= 400; seed++)
		extend_matches_general(seed);
	for (unsigned seed = 1; seed <= 3000; seed++)
		extend_semantics(seed);

	unlink(path);
	rmdir(dir);
	return check_done("test-config-edit");
}
