/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "ikegw/ikev2.h"
#include "ikegw/sig.h"

struct keys {
	EVP_PKEY *rsa, *p256, *p384, *p521, *ed25519, *rsa1024;
};

static const int sha2[] = { IKEV2_HASH_SHA2_256, IKEV2_HASH_SHA2_384, IKEV2_HASH_SHA2_512 };
static const uint8_t octets[] = "RealMessage1 | NonceRData | MACedIDForI";
#define OCTETS_LEN (sizeof(octets) - 1)

static int setup(void **state)
{
	static struct keys k;

	k.rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	k.rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	k.p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	k.p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	k.p521 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
	k.ed25519 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!k.rsa || !k.rsa1024 || !k.p256 || !k.p384 || !k.p521 || !k.ed25519)
		return -1;
	*state = &k;
	return 0;
}

static int teardown(void **state)
{
	struct keys *k = *state;

	EVP_PKEY_free(k->rsa);
	EVP_PKEY_free(k->rsa1024);
	EVP_PKEY_free(k->p256);
	EVP_PKEY_free(k->p384);
	EVP_PKEY_free(k->p521);
	EVP_PKEY_free(k->ed25519);
	return 0;
}

/* Sign with the DS method, check the layout, verify, and return the AUTH length. */
static size_t ds_roundtrip(EVP_PKEY *key, int hash, bool pss, enum sig_kind kind,
			   uint8_t *auth, size_t cap)
{
	struct sig_scheme s = { kind, hash }, used = { 0, 0 };
	const uint8_t *aid;
	size_t aid_len;
	struct wbuf w;

	wbuf_init(&w, auth, cap);
	assert_int_equal(sig_ds_sign(key, hash, pss, octets, OCTETS_LEN, &w), 0);
	assert_true(wbuf_len(&w) <= sig_auth_len_max(key));
	assert_int_equal(sig_ds_algid(&s, &aid, &aid_len), 0);
	assert_int_equal(auth[0], aid_len);
	assert_memory_equal(auth + 1, aid, aid_len);
	assert_true(wbuf_len(&w) > 1 + aid_len);
	assert_int_equal(sig_ds_verify(key, auth, wbuf_len(&w), octets, OCTETS_LEN, &used), 0);
	assert_int_equal(used.kind, kind);
	assert_int_equal(used.hash, hash);
	assert_int_equal(sig_verify(key, IKEV2_AUTH_DIGITAL_SIGNATURE, auth, wbuf_len(&w),
				    octets, OCTETS_LEN), 0);
	return wbuf_len(&w);
}

static void test_ds_rsa_pkcs1(void **state)
{
	struct keys *k = *state;
	uint8_t auth[600];
	size_t i;

	for (i = 0; i < 3; i++)
		assert_int_equal(ds_roundtrip(k->rsa, sha2[i], false, SIG_RSA_PKCS1, auth,
					      sizeof(auth)), 1 + 15 + 256);
}

static void test_ds_rsa_pss(void **state)
{
	struct keys *k = *state;
	uint8_t auth[600];
	size_t i;

	for (i = 0; i < 3; i++)
		assert_int_equal(ds_roundtrip(k->rsa, sha2[i], true, SIG_RSA_PSS, auth,
					      sizeof(auth)), 1 + 67 + 256);
}

static void test_ds_ecdsa(void **state)
{
	struct keys *k = *state;
	EVP_PKEY *curves[] = { k->p256, k->p384, k->p521 };
	uint8_t auth[300];
	size_t i, j;

	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++)
			ds_roundtrip(curves[i], sha2[j], false, SIG_ECDSA, auth, sizeof(auth));
}

static void test_ds_ed25519(void **state)
{
	struct keys *k = *state;
	uint8_t auth[100];
	struct wbuf w;

	assert_int_equal(ds_roundtrip(k->ed25519, IKEV2_HASH_IDENTITY, false, SIG_ED25519, auth,
				      sizeof(auth)), 1 + 7 + 64);
	wbuf_init(&w, auth, sizeof(auth));
	assert_int_equal(sig_ds_sign(k->ed25519, IKEV2_HASH_SHA2_256, false, octets, OCTETS_LEN,
				     &w), -ENOTSUP);
	assert_int_equal(sig_ds_sign(k->p256, IKEV2_HASH_IDENTITY, false, octets, OCTETS_LEN,
				     &w), -ENOTSUP);
	assert_int_equal(sig_ds_sign(k->rsa, IKEV2_HASH_SHA1, false, octets, OCTETS_LEN, &w),
			 -ENOTSUP);
}

