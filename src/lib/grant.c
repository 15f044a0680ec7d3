/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Grants: a uid (or gid) may reach one destination without being allowed
 * everywhere.  Each grant is an element of a concatenated interval set
 * (pipapo), one per principal kind and address family:
 *
 *   set grant_uids4 { type uid . ipv4_addr . inet_service; flags interval, timeout; }
 *
 * An element is [start, end] with both ends inclusive, each a key of three
 * fields, every field padded to 4 bytes (nft's register layout):
 *
 *   uid/gid (4 bytes, big endian: "meta skuid" is byte-swapped before the
 *   lookup so that intervals order as numbers) . address (4 or 16 bytes,
 *   network order) . port (2 bytes, network order, 2 bytes of padding)
 *
 * A grant without a port covers every port, 0-65535.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>

#include "table.h"

const struct hg_gsetdef hg_gsetdefs[HG_NGSETS] = {
	{ "grant_uids4", HG_KEY_GRANT_UIDS, false,
	  HG_CONCAT_TYPE(HG_TYPE_UID, HG_TYPE_IPADDR, HG_TYPE_INET_SERVICE), 12, { 4, 4, 2 } },
	{ "grant_uids6", HG_KEY_GRANT_UIDS, true,
	  HG_CONCAT_TYPE(HG_TYPE_UID, HG_TYPE_IP6ADDR, HG_TYPE_INET_SERVICE), 24, { 4, 16, 2 } },
	{ "grant_gids4", HG_KEY_GRANT_GIDS, false,
	  HG_CONCAT_TYPE(HG_TYPE_GID, HG_TYPE_IPADDR, HG_TYPE_INET_SERVICE), 12, { 4, 4, 2 } },
	{ "grant_gids6", HG_KEY_GRANT_GIDS, true,
	  HG_CONCAT_TYPE(HG_TYPE_GID, HG_TYPE_IP6ADDR, HG_TYPE_INET_SERVICE), 24, { 4, 16, 2 } },
};

#define UID_ADDR(t, a) (((uint32_t)(t) << 6) | (a))
#define PSETS(n, t, a, al)                                                                     \
	{ n, HG_CONCAT_TYPE(t, a, HG_TYPE_INET_SERVICE), 4 + (al) + 4, HG_GSET_FLAGS },         \
	{ n "_port", HG_CONCAT_TYPE(t, a, HG_TYPE_INET_SERVICE), 4 + (al) + 4, HG_HSET_FLAGS }, \
	{ n "_addr", UID_ADDR(t, a), 4 + (al), HG_HSET_FLAGS }

/* in the order of HG_PSET(gs, shape) */
const struct hg_psetdef hg_psetdefs[HG_NPSETS] = {
	PSETS("grant_uids4", HG_TYPE_UID, HG_TYPE_IPADDR, 4),
	PSETS("grant_uids6", HG_TYPE_UID, HG_TYPE_IP6ADDR, 16),
	PSETS("grant_gids4", HG_TYPE_GID, HG_TYPE_IPADDR, 4),
	PSETS("grant_gids6", HG_TYPE_GID, HG_TYPE_IP6ADDR, 16),
};

int hg_pset_index(const char *name)
{
	for (int i = 0; i < HG_NPSETS; i++)
		if (strcmp(name, hg_psetdefs[i].name) == 0)
			return i;
	return -1;
}

int hg_grant_shape(const struct hg_grant *g)
{
	if (memcmp(g->a_lo, g->a_hi, g->v6 ? 16 : 4) != 0)
		return HG_GSHAPE_RANGE;
	if (g->p_lo == g->p_hi)
		return HG_GSHAPE_PORT;
	return g->p_lo == 0 && g->p_hi == 65535 ? HG_GSHAPE_ADDR : HG_GSHAPE_RANGE;
}

static int gset_of(enum hg_key k, bool v6)
{
	return (k == HG_KEY_GRANT_GIDS ? 2 : 0) + (v6 ? 1 : 0);
}

/* ---- parsing and printing ------------------------------------------------------- */

/* [lo, hi] of a prefix of plen bits over alen bytes */
static void prefix_range(const uint8_t *addr, unsigned alen, unsigned plen, uint8_t *lo, uint8_t *hi)
{
	for (unsigned i = 0; i < alen; i++) {
		unsigned bits = plen > i * 8 ? plen - i * 8 : 0;
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
		lo[i] = addr[i] & mask;
		hi[i] = (uint8_t)(lo[i] | (uint8_t)~mask);
	}
}

/*
 * Docker's container names: [a-zA-Z0-9][a-zA-Z0-9_.-]*.  A target of only
 * digits and dots is an IPv4 address (a bad one is refused as such, never
 * taken for a name), so "300.1.1.1" cannot name a container by mistake.
 */
static bool is_container_name(const char *s)
{
	if (!s[0] || strspn(s, "0123456789.") == strlen(s))
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
	      (s[0] >= '0' && s[0] <= '9')))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == strlen(s);
}

static int bad_target(struct hg_error *err, const char *tok, const char *why)
{
	return hg_err(err, -EINVAL, "invalid grant '%s': %s", tok, why);
}

