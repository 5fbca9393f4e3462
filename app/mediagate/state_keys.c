/* Connects the session snapshots' seal/open interface (lib/session) to the instance keys
 * (lib/keys): one cached data key per instance and period, so a restore of many calls
 * makes a handful of token calls. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "state_keys.h"

struct sealer_arg {
	struct mg_keys_blob *blob;
	char default_instance[64];
	struct mg_keys *keys;
	char principal[64];
};

/* What /mediagate/keys shows, refreshed by the control thread (the telemetry thread
 * never touches the token or the metadata files). */
static struct {
	pthread_mutex_t lock;
	bool configured, token_open, have_key;
	char instance[64], key_id[MG_KEYS_ID_MAX], state[24];
	uint32_t versions;
	unsigned rotation_days;
	time_t newest_version_created, deletion_time;
	int describe_result;
	struct mg_keys *keys;
	struct mg_keys_blob *blob;
	struct mg_sessions *sessions;
} report = {.lock = PTHREAD_MUTEX_INITIALIZER};

static const char *instance_of(const struct sealer_arg *a, const char *instance)
{
	return instance && instance[0] ? instance : a->default_instance;
}

static int seal(void *arg, const char *instance, const char *field, const char *plain, size_t len,
		char **out, char *err, size_t errlen)
{
	struct sealer_arg *a = arg;
	int rc = mg_keys_blob_seal(a->blob, instance_of(a, instance), field, plain, len, out);
	if (rc != MG_KEYS_OK)
		snprintf(err, errlen, "instance %s: %s", instance_of(a, instance),
			 mg_keys_strerror(rc));
	return rc == MG_KEYS_OK ? 0 : -1;
}

static int open_sealed(void *arg, const char *instance, const char *field, const char *sealed,
		       size_t len, char **out, size_t *out_len, char *err, size_t errlen)
{
	struct sealer_arg *a = arg;
	uint8_t *plain = NULL;
	int rc = mg_keys_blob_open(a->blob, instance_of(a, instance), field, sealed, len, &plain,
				   out_len);
	if (rc != MG_KEYS_OK)
		snprintf(err, errlen, "instance %s: %s", instance_of(a, instance),
			 mg_keys_strerror(rc));
	*out = (char *)plain;
	return rc == MG_KEYS_OK ? 0 : -1;
}

static int ani_hash(void *arg, const char *instance, const char *ani, char out[68])
{
	struct sealer_arg *a = arg;
	char hex[MG_KEYS_ANI_HASH_HEX];
	if (mg_keys_ani_hash(a->keys, a->principal, instance_of(a, instance), ani, hex) !=
	    MG_KEYS_OK)
		return -1;
	snprintf(out, 68, "%s", hex);
	return 0;
}

struct mg_keys_blob *mg_app_state_keys_connect(struct mg_sessions *s, struct mg_keys *keys,
					       const struct mg_profile *p,
					       void (*log)(const char *msg))
{
	static struct sealer_arg arg;
	struct mg_keys_blob *blob = NULL;
	report.configured = p->keys_state_dir[0] != '\0';
	report.token_open = keys != NULL;
	report.keys = keys;
	report.sessions = s;
	snprintf(report.instance, sizeof(report.instance), "%s", p->keys_instance);
	if (keys && mg_keys_blob_create(&blob, keys, p->keys_principal,
					p->keys_bucket_key_period) != MG_KEYS_OK)
		blob = NULL;
	if (!blob) {
		mg_sessions_set_sealer(s, NULL, log);
		mg_app_state_keys_refresh();
		return NULL;
	}
	arg.blob = blob;
	snprintf(arg.default_instance, sizeof(arg.default_instance), "%s", p->keys_instance);
	arg.keys = keys;
	snprintf(arg.principal, sizeof(arg.principal), "%s", p->keys_principal);
	struct mg_session_sealer sealer = {
	    .seal = seal, .open = open_sealed, .arg = &arg, .ani_hash = ani_hash};
	mg_sessions_set_sealer(s, &sealer, log);
	report.blob = blob;
	mg_app_state_keys_refresh();
	return blob;
}

