/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Argument guards of the public API: every exported function given NULL or
 * an out-of-range value refuses it (-EINVAL, 0, NULL or nothing at all, as
 * include/hostguard.h says) without touching its outputs or crashing.  No
 * kernel: a NULL hg_nl is refused before any socket is opened. */
#include <errno.h>

#include "check.h"
#include "hostguard.h"

#define BAD_KEY ((enum hg_key)HG_KEY_MAX)
#define BAD_CHAIN ((enum hg_chain)HG_CHAIN_MAX)

/* r is -EINVAL and, when err was given, err says so */
static void einval(const char *what, int r, const struct hg_error *e)
{
	CHECK(r == -EINVAL, "%s: %d, expected -EINVAL", what, r);
	if (e)
		CHECK(e->code == -EINVAL && e->message[0], "%s: err %d '%s'", what, e->code, e->message);
}

static void policy_guards(void)
{
	struct hg_policy *p = hg_policy_new();
	struct hg_log_settings log = { .group = 4242 }, want;
	struct hg_error e = { 0 };
	uint32_t lo = 7, hi = 7;
	size_t n = 99;

	CHECK(p != NULL, "hg_policy_new");
	CHECK(hg_key_name(BAD_KEY) == NULL, "hg_key_name(bad)");
	CHECK(hg_key_name((enum hg_key)-1) == NULL, "hg_key_name(-1)");
	einval("hg_key_from_name(NULL)", hg_key_from_name(NULL), NULL);
	einval("hg_key_from_name(bogus)", hg_key_from_name("bogus"), NULL);

	einval("hg_value_parse(bad key)", hg_value_parse(BAD_KEY, "1", &lo, &hi, &e), &e);
	einval("hg_value_parse(NULL token)", hg_value_parse(HG_KEY_UIDS, NULL, &lo, &hi, &e), &e);
	CHECK(lo == 7 && hi == 7, "hg_value_parse touched its outputs");

	einval("hg_policy_new_default(NULL)", hg_policy_new_default(NULL, &e), &e);
	einval("hg_policy_add(NULL policy)", hg_policy_add(NULL, HG_KEY_UIDS, "1", &e), &e);
	einval("hg_policy_add(bad key)", hg_policy_add(p, BAD_KEY, "1", &e), &e);
	einval("hg_policy_add(NULL token)", hg_policy_add(p, HG_KEY_UIDS, NULL, &e), &e);
	einval("hg_policy_remove(NULL policy)", hg_policy_remove(NULL, HG_KEY_UIDS, "1", &e), &e);
	einval("hg_policy_remove(bad key)", hg_policy_remove(p, BAD_KEY, "1", &e), &e);
	einval("hg_policy_remove(NULL token)", hg_policy_remove(p, HG_KEY_UIDS, NULL, &e), &e);
	einval("hg_policy_validate(NULL)", hg_policy_validate(NULL, &e), &e);
	einval("hg_policy_set_container(NULL)", hg_policy_set_container(NULL, "web1", NULL, 0, &e), &e);
	einval("hg_policy_set_container(NULL addrs)", hg_policy_set_container(p, "web1", NULL, 1, &e), &e);
	einval("hg_policy_set_container(NULL name)", hg_policy_set_container(p, NULL, NULL, 0, &e), &e);
	{
		const char *addrs[] = { "172.18.0.2", NULL };
		einval("hg_policy_set_container(a NULL address)",
		       hg_policy_set_container(p, "web1", addrs, 2, &e), &e);
	}
	einval("hg_policy_add_grant_from(NULL)",
	       hg_policy_add_grant_from(NULL, HG_KEY_GRANT_UIDS, "1@10.0.0.1", HG_GRANT_LABEL, "web1", &e), &e);
	einval("hg_policy_add_grant_from(NULL token)",
	       hg_policy_add_grant_from(p, HG_KEY_GRANT_UIDS, NULL, HG_GRANT_LABEL, "web1", &e), &e);
	einval("hg_policy_add_grant_from(bad key)",
	       hg_policy_add_grant_from(p, HG_KEY_UIDS, "1@10.0.0.1", HG_GRANT_LABEL, "web1", &e), &e);
	einval("hg_grant_target_name(NULL)", hg_grant_target_name(HG_KEY_GRANT_UIDS, NULL, NULL, 0, &e), &e);
	einval("hg_grant_target_name(bad key)", hg_grant_target_name(BAD_KEY, "1@web1", NULL, 0, &e), &e);
	einval("hg_grant_info_covers(NULL)", hg_grant_info_covers(NULL, "10.0.0.1", 80), NULL);
	/* err is optional everywhere */
	einval("hg_policy_validate(NULL, NULL)", hg_policy_validate(NULL, NULL), NULL);
	CHECK(hg_policy_count(NULL, HG_KEY_UIDS) == 0, "hg_policy_count(NULL)");
	CHECK(hg_policy_count(p, BAD_KEY) == 0, "hg_policy_count(bad key)");
	CHECK(hg_policy_token(NULL, HG_KEY_UIDS, 0) == NULL, "hg_policy_token(NULL)");
	CHECK(hg_policy_token(p, BAD_KEY, 0) == NULL, "hg_policy_token(bad key)");
	CHECK(hg_policy_token(p, HG_KEY_UIDS, 0) == NULL, "hg_policy_token(out of range)");
	CHECK(hg_policy_warnings(NULL, &n) == NULL && n == 0, "hg_policy_warnings(NULL)");
	CHECK(hg_policy_warnings(p, NULL) == NULL, "hg_policy_warnings(p, NULL)");
	n = 99;
	CHECK(hg_policy_ignored_ifaces(NULL, &n) == NULL && n == 0, "hg_policy_ignored_ifaces(NULL)");
	CHECK(hg_policy_ignored_ifaces(p, NULL) == NULL, "hg_policy_ignored_ifaces(p, NULL)");
	CHECK(hg_policy_docker_socket(NULL) == NULL, "hg_policy_docker_socket(NULL)");
	CHECK(hg_policy_set_docker_socket(NULL, "/run/docker.sock") == -EINVAL,
	      "hg_policy_set_docker_socket(NULL)");
	CHECK(hg_policy_set_docker_socket(p, "relative.sock") == -EINVAL,
	      "hg_policy_set_docker_socket(relative)");
	CHECK(hg_policy_to_nft(NULL) == NULL, "hg_policy_to_nft(NULL)");
	CHECK(!hg_pattern_match(NULL, "eth0") && !hg_pattern_match("eth*", NULL),
	      "hg_pattern_match(NULL)");

	/* void setters and getters do nothing with NULL */
	hg_policy_get_log(NULL, &want);
	hg_policy_get_log(p, NULL);
	hg_policy_set_log(NULL, &log);
	hg_policy_set_log(p, NULL);
	hg_policy_get_log(p, &want);
	CHECK(want.group == HG_DEFAULT_LOG_GROUP, "set_log(p, NULL) changed the group to %u", want.group);
	hg_policy_free(NULL);

	/* the policy is unchanged by all of the above */
	CHECK(hg_policy_count(p, HG_KEY_UIDS) == 0, "p gained uids");
	hg_policy_free(p);
}

