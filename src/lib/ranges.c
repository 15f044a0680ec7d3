/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Range arithmetic (ranges.h). */
#include <stdlib.h>
#include <string.h>

#include "ranges.h"

int hg_range_cmp(const void *a, const void *b)
{
	const struct hg_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return 0;
}

size_t hg_ranges_normalize(struct hg_range *v, size_t len, bool merge)
{
	size_t n = 0;

	if (len)
		qsort(v, len, sizeof(*v), hg_range_cmp);
	for (size_t i = 0; i < len; i++) {
		if (n > 0 && merge && hg_range_touches(v[n - 1], v[i])) {
			if (v[i].hi > v[n - 1].hi)
				v[n - 1].hi = v[i].hi;
			continue;
		}
		if (n > 0 && !merge && v[i].lo == v[n - 1].lo)
			continue;
		v[n++] = v[i];
	}
	return n;
}

bool hg_ranges_cover(const struct hg_range *v, size_t n, struct hg_range r)
{
	size_t lo = 0, hi = n;

	/* the last range that starts at or before r.lo */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].lo <= r.lo)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && r.hi <= v[lo - 1].hi;
}

size_t hg_range_minus(struct hg_range x, struct hg_range cut, struct hg_range out[2])
{
	size_t n = 0;

	if (x.hi < cut.lo || x.lo > cut.hi) {
		out[0] = x;
		return 1;
	}
	if (x.lo < cut.lo)
		out[n++] = (struct hg_range){ x.lo, cut.lo - 1 };
	if (x.hi > cut.hi)
		out[n++] = (struct hg_range){ cut.hi + 1, x.hi };
	return n;
}

size_t hg_ranges_subtract(struct hg_range *v, size_t n, struct hg_range cut)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		struct hg_range p[2];
		size_t np = hg_range_minus(v[i], cut, p);

		if (np == 2) {
			/* cut lies inside v[i], so it touches no other range:
			 * the rest moves up by one to make room for the tail */
			memmove(&v[m + 2], &v[i + 1], (n - i - 1) * sizeof(*v));
			v[m] = p[0];
			v[m + 1] = p[1];
			return m + 2 + (n - i - 1);
		}
		if (np == 1)
			v[m++] = p[0];
	}
	return m;
}

size_t hg_ranges_difference(const struct hg_range *a, size_t na, const struct hg_range *b,
			    size_t nb, struct hg_range *out)
{
	size_t j = 0, m = 0;

	for (size_t i = 0; i < na; i++) {
		/* 64 bits: the piece after a b range ending at UINT32_MAX */
		uint64_t lo = a[i].lo, hi = a[i].hi;

		while (j < nb && b[j].hi < lo)
			j++;
		for (size_t q = j; q < nb && b[q].lo <= hi && lo <= hi; q++) {
			if (b[q].lo > lo)
				out[m++] = (struct hg_range){ (uint32_t)lo, b[q].lo - 1 };
			lo = (uint64_t)b[q].hi + 1;
		}
		if (lo <= hi)
			out[m++] = (struct hg_range){ (uint32_t)lo, (uint32_t)hi };
	}
	return m;
}

size_t hg_ranges_edit(struct hg_range *v, size_t n, enum hg_edit op, const struct hg_range *req,
		      size_t nreq)
{
	for (size_t i = 0; i < nreq; i++) {
		if (op == HG_EDIT_ADD) {
			v[n++] = req[i];
			n = hg_ranges_normalize(v, n, true);
		} else {
			n = hg_ranges_normalize(v, hg_ranges_subtract(v, n, req[i]), true);
		}
	}
	return n;
}
