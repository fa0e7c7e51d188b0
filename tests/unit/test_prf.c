/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "support/hex.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "ikegw/ikev2.h"
#include "ikegw/prf.h"

/* Decoding a vector from the test's own table never fails: a bad one is a test bug. */
static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
	size_t n = test_unhex(h, out, cap);

	assert_true(n != (size_t)-1);
	return n;
}

static int setup(void **state)
{
	*state = crypto_suite_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	crypto_suite_free(*state);
	return 0;
}

/* RFC 4868 2.7.1: PRF-1 .. PRF-4 for HMAC-SHA-256, -384, -512. */
static const struct {
	uint16_t prf;
	const char *out[4];
} prf_vecs[] = {
	{ IKEV2_PRF_HMAC_SHA2_256,
	  { "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
	    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" } },
	{ IKEV2_PRF_HMAC_SHA2_384,
	  { "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
	    "faea9ea9076ede7f4af152e8b2fa9cb6",
	    "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
	    "8e2240ca5e69e2c78b3239ecfab21649",
	    "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b"
	    "2a5ab39dc13814b94e3ab6e101a34f27",
	    "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e"
	    "6801dd23c4a7d679ccf8a386c674cffb" } },
	{ IKEV2_PRF_HMAC_SHA2_512,
	  { "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
	    "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
	    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
	    "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
	    "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
	    "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb",
	    "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
	    "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd" } },
};

static void test_prf_rfc4868(void **state)
{
	uint8_t k1[20], k3[20], k4[25], d3[50], d4[50], want[64], out[64];
	static const char hi[] = "Hi There", what[] = "what do ya want for nothing?";
	const struct {
		const uint8_t *key;
		size_t key_len;
		const void *data;
		size_t data_len;
	} in[4] = {
		{ k1, sizeof(k1), hi, 8 },
		{ (const uint8_t *)"Jefe", 4, what, strlen(what) },
		{ k3, sizeof(k3), d3, sizeof(d3) },
		{ k4, sizeof(k4), d4, sizeof(d4) },
	};

	memset(k1, 0x0b, sizeof(k1));
	memset(k3, 0xaa, sizeof(k3));
	memset(d3, 0xdd, sizeof(d3));
	memset(d4, 0xcd, sizeof(d4));
	for (size_t i = 0; i < sizeof(k4); i++)
		k4[i] = (uint8_t)(i + 1);
	for (size_t v = 0; v < 3; v++) {
		const struct suite_prf *prf = suite_prf_find(prf_vecs[v].prf);

		assert_non_null(prf);
		for (size_t t = 0; t < 4; t++) {
			struct crypto_chunk c = { in[t].data, in[t].data_len };

			assert_int_equal(unhex(prf_vecs[v].out[t], want, sizeof(want)), prf->out_len);
			assert_int_equal(prf_compute(*state, prf, in[t].key, in[t].key_len, &c, 1,
						     out), 0);
			assert_memory_equal(out, want, prf->out_len);
		}
	}
}

/* An independent HMAC straight through EVP_MAC, to check prf+ against. */
static void direct_hmac(const char *digest, const uint8_t *key, size_t key_len,
			const uint8_t *data, size_t len, uint8_t *out, size_t out_len)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
	OSSL_PARAM p[2] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
							     (char *)digest, 0),
			    OSSL_PARAM_construct_end() };
	size_t n = 0;

	assert_non_null(ctx);
	assert_int_equal(EVP_MAC_init(ctx, key, key_len, p), 1);
	assert_int_equal(EVP_MAC_update(ctx, data, len), 1);
	assert_int_equal(EVP_MAC_final(ctx, out, &n, out_len), 1);
	assert_int_equal(n, out_len);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
}

/* prf+ = T1 | T2 | ..., T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n) (RFC 7296 2.13). */
static void test_prf_plus_construction(void **state)
{
	const struct suite_prf *prf = suite_prf_find(IKEV2_PRF_HMAC_SHA2_256);
	uint8_t key[40], s1[7], s2[30], expect[4 * 32], got[100], buf[32 + 37 + 1];
	struct crypto_chunk seed[2] = { { s1, sizeof(s1) }, { s2, sizeof(s2) } };

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0x40 + i);
	memset(s1, 0x11, sizeof(s1));
	memset(s2, 0x22, sizeof(s2));
	for (size_t n = 1; n <= 4; n++) {
		size_t off = 0;

		if (n > 1) {
			memcpy(buf, expect + 32 * (n - 2), 32);
			off = 32;
		}
		memcpy(buf + off, s1, sizeof(s1));
		memcpy(buf + off + sizeof(s1), s2, sizeof(s2));
		buf[off + 37] = (uint8_t)n;
		direct_hmac("SHA2-256", key, sizeof(key), buf, off + 38, expect + 32 * (n - 1), 32);
	}
	assert_int_equal(prf_plus(*state, prf, key, sizeof(key), seed, 2, got, sizeof(got)), 0);
	assert_memory_equal(got, expect, sizeof(got));
	/* a shorter request is a prefix */
	assert_int_equal(prf_plus(*state, prf, key, sizeof(key), seed, 2, got, 5), 0);
	assert_memory_equal(got, expect, 5);
}

static void test_prf_plus_limits(void **state)
{
	const struct suite_prf *prf = suite_prf_find(IKEV2_PRF_HMAC_SHA2_256);
	static uint8_t big[255 * 32 + 1];
	uint8_t key[32] = { 7 };
	struct crypto_chunk seed = { "s", 1 };
	struct crypto_chunk many[PRF_MAX_CHUNKS + 1];

	/* the one-octet counter allows 255 blocks and no more */
	assert_int_equal(prf_plus(*state, prf, key, sizeof(key), &seed, 1, big, 255 * 32), 0);
	assert_int_equal(prf_plus(*state, prf, key, sizeof(key), &seed, 1, big, sizeof(big)),
			 -EINVAL);
	for (size_t i = 0; i < PRF_MAX_CHUNKS + 1; i++)
		many[i] = seed;
	assert_int_equal(prf_plus(*state, prf, key, sizeof(key), many, PRF_MAX_CHUNKS + 1, big, 32),
			 -EINVAL);
	assert_int_equal(prf_compute(*state, NULL, key, sizeof(key), &seed, 1, big), -EINVAL);
	assert_int_equal(prf_compute(*state, prf, key, 0, &seed, 1, big), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prf_rfc4868),
		cmocka_unit_test(test_prf_plus_construction),
		cmocka_unit_test(test_prf_plus_limits),
	};

	return cmocka_run_group_tests_name("prf", tests, setup, teardown);
}