static void config_guards(void)
{
	static const char *const tok[] = { "1" };
	struct hg_policy *p = (struct hg_policy *)&p, *p0 = p;
	struct hg_config_edit *ed = (struct hg_config_edit *)&ed, *ed0 = ed;
	struct hg_config_change ch = { HG_KEY_UIDS, HG_EDIT_ADD, NULL, 1 };
	struct hg_error e = { 0 };

	einval("hg_config_parse(NULL text)", hg_config_parse(NULL, 5, "x", &p, &e), &e);
	einval("hg_config_parse(NULL name)", hg_config_parse("", 0, NULL, &p, &e), &e);
	einval("hg_config_parse(NULL ret)", hg_config_parse("", 0, "x", NULL, &e), &e);
	einval("hg_config_load(NULL)", hg_config_load(NULL, &p, &e), &e);
	einval("hg_config_load(NULL ret)", hg_config_load("/nonexistent", NULL, &e), &e);
	CHECK(p == p0, "hg_config_* touched *ret");
	einval("hg_config_edit_prepare(NULL path)",
	       hg_config_edit_prepare(NULL, HG_KEY_UIDS, HG_EDIT_ADD, tok, 1, &ed, &e), &e);
	einval("hg_config_edit_prepare(NULL tokens)",
	       hg_config_edit_prepare("/nonexistent/x.conf", HG_KEY_UIDS, HG_EDIT_ADD, NULL, 1, &ed, &e), &e);
	einval("hg_config_edit_prepare(bad key)",
	       hg_config_edit_prepare("/nonexistent/x.conf", BAD_KEY, HG_EDIT_ADD, tok, 1, &ed, &e), &e);
	einval("hg_config_edit_prepare(bad op)",
	       hg_config_edit_prepare("/nonexistent/x.conf", HG_KEY_UIDS, (enum hg_edit)9, tok, 1, &ed, &e), &e);
	einval("hg_config_edit_prepare(NULL ret)",
	       hg_config_edit_prepare("/nonexistent/x.conf", HG_KEY_UIDS, HG_EDIT_ADD, tok, 1, NULL, &e), &e);
	einval("hg_config_edit_prepare_many(NULL changes)",
	       hg_config_edit_prepare_many("/nonexistent/x.conf", NULL, 1, &ed, &e), &e);
	einval("hg_config_edit_prepare_many(NULL tokens)",
	       hg_config_edit_prepare_many("/nonexistent/x.conf", &ch, 1, &ed, &e), &e);
	CHECK(ed == ed0, "hg_config_edit_prepare touched *ret");
	einval("hg_config_edit_commit(NULL)", hg_config_edit_commit(NULL, &e), &e);
	einval("hg_config_edit_cleanup(NULL)", hg_config_edit_cleanup(NULL, &e), &e);
	hg_config_edit_finish(NULL);
	hg_config_edit_abort(NULL);
	CHECK(hg_config_edit_line(NULL) == NULL, "hg_config_edit_line(NULL)");
}

