/* ng commands and keys of the recording (docs/ng-protocol.md, "Recording"). */
#include "ng_rec.h"

#include <stdio.h>
#include <string.h>

/* Whether the request has key `name` and, if so, which of `values` it holds (-1: another
 * value, -2: absent). */
static int choice(const struct mg_bencode_doc *d, const struct mg_bencode_node *root,
		  const char *name, const char *const *values, int n)
{
	const struct mg_bencode_node *v = mg_bencode_dict_get(d, root, name);
	if (!v)
		return -2;
	for (int i = 0; i < n; i++)
		if (mg_bencode_str_eq(v, values[i]))
			return i;
	return -1;
}

static int event(struct mg_recorder *r, struct mg_call *c, int side, enum mg_rec_event_type t,
		 char *err, size_t errlen)
{
	if (side < 0) {
		snprintf(err, errlen, "this key needs a from-tag naming the leg");
		return -1;
	}
	return mg_recorder_event(r, c, side, t, MG_REC_MODE_NONE, err, errlen);
}

int mg_ng_rec_keys(struct mg_recorder *r, struct mg_call *c, int side,
		   const struct mg_bencode_doc *d, const struct mg_bencode_node *root, char *err,
		   size_t errlen)
{
	static const char *const agent[] = {"connected", "disconnected"};
	static const char *const hold[] = {"hold", "unhold"};
	static const char *const transfer[] = {"agent", "external"};
	static const char *const conference[] = {"join", "leave"};
	int k;
	mg_recorder_sync_call(r, c);
	if ((k = choice(d, root, "agent", agent, 2)) != -2) {
		if (k < 0) {
			snprintf(err, errlen, "agent must be connected or disconnected");
			return -1;
		}
		if (event(r, c, side,
			  k == 0 ? MG_REC_EV_AGENT_CONNECTED : MG_REC_EV_AGENT_DISCONNECTED, err,
			  errlen) < 0)
			return -1;
	}
	if ((k = choice(d, root, "transfer", transfer, 2)) != -2) {
		if (k < 0) {
			snprintf(err, errlen, "transfer must be agent or external");
			return -1;
		}
		if (event(r, c, side,
			  k == 0 ? MG_REC_EV_TRANSFER_AGENT : MG_REC_EV_TRANSFER_EXTERNAL, err,
			  errlen) < 0)
			return -1;
	}
	if ((k = choice(d, root, "hold", hold, 2)) != -2) {
		if (k < 0) {
			snprintf(err, errlen, "hold must be hold or unhold");
			return -1;
		}
		if (event(r, c, side, k == 0 ? MG_REC_EV_HOLD : MG_REC_EV_UNHOLD, err, errlen) < 0)
			return -1;
	}
	if ((k = choice(d, root, "conference", conference, 2)) != -2) {
		if (k < 0) {
			snprintf(err, errlen, "conference must be join or leave");
			return -1;
		}
		if (event(r, c, side,
			  k == 0 ? MG_REC_EV_CONFERENCE_JOIN : MG_REC_EV_CONFERENCE_LEAVE, err,
			  errlen) < 0)
			return -1;
	}
	return 0;
}

int mg_ng_rec_command(struct mg_recorder *r, struct mg_call *c, int side, bool start,
		      const struct mg_bencode_doc *d, const struct mg_bencode_node *root, char *err,
		      size_t errlen)
{
	static const char *const channels[] = {"agent", "customer", "both"};
	static const enum mg_rec_mode modes[] = {MG_REC_MODE_AGENT, MG_REC_MODE_CUSTOMER,
						 MG_REC_MODE_BOTH};
	enum mg_rec_mode mode = MG_REC_MODE_NONE;
	if (start) {
		int k = choice(d, root, "recording-channels", channels, 3);
		if (k == -1) {
			snprintf(err, errlen, "recording-channels must be agent, customer or both");
			return -1;
		}
		/* Without recording-channels a running recording keeps its mode, so start
		 * recording can carry the other keys (agent, hold, transfer) on its own. */
		enum mg_rec_mode now = mg_recorder_mode(r, c);
		mode = k >= 0 ? modes[k] : now != MG_REC_MODE_NONE ? now : MG_REC_MODE_BOTH;
	}
	if (mg_ng_rec_keys(r, c, side, d, root, err, errlen) < 0)
		return -1;
	return mg_recorder_event(r, c, side, MG_REC_EV_SET_MODE, mode, err, errlen);
}

void mg_ng_rec_block(struct mg_recorder *r, struct mg_call *c, int side, bool block)
{
	char err[160];
	if (!c->contact_id[0] || !c->role[side][0])
		return;
	/* A leg the policy does not know (no contact) keeps plain blocking only. */
	mg_recorder_event(r, c, side, block ? MG_REC_EV_MUTE : MG_REC_EV_UNMUTE, MG_REC_MODE_NONE,
			  err, sizeof(err));
}
