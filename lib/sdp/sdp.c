/* SDP parser, editor and serializer; see sdp.h for the model and memory rules. */
#include "sdp.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Line offsets and lengths are 16-bit to keep the line tables small. */
_Static_assert(sizeof(((struct mg_sdp *)0)->text) <= UINT16_MAX,
	       "text arena must be addressable with uint16_t offsets");

/* ---- small string helpers ---- */

static struct mg_sdp_str str_make(const char *ptr, size_t len)
{
	struct mg_sdp_str s = {ptr, len};
	return s;
}

bool mg_sdp_str_eq(struct mg_sdp_str s, const char *cstr)
{
	size_t n = strlen(cstr);
	return s.len == n && (n == 0 || memcmp(s.ptr, cstr, n) == 0);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

bool mg_sdp_token_next(struct mg_sdp_str list, size_t *cursor, struct mg_sdp_str *token)
{
	size_t i = *cursor;
	while (i < list.len && is_blank(list.ptr[i]))
		i++;
	if (i >= list.len) {
		*cursor = list.len;
		return false;
	}
	size_t start = i;
	while (i < list.len && !is_blank(list.ptr[i]))
		i++;
	*token = str_make(list.ptr + start, i - start);
	*cursor = i;
	return true;
}

/* The text after the cursor with leading blanks skipped. */
static struct mg_sdp_str rest_after(struct mg_sdp_str list, size_t cursor)
{
	while (cursor < list.len && is_blank(list.ptr[cursor]))
		cursor++;
	return str_make(list.ptr + cursor, list.len - cursor);
}

/* Decimal digits only, value <= max. */
static bool parse_uint(struct mg_sdp_str s, uint64_t max, uint64_t *out)
{
	if (s.len == 0 || s.len > 20)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];
		if (c < '0' || c > '9')
			return false;
		unsigned d = (unsigned)(c - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* Splits "a=" value "name:rest" into name and rest (rest empty for flag attributes). */
static void attr_split(struct mg_sdp_str value, struct mg_sdp_str *name, struct mg_sdp_str *rest)
{
	const char *colon = memchr(value.ptr, ':', value.len);
	if (!colon) {
		/* Flag attributes: tolerate trailing blanks ("a=rtcp-mux "). */
		*name = value;
		while (name->len && is_blank(name->ptr[name->len - 1]))
			name->len--;
		*rest = str_make(value.ptr + value.len, 0);
		return;
	}
	*name = str_make(value.ptr, (size_t)(colon - value.ptr));
	*rest = str_make(colon + 1, value.len - name->len - 1);
}

/* ---- results and errors ---- */

const char *mg_sdp_result_str(enum mg_sdp_result result)
{
	switch (result) {
	case MG_SDP_OK:
		return "ok";
	case MG_SDP_ERR_SYNTAX:
		return "malformed SDP";
	case MG_SDP_ERR_TOO_LARGE:
		return "SDP too large";
	case MG_SDP_ERR_TOO_MANY_MEDIA:
		return "too many media sections";
	case MG_SDP_ERR_TOO_MANY_LINES:
		return "too many lines in a section";
	case MG_SDP_ERR_NO_SPACE:
		return "SDP edit space exhausted";
	case MG_SDP_ERR_BUFFER_TOO_SMALL:
		return "output buffer too small";
	case MG_SDP_ERR_INVALID_ARG:
		return "invalid argument";
	case MG_SDP_ERR_NOT_FOUND:
		return "not found";
	}
	return "unknown error";
}

const char *mg_sdp_error(const struct mg_sdp *sdp)
{
	return sdp->error;
}

__attribute__((format(printf, 4, 5))) static enum mg_sdp_result
fail(struct mg_sdp *sdp, enum mg_sdp_result result, unsigned line, const char *fmt, ...)
{
	int prefix = line ? snprintf(sdp->error, sizeof(sdp->error), "line %u: ", line) : 0;
	if (prefix < 0)
		prefix = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sdp->error + prefix, sizeof(sdp->error) - (size_t)prefix, fmt, ap);
	va_end(ap);
	sdp->error_line = line;
	/* A failed parse leaves an empty SDP rather than half of one. */
	sdp->session.line_count = 0;
	sdp->session.attr_count = 0;
	sdp->media_count = 0;
	return result;
}

/* ---- line grammar shared by parser and accessors ---- */

static enum mg_sdp_addr_type addr_type_of(struct mg_sdp_str s)
{
	if (mg_sdp_str_eq(s, "IP4"))
		return MG_SDP_ADDR_IP4;
	if (mg_sdp_str_eq(s, "IP6"))
		return MG_SDP_ADDR_IP6;
	return MG_SDP_ADDR_OTHER;
}

static const char *addr_type_name(enum mg_sdp_addr_type type)
{
	return type == MG_SDP_ADDR_IP4 ? "IP4" : type == MG_SDP_ADDR_IP6 ? "IP6" : NULL;
}

/* "<nettype> <addrtype> <address>" starting at *cursor (c=, o= tail, a=rtcp tail). */
static const char *parse_conn_fields(struct mg_sdp_str v, size_t *cursor,
				     struct mg_sdp_connection *out)
{
	struct mg_sdp_str nettype, addrtype, address;
	if (!mg_sdp_token_next(v, cursor, &nettype))
		return "has no network type";
	if (!mg_sdp_token_next(v, cursor, &addrtype))
		return "has no address type";
	if (!mg_sdp_token_next(v, cursor, &address))
		return "has no address";
	if (!mg_sdp_str_eq(nettype, "IN"))
		return "network type is not IN";
	const char *slash = memchr(address.ptr, '/', address.len);
	if (slash)
		address.len = (size_t)(slash - address.ptr);
	if (address.len == 0)
		return "has an empty address";
	out->addr_type = addr_type_of(addrtype);
	out->addr_type_text = addrtype;
	out->address = address;
	return NULL;
}

static const char *parse_connection(struct mg_sdp_str v, struct mg_sdp_connection *out)
{
	size_t cursor = 0;
	return parse_conn_fields(v, &cursor, out);
}

static const char *parse_origin(struct mg_sdp_str v, struct mg_sdp_origin *out)
{
	size_t cursor = 0;
	if (!mg_sdp_token_next(v, &cursor, &out->username) ||
	    !mg_sdp_token_next(v, &cursor, &out->session_id) ||
	    !mg_sdp_token_next(v, &cursor, &out->session_version))
		return "o= line needs 6 fields";
	const char *why = parse_conn_fields(v, &cursor, &out->connection);
	return why ? "o= line needs 6 fields (username id version IN IP4 address)" : NULL;
}

enum mg_sdp_proto mg_sdp_proto_from_text(const char *text, size_t len)
{
	static const char *const names[] = {
	    [MG_SDP_PROTO_RTP_AVP] = "RTP/AVP",
	    [MG_SDP_PROTO_RTP_SAVP] = "RTP/SAVP",
	    [MG_SDP_PROTO_RTP_AVPF] = "RTP/AVPF",
	    [MG_SDP_PROTO_RTP_SAVPF] = "RTP/SAVPF",
	    [MG_SDP_PROTO_UDP_TLS_RTP_SAVP] = "UDP/TLS/RTP/SAVP",
	    [MG_SDP_PROTO_UDP_TLS_RTP_SAVPF] = "UDP/TLS/RTP/SAVPF",
	    [MG_SDP_PROTO_UDP] = "udp",
	};
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		/* Protocol names are case-insensitive in practice ("RTP/AVP", "udp"). */
		if (strlen(names[i]) == len && strncasecmp(names[i], text, len) == 0)
			return (enum mg_sdp_proto)i;
	}
	return MG_SDP_PROTO_OTHER;
}