/* OpenSSL's own AlgorithmIdentifier for a signing context (provider "algorithm-id"). */
static size_t openssl_algid(EVP_PKEY *key, int hash, bool pss, uint8_t *out, size_t cap)
{
	static const char *const md[] = { [2] = "SHA256", [3] = "SHA384", [4] = "SHA512" };
	const char *name = hash == IKEV2_HASH_IDENTITY ? NULL : md[hash];
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *p = NULL;
	OSSL_PARAM ps[] = {
		OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, out, cap),
		OSSL_PARAM_END,
	};

	assert_int_equal(EVP_DigestSignInit_ex(m, &p, name, NULL, NULL, key, NULL), 1);
	if (pss) {
		assert_true(EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_PSS_PADDING) > 0);
		assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md_name(p, name, NULL) > 0);
		assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(p, RSA_PSS_SALTLEN_DIGEST) > 0);
	}
	assert_int_equal(EVP_PKEY_CTX_get_params(p, ps), 1);
	EVP_MD_CTX_free(m);
	return ps[0].return_size;
}

/* The same through X509_ALGOR (OID table + parameter rule), where that is simple. */
static void check_x509_algor(int nid, bool null_param, const uint8_t *der, size_t len)
{
	X509_ALGOR *a = X509_ALGOR_new();
	unsigned char *enc = NULL;
	int n;

	assert_int_equal(X509_ALGOR_set0(a, OBJ_nid2obj(nid),
					 null_param ? V_ASN1_NULL : V_ASN1_UNDEF, NULL), 1);
	n = i2d_X509_ALGOR(a, &enc);
	assert_int_equal(n, len);
	assert_memory_equal(enc, der, len);
	OPENSSL_free(enc);
	X509_ALGOR_free(a);
}

static void check_algid(EVP_PKEY *key, enum sig_kind kind, int hash, int nid)
{
	struct sig_scheme s = { kind, hash };
	uint8_t theirs[128];
	const uint8_t *ours;
	size_t ours_len, len;

	assert_int_equal(sig_ds_algid(&s, &ours, &ours_len), 0);
	len = openssl_algid(key, hash, kind == SIG_RSA_PSS, theirs, sizeof(theirs));
	assert_int_equal(len, ours_len);
	assert_memory_equal(theirs, ours, len);
	if (nid != NID_undef)
		check_x509_algor(nid, kind == SIG_RSA_PKCS1, ours, ours_len);
}

static void test_algid_matches_openssl(void **state)
{
	static const int rsa_nid[] = { NID_sha256WithRSAEncryption,
				       NID_sha384WithRSAEncryption,
				       NID_sha512WithRSAEncryption };
	static const int ec_nid[] = { NID_ecdsa_with_SHA256, NID_ecdsa_with_SHA384,
				      NID_ecdsa_with_SHA512 };
	struct keys *k = *state;
	size_t i;

	for (i = 0; i < 3; i++) {
		check_algid(k->rsa, SIG_RSA_PKCS1, sha2[i], rsa_nid[i]);
		check_algid(k->rsa, SIG_RSA_PSS, sha2[i], NID_undef);
		check_algid(k->p256, SIG_ECDSA, sha2[i], ec_nid[i]);
	}
	check_algid(k->ed25519, SIG_ED25519, IKEV2_HASH_IDENTITY, NID_ED25519);
}

