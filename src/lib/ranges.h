/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Range arithmetic over [lo, hi] intervals (inclusive), written once for
 * every side that needs it: the canonical form of a policy, the config
 * edit, the live set's edit and the CLI's runtime entries.  Kernel-free;
 * no function here allocates.
 */
#ifndef HG_RANGES_H
#define HG_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostguard.h"

struct hg_range {
	uint32_t lo, hi;
};

/* By lo, then hi (for qsort). */
int hg_range_cmp(const void *a, const void *b);

/* Do a and b overlap or touch (one range when merged)? */
static inline bool hg_range_touches(struct hg_range a, struct hg_range b)
{
	return a.lo <= (uint64_t)b.hi + 1 && b.lo <= (uint64_t)a.hi + 1;
}

/* Sorts; merges overlapping and touching ranges (merge) or drops repeated
 * ids. Returns the new length. */
size_t hg_ranges_normalize(struct hg_range *v, size_t len, bool merge);

/* Is r inside one range of v (sorted, merged)? */
bool hg_ranges_cover(const struct hg_range *v, size_t n, struct hg_range r);

/* What is left of x without cut, into out (head first); returns how many
 * ranges: 0, 1 or 2 (cut strictly inside x). */
size_t hg_range_minus(struct hg_range x, struct hg_range cut, struct hg_range out[2]);

/* v minus cut, in place; v is sorted with no two overlapping and has room
 * for n + 1 ranges (a range cut in two).  Returns the new length; the
 * order stays. */
size_t hg_ranges_subtract(struct hg_range *v, size_t n, struct hg_range cut);

/* a minus b (both sorted, no two overlapping) into out, which has room for
 * na + nb ranges.  Returns how many. */
size_t hg_ranges_difference(const struct hg_range *a, size_t na, const struct hg_range *b,
			    size_t nb, struct hg_range *out);

/* Applies an edit to v (n sorted, merged ranges; room for n + nreq + 1):
 * adding merges, removing subtracts, splitting a range it falls inside.
 * Returns the new length; the config side (hg_config_edit_prepare) must
 * come to the same ranges. */
size_t hg_ranges_edit(struct hg_range *v, size_t n, enum hg_edit op, const struct hg_range *req,
		      size_t nreq);

#endif
