#include "profile.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(struct mg_profile_error *err, int line, const char *field, const char *fmt, ...)
{
	err->line = line;
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	va_end(ap);
	return -1;
}

void mg_profile_defaults(struct mg_profile *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "default");
	p->control_lcore = 0;
	p->ship_lcore = -1;
	p->port_min = 30000;
	p->port_max = 39999;
	p->media_timeout_s = 60;
	p->mbufs = 16383;
	p->burst = 32;
	p->dispatch_ring_size = 4096;
	snprintf(p->ng_listen, sizeof(p->ng_listen), "127.0.0.1:2223");
	p->ng_allow[0] = (struct mg_cidr){.net = 0x7f000000, .len = 8};
	p->n_ng_allow = 1;
	p->telemetry = true;
	snprintf(p->state_prefix, sizeof(p->state_prefix), "mg:default:");
	snprintf(p->keys_module, sizeof(p->keys_module), "/usr/lib/softhsm/libsofthsm2.so");
	snprintf(p->keys_token, sizeof(p->keys_token), "mediagate");
	snprintf(p->keys_principal, sizeof(p->keys_principal), "mediagate");
	snprintf(p->keys_instance, sizeof(p->keys_instance), "default");
	p->keys_bucket_key_period = 3600;
	snprintf(p->rec_alias, sizeof(p->rec_alias), "mediagate");
	p->rec_ring_size = 16384;
	p->rec_max_contacts = 1024;
	p->rec_ship_budget = 4096;
}

static int parse_uint(const char *v, unsigned long max, unsigned long *out)
{
	char *end;
	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	unsigned long x = strtoul(v, &end, 10);
	if (errno || *end || x > max)
		return -1;
	*out = x;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
		*out = false;
	else
		return -1;
	return 0;
}

int mg_cidr_parse(const char *s, struct mg_cidr *c)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%s", s);
	char *slash = strchr(buf, '/');
	unsigned long len = 32;
	if (slash) {
		*slash = '\0';
		if (parse_uint(slash + 1, 32, &len) < 0)
			return -1;
	}
	if (mg_ipv4_parse(buf, &c->net) < 0)
		return -1;
	c->len = (uint8_t)len;
	return 0;
}

static struct mg_interface_cfg *interface_for(struct mg_profile *p, const char *name, int line,
					      struct mg_profile_error *err)
{
	int i = mg_profile_interface_index(p, name);
	if (i >= 0)
		return &p->interfaces[i];
	if (p->n_interfaces >= MG_MAX_INTERFACES) {
		fail(err, line, name, "too many interfaces (at most %d)", MG_MAX_INTERFACES);
		return NULL;
	}
	if (!*name || strlen(name) >= sizeof(p->interfaces[0].name)) {
		fail(err, line, name, "interface name empty or longer than 31 characters");
		return NULL;
	}
	struct mg_interface_cfg *ifc = &p->interfaces[p->n_interfaces++];
	memset(ifc, 0, sizeof(*ifc));
	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	ifc->rx_desc = 1024;
	ifc->tx_desc = 1024;
	ifc->mtu = 1500;
	return ifc;
}

int mg_profile_interface_index(const struct mg_profile *p, const char *name)
{
	for (int i = 0; i < p->n_interfaces; i++)
		if (!strcmp(p->interfaces[i].name, name))
			return i;
	return -1;
}

/* Splits "a, b c" lists; calls fn per item. */
static int for_each_item(char *v, int (*fn)(void *, const char *), void *arg)
{
	for (char *save = NULL, *tok = strtok_r(v, ", \t", &save); tok;
	     tok = strtok_r(NULL, ", \t", &save))
		if (fn(arg, tok) < 0)
			return -1;
	return 0;
}

static int add_worker(void *arg, const char *item)
{
	struct mg_profile *p = arg;
	unsigned long id;
	if (p->n_workers >= MG_MAX_WORKERS || parse_uint(item, 1023, &id) < 0)
		return -1;
	p->worker_lcores[p->n_workers++] = (unsigned)id;
	return 0;
}

static int add_pii_allow(void *arg, const char *item)
{
	struct mg_profile *p = arg;
	if (p->n_ng_pii_allow >= MG_MAX_ALLOW ||
	    mg_cidr_parse(item, &p->ng_pii_allow[p->n_ng_pii_allow]) < 0)
		return -1;
	p->n_ng_pii_allow++;
	return 0;
}

