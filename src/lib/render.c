/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ruleset in nft syntax: what "apply --dry-run" prints.  The rules are
 * not written here a second time: they are the libnftnl rules of rules.c,
 * printed back expression by expression.  Only the patterns hostguard
 * builds are known; anything else fails, so a rule added to rules.c without
 * a way to print it is caught by the unit test that renders every chain.
 * "nft -f" of the output where the table is absent loads a table equal to
 * apply's (tests/netns/cli.sh).
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include "table.h"
static void elements(FILE *f, const struct hg_canon *c, enum hg_key k)
{
	size_t n = HG_KIND(k) == HG_KIND_IFNAME ? c->n_if : c->n[k];

	if (n == 0)
		return;
	fputs("\t\telements = { ", f);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs(i % 8 ? ", " : ",\n\t\t\t     ", f);
		if (HG_KIND(k) == HG_KIND_IFNAME)
			fprintf(f, "\"%s\"", c->ifnames[i]);
		else if (c->r[k][i].lo == c->r[k][i].hi)
			fprintf(f, "%u", c->r[k][i].lo);
		else
			fprintf(f, "%u-%u", c->r[k][i].lo, c->r[k][i].hi);
	}
	fputs(" }\n", f);
}

/* What a register holds, between the expression that loads it and the
 * one that reads it. */
struct reg {
	enum { R_NONE, R_META, R_CT, R_PAYLOAD, R_FIB, R_CTSTATE } kind;
	uint32_t key, flags, result;      /* meta/ct key; fib flags and result */
	uint32_t off, len;                /* payload */
	uint32_t mask;                    /* ct state & mask */
	uint8_t l4proto, nfproto;         /* dependencies nft adds by itself */
	bool swapped;                     /* byteorder hton of a meta skuid/skgid */
	char concat[48];                  /* " . ip daddr . th dport" */
};

static const char *meta_name(uint32_t key)
{
	switch (key) {
	case NFT_META_SKUID: return "meta skuid";
	case NFT_META_SKGID: return "meta skgid";
	case NFT_META_OIFNAME: return "oifname";
	case NFT_META_IIFNAME: return "iifname";
	case NFT_META_OIF: return "oif";
	default: return NULL;
	}
}

/* The left-hand side of a comparison or lookup, from what the register holds. */
static int lhs(FILE *f, const struct reg *g)
{
	const char *name;

	switch (g->kind) {
	case R_META:
		name = meta_name(g->key);
		if (!name)
			return -EINVAL;
		fputs(name, f);
		return 0;
	case R_PAYLOAD:
		if (g->l4proto == IPPROTO_ICMPV6 && g->off == 0 && g->len == 1)
			fputs("icmpv6 type", f);
		else if ((g->l4proto == IPPROTO_TCP || g->l4proto == IPPROTO_UDP) && g->off == 2 &&
			 g->len == 2)
			fputs(g->l4proto == IPPROTO_TCP ? "tcp dport" : "udp dport", f);
		else
			return -EINVAL;
		return 0;
	case R_CT:
		if (g->key != NFT_CT_DIRECTION)
			return -EINVAL;
		fputs("ct direction", f);
		return 0;
	case R_FIB:
		if (!(g->flags & NFTA_FIB_F_SADDR))
			return -EINVAL;
		fprintf(f, "fib saddr%s %s", g->flags & NFTA_FIB_F_IIF ? " . iif" : "",
			g->result == NFT_FIB_RESULT_ADDRTYPE ? "type" : "oif");
		return 0;
	default:
		return -EINVAL;
	}
}

static int print_cmp(FILE *f, struct reg *g, const struct nftnl_expr *e, bool *first)
{
	uint32_t op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP), len, v = 0;
	const void *data = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);

	if (len <= sizeof(v))
		memcpy(&v, data, len);
	/* dependencies: nft adds these for "tcp dport", "icmpv6 type" */
	if (g->kind == R_META && g->key == NFT_META_L4PROTO && op == NFT_CMP_EQ && len == 1) {
		g->l4proto = (uint8_t)v;
		return 0;
	}
	if (g->kind == R_META && g->key == NFT_META_NFPROTO && op == NFT_CMP_EQ && len == 1) {
		g->nfproto = (uint8_t)v;
		return 0;
	}
	if (!*first)
		fputc(' ', f);
	*first = false;
	if (g->kind == R_CTSTATE) {
		if (op != NFT_CMP_NEQ || v != 0 ||
		    g->mask != (NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED)))
			return -EINVAL;
		fputs("ct state established,related", f);
		return 0;
	}
	if (g->kind == R_META && g->key == NFT_META_OIF && op == NFT_CMP_EQ && v == 1) {
		fputs("oif \"lo\"", f);  /* ifindex 1 in every namespace */
		return 0;
	}
	if (lhs(f, g) < 0 || op != NFT_CMP_EQ)
		return -EINVAL;
	if (g->kind == R_CT && v == IP_CT_DIR_REPLY)
		fputs(" reply", f);
	else if (g->kind == R_FIB && g->result == NFT_FIB_RESULT_ADDRTYPE && v == RTN_LOCAL)
		fputs(" local", f);
	else if (g->kind == R_FIB && (g->flags & NFTA_FIB_F_PRESENT) && v == 0)
		fputs(" missing", f);
	else
		return -EINVAL;
	return 0;
}

