/* SPDX-License-Identifier: ISC */
/*
 * Address pools.  Per family: a bitmap of the range (bit set = not available:
 * leased, reserved, network/broadcast, or past the end of the range).  Lease records
 * sit in two chained hash tables sharing one bucket count: by address (exactly one
 * record per address, active or released) and by identity.  Released records are
 * also on an LRU list, oldest first, trimmed to sticky_max.
 *
 * Invariants: a released record's address is in the current range and free; handing
 * an address to someone else first drops the released record that held it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ikegw/pool.h"

struct lease {
	struct lease *id_next, *addr_next;
	struct lease *lru_prev, *lru_next; /* only while released (refs == 0) */
	uint64_t since;
	uint32_t id_hash;
	uint16_t refs; /* 0: released, remembered for stickiness only */
	uint8_t family;
	uint8_t addr[16];
	char identity[];
};

struct range {
	uint64_t *bits; /* NULL: the pool has no range of this family */
	uint8_t base[16];
	uint8_t family;
	bool broadcast; /* the last address is excluded (IPv4, not capped) */
	uint32_t size;  /* addresses covered: a power of two, <= POOL_RANGE_MAX */
	uint32_t usable;
	uint32_t nfree;
	uint32_t cursor; /* offset where the next free-address scan starts */
};

struct pool {
	char name[POOL_NAME_MAX];
	struct range range[2]; /* [0] IPv4, [1] IPv6 */
	struct ip_addr reserved[POOL_RESERVED_MAX];
	size_t nreserved;
	struct lease **by_id, **by_addr;
	size_t nbuckets, nrecords;
	struct lease *lru_head, *lru_tail;
	size_t nreleased, sticky_max;
	uint32_t active[2];
};

#define POOL_BUCKETS_MIN 64

static int fam_idx(int family)
{
	if (family == AF_INET)
		return 0;
	if (family == AF_INET6)
		return 1;
	return -1;
}

/* For families already validated (records, reserved addresses, ranges). */
static int fam_slot(int family)
{
	return family == AF_INET6;
}

/* ---- addresses and the bitmap ---- */

static uint32_t load32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void store32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static size_t range_words(const struct range *r)
{
	return (r->size + 63) / 64;
}

/*
 * The range is aligned to its size and at most 2^20 long, so it always lies within
 * one "last 32 bits" block: the leading bytes must match, the last four give the offset.
 */
static bool range_offset(const struct range *r, const struct ip_addr *a, uint32_t *off)
{
	size_t alen = ts_addr_len(r->family);
	uint32_t d;

	if (!r->bits || a->family != r->family || memcmp(a->bytes, r->base, alen - 4))
		return false;
	d = load32(a->bytes + alen - 4) - load32(r->base + alen - 4);
	if (d >= r->size)
		return false;
	*off = d;
	return true;
}

static void range_addr(const struct range *r, uint32_t off, struct ip_addr *out)
{
	size_t alen = ts_addr_len(r->family);

	memset(out, 0, sizeof(*out));
	out->family = r->family;
	memcpy(out->bytes, r->base, alen);
	store32(out->bytes + alen - 4, load32(r->base + alen - 4) + off);
}

static bool range_is_free(const struct range *r, uint32_t off)
{
	return !(r->bits[off / 64] & (1ULL << (off % 64)));
}

static void range_mark(struct range *r, uint32_t off)
{
	if (range_is_free(r, off)) {
		r->bits[off / 64] |= 1ULL << (off % 64);
		r->nfree--;
	}
}

static void range_unmark(struct range *r, uint32_t off)
{
	if (!range_is_free(r, off)) {
		r->bits[off / 64] &= ~(1ULL << (off % 64));
		r->nfree++;
	}
}

/* Network (IPv4) / Subnet-Router anycast (IPv6, RFC 4291 2.6.1), and IPv4 broadcast. */
static bool range_excluded(const struct range *r, uint32_t off)
{
	return off == 0 || (r->broadcast && off == r->size - 1);
}

int pool_check_prefix(const struct ip_prefix *prefix, int family)
{
	size_t alen;

	if (!prefix || prefix->addr.family != family)
		return -EINVAL;
	alen = ts_addr_len(family);
	/* At least two host bits: a /31 or /32 (/127, /128) leaves no client address. */
	if (!alen || prefix->len > 8 * alen - 2)
		return -EINVAL;
	return 0;
}

