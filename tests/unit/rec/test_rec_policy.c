/* Recording policy: one test per rule of the seed
 * (shared/seeds/001_80e6d8f26d1c77ef.txt, "Note the following behavior for call recordings"),
 * each quoting the sentence it checks. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "rec.h"

enum { CUST = 1, AGENT = 2, IVR = 3, AGENT2 = 4, EXT = 5, AGENT_PRE = 6 };

static int ev(struct mg_rec_policy *p, enum mg_rec_event_type t, uint32_t leg)
{
	struct mg_rec_event e = {.type = t, .leg = leg};
	return mg_rec_policy_apply(p, &e);
}

static int ev_role(struct mg_rec_policy *p, enum mg_rec_event_type t, uint32_t leg,
		   enum mg_rec_role role)
{
	struct mg_rec_event e = {.type = t, .leg = leg, .role = role};
	return mg_rec_policy_apply(p, &e);
}

static int set_mode(struct mg_rec_policy *p, enum mg_rec_mode m)
{
	struct mg_rec_event e = {.type = MG_REC_EV_SET_MODE, .mode = m};
	return mg_rec_policy_apply(p, &e);
}

#define CH(p, leg) mg_rec_policy_channel((p), (leg))

/* A contact in the flow: customer and IVR legs. */
static void in_flow(struct mg_rec_policy *p, enum mg_rec_mode mode)
{
	mg_rec_policy_init(p, mode);
	CHECK(ev_role(p, MG_REC_EV_LEG_ADD, CUST, MG_REC_ROLE_CUSTOMER) >= 0);
	CHECK(ev_role(p, MG_REC_EV_LEG_ADD, IVR, MG_REC_ROLE_IVR) >= 0);
}

static void rule_modes(void)
{
	puts("rule: \"The call recording feature has options for choosing whether to record the "
	     "agent only, customer only, or agent and customer conversations.\"");
	struct mg_rec_policy p;
	const struct {
		enum mg_rec_mode mode;
		enum mg_rec_channel cust, agent;
	} cases[] = {
	    {MG_REC_MODE_AGENT, MG_REC_CH_NONE, MG_REC_CH_AGENT},
	    {MG_REC_MODE_CUSTOMER, MG_REC_CH_CUSTOMER, MG_REC_CH_NONE},
	    {MG_REC_MODE_BOTH, MG_REC_CH_CUSTOMER, MG_REC_CH_AGENT},
	    {MG_REC_MODE_NONE, MG_REC_CH_NONE, MG_REC_CH_NONE},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		in_flow(&p, cases[i].mode);
		ev(&p, MG_REC_EV_AGENT_CONNECTED, AGENT);
		CHECK_EQ_INT(CH(&p, CUST), cases[i].cust);
		CHECK_EQ_INT(CH(&p, AGENT), cases[i].agent);
	}
	/* The mode can change during the call (ng start/stop recording): NONE closes. */
	in_flow(&p, MG_REC_MODE_BOTH);
	CHECK(ev(&p, MG_REC_EV_AGENT_CONNECTED, AGENT) & MG_REC_POLICY_STARTED);
	int r = set_mode(&p, MG_REC_MODE_NONE);
	CHECK((r & MG_REC_POLICY_STOPPED) && (r & MG_REC_POLICY_CHANGED));
	CHECK_EQ_INT(CH(&p, AGENT), MG_REC_CH_NONE);
	CHECK(set_mode(&p, MG_REC_MODE_AGENT) & MG_REC_POLICY_STARTED);
	CHECK_EQ_INT(CH(&p, AGENT), MG_REC_CH_AGENT);
	CHECK_EQ_INT(CH(&p, CUST), MG_REC_CH_NONE);
}

