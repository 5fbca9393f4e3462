/* lib/dtls: two mg_dtls endpoints (active and passive) shuttling datagrams through memory.
 * - every use_srtp profile: handshake completes, mirror keys, keys work with lib/srtp and are
 *   byte-identical with libsrtp2 for the same keys; server preference
 * - wrong fingerprint (either side), no common profile: handshake fails, no keys
 * - loss of each datagram of the handshake: recovered by the retransmission timers
 * - garbage (parser-refused and well-formed records with junk), replayed flights: harmless
 * - handshake timeout on the caller's clock; close_notify both ways
 * - a Chrome-like ClientHello offering DTLS 1.3 first gets a DTLS 1.2 ServerHello
 * - a=setup, a=fingerprint helpers, certificate PEM round trip */
#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "dtls_test_util.h"

static mg_dtls_ctx *ctx_a, *ctx_b;
static mg_srtp_engine *engine;

struct link {
	mg_dtls *a, *b;	       /* a = client (active), b = server (passive) */
	int dgram_index;       /* datagrams moved so far (both directions) */
	uint64_t drop_mask;    /* drop datagram i when bit i is set */
	uint8_t log[64][1500]; /* copies of the datagrams, for replays */
	int log_len[64], log_from_a[64];
	int n_log;
};

static struct mg_dtls_fingerprint fp_of(mg_dtls_ctx *c)
{
	struct mg_dtls_fingerprint fp;
	const char *s = mg_dtls_ctx_fingerprint(c);
	CHECK(mg_dtls_fingerprint_parse(s, strlen(s), &fp) == 0);
	return fp;
}

static void make_link(struct link *l, struct mg_dtls_config *ca, struct mg_dtls_config *cb)
{
	memset(l, 0, sizeof(*l));
	l->a = mg_dtls_new(ctx_a, ca);
	l->b = mg_dtls_new(ctx_b, cb);
	CHECK(l->a && l->b);
}

static void default_configs(struct mg_dtls_config *ca, struct mg_dtls_config *cb,
			    struct mg_dtls_fingerprint *fa, struct mg_dtls_fingerprint *fb)
{
	*fa = fp_of(ctx_a);
	*fb = fp_of(ctx_b);
	memset(ca, 0, sizeof(*ca));
	memset(cb, 0, sizeof(*cb));
	ca->role = MG_DTLS_ROLE_CLIENT;
	ca->remote_fingerprint = fb;
	cb->role = MG_DTLS_ROLE_SERVER;
	cb->remote_fingerprint = fa;
	ca->retransmit_initial_ms = cb->retransmit_initial_ms = 20;
}

/* Moves every queued datagram both ways once; returns how many moved (dropped ones count). */
static int shuttle(struct link *l, uint64_t now)
{
	int moved = 0;
	uint8_t buf[2048];
	for (int dir = 0; dir < 2; dir++) {
		mg_dtls *from = dir ? l->b : l->a, *to = dir ? l->a : l->b;
		int n;
		while ((n = mg_dtls_output(from, buf, sizeof(buf))) > 0) {
			CHECK(n <= 1200);
			moved++;
			if (l->n_log < 64) {
				memcpy(l->log[l->n_log], buf, (size_t)n);
				l->log_len[l->n_log] = n;
				l->log_from_a[l->n_log] = !dir;
				l->n_log++;
			}
			int idx = l->dgram_index++;
			if (idx < 64 && (l->drop_mask >> idx & 1))
				continue;
			mg_dtls_input(to, buf, (size_t)n, now);
		}
	}
	return moved;
}

static int done(mg_dtls *d)
{
	enum mg_dtls_state s = mg_dtls_state(d);
	return s == MG_DTLS_STATE_CONNECTED || s == MG_DTLS_STATE_FAILED ||
	       s == MG_DTLS_STATE_CLOSED;
}

/* Runs the handshake on the real monotonic clock (retransmissions need real time to pass). */
static void run(struct link *l, uint64_t max_ns)
{
	uint64_t start = mono_ns();
	mg_dtls_start(l->b, start);
	mg_dtls_start(l->a, start);
	while (mono_ns() - start < max_ns) {
		int moved = shuttle(l, mono_ns());
		if (done(l->a) && done(l->b) && !moved) {
			/* one more exchange to flush final flights / alerts */
			if (!shuttle(l, mono_ns()))
				break;
		}
		if (moved)
			continue;
		uint64_t ta = mg_dtls_next_timeout(l->a), tb = mg_dtls_next_timeout(l->b);
		uint64_t t = ta < tb ? ta : tb;
		if (t == UINT64_MAX)
			break;
		uint64_t now = mono_ns();
		if (t > now)
			sleep_ns(t - now);
		mg_dtls_tick(l->a, mono_ns());
		mg_dtls_tick(l->b, mono_ns());
	}
}

static void free_link(struct link *l)
{
	mg_dtls_free(l->a);
	mg_dtls_free(l->b);
}

static void check_mirror(struct link *l, enum mg_dtls_profile profile)
{
	struct mg_dtls_srtp_keys ka, kb;
	CHECK(mg_dtls_srtp_keys(l->a, &ka) == 0);
	CHECK(mg_dtls_srtp_keys(l->b, &kb) == 0);
	CHECK_EQ_INT(ka.profile, profile);
	CHECK_EQ_INT(kb.profile, profile);
	enum mg_srtp_suite suite = mg_dtls_profile_suite(profile);
	const struct mg_srtp_suite_info *si = mg_srtp_suite_info(suite);
	CHECK(ka.tx.suite == suite && ka.rx.suite == suite && kb.tx.suite == suite);
	CHECK(memcmp(ka.tx.master_key, kb.rx.master_key, si->key_len) == 0);
	CHECK(memcmp(ka.tx.master_salt, kb.rx.master_salt, si->salt_len) == 0);
	CHECK(memcmp(ka.rx.master_key, kb.tx.master_key, si->key_len) == 0);
	CHECK(memcmp(ka.rx.master_salt, kb.tx.master_salt, si->salt_len) == 0);
	/* the two directions differ */
	CHECK(memcmp(ka.tx.master_key, ka.rx.master_key, si->key_len) != 0);
	CHECK(ka.tx.master_key == ka.tx_key && kb.rx.master_salt == kb.rx_salt);
	srtp_keys_work(engine, &ka.tx, &kb.rx, &ka.rx, "client->server");
	srtp_keys_work(engine, &kb.tx, &ka.rx, &kb.rx, "server->client");
	mg_dtls_srtp_keys_wipe(&ka);
	mg_dtls_srtp_keys_wipe(&kb);
}