int hg_grant_parse(enum hg_key k, const char *tok, struct hg_grant *ret, struct hg_error *err)
{
	struct hg_grant g = { 0 };
	char buf[160], *at, *target, *addr, *ports = NULL, *slash;
	unsigned alen, plen;
	uint32_t lo, hi;
	uint8_t a[16];
	int r;

	if (!tok || strlen(tok) >= sizeof(buf))
		return hg_err(err, -EINVAL, "invalid grant '%.40s': too long", tok ? tok : "");
	strcpy(buf, tok);
	at = strrchr(buf, '@');
	if (!at || at == buf || !at[1])
		return hg_err(err, -EINVAL, "invalid grant '%s' (expected %s@TARGET, e.g. alice@192.0.2.2:8080)",
			      tok, k == HG_KEY_GRANT_GIDS ? "GROUP" : "USER");
	*at = '\0';
	target = at + 1;
	r = hg_value_parse(k == HG_KEY_GRANT_GIDS ? HG_KEY_GIDS : HG_KEY_UIDS, buf, &g.id, NULL, err);
	if (r < 0)
		return r;
	if (target[0] == '[') {
		char *close = strchr(target, ']');
		if (!close)
			return bad_target(err, tok, "missing ']' after the IPv6 address");
		*close = '\0';
		addr = target + 1;
		if (close[1] == ':')
			ports = close + 2;
		else if (close[1])
			return bad_target(err, tok, "expected ':PORT' after ']'");
		g.v6 = 1;
	} else {
		char *colon = strchr(target, ':');
		addr = target;
		if (colon && strchr(colon + 1, ':')) {
			g.v6 = 1;  /* a bare IPv6 address or prefix: no port */
		} else if (colon) {
			*colon = '\0';
			ports = colon + 1;
		}
	}
	alen = g.v6 ? 16 : 4;
	plen = alen * 8;
	slash = strchr(addr, '/');
	if (slash) {
		char *end;
		unsigned long n;
		*slash = '\0';
		errno = 0;
		n = strtoul(slash + 1, &end, 10);
		if (!slash[1] || *end || slash[1] < '0' || slash[1] > '9' || n > plen || errno)
			return bad_target(err, tok, g.v6 ? "prefix length must be 0-128" : "prefix length must be 0-32");
		plen = (unsigned)n;
	}
	if (!g.v6 && !slash && is_container_name(addr)) {
		if (strlen(addr) >= sizeof(g.name))
			return bad_target(err, tok, "container name too long");
		strcpy(g.name, addr);
		g.src = HG_GRANT_NAME;
	} else if (inet_pton(g.v6 ? AF_INET6 : AF_INET, addr, a) != 1) {
		if (!g.v6 && !slash && strspn(addr, "0123456789.") != strlen(addr))
			return bad_target(err, tok, "neither an address nor a container name; expected an address, "
						    "a prefix, [IPv6 address] or a container name, with an optional "
						    ":PORT or :FIRST-LAST");
		return bad_target(err, tok, g.v6 ? "not an IPv6 address" : "not an IPv4 address");
	} else {
		prefix_range(a, alen, plen, g.a_lo, g.a_hi);
	}
	g.p_lo = 0;
	g.p_hi = 65535;
	if (ports) {
		struct hg_error e2 = { 0 };
		r = hg_value_parse(HG_KEY_TCP, ports, &lo, &hi, &e2);
		if (r < 0)
			return hg_err(err, -EINVAL, "invalid grant '%s': %s", tok, e2.message);
		g.p_lo = (uint16_t)lo;
		g.p_hi = (uint16_t)hi;
	}
	*ret = g;
	return 0;
}

/* A name grant as parsed holds no address (0.0.0.0-0.0.0.0 is no
 * container's); resolved, one address of the container. */
static bool is_resolved(const struct hg_grant *g)
{
	static const uint8_t zero[16];

	return memcmp(g->a_hi, zero, 16) != 0;
}

/* The prefix length of [lo, hi], or -1 when it is no prefix. */
static int prefix_len(const uint8_t *lo, const uint8_t *hi, unsigned alen)
{
	uint8_t l[16], h[16];

	for (unsigned p = 0; p <= alen * 8; p++) {
		prefix_range(lo, alen, p, l, h);
		if (memcmp(l, lo, alen) == 0 && memcmp(h, hi, alen) == 0)
			return (int)p;
	}
	return -1;
}

int hg_grant_format(const struct hg_grant *g, char *buf, size_t len)
{
	unsigned alen = g->v6 ? 16 : 4;
	int plen = prefix_len(g->a_lo, g->a_hi, alen);
	char a[INET6_ADDRSTRLEN], p[16] = "", ports[16] = "";

	if (plen < 0 || g->p_lo > g->p_hi)
		return -EINVAL;
	inet_ntop(g->v6 ? AF_INET6 : AF_INET, g->a_lo, a, sizeof(a));
	if (plen != (int)alen * 8)
		snprintf(p, sizeof(p), "/%d", plen);
	if (g->p_lo == g->p_hi)
		snprintf(ports, sizeof(ports), ":%u", g->p_lo);
	else if (g->p_lo > 1 || g->p_hi < 65535)
		snprintf(ports, sizeof(ports), ":%u-%u", g->p_lo, g->p_hi);
	if (g->src == HG_GRANT_NAME && !is_resolved(g))
		snprintf(buf, len, "%u@%s%s", g->id, g->name, ports);
	else if (g->v6 && ports[0])
		snprintf(buf, len, "%u@[%s%s]%s", g->id, a, p, ports);
	else
		snprintf(buf, len, "%u@%s%s%s", g->id, a, p, ports);
	return 0;
}

