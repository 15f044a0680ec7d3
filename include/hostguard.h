/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libhostguard: isolate a Docker host's private container ports with one
 * nftables table, "inet hostguard", programmed over netlink.
 *
 * Conventions:
 *   - Functions that can fail return 0 or a negative errno value.  When a
 *     struct hg_error is passed, it is filled with a one-line message that
 *     names the bad value, the config line or the kernel object.
 *   - Output parameters are named ret_*; they are untouched on failure.
 *   - A NULL or out-of-range argument (where none is documented as
 *     optional) is refused: functions returning an errno return -EINVAL,
 *     counts are 0, pointers NULL, and void functions do nothing.
 *   - Every pointer returned or filled in says who owns it and how long it
 *     lives.  "Static": owned by the library, valid for the life of the
 *     process.  "Borrowed from X": owned by X, valid until X is freed (or
 *     the call named changes it); never free it.  Otherwise the caller owns
 *     it and frees it with the function named.
 *   - The library never prints, never exits and never runs a program.
 */
#ifndef HOSTGUARD_H
#define HOSTGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HG_TABLE_NAME "hostguard"
#define HG_DEFAULT_CONFIG "/etc/hostguard/hostguard.conf"

/* Detail of a failure, meant to be printed as one line. */
struct hg_error {
	int code;              /* negative errno, 0 when nothing failed */
	unsigned line;         /* config file line, 0 when not about a line */
	char message[512];
};

/* The policy keys; each is also the name of a config key and, but for the
 * grants (each held in two sets, one per address family), of a set. */
enum hg_key {
	HG_KEY_UIDS,           /* allowed_uids */
	HG_KEY_GIDS,           /* allowed_gids */
	HG_KEY_IFACES,         /* container_ifaces */
	HG_KEY_TCP,            /* allow_from_containers_tcp */
	HG_KEY_UDP,            /* allow_from_containers_udp */
	HG_KEY_PUBLISHED_TCP,  /* published_tcp: host ports that lead into containers */
	HG_KEY_PUBLISHED_UDP,  /* published_udp */
	HG_KEY_GRANT_UIDS,     /* grant_uids: "USER@TARGET", held in sets grant_uids4/6 (and their _port, _addr hash sets) */
	HG_KEY_GRANT_GIDS,     /* grant_gids: "GROUP@TARGET", in sets grant_gids4/6 */
	HG_KEY_MAX
};

/* What an edit does with the values it names. */
enum hg_edit { HG_EDIT_ADD, HG_EDIT_REMOVE };

/* Returns the config key / set name (static), or NULL for an invalid key. */
const char *hg_key_name(enum hg_key key);
/* Returns the key for a config key name, or -EINVAL. */
int hg_key_from_name(const char *name);

/* ---- values ------------------------------------------------------------ */

/*
 * Parses one value of a key as a user types it: a uid or user name, a gid or
 * group name (resolved through NSS), an interface name or "prefix*", a port
 * or "first-last" range, or a grant "PRINCIPAL@TARGET" where PRINCIPAL is a
 * user (grant_uids) or group (grant_gids) and TARGET an address or prefix
 * with an optional port or range: "192.0.2.2", "192.0.2.0/24:8080",
 * "[2001:db8::2]:8000-8100", "2001:db8::/64".  Ids and ports come back as
 * [*ret_lo, *ret_hi] (lo == hi for ids and single ports; a grant gives its
 * principal's id); interfaces only validate.
 * Returns 0, -EINVAL (malformed, out of range) or -ENOENT (unknown name).
 */
int hg_value_parse(enum hg_key key, const char *token, uint32_t *ret_lo,
		   uint32_t *ret_hi, struct hg_error *err);

/*
 * One spelling per value, as the live table shows it: an id as its number
 * ("alice" -> "1002"), a port or range as "80" or "8000-8100", an interface
 * pattern as typed, a grant as "1002@192.0.2.0/24:8080" (IPv6 with a port
 * in brackets).  Returns 0, -ENOBUFS when len is too small, or what
 * hg_value_parse() returns.
 */