static void kernel_guards(void)
{
	struct hg_state *s = (struct hg_state *)&s, *s0 = s;
	struct hg_nl *nl = (struct hg_nl *)&nl;
	struct hg_policy *p = hg_policy_new();
	struct hg_link *links = (struct hg_link *)&links, *links0 = links;
	const char *tok[] = { "1" };
	char **lines = (char **)&lines, **lines0 = lines;
	struct hg_error e = { 0 };
	size_t n = 5;

	einval("hg_nl_open(NULL)", hg_nl_open(NULL, &e), &e);
	hg_nl_close(NULL);
	einval("hg_apply(NULL nl)", hg_apply(NULL, p, &e), &e);
	einval("hg_apply_flags(unknown flag)", hg_apply_flags(NULL, p, 0x80, NULL, NULL, &e), &e);
	einval("hg_apply_flags(ret_delta without ret_n)",
	       hg_apply_flags(NULL, p, 0, &lines, NULL, &e), &e);
	CHECK(lines == lines0, "hg_apply_flags touched ret_delta");
	einval("hg_edit_table(NULL nl)", hg_edit_table(NULL, HG_KEY_UIDS, HG_EDIT_ADD, tok, 1, &e), &e);
	einval("hg_edit_table(NULL tokens)",
	       hg_edit_table(NULL, HG_KEY_UIDS, HG_EDIT_ADD, NULL, 1, &e), &e);
	einval("hg_edit_table_for(bad op)",
	       hg_edit_table_for(NULL, HG_KEY_UIDS, (enum hg_edit)7, tok, 1, 0, &e), &e);
	einval("hg_remove(NULL)", hg_remove(NULL, &e), &e);
	einval("hg_edit_grants(NULL nl)",
	       hg_edit_grants(NULL, HG_KEY_GRANT_UIDS, HG_EDIT_ADD, tok, 1, NULL, &e), &e);
	einval("hg_edit_grants(bad key)", hg_edit_grants(NULL, HG_KEY_UIDS, HG_EDIT_ADD, tok, 1, NULL, &e), &e);
	einval("hg_state_read(NULL nl)", hg_state_read(NULL, &s, &e), &e);
	CHECK(s == s0, "hg_state_read touched *ret");
	/* a bogus hg_nl is never used when ret is NULL */
	einval("hg_state_read(NULL ret)", hg_state_read(nl, NULL, &e), &e);
	einval("hg_links_read(NULL)", hg_links_read(NULL, &n, &e), &e);
	einval("hg_links_read(NULL n)", hg_links_read(&links, NULL, &e), &e);
	CHECK(links == links0 && n == 5, "hg_links_read touched its outputs");
	CHECK(!hg_link_is_container_like(NULL), "hg_link_is_container_like(NULL)");
	hg_policy_free(p);
}

