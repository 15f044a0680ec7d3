/* SPDX-License-Identifier: MIT */
/*
 * Using libhostguard from C: read a config (or take the defaults), check a
 * value the way the CLI does, and print the ruleset apply would load.
 *
 *   cc hg-show-policy.c $(pkg-config --cflags --libs hostguard) -o hg-show-policy
 *   ./hg-show-policy [CONFIG]
 */
#include <errno.h>
#include <hostguard.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : HG_DEFAULT_CONFIG;
	struct hg_policy *p = NULL;
	struct hg_error err = { 0 };
	uint32_t lo, hi;
	char *text;
	int r;

	r = hg_config_load(path, &p, &err);
	if (r == -ENOENT)
		r = hg_policy_new_default(&p, &err);
	if (r < 0) {
		fprintf(stderr, "%s\n", err.message);
		return 2;
	}
	printf("libhostguard %s: %zu uids, %zu interface patterns\n", hg_version(),
	       hg_policy_count(p, HG_KEY_UIDS), hg_policy_count(p, HG_KEY_IFACES));
	if (hg_value_parse(HG_KEY_TCP, "8000-8100", &lo, &hi, &err) == 0)
		printf("8000-8100 is ports %u to %u\n", lo, hi);
	if (hg_value_parse(HG_KEY_TCP, "0", &lo, &hi, &err) < 0)
		printf("0 is refused: %s\n", err.message);
	text = hg_policy_to_nft(p);
	if (!text) {
		hg_policy_free(p);
		return 1;
	}
	fputs(text, stdout);
	free(text);
	hg_policy_free(p);
	return 0;
}
