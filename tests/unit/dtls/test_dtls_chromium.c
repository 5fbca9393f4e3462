/* lib/stun + lib/dtls against a real browser, without the data plane: headless Chromium
 * (driven by chromium_interop.js through playwright-core) connects over UDP on 127.0.0.1 to this
 * test, which plays an ICE-lite, a=setup:passive media endpoint with the libraries only:
 * - every STUN datagram goes through mg_stun_ice_respond (valid checks and USE-CANDIDATE);
 * - every DTLS datagram is checked by mg_dtls_datagram_check and fed to a passive mg_dtls with
 *   Chromium's a=fingerprint from its offer; Chromium offers DTLS 1.3 first, 1.2 must result;
 * - the exported rx keys go into a lib/srtp context and Chromium's SRTP/SRTCP must authenticate;
 * - Chromium's getStats must agree (dtlsState connected, tlsVersion FEFD, the same SRTP cipher).
 * Both roles: a=setup:passive (Chromium is the DTLS client, offering 1.3 first) and
 * a=setup:active (our mg_dtls client against Chromium's BoringSSL server).
 * usage: test_dtls_chromium <chromium_interop.js> <node_modules dir holding playwright-core>
 * Exit 77 (skip) without /usr/bin/chromium, node or playwright-core (integration installs them). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dtls_test_util.h"
#include "stun.h"

static int sdp_attr(const char *sdp, const char *name, char *out, size_t cap)
{
	const char *p = strstr(sdp, name);
	if (!p)
		return -1;
	p += strlen(name);
	size_t n = strcspn(p, "\r\n");
	if (n >= cap)
		return -1;
	memcpy(out, p, n);
	out[n] = 0;
	return 0;
}

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* One call with Chromium; we_active: a=setup:active (we are the DTLS client). */
static void run_mode(char **argv, int we_active)
{
	printf("---- mediagate a=setup:%s (DTLS %s), Chromium DTLS %s\n",
	       we_active ? "active" : "passive", we_active ? "client" : "server",
	       we_active ? "server" : "client");
	char dir[] = "/tmp/mg-dtls-chromium-XXXXXX";
	if (!mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	const char *ufrag = "mgUf", *pwd = "mediagateIceLitePwd22ch";
	mg_dtls_ctx *ctx = mg_dtls_ctx_new("mediagate-chromium-test", 2);
	mg_srtp_engine *eng = mg_srtp_engine_create(MG_SRTP_ARCH_AUTO);
	CHECK(ctx && eng);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	bind(s, (struct sockaddr *)&a, sizeof(a));
	socklen_t al = sizeof(a);
	getsockname(s, (struct sockaddr *)&a, &al);
	char path[1200], tmp[1200];
	snprintf(tmp, sizeof(tmp), "%s/params.json.tmp", dir);
	snprintf(path, sizeof(path), "%s/params.json", dir);
	FILE *f = fopen(tmp, "w");
	fprintf(f,
		"{\"port\":%d,\"ufrag\":\"%s\",\"pwd\":\"%s\",\"fingerprint\":\"%s\","
		"\"setup\":\"%s\"}\n",
		ntohs(a.sin_port), ufrag, pwd, mg_dtls_ctx_fingerprint(ctx),
		we_active ? "active" : "passive");
	fclose(f);
	rename(tmp, path);

	char cmd[4096];
	snprintf(cmd, sizeof(cmd), "NODE_PATH='%s' timeout 90 node '%s' '%s' 2>&1", argv[2],
		 argv[1], dir);
	FILE *node = popen(cmd, "r");
	CHECK(node != NULL);
	if (!node)
		return;
	int node_fd = fileno(node), node_done = 0;
	static char node_out[65536];
	size_t node_len = 0;

	mg_dtls *d = NULL;
	struct mg_stun_ice_creds creds = {ufrag, strlen(ufrag), pwd, strlen(pwd), NULL, 0};
	char rufrag[128], rfp[256];
	struct mg_dtls_fingerprint fp;
	struct mg_stun_counters sc = {0};
	struct sockaddr_in peer;
	int have_peer = 0, nominated = 0, srtp_ok = 0, srtp_bad = 0, have_keys = 0, refused = 0;
	mg_srtp_ctx *rx = aligned_alloc(128, sizeof(mg_srtp_ctx));
	struct mg_dtls_srtp_keys keys;
	uint64_t start = mono_ns();
	uint8_t buf[2048], out[2048];
	while (!node_done && mono_ns() - start < 100000000000ull) {
		if (!d) { /* Chromium's offer: its ufrag and certificate fingerprint */
			static char sdp[65536];
			snprintf(path, sizeof(path), "%s/offer.sdp", dir);
			FILE *o = fopen(path, "r");
			if (o) {
				size_t n = fread(sdp, 1, sizeof(sdp) - 1, o);
				sdp[n] = 0;
				fclose(o);
				CHECK(sdp_attr(sdp, "a=ice-ufrag:", rufrag, sizeof(rufrag)) == 0);
				CHECK(sdp_attr(sdp, "a=fingerprint:", rfp, sizeof(rfp)) == 0);
				CHECK(mg_dtls_fingerprint_parse(rfp, strlen(rfp), &fp) == 0);
				printf("Chromium offer: ice-ufrag %s, fingerprint %s\n", rufrag,
				       rfp);
				creds.remote_ufrag = rufrag;
				creds.remote_ufrag_len = strlen(rufrag);
				struct mg_dtls_config cfg = {
				    .role = we_active ? MG_DTLS_ROLE_CLIENT : MG_DTLS_ROLE_SERVER,
				    .remote_fingerprint = &fp};
				d = mg_dtls_new(ctx, &cfg);
				CHECK(d != NULL);
				if (!we_active)
					mg_dtls_start(d, mono_ns());
			}
		}
		struct pollfd p[2] = {{.fd = s, .events = POLLIN},
				      {.fd = node_fd, .events = POLLIN}};
		if (poll(p, 2, 20) > 0) {
			if (p[1].revents) {
				ssize_t n = read(node_fd, node_out + node_len,
						 sizeof(node_out) - 1 - node_len);
				if (n <= 0)
					node_done = 1;
				else
					node_len += (size_t)n;
				node_out[node_len] = 0;
			}
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n = p[0].revents ? recvfrom(s, buf, sizeof(buf), 0,
							    (struct sockaddr *)&from, &fl)
						 : 0;
			if (n > 0 && buf[0] < 4) {
				struct mg_stun_addr src = {.family = 4,
							   .port = ntohs(from.sin_port)};
				memcpy(src.addr, &from.sin_addr, 4);
				struct mg_stun_ice_result res;
				mg_stun_ice_respond(buf, (size_t)n, &creds, &src, mono_ns(), out,
						    sizeof(out), &res, &sc);
				if (res.out_len)
					sendto(s, out, res.out_len, 0, (struct sockaddr *)&from,
					       fl);
				if (res.action == MG_STUN_ICE_SUCCESS) {
					peer = from;
					have_peer = 1;
					nominated |= res.use_candidate;
				}
			} else if (n > 0 && buf[0] >= 20 && buf[0] <= 63 && d) {
				if (mg_dtls_datagram_check(buf, (size_t)n, NULL) != MG_DTLS_REC_OK)
					refused++;
				enum mg_dtls_state st = mg_dtls_input(d, buf, (size_t)n, mono_ns());
				if (st == MG_DTLS_STATE_CONNECTED && !have_keys) {
					CHECK(mg_dtls_srtp_keys(d, &keys) == 0);
					CHECK(mg_srtp_ctx_init(rx, eng, &keys.rx) == 0);
					have_keys = 1;
				}
			} else if (n > 0 && buf[0] >= 128 && buf[0] <= 191 && have_keys) {
				uint32_t len = (uint32_t)n;
				int rtcp = buf[1] >= 192 && buf[1] <= 223;
				enum mg_srtp_status st =
				    rtcp ? mg_srtcp_unprotect(eng, rx, buf, &len)
					 : mg_srtp_unprotect(eng, rx, buf, &len);
				if (st == MG_SRTP_OK)
					srtp_ok++;
				else
					srtp_bad++;
			}
		}
		/* active: the ClientHello goes out once ICE has a valid pair */
		if (d && we_active && have_peer && mg_dtls_state(d) == MG_DTLS_STATE_NEW)
			mg_dtls_start(d, mono_ns());
		if (d) {
			mg_dtls_tick(d, mono_ns());
			int n;
			while ((n = mg_dtls_output(d, out, sizeof(out))) > 0)
				if (have_peer)
					sendto(s, out, (size_t)n, 0, (struct sockaddr *)&peer,
					       sizeof(peer));
		}
	}
	int node_status = pclose(node);
	const char *result = strstr(node_out, "RESULT ");
	printf("Chromium: %s", result ? result : node_out);
	if (result && !strchr(result, '\n'))
		printf("\n");
	CHECK(node_status == 0 && result != NULL);
	printf("STUN: ");
	for (int r = 0; r < MG_STUN_REASON_COUNT; r++)
		if (sc.by_reason[r])
			printf("%s %llu  ", mg_stun_reason_str((enum mg_stun_reason)r),
			       (unsigned long long)sc.by_reason[r]);
	printf("USE-CANDIDATE seen: %s\n", nominated ? "yes" : "no");
	CHECK(sc.by_reason[MG_STUN_R_OK] > 0);
	CHECK(nominated);
	CHECK(d != NULL);
	if (!d)
		return;
	struct mg_dtls_counters c = mg_dtls_counters(d);
	printf("DTLS: %s %s, version %04x, DTLS 1.3 offered: %s, profile %s, garbage %llu, "
	       "retransmissions %llu\n",
	       mg_dtls_state_str(mg_dtls_state(d)), mg_dtls_failure_str(mg_dtls_failure(d)),
	       mg_dtls_version(d), c.dtls13_offered ? "yes" : "no",
	       have_keys ? mg_dtls_profile_name(keys.profile) : "-",
	       (unsigned long long)c.garbage_dropped, (unsigned long long)c.retransmissions);
	printf("SRTP/SRTCP from Chromium with the exported rx keys: %d authenticated, %d failed\n",
	       srtp_ok, srtp_bad);
	CHECK_EQ_INT(mg_dtls_state(d), MG_DTLS_STATE_CONNECTED);
	CHECK_EQ_INT(mg_dtls_version(d), 0xFEFD);
	if (!we_active) /* Chromium offers DTLS 1.3 first: the fallback is exercised */
		CHECK(c.dtls13_offered == 1);
	CHECK_EQ_INT(refused, 0);
	CHECK(srtp_ok >= 50);
	CHECK_EQ_INT(srtp_bad, 0);
	if (result && have_keys) {
		char want[128];
		/* Chromium's stats name the CM profiles ..._CM_HMAC_SHA1_..; GCM ones as RFC 7714
		 */
		const char *name = mg_dtls_profile_name(keys.profile);
		if (keys.profile == MG_DTLS_SRTP_AES128_CM_SHA1_80)
			name = "SRTP_AES128_CM_HMAC_SHA1_80";
		else if (keys.profile == MG_DTLS_SRTP_AES128_CM_SHA1_32)
			name = "SRTP_AES128_CM_HMAC_SHA1_32";
		snprintf(want, sizeof(want), "\"srtpCipher\":\"%s\"", name);
		CHECK(strstr(result, "\"dtlsState\":\"connected\"") != NULL);
		CHECK(strstr(result, "\"tlsVersion\":\"FEFD\"") != NULL);
		CHECK(strstr(result, want) != NULL);
		CHECK(strstr(result, we_active ? "\"dtlsRole\":\"server\""
					       : "\"dtlsRole\":\"client\"") != NULL);
	}
	mg_dtls_srtp_keys_wipe(&keys);
	mg_dtls_free(d);
	mg_srtp_ctx_wipe(rx);
	free(rx);
	mg_dtls_ctx_free(ctx);
	mg_srtp_engine_destroy(eng);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	char pw_dir[1024];
	snprintf(pw_dir, sizeof(pw_dir), "%s/playwright-core", argv[2]);
	if (!exists("/usr/bin/chromium") || system("node --version >/dev/null 2>&1") != 0 ||
	    !exists(pw_dir)) {
		printf("skip: needs /usr/bin/chromium, node and %s\n", pw_dir);
		return 77;
	}
	run_mode(argv, 0);
	run_mode(argv, 1);
	return CHECK_DONE();
}
