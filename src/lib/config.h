/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the config's parser (config.c), its trust checks
 * (config-trust.c) and its atomic edit (config-edit.c). */
#ifndef HG_CONFIG_H
#define HG_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "internal.h"

static inline bool is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\r';
}

static inline bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The next value of a "key = values" line (NUL-terminated in place), or
 * NULL at the end; *cursor moves past it.  hg_config_token() also says how
 * long it is. */
char *hg_config_next_token(char **cursor);
char *hg_config_token(char **cursor, size_t *ret_len);

/* The keys a file may set: the sets, then the settings (config.c). */
#define HG_CONFIG_KEYS (HG_KEY_MAX + 5)
/* Where a parsed file set each key: its line, 0 when it did not; and how
 * many values the line of each set has. */
struct hg_config_lines {
	unsigned seen[HG_CONFIG_KEYS];
	size_t values[HG_KEY_MAX];
};

/* A value the edit wrote into a line, and what it resolved to. */
struct hg_config_known {
	uint32_t off, len;        /* where in the line (files are at most 64 MiB) */
	uint32_t lo, hi;
};

/* A config's text with one key's values edited (config-line.c): the new
 * file is text[0, head) + pre + line + post + text[tail, len). */
struct hg_line_edit {
	char *line;               /* the key's new line, without its newline; when
				   * extend, only the values appended to it */
	bool extend;              /* line is ", v1, v2" put after the line's last value */
	unsigned lineno;          /* its number in the new text */
	size_t head, tail;
	const char *pre, *post;   /* "" or "\n" */
	struct hg_config_known *known;   /* the line's resolved values, in order */
	size_t n_known;
};/*
 * Edits the values of key in text, which parsed into p and lines: returns 1 and
 * fills ret (the caller frees line and known) when they change, 0 when they
 * do not, -ENOMEM.  Every token was checked by hg_value_parse() before.
 */
int hg_config_edit_text(const char *text, size_t len, const struct hg_policy *p,
			const struct hg_config_lines *lines, enum hg_key key, enum hg_edit op,
			const char *const *tokens, size_t n, struct hg_line_edit *ret);

/* hg_config_parse(), also telling where each key was set (ret_lines may
 * be NULL). */
int hg_config_parse_lines(const char *text, size_t len, const char *name, struct hg_policy **ret,
			  struct hg_config_lines *ret_lines, struct hg_error *err);
/*
 * p and lines as hg_config_parse_lines() leaves them for the file p was
 * parsed from once the line of key is replaced by le->line (at le->lineno;
 * a key the file did not set is appended there): the line is parsed in
 * place of the key's values, or, when le->extend, after them.  Every other line is as it was, and was parsed
 * already.  A value the parser finds exactly where le->known says one was
 * written (same bytes, same bounds) is not resolved again.  The policy as
 * a whole is not validated (hg_config_validate_lines, once all lines are
 * in).  On failure p is half edited: free it.
 */
int hg_config_replace_line(struct hg_policy *p, struct hg_config_lines *lines, const char *name,
			   enum hg_key key, const struct hg_line_edit *le, struct hg_error *err);
/* hg_policy_validate(), the error naming the line of the key it is about. */
int hg_config_validate_lines(const struct hg_policy *p, const struct hg_config_lines *lines,
			     const char *name, struct hg_error *err);

/* The file itself: a regular file, owned by root or the caller, not
 * writable by group or others (-EINVAL / -EPERM, named in err). */
int hg_config_trust_file(const char *path, const struct stat *st, struct hg_error *err);
/* Every directory from / down to dir (resolved); path names the config
 * in the messages. */
int hg_config_trust_dirs(const char *dir, const char *path, struct hg_error *err);
/* The directories of path, and of its target when it is a symlink. */
int hg_config_trust_chains(const char *path, struct hg_error *err);
/* The directory part of path ("." when it has none); NULL: out of memory. */
char *hg_dir_of(const char *path);

#endif
