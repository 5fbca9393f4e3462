/* DTLS-SRTP handshakes per second on one core (issue 7 benchmark), and STUN checks per second.
 *
 *   bench_dtls [handshakes per run] [runs]
 *
 * Each run does N complete handshakes between two mg_dtls endpoints in this thread (client =
 * active, server = passive, default profiles, fresh association each time, records moved through
 * memory), with the thread CPU time of every call charged to the side that made it. Printed per
 * run and as medians:
 *   - both ends: handshakes/s with both sides' CPU time on this core;
 *   - server side only: 1 / (server CPU time per handshake), what mediagate's control lcore pays
 *     when a browser is the client (and client side only, for a=setup:active legs);
 *   - reference: the same handshakes with bare OpenSSL (SSL objects on memory BIOs, same
 *     certificates, groups, ciphers, use_srtp, fingerprint check), side by side in the same run;
 *     ratio = mediagate / bare OpenSSL;
 *   - STUN: ICE-lite Binding checks answered per second (parse, fingerprint, HMAC, response).
 * Run it pinned to one core: tests/perf/dtls/run.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "dtls.h"
#include "stun.h"

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- mediagate ----------------------------------------------------------------------------- */
static mg_dtls_ctx *ctx_c, *ctx_s;
static struct mg_dtls_fingerprint fp_c, fp_s;

static int mg_handshake(double *cpu_client, double *cpu_server)
{
	struct mg_dtls_config cc = {.role = MG_DTLS_ROLE_CLIENT, .remote_fingerprint = &fp_s};
	struct mg_dtls_config cs = {.role = MG_DTLS_ROLE_SERVER, .remote_fingerprint = &fp_c};
	double t0 = cpu_now();
	mg_dtls *c = mg_dtls_new(ctx_c, &cc);
	double t1 = cpu_now();
	mg_dtls *s = mg_dtls_new(ctx_s, &cs);
	double t2 = cpu_now();
	*cpu_client += t1 - t0;
	*cpu_server += t2 - t1;
	uint64_t now = mono_ns();
	t0 = cpu_now();
	mg_dtls_start(c, now);
	*cpu_client += cpu_now() - t0;
	t0 = cpu_now();
	mg_dtls_start(s, now);
	*cpu_server += cpu_now() - t0;
	uint8_t buf[2048];
	for (int round = 0; round < 20; round++) {
		int moved = 0, n;
		for (;;) {
			t0 = cpu_now();
			n = mg_dtls_output(c, buf, sizeof(buf));
			*cpu_client += cpu_now() - t0;
			if (n <= 0)
				break;
			t0 = cpu_now();
			mg_dtls_input(s, buf, (size_t)n, now);
			*cpu_server += cpu_now() - t0;
			moved++;
		}
		for (;;) {
			t0 = cpu_now();
			n = mg_dtls_output(s, buf, sizeof(buf));
			*cpu_server += cpu_now() - t0;
			if (n <= 0)
				break;
			t0 = cpu_now();
			mg_dtls_input(c, buf, (size_t)n, now);
			*cpu_client += cpu_now() - t0;
			moved++;
		}
		if (!moved)
			break;
	}
	int ok = mg_dtls_state(c) == MG_DTLS_STATE_CONNECTED &&
		 mg_dtls_state(s) == MG_DTLS_STATE_CONNECTED;
	struct mg_dtls_srtp_keys k;
	t0 = cpu_now();
	ok = ok && mg_dtls_srtp_keys(c, &k) == 0;
	mg_dtls_free(c);
	t1 = cpu_now();
	ok = ok && mg_dtls_srtp_keys(s, &k) == 0;
	mg_dtls_free(s);
	t2 = cpu_now();
	*cpu_client += t1 - t0;
	*cpu_server += t2 - t1;
	mg_dtls_srtp_keys_wipe(&k);
	return ok;
}

/* ---- bare OpenSSL reference ---------------------------------------------------------------- */
static SSL_CTX *ref_c, *ref_s;
static X509 *cert_c, *cert_s;
static EVP_PKEY *key_c, *key_s;

static int ref_verify(X509_STORE_CTX *store, void *arg)
{
	X509 *expected = arg;
	X509 *peer = X509_STORE_CTX_get0_cert(store);
	unsigned char a[32], b[32];
	unsigned la = 0, lb = 0;
	X509_digest(peer, EVP_sha256(), a, &la);
	X509_digest(expected, EVP_sha256(), b, &lb);
	return la == 32 && lb == 32 && CRYPTO_memcmp(a, b, 32) == 0;
}

