/* Malformed and hostile SDP: clear errors with line numbers, never a crash or an
 * out-of-bounds read (inputs are copied into exactly-sized heap buffers so ASan sees any
 * overread), and every accepted input serializes to text that parses again. */
#include "check.h"
#include "samples.h"

static struct mg_sdp sdp, again;

/* Parses len bytes from an exact-size heap copy. */
static enum mg_sdp_result parse_exact(struct mg_sdp *s, const char *data, size_t len)
{
	char *copy = malloc(len ? len : 1);
	if (len)
		memcpy(copy, data, len);
	enum mg_sdp_result r = mg_sdp_parse(s, copy, len);
	free(copy);
	return r;
}

static void expect_error(const char *text, size_t len, enum mg_sdp_result code, const char *reason)
{
	enum mg_sdp_result r = parse_exact(&sdp, text, len);
	CHECK(r == code && strstr(mg_sdp_error(&sdp), reason) != NULL,
	      "input %.40s...: got %s \"%s\", want %s \"%s\"", text, mg_sdp_result_str(r),
	      mg_sdp_error(&sdp), mg_sdp_result_str(code), reason);
	CHECK(mg_sdp_media_count(&sdp) == 0 && mg_sdp_serialized_len(&sdp) == 0,
	      "failed parse leaves an empty SDP");
}

#define HEAD "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nt=0 0\n"

static void test_errors(void)
{
	printf("malformed inputs give a code and a line-numbered reason\n");
#define E(text, code, reason) expect_error(text, sizeof(text) - 1, code, reason)
	E("", MG_SDP_ERR_SYNTAX, "empty SDP");
	E("\n\n", MG_SDP_ERR_SYNTAX, "empty SDP");
	E("o=- 1 1 IN IP4 1.2.3.4\ns=-\n", MG_SDP_ERR_SYNTAX, "line 1: SDP must start with v=");
	E("v=1\n", MG_SDP_ERR_SYNTAX, "line 1: unsupported SDP version");
	E("v=0\ns=-\n", MG_SDP_ERR_SYNTAX, "missing o= line");
	E("v=0\no=- 1 1 IN IP4 1.2.3.4\n", MG_SDP_ERR_SYNTAX, "missing s= line");
	E("v=0\nv=0\n", MG_SDP_ERR_SYNTAX, "line 2: second v= line");
	E("v=0\no=- 1 1 IN IP4\n", MG_SDP_ERR_SYNTAX, "line 2: o= line needs 6 fields");
	E("v=0\no=- 1 1 IN IP4 1.2.3.4\no=- 1 1 IN IP4 1.2.3.4\n", MG_SDP_ERR_SYNTAX,
	  "line 3: second o= line");
	E(HEAD "m=audio\n", MG_SDP_ERR_SYNTAX, "line 5: m= line has no port");
	E(HEAD "m=audio 1000\n", MG_SDP_ERR_SYNTAX, "line 5: m= line has no proto");
	E(HEAD "m=\n", MG_SDP_ERR_SYNTAX, "line 5: m= line is empty");
	E(HEAD "m=audio 65536 RTP/AVP 0\n", MG_SDP_ERR_SYNTAX,
	  "line 5: m= port 65536 out of range");
	E(HEAD "m=audio 99999999999999999999999 RTP/AVP 0\n", MG_SDP_ERR_SYNTAX,
	  "m= port is not a number");
	E(HEAD "m=audio -1 RTP/AVP 0\n", MG_SDP_ERR_SYNTAX, "m= port is not a number");
	E(HEAD "m=audio 1000/0 RTP/AVP 0\n", MG_SDP_ERR_SYNTAX, "port count");
	E(HEAD "m=audio 1000/ RTP/AVP 0\n", MG_SDP_ERR_SYNTAX, "port count");
	E(HEAD "c=IN IP4\n", MG_SDP_ERR_SYNTAX, "line 5: c= line has no address");
	E(HEAD "c=XX IP4 1.2.3.4\n", MG_SDP_ERR_SYNTAX, "c= line network type is not IN");
	E(HEAD "c=IN IP4 /127\n", MG_SDP_ERR_SYNTAX, "c= line has an empty address");
	E(HEAD "m=audio 1 RTP/AVP 0\nc=\n", MG_SDP_ERR_SYNTAX, "line 6: c= line has no network");
	E(HEAD "a=\n", MG_SDP_ERR_SYNTAX, "line 5: a= line has no attribute name");
	E(HEAD "a=:x\n", MG_SDP_ERR_SYNTAX, "line 5: a= line has no attribute name");
	E(HEAD "garbage\n", MG_SDP_ERR_SYNTAX, "line 5: expected '<letter>='");
	E(HEAD "A=x\n", MG_SDP_ERR_SYNTAX, "line 5: expected '<letter>='");
	E(HEAD "=x\n", MG_SDP_ERR_SYNTAX, "line 5: expected");
	E(HEAD "a\n", MG_SDP_ERR_SYNTAX, "line 5: expected");
	E(HEAD "a=x\ry\n", MG_SDP_ERR_SYNTAX, "line 5: stray CR");
	E(HEAD "a=x\x01y\n", MG_SDP_ERR_SYNTAX, "line 5: control character 0x01");
	E(HEAD "a=x\x7f\n", MG_SDP_ERR_SYNTAX, "line 5: control character 0x7f");
	E("\xff\xfe\x00\x01garbage", MG_SDP_ERR_SYNTAX, "line 1:");
	/* NUL bytes inside an otherwise valid SDP (the input is length-delimited). */
	static const char with_nul[] = "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=a\0b\nt=0 0\n";
	expect_error(with_nul, sizeof(with_nul) - 1, MG_SDP_ERR_SYNTAX,
		     "line 3: control character 0x00");
	CHECK(sdp.error_line == 3, "error_line field");
	/* Tab and UTF-8 are allowed in free text. */
	static const char utf8[] = HEAD "i=caf\xc3\xa9\tbar\n";
	CHECK(parse_exact(&sdp, utf8, sizeof(utf8) - 1) == MG_SDP_OK, "UTF-8 and tab in i=: %s",
	      mg_sdp_error(&sdp));
#undef E
	CHECK(strcmp(mg_sdp_result_str(MG_SDP_ERR_TOO_LARGE), "SDP too large") == 0,
	      "result strings");
}

