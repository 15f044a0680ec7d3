/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The table as read back, without a kernel: the batch that creates a
 * policy's table is fed through the dump callbacks (its messages have the
 * layout of the dumps' replies) and decoded.  That state must be in sync
 * with the policy (hg_state_diff: no line), its accessors must give the
 * policy's values back, and each drift - a value, a rule, a chain
 * definition, a dormant table, a foreign set or chain - must be named in
 * the diff and in the delta.
 */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "state.h"

static const char conf[] =
	"allowed_uids = 0, 1001, 1005\n"
	"allowed_gids = 27\n"
	"container_ifaces = br-*, docker0\n"
	"allow_from_containers_tcp = 53, 8000-8100\n"
	"allow_from_containers_udp = 53, 60000-65535\n"
	"published_tcp = 8080\n"
	"grant_uids = 1002@10.77.0.2:9000, 1002@[fd77::2]\n"
	"grant_gids = 2100@10.78.0.0/24:9000-9001\n"
	"log_denied = yes\n"
	"log_group = 42\n";

static struct hg_policy *policy(const char *text)
{
	struct hg_policy *p = NULL;
	struct hg_error e = { 0 };

	CHECK(hg_config_parse(text, strlen(text), "test", &p, &e) == 0, "config: %s", e.message);
	return p;
}

/* The state the table of p reads back as. */
static struct hg_state *table_of(const struct hg_policy *p)
{
	static struct hg_nl nl;
	struct hg_state *s = NULL;
	struct hg_batch b = { 0 };
	struct hg_canon c;

	CHECK(hg_canon_from_policy(p, &c, NULL) == 0, "canon");
	CHECK(hg_batch_begin(&b, &nl, 0) == 0 && hg_batch_full_table(&b, &c) == 0, "full table");
	CHECK(hg_state_from_msgs(b.buf, b.len, &s) == 0 && s, "read back from the batch");
	hg_batch_free(&b);
	hg_canon_clear(&c);
	return s;
}

/* The diff (or delta) of s against p holds a line containing each of want
 * (NULL-terminated), and has n lines. */
static void diff_says(const struct hg_state *s, const struct hg_policy *p, bool delta, int n,
		      const char *const *want, const char *what)
{
	char **lines = NULL;
	int r = delta ? hg_state_delta(s, p, &lines) : hg_state_diff(s, p, &lines);

	CHECK(r == n, "%s: %d lines, expected %d", what, r, n);
	for (; want && *want; want++) {
		bool found = false;
		for (int i = 0; i < r; i++)
			found |= strstr(lines[i], *want) != NULL;
		CHECK(found, "%s: no line says '%s'", what, *want);
	}
	if (check_failed)
		for (int i = 0; i < r; i++)
			printf("  %s: %s\n", what, lines[i]);
	hg_lines_free(lines, r > 0 ? (size_t)r : 0);
}

