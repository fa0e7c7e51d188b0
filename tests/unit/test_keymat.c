/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "ikegw/ikev2.h"
#include "ikegw/ke.h"
#include "ikegw/keymat.h"

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

/* ---- an independent prf / prf+ straight over EVP_Q_mac ---- */

static void hmac(const char *md, const uint8_t *key, size_t key_len, const uint8_t *data,
		 size_t len, uint8_t *out, size_t out_len)
{
	size_t n = 0;

	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, md, NULL, key, key_len, data, len, out,
				  out_len, &n));
	assert_int_equal(n, out_len);
}

static void prf_plus_direct(const char *md, size_t hl, const uint8_t *key, size_t key_len,
			    const uint8_t *seed, size_t seed_len, uint8_t *out, size_t out_len)
{
	uint8_t buf[64 + 512 + 1], t[64];
	size_t done = 0, tl = 0;

	assert_true(seed_len <= 512);
	for (uint8_t n = 1; done < out_len; n++) {
		size_t take = out_len - done < hl ? out_len - done : hl;

		memcpy(buf, t, tl);
		memcpy(buf + tl, seed, seed_len);
		buf[tl + seed_len] = n;
		hmac(md, key, key_len, buf, tl + seed_len + 1, t, hl);
		memcpy(out + done, t, take);
		done += take;
		tl = hl;
	}
}

/* Fixed inputs: Ni, Nr (32 bytes each), g^ir (32), SPIs. */
struct fixture {
	uint8_t ni[32], nr[32], gir[32];
	struct keymat_ike_in in;
};

