/* mediagate: parse the profile, start EAL, assign lcore roles, run.
 *
 *   mediagate --profile NAME|PATH [--set section.key=value]... [--duration SECONDS]
 *
 * The main lcore is the control lcore: ng socket, slow path, timers. Workers run the
 * poll-mode loop (lib/dataplane). */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_telemetry.h>

#include "log.h"
#include "dataplane.h"
#include "keys.h"
#include "mg_version.h"
#include "ng.h"
#include "profile.h"
#include "recorder.h"
#include "state_keys.h"
#include "dtls_identity.h"
#include "session.h"
#include "state.h"
#include "telemetry.h"

#define MAX_EAL_ARGS 64

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mediagate --profile NAME|PATH [--set section.key=value]... "
		"[--duration SECONDS]\n"
		"  profiles are looked up in $MG_PROFILE_PATH and %s\n",
		MG_PROFILE_DIR);
}

#define logmsg(...) mg_log(NULL, __VA_ARGS__)

static void profile_fail(const char *what, const struct mg_profile_error *e)
{
	if (e->line)
		logmsg("%s: line %d: %s: %s", what, e->line, e->field, e->reason);
	else
		logmsg("%s: %s: %s", what, e->field, e->reason);
}

/* EAL argv: the profile's arguments plus the lcore list from the roles. */
static int build_eal_args(const struct mg_profile *p, char *storage, size_t cap, char **argv)
{
	int argc = 0;
	argv[argc++] = "mediagate";
	snprintf(storage, cap, "%s", p->eal_args);
	bool has_lcores =
	    strstr(storage, "-l ") || strstr(storage, "--lcores") || strstr(storage, "-c ");
	for (char *save = NULL, *t = strtok_r(storage, " \t", &save); t && argc < MAX_EAL_ARGS - 6;
	     t = strtok_r(NULL, " \t", &save))
		argv[argc++] = t;
	static char lcores[256], main_lcore[16], prefix[80];
	if (p->file_prefix[0] && !strstr(p->eal_args, "--file-prefix")) {
		snprintf(prefix, sizeof(prefix), "--file-prefix=%s", p->file_prefix);
		argv[argc++] = prefix;
	}
	if (!has_lcores) {
		int n = snprintf(lcores, sizeof(lcores), "%u", p->control_lcore);
		for (unsigned i = 0; i < p->n_workers; i++)
			n += snprintf(lcores + n, sizeof(lcores) - (size_t)n, ",%u",
				      p->worker_lcores[i]);
		if (p->ship_lcore >= 0)
			snprintf(lcores + n, sizeof(lcores) - (size_t)n, ",%d", p->ship_lcore);
		argv[argc++] = "-l";
		argv[argc++] = lcores;
	}
	snprintf(main_lcore, sizeof(main_lcore), "%u", p->control_lcore);
	argv[argc++] = "--main-lcore";
	argv[argc++] = main_lcore;
	argv[argc] = NULL;
	return argc;
}

/* R5: the telemetry socket is for root and, if configured, one group. */
static void restrict_telemetry_socket(const struct mg_profile *p)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/dpdk_telemetry.v2", rte_eal_get_runtime_dir());
	gid_t gid = (gid_t)-1;
	if (p->telemetry_group[0]) {
		struct group *g = getgrnam(p->telemetry_group);
		if (g)
			gid = g->gr_gid;
		else
			logmsg("control.telemetry_group: no group '%s'; socket stays root-only",
			       p->telemetry_group);
	}
	if (chown(path, (uid_t)-1, gid) < 0 && gid != (gid_t)-1)
		logmsg("telemetry socket %s: chown failed (%s)", path, strerror(errno));
	if (chmod(path, gid != (gid_t)-1 ? 0660 : 0600) < 0 && errno != ENOENT)
		logmsg("telemetry socket %s: chmod failed (%s)", path, strerror(errno));
}

/* Customer-managed keys ([keys] in the profile): opened once on the control thread.
 * A token that cannot be opened does not stop media: recording and sealed session
 * state are then unavailable, which is logged here and reported by their users. */
