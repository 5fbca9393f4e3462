/* Bencode decoding, encoding and round trips, with malformed inputs. */
#include "bencode.h"

#include <stdlib.h>
#include <string.h>

#include "../check.h"

static struct mg_bencode_node nodes[256];

static int decode(struct mg_bencode_doc *d, const char *s)
{
	d->nodes = nodes;
	d->capacity = 256;
	return mg_bencode_decode(d, s, strlen(s));
}

static void test_decode(void)
{
	struct mg_bencode_doc d;
	const char *msg = "d7:command5:offer7:call-id3:c-15:flagsl13:trust-address9:symmetrice"
			  "5:portsli30000ei-7ee3:sdp0:e";
	CHECK_EQ_INT(decode(&d, msg), 0);
	const struct mg_bencode_node *root = &d.nodes[0];
	CHECK_EQ_INT(root->type, MG_BEN_DICT);
	CHECK(mg_bencode_str_eq(mg_bencode_dict_get(&d, root, "command"), "offer"));
	char buf[16];
	CHECK(mg_bencode_str_copy(mg_bencode_dict_get(&d, root, "call-id"), buf, sizeof(buf)));
	CHECK(strcmp(buf, "c-1") == 0);
	CHECK(!mg_bencode_str_copy(mg_bencode_dict_get(&d, root, "call-id"), buf, 3));
	const struct mg_bencode_node *flags = mg_bencode_dict_get(&d, root, "flags");
	CHECK(flags && flags->type == MG_BEN_LIST);
	const struct mg_bencode_node *f = mg_bencode_child(&d, flags);
	CHECK(mg_bencode_str_eq(f, "trust-address"));
	f = mg_bencode_next(&d, f);
	CHECK(mg_bencode_str_eq(f, "symmetric"));
	CHECK(mg_bencode_next(&d, f) == NULL);
	const struct mg_bencode_node *ports = mg_bencode_dict_get(&d, root, "ports");
	CHECK_EQ_INT(mg_bencode_child(&d, ports)->num, 30000);
	CHECK_EQ_INT(mg_bencode_next(&d, mg_bencode_child(&d, ports))->num, -7);
	const struct mg_bencode_node *sdp = mg_bencode_dict_get(&d, root, "sdp");
	CHECK(sdp && sdp->type == MG_BEN_STR && sdp->str_len == 0);
	CHECK(mg_bencode_dict_get(&d, root, "missing") == NULL);
	/* strings may hold any byte, NUL included */
	static const char bin[] = "5:a\0b\0c";
	d.nodes = nodes;
	d.capacity = 256;
	CHECK_EQ_INT(mg_bencode_decode(&d, bin, 7), 0);
	CHECK_EQ_INT(d.nodes[0].str_len, 5);
}

static void test_malformed(void)
{
	static const char *bad[] = {
	    "",
	    "i",
	    "ie",
	    "i-0e",
	    "i03e",
	    "i12",
	    "i1x2e",
	    "3:ab",
	    "-1:a",
	    "01:a",
	    "l",
	    "d",
	    "di1ei2ee",
	    "d3:keye",
	    "x",
	    "i1ei2e",
	    "l1:ae1:b",
	    "i99999999999999999999e",
	    "99999999999999999999:a",
	    "d3:abc",
	    "le5",
	    ":",
	    "4:",
	};
	struct mg_bencode_doc d;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = decode(&d, bad[i]);
		CHECK_EQ_INT(r, -1);
		CHECK(d.error[0] != '\0');
	}
	/* depth limit */
	char deep[200];
	memset(deep, 'l', 100);
	memset(deep + 100, 'e', 100);
	d.nodes = nodes;
	d.capacity = 256;
	CHECK_EQ_INT(mg_bencode_decode(&d, deep, 200), -1);
	/* element limit */
	char many[2000];
	size_t n = 0;
	many[n++] = 'l';
	for (int i = 0; i < 300; i++)
		many[n++] = 'i', many[n++] = '1', many[n++] = 'e';
	many[n++] = 'e';
	d.nodes = nodes;
	d.capacity = 256;
	CHECK_EQ_INT(mg_bencode_decode(&d, many, n), -1);
	CHECK(strstr(d.error, "too many") != NULL);
	/* every prefix of a valid message fails cleanly, random bytes never crash */
	const char *msg = "d7:command4:ping5:flagsl1:ae1:xi42ee";
	for (size_t l = 0; l < strlen(msg); l++) {
		d.nodes = nodes;
		d.capacity = 256;
		CHECK_EQ_INT(mg_bencode_decode(&d, msg, l), -1);
	}
	srand(5);
	char r[64];
	const char alphabet[] = "dlie0123456789:-ab";
	for (int i = 0; i < 200000; i++) {
		size_t l = (size_t)(rand() % 64);
		for (size_t k = 0; k < l; k++)
			r[k] = alphabet[rand() % (sizeof(alphabet) - 1)];
		d.nodes = nodes;
		d.capacity = 256;
		(void)mg_bencode_decode(&d, r, l);
	}
}

static void test_encode(void)
{
	char buf[256];
	struct mg_bencode_out o;
	mg_bencode_out_init(&o, buf, sizeof(buf));
	mg_ben_dict_begin(&o);
	mg_ben_kv_str(&o, "result", "ok");
	mg_ben_kv_int(&o, "created", 1700000000);
	mg_ben_str(&o, "list");
	mg_ben_list_begin(&o);
	mg_ben_int(&o, -5);
	mg_ben_strn(&o, "x\0y", 3);
	mg_ben_end(&o);
	mg_ben_end(&o);
	CHECK(mg_bencode_out_ok(&o));
	static const char want[] = "d6:result2:ok7:createdi1700000000e4:listli-5e3:x\0yee";
	CHECK_EQ_INT(o.len, sizeof(want) - 1);
	CHECK(memcmp(buf, want, o.len) == 0);
	/* round trip */
	struct mg_bencode_doc d = {.nodes = nodes, .capacity = 256};
	CHECK_EQ_INT(mg_bencode_decode(&d, buf, o.len), 0);
	CHECK_EQ_INT(mg_bencode_dict_get(&d, &d.nodes[0], "created")->num, 1700000000);
	/* overflow is sticky and reported */
	mg_bencode_out_init(&o, buf, 8);
	mg_ben_kv_str(&o, "result", "ok");
	CHECK(!mg_bencode_out_ok(&o));
	mg_ben_int(&o, 1);
	CHECK(o.len <= 8);
}

int main(void)
{
	test_decode();
	test_malformed();
	test_encode();
	return CHECK_DONE();
}
