/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Parsing of single values: ids, names, ports, ranges, interface patterns. */
#include <errno.h>

#include "check.h"
#include "hostguard.h"

static int parse(enum hg_key k, const char *tok, uint32_t *lo, uint32_t *hi, struct hg_error *e)
{
	memset(e, 0, sizeof(*e));
	*lo = *hi = 0xdeadbeef;
	return hg_value_parse(k, tok, lo, hi, e);
}

static void ok(enum hg_key k, const char *tok, uint32_t lo, uint32_t hi)
{
	struct hg_error e;
	uint32_t a, b;
	int r = parse(k, tok, &a, &b, &e);

	CHECK(r == 0, "%s '%s': %d %s", hg_key_name(k), tok, r, e.message);
	if (k != HG_KEY_IFACES)
		CHECK(a == lo && b == hi, "'%s' -> %u-%u, expected %u-%u", tok, a, b, lo, hi);
}

static void bad(enum hg_key k, const char *tok, int code, const char *msg)
{
	struct hg_error e;
	uint32_t a, b;
	int r = parse(k, tok, &a, &b, &e);

	CHECK(r == code, "%s '%s': expected %d, got %d", hg_key_name(k), tok, code, r);
	CHECK(e.code == code, "error code %d", e.code);
	CHECK(strstr(e.message, msg) != NULL, "'%s': message '%s' lacks '%s'", tok, e.message, msg);
	CHECK(a == 0xdeadbeef && b == 0xdeadbeef, "outputs touched on failure for '%s'", tok);
}

