/* Sessions in the state store: restore at start-up, write what changed, delete what
 * ended. Control lcore only; the store's writer thread does the network I/O. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "session.h"
#include "session_secrets.h"
#include "state.h"

static uint64_t fnv(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
	return h;
}

static void key_of(const char *call_id, char *out, size_t cap)
{
	snprintf(out, cap, "call:%s", call_id);
}

/* The ANI index: one key per (hash, call), "ani:<hash>:<call-id>" -> "", so a lookup is
 * a SCAN of "<prefix>ani:<hash>:*" (docs/state.md). */
static void ani_key_of(const char *hash, const char *call_id, char *out, size_t cap)
{
	snprintf(out, cap, "ani:%s:%s", hash, call_id);
}

static void on_delete(void *arg, const struct mg_call *c)
{
	char key[MG_CALL_ID_MAX + 80];
	key_of(c->call_id, key, sizeof(key));
	mg_state_del(arg, key);
	if (c->pii && c->pii->indexed_hash[0]) {
		ani_key_of(c->pii->indexed_hash, c->call_id, key, sizeof(key));
		mg_state_del(arg, key);
	}
}

static void update_ani_index(struct mg_state *st, struct mg_call *c, bool sealed)
{
	struct mg_call_pii *p = c->pii;
	const char *want = p && sealed ? p->ani_hash : "";
	if (!p || strcmp(want, p->indexed_hash) == 0)
		return;
	char key[MG_CALL_ID_MAX + 80];
	if (p->indexed_hash[0]) {
		ani_key_of(p->indexed_hash, c->call_id, key, sizeof(key));
		mg_state_del(st, key);
	}
	if (want[0]) {
		ani_key_of(want, c->call_id, key, sizeof(key));
		if (mg_state_put(st, key, "", 0) != 0)
			return; /* retried with the next write of the call */
	}
	snprintf(p->indexed_hash, sizeof(p->indexed_hash), "%s", want);
}

void mg_sessions_attach_state(struct mg_sessions *s, struct mg_state *st)
{
	mg_sessions_on_delete(s, on_delete, st);
}

/* A cheap signature of the latched addresses, so the checkpoint pass encodes only the
 * calls whose latching changed since their last snapshot. */
static uint64_t latch_signature(const struct mg_call *c)
{
	uint64_t h = 1469598103934665603ull;
	for (unsigned i = 0; i < c->n_media; i++)
		for (int side = 0; side < 2; side++) {
			const struct mg_leg *l = c->media[i].leg[side];
			if (!l)
				continue;
			struct mg_latch rtp, rtcp;
			mg_dp_leg_snapshot(l, NULL, &rtp, &rtcp);
			uint64_t v = (uint64_t)rtp.latched << 63 | (uint64_t)rtp.addr.ip << 16 |
				     rtp.addr.port;
			uint64_t w = (uint64_t)rtcp.latched << 63 | (uint64_t)rtcp.addr.ip << 16 |
				     rtcp.addr.port;
			h = (h ^ v) * 1099511628211ull;
			h = (h ^ w) * 1099511628211ull;
		}
	/* conferences, pairings and mute/hold in them (ng conference commands change calls
	 * other than the one named) */
	for (unsigned i = 0; i < c->n_media; i++)
		for (int side = 0; side < 2; side++) {
			struct mg_leg *l = c->media[i].leg[side];
			if (!l)
				continue;
			bool muted = false, hold = false;
			if (l->conf_ctl)
				mg_dp_conf_leg_state(l, &muted, &hold);
			h = (h ^ (uint64_t)(uintptr_t)l->conf_ctl) * 1099511628211ull;
			h = (h ^ (uint64_t)(uintptr_t)mg_dp_leg_relay_partner(l) ^
			     (uint64_t)muted << 1 ^ (uint64_t)hold << 2) *
			    1099511628211ull;
		}
	/* and the SRTP ROC/sequence, coarsely, so a restart resumes close to it */
	return mg_call_secrets_signature(c, h);
}

static bool write_call(struct mg_sessions *s, struct mg_state *st, struct mg_call *c)
{
	static char blob[32768], secrets[16384];
	size_t n = mg_call_encode(c, blob, sizeof(blob));
	if (!n)
		return true; /* cannot be encoded: nothing better to do than skip it */
	/* the change check covers the secrets in clear, before sealing (random IVs) */
	long sn = mg_call_encode_secrets(c, secrets, sizeof(secrets));
	size_t written = sn > 0 ? (size_t)sn : sn < 0 ? sizeof(secrets) : 0;
	if (c->restore_secrets && c->restore_secrets_len <= sizeof(secrets)) {
		/* restored, contexts not built yet: the secrets as they were restored */
		memcpy(secrets, c->restore_secrets, c->restore_secrets_len);
		sn = (long)c->restore_secrets_len;
		if (c->restore_secrets_len > written)
			written = c->restore_secrets_len;
	}
	uint64_t h = fnv(blob, n);
	if (sn > 0)
		h ^= fnv(secrets, (size_t)sn) * 31;
	if (h == c->state_hash) {
		explicit_bzero(secrets, written);
		return true;
	}
	char *sealed = mg_call_seal_secrets(s, c, secrets, sn);
	explicit_bzero(secrets, written);
	if (!sealed && sn > 0 && mg_sessions_keys(s)->have_sealer && c->state_hash != 0)
		/* sealing failed (token or key unavailable): the snapshot already in Redis keeps
		 * the keys; replacing it by one without them would lose them. Retried. */
		return false;
	bool have_sealed = sealed != NULL;
	if (sealed) {
		n = mg_call_encode_sealed(c, sealed, blob, sizeof(blob));
		free(sealed);
		if (!n)
			return true;
	}
	char key[MG_CALL_ID_MAX + 8];
	key_of(c->call_id, key, sizeof(key));
	if (mg_state_put(st, key, blob, n) != 0)
		return false; /* store full: retried by the next pass */
	update_ani_index(st, c, have_sealed);
	c->state_hash = h;
	return true;
}

