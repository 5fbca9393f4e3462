/* Spool, delivery worker (libcurl SigV4), local search index. */
#include "store.h"

#include "fsutil.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

struct mg_store {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	char spool_dir[512], index_dir[512];
	char endpoint[512], bucket[128], region[64], userpwd[512];
	uint64_t max_spool_bytes, max_send;
	unsigned backoff_initial_ms, backoff_max_ms;
	struct mg_store_stats stats; /* spool_bytes/files: running totals, see spool_adjust */
	struct timespec last_resync; /* CLOCK_MONOTONIC of the last rescan while full */
	pthread_t worker;
	bool worker_running, stop;
};

struct mg_store_spool_file {
	struct mg_store *store;
	struct mg_store_record record;
	int fd;
	uint64_t bytes;
	bool recovery; /* writing the salvaged copy of an orphan */
	char part_path[1024];
};

const char *mg_store_strerror(int status)
{
	switch (status) {
	case MG_STORE_OK:
		return "ok";
	case MG_STORE_ERR_ARG:
		return "invalid argument";
	case MG_STORE_ERR_IO:
		return "spool or index I/O error";
	case MG_STORE_ERR_FULL:
		return "spool full (byte bound reached)";
	case MG_STORE_ERR_NOT_FOUND:
		return "recording not found";
	case MG_STORE_ERR_NETWORK:
		return "bucket unreachable";
	case MG_STORE_ERR_AUTH:
		return "bucket refused the request (HTTP 403: wrong credentials or signature)";
	case MG_STORE_ERR_HTTP:
		return "bucket answered with an HTTP error";
	case MG_STORE_ERR_VERIFY:
		return "bucket stored different bytes (ETag mismatch)";
	case MG_STORE_ERR_TIMEOUT:
		return "timed out";
	default:
		return "unknown error";
	}
}

static bool token_ok(const char *s, size_t max)
{
	if (!s || !*s || strlen(s) >= max)
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.", *p))
			return false;
	return strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static bool prefix_ok(const char *s)
{
	if (!s)
		return true;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_./", *p))
			return false;
	return !strstr(s, "..") && strlen(s) < 256;
}

static void set_error(struct mg_store *s, int status, long http, const char *fmt, const char *arg)
{
	pthread_mutex_lock(&s->lock);
	s->stats.last_error = status;
	s->stats.last_http_status = http;
	snprintf(s->stats.last_error_text, sizeof(s->stats.last_error_text), fmt, arg);
	pthread_mutex_unlock(&s->lock);
}

int mg_store_object_key(const char *prefix, const char *alias, const char *contact_id,
			time_t started, char *out, size_t cap)
{
	if (!prefix_ok(prefix) || !token_ok(alias, MG_STORE_NAME_MAX) ||
	    !token_ok(contact_id, MG_STORE_NAME_MAX) || !out)
		return MG_STORE_ERR_ARG;
	struct tm tm;
	gmtime_r(&started, &tm);
	char date[16], stamp[32];
	strftime(date, sizeof(date), "%Y/%m/%d", &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	const char *p = prefix ? prefix : "";
	size_t plen = strlen(p);
	while (plen && p[plen - 1] == '/')
		plen--;
	int n = snprintf(out, cap, "%.*s%sconnect/%s/CallRecordings/%s/%s_%s.wav" MG_STORE_SUFFIX,
			 (int)plen, p, plen ? "/" : "", alias, date, contact_id, stamp);
	return (n > 0 && (size_t)n < cap) ? MG_STORE_OK : MG_STORE_ERR_ARG;
}

/* ---- index entries ---------------------------------------------------------------------- */

static int write_atomic(const char *dir, const char *name, const char *text)
{
	char path[1200], tmp[1300];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.%d", dir, name, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return MG_STORE_ERR_IO;
	size_t len = strlen(text);
	bool ok = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return MG_STORE_ERR_IO;
	}
	return mg_fsync_dir(dir) == 0 ? MG_STORE_OK : MG_STORE_ERR_IO;
}

static char *record_text(const struct mg_store_record *r)
{
	size_t cap = 8192 + (r->ani_sealed ? strlen(r->ani_sealed) : 0) +
		     (r->dnis_sealed ? strlen(r->dnis_sealed) : 0) +
		     (r->attributes_sealed ? strlen(r->attributes_sealed) : 0);
	char *t = malloc(cap);
	if (!t)
		return NULL;
	snprintf(t, cap,
		 "format mg-index-1\nname %s\naccount %s\ninstance %s\nalias %s\ncontact_id %s\n"
		 "object_key %s\nkey_id %s\nkey_version %u\nstarted %lld\nani_hash %s\n"
		 "ani %s\ndnis %s\nattributes %s\npartial %d\ndelivered %d\nsealed_bytes %llu\n"
		 "delivered_at %lld\n",
		 r->name, r->account, r->instance, r->alias, r->contact_id, r->object_key,
		 r->key_id, r->key_version, (long long)r->started,
		 r->ani_hash[0] ? r->ani_hash : "-", r->ani_sealed ? r->ani_sealed : "-",
		 r->dnis_sealed ? r->dnis_sealed : "-",
		 r->attributes_sealed ? r->attributes_sealed : "-", r->partial, r->delivered,
		 (unsigned long long)r->sealed_bytes, (long long)r->delivered_at);
	return t;
}

static void record_free_strings(struct mg_store_record *r)
{
	free(r->ani_sealed);
	free(r->dnis_sealed);
	free(r->attributes_sealed);
	r->ani_sealed = r->dnis_sealed = r->attributes_sealed = NULL;
}

static char *dup_or_null(const char *v)
{
	return strcmp(v, "-") == 0 ? NULL : strdup(v);
}

static int record_load(const char *path, struct mg_store_record *r)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return MG_STORE_ERR_NOT_FOUND;
	memset(r, 0, sizeof(*r));
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	bool format_ok = false;
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		const char *k = line, *v = sp + 1;
#define COPY(field) else if (strcmp(k, #field) == 0) snprintf(r->field, sizeof(r->field), "%s", v)
		if (strcmp(k, "format") == 0)
			format_ok = strcmp(v, "mg-index-1") == 0;
		COPY(name);
		COPY(account);
		COPY(instance);
		COPY(alias);
		COPY(contact_id);
		COPY(object_key);
		COPY(key_id);
		else if (strcmp(k, "key_version") == 0) r->key_version =
		    (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(k, "started") == 0) r->started = (time_t)strtoll(v, NULL, 10);
		else if (strcmp(k, "ani_hash") == 0)
		    snprintf(r->ani_hash, sizeof(r->ani_hash), "%s", strcmp(v, "-") ? v : "");
		else if (strcmp(k, "ani") == 0) r->ani_sealed = dup_or_null(v);
		else if (strcmp(k, "dnis") == 0) r->dnis_sealed = dup_or_null(v);
		else if (strcmp(k, "attributes") == 0) r->attributes_sealed = dup_or_null(v);
		else if (strcmp(k, "partial") == 0) r->partial = atoi(v) != 0;
		else if (strcmp(k, "delivered") == 0) r->delivered = atoi(v) != 0;
		else if (strcmp(k, "sealed_bytes") == 0) r->sealed_bytes = strtoull(v, NULL, 10);
		else if (strcmp(k, "delivered_at") == 0) r->delivered_at =
		    (time_t)strtoll(v, NULL, 10);
#undef COPY
	}
	free(line);
	fclose(f);
	if (!format_ok || !r->name[0]) {
		record_free_strings(r);
		return MG_STORE_ERR_IO;
	}
	return MG_STORE_OK;
}