static int add_allow(void *arg, const char *item)
{
	struct mg_profile *p = arg;
	if (p->n_ng_allow >= MG_MAX_ALLOW || mg_cidr_parse(item, &p->ng_allow[p->n_ng_allow]) < 0)
		return -1;
	p->n_ng_allow++;
	return 0;
}

#define FIELD_FAIL(what) fail(err, line, field, "%s: '%s'", what, value)

static int set_interface_key(struct mg_interface_cfg *ifc, const char *key, char *value, int line,
			     const char *field, struct mg_profile_error *err)
{
	unsigned long x;
	if (!strcmp(key, "device")) {
		if (!*value || strlen(value) >= sizeof(ifc->device))
			return FIELD_FAIL("device name empty or too long");
		snprintf(ifc->device, sizeof(ifc->device), "%s", value);
	} else if (!strcmp(key, "address")) {
		struct mg_cidr c;
		if (mg_cidr_parse(value, &c) < 0 || c.len == 0 || c.net == 0)
			return FIELD_FAIL("expected IPv4 address/prefix such as 10.0.0.1/24");
		ifc->address = c.net;
		ifc->prefix_len = c.len;
	} else if (!strcmp(key, "gateway")) {
		if (mg_ipv4_parse(value, &ifc->gateway) < 0)
			return FIELD_FAIL("expected an IPv4 address");
	} else if (!strcmp(key, "advertised_address")) {
		if (mg_ipv4_parse(value, &ifc->advertised) < 0)
			return FIELD_FAIL("expected an IPv4 address");
	} else if (!strcmp(key, "rx_desc") || !strcmp(key, "tx_desc")) {
		if (parse_uint(value, 32768, &x) < 0 || x < 32 || (x & (x - 1)))
			return FIELD_FAIL("expected a power of two between 32 and 32768");
		*(!strcmp(key, "rx_desc") ? &ifc->rx_desc : &ifc->tx_desc) = (uint16_t)x;
	} else if (!strcmp(key, "mtu")) {
		if (parse_uint(value, 9216, &x) < 0 || x < 576)
			return FIELD_FAIL("expected 576..9216");
		ifc->mtu = (uint16_t)x;
	} else if (!strcmp(key, "rss")) {
		if (!strcmp(value, "auto"))
			ifc->rss = MG_RSS_AUTO;
		else if (!strcmp(value, "off"))
			ifc->rss = MG_RSS_OFF;
		else if (!strcmp(value, "dst-port"))
			ifc->rss = MG_RSS_DST_PORT;
		else
			return FIELD_FAIL("expected auto, off or dst-port");
	} else if (!strcmp(key, "neighbor")) {
		/* "IP MAC" (static ARP entry) */
		char ip[32], mac[32], extra;
		if (ifc->n_neighbors >= MG_MAX_NEIGHBORS)
			return FIELD_FAIL("too many static neighbors");
		struct mg_neighbor_cfg *n = &ifc->neighbors[ifc->n_neighbors];
		if (sscanf(value, "%31s %31s %c", ip, mac, &extra) != 2 ||
		    mg_ipv4_parse(ip, &n->ip) < 0 || mg_mac_parse(mac, &n->mac) < 0)
			return FIELD_FAIL("expected 'IPv4 MAC', e.g. 10.0.0.2 02:00:00:00:00:02");
		ifc->n_neighbors++;
	} else {
		return fail(err, line, field, "unknown interface key");
	}
	return 0;
}

