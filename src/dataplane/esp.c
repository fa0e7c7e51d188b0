/* SPDX-License-Identifier: ISC */
/* ESP encapsulation / decapsulation (RFC 4303) and the anti-replay window; no I/O. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "ikegw/buf.h"
#include "ikegw/dataplane.h"
#include "ikegw/esp.h"
#include "ikegw/ikev2.h"

/* ---- the anti-replay window (RFC 4303 3.4.3) ---- */

void esp_replay_init(struct esp_replay *r, uint32_t window)
{
	memset(r, 0, sizeof(*r));
	if (window < ESP_REPLAY_MIN)
		window = ESP_REPLAY_MIN;
	if (window > ESP_REPLAY_MAX)
		window = ESP_REPLAY_MAX;
	r->window = window;
}

static bool replay_bit(const struct esp_replay *r, uint64_t s, uint64_t *mask, size_t *word)
{
	*word = (size_t)((s / 64) % ESP_REPLAY_WORDS);
	*mask = (uint64_t)1 << (s % 64);
	return (r->bits[*word] & *mask) != 0;
}

int esp_replay_check(const struct esp_replay *r, uint32_t seq)
{
	uint64_t s = seq, mask;
	size_t word;

	/* The first packet carries 1 (RFC 4303 3.3.3): 0 is never valid. */
	if (s == 0)
		return -EALREADY;
	if (s > r->top)
		return 0;
	if (r->top - s >= r->window)
		return -EALREADY;
	return replay_bit(r, s, &mask, &word) ? -EALREADY : 0;
}

/*
 * Move the right edge to s: the words between the old and the new edge start empty.
 * ESP_REPLAY_MAX leaves one spare word, so none of them still holds a bit inside the
 * new window.
 */
static void replay_advance(struct esp_replay *r, uint64_t s)
{
	uint64_t from = r->top / 64, to = s / 64;

	if (to - from >= ESP_REPLAY_WORDS)
		memset(r->bits, 0, sizeof(r->bits));
	else
		for (uint64_t w = from + 1; w <= to; w++)
			r->bits[w % ESP_REPLAY_WORDS] = 0;
	r->top = s;
}

void esp_replay_update(struct esp_replay *r, uint32_t seq)
{
	uint64_t s = seq, mask;
	size_t word;

	if (s > r->top)
		replay_advance(r, s);
	replay_bit(r, s, &mask, &word);
	r->bits[word] |= mask;
}

/* ---- SA set-up ---- */

static int esp_sa_integ(struct esp_sa *sa, const struct dp_sa *d)
{
	if (sa->encr->aead)
		return d->integ_id == IKEV2_INTEG_NONE ? 0 : -EINVAL;
	sa->integ = suite_integ_find(d->integ_id);
	if (!sa->integ)
		return -ENOTSUP;
	if (d->integ_key_len != sa->integ->key_len)
		return -EINVAL;
	memcpy(sa->integ_key, d->integ_key, d->integ_key_len);
	return 0;
}

int esp_sa_init(struct esp_sa *sa, const struct dp_sa *d, uint32_t replay_window)
{
	int rc;

	memset(sa, 0, sizeof(*sa));
	sa->encr = suite_encr_find(d->encr_id, d->encr_keylen);
	/* Only 32-bit sequence numbers: ESN would change the AAD and ICV (RFC 4303 2.2.1). */
	if (!sa->encr || d->esn)
		return -ENOTSUP;
	if (d->enc_key_len != sa->encr->key_len + sa->encr->salt_len)
		return -EINVAL;
	memcpy(sa->enc_key, d->enc_key, d->enc_key_len);
	rc = esp_sa_integ(sa, d);
	if (rc != 0) {
		esp_sa_wipe(sa);
		return rc;
	}
	sa->spi = d->spi;
	esp_replay_init(&sa->replay, replay_window);
	return 0;
}

void esp_sa_wipe(struct esp_sa *sa)
{
	OPENSSL_cleanse(sa, sizeof(*sa));
}