/* ---- open / stats ------------------------------------------------------------------------ */

/* Spool occupancy: running totals of the bytes in <name>.mgenc and <name>.mgenc.part files and
 * the number of .mgenc files, set by one directory scan at open and then moved by every change
 * this store makes (sink, commit, discard, recovery, delivery, cleanup). Begin used to rescan
 * the directory each time: O(n) per recording, O(n^2) for n concurrent ones. */
static bool spool_counted(const char *name)
{
	size_t n = strlen(name);
	return (n > 6 && strcmp(name + n - 6, MG_STORE_SUFFIX) == 0) ||
	       (n > 5 && strcmp(name + n - 5, ".part") == 0);
}

static void spool_scan_dir(const char *dir, uint64_t *bytes_out, uint64_t *files_out)
{
	DIR *d = opendir(dir);
	uint64_t bytes = 0, files = 0;
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			if (!spool_counted(e->d_name))
				continue;
			size_t n = strlen(e->d_name);
			bool sealed = strcmp(e->d_name + n - 6, MG_STORE_SUFFIX) == 0;
			struct stat st;
			if (fstatat(dirfd(d), e->d_name, &st, 0) == 0) {
				bytes += (uint64_t)st.st_size;
				files += sealed;
			}
		}
		closedir(d);
	}
	*bytes_out = bytes;
	*files_out = files;
}

static void spool_set_totals(struct mg_store *s, uint64_t bytes, uint64_t files)
{
	pthread_mutex_lock(&s->lock);
	s->stats.spool_bytes = bytes;
	s->stats.spool_files = files;
	s->stats.spool_full_alarm = bytes >= s->max_spool_bytes;
	pthread_mutex_unlock(&s->lock);
}

static void spool_adjust_locked(struct mg_store *s, int64_t bytes, int64_t files)
{
	struct mg_store_stats *st = &s->stats;
	/* Never below zero: a file removed by hand and then by us would count twice. */
	st->spool_bytes =
	    bytes < 0 && (uint64_t)-bytes > st->spool_bytes ? 0 : st->spool_bytes + (uint64_t)bytes;
	st->spool_files =
	    files < 0 && (uint64_t)-files > st->spool_files ? 0 : st->spool_files + (uint64_t)files;
	st->spool_full_alarm = st->spool_bytes >= s->max_spool_bytes;
}

