/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the kernel holds, decoded back without a kernel: every kind of set
 * encoded the way apply sends it, dumped the way the kernel dumps it (an
 * rbtree in descending order, a hash in any order), and decoded again must
 * give the same canonical form.  Synthetic dumps cover what nft or a
 * tamperer leave behind: nft's zero end marker, a stray end, an interval no
 * pattern makes, an open end.
 */
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter/nf_tables.h>

#include "check.h"
#include "state.h"

/* The units of a canon, as kernel elements (start, then end), in the
 * order the kernel would dump them. */
static struct lset dump_of(const struct hg_canon *c, enum hg_key k, bool descending)
{
	struct hg_unit *u;
	size_t n;
	struct lset ls = { .key = (int)k };

	if (hg_units_from_canon(c, k, &u, &n) < 0)
		return ls;
	ls.e = calloc(2 * n + 1, sizeof(*ls.e));
	for (size_t i = 0; i < n; i++) {
		memcpy(ls.e[ls.n].key, u[i].start, IFNAMSIZ_);
		ls.e[ls.n++].end = false;
		if (u[i].has_end) {
			memcpy(ls.e[ls.n].key, u[i].end, IFNAMSIZ_);
			ls.e[ls.n++].end = true;
		}
	}
	free(u);
	if (descending) {
		/* reverse key order, an end before the start at the same key */
		for (size_t i = 0, j = ls.n; i + 1 < j; i++, j--) {
			struct hg_kelem t = ls.e[i];
			ls.e[i] = ls.e[j - 1];
			ls.e[j - 1] = t;
		}
	} else {
		/* a hash set: any order */
		for (size_t i = 0; i + 1 < ls.n; i += 2) {
			struct hg_kelem t = ls.e[i];
			ls.e[i] = ls.e[i + 1];
			ls.e[i + 1] = t;
		}
	}
	return ls;
}

static struct hg_state *decode(struct lset *ls, enum hg_key k)
{
	struct hg_state *s = calloc(1, sizeof(*s));

	hg_lset_sort(ls);
	CHECK(hg_lset_decode(s, k, ls) == 0, "decode %s", hg_key_name(k));
	return s;
}

static void round_trip(enum hg_key k, const char *const *tokens, size_t n)
{
	struct hg_policy *p = hg_policy_new();
	struct hg_canon want;
	struct hg_state *s;
	struct lset ls;

	for (size_t i = 0; i < n; i++)
		CHECK(hg_policy_add(p, k, tokens[i], NULL) == 0, "add %s", tokens[i]);
	CHECK(hg_canon_from_policy(p, &want, NULL) == 0, "canon of %s", hg_key_name(k));
	ls = dump_of(&want, k, HG_KIND(k) != HG_KIND_ID);
	s = decode(&ls, k);
	if (HG_KIND(k) == HG_KIND_IFNAME) {
		CHECK(s->canon.n_if == want.n_if, "%s: %zu patterns back, %zu sent", hg_key_name(k),
		      s->canon.n_if, want.n_if);
		for (size_t i = 0; i < want.n_if && i < s->canon.n_if; i++)
			CHECK_STR(s->canon.ifnames[i], want.ifnames[i]);
	} else {
		CHECK(s->canon.n[k] == want.n[k], "%s: %zu values back, %zu sent", hg_key_name(k),
		      s->canon.n[k], want.n[k]);
		for (size_t i = 0; i < want.n[k] && i < s->canon.n[k]; i++)
			CHECK(s->canon.r[k][i].lo == want.r[k][i].lo && s->canon.r[k][i].hi == want.r[k][i].hi,
			      "%s[%zu]: %u-%u back, %u-%u sent", hg_key_name(k), i, s->canon.r[k][i].lo,
			      s->canon.r[k][i].hi, want.r[k][i].lo, want.r[k][i].hi);
	}
	CHECK(s->n_anomalies == 0, "%s: no anomaly", hg_key_name(k));
	free(ls.e);
	hg_state_free(s);
	hg_canon_clear(&want);
	hg_policy_free(p);
}

static void port_key(struct hg_kelem *e, uint16_t port, bool end)
{
	memset(e, 0, sizeof(*e));
	e->key[0] = (unsigned char)(port >> 8);
	e->key[1] = (unsigned char)port;
	e->end = end;
}

