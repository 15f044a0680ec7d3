/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * verify: a live self-test with real packets on this host only.  Every
 * container address and TCP port Docker knows, and every published TCP port
 * on every address of this host (loopback, hence docker-proxy, included;
 * IPv4 and IPv6), is connected to twice at once: by a child that dropped to
 * a non-allowed uid (it must be kept out) and by one running as an allowed
 * uid (it must get through, which shows the probes can succeed).  All
 * connects are non-blocking and run in parallel with one deadline each.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"

#define DEFAULT_TIMEOUT_MS 1000
#define MAX_TIMEOUT_MS 10000
#define MAX_TARGETS 8192

enum got { G_NONE, G_CONNECTED, G_BLOCKED, G_TIMEOUT, G_REFUSED, G_UNREACH, G_ERROR };
static const char *const got_names[] = {
	"not tried", "connected", "blocked", "timeout", "not listening", "unreachable", "error"
};

struct target {
	const char *path;       /* bridge, published, docker-proxy */
	char container[64];
	char addr[INET6_ADDRSTRLEN + 8];
	uint16_t port;
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned char got[2];   /* [0] the non-allowed uid, [1] the allowed one */
};

struct targets {
	struct target *v;
	size_t n, cap;
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* ---- local addresses ------------------------------------------------------ */

static bool in_prefix(const struct sockaddr *a, const struct sockaddr *addr, const struct sockaddr *mask)
{
	if (!addr || !mask || a->sa_family != addr->sa_family)
		return false;
	if (a->sa_family == AF_INET) {
		uint32_t x = ((const struct sockaddr_in *)a)->sin_addr.s_addr;
		uint32_t y = ((const struct sockaddr_in *)addr)->sin_addr.s_addr;
		uint32_t m = ((const struct sockaddr_in *)mask)->sin_addr.s_addr;
		return m && (x & m) == (y & m);
	}
	const unsigned char *x = ((const struct sockaddr_in6 *)a)->sin6_addr.s6_addr;
	const unsigned char *y = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
	const unsigned char *m = ((const struct sockaddr_in6 *)mask)->sin6_addr.s6_addr;
	bool any = false;
	for (int i = 0; i < 16; i++) {
		any |= m[i] != 0;
		if ((x[i] & m[i]) != (y[i] & m[i]))
			return false;
	}
	return any;
}

/* A container address must be on a subnet of one of this host's non-loopback
 * interfaces: verify never sends anywhere else. */
static bool on_local_subnet(struct ifaddrs *ifa, const struct sockaddr *a)
{
	for (; ifa; ifa = ifa->ifa_next)
		if (ifa->ifa_addr && !(ifa->ifa_flags & IFF_LOOPBACK) &&
		    in_prefix(a, ifa->ifa_addr, ifa->ifa_netmask))
			return true;
	return false;
}

static bool is_link_local6(const struct sockaddr *a)
{
	const unsigned char *b = ((const struct sockaddr_in6 *)a)->sin6_addr.s6_addr;

	return a->sa_family == AF_INET6 && b[0] == 0xfe && (b[1] & 0xc0) == 0x80;
}

static int parse_addr(const char *s, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		return 0;
	}
	return -EINVAL;
}

/* ---- targets ---------------------------------------------------------------- */

static int add_target(struct targets *t, const char *path, const char *container, const char *addr,
		      uint16_t port)
{
	struct target *x;

	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].port == port && strcmp(t->v[i].addr, addr) == 0)
			return 0;       /* the same socket address once */
	if (t->n == MAX_TARGETS)
		return -E2BIG;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct target *v = realloc(t->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	x = &t->v[t->n];
	memset(x, 0, sizeof(*x));
	if (parse_addr(addr, port, &x->ss, &x->len) < 0)
		return 0;
	x->path = path;
	snprintf(x->container, sizeof(x->container), "%s", container);
	snprintf(x->addr, sizeof(x->addr), "%s", addr);
	x->port = port;
	t->n++;
	return 0;
}