static void spool_adjust(struct mg_store *s, int64_t bytes, int64_t files)
{
	pthread_mutex_lock(&s->lock);
	spool_adjust_locked(s, bytes, files);
	pthread_mutex_unlock(&s->lock);
}

/* Removes a counted spool file and takes its size off the totals. */
static int spool_unlink_counted(struct mg_store *s, const char *path, bool sealed)
{
	struct stat st;
	if (stat(path, &st) != 0 || unlink(path) != 0)
		return -1;
	spool_adjust(s, -(int64_t)st.st_size, sealed ? -1 : 0);
	return 0;
}

int mg_store_open(struct mg_store **store, const struct mg_store_config *c)
{
	if (!store || !c || !c->spool_dir || !c->index_dir)
		return MG_STORE_ERR_ARG;
	struct mg_store *s = calloc(1, sizeof(*s));
	if (!s)
		return MG_STORE_ERR_IO;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	snprintf(s->spool_dir, sizeof(s->spool_dir), "%s", c->spool_dir);
	snprintf(s->index_dir, sizeof(s->index_dir), "%s", c->index_dir);
	snprintf(s->endpoint, sizeof(s->endpoint), "%s", c->endpoint ? c->endpoint : "");
	snprintf(s->bucket, sizeof(s->bucket), "%s", c->bucket ? c->bucket : "");
	snprintf(s->region, sizeof(s->region), "%s", c->region ? c->region : "us-east-1");
	if (c->access_key && c->secret_key)
		snprintf(s->userpwd, sizeof(s->userpwd), "%s:%s", c->access_key, c->secret_key);
	s->max_spool_bytes = c->max_spool_bytes ? c->max_spool_bytes : (1ull << 30);
	s->max_send = c->max_send_bytes_per_s;
	s->backoff_initial_ms = c->backoff_initial_ms ? c->backoff_initial_ms : 200;
	s->backoff_max_ms = c->backoff_max_ms ? c->backoff_max_ms : 30000;
	if (mg_mkdir_p(s->spool_dir) != 0 || mg_mkdir_p(s->index_dir) != 0) {
		free(s);
		return MG_STORE_ERR_IO;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	uint64_t bytes, files;
	spool_scan_dir(s->spool_dir, &bytes, &files);
	spool_set_totals(s, bytes, files);
	*store = s;
	return MG_STORE_OK;
}

void mg_store_close(struct mg_store *s)
{
	if (!s)
		return;
	mg_store_worker_stop(s);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake);
	OPENSSL_cleanse(s->userpwd, sizeof(s->userpwd));
	free(s);
	curl_global_cleanup();
}

void mg_store_get_stats(struct mg_store *s, struct mg_store_stats *stats)
{
	pthread_mutex_lock(&s->lock);
	*stats = s->stats;
	pthread_mutex_unlock(&s->lock);
}

/* ---- spool ------------------------------------------------------------------------------- */

