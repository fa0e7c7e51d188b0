/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ikegw/cipher.h"
#include "ikegw/ikev2.h"
#include "ikegw/sk.h"

#define HDR_OFF IKEV2_HDR_LEN /* the SK payload right after the IKE header */

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

enum suite_kind { GCM256, CHACHA, CBC256_SHA256, N_KINDS };

static void keys_make(enum suite_kind kind, uint8_t seed, struct sk_dir_keys *k)
{
	memset(k, 0, sizeof(*k));
	switch (kind) {
	case GCM256:
		k->encr = suite_encr_find(IKEV2_ENCR_AES_GCM_16, 256);
		break;
	case CHACHA:
		k->encr = suite_encr_find(IKEV2_ENCR_CHACHA20_POLY1305, 0);
		break;
	default:
		k->encr = suite_encr_find(IKEV2_ENCR_AES_CBC, 256);
		k->integ = suite_integ_find(IKEV2_INTEG_HMAC_SHA2_256_128);
		break;
	}
	for (size_t i = 0; i < sizeof(k->ek); i++)
		k->ek[i] = (uint8_t)(seed + i);
	for (size_t i = 0; i < sizeof(k->ak); i++)
		k->ak[i] = (uint8_t)(seed * 3 + i);
}

/* IKE header (RFC 7296 3.1) then the SK or SKF generic header, lengths left zero. */
static void headers_write(struct wbuf *w, uint8_t sk_type, uint16_t frag, uint16_t total)
{
	wbuf_u64(w, 0x0102030405060708ull); /* SPIi */
	wbuf_u64(w, 0x1112131415161718ull); /* SPIr */
	wbuf_u8(w, sk_type);
	wbuf_u8(w, 0x20); /* version 2.0 */
	wbuf_u8(w, IKEV2_EXCH_IKE_AUTH);
	wbuf_u8(w, IKEV2_FLAG_INITIATOR);
	wbuf_u32(w, 1); /* message ID */
	wbuf_u32(w, 0); /* length, patched by sk_protect */
	wbuf_u8(w, IKEV2_PL_IDI); /* SK: Next Payload = the first inner payload */
	wbuf_u8(w, 0);
	wbuf_u16(w, 0);
	if (sk_type == IKEV2_PL_SKF) {
		wbuf_u16(w, frag);
		wbuf_u16(w, total);
	}
}

