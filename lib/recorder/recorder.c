/* Recording control side and ship loop (docs/recording.md, "In the running mediagate"). */
#include "log.h"
#include "recorder.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_ring.h>

#include "envelope.h"
#include "keys.h"
#include "store.h"

#define CMD_RING_SIZE 4096
#define SWEEP_SECONDS 1

enum cmd_op { CMD_OPEN = 1, CMD_CLOSE };

/* Control -> ship (and back, with the outcome filled in). */
struct ship_cmd {
	enum cmd_op op;
	uint32_t slot, generation;
	uint64_t clock; /* open: start; close: end (8 kHz clock) */
	bool force_partial;
	struct mg_envelope_writer *writer; /* open */
	/* outcome */
	int rc;
	bool partial;
	struct mg_rec_contact_stats stats;
};

struct rec_leg {
	bool used;
	int side;
	uint32_t id; /* policy leg id */
	char call_id[MG_CALL_ID_MAX];
};

struct contact {
	bool used;
	bool open;    /* a recording is open (ship has or will get its writer) */
	bool closing; /* close sent, outcome not back yet */
	char contact_id[MG_EXT_MAX];
	char instance[MG_EXT_MAX];
	struct mg_rec_policy policy;
	uint32_t generation;
	uint32_t next_leg_id;
	struct rec_leg legs[MG_REC_POLICY_MAX_LEGS];
	struct mg_store_record record;
	struct mg_store_spool_file *spool;
	uint64_t recordings;
	/* figures of the last finished recording (open ones are read from the ship) */
	struct mg_rec_contact_stats last;
	bool last_partial;
	/* written by the ship, read by telemetry */
	uint64_t sealed_bytes;
	uint32_t hash_next; /* next slot + 1 in the contact-id bucket, 0 = end */
};

struct mg_recorder {
	struct mg_profile profile;
	struct mg_keys *keys;
	struct mg_sessions *sessions;
	struct mg_store *store;
	bool delivering;
	struct mg_rec_hub *hub;
	struct mg_rec_ship *ship;
	struct rte_ring *cmd_ring, *ret_ring;
	uint32_t max_contacts;
	struct contact *contacts;
	uint32_t *buckets, bucket_mask; /* contact id -> slot + 1 (chains through hash_next) */
	uint32_t *free_slots, n_free;	/* slots without a contact (stack) */
	pthread_mutex_t lock;		/* contact table vs telemetry */
	volatile int ship_stop;
	uint64_t last_ship_step, ship_pause_tsc;
	time_t last_sweep;
	struct mg_recorder_stats st;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

#define logmsg(...) mg_log("recording", __VA_ARGS__)

/* line 1: access key id, line 2: secret key (never logged) */
static int read_credentials(const char *path, char *access, size_t acap, char *secret, size_t scap)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int ok = fgets(access, (int)acap, f) && fgets(secret, (int)scap, f);
	fclose(f);
	access[strcspn(access, "\r\n")] = '\0';
	secret[strcspn(secret, "\r\n")] = '\0';
	return ok && access[0] && secret[0] ? 0 : -1;
}

