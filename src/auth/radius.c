/* SPDX-License-Identifier: ISC */
/*
 * RADIUS for EAP relay: Access-Request encoder, reply decoder with both authenticator
 * checks (RFC 2865 3, RFC 3579 3.2), EAP-Message split/join (RFC 3579 3.1), and the
 * MS-MPPE key cipher (RFC 2548 2.4.2).
 */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "ikegw/eap.h"
#include "ikegw/cipher.h"
#include "ikegw/radius.h"

#define MPPE_STRING_MAX 240 /* 255 - 2 (attr) - 4 (vendor) - 2 (sub-attr) - 2 (salt), /16 */


static int md5_parts(const struct crypto_chunk *parts, size_t n, uint8_t out[16])
{
	return cipher_digest(EVP_md5(), parts, n, out);
}

/* RFC 3579 3.2: HMAC-MD5 keyed with the shared secret. */
static int hmac_md5_parts(const uint8_t *key, size_t key_len, const struct crypto_chunk *parts,
			  size_t n, uint8_t out[16])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[2];
	size_t len = 0;
	int ok;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "MD5", 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = ctx && EVP_MAC_init(ctx, key, key_len, params) == 1;
	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_MAC_update(ctx, parts[i].p, parts[i].len) == 1;
	ok = ok && EVP_MAC_final(ctx, out, &len, 16) == 1 && len == 16;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	if (!ok)
		ERR_clear_error();
	return ok ? 0 : -EIO;
}

/* ---- RFC 2548 2.4.2: b(1) = MD5(S + R + A), b(i) = MD5(S + c(i-1)) ---- */

static int mppe_block_key(const uint8_t *secret, size_t secret_len, const uint8_t *prev,
			  size_t prev_len, const uint8_t salt[2], bool first, uint8_t b[16])
{
	const struct crypto_chunk first_parts[] = {
		{ secret, secret_len }, { prev, prev_len }, { salt, 2 },
	};
	const struct crypto_chunk next_parts[] = { { secret, secret_len }, { prev, prev_len } };

	return first ? md5_parts(first_parts, 3, b) : md5_parts(next_parts, 2, b);
}

/* XOR buf (a multiple of 16) with the chain; the chain runs over the cipher text. */
static int mppe_crypt(const uint8_t *secret, size_t secret_len, const uint8_t req_auth[16],
		      const uint8_t salt[2], uint8_t *buf, size_t n, bool encrypt)
{
	uint8_t b[16], c[16];
	int rc = 0;

	for (size_t off = 0; off < n && rc == 0; off += 16) {
		rc = mppe_block_key(secret, secret_len, off ? c : req_auth, 16, salt, off == 0, b);
		if (!encrypt)
			memcpy(c, buf + off, 16);
		for (size_t i = 0; i < 16; i++)
			buf[off + i] ^= b[i];
		if (encrypt)
			memcpy(c, buf + off, 16);
	}
	OPENSSL_cleanse(b, sizeof(b));
	return rc;
}

int radius_mppe_encrypt(const uint8_t *secret, size_t secret_len,
			const uint8_t req_auth[RADIUS_AUTH_LEN], const uint8_t salt[2],
			const uint8_t *key, size_t key_len, uint8_t *out, size_t cap,
			size_t *out_len)
{
	uint8_t p[MPPE_STRING_MAX] = { 0 };
	size_t n = (1 + key_len + 15) / 16 * 16; /* Key-Length, Key, zero padding */
	int rc;

	if (!secret || !secret_len || !req_auth || !salt || !(salt[0] & 0x80) ||
	    (!key && key_len) || !out || !out_len || n > MPPE_STRING_MAX)
		return -EINVAL;
	if (n > cap)
		return -ENOSPC;
	p[0] = (uint8_t)key_len;
	if (key_len)
		memcpy(p + 1, key, key_len);
	rc = mppe_crypt(secret, secret_len, req_auth, salt, p, n, true);
	if (rc == 0) {
		memcpy(out, p, n);
		*out_len = n;
	}
	OPENSSL_cleanse(p, sizeof(p));
	return rc;
}

