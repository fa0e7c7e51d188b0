/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for SK/SKF unprotect (and, as a property check, protect).
 *
 * Input: one control octet, then the message.
 *   control bits 0-1: transform (AES-GCM-16-256, ChaCha20-Poly1305, AES-CBC-256 with
 *                     HMAC-SHA2-256-128)
 *   control bit 2:    SKF instead of SK
 *   control bits 3-6: header offset 28 + n (0 means the usual 28, right after the IKE
 *                     header)
 *   control bit 7:    round trip: protect the rest as inner payloads, check that it
 *                     opens again to the same bytes and that flipping any one octet of
 *                     the result makes unprotect fail.
 * Keys are fixed, so random messages exercise the length, splitting and authentication
 * paths; the round trip reaches padding and the decrypted side.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ikegw/codec.h"
#include "ikegw/rules.h"

#include "ikegw/buf.h"
#include "ikegw/ikev2.h"
#include "ikegw/sk.h"

static const struct crypto_suite *fuzz_suite(void)
{
	static struct crypto_suite *suite; /* created once for the process */

	if (!suite)
		suite = crypto_suite_new();
	if (!suite)
		abort();
	return suite;
}

static void fuzz_keys(unsigned kind, struct sk_dir_keys *k)
{
	memset(k, 0, sizeof(*k));
	if (kind == 0) {
		k->encr = suite_encr_find(IKEV2_ENCR_AES_GCM_16, 256);
	} else if (kind == 1) {
		k->encr = suite_encr_find(IKEV2_ENCR_CHACHA20_POLY1305, 0);
	} else {
		k->encr = suite_encr_find(IKEV2_ENCR_AES_CBC, 256);
		k->integ = suite_integ_find(IKEV2_INTEG_HMAC_SHA2_256_128);
	}
	memset(k->ek, 0x42, sizeof(k->ek));
	memset(k->ak, 0x24, sizeof(k->ak));
}

static int fuzz_open(const struct sk_dir_keys *k, int skf, const uint8_t *msg, size_t len,
		     size_t off, uint8_t *plain, size_t cap, size_t *plain_len)
{
	if (skf)
		return skf_unprotect(fuzz_suite(), k, msg, len, off, plain, cap, plain_len);
	return sk_unprotect(fuzz_suite(), k, msg, len, off, plain, cap, plain_len);
}

/* Headers (zero lengths) at off, then protect inner; returns the message length or 0. */
static size_t fuzz_seal(const struct sk_dir_keys *k, int skf, size_t off, const uint8_t *inner,
			size_t inner_len, uint8_t *out, size_t cap)
{
	struct wbuf w;
	int rc;

	wbuf_init(&w, out, cap);
	wbuf_zero(&w, off);
	wbuf_u8(&w, IKEV2_PL_IDI);
	wbuf_zero(&w, skf ? SKF_HDR_LEN - 1 : SK_HDR_LEN - 1);
	if (skf)
		rc = skf_protect(fuzz_suite(), k, 5, inner, inner_len, &w, off);
	else
		rc = sk_protect(fuzz_suite(), k, 5, inner, inner_len, &w, off);
	return rc == 0 ? wbuf_len(&w) : 0;
}

/*
 * Decrypted bytes go on into the codec, as in the daemon: the first octet picks the
 * first inner payload type, the rest is the inner chain, then the exchange rules.
 */
static void fuzz_decode_inner(const uint8_t *plain, size_t len)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	struct codec_err err;

	if (!m)
		abort();
	if (len > 0 && codec_decode_chain(plain[0], plain + 1, len - 1, m, &err) == 0)
		(void)rules_check(m, &err);
	free(m);
}

static void fuzz_round_trip(const struct sk_dir_keys *k, int skf, size_t off,
			    const uint8_t *inner, size_t inner_len)
{
	size_t cap = off + inner_len + 128, n, pl = 0;
	uint8_t *msg = malloc(cap), *plain = malloc(cap);

	if (!msg || !plain)
		abort();
	n = fuzz_seal(k, skf, off, inner, inner_len, msg, cap);
	if (n == 0) {
		if (inner_len < 60000) /* only the 64 KiB payload limit may refuse */
			abort();
		goto out;
	}
	if (fuzz_open(k, skf, msg, n, off, plain, cap, &pl) != 0 || pl != inner_len ||
	    (pl && memcmp(plain, inner, pl) != 0))
		abort();
	fuzz_decode_inner(plain, pl);
	/* every octet is authenticated (AAD, IV via the nonce, ciphertext, ICV/tag) */
	msg[inner_len % n] ^= 0x01;
	if (fuzz_open(k, skf, msg, n, off, plain, cap, &pl) == 0)
		abort();
out:
	free(msg);
	free(plain);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sk_dir_keys k;
	uint8_t ctl, *plain;
	size_t off, plain_len = 0;
	int skf;

	if (size < 1)
		return 0;
	ctl = data[0];
	fuzz_keys((ctl & 3u) % 3, &k);
	skf = (ctl >> 2) & 1;
	off = IKEV2_HDR_LEN + ((ctl >> 3) & 0x0f);
	if (ctl & 0x80) {
		fuzz_round_trip(&k, skf, off, data + 1, size - 1);
		return 0;
	}
	plain = malloc(size);
	if (!plain)
		abort();
	if (fuzz_open(&k, skf, data + 1, size - 1, off, plain, size, &plain_len) == 0) {
		if (plain_len > size)
			abort();
		fuzz_decode_inner(plain, plain_len);
	}
	free(plain);
	return 0;
}
