/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * watch: one line per denied attempt, read through the library's NFLOG
 * watcher (hg_watch_*); with --journal one structured journal entry each.
 * On SIGINT/SIGTERM the watcher is stopped, which flushes the kernel's
 * queue, and every event up to then is printed: the last one is never lost.
 */
#include <errno.h>
#include <grp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct watch {
	bool json, journal;
	int journal_fd;                 /* -1: stdout */
	struct sockaddr_un journal_addr;
	/* journal rate limit: at most JOURNAL_RATE entries a second */
	time_t second;
	unsigned in_second, suppressed;
};
#define JOURNAL_RATE 200

static const char *proto_name(int proto)
{
	switch (proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	default: return NULL;
	}
}

static void format_time(const struct timespec *ts, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&ts->tv_sec, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec / 1000000);
}

static void journal_event(struct watch *w, const struct hg_watch_event *ev, const char *text);

/* The destination as a grant names it: "10.77.0.2:9000", "[fd77::2]:9000",
 * or the address alone for a packet without ports. */
static void format_target(const struct hg_watch_event *ev, char *buf, size_t size)
{
	bool v6 = ev->family == AF_INET6;

	if (ev->dport >= 0)
		snprintf(buf, size, "%s%s%s:%d", v6 ? "[" : "", ev->dst, v6 ? "]" : "", ev->dport);
	else
		snprintf(buf, size, "%s", ev->dst);
}

/* Issue #14: a denied user who has grants, but not to this destination:
 * "; uid 1002 (alice) has 2 grants (grant_uids4) but none to 172.18.0.3:80" */
static void grants_text(FILE *f, const char *what, uint32_t id, const char *name, const char *set,
			unsigned n, bool covers, const char *target)
{
	if (!set)
		return;
	if (covers)
		fprintf(f, "; %s %u (%s) has a grant (%s) to %s, added after this packet was dropped",
			what, id, name ? name : "?", set, target);
	else
		fprintf(f, "; %s %u (%s) has %u grant%s (%s) but none to %s", what, id,
			name ? name : "?", n, n == 1 ? "" : "s", set, target);
}

static void grants_json(const char *set, unsigned n, bool covers)
{
	if (set)
		printf("{\"set\":\"%s\",\"count\":%u,\"covers\":%s}", set, n, covers ? "true" : "false");
	else
		fputs("null", stdout);
}

