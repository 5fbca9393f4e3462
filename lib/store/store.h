/* Two-phase storage of sealed recordings: a local spool (crash-safe: <name>.part, fsync,
 * atomic rename) and a delivery worker that uploads finished recordings to an S3-compatible
 * bucket with SigV4 (libcurl), retrying with exponential backoff, deleting from the spool
 * only after the bucket confirmed the exact bytes. Plus the local search index: one metadata
 * file per recording (PII fields arrive already sealed by lib/keys; this library never sees
 * them in clear). */
#ifndef MG_STORE_H
#define MG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define MG_STORE_NAME_MAX 128
#define MG_STORE_KEY_MAX  1024	   /* object keys */
#define MG_STORE_SUFFIX	  ".mgenc" /* envelope suffix after the .wav object name */

enum mg_store_status {
	MG_STORE_OK = 0,
	MG_STORE_ERR_ARG = -1,
	MG_STORE_ERR_IO = -2,	/* spool or index I/O */
	MG_STORE_ERR_FULL = -3, /* spool at its byte bound: alarm raised */
	MG_STORE_ERR_NOT_FOUND = -4,
	MG_STORE_ERR_NETWORK = -5, /* bucket unreachable */
	MG_STORE_ERR_AUTH = -6,	   /* bucket refused the credentials or signature (403) */
	MG_STORE_ERR_HTTP = -7,	   /* other HTTP failure */
	MG_STORE_ERR_VERIFY = -8,  /* bucket stored different bytes (ETag mismatch) */
	MG_STORE_ERR_TIMEOUT = -9,
};

struct mg_store_config {
	const char *spool_dir;	  /* sealed recordings waiting for delivery (created) */
	const char *index_dir;	  /* metadata of delivered recordings (created) */
	uint64_t max_spool_bytes; /* 0 = 1 GiB */
	/* Bucket (only needed for delivery and fetch). */
	const char *endpoint; /* e.g. http://127.0.0.1:9000 (path-style requests) */
	const char *bucket;
	const char *region; /* NULL = us-east-1 */
	const char *access_key;
	const char *secret_key;	       /* never logged */
	unsigned backoff_initial_ms;   /* 0 = 200 */
	unsigned backoff_max_ms;       /* 0 = 30000 */
	uint64_t max_send_bytes_per_s; /* 0 = unlimited (tests slow uploads down) */
};

/* One recording's index entry. PII fields are sealed strings from mg_keys_pii_seal. */
struct mg_store_record {
	char name[2 * MG_STORE_NAME_MAX]; /* <contactId>_<timestamp>: spool/index file base */
	char account[MG_STORE_NAME_MAX];
	char instance[MG_STORE_NAME_MAX];
	char alias[MG_STORE_NAME_MAX];
	char contact_id[MG_STORE_NAME_MAX];
	char object_key[MG_STORE_KEY_MAX];
	char key_id[MG_STORE_NAME_MAX];
	uint32_t key_version;
	time_t started;
	char ani_hash[65]; /* HMAC of the caller number, hex; "" if none */
	char *ani_sealed;  /* optional, malloc'ed by the store when read back */
	char *dnis_sealed;
	char *attributes_sealed;
	bool partial;
	bool delivered;
	uint64_t sealed_bytes;
	time_t delivered_at;
};

struct mg_store_stats {
	uint64_t spool_bytes, spool_files;
	uint64_t delivered, upload_attempts, upload_failures;
	uint64_t spool_full_events; /* begin refused because the spool was full */
	bool spool_full_alarm;	    /* currently at or above the bound */
	long last_http_status;
	int last_error;
	char last_error_text[256];
};

struct mg_store;
struct mg_store_spool_file;

const char *mg_store_strerror(int status);
int mg_store_open(struct mg_store **store, const struct mg_store_config *config);
void mg_store_close(struct mg_store *store); /* stops the worker first */
void mg_store_get_stats(struct mg_store *store, struct mg_store_stats *stats);

/* <prefix>/connect/<alias>/CallRecordings/YYYY/MM/DD/<contactId>_<YYYYMMDDTHHMMSSZ>.wav.mgenc
 * (prefix may be empty). Returns MG_STORE_OK or MG_STORE_ERR_ARG. */
int mg_store_object_key(const char *prefix, const char *alias, const char *contact_id,
			time_t started, char *out, size_t cap);

/* Spool writing. begin fills record->name and creates <name>.mgenc.part; sink appends
 * (an mg_envelope_sink_fn, arg = the spool file); commit fsyncs, writes the index entry and
 * renames atomically; discard removes the part file. */
int mg_store_spool_begin(struct mg_store *store, struct mg_store_record *record,
			 struct mg_store_spool_file **file);
int mg_store_spool_sink(void *file, const void *bytes, size_t len);
int mg_store_spool_commit(struct mg_store_spool_file *file, bool partial);
void mg_store_spool_discard(struct mg_store_spool_file *file);

/* Recovery (R4): recordings whose writer died (kill -9, crash) leave <name>.mgenc.part plus
 * the metadata written at begin. orphans calls fn for each such file whose writer is gone
 * (record->instance is "" when even the metadata is missing); fn returns non-zero to stop.
 * begin_recovery starts the salvaged copy; its commit replaces the orphan atomically. */
int mg_store_spool_orphans(struct mg_store *store,
			   int (*fn)(void *arg, const struct mg_store_record *record,
				     const char *part_path),
			   void *arg);
int mg_store_spool_begin_recovery(struct mg_store *store, const struct mg_store_record *record,
				  struct mg_store_spool_file **file);

/* Delivery: one pass over the spool (uploads everything due). Returns the number still
 * waiting, or a negative status of the last failure when nothing could be delivered. */
long mg_store_deliver_pass(struct mg_store *store);
/* Background worker thread: passes with exponential backoff on failure. */
int mg_store_worker_start(struct mg_store *store);
void mg_store_worker_stop(struct mg_store *store);

/* Search over the spool and the index. Filters: NULL/"" or 0 = any. Calls fn per match
 * (record valid during the call); fn returns non-zero to stop. */
struct mg_store_query {
	const char *instance;
	const char *contact_id;
	const char *ani_hash;
	time_t from, to; /* inclusive range on the start time */
};
int mg_store_search(struct mg_store *store, const struct mg_store_query *query,
		    int (*fn)(void *arg, const struct mg_store_record *record), void *arg);

/* Opens a recording's sealed bytes for reading: from the spool if still there, otherwise
 * downloaded from the bucket into an unlinked temporary file. */
int mg_store_open_sealed(struct mg_store *store, const struct mg_store_record *record,
			 FILE **sealed);

#endif
