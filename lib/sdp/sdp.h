/*
 * SDP (RFC 8866 / RFC 4566) parser, editor and serializer for the ng command handler.
 *
 * Model: a parsed SDP is a session section followed by up to MG_SDP_MAX_MEDIA media sections.
 * Every section keeps its lines in input order as (type letter, value text); nothing is
 * re-formatted unless it is edited, so unknown lines and attributes (rtpmap, fmtp, extmap,
 * ssrc, ...) come out verbatim. Media section line 0 is always its m= line.
 *
 * Memory: struct mg_sdp is self-contained (about 60 KiB, no heap use; keep it off small stacks).
 * The input is copied into its text arena, edits append new line text to the same arena and never
 * move existing text, so every struct mg_sdp_str returned by an accessor stays valid until the next
 * mg_sdp_parse() on the same struct. Do not copy a struct mg_sdp by value if views into
 * it are held (views point into the struct).
 *
 * Input is untrusted: (buf, len), need not be NUL-terminated, CRLF or LF line endings
 * (blank lines are skipped). Output is always CRLF, so it can be longer than the input (and
 * than MG_SDP_MAX_SIZE): size output buffers with mg_sdp_serialized_len(). No global state:
 * one struct mg_sdp per call/thread. Edit arguments are trusted strings (NUL-terminated) but are
 * still checked: CR, LF and other control characters are refused so that no line can be injected.
 *
 * Section numbers: MG_SDP_SESSION (-1) is the session level, 0..media_count-1 the media
 * sections; removals also accept MG_SDP_ALL_SECTIONS.
 */
#ifndef MG_SDP_H
#define MG_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MG_SDP_MAX_SIZE		 16384 /* largest accepted input SDP, bytes */
#define MG_SDP_EDIT_SPACE	 16384 /* arena bytes for text added by edits */
#define MG_SDP_MAX_MEDIA	 16    /* m= sections */
#define MG_SDP_MAX_ATTRS	 256   /* a= lines per section (a Chrome video section has ~140) */
#define MG_SDP_MAX_OTHER_LINES	 16    /* non-a= lines per section (incl. m=, c=, b=, ...) */
#define MG_SDP_MAX_SECTION_LINES (MG_SDP_MAX_ATTRS + MG_SDP_MAX_OTHER_LINES)
#define MG_SDP_ERROR_MAX	 160

#define MG_SDP_SESSION	    (-1)
#define MG_SDP_ALL_SECTIONS (-2)

enum mg_sdp_result {
	MG_SDP_OK = 0,
	MG_SDP_ERR_SYNTAX,	     /* malformed input; mg_sdp_error() says where and why */
	MG_SDP_ERR_TOO_LARGE,	     /* input longer than MG_SDP_MAX_SIZE */
	MG_SDP_ERR_TOO_MANY_MEDIA,   /* more than MG_SDP_MAX_MEDIA m= sections */
	MG_SDP_ERR_TOO_MANY_LINES,   /* a section exceeds MG_SDP_MAX_ATTRS / _OTHER_LINES */
	MG_SDP_ERR_NO_SPACE,	     /* edit arena exhausted */
	MG_SDP_ERR_BUFFER_TOO_SMALL, /* serialization output buffer too small */
	MG_SDP_ERR_INVALID_ARG,	     /* bad section index, port, or text with control chars */
	MG_SDP_ERR_NOT_FOUND,	     /* the line to edit does not exist */
};

/* A view into the SDP's text (not NUL-terminated). */
struct mg_sdp_str {
	const char *ptr;
	size_t len;
};

enum mg_sdp_addr_type { MG_SDP_ADDR_IP4, MG_SDP_ADDR_IP6, MG_SDP_ADDR_OTHER };

enum mg_sdp_proto {
	MG_SDP_PROTO_RTP_AVP,
	MG_SDP_PROTO_RTP_SAVP,
	MG_SDP_PROTO_RTP_AVPF,
	MG_SDP_PROTO_RTP_SAVPF,
	MG_SDP_PROTO_UDP_TLS_RTP_SAVP,
	MG_SDP_PROTO_UDP_TLS_RTP_SAVPF,
	MG_SDP_PROTO_UDP,
	MG_SDP_PROTO_OTHER, /* anything else (TCP/MRCPv2, UDP/BFCP, ...): kept as text */
};