static void print_event(const struct hg_watch_event *ev, struct watch *w)
{
	char when[64], in[IF_NAMESIZE] = "", out[IF_NAMESIZE] = "", target[64];
	bool json = w->json;
	FILE *f = stdout;
	char *text = NULL;
	size_t text_len = 0;
	const struct passwd *pw = ev->has_uid ? getpwuid(ev->uid) : NULL;
	const struct group *gr = ev->has_gid ? getgrgid(ev->gid) : NULL;
	const char *pn = proto_name(ev->proto);
	bool egress = ev->chain == HG_CHAIN_EGRESS;

	format_time(&ev->when, when, sizeof(when));
	if (ev->indev && !if_indextoname(ev->indev, in))
		snprintf(in, sizeof(in), "#%u", ev->indev);
	if (ev->outdev && !if_indextoname(ev->outdev, out))
		snprintf(out, sizeof(out), "#%u", ev->outdev);

	if (json) {
		printf("{\"time\":\"%s\",\"time_source\":\"%s\",\"direction\":\"%s\",\"chain\":\"%s\",", when,
		       ev->packet_time ? "packet" : "received",
		       egress ? "host_to_container" : "container_to_host", hg_chain_name(ev->chain));
		if (ev->has_uid) {
			printf("\"uid\":%u,\"user\":", ev->uid);
			if (pw)
				json_str(stdout, pw->pw_name);
			else
				fputs("null", stdout);
		} else {
			fputs("\"uid\":null,\"user\":null", stdout);
		}
		if (ev->has_gid) {
			printf(",\"gid\":%u,\"group\":", ev->gid);
			if (gr)
				json_str(stdout, gr->gr_name);
			else
				fputs("null", stdout);
		} else {
			fputs(",\"gid\":null,\"group\":null", stdout);
		}
		fputs(",\"in\":", stdout);
		if (*in) json_str(stdout, in); else fputs("null", stdout);
		fputs(",\"out\":", stdout);
		if (*out) json_str(stdout, out); else fputs("null", stdout);
		printf(",\"family\":\"%s\",\"protocol\":", ev->family == AF_INET ? "ipv4" : "ipv6");
		if (pn)
			printf("\"%s\"", pn);
		else
			printf("%d", ev->proto);
		printf(",\"src\":\"%s\",\"dst\":\"%s\"", ev->src, ev->dst);
		if (ev->sport >= 0)
			printf(",\"sport\":%d,\"dport\":%d", ev->sport, ev->dport);
		else
			fputs(",\"sport\":null,\"dport\":null", stdout);
		if (ev->icmp_type >= 0)
			printf(",\"icmp_type\":%d", ev->icmp_type);
		else
			fputs(",\"icmp_type\":null", stdout);
		if (ev->grants_known) {
			fputs(",\"grants\":{\"uid\":", stdout);
			grants_json(ev->uid_grant_set, ev->uid_grants, ev->uid_covers);
			fputs(",\"gid\":", stdout);
			grants_json(ev->gid_grant_set, ev->gid_grants, ev->gid_covers);
			fputs("}}\n", stdout);
		} else {
			fputs(",\"grants\":null}\n", stdout);
		}
	} else {
		if (w->journal) {
			f = open_memstream(&text, &text_len);
			if (!f)
				return;
			/* the journal has its own time stamp; the packet's is a field */
			fprintf(f, "DENY %s", egress ? "host->container" : "container->host");
		} else {
			fprintf(f, "%s %s", when, egress ? "host->container" : "container->host");
		}
		if (ev->has_uid)
			fprintf(f, " uid=%u(%s)", ev->uid, pw ? pw->pw_name : "?");
		else if (egress)
			fprintf(f, " uid=- (not reported by the kernel: the packet has no full socket)");
		else
			fprintf(f, " uid=- (from a container)");
		if (ev->has_gid)
			fprintf(f, " gid=%u(%s)", ev->gid, gr ? gr->gr_name : "?");
		if (*in)
			fprintf(f, " in=%s", in);
		if (*out)
			fprintf(f, " out=%s", out);
		if (pn)
			fprintf(f, " %s", pn);
		else
			fprintf(f, " proto=%d", ev->proto);
		if (ev->sport >= 0)
			fprintf(f, " %s%s%s:%d -> %s%s%s:%d", ev->family == AF_INET6 ? "[" : "", ev->src,
			       ev->family == AF_INET6 ? "]" : "", ev->sport, ev->family == AF_INET6 ? "[" : "",
			       ev->dst, ev->family == AF_INET6 ? "]" : "", ev->dport);
		else
			fprintf(f, " %s -> %s", ev->src, ev->dst);
		if (ev->icmp_type >= 0)
			fprintf(f, " type=%d", ev->icmp_type);
		format_target(ev, target, sizeof(target));
		grants_text(f, "uid", ev->uid, pw ? pw->pw_name : NULL, ev->uid_grant_set, ev->uid_grants,
			    ev->uid_covers, target);
		grants_text(f, "gid", ev->gid, gr ? gr->gr_name : NULL, ev->gid_grant_set, ev->gid_grants,
			    ev->gid_covers, target);
		if (w->journal) {
			fclose(f);
			journal_event(w, ev, text);
			free(text);
			return;
		}
		putchar('\n');
	}
	fflush(stdout);
}

/* One field of a native journal entry (systemd's journal socket protocol:
 * "NAME=value\n", no newline in the value). */
static void jfield(FILE *f, const char *name, const char *value)
{
	fprintf(f, "%s=", name);
	for (; *value; value++)
		fputc(*value == '\n' ? ' ' : *value, f);
	fputc('\n', f);
}

static void jfield_u(FILE *f, const char *name, long long v)
{
	fprintf(f, "%s=%lld\n", name, v);
}

static void journal_send(struct watch *w, const char *text, size_t len)
{
	if (w->journal_fd >= 0 &&
	    sendto(w->journal_fd, text, len, MSG_NOSIGNAL, (const struct sockaddr *)&w->journal_addr,
		   sizeof(w->journal_addr)) >= 0)
		return;
	/* no journal socket: the same fields as one logfmt line on stdout
	 * (under systemd, stdout lands in the journal too) */
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (c == '\n')
			c = i + 1 == len ? '\n' : ' ';
		putchar(c);
	}
	fflush(stdout);
}

/* At most JOURNAL_RATE entries a second, then one entry that counts what
 * was left out, written with the next event of a later second or at exit
 * (log_rate limits the kernel's side already). */
static void journal_flush_suppressed(struct watch *w)
{
	if (w->suppressed) {
		char buf[256];
		int n = snprintf(buf, sizeof(buf),
				 "MESSAGE=hostguard: %u denied attempts not logged (more than %d a second)\n"
				 "PRIORITY=4\nSYSLOG_IDENTIFIER=hostguard\nHOSTGUARD_SUPPRESSED=%u\n",
				 w->suppressed, JOURNAL_RATE, w->suppressed);
		journal_send(w, buf, (size_t)n);
		w->suppressed = 0;
	}
}

