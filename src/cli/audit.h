/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What audit and verify read from Docker, the daemon's process and the live
 * table, shared by both commands. */
#ifndef HG_AUDIT_H
#define HG_AUDIT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "docker.h"
#include "hostguard.h"

struct audit_docker {
	const char *sock;
	json_object **inspect;       /* GET /containers/{id}/json, sorted by name */
	size_t n;
	json_object *info;           /* GET /info */
	json_object *version;        /* GET /version */
	json_object *bridge_net;     /* GET /networks/bridge, NULL when there is none */
	struct docker_state *state;  /* the bridges of Docker's networks (docker_read) */
	/* dockerd: the process serving the socket, and its command line */
	pid_t pid;
	char **argv;
	size_t argc;
};

/* Reads every running container concurrently, /info, /version and the
 * default bridge, and finds the dockerd process that serves sock.  Returns
 * 0, or a negative errno with err set (Docker unreachable). */
int audit_docker_read(const char *sock, struct audit_docker *d, char err[DOCKER_ERR_LEN]);
void audit_docker_free(struct audit_docker *d);

/* A dockerd flag's value from its command line: "--name=v", "--name v"
 * (values) or a bare "--name" ("true"); NULL when absent.  The idx-th
 * occurrence, for repeated flags (-H). */
const char *dockerd_flag(const struct audit_docker *d, const char *name, const char *alias,
			 bool takes_value, size_t idx);
/* The userland proxy (docker-proxy) setting: the command line, then
 * daemon.json (json may be NULL), then Docker's default (on). */
bool dockerd_userland_proxy(const struct audit_docker *d, json_object *daemon_json);

/* The Linux bridge of a Docker network (by name), or NULL. */
const char *docker_net_ifname(const struct audit_docker *d, const char *network);

/* The live table, when it is loaded. */
struct audit_live {
	struct hg_state *s;          /* NULL: not loaded (or not readable) */
	const char **patterns;
	size_t np;
	int error;                   /* 0, -ENOENT (not loaded), or why it could not be read */
};
void audit_live_read(struct audit_live *l);
void audit_live_free(struct audit_live *l);
bool live_covers(const struct audit_live *l, const char *ifname);
bool live_has(const struct audit_live *l, enum hg_key key, uint32_t value);

/* The docker_socket of the config (or the defaults) after
 * HOSTGUARD_DOCKER_SOCKET, copied into ret; an exit code (invalid config,
 * Docker off, a path longer than a unix socket's). */
#define AUDIT_SOCKET_MAX 108   /* sun_path */
int audit_socket(const char *cmd, char ret[AUDIT_SOCKET_MAX]);

/* Small json-c accessors: NULL / false / dflt when absent or of another type. */
json_object *jpath(json_object *o, const char *dotted);
const char *jstr(json_object *o, const char *dotted);
bool jbool(json_object *o, const char *dotted);
int64_t jint(json_object *o, const char *dotted, int64_t dflt);

#endif
