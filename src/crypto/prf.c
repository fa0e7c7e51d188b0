/* SPDX-License-Identifier: ISC */
/* prf and prf+ (RFC 7296 2.13) on top of cipher.c's HMAC. */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ikegw/cipher.h"
#include "ikegw/prf.h"

int prf_compute(const struct crypto_suite *s, const struct suite_prf *prf, const uint8_t *key,
		size_t key_len, const struct crypto_chunk *data, size_t n, uint8_t *out)
{
	struct cipher_ctx cx;
	int rc;

	if (!prf || n > PRF_MAX_CHUNKS)
		return -EINVAL;
	cipher_ctx_init(&cx, s);
	rc = cipher_mac_compute(&cx, prf->md, key, key_len, data, n, out, prf->out_len);
	cipher_ctx_release(&cx);
	return rc;
}

int prf_plus(const struct crypto_suite *s, const struct suite_prf *prf, const uint8_t *key,
	     size_t key_len, const struct crypto_chunk *seed, size_t n, uint8_t *out,
	     size_t out_len)
{
	struct crypto_chunk parts[PRF_MAX_CHUNKS + 2];
	uint8_t t[SUITE_MAX_PRF_OUT];
	uint8_t counter = 1;
	struct cipher_ctx cx;
	size_t done = 0;
	int rc = 0;

	if (!prf || n > PRF_MAX_CHUNKS || out_len > (size_t)PRF_PLUS_MAX_BLOCKS * prf->out_len)
		return -EINVAL;
	/* parts: Tk-1 (empty for k = 1), then S, then the counter octet k. */
	parts[0] = (struct crypto_chunk){ t, 0 };
	if (n > 0)
		memcpy(&parts[1], seed, n * sizeof(*seed));
	parts[n + 1] = (struct crypto_chunk){ &counter, 1 };
	cipher_ctx_init(&cx, s);
	while (rc == 0 && done < out_len) {
		size_t take = out_len - done < prf->out_len ? out_len - done : prf->out_len;

		rc = cipher_mac_compute(&cx, prf->md, key, key_len, parts, n + 2, t,
					prf->out_len);
		if (rc == 0)
			memcpy(out + done, t, take);
		done += take;
		parts[0].len = prf->out_len;
		counter++;
	}
	cipher_ctx_release(&cx);
	OPENSSL_cleanse(t, sizeof(t));
	if (rc != 0 && out_len > 0)
		OPENSSL_cleanse(out, out_len);
	return rc;
}
