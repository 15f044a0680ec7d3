/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * follow: keep table inet hostguard in step with Docker.  Applies the config
 * plus what Docker publishes once, then listens to Docker's /events and
 * re-applies (debounced) when a container starts or stops or a network
 * changes.  One process, one thread, one poll(): curl's socket, a signalfd
 * and the next deadline; nothing wakes it while Docker is quiet.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "record.h"
#include "docker.h"

#define DEBOUNCE_MS 150
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define RETRY_APPLY_MS 1000
/* A stream up this long counts as Docker being back (a socket that answers
 * 200 and then garbage must not reset the backoff or repeat warnings). */
#define STABLE_MS 2000

struct follow {
	struct docker_state *docker;    /* what the table holds from Docker */
	bool have_docker;               /* docker is the last good answer */
	char *sock;                     /* the socket of the last config read */
	int64_t sync_at;                /* -1: no re-sync due */
	bool defaults_ok;               /* no config file: the built-in defaults */
	bool warned;                    /* a warning about Docker is out; quiet
					   until the stream has been up a while */
	bool lost;                      /* the stream ended: the next sync drops
					   the grants of names and labels without
					   asking Docker */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void out_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out_line(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void on_event(const char *type, const char *action, const char *name, void *userdata)
{
	struct follow *f = userdata;
	static const char *const actions[] = {
		"start", "die", "stop", "kill", "create", "destroy", "connect", "disconnect",
		"rename",   /* a grant by name follows the name */
	};
	bool container = strcmp(type, "container") == 0;

	if (!container && strcmp(type, "network") != 0)
		return;
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		/* container create/destroy change nothing hostguard sees */
		if (container && (i == 4 || i == 5))
			continue;
		if (strcmp(action, actions[i]) == 0) {
			/* Debounce: a burst of events (docker compose up) is one apply. */
			if (f->sync_at < 0)
				f->sync_at = now_ms() + DEBOUNCE_MS;
			return;
		}
	}
}

/* "+ published_tcp 8080 (container web1)" per difference between two states. */
static void print_changes(const struct docker_state *a, const struct docker_state *b)
{
	static const struct docker_state empty;
	size_t i = 0, j = 0;

	if (!a)
		a = &empty;
	if (!b)
		b = &empty;
	while (i < a->n_ports || j < b->n_ports) {
		const struct docker_port *x = i < a->n_ports ? &a->ports[i] : NULL;
		const struct docker_port *y = j < b->n_ports ? &b->ports[j] : NULL;
		int c = !x ? 1 : !y ? -1 : x->udp != y->udp ? (x->udp ? 1 : -1) :
			x->port < y->port ? -1 : x->port > y->port ? 1 : 0;

		if (c < 0)
			out_line("- published_%s %u (container %s)", x->udp ? "udp" : "tcp", x->port, x->container);
		else if (c > 0)
			out_line("+ published_%s %u (container %s)", y->udp ? "udp" : "tcp", y->port, y->container);
		i += c <= 0;
		j += c >= 0;
	}
	i = j = 0;
	while (i < a->n_bridges || j < b->n_bridges) {
		const struct docker_bridge *x = i < a->n_bridges ? &a->bridges[i] : NULL;
		const struct docker_bridge *y = j < b->n_bridges ? &b->bridges[j] : NULL;
		int c = !x ? 1 : !y ? -1 : strcmp(x->ifname, y->ifname);

		/* only bridges no pattern covers are entries of their own */
		if (c == 0 && x->added != y->added)
			out_line("%c container_ifaces %s (network %s)", y->added ? '+' : '-',
				 y->ifname, y->network);
		else if (c < 0 && x->added)
			out_line("- container_ifaces %s (network %s)", x->ifname, x->network);
		else if (c > 0 && y->added)
			out_line("+ container_ifaces %s (network %s)", y->ifname, y->network);
		i += c <= 0;
		j += c >= 0;
	}
}

/*
 * The config, or the built-in defaults when there is no file and that was
 * decided at start (see cmd_follow); a config that vanishes later is an
 * error, the table stays.  Prints why it failed.
 */
static int load_config(struct hg_policy **ret, bool defaults_ok)
{
	struct hg_error e = { 0 };
	int r = hg_config_load(config_path, ret, &e);

	if (r == -ENOENT && e.line == 0) {
		if (!defaults_ok) {
			err_msg("warning: %s does not exist (any more); table unchanged", config_path);
			return r;
		}
		r = hg_policy_new_default(ret, &e);
	}
	if (r < 0)
		err_msg("warning: %s; table unchanged", e.message);
	return r;
}

/*
 * Config + Docker → hg_apply.  When Docker cannot be read, the table keeps
 * the published ports and bridges it last learned from Docker (fail closed:
 * a daemon that is down or restarting, or live-restore keeping containers
 * up, must not open ports), but not the grants of container names and
 * labels: their addresses are released with the containers and may belong
 * to anyone's container by the time Docker answers again (a dockerd
 * restarting starts its containers before it serves the API).  With no
 * answer ever, it is the config alone.  Returns 0, or -1 when a retry is
 * due (config invalid, kernel refused, Docker unreadable).
 */
static int sync_table(struct follow *f, bool initial)
{
	struct hg_policy *p = NULL;
	struct docker_state *d = NULL, none = { 0 }, kept = { 0 };
	struct hg_nl *nl = NULL;
	struct hg_error e = { 0 };
	char err[DOCKER_ERR_LEN] = "", **delta = NULL;
	size_t n_delta = 0;
	const char *sock;
	bool retry = false;
	int r, dr, ret = -1, lock = -1;

	/* shared, like apply: no edit rewrites the config meanwhile */
	if (config_lock("follow", LOCK_SH, false, &lock) != EXIT_OK)
		goto out;
	if (load_config(&p, f->defaults_ok) < 0)
		goto out;
	sock = docker_socket(p);
	if (!sock || !f->sock || strcmp(sock, f->sock) != 0) {
		free(f->sock);
		f->sock = sock ? strdup(sock) : NULL;
	}
	if (f->lost && sock) {
		/* not even one more request: a dockerd starting again may be
		 * restarting containers on new addresses behind a listening
		 * socket that does not answer yet */
		snprintf(err, sizeof(err), "docker: GET /events on %s: the stream ended", sock);
		r = dr = -EIO;
	} else {
		r = dr = sock ? docker_read(sock, &d, err) : -ENOENT;
	}
	f->lost = false;
	/* no Docker yet (never seen): the config alone, silently */
	if (r < 0 && !(r == -ENOENT && !f->have_docker)) {
		if (!f->warned)
			err_msg("warning: %s; keeping the ports and bridges last seen, dropping the grants "
				"of container names and labels until Docker answers", err);
		f->warned = true;
		retry = true;
	}
	if (!d && f->docker) {
		/* ports and bridges as last seen; no container, so no grant */
		kept = *f->docker;
		kept.n_containers = 0;
	}
	if (docker_state_to_policy(d ? d : f->docker ? &kept : &none, p, &e) < 0) {
		err_msg("%s", e.message);
		goto out;
	}
	/* the rail, as for apply: follow loads what apply would refuse no
	 * more than apply does (and never records it as applied) */
	if (policy_rails("follow", p, false) != EXIT_OK)
		goto out;
	if (open_nl(&nl))
		goto out;
	r = record_apply(nl, p, 0, true, &delta, &n_delta, &e);
	if (r < 0) {
		err_msg("warning: apply failed: %s", e.message[0] ? e.message : strerror(-e.code));
		goto out;
	}
	/* grants by name and label: which elements came and went
	 * ("+ grant_uids 2001@172.18.0.5 (container name web1)"); ports and
	 * bridges are told by print_changes, with their container */
	for (size_t i = 0; !initial && i < n_delta; i++)
		if (strncmp(delta[i] + 1, " grant_", 7) == 0)
			out_line("%s", delta[i]);
	if (initial) {
		const struct docker_state *s = d ? d : &none;
		size_t nb = 0;

		for (size_t i = 0; i < s->n_bridges; i++)
			nb += s->bridges[i].added;
		out_line("hostguard: following Docker at %s (%s: %zu published ports, %zu bridges of its own); table inet hostguard %s",
			 sock, d ? "running" : dr == -ENOENT ? "not running" : "not readable",
			 s->n_ports, nb,
			 r ? "applied" : "already in sync");
	}
	if (d) {
		if (!initial)
			print_changes(f->docker, d);
		docker_state_free(f->docker);
		f->docker = d;
		f->have_docker = true;
		d = NULL;
	}
	ret = retry ? -1 : 0;
out:
	if (lock >= 0)
		close(lock);
	hg_lines_free(delta, n_delta);
	docker_state_free(d);
	hg_nl_close(nl);
	hg_policy_free(p);
	return ret;
}

int cmd_follow(int argc, char **argv)
{
	struct follow f = { .sync_at = -1 };
	struct docker_events *ev = NULL;
	char err[DOCKER_ERR_LEN];
	int64_t connect_at = 0, stable_at = -1, backoff = BACKOFF_MIN_MS;
	bool gone = false;      /* the drop for a lost stream is done or due */
	sigset_t mask;
	int sfd = -1, ret = EXIT_FAIL;

	for (int i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			cmd_usage(stdout, "follow");
			printf("  Applies the config plus the ports Docker publishes and its bridges, then\n"
			       "  re-applies within a moment of every container start, stop or rename and\n"
			       "  network change (Docker's /events on docker_socket): grants by container\n"
			       "  name and io.hostguard.* label grants follow the containers. Reconnects when dockerd\n"
			       "  restarts; while Docker cannot be read the table keeps the ports and bridges\n"
			       "  it last saw, and drops the grants of names and labels (fails closed).\n"
			       "  Prints one line per change. SIGHUP re-reads the config; SIGTERM and\n"
			       "  SIGINT exit 0. A config apply would refuse (a container_ifaces pattern\n"
			       "  over the default route's interface) is not loaded either.\n");
			return EXIT_OK;
		}
		err_msg("follow: unexpected argument '%s'", argv[i]);
		cmd_usage(stderr, "follow");
		return EXIT_INVALID;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGPIPE);
	/* A shell without job control starts "&" commands with SIGINT ignored,
	 * and an ignored signal never reaches the signalfd: take them back. */
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    signal(SIGTERM, SIG_DFL) == SIG_ERR || signal(SIGINT, SIG_DFL) == SIG_ERR ||
	    signal(SIGHUP, SIG_DFL) == SIG_ERR ||
	    (sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		err_msg("follow: signalfd: %s", strerror(errno));
		return EXIT_FAIL;
	}
	if (docker_init(err) < 0) {
		err_msg("follow: %s", err);
		goto out;
	}

