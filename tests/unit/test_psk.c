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
#include <openssl/params.h>

#include "ikegw/psk.h"

static const uint8_t key[] = "ikegw test psk";
static const uint8_t octets[] = "RealMessage1|NonceR|MACedIDForI";
#define KEY_LEN (sizeof(key) - 1)
#define OCTETS_LEN (sizeof(octets) - 1)

/* Computed outside OpenSSL (Python hmac) for the same key and octets. */
static const uint8_t want_sha256[32] = {
	0x1b, 0x16, 0x24, 0x98, 0xf1, 0x30, 0xb8, 0x92, 0x46, 0xee, 0xc4, 0xd8, 0x27, 0x4a,
	0xfd, 0xad, 0x05, 0xa5, 0xdf, 0x13, 0x87, 0xa5, 0xd3, 0xa6, 0x4b, 0x28, 0x9d, 0x5a,
	0x4d, 0xb3, 0x2e, 0x63,
};
static const uint8_t want_sha512_head[8] = {
	0xdb, 0x13, 0x08, 0x2b, 0xb6, 0xff, 0x55, 0x13,
};

/* The test's own HMAC through EVP_MAC_CTX, independent of psk.c's code path. */
static size_t ref_hmac(const char *digest, const uint8_t *k, size_t klen,
		       const uint8_t *d, size_t n, uint8_t *out)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
	OSSL_PARAM p[] = {
		OSSL_PARAM_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
		OSSL_PARAM_END,
	};
	size_t len = 0;

	assert_int_equal(EVP_MAC_init(ctx, k, klen, p), 1);
	assert_int_equal(EVP_MAC_update(ctx, d, n), 1);
	assert_int_equal(EVP_MAC_final(ctx, out, &len, EVP_MAX_MD_SIZE), 1);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return len;
}

static void test_fixed_vector_sha256(void **state)
{
	uint8_t out[PSK_AUTH_MAX];
	size_t len = 0;
	(void)state;

	assert_int_equal(psk_auth_compute("SHA256", key, KEY_LEN, octets, OCTETS_LEN, out,
					  sizeof(out), &len), 0);
	assert_int_equal(len, 32);
	assert_memory_equal(out, want_sha256, 32);
	assert_int_equal(psk_auth_verify("SHA256", key, KEY_LEN, octets, OCTETS_LEN,
					 want_sha256, sizeof(want_sha256)), 0);
}

static void test_matches_evp_mac_reference(void **state)
{
	static const char *const digests[] = { "SHA256", "SHA384", "SHA512", "SHA1" };
	static const size_t lens[] = { 32, 48, 64, 20 };
	uint8_t inner[EVP_MAX_MD_SIZE], want[EVP_MAX_MD_SIZE], out[PSK_AUTH_MAX];
	size_t i, ilen, wlen, len;
	(void)state;

	for (i = 0; i < 4; i++) {
		ilen = ref_hmac(digests[i], key, KEY_LEN, (const uint8_t *)"Key Pad for IKEv2",
				17, inner);
		wlen = ref_hmac(digests[i], inner, ilen, octets, OCTETS_LEN, want);
		assert_int_equal(psk_auth_compute(digests[i], key, KEY_LEN, octets, OCTETS_LEN,
						  out, sizeof(out), &len), 0);
		assert_int_equal(len, lens[i]);
		assert_int_equal(wlen, len);
		assert_memory_equal(out, want, len);
	}
	assert_int_equal(psk_auth_compute("SHA512", key, KEY_LEN, octets, OCTETS_LEN, out,
					  sizeof(out), &len), 0);
	assert_memory_equal(out, want_sha512_head, sizeof(want_sha512_head));
}

/* The MSK case (RFC 7296 2.16): a binary key with NUL bytes in it. */
static void test_binary_key(void **state)
{
	uint8_t msk[64], a[PSK_AUTH_MAX], b[PSK_AUTH_MAX];
	size_t alen, blen;
	(void)state;

	memset(msk, 0, sizeof(msk));
	msk[63] = 1;
	assert_int_equal(psk_auth_compute("SHA256", msk, sizeof(msk), octets, OCTETS_LEN, a,
					  sizeof(a), &alen), 0);
	msk[63] = 2;
	assert_int_equal(psk_auth_compute("SHA256", msk, sizeof(msk), octets, OCTETS_LEN, b,
					  sizeof(b), &blen), 0);
	assert_int_equal(alen, blen);
	assert_memory_not_equal(a, b, alen);
}

static void test_verify_rejects(void **state)
{
	uint8_t bad[32];
	(void)state;

	memcpy(bad, want_sha256, sizeof(bad));
	bad[31] ^= 1;
	assert_int_equal(psk_auth_verify("SHA256", key, KEY_LEN, octets, OCTETS_LEN, bad, 32),
			 -EACCES);
	/* truncated, oversized, empty */
	assert_int_equal(psk_auth_verify("SHA256", key, KEY_LEN, octets, OCTETS_LEN,
					 want_sha256, 31), -EACCES);
	assert_int_equal(psk_auth_verify("SHA384", key, KEY_LEN, octets, OCTETS_LEN,
					 want_sha256, 32), -EACCES);
	assert_int_equal(psk_auth_verify("SHA256", key, KEY_LEN, octets, OCTETS_LEN, NULL, 0),
			 -EACCES);
	/* other octets, other key */
	assert_int_equal(psk_auth_verify("SHA256", key, KEY_LEN, octets, OCTETS_LEN - 1,
					 want_sha256, 32), -EACCES);
	assert_int_equal(psk_auth_verify("SHA256", key, KEY_LEN - 1, octets, OCTETS_LEN,
					 want_sha256, 32), -EACCES);
}

static void test_bad_arguments(void **state)
{
	uint8_t out[PSK_AUTH_MAX];
	size_t len;
	(void)state;

	assert_int_equal(psk_auth_compute("SHA256", key, 0, octets, OCTETS_LEN, out,
					  sizeof(out), &len), -EINVAL);
	assert_int_equal(psk_auth_compute("NOSUCHMD", key, KEY_LEN, octets, OCTETS_LEN, out,
					  sizeof(out), &len), -ENOTSUP);
	assert_int_equal(psk_auth_compute("SHA512", key, KEY_LEN, octets, OCTETS_LEN, out, 32,
					  &len), -ENOSPC);
	assert_int_equal(psk_auth_compute("SHA256", key, KEY_LEN, NULL, 0, out, sizeof(out),
					  &len), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_vector_sha256),
		cmocka_unit_test(test_matches_evp_mac_reference),
		cmocka_unit_test(test_binary_key),
		cmocka_unit_test(test_verify_rejects),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests_name("psk", tests, NULL, NULL);
}
