/* Bencode (BitTorrent encoding, as used by rtpengine's ng protocol): a decoder into a
 * bounded, caller-provided node array and a small encoder into a bounded buffer.
 *
 * Strings are views into the input (not NUL-terminated); nothing is allocated. */
#ifndef MG_BENCODE_H
#define MG_BENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mg_bencode_type { MG_BEN_INT = 1, MG_BEN_STR, MG_BEN_LIST, MG_BEN_DICT };

struct mg_bencode_node {
	uint8_t type;
	int32_t first_child;  /* index of the first element (list/dict) or -1 */
	int32_t next_sibling; /* index of the next element in the parent or -1 */
	int64_t num;	      /* MG_BEN_INT */
	const char *str;      /* MG_BEN_STR */
	size_t str_len;
	const char *key; /* the key when this node is a dictionary value */
	size_t key_len;
};

struct mg_bencode_doc {
	struct mg_bencode_node *nodes;
	int capacity;
	int count;
	char error[96]; /* why decoding failed */
};

#define MG_BENCODE_MAX_DEPTH 32

/* Decodes one complete value spanning exactly `len` bytes. Returns the root node index
 * (0) or -1 with doc->error set. Rejects trailing bytes, leading zeros, "-0",
 * non-string dictionary keys, depth beyond MG_BENCODE_MAX_DEPTH, and overflow. */
int mg_bencode_decode(struct mg_bencode_doc *doc, const char *buf, size_t len);

/* Lookups; return NULL when absent or of another type where a type is asked for. */
const struct mg_bencode_node *mg_bencode_dict_get(const struct mg_bencode_doc *doc,
						  const struct mg_bencode_node *dict,
						  const char *key);
const struct mg_bencode_node *mg_bencode_child(const struct mg_bencode_doc *doc,
					       const struct mg_bencode_node *n);
const struct mg_bencode_node *mg_bencode_next(const struct mg_bencode_doc *doc,
					      const struct mg_bencode_node *n);
/* Copies a string value (NUL-terminated, truncated to cap-1); returns false if `n`
 * is not a string or does not fit. */
bool mg_bencode_str_copy(const struct mg_bencode_node *n, char *out, size_t cap);
/* True if n is a string equal to s. */
bool mg_bencode_str_eq(const struct mg_bencode_node *n, const char *s);

/* Encoder: appends to a bounded buffer; once it overflows every call is a no-op and
 * mg_bencode_out_ok() tells. */
struct mg_bencode_out {
	char *buf;
	size_t cap;
	size_t len;
	bool overflow;
};
void mg_bencode_out_init(struct mg_bencode_out *o, char *buf, size_t cap);
void mg_ben_dict_begin(struct mg_bencode_out *o);
void mg_ben_list_begin(struct mg_bencode_out *o);
void mg_ben_end(struct mg_bencode_out *o);
void mg_ben_str(struct mg_bencode_out *o, const char *s);
void mg_ben_strn(struct mg_bencode_out *o, const char *s, size_t n);
void mg_ben_int(struct mg_bencode_out *o, int64_t v);
/* key + value shorthands for dictionaries */
void mg_ben_kv_str(struct mg_bencode_out *o, const char *k, const char *v);
void mg_ben_kv_int(struct mg_bencode_out *o, const char *k, int64_t v);
static inline bool mg_bencode_out_ok(const struct mg_bencode_out *o)
{
	return !o->overflow;
}

#endif
