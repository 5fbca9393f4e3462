/* Recording in the data path (issue 6; PRODUCT.md M6, M7, P4, R4).
 *
 * Three parts, no ports needed (docs/recording.md):
 *  - policy: a pure state machine per contact, fed with control-path events, answering which
 *    legs go into which channel of the recording (the seeds' rules, M6);
 *  - fork: fixed-size records a worker copies per recorded packet into its own
 *    single-producer/single-consumer rte_ring, drained in bursts by the ship lcore; a full
 *    ring or an empty record pool never blocks: the record is dropped and counted per ring
 *    and per contact, and the contact's recording is marked partial (M7, R4);
 *  - wav: per contact, an aligner that places each leg's 20 ms frames by RTP timestamp and
 *    emits a stereo 8 kHz 16-bit PCM WAV byte stream incrementally to a sink (the envelope
 *    writer, whose sink is the spool: plaintext never touches disk).
 *  - ship: the consumer side tying them together (contact table, aligner + envelope writer
 *    per open recording).
 * Threading: a policy belongs to the control path; a fork handle to one producer (worker);
 * the hub's drain/release and everything in a ship to one consumer (ship lcore). */
#ifndef MG_REC_H
#define MG_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mg_envelope_writer;

/* ------------------------------------------------------------------------------------ */
/* Policy                                                                               */

enum mg_rec_mode {
	MG_REC_MODE_NONE = 0,	  /* recording disabled for the contact */
	MG_REC_MODE_AGENT = 1,	  /* agent only */
	MG_REC_MODE_CUSTOMER = 2, /* customer only */
	MG_REC_MODE_BOTH = 3,	  /* agent and customer */
};

enum mg_rec_role {
	MG_REC_ROLE_CUSTOMER = 0,
	MG_REC_ROLE_AGENT = 1,
	MG_REC_ROLE_THIRD_PARTY = 2, /* external number (conference, transfer) */
	MG_REC_ROLE_IVR = 3,	     /* flow / IVR / bot */
};

/* Channels of the stereo WAV: left = customer side, right = agent. */
enum mg_rec_channel {
	MG_REC_CH_CUSTOMER = 0,
	MG_REC_CH_AGENT = 1,
	MG_REC_CH_NONE = 0xff, /* not recorded */
};

enum mg_rec_state {
	MG_REC_STATE_WAITING = 0, /* not yet connected to an agent (IVR / flow / queue) */
	MG_REC_STATE_ACTIVE = 1,  /* connected to an agent: recording */
	MG_REC_STATE_ENDED = 2,	  /* the agent disconnected: recording over for good */
};

enum mg_rec_event_type {
	MG_REC_EV_SET_MODE,	      /* mode (flow's "set recording behavior"; ng start/stop) */
	MG_REC_EV_LEG_ADD,	      /* leg, role: a leg exists (customer in the flow, IVR, ...) */
	MG_REC_EV_LEG_REMOVE,	      /* leg: a leg is gone */
	MG_REC_EV_AGENT_CONNECTED,    /* leg: the contact is connected to this agent */
	MG_REC_EV_AGENT_DISCONNECTED, /* leg: this agent disconnected */
	MG_REC_EV_HOLD,		      /* leg: put on hold (the customer) */
	MG_REC_EV_UNHOLD,
	MG_REC_EV_MUTE, /* leg: muted its own microphone (the agent); ng block media */
	MG_REC_EV_UNMUTE,
	MG_REC_EV_TRANSFER_AGENT,    /* leg: another agent joined for a transfer / consult */
	MG_REC_EV_TRANSFER_EXTERNAL, /* leg: an external number joined (transfer / consult) */
	MG_REC_EV_CONFERENCE_JOIN,   /* leg, role: a party joined the conference */
	MG_REC_EV_CONFERENCE_LEAVE,  /* leg: a party left the conference */
};

struct mg_rec_event {
	enum mg_rec_event_type type;
	uint32_t leg;	       /* caller's leg id (any value, unique within the contact) */
	enum mg_rec_role role; /* LEG_ADD, CONFERENCE_JOIN */
	enum mg_rec_mode mode; /* SET_MODE */
};

