/* SPDX-License-Identifier: ISC */
/* AEAD, AES-CBC and truncated HMAC over raw keys, with reusable EVP scratch contexts. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "ikegw/cipher.h"

#define AEAD_NONCE_LEN 12 /* RFC 5116 3.2 / RFC 7634 2: salt(4) | iv(8) */

void cipher_ctx_init(struct cipher_ctx *cx, const struct crypto_suite *s)
{
	memset(cx, 0, sizeof(*cx));
	cx->suite = s;
}

void cipher_ctx_release(struct cipher_ctx *cx)
{
	EVP_CIPHER_CTX_free(cx->evp);
	for (size_t i = 0; i < SUITE_MD_COUNT; i++)
		EVP_MAC_CTX_free(cx->mac[i]);
	cipher_ctx_init(cx, cx->suite);
}

struct cipher_ctx *cipher_ctx_new(const struct crypto_suite *s)
{
	struct cipher_ctx *cx = malloc(sizeof(*cx));

	if (cx)
		cipher_ctx_init(cx, s);
	return cx;
}

void cipher_ctx_free(struct cipher_ctx *cx)
{
	if (!cx)
		return;
	cipher_ctx_release(cx);
	free(cx);
}

/*
 * (Re)key the context.  Passing the cipher again would make OpenSSL free and rebuild
 * the provider context, so it is passed only when it changes; with a NULL cipher,
 * EVP_CipherInit_ex2 only re-runs the key schedule and sets the IV.
 */
static int evp_start(struct cipher_ctx *cx, enum suite_cipher c, const uint8_t *key,
		     const uint8_t *iv, int enc)
{
	const EVP_CIPHER *cipher = suite_cipher_get(cx->suite, c);

	if (!cipher)
		return -EINVAL;
	if (!cx->evp) {
		cx->evp = EVP_CIPHER_CTX_new();
		if (!cx->evp)
			return -ENOMEM;
		cx->evp_cipher = NULL;
	}
	if (EVP_CipherInit_ex2(cx->evp, cx->evp_cipher == cipher ? NULL : cipher, key, iv, enc,
			       NULL) != 1) {
		cx->evp_cipher = NULL;
		return -EIO;
	}
	cx->evp_cipher = cipher;
	return 0;
}

/*
 * Finish an operation.  Every mode used here (GCM, ChaCha20-Poly1305, CBC without
 * padding) has emitted all output in the update, so the final must add nothing.
 */
static int evp_final(EVP_CIPHER_CTX *e)
{
	uint8_t tail[EVP_MAX_BLOCK_LENGTH];
	int outl = 0;
	int ok = EVP_CipherFinal_ex(e, tail, &outl);

	OPENSSL_cleanse(tail, sizeof(tail));
	if (ok <= 0)
		return -EBADMSG;
	return outl == 0 ? 0 : -EIO;
}

/* One EVP_CipherUpdate over in; OpenSSL counts in int. */
static int evp_update(EVP_CIPHER_CTX *e, uint8_t *out, const uint8_t *in, size_t len)
{
	int outl = 0;

	if (len > INT_MAX)
		return -EMSGSIZE;
	if (len == 0)
		return 0;
	if (EVP_CipherUpdate(e, out, &outl, in, (int)len) != 1 || (size_t)outl != len)
		return -EIO;
	return 0;
}

static int aead_start(struct cipher_ctx *cx, const struct suite_encr *alg, const uint8_t *key,
		      const uint8_t *salt, const uint8_t *iv, const uint8_t *aad, size_t aad_len,
		      int enc)
{
	uint8_t nonce[AEAD_NONCE_LEN];
	int outl = 0, rc;

	if (!alg->aead || alg->salt_len + alg->iv_len != AEAD_NONCE_LEN || aad_len > INT_MAX)
		return -EINVAL;
	memcpy(nonce, salt, alg->salt_len);
	memcpy(nonce + alg->salt_len, iv, alg->iv_len);
	rc = evp_start(cx, alg->cipher, key, nonce, enc);
	if (rc == 0 && aad_len > 0 &&
	    EVP_CipherUpdate(cx->evp, NULL, &outl, aad, (int)aad_len) != 1)
		rc = -EIO;
	return rc;
}

int cipher_aead_tag(EVP_CIPHER_CTX *e, uint8_t *tag, size_t tag_len, int set)
{
	OSSL_PARAM params[2];

	params[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, tag_len);
	params[1] = OSSL_PARAM_construct_end();
	if (set)
		return EVP_CIPHER_CTX_set_params(e, params) == 1 ? 0 : -EIO;
	return EVP_CIPHER_CTX_get_params(e, params) == 1 ? 0 : -EIO;
}

int cipher_aead_seal(struct cipher_ctx *cx, const struct suite_encr *alg, const uint8_t *key,
		     const uint8_t *salt, const uint8_t *iv, const uint8_t *aad, size_t aad_len,
		     const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
	int rc = aead_start(cx, alg, key, salt, iv, aad, aad_len, 1);

	if (rc == 0)
		rc = evp_update(cx->evp, out, in, len);
	if (rc == 0 && evp_final(cx->evp) != 0)
		rc = -EIO;
	if (rc == 0)
		rc = cipher_aead_tag(cx->evp, tag, alg->icv_len, 0);
	return rc;
}