static void rule_not_in_flow(void)
{
	puts("rule: \"A conversation is recorded only when the contact is connected to an agent. "
	     "The contact is not recorded before then, when they are connected to the flow.\"");
	struct mg_rec_policy p;
	in_flow(&p, MG_REC_MODE_BOTH);
	CHECK_EQ_INT(mg_rec_policy_state(&p), MG_REC_STATE_WAITING);
	CHECK_EQ_INT(CH(&p, CUST), MG_REC_CH_NONE);
	CHECK_EQ_INT(CH(&p, IVR), MG_REC_CH_NONE);
	/* hold/mute/flow events before the agent do not start anything */
	CHECK_EQ_INT(ev(&p, MG_REC_EV_HOLD, CUST), 0);
	CHECK_EQ_INT(ev(&p, MG_REC_EV_UNHOLD, CUST), 0);
	CHECK_EQ_INT(CH(&p, CUST), MG_REC_CH_NONE);
	/* the IVR is never recorded, even once an agent is on the call */
	ev(&p, MG_REC_EV_AGENT_CONNECTED, AGENT);
	CHECK_EQ_INT(CH(&p, IVR), MG_REC_CH_NONE);
}

static void rule_agent_not_on_call(void)
{
	puts("rule: \"Audio is NOT transmitted to Amazon Connect or recorded when the agent is not "
	     "on a call.\"");
	struct mg_rec_policy p;
	in_flow(&p, MG_REC_MODE_BOTH);
	/* the agent's pre-configured microphone stream exists but the agent is not on the call */
	CHECK(ev_role(&p, MG_REC_EV_LEG_ADD, AGENT_PRE, MG_REC_ROLE_AGENT) >= 0);
	CHECK_EQ_INT(CH(&p, AGENT_PRE), MG_REC_CH_NONE);
	CHECK_EQ_INT(mg_rec_policy_state(&p), MG_REC_STATE_WAITING);
	/* once connected it is */
	CHECK(ev(&p, MG_REC_EV_AGENT_CONNECTED, AGENT_PRE) & MG_REC_POLICY_STARTED);
	CHECK_EQ_INT(CH(&p, AGENT_PRE), MG_REC_CH_AGENT);
	/* another agent's stream present during the recording, that agent not on this call:
	 * not recorded, until transferred in */
	CHECK(ev_role(&p, MG_REC_EV_LEG_ADD, AGENT2, MG_REC_ROLE_AGENT) >= 0);
	CHECK_EQ_INT(CH(&p, AGENT2), MG_REC_CH_NONE);
	CHECK(ev(&p, MG_REC_EV_TRANSFER_AGENT, AGENT2) & MG_REC_POLICY_CHANGED);
	CHECK_EQ_INT(CH(&p, AGENT2), MG_REC_CH_CUSTOMER);
}

static void rule_begins_and_stops_with_agent(void)
{
	puts("rule: \"When call recording is enabled, the recording begins when the call is "
	     "connected to an agent and stops when the agent disconnects.\"");
	struct mg_rec_policy p;
	in_flow(&p, MG_REC_MODE_BOTH);
	int r = ev(&p, MG_REC_EV_AGENT_CONNECTED, AGENT);
	CHECK(r & MG_REC_POLICY_STARTED);
	CHECK(r & MG_REC_POLICY_CHANGED);
	CHECK_EQ_INT(mg_rec_policy_state(&p), MG_REC_STATE_ACTIVE);
	CHECK_EQ_INT(CH(&p, CUST), MG_REC_CH_CUSTOMER);
	CHECK_EQ_INT(CH(&p, AGENT), MG_REC_CH_AGENT);
	r = ev(&p, MG_REC_EV_AGENT_DISCONNECTED, AGENT);
	CHECK(r & MG_REC_POLICY_STOPPED);
	CHECK_EQ_INT(mg_rec_policy_state(&p), MG_REC_STATE_ENDED);
	CHECK_EQ_INT(CH(&p, CUST), MG_REC_CH_NONE);
	CHECK_EQ_INT(CH(&p, AGENT), MG_REC_CH_NONE);
	/* over for good: the customer back in a flow, or a later agent, is another contact */
	r = ev(&p, MG_REC_EV_AGENT_CONNECTED, AGENT2);
	CHECK(!(r & MG_REC_POLICY_STARTED));
	CHECK_EQ_INT(CH(&p, AGENT2), MG_REC_CH_NONE);
	CHECK_EQ_INT(CH(&p, CUST), MG_REC_CH_NONE);
	/* recording disabled: connecting does not start a recording */
	in_flow(&p, MG_REC_MODE_NONE);
	CHECK(!(ev(&p, MG_REC_EV_AGENT_CONNECTED, AGENT) & MG_REC_POLICY_STARTED));
	/* the agent's leg removed counts as the agent disconnecting */
	in_flow(&p, MG_REC_MODE_BOTH);
	ev(&p, MG_REC_EV_AGENT_CONNECTED, AGENT);
	CHECK(ev(&p, MG_REC_EV_LEG_REMOVE, AGENT) & MG_REC_POLICY_STOPPED);
}