int mg_store_spool_begin(struct mg_store *s, struct mg_store_record *r,
			 struct mg_store_spool_file **file)
{
	if (!s || !r || !file || !token_ok(r->contact_id, MG_STORE_NAME_MAX) ||
	    !token_ok(r->instance, MG_STORE_NAME_MAX) || !r->object_key[0])
		return MG_STORE_ERR_ARG;
	*file = NULL;
	pthread_mutex_lock(&s->lock);
	bool full = s->stats.spool_bytes >= s->max_spool_bytes;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t since_ns = (int64_t)(now.tv_sec - s->last_resync.tv_sec) * 1000000000 +
			   (now.tv_nsec - s->last_resync.tv_nsec);
	bool resync = full && (s->last_resync.tv_sec == 0 || since_ns >= 1000000000);
	if (resync)
		s->last_resync = now;
	pthread_mutex_unlock(&s->lock);
	if (resync) {
		/* Full by the running count: before refusing, look at the directory once (at
		 * most once a second), so recordings another process removed (mediagate-rec
		 * deliver on the same spool) free their room. A sink of ours writing during
		 * the scan may be counted twice or not at all: bounded by what is written in
		 * those milliseconds, and only while the spool is full. */
		uint64_t bytes, files;
		spool_scan_dir(s->spool_dir, &bytes, &files);
		spool_set_totals(s, bytes, files);
	}
	pthread_mutex_lock(&s->lock);
	full = s->stats.spool_bytes >= s->max_spool_bytes;
	if (full) {
		s->stats.spool_full_events++;
		s->stats.spool_full_alarm = true;
	}
	uint64_t bytes = s->stats.spool_bytes, max = s->max_spool_bytes;
	pthread_mutex_unlock(&s->lock);
	if (full) {
		/* The alarm: a log line for operators, the flag and counter for telemetry. */
		fprintf(stderr,
			"mediagate-store: ALARM spool full: %llu of %llu bytes; new recording "
			"for contact %s refused\n",
			(unsigned long long)bytes, (unsigned long long)max, r->contact_id);
		return MG_STORE_ERR_FULL;
	}
	struct mg_store_spool_file *f = calloc(1, sizeof(*f));
	if (!f)
		return MG_STORE_ERR_IO;
	struct tm tm;
	gmtime_r(&r->started, &tm);
	char stamp[32];
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(r->name, sizeof(r->name), "%s_%s", r->contact_id, stamp);
	f->store = s;
	f->record = *r;
	/* The record keeps copies of the sealed PII strings until commit. */
	f->record.ani_sealed = r->ani_sealed ? strdup(r->ani_sealed) : NULL;
	f->record.dnis_sealed = r->dnis_sealed ? strdup(r->dnis_sealed) : NULL;
	f->record.attributes_sealed = r->attributes_sealed ? strdup(r->attributes_sealed) : NULL;
	snprintf(f->part_path, sizeof(f->part_path), "%s/%s" MG_STORE_SUFFIX ".part", s->spool_dir,
		 r->name);
	char final_path[1100];
	snprintf(final_path, sizeof(final_path), "%s/%s" MG_STORE_SUFFIX, s->spool_dir, r->name);
	if (access(final_path, F_OK) == 0) {
		record_free_strings(&f->record);
		free(f);
		return MG_STORE_ERR_ARG; /* same contact and second: never overwrite */
	}
	/* Metadata first, marked partial: if this process dies mid-recording, recovery finds
	 * who the .part belongs to (mg_store_spool_orphans). */
	char partmeta_name[400];
	snprintf(partmeta_name, sizeof(partmeta_name), "%s.partmeta", r->name);
	f->record.partial = true;
	char *text = record_text(&f->record);
	int wrc = text ? write_atomic(s->spool_dir, partmeta_name, text) : MG_STORE_ERR_IO;
	free(text);
	f->fd = wrc == MG_STORE_OK ? open(f->part_path, O_WRONLY | O_CREAT | O_EXCL, 0600) : -1;
	if (f->fd < 0) {
		int err = errno;
		if (wrc == MG_STORE_OK && err != EEXIST) {
			char path[1400];
			snprintf(path, sizeof(path), "%s/%s", s->spool_dir, partmeta_name);
			unlink(path);
		}
		record_free_strings(&f->record);
		free(f);
		return (wrc == MG_STORE_OK && err == EEXIST) ? MG_STORE_ERR_ARG : MG_STORE_ERR_IO;
	}
	/* Held while writing: recovery skips .part files whose writer is alive. */
	flock(f->fd, LOCK_EX | LOCK_NB);
	*file = f;
	return MG_STORE_OK;
}

static void spool_unlink(struct mg_store *s, const char *name, const char *suffix)
{
	char path[1400];
	snprintf(path, sizeof(path), "%s/%s%s", s->spool_dir, name, suffix);
	unlink(path);
}

int mg_store_spool_begin_recovery(struct mg_store *s, const struct mg_store_record *r,
				  struct mg_store_spool_file **file)
{
	if (!s || !r || !file || !r->name[0] || strchr(r->name, '/'))
		return MG_STORE_ERR_ARG;
	struct mg_store_spool_file *f = calloc(1, sizeof(*f));
	if (!f)
		return MG_STORE_ERR_IO;
	f->store = s;
	f->record = *r;
	f->record.ani_sealed = r->ani_sealed ? strdup(r->ani_sealed) : NULL;
	f->record.dnis_sealed = r->dnis_sealed ? strdup(r->dnis_sealed) : NULL;
	f->record.attributes_sealed = r->attributes_sealed ? strdup(r->attributes_sealed) : NULL;
	f->recovery = true;
	snprintf(f->part_path, sizeof(f->part_path), "%s/%s" MG_STORE_SUFFIX ".salvage",
		 s->spool_dir, r->name);
	/* O_TRUNC: a recovery that itself died left a stale salvage file. */
	f->fd = open(f->part_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (f->fd < 0) {
		record_free_strings(&f->record);
		free(f);
		return MG_STORE_ERR_IO;
	}
	*file = f;
	return MG_STORE_OK;
}

int mg_store_spool_orphans(struct mg_store *s,
			   int (*fn)(void *arg, const struct mg_store_record *record,
				     const char *part_path),
			   void *arg)
{
	if (!s || !fn)
		return MG_STORE_ERR_ARG;
	DIR *d = opendir(s->spool_dir);
	if (!d)
		return MG_STORE_ERR_IO;
	const char *suffix = MG_STORE_SUFFIX ".part";
	size_t suffix_len = strlen(suffix);
	struct dirent *e;
	bool stop = false;
	while (!stop && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n <= suffix_len || strcmp(e->d_name + n - suffix_len, suffix) != 0)
			continue;
		char name[2 * MG_STORE_NAME_MAX], path[1400], sealed[1400], partmeta[1400];
		if (n - suffix_len >= sizeof(name))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(n - suffix_len), e->d_name);
		snprintf(path, sizeof(path), "%s/%s", s->spool_dir, e->d_name);
		snprintf(sealed, sizeof(sealed), "%s/%s" MG_STORE_SUFFIX, s->spool_dir, name);
		snprintf(partmeta, sizeof(partmeta), "%s/%s.partmeta", s->spool_dir, name);
		if (access(sealed, F_OK) == 0) {
			/* Commit or recovery finished its rename and died before cleaning up. */
			spool_unlink_counted(s, path, false);
			unlink(partmeta);
			continue;
		}
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		bool writer_alive = flock(fd, LOCK_EX | LOCK_NB) != 0;
		close(fd);
		if (writer_alive)
			continue;
		struct mg_store_record r;
		if (record_load(partmeta, &r) != MG_STORE_OK) {
			memset(&r, 0, sizeof(r)); /* no metadata: instance left empty */
			snprintf(r.name, sizeof(r.name), "%s", name);
		}
		stop = fn(arg, &r, path) != 0;
		record_free_strings(&r);
	}
	closedir(d);
	return MG_STORE_OK;
}

