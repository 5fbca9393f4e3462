/* lib/state against a real redis-server (started and killed by this test in a private
 * directory): coalescing, deletes, writes queued while Redis is down and written when it
 * is back, acknowledged writes surviving a Redis SIGKILL (appendfsync always), the
 * pending bound, and loading everything back. */
#include "state.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"

static char dir[] = "/tmp/mg-state-test-XXXXXX";
static int port;
static pid_t redis_pid;

static void start_redis(void)
{
	char portstr[16];
	snprintf(portstr, sizeof(portstr), "%d", port);
	fflush(stdout);
	redis_pid = fork();
	if (redis_pid == 0) {
		freopen("/dev/null", "w", stdout);
		execlp("redis-server", "redis-server", "--bind", "127.0.0.1", "--port", portstr,
		       "--dir", dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always",
		       "--daemonize", "no", (char *)NULL);
		_exit(127);
	}
	/* wait until it accepts connections */
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "redis-cli -p %d ping >/dev/null 2>&1", port);
	for (int i = 0; i < 100 && system(cmd) != 0; i++)
		usleep(50000);
}

static void kill_redis(void)
{
	kill(redis_pid, SIGKILL);
	waitpid(redis_pid, NULL, 0);
}

struct seen {
	int count, wrong;
	int deleted_present;
};

static int check_value(void *arg, const char *key, const void *val, size_t len)
{
	struct seen *s = arg;
	char want[64];
	int i;
	s->count++;
	if (sscanf(key, "call:%d", &i) == 1) {
		if (i % 50 == 0)
			s->deleted_present++;
		snprintf(want, sizeof(want), "value-%d-v3", i);
	} else if (sscanf(key, "late:%d", &i) == 1) {
		snprintf(want, sizeof(want), "late-%d", i);
	} else {
		s->wrong++;
		return 0;
	}
	if (len != strlen(want) || memcmp(val, want, len))
		s->wrong++;
	return 0;
}

int main(void)
{
	if (system("command -v redis-server >/dev/null") != 0) {
		printf("redis-server not installed (scripts/deps.sh installs it)\n");
		return 1;
	}
	if (!mkdtemp(dir))
		return 1;
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	port = 30000 + rand() % 20000;
	start_redis();

	struct mg_state_config cfg;
	mg_state_config_defaults(&cfg);
	cfg.port = (uint16_t)port;
	snprintf(cfg.prefix, sizeof(cfg.prefix), "mg:test-%d:", getpid());
	cfg.reconnect_ms = 50;
	struct mg_state *s = mg_state_open(&cfg);
	CHECK(s != NULL);

	/* 5000 keys written three times each, every 50th deleted: coalescing + deletes */
	char key[64], val[64];
	for (int v = 1; v <= 3; v++)
		for (int i = 0; i < 5000; i++) {
			snprintf(key, sizeof(key), "call:%d", i);
			snprintf(val, sizeof(val), "value-%d-v%d", i, v);
			CHECK_EQ_INT(mg_state_put(s, key, val, strlen(val)), 0);
		}
	for (int i = 0; i < 5000; i += 50) {
		snprintf(key, sizeof(key), "call:%d", i);
		CHECK_EQ_INT(mg_state_del(s, key), 0);
	}
	CHECK_EQ_INT(mg_state_flush(s, 20000), 0);
	struct mg_state_stats st;
	mg_state_get_stats(s, &st);
	printf("puts %llu dels %llu coalesced %llu written %llu round trips %llu\n",
	       (unsigned long long)st.puts, (unsigned long long)st.dels,
	       (unsigned long long)st.coalesced, (unsigned long long)st.written,
	       (unsigned long long)st.round_trips);
	CHECK_EQ_INT(st.puts, 15000);
	CHECK_EQ_INT(st.dels, 100);
	CHECK(st.written < st.puts + st.dels); /* some values never reached Redis: replaced */
	CHECK_EQ_INT(st.pending, 0);
	CHECK(st.connected);

	char err[256];
	struct seen seen = {0};
	long n = mg_state_load(&cfg, check_value, &seen, err, sizeof(err));
	CHECK_EQ_INT(n, 4900);
	CHECK_EQ_INT(seen.wrong, 0);
	CHECK_EQ_INT(seen.deleted_present, 0);

	/* Redis killed: writes are accepted and wait; acknowledged ones survive (AOF) */
	kill_redis();
	for (int i = 0; i < 2000; i++) {
		snprintf(key, sizeof(key), "late:%d", i);
		snprintf(val, sizeof(val), "late-%d", i);
		CHECK_EQ_INT(mg_state_put(s, key, val, strlen(val)), 0);
	}
	usleep(300000);
	mg_state_get_stats(s, &st);
	CHECK(!st.connected);
	CHECK(st.pending > 0);
	CHECK_EQ_INT(mg_state_flush(s, 200), -1); /* cannot flush without Redis */
	start_redis();
	CHECK_EQ_INT(mg_state_flush(s, 20000), 0);
	mg_state_get_stats(s, &st);
	CHECK(st.reconnects >= 2);
	memset(&seen, 0, sizeof(seen));
	n = mg_state_load(&cfg, check_value, &seen, err, sizeof(err));
	CHECK_EQ_INT(n, 6900);
	CHECK_EQ_INT(seen.wrong, 0);

	/* the pending table is bounded: with Redis unreachable, the 101st key is refused */
	struct mg_state_config dead = cfg;
	dead.port = (uint16_t)(port == 65535 ? 1 : port + 1);
	dead.max_pending = 100;
	struct mg_state *d = mg_state_open(&dead);
	for (int i = 0; i < 150; i++) {
		snprintf(key, sizeof(key), "x:%d", i);
		int rc = mg_state_put(d, key, "v", 1);
		CHECK_EQ_INT(rc, i < 100 ? 0 : -1);
	}
	CHECK_EQ_INT(mg_state_put(d, "x:5", "newer", 5), 0); /* an existing key still updates */
	mg_state_get_stats(d, &st);
	CHECK_EQ_INT(st.refused_full, 50);
	CHECK_EQ_INT(st.pending, 100);
	mg_state_close(d);
	CHECK_EQ_INT(mg_state_load(&dead, check_value, &seen, err, sizeof(err)), -1);
	CHECK(strstr(err, "redis") != NULL);

	mg_state_close(s);
	kill_redis();
	char rm[128];
	snprintf(rm, sizeof(rm), "rm -rf %s", dir);
	system(rm);
	return CHECK_DONE();
}
