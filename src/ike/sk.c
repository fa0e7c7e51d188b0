/* SPDX-License-Identifier: ISC */
/* SK / SKF protection (RFC 7296 3.14, RFC 5282, RFC 7634, RFC 7383 2.5) on raw bytes. */
#include <errno.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ikegw/cipher.h"
#include "ikegw/ikev2.h"
#include "ikegw/sk.h"

#define IKE_HDR_LENGTH_OFF 24 /* RFC 7296 3.1: Length, the last field of the IKE header */
#define AEAD_IV_LEN 8         /* RFC 5282 3.1, RFC 7634 2: 64-bit explicit IV */
#define PAYLOAD_LENGTH_OFF 2  /* within the generic payload header */

/* The parts of a received SK/SKF payload, all borrowed from the message. */
struct sk_parts {
	const uint8_t *aad;    /* IKE header .. end of the SK/SKF header */
	size_t aad_len;
	const uint8_t *iv;
	const uint8_t *ct;
	size_t ct_len;
	const uint8_t *icv;
	const uint8_t *authed; /* everything the CBC ICV covers: all but the ICV */
	size_t authed_len;
};

static int keys_check(const struct sk_dir_keys *k)
{
	if (!k || !k->encr)
		return -EINVAL;
	if (k->encr->aead)
		return !k->integ && k->encr->iv_len == AEAD_IV_LEN ? 0 : -EINVAL;
	return k->integ && k->encr->block_len > 0 ? 0 : -EINVAL;
}

static size_t icv_len(const struct sk_dir_keys *k)
{
	return k->encr->aead ? k->encr->icv_len : k->integ->icv_len;
}

/* Padding so that plaintext | pad length fills whole blocks (none needed for AEAD). */
static size_t pad_len(const struct suite_encr *e, size_t inner_len)
{
	return (e->block_len - (inner_len + 1) % e->block_len) % e->block_len;
}

size_t sk_overhead(const struct sk_dir_keys *keys, size_t inner_len)
{
	if (keys_check(keys) != 0)
		return 0;
	return keys->encr->iv_len + pad_len(keys->encr, inner_len) + 1 + icv_len(keys);
}

/* The SK/SKF Payload Length must run exactly to the end of the message. */
static int length_check(const struct sk_parts *p, size_t msg_len, size_t hdr_off)
{
	struct rbuf h;
	uint16_t pl_len;

	rbuf_init(&h, p->aad, p->aad_len);
	if (rbuf_skip(&h, hdr_off + PAYLOAD_LENGTH_OFF) != 0 || rbuf_u16(&h, &pl_len) != 0)
		return SK_ERR_TRUNCATED;
	return pl_len == msg_len - hdr_off ? 0 : SK_ERR_TRUNCATED;
}

static int sk_split(const struct sk_dir_keys *k, const uint8_t *msg, size_t msg_len,
		    size_t hdr_off, size_t hdr_len, struct sk_parts *p)
{
	size_t icv = icv_len(k), block = k->encr->block_len;
	struct rbuf r, all;

	if (hdr_off < IKEV2_HDR_LEN || hdr_off > msg_len)
		return SK_ERR_TRUNCATED;
	rbuf_init(&r, msg, msg_len);
	p->aad_len = hdr_off + hdr_len;
	if (rbuf_bytes(&r, p->aad_len, &p->aad) != 0 || length_check(p, msg_len, hdr_off) != 0)
		return SK_ERR_TRUNCATED;
	/* at least the pad length octet; CBC: whole blocks */
	if (rbuf_bytes(&r, k->encr->iv_len, &p->iv) != 0 || rbuf_left(&r) < icv + 1)
		return SK_ERR_TRUNCATED;
	p->ct_len = rbuf_left(&r) - icv;
	if (p->ct_len % block != 0)
		return SK_ERR_TRUNCATED;
	if (rbuf_bytes(&r, p->ct_len, &p->ct) != 0 || rbuf_bytes(&r, icv, &p->icv) != 0)
		return SK_ERR_TRUNCATED;
	rbuf_init(&all, msg, msg_len);
	p->authed_len = msg_len - icv;
	return rbuf_bytes(&all, p->authed_len, &p->authed) == 0 ? 0 : SK_ERR_TRUNCATED;
}

