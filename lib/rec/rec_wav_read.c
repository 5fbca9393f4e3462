/* Strict reader of RIFF/WAVE headers (docs/recording-format.md, "Reading a WAV"): PCM 16-bit
 * and G.711 (format 6 A-law, 7 mu-law); fmt before data, other chunks skipped; every length
 * checked against the bytes given and the file length; one error per reason. */
#include <string.h>

#include "rec.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

const char *mg_rec_wav_strerror(int status)
{
	switch (status) {
	case MG_REC_WAV_OK:
		return "ok";
	case MG_REC_WAV_ERR_ARG:
		return "invalid argument";
	case MG_REC_WAV_ERR_SHORT_BUFFER:
		return "header continues past the bytes given (read more of the file)";
	case MG_REC_WAV_ERR_TRUNCATED:
		return "file ends inside the header";
	case MG_REC_WAV_ERR_NOT_WAVE:
		return "not a RIFF/WAVE file";
	case MG_REC_WAV_ERR_RIFF_SIZE:
		return "RIFF size does not match the file length";
	case MG_REC_WAV_ERR_CHUNK_SIZE:
		return "chunk runs past the end of the RIFF";
	case MG_REC_WAV_ERR_FMT_MISSING:
		return "data chunk before any fmt chunk";
	case MG_REC_WAV_ERR_FMT_DUPLICATE:
		return "more than one fmt chunk";
	case MG_REC_WAV_ERR_FMT_SIZE:
		return "fmt chunk length is not 16, or 18 + its extension size";
	case MG_REC_WAV_ERR_FORMAT:
		return "format is not PCM (1), A-law (6) or mu-law (7)";
	case MG_REC_WAV_ERR_FMT_FIELDS:
		return "fmt fields inconsistent (channels, rate, bits, block align, byte rate)";
	case MG_REC_WAV_ERR_FACT:
		return "fact chunk shorter than 4 bytes or repeated";
	case MG_REC_WAV_ERR_NO_DATA:
		return "no data chunk";
	case MG_REC_WAV_ERR_DATA_SIZE:
		return "data chunk runs past the end or is not a whole number of sample frames";
	default:
		return "unknown error";
	}
}

static int parse_fmt(const uint8_t *p, uint32_t size, struct mg_rec_wav_info *info)
{
	if (size < 16 || size == 17 || (size >= 18 && le16(p + 16) != size - 18))
		return MG_REC_WAV_ERR_FMT_SIZE;
	info->format = le16(p);
	info->channels = le16(p + 2);
	info->sample_rate = le32(p + 4);
	uint32_t byte_rate = le32(p + 8);
	info->block_align = le16(p + 12);
	info->bits_per_sample = le16(p + 14);
	unsigned want_bits;
	if (info->format == MG_REC_WAV_FORMAT_PCM)
		want_bits = 16;
	else if (info->format == MG_REC_WAV_FORMAT_ALAW || info->format == MG_REC_WAV_FORMAT_MULAW)
		want_bits = 8;
	else
		return MG_REC_WAV_ERR_FORMAT;
	if (info->bits_per_sample != want_bits || info->channels < 1 ||
	    info->channels > MG_REC_WAV_MAX_CHANNELS || info->sample_rate < 1 ||
	    info->sample_rate > MG_REC_WAV_MAX_RATE ||
	    info->block_align != info->channels * want_bits / 8 ||
	    byte_rate != info->sample_rate * info->block_align)
		return MG_REC_WAV_ERR_FMT_FIELDS;
	return MG_REC_WAV_OK;
}

int mg_rec_wav_read_header(const uint8_t *buf, size_t len, uint64_t file_len,
			   struct mg_rec_wav_info *info)
{
	if (!buf || !info || len > file_len)
		return MG_REC_WAV_ERR_ARG;
	memset(info, 0, sizeof(*info));
	if (file_len < 12)
		return MG_REC_WAV_ERR_TRUNCATED;
	if (len < 12)
		return MG_REC_WAV_ERR_SHORT_BUFFER;
	if (memcmp(buf, "RIFF", 4) != 0 || memcmp(buf + 8, "WAVE", 4) != 0)
		return MG_REC_WAV_ERR_NOT_WAVE;
	uint32_t riff_size = le32(buf + 4);
	/* 0xFFFFFFFF: the streaming placeholder (size unknown when the header was written). */
	bool riff_streaming = riff_size == UINT32_MAX;
	uint64_t riff_end = riff_streaming ? file_len : (uint64_t)riff_size + 8;
	if (!riff_streaming && (riff_size < 4 || riff_end != file_len))
		return MG_REC_WAV_ERR_RIFF_SIZE;
	bool have_fmt = false;
	uint64_t pos = 12;
	for (;;) {
		if (pos == riff_end)
			return MG_REC_WAV_ERR_NO_DATA;
		if (pos + 8 > riff_end)
			return MG_REC_WAV_ERR_TRUNCATED;
		if (pos + 8 > len)
			return MG_REC_WAV_ERR_SHORT_BUFFER;
		const uint8_t *chunk = buf + pos;
		uint32_t size = le32(chunk + 4);
		uint64_t body = pos + 8, end = body + size;
		if (memcmp(chunk, "data", 4) == 0) {
			if (!have_fmt)
				return MG_REC_WAV_ERR_FMT_MISSING;
			if (riff_streaming && size == UINT32_MAX) {
				info->streaming = true;
				end = riff_end;
			} else if (end > riff_end) {
				return MG_REC_WAV_ERR_DATA_SIZE;
			}
			info->data_offset = body;
			info->data_bytes = end - body;
			if (info->data_bytes % info->block_align)
				return MG_REC_WAV_ERR_DATA_SIZE;
			info->frames = info->data_bytes / info->block_align;
			/* Chunks after the data (LIST, id3) are not examined. */
			return MG_REC_WAV_OK;
		}
		if (end > riff_end)
			return riff_streaming ? MG_REC_WAV_ERR_TRUNCATED
					      : MG_REC_WAV_ERR_CHUNK_SIZE;
		if (memcmp(chunk, "fmt ", 4) == 0) {
			if (have_fmt)
				return MG_REC_WAV_ERR_FMT_DUPLICATE;
			if (end > len)
				return MG_REC_WAV_ERR_SHORT_BUFFER;
			int rc = parse_fmt(buf + body, size, info);
			if (rc != MG_REC_WAV_OK)
				return rc;
			have_fmt = true;
		} else if (memcmp(chunk, "fact", 4) == 0) {
			if (size < 4 || info->has_fact)
				return MG_REC_WAV_ERR_FACT;
			if (body + 4 > len)
				return MG_REC_WAV_ERR_SHORT_BUFFER;
			info->has_fact = true;
			info->fact_frames = le32(buf + body);
		}
		/* Odd-sized chunks are followed by one pad byte. */
		pos = end + (size & 1);
	}
}