const char *mg_sdp_proto_name(enum mg_sdp_proto proto)
{
	switch (proto) {
	case MG_SDP_PROTO_RTP_AVP:
		return "RTP/AVP";
	case MG_SDP_PROTO_RTP_SAVP:
		return "RTP/SAVP";
	case MG_SDP_PROTO_RTP_AVPF:
		return "RTP/AVPF";
	case MG_SDP_PROTO_RTP_SAVPF:
		return "RTP/SAVPF";
	case MG_SDP_PROTO_UDP_TLS_RTP_SAVP:
		return "UDP/TLS/RTP/SAVP";
	case MG_SDP_PROTO_UDP_TLS_RTP_SAVPF:
		return "UDP/TLS/RTP/SAVPF";
	case MG_SDP_PROTO_UDP:
		return "udp";
	case MG_SDP_PROTO_OTHER:
		break;
	}
	return NULL;
}

/* "<media> <port>[/<count>] <proto> <fmt> ..."; why gets a reason on failure. */
static bool parse_mline(struct mg_sdp_str v, struct mg_sdp_media_info *out, char *why,
			size_t why_len)
{
	size_t cursor = 0;
	struct mg_sdp_str port_tok, proto;
	if (!mg_sdp_token_next(v, &cursor, &out->media)) {
		snprintf(why, why_len, "m= line is empty");
		return false;
	}
	if (!mg_sdp_token_next(v, &cursor, &port_tok)) {
		snprintf(why, why_len, "m= line has no port");
		return false;
	}
	struct mg_sdp_str port_text = port_tok, count_text = {NULL, 0};
	const char *slash = memchr(port_tok.ptr, '/', port_tok.len);
	if (slash) {
		port_text.len = (size_t)(slash - port_tok.ptr);
		count_text = str_make(slash + 1, port_tok.len - port_text.len - 1);
	}
	uint64_t port, count = 0;
	if (!parse_uint(port_text, UINT64_MAX, &port)) {
		snprintf(why, why_len, "m= port is not a number");
		return false;
	}
	if (port > 65535) {
		snprintf(why, why_len, "m= port %" PRIu64 " out of range", port);
		return false;
	}
	if (slash && (!parse_uint(count_text, 65535, &count) || count == 0)) {
		snprintf(why, why_len, "m= port count is not a number from 1 to 65535");
		return false;
	}
	if (!mg_sdp_token_next(v, &cursor, &proto)) {
		snprintf(why, why_len, "m= line has no proto");
		return false;
	}
	out->port = (uint16_t)port;
	out->port_count = (uint16_t)count;
	out->proto_text = proto;
	out->proto = mg_sdp_proto_from_text(proto.ptr, proto.len);
	out->formats = rest_after(v, cursor);
	return true;
}

/* ---- sections and lines ---- */

static struct mg_sdp_section *section_of(struct mg_sdp *sdp, int section)
{
	if (section == MG_SDP_SESSION)
		return &sdp->session;
	if (section >= 0 && (unsigned)section < sdp->media_count)
		return &sdp->media[section];
	return NULL;
}

static const struct mg_sdp_section *csection_of(const struct mg_sdp *sdp, int section)
{
	return section_of((struct mg_sdp *)sdp, section);
}

static struct mg_sdp_str line_value(const struct mg_sdp *sdp, const struct mg_sdp_line *line)
{
	return str_make(sdp->text + line->off, line->len);
}

/* Whether a line is a=<name> (exact name, with or without a value). */
static bool line_is_attr(const struct mg_sdp *sdp, const struct mg_sdp_line *line, const char *name,
			 struct mg_sdp_str *rest)
{
	if (line->type != 'a')
		return false;
	struct mg_sdp_str n, r;
	attr_split(line_value(sdp, line), &n, &r);
	if (!mg_sdp_str_eq(n, name))
		return false;
	if (rest)
		*rest = r;
	return true;
}

static enum mg_sdp_result section_insert(struct mg_sdp_section *sec, unsigned index,
					 struct mg_sdp_line line)
{
	unsigned others = sec->line_count - sec->attr_count;
	if (line.type == 'a' ? sec->attr_count >= MG_SDP_MAX_ATTRS
			     : others >= MG_SDP_MAX_OTHER_LINES)
		return MG_SDP_ERR_TOO_MANY_LINES;
	memmove(&sec->lines[index + 1], &sec->lines[index],
		(sec->line_count - index) * sizeof(sec->lines[0]));
	sec->lines[index] = line;
	sec->line_count++;
	if (line.type == 'a')
		sec->attr_count++;
	return MG_SDP_OK;
}

static void section_remove(struct mg_sdp_section *sec, unsigned index)
{
	if (sec->lines[index].type == 'a')
		sec->attr_count--;
	memmove(&sec->lines[index], &sec->lines[index + 1],
		(sec->line_count - index - 1) * sizeof(sec->lines[0]));
	sec->line_count--;
}

/* ---- parsing ---- */

static enum mg_sdp_result add_parsed_line(struct mg_sdp *sdp, struct mg_sdp_section *sec,
					  unsigned line_no, char type, uint16_t off, uint16_t len)
{
	struct mg_sdp_line line = {off, len, type};
	if (section_insert(sec, sec->line_count, line) != MG_SDP_OK) {
		if (type == 'a')
			return fail(sdp, MG_SDP_ERR_TOO_MANY_LINES, line_no,
				    "more than %d a= lines in one section", MG_SDP_MAX_ATTRS);
		return fail(sdp, MG_SDP_ERR_TOO_MANY_LINES, line_no,
			    "more than %d non-attribute lines in one section",
			    MG_SDP_MAX_OTHER_LINES);
	}
	return MG_SDP_OK;
}

enum mg_sdp_result mg_sdp_parse(struct mg_sdp *sdp, const char *buf, size_t len)
{
	sdp->session.line_count = 0;
	sdp->session.attr_count = 0;
	sdp->media_count = 0;
	sdp->text_used = 0;
	sdp->error_line = 0;
	sdp->error[0] = '\0';
	if (!buf && len)
		return fail(sdp, MG_SDP_ERR_INVALID_ARG, 0, "no SDP buffer");
	if (len > MG_SDP_MAX_SIZE)
		return fail(sdp, MG_SDP_ERR_TOO_LARGE, 0, "SDP is %zu bytes, limit is %d", len,
			    MG_SDP_MAX_SIZE);
	if (len)
		memcpy(sdp->text, buf, len);
	sdp->text_used = (uint32_t)len;

