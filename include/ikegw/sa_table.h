/* SPDX-License-Identifier: ISC */
/*
 * Every IKE SA, found by our SPI in O(1).
 *
 * We choose our own SPI (8 random bytes, RFC 7296 2.6), so a lookup by it cannot be
 * steered by a peer, and it is unique by construction: a random value already in the
 * table is simply drawn again.  Half-open SAs are also indexed by (peer's SPI, peer
 * address and port), to recognise a retransmitted IKE_SA_INIT request, which must get the
 * same response rather than a second SA (RFC 7296 2.1).  That key is the peer's choice,
 * so it is hashed with a secret key (SipHash-2-4) against hash flooding.
 *
 * The table does not know struct ike_sa: the caller embeds a struct sa_table_entry and
 * gets back to its SA with container_of().  Separate chaining keeps removal cheap and
 * safe during sa_table_foreach(); each index doubles at a load factor of 3/4.
 *
 * SPIs are uint64_t holding the 8 wire bytes in network order, as rbuf_u64() reads them.
 */
#ifndef IKEGW_SA_TABLE_H
#define IKEGW_SA_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#endif

struct sa_table;

struct sa_table_entry {
	uint64_t spi_local;             /* ours (SPIr when we responded): set on insert */
	uint64_t spi_remote;            /* the peer's (SPIi when we responded) */
	struct sockaddr_storage peer;   /* address and port of the peer */
	bool half_open;                 /* until sa_table_mark_established() */
	bool in_table;
	/* private to the table */
	struct sa_table_entry *next_spi, *next_half_open;
};

/* Draws a candidate SPI; the default is RAND_bytes().  0 or a negative errno. */
typedef int sa_table_spi_fn(void *ctx, uint64_t *spi);

struct sa_table *sa_table_new(void);
/* Frees the table only; the entries belong to their SAs. */
void sa_table_free(struct sa_table *t);
/* For tests: a predictable SPI source. */
void sa_table_set_spi_source(struct sa_table *t, sa_table_spi_fn *fn, void *ctx);

/*
 * Insert e, half-open, with a fresh unique non-zero spi_local; the caller has set
 * spi_remote and peer.  -EEXIST if e is already in a table, -EIO if no SPI could be drawn.
 */
int sa_table_insert(struct sa_table *t, struct sa_table_entry *e);
/* Insert with the given spi_local (non-zero); -EEXIST if taken, -EINVAL if zero. */
int sa_table_insert_spi(struct sa_table *t, struct sa_table_entry *e, uint64_t spi_local);
/* Remove e; a no-op if it is in no table. */
void sa_table_remove(struct sa_table *t, struct sa_table_entry *e);
/* IKE_AUTH done: no longer half-open, no longer found by sa_table_find_half_open(). */
void sa_table_mark_established(struct sa_table *t, struct sa_table_entry *e);

struct sa_table_entry *sa_table_find(const struct sa_table *t, uint64_t spi_local);
struct sa_table_entry *sa_table_find_half_open(const struct sa_table *t, uint64_t spi_remote,
					       const struct sockaddr_storage *peer);

size_t sa_table_count(const struct sa_table *t);
/* For the cookie threshold (RFC 7296 2.6). */
size_t sa_table_half_open_count(const struct sa_table *t);

/*
 * Call fn for every entry until it returns non-zero (which is returned).  fn may remove
 * the entry it was given, and no other; it must not insert.
 */
int sa_table_foreach(struct sa_table *t, int (*fn)(struct sa_table_entry *e, void *arg),
		     void *arg);

#endif
