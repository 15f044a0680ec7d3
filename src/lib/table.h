/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef HG_TABLE_H
#define HG_TABLE_H

#include "internal.h"
#include "nl.h"

/* One kernel set element: a key, and for interval sets whether it ends one. */
struct hg_kelem {
	unsigned char key[IFNAMSIZ_];
	bool end;
};

struct hg_chaindef {
	bool base;                /* a base chain, with this hook and priority */
	uint32_t hook;
	int32_t prio;
	enum hg_chain dir;        /* whose drops its counters are */
	int parent;               /* regular chains: the base chain that jumps here */
};
extern const struct hg_chaindef hg_chaindefs[HG_NCHAINS];

/* One value of a set as the kernel holds it: a key, or an interval's start
 * and end keys (no end: open to the end of the key space). */
struct hg_unit {
	unsigned char start[IFNAMSIZ_], end[IFNAMSIZ_];
	uint8_t has_end;
};
int hg_unit_cmp(const void *a, const void *b);
int hg_units_from_canon(const struct hg_canon *c, enum hg_key k, struct hg_unit **ret,
			size_t *ret_n);

int hg_batch_table(struct hg_batch *b, uint16_t type, uint16_t flags);
int hg_batch_set(struct hg_batch *b, enum hg_key k);
int hg_batch_units(struct hg_batch *b, enum hg_key k, const struct hg_unit *u, size_t n,
		   uint16_t type, uint16_t flags);
int hg_batch_chain(struct hg_batch *b, int ch);
/* The chain's rules; a rule using the ICMPv6 set brings that set along. */
int hg_batch_rules(struct hg_batch *b, int ch, const struct hg_log_settings *log);
int hg_batch_anon_set(struct hg_batch *b);
/* NFT_MSG_DELSET or NFT_MSG_DELCHAIN of a name; NFT_MSG_DELRULE flushes a chain. */
int hg_batch_delete(struct hg_batch *b, uint16_t type, const char *name);
/* NFT_MSG_DELFLOWTABLE or NFT_MSG_DELOBJ (of objtype) of a name in our table. */
int hg_batch_delete_foreign(struct hg_batch *b, uint16_t type, uint32_t objtype, const char *name);
/* Element deletions, then additions, that turn set k of live into want's;
 * *changes grows by their number. */
int hg_batch_diff(struct hg_batch *b, enum hg_key k, const struct hg_canon *live,
		  const struct hg_canon *want, size_t *changes);
/* Grants (grant.c): a physical grant set ps; elements of logical set gs,
 * each routed to its physical set (timeout_ms 0: none); the element
 * changes that turn live's grant set gs into want's (runtime elements,
 * those with a timeout, are left alone; fresh: the physical sets this
 * batch creates, whose live elements are gone). */
int hg_batch_gset(struct hg_batch *b, int ps);
int hg_batch_grants(struct hg_batch *b, int gs, const struct hg_grant *g, size_t n, uint16_t type,
		    uint64_t timeout_ms);
int hg_batch_grant_diff(struct hg_batch *b, int gs, const struct hg_canon *live,
			const struct hg_canon *want, const bool fresh[HG_NGSHAPES], size_t *changes);
void hg_gsets_to_nft(FILE *f, const struct hg_canon *c);

/* Creates the whole table (table, sets, elements, chains, rules). */
int hg_batch_full_table(struct hg_batch *b, const struct hg_canon *c);

#endif