	const char *text = sdp->text;
	struct mg_sdp_section *sec = &sdp->session;
	unsigned line_no = 0;
	bool have_origin = false, have_name = false;
	size_t pos = 0;
	while (pos < len) {
		line_no++;
		size_t start = pos, end = pos;
		/* Find the line end; every byte is checked so no control byte reaches output. */
		while (end < len && text[end] != '\n') {
			unsigned char c = (unsigned char)text[end];
			if (c == '\r') {
				if (end + 1 < len && text[end + 1] == '\n')
					break;
				if (end + 1 == len)
					break; /* truncated CRLF at end of input */
				return fail(sdp, MG_SDP_ERR_SYNTAX, line_no, "stray CR in line");
			}
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return fail(sdp, MG_SDP_ERR_SYNTAX, line_no,
					    "control character 0x%02x in line", c);
			end++;
		}
		size_t line_len = end - start;
		pos = end;
		if (pos < len && text[pos] == '\r')
			pos++;
		if (pos < len && text[pos] == '\n')
			pos++;
		/* Blank lines are invalid SDP but harmless (some stacks append one): skip them. */
		if (line_len == 0)
			continue;
		char type = text[start];
		if (line_len < 2 || text[start + 1] != '=' || type < 'a' || type > 'z')
			return fail(sdp, MG_SDP_ERR_SYNTAX, line_no,
				    "expected '<letter>=' at start of line");
		struct mg_sdp_str value = str_make(text + start + 2, line_len - 2);
		bool first = sdp->session.line_count == 0;
		if (first && type != 'v')
			return fail(sdp, MG_SDP_ERR_SYNTAX, line_no, "SDP must start with v=");
		if (type == 'v') {
			if (!first)
				return fail(sdp, MG_SDP_ERR_SYNTAX, line_no, "second v= line");
			if (!mg_sdp_str_eq(value, "0"))
				return fail(sdp, MG_SDP_ERR_SYNTAX, line_no,
					    "unsupported SDP version (v= must be 0)");
		}
		char why[96];
		if (type == 'm') {
			struct mg_sdp_media_info info;
			if (!parse_mline(value, &info, why, sizeof(why)))
				return fail(sdp, MG_SDP_ERR_SYNTAX, line_no, "%s", why);
			if (sdp->media_count >= MG_SDP_MAX_MEDIA)
				return fail(sdp, MG_SDP_ERR_TOO_MANY_MEDIA, line_no,
					    "more than %d m= sections", MG_SDP_MAX_MEDIA);
			sec = &sdp->media[sdp->media_count++];
			sec->line_count = 0;
			sec->attr_count = 0;
		} else if (type == 'c') {
			struct mg_sdp_connection conn;
			const char *err = parse_connection(value, &conn);
			if (err)
				return fail(sdp, MG_SDP_ERR_SYNTAX, line_no, "c= line %s", err);
		} else if (type == 'o' && sec == &sdp->session) {
			struct mg_sdp_origin origin;
			const char *err = parse_origin(value, &origin);
			if (err)
				return fail(sdp, MG_SDP_ERR_SYNTAX, line_no, "%s", err);
			if (have_origin)
				return fail(sdp, MG_SDP_ERR_SYNTAX, line_no, "second o= line");
			have_origin = true;
		} else if (type == 's' && sec == &sdp->session) {
			have_name = true;
		} else if (type == 'a' && (value.len == 0 || value.ptr[0] == ':')) {
			return fail(sdp, MG_SDP_ERR_SYNTAX, line_no,
				    "a= line has no attribute name");
		}
		enum mg_sdp_result r = add_parsed_line(
		    sdp, sec, line_no, type, (uint16_t)(value.ptr - text), (uint16_t)value.len);
		if (r != MG_SDP_OK)
			return r;
	}
	if (sdp->session.line_count == 0)
		return fail(sdp, MG_SDP_ERR_SYNTAX, 0, "empty SDP (missing v= line)");
	if (!have_origin)
		return fail(sdp, MG_SDP_ERR_SYNTAX, 0, "missing o= line");
	if (!have_name)
		return fail(sdp, MG_SDP_ERR_SYNTAX, 0, "missing s= line");
	return MG_SDP_OK;
}

/* ---- serialization ---- */

static size_t section_len(const struct mg_sdp_section *sec)
{
	size_t n = 0;
	for (unsigned i = 0; i < sec->line_count; i++)
		n += 2 + sec->lines[i].len + 2; /* "x=" value CRLF */
	return n;
}

size_t mg_sdp_serialized_len(const struct mg_sdp *sdp)
{
	size_t n = section_len(&sdp->session);
	for (unsigned m = 0; m < sdp->media_count; m++)
		n += section_len(&sdp->media[m]);
	return n;
}

static char *write_section(const struct mg_sdp *sdp, const struct mg_sdp_section *sec, char *out)
{
	for (unsigned i = 0; i < sec->line_count; i++) {
		const struct mg_sdp_line *line = &sec->lines[i];
		*out++ = line->type;
		*out++ = '=';
		memcpy(out, sdp->text + line->off, line->len);
		out += line->len;
		*out++ = '\r';
		*out++ = '\n';
	}
	return out;
}

enum mg_sdp_result mg_sdp_serialize(const struct mg_sdp *sdp, char *out, size_t cap,
				    size_t *out_len)
{
	size_t need = mg_sdp_serialized_len(sdp);
	if (out_len)
		*out_len = need;
	if (!out || need > cap)
		return MG_SDP_ERR_BUFFER_TOO_SMALL;
	char *p = write_section(sdp, &sdp->session, out);
	for (unsigned m = 0; m < sdp->media_count; m++)
		p = write_section(sdp, &sdp->media[m], p);
	if (need < cap)
		*p = '\0';
	return MG_SDP_OK;
}

/* ---- generic accessors ---- */

unsigned mg_sdp_media_count(const struct mg_sdp *sdp)
{
	return sdp->media_count;
}

unsigned mg_sdp_line_count(const struct mg_sdp *sdp, int section)
{
	const struct mg_sdp_section *sec = csection_of(sdp, section);
	return sec ? sec->line_count : 0;
}

bool mg_sdp_line_get(const struct mg_sdp *sdp, int section, unsigned index, char *type,
		     struct mg_sdp_str *value)
{
	const struct mg_sdp_section *sec = csection_of(sdp, section);
	if (!sec || index >= sec->line_count)
		return false;
	if (type)
		*type = sec->lines[index].type;
	if (value)
		*value = line_value(sdp, &sec->lines[index]);
	return true;
}

bool mg_sdp_attr_next(const struct mg_sdp *sdp, int section, const char *name, unsigned *cursor,
		      struct mg_sdp_str *value)
{
	const struct mg_sdp_section *sec = csection_of(sdp, section);
	if (!sec)
		return false;
	for (unsigned i = *cursor; i < sec->line_count; i++) {
		struct mg_sdp_str rest;
		if (line_is_attr(sdp, &sec->lines[i], name, &rest)) {
			if (value)
				*value = rest;
			*cursor = i + 1;
			return true;
		}
	}
	*cursor = sec->line_count;
	return false;
}

bool mg_sdp_attr_get(const struct mg_sdp *sdp, int section, const char *name,
		     struct mg_sdp_str *value)
{
	unsigned cursor = 0;
	return mg_sdp_attr_next(sdp, section, name, &cursor, value);
}

bool mg_sdp_attr_has(const struct mg_sdp *sdp, int section, const char *name)
{
	return mg_sdp_attr_get(sdp, section, name, NULL);
}

bool mg_sdp_media_attr_inherited(const struct mg_sdp *sdp, unsigned media, const char *name,
				 struct mg_sdp_str *value)
{
	if (media >= sdp->media_count)
		return false;
	return mg_sdp_attr_get(sdp, (int)media, name, value) ||
	       mg_sdp_attr_get(sdp, MG_SDP_SESSION, name, value);
}