static int range_init(struct range *r, const struct ip_prefix *p)
{
	unsigned hostbits = (unsigned)(8 * ts_addr_len(p->addr.family)) - p->len;
	struct ts whole;

	memset(r, 0, sizeof(*r));
	if (ts_from_prefix(p, &whole))
		return -EINVAL;
	r->family = p->addr.family;
	memcpy(r->base, whole.start, sizeof(r->base));
	r->size = hostbits > POOL_RANGE_BITS ? POOL_RANGE_MAX : 1u << hostbits;
	r->broadcast = r->family == AF_INET && hostbits <= POOL_RANGE_BITS;
	r->bits = calloc(range_words(r), sizeof(uint64_t));
	if (!r->bits)
		return -ENOMEM;
	if (r->size % 64)
		r->bits[r->size / 64] = ~0ULL << (r->size % 64); /* past the end */
	r->nfree = r->size;
	range_mark(r, 0);
	if (r->broadcast)
		range_mark(r, r->size - 1);
	r->usable = r->nfree;
	r->cursor = 1;
	return 0;
}

static bool scan_word(const struct range *r, size_t w, uint64_t mask, uint32_t *off)
{
	uint64_t avail = ~r->bits[w] & mask;

	if (!avail)
		return false;
	*off = (uint32_t)(w * 64 + (unsigned)__builtin_ctzll(avail));
	return true;
}

/*
 * Next free offset at or after the cursor, wrapping once; a word at a time.  The
 * cursor moves past each allocation, so a just-released address is reused last.
 */
static int range_find_free(struct range *r, uint32_t *off)
{
	size_t nw = range_words(r), w0 = r->cursor / 64;
	uint64_t upper = ~0ULL << (r->cursor % 64);

	if (r->nfree == 0)
		return -ENOSPC;
	if (scan_word(r, w0, upper, off))
		return 0;
	for (size_t i = 1; i <= nw; i++)
		if (scan_word(r, (w0 + i) % nw, i == nw ? ~upper : ~0ULL, off))
			return 0;
	return -ENOSPC;
}

/* ---- lease records ---- */

static uint32_t fnv1a(const void *data, size_t n, uint32_t h)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static uint32_t hash_addr(int family, const uint8_t *bytes)
{
	uint8_t f = (uint8_t)family;

	return fnv1a(bytes, ts_addr_len(family), fnv1a(&f, 1, 2166136261u));
}

static uint32_t hash_identity(const char *identity)
{
	return fnv1a(identity, strlen(identity), 2166136261u);
}

static struct lease **addr_bucket(struct lease **tab, size_t n, int family, const uint8_t *b)
{
	return &tab[hash_addr(family, b) & (n - 1)];
}

static struct lease *lease_find(const struct pool *pool, const struct ip_addr *a)
{
	size_t alen = ts_addr_len(a->family);
	struct lease *l;

	if (!alen)
		return NULL;
	l = *addr_bucket(pool->by_addr, pool->nbuckets, a->family, a->bytes);
	for (; l; l = l->addr_next)
		if (l->family == a->family && !memcmp(l->addr, a->bytes, alen))
			return l;
	return NULL;
}

static void lease_addr(const struct lease *l, struct ip_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = l->family;
	memcpy(out->bytes, l->addr, sizeof(l->addr));
}

static bool lease_is(const struct lease *l, const char *identity, uint32_t h)
{
	return l->id_hash == h && !strcmp(l->identity, identity);
}

static void table_link(struct lease **by_id, struct lease **by_addr, size_t n, struct lease *l)
{
	struct lease **b = addr_bucket(by_addr, n, l->family, l->addr);

	l->addr_next = *b;
	*b = l;
	l->id_next = by_id[l->id_hash & (n - 1)];
	by_id[l->id_hash & (n - 1)] = l;
}

/* Double the bucket count once records outnumber buckets (load factor <= 1). */
static int table_grow(struct pool *pool)
{
	size_t n = pool->nbuckets * 2;
	struct lease **by_id = calloc(n, sizeof(*by_id));
	struct lease **by_addr = calloc(n, sizeof(*by_addr));

	if (!by_id || !by_addr) {
		free(by_id);
		free(by_addr);
		return -ENOMEM;
	}
	for (size_t i = 0; i < pool->nbuckets; i++) {
		struct lease *l = pool->by_addr[i], *next;

		for (; l; l = next) {
			next = l->addr_next;
			table_link(by_id, by_addr, n, l);
		}
	}
	free(pool->by_id);
	free(pool->by_addr);
	pool->by_id = by_id;
	pool->by_addr = by_addr;
	pool->nbuckets = n;
	return 0;
}