int mg_store_spool_sink(void *arg, const void *bytes, size_t len)
{
	struct mg_store_spool_file *f = arg;
	size_t written;
	int rc = mg_write_all(f->fd, bytes, len, &written);
	f->bytes += written;
	/* A salvage copy is not counted until its commit (the orphan it copies still is). */
	if (written && !f->recovery)
		spool_adjust(f->store, (int64_t)written, 0);
	return rc;
}

int mg_store_spool_commit(struct mg_store_spool_file *f, bool partial)
{
	if (!f)
		return MG_STORE_ERR_ARG;
	struct mg_store *s = f->store;
	int rc = MG_STORE_ERR_IO;
	/* Order matters for kill -9: data durable, then index entry, then the rename that
	 * makes the recording visible to the delivery worker. */
	bool ok = fsync(f->fd) == 0;
	ok = close(f->fd) == 0 && ok;
	f->fd = -1;
	f->record.partial = partial;
	f->record.sealed_bytes = f->bytes;
	char *text = ok ? record_text(&f->record) : NULL;
	char meta_name[400], final_path[1100];
	snprintf(meta_name, sizeof(meta_name), "%s.meta", f->record.name);
	snprintf(final_path, sizeof(final_path), "%s/%s" MG_STORE_SUFFIX, s->spool_dir,
		 f->record.name);
	bool renamed = false;
	if (text && write_atomic(s->spool_dir, meta_name, text) == MG_STORE_OK) {
		renamed = rename(f->part_path, final_path) == 0;
		if (renamed && mg_fsync_dir(s->spool_dir) == 0)
			rc = MG_STORE_OK;
	}
	free(text);
	if (renamed) /* a new .mgenc; a salvage copy's bytes count from now on */
		spool_adjust(s, f->recovery ? (int64_t)f->bytes : 0, 1);
	if (rc != MG_STORE_OK) {
		/* What was sealed stays as a .part beside its .partmeta (disk full, I/O
		 * error): `mediagate-rec recover` re-seals it marked partial once the spool
		 * has room. Deleting it here would lose the recording silently. A failed
		 * salvage copy goes: its orphan is still there for the next try. */
		if (!renamed && f->recovery)
			unlink(f->part_path);
	} else {
		/* The finished file is durable: the begin-time metadata (and, for a recovery,
		 * the orphan it replaces) can go. */
		if (f->recovery) {
			char orphan[1400];
			snprintf(orphan, sizeof(orphan), "%s/%s" MG_STORE_SUFFIX ".part",
				 s->spool_dir, f->record.name);
			spool_unlink_counted(s, orphan, false);
		}
		spool_unlink(s, f->record.name, ".partmeta");
		mg_fsync_dir(s->spool_dir);
	}
	record_free_strings(&f->record);
	free(f);
	pthread_mutex_lock(&s->lock);
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void mg_store_spool_discard(struct mg_store_spool_file *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	if (unlink(f->part_path) == 0 && !f->recovery)
		spool_adjust(f->store, -(int64_t)f->bytes, 0);
	if (!f->recovery)
		spool_unlink(f->store, f->record.name, ".partmeta");
	record_free_strings(&f->record);
	free(f);
}

/* ---- S3 over libcurl -------------------------------------------------------------------- */

struct response {
	char etag[128];
	char body[512];
	size_t body_len;
	FILE *download;
};

static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct response *r = arg;
	size_t len = size * n;
	if (len > 5 && strncasecmp(buf, "etag:", 5) == 0) {
		size_t j = 0;
		for (size_t i = 5; i < len && j + 1 < sizeof(r->etag); i++)
			if (isxdigit((unsigned char)buf[i]))
				r->etag[j++] = (char)tolower((unsigned char)buf[i]);
		r->etag[j] = '\0';
	}
	return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct response *r = arg;
	size_t len = size * n;
	if (r->download)
		return fwrite(buf, 1, len, r->download);
	size_t room = sizeof(r->body) - 1 - r->body_len;
	size_t take = len < room ? len : room;
	memcpy(r->body + r->body_len, buf, take);
	r->body_len += take;
	r->body[r->body_len] = '\0';
	return len;
}

