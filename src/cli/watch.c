/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * watch: one line per denied attempt, read from the table's NFLOG group with
 * libmnl alone; with --journal one structured journal entry each.
 *
 * Times: the kernel sends each logged packet at once (queue threshold 1,
 * flush timeout 100 ms as a backstop) and stamps packets of the input hook
 * (ingress_local) with their receive time (NFULA_TIMESTAMP; this socket
 * enables kernel timestamping with SO_TIMESTAMP).  Packets of postrouting
 * (egress) carry no timestamp since Linux 5.18: their time is when watch
 * received them, milliseconds later.  On SIGINT/SIGTERM the group is
 * unbound, which flushes the kernel's queue, and every event up to the
 * acknowledgement is printed: the last one is never lost.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <grp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <libmnl/libmnl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int packet_cb(const struct nlmsghdr *nlh, void *data);

/* Binds (with copy mode, queue threshold 1 and a 100 ms flush timeout) or
 * unbinds the group; packets that arrive before the acknowledgement go to
 * packet_cb with ctx. */
static int nflog_config(struct mnl_socket *nl, uint16_t group, uint8_t cmd, bool mode, void *ctx)
{
	char buf[8192] = { 0 };    /* libmnl leaves attribute padding as it finds it */
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;
	struct nfulnl_msg_config_cmd c = { .command = cmd };
	uint32_t seq = (uint32_t)time(NULL);
	ssize_t n;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(group);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(c), &c);
	if (mode) {
		/* headers are enough for addresses and ports */
		struct nfulnl_msg_config_mode m = { .copy_range = htonl(256), .copy_mode = NFULNL_COPY_PACKET };
		mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(m), &m);
		/* each packet is sent at once, the queue flushed every 100 ms */
		mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
		mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(10));
	}
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		int r;
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		r = mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl), ctx ? packet_cb : NULL, ctx);
		if (r < 0)
			return -errno;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

struct event {
	const char *chain;     /* "egress" or "ingress_local" */
	int family;
	bool has_uid, has_gid;
	uint32_t uid, gid, indev, outdev;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	int proto;             /* -1: unknown */
	int sport, dport;      /* -1: none */
	int icmp_type;         /* -1: none */
	struct timespec when;  /* the packet's time, or when it was received */
	bool packet_time;      /* when is the kernel's NFULA_TIMESTAMP */
};

struct watch {
	bool json, journal;
	int journal_fd;                 /* -1: stdout */
	struct sockaddr_un journal_addr;
	/* journal rate limit: at most JOURNAL_RATE entries a second */
	time_t second;
	unsigned in_second, suppressed;
};
#define JOURNAL_RATE 200

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int t = mnl_attr_get_type(a);

	if (t <= NFULA_MAX)
		tb[t] = a;
	return MNL_CB_OK;
}

static void parse_l4(struct event *ev, const uint8_t *p, size_t len)
{
	if ((ev->proto == IPPROTO_TCP || ev->proto == IPPROTO_UDP) && len >= 4) {
		ev->sport = p[0] << 8 | p[1];
		ev->dport = p[2] << 8 | p[3];
	} else if ((ev->proto == IPPROTO_ICMP || ev->proto == IPPROTO_ICMPV6) && len >= 1) {
		ev->icmp_type = p[0];
	}
}

static void parse_payload(struct event *ev, const uint8_t *p, size_t len)
{
	if (ev->family == AF_INET && len >= 20) {
		size_t ihl = (size_t)(p[0] & 0x0f) * 4;
		inet_ntop(AF_INET, p + 12, ev->src, sizeof(ev->src));
		inet_ntop(AF_INET, p + 16, ev->dst, sizeof(ev->dst));
		ev->proto = p[9];
		if (ihl >= 20 && ihl <= len)
			parse_l4(ev, p + ihl, len - ihl);
	} else if (ev->family == AF_INET6 && len >= 40) {
		inet_ntop(AF_INET6, p + 8, ev->src, sizeof(ev->src));
		inet_ntop(AF_INET6, p + 24, ev->dst, sizeof(ev->dst));
		ev->proto = p[6];
		parse_l4(ev, p + 40, len - 40);
	}
}

static const char *proto_name(int proto)
{
	switch (proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	default: return NULL;
	}
}

static void format_time(const struct timespec *ts, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&ts->tv_sec, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec / 1000000);
}

static void journal_event(struct watch *w, const struct event *ev, const char *text);

