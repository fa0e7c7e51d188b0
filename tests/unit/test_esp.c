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

#include "ikegw/dataplane.h"
#include "ikegw/esp.h"
#include "ikegw/ikev2.h"

#define SPI 0x11223344u
#define BUF 2048

struct fix {
	struct crypto_suite *suite;
	struct cipher_ctx *cx;
	struct esp_ctx ex;
	struct cipher_ctx *other; /* for packets built around esp.c, never shared with ex */
};

static int setup(void **state)
{
	static struct fix f;

	f.suite = crypto_suite_new();
	f.cx = f.suite ? cipher_ctx_new(f.suite) : NULL;
	f.other = f.suite ? cipher_ctx_new(f.suite) : NULL;
	if (f.cx)
		esp_ctx_init(&f.ex, f.cx);
	*state = &f;
	return f.cx && f.other ? 0 : -1;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	esp_ctx_wipe(&f->ex);
	cipher_ctx_free(f->cx);
	cipher_ctx_free(f->other);
	crypto_suite_free(f->suite);
	return 0;
}

struct alg {
	uint16_t encr, keylen, integ;
};

static const struct alg algs[] = {
	{ IKEV2_ENCR_AES_GCM_16, 128, IKEV2_INTEG_NONE },
	{ IKEV2_ENCR_AES_GCM_16, 256, IKEV2_INTEG_NONE },
	{ IKEV2_ENCR_CHACHA20_POLY1305, 0, IKEV2_INTEG_NONE },
	{ IKEV2_ENCR_AES_CBC, 128, IKEV2_INTEG_HMAC_SHA2_256_128 },
	{ IKEV2_ENCR_AES_CBC, 256, IKEV2_INTEG_HMAC_SHA2_256_128 },
	{ IKEV2_ENCR_AES_CBC, 256, IKEV2_INTEG_HMAC_SHA2_384_192 },
	{ IKEV2_ENCR_AES_CBC, 256, IKEV2_INTEG_HMAC_SHA2_512_256 },
	{ IKEV2_ENCR_AES_CBC, 192, IKEV2_INTEG_HMAC_SHA1_96 },
};

static void dp_sa_make(const struct alg *a, struct dp_sa *d)
{
	const struct suite_encr *e = suite_encr_find(a->encr, a->keylen);
	const struct suite_integ *i = suite_integ_find(a->integ);

	assert_non_null(e);
	memset(d, 0, sizeof(*d));
	d->spi = SPI;
	d->encr_id = a->encr;
	d->encr_keylen = a->keylen;
	d->integ_id = a->integ;
	d->enc_key_len = (uint8_t)(e->key_len + e->salt_len);
	for (size_t k = 0; k < d->enc_key_len; k++)
		d->enc_key[k] = (uint8_t)(0x40 + k);
	d->integ_key_len = i ? i->key_len : 0;
	for (size_t k = 0; k < d->integ_key_len; k++)
		d->integ_key[k] = (uint8_t)(0x90 + k);
}

static void pair_make(const struct alg *a, struct esp_sa *out, struct esp_sa *in)
{
	struct dp_sa d;

	dp_sa_make(a, &d);
	assert_int_equal(esp_sa_init(out, &d, 128), 0);
	assert_int_equal(esp_sa_init(in, &d, 128), 0);
}

/* A minimal IPv4 (or IPv6) packet of len bytes: version nibble then a pattern. */
static void ip_make(uint8_t *p, size_t len, int version)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + 3);
	p[0] = version == 4 ? 0x45 : 0x60;
}

static void test_round_trip(void **state)
{
	struct fix *f = *state;
	uint8_t inner[600], pkt[BUF], plain[BUF];
	struct esp_sa out, in;
	size_t n, il;
	uint8_t nh;

	for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
		pair_make(&algs[a], &out, &in);
		for (size_t len = 1; len <= sizeof(inner); len += (len < 40 ? 1 : 37)) {
			int v = len % 2 ? 4 : 6;

			ip_make(inner, len, v);
			assert_int_equal(esp_encap(&f->ex, &out, inner, len, pkt, BUF, &n), 0);
			assert_true(n <= esp_encap_size(&out, len));
			assert_int_equal(esp_decap(&f->ex, &in, pkt, n, plain, BUF, &il, &nh), 0);
			assert_int_equal(il, len);
			assert_memory_equal(plain, inner, len);
			assert_int_equal(nh, v == 4 ? ESP_NH_IPV4 : ESP_NH_IPV6);
		}
		esp_sa_wipe(&out);
		esp_sa_wipe(&in);
	}
}

