/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The live table as read back; internal to libhostguard. */
#ifndef HG_STATE_H
#define HG_STATE_H

#include "nl.h"
#include "table.h"

struct lset {
	char *name;
	uint32_t flags, key_type, key_len;
	uint32_t size;            /* a size limit: ours have none */
	/* what ours have none of either: a default timeout for every element
	 * added (the kernel updates it on an existing set: every grant would
	 * expire), a garbage collection interval, element expressions */
	uint64_t timeout;
	uint32_t gc_interval;
	bool exprs;
	int key;                  /* hg_key when it is one of ours, else -1 */
	int grant;                /* physical grant set index (by name), else -1 */
	struct hg_gkelem *ge;     /* a grant set's elements */
	size_t gn, gcap;
	bool anomaly;             /* holds elements that decode to no value */
	bool foreign;             /* held a catch-all element ('*': it matches every
				   * key) or one with expressions; left out of e/ge */
	struct hg_kelem *e;
	size_t n, cap;
};

/* One element of a grant set as dumped. */
struct hg_gkelem {
	unsigned char key[24], key_end[24];
	bool has_end;
	uint64_t timeout_ms, expires_ms;
	struct hg_grant tag;      /* only src and name: the element's comment */
};

struct lrule {
	char *chain;
	struct nftnl_rule *r;
};

struct lchain {
	char *name, *type;
	bool base;
	uint32_t hook, policy;
	int32_t prio;
};

/* A flowtable or stateful object (counter, quota, ...) in our table: the
 * table has none, so each is someone else's and apply deletes it. */
struct lforeign {
	uint16_t delmsg;          /* NFT_MSG_DELFLOWTABLE or NFT_MSG_DELOBJ */
	uint32_t objtype;         /* NFT_OBJECT_* for objects */
	char *name;
};

struct hg_state {
	struct lforeign *foreign;
	size_t n_foreign;
	struct lset *sets;
	size_t n_sets;
	struct lchain *chains;
	size_t n_chains;
	struct lrule *rules;
	size_t n_rules;
	uint32_t genid;           /* generation the snapshot was read at */
	uint32_t table_flags;     /* NFT_TABLE_F_*: ours has none (dormant is off) */
	struct hg_canon canon;    /* the five sets, decoded */
	char **anomalies;         /* elements that decode to no pattern */
	size_t n_anomalies;
	size_t expiring;          /* elements the kernel holds with a timeout */
};

enum { HG_SET_OK, HG_SET_MISSING, HG_SET_WRONG_DEF, HG_SET_ANOMALY };

struct hg_chaincheck {
	const struct lchain *chain;
	bool missing, def_differs, rules_differ;
	size_t n_live, n_want, first_diff;
};

/* ---- readback.c: reading the table (dumps and lookups) ---------------------- */

/* Reads one of our sets (and its elements, decoded into canon) without the
 * rest of the table.  -ENOENT: no table; -ESRCH: no such set; -EBADSLT: the
 * set is not of hostguard's type. */
int hg_state_read_set(struct hg_nl *nl, enum hg_key k, bool with_elements, struct hg_state **ret);
/* Grants: one looked up in the three physical sets of logical set gs (1:
 * present, its timeout in *ret_timeout_ms, a bit 1 << HG_GSHAPE_* for each
 * set that holds it in *ret_shapes, and for each that holds it without a
 * timeout in *ret_permanent), and the twelve sets' definitions checked
 * (-ESRCH missing, -EBADSLT changed). */
int hg_gset_lookup(struct hg_nl *nl, int gs, const struct hg_grant *g, uint64_t *ret_timeout_ms,
		   unsigned *ret_shapes, unsigned *ret_permanent);
int hg_state_read_gsets(struct hg_nl *nl, struct hg_state **ret);
/* The four grant sets with their elements, decoded (hostguard watch). */
int hg_state_read_grants(struct hg_nl *nl, struct hg_state **ret);
/* The table a buffer of NEW* messages (a batch) creates, read back
 * through the dump callbacks and decoded (kernel-free). */
int hg_state_from_msgs(const void *buf, size_t len, struct hg_state **ret);
/* 1 when the set holds exactly this key, 0 when not. */
int hg_set_has_key(struct hg_nl *nl, enum hg_key k, const unsigned char *key);

/* ---- decode.c: dumped elements into canonical form (kernel-free) ------------ */

/* Puts a set's dumped elements in key order (an rbtree dumps them in
 * descending order), then decodes them into s->canon for key k; elements
 * that decode to no value are listed in s->anomalies.  (Kernel-free: the
 * unit tests feed them synthetic dumps.) */
void hg_lset_sort(struct lset *ls);
int hg_lset_decode(struct hg_state *s, enum hg_key k, struct lset *ls);
/* Adds physical grant set ps's elements to s->canon.g of its logical set,
 * each with where it was found (kernel-free). */
int hg_lset_decode_grants(struct hg_state *s, int ps, struct lset *ls);

/* ---- check.c: the live definitions and chains against hostguard's ---------- */

const struct lset *hg_state_set(const struct hg_state *s, const char *name);
/* Is ls of this definition (key, flags), with nothing ours lack? */
bool hg_lset_is(const struct lset *ls, uint32_t key_type, uint32_t key_len, uint32_t flags);
const struct lchain *hg_state_chain(const struct hg_state *s, const char *name);
int hg_state_set_status(const struct hg_state *s, enum hg_key k);
int hg_state_gset_status(const struct hg_state *s, int ps);
int hg_state_check_chain(const struct hg_state *s, int ch, const struct hg_log_settings *log,
			  struct hg_chaincheck *ret);

/* ---- watch.c: NFLOG messages (kernel-free) ---------------------------------- */

/* 0 with *ev filled for a packet of one of the table's log rules (its
 * exact prefix), -1 for any other message; a short or odd payload leaves
 * what it lacks unknown (-1, "").  Grants are not looked up here. */
int hg_watch_parse(const struct nlmsghdr *nlh, struct hg_watch_event *ev);

/* ---- state.c: the object and its accessors ----------------------------------- */

/* Is this the name of one of the table's chains? */
bool hg_is_our_chain(const char *name);

/* diff.c: hg_state_diff, hg_state_delta (public) */

#endif
