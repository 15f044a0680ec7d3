/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The config file: "key = value, value ..." lines, '#' comments. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static bool is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\r';
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The next value of a "key = values" line (NUL-terminated in place), or
 * NULL at the end; *cursor moves past it. */
static char *next_token(char **cursor)
{
	char *v = *cursor, *tok;

	while (*v && is_sep(*v))
		v++;
	if (!*v)
		return NULL;
	tok = v;
	while (*v && !is_sep(*v))
		v++;
	if (*v)
		*v++ = '\0';
	*cursor = v;
	return tok;
}

/* Keys that are settings rather than sets, numbered after the sets. */
enum { OPT_LOG_DENIED = HG_KEY_MAX, OPT_LOG_GROUP, OPT_LOG_RATE, OPT_DOCKER_SOCKET, OPT_IGNORE_IFACES,
       OPT_MAX };
static const char *const option_names[] = { "log_denied", "log_group", "log_rate", "docker_socket",
					    "ignore_ifaces" };

static int option_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(option_names); i++)
		if (strcmp(name, option_names[i]) == 0)
			return HG_KEY_MAX + (int)i;
	return -EINVAL;
}

static int parse_option(struct hg_policy *p, int k, char *v, const char *name, unsigned lineno,
			struct hg_error *err)
{
	const char *key = option_names[k - HG_KEY_MAX];
	char *end;
	unsigned long n;

	while (is_blank(*v))
		v++;
	for (end = v + strlen(v); end > v && is_blank(end[-1]); end--)
		;
	*end = '\0';
	switch (k) {
	case OPT_LOG_DENIED:
		if (strcmp(v, "yes") == 0)
			p->log.enabled = true;
		else if (strcmp(v, "no") == 0)
			p->log.enabled = false;
		else
			return hg_err_line(err, -EINVAL, lineno, "%s:%u: %s: expected yes or no, got '%s'",
					   name, lineno, key, v);
		return 0;
	case OPT_LOG_GROUP:
		errno = 0;
		n = strtoul(v, &end, 10);
		if (!*v || *end || errno || n > 65535 || *v == '-' || *v == '+')
			return hg_err_line(err, -EINVAL, lineno, "%s:%u: %s: expected an NFLOG group 0-65535, got '%s'",
					   name, lineno, key, v);
		p->log.group = (uint16_t)n;
		return 0;
	case OPT_LOG_RATE:
		errno = 0;
		n = strtoul(v, &end, 10);
		if (*v >= '0' && *v <= '9' && !errno && n >= 1 && n <= 1000000 && *end == '/') {
			if (strcmp(end, "/second") == 0)
				p->log.per_seconds = 1;
			else if (strcmp(end, "/minute") == 0)
				p->log.per_seconds = 60;
			else if (strcmp(end, "/hour") == 0)
				p->log.per_seconds = 3600;
			else
				n = 0;
			if (n) {
				p->log.rate = (uint32_t)n;
				return 0;
			}
		}
		return hg_err_line(err, -EINVAL, lineno, "%s:%u: %s: expected N/second, N/minute or N/hour (N from 1 to 1000000), got '%s'",
				   name, lineno, key, v);
	case OPT_DOCKER_SOCKET: {
		int r = hg_policy_set_docker_socket(p, strcmp(v, "none") == 0 ? NULL : v);
		if (r == -EINVAL)
			return hg_err_line(err, -EINVAL, lineno, "%s:%u: %s: expected an absolute path (shorter than 108 bytes) or none, got '%.200s'",
					   name, lineno, key, v);
		if (r < 0)
			return hg_err(err, r, "out of memory");
		return 0;
	}
	}
	return -EINVAL;
}

