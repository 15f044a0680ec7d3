/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Watching denied packets: the table's log rules send each dropped packet to
 * an NFLOG group; this reads them with libmnl alone.
 *
 * Times: the kernel sends each logged packet at once (queue threshold 1,
 * flush timeout 100 ms as a backstop) and stamps packets of the input hook
 * (ingress_local) with their receive time (NFULA_TIMESTAMP; the socket
 * enables kernel timestamping with SO_TIMESTAMP).  Packets of postrouting
 * (egress) carry no timestamp since Linux 5.18: their time is when they
 * were received, milliseconds later.  Unbinding the group flushes the
 * kernel's queue to us ahead of the acknowledgement, so stopping loses
 * nothing.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <libmnl/libmnl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include "state.h"

#define WATCH_BUF 65536

struct hg_watch {
	struct mnl_socket *sock;
	uint16_t group;
	unsigned flags;
	uint32_t seq;
	char *buf;
	size_t len, off;          /* received bytes, next message */
	bool stopping, done;
	uint32_t stop_seq;
	/* HG_WATCH_GRANTS: the grant sets as of generation genid */
	struct hg_nl *nl;
	struct hg_state *grants;
	uint32_t genid;
	uint64_t read_ms;         /* CLOCK_MONOTONIC when they were read */
};

HG_EXPORT const char *hg_chain_name(enum hg_chain chain)
{
	return (unsigned)chain < HG_CHAIN_MAX ? hg_chain_names[chain] : NULL;
}

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A config request for the group: bind (with copy mode, queue threshold 1
 * and a 100 ms flush timeout) or unbind.  Returns its sequence number. */
static int send_config(struct hg_watch *w, uint8_t cmd, uint32_t *ret_seq)
{
	char buf[512] = { 0 };
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfulnl_msg_config_cmd c = { .command = cmd };
	struct nfgenmsg *g;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++w->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(w->group);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(c), &c);
	if (cmd == NFULNL_CFG_CMD_BIND) {
		/* headers are enough for addresses and ports */
		struct nfulnl_msg_config_mode m = { .copy_range = htonl(256),
						    .copy_mode = NFULNL_COPY_PACKET };
		mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(m), &m);
		/* each packet is sent at once, the queue flushed every 100 ms */
		mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
		mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(10));
	}
	if (mnl_socket_sendto(w->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	*ret_seq = nlh->nlmsg_seq;
	return 0;
}

/* Receives one datagram into w->buf.  Only the kernel's messages count: a
 * datagram from another socket is dropped. */
static int receive(struct hg_watch *w)
{
	struct sockaddr_nl from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(mnl_socket_get_fd(w->sock), w->buf, WATCH_BUF, 0,
			     (struct sockaddr *)&from, &fl);

	w->len = w->off = 0;
	if (n < 0)
		return -errno;
	if (fl == sizeof(from) && from.nl_pid == 0)
		w->len = (size_t)n;
	return 0;
}

/* The next message of the datagram in w->buf, or NULL. */
static const struct nlmsghdr *next_msg(struct hg_watch *w)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)(w->buf + w->off);
	int rem = (int)(w->len - w->off);

	if (w->off >= w->len || !mnl_nlmsg_ok(nlh, rem)) {
		w->off = w->len;
		return NULL;
	}
	w->off += NLMSG_ALIGN(nlh->nlmsg_len);
	if (w->off > w->len)
		w->off = w->len;
	return nlh;
}

/* The error of the acknowledgement of seq: 1 while it has not come. */
static int ack_of(const struct nlmsghdr *nlh, uint32_t seq)
{
	const struct nlmsgerr *e;

	if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq != seq ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*e))
		return 1;
	e = mnl_nlmsg_get_payload(nlh);
	return e->error;
}

HG_EXPORT int hg_watch_open(uint16_t group, unsigned flags, struct hg_watch **ret,
			    struct hg_error *err)
{
	struct hg_watch *w;
	uint32_t seq;
	int r;

