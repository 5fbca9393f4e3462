/* libFuzzer target: the data path's DTLS record header parser. A datagram that passes must be
 * exactly covered by its records; record_parse never points outside the buffer. */
#include <stdint.h>
#include <stdlib.h>

#include "dtls.h"

static void must(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_dtls_datagram_info info;
	enum mg_dtls_rec_status st = mg_dtls_datagram_check(data, size, &info);
	must((unsigned)st < MG_DTLS_REC_STATUS_COUNT);
	size_t off = 0;
	unsigned n = 0;
	while (off < size) {
		struct mg_dtls_record rec;
		enum mg_dtls_rec_status s = mg_dtls_record_parse(data + off, size - off, &rec);
		if (s != MG_DTLS_REC_OK) {
			must(rec.fragment == NULL);
			break;
		}
		must(rec.fragment == data + off + MG_DTLS_RECORD_HEADER_LEN);
		must(off + MG_DTLS_RECORD_HEADER_LEN + rec.length <= size);
		must(rec.hs_type == -1 || (rec.epoch == 0 && rec.content_type == 22));
		off += MG_DTLS_RECORD_HEADER_LEN + rec.length;
		n++;
	}
	if (st == MG_DTLS_REC_OK)
		must(off == size && n == info.n_records && n <= MG_DTLS_MAX_RECORDS);
	return 0;
}
