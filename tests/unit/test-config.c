/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The config file format: comments, separators, defaults, errors by line. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "hostguard.h"

static struct hg_policy *parse_ok(const char *text)
{
	struct hg_policy *p = NULL;
	struct hg_error e = { 0 };
	int r = hg_config_parse(text, strlen(text), "t.conf", &p, &e);

	CHECK(r == 0, "parse failed: %s", e.message);
	return p;
}

static void parse_bad(const char *text, unsigned line, const char *msg)
{
	struct hg_policy *p = (struct hg_policy *)0x1;
	struct hg_error e = { 0 };
	int r = hg_config_parse(text, strlen(text), "t.conf", &p, &e);

	CHECK(r < 0, "'%s' was accepted", text);
	CHECK(p == (struct hg_policy *)0x1, "ret touched on failure");
	CHECK(e.line == line, "line %u, expected %u (%s)", e.line, line, e.message);
	CHECK(strstr(e.message, msg) != NULL, "message '%s' lacks '%s'", e.message, msg);
}

static void tokens(const struct hg_policy *p, enum hg_key k, const char *want)
{
	char buf[512] = "";

	for (size_t i = 0; i < hg_policy_count(p, k); i++) {
		if (i)
			strcat(buf, " ");
		strcat(buf, hg_policy_token(p, k, i));
	}
	CHECK(strcmp(buf, want) == 0, "%s: '%s', expected '%s'", hg_key_name(k), buf, want);
}

/*
 * The parser reads a number-typed id in one pass of its own (config.c
 * decimal_id): every token must come out as hg_value_parse() and
 * hg_policy_add() take it, accepted with the same value or refused with
 * the same words.
 */
static void same_as_value_parse(enum hg_key k, const char *tok)
{
	char line[128], want[1024];
	struct hg_policy *byline = NULL, *bytok = hg_policy_new();
	struct hg_error e = { 0 }, e2 = { 0 };
	int r, r2;

	snprintf(line, sizeof(line), "%s = %s\n", hg_key_name(k), tok);
	r = hg_config_parse(line, strlen(line), "t.conf", &byline, &e);
	r2 = hg_value_parse(k, tok, NULL, NULL, &e2);
	CHECK((r < 0) == (r2 < 0), "'%s': config %d (%s), hg_value_parse %d (%s)", tok, r, e.message, r2,
	      e2.message);
	if (r < 0 && r2 < 0) {
		snprintf(want, sizeof(want), "t.conf:1: %s: %s", hg_key_name(k), e2.message);
		CHECK(strcmp(e.message, want) == 0, "'%s': '%s', expected '%s'", tok, e.message, want);
	} else if (r == 0 && r2 == 0 && bytok) {
		char *a, *b;
		/* the other keys' defaults, then the token */
		hg_policy_free(bytok);
		bytok = NULL;
		CHECK(hg_config_parse("", 0, "t.conf", &bytok, &e) == 0, "defaults");
		if (bytok) {
			hg_policy_remove(bytok, k, "0", NULL);
			CHECK(hg_policy_add(bytok, k, tok, &e) == 0, "add '%s': %s", tok, e.message);
		}
		a = hg_policy_to_nft(byline);
		b = bytok ? hg_policy_to_nft(bytok) : NULL;
		CHECK(a && b && strcmp(a, b) == 0, "'%s': the config and hg_policy_add differ", tok);
		tokens(byline, k, tok);
		free(a);
		free(b);
	}
	hg_policy_free(byline);
	hg_policy_free(bytok);
}

/*
 * Whole lines of random bytes around number-typed ids (digits, separators,
 * signs, letters, high bytes, 9 to 12 digits at the uint32 edge): the
 * parser's one-pass path (decimal_id) must end where the general way does,
 * the line cut into tokens at ',', ' ', '\t' and '\r' (hostguard.conf(5))
 * and each token taken by hg_policy_add(): the same tokens with the same values, or a
 * refusal of both, an unknown name skipped by both.
 */
