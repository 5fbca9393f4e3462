/* Profiles: every shipped pmd-config profile parses and validates; malformed
 * profiles are refused with the line and the field named. */
#include "profile.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"

static int parse_text(const char *text, struct mg_profile_error *err)
{
	static struct mg_profile p;
	mg_profile_defaults(&p);
	if (mg_profile_parse(&p, text, strlen(text), err) < 0)
		return -1;
	return mg_profile_validate(&p, err);
}

#define BASE                                                                                       \
	"[eal]\nargs = --no-pci\n[lcores]\ncontrol = 0\nworkers = 1\n"                             \
	"[interface.lan]\ndevice = net_null0\naddress = 10.0.0.1/24\n"

static void expect_error(const char *text, int line, const char *field, const char *reason_part)
{
	struct mg_profile_error err;
	int rc = parse_text(text, &err);
	CHECK_EQ_INT(rc, -1);
	if (rc == -1) {
		CHECK_EQ_INT(err.line, line);
		if (strcmp(err.field, field) != 0)
			fprintf(stderr, "field '%s' != '%s' (%s)\n", err.field, field, err.reason);
		CHECK(strcmp(err.field, field) == 0);
		CHECK(strstr(err.reason, reason_part) != NULL);
	}
}

static void test_shipped(const char *dir)
{
	DIR *d = opendir(dir);
	CHECK(d != NULL);
	if (!d)
		return;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 6 || strcmp(e->d_name + l - 5, ".conf"))
			continue;
		char name[256];
		snprintf(name, sizeof(name), "%.*s", (int)(l - 5), e->d_name);
		struct mg_profile p;
		struct mg_profile_error err;
		int rc = mg_profile_load(&p, name, dir, &err);
		if (rc == 0)
			rc = mg_profile_validate(&p, &err);
		if (rc)
			fprintf(stderr, "%s: line %d %s: %s\n", name, err.line, err.field,
				err.reason);
		CHECK_EQ_INT(rc, 0);
		CHECK(strcmp(p.name, name) == 0);
		CHECK(p.n_interfaces >= 1 && p.n_workers >= 1);
		n++;
	}
	closedir(d);
	printf("%d shipped profiles checked\n", n);
	CHECK(n >= 9); /* af_packet(2), tap, memif, null, ring, ice, i40e, mlx5 */
}

static void test_values(void)
{
	static struct mg_profile p;
	struct mg_profile_error err;
	mg_profile_defaults(&p);
	const char *t = BASE "gateway = 10.0.0.254\nneighbor = 10.0.0.9 02:00:00:00:00:09\n"
			     "[lcores]\nworkers = 2, 3\nship = 4\n"
			     "[control]\nng_allow = 10.1.0.0/16, 127.0.0.1\n";
	CHECK_EQ_INT(mg_profile_parse(&p, t, strlen(t), &err), 0);
	CHECK_EQ_INT(mg_profile_validate(&p, &err), 0);
	CHECK_EQ_INT(p.n_workers, 2);
	CHECK_EQ_INT(p.worker_lcores[1], 3);
	CHECK_EQ_INT(p.ship_lcore, 4);
	CHECK_EQ_INT(p.interfaces[0].address, 0x0a000001);
	CHECK_EQ_INT(p.interfaces[0].prefix_len, 24);
	CHECK_EQ_INT(p.interfaces[0].gateway, 0x0a0000fe);
	CHECK_EQ_INT(p.interfaces[0].n_neighbors, 1);
	CHECK_EQ_INT(p.n_ng_allow, 2);
	CHECK(mg_cidr_contains(&p.ng_allow[0], 0x0a01ff01));
	CHECK(!mg_cidr_contains(&p.ng_allow[0], 0x0a020001));
	CHECK(mg_cidr_contains(&p.ng_allow[1], 0x7f000001));
	CHECK(!mg_cidr_contains(&p.ng_allow[1], 0x7f000002));
	CHECK_EQ_INT(p.n_ng_pii_allow, 0); /* nobody reads personal data unless listed */
	CHECK_EQ_INT(mg_profile_set(&p, "control.ng_pii_allow=127.0.0.2/32, 10.9.0.0/24", &err), 0);
	CHECK_EQ_INT(p.n_ng_pii_allow, 2);
	CHECK(mg_cidr_contains(&p.ng_pii_allow[0], 0x7f000002));
	CHECK(!mg_cidr_contains(&p.ng_pii_allow[0], 0x7f000001));
	/* overrides */
	CHECK_EQ_INT(mg_profile_set(&p, "interface.lan.address=192.168.5.5/16", &err), 0);
	CHECK_EQ_INT(p.interfaces[0].address, 0xc0a80505);
	CHECK_EQ_INT(mg_profile_set(&p, "media.port_min=40000", &err), 0);
	CHECK_EQ_INT(p.port_min, 40000);
	CHECK_EQ_INT(mg_profile_set(&p, "media.port_min=abc", &err), -1);
	CHECK(strcmp(err.field, "media.port_min") == 0);
	CHECK_EQ_INT(mg_profile_set(&p, "nonsense", &err), -1);
}

