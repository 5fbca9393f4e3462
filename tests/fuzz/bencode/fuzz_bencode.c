/* libFuzzer: bencode decoding; whatever decodes is re-encoded and must decode to the
 * same shape again (the encoder and decoder agree). */
#include <stdlib.h>
#include <string.h>

#include "bencode.h"

static struct mg_bencode_node nodes[512], nodes2[512];

static void encode(const struct mg_bencode_doc *d, const struct mg_bencode_node *n,
		   struct mg_bencode_out *o)
{
	switch (n->type) {
	case MG_BEN_INT:
		mg_ben_int(o, n->num);
		break;
	case MG_BEN_STR:
		mg_ben_strn(o, n->str, n->str_len);
		break;
	default:
		n->type == MG_BEN_DICT ? mg_ben_dict_begin(o) : mg_ben_list_begin(o);
		for (const struct mg_bencode_node *c = mg_bencode_child(d, n); c;
		     c = mg_bencode_next(d, c)) {
			if (n->type == MG_BEN_DICT)
				mg_ben_strn(o, c->key, c->key_len);
			encode(d, c, o);
		}
		mg_ben_end(o);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	struct mg_bencode_doc d = {.nodes = nodes, .capacity = 512};
	if (mg_bencode_decode(&d, buf, size) == 0) {
		static char out[1 << 17];
		struct mg_bencode_out o;
		mg_bencode_out_init(&o, out, sizeof(out));
		encode(&d, &d.nodes[0], &o);
		if (mg_bencode_out_ok(&o)) {
			struct mg_bencode_doc d2 = {.nodes = nodes2, .capacity = 512};
			if (mg_bencode_decode(&d2, out, o.len) != 0 || d2.count != d.count)
				abort();
			/* a canonical input re-encodes to itself */
			if (o.len == size && memcmp(out, buf, size) != 0)
				abort();
		}
	}
	free(buf);
	return 0;
}