static struct mg_keys *open_keys(const struct mg_profile *p)
{
	if (!p->keys_state_dir[0])
		return NULL;
	char pin[256];
	FILE *f = fopen(p->keys_pin_file, "r");
	if (!f) {
		logmsg("keys: cannot read keys.pin_file %s (%s); keys off", p->keys_pin_file,
		       strerror(errno));
		return NULL;
	}
	size_t n = fread(pin, 1, sizeof(pin) - 1, f);
	fclose(f);
	while (n && (pin[n - 1] == '\n' || pin[n - 1] == '\r' || pin[n - 1] == ' '))
		n--;
	pin[n] = '\0';
	struct mg_keys_config cfg = {.state_dir = p->keys_state_dir,
				     .module_path = p->keys_module,
				     .token_label = p->keys_token,
				     .pin = pin,
				     .bucket_key_period = p->keys_bucket_key_period};
	struct mg_keys *keys = NULL;
	int rc = mg_keys_open(&keys, &cfg);
	explicit_bzero(pin, sizeof(pin));
	if (rc != MG_KEYS_OK) {
		logmsg("keys: cannot open token '%s' (module %s): %s; keys off", p->keys_token,
		       p->keys_module, mg_keys_strerror(rc));
		return NULL;
	}
	char key_id[MG_KEYS_ID_MAX];
	rc = mg_keys_key_for_instance(keys, p->keys_instance, key_id);
	if (rc == MG_KEYS_OK)
		logmsg("keys: token '%s' open, instance %s uses key %s", p->keys_token,
		       p->keys_instance, key_id);
	else
		logmsg("keys: token '%s' open, but instance %s has no key (%s)", p->keys_token,
		       p->keys_instance, mg_keys_strerror(rc));
	return keys;
}

static void log_line(const char *msg)
{
	logmsg("%s", msg);
}

