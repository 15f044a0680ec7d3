/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Least privilege: keep CAP_NET_ADMIN when the command needs it and drop
 * every other capability from the effective, permitted and inheritable
 * sets, before the config is read (the iputils pattern). */
#include <errno.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "cli.h"

int caps_limit(bool keep_net_admin)
{
	cap_t cur = NULL, want = NULL;
	cap_flag_value_t have = CAP_CLEAR;
	const cap_value_t net_admin[] = { CAP_NET_ADMIN };
	int r = -1;

	cur = cap_get_proc();
	want = cap_init();
	if (!cur || !want)
		goto out;
	if (keep_net_admin && cap_get_flag(cur, CAP_NET_ADMIN, CAP_PERMITTED, &have) == 0 &&
	    have == CAP_SET) {
		if (cap_set_flag(want, CAP_PERMITTED, 1, net_admin, CAP_SET) < 0 ||
		    cap_set_flag(want, CAP_EFFECTIVE, 1, net_admin, CAP_SET) < 0)
			goto out;
	}
	if (cap_set_proc(want) < 0)
		goto out;
	/* Nothing of ours survives an execve either. */
	if (CAP_AMBIENT_SUPPORTED())
		cap_reset_ambient();
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	r = 0;
out:
	if (r < 0)
		err_msg("cannot drop capabilities: %s", strerror(errno));
	cap_free(cur);
	cap_free(want);
	return r;
}
