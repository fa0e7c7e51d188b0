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

#include "ikegw/ikev2.h"
#include "ikegw/ke.h"

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

/* X(scalar, u) through the KE API: the scalar as our key, u as the peer's value. */
static void check_scalarmult(const struct crypto_suite *s, uint16_t group, const char *k_hex,
			     const char *u_hex, const char *out_hex)
{
	uint8_t k[56], u[56], want[56], got[56];
	size_t kl = unhex(k_hex, k, sizeof(k)), ul = unhex(u_hex, u, sizeof(u)), n;
	struct ke_key *key = NULL;

	unhex(out_hex, want, sizeof(want));
	assert_int_equal(ke_key_import(s, group, k, kl, NULL, 0, &key), 0);
	assert_int_equal(ke_shared_compute(key, u, ul, got, sizeof(got), &n), 0);
	assert_int_equal(n, kl);
	assert_memory_equal(got, want, n);
	ke_key_free(key);
}

/* RFC 7748 5.2, the single scalar multiplications. */
static void test_rfc7748_scalarmult(void **state)
{
	check_scalarmult(*state, IKEV2_KE_CURVE25519,
			 "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
			 "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
			 "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
	/* u with its top bit set: implementations mask it (RFC 7748 5) */
	check_scalarmult(*state, IKEV2_KE_CURVE25519,
			 "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
			 "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
			 "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
	check_scalarmult(*state, IKEV2_KE_CURVE448,
			 "3d262fddf9ec8e88495266fea19a34d28882acef045104d0d1aae121"
			 "700a779c984c24f8cdd78fbff44943eba368f54b29259a4f1c600ad3",
			 "06fce640fa3487bfda5f6cf2d5263f8aad88334cbd07437f020f08f9"
			 "814dc031ddbdc38c19c6da2583fa5429db94ada18aa7a7fb4ef8a086",
			 "ce3e4ff95a60dc6697da1db1d85e6afbdf79b50a2412d7546d5f239f"
			 "e14fbaadeb445fc66a01b0779d98223961111e21766282f73dd96b6f");
	check_scalarmult(*state, IKEV2_KE_CURVE448,
			 "203d494428b8399352665ddca42f9de8fef600908e0d461cb021f8c5"
			 "38345dd77c3e4806e25f46d3315c44e0a5b4371282dd2c8d5be3095f",
			 "0fbcc2f993cd56d3305b0b7d9e55d4c1a8fb5dbb52f8e9a1e9b6201b"
			 "165d015894e56c4d3570bee52fe205e28a78b91cdfbde71ce8d157db",
			 "884a02576239ff7a2f2f63b2db6a9ff37047ac13568e1e30fe63c4a7"
			 "ad1b3ee3a5700df34321d62077e63633c575c1c954514e99da7c179d");
}

struct dh_vec {
	uint16_t group;
	const char *a, *pub_a, *b, *pub_b, *shared;
};

/* Import both private keys with their public values; both ends derive the secret. */
static void check_dh(const struct crypto_suite *s, const struct dh_vec *v)
{
	uint8_t a[80], pa[140], b[80], pb[140], k[80], got[140];
	size_t al = unhex(v->a, a, sizeof(a)), bl = unhex(v->b, b, sizeof(b));
	size_t pal = unhex(v->pub_a, pa, sizeof(pa)), pbl = unhex(v->pub_b, pb, sizeof(pb));
	size_t kl = unhex(v->shared, k, sizeof(k)), n;
	struct ke_key *ka = NULL, *kb = NULL;

	assert_int_equal(ke_key_import(s, v->group, a, al, pa, pal, &ka), 0);
	assert_int_equal(ke_key_import(s, v->group, b, bl, pb, pbl, &kb), 0);
	assert_int_equal(ke_key_group(ka)->id, v->group);
	assert_int_equal(ke_public_get(ka, got, sizeof(got), &n), 0);
	assert_int_equal(n, pal);
	assert_memory_equal(got, pa, pal);
	assert_int_equal(ke_shared_compute(ka, pb, pbl, got, sizeof(got), &n), 0);
	assert_int_equal(n, kl);
	assert_memory_equal(got, k, kl);
	assert_int_equal(ke_shared_compute(kb, pa, pal, got, sizeof(got), &n), 0);
	assert_memory_equal(got, k, kl);
	/* a public value that does not belong to the private key is refused */
	ke_key_free(kb);
	kb = NULL;
	assert_int_equal(ke_key_import(s, v->group, b, bl, pa, pal, &kb), -EINVAL);
	assert_null(kb);
	ke_key_free(ka);
}

static const struct dh_vec dh_vecs[] = {
	/* RFC 7748 6.1 */
	{ IKEV2_KE_CURVE25519, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	  "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
	  "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	  "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
	  "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742" },
	/* RFC 7748 6.2 */
	{ IKEV2_KE_CURVE448,
	  "9a8f4925d1519f5775cf46b04b5800d4ee9ee8bae8bc5565d498c28dd9c9baf574a9419744897391006382a6f127ab1d9ac2d8c0a598726b",
	  "9b08f7cc31b7e3e67d22d5aea121074a273bd2b83de09c63faa73d2c22c5d9bbc836647241d953d40c5b12da88120d53177f80e532c41fa0",
	  "1c306a7ac2a0e2e0990b294470cba339e6453772b075811d8fad0d1d6927c120bb5ee8972b0d3e21374c9c921b09d1b0366f10b65173992d",
	  "3eb7a829b0cd20f5bcfc0b599b6feccf6da4627107bdb0d4f345b43027d8b972fc3e34fb4232a13ca706dcb57aec3dae07bdc1c67bf33609",
	  "07fff4181ac6cc95ec1c16a94a0f74d12da232ce40a77552281d282bb60c0b56fd2464c335543936521c24403085d59a449a5037514a879d" },
	/* RFC 5903 8.1: i, gix | giy, r, grx | gry, girx */
	{ IKEV2_KE_ECP256, "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433",
	  "dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180"
	  "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3",
	  "c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53",
	  "d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63"
	  "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab",
	  "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de" },
	/* RFC 5903 8.2 */
	{ IKEV2_KE_ECP384,
	  "099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655e35b538041e649ee3faef896783ab194",
	  "667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6de3ac808acb4bdb4c88732aee95f41aa"
	  "9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38eeb9fcff3c2c947dae69b4c634573a81c",
	  "41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942e0308312916b8ed2960e4bd55a7448fc",
	  "e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d0d1ac43a0336def96fda41d0774a3571"
	  "dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1fff83fa40142209dff5eaad96db9e6386c",
	  "11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4d603135569b9e9d09cf5d4a270f59746" },
	/* RFC 5903 8.3 */
	{ IKEV2_KE_ECP521,
	  "0037ADE9319A89F4DABDB3EF411AACCCA5123C61ACAB57B5393DCE47608172A095AA85A30FE1C2952C6771D937BA9777F5957B2639BAB072462F68C27A57382D4A52",
	  "0015417E84DBF28C0AD3C278713349DC7DF153C897A1891BD98BAB4357C9ECBEE1E3BF42E00B8E380AEAE57C2D107564941885942AF5A7F4601723C4195D176CED3E"
	  "017CAE20B6641D2EEB695786D8C946146239D099E18E1D5A514C739D7CB4A10AD8A788015AC405D7799DC75E7B7D5B6CF2261A6A7F1507438BF01BEB6CA3926F9582",
	  "0145BA99A847AF43793FDD0E872E7CDFA16BE30FDC780F97BCCC3F078380201E9C677D600B343757A3BDBF2A3163E4C2F869CCA7458AA4A4EFFC311F5CB151685EB9",
	  "00D0B3975AC4B799F5BEA16D5E13E9AF971D5E9B984C9F39728B5E5739735A219B97C356436ADC6E95BB0352F6BE64A6C2912D4EF2D0433CED2B6171640012D9460F"
	  "015C68226383956E3BD066E797B623C27CE0EAC2F551A10C2C724D9852077B87220B6536C5C408A1D2AEBB8E86D678AE49CB57091F4732296579AB44FCD17F0FC56A",
	  "01144C7D79AE6956BC8EDB8E7C787C4521CB086FA64407F97894E5E6B2D79B04D1427E73CA4BAA240A34786859810C06B3C715A3A8CC3151F2BEE417996D19F3DDEA" },
};

static void test_dh_vectors(void **state)
{
	for (size_t i = 0; i < sizeof(dh_vecs) / sizeof(dh_vecs[0]); i++)
		check_dh(*state, &dh_vecs[i]);
}

/* RFC 3526 3 (group 14) and RFC 2409 6.2 (group 2), as printed there. */
static const char modp2048_hex[] =
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
	"020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
	"4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
	"98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
	"9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
	"E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
	"3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF";
static const char modp1024_hex[] =
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
	"020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
	"4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF";

static void check_prime(const struct crypto_suite *s, uint16_t group, const char *hex)
{
	uint8_t want[512], got[512];
	struct ke_key *k = NULL;
	size_t n, wl = hex ? unhex(hex, want, sizeof(want)) : 0;

	assert_int_equal(ke_key_generate(s, group, &k), 0);
	assert_int_equal(ke_modp_prime_get(k, got, sizeof(got), &n), 0);
	assert_int_equal(n, ke_key_group(k)->pub_len);
	if (hex) {
		assert_int_equal(n, wl);
		assert_memory_equal(got, want, n);
	} else {
		/* every RFC 3526 prime: 2^n - 2^(n-64) - 1 + 2^64 * (...), pi's digits */
		unhex("FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1", want, sizeof(want));
		assert_memory_equal(got, want, 24);
		memset(want, 0xff, 8);
		assert_memory_equal(got + n - 8, want, 8);
	}
	ke_key_free(k);
}

static void test_modp_primes(void **state)
{
	check_prime(*state, IKEV2_KE_MODP2048, modp2048_hex);
	check_prime(*state, IKEV2_KE_MODP1024, modp1024_hex);
	check_prime(*state, IKEV2_KE_MODP1536, NULL);
	check_prime(*state, IKEV2_KE_MODP3072, NULL);
	check_prime(*state, IKEV2_KE_MODP4096, NULL);
}

/* Two fresh key pairs per group agree, and our values have the wire lengths. */
static void test_generated_pairs_agree(void **state)
{
	const uint16_t groups[] = { IKEV2_KE_MODP1024, IKEV2_KE_MODP1536, IKEV2_KE_MODP2048,
				    IKEV2_KE_MODP3072, IKEV2_KE_ECP256,	  IKEV2_KE_ECP384,
				    IKEV2_KE_ECP521,   IKEV2_KE_CURVE25519, IKEV2_KE_CURVE448 };

	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		uint8_t pa[512], pb[512], sa[512], sb[512];
		struct ke_key *a = NULL, *b = NULL;
		size_t la, lb, ka, kb;

		assert_int_equal(ke_key_generate(*state, groups[i], &a), 0);
		assert_int_equal(ke_key_generate(*state, groups[i], &b), 0);
		assert_int_equal(ke_public_get(a, pa, sizeof(pa), &la), 0);
		assert_int_equal(ke_public_get(b, pb, sizeof(pb), &lb), 0);
		assert_int_equal(la, suite_ke_find(groups[i])->pub_len);
		assert_int_equal(lb, la);
		assert_int_equal(ke_shared_compute(a, pb, lb, sa, sizeof(sa), &ka), 0);
		assert_int_equal(ke_shared_compute(b, pa, la, sb, sizeof(sb), &kb), 0);
		assert_int_equal(ka, suite_ke_find(groups[i])->shared_len);
		assert_int_equal(kb, ka);
		assert_memory_equal(sa, sb, ka);
		ke_key_free(a);
		ke_key_free(b);
	}
}

static void expect_peer_rejected(const struct ke_key *k, const uint8_t *v, size_t len)
{
	uint8_t out[512];
	size_t n = 99;

	assert_int_equal(ke_shared_compute(k, v, len, out, sizeof(out), &n), -EINVAL);
	assert_int_equal(n, 0);
}

static void test_bad_peer_modp(void **state)
{
	uint8_t v[257], p[256];
	struct ke_key *k = NULL;
	size_t n;

	assert_int_equal(ke_key_generate(*state, IKEV2_KE_MODP2048, &k), 0);
	assert_int_equal(ke_modp_prime_get(k, p, sizeof(p), &n), 0);
	memset(v, 0, sizeof(v));
	expect_peer_rejected(k, v, 256); /* 0 */
	v[255] = 1;
	expect_peer_rejected(k, v, 256); /* 1 */
	memcpy(v, p, 256);
	expect_peer_rejected(k, v, 256); /* p */
	v[255] -= 1;
	expect_peer_rejected(k, v, 256); /* p - 1 */
	memset(v, 0xff, sizeof(v));
	expect_peer_rejected(k, v, 256); /* > p */
	v[0] = 0;
	v[1] = 2;
	expect_peer_rejected(k, v, 255); /* short */
	expect_peer_rejected(k, v, 257); /* long */
	expect_peer_rejected(k, NULL, 256);
	memcpy(v, p, 256);
	v[255] -= 2; /* p - 2 is in range */
	assert_int_equal(ke_shared_compute(k, v, 256, p, sizeof(p), &n), 0);
	ke_key_free(k);
}

static void test_bad_peer_ecp(void **state)
{
	uint8_t v[133], pub[132];
	struct ke_key *k = NULL;
	size_t n;

	assert_int_equal(ke_key_generate(*state, IKEV2_KE_ECP256, &k), 0);
	assert_int_equal(ke_public_get(k, pub, sizeof(pub), &n), 0);
	memcpy(v, pub, 64);
	v[63] ^= 1; /* y changed: not on the curve */
	expect_peer_rejected(k, v, 64);
	memset(v, 0, sizeof(v));
	expect_peer_rejected(k, v, 64); /* (0, 0) */
	memcpy(v, pub, 64);
	expect_peer_rejected(k, v, 63);
	expect_peer_rejected(k, v, 65);
	v[0] = 0x04; /* an uncompressed-point prefix is not the RFC 5903 encoding */
	memcpy(v + 1, pub, 64);
	expect_peer_rejected(k, v, 65);
	ke_key_free(k);
}

static void test_bad_peer_ecx(void **state)
{
	uint8_t v[57];
	struct ke_key *k = NULL;

	assert_int_equal(ke_key_generate(*state, IKEV2_KE_CURVE25519, &k), 0);
	memset(v, 0, sizeof(v));
	expect_peer_rejected(k, v, 32); /* u = 0: the shared secret is all zero */
	v[0] = 1;
	expect_peer_rejected(k, v, 32); /* u = 1: small order, all-zero result */
	expect_peer_rejected(k, v, 31);
	expect_peer_rejected(k, v, 33);
	ke_key_free(k);
	assert_int_equal(ke_key_generate(*state, IKEV2_KE_CURVE448, &k), 0);
	memset(v, 0, sizeof(v));
	expect_peer_rejected(k, v, 56);
	v[0] = 1;
	expect_peer_rejected(k, v, 56);
	expect_peer_rejected(k, v, 57);
	ke_key_free(k);
}

static void test_api_errors(void **state)
{
	uint8_t out[512], priv[32] = { 1 };
	struct ke_key *k = NULL;
	size_t n;

	assert_int_equal(ke_key_generate(*state, IKEV2_KE_MODP768, &k), -ENOENT);
	assert_null(k);
	assert_int_equal(ke_key_import(*state, IKEV2_KE_CURVE25519, priv, 31, NULL, 0, &k), -EINVAL);
	/* ECP and MODP imports need the public value */
	assert_int_equal(ke_key_import(*state, IKEV2_KE_ECP256, priv, 32, NULL, 0, &k), -EINVAL);
	assert_int_equal(ke_key_generate(*state, IKEV2_KE_ECP256, &k), 0);
	assert_int_equal(ke_public_get(k, out, 63, &n), -ENOSPC);
	assert_int_equal(ke_modp_prime_get(k, out, sizeof(out), &n), -EINVAL);
	assert_int_equal(ke_public_get(k, out, sizeof(out), &n), 0);
	assert_int_equal(ke_shared_compute(k, out, 64, out, 31, &n), -ENOSPC);
	ke_key_free(k);
	ke_key_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7748_scalarmult),
		cmocka_unit_test(test_dh_vectors),
		cmocka_unit_test(test_modp_primes),
		cmocka_unit_test(test_generated_pairs_agree),
		cmocka_unit_test(test_bad_peer_modp),
		cmocka_unit_test(test_bad_peer_ecp),
		cmocka_unit_test(test_bad_peer_ecx),
		cmocka_unit_test(test_api_errors),
	};

	return cmocka_run_group_tests_name("ke", tests, setup, teardown);
}
