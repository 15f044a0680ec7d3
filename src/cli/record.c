/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What hostguard itself last put in the kernel, so that check and status can
 * tell "the config was edited and not applied yet" from "another program
 * changed the table" from "hostguard's own --runtime edits".
 *
 * After every transaction of its own (apply, follow, guard, edits, --runtime
 * edits, save), hostguard writes /run/hostguard/applied-<netns cookie>: a
 * keyed digest of the table as it left it and of the config file it had
 * applied.  Why a file and not the table's own userdata: the kernel updates
 * a table's flags only (on 6.18 a NEWTABLE with another comment is accepted
 * and the old comment stays), re-creating the table to change it is what
 * apply must never do (doc/ruleset.md), and whoever can
 * change the table (CAP_NET_ADMIN, say a container with NET_ADMIN in the
 * host's namespace) could rewrite its userdata too, but not a file of root's.
 *
 * Think like an attacker: /run is root's; the directory must be root's with
 * no group or other bits, the file root's, mode 0600, no symlink, or it is
 * not believed (check then says it cannot tell, never "runtime only").  The
 * digests are SipHash-2-4 under a random key kept in the file: someone who
 * may change the table but cannot read the file cannot make a different
 * table that digests the same.  A non-root operator with CAP_NET_ADMIN
 * writes no record; what the table then holds is "changed outside
 * hostguard" until root applies.  The record is keyed by the network
 * namespace's cookie (never reused while the machine runs); /run is a tmpfs,
 * so a reboot forgets it, and the boot unit's apply writes it again.
 *
 * Cost: apply reads the whole table anyway and digests it.  An edit must
 * stay as cheap as its one-set transaction, so it does not read the table:
 * it chains generations.  The record holds the generation after hostguard's
 * last commit; an edit planned at exactly that generation (the kernel's
 * generation guard makes its commit the very next one) moves it on, and the
 * digest then describes an older generation.  In a table of up to
 * RECORD_DIGEST_EDITS elements the edit reads back the one set it changed
 * and brings the digest up to date (it is a sum of one part per key:
 * "digests" below), so that Docker's next commit does not leave check
 * unable to tell.
 * While the ruleset is still at the recorded generation, nothing but
 * hostguard touched it.  Only when
 * another program committed since (Docker's iptables rules, say) does an
 * edit read the table, and check, which reads it anyway, refreshes the
 * digest; an edit that finds the table changed says so in the record
 * (mark_outside), so that the next ones need not read it again.
 *
 * An apply that finds the table as its policy records that policy's digest
 * (its ruleset as rendered) with the generation; while nothing is committed
 * and the policy is the same, the next apply knows the table is in sync
 * without reading it (in_sync_as_recorded).  An edit's commit forgets it.
 *
 * The namespace's lock is the record file itself, flock()ed: it orders
 * hostguard's own transactions there.  An edit holds it from before its
 * transaction to after its record, apply and follow too (waiting a bounded
 * time), so no commit of hostguard's comes between another's commit and
 * its record; every write of the record is made under it, through the fd
 * that holds it: one open() for the lock, the read and the write.  The file
 * is never replaced or removed (forgetting the record empties it), so every
 * holder locks the same inode.  One lock per namespace: an apply of a
 * million uids elsewhere holds up nothing here.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "internal.h"
#include "record.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

#define RECORD_DIR "/run/hostguard"
#define RECORD_MAGIC "hostguard record 3"
/* the release before's: one digest of the whole table, no "sets" line */
#define RECORD_MAGIC_2 "hostguard record 2"
/* the record's fixed size: written in place (record_store); an empty file
 * is no record */
#define RECORD_SIZE 1024
/* up to this many elements in the set(s) of its key (or in the whole
 * table, when the digest is of an older generation) an edit digests what
 * it made after its commit */
#define RECORD_DIGEST_EDITS 2048
/* table_generation of a record whose table was found changed outside
 * hostguard since its last commit (mark_outside) */
#define RECORD_OUTSIDE 0

/* ---- where ---------------------------------------------------------------- */

/* known: a socket of this namespace that is open anyway, or -1 (making a
 * socket costs an edit more than reading the record) */
static int netns_id(int known, char *buf, size_t len)
{
	uint64_t cookie = 0;
	socklen_t sl = sizeof(cookie);
	int fd = known >= 0 ? known : socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int r = fd < 0 ? -1 : getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &sl);

	if (fd >= 0 && fd != known)
		close(fd);
	if (r == 0) {
		snprintf(buf, len, "%" PRIu64, cookie);
		return 0;
	}
	/* before 5.14: the namespace's inode (may be reused after it is gone) */
	struct stat st;
	if (stat("/proc/self/ns/net", &st) < 0)
		return -errno;
	snprintf(buf, len, "ino%llu", (unsigned long long)st.st_ino);
	return 0;
}

static char record_file[128];

static const char *path_from(int known)
{
	char id[40];

	if (!record_file[0] && netns_id(known, id, sizeof(id)) == 0)
		snprintf(record_file, sizeof(record_file), RECORD_DIR "/applied-%s", id);
	return record_file[0] ? record_file : NULL;
}

const char *record_path(void)
{
	return path_from(-1);
}

void record_use_socket(struct hg_nl *nl)
{
	(void)path_from(hg_nl_fd(nl));
}

/* root's, no group or other bits, not a symlink (st: its lstat) */
static bool trusted(const struct stat *st)
{
	return S_ISDIR(st->st_mode) && st->st_uid == 0 && !(st->st_mode & 077);
}

static bool dir_trusted(void)
{
	struct stat st;

	return lstat(RECORD_DIR, &st) == 0 && trusted(&st);
}

/* ---- read, write ------------------------------------------------------------ */

/* FNV-1a: a torn or truncated record is garbage, not a different record
 * (the file is root's; this is no defence against anyone) */
static uint64_t record_sum(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--)
		h = (h ^ (unsigned char)*p++) * 0x100000001b3ULL;
	return h;
}

