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

int caps_limit(unsigned need)
{
	cap_t cur = NULL, want = NULL;
	static const struct { unsigned flag; cap_value_t cap; } map[] = {
		{ CAPS_NET_ADMIN, CAP_NET_ADMIN },
		{ CAPS_CHOWN, CAP_CHOWN },
		/* verify: to drop to the uids it probes as */
		{ CAPS_SETID, CAP_SETUID },
		{ CAPS_SETID, CAP_SETGID },
	};
	int r = -1, held = 0;

	cur = cap_get_proc();
	want = cap_init();
	if (!cur || !want)
		goto out;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		cap_flag_value_t have = CAP_CLEAR;
		if (!(need & map[i].flag) ||
		    cap_get_flag(cur, map[i].cap, CAP_PERMITTED, &have) < 0 || have != CAP_SET)
			continue;
		if (cap_set_flag(want, CAP_PERMITTED, 1, &map[i].cap, CAP_SET) < 0 ||
		    cap_set_flag(want, CAP_EFFECTIVE, 1, &map[i].cap, CAP_SET) < 0)
			goto out;
		held |= (int)map[i].flag;
	}
	if (cap_set_proc(want) < 0)
		goto out;
	/* Nothing of ours survives an execve either (one prctl: libcap's
	 * cap_reset_ambient() asks about each of the 41 capabilities first). */
	if (CAP_AMBIENT_SUPPORTED())
		prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	r = held;
out:
	if (r < 0)
		err_msg("cannot drop capabilities: %s", strerror(errno));
	cap_free(cur);
	cap_free(want);
	return r;
}
