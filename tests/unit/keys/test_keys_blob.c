/* Session-state blobs sealed under an instance key (lib/keys/keys_blob.c) against a real
 * SoftHSM2 token: round trip; one token call per instance for many seals and for many
 * opens (the restore of many calls); nothing of the plaintext in the sealed text; a blob
 * does not open for another field or instance or when tampered with; a second process
 * (a takeover) opens what the first sealed; a disabled key refuses new data keys. */
#include "keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../check_msg.h"

static char state_dir[512];

static struct mg_keys *open_keys(void)
{
	struct mg_keys_config cfg = {.state_dir = state_dir,
				     .token_label = "mgtest",
				     .pin = "4321",
				     .bucket_key_period = 3600};
	struct mg_keys *k = NULL;
	int rc = mg_keys_open(&k, &cfg);
	if (rc != MG_KEYS_OK) {
		printf("FAIL: mg_keys_open: %s\n", mg_keys_strerror(rc));
		exit(1);
	}
	return k;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_keys_blob SOFTHSM_SETUP_SCRIPT\n");
		return 2;
	}
	char tmp[] = "/tmp/mg-keys-blob-test.XXXXXX";
	if (!mkdtemp(tmp))
		return 2;
	char cmd[1024], conf[600];
	snprintf(cmd, sizeof(cmd), "bash %s %s/hsm mgtest 4321 87654321 >/dev/null", argv[1], tmp);
	if (system(cmd) != 0) {
		printf("FAIL: token setup\n");
		return 1;
	}
	snprintf(conf, sizeof(conf), "%s/hsm/softhsm2.conf", tmp);
	setenv("SOFTHSM2_CONF", conf, 1);
	snprintf(state_dir, sizeof(state_dir), "%s/state", tmp);

	struct mg_keys *k = open_keys();
	char kid[MG_KEYS_ID_MAX], kid_b[MG_KEYS_ID_MAX];
	CHECK(mg_keys_create(k, "mediagate", "acct", "inst-a", 0, kid) == MG_KEYS_OK, "create a");
	CHECK(mg_keys_create(k, "mediagate", "acct", "inst-b", 0, kid_b) == MG_KEYS_OK, "create b");
	struct mg_keys_blob *b = NULL;
	CHECK(mg_keys_blob_create(&b, k, "mediagate", 3600) == MG_KEYS_OK, "blob create");

	const char *secret = "d6:remotel46:1 AES_CM_128_HMAC_SHA1_80 inline:SECRETKEYSECRETKEY"
			     "SECRETKEYSECRETKEY12ee";
	uint64_t calls0 = mg_keys_token_calls(k);
	enum { N = 2000 };
	char **sealed = calloc(N, sizeof(char *));
	int ok = 0;
	for (int i = 0; i < N; i++) {
		char field[64];
		snprintf(field, sizeof(field), "session-keys|call-%d", i);
		ok += mg_keys_blob_seal(b, "inst-a", field, secret, strlen(secret), &sealed[i]) ==
		      MG_KEYS_OK;
	}
	CHECK(ok == N, "%d of %d sealed", ok, N);
	uint64_t seal_calls = mg_keys_token_calls(k) - calls0;
	CHECK(seal_calls <= 2, "%d seals took %llu token calls (one data key per period)", N,
	      (unsigned long long)seal_calls);
	CHECK(!strstr(sealed[0], "SECRETKEY") && !strstr(sealed[0], "AES_CM") &&
		  strncmp(sealed[0], "mgs1:", 5) == 0,
	      "sealed text holds no plaintext: %.40s", sealed[0]);
	CHECK(strcmp(sealed[0], sealed[1]) != 0, "random IVs");
	mg_keys_blob_destroy(b);
	mg_keys_close(k);

	/* a second process (restart or takeover) opens all of them with one unwrap */
	k = open_keys();
	CHECK(mg_keys_blob_create(&b, k, "mediagate", 3600) == MG_KEYS_OK, "blob create 2");
	calls0 = mg_keys_token_calls(k);
	ok = 0;
	for (int i = 0; i < N; i++) {
		char field[64];
		snprintf(field, sizeof(field), "session-keys|call-%d", i);
		uint8_t *plain = NULL;
		size_t len = 0;
		if (mg_keys_blob_open(b, "inst-a", field, sealed[i], strlen(sealed[i]), &plain,
				      &len) == MG_KEYS_OK &&
		    len == strlen(secret) && !memcmp(plain, secret, len))
			ok++;
		free(plain);
	}
	CHECK(ok == N, "%d of %d opened", ok, N);
	uint64_t open_calls = mg_keys_token_calls(k) - calls0;
	CHECK(open_calls <= 2, "%d opens took %llu token calls", N, (unsigned long long)open_calls);
	struct mg_keys_blob_stats st;
	mg_keys_blob_stats(b, &st);
	CHECK(st.opened == N && st.data_keys_opened >= 1 && st.last_token_result == MG_KEYS_OK,
	      "stats: opened %llu data keys %llu", (unsigned long long)st.opened,
	      (unsigned long long)st.data_keys_opened);

	/* bound to field and instance; tampering detected */
	uint8_t *plain = NULL;
	size_t len;
	CHECK(mg_keys_blob_open(b, "inst-a", "session-keys|call-1", sealed[0], strlen(sealed[0]),
				&plain, &len) == MG_KEYS_ERR_UNWRAP &&
		  !plain,
	      "another call's field does not open");
	CHECK(mg_keys_blob_open(b, "inst-b", "session-keys|call-0", sealed[0], strlen(sealed[0]),
				&plain, &len) != MG_KEYS_OK &&
		  !plain,
	      "another instance does not open");
	char *t = strdup(sealed[0]);
	size_t tl = strlen(t);
	t[tl - 3] = t[tl - 3] == '0' ? '1' : '0';
	CHECK(mg_keys_blob_open(b, "inst-a", "session-keys|call-0", t, tl, &plain, &len) ==
		      MG_KEYS_ERR_UNWRAP &&
		  !plain,
	      "a flipped ciphertext bit does not open");
	t[5] = 'x';
	CHECK(mg_keys_blob_open(b, "inst-a", "session-keys|call-0", t, tl, &plain, &len) ==
		  MG_KEYS_ERR_UNWRAP,
	      "a malformed blob is refused");
	free(t);
	mg_keys_blob_stats(b, &st);
	CHECK(st.open_failed == 4, "open failures counted: %llu",
	      (unsigned long long)st.open_failed);

	/* a disabled key gives no new data key (a new process has nothing cached) */
	CHECK(mg_keys_disable(k, "mediagate", kid) == MG_KEYS_OK, "disable");
	mg_keys_blob_destroy(b);
	CHECK(mg_keys_blob_create(&b, k, "mediagate", 3600) == MG_KEYS_OK, "blob create 3");
	char *out = NULL;
	CHECK(mg_keys_blob_seal(b, "inst-a", "f", "x", 1, &out) == MG_KEYS_ERR_DISABLED && !out,
	      "disabled key: seal refused");
	uint64_t before_retry = mg_keys_token_calls(k);
	for (int i = 0; i < 100; i++)
		CHECK(mg_keys_blob_seal(b, "inst-a", "f", "x", 1, &out) == MG_KEYS_ERR_DISABLED,
		      "refused again");
	CHECK(mg_keys_token_calls(k) == before_retry,
	      "refusals inside the retry delay make no token call");
	CHECK(mg_keys_blob_open(b, "inst-a", "session-keys|call-0", sealed[0], strlen(sealed[0]),
				&plain, &len) == MG_KEYS_ERR_DISABLED &&
		  !plain,
	      "disabled key: open refused");
	mg_keys_blob_stats(b, &st);
	CHECK(st.last_token_result == MG_KEYS_ERR_DISABLED && st.seal_failed == 101,
	      "last token result reported, failures counted (%llu)",
	      (unsigned long long)st.seal_failed);
	/* the data-key events are in the audit log, which still verifies */
	char path[700], line[2048];
	snprintf(path, sizeof(path), "%s/audit.log", state_dir);
	FILE *f = fopen(path, "r");
	int gen = 0, dec = 0;
	while (f && fgets(line, sizeof(line), f)) {
		gen += strstr(line, "op=key.generate-data-key") &&
		       strstr(line, "object=session-state");
		dec += strstr(line, "op=key.decrypt") && strstr(line, "object=session-state");
	}
	if (f)
		fclose(f);
	CHECK(gen >= 1 && gen <= 3 && dec >= 1 && dec <= 3,
	      "audit: %d data-key generations, %d unwraps for session state", gen, dec);
	uint64_t entries = 0;
	char why[256];
	CHECK(mg_keys_audit_verify(k, &entries, why, sizeof(why)) == MG_KEYS_OK,
	      "audit log verifies: %s", why);
	for (int i = 0; i < N; i++)
		free(sealed[i]);
	free(sealed);
	mg_keys_blob_destroy(b);
	mg_keys_close(k);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	if (system(cmd) != 0)
		return 1;
	printf("keys-blob: %s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
