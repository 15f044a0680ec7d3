/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * guard: keep table inet hostguard loaded.  Listens on the nf_tables
 * netlink monitor group (NFNLGRP_NFTABLES) and, when a transaction of some
 * other program touched table inet hostguard (deleted it, as "nft flush
 * ruleset" and every "systemctl restart nftables" do, or changed a chain,
 * rule, set or element of it), re-applies the config exactly as "apply"
 * does.  Sleeps in ppoll() otherwise: no timer, no CPU while idle.
 *
 * Loops: the kernel ends each transaction's notifications with one
 * NFT_MSG_NEWGEN naming the committing process.  Transactions of the
 * hostguard CLI itself (our own re-apply, "hostguard apply" from the repair
 * timer, edits with or without --runtime, "hostguard remove") are
 * deliberate and left alone; an apply that finds the table in sync sends
 * nothing, so it causes no event at all.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libmnl/libmnl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* After the first event of a burst, wait this long for the burst to end
 * (a flush of a large ruleset comes as many transactions), but never
 * longer than DEBOUNCE_MAX_MS from the first one. */
#define DEBOUNCE_MS 20
#define DEBOUNCE_MAX_MS 200
/* A failed re-apply (invalid config, kernel refusal) is tried again this
 * often until it succeeds: after a flush no further event may come. */
#define RETRY_MS 5000

struct guard {
	bool touched;          /* the current transaction touched our table */
	bool pending;          /* a re-apply is due */
	char who[64];          /* the last foreign committer, for the log line */
	unsigned long long first_ms, last_ms;
	unsigned long long retry_ms;   /* 0: no retry due */
};

static void on_signal(int sig)
{
	(void)sig;      /* only interrupts ppoll() */
}

static unsigned long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

static int gen_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int t = mnl_attr_get_type(a);

	if (t <= NFTA_GEN_MAX)
		tb[t] = a;
	return MNL_CB_OK;
}

/* The first attribute of every nf_tables object message names its table
 * (NFTA_TABLE_NAME, NFTA_CHAIN_TABLE, NFTA_RULE_TABLE, NFTA_SET_TABLE,
 * NFTA_SET_ELEM_LIST_TABLE, NFTA_OBJ_TABLE, NFTA_FLOWTABLE_TABLE are 1). */
static int table_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **t = data;

	if (mnl_attr_get_type(a) == 1) {
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
			return MNL_CB_OK;
		*t = a;
		return MNL_CB_STOP;
	}
	return MNL_CB_OK;
}

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct guard *g = data;
	const struct nfgenmsg *nfg = mnl_nlmsg_get_payload(nlh);
	int type = nlh->nlmsg_type & 0xff;

	if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES)
		return MNL_CB_OK;
	if (type == NFT_MSG_NEWGEN) {
		const struct nlattr *tb[NFTA_GEN_MAX + 1] = { 0 };
		const char *name = "";
		uint32_t pid = 0;

		mnl_attr_parse(nlh, sizeof(*nfg), gen_attr_cb, tb);
		if (tb[NFTA_GEN_PROC_NAME] && mnl_attr_validate(tb[NFTA_GEN_PROC_NAME], MNL_TYPE_NUL_STRING) == 0)
			name = mnl_attr_get_str(tb[NFTA_GEN_PROC_NAME]);
		if (tb[NFTA_GEN_PROC_PID])
			pid = ntohl(mnl_attr_get_u32(tb[NFTA_GEN_PROC_PID]));
		if (g->touched && strncmp(name, "hostguard", 9) != 0 && pid != (uint32_t)getpid()) {
			unsigned long long t = now_ms();
			snprintf(g->who, sizeof(g->who), "%s (pid %u)", *name ? name : "?", pid);
			if (!g->pending)
				g->first_ms = t;
			g->pending = true;
			g->last_ms = t;
		}
		g->touched = false;
		return MNL_CB_OK;
	}
	if (nfg->nfgen_family == NFPROTO_INET) {
		const struct nlattr *t = NULL;

		mnl_attr_parse(nlh, sizeof(*nfg), table_attr_cb, &t);
		if (t && strcmp(mnl_attr_get_str(t), HG_TABLE_NAME) == 0)
			g->touched = true;
	}
	return MNL_CB_OK;
}

/* Loads the config afresh and applies it: "hostguard apply --quiet" itself
 * (the config lock, missing and invalid configs, warnings), so that guard
 * and apply can never disagree.  Returns apply's exit code. */
static int reapply(const char *why, unsigned long long since_ms)
{
	char arg0[] = "apply", arg1[] = "--quiet";
	char *args[] = { arg0, arg1, NULL };
	int ret;

	config_missing = false;     /* load_policy() sets it afresh */
	ret = cmd_apply(2, args);
	if (ret == EXIT_OK && since_ms)
		printf("hostguard: guard: %s: re-applied table inet hostguard from %s, %llu ms after the change\n",
		       why, config_label(), now_ms() - since_ms);
	else if (ret == EXIT_OK)
		printf("hostguard: guard: %s: table inet hostguard matches %s\n", why, config_label());
	else if (strcmp(why, "start") == 0)
		printf("hostguard: guard: start: apply failed (exit %d); not starting\n", ret);
	else
		printf("hostguard: guard: %s: apply failed (exit %d); trying again in %d s\n", why, ret, RETRY_MS / 1000);
	fflush(stdout);
	return ret;
}

