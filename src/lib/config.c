/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The config file: "key = value, value ..." lines, '#' comments. */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include "config.h"

/* is_sep() as a table, and the same with the end of the string: every
 * apply, check and edit reads the whole file, 50,000-value lines included */
static const bool sep[256] = { [','] = true, [' '] = true, ['\t'] = true, ['\r'] = true };
static const bool stop[256] = { ['\0'] = true, [','] = true, [' '] = true, ['\t'] = true,
				['\r'] = true };

char *hg_config_token(char **cursor, size_t *ret_len)
{
	unsigned char *v = (unsigned char *)*cursor, *tok;

	while (sep[*v])
		v++;
	if (!*v)
		return NULL;
	tok = v;
	while (!stop[*v])
		v++;
	*ret_len = (size_t)(v - tok);
	if (*v)
		*v++ = '\0';
	*cursor = (char *)v;
	return (char *)tok;
}

char *hg_config_next_token(char **cursor)
{
	size_t len;

	return hg_config_token(cursor, &len);
}

/* Keys that are settings rather than sets, numbered after the sets. */
enum { OPT_LOG_DENIED = HG_KEY_MAX, OPT_LOG_GROUP, OPT_LOG_RATE, OPT_DOCKER_SOCKET, OPT_IGNORE_IFACES,
       OPT_MAX };
_Static_assert(OPT_MAX == HG_CONFIG_KEYS, "config.h counts the keys");
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

/* Values of a line whose resolution is known (hg_config_replace_line). */
struct known {
	const char *base;         /* the line */
	const struct hg_config_known *v;
	size_t n, i;
};

/* Is tok (len bytes), at its place in the line, a value whose resolution
 * is known? */
static const struct hg_config_known *known_at(struct known *kn, const char *tok, size_t len)
{
	size_t off = (size_t)(tok - kn->base);

	while (kn->i < kn->n && kn->v[kn->i].off < off)
		kn->i++;
	if (kn->i < kn->n && kn->v[kn->i].off == off && len == kn->v[kn->i].len)
		return &kn->v[kn->i];
	return NULL;
}

/*
 * The ids typed in decimal at *cursor, one after another, appended to l:
 * the common shape of a 50,000-value line.  The rules are parse_id()'s for
 * numbers (1 to 10 digits, a whole token, at most 4294967294: (uid_t)-1 is
 * never an id); anything else, "-1" or "alice", goes the general way, which
 * says what is wrong with it.  One tight loop with the list's counts in
 * registers, room reserved by the block; it stops at the end of the line or
 * before the first value that is not one, for the general way.  *cursor moves past what was taken (the
 * text is not written: each value is copied out with its length), *values
 * counts them.  0, or -ENOMEM.
 */
static int parse_ids(struct hg_list *l, char **cursor, size_t *values, struct hg_error *err)
{
	const unsigned char *start = (const unsigned char *)*cursor, *v = start;
	struct hg_entry *e = l->v;
	char *text = l->text;
	size_t n = l->n, cap = l->cap, text_len = l->text_len, text_cap = l->text_cap, taken = 0;
	int r = 0;

	for (;;) {
		const unsigned char *tok;
		uint64_t id = 0;
		size_t len;

		while (sep[*v])
			v++;
		tok = v;
		for (len = 0; len <= 10 && (unsigned)(tok[len] - '0') < 10; len++)
			id = id * 10 + (unsigned)(tok[len] - '0');
		if (len == 0 || len > 10 || !stop[tok[len]] || id > UINT32_MAX - 1)
			break;
		if (n == cap || text_len + len + 1 > text_cap) {
			l->n = n;
			l->text_len = text_len;
			r = hg_list_reserve(l, 4096, err);
			if (r < 0)
				break;
			e = l->v;
			text = l->text;
			cap = l->cap;
			text_cap = l->text_cap;
		}
		memcpy(text + text_len, tok, len);
		text[text_len + len] = '\0';
		e[n++] = (struct hg_entry){ (uint32_t)id, (uint32_t)id, (uint32_t)text_len };
		text_len += len + 1;
		v = tok + len;
		taken++;
	}
	l->n = n;
	l->text_len = text_len;
	*values += taken;
	*cursor += v - start;
	return r;
}