static void print_event(const struct event *ev, struct watch *w)
{
	char when[64], in[IF_NAMESIZE] = "", out[IF_NAMESIZE] = "";
	bool json = w->json;
	FILE *f = stdout;
	char *text = NULL;
	size_t text_len = 0;
	const struct passwd *pw = ev->has_uid ? getpwuid(ev->uid) : NULL;
	const struct group *gr = ev->has_gid ? getgrgid(ev->gid) : NULL;
	const char *pn = proto_name(ev->proto);
	bool egress = strcmp(ev->chain, "egress") == 0;

	format_time(&ev->when, when, sizeof(when));
	if (ev->indev && !if_indextoname(ev->indev, in))
		snprintf(in, sizeof(in), "#%u", ev->indev);
	if (ev->outdev && !if_indextoname(ev->outdev, out))
		snprintf(out, sizeof(out), "#%u", ev->outdev);

	if (json) {
		printf("{\"time\":\"%s\",\"time_source\":\"%s\",\"direction\":\"%s\",\"chain\":\"%s\",", when,
		       ev->packet_time ? "packet" : "received",
		       egress ? "host_to_container" : "container_to_host", ev->chain);
		if (ev->has_uid) {
			printf("\"uid\":%u,\"user\":", ev->uid);
			if (pw)
				json_str(stdout, pw->pw_name);
			else
				fputs("null", stdout);
		} else {
			fputs("\"uid\":null,\"user\":null", stdout);
		}
		if (ev->has_gid) {
			printf(",\"gid\":%u,\"group\":", ev->gid);
			if (gr)
				json_str(stdout, gr->gr_name);
			else
				fputs("null", stdout);
		} else {
			fputs(",\"gid\":null,\"group\":null", stdout);
		}
		fputs(",\"in\":", stdout);
		if (*in) json_str(stdout, in); else fputs("null", stdout);
		fputs(",\"out\":", stdout);
		if (*out) json_str(stdout, out); else fputs("null", stdout);
		printf(",\"family\":\"%s\",\"protocol\":", ev->family == AF_INET ? "ipv4" : "ipv6");
		if (pn)
			printf("\"%s\"", pn);
		else
			printf("%d", ev->proto);
		printf(",\"src\":\"%s\",\"dst\":\"%s\"", ev->src, ev->dst);
		if (ev->sport >= 0)
			printf(",\"sport\":%d,\"dport\":%d", ev->sport, ev->dport);
		else
			fputs(",\"sport\":null,\"dport\":null", stdout);
		if (ev->icmp_type >= 0)
			printf(",\"icmp_type\":%d", ev->icmp_type);
		else
			fputs(",\"icmp_type\":null", stdout);
		fputs("}\n", stdout);
	} else {
		if (w->journal) {
			f = open_memstream(&text, &text_len);
			if (!f)
				return;
			/* the journal has its own time stamp; the packet's is a field */
			fprintf(f, "DENY %s", egress ? "host->container" : "container->host");
		} else {
			fprintf(f, "%s %s", when, egress ? "host->container" : "container->host");
		}
		if (ev->has_uid)
			fprintf(f, " uid=%u(%s)", ev->uid, pw ? pw->pw_name : "?");
		else if (egress)
			fprintf(f, " uid=- (not reported by the kernel: the packet has no full socket)");
		else
			fprintf(f, " uid=- (from a container)");
		if (ev->has_gid)
			fprintf(f, " gid=%u(%s)", ev->gid, gr ? gr->gr_name : "?");
		if (*in)
			fprintf(f, " in=%s", in);
		if (*out)
			fprintf(f, " out=%s", out);
		if (pn)
			fprintf(f, " %s", pn);
		else
			fprintf(f, " proto=%d", ev->proto);
		if (ev->sport >= 0)
			fprintf(f, " %s%s%s:%d -> %s%s%s:%d", ev->family == AF_INET6 ? "[" : "", ev->src,
			       ev->family == AF_INET6 ? "]" : "", ev->sport, ev->family == AF_INET6 ? "[" : "",
			       ev->dst, ev->family == AF_INET6 ? "]" : "", ev->dport);
		else
			fprintf(f, " %s -> %s", ev->src, ev->dst);
		if (ev->icmp_type >= 0)
			fprintf(f, " type=%d", ev->icmp_type);
		if (w->journal) {
			fclose(f);
			journal_event(w, ev, text);
			free(text);
			return;
		}
		putchar('\n');
	}
	fflush(stdout);
}

/* One field of a native journal entry (systemd's journal socket protocol:
 * "NAME=value\n", no newline in the value). */