struct mg_recorder *mg_recorder_create(const struct mg_profile *p, struct mg_keys *keys,
				       struct mg_sessions *sessions, char *err, size_t errlen)
{
	if (!keys) {
		set_err(err, errlen, "recording needs the keys ([keys] section, token open)");
		return NULL;
	}
	struct mg_recorder *r = calloc(1, sizeof(*r));
	if (!r) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	r->profile = *p;
	r->keys = keys;
	r->sessions = sessions;
	pthread_mutex_init(&r->lock, NULL);
	char spool[300], index[300], access[256] = "", secret[256] = "";
	snprintf(spool, sizeof(spool), "%s", p->rec_spool_dir);
	snprintf(index, sizeof(index), "%s", p->rec_index_dir);
	if (!spool[0])
		snprintf(spool, sizeof(spool), "%.250s/spool", p->keys_state_dir);
	if (!index[0])
		snprintf(index, sizeof(index), "%.250s/index", p->keys_state_dir);
	if (p->rec_s3_endpoint[0] && read_credentials(p->rec_s3_credentials_file, access,
						      sizeof(access), secret, sizeof(secret)) < 0) {
		set_err(err, errlen, "recording.s3_credentials_file %s: cannot read two lines",
			p->rec_s3_credentials_file);
		goto fail;
	}
	struct mg_store_config sc = {
	    .spool_dir = spool,
	    .index_dir = index,
	    .max_spool_bytes = (uint64_t)p->rec_max_spool_mb << 20,
	    .endpoint = p->rec_s3_endpoint[0] ? p->rec_s3_endpoint : NULL,
	    .bucket = p->rec_s3_bucket[0] ? p->rec_s3_bucket : NULL,
	    .region = p->rec_s3_region[0] ? p->rec_s3_region : NULL,
	    .access_key = access[0] ? access : NULL,
	    .secret_key = secret[0] ? secret : NULL,
	};
	int rc = mg_store_open(&r->store, &sc);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (rc != MG_STORE_OK) {
		set_err(err, errlen, "spool %s: %s", spool, mg_store_strerror(rc));
		goto fail;
	}
	if (p->rec_s3_endpoint[0]) {
		if (mg_store_worker_start(r->store) != MG_STORE_OK) {
			set_err(err, errlen, "cannot start the delivery worker");
			goto fail;
		}
		r->delivering = true;
	}
	mg_rec_clock_init();
	r->max_contacts = p->rec_max_contacts;
	struct mg_rec_hub_config hc = {.rings = p->n_workers,
				       .ring_size = p->rec_ring_size,
				       .max_contacts = r->max_contacts,
				       .socket_id = -1,
				       .name = "mgrec"};
	if (mg_rec_hub_create(&r->hub, &hc) != 0 || mg_rec_ship_create(&r->ship, r->hub, NULL)) {
		set_err(err, errlen, "cannot create the recording rings (ring_size %u)",
			p->rec_ring_size);
		goto fail;
	}
	/* Every contact has at most one open or close in flight: rings of twice max_contacts
	 * never refuse the ship's returns. */
	uint32_t cmd_size = rte_align32pow2(2 * r->max_contacts + 2);
	if (cmd_size < CMD_RING_SIZE)
		cmd_size = CMD_RING_SIZE;
	r->cmd_ring =
	    rte_ring_create("mgrec_cmd", cmd_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	r->ret_ring =
	    rte_ring_create("mgrec_ret", cmd_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	r->contacts = calloc(r->max_contacts, sizeof(*r->contacts));
	uint32_t nb = 1;
	while (nb < 2 * r->max_contacts)
		nb <<= 1;
	r->bucket_mask = nb - 1;
	r->buckets = calloc(nb, sizeof(*r->buckets));
	r->free_slots = calloc(r->max_contacts, sizeof(*r->free_slots));
	if (!r->cmd_ring || !r->ret_ring || !r->contacts || !r->buckets || !r->free_slots) {
		set_err(err, errlen, "out of memory");
		goto fail;
	}
	for (uint32_t i = r->max_contacts; i-- > 0;)
		r->free_slots[r->n_free++] = i; /* slot 0 first */
	r->ship_pause_tsc = rte_get_tsc_hz() / 1000000 * p->rec_ship_pause_us;
	r->last_sweep = time(NULL);
	return r;
fail:
	mg_recorder_destroy(r);
	return NULL;
}

int mg_recorder_attach(struct mg_recorder *r, struct mg_dataplane *dp)
{
	return mg_dp_attach_recording(dp, r->hub);
}

unsigned mg_recorder_rings(const struct mg_recorder *r)
{
	return mg_rec_hub_rings(r->hub);
}

void mg_recorder_ring_stats(const struct mg_recorder *r, unsigned ring,
			    struct mg_rec_ring_stats *st)
{
	mg_rec_hub_ring_stats(r->hub, ring, st);
}

/* ---- ship ------------------------------------------------------------------------------ */

static void ship_close(struct mg_recorder *r, struct ship_cmd *c)
{
	mg_rec_ship_contact_stats(r->ship, c->slot, &c->stats);
	c->rc = mg_rec_ship_close(r->ship, c->slot, c->clock, c->force_partial, &c->partial);
}

unsigned mg_recorder_ship_step(struct mg_recorder *r)
{
	struct ship_cmd *cmds[64], *closes[64];
	unsigned n_close = 0, done = 0;
	unsigned n = rte_ring_sc_dequeue_burst(r->cmd_ring, (void **)cmds, 64, NULL);
	/* Opens first (before draining, so the first records find their slot); closes after
	 * draining, so what the workers forked before the channels went to NONE still counts. */
	for (unsigned i = 0; i < n; i++) {
		struct ship_cmd *c = cmds[i];
		if (c->op == CMD_OPEN) {
			c->rc =
			    mg_rec_ship_open(r->ship, c->slot, c->generation, c->clock, c->writer);
			if (c->rc == 0)
				free(c);
			else /* the writer goes back to control, which aborts it */
				rte_ring_sp_enqueue(r->ret_ring, c);
		} else {
			closes[n_close++] = c;
		}
	}
	done += n;
	uint64_t now = mg_rec_clock_now();
	done += mg_rec_ship_poll(r->ship, now, r->profile.rec_ship_budget);
	for (unsigned i = 0; i < n_close; i++) {
		ship_close(r, closes[i]);
		/* The return ring holds twice max_contacts: it cannot be full. */
		rte_ring_sp_enqueue(r->ret_ring, closes[i]);
	}
	return done;
}

int mg_recorder_ship_main(void *arg)
{
	struct mg_recorder *r = arg;
	while (!r->ship_stop) {
		mg_recorder_ship_step(r);
		if (r->profile.rec_ship_pause_us)
			rte_delay_us_sleep(r->profile.rec_ship_pause_us);
	}
	return 0;
}

void mg_recorder_ship_stop(struct mg_recorder *r)
{
	if (r)
		r->ship_stop = 1;
}

/* ---- control --------------------------------------------------------------------------- */

static int policy_index(const struct mg_rec_policy *p, uint32_t id)
{
	for (int i = 0; i < p->n_legs; i++)
		if (p->legs[i].present && p->legs[i].id == id)
			return i;
	return -1;
}

/* Sends each leg's channel to its worker (through the session, so later signalling keeps
 * the recording fields). */
static void push_channels(struct mg_recorder *r, struct contact *ct)
{
	uint32_t slot = (uint32_t)(ct - r->contacts);
	for (int k = 0; k < MG_REC_POLICY_MAX_LEGS; k++) {
		struct rec_leg *l = &ct->legs[k];
		if (!l->used)
			continue;
		struct mg_call *c = mg_call_find(r->sessions, l->call_id);
		if (!c)
			continue;
		int idx = policy_index(&ct->policy, l->id);
		enum mg_rec_channel ch = mg_rec_policy_channel(&ct->policy, l->id);
		for (unsigned i = 0; i < c->n_media; i++) {
			struct mg_media *m = &c->media[i];
			struct mg_leg *leg = m->leg[l->side];
			if (!leg || strcmp(m->type, "audio"))
				continue;
			struct mg_leg_cfg cfg = m->cfg[l->side];
			bool rec = ct->open && ch != MG_REC_CH_NONE && idx >= 0;
			if (cfg.rec == rec &&
			    (!rec ||
			     (cfg.rec_channel == ch && cfg.rec_leg == (uint8_t)idx &&
			      cfg.rec_contact == slot && cfg.rec_generation == ct->generation)))
				continue;
			cfg.rec = rec;
			cfg.rec_channel = (uint8_t)ch;
			cfg.rec_leg = (uint8_t)(idx < 0 ? 0 : idx);
			cfg.rec_contact = slot;
			cfg.rec_generation = ct->generation;
			if (leg->published)
				mg_call_configure(r->sessions, c, i, l->side, &cfg);
			else
				m->cfg[l->side] = cfg; /* goes out with the publication */
		}
	}
}

/* The envelope writer's sink: the spool file, counting sealed bytes for telemetry. Runs on
 * the control thread for the header, then on the ship (the command ring orders the two). */
static int sealed_sink(void *arg, const void *bytes, size_t len)
{
	struct contact *ct = arg;
	int rc = mg_store_spool_sink(ct->spool, bytes, len);
	if (rc == 0)
		__atomic_store_n(&ct->sealed_bytes, ct->sealed_bytes + len, __ATOMIC_RELAXED);
	return rc;
}

static int open_recording(struct mg_recorder *r, struct contact *ct, char *err, size_t errlen)
{
	uint32_t slot = (uint32_t)(ct - r->contacts);
	const char *principal = r->profile.keys_principal;
	struct mg_store_record *rec = &ct->record;
	char key_id[MG_KEYS_ID_MAX];
	struct mg_keys_info *info = calloc(1, sizeof(*info));
	struct mg_envelope_data_key dk;
	struct mg_envelope_writer *writer = NULL;
	struct ship_cmd *cmd = NULL;
	int rc = info ? mg_keys_key_for_instance(r->keys, ct->instance, key_id) : MG_KEYS_ERR_ARG;
	if (rc == MG_KEYS_OK)
		rc = mg_keys_describe(r->keys, key_id, info);
	if (rc != MG_KEYS_OK) {
		set_err(err, errlen, "instance %s: no usable key (%s)", ct->instance,
			mg_keys_strerror(rc));
		free(info);
		return -1;
	}
	memset(rec, 0, sizeof(*rec));
	rec->started = time(NULL);
	snprintf(rec->account, sizeof(rec->account), "%s", info->account);
	snprintf(rec->instance, sizeof(rec->instance), "%s", ct->instance);
	snprintf(rec->alias, sizeof(rec->alias), "%s", r->profile.rec_alias);
	snprintf(rec->contact_id, sizeof(rec->contact_id), "%s", ct->contact_id);
	snprintf(rec->key_id, sizeof(rec->key_id), "%s", key_id);
	free(info);
	/* A second recording of the same contact within one second would get the same
	 * name: the object key carries the start second. */
	if (mg_store_object_key(r->profile.rec_prefix, rec->alias, rec->contact_id, rec->started,
				rec->object_key, sizeof(rec->object_key)) != MG_STORE_OK) {
		set_err(err, errlen, "contact-id or alias has characters outside [A-Za-z0-9._-/]");
		return -1;
	}
	struct mg_envelope_context ctx = {.account = rec->account,
					  .instance = rec->instance,
					  .contact_id = rec->contact_id,
					  .object_path = rec->object_key,
					  .key_id = rec->key_id};
	rc = mg_keys_generate_data_key(r->keys, principal, &ctx, &dk);
	if (rc != MG_KEYS_OK) {
		set_err(err, errlen, "data key: %s", mg_keys_strerror(rc));
		return -1;
	}
	rec->key_version = ctx.key_version;
	int src = mg_store_spool_begin(r->store, rec, &ct->spool);
	if (src != MG_STORE_OK) {
		OPENSSL_cleanse(&dk, sizeof(dk));
		set_err(err, errlen, "spool: %s", mg_store_strerror(src));
		ct->spool = NULL;
		return -1;
	}
	__atomic_store_n(&ct->sealed_bytes, 0, __ATOMIC_RELAXED);
	int erc = mg_envelope_writer_open(&writer, &ctx, &dk, 0, sealed_sink, ct);
	OPENSSL_cleanse(&dk, sizeof(dk));
	cmd = calloc(1, sizeof(*cmd));
	if (erc != MG_ENVELOPE_OK || !cmd) {
		set_err(err, errlen, "seal: %s",
			erc != MG_ENVELOPE_OK ? mg_envelope_strerror(erc) : "out of memory");
		goto undo;
	}
	ct->generation++;
	*cmd = (struct ship_cmd){.op = CMD_OPEN,
				 .slot = slot,
				 .generation = ct->generation,
				 .clock = mg_rec_clock_now(),
				 .writer = writer};
	if (rte_ring_sp_enqueue(r->cmd_ring, cmd) != 0) {
		set_err(err, errlen, "ship command ring full");
		goto undo;
	}
	ct->open = true;
	ct->recordings++;
	r->st.started++;
	logmsg("contact %s: recording %s started (key %s v%u)", ct->contact_id, rec->object_key,
	       rec->key_id, rec->key_version);
	return 0;
undo:
	free(cmd);
	mg_envelope_writer_abort(writer);
	mg_store_spool_discard(ct->spool);
	ct->spool = NULL;
	return -1;
}

static void close_recording(struct mg_recorder *r, struct contact *ct, bool force_partial)
{
	struct ship_cmd *cmd = calloc(1, sizeof(*cmd));
	if (!cmd)
		return; /* retried by the sweep: the contact stays open */
	*cmd = (struct ship_cmd){.op = CMD_CLOSE,
				 .slot = (uint32_t)(ct - r->contacts),
				 .generation = ct->generation,
				 .clock = mg_rec_clock_now(),
				 .force_partial = force_partial};
	if (rte_ring_sp_enqueue(r->cmd_ring, cmd) != 0) {
		free(cmd);
		return;
	}
	ct->open = false;
	ct->closing = true;
}

/* The contact's policy as each of its calls carries it into the session state (the
 * snapshot, docs/state.md): a restore resumes the recording from it. */
static void mirror_policy(struct mg_recorder *r, struct contact *ct)
{
	const struct mg_rec_policy *p = &ct->policy;
	for (int k = 0; k < MG_REC_POLICY_MAX_LEGS; k++) {
		struct rec_leg *l = &ct->legs[k];
		struct mg_call *c = l->used ? mg_call_find(r->sessions, l->call_id) : NULL;
		if (!c)
			continue;
		struct mg_call_rec rec = c->rec;
		rec.set = true;
		rec.mode = p->mode;
		rec.state = p->state;
		rec.primary = p->primary >= 0 ? p->legs[p->primary].id : 0;
		rec.next_leg = ct->next_leg_id;
		int idx = policy_index(p, l->id);
		rec.leg_id[l->side] = idx >= 0 ? l->id : 0;
		if (idx >= 0) {
			const struct mg_rec_policy_leg *pl = &p->legs[idx];
			rec.role[l->side] = pl->role;
			rec.flags[l->side] = (uint8_t)((pl->present ? MG_CALL_REC_PRESENT : 0) |
						       (pl->connected ? MG_CALL_REC_CONNECTED : 0) |
						       (pl->on_hold ? MG_CALL_REC_HOLD : 0) |
						       (pl->muted ? MG_CALL_REC_MUTED : 0));
		}
		if (memcmp(&rec, &c->rec, sizeof(rec))) {
			c->rec = rec;
			mg_call_mark_dirty(r->sessions, c);
		}
	}
}

static void apply_result(struct mg_recorder *r, struct contact *ct, int res, char *err,
			 size_t errlen)
{
	mirror_policy(r, ct);
	if ((res & MG_REC_POLICY_STARTED) && ct->closing) {
		set_err(err, errlen, "the previous recording of contact %s is still closing",
			ct->contact_id);
		r->st.open_failures++;
	} else if ((res & MG_REC_POLICY_STARTED) && !ct->open) {
		if (open_recording(r, ct, err, errlen) < 0) {
			r->st.open_failures++;
			logmsg("contact %s: recording not started: %s", ct->contact_id,
			       err ? err : "");
		}
	}
	if (res)
		push_channels(r, ct);
	if ((res & MG_REC_POLICY_STOPPED) && ct->open)
		close_recording(r, ct, false);
}

static uint32_t contact_hash(const char *id)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *id; id++)
		h = (h ^ (uint8_t)*id) * 16777619u;
	return h;
}