static void test_profiles(void)
{
	static const enum mg_dtls_profile all[] = {
	    MG_DTLS_SRTP_AES128_CM_SHA1_80, MG_DTLS_SRTP_AES128_CM_SHA1_32,
	    MG_DTLS_SRTP_AEAD_AES_128_GCM, MG_DTLS_SRTP_AEAD_AES_256_GCM};
	for (int i = 0; i < 4; i++) {
		struct mg_dtls_config ca, cb;
		struct mg_dtls_fingerprint fa, fb;
		default_configs(&ca, &cb, &fa, &fb);
		/* client offers all four (default order), server allows only this one */
		cb.profiles[0] = all[i];
		cb.n_profiles = 1;
		struct link l;
		make_link(&l, &ca, &cb);
		run(&l, 5000000000ull);
		printf("profile %s: client %s, server %s\n", mg_dtls_profile_name(all[i]),
		       mg_dtls_state_str(mg_dtls_state(l.a)),
		       mg_dtls_state_str(mg_dtls_state(l.b)));
		CHECK_EQ_INT(mg_dtls_state(l.a), MG_DTLS_STATE_CONNECTED);
		CHECK_EQ_INT(mg_dtls_state(l.b), MG_DTLS_STATE_CONNECTED);
		CHECK_EQ_INT(mg_dtls_version(l.a), 0xFEFD);
		check_mirror(&l, all[i]);
		/* each side saw the other's certificate */
		char pf[128];
		CHECK(mg_dtls_peer_fingerprint(l.a, pf, sizeof(pf)) == 0 &&
		      strcmp(pf, mg_dtls_ctx_fingerprint(ctx_b)) == 0);
		CHECK(mg_dtls_peer_fingerprint(l.b, pf, sizeof(pf)) == 0 &&
		      strcmp(pf, mg_dtls_ctx_fingerprint(ctx_a)) == 0);
		free_link(&l);
	}
	/* the remote a=fingerprint may use sha-384 or sha-512 (computed here with OpenSSL) */
	for (int h = 0; h < 2; h++) {
		static char cert_pem[4096], key_pem[4096];
		mg_dtls_ctx_export_pem(ctx_b, cert_pem, sizeof(cert_pem), key_pem, sizeof(key_pem));
		OPENSSL_cleanse(key_pem, sizeof(key_pem));
		BIO *bio = BIO_new_mem_buf(cert_pem, -1);
		X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
		struct mg_dtls_fingerprint big = {.hash = h ? MG_DTLS_HASH_SHA512
							    : MG_DTLS_HASH_SHA384};
		unsigned bl = 0;
		X509_digest(x, h ? EVP_sha512() : EVP_sha384(), big.value, &bl);
		big.len = (uint8_t)bl;
		X509_free(x);
		char text[256];
		CHECK(mg_dtls_fingerprint_format(&big, text, sizeof(text)) == 0);
		struct mg_dtls_fingerprint parsed;
		CHECK(mg_dtls_fingerprint_parse(text, strlen(text), &parsed) == 0 &&
		      parsed.len == (h ? 64 : 48));
		struct mg_dtls_config ca, cb;
		struct mg_dtls_fingerprint fa, fb;
		default_configs(&ca, &cb, &fa, &fb);
		ca.remote_fingerprint = &parsed;
		struct link l;
		make_link(&l, &ca, &cb);
		run(&l, 5000000000ull);
		printf("remote fingerprint %.7s: client %s\n", text,
		       mg_dtls_state_str(mg_dtls_state(l.a)));
		CHECK_EQ_INT(mg_dtls_state(l.a), MG_DTLS_STATE_CONNECTED);
		free_link(&l);
	}
	/* default preference on both sides: AEAD_AES_128_GCM; server order wins over client's */
	struct mg_dtls_config ca, cb;
	struct mg_dtls_fingerprint fa, fb;
	default_configs(&ca, &cb, &fa, &fb);
	struct link l;
	make_link(&l, &ca, &cb);
	run(&l, 5000000000ull);
	struct mg_dtls_srtp_keys k;
	CHECK(mg_dtls_srtp_keys(l.a, &k) == 0 && k.profile == MG_DTLS_SRTP_AEAD_AES_128_GCM);
	free_link(&l);
	default_configs(&ca, &cb, &fa, &fb);
	ca.profiles[0] = MG_DTLS_SRTP_AEAD_AES_256_GCM,
	ca.profiles[1] = MG_DTLS_SRTP_AES128_CM_SHA1_80;
	ca.n_profiles = 2;
	cb.profiles[0] = MG_DTLS_SRTP_AES128_CM_SHA1_80,
	cb.profiles[1] = MG_DTLS_SRTP_AEAD_AES_256_GCM;
	cb.n_profiles = 2;
	make_link(&l, &ca, &cb);
	run(&l, 5000000000ull);
	CHECK(mg_dtls_srtp_keys(l.b, &k) == 0 && k.profile == MG_DTLS_SRTP_AES128_CM_SHA1_80);
	printf("preference: server's order chosen (%s)\n", mg_dtls_profile_name(k.profile));
	free_link(&l);
	mg_dtls_srtp_keys_wipe(&k);
}

static void expect_no_keys(mg_dtls *d)
{
	struct mg_dtls_srtp_keys k;
	memset(&k, 0xAA, sizeof(k));
	CHECK(mg_dtls_srtp_keys(d, &k) == -1);
	/* nothing was written */
	int untouched = 1;
	for (size_t i = 0; i < sizeof(k); i++)
		untouched &= ((uint8_t *)&k)[i] == 0xAA;
	CHECK(untouched);
}