/*
 * Many SAs with different keys and both directions through one context, interleaved:
 * the remembered key must follow every change (including a failed open in between).
 */
static void test_interleave(void **state)
{
	struct fix *f = *state;
	enum { NSA = 6 };
	struct esp_sa out[NSA], in[NSA];
	uint8_t inner[200], pkt[NSA][BUF], plain[BUF];
	size_t n[NSA], il;
	uint8_t nh;

	for (size_t i = 0; i < NSA; i++) {
		struct dp_sa d;

		dp_sa_make(&algs[i % 4], &d);
		d.enc_key[0] = (uint8_t)i;
		d.enc_key[d.enc_key_len - 1] = (uint8_t)i; /* the salt differs too */
		assert_int_equal(esp_sa_init(&out[i], &d, 128), 0);
		assert_int_equal(esp_sa_init(&in[i], &d, 128), 0);
	}
	ip_make(inner, sizeof(inner), 4);
	for (int round = 0; round < 20; round++) {
		for (size_t i = 0; i < NSA; i++) {
			inner[10] = (uint8_t)(round + i);
			assert_int_equal(esp_encap(&f->ex, &out[i], inner, sizeof(inner), pkt[i],
						   sizeof(pkt[i]), &n[i]), 0);
		}
		for (size_t k = 0; k < NSA; k++) {
			size_t i = (k * 5 + (size_t)round) % NSA, j = (i + 1) % NSA;

			/* the wrong SA's key first: fails, and must not poison the next open */
			in[j].spi = SPI;
			if (round % 2)
				assert_int_not_equal(esp_decap(&f->ex, &in[j], pkt[i], n[i], plain,
							       sizeof(plain), &il, &nh), 0);
			assert_int_equal(esp_decap(&f->ex, &in[i], pkt[i], n[i], plain, BUF, &il,
						   &nh), 0);
			inner[10] = (uint8_t)(round + i);
			assert_memory_equal(plain, inner, sizeof(inner));
		}
	}
}

/* Encrypting in place (inner already at the payload offset) gives the same packet. */
static void test_in_place(void **state)
{
	struct fix *f = *state;
	uint8_t inner[100], a[BUF], b[BUF];
	struct esp_sa s1, s2;
	size_t n1, n2, off;

	pair_make(&algs[1], &s1, &s2);
	ip_make(inner, sizeof(inner), 4);
	off = esp_payload_offset(&s1);
	memcpy(b + off, inner, sizeof(inner));
	assert_int_equal(esp_encap(&f->ex, &s1, inner, sizeof(inner), a, sizeof(a), &n1), 0);
	assert_int_equal(esp_encap(&f->ex, &s2, b + off, sizeof(inner), b, sizeof(b), &n2), 0);
	assert_int_equal(n1, n2);
	assert_memory_equal(a, b, n1);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The expected AES-GCM ESP packet, built with EVP directly (RFC 4106 3, 5). */
static size_t gcm_expect(const uint8_t *key, size_t key_len, const uint8_t *salt, uint32_t seq,
			 const uint8_t *plain, size_t plain_len, uint8_t *out)
{
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, key_len == 16 ? "AES-128-GCM" : "AES-256-GCM",
					 NULL);
	EVP_CIPHER_CTX *e = EVP_CIPHER_CTX_new();
	uint8_t nonce[12] = { 0 };
	OSSL_PARAM p[2];
	int outl = 0;

	assert_non_null(c);
	assert_non_null(e);
	memset(out, 0, 16);
	put32(out, SPI);
	put32(out + 4, seq);
	memcpy(out + 12, out + 4, 4); /* IV: 64-bit seq, high half zero */
	memcpy(nonce, salt, 4);
	memcpy(nonce + 4, out + 8, 8);
	assert_int_equal(EVP_EncryptInit_ex2(e, c, key, nonce, NULL), 1);
	assert_int_equal(EVP_EncryptUpdate(e, NULL, &outl, out, 8), 1);
	assert_int_equal(EVP_EncryptUpdate(e, out + 16, &outl, plain, (int)plain_len), 1);
	assert_int_equal(EVP_EncryptFinal_ex(e, out + 16 + plain_len, &outl), 1);
	assert_int_equal(outl, 0);
	p[0] = OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG,
						 out + 16 + plain_len, 16);
	p[1] = OSSL_PARAM_construct_end();
	assert_int_equal(EVP_CIPHER_CTX_get_params(e, p), 1);
	EVP_CIPHER_CTX_free(e);
	EVP_CIPHER_free(c);
	return 16 + plain_len + 16;
}