/* PSS with absent (not NULL) hash parameters is the same algorithm: accepted. */
static void test_pss_absent_params_accepted(void **state)
{
	static const uint8_t aid_absent[] = {
		0x30, 0x3d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a,
		0x30, 0x30, 0xa0, 0x0b, 0x30, 0x09, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
		0x03, 0x04, 0x02, 0x01, 0xa1, 0x18, 0x30, 0x16, 0x06, 0x09, 0x2a, 0x86, 0x48,
		0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30, 0x09, 0x06, 0x09, 0x60, 0x86, 0x48,
		0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0xa2, 0x03, 0x02, 0x01, 0x20,
	};
	struct keys *k = *state;
	uint8_t auth[600], re[600];
	struct wbuf w;
	size_t len, sig_off = 1 + 67;

	wbuf_init(&w, auth, sizeof(auth));
	assert_int_equal(sig_ds_sign(k->rsa, IKEV2_HASH_SHA2_256, true, octets, OCTETS_LEN,
				     &w), 0);
	len = wbuf_len(&w);
	wbuf_init(&w, re, sizeof(re));
	wbuf_u8(&w, sizeof(aid_absent));
	wbuf_bytes(&w, aid_absent, sizeof(aid_absent));
	wbuf_bytes(&w, auth + sig_off, len - sig_off);
	assert_true(wbuf_ok(&w));
	assert_int_equal(sig_ds_verify(k->rsa, re, wbuf_len(&w), octets, OCTETS_LEN, NULL), 0);
}

static void test_ds_tampered(void **state)
{
	struct keys *k = *state;
	EVP_PKEY *keys[] = { k->rsa, k->p384, k->ed25519 };
	int hashes[] = { IKEV2_HASH_SHA2_256, IKEV2_HASH_SHA2_384, IKEV2_HASH_IDENTITY };
	uint8_t auth[600], data[sizeof(octets)];
	struct wbuf w;
	size_t i, len;

	for (i = 0; i < 3; i++) {
		wbuf_init(&w, auth, sizeof(auth));
		assert_int_equal(sig_ds_sign(keys[i], hashes[i], true, octets, OCTETS_LEN, &w), 0);
		len = wbuf_len(&w);
		memcpy(data, octets, OCTETS_LEN);
		data[3] ^= 0x80;
		assert_int_equal(sig_ds_verify(keys[i], auth, len, data, OCTETS_LEN, NULL), -EACCES);
		assert_int_equal(sig_ds_verify(keys[i], auth, len, octets, OCTETS_LEN - 1, NULL),
				 -EACCES);
		auth[len - 1] ^= 0x01;
		assert_int_equal(sig_ds_verify(keys[i], auth, len, octets, OCTETS_LEN, NULL),
				 -EACCES);
		auth[len - 1] ^= 0x01;
		/* signature truncated by one byte */
		assert_int_equal(sig_ds_verify(keys[i], auth, len - 1, octets, OCTETS_LEN, NULL),
				 -EACCES);
		assert_int_equal(sig_ds_verify(keys[i], auth, len, octets, OCTETS_LEN, NULL), 0);
	}
}

static void test_ds_algid_key_mismatch(void **state)
{
	struct keys *k = *state;
	uint8_t ec_auth[200], rsa_auth[600], ed_auth[100];
	struct wbuf a, b, c;

	wbuf_init(&a, ec_auth, sizeof(ec_auth));
	wbuf_init(&b, rsa_auth, sizeof(rsa_auth));
	wbuf_init(&c, ed_auth, sizeof(ed_auth));
	assert_int_equal(sig_ds_sign(k->p256, IKEV2_HASH_SHA2_256, false, octets, OCTETS_LEN,
				     &a), 0);
	assert_int_equal(sig_ds_sign(k->rsa, IKEV2_HASH_SHA2_256, false, octets, OCTETS_LEN,
				     &b), 0);
	assert_int_equal(sig_ds_sign(k->ed25519, IKEV2_HASH_IDENTITY, false, octets, OCTETS_LEN,
				     &c), 0);
	/* ECDSA AlgorithmIdentifier, RSA certificate key, and every other mix */
	assert_int_equal(sig_ds_verify(k->rsa, ec_auth, wbuf_len(&a), octets, OCTETS_LEN, NULL),
			 -EKEYREJECTED);
	assert_int_equal(sig_ds_verify(k->ed25519, ec_auth, wbuf_len(&a), octets, OCTETS_LEN,
				       NULL), -EKEYREJECTED);
	assert_int_equal(sig_ds_verify(k->p256, rsa_auth, wbuf_len(&b), octets, OCTETS_LEN,
				       NULL), -EKEYREJECTED);
	assert_int_equal(sig_ds_verify(k->p256, ed_auth, wbuf_len(&c), octets, OCTETS_LEN,
				       NULL), -EKEYREJECTED);
	/* the right type but another key */
	assert_int_equal(sig_ds_verify(k->p384, ec_auth, wbuf_len(&a), octets, OCTETS_LEN,
				       NULL), -EACCES);
}