static void state_guards(void)
{
	struct hg_grant_info gi;
	uint64_t pk = 1, by = 1;
	uint32_t lo = 7, hi = 7;
	char **lines = NULL;

	hg_state_free(NULL);
	CHECK(hg_state_count(NULL, HG_KEY_UIDS) == 0, "hg_state_count(NULL)");
	CHECK(hg_state_grant_count(NULL) == 0, "hg_state_grant_count(NULL)");
	einval("hg_state_grant(NULL)", hg_state_grant(NULL, 0, &gi), NULL);
	struct hg_grant_origin go;
	einval("hg_state_grant_origin(NULL)", hg_state_grant_origin(NULL, 0, &go), NULL);
	memset(&gi, 0, sizeof(gi));
	einval("hg_grant_info_covers(NULL addr)", hg_grant_info_covers(&gi, NULL, 80), NULL);
	hg_state_range(NULL, HG_KEY_UIDS, 0, &lo, &hi);
	CHECK(lo == 7 && hi == 7, "hg_state_range(NULL) touched its outputs");
	CHECK(hg_state_iface(NULL, 0) == NULL, "hg_state_iface(NULL)");
	einval("hg_state_log_group(NULL)", hg_state_log_group(NULL), NULL);
	hg_state_drops(NULL, HG_CHAIN_EGRESS, &pk, &by);
	CHECK(pk == 1 && by == 1, "hg_state_drops(NULL) touched its outputs");
	CHECK(hg_state_counting_since(NULL, HG_CHAIN_EGRESS) == 0, "hg_state_counting_since(NULL)");
	einval("hg_state_diff(NULL)", hg_state_diff(NULL, NULL, &lines), NULL);
	einval("hg_state_delta(NULL)", hg_state_delta(NULL, NULL, &lines), NULL);
	CHECK(lines == NULL, "hg_state_diff touched *ret_lines");
	hg_lines_free(NULL, 3);
}

static void watch_guards(void)
{
	struct hg_watch *w = (struct hg_watch *)&w, *w0 = w;
	struct hg_watch_event ev;
	struct hg_error e = { 0 };

	CHECK(hg_chain_name(HG_CHAIN_EGRESS) && strcmp(hg_chain_name(HG_CHAIN_EGRESS), "egress") == 0,
	      "hg_chain_name(egress)");
	CHECK(hg_chain_name(HG_CHAIN_INGRESS) &&
	      strcmp(hg_chain_name(HG_CHAIN_INGRESS), "ingress_local") == 0, "hg_chain_name(ingress)");
	CHECK(hg_chain_name(BAD_CHAIN) == NULL, "hg_chain_name(bad)");
	einval("hg_watch_open(NULL)", hg_watch_open(77, 0, NULL, &e), &e);
	einval("hg_watch_open(unknown flag)", hg_watch_open(77, 0x80, &w, &e), &e);
	CHECK(w == w0, "hg_watch_open touched *ret");
	einval("hg_watch_next(NULL)", hg_watch_next(NULL, &ev, &e), &e);
	einval("hg_watch_stop(NULL)", hg_watch_stop(NULL, &e), &e);
	hg_watch_close(NULL);
}

int main(void)
{
	policy_guards();
	config_guards();
	kernel_guards();
	state_guards();
	watch_guards();
	CHECK(hg_version() && *hg_version(), "hg_version");
	return check_done("test-args");
}