	/* An invalid config at start is a usage error; later it is a warning.
	 * Without a config file, follow loads the defaults only where apply
	 * would: not over a table that holds more (apply exits 1 there). */
	{
		struct hg_policy *p = NULL;
		struct hg_error e = { 0 };
		int r = hg_config_load(config_path, &p, &e);

		if (r == -ENOENT && e.line == 0) {
			struct hg_nl *nl = NULL;
			struct hg_state *s = NULL;

			if (open_nl(&nl) != EXIT_OK)
				goto out;
			r = hg_state_read(nl, &s, &e);
			hg_nl_close(nl);
			if (r < 0 && e.code != -ENOENT) {
				ret = fail(&e);
				goto out;
			}
			if (s && live_beyond_defaults(s) != 0) {
				hg_state_free(s);
				err_msg("follow: %s does not exist, and the live table holds more than the built-in defaults: "
					"restore the config, or load the defaults on purpose with 'hostguard apply --defaults'",
					config_path);
				goto out;
			}
			hg_state_free(s);
			f.defaults_ok = true;
			r = hg_policy_new_default(&p, &e);
		}
		if (r < 0) {
			err_msg("%s", e.message);
			ret = r == -ENOMEM || r == -EIO ? EXIT_FAIL : EXIT_INVALID;
			goto out;
		}
		if (!docker_socket(p) || strcmp(docker_socket(p), "keep") == 0) {
			err_msg("follow: docker_socket is none in %s (or HOSTGUARD_DOCKER_SOCKET none or keep): "
				"there is no Docker to follow", config_label());
			hg_policy_free(p);
			ret = EXIT_INVALID;
			goto out;
		}
		hg_policy_free(p);
	}
	if (sync_table(&f, true) < 0)
		f.sync_at = now_ms() + RETRY_APPLY_MS;

