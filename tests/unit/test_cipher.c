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

#include "ikegw/cipher.h"
#include "ikegw/ikev2.h"

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

struct aead_vec {
	uint16_t id, keylen;
	const char *key, *nonce, *aad, *pt, *ct, *tag;
};

/* McGrew & Viega GCM test cases 4 (AES-128) and 16 (AES-256); RFC 8439 2.8.2. */
static const char gcm_pt[] =
	"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
static const struct aead_vec aead_vecs[] = {
	{ IKEV2_ENCR_AES_GCM_16, 128, "feffe9928665731c6d6a8f9467308308",
	  "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2", gcm_pt,
	  "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	  "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
	  "5bc94fbc3221a5db94fae95ae7121a47" },
	{ IKEV2_ENCR_AES_GCM_16, 256,
	  "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	  "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2", gcm_pt,
	  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	  "76fc6ece0f4e1768cddf8853bb2d551b" },
	{ IKEV2_ENCR_CHACHA20_POLY1305, 0,
	  "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
	  "070000004041424344454647", "50515253c0c1c2c3c4c5c6c7",
	  /* "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for
	   * the future, sunscreen would be it." */
	  "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
	  "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
	  "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
	  "637265656e20776f756c642062652069742e",
	  "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
	  "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
	  "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
	  "3ff4def08e4b7a9de576d26586cec64b6116",
	  "1ae10b594f09e26a7e902ecbd0600691" },
};

static void check_aead(struct cipher_ctx *cx, const struct aead_vec *v)
{
	uint8_t key[32], nonce[12], aad[32], pt[128], ct[128], tag[16], out[128], got_tag[16];
	const struct suite_encr *alg = suite_encr_find(v->id, v->keylen);
	size_t kl, al, pl;

	assert_non_null(alg);
	kl = unhex(v->key, key, sizeof(key));
	assert_int_equal(kl, alg->key_len);
	unhex(v->nonce, nonce, sizeof(nonce));
	al = unhex(v->aad, aad, sizeof(aad));
	pl = unhex(v->pt, pt, sizeof(pt));
	assert_int_equal(unhex(v->ct, ct, sizeof(ct)), pl);
	unhex(v->tag, tag, sizeof(tag));
	/* nonce = salt(4) | iv(8), the IKEv2 / ESP split of the 96-bit AEAD nonce */
	assert_int_equal(cipher_aead_seal(cx, alg, key, nonce, nonce + 4, aad, al, pt, pl, out,
					  got_tag), 0);
	assert_memory_equal(out, ct, pl);
	assert_memory_equal(got_tag, tag, 16);
	assert_int_equal(cipher_aead_open(cx, alg, key, nonce, nonce + 4, aad, al, ct, pl, out,
					  tag), 0);
	assert_memory_equal(out, pt, pl);
	/* in place */
	memcpy(out, pt, pl);
	assert_int_equal(cipher_aead_seal(cx, alg, key, nonce, nonce + 4, aad, al, out, pl, out,
					  got_tag), 0);
	assert_memory_equal(out, ct, pl);
}

static void test_aead_vectors(void **state)
{
	struct cipher_ctx cx;

	cipher_ctx_init(&cx, *state);
	for (size_t i = 0; i < sizeof(aead_vecs) / sizeof(aead_vecs[0]); i++)
		check_aead(&cx, &aead_vecs[i]);
	/* the same scratch context, used again in reverse order (cipher switches) */
	for (size_t i = sizeof(aead_vecs) / sizeof(aead_vecs[0]); i > 0; i--)
		check_aead(&cx, &aead_vecs[i - 1]);
	cipher_ctx_release(&cx);
}