/* lit, then a number in base 10 or 16 up to max, as record_text() writes
 * them; *p moves past it.  No sscanf(): its first call costs an edit more
 * than everything else the record does. */
static bool field(const char **p, const char *lit, unsigned base, uint64_t max, uint64_t *ret)
{
	size_t n = strlen(lit);
	const char *s = *p;
	uint64_t v = 0;
	unsigned d;

	if (strncmp(s, lit, n) != 0)
		return false;
	for (s += n;; s++) {
		char c = *s;
		d = c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 99;
		if (d >= base)
			break;
		if (v > (max - d) / base)
			return false;
		v = v * base + d;
	}
	if (s == *p + n)
		return false;
	*p = s;
	*ret = v;
	return true;
}

static int parse_record(const char *buf, struct record *ret)
{
	const char *sum = strstr(buf, "\nsum "), *p = buf;
	uint64_t want, key0, key1, gen, table, table_gen, elements, config, policy, verified;
	size_t body = sum ? (size_t)(sum - buf) : 0;
	bool v2 = strncmp(buf, RECORD_MAGIC_2 "\n", sizeof(RECORD_MAGIC_2)) == 0;

	if (!sum || !field(&sum, "\nsum ", 16, UINT64_MAX, &want) || record_sum(buf, body) != want)
		return -EBADMSG;
	if (!field(&p, v2 ? RECORD_MAGIC_2 "\nkey " : RECORD_MAGIC "\nkey ", 16, UINT64_MAX, &key0) ||
	    !field(&p, " ", 16, UINT64_MAX, &key1) ||
	    !field(&p, "\ngeneration ", 10, UINT32_MAX, &gen) ||
	    !field(&p, "\ntable ", 16, UINT64_MAX, &table) ||
	    !field(&p, " at ", 10, UINT32_MAX, &table_gen) ||
	    !field(&p, " elements ", 10, UINT32_MAX, &elements) ||
	    !field(&p, "\nconfig ", 16, UINT64_MAX, &config) ||
	    !field(&p, "\npolicy ", 16, UINT64_MAX, &policy) ||
	    !field(&p, " verified ", 10, UINT64_MAX, &verified) || strncmp(p, v2 ? "\n" : "\nsets", v2 ? 1 : 5) != 0)
		return -EBADMSG;
	*ret = (struct record){ { key0, key1 }, (uint32_t)gen, table, (uint32_t)table_gen,
				(uint32_t)elements, { 0 }, { 0 }, config, policy, verified };
	if (v2) {
		/* after an upgrade: the key (which marks the --for grants made
		 * with it, #22) and the generations hold; its digest is of
		 * another kind, so it is of no generation (check, or the next
		 * edit of a small table, digests the table anew), and its
		 * policy is not known */
		if (ret->table_generation != RECORD_OUTSIDE) {
			ret->table_generation = ret->generation - 1;
			if (ret->table_generation == RECORD_OUTSIDE)
				ret->table_generation--;
		}
		ret->policy = 0;
		return 0;
	}
	p += 5;
	for (int k = 0; k < HG_KEY_MAX; k++) {
		uint64_t count;
		if (!field(&p, " ", 16, UINT64_MAX, &ret->sets[k]) || !field(&p, "/", 10, UINT32_MAX, &count))
			return -EBADMSG;
		ret->counts[k] = (uint32_t)count;
	}
	return *p == '\n' ? 0 : -EBADMSG;
}

