/* Recording policy: which legs of a contact go into which channel (docs/recording.md). */
#include <string.h>

#include "rec.h"

void mg_rec_policy_init(struct mg_rec_policy *p, enum mg_rec_mode mode)
{
	memset(p, 0, sizeof(*p));
	p->mode = (uint8_t)(mode <= MG_REC_MODE_BOTH ? mode : MG_REC_MODE_NONE);
	p->state = MG_REC_STATE_WAITING;
	p->primary = -1;
}

static int find_leg(const struct mg_rec_policy *p, uint32_t id)
{
	for (int i = 0; i < p->n_legs; i++)
		if (p->legs[i].present && p->legs[i].id == id)
			return i;
	return -1;
}

/* Existing entry for id, else a new one (reusing a departed leg's entry when full). */
static int add_leg(struct mg_rec_policy *p, uint32_t id, enum mg_rec_role role)
{
	int i = find_leg(p, id);
	if (i < 0) {
		if (p->n_legs < MG_REC_POLICY_MAX_LEGS) {
			i = p->n_legs++;
		} else {
			for (int k = 0; k < p->n_legs; k++)
				if (!p->legs[k].present && k != p->primary) {
					i = k;
					break;
				}
			if (i < 0)
				return -1;
		}
		memset(&p->legs[i], 0, sizeof(p->legs[i]));
		p->legs[i].id = id;
		p->legs[i].present = true;
	}
	p->legs[i].role = (uint8_t)role;
	return i;
}

static enum mg_rec_channel channel_of(const struct mg_rec_policy *p, int i)
{
	const struct mg_rec_policy_leg *l = &p->legs[i];
	/* "A conversation is recorded only when the contact is connected to an agent." */
	if (p->state != MG_REC_STATE_ACTIVE || p->mode == MG_REC_MODE_NONE)
		return MG_REC_CH_NONE;
	if (!l->present || !l->connected || l->muted || l->on_hold)
		return MG_REC_CH_NONE;
	if (l->role == MG_REC_ROLE_IVR)
		return MG_REC_CH_NONE;
	if (i == p->primary)
		return (p->mode & MG_REC_MODE_AGENT) ? MG_REC_CH_AGENT : MG_REC_CH_NONE;
	/* Everyone the agent talks to: the customer, external parties, other agents. */
	return (p->mode & MG_REC_MODE_CUSTOMER) ? MG_REC_CH_CUSTOMER : MG_REC_CH_NONE;
}

static bool is_open(const struct mg_rec_policy *p)
{
	return p->state == MG_REC_STATE_ACTIVE && p->mode != MG_REC_MODE_NONE;
}

/* An agent is on the contact: the first one while waiting becomes the recorded agent. */
static void agent_connects(struct mg_rec_policy *p, int i)
{
	p->legs[i].connected = true;
	if (p->state == MG_REC_STATE_WAITING) {
		p->state = MG_REC_STATE_ACTIVE;
		p->primary = (int8_t)i;
	}
}

static void leg_leaves(struct mg_rec_policy *p, int i, bool remove)
{
	p->legs[i].connected = false;
	if (remove)
		p->legs[i].present = false;
	/* "The recording begins when the call is connected to an agent and stops when the
	 * agent disconnects." */
	if (i == p->primary && p->state == MG_REC_STATE_ACTIVE)
		p->state = MG_REC_STATE_ENDED;
}

