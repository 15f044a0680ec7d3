/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hg-probe: the packet tool of the netns tests.
 *
 *   hg-probe serve tcp|udp PORT [--ready FILE]
 *       Echo server on every address of the namespace (IPv4 and IPv6).
 *       UDP replies leave from the address the request was sent to.
 *   hg-probe connect tcp|udp ADDR PORT [--timeout MS]
 *       Sends a line and waits for its echo.  Prints and exits with:
 *       "ok" 0, "timeout" 1, "refused" 2 (RST, ICMP error), "error" 3,
 *       "blocked" 4 (EPERM: dropped by the local firewall on the way out).
 *   hg-probe flood tcp|udp ADDR PORT --duration MS [--timeout MS] [--interval MS] [--log FILE]
 *       Connects (tcp) or sends datagrams (udp) over and over for the
 *       duration, at most one attempt every --interval ms (default: no
 *       pause), and prints "attempts=N ok=K".  Exit 0.  A TCP
 *       connection is closed with a reset once its echo is back, so that
 *       no TIME_WAIT is left to run the client out of local ports.  --log FILE gets
 *       one line "START END" per attempt that got through: wall-clock
 *       microseconds (CLOCK_REALTIME, as bash's $EPOCHREALTIME).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { R_OK_ = 0, R_TIMEOUT = 1, R_REFUSED = 2, R_ERROR = 3, R_BLOCKED = 4 };

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static long long wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int parse_addr(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (void *)ss;
	struct sockaddr_in6 *s6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return 0;
	}
	return -1;
}

static int refused_errno(int e)
{
	return e == ECONNREFUSED || e == EHOSTUNREACH || e == ENETUNREACH || e == ECONNRESET;
}

/* A local netfilter drop makes send() fail with EPERM right away. */
static int fail_result(int e)
{
	if (e == EPERM || e == EACCES)
		return R_BLOCKED;
	return refused_errno(e) ? R_REFUSED : R_ERROR;
}

/* Waits for fd to be ready for events until deadline; 0 ready, 1 timeout. */
static int wait_fd(int fd, short events, long deadline)
{
	for (;;) {
		struct pollfd p = { fd, events, 0 };
		long left = deadline - now_ms();
		int r;
		if (left <= 0)
			return 1;
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return 1;
		return 0;
	}
}

/* abort: close a TCP connection with a reset (SO_LINGER 0) instead of a
 * FIN, so that it leaves no TIME_WAIT on either side: a flood of tens of
 * thousands of connections would otherwise run the client out of local
 * ports within seconds and measure that instead of the path. */
static int try_once(bool tcp, const struct sockaddr_storage *ss, socklen_t len, int timeout_ms,
		    bool abort_close)
{
	const char msg[] = "hostguard-probe\n";
	char buf[64];
	long deadline = now_ms() + timeout_ms;
	int fd, r, res = R_ERROR;
	ssize_t n;

	fd = socket(ss->ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return R_ERROR;
	if (tcp) {
		r = connect(fd, (const struct sockaddr *)ss, len);
		if (r < 0 && errno != EINPROGRESS) {
			res = fail_result(errno);
			goto out;
		}
		r = wait_fd(fd, POLLOUT, deadline);
		if (r) {
			res = r > 0 ? R_TIMEOUT : R_ERROR;
			goto out;
		}
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr) {
			res = soerr == ETIMEDOUT ? R_TIMEOUT : fail_result(soerr);
			goto out;
		}
		if (send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL) < 0) {
			res = fail_result(errno);
			goto out;
		}
	} else {
		/* Connected UDP: an ICMP port unreachable shows as ECONNREFUSED. */
		if (connect(fd, (const struct sockaddr *)ss, len) < 0 ||
		    send(fd, msg, sizeof(msg) - 1, 0) < 0) {
			res = fail_result(errno);
			goto out;
		}
	}
	for (;;) {
		r = wait_fd(fd, POLLIN, deadline);
		if (r) {
			res = r > 0 ? R_TIMEOUT : R_ERROR;
			goto out;
		}
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			res = fail_result(errno);
			goto out;
		}
		res = (size_t)n >= sizeof(msg) - 1 && memcmp(buf, msg, sizeof(msg) - 1) == 0 ? R_OK_ : R_ERROR;
		goto out;
	}
out:
	if (tcp && abort_close) {
		struct linger lg = { 1, 0 };
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(fd);
	return res;
}

/* ---- server ------------------------------------------------------------------------ */

static int listen_on(int family, bool tcp, int port)
{
	int one = 1, fd;
	struct sockaddr_storage ss;
	socklen_t len;

	fd = socket(family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (!tcp)
			setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
		parse_addr("::", port, &ss, &len);
	} else {
		if (!tcp)
			setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
		parse_addr("0.0.0.0", port, &ss, &len);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || (tcp && listen(fd, 128) < 0)) {
		perror("hg-probe: bind/listen");
		exit(R_ERROR);
	}
	return fd;
}

