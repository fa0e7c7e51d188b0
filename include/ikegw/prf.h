/* SPDX-License-Identifier: ISC */
/*
 * The IKEv2 PRF and prf+ (RFC 7296 2.13) over the negotiated HMAC.  Inputs are lists
 * of chunks because every PRF input in IKEv2 is a concatenation (Ni | Nr, g^ir | Ni |
 * Nr, ...): no caller has to build a temporary copy of secret material.
 */
#ifndef IKEGW_PRF_H
#define IKEGW_PRF_H

#include <stddef.h>
#include <stdint.h>

#include "ikegw/suite.h"

#define PRF_MAX_CHUNKS 8      /* data chunks in one prf / prf+ call */
#define PRF_PLUS_MAX_BLOCKS 255 /* RFC 7296 2.13: the counter is one octet */

/* out = prf(key, data[0] | ... | data[n-1]); prf->out_len bytes. */
int prf_compute(const struct crypto_suite *s, const struct suite_prf *prf, const uint8_t *key,
		size_t key_len, const struct crypto_chunk *data, size_t n, uint8_t *out);

/*
 * out = the first out_len bytes of prf+(key, S) = T1 | T2 | ..., where
 * T1 = prf(K, S | 0x01), Tk = prf(K, Tk-1 | S | k).  -EINVAL when out_len needs more
 * than 255 blocks.
 */
int prf_plus(const struct crypto_suite *s, const struct suite_prf *prf, const uint8_t *key,
	     size_t key_len, const struct crypto_chunk *seed, size_t n, uint8_t *out,
	     size_t out_len);

#endif