int cmd_guard(int argc, char **argv)
{
	struct mnl_socket *nl = NULL;
	struct guard g = { 0 };
	sigset_t block, empty;
	char *buf = NULL;
	int ret, group = NFNLGRP_NFTABLES;

	for (int i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			cmd_usage(stdout, "guard");
			printf("  Applies the config, then re-applies it within milliseconds whenever\n"
			       "  another program changes or deletes table inet hostguard (\"nft flush\n"
			       "  ruleset\", \"systemctl restart nftables\"). Changes made by the\n"
			       "  hostguard CLI itself (edits, --runtime edits, remove) are left alone.\n"
			       "  Event-driven (nf_tables netlink monitor): no CPU while idle. Logs one\n"
			       "  line per repair on stdout; a failed repair is logged and tried again\n"
			       "  every 5 s. Ends with exit 0 on SIGINT or SIGTERM.\n"
			       "  Run by hostguard-guard.service.\n");
			return EXIT_OK;
		}
		err_msg("guard: unexpected argument '%s'", argv[i]);
		cmd_usage(stderr, "guard");
		return EXIT_INVALID;
	}

	sigemptyset(&empty);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigaction(SIGINT, &(struct sigaction){ .sa_handler = on_signal }, NULL);
	sigaction(SIGTERM, &(struct sigaction){ .sa_handler = on_signal }, NULL);

	/* subscribe first, so that nothing between the apply and the
	 * subscription goes unseen */
	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
		if (errno == EPERM) {
			err_msg("permission denied: this command needs root or CAP_NET_ADMIN");
			ret = EXIT_NOPERM;
		} else {
			err_msg("guard: cannot listen to nf_tables events: %s", strerror(errno));
			ret = EXIT_FAIL;
		}
		goto out;
	}
	/* a lost event (ENOBUFS) costs a re-apply, not a miss */
	mnl_socket_setsockopt(nl, NETLINK_NO_ENOBUFS, &(int){ 0 }, sizeof(int));
	buf = malloc(MNL_SOCKET_BUFFER_SIZE * 4);
	if (!buf) {
		err_msg("out of memory");
		ret = EXIT_FAIL;
		goto out;
	}

	/* at start, an invalid config is an error (exit 2), as for apply */
	ret = reapply("start", 0);
	if (ret)
		goto out;

	for (;;) {
		struct pollfd pfd = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };
		struct timespec tmo, *tp = NULL;
		int r;

		if (g.pending || g.retry_ms) {
			unsigned long long t = now_ms(), due = g.last_ms + DEBOUNCE_MS;
			if (due > g.first_ms + DEBOUNCE_MAX_MS)
				due = g.first_ms + DEBOUNCE_MAX_MS;
			if (!g.pending || (g.retry_ms && g.retry_ms < due))
				due = g.retry_ms;
			if (t >= due) {
				char why[96];
				if (g.pending)
					snprintf(why, sizeof(why), "changed by %s", g.who);
				else
					snprintf(why, sizeof(why), "retry");
				/* a failed re-apply is logged and tried again */
				if (reapply(why, g.pending ? g.first_ms : 0) == EXIT_OK)
					g.retry_ms = 0;
				else
					g.retry_ms = now_ms() + RETRY_MS;
				g.pending = false;
				continue;
			}
			tmo.tv_sec = (time_t)((due - t) / 1000);
			tmo.tv_nsec = (long)((due - t) % 1000) * 1000000;
			tp = &tmo;
		}
		r = ppoll(&pfd, 1, tp, &empty);
		if (r < 0 && errno == EINTR)
			break;          /* SIGINT or SIGTERM: the only unblocked signals */
		if (r < 0) {
			err_msg("guard: %s", strerror(errno));
			ret = EXIT_FAIL;
			goto out;
		}
		if (r == 0)
			continue;
		for (;;) {
			ssize_t n = recv(pfd.fd, buf, MNL_SOCKET_BUFFER_SIZE * 4, 0);
			if (n < 0 && errno == ENOBUFS) {
				/* events were lost: re-check, apply is cheap when in sync */
				unsigned long long t = now_ms();
				snprintf(g.who, sizeof(g.who), "unknown (events lost)");
				if (!g.pending)
					g.first_ms = t;
				g.pending = true;
				g.last_ms = t;
				g.touched = false;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (n < 0) {
				err_msg("guard: %s", strerror(errno));
				ret = EXIT_FAIL;
				goto out;
			}
			mnl_cb_run(buf, (size_t)n, 0, 0, event_cb, &g);
		}
	}
	ret = EXIT_OK;
out:
	free(buf);
	if (nl)
		mnl_socket_close(nl);
	return ret;
}
