/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * docker-proxy processes: Docker's userland proxy listens on the host's
 * addresses (127.0.0.1 and ::1 included) for each published port and
 * connects to the container from the host.  Local users reach the container
 * through it unless the port is in published_tcp/published_udp, which
 * hostguard fills from Docker's socket, or the config by hand.  With
 * docker_socket = none, or Docker unreachable, and the port not listed,
 * nothing keeps them out: status says so.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "docker.h"
#include "proxy.h"

static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* "-host-port 8080" and friends from a NUL-separated command line */
static void parse_cmdline(struct proxy *px, const char *cmd, size_t len)
{
	const char *args[64];
	size_t n = 0;

	for (size_t at = 0; at < len && n < 64; at += strlen(cmd + at) + 1)
		args[n++] = cmd + at;
	for (size_t i = 0; i + 1 < n; i++) {
		const char *a = args[i], *v = args[i + 1];
		if (a[0] == '-' && a[1] == '-')
			a++;
		if (strcmp(a, "-proto") == 0)
			snprintf(px->proto, sizeof(px->proto), "%s", v);
		else if (strcmp(a, "-host-ip") == 0)
			snprintf(px->host_ip, sizeof(px->host_ip), "%s", v);
		else if (strcmp(a, "-host-port") == 0)
			px->host_port = atoi(v);
		else if (strcmp(a, "-container-ip") == 0)
			snprintf(px->container_ip, sizeof(px->container_ip), "%s", v);
		else if (strcmp(a, "-container-port") == 0)
			px->container_port = atoi(v);
	}
}

/* The network namespace of a process, as an inode: /proc/PID/ns/net when it
 * may be read (ptrace rules: another root process's needs more than
 * CAP_NET_ADMIN), else the inode of its /proc/PID/net/unix, which is one per
 * namespace and open to everyone. */
static int netns_of(const char *pid, struct stat *ret)
{
	char path[300];

	snprintf(path, sizeof(path), "/proc/%s/ns/net", pid);
	if (stat(path, ret) == 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%s/net/unix", pid);
	return stat(path, ret) == 0 ? 1 : -1;
}

int proxies_read(struct proxy **ret, size_t *ret_n)
{
	struct proxy *v = NULL;
	size_t n = 0;
	struct stat self, self_unix;
	struct dirent *de;
	DIR *d;

	if (stat("/proc/self/ns/net", &self) < 0 || stat("/proc/self/net/unix", &self_unix) < 0)
		return -errno;
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[300], comm[32], cmd[4096];
		struct proxy px = { 0 };
		struct stat ns;
		ssize_t len;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		if (read_small(path, comm, sizeof(comm)) <= 0 || strcmp(comm, "docker-proxy\n") != 0)
			continue;
		px.pid = atoi(de->d_name);
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		len = read_small(path, cmd, sizeof(cmd));
		if (len > 0)
			parse_cmdline(&px, cmd, (size_t)len);
		/* its network namespace must be ours */
		switch (netns_of(de->d_name, &ns)) {
		case 0:
			if (ns.st_ino != self.st_ino || ns.st_dev != self.st_dev)
				continue;
			break;
		case 1:
			if (ns.st_ino != self_unix.st_ino || ns.st_dev != self_unix.st_dev)
				continue;
			break;
		default:
			continue;  /* gone meanwhile */
		}
		struct proxy *nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			free(v);
			closedir(d);
			return -ENOMEM;
		}
		v = nv;
		v[n++] = px;
	}
	closedir(d);
	*ret = v;
	*ret_n = n;
	return 0;
}

static bool port_in(const struct hg_policy *p, const struct hg_state *s, enum hg_key k, int port)
{
	uint32_t lo, hi;

	if (p) {
		for (size_t i = 0; i < hg_policy_count(p, k); i++)
			if (hg_value_parse(k, hg_policy_token(p, k, i), &lo, &hi, NULL) == 0 &&
			    lo <= (uint32_t)port && (uint32_t)port <= hi)
				return true;
		return false;
	}
	for (size_t i = 0; s && i < hg_state_count(s, k); i++) {
		hg_state_range(s, k, i, &lo, &hi);
		if (lo <= (uint32_t)port && (uint32_t)port <= hi)
			return true;
	}
	return false;
}

static size_t published(const struct hg_policy *p, const struct hg_state *s, enum hg_key k)
{
	return p ? hg_policy_count(p, k) : s ? hg_state_count(s, k) : 0;
}

bool proxy_protected(const struct proxy *px, const struct hg_policy *p, const struct hg_state *s)
{
	bool udp = strcmp(px->proto, "udp") == 0;
	enum hg_key k = udp ? HG_KEY_PUBLISHED_UDP : HG_KEY_PUBLISHED_TCP;

	if (px->host_port > 0 && px->host_port < 65536)
		return port_in(p, s, k, px->host_port);
	/* no port on its command line: protected only if Docker's ports are known at all */
	return published(p, s, HG_KEY_PUBLISHED_TCP) + published(p, s, HG_KEY_PUBLISHED_UDP) > 0;
}

char *proxy_warning(const struct proxy *px, const struct hg_policy *p)
{
	const char *sock = p ? docker_socket(p) : NULL;  /* HOSTGUARD_DOCKER_SOCKET first */
	bool udp = strcmp(px->proto, "udp") == 0;
	char *w = NULL;
	int r;

	if (px->host_port > 0)
		r = asprintf(&w, "docker-proxy (pid %d) forwards %s port %d (%s) to %s:%d, and published_%s "
			     "does not hold %d: every local user reaches that container through 127.0.0.1/::1:%d "
			     "(%s: list %d in published_%s, or let hostguard ask Docker)",
			     px->pid, udp ? "udp" : "tcp", px->host_port, px->host_ip[0] ? px->host_ip : "every address",
			     px->container_ip[0] ? px->container_ip : "?", px->container_port, udp ? "udp" : "tcp",
			     px->host_port, px->host_port,
			     sock ? "Docker's socket did not tell it" : "docker_socket = none",
			     px->host_port, udp ? "udp" : "tcp");
	else
		r = asprintf(&w, "docker-proxy (pid %d) runs and published_tcp/published_udp are empty: every "
			     "local user reaches its container through the host's addresses, 127.0.0.1/::1 included "
			     "(%s: list its ports in published_tcp/udp, or let hostguard ask Docker)",
			     px->pid, sock ? "Docker's socket did not tell them" : "docker_socket = none");
	return r < 0 ? NULL : w;
}