void mg_app_state_keys_refresh(void)
{
	if (!report.keys)
		return;
	struct mg_keys_info *info = calloc(1, sizeof(*info));
	char key_id[MG_KEYS_ID_MAX] = "";
	int rc =
	    info ? mg_keys_key_for_instance(report.keys, report.instance, key_id) : MG_KEYS_ERR_IO;
	if (rc == MG_KEYS_OK)
		rc = mg_keys_describe(report.keys, key_id, info);
	pthread_mutex_lock(&report.lock);
	report.describe_result = rc;
	report.have_key = rc == MG_KEYS_OK;
	if (report.have_key) {
		snprintf(report.key_id, sizeof(report.key_id), "%s", key_id);
		snprintf(report.state, sizeof(report.state), "%s", mg_keys_state_name(info->state));
		report.versions = info->version_count;
		report.rotation_days = info->rotation_days;
		report.newest_version_created =
		    info->version_count ? info->version_created[info->version_count - 1] : 0;
		report.deletion_time = info->deletion_time;
	}
	pthread_mutex_unlock(&report.lock);
	free(info);
}

/* Status codes are negative: shown as their absolute value (0 = ok). */
static uint64_t status_code(int rc)
{
	return rc < 0 ? (uint64_t)-rc : (uint64_t)rc;
}

void mg_app_keys_report(void *arg, void (*emit)(void *, const char *, uint64_t, bool),
			void (*emit_str)(void *, const char *, const char *), void *emit_arg)
{
	(void)arg;
	pthread_mutex_lock(&report.lock);
	if (emit_str) {
		emit_str(emit_arg, "instance", report.instance);
		emit_str(emit_arg, "token",
			 report.token_open   ? "open"
			 : report.configured ? "unavailable"
					     : "off");
		emit_str(emit_arg, "key_id", report.have_key ? report.key_id : "");
		emit_str(emit_arg, "key_state", report.have_key ? report.state : "none");
		emit_str(emit_arg, "key_lookup",
			 report.token_open ? mg_keys_strerror(report.describe_result) : "-");
	}
	emit(emit_arg, "keys_token_open", report.token_open, true);
	emit(emit_arg, "keys_key_versions", report.have_key ? report.versions : 0, true);
	emit(emit_arg, "keys_key_enabled", report.have_key && strcmp(report.state, "enabled") == 0,
	     true);
	emit(emit_arg, "keys_rotation_days", report.have_key ? report.rotation_days : 0, true);
	emit(emit_arg, "keys_newest_version_created",
	     report.have_key ? (uint64_t)report.newest_version_created : 0, true);
	emit(emit_arg, "keys_deletion_time", report.have_key ? (uint64_t)report.deletion_time : 0,
	     true);
	pthread_mutex_unlock(&report.lock);
	emit(emit_arg, "keys_token_calls", report.keys ? mg_keys_token_calls(report.keys) : 0,
	     false);
	struct mg_keys_blob_stats bs = {0};
	if (report.blob)
		mg_keys_blob_stats(report.blob, &bs);
	emit(emit_arg, "keys_last_token_result", status_code(bs.last_token_result), true);
	emit(emit_arg, "keys_last_token_time", (uint64_t)bs.last_token_time, true);
	emit(emit_arg, "keys_state_sealed", bs.sealed, false);
	emit(emit_arg, "keys_state_opened", bs.opened, false);
	emit(emit_arg, "keys_state_seal_failed", bs.seal_failed, false);
	emit(emit_arg, "keys_state_open_failed", bs.open_failed, false);
	emit(emit_arg, "keys_state_data_keys_generated", bs.data_keys_generated, false);
	emit(emit_arg, "keys_state_data_keys_opened", bs.data_keys_opened, false);
	struct mg_session_seal_stats ss = {0};
	if (report.sessions)
		mg_sessions_seal_stats(report.sessions, &ss);
	emit(emit_arg, "keys_state_stored_without_keys", ss.stored_without_keys, false);
	emit(emit_arg, "keys_state_restored_without_keys", ss.open_failed, false);
	emit(emit_arg, "keys_state_restore_pending", ss.restore_pending, true);
}