/* [recording] (lib/recorder, docs/recording.md) */
static int set_recording_key(struct mg_profile *p, const char *key, char *value, int line,
			     const char *field, struct mg_profile_error *err)
{
	unsigned long x;
	if (!strcmp(key, "enable")) {
		if (parse_bool(value, &p->rec_enable) < 0)
			return FIELD_FAIL("expected on or off");
		return 0;
	}
	struct {
		const char *key;
		uint32_t *dst;
		unsigned long min, max;
		bool pow2;
	} const nums[] = {
	    {"max_spool_mb", &p->rec_max_spool_mb, 0, 1u << 24, false},
	    {"ring_size", &p->rec_ring_size, 4, 1u << 20, true},
	    {"max_contacts", &p->rec_max_contacts, 1, 1u << 20, false},
	    {"ship_budget", &p->rec_ship_budget, 1, 1u << 20, false},
	    {"ship_pause_us", &p->rec_ship_pause_us, 0, 1000000, false},
	};
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		if (strcmp(key, nums[i].key))
			continue;
		if (parse_uint(value, nums[i].max, &x) < 0 || x < nums[i].min ||
		    (nums[i].pow2 && (x & (x - 1))))
			return FIELD_FAIL(nums[i].pow2 ? "expected a power of two in range"
						       : "expected a number in range");
		*nums[i].dst = (uint32_t)x;
		return 0;
	}
	struct {
		const char *key;
		char *dst;
		size_t cap;
	} const strs[] = {
	    {"spool_dir", p->rec_spool_dir, sizeof(p->rec_spool_dir)},
	    {"index_dir", p->rec_index_dir, sizeof(p->rec_index_dir)},
	    {"s3_endpoint", p->rec_s3_endpoint, sizeof(p->rec_s3_endpoint)},
	    {"s3_bucket", p->rec_s3_bucket, sizeof(p->rec_s3_bucket)},
	    {"s3_region", p->rec_s3_region, sizeof(p->rec_s3_region)},
	    {"s3_credentials_file", p->rec_s3_credentials_file, sizeof(p->rec_s3_credentials_file)},
	    {"alias", p->rec_alias, sizeof(p->rec_alias)},
	    {"prefix", p->rec_prefix, sizeof(p->rec_prefix)},
	};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		if (strcmp(key, strs[i].key))
			continue;
		if (strlen(value) >= strs[i].cap)
			return FIELD_FAIL("value too long");
		snprintf(strs[i].dst, strs[i].cap, "%s", value);
		return 0;
	}
	return fail(err, line, field, "unknown key");
}