static void jfield(FILE *f, const char *name, const char *value)
{
	fprintf(f, "%s=", name);
	for (; *value; value++)
		fputc(*value == '\n' ? ' ' : *value, f);
	fputc('\n', f);
}

static void jfield_u(FILE *f, const char *name, long long v)
{
	fprintf(f, "%s=%lld\n", name, v);
}

static void journal_send(struct watch *w, const char *text, size_t len)
{
	if (w->journal_fd >= 0 &&
	    sendto(w->journal_fd, text, len, MSG_NOSIGNAL, (const struct sockaddr *)&w->journal_addr,
		   sizeof(w->journal_addr)) >= 0)
		return;
	/* no journal socket: the same fields as one logfmt line on stdout
	 * (under systemd, stdout lands in the journal too) */
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (c == '\n')
			c = i + 1 == len ? '\n' : ' ';
		putchar(c);
	}
	fflush(stdout);
}

/* At most JOURNAL_RATE entries a second, then one entry that counts what
 * was left out, written with the next event of a later second or at exit
 * (log_rate limits the kernel's side already). */
static void journal_flush_suppressed(struct watch *w)
{
	if (w->suppressed) {
		char buf[256];
		int n = snprintf(buf, sizeof(buf),
				 "MESSAGE=hostguard: %u denied attempts not logged (more than %d a second)\n"
				 "PRIORITY=4\nSYSLOG_IDENTIFIER=hostguard\nHOSTGUARD_SUPPRESSED=%u\n",
				 w->suppressed, JOURNAL_RATE, w->suppressed);
		journal_send(w, buf, (size_t)n);
		w->suppressed = 0;
	}
}

static bool journal_rate_ok(struct watch *w, const struct timespec *now)
{
	if (now->tv_sec != w->second) {
		journal_flush_suppressed(w);
		w->second = now->tv_sec;
		w->in_second = 0;
	}
	if (w->in_second >= JOURNAL_RATE) {
		w->suppressed++;
		return false;
	}
	w->in_second++;
	return true;
}

static void journal_event(struct watch *w, const struct event *ev, const char *text)
{
	const struct passwd *pw = ev->has_uid ? getpwuid(ev->uid) : NULL;
	const struct group *gr = ev->has_gid ? getgrgid(ev->gid) : NULL;
	const char *pn = proto_name(ev->proto);
	struct timespec now;
	char when[64], dev[IF_NAMESIZE], *buf = NULL;
	size_t len = 0;
	FILE *f;

	clock_gettime(CLOCK_REALTIME, &now);
	if (!journal_rate_ok(w, &now))
		return;
	f = open_memstream(&buf, &len);
	if (!f)
		return;
	jfield(f, "MESSAGE", text);
	jfield(f, "PRIORITY", "5");
	jfield(f, "SYSLOG_IDENTIFIER", "hostguard");
	jfield(f, "HOSTGUARD_ACTION", "deny");
	jfield(f, "HOSTGUARD_DIRECTION", strcmp(ev->chain, "egress") == 0 ? "host_to_container" : "container_to_host");
	jfield(f, "HOSTGUARD_CHAIN", ev->chain);
	if (ev->has_uid) {
		jfield_u(f, "HOSTGUARD_UID", ev->uid);
		if (pw)
			jfield(f, "HOSTGUARD_USER", pw->pw_name);
	}
	if (ev->has_gid) {
		jfield_u(f, "HOSTGUARD_GID", ev->gid);
		if (gr)
			jfield(f, "HOSTGUARD_GROUP", gr->gr_name);
	}
	if (ev->indev && if_indextoname(ev->indev, dev))
		jfield(f, "HOSTGUARD_IN", dev);
	if (ev->outdev && if_indextoname(ev->outdev, dev))
		jfield(f, "HOSTGUARD_OUT", dev);
	jfield(f, "HOSTGUARD_FAMILY", ev->family == AF_INET ? "ipv4" : "ipv6");
	if (pn)
		jfield(f, "HOSTGUARD_PROTOCOL", pn);
	else
		jfield_u(f, "HOSTGUARD_PROTOCOL", ev->proto);
	jfield(f, "HOSTGUARD_SRC", ev->src);
	jfield(f, "HOSTGUARD_DST", ev->dst);
	if (ev->sport >= 0) {
		jfield_u(f, "HOSTGUARD_SPORT", ev->sport);
		jfield_u(f, "HOSTGUARD_DPORT", ev->dport);
	}
	if (ev->icmp_type >= 0)
		jfield_u(f, "HOSTGUARD_ICMP_TYPE", ev->icmp_type);
	format_time(&ev->when, when, sizeof(when));
	jfield(f, "HOSTGUARD_PACKET_TIME", when);
	jfield(f, "HOSTGUARD_TIME_SOURCE", ev->packet_time ? "packet" : "received");
	if (fclose(f) == 0)
		journal_send(w, buf, len);
	free(buf);
}

