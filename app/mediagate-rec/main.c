/* mediagate-rec: keys, sealing, delivery, search and playback of recordings at rest.
 * Usage: mediagate-rec --help. Every access to a recording is audited, refusals included. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "envelope.h"
#include "keys.h"
#include "rec.h"
#include "store.h"

static const char usage[] =
    "usage: mediagate-rec [global options] COMMAND [options]\n"
    "\n"
    "global options (environment variable in brackets):\n"
    "  --state DIR            key metadata, audit log, spool and index [MG_REC_STATE]\n"
    "  --as PRINCIPAL         who is calling; recorded in the audit log [MG_REC_PRINCIPAL]\n"
    "  --token LABEL          PKCS#11 token label, default mediagate [MG_REC_TOKEN]\n"
    "  --pin-file FILE        token user PIN [MG_REC_PIN holds the PIN itself]\n"
    "  --module PATH          PKCS#11 module, default SoftHSM2 [MG_PKCS11_MODULE]\n"
    "  --bucket-key-period S  bucket key period in seconds, 0 = off, default 3600\n"
    "  --endpoint URL --bucket NAME --region R --prefix P\n"
    "                         S3 bucket [MG_S3_ENDPOINT, MG_S3_BUCKET, MG_S3_REGION, "
    "MG_S3_PREFIX]\n"
    "                         credentials only from MG_S3_ACCESS_KEY and MG_S3_SECRET_KEY\n"
    "  --spool-max BYTES      spool bound, default 1 GiB\n"
    "\n"
    "commands:\n"
    "  keys create --account A --instance I [--rotation-days N]\n"
    "  keys describe|rotate|disable|enable|cancel-deletion --instance I\n"
    "  keys set-rotation --instance I --rotation-days N\n"
    "  keys schedule-deletion --instance I [--days N]\n"
    "  keys grant --instance I --grantee P --ops decrypt[,encrypt,pii] [--constraint C]\n"
    "  keys revoke --instance I --grant ID\n"
    "  keys list\n"
    "  seal --instance I --alias A --contact C [--ani N] [--dnis N] [--attr K=V]...\n"
    "       [--started EPOCH] [--partial] [--in FILE|-] [--frame-len N]\n"
    "  deliver [--until-empty [--timeout SECONDS]] [--max-send-rate BYTES_PER_S]\n"
    "  search|list --instance I [--contact C] [--ani N] [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n"
    "  get --instance I (--contact C | --object-key K) [--out FILE|-]\n"
    "  recover [--instance I]  re-seal recordings whose writer died, marked partial\n"
    "  status\n"
    "  audit verify\n";

struct options {
	const char *state, *principal, *token, *pin_file, *module, *endpoint, *bucket, *region,
	    *prefix;
	unsigned long bucket_key_period;
	unsigned long long spool_max;
	/* command options */
	const char *account, *instance, *alias, *contact, *ani, *dnis, *started, *in, *out,
	    *grantee, *ops, *constraint, *grant, *object_key, *from, *to;
	char attributes[4096];
	unsigned rotation_days, days, frame_len;
	bool partial, until_empty;
	unsigned timeout;
	unsigned long long max_send_rate;
};

static int fail(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "mediagate-rec: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	return code;
}

static const char *env_or(const char *value, const char *env, const char *fallback)
{
	if (value)
		return value;
	const char *e = getenv(env);
	return (e && *e) ? e : fallback;
}

static char pin_buffer[256];

static const char *read_pin(const struct options *o)
{
	if (o->pin_file) {
		FILE *f = fopen(o->pin_file, "r");
		if (!f || !fgets(pin_buffer, sizeof(pin_buffer), f)) {
			if (f)
				fclose(f);
			return NULL;
		}
		fclose(f);
		pin_buffer[strcspn(pin_buffer, "\r\n")] = '\0';
		return pin_buffer;
	}
	return getenv("MG_REC_PIN");
}

static int open_keys(const struct options *o, struct mg_keys **keys)
{
	const char *pin = read_pin(o);
	if (!pin)
		return fail(2, "no token PIN: set MG_REC_PIN or pass --pin-file");
	char dir[600];
	snprintf(dir, sizeof(dir), "%s", o->state);
	struct mg_keys_config cfg = {.state_dir = dir,
				     .module_path = o->module,
				     .token_label = o->token,
				     .pin = pin,
				     .bucket_key_period = (uint32_t)o->bucket_key_period};
	int rc = mg_keys_open(keys, &cfg);
	OPENSSL_cleanse(pin_buffer, sizeof(pin_buffer));
	if (rc != MG_KEYS_OK)
		return fail(3, "cannot open token '%s' (module %s): %s", o->token,
			    o->module ? o->module : MG_KEYS_DEFAULT_MODULE, mg_keys_strerror(rc));
	return 0;
}

static int open_store(const struct options *o, struct mg_store **store)
{
	char spool[700], index[700];
	snprintf(spool, sizeof(spool), "%s/spool", o->state);
	snprintf(index, sizeof(index), "%s/index", o->state);
	struct mg_store_config cfg = {
	    .spool_dir = spool,
	    .index_dir = index,
	    .max_spool_bytes = o->spool_max,
	    .endpoint = o->endpoint,
	    .bucket = o->bucket,
	    .region = o->region,
	    .access_key = getenv("MG_S3_ACCESS_KEY"),
	    .secret_key = getenv("MG_S3_SECRET_KEY"),
	    .max_send_bytes_per_s = o->max_send_rate,
	};
	int rc = mg_store_open(store, &cfg);
	if (rc != MG_STORE_OK)
		return fail(3, "cannot open spool/index under %s: %s", o->state,
			    mg_store_strerror(rc));
	return 0;
}

static int keys_error(int rc, const char *what)
{
	int code = rc == MG_KEYS_ERR_DENIED ? 4 : 5;
	return fail(code, "%s: %s", what, mg_keys_strerror(rc));
}

static int need(const char *value, const char *option)
{
	if (value && *value)
		return 0;
	return fail(2, "missing %s (see --help)", option);
}

/* ---- keys ------------------------------------------------------------------------------- */

