/* Recording figures on the telemetry socket (docs/telemetry.md, "Recording"):
 * /mediagate/rings, /mediagate/recordings, /mediagate/spool. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <rte_telemetry.h>

#include "recorder.h"
#include "telemetry.h"

static struct mg_telemetry_ctx rctx;

#define CONTACTS_MAX 200 /* a telemetry dict holds at most 256 entries, totals included */

static int cmd_rings(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	if (!rctx.recorder)
		return 0;
	for (unsigned k = 0; k < mg_recorder_rings(rctx.recorder); k++) {
		struct mg_rec_ring_stats st;
		mg_recorder_ring_stats(rctx.recorder, k, &st);
		struct rte_tel_data *rd = rte_tel_data_alloc();
		if (!rd)
			return -1;
		rte_tel_data_start_dict(rd);
		rte_tel_data_add_dict_u64(rd, "worker", k);
		if (k < mg_dp_worker_count(rctx.dp))
			rte_tel_data_add_dict_u64(rd, "lcore", mg_dp_worker_lcore(rctx.dp, k));
		rte_tel_data_add_dict_u64(rd, "forked", st.forked);
		rte_tel_data_add_dict_u64(rd, "dropped", st.dropped_full + st.dropped_pool);
		rte_tel_data_add_dict_u64(rd, "dropped_ring_full", st.dropped_full);
		rte_tel_data_add_dict_u64(rd, "dropped_no_record", st.dropped_pool);
		rte_tel_data_add_dict_u64(rd, "drained", st.drained);
		char key[16];
		snprintf(key, sizeof(key), "ring%u", k);
		rte_tel_data_add_dict_container(d, key, rd, 0);
	}
	return 0;
}

struct contacts_out {
	struct rte_tel_data *d;
	unsigned n;
};

static void put_contact(void *arg, const struct mg_recorder_contact_info *ci)
{
	struct contacts_out *o = arg;
	if (o->n >= CONTACTS_MAX)
		return;
	struct rte_tel_data *cd = rte_tel_data_alloc();
	if (!cd)
		return;
	rte_tel_data_start_dict(cd);
	rte_tel_data_add_dict_string(cd, "object_key", ci->object_key);
	rte_tel_data_add_dict_u64(cd, "open", ci->open);
	rte_tel_data_add_dict_u64(cd, "partial", ci->partial);
	rte_tel_data_add_dict_u64(cd, "records", ci->records);
	rte_tel_data_add_dict_u64(cd, "ring_drops", ci->ring_drops);
	rte_tel_data_add_dict_u64(cd, "stale", ci->stale);
	rte_tel_data_add_dict_u64(cd, "bytes_plain", ci->bytes_plain);
	rte_tel_data_add_dict_u64(cd, "recordings", ci->recordings);
	/* one nesting level only (DPDK telemetry): contacts sit beside the totals */
	char key[RTE_TEL_MAX_STRING_LEN];
	/* DPDK accepts names of letters, digits, '_' and '/' only */
	snprintf(key, sizeof(key), "contact_%.100s", ci->contact_id);
	for (char *p = key; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '/')
			*p = '_';
	rte_tel_data_add_dict_string(cd, "contact_id", ci->contact_id);
	rte_tel_data_add_dict_container(o->d, key, cd, 0);
	o->n++;
}

static void tel_emit(void *arg, const char *name, uint64_t value, bool gauge)
{
	(void)gauge;
	rte_tel_data_add_dict_u64(arg, name, value);
}

static int cmd_recordings(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	if (!rctx.recorder) {
		rte_tel_data_add_dict_string(d, "recording", "off");
		return 0;
	}
	struct mg_recorder_stats st;
	mg_recorder_get_stats(rctx.recorder, &st);
	rte_tel_data_add_dict_u64(d, "in_progress", st.in_progress);
	rte_tel_data_add_dict_u64(d, "started", st.started);
	rte_tel_data_add_dict_u64(d, "finished", st.finished);
	rte_tel_data_add_dict_u64(d, "partial", st.finished_partial);
	rte_tel_data_add_dict_u64(d, "open_failures", st.open_failures);
	rte_tel_data_add_dict_u64(d, "commit_failures", st.commit_failures);
	rte_tel_data_add_dict_u64(d, "bytes_sealed", st.bytes_sealed);
	rte_tel_data_add_dict_u64(d, "ring_drops", st.ring_drops);
	rte_tel_data_add_dict_u64(d, "events", st.events);
	rte_tel_data_add_dict_u64(d, "event_errors", st.event_errors);
	struct contacts_out o = {.d = d};
	mg_recorder_each_contact(rctx.recorder, put_contact, &o);
	return 0;
}

static int cmd_spool(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	if (!rctx.recorder)
		return 0;
	struct mg_recorder_stats st;
	mg_recorder_get_stats(rctx.recorder, &st);
	tel_emit(d, "depth_files", st.spool_files, true);
	tel_emit(d, "depth_bytes", st.spool_bytes, true);
	tel_emit(d, "delivered", st.delivered, false);
	tel_emit(d, "failed_uploads", st.upload_failures, false);
	tel_emit(d, "full_events", st.spool_full_events, false);
	tel_emit(d, "full_alarm", st.spool_full_alarm, true);
	return 0;
}

int mg_telemetry_register_rec(const struct mg_telemetry_ctx *c)
{
	rctx = *c;
	int rc = 0;
	rc |=
	    rte_telemetry_register_cmd("/mediagate/rings", cmd_rings,
				       "Recording fork rings per worker: forked, dropped, drained. "
				       "No parameters");
	rc |=
	    rte_telemetry_register_cmd("/mediagate/recordings", cmd_recordings,
				       "Recordings in progress, bytes sealed, partial, per contact "
				       "drops. No parameters");
	rc |= rte_telemetry_register_cmd("/mediagate/spool", cmd_spool,
					 "Recording spool depth, delivered, failed uploads. No "
					 "parameters");
	return rc ? -1 : 0;
}
