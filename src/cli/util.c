/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "cli.h"
#include "docker.h"

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
	/* What Docker publishes, when it runs; on failure a warning and the config alone. */
	docker_augment_policy(*ret, NULL);
	return EXIT_OK;
}

const char *config_label(void)
{
	static char buf[4200];

	if (!config_missing)
		return config_path;
	snprintf(buf, sizeof(buf), "the built-in defaults (%s does not exist)", config_path);
	return buf;
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
