/* DTLS record header parser for the data path (no OpenSSL, no allocation). See dtls.h. */
#include "dtls.h"

static const char *const rec_names[MG_DTLS_REC_STATUS_COUNT] = {
    [MG_DTLS_REC_OK] = "ok",
    [MG_DTLS_REC_EMPTY] = "empty",
    [MG_DTLS_REC_TOO_SHORT] = "too_short",
    [MG_DTLS_REC_BAD_TYPE] = "bad_content_type",
    [MG_DTLS_REC_DTLS13] = "dtls13_unified_header",
    [MG_DTLS_REC_BAD_VERSION] = "bad_version",
    [MG_DTLS_REC_TRUNCATED] = "truncated",
    [MG_DTLS_REC_TOO_LONG] = "too_long",
    [MG_DTLS_REC_TOO_MANY] = "too_many_records",
    [MG_DTLS_REC_BAD_CONTENT] = "bad_epoch0_content",
};

static int valid_hs_type(uint8_t t)
{
	switch (t) {
	case 0:	 /* hello_request */
	case 1:	 /* client_hello */
	case 2:	 /* server_hello */
	case 3:	 /* hello_verify_request */
	case 4:	 /* new_session_ticket */
	case 11: /* certificate */
	case 12: /* server_key_exchange */
	case 13: /* certificate_request */
	case 14: /* server_hello_done */
	case 15: /* certificate_verify */
	case 16: /* client_key_exchange */
	case 20: /* finished */
	case 22: /* certificate_status */
		return 1;
	default:
		return 0;
	}
}

/* Epoch 0 is plaintext: its content can be checked. RFC 6347 4.2.2 handshake fragments
 * (type, length, message_seq, fragment_offset, fragment_length) must fill the record; an
 * alert is 2 bytes; change_cipher_spec is the single byte 1; there is no application data. */
static int epoch0_content_ok(uint8_t ct, const uint8_t *f, size_t len)
{
	switch (ct) {
	case MG_DTLS_CT_CHANGE_CIPHER_SPEC:
		return len == 1 && f[0] == 1;
	case MG_DTLS_CT_ALERT:
		return len == 2 && (f[0] == 1 || f[0] == 2);
	case MG_DTLS_CT_HANDSHAKE: {
		size_t off = 0;
		if (len == 0)
			return 0;
		while (off < len) {
			if (len - off < 12 || !valid_hs_type(f[off]))
				return 0;
			uint32_t msg_len =
			    (uint32_t)f[off + 1] << 16 | (uint32_t)f[off + 2] << 8 | f[off + 3];
			uint32_t frag_off =
			    (uint32_t)f[off + 6] << 16 | (uint32_t)f[off + 7] << 8 | f[off + 8];
			uint32_t frag_len =
			    (uint32_t)f[off + 9] << 16 | (uint32_t)f[off + 10] << 8 | f[off + 11];
			if ((uint64_t)frag_off + frag_len > msg_len || frag_len > len - off - 12)
				return 0;
			off += 12 + frag_len;
		}
		return 1;
	}
	default:
		return 0; /* application data before any key */
	}
}

const char *mg_dtls_rec_status_str(enum mg_dtls_rec_status status)
{
	if ((unsigned)status >= MG_DTLS_REC_STATUS_COUNT)
		return "invalid";
	return rec_names[status];
}

enum mg_dtls_rec_status mg_dtls_record_parse(const uint8_t *buf, size_t len,
					     struct mg_dtls_record *rec)
{
	rec->fragment = NULL;
	rec->hs_type = -1;
	if (!buf || len == 0)
		return MG_DTLS_REC_EMPTY;
	uint8_t ct = buf[0];
	if ((ct & 0xE0) == 0x20)
		return MG_DTLS_REC_DTLS13;
	if (ct < MG_DTLS_CT_CHANGE_CIPHER_SPEC || ct > MG_DTLS_CT_APPLICATION_DATA)
		return MG_DTLS_REC_BAD_TYPE;
	if (len < MG_DTLS_RECORD_HEADER_LEN)
		return MG_DTLS_REC_TOO_SHORT;
	uint16_t version = (uint16_t)(buf[1] << 8 | buf[2]);
	if (version != 0xFEFF && version != 0xFEFD)
		return MG_DTLS_REC_BAD_VERSION;
	uint16_t rlen = (uint16_t)(buf[11] << 8 | buf[12]);
	if (rlen > MG_DTLS_MAX_RECORD_LEN)
		return MG_DTLS_REC_TOO_LONG;
	if ((size_t)rlen > len - MG_DTLS_RECORD_HEADER_LEN)
		return MG_DTLS_REC_TRUNCATED;
	rec->content_type = ct;
	rec->version = version;
	rec->epoch = (uint16_t)(buf[3] << 8 | buf[4]);
	rec->seq = 0;
	for (int i = 5; i < 11; i++)
		rec->seq = rec->seq << 8 | buf[i];
	rec->length = rlen;
	rec->fragment = buf + MG_DTLS_RECORD_HEADER_LEN;
	if (rec->epoch == 0 && !epoch0_content_ok(ct, rec->fragment, rlen)) {
		rec->fragment = NULL;
		return MG_DTLS_REC_BAD_CONTENT;
	}
	if (ct == MG_DTLS_CT_HANDSHAKE && rec->epoch == 0 && rlen >= 1)
		rec->hs_type = rec->fragment[0];
	return MG_DTLS_REC_OK;
}

enum mg_dtls_rec_status mg_dtls_datagram_check(const uint8_t *buf, size_t len,
					       struct mg_dtls_datagram_info *info)
{
	struct mg_dtls_datagram_info tmp;
	if (!info)
		info = &tmp;
	*info = (struct mg_dtls_datagram_info){0};
	if (!buf || len == 0)
		return MG_DTLS_REC_EMPTY;
	size_t off = 0;
	while (off < len) {
		struct mg_dtls_record rec;
		enum mg_dtls_rec_status st = mg_dtls_record_parse(buf + off, len - off, &rec);
		if (st != MG_DTLS_REC_OK)
			return st;
		if (info->n_records == MG_DTLS_MAX_RECORDS)
			return MG_DTLS_REC_TOO_MANY;
		info->n_records++;
		if (rec.epoch > info->max_epoch)
			info->max_epoch = rec.epoch;
		switch (rec.content_type) {
		case MG_DTLS_CT_HANDSHAKE:
			info->has_handshake = 1;
			if (rec.hs_type == 1)
				info->has_client_hello = 1;
			break;
		case MG_DTLS_CT_APPLICATION_DATA:
			info->has_app_data = 1;
			break;
		case MG_DTLS_CT_ALERT:
			info->has_alert = 1;
			break;
		default:
			break;
		}
		off += MG_DTLS_RECORD_HEADER_LEN + rec.length;
	}
	return MG_DTLS_REC_OK;
}