static void test_ds_weak_rsa_refused(void **state)
{
	struct keys *k = *state;
	uint8_t auth[600];
	struct wbuf w;

	wbuf_init(&w, auth, sizeof(auth));
	assert_int_equal(sig_ds_sign(k->rsa1024, IKEV2_HASH_SHA2_256, false, octets, OCTETS_LEN,
				     &w), -EKEYREJECTED);
}

static void test_ds_malformed(void **state)
{
	static const uint8_t len_past_end[] = { 0x20, 0x30, 0x0a, 0x06, 0x08 };
	static const uint8_t len_255[] = { 0xff, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 1 };
	static const uint8_t zero_len[] = { 0x00, 0x01, 0x02 };
	static const uint8_t no_sig[] = { 0x07, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70 };
	static const uint8_t garbage[] = { 0x05, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02 };
	/* ecdsa-with-SHA256 with a bogus length inside the DER */
	static const uint8_t bad_der[] = { 0x0c, 0x30, 0x7f, 0x06, 0x08, 0x2a, 0x86, 0x48,
					   0xce, 0x3d, 0x04, 0x03, 0x02, 0x01 };
	/* ecdsa-with-SHA1: well-formed but not supported */
	static const uint8_t sha1[] = { 0x0b, 0x30, 0x09, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce,
					0x3d, 0x04, 0x01, 0x01 };
	/* a good AlgorithmIdentifier but a signature that is not DER */
	static const uint8_t bad_sig[] = { 0x0c, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48,
					   0xce, 0x3d, 0x04, 0x03, 0x02, 0x30, 0xff, 0x02 };
	struct keys *k = *state;
	EVP_PKEY *p = k->p256;

	assert_int_equal(sig_ds_verify(p, NULL, 0, octets, OCTETS_LEN, NULL), -EBADMSG);
	assert_int_equal(sig_ds_verify(p, len_past_end, sizeof(len_past_end), octets,
				       OCTETS_LEN, NULL), -EBADMSG);
	assert_int_equal(sig_ds_verify(p, len_255, sizeof(len_255), octets, OCTETS_LEN, NULL),
			 -EBADMSG);
	assert_int_equal(sig_ds_verify(p, zero_len, sizeof(zero_len), octets, OCTETS_LEN, NULL),
			 -EBADMSG);
	assert_int_equal(sig_ds_verify(k->ed25519, no_sig, sizeof(no_sig), octets, OCTETS_LEN,
				       NULL), -EBADMSG);
	assert_int_equal(sig_ds_verify(p, garbage, sizeof(garbage), octets, OCTETS_LEN, NULL),
			 -ENOTSUP);
	assert_int_equal(sig_ds_verify(p, bad_der, sizeof(bad_der), octets, OCTETS_LEN, NULL),
			 -ENOTSUP);
	assert_int_equal(sig_ds_verify(p, sha1, sizeof(sha1), octets, OCTETS_LEN, NULL),
			 -ENOTSUP);
	assert_int_equal(sig_ds_verify(p, bad_sig, sizeof(bad_sig), octets, OCTETS_LEN, NULL),
			 -EACCES);
}

