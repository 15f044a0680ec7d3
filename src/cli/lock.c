/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The lock that serialises edits (exclusive) against each other and against
 * apply (shared): flock() on <configdir>/.hostguard.lock.
 *
 * Not on the directory itself: any user may open a directory and flock() it,
 * and would so block apply, the repair timer and every edit forever.  The
 * lock file is created 0600 and checked after open (a regular file, ours or
 * root's, no group or other bits, one link), so nobody else can open it.
 * No wait is unbounded: after HOSTGUARD_LOCK_TIMEOUT seconds (default 10)
 * we give up, naming the holder.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define LOCK_NAME ".hostguard.lock"
#define DEFAULT_TIMEOUT_MS 10000
#define MAX_TIMEOUT_S 86400

static char *config_dir(void)
{
	char *dir = strdup(config_path), *slash;

	if (!dir)
		return NULL;
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return dir;
}

/* HOSTGUARD_LOCK_TIMEOUT: whole seconds, 0 = do not wait. -1 when invalid. */
long lock_timeout_ms(void)
{
	const char *s = getenv("HOSTGUARD_LOCK_TIMEOUT");
	char *end;
	long v;

	if (!s || !*s)
		return DEFAULT_TIMEOUT_MS;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > MAX_TIMEOUT_S || *s < '0' || *s > '9')
		return -1;
	return v * 1000;
}

static bool read_comm(long pid, char *buf, size_t size)
{
	char path[64];
	FILE *c;
	bool ok = false;

	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	c = fopen(path, "re");
	if (c) {
		if (fgets(buf, (int)size, c)) {
			buf[strcspn(buf, "\n")] = '\0';
			ok = true;
		}
		fclose(c);
	}
	return ok;
}

/* Who holds a lock on this inode: "pid N (comm)".  /proc/locks names the
 * process that took the lock; the lock belongs to the open file, which may
 * live on in a process that inherited it (flock 9; exec ...).  That one's
 * /proc/PID/fd is closed to us (no CAP_SYS_PTRACE), so we say so. */
static void lock_holder(const struct stat *st, char *buf, size_t size)
{
	FILE *f = fopen("/proc/locks", "re");
	char line[256];

	snprintf(buf, size, "another process");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		unsigned long ino;
		long pid;
		char type[16], mode[16], rw[16], comm[64];

		/* "1: FLOCK  ADVISORY  WRITE 1234 00:2d:5678 0 EOF"; waiters
		 * have "->" after the number and are skipped */
		if (sscanf(line, "%*d: %15s %15s %15s %ld %x:%x:%lu", type, mode, rw, &pid, &maj, &min,
			   &ino) != 7)
			continue;
		if (ino != st->st_ino || makedev(maj, min) != st->st_dev)
			continue;
		if (pid > 0 && read_comm(pid, comm, sizeof(comm))) {
			snprintf(buf, size, "pid %ld (%s)", pid, comm);
		} else if (pid > 0) {
			snprintf(buf, size, "pid %ld, which has exited: a process that inherited "
				 "its open lock file holds it", pid);
		}
		break;
	}
	fclose(f);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int config_lock(const char *cmd, int how, bool create_dir, int *ret_fd)
{
	char *dir = config_dir(), path[4200], holder[128];
	long limit = lock_timeout_ms(), start;
	struct stat st;
	int dfd = -1, fd = -1, ret = EXIT_FAIL;

	*ret_fd = -1;
	if (!dir) {
		err_msg("%s: out of memory", cmd);
		return EXIT_FAIL;
	}
	snprintf(path, sizeof(path), "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", LOCK_NAME);
	if (limit < 0) {
		err_msg("%s: invalid HOSTGUARD_LOCK_TIMEOUT '%s' (expected whole seconds, 0-%d)", cmd,
			getenv("HOSTGUARD_LOCK_TIMEOUT"), MAX_TIMEOUT_S);
		ret = EXIT_INVALID;
		goto out;
	}
	if (create_dir && mkdir(dir, 0755) < 0 && errno != EEXIST) {
		err_msg("%s: cannot create %s: %s", cmd, dir, strerror(errno));
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		/* no directory, no config in it: apply goes on to the
		 * defaults, a --runtime edit to the table */
		if (!create_dir && errno == ENOENT) {
			ret = EXIT_OK;
			goto out;
		}
		err_msg("%s: cannot open %s: %s", cmd, dir, strerror(errno));
		goto out;
	}
	fd = openat(dfd, LOCK_NAME, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		    0600);
	if (fd < 0) {
		/*
		 * apply by a user who may not write the directory (a
		 * cap_net_admin copy reading root's config): it cannot take
		 * the lock, but then it cannot write the config either, and
		 * every edit replaces the config by an atomic rename, so it
		 * reads one whole version.  At worst it loads a version an
		 * edit is just replacing; check reports that, apply repairs it.
		 */
		if (how == LOCK_SH && (errno == EACCES || errno == EROFS || errno == EPERM)) {
			ret = EXIT_OK;
			goto out;
		}
		if (errno == ELOOP)
			err_msg("%s: %s is a symbolic link; refusing it (fix: rm %s)", cmd, path, path);
		else
			err_msg("%s: cannot open the lock %s: %s", cmd, path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		err_msg("%s: %s: %s", cmd, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1 || (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & 077)) {
		err_msg("%s: refusing the lock %s: it must be a regular file owned by root or you, mode 0600, "
			"one link (it is uid %u, mode %04o, %lu links; fix: rm %s)", cmd, path,
			(unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), (unsigned long)st.st_nlink, path);
		goto out;
	}
	start = now_ms();
	for (long delay = 10;; delay = delay < 200 ? delay * 2 : 200) {
		if (flock(fd, how | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			err_msg("%s: cannot lock %s: %s", cmd, path, strerror(errno));
			goto out;
		}
		if (now_ms() - start >= limit) {
			lock_holder(&st, holder, sizeof(holder));
			err_msg("%s: %s is held by %s; gave up after %ld s (HOSTGUARD_LOCK_TIMEOUT); nothing changed",
				cmd, path, holder, limit / 1000);
			goto out;
		}
		sleep_ms(delay);
	}
	*ret_fd = fd;
	fd = -1;
	ret = EXIT_OK;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	free(dir);
	return ret;
}
