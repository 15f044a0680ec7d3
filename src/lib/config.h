/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the config's parser (config.c), its trust checks
 * (config-trust.c) and its atomic edit (config-edit.c). */
#ifndef HG_CONFIG_H
#define HG_CONFIG_H

#include <stdbool.h>
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
 * NULL at the end; *cursor moves past it. */
char *hg_config_next_token(char **cursor);

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
