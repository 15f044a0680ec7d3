/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <stdio.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/common.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nl.h"

#define MSG_ROOM (128u * 1024u)   /* > the 64 KiB a single message can be */
#define RECV_SIZE (64u * 1024u)

/* The first socket's answer buffer and the first batch's buffer are
 * static: see rbuf_get() and hg_batch_tail().  Their flags say "free" with
 * 1, so that they live in .data, on a page the loader has written already,
 * not on a page of .bss of their own (a page fault each). */
static char first_rbuf[RECV_SIZE] __attribute__((aligned(4096)));
static atomic_int first_rbuf_free = 1;
static atomic_int first_buf_free = 1;

int hg_err_perm(struct hg_error *err)
{
	return hg_err(err, -EPERM, "permission denied: this needs root or CAP_NET_ADMIN");
}

HG_EXPORT int hg_nl_open(struct hg_nl **ret, struct hg_error *err)
{
	struct hg_nl *nl;
	int one = 1;

	if (!ret)
		return hg_err(err, -EINVAL, "invalid argument");
	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return hg_err(err, -ENOMEM, "out of memory");
	nl->sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl->sock) {
		int e = errno;
		free(nl);
		return hg_err(err, -e, "cannot open a netfilter netlink socket: %s", strerror(e));
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;
		mnl_socket_close(nl->sock);
		free(nl);
		return hg_err(err, -e, "cannot bind the netlink socket: %s", strerror(e));
	}
	/* Extended ack names the attribute the kernel refused; capped acks do
	 * not echo our (possibly large) request back. Both are best effort. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->portid = mnl_socket_get_portid(nl->sock);
	/* Answers are matched by our port id and the sequence number, so
	 * numbering starts at 1 on each socket: not at time(NULL) << 8, which
	 * could sit a few numbers short of 2^32 and wrap inside a batch (whose
	 * messages are looked up by ascending number), and whose first call
	 * faulted in the vDSO's data page, in every edit. */
	nl->seq = 0;
	*ret = nl;
	return 0;
}

HG_EXPORT void hg_nl_close(struct hg_nl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sock);
	if (nl->rbuf == first_rbuf)
		atomic_store(&first_rbuf_free, 1);
	else
		free(nl->rbuf);
	free(nl);
}

/* The socket's buffer for answers (RECV_SIZE), allocated once: a malloc()
 * of 64 KiB per request touched a fresh heap page or two each time, and a
 * page fault is what a small edit costs most.  A caller that reads while
 * another read is under way (none does) gets a buffer of its own. */
static char *rbuf_get(struct hg_nl *nl)
{
	/* a new request: what a GETSET left in the buffer goes */
	nl->pre.ok = false;
	if (nl->rbuf_busy)
		return malloc(RECV_SIZE);
	if (!nl->rbuf)
		nl->rbuf = atomic_exchange(&first_rbuf_free, 0) ? first_rbuf : malloc(RECV_SIZE);
	nl->rbuf_busy = nl->rbuf != NULL;
	return nl->rbuf;
}

static void rbuf_put(struct hg_nl *nl, char *buf)
{
	if (buf && buf == nl->rbuf)
		nl->rbuf_busy = false;
	else
		free(buf);
}

uint32_t hg_nl_next_seq(struct hg_nl *nl)
{
	return ++nl->seq;
}

/* ---- batches ------------------------------------------------------------------ */

/* The first buffer of a batch, when no other batch has it: static, zero
 * like calloc's, and zeroed again as far as it was written when the batch
 * lets it go.  A one-element edit's batch is 200 bytes; a fresh 512 KiB
 * of calloc is an mmap() and an munmap() around its page faults, a tenth
 * of what such an edit costs. */
static char first_buf[4 * MSG_ROOM] __attribute__((aligned(65536)));

static void batch_buf_release(struct hg_batch *b)
{
	size_t used = b->dirty > b->len ? b->dirty : b->len;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (b->buf != first_buf) {
		free(b->buf);
		return;
	}
	/* a large batch wrote much of it: give the pages back (they read
	 * as zero again), as free() gave back calloc's mapping */
	if (used <= 65536 || page > 65536 ||
	    madvise(first_buf, (used + page - 1) / page * page, MADV_DONTNEED) < 0)
		memset(first_buf, 0, used);
	atomic_store(&first_buf_free, 1);
}