static size_t message_build(const struct crypto_suite *s, const struct sk_dir_keys *k,
			    const uint8_t *inner, size_t inner_len, uint8_t *buf, size_t cap)
{
	struct wbuf w;

	wbuf_init(&w, buf, cap);
	headers_write(&w, IKEV2_PL_SK, 0, 0);
	assert_int_equal(sk_protect(s, k, 7, inner, inner_len, &w, HDR_OFF), 0);
	return wbuf_len(&w);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_round_trip(void **state)
{
	uint8_t inner[300], msg[512], plain[512];

	for (size_t i = 0; i < sizeof(inner); i++)
		inner[i] = (uint8_t)(i * 7);
	for (int kind = 0; kind < N_KINDS; kind++) {
		struct sk_dir_keys k;

		keys_make(kind, 0x30, &k);
		/* every length across a couple of CBC blocks, and the empty payload */
		for (size_t len = 0; len < 40; len++) {
			size_t n = message_build(*state, &k, inner, len, msg, sizeof(msg)), pl = 99;

			assert_int_equal(n, HDR_OFF + SK_HDR_LEN + len + sk_overhead(&k, len));
			assert_int_equal(be32(msg + 24), n);                  /* IKE Length */
			assert_int_equal(msg[30] << 8 | msg[31], n - HDR_OFF); /* SK Payload Length */
			assert_int_equal(sk_unprotect(*state, &k, msg, n, HDR_OFF, plain,
						      sizeof(plain), &pl), 0);
			assert_int_equal(pl, len);
			assert_memory_equal(plain, inner, len);
		}
		{
			size_t n = message_build(*state, &k, inner, sizeof(inner), msg, sizeof(msg));
			size_t pl;

			assert_int_equal(sk_unprotect(*state, &k, msg, n, HDR_OFF, plain,
						      sizeof(plain), &pl), 0);
			assert_memory_equal(plain, inner, sizeof(inner));
		}
	}
}

/* The AEAD IV on the wire is the counter; the CBC one is random. */
static void test_iv_choice(void **state)
{
	uint8_t msg[128], msg2[128], counter[8] = { 0, 0, 0, 0, 0, 0, 0, 7 };
	struct sk_dir_keys k;

	keys_make(GCM256, 1, &k);
	message_build(*state, &k, (const uint8_t *)"abc", 3, msg, sizeof(msg));
	assert_memory_equal(msg + HDR_OFF + SK_HDR_LEN, counter, 8);
	keys_make(CBC256_SHA256, 1, &k);
	message_build(*state, &k, (const uint8_t *)"abc", 3, msg, sizeof(msg));
	message_build(*state, &k, (const uint8_t *)"abc", 3, msg2, sizeof(msg2));
	assert_memory_not_equal(msg + HDR_OFF + SK_HDR_LEN, msg2 + HDR_OFF + SK_HDR_LEN, 16);
}

static void test_tampering_rejected(void **state)
{
	uint8_t inner[50], msg[256], plain[256];

	memset(inner, 0x5a, sizeof(inner));
	for (int kind = 0; kind < N_KINDS; kind++) {
		struct sk_dir_keys k, wrong;
		size_t n, pl;

		keys_make(kind, 0x44, &k);
		keys_make(kind, 0x45, &wrong);
		n = message_build(*state, &k, inner, sizeof(inner), msg, sizeof(msg));
		msg[n - 1] ^= 1; /* ICV */
		assert_int_equal(sk_unprotect(*state, &k, msg, n, HDR_OFF, plain, sizeof(plain), &pl),
				 SK_ERR_AUTH);
		msg[n - 1] ^= 1;
		msg[18] ^= 1; /* exchange type, in the IKE header: AAD / covered by the ICV */
		assert_int_equal(sk_unprotect(*state, &k, msg, n, HDR_OFF, plain, sizeof(plain), &pl),
				 SK_ERR_AUTH);
		msg[18] ^= 1;
		msg[HDR_OFF] ^= 1; /* SK header's Next Payload */
		assert_int_equal(sk_unprotect(*state, &k, msg, n, HDR_OFF, plain, sizeof(plain), &pl),
				 SK_ERR_AUTH);
		msg[HDR_OFF] ^= 1;
		msg[HDR_OFF + SK_HDR_LEN + k.encr->iv_len + 2] ^= 1; /* ciphertext */
		assert_int_equal(sk_unprotect(*state, &k, msg, n, HDR_OFF, plain, sizeof(plain), &pl),
				 SK_ERR_AUTH);
		msg[HDR_OFF + SK_HDR_LEN + k.encr->iv_len + 2] ^= 1;
		assert_int_equal(sk_unprotect(*state, &wrong, msg, n, HDR_OFF, plain, sizeof(plain),
					      &pl), SK_ERR_AUTH);
		/* truncated: the SK Payload Length no longer matches */
		assert_int_equal(sk_unprotect(*state, &k, msg, n - 1, HDR_OFF, plain, sizeof(plain),
					      &pl), SK_ERR_TRUNCATED);
		/* truncated with the length field "fixed" up: fails authentication */
		msg[31] -= 1;
		assert_int_equal(sk_unprotect(*state, &k, msg, n - 1, HDR_OFF, plain, sizeof(plain),
					      &pl), kind == CBC256_SHA256 ? SK_ERR_TRUNCATED : SK_ERR_AUTH);
		msg[31] += 1;
		/* the intact message still opens */
		assert_int_equal(sk_unprotect(*state, &k, msg, n, HDR_OFF, plain, sizeof(plain), &pl),
				 0);
		assert_int_equal(pl, sizeof(inner));
	}
}

static void test_structural_errors(void **state)
{
	uint8_t msg[256], plain[256];
	struct sk_dir_keys k;
	size_t n, pl;

	keys_make(GCM256, 9, &k);
	n = message_build(*state, &k, (const uint8_t *)"0123456789", 10, msg, sizeof(msg));
	/* too short for IV + ICV + pad length */
	for (size_t len = HDR_OFF; len < HDR_OFF + SK_HDR_LEN + 8 + 16 + 1; len++) {
		msg[30] = (uint8_t)((len - HDR_OFF) >> 8);
		msg[31] = (uint8_t)(len - HDR_OFF);
		assert_int_equal(sk_unprotect(*state, &k, msg, len, HDR_OFF, plain, sizeof(plain),
					      &pl), SK_ERR_TRUNCATED);
	}
	msg[30] = (uint8_t)((n - HDR_OFF) >> 8);
	msg[31] = (uint8_t)(n - HDR_OFF);
	/* header offsets that do not fit */
	assert_int_equal(sk_unprotect(*state, &k, msg, n, 27, plain, sizeof(plain), &pl),
			 SK_ERR_TRUNCATED);
	assert_int_equal(sk_unprotect(*state, &k, msg, n, n - 2, plain, sizeof(plain), &pl),
			 SK_ERR_TRUNCATED);
	assert_int_equal(sk_unprotect(*state, &k, msg, n, n + 10, plain, sizeof(plain), &pl),
			 SK_ERR_TRUNCATED);
	assert_int_equal(sk_unprotect(*state, &k, msg, n, (size_t)-1, plain, sizeof(plain), &pl),
			 SK_ERR_TRUNCATED);
	/* plain too small for the ciphertext */
	assert_int_equal(sk_unprotect(*state, &k, msg, n, HDR_OFF, plain, 10, &pl), SK_ERR_NOSPACE);
	assert_int_equal(sk_unprotect(*state, &k, msg, n, HDR_OFF, plain, sizeof(plain), &pl), 0);
	/* CBC ciphertext that is not whole blocks */
	keys_make(CBC256_SHA256, 9, &k);
	n = message_build(*state, &k, (const uint8_t *)"0123456789", 10, msg, sizeof(msg));
	msg[31] += 1;
	msg[n] = 0;
	assert_int_equal(sk_unprotect(*state, &k, msg, n + 1, HDR_OFF, plain, sizeof(plain), &pl),
			 SK_ERR_TRUNCATED);
}

/* A correctly authenticated message whose Pad Length claims more than there is. */
static size_t bad_pad_build(const struct crypto_suite *s, const struct sk_dir_keys *k,
			    uint8_t *msg, size_t cap)
{
	uint8_t pt[32], *ivp, *ct, *icv;
	size_t pt_len = k->encr->aead ? 5 : 16, icvl = k->encr->aead ? 16 : k->integ->icv_len;
	size_t iv_len = k->encr->iv_len, n;
	struct cipher_ctx cx;
	struct wbuf w;

	memset(pt, 0x11, sizeof(pt));
	pt[pt_len - 1] = (uint8_t)pt_len; /* pad length + 1 > plaintext */
	wbuf_init(&w, msg, cap);
	headers_write(&w, IKEV2_PL_SK, 0, 0);
	wbuf_zero(&w, iv_len + pt_len + icvl);
	n = wbuf_len(&w);
	wbuf_put_u16_at(&w, HDR_OFF + 2, (uint16_t)(n - HDR_OFF));
	wbuf_put_u32_at(&w, 24, (uint32_t)n);
	ivp = wbuf_at(&w, HDR_OFF + 4, iv_len);
	ct = wbuf_at(&w, HDR_OFF + 4 + iv_len, pt_len);
	icv = wbuf_at(&w, n - icvl, icvl);
	memset(ivp, 0x77, iv_len);
	cipher_ctx_init(&cx, s);
	if (k->encr->aead) {
		assert_int_equal(cipher_aead_seal(&cx, k->encr, k->ek, k->ek + k->encr->key_len, ivp,
						  msg, HDR_OFF + 4, pt, pt_len, ct, icv), 0);
	} else {
		struct crypto_chunk c = { msg, n - icvl };

		assert_int_equal(cipher_cbc_encrypt(&cx, k->encr, k->ek, ivp, pt, pt_len, ct), 0);
		assert_int_equal(cipher_mac_compute(&cx, k->integ->md, k->ak, k->integ->key_len, &c,
						    1, icv, icvl), 0);
	}
	cipher_ctx_release(&cx);
	return n;
}

static void test_bad_padding(void **state)
{
	uint8_t msg[256], plain[256];

	for (int kind = 0; kind < N_KINDS; kind++) {
		struct sk_dir_keys k;
		size_t n, pl = 99;

		keys_make(kind, 0x21, &k);
		n = bad_pad_build(*state, &k, msg, sizeof(msg));
		memset(plain, 0xee, sizeof(plain));
		assert_int_equal(sk_unprotect(*state, &k, msg, n, HDR_OFF, plain, sizeof(plain), &pl),
				 SK_ERR_PADDING);
		assert_int_equal(pl, 0);
		assert_int_equal(plain[0], 0); /* decrypted bytes were wiped */
	}
}

/* RFC 7383 2.5: the Fragment Number and Total Fragments are authenticated too. */
static void test_skf_round_trip(void **state)
{
	uint8_t inner[100], msg[256], plain[256];

	memset(inner, 0x3c, sizeof(inner));
	for (int kind = 0; kind < N_KINDS; kind++) {
		struct sk_dir_keys k;
		struct wbuf w;
		size_t n, pl;

		keys_make(kind, 0x61, &k);
		wbuf_init(&w, msg, sizeof(msg));
		headers_write(&w, IKEV2_PL_SKF, 2, 3);
		assert_int_equal(skf_protect(*state, &k, 2, inner, sizeof(inner), &w, HDR_OFF), 0);
		n = wbuf_len(&w);
		assert_int_equal(msg[30] << 8 | msg[31], n - HDR_OFF);
		assert_int_equal(msg[33], 2); /* the fragment number survives the patching */
		assert_int_equal(skf_unprotect(*state, &k, msg, n, HDR_OFF, plain, sizeof(plain), &pl),
				 0);
		assert_int_equal(pl, sizeof(inner));
		assert_memory_equal(plain, inner, pl);
		msg[33] = 1;
		assert_int_equal(skf_unprotect(*state, &k, msg, n, HDR_OFF, plain, sizeof(plain), &pl),
				 SK_ERR_AUTH);
	}
}

static void test_protect_errors(void **state)
{
	uint8_t msg[128], inner[64] = { 0 };
	struct sk_dir_keys k;
	struct wbuf w;

	keys_make(CBC256_SHA256, 2, &k);
	wbuf_init(&w, msg, 60); /* room for the headers, not for the payload */
	headers_write(&w, IKEV2_PL_SK, 0, 0);
	assert_int_equal(sk_protect(*state, &k, 0, inner, sizeof(inner), &w, HDR_OFF), -ENOSPC);
	wbuf_init(&w, msg, sizeof(msg));
	headers_write(&w, IKEV2_PL_SK, 0, 0);
	/* the writer must end right after the header */
	assert_int_equal(sk_protect(*state, &k, 0, inner, 8, &w, HDR_OFF + 1), -EINVAL);
	assert_int_equal(skf_protect(*state, &k, 0, inner, 8, &w, HDR_OFF), -EINVAL);
	/* an AEAD with an integrity key set is inconsistent */
	keys_make(GCM256, 2, &k);
	k.integ = suite_integ_find(IKEV2_INTEG_HMAC_SHA2_256_128);
	assert_int_equal(sk_protect(*state, &k, 0, inner, 8, &w, HDR_OFF), -EINVAL);
	assert_int_equal(sk_overhead(&k, 8), 0);
	assert_int_equal(sk_protect(*state, NULL, 0, inner, 8, &w, HDR_OFF), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_iv_choice),
		cmocka_unit_test(test_tampering_rejected),
		cmocka_unit_test(test_structural_errors),
		cmocka_unit_test(test_bad_padding),
		cmocka_unit_test(test_skf_round_trip),
		cmocka_unit_test(test_protect_errors),
	};

	return cmocka_run_group_tests_name("sk", tests, setup, teardown);
}
