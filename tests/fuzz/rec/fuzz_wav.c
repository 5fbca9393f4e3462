/* libFuzzer target for the strict WAV header reader (mg_rec_wav_read_header) and the
 * streaming-header fix (mg_rec_wav_fix_header). The input is a whole file. Checked on every
 * input, besides ASan/UBSan:
 *  - an accepted header describes bytes inside the file: data_offset + data_bytes <= size,
 *    frames * block_align == data_bytes, the format fields in their documented ranges;
 *  - fewer bytes given (a prefix of the buffer, same file length) either ask for more or give
 *    the same answer: the reader never decides on bytes it was not given;
 *  - a header mg_rec_wav_fix_header patched reads back as a non-streaming WAV whose data is
 *    the rest of the file (when that is whole frames). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"

static void check_info(const struct mg_rec_wav_info *i, size_t size)
{
	if (i->data_offset < 20 || i->data_offset > size || i->data_bytes > size - i->data_offset ||
	    i->frames * i->block_align != i->data_bytes || i->channels < 1 ||
	    i->channels > MG_REC_WAV_MAX_CHANNELS || i->sample_rate < 1 ||
	    i->sample_rate > MG_REC_WAV_MAX_RATE ||
	    (i->format != MG_REC_WAV_FORMAT_PCM && i->format != MG_REC_WAV_FORMAT_ALAW &&
	     i->format != MG_REC_WAV_FORMAT_MULAW))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_rec_wav_info full, part;
	int rc = mg_rec_wav_read_header(data, size, size, &full);
	if (!mg_rec_wav_strerror(rc))
		abort();
	if (rc == MG_REC_WAV_OK)
		check_info(&full, size);
	/* The same file, only a prefix of it in memory. */
	size_t len = size ? data[0] % (size + 1) : 0;
	int prc = mg_rec_wav_read_header(data, len, size, &part);
	if (prc != MG_REC_WAV_ERR_SHORT_BUFFER &&
	    (prc != rc || (rc == MG_REC_WAV_OK && memcmp(&part, &full, sizeof(full)) != 0)))
		abort();
	/* Fix a copy's header as mediagate-rec get does, then read it again. */
	if (size >= MG_REC_WAV_HEADER_LEN && size <= 1 << 20) {
		uint8_t *copy = malloc(size);
		if (!copy)
			return 0;
		memcpy(copy, data, size);
		if (mg_rec_wav_fix_header(copy, size, size) == 1 &&
		    (size - MG_REC_WAV_HEADER_LEN) % 4 == 0) {
			rc = mg_rec_wav_read_header(copy, size, size, &full);
			if (rc != MG_REC_WAV_OK || full.streaming ||
			    full.data_offset != MG_REC_WAV_HEADER_LEN ||
			    full.data_bytes != size - MG_REC_WAV_HEADER_LEN)
				abort();
		}
		free(copy);
	}
	return 0;
}