	if (!ret || (flags & ~HG_WATCH_GRANTS))
		return hg_err(err, -EINVAL, "invalid argument");
	w = calloc(1, sizeof(*w));
	if (!w || !(w->buf = malloc(WATCH_BUF))) {
		free(w);
		return hg_err(err, -ENOMEM, "out of memory");
	}
	w->group = group;
	w->flags = flags;
	w->seq = (uint32_t)time(NULL);
	w->sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!w->sock || mnl_socket_bind(w->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;
		r = hg_err(err, -e, "cannot open a netfilter socket: %s", strerror(e));
		goto fail;
	}
	/* turns on the kernel's receive timestamps (net_enable_timestamp), so
	 * that packets of the input hook come with NFULA_TIMESTAMP */
	setsockopt(mnl_socket_get_fd(w->sock), SOL_SOCKET, SO_TIMESTAMP, &(int){ 1 }, sizeof(int));
	/* room for a burst (each event is sent at once): 4 MiB, more than
	 * rmem_max allows, which CAP_NET_ADMIN may */
	if (setsockopt(mnl_socket_get_fd(w->sock), SOL_SOCKET, SO_RCVBUFFORCE, &(int){ 4 << 20 },
		       sizeof(int)) < 0)
		setsockopt(mnl_socket_get_fd(w->sock), SOL_SOCKET, SO_RCVBUF, &(int){ 4 << 20 },
			   sizeof(int));
	r = send_config(w, NFULNL_CFG_CMD_BIND, &seq);
	/* packets that come ahead of the acknowledgement were logged
	 * before this watcher asked: they are not its events */
	for (r = r < 0 ? r : 1; r == 1;) {
		const struct nlmsghdr *nlh;
		int e = receive(w);

		if (e == -EINTR)
			continue;
		if (e < 0)
			r = e;
		while (r == 1 && (nlh = next_msg(w)))
			r = ack_of(nlh, seq);
	}
	w->len = w->off = 0;
	if (r == -EPERM || r == -EBUSY) {
		r = hg_err(err, r, "NFLOG group %u is already bound by another listener (or CAP_NET_ADMIN is missing)",
			   group);
		goto fail;
	} else if (r < 0) {
		r = hg_err(err, r, "cannot bind NFLOG group %u: %s", group, strerror(-r));
		goto fail;
	}
	*ret = w;
	return 0;
fail:
	if (w->sock)
		mnl_socket_close(w->sock);
	free(w->buf);
	free(w);
	return r;
}

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int t = mnl_attr_get_type(a);

	if (t <= NFULA_MAX)
		tb[t] = a;
	return MNL_CB_OK;
}

static void parse_l4(struct hg_watch_event *ev, const uint8_t *p, size_t len)
{
	if ((ev->proto == IPPROTO_TCP || ev->proto == IPPROTO_UDP) && len >= 4) {
		ev->sport = p[0] << 8 | p[1];
		ev->dport = p[2] << 8 | p[3];
	} else if ((ev->proto == IPPROTO_ICMP || ev->proto == IPPROTO_ICMPV6) && len >= 1) {
		ev->icmp_type = p[0];
	}
}

static void parse_payload(struct hg_watch_event *ev, const uint8_t *p, size_t len)
{
	if (ev->family == AF_INET && len >= 20) {
		size_t ihl = (size_t)(p[0] & 0x0f) * 4;
		memcpy(ev->saddr, p + 12, 4);
		memcpy(ev->daddr, p + 16, 4);
		inet_ntop(AF_INET, p + 12, ev->src, sizeof(ev->src));
		inet_ntop(AF_INET, p + 16, ev->dst, sizeof(ev->dst));
		ev->proto = p[9];
		if (ihl >= 20 && ihl <= len)
			parse_l4(ev, p + ihl, len - ihl);
	} else if (ev->family == AF_INET6 && len >= 40) {
		memcpy(ev->saddr, p + 8, 16);
		memcpy(ev->daddr, p + 24, 16);
		inet_ntop(AF_INET6, p + 8, ev->src, sizeof(ev->src));
		inet_ntop(AF_INET6, p + 24, ev->dst, sizeof(ev->dst));
		ev->proto = p[6];
		parse_l4(ev, p + 40, len - 40);
	}
}