static void lru_remove(struct pool *pool, struct lease *l)
{
	if (l->lru_prev)
		l->lru_prev->lru_next = l->lru_next;
	else
		pool->lru_head = l->lru_next;
	if (l->lru_next)
		l->lru_next->lru_prev = l->lru_prev;
	else
		pool->lru_tail = l->lru_prev;
	l->lru_prev = l->lru_next = NULL;
	pool->nreleased--;
}

static void lru_append(struct pool *pool, struct lease *l)
{
	l->lru_next = NULL;
	l->lru_prev = pool->lru_tail;
	if (pool->lru_tail)
		pool->lru_tail->lru_next = l;
	else
		pool->lru_head = l;
	pool->lru_tail = l;
	pool->nreleased++;
}

static void chain_unlink(struct lease **pp, struct lease *l, bool by_id)
{
	for (; *pp; pp = by_id ? &(*pp)->id_next : &(*pp)->addr_next) {
		if (*pp == l) {
			*pp = by_id ? l->id_next : l->addr_next;
			return;
		}
	}
}

/* Forget a record entirely (its bitmap bit is the caller's business). */
static void lease_unlink_free(struct pool *pool, struct lease *l)
{
	chain_unlink(addr_bucket(pool->by_addr, pool->nbuckets, l->family, l->addr), l, false);
	chain_unlink(&pool->by_id[l->id_hash & (pool->nbuckets - 1)], l, true);
	pool->nrecords--;
	free(l);
}

/* Forget a released (sticky) record. */
static void lease_drop(struct pool *pool, struct lease *l)
{
	lru_remove(pool, l);
	lease_unlink_free(pool, l);
}

static void sticky_trim(struct pool *pool)
{
	while (pool->nreleased > pool->sticky_max)
		lease_drop(pool, pool->lru_head);
}

/* The newest-remembered released lease of identity that can still be handed back. */
static struct lease *sticky_find(const struct pool *pool, struct range *r,
				 const char *identity, uint32_t h, uint32_t *off)
{
	struct lease *l = pool->by_id[h & (pool->nbuckets - 1)];
	struct ip_addr a;

	for (; l; l = l->id_next) {
		if (l->refs || l->family != r->family || !lease_is(l, identity, h))
			continue;
		lease_addr(l, &a);
		if (range_offset(r, &a, off) && range_is_free(r, *off))
			return l;
	}
	return NULL;
}

static void lease_activate(struct pool *pool, struct range *r, struct lease *l, uint32_t off,
			   uint64_t now, struct ip_addr *out)
{
	lru_remove(pool, l);
	l->refs = 1;
	l->since = now;
	range_mark(r, off);
	pool->active[fam_slot(r->family)]++;
	lease_addr(l, out);
}

static struct lease *lease_alloc(const struct ip_addr *a, const char *identity, uint32_t h,
				 uint64_t now)
{
	size_t idlen = strlen(identity);
	struct lease *l = calloc(1, sizeof(*l) + idlen + 1);

	if (!l)
		return NULL;
	l->since = now;
	l->id_hash = h;
	l->refs = 1;
	l->family = a->family;
	memcpy(l->addr, a->bytes, sizeof(l->addr));
	memcpy(l->identity, identity, idlen + 1);
	return l;
}

/* Hand out the free offset off of r to identity. */
static int lease_take(struct pool *pool, struct range *r, uint32_t off, const char *identity,
		      uint32_t h, uint64_t now, struct ip_addr *out)
{
	struct lease *l;
	struct ip_addr a;

	range_addr(r, off, &a);
	l = lease_find(pool, &a);
	if (l && lease_is(l, identity, h)) {
		lease_activate(pool, r, l, off, now, out);
		return 0;
	}
	if (l && l->refs)
		return -EEXIST; /* cannot happen: a free bit has no active lease */
	if (l)
		lease_drop(pool, l); /* someone else's sticky address: theirs no more */
	if (pool->nrecords + 1 > pool->nbuckets && table_grow(pool))
		return -ENOMEM;
	l = lease_alloc(&a, identity, h, now);
	if (!l)
		return -ENOMEM;
	table_link(pool->by_id, pool->by_addr, pool->nbuckets, l);
	pool->nrecords++;
	range_mark(r, off);
	pool->active[fam_slot(r->family)]++;
	*out = a;
	return 0;
}