static void test_classic_ecdsa(void **state)
{
	struct keys *k = *state;
	EVP_PKEY *keys[] = { k->p256, k->p384, k->p521 };
	int methods[] = { IKEV2_AUTH_ECDSA_256, IKEV2_AUTH_ECDSA_384, IKEV2_AUTH_ECDSA_521 };
	size_t sizes[] = { 64, 96, 132 };
	uint8_t auth[200];
	struct wbuf w;
	size_t i, round;

	for (i = 0; i < 3; i++) {
		assert_int_equal(sig_classic_method(keys[i]), methods[i]);
		/* repeat: r or s with leading zero bytes must still be fixed-size */
		for (round = 0; round < 8; round++) {
			wbuf_init(&w, auth, sizeof(auth));
			assert_int_equal(sig_classic_sign(keys[i], methods[i], false, octets,
							  OCTETS_LEN, &w), 0);
			assert_int_equal(wbuf_len(&w), sizes[i]);
			assert_int_equal(sig_verify(keys[i], methods[i], auth, sizes[i], octets,
						    OCTETS_LEN), 0);
		}
		auth[sizes[i] - 1] ^= 0x40;
		assert_int_equal(sig_classic_verify(keys[i], methods[i], auth, sizes[i], octets,
						    OCTETS_LEN), -EACCES);
		assert_int_equal(sig_classic_verify(keys[i], methods[i], auth, sizes[i] - 1,
						    octets, OCTETS_LEN), -EBADMSG);
		assert_int_equal(sig_classic_verify(keys[i], methods[i], auth, sizes[i] + 1,
						    octets, OCTETS_LEN), -EBADMSG);
	}
	/* curve and method must agree (RFC 4754) */
	wbuf_init(&w, auth, sizeof(auth));
	assert_int_equal(sig_classic_sign(k->p384, IKEV2_AUTH_ECDSA_256, false, octets,
					  OCTETS_LEN, &w), -EKEYREJECTED);
	assert_int_equal(sig_classic_verify(k->p384, IKEV2_AUTH_ECDSA_256, auth, 64, octets,
					    OCTETS_LEN), -EKEYREJECTED);
	assert_int_equal(sig_classic_verify(k->rsa, IKEV2_AUTH_ECDSA_256, auth, 64, octets,
					    OCTETS_LEN), -EKEYREJECTED);
	/* r = s = 0 is not a signature */
	memset(auth, 0, 64);
	assert_int_equal(sig_classic_verify(k->p256, IKEV2_AUTH_ECDSA_256, auth, 64, octets,
					    OCTETS_LEN), -EACCES);
}

static void test_classic_rsa_sha1(void **state)
{
	struct keys *k = *state;
	uint8_t auth[300];
	struct wbuf w;

	assert_int_equal(sig_classic_method(k->rsa), IKEV2_AUTH_RSA_SIG);
	assert_int_equal(sig_classic_method(k->ed25519), -ENOTSUP);
	wbuf_init(&w, auth, sizeof(auth));
	assert_int_equal(sig_classic_sign(k->rsa, IKEV2_AUTH_RSA_SIG, false, octets, OCTETS_LEN,
					  &w), -ENOTSUP);
	assert_int_equal(sig_classic_sign(k->rsa, IKEV2_AUTH_RSA_SIG, true, octets, OCTETS_LEN,
					  &w), 0);
	assert_int_equal(wbuf_len(&w), 256);
	assert_int_equal(sig_verify(k->rsa, IKEV2_AUTH_RSA_SIG, auth, 256, octets, OCTETS_LEN),
			 0);
	auth[10] ^= 1;
	assert_int_equal(sig_verify(k->rsa, IKEV2_AUTH_RSA_SIG, auth, 256, octets, OCTETS_LEN),
			 -EACCES);
	assert_int_equal(sig_verify(k->rsa, IKEV2_AUTH_PSK, auth, 256, octets, OCTETS_LEN),
			 -ENOTSUP);
	assert_int_equal(sig_verify(k->rsa, IKEV2_AUTH_RSA_SIG, auth, 0, octets, OCTETS_LEN),
			 -EBADMSG);
}