int hg_watch_parse(const struct nlmsghdr *nlh, struct hg_watch_event *ev)
{
	const struct nlattr *tb[NFULA_MAX + 1] = { 0 };
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const char *prefix;

	if (nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET) ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*g) ||
	    mnl_attr_parse(nlh, sizeof(*g), attr_cb, tb) < 0 || !tb[NFULA_PREFIX] ||
	    mnl_attr_validate(tb[NFULA_PREFIX], MNL_TYPE_NUL_STRING) < 0)
		return -1;
	memset(ev, 0, sizeof(*ev));
	ev->proto = ev->sport = ev->dport = ev->icmp_type = -1;
	prefix = mnl_attr_get_str(tb[NFULA_PREFIX]);
	if (strcmp(prefix, HG_LOG_PREFIX_EGRESS) == 0)
		ev->chain = HG_CHAIN_EGRESS;
	else if (strcmp(prefix, HG_LOG_PREFIX_INGRESS) == 0)
		ev->chain = HG_CHAIN_INGRESS;
	else
		return -1;
	ev->family = g->nfgen_family;
	if (tb[NFULA_UID] && mnl_attr_get_payload_len(tb[NFULA_UID]) == 4) {
		ev->has_uid = true;
		ev->uid = ntohl(mnl_attr_get_u32(tb[NFULA_UID]));
	}
	if (tb[NFULA_GID] && mnl_attr_get_payload_len(tb[NFULA_GID]) == 4) {
		ev->has_gid = true;
		ev->gid = ntohl(mnl_attr_get_u32(tb[NFULA_GID]));
	}
	if (tb[NFULA_IFINDEX_INDEV] && mnl_attr_get_payload_len(tb[NFULA_IFINDEX_INDEV]) == 4)
		ev->indev = ntohl(mnl_attr_get_u32(tb[NFULA_IFINDEX_INDEV]));
	if (tb[NFULA_IFINDEX_OUTDEV] && mnl_attr_get_payload_len(tb[NFULA_IFINDEX_OUTDEV]) == 4)
		ev->outdev = ntohl(mnl_attr_get_u32(tb[NFULA_IFINDEX_OUTDEV]));
	if (tb[NFULA_PAYLOAD])
		parse_payload(ev, mnl_attr_get_payload(tb[NFULA_PAYLOAD]),
			      mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]));
	if (tb[NFULA_TIMESTAMP] &&
	    mnl_attr_get_payload_len(tb[NFULA_TIMESTAMP]) >= sizeof(struct nfulnl_msg_packet_timestamp)) {
		struct nfulnl_msg_packet_timestamp t;
		memcpy(&t, mnl_attr_get_payload(tb[NFULA_TIMESTAMP]), sizeof(t));
		ev->when.tv_sec = (time_t)be64toh(t.sec);
		ev->when.tv_nsec = (long)(be64toh(t.usec) % 1000000) * 1000;
		ev->packet_time = true;
	} else {
		clock_gettime(CLOCK_REALTIME, &ev->when);
	}
	return 0;
}

/* The grant sets, read again when the ruleset generation moved. */
static int grants_refresh(struct hg_watch *w)
{
	uint32_t g1, g2 = 0;
	int r;

	if (!w->nl) {
		r = hg_nl_open(&w->nl, NULL);
		if (r < 0)
			return r;
	}
	r = hg_nl_genid(w->nl, &g1);
	if (r < 0)
		return r;
	if (w->grants && g1 == w->genid)
		return 0;
	hg_state_free(w->grants);
	w->grants = NULL;
	for (int attempt = 0; attempt < 3; attempt++) {
		struct hg_state *s;

		if (attempt && (r = hg_nl_genid(w->nl, &g1)) < 0)
			return r;
		r = hg_state_read_grants(w->nl, &s);
		if (r == 0)
			r = hg_nl_genid(w->nl, &g2);
		else
			s = NULL;
		if (r == 0 && g1 == g2) {
			w->grants = s;
			w->genid = g1;
			w->read_ms = monotonic_ms();
			return 0;
		}
		hg_state_free(s);
		if (r < 0 && r != -EINTR)
			return r;
	}
	return -EAGAIN;
}