static void hex(const uint8_t *in, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", in[i]);
}

/* SHA-256 (for x-amz-content-sha256) and MD5 (the ETag S3 returns) of a file. */
static int file_digests(FILE *f, char sha_hex[65], char md5_hex[33], uint64_t *size)
{
	EVP_MD_CTX *sha = EVP_MD_CTX_new(), *md5 = EVP_MD_CTX_new();
	int rc = MG_STORE_ERR_IO;
	if (sha && md5 && EVP_DigestInit_ex(sha, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestInit_ex(md5, EVP_md5(), NULL) == 1) {
		uint8_t buf[65536];
		size_t n;
		*size = 0;
		rewind(f);
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
			EVP_DigestUpdate(sha, buf, n);
			EVP_DigestUpdate(md5, buf, n);
			*size += n;
		}
		uint8_t d[32];
		unsigned dl;
		if (!ferror(f) && EVP_DigestFinal_ex(sha, d, &dl) == 1) {
			hex(d, 32, sha_hex);
			if (EVP_DigestFinal_ex(md5, d, &dl) == 1) {
				hex(d, 16, md5_hex);
				rc = MG_STORE_OK;
			}
		}
		rewind(f);
	}
	EVP_MD_CTX_free(sha);
	EVP_MD_CTX_free(md5);
	return rc;
}

static int s3_request(struct mg_store *s, const char *method, const char *key, FILE *upload,
		      uint64_t upload_size, const char *payload_sha, const char *extra_header,
		      struct response *resp, long *http_status)
{
	if (!s->endpoint[0] || !s->bucket[0] || !s->userpwd[0])
		return MG_STORE_ERR_ARG;
	CURL *c = curl_easy_init();
	if (!c)
		return MG_STORE_ERR_IO;
	char url[2048], sigv4[128], sha_header[128];
	snprintf(url, sizeof(url), "%s/%s/%s", s->endpoint, s->bucket, key);
	snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:s3", s->region);
	/* libcurl signs but does not send the payload hash; S3 requires it, and it is part of
	 * the signed headers so the bucket can check the body. */
	snprintf(sha_header, sizeof(sha_header), "x-amz-content-sha256: %s", payload_sha);
	struct curl_slist *headers = curl_slist_append(NULL, sha_header);
	if (extra_header)
		headers = curl_slist_append(headers, extra_header);
	if (upload)
		headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4);
	curl_easy_setopt(c, CURLOPT_USERPWD, s->userpwd);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (strcmp(method, "PUT") == 0) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READDATA, upload);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)upload_size);
		if (s->max_send)
			curl_easy_setopt(c, CURLOPT_MAX_SEND_SPEED_LARGE, (curl_off_t)s->max_send);
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	}
	CURLcode cc = curl_easy_perform(c);
	*http_status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, http_status);
	curl_slist_free_all(headers);
	curl_easy_cleanup(c);
	if (cc != CURLE_OK) {
		set_error(s, MG_STORE_ERR_NETWORK, 0, "bucket unreachable: %s",
			  curl_easy_strerror(cc));
		return MG_STORE_ERR_NETWORK;
	}
	if (*http_status == 403 || *http_status == 401) {
		set_error(s, MG_STORE_ERR_AUTH, *http_status,
			  "bucket refused the request (HTTP 403): check the access key and secret "
			  "(%.120s)",
			  resp->body);
		return MG_STORE_ERR_AUTH;
	}
	if (*http_status == 404)
		return MG_STORE_ERR_NOT_FOUND;
	if (*http_status < 200 || *http_status >= 300) {
		char msg[64];
		snprintf(msg, sizeof(msg), "%ld", *http_status);
		set_error(s, MG_STORE_ERR_HTTP, *http_status, "bucket answered HTTP %s", msg);
		return MG_STORE_ERR_HTTP;
	}
	return MG_STORE_OK;
}