static int set_key(struct mg_profile *p, const char *section, const char *key, char *value,
		   int line, struct mg_profile_error *err)
{
	char field[64];
	snprintf(field, sizeof(field), "%s.%s", section, key);
	unsigned long x;
	if (!strncmp(section, "interface.", 10)) {
		struct mg_interface_cfg *ifc = interface_for(p, section + 10, line, err);
		if (!ifc)
			return -1;
		return set_interface_key(ifc, key, value, line, field, err);
	}
	if (!strcmp(section, "profile")) {
		if (strcmp(key, "name"))
			return fail(err, line, field, "unknown key");
		snprintf(p->name, sizeof(p->name), "%s", value);
	} else if (!strcmp(section, "eal")) {
		if (!strcmp(key, "file_prefix")) {
			if (!*value || strlen(value) >= sizeof(p->file_prefix) ||
			    strchr(value, '/'))
				return FIELD_FAIL(
				    "expected a name without '/', up to 63 characters");
			snprintf(p->file_prefix, sizeof(p->file_prefix), "%s", value);
			return 0;
		}
		if (strcmp(key, "args"))
			return fail(err, line, field, "unknown key");
		if (strlen(value) >= sizeof(p->eal_args))
			return fail(err, line, field, "too long");
		snprintf(p->eal_args, sizeof(p->eal_args), "%s", value);
	} else if (!strcmp(section, "lcores")) {
		if (!strcmp(key, "control")) {
			if (parse_uint(value, 1023, &x) < 0)
				return FIELD_FAIL("expected an lcore id");
			p->control_lcore = (unsigned)x;
		} else if (!strcmp(key, "workers")) {
			p->n_workers = 0;
			if (for_each_item(value, add_worker, p) < 0 || p->n_workers == 0)
				return FIELD_FAIL("expected a list of lcore ids");
		} else if (!strcmp(key, "ship")) {
			if (!strcmp(value, "none"))
				p->ship_lcore = -1;
			else if (parse_uint(value, 1023, &x) < 0)
				return FIELD_FAIL("expected an lcore id or none");
			else
				p->ship_lcore = (int)x;
		} else {
			return fail(err, line, field, "unknown key");
		}
	} else if (!strcmp(section, "media")) {
		if (!strcmp(key, "port_min") || !strcmp(key, "port_max")) {
			if (parse_uint(value, 65535, &x) < 0 || x < 1024)
				return FIELD_FAIL("expected 1024..65535");
			*(!strcmp(key, "port_min") ? &p->port_min : &p->port_max) = (uint16_t)x;
		} else if (!strcmp(key, "timeout")) {
			if (parse_uint(value, 86400, &x) < 0 || x == 0)
				return FIELD_FAIL("expected seconds, 1..86400");
			p->media_timeout_s = (uint32_t)x;
		} else if (!strcmp(key, "mbufs")) {
			if (parse_uint(value, 16u << 20, &x) < 0 || x < 1024)
				return FIELD_FAIL("expected at least 1024");
			p->mbufs = (uint32_t)x;
		} else if (!strcmp(key, "burst")) {
			if (parse_uint(value, 64, &x) < 0 || x == 0)
				return FIELD_FAIL("expected 1..64");
			p->burst = (uint16_t)x;
		} else if (!strcmp(key, "dispatch_ring")) {
			if (parse_uint(value, 1u << 20, &x) < 0 || x < 64 || (x & (x - 1)))
				return FIELD_FAIL("expected a power of two, at least 64");
			p->dispatch_ring_size = (uint32_t)x;
		} else {
			return fail(err, line, field, "unknown key");
		}
	} else if (!strcmp(section, "control")) {
		if (!strcmp(key, "ng_listen")) {
			char host[48];
			unsigned long port;
			const char *colon = strrchr(value, ':');
			uint32_t ip;
			if (!colon || (size_t)(colon - value) >= sizeof(host))
				return FIELD_FAIL("expected address:port");
			memcpy(host, value, (size_t)(colon - value));
			host[colon - value] = '\0';
			if (mg_ipv4_parse(host, &ip) < 0 ||
			    parse_uint(colon + 1, 65535, &port) < 0 || port == 0)
				return FIELD_FAIL("expected IPv4 address:port");
			snprintf(p->ng_listen, sizeof(p->ng_listen), "%s", value);
		} else if (!strcmp(key, "ng_pii_allow")) {
			p->n_ng_pii_allow = 0;
			if (for_each_item(value, add_pii_allow, p) < 0)
				return FIELD_FAIL("expected a list of IPv4 CIDRs");
		} else if (!strcmp(key, "ng_allow")) {
			p->n_ng_allow = 0;
			if (for_each_item(value, add_allow, p) < 0)
				return FIELD_FAIL("expected a list of IPv4 CIDRs");
		} else if (!strcmp(key, "telemetry")) {
			if (parse_bool(value, &p->telemetry) < 0)
				return FIELD_FAIL("expected on or off");
		} else if (!strcmp(key, "prometheus_listen")) {
			uint32_t ip;
			char host[48];
			const char *colon = strrchr(value, ':');
			if (!strcmp(value, "off")) {
				p->prometheus_listen[0] = '\0';
				return 0;
			}
			if (!colon || (size_t)(colon - value) >= sizeof(host))
				return FIELD_FAIL("expected IPv4 address:port or off");
			memcpy(host, value, (size_t)(colon - value));
			host[colon - value] = '\0';
			if (mg_ipv4_parse(host, &ip) < 0 || parse_uint(colon + 1, 65535, &x) < 0 ||
			    !x)
				return FIELD_FAIL("expected IPv4 address:port or off");
			snprintf(p->prometheus_listen, sizeof(p->prometheus_listen), "%s", value);
		} else if (!strcmp(key, "telemetry_group")) {
			snprintf(p->telemetry_group, sizeof(p->telemetry_group), "%s", value);
		} else {
			return fail(err, line, field, "unknown key");
		}
	} else if (!strcmp(section, "state")) {
		char *dst = !strcmp(key, "redis")      ? p->state_redis
			    : !strcmp(key, "prefix")   ? p->state_prefix
			    : !strcmp(key, "takeover") ? p->state_takeover
						       : NULL;
		if (!dst)
			return fail(err, line, field, "unknown key");
		if (strlen(value) >= 64 || strchr(value, ' ') || strchr(value, '*'))
			return FIELD_FAIL(
			    "expected a value without spaces or '*', up to 63 characters");
		if (dst == p->state_redis && *value) {
			const char *colon = strrchr(value, ':');
			if (!colon || colon == value || parse_uint(colon + 1, 65535, &x) < 0 || !x)
				return FIELD_FAIL("expected host:port");
		}
		snprintf(dst, 64, "%s", value);
	} else if (!strcmp(section, "keys")) {
		if (!strcmp(key, "bucket_key_period")) {
			if (parse_uint(value, 86400 * 30, &x) < 0)
				return FIELD_FAIL("expected seconds (0 = off, at most 30 days)");
			p->keys_bucket_key_period = (uint32_t)x;
			return 0;
		}
		struct {
			const char *key;
			char *dst;
			size_t cap;
		} const fields[] = {
		    {"state_dir", p->keys_state_dir, sizeof(p->keys_state_dir)},
		    {"module", p->keys_module, sizeof(p->keys_module)},
		    {"token", p->keys_token, sizeof(p->keys_token)},
		    {"pin_file", p->keys_pin_file, sizeof(p->keys_pin_file)},
		    {"principal", p->keys_principal, sizeof(p->keys_principal)},
		    {"instance", p->keys_instance, sizeof(p->keys_instance)},
		};
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			if (strcmp(key, fields[i].key))
				continue;
			if (strlen(value) >= fields[i].cap)
				return FIELD_FAIL("value too long");
			snprintf(fields[i].dst, fields[i].cap, "%s", value);
			return 0;
		}
		return fail(err, line, field, "unknown key");
	} else if (!strcmp(section, "recording")) {
		return set_recording_key(p, key, value, line, field, err);
	} else {
		return fail(err, line, section, "unknown section");
	}
	return 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int mg_profile_parse(struct mg_profile *p, const char *text, size_t len,
		     struct mg_profile_error *err)
{
	char section[64] = "";
	char line_buf[1200];
	int line_no = 0;
	size_t pos = 0;
	memset(err, 0, sizeof(*err));
	while (pos < len) {
		size_t start = pos;
		while (pos < len && text[pos] != '\n')
			pos++;
		size_t n = pos - start;
		line_no++;
		if (pos < len)
			pos++;
		if (n >= sizeof(line_buf))
			return fail(err, line_no, section, "line longer than %zu bytes",
				    sizeof(line_buf) - 1);
		memcpy(line_buf, text + start, n);
		line_buf[n] = '\0';
		if (memchr(line_buf, '\0', n))
			return fail(err, line_no, section, "NUL byte in line");
		char *hash = strchr(line_buf, '#');
		if (hash)
			*hash = '\0';
		char *l = trim(line_buf);
		if (!*l)
			continue;
		if (*l == '[') {
			char *close = strchr(l, ']');
			if (!close || close[1] != '\0' || close == l + 1)
				return fail(err, line_no, l, "malformed section header");
			*close = '\0';
			char *name = trim(l + 1);
			if (strlen(name) >= sizeof(section))
				return fail(err, line_no, name, "section name too long");
			snprintf(section, sizeof(section), "%s", name);
			if (!strncmp(section, "interface.", 10) &&
			    !interface_for(p, section + 10, line_no, err))
				return -1;
			continue;
		}
		char *eq = strchr(l, '=');
		if (!eq)
			return fail(err, line_no, l, "expected 'key = value'");
		*eq = '\0';
		char *key = trim(l), *value = trim(eq + 1);
		if (!*section)
			return fail(err, line_no, key, "key outside of a section");
		if (!*key)
			return fail(err, line_no, section, "empty key");
		if (set_key(p, section, key, value, line_no, err) < 0)
			return -1;
	}
	return 0;
}

