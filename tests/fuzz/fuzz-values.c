/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: one value of every key (ids, ports, ranges, interface
 * patterns) and the interface interval round trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char tok[64];
	struct hg_error e;

	if (size == 0 || size >= sizeof(tok))
		return 0;
	memcpy(tok, data + 1, size - 1);
	tok[size - 1] = '\0';
	enum hg_key k = (enum hg_key)(data[0] % HG_KEY_MAX);
	uint32_t lo = 0, hi = 0;
	int r = hg_value_parse(k, tok, &lo, &hi, &e);

	if (r == 0 && (k == HG_KEY_TCP || k == HG_KEY_UDP) && (lo < 1 || hi > 65535 || lo > hi))
		abort();
	if (r == 0 && k == HG_KEY_IFACES) {
		struct hg_ifrange ir;
		char back[IFNAMSIZ_ + 2];
		/* every accepted pattern encodes, and decodes to itself */
		if (hg_ifname_interval(tok, &ir) < 0 || hg_ifrange_pattern(&ir, back) < 0 ||
		    strcmp(back, tok) != 0)
			abort();
	}
	if (r < 0 && e.message[0] == '\0')
		abort();
	return 0;
}