/* Upload one spooled recording; on confirmed success move its index entry and delete it. */
static int deliver_one(struct mg_store *s, const char *name)
{
	char meta_path[1200], sealed_path[1200];
	snprintf(meta_path, sizeof(meta_path), "%s/%s.meta", s->spool_dir, name);
	snprintf(sealed_path, sizeof(sealed_path), "%s/%s" MG_STORE_SUFFIX, s->spool_dir, name);
	struct mg_store_record r;
	int rc = record_load(meta_path, &r);
	if (rc != MG_STORE_OK)
		return rc;
	FILE *f = fopen(sealed_path, "rb");
	if (!f) {
		record_free_strings(&r);
		return MG_STORE_ERR_IO;
	}
	char sha[65], md5[33];
	uint64_t size;
	rc = file_digests(f, sha, md5, &size);
	struct response resp = {0};
	long status = 0;
	char partial_header[64];
	snprintf(partial_header, sizeof(partial_header), "x-amz-meta-mg-partial: %d", r.partial);
	pthread_mutex_lock(&s->lock);
	s->stats.upload_attempts++;
	pthread_mutex_unlock(&s->lock);
	/* A PUT of the same key with the same bytes is idempotent: a retry after a crash
	 * overwrites an identical object, so the bucket holds each recording once. */
	if (rc == MG_STORE_OK)
		rc = s3_request(s, "PUT", r.object_key, f, size, sha, partial_header, &resp,
				&status);
	fclose(f);
	if (rc == MG_STORE_OK && strcmp(resp.etag, md5) != 0) {
		set_error(s, MG_STORE_ERR_VERIFY, status, "ETag mismatch for %.200s", r.object_key);
		rc = MG_STORE_ERR_VERIFY;
	}
	if (rc == MG_STORE_OK) {
		r.delivered = true;
		r.delivered_at = time(NULL);
		char *text = record_text(&r);
		char index_name[400];
		snprintf(index_name, sizeof(index_name), "%s.meta", name);
		rc = text ? write_atomic(s->index_dir, index_name, text) : MG_STORE_ERR_IO;
		free(text);
		/* Only now, with the bucket's confirmation and the index entry durable, may the
		 * spool copy go. The sealed file goes first: a crash in between leaves a
		 * metadata file without body, which the next pass cleans up. */
		if (rc == MG_STORE_OK &&
		    (spool_unlink_counted(s, sealed_path, true) != 0 || unlink(meta_path) != 0 ||
		     mg_fsync_dir(s->spool_dir) != 0))
			rc = MG_STORE_ERR_IO;
	}
	pthread_mutex_lock(&s->lock);
	if (rc == MG_STORE_OK)
		s->stats.delivered++;
	else
		s->stats.upload_failures++;
	pthread_mutex_unlock(&s->lock);
	record_free_strings(&r);
	return rc;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

long mg_store_deliver_pass(struct mg_store *s)
{
	DIR *d = opendir(s->spool_dir);
	if (!d)
		return MG_STORE_ERR_IO;
	char **names = NULL;
	size_t count = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (e->d_name[0] == '.' || n <= 5 || strcmp(e->d_name + n - 5, ".meta") != 0)
			continue;
		if (count == cap) {
			cap = cap ? 2 * cap : 64;
			char **grown = realloc(names, cap * sizeof(*names));
			if (!grown)
				break;
			names = grown;
		}
		names[count++] = strndup(e->d_name, n - 5);
	}
	closedir(d);
	if (count) /* qsort(NULL, 0, ...) is undefined */
		qsort(names, count, sizeof(*names), compare_names);
	long waiting = 0;
	int last_error = MG_STORE_OK;
	bool any_ok = false;
	for (size_t i = 0; i < count; i++) {
		char sealed_path[1200], meta_path[1200], index_path[1200];
		snprintf(sealed_path, sizeof(sealed_path), "%s/%s" MG_STORE_SUFFIX, s->spool_dir,
			 names[i]);
		snprintf(meta_path, sizeof(meta_path), "%s/%s.meta", s->spool_dir, names[i]);
		snprintf(index_path, sizeof(index_path), "%s/%s.meta", s->index_dir, names[i]);
		if (access(sealed_path, F_OK) != 0) {
			/* Metadata without a body: either commit is between its two steps (the
			 * .part still exists) or a delivery finished and crashed before removing
			 * the metadata (the index has it). */
			char part_path[1300];
			snprintf(part_path, sizeof(part_path), "%s.part", sealed_path);
			if (access(part_path, F_OK) != 0 && access(index_path, F_OK) == 0)
				unlink(meta_path);
			free(names[i]);
			continue;
		}
		bool stopping;
		pthread_mutex_lock(&s->lock);
		stopping = s->stop && s->worker_running;
		pthread_mutex_unlock(&s->lock);
		int rc = stopping ? MG_STORE_ERR_TIMEOUT : deliver_one(s, names[i]);
		if (rc == MG_STORE_OK) {
			any_ok = true;
		} else {
			waiting++;
			last_error = rc;
			/* Unreachable, refused or failing (5xx) bucket: back off now rather
			 * than pushing every file into the same wall. */
			if (rc == MG_STORE_ERR_NETWORK || rc == MG_STORE_ERR_AUTH ||
			    rc == MG_STORE_ERR_HTTP)
				stopping = true;
		}
		free(names[i]);
		if (stopping) {
			for (size_t j = i + 1; j < count; j++) {
				free(names[j]);
				waiting++;
			}
			break;
		}
	}
	free(names);
	if (waiting && !any_ok)
		return last_error;
	return waiting;
}

