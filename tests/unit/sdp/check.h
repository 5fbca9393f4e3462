/* Minimal checking helpers shared by the SDP unit tests. */
#ifndef SDP_TEST_CHECK_H
#define SDP_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdp.h"

static unsigned checks_run, checks_failed;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		checks_run++;                                                                      \
		if (!(cond)) {                                                                     \
			checks_failed++;                                                           \
			printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                     \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
		}                                                                                  \
	} while (0)

static inline int check_summary(const char *name)
{
	printf("%s: %u checks, %u failed\n", name, checks_run, checks_failed);
	return checks_failed ? 1 : 0;
}

/* Converts LF line endings to CRLF (expected serializer output); caller frees. */
static inline char *to_crlf(const char *lf)
{
	size_t n = strlen(lf), lines = 0;
	for (size_t i = 0; i < n; i++)
		lines += lf[i] == '\n';
	char *out = malloc(n + lines + 1), *p = out;
	for (size_t i = 0; i < n; i++) {
		if (lf[i] == '\n' && (i == 0 || lf[i - 1] != '\r'))
			*p++ = '\r';
		*p++ = lf[i];
	}
	*p = '\0';
	return out;
}

static char serialized[2 * (MG_SDP_MAX_SIZE + MG_SDP_EDIT_SPACE)];

/* Serializes sdp into a static buffer and returns it (NUL-terminated). */
static inline const char *serialize(const struct mg_sdp *sdp)
{
	size_t len = 0;
	enum mg_sdp_result r = mg_sdp_serialize(sdp, serialized, sizeof(serialized), &len);
	if (r != MG_SDP_OK) {
		printf("FAIL serialize: %s\n", mg_sdp_result_str(r));
		checks_failed++;
		serialized[0] = '\0';
	}
	return serialized;
}

/* Whether the serialized SDP contains a complete line (given without CRLF). */
static inline int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)) != NULL; p++) {
		if ((p == text || p[-1] == '\n') && p[n] == '\r' && p[n + 1] == '\n')
			return 1;
	}
	return 0;
}

/* Compares serialized output with an expected LF text, printing both on mismatch. */
#define CHECK_SDP_TEXT(sdp, expected_lf, what)                                                     \
	do {                                                                                       \
		char *want_ = to_crlf(expected_lf);                                                \
		const char *got_ = serialize(sdp);                                                 \
		CHECK(strcmp(got_, want_) == 0, "%s\n--- got:\n%s--- want:\n%s", what, got_,       \
		      want_);                                                                      \
		free(want_);                                                                       \
	} while (0)

static inline struct mg_sdp *parse_ok(const char *text, const char *what)
{
	static struct mg_sdp sdp;
	enum mg_sdp_result r = mg_sdp_parse(&sdp, text, strlen(text));
	CHECK(r == MG_SDP_OK, "%s: parse failed: %s (%s)", what, mg_sdp_result_str(r),
	      mg_sdp_error(&sdp));
	return &sdp;
}

static inline int str_is(struct mg_sdp_str s, const char *want)
{
	return mg_sdp_str_eq(s, want);
}

#endif