static void test_wrong_fingerprint(void)
{
	for (int side = 0; side < 2; side++) {
		struct mg_dtls_config ca, cb;
		struct mg_dtls_fingerprint fa, fb;
		default_configs(&ca, &cb, &fa, &fb);
		if (side == 0)
			fb.value[31] ^= 1; /* client expects another server certificate */
		else
			fa.value[0] ^= 0x80; /* server expects another client certificate */
		struct link l;
		make_link(&l, &ca, &cb);
		run(&l, 3000000000ull);
		mg_dtls *checker = side == 0 ? l.a : l.b, *other = side == 0 ? l.b : l.a;
		printf("wrong fingerprint at the %s: %s/%s (%s); peer: %s/%s (%s)\n",
		       side == 0 ? "client" : "server", mg_dtls_state_str(mg_dtls_state(checker)),
		       mg_dtls_failure_str(mg_dtls_failure(checker)), mg_dtls_detail(checker),
		       mg_dtls_state_str(mg_dtls_state(other)),
		       mg_dtls_failure_str(mg_dtls_failure(other)), mg_dtls_detail(other));
		CHECK_EQ_INT(mg_dtls_state(checker), MG_DTLS_STATE_FAILED);
		CHECK_EQ_INT(mg_dtls_failure(checker), MG_DTLS_FAIL_FINGERPRINT);
		CHECK(mg_dtls_state(other) != MG_DTLS_STATE_CONNECTED);
		expect_no_keys(checker);
		expect_no_keys(other);
		free_link(&l);
	}
	/* a session without the fingerprint or with an inconsistent one is refused up front */
	struct mg_dtls_config ca, cb;
	struct mg_dtls_fingerprint fa, fb;
	default_configs(&ca, &cb, &fa, &fb);
	ca.remote_fingerprint = NULL;
	CHECK(mg_dtls_new(ctx_a, &ca) == NULL);
	fb.len = 20;
	ca.remote_fingerprint = &fb;
	CHECK(mg_dtls_new(ctx_a, &ca) == NULL);
}

static void test_no_common_profile(void)
{
	struct mg_dtls_config ca, cb;
	struct mg_dtls_fingerprint fa, fb;
	default_configs(&ca, &cb, &fa, &fb);
	ca.profiles[0] = MG_DTLS_SRTP_AES128_CM_SHA1_80;
	ca.n_profiles = 1;
	cb.profiles[0] = MG_DTLS_SRTP_AEAD_AES_128_GCM;
	cb.n_profiles = 1;
	struct link l;
	make_link(&l, &ca, &cb);
	run(&l, 3000000000ull);
	printf("no common profile: server %s/%s (%s); client %s/%s (%s)\n",
	       mg_dtls_state_str(mg_dtls_state(l.b)), mg_dtls_failure_str(mg_dtls_failure(l.b)),
	       mg_dtls_detail(l.b), mg_dtls_state_str(mg_dtls_state(l.a)),
	       mg_dtls_failure_str(mg_dtls_failure(l.a)), mg_dtls_detail(l.a));
	CHECK_EQ_INT(mg_dtls_failure(l.b), MG_DTLS_FAIL_NO_SRTP_PROFILE);
	CHECK_EQ_INT(mg_dtls_state(l.a), MG_DTLS_STATE_FAILED);
	expect_no_keys(l.a);
	expect_no_keys(l.b);
	free_link(&l);
	/* duplicate or unknown profiles in a config are refused */
	default_configs(&ca, &cb, &fa, &fb);
	ca.profiles[0] = ca.profiles[1] = MG_DTLS_SRTP_AES128_CM_SHA1_80;
	ca.n_profiles = 2;
	CHECK(mg_dtls_new(ctx_a, &ca) == NULL);
	ca.profiles[1] = (enum mg_dtls_profile)3; /* F8: not supported */
	CHECK(mg_dtls_new(ctx_a, &ca) == NULL);
}

static void test_loss(void)
{
	/* A full handshake is 4 flights; with packing ~4-6 datagrams. Drop each one in turn. */
	struct mg_dtls_config ca, cb;
	struct mg_dtls_fingerprint fa, fb;
	default_configs(&ca, &cb, &fa, &fb);
	/* 150 ms: no spurious retransmission even on a slow (sanitizer) build */
	ca.retransmit_initial_ms = cb.retransmit_initial_ms = 150;
	struct link l;
	make_link(&l, &ca, &cb);
	run(&l, 5000000000ull);
	int total = l.dgram_index;
	CHECK_EQ_INT(mg_dtls_state(l.a), MG_DTLS_STATE_CONNECTED);
	printf("loss: a clean handshake takes %d datagrams\n", total);
	free_link(&l);
	/* each datagram alone, then bursts: a flight and its first retransmission, three in a row
	 */
	uint64_t masks[16];
	int n_masks = 0;
	for (int drop = 0; drop < total && n_masks < 12; drop++)
		masks[n_masks++] = 1ull << drop;
	masks[n_masks++] = 0x3;	 /* ClientHello and its retransmission */
	masks[n_masks++] = 0x6;	 /* server flight, then the ClientHello retransmission it caused */
	masks[n_masks++] = 0x1C; /* three consecutive losses */
	for (int m = 0; m < n_masks; m++) {
		default_configs(&ca, &cb, &fa, &fb);
		ca.retransmit_initial_ms = cb.retransmit_initial_ms = 150;
		make_link(&l, &ca, &cb);
		l.drop_mask = masks[m];
		uint64_t t0 = mono_ns();
		run(&l, 20000000000ull);
		struct mg_dtls_counters c1 = mg_dtls_counters(l.a), c2 = mg_dtls_counters(l.b);
		printf(
		    "loss: drop mask 0x%02llx -> client %s, server %s, retransmissions %llu+%llu,"
		    " %.0f ms\n",
		    (unsigned long long)masks[m], mg_dtls_state_str(mg_dtls_state(l.a)),
		    mg_dtls_state_str(mg_dtls_state(l.b)), (unsigned long long)c1.retransmissions,
		    (unsigned long long)c2.retransmissions, (mono_ns() - t0) / 1e6);
		CHECK_EQ_INT(mg_dtls_state(l.a), MG_DTLS_STATE_CONNECTED);
		CHECK_EQ_INT(mg_dtls_state(l.b), MG_DTLS_STATE_CONNECTED);
		CHECK(c1.retransmissions + c2.retransmissions > 0);
		struct mg_dtls_srtp_keys ka, kb;
		CHECK(mg_dtls_srtp_keys(l.a, &ka) == 0 && mg_dtls_srtp_keys(l.b, &kb) == 0 &&
		      memcmp(ka.tx_key, kb.rx_key, sizeof(ka.tx_key)) == 0);
		free_link(&l);
	}
}