static int parse_line(struct hg_policy *p, const char *name, unsigned lineno, char *s,
		      unsigned seen[OPT_MAX], struct hg_error *err)
{
	char *hash = strchr(s, '#'), *eq, *key, *end;
	int k, r;

	if (hash)
		*hash = '\0';
	while (is_blank(*s))
		s++;
	if (!*s)
		return 0;
	eq = strchr(s, '=');
	if (!eq)
		return hg_err_line(err, -EINVAL, lineno, "%s:%u: expected 'key = values', got '%s'",
				   name, lineno, s);
	key = s;
	end = eq;
	while (end > key && is_blank(end[-1]))
		end--;
	*end = '\0';
	if (!*key)
		return hg_err_line(err, -EINVAL, lineno, "%s:%u: missing key before '='", name, lineno);
	k = hg_key_from_name(key);
	if (k < 0) {
		k = option_from_name(key);
		if (k < 0)
			return hg_err_line(err, -EINVAL, lineno, "%s:%u: unknown key '%s'", name, lineno, key);
	}
	if (seen[k])
		return hg_err_line(err, -EINVAL, lineno, "%s:%u: duplicate key '%s' (first set on line %u)",
				   name, lineno, key, seen[k]);
	seen[k] = lineno;
	if (k == OPT_IGNORE_IFACES) {
		for (char *v = eq + 1, *tok; (tok = next_token(&v));) {
			r = hg_policy_ignore_add(p, tok, err);
			if (r < 0) {
				char msg[sizeof(err->message)];
				if (!err)
					return r;
				snprintf(msg, sizeof(msg), "%s", err->message);
				return hg_err_line(err, r == -ENOMEM ? r : -EINVAL, lineno, "%s:%u: %s: %s",
						   name, lineno, key, msg);
			}
		}
		return 0;
	}
	if (k >= HG_KEY_MAX)
		return parse_option(p, k, eq + 1, name, lineno, err);

	for (char *v = eq + 1, *tok; (tok = next_token(&v));) {
		struct hg_error e2 = { 0 };
		r = hg_policy_add(p, k, tok, &e2);
		if (r == -ENOENT && (k == HG_KEY_UIDS || k == HG_KEY_GIDS || HG_KIND(k) == HG_KIND_GRANT)) {
			/* allowing is all a name can do: one that does not
			 * resolve (renamed, deleted) is skipped, never fatal */
			if (hg_policy_warn(p, "%s:%u: %s (skipped)", name, lineno, e2.message) < 0)
				return hg_err(err, -ENOMEM, "out of memory");
			continue;
		}
		if (r < 0 && err)
			*err = e2;
		if (r < 0) {
			char msg[sizeof(err->message)];
			if (!err)
				return r;
			snprintf(msg, sizeof(msg), "%s", err->message);
			return hg_err_line(err, r == -ENOMEM ? r : -EINVAL, lineno, "%s:%u: %s: %s",
					   name, lineno, key, msg);
		}
	}
	return 0;
}

/*
 * sshd's StrictModes for the config: it decides who may reach containers,
 * so nobody but root or the user running hostguard may be able to change
 * it, neither by owning it nor through group or other write bits.
 */
static int check_trust(const char *path, const struct stat *st, struct hg_error *err)
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
static int check_dir_chain(const char *dir, const char *path, struct hg_error *err)
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

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	return strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

/* The directories of path, and of its target when it is a symlink. */
static int check_chains(const char *path, struct hg_error *err)
{
	char *dir = dir_of(path), *real = NULL, *rdir = NULL;
	int r;

	if (!dir)
		return hg_err(err, -ENOMEM, "out of memory");
	r = check_dir_chain(dir, path, err);
	if (r == 0 && (real = realpath(path, NULL))) {
		rdir = dir_of(real);
		r = rdir ? check_dir_chain(rdir, path, err) : hg_err(err, -ENOMEM, "out of memory");
	}
	free(real);
	free(rdir);
	free(dir);
	return r;
}

HG_EXPORT int hg_config_parse(const char *text, size_t len, const char *name,
			      struct hg_policy **ret, struct hg_error *err)
{
	unsigned seen[OPT_MAX] = { 0 };
	struct hg_policy *p = NULL, *def = NULL;
	char *buf;
	int r = 0;

