/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <grp.h>
#include <pwd.h>
#include <stdint.h>

#include "cli.h"
#include "docker.h"
#include "internal.h"

void err_msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int fail(const struct hg_error *e)
{
	if (e->code == -EPERM) {
		err_msg("permission denied: this command needs root or CAP_NET_ADMIN");
		return EXIT_NOPERM;
	}
	err_msg("%s", e->message[0] ? e->message : strerror(-e->code));
	if (e->code == -EINVAL || e->code == -ENOENT || e->code == -ERANGE)
		return e->line ? EXIT_INVALID : EXIT_FAIL;
	return EXIT_FAIL;
}

int load_policy(struct hg_policy **ret)
{
	struct hg_error e = { 0 };
	int r;

	r = hg_config_load(config_path, ret, &e);
	if (r == -ENOENT && e.line == 0) {
		if (config_explicit)
			err_msg("note: %s does not exist; using the built-in defaults", config_path);
		config_missing = true;
		r = hg_policy_new_default(ret, &e);
	}
	if (r < 0) {
		err_msg("%s", e.message);
		return r == -ENOMEM || r == -EIO ? EXIT_FAIL : EXIT_INVALID;
	}
	/* What Docker publishes, when it runs (docker.h: on failure a warning, and
	 * the config plus what the live table learned from Docker before). */
	docker_augment_policy(*ret, NULL);
	return EXIT_OK;
}

void print_policy_warnings(const struct hg_policy *p)
{
	size_t n;
	const char *const *w = hg_policy_warnings(p, &n);

	for (size_t i = 0; i < n; i++)
		err_msg("warning: %s", w[i]);
}

static int live_policy_of(const struct hg_state *s, bool learned, bool sources, struct hg_policy **ret)
{
	struct hg_policy *p = hg_policy_new();
	struct hg_error e = { 0 };
	int r = 0;

	if (!p)
		return -ENOMEM;
	for (int k = 0; k < HG_KEY_MAX && r == 0; k++) {
		if (!learned && (k == HG_KEY_PUBLISHED_TCP || k == HG_KEY_PUBLISHED_UDP))
			continue;
		if (HG_KIND(k) == HG_KIND_GRANT) {
			/* what a config decides: grants without a timeout */
			for (size_t i = 0; i < hg_state_grant_count(s) && r == 0; i++) {
				struct hg_grant_info g;
				struct hg_grant_origin o;
				if (hg_state_grant(s, i, &g) < 0 || hg_state_grant_origin(s, i, &o) < 0 ||
				    g.timeout_ms || g.gid != (k == HG_KEY_GRANT_GIDS))
					continue;
				if (sources && o.source != HG_GRANT_CONFIG)
					r = hg_policy_add_grant_from(p, k, g.text, o.source, o.container, &e);
				else
					r = hg_policy_add(p, k, g.text, &e);
			}
			continue;
		}
		for (size_t i = 0; i < hg_state_count(s, k) && r == 0; i++) {
			char tok[32];
			uint32_t lo = 0, hi = 0;
			if (HG_KIND(k) == HG_KIND_IFNAME) {
				r = hg_policy_add(p, k, hg_state_iface(s, i), &e);
				continue;
			}
			hg_state_range(s, k, i, &lo, &hi);
			if (lo == hi)
				snprintf(tok, sizeof(tok), "%u", lo);
			else
				snprintf(tok, sizeof(tok), "%u-%u", lo, hi);
			r = hg_policy_add(p, k, tok, &e);
		}
	}
	if (r == 0 && hg_state_log_group(s) >= 0) {
		struct hg_log_settings log;
		hg_policy_get_log(p, &log);
		log.enabled = true;
		log.group = (uint16_t)hg_state_log_group(s);
		hg_policy_set_log(p, &log);
	}
	if (r < 0) {
		hg_policy_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

int live_policy(const struct hg_state *s, bool learned, struct hg_policy **ret)
{
	return live_policy_of(s, learned, false, ret);
}

int live_policy_sourced(const struct hg_state *s, bool learned, struct hg_policy **ret)
{
	return live_policy_of(s, learned, true, ret);
}

int live_beyond_defaults(const struct hg_state *s)
{
	struct hg_policy *live = NULL, *def = NULL;
	struct hg_error e = { 0 };
	char *a = NULL, *b = NULL;
	int r;

	/* what a config decides; the published ports are learned from Docker */
	r = live_policy(s, false, &live);
	if (r == 0)
		r = hg_policy_new_default(&def, &e);
	if (r == 0) {
		a = hg_policy_to_nft(live);
		b = hg_policy_to_nft(def);
		r = !a || !b ? -ENOMEM : strcmp(a, b) != 0;
	}
	free(a);
	free(b);
	hg_policy_free(live);
	hg_policy_free(def);
	return r;
}

int load_policy_quiet(struct hg_policy **ret)
{
	struct hg_error e = { 0 };
	int r = hg_config_load(config_path, ret, &e);

	if (r == -ENOENT && e.line == 0)
		r = hg_policy_new_default(ret, &e);
	return r;
}

const char *config_label(void)
{
	/* built once (config_path is set before any command runs), on the
	 * heap: a 4 KiB buffer in .bss sat between the few small variables a
	 * one-element edit writes, and put them on pages of their own (a page
	 * fault each) */
	static char *label;

	if (!config_missing)
		return config_path;
	if (!label && asprintf(&label, "the built-in defaults (%s does not exist)", config_path) < 0) {
		label = NULL;
		return "the built-in defaults";
	}
	return label;
}

int open_nl(struct hg_nl **ret)
{
	struct hg_error e = { 0 };

	if (hg_nl_open(ret, &e) < 0)
		return fail(&e);
	return EXIT_OK;
}

bool is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* A uid or gid value of a delta line gets its name, as status shows it. */
void print_delta(char *const *lines, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char key[32];
		unsigned long id;
		const char *name = NULL;

		if (sscanf(lines[i], "%*c %31s %lu", key, &id) == 2 && id <= UINT32_MAX) {
			if (strcmp(key, "allowed_uids") == 0) {
				struct passwd *pw = getpwuid((uid_t)id);
				name = pw ? pw->pw_name : NULL;
			} else if (strcmp(key, "allowed_gids") == 0) {
				struct group *gr = getgrgid((gid_t)id);
				name = gr ? gr->gr_name : NULL;
			}
		}
		if (name)
			printf("%s (%s)\n", lines[i], name);
		else
			printf("%s\n", lines[i]);
	}
}