static int packet_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFULA_MAX + 1] = { 0 };
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	struct event ev = { .proto = -1, .sport = -1, .dport = -1, .icmp_type = -1 };
	const char *prefix;

	if ((nlh->nlmsg_type & 0xff) != NFULNL_MSG_PACKET)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*g), attr_cb, tb);
	if (!tb[NFULA_PREFIX])
		return MNL_CB_OK;
	prefix = mnl_attr_get_str(tb[NFULA_PREFIX]);
	if (strncmp(prefix, "hostguard egress", 16) == 0)
		ev.chain = "egress";
	else if (strncmp(prefix, "hostguard ingress", 17) == 0)
		ev.chain = "ingress_local";
	else
		return MNL_CB_OK;
	ev.family = g->nfgen_family;
	/* the kernel reports a uid only for packets of a full socket: a
	 * dropped SYN-ACK, though matched by skuid, comes without one */
	if (tb[NFULA_UID]) {
		ev.has_uid = true;
		ev.uid = ntohl(mnl_attr_get_u32(tb[NFULA_UID]));
	}
	if (tb[NFULA_GID]) {
		ev.has_gid = true;
		ev.gid = ntohl(mnl_attr_get_u32(tb[NFULA_GID]));
	}
	if (tb[NFULA_IFINDEX_INDEV])
		ev.indev = ntohl(mnl_attr_get_u32(tb[NFULA_IFINDEX_INDEV]));
	if (tb[NFULA_IFINDEX_OUTDEV])
		ev.outdev = ntohl(mnl_attr_get_u32(tb[NFULA_IFINDEX_OUTDEV]));
	if (tb[NFULA_PAYLOAD])
		parse_payload(&ev, mnl_attr_get_payload(tb[NFULA_PAYLOAD]),
			      mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]));
	if (tb[NFULA_TIMESTAMP] &&
	    mnl_attr_get_payload_len(tb[NFULA_TIMESTAMP]) >= sizeof(struct nfulnl_msg_packet_timestamp)) {
		struct nfulnl_msg_packet_timestamp t;
		memcpy(&t, mnl_attr_get_payload(tb[NFULA_TIMESTAMP]), sizeof(t));
		ev.when.tv_sec = (time_t)be64toh(t.sec);
		ev.when.tv_nsec = (long)(be64toh(t.usec) % 1000000) * 1000;
		ev.packet_time = true;
	} else {
		clock_gettime(CLOCK_REALTIME, &ev.when);
	}
	print_event(&ev, data);
	return MNL_CB_OK;
}

/* The journal's native socket ($HOSTGUARD_JOURNAL_SOCKET for tests, not
 * honoured when setuid/setcap); -1 when there is none. */
