/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ifaces: the host's interfaces, and whether container_ifaces covers them. */
#include <errno.h>
#include <string.h>

#include "cli.h"

bool iface_covered(const char *name, const char *const *patterns, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (hg_pattern_match(patterns[i], name))
			return true;
	return false;
}

const char **state_patterns(const struct hg_state *s, size_t *ret_n)
{
	size_t n = hg_state_count(s, HG_KEY_IFACES);
	const char **pat = calloc(n + 1, sizeof(*pat));

	for (size_t i = 0; pat && i < n; i++)
		pat[i] = hg_state_iface(s, i);
	*ret_n = n;
	return pat;
}

const char **policy_patterns(const struct hg_policy *p, size_t *ret_n)
{
	size_t n = hg_policy_count(p, HG_KEY_IFACES);
	const char **pat = calloc(n + 1, sizeof(*pat));

	for (size_t i = 0; pat && i < n; i++)
		pat[i] = hg_policy_token(p, HG_KEY_IFACES, i);
	*ret_n = n;
	return pat;
}

static const struct hg_link *link_by_index(const struct hg_link *links, size_t n, unsigned index)
{
	for (size_t i = 0; index && i < n; i++)
		if (links[i].index == index)
			return &links[i];
	return NULL;
}

/* A port of a covered bridge: a non-allowed uid can send straight out of
 * it (SO_BINDTODEVICE, IP_PKTINFO, IPV6_MULTICAST_IF), so it needs a
 * pattern of its own. */
static const struct hg_link *covered_master(const struct hg_link *l, const struct hg_link *links,
					    size_t n, const char *const *patterns, size_t np)
{
	const struct hg_link *m = link_by_index(links, n, l->master);

	if (!m || strcmp(m->kind, "bridge") != 0 || !iface_covered(m->name, patterns, np))
		return NULL;
	return m;
}

int uncovered_list(const char *const *patterns, size_t np, const char *const *ignore, size_t ni,
		   char ***ret, size_t *ret_n)
{
	struct hg_link *links = NULL;
	struct hg_error e = { 0 };
	char **w = NULL;
	size_t n = 0, nw = 0;

	if (hg_links_read(&links, &n, &e) < 0)
		return -1;
	w = calloc(n + 1, sizeof(*w));
	for (size_t i = 0; w && i < n; i++) {
		const struct hg_link *l = &links[i], *m;
		if (iface_covered(l->name, patterns, np) || iface_covered(l->name, ignore, ni))
			continue;
		if (hg_link_is_container_like(l)) {
			if (asprintf(&w[nw], "%s %s is not covered by container_ifaces: containers on it are not isolated (hostguard add-iface %s, or ignore_ifaces)",
				     l->kind, l->name, l->name) >= 0)
				nw++;
		} else if ((m = covered_master(l, links, n, patterns, np))) {
			if (asprintf(&w[nw], "%s is a port of covered bridge %s but is not covered by container_ifaces: local users can send out of it directly (hostguard add-iface %s, or a pattern such as veth*)",
				     l->name, m->name, l->name) >= 0)
				nw++;
		}
	}
	free(links);
	*ret = w;
	*ret_n = nw;
	return w ? 0 : -1;
}

int uncovered_warnings(const char *const *patterns, size_t np, char ***ret, size_t *ret_n)
{
	return uncovered_list(patterns, np, NULL, 0, ret, ret_n);
}

static void print_link(const struct hg_link *l, const char *indent, const char *const *pat, size_t np,
		       const char *const *ign, size_t ni)
{
	char name[24];

	snprintf(name, sizeof(name), "%s%s", indent, l->name);
	printf("%-18s %-10s %-5s %s\n", name, l->kind, l->up ? "up" : "down",
	       iface_covered(l->name, pat, np) ? "yes"
	       : iface_covered(l->name, ign, ni) ? "no (ignored)" : "no");
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
	const char **pat = NULL;
	char **warn = NULL;
	const char *const *ign = NULL;
	size_t np = 0, n = 0, nw = 0, ni = 0;
	const char *source;
	bool json = false;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			cmd_usage(stdout, "ifaces");
			printf("  Covered is judged by the loaded table's container_ifaces, or by the\n"
			       "  config's when the table is not loaded or cannot be read (no\n"
			       "  CAP_NET_ADMIN: listing needs no privilege). --json: doc/json.md.\n");
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
	} else if (e.code == -ENOENT || e.code == -EPERM) {
		/* not loaded, or no privilege to read it: the config says */
		source = "config";
		memset(&e, 0, sizeof(e));
		ret = load_policy(&p);
		if (ret)
			goto out;
		pat = policy_patterns(p, &np);
	} else {
		ret = fail(&e);
		goto out;
	}
	if (!p && load_policy_quiet(&p) < 0)
		p = NULL;
	if (p)
		ign = hg_policy_ignored_ifaces(p, &ni);
	if (!pat || hg_links_read(&links, &n, &e) < 0 || uncovered_list(pat, np, ign, ni, &warn, &nw) < 0) {
		err_msg("ifaces: %s", e.message[0] ? e.message : "out of memory");
		ret = EXIT_FAIL;
		goto out;
	}
	if (json) {
		printf("{\"source\":\"%s\",\"interfaces\":[", source);
		for (size_t i = 0; i < n; i++) {
			const struct hg_link *m = link_by_index(links, n, links[i].master);
			bool first = true;
			printf("%s{\"name\":", i ? "," : "");
			json_str(stdout, links[i].name);
			printf(",\"kind\":");
			json_str(stdout, links[i].kind);
			printf(",\"index\":%u,\"up\":%s,\"container_like\":%s,\"covered\":%s,\"ignored\":%s,\"master\":",
			       links[i].index, links[i].up ? "true" : "false",
			       hg_link_is_container_like(&links[i]) ? "true" : "false",
			       iface_covered(links[i].name, pat, np) ? "true" : "false",
			       iface_covered(links[i].name, ign, ni) ? "true" : "false");
			if (m)
				json_str(stdout, m->name);
			else
				fputs("null", stdout);
			if (strcmp(links[i].kind, "bridge") == 0) {
				printf(",\"ports\":[");
				for (size_t j = 0; j < n; j++) {
					if (links[j].master != links[i].index)
						continue;
					if (!first)
						putchar(',');
					first = false;
					json_str(stdout, links[j].name);
				}
				putchar(']');
			}
			putchar('}');
		}
		printf("],\"warnings\":[");
		for (size_t i = 0; i < nw; i++) {
			if (i)
				putchar(',');
			json_str(stdout, warn[i]);
		}
		printf("]}\n");
	} else {
		printf("%-18s %-10s %-5s %s\n", "INTERFACE", "KIND", "STATE", "COVERED");
		/* ports are listed under their bridge, indented */
		for (size_t i = 0; i < n; i++) {
			const struct hg_link *m = link_by_index(links, n, links[i].master);
			if (m && strcmp(m->kind, "bridge") == 0)
				continue;
			print_link(&links[i], "", pat, np, ign, ni);
			if (strcmp(links[i].kind, "bridge") != 0)
				continue;
			for (size_t j = 0; j < n; j++)
				if (links[j].master == links[i].index)
					print_link(&links[j], "  ", pat, np, ign, ni);
		}
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
