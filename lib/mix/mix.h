/* Conference mixer for a worker lcore (issue 8, PRODUCT.md M5).
 *
 * One struct mg_mix is one conference of up to MG_MIX_MAX_PARTICIPANTS G.711 participants
 * at 8 kHz with 20 ms frames. It is owned by one lcore: every function below must be
 * called from that lcore only (the stats structs may be read by others, see below).
 * After creation nothing allocates, locks or makes a system call: join, leave, push
 * and tick work on memory preallocated in the conference.
 *
 * Per participant:
 *  - input: plaintext RTP packets (after SRTP unprotect) are pushed with mg_mix_push().
 *    Audio (the participant's G.711 payload type, 160-byte payloads) goes into an
 *    adaptive jitter buffer; RFC 4733 telephone-events (its negotiated telephone-event
 *    payload type) are not mixed but rewritten for and queued to every other
 *    participant (mg_mix_events());
 *  - output: every tick produces one RTP packet for it (12-byte header + 160 bytes),
 *    the mix of everyone else (N-1), saturated to int16, encoded with its own law,
 *    on its own output stream (SSRC, sequence number and timestamp given at join,
 *    continuous while it is in the conference, whoever joins or leaves).
 *  - states: muted (its audio is not mixed; it still hears), on hold (its audio is not
 *    mixed and it hears silence: its packets then carry digital silence).
 *
 * The jitter buffer, concealment and mixing rules are documented in docs/mixing.md. */
#ifndef MG_MIX_H
#define MG_MIX_H

#include <stddef.h>
#include <stdint.h>

#include "g711.h"

#define MG_MIX_MAX_PARTICIPANTS 8
#define MG_MIX_FRAME_SAMPLES	160 /* 20 ms at 8 kHz */
#define MG_MIX_RTP_HDR		12
#define MG_MIX_PKT_MAX		(MG_MIX_RTP_HDR + MG_MIX_FRAME_SAMPLES)
#define MG_MIX_JB_SLOTS		16 /* frames the jitter buffer can hold (320 ms) */
#define MG_MIX_JB_MAX_DEPTH	12 /* largest allowed jb_max (frames) */
#define MG_MIX_JB_DEFAULT_MIN	2  /* 40 ms */
#define MG_MIX_JB_DEFAULT_MAX	10 /* 200 ms */
#define MG_MIX_EVENT_QUEUE	32 /* forwarded telephone-event packets held per conference */

struct mg_mix;

struct mg_mix_participant_cfg {
	enum mg_g711_law law; /* what it sends and what it receives */
	uint8_t pt;	      /* RTP payload type of its audio, both directions (0 / 8 usually) */
	int16_t te_pt;	      /* telephone-event payload type (96..127 usually), -1: none */
	uint32_t out_ssrc;    /* SSRC of the stream the mixer sends to it */
	uint16_t out_seq;     /* sequence number of its first output packet */
	uint32_t out_ts;      /* timestamp of its first output packet */
	uint8_t jb_min;	      /* jitter buffer depth bounds in frames; 0: defaults */
	uint8_t jb_max;	      /* 1 <= jb_min <= jb_max <= MG_MIX_JB_MAX_DEPTH */
	uint8_t muted;	      /* initial states */
	uint8_t on_hold;
};

/* One packet produced by the mixer: for participant `to`, `len` bytes in data. */
struct mg_mix_pkt {
	uint8_t to;
	uint8_t is_event; /* 1: a forwarded telephone-event, 0: mixed audio */
	uint16_t len;
	uint8_t data[MG_MIX_PKT_MAX];
};

/* Per participant counters. Written only by the owning lcore; 64-bit words another
 * thread may read whole. Reset when a participant joins into the slot. */
struct mg_mix_pstats {
	uint64_t packets;    /* audio packets accepted into the jitter buffer */
	uint64_t played;     /* frames played from received packets */
	uint64_t late;	     /* audio packets that arrived after their playout time (dropped) */
	uint64_t lost;	     /* frames missing at their playout time (includes late ones) */
	uint64_t concealed;  /* frames replaced by an attenuated repeat or silence */
	uint64_t duplicates; /* audio or event packets received twice (dropped) */
	uint64_t overruns;   /* packets too far ahead for the buffer: older frames skipped */
	uint64_t grown;	     /* frames inserted to deepen the buffer (after late packets) */
	uint64_t shrunk;     /* frames dropped to make it shallower (excess depth) */
	uint64_t resyncs;    /* playout restarted: new SSRC, timestamp jump, after idle */
	uint64_t discarded;  /* stray packets far outside the playout window (dropped) */
	uint64_t malformed;  /* not RTP, or an audio payload that is not 160 bytes */
	uint64_t ignored;    /* other payload types (comfort noise, ...) */
	uint64_t events_in;  /* telephone-event packets received */
	uint64_t events_out; /* telephone-event packets queued for it (from the others) */
	uint64_t frames_out; /* audio packets produced for it */
	uint64_t jb_depth;   /* frames buffered at the last tick (before playout) */
	uint64_t jb_target;  /* current target depth in frames */
};

