/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * audit: every running container's settings, the daemon's, and who on this
 * host can reach each container port given the live table, with findings
 * named by their docker-bench-security (CIS Docker Benchmark 1.6.0) ids.
 */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"

/* ---- json helpers --------------------------------------------------------- */

json_object *jpath(json_object *o, const char *dotted)
{
	char key[128];

	while (o && *dotted) {
		const char *dot = strchr(dotted, '.');
		size_t len = dot ? (size_t)(dot - dotted) : strlen(dotted);

		if (len >= sizeof(key) || !json_object_is_type(o, json_type_object))
			return NULL;
		memcpy(key, dotted, len);
		key[len] = '\0';
		if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		dotted += len + (dot ? 1 : 0);
	}
	return o;
}

const char *jstr(json_object *o, const char *dotted)
{
	json_object *v = jpath(o, dotted);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

bool jbool(json_object *o, const char *dotted)
{
	json_object *v = jpath(o, dotted);

	return v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

int64_t jint(json_object *o, const char *dotted, int64_t dflt)
{
	json_object *v = jpath(o, dotted);

	return v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : dflt;
}

static size_t jlen(json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* ---- the dockerd process --------------------------------------------------- */

static int read_cmdline(pid_t pid, char ***ret_argv, size_t *ret_argc)
{
	char path[64], buf[65536];
	size_t len = 0, argc = 0;
	char **argv;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	for (size_t i = 0; i < len; i++)
		argc += buf[i] == '\0';
	argv = calloc(argc + 1, sizeof(*argv));
	if (!argv)
		return -ENOMEM;
	for (size_t i = 0, a = 0; i < len && a < argc; a++) {
		argv[a] = strdup(buf + i);
		if (!argv[a]) {
			for (size_t k = 0; k < a; k++)
				free(argv[k]);
			free(argv);
			return -ENOMEM;
		}
		i += strlen(buf + i) + 1;
	}
	*ret_argv = argv;
	*ret_argc = argc;
	return 0;
}

static void free_argv(char **argv, size_t argc)
{
	for (size_t i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

static bool same_path(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];

	if (strcmp(a, b) == 0)
		return true;
	return realpath(a, ra) && realpath(b, rb) && strcmp(ra, rb) == 0;
}

/*
 * The dockerd serving sock, from command lines alone (readable without
 * ptrace rights, which this process dropped): the one whose -H/--host
 * names unix://SOCK; for the default socket, the only one that names no
 * other unix socket (-H fd://, systemd's socket activation, or no -H).
 */
static pid_t find_dockerd(const char *sock, char ***ret_argv, size_t *ret_argc)
{
	bool dflt = same_path(sock, HG_DEFAULT_DOCKER_SOCKET) || same_path(sock, "/var/run/docker.sock");
	struct dirent *de;
	pid_t match = 0, fallback = 0;
	size_t nfallback = 0;
	DIR *d = opendir("/proc");

	if (!d)
		return 0;
	while (!match && (de = readdir(d))) {
		struct audit_docker tmp = { 0 };
		bool other_unix = false;
		const char *base, *h;
		pid_t pid;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid = (pid_t)atoi(de->d_name);
		if (read_cmdline(pid, &tmp.argv, &tmp.argc) < 0)
			continue;
		base = tmp.argc ? strrchr(tmp.argv[0], '/') : NULL;
		base = base ? base + 1 : tmp.argc ? tmp.argv[0] : "";
		if (strcmp(base, "dockerd") == 0) {
			for (size_t i = 0; !match && (h = dockerd_flag(&tmp, "--host", "-H", true, i)); i++) {
				if (strncmp(h, "unix://", 7) != 0)
					continue;
				if (same_path(h + 7, sock))
					match = pid;
				else
					other_unix = true;
			}
			if (!match && dflt && !other_unix) {
				nfallback++;
				fallback = pid;
			}
		}
		if (match || (fallback == pid && nfallback == 1)) {
			free_argv(*ret_argv, *ret_argc);
			*ret_argv = tmp.argv;
			*ret_argc = tmp.argc;
		} else {
			free_argv(tmp.argv, tmp.argc);
		}
	}
	closedir(d);
	if (!match && nfallback != 1) {
		free_argv(*ret_argv, *ret_argc);
		*ret_argv = NULL;
		*ret_argc = 0;
	}
	return match ? match : nfallback == 1 ? fallback : 0;
}

const char *dockerd_flag(const struct audit_docker *d, const char *name, const char *alias,
			 bool takes_value, size_t idx)
{
	for (size_t i = 1; i < d->argc; i++) {
		const char *a = d->argv[i];
		const char *names[2] = { name, alias };

		for (size_t k = 0; k < 2; k++) {
			size_t len;

			if (!names[k])
				continue;
			len = strlen(names[k]);
			if (strncmp(a, names[k], len) != 0)
				continue;
			if (a[len] == '=') {
				if (idx-- == 0)
					return a + len + 1;
			} else if (a[len] == '\0') {
				if (!takes_value) {
					if (idx-- == 0)
						return "true";
				} else if (i + 1 < d->argc) {
					if (idx-- == 0)
						return d->argv[i + 1];
				}
			}
		}
	}
	return NULL;
}

/* A boolean daemon setting: the command line, then daemon.json, then dflt. */
static bool daemon_bool(const struct audit_docker *d, json_object *dj, const char *flag,
			const char *key, bool dflt)
{
	const char *v = dockerd_flag(d, flag, NULL, false, 0);
	json_object *o;

	if (v)
		return strcmp(v, "false") != 0 && strcmp(v, "0") != 0;
	if (dj && json_object_object_get_ex(dj, key, &o) && json_object_is_type(o, json_type_boolean))
		return json_object_get_boolean(o);
	return dflt;
}

bool dockerd_userland_proxy(const struct audit_docker *d, json_object *daemon_json)
{
	return daemon_bool(d, daemon_json, "--userland-proxy", "userland-proxy", true);
}

/* ---- reading Docker --------------------------------------------------------- */

static int inspect_cmp(const void *a, const void *b)
{
	const char *x = jstr(*(json_object *const *)a, "Name");
	const char *y = jstr(*(json_object *const *)b, "Name");

	return strcmp(x ? x : "", y ? y : "");
}

int audit_docker_read(const char *sock, struct audit_docker *d, char err[DOCKER_ERR_LEN])
{
	json_object *list = NULL, **res = NULL;
	char **paths = NULL;
	int *codes = NULL;
	size_t n, np;
	int r;

	memset(d, 0, sizeof(*d));
	d->sock = sock;
	r = docker_get_json(sock, "/containers/json", &list, err);
	if (r < 0)
		return r;
	n = jlen(list);
	np = n + 4;
	paths = calloc(np, sizeof(*paths));
	res = calloc(np, sizeof(*res));
	codes = calloc(np, sizeof(*codes));
	d->inspect = calloc(n + 1, sizeof(*d->inspect));
	if (!paths || !res || !codes || !d->inspect)
		goto oom;
	paths[0] = strdup("/info");
	paths[1] = strdup("/version");
	paths[2] = strdup("/networks/bridge");
	paths[3] = strdup("/networks");
	for (size_t i = 0; i < n; i++) {
		const char *id = jstr(json_object_array_get_idx(list, i), "Id");
		size_t k;

		/* an id is hex; anything else would change the path */
		if (!id || !*id || strspn(id, "0123456789abcdef") != strlen(id) || strlen(id) > 64) {
			snprintf(err, DOCKER_ERR_LEN, "docker: GET /containers/json on %s: a container without a valid Id", sock);
			r = -EPROTO;
			goto out;
		}
		if (asprintf(&paths[4 + i], "/containers/%s/json", id) < 0) {
			paths[4 + i] = NULL;
			goto oom;
		}
		for (k = 0; k < 4; k++)
			if (!paths[k])
				goto oom;
	}
	r = docker_get_many(sock, (const char *const *)paths, np, res, codes, err);
	if (r < 0)
		goto out;
	if (codes[0] < 0 || codes[1] < 0 || codes[3] < 0) {
		snprintf(err, DOCKER_ERR_LEN, "docker: GET %s on %s: no answer",
			 codes[0] < 0 ? "/info" : codes[1] < 0 ? "/version" : "/networks", sock);
		r = -EIO;
		goto out;
	}
	r = docker_state_from_networks(res[3], sock, &d->state, err);
	if (r < 0)
		goto out;
	d->info = res[0];
	d->version = res[1];
	d->bridge_net = res[2];
	res[0] = res[1] = res[2] = NULL;
	for (size_t i = 0; i < n; i++)
		if (res[4 + i]) {       /* NULL: gone between list and inspect */
			d->inspect[d->n++] = res[4 + i];
			res[4 + i] = NULL;
		}
	qsort(d->inspect, d->n, sizeof(*d->inspect), inspect_cmp);
	d->pid = find_dockerd(sock, &d->argv, &d->argc);
	r = 0;
	goto out;
oom:
	snprintf(err, DOCKER_ERR_LEN, "docker: out of memory");
	r = -ENOMEM;
out:
	for (size_t i = 0; i < np && paths; i++) {
		free(paths[i]);
		if (res)
			json_object_put(res[i]);
	}
	free(paths);
	free(res);
	free(codes);
	json_object_put(list);
	if (r < 0)
		audit_docker_free(d);
	return r;
}

void audit_docker_free(struct audit_docker *d)
{
	for (size_t i = 0; i < d->n; i++)
		json_object_put(d->inspect[i]);
	free(d->inspect);
	json_object_put(d->info);
	json_object_put(d->version);
	json_object_put(d->bridge_net);
	docker_state_free(d->state);
	free_argv(d->argv, d->argc);
	memset(d, 0, sizeof(*d));
}

const char *docker_net_ifname(const struct audit_docker *d, const char *network)
{
	for (size_t i = 0; d->state && network && i < d->state->n_bridges; i++)
		if (strcmp(d->state->bridges[i].network, network) == 0)
			return d->state->bridges[i].ifname;
	return NULL;
}

/* ---- the live table ---------------------------------------------------------- */

void audit_live_read(struct audit_live *l)
{
	struct hg_nl *nl = NULL;
	struct hg_error e = { 0 };

	memset(l, 0, sizeof(*l));
	l->error = hg_nl_open(&nl, &e);
	if (l->error == 0)
		l->error = hg_state_read(nl, &l->s, &e);
	hg_nl_close(nl);
	if (l->error < 0) {
		l->s = NULL;
		return;
	}
	l->patterns = state_patterns(l->s, &l->np);
	if (!l->patterns)
		l->np = 0;
}

void audit_live_free(struct audit_live *l)
{
	free(l->patterns);
	hg_state_free(l->s);
	memset(l, 0, sizeof(*l));
}

bool live_covers(const struct audit_live *l, const char *ifname)
{
	return l->s && ifname && iface_covered(ifname, l->patterns, l->np);
}

bool live_has(const struct audit_live *l, enum hg_key key, uint32_t value)
{
	for (size_t i = 0; l->s && i < hg_state_count(l->s, key); i++) {
		uint32_t lo = 0, hi = 0;

		hg_state_range(l->s, key, i, &lo, &hi);
		if (value >= lo && value <= hi)
			return true;
	}
	return false;
}

/* ---- findings ------------------------------------------------------------------ */

enum { SEV_LOW = 1, SEV_MEDIUM, SEV_HIGH };
static const char *const sev_names[] = { "", "low", "medium", "high" };

struct audit {
	json_object *root, *containers, *daemon, *exposure, *cannot_close;
	size_t count[4];
	int worst;
};

static void finding(struct audit *a, json_object *arr, const char *id, int sev,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void finding(struct audit *a, json_object *arr, const char *id, int sev,
		    const char *fmt, ...)
{
	json_object *f = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(f, "id", json_object_new_string(id));
	json_object_object_add(f, "severity", json_object_new_string(sev_names[sev]));
	json_object_object_add(f, "message", json_object_new_string(msg));
	json_object_array_add(arr, f);
	a->count[sev]++;
	if (sev > a->worst)
		a->worst = sev;
}

/* A copy of a string array, [] for null. */
static json_object *str_array(json_object *v)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < jlen(v); i++) {
		json_object *s = json_object_array_get_idx(v, i);
		if (json_object_is_type(s, json_type_string))
			json_object_array_add(a, json_object_new_string(json_object_get_string(s)));
	}
	return a;
}

static bool array_has(json_object *arr, const char *const *values)
{
	for (size_t i = 0; i < jlen(arr); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(arr, i));

		for (size_t k = 0; s && values[k]; k++)
			if (strcasecmp(s, values[k]) == 0)
				return true;
	}
	return false;
}

static bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (strcmp(dir, "/") == 0)
		return strcmp(path, "/") == 0;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* The socket, or a directory it is in, mounted into the container. */
static bool mounts_socket(const char *src, const char *sock)
{
	static const char *const common[] = { "/run/docker.sock", "/var/run/docker.sock", NULL };
	char real[PATH_MAX];
	const char *base = strrchr(src, '/');

	if (base && strcmp(base + 1, "docker.sock") == 0)
		return true;
	if (strcmp(src, "/") != 0 && (path_under(sock, src) ||
	    (realpath(sock, real) && path_under(real, src))))
		return true;
	for (size_t i = 0; common[i]; i++)
		if (strcmp(src, "/") != 0 && path_under(common[i], src))
			return true;
	return false;
}

static bool mode_is(const char *mode, const char *want)
{
	return mode && strcmp(mode, want) == 0;
}

static void audit_container(struct audit *a, const struct audit_docker *d, json_object *c,
			    bool daemon_nnp)
{
	static const char *const sensitive[] = { "/", "/boot", "/dev", "/etc", "/lib", "/proc",
						 "/sys", "/usr", NULL };
	static const char *const dangerous_caps[] = { "ALL", "SYS_ADMIN", "CAP_SYS_ADMIN", "SYS_MODULE",
		"CAP_SYS_MODULE", "SYS_PTRACE", "CAP_SYS_PTRACE", "SYS_RAWIO", "CAP_SYS_RAWIO",
		"DAC_READ_SEARCH", "CAP_DAC_READ_SEARCH", "NET_ADMIN", "CAP_NET_ADMIN", "BPF",
		"CAP_BPF", NULL };
	static const char *const nnp[] = { "no-new-privileges", "no-new-privileges:true",
					   "no-new-privileges=true", NULL };
	static const char *const seccomp_off[] = { "seccomp=unconfined", "seccomp:unconfined", NULL };
	static const char *const apparmor_off[] = { "apparmor=unconfined", "apparmor:unconfined", NULL };
	json_object *o = json_object_new_object(), *fa = json_object_new_array();
	json_object *mounts = json_object_new_array(), *ports = json_object_new_array();
	json_object *nets = json_object_new_array(), *v, *pm;
	const char *name = jstr(c, "Name"), *user = jstr(c, "Config.User");
	const char *netmode = jstr(c, "HostConfig.NetworkMode");
	bool privileged = jbool(c, "HostConfig.Privileged"), any_wild = false;
	int64_t mem = jint(c, "HostConfig.Memory", 0), pids = jint(c, "HostConfig.PidsLimit", 0);
	json_object *capadd = jpath(c, "HostConfig.CapAdd"), *secopt = jpath(c, "HostConfig.SecurityOpt");

	if (name && *name == '/')
		name++;
	json_object_object_add(o, "name", json_object_new_string(name ? name : "?"));
	json_object_object_add(o, "id", json_object_new_string(jstr(c, "Id") ? jstr(c, "Id") : ""));
	json_object_object_add(o, "image", json_object_new_string(jstr(c, "Config.Image") ? jstr(c, "Config.Image") : ""));
	json_object_object_add(o, "user", json_object_new_string(user ? user : ""));
	json_object_object_add(o, "cap_add", str_array(capadd));
	json_object_object_add(o, "cap_drop", str_array(jpath(c, "HostConfig.CapDrop")));
	json_object_object_add(o, "security_opt", str_array(secopt));
	json_object_object_add(o, "privileged", json_object_new_boolean(privileged));
	json_object_object_add(o, "network_mode", json_object_new_string(netmode ? netmode : ""));
	json_object_object_add(o, "pid_mode", json_object_new_string(jstr(c, "HostConfig.PidMode") ? jstr(c, "HostConfig.PidMode") : ""));
	json_object_object_add(o, "ipc_mode", json_object_new_string(jstr(c, "HostConfig.IpcMode") ? jstr(c, "HostConfig.IpcMode") : ""));
	json_object_object_add(o, "uts_mode", json_object_new_string(jstr(c, "HostConfig.UTSMode") ? jstr(c, "HostConfig.UTSMode") : ""));
	json_object_object_add(o, "userns_mode", json_object_new_string(jstr(c, "HostConfig.UsernsMode") ? jstr(c, "HostConfig.UsernsMode") : ""));
	json_object_object_add(o, "read_only", json_object_new_boolean(jbool(c, "HostConfig.ReadonlyRootfs")));
	json_object_object_add(o, "memory", json_object_new_int64(mem));
	json_object_object_add(o, "pids_limit", pids > 0 ? json_object_new_int64(pids) : NULL);
	v = jpath(c, "Config.Healthcheck.Test");
	bool health = jlen(v) > 0 && strcmp(json_object_get_string(json_object_array_get_idx(v, 0)), "NONE") != 0;
	json_object_object_add(o, "health_check", json_object_new_boolean(health));

	/* mounts (.Mounts: binds, volumes and tmpfs alike) */
	v = jpath(c, "Mounts");
	for (size_t i = 0; i < jlen(v); i++) {
		json_object *m = json_object_array_get_idx(v, i), *mo = json_object_new_object();
		const char *src = jstr(m, "Source"), *dst = jstr(m, "Destination"), *type = jstr(m, "Type");
		bool rw = jbool(m, "RW");

		json_object_object_add(mo, "type", json_object_new_string(type ? type : ""));
		json_object_object_add(mo, "source", json_object_new_string(src ? src : ""));
		json_object_object_add(mo, "destination", json_object_new_string(dst ? dst : ""));
		json_object_object_add(mo, "rw", json_object_new_boolean(rw));
		json_object_array_add(mounts, mo);
		if (!src || !*src || (type && strcmp(type, "bind") != 0))
			continue;
		if (mounts_socket(src, d->sock))
			finding(a, fa, "5.32", SEV_HIGH,
				"Docker socket mounted (%s): it is root on the host; remove it",
				src);
		for (size_t k = 0; sensitive[k]; k++) {
			if (!path_under(src, sensitive[k]))
				continue;
			if (rw)
				finding(a, fa, "5.6", SEV_HIGH,
					"host path %s mounted read-write (at %s): make it :ro or drop it",
					src, dst ? dst : "?");
			else
				finding(a, fa, "5.6", SEV_LOW, "host path %s mounted read-only (at %s)",
					src, dst ? dst : "?");
			break;
		}
	}
	json_object_object_add(o, "mounts", mounts);

	/* ports: NetworkSettings.Ports {"80/tcp": [{HostIp, HostPort}] | null} */
	pm = jpath(c, "NetworkSettings.Ports");
	if (pm && json_object_is_type(pm, json_type_object)) {
		json_object_object_foreach(pm, key, binds) {
			unsigned port = 0;
			char proto[8] = "";

			if (sscanf(key, "%u/%7s", &port, proto) != 2)
				continue;
			if (jlen(binds) == 0) {
				json_object *po = json_object_new_object();
				json_object_object_add(po, "port", json_object_new_int((int)port));
				json_object_object_add(po, "proto", json_object_new_string(proto));
				json_object_object_add(po, "host_ip", NULL);
				json_object_object_add(po, "host_port", NULL);
				json_object_array_add(ports, po);
			}
			for (size_t i = 0; i < jlen(binds); i++) {
				json_object *b = json_object_array_get_idx(binds, i), *po = json_object_new_object();
				const char *hip = jstr(b, "HostIp"), *hp = jstr(b, "HostPort");

				json_object_object_add(po, "port", json_object_new_int((int)port));
				json_object_object_add(po, "proto", json_object_new_string(proto));
				json_object_object_add(po, "host_ip", json_object_new_string(hip ? hip : ""));
				json_object_object_add(po, "host_port", json_object_new_int(hp ? atoi(hp) : 0));
				json_object_array_add(ports, po);
				if (!hip || !*hip || strcmp(hip, "0.0.0.0") == 0 || strcmp(hip, "::") == 0)
					any_wild = true;
			}
		}
	}
	json_object_object_add(o, "ports", ports);

	/* networks: name, bridge, addresses */
	pm = jpath(c, "NetworkSettings.Networks");
	if (pm && json_object_is_type(pm, json_type_object)) {
		json_object_object_foreach(pm, net, info) {
			json_object *no = json_object_new_object();
			const char *br = docker_net_ifname(d, net);
			const char *v4 = jstr(info, "IPAddress"), *v6 = jstr(info, "GlobalIPv6Address");

			json_object_object_add(no, "network", json_object_new_string(net));
			json_object_object_add(no, "bridge", br ? json_object_new_string(br) : NULL);
			json_object_object_add(no, "ipv4", v4 && *v4 ? json_object_new_string(v4) : NULL);
			json_object_object_add(no, "ipv6", v6 && *v6 ? json_object_new_string(v6) : NULL);
			json_object_array_add(nets, no);
		}
	}
	json_object_object_add(o, "networks", nets);

	/* findings, most severe first */
	if (privileged)
		finding(a, fa, "5.5", SEV_HIGH,
			"privileged: all capabilities and devices, root on the host; drop it");
	if (mode_is(netmode, "host"))
		finding(a, fa, "5.10", SEV_HIGH,
			"host network: its sockets are local, hostguard cannot close them");
	if (mode_is(jstr(c, "HostConfig.PidMode"), "host"))
		finding(a, fa, "5.16", SEV_HIGH, "host PID namespace: sees and signals host processes; drop --pid=host");
	if (array_has(secopt, seccomp_off))
		finding(a, fa, "5.22", SEV_HIGH, "seccomp=unconfined: no system call filter; drop the option");
	if (jlen(capadd)) {
		char caps[256] = "";
		size_t len = 0;
		for (size_t i = 0; i < jlen(capadd); i++)
			len += (size_t)snprintf(caps + len, len < sizeof(caps) ? sizeof(caps) - len : 0, "%s%s",
						i ? "," : "", json_object_get_string(json_object_array_get_idx(capadd, i)));
		finding(a, fa, "5.4", array_has(capadd, dangerous_caps) ? SEV_HIGH : SEV_MEDIUM,
			"capabilities added (%s): only what it needs, never SYS_ADMIN/ALL", caps);
	}
	if (array_has(secopt, apparmor_off))
		finding(a, fa, "5.2", SEV_MEDIUM, "apparmor=unconfined: no AppArmor profile; drop the option");
	if (mode_is(jstr(c, "HostConfig.IpcMode"), "host"))
		finding(a, fa, "5.17", SEV_MEDIUM, "host IPC namespace; drop --ipc=host");
	if (mode_is(jstr(c, "HostConfig.UTSMode"), "host"))
		finding(a, fa, "5.21", SEV_MEDIUM, "host UTS namespace; drop --uts=host");
	if (mode_is(jstr(c, "HostConfig.UsernsMode"), "host"))
		finding(a, fa, "5.31", SEV_MEDIUM, "--userns=host: opts out of userns-remap; drop it");
	if (!user || !*user || strcmp(user, "root") == 0 || strcmp(user, "0") == 0 ||
	    strncmp(user, "0:", 2) == 0 || strncmp(user, "root:", 5) == 0)
		finding(a, fa, "4.1", SEV_MEDIUM, "runs as root: set USER in the image or --user");
	if (!daemon_nnp && !array_has(secopt, nnp))
		finding(a, fa, "5.26", SEV_LOW,
			"may gain privileges (setuid): --security-opt no-new-privileges");
	if (!jbool(c, "HostConfig.ReadonlyRootfs"))
		finding(a, fa, "5.13", SEV_LOW, "writable root filesystem: --read-only (volumes where it writes)");
	if (mem <= 0)
		finding(a, fa, "5.11", SEV_LOW, "no memory limit: --memory");
	if (pids <= 0)
		finding(a, fa, "5.29", SEV_LOW, "no PIDs limit (fork bombs): --pids-limit");
	if (any_wild)
		finding(a, fa, "5.14", SEV_LOW,
			"published on every host address: -p ADDR:PORT:PORT");
	if (!health)
		finding(a, fa, "5.27", SEV_LOW, "no health check: HEALTHCHECK or --health-cmd");
	json_object_object_add(o, "findings", fa);
	json_object_array_add(a->containers, o);
}

/* ---- the daemon ------------------------------------------------------------------- */

/* NULL with why empty when it does not exist (Docker's defaults then). */
static json_object *load_daemon_json(const char *path, char *why, size_t len)
{
	json_object *o;
	struct stat st;

	why[0] = '\0';
	if (stat(path, &st) < 0) {
		if (errno != ENOENT)
			snprintf(why, len, "%s: %s", path, strerror(errno));
		return NULL;
	}
	o = json_object_from_file(path);
	if (!o || !json_object_is_type(o, json_type_object)) {
		snprintf(why, len, "%s: not a JSON object", path);
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Members of a group: its member list and every user whose primary group it is. */
static json_object *group_members(gid_t gid)
{
	json_object *a = json_object_new_array();
	struct group *gr = getgrgid(gid);
	struct passwd *pw;

	if (gr)
		for (char **m = gr->gr_mem; m && *m; m++)
			json_object_array_add(a, json_object_new_string(*m));
	setpwent();
	while ((pw = getpwent())) {
		bool dup = false;
		if (pw->pw_gid != gid || pw->pw_uid == 0)
			continue;
		for (size_t i = 0; i < jlen(a) && !dup; i++)
			dup = strcmp(json_object_get_string(json_object_array_get_idx(a, i)), pw->pw_name) == 0;
		if (!dup)
			json_object_array_add(a, json_object_new_string(pw->pw_name));
	}
	endpwent();
	return a;
}

static void audit_daemon(struct audit *a, const struct audit_docker *d, json_object *dj,
			 const char *dj_path, const char *dj_why, bool *ret_nnp)
{
	json_object *o = a->daemon, *fa = json_object_new_array(), *secopts, *hosts = json_object_new_array(), *v;
	bool icc, proxy, iptables, nnp, live, userns = false, experimental, tls;
	const char *seccomp = NULL, *h;
	struct stat st;

	/* icc: the default bridge's live option wins (it is what dockerd did) */
	icc = daemon_bool(d, dj, "--icc", "icc", true);
	if (d->bridge_net) {
		json_object *opts = jpath(d->bridge_net, "Options"), *e;
		if (opts && json_object_object_get_ex(opts, "com.docker.network.bridge.enable_icc", &e) &&
		    json_object_is_type(e, json_type_string))
			icc = strcmp(json_object_get_string(e), "false") != 0;
	}
	proxy = dockerd_userland_proxy(d, dj);
	iptables = daemon_bool(d, dj, "--iptables", "iptables", true);
	nnp = daemon_bool(d, dj, "--no-new-privileges", "no-new-privileges", false);
	live = jbool(d->info, "LiveRestoreEnabled");
	experimental = jbool(d->info, "ExperimentalBuild");
	secopts = jpath(d->info, "SecurityOptions");
	for (size_t i = 0; i < jlen(secopts); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(secopts, i));
		if (!s)
			continue;
		if (strcmp(s, "name=userns") == 0)
			userns = true;
		if (strncmp(s, "name=seccomp,profile=", 21) == 0)
			seccomp = s + 21;
	}
	for (size_t i = 0; (h = dockerd_flag(d, "--host", "-H", true, i)); i++)
		json_object_array_add(hosts, json_object_new_string(h));
	v = dj ? jpath(dj, "hosts") : NULL;
	for (size_t i = 0; i < jlen(v); i++)
		json_object_array_add(hosts, json_object_new_string(json_object_get_string(json_object_array_get_idx(v, i))));
	tls = daemon_bool(d, dj, "--tlsverify", "tlsverify", false);

	json_object_object_add(o, "socket", json_object_new_string(d->sock));
	json_object_object_add(o, "version", jstr(d->version, "Version") ? json_object_new_string(jstr(d->version, "Version")) : NULL);
	json_object_object_add(o, "api_version", jstr(d->version, "ApiVersion") ? json_object_new_string(jstr(d->version, "ApiVersion")) : NULL);
	json_object_object_add(o, "pid", d->pid > 0 ? json_object_new_int(d->pid) : NULL);
	json_object_object_add(o, "daemon_json", json_object_new_string(dj_path));
	json_object_object_add(o, "daemon_json_read", json_object_new_boolean(dj != NULL));
	json_object_object_add(o, "icc", json_object_new_boolean(icc));
	json_object_object_add(o, "userland_proxy", json_object_new_boolean(proxy));
	json_object_object_add(o, "iptables", json_object_new_boolean(iptables));
	json_object_object_add(o, "no_new_privileges", json_object_new_boolean(nnp));
	json_object_object_add(o, "live_restore", json_object_new_boolean(live));
	json_object_object_add(o, "userns_remap", json_object_new_boolean(userns));
	json_object_object_add(o, "seccomp", seccomp ? json_object_new_string(seccomp) : NULL);
	json_object_object_add(o, "experimental", json_object_new_boolean(experimental));
	json_object_object_add(o, "hosts", hosts);

	if (!d->argc)
		finding(a, fa, "2.0", SEV_LOW,
			"dockerd's command line not found: judged by daemon.json and /info");
	if (!dj && dj_why[0])
		finding(a, fa, "2.0", SEV_LOW, "daemon.json not read: %s", dj_why);
	for (size_t i = 0; i < jlen(hosts); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(hosts, i));
		if (s && strncmp(s, "tcp://", 6) == 0 && !tls)
			finding(a, fa, "2.7", SEV_HIGH,
				"listens on %s without --tlsverify: whoever reaches it is root", s);
	}
	if (!iptables)
		finding(a, fa, "2.4", SEV_HIGH,
			"iptables=false: no NAT or isolation from Docker; let it manage it");
	if (seccomp && strcmp(seccomp, "unconfined") == 0)
		finding(a, fa, "2.17", SEV_HIGH, "default seccomp profile is unconfined: use Docker's default");
	else if (!seccomp)
		finding(a, fa, "2.17", SEV_MEDIUM, "no seccomp: containers run without a system call filter");
	if (icc)
		finding(a, fa, "2.2", SEV_MEDIUM,
			"icc on: containers on docker0 talk freely; \"icc\": false");
	if (!userns)
		finding(a, fa, "2.9", SEV_MEDIUM,
			"no userns-remap: root in a container is root here");
	if (proxy)
		finding(a, fa, "2.16", SEV_MEDIUM,
			"userland-proxy on: docker-proxy (root) serves loopback; \"userland-proxy\": false");
	if (!nnp)
		finding(a, fa, "2.14", SEV_LOW, "no-new-privileges off by default: dockerd --no-new-privileges");
	if (!live)
		finding(a, fa, "2.15", SEV_LOW, "live-restore off: a dockerd restart stops all; \"live-restore\": true");
	if (experimental)
		finding(a, fa, "2.18", SEV_LOW, "experimental features on: turn them off in production");
	/* who can use the socket is root */
	if (stat(d->sock, &st) == 0) {
		json_object *members = group_members(st.st_gid);
		struct group *gr = getgrgid(st.st_gid);
		char names[512] = "";
		size_t len = 0;

		if (st.st_mode & 0002)
			finding(a, fa, "3.16", SEV_HIGH, "%s is writable by every user (all root): chmod 660",
				d->sock);
		for (size_t i = 0; i < jlen(members); i++)
			len += (size_t)snprintf(names + len, len < sizeof(names) ? sizeof(names) - len : 0, "%s%s",
						i ? ", " : "", json_object_get_string(json_object_array_get_idx(members, i)));
		if (st.st_gid != 0 && (st.st_mode & 0020) && jlen(members)) {
			char line[768];
			finding(a, fa, "1.1.2", SEV_MEDIUM,
				"group %s controls dockerd, its members are root: %s",
				gr ? gr->gr_name : "?", names);
			snprintf(line, sizeof(line),
				 "members of group %s (%s) control dockerd through %s: they are root, no firewall keeps them out",
				 gr ? gr->gr_name : "?", names, d->sock);
			json_object_array_add(a->cannot_close, json_object_new_string(line));
		}
		json_object_object_add(o, "socket_group", gr ? json_object_new_string(gr->gr_name) : NULL);
		json_object_object_add(o, "socket_group_members", members);
	}
	json_object_object_add(o, "findings", fa);
	*ret_nnp = nnp;
}

/* ---- exposure ---------------------------------------------------------------------- */

/* "alice", "uid 2002", "group web", "gid 3000" */
static void principal_name(bool gid, uint32_t id, char *buf, size_t len)
{
	if (gid) {
		struct group *gr = getgrgid(id);
		if (gr)
			snprintf(buf, len, "group %s", gr->gr_name);
		else
			snprintf(buf, len, "gid %u", id);
	} else {
		struct passwd *pw = getpwuid(id);
		if (pw)
			snprintf(buf, len, "%s", pw->pw_name);
		else
			snprintf(buf, len, "uid %u", id);
	}
}

static json_object *allowed_list(const struct audit_live *l)
{
	json_object *a = json_object_new_array();
	char buf[64];

	for (int k = 0; k < 2; k++) {
		enum hg_key key = k ? HG_KEY_GIDS : HG_KEY_UIDS;
		for (size_t i = 0; l->s && i < hg_state_count(l->s, key); i++) {
			uint32_t lo = 0, hi = 0;

			hg_state_range(l->s, key, i, &lo, &hi);
			principal_name(k, lo, buf, sizeof(buf));
			json_object_array_add(a, json_object_new_string(buf));
		}
	}
	return a;
}

/* Who reaches address:port (port 0: some port) through a grant of the live
 * table: "alice", "uid 2002", "group web" */
static json_object *granted_list(const struct audit_live *l, const char *address, int port)
{
	json_object *a = json_object_new_array();
	char buf[64];

	for (size_t i = 0; l->s && i < hg_state_grant_count(l->s); i++) {
		struct hg_grant_info g;
		bool dup = false;

		if (hg_state_grant(l->s, i, &g) < 0 ||
		    hg_grant_info_covers(&g, address, (uint16_t)(port > 0 ? port : 0)) != 1)
			continue;
		principal_name(g.gid, g.id, buf, sizeof(buf));
		for (size_t j = 0; j < json_object_array_length(a) && !dup; j++)
			dup = strcmp(json_object_get_string(json_object_array_get_idx(a, j)), buf) == 0;
		if (!dup)
			json_object_array_add(a, json_object_new_string(buf));
	}
	return a;
}

static void exposure_row(struct audit *a, const struct audit_live *l, const char *container,
			 const char *address, int port, const char *proto, const char *path,
			 const char *iface, bool closed, const char *note)
{
	json_object *r = json_object_new_object(), *by;

	json_object_object_add(r, "container", json_object_new_string(container));
	json_object_object_add(r, "address", json_object_new_string(address));
	json_object_object_add(r, "port", port > 0 ? json_object_new_int(port) : NULL);
	json_object_object_add(r, "proto", proto ? json_object_new_string(proto) : NULL);
	json_object_object_add(r, "path", json_object_new_string(path));
	json_object_object_add(r, "interface", iface ? json_object_new_string(iface) : NULL);
	if (closed) {
		by = allowed_list(l);
	} else {
		by = json_object_new_array();
		json_object_array_add(by, json_object_new_string("everyone"));
	}
	json_object_object_add(r, "reachable_by", by);
	/* grants are looked up by the container's address: the bridge path
	 * (a published port's DNAT leads there too, to the container port) */
	json_object_object_add(r, "granted", closed && strcmp(path, "bridge") == 0
				? granted_list(l, address, port) : json_object_new_array());
	json_object_object_add(r, "closed", json_object_new_boolean(closed));
	json_object_object_add(r, "note", note ? json_object_new_string(note) : NULL);
	json_object_array_add(a->exposure, r);
}

static void audit_exposure(struct audit *a, const struct audit_live *l, json_object *c, bool proxy)
{
	const char *name = jstr(c, "name"), *netmode = jstr(c, "network_mode");
	json_object *nets = jpath(c, "networks"), *ports = jpath(c, "ports");
	bool all_covered = jlen(nets) > 0;
	char note[256];

	if (mode_is(netmode, "host")) {
		exposure_row(a, l, name, "host", 0, NULL, "host-network", NULL, false,
			     "host network: cannot be closed");
		snprintf(note, sizeof(note),
			 "container %s uses the host network: its services are local services, every local user reaches them",
			 name);
		json_object_array_add(a->cannot_close, json_object_new_string(note));
		return;
	}
	for (size_t i = 0; i < jlen(nets); i++) {
		json_object *n = json_object_array_get_idx(nets, i);
		const char *br = jstr(n, "bridge");
		const char *addr[2] = { jstr(n, "ipv4"), jstr(n, "ipv6") };
		bool covered = live_covers(l, br);

		if (!covered)
			all_covered = false;
		if (!l->s)
			snprintf(note, sizeof(note), "no table");
		else if (!br)
			snprintf(note, sizeof(note), "not a Docker bridge");
		else if (!covered)
			snprintf(note, sizeof(note), "%s not covered", br);
		for (int k = 0; k < 2; k++) {
			size_t shown = 0;

			if (!addr[k])
				continue;
			for (size_t j = 0; j < jlen(ports); j++) {
				json_object *p = json_object_array_get_idx(ports, j);
				bool dup = false;
				int port = (int)jint(p, "port", 0);
				const char *proto = jstr(p, "proto");

				/* one row per container port, however often it is published */
				for (size_t q = 0; q < j && !dup; q++) {
					json_object *pq = json_object_array_get_idx(ports, q);
					dup = jint(pq, "port", 0) == port && strcmp(jstr(pq, "proto"), proto) == 0;
				}
				if (dup)
					continue;
				exposure_row(a, l, name, addr[k], port, proto, "bridge", br, covered,
					     covered ? NULL : note);
				shown++;
			}
			if (!shown)
				exposure_row(a, l, name, addr[k], 0, NULL, "bridge", br, covered,
					     covered ? NULL : note);
		}
	}
	for (size_t j = 0; j < jlen(ports); j++) {
		json_object *p = json_object_array_get_idx(ports, j);
		const char *hip = jstr(p, "host_ip"), *proto = jstr(p, "proto");
		int hport = (int)jint(p, "host_port", 0);
		bool in_set, closed, loopback;
		enum hg_key key = proto && strcmp(proto, "udp") == 0 ? HG_KEY_PUBLISHED_UDP : HG_KEY_PUBLISHED_TCP;

		if (!hip || hport <= 0)
			continue;
		in_set = live_has(l, key, (uint32_t)hport);
		loopback = strncmp(hip, "127.", 4) == 0 || strcmp(hip, "::1") == 0;
		/* DNAT from host addresses (with the proxy, from those it does not
		 * serve): closed where the DNAT leads, the container's bridge */
		closed = all_covered && (!proxy || in_set);
		snprintf(note, sizeof(note), "%s", !l->s ? "no table" : !all_covered ? "bridge not covered" :
			 "port not in published_*");
		if (!proxy || !loopback)
			exposure_row(a, l, name, *hip ? hip : "0.0.0.0", hport, proto, "published", NULL,
				     closed, closed ? NULL : note);
		if (proxy) {
			/* docker-proxy, a root process, on loopback: closed by the
			 * published_* sets alone */
			const char *lo = !*hip || strcmp(hip, "0.0.0.0") == 0 ? "127.0.0.1" :
					 strcmp(hip, "::") == 0 ? "::1" : hip;
			snprintf(note, sizeof(note), "%s", !l->s ? "no table" : "port not in published_*");
			exposure_row(a, l, name, lo, hport, proto, "docker-proxy", "lo", in_set,
				     in_set ? NULL : note);
		}
	}
}

/* ---- output ---------------------------------------------------------------------------- */

/* s cut to w columns, marking a cut with '~' */
static const char *fit(const char *s, size_t w, char *buf, size_t len)
{
	if (!s)
		s = "";
	if (strlen(s) <= w || w + 1 > len)
		return s;
	snprintf(buf, len, "%.*s~", (int)(w - 1), s);
	return buf;
}

static void join(json_object *arr, const char *field, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < jlen(arr) && n < len; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		const char *s = field ? jstr(e, field) : json_object_get_string(e);
		n += (size_t)snprintf(out + n, len - n, "%s%s", i ? "," : "", s ? s : "");
	}
}

static void print_findings(const char *who, json_object *fa)
{
	for (size_t i = 0; i < jlen(fa); i++) {
		json_object *f = json_object_array_get_idx(fa, i);
		char b[40];
		printf("%-16s %-6s %-7s %s\n", fit(who, 16, b, sizeof(b)), jstr(f, "id"),
		       jstr(f, "severity"), jstr(f, "message"));
	}
}

static void print_text(const struct audit *a, const struct audit_live *l)
{
	json_object *d = a->daemon;
	char b1[40], b2[40], b3[40], b4[40], b5[40], b6[40], b7[40], s[1024], g[512];

	printf("CONTAINERS\n%-14s %-8s %-4s %-8s %-10s %-8s %-10s %-12s %s\n", "CONTAINER", "USER",
	       "PRIV", "NETWORK", "CAP_ADD", "CAP_DROP", "SEC_OPT", "BIND_MOUNTS", "PORTS");
	for (size_t i = 0; i < jlen(a->containers); i++) {
		json_object *c = json_object_array_get_idx(a->containers, i), *m = jpath(c, "mounts");
		char caps[256], drop[256], sec[256], mounts[512] = "", ports[256] = "", b8[40];
		size_t n = 0;

		join(jpath(c, "cap_add"), NULL, caps, sizeof(caps));
		join(jpath(c, "cap_drop"), NULL, drop, sizeof(drop));
		join(jpath(c, "security_opt"), NULL, sec, sizeof(sec));
		for (size_t k = 0; k < jlen(m) && n < sizeof(mounts); k++) {
			json_object *mo = json_object_array_get_idx(m, k);
			if (strcmp(jstr(mo, "type"), "bind") != 0)
				continue;
			n += (size_t)snprintf(mounts + n, sizeof(mounts) - n, "%s%s:%s%s", n ? "," : "",
					      jstr(mo, "source"), jstr(mo, "destination"),
					      jbool(mo, "rw") ? "" : ":ro");
		}
		n = 0;
		m = jpath(c, "ports");
		for (size_t k = 0; k < jlen(m) && n < sizeof(ports); k++) {
			json_object *p = json_object_array_get_idx(m, k);
			const char *hip = jstr(p, "host_ip");
			char one[96];
			bool wild;

			if (!hip)
				continue;
			/* "8080->80/tcp" for every address (0.0.0.0 and :: once) */
			wild = !*hip || strcmp(hip, "0.0.0.0") == 0 || strcmp(hip, "::") == 0;
			snprintf(one, sizeof(one), "%s%s%d->%d/%s", wild ? "" : hip, wild ? "" : ":",
				 (int)jint(p, "host_port", 0), (int)jint(p, "port", 0), jstr(p, "proto"));
			if (strstr(ports, one))
				continue;
			n += (size_t)snprintf(ports + n, sizeof(ports) - n, "%s%s", n ? "," : "", one);
		}
		printf("%-14s %-8s %-4s %-8s %-10s %-8s %-10s %-12s %s\n",
		       fit(jstr(c, "name"), 14, b1, sizeof(b1)),
		       fit(*jstr(c, "user") ? jstr(c, "user") : "(root)", 8, b2, sizeof(b2)),
		       jbool(c, "privileged") ? "yes" : "-",
		       fit(jstr(c, "network_mode"), 8, b3, sizeof(b3)),
		       fit(*caps ? caps : "-", 10, b4, sizeof(b4)), fit(*drop ? drop : "-", 8, b5, sizeof(b5)),
		       fit(*sec ? sec : "-", 10, b6, sizeof(b6)), fit(*mounts ? mounts : "-", 12, b7, sizeof(b7)),
		       fit(*ports ? ports : "-", 17, b8, sizeof(b8)));
	}
	if (!jlen(a->containers))
		printf("(no running containers)\n");

	printf("\nCONTAINER FINDINGS\n%-16s %-6s %-7s %s\n", "CONTAINER", "ID", "SEV", "ADVICE");
	for (size_t i = 0; i < jlen(a->containers); i++) {
		json_object *c = json_object_array_get_idx(a->containers, i);
		print_findings(jstr(c, "name"), jpath(c, "findings"));
	}

	printf("\nDAEMON %s (Docker %s, API %s, dockerd pid %s)\n", jstr(d, "socket"),
	       jstr(d, "version") ? jstr(d, "version") : "?", jstr(d, "api_version") ? jstr(d, "api_version") : "?",
	       jpath(d, "pid") ? json_object_get_string(jpath(d, "pid")) : "unknown");
	printf("  icc %s, userland-proxy %s, iptables %s, no-new-privileges %s, live-restore %s,\n"
	       "  userns-remap %s, seccomp %s, experimental %s; daemon.json %s%s\n",
	       jbool(d, "icc") ? "on" : "off", jbool(d, "userland_proxy") ? "on" : "off",
	       jbool(d, "iptables") ? "on" : "off", jbool(d, "no_new_privileges") ? "on" : "off",
	       jbool(d, "live_restore") ? "on" : "off", jbool(d, "userns_remap") ? "on" : "off",
	       jstr(d, "seccomp") ? jstr(d, "seccomp") : "none", jbool(d, "experimental") ? "on" : "off",
	       jstr(d, "daemon_json"), jbool(d, "daemon_json_read") ? "" : " (not read)");
	printf("%-16s %-6s %-7s %s\n", "", "ID", "SEV", "ADVICE");
	print_findings("daemon", jpath(d, "findings"));

	printf("\nEXPOSURE (table inet hostguard: %s)\n%-16s %-12s %-26s %-9s %-6s %s\n",
	       l->s ? "loaded" : l->error == -ENOENT ? "NOT LOADED" : "not readable",
	       "CONTAINER", "PATH", "ADDRESS", "PORT", "CLOSED", "REACHABLE BY");
	for (size_t i = 0; i < jlen(a->exposure); i++) {
		json_object *r = json_object_array_get_idx(a->exposure, i);
		char port[16] = "*";

		if (jpath(r, "port"))
			snprintf(port, sizeof(port), "%d/%s", (int)jint(r, "port", 0), jstr(r, "proto"));
		join(jpath(r, "reachable_by"), NULL, s, sizeof(s));
		join(jpath(r, "granted"), NULL, g, sizeof(g));
		printf("%-16s %-12s %-26s %-9s %-6s %s%s%s%s%s\n", fit(jstr(r, "container"), 16, b1, sizeof(b1)),
		       jstr(r, "path"), fit(jstr(r, "address"), 26, b2, sizeof(b2)), port,
		       jbool(r, "closed") ? "yes" : "NO", s, g[0] ? " + grant: " : "", g,
		       jstr(r, "note") ? " - " : "", jstr(r, "note") ? jstr(r, "note") : "");
	}
	if (jlen(a->cannot_close)) {
		printf("\nHOSTGUARD CANNOT CLOSE\n");
		for (size_t i = 0; i < jlen(a->cannot_close); i++)
			printf("  %s\n", json_object_get_string(json_object_array_get_idx(a->cannot_close, i)));
	}
	printf("\nhostguard: audit: %zu containers; %zu high, %zu medium, %zu low findings\n",
	       jlen(a->containers), a->count[SEV_HIGH], a->count[SEV_MEDIUM], a->count[SEV_LOW]);
}

/* ---- the command --------------------------------------------------------------------- */

static int parse_severity(const char *s)
{
	for (int i = SEV_LOW; i <= SEV_HIGH; i++)
		if (strcmp(s, sev_names[i]) == 0)
			return i;
	return -1;
}

/* The docker_socket of the config (or its defaults), after the environment. */
int audit_socket(const char *cmd, char ret[AUDIT_SOCKET_MAX])
{
	struct hg_policy *p = NULL;
	struct hg_error e = { 0 };
	const char *sock;
	int r = hg_config_load(config_path, &p, &e);

	if (r == -ENOENT && e.line == 0)
		r = hg_policy_new_default(&p, &e);
	if (r < 0) {
		err_msg("%s", e.message);
		return r == -ENOMEM || r == -EIO ? EXIT_FAIL : EXIT_INVALID;
	}
	sock = docker_socket(p);
	if (!sock) {
		hg_policy_free(p);
		err_msg("%s: Docker awareness is off (docker_socket = none, or HOSTGUARD_DOCKER_SOCKET=none): nothing to %s",
			cmd, cmd);
		return EXIT_FAIL;
	}
	if (strlen(sock) >= AUDIT_SOCKET_MAX) {
		err_msg("%s: Docker socket path '%.40s...' is too long for a unix socket (at most %d characters)",
			cmd, sock, AUDIT_SOCKET_MAX - 1);
		hg_policy_free(p);
		return EXIT_INVALID;
	}
	strcpy(ret, sock);
	hg_policy_free(p);
	return EXIT_OK;
}

int cmd_audit(int argc, char **argv)
{
	struct audit a = { 0 };
	struct audit_docker d;
	struct audit_live l = { 0 };
	json_object *dj = NULL;
	char sock[AUDIT_SOCKET_MAX];
	const char *djpath = NULL;
	char err[DOCKER_ERR_LEN], why[512] = "";
	bool json = false, nnp = false;
	int fail_on = SEV_HIGH, r;

	for (int i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			cmd_usage(stdout, "audit");
			printf("  Every running container (user, capabilities, security options, privileged,\n"
			       "  namespaces, mounts, ports, limits, health check), the daemon (/info,\n"
			       "  dockerd's command line, daemon.json) and, per container port, who on this\n"
			       "  host can reach it by which path (bridge, published, docker-proxy) given the\n"
			       "  live table. Findings carry docker-bench-security ids (CIS 1.6.0).\n"
			       "  --json               one JSON object (doc/json.md)\n"
			       "  --fail-on SEVERITY   low, medium or high (default): exit 1 when a finding\n"
			       "                       is at least that severe\n"
			       "  --daemon-json PATH   daemon.json to read (default: dockerd's --config-file,\n"
			       "                       else /etc/docker/daemon.json)\n"
			       "  Exit: 0 no finding reaches --fail-on, 1 one does or Docker is unreachable,\n"
			       "  2 usage or invalid config.\n");
			return EXIT_OK;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--fail-on") == 0 || strncmp(argv[i], "--fail-on=", 10) == 0) {
			const char *v = argv[i][9] == '=' ? argv[i] + 10 : i + 1 < argc ? argv[++i] : "";
			fail_on = parse_severity(v);
			if (fail_on < 0) {
				err_msg("audit: invalid --fail-on '%s' (expected low, medium or high)", v);
				return EXIT_INVALID;
			}
		} else if (strcmp(argv[i], "--daemon-json") == 0 || strncmp(argv[i], "--daemon-json=", 14) == 0) {
			djpath = argv[i][13] == '=' ? argv[i] + 14 : i + 1 < argc ? argv[++i] : "";
			if (!*djpath) {
				err_msg("audit: --daemon-json needs a path");
				return EXIT_INVALID;
			}
		} else {
			err_msg("audit: unexpected argument '%s'", argv[i]);
			cmd_usage(stderr, "audit");
			return EXIT_INVALID;
		}
	}
	r = audit_socket("audit", sock);
	if (r)
		return r;
	r = audit_docker_read(sock, &d, err);
	if (r < 0) {
		err_msg("audit: cannot read Docker: %s", err);
		return EXIT_FAIL;
	}
	if (!djpath)
		djpath = dockerd_flag(&d, "--config-file", NULL, true, 0);
	if (!djpath)
		djpath = "/etc/docker/daemon.json";
	dj = load_daemon_json(djpath, why, sizeof(why));
	audit_live_read(&l);

	a.root = json_object_new_object();
	a.containers = json_object_new_array();
	a.daemon = json_object_new_object();
	a.exposure = json_object_new_array();
	a.cannot_close = json_object_new_array();
	audit_daemon(&a, &d, dj, djpath, why, &nnp);
	for (size_t i = 0; i < d.n; i++)
		audit_container(&a, &d, d.inspect[i], nnp);
	for (size_t i = 0; i < jlen(a.containers); i++)
		audit_exposure(&a, &l, json_object_array_get_idx(a.containers, i), dockerd_userland_proxy(&d, dj));

	json_object_object_add(a.root, "containers", a.containers);
	json_object_object_add(a.root, "daemon", a.daemon);
	{
		json_object *t = json_object_new_object();
		json_object_object_add(t, "loaded", json_object_new_boolean(l.s != NULL));
		json_object_object_add(t, "allowed", allowed_list(&l));
		json_object_object_add(a.root, "table", t);
	}
	json_object_object_add(a.root, "exposure", a.exposure);
	json_object_object_add(a.root, "cannot_close", a.cannot_close);
	{
		json_object *s = json_object_new_object();
		json_object_object_add(s, "high", json_object_new_int((int)a.count[SEV_HIGH]));
		json_object_object_add(s, "medium", json_object_new_int((int)a.count[SEV_MEDIUM]));
		json_object_object_add(s, "low", json_object_new_int((int)a.count[SEV_LOW]));
		json_object_object_add(s, "fail_on", json_object_new_string(sev_names[fail_on]));
		json_object_object_add(a.root, "summary", s);
	}
	if (json)
		printf("%s\n", json_object_to_json_string_ext(a.root, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
	else
		print_text(&a, &l);
	r = a.worst >= fail_on ? EXIT_FAIL : EXIT_OK;
	json_object_put(a.root);
	json_object_put(dj);
	audit_live_free(&l);
	audit_docker_free(&d);
	return r;
}