/* ---- typed accessors ---- */

static bool first_line_of_type(const struct mg_sdp *sdp, int section, char type,
			       struct mg_sdp_str *value)
{
	const struct mg_sdp_section *sec = csection_of(sdp, section);
	if (!sec)
		return false;
	for (unsigned i = 0; i < sec->line_count; i++) {
		if (sec->lines[i].type == type) {
			*value = line_value(sdp, &sec->lines[i]);
			return true;
		}
	}
	return false;
}

bool mg_sdp_origin(const struct mg_sdp *sdp, struct mg_sdp_origin *out)
{
	struct mg_sdp_str v;
	return first_line_of_type(sdp, MG_SDP_SESSION, 'o', &v) && parse_origin(v, out) == NULL;
}

bool mg_sdp_session_connection(const struct mg_sdp *sdp, struct mg_sdp_connection *out)
{
	struct mg_sdp_str v;
	return first_line_of_type(sdp, MG_SDP_SESSION, 'c', &v) && parse_connection(v, out) == NULL;
}

bool mg_sdp_media_connection(const struct mg_sdp *sdp, unsigned media,
			     struct mg_sdp_connection *out)
{
	struct mg_sdp_str v;
	return media < sdp->media_count && first_line_of_type(sdp, (int)media, 'c', &v) &&
	       parse_connection(v, out) == NULL;
}

bool mg_sdp_media_effective_connection(const struct mg_sdp *sdp, unsigned media,
				       struct mg_sdp_connection *out)
{
	if (media >= sdp->media_count)
		return false;
	return mg_sdp_media_connection(sdp, media, out) || mg_sdp_session_connection(sdp, out);
}

bool mg_sdp_media_info(const struct mg_sdp *sdp, unsigned media, struct mg_sdp_media_info *out)
{
	if (media >= sdp->media_count)
		return false;
	char why[96];
	return parse_mline(line_value(sdp, &sdp->media[media].lines[0]), out, why, sizeof(why));
}

static const char *const direction_names[] = {
    [MG_SDP_DIR_SENDRECV] = "sendrecv",
    [MG_SDP_DIR_SENDONLY] = "sendonly",
    [MG_SDP_DIR_RECVONLY] = "recvonly",
    [MG_SDP_DIR_INACTIVE] = "inactive",
};

const char *mg_sdp_direction_name(enum mg_sdp_direction dir)
{
	return (unsigned)dir < 4 ? direction_names[dir] : "sendrecv";
}

/* First direction attribute of a section, in line order. */
static bool section_direction(const struct mg_sdp *sdp, int section, enum mg_sdp_direction *out)
{
	const struct mg_sdp_section *sec = csection_of(sdp, section);
	if (!sec)
		return false;
	for (unsigned i = 0; i < sec->line_count; i++) {
		for (unsigned d = 0; d < 4; d++) {
			if (line_is_attr(sdp, &sec->lines[i], direction_names[d], NULL)) {
				*out = (enum mg_sdp_direction)d;
				return true;
			}
		}
	}
	return false;
}

enum mg_sdp_direction mg_sdp_session_direction(const struct mg_sdp *sdp)
{
	enum mg_sdp_direction dir = MG_SDP_DIR_SENDRECV;
	section_direction(sdp, MG_SDP_SESSION, &dir);
	return dir;
}

enum mg_sdp_direction mg_sdp_media_direction(const struct mg_sdp *sdp, unsigned media)
{
	enum mg_sdp_direction dir;
	if (media < sdp->media_count && section_direction(sdp, (int)media, &dir))
		return dir;
	return mg_sdp_session_direction(sdp);
}

bool mg_sdp_media_rtcp(const struct mg_sdp *sdp, unsigned media, struct mg_sdp_rtcp *out)
{
	struct mg_sdp_str v, port_text;
	if (media >= sdp->media_count || !mg_sdp_attr_get(sdp, (int)media, "rtcp", &v))
		return false;
	size_t cursor = 0;
	uint64_t port;
	if (!mg_sdp_token_next(v, &cursor, &port_text) || !parse_uint(port_text, 65535, &port))
		return false;
	out->port = (uint16_t)port;
	out->has_address = false;
	struct mg_sdp_str rest = rest_after(v, cursor);
	if (rest.len) {
		if (parse_connection(rest, &out->connection) != NULL)
			return false;
		out->has_address = true;
	}
	return true;
}

bool mg_sdp_media_rtcp_mux(const struct mg_sdp *sdp, unsigned media)
{
	return media < sdp->media_count && mg_sdp_attr_has(sdp, (int)media, "rtcp-mux");
}

static const char *const setup_names[] = {
    [MG_SDP_SETUP_ACTPASS] = "actpass",
    [MG_SDP_SETUP_ACTIVE] = "active",
    [MG_SDP_SETUP_PASSIVE] = "passive",
    [MG_SDP_SETUP_HOLDCONN] = "holdconn",
};

const char *mg_sdp_setup_name(enum mg_sdp_setup setup)
{
	return (unsigned)setup < 4 ? setup_names[setup] : NULL;
}

bool mg_sdp_media_setup(const struct mg_sdp *sdp, unsigned media, enum mg_sdp_setup *out)
{
	struct mg_sdp_str v, tok;
	size_t cursor = 0;
	if (!mg_sdp_media_attr_inherited(sdp, media, "setup", &v) ||
	    !mg_sdp_token_next(v, &cursor, &tok))
		return false;
	for (unsigned s = 0; s < 4; s++) {
		if (mg_sdp_str_eq(tok, setup_names[s])) {
			*out = (enum mg_sdp_setup)s;
			return true;
		}
	}
	return false;
}

bool mg_sdp_media_fingerprint(const struct mg_sdp *sdp, unsigned media,
			      struct mg_sdp_fingerprint *out)
{
	struct mg_sdp_str v;
	size_t cursor = 0;
	return mg_sdp_media_attr_inherited(sdp, media, "fingerprint", &v) &&
	       mg_sdp_token_next(v, &cursor, &out->hash_function) &&
	       mg_sdp_token_next(v, &cursor, &out->fingerprint);
}

static bool inherited_token(const struct mg_sdp *sdp, unsigned media, const char *name,
			    struct mg_sdp_str *out)
{
	struct mg_sdp_str v;
	size_t cursor = 0;
	return mg_sdp_media_attr_inherited(sdp, media, name, &v) &&
	       mg_sdp_token_next(v, &cursor, out);
}

bool mg_sdp_media_ice_ufrag(const struct mg_sdp *sdp, unsigned media, struct mg_sdp_str *out)
{
	return inherited_token(sdp, media, "ice-ufrag", out);
}

bool mg_sdp_media_ice_pwd(const struct mg_sdp *sdp, unsigned media, struct mg_sdp_str *out)
{
	return inherited_token(sdp, media, "ice-pwd", out);
}

bool mg_sdp_media_ice_options(const struct mg_sdp *sdp, unsigned media, struct mg_sdp_str *out)
{
	struct mg_sdp_str v;
	if (!mg_sdp_media_attr_inherited(sdp, media, "ice-options", &v))
		return false;
	*out = rest_after(v, 0);
	return true;
}

