/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef HG_INTERNAL_H
#define HG_INTERNAL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostguard.h"
#include "ranges.h"

#define HG_EXPORT __attribute__((visibility("default")))
#define HG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* libnftnl's *_free() functions do not take NULL (an allocation that
 * failed); tests/netns/faults.c fails every allocation in turn. */
#define hg_nftnl_free(fn, p) do { if (p) fn(p); } while (0)
#define IFNAMSIZ_ 16

/* Fills err (when given) and returns code (a negative errno). */
int hg_err(struct hg_error *err, int code, const char *fmt, ...) HG_PRINTF(3, 4);
/* Same, for a config line. */
int hg_err_line(struct hg_error *err, int code, unsigned line, const char *fmt, ...)
	HG_PRINTF(4, 5);

/* ---- policy internals ---------------------------------------------------- */

struct hg_entry {
	uint32_t lo, hi;          /* resolved ids / port range; unused for ifaces */
	uint32_t tok;             /* offset of the value as typed in the list's text
				   * (12 bytes an entry: 100,000 uids touch 400 KiB
				   * less; hg_list_reserve() keeps the text under 4 GiB) */
};

/* One key's values.  The typed text of all of them lives in one buffer:
 * 100,000 uids cost a few bytes each, not a malloc each. */
struct hg_list {
	struct hg_entry *v;
	size_t n, cap;
	char *text;
	size_t text_len, text_cap;
};
#define HG_TOKEN(l, i) ((l)->text + (l)->v[i].tok)

struct hg_policy {
	struct hg_list lists[HG_KEY_MAX];
	struct hg_log_settings log;
	char *docker_socket;      /* NULL: none */
	char **warnings;          /* "FILE:LINE: unknown user 'alice' (skipped)" */
	size_t n_warnings;
	char **ignore;            /* ignore_ifaces: not a set, only for check */
	size_t n_ignore;
	/* what the caller (the CLI, from Docker) says of containers: the
	 * addresses of each running one, for grant targets that are names */
	struct hg_container *containers;
	size_t n_containers;
	/* grants that are not the config's: labels, or kept from the table */
	struct hg_tagged *tagged;
	size_t n_tagged;
};

struct hg_container {
	char *name;
	char **addrs;
	size_t n;
};

struct hg_tagged {
	enum hg_key key;
	enum hg_grant_source src;
	char *token, *container;
};
/* Frees what grant.c adds to a policy (containers, tagged grants). */
void hg_policy_free_containers(struct hg_policy *p);

/* Appends a warning to the policy; -ENOMEM. */
int hg_policy_warn(struct hg_policy *p, const char *fmt, ...) HG_PRINTF(2, 3);
/* Appends a value hg_value_parse() resolved to [lo, hi] already (no check,
 * no lookup: hg_policy_add() does those). */
int hg_policy_append(struct hg_policy *p, enum hg_key key, const char *token, uint32_t lo,
		     uint32_t hi, struct hg_error *err);
/* Room in l for one more value of len bytes, its NUL included; -ENOMEM. */
int hg_list_reserve(struct hg_list *l, size_t len, struct hg_error *err);
/* Room in l for this many more values and bytes of text at once (a long
 * line's, by their upper bounds: pages never written cost nothing, and
 * no realloc copies what was parsed); -ENOMEM, l unchanged. */
int hg_list_reserve_bulk(struct hg_list *l, size_t entries, size_t text);
/* hg_policy_append() of a token of len bytes (token[len] is its NUL), as
 * the config parser has it: inline, with no strlen(), for each value of a
 * 50,000-value line. */
static inline int hg_policy_append_n(struct hg_policy *p, enum hg_key key, const char *token,
				     size_t len, uint32_t lo, uint32_t hi, struct hg_error *err)
{
	struct hg_list *l = &p->lists[key];

	if ((l->n == l->cap || l->text_len + len + 1 > l->text_cap) && hg_list_reserve(l, len + 1, err) < 0)
		return -ENOMEM;
	memcpy(l->text + l->text_len, token, len + 1);
	l->v[l->n++] = (struct hg_entry){ lo, hi, (uint32_t)l->text_len };
	l->text_len += len + 1;
	return 0;
}
int hg_policy_add_n(struct hg_policy *p, enum hg_key key, const char *token, size_t len,
		    struct hg_error *err);