static void test_keys(void)
{
	struct mg_profile p;
	struct mg_profile_error err;
	mg_profile_defaults(&p);
	CHECK_EQ_INT(p.keys_state_dir[0], 0); /* keys are off unless configured */
	CHECK(strcmp(p.keys_token, "mediagate") == 0);
	CHECK_EQ_INT(p.keys_bucket_key_period, 3600);
	static const char text[] =
	    BASE "[keys]\nstate_dir = /var/lib/mediagate\n"
		 "pin_file = /etc/mediagate/pin\ntoken = tok\n"
		 "principal = mg-a1\ninstance = acme\nbucket_key_period = 0\n";
	CHECK_EQ_INT(mg_profile_parse(&p, text, strlen(text), &err), 0);
	CHECK_EQ_INT(mg_profile_validate(&p, &err), 0);
	CHECK(strcmp(p.keys_state_dir, "/var/lib/mediagate") == 0);
	CHECK(strcmp(p.keys_pin_file, "/etc/mediagate/pin") == 0);
	CHECK(strcmp(p.keys_token, "tok") == 0);
	CHECK(strcmp(p.keys_principal, "mg-a1") == 0);
	CHECK(strcmp(p.keys_instance, "acme") == 0);
	CHECK_EQ_INT(p.keys_bucket_key_period, 0);
	CHECK_EQ_INT(mg_profile_set(&p, "keys.token=other", &err), 0);
	CHECK(strcmp(p.keys_token, "other") == 0);
}

static void test_recording(void)
{
	struct mg_profile p;
	struct mg_profile_error err;
	mg_profile_defaults(&p);
	CHECK(!p.rec_enable); /* recording is off unless configured */
	CHECK_EQ_INT(p.rec_ring_size, 16384);
	CHECK(strcmp(p.rec_alias, "mediagate") == 0);
	static const char text[] =
	    BASE "[keys]\nstate_dir = /var/lib/mediagate\npin_file = /etc/mediagate/pin\n"
		 "[recording]\nenable = on\nspool_dir = /var/spool/mg\nring_size = 1024\n"
		 "max_contacts = 20000\nship_budget = 512\ns3_endpoint = http://127.0.0.1:9000\n"
		 "s3_bucket = rec\ns3_credentials_file = /etc/mediagate/s3\nalias = acme\n";
	CHECK_EQ_INT(mg_profile_parse(&p, text, strlen(text), &err), 0);
	CHECK_EQ_INT(mg_profile_validate(&p, &err), 0);
	CHECK(p.rec_enable);
	CHECK(strcmp(p.rec_spool_dir, "/var/spool/mg") == 0);
	CHECK_EQ_INT(p.rec_ring_size, 1024);
	CHECK_EQ_INT(p.rec_max_contacts, 20000);
	CHECK_EQ_INT(p.rec_ship_budget, 512);
	CHECK(strcmp(p.rec_s3_bucket, "rec") == 0);
	CHECK(strcmp(p.rec_alias, "acme") == 0);
	CHECK_EQ_INT(mg_profile_set(&p, "recording.ship_pause_us=200000", &err), 0);
	CHECK_EQ_INT(p.rec_ship_pause_us, 200000);
}