/* The contact of c->contact_id (a hash lookup: ng events at 10,000 contacts stay cheap),
 * created in a free slot when asked. */
static struct contact *contact_of(struct mg_recorder *r, const struct mg_call *c, bool create)
{
	uint32_t *bucket = &r->buckets[contact_hash(c->contact_id) & r->bucket_mask];
	for (uint32_t k = *bucket; k; k = r->contacts[k - 1].hash_next)
		if (!strcmp(r->contacts[k - 1].contact_id, c->contact_id))
			return &r->contacts[k - 1];
	if (!create || r->n_free == 0)
		return NULL;
	uint32_t slot = r->free_slots[--r->n_free];
	struct contact *ct = &r->contacts[slot];
	pthread_mutex_lock(&r->lock);
	uint32_t gen = ct->generation; /* generations keep growing per slot */
	memset(ct, 0, sizeof(*ct));
	ct->generation = gen;
	ct->used = true;
	snprintf(ct->contact_id, sizeof(ct->contact_id), "%s", c->contact_id);
	snprintf(ct->instance, sizeof(ct->instance), "%s",
		 c->instance[0] ? c->instance : r->profile.keys_instance);
	mg_rec_policy_init(&ct->policy, MG_REC_MODE_NONE);
	ct->hash_next = *bucket;
	*bucket = slot + 1;
	pthread_mutex_unlock(&r->lock);
	return ct;
}