static int print_key(void *arg, const char *key_id)
{
	struct mg_keys *keys = arg;
	struct mg_keys_info *info = calloc(1, sizeof(*info));
	if (!info)
		return 1;
	int rc = mg_keys_describe(keys, key_id, info);
	if (rc != MG_KEYS_OK) {
		printf("%s: %s\n", key_id, mg_keys_strerror(rc));
		free(info);
		return 0;
	}
	char created[32], deletion[32] = "-";
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", gmtime(&info->created));
	if (info->deletion_time)
		strftime(deletion, sizeof(deletion), "%Y-%m-%dT%H:%M:%SZ",
			 gmtime(&info->deletion_time));
	printf("key %s instance=%s account=%s owner=%s state=%s versions=%u rotation_days=%u "
	       "created=%s deletion=%s grants=%u\n",
	       info->key_id, info->instance, info->account, info->owner,
	       mg_keys_state_name(info->state), info->version_count, info->rotation_days, created,
	       deletion, info->grant_count);
	for (unsigned g = 0; g < info->grant_count; g++)
		printf("  grant %s grantee=%s ops=%s%s%s constraint=%s\n", info->grants[g].id,
		       info->grants[g].grantee,
		       info->grants[g].ops & MG_KEYS_OP_ENCRYPT ? "encrypt," : "",
		       info->grants[g].ops & MG_KEYS_OP_DECRYPT ? "decrypt," : "",
		       info->grants[g].ops & MG_KEYS_OP_PII ? "pii," : "",
		       info->grants[g].constraint[0] ? info->grants[g].constraint : "(any)");
	free(info);
	return 0;
}

static int parse_ops(const char *text, unsigned *ops)
{
	*ops = 0;
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", text);
	char *save = NULL;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, "encrypt") == 0)
			*ops |= MG_KEYS_OP_ENCRYPT;
		else if (strcmp(t, "decrypt") == 0)
			*ops |= MG_KEYS_OP_DECRYPT;
		else if (strcmp(t, "pii") == 0)
			*ops |= MG_KEYS_OP_PII;
		else
			return -1;
	}
	return *ops ? 0 : -1;
}

static int cmd_keys(const struct options *o, const char *sub)
{
	struct mg_keys *keys;
	int rc = open_keys(o, &keys);
	if (rc)
		return rc;
	char key_id[MG_KEYS_ID_MAX] = "";
	int code = 0;
	if (strcmp(sub, "list") == 0) {
		mg_keys_list(keys, print_key, keys);
		mg_keys_close(keys);
		return 0;
	}
	static const char *const known[] = {
	    "create", "describe",	   "rotate",	      "set-rotation", "disable",
	    "enable", "schedule-deletion", "cancel-deletion", "grant",	      "revoke"};
	bool is_known = false;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		is_known = is_known || strcmp(sub, known[i]) == 0;
	if (!is_known) {
		mg_keys_close(keys);
		return fail(2, "unknown keys command '%s' (see --help)", sub);
	}
	if (need(o->instance, "--instance")) {
		mg_keys_close(keys);
		return 2;
	}
	if (strcmp(sub, "create") == 0) {
		if (need(o->account, "--account")) {
			mg_keys_close(keys);
			return 2;
		}
		rc = mg_keys_create(keys, o->principal, o->account, o->instance, o->rotation_days,
				    key_id);
		if (rc == MG_KEYS_OK)
			printf("created %s\n", key_id);
		else
			code = keys_error(rc, "keys create");
		mg_keys_close(keys);
		return code;
	}
	rc = mg_keys_key_for_instance(keys, o->instance, key_id);
	if (rc != MG_KEYS_OK) {
		mg_keys_close(keys);
		return fail(5, "instance %s has no CMK: %s", o->instance, mg_keys_strerror(rc));
	}
	char grant_id[MG_KEYS_NAME_MAX] = "";
	unsigned ops = 0;
	if (strcmp(sub, "describe") == 0) {
		print_key(keys, key_id);
	} else if (strcmp(sub, "rotate") == 0) {
		rc = mg_keys_rotate(keys, o->principal, key_id);
	} else if (strcmp(sub, "set-rotation") == 0) {
		rc = mg_keys_set_rotation(keys, o->principal, key_id, o->rotation_days);
	} else if (strcmp(sub, "disable") == 0) {
		rc = mg_keys_disable(keys, o->principal, key_id);
	} else if (strcmp(sub, "enable") == 0) {
		rc = mg_keys_enable(keys, o->principal, key_id);
	} else if (strcmp(sub, "schedule-deletion") == 0) {
		rc = mg_keys_schedule_deletion(keys, o->principal, key_id, o->days);
	} else if (strcmp(sub, "cancel-deletion") == 0) {
		rc = mg_keys_cancel_deletion(keys, o->principal, key_id);
	} else if (strcmp(sub, "grant") == 0) {
		if (need(o->grantee, "--grantee") || need(o->ops, "--ops")) {
			mg_keys_close(keys);
			return 2;
		}
		if (parse_ops(o->ops, &ops) != 0) {
			mg_keys_close(keys);
			return fail(2, "--ops: comma-separated list of encrypt, decrypt, pii");
		}
		rc = mg_keys_grant(keys, o->principal, key_id, o->grantee, ops,
				   o->constraint ? o->constraint : "", grant_id);
		if (rc == MG_KEYS_OK)
			printf("%s\n", grant_id);
	} else if (strcmp(sub, "revoke") == 0) {
		if (need(o->grant, "--grant")) {
			mg_keys_close(keys);
			return 2;
		}
		rc = mg_keys_revoke(keys, o->principal, key_id, o->grant);
	} else {
		mg_keys_close(keys);
		return fail(2, "unknown keys command '%s'", sub);
	}
	if (rc != MG_KEYS_OK) {
		char what[64];
		snprintf(what, sizeof(what), "keys %s", sub);
		code = keys_error(rc, what);
	} else if (strcmp(sub, "describe") != 0 && strcmp(sub, "grant") != 0) {
		print_key(keys, key_id);
	}
	mg_keys_close(keys);
	return code;
}

/* ---- seal ------------------------------------------------------------------------------- */

