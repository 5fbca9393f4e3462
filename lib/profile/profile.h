/* Deployment profiles (pmd-config/NAME.conf): EAL arguments, lcore roles, interfaces with
 * their addresses, queues and descriptors, media port range, control sockets.
 *
 * The format is INI-like: "[section]" or "[interface.NAME]" headers, "key = value"
 * lines, '#' comments. Unknown sections and keys are errors, so a typo is reported
 * with its line and field instead of being silently ignored. */
#ifndef MG_PROFILE_H
#define MG_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"

#define MG_MAX_INTERFACES 8
#define MG_MAX_WORKERS	  16
#define MG_MAX_NEIGHBORS  16
#define MG_MAX_ALLOW	  16

enum mg_rss_mode {
	MG_RSS_AUTO = 0, /* RSS on the UDP destination port when the port has the queues */
	MG_RSS_OFF,	 /* one rx queue, software dispatch to the owning worker */
	MG_RSS_DST_PORT, /* require RSS on the UDP destination port */
};

struct mg_neighbor_cfg {
	uint32_t ip;
	struct mg_mac mac;
};

struct mg_interface_cfg {
	char name[32];	  /* used by the ng "direction" key and in telemetry */
	char device[64];  /* DPDK device name, e.g. net_af_packet0 or 0000:3b:00.0 */
	uint32_t address; /* our IPv4 address on this interface */
	uint8_t prefix_len;
	uint32_t gateway;    /* 0: none, only on-link peers */
	uint32_t advertised; /* address put into SDP (NAT/public); 0: same as address */
	uint16_t rx_desc, tx_desc;
	uint16_t mtu;
	enum mg_rss_mode rss;
	int n_neighbors;
	struct mg_neighbor_cfg neighbors[MG_MAX_NEIGHBORS];
};

struct mg_cidr {
	uint32_t net;
	uint8_t len;
};

struct mg_profile {
	char name[64];
	char eal_args[1024];  /* split on whitespace */
	char file_prefix[64]; /* EAL --file-prefix (telemetry socket directory) */
	unsigned control_lcore;
	unsigned n_workers;
	unsigned worker_lcores[MG_MAX_WORKERS];
	int ship_lcore; /* -1: none */
	int n_interfaces;
	struct mg_interface_cfg interfaces[MG_MAX_INTERFACES];
	uint16_t port_min, port_max; /* media ports (even RTP, odd RTCP) */
	uint32_t media_timeout_s;    /* a session without media for this long is removed */
	uint32_t mbufs;		     /* mbuf pool size */
	uint16_t burst;		     /* rx/tx burst size */
	uint32_t dispatch_ring_size; /* software dispatch ring per worker */
	char ng_listen[64];	     /* "addr:port" */
	int n_ng_allow;
	struct mg_cidr ng_allow[MG_MAX_ALLOW];
	bool telemetry;
	char prometheus_listen[64]; /* "addr:port" of the Prometheus exporter; "" = off */
	char telemetry_group[32];   /* group that may use the telemetry socket ("" = root only) */
	/* session state in Redis; state_redis "" = off (all three 64 bytes) */
	char state_redis[64];	 /* "host:port" */
	char state_prefix[64];	 /* key prefix of this appliance, e.g. "mg:appliance-1:" */
	char state_takeover[64]; /* another appliance's prefix whose sessions to take over */
	/* customer-managed keys in a PKCS#11 token (lib/keys); keys_state_dir "" = off */
	char keys_state_dir[256];	 /* key metadata + audit log: mediagate-rec's --state dir */
	char keys_module[256];		 /* PKCS#11 module */
	char keys_token[64];		 /* token label */
	char keys_pin_file[256];	 /* file holding the token user PIN */
	char keys_principal[64];	 /* who mediagate is in grants and the audit log */
	char keys_instance[64];		 /* instance of calls whose ng requests name none */
	uint32_t keys_bucket_key_period; /* seconds; 0 = one token call per data key */
	/* recording in the data path ([recording], lib/recorder); needs [keys] */
	bool rec_enable;
	char rec_spool_dir[256];   /* "" = <keys.state_dir>/spool (mediagate-rec's) */
	char rec_index_dir[256];   /* "" = <keys.state_dir>/index */
	uint32_t rec_max_spool_mb; /* spool byte bound; 0 = lib/store default */
	char rec_s3_endpoint[128]; /* "" = no delivery: recordings stay in the spool */
	char rec_s3_bucket[64];
	char rec_s3_region[32];		   /* "" = us-east-1 */
	char rec_s3_credentials_file[256]; /* line 1 access key id, line 2 secret key */
	char rec_alias[64];		   /* object key: .../connect/<alias>/CallRecordings/... */
	char rec_prefix[64];		   /* object key prefix, may be empty */
	uint32_t rec_ring_size;		   /* records per worker ring (power of two) */
	uint32_t rec_max_contacts;	   /* recordings open at once */
	uint32_t rec_ship_budget;	   /* records per ship poll */
	uint32_t rec_ship_pause_us;	   /* pause between ship polls (tests: slow ship) */
	/* ng clients that may read personal data (ANI, DNIS, ...) and search by ANI */
	int n_ng_pii_allow;
	struct mg_cidr ng_pii_allow[MG_MAX_ALLOW];
};

/* Error description: line number (0 when not tied to a line), field, reason. */
struct mg_profile_error {
	int line;
	char field[64];
	char reason[160];
};

void mg_profile_defaults(struct mg_profile *p);

/* Parses a profile from text (not NUL-terminated). Returns 0 or -1 with `err` filled. */
int mg_profile_parse(struct mg_profile *p, const char *text, size_t len,
		     struct mg_profile_error *err);

/* Loads a profile by path or by name (NAME -> <dir>/NAME.conf for each dir in the
 * colon-separated `search_path`). */
int mg_profile_load(struct mg_profile *p, const char *name_or_path, const char *search_path,
		    struct mg_profile_error *err);

/* Applies one "section.key=value" override (for example "interface.ext.address=10.0.0.1/24"
 * or "media.port_min=40000"); returns 0 or -1 with err filled. */
int mg_profile_set(struct mg_profile *p, const char *assignment, struct mg_profile_error *err);

/* Cross-field checks after parsing and overrides (at least one interface, workers
 * distinct from the control lcore, port range sane, ...). */
int mg_profile_validate(const struct mg_profile *p, struct mg_profile_error *err);

/* Finds an interface by name; -1 if absent. */
int mg_profile_interface_index(const struct mg_profile *p, const char *name);

/* Whether `ip` is inside `c`. */
static inline bool mg_cidr_contains(const struct mg_cidr *c, uint32_t ip)
{
	uint32_t mask = c->len == 0 ? 0 : 0xffffffffu << (32 - c->len);
	return (ip & mask) == (c->net & mask);
}

int mg_cidr_parse(const char *s, struct mg_cidr *c);

#endif