static int journal_open(struct watch *w)
{
	const char *path = secure_getenv("HOSTGUARD_JOURNAL_SOCKET");
	int fd;

	if (!path || !*path)
		path = "/run/systemd/journal/socket";
	if (strlen(path) >= sizeof(w->journal_addr.sun_path) || access(path, F_OK) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	w->journal_addr.sun_family = AF_UNIX;
	strcpy(w->journal_addr.sun_path, path);
	return fd;
}

int cmd_watch(int argc, char **argv)
{
	struct hg_state *s = NULL;
	struct hg_nl *hnl = NULL;
	struct hg_error e = { 0 };
	struct mnl_socket *nl = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	struct watch w = { .journal_fd = -1 };
	char *buf = NULL;
	int ret, group, r;

	for (int i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			cmd_usage(stdout, "watch");
			printf("  Needs log_denied = yes in the loaded table. One line per denied\n"
			       "  attempt (rate-limited by log_rate) with the packet's own time:\n"
			       "  the kernel's receive time for container->host, the time watch\n"
			       "  received it (milliseconds later) for host->container. The kernel\n"
			       "  sends each event at once; the last one before SIGINT or SIGTERM is\n"
			       "  printed before watch ends.\n"
			       "  --json     one object per line (schema: doc/json.md)\n"
			       "  --journal  one structured journal entry per denied attempt\n"
			       "             (HOSTGUARD_DIRECTION=, HOSTGUARD_UID=, HOSTGUARD_SRC=,\n"
			       "             HOSTGUARD_DPORT=, ...; at most %d a second), or, without\n"
			       "             a journal, one line of the same fields on stdout. Waits\n"
			       "             for log_denied = yes when logging is off. Run by\n"
			       "             hostguard-watch.service.\n", JOURNAL_RATE);
			return EXIT_OK;
		} else if (strcmp(argv[i], "--json") == 0) {
			w.json = true;
		} else if (strcmp(argv[i], "--journal") == 0) {
			w.journal = true;
		} else {
			err_msg("watch: unexpected argument '%s'", argv[i]);
			return EXIT_INVALID;
		}
	}
	if (w.json && w.journal) {
		err_msg("watch: --json and --journal do not go together");
		return EXIT_INVALID;
	}
	ret = open_nl(&hnl);
	if (ret)
		return ret;
	if (hg_state_read(hnl, &s, &e) < 0 && !(w.journal && e.code == -ENOENT)) {
		ret = fail(&e);
		goto out;
	}
	group = s ? hg_state_log_group(s) : -1;
	if (group < 0 && w.journal) {
		/* the service starts with hostguard.service: wait on the
		 * config's group for log_denied = yes to be applied */
		struct hg_policy *p = NULL;
		struct hg_log_settings log;

		ret = load_policy(&p);
		if (ret)
			goto out;
		hg_policy_get_log(p, &log);
		hg_policy_free(p);
		group = log.group;
		fprintf(stderr, "hostguard: watch: logging is off in the loaded table; waiting on NFLOG group %d for log_denied = yes\n",
			group);
	} else if (group < 0) {
		err_msg("watch: logging is off in the loaded table; set log_denied = yes in %s and run 'hostguard apply'",
			config_path);
		ret = EXIT_FAIL;
		goto out;
	}
	if (w.journal)
		w.journal_fd = journal_open(&w);
	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err_msg("watch: cannot open a netfilter socket: %s", strerror(errno));
		ret = EXIT_FAIL;
		goto out;
	}
	/* turns on the kernel's receive timestamps (net_enable_timestamp), so
	 * that packets of the input hook come with NFULA_TIMESTAMP */
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_TIMESTAMP, &(int){ 1 }, sizeof(int));
	/* room for a burst (each event is sent at once): 4 MiB, more than
	 * rmem_max allows, which CAP_NET_ADMIN may */
	if (setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &(int){ 4 << 20 }, sizeof(int)) < 0)
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUF, &(int){ 4 << 20 }, sizeof(int));
	r = nflog_config(nl, (uint16_t)group, NFULNL_CFG_CMD_BIND, true, NULL);
	if (r == -EPERM || r == -EBUSY) {
		/* we hold CAP_NET_ADMIN: EPERM here means the group is taken */
		err_msg("watch: NFLOG group %d is already bound by another listener (hostguard-watch.service? another 'hostguard watch', ulogd?)",
			group);
		ret = EXIT_FAIL;
		goto out;
	} else if (r < 0) {
		err_msg("watch: cannot bind NFLOG group %d: %s", group, strerror(-r));
		ret = EXIT_FAIL;
		goto out;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!w.json)
		fprintf(stderr, "hostguard: watching denied attempts (NFLOG group %d)%s; Ctrl-C ends\n", group,
			!w.journal ? "" : w.journal_fd >= 0 ? ", to the journal" : ", no journal: to stdout");
	buf = malloc(65536);
	if (!buf) {
		ret = EXIT_FAIL;
		goto unbind;
	}
	ret = EXIT_OK;
	while (!stop) {
		ssize_t n = recv(mnl_socket_get_fd(nl), buf, 65536, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			fprintf(stderr, "hostguard: watch: some events were lost (too many at once)\n");
			continue;
		}
		if (n < 0) {
			err_msg("watch: %s", strerror(errno));
			ret = EXIT_FAIL;
			break;
		}
		mnl_cb_run(buf, (size_t)n, 0, 0, packet_cb, &w);
	}
unbind:
	/* unbinding flushes the kernel's queue to us: print what comes
	 * before the acknowledgement */
	nflog_config(nl, (uint16_t)group, NFULNL_CFG_CMD_UNBIND, false, &w);
	if (w.journal)
		journal_flush_suppressed(&w);
out:
	free(buf);
	if (w.journal_fd >= 0)
		close(w.journal_fd);
	if (nl)
		mnl_socket_close(nl);
	hg_state_free(s);
	hg_nl_close(hnl);
	return ret;
}