static int cmd_seal(const struct options *o)
{
	if (need(o->instance, "--instance") || need(o->alias, "--alias") ||
	    need(o->contact, "--contact"))
		return 2;
	FILE *in = stdin;
	if (o->in && strcmp(o->in, "-") != 0 && !(in = fopen(o->in, "rb")))
		return fail(2, "cannot read %s: %s", o->in, strerror(errno));
	struct mg_keys *keys;
	struct mg_store *store;
	int rc = open_keys(o, &keys);
	if (rc)
		return rc;
	if ((rc = open_store(o, &store))) {
		mg_keys_close(keys);
		return rc;
	}
	int code = 0;
	struct mg_keys_info *info = calloc(1, sizeof(*info));
	char key_id[MG_KEYS_ID_MAX];
	struct mg_store_record record = {0};
	struct mg_envelope_data_key data_key;
	struct mg_store_spool_file *spool = NULL;
	struct mg_envelope_writer *writer = NULL;
	rc = mg_keys_key_for_instance(keys, o->instance, key_id);
	if (rc == MG_KEYS_OK)
		rc = mg_keys_describe(keys, key_id, info);
	if (rc != MG_KEYS_OK) {
		code = fail(5, "instance %s: %s", o->instance, mg_keys_strerror(rc));
		goto out;
	}
	record.started = o->started ? (time_t)strtoll(o->started, NULL, 10) : time(NULL);
	snprintf(record.account, sizeof(record.account), "%s", info->account);
	snprintf(record.instance, sizeof(record.instance), "%s", o->instance);
	snprintf(record.alias, sizeof(record.alias), "%s", o->alias);
	snprintf(record.contact_id, sizeof(record.contact_id), "%s", o->contact);
	snprintf(record.key_id, sizeof(record.key_id), "%s", key_id);
	if (mg_store_object_key(o->prefix, o->alias, o->contact, record.started, record.object_key,
				sizeof(record.object_key)) != MG_STORE_OK) {
		code =
		    fail(2, "alias, contact id or prefix has characters outside [A-Za-z0-9._-/]");
		goto out;
	}
	/* PII: the caller number is kept only as an instance-keyed hash plus sealed copies. */
	if (o->ani) {
		rc = mg_keys_ani_hash(keys, o->principal, o->instance, o->ani, record.ani_hash);
		if (rc == MG_KEYS_OK)
			rc = mg_keys_pii_seal(keys, o->principal, o->instance, "ani", o->ani,
					      &record.ani_sealed);
	}
	if (rc == MG_KEYS_OK && o->dnis)
		rc = mg_keys_pii_seal(keys, o->principal, o->instance, "dnis", o->dnis,
				      &record.dnis_sealed);
	if (rc == MG_KEYS_OK && o->attributes[0])
		rc = mg_keys_pii_seal(keys, o->principal, o->instance, "attributes", o->attributes,
				      &record.attributes_sealed);
	if (rc != MG_KEYS_OK) {
		code = keys_error(rc, "seal PII");
		goto out;
	}
	struct mg_envelope_context context = {.account = record.account,
					      .instance = record.instance,
					      .contact_id = record.contact_id,
					      .object_path = record.object_key,
					      .key_id = record.key_id};
	rc = mg_keys_generate_data_key(keys, o->principal, &context, &data_key);
	if (rc != MG_KEYS_OK) {
		code = keys_error(rc, "seal: data key");
		mg_keys_audit(keys, o->principal, "recording.seal", key_id, 0, &context, "-",
			      rc == MG_KEYS_ERR_DENIED ? "denied:data-key" : "error:data-key");
		goto out;
	}
	record.key_version = context.key_version;
	int src = mg_store_spool_begin(store, &record, &spool);
	if (src != MG_STORE_OK) {
		code = fail(6, "spool: %s", mg_store_strerror(src));
		goto wipe;
	}
	int erc = mg_envelope_writer_open(&writer, &context, &data_key, o->frame_len,
					  mg_store_spool_sink, spool);
	uint8_t *buf = malloc(1 << 16);
	size_t n;
	while (erc == MG_ENVELOPE_OK && buf && (n = fread(buf, 1, 1 << 16, in)) > 0)
		erc = mg_envelope_writer_write(writer, buf, n);
	bool read_error = ferror(in) != 0;
	free(buf);
	if (erc == MG_ENVELOPE_OK && writer) {
		/* A read error ends the recording early: sealed and kept, but marked partial. */
		bool partial = o->partial || read_error;
		erc = mg_envelope_writer_finish(writer, partial ? MG_ENVELOPE_FLAG_PARTIAL : 0);
		writer = NULL;
		if (erc == MG_ENVELOPE_OK) {
			src = mg_store_spool_commit(spool, partial);
			spool = NULL;
			if (src != MG_STORE_OK)
				code = fail(6, "spool commit: %s", mg_store_strerror(src));
			else
				printf("%s%s\n", record.object_key, partial ? " (partial)" : "");
		}
	}
	if (erc != MG_ENVELOPE_OK)
		code = fail(6, "seal: %s", mg_envelope_strerror(erc));
	mg_envelope_writer_abort(writer);
	mg_store_spool_discard(spool);
	mg_keys_audit(keys, o->principal, "recording.seal", key_id, record.key_version, &context,
		      o->partial || read_error ? "partial" : "complete", code ? "error" : "ok");
wipe:
	OPENSSL_cleanse(&data_key, sizeof(data_key));
out:
	free(record.ani_sealed);
	free(record.dnis_sealed);
	free(record.attributes_sealed);
	free(info);
	if (in != stdin)
		fclose(in);
	mg_store_close(store);
	mg_keys_close(keys);
	return code;
}