static bool in_grant(const struct hg_grant *g, const struct hg_watch_event *ev)
{
	size_t alen = g->v6 ? 16 : 4;

	return ev->dport >= 0 && memcmp(ev->daddr, g->a_lo, alen) >= 0 &&
	       memcmp(ev->daddr, g->a_hi, alen) <= 0 && ev->dport >= g->p_lo && ev->dport <= g->p_hi;
}

static void grants_of(const struct hg_watch *w, int gs, uint32_t id, const struct hg_watch_event *ev,
		      const char **ret_set, unsigned *ret_n, bool *ret_covers)
{
	const struct hg_canon *c = &w->grants->canon;
	uint64_t age = monotonic_ms() - w->read_ms;

	for (size_t i = 0; i < c->ng[gs]; i++) {
		const struct hg_grant *g = &c->g[gs][i];

		/* a runtime grant the kernel has removed since */
		if (g->id != id || (g->timeout_ms && g->expires_ms <= age))
			continue;
		(*ret_n)++;
		*ret_set = hg_gsetdefs[gs].name;
		if (in_grant(g, ev))
			*ret_covers = true;
	}
}

static void annotate_grants(struct hg_watch *w, struct hg_watch_event *ev)
{
	int v6 = ev->family == AF_INET6;

	if (!(w->flags & HG_WATCH_GRANTS) || ev->chain != HG_CHAIN_EGRESS ||
	    (!ev->has_uid && !ev->has_gid) || grants_refresh(w) < 0)
		return;
	ev->grants_known = true;
	if (ev->has_uid)
		grants_of(w, v6, ev->uid, ev, &ev->uid_grant_set, &ev->uid_grants, &ev->uid_covers);
	if (ev->has_gid)
		grants_of(w, 2 + v6, ev->gid, ev, &ev->gid_grant_set, &ev->gid_grants, &ev->gid_covers);
}

HG_EXPORT int hg_watch_next(struct hg_watch *w, struct hg_watch_event *ret, struct hg_error *err)
{
	if (!w || !ret)
		return hg_err(err, -EINVAL, "invalid argument");
	for (;;) {
		const struct nlmsghdr *nlh;
		int r;

		while (!w->done && (nlh = next_msg(w))) {
			struct hg_watch_event ev;

			if (w->stopping && ack_of(nlh, w->stop_seq) != 1) {
				w->done = true;
			} else if (hg_watch_parse(nlh, &ev) == 0) {
				annotate_grants(w, &ev);
				*ret = ev;
				return 1;
			}
		}
		if (w->done)
			return 0;
		r = receive(w);
		if (r == -EINTR)
			return -EINTR;
		if (r == -ENOBUFS)
			return hg_err(err, r, "some events were lost (too many at once)");
		if (r < 0)
			return hg_err(err, r, "cannot read NFLOG group %u: %s", w->group, strerror(-r));
	}
}

HG_EXPORT int hg_watch_stop(struct hg_watch *w, struct hg_error *err)
{
	int r;

	if (!w)
		return hg_err(err, -EINVAL, "invalid argument");
	if (w->stopping)
		return 0;
	r = send_config(w, NFULNL_CFG_CMD_UNBIND, &w->stop_seq);
	if (r < 0) {
		w->done = true;
		return hg_err(err, r, "cannot unbind NFLOG group %u: %s", w->group, strerror(-r));
	}
	w->stopping = true;
	return 0;
}

HG_EXPORT void hg_watch_close(struct hg_watch *w)
{
	uint32_t seq;

	if (!w)
		return;
	if (!w->stopping)
		send_config(w, NFULNL_CFG_CMD_UNBIND, &seq);
	mnl_socket_close(w->sock);
	hg_state_free(w->grants);
	hg_nl_close(w->nl);
	free(w->buf);
	free(w);
}