char *hg_batch_tail(struct hg_batch *b)
{
	if (b->oom)
		return NULL;
	if (!b->cap && atomic_exchange(&first_buf_free, 0)) {
		b->buf = first_buf;
		b->cap = sizeof(first_buf);
	}
	if (b->cap - b->len < MSG_ROOM) {
		size_t cap = b->cap ? b->cap * 2 : 4 * MSG_ROOM;
		char *nb;
		while (cap - b->len < MSG_ROOM)
			cap *= 2;
		/* zeroed: fresh pages from calloc cost nothing until written */
		nb = calloc(1, cap);
		if (!nb) {
			b->oom = true;
			return NULL;
		}
		if (b->len)
			memcpy(nb, b->buf, b->len);
		batch_buf_release(b);
		b->buf = nb;
		b->cap = cap;
		b->dirty = b->len;
	}
	/* libmnl 1.0.4 leaves attribute padding as it finds it: what lies
	 * past the messages must be zero.  It is, but for what a message
	 * built here and never added may have written (< 64 KiB: nla_len is
	 * 16 bits); zero that, not 64 KiB for every message (16 pages
	 * faulted in for a one-element edit). */
	if (b->dirty > b->len)
		memset(b->buf + b->len, 0, b->dirty - b->len);
	b->dirty = b->len + 65536 < b->cap ? b->len + 65536 : b->cap;
	return b->buf + b->len;
}

uint32_t hg_batch_seq(struct hg_batch *b)
{
	return b->next_seq++;
}

void hg_batch_add(struct hg_batch *b, struct nlmsghdr *nlh, int set_key, const char *fmt, ...)
{
	struct hg_msgrec *r;
	va_list ap;

	if (b->n_rec == b->cap_rec) {
		size_t cap = b->cap_rec ? b->cap_rec * 2 : 8;
		struct hg_msgrec *nr = realloc(b->rec, cap * sizeof(*nr));
		if (!nr) {
			b->oom = true;
			return;
		}
		b->rec = nr;
		b->cap_rec = cap;
	}
	r = &b->rec[b->n_rec++];
	r->seq = nlh->nlmsg_seq;
	r->off = b->len;
	r->set_key = set_key;
	va_start(ap, fmt);
	vsnprintf(r->what, sizeof(r->what), fmt, ap);
	va_end(ap);
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	/* the message ended there: nothing past it was written */
	b->dirty = b->len;
}

int hg_batch_begin(struct hg_batch *b, struct hg_nl *nl, uint32_t genid)
{
	struct nlmsghdr *nlh;
	char *at;

	memset(b, 0, sizeof(*b));
	b->genid = genid;
	b->next_seq = nl->seq + 1;
	at = hg_batch_tail(b);
	if (!at)
		return -ENOMEM;
	b->seq_begin = hg_batch_seq(b);
	nlh = nftnl_batch_begin(at, b->seq_begin);
	if (genid)
		mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
	hg_batch_add(b, nlh, -1, "transaction");
	return b->oom ? -ENOMEM : 0;
}

void hg_batch_free(struct hg_batch *b)
{
	batch_buf_release(b);
	free(b->rec);
	memset(b, 0, sizeof(*b));
}

