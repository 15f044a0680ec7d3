/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The policy model: values as typed, their validation, and the canonical
 * form that the kernel sets hold. */
#include <ctype.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

static const char *const key_names[HG_KEY_MAX] = {
	[HG_KEY_UIDS] = "allowed_uids",
	[HG_KEY_GIDS] = "allowed_gids",
	[HG_KEY_IFACES] = "container_ifaces",
	[HG_KEY_TCP] = "allow_from_containers_tcp",
	[HG_KEY_UDP] = "allow_from_containers_udp",
	[HG_KEY_PUBLISHED_TCP] = "published_tcp",
	[HG_KEY_PUBLISHED_UDP] = "published_udp",
	[HG_KEY_GRANT_UIDS] = "grant_uids",
	[HG_KEY_GRANT_GIDS] = "grant_gids",
};

int hg_err(struct hg_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
		err->code = code;
		err->line = 0;
	}
	return code;
}

int hg_err_line(struct hg_error *err, int code, unsigned line, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
		err->code = code;
		err->line = line;
	}
	return code;
}

HG_EXPORT const char *hg_key_name(enum hg_key key)
{
	return (unsigned)key < HG_KEY_MAX ? key_names[key] : NULL;
}

HG_EXPORT int hg_key_from_name(const char *name)
{
	if (!name)
		return -EINVAL;
	for (int k = 0; k < HG_KEY_MAX; k++)
		if (strcmp(name, key_names[k]) == 0)
			return k;
	return -EINVAL;
}

HG_EXPORT const char *hg_version(void)
{
	return HG_VERSION;
}

/* Strict decimal: digits only, no sign, no leading/trailing junk. */
static int parse_u32(const char *s, size_t len, uint32_t max, uint32_t *ret)
{
	uint64_t v = 0;

	if (len == 0 || len > 10)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return -ERANGE;
	*ret = (uint32_t)v;
	return 0;
}

/* Longer names are refused before NSS sees them (LOGIN_NAME_MAX). */
#define HG_NAME_MAX 256

/* len: strlen(tok), or anything over HG_NAME_MAX when it is longer */
static int parse_id(enum hg_key key, const char *tok, size_t len, uint32_t *ret, struct hg_error *err)
{
	const char *what = key == HG_KEY_UIDS ? "uid" : "gid";
	uint32_t v;
	int r;

	if (len > HG_NAME_MAX)
		return hg_err(err, -EINVAL, "%s name '%.32s...' is too long (at most %d characters)",
			      key == HG_KEY_UIDS ? "user" : "group", tok, HG_NAME_MAX);

	/* a digit, as isdigit() says in every locale, without its table (a
	 * page fault in an edit of one uid) */
	if ((tok[0] >= '0' && tok[0] <= '9') || tok[0] == '-' || tok[0] == '+') {
		/* (uid_t)-1 means "no change" to the kernel: never a real id. */
		r = parse_u32(tok, len, UINT32_MAX - 1, &v);
		if (r == -ERANGE)
			return hg_err(err, -EINVAL, "%s '%s' is out of range (0-4294967294)", what, tok);
		if (r < 0)
			return hg_err(err, -EINVAL, "invalid %s '%s'", what, tok);
		*ret = v;
		return 0;
	}
	errno = 0;
	if (key == HG_KEY_UIDS) {
		struct passwd *pw = getpwnam(tok);
		if (!pw)
			return hg_err(err, -ENOENT, "unknown user '%s'", tok);
		*ret = pw->pw_uid;
	} else {
		struct group *gr = getgrnam(tok);
		if (!gr)
			return hg_err(err, -ENOENT, "unknown group '%s'", tok);
		*ret = gr->gr_gid;
	}
	return 0;
}