static void test_aead_rejects_tampering(void **state)
{
	const struct aead_vec *v = &aead_vecs[2];
	const struct suite_encr *alg = suite_encr_find(v->id, v->keylen);
	uint8_t key[32], nonce[12], aad[32], ct[128], tag[16], out[128];
	struct cipher_ctx *cx = cipher_ctx_new(*state);
	size_t al, cl;

	assert_non_null(cx);
	unhex(v->key, key, sizeof(key));
	unhex(v->nonce, nonce, sizeof(nonce));
	al = unhex(v->aad, aad, sizeof(aad));
	cl = unhex(v->ct, ct, sizeof(ct));
	unhex(v->tag, tag, sizeof(tag));
	tag[15] ^= 1;
	memset(out, 0xa5, sizeof(out));
	assert_int_equal(cipher_aead_open(cx, alg, key, nonce, nonce + 4, aad, al, ct, cl, out, tag),
			 -EBADMSG);
	for (size_t i = 0; i < cl; i++)
		assert_int_equal(out[i], 0); /* no unauthenticated plaintext handed out */
	tag[15] ^= 1;
	aad[0] ^= 1;
	assert_int_equal(cipher_aead_open(cx, alg, key, nonce, nonce + 4, aad, al, ct, cl, out, tag),
			 -EBADMSG);
	aad[0] ^= 1;
	ct[cl - 1] ^= 0x80;
	assert_int_equal(cipher_aead_open(cx, alg, key, nonce, nonce + 4, aad, al, ct, cl, out, tag),
			 -EBADMSG);
	/* a CBC transform is not an AEAD */
	assert_int_equal(cipher_aead_open(cx, suite_encr_find(IKEV2_ENCR_AES_CBC, 256), key, nonce,
					  nonce + 4, aad, al, ct, cl, out, tag), -EINVAL);
	cipher_ctx_free(cx);
}

/* RFC 3602 4, cases 1 and 2 (AES-128-CBC). */
static void test_cbc_rfc3602(void **state)
{
	static const struct {
		const char *key, *iv, *pt, *ct;
	} v[] = {
		{ "06a9214036b8a15b512e03d534120006", "3dafba429d9eb430b422da802c9fac41",
		  "53696e676c6520626c6f636b206d7367", /* "Single block msg" */
		  "e353779c1079aeb82708942dbe77181a" },
		{ "c286696d887c9aa0611bbb3e2025a45a", "562e17996d093d28ddb3ba695a2e6f58",
		  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		  "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1" },
	};
	const struct suite_encr *alg = suite_encr_find(IKEV2_ENCR_AES_CBC, 128);
	uint8_t key[16], iv[16], pt[32], ct[32], out[32];
	struct cipher_ctx cx;

	cipher_ctx_init(&cx, *state);
	for (size_t i = 0; i < 2; i++) {
		size_t n;

		unhex(v[i].key, key, sizeof(key));
		unhex(v[i].iv, iv, sizeof(iv));
		n = unhex(v[i].pt, pt, sizeof(pt));
		assert_int_equal(unhex(v[i].ct, ct, sizeof(ct)), n);
		assert_int_equal(cipher_cbc_encrypt(&cx, alg, key, iv, pt, n, out), 0);
		assert_memory_equal(out, ct, n);
		assert_int_equal(cipher_cbc_decrypt(&cx, alg, key, iv, ct, n, out), 0);
		assert_memory_equal(out, pt, n);
	}
	/* not a whole number of blocks */
	assert_int_equal(cipher_cbc_encrypt(&cx, alg, key, iv, pt, 15, out), -EINVAL);
	assert_int_equal(cipher_cbc_decrypt(&cx, alg, key, iv, ct, 17, out), -EINVAL);
	/* an AEAD is refused by the CBC entry points */
	assert_int_equal(cipher_cbc_encrypt(&cx, suite_encr_find(IKEV2_ENCR_AES_GCM_16, 128), key,
					    iv, pt, 16, out), -EINVAL);
	cipher_ctx_release(&cx);
}