enum mg_sdp_direction {
	MG_SDP_DIR_SENDRECV,
	MG_SDP_DIR_SENDONLY,
	MG_SDP_DIR_RECVONLY,
	MG_SDP_DIR_INACTIVE,
};

enum mg_sdp_setup {
	MG_SDP_SETUP_ACTPASS,
	MG_SDP_SETUP_ACTIVE,
	MG_SDP_SETUP_PASSIVE,
	MG_SDP_SETUP_HOLDCONN,
};

/* Internal representation; read through the accessors below. */
struct mg_sdp_line {
	uint16_t off; /* value text (after "x=") in mg_sdp.text */
	uint16_t len;
	char type; /* 'v', 'o', 'm', 'a', ... */
};

struct mg_sdp_section {
	struct mg_sdp_line lines[MG_SDP_MAX_SECTION_LINES];
	uint16_t line_count;
	uint16_t attr_count;
};

struct mg_sdp {
	struct mg_sdp_section session;
	struct mg_sdp_section media[MG_SDP_MAX_MEDIA];
	unsigned media_count;
	uint32_t text_used;
	unsigned error_line; /* 1-based line of the last parse error, 0 if none */
	char error[MG_SDP_ERROR_MAX];
	char text[MG_SDP_MAX_SIZE + MG_SDP_EDIT_SPACE];
};

struct mg_sdp_connection {
	enum mg_sdp_addr_type addr_type;
	struct mg_sdp_str addr_type_text; /* "IP4", "IP6", ... */
	struct mg_sdp_str address; /* up to the first '/' (multicast TTL/count not included) */
};

struct mg_sdp_origin {
	struct mg_sdp_str username, session_id, session_version;
	struct mg_sdp_connection connection;
};

struct mg_sdp_media_info {
	struct mg_sdp_str media; /* "audio", "video", "application", ... */
	uint16_t port;
	uint16_t port_count; /* 0 when the m= line has no "/<count>" */
	enum mg_sdp_proto proto;
	struct mg_sdp_str proto_text;
	struct mg_sdp_str formats; /* rest of the line: "0 8 101" */
};

struct mg_sdp_rtcp {
	uint16_t port;
	bool has_address;
	struct mg_sdp_connection connection; /* valid if has_address */
};

struct mg_sdp_rtpmap {
	unsigned payload_type;
	struct mg_sdp_str encoding; /* "PCMU", "opus", ... */
	uint32_t clock_rate;
	unsigned channels; /* 1 when not given */
};

struct mg_sdp_crypto {
	unsigned tag;
	struct mg_sdp_str suite;	  /* "AES_CM_128_HMAC_SHA1_80" */
	struct mg_sdp_str key_params;	  /* "inline:...|2^31|1:1" (may hold several, ';') */
	struct mg_sdp_str session_params; /* everything after key params, may be empty */
};

struct mg_sdp_fingerprint {
	struct mg_sdp_str hash_function; /* "sha-256" */
	struct mg_sdp_str fingerprint;	 /* "AB:CD:..." */
};

struct mg_sdp_candidate {
	struct mg_sdp_str foundation;
	unsigned component;
	struct mg_sdp_str transport; /* "udp", "tcp", ... */
	uint32_t priority;
	struct mg_sdp_str address;
	uint16_t port;
	struct mg_sdp_str type;	      /* "host", "srflx", "prflx", "relay" */
	struct mg_sdp_str rel_addr;   /* empty when absent */
	uint16_t rel_port;	      /* 0 when absent */
	struct mg_sdp_str extensions; /* the rest after typ/raddr/rport, may be empty */
};

/* ---- parsing and serialization ---- */

/* Parses buf[0..len). On error returns the code and mg_sdp_error() gives
 * "line N: reason"; the struct then holds no usable SDP. */
enum mg_sdp_result mg_sdp_parse(struct mg_sdp *sdp, const char *buf, size_t len);
const char *mg_sdp_error(const struct mg_sdp *sdp);
const char *mg_sdp_result_str(enum mg_sdp_result result);

/* Bytes mg_sdp_serialize() will write (no NUL terminator counted). */
size_t mg_sdp_serialized_len(const struct mg_sdp *sdp);
/* Writes the SDP with CRLF line endings into out[0..cap); adds a NUL terminator if there is
 * room for it. *out_len gets the text length (also the needed size when the buffer is too
 * small, in which case nothing is written and MG_SDP_ERR_BUFFER_TOO_SMALL is returned). */
