#include "bencode.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct decoder {
	struct mg_bencode_doc *doc;
	const char *start, *p, *end;
};

static int fail(struct decoder *d, const char *what)
{
	snprintf(d->doc->error, sizeof(d->doc->error), "bencode: %s at offset %zu", what,
		 (size_t)(d->p - d->start));
	return -1;
}

static int new_node(struct decoder *d, uint8_t type)
{
	struct mg_bencode_doc *doc = d->doc;
	if (doc->count >= doc->capacity)
		return fail(d, "too many elements");
	int i = doc->count++;
	struct mg_bencode_node *n = &doc->nodes[i];
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->first_child = n->next_sibling = -1;
	return i;
}

/* Reads a decimal number up to `stop`; no leading zeros, no "-0", no overflow. */
static int read_int(struct decoder *d, char stop, int allow_negative, int64_t *out)
{
	int neg = 0;
	if (d->p < d->end && *d->p == '-' && allow_negative) {
		neg = 1;
		d->p++;
	}
	const char *digits = d->p;
	uint64_t v = 0;
	while (d->p < d->end && *d->p >= '0' && *d->p <= '9') {
		if (v > (INT64_MAX - 9) / 10)
			return fail(d, "number too large");
		v = v * 10 + (uint64_t)(*d->p - '0');
		d->p++;
	}
	size_t ndigits = (size_t)(d->p - digits);
	if (ndigits == 0)
		return fail(d, "expected digits");
	if (ndigits > 1 && digits[0] == '0')
		return fail(d, "leading zero");
	if (neg && v == 0)
		return fail(d, "negative zero");
	if (d->p >= d->end || *d->p != stop)
		return fail(d, "unterminated number");
	d->p++;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

static int read_string(struct decoder *d, const char **s, size_t *n)
{
	int64_t slen;
	if (read_int(d, ':', 0, &slen) < 0)
		return -1;
	if ((uint64_t)slen > (uint64_t)(d->end - d->p))
		return fail(d, "string runs past the end");
	*s = d->p;
	*n = (size_t)slen;
	d->p += slen;
	return 0;
}

static int decode_value(struct decoder *d, int depth)
{
	if (depth > MG_BENCODE_MAX_DEPTH)
		return fail(d, "nested too deeply");
	if (d->p >= d->end)
		return fail(d, "unexpected end");
	char c = *d->p;
	int idx;
	if (c == 'i') {
		d->p++;
		if ((idx = new_node(d, MG_BEN_INT)) < 0)
			return -1;
		int64_t v;
		if (read_int(d, 'e', 1, &v) < 0)
			return -1;
		d->doc->nodes[idx].num = v;
		return idx;
	}
	if (c >= '0' && c <= '9') {
		if ((idx = new_node(d, MG_BEN_STR)) < 0)
			return -1;
		const char *s;
		size_t n;
		if (read_string(d, &s, &n) < 0)
			return -1;
		d->doc->nodes[idx].str = s;
		d->doc->nodes[idx].str_len = n;
		return idx;
	}
	if (c != 'l' && c != 'd')
		return fail(d, "unexpected byte");
	int is_dict = c == 'd';
	d->p++;
	if ((idx = new_node(d, is_dict ? MG_BEN_DICT : MG_BEN_LIST)) < 0)
		return -1;
	int prev = -1;
	for (;;) {
		if (d->p >= d->end)
			return fail(d, "unterminated list or dictionary");
		if (*d->p == 'e') {
			d->p++;
			return idx;
		}
		const char *key = NULL;
		size_t key_len = 0;
		if (is_dict) {
			if (*d->p < '0' || *d->p > '9')
				return fail(d, "dictionary key is not a string");
			if (read_string(d, &key, &key_len) < 0)
				return -1;
		}
		int child = decode_value(d, depth + 1);
		if (child < 0)
			return -1;
		d->doc->nodes[child].key = key;
		d->doc->nodes[child].key_len = key_len;
		if (prev < 0)
			d->doc->nodes[idx].first_child = child;
		else
			d->doc->nodes[prev].next_sibling = child;
		prev = child;
	}
}

int mg_bencode_decode(struct mg_bencode_doc *doc, const char *buf, size_t len)
{
	struct decoder d = {.doc = doc, .start = buf, .p = buf, .end = buf + len};
	doc->count = 0;
	doc->error[0] = '\0';
	int root = decode_value(&d, 0);
	if (root < 0)
		return -1;
	if (d.p != d.end)
		return fail(&d, "trailing bytes");
	return root;
}

const struct mg_bencode_node *mg_bencode_child(const struct mg_bencode_doc *doc,
					       const struct mg_bencode_node *n)
{
	if (!n || (n->type != MG_BEN_LIST && n->type != MG_BEN_DICT) || n->first_child < 0)
		return NULL;
	return &doc->nodes[n->first_child];
}

const struct mg_bencode_node *mg_bencode_next(const struct mg_bencode_doc *doc,
					      const struct mg_bencode_node *n)
{
	return n && n->next_sibling >= 0 ? &doc->nodes[n->next_sibling] : NULL;
}

const struct mg_bencode_node *mg_bencode_dict_get(const struct mg_bencode_doc *doc,
						  const struct mg_bencode_node *dict,
						  const char *key)
{
	if (!dict || dict->type != MG_BEN_DICT)
		return NULL;
	size_t klen = strlen(key);
	for (const struct mg_bencode_node *c = mg_bencode_child(doc, dict); c;
	     c = mg_bencode_next(doc, c))
		if (c->key_len == klen && memcmp(c->key, key, klen) == 0)
			return c;
	return NULL;
}

bool mg_bencode_str_copy(const struct mg_bencode_node *n, char *out, size_t cap)
{
	if (!n || n->type != MG_BEN_STR || cap == 0 || n->str_len >= cap)
		return false;
	memcpy(out, n->str, n->str_len);
	out[n->str_len] = '\0';
	return true;
}

bool mg_bencode_str_eq(const struct mg_bencode_node *n, const char *s)
{
	size_t l = strlen(s);
	return n && n->type == MG_BEN_STR && n->str_len == l && memcmp(n->str, s, l) == 0;
}

void mg_bencode_out_init(struct mg_bencode_out *o, char *buf, size_t cap)
{
	o->buf = buf;
	o->cap = cap;
	o->len = 0;
	o->overflow = false;
}

static void put(struct mg_bencode_out *o, const void *data, size_t n)
{
	if (o->overflow || n > o->cap - o->len) {
		o->overflow = true;
		return;
	}
	memcpy(o->buf + o->len, data, n);
	o->len += n;
}

void mg_ben_dict_begin(struct mg_bencode_out *o)
{
	put(o, "d", 1);
}
void mg_ben_list_begin(struct mg_bencode_out *o)
{
	put(o, "l", 1);
}
void mg_ben_end(struct mg_bencode_out *o)
{
	put(o, "e", 1);
}

void mg_ben_strn(struct mg_bencode_out *o, const char *s, size_t n)
{
	char hdr[24];
	int h = snprintf(hdr, sizeof(hdr), "%zu:", n);
	put(o, hdr, (size_t)h);
	put(o, s, n);
}

void mg_ben_str(struct mg_bencode_out *o, const char *s)
{
	mg_ben_strn(o, s, strlen(s));
}

void mg_ben_int(struct mg_bencode_out *o, int64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "i%" PRId64 "e", v);
	put(o, tmp, (size_t)n);
}

void mg_ben_kv_str(struct mg_bencode_out *o, const char *k, const char *v)
{
	mg_ben_str(o, k);
	mg_ben_str(o, v);
}

void mg_ben_kv_int(struct mg_bencode_out *o, const char *k, int64_t v)
{
	mg_ben_str(o, k);
	mg_ben_int(o, v);
}
