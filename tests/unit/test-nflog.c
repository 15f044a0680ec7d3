/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What hostguard watch reads: NFLOG packet messages, built here the way the
 * kernel sends them (nfnetlink_log), decoded by hg_watch_parse().  The
 * payload is the dropped packet itself, so anyone who can send a packet
 * chooses its bytes: short, truncated and lying headers must decode to
 * "unknown", never read past the message (ASan checks that).  Only the
 * table's two exact prefixes count.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <libmnl/libmnl.h>
#include <netinet/in.h>
#include <time.h>

#include "check.h"
#include "state.h"

struct pkt {
	const char *prefix;       /* NULL: none */
	int family;
	int64_t uid, gid;         /* -1: not sent */
	uint32_t outdev;
	const uint8_t *payload;
	size_t payload_len;
	bool timestamp;
	uint16_t type;            /* 0: NFULNL_MSG_PACKET */
	bool prefix_unterminated;
};

static char msgbuf[4096];

static const struct nlmsghdr *build(const struct pkt *p)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *g;

	memset(msgbuf, 0, sizeof(msgbuf));
	nlh = mnl_nlmsg_put_header(msgbuf);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | (p->type ? p->type : NFULNL_MSG_PACKET);
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = (uint8_t)p->family;
	g->version = NFNETLINK_V0;
	if (p->prefix && p->prefix_unterminated)
		mnl_attr_put(nlh, NFULA_PREFIX, strlen(p->prefix), p->prefix);
	else if (p->prefix)
		mnl_attr_put_strz(nlh, NFULA_PREFIX, p->prefix);
	if (p->uid >= 0)
		mnl_attr_put_u32(nlh, NFULA_UID, htonl((uint32_t)p->uid));
	if (p->gid >= 0)
		mnl_attr_put_u32(nlh, NFULA_GID, htonl((uint32_t)p->gid));
	if (p->outdev)
		mnl_attr_put_u32(nlh, NFULA_IFINDEX_OUTDEV, htonl(p->outdev));
	if (p->payload)
		mnl_attr_put(nlh, NFULA_PAYLOAD, p->payload_len, p->payload);
	if (p->timestamp) {
		struct nfulnl_msg_packet_timestamp t = { .sec = htobe64(1700000000),
							 .usec = htobe64(123456) };
		mnl_attr_put(nlh, NFULA_TIMESTAMP, sizeof(t), &t);
	}
	return nlh;
}

/* 10.77.0.1:41000 -> 10.77.0.2:9000, TCP */
static const uint8_t ip4_tcp[40] = {
	0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, IPPROTO_TCP, 0, 0, 10, 77, 0, 1, 10, 77, 0, 2,
	0xa0, 0x28, 0x23, 0x28,
};
/* fd77::2:5000 -> fd77::1:5556, UDP */
static const uint8_t ip6_udp[48] = {
	0x60, 0, 0, 0, 0, 8, IPPROTO_UDP, 64,
	0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	0x13, 0x88, 0x15, 0xb4, 0, 8, 0, 0,
};
/* fd77::2 -> fd77::1, ICMPv6 echo request (128) */
static const uint8_t ip6_icmp[44] = {
	0x60, 0, 0, 0, 0, 4, IPPROTO_ICMPV6, 64,
	0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	128, 0, 0, 0,
};

static void well_formed(void)
{
	struct hg_watch_event ev;
	struct pkt p = { "hostguard egress: ", AF_INET, 2000, 2001, 7, ip4_tcp, sizeof(ip4_tcp), true, 0, false };
	struct timespec now;

	CHECK(hg_watch_parse(build(&p), &ev) == 0, "egress packet");
	CHECK(ev.chain == HG_CHAIN_EGRESS && ev.family == AF_INET, "egress, IPv4");
	CHECK(ev.has_uid && ev.uid == 2000 && ev.has_gid && ev.gid == 2001, "uid %u gid %u", ev.uid, ev.gid);
	CHECK(ev.outdev == 7 && ev.indev == 0, "out 7");
	CHECK_STR(ev.src, "10.77.0.1");
	CHECK_STR(ev.dst, "10.77.0.2");
	CHECK(memcmp(ev.daddr, "\x0a\x4d\x00\x02", 4) == 0, "raw destination");
	CHECK(ev.proto == IPPROTO_TCP && ev.sport == 41000 && ev.dport == 9000 && ev.icmp_type == -1,
	      "tcp %d -> %d", ev.sport, ev.dport);
	CHECK(ev.packet_time && ev.when.tv_sec == 1700000000 && ev.when.tv_nsec == 123456000,
	      "the packet's time stamp");
	CHECK(!ev.grants_known && !ev.uid_grant_set && !ev.gid_grant_set, "no grants looked up");

	p = (struct pkt){ "hostguard ingress: ", AF_INET6, -1, -1, 0, ip6_udp, sizeof(ip6_udp), false, 0, false };
	clock_gettime(CLOCK_REALTIME, &now);
	CHECK(hg_watch_parse(build(&p), &ev) == 0, "ingress packet");
	CHECK(ev.chain == HG_CHAIN_INGRESS && ev.family == AF_INET6 && !ev.has_uid && !ev.has_gid,
	      "ingress, IPv6, no uid");
	CHECK_STR(ev.src, "fd77::2");
	CHECK_STR(ev.dst, "fd77::1");
	CHECK(ev.proto == IPPROTO_UDP && ev.sport == 5000 && ev.dport == 5556, "udp %d -> %d", ev.sport,
	      ev.dport);
	CHECK(!ev.packet_time && ev.when.tv_sec >= now.tv_sec, "no time stamp: the time received");

	p.payload = ip6_icmp;
	p.payload_len = sizeof(ip6_icmp);
	CHECK(hg_watch_parse(build(&p), &ev) == 0 && ev.proto == IPPROTO_ICMPV6 && ev.icmp_type == 128 &&
	      ev.sport == -1 && ev.dport == -1, "icmpv6 type %d", ev.icmp_type);
}

