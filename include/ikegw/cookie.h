/* SPDX-License-Identifier: ISC */
/*
 * Stateless cookies against IKE_SA_INIT floods (RFC 7296 2.6):
 *
 *   Cookie = <VersionIDofSecret> | SHA-256(Ni | IPi | SPIi | <secret>)
 *
 * IPi is the initiator's address (4 or 16 bytes, no port), SPIi its 8 SPI bytes.  The
 * caller rotates the secret on a timer; a cookie made with the current or the previous
 * secret verifies (the version byte says which), so a client that got a cookie just
 * before a rotation still gets in.  Secrets come from RAND_bytes and are wiped on free.
 */
#ifndef IKEGW_COOKIE_H
#define IKEGW_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define COOKIE_HASH_LEN 32
#define COOKIE_LEN (1 + COOKIE_HASH_LEN)
#define COOKIE_SECRET_LEN 32
#define COOKIE_NONCE_MAX 256  /* RFC 7296 3.9: Ni is 16..256 bytes */

struct cookie;

/* A first secret; NULL if memory, SHA-256 or the RNG is unavailable. */
struct cookie *cookie_new(uint64_t now_ms);
void cookie_free(struct cookie *c);
/* New secret; the current one becomes the previous.  0, or -EIO leaving both unchanged. */
int cookie_rotate(struct cookie *c, uint64_t now_ms);
/* When the current secret was made, for the caller's rotation timer and for status. */
uint64_t cookie_rotated_at(const struct cookie *c);

/* out gets COOKIE_LEN bytes.  -EINVAL for an empty or oversized Ni or a non-IP address. */
int cookie_make(const struct cookie *c, const uint8_t *ni, size_t ni_len,
		const struct sockaddr_storage *ipi, uint64_t spi_i, uint8_t out[COOKIE_LEN]);
/*
 * 0 if cookie (as received, COOKIE notify data) was made by us for these values with the
 * current or previous secret; -EBADMSG if malformed, -EACCES if it does not match,
 * -EINVAL for an unusable Ni or address (as cookie_make()).
 */
int cookie_verify(const struct cookie *c, const uint8_t *cookie, size_t cookie_len,
		  const uint8_t *ni, size_t ni_len, const struct sockaddr_storage *ipi,
		  uint64_t spi_i);

/* Demand cookies once half_open reaches threshold (0: always). */
bool cookie_required(size_t half_open, size_t threshold);

#endif
