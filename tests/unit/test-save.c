/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What "hostguard save" builds on: several keys in one atomic config edit
 * (hg_config_edit_prepare_many), and one canonical spelling per value. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "hostguard.h"

static char dir[64], path[96];

static void write_text(const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL, "cannot write %s", path);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	chmod(path, 0644);
}

static char *read_text(void)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

/* only the config in the directory: no temporary file left behind */
static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.' || (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."));
	if (d)
		closedir(d);
	return n;
}

static void test_many(void)
{
	static const char *const rm_uids[] = { "1001" }, *const add_uids[] = { "2000" };
	static const char *const add_tcp[] = { "8080", "8081" }, *const add_grant[] = { "0@[2001:db8::2]:80" };
	static const char *const rm_tcp[] = { "8050" };
	const struct hg_config_change ch[] = {
		{ HG_KEY_UIDS, HG_EDIT_REMOVE, rm_uids, 1 },
		{ HG_KEY_TCP, HG_EDIT_REMOVE, rm_tcp, 1 },
		{ HG_KEY_UIDS, HG_EDIT_ADD, add_uids, 1 },
		{ HG_KEY_TCP, HG_EDIT_ADD, add_tcp, 2 },
		{ HG_KEY_GRANT_UIDS, HG_EDIT_ADD, add_grant, 1 },
	};
	struct hg_config_edit *e = (struct hg_config_edit *)0x1;
	struct hg_error err = { 0 };
	int r;

	write_text("# proxy\nallowed_uids = 0, 1001   # root and the proxy\nallow_from_containers_tcp = 8000-8100\n");
	r = hg_config_edit_prepare_many(path, ch, sizeof(ch) / sizeof(ch[0]), &e, &err);
	CHECK(r == 1, "prepare_many: %d %s", r, err.message);
	CHECK(strstr(read_text(), "1001") != NULL, "prepare changed the file");
	if (r == 1) {
		CHECK(hg_config_edit_commit(e, &err) == 0, "commit: %s", err.message);
		hg_config_edit_finish(e);
	}
	/* every key in one new version, comments kept, 8050 split out,
	 * 8080-8081 inside the range already */
	CHECK_STR(read_text(), "# proxy\nallowed_uids = 0, 2000   # root and the proxy\n"
			       "allow_from_containers_tcp = 8000-8049, 8051-8100\n"
			       "grant_uids = 0@[2001:db8::2]:80\n");
	CHECK(entries() == 1, "%d entries in %s", entries(), dir);

	/* again: nothing to do, *ret NULL */
	e = (struct hg_config_edit *)0x1;
	r = hg_config_edit_prepare_many(path, ch, sizeof(ch) / sizeof(ch[0]), &e, &err);
	CHECK(r == 0 && e == NULL, "second prepare: %d", r);
}

static void test_refused(void)
{
	static const char *const add_uids[] = { "2001" }, *const bad[] = { "12abc" };
	static const char *const iface[] = { "br-x" };
	const struct hg_config_change bad_value[] = {
		{ HG_KEY_UIDS, HG_EDIT_ADD, add_uids, 1 },
		{ HG_KEY_GIDS, HG_EDIT_ADD, bad, 1 },
	};
	const struct hg_config_change overlap[] = {
		{ HG_KEY_UIDS, HG_EDIT_ADD, add_uids, 1 },
		{ HG_KEY_IFACES, HG_EDIT_ADD, iface, 1 },
	};
	struct hg_config_edit *e = (struct hg_config_edit *)0x1;
	struct hg_error err = { 0 };
	const char *text = "allowed_uids = 0\ncontainer_ifaces = br-*\n";
	int r;

	write_text(text);
	r = hg_config_edit_prepare_many(path, bad_value, 2, &e, &err);
	CHECK(r == -EINVAL && e == (struct hg_config_edit *)0x1, "a bad value: %d", r);
	CHECK(strstr(err.message, "12abc") != NULL, "the message names it: %s", err.message);
	/* the result must parse: br-x overlaps br-* */
	r = hg_config_edit_prepare_many(path, overlap, 2, &e, &err);
	CHECK(r == -EINVAL && e == (struct hg_config_edit *)0x1, "an overlapping pattern: %d", r);
	CHECK(strstr(err.message, "br-x") != NULL, "the message names it: %s", err.message);
	CHECK_STR(read_text(), text);
	CHECK(entries() == 1, "%d entries in %s", entries(), dir);
}

static void canonical(enum hg_key k, const char *tok, const char *want)
{
	char buf[112] = "";
	int r = hg_value_canonical(k, tok, buf, sizeof(buf), NULL);

	CHECK(r == 0, "%s: %d", tok, r);
	CHECK_STR(buf, want);
}

static void test_canonical(void)
{
	char small[4] = "xyz";
	struct hg_error err = { 0 };

	canonical(HG_KEY_UIDS, "root", "0");
	canonical(HG_KEY_UIDS, "1001", "1001");
	canonical(HG_KEY_TCP, "8080-8080", "8080");
	canonical(HG_KEY_TCP, "8000-8100", "8000-8100");
	canonical(HG_KEY_IFACES, "br-*", "br-*");
	canonical(HG_KEY_GRANT_UIDS, "root@192.0.2.2", "0@192.0.2.2");
	canonical(HG_KEY_GRANT_UIDS, "0@[2001:db8::2]", "0@2001:db8::2");
	canonical(HG_KEY_GRANT_UIDS, "0@[2001:db8:0::2]:80", "0@[2001:db8::2]:80");
	canonical(HG_KEY_GRANT_UIDS, "0@192.0.2.0/24:1-65535", "0@192.0.2.0/24");
	CHECK(hg_value_canonical(HG_KEY_TCP, "8000-8100", small, sizeof(small), &err) == -ENOBUFS &&
	      strcmp(small, "xyz") == 0, "a short buffer: -ENOBUFS, untouched");
	CHECK(hg_value_canonical(HG_KEY_UIDS, "12abc", small, sizeof(small), &err) == -EINVAL &&
	      strstr(err.message, "12abc"), "a bad value: -EINVAL naming it (%s)", err.message);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/hg-unit-save.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/h.conf", dir);
	test_many();
	test_refused();
	test_canonical();
	unlink(path);
	rmdir(dir);
	return check_done("test-save");
}