static int parse_ports(const char *tok, uint32_t *lo, uint32_t *hi, struct hg_error *err)
{
	const char *dash = strchr(tok, '-');
	size_t l1 = dash ? (size_t)(dash - tok) : strlen(tok);
	uint32_t a = 0, b = 0;
	int r;

	r = parse_u32(tok, l1, 65535, &a);
	if (r == 0 && dash)
		r = parse_u32(dash + 1, strlen(dash + 1), 65535, &b);
	else
		b = a;
	if (r == -ERANGE || (r == 0 && (a == 0 || b == 0)))
		return hg_err(err, -EINVAL, "port '%s' is out of range (1-65535)", tok);
	if (r < 0)
		return hg_err(err, -EINVAL, "invalid port '%s' (expected PORT or FIRST-LAST)", tok);
	if (a > b)
		return hg_err(err, -EINVAL, "reversed port range '%s'", tok);
	*lo = a;
	*hi = b;
	return 0;
}

static int check_iface(const char *tok, struct hg_error *err)
{
	size_t n = strlen(tok);
	bool wild = n > 0 && tok[n - 1] == '*';
	size_t name_len = wild ? n - 1 : n;

	if (n == 0)
		return hg_err(err, -EINVAL, "empty interface name");
	if (name_len == 0)
		return hg_err(err, -EINVAL, "interface pattern '*' would match every interface, lo included");
	if (name_len >= IFNAMSIZ_)
		return hg_err(err, -EINVAL, "interface name '%s' is too long (at most 15 characters)", tok);
	for (size_t i = 0; i < name_len; i++) {
		unsigned char c = (unsigned char)tok[i];
		if (c <= ' ' || c >= 0x7f || c == '/' || c == ':' || c == ',' || c == '*' ||
		    c == '"' || c == '#' || c == '\\')
			return hg_err(err, -EINVAL, "invalid interface name '%s' (only a trailing '*' is a wildcard)", tok);
	}
	if (!wild && (strcmp(tok, ".") == 0 || strcmp(tok, "..") == 0))
		return hg_err(err, -EINVAL, "invalid interface name '%s'", tok);
	return 0;
}

/* hg_value_parse() of a token whose length is known (len as parse_id()
 * takes it; only ids use it) */
static int value_parse(enum hg_key key, const char *token, size_t len, uint32_t *ret_lo,
		       uint32_t *ret_hi, struct hg_error *err)
{
	uint32_t lo = 0, hi = 0;
	int r;

	switch (HG_KIND(key)) {
	case HG_KIND_ID:
		if (!*token)
			return hg_err(err, -EINVAL, "empty %s", key == HG_KEY_UIDS ? "uid" : "gid");
		r = parse_id(key, token, len, &lo, err);
		hi = lo;
		break;
	case HG_KIND_IFNAME:
		r = check_iface(token, err);
		break;
	case HG_KIND_PORT:
		r = parse_ports(token, &lo, &hi, err);
		break;
	case HG_KIND_GRANT: {
		struct hg_grant g = { 0 };
		r = hg_grant_parse(key, token, &g, err);
		lo = hi = g.id;
		break;
	}
	default:
		return hg_err(err, -EINVAL, "invalid key");
	}
	if (r < 0)
		return r;
	if (ret_lo)
		*ret_lo = lo;
	if (ret_hi)
		*ret_hi = hi;
	return 0;
}

HG_EXPORT int hg_value_parse(enum hg_key key, const char *token, uint32_t *ret_lo,
			     uint32_t *ret_hi, struct hg_error *err)
{
	if (!token)
		return hg_err(err, -EINVAL, "missing value");
	if ((unsigned)key >= HG_KEY_MAX)
		return hg_err(err, -EINVAL, "invalid key");
	return value_parse(key, token, strnlen(token, HG_NAME_MAX + 1), ret_lo, ret_hi, err);
}

HG_EXPORT struct hg_policy *hg_policy_new(void)
{
	struct hg_policy *p = calloc(1, sizeof(struct hg_policy));

	if (!p)
		return NULL;
	p->log = (struct hg_log_settings){ false, HG_DEFAULT_LOG_GROUP, 10, 1 };
	p->docker_socket = strdup(HG_DEFAULT_DOCKER_SOCKET);
	if (!p->docker_socket) {
		free(p);
		return NULL;
	}
	return p;
}

