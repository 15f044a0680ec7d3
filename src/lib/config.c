/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The config file: "key = value, value ..." lines, '#' comments. */
#include <fcntl.h>
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

static int parse_line(struct hg_policy *p, const char *name, unsigned lineno, char *s,
		      unsigned seen[HG_KEY_MAX], struct hg_error *err)
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
	if (k < 0)
		return hg_err_line(err, -EINVAL, lineno, "%s:%u: unknown key '%s'", name, lineno, key);
	if (seen[k])
		return hg_err_line(err, -EINVAL, lineno, "%s:%u: duplicate key '%s' (first set on line %u)",
				   name, lineno, key, seen[k]);
	seen[k] = lineno;

	for (char *v = eq + 1;;) {
		char *tok;

		while (*v && is_sep(*v))
			v++;
		if (!*v)
			break;
		tok = v;
		while (*v && !is_sep(*v))
			v++;
		if (*v)
			*v++ = '\0';
		r = hg_policy_add(p, k, tok, err);
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

HG_EXPORT int hg_config_parse(const char *text, size_t len, const char *name,
			      struct hg_policy **ret, struct hg_error *err)
{
	unsigned seen[HG_KEY_MAX] = { 0 };
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
			r = hg_policy_add(p, k, def->lists[k].v[i].token, err);
	}
	if (r < 0)
		goto out;
	r = hg_policy_validate(p, err);
	if (r < 0) {
		char msg[sizeof(err->message)];
		if (err) {
			unsigned l = seen[HG_KEY_IFACES];
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

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return hg_err(err, -errno, "%s: %s", path, strerror(errno));
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
