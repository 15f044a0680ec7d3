/* SPDX-License-Identifier: GPL-2.0-or-later */
/* record.c: what hostguard last put in the kernel; runtime.c: what the live
 * table holds that the config does not, and the reverse. */
#ifndef HG_RECORD_H
#define HG_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "hostguard.h"

struct record {
	uint64_t key[2];          /* SipHash key, random, only in the root-only file */
	uint32_t generation;      /* the ruleset generation after hostguard's last commit */
	uint64_t table;           /* the table as hostguard left it ... */
	uint32_t table_generation;/* ... at this generation (older after edits) */
	uint32_t elements;        /* how many elements it held then */
	uint64_t sets[HG_KEY_MAX];/* table is the sum of a digest of each key's values */
	uint32_t counts[HG_KEY_MAX];/* and of the rest; how many each key held */
	uint64_t config;          /* the config file hostguard last applied */
	uint64_t policy;          /* the policy the table is at generation (its ruleset
				   as apply renders it), 0: not known */
	uint64_t verified;        /* CLOCK_BOOTTIME seconds when an apply last read
				   the table and found it the policy */
};

/* From the library (src/lib/grant.c, not exported: the CLI links its own
 * copy): SipHash-2-4, and the key that marks hostguard's runtime grants
 * (security.md #22), set from the record at start (main.c), or by an edit
 * under its lock (record_edit_begin). */
uint64_t hg_siphash(const uint64_t key[2], const void *data, size_t len);
void hg_grant_set_runtime_key(const uint64_t key[2]);
/* (src/lib/generation.c) the netlink socket of nl, or -1; the generation,
 * with the definition of key k's set asked for in the same round trip
 * (k < 0: none), for the edit of k that reads it next */
int hg_nl_fd(const struct hg_nl *nl);
int hg_nl_generation_for(struct hg_nl *nl, enum hg_key k, uint32_t *ret);
/* (src/lib/generation.c) elements of s with a kernel timeout, any */
size_t hg_state_expiring(const struct hg_state *s);
/* (src/lib/readback.c) one set of the table with its elements; the grant
 * sets with theirs */
int hg_state_read_set(struct hg_nl *nl, enum hg_key k, bool with_elements, struct hg_state **ret);
int hg_state_read_grants(struct hg_nl *nl, struct hg_state **ret);

/* /run/hostguard/applied-<netns cookie>, or NULL.  record_use_socket()
 * learns it from nl's socket, when it is not known yet. */
const char *record_path(void);
void record_use_socket(struct hg_nl *nl);
/* 0; -ENOENT: none; -EPERM: not root's or group/other bits (not believed);
 * -EBADMSG: garbage */
int record_load(struct record *ret);
/* The table's digest (table), and each key's part of it (sets, counts). */
struct table_digest {
	uint64_t table, sets[HG_KEY_MAX];
	uint32_t counts[HG_KEY_MAX];
};
int record_table_digest(const struct record *r, const struct hg_state *s, struct table_digest *ret);
int record_config_digest(const struct record *r, uint64_t *ret);

/* apply's and follow's transaction: hg_apply_flags() under the record's
 * lock, then, when record, the record of the table when it reads back as p;
 * the lock goes before the caller prints.  An edit, which holds the lock
 * from begin to end, then never takes their commit, not recorded yet, for
 * another program's, nor does a stream of --runtime edits keep them from
 * reading the table.  The lock is waited for HOSTGUARD_LOCK_TIMEOUT at most
 * (a stuck holder must not hold up a repair): then, or when not root, the
 * table is changed all the same and nothing is recorded.  Returns what
 * hg_apply_flags() returned. */
int record_apply(struct hg_nl *nl, const struct hg_policy *p, unsigned flags, bool record,
		 char ***ret_delta, size_t *ret_n, struct hg_error *err);

/* After remove: the table is gone, and so is what was known of it. */
void record_forget(void);

/* The chain of a config file's digest: its value before each of the file's
 * first blocks (record.c config_digest). */
#define CONFIG_CHAIN 64
struct config_chain {
	uint64_t h[CONFIG_CHAIN];
	size_t n;
};

/* The digest of the config file that shares its first `same` bytes with the
 * one c was taken of, reading only what follows them. */
int record_config_digest_resume(const struct record *rec, const struct config_chain *c, size_t same,
				uint64_t *ret);

/* Around an edit (or save), under the config lock: begin before the config
 * is touched, end after the kernel accepted it. */
struct record_edit {
	int lock;                 /* the record's, from begin to end; -1 */
	struct record rec, seen;
	bool have;                /* a record to update: edits never create one */
	bool config_applied;      /* the config held nothing unapplied before */
	bool table_ours;          /* the table was as recorded, at generation gen0 */
	int key;                  /* the key the edit changes, or -1 */
	uint32_t gen0;
	uint64_t config_before;
	struct config_chain chain;    /* of config_before */
	size_t config_same;       /* what the edit left of the file: hg_config_edit_same() */
};
/* config: the edit may change the config file (its digest is taken now;
 * a --runtime edit, which cannot, does not read the file at all).  key:
 * the key the edit changes (its set is asked for with the generation), or
 * -1. */
void record_edit_begin(struct record_edit *re, struct hg_nl *nl, bool config, int key);
void record_edit_end(struct record_edit *re, struct hg_nl *nl, bool config_changed, const char *by);
/* An edit that ends without record_edit_end (it failed): the lock goes.
 * Harmless twice, or on { .lock = -1 }. */
void record_edit_release(struct record_edit *re);

/* One value the live table and the config disagree on, in a key a config
 * decides (not published_*, not grants with a kernel timeout). */
struct rt_entry {
	int key;                  /* enum hg_key */
	bool removed;             /* in the config, not in the table */
	uint32_t lo, hi;          /* ids and ports */
	char value[112];          /* canonical: "1002", "8000-8100", "br-x", "1002@192.0.2.2" */
};
struct rt_list {
	struct rt_entry *v;
	size_t n, cap;
	bool only;                /* the table is the config plus these, nothing else differs */
};
/* full: the config with what Docker publishes; file: the config alone. */
int runtime_list(const struct hg_state *s, const struct hg_policy *full,
		 const struct hg_policy *file, struct rt_list *ret);
void rt_list_free(struct rt_list *l);
/* Is a live value (an id, a port range, an interface pattern) one the
 * config does not hold? */
bool rt_added(const struct rt_list *l, int key, uint32_t lo, uint32_t hi, const char *iface);

enum cause {
	CAUSE_IN_SYNC,
	CAUSE_NOT_LOADED,
	CAUSE_UNKNOWN,            /* no record: cannot tell who changed what */
	CAUSE_OUTSIDE,            /* the table is not as hostguard left it */
	CAUSE_CONFIG,             /* the config file changed since hostguard applied it */
	CAUSE_DOCKER,             /* neither: what Docker publishes changed */
	CAUSE_RUNTIME,            /* only hostguard's own --runtime edits */
};
extern const char *const cause_names[];
/* Why the table differs (n_diff: hg_state_diff's count); may refresh the
 * record's digest when it is of an older generation. */
int drift_cause(struct hg_nl *nl, const struct hg_state *s, const struct rt_list *rt, int n_diff,
		enum cause *ret);

#endif
