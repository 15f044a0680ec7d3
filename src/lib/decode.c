/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Decoding dumped set elements into canonical form (kernel-free). */
#include <linux/netfilter/nf_tables.h>
#include <stdarg.h>

#include "state.h"

static int kelem_cmp(const void *a, const void *b)
{
	const struct hg_kelem *x = a, *y = b;
	int c = memcmp(x->key, y->key, IFNAMSIZ_);

	if (c)
		return c;
	/* at the same key an interval's end sorts before the next start */
	return (int)y->end - (int)x->end;
}

/* The rbtree backend dumps in descending order: reversing is enough then. */
void hg_lset_sort(struct lset *ls)
{
	bool descending = true;

	for (size_t i = 1; i < ls->n && descending; i++)
		descending = kelem_cmp(&ls->e[i - 1], &ls->e[i]) > 0;
	if (descending) {
		for (size_t i = 0, j = ls->n; i + 1 < j; i++, j--) {
			struct hg_kelem t = ls->e[i];
			ls->e[i] = ls->e[j - 1];
			ls->e[j - 1] = t;
		}
	} else if (ls->n) {
		qsort(ls->e, ls->n, sizeof(*ls->e), kelem_cmp);
	}
}

static int HG_PRINTF(2, 3) add_anomaly(struct hg_state *s, const char *fmt, ...)
{
	char line[256], **v;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	v = realloc(s->anomalies, (s->n_anomalies + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->anomalies = v;
	if (!(v[s->n_anomalies] = strdup(line)))
		return -ENOMEM;
	s->n_anomalies++;
	return 0;
}

static bool key_is_zero(const struct hg_kelem *e)
{
	static const unsigned char zero[IFNAMSIZ_];
	return memcmp(e->key, zero, IFNAMSIZ_) == 0;
}

/* A set that held a catch-all element or one with expressions (readback.c
 * foreign_elem): named, and recreated by apply. */
static int foreign(struct hg_state *s, struct lset *ls, const char *name)
{
	if (!ls->foreign)
		return 0;
	ls->anomaly = true;
	return add_anomaly(s, "set %s: a catch-all element or one with expressions (hostguard writes neither)",
			   name);
}

/* Intervals come as start/end element pairs (rbtree dumps them in
 * descending order).  A start with no end runs to the end of the key space;
 * an end at key zero is nft's "first non-matching segment" marker. */
int hg_lset_decode(struct hg_state *s, enum hg_key k, struct lset *ls)
{
	const struct hg_setdef *d = &hg_setdefs[k];
	struct hg_canon *c = &s->canon;
	size_t n = ls->n;
	int r = foreign(s, ls, d->name);

	if (r < 0)
		return r;

	if (!(d->flags & NFT_SET_INTERVAL)) {
		c->r[k] = calloc(n ? n : 1, sizeof(struct hg_range));
		if (!c->r[k])
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			uint32_t v;
			memcpy(&v, ls->e[i].key, 4);
			c->r[k][c->n[k]++] = (struct hg_range){ v, v };
		}
		/* keys are host-endian: sort by value, not by bytes; a set holds
		 * each key once, a dump racing a rehash may repeat one */
		c->n[k] = hg_ranges_normalize(c->r[k], c->n[k], false);
		return 0;
	}
	if (HG_KIND(k) == HG_KIND_IFNAME) {
		c->ifr = calloc(n ? n : 1, sizeof(*c->ifr));
		c->ifnames = calloc(n ? n : 1, sizeof(*c->ifnames));
		if (!c->ifr || !c->ifnames)
			return -ENOMEM;
	} else if (!(c->r[k] = calloc(n ? n : 1, sizeof(struct hg_range)))) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct hg_kelem *st = &ls->e[i], *en = NULL;

		if (st->end) {
			if (key_is_zero(st))
				continue;
			ls->anomaly = true;
			r = add_anomaly(s, "set %s: stray interval end element", d->name);
			if (r < 0)
				return r;
			continue;
		}
		if (i + 1 < n && ls->e[i + 1].end)
			en = &ls->e[++i];
		if (HG_KIND(k) == HG_KIND_IFNAME) {
			struct hg_ifrange *ir = &c->ifr[c->n_if];
			char pat[IFNAMSIZ_ + 2];

			memcpy(ir->start, st->key, IFNAMSIZ_);
			if (en)
				memcpy(ir->end, en->key, IFNAMSIZ_);
			else
				ir->open_end = 1;
			if (hg_ifrange_pattern(ir, pat) < 0) {
				char raw[40];
				snprintf(raw, sizeof(raw), "'%.16s'", (const char *)st->key);
				ls->anomaly = true;
				r = add_anomaly(s, "set %s: interval starting at %s matches no pattern",
						d->name, raw);
				if (r < 0)
					return r;
				continue;
			}
			if (!(c->ifnames[c->n_if] = strdup(pat)))
				return -ENOMEM;
			c->n_if++;
		} else {
			uint32_t lo = (uint32_t)(st->key[0] << 8 | st->key[1]);
			uint32_t hi = en ? (uint32_t)(en->key[0] << 8 | en->key[1]) - 1 : 65535;
			c->r[k][c->n[k]++] = (struct hg_range){ lo, hi };
		}
	}
	return 0;
}

