/* WebRTC legs on the control lcore: ICE-lite answers, consent, DTLS-SRTP and the keys it
 * exports, wired to the data plane (see webrtc.h and docs/ice-dtls.md). */
#include "webrtc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#define PORTS	       65536
#define SCAN_PERIOD_NS (100ull * 1000000ull) /* consent checks at least every 100 ms */
#define DTLS_DATAGRAM  1500

struct mg_webrtc_leg {
	struct mg_leg *leg;
	struct mg_leg_cfg *cfg; /* the session's copy of the leg's configuration */
	char ufrag[MG_WEBRTC_UFRAG_LEN + 1], pwd[MG_WEBRTC_PWD_LEN + 1];
	char remote_ufrag[257];
	bool ice;
	/* the selected pair: where STUN checks came from, DTLS and media go */
	bool selected, consent_lost;
	uint32_t sel_ip;
	uint16_t sel_port, sel_local_port;
	struct mg_mac sel_mac;
	struct mg_stun_consent consent;
	/* DTLS */
	mg_dtls *dtls;
	enum mg_dtls_role role;
	struct mg_dtls_fingerprint fp;
	bool started, keys_in, end_counted;
	struct mg_dtls_counters last; /* counters already added to the totals */
	struct mg_webrtc_leg *prev, *next;
	/* the SRTP keys in use (for the session snapshot); restored: they came from one */
	bool have_keys, restored;
	struct mg_dtls_srtp_keys keys;
};

struct mg_webrtc {
	struct mg_dataplane *dp;
	mg_dtls_ctx *identity;
	struct mg_webrtc_stats stats;
	struct mg_webrtc_leg **by_port[MG_MAX_INTERFACES];
	struct mg_webrtc_leg *head;
	uint64_t next_scan_ns;
};

uint64_t mg_webrtc_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void on_udp(void *arg, const struct mg_dp_slow_udp *pkt)
{
	mg_webrtc_input(arg, pkt, mg_webrtc_now_ns());
}

static unsigned on_tick(void *arg)
{
	struct mg_webrtc *w = arg;
	uint64_t now = mg_webrtc_now_ns();
	if (now < w->next_scan_ns)
		return 0;
	return mg_webrtc_run_timers(w, now);
}

struct mg_webrtc *mg_webrtc_create(struct mg_dataplane *dp, mg_dtls_ctx *identity)
{
	struct mg_webrtc *w = calloc(1, sizeof(*w));
	if (!w || !identity) {
		free(w);
		return NULL;
	}
	w->dp = dp;
	w->identity = identity;
	if (dp)
		mg_dp_set_slow_udp_handler(dp, on_udp, on_tick, w);
	return w;
}

void mg_webrtc_destroy(struct mg_webrtc *w)
{
	if (!w)
		return;
	if (w->dp)
		mg_dp_set_slow_udp_handler(w->dp, NULL, NULL, NULL);
	while (w->head)
		mg_webrtc_leg_free(w, w->head);
	for (unsigned i = 0; i < MG_MAX_INTERFACES; i++)
		free(w->by_port[i]);
	mg_dtls_ctx_free(w->identity);
	free(w);
}

const char *mg_webrtc_fingerprint(const struct mg_webrtc *w)
{
	return mg_dtls_ctx_fingerprint(w->identity);
}

void mg_webrtc_get_stats(const struct mg_webrtc *w, struct mg_webrtc_stats *out)
{
	*out = w->stats;
}

/* ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 5.4) */
static int random_ice_chars(char *out, size_t n)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t r[64];
	if (n > sizeof(r) || RAND_bytes(r, (int)n) != 1)
		return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[r[i] & 63];
	out[n] = 0;
	return 0;
}

