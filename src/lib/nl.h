/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Netlink plumbing: one socket, batches with a record of every message, and
 * dumps.  Internal to libhostguard. */
#ifndef HG_NL_H
#define HG_NL_H

#include <libmnl/libmnl.h>
#include <stdbool.h>

#include "internal.h"

struct hg_nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	size_t sndbuf;            /* SO_SNDBUF: the default, or what it was raised to */
	bool sndbuf_asked;        /* sndbuf holds the default (raise_buffers) */
	bool raised;              /* SO_SNDBUF and SO_RCVBUF raised (raise_buffers) */
	uint32_t committed_genid; /* generation after the last hg_transact() commit, 0: none */
	/* the generation the last request on this socket read, when that
	 * request was a GETGEN (hg_nl_plan_genid) */
	uint32_t last_genid;
	bool last_genid_ok;
	/* the buffer answers are read into, one per socket (rbuf_get) */
	char *rbuf;
	bool rbuf_busy;
	/* the answer to the GETSET that went with the last GETGEN
	 * (hg_nl_genid_with_set), left in rbuf until the next request */
	struct {
		bool ok;
		int err;                  /* the kernel's error instead */
		size_t len;
		uint32_t seq;
		char set[64];
	} pre;
};

/* What one message of a batch is about, to name it in an error. */
struct hg_msgrec {
	uint32_t seq;
	size_t off;               /* offset of the message in the batch buffer */
	int set_key;              /* hg_key of an element message, else -1 */
	char what[80];
};

/* A batch is one contiguous buffer so that it goes out in one sendmsg(). */
struct hg_batch {
	char *buf;
	size_t len, cap;
	size_t dirty;             /* past it, buf is zero (hg_batch_tail) */
	struct hg_msgrec *rec;
	size_t n_rec, cap_rec;
	uint32_t seq_begin, seq_end, next_seq;
	uint32_t genid;           /* the generation guard, 0: none */
	bool oom;
};

/* Begins a batch; genid != 0 makes the kernel refuse it with -ERESTART when
 * the ruleset changed since that generation. */
int hg_batch_begin(struct hg_batch *b, struct hg_nl *nl, uint32_t genid);
/* Room for one more message (at least 128 KiB), or NULL when out of memory. */
char *hg_batch_tail(struct hg_batch *b);
uint32_t hg_batch_seq(struct hg_batch *b);
/* Accounts for the message just built at hg_batch_tail(). */
void hg_batch_add(struct hg_batch *b, struct nlmsghdr *nlh, int set_key,
		  const char *fmt, ...) HG_PRINTF(4, 5);
void hg_batch_free(struct hg_batch *b);
/*
 * Ends the batch and sends it in one sendmsg().  commit=false leaves out
 * BATCH_END, so the kernel checks every message and then aborts.
 * Returns 0 when committed (or, without commit, when valid), -ERESTART when
 * the generation moved, or the first error of the lowest message, named.
 */
int hg_batch_send(struct hg_nl *nl, struct hg_batch *b, bool commit, struct hg_error *err);

/*
 * One generation-guarded transaction, written once for apply and edits:
 * plan() reads what it needs, begins the batch with the generation it read
 * at (hg_batch_begin) and fills it, returning the number of changes (0:
 * nothing to send) or a negative errno with err filled.  The batch is sent;
 * when the ruleset moved in between (-ERESTART) it reads and plans again,
 * at most HG_TXN_ATTEMPTS times, then fails with -EBUSY.  Returns the number
 * of changes committed, 0, or a negative errno with err filled.
 */
#define HG_TXN_ATTEMPTS 10
typedef int (*hg_plan_fn)(struct hg_nl *nl, struct hg_batch *b, void *data, struct hg_error *err);
int hg_transact(struct hg_nl *nl, hg_plan_fn plan, void *data, struct hg_error *err);

/* The set element at offset off (an extended ack's NLMSGERR_ATTR_OFFS) of
 * the message rec records, as " 8080", " 'br-' (interval end)", " 1001";
 * "" when off is out of range or not at an element.  (Kernel-free.) */
void hg_describe_elem(const struct hg_batch *b, const struct hg_msgrec *rec, uint32_t off,
		      char *out, size_t outlen);

/* Sends a request and runs cb over the replies; -EINTR when a dump was
 * interrupted by a concurrent change (restart it). */
int hg_nl_query(struct hg_nl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data);
int hg_nl_genid(struct hg_nl *nl, uint32_t *ret);
/* hg_nl_genid(), and with it, in one sendmsg(), a GETSET of set: the
 * kernel answers one after the other.  The set's answer is kept for
 * hg_nl_take_set() until the next request on nl (an edit of that set
 * asks for it next).  Errors are the generation's. */
int hg_nl_genid_with_set(struct hg_nl *nl, const char *set, uint32_t *ret);
/* The answer hg_nl_genid_with_set() kept for set, run through cb: 0 or
 * the kernel's error, *taken true; *taken false when there is none. */
int hg_nl_take_set(struct hg_nl *nl, const char *set, mnl_cb_t cb, void *data, bool *taken);
/* The generation a transaction plans on: the one the previous request on
 * nl read when that was a GETGEN and nothing was asked since (a caller
 * that read it a moment ago, such as the CLI's record), else read now.
 * An older generation than the kernel's only makes the guard of the
 * batch fail, and hg_transact plans again. */
int hg_nl_plan_genid(struct hg_nl *nl, uint32_t *ret);
uint32_t hg_nl_next_seq(struct hg_nl *nl);

/* Same message for EPERM everywhere. */
int hg_err_perm(struct hg_error *err);

#endif