static void test_size_limits(void)
{
	printf("size, media and attribute limits\n");
	size_t big = MG_SDP_MAX_SIZE + 1;
	char *buf = malloc(big + 64);
	/* A single extremely long line, just within and just beyond the size limit. */
	size_t head = strlen(HEAD);
	memcpy(buf, HEAD "a=x:", head + 4);
	memset(buf + head + 4, 'A', big + 60 - head - 4);
	buf[MG_SDP_MAX_SIZE - 1] = '\n';
	CHECK(parse_exact(&sdp, buf, MG_SDP_MAX_SIZE) == MG_SDP_OK, "16 KiB line accepted: %s",
	      mg_sdp_error(&sdp));
	CHECK(mg_sdp_serialized_len(&sdp) == MG_SDP_MAX_SIZE + 5, "long line serialized");
	buf[MG_SDP_MAX_SIZE - 1] = 'A';
	expect_error(buf, big, MG_SDP_ERR_TOO_LARGE, "SDP is 16385 bytes, limit is 16384");
	free(buf);

	/* Media count: exactly the limit, then one more. */
	char *text = malloc(8192);
	strcpy(text, HEAD);
	for (int i = 0; i < MG_SDP_MAX_MEDIA; i++)
		strcat(text, "m=audio 1000 RTP/AVP 0\n");
	CHECK(parse_exact(&sdp, text, strlen(text)) == MG_SDP_OK &&
		  mg_sdp_media_count(&sdp) == MG_SDP_MAX_MEDIA,
	      "16 media accepted");
	strcat(text, "m=audio 1000 RTP/AVP 0\n");
	expect_error(text, strlen(text), MG_SDP_ERR_TOO_MANY_MEDIA, "line 21: more than 16 m=");

	/* Attributes per section. */
	strcpy(text, HEAD "m=audio 1000 RTP/AVP 0\n");
	for (int i = 0; i < MG_SDP_MAX_ATTRS; i++)
		strcat(text, "a=x\n");
	CHECK(parse_exact(&sdp, text, strlen(text)) == MG_SDP_OK,
	      "MG_SDP_MAX_ATTRS attributes accepted");
	strcat(text, "a=x\n");
	expect_error(text, strlen(text), MG_SDP_ERR_TOO_MANY_LINES,
		     "line 262: more than 256 a= lines");
	/* Other lines per section (b= repeated). */
	strcpy(text, "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\n");
	for (int i = 0; i < MG_SDP_MAX_OTHER_LINES; i++)
		strcat(text, "b=AS:1\n");
	expect_error(text, strlen(text), MG_SDP_ERR_TOO_MANY_LINES, "non-attribute lines");
	free(text);
}