/* ---- deliver ---------------------------------------------------------------------------- */

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int cmd_deliver(const struct options *o)
{
	if (need(o->endpoint, "--endpoint or MG_S3_ENDPOINT") ||
	    need(o->bucket, "--bucket or MG_S3_BUCKET") ||
	    need(getenv("MG_S3_ACCESS_KEY"), "MG_S3_ACCESS_KEY") ||
	    need(getenv("MG_S3_SECRET_KEY"), "MG_S3_SECRET_KEY"))
		return 2;
	struct mg_store *store;
	int rc = open_store(o, &store);
	if (rc)
		return rc;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	int code = 0;
	if (o->until_empty) {
		/* Foreground passes with backoff until the spool is empty or time runs out. */
		time_t deadline = time(NULL) + (o->timeout ? o->timeout : 60);
		unsigned backoff_ms = 200;
		for (;;) {
			long left = mg_store_deliver_pass(store);
			struct mg_store_stats st;
			mg_store_get_stats(store, &st);
			if (left == 0) {
				printf("delivered %llu recording(s); spool empty\n",
				       (unsigned long long)st.delivered);
				break;
			}
			if (left < 0)
				fprintf(stderr, "mediagate-rec: delivery: %s (retry in %u ms)\n",
					st.last_error_text, backoff_ms);
			if (stop_requested || time(NULL) >= deadline) {
				code =
				    fail(left == MG_STORE_ERR_AUTH ? 7 : 8,
					 "deliver: %llu recording(s) still in the spool: %s",
					 (unsigned long long)st.spool_files,
					 st.last_error_text[0] ? st.last_error_text : "timed out");
				break;
			}
			usleep(backoff_ms * 1000);
			backoff_ms = backoff_ms * 2 > 5000 ? 5000 : backoff_ms * 2;
		}
	} else {
		mg_store_worker_start(store);
		while (!stop_requested)
			pause();
		mg_store_worker_stop(store);
	}
	mg_store_close(store);
	return code;
}

/* ---- search and get --------------------------------------------------------------------- */

static time_t parse_date(const char *text, bool end_of_day)
{
	struct tm tm = {0};
	if (!text || !strptime(text, "%Y-%m-%d", &tm))
		return (time_t)-1;
	time_t t = timegm(&tm);
	return end_of_day ? t + 86399 : t;
}

struct search_state {
	int count;
	bool print;
	const char *object_key; /* only this object, if set */
	struct mg_store_record last;
};

static int on_match(void *arg, const struct mg_store_record *r)
{
	struct search_state *s = arg;
	if (s->object_key && strcmp(s->object_key, r->object_key) != 0)
		return 0;
	s->count++;
	if (s->print) {
		char when[32];
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&r->started));
		printf("%s\t%s\t%s\t%s\t%s\tkey=%s/v%u\n", r->contact_id, when,
		       r->delivered ? "delivered" : "spooled", r->partial ? "partial" : "complete",
		       r->object_key, r->key_id, r->key_version);
	}
	s->last = *r;
	s->last.ani_sealed = s->last.dnis_sealed = s->last.attributes_sealed = NULL;
	return 0;
}

static int build_query(const struct options *o, struct mg_keys *keys, struct mg_store_query *q,
		       char ani_hash[MG_KEYS_ANI_HASH_HEX])
{
	memset(q, 0, sizeof(*q));
	q->instance = o->instance;
	q->contact_id = o->contact;
	if ((o->from && (q->from = parse_date(o->from, false)) == (time_t)-1) ||
	    (o->to && (q->to = parse_date(o->to, true)) == (time_t)-1))
		return fail(2, "dates are YYYY-MM-DD");
	if (o->ani) {
		int rc = mg_keys_ani_hash(keys, o->principal, o->instance, o->ani, ani_hash);
		if (rc != MG_KEYS_OK)
			return keys_error(rc, "caller-number search");
		q->ani_hash = ani_hash;
	}
	return 0;
}

static int cmd_search(const struct options *o)
{
	if (need(o->instance, "--instance"))
		return 2;
	struct mg_keys *keys;
	struct mg_store *store;
	int rc = open_keys(o, &keys);
	if (rc)
		return rc;
	if ((rc = open_store(o, &store))) {
		mg_keys_close(keys);
		return rc;
	}
	struct mg_store_query q;
	char ani_hash[MG_KEYS_ANI_HASH_HEX];
	struct mg_envelope_context ctx = {.account = "-",
					  .instance = o->instance,
					  .contact_id = o->contact ? o->contact : "-",
					  .object_path = "-"};
	char detail[256];
	/* The audit record names the filters, never the caller number itself. */
	snprintf(detail, sizeof(detail), "from=%s,to=%s,ani=%s", o->from ? o->from : "-",
		 o->to ? o->to : "-", o->ani ? "hashed" : "-");
	int code = build_query(o, keys, &q, ani_hash);
	struct search_state st = {.print = true};
	if (!code) {
		rc = mg_store_search(store, &q, on_match, &st);
		if (rc != MG_STORE_OK)
			code = fail(6, "search: %s", mg_store_strerror(rc));
		else
			fprintf(stderr, "%d recording(s)\n", st.count);
	}
	mg_keys_audit(keys, o->principal, "recording.search", NULL, 0, &ctx, detail,
		      code == 4 ? "denied"
		      : code	? "error"
				: "ok");
	mg_store_close(store);
	mg_keys_close(keys);
	return code;
}

static long file_source(void *arg, void *buf, size_t len)
{
	FILE *f = arg;
	size_t n = fread(buf, 1, len, f);
	if (n == 0 && ferror(f))
		return -1;
	return (long)n;
}

/* Plaintext length of a sealed recording from its size (docs/recording-format.md: header,
 * then (n-1) regular frames of F + 20 bytes and a final frame of 29 + L bytes, L <= F), so a
 * streamed WAV header can be fixed before the first byte goes to stdout. -1 if the size
 * cannot be a whole recording (the reader then fails too). */
static int64_t sealed_plain_len(const struct mg_envelope_reader *reader, FILE *sealed)
{
	struct stat st;
	uint8_t ctx[8 * MG_ENVELOPE_FIELD_MAX];
	long ctx_len =
	    mg_envelope_context_encode(mg_envelope_reader_context(reader), ctx, sizeof(ctx));
	size_t wi_len, w_len;
	mg_envelope_reader_wrap_info(reader, &wi_len);
	mg_envelope_reader_wrapped_key(reader, &w_len);
	uint64_t frame = mg_envelope_reader_frame_len(reader);
	if (ctx_len < 0 || fstat(fileno(sealed), &st) != 0 || !frame)
		return -1;
	uint64_t header = 42 + (uint64_t)ctx_len + 2 + wi_len + 2 + w_len + MG_ENVELOPE_COMMIT_LEN +
			  MG_ENVELOPE_TAG_LEN;
	uint64_t size = (uint64_t)st.st_size;
	if (size < header + 29)
		return -1;
	uint64_t rest = size - header - 29, regular = rest / (frame + 20),
		 last = rest % (frame + 20);
	return last <= frame ? (int64_t)(regular * frame + last) : -1;
}

