/* SPDX-License-Identifier: ISC */
/*
 * Shared-key AUTH, RFC 7296 2.15 (PSK) and 2.16 (EAP MSK): two prf rounds, HMAC.
 */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "ikegw/psk.h"

/* RFC 7296 2.15: 17 ASCII characters, no terminating NUL. */
static const char key_pad[] = "Key Pad for IKEv2";
#define KEY_PAD_LEN (sizeof(key_pad) - 1)

/* out = HMAC-digest(key, data); *out_len = the digest length. */
static int hmac(EVP_MAC *mac, const char *digest, const uint8_t *key, size_t key_len,
		const uint8_t *data, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
	OSSL_PARAM params[2];
	int rc = 0;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!ctx)
		rc = -ENOMEM;
	else if (EVP_MAC_init(ctx, key, key_len, params) != 1)
		rc = -ENOTSUP; /* the digest is unknown to OpenSSL */
	else if (EVP_MAC_CTX_get_mac_size(ctx) > cap)
		rc = -ENOSPC;
	else if (EVP_MAC_update(ctx, data, n) != 1 || EVP_MAC_final(ctx, out, out_len, cap) != 1)
		rc = -EIO;
	EVP_MAC_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

int psk_auth_compute(const char *digest, const uint8_t *key, size_t key_len,
		     const uint8_t *octets, size_t n, uint8_t *out, size_t cap,
		     size_t *out_len)
{
	uint8_t inner[EVP_MAX_MD_SIZE];
	size_t inner_len = 0;
	EVP_MAC *mac;
	int rc;

	if (!digest || !key || key_len == 0 || (!octets && n) || !out || !out_len)
		return -EINVAL;
	if (!(mac = EVP_MAC_fetch(NULL, "HMAC", NULL)))
		return -EIO;
	rc = hmac(mac, digest, key, key_len, (const uint8_t *)key_pad, KEY_PAD_LEN,
		  inner, sizeof(inner), &inner_len);
	if (rc == 0)
		rc = hmac(mac, digest, inner, inner_len, octets, n, out, cap, out_len);
	OPENSSL_cleanse(inner, sizeof(inner)); /* the padded key is as secret as the PSK */
	EVP_MAC_free(mac);
	return rc;
}

int psk_auth_verify(const char *digest, const uint8_t *key, size_t key_len,
		    const uint8_t *octets, size_t n, const uint8_t *auth, size_t auth_len)
{
	uint8_t want[EVP_MAX_MD_SIZE];
	size_t want_len = 0;
	int rc;

	if (!auth && auth_len)
		return -EINVAL;
	rc = psk_auth_compute(digest, key, key_len, octets, n, want, sizeof(want), &want_len);
	if (rc == 0 && (auth_len != want_len || CRYPTO_memcmp(want, auth, want_len) != 0))
		rc = -EACCES;
	OPENSSL_cleanse(want, sizeof(want));
	return rc;
}
