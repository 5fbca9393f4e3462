/* G.711 tests: lib/g711 against
 *  - an independent, plain transcription of the ITU-T G.191 reference loops
 *    (alaw_compress/alaw_expand, ulaw_compress/ulaw_expand, as described in the STL
 *    manual), written here statement by statement, not shared with the library;
 *  - published values of G.711 Tables 1a/2a (decoder output values);
 *  - spandsp's G.711 (Debian libspandsp2, loaded with dlopen when present);
 *  - Python's audioop, by test_g711_audioop.py through `test_g711 --dump`.
 * All 256 codes and all 65536 linear inputs are checked. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "g711.h"

/* ---- independent G.191 reference (plain, per the STL description) ---- */

static short ref_alaw_compress(short lin)
{
	short ix, iexp;
	ix = lin < 0 ? (short)((~lin) >> 4) : (short)(lin >> 4); /* 0 <= ix < 2048 */
	if (ix > 15) {
		iexp = 1;
		while (ix > 16 + 15) {
			ix >>= 1;
			iexp++;
		}
		ix -= 16;
		ix += iexp << 4;
	}
	if (lin >= 0)
		ix |= 0x0080;
	return ix ^ 0x0055;
}

static short ref_alaw_expand(short log)
{
	short ix, mant, iexp;
	ix = log ^ 0x0055;
	ix &= 0x007F;
	iexp = ix >> 4;
	mant = ix & 0x000F;
	if (iexp > 0)
		mant = mant + 16;
	mant = (mant << 4) + 0x0008;
	if (iexp > 1)
		mant = mant << (iexp - 1);
	return log > 127 ? mant : -mant;
}

static short ref_ulaw_compress(short lin)
{
	short i, absno, segno, low_nibble, high_nibble, out;
	absno = lin < 0 ? (short)(((~lin) >> 2) + 33) : (short)((lin >> 2) + 33);
	if (absno > 0x1FFF)
		absno = 0x1FFF;
	i = absno >> 6;
	segno = 1;
	while (i != 0) {
		segno++;
		i >>= 1;
	}
	high_nibble = 0x0008 - segno;
	low_nibble = (absno >> segno) & 0x000F;
	low_nibble = 0x000F - low_nibble;
	out = (high_nibble << 4) | low_nibble;
	if (lin >= 0)
		out = out | 0x0080;
	return out;
}

static short ref_ulaw_expand(short log)
{
	short segment, mantissa, exponent, sign, step;
	sign = log < 0x0080 ? -1 : 1;
	mantissa = ~log;
	exponent = (mantissa >> 4) & 0x0007;
	segment = exponent + 1;
	mantissa = mantissa & 0x000F;
	step = 4 << segment;
	return sign * ((0x0080 << exponent) + step * mantissa + step / 2 - 4 * 33);
}

/* ---- spandsp (independent implementation, optional) ---- */

typedef void *(*sp_init_fn)(void *, int);
typedef int (*sp_enc_fn)(void *, uint8_t *, const int16_t *, int);
typedef int (*sp_dec_fn)(void *, int16_t *, const uint8_t *, int);
enum { SP_G711_ALAW = 0, SP_G711_ULAW = 1 };

static void check_spandsp(void)
{
	void *h = dlopen("libspandsp.so.2", RTLD_NOW);
	if (!h) {
		printf("spandsp: libspandsp.so.2 not present, cross-check skipped\n");
		return;
	}
	sp_init_fn init = (sp_init_fn)dlsym(h, "g711_init");
	sp_enc_fn enc = (sp_enc_fn)dlsym(h, "g711_encode");
	sp_dec_fn dec = (sp_dec_fn)dlsym(h, "g711_decode");
	CHECK(init && enc && dec);
	if (!init || !enc || !dec)
		return;
	static int16_t lin[65536], out16[256];
	static uint8_t codes[256], sp[65536];
	for (int i = 0; i < 65536; i++)
		lin[i] = (int16_t)(i - 32768);
	for (int i = 0; i < 256; i++)
		codes[i] = (uint8_t)i;
	for (int law = 0; law < 2; law++) {
		void *st = init(NULL, law == 0 ? SP_G711_ULAW : SP_G711_ALAW);
		CHECK(st != NULL);
		if (!st)
			continue;
		enum mg_g711_law l = law == 0 ? MG_G711_ULAW : MG_G711_ALAW;
		int dec_diff = 0, enc_diff = 0, fold = 0, unexplained = 0;
		dec(st, out16, codes, 256);
		for (int c = 0; c < 256; c++)
			dec_diff += out16[c] != mg_g711_decode(l, (uint8_t)c);
		enc(st, sp, lin, 65536);
		for (int i = 0; i < 65536; i++) {
			if (sp[i] == mg_g711_encode(l, lin[i]))
				continue;
			/* spandsp's mu-law encoder folds x < 0 with -x (like Sun's g711.c),
			 * G.191 with ~x = -x - 1: then spandsp(x) == G.191(x - 4). */
			if (law == 0 && lin[i] < 0 && i >= 4 &&
			    sp[i] == mg_g711_encode(l, lin[i - 4]))
				fold++;
			else
				unexplained++;
		}
		enc_diff = fold + unexplained;
		printf("spandsp %s: %d/256 decode and %d/65536 encode differences (%d explained by "
		       "the -x vs ~x fold of negative inputs, %d unexplained)\n",
		       law == 0 ? "mu-law" : "A-law", dec_diff, enc_diff, fold, unexplained);
		CHECK_EQ_INT(dec_diff, 0);
		CHECK_EQ_INT(unexplained, 0);
		free(st); /* g711_init(NULL, ...) allocates with malloc */
	}
	dlclose(h);
}