int hg_grant_cmp(const void *x, const void *y)
{
	const struct hg_grant *a = x, *b = y;
	int c;

	if (a->v6 != b->v6)
		return a->v6 < b->v6 ? -1 : 1;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	if ((c = memcmp(a->a_lo, b->a_lo, 16)))
		return c;
	if ((c = memcmp(a->a_hi, b->a_hi, 16)))
		return c;
	if (a->p_lo != b->p_lo)
		return a->p_lo < b->p_lo ? -1 : 1;
	if (a->p_hi != b->p_hi)
		return a->p_hi < b->p_hi ? -1 : 1;
	/* the same element with another comment is another element: apply
	 * replaces it, so that the table says where each grant comes from */
	if (a->src != b->src)
		return a->src < b->src ? -1 : 1;
	return strcmp(a->name, b->name);
}

bool hg_grant_equal(const struct hg_grant *a, const struct hg_grant *b)
{
	return hg_grant_cmp(a, b) == 0;
}

/* The same kernel key (the comment aside). */
static bool same_key(const struct hg_grant *a, const struct hg_grant *b)
{
	return a->v6 == b->v6 && a->id == b->id && memcmp(a->a_lo, b->a_lo, 16) == 0 &&
	       memcmp(a->a_hi, b->a_hi, 16) == 0 && a->p_lo == b->p_lo && a->p_hi == b->p_hi;
}

static bool grants_overlap(const struct hg_grant *a, const struct hg_grant *b)
{
	unsigned alen = a->v6 ? 16 : 4;

	return a->v6 == b->v6 && a->id == b->id && memcmp(a->a_lo, b->a_hi, alen) <= 0 &&
	       memcmp(b->a_lo, a->a_hi, alen) <= 0 && a->p_lo <= b->p_hi && b->p_lo <= a->p_hi;
}

/* ---- kernel keys ----------------------------------------------------------------- */

void hg_grant_key(const struct hg_grant *g, bool end, unsigned char out[24])
{
	unsigned alen = g->v6 ? 16 : 4;
	uint32_t id = htonl(g->id);
	uint16_t port = htons(end ? g->p_hi : g->p_lo);

	memset(out, 0, 24);
	memcpy(out, &id, 4);
	memcpy(out + 4, end ? g->a_hi : g->a_lo, alen);
	memcpy(out + 4 + alen, &port, 2);
}

uint32_t hg_grant_hkey(const struct hg_grant *g, int shape, unsigned char out[24])
{
	unsigned alen = g->v6 ? 16 : 4;
	uint16_t port = htons(g->p_lo);

	memset(out, 0, 24);
	memcpy(out, &g->id, 4);
	memcpy(out + 4, g->a_lo, alen);
	if (shape == HG_GSHAPE_ADDR)
		return 4 + alen;
	memcpy(out + 4 + alen, &port, 2);
	return 4 + alen + 4;
}

void hg_grant_from_hkey(int ps, const unsigned char *key, struct hg_grant *ret)
{
	const struct hg_gsetdef *d = &hg_gsetdefs[HG_PSET_GS(ps)];
	unsigned alen = d->v6 ? 16 : 4;
	struct hg_grant g = { 0 };
	uint16_t p;

	memcpy(&g.id, key, 4);
	g.v6 = d->v6;
	memcpy(g.a_lo, key + 4, alen);
	memcpy(g.a_hi, key + 4, alen);
	if (HG_PSET_SHAPE(ps) == HG_GSHAPE_ADDR) {
		g.p_hi = 65535;
	} else {
		memcpy(&p, key + 4 + alen, 2);
		g.p_lo = g.p_hi = ntohs(p);
	}
	g.where = (uint8_t)HG_PSET_SHAPE(ps);
	*ret = g;
}

int hg_grant_from_keys(int gs, const unsigned char *start, const unsigned char *end,
		       struct hg_grant *ret)
{
	const struct hg_gsetdef *d = &hg_gsetdefs[gs];
	unsigned alen = d->v6 ? 16 : 4;
	struct hg_grant g = { 0 };
	uint32_t id1, id2;
	uint16_t p1, p2;

	memcpy(&id1, start, 4);
	memcpy(&id2, end, 4);
	if (id1 != id2)
		return -EINVAL;
	g.id = ntohl(id1);
	g.v6 = d->v6;
	memcpy(g.a_lo, start + 4, alen);
	memcpy(g.a_hi, end + 4, alen);
	memcpy(&p1, start + 4 + alen, 2);
	memcpy(&p2, end + 4 + alen, 2);
	g.p_lo = ntohs(p1);
	g.p_hi = ntohs(p2);
	if (memcmp(g.a_lo, g.a_hi, alen) > 0 || g.p_lo > g.p_hi ||
	    prefix_len(g.a_lo, g.a_hi, alen) < 0)
		return -EINVAL;
	*ret = g;
	return 0;
}

/* ---- canonical form ------------------------------------------------------------- */

int hg_grants_push(struct hg_grant **v, size_t *n, size_t *cap, const struct hg_grant *g)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct hg_grant *nv = realloc(*v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = *g;
	return 0;
}

static int canon_push(struct hg_canon *c, size_t cap[HG_NGSETS], int gs, const struct hg_grant *g)
{
	return hg_grants_push(&c->g[gs], &c->ng[gs], &cap[gs], g);
}

/* Sorts the config's grants, drops repeated ones, refuses overlapping ones
 * (the kernel would: pipapo holds no two overlapping elements). */