int cipher_aead_open(struct cipher_ctx *cx, const struct suite_encr *alg, const uint8_t *key,
		     const uint8_t *salt, const uint8_t *iv, const uint8_t *aad, size_t aad_len,
		     const uint8_t *in, size_t len, uint8_t *out, const uint8_t *tag)
{
	uint8_t expect[16];
	int rc = aead_start(cx, alg, key, salt, iv, aad, aad_len, 0);

	if (rc == 0 && alg->icv_len > sizeof(expect))
		rc = -EINVAL;
	if (rc == 0)
		rc = evp_update(cx->evp, out, in, len);
	if (rc == 0) {
		memcpy(expect, tag, alg->icv_len);
		rc = cipher_aead_tag(cx->evp, expect, alg->icv_len, 1);
	}
	/* The final of a decryption fails when the tag does not verify. */
	if (rc == 0)
		rc = evp_final(cx->evp);
	if (rc != 0 && len > 0)
		OPENSSL_cleanse(out, len); /* never hand out unauthenticated plaintext */
	return rc;
}

static int cbc_run(struct cipher_ctx *cx, const struct suite_encr *alg, const uint8_t *key,
		   const uint8_t *iv, const uint8_t *in, size_t len, uint8_t *out, int enc)
{
	int rc;

	if (alg->aead || alg->block_len == 0 || len % alg->block_len != 0)
		return -EINVAL;
	rc = evp_start(cx, alg->cipher, key, iv, enc);
	/* IKE and ESP carry their own padding (RFC 7296 3.14, RFC 4303 2.4). */
	if (rc == 0 && EVP_CIPHER_CTX_set_padding(cx->evp, 0) != 1)
		rc = -EIO;
	if (rc == 0)
		rc = evp_update(cx->evp, out, in, len);
	if (rc == 0 && evp_final(cx->evp) != 0)
		rc = -EIO;
	return rc;
}

int cipher_cbc_encrypt(struct cipher_ctx *cx, const struct suite_encr *alg, const uint8_t *key,
		       const uint8_t *iv, const uint8_t *in, size_t len, uint8_t *out)
{
	return cbc_run(cx, alg, key, iv, in, len, out, 1);
}

int cipher_cbc_decrypt(struct cipher_ctx *cx, const struct suite_encr *alg, const uint8_t *key,
		       const uint8_t *iv, const uint8_t *in, size_t len, uint8_t *out)
{
	return cbc_run(cx, alg, key, iv, in, len, out, 0);
}

/* The HMAC context for md, with its digest set once when it is created. */
static EVP_MAC_CTX *mac_ctx(struct cipher_ctx *cx, enum suite_md md)
{
	OSSL_PARAM params[2];
	const EVP_MD *evp_md = suite_md_get(cx->suite, md);
	EVP_MAC_CTX *m;

	if (!evp_md)
		return NULL;
	if (cx->mac[md])
		return cx->mac[md];
	m = EVP_MAC_CTX_new(suite_hmac_get(cx->suite));
	if (!m)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)EVP_MD_get0_name(evp_md), 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_CTX_set_params(m, params) != 1) {
		EVP_MAC_CTX_free(m);
		return NULL;
	}
	cx->mac[md] = m;
	return m;
}

int cipher_mac_compute(struct cipher_ctx *cx, enum suite_md md, const uint8_t *key,
		       size_t key_len, const struct crypto_chunk *parts, size_t n, uint8_t *out,
		       size_t out_len)
{
	uint8_t full[EVP_MAX_MD_SIZE];
	size_t full_len = 0;
	EVP_MAC_CTX *m = mac_ctx(cx, md);
	int rc = 0;

	if (!m)
		return -EINVAL;
	/* A NULL or empty key would make EVP_MAC_init keep the previous one. */
	if (!key || key_len == 0 || EVP_MAC_init(m, key, key_len, NULL) != 1)
		return -EINVAL;
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (parts[i].len > 0 && EVP_MAC_update(m, parts[i].p, parts[i].len) != 1)
			rc = -EIO;
	if (rc == 0 && EVP_MAC_final(m, full, &full_len, sizeof(full)) != 1)
		rc = -EIO;
	if (rc == 0 && out_len > full_len)
		rc = -EINVAL;
	if (rc == 0)
		memcpy(out, full, out_len);
	OPENSSL_cleanse(full, sizeof(full));
	return rc;
}

int cipher_mac_verify(struct cipher_ctx *cx, enum suite_md md, const uint8_t *key,
		      size_t key_len, const struct crypto_chunk *parts, size_t n,
		      const uint8_t *icv, size_t icv_len)
{
	uint8_t calc[EVP_MAX_MD_SIZE];
	int rc;

	if (icv_len == 0 || icv_len > sizeof(calc))
		return -EINVAL;
	rc = cipher_mac_compute(cx, md, key, key_len, parts, n, calc, icv_len);
	if (rc == 0 && CRYPTO_memcmp(calc, icv, icv_len) != 0)
		rc = -EBADMSG;
	OPENSSL_cleanse(calc, sizeof(calc));
	return rc;
}

int cipher_digest(const EVP_MD *md, const struct crypto_chunk *parts, size_t n, uint8_t *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex2(ctx, md, NULL) == 1;

	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(ctx, parts[i].p, parts[i].len) == 1;
	ok = ok && EVP_DigestFinal_ex(ctx, out, NULL) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		ERR_clear_error();
	return ok ? 0 : -EIO;
}