struct mg_webrtc_leg *mg_webrtc_leg_new(struct mg_webrtc *w, struct mg_leg *leg,
					struct mg_leg_cfg *cfg)
{
	if (!leg || !cfg || leg->iface >= MG_MAX_INTERFACES)
		return NULL;
	if (!w->by_port[leg->iface] &&
	    !(w->by_port[leg->iface] = calloc(PORTS, sizeof(struct mg_webrtc_leg *))))
		return NULL;
	struct mg_webrtc_leg *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	if (random_ice_chars(l->ufrag, MG_WEBRTC_UFRAG_LEN) < 0 ||
	    random_ice_chars(l->pwd, MG_WEBRTC_PWD_LEN) < 0) {
		free(l);
		return NULL;
	}
	l->leg = leg;
	l->cfg = cfg;
	w->by_port[leg->iface][leg->rtp_port] = l;
	w->by_port[leg->iface][leg->rtcp_port] = l;
	l->next = w->head;
	if (w->head)
		w->head->prev = l;
	w->head = l;
	w->stats.legs++;
	return l;
}

void mg_webrtc_leg_free(struct mg_webrtc *w, struct mg_webrtc_leg *l)
{
	if (!l)
		return;
	struct mg_webrtc_leg **map = w->by_port[l->leg->iface];
	if (map[l->leg->rtp_port] == l)
		map[l->leg->rtp_port] = NULL;
	if (map[l->leg->rtcp_port] == l)
		map[l->leg->rtcp_port] = NULL;
	if (l->prev)
		l->prev->next = l->next;
	else
		w->head = l->next;
	if (l->next)
		l->next->prev = l->prev;
	mg_dtls_free(l->dtls);
	explicit_bzero(l, sizeof(*l));
	free(l);
	w->stats.legs--;
}

void mg_webrtc_leg_set_cfg(struct mg_webrtc_leg *l, struct mg_leg_cfg *cfg)
{
	l->cfg = cfg;
}

const char *mg_webrtc_leg_ufrag(const struct mg_webrtc_leg *l)
{
	return l->ufrag;
}

const char *mg_webrtc_leg_pwd(const struct mg_webrtc_leg *l)
{
	return l->pwd;
}

int mg_webrtc_leg_set_ice(struct mg_webrtc_leg *l, bool on, const char *remote_ufrag)
{
	if (remote_ufrag && strlen(remote_ufrag) >= sizeof(l->remote_ufrag))
		return -1;
	l->ice = on;
	snprintf(l->remote_ufrag, sizeof(l->remote_ufrag), "%s", remote_ufrag ? remote_ufrag : "");
	return 0;
}

bool mg_webrtc_leg_has_dtls(const struct mg_webrtc_leg *l)
{
	return l->dtls != NULL;
}

enum mg_dtls_state mg_webrtc_leg_dtls_state(const struct mg_webrtc_leg *l)
{
	enum mg_dtls_state st = l->dtls ? mg_dtls_state(l->dtls) : MG_DTLS_STATE_NEW;
	return l->restored && st == MG_DTLS_STATE_NEW ? MG_DTLS_STATE_CONNECTED : st;
}

/* Publishes the session's configuration of the leg (optionally forgetting the latch). */
static void republish(struct mg_webrtc *w, struct mg_webrtc_leg *l, bool relatch)
{
	struct mg_leg_cfg c = *l->cfg;
	c.relatch = relatch;
	c.restore_latch = false;
	l->cfg->relatch = false;
	if (w->dp)
		mg_dp_leg_update(w->dp, l->leg, &c);
}

static void send_to_pair(struct mg_webrtc *w, struct mg_webrtc_leg *l, const uint8_t *data,
			 size_t len)
{
	if (!w->dp)
		return;
	if (mg_dp_control_send_udp(w->dp, l->leg->iface, l->sel_local_port, l->sel_ip, l->sel_port,
				   &l->sel_mac, data, (uint16_t)len) < 0)
		w->stats.tx_errors++;
}

/* Sends whatever the association queued (handshake flights, alerts). */
static void drain(struct mg_webrtc *w, struct mg_webrtc_leg *l)
{
	uint8_t buf[DTLS_DATAGRAM];
	int n;
	while ((n = mg_dtls_output(l->dtls, buf, sizeof(buf))) > 0) {
		if (l->selected)
			send_to_pair(w, l, buf, (size_t)n);
		w->stats.dtls_datagrams_out++;
	}
}

static int new_ctx(struct mg_webrtc *w, const struct mg_srtp_key_params *p, mg_srtp_ctx **out)
{
	mg_srtp_ctx *ctx = mg_dp_srtp_ctx_alloc();
	if (!ctx)
		return -1;
	if (mg_srtp_ctx_init(ctx, mg_dp_control_srtp_engine(w->dp), p) != 0) {
		mg_dp_srtp_ctx_free(ctx);
		return -1;
	}
	*out = ctx;
	return 0;
}