static int sk_decrypt(struct cipher_ctx *cx, const struct sk_dir_keys *k,
		      const struct sk_parts *p, uint8_t *plain)
{
	const struct suite_encr *e = k->encr;
	struct crypto_chunk authed = { p->authed, p->authed_len };
	int rc;

	if (e->aead)
		return cipher_aead_open(cx, e, k->ek, k->ek + e->key_len, p->iv, p->aad, p->aad_len,
					p->ct, p->ct_len, plain, p->icv);
	/* RFC 7296 3.14: check the ICV first, in constant time, then decrypt. */
	rc = cipher_mac_verify(cx, k->integ->md, k->ak, k->integ->key_len, &authed, 1, p->icv,
			       k->integ->icv_len);
	if (rc == 0)
		rc = cipher_cbc_decrypt(cx, e, k->ek, p->iv, p->ct, p->ct_len, plain);
	return rc;
}

/* The last plaintext octet is the Pad Length; it and the padding must fit. */
static int sk_unpad(const uint8_t *plain, size_t ct_len, size_t *plain_len)
{
	struct rbuf r;
	uint8_t pad;

	rbuf_init(&r, plain, ct_len);
	if (ct_len == 0 || rbuf_peek_u8(&r, ct_len - 1, &pad) != 0 || (size_t)pad + 1 > ct_len)
		return SK_ERR_PADDING;
	*plain_len = ct_len - pad - 1;
	return 0;
}

static int unprotect(const struct crypto_suite *s, const struct sk_dir_keys *keys,
		     const uint8_t *msg, size_t msg_len, size_t hdr_off, size_t hdr_len,
		     uint8_t *plain, size_t plain_cap, size_t *plain_len)
{
	struct sk_parts p;
	struct cipher_ctx cx;
	int rc;

	*plain_len = 0;
	if (keys_check(keys) != 0 || !msg || !plain)
		return -EINVAL;
	rc = sk_split(keys, msg, msg_len, hdr_off, hdr_len, &p);
	if (rc != 0)
		return rc;
	if (plain_cap < p.ct_len)
		return SK_ERR_NOSPACE;
	cipher_ctx_init(&cx, s);
	rc = sk_decrypt(&cx, keys, &p, plain);
	cipher_ctx_release(&cx);
	if (rc == -EBADMSG)
		return SK_ERR_AUTH;
	if (rc == 0)
		rc = sk_unpad(plain, p.ct_len, plain_len);
	if (rc != 0)
		OPENSSL_cleanse(plain, p.ct_len);
	return rc;
}

int sk_unprotect(const struct crypto_suite *s, const struct sk_dir_keys *keys,
		 const uint8_t *msg, size_t msg_len, size_t sk_hdr_off, uint8_t *plain,
		 size_t plain_cap, size_t *plain_len)
{
	return unprotect(s, keys, msg, msg_len, sk_hdr_off, SK_HDR_LEN, plain, plain_cap,
			 plain_len);
}

int skf_unprotect(const struct crypto_suite *s, const struct sk_dir_keys *keys,
		  const uint8_t *msg, size_t msg_len, size_t skf_hdr_off, uint8_t *plain,
		  size_t plain_cap, size_t *plain_len)
{
	return unprotect(s, keys, msg, msg_len, skf_hdr_off, SKF_HDR_LEN, plain, plain_cap,
			 plain_len);
}

/* Where sk_protect laid things out in the writer. */
struct sk_layout {
	size_t iv_off;
	size_t ct_off;
	size_t pt_len;
	size_t icv_off;
};