static void garbage_into(mg_dtls *d, uint64_t now, unsigned *refused)
{
	uint8_t g[300];
	struct mg_dtls_counters before = mg_dtls_counters(d);
	for (int i = 0; i < 200; i++) {
		size_t n = 1 + (size_t)(rand() % (int)sizeof(g));
		for (size_t k = 0; k < n; k++)
			g[k] = (uint8_t)rand();
		mg_dtls_input(d, g, n, now);
	}
	*refused = (unsigned)(mg_dtls_counters(d).garbage_dropped - before.garbage_dropped);
}

/* A well-formed record header around junk: epoch 1 (cannot decrypt) and application data. */
static void junk_records_into(mg_dtls *d, uint64_t now, uint8_t ct, uint16_t epoch)
{
	uint8_t r[13 + 64];
	for (int i = 0; i < 50; i++) {
		r[0] = ct, r[1] = 0xFE, r[2] = 0xFD, r[3] = (uint8_t)(epoch >> 8),
		r[4] = (uint8_t)epoch;
		for (int k = 5; k < 11; k++)
			r[k] = (uint8_t)rand();
		r[11] = 0, r[12] = 64;
		for (int k = 13; k < 13 + 64; k++)
			r[k] = (uint8_t)rand();
		mg_dtls_input(d, r, sizeof(r), now);
	}
}

static void test_garbage_and_replay(void)
{
	struct mg_dtls_config ca, cb;
	struct mg_dtls_fingerprint fa, fb;
	default_configs(&ca, &cb, &fa, &fb);
	struct link l;
	make_link(&l, &ca, &cb);
	uint64_t now = mono_ns();
	mg_dtls_start(l.a, now);
	unsigned refused;
	/* garbage before anything: the server stays NEW (garbage never starts it) */
	garbage_into(l.b, now, &refused);
	CHECK_EQ_INT(mg_dtls_state(l.b), MG_DTLS_STATE_NEW);
	printf("garbage: %u of 200 random datagrams refused by the record parser\n", refused);
	mg_dtls_start(l.b, now);
	/* interleave garbage and junk records with the real flights */
	for (int round = 0; round < 20 && !(done(l.a) && done(l.b)); round++) {
		garbage_into(l.a, mono_ns(), &refused);
		garbage_into(l.b, mono_ns(), &refused);
		junk_records_into(l.a, mono_ns(), MG_DTLS_CT_HANDSHAKE, 1);
		junk_records_into(l.b, mono_ns(), MG_DTLS_CT_APPLICATION_DATA, 1);
		/* plaintext (epoch 0) records with junk bodies: refused by the record parser */
		junk_records_into(l.b, mono_ns(), MG_DTLS_CT_HANDSHAKE, 0);
		junk_records_into(l.a, mono_ns(), MG_DTLS_CT_HANDSHAKE, 0);
		junk_records_into(l.a, mono_ns(), MG_DTLS_CT_ALERT, 0);
		junk_records_into(l.b, mono_ns(), MG_DTLS_CT_CHANGE_CIPHER_SPEC, 0);
		shuttle(&l, mono_ns());
	}
	run(&l, 5000000000ull);
	printf("garbage during the handshake: client %s, server %s\n",
	       mg_dtls_state_str(mg_dtls_state(l.a)), mg_dtls_state_str(mg_dtls_state(l.b)));
	CHECK_EQ_INT(mg_dtls_state(l.a), MG_DTLS_STATE_CONNECTED);
	CHECK_EQ_INT(mg_dtls_state(l.b), MG_DTLS_STATE_CONNECTED);
	struct mg_dtls_srtp_keys ka0, kb0, ka, kb;
	mg_dtls_srtp_keys(l.a, &ka0);
	mg_dtls_srtp_keys(l.b, &kb0);

	/* after the handshake: garbage, junk records, replay of every logged datagram both ways */
	garbage_into(l.a, mono_ns(), &refused);
	garbage_into(l.b, mono_ns(), &refused);
	junk_records_into(l.a, mono_ns(), MG_DTLS_CT_APPLICATION_DATA, 1);
	junk_records_into(l.b, mono_ns(), MG_DTLS_CT_HANDSHAKE, 1);
	junk_records_into(l.b, mono_ns(), MG_DTLS_CT_ALERT, 1);
	/* a forged plaintext (epoch 0) fatal alert after the handshake: old epoch, ignored */
	for (int i = 0; i < 2; i++) {
		uint8_t fatal[15] = {21, 0xFE, 0xFD,	   0, 0, 0, 0, 0,
				     0,	 0x10, (uint8_t)i, 0, 2, 2, 40};
		mg_dtls_input(i ? l.a : l.b, fatal, sizeof(fatal), mono_ns());
	}
	CHECK_EQ_INT(mg_dtls_state(l.a), MG_DTLS_STATE_CONNECTED);
	CHECK_EQ_INT(mg_dtls_state(l.b), MG_DTLS_STATE_CONNECTED);
	int n_log = l.n_log;
	for (int rep = 0; rep < 2; rep++)
		for (int i = 0; i < n_log; i++) {
			mg_dtls *to = l.log_from_a[i] ? l.b : l.a;
			mg_dtls_input(to, l.log[i], (size_t)l.log_len[i], mono_ns());
			shuttle(&l, mono_ns()); /* whatever they answer goes across */
		}
	printf("replayed %d handshake datagrams twice: client %s, server %s\n", n_log,
	       mg_dtls_state_str(mg_dtls_state(l.a)), mg_dtls_state_str(mg_dtls_state(l.b)));
	CHECK_EQ_INT(mg_dtls_state(l.a), MG_DTLS_STATE_CONNECTED);
	CHECK_EQ_INT(mg_dtls_state(l.b), MG_DTLS_STATE_CONNECTED);
	CHECK(mg_dtls_srtp_keys(l.a, &ka) == 0 && mg_dtls_srtp_keys(l.b, &kb) == 0);
	CHECK(memcmp(ka.tx_key, ka0.tx_key, sizeof(ka.tx_key)) == 0 &&
	      memcmp(kb.rx_key, kb0.rx_key, sizeof(kb.rx_key)) == 0);
	struct mg_dtls_counters c = mg_dtls_counters(l.b);
	printf("server counters: in %llu out %llu garbage %llu app_data %llu alerts_in %llu\n",
	       (unsigned long long)c.datagrams_in, (unsigned long long)c.datagrams_out,
	       (unsigned long long)c.garbage_dropped, (unsigned long long)c.app_data_dropped,
	       (unsigned long long)c.alerts_in);
	CHECK(c.garbage_dropped > 0);

	/* close_notify: client closes, server sees it; then nothing is accepted any more */
	CHECK_EQ_INT(mg_dtls_close(l.a), MG_DTLS_STATE_CLOSED);
	shuttle(&l, mono_ns());
	CHECK_EQ_INT(mg_dtls_state(l.b), MG_DTLS_STATE_CLOSED);
	CHECK(mg_dtls_closed_by_peer(l.b));
	CHECK(!mg_dtls_closed_by_peer(l.a));
	expect_no_keys(l.a);
	expect_no_keys(l.b);
	uint64_t before = mg_dtls_counters(l.b).after_end_dropped;
	mg_dtls_input(l.b, l.log[0], (size_t)l.log_len[0], mono_ns());
	CHECK_EQ_INT(mg_dtls_counters(l.b).after_end_dropped, before + 1);
	printf("close_notify: server %s (%s)\n", mg_dtls_state_str(mg_dtls_state(l.b)),
	       mg_dtls_detail(l.b));
	free_link(&l);
	mg_dtls_srtp_keys_wipe(&ka0);
	mg_dtls_srtp_keys_wipe(&kb0);
}