static void rule_hold(void)
{
	puts("rule: \"When a customer is on hold, the agent is still recorded.\"");
	struct mg_rec_policy p;
	in_flow(&p, MG_REC_MODE_BOTH);
	ev(&p, MG_REC_EV_AGENT_CONNECTED, AGENT);
	int r = ev(&p, MG_REC_EV_HOLD, CUST);
	CHECK(r & MG_REC_POLICY_CHANGED);
	CHECK(!(r & MG_REC_POLICY_STOPPED));
	CHECK_EQ_INT(CH(&p, AGENT), MG_REC_CH_AGENT);
	CHECK_EQ_INT(CH(&p, CUST), MG_REC_CH_NONE); /* hears hold music; not in the recording */
	CHECK_EQ_INT(mg_rec_policy_state(&p), MG_REC_STATE_ACTIVE);
	CHECK(ev(&p, MG_REC_EV_UNHOLD, CUST) & MG_REC_POLICY_CHANGED);
	CHECK_EQ_INT(CH(&p, CUST), MG_REC_CH_CUSTOMER);
	CHECK_EQ_INT(CH(&p, AGENT), MG_REC_CH_AGENT);
	/* agent-only policy: the held customer changes nothing for the agent */
	in_flow(&p, MG_REC_MODE_AGENT);
	ev(&p, MG_REC_EV_AGENT_CONNECTED, AGENT);
	ev(&p, MG_REC_EV_HOLD, CUST);
	CHECK_EQ_INT(CH(&p, AGENT), MG_REC_CH_AGENT);
}

static void rule_transfer_between_agents(void)
{
	puts("rule: \"The transfer conversation between agents is recorded.\"");
	struct mg_rec_policy p;
	in_flow(&p, MG_REC_MODE_BOTH);
	ev(&p, MG_REC_EV_AGENT_CONNECTED, AGENT);
	ev(&p, MG_REC_EV_HOLD, CUST); /* agent puts the customer on hold to consult */
	int r = ev(&p, MG_REC_EV_TRANSFER_AGENT, AGENT2);
	CHECK(r & MG_REC_POLICY_CHANGED);
	CHECK(!(r & (MG_REC_POLICY_STARTED | MG_REC_POLICY_STOPPED)));
	/* both agents are in the recording: the contact's agent on the agent channel, the
	 * agent they consult on the other side */
	CHECK_EQ_INT(CH(&p, AGENT), MG_REC_CH_AGENT);
	CHECK_EQ_INT(CH(&p, AGENT2), MG_REC_CH_CUSTOMER);
	CHECK_EQ_INT(CH(&p, CUST), MG_REC_CH_NONE);
	/* customer back for a three-way: customer and second agent share that side */
	ev(&p, MG_REC_EV_UNHOLD, CUST);
	CHECK_EQ_INT(CH(&p, CUST), MG_REC_CH_CUSTOMER);
	CHECK_EQ_INT(CH(&p, AGENT2), MG_REC_CH_CUSTOMER);
	/* the second agent leaving does not stop the recording */
	r = ev(&p, MG_REC_EV_AGENT_DISCONNECTED, AGENT2);
	CHECK(!(r & MG_REC_POLICY_STOPPED));
	CHECK_EQ_INT(CH(&p, AGENT2), MG_REC_CH_NONE);
	CHECK_EQ_INT(CH(&p, AGENT), MG_REC_CH_AGENT);
	/* a transfer straight from the flow to an agent starts the recording like a connect */
	in_flow(&p, MG_REC_MODE_BOTH);
	CHECK(ev(&p, MG_REC_EV_TRANSFER_AGENT, AGENT2) & MG_REC_POLICY_STARTED);
	CHECK_EQ_INT(CH(&p, AGENT2), MG_REC_CH_AGENT);
}