#define MG_REC_POLICY_MAX_LEGS 8

struct mg_rec_policy_leg {
	uint32_t id;
	uint8_t role; /* enum mg_rec_role */
	bool present, connected, on_hold, muted;
};

/* Plain value, no allocation: copyable, storable (e.g. into the session state). */
struct mg_rec_policy {
	uint8_t mode;  /* enum mg_rec_mode */
	uint8_t state; /* enum mg_rec_state */
	uint8_t n_legs;
	int8_t primary; /* index of the agent the contact is connected to, -1 = none */
	struct mg_rec_policy_leg legs[MG_REC_POLICY_MAX_LEGS];
};

/* Result bits of mg_rec_policy_apply. */
#define MG_REC_POLICY_CHANGED 0x01 /* some leg's channel changed: push to the workers */
#define MG_REC_POLICY_STARTED 0x02 /* recording begins now: open the recording */
#define MG_REC_POLICY_STOPPED 0x04 /* recording ends now: close the recording */

void mg_rec_policy_init(struct mg_rec_policy *p, enum mg_rec_mode mode);
/* Applies one event. Returns a combination of the bits above (0 = nothing changed), or -1
 * for an invalid event (unknown leg, too many legs, bad role/mode), which changes nothing. */
int mg_rec_policy_apply(struct mg_rec_policy *p, const struct mg_rec_event *ev);
/* Which channel leg's audio goes into right now (MG_REC_CH_NONE: not recorded). */
enum mg_rec_channel mg_rec_policy_channel(const struct mg_rec_policy *p, uint32_t leg);
enum mg_rec_state mg_rec_policy_state(const struct mg_rec_policy *p);
const char *mg_rec_channel_name(enum mg_rec_channel ch);

/* ------------------------------------------------------------------------------------ */
/* Fork records, rings and the 8 kHz clock                                              */

#define MG_REC_FRAME_SAMPLES 160 /* 20 ms at 8 kHz */
#define MG_REC_PAYLOAD_MAX   160 /* G.711 bytes per record; longer packets are split */

/* Payload encodings a record can carry (RTP static payload types). */
#define MG_REC_PT_PCMU 0
#define MG_REC_PT_PCMA 8

/* One recorded packet as the worker copies it: 32-byte header + up to 20 ms of raw G.711,
 * 192 bytes = 3 cache lines, allocated from the ring's preallocated pool. */
struct mg_rec_record {
	uint32_t contact;    /* contact slot in the ship's table */
	uint32_t generation; /* slot generation: records of a closed recording are discarded */
	uint64_t arrival;    /* worker's 8 kHz clock (mg_rec_clock_now) when received */
	uint32_t ssrc;
	uint32_t rtp_ts;
	uint16_t seq;
	uint8_t pt;	 /* MG_REC_PT_PCMU / MG_REC_PT_PCMA */
	uint8_t leg;	 /* source index within the contact, 0 .. MG_REC_WAV_SOURCES-1 */
	uint8_t channel; /* enum mg_rec_channel, from the policy when forked */
	uint8_t flags;
	uint16_t len; /* payload bytes (= samples), 1 .. MG_REC_PAYLOAD_MAX */
	uint8_t payload[MG_REC_PAYLOAD_MAX];
} __attribute__((aligned(64)));

/* 8 kHz clock from the TSC (one sample = 125 us). mg_rec_clock_init once after EAL init. */
void mg_rec_clock_init(void);
uint64_t mg_rec_clock_now(void);

struct mg_rec_hub_config {
	unsigned rings;	       /* one per worker (producer) */
	unsigned ring_size;    /* power of two, >= 2 (usable: ring_size - 1) */
	unsigned pool_size;    /* records per ring's pool; 0 = 2 * ring_size */
	uint32_t max_contacts; /* contact slots (per-contact drop counters) */
	int socket_id;	       /* -1 = SOCKET_ID_ANY */
	const char *name;      /* ring/pool name prefix (unique per process), NULL = "mgrec" */
};