static void fixture_init(struct fixture *f, uint16_t prf, uint16_t encr, uint16_t keylen,
			 uint16_t integ)
{
	for (size_t i = 0; i < 32; i++) {
		f->ni[i] = (uint8_t)(0x10 + i);
		f->nr[i] = (uint8_t)(0x80 + i);
		f->gir[i] = (uint8_t)(0xc0 ^ i);
	}
	memset(&f->in, 0, sizeof(f->in));
	f->in.prf = suite_prf_find(prf);
	f->in.encr = suite_encr_find(encr, keylen);
	f->in.integ = integ ? suite_integ_find(integ) : NULL;
	f->in.ni = f->ni;
	f->in.ni_len = sizeof(f->ni);
	f->in.nr = f->nr;
	f->in.nr_len = sizeof(f->nr);
	f->in.shared = f->gir;
	f->in.shared_len = sizeof(f->gir);
	memcpy(f->in.spi_i, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	memcpy(f->in.spi_r, "\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8", 8);
}

/* Ni | Nr | SPIi | SPIr, the prf+ seed of RFC 7296 2.14. */
static size_t ike_seed(const struct fixture *f, uint8_t *seed)
{
	memcpy(seed, f->ni, 32);
	memcpy(seed + 32, f->nr, 32);
	memcpy(seed + 64, f->in.spi_i, 8);
	memcpy(seed + 72, f->in.spi_r, 8);
	return 80;
}

/* SKEYSEED = prf(Ni | Nr, g^ir); 7 keys of 32 bytes with AES-256-CBC + SHA2-256-128. */
static void test_ike_kat_cbc(void **state)
{
	struct fixture f;
	uint8_t nn[64], skeyseed[32], seed[80], stream[7 * 32];
	struct ike_keys *k = NULL;

	fixture_init(&f, IKEV2_PRF_HMAC_SHA2_256, IKEV2_ENCR_AES_CBC, 256,
		     IKEV2_INTEG_HMAC_SHA2_256_128);
	memcpy(nn, f.ni, 32);
	memcpy(nn + 32, f.nr, 32);
	hmac("SHA2-256", nn, 64, f.gir, 32, skeyseed, 32);
	prf_plus_direct("SHA2-256", 32, skeyseed, 32, seed, ike_seed(&f, seed), stream,
			sizeof(stream));

	assert_int_equal(keymat_ike_derive(*state, &f.in, &k), 0);
	assert_memory_equal(k->d, stream, 32);
	assert_memory_equal(k->i.ak, stream + 32, 32);
	assert_memory_equal(k->r.ak, stream + 64, 32);
	assert_memory_equal(k->i.ek, stream + 96, 32);
	assert_memory_equal(k->r.ek, stream + 128, 32);
	assert_memory_equal(k->pi, stream + 160, 32);
	assert_memory_equal(k->pr, stream + 192, 32);
	assert_ptr_equal(k->i.integ, f.in.integ);
	assert_ptr_equal(k->r.encr, f.in.encr);
	assert_ptr_equal(k->prf, f.in.prf);
	keymat_ike_free(k);
}

/* AEAD: no SK_a*, and SK_e* carries the 4-byte salt (RFC 5282 7.1). */
static void test_ike_kat_aead(void **state)
{
	struct fixture f;
	uint8_t nn[64], skeyseed[48], seed[80], stream[3 * 48 + 2 * 36];
	struct ike_keys *k = NULL;

	fixture_init(&f, IKEV2_PRF_HMAC_SHA2_384, IKEV2_ENCR_AES_GCM_16, 256, 0);
	memcpy(nn, f.ni, 32);
	memcpy(nn + 32, f.nr, 32);
	hmac("SHA2-384", nn, 64, f.gir, 32, skeyseed, 48);
	prf_plus_direct("SHA2-384", 48, skeyseed, 48, seed, ike_seed(&f, seed), stream,
			sizeof(stream));

	assert_int_equal(keymat_ike_derive(*state, &f.in, &k), 0);
	assert_memory_equal(k->d, stream, 48);
	assert_memory_equal(k->i.ek, stream + 48, 36);
	assert_memory_equal(k->r.ek, stream + 84, 36);
	assert_memory_equal(k->pi, stream + 120, 48);
	assert_memory_equal(k->pr, stream + 168, 48);
	assert_null(k->i.integ);
	keymat_ike_free(k);
}

/* Two ends of an exchange: own key pair each, same nonces and SPIs, same keys. */
static void check_both_sides(const struct crypto_suite *s, uint16_t group, uint16_t prf,
			     uint16_t encr, uint16_t keylen, uint16_t integ)
{
	uint8_t pub_i[512], pub_r[512], gir_i[512], gir_r[512];
	struct ke_key *ki = NULL, *kr = NULL;
	struct ike_keys *a = NULL, *b = NULL;
	size_t li, lr, si, sr;
	struct fixture fi, fr;

	assert_int_equal(ke_key_generate(s, group, &ki), 0);
	assert_int_equal(ke_key_generate(s, group, &kr), 0);
	assert_int_equal(ke_public_get(ki, pub_i, sizeof(pub_i), &li), 0);
	assert_int_equal(ke_public_get(kr, pub_r, sizeof(pub_r), &lr), 0);
	assert_int_equal(ke_shared_compute(ki, pub_r, lr, gir_i, sizeof(gir_i), &si), 0);
	assert_int_equal(ke_shared_compute(kr, pub_i, li, gir_r, sizeof(gir_r), &sr), 0);

	fixture_init(&fi, prf, encr, keylen, integ);
	fixture_init(&fr, prf, encr, keylen, integ);
	fi.in.shared = gir_i;
	fi.in.shared_len = si;
	fr.in.shared = gir_r;
	fr.in.shared_len = sr;
	assert_int_equal(keymat_ike_derive(s, &fi.in, &a), 0);
	assert_int_equal(keymat_ike_derive(s, &fr.in, &b), 0);
	assert_memory_equal(a, b, sizeof(*a));
	/* the two directions differ */
	assert_memory_not_equal(a->i.ek, a->r.ek, sizeof(a->i.ek));
	keymat_ike_free(a);
	keymat_ike_free(b);
	ke_key_free(ki);
	ke_key_free(kr);
}

static void test_both_sides_agree(void **state)
{
	check_both_sides(*state, IKEV2_KE_CURVE25519, IKEV2_PRF_HMAC_SHA2_256,
			 IKEV2_ENCR_AES_GCM_16, 256, 0);
	check_both_sides(*state, IKEV2_KE_ECP256, IKEV2_PRF_HMAC_SHA2_512,
			 IKEV2_ENCR_CHACHA20_POLY1305, 0, 0);
	check_both_sides(*state, IKEV2_KE_MODP2048, IKEV2_PRF_HMAC_SHA2_256, IKEV2_ENCR_AES_CBC,
			 128, IKEV2_INTEG_HMAC_SHA2_256_128);
}

/* RFC 7296 2.18: old PRF for SKEYSEED from SK_d(old), new PRF for prf+. */
static void test_ike_rekey_kat(void **state)
{
	struct fixture f_old, f_new;
	uint8_t data[96], skeyseed[32], seed[80], stream[3 * 48 + 2 * 36];
	struct ike_keys *old = NULL, *k = NULL;

	fixture_init(&f_old, IKEV2_PRF_HMAC_SHA2_256, IKEV2_ENCR_AES_GCM_16, 128, 0);
	assert_int_equal(keymat_ike_derive(*state, &f_old.in, &old), 0);
	fixture_init(&f_new, IKEV2_PRF_HMAC_SHA2_384, IKEV2_ENCR_AES_GCM_16, 256, 0);
	f_new.ni[0] ^= 0xff; /* fresh nonces and SPIs */
	f_new.in.spi_i[0] = 0x99;
	memcpy(data, f_new.gir, 32);
	memcpy(data + 32, f_new.ni, 32);
	memcpy(data + 64, f_new.nr, 32);
	hmac("SHA2-256", old->d, 32, data, 96, skeyseed, 32);
	prf_plus_direct("SHA2-384", 48, skeyseed, 32, seed, ike_seed(&f_new, seed), stream,
			sizeof(stream));

	assert_int_equal(keymat_ike_rekey(*state, old, &f_new.in, &k), 0);
	assert_memory_equal(k->d, stream, 48);
	assert_memory_equal(k->i.ek, stream + 48, 36);
	assert_memory_equal(k->r.ek, stream + 84, 36);
	assert_memory_equal(k->pr, stream + 168, 48);
	assert_ptr_equal(k->prf, f_new.in.prf);
	keymat_ike_free(k);
	/* rekeying an IKE SA always has a new Diffie-Hellman (2.18) */
	f_new.in.shared = NULL;
	assert_int_equal(keymat_ike_rekey(*state, old, &f_new.in, &k), -EINVAL);
	assert_null(k);
	keymat_ike_free(old);
}

/* RFC 7296 2.17: KEYMAT = prf+(SK_d, [g^ir |] Ni | Nr); i2r encr, i2r integ, r2i ... */
static void test_child_kat(void **state)
{
	struct fixture f;
	struct ike_keys *ike = NULL;
	struct keymat_child_in cin;
	struct child_keys ck;
	uint8_t seed[96], stream[2 * (32 + 32)];

	fixture_init(&f, IKEV2_PRF_HMAC_SHA2_256, IKEV2_ENCR_AES_GCM_16, 256, 0);
	assert_int_equal(keymat_ike_derive(*state, &f.in, &ike), 0);
	cin = (struct keymat_child_in){ .encr = suite_encr_find(IKEV2_ENCR_AES_CBC, 256),
					.integ = suite_integ_find(IKEV2_INTEG_HMAC_SHA2_256_128),
					.ni = f.ni, .ni_len = 32, .nr = f.nr, .nr_len = 32 };
	memcpy(seed, f.ni, 32);
	memcpy(seed + 32, f.nr, 32);
	prf_plus_direct("SHA2-256", 32, ike->d, 32, seed, 64, stream, sizeof(stream));
	assert_int_equal(keymat_child_derive(*state, ike, &cin, &ck), 0);
	assert_memory_equal(ck.i2r.ek, stream, 32);
	assert_memory_equal(ck.i2r.ak, stream + 32, 32);
	assert_memory_equal(ck.r2i.ek, stream + 64, 32);
	assert_memory_equal(ck.r2i.ak, stream + 96, 32);

	/* with PFS, g^ir (new) leads the seed; an AEAD takes 36 bytes per direction */
	cin.encr = suite_encr_find(IKEV2_ENCR_AES_GCM_16, 128);
	cin.integ = NULL;
	cin.shared = f.gir;
	cin.shared_len = 32;
	memcpy(seed, f.gir, 32);
	memcpy(seed + 32, f.ni, 32);
	memcpy(seed + 64, f.nr, 32);
	prf_plus_direct("SHA2-256", 32, ike->d, 32, seed, 96, stream, 40);
	assert_int_equal(keymat_child_derive(*state, ike, &cin, &ck), 0);
	assert_memory_equal(ck.i2r.ek, stream, 20);
	assert_memory_equal(ck.r2i.ek, stream + 20, 20);
	keymat_child_wipe(&ck);
	keymat_ike_free(ike);
}

static void test_bad_inputs(void **state)
{
	struct fixture f;
	struct ike_keys *k = NULL, *ike = NULL;
	struct keymat_child_in cin;
	struct child_keys ck;

	fixture_init(&f, IKEV2_PRF_HMAC_SHA2_256, IKEV2_ENCR_AES_GCM_16, 256,
		     IKEV2_INTEG_HMAC_SHA2_256_128); /* an AEAD with an integrity transform */
	assert_int_equal(keymat_ike_derive(*state, &f.in, &k), -EINVAL);
	fixture_init(&f, IKEV2_PRF_HMAC_SHA2_256, IKEV2_ENCR_AES_CBC, 256, 0);
	assert_int_equal(keymat_ike_derive(*state, &f.in, &k), -EINVAL); /* CBC without one */
	fixture_init(&f, IKEV2_PRF_HMAC_SHA2_256, IKEV2_ENCR_AES_GCM_16, 256, 0);
	f.in.ni_len = KEYMAT_NONCE_MIN - 1;
	assert_int_equal(keymat_ike_derive(*state, &f.in, &k), -EINVAL);
	f.in.ni_len = 32;
	f.in.nr_len = KEYMAT_NONCE_MAX + 1;
	assert_int_equal(keymat_ike_derive(*state, &f.in, &k), -EINVAL);
	f.in.nr_len = 32;
	f.in.shared_len = 0;
	assert_int_equal(keymat_ike_derive(*state, &f.in, &k), -EINVAL);
	f.in.shared_len = 32;
	f.in.prf = NULL;
	assert_int_equal(keymat_ike_derive(*state, &f.in, &k), -EINVAL);
	assert_null(k);

	fixture_init(&f, IKEV2_PRF_HMAC_SHA2_256, IKEV2_ENCR_AES_GCM_16, 256, 0);
	assert_int_equal(keymat_ike_derive(*state, &f.in, &ike), 0);
	cin = (struct keymat_child_in){ .encr = NULL, .ni = f.ni, .ni_len = 32, .nr = f.nr,
					.nr_len = 32 };
	assert_int_equal(keymat_child_derive(*state, ike, &cin, &ck), -EINVAL);
	cin.encr = suite_encr_find(IKEV2_ENCR_AES_GCM_16, 256);
	cin.nr = NULL;
	assert_int_equal(keymat_child_derive(*state, ike, &cin, &ck), -EINVAL);
	keymat_ike_free(ike);
	keymat_ike_free(NULL);
	keymat_child_wipe(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ike_kat_cbc),
		cmocka_unit_test(test_ike_kat_aead),
		cmocka_unit_test(test_both_sides_agree),
		cmocka_unit_test(test_ike_rekey_kat),
		cmocka_unit_test(test_child_kat),
		cmocka_unit_test(test_bad_inputs),
	};

	return cmocka_run_group_tests_name("keymat", tests, setup, teardown);
}
