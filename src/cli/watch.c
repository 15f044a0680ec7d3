/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * watch: one line per denied attempt, read from the table's NFLOG group with
 * libmnl alone.
 */
#include <arpa/inet.h>
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
#include <time.h>

#include "cli.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int nflog_config(struct mnl_socket *nl, uint16_t group, uint8_t cmd, bool mode)
{
	char buf[8192];
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
	}
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	if (mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl), NULL, NULL) < 0)
		return -errno;
	return 0;
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
};

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

static void print_event(const struct event *ev, bool json)
{
	char when[64], in[IF_NAMESIZE] = "", out[IF_NAMESIZE] = "";
	struct timespec ts;
	struct tm tm;
	const struct passwd *pw = ev->has_uid ? getpwuid(ev->uid) : NULL;
	const struct group *gr = ev->has_gid ? getgrgid(ev->gid) : NULL;
	const char *pn = proto_name(ev->proto);
	bool egress = strcmp(ev->chain, "egress") == 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	if (ev->indev && !if_indextoname(ev->indev, in))
		snprintf(in, sizeof(in), "#%u", ev->indev);
	if (ev->outdev && !if_indextoname(ev->outdev, out))
		snprintf(out, sizeof(out), "#%u", ev->outdev);

	if (json) {
		printf("{\"time\":\"%s\",\"direction\":\"%s\",\"chain\":\"%s\",", when,
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
		printf("%s %s", when, egress ? "host->container" : "container->host");
		if (ev->has_uid)
			printf(" uid=%u(%s)", ev->uid, pw ? pw->pw_name : "?");
		else if (egress)
			printf(" uid=- (not reported by the kernel: the packet has no full socket)");
		else
			printf(" uid=- (from a container)");
		if (ev->has_gid)
			printf(" gid=%u(%s)", ev->gid, gr ? gr->gr_name : "?");
		if (*in)
			printf(" in=%s", in);
		if (*out)
			printf(" out=%s", out);
		if (pn)
			printf(" %s", pn);
		else
			printf(" proto=%d", ev->proto);
		if (ev->sport >= 0)
			printf(" %s%s%s:%d -> %s%s%s:%d", ev->family == AF_INET6 ? "[" : "", ev->src,
			       ev->family == AF_INET6 ? "]" : "", ev->sport, ev->family == AF_INET6 ? "[" : "",
			       ev->dst, ev->family == AF_INET6 ? "]" : "", ev->dport);
		else
			printf(" %s -> %s", ev->src, ev->dst);
		if (ev->icmp_type >= 0)
			printf(" type=%d", ev->icmp_type);
		putchar('\n');
	}
	fflush(stdout);
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
	print_event(&ev, *(bool *)data);
	return MNL_CB_OK;
}

int cmd_watch(int argc, char **argv)
{
	struct hg_state *s = NULL;
	struct hg_nl *hnl = NULL;
	struct hg_error e = { 0 };
	struct mnl_socket *nl = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	char *buf = NULL;
	bool json = false;
	int ret, group, r;

	for (int i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			cmd_usage(stdout, "watch");
			printf("  Needs log_denied = yes in the loaded table. One line per denied\n"
			       "  attempt (rate-limited by log_rate); --json: one object per line\n"
			       "  (schema: doc/json.md). Ends on SIGINT or SIGTERM.\n");
			return EXIT_OK;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else {
			err_msg("watch: unexpected argument '%s'", argv[i]);
			return EXIT_INVALID;
		}
	}
	ret = open_nl(&hnl);
	if (ret)
		return ret;
	if (hg_state_read(hnl, &s, &e) < 0) {
		ret = fail(&e);
		goto out;
	}
	group = hg_state_log_group(s);
	if (group < 0) {
		err_msg("watch: logging is off in the loaded table; set log_denied = yes in %s and run 'hostguard apply'",
			config_path);
		ret = EXIT_FAIL;
		goto out;
	}
	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err_msg("watch: cannot open a netfilter socket: %s", strerror(errno));
		ret = EXIT_FAIL;
		goto out;
	}
	r = nflog_config(nl, (uint16_t)group, NFULNL_CFG_CMD_BIND, true);
	if (r == -EPERM || r == -EBUSY) {
		/* we hold CAP_NET_ADMIN: EPERM here means the group is taken */
		err_msg("watch: NFLOG group %d is already bound by another listener (another 'hostguard watch', ulogd?)",
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
	if (!json)
		fprintf(stderr, "hostguard: watching denied attempts (NFLOG group %d); Ctrl-C ends\n", group);
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
		mnl_cb_run(buf, (size_t)n, 0, 0, packet_cb, &json);
	}
unbind:
	nflog_config(nl, (uint16_t)group, NFULNL_CFG_CMD_UNBIND, false);
out:
	free(buf);
	if (nl)
		mnl_socket_close(nl);
	hg_state_free(s);
	hg_nl_close(hnl);
	return ret;
}
