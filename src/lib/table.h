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
	uint32_t hook;
	int32_t prio;
};
extern const struct hg_chaindef hg_chaindefs[HG_CHAIN_MAX];

/* The elements a set holds for a canonical policy, in key order. */
int hg_kelems_from_canon(const struct hg_canon *c, enum hg_key k, struct hg_kelem **ret,
			 size_t *ret_n);
int hg_batch_table(struct hg_batch *b, uint16_t type, uint16_t flags);
int hg_batch_elems(struct hg_batch *b, enum hg_key k, const struct hg_kelem *v, size_t n,
		   uint16_t type);
/* Messages replacing the whole table (table, sets, elements, chains, rules). */
int hg_batch_full_table(struct hg_batch *b, const struct hg_canon *c);

#endif