struct mg_rec_ring_stats {
	uint64_t forked;       /* records enqueued */
	uint64_t dropped_full; /* ring full */
	uint64_t dropped_pool; /* no free record */
	uint64_t drained;      /* records taken by the consumer */
};

struct mg_rec_hub;  /* rings + pools + per-contact drop counters; shared */
struct mg_rec_fork; /* one producer's handle on its ring */

int mg_rec_hub_create(struct mg_rec_hub **hub, const struct mg_rec_hub_config *cfg);
void mg_rec_hub_free(struct mg_rec_hub *hub); /* after producers and consumer stopped */
unsigned mg_rec_hub_rings(const struct mg_rec_hub *hub);
uint32_t mg_rec_hub_max_contacts(const struct mg_rec_hub *hub);
struct mg_rec_fork *mg_rec_hub_fork(struct mg_rec_hub *hub, unsigned ring);
void mg_rec_hub_ring_stats(const struct mg_rec_hub *hub, unsigned ring,
			   struct mg_rec_ring_stats *st);
/* Records dropped for a contact slot since the slot was last reset (any ring). */
uint64_t mg_rec_hub_contact_drops(const struct mg_rec_hub *hub, uint32_t contact);
void mg_rec_hub_contact_reset(struct mg_rec_hub *hub, uint32_t contact);

/* Producer (worker), per recorded packet: copies the header fields and payload into a record
 * (payloads over 20 ms are split into several records, timestamps advanced) and stages it;
 * mg_rec_fork_flush enqueues the staged records with one rte_ring_sp_enqueue_burst (call it
 * once per rx burst; add flushes by itself when its stage is full). Never blocks. Returns the
 * number of records staged (0: dropped, counted). */
unsigned mg_rec_fork_add(struct mg_rec_fork *f, uint32_t contact, uint32_t generation, uint8_t leg,
			 uint8_t channel, uint32_t ssrc, uint32_t rtp_ts, uint16_t seq, uint8_t pt,
			 uint64_t arrival, const uint8_t *payload, uint16_t len);
unsigned mg_rec_fork_flush(struct mg_rec_fork *f); /* returns records enqueued */

/* Consumer (ship): records from one ring (up to max), then give them back in bulk. */
unsigned mg_rec_hub_drain(struct mg_rec_hub *hub, unsigned ring, struct mg_rec_record **out,
			  unsigned max);
void mg_rec_hub_release(struct mg_rec_hub *hub, unsigned ring, struct mg_rec_record **recs,
			unsigned n);

/* ------------------------------------------------------------------------------------ */
/* Stereo WAV aligner                                                                   */

#define MG_REC_WAV_SOURCES    8	 /* legs per contact (record.leg) */
#define MG_REC_WAV_HEADER_LEN 44 /* canonical RIFF/fmt /data header */
#define MG_REC_WAV_RING	      16 /* frames (320 ms) held for reordering */

/* Receives the WAV byte stream in order (the envelope writer's write in production). */
typedef int (*mg_rec_wav_sink_fn)(void *arg, const void *bytes, size_t len);

struct mg_rec_wav_config {
	uint32_t holdback; /* samples kept back for late packets before emitting; 0 = 640 (80 ms);
			      at most (MG_REC_WAV_RING - 2) frames */
	uint32_t resync;   /* re-anchor a source whose timestamps stray this many samples from
			      its arrival clock; 0 = 16000 (2 s) */
};

struct mg_rec_wav_stats {
	uint64_t packets;     /* placed */
	uint64_t duplicates;  /* same SSRC + sequence seen again */
	uint64_t late;	      /* arrived after its samples were emitted */
	uint64_t clipped;     /* samples of packets that were partly too late or too early */
	uint64_t anchors;     /* (re-)anchors: first packet, SSRC change, timestamp jump */
	uint64_t bad;	      /* unknown payload type, bad leg/channel/length */
	uint64_t samples_out; /* per channel */
	uint64_t bytes_out;   /* header included */
	int sink_error;	      /* first non-zero sink return, 0 = none */
};