enum mg_sdp_result mg_sdp_serialize(const struct mg_sdp *sdp, char *out, size_t cap,
				    size_t *out_len);

/* ---- generic accessors ---- */

unsigned mg_sdp_media_count(const struct mg_sdp *sdp);
/* Number of lines in a section (media sections include their m= line) and line i of it. */
unsigned mg_sdp_line_count(const struct mg_sdp *sdp, int section);
bool mg_sdp_line_get(const struct mg_sdp *sdp, int section, unsigned index, char *type,
		     struct mg_sdp_str *value);
/* First a=<name> in the section; value is the text after "name:" (empty for flags). */
bool mg_sdp_attr_get(const struct mg_sdp *sdp, int section, const char *name,
		     struct mg_sdp_str *value);
/* Iterates every a=<name> in the section: start with *cursor = 0. */
bool mg_sdp_attr_next(const struct mg_sdp *sdp, int section, const char *name, unsigned *cursor,
		      struct mg_sdp_str *value);
bool mg_sdp_attr_has(const struct mg_sdp *sdp, int section, const char *name);
/* Media-level a=<name>, falling back to the session level (ice-ufrag, fingerprint, setup...). */
bool mg_sdp_media_attr_inherited(const struct mg_sdp *sdp, unsigned media, const char *name,
				 struct mg_sdp_str *value);
/* Splits a space-separated list (formats, BUNDLE mids): start with *cursor = 0. */
bool mg_sdp_token_next(struct mg_sdp_str list, size_t *cursor, struct mg_sdp_str *token);
bool mg_sdp_str_eq(struct mg_sdp_str s, const char *cstr);

/* ---- typed accessors ---- */

bool mg_sdp_origin(const struct mg_sdp *sdp, struct mg_sdp_origin *out);
/* Session-level c= only. */
bool mg_sdp_session_connection(const struct mg_sdp *sdp, struct mg_sdp_connection *out);
/* Media-level c= only. */
bool mg_sdp_media_connection(const struct mg_sdp *sdp, unsigned media,
			     struct mg_sdp_connection *out);
/* Media-level c=, else session-level c=. */
bool mg_sdp_media_effective_connection(const struct mg_sdp *sdp, unsigned media,
				       struct mg_sdp_connection *out);
bool mg_sdp_media_info(const struct mg_sdp *sdp, unsigned media, struct mg_sdp_media_info *out);
enum mg_sdp_proto mg_sdp_proto_from_text(const char *text, size_t len);
const char *mg_sdp_proto_name(enum mg_sdp_proto proto); /* NULL for MG_SDP_PROTO_OTHER */

/* Session direction attribute, sendrecv if none. */
enum mg_sdp_direction mg_sdp_session_direction(const struct mg_sdp *sdp);
/* Media direction attribute, else the session's, else sendrecv. */
enum mg_sdp_direction mg_sdp_media_direction(const struct mg_sdp *sdp, unsigned media);
const char *mg_sdp_direction_name(enum mg_sdp_direction dir);

/* a=rtcp:<port> [IN IP4 <addr>]; false when absent or malformed. */
bool mg_sdp_media_rtcp(const struct mg_sdp *sdp, unsigned media, struct mg_sdp_rtcp *out);
bool mg_sdp_media_rtcp_mux(const struct mg_sdp *sdp, unsigned media);
/* a=setup (media, else session level). */
bool mg_sdp_media_setup(const struct mg_sdp *sdp, unsigned media, enum mg_sdp_setup *out);
const char *mg_sdp_setup_name(enum mg_sdp_setup setup);
/* a=fingerprint (media, else session level; the first one). */
bool mg_sdp_media_fingerprint(const struct mg_sdp *sdp, unsigned media,
			      struct mg_sdp_fingerprint *out);
/* a=ice-ufrag / a=ice-pwd / a=ice-options (media, else session level). */
bool mg_sdp_media_ice_ufrag(const struct mg_sdp *sdp, unsigned media, struct mg_sdp_str *out);
bool mg_sdp_media_ice_pwd(const struct mg_sdp *sdp, unsigned media, struct mg_sdp_str *out);
bool mg_sdp_media_ice_options(const struct mg_sdp *sdp, unsigned media, struct mg_sdp_str *out);
/* a=ice-lite is session level per RFC 8839; media level is tolerated too. */
bool mg_sdp_media_ice_lite(const struct mg_sdp *sdp, unsigned media);
bool mg_sdp_media_end_of_candidates(const struct mg_sdp *sdp, unsigned media);
/* Iterates the media's a=candidate lines (malformed ones are skipped): *cursor = 0 first. */
bool mg_sdp_media_candidate_next(const struct mg_sdp *sdp, unsigned media, unsigned *cursor,
				 struct mg_sdp_candidate *out);