bool mg_sdp_media_ice_lite(const struct mg_sdp *sdp, unsigned media)
{
	return mg_sdp_media_attr_inherited(sdp, media, "ice-lite", NULL);
}

bool mg_sdp_media_end_of_candidates(const struct mg_sdp *sdp, unsigned media)
{
	return mg_sdp_media_attr_inherited(sdp, media, "end-of-candidates", NULL);
}

bool mg_sdp_candidate_parse(struct mg_sdp_str v, struct mg_sdp_candidate *out)
{
	size_t cursor = 0;
	struct mg_sdp_str component, priority, port, typ;
	uint64_t n;
	memset(out, 0, sizeof(*out));
	if (!mg_sdp_token_next(v, &cursor, &out->foundation) ||
	    !mg_sdp_token_next(v, &cursor, &component) ||
	    !mg_sdp_token_next(v, &cursor, &out->transport) ||
	    !mg_sdp_token_next(v, &cursor, &priority) ||
	    !mg_sdp_token_next(v, &cursor, &out->address) ||
	    !mg_sdp_token_next(v, &cursor, &port) || !mg_sdp_token_next(v, &cursor, &typ) ||
	    !mg_sdp_token_next(v, &cursor, &out->type) || !mg_sdp_str_eq(typ, "typ"))
		return false;
	if (!parse_uint(component, 256, &n) || n == 0)
		return false;
	out->component = (unsigned)n;
	if (!parse_uint(priority, UINT32_MAX, &n))
		return false;
	out->priority = (uint32_t)n;
	if (!parse_uint(port, 65535, &n))
		return false;
	out->port = (uint16_t)n;
	out->rel_addr = str_make(v.ptr + v.len, 0);
	/* Optional "raddr <a> rport <p>", then extension name/value pairs. */
	for (;;) {
		size_t save = cursor;
		struct mg_sdp_str key, val;
		if (!mg_sdp_token_next(v, &cursor, &key) || !mg_sdp_token_next(v, &cursor, &val)) {
			cursor = save;
			break;
		}
		if (mg_sdp_str_eq(key, "raddr")) {
			out->rel_addr = val;
		} else if (mg_sdp_str_eq(key, "rport")) {
			if (!parse_uint(val, 65535, &n))
				return false;
			out->rel_port = (uint16_t)n;
		} else {
			cursor = save;
			break;
		}
	}
	out->extensions = rest_after(v, cursor);
	return true;
}

bool mg_sdp_media_candidate_next(const struct mg_sdp *sdp, unsigned media, unsigned *cursor,
				 struct mg_sdp_candidate *out)
{
	struct mg_sdp_str v;
	if (media >= sdp->media_count)
		return false;
	while (mg_sdp_attr_next(sdp, (int)media, "candidate", cursor, &v)) {
		if (mg_sdp_candidate_parse(v, out))
			return true;
	}
	return false;
}

bool mg_sdp_crypto_parse(struct mg_sdp_str v, struct mg_sdp_crypto *out)
{
	size_t cursor = 0;
	struct mg_sdp_str tag;
	uint64_t n;
	if (!mg_sdp_token_next(v, &cursor, &tag) || !mg_sdp_token_next(v, &cursor, &out->suite) ||
	    !mg_sdp_token_next(v, &cursor, &out->key_params))
		return false;
	/* RFC 4568: tag is 1*9DIGIT */
	if (tag.len > 9 || !parse_uint(tag, 999999999, &n))
		return false;
	out->tag = (unsigned)n;
	out->session_params = rest_after(v, cursor);
	return true;
}

bool mg_sdp_media_crypto_next(const struct mg_sdp *sdp, unsigned media, unsigned *cursor,
			      struct mg_sdp_crypto *out)
{
	struct mg_sdp_str v;
	if (media >= sdp->media_count)
		return false;
	while (mg_sdp_attr_next(sdp, (int)media, "crypto", cursor, &v)) {
		if (mg_sdp_crypto_parse(v, out))
			return true;
	}
	return false;
}

bool mg_sdp_media_mid(const struct mg_sdp *sdp, unsigned media, struct mg_sdp_str *out)
{
	struct mg_sdp_str v;
	size_t cursor = 0;
	return media < sdp->media_count && mg_sdp_attr_get(sdp, (int)media, "mid", &v) &&
	       mg_sdp_token_next(v, &cursor, out);
}

bool mg_sdp_media_ptime(const struct mg_sdp *sdp, unsigned media, unsigned *out)
{
	struct mg_sdp_str v, tok;
	size_t cursor = 0;
	uint64_t n;
	if (!mg_sdp_media_attr_inherited(sdp, media, "ptime", &v) ||
	    !mg_sdp_token_next(v, &cursor, &tok) || !parse_uint(tok, 100000, &n))
		return false;
	*out = (unsigned)n;
	return true;
}

/* Finds a=<name>:<pt> <rest> in a media section. */
static bool attr_for_payload(const struct mg_sdp *sdp, unsigned media, const char *name,
			     unsigned payload_type, struct mg_sdp_str *rest)
{
	struct mg_sdp_str v, pt_text;
	unsigned cursor = 0;
	if (media >= sdp->media_count)
		return false;
	while (mg_sdp_attr_next(sdp, (int)media, name, &cursor, &v)) {
		size_t tok_cursor = 0;
		uint64_t pt;
		if (mg_sdp_token_next(v, &tok_cursor, &pt_text) && parse_uint(pt_text, 255, &pt) &&
		    pt == payload_type) {
			*rest = rest_after(v, tok_cursor);
			return true;
		}
	}
	return false;
}

bool mg_sdp_media_rtpmap(const struct mg_sdp *sdp, unsigned media, unsigned payload_type,
			 struct mg_sdp_rtpmap *out)
{
	struct mg_sdp_str rest, tok;
	size_t cursor = 0;
	if (!attr_for_payload(sdp, media, "rtpmap", payload_type, &rest) ||
	    !mg_sdp_token_next(rest, &cursor, &tok))
		return false;
	/* <encoding>/<clock rate>[/<channels>] */
	const char *slash = memchr(tok.ptr, '/', tok.len);
	if (!slash || slash == tok.ptr)
		return false;
	struct mg_sdp_str encoding = str_make(tok.ptr, (size_t)(slash - tok.ptr));
	struct mg_sdp_str after = str_make(slash + 1, tok.len - encoding.len - 1);
	struct mg_sdp_str clock = after, channels = {NULL, 0};
	const char *slash2 = memchr(after.ptr, '/', after.len);
	if (slash2) {
		clock.len = (size_t)(slash2 - after.ptr);
		channels = str_make(slash2 + 1, after.len - clock.len - 1);
	}
	uint64_t rate, ch = 1;
	if (!parse_uint(clock, UINT32_MAX, &rate) || rate == 0)
		return false;
	if (slash2 && (!parse_uint(channels, 255, &ch) || ch == 0))
		return false;
	out->payload_type = payload_type;
	out->encoding = encoding;
	out->clock_rate = (uint32_t)rate;
	out->channels = (unsigned)ch;
	return true;
}

bool mg_sdp_media_fmtp(const struct mg_sdp *sdp, unsigned media, unsigned payload_type,
		       struct mg_sdp_str *out)
{
	return attr_for_payload(sdp, media, "fmtp", payload_type, out);
}