static int canon_config_grants(struct hg_canon *c, struct hg_error *err)
{
	for (int gs = 0; gs < HG_NGSETS; gs++) {
		struct hg_grant *v = c->g[gs];
		size_t n = c->ng[gs], m = 0;

		if (n)
			qsort(v, n, sizeof(*v), hg_grant_cmp);
		for (size_t i = 0; i < n; i++) {
			unsigned alen = v[i].v6 ? 16 : 4;
			if (m && hg_grant_equal(&v[m - 1], &v[i]))
				continue;
			/* sorted by start address: only the ones that start
			 * before i ends can overlap it */
			for (size_t j = i + 1; j < n && v[j].id == v[i].id &&
					       memcmp(v[j].a_lo, v[i].a_hi, alen) <= 0; j++) {
				char a[96], b[96];
				if (hg_grant_equal(&v[i], &v[j]) || !grants_overlap(&v[i], &v[j]))
					continue;
				hg_grant_format(&v[i], a, sizeof(a));
				hg_grant_format(&v[j], b, sizeof(b));
				return hg_err(err, -EINVAL, "%s: grant '%s' overlaps '%s' (make one contain "
					      "neither, or keep only the wider one)", hg_key_name(hg_gsetdefs[gs].key), b, a);
			}
			v[m++] = v[i];
		}
		c->ng[gs] = m;
	}
	return 0;
}

static const struct hg_container *find_container(const struct hg_policy *p, const char *name)
{
	for (size_t i = 0; i < p->n_containers; i++)
		if (strcmp(p->containers[i].name, name) == 0)
			return &p->containers[i];
	return NULL;
}

/* A grant of a name, one per address of the container (none when the
 * caller was not told of it: fails closed), appended to *v. */
int hg_grant_resolve(const struct hg_policy *p, const struct hg_grant *g,
			struct hg_grant **v, size_t *n, size_t *cap)
{
	const struct hg_container *ct = find_container(p, g->name);

	for (size_t i = 0; ct && i < ct->n; i++) {
		struct hg_grant r = *g;
		uint8_t a[16];

		r.v6 = strchr(ct->addrs[i], ':') != NULL;
		if (inet_pton(r.v6 ? AF_INET6 : AF_INET, ct->addrs[i], a) != 1)
			continue;       /* checked when set */
		prefix_range(a, r.v6 ? 16 : 4, r.v6 ? 128 : 32, r.a_lo, r.a_hi);
		if (hg_grants_push(v, n, cap, &r) < 0)
			return -ENOMEM;
	}
	return 0;
}

/*
 * A grant that is not the config's by address (a name resolved, a label)
 * joins unless the set holds one with its key already (the config's, or
 * the first tagged one, wins) or one that overlaps it: a container's
 * address inside a prefix the config grants the same principal must not
 * make the whole apply fail.  A linear scan: such grants are few (names
 * and labels times addresses), and the config's are sorted once.
 */
static bool tagged_fits(const struct hg_canon *c, int gs, const struct hg_grant *g)
{
	for (size_t i = 0; i < c->ng[gs]; i++)
		if (same_key(&c->g[gs][i], g) || grants_overlap(&c->g[gs][i], g))
			return false;
	return true;
}

static int gset_of_grant(enum hg_key k, const struct hg_grant *g)
{
	return gset_of(k, g->v6);
}

int hg_canon_grants(const struct hg_policy *p, struct hg_canon *c, struct hg_error *err)
{
	struct hg_grant *t = NULL;
	enum hg_key *tk = NULL;
	size_t cap[HG_NGSETS] = { 0 }, nt = 0, tcap = 0;
	int r = 0;

	for (int key = HG_KEY_GRANT_UIDS; key <= HG_KEY_GRANT_GIDS; key++) {
		const struct hg_list *l = &p->lists[key];
		for (size_t i = 0; i < l->n; i++) {
			struct hg_grant g;
			size_t before = nt;

			r = hg_grant_parse(key, HG_TOKEN(l, i), &g, err);
			if (r < 0)
				goto out;
			if (g.src != HG_GRANT_NAME) {
				r = canon_push(c, cap, gset_of_grant(key, &g), &g);
			} else {
				r = hg_grant_resolve(p, &g, &t, &nt, &tcap);
				if (r == 0 && nt > before) {
					enum hg_key *nk = realloc(tk, tcap * sizeof(*nk));
					if (!nk)
						r = -ENOMEM;
					else
						tk = nk;
					for (size_t j = before; r == 0 && j < nt; j++)
						tk[j] = key;
				}
			}
			if (r < 0)
				goto oom;
		}
	}
	r = canon_config_grants(c, err);
	if (r < 0)
		goto out;
	/* names first (they are the config's), then labels and kept ones */
	for (size_t i = 0; i < nt; i++) {
		int gs = gset_of_grant(tk[i], &t[i]);
		if (tagged_fits(c, gs, &t[i]) && canon_push(c, cap, gs, &t[i]) < 0)
			goto oom;
	}
	for (size_t i = 0; i < p->n_tagged; i++) {
		const struct hg_tagged *x = &p->tagged[i];
		struct hg_grant g;
		int gs;

		if (hg_grant_parse(x->key, x->token, &g, NULL) < 0 || g.src == HG_GRANT_NAME)
			continue;       /* checked when added */
		g.src = (uint8_t)x->src;
		snprintf(g.name, sizeof(g.name), "%s", x->container);
		gs = gset_of_grant(x->key, &g);
		if (tagged_fits(c, gs, &g) && canon_push(c, cap, gs, &g) < 0)
			goto oom;
	}
	for (int gs = 0; gs < HG_NGSETS; gs++)
		if (c->ng[gs])
			qsort(c->g[gs], c->ng[gs], sizeof(struct hg_grant), hg_grant_cmp);
	r = 0;
	goto out;
oom:
	r = hg_err(err, -ENOMEM, "out of memory");
out:
	free(t);
	free(tk);
	return r;
}