int mg_profile_load(struct mg_profile *p, const char *name_or_path, const char *search_path,
		    struct mg_profile_error *err)
{
	char path[512];
	FILE *f = NULL;
	memset(err, 0, sizeof(*err));
	if (strchr(name_or_path, '/') || !search_path) {
		snprintf(path, sizeof(path), "%s", name_or_path);
		f = fopen(path, "r");
	} else {
		char dirs[1024];
		snprintf(dirs, sizeof(dirs), "%s", search_path);
		for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d && !f;
		     d = strtok_r(NULL, ":", &save)) {
			snprintf(path, sizeof(path), "%s/%s.conf", d, name_or_path);
			f = fopen(path, "r");
		}
	}
	if (!f)
		return fail(err, 0, "profile", "cannot open profile '%s' (%s)", name_or_path,
			    strerror(errno));
	static char text[64 * 1024];
	size_t n = fread(text, 1, sizeof(text), f);
	int too_big = !feof(f);
	fclose(f);
	if (too_big)
		return fail(err, 0, "profile", "%s is larger than 64 KiB", path);
	mg_profile_defaults(p);
	const char *base = strrchr(path, '/');
	snprintf(p->name, sizeof(p->name), "%.63s", base ? base + 1 : path);
	char *dot = strrchr(p->name, '.');
	if (dot && !strcmp(dot, ".conf"))
		*dot = '\0';
	return mg_profile_parse(p, text, n, err);
}

