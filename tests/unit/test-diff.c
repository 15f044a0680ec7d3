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
 * seed: no kernel, same cases every run.  Grants the same way, each element
 * in the physical set of its shape, from the new layout and from the
 * previous release's (every grant in the interval sets).
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

/* ---- grants: each element in the physical set of its shape ---------------- */

/* The elements of the twelve grant sets: set index and key (start and end
 * keys for the interval sets). */
struct gelem {
	int ps;
	unsigned char key[48];
};
struct gsim {
	struct gelem v[512];
	size_t n;
	bool bad;
};

static size_t gfind(const struct gsim *s, const struct gelem *e)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].ps == e->ps && memcmp(s->v[i].key, e->key, sizeof(e->key)) == 0)
			return i;
	return s->n;
}

static int data_cb(const struct nlattr *x, unsigned char *out)
{
	const struct nlattr *v;
	int n = 0;

	mnl_attr_for_each_nested(v, x)
		if (mnl_attr_get_type(v) == NFTA_DATA_VALUE && mnl_attr_get_payload_len(v) <= 24) {
			memcpy(out, mnl_attr_get_payload(v), mnl_attr_get_payload_len(v));
			n = mnl_attr_get_payload_len(v);
		}
	return n;
}

/* Plays the grant element messages of b on s: a deletion must name an
 * element that is there, an addition one that is not; the key must have
 * the length of its set. */
static void greplay(const struct hg_batch *b, struct gsim *s, const char *what)
{
	for (size_t off = 0; off < b->len;) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)(b->buf + off);
		int type = nlh->nlmsg_type & 0xff;
		const struct nlattr *a, *list = NULL, *el, *x;
		int ps = -1;

		off += NLMSG_ALIGN(nlh->nlmsg_len);
		if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES ||
		    (type != NFT_MSG_NEWSETELEM && type != NFT_MSG_DELSETELEM))
			continue;
		mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
			if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_SET)
				ps = hg_pset_index(mnl_attr_get_str(a));
			if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
				list = a;
		}
		if (ps < 0 || !list)
			continue;
		mnl_attr_for_each_nested(el, list) {
			struct gelem e = { .ps = ps };
			int kl = 0, el_ = 0;
			size_t at;

			mnl_attr_for_each_nested(x, el) {
				if (mnl_attr_get_type(x) == NFTA_SET_ELEM_KEY)
					kl = data_cb(x, e.key);
				else if (mnl_attr_get_type(x) == NFTA_SET_ELEM_KEY_END)
					el_ = data_cb(x, e.key + 24);
			}
			if (!s->bad && (kl != (int)hg_psetdefs[ps].key_len ||
					(HG_PSET_SHAPE(ps) == HG_GSHAPE_RANGE) != (el_ == kl))) {
				CHECK(0, "%s: %s: key of %d bytes, end of %d", what, hg_psetdefs[ps].name, kl, el_);
				s->bad = true;
			}
			at = gfind(s, &e);
			if (type == NFT_MSG_DELSETELEM) {
				if (at == s->n) {
					if (!s->bad)
						CHECK(0, "%s: deletes an element %s does not hold", what,
						      hg_psetdefs[ps].name);
					s->bad = true;
					continue;
				}
				s->v[at] = s->v[--s->n];
			} else if (at < s->n || s->n == ARRAY_SIZE(s->v)) {
				if (!s->bad)
					CHECK(0, "%s: adds an element %s holds already", what, hg_psetdefs[ps].name);
				s->bad = true;
			} else {
				s->v[s->n++] = e;
			}
		}
	}
}

static int gelem_order(const void *a, const void *b)
{
	const struct gelem *x = a, *y = b;

	return x->ps != y->ps ? x->ps - y->ps : memcmp(x->key, y->key, sizeof(x->key));
}

/* Random grants of every shape, uid and gid, v4 and v6, that do not overlap. */
static struct hg_policy *random_grants(void)
{
	struct hg_policy *p = hg_policy_new();
	size_t n = rnd(14);

	for (size_t i = 0; i < n; i++) {
		char tok[80], ports[24] = "";
		enum hg_key k = rnd(3) ? HG_KEY_GRANT_UIDS : HG_KEY_GRANT_GIDS;
		unsigned id = 1000 + rnd(3), host = 1 + rnd(12);
		bool v6 = rnd(2);
		struct hg_canon c;

		switch (rnd(4)) {
		case 0: snprintf(ports, sizeof(ports), ":%u", 80 + rnd(3)); break;
		case 1: snprintf(ports, sizeof(ports), ":%u-%u", 80 + rnd(3), 90 + rnd(3)); break;
		default: break;
		}
		if (rnd(4) == 0)
			snprintf(tok, sizeof(tok), v6 ? "%u@fd00::%x/126%s" : "%u@10.0.0.%u/30%s", id,
				 host & ~3u, ports[0] && v6 ? "" : ports);
		else if (v6)
			snprintf(tok, sizeof(tok), ports[0] ? "%u@[fd00::%x]%s" : "%u@fd00::%x%s", id, host, ports);
		else
			snprintf(tok, sizeof(tok), "%u@10.0.0.%u%s", id, host, ports);
		if (hg_policy_add(p, k, tok, NULL) < 0)
			continue;
		/* overlapping another: taken back */
		if (hg_canon_from_policy(p, &c, NULL) < 0)
			hg_policy_remove(p, k, tok, NULL);
		else
			hg_canon_clear(&c);
	}
	return p;
}