/* Forgets a contact whose calls are gone and that has no recording open or closing. */
static void contact_free(struct mg_recorder *r, struct contact *ct)
{
	uint32_t slot = (uint32_t)(ct - r->contacts);
	uint32_t *link = &r->buckets[contact_hash(ct->contact_id) & r->bucket_mask];
	while (*link && *link != slot + 1)
		link = &r->contacts[*link - 1].hash_next;
	if (*link)
		*link = ct->hash_next;
	pthread_mutex_lock(&r->lock);
	ct->used = false;
	pthread_mutex_unlock(&r->lock);
	r->free_slots[r->n_free++] = slot;
}

static struct rec_leg *leg_of(struct contact *ct, const struct mg_call *c, int side)
{
	for (int k = 0; k < MG_REC_POLICY_MAX_LEGS; k++)
		if (ct->legs[k].used && ct->legs[k].side == side &&
		    !strcmp(ct->legs[k].call_id, c->call_id))
			return &ct->legs[k];
	return NULL;
}

static int role_of(const char *s)
{
	static const char *const names[] = {"customer", "agent", "third-party", "ivr"};
	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

/* The leg for (call, side), added to the policy with its role when new. */
static struct rec_leg *ensure_leg(struct mg_recorder *r, struct contact *ct, struct mg_call *c,
				  int side, char *err, size_t errlen)
{
	struct rec_leg *l = leg_of(ct, c, side);
	if (l)
		return l;
	int role = role_of(c->role[side]);
	if (role < 0) {
		set_err(err, errlen, "the leg has no leg-role (customer, agent, third-party, ivr)");
		return NULL;
	}
	for (int k = 0; k < MG_REC_POLICY_MAX_LEGS && !l; k++)
		if (!ct->legs[k].used)
			l = &ct->legs[k];
	if (!l) {
		set_err(err, errlen, "contact %s has %d legs already", ct->contact_id,
			MG_REC_POLICY_MAX_LEGS);
		return NULL;
	}
	struct mg_rec_event ev = {
	    .type = MG_REC_EV_LEG_ADD, .leg = ++ct->next_leg_id, .role = (enum mg_rec_role)role};
	int res = mg_rec_policy_apply(&ct->policy, &ev);
	if (res < 0) {
		set_err(err, errlen, "the recording policy refused the leg");
		return NULL;
	}
	l->used = true;
	l->side = side;
	l->id = ev.leg;
	snprintf(l->call_id, sizeof(l->call_id), "%s", c->call_id);
	apply_result(r, ct, res, err, errlen);
	return l;
}

enum mg_rec_mode mg_recorder_mode(struct mg_recorder *r, const struct mg_call *c)
{
	struct contact *ct = c->contact_id[0] ? contact_of(r, c, false) : NULL;
	return ct ? (enum mg_rec_mode)ct->policy.mode : MG_REC_MODE_NONE;
}

void mg_recorder_sync_call(struct mg_recorder *r, struct mg_call *c)
{
	if (!r || !c->contact_id[0])
		return;
	struct contact *ct = contact_of(r, c, true);
	if (!ct)
		return;
	for (int side = 0; side < 2; side++)
		if (c->role[side][0])
			ensure_leg(r, ct, c, side, NULL, 0);
	/* a new call of an open contact (a transfer leg) needs its channels */
	push_channels(r, ct);
}

static const char *event_name(enum mg_rec_event_type t)
{
	static const char *const names[] = {"set mode",
					    "leg add",
					    "leg remove",
					    "agent connected",
					    "agent disconnected",
					    "hold",
					    "unhold",
					    "mute",
					    "unmute",
					    "transfer agent",
					    "transfer external",
					    "conference join",
					    "conference leave"};
	return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "event";
}

int mg_recorder_event(struct mg_recorder *r, struct mg_call *c, int side,
		      enum mg_rec_event_type type, enum mg_rec_mode mode, char *err, size_t errlen)
{
	r->st.events++;
	if (!c->contact_id[0]) {
		set_err(err, errlen, "recording needs a contact-id");
		r->st.event_errors++;
		return -1;
	}
	struct contact *ct = contact_of(r, c, true);
	if (!ct) {
		set_err(err, errlen, "too many contacts (recording.max_contacts %u)",
			r->max_contacts);
		r->st.event_errors++;
		return -1;
	}
	for (int s = 0; s < 2; s++)
		if (c->role[s][0])
			ensure_leg(r, ct, c, s, NULL, 0);
	struct mg_rec_event ev = {.type = type, .mode = mode};
	if (type != MG_REC_EV_SET_MODE) {
		struct rec_leg *l = side >= 0 ? leg_of(ct, c, side) : NULL;
		if (!l && side >= 0 &&
		    (type == MG_REC_EV_AGENT_CONNECTED || type == MG_REC_EV_TRANSFER_AGENT ||
		     type == MG_REC_EV_TRANSFER_EXTERNAL)) {
			/* the event names the leg's role itself */
			if (!c->role[side][0])
				snprintf(c->role[side], sizeof(c->role[side]), "%s",
					 type == MG_REC_EV_TRANSFER_EXTERNAL ? "third-party"
									     : "agent");
			l = ensure_leg(r, ct, c, side, err, errlen);
		}
		if (!l) {
			if (err && !err[0])
				set_err(err, errlen, "%s: the from-tag names no leg of contact %s",
					event_name(type), ct->contact_id);
			r->st.event_errors++;
			return -1;
		}
		ev.leg = l->id;
		ev.role = (enum mg_rec_role)role_of(c->role[side]);
	}
	int res = mg_rec_policy_apply(&ct->policy, &ev);
	if (res < 0) {
		set_err(err, errlen, "%s: not applicable to this leg (recording policy)",
			event_name(type));
		r->st.event_errors++;
		return -1;
	}
	if (err && errlen)
		err[0] = '\0';
	apply_result(r, ct, res, err, errlen);
	if ((res & MG_REC_POLICY_STARTED) && !ct->open)
		return -1; /* err says why it did not open */
	return 0;
}

static void commit(struct mg_recorder *r, struct contact *ct, const struct ship_cmd *c)
{
	bool partial = c->partial || c->rc != 0;
	int rc = mg_store_spool_commit(ct->spool, partial);
	ct->spool = NULL;
	struct mg_envelope_context ctx = {.account = ct->record.account,
					  .instance = ct->record.instance,
					  .contact_id = ct->record.contact_id,
					  .object_path = ct->record.object_key,
					  .key_id = ct->record.key_id,
					  .key_version = ct->record.key_version};
	mg_keys_audit(r->keys, r->profile.keys_principal, "recording.seal", ct->record.key_id,
		      ct->record.key_version, &ctx, partial ? "partial" : "complete",
		      rc == MG_STORE_OK ? "ok" : "error:spool-commit");
	pthread_mutex_lock(&r->lock);
	ct->last = c->stats;
	ct->last_partial = partial;
	ct->closing = false;
	r->st.bytes_sealed += ct->sealed_bytes;
	ct->sealed_bytes = 0;
	pthread_mutex_unlock(&r->lock);
	r->st.finished++;
	if (partial)
		r->st.finished_partial++;
	if (rc != MG_STORE_OK) {
		r->st.commit_failures++;
		logmsg("contact %s: %s: commit failed: %s", ct->contact_id, ct->record.object_key,
		       mg_store_strerror(rc));
	} else {
		logmsg("contact %s: recording %s finished%s: %llu records, %llu ring drops",
		       ct->contact_id, ct->record.object_key, partial ? " (partial)" : "",
		       (unsigned long long)c->stats.records,
		       (unsigned long long)c->stats.ring_drops);
	}
}

static void returned(struct mg_recorder *r, struct ship_cmd *c)
{
	struct contact *ct = &r->contacts[c->slot];
	if (c->op == CMD_OPEN) { /* the ship could not open it */
		mg_envelope_writer_abort(c->writer);
		mg_store_spool_discard(ct->spool);
		ct->spool = NULL;
		ct->open = false;
		push_channels(r, ct); /* the workers stop forking for it */
		r->st.open_failures++;
		logmsg("contact %s: the ship could not open the recording", ct->contact_id);
	} else {
		commit(r, ct, c);
	}
	free(c);
}

/* Legs whose call is gone leave the policy (the agent's leg leaving ends the recording). */
static void sweep_contact(struct mg_recorder *r, struct contact *ct)
{
	bool any = false;
	for (int k = 0; k < MG_REC_POLICY_MAX_LEGS; k++) {
		struct rec_leg *l = &ct->legs[k];
		if (!l->used)
			continue;
		if (mg_call_find(r->sessions, l->call_id)) {
			any = true;
			continue;
		}
		struct mg_rec_event ev = {.type = MG_REC_EV_LEG_REMOVE, .leg = l->id};
		int res = mg_rec_policy_apply(&ct->policy, &ev);
		l->used = false;
		if (res > 0)
			apply_result(r, ct, res, NULL, 0);
	}
	if (!any && !ct->open && !ct->closing)
		contact_free(r, ct);
}

static void sweep(struct mg_recorder *r)
{
	for (uint32_t i = 0; i < r->max_contacts; i++)
		if (r->contacts[i].used)
			sweep_contact(r, &r->contacts[i]);
}

void mg_recorder_call_deleted(struct mg_recorder *r, const char *contact_id)
{
	if (!r || !contact_id[0])
		return;
	struct mg_call key;
	snprintf(key.contact_id, sizeof(key.contact_id), "%s", contact_id);
	struct contact *ct = contact_of(r, &key, false);
	if (ct)
		sweep_contact(r, ct);
}

unsigned mg_recorder_control_poll(struct mg_recorder *r)
{
	struct ship_cmd *rets[64];
	unsigned n = rte_ring_sc_dequeue_burst(r->ret_ring, (void **)rets, 64, NULL);
	for (unsigned i = 0; i < n; i++)
		returned(r, rets[i]);
	time_t now = time(NULL);
	if (now - r->last_sweep >= SWEEP_SECONDS) {
		r->last_sweep = now;
		sweep(r);
	}
	/* lcores.ship = none: the ship runs here, between the control lcore's other work */
	if (r->profile.ship_lcore < 0) {
		uint64_t t = rte_get_tsc_cycles();
		if (t - r->last_ship_step >= r->ship_pause_tsc) {
			r->last_ship_step = t;
			n += mg_recorder_ship_step(r);
		}
	}
	return n;
}

void mg_recorder_destroy(struct mg_recorder *r)
{
	if (!r)
		return;
	if (r->ship && r->contacts) {
		/* What is still open is cut short by the stop: sealed, marked partial and
		 * committed, never lost. The ship is stopped; this thread owns it now. */
		for (uint32_t i = 0; i < r->max_contacts; i++)
			if (r->contacts[i].open)
				close_recording(r, &r->contacts[i], true);
		mg_recorder_ship_step(r);
		struct ship_cmd *c;
		while (rte_ring_sc_dequeue(r->ret_ring, (void **)&c) == 0)
			returned(r, c);
	}
	if (r->store) {
		if (r->delivering)
			mg_store_worker_stop(r->store);
		mg_store_close(r->store);
	}
	mg_rec_ship_free(r->ship);
	mg_rec_hub_free(r->hub);
	rte_ring_free(r->cmd_ring);
	rte_ring_free(r->ret_ring);
	free(r->contacts);
	free(r->buckets);
	free(r->free_slots);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* ---- figures --------------------------------------------------------------------------- */

void mg_recorder_each_contact(struct mg_recorder *r,
			      void (*fn)(void *arg, const struct mg_recorder_contact_info *ci),
			      void *arg)
{
	pthread_mutex_lock(&r->lock);
	for (uint32_t i = 0; i < r->max_contacts; i++) {
		const struct contact *ct = &r->contacts[i];
		if (!ct->used && !ct->closing)
			continue;
		struct mg_recorder_contact_info ci = {.slot = i,
						      .generation = ct->generation,
						      .open = ct->open || ct->closing,
						      .recordings = ct->recordings};
		snprintf(ci.contact_id, sizeof(ci.contact_id), "%s", ct->contact_id);
		snprintf(ci.object_key, sizeof(ci.object_key), "%s", ct->record.object_key);
		if (ci.open) {
			struct mg_rec_contact_stats cs;
			mg_rec_ship_contact_stats(r->ship, i, &cs);
			ci.records = cs.records;
			ci.ring_drops = cs.ring_drops;
			ci.stale = cs.stale;
			ci.bytes_plain = cs.bytes_plain;
			ci.partial = cs.partial;
		} else {
			ci.records = ct->last.records;
			ci.ring_drops = ct->last.ring_drops;
			ci.stale = ct->last.stale;
			ci.bytes_plain = ct->last.bytes_plain;
			ci.partial = ct->last_partial;
		}
		fn(arg, &ci);
	}
	pthread_mutex_unlock(&r->lock);
}

void mg_recorder_get_stats(struct mg_recorder *r, struct mg_recorder_stats *st)
{
	*st = r->st;
	struct mg_rec_ship_stats ss;
	mg_rec_ship_get_stats(r->ship, &ss);
	st->in_progress = ss.opened - ss.closed;
	uint64_t sealed = 0;
	pthread_mutex_lock(&r->lock);
	for (uint32_t i = 0; i < r->max_contacts; i++) {
		const struct contact *ct = &r->contacts[i];
		if (ct->used || ct->closing)
			sealed += __atomic_load_n(&ct->sealed_bytes, __ATOMIC_RELAXED);
	}
	st->bytes_sealed = sealed + r->st.bytes_sealed;
	pthread_mutex_unlock(&r->lock);
	for (unsigned k = 0; k < mg_rec_hub_rings(r->hub); k++) {
		struct mg_rec_ring_stats rs;
		mg_rec_hub_ring_stats(r->hub, k, &rs);
		st->ring_drops += rs.dropped_full + rs.dropped_pool;
	}
	struct mg_store_stats ps;
	mg_store_get_stats(r->store, &ps);
	st->spool_files = ps.spool_files;
	st->spool_bytes = ps.spool_bytes;
	st->delivered = ps.delivered;
	st->upload_failures = ps.upload_failures;
	st->spool_full_events = ps.spool_full_events;
	st->spool_full_alarm = ps.spool_full_alarm;
}

void mg_recorder_metrics(struct mg_recorder *r, mg_recorder_metric_fn emit, void *arg)
{
	struct mg_recorder_stats st;
	mg_recorder_get_stats(r, &st);
	emit(arg, "recordings_in_progress", st.in_progress, true);
	emit(arg, "recordings_started", st.started, false);
	emit(arg, "recordings_finished", st.finished, false);
	emit(arg, "recordings_partial", st.finished_partial, false);
	emit(arg, "recordings_open_failures", st.open_failures, false);
	emit(arg, "recordings_commit_failures", st.commit_failures, false);
	emit(arg, "recording_bytes_sealed", st.bytes_sealed, false);
	emit(arg, "recording_ring_drops", st.ring_drops, false);
	uint64_t forked = 0;
	for (unsigned k = 0; k < mg_rec_hub_rings(r->hub); k++) {
		struct mg_rec_ring_stats rs;
		mg_rec_hub_ring_stats(r->hub, k, &rs);
		forked += rs.forked;
	}
	emit(arg, "recording_ring_forked", forked, false);
	emit(arg, "recording_events", st.events, false);
	emit(arg, "recording_event_errors", st.event_errors, false);
	emit(arg, "spool_files", st.spool_files, true);
	emit(arg, "spool_bytes", st.spool_bytes, true);
	emit(arg, "spool_delivered", st.delivered, false);
	emit(arg, "spool_upload_failures", st.upload_failures, false);
	emit(arg, "spool_full_events", st.spool_full_events, false);
	emit(arg, "spool_full_alarm", st.spool_full_alarm, true);
}

/* A restored call's legs go back into their contact's policy as the snapshot had them. */
static void resume_call(struct contact *ct, struct mg_call *c)
{
	struct mg_rec_policy *p = &ct->policy;
	if (p->n_legs == 0 && ct->next_leg_id == 0) { /* the contact's first call here */
		p->mode = c->rec.mode;
		p->state = c->rec.state;
	}
	if (c->rec.next_leg > ct->next_leg_id)
		ct->next_leg_id = c->rec.next_leg;
	for (int side = 0; side < 2; side++) {
		uint32_t id = c->rec.leg_id[side];
		if (!id || leg_of(ct, c, side) || policy_index(p, id) >= 0 ||
		    p->n_legs >= MG_REC_POLICY_MAX_LEGS)
			continue;
		struct rec_leg *l = NULL;
		for (int k = 0; k < MG_REC_POLICY_MAX_LEGS && !l; k++)
			if (!ct->legs[k].used)
				l = &ct->legs[k];
		if (!l)
			continue;
		*l = (struct rec_leg){.used = true, .side = side, .id = id};
		snprintf(l->call_id, sizeof(l->call_id), "%s", c->call_id);
		uint8_t f = c->rec.flags[side];
		int idx = p->n_legs++;
		p->legs[idx] = (struct mg_rec_policy_leg){.id = id,
							  .role = c->rec.role[side],
							  .present = true,
							  .connected = f & MG_CALL_REC_CONNECTED,
							  .on_hold = f & MG_CALL_REC_HOLD,
							  .muted = f & MG_CALL_REC_MUTED};
		if (id == c->rec.primary)
			p->primary = (int8_t)idx;
	}
}

unsigned mg_recorder_resume(struct mg_recorder *r)
{
	unsigned resumed = 0;
	for (struct mg_call *c = mg_call_first(r->sessions); c; c = mg_call_next(c)) {
		if (!c->rec.set || !c->contact_id[0])
			continue;
		struct contact *ct = contact_of(r, c, true);
		if (!ct) {
			logmsg("contact %s: not resumed: too many contacts", c->contact_id);
			continue;
		}
		resume_call(ct, c);
	}
	for (uint32_t i = 0; i < r->max_contacts; i++) {
		struct contact *ct = &r->contacts[i];
		if (!ct->used || ct->open)
			continue;
		int res = 0;
		if (ct->policy.state == MG_REC_STATE_ACTIVE && ct->policy.mode != MG_REC_MODE_NONE)
			res = MG_REC_POLICY_STARTED | MG_REC_POLICY_CHANGED;
		char err[200] = "";
		apply_result(r, ct, res, err, sizeof(err));
		if (ct->open) {
			resumed++;
			logmsg(
			    "contact %s: recording resumed after a restore (a new recording; the "
			    "one cut short stays in the spool)",
			    ct->contact_id);
		}
	}
	return resumed;
}