static void in_sync_and_accessors(void)
{
	struct hg_policy *p = policy(conf);
	struct hg_state *s = table_of(p);
	struct hg_grant_info gi;
	uint32_t lo = 0, hi = 0;
	uint64_t pk = 1, by = 1;
	long long since;

	diff_says(s, p, false, 0, NULL, "in sync");
	diff_says(s, p, true, 0, NULL, "in sync (delta)");

	CHECK(hg_state_count(s, HG_KEY_UIDS) == 3, "3 uids");
	hg_state_range(s, HG_KEY_UIDS, 1, &lo, &hi);
	CHECK(lo == 1001 && hi == 1001, "uid 1 is 1001 (%u-%u)", lo, hi);
	CHECK(hg_state_count(s, HG_KEY_TCP) == 2, "2 tcp ranges");
	hg_state_range(s, HG_KEY_TCP, 1, &lo, &hi);
	CHECK(lo == 8000 && hi == 8100, "tcp 8000-8100 (%u-%u)", lo, hi);
	hg_state_range(s, HG_KEY_UDP, 1, &lo, &hi);
	CHECK(lo == 60000 && hi == 65535, "udp 60000-65535, open-ended in the set (%u-%u)", lo, hi);
	CHECK(hg_state_count(s, HG_KEY_IFACES) == 2, "2 interface patterns");
	CHECK(hg_state_iface(s, 0) && strcmp(hg_state_iface(s, 0), "br-*") == 0, "br-* first");
	CHECK(hg_state_iface(s, 2) == NULL, "no third pattern");
	CHECK(hg_state_count(s, HG_KEY_GRANT_UIDS) == 2 && hg_state_count(s, HG_KEY_GRANT_GIDS) == 1,
	      "grants: 2 uid, 1 gid");
	CHECK(hg_state_grant_count(s) == 3, "3 grants");
	CHECK(hg_state_grant(s, 0, &gi) == 0 && !gi.gid && gi.id == 1002 &&
	      strcmp(gi.text, "1002@10.77.0.2:9000") == 0 && gi.timeout_ms == 0, "grant 0: %s", gi.text);
	CHECK(hg_state_grant(s, 2, &gi) == 0 && gi.gid && strcmp(gi.text, "2100@10.78.0.0/24:9000-9001") == 0,
	      "grant 2: %s", gi.text);
	CHECK(hg_state_grant(s, 3, &gi) == -ENOENT, "no grant 3");
	struct hg_grant_origin go;
	CHECK(hg_state_grant_origin(s, 0, &go) == 0 && go.source == HG_GRANT_CONFIG && !go.container[0],
	      "grant 0 is the config's, by address");
	CHECK(hg_state_grant_origin(s, 3, &go) == -ENOENT, "no origin of grant 3");
	CHECK(hg_state_log_group(s) == 42, "log group %d", hg_state_log_group(s));
	hg_state_drops(s, HG_CHAIN_EGRESS, &pk, &by);
	CHECK(pk == 0 && by == 0, "a new table has dropped nothing");
	since = hg_state_counting_since(s, HG_CHAIN_INGRESS);
	CHECK(since > 0 && since <= (long long)time(NULL), "counting since %lld", since);
	CHECK(hg_is_our_chain("to_protected") && !hg_is_our_chain("input"), "our chains");
	hg_state_free(s);
	hg_policy_free(p);
}

static void drift(void)
{
	struct hg_policy *p = policy(conf), *more;
	struct hg_state *s = table_of(p);
	struct hg_log_settings log;

	/* the config moved on: values */
	more = policy(conf);
	CHECK(hg_policy_add(more, HG_KEY_UIDS, "4242", NULL) == 0 &&
	      hg_policy_remove(more, HG_KEY_TCP, "8000-8100", NULL) == 1, "edit the policy");
	diff_says(s, more, false, 2,
		  (const char *const[]){ "allowed_uids: 4242 is in the config but not in the table",
					 "allow_from_containers_tcp: 8000-8100 is in the table but not in the config",
					 NULL }, "values");
	diff_says(s, more, true, 2,
		  (const char *const[]){ "+ allowed_uids 4242", "- allow_from_containers_tcp 8000-8100", NULL },
		  "values (delta)");
	hg_policy_free(more);

	/* the config moved on: no logging, so the drop rules differ */
	more = policy(conf);
	hg_policy_get_log(more, &log);
	log.enabled = false;
	hg_policy_set_log(more, &log);
	diff_says(s, more, false, 4,
		  (const char *const[]){ "chain to_protected: rule 13 differs from hostguard's",
					 "chain to_protected: 14 rules, expected 13",
					 "chain from_containers:", NULL }, "log_denied off");
	diff_says(s, more, true, 4, (const char *const[]){ "~ chain to_protected: 14 rules, expected 13", NULL },
		  "log_denied off (delta)");
	hg_policy_free(more);

	/* the table moved: a dormant table, a base chain's policy, a
	 * set's definition, someone else's set and chain */
	s->table_flags = NFT_TABLE_F_DORMANT;
	for (size_t i = 0; i < s->n_chains; i++)
		if (strcmp(s->chains[i].name, "egress") == 0)
			s->chains[i].policy = NF_DROP;
	for (size_t i = 0; i < s->n_sets; i++) {
		if (strcmp(s->sets[i].name, "allowed_gids") == 0)
			s->sets[i].size = 100;
		if (strcmp(s->sets[i].name, "published_tcp") == 0) {
			free(s->sets[i].name);
			s->sets[i].name = strdup("intruder");
		}
	}
	free(s->chains[s->n_chains - 1].name);
	s->chains[s->n_chains - 1].name = strdup("sidecar");
	diff_says(s, p, false, 7,
		  (const char *const[]){ "table inet hostguard: dormant (flags 0x1): it filters nothing",
					 "chain egress: expected 'type filter hook postrouting priority 0; policy accept', found 'type filter hook postrouting priority 0; policy drop'",
					 "set allowed_gids: type, flags or size differ from hostguard's",
					 "set published_tcp: missing", "set intruder: not part of hostguard",
					 "chain sidecar: not part of hostguard", NULL }, "tampered table");
	CHECK(hg_state_set_status(s, HG_KEY_GIDS) == HG_SET_WRONG_DEF, "allowed_gids: wrong definition");
	CHECK(hg_state_set_status(s, HG_KEY_PUBLISHED_TCP) == HG_SET_MISSING, "published_tcp: missing");
	CHECK(hg_state_set_status(s, HG_KEY_UIDS) == HG_SET_OK, "allowed_uids: ok");
	hg_state_free(s);
	hg_policy_free(p);
}