/* Any accepted input must serialize and re-parse to the same text. */
static void check_reparse(const char *what, size_t variant)
{
	static char out[2 * MG_SDP_MAX_SIZE], out2[2 * MG_SDP_MAX_SIZE];
	size_t len = 0, len2 = 0;
	if (mg_sdp_serialize(&sdp, out, sizeof(out), &len) != MG_SDP_OK) {
		CHECK(0, "%s %zu: serialize failed", what, variant);
		return;
	}
	enum mg_sdp_result r = parse_exact(&again, out, len);
	if (r != MG_SDP_OK) {
		CHECK(0, "%s %zu: re-parse failed: %s", what, variant, mg_sdp_error(&again));
		return;
	}
	mg_sdp_serialize(&again, out2, sizeof(out2), &len2);
	CHECK(len == len2 && memcmp(out, out2, len) == 0, "%s %zu: stable", what, variant);
}

/* Runs every accessor so that partial/odd SDPs exercise them too. */
static void touch_accessors(const struct mg_sdp *s)
{
	struct mg_sdp_origin o;
	struct mg_sdp_connection c;
	struct mg_sdp_media_info mi;
	struct mg_sdp_rtcp rtcp;
	struct mg_sdp_str v;
	struct mg_sdp_rtpmap map;
	struct mg_sdp_candidate cand;
	struct mg_sdp_crypto cr;
	struct mg_sdp_fingerprint fp;
	enum mg_sdp_setup setup;
	unsigned u;
	mg_sdp_origin(s, &o);
	mg_sdp_session_connection(s, &c);
	mg_sdp_group(s, "BUNDLE", &v);
	for (unsigned m = 0; m < mg_sdp_media_count(s); m++) {
		mg_sdp_media_info(s, m, &mi);
		mg_sdp_media_effective_connection(s, m, &c);
		mg_sdp_media_rtcp(s, m, &rtcp);
		mg_sdp_media_direction(s, m);
		mg_sdp_media_setup(s, m, &setup);
		mg_sdp_media_fingerprint(s, m, &fp);
		mg_sdp_media_ptime(s, m, &u);
		mg_sdp_media_rtpmap(s, m, 0, &map);
		mg_sdp_media_fmtp(s, m, 101, &v);
		mg_sdp_media_mid(s, m, &v);
		unsigned cur = 0;
		while (mg_sdp_media_candidate_next(s, m, &cur, &cand))
			;
		cur = 0;
		while (mg_sdp_media_crypto_next(s, m, &cur, &cr))
			;
	}
}

static void test_prefixes(const char *name, const char *text)
{
	size_t len = strlen(text), accepted = 0;
	for (size_t i = 0; i <= len; i++) {
		if (parse_exact(&sdp, text, i) == MG_SDP_OK) {
			accepted++;
			touch_accessors(&sdp);
			check_reparse(name, i);
		} else {
			CHECK(mg_sdp_error(&sdp)[0] != '\0', "%s prefix %zu has a reason", name, i);
		}
	}
	printf("  %s: %zu prefixes, %zu accepted\n", name, len + 1, accepted);
	CHECK(accepted > 0, "the full %s is accepted", name);
}

/* Deterministic byte mutations of the samples (xorshift, no libc rand state). */
static void test_mutations(const char *name, const char *text)
{
	size_t len = strlen(text), accepted = 0;
	char *buf = malloc(len);
	uint64_t x = 0x9e3779b97f4a7c15ull ^ len;
	static const char interesting[] = {'\0', '\r', '\n', ' ', '/',	  ':', '=',
					   '9',	 'm',  'c',  'a', '\xff', '-', '\t'};
	for (size_t round = 0; round < 3000; round++) {
		memcpy(buf, text, len);
		for (int k = 0; k < 1 + (int)(round % 4); k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[x % len] = interesting[(x >> 32) % sizeof(interesting)];
		}
		if (parse_exact(&sdp, buf, len) == MG_SDP_OK) {
			accepted++;
			touch_accessors(&sdp);
			check_reparse(name, round);
		}
	}
	printf("  %s: 3000 mutations, %zu accepted\n", name, accepted);
	free(buf);
}

int main(void)
{
	test_errors();
	test_size_limits();
	printf("every prefix of every sample (truncated input)\n");
	test_prefixes("g711", sample_g711_offer);
	test_prefixes("chrome", sample_chrome_offer);
	test_prefixes("sdes", sample_sdes_offer);
	test_prefixes("multi", sample_multi);
	printf("byte mutations\n");
	test_mutations("g711", sample_g711_offer);
	test_mutations("chrome", sample_chrome_offer);
	test_mutations("sdes", sample_sdes_offer);
	test_mutations("multi", sample_multi);
	return check_summary("sdp-malformed");
}
