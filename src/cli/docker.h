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

/* One running container: its addresses on every network, and the
 * io.hostguard.* labels (NULL when not set). */
#define DOCKER_MAX_ADDRS 32
struct docker_container {
	char name[HG_CONTAINER_NAME_MAX];
	char addrs[DOCKER_MAX_ADDRS][46];
	size_t n_addrs;
	char *allow_uids, *allow_gids, *allow_ports;
};

/* What hostguard needs to know of Docker, sorted and without duplicates. */
struct docker_state {
	struct docker_port *ports;
	size_t n_ports;
	struct docker_bridge *bridges;
	size_t n_bridges;
	struct docker_container *containers;
	size_t n_containers;
};

void docker_state_free(struct docker_state *d);

/* libcurl's global state, for a long-running process (follow).  libcurl
 * itself is loaded (dlopen) by the first call that needs it. */
int docker_init(char err[DOCKER_ERR_LEN]);
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
 * entry (marked added); tells the policy every running container's
 * addresses (grant targets by name) and adds the grants of its
 * io.hostguard.allow-uids / allow-gids / allow-ports labels.  An unknown
 * user or group, or a bad port, in a label is one warning line naming
 * container, label and value, and is skipped (fails closed).  The values
 * were checked when read; only memory can fail here.
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

/* The container of that name in d, or NULL (not running, unknown). */
const struct docker_container *docker_container(const struct docker_state *d, const char *name);

/*
 * Prints one note per config grant whose target is a container name that
 * is not running in d (NULL: no Docker) - no element: it fails closed;
 * quiet only counts.  Returns the number of such grants.
 */
int docker_note_unresolved(const struct hg_policy *p, const struct docker_state *d, bool quiet);

/*
 * For an edit of grants (tokens "PRINCIPAL@TARGET" of key): when a target
 * is a container name, *ret is a policy that knows the running containers'
 * addresses, for hg_edit_grants(); NULL when no target is a name.  Adding
 * a grant to a container that does not run (or Docker that is off) exits
 * 2, Docker failing exits 1, --runtime/--for exit 2: a name is followed
 * only from the config.  Each prints one line naming the value.  Returns
 * an exit code.
 */
int docker_edit_resolver(const char *cmd, enum hg_key key, enum hg_edit op,
			 const char *const *tokens, size_t n, bool runtime, struct hg_policy **ret);

/* ---- plain requests ----------------------------------------------------- */

struct json_object;

/* The bridges of a GET /networks answer (no ports), as docker_read reads them. */
int docker_state_from_networks(struct json_object *networks, const char *sock,
			       struct docker_state **ret, char err[DOCKER_ERR_LEN]);

/* GET path on the socket; *ret is the JSON of a 200 (json_object_put it).
 * -ENOENT for a missing socket or a 404. */
int docker_get_json(const char *sock, const char *path, struct json_object **ret,
		    char err[DOCKER_ERR_LEN]);

/*
 * n GETs at once (curl multi, a few dozen connections in flight): ret[i] is
 * the JSON of paths[i] and ret_codes[i] 0, or NULL and a negative errno
 * (-ENOENT: 404, a container that went away meanwhile).  Returns 0, or the
 * first error other than a 404 with err set (then every ret[i] is NULL).
 */
int docker_get_many(const char *sock, const char *const *paths, size_t n,
		    struct json_object **ret, int *ret_codes, char err[DOCKER_ERR_LEN]);

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
