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

/* with_conference: whether the request's `conference` key is the policy's join/leave (on
 * conference commands it names the conference instead). */
static int apply_keys(struct mg_recorder *r, struct mg_call *c, int side,
		      const struct mg_bencode_doc *d, const struct mg_bencode_node *root,
		      bool with_conference, char *err, size_t errlen)
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
	if (with_conference && (k = choice(d, root, "conference", conference, 2)) != -2) {
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

int mg_ng_rec_keys(struct mg_recorder *r, struct mg_call *c, int side,
		   const struct mg_bencode_doc *d, const struct mg_bencode_node *root, char *err,
		   size_t errlen)
{
	return apply_keys(r, c, side, d, root, true, err, errlen);
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

/* One implicit event for the legs of call c named by side (-1: both) that have a role; the
 * first refusal is kept in err. */
static int implicit(struct mg_recorder *r, struct mg_call *c, int side, enum mg_rec_event_type t,
		    char *err, size_t errlen)
{
	int rc = 0;
	for (int s = 0; s < 2; s++) {
		if ((side >= 0 && s != side) || !c->role[s][0])
			continue;
		char e[160];
		if (mg_recorder_event(r, c, s, t, MG_REC_MODE_NONE, e, sizeof(e)) < 0 && rc == 0) {
			snprintf(err, errlen, "recording: %s", e);
			rc = -1;
		}
	}
	return rc;
}

/* Every leg of contact `contact` whose role is `role` (hold-role), or whose tag is `tag`
 * (replaces), gets event t. */
static int contact_legs(struct mg_recorder *r, struct mg_sessions *s, const char *contact,
			const char *role, const char *tag, enum mg_rec_event_type t, char *err,
			size_t errlen)
{
	int rc = 0;
	for (struct mg_call *c = mg_call_first(s); c; c = mg_call_next(c)) {
		if (strcmp(c->contact_id, contact))
			continue;
		for (int side = 0; side < 2; side++)
			if ((role && !strcmp(c->role[side], role)) ||
			    (tag && !strcmp(c->tag[side], tag)))
				if (implicit(r, c, side, t, err, errlen) < 0)
					rc = -1;
	}
	return rc;
}

int mg_ng_rec_conference(struct mg_recorder *r, struct mg_sessions *s, enum mg_ng_cmd cmd,
			 const struct mg_bencode_doc *d, const struct mg_bencode_node *root,
			 char *err, size_t errlen)
{
	char call_id[MG_CALL_ID_MAX] = "", tag[MG_TAG_MAX] = "", other[MG_TAG_MAX] = "";
	mg_bencode_str_copy(mg_bencode_dict_get(d, root, "call-id"), call_id, sizeof(call_id));
	mg_bencode_str_copy(mg_bencode_dict_get(d, root, "from-tag"), tag, sizeof(tag));
	struct mg_call *c = mg_call_find(s, call_id);
	if (!c || !c->contact_id[0])
		return 0; /* not part of a contact: nothing the policy follows */
	int side = tag[0] ? mg_call_side_of(c, tag) : -1;
	if (apply_keys(r, c, side, d, root, false, err, errlen) < 0)
		return -1;
	int rc = 0;
	switch (cmd) {
	case MG_NG_JOIN_CONFERENCE:
		mg_bencode_str_copy(mg_bencode_dict_get(d, root, "hold-role"), other,
				    sizeof(other));
		if (other[0])
			rc |= contact_legs(r, s, c->contact_id, other, NULL, MG_REC_EV_HOLD, err,
					   errlen);
		mg_bencode_str_copy(mg_bencode_dict_get(d, root, "replaces"), other, sizeof(other));
		if (other[0])
			rc |= contact_legs(r, s, c->contact_id, NULL, other,
					   MG_REC_EV_CONFERENCE_LEAVE, err, errlen);
		rc |= implicit(r, c, side, MG_REC_EV_CONFERENCE_JOIN, err, errlen);
		break;
	case MG_NG_LEAVE_CONFERENCE:
		rc = implicit(r, c, side, MG_REC_EV_CONFERENCE_LEAVE, err, errlen);
		break;
	case MG_NG_CONFERENCE_HOLD:
	case MG_NG_CONFERENCE_UNHOLD:
		rc = implicit(r, c, side,
			      cmd == MG_NG_CONFERENCE_HOLD ? MG_REC_EV_HOLD : MG_REC_EV_UNHOLD, err,
			      errlen);
		break;
	case MG_NG_CONFERENCE_MUTE:
	case MG_NG_CONFERENCE_UNMUTE:
		rc = implicit(r, c, side,
			      cmd == MG_NG_CONFERENCE_MUTE ? MG_REC_EV_MUTE : MG_REC_EV_UNMUTE, err,
			      errlen);
		break;
	default: /* connect: the request's transfer/agent keys say what it means */
		break;
	}
	return rc ? -1 : 0;
}