int hg_value_canonical(enum hg_key key, const char *token, char *buf, size_t len,
		       struct hg_error *err);

/* ---- policy ------------------------------------------------------------ */

struct hg_policy;

/* An empty policy (every set empty); the caller frees it with
 * hg_policy_free().  NULL when out of memory. */
struct hg_policy *hg_policy_new(void);
/* The built-in defaults: uid 0; docker0, docker_gwbridge, br-*, veth*, macvlan*,
 * ipvlan*; no ports.  *ret is the caller's: hg_policy_free(). */
int hg_policy_new_default(struct hg_policy **ret, struct hg_error *err);
void hg_policy_free(struct hg_policy *p);

/* Adds one value as typed (see hg_value_parse).  Repeated interface
 * patterns are kept once; ids and ports are merged when the sets are built. */
int hg_policy_add(struct hg_policy *p, enum hg_key key, const char *token,
		  struct hg_error *err);
/* Removes every value equal to the token (by resolved value). Returns the
 * number removed, or a negative errno for a bad token. */
int hg_policy_remove(struct hg_policy *p, enum hg_key key, const char *token,
		     struct hg_error *err);
size_t hg_policy_count(const struct hg_policy *p, enum hg_key key);
/* The i-th value as the user typed it, NUL-terminated; NULL when i or key
 * is out of range.  Borrowed from the policy: valid until the next
 * hg_policy_add() or hg_policy_remove() on it (its text buffer may move)
 * or hg_policy_free(). */
const char *hg_policy_token(const struct hg_policy *p, enum hg_key key, size_t i);
/* Checks the policy as a whole (overlapping interface patterns). */
int hg_policy_validate(const struct hg_policy *p, struct hg_error *err);

/*
 * What loading a config skipped, one line each: a user or group name in
 * allowed_uids / allowed_gids that does not resolve ("FILE:LINE: unknown
 * user 'alice' (skipped)").  Allowing is all a name can do, so a name that
 * no longer resolves fails closed: the rest of the config loads.  The
 * array and its strings are borrowed from the policy (valid until
 * hg_policy_free()); *ret_n is its length.
 */
const char *const *hg_policy_warnings(const struct hg_policy *p, size_t *ret_n);
/* The config's ignore_ifaces patterns: bridges, macvlan/ipvlan links and
 * bridge ports that need not be covered by container_ifaces (no kernel set;
 * "hostguard check" does not report them).  Borrowed from the policy, as
 * hg_policy_warnings(). */
const char *const *hg_policy_ignored_ifaces(const struct hg_policy *p, size_t *ret_n);

/* Logging of denied packets (config keys log_denied, log_group, log_rate):
 * when enabled, each drop rule is preceded by a rule that logs the same
 * packets to an NFLOG group, at most rate per per_seconds (burst 5). */
struct hg_log_settings {
	bool enabled;          /* default false */
	uint16_t group;        /* default HG_DEFAULT_LOG_GROUP */
	uint32_t rate;         /* default 10 */
	uint32_t per_seconds;  /* 1, 60 or 3600; default 1 */
};
#define HG_DEFAULT_LOG_GROUP 77
void hg_policy_get_log(const struct hg_policy *p, struct hg_log_settings *ret);
void hg_policy_set_log(struct hg_policy *p, const struct hg_log_settings *log);

/* The Docker Engine API socket (config key docker_socket): by default
 * HG_DEFAULT_DOCKER_SOCKET, NULL when the config says "none".  The library
 * never talks to Docker.  Borrowed from the policy: valid until
 * hg_policy_set_docker_socket() or hg_policy_free(). */