bool mg_sdp_candidate_parse(struct mg_sdp_str value, struct mg_sdp_candidate *out);
/* Iterates the media's a=crypto lines (malformed ones are skipped): *cursor = 0 first. */
bool mg_sdp_media_crypto_next(const struct mg_sdp *sdp, unsigned media, unsigned *cursor,
			      struct mg_sdp_crypto *out);
bool mg_sdp_crypto_parse(struct mg_sdp_str value, struct mg_sdp_crypto *out);
bool mg_sdp_media_mid(const struct mg_sdp *sdp, unsigned media, struct mg_sdp_str *out);
/* a=ptime in milliseconds. */
bool mg_sdp_media_ptime(const struct mg_sdp *sdp, unsigned media, unsigned *out);
bool mg_sdp_media_rtpmap(const struct mg_sdp *sdp, unsigned media, unsigned payload_type,
			 struct mg_sdp_rtpmap *out);
/* a=fmtp:<pt> <params>; out gets <params>. */
bool mg_sdp_media_fmtp(const struct mg_sdp *sdp, unsigned media, unsigned payload_type,
		       struct mg_sdp_str *out);
/* Session-level a=group:<semantics> <mids...>; out gets the mid list ("0 1"). */
bool mg_sdp_group(const struct mg_sdp *sdp, const char *semantics, struct mg_sdp_str *mids);
/* Media index whose a=mid equals mid, or -1. */
int mg_sdp_media_by_mid(const struct mg_sdp *sdp, struct mg_sdp_str mid);

/* ---- editing (the rewrites rtpengine does on offers and answers) ----
 * Edits never move existing text; new line text goes to the edit arena (MG_SDP_EDIT_SPACE
 * bytes per parse). On an error the SDP stays well-formed, but an operation that touches
 * several lines (replace_connections, remove_ice, ...) may have been applied in part. */

/* o= address (replace-origin). */
enum mg_sdp_result mg_sdp_set_origin_address(struct mg_sdp *sdp, enum mg_sdp_addr_type type,
					     const char *address);
/* o= session version (bump it when re-offering a changed SDP). */
enum mg_sdp_result mg_sdp_set_origin_version(struct mg_sdp *sdp, uint64_t version);
/* Replaces every session-level c= or inserts one at its RFC position. */
enum mg_sdp_result mg_sdp_set_session_connection(struct mg_sdp *sdp, enum mg_sdp_addr_type type,
						 const char *address);
/* Replaces every c= of the media section or inserts one after m=/i=. */
enum mg_sdp_result mg_sdp_set_media_connection(struct mg_sdp *sdp, unsigned media,
					       enum mg_sdp_addr_type type, const char *address);
/*
 * rtpengine's rewrite: every media-level c= gets the address; the session-level c= is
 * replaced when replace_session is set (the "replace-session-connection" flag) or when some
 * media section has no c= of its own (its address comes from the session level). A media
 * section without c= while the session has none either gets its own c= inserted.
 */
enum mg_sdp_result mg_sdp_replace_connections(struct mg_sdp *sdp, enum mg_sdp_addr_type type,
					      const char *address, bool replace_session);
/* m= port, keeping "/<count>" if present. Port 0 rejects the stream. */
enum mg_sdp_result mg_sdp_media_set_port(struct mg_sdp *sdp, unsigned media, uint16_t port);
/* m= proto, e.g. "RTP/SAVP"; see mg_sdp_proto_name(). */
enum mg_sdp_result mg_sdp_media_set_proto(struct mg_sdp *sdp, unsigned media, const char *proto);
/* m= format list, e.g. "0 8 101" (codec stripping); pair with
 * mg_sdp_media_remove_payload_attrs() for the payload types dropped. */
enum mg_sdp_result mg_sdp_media_set_formats(struct mg_sdp *sdp, unsigned media,
					    const char *formats);
/* Removes a=rtpmap, a=fmtp and a=rtcp-fb lines of one payload type; *removed may be NULL. */
enum mg_sdp_result mg_sdp_media_remove_payload_attrs(struct mg_sdp *sdp, unsigned media,
						     unsigned payload_type, unsigned *removed);
