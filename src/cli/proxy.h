/* SPDX-License-Identifier: GPL-2.0-or-later */
/* proxy.c: docker-proxy processes in this network namespace */
#ifndef HG_PROXY_H
#define HG_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include "hostguard.h"

struct proxy {
	int pid;
	char proto[8];            /* "tcp", "udp"; empty when its command line does not say */
	char host_ip[64], container_ip[64];
	int host_port, container_port;    /* 0: unknown */
};

/* Every process named docker-proxy in the caller's network namespace;
 * free(*ret). */
int proxies_read(struct proxy **ret, size_t *ret_n);
/* Is its port in published_tcp/udp: of the policy p, or of the live table
 * s when there is no valid policy? */
bool proxy_protected(const struct proxy *px, const struct hg_policy *p, const struct hg_state *s);
/* One warning line (malloc'd), or NULL when out of memory. */
char *proxy_warning(const struct proxy *px, const struct hg_policy *p);

#endif
