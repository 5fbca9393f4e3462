/* Neighbor (ARP) table: written by the control lcore, read lock-free by workers.
 * The MAC is packed into the hash's data pointer so a lookup is one probe. */
#include <string.h>

#include <rte_hash.h>
#include <rte_jhash.h>

#include "dp_internal.h"

struct neigh_key {
	uint32_t ip;
	uint32_t iface;
};

static uintptr_t pack_mac(const struct mg_mac *m)
{
	uint64_t v = 1ull << 48; /* presence bit: a zero MAC never stands for "absent" */
	for (int i = 0; i < 6; i++)
		v |= (uint64_t)m->b[i] << (8 * i);
	return (uintptr_t)v;
}

static void unpack_mac(uintptr_t v, struct mg_mac *m)
{
	for (int i = 0; i < 6; i++)
		m->b[i] = (uint8_t)(v >> (8 * i));
}

int mg_neigh_init(struct mg_dataplane *dp)
{
	struct rte_hash_parameters params = {
	    .name = "mg_neighbors",
	    .entries = 4096,
	    .key_len = sizeof(struct neigh_key),
	    .hash_func = rte_jhash,
	    .socket_id = (int)rte_socket_id(),
	    .extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	dp->neighbors = rte_hash_create(&params);
	return dp->neighbors ? 0 : -1;
}

void mg_neigh_free(struct mg_dataplane *dp)
{
	rte_hash_free(dp->neighbors);
	dp->neighbors = NULL;
}

void mg_neigh_set(struct mg_dataplane *dp, unsigned iface, uint32_t ip, const struct mg_mac *mac)
{
	struct neigh_key k = {.ip = ip, .iface = iface};
	/* Single writer: adding over an existing key swaps the data atomically. */
	rte_hash_add_key_data(dp->neighbors, &k, (void *)pack_mac(mac));
}

int mg_neigh_lookup(const struct mg_dataplane *dp, unsigned iface, uint32_t ip, struct mg_mac *mac)
{
	struct neigh_key k = {.ip = ip, .iface = iface};
	void *data;
	if (rte_hash_lookup_data(dp->neighbors, &k, &data) < 0)
		return -1;
	unpack_mac((uintptr_t)data, mac);
	return 0;
}

uint32_t mg_next_hop(const struct mg_iface *ifc, uint32_t ip)
{
	if ((ip & ifc->netmask) == (ifc->cfg.address & ifc->netmask))
		return ip;
	return ifc->cfg.gateway; /* 0 when there is no route */
}
