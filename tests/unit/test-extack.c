/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel's extended ack names the attribute it refused by its offset
 * in our message; hg_describe_elem() turns that into the element's value
 * ("kernel refused add elements to set allowed_uids: element 1002: ...").
 * Crafted offsets, no kernel: each element's offset names that element,
 * and every other offset - before the payload, inside an element, at an
 * odd byte, past the end, near UINT32_MAX (where an unchecked sum wraps) -
 * names nothing and reads nothing outside the message (ASan checks that).
 */
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libmnl/libmnl.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "table.h"

struct expect {
	enum hg_key k;
	const char *values[4];
	size_t n_values;
	const char *elems[8];   /* what each element nest describes as */
	size_t n_elems;
};

static const struct expect cases[] = {
	{ HG_KEY_TCP, { "8000-8100", "9000", "65530-65535" }, 3,
	  { " 8000", " 8101 (interval end)", " 9000", " 9001 (interval end)", " 65530" }, 5 },
	{ HG_KEY_IFACES, { "docker0", "br-*" }, 2,
	  { " 'br-'", " 'br.' (interval end)", " 'docker0'", " 'docker0' (interval end)" }, 4 },
	{ HG_KEY_UIDS, { "1002", "1001" }, 2, { " 1001", " 1002" }, 2 },
};

/* The offsets of the element nests of an element message, from its header. */
static size_t elem_offsets(const struct nlmsghdr *nlh, uint32_t *offs, size_t max)
{
	const struct nlattr *a, *el;
	size_t n = 0;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(el, a)
			if (n < max)
				offs[n++] = (uint32_t)((const char *)el - (const char *)nlh);
	}
	return n;
}

static void one(const struct expect *x)
{
	static struct hg_nl nl;
	struct hg_policy *p = hg_policy_new();
	struct hg_batch b = { 0 };
	struct hg_canon c;
	struct hg_unit *u = NULL;
	size_t nu = 0, n_msgs = 0;
	const char *name = hg_key_name(x->k);
	char out[128];

	for (size_t i = 0; i < x->n_values; i++)
		CHECK(hg_policy_add(p, x->k, x->values[i], NULL) == 0, "%s", x->values[i]);
	CHECK(hg_canon_from_policy(p, &c, NULL) == 0, "canon of %s", name);
	CHECK(hg_units_from_canon(&c, x->k, &u, &nu) == 0, "units of %s", name);
	CHECK(hg_batch_begin(&b, &nl, 0) == 0, "begin");
	CHECK(hg_batch_units(&b, x->k, u, nu, NFT_MSG_NEWSETELEM, 0) == 0, "elements of %s", name);

	for (size_t r = 0; r < b.n_rec; r++) {
		const struct hg_msgrec *rec = &b.rec[r];
		const struct nlmsghdr *nlh = (const void *)(b.buf + rec->off);
		uint32_t offs[16], len = nlh->nlmsg_len;
		size_t n, described = 0;
		static const uint32_t wild[] = { 0, 1, 4, 16, 19, UINT32_MAX, UINT32_MAX - 1,
						 UINT32_MAX - 3, UINT32_MAX - 7, UINT32_MAX - 15,
						 1u << 31, 65536 };

		if (rec->set_key < 0)
			continue;
		n_msgs++;
		CHECK(rec->set_key == (int)x->k, "the record names set %s", name);
		n = elem_offsets(nlh, offs, 16);
		CHECK(n == x->n_elems, "%s: %zu element nests, expected %zu", name, n, x->n_elems);
		/* in range: each element by its offset */
		for (size_t i = 0; i < n && i < x->n_elems; i++) {
			hg_describe_elem(&b, rec, offs[i], out, sizeof(out));
			CHECK(strcmp(out, x->elems[i]) == 0, "%s element %zu: '%s', expected '%s'", name,
			      i, out, x->elems[i]);
		}
		/* every other offset up to past the end: nothing */
		for (uint32_t off = 0; off < len + 16; off++) {
			bool at_elem = false;
			for (size_t i = 0; i < n; i++)
				at_elem |= offs[i] == off;
			hg_describe_elem(&b, rec, off, out, sizeof(out));
			if (out[0])
				described++;
			if (!at_elem)
				CHECK(out[0] == '\0', "%s: offset %u (not an element) describes '%s'", name,
				      off, out);
		}
		CHECK(described == n, "%s: %zu offsets describe an element, expected %zu", name,
		      described, n);
		/* out of range, and sums that wrap around */
		for (size_t i = 0; i < ARRAY_SIZE(wild); i++) {
			hg_describe_elem(&b, rec, wild[i], out, sizeof(out));
			CHECK(out[0] == '\0', "%s: offset %u describes '%s'", name, wild[i], out);
		}
		/* a message about no set of ours: nothing, whatever the offset */
		{
			struct hg_msgrec other = *rec;
			other.set_key = -1;
			hg_describe_elem(&b, &other, offs[0], out, sizeof(out));
			CHECK(out[0] == '\0', "a record without a set describes '%s'", out);
			other.set_key = HG_KEY_GRANT_UIDS;   /* no plain key of its own */
			hg_describe_elem(&b, &other, offs[0], out, sizeof(out));
			CHECK(out[0] == '\0', "a grant record describes '%s'", out);
		}
		/* a short output buffer is cut, not overrun */
		hg_describe_elem(&b, rec, offs[0], out, 3);
		CHECK(strlen(out) <= 2, "cut to the buffer: '%s'", out);
	}
	CHECK(n_msgs == 1, "%s: one element message (%zu)", name, n_msgs);
	free(u);
	hg_canon_clear(&c);
	hg_batch_free(&b);
	hg_policy_free(p);
}

int main(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		one(&cases[i]);
	return check_done("test-extack");
}