/* ---- containers and tagged grants in a policy ----------------------------------- */

void hg_policy_free_containers(struct hg_policy *p)
{
	for (size_t i = 0; i < p->n_containers; i++) {
		for (size_t j = 0; j < p->containers[i].n; j++)
			free(p->containers[i].addrs[j]);
		free(p->containers[i].addrs);
		free(p->containers[i].name);
	}
	free(p->containers);
	for (size_t i = 0; i < p->n_tagged; i++) {
		free(p->tagged[i].token);
		free(p->tagged[i].container);
	}
	free(p->tagged);
}

HG_EXPORT int hg_policy_set_container(struct hg_policy *p, const char *name, const char *const *addrs,
				      size_t n, struct hg_error *err)
{
	struct hg_container ct = { 0 }, *slot;

	if (!p || (n && !addrs))
		return hg_err(err, -EINVAL, "invalid argument");
	for (size_t i = 0; i < n; i++)
		if (!addrs[i])
			return hg_err(err, -EINVAL, "container %.64s: a NULL address", name ? name : "");
	if (!name || !is_container_name(name) || strlen(name) >= HG_CONTAINER_NAME_MAX)
		return hg_err(err, -EINVAL, "invalid container name '%.64s'", name ? name : "");
	for (size_t i = 0; i < n; i++) {
		uint8_t a[16];
		if (inet_pton(strchr(addrs[i], ':') ? AF_INET6 : AF_INET, addrs[i], a) != 1)
			return hg_err(err, -EINVAL, "container %s: invalid address '%.64s'", name, addrs[i]);
	}
	ct.name = strdup(name);
	ct.addrs = calloc(n + 1, sizeof(*ct.addrs));
	if (!ct.name || !ct.addrs)
		goto oom;
	for (ct.n = 0; ct.n < n; ct.n++)
		if (!(ct.addrs[ct.n] = strdup(addrs[ct.n])))
			goto oom;
	slot = NULL;
	for (size_t i = 0; i < p->n_containers; i++)
		if (strcmp(p->containers[i].name, name) == 0)
			slot = &p->containers[i];
	if (slot) {
		for (size_t j = 0; j < slot->n; j++)
			free(slot->addrs[j]);
		free(slot->addrs);
		free(slot->name);
	} else {
		struct hg_container *v = realloc(p->containers, (p->n_containers + 1) * sizeof(*v));
		if (!v)
			goto oom;
		p->containers = v;
		slot = &v[p->n_containers++];
	}
	*slot = ct;
	return 0;
oom:
	for (size_t j = 0; ct.addrs && j < ct.n; j++)
		free(ct.addrs[j]);
	free(ct.addrs);
	free(ct.name);
	return hg_err(err, -ENOMEM, "out of memory");
}

HG_EXPORT int hg_policy_add_grant_from(struct hg_policy *p, enum hg_key key, const char *token,
				       enum hg_grant_source src, const char *container,
				       struct hg_error *err)
{
	struct hg_grant g;
	struct hg_tagged *v;
	int r;

	if (!p || !token)
		return hg_err(err, -EINVAL, "invalid argument");
	if ((unsigned)key >= HG_KEY_MAX || HG_KIND(key) != HG_KIND_GRANT ||
	    (src != HG_GRANT_NAME && src != HG_GRANT_LABEL))
		return hg_err(err, -EINVAL, "invalid key or source");
	if (!container || !is_container_name(container) || strlen(container) >= HG_CONTAINER_NAME_MAX)
		return hg_err(err, -EINVAL, "invalid container name '%.64s'", container ? container : "");
	r = hg_grant_parse(key, token, &g, err);
	if (r < 0)
		return r;
	if (g.src == HG_GRANT_NAME)
		return hg_err(err, -EINVAL, "invalid grant '%s': expected an address target", token);
	v = realloc(p->tagged, (p->n_tagged + 1) * sizeof(*v));
	if (!v)
		return hg_err(err, -ENOMEM, "out of memory");
	p->tagged = v;
	v = &v[p->n_tagged];
	v->key = key;
	v->src = src;
	v->token = strdup(token);
	v->container = strdup(container);
	if (!v->token || !v->container) {
		free(v->token);
		free(v->container);
		return hg_err(err, -ENOMEM, "out of memory");
	}
	p->n_tagged++;
	return 0;
}

HG_EXPORT int hg_grant_target_name(enum hg_key key, const char *token, char *ret_name, size_t len,
				   struct hg_error *err)
{
	struct hg_grant g;
	int r;

	if (!token || (unsigned)key >= HG_KEY_MAX || HG_KIND(key) != HG_KIND_GRANT)
		return hg_err(err, -EINVAL, "invalid key");
	r = hg_grant_parse(key, token, &g, err);
	if (r < 0)
		return r;
	if (g.src != HG_GRANT_NAME)
		return 0;
	if (ret_name && len)
		snprintf(ret_name, len, "%s", g.name);
	return 1;
}

HG_EXPORT int hg_grant_info_covers(const struct hg_grant_info *g, const char *addr, uint16_t port)
{
	struct hg_grant x;
	uint8_t a[16] = { 0 };
	bool v6;
	unsigned alen;

	if (!g || !addr)
		return -EINVAL;
	v6 = strchr(addr, ':') != NULL;
	alen = v6 ? 16 : 4;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, a) != 1)
		return -EINVAL;
	if (hg_grant_parse(g->gid ? HG_KEY_GRANT_GIDS : HG_KEY_GRANT_UIDS, g->text, &x, NULL) < 0 ||
	    x.src == HG_GRANT_NAME || x.v6 != v6)
		return 0;
	return memcmp(x.a_lo, a, alen) <= 0 && memcmp(a, x.a_hi, alen) <= 0 &&
	       (port == 0 || (x.p_lo <= port && port <= x.p_hi));
}