/* ---- sizes ---- */

static size_t esp_icv_len(const struct esp_sa *sa)
{
	return sa->encr->aead ? sa->encr->icv_len : sa->integ->icv_len;
}

/* RFC 4303 2.4: payload + padding + trailer end on the cipher block and on 4 bytes. */
static size_t esp_pad_len(const struct esp_sa *sa, size_t len)
{
	size_t align = sa->encr->block_len > 4 ? sa->encr->block_len : 4;

	return (align - (len + ESP_TRAILER_LEN) % align) % align;
}

size_t esp_payload_offset(const struct esp_sa *sa)
{
	return ESP_HDR_LEN + sa->encr->iv_len;
}

size_t esp_encap_size(const struct esp_sa *sa, size_t len)
{
	return esp_payload_offset(sa) + len + esp_pad_len(sa, len) + ESP_TRAILER_LEN +
	       esp_icv_len(sa);
}

/* An ESP packet split into its fields; every pointer borrows from the packet. */
struct esp_view {
	uint32_t spi, seq;
	const uint8_t *hdr;    /* SPI | seq: the AEAD AAD */
	const uint8_t *iv;
	const uint8_t *ct;
	size_t ct_len;
	const uint8_t *icv;
	const uint8_t *authed; /* SPI .. ciphertext: the HMAC input */
	size_t authed_len;
};

/* ---- AEAD on the shared EVP context, re-keyed only when the key changes ---- */

void esp_ctx_init(struct esp_ctx *e, struct cipher_ctx *cx)
{
	memset(e, 0, sizeof(*e));
	e->cx = cx;
}

void esp_ctx_wipe(struct esp_ctx *e)
{
	OPENSSL_cleanse(e->keyed, sizeof(e->keyed));
	OPENSSL_cleanse(e->rnd, sizeof(e->rnd));
	e->keyed_len = 0;
	e->rnd_left = 0;
}

/*
 * Set the nonce (salt | IV, RFC 4106 4 / RFC 7634 2) and, when the context holds
 * another key, the key.  With a NULL key EVP_CipherInit_ex2 keeps the key schedule
 * (and the GHASH key) and only resets the nonce and the direction.
 */
static int esp_aead_init(struct esp_ctx *e, const struct esp_sa *sa, const uint8_t *iv,
			 const uint8_t *aad, int enc)
{
	struct cipher_ctx *cx = e->cx;
	const EVP_CIPHER *c = suite_cipher_get(cx->suite, sa->encr->cipher);
	size_t kl = sa->encr->key_len, sl = sa->encr->salt_len;
	uint8_t nonce[12];
	bool keyed;
	int outl = 0;

	if (!c || sl + sa->encr->iv_len != sizeof(nonce) || kl > sizeof(e->keyed))
		return -EINVAL;
	if (!cx->evp && !(cx->evp = EVP_CIPHER_CTX_new()))
		return -ENOMEM;
	keyed = cx->evp_cipher == c && e->keyed_len == kl &&
		CRYPTO_memcmp(e->keyed, sa->enc_key, kl) == 0;
	memcpy(nonce, sa->enc_key + kl, sl);
	memcpy(nonce + sl, iv, sa->encr->iv_len);
	if (EVP_CipherInit_ex2(cx->evp, cx->evp_cipher == c ? NULL : c, keyed ? NULL : sa->enc_key,
			       nonce, enc, NULL) != 1) {
		cx->evp_cipher = NULL;
		e->keyed_len = 0;
		return -EIO;
	}
	cx->evp_cipher = c;
	if (!keyed) {
		memcpy(e->keyed, sa->enc_key, kl);
		e->keyed_len = kl;
	}
	return EVP_CipherUpdate(cx->evp, NULL, &outl, aad, ESP_HDR_LEN) == 1 ? 0 : -EIO;
}

