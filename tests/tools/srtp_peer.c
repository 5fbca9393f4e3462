/* An SRTP endpoint for tests, built on libsrtp2 (an implementation independent of
 * mediagate's): sends RTP protected with its own key from one UDP socket and receives
 * on the same socket, unprotecting with the key mediagate announced to it. Prints
 * what arrived as JSON. Payloads are the same function of (ssrc, seq) as
 * tests/tools/rtp_peer.py, so either tool can check the other's packets.
 *
 *   srtp_peer --bind A:P --to B:Q --suite NAME --send-key B64 [--recv-key B64]
 *             --ssrc N [--expect-ssrc N] [--count N] [--interval S] [--start-delay S]
 *             [--linger S] [--rtcp-every N] [--forge N] [--replay N] [--plain-recv]
 *   --forge N    after the stream, send N packets whose auth tag is corrupted
 *   --replay N   after the stream, send the last protected packet N more times
 *   --plain-recv the other side is plain RTP: check received packets without SRTP
 *   --first-seq N  sequence number of the first packet (default 1000; wraps at 65535)
 *   --ready F    create file F once the socket is bound
 *   --wait F     before sending, wait (up to 20 s) until file F exists */
#include <arpa/inet.h>
#include <poll.h>
#include <srtp2/srtp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void payload(uint32_t ssrc, uint16_t seq, uint8_t *out, size_t size)
{
	uint32_t seed = (uint32_t)(ssrc * 2654435761u + seq * 40503u);
	for (size_t i = 0; i < size; i++) {
		seed = (seed * 1103515245u + 12345u) & 0x7fffffff;
		out[i] = (uint8_t)(seed >> 16);
	}
}

static int parse_addr(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static int set_suite(srtp_policy_t *p, const char *suite)
{
	if (!strcmp(suite, "AES_CM_128_HMAC_SHA1_80")) {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
	} else if (!strcmp(suite, "AES_CM_128_HMAC_SHA1_32")) {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
	} else if (!strcmp(suite, "AES_256_CM_HMAC_SHA1_80")) {
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p->rtp);
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p->rtcp);
	} else if (!strcmp(suite, "AES_256_CM_HMAC_SHA1_32")) {
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32(&p->rtp);
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p->rtcp);
	} else if (!strcmp(suite, "AEAD_AES_128_GCM")) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
	} else if (!strcmp(suite, "AEAD_AES_256_GCM")) {
		srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtp);
		srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtcp);
	} else {
		return -1;
	}
	return 0;
}

static srtp_t make_session(const char *suite, const char *b64, int inbound)
{
	static uint8_t keys[2][64];
	uint8_t *key = keys[inbound];
	int n = EVP_DecodeBlock(key, (const unsigned char *)b64, (int)strlen(b64));
	if (n < 30) {
		fprintf(stderr, "srtp_peer: bad key\n");
		exit(2);
	}
	srtp_policy_t p;
	memset(&p, 0, sizeof(p));
	if (set_suite(&p, suite) < 0) {
		fprintf(stderr, "srtp_peer: unknown suite %s\n", suite);
		exit(2);
	}
	p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	p.key = key;
	p.window_size = 128;
	p.allow_repeat_tx = 1; /* --replay resends identical packets on purpose */
	srtp_t s;
	if (srtp_create(&s, &p) != srtp_err_status_ok) {
		fprintf(stderr, "srtp_peer: srtp_create failed\n");
		exit(2);
	}
	return s;
}

static int fd, plain_recv;
static long expect = -1;
static srtp_t rx;
static long received, intact, bad, unprotect_failed, wrong_ssrc, rtcp, rtcp_failed;

static void receive_until(double deadline)
{
	uint8_t buf[2048];
	for (;;) {
		double left = deadline - now_s();
		if (left <= 0)
			return;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 12)
			continue;
		int len = (int)n;
		if (buf[1] >= 192 && buf[1] <= 223) {
			if (!plain_recv && srtp_unprotect_rtcp(rx, buf, &len) != srtp_err_status_ok)
				rtcp_failed++;
			else
				rtcp++;
			continue;
		}
		if (!plain_recv && srtp_unprotect(rx, buf, &len) != srtp_err_status_ok) {
			unprotect_failed++;
			continue;
		}
		received++;
		uint32_t s;
		uint16_t seq;
		memcpy(&s, buf + 8, 4);
		memcpy(&seq, buf + 2, 2);
		s = ntohl(s);
		seq = ntohs(seq);
		if (expect >= 0 && s != (uint32_t)expect) {
			wrong_ssrc++;
			continue;
		}
		uint8_t want[2048];
		payload(s, seq, want, (size_t)len - 12);
		if (memcmp(want, buf + 12, (size_t)len - 12) == 0)
			intact++;
		else
			bad++;
	}
}