static int print_lookup(FILE *f, const struct reg *g, const struct nftnl_expr *e, bool *first)
{
	const char *set = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
	bool inv = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS) &&
		   (nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV);

	if (!*first)
		fputc(' ', f);
	*first = false;
	if (lhs(f, g) < 0 || !set)
		return -EINVAL;
	if (g->concat[0]) {
		if (inv)
			return -EINVAL;
		fprintf(f, "%s @%s", g->concat, set);
		return 0;
	}
	if (g->swapped)
		return -EINVAL;
	if (strncmp(set, "__set", 5) == 0) {
		/* the only anonymous set: ICMPv6 neighbour discovery types */
		if (inv)
			return -EINVAL;
		fputs(" { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert }", f);
		return 0;
	}
	fprintf(f, " %s@%s", inv ? "!= " : "", set);
	return 0;
}

static int print_word(FILE *f, bool *first, const char *fmt, ...) HG_PRINTF(3, 4);
static int print_word(FILE *f, bool *first, const char *fmt, ...)
{
	va_list ap;

	if (!*first)
		fputc(' ', f);
	*first = false;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	return 0;
}

/* One rule as a line of nft syntax, or -EINVAL for a pattern it does not know. */
int hg_rule_to_nft(FILE *f, const struct nftnl_rule *r)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e;
	struct reg g = { R_NONE };
	bool first = true;
	int ret = 0;

	if (!it)
		return -ENOMEM;
	while (ret == 0 && (e = nftnl_expr_iter_next(it))) {
		const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

		if (strcmp(name, "meta") == 0) {
			uint8_t l4 = g.l4proto, nf = g.nfproto;
			g = (struct reg){ .kind = R_META, .key = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY),
					  .l4proto = l4, .nfproto = nf };
		} else if (strcmp(name, "ct") == 0) {
			g = (struct reg){ .kind = R_CT, .key = nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY) };
		} else if (strcmp(name, "byteorder") == 0) {
			if (g.kind != R_META || (g.key != NFT_META_SKUID && g.key != NFT_META_SKGID) ||
			    nftnl_expr_get_u32(e, NFTNL_EXPR_BYTEORDER_OP) != NFT_BYTEORDER_HTON)
				ret = -EINVAL;
			g.swapped = true;
		} else if (strcmp(name, "payload") == 0 &&
			   nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG) != NFT_REG_1) {
			/* the next field of a concatenation (grants) */
			uint32_t base = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE);
			uint32_t off = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
			uint32_t len = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
			const char *field = NULL;
			if (base == NFT_PAYLOAD_NETWORK_HEADER && off == 16 && len == 4 && g.nfproto == NFPROTO_IPV4)
				field = " . ip daddr";
			else if (base == NFT_PAYLOAD_NETWORK_HEADER && off == 24 && len == 16 &&
				 g.nfproto == NFPROTO_IPV6)
				field = " . ip6 daddr";
			else if (base == NFT_PAYLOAD_TRANSPORT_HEADER && off == 2 && len == 2)
				field = " . th dport";
			/* after meta skuid/skgid (byte-swapped for an interval set) */
			if (!field || g.kind != R_META || (g.key != NFT_META_SKUID && g.key != NFT_META_SKGID) ||
			    strlen(g.concat) + strlen(field) >= sizeof(g.concat))
				ret = -EINVAL;
			else
				strcat(g.concat, field);
		} else if (strcmp(name, "payload") == 0) {
			if (nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE) != NFT_PAYLOAD_TRANSPORT_HEADER)
				ret = -EINVAL;
			g.kind = R_PAYLOAD;
			g.off = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
			g.len = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
		} else if (strcmp(name, "fib") == 0) {
			g = (struct reg){ .kind = R_FIB, .flags = nftnl_expr_get_u32(e, NFTNL_EXPR_FIB_FLAGS),
					  .result = nftnl_expr_get_u32(e, NFTNL_EXPR_FIB_RESULT) };
		} else if (strcmp(name, "bitwise") == 0) {
			uint32_t len;
			const void *m = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_MASK, &len);
			if (g.kind != R_CT || g.key != NFT_CT_STATE || len != sizeof(g.mask))
				ret = -EINVAL;
			else
				memcpy(&g.mask, m, sizeof(g.mask));
			g.kind = R_CTSTATE;
		} else if (strcmp(name, "cmp") == 0) {
			ret = print_cmp(f, &g, e, &first);
		} else if (strcmp(name, "lookup") == 0) {
			ret = print_lookup(f, &g, e, &first);
		} else if (strcmp(name, "counter") == 0) {
			ret = print_word(f, &first, "counter");
		} else if (strcmp(name, "limit") == 0) {
			uint64_t unit = nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_UNIT);
			ret = print_word(f, &first, "limit rate %llu/%s burst %u packets",
					 (unsigned long long)nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_RATE),
					 unit == 1 ? "second" : unit == 60 ? "minute" : "hour",
					 nftnl_expr_get_u32(e, NFTNL_EXPR_LIMIT_BURST));
		} else if (strcmp(name, "log") == 0) {
			ret = print_word(f, &first, "log prefix \"%s\" group %u",
					 nftnl_expr_get_str(e, NFTNL_EXPR_LOG_PREFIX),
					 nftnl_expr_get_u16(e, NFTNL_EXPR_LOG_GROUP));
		} else if (strcmp(name, "immediate") == 0) {
			int32_t v = (int32_t)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT);
			if (v == NF_ACCEPT)
				ret = print_word(f, &first, "accept");
			else if (v == NF_DROP)
				ret = print_word(f, &first, "drop");
			else if (v == NFT_JUMP)
				ret = print_word(f, &first, "jump %s",
						 nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN));
			else
				ret = -EINVAL;
		} else {
			ret = -EINVAL;
		}
	}
	nftnl_expr_iter_destroy(it);
	return ret;
}

