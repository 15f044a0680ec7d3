/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A minimal assertion helper for the unit tests: every check prints a line,
 * the test ends with "N passed, N failed" and fails if any check did. */
#ifndef HG_CHECK_H
#define HG_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		if (cond) {                                                   \
			check_passed++;                                       \
		} else {                                                      \
			check_failed++;                                       \
			printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);  \
			printf(__VA_ARGS__);                                  \
			putchar('\n');                                        \
		}                                                             \
	} while (0)

#define CHECK_STR(a, b) CHECK(strcmp((a), (b)) == 0, "'%s' != '%s'", (a), (b))

/* A fixed pseudo-random sequence (xorshift32): the same cases every run. */
static inline unsigned check_rnd(unsigned *state, unsigned n)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state % n;
}

static inline int check_done(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
