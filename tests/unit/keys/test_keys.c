/* lib/keys against a real SoftHSM2 token in a private directory: CMK lifecycle (rotation,
 * automatic rotation, disable, schedule/cancel deletion, deletion), grants and revoke,
 * bucket keys (token calls counted), PII keys, cross-instance refusal, and audit-log
 * verification catching an edit, a removal, a reordering and a cut tail. */
#include "keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "../check_msg.h"
#define EXPECT(call, want)                                                                         \
	do {                                                                                       \
		int rc_ = (call);                                                                  \
		CHECK(rc_ == (want), "%s -> %s, expected %s", #call, mg_keys_strerror(rc_),        \
		      mg_keys_strerror(want));                                                     \
	} while (0)

static time_t fake_now = 1800000000;
static time_t clock_fn(void *arg)
{
	(void)arg;
	return fake_now;
}

static char state_dir[512];

static struct mg_keys *open_keys(uint32_t bucket_period)
{
	struct mg_keys_config cfg = {.state_dir = state_dir,
				     .token_label = "mgtest",
				     .pin = "4321",
				     .bucket_key_period = bucket_period};
	struct mg_keys *k = NULL;
	int rc = mg_keys_open(&k, &cfg);
	if (rc != MG_KEYS_OK) {
		printf("FAIL: mg_keys_open: %s\n", mg_keys_strerror(rc));
		exit(1);
	}
	mg_keys_set_clock(k, clock_fn, NULL);
	return k;
}

static struct mg_envelope_context ctx_for(const char *instance, const char *contact)
{
	static char keyid[4][MG_KEYS_ID_MAX];
	static int slot;
	char *kid = keyid[slot++ % 4];
	snprintf(kid, MG_KEYS_ID_MAX, "mgk-%s", instance);
	struct mg_envelope_context c = {.account = "111122223333",
					.instance = instance,
					.contact_id = contact,
					.object_path = "p/x.wav.mgenc",
					.key_id = kid};
	return c;
}

