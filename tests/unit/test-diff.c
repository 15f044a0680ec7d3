/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The element changes apply and edits send (hg_batch_diff), built into a
 * buffer and parsed back as test-batch does for the full table: a set
 * filled from policy A's full-table batch, with the A -> B diff applied
 * element by element (every deletion names an element that is there, every
 * addition one that is not, deletions before additions), must hold exactly
 * the elements of policy B's full-table batch, and decode (the readback
 * code) to B's canonical form.  Ids, port ranges (open to 65535 too) and
 * interface patterns, over pseudo-random pairs of policies from a fixed
 * seed: no kernel, same cases every run.
 */
#include <arpa/inet.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libmnl/libmnl.h>
#include <stdlib.h>

#include "check.h"
#include "state.h"

#define MSG(t) ((NFNL_SUBSYS_NFTABLES << 8) | (t))
#define MAX_ELEMS 2048

struct sim {
	struct hg_kelem v[MAX_ELEMS];
	size_t n;
	bool added;               /* a NEWSETELEM was seen */
	bool bad;                 /* a check failed: stop reporting this case */
};

static size_t find(const struct sim *s, const struct hg_kelem *e)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].end == e->end && memcmp(s->v[i].key, e->key, IFNAMSIZ_) == 0)
			return i;
	return SIZE_MAX;
}

static void apply_elem(struct sim *s, const struct hg_kelem *e, bool add, const char *what)
{
	size_t i = find(s, e);

	if (add) {
		if (i != SIZE_MAX || s->n == MAX_ELEMS) {
			CHECK(!s->bad, "%s: adds an element the set holds already", what);
			s->bad = true;
			return;
		}
		s->v[s->n++] = *e;
	} else {
		if (i == SIZE_MAX) {
			CHECK(!s->bad, "%s: deletes an element the set does not hold", what);
			s->bad = true;
			return;
		}
		s->v[i] = s->v[--s->n];
	}
}

/* Applies the element messages of set `name` in batch b to s. */
static void replay(const struct hg_batch *b, const char *name, struct sim *s, const char *what)
{
	for (size_t off = 0; off < b->len;) {
		const struct nlmsghdr *nlh = (const void *)(b->buf + off);
		const struct nlattr *a, *list = NULL, *el, *x, *v;
		const char *set = NULL;
		bool add = nlh->nlmsg_type == MSG(NFT_MSG_NEWSETELEM);

		off += NLMSG_ALIGN(nlh->nlmsg_len);
		if (!add && nlh->nlmsg_type != MSG(NFT_MSG_DELSETELEM))
			continue;
		mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
			if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_SET)
				set = mnl_attr_get_str(a);
			else if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
				list = a;
		}
		if (!set || strcmp(set, name) != 0)
			continue;
		CHECK(list != NULL, "%s: an element message without elements", what);
		if (!list)
			continue;
		if (!add && s->added) {
			CHECK(!s->bad, "%s: a deletion after an addition", what);
			s->bad = true;
		}
		s->added |= add;
		mnl_attr_for_each_nested(el, list) {
			struct hg_kelem e = { 0 };
			mnl_attr_for_each_nested(x, el) {
				if (mnl_attr_get_type(x) == NFTA_SET_ELEM_FLAGS)
					e.end = ntohl(mnl_attr_get_u32(x)) & NFT_SET_ELEM_INTERVAL_END;
				if (mnl_attr_get_type(x) != NFTA_SET_ELEM_KEY)
					continue;
				mnl_attr_for_each_nested(v, x) {
					uint16_t len = mnl_attr_get_payload_len(v);
					if (mnl_attr_get_type(v) == NFTA_DATA_VALUE)
						memcpy(e.key, mnl_attr_get_payload(v),
						       len < IFNAMSIZ_ ? len : IFNAMSIZ_);
				}
			}
			apply_elem(s, &e, add, what);
		}
	}
}

