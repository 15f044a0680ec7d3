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

int hg_gset_index(const char *name)
{
	for (int i = 0; i < HG_NGSETS; i++)
		if (strcmp(name, hg_gsetdefs[i].name) == 0)
			return i;
	return -1;
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
	if (inet_pton(g.v6 ? AF_INET6 : AF_INET, addr, a) != 1) {
		/* neither an address nor, yet, a container name */
		if (!g.v6 && !strchr(addr, '.') && !slash)
			return bad_target(err, tok, "container names are not supported yet; expected an address, "
						    "a prefix or [IPv6 address], with an optional :PORT or :FIRST-LAST");
		return bad_target(err, tok, g.v6 ? "not an IPv6 address" : "not an IPv4 address");
	}
	prefix_range(a, alen, plen, g.a_lo, g.a_hi);
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
	if (g->v6 && ports[0])
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
	return 0;
}

bool hg_grant_equal(const struct hg_grant *a, const struct hg_grant *b)
{
	return hg_grant_cmp(a, b) == 0;
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

/* Sorts, drops repeated grants, refuses overlapping ones (the kernel would:
 * pipapo holds no two overlapping elements).  Called by hg_canon_from_policy(). */
int hg_canon_grants(const struct hg_policy *p, struct hg_canon *c, struct hg_error *err)
{
	for (int key = HG_KEY_GRANT_UIDS; key <= HG_KEY_GRANT_GIDS; key++) {
		const struct hg_list *l = &p->lists[key];
		for (size_t i = 0; i < l->n; i++) {
			struct hg_grant g;
			int r = hg_grant_parse(key, HG_TOKEN(l, i), &g, err), gs;
			if (r < 0)
				return r;
			gs = gset_of(key, g.v6);
			if (!c->g[gs]) {
				c->g[gs] = calloc(l->n, sizeof(struct hg_grant));
				if (!c->g[gs])
					return hg_err(err, -ENOMEM, "out of memory");
			}
			c->g[gs][c->ng[gs]++] = g;
		}
	}
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

/* ---- batches -------------------------------------------------------------------- */

static int gset_base(struct nftnl_set *s, int gs)
{
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	if (nftnl_set_set_str(s, NFTNL_SET_TABLE, HG_TABLE_NAME) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, hg_gsetdefs[gs].name) < 0)
		return -ENOMEM;
	return 0;
}

int hg_batch_gset(struct hg_batch *b, int gs)
{
	const struct hg_gsetdef *d = &hg_gsetdefs[gs];
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(64);
	uint8_t fields[3] = { (uint8_t)d->field_len[0], (uint8_t)d->field_len[1],
			      (uint8_t)d->field_len[2] };
	struct nlmsghdr *nlh;
	char *at = hg_batch_tail(b);
	int r = -ENOMEM;

	if (!s || !ud || !at || gset_base(s, gs) < 0)
		goto out;
	nftnl_set_set_u32(s, NFTNL_SET_ID, (uint32_t)(HG_KEY_MAX + gs + 1));
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, d->key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, d->key_len);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, HG_GSET_FLAGS);
	if (nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields, sizeof(fields)) < 0)
		goto out;
	if (!nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, HG_BYTEORDER_BIG) ||
	    nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
			       nftnl_udata_buf_len(ud)) < 0)
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

/* Element messages of grant set gs, each well under 64 KiB. */
int hg_batch_grants(struct hg_batch *b, int gs, const struct hg_grant *g, size_t n, uint16_t type,
		    uint64_t timeout_ms)
{
	const struct hg_gsetdef *d = &hg_gsetdefs[gs];
	size_t per = 48000u / (2 * d->key_len + 80);
	const char *verb = type == NFT_MSG_DELSETELEM ? "delete elements from" : "add elements to";

	for (size_t i = 0; i < n; i += per) {
		struct nftnl_set *s = nftnl_set_alloc();
		struct nlmsghdr *nlh;
		char *at = hg_batch_tail(b);

		if (!s || !at || gset_base(s, gs) < 0) {
			hg_nftnl_free(nftnl_set_free, s);
			return -ENOMEM;
		}
		for (size_t j = i; j < n && j < i + per; j++) {
			struct nftnl_set_elem *e = nftnl_set_elem_alloc();
			unsigned char k[24], ke[24];

			if (!e) {
				nftnl_set_free(s);
				return -ENOMEM;
			}
			hg_grant_key(&g[j], false, k);
			hg_grant_key(&g[j], true, ke);
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, k, d->key_len);
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, ke, d->key_len);
			if (timeout_ms && type == NFT_MSG_NEWSETELEM)
				nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, timeout_ms);
			nftnl_set_elem_add(s, e);
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

/*
 * The element changes that turn live's grant set gs into want's.  Live
 * elements with a timeout are runtime grants: never deleted, never counted
 * as differences; but one equal to a wanted grant is replaced by the
 * permanent one (else the config's grant would expire with it).
 */
int hg_batch_grant_diff(struct hg_batch *b, int gs, const struct hg_canon *live,
			const struct hg_canon *want, size_t *changes)
{
	size_t na = live->ng[gs], nw = want->ng[gs], i = 0, j = 0, nd = 0, nn = 0;
	struct hg_grant *del = calloc(na + 1, sizeof(*del)), *add = calloc(nw + 1, sizeof(*add));
	int r = 0;

	if (!del || !add) {
		r = -ENOMEM;
		goto out;
	}
	while (i < na || j < nw) {
		int c = i == na ? 1 : j == nw ? -1 : hg_grant_cmp(&live->g[gs][i], &want->g[gs][j]);
		if (c == 0) {
			/* the config's grant is there, but expiring: make it
			 * permanent */
			if (live->g[gs][i].timeout_ms) {
				del[nd++] = live->g[gs][i];
				add[nn++] = want->g[gs][j];
			}
			i++, j++;
		} else if (c < 0) {
			if (!live->g[gs][i].timeout_ms)
				del[nd++] = live->g[gs][i];
			i++;
		} else {
			add[nn++] = want->g[gs][j++];
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
static void elem_nft(FILE *f, const struct hg_grant *g)
{
	unsigned alen = g->v6 ? 16 : 4;
	int plen = prefix_len(g->a_lo, g->a_hi, alen);
	char a[INET6_ADDRSTRLEN];

	inet_ntop(g->v6 ? AF_INET6 : AF_INET, g->a_lo, a, sizeof(a));
	fprintf(f, "%u . %s", g->id, a);
	if (plen != (int)alen * 8)
		fprintf(f, "/%d", plen);
	if (g->p_lo == g->p_hi)
		fprintf(f, " . %u", g->p_lo);
	else
		fprintf(f, " . %u-%u", g->p_lo, g->p_hi);
}

void hg_gsets_to_nft(FILE *f, const struct hg_canon *c)
{
	for (int gs = 0; gs < HG_NGSETS; gs++) {
		const struct hg_gsetdef *d = &hg_gsetdefs[gs];
		fprintf(f, "\tset %s {\n\t\ttype %s . %s . inet_service\n\t\tflags interval,timeout\n",
			d->name, d->key == HG_KEY_GRANT_GIDS ? "gid" : "uid",
			d->v6 ? "ipv6_addr" : "ipv4_addr");
		for (size_t i = 0; i < c->ng[gs]; i++) {
			fputs(i ? ",\n\t\t\t     " : "\t\telements = { ", f);
			elem_nft(f, &c->g[gs][i]);
		}
		if (c->ng[gs])
			fputs(" }\n", f);
		fputs("\t}\n\n", f);
	}
}