/* 0: leased; 1: the request does not apply (fall through); <0: error. */
static int lease_try_requested(struct pool *pool, struct range *r, const struct ip_addr *req,
			       const char *identity, uint32_t h, uint64_t now, struct ip_addr *out)
{
	struct lease *l;
	uint32_t off;

	if (!req || req->family != r->family)
		return 1;
	l = lease_find(pool, req);
	if (l && l->refs) {
		/* RFC 7296 2.19 lets a client ask for an address; re-authenticating (2.8.3),
		 * it asks for the one its old IKE SA still holds. */
		if (!lease_is(l, identity, h) || l->refs == UINT16_MAX)
			return 1;
		l->refs++;
		lease_addr(l, out);
		return 0;
	}
	if (!range_offset(r, req, &off) || !range_is_free(r, off))
		return 1;
	return lease_take(pool, r, off, identity, h, now, out);
}

int pool_lease_get(struct pool *pool, int family, const char *identity,
		   const struct ip_addr *requested, uint64_t now, struct ip_addr *out)
{
	int fi = fam_idx(family), rc;
	struct range *r;
	struct lease *l;
	uint32_t h, off;

	if (fi < 0 || !pool->range[fi].bits)
		return -EAFNOSUPPORT;
	if (!identity || strnlen(identity, POOL_IDENTITY_MAX + 1) > POOL_IDENTITY_MAX)
		return -EINVAL;
	r = &pool->range[fi];
	h = hash_identity(identity);
	rc = lease_try_requested(pool, r, requested, identity, h, now, out);
	if (rc <= 0)
		return rc;
	l = sticky_find(pool, r, identity, h, &off);
	if (l) {
		lease_activate(pool, r, l, off, now, out);
		return 0;
	}
	if (range_find_free(r, &off))
		return -ENOSPC;
	rc = lease_take(pool, r, off, identity, h, now, out);
	if (rc == 0) /* only scans move the cursor: requested addresses do not */
		r->cursor = off + 1 < r->size ? off + 1 : 0;
	return rc;
}

static bool pool_is_reserved(const struct pool *pool, const struct ip_addr *a)
{
	for (size_t i = 0; i < pool->nreserved; i++)
		if (ts_addr_equal(&pool->reserved[i], a))
			return true;
	return false;
}

int pool_lease_put(struct pool *pool, const struct ip_addr *addr)
{
	struct lease *l = lease_find(pool, addr);
	struct range *r;
	uint32_t off;

	if (!l || !l->refs)
		return -ENOENT;
	if (--l->refs)
		return 0;
	r = &pool->range[fam_slot(l->family)];
	pool->active[fam_slot(l->family)]--;
	/* Drained (outside the range after a reload) or since reserved: never reused. */
	if (!range_offset(r, addr, &off) || range_excluded(r, off) ||
	    pool_is_reserved(pool, addr)) {
		lease_unlink_free(pool, l);
		return 0;
	}
	range_unmark(r, off);
	lru_append(pool, l);
	sticky_trim(pool);
	return 0;
}

/* ---- the pool ---- */

/* Mark a reserved address in r (unless it is excluded anyway); drop who remembered it. */
static void range_reserve(struct pool *pool, struct range *r, const struct ip_addr *a)
{
	struct lease *l;
	uint32_t off;

	if (!range_offset(r, a, &off) || range_excluded(r, off))
		return;
	l = lease_find(pool, a);
	if (l && !l->refs)
		lease_drop(pool, l);
	r->usable--;
	range_mark(r, off);
}

int pool_reserve(struct pool *pool, const struct ip_addr *addr)
{
	int fi = fam_idx(addr->family);

	if (fi < 0)
		return -EAFNOSUPPORT;
	if (pool_is_reserved(pool, addr))
		return 0;
	if (pool->nreserved == POOL_RESERVED_MAX)
		return -ENOSPC;
	pool->reserved[pool->nreserved] = *addr;
	memset(pool->reserved[pool->nreserved].bytes + ts_addr_len(addr->family), 0,
	       16 - ts_addr_len(addr->family));
	pool->nreserved++;
	range_reserve(pool, &pool->range[fi], addr);
	return 0;
}

static int ranges_build(const struct ip_prefix *v4, const struct ip_prefix *v6,
			struct range nr[2])
{
	int rc = 0;