/* RFC 4868 2.7.2: truncated HMAC-SHA-256-128 / -384-192 / -512-256 test cases 1 and 2. */
static void test_mac_rfc4868_auth(void **state)
{
	static const struct {
		uint16_t integ;
		size_t key_len;
		const char *tc1, *tc2;
	} v[] = {
		{ IKEV2_INTEG_HMAC_SHA2_256_128, 32, "198a607eb44bfbc69903a0f1cf2bbdc5",
		  "167f928588c5cc2eef8e3093caa0e87c" },
		{ IKEV2_INTEG_HMAC_SHA2_384_192, 48, "b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee973",
		  "2c7353974f1842fd66d53c452ca42122b28c0b594cfb184d" },
		{ IKEV2_INTEG_HMAC_SHA2_512_256, 64,
		  "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8",
		  "cb370917ae8a7ce28cfd1d8f4705d6141c173b2a9362c15df235dfb251b15454" },
	};
	static const char hi[] = "Hi There", what[] = "what do ya want for nothing?";
	uint8_t key[64], jefe[64], want[32], icv[32];
	struct cipher_ctx cx;

	cipher_ctx_init(&cx, *state);
	memset(key, 0x0b, sizeof(key));
	for (size_t i = 0; i < sizeof(jefe); i++)
		jefe[i] = (uint8_t)"Jefe"[i % 4];
	for (size_t i = 0; i < 3; i++) {
		const struct suite_integ *in = suite_integ_find(v[i].integ);
		struct crypto_chunk d1 = { hi, 8 };
		/* split input: the MAC is over the concatenation */
		struct crypto_chunk d2[2] = { { what, 10 }, { what + 10, strlen(what) - 10 } };

		assert_non_null(in);
		assert_int_equal(in->key_len, v[i].key_len);
		unhex(v[i].tc1, want, sizeof(want));
		assert_int_equal(cipher_mac_compute(&cx, in->md, key, in->key_len, &d1, 1, icv,
						    in->icv_len), 0);
		assert_memory_equal(icv, want, in->icv_len);
		assert_int_equal(cipher_mac_verify(&cx, in->md, key, in->key_len, &d1, 1, want,
						   in->icv_len), 0);
		want[0] ^= 1;
		assert_int_equal(cipher_mac_verify(&cx, in->md, key, in->key_len, &d1, 1, want,
						   in->icv_len), -EBADMSG);
		unhex(v[i].tc2, want, sizeof(want));
		assert_int_equal(cipher_mac_verify(&cx, in->md, jefe, in->key_len, d2, 2, want,
						   in->icv_len), 0);
	}
	cipher_ctx_release(&cx);
}

static void test_mac_bad_args(void **state)
{
	struct crypto_chunk d = { "x", 1 };
	uint8_t key[32] = { 1 }, out[80];
	struct cipher_ctx cx;

	cipher_ctx_init(&cx, *state);
	assert_int_equal(cipher_mac_compute(&cx, SUITE_MD_SHA256, key, 0, &d, 1, out, 16), -EINVAL);
	assert_int_equal(cipher_mac_compute(&cx, SUITE_MD_SHA256, NULL, 32, &d, 1, out, 16), -EINVAL);
	assert_int_equal(cipher_mac_compute(&cx, SUITE_MD_SHA256, key, 32, &d, 1, out, 33), -EINVAL);
	assert_int_equal(cipher_mac_compute(&cx, SUITE_MD_COUNT, key, 32, &d, 1, out, 16), -EINVAL);
	assert_int_equal(cipher_mac_verify(&cx, SUITE_MD_SHA256, key, 32, &d, 1, out, 0), -EINVAL);
	cipher_ctx_release(&cx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aead_vectors),
		cmocka_unit_test(test_aead_rejects_tampering),
		cmocka_unit_test(test_cbc_rfc3602),
		cmocka_unit_test(test_mac_rfc4868_auth),
		cmocka_unit_test(test_mac_bad_args),
	};

	return cmocka_run_group_tests_name("cipher", tests, setup, teardown);
}