unsigned mg_sessions_persist(struct mg_sessions *s, struct mg_state *st, bool all)
{
	unsigned written = 0;
	/* calls changed by signalling */
	struct mg_call *c = mg_sessions_take_dirty(s);
	while (c) {
		struct mg_call *next = c->dirty_next;
		c->state_dirty = false;
		c->dirty_next = c->dirty_prev = NULL;
		if (write_call(s, st, c)) {
			c->latch_sig = latch_signature(c);
			written++;
		} else {
			mg_call_mark_dirty(s, c);
		}
		c = next;
	}
	if (!all)
		return written;
	/* checkpoint: calls whose latching changed since their last snapshot */
	for (c = mg_call_first(s); c; c = mg_call_next(c)) {
		uint64_t sig = latch_signature(c);
		if (sig != c->latch_sig && write_call(s, st, c)) {
			c->latch_sig = sig;
			written++;
		}
	}
	return written;
}

struct restore_ctx {
	struct mg_sessions *s;
	long restored, failed;
	char first_error[400];
};

static int restore_one(void *arg, const char *key, const void *val, size_t len)
{
	struct restore_ctx *r = arg;
	char err[160];
	if (strncmp(key, "call:", 5) != 0)
		return 0;
	if (mg_call_restore(r->s, val, len, err, sizeof(err)) == 0) {
		/* written back under this appliance's prefix by the next persist pass */
		struct mg_call *c = mg_call_lookup(r->s, key + 5);
		if (c)
			mg_call_mark_dirty(r->s, c);
		r->restored++;
	} else {
		if (!r->failed)
			snprintf(r->first_error, sizeof(r->first_error), "%.200s: %s", key, err);
		r->failed++;
	}
	return 0;
}

long mg_sessions_restore(struct mg_sessions *s, const struct mg_state_config *cfg, long *failed,
			 char *err, size_t errlen)
{
	struct restore_ctx r = {.s = s};
	long n = mg_state_load(cfg, restore_one, &r, err, errlen);
	if (n < 0)
		return -1;
	*failed = r.failed;
	if (r.failed)
		snprintf(err, errlen, "%s", r.first_error);
	return r.restored;
}

struct mg_state *mg_sessions_state_open(struct mg_sessions *s, const char *redis,
					const char *prefix, const char *takeover,
					struct mg_restore_report *report)
{
	memset(report, 0, sizeof(*report));
	struct mg_state_config cfg;
	mg_state_config_defaults(&cfg);
	const char *colon = strrchr(redis, ':');
	if (!colon)
		return NULL;
	snprintf(cfg.host, sizeof(cfg.host), "%.*s", (int)(colon - redis), redis);
	cfg.port = (uint16_t)atoi(colon + 1);
	const char *prefixes[2] = {prefix, takeover ? takeover : ""};
	for (int k = 0; k < 2; k++) {
		if (!prefixes[k][0])
			continue;
		snprintf(report->prefix[k], sizeof(report->prefix[k]), "%s", prefixes[k]);
		snprintf(cfg.prefix, sizeof(cfg.prefix), "%s", prefixes[k]);
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		struct mg_session_keys *keys = mg_sessions_keys(s);
		uint64_t open_failed = keys->stats.open_failed;
		keys->last_open_error[0] = '\0';
		report->restored[k] = mg_sessions_restore(
		    s, &cfg, &report->failed[k], report->error[k], sizeof(report->error[k]));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		report->ms[k] =
		    (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		report->without_keys[k] = (long)(keys->stats.open_failed - open_failed);
		snprintf(report->keys_error[k], sizeof(report->keys_error[k]), "%s",
			 keys->last_open_error);
	}
	/* with every call of both prefixes back: pairings across calls and conferences */
	mg_sessions_restore_links(s, &report->links);
	snprintf(cfg.prefix, sizeof(cfg.prefix), "%s", prefix);
	struct mg_state *st = mg_state_open(&cfg);
	if (!st)
		return NULL;
	mg_sessions_attach_state(s, st);
	if (prefixes[1][0]) {
		/* the taken-over sessions now live under our prefix: remove the old keys */
		struct mg_state_config other = cfg;
		snprintf(other.prefix, sizeof(other.prefix), "%s", prefixes[1]);
		struct mg_state *old = mg_state_open(&other);
		for (struct mg_call *c = mg_call_first(s); old && c; c = mg_call_next(c)) {
			char key[MG_CALL_ID_MAX + 80];
			key_of(c->call_id, key, sizeof(key));
			mg_state_del(old, key);
			if (c->pii && c->pii->ani_hash[0]) {
				ani_key_of(c->pii->ani_hash, c->call_id, key, sizeof(key));
				mg_state_del(old, key);
			}
		}
		if (old) {
			mg_state_flush(old, 5000);
			mg_state_close(old);
		}
	}
	mg_sessions_persist(s, st, true);
	return st;
}
