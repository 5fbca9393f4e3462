/* lib/dtls against an independent DTLS peer: the openssl command line tool
 * (`openssl s_server -dtls1_2` / `openssl s_client -dtls1_2`, with -use_srtp and -keymatexport)
 * over a real UDP socket on 127.0.0.1. A small shim in this test moves datagrams between the
 * socket and the mg_dtls memory BIOs and drives the timers with CLOCK_MONOTONIC.
 *
 * Checked for each use_srtp profile, with mediagate active (client) and passive (server):
 * - the handshake completes, the profile openssl reports is the one we export;
 * - our tx/rx keys and salts are exactly the RFC 5764 4.2 split of the keying material openssl
 *   prints (client key | server key | client salt | server salt), on the side our role says;
 * - our a=fingerprint of our certificate equals `openssl x509 -fingerprint -sha256`, and the
 *   peer certificate's fingerprint we saw equals openssl's for the peer's file;
 * - close_notify from s_client (stdin EOF) closes our side; ours ends s_server (-naccept 1).
 * And: a wrong expected fingerprint of s_client's certificate fails the handshake, no keys.
 * Exit 77 (skip) when the openssl binary is missing. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "dtls_test_util.h"

static char dir[] = "/tmp/mg-dtls-openssl-XXXXXX";
static char peer_cert[256], peer_key[256], our_cert[256];
static mg_dtls_ctx *ctx;
static char peer_fp_text[160];

static int run_capture(const char *cmd, char *out, size_t cap)
{
	FILE *f = popen(cmd, "r");
	if (!f)
		return -1;
	size_t n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	return pclose(f);
}

/* "sha256 Fingerprint=AB:CD:..." -> "sha-256 AB:CD:..." */
static int openssl_fingerprint(const char *pem_file, char *out, size_t cap)
{
	char cmd[512], buf[512];
	snprintf(cmd, sizeof(cmd), "openssl x509 -in %s -noout -fingerprint -sha256", pem_file);
	if (run_capture(cmd, buf, sizeof(buf)) != 0)
		return -1;
	char *eq = strchr(buf, '=');
	if (!eq)
		return -1;
	char *nl = strchr(eq, '\n');
	if (nl)
		*nl = '\0';
	snprintf(out, cap, "sha-256 %s", eq + 1);
	return 0;
}

static pid_t spawn(char *const argv[], int *stdin_fd, const char *out_file)
{
	int p[2];
	if (pipe(p) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[0], 0);
		close(p[1]);
		int fd = open(out_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[0]);
	*stdin_fd = p[1];
	return pid;
}

/* Waits up to ms for the process; kills it (by its pid) if still running. */
static int reap(pid_t pid, int ms)
{
	int status = 0;
	for (int i = 0; i < ms / 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(10000);
	}
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	return -1;
}

static int read_file(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (int)n;
}

/* Waits until the tool's output holds "Keying material: <hex>"; returns bytes parsed. */
static int keying_material(const char *out_file, uint8_t *km, size_t cap, char *all, size_t all_cap)
{
	for (int i = 0; i < 300; i++) {
		if (read_file(out_file, all, all_cap) > 0) {
			char *p = strstr(all, "Keying material: ");
			if (p) {
				p += strlen("Keying material: ");
				size_t n = 0;
				while (n < cap && isxdigit((unsigned char)p[0]) &&
				       isxdigit((unsigned char)p[1])) {
					unsigned v;
					sscanf(p, "%2x", &v);
					km[n++] = (uint8_t)v;
					p += 2;
				}
				if (n > 0 && !isxdigit((unsigned char)p[0]))
					return (int)n;
			}
		}
		usleep(10000);
	}
	return -1;
}

static int free_udp_port(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	bind(s, (struct sockaddr *)&a, sizeof(a));
	socklen_t l = sizeof(a);
	getsockname(s, (struct sockaddr *)&a, &l);
	close(s);
	return ntohs(a.sin_port);
}

/* Moves datagrams between sock and d until connected/failed/closed or the deadline.
 * For a server socket (unconnected) the peer address is learnt from the first datagram. */