static SSL_CTX *ref_ctx(X509 *cert, EVP_PKEY *key, X509 *peer)
{
	SSL_CTX *c = SSL_CTX_new(DTLS_method());
	SSL_CTX_set_min_proto_version(c, DTLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(c, DTLS1_2_VERSION);
	SSL_CTX_use_certificate(c, cert);
	SSL_CTX_use_PrivateKey(c, key);
	SSL_CTX_set_cipher_list(c, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384");
	SSL_CTX_set1_groups_list(c, "X25519:P-256:P-384");
	SSL_CTX_set_options(c, SSL_OP_NO_TICKET | SSL_OP_NO_QUERY_MTU);
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_cert_verify_callback(c, ref_verify, peer);
	SSL_CTX_set_tlsext_use_srtp(c, "SRTP_AEAD_AES_128_GCM:SRTP_AEAD_AES_256_GCM:"
				       "SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32");
	return c;
}

static void ref_pump(SSL *from, SSL *to, double *cpu_from, double *cpu_to, int *moved)
{
	BIO *w = SSL_get_wbio(from), *r = SSL_get_rbio(to);
	char *p;
	long n = BIO_get_mem_data(w, &p);
	if (n <= 0)
		return;
	double t0 = cpu_now();
	BIO_write(r, p, (int)n);
	(void)BIO_reset(w);
	*cpu_from += cpu_now() - t0;
	t0 = cpu_now();
	SSL_do_handshake(to);
	*cpu_to += cpu_now() - t0;
	(*moved)++;
}

static int ref_handshake(double *cpu_client, double *cpu_server)
{
	double t0 = cpu_now();
	SSL *c = SSL_new(ref_c);
	BIO *cr = BIO_new(BIO_s_mem()), *cw = BIO_new(BIO_s_mem());
	BIO_set_mem_eof_return(cr, -1);
	SSL_set_bio(c, cr, cw);
	SSL_set_mtu(c, 1200);
	SSL_set_connect_state(c);
	double t1 = cpu_now();
	SSL *s = SSL_new(ref_s);
	BIO *sr = BIO_new(BIO_s_mem()), *sw = BIO_new(BIO_s_mem());
	BIO_set_mem_eof_return(sr, -1);
	SSL_set_bio(s, sr, sw);
	SSL_set_mtu(s, 1200);
	SSL_set_accept_state(s);
	double t2 = cpu_now();
	*cpu_client += t1 - t0;
	*cpu_server += t2 - t1;
	t0 = cpu_now();
	SSL_do_handshake(c);
	*cpu_client += cpu_now() - t0;
	for (int round = 0; round < 20; round++) {
		int moved = 0;
		ref_pump(c, s, cpu_client, cpu_server, &moved);
		ref_pump(s, c, cpu_server, cpu_client, &moved);
		if (!moved)
			break;
	}
	int ok = SSL_is_init_finished(c) && SSL_is_init_finished(s);
	unsigned char km[60];
	t0 = cpu_now();
	ok = ok && SSL_export_keying_material(c, km, 56, "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0);
	SSL_free(c);
	t1 = cpu_now();
	ok = ok && SSL_export_keying_material(s, km, 56, "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0);
	SSL_free(s);
	t2 = cpu_now();
	*cpu_client += t1 - t0;
	*cpu_server += t2 - t1;
	ERR_clear_error();
	return ok;
}

static void load_identity(mg_dtls_ctx *ctx, X509 **cert, EVP_PKEY **key)
{
	static char cp[4096], kp[4096];
	if (mg_dtls_ctx_export_pem(ctx, cp, sizeof(cp), kp, sizeof(kp)) != 0)
		exit(1);
	BIO *b = BIO_new_mem_buf(cp, -1);
	*cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	b = BIO_new_mem_buf(kp, -1);
	*key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	OPENSSL_cleanse(kp, sizeof(kp));
}

/* ---- STUN ------------------------------------------------------------------------------------ */
static double stun_checks_per_s(int n)
{
	static const char uf[] = "mgUf", pw[] = "mediagatePasswordOf22ch", ruf[] = "Br0wser+";
	uint8_t req[256], out[MG_STUN_RESPONSE_MAX], tid[12] = {1, 2, 3};
	struct mg_stun_builder b;
	mg_stun_build_init(&b, req, sizeof(req), MG_STUN_METHOD_BINDING, MG_STUN_CLASS_REQUEST,
			   tid);
	mg_stun_build_attr(&b, MG_STUN_ATTR_USERNAME, "mgUf:Br0wser+", 13);
	mg_stun_build_u32(&b, 0xC057, 0x00010032);
	mg_stun_build_u32(&b, MG_STUN_ATTR_PRIORITY, 0x6e7f1eff);
	mg_stun_build_u64(&b, MG_STUN_ATTR_ICE_CONTROLLING, 0x1122334455667788ull);
	mg_stun_build_attr(&b, MG_STUN_ATTR_USE_CANDIDATE, NULL, 0);
	mg_stun_build_integrity(&b, (const uint8_t *)pw, strlen(pw));
	mg_stun_build_fingerprint(&b);
	size_t len = mg_stun_build_finish(&b);
	struct mg_stun_ice_creds c = {uf, 4, pw, strlen(pw), ruf, strlen(ruf)};
	struct mg_stun_addr src = {.family = 4, .port = 5000, .addr = {192, 0, 2, 7}};
	struct mg_stun_ice_result res;
	int ok = 0;
	double t0 = cpu_now();
	for (int i = 0; i < n; i++) {
		mg_stun_ice_respond(req, len, &c, &src, (uint64_t)i, out, sizeof(out), &res, NULL);
		ok += res.action == MG_STUN_ICE_SUCCESS;
	}
	double t = cpu_now() - t0;
	if (ok != n)
		fprintf(stderr, "stun: %d of %d answered\n", ok, n);
	return n / t;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200;
	int runs = argc > 2 ? atoi(argv[2]) : 7;
	if (n < 1 || runs < 1 || runs > 100)
		return 2;
	double t0 = cpu_now();
	ctx_c = mg_dtls_ctx_new("bench-client", 30);
	double cert_ms = (cpu_now() - t0) * 1e3;
	ctx_s = mg_dtls_ctx_new("bench-server", 30);
	const char *a = mg_dtls_ctx_fingerprint(ctx_c), *b = mg_dtls_ctx_fingerprint(ctx_s);
	if (mg_dtls_fingerprint_parse(a, strlen(a), &fp_c) ||
	    mg_dtls_fingerprint_parse(b, strlen(b), &fp_s))
		return 1;
	load_identity(ctx_c, &cert_c, &key_c);
	load_identity(ctx_s, &cert_s, &key_s);
	ref_c = ref_ctx(cert_c, key_c, cert_s);
	ref_s = ref_ctx(cert_s, key_s, cert_c);

	printf("# %s; %d handshakes per run, %d runs, one thread (both ends in process)\n",
	       OpenSSL_version(OPENSSL_VERSION), n, runs);
	printf("# instance certificate generation (P-256 key + self-signed cert): %.2f ms CPU\n",
	       cert_ms);
	printf("run | mediagate both ends/s | server side/s | client side/s | bare OpenSSL both "
	       "ends/s | bare server side/s | ratio both | ratio server\n");
	double both[100], srv[100], cli[100], rboth[100], rsrv[100], rb[100], rs[100];
	for (int r = 0; r < runs; r++) {
		double mc = 0, ms = 0, rc = 0, rsv = 0;
		int ok = 0, rok = 0;
		/* interleaved in chunks so both see the same machine state */
		for (int i = 0; i < n; i += 10) {
			for (int k = i; k < i + 10 && k < n; k++)
				ok += mg_handshake(&mc, &ms);
			for (int k = i; k < i + 10 && k < n; k++)
				rok += ref_handshake(&rc, &rsv);
		}
		if (ok != n || rok != n) {
			fprintf(stderr, "handshakes failed: mediagate %d/%d, reference %d/%d\n", ok,
				n, rok, n);
			return 1;
		}
		both[r] = n / (mc + ms);
		srv[r] = n / ms;
		cli[r] = n / mc;
		rboth[r] = n / (rc + rsv);
		rsrv[r] = n / rsv;
		rb[r] = both[r] / rboth[r];
		rs[r] = srv[r] / rsrv[r];
		printf("%d | %.0f | %.0f | %.0f | %.0f | %.0f | %.3f | %.3f\n", r + 1, both[r],
		       srv[r], cli[r], rboth[r], rsrv[r], rb[r], rs[r]);
	}
	printf("median | %.0f | %.0f | %.0f | %.0f | %.0f | %.3f | %.3f\n", median(both, runs),
	       median(srv, runs), median(cli, runs), median(rboth, runs), median(rsrv, runs),
	       median(rb, runs), median(rs, runs));
	double st[100];
	for (int r = 0; r < runs; r++)
		st[r] = stun_checks_per_s(200000);
	printf("stun: ICE-lite Binding checks answered per second (median of %d runs of 200000): "
	       "%.0f\n",
	       runs, median(st, runs));
	SSL_CTX_free(ref_c);
	SSL_CTX_free(ref_s);
	X509_free(cert_c);
	X509_free(cert_s);
	EVP_PKEY_free(key_c);
	EVP_PKEY_free(key_s);
	mg_dtls_ctx_free(ctx_c);
	mg_dtls_ctx_free(ctx_s);
	return 0;
}