#define HG_DEFAULT_DOCKER_SOCKET "/run/docker.sock"
const char *hg_policy_docker_socket(const struct hg_policy *p);
/* Sets it (NULL: none). Returns 0 or -ENOMEM / -EINVAL (not an absolute path). */
int hg_policy_set_docker_socket(struct hg_policy *p, const char *path);

/* Does an interface name match a container_ifaces pattern ("br-*", "docker0")? */
bool hg_pattern_match(const char *pattern, const char *ifname);

/* The whole ruleset in nft syntax, loadable with "nft -f" as the same atomic
 * replace that hg_apply() performs. The caller frees it with free(). NULL
 * when out of memory or p is NULL. */
char *hg_policy_to_nft(const struct hg_policy *p);

/* ---- containers (grant targets by name, labels) ------------------------- */

/*
 * A grant's TARGET may be a container name ("alice@web1",
 * "alice@web1:8080", "alice@web1:8000-8100"): it covers every address the
 * container has (IPv4 and IPv6, every network).  The library never talks to
 * Docker: the caller says which addresses each running container has now;
 * a name it was not told of gets no element (fails closed).  Setting a name
 * again replaces its addresses; name and addrs are copied.  Returns 0,
 * -EINVAL (a bad name or address, err names it) or -ENOMEM.
 */
#define HG_CONTAINER_NAME_MAX 64
int hg_policy_set_container(struct hg_policy *p, const char *name, const char *const *addrs,
			    size_t n, struct hg_error *err);

/* Where a grant comes from. */
enum hg_grant_source {
	HG_GRANT_CONFIG,       /* the config (or an edit), by address */
	HG_GRANT_NAME,         /* the config, by container name */
	HG_GRANT_LABEL,        /* a container's io.hostguard.* labels */
};

/*
 * Adds a grant that is not the config's: "PRINCIPAL@ADDRESS[:PORTS]" from
 * a container's labels (HG_GRANT_LABEL), or an element of the live table
 * kept while Docker cannot be read (its own source).  container names it:
 * the kernel element carries "label:NAME" or "name:NAME" as its comment.
 * Never written to a config.  Such a grant that overlaps another of the
 * same principal without being equal is left out (the config's wins).
 * Returns 0, -EINVAL / -ENOENT (bad token) or -ENOMEM.
 */
int hg_policy_add_grant_from(struct hg_policy *p, enum hg_key key, const char *token,
			     enum hg_grant_source src, const char *container,
			     struct hg_error *err);

/*
 * Is a grant's target a container name?  Returns 1 and copies the name to
 * ret_name (len bytes), 0 for an address target, or a negative errno for
 * a token that does not parse (err says why).
 */
int hg_grant_target_name(enum hg_key key, const char *token, char *ret_name, size_t len,
			 struct hg_error *err);

/* ---- config file ------------------------------------------------------- */

/*
 * Reads a config file.  Keys missing from the file keep their built-in
 * default.  Returns -ENOENT when the file does not exist (err says so),
 * -EINVAL with err->line set for a bad line or value, or for a file that is
 * not a regular file (a FIFO is never read: it is opened non-blocking and
 * checked first), -EPERM when the file, or any directory from / down to it,
 * is owned by someone other than root or the caller, or is writable by
 * group or others (refused, as sshd's StrictModes would; a root-owned
 * sticky directory such as /tmp is accepted above the config's own
 * directory), or another negative errno.  Unknown user and group names
 * are skipped with a warning (hg_policy_warnings()).  *ret is the
 * caller's: hg_policy_free().
 */
int hg_config_load(const char *path, struct hg_policy **ret, struct hg_error *err);
/* The same for text in memory; name is used in messages. */
int hg_config_parse(const char *text, size_t len, const char *name,
		    struct hg_policy **ret, struct hg_error *err);

