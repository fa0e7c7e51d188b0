/* SPDX-License-Identifier: ISC */
/*
 * Symmetric primitives shared by IKE SK protection and the userspace ESP dataplane:
 * AEAD seal/open (AES-GCM, ChaCha20-Poly1305), AES-CBC without padding, and truncated
 * HMAC.  Keys come in raw; nothing here holds keys between calls except the EVP
 * context inside a struct cipher_ctx.
 *
 * A struct cipher_ctx is scratch space: the IKE path puts one on the stack per
 * operation (cipher_ctx_init ... cipher_ctx_release); a dataplane worker keeps one for
 * its lifetime (cipher_ctx_new / _free) so a packet costs one EVP_CipherInit_ex2 re-key
 * on an already-allocated context, not an allocation.
 */
#ifndef IKEGW_CIPHER_H
#define IKEGW_CIPHER_H

#include <stddef.h>
#include <stdint.h>

#include "ikegw/suite.h"

struct cipher_ctx {
	const struct crypto_suite *suite;
	EVP_CIPHER_CTX *evp;             /* allocated on first use */
	const EVP_CIPHER *evp_cipher;    /* cipher evp was last initialised with */
	EVP_MAC_CTX *mac[SUITE_MD_COUNT]; /* HMAC per digest, allocated on first use */
};

void cipher_ctx_init(struct cipher_ctx *cx, const struct crypto_suite *s);
/* Frees the EVP contexts (OpenSSL wipes their key schedules); cx can be re-used. */
void cipher_ctx_release(struct cipher_ctx *cx);
struct cipher_ctx *cipher_ctx_new(const struct crypto_suite *s);
void cipher_ctx_free(struct cipher_ctx *cx);

/*
 * AEAD (alg->aead): nonce = salt (alg->salt_len) | iv (alg->iv_len) as in RFC 4106 4 /
 * RFC 7634 2; key is alg->key_len bytes, tag alg->icv_len.  in and out may be the same
 * buffer.  open returns -EBADMSG when the tag does not verify, and then leaves out
 * zeroed.
 */
int cipher_aead_seal(struct cipher_ctx *cx, const struct suite_encr *alg, const uint8_t *key,
		     const uint8_t *salt, const uint8_t *iv, const uint8_t *aad, size_t aad_len,
		     const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag);
int cipher_aead_open(struct cipher_ctx *cx, const struct suite_encr *alg, const uint8_t *key,
		     const uint8_t *salt, const uint8_t *iv, const uint8_t *aad, size_t aad_len,
		     const uint8_t *in, size_t len, uint8_t *out, const uint8_t *tag);

/* AES-CBC (!alg->aead) with no padding: len must be a multiple of alg->block_len. */
int cipher_cbc_encrypt(struct cipher_ctx *cx, const struct suite_encr *alg, const uint8_t *key,
		       const uint8_t *iv, const uint8_t *in, size_t len, uint8_t *out);
int cipher_cbc_decrypt(struct cipher_ctx *cx, const struct suite_encr *alg, const uint8_t *key,
		       const uint8_t *iv, const uint8_t *in, size_t len, uint8_t *out);

/* HMAC over the concatenation of parts, truncated to out_len (<= digest size). */
int cipher_mac_compute(struct cipher_ctx *cx, enum suite_md md, const uint8_t *key,
		       size_t key_len, const struct crypto_chunk *parts, size_t n, uint8_t *out,
		       size_t out_len);
/* Constant-time check of a truncated HMAC: 0, or -EBADMSG. */
int cipher_mac_verify(struct cipher_ctx *cx, enum suite_md md, const uint8_t *key,
		      size_t key_len, const struct crypto_chunk *parts, size_t n,
		      const uint8_t *icv, size_t icv_len);

/* Get (set = 0) or set (set = 1) the AEAD tag of an initialised context: 0 or -EIO. */
int cipher_aead_tag(EVP_CIPHER_CTX *e, uint8_t *tag, size_t tag_len, int set);
/* out = md(parts[0] | parts[1] | ...); out must hold EVP_MD_get_size(md) octets. */
int cipher_digest(const EVP_MD *md, const struct crypto_chunk *parts, size_t n, uint8_t *out);

#endif
