/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ikegw/sa_table.h"

#define SA_INDEX_MIN_CAP 1024
#define SA_SPI_TRIES 16

/* One chained hash; the same entries hang off two of them, each with its own link. */
struct sa_index {
	struct sa_table_entry **bucket;
	size_t cap;  /* a power of two */
	size_t n;
	bool by_half_open;
};

struct sa_table {
	struct sa_index by_spi;        /* every SA, by spi_local */
	struct sa_index by_half_open;  /* half-open SAs, by (spi_remote, peer) */
	uint64_t sip_key[2];
	sa_table_spi_fn *spi_fn;
	void *spi_ctx;
	unsigned iterating;            /* no growth while sa_table_foreach() walks */
};

/* ---- SipHash-2-4 over whole 64-bit words (Aumasson and Bernstein, 2012) ---- */

static uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static void sip_round(uint64_t v[4])
{
	v[0] += v[1]; v[1] = rotl(v[1], 13); v[1] ^= v[0]; v[0] = rotl(v[0], 32);
	v[2] += v[3]; v[3] = rotl(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = rotl(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = rotl(v[1], 17); v[1] ^= v[2]; v[2] = rotl(v[2], 32);
}

static void sip_compress(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sip_round(v);
	sip_round(v);
	v[0] ^= m;
}

static uint64_t sip_hash_words(const uint64_t key[2], const uint64_t *m, size_t n)
{
	uint64_t v[4] = {
		key[0] ^ 0x736f6d6570736575ULL, key[1] ^ 0x646f72616e646f6dULL,
		key[0] ^ 0x6c7967656e657261ULL, key[1] ^ 0x7465646279746573ULL,
	};

	for (size_t i = 0; i < n; i++)
		sip_compress(v, m[i]);
	/* The final block holds only the length byte: the message is whole words. */
	sip_compress(v, (uint64_t)(n * 8) << 56);
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* ---- keys ---- */

/* (spi_remote, peer address, port, family) as four words, for hashing and comparing. */
static void half_open_key(uint64_t spi_remote, const struct sockaddr_storage *peer,
			  uint64_t w[4])
{
	const struct sockaddr_in *sin = (const void *)peer;
	const struct sockaddr_in6 *sin6 = (const void *)peer;

	memset(w, 0, 4 * sizeof(*w));
	w[0] = spi_remote;
	if (peer->ss_family == AF_INET) {
		memcpy(&w[1], &sin->sin_addr, sizeof(sin->sin_addr));
		w[3] = (uint64_t)sin->sin_port << 16;
	} else if (peer->ss_family == AF_INET6) {
		memcpy(&w[1], &sin6->sin6_addr, sizeof(sin6->sin6_addr));
		w[3] = (uint64_t)sin6->sin6_port << 16 | (uint64_t)sin6->sin6_scope_id << 32;
	}
	w[3] |= peer->ss_family;
}

/* Our SPIs are uniformly random already; fold the high half in all the same. */
static uint64_t spi_hash(uint64_t spi)
{
	return spi ^ (spi >> 32);
}

static uint64_t entry_hash(const struct sa_table *t, const struct sa_index *ix,
			   const struct sa_table_entry *e)
{
	uint64_t w[4];

	if (!ix->by_half_open)
		return spi_hash(e->spi_local);
	half_open_key(e->spi_remote, &e->peer, w);
	return sip_hash_words(t->sip_key, w, 4);
}

/* ---- one index ---- */

static struct sa_table_entry **entry_link(const struct sa_index *ix, struct sa_table_entry *e)
{
	return ix->by_half_open ? &e->next_half_open : &e->next_spi;
}

static int index_init(struct sa_index *ix, bool by_half_open)
{
	ix->bucket = calloc(SA_INDEX_MIN_CAP, sizeof(*ix->bucket));
	ix->cap = SA_INDEX_MIN_CAP;
	ix->n = 0;
	ix->by_half_open = by_half_open;
	return ix->bucket ? 0 : -ENOMEM;
}

static void index_link(const struct sa_table *t, struct sa_index *ix, struct sa_table_entry *e)
{
	struct sa_table_entry **head = &ix->bucket[entry_hash(t, ix, e) & (ix->cap - 1)];

	*entry_link(ix, e) = *head;
	*head = e;
}

/* Double the buckets at load 3/4; if memory is short the chains just get longer. */
static void index_grow(const struct sa_table *t, struct sa_index *ix)
{
	struct sa_index old = *ix;
	struct sa_table_entry **nb;

	if (t->iterating || ix->n + 1 <= ix->cap / 4 * 3 || ix->cap > SIZE_MAX / 2 / sizeof(*nb))
		return;
	nb = calloc(ix->cap * 2, sizeof(*nb));
	if (!nb)
		return;
	ix->bucket = nb;
	ix->cap *= 2;
	for (size_t i = 0; i < old.cap; i++) {
		struct sa_table_entry *e = old.bucket[i], *next;

		for (; e; e = next) {
			next = *entry_link(ix, e);
			index_link(t, ix, e);
		}
	}
	free(old.bucket);
}

static void index_add(const struct sa_table *t, struct sa_index *ix, struct sa_table_entry *e)
{
	index_grow(t, ix);
	index_link(t, ix, e);
	ix->n++;
}

static void index_del(const struct sa_table *t, struct sa_index *ix, struct sa_table_entry *e)
{
	struct sa_table_entry **pp = &ix->bucket[entry_hash(t, ix, e) & (ix->cap - 1)];

	for (; *pp; pp = entry_link(ix, *pp)) {
		if (*pp == e) {
			*pp = *entry_link(ix, e);
			*entry_link(ix, e) = NULL;
			ix->n--;
			return;
		}
	}
}

/* ---- the table ---- */

static int spi_from_rand(void *ctx, uint64_t *spi)
{
	(void)ctx;
	return RAND_bytes((unsigned char *)spi, sizeof(*spi)) == 1 ? 0 : -EIO;
}

struct sa_table *sa_table_new(void)
{
	struct sa_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->spi_fn = spi_from_rand;
	if (index_init(&t->by_spi, false) < 0 || index_init(&t->by_half_open, true) < 0 ||
	    RAND_bytes((unsigned char *)t->sip_key, sizeof(t->sip_key)) != 1) {
		sa_table_free(t);
		return NULL;
	}
	return t;
}

void sa_table_free(struct sa_table *t)
{
	if (!t)
		return;
	free(t->by_spi.bucket);
	free(t->by_half_open.bucket);
	OPENSSL_cleanse(t->sip_key, sizeof(t->sip_key));
	free(t);
}

void sa_table_set_spi_source(struct sa_table *t, sa_table_spi_fn *fn, void *ctx)
{
	t->spi_fn = fn ? fn : spi_from_rand;
	t->spi_ctx = ctx;
}

int sa_table_insert_spi(struct sa_table *t, struct sa_table_entry *e, uint64_t spi_local)
{
	if (e->in_table)
		return -EEXIST;
	if (spi_local == 0)
		return -EINVAL;
	if (sa_table_find(t, spi_local))
		return -EEXIST;
	e->spi_local = spi_local;
	e->half_open = true;
	e->in_table = true;
	e->next_spi = e->next_half_open = NULL;
	index_add(t, &t->by_spi, e);
	index_add(t, &t->by_half_open, e);
	return 0;
}

int sa_table_insert(struct sa_table *t, struct sa_table_entry *e)
{
	if (e->in_table)
		return -EEXIST;
	/* A repeat is astronomically unlikely with 64 random bits; retry rather than trust. */
	for (int i = 0; i < SA_SPI_TRIES; i++) {
		uint64_t spi;
		int rc = t->spi_fn(t->spi_ctx, &spi);

		if (rc < 0)
			return rc;
		if (sa_table_insert_spi(t, e, spi) == 0)
			return 0;
	}
	return -EIO;
}

void sa_table_mark_established(struct sa_table *t, struct sa_table_entry *e)
{
	if (!e->in_table || !e->half_open)
		return;
	index_del(t, &t->by_half_open, e);
	e->half_open = false;
}

void sa_table_remove(struct sa_table *t, struct sa_table_entry *e)
{
	if (!e->in_table)
		return;
	sa_table_mark_established(t, e);
	index_del(t, &t->by_spi, e);
	e->in_table = false;
}

struct sa_table_entry *sa_table_find(const struct sa_table *t, uint64_t spi_local)
{
	struct sa_table_entry *e = t->by_spi.bucket[spi_hash(spi_local) & (t->by_spi.cap - 1)];

	while (e && e->spi_local != spi_local)
		e = e->next_spi;
	return e;
}

struct sa_table_entry *sa_table_find_half_open(const struct sa_table *t, uint64_t spi_remote,
					       const struct sockaddr_storage *peer)
{
	const struct sa_index *ix = &t->by_half_open;
	uint64_t want[4], have[4];
	struct sa_table_entry *e;

	half_open_key(spi_remote, peer, want);
	e = ix->bucket[sip_hash_words(t->sip_key, want, 4) & (ix->cap - 1)];
	for (; e; e = e->next_half_open) {
		half_open_key(e->spi_remote, &e->peer, have);
		if (memcmp(want, have, sizeof(want)) == 0)
			return e;
	}
	return NULL;
}

size_t sa_table_count(const struct sa_table *t)
{
	return t->by_spi.n;
}

size_t sa_table_half_open_count(const struct sa_table *t)
{
	return t->by_half_open.n;
}

int sa_table_foreach(struct sa_table *t, int (*fn)(struct sa_table_entry *e, void *arg),
		     void *arg)
{
	int rc = 0;

	t->iterating++;
	for (size_t i = 0; rc == 0 && i < t->by_spi.cap; i++) {
		struct sa_table_entry *e = t->by_spi.bucket[i], *next;

		for (; rc == 0 && e; e = next) {
			next = e->next_spi;
			rc = fn(e, arg);
		}
	}
	t->iterating--;
	return rc;
}