/*
 * Editing one key of a config file, keeping every other line and comment
 * byte for byte.  Prepare computes the new file and writes it to a
 * temporary file in the same directory (created with O_EXCL, fsync'd, with
 * the old file's mode and owner).  Commit keeps a hard link to the old file
 * and renames the new one over it: a crash leaves one whole version or the
 * other.  Then finish drops the old version, or abort puts it back (before
 * commit, abort removes the temporary file).  A missing file counts as all
 * defaults.  Prepare returns 1 with *ret set when the file changes, 0 (and
 * *ret NULL) when it already says so, or a negative errno (-EINVAL: invalid
 * file or value; -EPERM: a file others could change).  *ret is the
 * caller's until hg_config_edit_finish() or hg_config_edit_abort(), which
 * free it (after commit, exactly one of them must be called).
 */
struct hg_config_edit;
int hg_config_edit_prepare(const char *path, enum hg_key key, enum hg_edit op,
			   const char *const *tokens, size_t n,
			   struct hg_config_edit **ret, struct hg_error *err);
/* Several keys in one file edit: each change is applied to the text the
 * previous one left, and the result is checked and written as one new
 * version (hg_config_edit_line() is the last key's line).  Returns as
 * hg_config_edit_prepare(). */
struct hg_config_change {
	enum hg_key key;
	enum hg_edit op;
	const char *const *tokens;
	size_t n;
};
int hg_config_edit_prepare_many(const char *path, const struct hg_config_change *changes,
				size_t n_changes, struct hg_config_edit **ret, struct hg_error *err);
int hg_config_edit_commit(struct hg_config_edit *e, struct hg_error *err);
void hg_config_edit_finish(struct hg_config_edit *e);
void hg_config_edit_abort(struct hg_config_edit *e);
/* The key's new line, without the newline, for messages.  Borrowed from e:
 * valid until finish or abort. */
const char *hg_config_edit_line(const struct hg_config_edit *e);
/* How many leading bytes the new version shares with the file prepare read
 * (0 when there was none): a digest of the file chained block by block
 * need not read those again. */
size_t hg_config_edit_same(const struct hg_config_edit *e);
/*
 * Removes what edits killed midway left beside the config: regular files
 * named like their temporary files (".NAME.XXXXXX", ".NAME.XXXXXX.old"),
 * owned by root or the caller, in a directory that passes the trust checks
 * of hg_config_load().  Call it only while no other edit of that config can
 * run (the CLI holds its exclusive lock).  Returns the number removed, or a
 * negative errno (-EPERM: an untrusted directory, nothing removed).
 */
int hg_config_edit_cleanup(const char *path, struct hg_error *err);

/* ---- kernel ------------------------------------------------------------ */

struct hg_nl;

/* Opens a netfilter netlink socket in the caller's network namespace;
 * *ret is the caller's: hg_nl_close().  One hg_nl is not for concurrent
 * use by two threads. */
int hg_nl_open(struct hg_nl **ret, struct hg_error *err);
void hg_nl_close(struct hg_nl *nl);

/*
 * Brings table inet hostguard to the policy in one transaction: either all
 * of the change is live or none of it.  The table is updated in place
 * (elements added and removed, chains refilled only where they differ), so
 * packets never see a moment without it.  Returns 1 when it changed the
 * table, 0 when it was already in sync (then nothing at all is sent),
 * -EPERM without CAP_NET_ADMIN, or another negative errno with err naming
 * the object the kernel refused.  Drop counters are cumulative: they start
 * when their rule is created and hg_apply() leaves them alone.
 */
int hg_apply(struct hg_nl *nl, const struct hg_policy *p, struct hg_error *err);
/* hg_apply() with flags; HG_APPLY_RESET_COUNTERS also zeroes the drop
 * counters, in the same transaction (their rules are re-created).  When
 * ret_delta is given and the table changed, *ret_delta holds what changed,
 * as hg_state_delta() words it (free with hg_lines_free()), from the very
 * snapshot the transaction was planned on; otherwise it is set to NULL. */
