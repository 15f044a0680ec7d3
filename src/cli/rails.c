/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Safety rails: a container_ifaces pattern that covers the interface of the
 * default route, or the one the current SSH session came in on, would make
 * ingress_local drop every new connection to the host on it (it treats the
 * interface as a container's).  apply, follow and add-iface refuse that
 * without --force, except a repair (repair_excuse).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "record.h"

struct route {
	unsigned idx;
	unsigned char proto;      /* RTPROT_*: who made it (ra: a router advertisement) */
};

struct routes {
	struct route *v;          /* every default route: none may hide another */
	size_t n, cap;
	bool nomem;
};

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct rtmsg *rm = mnl_nlmsg_get_payload(nlh);
	struct routes *r = data;
	const struct nlattr *a;
	uint32_t table = rm->rtm_table, oif = 0;

	if (rm->rtm_dst_len != 0 || rm->rtm_type != RTN_UNICAST)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*rm)) {
		if (mnl_attr_get_type(a) == RTA_TABLE && mnl_attr_get_payload_len(a) == 4)
			table = mnl_attr_get_u32(a);
		else if (mnl_attr_get_type(a) == RTA_OIF && mnl_attr_get_payload_len(a) == 4)
			oif = mnl_attr_get_u32(a);
	}
	/* the main table's default routes */
	if (table != RT_TABLE_MAIN || !oif)
		return MNL_CB_OK;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct route *v = realloc(r->v, cap * sizeof(*v));
		if (!v) {
			r->nomem = true;
			return MNL_CB_ERROR;
		}
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = (struct route){ oif, rm->rtm_protocol };
	return MNL_CB_OK;
}

/* The interfaces of the default routes (IPv4 and IPv6): 0, or -errno when
 * they could not be read. */
static int default_route_ifaces(struct routes *r)
{
	/* netlink dump messages are at most 32 KiB; on the heap, as a
	 * static buffer put the small variables of .bss on pages apart */
	const size_t size = 32768;
	char *buf = malloc(size);
	struct mnl_socket *nl = buf ? mnl_socket_open(NETLINK_ROUTE) : NULL;
	int family[] = { AF_INET, AF_INET6 };
	int ret = 0;

	*r = (struct routes){ 0 };
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = buf ? -errno : -ENOMEM;
		if (nl)
			mnl_socket_close(nl);
		free(buf);
		return ret;
	}
	for (size_t f = 0; ret == 0 && f < 2; f++) {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		struct rtmsg *rm;
		unsigned seq = (unsigned)time(NULL) + (unsigned)f;
		ssize_t n;
		int cb = MNL_CB_OK;

		nlh->nlmsg_type = RTM_GETROUTE;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		nlh->nlmsg_seq = seq;
		rm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rm));
		rm->rtm_family = (unsigned char)family[f];
		if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
			ret = -errno;
			break;
		}
		while (cb > MNL_CB_STOP && (n = mnl_socket_recvfrom(nl, buf, size)) > 0)
			cb = mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl), route_cb, r);
		if (cb > MNL_CB_STOP)
			ret = n < 0 ? -errno : -EIO;   /* the dump ended early */
		else if (cb == MNL_CB_ERROR)
			ret = r->nomem ? -ENOMEM : errno ? -errno : -EIO;
	}
	mnl_socket_close(nl);
	free(buf);
	return ret;
}

/* The interface that holds the server address of $SSH_CONNECTION. */
static bool ssh_iface(char name[IF_NAMESIZE])
{
	const char *conn = getenv("SSH_CONNECTION");
	char client[64], server[64];
	struct ifaddrs *ifa, *i;
	bool found = false;

	if (!conn || sscanf(conn, "%63s %*s %63s", client, server) != 2 || getifaddrs(&ifa) < 0)
		return false;
	for (i = ifa; i && !found; i = i->ifa_next) {
		char a[INET6_ADDRSTRLEN];
		if (!i->ifa_addr || !i->ifa_name)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, a, sizeof(a));
		else if (i->ifa_addr->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, a, sizeof(a));
		else
			continue;
		if (strcmp(a, server) == 0) {
			snprintf(name, IF_NAMESIZE, "%s", i->ifa_name);
			found = true;
		}
	}
	freeifaddrs(ifa);
	return found;
}

static const char *covering(const char *ifname, const char *const *pat, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (hg_pattern_match(pat[i], ifname))
			return pat[i];
	return NULL;
}