HG_EXPORT const char *hg_policy_docker_socket(const struct hg_policy *p)
{
	return p ? p->docker_socket : NULL;
}

HG_EXPORT int hg_policy_set_docker_socket(struct hg_policy *p, const char *path)
{
	char *v = NULL;

	if (!p)
		return -EINVAL;
	if (path) {
		if (path[0] != '/' || strlen(path) >= 108)  /* sun_path */
			return -EINVAL;
		v = strdup(path);
		if (!v)
			return -ENOMEM;
	}
	free(p->docker_socket);
	p->docker_socket = v;
	return 0;
}

HG_EXPORT void hg_policy_get_log(const struct hg_policy *p, struct hg_log_settings *ret)
{
	if (p && ret)
		*ret = p->log;
}

HG_EXPORT void hg_policy_set_log(struct hg_policy *p, const struct hg_log_settings *log)
{
	if (p && log)
		p->log = *log;
}

HG_EXPORT bool hg_pattern_match(const char *pattern, const char *ifname)
{
	size_t n;

	if (!pattern || !ifname)
		return false;
	n = strlen(pattern);

	if (n && pattern[n - 1] == '*')
		return strncmp(pattern, ifname, n - 1) == 0;
	return strcmp(pattern, ifname) == 0;
}

HG_EXPORT void hg_policy_free(struct hg_policy *p)
{
	if (!p)
		return;
	for (int k = 0; k < HG_KEY_MAX; k++) {
		free(p->lists[k].v);
		free(p->lists[k].text);
	}
	for (size_t i = 0; i < p->n_warnings; i++)
		free(p->warnings[i]);
	free(p->warnings);
	for (size_t i = 0; i < p->n_ignore; i++)
		free(p->ignore[i]);
	free(p->ignore);
	free(p->docker_socket);
	hg_policy_free_containers(p);
	free(p);
}

static int strv_push(char ***v, size_t *n, char *s)
{
	char **nv;

	if (!s)
		return -ENOMEM;
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	nv[(*n)++] = s;
	*v = nv;
	return 0;
}

int hg_policy_warn(struct hg_policy *p, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	return strv_push(&p->warnings, &p->n_warnings, s);
}

HG_EXPORT const char *const *hg_policy_warnings(const struct hg_policy *p, size_t *ret_n)
{
	if (!p || !ret_n) {
		if (ret_n)
			*ret_n = 0;
		return NULL;
	}
	*ret_n = p->n_warnings;
	return (const char *const *)p->warnings;
}

int hg_policy_ignore_add(struct hg_policy *p, const char *pattern, struct hg_error *err)
{
	int r = hg_value_parse(HG_KEY_IFACES, pattern, NULL, NULL, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < p->n_ignore; i++)
		if (strcmp(p->ignore[i], pattern) == 0)
			return 0;
	if (strv_push(&p->ignore, &p->n_ignore, strdup(pattern)) < 0)
		return hg_err(err, -ENOMEM, "out of memory");
	return 0;
}

HG_EXPORT const char *const *hg_policy_ignored_ifaces(const struct hg_policy *p, size_t *ret_n)
{
	if (!p || !ret_n) {
		if (ret_n)
			*ret_n = 0;
		return NULL;
	}
	*ret_n = p->n_ignore;
	return (const char *const *)p->ignore;
}

static bool entry_equal(enum hg_key key, const struct hg_list *l, size_t i, const char *tok,
			uint32_t lo, uint32_t hi)
{
	if (HG_KIND(key) == HG_KIND_IFNAME)
		return strcmp(HG_TOKEN(l, i), tok) == 0;
	if (HG_KIND(key) == HG_KIND_GRANT) {
		struct hg_grant a, b;
		return l->v[i].lo == lo && hg_grant_parse(key, tok, &a, NULL) == 0 &&
		       hg_grant_parse(key, HG_TOKEN(l, i), &b, NULL) == 0 && hg_grant_equal(&a, &b);
	}
	return l->v[i].lo == lo && l->v[i].hi == hi;
}