static void test_gcm_known_answer(void **state)
{
	struct fix *f = *state;
	uint8_t inner[61], plain[80], got[BUF], want[BUF];
	struct esp_sa out, in;
	struct dp_sa d;
	size_t n, wn, pl;

	dp_sa_make(&algs[1], &d);
	assert_int_equal(esp_sa_init(&out, &d, 0), 0);
	out.seq = 0x01020304 - 1;
	ip_make(inner, sizeof(inner), 4);
	/* 61 + 2 = 63: one pad byte to reach a multiple of 4 (RFC 4303 2.4) */
	memcpy(plain, inner, 61);
	plain[61] = 1;
	plain[62] = 1;
	plain[63] = ESP_NH_IPV4;
	pl = 64;
	assert_int_equal(esp_encap(&f->ex, &out, inner, sizeof(inner), got, sizeof(got), &n), 0);
	wn = gcm_expect(d.enc_key, 32, d.enc_key + 32, 0x01020304, plain, pl, want);
	assert_int_equal(n, wn);
	assert_memory_equal(got, want, n);
	/* Layout: SPI, seq, IV = seq (RFC 4106 3.1) */
	assert_int_equal(be32(got), SPI);
	assert_int_equal(be32(got + 4), 0x01020304);
	assert_int_equal(be32(got + 8), 0);
	assert_int_equal(be32(got + 12), 0x01020304);
	assert_int_equal(esp_sa_init(&in, &d, 0), 0);
	assert_int_equal(esp_decap(&f->ex, &in, got, n, plain, sizeof(plain), &pl, &plain[79]), 0);
	assert_int_equal(pl, sizeof(inner));
}

/* CBC: ICV = HMAC over SPI..ciphertext, checked with EVP_Q_mac; pad bytes 1, 2, 3, ... */
static void test_cbc_layout(void **state)
{
	struct fix *f = *state;
	const struct alg *a = &algs[3];
	uint8_t inner[50], pkt[BUF], mac[64], plain[BUF];
	struct esp_sa out, in;
	struct dp_sa d;
	size_t n, ml = 0, ct_len;
	EVP_CIPHER_CTX *e = EVP_CIPHER_CTX_new();
	int outl = 0;

	dp_sa_make(a, &d);
	assert_int_equal(esp_sa_init(&out, &d, 128), 0);
	assert_int_equal(esp_sa_init(&in, &d, 128), 0);
	ip_make(inner, sizeof(inner), 6);
	assert_int_equal(esp_encap(&f->ex, &out, inner, sizeof(inner), pkt, sizeof(pkt), &n), 0);
	/* 50 + 2 -> 64: 12 pad bytes; 8 header + 16 IV + 64 + 16 ICV */
	assert_int_equal(n, 8 + 16 + 64 + 16);
	ct_len = 64;
	assert_int_equal(be32(pkt + 4), 1);
	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA2-256", NULL, d.integ_key, 32, pkt,
				  n - 16, mac, sizeof(mac), &ml));
	assert_memory_equal(mac, pkt + n - 16, 16);
	assert_non_null(e);
	assert_int_equal(EVP_DecryptInit_ex2(e, EVP_aes_128_cbc(), d.enc_key, pkt + 8, NULL), 1);
	EVP_CIPHER_CTX_set_padding(e, 0);
	assert_int_equal(EVP_DecryptUpdate(e, plain, &outl, pkt + 24, (int)ct_len), 1);
	EVP_CIPHER_CTX_free(e);
	assert_memory_equal(plain, inner, sizeof(inner));
	for (size_t i = 0; i < 12; i++)
		assert_int_equal(plain[50 + i], i + 1);
	assert_int_equal(plain[62], 12);
	assert_int_equal(plain[63], ESP_NH_IPV6);
	/* the random IV differs between packets */
	assert_int_equal(esp_encap(&f->ex, &out, inner, sizeof(inner), plain, BUF, &n), 0);
	assert_memory_not_equal(plain + 8, pkt + 8, 16);
}