int main(void)
{
	static const char *const uids[] = { "0", "1001", "65534", "4294967294", "7" };
	static const char *const ports[] = { "1", "53", "80-90", "85-100", "8000-8100", "65535" };
	static const char *const low_high[] = { "1-65535" };
	static const char *const ifaces[] = { "docker0", "br-*", "veth*", "macvlan*", "a", "zzzzzzzzzzzzzzz" };

	for (int k = 0; k < HG_KEY_MAX; k++) {
		if (HG_KIND(k) == HG_KIND_GRANT)
			continue;  /* below */
		if (HG_KIND(k) == HG_KIND_ID)
			round_trip(k, uids, ARRAY_SIZE(uids));
		else if (HG_KIND(k) == HG_KIND_PORT)
			round_trip(k, ports, ARRAY_SIZE(ports));
		else
			round_trip(k, ifaces, ARRAY_SIZE(ifaces));
	}
	round_trip(HG_KEY_TCP, low_high, 1);

	/* nft's zero end marker before the first interval is no value */
	{
		struct lset ls = { .key = HG_KEY_TCP };
		struct hg_state *s;
		ls.e = calloc(3, sizeof(*ls.e));
		port_key(&ls.e[0], 0, true);
		port_key(&ls.e[1], 53, false);
		port_key(&ls.e[2], 54, true);
		ls.n = 3;
		s = decode(&ls, HG_KEY_TCP);
		CHECK(s->canon.n[HG_KEY_TCP] == 1 && s->canon.r[HG_KEY_TCP][0].lo == 53 &&
		      s->canon.r[HG_KEY_TCP][0].hi == 53, "zero end marker skipped: 53 only");
		CHECK(s->n_anomalies == 0, "zero end marker is not an anomaly");
		free(ls.e);
		hg_state_free(s);
	}
	/* a stray end (no start before it) is reported, not decoded */
	{
		struct lset ls = { .key = HG_KEY_TCP };
		struct hg_state *s;
		ls.e = calloc(3, sizeof(*ls.e));
		port_key(&ls.e[0], 100, true);
		port_key(&ls.e[1], 443, false);
		port_key(&ls.e[2], 444, true);
		ls.n = 3;
		s = decode(&ls, HG_KEY_TCP);
		CHECK(s->n_anomalies == 1 && ls.anomaly, "stray end reported (%zu)", s->n_anomalies);
		CHECK(s->canon.n[HG_KEY_TCP] == 1 && s->canon.r[HG_KEY_TCP][0].lo == 443,
		      "the rest decodes: 443");
		free(ls.e);
		hg_state_free(s);
	}
	/* a start with no end runs to the end of the key space */
	{
		struct lset ls = { .key = HG_KEY_UDP };
		struct hg_state *s;
		ls.e = calloc(1, sizeof(*ls.e));
		port_key(&ls.e[0], 60000, false);
		ls.n = 1;
		s = decode(&ls, HG_KEY_UDP);
		CHECK(s->canon.n[HG_KEY_UDP] == 1 && s->canon.r[HG_KEY_UDP][0].lo == 60000 &&
		      s->canon.r[HG_KEY_UDP][0].hi == 65535, "open end: 60000-65535");
		free(ls.e);
		hg_state_free(s);
	}
	/* an interface interval no pattern makes ("a" to "c") is an anomaly */
	{
		struct lset ls = { .key = HG_KEY_IFACES };
		struct hg_state *s;
		ls.e = calloc(2, sizeof(*ls.e));
		ls.e[0].key[0] = 'a';
		ls.e[1].key[0] = 'c';
		ls.e[1].end = true;
		ls.n = 2;
		s = decode(&ls, HG_KEY_IFACES);
		CHECK(s->n_anomalies == 1 && s->canon.n_if == 0, "a-c matches no pattern: anomaly");
		free(ls.e);
		hg_state_free(s);
	}
	/* hash sets: duplicates in a dump collapse, order does not matter */
	{
		struct lset ls = { .key = HG_KEY_UIDS };
		uint32_t v[] = { 1001, 0, 1001, 7 };
		struct hg_state *s;
		ls.e = calloc(4, sizeof(*ls.e));
		for (size_t i = 0; i < 4; i++)
			memcpy(ls.e[i].key, &v[i], 4);
		ls.n = 4;
		s = decode(&ls, HG_KEY_UIDS);
		CHECK(s->canon.n[HG_KEY_UIDS] == 3 && s->canon.r[HG_KEY_UIDS][0].lo == 0 &&
		      s->canon.r[HG_KEY_UIDS][2].lo == 1001, "sorted by value, once each (%zu)",
		      s->canon.n[HG_KEY_UIDS]);
		free(ls.e);
		hg_state_free(s);
	}
	/* grants: encoded as apply sends them, each in the physical set of its
	 * shape (a hash key, or start and inclusive end keys), decoded back
	 * to the same logical grants, each knowing where it was; a timeout is
	 * kept */
	{
		static const char *const g[] = { "1002@192.0.2.0/24:8000-8100", "0@10.0.0.1", "7@[2001:db8::2]:8080",
						 "7@2001:db8:1::/48", "4294967294@0.0.0.0/0:1", "9@[::/0]:65535",
						 "70000@10.0.0.9:443", "8@[2001:db8::9]" };
		struct hg_policy *p = hg_policy_new();
		struct hg_canon want;
		struct hg_state *s = calloc(1, sizeof(*s));
		for (size_t i = 0; i < ARRAY_SIZE(g); i++)
			CHECK(hg_policy_add(p, HG_KEY_GRANT_UIDS, g[i], NULL) == 0, "add %s", g[i]);
		CHECK(hg_canon_from_policy(p, &want, NULL) == 0, "canon of grants");
		for (int ps = 0; ps < HG_NPSETS; ps++) {
			int gs = HG_PSET_GS(ps), shape = HG_PSET_SHAPE(ps);
			struct lset ls = { .key = -1, .grant = ps };
			ls.ge = calloc(want.ng[gs] + 1, sizeof(*ls.ge));
			for (size_t i = 0; i < want.ng[gs]; i++) {
				struct hg_gkelem *k = &ls.ge[ls.gn];
				if (hg_grant_shape(&want.g[gs][i]) != shape)
					continue;
				if (shape == HG_GSHAPE_RANGE) {
					hg_grant_key(&want.g[gs][i], false, k->key);
					hg_grant_key(&want.g[gs][i], true, k->key_end);
					k->has_end = true;
				} else {
					CHECK(hg_grant_hkey(&want.g[gs][i], shape, k->key) == hg_psetdefs[ps].key_len,
					      "%s: key length", hg_psetdefs[ps].name);
				}
				k->timeout_ms = i == 0 ? 3000 : 0;
				ls.gn++;
			}
			CHECK(hg_lset_decode_grants(s, ps, &ls) == 0, "decode %s", hg_psetdefs[ps].name);
			free(ls.ge);
		}
		for (int gs = 0; gs < HG_NGSETS; gs++) {
			CHECK(s->canon.ng[gs] == want.ng[gs], "%s: %zu back, %zu sent", hg_gsetdefs[gs].name,
			      s->canon.ng[gs], want.ng[gs]);
			for (size_t i = 0; i < want.ng[gs] && i < s->canon.ng[gs]; i++) {
				char a[96], b[96];
				hg_grant_format(&want.g[gs][i], a, sizeof(a));
				hg_grant_format(&s->canon.g[gs][i], b, sizeof(b));
				CHECK_STR(b, a);
				CHECK(s->canon.g[gs][i].where == hg_grant_shape(&want.g[gs][i]), "%s: where", b);
			}
		}
		CHECK(s->canon.ng[0] == 4 && s->canon.ng[1] == 4, "v4 and v6 split (%zu, %zu)",
		      s->canon.ng[0], s->canon.ng[1]);
		CHECK(s->canon.g[0][0].timeout_ms == 3000, "a timeout is decoded");
		CHECK(s->n_anomalies == 0, "no anomaly");
		/* the hash key: the id in host order (no byteorder before the
		 * lookup), as nft writes it */
		{
			unsigned char k[24];
			uint32_t id;
			size_t at = 0;
			while (at + 1 < want.ng[0] && want.g[0][at].id != 70000)
				at++;
			CHECK(hg_grant_hkey(&want.g[0][at], HG_GSHAPE_PORT, k) == 12, "port key 12 bytes");
			memcpy(&id, k, 4);
			CHECK(id == 70000 && k[4] == 10 && k[7] == 9 && k[8] == 443 >> 8 && k[9] == (443 & 0xff) &&
			      k[10] == 0 && k[11] == 0, "70000 . 10.0.0.9 . 443 as nft encodes it");
		}
		/* an element no grant makes (ids differ at the two ends) */
		if (want.ng[0] >= 2) {
			struct lset ls = { .key = -1, .grant = 0 };
			size_t before = s->canon.ng[0];
			ls.ge = calloc(1, sizeof(*ls.ge));
			hg_grant_key(&want.g[0][0], false, ls.ge[0].key);
			hg_grant_key(&want.g[0][1], true, ls.ge[0].key_end);
			ls.ge[0].has_end = true;
			ls.gn = 1;
			CHECK(hg_lset_decode_grants(s, 0, &ls) == 0 && ls.anomaly && s->canon.ng[0] == before,
			      "a foreign element is an anomaly");
			free(ls.ge);
		}
		/* a hash key with bytes in the padding after the port (nft
		 * writes zeros, and the packet's register has zeros there): no
		 * grant; nor is a hash element with an end key */
		for (int t = 0; t < 2 && want.ng[0]; t++) {
			int ps = HG_PSET(0, HG_GSHAPE_PORT);
			struct lset ls = { .key = -1, .grant = ps };
			struct hg_grant one = want.g[0][0];
			size_t before = s->canon.ng[0];
			one.a_hi[3] = one.a_lo[3];
			one.p_hi = one.p_lo;
			ls.ge = calloc(1, sizeof(*ls.ge));
			hg_grant_hkey(&one, HG_GSHAPE_PORT, ls.ge[0].key);
			if (t == 0)
				ls.ge[0].key[11] = 0x01;
			else
				ls.ge[0].has_end = true;
			ls.gn = 1;
			CHECK(hg_lset_decode_grants(s, ps, &ls) == 0 && ls.anomaly && s->canon.ng[0] == before,
			      "%s in a hash set is an anomaly", t ? "an end key" : "padding");
			free(ls.ge);
		}
		hg_canon_clear(&want);
		hg_policy_free(p);
		hg_state_free(s);
	}
	return check_done("test-decode");
}
