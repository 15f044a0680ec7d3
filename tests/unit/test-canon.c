/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Interface name intervals and the canonical (kernel) form of a policy. */
#include "check.h"
#include "internal.h"

static void interval(const char *pat, const char *start, const char *end, unsigned char end15)
{
	struct hg_ifrange r;
	char back[IFNAMSIZ_ + 2];
	unsigned char s[IFNAMSIZ_] = { 0 }, e[IFNAMSIZ_] = { 0 };

	memcpy(s, start, strlen(start));
	memcpy(e, end, strlen(end));
	e[15] |= end15;
	CHECK(hg_ifname_interval(pat, &r) == 0, "%s", pat);
	CHECK(memcmp(r.start, s, IFNAMSIZ_) == 0, "%s: start", pat);
	CHECK(memcmp(r.end, e, IFNAMSIZ_) == 0, "%s: end", pat);
	CHECK(!r.open_end, "%s: open", pat);
	CHECK(hg_ifrange_pattern(&r, back) == 0 && strcmp(back, pat) == 0,
	      "%s: renders back as '%s'", pat, back);
}

static struct hg_policy *policy(enum hg_key k, const char *const *v)
{
	struct hg_policy *p = hg_policy_new();
	for (; *v; v++)
		CHECK(hg_policy_add(p, k, *v, NULL) == 0, "add %s", *v);
	return p;
}

int main(void)
{
	/* "br-*" is [ "br-", "br." ), an exact name is [ name, name + 1 ) */
	interval("br-*", "br-", "br.", 0);
	interval("docker0", "docker0", "docker0", 1);
	interval("macvlan*", "macvlan", "macvlao", 0);
	interval("abcdefghijklmno", "abcdefghijklmno", "abcdefghijklmno", 1);
	{
		/* carry: a prefix ending in 0xff increments the byte before */
		struct hg_ifrange r;
		CHECK(hg_ifname_interval("a\xff*", &r) == 0, "0xff prefix");
		CHECK(r.end[0] == 'b' && r.end[1] == 0, "carry into the previous byte");
		CHECK(hg_ifname_interval("abcdefghijklmnop", &r) == -EINVAL, "16 characters");
	}
	{
		/* an interval that no pattern makes */
		struct hg_ifrange r = { .start = "br-", .end = "bs" };
		char out[IFNAMSIZ_ + 2];
		CHECK(hg_ifrange_pattern(&r, out) == -EINVAL, "foreign interval rendered as '%s'", out);
	}

	/* ports merge when they overlap or touch; ids are deduplicated */
	{
		static const char *const ports[] = { "8050-8200", "53", "8000-8100", "54", "56", "65535", NULL };
		struct hg_policy *p = policy(HG_KEY_TCP, ports);
		struct hg_canon c;
		CHECK(hg_canon_from_policy(p, &c, NULL) == 0, "canon");
		CHECK(c.n[HG_KEY_TCP] == 4, "%zu ranges", c.n[HG_KEY_TCP]);
		if (c.n[HG_KEY_TCP] == 4) {
			CHECK(c.r[HG_KEY_TCP][0].lo == 53 && c.r[HG_KEY_TCP][0].hi == 54, "53-54");
			CHECK(c.r[HG_KEY_TCP][1].lo == 56 && c.r[HG_KEY_TCP][1].hi == 56, "56");
			CHECK(c.r[HG_KEY_TCP][2].lo == 8000 && c.r[HG_KEY_TCP][2].hi == 8200, "8000-8200");
			CHECK(c.r[HG_KEY_TCP][3].lo == 65535 && c.r[HG_KEY_TCP][3].hi == 65535, "65535");
		}
		hg_canon_clear(&c);
		hg_policy_free(p);
	}
	{
		static const char *const uids[] = { "1001", "0", "root", "1001", "7", NULL };
		struct hg_policy *p = policy(HG_KEY_UIDS, uids);
		struct hg_canon c;
		CHECK(hg_canon_from_policy(p, &c, NULL) == 0, "canon");
		CHECK(c.n[HG_KEY_UIDS] == 3, "%zu ids", c.n[HG_KEY_UIDS]);
		CHECK(c.r[HG_KEY_UIDS][0].lo == 0 && c.r[HG_KEY_UIDS][1].lo == 7 &&
		      c.r[HG_KEY_UIDS][2].lo == 1001, "sorted unique ids");
		hg_canon_clear(&c);
		hg_policy_free(p);
	}
	{
		static const char *const ifs[] = { "br-*", "br.*", "docker0", "docker", NULL };
		struct hg_policy *p = policy(HG_KEY_IFACES, ifs);
		struct hg_canon c;
		/* adjacent intervals are fine: "br.*" starts where "br-*" ends */
		CHECK(hg_canon_from_policy(p, &c, NULL) == 0, "adjacent patterns");
		CHECK(c.n_if == 4, "%zu", c.n_if);
		hg_canon_clear(&c);
		CHECK(hg_policy_add(p, HG_KEY_IFACES, "docker*", NULL) == 0, "add docker*");
		struct hg_error e = { 0 };
		CHECK(hg_policy_validate(p, &e) == -EINVAL, "docker* overlaps docker0");
		CHECK(strstr(e.message, "overlaps") != NULL, "%s", e.message);
		hg_policy_free(p);
	}
	{
		struct hg_policy *p = hg_policy_new();
		hg_policy_add(p, HG_KEY_UIDS, "5", NULL);
		hg_policy_add(p, HG_KEY_UIDS, "6", NULL);
		hg_policy_add(p, HG_KEY_UIDS, "5", NULL);
		CHECK(hg_policy_remove(p, HG_KEY_UIDS, "5", NULL) == 2, "remove counts both");
		CHECK(hg_policy_count(p, HG_KEY_UIDS) == 1, "one left");
		CHECK(hg_policy_remove(p, HG_KEY_UIDS, "5", NULL) == 0, "remove absent");
		CHECK(hg_policy_remove(p, HG_KEY_UIDS, "x1", NULL) < 0, "remove bad token");
		hg_policy_free(p);
	}
	return check_done("test-canon");
}