/* Appends an ignore_ifaces pattern (validated as an interface pattern). */
int hg_policy_ignore_add(struct hg_policy *p, const char *pattern, struct hg_error *err);

/* ---- canonical form: what the kernel sets hold ----------------------------- */

/* An interval of interface names, [start, end) over 16-byte keys. */
struct hg_ifrange {
	unsigned char start[IFNAMSIZ_], end[IFNAMSIZ_];
	int open_end;             /* no end element: up to the largest key */
};

/* One grant as the kernel holds it: principal, an address interval and a
 * port interval (both inclusive).  Addresses are in network byte order;
 * IPv4 uses the first 4 bytes. */
struct hg_grant {
	uint32_t id;
	uint8_t v6;
	uint8_t a_lo[16], a_hi[16];
	uint16_t p_lo, p_hi;
	uint64_t timeout_ms, expires_ms;  /* runtime grants: 0 when none */
	/* HG_GRANT_CONFIG: an address grant.  HG_GRANT_NAME: as parsed, a
	 * target that is a container name (no address yet); resolved, one
	 * address of it.  HG_GRANT_LABEL: from that container's labels.  In the
	 * kernel the last two are the element's comment, "name:web1". */
	uint8_t src;
	char name[HG_CONTAINER_NAME_MAX];
	/* a runtime grant's mark: its comment "runtime:HEX" (grant.c) */
	uint8_t marked;
	uint64_t mark;
	/* read back: the kernel holds it with a timeout hostguard did not
	 * set (no valid mark): read as permanent, but it expires */
	uint8_t forged;
	/* read back: the shape (HG_GSHAPE_*) of the physical set the element
	 * was found in; a batch deletes it there */
	uint8_t where;
};
/* The netlink socket of nl, or -1 (generation.c; record.c uses it). */
int hg_nl_fd(const struct hg_nl *nl);
/* hg_nl_generation(), asking along with it for the definition of the set
 * of key k, which an edit of k reads next (generation.c; record.c) */
int hg_nl_generation_for(struct hg_nl *nl, enum hg_key k, uint32_t *ret);
/* How many elements of the snapshot the kernel holds with a timeout, any
 * timeout, hostguard's or not: they go without a commit (generation.c;
 * record.c) */
size_t hg_state_expiring(const struct hg_state *s);
/* SipHash-2-4 (grant.c; record.c uses it too) */
uint64_t hg_siphash(const uint64_t key[2], const void *data, size_t len);
/* The record's key, for marking and checking runtime grants (grant.c). */
void hg_grant_set_runtime_key(const uint64_t key[2]);
/* True when g (with a timeout) is one hostguard made, or no key is set. */
bool hg_grant_runtime_ok(const struct hg_grant *g);
/* Appends g to *v (*n of *cap, grown as needed); -ENOMEM. */
int hg_grants_push(struct hg_grant **v, size_t *n, size_t *cap, const struct hg_grant *g);
/* The grants of name grant g, one per address p knows the container by,
 * appended to *v (*n of *cap); -ENOMEM. */
int hg_grant_resolve(const struct hg_policy *p, const struct hg_grant *g, struct hg_grant **v,
		     size_t *n, size_t *cap);