/* One update over buf (in place) then the final, which must add nothing. */
static int esp_aead_run(EVP_CIPHER_CTX *evp, const uint8_t *in, uint8_t *out, size_t len)
{
	uint8_t tail[EVP_MAX_BLOCK_LENGTH];
	int outl = 0;

	if (len > INT_MAX || (len > 0 && (EVP_CipherUpdate(evp, out, &outl, in, (int)len) != 1 ||
					  (size_t)outl != len)))
		return -EIO;
	if (EVP_CipherFinal_ex(evp, tail, &outl) != 1)
		return -EBADMSG; /* decryption: the tag did not verify */
	return outl == 0 ? 0 : -EIO;
}

static int esp_aead_seal(struct esp_ctx *e, const struct esp_sa *sa, const uint8_t *iv,
			 const uint8_t *aad, uint8_t *buf, size_t len, uint8_t *tag)
{
	int rc = esp_aead_init(e, sa, iv, aad, 1);

	if (rc == 0)
		rc = esp_aead_run(e->cx->evp, buf, buf, len);
	if (rc == 0)
		rc = cipher_aead_tag(e->cx->evp, tag, sa->encr->icv_len, 0);
	if (rc != 0)
		e->keyed_len = 0; /* state unknown: key again next time */
	return rc == 0 ? 0 : -EIO;
}

static int esp_aead_open(struct esp_ctx *e, const struct esp_sa *sa, const struct esp_view *v,
			 uint8_t *out)
{
	uint8_t tag[SUITE_MAX_ICV];
	int rc = -EINVAL;

	if (sa->encr->icv_len <= sizeof(tag))
		rc = esp_aead_init(e, sa, v->iv, v->hdr, 0);
	if (rc == 0) {
		memcpy(tag, v->icv, sa->encr->icv_len);
		rc = cipher_aead_tag(e->cx->evp, tag, sa->encr->icv_len, 1);
	}
	if (rc == 0)
		rc = esp_aead_run(e->cx->evp, v->ct, out, v->ct_len);
	if (rc != 0) {
		OPENSSL_cleanse(out, v->ct_len); /* never hand out unauthenticated plaintext */
		if (rc != -EBADMSG)
			e->keyed_len = 0;
	}
	return rc;
}

/* ---- encapsulation ---- */

/* Next header from the IP version nibble (RFC 4303 2.6, tunnel mode). */
static int esp_next_header(const uint8_t *inner, size_t len, uint8_t *nh)
{
	struct rbuf r;
	uint8_t v;

	rbuf_init(&r, inner, len);
	if (rbuf_peek_u8(&r, 0, &v) != 0)
		return -EPROTONOSUPPORT;
	if (v >> 4 == 4)
		*nh = ESP_NH_IPV4;
	else if (v >> 4 == 6)
		*nh = ESP_NH_IPV6;
	else
		return -EPROTONOSUPPORT;
	return 0;
}

/*
 * AEAD: the IV is the 64-bit sequence number, unique for the key (RFC 4106 3.1,
 * RFC 7634 2).  CBC: a fresh random IV (RFC 3602 3 requires unpredictability).
 */
static int esp_write_iv(struct esp_ctx *e, struct wbuf *w, const struct esp_sa *sa,
			uint32_t seq)
{
	size_t off, n = sa->encr->iv_len;
	uint8_t *iv;

	if (sa->encr->aead) {
		wbuf_u64(w, seq);
		return 0;
	}
	off = wbuf_reserve(w, n);
	iv = off == (size_t)-1 ? NULL : wbuf_at(w, off, n);
	if (!iv || n > sizeof(e->rnd))
		return -ENOBUFS;
	if (e->rnd_left < n) {
		if (RAND_bytes(e->rnd, sizeof(e->rnd)) != 1)
			return -EIO;
		e->rnd_left = sizeof(e->rnd);
	}
	memcpy(iv, &e->rnd[sizeof(e->rnd) - e->rnd_left], n);
	memset(&e->rnd[sizeof(e->rnd) - e->rnd_left], 0, n); /* an IV is used once */
	e->rnd_left -= n;
	return 0;
}