/* Grants live in three physical sets per logical one: read back, each
 * knows where it was; one in another set than its shape's, or in two, is
 * named; a missing hash set is named once, not with each of its grants. */
static void grant_sets(void)
{
	struct hg_policy *p = policy(conf);
	struct hg_state *s = table_of(p);
	struct hg_grant_info gi;
	struct hg_grant *v;

	CHECK(s->canon.ng[0] == 1 && s->canon.g[0][0].where == HG_GSHAPE_PORT, "1002@10.77.0.2:9000 read from grant_uids4_port");
	CHECK(s->canon.ng[1] == 1 && s->canon.g[1][0].where == HG_GSHAPE_ADDR, "1002@[fd77::2] read from grant_uids6_addr");
	CHECK(s->canon.ng[2] == 1 && s->canon.g[2][0].where == HG_GSHAPE_RANGE, "the prefix grant read from grant_gids4");
	CHECK(hg_state_gset_status(s, HG_PSET(0, HG_GSHAPE_PORT)) == HG_SET_OK, "grant_uids4_port ok");
	/* the previous layout: the one-port grant in the interval set */
	s->canon.g[0][0].where = HG_GSHAPE_RANGE;
	diff_says(s, p, false, 1,
		  (const char *const[]){ "grant_uids: 1002@10.77.0.2:9000 is in set grant_uids4, hostguard keeps it in set grant_uids4_port",
					 NULL }, "misplaced grant");
	CHECK(hg_state_grant_count(s) == 3 && hg_state_grant(s, 0, &gi) == 0 &&
	      strcmp(gi.text, "1002@10.77.0.2:9000") == 0, "still one logical grant: %s", gi.text);
	/* and in both sets: the copy is named */
	s->canon.g[0][0].where = HG_GSHAPE_PORT;
	v = realloc(s->canon.g[0], 2 * sizeof(*v));
	CHECK(v != NULL, "realloc");
	s->canon.g[0] = v;
	v[1] = v[0];
	v[1].where = HG_GSHAPE_RANGE;
	s->canon.ng[0] = 2;
	diff_says(s, p, false, 1,
		  (const char *const[]){ "grant_uids: 1002@10.77.0.2:9000 is in set grant_uids4 too", NULL },
		  "a copy in the interval set");
	s->canon.ng[0] = 1;
	/* a hash set gone: named once */
	for (size_t i = 0; i < s->n_sets; i++)
		if (strcmp(s->sets[i].name, "grant_uids6_addr") == 0) {
			s->sets[i].name[0] = 'X';
			s->sets[i].grant = -1;  /* as read back under that name */
		}
	s->canon.ng[1] = 0;
	diff_says(s, p, false, 2,
		  (const char *const[]){ "set grant_uids6_addr: missing", "set Xrant_uids6_addr: not part of hostguard",
					 NULL }, "a hash set missing");
	CHECK(hg_state_gset_status(s, HG_PSET(1, HG_GSHAPE_ADDR)) == HG_SET_MISSING, "grant_uids6_addr missing");
	hg_state_free(s);
	hg_policy_free(p);
}

int main(void)
{
	in_sync_and_accessors();
	drift();
	grant_sets();
	return check_done("test-state");
}