static bool is_wild(const char *hip, int family)
{
	if (!*hip)
		return true;
	return family == AF_INET ? strcmp(hip, "0.0.0.0") == 0 : strcmp(hip, "::") == 0;
}

static int collect(const struct audit_docker *d, bool proxy, struct targets *t, size_t *ret_skipped)
{
	struct ifaddrs *ifa = NULL;
	int r = 0;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	*ret_skipped = 0;
	for (size_t i = 0; i < d->n && r == 0; i++) {
		json_object *c = d->inspect[i], *ports = jpath(c, "NetworkSettings.Ports");
		json_object *nets = jpath(c, "NetworkSettings.Networks");
		const char *name = jstr(c, "Name"), *mode = jstr(c, "HostConfig.NetworkMode");

		name = name ? (*name == '/' ? name + 1 : name) : "?";
		if (mode && strcmp(mode, "host") == 0)
			continue;       /* its ports are local services: nothing to prove */
		if (!ports || !json_object_is_type(ports, json_type_object))
			continue;
		json_object_object_foreach(ports, key, binds) {
			unsigned port = 0;
			char proto[8] = "";

			if (sscanf(key, "%u/%7s", &port, proto) != 2 || strcmp(proto, "tcp") != 0 ||
			    port < 1 || port > 65535)
				continue;
			/* the bridge path: the container's own addresses */
			if (nets && json_object_is_type(nets, json_type_object)) {
				json_object_object_foreach(nets, net, info) {
					const char *a[2] = { jstr(info, "IPAddress"), jstr(info, "GlobalIPv6Address") };
					(void)net;
					for (int k = 0; k < 2 && r == 0; k++) {
						struct sockaddr_storage ss;
						socklen_t len;

						if (!a[k] || !*a[k] || parse_addr(a[k], (uint16_t)port, &ss, &len) < 0)
							continue;
						if (!on_local_subnet(ifa, (struct sockaddr *)&ss)) {
							(*ret_skipped)++;
							continue;
						}
						r = add_target(t, "bridge", name, a[k], (uint16_t)port);
					}
				}
			}
			/* published: every host address the binding listens on */
			for (size_t b = 0; b < (binds && json_object_is_type(binds, json_type_array) ?
						json_object_array_length(binds) : 0) && r == 0; b++) {
				json_object *bo = json_object_array_get_idx(binds, b);
				const char *hip = jstr(bo, "HostIp"), *hp = jstr(bo, "HostPort");
				int hport = hp ? atoi(hp) : 0;

				if (!hip || hport < 1 || hport > 65535)
					continue;
				for (struct ifaddrs *x = ifa; x && r == 0; x = x->ifa_next) {
					char buf[INET6_ADDRSTRLEN];
					int fam = x->ifa_addr ? x->ifa_addr->sa_family : 0;
					const void *src;
					bool lo;

					if (fam != AF_INET && fam != AF_INET6)
						continue;
					if (is_link_local6(x->ifa_addr))
						continue;
					src = fam == AF_INET ? (const void *)&((struct sockaddr_in *)x->ifa_addr)->sin_addr :
							       (const void *)&((struct sockaddr_in6 *)x->ifa_addr)->sin6_addr;
					inet_ntop(fam, src, buf, sizeof(buf));
					/* docker-proxy of "0.0.0.0" listens on both families */
					if (!is_wild(hip, fam) && !(proxy && strcmp(hip, "0.0.0.0") == 0 && fam == AF_INET6) &&
					    strcmp(hip, buf) != 0)
						continue;
					lo = (x->ifa_flags & IFF_LOOPBACK) != 0;
					r = add_target(t, lo && proxy ? "docker-proxy" : "published", name, buf,
						       (uint16_t)hport);
				}
			}
		}
	}
	freeifaddrs(ifa);
	return r;
}

/* ---- probing ------------------------------------------------------------------- */

static enum got classify(int e)
{
	switch (e) {
	case 0:
		return G_CONNECTED;
	case EPERM:
	case EACCES:
		return G_BLOCKED;     /* a local netfilter drop */
	case ETIMEDOUT:
		return G_TIMEOUT;
	case ECONNREFUSED:
	case ECONNRESET:
		return G_REFUSED;
	case EHOSTUNREACH:
	case ENETUNREACH:
		return G_UNREACH;
	default:
		return G_ERROR;
	}
}