int radius_mppe_decrypt(const uint8_t *secret, size_t secret_len,
			const uint8_t req_auth[RADIUS_AUTH_LEN], const uint8_t salt[2],
			const uint8_t *string, size_t n, uint8_t *key, size_t cap,
			size_t *key_len)
{
	uint8_t p[MPPE_STRING_MAX], klen = 0;
	struct rbuf r;
	int rc;

	if (!secret || !secret_len || !req_auth || !salt || !key || !key_len)
		return -EINVAL;
	if (n == 0 || n % 16 || n > MPPE_STRING_MAX || !(salt[0] & 0x80))
		return -EBADMSG; /* RFC 2548 2.4.2: the Salt's high bit MUST be set */
	rbuf_init(&r, string, n);
	if (rbuf_copy(&r, p, n))
		return -EBADMSG;
	rc = mppe_crypt(secret, secret_len, req_auth, salt, p, n, false);
	/* RFC 2548 2.4.2: the plaintext is Key-Length | Key | padding */
	rbuf_init(&r, p, n);
	if (rc == 0 && (rbuf_u8(&r, &klen) != 0 || klen > rbuf_left(&r)))
		rc = -EBADMSG; /* a length past the plaintext is malformed, whatever cap is */
	if (rc == 0 && klen > cap)
		rc = -ENOSPC;
	if (rc == 0 && rbuf_copy(&r, key, klen) != 0)
		rc = -EBADMSG;
	if (rc == 0)
		*key_len = klen;
	OPENSSL_cleanse(p, sizeof(p));
	return rc;
}

/* ---- Access-Request ---- */

static void attr_put(struct wbuf *w, uint8_t type, const void *v, size_t n)
{
	wbuf_u8(w, type);
	wbuf_u8(w, (uint8_t)(n + 2));
	wbuf_bytes(w, v, n);
}

static void attr_put_u32(struct wbuf *w, uint8_t type, uint32_t v)
{
	wbuf_u8(w, type);
	wbuf_u8(w, 6);
	wbuf_u32(w, v);
}

static bool request_ok(const struct radius_access_request *rq)
{
	return rq->user_name && rq->user_name_len && rq->user_name_len <= RADIUS_ATTR_MAX &&
	       (rq->eap || !rq->eap_len) && rq->eap_len <= RADIUS_MAX_LEN &&
	       (rq->state || !rq->state_len) && rq->state_len <= RADIUS_ATTR_MAX &&
	       (!rq->nas_identifier || strlen(rq->nas_identifier) <= RADIUS_ATTR_MAX) &&
	       (!rq->calling_station_id || strlen(rq->calling_station_id) <= RADIUS_ATTR_MAX);
}

/* RFC 3579 3.1: the EAP packet split into attributes of at most 253 octets. */
static void put_eap(struct wbuf *w, const uint8_t *eap, size_t n)
{
	struct rbuf r;
	const uint8_t *chunk;
	size_t len;

	rbuf_init(&r, eap, n);
	while ((len = rbuf_left(&r)) != 0) {
		if (len > RADIUS_ATTR_MAX)
			len = RADIUS_ATTR_MAX;
		if (rbuf_bytes(&r, len, &chunk))
			return;
		attr_put(w, RADIUS_ATTR_EAP_MESSAGE, chunk, len);
	}
}

static void put_attrs(struct wbuf *w, const struct radius_access_request *rq)
{
	attr_put(w, RADIUS_ATTR_USER_NAME, rq->user_name, rq->user_name_len);
	attr_put_u32(w, RADIUS_ATTR_SERVICE_TYPE, RADIUS_SERVICE_TYPE_FRAMED);
	attr_put_u32(w, RADIUS_ATTR_NAS_PORT_TYPE, RADIUS_NAS_PORT_TYPE_VIRTUAL);
	if (rq->nas_identifier)
		attr_put(w, RADIUS_ATTR_NAS_IDENTIFIER, rq->nas_identifier,
			 strlen(rq->nas_identifier));
	if (rq->calling_station_id)
		attr_put(w, RADIUS_ATTR_CALLING_STATION_ID, rq->calling_station_id,
			 strlen(rq->calling_station_id));
	if (rq->framed_mtu)
		attr_put_u32(w, RADIUS_ATTR_FRAMED_MTU, rq->framed_mtu);
	if (rq->state_len)
		attr_put(w, RADIUS_ATTR_STATE, rq->state, rq->state_len);
	put_eap(w, rq->eap, rq->eap_len);
}

/* RFC 3579 3.2: HMAC-MD5 over the whole request with the MA value zero, then filled. */
static int sign_request(struct wbuf *w, size_t start, size_t ma_off, const uint8_t *secret,
			size_t secret_len)
{
	size_t len = wbuf_len(w) - start;
	uint8_t *pkt = wbuf_at(w, start, len);
	uint8_t *ma = wbuf_at(w, ma_off, RADIUS_AUTH_LEN);
	const struct crypto_chunk whole = { pkt, len };

	if (!pkt || !ma)
		return -ENOSPC;
	return hmac_md5_parts(secret, secret_len, &whole, 1, ma);
}