static void refused(void)
{
	static const char *const prefixes[] = { "ulogd: ", "hostguard egress", "hostguard egress: x",
						"Hostguard egress: ", "" };
	struct hg_watch_event ev;
	struct pkt p = { NULL, AF_INET, 2000, 2000, 0, ip4_tcp, sizeof(ip4_tcp), false, 0, false };

	CHECK(hg_watch_parse(build(&p), &ev) == -1, "no prefix");
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++) {
		p.prefix = prefixes[i];
		CHECK(hg_watch_parse(build(&p), &ev) == -1, "prefix '%s' is not the table's", prefixes[i]);
	}
	p.prefix = "hostguard egress: ";
	p.prefix_unterminated = true;
	CHECK(hg_watch_parse(build(&p), &ev) == -1, "a prefix without its NUL");
	p.prefix_unterminated = false;
	p.type = NFULNL_MSG_CONFIG;
	CHECK(hg_watch_parse(build(&p), &ev) == -1, "a config message");
	p.type = 0;
	{
		/* a message too short to hold its nfgenmsg */
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(msgbuf);
		nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
		CHECK(hg_watch_parse(nlh, &ev) == -1, "a bare header");
	}
}

static void hostile_payloads(void)
{
	struct hg_watch_event ev;
	struct pkt p = { "hostguard egress: ", AF_INET, 2000, 2000, 0, ip4_tcp, 0, false, 0, false };
	uint8_t bad[64];

	/* every truncation of the IPv4 TCP packet */
	for (size_t len = 0; len <= sizeof(ip4_tcp); len++) {
		p.payload_len = len;
		CHECK(hg_watch_parse(build(&p), &ev) == 0, "truncated to %zu", len);
		if (len < 20)
			CHECK(ev.src[0] == '\0' && ev.proto == -1, "%zu bytes: no addresses", len);
		else
			CHECK(strcmp(ev.dst, "10.77.0.2") == 0, "%zu bytes: addresses", len);
		CHECK((len >= 24) == (ev.dport == 9000), "%zu bytes: ports only when present (%d)", len,
		      ev.dport);
	}
	/* an IHL longer than the payload, and one shorter than a header */
	memcpy(bad, ip4_tcp, sizeof(ip4_tcp));
	p.payload = bad;
	p.payload_len = sizeof(ip4_tcp);
	bad[0] = 0x4f;
	CHECK(hg_watch_parse(build(&p), &ev) == 0 && ev.sport == -1 && ev.dport == -1, "IHL 60 > 40 bytes");
	bad[0] = 0x41;
	CHECK(hg_watch_parse(build(&p), &ev) == 0 && ev.sport == -1 && ev.dport == -1, "IHL 4");
	/* IPv6 truncated inside the addresses and inside the UDP header */
	p = (struct pkt){ "hostguard ingress: ", AF_INET6, -1, -1, 0, ip6_udp, 39, false, 0, false };
	CHECK(hg_watch_parse(build(&p), &ev) == 0 && ev.src[0] == '\0' && ev.proto == -1, "IPv6, 39 bytes");
	p.payload_len = 43;
	CHECK(hg_watch_parse(build(&p), &ev) == 0 && strcmp(ev.src, "fd77::2") == 0 && ev.sport == -1,
	      "IPv6, 43 bytes: addresses, no ports");
	/* a family that is neither */
	p.family = AF_UNSPEC;
	p.payload_len = sizeof(ip6_udp);
	CHECK(hg_watch_parse(build(&p), &ev) == 0 && ev.src[0] == '\0' && ev.proto == -1, "AF_UNSPEC");
	/* uid and gid attributes of the wrong size are not believed */
	{
		struct nlmsghdr *nlh;
		struct nfgenmsg *g;
		uint16_t two = 7;
		memset(msgbuf, 0, sizeof(msgbuf));
		nlh = mnl_nlmsg_put_header(msgbuf);
		nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
		g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
		g->nfgen_family = AF_INET;
		mnl_attr_put_strz(nlh, NFULA_PREFIX, "hostguard egress: ");
		mnl_attr_put(nlh, NFULA_UID, sizeof(two), &two);
		mnl_attr_put(nlh, NFULA_GID, sizeof(two), &two);
		mnl_attr_put(nlh, NFULA_TIMESTAMP, sizeof(two), &two);
		CHECK(hg_watch_parse(nlh, &ev) == 0 && !ev.has_uid && !ev.has_gid && !ev.packet_time,
		      "short uid, gid and time stamp attributes are ignored");
	}
}

int main(void)
{
	well_formed();
	refused();
	hostile_payloads();
	return check_done("test-nflog");
}