/* Sets a=rtcp like mg_sdp_set_attr(): "a=rtcp:<port>" or, with address != NULL,
 * "a=rtcp:<port> IN IP4|IP6 <address>". */
enum mg_sdp_result mg_sdp_media_set_rtcp(struct mg_sdp *sdp, unsigned media, uint16_t port,
					 enum mg_sdp_addr_type type, const char *address);
enum mg_sdp_result mg_sdp_media_remove_rtcp(struct mg_sdp *sdp, unsigned media);
/* Adds a=rtcp-mux if absent, or removes every one. */
enum mg_sdp_result mg_sdp_media_set_rtcp_mux(struct mg_sdp *sdp, unsigned media, bool on);
/* Removes ice-ufrag, ice-pwd, ice-options, ice-lite, ice-mismatch, candidate,
 * end-of-candidates, remote-candidates from a section (or MG_SDP_ALL_SECTIONS). */
enum mg_sdp_result mg_sdp_remove_ice(struct mg_sdp *sdp, int section);
/* Sets a=ice-ufrag and a=ice-pwd of a section like mg_sdp_set_attr(). */
enum mg_sdp_result mg_sdp_set_ice_credentials(struct mg_sdp *sdp, int section, const char *ufrag,
					      const char *pwd);
/* Adds a=ice-lite at the session level if absent. */
enum mg_sdp_result mg_sdp_set_ice_lite(struct mg_sdp *sdp);
/* Adds "a=candidate:<value>" before any a=end-of-candidates of the media section. */
enum mg_sdp_result mg_sdp_media_add_candidate(struct mg_sdp *sdp, unsigned media,
					      const char *value);
/* Formats and adds a host/srflx/... candidate:
 * "<foundation> <component> UDP <priority> <address> <port> typ <type>". */
enum mg_sdp_result mg_sdp_media_add_candidate_fields(struct mg_sdp *sdp, unsigned media,
						     const char *foundation, unsigned component,
						     uint32_t priority, const char *address,
						     uint16_t port, const char *type);
/* Removes every a=crypto of the media section (or MG_SDP_ALL_SECTIONS). */
enum mg_sdp_result mg_sdp_remove_crypto(struct mg_sdp *sdp, int section);
/* Appends "a=crypto:<tag> <suite> <key_params>[ <session_params>]". */
enum mg_sdp_result mg_sdp_media_add_crypto(struct mg_sdp *sdp, unsigned media, unsigned tag,
					   const char *suite, const char *key_params,
					   const char *session_params);
/* Sets a=setup of the section like mg_sdp_set_attr(). */
enum mg_sdp_result mg_sdp_set_setup(struct mg_sdp *sdp, int section, enum mg_sdp_setup setup);
/* Sets "a=fingerprint:<hash> <fingerprint>" of the section like mg_sdp_set_attr(). */
enum mg_sdp_result mg_sdp_set_fingerprint(struct mg_sdp *sdp, int section,
					  const char *hash_function, const char *fingerprint);
/* Removes sendrecv/sendonly/recvonly/inactive in the section and appends the given one. */
enum mg_sdp_result mg_sdp_set_direction(struct mg_sdp *sdp, int section, enum mg_sdp_direction dir);
/* Removes every a=<name> (with or without value) of a section or MG_SDP_ALL_SECTIONS;
 * *removed (may be NULL) gets the count. Returns OK even when none matched. */
enum mg_sdp_result mg_sdp_remove_attr(struct mg_sdp *sdp, int section, const char *name,
				      unsigned *removed);
/* Appends "a=<name>:<value>" (or "a=<name>" when value is NULL) at the end of the section. */
enum mg_sdp_result mg_sdp_add_attr(struct mg_sdp *sdp, int section, const char *name,
				   const char *value);
/* The first a=<name> of the section gets the new value in place and later duplicates are
 * removed; with none, one is appended (as mg_sdp_add_attr()). */
enum mg_sdp_result mg_sdp_set_attr(struct mg_sdp *sdp, int section, const char *name,
				   const char *value);

/* Removes line `index` of a section (see mg_sdp_line_get); the m=, v=, o= and s= lines
 * cannot be removed. */
enum mg_sdp_result mg_sdp_remove_line(struct mg_sdp *sdp, int section, unsigned index);

#endif /* MG_SDP_H */
