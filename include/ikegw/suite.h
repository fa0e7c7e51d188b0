/* SPDX-License-Identifier: ISC */
/*
 * The transform registry: what each IKEv2 transform (RFC 7296 3.3.2, IANA "IKEv2
 * Parameters") means in bytes, and the OpenSSL 3 objects that implement it.
 *
 * The tables are constant.  struct crypto_suite holds the EVP_CIPHER / EVP_MD /
 * EVP_MAC objects, fetched once at start-up with EVP_*_fetch so that no per-packet or
 * per-SA code pays for a name lookup.  Per-SA state keeps raw keys only; EVP contexts
 * live per operation or in a per-worker struct cipher_ctx (cipher.h).
 */
#ifndef IKEGW_SUITE_H
#define IKEGW_SUITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

/* Upper bounds over every transform below, for fixed-size key buffers. */
#define SUITE_MAX_ENCR_KEY 32    /* AES-256 / ChaCha20 key */
#define SUITE_MAX_SALT 4         /* RFC 5282 / RFC 7634 salt */
#define SUITE_MAX_ENCR_KEYMAT (SUITE_MAX_ENCR_KEY + SUITE_MAX_SALT)
#define SUITE_MAX_INTEG_KEY 64   /* HMAC-SHA2-512-256 */
#define SUITE_MAX_PRF_KEY 64     /* HMAC-SHA2-512 preferred key size */
#define SUITE_MAX_PRF_OUT 64
#define SUITE_MAX_ICV 32         /* HMAC-SHA2-512-256 */
#define SUITE_MAX_IV 16          /* AES-CBC */
#define SUITE_MAX_KE_PUB 512     /* MODP-4096 (group 16) */
#define SUITE_MAX_KE_SHARED 512

/* The EVP objects the suite fetches (indices into struct crypto_suite). */
enum suite_cipher {
	SUITE_CIPHER_AES128_CBC,
	SUITE_CIPHER_AES192_CBC,
	SUITE_CIPHER_AES256_CBC,
	SUITE_CIPHER_AES128_GCM,
	SUITE_CIPHER_AES256_GCM,
	SUITE_CIPHER_CHACHA20_POLY1305,
	SUITE_CIPHER_COUNT
};

enum suite_md {
	SUITE_MD_SHA1,
	SUITE_MD_SHA256,
	SUITE_MD_SHA384,
	SUITE_MD_SHA512,
	SUITE_MD_COUNT
};

/* An encryption transform (IKEV2_TRANS_ENCR), per key length. */
struct suite_encr {
	uint16_t id;          /* IKEV2_ENCR_* */
	uint16_t keylen_bits; /* Key Length attribute; 0 when the transform has none */
	uint8_t cipher;       /* enum suite_cipher */
	uint8_t key_len;      /* cipher key bytes */
	uint8_t salt_len;     /* extra keying bytes after the key (AEAD salt) */
	uint8_t iv_len;       /* IV bytes carried on the wire */
	uint8_t block_len;    /* plaintext alignment for IKE SK padding (1: none) */
	uint8_t icv_len;      /* AEAD tag bytes; 0 for CBC (the INTEG transform's) */
	bool aead;
	bool legacy;
	const char *name;
};

/* A pseudo-random function (IKEV2_TRANS_PRF). */
struct suite_prf {
	uint16_t id;     /* IKEV2_PRF_* */
	uint8_t md;      /* enum suite_md */
	uint8_t key_len; /* preferred key size (RFC 7296 2.14): SK_d, SK_pi, SK_pr */
	uint8_t out_len;
	bool legacy;
	const char *name;
};

/* An integrity transform (IKEV2_TRANS_INTEG): HMAC truncated to icv_len. */
struct suite_integ {
	uint16_t id; /* IKEV2_INTEG_* */
	uint8_t md;  /* enum suite_md */
	uint8_t key_len;
	uint8_t icv_len;
	bool legacy;
	const char *name;
};

enum suite_ke_kind {
	SUITE_KE_MODP, /* finite field DH, RFC 2409 / RFC 3526 */
	SUITE_KE_ECP,  /* NIST prime curves, RFC 5903 */
	SUITE_KE_ECX,  /* X25519 / X448, RFC 8031 */
};

/* A key exchange method (IKEV2_TRANS_KE). */
struct suite_ke {
	uint16_t id;          /* IKEV2_KE_* */
	uint8_t kind;         /* enum suite_ke_kind */
	const char *keytype;  /* OpenSSL key type: "DH", "EC", "X25519", "X448" */
	const char *group;    /* OpenSSL group name, or NULL when OpenSSL has none */
	const char *prime_hex;/* MODP prime when group is NULL (generator is 2) */
	uint16_t pub_len;     /* KE payload data length */
	uint16_t shared_len;  /* g^ir length */
	bool legacy;
	const char *name;
};

/* A span of bytes; PRF and MAC inputs are concatenations of these. */
struct crypto_chunk {
	const void *p;
	size_t len;
};

struct crypto_suite;

/* Fetch every EVP object; NULL if any is missing (the daemon cannot run without). */
struct crypto_suite *crypto_suite_new(void);
void crypto_suite_free(struct crypto_suite *s);

OSSL_LIB_CTX *suite_libctx(const struct crypto_suite *s);
const EVP_CIPHER *suite_cipher_get(const struct crypto_suite *s, enum suite_cipher c);
const EVP_MD *suite_md_get(const struct crypto_suite *s, enum suite_md md);
EVP_MAC *suite_hmac_get(const struct crypto_suite *s);

/* Table lookups; NULL when we do not implement the transform (or key length). */
const struct suite_encr *suite_encr_find(uint16_t id, uint16_t keylen_bits);
const struct suite_prf *suite_prf_find(uint16_t id);
const struct suite_integ *suite_integ_find(uint16_t id);
const struct suite_ke *suite_ke_find(uint16_t id);

/*
 * Is (type, id, keylen) a transform we implement?  0 and *legacy set, or -ENOENT.
 * INTEG NONE, KE NONE and both ESN values count as implemented (they need no code).
 */
int suite_transform_check(uint8_t type, uint16_t id, uint16_t keylen_bits, bool *legacy);

#endif