/* The key params point into the structure itself: copies repoint them. */
static void keys_copy(struct mg_dtls_srtp_keys *dst, const struct mg_dtls_srtp_keys *src)
{
	*dst = *src;
	dst->tx.master_key = dst->tx_key;
	dst->tx.master_salt = dst->tx_salt;
	dst->rx.master_key = dst->rx_key;
	dst->rx.master_salt = dst->rx_salt;
}

static void install_keys(struct mg_webrtc *w, struct mg_webrtc_leg *l)
{
	struct mg_dtls_srtp_keys keys;
	mg_srtp_ctx *in = NULL, *out = NULL;
	l->keys_in = true; /* once per association, even if it fails below */
	if (!w->dp || mg_dtls_srtp_keys(l->dtls, &keys) < 0 || new_ctx(w, &keys.rx, &in) < 0 ||
	    new_ctx(w, &keys.tx, &out) < 0) {
		mg_dp_srtp_ctx_free(in);
		mg_dtls_srtp_keys_wipe(&keys);
		w->stats.handshake_fail[MG_DTLS_FAIL_KEY_EXPORT]++;
		return;
	}
	keys_copy(&l->keys, &keys);
	l->have_keys = true;
	l->restored = false;
	mg_dtls_srtp_keys_wipe(&keys);
	l->cfg->srtp = true;
	l->cfg->srtp_in = in;	/* what the browser sends */
	l->cfg->srtp_out = out; /* what we send to it */
	republish(w, l, false);
	w->stats.keys_installed++;
}

/* No key: the workers drop this leg's media both ways (srtp_no_key), never plaintext. */
static void remove_keys(struct mg_webrtc *w, struct mg_webrtc_leg *l)
{
	if (!l->cfg->srtp_in && !l->cfg->srtp_out && l->cfg->srtp)
		return;
	l->cfg->srtp = true;
	l->cfg->srtp_in = l->cfg->srtp_out = NULL;
	republish(w, l, false);
}

static void add_counters(struct mg_webrtc *w, struct mg_webrtc_leg *l)
{
	struct mg_dtls_counters c = mg_dtls_counters(l->dtls);
	w->stats.dtls_garbage += c.garbage_dropped - l->last.garbage_dropped;
	w->stats.retransmissions += c.retransmissions - l->last.retransmissions;
	w->stats.dtls13_offered += c.dtls13_offered - l->last.dtls13_offered;
	l->last = c;
}

/* After any call into the association: send, count, move keys. */
static void after_dtls(struct mg_webrtc *w, struct mg_webrtc_leg *l, enum mg_dtls_state st)
{
	drain(w, l);
	add_counters(w, l);
	if (st == MG_DTLS_STATE_CONNECTED && !l->keys_in) {
		w->stats.handshakes_ok++;
		install_keys(w, l);
	} else if (st == MG_DTLS_STATE_FAILED && !l->end_counted) {
		l->end_counted = true;
		enum mg_dtls_failure f = mg_dtls_failure(l->dtls);
		w->stats.handshakes_failed++;
		w->stats.handshake_fail[f]++;
		w->stats.handshakes_timeout += f == MG_DTLS_FAIL_TIMEOUT;
		w->stats.fingerprint_mismatch += f == MG_DTLS_FAIL_FINGERPRINT;
		/* the keys restored from a snapshot stay: a failed attempt next to them (stray
		 * records at a restored server leg) must not cut a call that works */
		if (!l->restored)
			remove_keys(w, l);
	} else if (st == MG_DTLS_STATE_CLOSED && !l->end_counted) {
		l->end_counted = true;
		w->stats.closed_by_peer += mg_dtls_closed_by_peer(l->dtls) != 0;
		remove_keys(w, l);
	}
}

static void start_dtls(struct mg_webrtc *w, struct mg_webrtc_leg *l, uint64_t now)
{
	if (!l->dtls || l->started)
		return;
	l->started = true;
	w->stats.handshakes_started++;
	after_dtls(w, l, mg_dtls_start(l->dtls, now));
}

