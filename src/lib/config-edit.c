/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Editing one key of the config file atomically: the file is read through
 * its checked directory, the key's line is rewritten, the whole result is
 * validated, written beside it and renamed over it on commit.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

struct hg_config_edit {
	char *path, *tmp, *line;  /* line: what the edit put at head (below) */
	/* an edit that appended to the key's line (hg_line_edit.extend)
	 * keeps the text it was made on, for hg_config_edit_line(), which
	 * makes the whole line once, when asked, in *full */
	char *text, **full;
	size_t len, head, tail;
	char *backup;             /* after commit: a hard link to the old file */
	size_t same;              /* leading bytes the new version shares with the old */
	int dir_fd;
	bool existed, committed;
};

/* Edits open the config relative to its (checked) directory, never through
 * a symlink (ELOOP), never blocking on a FIFO (-EINVAL: not a regular file). */
static int read_file(int dir_fd, const char *base, char **ret, size_t *ret_len, struct stat *st)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd = openat(dir_fd, base, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK), r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st->st_mode)) {
		r = -EINVAL;
		goto out;
	}
	for (;;) {
		ssize_t n;
		if (len + 1 >= cap) {
			char *nb;
			/* the size it has now, in one allocation (it may still grow) */
			cap = cap ? cap * 2 : st->st_size < 4096 ? 4096
					 : st->st_size < (64 << 20) ? (size_t)st->st_size + 2 : 64u << 20;
			if (cap > (64u << 20)) {
				r = -EFBIG;
				goto out;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return r;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void edit_free(struct hg_config_edit *e)
{
	if (e->dir_fd >= 0)
		close(e->dir_fd);
	free(e->path);
	free(e->tmp);
	free(e->backup);
	free(e->line);
	free(e->text);
	if (e->full)
		free(*e->full);
	free(e->full);
	free(e);
}

static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

HG_EXPORT void hg_config_edit_abort(struct hg_config_edit *e)
{
	if (!e)
		return;
	if (e->committed) {
		/* put the old file back (its own inode: mode, owner, bytes) */
		if (e->backup)
			renameat(e->dir_fd, e->backup, e->dir_fd, base_of(e->path));
		else
			unlinkat(e->dir_fd, base_of(e->path), 0);
		fsync(e->dir_fd);
	} else if (e->tmp) {
		unlinkat(e->dir_fd, e->tmp, 0);
	}
	edit_free(e);
}

HG_EXPORT void hg_config_edit_finish(struct hg_config_edit *e)
{
	if (!e)
		return;
	if (e->backup)
		unlinkat(e->dir_fd, e->backup, 0);
	edit_free(e);
}

HG_EXPORT size_t hg_config_edit_same(const struct hg_config_edit *e)
{
	return e ? e->same : 0;
}

HG_EXPORT const char *hg_config_edit_line(const struct hg_config_edit *e)
{
	const char *start, *end;
	size_t n;

	if (!e || !e->text)
		return e ? e->line : NULL;
	if (*e->full)
		return *e->full;
	/* the whole line, made once, when asked: the old line up to its last
	 * value, what was appended, and the rest of it */
	for (start = e->text + e->head; start > e->text && start[-1] != '\n'; start--)
		;
	end = memchr(e->text + e->tail, '\n', e->len - e->tail);
	if (!end)
		end = e->text + e->len;
	n = strlen(e->line);
	*e->full = malloc((size_t)(e->text + e->head - start) + n + (size_t)(end - (e->text + e->tail)) + 1);
	if (!*e->full)
		return NULL;
	sprintf(*e->full, "%.*s%s%.*s", (int)(e->text + e->head - start), start, e->line,
		(int)(end - (e->text + e->tail)), e->text + e->tail);
	return *e->full;
}

HG_EXPORT int hg_config_edit_commit(struct hg_config_edit *e, struct hg_error *err)
{
	const char *base;

	if (!e)
		return hg_err(err, -EINVAL, "invalid argument");
	base = base_of(e->path);

	if (e->existed) {
		/* keep the old version under a second name until the caller
		 * finishes (or aborts, which renames it back) */
		if (asprintf(&e->backup, "%s.old", e->tmp) < 0) {
			e->backup = NULL;
			return hg_err(err, -ENOMEM, "out of memory");
		}
		if (linkat(e->dir_fd, base, e->dir_fd, e->backup, 0) < 0) {
			int r = -errno;
			free(e->backup);
			e->backup = NULL;
			return hg_err(err, r, "%s: cannot keep the old version: %s", e->path, strerror(-r));
		}
	}
	if (renameat(e->dir_fd, e->tmp, e->dir_fd, base) < 0) {
		int r = -errno;
		if (e->backup) {
			unlinkat(e->dir_fd, e->backup, 0);
			free(e->backup);
			e->backup = NULL;
		}
		return hg_err(err, r, "%s: cannot replace it: %s", e->path, strerror(-r));
	}
	free(e->tmp);
	e->tmp = NULL;
	e->committed = true;
	/* the rename itself is durable only once the directory is */
	if (fsync(e->dir_fd) < 0)
		return hg_err(err, -errno, "%s: fsync of its directory: %s", e->path, strerror(errno));
	return 0;
}

static int open_dir(const char *path, char **ret_base)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (!slash) {
		*ret_base = strdup(path);
		return open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
	*ret_base = strdup(slash + 1);
	if (!dir || !*ret_base) {
		free(dir);
		errno = ENOMEM;
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	return fd;
}

/* The text an edit leaves: text[0, head) + pre + line + post + text[tail, len). */
static char *splice_edit(const char *text, size_t len, const struct hg_line_edit *le, size_t *ret_len)
{
	size_t pre = strlen(le->pre), line = strlen(le->line), post = strlen(le->post);
	size_t n = le->head + pre + line + post + (len - le->tail);
	char *out = malloc(n + 1), *at = out;

	if (!out)
		return NULL;
	memcpy(at, text, le->head);
	at += le->head;
	memcpy(at, le->pre, pre);
	at += pre;
	memcpy(at, le->line, line);
	at += line;
	memcpy(at, le->post, post);
	at += post;
	memcpy(at, text + le->tail, len - le->tail);
	out[n] = '\0';
	*ret_len = n;
	return out;
}

HG_EXPORT int hg_config_edit_prepare(const char *path, enum hg_key key, enum hg_edit op,
				     const char *const *tokens, size_t n,
				     struct hg_config_edit **ret, struct hg_error *err)
{
	struct hg_config_change c = { key, op, tokens, n };

	if (n && !tokens)
		return hg_err(err, -EINVAL, "invalid argument");

	return hg_config_edit_prepare_many(path, &c, 1, ret, err);
}

HG_EXPORT int hg_config_edit_prepare_many(const char *path, const struct hg_config_change *changes,
					  size_t n_changes, struct hg_config_edit **ret,
					  struct hg_error *err)
{
	struct hg_config_edit *e = NULL;
	struct hg_policy *p = NULL;
	struct hg_config_lines lines;
	struct hg_line_edit le = { 0 };   /* the last change */
	bool pending = false;             /* le is not spliced into text yet */
	size_t same = SIZE_MAX;           /* the first byte any change touched */
	struct stat st = { 0 };
	char *text = NULL, *base = NULL;
	size_t len = 0;
	bool exists = true;
	int r, fd = -1, dir_fd = -1;

	if (!path || !*path || !ret || (n_changes && !changes))
		return hg_err(err, -EINVAL, "invalid key or path");
	for (size_t c = 0; c < n_changes; c++) {
		enum hg_key key = changes[c].key;
		if ((unsigned)key >= HG_KEY_MAX || (changes[c].n && !changes[c].tokens) ||
		    (changes[c].op != HG_EDIT_ADD && changes[c].op != HG_EDIT_REMOVE))
			return hg_err(err, -EINVAL, "invalid key or path");
		for (size_t i = 0; i < changes[c].n; i++) {
			r = hg_value_parse(key, changes[c].tokens[i], NULL, NULL, err);
			/* revoking a name that no longer resolves removes its token */
			if (r == -ENOENT && changes[c].op == HG_EDIT_REMOVE &&
			    (HG_KIND(key) == HG_KIND_ID || HG_KIND(key) == HG_KIND_GRANT))
				r = 0;
			if (r < 0)
				return r;
		}
	}
	dir_fd = open_dir(path, &base);
	if (dir_fd < 0) {
		r = hg_err(err, -errno, "%s: cannot open its directory: %s", path, strerror(errno));
		goto out;
	}
	{
		char *dir = hg_dir_of(path);
		r = dir ? hg_config_trust_dirs(dir, path, err) : hg_err(err, -ENOMEM, "out of memory");
		free(dir);
		if (r < 0)
			goto out;
	}
	r = read_file(dir_fd, base, &text, &len, &st);
	if (r == -ENOENT) {
		exists = false;
		text = strdup("");
		r = text ? 0 : -ENOMEM;
	}
	if (r == -ELOOP) {
		r = hg_err(err, -EINVAL, "%s is a symbolic link; edits refuse it (use --config with the file it points to)",
			   path);
		goto out;
	}
	if (r == -EINVAL) {
		r = hg_err(err, -EINVAL, "%s: not a regular file; refusing it", path);
		goto out;
	}
	if (r < 0) {
		r = hg_err(err, r, "%s: %s", path, strerror(-r));
		goto out;
	}
	if (exists) {
		r = hg_config_trust_file(path, &st, err);
		if (r < 0)
			goto out;
	}
	/* the file as a whole must be valid before we touch it */
	r = hg_config_parse_lines(text, len, path, &p, &lines, err);
	if (r < 0)
		goto out;
	/* each change rewrites one key's line of the text the last one left;
	 * its new line is parsed by the same parser (every other line of the
	 * result was parsed above, byte for byte) */
	for (size_t c = 0; c < n_changes; c++) {
		struct hg_line_edit next = { 0 };
		if (pending) {
			/* the text the previous change left, for this one */
			size_t n;
			char *t = splice_edit(text, len, &le, &n);
			if (!t) {
				r = hg_err(err, -ENOMEM, "out of memory");
				goto out;
			}
			free(text);
			text = t;
			len = n;
			pending = false;
		}
		r = hg_config_edit_text(text, len, p, &lines, changes[c].key, changes[c].op,
					changes[c].tokens, changes[c].n, &next);
		if (r < 0) {
			r = hg_err(err, r, "out of memory");
			goto out;
		}
		if (r == 0)
			continue;
		/* a change writes at next.head and beyond of the text the
		 * changes before it left: the bytes before the first of those
		 * are the file's own */
		if (next.head < same)
			same = next.head;
		r = hg_config_replace_line(p, &lines, path, changes[c].key, &next, err);
		free(next.known);
		next.known = NULL;
		free(le.line);
		le = next;
		pending = true;
		if (r < 0)
			goto out;
	}
	if (!le.line) {
		*ret = NULL;
		r = 0;
		goto out;
	}
	/* the result as a whole (an overlapping interface pattern) */
	r = hg_config_validate_lines(p, &lines, path, err);
	if (r < 0)
		goto out;

	e = calloc(1, sizeof(*e));
	if (!e) {
		r = hg_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	e->dir_fd = dir_fd;
	dir_fd = -1;
	e->existed = exists;
	e->same = exists ? same : 0;
	e->line = le.line;
	le.line = NULL;
	if (!(e->path = strdup(path))) {
		r = hg_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (asprintf(&e->tmp, ".%s.XXXXXX", base) < 0) {
		e->tmp = NULL;
		r = hg_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	{
		/* mkostemp() opens with O_EXCL: never through someone's symlink */
		char *full;
		if (asprintf(&full, "%.*s%s", (int)(strlen(path) - strlen(base)), path, e->tmp) < 0) {
			r = hg_err(err, -ENOMEM, "out of memory");
			goto out;
		}
		fd = mkostemp(full, O_CLOEXEC);
		if (fd >= 0) {
			free(e->tmp);
			e->tmp = strdup(full + strlen(path) - strlen(base));
			/* out of memory right after creating it: not left behind */
			if (!e->tmp)
				unlink(full);
		}
		free(full);
		if (fd < 0 || !e->tmp) {
			r = hg_err(err, fd < 0 ? -errno : -ENOMEM, "%s: cannot create a temporary file beside it: %s",
				   path, fd < 0 ? strerror(errno) : "out of memory");
			free(e->tmp);
			e->tmp = NULL;
			goto out;
		}
	}
	if (!pending) {
		r = write_all(fd, text, len);
	} else {
		/* in pieces: a 50,000-value file is not copied once more */
		r = write_all(fd, text, le.head);
		if (r == 0)
			r = write_all(fd, le.pre, strlen(le.pre));
		if (r == 0)
			r = write_all(fd, e->line, strlen(e->line));
		if (r == 0)
			r = write_all(fd, le.post, strlen(le.post));
		if (r == 0)
			r = write_all(fd, text + le.tail, len - le.tail);
	}
	if (r == 0 && fchmod(fd, exists ? st.st_mode & 07777 : 0644) < 0)
		r = -errno;
	if (r == 0 && exists && (st.st_uid != geteuid() || st.st_gid != getegid()) &&
	    fchown(fd, st.st_uid, st.st_gid) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	fd = -1;
	if (r < 0) {
		r = hg_err(err, r, "%s: cannot write the new version: %s", path, strerror(-r));
		goto out;
	}
	if (le.extend && !(e->full = calloc(1, sizeof(*e->full)))) {
		r = hg_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (le.extend) {
		e->text = text;
		e->len = len;
		e->head = le.head;
		e->tail = le.tail;
		/* a later change had nothing to do: the text it was tried on
		 * holds what was appended already */
		if (!pending) {
			e->head = e->tail = le.head + strlen(e->line);
			e->line[0] = '\0';
		}
		text = NULL;
	}
	*ret = e;
	e = NULL;
	r = 1;
out:
	if (fd >= 0)
		close(fd);
	if (dir_fd >= 0)
		close(dir_fd);
	hg_config_edit_abort(e);
	hg_policy_free(p);
	free(le.line);
	free(le.known);
	free(text);
	free(base);
	return r;
}

/* ".NAME.XXXXXX" or ".NAME.XXXXXX.old", as hg_config_edit_prepare makes them */
static bool is_edit_temp(const char *entry, const char *base)
{
	size_t bl = strlen(base), el = strlen(entry);

	if (el < bl + 8 || entry[0] != '.' || strncmp(entry + 1, base, bl) != 0 || entry[bl + 1] != '.')
		return false;
	entry += bl + 2;
	for (int i = 0; i < 6; i++)
		if (!((entry[i] >= 'a' && entry[i] <= 'z') || (entry[i] >= 'A' && entry[i] <= 'Z') ||
		      (entry[i] >= '0' && entry[i] <= '9')))
			return false;
	return strcmp(entry + 6, "") == 0 || strcmp(entry + 6, ".old") == 0;
}

HG_EXPORT int hg_config_edit_cleanup(const char *path, struct hg_error *err)
{
	char *base = NULL, *dir;
	int dir_fd, fd, removed = 0, r;
	DIR *d;
	struct dirent *de;

	if (!path)
		return hg_err(err, -EINVAL, "invalid argument");
	dir = hg_dir_of(path);

	/* only in a directory nobody else controls */
	if (!dir)
		return hg_err(err, -ENOMEM, "out of memory");
	r = hg_config_trust_dirs(dir, path, err);
	free(dir);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	dir_fd = open_dir(path, &base);
	if (dir_fd < 0 || !base) {
		r = dir_fd < 0 ? -errno : -ENOMEM;
		if (dir_fd >= 0)
			close(dir_fd);
		free(base);
		if (r == -ENOENT)
			return 0;
		return hg_err(err, r, "%s: cannot open its directory: %s", path, strerror(-r));
	}
	fd = dup(dir_fd);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		close(dir_fd);
		free(base);
		return hg_err(err, r, "%s: cannot read its directory: %s", path, strerror(-r));
	}
	while ((de = readdir(d))) {
		struct stat st;
		if (!is_edit_temp(de->d_name, base))
			continue;
		if (fstatat(dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
		    (st.st_uid != 0 && st.st_uid != geteuid()))
			continue;
		if (unlinkat(dir_fd, de->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	close(dir_fd);
	free(base);
	return removed;
}