static void test_replay_window(void **state)
{
	struct esp_replay r;

	(void)state;
	esp_replay_init(&r, 128);
	assert_int_equal(esp_replay_check(&r, 0), -EALREADY);
	assert_int_equal(esp_replay_check(&r, 1), 0);
	esp_replay_update(&r, 1);
	assert_int_equal(esp_replay_check(&r, 1), -EALREADY); /* duplicate */
	esp_replay_update(&r, 1000);                          /* far ahead: window moves */
	assert_int_equal(esp_replay_check(&r, 1000), -EALREADY);
	assert_int_equal(esp_replay_check(&r, 1000 - 128), -EALREADY); /* exactly W behind */
	assert_int_equal(esp_replay_check(&r, 1000 - 127), 0);          /* W-1 behind */
	assert_int_equal(esp_replay_check(&r, 2), -EALREADY);           /* too old */
	assert_int_equal(esp_replay_check(&r, 999), 0);
	esp_replay_update(&r, 999);
	assert_int_equal(esp_replay_check(&r, 999), -EALREADY);
	assert_int_equal(esp_replay_check(&r, 1001), 0);
	/* moving by less than the window keeps the bits inside it */
	esp_replay_update(&r, 1100);
	assert_int_equal(esp_replay_check(&r, 999), -EALREADY);
	assert_int_equal(esp_replay_check(&r, 1000), -EALREADY);
	assert_int_equal(esp_replay_check(&r, 998), 0);
	/* the top of the 32-bit space */
	esp_replay_update(&r, UINT32_MAX);
	assert_int_equal(esp_replay_check(&r, UINT32_MAX), -EALREADY);
	assert_int_equal(esp_replay_check(&r, UINT32_MAX - 1), 0);
	assert_int_equal(esp_replay_check(&r, UINT32_MAX - 128), -EALREADY);
	assert_int_equal(esp_replay_check(&r, 1100), -EALREADY);
}

/* Every sequence number seen once, in a shuffled order within the window, then none. */
static void test_replay_reorder(void **state)
{
	struct esp_replay r;

	(void)state;
	esp_replay_init(&r, ESP_REPLAY_MAX + 1000); /* clamped */
	assert_int_equal(r.window, ESP_REPLAY_MAX);
	for (uint32_t base = 1; base < 20000; base += 500) {
		for (uint32_t i = 0; i < 500; i++) {
			uint32_t s = base + (i * 263) % 500;

			assert_int_equal(esp_replay_check(&r, s), 0);
			esp_replay_update(&r, s);
		}
		for (uint32_t s = base; s < base + 500; s++)
			assert_int_equal(esp_replay_check(&r, s), -EALREADY);
	}
	esp_replay_init(&r, 0);
	assert_int_equal(r.window, ESP_REPLAY_MIN);
}

static void test_decap_replay(void **state)
{
	struct fix *f = *state;
	uint8_t inner[40], p1[BUF], p2[BUF], plain[BUF];
	struct esp_sa out, in;
	size_t n1, n2, il;
	uint8_t nh;

	pair_make(&algs[0], &out, &in);
	ip_make(inner, sizeof(inner), 4);
	assert_int_equal(esp_encap(&f->ex, &out, inner, sizeof(inner), p1, sizeof(p1), &n1), 0);
	out.seq = 5000;
	assert_int_equal(esp_encap(&f->ex, &out, inner, sizeof(inner), p2, sizeof(p2), &n2), 0);
	/* a forged packet far ahead does not move the window */
	p2[n2 - 1] ^= 1;
	assert_int_equal(esp_decap(&f->ex, &in, p2, n2, plain, sizeof(plain), &il, &nh), -EBADMSG);
	assert_int_equal(in.replay.top, 0);
	p2[n2 - 1] ^= 1;
	assert_int_equal(esp_decap(&f->ex, &in, p1, n1, plain, sizeof(plain), &il, &nh), 0);
	assert_int_equal(esp_decap(&f->ex, &in, p1, n1, plain, sizeof(plain), &il, &nh), -EALREADY);
	assert_int_equal(esp_decap(&f->ex, &in, p2, n2, plain, sizeof(plain), &il, &nh), 0);
	assert_int_equal(in.replay.top, 5001);
	assert_int_equal(esp_decap(&f->ex, &in, p2, n2, plain, sizeof(plain), &il, &nh), -EALREADY);
}