/* ---- SipHash-2-4 (Aumasson, Bernstein) --------------------------------- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                             \
	do {                                                                 \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);    \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                       \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                       \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);    \
	} while (0)

uint64_t hg_siphash(const uint64_t key[2], const void *data, size_t len)
{
	const unsigned char *in = data;
	uint64_t v0 = 0x736f6d6570736575ULL ^ key[0], v1 = 0x646f72616e646f6dULL ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ULL ^ key[0], v3 = 0x7465646279746573ULL ^ key[1];
	uint64_t b = (uint64_t)len << 56, m;
	size_t i, left = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&m, in + i, 8);   /* little-endian hosts; a digest, not an interchange format */
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (size_t j = 0; j < left; j++)
		b |= (uint64_t)in[i + j] << (8 * j);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- runtime marks -------------------------------------------------------------- */

/*
 * An element with a kernel timeout is a runtime grant ("allow-uid --for"):
 * apply and check leave it alone.  So that a program with CAP_NET_ADMIN
 * cannot add "2003 . 0.0.0.0/0 . 0-65535 timeout 300d" and have it pass for
 * one, hostguard marks its own: the comment "runtime:" and a SipHash of the
 * element (key and timeout) under the key of the root-only record
 * (src/cli/record.c), which the CLI hands over at start.  With a key, a
 * timed element without a valid mark is no runtime grant: the state reads it
 * as a permanent element (check names it, apply removes it).  Without one
 * (no record yet, a caller that may not read it, the shared library) every
 * timed element is believed, as before.
 */
static uint64_t runtime_key[2];
static bool have_runtime_key;

void hg_grant_set_runtime_key(const uint64_t key[2])
{
	runtime_key[0] = key[0];
	runtime_key[1] = key[1];
	have_runtime_key = true;
}

static uint64_t runtime_mark(const struct hg_grant *g, uint64_t timeout_ms)
{
	unsigned char buf[64];
	size_t n = 0;

	memcpy(buf + n, &g->id, 4), n += 4;
	buf[n++] = g->v6;
	memcpy(buf + n, g->a_lo, 16), n += 16;
	memcpy(buf + n, g->a_hi, 16), n += 16;
	memcpy(buf + n, &g->p_lo, 2), n += 2;
	memcpy(buf + n, &g->p_hi, 2), n += 2;
	memcpy(buf + n, &timeout_ms, 8), n += 8;
	return hg_siphash(runtime_key, buf, n);
}

bool hg_grant_runtime_ok(const struct hg_grant *g)
{
	return !have_runtime_key || (g->marked && g->mark == runtime_mark(g, g->timeout_ms));
}

/* ---- element comments ------------------------------------------------------------ */

/*
 * Where a grant element comes from is written into the element itself, as
 * its comment (NFTA_SET_ELEM_USERDATA, nft's NFTNL_UDATA_SET_ELEM_COMMENT
 * TLV): "name:web1" or "label:web1".  It survives in every dump, so status
 * and a Docker-less apply know which elements Docker brought without asking
 * Docker (which may be down), and "nft list table inet hostguard" shows it.
 * Recomputing from Docker instead would lose exactly that case.
 */
static const char *const src_prefix[] = { [HG_GRANT_NAME] = "name:", [HG_GRANT_LABEL] = "label:" };

void hg_grant_tag_decode(struct hg_grant *g, const void *udata, size_t len)
{
	const unsigned char *u = udata;
	char text[HG_CONTAINER_NAME_MAX + 8];

	/* one TLV: type 0 (comment), length, the text with its NUL */
	if (len < 3 || u[0] != NFTNL_UDATA_SET_ELEM_COMMENT || (size_t)u[1] + 2 > len || u[1] < 2 ||
	    u[1] > sizeof(text) || u[2 + u[1] - 1] != '\0')
		return;
	memcpy(text, u + 2, u[1]);
	if (strncmp(text, "runtime:", 8) == 0 && strlen(text) == 8 + 16 &&
	    strspn(text + 8, "0123456789abcdef") == 16) {
		g->mark = strtoull(text + 8, NULL, 16);
		g->marked = 1;
		return;
	}
	for (int src = HG_GRANT_NAME; src <= HG_GRANT_LABEL; src++) {
		size_t pl = strlen(src_prefix[src]);
		if (strncmp(text, src_prefix[src], pl) == 0 && is_container_name(text + pl) &&
		    strlen(text + pl) < sizeof(g->name)) {
			g->src = (uint8_t)src;
			memcpy(g->name, text + pl, strlen(text + pl) + 1);
		}
	}
}

void hg_grant_source_text(const struct hg_grant *g, char *buf, size_t len)
{
	if (g->src == HG_GRANT_NAME)
		snprintf(buf, len, " (container name %s)", g->name);
	else if (g->src == HG_GRANT_LABEL)
		snprintf(buf, len, " (label of container %s)", g->name);
	else if (len)
		buf[0] = '\0';
}