static void test_output_too_small(void **state)
{
	struct keys *k = *state;
	uint8_t auth[40];
	struct wbuf w;

	wbuf_init(&w, auth, sizeof(auth));
	assert_int_equal(sig_ds_sign(k->p256, IKEV2_HASH_SHA2_256, false, octets, OCTETS_LEN,
				     &w), -ENOSPC);
	wbuf_init(&w, auth, sizeof(auth));
	assert_int_equal(sig_classic_sign(k->p256, IKEV2_AUTH_ECDSA_256, false, octets,
					  OCTETS_LEN, &w), -ENOSPC);
}

static void test_choose_hash(void **state)
{
	static const uint8_t all[] = { 0, 1, 0, 2, 0, 3, 0, 4, 0, 5 };
	static const uint8_t sha256_only[] = { 0, 2 };
	static const uint8_t sha256_384[] = { 0, 3, 0, 2, 0x12, 0x34 };
	static const uint8_t sha1_identity[] = { 0, 1, 0, 5 };
	static const uint8_t odd[] = { 0, 2, 0 };
	struct keys *k = *state;

	assert_int_equal(sig_choose_hash(all, sizeof(all), k->rsa), IKEV2_HASH_SHA2_512);
	assert_int_equal(sig_choose_hash(sha256_384, sizeof(sha256_384), k->rsa),
			 IKEV2_HASH_SHA2_384);
	assert_int_equal(sig_choose_hash(sha256_only, sizeof(sha256_only), k->rsa),
			 IKEV2_HASH_SHA2_256);
	assert_int_equal(sig_choose_hash(all, sizeof(all), k->p256), IKEV2_HASH_SHA2_256);
	assert_int_equal(sig_choose_hash(all, sizeof(all), k->p384), IKEV2_HASH_SHA2_384);
	assert_int_equal(sig_choose_hash(all, sizeof(all), k->p521), IKEV2_HASH_SHA2_512);
	assert_int_equal(sig_choose_hash(sha256_384, sizeof(sha256_384), k->p521),
			 IKEV2_HASH_SHA2_384);
	assert_int_equal(sig_choose_hash(all, sizeof(all), k->ed25519), IKEV2_HASH_IDENTITY);
	assert_int_equal(sig_choose_hash(sha256_only, sizeof(sha256_only), k->ed25519),
			 -ENOTSUP);
	assert_int_equal(sig_choose_hash(sha1_identity, sizeof(sha1_identity), k->rsa),
			 -ENOTSUP);
	assert_int_equal(sig_choose_hash(NULL, 0, k->p256), -ENOTSUP);
	assert_int_equal(sig_choose_hash(odd, sizeof(odd), k->p256), -EBADMSG);
}

static void test_octets_build(void **state)
{
	static const uint8_t msg[] = { 1, 2, 3 }, nonce[] = { 4, 5 }, mac[] = { 6, 7, 8, 9 };
	static const uint8_t want[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	struct sig_octets o = { msg, sizeof(msg), nonce, sizeof(nonce), mac, sizeof(mac) };
	uint8_t out[9], small[8];
	struct wbuf w;
	(void)state;

	assert_int_equal(sig_octets_len(&o), 9);
	wbuf_init(&w, out, sizeof(out));
	assert_int_equal(sig_octets_build(&o, &w), 0);
	assert_memory_equal(out, want, sizeof(want));
	wbuf_init(&w, small, sizeof(small));
	assert_int_equal(sig_octets_build(&o, &w), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ds_rsa_pkcs1),
		cmocka_unit_test(test_ds_rsa_pss),
		cmocka_unit_test(test_ds_ecdsa),
		cmocka_unit_test(test_ds_ed25519),
		cmocka_unit_test(test_algid_matches_openssl),
		cmocka_unit_test(test_pss_absent_params_accepted),
		cmocka_unit_test(test_ds_tampered),
		cmocka_unit_test(test_ds_algid_key_mismatch),
		cmocka_unit_test(test_ds_weak_rsa_refused),
		cmocka_unit_test(test_ds_malformed),
		cmocka_unit_test(test_classic_ecdsa),
		cmocka_unit_test(test_classic_rsa_sha1),
		cmocka_unit_test(test_output_too_small),
		cmocka_unit_test(test_choose_hash),
		cmocka_unit_test(test_octets_build),
	};

	return cmocka_run_group_tests_name("sig", tests, setup, teardown);
}