static void pump(mg_dtls *d, int sock, int connected_sock, struct sockaddr_in *peer, int *have_peer,
		 uint64_t max_ns, int until_closed)
{
	uint64_t start = mono_ns();
	uint8_t buf[2048];
	while (mono_ns() - start < max_ns) {
		int n;
		while ((n = mg_dtls_output(d, buf, sizeof(buf))) > 0) {
			if (connected_sock)
				send(sock, buf, (size_t)n, 0);
			else if (*have_peer)
				sendto(sock, buf, (size_t)n, 0, (struct sockaddr *)peer,
				       sizeof(*peer));
		}
		enum mg_dtls_state st = mg_dtls_state(d);
		if (st == MG_DTLS_STATE_FAILED || st == MG_DTLS_STATE_CLOSED)
			break;
		if (st == MG_DTLS_STATE_CONNECTED && !until_closed)
			break;
		uint64_t next = mg_dtls_next_timeout(d), now = mono_ns();
		int wait_ms = 50;
		if (next != UINT64_MAX)
			wait_ms = next <= now ? 0 : (int)((next - now) / 1000000 + 1);
		if (wait_ms > 50)
			wait_ms = 50;
		struct pollfd pfd = {.fd = sock, .events = POLLIN};
		if (poll(&pfd, 1, wait_ms) > 0) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t r =
			    recvfrom(sock, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			if (r > 0) {
				if (!connected_sock && !*have_peer) {
					*peer = from;
					*have_peer = 1;
				}
				mg_dtls_input(d, buf, (size_t)r, mono_ns());
			}
		}
		mg_dtls_tick(d, mono_ns());
	}
}

static void check_split(const struct mg_dtls_srtp_keys *k, const uint8_t *km, int km_len,
			int we_are_client)
{
	const struct mg_srtp_suite_info *si = mg_srtp_suite_info(k->tx.suite);
	int kl = si->key_len, sl = si->salt_len;
	CHECK_EQ_INT(km_len, 2 * (kl + sl));
	if (km_len != 2 * (kl + sl))
		return;
	const uint8_t *ck = km, *sk = km + kl, *cs = km + 2 * kl, *ss = km + 2 * kl + sl;
	CHECK(memcmp(k->tx.master_key, we_are_client ? ck : sk, (size_t)kl) == 0);
	CHECK(memcmp(k->rx.master_key, we_are_client ? sk : ck, (size_t)kl) == 0);
	CHECK(memcmp(k->tx.master_salt, we_are_client ? cs : ss, (size_t)sl) == 0);
	CHECK(memcmp(k->rx.master_salt, we_are_client ? ss : cs, (size_t)sl) == 0);
}