int mg_webrtc_leg_set_dtls(struct mg_webrtc *w, struct mg_webrtc_leg *l, enum mg_dtls_role role,
			   const struct mg_dtls_fingerprint *remote_fp, uint64_t now_ns)
{
	if (l->dtls && l->role == role && l->fp.hash == remote_fp->hash &&
	    l->fp.len == remote_fp->len && !memcmp(l->fp.value, remote_fp->value, l->fp.len)) {
		enum mg_dtls_state st = mg_dtls_state(l->dtls);
		if (st == MG_DTLS_STATE_NEW || st == MG_DTLS_STATE_HANDSHAKING ||
		    st == MG_DTLS_STATE_CONNECTED)
			return 0; /* same association (re-INVITE without changes) */
	}
	if (l->restored && l->role == role && l->fp.hash == remote_fp->hash &&
	    l->fp.len == remote_fp->len && !memcmp(l->fp.value, remote_fp->value, l->fp.len))
		return 0; /* restored keys of this association: no new handshake */
	l->fp = *remote_fp;
	l->role = role;
	struct mg_dtls_config cfg = {.role = role, .remote_fingerprint = &l->fp};
	mg_dtls *d = mg_dtls_new(w->identity, &cfg);
	if (!d)
		return -1;
	mg_dtls_free(l->dtls);
	l->dtls = d;
	l->started = l->keys_in = l->end_counted = false;
	memset(&l->last, 0, sizeof(l->last));
	/* a client speaks first, once it knows where to */
	if (role == MG_DTLS_ROLE_CLIENT && l->selected)
		start_dtls(w, l, now_ns);
	return 0;
}

void mg_webrtc_leg_keep_pair(struct mg_webrtc *w, struct mg_webrtc_leg *l)
{
	if (!l->ice || !l->selected || l->consent_lost)
		return;
	struct mg_endpoint ep = {.ip = l->sel_ip, .port = l->sel_port};
	if (l->cfg->remote_rtp.ip == ep.ip && l->cfg->remote_rtp.port == ep.port)
		return;
	l->cfg->remote_rtp = ep;
	if (l->cfg->rtcp_mux || l->sel_local_port == l->leg->rtp_port)
		l->cfg->remote_rtcp = ep;
	republish(w, l, false);
}

/* The peer's address becomes the leg's remote: media is sent there (relatch). */
static void select_pair(struct mg_webrtc *w, struct mg_webrtc_leg *l,
			const struct mg_dp_slow_udp *pkt)
{
	bool same = l->selected && l->sel_ip == pkt->src_ip && l->sel_port == pkt->src_port;
	l->selected = true;
	l->sel_ip = pkt->src_ip;
	l->sel_port = pkt->src_port;
	l->sel_mac = pkt->src_mac;
	l->sel_local_port = pkt->local_port;
	if (same || l->consent_lost)
		return;
	w->stats.pairs_selected++;
	struct mg_endpoint ep = {.ip = pkt->src_ip, .port = pkt->src_port};
	l->cfg->remote_rtp = ep;
	if (l->cfg->rtcp_mux || pkt->local_port == l->leg->rtp_port)
		l->cfg->remote_rtcp = ep;
	republish(w, l, true);
}