static const struct hg_msgrec *find_rec(const struct hg_batch *b, uint32_t seq)
{
	size_t lo = 0, hi = b->n_rec;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (b->rec[mid].seq == seq)
			return &b->rec[mid];
		if (b->rec[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Renders the set element the extended ack points at, if it does.  The
 * offset comes from the kernel: it is checked against the message without
 * overflowing, and must land on an attribute boundary. */
void hg_describe_elem(const struct hg_batch *b, const struct hg_msgrec *rec, uint32_t off,
		      char *out, size_t outlen)
{
	const struct nlmsghdr *nlh = (const void *)(b->buf + rec->off);
	const struct hg_setdef *d;
	const struct nlattr *a, *k = NULL, *v = NULL, *f = NULL, *x;
	const unsigned char *p;
	uint32_t flags = 0;

	out[0] = '\0';
	if (rec->set_key < 0 || rec->set_key >= HG_KEY_MAX || !hg_setdefs[rec->set_key].key_len)
		return;
	d = &hg_setdefs[rec->set_key];
	if (off < sizeof(*nlh) + sizeof(struct nfgenmsg) || off % NLA_ALIGNTO ||
	    off > nlh->nlmsg_len || nlh->nlmsg_len - off < sizeof(*a))
		return;
	a = (const void *)((const char *)nlh + off);
	/* libnftnl numbers element nests 1, 2, ... rather than NFTA_LIST_ELEM:
	 * trust the structure, not the type */
	if (a->nla_len < sizeof(*a) || a->nla_len > nlh->nlmsg_len - off || !(a->nla_type & NLA_F_NESTED))
		return;
	mnl_attr_for_each_nested(x, a) {
		if (mnl_attr_get_type(x) == NFTA_SET_ELEM_KEY)
			k = x;
		else if (mnl_attr_get_type(x) == NFTA_SET_ELEM_FLAGS)
			f = x;
	}
	if (!k)
		return;
	mnl_attr_for_each_nested(x, k)
		if (mnl_attr_get_type(x) == NFTA_DATA_VALUE)
			v = x;
	if (!v || mnl_attr_get_payload_len(v) != d->key_len)
		return;
	if (f && mnl_attr_get_payload_len(f) == sizeof(uint32_t))
		flags = ntohl(mnl_attr_get_u32(f));
	p = mnl_attr_get_payload(v);
	if (d->key_type == HG_TYPE_IFNAME) {
		snprintf(out, outlen, " '%.16s'%s", (const char *)p,
			 flags & NFT_SET_ELEM_INTERVAL_END ? " (interval end)" : "");
	} else if (d->key_len == 2) {
		snprintf(out, outlen, " %u%s", (unsigned)(p[0] << 8 | p[1]),
			 flags & NFT_SET_ELEM_INTERVAL_END ? " (interval end)" : "");
	} else {
		uint32_t u;
		memcpy(&u, p, 4);
		snprintf(out, outlen, " %u", u);
	}
}

/* strerror() speaks of files; these are what the errors mean for a ruleset */
static const char *kernel_strerror(int e)
{
	switch (e) {
	case ENFILE: return "the set is full";
	case EEXIST: return "it exists already or overlaps an existing element";
	case ENOENT: return "no such object";
	case EBUSY: return "the object is in use";
	case EOPNOTSUPP: return "not supported by this kernel";
	case E2BIG: return "too large";
	default: return strerror(e);
	}
}

struct batch_result {
	bool committed;
	int err;                  /* error of the lowest failing seq */
	uint32_t err_seq;
	uint32_t err_off;
	uint32_t n_errors;
};

static int parse_extack(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_OFFS &&
	    mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
		*(uint32_t *)data = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static void handle_reply(const struct hg_batch *b, const struct nlmsghdr *nlh,
			 struct batch_result *res)
{
	const struct nlmsgerr *e;
	uint32_t off = 0;

	if (nlh->nlmsg_type != NLMSG_ERROR ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
		return;
	e = mnl_nlmsg_get_payload(nlh);
	if (e->error == 0) {
		if (nlh->nlmsg_seq == b->seq_end)
			res->committed = true;
		return;
	}
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		size_t skip = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			skip += e->msg.nlmsg_len - sizeof(e->msg);
		if (NLMSG_LENGTH(skip) <= nlh->nlmsg_len)
			mnl_attr_parse(nlh, (unsigned)skip, parse_extack, &off);
	}
	res->n_errors++;
	/* The kernel goes on after the first error; later ones are mostly
	 * consequences of it, so the lowest seq is the one to report. */
	if (!res->err || nlh->nlmsg_seq < res->err_seq) {
		res->err = e->error;
		res->err_seq = nlh->nlmsg_seq;
		res->err_off = off;
	}
}

/* need: bytes to send; msgs: messages, each of which may be answered
 * (an error is an skb of its own: ~1 KiB of receive buffer each) */
static int raise_buffers(struct hg_nl *nl, size_t len, size_t msgs)
{
	int fd = mnl_socket_get_fd(nl->sock);
	size_t need = len + 65536;
	int v;

	/* a few messages in a page fit any send buffer (SOCK_MIN_SNDBUF is
	 * more than 4 KiB) and their answers any receive buffer */
	if (len <= 4096 && msgs <= 64)
		return 0;
	/* the buffers as they are (net.core.wmem_default), asked once: a
	 * batch that fits them needs no two system calls to raise them */
	if (!nl->sndbuf_asked) {
		socklen_t l = sizeof(v);
		nl->sndbuf_asked = true;
		if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &l) == 0 && v > 64 * 1024)
			nl->sndbuf = (size_t)v - 64;     /* netlink keeps 32 bytes of it */
	}
	if (need <= nl->sndbuf && (msgs <= 64 || nl->raised))
		return 0;
	if (need < nl->sndbuf)
		need = nl->sndbuf;
	if (need > INT32_MAX / 2)
		return -EMSGSIZE;
	/* The whole batch must fit the socket send buffer: netlink refuses a
	 * message larger than it.  FORCE needs CAP_NET_ADMIN, which writing
	 * the ruleset needs anyway; without it fall back to the plain limit. */
	v = (int)need;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	v = (int)(need / 4 > 1u << 20 ? need / 4 : 1u << 20);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	nl->sndbuf = need;
	nl->raised = true;
	return 0;
}

int hg_batch_send(struct hg_nl *nl, struct hg_batch *b, bool commit, struct hg_error *err)
{
	struct batch_result res = { 0 };
	struct nlmsghdr *nlh;
	char *rbuf = NULL;
	char *at;
	int r = 0;

	if (commit) {
		at = hg_batch_tail(b);
		if (!at)
			return hg_err(err, -ENOMEM, "out of memory");
		b->seq_end = hg_batch_seq(b);
		nlh = nftnl_batch_end(at, b->seq_end);
		/* An ack on END only: it arrives if and only if the commit
		 * succeeded, which ends the read loop with certainty. */
		nlh->nlmsg_flags |= NLM_F_ACK;
		hg_batch_add(b, nlh, -1, "commit");
	}
	if (b->oom)
		return hg_err(err, -ENOMEM, "out of memory");
	nl->seq = b->next_seq;

	nl->last_genid_ok = false;
	r = raise_buffers(nl, b->len, b->n_rec);
	if (r < 0)
		return hg_err(err, r, "transaction of %zu bytes is too large", b->len);

	struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
	struct iovec iov = { b->buf, b->len };
	struct msghdr m = { .msg_name = &snl, .msg_namelen = sizeof(snl), .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	/* the buffer for the answers before the batch goes: once it is sent,
	 * its outcome must be read */
	rbuf = rbuf_get(nl);
	if (!rbuf)
		return hg_err(err, -ENOMEM, "out of memory");
	do
		n = sendmsg(mnl_socket_get_fd(nl->sock), &m, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;
		rbuf_put(nl, rbuf);
		if (e == EPERM)
			return hg_err_perm(err);
		return hg_err(err, -e, "cannot send the transaction (%zu bytes): %s", b->len,
			      strerror(e));
	}

	/* The kernel ran the whole batch inside sendmsg(): every reply is
	 * already queued, so read until the queue is empty. */
	for (;;) {
		n = recv(mnl_socket_get_fd(nl->sock), rbuf, RECV_SIZE, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			r = hg_err(err, -errno, "cannot read the kernel's reply: %s", strerror(errno));
			goto out;
		}
		for (nlh = (struct nlmsghdr *)rbuf; mnl_nlmsg_ok(nlh, (int)n);
		     nlh = mnl_nlmsg_next(nlh, (int *)&n))
			handle_reply(b, nlh, &res);
		/* END's ack is the last answer of a batch that committed */
		if (res.committed)
			break;
	}

	if (res.err) {
		const struct hg_msgrec *rec = find_rec(b, res.err_seq);
		char elem[64] = "";
		int e = res.err;

		if (e == -EPERM) {
			r = hg_err_perm(err);
			goto out;
		}
		if (e == -ERESTART && res.err_seq == b->seq_begin) {
			r = hg_err(err, -ERESTART, "the ruleset changed during the transaction");
			goto out;
		}
		if (rec && rec->set_key >= 0 && res.err_off)
			hg_describe_elem(b, rec, res.err_off, elem, sizeof(elem));
		r = hg_err(err, e, "kernel refused %s%s%s: %s%s",
			   rec ? rec->what : "the transaction", elem[0] ? ": element" : "", elem,
			   kernel_strerror(-e),
			   res.n_errors > 1 ? " (and more errors after it, nothing was applied)"
					    : " (nothing was applied)");
		goto out;
	}
	if (commit && !res.committed)
		r = hg_err(err, -EPROTO, "the kernel did not confirm the transaction");
out:
	rbuf_put(nl, rbuf);
	return r;
}

/* ---- queries and dumps ------------------------------------------------------ */

/* A GET of one generation, table, set or chain has exactly one answer: the
 * object, or an error.  Without NLM_F_ACK there is no second message to
 * read after it.  A GETSETELEM answers once per key it names: a caller
 * that names one key asks without NLM_F_ACK (hg_set_has_key). */
static bool one_answer(const struct nlmsghdr *req)
{
	uint16_t t = NFNL_MSG_TYPE(req->nlmsg_type);

	return !(req->nlmsg_flags & NLM_F_DUMP) &&
	       (t == NFT_MSG_GETGEN || t == NFT_MSG_GETTABLE || t == NFT_MSG_GETSET ||
		t == NFT_MSG_GETCHAIN || !(req->nlmsg_flags & NLM_F_ACK));
}

int hg_nl_query(struct hg_nl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	bool one = one_answer(req);
	char *buf;
	ssize_t n;
	int r;

	nl->last_genid_ok = false;
	if (one)
		req->nlmsg_flags &= (uint16_t)~NLM_F_ACK;
	/* the buffer first: once the request is out, its answer must be read */
	buf = rbuf_get(nl);
	if (!buf)
		return -ENOMEM;
	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0) {
		r = -errno;
		rbuf_put(nl, buf);
		return r;
	}
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, buf, RECV_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		r = mnl_cb_run(buf, (size_t)n, req->nlmsg_seq, nl->portid, cb, data);
		if (r < 0) {
			r = -errno;
			break;
		}
		if (r == MNL_CB_STOP || one) {
			r = 0;
			break;
		}
	}
	/* An interrupted dump, or an error while one was under way, leaves
	 * the rest of it queued; drain it so the next request starts clean.
	 * A request of one answer has none left once its error is read,
	 * unless what was read was not its answer (libmnl: EPROTO, ESRCH). */
	if (r < 0 && (!one || r == -EPROTO || r == -ESRCH))
		while (recv(mnl_socket_get_fd(nl->sock), buf, RECV_SIZE, MSG_DONTWAIT) > 0)
			;
	rbuf_put(nl, buf);
	return r;
}

/* NFTA_GEN_ID, read with libmnl alone */
static int gen_attr_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == NFTA_GEN_ID && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		*(uint32_t *)data = ntohl(mnl_attr_get_u32(a));
	return MNL_CB_OK;
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct nfgenmsg), gen_attr_cb, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

