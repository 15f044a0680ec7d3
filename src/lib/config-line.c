/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The new text of a config file with the values of one key edited: the
 * key's line is rewritten ("key = v1, v2" and its comment), every other
 * byte stays.  No file is touched here (config-edit.c does that).
 *
 * The file was parsed just before (hg_config_parse_lines), so the value of
 * every token of the line is known already: a 50,000-uid line costs a
 * copy, one pass and a hash set, never a second lookup of each token.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

/* A value of the line, len bytes; lo > hi when it has none (a name that
 * does not resolve).  24 bytes: a 50,000-value line has 50,000 of them. */
struct tok {
	const char *s;
	uint32_t lo, hi;
	size_t len;
};

struct toks {
	struct tok *v;
	size_t n, cap;
};

/* ids the line holds, for adding without a scan: open addressing on
 * value + 1 (0 is an empty slot) */
struct idset {
	uint64_t *slot;
	size_t mask;
};

struct line_ctx {
	enum hg_key k;
	struct toks now;
	char **own;               /* formatted port ranges */
	size_t n_own;
	struct idset ids;
	bool have_ids;
	bool changed;
	size_t n_edit;            /* how many values the edit names */
};

static int toks_push(struct toks *t, struct tok x)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct tok *v = realloc(t->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n++] = x;
	return 0;
}

static void del_tok(struct line_ctx *c, size_t i)
{
	struct toks *t = &c->now;

	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(*t->v));
	t->n--;
	c->changed = true;
}

static bool has_value(const struct tok *t)
{
	return t->lo <= t->hi;
}

static int add_new(struct line_ctx *c, const char *s, uint32_t lo, uint32_t hi)
{
	c->changed = true;
	return toks_push(&c->now, (struct tok){ s, lo, hi, strlen(s) });
}

/* A port range as text, owned by the context. */
static int add_range(struct line_ctx *c, struct toks *t, uint32_t lo, uint32_t hi)
{
	char buf[32], **own = realloc(c->own, (c->n_own + 1) * sizeof(*own));
	int n;

	if (!own)
		return -ENOMEM;
	c->own = own;
	c->changed = true;
	if (lo == hi)
		n = snprintf(buf, sizeof(buf), "%u", lo);
	else
		n = snprintf(buf, sizeof(buf), "%u-%u", lo, hi);
	if (!(c->own[c->n_own] = strdup(buf)))
		return -ENOMEM;
	return toks_push(t, (struct tok){ c->own[c->n_own++], lo, hi, (size_t)n });
}