/* The WAV check after get: what the plaintext is, or why it is not a well-formed WAV
 * (told, not fatal: the plaintext is exactly what was sealed). */
static void report_wav(const uint8_t *head, size_t len, uint64_t total)
{
	struct mg_rec_wav_info info;
	int rc = mg_rec_wav_read_header(head, len, total, &info);
	if (rc == MG_REC_WAV_OK)
		fprintf(stderr, "WAV: format %u, %u channel(s), %u Hz, %.3f s\n", info.format,
			info.channels, info.sample_rate,
			(double)info.frames / (double)info.sample_rate);
	else if (len >= 4 && memcmp(head, "RIFF", 4) == 0)
		fprintf(stderr, "warning: not a well-formed WAV: %s\n", mg_rec_wav_strerror(rc));
}

/* Only a streamed WAV (both sizes the 0xFFFFFFFF placeholder, as mediagate writes them) gets
 * its sizes patched; a WAV with real sizes (another writer's file, even one cut short by a
 * crash) is left exactly as sealed. */
static bool streamed_wav(const uint8_t *head, size_t len, uint64_t total)
{
	struct mg_rec_wav_info info;
	return mg_rec_wav_read_header(head, len, total, &info) == MG_REC_WAV_OK && info.streaming;
}

static int cmd_get(const struct options *o)
{
	if (need(o->instance, "--instance"))
		return 2;
	if (!o->contact && !o->object_key)
		return fail(2, "get needs --contact or --object-key");
	struct mg_keys *keys;
	struct mg_store *store;
	int rc = open_keys(o, &keys);
	if (rc)
		return rc;
	if ((rc = open_store(o, &store))) {
		mg_keys_close(keys);
		return rc;
	}
	int code = 0;
	char result[160] = "ok", detail[160] = "-";
	struct mg_store_query q = {.instance = o->instance, .contact_id = o->contact};
	struct search_state st = {0};
	struct mg_envelope_reader *reader = NULL;
	FILE *sealed = NULL, *out = NULL;
	char out_tmp[1100] = "";
	struct mg_envelope_context audit_ctx = {.account = "-",
						.instance = o->instance,
						.contact_id = o->contact ? o->contact : "-",
						.object_path = o->object_key ? o->object_key : "-"};
	const char *key_id = NULL;
	uint32_t key_version = 0;
	st.object_key = o->object_key;
	rc = mg_store_search(store, &q, on_match, &st);
	if (rc != MG_STORE_OK || st.count == 0) {
		code = fail(9, "no recording for instance %s %s %s", o->instance,
			    o->contact ? "contact" : "object",
			    o->contact ? o->contact : o->object_key);
		snprintf(result, sizeof(result), "error:not-found");
		goto audit;
	}
	if (st.count > 1 && !o->object_key) {
		code = fail(2, "%d recordings for contact %s; pick one with --object-key", st.count,
			    o->contact);
		snprintf(result, sizeof(result), "error:ambiguous");
		goto audit;
	}
	audit_ctx.contact_id = st.last.contact_id;
	audit_ctx.object_path = st.last.object_key;
	audit_ctx.account = st.last.account;
	rc = mg_store_open_sealed(store, &st.last, &sealed);
	if (rc != MG_STORE_OK) {
		code = fail(rc == MG_STORE_ERR_AUTH ? 7 : 6, "cannot read %s: %s",
			    st.last.object_key, mg_store_strerror(rc));
		snprintf(result, sizeof(result), "error:fetch");
		goto audit;
	}
	int erc = mg_envelope_reader_open(&reader, file_source, sealed);
	if (erc != MG_ENVELOPE_OK) {
		code = fail(10, "%s: %s", st.last.object_key, mg_envelope_strerror(erc));
		snprintf(result, sizeof(result), "error:format");
		goto audit;
	}
	/* The context comes from the header but must match the index entry; the key service
	 * checks the principal's grants against it and the token binds it to the data key. */
	const struct mg_envelope_context *header_ctx = mg_envelope_reader_context(reader);
	struct mg_envelope_context expected = {.account = st.last.account,
					       .instance = st.last.instance,
					       .contact_id = st.last.contact_id,
					       .object_path = st.last.object_key,
					       .key_id = st.last.key_id,
					       .key_version = st.last.key_version};
	key_id = header_ctx->key_id;
	key_version = header_ctx->key_version;
	size_t wi_len, w_len;
	const uint8_t *wi = mg_envelope_reader_wrap_info(reader, &wi_len);
	const uint8_t *w = mg_envelope_reader_wrapped_key(reader, &w_len);
	uint8_t data_key[MG_ENVELOPE_KEY_LEN];
	rc =
	    mg_keys_decrypt_data_key(keys, o->principal, &expected, wi, wi_len, w, w_len, data_key);
	if (rc != MG_KEYS_OK) {
		code = keys_error(rc, "get");
		snprintf(result, sizeof(result), "%s:%s",
			 rc == MG_KEYS_ERR_DENIED ? "denied" : "error", mg_keys_strerror(rc));
		goto audit;
	}
	erc = mg_envelope_reader_set_key(reader, data_key, &expected);
	OPENSSL_cleanse(data_key, sizeof(data_key));
	if (erc != MG_ENVELOPE_OK) {
		code = fail(10, "%s: %s", st.last.object_key, mg_envelope_strerror(erc));
		snprintf(result, sizeof(result), "error:%s", mg_envelope_strerror(erc));
		goto audit;
	}
	/* Plaintext goes only where the user asked: stdout, or FILE via a temporary name that
	 * is renamed only once the whole recording authenticated. */
	if (!o->out || strcmp(o->out, "-") == 0) {
		out = stdout;
	} else {
		snprintf(out_tmp, sizeof(out_tmp), "%s.part", o->out);
		out = fopen(out_tmp, "wb");
		if (!out) {
			code = fail(2, "cannot write %s: %s", out_tmp, strerror(errno));
			snprintf(result, sizeof(result), "error:output");
			goto audit;
		}
	}
	/* A WAV streamed into the envelope carries 0xFFFFFFFF sizes (docs/recording.md): to a
	 * file they are patched once the whole recording authenticated; to stdout they are
	 * patched in the first bytes with the length the sealed size implies. */
	int64_t expected_total = out == stdout ? sealed_plain_len(reader, sealed) : -1;
	bool fixed_ahead = false;
	uint8_t buf[65536], head[4096];
	size_t head_len = 0;
	long n;
	uint64_t total = 0;
	while ((n = mg_envelope_reader_read(reader, buf, sizeof(buf))) > 0) {
		if (total == 0 && expected_total >= 0 &&
		    streamed_wav(buf, (size_t)n, (uint64_t)expected_total))
			fixed_ahead =
			    mg_rec_wav_fix_header(buf, (size_t)n, (uint64_t)expected_total) == 1;
		if (head_len < sizeof(head)) {
			size_t take = sizeof(head) - head_len < (size_t)n ? sizeof(head) - head_len
									  : (size_t)n;
			memcpy(head + head_len, buf, take);
			head_len += take;
		}
		if (fwrite(buf, 1, (size_t)n, out) != (size_t)n) {
			n = -1000;
			break;
		}
		total += (uint64_t)n;
	}
	if (n == 0 && fflush(out) == 0) {
		bool partial = mg_envelope_reader_flags(reader) & MG_ENVELOPE_FLAG_PARTIAL;
		snprintf(detail, sizeof(detail), "bytes=%llu%s", (unsigned long long)total,
			 partial ? ",partial" : "");
		if (fixed_ahead && (uint64_t)expected_total != total)
			code = fail(10, "%s: WAV sizes written for %lld bytes, recording has %llu",
				    st.last.object_key, (long long)expected_total,
				    (unsigned long long)total);
		int fixed = 0;
		if (out != stdout && streamed_wav(head, head_len, total)) {
			fixed = mg_rec_wav_fix_header(head, head_len, total);
			if (fixed == 1 && pwrite(fileno(out), head, MG_REC_WAV_HEADER_LEN, 0) !=
					      MG_REC_WAV_HEADER_LEN)
				fixed = -1;
		}
		if (fixed < 0) {
			code = fail(2, "cannot fix the WAV header of %s", out_tmp);
			fclose(out);
			out = NULL;
			unlink(out_tmp);
		} else if (out != stdout) {
			if (fsync(fileno(out)) != 0 || fclose(out) != 0 ||
			    rename(out_tmp, o->out) != 0) {
				code = fail(2, "cannot write %s", o->out);
				unlink(out_tmp);
			}
			out = NULL;
		}
		if (!code) {
			fprintf(stderr, "%s: %llu bytes%s\n", st.last.object_key,
				(unsigned long long)total,
				partial ? " (recording marked partial)" : "");
			report_wav(head, head_len, total);
		}
	} else {
		code = fail(10, "%s: %s", st.last.object_key,
			    n == -1000 ? "output write failed" : mg_envelope_strerror((int)n));
		snprintf(result, sizeof(result), "error:%s",
			 n == -1000 ? "output" : mg_envelope_strerror((int)n));
		if (out && out != stdout) {
			fclose(out);
			out = NULL;
			unlink(out_tmp);
		}
	}
audit:
	if (code && strcmp(result, "ok") == 0)
		snprintf(result, sizeof(result), "error");
	mg_keys_audit(keys, o->principal, "recording.get", key_id, key_version, &audit_ctx, detail,
		      result);
	if (out && out != stdout)
		fclose(out);
	mg_envelope_reader_free(reader);
	if (sealed)
		fclose(sealed);
	mg_store_close(store);
	mg_keys_close(keys);
	return code;
}

