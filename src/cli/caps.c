/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Least privilege: keep CAP_NET_ADMIN when the command needs it (and
 * CAP_CHOWN for edits, to give a rewritten config its old owner back;
 * CAP_SETUID and CAP_SETGID for verify, which probes as other uids) and
 * drop every other capability from the effective, permitted and inheritable
 * sets, before the config is read (the iputils pattern). */
#include <errno.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "cli.h"

/* want: the capabilities of map that need names, permitted and effective;
 * only those cur permits when cur is given.  Returns the CAPS_* flags. */
static int caps_wanted(cap_t want, cap_t cur, unsigned need)
{
	static const struct { unsigned flag; cap_value_t cap; } map[] = {
		{ CAPS_NET_ADMIN, CAP_NET_ADMIN },
		{ CAPS_CHOWN, CAP_CHOWN },
		/* verify: to drop to the uids it probes as */
		{ CAPS_SETID, CAP_SETUID },
		{ CAPS_SETID, CAP_SETGID },
	};
	cap_value_t list[sizeof(map) / sizeof(map[0])];
	int held = 0, n = 0;

	if (cap_clear(want) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		cap_flag_value_t have = CAP_SET;
		if (!(need & map[i].flag) ||
		    (cur && (cap_get_flag(cur, map[i].cap, CAP_PERMITTED, &have) < 0 || have != CAP_SET)))
			continue;
		list[n++] = map[i].cap;
		held |= (int)map[i].flag;
	}
	if (n && (cap_set_flag(want, CAP_PERMITTED, n, list, CAP_SET) < 0 ||
		  cap_set_flag(want, CAP_EFFECTIVE, n, list, CAP_SET) < 0))
		return -1;
	return held;
}

int caps_limit(unsigned need)
{
	cap_t cur = NULL, want = cap_init();
	int r = -1, held;

	if (!want)
		goto out;
	/* Root, or whoever holds all it needs, keeps just that in one capset;
	 * one that lacks some of it (EPERM: a capset cannot add to the
	 * permitted set) keeps what it has of it. */
	held = caps_wanted(want, NULL, need);
	if (held < 0)
		goto out;
	if (cap_set_proc(want) < 0) {
		if (errno != EPERM || !(cur = cap_get_proc()) ||
		    (held = caps_wanted(want, cur, need)) < 0 || cap_set_proc(want) < 0)
			goto out;
	}
	/* Nothing of ours survives an execve either: the inheritable set is
	 * empty now, and with it the ambient set (the kernel keeps ambient a
	 * subset of permitted and inheritable, capset included); no setuid or
	 * file capabilities add any. */
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	r = held;
out:
	if (r < 0)
		err_msg("cannot drop capabilities: %s", strerror(errno));
	cap_free(cur);
	cap_free(want);
	return r;
}