static void fuzz_ids(unsigned seed)
{
	static const char *const bits[] = { "0", "7", "00", "4294967294", "4294967295", "4294967296",
					    "999999999", "9999999999", "99999999999", "12345678901", ",", " ",
					    "\t", "\r", "-", "+", "a", "root", "\x80", "\v", "0x", "" };
	char line[256], vals[200], copy[200];
	struct hg_policy *byline = NULL, *bytok = NULL;
	struct hg_error e = { 0 };
	enum hg_key k = seed % 2 ? HG_KEY_UIDS : HG_KEY_GIDS;
	unsigned st = seed * 2654435761u | 1;
	size_t n = 0, nb = 1 + check_rnd(&st, 8);
	bool want_ok = true;
	char *a, *b;

	vals[0] = '\0';
	for (size_t i = 0; i < nb; i++) {
		const char *x = bits[check_rnd(&st, sizeof(bits) / sizeof(bits[0]))];
		if (n + strlen(x) + 1 >= sizeof(vals))
			break;
		memcpy(vals + n, x, strlen(x) + 1);
		n += strlen(x);
	}
	snprintf(line, sizeof(line), "%s =%s\n", hg_key_name(k), vals);
	CHECK(hg_config_parse("", 0, "t.conf", &bytok, &e) == 0, "defaults");
	if (!bytok)
		return;
	hg_policy_remove(bytok, k, "0", NULL);
	memcpy(copy, vals, n + 1);
	for (char *tok = strtok(copy, ", \t\r"); tok; tok = strtok(NULL, ", \t\r")) {
		int r = hg_policy_add(bytok, k, tok, NULL);
		if (r < 0 && r != -ENOENT)
			want_ok = false;
	}
	{
		int r = hg_config_parse(line, strlen(line), "t.conf", &byline, &e);
		CHECK((r == 0) == want_ok, "seed %u: '%s': config %d (%s), token by token %s", seed, vals, r,
		      e.message, want_ok ? "accepted" : "refused");
	}
	if (byline && want_ok) {
		a = hg_policy_to_nft(byline);
		b = hg_policy_to_nft(bytok);
		CHECK(a && b && strcmp(a, b) == 0, "seed %u: '%s': the line and token by token differ", seed,
		      vals);
		CHECK(hg_policy_count(byline, k) == hg_policy_count(bytok, k), "seed %u: '%s': %zu tokens, %zu",
		      seed, vals, hg_policy_count(byline, k), hg_policy_count(bytok, k));
		for (size_t i = 0; i < hg_policy_count(byline, k) && i < hg_policy_count(bytok, k); i++)
			CHECK_STR(hg_policy_token(byline, k, i), hg_policy_token(bytok, k, i));
		free(a);
		free(b);
	}
	hg_policy_free(byline);
	hg_policy_free(bytok);
}