/* Payload (moved into place unless it is there already), padding 1, 2, 3, ..., trailer. */
static void esp_write_plain(struct wbuf *w, const uint8_t *inner, size_t len, size_t pad,
			    uint8_t nh)
{
	size_t off = wbuf_reserve(w, len);
	uint8_t *dst = off == (size_t)-1 ? NULL : wbuf_at(w, off, len);

	if (dst && dst != inner)
		memmove(dst, inner, len);
	for (size_t i = 1; i <= pad; i++)
		wbuf_u8(w, (uint8_t)i);
	wbuf_u8(w, (uint8_t)pad);
	wbuf_u8(w, nh);
}

static int esp_seal(struct esp_ctx *e, const struct esp_sa *sa, struct wbuf *w,
		    size_t ct_len, size_t icv_off)
{
	size_t off = esp_payload_offset(sa), icv_len = esp_icv_len(sa);
	uint8_t *hdr = wbuf_at(w, 0, off), *iv = wbuf_at(w, ESP_HDR_LEN, sa->encr->iv_len);
	uint8_t *ct = wbuf_at(w, off, ct_len), *icv = wbuf_at(w, icv_off, icv_len);
	struct crypto_chunk authed;

	if (!hdr || !iv || !ct || !icv)
		return -ENOBUFS;
	if (sa->encr->aead)
		return esp_aead_seal(e, sa, iv, hdr, ct, ct_len, icv);
	e->keyed_len = 0; /* cipher.c re-keys the shared EVP context */
	if (cipher_cbc_encrypt(e->cx, sa->encr, sa->enc_key, iv, ct, ct_len, ct) != 0)
		return -EIO;
	/* RFC 4303 2.8: the ICV covers SPI, sequence number, IV and ciphertext. */
	authed = (struct crypto_chunk){ .p = hdr, .len = off + ct_len };
	return cipher_mac_compute(e->cx, sa->integ->md, sa->integ_key, sa->integ->key_len,
				  &authed, 1, icv, icv_len) == 0 ? 0 : -EIO;
}

int esp_encap(struct esp_ctx *e, struct esp_sa *sa, const uint8_t *inner, size_t len,
	      uint8_t *out, size_t cap, size_t *out_len)
{
	size_t pad = esp_pad_len(sa, len), icv_off;
	uint32_t seq;
	uint8_t nh;
	struct wbuf w;
	int rc = esp_next_header(inner, len, &nh);

	if (rc != 0)
		return rc;
	/* RFC 4303 3.3.3: without ESN the counter must not cycle; the SA needs a rekey. */
	if (sa->seq == UINT32_MAX)
		return -EOVERFLOW;
	seq = sa->seq + 1;
	wbuf_init(&w, out, cap);
	wbuf_u32(&w, sa->spi);
	wbuf_u32(&w, seq);
	rc = esp_write_iv(e, &w, sa, seq);
	if (rc != 0)
		return rc;
	esp_write_plain(&w, inner, len, pad, nh);
	icv_off = wbuf_reserve(&w, esp_icv_len(sa));
	if (!wbuf_ok(&w))
		return -ENOBUFS;
	sa->seq = seq;
	rc = esp_seal(e, sa, &w, len + pad + ESP_TRAILER_LEN, icv_off);
	if (rc == 0)
		*out_len = wbuf_len(&w);
	return rc;
}

/* ---- decapsulation ---- */


static int esp_parse(const struct esp_sa *sa, const uint8_t *pkt, size_t len,
		     struct esp_view *v)
{
	size_t icv_len = esp_icv_len(sa), iv_len = sa->encr->iv_len, left;
	struct rbuf r, h;