int radius_encode_access_request(struct wbuf *w, const struct radius_access_request *rq,
				 const uint8_t *secret, size_t secret_len,
				 uint8_t req_auth[RADIUS_AUTH_LEN])
{
	size_t start, ma_off;

	if (!w || !rq || !secret || !secret_len || !req_auth || !request_ok(rq))
		return -EINVAL;
	if (rq->authenticator)
		memcpy(req_auth, rq->authenticator, RADIUS_AUTH_LEN);
	else if (RAND_bytes(req_auth, RADIUS_AUTH_LEN) != 1) /* RFC 2865 3: unpredictable */
		return -EIO;
	start = wbuf_len(w);
	wbuf_u8(w, RADIUS_ACCESS_REQUEST);
	wbuf_u8(w, rq->id);
	wbuf_u16(w, 0); /* Length, below */
	wbuf_bytes(w, req_auth, RADIUS_AUTH_LEN);
	put_attrs(w, rq);
	wbuf_u8(w, RADIUS_ATTR_MESSAGE_AUTHENTICATOR);
	wbuf_u8(w, 2 + RADIUS_AUTH_LEN);
	ma_off = wbuf_reserve(w, RADIUS_AUTH_LEN);
	if (!wbuf_ok(w))
		return -ENOSPC;
	if (wbuf_len(w) - start > RADIUS_MAX_LEN)
		return -EINVAL;
	memset(wbuf_at(w, ma_off, RADIUS_AUTH_LEN), 0, RADIUS_AUTH_LEN);
	wbuf_put_u16_at(w, start + 2, (uint16_t)(wbuf_len(w) - start));
	return sign_request(w, start, ma_off, secret, secret_len);
}

/* ---- replies ---- */

/* What the attribute walk finds, before anything is authenticated. */
struct walk {
	struct radius_view hdr;      /* Code, Identifier, Length */
	struct radius_view attrs;    /* every attribute, up to Length */
	size_t ma_pos;               /* offset of the Message-Authenticator value in attrs */
	int n_ma;
	bool has_eap;
	struct radius_view mppe[2];  /* [0] Recv-Key, [1] Send-Key: Salt and String */
};

static int add_eap(struct radius_reply *out, struct rbuf *v)
{
	size_t n = rbuf_left(v);

	if (n == 0 || out->eap_len + n > sizeof(out->eap))
		return -EBADMSG;
	if (rbuf_copy(v, out->eap + out->eap_len, n))
		return -EBADMSG;
	out->eap_len += n;
	return 0;
}

/* RFC 2548 2.4.2-3: Vendor-Type, Vendor-Length, Salt (2), String (16n). */
static int walk_ms_vsa(struct rbuf *v, struct walk *wk)
{
	uint8_t type, len;
	struct rbuf sub;

	while (!rbuf_empty(v)) {
		if (rbuf_u8(v, &type) || rbuf_u8(v, &len) || len < 2 || rbuf_sub(v, len - 2, &sub))
			return -EBADMSG;
		if (type != RADIUS_MS_MPPE_RECV_KEY && type != RADIUS_MS_MPPE_SEND_KEY)
			continue;
		if (len < 2 + 2 + 16 || (len - 4) % 16)
			return -EBADMSG;
		rbuf_rest(&sub, &wk->mppe[type == RADIUS_MS_MPPE_SEND_KEY].p,
			  &wk->mppe[type == RADIUS_MS_MPPE_SEND_KEY].len);
	}
	return 0;
}

static int walk_vsa(struct rbuf *v, struct walk *wk)
{
	uint32_t vendor;

	if (rbuf_u32(v, &vendor))
		return -EBADMSG;
	return vendor == RADIUS_VENDOR_MICROSOFT ? walk_ms_vsa(v, wk) : 0;
}

static int walk_u32(struct rbuf *v, bool *has, uint32_t *val)
{
	if (rbuf_left(v) != 4 || rbuf_u32(v, val))
		return -EBADMSG;
	*has = true;
	return 0;
}

static int walk_framed_ip(struct rbuf *v, struct radius_reply *out)
{
	if (rbuf_left(v) != 4 || rbuf_copy(v, out->framed_ip, 4))
		return -EBADMSG;
	out->has_framed_ip = true;
	return 0;
}

static void keep_view(struct rbuf *v, struct radius_view *dst)
{
	rbuf_rest(v, &dst->p, &dst->len);
}

