/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a caller needs to tell its own changes from other programs': the
 * ruleset generation a transaction committed and a snapshot was read at,
 * and one canonical spelling per value ("alice@[2001:db8::2]" and
 * "1002@2001:db8::2" are one grant).
 */
#include "state.h"

/* Not exported: the CLI's record names the network namespace by this
 * socket's (SO_NETNS_COOKIE), instead of making a socket for the purpose. */
int hg_nl_fd(const struct hg_nl *nl)
{
	return nl ? mnl_socket_get_fd(nl->sock) : -1;
}

int hg_nl_generation_for(struct hg_nl *nl, enum hg_key k, uint32_t *ret)
{
	if (!nl || !ret)
		return -EINVAL;
	/* a grant key spans several sets, read otherwise */
	if ((unsigned)k >= HG_KEY_MAX || HG_KIND(k) == HG_KIND_GRANT)
		return hg_nl_generation(nl, ret);
	return hg_nl_genid_with_set(nl, hg_setdefs[k].name, ret);
}

size_t hg_state_expiring(const struct hg_state *s)
{
	return s ? s->expiring : 0;
}

HG_EXPORT uint32_t hg_nl_committed_generation(const struct hg_nl *nl)
{
	return nl ? nl->committed_genid : 0;
}

HG_EXPORT int hg_nl_generation(struct hg_nl *nl, uint32_t *ret)
{
	uint32_t g;
	int r;

	if (!nl || !ret)
		return -EINVAL;
	r = hg_nl_genid(nl, &g);
	if (r < 0)
		return r;
	*ret = g;
	return 0;
}

HG_EXPORT uint32_t hg_state_generation(const struct hg_state *s)
{
	return s ? s->genid : 0;
}

HG_EXPORT int hg_value_canonical(enum hg_key key, const char *token, char *buf, size_t len,
				 struct hg_error *err)
{
	char out[112];
	uint32_t lo = 0, hi = 0;
	int r;

	if (!buf || !len)
		return hg_err(err, -EINVAL, "invalid argument");
	if (HG_KIND(key) == HG_KIND_GRANT) {
		struct hg_grant g;
		r = hg_grant_parse(key, token, &g, err);
		if (r == 0 && hg_grant_format(&g, out, sizeof(out)) < 0)
			r = hg_err(err, -EINVAL, "invalid grant '%s'", token);
	} else {
		r = hg_value_parse(key, token, &lo, &hi, err);
		if (r == 0 && HG_KIND(key) == HG_KIND_IFNAME)
			snprintf(out, sizeof(out), "%s", token);
		else if (r == 0 && (HG_KIND(key) == HG_KIND_ID || lo == hi))
			snprintf(out, sizeof(out), "%u", lo);
		else if (r == 0)
			snprintf(out, sizeof(out), "%u-%u", lo, hi);
	}
	if (r < 0)
		return r;
	if (strlen(out) >= len)
		return hg_err(err, -ENOBUFS, "value '%.40s' too long", token);
	strcpy(buf, out);
	return 0;
}
