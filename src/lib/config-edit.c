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
	char *path, *tmp, *line;
	char *backup;             /* after commit: a hard link to the old file */
	int dir_fd;
	bool existed, committed;
};

struct toks {
	char **v;
	size_t n;
};

static void toks_free(struct toks *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

static int toks_add(struct toks *t, const char *s)
{
	char **v = realloc(t->v, (t->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	t->v = v;
	if (!(t->v[t->n] = strdup(s)))
		return -ENOMEM;
	t->n++;
	return 0;
}

static void toks_del(struct toks *t, size_t i)
{
	free(t->v[i]);
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(*t->v));
	t->n--;
}

/* Where a key's line is: [start, end) of the text, the comment inside it,
 * and its values as typed. */
struct keyline {
	size_t start, end;
	const char *comment;      /* points into the text, or NULL */
	size_t comment_len;
	size_t gap;               /* blanks before the comment, kept as they were */
	bool found;
};

static int find_key(const char *text, size_t len, enum hg_key key, struct keyline *kl,
		    struct toks *values)
{
	size_t pos = 0;

	memset(kl, 0, sizeof(*kl));
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t l = end - pos;
		char *line = strndup(text + pos, l), *hash, *eq, *s, *e;

		if (!line)
			return -ENOMEM;
		hash = strchr(line, '#');
		if (hash) {
			kl->comment = text + pos + (hash - line);
			kl->comment_len = l - (size_t)(hash - line);
			for (kl->gap = 0; hash - kl->gap > line && is_blank(hash[-1 - (ptrdiff_t)kl->gap]); kl->gap++)
				;
			*hash = '\0';
		}
		eq = strchr(line, '=');
		if (eq) {
			for (s = line; is_blank(*s); s++)
				;
			for (e = eq; e > s && is_blank(e[-1]); e--)
				;
			*e = '\0';
			if (hg_key_from_name(s) == (int)key) {
				kl->found = true;
				kl->start = pos;
				kl->end = end;
				for (char *v = eq + 1, *tok; (tok = hg_config_next_token(&v));) {
					if (toks_add(values, tok) < 0) {
						free(line);
						return -ENOMEM;
					}
				}
				if (!hash)
					kl->comment = NULL;
				free(line);
				return 0;
			}
		}
		free(line);
		kl->comment = NULL;
		pos = end + 1;
	}
	return 0;
}

static int range_of(enum hg_key k, const char *tok, struct hg_range *r)
{
	return hg_value_parse(k, tok, &r->lo, &r->hi, NULL);
}

static int fmt_tok(struct toks *t, uint32_t lo, uint32_t hi)
{
	char buf[32];

	if (lo == hi)
		snprintf(buf, sizeof(buf), "%u", lo);
	else
		snprintf(buf, sizeof(buf), "%u-%u", lo, hi);
	return toks_add(t, buf);
}

/* Is [lo, hi] inside the union of the tokens' ranges? */
static bool covered(enum hg_key k, const struct toks *t, struct hg_range req)
{
	struct hg_range *v = calloc(t->n + 1, sizeof(*v));
	size_t n = 0;
	bool yes = false;

	if (!v)
		return false;
	for (size_t i = 0; i < t->n; i++)
		if (range_of(k, t->v[i], &v[n]) == 0)
			n++;
	n = hg_ranges_normalize(v, n, true);
	for (size_t i = 0; i < n; i++)
		yes |= v[i].lo <= req.lo && req.hi <= v[i].hi;
	free(v);
	return yes;
}

static int edit_tokens(enum hg_key k, enum hg_edit op, struct toks *t, const char *tok)
{
	bool ports = HG_KIND(k) == HG_KIND_PORT;
	struct hg_range req, x;
	int r = 0;

	if (HG_KIND(k) == HG_KIND_GRANT) {
		struct hg_grant want, gx;
		/* equal grants are one token, however typed; revoking a grant
		 * whose principal no longer resolves removes its literal token */
		int rp = hg_grant_parse(k, tok, &want, NULL);
		for (size_t i = 0; i < t->n; i++) {
			bool same = strcmp(t->v[i], tok) == 0 ||
				    (rp == 0 && hg_grant_parse(k, t->v[i], &gx, NULL) == 0 &&
				     hg_grant_equal(&want, &gx));
			if (!same)
				continue;
			if (op == HG_EDIT_ADD)
				return 0;
			toks_del(t, i--);
		}
		if (rp < 0 && op == HG_EDIT_ADD)
			return -EINVAL;
		return op == HG_EDIT_ADD ? toks_add(t, tok) : 0;
	}
	if (k == HG_KEY_IFACES) {
		for (size_t i = 0; i < t->n; i++) {
			if (strcmp(t->v[i], tok) != 0)
				continue;
			if (op == HG_EDIT_ADD)
				return 0;
			toks_del(t, i--);
		}
		return op == HG_EDIT_ADD ? toks_add(t, tok) : 0;
	}
	r = range_of(k, tok, &req);
	if (r == -ENOENT && op == HG_EDIT_REMOVE) {
		/* a name that no longer resolves: its literal token goes */
		for (size_t i = 0; i < t->n; i++)
			if (strcmp(t->v[i], tok) == 0)
				toks_del(t, i--);
		return 0;
	}
	if (r < 0)
		return -EINVAL;
	if (op == HG_EDIT_ADD) {
		bool merged = false;
		if (ports ? covered(k, t, req) : false)
			return 0;
		for (size_t i = 0; i < t->n; i++) {
			if (range_of(k, t->v[i], &x) < 0)
				continue;
			if (!ports) {
				if (x.lo == req.lo)
					return 0;
				continue;
			}
			/* overlapping or touching ranges become one token */
			if (x.lo <= (uint64_t)req.hi + 1 && req.lo <= (uint64_t)x.hi + 1) {
				req.lo = x.lo < req.lo ? x.lo : req.lo;
				req.hi = x.hi > req.hi ? x.hi : req.hi;
				toks_del(t, i);
				i = (size_t)-1;   /* the grown range may touch earlier ones */
				merged = true;
			}
		}
		return merged ? fmt_tok(t, req.lo, req.hi) : toks_add(t, tok);
	}
	/* remove: tokens that overlap go; of a port range, what is left of
	 * it stays, in its place */
	struct toks keep = { 0 };
	for (size_t i = 0; i < t->n && r == 0; i++) {
		if (range_of(k, t->v[i], &x) < 0 || x.hi < req.lo || x.lo > req.hi) {
			r = toks_add(&keep, t->v[i]);
			continue;
		}
		if (ports && x.lo < req.lo)
			r = fmt_tok(&keep, x.lo, req.lo - 1);
		if (ports && r == 0 && x.hi > req.hi)
			r = fmt_tok(&keep, req.hi + 1, x.hi);
	}
	if (r < 0) {
		toks_free(&keep);
		return r;
	}
	toks_free(t);
	*t = keep;
	return 0;
}

static bool toks_equal(const struct toks *a, const struct toks *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

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
			cap = cap ? cap * 2 : 4096;
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

HG_EXPORT const char *hg_config_edit_line(const struct hg_config_edit *e)
{
	return e ? e->line : NULL;
}

HG_EXPORT int hg_config_edit_commit(struct hg_config_edit *e, struct hg_error *err)
{
	const char *base = base_of(e->path);

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

HG_EXPORT int hg_config_edit_prepare(const char *path, enum hg_key key, enum hg_edit op,
				     const char *const *tokens, size_t n,
				     struct hg_config_edit **ret, struct hg_error *err)
{
	struct hg_config_edit *e = NULL;
	struct hg_policy *p = NULL, *def = NULL;
	struct toks old = { 0 }, now = { 0 };
	struct keyline kl;
	struct stat st = { 0 };
	char *text = NULL, *out = NULL, *base = NULL;
	size_t len = 0, outlen = 0;
	bool exists = true;
	int r, fd = -1, dir_fd = -1;

	if ((unsigned)key >= HG_KEY_MAX || !*path)
		return hg_err(err, -EINVAL, "invalid key or path");
	for (size_t i = 0; i < n; i++) {
		r = hg_value_parse(key, tokens[i], NULL, NULL, err);
		/* revoking a name that no longer resolves removes its token */
		if (r == -ENOENT && op == HG_EDIT_REMOVE &&
		    (key == HG_KEY_UIDS || key == HG_KEY_GIDS || HG_KIND(key) == HG_KIND_GRANT))
			r = 0;
		if (r < 0)
			return r;
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
	r = hg_config_parse(text, len, path, &p, err);
	if (r < 0)
		goto out;
	r = find_key(text, len, key, &kl, &old);
	if (r == 0 && !kl.found) {
		/* absent key: its values are the defaults */
		r = hg_policy_new_default(&def, err);
		for (size_t i = 0; r == 0 && i < hg_policy_count(def, key); i++)
			r = toks_add(&old, hg_policy_token(def, key, i));
	}
	for (size_t i = 0; r == 0 && i < old.n; i++)
		r = toks_add(&now, old.v[i]);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = edit_tokens(key, op, &now, tokens[i]);
	if (r < 0) {
		r = hg_err(err, r, "out of memory");
		goto out;
	}
	if (toks_equal(&old, &now)) {
		*ret = NULL;
		r = 0;
		goto out;
	}

	e = calloc(1, sizeof(*e));
	if (!e || !(e->path = strdup(path))) {
		r = hg_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	e->dir_fd = -1;
	e->existed = exists;
	{
		FILE *f = open_memstream(&e->line, &outlen);
		if (!f) {
			r = hg_err(err, -ENOMEM, "out of memory");
			goto out;
		}
		fprintf(f, "%s =", hg_key_name(key));
		for (size_t i = 0; i < now.n; i++)
			fprintf(f, "%s%s", i ? ", " : " ", now.v[i]);
		if (kl.found && kl.comment)
			fprintf(f, "%.*s%.*s", (int)kl.gap, kl.comment - kl.gap, (int)kl.comment_len, kl.comment);
		fclose(f);
	}
	{
		FILE *f = open_memstream(&out, &outlen);
		if (!f) {
			r = hg_err(err, -ENOMEM, "out of memory");
			goto out;
		}
		if (kl.found) {
			fwrite(text, 1, kl.start, f);
			fputs(e->line, f);
			fwrite(text + kl.end, 1, len - kl.end, f);
		} else {
			fwrite(text, 1, len, f);
			if (len && text[len - 1] != '\n')
				fputc('\n', f);
			fprintf(f, "%s\n", e->line);
		}
		fclose(f);
	}
	/* the result must parse too (an overlapping interface pattern) */
	hg_policy_free(p);
	p = NULL;
	r = hg_config_parse(out, outlen, path, &p, err);
	if (r < 0)
		goto out;

	e->dir_fd = dir_fd;
	dir_fd = -1;
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
		}
		free(full);
		if (fd < 0 || !e->tmp) {
			r = hg_err(err, -errno, "%s: cannot create a temporary file beside it: %s", path,
				   strerror(errno));
			free(e->tmp);
			e->tmp = NULL;
			goto out;
		}
	}
	r = write_all(fd, out, outlen);
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
	*ret = e;
	e = NULL;
	r = 1;
out:
	if (fd >= 0)
		close(fd);
	if (dir_fd >= 0)
		close(dir_fd);
	hg_config_edit_abort(e);
	toks_free(&old);
	toks_free(&now);
	hg_policy_free(p);
	hg_policy_free(def);
	free(text);
	free(out);
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
	char *base = NULL, *dir = hg_dir_of(path);
	int dir_fd, fd, removed = 0, r;
	DIR *d;
	struct dirent *de;

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