/* The record in fd (open, checked); -ENOENT when the file is empty. */
static int record_read(int fd, struct record *ret)
{
	char buf[RECORD_SIZE + 1];
	ssize_t n;
	int r = -EBADMSG;

	/* a writer rewrites the file in place, under the lock that readers
	 * do not take: a read that raced it fails its sum, and is read again */
	for (int tries = 0; tries < 3 && r == -EBADMSG; tries++) {
		n = pread(fd, buf, RECORD_SIZE, 0);
		if (n == 0)
			return -ENOENT;
		if (n < 0)
			return -errno;
		buf[n] = '\0';
		r = parse_record(buf, ret);
	}
	return r;
}

/* root's regular file, no group or other bits, one link (st: its fstat):
 * what the lock refuses, check does not believe either */
static bool file_trusted(const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_uid == 0 && !(st->st_mode & 077) && st->st_nlink == 1;
}

int record_load(struct record *ret)
{
	const char *path = record_path();
	struct stat st;
	int fd, r;

	if (!path)
		return -ENXIO;
	if (!dir_trusted())
		return access(RECORD_DIR, F_OK) == 0 ? -EPERM : -ENOENT;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -EPERM : -errno;
	r = fstat(fd, &st) == 0 && file_trusted(&st) ? record_read(fd, ret) : -EPERM;
	close(fd);
	return r;
}

/*
 * The namespace's lock: its record file, /run/hostguard/applied-<cookie>
 * (one per network namespace: an apply in one never waits for another's),
 * flock()ed, created empty when missing.  A regular file of root's, 0600,
 * one link, in the trusted directory: nobody else can open it.  Returns
 * the fd, open for reading and writing the record (record_read,
 * record_store).  wait_ms < 0: as long as it takes; else at most that
 * long, then -EAGAIN.
 */
static int record_lock_within(long wait_ms)
{
	struct stat st;
	int fd;

	if (geteuid() != 0 || !record_path())
		return -EPERM;
	if (lstat(RECORD_DIR, &st) < 0) {
		if (errno != ENOENT || (mkdir(RECORD_DIR, 0700) < 0 && errno != EEXIST) ||
		    lstat(RECORD_DIR, &st) < 0)
			return -errno;
	}
	if (!trusted(&st))
		return -EPERM;
	/* the file may be removed, or replaced by a rename over it (root's
	 * rm, the release before's remove) while we wait for its lock: a
	 * lock on an inode that is no longer the record is none, and a
	 * record written there is lost.  Such an inode has no link left. */
	for (int tries = 0;; tries++) {
		fd = open(record_file, O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, 0600);
		if (fd < 0)
			return errno == ELOOP ? -EPERM : -errno;
		if (fstat(fd, &st) < 0 || !file_trusted(&st)) {
			close(fd);
			return -EPERM;
		}
		for (long waited = 0; flock(fd, wait_ms < 0 ? LOCK_EX : LOCK_EX | LOCK_NB) < 0; waited += 10) {
			if (errno == EINTR)
				continue;
			if (errno != EWOULDBLOCK || waited >= wait_ms) {
				int r = errno == EWOULDBLOCK ? -EAGAIN : -EPERM;
				close(fd);
				return r;
			}
			nanosleep(&(struct timespec){ 0, 10 * 1000000L }, NULL);
		}
		if (fstat(fd, &st) == 0 && st.st_nlink == 1)
			return fd;
		close(fd);
		if (tries == 8)
			return -EAGAIN;
	}
}

static int record_lock(void)
{
	return record_lock_within(-1);
}

static int record_apply_lock(void)
{
	long ms = lock_timeout_ms();

	return geteuid() == 0 ? record_lock_within(ms < 0 ? 10000 : ms) : -1;
}

/* field by field: a struct's padding is not the record's */
static bool same_record(const struct record *a, const struct record *b)
{
	return a->key[0] == b->key[0] && a->key[1] == b->key[1] && a->generation == b->generation &&
	       a->table == b->table && a->table_generation == b->table_generation &&
	       a->elements == b->elements && a->config == b->config && a->policy == b->policy &&
	       a->verified == b->verified && memcmp(a->sets, b->sets, sizeof(a->sets)) == 0 &&
	       memcmp(a->counts, b->counts, sizeof(a->counts)) == 0;
}

/* The record as text, padded to RECORD_SIZE so that a rewrite in place
 * never leaves a longer old tail; 0 or -ENOBUFS. */