bool mg_sdp_group(const struct mg_sdp *sdp, const char *semantics, struct mg_sdp_str *mids)
{
	struct mg_sdp_str v, tok;
	unsigned cursor = 0;
	while (mg_sdp_attr_next(sdp, MG_SDP_SESSION, "group", &cursor, &v)) {
		size_t tok_cursor = 0;
		if (mg_sdp_token_next(v, &tok_cursor, &tok) && mg_sdp_str_eq(tok, semantics)) {
			*mids = rest_after(v, tok_cursor);
			return true;
		}
	}
	return false;
}

int mg_sdp_media_by_mid(const struct mg_sdp *sdp, struct mg_sdp_str mid)
{
	for (unsigned m = 0; m < sdp->media_count; m++) {
		struct mg_sdp_str v;
		if (mg_sdp_media_mid(sdp, m, &v) && v.len == mid.len &&
		    memcmp(v.ptr, mid.ptr, v.len) == 0)
			return (int)m;
	}
	return -1;
}

/* ---- editing ---- */

/* Text from callers goes verbatim into the SDP: refuse anything that could end a line. */
static bool text_ok(const char *s, bool allow_space, bool allow_empty)
{
	if (!s || (!allow_empty && !*s))
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			return false;
		if (c == ' ' && !allow_space)
			return false;
	}
	return true;
}

