/* lib/store's spool totals (spool_bytes, spool_files) are running counts, not a directory
 * scan per begin. After every step (begin, sink, commit, discard, a commit that replaces an
 * orphan, delivery to a real S3 server, reopen) they must equal what an independent scan of
 * the spool directory finds. Run by spool_count.sh, which starts s3rver and passes its
 * endpoint in MG_TEST_S3_ENDPOINT. */
#include "store.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check_msg.h"

static char spool[600], index_dir[600];

/* What lib/store counts, found without it: bytes of *.mgenc and *.part, number of *.mgenc. */
static void disk_totals(uint64_t *bytes, uint64_t *files)
{
	*bytes = *files = 0;
	DIR *d = opendir(spool);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		bool sealed = n > 6 && strcmp(e->d_name + n - 6, ".mgenc") == 0;
		bool part = n > 5 && strcmp(e->d_name + n - 5, ".part") == 0;
		if (!sealed && !part)
			continue;
		char path[1400];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", spool, e->d_name);
		if (stat(path, &st) == 0) {
			*bytes += (uint64_t)st.st_size;
			*files += sealed;
		}
	}
	closedir(d);
}

static void check_totals(struct mg_store *s, const char *step, uint64_t want_files)
{
	uint64_t bytes, files;
	disk_totals(&bytes, &files);
	struct mg_store_stats st;
	mg_store_get_stats(s, &st);
	CHECK(st.spool_bytes == bytes && st.spool_files == files && files == want_files,
	      "%s: store says %llu bytes / %llu files, directory has %llu / %llu (want %llu files)",
	      step, (unsigned long long)st.spool_bytes, (unsigned long long)st.spool_files,
	      (unsigned long long)bytes, (unsigned long long)files, (unsigned long long)want_files);
	printf("%-44s %8llu bytes %3llu files: ok\n", step, (unsigned long long)bytes,
	       (unsigned long long)files);
}

static struct mg_store_spool_file *begin(struct mg_store *s, const char *contact, time_t started)
{
	struct mg_store_record r = {0};
	snprintf(r.account, sizeof(r.account), "111122223333");
	snprintf(r.instance, sizeof(r.instance), "inst-a");
	snprintf(r.alias, sizeof(r.alias), "acme");
	snprintf(r.contact_id, sizeof(r.contact_id), "%s", contact);
	snprintf(r.key_id, sizeof(r.key_id), "mgk-inst-a");
	r.started = started;
	mg_store_object_key("count", "acme", contact, started, r.object_key, sizeof(r.object_key));
	struct mg_store_spool_file *f = NULL;
	int rc = mg_store_spool_begin(s, &r, &f);
	CHECK(rc == MG_STORE_OK, "begin %s: %s", contact, mg_store_strerror(rc));
	return f;
}

static void sink(struct mg_store_spool_file *f, size_t bytes, char fill)
{
	char buf[4096];
	memset(buf, fill, sizeof(buf));
	while (bytes) {
		size_t n = bytes < sizeof(buf) ? bytes : sizeof(buf);
		CHECK(mg_store_spool_sink(f, buf, n) == 0, "sink");
		bytes -= n;
	}
}

static struct mg_store *open_store(uint64_t max, const char *endpoint)
{
	struct mg_store_config cfg = {.spool_dir = spool,
				      .index_dir = index_dir,
				      .max_spool_bytes = max,
				      .endpoint = endpoint,
				      .bucket = "recordings",
				      .access_key = "S3RVER",
				      .secret_key = "S3RVER",
				      .backoff_initial_ms = 10};
	struct mg_store *s = NULL;
	CHECK(mg_store_open(&s, &cfg) == MG_STORE_OK, "open");
	if (!s)
		exit(1);
	return s;
}

struct salvage {
	struct mg_store *store;
	int found;
};

/* Copies the orphan's bytes into the salvage file and commits it (as mediagate-rec recover
 * does after re-sealing). */
