/* SPDX-License-Identifier: ISC */
/* The transform registry: constant tables plus EVP objects fetched once. */
#include <errno.h>
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ikegw/ikev2.h"
#include "ikegw/suite.h"

struct crypto_suite {
	OSSL_LIB_CTX *libctx; /* NULL: the default library context */
	EVP_CIPHER *cipher[SUITE_CIPHER_COUNT];
	EVP_MD *md[SUITE_MD_COUNT];
	EVP_MAC *hmac;
};

static const char *const cipher_names[SUITE_CIPHER_COUNT] = {
	[SUITE_CIPHER_AES128_CBC] = "AES-128-CBC",
	[SUITE_CIPHER_AES192_CBC] = "AES-192-CBC",
	[SUITE_CIPHER_AES256_CBC] = "AES-256-CBC",
	[SUITE_CIPHER_AES128_GCM] = "AES-128-GCM",
	[SUITE_CIPHER_AES256_GCM] = "AES-256-GCM",
	[SUITE_CIPHER_CHACHA20_POLY1305] = "ChaCha20-Poly1305",
};

static const char *const md_names[SUITE_MD_COUNT] = {
	[SUITE_MD_SHA1] = "SHA1",
	[SUITE_MD_SHA256] = "SHA2-256",
	[SUITE_MD_SHA384] = "SHA2-384",
	[SUITE_MD_SHA512] = "SHA2-512",
};

/*
 * RFC 3602 (AES-CBC: 16-byte IV, 16-byte blocks), RFC 5282 (AES-GCM in IKEv2: 4-byte
 * salt from the keying material, 8-byte IV, 16-byte ICV for GCM_16), RFC 7634
 * (ChaCha20-Poly1305: 32-byte key + 4-byte salt, 8-byte IV, no Key Length attribute).
 * AEAD plaintext needs no block alignment in IKE (RFC 5282 3).
 */
static const struct suite_encr encr_table[] = {
	{ IKEV2_ENCR_AES_CBC, 128, SUITE_CIPHER_AES128_CBC, 16, 0, 16, 16, 0, false, false, "aes128" },
	{ IKEV2_ENCR_AES_CBC, 192, SUITE_CIPHER_AES192_CBC, 24, 0, 16, 16, 0, false, false, "aes192" },
	{ IKEV2_ENCR_AES_CBC, 256, SUITE_CIPHER_AES256_CBC, 32, 0, 16, 16, 0, false, false, "aes256" },
	{ IKEV2_ENCR_AES_GCM_16, 128, SUITE_CIPHER_AES128_GCM, 16, 4, 8, 1, 16, true, false,
	  "aes128gcm16" },
	{ IKEV2_ENCR_AES_GCM_16, 256, SUITE_CIPHER_AES256_GCM, 32, 4, 8, 1, 16, true, false,
	  "aes256gcm16" },
	{ IKEV2_ENCR_CHACHA20_POLY1305, 0, SUITE_CIPHER_CHACHA20_POLY1305, 32, 4, 8, 1, 16, true,
	  false, "chacha20poly1305" },
};

/* RFC 4868 2.1.2 / RFC 7296 2.14: the preferred key size of an HMAC PRF is its output. */
static const struct suite_prf prf_table[] = {
	{ IKEV2_PRF_HMAC_SHA1, SUITE_MD_SHA1, 20, 20, true, "prfsha1" },
	{ IKEV2_PRF_HMAC_SHA2_256, SUITE_MD_SHA256, 32, 32, false, "prfsha256" },
	{ IKEV2_PRF_HMAC_SHA2_384, SUITE_MD_SHA384, 48, 48, false, "prfsha384" },
	{ IKEV2_PRF_HMAC_SHA2_512, SUITE_MD_SHA512, 64, 64, false, "prfsha512" },
};

/* RFC 2404 (SHA1-96), RFC 4868 2.1 (key = hash output, ICV = half of it). */
static const struct suite_integ integ_table[] = {
	{ IKEV2_INTEG_HMAC_SHA1_96, SUITE_MD_SHA1, 20, 12, true, "sha1" },
	{ IKEV2_INTEG_HMAC_SHA2_256_128, SUITE_MD_SHA256, 32, 16, false, "sha256" },
	{ IKEV2_INTEG_HMAC_SHA2_384_192, SUITE_MD_SHA384, 48, 24, false, "sha384" },
	{ IKEV2_INTEG_HMAC_SHA2_512_256, SUITE_MD_SHA512, 64, 32, false, "sha512" },
};

/* RFC 2409 6.2: the second Oakley group; OpenSSL 3.0 has no name for it. */
static const char modp1024_hex[] =
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
	"020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
	"4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF";

/*
 * RFC 3526 MODP groups by their OpenSSL names; RFC 5903 7: ECP public values are x | y
 * (no point-format octet) and the shared secret is the x coordinate; RFC 8031: X25519
 * and X448 values are the raw little-endian strings.
 */