/* Formats a line value into the arena. */
__attribute__((format(printf, 3, 4))) static enum mg_sdp_result
arena_printf(struct mg_sdp *sdp, struct mg_sdp_line *line, const char *fmt, ...)
{
	size_t room = sizeof(sdp->text) - sdp->text_used;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(sdp->text + sdp->text_used, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return MG_SDP_ERR_NO_SPACE;
	line->off = (uint16_t)sdp->text_used;
	line->len = (uint16_t)n;
	sdp->text_used += (uint32_t)n;
	return MG_SDP_OK;
}

static bool addr_ok(enum mg_sdp_addr_type type, const char *address)
{
	return addr_type_name(type) != NULL && text_ok(address, false, false);
}

static int find_line_of_type(const struct mg_sdp_section *sec, char type, unsigned from)
{
	for (unsigned i = from; i < sec->line_count; i++)
		if (sec->lines[i].type == type)
			return (int)i;
	return -1;
}

enum mg_sdp_result mg_sdp_set_origin_address(struct mg_sdp *sdp, enum mg_sdp_addr_type type,
					     const char *address)
{
	struct mg_sdp_origin o;
	if (!addr_ok(type, address))
		return MG_SDP_ERR_INVALID_ARG;
	int i = find_line_of_type(&sdp->session, 'o', 0);
	if (i < 0 || parse_origin(line_value(sdp, &sdp->session.lines[i]), &o) != NULL)
		return MG_SDP_ERR_NOT_FOUND;
	struct mg_sdp_line line = {0, 0, 'o'};
	enum mg_sdp_result r =
	    arena_printf(sdp, &line, "%.*s %.*s %.*s IN %s %s", (int)o.username.len, o.username.ptr,
			 (int)o.session_id.len, o.session_id.ptr, (int)o.session_version.len,
			 o.session_version.ptr, addr_type_name(type), address);
	if (r == MG_SDP_OK)
		sdp->session.lines[i] = line;
	return r;
}

enum mg_sdp_result mg_sdp_set_origin_version(struct mg_sdp *sdp, uint64_t version)
{
	struct mg_sdp_origin o;
	int i = find_line_of_type(&sdp->session, 'o', 0);
	if (i < 0)
		return MG_SDP_ERR_NOT_FOUND;
	struct mg_sdp_str v = line_value(sdp, &sdp->session.lines[i]);
	if (parse_origin(v, &o) != NULL)
		return MG_SDP_ERR_NOT_FOUND;
	/* Keep everything after the version verbatim ("IN IP4 host"). */
	struct mg_sdp_str tail =
	    rest_after(v, (size_t)(o.session_version.ptr + o.session_version.len - v.ptr));
	struct mg_sdp_line line = {0, 0, 'o'};
	enum mg_sdp_result r = arena_printf(
	    sdp, &line, "%.*s %.*s %" PRIu64 " %.*s", (int)o.username.len, o.username.ptr,
	    (int)o.session_id.len, o.session_id.ptr, version, (int)tail.len, tail.ptr);
	if (r == MG_SDP_OK)
		sdp->session.lines[i] = line;
	return r;
}

/* Replaces every c= of the section, or inserts one before the first line of a type that
 * RFC 8866 orders after c= (insert_before), but not before min_index. */
static enum mg_sdp_result set_section_connection(struct mg_sdp *sdp, struct mg_sdp_section *sec,
						 enum mg_sdp_addr_type type, const char *address,
						 const char *insert_before, unsigned min_index)
{
	if (!addr_ok(type, address))
		return MG_SDP_ERR_INVALID_ARG;
	struct mg_sdp_line line = {0, 0, 'c'};
	enum mg_sdp_result r = arena_printf(sdp, &line, "IN %s %s", addr_type_name(type), address);
	if (r != MG_SDP_OK)
		return r;
	bool replaced = false;
	for (unsigned i = 0; i < sec->line_count; i++) {
		if (sec->lines[i].type == 'c') {
			sec->lines[i] = line;
			replaced = true;
		}
	}
	if (replaced)
		return MG_SDP_OK;
	unsigned at = min_index;
	while (at < sec->line_count && !strchr(insert_before, sec->lines[at].type))
		at++;
	return section_insert(sec, at, line);
}

enum mg_sdp_result mg_sdp_set_session_connection(struct mg_sdp *sdp, enum mg_sdp_addr_type type,
						 const char *address)
{
	return set_section_connection(sdp, &sdp->session, type, address, "btrzkam", 1);
}

enum mg_sdp_result mg_sdp_set_media_connection(struct mg_sdp *sdp, unsigned media,
					       enum mg_sdp_addr_type type, const char *address)
{
	if (media >= sdp->media_count)
		return MG_SDP_ERR_INVALID_ARG;
	return set_section_connection(sdp, &sdp->media[media], type, address, "bka", 1);
}

enum mg_sdp_result mg_sdp_replace_connections(struct mg_sdp *sdp, enum mg_sdp_addr_type type,
					      const char *address, bool replace_session)
{
	if (!addr_ok(type, address))
		return MG_SDP_ERR_INVALID_ARG;
	bool session_has_c = find_line_of_type(&sdp->session, 'c', 0) >= 0;
	bool need_session = replace_session;
	for (unsigned m = 0; m < sdp->media_count; m++) {
		bool media_has_c = find_line_of_type(&sdp->media[m], 'c', 1) >= 0;
		if (!media_has_c && session_has_c) {
			need_session = true; /* this media uses the session address */
			continue;
		}
		enum mg_sdp_result r = mg_sdp_set_media_connection(sdp, m, type, address);
		if (r != MG_SDP_OK)
			return r;
	}
	if (session_has_c && need_session)
		return mg_sdp_set_session_connection(sdp, type, address);
	return MG_SDP_OK;
}

/* Rebuilds a media section's m= line with a new port, proto and/or format list. */
static enum mg_sdp_result rewrite_mline(struct mg_sdp *sdp, unsigned media, const int32_t *port,
					const char *proto, const char *formats)
{
	struct mg_sdp_media_info info;
	if (!mg_sdp_media_info(sdp, media, &info))
		return MG_SDP_ERR_INVALID_ARG;
	char count[8] = "";
	if (info.port_count)
		snprintf(count, sizeof(count), "/%u", info.port_count);
	unsigned new_port = port ? (unsigned)*port : info.port;
	struct mg_sdp_str p = proto ? str_make(proto, strlen(proto)) : info.proto_text;
	struct mg_sdp_str f = formats ? str_make(formats, strlen(formats)) : info.formats;
	struct mg_sdp_line line = {0, 0, 'm'};
	enum mg_sdp_result r =
	    arena_printf(sdp, &line, "%.*s %u%s %.*s%s%.*s", (int)info.media.len, info.media.ptr,
			 new_port, count, (int)p.len, p.ptr, f.len ? " " : "", (int)f.len, f.ptr);
	if (r == MG_SDP_OK)
		sdp->media[media].lines[0] = line;
	return r;
}

enum mg_sdp_result mg_sdp_media_set_port(struct mg_sdp *sdp, unsigned media, uint16_t port)
{
	int32_t p = port;
	return rewrite_mline(sdp, media, &p, NULL, NULL);
}

enum mg_sdp_result mg_sdp_media_set_proto(struct mg_sdp *sdp, unsigned media, const char *proto)
{
	if (!text_ok(proto, false, false))
		return MG_SDP_ERR_INVALID_ARG;
	return rewrite_mline(sdp, media, NULL, proto, NULL);
}

enum mg_sdp_result mg_sdp_media_set_formats(struct mg_sdp *sdp, unsigned media, const char *formats)
{
	if (!text_ok(formats, true, true))
		return MG_SDP_ERR_INVALID_ARG;
	return rewrite_mline(sdp, media, NULL, NULL, formats);
}

static bool name_ok(const char *name)
{
	return text_ok(name, false, false) && !strchr(name, ':');
}

/* Removes a=<name> lines of one section; returns how many. */
static unsigned remove_attr_in(struct mg_sdp *sdp, struct mg_sdp_section *sec, const char *name)
{
	unsigned removed = 0;
	for (unsigned i = 0; i < sec->line_count;) {
		if (line_is_attr(sdp, &sec->lines[i], name, NULL)) {
			section_remove(sec, i);
			removed++;
		} else {
			i++;
		}
	}
	return removed;
}

enum mg_sdp_result mg_sdp_remove_attr(struct mg_sdp *sdp, int section, const char *name,
				      unsigned *removed)
{
	unsigned count = 0;
	if (removed)
		*removed = 0;
	if (!name_ok(name))
		return MG_SDP_ERR_INVALID_ARG;
	if (section == MG_SDP_ALL_SECTIONS) {
		count += remove_attr_in(sdp, &sdp->session, name);
		for (unsigned m = 0; m < sdp->media_count; m++)
			count += remove_attr_in(sdp, &sdp->media[m], name);
	} else {
		struct mg_sdp_section *sec = section_of(sdp, section);
		if (!sec)
			return MG_SDP_ERR_INVALID_ARG;
		count = remove_attr_in(sdp, sec, name);
	}
	if (removed)
		*removed = count;
	return MG_SDP_OK;
}

static enum mg_sdp_result make_attr_line(struct mg_sdp *sdp, struct mg_sdp_line *line,
					 const char *name, const char *value)
{
	if (!name_ok(name) || (value && !text_ok(value, true, true)))
		return MG_SDP_ERR_INVALID_ARG;
	line->type = 'a';
	if (value)
		return arena_printf(sdp, line, "%s:%s", name, value);
	return arena_printf(sdp, line, "%s", name);
}

/* Inserts before the first a=<before> of the section, or at its end. */
static enum mg_sdp_result insert_attr(struct mg_sdp *sdp, int section, const char *name,
				      const char *value, const char *before)
{
	struct mg_sdp_section *sec = section_of(sdp, section);
	if (!sec)
		return MG_SDP_ERR_INVALID_ARG;
	if (sec->attr_count >= MG_SDP_MAX_ATTRS)
		return MG_SDP_ERR_TOO_MANY_LINES;
	struct mg_sdp_line line;
	enum mg_sdp_result r = make_attr_line(sdp, &line, name, value);
	if (r != MG_SDP_OK)
		return r;
	unsigned at = sec->line_count;
	for (unsigned i = 0; before && i < sec->line_count; i++) {
		if (line_is_attr(sdp, &sec->lines[i], before, NULL)) {
			at = i;
			break;
		}
	}
	return section_insert(sec, at, line);
}

enum mg_sdp_result mg_sdp_add_attr(struct mg_sdp *sdp, int section, const char *name,
				   const char *value)
{
	return insert_attr(sdp, section, name, value, NULL);
}

enum mg_sdp_result mg_sdp_set_attr(struct mg_sdp *sdp, int section, const char *name,
				   const char *value)
{
	struct mg_sdp_section *sec = section_of(sdp, section);
	if (!sec)
		return MG_SDP_ERR_INVALID_ARG;
	int first = -1;
	for (unsigned i = 0; i < sec->line_count; i++) {
		if (line_is_attr(sdp, &sec->lines[i], name, NULL)) {
			first = (int)i;
			break;
		}
	}
	if (first < 0)
		return mg_sdp_add_attr(sdp, section, name, value);
	struct mg_sdp_line line;
	enum mg_sdp_result r = make_attr_line(sdp, &line, name, value);
	if (r != MG_SDP_OK)
		return r;
	/* Drop duplicates after the first, then replace it in place to keep its position. */
	for (unsigned i = (unsigned)first + 1; i < sec->line_count;) {
		if (line_is_attr(sdp, &sec->lines[i], name, NULL))
			section_remove(sec, i);
		else
			i++;
	}
	sec->lines[first] = line;
	return MG_SDP_OK;
}

enum mg_sdp_result mg_sdp_media_set_rtcp(struct mg_sdp *sdp, unsigned media, uint16_t port,
					 enum mg_sdp_addr_type type, const char *address)
{
	char value[128];
	if (media >= sdp->media_count)
		return MG_SDP_ERR_INVALID_ARG;
	if (address) {
		if (!addr_ok(type, address))
			return MG_SDP_ERR_INVALID_ARG;
		int n = snprintf(value, sizeof(value), "%u IN %s %s", port, addr_type_name(type),
				 address);
		if (n < 0 || (size_t)n >= sizeof(value))
			return MG_SDP_ERR_INVALID_ARG;
	} else {
		snprintf(value, sizeof(value), "%u", port);
	}
	return mg_sdp_set_attr(sdp, (int)media, "rtcp", value);
}

enum mg_sdp_result mg_sdp_media_remove_rtcp(struct mg_sdp *sdp, unsigned media)
{
	if (media >= sdp->media_count)
		return MG_SDP_ERR_INVALID_ARG;
	return mg_sdp_remove_attr(sdp, (int)media, "rtcp", NULL);
}

enum mg_sdp_result mg_sdp_media_set_rtcp_mux(struct mg_sdp *sdp, unsigned media, bool on)
{
	if (media >= sdp->media_count)
		return MG_SDP_ERR_INVALID_ARG;
	if (!on)
		return mg_sdp_remove_attr(sdp, (int)media, "rtcp-mux", NULL);
	if (mg_sdp_attr_has(sdp, (int)media, "rtcp-mux"))
		return MG_SDP_OK;
	return mg_sdp_add_attr(sdp, (int)media, "rtcp-mux", NULL);
}

enum mg_sdp_result mg_sdp_remove_ice(struct mg_sdp *sdp, int section)
{
	static const char *const ice_attrs[] = {
	    "ice-ufrag",    "ice-pwd",	 "ice-options",	      "ice-lite",
	    "ice-mismatch", "candidate", "end-of-candidates", "remote-candidates",
	};
	for (unsigned i = 0; i < sizeof(ice_attrs) / sizeof(ice_attrs[0]); i++) {
		enum mg_sdp_result r = mg_sdp_remove_attr(sdp, section, ice_attrs[i], NULL);
		if (r != MG_SDP_OK)
			return r;
	}
	return MG_SDP_OK;
}

enum mg_sdp_result mg_sdp_set_ice_credentials(struct mg_sdp *sdp, int section, const char *ufrag,
					      const char *pwd)
{
	if (!text_ok(ufrag, false, false) || !text_ok(pwd, false, false))
		return MG_SDP_ERR_INVALID_ARG;
	enum mg_sdp_result r = mg_sdp_set_attr(sdp, section, "ice-ufrag", ufrag);
	return r == MG_SDP_OK ? mg_sdp_set_attr(sdp, section, "ice-pwd", pwd) : r;
}

enum mg_sdp_result mg_sdp_set_ice_lite(struct mg_sdp *sdp)
{
	if (mg_sdp_attr_has(sdp, MG_SDP_SESSION, "ice-lite"))
		return MG_SDP_OK;
	return mg_sdp_add_attr(sdp, MG_SDP_SESSION, "ice-lite", NULL);
}

enum mg_sdp_result mg_sdp_media_add_candidate(struct mg_sdp *sdp, unsigned media, const char *value)
{
	if (media >= sdp->media_count || !text_ok(value, true, false))
		return MG_SDP_ERR_INVALID_ARG;
	/* Candidates must precede a=end-of-candidates (RFC 8840). */
	return insert_attr(sdp, (int)media, "candidate", value, "end-of-candidates");
}

enum mg_sdp_result mg_sdp_media_add_candidate_fields(struct mg_sdp *sdp, unsigned media,
						     const char *foundation, unsigned component,
						     uint32_t priority, const char *address,
						     uint16_t port, const char *type)
{
	char value[256];
	if (!text_ok(foundation, false, false) || !text_ok(address, false, false) ||
	    !text_ok(type, false, false) || component == 0 || component > 256)
		return MG_SDP_ERR_INVALID_ARG;
	int n = snprintf(value, sizeof(value), "%s %u UDP %" PRIu32 " %s %u typ %s", foundation,
			 component, priority, address, port, type);
	if (n < 0 || (size_t)n >= sizeof(value))
		return MG_SDP_ERR_INVALID_ARG;
	return mg_sdp_media_add_candidate(sdp, media, value);
}

enum mg_sdp_result mg_sdp_remove_crypto(struct mg_sdp *sdp, int section)
{
	return mg_sdp_remove_attr(sdp, section, "crypto", NULL);
}

enum mg_sdp_result mg_sdp_media_add_crypto(struct mg_sdp *sdp, unsigned media, unsigned tag,
					   const char *suite, const char *key_params,
					   const char *session_params)
{
	char value[512];
	if (media >= sdp->media_count || tag > 999999999 || !text_ok(suite, false, false) ||
	    !text_ok(key_params, false, false) ||
	    (session_params && !text_ok(session_params, true, true)))
		return MG_SDP_ERR_INVALID_ARG;
	bool with_session = session_params && *session_params;
	int n = snprintf(value, sizeof(value), "%u %s %s%s%s", tag, suite, key_params,
			 with_session ? " " : "", with_session ? session_params : "");
	if (n < 0 || (size_t)n >= sizeof(value))
		return MG_SDP_ERR_INVALID_ARG;
	return mg_sdp_add_attr(sdp, (int)media, "crypto", value);
}

enum mg_sdp_result mg_sdp_set_setup(struct mg_sdp *sdp, int section, enum mg_sdp_setup setup)
{
	const char *name = mg_sdp_setup_name(setup);
	if (!name)
		return MG_SDP_ERR_INVALID_ARG;
	return mg_sdp_set_attr(sdp, section, "setup", name);
}

enum mg_sdp_result mg_sdp_set_fingerprint(struct mg_sdp *sdp, int section,
					  const char *hash_function, const char *fingerprint)
{
	char value[256];
	if (!text_ok(hash_function, false, false) || !text_ok(fingerprint, false, false))
		return MG_SDP_ERR_INVALID_ARG;
	int n = snprintf(value, sizeof(value), "%s %s", hash_function, fingerprint);
	if (n < 0 || (size_t)n >= sizeof(value))
		return MG_SDP_ERR_INVALID_ARG;
	return mg_sdp_set_attr(sdp, section, "fingerprint", value);
}

enum mg_sdp_result mg_sdp_set_direction(struct mg_sdp *sdp, int section, enum mg_sdp_direction dir)
{
	if ((unsigned)dir >= 4 || !section_of(sdp, section))
		return MG_SDP_ERR_INVALID_ARG;
	for (unsigned d = 0; d < 4; d++)
		mg_sdp_remove_attr(sdp, section, direction_names[d], NULL);
	return mg_sdp_add_attr(sdp, section, direction_names[dir], NULL);
}

enum mg_sdp_result mg_sdp_remove_line(struct mg_sdp *sdp, int section, unsigned index)
{
	struct mg_sdp_section *sec = section_of(sdp, section);
	if (!sec || index >= sec->line_count)
		return MG_SDP_ERR_INVALID_ARG;
	/* The m= line and v=/o= carry the structure; removing them would break the SDP. */
	char type = sec->lines[index].type;
	if ((section != MG_SDP_SESSION && index == 0) || type == 'v' || type == 'o' || type == 's')
		return MG_SDP_ERR_INVALID_ARG;
	section_remove(sec, index);
	return MG_SDP_OK;
}

enum mg_sdp_result mg_sdp_media_remove_payload_attrs(struct mg_sdp *sdp, unsigned media,
						     unsigned payload_type, unsigned *removed)
{
	static const char *const per_payload[] = {"rtpmap", "fmtp", "rtcp-fb"};
	unsigned count = 0;
	if (removed)
		*removed = 0;
	if (media >= sdp->media_count)
		return MG_SDP_ERR_INVALID_ARG;
	struct mg_sdp_section *sec = &sdp->media[media];
	for (unsigned i = 1; i < sec->line_count;) {
		bool match = false;
		for (unsigned k = 0; k < 3 && !match; k++) {
			struct mg_sdp_str rest, pt_text;
			size_t cursor = 0;
			uint64_t pt;
			match = line_is_attr(sdp, &sec->lines[i], per_payload[k], &rest) &&
				mg_sdp_token_next(rest, &cursor, &pt_text) &&
				parse_uint(pt_text, 255, &pt) && pt == payload_type;
		}
		if (match) {
			section_remove(sec, i);
			count++;
		} else {
			i++;
		}
	}
	if (removed)
		*removed = count;
	return MG_SDP_OK;
}