/* " (container name web1)", " (label of container web3)" or "" */
void hg_grant_source_text(const struct hg_grant *g, char *buf, size_t len);
/* Parses an element comment into g->src and g->name (unknown: left alone). */
void hg_grant_tag_decode(struct hg_grant *g, const void *udata, size_t len);
/* The four grant sets, indexed by (gid ? 2 : 0) + (v6 ? 1 : 0). */
#define HG_NGSETS 4
struct hg_gsetdef {
	const char *name;
	enum hg_key key;          /* HG_KEY_GRANT_UIDS or _GIDS */
	bool v6;
	uint32_t key_type, key_len;
	uint32_t field_len[3];
};
extern const struct hg_gsetdef hg_gsetdefs[HG_NGSETS];
/* NFT_SET_INTERVAL | NFT_SET_TIMEOUT | NFT_SET_CONCAT */
#define HG_GSET_FLAGS (0x4u | 0x10u | 0x80u)
/*
 * Each logical grant set is held in three physical sets, by the shape of
 * its elements: one address and one port (a hash set), one address and
 * every port (a hash set of principal . address), and the rest (prefixes,
 * port ranges: the interval set, which keeps the logical set's name).  A
 * hash lookup costs the same at any size; pipapo's grows with it.
 */
enum hg_gshape { HG_GSHAPE_RANGE, HG_GSHAPE_PORT, HG_GSHAPE_ADDR, HG_NGSHAPES };
#define HG_NPSETS (HG_NGSETS * HG_NGSHAPES)
#define HG_PSET(gs, shape) ((gs) * HG_NGSHAPES + (shape))
#define HG_PSET_GS(ps) ((ps) / HG_NGSHAPES)
#define HG_PSET_SHAPE(ps) ((ps) % HG_NGSHAPES)
struct hg_psetdef {
	const char *name;
	uint32_t key_type, key_len, flags;
};
extern const struct hg_psetdef hg_psetdefs[HG_NPSETS];
/* NFT_SET_TIMEOUT: the hash sets */
#define HG_HSET_FLAGS 0x10u
/* Returns the physical grant set index of a set name, or -1. */
int hg_pset_index(const char *name);
/* The shape of the physical set a grant belongs in. */
int hg_grant_shape(const struct hg_grant *g);
/* Parses "PRINCIPAL@TARGET" of key k. */
int hg_grant_parse(enum hg_key k, const char *tok, struct hg_grant *ret, struct hg_error *err);
/* "1002@192.0.2.0/24:8080"; -EINVAL when the intervals are no prefix. */
int hg_grant_format(const struct hg_grant *g, char *buf, size_t len);
int hg_grant_cmp(const void *a, const void *b);
bool hg_grant_equal(const struct hg_grant *a, const struct hg_grant *b);
/* The kernel key of a grant's start (end: false) or end in its interval set. */
void hg_grant_key(const struct hg_grant *g, bool end, unsigned char out[24]);
/* Its key in hash set shape (HG_GSHAPE_PORT or _ADDR): the principal in host
 * byte order (no byteorder expression before a hash lookup), the address,
 * the port for _PORT.  Returns the key's length. */
uint32_t hg_grant_hkey(const struct hg_grant *g, int shape, unsigned char out[24]);
/* The grant of a start and end key of set gs; -EINVAL when they disagree. */
int hg_grant_from_keys(int gs, const unsigned char *start, const unsigned char *end,
		       struct hg_grant *ret);
/* The grant of a key of physical hash set ps. */
void hg_grant_from_hkey(int ps, const unsigned char *key, struct hg_grant *ret);

struct hg_canon {
	/* HG_KEY_UIDS/GIDS: unique sorted ids (lo == hi);
	 * HG_KEY_TCP/UDP: sorted, merged port ranges.  */
	struct hg_range *r[HG_KEY_MAX];
	size_t n[HG_KEY_MAX];
	/* HG_KEY_IFACES: sorted by start key. */
	struct hg_ifrange *ifr;
	char **ifnames;           /* the pattern of each ifr */
	size_t n_if;
	/* grants, per grant set, sorted (hg_grant_cmp), no two overlapping */
	struct hg_grant *g[HG_NGSETS];
	size_t ng[HG_NGSETS];
	struct hg_log_settings log;
};

/* The grants of a policy into c->g (grant.c): the config's, its container
 * names resolved through p->containers, and p->tagged. */
int hg_canon_grants(const struct hg_policy *p, struct hg_canon *c, struct hg_error *err);
int hg_canon_from_policy(const struct hg_policy *p, struct hg_canon *ret,
			 struct hg_error *err);
