/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small Docker Engine API client: HTTP over the daemon's unix socket with
 * libcurl, JSON with json-c.  CLI only; the netlink library knows nothing of
 * Docker.  Functions return 0 or a negative errno and, on failure, fill err
 * with one line naming the socket, the request and what went wrong.
 */
#ifndef HG_DOCKER_H
#define HG_DOCKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostguard.h"

#define DOCKER_ERR_LEN 512

/* One host port Docker publishes ("-p 8080:80", "-p 127.0.0.1:53:53/udp"). */
struct docker_port {
	bool udp;
	uint16_t port;
	char container[64];    /* the first container publishing it */
};

/* One Linux bridge of a Docker "bridge" network. */
struct docker_bridge {
	char ifname[16];
	char network[64];
	bool added;            /* no pattern covered it: an exact container_ifaces entry */
};

/* What hostguard needs to know of Docker, sorted and without duplicates. */
struct docker_state {
	struct docker_port *ports;
	size_t n_ports;
	struct docker_bridge *bridges;
	size_t n_bridges;
};

void docker_state_free(struct docker_state *d);

/* libcurl's global state, for a long-running process (follow). */
int docker_init(void);
void docker_cleanup(void);

/* The socket a policy names, after the HOSTGUARD_DOCKER_SOCKET override;
 * NULL when Docker awareness is off ("none"). */
const char *docker_socket(const struct hg_policy *p);

/*
 * Reads running containers' published ports (GET /containers/json) and the
 * bridge networks (GET /networks).  Returns 0, -ENOENT when there is no
 * socket (Docker absent), or another negative errno (unreachable, hung,
 * garbage) with err set.
 */
int docker_read(const char *sock, struct docker_state **ret, char err[DOCKER_ERR_LEN]);

/*
 * Adds Docker's ports to published_tcp/published_udp, and every Docker
 * bridge no container_ifaces pattern covers as an exact container_ifaces
 * entry (marked added).  The values were checked when read; only memory
 * can fail here.
 */
int docker_state_to_policy(struct docker_state *d, struct hg_policy *p,
			   struct hg_error *err);

/*
 * For apply, check and status: when the policy's docker_socket is not none
 * and the socket exists, add what Docker publishes (see above).  Docker
 * absent is silent; Docker failing is one warning line, and p is the
 * config plus what the live table holds of Docker's (published ports,
 * exact bridge names the config does not cover), never less than the
 * config.  On success *ret_state (when not NULL) holds what Docker
 * reported (NULL without Docker).  Returns 0, or a negative errno after the
 * warning.
 */
int docker_augment_policy(struct hg_policy *p, struct docker_state **ret_state);

/* ---- /events ------------------------------------------------------------ */

struct docker_events;

/* Called per container/network event that may change ports or bridges. */
typedef void (*docker_event_fn)(const char *type, const char *action,
				const char *name, void *userdata);

/*
 * Starts streaming GET /events (container and network events) over the
 * curl multi interface; nothing blocks.  docker_events_wait() sleeps in
 * poll() on curl's socket, extra_fd (a signalfd) and the timeout, then
 * lets curl work and calls fn per complete event.  It returns 1 while the
 * stream is up, 0 when it ended (the daemon went away), or a negative errno
 * with err set (refused, not HTTP, not JSON).  *ret_connected turns true
 * once the daemon answered 200.
 */
int docker_events_open(const char *sock, docker_event_fn fn, void *userdata,
		       struct docker_events **ret, char err[DOCKER_ERR_LEN]);
int docker_events_wait(struct docker_events *ev, int extra_fd, int timeout_ms,
		       bool *ret_extra_ready, char err[DOCKER_ERR_LEN]);
bool docker_events_connected(const struct docker_events *ev);
void docker_events_close(struct docker_events *ev);

#endif