static const char *const hook_names[] = {
	[NF_INET_PRE_ROUTING] = "prerouting", [NF_INET_LOCAL_IN] = "input",
	[NF_INET_FORWARD] = "forward", [NF_INET_LOCAL_OUT] = "output",
	[NF_INET_POST_ROUTING] = "postrouting",
};

/* A chain with its rules, as nft syntax. */
int hg_chain_to_nft(FILE *f, int ch, const struct hg_log_settings *log)
{
	const struct hg_chaindef *cd = &hg_chaindefs[ch];
	struct nftnl_rule **v;
	size_t n;
	int r = hg_rules_build(ch, log, &v, &n);

	if (r < 0)
		return r;
	fprintf(f, "\tchain %s {\n", hg_chain_names[ch]);
	if (cd->base)
		fprintf(f, "\t\ttype filter hook %s priority %d; policy accept;\n",
			hook_names[cd->hook], cd->prio);
	for (size_t i = 0; i < n; i++) {
		if (r == 0) {
			fputs("\t\t", f);
			r = hg_rule_to_nft(f, v[i]);
			fputc('\n', f);
		}
		nftnl_rule_free(v[i]);
	}
	free(v);
	fputs("\t}\n", f);
	return r;
}

HG_EXPORT char *hg_policy_to_nft(const struct hg_policy *p)
{
	struct hg_canon c;
	char *out = NULL;
	size_t len = 0;
	FILE *f;
	int r = 0;

	if (!p || hg_canon_from_policy(p, &c, NULL) < 0)
		return NULL;
	f = open_memstream(&out, &len);
	if (!f) {
		hg_canon_clear(&c);
		return NULL;
	}
	fputs("# Generated by hostguard " HG_VERSION ": the table 'hostguard apply' builds.\n"
	      "# apply never deletes and re-creates it: it updates the live table in place,\n"
	      "# in one transaction, because a re-created table lets packets through for a\n"
	      "# moment.  'nft -f' of this file only works where the table is absent.\n"
	      "table inet hostguard {\n", f);
	for (int k = 0; k < HG_KEY_MAX; k++) {
		static const char *const types[] = { [HG_KIND_IFNAME] = "ifname",
						     [HG_KIND_PORT] = "inet_service" };
		if (HG_KIND(k) == HG_KIND_GRANT)
			continue;
		const char *type = HG_KIND(k) == HG_KIND_ID ? (k == HG_KEY_UIDS ? "uid" : "gid")
							    : types[HG_KIND(k)];
		fprintf(f, "\tset %s {\n\t\ttype %s\n", hg_key_name(k), type);
		if (hg_setdefs[k].flags & NFT_SET_INTERVAL)
			fputs("\t\tflags interval\n", f);
		elements(f, &c, k);
		fputs("\t}\n\n", f);
	}
	hg_gsets_to_nft(f, &c);
	/* in apply's order: the base chains, then the regular ones */
	for (int ch = 0; r == 0 && ch < HG_NCHAINS; ch++) {
		if (ch)
			fputc('\n', f);
		r = hg_chain_to_nft(f, ch, &c.log);
	}
	fputs("}\n", f);
	hg_canon_clear(&c);
	if (fclose(f) != 0 || r < 0) {
		free(out);
		return NULL;
	}
	return out;
}
