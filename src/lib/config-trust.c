/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who may change the config: the file and every directory above it. */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

/*
 * sshd's StrictModes for the config: it decides who may reach containers,
 * so nobody but root or the user running hostguard may be able to change
 * it, neither by owning it nor through group or other write bits.
 */
int hg_config_trust_file(const char *path, const struct stat *st, struct hg_error *err)
{
	if (!S_ISREG(st->st_mode))
		return hg_err(err, -EINVAL, "%s: not a regular file; refusing it", path);
	if (st->st_uid != 0 && st->st_uid != getuid())
		return hg_err(err, -EPERM, "%s: owned by uid %u, not by root or you; refusing it "
			      "(fix: chown root %s)", path, (unsigned)st->st_uid, path);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return hg_err(err, -EPERM, "%s: writable by group or others; refusing it "
			      "(fix: chmod go-w %s)", path, path);
	return 0;
}

/*
 * The same for every directory from / down to dir (resolved): whoever can
 * write one of them can delete or replace the config.  A world-writable
 * directory is accepted only above the config's own directory, only when
 * root owns it and it has the sticky bit (/tmp): there only an entry's
 * owner may remove or rename it, and that entry is checked next.
 */
int hg_config_trust_dirs(const char *dir, const char *path, struct hg_error *err)
{
	char *real = realpath(dir, NULL), *cur = NULL;
	int fd = -1, r = 0;

	if (!real)
		return hg_err(err, -errno, "%s: %s", dir, strerror(errno));
	cur = calloc(1, strlen(real) + 2);
	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (!cur || fd < 0) {
		r = hg_err(err, cur ? -errno : -ENOMEM, "%s: %s", path, cur ? strerror(errno) : "out of memory");
		goto out;
	}
	strcpy(cur, "/");
	for (const char *p = real;;) {
		struct stat st;
		const char *next;
		size_t clen;
		bool last;

		while (*p == '/')
			p++;
		last = *p == '\0';
		if (fstat(fd, &st) < 0) {
			r = hg_err(err, -errno, "%s: %s", cur, strerror(errno));
			goto out;
		}
		if (st.st_uid != 0 && st.st_uid != getuid()) {
			r = hg_err(err, -EPERM, "%s: directory owned by uid %u, not by root or you; refusing %s "
				   "(fix: chown root %s)", cur, (unsigned)st.st_uid, path, cur);
			goto out;
		}
		if ((st.st_mode & (S_IWGRP | S_IWOTH)) &&
		    (last || st.st_uid != 0 || !(st.st_mode & S_ISVTX))) {
			r = hg_err(err, -EPERM, "%s: directory writable by group or others; refusing %s "
				   "(fix: chmod go-w %s, or move the config)", cur, path, cur);
			goto out;
		}
		if (last)
			break;
		next = strchr(p, '/');
		clen = next ? (size_t)(next - p) : strlen(p);
		{
			char comp[NAME_MAX + 1];
			int nfd;
			if (clen > NAME_MAX) {
				r = hg_err(err, -ENAMETOOLONG, "%s: name too long", path);
				goto out;
			}
			memcpy(comp, p, clen);
			comp[clen] = '\0';
			nfd = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (nfd < 0) {
				r = hg_err(err, -errno, "%s/%s: %s", strcmp(cur, "/") ? cur : "", comp, strerror(errno));
				goto out;
			}
			close(fd);
			fd = nfd;
			if (strcmp(cur, "/") != 0)
				strcat(cur, "/");
			strcat(cur, comp);
		}
		p += clen;
	}
out:
	if (fd >= 0)
		close(fd);
	free(cur);
	free(real);
	return r;
}

char *hg_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	return strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

/* The directories of path, and of its target when it is a symlink. */
int hg_config_trust_chains(const char *path, struct hg_error *err)
{
	char *dir = hg_dir_of(path), *real = NULL, *rdir = NULL;
	int r;

	if (!dir)
		return hg_err(err, -ENOMEM, "out of memory");
	r = hg_config_trust_dirs(dir, path, err);
	if (r == 0 && (real = realpath(path, NULL))) {
		rdir = hg_dir_of(real);
		r = rdir ? hg_config_trust_dirs(rdir, path, err) : hg_err(err, -ENOMEM, "out of memory");
	}
	free(real);
	free(rdir);
	free(dir);
	return r;
}