static int record_text(const struct record *r, const char *by, char buf[RECORD_SIZE])
{
	int len = snprintf(buf, RECORD_SIZE,
			   RECORD_MAGIC "\nkey %016" PRIx64 " %016" PRIx64 "\ngeneration %" PRIu32
			   "\ntable %016" PRIx64 " at %" PRIu32 " elements %" PRIu32 "\nconfig %016" PRIx64
			   "\npolicy %016" PRIx64 " verified %" PRIu64 "\nsets",
			   r->key[0], r->key[1], r->generation, r->table, r->table_generation, r->elements,
			   r->config, r->policy, r->verified);
	int tail;

	for (int k = 0; len > 0 && len < RECORD_SIZE && k < HG_KEY_MAX; k++)
		len += snprintf(buf + len, RECORD_SIZE - (size_t)len, " %016" PRIx64 "/%" PRIu32, r->sets[k],
				r->counts[k]);
	if (len > 0 && len < RECORD_SIZE)
		len += snprintf(buf + len, RECORD_SIZE - (size_t)len, "\nby %.32s\ntime %lld", by,
				(long long)time(NULL));
	if (len < 0 || len + 24 >= RECORD_SIZE)
		return -ENOBUFS;
	tail = snprintf(buf + len, RECORD_SIZE - (size_t)len, "\nsum %016" PRIx64 "\n",
			record_sum(buf, (size_t)len));
	memset(buf + len + tail, ' ', RECORD_SIZE - 1 - (size_t)(len + tail));
	buf[RECORD_SIZE - 1] = '\n';
	return 0;
}

/* Through lock, the fd record_lock() returned: one pwrite of a fixed size
 * in place (a lockless reader that races it fails the sum and reads again;
 * a rename over the file would leave the lock's holders on another inode,
 * and was most of what a --runtime edit cost where /run is not a tmpfs). */
static int record_store(int lock, const struct record *r, const char *by)
{
	char buf[RECORD_SIZE];

	if (record_text(r, by, buf) < 0)
		return -ENOBUFS;
	return pwrite(lock, buf, RECORD_SIZE, 0) == RECORD_SIZE ? 0 : -EIO;
}

/* ---- digests -------------------------------------------------------------------- */

/*
 * The table's digest is a sum (mod 2^64) of one digest per key, of that
 * key's values as the table holds them, and one of everything else: the
 * ruleset those values sit in (as apply renders it with no values) and
 * whatever differs from what the values build (hg_state_diff).  An edit
 * changes the values of one key, so it reads back that key's set alone
 * and puts its new part in place of the old (record_edit_end): the cost
 * does not grow with the rest of the table.  Each part is SipHash-2-4
 * under the record's key: without the key, nobody can make a different
 * table whose parts add up to the same.
 */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Key k's values in s (what a config decides and what was learned from
 * Docker; grants with a kernel timeout left out: they expire), in order;
 * *count: every element of k, for RECORD_DIGEST_EDITS. */