static int decrypt(struct mg_keys *k, const char *principal, const struct mg_envelope_context *c,
		   const struct mg_envelope_data_key *dk)
{
	uint8_t key[32];
	int rc = mg_keys_decrypt_data_key(k, principal, c, dk->wrap_info, dk->wrap_info_len,
					  dk->wrapped, dk->wrapped_len, key);
	if (rc == MG_KEYS_OK && memcmp(key, dk->key, 32) != 0)
		return -100;
	return rc;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(1 << 22);
	*len = fread(buf, 1, (1 << 22) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void spit(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	fwrite(buf, 1, len, f);
	fclose(f);
}

static int verify(void)
{
	char why[256];
	uint64_t n;
	struct mg_keys *k = open_keys(0);
	int rc = mg_keys_audit_verify(k, &n, why, sizeof(why));
	mg_keys_close(k);
	printf("  audit verify: %s\n", why);
	return rc;
}

/* What an attacker with write access to the files but no token would do after an edit:
 * recompute every link and the head with a plain (unkeyed) SHA-256 chain. */
static void rechain_unkeyed(const char *log_path, const char *head_path)
{
	size_t len;
	char *text = slurp(log_path, &len);
	FILE *out = fopen(log_path, "w");
	char prev[65],
	    hash[65] = "0000000000000000000000000000000000000000000000000000000000000000";
	unsigned long long seq = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *p = strstr(line, " prev=");
		if (!p)
			continue;
		memcpy(prev, hash, sizeof(prev));
		memcpy(p + 6, prev, 64);
		p[6 + 64] = '\0';
		uint8_t digest[32];
		SHA256((const uint8_t *)line, strlen(line), digest);
		for (int i = 0; i < 32; i++)
			sprintf(hash + 2 * i, "%02x", digest[i]);
		fprintf(out, "%s hash=%s\n", line, hash);
		seq++;
	}
	fclose(out);
	out = fopen(head_path, "w");
	fprintf(out, "%llu %s\n", seq, hash);
	fclose(out);
	free(text);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_keys SOFTHSM_SETUP_SCRIPT\n");
		return 2;
	}
	char tmp[] = "/tmp/mg-keys-test.XXXXXX";
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

	struct mg_keys *k = open_keys(0);
	char kid[MG_KEYS_ID_MAX], kid_b[MG_KEYS_ID_MAX];
	EXPECT(mg_keys_create(k, "admin", "111122223333", "inst-a", 0, kid), MG_KEYS_OK);
	EXPECT(mg_keys_create(k, "admin", "111122223333", "inst-a", 0, kid), MG_KEYS_ERR_EXISTS);
	EXPECT(mg_keys_create(k, "admin", "111122223333", "inst-x", 89, kid_b), MG_KEYS_ERR_ARG);
	EXPECT(mg_keys_create(k, "admin", "111122223333", "inst-x", 2561, kid_b), MG_KEYS_ERR_ARG);
	EXPECT(mg_keys_create(k, "admin-b", "999900001111", "inst-b", 90, kid_b), MG_KEYS_OK);
	struct mg_keys_info *info = calloc(1, sizeof(*info));
	EXPECT(mg_keys_describe(k, kid, info), MG_KEYS_OK);
	CHECK(info->rotation_days == 365 && info->version_count == 1 &&
		  info->state == MG_KEYS_STATE_ENABLED,
	      "new key: default rotation 365 days, version 1, enabled");
	printf("create: ok (default rotation 365, range 90..2560 enforced)\n");

	/* Data keys and versions. */
	struct mg_envelope_context c1 = ctx_for("inst-a", "contact-1");
	struct mg_envelope_data_key dk1, dk2, dk3;
	EXPECT(mg_keys_generate_data_key(k, "admin", &c1, &dk1), MG_KEYS_OK);
	CHECK(c1.key_version == 1, "first data key under version 1");
	EXPECT(decrypt(k, "admin", &c1, &dk1), MG_KEYS_OK);
	struct mg_envelope_context edited = c1;
	edited.object_path = "p/other.wav.mgenc";
	EXPECT(decrypt(k, "admin", &edited, &dk1), MG_KEYS_ERR_UNWRAP);
	EXPECT(mg_keys_rotate(k, "admin", kid), MG_KEYS_OK);
	struct mg_envelope_context c2 = ctx_for("inst-a", "contact-2");
	EXPECT(mg_keys_generate_data_key(k, "admin", &c2, &dk2), MG_KEYS_OK);
	CHECK(c2.key_version == 2, "after manual rotation: version 2 (got %u)", c2.key_version);
	EXPECT(decrypt(k, "admin", &c1, &dk1), MG_KEYS_OK);
	EXPECT(decrypt(k, "admin", &c2, &dk2), MG_KEYS_OK);
	struct mg_envelope_context wrong_version = c1;
	wrong_version.key_version = 2;
	EXPECT(decrypt(k, "admin", &wrong_version, &dk1), MG_KEYS_ERR_UNWRAP);
	/* Automatic rotation when the period has passed. */
	fake_now += 364 * 86400;
	struct mg_envelope_context c3 = ctx_for("inst-a", "contact-3");
	EXPECT(mg_keys_generate_data_key(k, "admin", &c3, &dk3), MG_KEYS_OK);
	CHECK(c3.key_version == 2, "364 days: still version 2");
	fake_now += 2 * 86400;
	EXPECT(mg_keys_generate_data_key(k, "admin", &c3, &dk3), MG_KEYS_OK);
	CHECK(c3.key_version == 3, "366 days: automatic rotation to version 3 (got %u)",
	      c3.key_version);
	EXPECT(mg_keys_set_rotation(k, "admin", kid, 89), MG_KEYS_ERR_ARG);
	EXPECT(mg_keys_set_rotation(k, "admin", kid, 2560), MG_KEYS_OK);
	EXPECT(decrypt(k, "admin", &c1, &dk1), MG_KEYS_OK);
	printf("rotation: manual and automatic; old versions still decrypt: ok\n");

	/* Disable / enable. */
	EXPECT(mg_keys_disable(k, "other", kid), MG_KEYS_ERR_DENIED);
	EXPECT(mg_keys_disable(k, "admin", kid), MG_KEYS_OK);
	EXPECT(decrypt(k, "admin", &c1, &dk1), MG_KEYS_ERR_DISABLED);
	EXPECT(mg_keys_generate_data_key(k, "admin", &c3, &dk3), MG_KEYS_ERR_DISABLED);
	/* The token itself refuses too: flip the metadata back to enabled behind our back. */
	char meta[800];
	snprintf(meta, sizeof(meta), "%s/keys/%s.meta", state_dir, kid);
	size_t len;
	char *text = slurp(meta, &len);
	char *at = strstr(text, "state disabled");
	CHECK(at != NULL, "metadata records the state");
	if (at) {
		char *patched = malloc(len + 8);
		size_t pre = (size_t)(at - text);
		memcpy(patched, text, pre);
		strcpy(patched + pre, "state enabled");
		strcpy(patched + pre + 13, at + 14);
		spit(meta, patched, strlen(patched));
		int rc = decrypt(k, "admin", &c1, &dk1);
		CHECK(rc != MG_KEYS_OK,
		      "token refuses a disabled key even with edited metadata: %s",
		      mg_keys_strerror(rc));
		spit(meta, text, len);
		free(patched);
	}
	free(text);
	EXPECT(mg_keys_enable(k, "admin", kid), MG_KEYS_OK);
	EXPECT(decrypt(k, "admin", &c1, &dk1), MG_KEYS_OK);
	printf("disable makes recordings unreadable (metadata and token), enable restores: ok\n");

	/* Schedule deletion, cancel, then let a deletion happen. */
	EXPECT(mg_keys_schedule_deletion(k, "admin", kid, 6), MG_KEYS_ERR_ARG);
	EXPECT(mg_keys_schedule_deletion(k, "admin", kid, 7), MG_KEYS_OK);
	EXPECT(decrypt(k, "admin", &c1, &dk1), MG_KEYS_ERR_PENDING_DELETION);
	EXPECT(mg_keys_enable(k, "admin", kid), MG_KEYS_ERR_PENDING_DELETION);
	EXPECT(mg_keys_cancel_deletion(k, "admin", kid), MG_KEYS_OK);
	EXPECT(decrypt(k, "admin", &c1, &dk1), MG_KEYS_ERR_DISABLED);
	EXPECT(mg_keys_enable(k, "admin", kid), MG_KEYS_OK);
	EXPECT(decrypt(k, "admin", &c1, &dk1), MG_KEYS_OK);
	printf("schedule-deletion blocks, cancel + enable restores: ok\n");

	/* Grants with context constraints, revoke. */
	char grant[MG_KEYS_NAME_MAX], grant2[MG_KEYS_NAME_MAX];
	EXPECT(decrypt(k, "agent-7", &c1, &dk1), MG_KEYS_ERR_DENIED);
	EXPECT(mg_keys_grant(k, "agent-7", kid, "agent-7", MG_KEYS_OP_DECRYPT, "", grant),
	       MG_KEYS_ERR_DENIED);
	EXPECT(mg_keys_grant(k, "admin", kid, "agent-7", MG_KEYS_OP_DECRYPT,
			     "instance=inst-a,contact_id=contact-1", grant),
	       MG_KEYS_OK);
	EXPECT(decrypt(k, "agent-7", &c1, &dk1), MG_KEYS_OK);
	EXPECT(decrypt(k, "agent-7", &c2, &dk2), MG_KEYS_ERR_DENIED);
	struct mg_envelope_data_key dk_agent;
	struct mg_envelope_context c_agent = ctx_for("inst-a", "contact-1");
	EXPECT(mg_keys_generate_data_key(k, "agent-7", &c_agent, &dk_agent), MG_KEYS_ERR_DENIED);
	EXPECT(mg_keys_grant(k, "admin", kid, "auditor", MG_KEYS_OP_DECRYPT, "contact_id=contact-*",
			     grant2),
	       MG_KEYS_OK);
	EXPECT(decrypt(k, "auditor", &c2, &dk2), MG_KEYS_OK);
	EXPECT(mg_keys_revoke(k, "admin", kid, grant), MG_KEYS_OK);
	EXPECT(decrypt(k, "agent-7", &c1, &dk1), MG_KEYS_ERR_DENIED);
	EXPECT(mg_keys_revoke(k, "admin", kid, grant), MG_KEYS_ERR_NOT_FOUND);
	EXPECT(decrypt(k, "auditor", &c2, &dk2), MG_KEYS_OK);
	printf("grants: operation + context constraint enforced, revoke stops access: ok\n");

	/* Cross-instance: instance B's key and principals never open instance A's data. */
	struct mg_envelope_context cross = c1;
	cross.key_id = kid_b;
	EXPECT(decrypt(k, "admin-b", &cross, &dk1), MG_KEYS_ERR_DENIED); /* ctx names inst-a */
	cross.instance = "inst-b";
	EXPECT(decrypt(k, "admin-b", &cross, &dk1), MG_KEYS_ERR_UNWRAP);
	EXPECT(decrypt(k, "admin-b", &c1, &dk1), MG_KEYS_ERR_DENIED);
	char ha[MG_KEYS_ANI_HASH_HEX], hb[MG_KEYS_ANI_HASH_HEX], ha2[MG_KEYS_ANI_HASH_HEX];
	EXPECT(mg_keys_ani_hash(k, "admin", "inst-a", "+15551230000", ha), MG_KEYS_OK);
	EXPECT(mg_keys_ani_hash(k, "admin", "inst-a", "+15551230000", ha2), MG_KEYS_OK);
	EXPECT(mg_keys_ani_hash(k, "admin-b", "inst-b", "+15551230000", hb), MG_KEYS_OK);
	CHECK(strcmp(ha, ha2) == 0 && strcmp(ha, hb) != 0, "ANI hash stable per instance, "
							   "different across instances");
	EXPECT(mg_keys_ani_hash(k, "admin-b", "inst-a", "+15551230000", hb), MG_KEYS_ERR_DENIED);
	char *sealed = NULL, *opened = NULL;
	EXPECT(mg_keys_pii_seal(k, "admin", "inst-a", "ani", "+15551230000", &sealed), MG_KEYS_OK);
	CHECK(sealed && !strstr(sealed, "5551230000"), "sealed PII hides the number");
	EXPECT(mg_keys_pii_open(k, "admin", "inst-a", "ani", sealed, &opened), MG_KEYS_OK);
	CHECK(opened && strcmp(opened, "+15551230000") == 0, "PII round trip");
	free(opened);
	opened = NULL;
	EXPECT(mg_keys_pii_open(k, "admin", "inst-a", "dnis", sealed, &opened), MG_KEYS_ERR_UNWRAP);
	EXPECT(mg_keys_pii_open(k, "admin-b", "inst-b", "ani", sealed, &opened),
	       MG_KEYS_ERR_UNWRAP);
	free(sealed);
	printf("cross-instance: keys, grants, ANI hashes, PII all refused across instances: ok\n");

	/* Bucket keys: one token call per period instead of one per recording. */
	mg_keys_close(k);
	k = open_keys(0);
	uint64_t before = mg_keys_token_calls(k);
	static struct mg_envelope_data_key many[100];
	static struct mg_envelope_context many_ctx[100];
	for (int i = 0; i < 100; i++) {
		many_ctx[i] = ctx_for("inst-a", "contact-bulk");
		EXPECT(mg_keys_generate_data_key(k, "admin", &many_ctx[i], &many[i]), MG_KEYS_OK);
	}
	uint64_t direct = mg_keys_token_calls(k) - before;
	mg_keys_close(k);
	k = open_keys(3600);
	before = mg_keys_token_calls(k);
	for (int i = 0; i < 100; i++) {
		many_ctx[i] = ctx_for("inst-a", "contact-bulk");
		EXPECT(mg_keys_generate_data_key(k, "admin", &many_ctx[i], &many[i]), MG_KEYS_OK);
	}
	uint64_t bucketed = mg_keys_token_calls(k) - before;
	CHECK(direct == 100 && bucketed == 1,
	      "token calls for 100 data keys: %llu direct, %llu "
	      "with bucket key",
	      (unsigned long long)direct, (unsigned long long)bucketed);
	mg_keys_close(k);
	k = open_keys(3600);
	for (int i = 0; i < 100; i++)
		EXPECT(decrypt(k, "admin", &many_ctx[i], &many[i]), MG_KEYS_OK);
	CHECK(mg_keys_token_calls(k) == 1,
	      "decrypting 100 bucket-key recordings: %llu token call(s)",
	      (unsigned long long)mg_keys_token_calls(k));
	EXPECT(mg_keys_disable(k, "admin", kid), MG_KEYS_OK);
	EXPECT(decrypt(k, "admin", &many_ctx[0], &many[0]), MG_KEYS_ERR_DISABLED);
	EXPECT(mg_keys_enable(k, "admin", kid), MG_KEYS_OK);
	printf("bucket key: 100 recordings -> %llu token calls (direct: %llu); disable still "
	       "blocks cached bucket keys: ok\n",
	       (unsigned long long)bucketed, (unsigned long long)direct);

	/* Deletion after the waiting period: permanent. */
	EXPECT(mg_keys_schedule_deletion(k, "admin-b", kid_b, 7), MG_KEYS_OK);
	struct mg_envelope_context cb = ctx_for("inst-b", "contact-b");
	struct mg_envelope_data_key dkb;
	fake_now += 8 * 86400;
	EXPECT(mg_keys_generate_data_key(k, "admin-b", &cb, &dkb), MG_KEYS_ERR_DELETED);
	EXPECT(mg_keys_cancel_deletion(k, "admin-b", kid_b), MG_KEYS_ERR_DELETED);
	printf("deletion after the waiting period is permanent: ok\n");
	mg_keys_close(k);

	/* Audit: no secrets, chain verifies, tampering detected. */
	char log[700];
	snprintf(log, sizeof(log), "%s/audit.log", state_dir);
	char *audit = slurp(log, &len);
	char hex[65];
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", dk1.key[i]);
	CHECK(audit && !strstr(audit, hex) && !strstr(audit, "4321 ") &&
		  !strstr(audit, "5551230000"),
	      "audit log holds no data key, PIN or caller number");
	CHECK(audit && strstr(audit, "principal=agent-7 op=key.decrypt") &&
		  strstr(audit, "result=denied:"),
	      "denied accesses are audited");
	EXPECT(verify(), MG_KEYS_OK);
	/* Edit one character in the middle. */
	char *mid = strstr(audit + len / 2, "principal=");
	char original = mid[10];
	mid[10] = original == 'x' ? 'y' : 'x';
	spit(log, audit, len);
	EXPECT(verify(), MG_KEYS_ERR_CORRUPT);
	mid[10] = original;
	/* Remove one line from the middle. */
	char *line_start = strchr(audit + len / 2, '\n') + 1;
	char *line_end = strchr(line_start, '\n') + 1;
	char *removed = malloc(len);
	size_t pre = (size_t)(line_start - audit);
	memcpy(removed, audit, pre);
	memcpy(removed + pre, line_end, len - (size_t)(line_end - audit));
	spit(log, removed, len - (size_t)(line_end - line_start));
	EXPECT(verify(), MG_KEYS_ERR_CORRUPT);
	/* Swap two adjacent lines. */
	char *line2_end = strchr(line_end, '\n') + 1;
	memcpy(removed, audit, pre);
	memcpy(removed + pre, line_end, (size_t)(line2_end - line_end));
	memcpy(removed + pre + (line2_end - line_end), line_start, (size_t)(line_end - line_start));
	memcpy(removed + (line2_end - audit), line2_end, len - (size_t)(line2_end - audit));
	spit(log, removed, len);
	EXPECT(verify(), MG_KEYS_ERR_CORRUPT);
	/* Cut the last entry. */
	audit[len - 1] = '\0';
	char *last = strrchr(audit, '\n') + 1;
	audit[len - 1] = '\n';
	spit(log, audit, (size_t)(last - audit));
	EXPECT(verify(), MG_KEYS_ERR_CORRUPT);
	spit(log, audit, len);
	EXPECT(verify(), MG_KEYS_OK);
	/* Edit, then recompute the whole chain and head without the token's key. */
	char head[700], *head_text;
	size_t head_len;
	snprintf(head, sizeof(head), "%s/audit.head", state_dir);
	head_text = slurp(head, &head_len);
	mid[10] = original == 'x' ? 'y' : 'x';
	spit(log, audit, len);
	rechain_unkeyed(log, head);
	EXPECT(verify(), MG_KEYS_ERR_CORRUPT);
	mid[10] = original;
	spit(log, audit, len);
	spit(head, head_text, head_len);
	free(head_text);
	EXPECT(verify(), MG_KEYS_OK);
	printf("audit: chain verifies; edit, removal, reordering, cut tail and an edit with the "
	       "chain recomputed without the token's key detected: ok\n");
	free(removed);
	free(audit);
	free(info);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	if (system(cmd) != 0)
		printf("note: could not remove %s\n", tmp);
	printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