/* Grants in key order; of two equal ones (the same grant in two physical
 * sets), the one in its shape's set first: apply keeps that one. */
static int live_grant_cmp(const void *a, const void *b)
{
	const struct hg_grant *x = a, *y = b;
	int c = hg_grant_cmp(x, y);

	if (c)
		return c;
	return (x->where != hg_grant_shape(x)) - (y->where != hg_grant_shape(y));
}

/* Adds the elements of physical grant set ps to the logical list
 * s->canon.g of its set, each remembering where it was found. */
int hg_lset_decode_grants(struct hg_state *s, int ps, struct lset *ls)
{
	struct hg_canon *c = &s->canon;
	int gs = HG_PSET_GS(ps);
	bool range = HG_PSET_SHAPE(ps) == HG_GSHAPE_RANGE;
	struct hg_grant *v = realloc(c->g[gs], (c->ng[gs] + ls->gn + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	c->g[gs] = v;
	if (foreign(s, ls, hg_psetdefs[ps].name) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < ls->gn; i++) {
		const struct hg_gkelem *k = &ls->ge[i];
		struct hg_grant g;
		bool ok;

		if (!range) {
			/* the key must be the one hostguard writes for what it
			 * decodes to: nft and the packet's registers zero the
			 * padding after the port, and a key with other bytes
			 * there is no grant (it matches no packet, and apply
			 * could not delete it by the key it decodes to) */
			unsigned char again[24];

			hg_grant_from_hkey(ps, k->key, &g);
			hg_grant_hkey(&g, HG_PSET_SHAPE(ps), again);
			ok = !k->has_end && memcmp(again, k->key, sizeof(again)) == 0;
		} else {
			ok = k->has_end && hg_grant_from_keys(gs, k->key, k->key_end, &g) == 0;
		}
		if (!ok) {
			ls->anomaly = true;
			if (add_anomaly(s, "set %s: an element that is no grant hostguard makes",
					hg_psetdefs[ps].name) < 0)
				return -ENOMEM;
			continue;
		}
		g.timeout_ms = k->timeout_ms;
		g.expires_ms = k->expires_ms;
		/* hostguard's or not (below): the kernel removes it, without
		 * a commit (hg_state_expiring) */
		s->expiring += k->timeout_ms != 0;
		g.src = k->tag.src;
		memcpy(g.name, k->tag.name, sizeof(g.name));
		g.marked = k->tag.marked;
		g.mark = k->tag.mark;
		/* a timeout hostguard did not set (security.md #22): no runtime
		 * grant, an element like any other (check names it, apply
		 * removes it) */
		if (g.timeout_ms && !hg_grant_runtime_ok(&g)) {
			g.timeout_ms = g.expires_ms = 0;
			g.forged = 1;
		}
		c->g[gs][c->ng[gs]++] = g;
	}
	if (c->ng[gs])
		qsort(c->g[gs], c->ng[gs], sizeof(struct hg_grant), live_grant_cmp);
	return 0;
}