static bool journal_rate_ok(struct watch *w, const struct timespec *now)
{
	if (now->tv_sec != w->second) {
		journal_flush_suppressed(w);
		w->second = now->tv_sec;
		w->in_second = 0;
	}
	if (w->in_second >= JOURNAL_RATE) {
		w->suppressed++;
		return false;
	}
	w->in_second++;
	return true;
}

static void journal_event(struct watch *w, const struct hg_watch_event *ev, const char *text)
{
	const struct passwd *pw = ev->has_uid ? getpwuid(ev->uid) : NULL;
	const struct group *gr = ev->has_gid ? getgrgid(ev->gid) : NULL;
	const char *pn = proto_name(ev->proto);
	struct timespec now;
	char when[64], dev[IF_NAMESIZE], *buf = NULL;
	size_t len = 0;
	FILE *f;

	clock_gettime(CLOCK_REALTIME, &now);
	if (!journal_rate_ok(w, &now))
		return;
	f = open_memstream(&buf, &len);
	if (!f)
		return;
	jfield(f, "MESSAGE", text);
	jfield(f, "PRIORITY", "5");
	jfield(f, "SYSLOG_IDENTIFIER", "hostguard");
	jfield(f, "HOSTGUARD_ACTION", "deny");
	jfield(f, "HOSTGUARD_DIRECTION", ev->chain == HG_CHAIN_EGRESS ? "host_to_container" : "container_to_host");
	jfield(f, "HOSTGUARD_CHAIN", hg_chain_name(ev->chain));
	if (ev->has_uid) {
		jfield_u(f, "HOSTGUARD_UID", ev->uid);
		if (pw)
			jfield(f, "HOSTGUARD_USER", pw->pw_name);
	}
	if (ev->has_gid) {
		jfield_u(f, "HOSTGUARD_GID", ev->gid);
		if (gr)
			jfield(f, "HOSTGUARD_GROUP", gr->gr_name);
	}
	if (ev->indev && if_indextoname(ev->indev, dev))
		jfield(f, "HOSTGUARD_IN", dev);
	if (ev->outdev && if_indextoname(ev->outdev, dev))
		jfield(f, "HOSTGUARD_OUT", dev);
	jfield(f, "HOSTGUARD_FAMILY", ev->family == AF_INET ? "ipv4" : "ipv6");
	if (pn)
		jfield(f, "HOSTGUARD_PROTOCOL", pn);
	else
		jfield_u(f, "HOSTGUARD_PROTOCOL", ev->proto);
	jfield(f, "HOSTGUARD_SRC", ev->src);
	jfield(f, "HOSTGUARD_DST", ev->dst);
	if (ev->sport >= 0) {
		jfield_u(f, "HOSTGUARD_SPORT", ev->sport);
		jfield_u(f, "HOSTGUARD_DPORT", ev->dport);
	}
	if (ev->icmp_type >= 0)
		jfield_u(f, "HOSTGUARD_ICMP_TYPE", ev->icmp_type);
	if (ev->uid_grant_set) {
		jfield(f, "HOSTGUARD_UID_GRANT_SET", ev->uid_grant_set);
		jfield_u(f, "HOSTGUARD_UID_GRANTS", ev->uid_grants);
	}
	if (ev->gid_grant_set) {
		jfield(f, "HOSTGUARD_GID_GRANT_SET", ev->gid_grant_set);
		jfield_u(f, "HOSTGUARD_GID_GRANTS", ev->gid_grants);
	}
	format_time(&ev->when, when, sizeof(when));
	jfield(f, "HOSTGUARD_PACKET_TIME", when);
	jfield(f, "HOSTGUARD_TIME_SOURCE", ev->packet_time ? "packet" : "received");
	if (fclose(f) == 0)
		journal_send(w, buf, len);
	free(buf);
}

/* The journal's native socket ($HOSTGUARD_JOURNAL_SOCKET for tests, not
 * honoured when setuid/setcap); -1 when there is none. */
