/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The nft text of the ruleset is printed from the libnftnl rules that apply
 * sends (render.c): every chain must print, with logging on and off, and
 * the ruleset in doc/ruleset.md must be exactly what an empty policy
 * renders to, so the documentation cannot drift from the code.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hostguard.h"
#include "internal.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* The text without its comment lines. */
static void strip_comments(char *s)
{
	char *w = s;

	for (char *line = s; *line;) {
		char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line + 1) : strlen(line);
		if (line[0] != '#') {
			memmove(w, line, n);
			w += n;
		}
		line += n;
	}
	*w = '\0';
}

int main(void)
{
	struct hg_policy *p = hg_policy_new();
	struct hg_log_settings log;
	const char *src = getenv("MESON_SOURCE_ROOT");
	char path[4096], *doc, *text, *block, *end;

	CHECK(p != NULL, "policy");
	text = hg_policy_to_nft(p);
	CHECK(text != NULL, "an empty policy renders");
	snprintf(path, sizeof(path), "%s/doc/ruleset.md", src ? src : "..");
	doc = slurp(path);
	CHECK(doc != NULL, "read %s", path);
	if (text && doc) {
		block = strstr(doc, "```nft\n");
		CHECK(block != NULL, "doc/ruleset.md has an nft block");
		if (block) {
			block += strlen("```nft\n");
			end = strstr(block, "```");
			if (end)
				*end = '\0';
			strip_comments(text);
			CHECK(strcmp(block, text) == 0,
			      "doc/ruleset.md differs from the rendered ruleset:\n--- doc\n%s--- rendered\n%s",
			      block, text);
		}
	}
	free(doc);
	free(text);

	/* with logging: a log rule before the drop of to_protected and before
	 * the last drop of from_containers */
	hg_policy_get_log(p, &log);
	log.enabled = true;
	log.group = 5;
	log.rate = 3;
	log.per_seconds = 60;
	hg_policy_set_log(p, &log);
	hg_policy_add(p, HG_KEY_UIDS, "1001", NULL);
	hg_policy_add(p, HG_KEY_PUBLISHED_TCP, "8080", NULL);
	text = hg_policy_to_nft(p);
	CHECK(text != NULL, "a policy with logging renders");
	if (text) {
		size_t n = 0;
		for (char *q = text; (q = strstr(q, "limit rate 3/minute burst 5 packets log prefix")); q++)
			n++;
		CHECK(n == 2, "two log rules (%zu)", n);
		CHECK(strstr(text, "log prefix \"" HG_LOG_PREFIX_EGRESS "\" group 5") != NULL, "egress prefix");
		CHECK(strstr(text, "log prefix \"" HG_LOG_PREFIX_INGRESS "\" group 5") != NULL, "ingress prefix");
		CHECK(strstr(text, "elements = { 8080 }") != NULL, "published_tcp element");
		CHECK(strstr(text, "delete table") == NULL, "never a delete");
	}
	free(text);
	hg_policy_free(p);
	return check_done("test-render");
}