static void rule_external_after_agent_left(void)
{
	puts("rule: \"Any transfers to external numbers are not recorded after the agent leaves "
	     "the call.\"");
	struct mg_rec_policy p;
	in_flow(&p, MG_REC_MODE_BOTH);
	ev(&p, MG_REC_EV_AGENT_CONNECTED, AGENT);
	/* consult with the external number while the agent is still there: recorded */
	ev(&p, MG_REC_EV_TRANSFER_EXTERNAL, EXT);
	CHECK_EQ_INT(CH(&p, EXT), MG_REC_CH_CUSTOMER);
	/* the agent leaves; customer and external number stay connected: nothing recorded */
	int r = ev(&p, MG_REC_EV_AGENT_DISCONNECTED, AGENT);
	CHECK(r & MG_REC_POLICY_STOPPED);
	CHECK_EQ_INT(CH(&p, EXT), MG_REC_CH_NONE);
	CHECK_EQ_INT(CH(&p, CUST), MG_REC_CH_NONE);
	/* a transfer to another external number after that: not recorded either */
	r = ev(&p, MG_REC_EV_TRANSFER_EXTERNAL, EXT + 10);
	CHECK(!(r & MG_REC_POLICY_STARTED));
	CHECK_EQ_INT(CH(&p, EXT + 10), MG_REC_CH_NONE);
	/* blind transfer: agent dials out and leaves before the external party answers */
	in_flow(&p, MG_REC_MODE_BOTH);
	ev(&p, MG_REC_EV_AGENT_CONNECTED, AGENT);
	ev(&p, MG_REC_EV_AGENT_DISCONNECTED, AGENT);
	ev(&p, MG_REC_EV_TRANSFER_EXTERNAL, EXT);
	CHECK_EQ_INT(CH(&p, EXT), MG_REC_CH_NONE);
	CHECK_EQ_INT(CH(&p, CUST), MG_REC_CH_NONE);
}

static void rule_agent_mute(void)
{
	puts("rule: \"If the agent mutes their own microphone, for example, to consult with a "
	     "coworker sitting next to them, their side-bar conversation is not recorded. The "
	     "customer is still recorded since their microphone hasn't been muted.\"");
	struct mg_rec_policy p;
	in_flow(&p, MG_REC_MODE_BOTH);
	ev(&p, MG_REC_EV_AGENT_CONNECTED, AGENT);
	int r = ev(&p, MG_REC_EV_MUTE, AGENT);
	CHECK(r & MG_REC_POLICY_CHANGED);
	CHECK(!(r & MG_REC_POLICY_STOPPED)); /* the recording goes on (silence on that side) */
	CHECK_EQ_INT(CH(&p, AGENT), MG_REC_CH_NONE);
	CHECK_EQ_INT(CH(&p, CUST), MG_REC_CH_CUSTOMER);
	CHECK(ev(&p, MG_REC_EV_UNMUTE, AGENT) & MG_REC_POLICY_CHANGED);
	CHECK_EQ_INT(CH(&p, AGENT), MG_REC_CH_AGENT);
	CHECK_EQ_INT(CH(&p, CUST), MG_REC_CH_CUSTOMER);
}

static void rule_conference(void)
{
	puts("rule (seed, \"Phone call media\"): conferences and transfers mix several parties; "
	     "the contact's agent stays on the agent channel, everyone else they talk to on the "
	     "customer side, while the agent is on the call");
	struct mg_rec_policy p;
	in_flow(&p, MG_REC_MODE_BOTH);
	ev(&p, MG_REC_EV_AGENT_CONNECTED, AGENT);
	CHECK(ev_role(&p, MG_REC_EV_CONFERENCE_JOIN, EXT, MG_REC_ROLE_THIRD_PARTY) &
	      MG_REC_POLICY_CHANGED);
	CHECK_EQ_INT(CH(&p, EXT), MG_REC_CH_CUSTOMER);
	CHECK(ev_role(&p, MG_REC_EV_CONFERENCE_JOIN, AGENT2, MG_REC_ROLE_AGENT) &
	      MG_REC_POLICY_CHANGED);
	CHECK_EQ_INT(CH(&p, AGENT2), MG_REC_CH_CUSTOMER);
	CHECK(ev(&p, MG_REC_EV_CONFERENCE_LEAVE, EXT) & MG_REC_POLICY_CHANGED);
	CHECK_EQ_INT(CH(&p, EXT), MG_REC_CH_NONE);
	CHECK_EQ_INT(mg_rec_policy_state(&p), MG_REC_STATE_ACTIVE);
	/* the contact's agent leaving the conference ends the recording */
	CHECK(ev(&p, MG_REC_EV_CONFERENCE_LEAVE, AGENT) & MG_REC_POLICY_STOPPED);
	CHECK_EQ_INT(CH(&p, AGENT2), MG_REC_CH_NONE);
}