struct mg_rec_wav;
/* start: recording start on the 8 kHz clock (sample 0 of the WAV). Writes the header at
 * once (sizes 0xFFFFFFFF: unknown while streaming, see mg_rec_wav_fix_header). */
int mg_rec_wav_create(struct mg_rec_wav **w, const struct mg_rec_wav_config *cfg, uint64_t start,
		      mg_rec_wav_sink_fn sink, void *sink_arg);
void mg_rec_wav_free(struct mg_rec_wav *w);
/* Places one record (channel and leg from the record). Emits what is older than the
 * record's arrival minus the holdback. Returns 0, or -1 if the record was not used. */
int mg_rec_wav_put(struct mg_rec_wav *w, const struct mg_rec_record *r);
/* Prefetch hint for the lines mg_rec_wav_put will read for r (the ship's burst loop). */
void mg_rec_wav_prefetch(const struct mg_rec_wav *w, const struct mg_rec_record *r);
/* Emits everything older than now - holdback (silence where nothing arrived). */
int mg_rec_wav_advance(struct mg_rec_wav *w, uint64_t now);
/* Emits everything up to end (rounded up to a whole frame) and stops; returns 0 or the
 * sink's error. Total bytes = MG_REC_WAV_HEADER_LEN + 4 * samples_out. */
int mg_rec_wav_finish(struct mg_rec_wav *w, uint64_t end);
void mg_rec_wav_get_stats(const struct mg_rec_wav *w, struct mg_rec_wav_stats *st);

/* The 44-byte header; data_bytes = UINT32_MAX writes the streaming form (both sizes
 * 0xFFFFFFFF). */
void mg_rec_wav_header(uint8_t out[MG_REC_WAV_HEADER_LEN], uint32_t data_bytes);
/* For readers that know the total plaintext length (mediagate-rec get, after decryption or
 * from the sealed size): rewrites the RIFF and data sizes of our streaming header in buf
 * (the first bytes of the stream). Returns 1 patched, 0 not our header (left alone), -1 bad
 * length. */
int mg_rec_wav_fix_header(uint8_t *buf, size_t len, uint64_t total_len);

/* Strict reader of a WAV file's header (PCM 16-bit, G.711 A-law / mu-law), for tools that
 * check recordings (mediagate-rec get) and fuzzing. buf holds the first len bytes of a file
 * of file_len bytes (len <= file_len); everything up to the data chunk must be in buf
 * (MG_REC_WAV_ERR_SHORT_BUFFER otherwise: read more). Checks, in order: RIFF/WAVE magic; the
 * RIFF size equals file_len - 8 (or is the streaming placeholder 0xFFFFFFFF); every chunk
 * before data lies inside the RIFF; exactly one fmt chunk, before data, 16 bytes or 18 +
 * its extension size; format 1 with 16 bits or 6/7 with 8 bits; 1..8 channels, rate
 * 1..384000, block align and byte rate consistent; fact (optional) at least 4 bytes; data
 * inside the RIFF (or to the end of the file with the streaming placeholder in both sizes)
 * and a whole number of sample frames. Other chunks (LIST, cue, ...) are skipped; chunks
 * after data are not examined. Returns MG_REC_WAV_OK or one MG_REC_WAV_ERR_* per reason. */
enum mg_rec_wav_read_status {
	MG_REC_WAV_OK = 0,
	MG_REC_WAV_ERR_ARG = -1,
	MG_REC_WAV_ERR_SHORT_BUFFER = -2, /* header continues past len: pass more bytes */
	MG_REC_WAV_ERR_TRUNCATED = -3,	  /* the file ends inside the header */
	MG_REC_WAV_ERR_NOT_WAVE = -4,	  /* no RIFF ... WAVE */
	MG_REC_WAV_ERR_RIFF_SIZE = -5,	  /* RIFF size != file length - 8 */
	MG_REC_WAV_ERR_CHUNK_SIZE = -6,	  /* a chunk before data runs past the RIFF end */
	MG_REC_WAV_ERR_FMT_MISSING = -7,  /* data before fmt */
	MG_REC_WAV_ERR_FMT_DUPLICATE = -8,
	MG_REC_WAV_ERR_FMT_SIZE = -9,
	MG_REC_WAV_ERR_FORMAT = -10,	 /* format tag not 1, 6 or 7 (extensible not accepted) */
	MG_REC_WAV_ERR_FMT_FIELDS = -11, /* channels, rate, bits, block align, byte rate */
	MG_REC_WAV_ERR_FACT = -12,
	MG_REC_WAV_ERR_NO_DATA = -13,
	MG_REC_WAV_ERR_DATA_SIZE = -14, /* past the end, or not whole sample frames */
};