static const struct suite_ke ke_table[] = {
	{ IKEV2_KE_MODP1024, SUITE_KE_MODP, "DH", NULL, modp1024_hex, 128, 128, true, "modp1024" },
	{ IKEV2_KE_MODP1536, SUITE_KE_MODP, "DH", "modp_1536", NULL, 192, 192, true, "modp1536" },
	{ IKEV2_KE_MODP2048, SUITE_KE_MODP, "DH", "modp_2048", NULL, 256, 256, false, "modp2048" },
	{ IKEV2_KE_MODP3072, SUITE_KE_MODP, "DH", "modp_3072", NULL, 384, 384, false, "modp3072" },
	{ IKEV2_KE_MODP4096, SUITE_KE_MODP, "DH", "modp_4096", NULL, 512, 512, false, "modp4096" },
	{ IKEV2_KE_ECP256, SUITE_KE_ECP, "EC", "P-256", NULL, 64, 32, false, "ecp256" },
	{ IKEV2_KE_ECP384, SUITE_KE_ECP, "EC", "P-384", NULL, 96, 48, false, "ecp384" },
	{ IKEV2_KE_ECP521, SUITE_KE_ECP, "EC", "P-521", NULL, 132, 66, false, "ecp521" },
	{ IKEV2_KE_CURVE25519, SUITE_KE_ECX, "X25519", NULL, NULL, 32, 32, false, "x25519" },
	{ IKEV2_KE_CURVE448, SUITE_KE_ECX, "X448", NULL, NULL, 56, 56, false, "x448" },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

struct crypto_suite *crypto_suite_new(void)
{
	struct crypto_suite *s = calloc(1, sizeof(*s));
	bool ok = s != NULL;

	for (size_t i = 0; ok && i < SUITE_CIPHER_COUNT; i++) {
		s->cipher[i] = EVP_CIPHER_fetch(s->libctx, cipher_names[i], NULL);
		ok = s->cipher[i] != NULL;
	}
	for (size_t i = 0; ok && i < SUITE_MD_COUNT; i++) {
		s->md[i] = EVP_MD_fetch(s->libctx, md_names[i], NULL);
		ok = s->md[i] != NULL;
	}
	if (ok) {
		s->hmac = EVP_MAC_fetch(s->libctx, "HMAC", NULL);
		ok = s->hmac != NULL;
	}
	if (!ok) {
		crypto_suite_free(s);
		return NULL;
	}
	return s;
}

void crypto_suite_free(struct crypto_suite *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < SUITE_CIPHER_COUNT; i++)
		EVP_CIPHER_free(s->cipher[i]);
	for (size_t i = 0; i < SUITE_MD_COUNT; i++)
		EVP_MD_free(s->md[i]);
	EVP_MAC_free(s->hmac);
	free(s);
}

OSSL_LIB_CTX *suite_libctx(const struct crypto_suite *s)
{
	return s->libctx;
}

const EVP_CIPHER *suite_cipher_get(const struct crypto_suite *s, enum suite_cipher c)
{
	return (unsigned)c < SUITE_CIPHER_COUNT ? s->cipher[c] : NULL;
}

const EVP_MD *suite_md_get(const struct crypto_suite *s, enum suite_md md)
{
	return (unsigned)md < SUITE_MD_COUNT ? s->md[md] : NULL;
}

EVP_MAC *suite_hmac_get(const struct crypto_suite *s)
{
	return s->hmac;
}

const struct suite_encr *suite_encr_find(uint16_t id, uint16_t keylen_bits)
{
	for (size_t i = 0; i < COUNT(encr_table); i++)
		if (encr_table[i].id == id && encr_table[i].keylen_bits == keylen_bits)
			return &encr_table[i];
	return NULL;
}

const struct suite_prf *suite_prf_find(uint16_t id)
{
	for (size_t i = 0; i < COUNT(prf_table); i++)
		if (prf_table[i].id == id)
			return &prf_table[i];
	return NULL;
}

const struct suite_integ *suite_integ_find(uint16_t id)
{
	for (size_t i = 0; i < COUNT(integ_table); i++)
		if (integ_table[i].id == id)
			return &integ_table[i];
	return NULL;
}

const struct suite_ke *suite_ke_find(uint16_t id)
{
	for (size_t i = 0; i < COUNT(ke_table); i++)
		if (ke_table[i].id == id)
			return &ke_table[i];
	return NULL;
}

/* The legacy flag of a found entry, or -ENOENT; keylen only applies to ENCR. */
static int check_typed(uint8_t type, uint16_t id, uint16_t keylen_bits, bool *legacy)
{
	const struct suite_encr *e;
	const struct suite_prf *p;
	const struct suite_integ *i;
	const struct suite_ke *k;

	switch (type) {
	case IKEV2_TRANS_ENCR:
		e = suite_encr_find(id, keylen_bits);
		return e ? (*legacy = e->legacy, 0) : -ENOENT;
	case IKEV2_TRANS_PRF:
		p = keylen_bits ? NULL : suite_prf_find(id);
		return p ? (*legacy = p->legacy, 0) : -ENOENT;
	case IKEV2_TRANS_INTEG:
		i = keylen_bits ? NULL : suite_integ_find(id);
		return i ? (*legacy = i->legacy, 0) : -ENOENT;
	case IKEV2_TRANS_KE:
		k = keylen_bits ? NULL : suite_ke_find(id);
		return k ? (*legacy = k->legacy, 0) : -ENOENT;
	default:
		return -ENOENT;
	}
}

int suite_transform_check(uint8_t type, uint16_t id, uint16_t keylen_bits, bool *legacy)
{
	*legacy = false;
	if (keylen_bits == 0) {
		/* Transforms that stand for "no algorithm" need no implementation. */
		if ((type == IKEV2_TRANS_INTEG && id == IKEV2_INTEG_NONE) ||
		    (type == IKEV2_TRANS_KE && id == IKEV2_KE_NONE) ||
		    (type == IKEV2_TRANS_ESN && (id == IKEV2_ESN_NO || id == IKEV2_ESN_YES)))
			return 0;
	}
	return check_typed(type, id, keylen_bits, legacy);
}
