/* Recording in the running mediagate (issue 6, docs/recording.md): the control side that
 * ties the recording policy (lib/rec) to calls, the worker fork rings and the ship.
 *
 *  - Control thread: one policy per contact (ng contact-id); ng events go through
 *    mg_recorder_event; when the policy says STARTED the recorder opens the recording
 *    (data key from lib/keys, spool file from lib/store, envelope writer: all disk and token
 *    work stays here) and hands the writer to the ship through a command ring; when it
 *    says CHANGED the legs' channels go to the workers (mg_call_configure); when STOPPED the
 *    ship is told to close and the outcome comes back through a return ring, then the spool
 *    file is committed (partial flag) and lib/store's delivery uploads it.
 *  - Ship (its own lcore, or the control thread between its other work when lcores.ship is
 *    none): mg_recorder_ship_step applies open/close commands, then drains the rings.
 * Telemetry reads the figures from its own thread (whole 64-bit words, the contact table
 * under the recorder's lock). */
#ifndef MG_RECORDER_H
#define MG_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "rec.h"
#include "session.h"

struct mg_keys;
struct mg_recorder;

/* Opens the spool/store (and its delivery worker when recording.s3_endpoint is set), the
 * rings (one per worker) and the ship. keys must be open. Returns NULL with err filled. */
struct mg_recorder *mg_recorder_create(const struct mg_profile *profile, struct mg_keys *keys,
				       struct mg_sessions *sessions, char *err, size_t errlen);
/* Gives the workers their rings; before mg_dp_start. */
int mg_recorder_attach(struct mg_recorder *r, struct mg_dataplane *dp);
/* After a restore (session state): puts the restored calls' legs back into their contacts'
 * policies as their snapshots had them and, for each contact that was being recorded,
 * starts a new recording and gives the legs their channels again. After attach, before the
 * workers start. Returns the recordings started. */
unsigned mg_recorder_resume(struct mg_recorder *r);
/* Closes every open recording (marked partial: cut short by the stop), commits it and
 * frees everything. The ship must have stopped (mg_recorder_ship_stop + lcore wait). */
void mg_recorder_destroy(struct mg_recorder *r);

/* Ship: one step (commands, then up to recording.ship_budget records). Returns the number
 * of records and commands processed. */
unsigned mg_recorder_ship_step(struct mg_recorder *r);
/* Loop for a dedicated lcore (rte_eal_remote_launch; arg = the recorder). */
int mg_recorder_ship_main(void *arg);
void mg_recorder_ship_stop(struct mg_recorder *r);

/* Control thread, every loop: commits what the ship closed, and once a second notices calls
 * that are gone (their legs leave the policy). Returns items processed. */
unsigned mg_recorder_control_poll(struct mg_recorder *r);

/* ng: applies one policy event for side `side` of call c (contact from c->contact_id, roles
 * from c->role). Legs with a role are added to the contact's policy first. Returns 0, or -1
 * with err filled (no contact-id, no role, policy refused the event, recording failed to
 * open). */
int mg_recorder_event(struct mg_recorder *r, struct mg_call *c, int side,
		      enum mg_rec_event_type type, enum mg_rec_mode mode, char *err, size_t errlen);
/* The contact's recording mode now (MG_REC_MODE_NONE when the call has no contact yet). */
enum mg_rec_mode mg_recorder_mode(struct mg_recorder *r, const struct mg_call *c);
/* After a call of contact_id was deleted (ng delete): its legs leave the policy now rather
 * than at the next once-a-second check. */
void mg_recorder_call_deleted(struct mg_recorder *r, const char *contact_id);
/* After offer/answer: adds the call's legs that have a role to their contact's policy. */
void mg_recorder_sync_call(struct mg_recorder *r, struct mg_call *c);

/* Figures for telemetry and Prometheus: emit(arg, name, value, is_gauge). */
typedef void (*mg_recorder_metric_fn)(void *arg, const char *name, uint64_t value, bool gauge);
void mg_recorder_metrics(struct mg_recorder *r, mg_recorder_metric_fn emit, void *arg);
unsigned mg_recorder_rings(const struct mg_recorder *r);
void mg_recorder_ring_stats(const struct mg_recorder *r, unsigned ring,
			    struct mg_rec_ring_stats *st);

/* One open or recently finished recording, for /mediagate/recordings. */
struct mg_recorder_contact_info {
	char contact_id[64];
	char object_key[1024];
	uint32_t slot, generation;
	bool open, partial;
	uint64_t records, ring_drops, stale, bytes_plain;
	uint64_t recordings; /* opened for this contact so far */
};
/* Calls fn for each contact known to the recorder (under its lock). */
void mg_recorder_each_contact(struct mg_recorder *r,
			      void (*fn)(void *arg, const struct mg_recorder_contact_info *ci),
			      void *arg);

struct mg_recorder_stats {
	uint64_t in_progress;	    /* recordings open now */
	uint64_t started, finished; /* since start */
	uint64_t finished_partial;
	uint64_t open_failures; /* could not open (keys, spool full, ...) */
	uint64_t commit_failures;
	uint64_t bytes_sealed; /* sealed bytes of finished recordings + open ones so far */
	uint64_t bytes_plain;  /* WAV bytes handed to the sealer */
	uint64_t ring_drops;   /* records dropped (all rings) */
	uint64_t events, event_errors;
	/* spool / delivery (lib/store) */
	uint64_t spool_files, spool_bytes, delivered, upload_failures, spool_full_events;
	bool spool_full_alarm;
};
void mg_recorder_get_stats(struct mg_recorder *r, struct mg_recorder_stats *st);

#endif