static void stun_input(struct mg_webrtc *w, struct mg_webrtc_leg *l,
		       const struct mg_dp_slow_udp *pkt, uint64_t now)
{
	if (!l || !l->ice) {
		w->stats.stun_no_ice_leg++;
		return;
	}
	struct mg_stun_ice_creds creds = {.local_ufrag = l->ufrag,
					  .local_ufrag_len = strlen(l->ufrag),
					  .local_pwd = l->pwd,
					  .local_pwd_len = strlen(l->pwd),
					  .remote_ufrag =
					      l->remote_ufrag[0] ? l->remote_ufrag : NULL,
					  .remote_ufrag_len = strlen(l->remote_ufrag)};
	struct mg_stun_addr src = {.family = 4, .port = pkt->src_port};
	src.addr[0] = (uint8_t)(pkt->src_ip >> 24);
	src.addr[1] = (uint8_t)(pkt->src_ip >> 16);
	src.addr[2] = (uint8_t)(pkt->src_ip >> 8);
	src.addr[3] = (uint8_t)pkt->src_ip;
	uint8_t out[MG_STUN_RESPONSE_MAX];
	struct mg_stun_ice_result res;
	mg_stun_ice_respond(pkt->payload, pkt->len, &creds, &src, now, out, sizeof(out), &res,
			    &w->stats.stun);
	if (res.action == MG_STUN_ICE_DROP) {
		w->stats.stun_dropped++;
		return;
	}
	if (res.out_len && w->dp &&
	    mg_dp_control_send_udp(w->dp, pkt->iface, pkt->local_port, pkt->src_ip, pkt->src_port,
				   &pkt->src_mac, out, (uint16_t)res.out_len) < 0)
		w->stats.tx_errors++;
	if (res.action == MG_STUN_ICE_ERROR_RESPONSE) {
		w->stats.stun_errors_sent++;
		return;
	}
	w->stats.stun_answered++;
	bool from_selected =
	    l->selected && l->sel_ip == pkt->src_ip && l->sel_port == pkt->src_port;
	/* A lite agent's peer nominates; the first valid check already carries the pair the
	 * browser uses (it has only our one candidate). */
	if (!l->selected || (res.use_candidate && !from_selected))
		select_pair(w, l, pkt);
	if (l->sel_ip == pkt->src_ip && l->sel_port == pkt->src_port)
		mg_stun_consent_refresh(&l->consent, now);
	if (l->dtls && l->role == MG_DTLS_ROLE_CLIENT)
		start_dtls(w, l, now);
}

static void dtls_input(struct mg_webrtc *w, struct mg_webrtc_leg *l,
		       const struct mg_dp_slow_udp *pkt, uint64_t now)
{
	if (!l || !l->dtls) {
		w->stats.dtls_no_leg++;
		return;
	}
	bool from_selected =
	    l->selected && l->sel_ip == pkt->src_ip && l->sel_port == pkt->src_port;
	if (l->ice && (!from_selected || l->consent_lost)) {
		/* RFC 8445/7675: no data before (or after) consent from that address */
		w->stats.dtls_unchecked_src++;
		return;
	}
	if (!l->ice && !from_selected)
		select_pair(w, l, pkt);
	w->stats.dtls_datagrams_in++;
	if (!l->started && mg_dtls_state(l->dtls) == MG_DTLS_STATE_NEW) {
		l->started = true; /* a server starts on its first valid datagram */
		w->stats.handshakes_started++;
	}
	after_dtls(w, l, mg_dtls_input(l->dtls, pkt->payload, pkt->len, now));
}

void mg_webrtc_input(struct mg_webrtc *w, const struct mg_dp_slow_udp *pkt, uint64_t now_ns)
{
	struct mg_webrtc_leg *l = pkt->iface < MG_MAX_INTERFACES && w->by_port[pkt->iface]
				      ? w->by_port[pkt->iface][pkt->local_port]
				      : NULL;
	if (pkt->demux == MG_DEMUX_STUN)
		stun_input(w, l, pkt, now_ns);
	else if (pkt->demux == MG_DEMUX_DTLS)
		dtls_input(w, l, pkt, now_ns);
}

unsigned mg_webrtc_run_timers(struct mg_webrtc *w, uint64_t now)
{
	unsigned fired = 0;
	uint64_t next = now + SCAN_PERIOD_NS;
	for (struct mg_webrtc_leg *l = w->head; l; l = l->next) {
		if (l->ice && l->selected && !l->consent_lost &&
		    !mg_stun_consent_valid(&l->consent, now)) {
			/* RFC 7675: consent gone, stop sending: no outgoing key, no address,
			 * nothing accepted from it */
			l->consent_lost = true;
			w->stats.consent_expired++;
			l->cfg->srtp = true;
			l->cfg->srtp_out = NULL;
			l->cfg->remote_rtp = l->cfg->remote_rtcp = (struct mg_endpoint){0};
			l->cfg->block_media = true;
			republish(w, l, true);
			fired++;
		}
		if (!l->dtls || !l->started)
			continue;
		uint64_t t = mg_dtls_next_timeout(l->dtls);
		if (t <= now) {
			after_dtls(w, l, mg_dtls_tick(l->dtls, now));
			fired++;
			t = mg_dtls_next_timeout(l->dtls);
		}
		if (t < next)
			next = t;
	}
	w->next_scan_ns = next;
	return fired;
}