int safety_rails(const char *cmd, const char *const *patterns, size_t n, bool force,
		 const char *(*excuse)(void))
{
	struct routes r;
	char name[IF_NAMESIZE], ssh_name[IF_NAMESIZE];
	const char *pat, *ssh_pat, *why = NULL, *verdict;
	bool found = false;
	int e = default_route_ifaces(&r);

	/* a rail that cannot be checked is said so, not passed in silence;
	 * what it guards against is not known to happen, so it does not stop
	 * an apply (at boot, say) */
	if (e < 0)
		err_msg("%s: warning: cannot read the default routes (%s): not checked whether "
			"container_ifaces covers the interface of one", cmd, strerror(-e));
	for (size_t i = 0; e == 0 && i < r.n && !found; i++)
		found = if_indextoname(r.v[i].idx, name) && covering(name, patterns, n);
	ssh_pat = ssh_iface(ssh_name) ? covering(ssh_name, patterns, n) : NULL;
	/* what excuses a finding is asked only when there is one */
	if ((found || ssh_pat) && !force && excuse)
		why = excuse();
	verdict = force ? " (--force: going ahead)"
		: why ? "; not refused: "
		      : "; nothing changed (--force to do it anyway)";
	if (force || !why)
		why = "";
	for (size_t i = 0; e == 0 && i < r.n; i++) {
		if (!if_indextoname(r.v[i].idx, name) || !(pat = covering(name, patterns, n)))
			continue;
		err_msg("%s: container_ifaces pattern '%s' covers %s, the interface of the default route%s: "
			"every new connection to this host through it would be dropped%s%s", cmd, pat, name,
			r.v[i].proto == RTPROT_RA ? " (learnt from a router advertisement: a container on it "
						     "may have sent it)" : "", verdict, why);
	}
	free(r.v);
	if (ssh_pat)
		err_msg("%s: container_ifaces pattern '%s' covers %s, the interface of this SSH session: "
			"new connections to this host through it would be dropped%s%s", cmd, ssh_pat, ssh_name,
			verdict, why);
	return force || *why || !(found || ssh_pat) ? EXIT_OK : EXIT_INVALID;
}

/* A repair is never refused (security.md #31): refusing it would leave
 * the host without the protection hostguard had put in place, as when a
 * container's router advertisement, sent while the ruleset was flushed,
 * made its bridge the default route.  A repair: the config hostguard
 * applied last, byte for byte (the record's digest of it), or any config
 * while hostguard had applied a table here (a record) and none is loaded
 * now. */
static const char *repair_excuse(void)
{
	struct record rec;
	struct hg_nl *nl = NULL;
	struct hg_state *s = NULL;
	uint64_t cd;
	int r;

	if (record_load(&rec) < 0)
		return NULL;        /* hostguard has not applied here (since boot, or since remove) */
	if (record_config_digest(&rec, &cd) == 0 && cd == rec.config)
		return "the config is the one hostguard applied last (a repair)";
	if (hg_nl_open(&nl, NULL) < 0)
		return NULL;
	r = hg_state_read(nl, &s, NULL);
	hg_state_free(s);
	hg_nl_close(nl);
	return r == -ENOENT ? "hostguard had loaded a table here and none is loaded now: "
			      "a refusal would leave this host open" : NULL;
}

int policy_rails(const char *cmd, const struct hg_policy *p, bool force)
{
	size_t ni;
	const char **pat = policy_patterns(p, &ni);
	int ret;

	if (!pat) {
		err_msg("%s: out of memory", cmd);
		return EXIT_FAIL;
	}
	ret = safety_rails(cmd, pat, ni, force, repair_excuse);
	free(pat);
	return ret;
}

int ra_route_warnings(const char *const *patterns, size_t n, char ***ret, size_t *ret_n)
{
	struct routes r;
	char name[IF_NAMESIZE], **w;
	const char *pat;
	size_t k = 0;

	*ret = NULL;
	*ret_n = 0;
	if (default_route_ifaces(&r) < 0) {
		free(r.v);          /* what a partial read got */
		return 0;           /* apply says when routes cannot be read */
	}
	w = calloc(r.n + 1, sizeof(*w));
	if (!w) {
		free(r.v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < r.n; i++) {
		if (r.v[i].proto != RTPROT_RA || !if_indextoname(r.v[i].idx, name) ||
		    !(pat = covering(name, patterns, n)))
			continue;
		if (asprintf(&w[k], "the IPv6 default route goes through %s, learnt from a router "
			     "advertisement on an interface container_ifaces covers ('%s'): a container "
			     "may have sent it, and the host's IPv6 traffic follows it "
			     "(ip -6 route show default)", name, pat) < 0)
			w[k] = NULL;
		k++;
	}
	free(r.v);
	*ret = w;
	*ret_n = k;
	return 0;
}