/* ---- recover ----------------------------------------------------------------------------- */

struct recover_state {
	const struct options *o;
	struct mg_keys *keys;
	struct mg_store *store;
	int recovered, failed;
};

/* Re-seals the authenticated prefix of an orphaned .part as a new recording marked partial.
 * Plaintext passes through memory only; the orphan is replaced only once the copy is durable. */
static int recover_one(void *arg, const struct mg_store_record *orphan, const char *part_path)
{
	struct recover_state *rs = arg;
	const struct options *o = rs->o;
	if (!orphan->instance[0]) {
		fprintf(stderr, "mediagate-rec: cannot recover %s: its metadata is missing\n",
			part_path);
		rs->failed++;
		return 0;
	}
	if (o->instance && strcmp(o->instance, orphan->instance) != 0)
		return 0;
	struct mg_store_record record = *orphan;
	struct mg_envelope_context old_ctx = {.account = orphan->account,
					      .instance = orphan->instance,
					      .contact_id = orphan->contact_id,
					      .object_path = orphan->object_key,
					      .key_id = orphan->key_id,
					      .key_version = orphan->key_version};
	struct mg_envelope_context new_ctx = old_ctx;
	FILE *in = fopen(part_path, "rb");
	struct mg_envelope_reader *reader = NULL;
	struct mg_envelope_writer *writer = NULL;
	struct mg_store_spool_file *spool = NULL;
	struct mg_envelope_data_key data_key;
	uint8_t old_key[MG_ENVELOPE_KEY_LEN];
	const char *end = "empty";
	char result[160] = "ok";
	uint64_t salvaged = 0;
	bool have_reader = false;
	/* A writer killed before its header was complete left nothing to decrypt: the copy is
	 * then an empty recording marked partial, so the call is still on record. */
	if (in && mg_envelope_reader_open(&reader, file_source, in) == MG_ENVELOPE_OK) {
		size_t wi_len, w_len;
		const uint8_t *wi = mg_envelope_reader_wrap_info(reader, &wi_len);
		const uint8_t *w = mg_envelope_reader_wrapped_key(reader, &w_len);
		int rc = mg_keys_decrypt_data_key(rs->keys, o->principal, &old_ctx, wi, wi_len, w,
						  w_len, old_key);
		if (rc != MG_KEYS_OK) {
			snprintf(result, sizeof(result), "%s:%s",
				 rc == MG_KEYS_ERR_DENIED ? "denied" : "error",
				 mg_keys_strerror(rc));
			goto done;
		}
		int erc = mg_envelope_reader_set_key(reader, old_key, &old_ctx);
		OPENSSL_cleanse(old_key, sizeof(old_key));
		if (erc != MG_ENVELOPE_OK) {
			snprintf(result, sizeof(result), "error:%s", mg_envelope_strerror(erc));
			goto done;
		}
		have_reader = true;
	}
	int rc = mg_keys_generate_data_key(rs->keys, o->principal, &new_ctx, &data_key);
	if (rc != MG_KEYS_OK) {
		snprintf(result, sizeof(result), "%s:%s",
			 rc == MG_KEYS_ERR_DENIED ? "denied" : "error", mg_keys_strerror(rc));
		goto done;
	}
	record.key_version = new_ctx.key_version;
	if (mg_store_spool_begin_recovery(rs->store, &record, &spool) != MG_STORE_OK ||
	    mg_envelope_writer_open(&writer, &new_ctx, &data_key, o->frame_len, mg_store_spool_sink,
				    spool) != MG_ENVELOPE_OK) {
		OPENSSL_cleanse(&data_key, sizeof(data_key));
		snprintf(result, sizeof(result), "error:spool");
		goto done;
	}
	OPENSSL_cleanse(&data_key, sizeof(data_key));
	if (have_reader) {
		uint8_t buf[65536];
		long n;
		while ((n = mg_envelope_reader_read(reader, buf, sizeof(buf))) > 0) {
			if (mg_envelope_writer_write(writer, buf, (size_t)n) != MG_ENVELOPE_OK) {
				n = MG_ENVELOPE_ERR_SINK;
				break;
			}
			salvaged += (uint64_t)n;
		}
		/* Truncated is the expected end of an orphan; anything else is reported. */
		end = n == 0 ? "complete-stream" : mg_envelope_strerror((int)n);
		if (n == MG_ENVELOPE_ERR_SINK) {
			snprintf(result, sizeof(result), "error:spool");
			goto done;
		}
	}
	rc = mg_envelope_writer_finish(writer, MG_ENVELOPE_FLAG_PARTIAL);
	writer = NULL;
	if (rc != MG_ENVELOPE_OK || mg_store_spool_commit(spool, true) != MG_STORE_OK) {
		spool = NULL;
		snprintf(result, sizeof(result), "error:spool");
		goto done;
	}
	spool = NULL;
	printf("%s (partial, recovered %llu bytes; %s)\n", record.object_key,
	       (unsigned long long)salvaged, end);
done:
	if (strcmp(result, "ok") != 0) {
		fprintf(stderr, "mediagate-rec: cannot recover %s: %s\n", part_path, result);
		rs->failed++;
	} else {
		rs->recovered++;
	}
	char detail[200];
	snprintf(detail, sizeof(detail), "salvaged_bytes=%llu,end=%s", (unsigned long long)salvaged,
		 end);
	mg_keys_audit(rs->keys, o->principal, "recording.recover", orphan->key_id,
		      record.key_version, &new_ctx, detail, result);
	mg_envelope_writer_abort(writer);
	mg_store_spool_discard(spool);
	mg_envelope_reader_free(reader);
	if (in)
		fclose(in);
	return 0;
}