	for (;;) {
		int64_t now = now_ms(), deadline = -1;
		bool sig = false;
		int timeout, r;

		if (!ev && f.sock && now >= connect_at) {
			r = docker_events_open(f.sock, on_event, &f, &ev, err);
			if (r < 0) {
				/* no socket is Docker not running (yet): quiet */
				if (!f.warned && r != -ENOENT)
					err_msg("warning: %s; retrying", err);
				f.warned = f.warned || r != -ENOENT;
				if (f.have_docker && !gone) {
					/* the socket went with dockerd: its grants go too */
					f.lost = gone = true;
					f.sync_at = now;
				}
				connect_at = now + backoff;
				backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
			}
			stable_at = -1;
		}
		if (f.sync_at >= 0)
			deadline = f.sync_at;
		if (!ev && (deadline < 0 || connect_at < deadline))
			deadline = connect_at;
		if (ev && stable_at >= 0 && (deadline < 0 || stable_at < deadline))
			deadline = stable_at;
		timeout = deadline < 0 ? 3600000 : deadline <= now ? 0 :
			  deadline - now > 3600000 ? 3600000 : (int)(deadline - now);

		if (ev) {
			bool was = docker_events_connected(ev);

			r = docker_events_wait(ev, sfd, timeout, &sig, err);
			if (!was && docker_events_connected(ev)) {
				/* Events before this moment were missed: re-read now. */
				f.sync_at = now_ms();
				gone = false;
				stable_at = now_ms() + STABLE_MS;
			}
			if (r > 0 && stable_at >= 0 && now_ms() >= stable_at) {
				stable_at = -1;
				backoff = BACKOFF_MIN_MS;
				if (f.warned)
					out_line("hostguard: connected to Docker at %s", f.sock);
				f.warned = false;
			}
			if (r <= 0) {
				/* The daemon went away (taking its containers, or not,
				 * with live-restore): the table keeps its ports and
				 * bridges until the re-read after the reconnect; the
				 * grants of names and labels go now (their addresses
				 * are free for the next container). */
				if (!f.warned)
					err_msg("warning: %s; reconnecting", err);
				f.warned = true;
				if (!gone) {
					f.lost = gone = true;
					f.sync_at = now_ms();
				}
				docker_events_close(ev);
				ev = NULL;
				connect_at = now_ms() + backoff;
				backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
			}
		} else {
			struct pollfd pfd = { .fd = sfd, .events = POLLIN };
			r = poll(&pfd, 1, timeout);
			if (r < 0 && errno != EINTR) {
				err_msg("follow: poll: %s", strerror(errno));
				goto out;
			}
			sig = r > 0;
		}

		if (sig) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
					out_line("hostguard: stopped following Docker (table left in place)");
					ret = EXIT_OK;
					goto out;
				}
				if (si.ssi_signo == SIGHUP)
					f.sync_at = now_ms();
			}
		}
		if (f.sync_at >= 0 && now_ms() >= f.sync_at) {
			f.sync_at = -1;
			if (sync_table(&f, false) < 0)
				f.sync_at = now_ms() + RETRY_APPLY_MS;
		}
	}
out:
	docker_events_close(ev);
	docker_state_free(f.docker);
	free(f.sock);
	if (sfd >= 0)
		close(sfd);
	docker_cleanup();
	return ret;
}