static void invalid_events(void)
{
	puts("invalid events are refused and change nothing");
	struct mg_rec_policy p, before;
	in_flow(&p, MG_REC_MODE_BOTH);
	ev(&p, MG_REC_EV_AGENT_CONNECTED, AGENT);
	before = p;
	CHECK_EQ_INT(ev(&p, MG_REC_EV_HOLD, 999), -1);
	CHECK_EQ_INT(ev(&p, MG_REC_EV_AGENT_DISCONNECTED, CUST), -1); /* not an agent */
	CHECK_EQ_INT(ev_role(&p, MG_REC_EV_LEG_ADD, 77, (enum mg_rec_role)9), -1);
	CHECK_EQ_INT(set_mode(&p, (enum mg_rec_mode)7), -1);
	CHECK_EQ_INT(ev(&p, (enum mg_rec_event_type)99, CUST), -1);
	CHECK(memcmp(&p, &before, sizeof(p)) == 0);
	/* leg table full: the ninth leg is refused, departed legs' entries are reused */
	for (uint32_t i = 0; i < 5; i++) /* 3 legs + 5 = 8 */
		CHECK(ev_role(&p, MG_REC_EV_CONFERENCE_JOIN, 100 + i, MG_REC_ROLE_THIRD_PARTY) >=
		      0);
	CHECK_EQ_INT(ev_role(&p, MG_REC_EV_CONFERENCE_JOIN, 200, MG_REC_ROLE_THIRD_PARTY), -1);
	CHECK(ev(&p, MG_REC_EV_CONFERENCE_LEAVE, 100) >= 0);
	CHECK(ev_role(&p, MG_REC_EV_CONFERENCE_JOIN, 200, MG_REC_ROLE_THIRD_PARTY) >= 0);
	CHECK_EQ_INT(CH(&p, 200), MG_REC_CH_CUSTOMER);
	CHECK_EQ_INT(CH(&p, AGENT), MG_REC_CH_AGENT);
}

static const struct {
	const char *name;
	void (*fn)(void);
} rules[] = {
    {"modes", rule_modes},
    {"not-in-flow", rule_not_in_flow},
    {"agent-not-on-call", rule_agent_not_on_call},
    {"begins-stops-with-agent", rule_begins_and_stops_with_agent},
    {"hold", rule_hold},
    {"transfer-between-agents", rule_transfer_between_agents},
    {"external-after-agent-left", rule_external_after_agent_left},
    {"agent-mute", rule_agent_mute},
    {"conference", rule_conference},
    {"invalid-events", invalid_events},
};

/* No argument: every rule; otherwise the named rules (one meson test per rule). */
int main(int argc, char **argv)
{
	size_t n = sizeof(rules) / sizeof(rules[0]);
	for (size_t i = 0; i < n; i++) {
		bool run = argc < 2;
		for (int a = 1; a < argc; a++)
			run |= strcmp(argv[a], rules[i].name) == 0;
		if (run)
			rules[i].fn();
	}
	for (int a = 1; a < argc; a++) {
		bool known = false;
		for (size_t i = 0; i < n; i++)
			known |= strcmp(argv[a], rules[i].name) == 0;
		if (!known) {
			fprintf(stderr, "unknown rule %s\n", argv[a]);
			return 2;
		}
	}
	return CHECK_DONE();
}