	if (memchr(text, '\0', len))
		return hg_err(err, -EINVAL, "%s: contains a NUL byte, not a text file", name);
	buf = malloc(len + 1);
	p = hg_policy_new();
	if (!buf || !p) {
		r = hg_err(err, -ENOMEM, "out of memory");
		goto out;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';

	unsigned lineno = 0;
	for (char *line = buf; line && r == 0;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		r = parse_line(p, name, ++lineno, line, seen, err);
		line = nl ? nl + 1 : NULL;
	}
	if (r < 0)
		goto out;

	/* A key the file does not set keeps its built-in default; an explicit
	 * "key =" with no values means empty. */
	r = hg_policy_new_default(&def, err);
	for (int k = 0; r == 0 && k < HG_KEY_MAX; k++) {
		if (seen[k])
			continue;
		for (size_t i = 0; r == 0 && i < def->lists[k].n; i++)
			r = hg_policy_add(p, k, HG_TOKEN(&def->lists[k], i), err);
	}
	if (r < 0)
		goto out;
	r = hg_policy_validate(p, err);
	if (r < 0) {
		char msg[sizeof(err->message)];
		if (err) {
			unsigned l = seen[HG_KEY_IFACES];
			/* an overlap of two grants: the line of their key */
			for (int k = HG_KEY_GRANT_UIDS; k <= HG_KEY_GRANT_GIDS; k++)
				if (strncmp(err->message, hg_key_name(k), strlen(hg_key_name(k))) == 0)
					l = seen[k];
			snprintf(msg, sizeof(msg), "%s", err->message);
			r = hg_err_line(err, r, l, "%s:%u: %s", name, l, msg);
		}
		goto out;
	}
	*ret = p;
	p = NULL;
out:
	hg_policy_free(def);
	hg_policy_free(p);
	free(buf);
	return r;
}

HG_EXPORT int hg_config_load(const char *path, struct hg_policy **ret, struct hg_error *err)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, r;