static int walk_attr(uint8_t type, struct rbuf *v, size_t pos, struct walk *wk,
		     struct radius_reply *out)
{
	switch (type) {
	case RADIUS_ATTR_EAP_MESSAGE:
		wk->has_eap = true;
		return add_eap(out, v);
	case RADIUS_ATTR_MESSAGE_AUTHENTICATOR:
		wk->ma_pos = pos;
		return rbuf_left(v) == RADIUS_AUTH_LEN && ++wk->n_ma == 1 ? 0 : -EBADMSG;
	case RADIUS_ATTR_STATE:
		if (!out->state.p)
			keep_view(v, &out->state);
		return 0;
	case RADIUS_ATTR_CLASS:
		if (out->n_class < RADIUS_CLASS_MAX)
			keep_view(v, &out->classes[out->n_class++]);
		return 0;
	case RADIUS_ATTR_REPLY_MESSAGE:
		if (!out->reply_message.p)
			keep_view(v, &out->reply_message);
		return 0;
	case RADIUS_ATTR_FRAMED_IP_ADDRESS:
		return walk_framed_ip(v, out);
	case RADIUS_ATTR_SESSION_TIMEOUT:
		return walk_u32(v, &out->has_session_timeout, &out->session_timeout);
	case RADIUS_ATTR_VENDOR_SPECIFIC:
		return walk_vsa(v, wk);
	default:
		return 0;
	}
}

/* RFC 2865 5: Type, Length (>= 2, within the packet), Value. */
static int walk_attrs(struct walk *wk, struct radius_reply *out)
{
	struct rbuf r, v;
	uint8_t type, len;
	size_t pos;
	int rc;

	rbuf_init(&r, wk->attrs.p, wk->attrs.len);
	while (!rbuf_empty(&r)) {
		if (rbuf_u8(&r, &type) || rbuf_u8(&r, &len) || len < 2)
			return -EBADMSG;
		pos = wk->attrs.len - rbuf_left(&r); /* where the value starts */
		if (rbuf_sub(&r, len - 2, &v))
			return -EBADMSG;
		if ((rc = walk_attr(type, &v, pos, wk, out)) != 0)
			return rc;
	}
	return 0;
}

/* RFC 2865 3: Length >= 20; octets past it are padding; a shorter datagram is dropped. */
static int walk_header(const uint8_t *pkt, size_t n, struct walk *wk,
		       struct radius_reply *out)
{
	struct rbuf r;
	uint16_t len;

	rbuf_init(&r, pkt, pkt ? n : 0);
	if (rbuf_u8(&r, &out->code) || rbuf_u8(&r, &out->id) || rbuf_u16(&r, &len))
		return -EBADMSG;
	if (len < RADIUS_HDR_LEN || len > RADIUS_MAX_LEN || len > n)
		return -EBADMSG;
	rbuf_init(&r, pkt, len);
	if (rbuf_bytes(&r, 4, &wk->hdr.p) || rbuf_skip(&r, RADIUS_AUTH_LEN))
		return -EBADMSG;
	wk->hdr.len = 4;
	rbuf_rest(&r, &wk->attrs.p, &wk->attrs.len);
	return 0;
}

/* RFC 2865 3: MD5(Code | ID | Length | RequestAuth | Attributes | Secret). */
static int check_response_auth(const uint8_t *pkt, size_t n, const struct walk *wk,
			       const uint8_t req_auth[16], const uint8_t *secret,
			       size_t secret_len)
{
	const struct crypto_chunk parts[] = {
		{ wk->hdr.p, 4 }, { req_auth, 16 }, { wk->attrs.p, wk->attrs.len },
		{ secret, secret_len },
	};
	uint8_t want[16], got[16];
	struct rbuf r;
	int rc = md5_parts(parts, 4, want);

	rbuf_init(&r, pkt, n);
	if (rc == 0 && (rbuf_skip(&r, 4) || rbuf_copy(&r, got, 16)))
		rc = -EBADMSG;
	if (rc == 0 && CRYPTO_memcmp(want, got, 16) != 0)
		rc = -EACCES;
	return rc;
}

/*
 * RFC 3579 3.2: HMAC-MD5(secret, Code | ID | Length | RequestAuth | Attributes), the
 * Message-Authenticator value taken as zeros.
 */