static void test_seq_overflow(void **state)
{
	struct fix *f = *state;
	uint8_t inner[40], pkt[BUF], plain[BUF];
	struct esp_sa out, in;
	size_t n, il;
	uint8_t nh;

	pair_make(&algs[2], &out, &in);
	ip_make(inner, sizeof(inner), 4);
	out.seq = UINT32_MAX - 1;
	assert_int_equal(esp_encap(&f->ex, &out, inner, sizeof(inner), pkt, sizeof(pkt), &n), 0);
	assert_int_equal(be32(pkt + 4), UINT32_MAX);
	assert_int_equal(esp_encap(&f->ex, &out, inner, sizeof(inner), plain, sizeof(plain), &n),
			 -EOVERFLOW);
	assert_int_equal(esp_decap(&f->ex, &in, pkt, n, plain, sizeof(plain), &il,
				   &nh), 0);
	assert_int_equal(in.replay.top, UINT32_MAX);
}

/* Flipping any single bit anywhere makes the packet fail. */
static void test_tamper(void **state)
{
	struct fix *f = *state;
	uint8_t inner[70], pkt[BUF], plain[BUF];
	struct esp_sa out, in;
	size_t n, il;
	uint8_t nh;

	for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
		pair_make(&algs[a], &out, &in);
		ip_make(inner, sizeof(inner), 4);
		assert_int_equal(esp_encap(&f->ex, &out, inner, sizeof(inner), pkt, BUF, &n), 0);
		for (size_t i = 0; i < n; i++) {
			int rc;

			pkt[i] ^= 0x10;
			rc = esp_decap(&f->ex, &in, pkt, n, plain, sizeof(plain), &il, &nh);
			pkt[i] ^= 0x10;
			if (i < 4)
				assert_int_equal(rc, -ENOENT);
			else
				assert_int_equal(rc, -EBADMSG);
		}
		assert_int_equal(in.replay.top, 0);
		assert_int_equal(esp_decap(&f->ex, &in, pkt, n, plain, sizeof(plain), &il, &nh), 0);
	}
}

/* A valid AEAD packet around any plaintext (the trailer is the caller's). */
static size_t seal_raw(struct fix *f, const struct esp_sa *sa, uint32_t seq,
		       const uint8_t *plain, size_t len, uint8_t *pkt)
{
	int rc;

	memset(pkt, 0, 16);
	put32(pkt, SPI);
	put32(pkt + 4, seq);
	put32(pkt + 12, seq);
	rc = cipher_aead_seal(f->other, sa->encr, sa->enc_key, sa->enc_key + 32, pkt + 8, pkt, 8,
			      plain, len, pkt + 16, pkt + 16 + len);
	assert_int_equal(rc, 0);
	return 16 + len + 16;
}