int main(int argc, char **argv)
{
	const char *profile_arg = NULL;
	const char *sets[32];
	int n_sets = 0;
	double duration = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--profile") && i + 1 < argc) {
			profile_arg = argv[++i];
		} else if (!strcmp(argv[i], "--set") && i + 1 < argc && n_sets < 32) {
			sets[n_sets++] = argv[++i];
		} else if (!strcmp(argv[i], "--duration") && i + 1 < argc) {
			duration = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--version")) {
			printf("mediagate %s\n", MG_VERSION);
			return 0;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "mediagate: unknown argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (!profile_arg) {
		usage(stderr);
		return 2;
	}
	char search[1024];
	const char *env = getenv("MG_PROFILE_PATH");
	snprintf(search, sizeof(search), "%s%s%s", env ? env : "", env ? ":" : "", MG_PROFILE_DIR);
	static struct mg_profile profile;
	struct mg_profile_error perr;
	if (mg_profile_load(&profile, profile_arg, search, &perr) < 0) {
		profile_fail("bad profile", &perr);
		return 2;
	}
	for (int i = 0; i < n_sets; i++)
		if (mg_profile_set(&profile, sets[i], &perr) < 0) {
			profile_fail("bad --set", &perr);
			return 2;
		}
	if (mg_profile_validate(&profile, &perr) < 0) {
		profile_fail("bad profile", &perr);
		return 2;
	}

	static char eal_storage[2048];
	char *eal_argv[MAX_EAL_ARGS];
	int eal_argc = build_eal_args(&profile, eal_storage, sizeof(eal_storage), eal_argv);
	if (!profile.telemetry && eal_argc < MAX_EAL_ARGS - 1)
		eal_argv[eal_argc++] = "--no-telemetry";
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		logmsg("EAL initialisation failed (%s); eal.args: %s", rte_strerror(rte_errno),
		       profile.eal_args);
		return 1;
	}
	if (rte_lcore_id() != profile.control_lcore) {
		logmsg("the control lcore must be the main lcore");
		return 1;
	}
	char err[256];
	struct mg_dataplane *dp = mg_dp_create(&profile, err, sizeof(err));
	if (!dp) {
		logmsg("data plane: %s", err);
		rte_eal_cleanup();
		return 1;
	}
	struct mg_keys *keys = open_keys(&profile);
	struct mg_sessions *sessions = mg_sessions_create(dp, 0);
	struct mg_ng *ng = sessions ? mg_ng_create(sessions, &profile) : NULL;
	if (!ng || mg_ng_open(ng, err, sizeof(err)) < 0) {
		logmsg("control socket: %s", ng ? err : "out of memory");
		mg_dp_destroy(dp);
		rte_eal_cleanup();
		return 1;
	}
	/* Session state: restore what this appliance (and, for a takeover, the failed one)
	 * left in Redis before media starts, then keep it up to date. Redis being down
	 * only delays the writes. */
	struct mg_state *state = NULL;
	/* SRTP keys in the snapshots are sealed under the instance key, or left out */
	struct mg_keys_blob *state_keys =
	    mg_app_state_keys_connect(sessions, keys, &profile, log_line);
	/* the a=fingerprint of the last run (sealed in Redis), or this one stored */
	mg_app_dtls_identity(mg_ng_webrtc(ng), keys, &profile, log_line);
	if (profile.state_redis[0]) {
		struct mg_restore_report rep;
		state = mg_sessions_state_open(sessions, profile.state_redis, profile.state_prefix,
					       profile.state_takeover, &rep);
		if (!state) {
			logmsg("state: out of memory");
			return 1;
		}
		for (int k = 0; k < 2; k++) {
			if (!rep.prefix[k][0])
				continue;
			if (rep.restored[k] < 0)
				logmsg("state: cannot restore from %s (%s); starting empty",
				       rep.prefix[k], rep.error[k]);
			else
				logmsg("state: restored %ld session(s) from %s in %.1f ms%s%s",
				       rep.restored[k], rep.prefix[k], rep.ms[k],
				       rep.failed[k] ? "; not restored: " : "",
				       rep.failed[k] ? rep.error[k] : "");
			if (rep.without_keys[k] > 0)
				logmsg("state: %ld session(s) from %s restored WITHOUT their SRTP "
				       "keys (%s): their SRTP legs drop media (srtp_no_key) until "
				       "re-keyed",
				       rep.without_keys[k], rep.prefix[k], rep.keys_error[k]);
		}
		if (rep.links.conferences || rep.links.pairings || rep.links.failed)
			logmsg("state: %u conference(s) with %u part(ies) and %u relay pairing(s) "
			       "restored%s%s",
			       rep.links.conferences, rep.links.parties, rep.links.pairings,
			       rep.links.failed ? "; not restored: " : "",
			       rep.links.failed ? rep.links.error : "");
	}

	/* Recording ([recording]): rings per worker, ship on lcores.ship or, with ship = none,
	 * on this thread between its other work. */
	struct mg_recorder *recorder = NULL;
	if (profile.rec_enable) {
		/* Like the keys: recording that cannot start is reported, media still runs. */
		recorder = mg_recorder_create(&profile, keys, sessions, err, sizeof(err));
		if (recorder && mg_recorder_attach(recorder, dp) < 0)
			snprintf(err, sizeof(err), "cannot attach the worker rings");
		else if (recorder && profile.ship_lcore >= 0 &&
			 rte_eal_remote_launch(mg_recorder_ship_main, recorder,
					       (unsigned)profile.ship_lcore) != 0)
			snprintf(err, sizeof(err), "cannot launch the ship on lcore %d",
				 profile.ship_lcore);
		else if (recorder)
			err[0] = '\0';
		if (!recorder || err[0]) {
			logmsg("recording: off: %s", err);
			mg_recorder_destroy(recorder);
			recorder = NULL;
		}
		if (recorder)
			mg_ng_set_recorder(ng, recorder);
		if (recorder) /* restored calls that were being recorded: a new recording */
			mg_recorder_resume(recorder);
	}
	if (recorder) {
		if (profile.ship_lcore >= 0)
			logmsg("recording: on, ring %u records per worker, ship on lcore %d",
			       profile.rec_ring_size, profile.ship_lcore);
		else
			logmsg("recording: on, ring %u records per worker, ship on the control "
			       "lcore (lcores.ship = none)",
			       profile.rec_ring_size);
	}

	struct mg_telemetry_ctx tctx = {.state = state,
					.dp = dp,
					.sessions = sessions,
					.ng = ng,
					.profile_name = profile.name,
					.keys = keys,
					.keys_report = mg_app_keys_report,
					.recorder = recorder};
	if (mg_telemetry_register(&tctx) < 0)
		logmsg("warning: telemetry commands could not be registered");
	if (profile.telemetry)
		restrict_telemetry_socket(&profile);
	if (profile.prometheus_listen[0] &&
	    mg_prometheus_start(&tctx, profile.prometheus_listen, err, sizeof(err)) < 0) {
		logmsg("%s", err);
		return 1;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* SRTP contexts of restored calls: as many as 250 ms allow before media starts (a
	 * few thousand calls: all of them), the rest from the control loop */
	struct timespec keys_t0, keys_t;
	clock_gettime(CLOCK_MONOTONIC, &keys_t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &keys_t);
	while (mg_sessions_restore_pending(sessions, 500) &&
	       (double)(keys_t.tv_sec - keys_t0.tv_sec) +
		       (double)(keys_t.tv_nsec - keys_t0.tv_nsec) / 1e9 <
		   0.25);
	if (mg_dp_start(dp) < 0) {
		logmsg("cannot launch the worker lcores");
		return 1;
	}
	for (int i = 0; i < profile.n_interfaces; i++) {
		char ip[16];
		logmsg("interface %s: %s port %u address %s/%u", profile.interfaces[i].name,
		       profile.interfaces[i].device, mg_dp_interface_port_id(dp, (unsigned)i),
		       mg_ipv4_str(profile.interfaces[i].address, ip),
		       profile.interfaces[i].prefix_len);
	}
	logmsg("%s running: profile %s, %u worker(s), ng on %s, media ports %u-%u", MG_VERSION,
	       profile.name, profile.n_workers, profile.ng_listen, profile.port_min,
	       profile.port_max);

	struct pollfd pfd = {.fd = mg_ng_fd(ng), .events = POLLIN};
	struct timespec start, last_timer, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	last_timer = start;
	unsigned keys_refresh = 0;
	while (!stop_requested) {
		/* The control lcore sleeps in poll(): it is woken by ng requests and checks
		 * the slow-path rings at least every millisecond. */
		int ready = poll(&pfd, 1, 1);
		if (ready > 0) {
			mg_ng_poll(ng);
			if (state)
				mg_sessions_persist(sessions, state, false);
		}
		while (mg_dp_control_poll(dp))
			;
		if (recorder)
			mg_recorder_control_poll(recorder);
		/* SRTP contexts of restored calls, a batch per turn (~10 ms of work; two leg
		 * updates per call stay well inside the workers' command rings) */
		mg_sessions_restore_pending(sessions, 500);
		clock_gettime(CLOCK_MONOTONIC, &now);
		double since_timer = (double)(now.tv_sec - last_timer.tv_sec) +
				     (double)(now.tv_nsec - last_timer.tv_nsec) / 1e9;
		if (since_timer >= 1.0) {
			last_timer = now;
			unsigned expired = mg_sessions_expire(sessions, profile.media_timeout_s);
			if (state) /* checkpoint: latching and other changes the workers made */
				mg_sessions_persist(sessions, state, true);
			if (++keys_refresh % 30 == 0) /* key state and versions for telemetry */
				mg_app_state_keys_refresh();
			if (expired)
				logmsg("removed %u session(s) without media for %u s", expired,
				       profile.media_timeout_s);
		}
		if (duration > 0 && (double)(now.tv_sec - start.tv_sec) >= duration)
			break;
	}
	logmsg("stopping");
	mg_prometheus_stop();
	mg_dp_stop(dp);
	if (recorder) { /* open recordings are sealed, marked partial and committed */
		mg_recorder_ship_stop(recorder);
		if (profile.ship_lcore >= 0)
			rte_eal_wait_lcore((unsigned)profile.ship_lcore);
		mg_recorder_destroy(recorder);
	}
	mg_ng_destroy(ng);
	if (state) {
		mg_sessions_persist(sessions, state, true);
		mg_state_flush(state, 2000);
	}
	/* Stopping mediagate does not end the calls: their state stays in Redis for the
	 * next start (upgrade, restart) or a takeover. */
	mg_sessions_on_delete(sessions, NULL, NULL);
	mg_sessions_destroy(sessions);
	if (state) {
		mg_state_flush(state, 2000);
		mg_state_close(state);
	}
	while (mg_dp_control_poll(dp))
		;
	mg_dp_destroy(dp);
	mg_keys_blob_destroy(state_keys);
	if (keys)
		mg_keys_close(keys);
	rte_eal_cleanup();
	return 0;
}
