/* SPDX-License-Identifier: ISC */
/*
 * Shared-key AUTH (RFC 7296 2.15):
 *     AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets> )
 * The same construction authenticates EAP with the MSK as the shared secret (RFC 7296
 * 2.16), so the key is any byte string.  The prf is HMAC with the negotiated digest,
 * named as OpenSSL names it ("SHA256", "SHA384", "SHA512", "SHA1").
 */
#ifndef IKEGW_PSK_H
#define IKEGW_PSK_H

#include <stddef.h>
#include <stdint.h>

/* The largest AUTH value (HMAC-SHA-512). */
#define PSK_AUTH_MAX 64

/*
 * Compute AUTH into out (cap bytes); *out_len = the prf's output length.
 * 0, -EINVAL (empty key, bad arguments), -ENOTSUP (unknown digest), -ENOSPC, -EIO.
 */
int psk_auth_compute(const char *digest, const uint8_t *key, size_t key_len,
		     const uint8_t *octets, size_t n, uint8_t *out, size_t cap,
		     size_t *out_len);

/*
 * Check a received AUTH value in constant time.  0 when it matches, -EACCES when
 * not (including a wrong length), other negatives as psk_auth_compute.
 */
int psk_auth_verify(const char *digest, const uint8_t *key, size_t key_len,
		    const uint8_t *octets, size_t n, const uint8_t *auth, size_t auth_len);

#endif
