/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "ikegw/ikev2.h"
#include "ikegw/suite.h"

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

static void test_encr_table(void **state)
{
	const struct { uint16_t id, keylen; uint8_t key, salt, iv, icv; bool aead; } want[] = {
		{ IKEV2_ENCR_AES_CBC, 128, 16, 0, 16, 0, false },
		{ IKEV2_ENCR_AES_CBC, 192, 24, 0, 16, 0, false },
		{ IKEV2_ENCR_AES_CBC, 256, 32, 0, 16, 0, false },
		{ IKEV2_ENCR_AES_GCM_16, 128, 16, 4, 8, 16, true },
		{ IKEV2_ENCR_AES_GCM_16, 256, 32, 4, 8, 16, true },
		{ IKEV2_ENCR_CHACHA20_POLY1305, 0, 32, 4, 8, 16, true },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct suite_encr *e = suite_encr_find(want[i].id, want[i].keylen);
		const EVP_CIPHER *c;

		assert_non_null(e);
		assert_int_equal(e->key_len, want[i].key);
		assert_int_equal(e->salt_len, want[i].salt);
		assert_int_equal(e->iv_len, want[i].iv);
		assert_int_equal(e->icv_len, want[i].icv);
		assert_int_equal(e->aead, want[i].aead);
		assert_false(e->legacy);
		/* the table agrees with the fetched EVP object */
		c = suite_cipher_get(*state, e->cipher);
		assert_non_null(c);
		assert_int_equal(EVP_CIPHER_get_key_length(c), e->key_len);
		if (e->aead)
			assert_int_equal(EVP_CIPHER_get_iv_length(c), e->salt_len + e->iv_len);
		else
			assert_int_equal(EVP_CIPHER_get_iv_length(c), e->iv_len);
	}
	/* AES needs its Key Length attribute; ChaCha20-Poly1305 must not have one (RFC 7634) */
	assert_null(suite_encr_find(IKEV2_ENCR_AES_CBC, 0));
	assert_null(suite_encr_find(IKEV2_ENCR_AES_GCM_16, 0));
	assert_null(suite_encr_find(IKEV2_ENCR_AES_GCM_16, 192));
	assert_null(suite_encr_find(IKEV2_ENCR_CHACHA20_POLY1305, 256));
	assert_null(suite_encr_find(IKEV2_ENCR_3DES, 0));
}

static void test_prf_integ_tables(void **state)
{
	const uint16_t prfs[] = { IKEV2_PRF_HMAC_SHA1, IKEV2_PRF_HMAC_SHA2_256,
				  IKEV2_PRF_HMAC_SHA2_384, IKEV2_PRF_HMAC_SHA2_512 };
	const struct { uint16_t id; uint8_t key, icv; } integs[] = {
		{ IKEV2_INTEG_HMAC_SHA1_96, 20, 12 },
		{ IKEV2_INTEG_HMAC_SHA2_256_128, 32, 16 },
		{ IKEV2_INTEG_HMAC_SHA2_384_192, 48, 24 },
		{ IKEV2_INTEG_HMAC_SHA2_512_256, 64, 32 },
	};

	for (size_t i = 0; i < 4; i++) {
		const struct suite_prf *p = suite_prf_find(prfs[i]);
		const struct suite_integ *in = suite_integ_find(integs[i].id);

		assert_non_null(p);
		assert_int_equal(EVP_MD_get_size(suite_md_get(*state, p->md)), p->out_len);
		assert_int_equal(p->key_len, p->out_len);
		assert_int_equal(p->legacy, prfs[i] == IKEV2_PRF_HMAC_SHA1);
		assert_non_null(in);
		assert_int_equal(in->key_len, integs[i].key);
		assert_int_equal(in->icv_len, integs[i].icv);
		assert_int_equal(EVP_MD_get_size(suite_md_get(*state, in->md)), in->key_len);
		assert_int_equal(in->legacy, integs[i].id == IKEV2_INTEG_HMAC_SHA1_96);
	}
	assert_non_null(suite_hmac_get(*state));
	assert_null(suite_prf_find(IKEV2_PRF_HMAC_MD5));
	assert_null(suite_integ_find(IKEV2_INTEG_HMAC_MD5_96));
	assert_null(suite_integ_find(IKEV2_INTEG_NONE));
}