static void test_errors(void)
{
	expect_error(BASE "[recording]\nenable = on\n", 0, "recording.enable", "keys.state_dir");
	expect_error(BASE "[recording]\nring_size = 1000\n", 10, "recording.ring_size",
		     "power of two");
	expect_error(BASE "[recording]\nring_size = 2\n", 10, "recording.ring_size",
		     "power of two");
	expect_error(BASE "[recording]\nenable = maybe\n", 10, "recording.enable", "on or off");
	expect_error(BASE "[recording]\nspool = /x\n", 10, "recording.spool", "unknown key");
	expect_error(BASE "[recording]\ns3_endpoint = http://h:1\n", 0, "recording.s3_endpoint",
		     "s3_bucket");
	expect_error(BASE "[recording]\nalias =\n", 0, "recording.alias", "must not be empty");
	expect_error(BASE "[media]\nport_min = 70000\n", 10, "media.port_min", "1024..65535");
	expect_error(BASE "[media]\nport_min = 30001\n", 0, "media.port_min", "even");
	expect_error(BASE "[media]\nfoo = 1\n", 10, "media.foo", "unknown key");
	expect_error(BASE "[medai]\nport_min = 30000\n", 10, "medai", "unknown section");
	expect_error(BASE "address = 300.1.1.1/24\n", 9, "interface.lan.address", "IPv4");
	expect_error(BASE "rx_desc = 1000\n", 9, "interface.lan.rx_desc", "power of two");
	expect_error(BASE "neighbor = 10.0.0.2\n", 9, "interface.lan.neighbor", "IPv4 MAC");
	expect_error(BASE "rss = sometimes\n", 9, "interface.lan.rss", "auto");
	expect_error(BASE "[lcores]\nworkers = 0\n", 0, "lcores.workers", "control lcore");
	expect_error(BASE "[lcores]\nworkers = 1, 1\n", 0, "lcores.workers", "twice");
	expect_error(BASE "[lcores]\nworkers = x\n", 10, "lcores.workers", "lcore ids");
	expect_error(BASE "[control]\nng_listen = 127.0.0.1\n", 10, "control.ng_listen", "port");
	expect_error(BASE "[control]\nng_allow = 10.0.0.0/33\n", 10, "control.ng_allow", "CIDR");
	expect_error(BASE "[control]\nng_pii_allow = nobody\n", 10, "control.ng_pii_allow", "CIDR");
	expect_error(BASE "just words\n", 9, "just words", "key = value");
	expect_error("args = x\n", 1, "args", "outside of a section");
	expect_error("[eal\n", 1, "[eal", "malformed section");
	expect_error("[eal]\nargs = --no-pci\n[lcores]\nworkers = 1\n", 0, "interface",
		     "at least one");
	expect_error("[eal]\nargs = --no-pci\n[interface.lan]\naddress = 10.0.0.1/24\n"
		     "[lcores]\nworkers=1\n",
		     0, "interface.lan.device", "missing");
	expect_error(BASE "[keys]\nstate_dir = /tmp/k\n", 0, "keys.pin_file", "needed");
	expect_error(BASE "[keys]\ntoken_label = x\n", 10, "keys.token_label", "unknown key");
	expect_error(BASE "[keys]\nbucket_key_period = -1\n", 10, "keys.bucket_key_period",
		     "seconds");
	expect_error(BASE "[keys]\nstate_dir = /k\npin_file = /p\ninstance =\n", 0, "keys",
		     "must not be empty");
	/* NUL bytes and overlong lines are refused, not truncated */
	struct mg_profile p;
	struct mg_profile_error err;
	mg_profile_defaults(&p);
	static const char nul[] = "[eal]\nargs = a\0b\n";
	CHECK_EQ_INT(mg_profile_parse(&p, nul, sizeof(nul) - 1, &err), -1);
	char *big = malloc(5000);
	memset(big, 'x', 4999);
	big[4999] = '\0';
	CHECK_EQ_INT(mg_profile_parse(&p, big, 4999, &err), -1);
	CHECK(strstr(err.reason, "longer") != NULL);
	free(big);
	/* random bytes never crash */
	srand(9);
	char buf[256];
	for (int i = 0; i < 50000; i++) {
		size_t l = (size_t)(rand() % 256);
		for (size_t k = 0; k < l; k++)
			buf[k] = "[]=.\n #abcdelnrstuvw0123456789/:,"[rand() % 33];
		mg_profile_defaults(&p);
		(void)mg_profile_parse(&p, buf, l, &err);
	}
}

int main(int argc, char **argv)
{
	test_shipped(argc > 1 ? argv[1] : "pmd-config");
	test_values();
	test_keys();
	test_recording();
	test_errors();
	return CHECK_DONE();
}