static int key_digest(const struct record *rec, const struct hg_state *s, int k, uint64_t *ret,
		      uint32_t *count)
{
	char *all = NULL, **g = NULL;
	size_t len = 0, n = 0, total = 0;
	FILE *f = open_memstream(&all, &len);
	int r = 0;

	if (!f)
		return -ENOMEM;
	fprintf(f, "key %s\n", hg_key_name(k));
	if (HG_KIND(k) == HG_KIND_GRANT) {
		size_t m = hg_state_grant_count(s);
		g = calloc(m ? m : 1, sizeof(*g));
		for (size_t i = 0; g && i < m && r == 0; i++) {
			struct hg_grant_info gi;
			struct hg_grant_origin o;
			if (hg_state_grant(s, i, &gi) < 0 || gi.gid != (k == HG_KEY_GRANT_GIDS))
				continue;
			total++;
			if (gi.timeout_ms || hg_state_grant_origin(s, i, &o) < 0)
				continue;
			if (asprintf(&g[n], "%s %d %s", gi.text, (int)o.source, o.container) < 0)
				r = -ENOMEM;
			else
				n++;
		}
		if (!g)
			r = -ENOMEM;
		if (r == 0 && n)
			qsort(g, n, sizeof(*g), cmp_str);
		for (size_t i = 0; r == 0 && i < n; i++)
			fprintf(f, "%s\n", g[i]);
	} else {
		total = hg_state_count(s, k);
		for (size_t i = 0; i < total; i++) {
			uint32_t lo = 0, hi = 0;
			if (HG_KIND(k) == HG_KIND_IFNAME) {
				fprintf(f, "%s\n", hg_state_iface(s, i));
				continue;
			}
			hg_state_range(s, k, i, &lo, &hi);
			fprintf(f, "%" PRIu32 "-%" PRIu32 "\n", lo, hi);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(g[i]);
	free(g);
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r == 0) {
		*ret = hg_siphash(rec->key, all, len);
		*count = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
	}
	free(all);
	return r;
}

int record_table_digest(const struct record *rec, const struct hg_state *s, struct table_digest *ret)
{
	struct hg_policy *live = NULL, *frame = hg_policy_new();
	struct hg_log_settings log;
	char **lines = NULL, *text = NULL, *all = NULL;
	size_t len = 0;
	FILE *f = NULL;
	int n = 0, r;

	/* the sets as a policy, and whatever else differs from what that
	 * policy builds; the ruleset around the sets, rendered without them */
	r = frame ? live_policy_sourced(s, true, &live) : -ENOMEM;
	if (r == 0) {
		hg_policy_get_log(live, &log);
		hg_policy_set_log(frame, &log);
		if (!(text = hg_policy_to_nft(frame)))
			r = -ENOMEM;
	}
	if (r == 0 && (n = hg_state_diff(s, live, &lines)) < 0)
		r = n;
	if (r == 0 && !(f = open_memstream(&all, &len)))
		r = -ENOMEM;
	if (r == 0) {
		fputs("rest\n", f);
		fputs(text, f);
		for (int i = 0; i < n; i++)
			fprintf(f, "\n%s", lines[i]);
		if (fclose(f) != 0)
			r = -ENOMEM;
		else
			ret->table = hg_siphash(rec->key, all, len);
	}
	for (int k = 0; r == 0 && k < HG_KEY_MAX; k++) {
		r = key_digest(rec, s, k, &ret->sets[k], &ret->counts[k]);
		ret->table += ret->sets[k];
	}
	free(all);
	free(text);
	hg_lines_free(lines, n > 0 ? (size_t)n : 0);
	hg_policy_free(live);
	hg_policy_free(frame);
	return r;
}

/* r now describes the table of generation gen, digested as d */
static void take_digest(struct record *r, const struct table_digest *d, uint32_t gen)
{
	uint64_t n = 0;

	r->table = d->table;
	r->table_generation = gen;
	memcpy(r->sets, d->sets, sizeof(r->sets));
	memcpy(r->counts, d->counts, sizeof(r->counts));
	for (int k = 0; k < HG_KEY_MAX; k++)
		n += d->counts[k];
	r->elements = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* The config file's digest is chained block by block: h = H(h || block),
 * from h = 0, then h ^ 1 (an empty file: 1; no file: H("")).  No need to
 * hold a large config in memory, and a version that shares its first
 * blocks with one digested before resumes from that one's chain. */
#define CONFIG_BLOCK 65528   /* with the chain's 8 bytes: 64 KiB */

/* a whole block (fewer bytes only at the end of the file) */
static ssize_t read_block(int fd, char *buf)
{
	size_t got = 0;

	while (got < CONFIG_BLOCK) {
		ssize_t n = read(fd, buf + got, CONFIG_BLOCK - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* The digest from block `from` on, h being the chain's value before it;
 * with c, the value before each block is kept (the first CONFIG_CHAIN). */
static int config_digest(const struct record *rec, size_t from, uint64_t h, struct config_chain *c,
			 uint64_t *ret)
{
	char buf[8 + CONFIG_BLOCK];
	ssize_t n;
	size_t b = from;
	int fd = open(config_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (c)
		c->n = 0;
	if (fd < 0) {
		if (errno != ENOENT)
			return -errno;
		*ret = hg_siphash(rec->key, "", 0);  /* no file: the defaults */
		return 0;
	}
	if (from && lseek(fd, (off_t)(from * CONFIG_BLOCK), SEEK_SET) < 0) {
		close(fd);
		return -EIO;
	}
	while ((n = read_block(fd, buf + 8)) > 0) {
		if (c && b < CONFIG_CHAIN) {
			c->h[b] = h;
			c->n = b + 1;
		}
		memcpy(buf, &h, 8);
		h = hg_siphash(rec->key, buf, (size_t)n + 8);
		b++;
	}
	close(fd);
	if (n < 0)
		return -EIO;
	*ret = h ^ 1;
	return 0;
}

int record_config_digest(const struct record *rec, uint64_t *ret)
{
	return config_digest(rec, 0, 0, NULL, ret);
}

int record_config_digest_resume(const struct record *rec, const struct config_chain *c, size_t same,
				uint64_t *ret)
{
	size_t b = same / CONFIG_BLOCK;

	/* the blocks before b are the old file's: their chain is known */
	if (b >= c->n)
		b = c->n ? c->n - 1 : 0;
	return config_digest(rec, b, c->n ? c->h[b] : 0, NULL, ret);
}

/* ---- after hostguard's own transactions ------------------------------------------ */

static int new_key(struct record *r)
{
	if (getrandom(r->key, sizeof(r->key), 0) != sizeof(r->key))
		return -EIO;
	return 0;
}

/* The short way of an in-sync apply (in_sync_as_recorded) is taken only
 * this long after an apply last read the table and found it the policy:
 * whatever a generation cannot tell (2^32 commits to wrap it around take
 * hours at the kernel's fastest), the timer's apply reads it again within
 * five minutes. */
#define RECORD_TRUST_SECONDS 300

static uint64_t boot_seconds(void)
{
	struct timespec ts;

	return clock_gettime(CLOCK_BOOTTIME, &ts) == 0 ? (uint64_t)ts.tv_sec : 0;
}

/* p's ruleset as apply renders it (set elements, chains, rules, this
 * release's), digested under the record's key: what the table is when
 * apply finds it in sync with p */
static int policy_digest(const struct record *r, const struct hg_policy *p, uint64_t *ret)
{
	char *text = hg_policy_to_nft(p);

	if (!text)
		return -ENOMEM;
	*ret = hg_siphash(r->key, text, strlen(text)) | 1;   /* never 0: "not known" */
	free(text);
	return 0;
}

/* After an apply of p (changed: it committed) under the lock, with what
 * record_apply read under it before the transaction: the record r (had:
 * there was one, else r has a new key only) and policy, p's digest */
static void record_after_apply(struct hg_nl *nl, const struct hg_policy *p, bool changed, int lock,
			       struct record r, bool had, uint64_t policy)
{
	struct hg_state *s = NULL;
	struct hg_error e = { 0 };
	struct table_digest d;
	char **lines = NULL;
	uint32_t now = 0;
	int n;

	/* in sync and nothing committed since hostguard's last commit: the
	 * table is as recorded and is p, so only the digests of the config and
	 * of p may be new; no table walk */
	if (had && !changed && hg_nl_generation(nl, &now) == 0 && now == r.generation) {
		uint64_t applied = r.config;
		bool again = r.policy && r.policy == policy;
		/* the apply read the table and found it p: the policy that an
		 * earlier apply recorded at this very generation holds (no
		 * element can have come since without a commit) */
		if (again)
			r.verified = boot_seconds();
		if (record_config_digest(&r, &r.config) == 0 && (r.config != applied || again))
			record_store(lock, &r, "apply");
		return;
	}
	if (hg_state_read(nl, &s, &e) < 0)
		return;
	/* the table is the applied policy, whoever else committed meanwhile */
	n = hg_state_diff(s, p, &lines);
	if (n == 0 && record_table_digest(&r, s, &d) == 0 && record_config_digest(&r, &r.config) == 0) {
		/* another program may have committed meanwhile */
		if (hg_nl_generation(nl, &now) == 0 && now == hg_state_generation(s)) {
			r.generation = now;
			take_digest(&r, &d, now);
			/* an element the kernel holds with a timeout goes without
			 * a commit, and the table with it is p no longer: an apply
			 * must then read it every time */
			r.policy = hg_state_expiring(s) ? 0 : policy;
			r.verified = boot_seconds();
			record_store(lock, &r, "apply");
		}
	}
	hg_lines_free(lines, n > 0 ? (size_t)n : 0);
	hg_state_free(s);
}

/* Nothing committed since hostguard's last commit, which left the table
 * as p renders it (record_after_apply knew, and no edit came after: an
 * edit's record knows no policy), with no element the kernel expires, and
 * an apply read it and found it so less than RECORD_TRUST_SECONDS ago: the
 * table is p (policy: its digest), and apply need not read it to know (a
 * walk of its sets, which the kernel makes quadratic, 0.2 s at 50,000 uids
 * and ports).  Any change to the ruleset by anyone is a commit, and moves
 * the generation; a change of p (the config, a user's uid, Docker's ports)
 * changes its digest. */
static bool in_sync_as_recorded(struct hg_nl *nl, const struct record *r, uint64_t policy)
{
	uint64_t t = boot_seconds();
	uint32_t now;

	return r->policy && r->policy == policy && r->verified <= t &&
	       t - r->verified <= RECORD_TRUST_SECONDS && hg_nl_generation(nl, &now) == 0 &&
	       now == r->generation;
}

int record_apply(struct hg_nl *nl, const struct hg_policy *p, unsigned flags, bool record,
		 char ***ret_delta, size_t *ret_n, struct hg_error *err)
{
	int lock = record_apply_lock();
	struct record rec = { 0 };
	uint64_t policy = 0;
	bool had = false;
	int r;

	/* without the lock held since before the transaction, an edit may
	 * have come between: nothing is recorded (check cannot tell).  With
	 * it, the record read now is the record after the transaction too
	 * (every writer locks); p's digest is taken once, before the table is
	 * read (its rendering is gone by then) */
	record = record && lock >= 0;
	if (record) {
		had = record_read(lock, &rec) == 0;
		record = (had || new_key(&rec) == 0) && policy_digest(&rec, p, &policy) == 0;
		/* a new key marks this apply's view of the table too: a timed
		 * element made under a record that is gone is no runtime grant
		 * (security.md #22), now as for every later command */
		if (record && !had)
			hg_grant_set_runtime_key(rec.key);
	}
	/* a plain apply (no counters to zero) that has nothing to do */
	if (record && had && !flags && in_sync_as_recorded(nl, &rec, policy)) {
		uint64_t applied = rec.config;
		/* only the config's digest may be new (a comment edited) */
		if (record_config_digest(&rec, &rec.config) == 0 && rec.config != applied)
			record_store(lock, &rec, "apply");
		close(lock);
		*ret_delta = NULL;
		*ret_n = 0;
		return 0;
	}
	r = hg_apply_flags(nl, p, flags, ret_delta, ret_n, err);
	if (r >= 0 && record)
		record_after_apply(nl, p, r > 0, lock, rec, had, policy);
	if (lock >= 0)
		close(lock);
	return r;
}

/*
 * The table is not as hostguard left it, and no edit can make it so again
 * (only apply does): say so in the record, table_generation 0 (no ruleset
 * generation is 0), so that the next edits do not read the whole table
 * again to find the same (250 ms each at 50,000 elements), and check
 * names the cause without a digest.  Never a blessing: the record's own
 * generation stays that of hostguard's last commit.
 */
static void mark_outside(const struct record_edit *re)
{
	struct record r = re->seen;

	r.table_generation = RECORD_OUTSIDE;
	r.policy = 0;
	record_store(re->lock, &r, "edit: changed outside");
}

void record_edit_release(struct record_edit *re)
{
	if (re->lock >= 0)
		close(re->lock);
	re->lock = -1;
}

void record_edit_begin(struct record_edit *re, struct hg_nl *nl, bool config, int key)
{
	struct hg_state *s = NULL;
	struct hg_error e = { 0 };
	struct table_digest d;

	memset(re, 0, sizeof(*re));
	re->key = key;
	record_use_socket(nl);
	/* held until record_edit_end: no other writer can come between
	 * what the edit saw and what it writes (every writer locks), and the
	 * record is read once */
	re->lock = record_lock();     /* -EPERM: not root */
	if (re->lock < 0 || record_read(re->lock, &re->rec) < 0) {
		record_edit_release(re);
		return;
	}
	/* the key of hostguard's own --for marks (main.c leaves it to here) */
	hg_grant_set_runtime_key(re->rec.key);
	re->seen = re->rec;
	re->have = true;
	/* only record_edit_end(config_changed) asks, and hashing a
	 * 50,000-uid config is most of what a --runtime edit costs */
	re->config_applied = config && config_digest(&re->rec, 0, 0, &re->chain, &re->config_before) == 0 &&
			     re->config_before == re->rec.config;
	/* Is the table still as hostguard left it?  Without any commit since,
	 * surely; otherwise (Docker's iptables, say) read it and compare with
	 * the digest, when that is of the last generation.  An edit must never
	 * bless another program's change by chaining onto it. */
	if (hg_nl_generation_for(nl, key, &re->gen0) < 0)
		return;
	if (re->gen0 == re->rec.generation) {
		re->table_ours = true;
		return;
	}
	if (re->rec.table_generation != re->rec.generation)
		return;
	if (hg_state_read(nl, &s, &e) == 0 && record_table_digest(&re->rec, s, &d) == 0) {
		if (d.table == re->rec.table) {
			re->table_ours = true;
			re->gen0 = re->rec.generation = hg_state_generation(s);
			take_digest(&re->rec, &d, re->gen0);
		} else {
			mark_outside(re);
		}
	}
	hg_state_free(s);
}

/* After the edit's commit (committed, the generation right after gen0):
 * the digest of the table it made.  When the record's digest is of the
 * table the edit was planned on, only the edited key's part can have
 * changed: its set alone is read back (its grant sets, for grants).  A
 * read that another commit may have come before leaves the digest as it
 * was (of an older generation: check reads the table and knows). */
static void redigest(struct record_edit *re, struct hg_nl *nl, uint32_t committed)
{
	struct record *r = &re->rec;
	struct hg_state *s = NULL;
	struct hg_error e = { 0 };
	struct table_digest d;
	uint32_t now = 0, count;
	uint64_t part;
	int k = re->key;

	if (k < 0 || k >= HG_KEY_MAX || r->table_generation != re->gen0) {
		/* the whole table, at the edit's generation */
		if (r->elements <= RECORD_DIGEST_EDITS && hg_state_read(nl, &s, &e) == 0 &&
		    hg_state_generation(s) == committed && record_table_digest(r, s, &d) == 0)
			take_digest(r, &d, committed);
		hg_state_free(s);
		return;
	}
	/* the grant sets are read together */
	if ((HG_KIND(k) == HG_KIND_GRANT ? (uint64_t)r->counts[HG_KEY_GRANT_UIDS] + r->counts[HG_KEY_GRANT_GIDS]
					  : r->counts[k]) > RECORD_DIGEST_EDITS)
		return;
	if ((HG_KIND(k) == HG_KIND_GRANT ? hg_state_read_grants(nl, &s) : hg_state_read_set(nl, k, true, &s)) == 0 &&
	    hg_nl_generation(nl, &now) == 0 && now == committed && key_digest(r, s, k, &part, &count) == 0) {
		r->table += part - r->sets[k];
		r->elements += count - r->counts[k];
		r->sets[k] = part;
		r->counts[k] = count;
		r->table_generation = committed;
	}
	hg_state_free(s);
}

void record_edit_end(struct record_edit *re, struct hg_nl *nl, bool config_changed, const char *by)
{
	uint32_t committed = hg_nl_committed_generation(nl);

	if (!re->have || !re->table_ours) {
		record_edit_release(re);
		return;
	}
	/* planned on the recorded generation: the guarded commit came next */
	if (committed) {
		if (committed != (re->gen0 + 1 ? re->gen0 + 1 : 1)) {
			record_edit_release(re);
			return;
		}
		re->rec.generation = committed;
		/* the table is no longer what an apply left: its policy is
		 * not known (in_sync_as_recorded) */
		re->rec.policy = 0;
		/* a small set's part of the digest is cheap to bring up to
		 * date: then Docker's next commit does not leave check unable
		 * to tell */
		redigest(re, nl, committed);
	}
	/* a config that held nothing unapplied holds nothing unapplied now;
	 * hand edits made before stay "not applied yet" */
	if (config_changed && re->config_applied)
		record_config_digest_resume(&re->rec, &re->chain, re->config_same, &re->rec.config);
	record_store(re->lock, &re->rec, by);
	record_edit_release(re);
}

void record_forget(void)
{
	int lock = record_lock();

	if (lock < 0)
		return;
	/* emptied, not removed: a waiter for the lock holds this inode */
	if (ftruncate(lock, 0) < 0)
		err_msg("cannot forget the record %s: %s", record_path(), strerror(errno));
	close(lock);
}

/* ---- the verdict ------------------------------------------------------------------- */

const char *const cause_names[] = {
	[CAUSE_IN_SYNC] = "in_sync",
	[CAUSE_NOT_LOADED] = "not_loaded",
	[CAUSE_UNKNOWN] = "unknown",
	[CAUSE_OUTSIDE] = "changed_outside",
	[CAUSE_CONFIG] = "config_edited",
	[CAUSE_DOCKER] = "docker_changed",
	[CAUSE_RUNTIME] = "runtime_only",
};

int drift_cause(struct hg_nl *nl, const struct hg_state *s, const struct rt_list *rt, int n_diff,
		enum cause *ret)
{
	struct record r, again;
	struct table_digest d = { 0 };
	uint32_t gen = hg_state_generation(s), now = 0;
	uint64_t c;
	bool ours;
	int k, lock;

	if (!s) {
		*ret = CAUSE_NOT_LOADED;
		return 0;
	}
	if (record_load(&r) < 0) {
		*ret = n_diff ? CAUSE_UNKNOWN : CAUSE_IN_SYNC;
		return 0;
	}
	/* the digest costs a walk of the table: only when it decides */
	if (gen != r.generation ? r.table_generation == r.generation : r.table_generation != gen) {
		k = record_table_digest(&r, s, &d);
		if (k < 0)
			return k;
	}
	/* still the generation hostguard's last commit left: nothing else
	 * committed since; else the digest tells, when it is that recent */
	if (gen == r.generation)
		ours = true;
	else if (r.table_generation == r.generation)
		ours = d.table == r.table;
	else
		ours = false;
	/* the digest of an edit's generation, for when the ruleset moves on */
	if (gen == r.generation && r.table_generation != gen && (lock = record_lock()) >= 0) {
		if (record_read(lock, &again) == 0 && same_record(&again, &r) &&
		    hg_nl_generation(nl, &now) == 0 && now == gen) {
			take_digest(&again, &d, gen);
			record_store(lock, &again, "check");
		}
		close(lock);
	}
	if (n_diff == 0) {
		*ret = CAUSE_IN_SYNC;
		return 0;
	}
	if (!ours) {
		*ret = r.table_generation != RECORD_OUTSIDE && gen != r.generation &&
		       r.table_generation != r.generation ? CAUSE_UNKNOWN : CAUSE_OUTSIDE;
		return 0;
	}
	k = record_config_digest(&r, &c);
	if (k < 0)
		return k;
	if (c != r.config)
		*ret = CAUSE_CONFIG;
	else if (rt->n && rt->only)
		*ret = CAUSE_RUNTIME;
	else
		*ret = CAUSE_DOCKER;  /* config and table as applied: what Docker publishes moved */
	return 0;
}