static void test_timeout(void)
{
	struct mg_dtls_config ca, cb;
	struct mg_dtls_fingerprint fa, fb;
	default_configs(&ca, &cb, &fa, &fb);
	ca.handshake_timeout_ns = 10ull * 1000000000ull;
	ca.retransmit_initial_ms = 1000;
	mg_dtls *a = mg_dtls_new(ctx_a, &ca);
	uint64_t t0 = 1000000000000ull; /* the caller's clock: unrelated to OpenSSL's */
	CHECK_EQ_INT(mg_dtls_start(a, t0), MG_DTLS_STATE_HANDSHAKING);
	uint8_t buf[2048];
	CHECK(mg_dtls_output(a, buf, sizeof(buf)) > 0); /* ClientHello, never delivered */
	uint64_t next = mg_dtls_next_timeout(a);
	printf("timeout: first retransmission due at +%.3f s on the caller's clock\n",
	       (double)(next - t0) / 1e9);
	CHECK(next >= t0 && next <= t0 + 1000000000ull);
	CHECK_EQ_INT(mg_dtls_tick(a, t0 + 9999999999ull), MG_DTLS_STATE_HANDSHAKING);
	CHECK_EQ_INT(mg_dtls_tick(a, t0 + 10000000000ull), MG_DTLS_STATE_FAILED);
	CHECK_EQ_INT(mg_dtls_failure(a), MG_DTLS_FAIL_TIMEOUT);
	CHECK(mg_dtls_next_timeout(a) == UINT64_MAX);
	expect_no_keys(a);
	printf("timeout: %s (%s)\n", mg_dtls_failure_str(mg_dtls_failure(a)), mg_dtls_detail(a));
	mg_dtls_free(a);
	/* a server that never hears anything also times out */
	mg_dtls *b = mg_dtls_new(ctx_b, &cb);
	mg_dtls_start(b, 5);
	CHECK(mg_dtls_next_timeout(b) == 5 + 30ull * 1000000000ull);
	CHECK_EQ_INT(mg_dtls_tick(b, 5 + 30ull * 1000000000ull), MG_DTLS_STATE_FAILED);
	CHECK_EQ_INT(mg_dtls_failure(b), MG_DTLS_FAIL_TIMEOUT);
	mg_dtls_free(b);
}

/* ---- a ClientHello shaped like Chrome's: DTLS 1.3 offered first ---------------------------- */
static size_t put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return 2;
}

static size_t chrome_like_client_hello(uint8_t *out)
{
	uint8_t body[512];
	size_t n = 0;
	n += put16(body + n, 0xFEFD); /* legacy_version DTLS 1.2 */
	for (int i = 0; i < 32; i++)
		body[n++] = (uint8_t)(i * 13 + 1);
	body[n++] = 0; /* session id */
	body[n++] = 0; /* cookie */
	static const unsigned suites[] = {0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xCCA9,
					  0xCCA8, 0xC009, 0xC013, 0xC00A, 0xC014};
	n += put16(body + n, sizeof(suites) / sizeof(suites[0]) * 2);
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		n += put16(body + n, suites[i]);
	body[n++] = 1, body[n++] = 0; /* compression: null */
	uint8_t ext[300];
	size_t e = 0;
	/* extended_master_secret */
	e += put16(ext + e, 0x0017), e += put16(ext + e, 0);
	/* renegotiation_info */
	e += put16(ext + e, 0xFF01), e += put16(ext + e, 1), ext[e++] = 0;
	/* supported_groups: x25519, P-256, P-384 */
	e += put16(ext + e, 0x000A), e += put16(ext + e, 8), e += put16(ext + e, 6);
	e += put16(ext + e, 0x001D), e += put16(ext + e, 0x0017), e += put16(ext + e, 0x0018);
	/* ec_point_formats */
	e += put16(ext + e, 0x000B), e += put16(ext + e, 2), ext[e++] = 1, ext[e++] = 0;
	/* use_srtp: AEAD_AES_256_GCM, AEAD_AES_128_GCM, AES128_CM_SHA1_80, no MKI */
	e += put16(ext + e, 0x000E), e += put16(ext + e, 9), e += put16(ext + e, 6);
	e += put16(ext + e, 0x0008), e += put16(ext + e, 0x0007), e += put16(ext + e, 0x0001);
	ext[e++] = 0;
	/* signature_algorithms */
	static const unsigned sigs[] = {0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501};
	e += put16(ext + e, 0x000D), e += put16(ext + e, 2 + sizeof(sigs) / sizeof(sigs[0]) * 2);
	e += put16(ext + e, sizeof(sigs) / sizeof(sigs[0]) * 2);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		e += put16(ext + e, sigs[i]);
	/* key_share (DTLS 1.3): x25519, 32 bytes */
	e += put16(ext + e, 0x0033), e += put16(ext + e, 2 + 4 + 32), e += put16(ext + e, 4 + 32);
	e += put16(ext + e, 0x001D), e += put16(ext + e, 32);
	for (int i = 0; i < 32; i++)
		ext[e++] = (uint8_t)(9 + i);
	/* supported_versions: DTLS 1.3 (0xfefc) first, then DTLS 1.2 */
	e += put16(ext + e, 0x002B), e += put16(ext + e, 5), ext[e++] = 4;
	e += put16(ext + e, 0xFEFC), e += put16(ext + e, 0xFEFD);
	n += put16(body + n, (unsigned)e);
	memcpy(body + n, ext, e);
	n += e;
	/* record header + handshake header (msg_seq 0, one fragment) */
	uint8_t *p = out;
	p[0] = 22, p[1] = 0xFE, p[2] = 0xFF; /* record version DTLS 1.0, as browsers send */
	memset(p + 3, 0, 8);
	put16(p + 11, (unsigned)(12 + n));
	uint8_t *h = p + 13;
	h[0] = 1;
	h[1] = 0, put16(h + 2, (unsigned)n);
	put16(h + 4, 0);
	h[6] = 0, h[7] = 0, h[8] = 0;
	h[9] = 0, put16(h + 10, (unsigned)n);
	memcpy(h + 12, body, n);
	return 13 + 12 + n;
}