static void test_trailer(void **state)
{
	struct fix *f = *state;
	uint8_t plain[32], pkt[BUF], out[BUF];
	struct esp_sa tx, rx;
	size_t n, il;
	uint8_t nh;

	pair_make(&algs[1], &tx, &rx);
	ip_make(plain, sizeof(plain), 4);
	/* 28 payload, pad 1 2, pad len 2, next header 4: fine */
	plain[28] = 1, plain[29] = 2, plain[30] = 2, plain[31] = ESP_NH_IPV4;
	n = seal_raw(f, &tx, 1, plain, 32, pkt);
	assert_int_equal(esp_decap(&f->ex, &rx, pkt, n, out, sizeof(out), &il, &nh), 0);
	assert_int_equal(il, 28);
	/* pad bytes not 1, 2, ... */
	plain[29] = 3;
	n = seal_raw(f, &tx, 2, plain, 32, pkt);
	assert_int_equal(esp_decap(&f->ex, &rx, pkt, n, out, sizeof(out), &il, &nh), -EPROTO);
	plain[29] = 2;
	/* pad length longer than the plaintext */
	plain[30] = 31;
	n = seal_raw(f, &tx, 3, plain, 32, pkt);
	assert_int_equal(esp_decap(&f->ex, &rx, pkt, n, out, sizeof(out), &il, &nh), -EPROTO);
	plain[30] = 2;
	/* next header 59: a dummy packet, dropped silently (RFC 4303 2.6) */
	plain[31] = ESP_NH_NONE;
	n = seal_raw(f, &tx, 4, plain, 32, pkt);
	assert_int_equal(esp_decap(&f->ex, &rx, pkt, n, out, sizeof(out), &il, &nh), -ENODATA);
	/* next header UDP: not tunnel mode */
	plain[31] = 17;
	n = seal_raw(f, &tx, 5, plain, 32, pkt);
	assert_int_equal(esp_decap(&f->ex, &rx, pkt, n, out, sizeof(out), &il, &nh),
			 -EPROTONOSUPPORT);
	/* IPv6 and zero padding */
	plain[30] = 0, plain[31] = ESP_NH_IPV6;
	n = seal_raw(f, &tx, 6, plain, 32, pkt);
	assert_int_equal(esp_decap(&f->ex, &rx, pkt, n, out, sizeof(out), &il, &nh), 0);
	assert_int_equal(il, 30);
	assert_int_equal(nh, ESP_NH_IPV6);
}

/* Every truncation of a valid packet fails, and short ones before any crypto. */
static void test_truncated(void **state)
{
	struct fix *f = *state;
	uint8_t inner[33], pkt[BUF], plain[BUF];
	struct esp_sa out, in;
	size_t n, il, min;
	uint8_t nh;

	for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
		pair_make(&algs[a], &out, &in);
		ip_make(inner, sizeof(inner), 4);
		assert_int_equal(esp_encap(&f->ex, &out, inner, sizeof(inner), pkt, BUF, &n), 0);
		min = esp_payload_offset(&in) + ESP_TRAILER_LEN +
		      (in.integ ? in.integ->icv_len : in.encr->icv_len);
		for (size_t len = 0; len < n; len++) {
			int rc = esp_decap(&f->ex, &in, pkt, len, plain, sizeof(plain), &il, &nh);

			if (len < min)
				assert_int_equal(rc, -EMSGSIZE);
			else
				assert_true(rc == -EMSGSIZE || rc == -EBADMSG);
		}
		assert_int_equal(esp_decap(&f->ex, &in, pkt, n, plain, sizeof(plain), &il, &nh), 0);
	}
}

