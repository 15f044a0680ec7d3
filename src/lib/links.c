/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The network namespace's interfaces, over rtnetlink (libmnl). */
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <stdio.h>
#include <time.h>

#include "internal.h"

#define LINK_DUMP_SIZE 32768

struct links {
	struct hg_link *v;
	size_t n, cap;
	int err;
};

static int info_cb(const struct nlattr *a, void *data)
{
	const char **kind = data;

	if (mnl_attr_get_type(a) == IFLA_INFO_KIND && mnl_attr_validate(a, MNL_TYPE_STRING) >= 0)
		*kind = mnl_attr_get_str(a);
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type <= IFLA_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	const char *kind = NULL;
	struct links *l = data;
	struct hg_link *k;

	mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, tb);
	if (!tb[IFLA_IFNAME])
		return MNL_CB_OK;
	if (tb[IFLA_LINKINFO])
		mnl_attr_parse_nested(tb[IFLA_LINKINFO], info_cb, &kind);
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct hg_link *v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			l->err = -ENOMEM;
			return MNL_CB_ERROR;
		}
		l->v = v;
		l->cap = cap;
	}
	k = &l->v[l->n++];
	memset(k, 0, sizeof(*k));
	k->index = (unsigned)ifi->ifi_index;
	snprintf(k->name, sizeof(k->name), "%s", mnl_attr_get_str(tb[IFLA_IFNAME]));
	/* no link kind: a physical device, or lo */
	snprintf(k->kind, sizeof(k->kind), "%s",
		 kind ? kind : ifi->ifi_type == ARPHRD_LOOPBACK ? "loopback" : "device");
	k->up = ifi->ifi_flags & IFF_UP;
	if (tb[IFLA_MASTER] && mnl_attr_validate(tb[IFLA_MASTER], MNL_TYPE_U32) >= 0)
		k->master = mnl_attr_get_u32(tb[IFLA_MASTER]);
	return MNL_CB_OK;
}

HG_EXPORT int hg_links_read(struct hg_link **ret, size_t *ret_n, struct hg_error *err)
{
	struct mnl_socket *nl;
	char *buf;
	struct links l = { 0 };
	struct nlmsghdr *nlh;
	struct rtgenmsg *rt;
	uint32_t seq = (uint32_t)time(NULL), portid;
	int r = 0;

	if (!ret || !ret_n)
		return hg_err(err, -EINVAL, "invalid argument");
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	buf = malloc(LINK_DUMP_SIZE);
	if (!nl || !buf || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = hg_err(err, -errno, "cannot open a route netlink socket: %s", strerror(errno));
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
	rt->rtgen_family = AF_UNSPEC;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = hg_err(err, -errno, "cannot list interfaces: %s", strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, LINK_DUMP_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = hg_err(err, -errno, "cannot list interfaces: %s", strerror(errno));
			goto out;
		}
		r = mnl_cb_run(buf, (size_t)n, seq, portid, link_cb, &l);
		if (r <= 0)
			break;
	}
	if (r < 0) {
		r = hg_err(err, l.err ? l.err : -errno, "cannot list interfaces: %s",
			   strerror(l.err ? -l.err : errno));
		goto out;
	}
	r = 0;
	*ret = l.v;
	*ret_n = l.n;
	l.v = NULL;
out:
	free(l.v);
	free(buf);
	if (nl)
		mnl_socket_close(nl);
	return r;
}

HG_EXPORT bool hg_link_is_container_like(const struct hg_link *l)
{
	if (!l)
		return false;
	return strcmp(l->kind, "bridge") == 0 || strcmp(l->kind, "macvlan") == 0 ||
	       strcmp(l->kind, "ipvlan") == 0;
}
