/* SPDX-License-Identifier: ISC */
/*
 * Key exchange (the KE payload's data, RFC 7296 3.4) for MODP, ECP and X25519/X448
 * groups through EVP_PKEY.  A struct ke_key is our ephemeral key pair for one exchange;
 * it lives from IKE_SA_INIT (or CREATE_CHILD_SA) until g^ir is computed, then is freed.
 *
 * Peer values are validated before use: exact length for the group, ECP points on the
 * curve, MODP 1 < y < p-1, X25519/X448 results that are all zero rejected.
 */
#ifndef IKEGW_KE_H
#define IKEGW_KE_H

#include <stddef.h>
#include <stdint.h>

#include "ikegw/suite.h"

struct ke_key;

/* A fresh key pair for group (IKEV2_KE_*): 0, -ENOENT (unknown group), -EIO. */
int ke_key_generate(const struct crypto_suite *s, uint16_t group, struct ke_key **out);

/*
 * A key pair from known values, for test vectors and the deterministic exchange
 * harness.  X25519/X448: priv is the raw scalar and pub may be NULL (derived).  ECP:
 * priv is the big-endian scalar, pub the x | y value (required).  MODP: priv and pub
 * big-endian (pub required).
 */
int ke_key_import(const struct crypto_suite *s, uint16_t group, const uint8_t *priv,
		  size_t priv_len, const uint8_t *pub, size_t pub_len, struct ke_key **out);
void ke_key_free(struct ke_key *k);

const struct suite_ke *ke_key_group(const struct ke_key *k);

/* Our public value as the KE payload carries it (suite_ke.pub_len bytes). */
int ke_public_get(const struct ke_key *k, uint8_t *out, size_t cap, size_t *len);

/*
 * g^ir from the peer's KE data: suite_ke.shared_len bytes (MODP left-padded with zeros
 * to the modulus length, RFC 7296 2.14; ECP the x coordinate, RFC 5903 7).
 * -EINVAL when the peer value is unacceptable, -ENOSPC when cap is too small.
 */
int ke_shared_compute(const struct ke_key *k, const uint8_t *peer, size_t peer_len,
		      uint8_t *out, size_t cap, size_t *len);

/* MODP only: the group prime, big-endian, pub_len bytes (diagnostics and tests). */
int ke_modp_prime_get(const struct ke_key *k, uint8_t *out, size_t cap, size_t *len);

#endif