static void test_dtls13_offer(void)
{
	struct mg_dtls_config ca, cb;
	struct mg_dtls_fingerprint fa, fb;
	default_configs(&ca, &cb, &fa, &fb);
	mg_dtls *b = mg_dtls_new(ctx_b, &cb);
	uint8_t ch[600], out[2048];
	size_t n = chrome_like_client_hello(ch);
	struct mg_dtls_datagram_info info;
	CHECK_EQ_INT(mg_dtls_datagram_check(ch, n, &info), MG_DTLS_REC_OK);
	CHECK(info.has_client_hello);
	enum mg_dtls_state st = mg_dtls_input(b, ch, n, 1);
	int len = mg_dtls_output(b, out, sizeof(out));
	struct mg_dtls_record rec;
	int server_hello_12 = 0, use_srtp_gcm = 0;
	if (len > 0 && mg_dtls_record_parse(out, (size_t)len, &rec) == MG_DTLS_REC_OK &&
	    rec.hs_type == 2 && rec.length > 14) {
		const uint8_t *sh = rec.fragment + 12; /* after the handshake header */
		server_hello_12 = sh[0] == 0xFE && sh[1] == 0xFD;
		/* look for use_srtp (0x000e) selecting 0x0007 (our preference, offered second) */
		for (size_t i = 0; i + 6 < (size_t)rec.length - 12; i++)
			if (sh[i] == 0 && sh[i + 1] == 0x0E && sh[i + 4] == 0 && sh[i + 5] == 2 &&
			    sh[i + 6] == 0 && sh[i + 7] == 0x07)
				use_srtp_gcm = 1;
	}
	printf("DTLS 1.3 offered first: server state %s, ServerHello DTLS 1.2: %s, use_srtp "
	       "AEAD_AES_128_GCM: %s, dtls13_offered counter %llu\n",
	       mg_dtls_state_str(st), server_hello_12 ? "yes" : "no", use_srtp_gcm ? "yes" : "no",
	       (unsigned long long)mg_dtls_counters(b).dtls13_offered);
	CHECK_EQ_INT(st, MG_DTLS_STATE_HANDSHAKING);
	CHECK(server_hello_12);
	CHECK(use_srtp_gcm);
	CHECK_EQ_INT(mg_dtls_counters(b).dtls13_offered, 1);
	mg_dtls_free(b);
}