static void test_bad_input(void **state)
{
	struct fix *f = *state;
	uint8_t inner[40], pkt[BUF], plain[BUF];
	struct esp_sa out, in;
	struct dp_sa d;
	size_t n, il;
	uint8_t nh;
	uint32_t spi;

	pair_make(&algs[0], &out, &in);
	ip_make(inner, sizeof(inner), 4);
	/* not IP */
	inner[0] = 0x55;
	assert_int_equal(esp_encap(&f->ex, &out, inner, sizeof(inner), pkt, sizeof(pkt), &n),
			 -EPROTONOSUPPORT);
	assert_int_equal(esp_encap(&f->ex, &out, inner, 0, pkt, sizeof(pkt), &n), -EPROTONOSUPPORT);
	inner[0] = 0x45;
	/* no room: the sequence number is not used up */
	assert_int_equal(esp_encap(&f->ex, &out, inner, sizeof(inner), pkt, 60, &n), -ENOBUFS);
	assert_int_equal(out.seq, 0);
	assert_int_equal(esp_encap(&f->ex, &out, inner, sizeof(inner), pkt, sizeof(pkt), &n), 0);
	assert_int_equal(esp_decap(&f->ex, &in, pkt, n, plain, 10, &il, &nh), -ENOBUFS);
	/* another SA's SPI */
	in.spi ^= 1;
	assert_int_equal(esp_decap(&f->ex, &in, pkt, n, plain, sizeof(plain), &il, &nh), -ENOENT);
	in.spi ^= 1;
	/* SPI field shorter than 4 bytes */
	assert_int_equal(esp_peek_spi(pkt, 3, &spi), -EMSGSIZE);
	assert_int_equal(esp_peek_spi(pkt, 4, &spi), 0);
	assert_int_equal(spi, SPI);
	/* CBC ciphertext not whole blocks */
	pair_make(&algs[3], &out, &in);
	assert_int_equal(esp_encap(&f->ex, &out, inner, sizeof(inner), pkt, sizeof(pkt), &n), 0);
	assert_int_equal(esp_decap(&f->ex, &in, pkt, n - 1, plain, sizeof(plain), &il, &nh),
			 -EMSGSIZE);
	/* set-up refusals */
	dp_sa_make(&algs[0], &d);
	d.esn = true;
	assert_int_equal(esp_sa_init(&out, &d, 0), -ENOTSUP);
	d.esn = false;
	d.enc_key_len--;
	assert_int_equal(esp_sa_init(&out, &d, 0), -EINVAL);
	dp_sa_make(&algs[0], &d);
	d.integ_id = IKEV2_INTEG_HMAC_SHA2_256_128;
	assert_int_equal(esp_sa_init(&out, &d, 0), -EINVAL);
	dp_sa_make(&algs[3], &d);
	d.integ_key_len = 16;
	assert_int_equal(esp_sa_init(&out, &d, 0), -EINVAL);
	d.integ_id = IKEV2_INTEG_HMAC_MD5_96;
	assert_int_equal(esp_sa_init(&out, &d, 0), -ENOTSUP);
	d.encr_id = IKEV2_ENCR_3DES;
	assert_int_equal(esp_sa_init(&out, &d, 0), -ENOTSUP);
}

/* --- ECN (RFC 6040) --- */