static void test_ke_table(void **state)
{
	const struct { uint16_t id; uint16_t pub, shared; bool legacy; } want[] = {
		{ IKEV2_KE_MODP1024, 128, 128, true },	{ IKEV2_KE_MODP1536, 192, 192, true },
		{ IKEV2_KE_MODP2048, 256, 256, false }, { IKEV2_KE_MODP3072, 384, 384, false },
		{ IKEV2_KE_MODP4096, 512, 512, false }, { IKEV2_KE_ECP256, 64, 32, false },
		{ IKEV2_KE_ECP384, 96, 48, false },	{ IKEV2_KE_ECP521, 132, 66, false },
		{ IKEV2_KE_CURVE25519, 32, 32, false }, { IKEV2_KE_CURVE448, 56, 56, false },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct suite_ke *k = suite_ke_find(want[i].id);

		assert_non_null(k);
		assert_int_equal(k->pub_len, want[i].pub);
		assert_int_equal(k->shared_len, want[i].shared);
		assert_int_equal(k->legacy, want[i].legacy);
		assert_true(k->pub_len <= SUITE_MAX_KE_PUB && k->shared_len <= SUITE_MAX_KE_SHARED);
	}
	assert_null(suite_ke_find(IKEV2_KE_MODP768));
	assert_null(suite_ke_find(IKEV2_KE_MODP8192));
	assert_null(suite_ke_find(IKEV2_KE_NONE));
}

static void test_transform_check(void **state)
{
	bool legacy = true;
	(void)state;

	assert_int_equal(suite_transform_check(IKEV2_TRANS_ENCR, IKEV2_ENCR_AES_GCM_16, 256, &legacy), 0);
	assert_false(legacy);
	assert_int_equal(suite_transform_check(IKEV2_TRANS_ENCR, IKEV2_ENCR_AES_CBC, 0, &legacy),
			 -ENOENT);
	assert_int_equal(suite_transform_check(IKEV2_TRANS_PRF, IKEV2_PRF_HMAC_SHA1, 0, &legacy), 0);
	assert_true(legacy);
	assert_int_equal(suite_transform_check(IKEV2_TRANS_PRF, IKEV2_PRF_HMAC_SHA2_256, 256, &legacy),
			 -ENOENT); /* a key length on a PRF is malformed */
	assert_int_equal(suite_transform_check(IKEV2_TRANS_INTEG, IKEV2_INTEG_HMAC_SHA1_96, 0,
					       &legacy), 0);
	assert_true(legacy);
	assert_int_equal(suite_transform_check(IKEV2_TRANS_INTEG, IKEV2_INTEG_NONE, 0, &legacy), 0);
	assert_false(legacy);
	assert_int_equal(suite_transform_check(IKEV2_TRANS_KE, IKEV2_KE_MODP1024, 0, &legacy), 0);
	assert_true(legacy);
	assert_int_equal(suite_transform_check(IKEV2_TRANS_KE, IKEV2_KE_NONE, 0, &legacy), 0);
	assert_int_equal(suite_transform_check(IKEV2_TRANS_KE, IKEV2_KE_MODP768, 0, &legacy), -ENOENT);
	assert_int_equal(suite_transform_check(IKEV2_TRANS_ESN, IKEV2_ESN_YES, 0, &legacy), 0);
	assert_int_equal(suite_transform_check(IKEV2_TRANS_ESN, 2, 0, &legacy), -ENOENT);
	assert_int_equal(suite_transform_check(99, 1, 0, &legacy), -ENOENT);
}

static void test_getters_bounds(void **state)
{
	assert_null(suite_cipher_get(*state, SUITE_CIPHER_COUNT));
	assert_null(suite_md_get(*state, SUITE_MD_COUNT));
	crypto_suite_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encr_table),
		cmocka_unit_test(test_prf_integ_tables),
		cmocka_unit_test(test_ke_table),
		cmocka_unit_test(test_transform_check),
		cmocka_unit_test(test_getters_bounds),
	};

	return cmocka_run_group_tests_name("suite", tests, setup, teardown);
}