int mg_profile_set(struct mg_profile *p, const char *assignment, struct mg_profile_error *err)
{
	char buf[1200];
	memset(err, 0, sizeof(*err));
	if (strlen(assignment) >= sizeof(buf))
		return fail(err, 0, "--set", "too long");
	snprintf(buf, sizeof(buf), "%s", assignment);
	char *eq = strchr(buf, '=');
	char *dot = eq ? memrchr(buf, '.', (size_t)(eq - buf)) : NULL;
	if (!eq || !dot)
		return fail(err, 0, assignment, "expected section.key=value");
	*eq = '\0';
	*dot = '\0';
	return set_key(p, buf, dot + 1, eq + 1, 0, err);
}

int mg_profile_validate(const struct mg_profile *p, struct mg_profile_error *err)
{
	memset(err, 0, sizeof(*err));
	if (!p->eal_args[0])
		return fail(err, 0, "eal.args", "missing");
	if (p->n_interfaces == 0)
		return fail(err, 0, "interface", "at least one [interface.NAME] section is needed");
	for (int i = 0; i < p->n_interfaces; i++) {
		const struct mg_interface_cfg *ifc = &p->interfaces[i];
		char field[64];
		snprintf(field, sizeof(field), "interface.%s.device", ifc->name);
		if (!ifc->device[0])
			return fail(err, 0, field, "missing");
		snprintf(field, sizeof(field), "interface.%s.address", ifc->name);
		if (!ifc->address)
			return fail(err, 0, field, "missing");
		for (int j = 0; j < i; j++)
			if (!strcmp(p->interfaces[j].device, ifc->device))
				return fail(err, 0, field, "device %s used twice", ifc->device);
	}
	if (p->n_workers == 0)
		return fail(err, 0, "lcores.workers", "at least one worker lcore is needed");
	for (unsigned i = 0; i < p->n_workers; i++) {
		if (p->worker_lcores[i] == p->control_lcore)
			return fail(err, 0, "lcores.workers", "lcore %u is also the control lcore",
				    p->control_lcore);
		if (p->ship_lcore >= 0 && p->worker_lcores[i] == (unsigned)p->ship_lcore)
			return fail(err, 0, "lcores.ship", "lcore %d is also a worker",
				    p->ship_lcore);
		for (unsigned j = 0; j < i; j++)
			if (p->worker_lcores[i] == p->worker_lcores[j])
				return fail(err, 0, "lcores.workers", "lcore %u listed twice",
					    p->worker_lcores[i]);
	}
	if (p->ship_lcore >= 0 && (unsigned)p->ship_lcore == p->control_lcore)
		return fail(err, 0, "lcores.ship", "lcore %d is also the control lcore",
			    p->ship_lcore);
	if (p->port_min & 1)
		return fail(err, 0, "media.port_min", "must be even (RTP even, RTCP odd)");
	if (p->port_max <= p->port_min + 4)
		return fail(err, 0, "media.port_max", "must be above port_min + 4");
	if (p->keys_state_dir[0] && !p->keys_pin_file[0])
		return fail(err, 0, "keys.pin_file", "needed when keys.state_dir is set");
	if (p->keys_state_dir[0] && (!p->keys_token[0] || !p->keys_principal[0] ||
				     !p->keys_instance[0] || !p->keys_module[0]))
		return fail(err, 0, "keys",
			    "token, module, principal and instance must not be empty");
	if (p->rec_enable && !p->keys_state_dir[0])
		return fail(err, 0, "recording.enable",
			    "recordings are sealed with [keys]: set keys.state_dir");
	if (p->rec_s3_endpoint[0] && (!p->rec_s3_bucket[0] || !p->rec_s3_credentials_file[0]))
		return fail(err, 0, "recording.s3_endpoint",
			    "needs recording.s3_bucket and recording.s3_credentials_file");
	if (!p->rec_alias[0])
		return fail(err, 0, "recording.alias", "must not be empty");
	return 0;
}