int main(void)
{
	struct hg_policy *p;

	p = parse_ok("# comment\n"
		     "allowed_uids = 0, root 1001   # trailing comment\n"
		     "\n"
		     "  allowed_gids=\t5,6\n"
		     "container_ifaces = docker0,br-*\r\n"
		     "allow_from_containers_tcp = 53, 8000-8100\n"
		     "allow_from_containers_udp = 53");
	if (p) {
		tokens(p, HG_KEY_UIDS, "0 root 1001");
		tokens(p, HG_KEY_GIDS, "5 6");
		tokens(p, HG_KEY_IFACES, "docker0 br-*");
		tokens(p, HG_KEY_TCP, "53 8000-8100");
		tokens(p, HG_KEY_UDP, "53");
		hg_policy_free(p);
	}

	/* a missing key keeps its default, an empty one is empty */
	p = parse_ok("allow_from_containers_tcp = 53\n");
	if (p) {
		tokens(p, HG_KEY_UIDS, "0");
		tokens(p, HG_KEY_IFACES, "docker0 docker_gwbridge br-* veth* macvlan* ipvlan*");
		tokens(p, HG_KEY_UDP, "");
		hg_policy_free(p);
	}
	p = parse_ok("allowed_uids =\ncontainer_ifaces =   # none\n");
	if (p) {
		tokens(p, HG_KEY_UIDS, "");
		tokens(p, HG_KEY_IFACES, "");
		hg_policy_free(p);
	}
	p = parse_ok("");
	if (p) {
		tokens(p, HG_KEY_UIDS, "0");
		hg_policy_free(p);
	}

	parse_bad("allowed_uids = 0\nbogus = 1\n", 2, "t.conf:2: unknown key 'bogus'");
	parse_bad("\n\nallowed_uids 0\n", 3, "t.conf:3: expected 'key = values'");
	parse_bad("= 5\n", 1, "missing key");
	parse_bad("allowed_uids = 0\nallowed_uids = 1\n", 2, "duplicate key 'allowed_uids' (first set on line 1)");
	parse_bad("allow_from_containers_tcp = 53, 0\n", 1, "t.conf:1: allow_from_containers_tcp: port '0' is out of range");
	parse_bad("allow_from_containers_udp = 100-50\n", 1, "reversed port range '100-50'");
	{
		/* unknown names fail closed: skipped with a warning, the rest loads */
		struct hg_policy *q = parse_ok("#\nallowed_uids = 0, no_such_user_hg, 5\nallowed_gids = no_such_group_hg\n");
		size_t n;
		const char *const *w = hg_policy_warnings(q, &n);
		CHECK(n == 2, "%zu warnings", n);
		CHECK(n == 2 && strcmp(w[0], "t.conf:2: unknown user 'no_such_user_hg' (skipped)") == 0, "warning 0: %s", n ? w[0] : "");
		CHECK(n == 2 && strcmp(w[1], "t.conf:3: unknown group 'no_such_group_hg' (skipped)") == 0, "warning 1: %s", n > 1 ? w[1] : "");
		tokens(q, HG_KEY_UIDS, "0 5");
		CHECK(hg_policy_count(q, HG_KEY_GIDS) == 0, "gids not empty");
		hg_policy_free(q);
		q = parse_ok("ignore_ifaces = mynet0, virbr*\n");
		w = hg_policy_ignored_ifaces(q, &n);
		CHECK(n == 2 && strcmp(w[0], "mynet0") == 0 && strcmp(w[1], "virbr*") == 0, "ignore_ifaces");
		hg_policy_free(q);
	}
	parse_bad("ignore_ifaces = *\n", 1, "ignore_ifaces: interface pattern '*'");
	parse_bad("allowed_uids = 0\nignore_ifaces = a\nignore_ifaces = b\n", 3, "duplicate key 'ignore_ifaces'");
	{
		/* a 10 MB user name is refused before NSS sees it */
		size_t big = 10u << 20;
		char *t = malloc(big + 32);
		CHECK(t != NULL, "malloc");
		if (t) {
			strcpy(t, "allowed_uids = ");
			memset(t + 15, 'a', big);
			strcpy(t + 15 + big, "\n");
			parse_bad(t, 1, "is too long (at most 256 characters)");
			free(t);
		}
	}
	parse_bad("#\ncontainer_ifaces = br-*, br-x\n", 2, "'br-x' overlaps 'br-*'");
	parse_bad("container_ifaces = b*, br-*\n", 1, "overlaps");
	parse_bad("container_ifaces = abcdefghijklmnopq\n", 1, "too long");
	{
		struct hg_policy *q = NULL;
		struct hg_error e = { 0 };
		CHECK(hg_config_parse("a\0b", 3, "t.conf", &q, &e) == -EINVAL, "NUL byte accepted");
		CHECK(hg_config_load("/nonexistent/hg.conf", &q, &e) == -ENOENT, "missing file");
		CHECK(e.line == 0, "missing file has no line");
	}
	{
		static const char *const ids[] = {
			"0", "7", "0007", "65534", "4294967294", "4294967295", "9999999999",
			"12345678901", "00000000001", "0000000001", "123456789012345678901234567890",
			"-1", "+1", "12a", "1.5", "1-2", "root", "0x10",
		};
		for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
			same_as_value_parse(HG_KEY_UIDS, ids[i]);
			same_as_value_parse(HG_KEY_GIDS, ids[i]);
		}
		/* separators around number-typed ids, and a name among them */
		p = parse_ok("allowed_uids = 1,2\t3 ,4, root,\r\n");
		if (p)
			tokens(p, HG_KEY_UIDS, "1 2 3 4 root");
		hg_policy_free(p);
		parse_bad("allowed_uids = 1, 2, 4294967295, 3\n", 1, "uid '4294967295' is out of range");
		parse_bad("allowed_gids = 5, 12a\n", 1, "invalid gid '12a'");
	}
	for (unsigned seed = 1; seed <= 20000; seed++)
		fuzz_ids(seed);
	return check_done("test-config");
}