#define HG_APPLY_RESET_COUNTERS 0x1u
int hg_apply_flags(struct hg_nl *nl, const struct hg_policy *p, unsigned flags,
		   char ***ret_delta, size_t *ret_n, struct hg_error *err);

/*
 * Adds or removes values (as typed, see hg_value_parse) in one set of the
 * live table, in one transaction: only those elements change.  Port ranges
 * merge with and split the live intervals; an interface pattern that
 * overlaps a live one is refused naming both.  Returns the number of
 * elements changed (0: nothing to do), -ENOENT when the table is not
 * loaded, -EINVAL for a bad value, or another negative errno.
 */
int hg_edit_table(struct hg_nl *nl, enum hg_key key, enum hg_edit op,
		  const char *const *tokens, size_t n, struct hg_error *err);
/*
 * The same for grants (HG_KEY_GRANT_UIDS/GIDS) with a lifetime: each added
 * element carries a timeout of timeout_ms (0: none) and the kernel removes it
 * when it expires; apply never deletes an element that carries a timeout.
 * A grant that overlaps a live one of the same principal without being
 * equal to it is refused by the kernel (-EEXIST), naming the grant.
 */
int hg_edit_table_for(struct hg_nl *nl, enum hg_key key, enum hg_edit op,
		      const char *const *tokens, size_t n, uint64_t timeout_ms,
		      struct hg_error *err);

/*
 * hg_edit_table() for grants whose targets may be container names,
 * resolved through the containers of resolver (hg_policy_set_container):
 * adding one adds an element per address, commented "name:NAME"; removing
 * one removes every live element of that principal and ports commented
 * with the name, whatever address it has now.  Address targets behave as
 * in hg_edit_table().  A name target without a resolver is -EINVAL.
 */
int hg_edit_grants(struct hg_nl *nl, enum hg_key key, enum hg_edit op,
		   const char *const *tokens, size_t n, const struct hg_policy *resolver,
		   struct hg_error *err);

/*
 * The ruleset generation (nf_tables' genid) right after the last commit of
 * hg_apply(), hg_apply_flags(), hg_edit_table*() or hg_edit_grants() on
 * nl; 0 when that call sent nothing.  Every such commit is guarded by the generation it was
 * planned at, so a snapshot read at this generation shows exactly what it
 * made, and nothing of another program's.
 */
uint32_t hg_nl_committed_generation(const struct hg_nl *nl);
/* The ruleset generation now (one small request); 0 or a negative errno. */
int hg_nl_generation(struct hg_nl *nl, uint32_t *ret);

/* Deletes the table and nothing else. -ENOENT when it is not loaded. */
int hg_remove(struct hg_nl *nl, struct hg_error *err);

/* ---- interfaces -------------------------------------------------------- */

struct hg_link {
	char name[16];
	char kind[32];         /* "bridge", "veth", "macvlan", ..., "device", "loopback" */
	unsigned index;
	bool up;
	unsigned master;       /* ifindex of the bridge (or bond...) it is a port of, 0: none */
};
/* The interfaces of the caller's network namespace (rtnetlink); *ret is
 * the caller's array of *ret_n links: free(*ret). */
int hg_links_read(struct hg_link **ret, size_t *ret_n, struct hg_error *err);
/* Bridges, macvlan and ipvlan: where containers are usually attached. */
bool hg_link_is_container_like(const struct hg_link *l);

/* ---- live state -------------------------------------------------------- */

struct hg_state;

enum hg_chain { HG_CHAIN_EGRESS, HG_CHAIN_INGRESS, HG_CHAIN_MAX };

/* Reads the live table (sets, elements, chains, rules, counters) as one
 * consistent snapshot. -ENOENT when the table is not loaded.  *ret is the
 * caller's: hg_state_free().  A snapshot does not follow later changes. */
int hg_state_read(struct hg_nl *nl, struct hg_state **ret, struct hg_error *err);
void hg_state_free(struct hg_state *s);
/* The ruleset generation the snapshot was read at. */
uint32_t hg_state_generation(const struct hg_state *s);