	memset(nr, 0, 2 * sizeof(*nr));
	if ((!v4 && !v6) || (v4 && pool_check_prefix(v4, AF_INET)) ||
	    (v6 && pool_check_prefix(v6, AF_INET6)))
		return -EINVAL;
	if (v4)
		rc = range_init(&nr[0], v4);
	if (!rc && v6)
		rc = range_init(&nr[1], v6);
	if (rc) {
		free(nr[0].bits);
		free(nr[1].bits);
	}
	return rc;
}

struct pool *pool_new(const char *name, const struct ip_prefix *v4, const struct ip_prefix *v6)
{
	struct pool *pool;
	int rc;

	if (!name || strlen(name) >= POOL_NAME_MAX) {
		errno = EINVAL;
		return NULL;
	}
	pool = calloc(1, sizeof(*pool));
	if (!pool) {
		errno = ENOMEM;
		return NULL;
	}
	strcpy(pool->name, name);
	pool->sticky_max = POOL_STICKY_DEFAULT;
	pool->nbuckets = POOL_BUCKETS_MIN;
	pool->by_id = calloc(pool->nbuckets, sizeof(*pool->by_id));
	pool->by_addr = calloc(pool->nbuckets, sizeof(*pool->by_addr));
	rc = pool->by_id && pool->by_addr ? ranges_build(v4, v6, pool->range) : -ENOMEM;
	if (rc) {
		pool_free(pool);
		errno = -rc;
		return NULL;
	}
	return pool;
}

void pool_free(struct pool *pool)
{
	if (!pool)
		return;
	for (size_t i = 0; pool->by_addr && i < pool->nbuckets; i++) {
		struct lease *l = pool->by_addr[i], *next;

		for (; l; l = next) {
			next = l->addr_next;
			free(l);
		}
	}
	free(pool->by_id);
	free(pool->by_addr);
	free(pool->range[0].bits);
	free(pool->range[1].bits);
	free(pool);
}

const char *pool_name(const struct pool *pool)
{
	return pool->name;
}

/* Carry one record over to the new ranges: active ones keep their bit, if inside. */
static void resize_carry(struct pool *pool, struct range nr[2], struct lease *l)
{
	struct range *r = &nr[fam_slot(l->family)];
	struct ip_addr a;
	uint32_t off;
	bool inside;

	lease_addr(l, &a);
	inside = range_offset(r, &a, &off);
	if (l->refs) {
		if (inside)
			range_mark(r, off);
	} else if (!inside || !range_is_free(r, off)) {
		lease_drop(pool, l);
	}
}

int pool_resize(struct pool *pool, const struct ip_prefix *v4, const struct ip_prefix *v6)
{
	struct range nr[2];
	int rc = ranges_build(v4, v6, nr);

	if (rc)
		return rc;
	for (size_t i = 0; i < pool->nreserved; i++)
		range_reserve(pool, &nr[fam_slot(pool->reserved[i].family)], &pool->reserved[i]);
	for (size_t i = 0; i < pool->nbuckets; i++) {
		struct lease *l = pool->by_addr[i], *next;

		for (; l; l = next) {
			next = l->addr_next;
			resize_carry(pool, nr, l);
		}
	}
	free(pool->range[0].bits);
	free(pool->range[1].bits);
	pool->range[0] = nr[0];
	pool->range[1] = nr[1];
	return 0;
}

bool pool_contains(const struct pool *pool, const struct ip_addr *addr)
{
	int fi = fam_idx(addr->family);
	uint32_t off;

	return fi >= 0 && range_offset(&pool->range[fi], addr, &off);
}

void pool_stats(const struct pool *pool, int family, struct pool_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (int fi = 0; fi < 2; fi++) {
		if (family && fam_idx(family) != fi)
			continue;
		st->used += pool->active[fi];
		if (!pool->range[fi].bits)
			continue;
		st->size += pool->range[fi].usable;
		st->free += pool->range[fi].nfree;
	}
}

int pool_lease_foreach(const struct pool *pool,
		       int (*fn)(const struct pool_lease_info *lease, void *ctx), void *ctx)
{
	struct pool_lease_info info;
	int rc;

	for (size_t i = 0; i < pool->nbuckets; i++) {
		for (const struct lease *l = pool->by_addr[i]; l; l = l->addr_next) {
			if (!l->refs)
				continue;
			lease_addr(l, &info.addr);
			info.identity = l->identity;
			info.since = l->since;
			rc = fn(&info, ctx);
			if (rc)
				return rc;
		}
	}
	return 0;
}

void pool_set_sticky_max(struct pool *pool, size_t max)
{
	pool->sticky_max = max;
	sticky_trim(pool);
}