int main(int argc, char **argv)
{
	const char *bind_s = NULL, *to_s = NULL, *suite = "AES_CM_128_HMAC_SHA1_80";
	const char *send_key = NULL, *recv_key = NULL, *ready = NULL, *wait_for = NULL;
	long ssrc = -1;
	int count = 50, rtcp_every = 0, forge = 0, replay = 0, first_seq = 1000;
	double interval = 0.02, start_delay = 0, linger = 1.0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (!strcmp(a, name) && v && ++i)
		if (OPT("--bind"))
			bind_s = v;
		else if (OPT("--to"))
			to_s = v;
		else if (OPT("--suite"))
			suite = v;
		else if (OPT("--send-key"))
			send_key = v;
		else if (OPT("--recv-key"))
			recv_key = v;
		else if (OPT("--ssrc"))
			ssrc = strtol(v, NULL, 0);
		else if (OPT("--expect-ssrc"))
			expect = strtol(v, NULL, 0);
		else if (OPT("--count"))
			count = atoi(v);
		else if (OPT("--interval"))
			interval = atof(v);
		else if (OPT("--start-delay"))
			start_delay = atof(v);
		else if (OPT("--linger"))
			linger = atof(v);
		else if (OPT("--rtcp-every"))
			rtcp_every = atoi(v);
		else if (OPT("--forge"))
			forge = atoi(v);
		else if (OPT("--replay"))
			replay = atoi(v);
		else if (OPT("--ready"))
			ready = v;
		else if (OPT("--first-seq"))
			first_seq = atoi(v);
		else if (OPT("--wait"))
			wait_for = v;
		else if (!strcmp(a, "--plain-recv"))
			plain_recv = 1;
		else {
			fprintf(stderr, "srtp_peer: bad argument %s\n", a);
			return 2;
		}
	}
	struct sockaddr_in local, dest;
	if (!bind_s || !to_s || !send_key || ssrc < 0 || parse_addr(bind_s, &local) ||
	    parse_addr(to_s, &dest) || (!plain_recv && !recv_key)) {
		fprintf(stderr,
			"srtp_peer: --bind, --to, --send-key, --ssrc (and --recv-key) needed\n");
		return 2;
	}
	srtp_init();
	srtp_t tx = make_session(suite, send_key, 0);
	rx = plain_recv ? NULL : make_session(suite, recv_key, 1);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0) {
		perror("bind");
		return 2;
	}
	uint8_t last[2048];
	int last_len = 0;

	if (ready) {
		FILE *rf = fopen(ready, "w");
		if (rf)
			fclose(rf);
	}
	for (double limit = now_s() + 20;
	     wait_for && access(wait_for, F_OK) != 0 && now_s() < limit;)
		receive_until(now_s() + 0.02);
	receive_until(now_s() + start_delay);
	double next = now_s();
	for (int i = 0; i < count; i++) {
		receive_until(next);
		uint16_t seq = (uint16_t)(first_seq + i);
		uint8_t pkt[2048];
		uint16_t nseq = htons(seq);
		uint32_t nts = htonl(5000u + 160u * (unsigned)i), nssrc = htonl((uint32_t)ssrc);
		pkt[0] = 0x80;
		pkt[1] = 0;
		memcpy(pkt + 2, &nseq, 2);
		memcpy(pkt + 4, &nts, 4);
		memcpy(pkt + 8, &nssrc, 4);
		payload((uint32_t)ssrc, seq, pkt + 12, 160);
		int len = 172;
		if (srtp_protect(tx, pkt, &len) != srtp_err_status_ok) {
			fprintf(stderr, "srtp_peer: protect failed\n");
			return 1;
		}
		sendto(fd, pkt, (size_t)len, 0, (struct sockaddr *)&dest, sizeof(dest));
		memcpy(last, pkt, (size_t)len);
		last_len = len;
		if (rtcp_every && i % rtcp_every == 0) {
			uint8_t sr[64] = {0x80, 200, 0, 6};
			uint32_t nssrc = htonl((uint32_t)ssrc);
			memcpy(sr + 4, &nssrc, 4);
			int rl = 28;
			if (srtp_protect_rtcp(tx, sr, &rl) == srtp_err_status_ok)
				sendto(fd, sr, (size_t)rl, 0, (struct sockaddr *)&dest,
				       sizeof(dest));
		}
		next += interval;
	}
	for (int i = 0; i < replay && last_len; i++)
		sendto(fd, last, (size_t)last_len, 0, (struct sockaddr *)&dest, sizeof(dest));
	for (int i = 0; i < forge; i++) {
		uint8_t pkt[2048];
		memcpy(pkt, last, (size_t)last_len);
		uint16_t nseq = htons((uint16_t)(5000 + i)); /* a new index */
		memcpy(pkt + 2, &nseq, 2);
		pkt[last_len - 1] ^= 0x5a; /* and a wrong tag */
		sendto(fd, pkt, (size_t)last_len, 0, (struct sockaddr *)&dest, sizeof(dest));
	}
	receive_until(now_s() + linger);
	printf("{\"sent\": %d, \"received\": %ld, \"intact\": %ld, \"bad\": %ld, "
	       "\"unprotect_failed\": %ld, \"wrong_ssrc\": %ld, \"rtcp\": %ld, \"rtcp_failed\": "
	       "%ld}\n",
	       count, received, intact, bad, unprotect_failed, wrong_ssrc, rtcp, rtcp_failed);
	return 0;
}