	rbuf_init(&r, pkt, len);
	if (rbuf_bytes(&r, ESP_HDR_LEN, &v->hdr) != 0 || rbuf_bytes(&r, iv_len, &v->iv) != 0)
		return -EMSGSIZE;
	rbuf_init(&h, v->hdr, ESP_HDR_LEN);
	rbuf_u32(&h, &v->spi);
	rbuf_u32(&h, &v->seq);
	left = rbuf_left(&r);
	if (left < icv_len + ESP_TRAILER_LEN)
		return -EMSGSIZE;
	v->ct_len = left - icv_len;
	/* RFC 4303 2.4 / RFC 3602 3: CBC ciphertext is whole blocks. */
	if (!sa->encr->aead && v->ct_len % sa->encr->block_len != 0)
		return -EMSGSIZE;
	rbuf_bytes(&r, v->ct_len, &v->ct);
	rbuf_bytes(&r, icv_len, &v->icv);
	v->authed_len = ESP_HDR_LEN + iv_len + v->ct_len;
	rbuf_init(&r, pkt, len);
	return rbuf_bytes(&r, v->authed_len, &v->authed) == 0 ? 0 : -EMSGSIZE;
}

/* Authenticate, then decrypt into out (RFC 4303 3.4.4: ICV before decryption for CBC). */
static int esp_open(struct esp_ctx *e, const struct esp_sa *sa, const struct esp_view *v,
		    uint8_t *out)
{
	struct crypto_chunk authed = { .p = v->authed, .len = v->authed_len };
	int rc;

	if (sa->encr->aead)
		return esp_aead_open(e, sa, v, out);
	rc = cipher_mac_verify(e->cx, sa->integ->md, sa->integ_key, sa->integ->key_len, &authed,
			       1, v->icv, sa->integ->icv_len);
	if (rc != 0)
		return rc == -EBADMSG ? rc : -EIO;
	e->keyed_len = 0; /* cipher.c re-keys the shared EVP context */
	rc = cipher_cbc_decrypt(e->cx, sa->encr, sa->enc_key, v->iv, v->ct, v->ct_len, out);
	return rc == 0 ? 0 : -EIO;
}

/* RFC 4303 2.4-2.6: padding must read 1, 2, 3, ...; next header 4 or 41 (59: dummy). */
static int esp_trailer(const uint8_t *plain, size_t ct_len, size_t *inner_len, uint8_t *nh)
{
	struct rbuf r;
	uint8_t pad_len, b;

	rbuf_init(&r, plain, ct_len);
	if (rbuf_peek_u8(&r, ct_len - 2, &pad_len) != 0 || rbuf_peek_u8(&r, ct_len - 1, nh) != 0)
		return -EMSGSIZE;
	if (*nh == ESP_NH_NONE)
		return -ENODATA;
	if (pad_len > ct_len - ESP_TRAILER_LEN)
		return -EPROTO;
	*inner_len = ct_len - ESP_TRAILER_LEN - pad_len;
	rbuf_skip(&r, *inner_len);
	for (unsigned i = 1; i <= pad_len; i++)
		if (rbuf_u8(&r, &b) != 0 || b != i)
			return -EPROTO;
	if (*nh != ESP_NH_IPV4 && *nh != ESP_NH_IPV6)
		return -EPROTONOSUPPORT;
	return 0;
}

int esp_decap(struct esp_ctx *e, struct esp_sa *sa, const uint8_t *pkt, size_t len,
	      uint8_t *out, size_t cap, size_t *inner_len, uint8_t *next_header)
{
	struct esp_view v;
	int rc = esp_parse(sa, pkt, len, &v);

	if (rc != 0)
		return rc;
	if (v.spi != sa->spi)
		return -ENOENT;
	/* RFC 4303 3.4.3: reject duplicates before spending a decryption on them ... */
	if (esp_replay_check(&sa->replay, v.seq) != 0)
		return -EALREADY;
	if (v.ct_len > cap)
		return -ENOBUFS;
	rc = esp_open(e, sa, &v, out);
	if (rc != 0)
		return rc;
	/* ... and move the window only for a packet whose ICV verified. */
	esp_replay_update(&sa->replay, v.seq);
	return esp_trailer(out, v.ct_len, inner_len, next_header);
}

