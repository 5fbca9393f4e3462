/* Test harness with a message per check: CHECK(cond, fmt, ...) prints the location and
 * the formatted message of every failing condition and counts it in `failures`. */
#ifndef MG_TEST_CHECK_MSG_H
#define MG_TEST_CHECK_MSG_H

#include <stdio.h>

static int failures;
#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			failures++;                                                                \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);                                \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
		}                                                                                  \
	} while (0)

#endif