/* Live set contents, sorted. Ids: lo == hi. Ports: merged ranges.
 * Interfaces: patterns through hg_state_iface(), borrowed from the state
 * (valid until hg_state_free()); NULL when i is out of range.
 * hg_state_range() leaves *ret_lo and *ret_hi alone when i is out of range. */
size_t hg_state_count(const struct hg_state *s, enum hg_key key);
void hg_state_range(const struct hg_state *s, enum hg_key key, size_t i,
		    uint32_t *ret_lo, uint32_t *ret_hi);
const char *hg_state_iface(const struct hg_state *s, size_t i);
/* Live grants (both keys, both families), sorted by kind, principal, then
 * target.  The text is canonical: "1002@192.0.2.0/24:8080" (numeric id;
 * no port: every port).  timeout_ms / expires_ms are 0 for grants without
 * a timeout (from the config).  hg_state_grant() copies grant i into *ret
 * (no pointers inside); -ENOENT when i is out of range. */
struct hg_grant_info {
	bool gid;                 /* a grant_gids element */
	uint32_t id;
	char text[96];
	uint64_t timeout_ms, expires_ms;
};
size_t hg_state_grant_count(const struct hg_state *s);
int hg_state_grant(const struct hg_state *s, size_t i, struct hg_grant_info *ret);
/* Where live grant i came from, by its element's comment: HG_GRANT_NAME or
 * HG_GRANT_LABEL with the container's name, HG_GRANT_CONFIG (container "")
 * without one.  Copies into *ret (no pointers inside); -ENOENT when i is out
 * of range.  (Not a field of struct hg_grant_info: that struct is part of
 * HOSTGUARD_2, and callers allocate it.) */
struct hg_grant_origin {
	enum hg_grant_source source;
	char container[HG_CONTAINER_NAME_MAX];
};
int hg_state_grant_origin(const struct hg_state *s, size_t i, struct hg_grant_origin *ret);
/* Does grant g reach address addr ("172.18.0.2", "fd00::2") on port (0:
 * on some port)?  Returns 1 or 0, -EINVAL for a bad address. */
int hg_grant_info_covers(const struct hg_grant_info *g, const char *addr, uint16_t port);

/* The NFLOG group the live table logs drops to, -1 when it does not log,
 * -EINVAL for NULL. */
int hg_state_log_group(const struct hg_state *s);
/* Packets and bytes counted by the drop rule of a chain (0 when absent). */
void hg_state_drops(const struct hg_state *s, enum hg_chain chain,
		    uint64_t *ret_packets, uint64_t *ret_bytes);
/* Since when (unix time) the drop counters of a chain count; 0 when the
 * table does not say (rules loaded by another tool). */
long long hg_state_counting_since(const struct hg_state *s, enum hg_chain chain);

/*
 * Compares the live table with a policy.  Fills *ret_lines with one malloc'd
 * line per difference ("allowed_uids: missing 1001", "chain egress: rule 2
 * differs", ...) and returns their number; 0 means in sync.  The array and
 * its lines are the caller's: hg_lines_free(*ret_lines, n) (it takes NULL).
 */
int hg_state_diff(const struct hg_state *s, const struct hg_policy *p,
		  char ***ret_lines);
void hg_lines_free(char **lines, size_t n);
/* The same difference as what hg_apply() would change, one line each:
 * "+ allowed_uids 4242", "- allow_from_containers_tcp 2222", and "~ ..."
 * for what is re-created or repaired (chains, set types, table flags). */
int hg_state_delta(const struct hg_state *s, const struct hg_policy *p, char ***ret_lines);

/* ---- watching denied packets (NFLOG) ------------------------------------ */

/* The name of a public chain: "egress" or "ingress_local"; NULL for an
 * invalid chain.  A static string. */
