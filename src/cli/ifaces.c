/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ifaces: the host's interfaces, and whether container_ifaces covers them. */
#include <errno.h>
#include <string.h>

#include "cli.h"

bool iface_covered(const char *name, char *const *patterns, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (hg_pattern_match(patterns[i], name))
			return true;
	return false;
}

char **state_patterns(const struct hg_state *s, size_t *ret_n)
{
	size_t n = hg_state_count(s, HG_KEY_IFACES);
	char **pat = calloc(n + 1, sizeof(*pat));

	for (size_t i = 0; pat && i < n; i++)
		pat[i] = (char *)hg_state_iface(s, i);
	*ret_n = n;
	return pat;
}

int uncovered_warnings(char *const *patterns, size_t np, char ***ret, size_t *ret_n)
{
	struct hg_link *links = NULL;
	struct hg_error e = { 0 };
	char **w = NULL;
	size_t n = 0, nw = 0;

	if (hg_links_read(&links, &n, &e) < 0)
		return -1;
	w = calloc(n + 1, sizeof(*w));
	for (size_t i = 0; w && i < n; i++) {
		if (!hg_link_is_container_like(&links[i]) || iface_covered(links[i].name, patterns, np))
			continue;
		if (asprintf(&w[nw], "%s %s is not covered by container_ifaces: containers on it are not isolated (hostguard add-iface %s)",
			     links[i].kind, links[i].name, links[i].name) >= 0)
			nw++;
	}
	free(links);
	*ret = w;
	*ret_n = nw;
	return w ? 0 : -1;
}

void lines_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

int cmd_ifaces(int argc, char **argv)
{
	struct hg_policy *p = NULL;
	struct hg_state *s = NULL;
	struct hg_nl *nl = NULL;
	struct hg_link *links = NULL;
	struct hg_error e = { 0 };
	char **pat = NULL, **warn = NULL;
	size_t np = 0, n = 0, nw = 0;
	const char *source;
	bool json = false;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			cmd_usage(stdout, "ifaces");
			printf("  Covered is judged by the loaded table's container_ifaces, or by the\n"
			       "  config's when the table is not loaded. --json: doc/json.md.\n");
			return EXIT_OK;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else {
			err_msg("ifaces: unexpected argument '%s'", argv[i]);
			return EXIT_INVALID;
		}
	}
	ret = open_nl(&nl);
	if (ret)
		return ret;
	if (hg_state_read(nl, &s, &e) == 0) {
		source = "table";
		pat = state_patterns(s, &np);
	} else if (e.code == -ENOENT) {
		source = "config";
		ret = load_policy(&p);
		if (ret)
			goto out;
		np = hg_policy_count(p, HG_KEY_IFACES);
		pat = calloc(np + 1, sizeof(*pat));
		for (size_t i = 0; pat && i < np; i++)
			pat[i] = (char *)hg_policy_token(p, HG_KEY_IFACES, i);
	} else {
		ret = fail(&e);
		goto out;
	}
	if (!pat || hg_links_read(&links, &n, &e) < 0 || uncovered_warnings(pat, np, &warn, &nw) < 0) {
		err_msg("ifaces: %s", e.message[0] ? e.message : "out of memory");
		ret = EXIT_FAIL;
		goto out;
	}
	if (json) {
		printf("{\"source\":\"%s\",\"interfaces\":[", source);
		for (size_t i = 0; i < n; i++) {
			printf("%s{\"name\":", i ? "," : "");
			json_str(stdout, links[i].name);
			printf(",\"kind\":");
			json_str(stdout, links[i].kind);
			printf(",\"index\":%u,\"up\":%s,\"container_like\":%s,\"covered\":%s}", links[i].index,
			       links[i].up ? "true" : "false",
			       hg_link_is_container_like(&links[i]) ? "true" : "false",
			       iface_covered(links[i].name, pat, np) ? "true" : "false");
		}
		printf("],\"warnings\":[");
		for (size_t i = 0; i < nw; i++) {
			if (i)
				putchar(',');
			json_str(stdout, warn[i]);
		}
		printf("]}\n");
	} else {
		printf("%-16s %-10s %-5s %s\n", "INTERFACE", "KIND", "STATE", "COVERED");
		for (size_t i = 0; i < n; i++)
			printf("%-16s %-10s %-5s %s\n", links[i].name, links[i].kind, links[i].up ? "up" : "down",
			       iface_covered(links[i].name, pat, np) ? "yes" : "no");
		printf("(covered: by the %s's container_ifaces)\n", source);
		for (size_t i = 0; i < nw; i++)
			printf("warning: %s\n", warn[i]);
	}
	ret = EXIT_OK;
out:
	lines_free(warn, nw);
	free(pat);
	free(links);
	hg_state_free(s);
	hg_policy_free(p);
	hg_nl_close(nl);
	return ret;
}