static void *worker_main(void *arg)
{
	struct mg_store *s = arg;
	unsigned backoff = 0;
	for (;;) {
		long left = mg_store_deliver_pass(s);
		if (left < 0 || left > 0)
			backoff = backoff ? (backoff * 2 > s->backoff_max_ms ? s->backoff_max_ms
									     : backoff * 2)
					  : s->backoff_initial_ms;
		else
			backoff = 0;
		if (left != 0) {
			struct mg_store_stats st;
			mg_store_get_stats(s, &st);
			fprintf(
			    stderr,
			    "mediagate-store: %llu recording(s) waiting, last error: %s; retry in "
			    "%u ms\n",
			    (unsigned long long)st.spool_files, st.last_error_text, backoff);
		}
		unsigned wait_ms = backoff ? backoff : 500;
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += wait_ms / 1000;
		until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&s->lock);
		if (!s->stop && backoff == 0)
			pthread_cond_timedwait(&s->wake, &s->lock, &until);
		else if (!s->stop)
			pthread_cond_timedwait(&s->wake, &s->lock, &until); /* stop wakes us */
		bool stop = s->stop;
		pthread_mutex_unlock(&s->lock);
		if (stop)
			break;
	}
	return NULL;
}

int mg_store_worker_start(struct mg_store *s)
{
	if (!s || s->worker_running)
		return MG_STORE_ERR_ARG;
	s->stop = false;
	if (pthread_create(&s->worker, NULL, worker_main, s) != 0)
		return MG_STORE_ERR_IO;
	s->worker_running = true;
	return MG_STORE_OK;
}

void mg_store_worker_stop(struct mg_store *s)
{
	if (!s || !s->worker_running)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->worker, NULL);
	s->worker_running = false;
}

/* ---- search and fetch -------------------------------------------------------------------- */

static bool matches(const struct mg_store_query *q, const struct mg_store_record *r)
{
	if (q->instance && *q->instance && strcmp(q->instance, r->instance) != 0)
		return false;
	if (q->contact_id && *q->contact_id && strcmp(q->contact_id, r->contact_id) != 0)
		return false;
	if (q->ani_hash && *q->ani_hash && strcmp(q->ani_hash, r->ani_hash) != 0)
		return false;
	if (q->from && r->started < q->from)
		return false;
	if (q->to && r->started > q->to)
		return false;
	return true;
}

static int search_dir(const char *dir, const char *skip_dir, const struct mg_store_query *q,
		      int (*fn)(void *, const struct mg_store_record *), void *arg, bool *stopped)
{
	DIR *d = opendir(dir);
	if (!d)
		return MG_STORE_ERR_IO;
	struct dirent *e;
	while (!*stopped && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (e->d_name[0] == '.' || n <= 5 || strcmp(e->d_name + n - 5, ".meta") != 0)
			continue;
		char path[1200];
		if (skip_dir) {
			/* Delivered but not yet removed from the spool: report it once. */
			snprintf(path, sizeof(path), "%s/%s", skip_dir, e->d_name);
			if (access(path, F_OK) == 0)
				continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		struct mg_store_record r;
		if (record_load(path, &r) != MG_STORE_OK)
			continue;
		if (matches(q, &r) && fn(arg, &r))
			*stopped = true;
		record_free_strings(&r);
	}
	closedir(d);
	return MG_STORE_OK;
}

int mg_store_search(struct mg_store *s, const struct mg_store_query *q,
		    int (*fn)(void *arg, const struct mg_store_record *record), void *arg)
{
	if (!s || !q || !fn)
		return MG_STORE_ERR_ARG;
	bool stopped = false;
	int rc = search_dir(s->index_dir, NULL, q, fn, arg, &stopped);
	if (rc == MG_STORE_OK && !stopped)
		rc = search_dir(s->spool_dir, s->index_dir, q, fn, arg, &stopped);
	return rc;
}

int mg_store_open_sealed(struct mg_store *s, const struct mg_store_record *r, FILE **sealed)
{
	if (!s || !r || !sealed)
		return MG_STORE_ERR_ARG;
	char path[1200];
	snprintf(path, sizeof(path), "%s/%s" MG_STORE_SUFFIX, s->spool_dir, r->name);
	*sealed = fopen(path, "rb");
	if (*sealed)
		return MG_STORE_OK;
	FILE *tmp = tmpfile(); /* sealed bytes only; unlinked */
	if (!tmp)
		return MG_STORE_ERR_IO;
	struct response resp = {.download = tmp};
	long status;
	/* SHA-256 of the empty body: a GET has no payload. */
	int rc = s3_request(s, "GET", r->object_key, NULL, 0,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			    NULL, &resp, &status);
	if (rc != MG_STORE_OK || fflush(tmp) != 0) {
		fclose(tmp);
		return rc != MG_STORE_OK ? rc : MG_STORE_ERR_IO;
	}
	rewind(tmp);
	*sealed = tmp;
	return MG_STORE_OK;
}
