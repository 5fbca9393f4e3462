#include "g711.h"

#include "g711_tables.inc"

void mg_g711_ulaw_encode_burst(uint8_t *restrict dst, const int16_t *restrict src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = mg_g711_ulaw_encode_fast(src[i]);
}

void mg_g711_alaw_encode_burst(uint8_t *restrict dst, const int16_t *restrict src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = mg_g711_alaw_encode_fast(src[i]);
}

void mg_g711_ulaw_decode_burst(int16_t *restrict dst, const uint8_t *restrict src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = mg_g711_ulaw_dec[src[i]];
}

void mg_g711_alaw_decode_burst(int16_t *restrict dst, const uint8_t *restrict src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = mg_g711_alaw_dec[src[i]];
}

void mg_g711_encode_burst(enum mg_g711_law law, uint8_t *dst, const int16_t *src, size_t n)
{
	if (law == MG_G711_ALAW)
		mg_g711_alaw_encode_burst(dst, src, n);
	else
		mg_g711_ulaw_encode_burst(dst, src, n);
}

void mg_g711_decode_burst(enum mg_g711_law law, int16_t *dst, const uint8_t *src, size_t n)
{
	if (law == MG_G711_ALAW)
		mg_g711_alaw_decode_burst(dst, src, n);
	else
		mg_g711_ulaw_decode_burst(dst, src, n);
}