static int cmd_recover(const struct options *o)
{
	struct recover_state rs = {.o = o};
	int rc = open_keys(o, &rs.keys);
	if (rc)
		return rc;
	if ((rc = open_store(o, &rs.store))) {
		mg_keys_close(rs.keys);
		return rc;
	}
	mg_store_spool_orphans(rs.store, recover_one, &rs);
	fprintf(stderr, "%d recording(s) recovered as partial, %d failed\n", rs.recovered,
		rs.failed);
	mg_store_close(rs.store);
	mg_keys_close(rs.keys);
	return rs.failed ? 13 : 0;
}

static int cmd_status(const struct options *o)
{
	struct mg_store *store;
	int rc = open_store(o, &store);
	if (rc)
		return rc;
	struct mg_store_stats st;
	mg_store_get_stats(store, &st);
	printf("spool_files %llu\nspool_bytes %llu\nspool_max_bytes %llu\nspool_full_alarm %d\n",
	       (unsigned long long)st.spool_files, (unsigned long long)st.spool_bytes,
	       o->spool_max ? o->spool_max : (1ull << 30), st.spool_full_alarm);
	mg_store_close(store);
	return st.spool_full_alarm ? 11 : 0;
}

static int cmd_audit(const struct options *o, const char *sub)
{
	if (strcmp(sub, "verify") != 0)
		return fail(2, "unknown audit command '%s'", sub);
	struct mg_keys *keys;
	int rc = open_keys(o, &keys); /* the chain's MAC key lives in the token */
	if (rc)
		return rc;
	char why[300];
	uint64_t entries;
	rc = mg_keys_audit_verify(keys, &entries, why, sizeof(why));
	mg_keys_close(keys);
	if (rc != MG_KEYS_OK)
		return fail(12, "audit log NOT intact: %s", why);
	printf("audit log intact: %s\n", why);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = {0};
	o.bucket_key_period = 3600;
	enum {
		O_STATE = 256,
		O_AS,
		O_TOKEN,
		O_PIN_FILE,
		O_MODULE,
		O_BKP,
		O_ENDPOINT,
		O_BUCKET,
		O_REGION,
		O_PREFIX,
		O_SPOOL_MAX,
		O_ACCOUNT,
		O_INSTANCE,
		O_ALIAS,
		O_CONTACT,
		O_ANI,
		O_DNIS,
		O_ATTR,
		O_STARTED,
		O_PARTIAL,
		O_IN,
		O_OUT,
		O_FRAME_LEN,
		O_ROTATION_DAYS,
		O_DAYS,
		O_GRANTEE,
		O_OPS,
		O_CONSTRAINT,
		O_GRANT,
		O_UNTIL_EMPTY,
		O_TIMEOUT,
		O_MAX_SEND,
		O_OBJECT_KEY,
		O_FROM,
		O_TO,
		O_HELP
	};
	static const struct option long_options[] = {
	    {"state", 1, 0, O_STATE},
	    {"as", 1, 0, O_AS},
	    {"token", 1, 0, O_TOKEN},
	    {"pin-file", 1, 0, O_PIN_FILE},
	    {"module", 1, 0, O_MODULE},
	    {"bucket-key-period", 1, 0, O_BKP},
	    {"endpoint", 1, 0, O_ENDPOINT},
	    {"bucket", 1, 0, O_BUCKET},
	    {"region", 1, 0, O_REGION},
	    {"prefix", 1, 0, O_PREFIX},
	    {"spool-max", 1, 0, O_SPOOL_MAX},
	    {"account", 1, 0, O_ACCOUNT},
	    {"instance", 1, 0, O_INSTANCE},
	    {"alias", 1, 0, O_ALIAS},
	    {"contact", 1, 0, O_CONTACT},
	    {"ani", 1, 0, O_ANI},
	    {"dnis", 1, 0, O_DNIS},
	    {"attr", 1, 0, O_ATTR},
	    {"started", 1, 0, O_STARTED},
	    {"partial", 0, 0, O_PARTIAL},
	    {"in", 1, 0, O_IN},
	    {"out", 1, 0, O_OUT},
	    {"frame-len", 1, 0, O_FRAME_LEN},
	    {"rotation-days", 1, 0, O_ROTATION_DAYS},
	    {"days", 1, 0, O_DAYS},
	    {"grantee", 1, 0, O_GRANTEE},
	    {"ops", 1, 0, O_OPS},
	    {"constraint", 1, 0, O_CONSTRAINT},
	    {"grant", 1, 0, O_GRANT},
	    {"until-empty", 0, 0, O_UNTIL_EMPTY},
	    {"timeout", 1, 0, O_TIMEOUT},
	    {"max-send-rate", 1, 0, O_MAX_SEND},
	    {"object-key", 1, 0, O_OBJECT_KEY},
	    {"from", 1, 0, O_FROM},
	    {"to", 1, 0, O_TO},
	    {"help", 0, 0, O_HELP},
	    {0, 0, 0, 0},
	};
	/* Options may come before or after the command words ("keys grant ..."). */
	const char *words[2] = {NULL, NULL};
	int nwords = 0;
	while (optind < argc) {
		int c = getopt_long(argc, argv, "+", long_options, NULL);
		if (c == -1) {
			if (optind < argc) {
				if (nwords == 2)
					return fail(2, "unexpected argument '%s'", argv[optind]);
				words[nwords++] = argv[optind++];
				continue;
			}
			break;
		}
		switch (c) {
		case O_STATE:
			o.state = optarg;
			break;
		case O_AS:
			o.principal = optarg;
			break;
		case O_TOKEN:
			o.token = optarg;
			break;
		case O_PIN_FILE:
			o.pin_file = optarg;
			break;
		case O_MODULE:
			o.module = optarg;
			break;
		case O_BKP:
			o.bucket_key_period = strtoul(optarg, NULL, 10);
			break;
		case O_ENDPOINT:
			o.endpoint = optarg;
			break;
		case O_BUCKET:
			o.bucket = optarg;
			break;
		case O_REGION:
			o.region = optarg;
			break;
		case O_PREFIX:
			o.prefix = optarg;
			break;
		case O_SPOOL_MAX:
			o.spool_max = strtoull(optarg, NULL, 10);
			break;
		case O_ACCOUNT:
			o.account = optarg;
			break;
		case O_INSTANCE:
			o.instance = optarg;
			break;
		case O_ALIAS:
			o.alias = optarg;
			break;
		case O_CONTACT:
			o.contact = optarg;
			break;
		case O_ANI:
			o.ani = optarg;
			break;
		case O_DNIS:
			o.dnis = optarg;
			break;
		case O_ATTR: {
			size_t used = strlen(o.attributes);
			snprintf(o.attributes + used, sizeof(o.attributes) - used, "%s%s",
				 used ? ";" : "", optarg);
			break;
		}
		case O_STARTED:
			o.started = optarg;
			break;
		case O_PARTIAL:
			o.partial = true;
			break;
		case O_IN:
			o.in = optarg;
			break;
		case O_OUT:
			o.out = optarg;
			break;
		case O_FRAME_LEN:
			o.frame_len = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case O_ROTATION_DAYS:
			o.rotation_days = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case O_DAYS:
			o.days = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case O_GRANTEE:
			o.grantee = optarg;
			break;
		case O_OPS:
			o.ops = optarg;
			break;
		case O_CONSTRAINT:
			o.constraint = optarg;
			break;
		case O_GRANT:
			o.grant = optarg;
			break;
		case O_UNTIL_EMPTY:
			o.until_empty = true;
			break;
		case O_TIMEOUT:
			o.timeout = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case O_MAX_SEND:
			o.max_send_rate = strtoull(optarg, NULL, 10);
			break;
		case O_OBJECT_KEY:
			o.object_key = optarg;
			break;
		case O_FROM:
			o.from = optarg;
			break;
		case O_TO:
			o.to = optarg;
			break;
		case O_HELP:
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!words[0]) {
		fputs(usage, stderr);
		return 2;
	}
	o.state = env_or(o.state, "MG_REC_STATE", NULL);
	o.principal = env_or(o.principal, "MG_REC_PRINCIPAL", NULL);
	o.token = env_or(o.token, "MG_REC_TOKEN", "mediagate");
	o.module = env_or(o.module, "MG_PKCS11_MODULE", NULL);
	o.endpoint = env_or(o.endpoint, "MG_S3_ENDPOINT", NULL);
	o.bucket = env_or(o.bucket, "MG_S3_BUCKET", NULL);
	o.region = env_or(o.region, "MG_S3_REGION", NULL);
	o.prefix = env_or(o.prefix, "MG_S3_PREFIX", NULL);
	const char *command = words[0], *sub = words[1] ? words[1] : "";
	if (need(o.state, "--state or MG_REC_STATE"))
		return 2;
	if (strcmp(command, "audit") == 0)
		return cmd_audit(&o, sub);
	if (strcmp(command, "status") == 0)
		return cmd_status(&o);
	if (strcmp(command, "deliver") == 0)
		return cmd_deliver(&o);
	/* Everything else touches keys or recordings: the caller must say who they are. */
	if (need(o.principal, "--as PRINCIPAL or MG_REC_PRINCIPAL"))
		return 2;
	if (strcmp(command, "keys") == 0)
		return cmd_keys(&o, sub);
	if (strcmp(command, "seal") == 0)
		return cmd_seal(&o);
	if (strcmp(command, "search") == 0 || strcmp(command, "list") == 0)
		return cmd_search(&o);
	if (strcmp(command, "get") == 0)
		return cmd_get(&o);
	if (strcmp(command, "recover") == 0)
		return cmd_recover(&o);
	return fail(2, "unknown command '%s' (see --help)", command);
}