int main(void)
{
	ok(HG_KEY_UIDS, "0", 0, 0);
	ok(HG_KEY_UIDS, "1001", 1001, 1001);
	ok(HG_KEY_UIDS, "4294967294", 4294967294u, 4294967294u);
	ok(HG_KEY_UIDS, "root", 0, 0);
	ok(HG_KEY_GIDS, "root", 0, 0);
	ok(HG_KEY_GIDS, "65534", 65534, 65534);
	bad(HG_KEY_UIDS, "4294967295", -EINVAL, "uid '4294967295' is out of range");
	bad(HG_KEY_UIDS, "99999999999", -EINVAL, "invalid uid");
	bad(HG_KEY_UIDS, "-1", -EINVAL, "invalid uid '-1'");
	bad(HG_KEY_UIDS, "+5", -EINVAL, "invalid uid '+5'");
	bad(HG_KEY_UIDS, "12abc", -EINVAL, "invalid uid '12abc'");
	bad(HG_KEY_UIDS, "", -EINVAL, "empty uid");
	bad(HG_KEY_UIDS, "no_such_user_hg", -ENOENT, "unknown user 'no_such_user_hg'");
	bad(HG_KEY_GIDS, "no_such_group_hg", -ENOENT, "unknown group 'no_such_group_hg'");
	bad(HG_KEY_GIDS, "1x", -EINVAL, "invalid gid '1x'");

	ok(HG_KEY_TCP, "53", 53, 53);
	ok(HG_KEY_TCP, "1", 1, 1);
	ok(HG_KEY_TCP, "65535", 65535, 65535);
	ok(HG_KEY_UDP, "8000-8100", 8000, 8100);
	ok(HG_KEY_UDP, "7-7", 7, 7);
	bad(HG_KEY_TCP, "0", -EINVAL, "port '0' is out of range");
	bad(HG_KEY_TCP, "65536", -EINVAL, "port '65536' is out of range");
	bad(HG_KEY_TCP, "0-5", -EINVAL, "out of range");
	bad(HG_KEY_TCP, "8100-8000", -EINVAL, "reversed port range '8100-8000'");
	bad(HG_KEY_TCP, "53x", -EINVAL, "invalid port '53x'");
	bad(HG_KEY_TCP, "-53", -EINVAL, "invalid port");
	bad(HG_KEY_TCP, "53-", -EINVAL, "invalid port");
	bad(HG_KEY_TCP, "1-2-3", -EINVAL, "invalid port");
	bad(HG_KEY_TCP, "", -EINVAL, "invalid port");

	ok(HG_KEY_IFACES, "docker0", 0, 0);
	ok(HG_KEY_IFACES, "br-*", 0, 0);
	ok(HG_KEY_IFACES, "abcdefghijklmno", 0, 0);   /* 15 characters */
	ok(HG_KEY_IFACES, "abcdefghijklmno*", 0, 0);
	bad(HG_KEY_IFACES, "abcdefghijklmnop", -EINVAL, "too long");
	bad(HG_KEY_IFACES, "", -EINVAL, "empty interface name");
	bad(HG_KEY_IFACES, "*", -EINVAL, "every interface");
	bad(HG_KEY_IFACES, "br*x", -EINVAL, "invalid interface name 'br*x'");
	bad(HG_KEY_IFACES, "a/b", -EINVAL, "invalid interface name");
	bad(HG_KEY_IFACES, "eth0:1", -EINVAL, "invalid interface name");
	bad(HG_KEY_IFACES, "..", -EINVAL, "invalid interface name");

	/* grants: PRINCIPAL@TARGET; the principal's id comes back */
	ok(HG_KEY_GRANT_UIDS, "1002@192.0.2.2", 1002, 1002);
	ok(HG_KEY_GRANT_UIDS, "root@192.0.2.0/24:8080", 0, 0);
	ok(HG_KEY_GRANT_UIDS, "7@[2001:db8::2]:8000-8100", 7, 7);
	ok(HG_KEY_GRANT_UIDS, "7@2001:db8::/64", 7, 7);
	ok(HG_KEY_GRANT_UIDS, "7@[2001:db8::/64]:53", 7, 7);
	ok(HG_KEY_GRANT_GIDS, "root@0.0.0.0/0", 0, 0);
	bad(HG_KEY_GRANT_UIDS, "1002@192.0.2.2:0", -EINVAL, "port '0' is out of range");
	bad(HG_KEY_GRANT_UIDS, "1002@[::1", -EINVAL, "missing ']'");
	bad(HG_KEY_GRANT_UIDS, "1002@300.1.1.1", -EINVAL, "'1002@300.1.1.1': not an IPv4 address");
	bad(HG_KEY_GRANT_UIDS, "1002@192.0.2.0/33", -EINVAL, "prefix length must be 0-32");
	bad(HG_KEY_GRANT_UIDS, "1002@[2001:db8::1]x", -EINVAL, "expected ':PORT'");
	/* container names: TARGET that is no address; digits and dots are an
	 * IPv4 address, never a name */
	ok(HG_KEY_GRANT_UIDS, "1002@web1", 1002, 1002);
	ok(HG_KEY_GRANT_UIDS, "1002@web1:8080", 1002, 1002);
	ok(HG_KEY_GRANT_UIDS, "1002@my_app.v2-1:8000-8100", 1002, 1002);
	bad(HG_KEY_GRANT_UIDS, "1002@web1:0", -EINVAL, "port '0' is out of range");
	bad(HG_KEY_GRANT_UIDS, "1002@web1:", -EINVAL, "invalid grant");
	bad(HG_KEY_GRANT_UIDS, "1002@web1/24", -EINVAL, "not an IPv4 address");
	bad(HG_KEY_GRANT_UIDS, "1002@-web1", -EINVAL, "neither an address nor a container name");
	bad(HG_KEY_GRANT_UIDS, "1002@we$b", -EINVAL, "neither an address nor a container name");
	bad(HG_KEY_GRANT_UIDS, "1002@1.2.3", -EINVAL, "not an IPv4 address");
	bad(HG_KEY_GRANT_UIDS, "1002@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", -EINVAL,
	    "container name too long");
	{
		char name[HG_CONTAINER_NAME_MAX] = "";
		CHECK(hg_grant_target_name(HG_KEY_GRANT_UIDS, "1002@web1:8080", name, sizeof(name), NULL) == 1 &&
		      strcmp(name, "web1") == 0, "target name web1: '%s'", name);
		CHECK(hg_grant_target_name(HG_KEY_GRANT_UIDS, "1002@192.0.2.2:8080", name, sizeof(name), NULL) == 0,
		      "an address is no name");
		CHECK(hg_grant_target_name(HG_KEY_GRANT_UIDS, "1002@[::1", name, sizeof(name), NULL) == -EINVAL,
		      "a bad target");
		CHECK(hg_grant_target_name(HG_KEY_UIDS, "1002", name, sizeof(name), NULL) == -EINVAL, "not a grant key");
	}
	bad(HG_KEY_GRANT_UIDS, "1002@192.0.2.2:9-8", -EINVAL, "reversed port range");
	bad(HG_KEY_GRANT_UIDS, "1002", -EINVAL, "expected USER@TARGET");
	bad(HG_KEY_GRANT_UIDS, "@192.0.2.2", -EINVAL, "expected USER@TARGET");
	bad(HG_KEY_GRANT_UIDS, "no_such_user_hg@192.0.2.2", -ENOENT, "unknown user 'no_such_user_hg'");
	bad(HG_KEY_GRANT_GIDS, "no_such_group_hg@192.0.2.2", -ENOENT, "unknown group");

	CHECK(hg_key_from_name("allowed_uids") == HG_KEY_UIDS, "key name");
	CHECK(hg_key_from_name("grant_uids") == HG_KEY_GRANT_UIDS, "key name");
	CHECK(hg_key_from_name("allow_from_containers_udp") == HG_KEY_UDP, "key name");
	CHECK(hg_key_from_name("allowed_uid") == -EINVAL, "unknown key name");
	return check_done("test-values");
}