/* Connects to every target at once (at most window in flight), each with
 * its own deadline; results into got[]. */
static void probe_all(const struct target *t, size_t n, int timeout_ms, unsigned char *got)
{
	struct rlimit rl;
	size_t window = 256, next = 0, active = 0;
	struct pollfd *pfd;
	size_t *idx;
	long *deadline;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur > 64 && rl.rlim_cur - 32 > window)
			window = rl.rlim_cur - 32 > 4096 ? 4096 : rl.rlim_cur - 32;
	}
	pfd = calloc(window, sizeof(*pfd));
	idx = calloc(window, sizeof(*idx));
	deadline = calloc(window, sizeof(*deadline));
	if (!pfd || !idx || !deadline) {
		for (size_t i = 0; i < n; i++)
			got[i] = G_ERROR;
		goto out;
	}
	for (;;) {
		long now;
		int r;

		while (next < n && active < window) {
			int fd = socket(t[next].ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

			if (fd < 0) {
				got[next++] = G_ERROR;
				continue;
			}
			if (connect(fd, (const struct sockaddr *)&t[next].ss, t[next].len) == 0 ||
			    errno != EINPROGRESS) {
				got[next] = classify(errno == EINPROGRESS ? 0 : errno);
				if (got[next] == G_CONNECTED && errno != 0)
					got[next] = G_CONNECTED;
				close(fd);
				next++;
				continue;
			}
			pfd[active] = (struct pollfd){ .fd = fd, .events = POLLOUT };
			idx[active] = next;
			deadline[active] = now_ms() + timeout_ms;
			active++;
			next++;
		}
		if (!active)
			break;
		now = now_ms();
		long wait = deadline[0] - now;
		for (size_t i = 1; i < active; i++)
			if (deadline[i] - now < wait)
				wait = deadline[i] - now;
		r = poll(pfd, active, wait < 0 ? 0 : (int)wait);
		if (r < 0 && errno != EINTR) {
			for (size_t i = 0; i < active; i++) {
				got[idx[i]] = G_ERROR;
				close(pfd[i].fd);
			}
			active = 0;
			continue;
		}
		now = now_ms();
		for (size_t i = 0; i < active;) {
			int soerr = 0;
			socklen_t sl = sizeof(soerr);

			if (pfd[i].revents) {
				if (getsockopt(pfd[i].fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
					soerr = errno;
				got[idx[i]] = classify(soerr);
			} else if (now >= deadline[i]) {
				got[idx[i]] = G_TIMEOUT;
			} else {
				i++;
				continue;
			}
			close(pfd[i].fd);
			active--;
			pfd[i] = pfd[active];
			idx[i] = idx[active];
			deadline[i] = deadline[active];
		}
	}
out:
	free(pfd);
	free(idx);
	free(deadline);
}

/* A child that becomes uid/gid (no supplementary groups, so no capability
 * left once the uid is not 0), probes, and writes the results to a pipe. */
static pid_t spawn_prober(uid_t uid, gid_t gid, const struct target *t, size_t n, int timeout_ms,
			  int *ret_fd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		unsigned char *got = calloc(n + 1, 1);
		size_t off = 0;

		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (!got || setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
		    setresuid(uid, uid, uid) < 0)
			_exit(3);
		/* make sure it took: a probe as the wrong uid proves nothing */
		if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid)
			_exit(3);
		probe_all(t, n, timeout_ms, got);
		while (off < n) {
			ssize_t w = write(p[1], got + off, n - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				_exit(3);
			off += (size_t)w;
		}
		_exit(0);
	}
	close(p[1]);
	*ret_fd = p[0];
	return pid;
}

static int collect_results(pid_t pid, int fd, unsigned char *got, size_t n)
{
	size_t off = 0;
	int status = 0;

	while (off < n) {
		ssize_t r = read(fd, got + off, n - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	close(fd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return off == n && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* ---- the command -------------------------------------------------------------------- */

enum verdict { V_PASS, V_LEAK, V_REFUSED, V_NOT_LISTENING };
static const char *const verdict_names[] = { "pass", "LEAK", "REFUSED", "not listening" };

/* The non-allowed attempt: anything but a drop means the packet went
 * through hostguard (a connection, or a reset from whatever is behind). */
static enum verdict judge_denied(unsigned char g)
{
	return g == G_BLOCKED || g == G_TIMEOUT || g == G_UNREACH ? V_PASS : V_LEAK;
}

static enum verdict judge_allowed(unsigned char g)
{
	return g == G_CONNECTED ? V_PASS : g == G_REFUSED ? V_NOT_LISTENING : V_REFUSED;
}

static int parse_uid(const char *s, uid_t *ret_uid, gid_t *ret_gid, char *name, size_t len)
{
	struct passwd *pw;
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s && !*end && errno == 0 && v < 0xffffffffUL) {
		pw = getpwuid((uid_t)v);
		*ret_uid = (uid_t)v;
		/* a uid without a passwd entry: the gid of the same number */
		*ret_gid = pw ? pw->pw_gid : (gid_t)v;
		snprintf(name, len, "%s", pw ? pw->pw_name : s);
		return 0;
	}
	pw = getpwnam(s);
	if (!pw)
		return -ENOENT;
	*ret_uid = pw->pw_uid;
	*ret_gid = pw->pw_gid;
	snprintf(name, len, "%s", pw->pw_name);
	return 0;
}

int cmd_verify(int argc, char **argv)
{
	struct audit_docker d = { 0 };
	struct audit_live l = { 0 };
	struct targets t = { 0 };
	char sock[AUDIT_SOCKET_MAX];
	const char *uid_arg = "nobody";
	char err[DOCKER_ERR_LEN], dname[64], aname[64] = "root";
	bool json = false, proxy;
	uid_t duid, auid = 0;
	gid_t dgid, agid = 0;
	size_t skipped = 0, count[4] = { 0 };
	int timeout = DEFAULT_TIMEOUT_MS, fd[2] = { -1, -1 }, r, ret = EXIT_FAIL;
	pid_t pid[2] = { -1, -1 };
	unsigned char *got[2] = { NULL, NULL };
	long t0 = now_ms();

	for (int i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			cmd_usage(stdout, "verify");
			printf("  Sends real TCP connects, on this host only: to every container address and\n"
			       "  TCP port Docker knows (the bridge path) and to every published TCP port on\n"
			       "  every address of this host, loopback included (published, docker-proxy),\n"
			       "  IPv4 and IPv6; once as a non-allowed uid, which must be kept out, and once\n"
			       "  as an allowed uid (root when allowed), which must get through.\n"
			       "  --uid UID|USER   the non-allowed uid (default nobody); an allowed one is refused\n"
			       "  --timeout MS     per connect (default %d, at most %d)\n"
			       "  --json           one JSON object (doc/json.md)\n"
			       "  Exit: 0 every non-allowed attempt was kept out and every allowed one got\n"
			       "  through (\"not listening\" is reported, neither pass nor failure); 1 a leak,\n"
			       "  an allowed attempt refused, or Docker unreachable; 2 usage.\n",
			       DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS);
			return EXIT_OK;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if ((strcmp(argv[i], "--uid") == 0 || strcmp(argv[i], "--timeout") == 0) && i + 1 < argc) {
			if (argv[i][2] == 'u') {
				uid_arg = argv[++i];
			} else {
				char *end;
				long v = strtol(argv[++i], &end, 10);
				if (!*argv[i] || *end || v < 10 || v > MAX_TIMEOUT_MS) {
					err_msg("verify: invalid --timeout '%s' (expected milliseconds, 10-%d)",
						argv[i], MAX_TIMEOUT_MS);
					return EXIT_INVALID;
				}
				timeout = (int)v;
			}
		} else {
			err_msg("verify: unexpected argument '%s'", argv[i]);
			cmd_usage(stderr, "verify");
			return EXIT_INVALID;
		}
	}
	if (parse_uid(uid_arg, &duid, &dgid, dname, sizeof(dname)) < 0) {
		err_msg("verify: unknown user '%s'", uid_arg);
		return EXIT_INVALID;
	}
	audit_live_read(&l);
	if (duid == 0 || live_has(&l, HG_KEY_UIDS, duid) || live_has(&l, HG_KEY_GIDS, dgid)) {
		err_msg("verify: uid %u (%s, gid %u) is allowed to reach containers; --uid needs a non-allowed uid",
			(unsigned)duid, dname, (unsigned)dgid);
		ret = EXIT_INVALID;
		goto out;
	}
	/* the allowed side: root when the table allows it (or there is no table) */
	if (l.s && !live_has(&l, HG_KEY_UIDS, 0)) {
		if (hg_state_count(l.s, HG_KEY_UIDS) > 0) {
			uint32_t lo = 0, hi = 0;
			struct passwd *pw;

			hg_state_range(l.s, HG_KEY_UIDS, 0, &lo, &hi);
			auid = lo;
			pw = getpwuid(auid);
			agid = pw ? pw->pw_gid : (gid_t)auid;
			snprintf(aname, sizeof(aname), "%s", pw ? pw->pw_name : "?");
		} else {
			auid = (uid_t)-1;
		}
	}
	r = audit_socket("verify", sock);
	if (r) {
		ret = r;
		goto out;
	}
	r = audit_docker_read(sock, &d, err);
	if (r < 0) {
		err_msg("verify: cannot read Docker: %s", err);
		goto out;
	}
	{
		json_object *dj = NULL;
		const char *p = dockerd_flag(&d, "--config-file", NULL, true, 0);
		dj = json_object_from_file(p ? p : "/etc/docker/daemon.json");
		proxy = dockerd_userland_proxy(&d, dj && json_object_is_type(dj, json_type_object) ? dj : NULL);
		json_object_put(dj);
	}
	r = collect(&d, proxy, &t, &skipped);
	if (r < 0) {
		err_msg("verify: %s", r == -E2BIG ? "more than 8192 targets" : strerror(-r));
		goto out;
	}
	got[0] = calloc(t.n + 1, 1);
	got[1] = calloc(t.n + 1, 1);
	if (!got[0] || !got[1]) {
		err_msg("verify: out of memory");
		goto out;
	}
	fflush(stdout);
	fflush(stderr);
	pid[0] = spawn_prober(duid, dgid, t.v, t.n, timeout, &fd[0]);
	if (auid != (uid_t)-1)
		pid[1] = spawn_prober(auid, agid, t.v, t.n, timeout, &fd[1]);
	if (pid[0] < 0 || (auid != (uid_t)-1 && pid[1] < 0)) {
		err_msg("verify: cannot start the probes: %s", strerror(errno));
		goto out;
	}
	if (collect_results(pid[0], fd[0], got[0], t.n) < 0 ||
	    (pid[1] > 0 && collect_results(pid[1], fd[1], got[1], t.n) < 0)) {
		pid[0] = pid[1] = -1;
		err_msg("verify: a probe could not run as its uid (needs root, or CAP_SETUID and CAP_SETGID)");
		goto out;
	}
	pid[0] = pid[1] = -1;

	if (json)
		printf("{\"uid\":%u,\"user\":", (unsigned)duid);
	else
		printf("%-12s %-16s %-28s %-7s %-9s %-13s %s\n", "PATH", "CONTAINER", "TARGET", "AS",
		       "EXPECTED", "GOT", "RESULT");
	if (json) {
		json_str(stdout, dname);
		printf(",\"allowed_uid\":");
		if (auid == (uid_t)-1)
			printf("null");
		else
			printf("%u", (unsigned)auid);
		printf(",\"table_loaded\":%s,\"attempts\":[", l.s ? "true" : "false");
	}
	for (size_t i = 0, k = 0; i < t.n; i++) {
		const struct target *x = &t.v[i];
		char target[INET6_ADDRSTRLEN + 16];

		snprintf(target, sizeof(target), strchr(x->addr, ':') ? "[%s]:%u" : "%s:%u", x->addr, x->port);
		for (int side = 0; side < 2; side++) {
			enum verdict v;

			if (side == 1 && auid == (uid_t)-1)
				continue;
			v = side == 0 ? judge_denied(got[0][i]) : judge_allowed(got[1][i]);
			count[v]++;
			if (json) {
				printf("%s{\"path\":\"%s\",\"container\":", k++ ? "," : "", x->path);
				json_str(stdout, x->container);
				printf(",\"address\":\"%s\",\"port\":%u,\"proto\":\"tcp\",\"as\":", x->addr, x->port);
				json_str(stdout, side == 0 ? dname : aname);
				printf(",\"uid\":%u,\"expected\":\"%s\",\"got\":\"%s\",\"result\":\"%s\"}",
				       (unsigned)(side == 0 ? duid : auid), side == 0 ? "kept out" : "reach",
				       got_names[got[side][i]], verdict_names[v]);
			} else {
				char b1[40];
				printf("%-12s %-16.16s %-28s %-7.7s %-9s %-13s %s\n", x->path,
				       x->container, strlen(target) > 28 ? (snprintf(b1, sizeof(b1), "%.27s~", target), b1) : target,
				       side == 0 ? dname : aname, side == 0 ? "kept out" : "reach",
				       got_names[got[side][i]], verdict_names[v]);
			}
		}
	}
	ret = count[V_LEAK] || count[V_REFUSED] ? EXIT_FAIL : EXIT_OK;
	if (json) {
		printf("],\"leaks\":%zu,\"refused\":%zu,\"not_listening\":%zu,\"passed\":%zu,"
		       "\"skipped_not_local\":%zu,\"milliseconds\":%ld}\n", count[V_LEAK], count[V_REFUSED],
		       count[V_NOT_LISTENING], count[V_PASS], skipped, now_ms() - t0);
	} else {
		if (!l.s)
			printf("table inet hostguard is %s: nothing keeps %s out\n",
			       l.error == -ENOENT ? "not loaded" : "not readable", dname);
		if (auid == (uid_t)-1)
			printf("no allowed uid in the live table: no attempt shows the probes can succeed\n");
		if (skipped)
			printf("%zu container addresses not on a local subnet were not contacted\n", skipped);
		for (size_t i = 0; i < t.n; i++)
			if (judge_denied(got[0][i]) == V_LEAK)
				printf(strchr(t.v[i].addr, ':') ? "LEAK: %s reached [%s]:%u of %s by the %s path (%s)\n" :
				       "LEAK: %s reached %s:%u of %s by the %s path (%s)\n", dname, t.v[i].addr,
				       t.v[i].port, t.v[i].container, t.v[i].path, got_names[got[0][i]]);
		for (size_t i = 0; auid != (uid_t)-1 && i < t.n; i++)
			if (judge_allowed(got[1][i]) == V_REFUSED)
				printf(strchr(t.v[i].addr, ':') ? "REFUSED: %s could not reach [%s]:%u of %s by the %s path (%s)\n" :
				       "REFUSED: %s could not reach %s:%u of %s by the %s path (%s)\n", aname, t.v[i].addr,
				       t.v[i].port, t.v[i].container, t.v[i].path, got_names[got[1][i]]);
		printf("hostguard: verify: %zu targets, %zu passed, %zu leaks, %zu allowed attempts refused, "
		       "%zu not listening (%ld ms)\n", t.n, count[V_PASS], count[V_LEAK], count[V_REFUSED],
		       count[V_NOT_LISTENING], now_ms() - t0);
	}
out:
	for (int i = 0; i < 2; i++) {
		if (pid[i] > 0) {
			kill(pid[i], SIGKILL);
			waitpid(pid[i], NULL, 0);
		}
		if (fd[i] >= 0 && pid[i] > 0)
			close(fd[i]);
		free(got[i]);
	}
	free(t.v);
	audit_live_free(&l);
	audit_docker_free(&d);
	return ret;
}
