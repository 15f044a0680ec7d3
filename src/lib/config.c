/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The config file: "key = value, value ..." lines, '#' comments. */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include "config.h"

char *hg_config_next_token(char **cursor)
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

	for (char *v = eq + 1, *tok; (tok = hg_config_next_token(&v));) {
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