const char *hg_chain_name(enum hg_chain chain);

/*
 * The table's log rules (log_denied = yes) send each dropped packet, with a
 * prefix naming its chain, to an NFLOG group; a watcher binds that group
 * (one listener per group) and reads them.  Packets of the input hook
 * (ingress_local) carry the kernel's receive time; those of postrouting
 * (egress) carry none since Linux 5.18 and are stamped when received.
 */
struct hg_watch;

struct hg_watch_event {
	enum hg_chain chain;      /* HG_CHAIN_EGRESS: host -> container,
				     HG_CHAIN_INGRESS: container -> host */
	int family;               /* AF_INET or AF_INET6 */
	/* the kernel reports a uid and gid only for packets of a full local
	 * socket (a dropped SYN-ACK comes without) */
	bool has_uid, has_gid;
	uint32_t uid, gid;
	uint32_t indev, outdev;   /* interface indexes, 0: none */
	uint8_t saddr[16], daddr[16];  /* network byte order; IPv4: first 4 bytes */
	char src[46], dst[46];    /* the addresses as text */
	int proto;                /* IP protocol, -1: not known */
	int sport, dport;         /* TCP/UDP ports, -1: none */
	int icmp_type;            /* ICMP/ICMPv6 type, -1: none */
	struct timespec when;     /* CLOCK_REALTIME */
	bool packet_time;         /* when is the packet's own (kernel) time stamp,
				     not the time the watcher received it */
	/*
	 * With HG_WATCH_GRANTS, for an egress packet: the live grants of its
	 * uid (grant_uids4 or grant_uids6, by the packet's family) and of its
	 * gid (grant_gids4/6), read at most once per ruleset generation, with
	 * runtime grants that expired since left out.  *_grant_set names the set
	 * (a static string) when the principal has grants there, else NULL;
	 * *_grants counts them and *_covers says one of them covers the
	 * packet's destination and port (granted after the packet was dropped).
	 * grants_known is false when the table could not be read.
	 */
	bool grants_known;
	const char *uid_grant_set, *gid_grant_set;
	unsigned uid_grants, gid_grants;
	bool uid_covers, gid_covers;
};

/* Look up the grants of each event's uid and gid (needs the table readable). */
#define HG_WATCH_GRANTS 0x1u

/*
 * Binds NFLOG group (copy mode, each packet sent at once, the queue flushed
 * every 100 ms) and returns a watcher in *ret (free with hg_watch_close()).
 * -EPERM or -EBUSY: the group is bound by another listener, or the caller
 * lacks CAP_NET_ADMIN (the kernel answers EPERM for both); -EINVAL: ret is
 * NULL or flags unknown.
 */
int hg_watch_open(uint16_t group, unsigned flags, struct hg_watch **ret, struct hg_error *err);
/*
 * Waits for the next denied packet and fills *ret.  Returns 1 with an
 * event; 0 once hg_watch_stop() was called and every packet the kernel
 * still held was returned; -EINTR when a signal interrupted the wait (call
 * again); -ENOBUFS when packets were lost (too many at once; call again);
 * another negative errno on failure.  Pointers in *ret are static strings.
 * A signal handler installed without SA_RESTART ends the wait: the loop
 * (not the handler) then calls hg_watch_stop().  A watcher is for one
 * thread at a time.
 */
int hg_watch_next(struct hg_watch *w, struct hg_watch_event *ret, struct hg_error *err);
/* Unbinds the group, which makes the kernel flush its queue: hg_watch_next()
 * then returns what was queued, then 0.  The last packet is never lost. */
int hg_watch_stop(struct hg_watch *w, struct hg_error *err);
/* Unbinds (when not stopped) and frees; NULL is ignored. */
void hg_watch_close(struct hg_watch *w);

/* The library's version, e.g. "0.1.0" (static). */
const char *hg_version(void);

#ifdef __cplusplus
}
#endif
#endif