HG_EXPORT int hg_policy_add(struct hg_policy *p, enum hg_key key, const char *token,
			    struct hg_error *err)
{
	if (!p)
		return hg_err(err, -EINVAL, "invalid argument");
	if (!token || (unsigned)key >= HG_KEY_MAX)
		return hg_value_parse(key, token, NULL, NULL, err);
	return hg_policy_add_n(p, key, token, strlen(token), err);
}

int hg_policy_add_n(struct hg_policy *p, enum hg_key key, const char *token, size_t len,
		    struct hg_error *err)
{
	struct hg_list *l;
	uint32_t lo, hi;
	int r;

	r = value_parse(key, token, len, &lo, &hi, err);
	if (r < 0)
		return r;
	l = &p->lists[key];
	/* Ids are hashed by the kernel, duplicates are harmless: skip them
	 * without a linear scan, so 100,000 uids stay cheap. */
	if (HG_KIND(key) == HG_KIND_IFNAME) {
		for (size_t i = 0; i < l->n; i++)
			if (entry_equal(key, l, i, token, lo, hi))
				return 0;
	}
	return hg_policy_append_n(p, key, token, len, lo, hi, err);
}

int hg_policy_append(struct hg_policy *p, enum hg_key key, const char *token, uint32_t lo,
		     uint32_t hi, struct hg_error *err)
{
	return hg_policy_append_n(p, key, token, strlen(token), lo, hi, err);
}

int hg_list_reserve_bulk(struct hg_list *l, size_t entries, size_t text)
{
	if (entries > SIZE_MAX / sizeof(*l->v) - l->n || text > UINT32_MAX - l->text_len)
		return -ENOMEM;
	if (l->n + entries > l->cap) {
		struct hg_entry *v = realloc(l->v, (l->n + entries) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = l->n + entries;
	}
	if (l->text_len + text > l->text_cap) {
		char *t = realloc(l->text, l->text_len + text);
		if (!t)
			return -ENOMEM;
		l->text = t;
		l->text_cap = l->text_len + text;
	}
	return 0;
}

int hg_list_reserve(struct hg_list *l, size_t len, struct hg_error *err)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct hg_entry *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return hg_err(err, -ENOMEM, "out of memory");
		l->v = v;
		l->cap = cap;
	}
	/* an entry holds its value's offset in 32 bits */
	if (len > UINT32_MAX - l->text_len)
		return hg_err(err, -ENOMEM, "out of memory (a key's values over 4 GiB)");
	if (l->text_len + len > l->text_cap) {
		size_t cap = l->text_cap ? l->text_cap * 2 : 256;
		char *t;
		while (cap < l->text_len + len)
			cap *= 2;
		t = realloc(l->text, cap);
		if (!t)
			return hg_err(err, -ENOMEM, "out of memory");
		l->text = t;
		l->text_cap = cap;
	}
	return 0;
}

HG_EXPORT int hg_policy_remove(struct hg_policy *p, enum hg_key key, const char *token,
			       struct hg_error *err)
{
	struct hg_list *l;
	uint32_t lo, hi;
	size_t j = 0;
	int r, removed = 0;

	if (!p || (unsigned)key >= HG_KEY_MAX)
		return hg_err(err, -EINVAL, "invalid argument");
	l = &p->lists[key];
	r = hg_value_parse(key, token, &lo, &hi, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < l->n; i++) {
		if (entry_equal(key, l, i, token, lo, hi)) {
			removed++;
			continue;
		}
		l->v[j++] = l->v[i];
	}
	l->n = j;
	return removed;
}

HG_EXPORT size_t hg_policy_count(const struct hg_policy *p, enum hg_key key)
{
	return p && (unsigned)key < HG_KEY_MAX ? p->lists[key].n : 0;
}