static int grant_comment(const struct hg_grant *g, uint64_t timeout_ms, struct nftnl_set_elem *e)
{
	struct nftnl_udata_buf *ud;
	char text[HG_CONTAINER_NAME_MAX + 8];
	int r = 0;

	if (timeout_ms && have_runtime_key)
		snprintf(text, sizeof(text), "runtime:%016" PRIx64, runtime_mark(g, timeout_ms));
	else if (g->src != HG_GRANT_NAME && g->src != HG_GRANT_LABEL)
		return 0;
	else
		snprintf(text, sizeof(text), "%s%s", src_prefix[g->src], g->name);
	ud = nftnl_udata_buf_alloc(sizeof(text) + 4);
	if (!ud)
		return -ENOMEM;
	if (!nftnl_udata_put_strz(ud, NFTNL_UDATA_SET_ELEM_COMMENT, text) ||
	    nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA, nftnl_udata_buf_data(ud),
			       nftnl_udata_buf_len(ud)) < 0)
		r = -ENOMEM;
	nftnl_udata_buf_free(ud);
	return r;
}

/* ---- batches -------------------------------------------------------------------- */

static int pset_base(struct nftnl_set *s, int ps)
{
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	if (nftnl_set_set_str(s, NFTNL_SET_TABLE, HG_TABLE_NAME) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, hg_psetdefs[ps].name) < 0)
		return -ENOMEM;
	return 0;
}

/* What nft writes for these sets: the interval set's field lengths (pipapo)
 * and its key byte order (the principal is byte-swapped before its lookup);
 * a hash set of a concatenation carries neither. */
int hg_batch_gset(struct hg_batch *b, int ps)
{
	const struct hg_psetdef *d = &hg_psetdefs[ps];
	const struct hg_gsetdef *g = &hg_gsetdefs[HG_PSET_GS(ps)];
	bool range = HG_PSET_SHAPE(ps) == HG_GSHAPE_RANGE;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(64);
	uint8_t fields[3] = { (uint8_t)g->field_len[0], (uint8_t)g->field_len[1],
			      (uint8_t)g->field_len[2] };
	struct nlmsghdr *nlh;
	char *at = hg_batch_tail(b);
	int r = -ENOMEM;

	if (!s || !ud || !at || pset_base(s, ps) < 0)
		goto out;
	nftnl_set_set_u32(s, NFTNL_SET_ID, (uint32_t)(HG_KEY_MAX + ps + 1));
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, d->key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, d->key_len);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, d->flags);
	if (range && nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields, sizeof(fields)) < 0)
		goto out;
	if (range && (!nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, HG_BYTEORDER_BIG) ||
		      nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
					 nftnl_udata_buf_len(ud)) < 0))
		goto out;
	nlh = nftnl_set_nlmsg_build_hdr(at, NFT_MSG_NEWSET, NFPROTO_INET, NLM_F_CREATE,
					hg_batch_seq(b));
	nftnl_set_nlmsg_build_payload(nlh, s);
	hg_batch_add(b, nlh, -1, "set %s", d->name);
	r = b->oom ? -ENOMEM : 0;
out:
	hg_nftnl_free(nftnl_udata_buf_free, ud);
	hg_nftnl_free(nftnl_set_free, s);
	return r;
}

static void elem_key(struct nftnl_set_elem *e, int ps, const struct hg_grant *g)
{
	unsigned char k[24];

	if (HG_PSET_SHAPE(ps) == HG_GSHAPE_RANGE) {
		hg_grant_key(g, false, k);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, k, hg_psetdefs[ps].key_len);
		hg_grant_key(g, true, k);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, k, hg_psetdefs[ps].key_len);
	} else {
		uint32_t len = hg_grant_hkey(g, HG_PSET_SHAPE(ps), k);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, k, len);
	}
}

/* Does g go to (or, deleted, come from) physical set shape? */
static bool in_pset(const struct hg_grant *g, uint16_t type, int shape)
{
	return (type == NFT_MSG_DELSETELEM ? g->where : hg_grant_shape(g)) == shape;
}

/* Element messages of physical set ps for those of g[0..n) that belong
 * there, each message well under 64 KiB. */
static int batch_pset_elems(struct hg_batch *b, int ps, const struct hg_grant *g, size_t n,
			    uint16_t type, uint64_t timeout_ms)
{
	const struct hg_psetdef *d = &hg_psetdefs[ps];
	size_t per = 48000u / (2 * d->key_len + 80), i = 0;
	const char *verb = type == NFT_MSG_DELSETELEM ? "delete elements from" : "add elements to";
	int shape = HG_PSET_SHAPE(ps);

	while (i < n) {
		struct nftnl_set *s;
		struct nlmsghdr *nlh;
		char *at;
		size_t in = 0;

		while (i < n && !in_pset(&g[i], type, shape))
			i++;
		if (i == n)
			break;
		s = nftnl_set_alloc();
		at = hg_batch_tail(b);
		if (!s || !at || pset_base(s, ps) < 0) {
			hg_nftnl_free(nftnl_set_free, s);
			return -ENOMEM;
		}
		for (; i < n && in < per; i++) {
			struct nftnl_set_elem *e;

			if (!in_pset(&g[i], type, shape))
				continue;
			if (!(e = nftnl_set_elem_alloc())) {
				nftnl_set_free(s);
				return -ENOMEM;
			}
			elem_key(e, ps, &g[i]);
			if (timeout_ms && type == NFT_MSG_NEWSETELEM)
				nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, timeout_ms);
			nftnl_set_elem_add(s, e);
			in++;
			if (type == NFT_MSG_NEWSETELEM && grant_comment(&g[i], timeout_ms, e) < 0) {
				nftnl_set_free(s);
				return -ENOMEM;
			}
		}
		nlh = nftnl_set_elem_nlmsg_build_hdr(at, type, NFPROTO_INET,
						     type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0,
						     hg_batch_seq(b));
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
		hg_batch_add(b, nlh, -1, "%s set %s", verb, d->name);
		if (b->oom)
			return -ENOMEM;
	}
	return 0;
}