static size_t id_hash(uint32_t v, size_t mask)
{
	return (size_t)(((uint64_t)v * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

/* true if v was there already */
static bool idset_put(struct idset *s, uint32_t v)
{
	size_t i = id_hash(v, s->mask);

	while (s->slot[i]) {
		if (s->slot[i] == (uint64_t)v + 1)
			return true;
		i = (i + 1) & s->mask;
	}
	s->slot[i] = (uint64_t)v + 1;
	return false;
}

/* An empty set with room for n ids (half full at most); -ENOMEM. */
static int idset_alloc(struct idset *s, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	free(s->slot);
	s->slot = calloc(cap, sizeof(*s->slot));
	if (!s->slot)
		return -ENOMEM;
	s->mask = cap - 1;
	return 0;
}

static int idset_build(struct line_ctx *c, size_t extra)
{
	if (idset_alloc(&c->ids, c->now.n + extra) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < c->now.n; i++)
		if (has_value(&c->now.v[i]))
			idset_put(&c->ids, c->now.v[i].lo);
	c->have_ids = true;
	return 0;
}

/* Is [lo, hi] inside the union of the tokens' ranges? */
static int covered(struct line_ctx *c, struct hg_range req)
{
	struct hg_range *v = calloc(c->now.n + 1, sizeof(*v));
	size_t n = 0;
	int yes;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < c->now.n; i++)
		if (has_value(&c->now.v[i]))
			v[n++] = (struct hg_range){ c->now.v[i].lo, c->now.v[i].hi };
	n = hg_ranges_normalize(v, n, true);
	yes = hg_ranges_cover(v, n, req);
	free(v);
	return yes;
}

/* Removes every token equal to tok as typed (a name that no longer
 * resolves). */
static void drop_literal(struct line_ctx *c, const char *tok)
{
	for (size_t i = 0; i < c->now.n; i++)
		if (strcmp(c->now.v[i].s, tok) == 0)
			del_tok(c, i--);
}

static int edit_grant(struct line_ctx *c, enum hg_edit op, const char *tok)
{
	struct toks *t = &c->now;
	struct hg_grant want, gx;
	/* equal grants are one token, however typed; revoking a grant whose
	 * principal no longer resolves removes its literal token */
	int rp = hg_grant_parse(c->k, tok, &want, NULL);

	for (size_t i = 0; i < t->n; i++) {
		struct tok *x = &t->v[i];
		/* a token of another id cannot be the same grant: not parsed */
		bool same = strcmp(x->s, tok) == 0 ||
			    (rp == 0 && !(has_value(x) && x->lo != want.id) &&
			     hg_grant_parse(c->k, x->s, &gx, NULL) == 0 && hg_grant_equal(&want, &gx));
		if (!same)
			continue;
		if (op == HG_EDIT_ADD)
			return 0;
		del_tok(c, i--);
	}
	if (rp < 0 && op == HG_EDIT_ADD)
		return -EINVAL;
	return op == HG_EDIT_ADD ? add_new(c, tok, want.id, want.id) : 0;
}

static int edit_add(struct line_ctx *c, const char *tok, struct hg_range req)
{
	struct toks *t = &c->now;
	bool merged = false;
	int r;

	if (HG_KIND(c->k) == HG_KIND_ID && c->n_edit == 1) {
		/* one id: a scan costs less than a set */
		for (size_t i = 0; i < t->n; i++)
			if (has_value(&t->v[i]) && t->v[i].lo == req.lo)
				return 0;
		return add_new(c, tok, req.lo, req.hi);
	}
	if (HG_KIND(c->k) == HG_KIND_ID) {
		if (!c->have_ids && (r = idset_build(c, c->n_edit)) < 0)
			return r;
		if (idset_put(&c->ids, req.lo))
			return 0;
		r = add_new(c, tok, req.lo, req.hi);
		/* the set keeps room for every token */
		if (r == 0 && 2 * t->n > c->ids.mask)
			r = idset_build(c, t->n);
		return r;
	}
	r = covered(c, req);
	if (r != 0)
		return r < 0 ? r : 0;
	for (size_t i = 0; i < t->n; i++) {
		struct tok *x = &t->v[i];
		if (!has_value(x))
			continue;
		/* overlapping or touching ranges become one token */
		if (hg_range_touches((struct hg_range){ x->lo, x->hi }, req)) {
			req.lo = x->lo < req.lo ? x->lo : req.lo;
			req.hi = x->hi > req.hi ? x->hi : req.hi;
			del_tok(c, i);
			i = (size_t)-1;   /* the grown range may touch earlier ones */
			merged = true;
		}
	}
	return merged ? add_range(c, t, req.lo, req.hi) : add_new(c, tok, req.lo, req.hi);
}

/* Tokens that overlap go; of a port range, what is left of it stays, in
 * its place. */
static int edit_remove(struct line_ctx *c, struct hg_range req)
{
	bool ports = HG_KIND(c->k) == HG_KIND_PORT;
	struct toks keep = { 0 };
	int r = 0;

	keep.cap = c->now.n + 2;
	keep.v = malloc(keep.cap * sizeof(*keep.v));
	if (!keep.v)
		return -ENOMEM;

	for (size_t i = 0; i < c->now.n && r == 0; i++) {
		struct tok *x = &c->now.v[i];
		struct hg_range left[2];
		size_t n_left;

		if (!has_value(x) || x->hi < req.lo || x->lo > req.hi) {
			r = toks_push(&keep, *x);
			continue;
		}
		/* an id goes; what is left of a port range stays, retyped */
		n_left = ports ? hg_range_minus((struct hg_range){ x->lo, x->hi }, req, left) : 0;
		for (size_t j = 0; j < n_left && r == 0; j++)
			r = add_range(c, &keep, left[j].lo, left[j].hi);
	}
	if (r < 0) {
		free(keep.v);
		return r;
	}
	if (keep.n != c->now.n) {
		c->have_ids = false;
		c->changed = true;
	}
	free(c->now.v);
	c->now = keep;
	return 0;
}

static int edit_token(struct line_ctx *c, enum hg_edit op, const char *tok)
{
	struct hg_range req;
	int r;

	if (HG_KIND(c->k) == HG_KIND_GRANT)
		return edit_grant(c, op, tok);
	if (HG_KIND(c->k) == HG_KIND_IFNAME) {
		for (size_t i = 0; i < c->now.n; i++) {
			if (strcmp(c->now.v[i].s, tok) != 0)
				continue;
			if (op == HG_EDIT_ADD)
				return 0;
			del_tok(c, i--);
		}
		return op == HG_EDIT_ADD ? add_new(c, tok, 0, 0) : 0;
	}
	r = hg_value_parse(c->k, tok, &req.lo, &req.hi, NULL);
	if (r == -ENOENT && op == HG_EDIT_REMOVE) {
		/* a name that no longer resolves: its literal token goes */
		drop_literal(c, tok);
		return 0;
	}
	if (r < 0)
		return -EINVAL;
	return op == HG_EDIT_ADD ? edit_add(c, tok, req) : edit_remove(c, req);
}

/* Where a key's line is: [start, end) of the text, its values and the
 * comment inside it. */
struct keyline {
	size_t start, end;
	const char *values;       /* points into the text */
	size_t values_len;
	const char *comment;      /* points into the text, or NULL */
	size_t comment_len;
	size_t gap;               /* blanks before the comment, kept as they were */
	bool found;
};

static void find_key(const char *text, size_t len, enum hg_key key, struct keyline *kl)
{
	const char *name = hg_key_name(key);
	size_t name_len = strlen(name);

	memset(kl, 0, sizeof(*kl));
	for (size_t pos = 0; pos < len;) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		const char *hash = memchr(line, '#', end - pos);
		const char *body_end = hash ? hash : text + end;
		const char *eq = memchr(line, '=', (size_t)(body_end - line)), *s, *e;

		if (eq) {
			for (s = line; is_blank(*s); s++)
				;
			for (e = eq; e > s && is_blank(e[-1]); e--)
				;
			if ((size_t)(e - s) == name_len && memcmp(s, name, name_len) == 0) {
				kl->found = true;
				kl->start = pos;
				kl->end = end;
				if (hash) {
					kl->comment = hash;
					kl->comment_len = (size_t)(text + end - hash);
					while (hash - kl->gap > line && is_blank(hash[-1 - (ptrdiff_t)kl->gap]))
						kl->gap++;
				}
				kl->values = eq + 1;
				kl->values_len = (size_t)(body_end - eq - 1);
				return;
			}
		}
		pos = end + 1;
	}
}

/*
 * The values the file has for the key, with what they resolved to: the
 * parsed policy holds, in order, each value of the line that resolved (a
 * name that does not is skipped there), or the defaults when the file does
 * not set the key.  When every value resolved, those are the line's values
 * as typed; otherwise the line is read again (into *ret_copy) and walked
 * beside them, and a value the walk cannot match is looked up again.
 */
static int old_tokens(const struct hg_policy *p, const struct hg_config_lines *lines, enum hg_key k,
		      const struct keyline *kl, char **ret_copy, size_t n_edit, struct toks *ret)
{
	const struct hg_list *l = &p->lists[k];
	size_t j = 0;
	int r = 0;

	/* room for the values and what the edit adds */
	ret->cap = (kl->found ? lines->values[k] : l->n) + n_edit + 2;
	ret->v = malloc(ret->cap * sizeof(*ret->v));
	if (!ret->v)
		return -ENOMEM;

	if (!kl->found || (HG_KIND(k) != HG_KIND_IFNAME && lines->values[k] == l->n)) {
		/* the room is there: no push each */
		for (size_t i = 0; i < l->n; i++)
			ret->v[i] = (struct tok){ HG_TOKEN(l, i), l->v[i].lo, l->v[i].hi, strlen(HG_TOKEN(l, i)) };
		ret->n = l->n;
		return 0;
	}
	*ret_copy = strndup(kl->values, kl->values_len);
	if (!*ret_copy)
		return -ENOMEM;
	size_t len;
	for (char *v = *ret_copy, *s; r == 0 && (s = hg_config_token(&v, &len));) {
		struct tok t = { s, 0, 0, len };
		if (HG_KIND(k) != HG_KIND_IFNAME && j < l->n && strcmp(s, HG_TOKEN(l, j)) == 0) {
			t.lo = l->v[j].lo;
			t.hi = l->v[j].hi;
			j++;
		} else if (HG_KIND(k) != HG_KIND_IFNAME && hg_value_parse(k, s, &t.lo, &t.hi, NULL) < 0) {
			t.lo = 1;
			t.hi = 0;
		}
		r = toks_push(ret, t);
	}
	return r;
}

static unsigned count_lines(const char *text, size_t len)
{
	unsigned n = 1;

	for (const char *p = text, *end = text + len; (p = memchr(p, '\n', (size_t)(end - p))); p++)
		n++;
	return n;
}

/*
 * "key = v1, v2" and the comment the line had.  Where each resolved value
 * went is written over the tokens as they are consumed (no larger, and
 * entry i never lies past token i): the array becomes ret->known.
 */
_Static_assert(sizeof(struct hg_config_known) <= sizeof(struct tok), "known replaces tok in place");
static char *format_line(enum hg_key k, struct toks *t, const struct keyline *kl,
			 struct hg_line_edit *ret)
{
	const char *name = hg_key_name(k);
	size_t len = strlen(name) + 2, pos, n_known = 0;
	struct hg_config_known *known = (struct hg_config_known *)t->v;
	char *line;

	for (size_t i = 0; i < t->n; i++)
		len += 2 + t->v[i].len;
	if (kl->found && kl->comment)
		len += kl->gap + kl->comment_len;
	line = malloc(len + 1);
	if (!line)
		return NULL;
	pos = (size_t)sprintf(line, "%s =", name);
	for (size_t i = 0; i < t->n; i++) {
		struct tok x = t->v[i];
		size_t l = x.len;
		if (i)
			line[pos++] = ',';
		line[pos++] = ' ';
		memcpy(line + pos, x.s, l);
		if (has_value(&x))
			known[n_known++] = (struct hg_config_known){ (uint32_t)pos, (uint32_t)l, x.lo, x.hi };
		pos += l;
	}
	if (kl->found && kl->comment) {
		memcpy(line + pos, kl->comment - kl->gap, kl->gap + kl->comment_len);
		pos += kl->gap + kl->comment_len;
	}
	line[pos] = '\0';
	ret->known = known;
	ret->n_known = n_known;
	t->v = NULL;
	t->n = t->cap = 0;
	return line;
}

/*
 * Is the key's line exactly as format_line() writes it for the values of
 * l ("key = v1, v2", then the blanks and comment it had)?  Then *ret_end is
 * where its last value ends.
 */
static bool canonical(const char *text, const struct keyline *kl, enum hg_key k, const struct hg_list *l,
		      size_t *ret_end)
{
	const char *name = hg_key_name(k), *s = text + kl->start;
	const char *end = kl->values + kl->values_len;
	size_t nl = strlen(name);

	if (strncmp(s, name, nl) != 0 || s[nl] != ' ' || s[nl + 1] != '=' || kl->values != s + nl + 2)
		return false;
	s = kl->values;
	/* The values were parsed from this very text: only the separators
	 * need looking at, not the values' bytes.  The separators checked
	 * are blanks and commas, which no value holds; with the length
	 * checked below, every other byte is a value's, so the text splits
	 * exactly as this walk says (one memcmp per value of a 50,000-value
	 * line, on every edit of it, saved). */
	for (size_t i = 0; i < l->n; i++) {
		size_t tl = strlen(HG_TOKEN(l, i));
		if (i) {
			if (end - s < 2 || s[0] != ',' || s[1] != ' ')
				return false;
			s += 2;
		} else if (s == end || *s++ != ' ') {
			return false;
		}
		if ((size_t)(end - s) < tl)
			return false;
		s += tl;
	}
	/* what is left is the blanks before the comment, or nothing */
	if ((size_t)(end - s) != (kl->comment ? kl->gap : 0))
		return false;
	*ret_end = (size_t)(s - text);
	return true;
}

/*
 * Adding ids to a line as format_line() writes it, every value of it
 * resolved: the shape a 50,000-id line has after any edit.  The result is
 * byte for byte what the general way writes (the old line, then ", id" for
 * each id it lacks), but the old values are neither copied into tokens nor
 * formatted nor parsed again: ret->line holds only what is appended
 * (ret->extend), at the end of the last value.  1: appended; 0: every id
 * is there; -ENOTSUP: another shape (the general way); -ENOMEM.
 */
static int extend_ids(const char *text, const struct hg_policy *p, const struct hg_config_lines *lines,
		      enum hg_key k, enum hg_edit op, const struct keyline *kl,
		      const char *const *tokens, size_t n, struct hg_line_edit *ret)
{
	const struct hg_list *l = &p->lists[k];
	struct idset ids = { NULL, 0 };
	struct hg_config_known *known = NULL;
	size_t end, len = 0, pos = 0, n_known = 0;
	char *line = NULL;
	int r = -ENOTSUP;

	if (op != HG_EDIT_ADD || HG_KIND(k) != HG_KIND_ID || !kl->found || lines->values[k] != l->n ||
	    !canonical(text, kl, k, l, &end))
		return -ENOTSUP;
	for (size_t i = 0; i < n; i++)
		len += 2 + strlen(tokens[i]);
	line = malloc(len + 1);
	known = calloc(n ? n : 1, sizeof(*known));
	if (!line || !known) {
		r = -ENOMEM;
		goto out;
	}
	if (n > 1) {
		if (idset_alloc(&ids, l->n + n) < 0) {
			r = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < l->n; i++)
			idset_put(&ids, l->v[i].lo);
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t lo, hi;
		bool there = false;
		size_t tl = strlen(tokens[i]);

		if (hg_value_parse(k, tokens[i], &lo, &hi, NULL) < 0)
			goto out;          /* the general way says what it is */
		if (n > 1) {
			there = idset_put(&ids, lo);
		} else {
			for (size_t j = 0; j < l->n && !there; j++)
				there = l->v[j].lo == lo;
		}
		if (there)
			continue;
		/* format_line()'s separators: " v" first, ", v" after */
		if (l->n || n_known)
			line[pos++] = ',';
		line[pos++] = ' ';
		memcpy(line + pos, tokens[i], tl);
		known[n_known++] = (struct hg_config_known){ (uint32_t)pos, (uint32_t)tl, lo, hi };
		pos += tl;
	}
	line[pos] = '\0';
	if (!n_known) {
		r = 0;
		goto out;
	}
	ret->line = line;
	ret->extend = true;
	ret->known = known;
	ret->n_known = n_known;
	ret->head = ret->tail = end;
	ret->pre = ret->post = "";
	ret->lineno = count_lines(text, kl->start);
	line = NULL;
	known = NULL;
	r = 1;
out:
	free(ids.slot);
	free(line);
	free(known);
	return r;
}

int hg_config_edit_text(const char *text, size_t len, const struct hg_policy *p,
			const struct hg_config_lines *lines, enum hg_key key, enum hg_edit op,
			const char *const *tokens, size_t n, struct hg_line_edit *ret)
{
	struct line_ctx c = { .k = key, .n_edit = n };
	struct keyline kl;
	char *values = NULL;
	int r;

	find_key(text, len, key, &kl);
	r = extend_ids(text, p, lines, key, op, &kl, tokens, n, ret);
	if (r != -ENOTSUP)
		return r;
	r = old_tokens(p, lines, key, &kl, &values, n, &c.now);
	if (r < 0)
		goto out;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = edit_token(&c, op, tokens[i]);
	if (r < 0 || !c.changed)
		goto out;

	ret->line = format_line(key, &c.now, &kl, ret);
	if (!ret->line) {
		r = -ENOMEM;
		goto out;
	}
	if (kl.found) {
		ret->head = kl.start;
		ret->tail = kl.end;
		ret->pre = ret->post = "";
		ret->lineno = count_lines(text, kl.start);
	} else {
		/* appended; the file's last line gets its newline */
		ret->head = ret->tail = len;
		ret->pre = len && text[len - 1] != '\n' ? "\n" : "";
		ret->post = "\n";
		ret->lineno = count_lines(text, len) + (*ret->pre ? 1 : 0);
	}
	r = 1;
out:
	for (size_t i = 0; i < c.n_own; i++)
		free(c.own[i]);
	free(c.own);
	free(c.ids.slot);
	free(c.now.v);
	free(values);
	return r;
}