HG_EXPORT const char *hg_policy_token(const struct hg_policy *p, enum hg_key key, size_t i)
{
	if (!p || (unsigned)key >= HG_KEY_MAX || i >= p->lists[key].n)
		return NULL;
	return HG_TOKEN(&p->lists[key], i);
}

HG_EXPORT int hg_policy_new_default(struct hg_policy **ret, struct hg_error *err)
{
	/* veth*: the host side of containers' links, and so every port of a
	 * Docker bridge: a socket can send straight out of a bridge port.
	 * docker_gwbridge: the bridge Docker swarm gives overlay containers. */
	static const char *const ifaces[] = { "docker0", "docker_gwbridge", "br-*", "veth*",
					      "macvlan*", "ipvlan*" };
	struct hg_policy *p;
	int r;

	if (!ret)
		return hg_err(err, -EINVAL, "invalid argument");
	p = hg_policy_new();
	if (!p)
		return hg_err(err, -ENOMEM, "out of memory");
	r = hg_policy_add(p, HG_KEY_UIDS, "0", err);
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(ifaces); i++)
		r = hg_policy_add(p, HG_KEY_IFACES, ifaces[i], err);
	if (r < 0) {
		hg_policy_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

/* ---- interface name intervals --------------------------------------------- */

/*
 * "br-*" is [ "br-", "br." ): the prefix, and the prefix with its last byte
 * incremented.  An exact name "docker0" is [ "docker0", "docker0"+1 ), the
 * 128-bit key plus one, i.e. byte 15 set to 1.  Keys are zero-padded to 16.
 */
int hg_ifname_interval(const char *pattern, struct hg_ifrange *ret)
{
	size_t n = strlen(pattern);
	int i, plen;

	memset(ret, 0, sizeof(*ret));
	if (n && pattern[n - 1] == '*') {
		plen = (int)n - 1;
		if (plen >= IFNAMSIZ_)
			return -EINVAL;
		memcpy(ret->start, pattern, (size_t)plen);
	} else {
		if (n >= IFNAMSIZ_)
			return -EINVAL;
		memcpy(ret->start, pattern, n);
		plen = IFNAMSIZ_;
	}
	memcpy(ret->end, ret->start, IFNAMSIZ_);
	for (i = plen - 1; i >= 0; i--) {
		if (ret->end[i] != 0xff) {
			ret->end[i]++;
			break;
		}
		ret->end[i] = 0;
	}
	if (i < 0)
		ret->open_end = 1;
	return 0;
}

int hg_ifrange_pattern(const struct hg_ifrange *r, char out[IFNAMSIZ_ + 2])
{
	struct hg_ifrange t;
	size_t n = strnlen((const char *)r->start, IFNAMSIZ_);

	if (n >= IFNAMSIZ_)
		return -EINVAL;
	memcpy(out, r->start, n);
	out[n] = '\0';
	if (n && hg_ifname_interval(out, &t) == 0 && memcmp(&t, r, sizeof(t)) == 0)
		return 0;
	out[n] = '*';
	out[n + 1] = '\0';
	if (n && hg_ifname_interval(out, &t) == 0 && memcmp(&t, r, sizeof(t)) == 0)
		return 0;
	return -EINVAL;
}

int hg_ifrange_cmp(const void *a, const void *b)
{
	return memcmp(((const struct hg_ifrange *)a)->start,
		      ((const struct hg_ifrange *)b)->start, IFNAMSIZ_);
}

/* ---- canonical form --------------------------------------------------------- */

void hg_canon_clear(struct hg_canon *c)
{
	for (int k = 0; k < HG_KEY_MAX; k++)
		free(c->r[k]);
	for (int gs = 0; gs < HG_NGSETS; gs++)
		free(c->g[gs]);
	for (size_t i = 0; c->ifnames && i < c->n_if; i++)
		free(c->ifnames[i]);
	free(c->ifnames);
	free(c->ifr);
	memset(c, 0, sizeof(*c));
}

struct ifsort {
	struct hg_ifrange r;
	const char *name;
};

static int ifsort_cmp(const void *a, const void *b)
{
	return hg_ifrange_cmp(&((const struct ifsort *)a)->r, &((const struct ifsort *)b)->r);
}

static int canon_ifaces(const struct hg_list *l, struct hg_canon *c, struct hg_error *err)
{
	struct ifsort *v;
	int r = 0;

	if (l->n == 0)
		return 0;
	v = calloc(l->n, sizeof(*v));
	c->ifr = calloc(l->n, sizeof(*c->ifr));
	c->ifnames = calloc(l->n, sizeof(*c->ifnames));
	if (!v || !c->ifr || !c->ifnames) {
		free(v);
		return hg_err(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < l->n; i++) {
		if (hg_ifname_interval(HG_TOKEN(l, i), &v[i].r) < 0) {
			r = hg_err(err, -EINVAL, "invalid interface name '%s'", HG_TOKEN(l, i));
			goto out;
		}
		v[i].name = HG_TOKEN(l, i);
	}
	qsort(v, l->n, sizeof(*v), ifsort_cmp);
	for (size_t i = 0; i + 1 < l->n; i++) {
		/* Sorted by start: an overlap is a start before the previous end. */
		if (v[i].r.open_end || memcmp(v[i + 1].r.start, v[i].r.end, IFNAMSIZ_) < 0) {
			r = hg_err(err, -EINVAL, "interface pattern '%s' overlaps '%s'",
				   v[i + 1].name, v[i].name);
			goto out;
		}
	}
	for (size_t i = 0; i < l->n; i++) {
		c->ifr[i] = v[i].r;
		c->ifnames[i] = strdup(v[i].name);
		c->n_if = i + 1;
		if (!c->ifnames[i]) {
			r = hg_err(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
out:
	free(v);
	return r;
}

/* Sorts and merges: ids become unique, port ranges are merged when they
 * overlap or touch, which is what an interval set stores best. */
static int canon_ranges(enum hg_key key, const struct hg_list *l, struct hg_canon *c,
			struct hg_error *err)
{
	bool ports = HG_KIND(key) == HG_KIND_PORT;
	struct hg_range *v;
	size_t n = 0;

	if (l->n == 0)
		return 0;
	v = malloc(l->n * sizeof(*v));
	if (!v)
		return hg_err(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < l->n; i++)
		v[i] = (struct hg_range){ l->v[i].lo, l->v[i].hi };
	n = hg_ranges_normalize(v, l->n, ports);
	c->r[key] = v;
	c->n[key] = n;
	return 0;
}

int hg_canon_from_policy(const struct hg_policy *p, struct hg_canon *ret,
			 struct hg_error *err)
{
	struct hg_canon c = { 0 };
	int r = 0;

	for (int k = 0; k < HG_KEY_MAX && r == 0; k++) {
		if (HG_KIND(k) == HG_KIND_GRANT)
			continue;
		r = HG_KIND(k) == HG_KIND_IFNAME ? canon_ifaces(&p->lists[k], &c, err)
				       : canon_ranges(k, &p->lists[k], &c, err);
	}
	if (r == 0)
		r = hg_canon_grants(p, &c, err);
	if (r < 0) {
		hg_canon_clear(&c);
		return r;
	}
	c.log = p->log;
	*ret = c;
	return 0;
}

HG_EXPORT int hg_policy_validate(const struct hg_policy *p, struct hg_error *err)
{
	/* Only interface patterns and grants can conflict with each other:
	 * every id and port was checked as it was added, and sorting 100,000
	 * of them here (what hg_canon_from_policy does) would say no more. */
	struct hg_canon c = { 0 };
	int r;

	if (!p)
		return hg_err(err, -EINVAL, "invalid argument");
	r = canon_ifaces(&p->lists[HG_KEY_IFACES], &c, err);

	if (r == 0)
		r = hg_canon_grants(p, &c, err);
	hg_canon_clear(&c);
	return r;
}