static int kelem_order(const void *a, const void *b)
{
	const struct hg_kelem *x = a, *y = b;
	int c = memcmp(x->key, y->key, IFNAMSIZ_);

	return c ? c : (int)x->end - (int)y->end;
}

static int full_table(const struct hg_canon *c, struct hg_batch *b)
{
	static struct hg_nl nl;
	int r = hg_batch_begin(b, &nl, 0);

	return r < 0 ? r : hg_batch_full_table(b, c);
}

/* The canon of a policy of key k holding these values. */
static int canon_of(enum hg_key k, const char *const *vals, size_t n, struct hg_canon *ret)
{
	struct hg_policy *p = hg_policy_new();
	int r = 0;

	/* the built-in uid 0 aside, only key k has values */
	for (size_t i = 0; r == 0 && i < n; i++)
		r = hg_policy_add(p, k, vals[i], NULL);
	if (r == 0)
		r = hg_canon_from_policy(p, ret, NULL);
	hg_policy_free(p);
	return r;
}

/* Decodes the simulated set like a dump and compares it with want. */
static void decode_matches(struct sim *s, enum hg_key k, const struct hg_canon *want,
			   const char *what)
{
	struct hg_state st = { 0 };
	struct lset ls = { .key = (int)k, .grant = -1, .e = s->v, .n = s->n };

	hg_lset_sort(&ls);
	CHECK(hg_lset_decode(&st, k, &ls) == 0, "%s: decode", what);
	CHECK(st.n_anomalies == 0, "%s: decode finds %zu anomalies", what, st.n_anomalies);
	if (k == HG_KEY_IFACES) {
		bool same = st.canon.n_if == want->n_if;
		for (size_t i = 0; same && i < want->n_if; i++)
			same = strcmp(st.canon.ifnames[i], want->ifnames[i]) == 0;
		CHECK(same, "%s: decoded %zu patterns, wanted %zu", what, st.canon.n_if, want->n_if);
	} else {
		bool same = st.canon.n[k] == want->n[k];
		for (size_t i = 0; same && i < want->n[k]; i++)
			same = st.canon.r[k][i].lo == want->r[k][i].lo &&
			       st.canon.r[k][i].hi == want->r[k][i].hi;
		CHECK(same, "%s: decoded %zu values, wanted %zu", what, st.canon.n[k], want->n[k]);
	}
	hg_lines_free(st.anomalies, st.n_anomalies);
	hg_canon_clear(&st.canon);
}

/* Policy A to policy B for key k: see the top of the file. */
static void one_case(enum hg_key k, const char *const *a, size_t na, const char *const *b, size_t nb,
		     const char *what)
{
	static struct sim live, want_sim;
	struct hg_canon ca, cb;
	struct hg_batch ba, bb, bd;
	size_t changes = 0;
	const char *name = hg_key_name(k);

	memset(&live, 0, sizeof(live));
	memset(&want_sim, 0, sizeof(want_sim));
	if (canon_of(k, a, na, &ca) < 0 || canon_of(k, b, nb, &cb) < 0) {
		CHECK(0, "%s: a policy of the case is invalid", what);
		return;
	}
	CHECK(full_table(&ca, &ba) == 0 && full_table(&cb, &bb) == 0, "%s: full tables", what);
	replay(&ba, name, &live, what);
	replay(&bb, name, &want_sim, what);
	live.added = false;

	bd = (struct hg_batch){ 0 };
	{
		static struct hg_nl nl;
		CHECK(hg_batch_begin(&bd, &nl, 0) == 0, "%s: begin", what);
	}
	CHECK(hg_batch_diff(&bd, k, &ca, &cb, &changes) == 0, "%s: diff", what);
	replay(&bd, name, &live, what);

	qsort(live.v, live.n, sizeof(*live.v), kelem_order);
	qsort(want_sim.v, want_sim.n, sizeof(*want_sim.v), kelem_order);
	CHECK(live.n == want_sim.n && memcmp(live.v, want_sim.v, live.n * sizeof(*live.v)) == 0,
	      "%s: after the diff the set holds %zu elements, B's full table %zu", what, live.n,
	      want_sim.n);
	decode_matches(&live, k, &cb, what);
	/* an in-sync set sends nothing */
	if (na == nb) {
		bool same = true;
		for (size_t i = 0; i < na; i++)
			same = same && strcmp(a[i], b[i]) == 0;
		if (same)
			CHECK(changes == 0, "%s: %zu changes between equal policies", what, changes);
	}
	hg_batch_free(&ba);
	hg_batch_free(&bb);
	hg_batch_free(&bd);
	hg_canon_clear(&ca);
	hg_canon_clear(&cb);
}