#define MG_REC_WAV_FORMAT_PCM	1
#define MG_REC_WAV_FORMAT_ALAW	6
#define MG_REC_WAV_FORMAT_MULAW 7
#define MG_REC_WAV_MAX_CHANNELS 8
#define MG_REC_WAV_MAX_RATE	384000

struct mg_rec_wav_info {
	uint16_t format; /* MG_REC_WAV_FORMAT_* */
	uint16_t channels;
	uint32_t sample_rate;
	uint16_t bits_per_sample; /* 16 (PCM) or 8 (G.711) */
	uint16_t block_align;	  /* bytes per sample frame: channels * bits / 8 */
	uint64_t data_offset;	  /* first sample byte in the file */
	uint64_t data_bytes;
	uint64_t frames;      /* sample frames: duration = frames / sample_rate */
	bool streaming;	      /* both sizes were 0xFFFFFFFF: data runs to the end of the file */
	bool has_fact;	      /* fact chunk present (G.711 writers add one) */
	uint32_t fact_frames; /* its sample count (streaming writers leave 0) */
};

int mg_rec_wav_read_header(const uint8_t *buf, size_t len, uint64_t file_len,
			   struct mg_rec_wav_info *info);
const char *mg_rec_wav_strerror(int status);

/* G.711 expansion used by the aligner (lib/g711's tables). */
int16_t mg_rec_g711_decode(uint8_t pt, uint8_t byte);

/* ------------------------------------------------------------------------------------ */
/* Ship: the consumer lcore's table of open recordings                                  */

struct mg_rec_contact_stats {
	uint64_t records;     /* records received for the open recording */
	uint64_t stale;	      /* records for the slot with an old generation */
	uint64_t ring_drops;  /* dropped on the producer side (hub counter) */
	uint64_t bytes_plain; /* WAV bytes handed to the writer */
	bool open, partial;
};

struct mg_rec_ship_stats {
	uint64_t polls, records, stale, unknown, opened, closed, partial, write_errors;
};

struct mg_rec_ship;
int mg_rec_ship_create(struct mg_rec_ship **ship, struct mg_rec_hub *hub,
		       const struct mg_rec_wav_config *wav_cfg);
void mg_rec_ship_free(struct mg_rec_ship *ship); /* aborts writers still open */
/* Opens a recording on slot (the caller opened writer, whose sink is the spool file; the
 * ship owns it until close). start: the 8 kHz clock when the policy said STARTED. Resets
 * the slot's drop counter. */
int mg_rec_ship_open(struct mg_rec_ship *ship, uint32_t contact, uint32_t generation,
		     uint64_t start, struct mg_envelope_writer *writer);
/* Drains every ring once in bursts (up to budget records in all), places records, then
 * advances every open recording to now. Returns records processed. */
unsigned mg_rec_ship_poll(struct mg_rec_ship *ship, uint64_t now, unsigned budget);
/* Finishes the WAV up to end and the envelope's final frame, marked partial when records
 * were dropped for this contact, the writer failed, or force_partial. Returns 0 or a
 * negative envelope status; *partial says how it ended. The caller commits the spool file
 * (mg_store_spool_commit(file, *partial)). */
int mg_rec_ship_close(struct mg_rec_ship *ship, uint32_t contact, uint64_t end, bool force_partial,
		      bool *partial);
int mg_rec_ship_contact_stats(const struct mg_rec_ship *ship, uint32_t contact,
			      struct mg_rec_contact_stats *st);
void mg_rec_ship_get_stats(const struct mg_rec_ship *ship, struct mg_rec_ship_stats *st);

#endif