/* The one's complement sum of an IPv4 header: 0xffff when its checksum is right. */
static uint16_t ip4_sum(const uint8_t *h, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* A 20-byte IPv4 header (DSCP 0x28 = AF11 kept apart from ECN) with a right checksum. */
static void ip4_ecn(uint8_t *h, int ecn)
{
	static const uint8_t hdr[20] = { 0x45, 0, 0, 20, 0x12, 0x34, 0x40, 0, 64, 17, 0, 0,
					 10, 99, 0, 7, 10, 0, 0, 1 };
	uint16_t c;

	memcpy(h, hdr, sizeof(hdr));
	h[1] = (uint8_t)(0x28 | ecn);
	c = (uint16_t)~ip4_sum(h, 20);
	h[10] = (uint8_t)(c >> 8);
	h[11] = (uint8_t)c;
	assert_int_equal(ip4_sum(h, 20), 0xffff);
}

/* 40 bytes of IPv6 header: version 6, Traffic Class 0xa0 | ecn, flow label 0x12345. */
static void ip6_ecn(uint8_t *h, int ecn)
{
	memset(h, 0, 40);
	h[0] = 0x6a;
	h[1] = (uint8_t)(ecn << 4 | 0x01);
	h[2] = 0x23;
	h[3] = 0x45;
}

/* RFC 6040 4.2 Figure 4, row by row: [inner][outer] -> inner after, -1 = drop. */
static const int ecn_table[4][4] = {
	/* outer:          Not-ECT  ECT(1)  ECT(0)  CE */
	[ESP_ECN_NOT_ECT] = { 0, 0, 0, -1 },
	[ESP_ECN_ECT1] = { ESP_ECN_ECT1, ESP_ECN_ECT1, ESP_ECN_ECT1, ESP_ECN_CE },
	[ESP_ECN_ECT0] = { ESP_ECN_ECT0, ESP_ECN_ECT1, ESP_ECN_ECT0, ESP_ECN_CE },
	[ESP_ECN_CE] = { ESP_ECN_CE, ESP_ECN_CE, ESP_ECN_CE, ESP_ECN_CE },
};

static void test_ecn_decap_v4(void **state)
{
	uint8_t h[20];

	(void)state;
	for (int in = 0; in < 4; in++) {
		for (int out = 0; out < 4; out++) {
			int want = ecn_table[in][out];
			int rc;

			ip4_ecn(h, in);
			assert_int_equal(esp_ecn_get(h, sizeof(h)), in);
			/* the outer DSCP (0xb8, EF) never reaches the inner header */
			rc = esp_ecn_decap(h, sizeof(h), (uint8_t)(0xb8 | out));
			if (want < 0) {
				assert_int_equal(rc, -ECANCELED);
				continue;
			}
			assert_int_equal(rc, 0);
			assert_int_equal(h[1], 0x28 | want);
			assert_int_equal(ip4_sum(h, 20), 0xffff);
		}
	}
}

static void test_ecn_decap_v6(void **state)
{
	uint8_t h[40];

	(void)state;
	for (int in = 0; in < 4; in++) {
		for (int out = 0; out < 4; out++) {
			int want = ecn_table[in][out];
			int rc;

			ip6_ecn(h, in);
			assert_int_equal(esp_ecn_get(h, sizeof(h)), in);
			rc = esp_ecn_decap(h, sizeof(h), (uint8_t)out);
			if (want < 0) {
				assert_int_equal(rc, -ECANCELED);
				continue;
			}
			assert_int_equal(rc, 0);
			assert_int_equal(h[0], 0x6a);       /* version, DSCP high bits */
			assert_int_equal(h[1], want << 4 | 0x01); /* DSCP low bits, flow label */
			assert_int_equal(h[2], 0x23);
		}
	}
}

/* Checksums all over the range, so the RFC 1624 adjustment wraps and carries. */
static void test_ecn_csum_wrap(void **state)
{
	uint8_t h[20];

	(void)state;
	for (int id = 0; id < 0x10000; id += 0x101) {
		uint16_t c;

		ip4_ecn(h, ESP_ECN_ECT0);
		h[4] = (uint8_t)(id >> 8);
		h[5] = (uint8_t)id;
		h[10] = h[11] = 0;
		c = (uint16_t)~ip4_sum(h, 20);
		h[10] = (uint8_t)(c >> 8);
		h[11] = (uint8_t)c;
		assert_int_equal(esp_ecn_decap(h, sizeof(h), ESP_ECN_CE), 0);
		assert_int_equal(h[1] & ESP_ECN_MASK, ESP_ECN_CE);
		assert_int_equal(ip4_sum(h, 20), 0xffff);
	}
}

static void test_ecn_bad(void **state)
{
	uint8_t h[40];

	(void)state;
	ip4_ecn(h, ESP_ECN_ECT0);
	assert_int_equal(esp_ecn_get(h, 1), -EMSGSIZE);
	assert_int_equal(esp_ecn_get(h, 19), -EMSGSIZE);
	assert_int_equal(esp_ecn_decap(h, 19, ESP_ECN_CE), -EMSGSIZE);
	assert_int_equal(h[1], 0x28 | ESP_ECN_ECT0); /* untouched */
	ip6_ecn(h, ESP_ECN_ECT0);
	assert_int_equal(esp_ecn_get(h, 39), -EMSGSIZE);
	h[0] = 0x50;
	assert_int_equal(esp_ecn_get(h, 40), -EPROTONOSUPPORT);
	assert_int_equal(esp_ecn_decap(h, 40, ESP_ECN_CE), -EPROTONOSUPPORT);
	assert_int_equal(esp_ecn_get(NULL, 0), -EMSGSIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_interleave),
		cmocka_unit_test(test_in_place),
		cmocka_unit_test(test_gcm_known_answer),
		cmocka_unit_test(test_cbc_layout),
		cmocka_unit_test(test_replay_window),
		cmocka_unit_test(test_replay_reorder),
		cmocka_unit_test(test_decap_replay),
		cmocka_unit_test(test_seq_overflow),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_trailer),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_ecn_decap_v4),
		cmocka_unit_test(test_ecn_decap_v6),
		cmocka_unit_test(test_ecn_csum_wrap),
		cmocka_unit_test(test_ecn_bad),
	};

	return cmocka_run_group_tests_name("esp", tests, setup, teardown);
}