static unsigned rnd_state = 2463534242u;
#define rnd(n) check_rnd(&rnd_state, (n))

/* n random values of key k (up to max) in out, their text in store */
static size_t random_values(enum hg_key k, const char **out, char (*store)[32], size_t max)
{
	/* pairwise non-overlapping patterns: any subset is a valid policy */
	static const char *const ifaces[] = { "docker0", "docker_gwbridge", "br-*", "veth*",
					      "macvlan*", "ipvlan*", "cali*", "eth9", "flannel.1",
					      "zz*" };
	size_t n = rnd((uint32_t)max + 1);

	for (size_t i = 0; i < n; i++) {
		if (k == HG_KEY_IFACES) {
			/* a repeated pattern is kept once by the policy */
			snprintf(store[i], 32, "%s", ifaces[rnd(ARRAY_SIZE(ifaces))]);
		} else if (k == HG_KEY_UIDS) {
			snprintf(store[i], 32, "%u", 1000 + rnd(40));
		} else {
			/* low ports, and ranges up to 65535 (no end element) */
			uint32_t lo = rnd(4) ? 1 + rnd(120) : 65500 + rnd(36);
			uint32_t hi = rnd(3) ? lo : lo + rnd(20);
			if (hi > 65535 || (lo >= 65500 && rnd(2)))
				hi = 65535;
			if (lo == hi)
				snprintf(store[i], 32, "%u", lo);
			else
				snprintf(store[i], 32, "%u-%u", lo, hi);
		}
		out[i] = store[i];
	}
	return n;
}

int main(void)
{
	static const enum hg_key keys[] = { HG_KEY_UIDS, HG_KEY_TCP, HG_KEY_IFACES };
	static const char *const fixed_a[] = { "8000-8100", "9000", "65530-65535" };
	static const char *const fixed_b[] = { "8000-8200", "9001", "65520-65535" };
	static const char *const uids_a[] = { "1001", "1002", "1003" };
	static const char *const uids_b[] = { "1002", "1004" };
	static const char *const if_a[] = { "br-*", "docker0" };
	static const char *const if_b[] = { "br-*", "veth*" };

	/* the cases named in apply.c and edit.c */
	one_case(HG_KEY_TCP, fixed_a, 3, fixed_b, 3, "tcp: grow, move and open-ended ranges");
	one_case(HG_KEY_TCP, fixed_b, 3, fixed_a, 3, "tcp: shrink back");
	one_case(HG_KEY_TCP, fixed_a, 3, fixed_a, 3, "tcp: in sync");
	one_case(HG_KEY_TCP, fixed_a, 3, NULL, 0, "tcp: everything goes");
	one_case(HG_KEY_UIDS, uids_a, 3, uids_b, 2, "uids");
	one_case(HG_KEY_IFACES, if_a, 2, if_b, 2, "ifaces");
	one_case(HG_KEY_IFACES, NULL, 0, if_b, 2, "ifaces from none");

	for (int round = 0; round < 300; round++) {
		enum hg_key k = keys[round % ARRAY_SIZE(keys)];
		static char sa[24][32], sb[24][32];
		const char *a[24], *b[24];
		char what[64];
		size_t na = random_values(k, a, sa, 24), nb = random_values(k, b, sb, 24);

		snprintf(what, sizeof(what), "random case %d (%s)", round, hg_key_name(k));
		one_case(k, a, na, b, nb, what);
	}
	return check_done("test-diff");
}