static int parse_line(struct hg_policy *p, const char *name, unsigned lineno, char *s,
		      struct hg_config_lines *lines, struct known *kn, struct hg_error *err)
{
	unsigned *seen = lines->seen;
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
		for (char *v = eq + 1, *tok; (tok = hg_config_next_token(&v));) {
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

	/* e2 is filled by a failure only: not cleared for each of 100,000 values */
	struct hg_error e2;
	e2.code = 0;
	e2.line = 0;
	e2.message[0] = '\0';
	/* a long line of ids: room for all of them first, by their upper
	 * bounds (a value and a separator take 2 bytes at least); where that
	 * cannot be had, the list grows as it goes */
	if (HG_KIND(k) == HG_KIND_ID) {
		size_t rest = strlen(eq + 1);
		if (rest > 4096)
			(void)hg_list_reserve_bulk(&p->lists[k], rest / 2 + 1, rest + 1);
	}
	for (char *v = eq + 1, *tok;;) {
		const struct hg_config_known *x;
		size_t len;

		/* the common values of a long line, as many as come in a row */
		if (HG_KIND(k) == HG_KIND_ID) {
			r = parse_ids(&p->lists[k], &v, &lines->values[k], &e2);
			if (r < 0)
				goto fail;
		}
		if (!(tok = hg_config_token(&v, &len)))
			break;
		x = kn && HG_KIND(k) != HG_KIND_IFNAME ? known_at(kn, tok, len) : NULL;
		lines->values[k]++;
		r = x ? hg_policy_append_n(p, k, tok, len, x->lo, x->hi, &e2)
		      : hg_policy_add_n(p, k, tok, len, &e2);
		if (r == -ENOENT && (HG_KIND(k) == HG_KIND_ID || HG_KIND(k) == HG_KIND_GRANT)) {
			/* allowing is all a name can do: one that does not
			 * resolve (renamed, deleted) is skipped, never fatal */
			if (hg_policy_warn(p, "%s:%u: %s (skipped)", name, lineno, e2.message) < 0)
				return hg_err(err, -ENOMEM, "out of memory");
			continue;
		}
		if (r < 0)
			goto fail;
	}
	return 0;
fail:
	if (!err)
		return r;
	{
		char msg[sizeof(err->message)];
		*err = e2;
		snprintf(msg, sizeof(msg), "%s", err->message);
		return hg_err_line(err, r == -ENOMEM ? r : -EINVAL, lineno, "%s:%u: %s: %s", name, lineno,
				   key, msg);
	}
}

/* The line of the key a validation error is about: an overlap of two
 * grants names their key, anything else is about the interface patterns. */
static int validate_named(const struct hg_policy *p, const struct hg_config_lines *lines,
			  const char *name, struct hg_error *err)
{
	char msg[sizeof(err->message)];
	unsigned l = lines->seen[HG_KEY_IFACES];
	int r = hg_policy_validate(p, err);

	if (r == 0 || !err)
		return r;
	for (int k = HG_KEY_GRANT_UIDS; k <= HG_KEY_GRANT_GIDS; k++)
		if (strncmp(err->message, hg_key_name(k), strlen(hg_key_name(k))) == 0)
			l = lines->seen[k];
	snprintf(msg, sizeof(msg), "%s", err->message);
	return hg_err_line(err, r, l, "%s:%u: %s", name, l, msg);
}

int hg_config_parse_lines(const char *text, size_t len, const char *name, struct hg_policy **ret,
			  struct hg_config_lines *ret_lines, struct hg_error *err)
{
	struct hg_config_lines lines = { .seen = { 0 } };
	unsigned *seen = lines.seen;
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
		r = parse_line(p, name, ++lineno, line, &lines, NULL, err);
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
	r = validate_named(p, &lines, name, err);
	if (r < 0)
		goto out;
	*ret = p;
	p = NULL;
	if (ret_lines)
		*ret_lines = lines;
out:
	hg_policy_free(def);
	hg_policy_free(p);
	free(buf);
	return r;
}

HG_EXPORT int hg_config_parse(const char *text, size_t len, const char *name,
			      struct hg_policy **ret, struct hg_error *err)
{
	if ((!text && len) || !name || !ret)
		return hg_err(err, -EINVAL, "invalid argument");
	return hg_config_parse_lines(text ? text : "", len, name, ret, NULL, err);
}

int hg_config_replace_line(struct hg_policy *p, struct hg_config_lines *lines, const char *name,
			   enum hg_key key, const struct hg_line_edit *le, struct hg_error *err)
{
	struct hg_list *l = &p->lists[key];
	size_t pre = le->extend ? strlen(hg_key_name(key)) + 2 : 0;
	char *buf = malloc(pre + strlen(le->line) + 1);
	struct known kn;
	int r;

	if (!buf)
		return hg_err(err, -ENOMEM, "out of memory");
	kn = (struct known){ buf + pre, le->known, le->n_known, 0 };
	/* extend: the values appended, read as the rest of the line after
	 * the values it had (the same parser, the same line number) */
	if (le->extend) {
		sprintf(buf, "%s =%s", hg_key_name(key), le->line);
	} else {
		strcpy(buf, le->line);
		l->n = 0;
		l->text_len = 0;
		lines->values[key] = 0;
	}
	lines->seen[key] = 0;
	r = parse_line(p, name, le->lineno, buf, lines, &kn, err);
	free(buf);
	if (r == 0 && lines->seen[key] != le->lineno)
		r = hg_err_line(err, -EINVAL, le->lineno, "%s:%u: not a line of key %s", name, le->lineno,
				hg_key_name(key));
	return r;
}

int hg_config_validate_lines(const struct hg_policy *p, const struct hg_config_lines *lines,
			     const char *name, struct hg_error *err)
{
	return validate_named(p, lines, name, err);
}

HG_EXPORT int hg_config_load(const char *path, struct hg_policy **ret, struct hg_error *err)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, r;

	if (!path || !ret)
		return hg_err(err, -EINVAL, "invalid argument");
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
		r = hg_config_trust_file(path, &st, err);
		if (r == 0)
			r = hg_config_trust_chains(path, err);
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
