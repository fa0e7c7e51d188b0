/* SPDX-License-Identifier: ISC */
/*
 * Virtual-IP address pools: one IPv4 prefix and/or one IPv6 prefix per pool.
 *
 * Availability is a bitmap (a /16 costs 8 KiB); leases are records hashed both by
 * address and by identity.  A released lease is remembered ("sticky") so the same
 * identity gets its previous address back while nobody else took it; the number
 * remembered is capped, oldest forgotten first.  No clock reads: callers pass time.
 *
 * Never handed out: offset 0 of the range (the IPv4 network address, the IPv6
 * Subnet-Router anycast address, RFC 4291 2.6.1), the IPv4 broadcast address, and
 * addresses the caller reserved (the gateway's own).
 *
 * Range limits: at most POOL_RANGE_MAX addresses per family.  A larger prefix (IPv4
 * shorter than /12, IPv6 shorter than /108) uses only its first POOL_RANGE_MAX
 * addresses, and then its last address is an ordinary host address.  IPv4 /31 and
 * /32, IPv6 /127 and /128 are refused (-EINVAL): no room for a client.
 */
#ifndef IKEGW_POOL_H
#define IKEGW_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ikegw/ts.h" /* struct ip_addr, struct ip_prefix */

#define POOL_NAME_MAX 32
#define POOL_RANGE_BITS 20
#define POOL_RANGE_MAX (1u << POOL_RANGE_BITS)
#define POOL_IDENTITY_MAX 1024 /* bytes, without the terminating NUL */
#define POOL_RESERVED_MAX 32
#define POOL_STICKY_DEFAULT 16384

struct pool;

struct pool_stats {
	uint32_t size; /* usable addresses of the current range(s) */
	uint32_t used; /* active leases, including ones draining outside the range */
	uint32_t free; /* addresses that can be handed out now */
};

struct pool_lease_info {
	struct ip_addr addr;
	const char *identity;
	uint64_t since; /* the caller's clock, as passed to pool_lease_get() */
};

/* 0 if the prefix can back a pool, -EINVAL otherwise (for config validation). */
int pool_check_prefix(const struct ip_prefix *prefix, int family);

/* v4 and/or v6 may be NULL, not both.  NULL with errno EINVAL / ENOMEM on failure. */
struct pool *pool_new(const char *name, const struct ip_prefix *v4, const struct ip_prefix *v6);
void pool_free(struct pool *pool);
const char *pool_name(const struct pool *pool);

/*
 * Never hand out addr (the gateway's own address).  Remembered even when outside the
 * current range, so it still applies after pool_resize().  An address already leased
 * stays leased until released.  -ENOSPC beyond POOL_RESERVED_MAX.
 */
int pool_reserve(struct pool *pool, const struct ip_addr *addr);

/*
 * Lease an address of family (AF_INET / AF_INET6) to identity, in this order:
 *  1. requested (may be NULL), if in range and free, or already leased to the same
 *     identity (re-authentication: that lease is then shared, see pool_lease_put);
 *  2. the address this identity had last, if nobody took it since;
 *  3. the next free address after a rotating cursor (recently released addresses
 *     are reused last).
 * -ENOSPC when the range is full (responder: INTERNAL_ADDRESS_FAILURE),
 * -EAFNOSUPPORT when the pool has no range of that family, -EINVAL on bad identity.
 */
int pool_lease_get(struct pool *pool, int family, const char *identity,
		   const struct ip_addr *requested, uint64_t now, struct ip_addr *out);

/* Release one reference to the lease of addr.  -ENOENT when it is not leased. */
int pool_lease_put(struct pool *pool, const struct ip_addr *addr);

/* addr lies in the pool's current range(s) (leased or not). */
bool pool_contains(const struct pool *pool, const struct ip_addr *addr);

/* family AF_INET, AF_INET6, or 0 for both added up. */
void pool_stats(const struct pool *pool, int family, struct pool_stats *st);

/* Calls fn for each active lease (hash order); a non-zero return stops and is returned. */
int pool_lease_foreach(const struct pool *pool,
		       int (*fn)(const struct pool_lease_info *lease, void *ctx), void *ctx);

/*
 * Reload: the new prefixes replace the old ones (NULL drops that family).  Leases
 * inside the new range carry over; leases outside stay until released and their
 * addresses are never handed out again.  On error nothing changes.
 */
int pool_resize(struct pool *pool, const struct ip_prefix *v4, const struct ip_prefix *v6);

/* How many released leases to remember (default POOL_STICKY_DEFAULT); evicts now. */
void pool_set_sticky_max(struct pool *pool, size_t max);

#endif
