/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: the config parser, and the nft rendering of what it
 * accepts.  Names that are not numbers go through NSS like in real use. */
#include <stdint.h>
#include <stdlib.h>

#include "hostguard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hg_policy *p = NULL;
	struct hg_error e;

	if (hg_config_parse((const char *)data, size, "fuzz.conf", &p, &e) == 0) {
		char *text = hg_policy_to_nft(p);
		if (!text)
			abort();
		free(text);
		hg_policy_free(p);
	} else if (e.message[0] == '\0') {
		abort();              /* every failure says why */
	}
	return 0;
}