static void run_case(enum mg_dtls_profile profile, int we_are_client, int wrong_fp)
{
	const char *pname = mg_dtls_profile_name(profile);
	const struct mg_srtp_suite_info *si = mg_srtp_suite_info(mg_dtls_profile_suite(profile));
	char lenbuf[16], portbuf[64], out_file[300];
	snprintf(lenbuf, sizeof(lenbuf), "%d", 2 * (si->key_len + si->salt_len));
	snprintf(out_file, sizeof(out_file), "%s/peer.out", dir);
	struct mg_dtls_fingerprint fp;
	CHECK(mg_dtls_fingerprint_parse(peer_fp_text, strlen(peer_fp_text), &fp) == 0);
	if (wrong_fp)
		fp.value[5] ^= 0x10;
	struct mg_dtls_config cfg = {
	    .role = we_are_client ? MG_DTLS_ROLE_CLIENT : MG_DTLS_ROLE_SERVER,
	    .remote_fingerprint = &fp,
	    .retransmit_initial_ms = 100,
	};
	cfg.profiles[0] = profile;
	cfg.n_profiles = 1;
	mg_dtls *d = mg_dtls_new(ctx, &cfg);
	CHECK(d != NULL);
	int sock = socket(AF_INET, SOCK_DGRAM, 0), stdin_fd = -1;
	struct sockaddr_in peer = {.sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int have_peer = 0;
	pid_t pid;
	if (we_are_client) {
		int port = free_udp_port();
		snprintf(portbuf, sizeof(portbuf), "127.0.0.1:%d", port);
		char *argv[] = {"openssl",
				"s_server",
				"-dtls1_2",
				"-accept",
				portbuf,
				"-cert",
				peer_cert,
				"-key",
				peer_key,
				"-use_srtp",
				(char *)pname,
				"-verify",
				"1",
				"-naccept",
				"1",
				"-keymatexport",
				"EXTRACTOR-dtls_srtp",
				"-keymatexportlen",
				lenbuf,
				NULL};
		pid = spawn(argv, &stdin_fd, out_file);
		usleep(150000); /* let it bind (a lost ClientHello is retransmitted anyway) */
		peer.sin_port = htons((uint16_t)port);
		connect(sock, (struct sockaddr *)&peer, sizeof(peer));
		mg_dtls_start(d, mono_ns());
		pump(d, sock, 1, &peer, &have_peer, 10000000000ull, 0);
	} else {
		struct sockaddr_in a = {.sin_family = AF_INET,
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		bind(sock, (struct sockaddr *)&a, sizeof(a));
		socklen_t l = sizeof(a);
		getsockname(sock, (struct sockaddr *)&a, &l);
		snprintf(portbuf, sizeof(portbuf), "127.0.0.1:%d", ntohs(a.sin_port));
		char *argv[] = {"openssl",
				"s_client",
				"-dtls1_2",
				"-connect",
				portbuf,
				"-cert",
				peer_cert,
				"-key",
				peer_key,
				"-use_srtp",
				(char *)pname,
				"-keymatexport",
				"EXTRACTOR-dtls_srtp",
				"-keymatexportlen",
				lenbuf,
				NULL};
		mg_dtls_start(d, mono_ns());
		pid = spawn(argv, &stdin_fd, out_file);
		pump(d, sock, 0, &peer, &have_peer, 10000000000ull, 0);
	}
	enum mg_dtls_state st = mg_dtls_state(d);
	static char all[65536];
	if (wrong_fp) {
		printf("openssl %s, wrong expected fingerprint: %s/%s (%s)\n",
		       we_are_client ? "s_server" : "s_client", mg_dtls_state_str(st),
		       mg_dtls_failure_str(mg_dtls_failure(d)), mg_dtls_detail(d));
		CHECK_EQ_INT(st, MG_DTLS_STATE_FAILED);
		CHECK_EQ_INT(mg_dtls_failure(d), MG_DTLS_FAIL_FINGERPRINT);
		struct mg_dtls_srtp_keys k;
		CHECK(mg_dtls_srtp_keys(d, &k) == -1);
		/* flush our alert to the peer, then stop it */
		uint8_t buf[2048];
		int n;
		while ((n = mg_dtls_output(d, buf, sizeof(buf))) > 0)
			sendto(sock, buf, (size_t)n, 0, (struct sockaddr *)&peer, sizeof(peer));
		close(stdin_fd);
		reap(pid, 2000);
		read_file(out_file, all, sizeof(all));
		CHECK(strstr(all, "bad certificate") != NULL); /* the peer got our alert */
		mg_dtls_free(d);
		close(sock);
		return;
	}
	CHECK_EQ_INT(st, MG_DTLS_STATE_CONNECTED);
	struct mg_dtls_srtp_keys k;
	uint8_t km[128];
	int km_len = keying_material(out_file, km, sizeof(km), all, sizeof(all));
	int ok_keys = mg_dtls_srtp_keys(d, &k) == 0;
	CHECK(ok_keys);
	char expect_line[128];
	snprintf(expect_line, sizeof(expect_line), "SRTP Extension negotiated, profile=%s", pname);
	CHECK(strstr(all, expect_line) != NULL);
	if (ok_keys) {
		CHECK_EQ_INT(k.profile, profile);
		check_split(&k, km, km_len, we_are_client);
	}
	char seen[160];
	CHECK(mg_dtls_peer_fingerprint(d, seen, sizeof(seen)) == 0 &&
	      strcmp(seen, peer_fp_text) == 0);
	if (we_are_client) {
		/* our close_notify ends s_server (-naccept 1) */
		mg_dtls_close(d);
		pump(d, sock, 1, &peer, &have_peer, 100000000ull, 0);
		uint8_t buf[2048];
		int n;
		while ((n = mg_dtls_output(d, buf, sizeof(buf))) > 0)
			send(sock, buf, (size_t)n, 0);
		int status = reap(pid, 3000);
		CHECK(status >= 0 && WIFEXITED(status));
		close(stdin_fd);
	} else {
		/* stdin EOF: s_client sends close_notify and exits */
		close(stdin_fd);
		pump(d, sock, 0, &peer, &have_peer, 3000000000ull, 1);
		CHECK_EQ_INT(mg_dtls_state(d), MG_DTLS_STATE_CLOSED);
		CHECK(mg_dtls_closed_by_peer(d));
		reap(pid, 3000);
	}
	printf("openssl %s, %s: %s, keys = RFC 5764 split of openssl's keying material (%d "
	       "bytes), close: %s\n",
	       we_are_client ? "s_server (we are active)" : "s_client (we are passive)", pname,
	       mg_dtls_state_str(st), km_len, mg_dtls_detail(d));
	mg_dtls_srtp_keys_wipe(&k);
	mg_dtls_free(d);
	close(sock);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (system("openssl version >/dev/null 2>&1") != 0) {
		printf("openssl binary missing: skip\n");
		return 77;
	}
	if (!mkdtemp(dir))
		return 1;
	snprintf(peer_cert, sizeof(peer_cert), "%s/peer.pem", dir);
	snprintf(peer_key, sizeof(peer_key), "%s/peer.key", dir);
	snprintf(our_cert, sizeof(our_cert), "%s/ours.pem", dir);
	char cmd[1024], out[4096];
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		 "-keyout %s -out %s -subj /CN=openssl-peer -days 2 2>&1",
		 peer_key, peer_cert);
	CHECK(run_capture(cmd, out, sizeof(out)) == 0);
	CHECK(openssl_fingerprint(peer_cert, peer_fp_text, sizeof(peer_fp_text)) == 0);
	printf("openssl peer certificate: %s\n", peer_fp_text);

	ctx = mg_dtls_ctx_new("mediagate-openssl-test", 2);
	CHECK(ctx != NULL);
	/* our a=fingerprint equals openssl's fingerprint of our certificate */
	static char cert_pem[4096], key_pem[4096];
	CHECK(mg_dtls_ctx_export_pem(ctx, cert_pem, sizeof(cert_pem), key_pem, sizeof(key_pem)) ==
	      0);
	OPENSSL_cleanse(key_pem, sizeof(key_pem));
	FILE *f = fopen(our_cert, "w");
	fputs(cert_pem, f);
	fclose(f);
	char ours_by_openssl[160];
	CHECK(openssl_fingerprint(our_cert, ours_by_openssl, sizeof(ours_by_openssl)) == 0);
	printf("our a=fingerprint:        %s\nopenssl x509 -fingerprint: %s\n",
	       mg_dtls_ctx_fingerprint(ctx), ours_by_openssl);
	CHECK(strcmp(ours_by_openssl, mg_dtls_ctx_fingerprint(ctx)) == 0);

	static const enum mg_dtls_profile all[] = {
	    MG_DTLS_SRTP_AES128_CM_SHA1_80, MG_DTLS_SRTP_AES128_CM_SHA1_32,
	    MG_DTLS_SRTP_AEAD_AES_128_GCM, MG_DTLS_SRTP_AEAD_AES_256_GCM};
	for (int i = 0; i < 4; i++) {
		run_case(all[i], 1, 0);
		run_case(all[i], 0, 0);
	}
	run_case(MG_DTLS_SRTP_AES128_CM_SHA1_80, 0, 1);

	mg_dtls_ctx_free(ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return CHECK_DONE();
}