int esp_peek_spi(const uint8_t *pkt, size_t len, uint32_t *spi)
{
	struct rbuf r;

	rbuf_init(&r, pkt, len);
	return rbuf_peek_u32(&r, 0, spi) == 0 ? 0 : -EMSGSIZE;
}

/* ---- ECN (RFC 6040) ---- */

#define ESP_IP4_MIN 20
#define ESP_IP6_MIN 40
#define ESP_IP4_CSUM_OFF 10

int esp_ecn_get(const uint8_t *pkt, size_t len)
{
	struct rbuf r;
	uint8_t b0, b1;

	rbuf_init(&r, pkt, len);
	if (rbuf_peek_u8(&r, 0, &b0) < 0 || rbuf_peek_u8(&r, 1, &b1) < 0)
		return -EMSGSIZE;
	if (b0 >> 4 == 4)
		return len >= ESP_IP4_MIN ? b1 & ESP_ECN_MASK : -EMSGSIZE;
	if (b0 >> 4 == 6) /* Traffic Class spans bytes 0-1; its ECN bits are 0x30 of byte 1 */
		return len >= ESP_IP6_MIN ? (b1 >> 4) & ESP_ECN_MASK : -EMSGSIZE;
	return -EPROTONOSUPPORT;
}

/* RFC 6040 4.2 Figure 4: the inner ECN field after decapsulation, or -1: drop. */
static int esp_ecn_egress(int inner, int outer)
{
	if (outer == ESP_ECN_CE)
		return inner == ESP_ECN_NOT_ECT ? -1 : ESP_ECN_CE;
	if (outer == ESP_ECN_ECT1 && inner == ESP_ECN_ECT0)
		return ESP_ECN_ECT1;
	return inner;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for the 16-bit word m changed to m'. */
static uint16_t esp_csum_adjust(uint16_t hc, uint16_t m, uint16_t m2)
{
	uint32_t sum = (uint16_t)~hc + (uint32_t)(uint16_t)~m + m2;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static int esp_ecn_set(uint8_t *pkt, size_t len, int ecn)
{
	struct rbuf r;
	struct wbuf w;
	uint8_t b0, b1, nb1;
	uint16_t hc = 0;

	rbuf_init(&r, pkt, len);
	if (rbuf_peek_u8(&r, 0, &b0) < 0 || rbuf_peek_u8(&r, 1, &b1) < 0)
		return -EMSGSIZE;
	wbuf_init_full(&w, pkt, len);
	if (b0 >> 4 == 6) {
		wbuf_put_u8_at(&w, 1, (uint8_t)((b1 & 0xcf) | (ecn << 4)));
		return wbuf_ok(&w) ? 0 : -EMSGSIZE;
	}
	nb1 = (uint8_t)((b1 & ~ESP_ECN_MASK) | ecn);
	if (rbuf_skip(&r, ESP_IP4_CSUM_OFF) < 0 || rbuf_u16(&r, &hc) < 0)
		return -EMSGSIZE;
	wbuf_put_u8_at(&w, 1, nb1);
	wbuf_put_u16_at(&w, ESP_IP4_CSUM_OFF,
			esp_csum_adjust(hc, (uint16_t)(b0 << 8 | b1), (uint16_t)(b0 << 8 | nb1)));
	return wbuf_ok(&w) ? 0 : -EMSGSIZE;
}

int esp_ecn_decap(uint8_t *pkt, size_t len, uint8_t outer_tos)
{
	int inner = esp_ecn_get(pkt, len), out;

	if (inner < 0)
		return inner;
	out = esp_ecn_egress(inner, outer_tos & ESP_ECN_MASK);
	if (out < 0)
		return -ECANCELED;
	return out == inner ? 0 : esp_ecn_set(pkt, len, out);
}