int mg_webrtc_leg_export(const struct mg_webrtc_leg *l, struct mg_webrtc_leg_state *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->ufrag, l->ufrag, sizeof(out->ufrag));
	memcpy(out->pwd, l->pwd, sizeof(out->pwd));
	memcpy(out->remote_ufrag, l->remote_ufrag, sizeof(out->remote_ufrag));
	out->ice = l->ice;
	out->selected = l->selected;
	out->consent_lost = l->consent_lost;
	out->sel_ip = l->sel_ip;
	out->sel_port = l->sel_port;
	out->sel_local_port = l->sel_local_port;
	out->sel_mac = l->sel_mac;
	out->dtls = l->dtls != NULL || l->restored;
	out->role = l->role;
	out->fp = l->fp;
	out->have_keys = l->have_keys;
	if (l->have_keys)
		keys_copy(&out->keys, &l->keys);
	return 0;
}

static bool ice_chars(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);
	if (n < min || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '/'))
			return false;
	return true;
}

struct mg_webrtc_leg *mg_webrtc_leg_restore(struct mg_webrtc *w, struct mg_leg *leg,
					    struct mg_leg_cfg *cfg,
					    const struct mg_webrtc_leg_state *st, uint64_t now_ns)
{
	if (!ice_chars(st->ufrag, 4, MG_WEBRTC_UFRAG_LEN) ||
	    !ice_chars(st->pwd, 22, MG_WEBRTC_PWD_LEN) ||
	    strnlen(st->remote_ufrag, sizeof(st->remote_ufrag)) == sizeof(st->remote_ufrag))
		return NULL;
	if (st->dtls && (st->role != MG_DTLS_ROLE_CLIENT && st->role != MG_DTLS_ROLE_SERVER))
		return NULL;
	struct mg_webrtc_leg *l = mg_webrtc_leg_new(w, leg, cfg);
	if (!l)
		return NULL;
	/* the credentials the browser knows from our answer: its checks go on matching */
	memcpy(l->ufrag, st->ufrag, sizeof(l->ufrag));
	memcpy(l->pwd, st->pwd, sizeof(l->pwd));
	memcpy(l->remote_ufrag, st->remote_ufrag, sizeof(l->remote_ufrag));
	l->ice = st->ice;
	l->selected = st->selected;
	l->consent_lost = st->consent_lost;
	l->sel_ip = st->sel_ip;
	l->sel_port = st->sel_port;
	l->sel_local_port = st->sel_local_port;
	l->sel_mac = st->sel_mac;
	/* consent as of the restore: the browser's next checks (every few s) keep it */
	if (l->selected && !l->consent_lost)
		mg_stun_consent_refresh(&l->consent, now_ns);
	if (st->dtls) {
		l->role = st->role;
		l->fp = st->fp;
		l->restored = st->have_keys;
		if (st->have_keys) {
			keys_copy(&l->keys, &st->keys);
			l->have_keys = true;
		}
		/* A server may see a new ClientHello (the browser re-keys after a re-offer):
		 * an association waits for it, the restored keys stay until it completes. A
		 * client never starts one by itself on restored keys; without keys (the
		 * snapshot was taken mid-handshake) a fresh association starts over. */
		if (l->role == MG_DTLS_ROLE_SERVER || !st->have_keys) {
			struct mg_dtls_config dc = {.role = l->role, .remote_fingerprint = &l->fp};
			l->dtls = mg_dtls_new(w->identity, &dc);
		}
	}
	return l;
}

void mg_webrtc_leg_state_wipe(struct mg_webrtc_leg_state *st)
{
	explicit_bzero(st, sizeof(*st));
}

int mg_webrtc_set_identity(struct mg_webrtc *w, mg_dtls_ctx *identity)
{
	if (!identity)
		return -1;
	/* associations already made keep their reference to the old one */
	mg_dtls_ctx_free(w->identity);
	w->identity = identity;
	return 0;
}

mg_dtls_ctx *mg_webrtc_identity(const struct mg_webrtc *w)
{
	return w->identity;
}
