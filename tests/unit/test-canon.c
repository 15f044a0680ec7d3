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
	{
		/* names resolve through what the caller says of containers; a
		 * name it was not told of gets nothing (fails closed); label
		 * grants join unless they overlap a config grant */
		static const char *const g[] = { "1002@web1:8080", "1002@gone", "1003@10.1.0.0/16", NULL };
		static const char *const web1[] = { "10.0.0.2", "fd00::2", "10.9.0.2" };
		struct hg_policy *p = policy(HG_KEY_GRANT_UIDS, g);
		struct hg_canon c = { 0 };
		char buf[96];

		CHECK(hg_policy_set_container(p, "web1", web1, 3, NULL) == 0, "set web1");
		CHECK(hg_policy_set_container(p, "bad/name", web1, 1, NULL) == -EINVAL, "a bad container name");
		{
			static const char *const bad[] = { "10.0.0.300" };
			CHECK(hg_policy_set_container(p, "x", bad, 1, NULL) == -EINVAL, "a bad address");
		}
		CHECK(hg_policy_add_grant_from(p, HG_KEY_GRANT_UIDS, "1003@10.1.0.5", HG_GRANT_LABEL, "db", NULL) == 0,
		      "label grant inside a config prefix");
		CHECK(hg_policy_add_grant_from(p, HG_KEY_GRANT_UIDS, "1004@10.1.0.5:5432", HG_GRANT_LABEL, "db", NULL) == 0,
		      "label grant");
		CHECK(hg_policy_add_grant_from(p, HG_KEY_GRANT_UIDS, "1004@db", HG_GRANT_LABEL, "db", NULL) == -EINVAL,
		      "a label grant takes an address");
		CHECK(hg_policy_add_grant_from(p, HG_KEY_GRANT_UIDS, "1004@10.1.0.5", HG_GRANT_CONFIG, "db", NULL) == -EINVAL,
		      "a label grant has a source");
		CHECK(hg_canon_from_policy(p, &c, NULL) == 0, "canon");
		/* v4: 1002@10.0.0.2:8080 and 1002@10.9.0.2:8080 (name web1),
		 * 1003@10.1.0.0/16 (config; the label's 10.1.0.5 is inside it),
		 * 1004@10.1.0.5:5432 (label db) */
		CHECK(c.ng[0] == 4, "four IPv4 grants (%zu)", c.ng[0]);
		CHECK(c.ng[1] == 1, "one IPv6 grant (%zu)", c.ng[1]);
		if (c.ng[0] == 4 && c.ng[1] == 1) {
			hg_grant_format(&c.g[0][0], buf, sizeof(buf));
			CHECK(strcmp(buf, "1002@10.0.0.2:8080") == 0 && c.g[0][0].src == HG_GRANT_NAME &&
			      strcmp(c.g[0][0].name, "web1") == 0, "web1's first address: %s", buf);
			hg_grant_format(&c.g[0][2], buf, sizeof(buf));
			CHECK(strcmp(buf, "1003@10.1.0.0/16") == 0 && c.g[0][2].src == HG_GRANT_CONFIG,
			      "the config's prefix: %s", buf);
			hg_grant_format(&c.g[0][3], buf, sizeof(buf));
			CHECK(strcmp(buf, "1004@10.1.0.5:5432") == 0 && c.g[0][3].src == HG_GRANT_LABEL &&
			      strcmp(c.g[0][3].name, "db") == 0, "the label grant: %s", buf);
			hg_grant_format(&c.g[1][0], buf, sizeof(buf));
			CHECK(strcmp(buf, "1002@[fd00::2]:8080") == 0, "web1's IPv6 address: %s", buf);
		}
		hg_canon_clear(&c);
		/* the same address by the config and by a name: one element, the config's */
		CHECK(hg_policy_add(p, HG_KEY_GRANT_UIDS, "1002@10.0.0.2:8080", NULL) == 0, "add");
		CHECK(hg_canon_from_policy(p, &c, NULL) == 0, "canon");
		CHECK(c.ng[0] == 4 && c.g[0][0].src == HG_GRANT_CONFIG, "config wins over a name (%zu)", c.ng[0]);
		hg_canon_clear(&c);
		hg_policy_free(p);
	}
	{
		/* the element comment round trip: "name:web1" as nft's TLV */
		struct hg_grant g = { 0 };
		static const unsigned char ud[] = { 0, 10, 'n', 'a', 'm', 'e', ':', 'w', 'e', 'b', '1', 0 };
		static const unsigned char bad[] = { 0, 12, 'n', 'a', 'm', 'e', ':', 'w', 'e', 'b', '1', 0 };
		static const unsigned char other[] = { 0, 6, 'h', 'e', 'l', 'l', 'o', 0 };

		hg_grant_tag_decode(&g, ud, sizeof(ud));
		CHECK(g.src == HG_GRANT_NAME && strcmp(g.name, "web1") == 0, "comment name:web1");
		memset(&g, 0, sizeof(g));
		hg_grant_tag_decode(&g, bad, sizeof(bad));
		CHECK(g.src == HG_GRANT_CONFIG && !g.name[0], "a TLV longer than its attribute is ignored");
		hg_grant_tag_decode(&g, other, sizeof(other));
		CHECK(g.src == HG_GRANT_CONFIG && !g.name[0], "someone else's comment is no source");
	}
	return check_done("test-canon");
}