static int journal_open(struct watch *w)
{
	const char *path = secure_getenv("HOSTGUARD_JOURNAL_SOCKET");
	int fd;

	if (!path || !*path)
		path = "/run/systemd/journal/socket";
	if (strlen(path) >= sizeof(w->journal_addr.sun_path) || access(path, F_OK) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	w->journal_addr.sun_family = AF_UNIX;
	strcpy(w->journal_addr.sun_path, path);
	return fd;
}

int cmd_watch(int argc, char **argv)
{
	struct hg_state *s = NULL;
	struct hg_nl *hnl = NULL;
	struct hg_error e = { 0 };
	struct hg_watch *hw = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	struct watch w = { .journal_fd = -1 };
	int ret, group, r;

	for (int i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			cmd_usage(stdout, "watch");
			printf("  Needs log_denied = yes in the loaded table. One line per denied\n"
			       "  attempt (rate-limited by log_rate) with the packet's own time:\n"
			       "  the kernel's receive time for container->host, the time watch\n"
			       "  received it (milliseconds later) for host->container. The kernel\n"
			       "  sends each event at once; the last one before SIGINT or SIGTERM is\n"
			       "  printed before watch ends. A denied user or group with grants,\n"
			       "  but none to that destination, is named with its grant set.\n"
			       "  --json     one object per line (schema: doc/json.md)\n"
			       "  --journal  one structured journal entry per denied attempt\n"
			       "             (HOSTGUARD_DIRECTION=, HOSTGUARD_UID=, HOSTGUARD_SRC=,\n"
			       "             HOSTGUARD_DPORT=, ...; at most %d a second), or, without\n"
			       "             a journal, one line of the same fields on stdout. Waits\n"
			       "             for log_denied = yes when logging is off. Run by\n"
			       "             hostguard-watch.service.\n", JOURNAL_RATE);
			return EXIT_OK;
		} else if (strcmp(argv[i], "--json") == 0) {
			w.json = true;
		} else if (strcmp(argv[i], "--journal") == 0) {
			w.journal = true;
		} else {
			err_msg("watch: unexpected argument '%s'", argv[i]);
			return EXIT_INVALID;
		}
	}
	if (w.json && w.journal) {
		err_msg("watch: --json and --journal do not go together");
		return EXIT_INVALID;
	}
	ret = open_nl(&hnl);
	if (ret)
		return ret;
	if (hg_state_read(hnl, &s, &e) < 0 && !(w.journal && e.code == -ENOENT)) {
		ret = fail(&e);
		goto out;
	}
	group = s ? hg_state_log_group(s) : -1;
	if (group < 0 && w.journal) {
		/* the service starts with hostguard.service: wait on the
		 * config's group for log_denied = yes to be applied */
		struct hg_policy *p = NULL;
		struct hg_log_settings log;

		ret = load_policy(&p);
		if (ret)
			goto out;
		hg_policy_get_log(p, &log);
		hg_policy_free(p);
		group = log.group;
		fprintf(stderr, "hostguard: watch: logging is off in the loaded table; waiting on NFLOG group %d for log_denied = yes\n",
			group);
	} else if (group < 0) {
		err_msg("watch: logging is off in the loaded table; set log_denied = yes in %s and run 'hostguard apply'",
			config_path);
		ret = EXIT_FAIL;
		goto out;
	}
	if (w.journal)
		w.journal_fd = journal_open(&w);
	r = hg_watch_open((uint16_t)group, HG_WATCH_GRANTS, &hw, &e);
	if (r == -EPERM || r == -EBUSY) {
		/* we hold CAP_NET_ADMIN: EPERM here means the group is taken */
		err_msg("watch: NFLOG group %d is already bound by another listener (hostguard-watch.service? another 'hostguard watch', ulogd?)",
			group);
		ret = EXIT_FAIL;
		goto out;
	} else if (r < 0) {
		err_msg("watch: %s", e.message);
		ret = EXIT_FAIL;
		goto out;
	}
	/* no SA_RESTART: a signal ends the wait for the next packet */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!w.json)
		fprintf(stderr, "hostguard: watching denied attempts (NFLOG group %d)%s; Ctrl-C ends\n", group,
			!w.journal ? "" : w.journal_fd >= 0 ? ", to the journal" : ", no journal: to stdout");
	ret = EXIT_OK;
	for (bool stopping = false;;) {
		struct hg_watch_event ev;

		/* stopping flushes the kernel's queue: what comes before the
		 * acknowledgement is printed, then next returns 0 */
		if (stop && !stopping) {
			stopping = true;
			if (hg_watch_stop(hw, &e) < 0) {
				err_msg("watch: %s", e.message);
				ret = EXIT_FAIL;
				break;
			}
		}
		r = hg_watch_next(hw, &ev, &e);
		if (r == 0)
			break;
		if (r == -EINTR)
			continue;
		if (r == -ENOBUFS) {
			fprintf(stderr, "hostguard: watch: %s\n", e.message);
			continue;
		}
		if (r < 0) {
			err_msg("watch: %s", e.message);
			ret = EXIT_FAIL;
			break;
		}
		print_event(&ev, &w);
	}
	if (w.journal)
		journal_flush_suppressed(&w);
out:
	if (w.journal_fd >= 0)
		close(w.journal_fd);
	hg_watch_close(hw);
	hg_state_free(s);
	hg_nl_close(hnl);
	return ret;
}