/* Echoes one datagram back from the address it was sent to. */
static void udp_echo(int fd)
{
	char buf[2048], cbuf[256];
	struct sockaddr_storage peer;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { &peer, sizeof(peer), &iov, 1, cbuf, sizeof(cbuf), 0 };
	ssize_t n = recvmsg(fd, &m, 0);
	struct cmsghdr *c;
	char obuf[256];
	struct msghdr o = { &peer, m.msg_namelen, &iov, 1, obuf, 0, 0 };

	if (n < 0)
		return;
	iov.iov_len = (size_t)n;
	memset(obuf, 0, sizeof(obuf));
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		struct cmsghdr *oc = (struct cmsghdr *)obuf;
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0;
			oc->cmsg_level = IPPROTO_IP;
			oc->cmsg_type = IP_PKTINFO;
			oc->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(oc), &pi, sizeof(pi));
			o.msg_controllen = CMSG_SPACE(sizeof(pi));
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			oc->cmsg_level = IPPROTO_IPV6;
			oc->cmsg_type = IPV6_PKTINFO;
			oc->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(oc), &pi, sizeof(pi));
			o.msg_controllen = CMSG_SPACE(sizeof(pi));
		}
	}
	if (!o.msg_controllen)
		o.msg_control = NULL;
	sendmsg(fd, &o, 0);
}

static void tcp_echo(int lfd)
{
	char buf[256];
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return;
	if (wait_fd(fd, POLLIN, now_ms() + 2000) == 0) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0)
			send(fd, buf, (size_t)n, MSG_NOSIGNAL);
	}
	close(fd);
}

static int serve(bool tcp, int port, const char *ready)
{
	struct pollfd p[2];

	p[0] = (struct pollfd){ listen_on(AF_INET, tcp, port), POLLIN, 0 };
	p[1] = (struct pollfd){ listen_on(AF_INET6, tcp, port), POLLIN, 0 };
	if (ready) {
		int fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			perror("hg-probe: ready file");
			return R_ERROR;
		}
		close(fd);
	}
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return R_ERROR;
		}
		for (int i = 0; i < 2; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			if (tcp)
				tcp_echo(p[i].fd);
			else
				udp_echo(p[i].fd);
		}
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: hg-probe serve tcp|udp PORT [--ready FILE]\n"
			"       hg-probe connect tcp|udp ADDR PORT [--timeout MS]\n"
			"       hg-probe flood tcp|udp ADDR PORT --duration MS [--timeout MS] [--interval MS]\n"
			"                      [--log FILE]\n");
	return R_ERROR;
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "ok", "timeout", "refused", "error", "blocked" };
	struct sockaddr_storage ss;
	socklen_t len;
	int timeout = 1000, duration = 0, interval = 0, port;
	const char *ready = NULL, *log = NULL;
	bool tcp;

	signal(SIGPIPE, SIG_IGN);
	if (argc < 4)
		return usage();
	if (strcmp(argv[2], "tcp") != 0 && strcmp(argv[2], "udp") != 0)
		return usage();
	tcp = strcmp(argv[2], "tcp") == 0;
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
			timeout = atoi(argv[++i]);
		else if (strcmp(argv[i], "--duration") == 0 && i + 1 < argc)
			duration = atoi(argv[++i]);
		else if (strcmp(argv[i], "--interval") == 0 && i + 1 < argc)
			interval = atoi(argv[++i]);
		else if (strcmp(argv[i], "--ready") == 0 && i + 1 < argc)
			ready = argv[++i];
		else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc)
			log = argv[++i];
	}
	if (strcmp(argv[1], "serve") == 0)
		return serve(tcp, atoi(argv[3]), ready);
	if (argc < 5)
		return usage();
	port = atoi(argv[4]);
	if (parse_addr(argv[3], port, &ss, &len) < 0) {
		fprintf(stderr, "hg-probe: bad address '%s'\n", argv[3]);
		return R_ERROR;
	}
	if (strcmp(argv[1], "connect") == 0) {
		int r = try_once(tcp, &ss, len, timeout, false);
		printf("%s\n", names[r]);
		return r;
	}
	if (strcmp(argv[1], "flood") == 0) {
		long end = now_ms() + duration;
		unsigned long attempts = 0, ok = 0;
		FILE *lf = NULL;
		if (log && !(lf = fopen(log, "we"))) {
			perror("hg-probe: log file");
			return R_ERROR;
		}
		while (now_ms() < end) {
			long long start = wall_us();
			long next = now_ms() + interval;
			attempts++;
			if (try_once(tcp, &ss, len, timeout, true) == R_OK_) {
				ok++;
				if (lf)
					fprintf(lf, "%lld %lld\n", start, wall_us());
			}
			while (interval > 0 && now_ms() < next && now_ms() < end)
				poll(NULL, 0, (int)(next - now_ms()));
		}
		if (lf && fclose(lf) != 0) {
			perror("hg-probe: log file");
			return R_ERROR;
		}
		printf("attempts=%lu ok=%lu\n", attempts, ok);
		return 0;
	}
	return usage();
}