int mg_rec_policy_apply(struct mg_rec_policy *p, const struct mg_rec_event *ev)
{
	if (!p || !ev)
		return -1;
	uint8_t before[MG_REC_POLICY_MAX_LEGS];
	uint32_t before_id[MG_REC_POLICY_MAX_LEGS];
	int n_before = p->n_legs;
	for (int i = 0; i < n_before; i++) {
		before[i] = (uint8_t)channel_of(p, i);
		before_id[i] = p->legs[i].id;
	}
	bool open_before = is_open(p);
	struct mg_rec_policy saved = *p;
	int i = -1;
	bool bad = false;

	switch (ev->type) {
	case MG_REC_EV_SET_MODE:
		if ((unsigned)ev->mode > MG_REC_MODE_BOTH)
			return -1;
		p->mode = (uint8_t)ev->mode;
		break;
	case MG_REC_EV_LEG_ADD:
		if ((unsigned)ev->role > MG_REC_ROLE_IVR)
			return -1;
		i = add_leg(p, ev->leg, ev->role);
		if (i < 0)
			bad = true;
		/* An agent leg present is not an agent on the call ("Audio is NOT ... recorded
		 * when the agent is not on a call"); the others are connected as they appear. */
		else if (ev->role != MG_REC_ROLE_AGENT)
			p->legs[i].connected = true;
		break;
	case MG_REC_EV_AGENT_CONNECTED:
	case MG_REC_EV_TRANSFER_AGENT:
		i = add_leg(p, ev->leg, MG_REC_ROLE_AGENT);
		if (i < 0)
			bad = true;
		else
			agent_connects(p, i);
		break;
	case MG_REC_EV_TRANSFER_EXTERNAL:
		i = add_leg(p, ev->leg, MG_REC_ROLE_THIRD_PARTY);
		if (i < 0)
			bad = true;
		else
			p->legs[i].connected = true;
		break;
	case MG_REC_EV_CONFERENCE_JOIN:
		if ((unsigned)ev->role > MG_REC_ROLE_IVR)
			return -1;
		i = add_leg(p, ev->leg, ev->role);
		if (i < 0)
			bad = true;
		else if (ev->role == MG_REC_ROLE_AGENT)
			agent_connects(p, i);
		else
			p->legs[i].connected = true;
		break;
	case MG_REC_EV_AGENT_DISCONNECTED:
		i = find_leg(p, ev->leg);
		if (i < 0 || p->legs[i].role != MG_REC_ROLE_AGENT)
			bad = true;
		else
			leg_leaves(p, i, false);
		break;
	case MG_REC_EV_LEG_REMOVE:
	case MG_REC_EV_CONFERENCE_LEAVE:
		i = find_leg(p, ev->leg);
		if (i < 0)
			bad = true;
		else
			leg_leaves(p, i, true);
		break;
	case MG_REC_EV_HOLD:
	case MG_REC_EV_UNHOLD:
		i = find_leg(p, ev->leg);
		if (i < 0)
			bad = true;
		else
			p->legs[i].on_hold = ev->type == MG_REC_EV_HOLD;
		break;
	case MG_REC_EV_MUTE:
	case MG_REC_EV_UNMUTE:
		i = find_leg(p, ev->leg);
		if (i < 0)
			bad = true;
		else
			p->legs[i].muted = ev->type == MG_REC_EV_MUTE;
		break;
	default:
		bad = true;
	}
	if (bad) {
		*p = saved;
		return -1;
	}

	int res = 0;
	for (int k = 0; k < p->n_legs; k++) {
		uint8_t now = (uint8_t)channel_of(p, k);
		uint8_t was = MG_REC_CH_NONE;
		if (k < n_before && before_id[k] == p->legs[k].id)
			was = before[k];
		if (now != was)
			res |= MG_REC_POLICY_CHANGED;
	}
	bool open_after = is_open(p);
	if (!open_before && open_after)
		res |= MG_REC_POLICY_STARTED;
	if (open_before && !open_after)
		res |= MG_REC_POLICY_STOPPED;
	return res;
}

enum mg_rec_channel mg_rec_policy_channel(const struct mg_rec_policy *p, uint32_t leg)
{
	int i = p ? find_leg(p, leg) : -1;
	return i < 0 ? MG_REC_CH_NONE : channel_of(p, i);
}

enum mg_rec_state mg_rec_policy_state(const struct mg_rec_policy *p)
{
	return (enum mg_rec_state)p->state;
}

const char *mg_rec_channel_name(enum mg_rec_channel ch)
{
	switch (ch) {
	case MG_REC_CH_CUSTOMER:
		return "customer";
	case MG_REC_CH_AGENT:
		return "agent";
	default:
		return "none";
	}
}
