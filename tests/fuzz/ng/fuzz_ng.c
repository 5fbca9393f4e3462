/* libFuzzer: whole ng requests ("<cookie> <bencode>") through the real command
 * handler, session table and data plane (EAL on a net_null port, workers not
 * launched: commands are applied synchronously). Any input must produce either no
 * answer (no cookie) or a well-formed bencoded answer, and must not leak legs. */
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>

#include "bencode.h"
#include "dataplane.h"
#include "ng.h"
#include "session.h"

static struct mg_dataplane *dp;
static struct mg_sessions *sessions;
static struct mg_ng *ng;
static struct mg_profile profile;

/* the fixture lives as long as the process: free it so LeakSanitizer sees no leak */
static void teardown(void)
{
	mg_ng_destroy(ng);
	mg_sessions_destroy(sessions);
	mg_dp_destroy(dp);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char *eal[] = {
	    "fuzz_ng",	      "--no-huge",	  "-m", "256", "--no-pci",	    "--no-shconf",
	    "--no-telemetry", "--vdev=net_null0", "-l", "0",   "--log-level=error", NULL};
	if (rte_eal_init(11, eal) < 0)
		abort();
	mg_profile_defaults(&profile);
	struct mg_profile_error err;
	const char *text = "[eal]\nargs = x\n[lcores]\ncontrol = 0\nworkers = 1\n"
			   "[interface.lan]\ndevice = net_null0\naddress = 10.0.0.1/24\n"
			   "[interface.ext]\ndevice = net_null0x\naddress = 10.0.1.1/24\n"
			   "[media]\nport_min = 30000\nport_max = 30199\nmbufs = 2047\n";
	if (mg_profile_parse(&profile, text, strlen(text), &err) < 0)
		abort();
	profile.n_interfaces = 1; /* only net_null0 exists */
	char e[256];
	dp = mg_dp_create(&profile, e, sizeof(e));
	sessions = dp ? mg_sessions_create(dp, 1024) : NULL;
	ng = sessions ? mg_ng_create(sessions, &profile) : NULL;
	if (!ng)
		abort();
	atexit(teardown);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[65536];
	char *req = malloc(size ? size : 1);
	memcpy(req, data, size);
	size_t n = mg_ng_handle(ng, req, size, out, sizeof(out));
	if (n) {
		const char *sp = memchr(out, ' ', n);
		static struct mg_bencode_node nodes[4096];
		struct mg_bencode_doc d = {.nodes = nodes, .capacity = 4096};
		if (!sp || mg_bencode_decode(&d, sp + 1, n - (size_t)(sp + 1 - out)) != 0 ||
		    !mg_bencode_dict_get(&d, &d.nodes[0], "result"))
			abort();
	}
	free(req);
	/* keep the table small: drop every call, then no leg may remain */
	while (mg_call_first(sessions))
		mg_call_delete(sessions, mg_call_first(sessions));
	while (mg_dp_control_poll(dp))
		;
	if (mg_dp_legs_in_use(dp) != 0)
		abort();
	return 0;
}