struct mg_mix_stats {
	uint64_t ticks;
	uint64_t tick_overruns;	    /* ticks the caller reported as late */
	uint64_t event_queue_drops; /* forwarded events lost because the queue was full */
	uint64_t participants;	    /* current number */
};

/* --- creation (control path) --- */

/* Bytes and alignment (64) of a conference, for callers that place it themselves
 * (e.g. rte_malloc_socket on the worker's NUMA node). */
size_t mg_mix_footprint(void);
/* Initialises a conference in `mem` (len >= mg_mix_footprint(), 64-byte aligned).
 * Returns NULL on a bad argument. Nothing to free besides `mem`. */
struct mg_mix *mg_mix_init(void *mem, size_t len);
/* Convenience: aligned_alloc + init / free. */
struct mg_mix *mg_mix_create(void);
void mg_mix_destroy(struct mg_mix *m);

/* --- participants (owning lcore; no allocation) --- */

/* Adds a participant; returns its id (0..MG_MIX_MAX_PARTICIPANTS-1), -1 when the
 * conference is full, -2 for a bad configuration. Its output starts at the next tick
 * (first packet has the marker bit). */
int mg_mix_join(struct mg_mix *m, const struct mg_mix_participant_cfg *cfg);
/* Removes it; telephone-events still queued for it are discarded. 0 or -1 (bad id). */
int mg_mix_leave(struct mg_mix *m, unsigned id);
int mg_mix_set_muted(struct mg_mix *m, unsigned id, int muted);
int mg_mix_set_hold(struct mg_mix *m, unsigned id, int on_hold);
/* The next output packet's SSRC, sequence number and timestamp: where a relay that
 * takes over after the conference continues the stream. 0 or -1 (bad id). */
int mg_mix_out_state(const struct mg_mix *m, unsigned id, uint32_t *ssrc, uint16_t *next_seq,
		     uint32_t *next_ts);

/* --- media (owning lcore; no allocation, locks or system calls) --- */

enum mg_mix_push_status {
	MG_MIX_PUSH_QUEUED = 0, /* audio frame stored in the jitter buffer */
	MG_MIX_PUSH_EVENT,	/* telephone-event: copies queued for the others */
	MG_MIX_PUSH_LATE,	/* audio after its playout time: dropped, counted */
	MG_MIX_PUSH_DUPLICATE,	/* dropped, counted */
	MG_MIX_PUSH_OVERRUN,	/* stored, older buffered frames skipped, counted */
	MG_MIX_PUSH_RESYNC,	/* stored; playout restarted on it, counted */
	MG_MIX_PUSH_DISCARDED,	/* stray packet far outside the playout window, counted */
	MG_MIX_PUSH_IGNORED,	/* other payload type / on-hold event, counted */
	MG_MIX_PUSH_MALFORMED,	/* counted */
	MG_MIX_PUSH_BAD_ID,	/* no such participant */
};

/* Takes one plaintext RTP packet from participant `id`. The packet is copied; the
 * caller keeps its buffer. */
enum mg_mix_push_status mg_mix_push(struct mg_mix *m, unsigned id, const uint8_t *pkt, size_t len);

/* One 20 ms tick: plays one frame per participant out of its jitter buffer, mixes and
 * encodes. `late` != 0 tells the mixer that this tick ran late (counted in
 * tick_overruns; the caller may call mg_mix_tick again to catch up). Returns the number
 * of output packets; *out points to them (one per participant, by ascending id), valid
 * until the next tick. */
unsigned mg_mix_tick(struct mg_mix *m, int late, const struct mg_mix_pkt **out);

/* Optional: starts loading the cache lines the next mg_mix_tick (or push) of this
 * conference will touch. A worker ticking many conferences calls it for conference k+1
 * (or k+2) before ticking conference k. It reads the participants' active flags and
 * playout positions, writes nothing. */
void mg_mix_prefetch(const struct mg_mix *m);

/* Telephone-event packets queued by mg_mix_push since the last clear, in arrival order,
 * each already rewritten for its receiver (its te_pt, SSRC, a sequence number from its
 * output stream and a timestamp on its output timeline). The caller sends them and then
 * clears the queue; they take sequence numbers, so send them before the next tick's
 * audio. */
unsigned mg_mix_events(const struct mg_mix *m, const struct mg_mix_pkt **ev);
void mg_mix_events_clear(struct mg_mix *m);

/* --- counters --- */
const struct mg_mix_stats *mg_mix_stats(const struct mg_mix *m);
/* NULL for an id that is not in the conference. */
const struct mg_mix_pstats *mg_mix_pstats(const struct mg_mix *m, unsigned id);
const char *mg_mix_push_status_name(enum mg_mix_push_status s);

#endif