/* Grants of logical set gs, each to its physical set: a new one to the set
 * of its shape, a deleted one from the set it was found in (g->where). */
int hg_batch_grants(struct hg_batch *b, int gs, const struct hg_grant *g, size_t n, uint16_t type,
		    uint64_t timeout_ms)
{
	int r = 0;

	for (int shape = 0; r == 0 && shape < HG_NGSHAPES; shape++)
		r = batch_pset_elems(b, HG_PSET(gs, shape), g, n, type, timeout_ms);
	return r;
}

/*
 * The element changes that turn live's grant set gs into want's.  Live
 * elements with a timeout are runtime grants: never deleted, never counted
 * as differences; but one equal to a wanted grant is replaced by the
 * permanent one (else the config's grant would expire with it).  A grant
 * found in another physical set than its shape's (the previous release's
 * layout, or someone's "nft add element") moves, in this transaction: the
 * packet sees it in one set or the other, never in neither.  Elements of a
 * physical set that fresh[shape] says is (re)created here count as absent.
 */
int hg_batch_grant_diff(struct hg_batch *b, int gs, const struct hg_canon *live,
			const struct hg_canon *want, const bool fresh[HG_NGSHAPES], size_t *changes)
{
	size_t na = live->ng[gs], nw = want->ng[gs], i = 0, j = 0, nd = 0, nn = 0;
	struct hg_grant *del = calloc(na + 1, sizeof(*del)), *add = calloc(nw + 1, sizeof(*add));
	const struct hg_grant *L = live->g[gs], *W = want->g[gs];
	int r = 0;

	if (!del || !add) {
		r = -ENOMEM;
		goto out;
	}
	while (i < na || j < nw) {
		int c;

		if (i < na && fresh[L[i].where]) {
			i++;
			continue;
		}
		c = i == na ? 1 : j == nw ? -1 : hg_grant_cmp(&L[i], &W[j]);
		if (c != 0 && i < na && j < nw && same_key(&L[i], &W[j])) {
			/* the same key with another comment (sorted key first:
			 * both are at the head): replace it, a runtime one too */
			del[nd++] = L[i++];
			add[nn++] = W[j++];
		} else if (c == 0) {
			/* the config's grant is there, but expiring (make it
			 * permanent: a runtime copy, or one with a timeout
			 * hostguard did not set) or in the wrong set (move it) */
			if (L[i].timeout_ms || L[i].forged || L[i].where != hg_grant_shape(&W[j])) {
				del[nd++] = L[i];
				add[nn++] = W[j];
			}
			i++, j++;
		} else if (c < 0) {
			if (!L[i].timeout_ms)
				del[nd++] = L[i];
			i++;
		} else {
			add[nn++] = W[j++];
		}
	}
	if (nd)
		r = hg_batch_grants(b, gs, del, nd, NFT_MSG_DELSETELEM, 0);
	if (r == 0 && nn)
		r = hg_batch_grants(b, gs, add, nn, NFT_MSG_NEWSETELEM, 0);
	*changes += nd + nn;
out:
	free(del);
	free(add);
	return r;
}

/* ---- nft text -------------------------------------------------------------------- */

/* "1002 . 192.0.2.0/24 . 8080": one element as nft writes it */
static void elem_nft(FILE *f, const struct hg_grant *g, int shape)
{
	unsigned alen = g->v6 ? 16 : 4;
	int plen = prefix_len(g->a_lo, g->a_hi, alen);
	char a[INET6_ADDRSTRLEN];

	inet_ntop(g->v6 ? AF_INET6 : AF_INET, g->a_lo, a, sizeof(a));
	fprintf(f, "%u . %s", g->id, a);
	if (plen != (int)alen * 8)
		fprintf(f, "/%d", plen);
	if (shape == HG_GSHAPE_ADDR)
		;
	else if (g->p_lo == g->p_hi)
		fprintf(f, " . %u", g->p_lo);
	else
		fprintf(f, " . %u-%u", g->p_lo, g->p_hi);
	if (g->src == HG_GRANT_NAME || g->src == HG_GRANT_LABEL)
		fprintf(f, " comment \"%s%s\"", src_prefix[g->src], g->name);
}

void hg_gsets_to_nft(FILE *f, const struct hg_canon *c)
{
	for (int ps = 0; ps < HG_NPSETS; ps++) {
		const struct hg_gsetdef *d = &hg_gsetdefs[HG_PSET_GS(ps)];
		int shape = HG_PSET_SHAPE(ps), gs = HG_PSET_GS(ps);
		size_t k = 0;

		fprintf(f, "\tset %s {\n\t\ttype %s . %s%s\n\t\tflags %s\n", hg_psetdefs[ps].name,
			d->key == HG_KEY_GRANT_GIDS ? "gid" : "uid", d->v6 ? "ipv6_addr" : "ipv4_addr",
			shape == HG_GSHAPE_ADDR ? "" : " . inet_service",
			shape == HG_GSHAPE_RANGE ? "interval,timeout" : "timeout");
		for (size_t i = 0; i < c->ng[gs]; i++) {
			if (hg_grant_shape(&c->g[gs][i]) != shape)
				continue;
			fputs(k++ ? ",\n\t\t\t     " : "\t\telements = { ", f);
			elem_nft(f, &c->g[gs][i], shape);
		}
		if (k)
			fputs(" }\n", f);
		fputs("\t}\n\n", f);
	}
}