static size_t shapes_seen[HG_NGSHAPES], moved;

/* Grants of policy A to policy B: from A's table (or, old, the previous
 * release's layout: every A grant in the interval sets, no hash set), the
 * diff leaves exactly B's full-table elements, each in its shape's set. */
static void grant_case(int round, bool old)
{
	static struct gsim live, want;
	struct hg_policy *pa = random_grants(), *pb = rnd(4) ? random_grants() : pa;
	struct hg_canon ca, cb;
	struct hg_batch ba, bb, bd = { 0 };
	static struct hg_nl nl;
	bool fresh[HG_NGSHAPES] = { false, old, old };
	size_t changes = 0;
	char what[64];

	snprintf(what, sizeof(what), "grants, random case %d%s", round, old ? " (old layout)" : "");
	memset(&live, 0, sizeof(live));
	memset(&want, 0, sizeof(want));
	CHECK(hg_canon_from_policy(pa, &ca, NULL) == 0 && hg_canon_from_policy(pb, &cb, NULL) == 0,
	      "%s: canon", what);
	CHECK(full_table(&ca, &ba) == 0 && full_table(&cb, &bb) == 0, "%s: full tables", what);
	greplay(&bb, &want, what);
	if (!old) {
		struct hg_state *s = NULL;
		greplay(&ba, &live, what);
		/* the live canon as read back: each grant knows its set */
		CHECK(hg_state_from_msgs(ba.buf, ba.len, &s) == 0, "%s: read back", what);
		hg_canon_clear(&ca);
		ca = s->canon;
		memset(&s->canon, 0, sizeof(s->canon));
		hg_state_free(s);
	} else {
		for (int gs = 0; gs < HG_NGSETS; gs++)
			for (size_t i = 0; i < ca.ng[gs]; i++) {
				struct gelem e = { .ps = HG_PSET(gs, HG_GSHAPE_RANGE) };
				hg_grant_key(&ca.g[gs][i], false, e.key);
				hg_grant_key(&ca.g[gs][i], true, e.key + 24);
				live.v[live.n++] = e;
				ca.g[gs][i].where = HG_GSHAPE_RANGE;
			}
	}
	CHECK(hg_batch_begin(&bd, &nl, 0) == 0, "%s: begin", what);
	for (int gs = 0; gs < HG_NGSETS; gs++)
		CHECK(hg_batch_grant_diff(&bd, gs, &ca, &cb, fresh, &changes) == 0, "%s: diff", what);
	greplay(&bd, &live, what);
	for (int gs = 0; gs < HG_NGSETS; gs++)
		for (size_t i = 0; i < cb.ng[gs]; i++)
			shapes_seen[hg_grant_shape(&cb.g[gs][i])]++;
	if (old && pa == pb)
		moved += changes;
	qsort(live.v, live.n, sizeof(*live.v), gelem_order);
	qsort(want.v, want.n, sizeof(*want.v), gelem_order);
	CHECK(live.n == want.n && memcmp(live.v, want.v, live.n * sizeof(*live.v)) == 0,
	      "%s: after the diff the sets hold %zu elements, B's full table %zu", what, live.n, want.n);
	if (pa == pb && !old)
		CHECK(changes == 0, "%s: %zu changes between equal policies", what, changes);
	hg_batch_free(&ba);
	hg_batch_free(&bb);
	hg_batch_free(&bd);
	hg_canon_clear(&ca);
	hg_canon_clear(&cb);
	if (pb != pa)
		hg_policy_free(pb);
	hg_policy_free(pa);
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
	for (int round = 0; round < 300; round++)
		grant_case(round, round % 3 == 0);
	CHECK(shapes_seen[HG_GSHAPE_RANGE] > 100 && shapes_seen[HG_GSHAPE_PORT] > 100 &&
	      shapes_seen[HG_GSHAPE_ADDR] > 100 && moved > 20,
	      "the random grants cover every shape (%zu, %zu, %zu) and moves (%zu)",
	      shapes_seen[0], shapes_seen[1], shapes_seen[2], moved);
	return check_done("test-diff");
}