/* `test_g711 --dump`: writes the library's mu-law decode[256], A-law decode[256] (int16 LE),
 * mu-law encode[65536], A-law encode[65536] (inputs -32768..32767) to stdout. */
static int dump(void)
{
	int16_t d[512];
	static uint8_t e[2][65536];
	for (int c = 0; c < 256; c++) {
		d[c] = mg_g711_ulaw_decode((uint8_t)c);
		d[256 + c] = mg_g711_alaw_decode((uint8_t)c);
	}
	for (int i = 0; i < 65536; i++) {
		e[0][i] = mg_g711_ulaw_encode((int16_t)(i - 32768));
		e[1][i] = mg_g711_alaw_encode((int16_t)(i - 32768));
	}
	return fwrite(d, sizeof(d), 1, stdout) != 1 || fwrite(e, sizeof(e), 1, stdout) != 1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--dump") == 0)
		return dump();

	/* 1. all 256 codes decode to the reference values */
	int diff = 0;
	for (int c = 0; c < 256; c++) {
		diff += mg_g711_ulaw_decode((uint8_t)c) != ref_ulaw_expand((short)c);
		diff += mg_g711_alaw_decode((uint8_t)c) != ref_alaw_expand((short)c);
	}
	printf("decode: 2 x 256 codes against the G.191 expansion: %d differences\n", diff);
	CHECK_EQ_INT(diff, 0);

	/* 2. all 65536 linear inputs encode like the reference; bursts agree with singles */
	static int16_t lin[65536];
	static uint8_t bu[65536], ba[65536];
	for (int i = 0; i < 65536; i++)
		lin[i] = (int16_t)(i - 32768);
	mg_g711_ulaw_encode_burst(bu, lin, 65536);
	mg_g711_encode_burst(MG_G711_ALAW, ba, lin, 65536);
	int du = 0, da = 0, db = 0, dt = 0;
	for (int i = 0; i < 65536; i++) {
		du += mg_g711_ulaw_encode(lin[i]) != (uint8_t)ref_ulaw_compress(lin[i]);
		da += mg_g711_alaw_encode(lin[i]) != (uint8_t)ref_alaw_compress(lin[i]);
		dt += mg_g711_ulaw_encode_tab(lin[i]) != (uint8_t)ref_ulaw_compress(lin[i]);
		dt += mg_g711_ulaw_encode_fast(lin[i]) != (uint8_t)ref_ulaw_compress(lin[i]);
		dt += mg_g711_alaw_encode_fast(lin[i]) != (uint8_t)ref_alaw_compress(lin[i]);
		dt += mg_g711_alaw_encode_tab(lin[i]) != (uint8_t)ref_alaw_compress(lin[i]);
		db += bu[i] != (uint8_t)ref_ulaw_compress(lin[i]);
		db += ba[i] != (uint8_t)ref_alaw_compress(lin[i]);
	}
	printf("encode: 65536 inputs against the G.191 compression: mu-law %d, A-law %d, "
	       "table lookups %d, bursts %d differences\n",
	       du, da, dt, db);
	CHECK_EQ_INT(dt, 0);
	CHECK_EQ_INT(du, 0);
	CHECK_EQ_INT(da, 0);
	CHECK_EQ_INT(db, 0);

	/* decode bursts */
	uint8_t codes[256];
	int16_t out[256];
	for (int c = 0; c < 256; c++)
		codes[c] = (uint8_t)c;
	for (int law = 0; law < 2; law++) {
		mg_g711_decode_burst((enum mg_g711_law)law, out, codes, 256);
		int d = 0;
		for (int c = 0; c < 256; c++)
			d +=
			    out[c] != (law ? ref_alaw_expand((short)c) : ref_ulaw_expand((short)c));
		CHECK_EQ_INT(d, 0);
	}

	/* 3. encode(decode(c)) == c, except mu-law 0x7F (negative zero -> 0 -> 0xFF) */
	int rt_u = 0, rt_a = 0;
	for (int c = 0; c < 256; c++) {
		uint8_t u = mg_g711_ulaw_encode(mg_g711_ulaw_decode((uint8_t)c));
		uint8_t a = mg_g711_alaw_encode(mg_g711_alaw_decode((uint8_t)c));
		if (u != c) {
			rt_u++;
			printf("round trip: mu-law 0x%02X -> %d -> 0x%02X\n", c,
			       mg_g711_ulaw_decode((uint8_t)c), u);
			CHECK(c == 0x7F && u == 0xFF);
		}
		rt_a += a != c;
	}
	printf("round trip encode(decode(c)): mu-law %d exception(s), A-law %d\n", rt_u, rt_a);
	CHECK_EQ_INT(rt_u, 1);
	CHECK_EQ_INT(rt_a, 0);

	/* 4. published values (G.711 Tables 1a/2a decoder outputs, scaled to 16 bits:
	 * A-law x8 (13-bit), mu-law x4 (14-bit)) */
	CHECK_EQ_INT(mg_g711_ulaw_decode(0xFF), 0);
	CHECK_EQ_INT(mg_g711_ulaw_decode(0x7F), 0);
	CHECK_EQ_INT(mg_g711_ulaw_decode(0xFE), 2 * 4);	   /* segment 1, step 2 */
	CHECK_EQ_INT(mg_g711_ulaw_decode(0xF0), 30 * 4);   /* last value of segment 1 */
	CHECK_EQ_INT(mg_g711_ulaw_decode(0xEF), 33 * 4);   /* first value of segment 2 */
	CHECK_EQ_INT(mg_g711_ulaw_decode(0x80), 8031 * 4); /* = 32124 */
	CHECK_EQ_INT(mg_g711_ulaw_decode(0x00), -8031 * 4);
	CHECK_EQ_INT(mg_g711_alaw_decode(0xD5), 1 * 8); /* = 8 */
	CHECK_EQ_INT(mg_g711_alaw_decode(0x55), -1 * 8);
	CHECK_EQ_INT(mg_g711_alaw_decode(0xD4), 3 * 8);
	CHECK_EQ_INT(mg_g711_alaw_decode(0xAA), 4032 * 8); /* = 32256 */
	CHECK_EQ_INT(mg_g711_alaw_decode(0x2A), -4032 * 8);
	CHECK_EQ_INT(mg_g711_ulaw_encode(0), 0xFF);
	CHECK_EQ_INT(mg_g711_ulaw_encode(-1), 0x7F);
	CHECK_EQ_INT(mg_g711_ulaw_encode(32767), 0x80);
	CHECK_EQ_INT(mg_g711_ulaw_encode(-32768), 0x00);
	CHECK_EQ_INT(mg_g711_alaw_encode(0), 0xD5);
	CHECK_EQ_INT(mg_g711_alaw_encode(-1), 0x55);
	CHECK_EQ_INT(mg_g711_alaw_encode(32767), 0xAA);
	CHECK_EQ_INT(mg_g711_alaw_encode(-32768), 0x2A);
	CHECK_EQ_INT(mg_g711_silence(MG_G711_ULAW), 0xFF);
	CHECK_EQ_INT(mg_g711_silence(MG_G711_ALAW), 0xD5);

	/* monotonic: larger input never gives a smaller decoded value */
	int mono = 0;
	for (int i = 1; i < 65536; i++) {
		mono += mg_g711_ulaw_decode(mg_g711_ulaw_encode(lin[i])) <
			mg_g711_ulaw_decode(mg_g711_ulaw_encode(lin[i - 1]));
		mono += mg_g711_alaw_decode(mg_g711_alaw_encode(lin[i])) <
			mg_g711_alaw_decode(mg_g711_alaw_encode(lin[i - 1]));
	}
	CHECK_EQ_INT(mono, 0);

	/* 5. an independent implementation shipped by Debian */
	check_spandsp();

	return CHECK_DONE();
}