static int on_orphan(void *arg, const struct mg_store_record *r, const char *part_path)
{
	struct salvage *sv = arg;
	sv->found++;
	struct mg_store_spool_file *f;
	CHECK(mg_store_spool_begin_recovery(sv->store, r, &f) == MG_STORE_OK, "begin recovery");
	FILE *in = fopen(part_path, "rb");
	char buf[4096];
	size_t n;
	while (in && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		mg_store_spool_sink(f, buf, n);
	if (in)
		fclose(in);
	sink(f, 100, 'r'); /* the salvaged copy differs in size from the orphan */
	CHECK(mg_store_spool_commit(f, true) == MG_STORE_OK, "recovery commit");
	return 0;
}

int main(void)
{
	const char *endpoint = getenv("MG_TEST_S3_ENDPOINT");
	if (!endpoint || !*endpoint) {
		fprintf(stderr, "MG_TEST_S3_ENDPOINT not set: run through spool_count.sh\n");
		return 1;
	}
	char tmp[] = "/tmp/mg-spool-count.XXXXXX";
	if (!mkdtemp(tmp))
		return 2;
	snprintf(spool, sizeof(spool), "%s/spool", tmp);
	snprintf(index_dir, sizeof(index_dir), "%s/index", tmp);
	struct mg_store *s = open_store(1u << 30, endpoint);
	check_totals(s, "open, empty spool", 0);

	struct mg_store_spool_file *a = begin(s, "c-a", 1795000001);
	struct mg_store_spool_file *b = begin(s, "c-b", 1795000002);
	check_totals(s, "two begins", 0);
	sink(a, 10000, 'a');
	sink(b, 3333, 'b');
	check_totals(s, "two writers, 13333 bytes in .part files", 0);
	CHECK(mg_store_spool_commit(a, false) == MG_STORE_OK, "commit a");
	check_totals(s, "commit a", 1);
	mg_store_spool_discard(b);
	check_totals(s, "discard (abort) b", 1);
	struct mg_store_spool_file *c = begin(s, "c-c", 1795000003);
	sink(c, 5001, 'c');
	CHECK(mg_store_spool_commit(c, true) == MG_STORE_OK, "commit c");
	struct mg_store_spool_file *d = begin(s, "c-d", 1795000004);
	sink(d, 777, 'd');
	CHECK(mg_store_spool_commit(d, false) == MG_STORE_OK, "commit d");
	check_totals(s, "commit c (partial) and d", 3);

	/* A writer in another process dies mid-recording: this store does not see its .part
	 * until it rescans (reopen), then recovery replaces the orphan with a salvaged copy. */
	pid_t pid = fork();
	if (pid == 0) {
		struct mg_store *child = open_store(1u << 30, endpoint);
		struct mg_store_spool_file *e = begin(child, "c-e", 1795000005);
		sink(e, 2500, 'e');
		_exit(0); /* no commit: like kill -9 */
	}
	int status;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child writer");
	mg_store_close(s);
	s = open_store(1u << 30, endpoint);
	check_totals(s, "reopen after a writer died (orphan .part)", 3);
	struct salvage sv = {.store = s};
	mg_store_spool_orphans(s, on_orphan, &sv);
	CHECK(sv.found == 1, "one orphan, found %d", sv.found);
	check_totals(s, "recovery commit replaced the orphan", 4);

	/* Delivery to s3rver: each delivered file leaves the totals. */
	long left = mg_store_deliver_pass(s);
	CHECK(left == 0, "deliver pass: %ld left (%s)", left,
	      left < 0 ? mg_store_strerror((int)left) : "");
	check_totals(s, "delivered everything", 0);
	struct mg_store_spool_file *g = begin(s, "c-g", 1795000007);
	sink(g, 4096, 'g');
	CHECK(mg_store_spool_commit(g, false) == MG_STORE_OK, "commit g");
	struct mg_store_spool_file *h = begin(s, "c-h", 1795000008);
	sink(h, 1234, 'h');
	check_totals(s, "after delivery: one sealed, one writing", 1);
	mg_store_spool_discard(h);
	struct mg_store_stats before;
	mg_store_get_stats(s, &before);
	mg_store_close(s);

	/* Restart: the scan at open finds exactly what the running totals said. */
	s = open_store(1u << 30, endpoint);
	struct mg_store_stats after;
	mg_store_get_stats(s, &after);
	CHECK(after.spool_bytes == before.spool_bytes && after.spool_files == before.spool_files,
	      "reopen: %llu/%llu bytes, %llu/%llu files", (unsigned long long)after.spool_bytes,
	      (unsigned long long)before.spool_bytes, (unsigned long long)after.spool_files,
	      (unsigned long long)before.spool_files);
	check_totals(s, "reopen (restart)", 1);
	mg_store_close(s);

	/* Bound: a store whose count says full looks at the directory before refusing, so room
	 * freed by another process (here: the file removed by hand) is used. */
	s = open_store(4096, endpoint);
	struct mg_store_stats st;
	mg_store_get_stats(s, &st);
	CHECK(st.spool_full_alarm, "4096 bytes spooled against a bound of 4096: alarm");
	struct mg_store_spool_file *k = NULL;
	struct mg_store_record rk = {0};
	snprintf(rk.instance, sizeof(rk.instance), "inst-a");
	snprintf(rk.contact_id, sizeof(rk.contact_id), "c-k");
	snprintf(rk.object_key, sizeof(rk.object_key), "k");
	rk.started = 1795000009;
	CHECK(mg_store_spool_begin(s, &rk, &k) == MG_STORE_ERR_FULL, "full spool refuses");
	char cmd[1500];
	snprintf(cmd, sizeof(cmd), "rm -f %s/c-g_*.mgenc", spool);
	CHECK(system(cmd) == 0, "remove by hand");
	sleep(1); /* the rescan while full runs at most once a second */
	rk.started++;
	int rc = mg_store_spool_begin(s, &rk, &k);
	CHECK(rc == MG_STORE_OK, "after another process freed the spool: %s",
	      mg_store_strerror(rc));
	check_totals(s, "full: rescanned, room found", 0);
	if (k)
		mg_store_spool_discard(k);
	mg_store_close(s);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	if (system(cmd) != 0)
		printf("note: %s left behind\n", tmp);
	printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