	/* O_NONBLOCK: a FIFO in its place opens at once and is refused by
	 * its type below, instead of blocking until a writer comes */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return hg_err(err, -errno, "%s: %s", path, strerror(errno));
	{
		struct stat st;
		if (fstat(fd, &st) < 0) {
			r = hg_err(err, -errno, "%s: %s", path, strerror(errno));
			goto out;
		}
		r = check_trust(path, &st, err);
		if (r == 0)
			r = check_chains(path, err);
		if (r < 0)
			goto out;
	}
	for (;;) {
		ssize_t n;
		if (len == cap) {
			char *nb;
			cap = cap ? cap * 2 : 4096;
			if (cap > (64u << 20)) {
				r = hg_err(err, -EFBIG, "%s: larger than 64 MiB", path);
				goto out;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				r = hg_err(err, -ENOMEM, "out of memory");
				goto out;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = hg_err(err, -errno, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	r = hg_config_parse(buf ? buf : "", len, path, ret, err);
out:
	free(buf);
	close(fd);
	return r;
}

/* ---- editing one key ------------------------------------------------------------ */

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
				for (char *v = eq + 1, *tok; (tok = next_token(&v));) {
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

/*
 * One key's line of text rewritten by one change: 1 with *ret_out (the
 * whole new text) and *ret_line (the key's new line), 0 when the text
 * already says so, or a negative errno.
 */
static int edit_key(const char *text, size_t len, const struct hg_config_change *c,
		    char **ret_out, size_t *ret_outlen, char **ret_line, struct hg_error *err)
{
	struct hg_policy *def = NULL;
	struct toks old = { 0 }, now = { 0 };
	struct keyline kl;
	char *out = NULL, *line = NULL;
	size_t outlen = 0, linelen = 0;
	int r = find_key(text, len, c->key, &kl, &old);

	if (r == 0 && !kl.found) {
		/* absent key: its values are the defaults */
		r = hg_policy_new_default(&def, err);
		for (size_t i = 0; r == 0 && i < hg_policy_count(def, c->key); i++)
			r = toks_add(&old, hg_policy_token(def, c->key, i));
	}
	for (size_t i = 0; r == 0 && i < old.n; i++)
		r = toks_add(&now, old.v[i]);
	for (size_t i = 0; r == 0 && i < c->n; i++)
		r = edit_tokens(c->key, c->op, &now, c->tokens[i]);
	if (r < 0) {
		r = hg_err(err, r, "out of memory");
	} else if (toks_equal(&old, &now)) {
		r = 0;
	} else {
		FILE *f = open_memstream(&line, &linelen);
		if (f) {
			fprintf(f, "%s =", hg_key_name(c->key));
			for (size_t i = 0; i < now.n; i++)
				fprintf(f, "%s%s", i ? ", " : " ", now.v[i]);
			if (kl.found && kl.comment)
				fprintf(f, "%.*s%.*s", (int)kl.gap, kl.comment - kl.gap, (int)kl.comment_len, kl.comment);
			fclose(f);
		}
		f = line ? open_memstream(&out, &outlen) : NULL;
		if (f) {
			if (kl.found) {
				fwrite(text, 1, kl.start, f);
				fputs(line, f);
				fwrite(text + kl.end, 1, len - kl.end, f);
			} else {
				fwrite(text, 1, len, f);
				if (len && text[len - 1] != '\n')
					fputc('\n', f);
				fprintf(f, "%s\n", line);
			}
			fclose(f);
		}
		r = out ? 1 : hg_err(err, -ENOMEM, "out of memory");
	}
	if (r == 1) {
		*ret_out = out;
		*ret_outlen = outlen;
		*ret_line = line;
	} else {
		free(out);
		free(line);
	}
	toks_free(&old);
	toks_free(&now);
	hg_policy_free(def);
	return r;
}

HG_EXPORT int hg_config_edit_prepare(const char *path, enum hg_key key, enum hg_edit op,
				     const char *const *tokens, size_t n,
				     struct hg_config_edit **ret, struct hg_error *err)
{
	struct hg_config_change c = { key, op, tokens, n };

	return hg_config_edit_prepare_many(path, &c, 1, ret, err);
}

HG_EXPORT int hg_config_edit_prepare_many(const char *path, const struct hg_config_change *changes,
					  size_t n_changes, struct hg_config_edit **ret,
					  struct hg_error *err)
{
	struct hg_config_edit *e = NULL;
	struct hg_policy *p = NULL;
	struct stat st = { 0 };
	char *text = NULL, *out = NULL, *base = NULL, *line = NULL;
	size_t len = 0, outlen = 0;
	bool exists = true;
	int r, fd = -1, dir_fd = -1;

	if (!*path)
		return hg_err(err, -EINVAL, "invalid key or path");
	for (size_t c = 0; c < n_changes; c++) {
		enum hg_key key = changes[c].key;
		if ((unsigned)key >= HG_KEY_MAX)
			return hg_err(err, -EINVAL, "invalid key or path");
		for (size_t i = 0; i < changes[c].n; i++) {
			r = hg_value_parse(key, changes[c].tokens[i], NULL, NULL, err);
			/* revoking a name that no longer resolves removes its token */
			if (r == -ENOENT && changes[c].op == HG_EDIT_REMOVE &&
			    (key == HG_KEY_UIDS || key == HG_KEY_GIDS || HG_KIND(key) == HG_KIND_GRANT))
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
		char *dir = dir_of(path);
		r = dir ? check_dir_chain(dir, path, err) : hg_err(err, -ENOMEM, "out of memory");
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
		r = check_trust(path, &st, err);
		if (r < 0)
			goto out;
	}
	/* the file as a whole must be valid before we touch it */
	r = hg_config_parse(text, len, path, &p, err);
	if (r < 0)
		goto out;
	/* each change rewrites one key's line of the text the last one left */
	for (size_t c = 0; c < n_changes; c++) {
		char *next = NULL, *l = NULL;
		size_t nlen = 0;
		r = edit_key(out ? out : text, out ? outlen : len, &changes[c], &next, &nlen, &l, err);
		if (r < 0)
			goto out;
		if (r == 0)
			continue;
		free(out);
		out = next;
		outlen = nlen;
		free(line);
		line = l;
	}
	if (!out) {
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
	e->line = line;
	line = NULL;
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
	hg_policy_free(p);
	free(text);
	free(out);
	free(line);
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
	char *base = NULL, *dir = dir_of(path);
	int dir_fd, fd, removed = 0, r;
	DIR *d;
	struct dirent *de;

	/* only in a directory nobody else controls */
	if (!dir)
		return hg_err(err, -ENOMEM, "out of memory");
	r = check_dir_chain(dir, path, err);
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