int hg_nl_genid(struct hg_nl *nl, uint32_t *ret)
{
	char buf[256] = { 0 };
	struct nlmsghdr *nlh;
	uint32_t gen = 0;
	int r;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK,
				    hg_nl_next_seq(nl));
	r = hg_nl_query(nl, nlh, gen_cb, &gen);
	if (r < 0)
		return r;
	nl->last_genid = gen;
	nl->last_genid_ok = true;
	*ret = gen;
	return 0;
}

int hg_nl_genid_with_set(struct hg_nl *nl, const char *set, uint32_t *ret)
{
	char req[512] = { 0 }, *buf;
	struct nlmsghdr *gen, *get;
	uint32_t g = 0;
	ssize_t n;
	int r = 0;

	if (strlen(set) >= sizeof(nl->pre.set))
		return hg_nl_genid(nl, ret);
	gen = nftnl_nlmsg_build_hdr(req, NFT_MSG_GETGEN, AF_UNSPEC, 0, hg_nl_next_seq(nl));
	get = nftnl_nlmsg_build_hdr(req + NLMSG_ALIGN(gen->nlmsg_len), NFT_MSG_GETSET, NFPROTO_INET, 0,
				    hg_nl_next_seq(nl));
	mnl_attr_put_strz(get, NFTA_SET_TABLE, HG_TABLE_NAME);
	mnl_attr_put_strz(get, NFTA_SET_NAME, set);
	nl->last_genid_ok = false;
	buf = rbuf_get(nl);
	if (!buf)
		return -ENOMEM;
	/* two requests of one answer each (no NLM_F_ACK) in one datagram:
	 * the kernel answers them in turn inside sendto() */
	if (mnl_socket_sendto(nl->sock, req, NLMSG_ALIGN(gen->nlmsg_len) + get->nlmsg_len) < 0)
		r = -errno;
	for (int i = 0; r == 0 && i < 2; i++) {
		do
			n = recv(mnl_socket_get_fd(nl->sock), buf, RECV_SIZE, MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			r = -errno;
		else if (i == 0 && mnl_cb_run(buf, (size_t)n, gen->nlmsg_seq, nl->portid, gen_cb, &g) < 0)
			r = -errno;
		else if (i == 1) {
			/* the set's answer stays in the buffer, for hg_nl_take_set */
			nl->pre.len = (size_t)n;
			nl->pre.seq = get->nlmsg_seq;
			nl->pre.err = mnl_cb_run(buf, (size_t)n, get->nlmsg_seq, nl->portid, NULL, NULL) < 0 ? -errno : 0;
			strcpy(nl->pre.set, set);
		}
	}
	if (r < 0) {
		/* whatever went wrong (a receive buffer too small for both
		 * answers drops the second: ENOBUFS), the plain way tells */
		while (recv(mnl_socket_get_fd(nl->sock), buf, RECV_SIZE, MSG_DONTWAIT) > 0)
			;
		rbuf_put(nl, buf);
		return hg_nl_genid(nl, ret);
	}
	rbuf_put(nl, buf);
	/* kept from now on: rbuf_put() leaves the buffer as it is */
	nl->pre.ok = buf == nl->rbuf && (nl->pre.err == 0 || nl->pre.err == -ENOENT);
	nl->last_genid = g;
	nl->last_genid_ok = true;
	*ret = g;
	return 0;
}

int hg_nl_take_set(struct hg_nl *nl, const char *set, mnl_cb_t cb, void *data, bool *taken)
{
	*taken = nl->pre.ok && strcmp(nl->pre.set, set) == 0;
	if (!*taken)
		return 0;
	nl->pre.ok = false;
	if (nl->pre.err)
		return nl->pre.err;
	return mnl_cb_run(nl->rbuf, nl->pre.len, nl->pre.seq, nl->portid, cb, data) < 0 ? -errno : 0;
}

int hg_nl_plan_genid(struct hg_nl *nl, uint32_t *ret)
{
	if (nl->last_genid_ok) {
		nl->last_genid_ok = false;
		*ret = nl->last_genid;
		return 0;
	}
	return hg_nl_genid(nl, ret);
}

int hg_transact(struct hg_nl *nl, hg_plan_fn plan, void *data, struct hg_error *err)
{
	int r = -ERESTART;

	nl->committed_genid = 0;
	for (int attempt = 0; attempt < HG_TXN_ATTEMPTS; attempt++) {
		struct hg_batch b = { 0 };
		int changes = plan(nl, &b, data, err);
		uint32_t guard;

		if (changes <= 0) {
			hg_batch_free(&b);
			return changes;
		}
		guard = b.genid;
		r = hg_batch_send(nl, &b, true, err);
		hg_batch_free(&b);
		if (r == 0) {
			/* the guard held, so this commit was the next one: the
			 * kernel's base_seq + 1, skipping 0 */
			if (guard)
				nl->committed_genid = guard + 1 ? guard + 1 : 1;
			return changes;
		}
		if (r != -ERESTART)
			return r;
	}
	return hg_err(err, -EBUSY, "the ruleset kept changing; gave up after %d attempts",
		      HG_TXN_ATTEMPTS);
}
