/* G.711 mu-law and A-law, bit-exact with the ITU-T G.191 reference implementation
 * (g711.c of the Software Tool Library: ulaw_compress/ulaw_expand, alaw_compress/
 * alaw_expand).
 *
 * Linear samples are 16-bit two's complement, "left justified" as in G.191: mu-law uses
 * the top 14 bits (the two low bits are ignored on encode and zero on decode), A-law the
 * top 13 bits (its first segment has a step of 16 in this scale, so encode looks at the
 * top 12 bits). Decoded values: mu-law -32124..32124, A-law -32256..32256.
 *
 * Negative inputs are folded with the one's complement (~x), as G.191 does, so x and
 * -x - 1 always get the same magnitude code. Implementations that fold with -x (Sun's
 * g711.c, Python's audioop.lin2ulaw) differ from G.191 for some negative mu-law inputs;
 * see docs/mixing.md.
 *
 * Round trip: decode(encode(decode(c))) == decode(c) for every code, and
 * encode(decode(c)) == c for every code except mu-law 0x7F ("negative zero", which decodes
 * to 0 and 0 encodes to 0xFF).
 *
 * Single-sample functions are inline (decode: one table load; encode: either a branch-free
 * segment search with one count-leading-zeros, or one load from a 16 KiB / 4 KiB table,
 * about 3x faster than the scalar computation while the table is cached; the computed one
 * wins where it vectorises, see MG_G711_ENCODE_COMPUTED). Burst functions work on arrays,
 * e.g. 160 samples = 20 ms at 8 kHz. All functions are pure: no state, no
 * allocation. */
#ifndef MG_G711_H
#define MG_G711_H

#include <stddef.h>
#include <stdint.h>

enum mg_g711_law {
	MG_G711_ULAW = 0, /* PCMU, RTP static payload type 0 */
	MG_G711_ALAW = 1, /* PCMA, RTP static payload type 8 */
};

/* Decode tables (G.191 expansion of all 256 codes). */
extern const int16_t mg_g711_ulaw_dec[256];
extern const int16_t mg_g711_alaw_dec[256];

/* Encode tables, indexed by the bits G.711 looks at: mu-law (x >> 2) + 8192 (16 KiB),
 * A-law (x >> 4) + 2048 (4 KiB). Used by the burst encoders and the *_encode_tab
 * functions; the *_encode functions compute the same codes without memory. */
extern const uint8_t mg_g711_ulaw_enc[16384];
extern const uint8_t mg_g711_alaw_enc[4096];

static inline uint8_t mg_g711_ulaw_encode_tab(int16_t x)
{
	return mg_g711_ulaw_enc[(x >> 2) + 8192];
}

static inline uint8_t mg_g711_alaw_encode_tab(int16_t x)
{
	return mg_g711_alaw_enc[(x >> 4) + 2048];
}

/* The encoder used by the bursts (and by lib/mix): the computed one where the compiler
 * vectorises count-leading-zeros (AVX-512CD + VL: vplzcntd), the tables otherwise. Both
 * give identical codes. */
#if defined(__AVX512CD__) && defined(__AVX512VL__)
#define MG_G711_ENCODE_COMPUTED 1
#else
#define MG_G711_ENCODE_COMPUTED 0
#endif

static inline int16_t mg_g711_ulaw_decode(uint8_t code)
{
	return mg_g711_ulaw_dec[code];
}

static inline int16_t mg_g711_alaw_decode(uint8_t code)
{
	return mg_g711_alaw_dec[code];
}

static inline uint8_t mg_g711_ulaw_encode(int16_t x)
{
	int32_t s = x >> 15;		 /* 0 for x >= 0, -1 for x < 0 */
	int32_t a = ((x ^ s) >> 2) + 33; /* one's-complement magnitude, 14-bit, biased */
	a = a > 0x1FFF ? 0x1FFF : a;	 /* 33..8191 */
	int32_t seg = 32 - __builtin_clz((uint32_t)a >> 5); /* G.191 "segno", 1..8 */
	int32_t m = (a >> seg) & 0xF;
	int32_t code = 0x7F ^ (((seg - 1) << 4) | m);
	return (uint8_t)(code | (~s & 0x80));
}

static inline uint8_t mg_g711_alaw_encode(int16_t x)
{
	int32_t s = x >> 15;
	int32_t ix = (x ^ s) >> 4;			  /* one's-complement magnitude, 0..2047 */
	int32_t e = 28 - __builtin_clz((uint32_t)ix | 1); /* bit length - 4 */
	e = e < 0 ? 0 : e;				  /* exponent 0..7 */
	int32_t sh = e > 0 ? e - 1 : 0;
	int32_t code = (e << 4) | ((ix >> sh) & 0xF);
	return (uint8_t)((code | (~s & 0x80)) ^ 0x55);
}

static inline uint8_t mg_g711_ulaw_encode_fast(int16_t x)
{
	return MG_G711_ENCODE_COMPUTED ? mg_g711_ulaw_encode(x) : mg_g711_ulaw_encode_tab(x);
}

static inline uint8_t mg_g711_alaw_encode_fast(int16_t x)
{
	return MG_G711_ENCODE_COMPUTED ? mg_g711_alaw_encode(x) : mg_g711_alaw_encode_tab(x);
}

static inline int16_t mg_g711_decode(enum mg_g711_law law, uint8_t code)
{
	return law == MG_G711_ALAW ? mg_g711_alaw_decode(code) : mg_g711_ulaw_decode(code);
}

static inline uint8_t mg_g711_encode(enum mg_g711_law law, int16_t x)
{
	return law == MG_G711_ALAW ? mg_g711_alaw_encode(x) : mg_g711_ulaw_encode(x);
}

/* Bursts: n samples; src and dst must not overlap. */
void mg_g711_ulaw_encode_burst(uint8_t *dst, const int16_t *src, size_t n);
void mg_g711_alaw_encode_burst(uint8_t *dst, const int16_t *src, size_t n);
void mg_g711_ulaw_decode_burst(int16_t *dst, const uint8_t *src, size_t n);
void mg_g711_alaw_decode_burst(int16_t *dst, const uint8_t *src, size_t n);
void mg_g711_encode_burst(enum mg_g711_law law, uint8_t *dst, const int16_t *src, size_t n);
void mg_g711_decode_burst(enum mg_g711_law law, int16_t *dst, const uint8_t *src, size_t n);

/* The code of digital silence (what decodes to 0 and 0 encodes to): 0xFF / 0xD5. */
static inline uint8_t mg_g711_silence(enum mg_g711_law law)
{
	return law == MG_G711_ALAW ? 0xD5 : 0xFF;
}

#endif