static void test_helpers(void)
{
	/* a=setup */
	enum mg_dtls_setup s;
	CHECK(mg_dtls_setup_parse("actpass", 7, &s) == 0 && s == MG_DTLS_SETUP_ACTPASS);
	CHECK(mg_dtls_setup_parse("passive", 7, &s) == 0 && s == MG_DTLS_SETUP_PASSIVE);
	CHECK(mg_dtls_setup_parse("Active", 6, &s) == -1);
	CHECK(mg_dtls_setup_parse("activ", 5, &s) == -1);
	CHECK_EQ_INT(mg_dtls_setup_answer(MG_DTLS_SETUP_ACTPASS, MG_DTLS_SETUP_PASSIVE),
		     MG_DTLS_SETUP_PASSIVE);
	CHECK_EQ_INT(mg_dtls_setup_answer(MG_DTLS_SETUP_ACTPASS, MG_DTLS_SETUP_ACTIVE),
		     MG_DTLS_SETUP_ACTIVE);
	CHECK_EQ_INT(mg_dtls_setup_answer(MG_DTLS_SETUP_ACTIVE, MG_DTLS_SETUP_ACTIVE),
		     MG_DTLS_SETUP_PASSIVE);
	CHECK_EQ_INT(mg_dtls_setup_answer(MG_DTLS_SETUP_PASSIVE, MG_DTLS_SETUP_PASSIVE),
		     MG_DTLS_SETUP_ACTIVE);
	CHECK_EQ_INT(mg_dtls_setup_answer(MG_DTLS_SETUP_NONE, MG_DTLS_SETUP_ACTIVE),
		     MG_DTLS_SETUP_PASSIVE);
	CHECK_EQ_INT(mg_dtls_setup_answer(MG_DTLS_SETUP_HOLDCONN, MG_DTLS_SETUP_ACTIVE),
		     MG_DTLS_SETUP_NONE);
	enum mg_dtls_role r;
	CHECK(mg_dtls_role_from_setup(MG_DTLS_SETUP_ACTPASS, MG_DTLS_SETUP_ACTIVE, &r) == 0 &&
	      r == MG_DTLS_ROLE_SERVER);
	CHECK(mg_dtls_role_from_setup(MG_DTLS_SETUP_ACTPASS, MG_DTLS_SETUP_PASSIVE, &r) == 0 &&
	      r == MG_DTLS_ROLE_CLIENT);
	CHECK(mg_dtls_role_from_setup(MG_DTLS_SETUP_ACTIVE, MG_DTLS_SETUP_ACTPASS, &r) == 0 &&
	      r == MG_DTLS_ROLE_CLIENT);
	CHECK(mg_dtls_role_from_setup(MG_DTLS_SETUP_PASSIVE, MG_DTLS_SETUP_ACTPASS, &r) == 0 &&
	      r == MG_DTLS_ROLE_SERVER);
	CHECK(mg_dtls_role_from_setup(MG_DTLS_SETUP_ACTIVE, MG_DTLS_SETUP_ACTIVE, &r) == -1);
	CHECK(mg_dtls_role_from_setup(MG_DTLS_SETUP_PASSIVE, MG_DTLS_SETUP_PASSIVE, &r) == -1);
	CHECK(mg_dtls_role_from_setup(MG_DTLS_SETUP_ACTPASS, MG_DTLS_SETUP_ACTPASS, &r) == -1);
	CHECK(mg_dtls_role_from_setup(MG_DTLS_SETUP_ACTPASS, MG_DTLS_SETUP_NONE, &r) == -1);

	/* a=fingerprint */
	struct mg_dtls_fingerprint fp;
	const char *own = mg_dtls_ctx_fingerprint(ctx_a);
	CHECK(strncmp(own, "sha-256 ", 8) == 0 && strlen(own) == 8 + 32 * 3 - 1);
	CHECK(mg_dtls_fingerprint_parse(own, strlen(own), &fp) == 0 && fp.len == 32);
	char back[256];
	CHECK(mg_dtls_fingerprint_format(&fp, back, sizeof(back)) == 0 && strcmp(back, own) == 0);
	CHECK(mg_dtls_fingerprint_format(&fp, back, 50) == -1);
	char lower[128];
	snprintf(lower, sizeof(lower), "SHA-256 %s", own + 8);
	for (char *p = lower + 8; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
	CHECK(mg_dtls_fingerprint_parse(lower, strlen(lower), &fp) == 0);
	const char *bad[] = {
	    "sha-1 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01",
	    "md5 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89",
	    "sha-256 AB:CD",
	    "sha-256",
	    "sha-256 ",
	    "sha-256  "
	    "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:"
	    "EF:01:23:45:67:8",
	    "sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:"
	    "EF:01:23:45:67:8G",
	    "sha-256 AB-CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:"
	    "EF:01:23:45:67:89",
	    "sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:"
	    "EF:01:23:45:67:89:",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(mg_dtls_fingerprint_parse(bad[i], strlen(bad[i]), &fp) == -1);

	/* certificate: the fingerprint is OpenSSL's SHA-256 of the DER; PEM round trip keeps it */
	static char cert_pem[4096], key_pem[4096];
	CHECK(mg_dtls_ctx_export_pem(ctx_a, cert_pem, sizeof(cert_pem), key_pem, sizeof(key_pem)) ==
	      0);
	CHECK(strstr(cert_pem, "BEGIN CERTIFICATE") && strstr(key_pem, "PRIVATE KEY"));
	mg_dtls_ctx *again =
	    mg_dtls_ctx_from_pem(cert_pem, strlen(cert_pem), key_pem, strlen(key_pem));
	CHECK(again && strcmp(mg_dtls_ctx_fingerprint(again), own) == 0);
	mg_dtls_ctx_free(again);
	BIO *bio = BIO_new_mem_buf(cert_pem, -1);
	X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	uint8_t der_hash[32];
	unsigned char *der = NULL;
	int der_len = i2d_X509(x, &der);
	unsigned hl = 0;
	EVP_Digest(der, (size_t)der_len, der_hash, &hl, EVP_sha256(), NULL);
	struct mg_dtls_fingerprint own_fp;
	mg_dtls_fingerprint_parse(own, strlen(own), &own_fp);
	CHECK(hl == 32 && memcmp(der_hash, own_fp.value, 32) == 0);
	EVP_PKEY *pub = X509_get0_pubkey(x);
	char group[32] = "";
	size_t gl = 0;
	EVP_PKEY_get_group_name(pub, group, sizeof(group), &gl);
	CHECK(strcmp(group, "prime256v1") == 0);
	CHECK(X509_check_issued(x, x) == X509_V_OK); /* self-signed */
	OPENSSL_free(der);
	X509_free(x);
	/* certificate and key that do not belong together, and a non-P-256 key, are refused */
	static char cert2[4096], key2[4096];
	mg_dtls_ctx_export_pem(ctx_b, cert2, sizeof(cert2), key2, sizeof(key2));
	CHECK(mg_dtls_ctx_from_pem(cert_pem, strlen(cert_pem), key2, strlen(key2)) == NULL);
	EVP_PKEY *rsa = EVP_RSA_gen(2048);
	BIO *kb = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(kb, rsa, NULL, NULL, 0, NULL, NULL);
	char *kp = NULL;
	long kl = BIO_get_mem_data(kb, &kp);
	CHECK(mg_dtls_ctx_from_pem(cert_pem, strlen(cert_pem), kp, (size_t)kl) == NULL);
	BIO_free(kb);
	EVP_PKEY_free(rsa);
	CHECK(mg_dtls_ctx_new("", 30) == NULL);
	OPENSSL_cleanse(key_pem, sizeof(key_pem));
	OPENSSL_cleanse(key2, sizeof(key2));
	/* two instances have different certificates */
	CHECK(strcmp(mg_dtls_ctx_fingerprint(ctx_a), mg_dtls_ctx_fingerprint(ctx_b)) != 0);
	for (int i = 0; i <= MG_DTLS_FAILURE_COUNT; i++)
		CHECK(mg_dtls_failure_str((enum mg_dtls_failure)i) != NULL);
}

/* The record parser on every prefix of real handshake datagrams, and crafted bad headers. */
static void test_record_parser(void)
{
	struct mg_dtls_config ca, cb;
	struct mg_dtls_fingerprint fa, fb;
	default_configs(&ca, &cb, &fa, &fb);
	struct link l;
	make_link(&l, &ca, &cb);
	run(&l, 5000000000ull);
	unsigned prefixes = 0, ok_prefixes = 0;
	for (int i = 0; i < l.n_log; i++) {
		struct mg_dtls_datagram_info info;
		CHECK_EQ_INT(mg_dtls_datagram_check(l.log[i], (size_t)l.log_len[i], &info),
			     MG_DTLS_REC_OK);
		if (i == 0)
			CHECK(info.has_client_hello && info.max_epoch == 0);
		for (int p = 0; p < l.log_len[i]; p++) {
			uint8_t *copy = malloc(p ? (size_t)p : 1);
			memcpy(copy, l.log[i], (size_t)p);
			enum mg_dtls_rec_status st = mg_dtls_datagram_check(copy, (size_t)p, NULL);
			prefixes++;
			ok_prefixes += st == MG_DTLS_REC_OK; /* only at record boundaries */
			free(copy);
		}
	}
	/* MG_DTLS_DUMP=<dir>: write the datagrams as fuzz seeds (tests/fuzz/dtls/corpus) */
	const char *dump = getenv("MG_DTLS_DUMP");
	if (dump) {
		char path[512];
		for (int i = 0; i < l.n_log; i++) {
			snprintf(path, sizeof(path), "%s/handshake-%d-%s", dump, i,
				 l.log_from_a[i] ? "client" : "server");
			FILE *f = fopen(path, "wb");
			if (f) {
				fwrite(l.log[i], 1, (size_t)l.log_len[i], f);
				fclose(f);
			}
		}
		uint8_t ch[600];
		size_t n = chrome_like_client_hello(ch);
		snprintf(path, sizeof(path), "%s/chrome-like-client-hello", dump);
		FILE *f = fopen(path, "wb");
		if (f) {
			fwrite(ch, 1, n, f);
			fclose(f);
		}
	}
	printf("record parser: %u prefixes of %d handshake datagrams, %u end on a record "
	       "boundary\n",
	       prefixes, l.n_log, ok_prefixes);
	free_link(&l);
	uint8_t r[20] = {22, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 1, 0, 7, 1, 2, 3, 4, 5, 6, 7};
	struct mg_dtls_record rec;
	CHECK_EQ_INT(mg_dtls_record_parse(r, 20, &rec), MG_DTLS_REC_OK);
	CHECK(rec.seq == 1 && rec.length == 7 && rec.hs_type == -1 && rec.epoch == 1);
	r[4] = 0; /* epoch 0: 7 bytes are no handshake fragment */
	CHECK_EQ_INT(mg_dtls_record_parse(r, 20, &rec), MG_DTLS_REC_BAD_CONTENT);
	/* epoch 0 handshake fragments: exact fill, offset + length within the message */
	uint8_t hs[13 + 12 + 4] = {22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 1, 0,
				   0,  8,    0,	   0, 0, 0, 4, 0, 0, 4, 9, 9, 9,  9};
	CHECK_EQ_INT(mg_dtls_record_parse(hs, sizeof(hs), &rec), MG_DTLS_REC_OK);
	CHECK_EQ_INT(rec.hs_type, 1);
	hs[21] = 5; /* fragment_offset 5 + 4 > 8 */
	CHECK_EQ_INT(mg_dtls_record_parse(hs, sizeof(hs), &rec), MG_DTLS_REC_BAD_CONTENT);
	hs[21] = 4, hs[13] = 99; /* unknown handshake type */
	CHECK_EQ_INT(mg_dtls_record_parse(hs, sizeof(hs), &rec), MG_DTLS_REC_BAD_CONTENT);
	hs[13] = 1, hs[24] = 3; /* fragment shorter than the record */
	CHECK_EQ_INT(mg_dtls_record_parse(hs, sizeof(hs), &rec), MG_DTLS_REC_BAD_CONTENT);
	uint8_t al[15] = {21, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 40};
	CHECK_EQ_INT(mg_dtls_record_parse(al, sizeof(al), &rec), MG_DTLS_REC_OK);
	al[13] = 3;
	CHECK_EQ_INT(mg_dtls_record_parse(al, sizeof(al), &rec), MG_DTLS_REC_BAD_CONTENT);
	r[4] = 1;
	r[12] = 8;
	CHECK_EQ_INT(mg_dtls_record_parse(r, 20, &rec), MG_DTLS_REC_TRUNCATED);
	r[12] = 7, r[2] = 0xFC;
	CHECK_EQ_INT(mg_dtls_record_parse(r, 20, &rec), MG_DTLS_REC_BAD_VERSION);
	r[2] = 0xFD, r[0] = 24;
	CHECK_EQ_INT(mg_dtls_record_parse(r, 20, &rec), MG_DTLS_REC_BAD_TYPE);
	r[0] = 0x2C;
	CHECK_EQ_INT(mg_dtls_record_parse(r, 20, &rec), MG_DTLS_REC_DTLS13);
	r[0] = 23;
	CHECK_EQ_INT(mg_dtls_record_parse(r, 12, &rec), MG_DTLS_REC_TOO_SHORT);
	CHECK_EQ_INT(mg_dtls_datagram_check(r, 0, NULL), MG_DTLS_REC_EMPTY);
	r[11] = 0x48, r[12] = 0x01;
	CHECK_EQ_INT(mg_dtls_record_parse(r, 20, &rec), MG_DTLS_REC_TOO_LONG);
	/* 33 empty records in one datagram */
	uint8_t many[13 * 33];
	for (int i = 0; i < 33; i++) {
		uint8_t h[13] = {23, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, (uint8_t)i, 0, 0};
		memcpy(many + 13 * i, h, 13);
	}
	CHECK_EQ_INT(mg_dtls_datagram_check(many, 13 * 32, NULL), MG_DTLS_REC_OK);
	CHECK_EQ_INT(mg_dtls_datagram_check(many, sizeof(many), NULL), MG_DTLS_REC_TOO_MANY);
	for (int i = 0; i <= MG_DTLS_REC_STATUS_COUNT; i++)
		CHECK(mg_dtls_rec_status_str((enum mg_dtls_rec_status)i) != NULL);
}

int main(void)
{
	srand(11);
	CHECK(srtp_init() == srtp_err_status_ok);
	engine = mg_srtp_engine_create(MG_SRTP_ARCH_AUTO);
	CHECK(engine != NULL);
	ctx_a = mg_dtls_ctx_new("mediagate-test-a", 30);
	ctx_b = mg_dtls_ctx_new("mediagate-test-b", 30);
	CHECK(ctx_a && ctx_b);
	if (!engine || !ctx_a || !ctx_b)
		return CHECK_DONE();
	printf("instance certificate: %s\n", mg_dtls_ctx_fingerprint(ctx_a));
	test_helpers();
	test_profiles();
	test_wrong_fingerprint();
	test_no_common_profile();
	test_timeout();
	test_dtls13_offer();
	test_garbage_and_replay();
	test_loss();
	test_record_parser();
	mg_dtls_ctx_free(ctx_a);
	mg_dtls_ctx_free(ctx_b);
	mg_srtp_engine_destroy(engine);
	srtp_shutdown();
	return CHECK_DONE();
}