static int check_message_auth(const struct walk *wk, const uint8_t req_auth[16],
			      const uint8_t *secret, size_t secret_len)
{
	static const uint8_t zero[16];
	const uint8_t *before, *after, *got;
	size_t after_len;
	uint8_t want[16];
	struct rbuf r;
	int rc;

	rbuf_init(&r, wk->attrs.p, wk->attrs.len);
	if (rbuf_bytes(&r, wk->ma_pos, &before) || rbuf_bytes(&r, 16, &got))
		return -EBADMSG;
	rbuf_rest(&r, &after, &after_len);
	const struct crypto_chunk parts[] = {
		{ wk->hdr.p, 4 }, { req_auth, 16 }, { before, wk->ma_pos }, { zero, 16 },
		{ after, after_len },
	};
	rc = hmac_md5_parts(secret, secret_len, parts, 5, want);
	if (rc == 0 && CRYPTO_memcmp(want, got, 16) != 0)
		rc = -EACCES;
	return rc;
}

static int authenticate(const uint8_t *pkt, size_t n, const struct walk *wk,
			const uint8_t req_auth[16], const uint8_t *secret, size_t secret_len)
{
	int rc = check_response_auth(pkt, n, wk, req_auth, secret, secret_len);

	if (rc)
		return rc;
	if (wk->n_ma == 0) /* RFC 3579 3.2: required with EAP-Message, else discard */
		return wk->has_eap ? -EACCES : 0;
	return check_message_auth(wk, req_auth, secret, secret_len);
}

static int decrypt_key(const struct radius_view *v, const uint8_t req_auth[16],
		       const uint8_t *secret, size_t secret_len, uint8_t *key, size_t *key_len)
{
	uint8_t salt[2];
	const uint8_t *string;
	struct rbuf r;

	rbuf_init(&r, v->p, v->len);
	if (rbuf_copy(&r, salt, 2) || rbuf_bytes(&r, v->len - 2, &string))
		return -EBADMSG;
	return radius_mppe_decrypt(secret, secret_len, req_auth, salt, string, v->len - 2, key,
				   RADIUS_MPPE_KEY_MAX, key_len) == 0 ? 0 : -EBADMSG;
}

/* MSK = Recv-Key | Send-Key, as strongSwan's eap-radius builds it. */
static int derive_msk(const struct walk *wk, const uint8_t req_auth[16],
		      const uint8_t *secret, size_t secret_len, struct radius_reply *out)
{
	size_t recv_len = 0, send_len = 0;
	int rc;

	if (!wk->mppe[0].p || !wk->mppe[1].p)
		return 0; /* no MSK without both halves */
	rc = decrypt_key(&wk->mppe[0], req_auth, secret, secret_len, out->msk, &recv_len);
	if (rc == 0)
		rc = decrypt_key(&wk->mppe[1], req_auth, secret, secret_len,
				 out->msk + recv_len, &send_len);
	if (rc == 0)
		out->msk_len = recv_len + send_len;
	return rc;
}

static int check_eap(const struct radius_reply *out)
{
	struct eap_pkt e;

	/* RFC 3579 3.1: the joined attributes are one EAP packet, its Length theirs. */
	return out->eap_len == 0 || eap_decode(out->eap, out->eap_len, &e) == 0 ? 0 : -EBADMSG;
}

static bool reply_code(uint8_t code)
{
	return code == RADIUS_ACCESS_ACCEPT || code == RADIUS_ACCESS_REJECT ||
	       code == RADIUS_ACCESS_CHALLENGE;
}

int radius_decode_reply(const uint8_t *pkt, size_t n, uint8_t id,
			const uint8_t req_auth[RADIUS_AUTH_LEN], const uint8_t *secret,
			size_t secret_len, struct radius_reply *out)
{
	struct walk wk;
	int rc;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	memset(&wk, 0, sizeof(wk));
	if (!req_auth || !secret || !secret_len)
		return -EINVAL;
	rc = walk_header(pkt, n, &wk, out);
	if (rc == 0)
		rc = walk_attrs(&wk, out);
	if (rc == 0 && (!reply_code(out->code) || out->id != id))
		rc = -EPROTO;
	if (rc == 0)
		rc = authenticate(pkt, n, &wk, req_auth, secret, secret_len);
	if (rc == 0)
		rc = check_eap(out);
	if (rc == 0)
		rc = derive_msk(&wk, req_auth, secret, secret_len, out);
	if (rc)
		radius_reply_clear(out);
	return rc;
}

void radius_reply_clear(struct radius_reply *r)
{
	if (r) {
		OPENSSL_cleanse(r->msk, sizeof(r->msk));
		r->msk_len = 0;
	}
}