/* Encrypt in place and write the ICV; the lengths are already patched. */
static int sk_seal(struct cipher_ctx *cx, const struct sk_dir_keys *k, struct wbuf *w,
		   const struct sk_layout *l)
{
	const struct suite_encr *e = k->encr;
	size_t icv = icv_len(k);
	uint8_t *msg = wbuf_at(w, 0, l->icv_off + icv);
	uint8_t *iv = wbuf_at(w, l->iv_off, e->iv_len);
	uint8_t *ct = wbuf_at(w, l->ct_off, l->pt_len);
	uint8_t *tag = wbuf_at(w, l->icv_off, icv);
	struct crypto_chunk authed = { msg, l->icv_off };
	int rc;

	if (!msg || !iv || !ct || !tag)
		return -EINVAL;
	if (e->aead) /* AAD: IKE header through the SK/SKF header, i.e. all before the IV */
		return cipher_aead_seal(cx, e, k->ek, k->ek + e->key_len, iv, msg, l->iv_off, ct,
					l->pt_len, ct, tag);
	/* RFC 7296 3.14: a CBC IV must be unpredictable. */
	if (RAND_bytes(iv, e->iv_len) != 1)
		return -EIO;
	rc = cipher_cbc_encrypt(cx, e, k->ek, iv, ct, l->pt_len, ct);
	if (rc == 0)
		rc = cipher_mac_compute(cx, k->integ->md, k->ak, k->integ->key_len, &authed, 1, tag,
					icv);
	return rc;
}

/* IV | inner | padding | pad length | room for the ICV; 0 or -ENOSPC. */
static int sk_layout_write(const struct sk_dir_keys *k, uint64_t iv_counter,
			   const uint8_t *inner, size_t inner_len, struct wbuf *w,
			   struct sk_layout *l)
{
	const struct suite_encr *e = k->encr;
	size_t pad = pad_len(e, inner_len);

	l->iv_off = wbuf_len(w);
	if (e->aead)
		wbuf_u64(w, iv_counter); /* RFC 5282 3.1: unique per key, a counter is fine */
	else
		wbuf_zero(w, e->iv_len); /* random, filled by sk_seal */
	l->ct_off = wbuf_len(w);
	l->pt_len = inner_len + pad + 1;
	wbuf_bytes(w, inner, inner_len);
	wbuf_zero(w, pad); /* RFC 7296 3.14: any value; zeros leak nothing */
	wbuf_u8(w, (uint8_t)pad);
	l->icv_off = wbuf_reserve(w, icv_len(k));
	return wbuf_ok(w) ? 0 : SK_ERR_NOSPACE;
}

static int protect(const struct crypto_suite *s, const struct sk_dir_keys *keys,
		   uint64_t iv_counter, const uint8_t *inner, size_t inner_len, struct wbuf *w,
		   size_t hdr_off, size_t hdr_len)
{
	struct sk_layout l;
	struct cipher_ctx cx;
	int rc;

	if (keys_check(keys) != 0 || (!inner && inner_len > 0) || !wbuf_ok(w) ||
	    hdr_off < IKEV2_HDR_LEN || wbuf_len(w) != hdr_off + hdr_len)
		return -EINVAL;
	if (hdr_len + inner_len + sk_overhead(keys, inner_len) > UINT16_MAX)
		return -EMSGSIZE;
	rc = sk_layout_write(keys, iv_counter, inner, inner_len, w, &l);
	if (rc != 0)
		return rc;
	wbuf_put_u16_at(w, hdr_off + PAYLOAD_LENGTH_OFF, (uint16_t)(wbuf_len(w) - hdr_off));
	wbuf_put_u32_at(w, IKE_HDR_LENGTH_OFF, (uint32_t)wbuf_len(w));
	cipher_ctx_init(&cx, s);
	rc = wbuf_ok(w) ? sk_seal(&cx, keys, w, &l) : -EINVAL;
	cipher_ctx_release(&cx);
	if (rc != 0 && wbuf_at(w, l.ct_off, l.pt_len))
		OPENSSL_cleanse(wbuf_at(w, l.ct_off, l.pt_len), l.pt_len); /* no plaintext out */
	return rc;
}

int sk_protect(const struct crypto_suite *s, const struct sk_dir_keys *keys, uint64_t iv_counter,
	       const uint8_t *inner, size_t inner_len, struct wbuf *w, size_t sk_hdr_off)
{
	return protect(s, keys, iv_counter, inner, inner_len, w, sk_hdr_off, SK_HDR_LEN);
}

int skf_protect(const struct crypto_suite *s, const struct sk_dir_keys *keys, uint64_t iv_counter,
		const uint8_t *inner, size_t inner_len, struct wbuf *w, size_t skf_hdr_off)
{
	return protect(s, keys, iv_counter, inner, inner_len, w, skf_hdr_off, SKF_HDR_LEN);
}