void hg_canon_clear(struct hg_canon *c);
int hg_ifname_interval(const char *pattern, struct hg_ifrange *ret);
/* Renders an interval back to a pattern; -EINVAL if no pattern makes it. */
int hg_ifrange_pattern(const struct hg_ifrange *r, char out[IFNAMSIZ_ + 2]);
int hg_ifrange_cmp(const void *a, const void *b);

/* ---- set definitions --------------------------------------------------------- */

/* nftables userspace datatypes (nftables include/datatype.h) and byte order. */
enum {
	HG_TYPE_IPADDR = 7,
	HG_TYPE_IP6ADDR = 8,
	HG_TYPE_INET_SERVICE = 13,
	HG_TYPE_UID = 24,
	HG_TYPE_GID = 25,
	HG_TYPE_ICMP6_TYPE = 29,
	HG_TYPE_IFNAME = 41,
};
enum { HG_BYTEORDER_HOST = 1, HG_BYTEORDER_BIG = 2 };

/* What the values of a set are; decides parsing, canonical form and the
 * kernel encoding of a key. */
enum hg_kind { HG_KIND_ID, HG_KIND_IFNAME, HG_KIND_PORT, HG_KIND_GRANT };
/* nft's type of a concatenation: each type shifted by 6 bits */
#define HG_CONCAT_TYPE(a, b, c) ((((uint32_t)(a) << 6 | (b)) << 6) | (c))

struct hg_setdef {
	const char *name;
	enum hg_kind kind;
	uint32_t key_type, key_len, flags, byteorder;
};
extern const struct hg_setdef hg_setdefs[HG_KEY_MAX];
#define HG_KIND(k) (hg_setdefs[k].kind)

/* The table's chains: the two public ones (enum hg_chain) are base chains,
 * each jumping to a regular chain that holds its decision. */
enum { HG_CH_FROM_UNALLOWED = HG_CHAIN_MAX, HG_CH_FROM_CONTAINERS, HG_CH_TO_PROTECTED, HG_NCHAINS };
extern const char *const hg_chain_names[HG_NCHAINS];

/* ---- rules: built as libnftnl objects, compared by a canonical text ---------- */

struct nftnl_rule;
struct nftnl_set;
/* The comment of a counting rule: "counting since <unix time>" */
#define HG_SINCE_PREFIX "hostguard: counting since "
/* NFLOG prefixes of the two chains' log rules ("hostguard watch" reads them) */
#define HG_LOG_PREFIX_EGRESS "hostguard egress: "
#define HG_LOG_PREFIX_INGRESS "hostguard ingress: "

/* The rules of one chain (0 .. HG_NCHAINS-1), in order (caller frees each
 * with nftnl_rule_free, then the array). -ENOMEM when out of memory. */
int hg_rules_build(int chain, const struct hg_log_settings *log,
		   struct nftnl_rule ***ret, size_t *ret_n);
/* The chain whose rules use the anonymous ICMPv6 set. */
#define HG_CH_ANON_SET HG_CH_FROM_CONTAINERS
/* The anonymous ICMPv6 type set of ingress_local, with its elements. */
struct nftnl_set *hg_icmpv6_set_build(void);
extern const uint8_t hg_icmpv6_nd_types[3];
/* Prints a rule as nft syntax (one line, no newline); -EINVAL for an
 * expression pattern hostguard does not build. */
int hg_rule_to_nft(FILE *f, const struct nftnl_rule *r);
/* A chain (0 .. HG_NCHAINS-1) with its rules, as nft syntax. */
int hg_chain_to_nft(FILE *f, int ch, const struct hg_log_settings *log);
/* One line per expression; counters print without their values and a
 * lookup into an anonymous set prints the set's contents instead of its
 * kernel-chosen name (anon may be NULL). */
char *hg_rule_canonical(const struct nftnl_rule *r,
			void (*anon)(FILE *f, const char *name, const void *data), const void *data);

#endif
