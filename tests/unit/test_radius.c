/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "ikegw/eap.h"
#include "ikegw/radius.h"

static const uint8_t secret[] = "xyzzy5461";
#define SECRET_LEN (sizeof(secret) - 1)

static void unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;

		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* ---- the test's own RFC 2865 / RFC 3579 / RFC 2548 computations ---- */

static void ref_md5(const uint8_t *a, size_t an, const uint8_t *b, size_t bn, uint8_t out[16])
{
	uint8_t buf[4096 + 64];
	unsigned int len = 0;

	memcpy(buf, a, an);
	memcpy(buf + an, b, bn);
	assert_int_equal(EVP_Digest(buf, an + bn, out, &len, EVP_md5(), NULL), 1);
	assert_int_equal(len, 16);
}

static void ref_hmac_md5(const uint8_t *d, size_t n, uint8_t out[16])
{
	size_t len = 0;

	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "MD5", NULL, secret, SECRET_LEN, d, n,
				  out, 16, &len));
	assert_int_equal(len, 16);
}

/* RFC 2548 2.4.2, written out directly: p = len|key|pad, c(i) = p(i) ^ b(i). */
static size_t ref_mppe(const uint8_t req_auth[16], const uint8_t salt[2], const uint8_t *key,
		       size_t key_len, uint8_t *out)
{
	uint8_t p[64] = { 0 }, ra_salt[18], b[16];
	size_t n = (key_len + 1 + 15) / 16 * 16;

	p[0] = (uint8_t)key_len;
	memcpy(p + 1, key, key_len);
	memcpy(ra_salt, req_auth, 16);
	memcpy(ra_salt + 16, salt, 2);
	for (size_t i = 0; i < n; i += 16) {
		if (i == 0)
			ref_md5(secret, SECRET_LEN, ra_salt, 18, b);
		else
			ref_md5(secret, SECRET_LEN, out + i - 16, 16, b);
		for (size_t j = 0; j < 16; j++)
			out[i + j] = p[i + j] ^ b[j];
	}
	return n;
}

/* ---- a reply builder ---- */

struct rb {
	uint8_t buf[4200];
	size_t len;
	size_t ma; /* offset of the Message-Authenticator value, 0 = none */
};

static void rb_init(struct rb *r, uint8_t code, uint8_t id)
{
	memset(r, 0, sizeof(*r));
	r->buf[0] = code;
	r->buf[1] = id;
	r->len = 20;
}

static void rb_attr(struct rb *r, uint8_t type, const void *v, size_t n)
{
	r->buf[r->len] = type;
	r->buf[r->len + 1] = (uint8_t)(n + 2);
	memcpy(r->buf + r->len + 2, v, n);
	r->len += n + 2;
}

static void rb_eap(struct rb *r, const uint8_t *eap, size_t n)
{
	for (size_t off = 0; off < n; off += 253)
		rb_attr(r, RADIUS_ATTR_EAP_MESSAGE, eap + off, n - off < 253 ? n - off : 253);
}

static void rb_ma(struct rb *r)
{
	static const uint8_t zero[16];

	rb_attr(r, RADIUS_ATTR_MESSAGE_AUTHENTICATOR, zero, 16);
	r->ma = r->len - 16;
}

static void rb_mppe(struct rb *r, uint8_t type, const uint8_t req_auth[16], uint8_t salt0,
		    const uint8_t *key, size_t key_len)
{
	uint8_t v[64] = { 0, 0, 0x01, 0x37 }; /* Vendor-Id 311 */
	uint8_t salt[2] = { salt0, type };
	size_t n;

	v[4] = type;
	v[6] = salt[0];
	v[7] = salt[1];
	n = ref_mppe(req_auth, salt, key, key_len, v + 8);
	v[5] = (uint8_t)(4 + n);
	rb_attr(r, RADIUS_ATTR_VENDOR_SPECIFIC, v, 8 + n);
}

/* Length, Message-Authenticator (RFC 3579 3.2), Response Authenticator (RFC 2865 3). */
static void rb_finish(struct rb *r, const uint8_t req_auth[16])
{
	uint8_t auth[16];

	r->buf[2] = (uint8_t)(r->len >> 8);
	r->buf[3] = (uint8_t)r->len;
	memcpy(r->buf + 4, req_auth, 16);
	if (r->ma)
		ref_hmac_md5(r->buf, r->len, r->buf + r->ma);
	ref_md5(r->buf, r->len, secret, SECRET_LEN, auth);
	memcpy(r->buf + 4, auth, 16);
}

static const uint8_t req_auth[16] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
};

static struct radius_reply reply; /* 4 KiB: not on the test's stack */

static int decode(const struct rb *r, uint8_t id)
{
	return radius_decode_reply(r->buf, r->len, id, req_auth, secret, SECRET_LEN, &reply);
}

/* ---- published vectors ---- */

/* RFC 2865 7.1: the Access-Accept to nemo's Access-Request. */
static void test_rfc2865_accept(void **state)
{
	uint8_t pkt[38], ra[16];
	(void)state;

	unhex("0200002686fe220e7624ba2a1005f6bf9b55e0b20606000000010f06000000000e06c0a80103",
	      pkt, sizeof(pkt));
	unhex("0f403f9473978057bd83d5cb98f4227a", ra, 16);
	assert_int_equal(radius_decode_reply(pkt, sizeof(pkt), 0, ra, secret, SECRET_LEN,
					     &reply), 0);
	assert_int_equal(reply.code, RADIUS_ACCESS_ACCEPT);
	assert_int_equal(reply.eap_len, 0);
	assert_int_equal(reply.msk_len, 0);
	assert_int_equal(radius_decode_reply(pkt, sizeof(pkt), 0, ra, (const uint8_t *)"xyzzy546",
					     8, &reply), -EACCES);
	assert_int_equal(radius_decode_reply(pkt, sizeof(pkt), 1, ra, secret, SECRET_LEN,
					     &reply), -EPROTO);
	pkt[37] ^= 1;
	assert_int_equal(radius_decode_reply(pkt, sizeof(pkt), 0, ra, secret, SECRET_LEN,
					     &reply), -EACCES);
}

/* RFC 5997 6: a Status-Server with a Message-Authenticator, and its Access-Accept. */
static void test_rfc5997_vectors(void **state)
{
	uint8_t req[38], acc[20], ma[16], calc[16];
	(void)state;

	unhex("0cda00268a54f4686fb394c52866e302185d062350125a665e2e1e8411f3e243822097c84fa3",
	      req, sizeof(req));
	memcpy(ma, req + 22, 16);
	memset(req + 22, 0, 16);
	ref_hmac_md5(req, sizeof(req), calc); /* validates the test's own HMAC helper */
	assert_memory_equal(calc, ma, 16);
	unhex("02da0014ef0d552a4bf2d693ec2b6fe8b5411d66", acc, sizeof(acc));
	assert_int_equal(radius_decode_reply(acc, sizeof(acc), 0xda, req + 4, secret,
					     SECRET_LEN, &reply), 0);
	assert_int_equal(reply.code, RADIUS_ACCESS_ACCEPT);
}

/* ---- Access-Request ---- */

struct req_fixture {
	uint8_t eap[600];
	uint8_t buf[1024];
	struct radius_access_request rq;
};

static void req_fixture_init(struct req_fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->eap[0] = EAP_CODE_RESPONSE;
	f->eap[1] = 5;
	f->eap[2] = 600 >> 8;
	f->eap[3] = 600 & 0xff;
	f->eap[4] = EAP_TYPE_TLS;
	for (size_t i = 5; i < sizeof(f->eap); i++)
		f->eap[i] = (uint8_t)i;
	f->rq = (struct radius_access_request){
		.id = 77, .user_name = (const uint8_t *)"alice", .user_name_len = 5,
		.eap = f->eap, .eap_len = sizeof(f->eap),
		.state = (const uint8_t *)"st8", .state_len = 3,
		.nas_identifier = "ikegw", .calling_station_id = "192.0.2.7[4500]",
		.framed_mtu = 1200, .authenticator = req_auth,
	};
}

/* Walk the encoded request with the test's own parser. */
static void check_request(const uint8_t *p, size_t n, const struct req_fixture *f)
{
	uint8_t eap[700], ma[16], copy[1024], calc[16];
	size_t eap_len = 0, ma_pos = 0, pos = 20;
	bool user = false, state = false, nas = false;

	assert_int_equal(p[0], RADIUS_ACCESS_REQUEST);
	assert_int_equal(p[1], 77);
	assert_int_equal(p[2] << 8 | p[3], n);
	assert_memory_equal(p + 4, req_auth, 16);
	while (pos < n) {
		uint8_t t = p[pos], l = p[pos + 1];

		assert_true(l >= 2 && pos + l <= n);
		if (t == RADIUS_ATTR_EAP_MESSAGE) {
			assert_true(l - 2 <= 253);
			memcpy(eap + eap_len, p + pos + 2, l - 2);
			eap_len += l - 2;
		}
		user |= t == RADIUS_ATTR_USER_NAME && l == 7 && !memcmp(p + pos + 2, "alice", 5);
		state |= t == RADIUS_ATTR_STATE && l == 5 && !memcmp(p + pos + 2, "st8", 3);
		nas |= t == RADIUS_ATTR_NAS_IDENTIFIER && l == 7;
		if (t == RADIUS_ATTR_MESSAGE_AUTHENTICATOR) {
			assert_int_equal(l, 18);
			ma_pos = pos + 2;
		}
		pos += l;
	}
	assert_int_equal(pos, n);
	assert_true(user && state && nas);
	assert_int_equal(eap_len, f->rq.eap_len);
	assert_memory_equal(eap, f->eap, eap_len);
	assert_true(ma_pos > 0);
	memcpy(ma, p + ma_pos, 16);
	memcpy(copy, p, n);
	memset(copy + ma_pos, 0, 16);
	ref_hmac_md5(copy, n, calc);
	assert_memory_equal(calc, ma, 16);
}

static void test_encode_request(void **state)
{
	static struct req_fixture f;
	uint8_t ra[16];
	struct wbuf w;
	(void)state;

	req_fixture_init(&f);
	wbuf_init(&w, f.buf, sizeof(f.buf));
	assert_int_equal(radius_encode_access_request(&w, &f.rq, secret, SECRET_LEN, ra), 0);
	assert_memory_equal(ra, req_auth, 16);
	check_request(f.buf, wbuf_len(&w), &f);
}

static void test_encode_request_random_auth(void **state)
{
	static struct req_fixture f;
	uint8_t ra1[16], ra2[16];
	struct wbuf w;
	(void)state;

	req_fixture_init(&f);
	f.rq.authenticator = NULL;
	f.rq.eap_len = 0;
	wbuf_init(&w, f.buf, sizeof(f.buf));
	assert_int_equal(radius_encode_access_request(&w, &f.rq, secret, SECRET_LEN, ra1), 0);
	assert_memory_equal(f.buf + 4, ra1, 16);
	wbuf_init(&w, f.buf, sizeof(f.buf));
	assert_int_equal(radius_encode_access_request(&w, &f.rq, secret, SECRET_LEN, ra2), 0);
	assert_memory_not_equal(ra1, ra2, 16);
}

static void test_encode_request_bad(void **state)
{
	static struct req_fixture f;
	static uint8_t big[4100];
	uint8_t name[254], ra[16];
	struct wbuf w;
	(void)state;

	req_fixture_init(&f);
	memset(name, 'a', sizeof(name));
	wbuf_init(&w, f.buf, sizeof(f.buf));
	assert_int_equal(radius_encode_access_request(&w, &f.rq, secret, 0, ra), -EINVAL);
	f.rq.user_name = name;
	f.rq.user_name_len = 254;
	assert_int_equal(radius_encode_access_request(&w, &f.rq, secret, SECRET_LEN, ra), -EINVAL);
	f.rq.user_name_len = 0;
	assert_int_equal(radius_encode_access_request(&w, &f.rq, secret, SECRET_LEN, ra), -EINVAL);
	f.rq.user_name_len = 253;
	f.rq.eap = big;
	f.rq.eap_len = 4000; /* fits the EAP limit, not RADIUS's 4096 once split */
	{
		static uint8_t out[8192];

		wbuf_init(&w, out, sizeof(out));
		assert_int_equal(radius_encode_access_request(&w, &f.rq, secret, SECRET_LEN, ra),
				 -EINVAL);
	}
	req_fixture_init(&f);
	wbuf_init(&w, f.buf, 100);
	assert_int_equal(radius_encode_access_request(&w, &f.rq, secret, SECRET_LEN, ra), -ENOSPC);
}

/* ---- replies ---- */

static const uint8_t eap_req[] = { 1, 6, 0, 6, EAP_TYPE_MSCHAPV2, 1 };

static void test_challenge_with_eap(void **state)
{
	static struct rb r;
	static uint8_t big[700];
	(void)state;

	big[0] = EAP_CODE_REQUEST;
	big[1] = 6;
	big[2] = sizeof(big) >> 8;
	big[3] = sizeof(big) & 0xff;
	big[4] = EAP_TYPE_TLS;
	for (size_t i = 5; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	rb_init(&r, RADIUS_ACCESS_CHALLENGE, 9);
	rb_eap(&r, big, sizeof(big));
	rb_attr(&r, RADIUS_ATTR_STATE, "opaque-state", 12);
	rb_attr(&r, RADIUS_ATTR_REPLY_MESSAGE, "hello", 5);
	rb_ma(&r);
	rb_finish(&r, req_auth);
	assert_int_equal(decode(&r, 9), 0);
	assert_int_equal(reply.code, RADIUS_ACCESS_CHALLENGE);
	assert_int_equal(reply.eap_len, sizeof(big));
	assert_memory_equal(reply.eap, big, sizeof(big));
	assert_int_equal(reply.state.len, 12);
	assert_memory_equal(reply.state.p, "opaque-state", 12);
	assert_int_equal(reply.reply_message.len, 5);
}

static void test_missing_or_wrong_ma(void **state)
{
	static struct rb r;
	(void)state;

	rb_init(&r, RADIUS_ACCESS_CHALLENGE, 9);
	rb_eap(&r, eap_req, sizeof(eap_req));
	rb_finish(&r, req_auth);
	assert_int_equal(decode(&r, 9), -EACCES); /* RFC 3579 3.2: required */

	rb_init(&r, RADIUS_ACCESS_CHALLENGE, 9);
	rb_eap(&r, eap_req, sizeof(eap_req));
	rb_ma(&r);
	rb_finish(&r, req_auth);
	assert_int_equal(decode(&r, 9), 0);
	/* A wrong MA under a right Response Authenticator. */
	{
		uint8_t auth[16];

		r.buf[r.ma + 3] ^= 1;
		memcpy(r.buf + 4, req_auth, 16);
		ref_md5(r.buf, r.len, secret, SECRET_LEN, auth);
		memcpy(r.buf + 4, auth, 16);
	}
	assert_int_equal(decode(&r, 9), -EACCES);
}

static void test_ma_malformed(void **state)
{
	static struct rb r;
	uint8_t short_ma[15] = { 0 };
	(void)state;

	rb_init(&r, RADIUS_ACCESS_REJECT, 9);
	rb_attr(&r, RADIUS_ATTR_MESSAGE_AUTHENTICATOR, short_ma, 15);
	rb_finish(&r, req_auth);
	assert_int_equal(decode(&r, 9), -EBADMSG);
	rb_init(&r, RADIUS_ACCESS_REJECT, 9);
	rb_ma(&r);
	rb_ma(&r);
	rb_finish(&r, req_auth);
	assert_int_equal(decode(&r, 9), -EBADMSG);
	/* A Reject without EAP but with a good MA is fine. */
	rb_init(&r, RADIUS_ACCESS_REJECT, 9);
	rb_ma(&r);
	rb_finish(&r, req_auth);
	assert_int_equal(decode(&r, 9), 0);
}

static void test_wrong_response_auth_code_id(void **state)
{
	static struct rb r;
	(void)state;

	rb_init(&r, RADIUS_ACCESS_ACCEPT, 3);
	rb_eap(&r, (const uint8_t[]){ 3, 6, 0, 4 }, 4);
	rb_ma(&r);
	rb_finish(&r, req_auth);
	assert_int_equal(decode(&r, 3), 0);
	assert_int_equal(decode(&r, 4), -EPROTO);
	r.buf[4] ^= 1;
	assert_int_equal(decode(&r, 3), -EACCES);
	rb_init(&r, RADIUS_ACCESS_REQUEST, 3);
	rb_finish(&r, req_auth);
	assert_int_equal(decode(&r, 3), -EPROTO);
	assert_int_equal(radius_decode_reply(r.buf, r.len, 3, req_auth, secret, 0, &reply),
			 -EINVAL);
}

static void test_every_truncation(void **state)
{
	static struct rb r;
	(void)state;

	rb_init(&r, RADIUS_ACCESS_CHALLENGE, 9);
	rb_eap(&r, eap_req, sizeof(eap_req));
	rb_attr(&r, RADIUS_ATTR_STATE, "s", 1);
	rb_ma(&r);
	rb_finish(&r, req_auth);
	for (size_t k = 0; k < r.len; k++)
		assert_int_equal(radius_decode_reply(r.buf, k, 9, req_auth, secret, SECRET_LEN,
						     &reply), -EBADMSG);
	assert_int_equal(radius_decode_reply(NULL, 0, 9, req_auth, secret, SECRET_LEN, &reply),
			 -EBADMSG);
}

static void test_length_field(void **state)
{
	static struct rb r;
	size_t len;
	(void)state;

	rb_init(&r, RADIUS_ACCESS_ACCEPT, 1);
	rb_attr(&r, RADIUS_ATTR_REPLY_MESSAGE, "x", 1);
	rb_finish(&r, req_auth);
	len = r.len;
	/* RFC 2865 3: octets past Length are padding */
	memset(r.buf + len, 0xee, 10);
	r.len = len + 10;
	assert_int_equal(decode(&r, 1), 0);
	r.buf[3] = 19; /* under the header */
	assert_int_equal(decode(&r, 1), -EBADMSG);
	r.buf[3] = (uint8_t)(len + 11); /* past the datagram */
	assert_int_equal(decode(&r, 1), -EBADMSG);
	r.buf[2] = 0x10; /* over 4096 */
	r.buf[3] = 1;
	assert_int_equal(decode(&r, 1), -EBADMSG);
}

static void test_attr_lengths(void **state)
{
	static struct rb r;
	(void)state;

	for (uint8_t bad = 0; bad < 2; bad++) { /* attribute Length 0 and 1 */
		rb_init(&r, RADIUS_ACCESS_ACCEPT, 1);
		r.buf[20] = RADIUS_ATTR_CLASS;
		r.buf[21] = bad;
		r.buf[22] = 0;
		r.len = 23;
		rb_finish(&r, req_auth);
		assert_int_equal(decode(&r, 1), -EBADMSG);
	}
	rb_init(&r, RADIUS_ACCESS_ACCEPT, 1);
	rb_attr(&r, RADIUS_ATTR_CLASS, "abc", 3);
	r.buf[21] = 6; /* one past the end */
	rb_finish(&r, req_auth);
	assert_int_equal(decode(&r, 1), -EBADMSG);
	rb_init(&r, RADIUS_ACCESS_ACCEPT, 1);
	rb_attr(&r, RADIUS_ATTR_FRAMED_IP_ADDRESS, "abc", 3); /* must be 4 */
	rb_finish(&r, req_auth);
	assert_int_equal(decode(&r, 1), -EBADMSG);
}

static void test_eap_length_disagrees(void **state)
{
	static struct rb r;
	const uint8_t bad_len[] = { 1, 6, 0, 7, EAP_TYPE_MSCHAPV2, 1 };
	(void)state;

	rb_init(&r, RADIUS_ACCESS_CHALLENGE, 9);
	rb_eap(&r, bad_len, sizeof(bad_len));
	rb_ma(&r);
	rb_finish(&r, req_auth);
	assert_int_equal(decode(&r, 9), -EBADMSG);
	rb_init(&r, RADIUS_ACCESS_CHALLENGE, 9);
	rb_attr(&r, RADIUS_ATTR_EAP_MESSAGE, "", 0); /* an empty fragment */
	rb_ma(&r);
	rb_finish(&r, req_auth);
	assert_int_equal(decode(&r, 9), -EBADMSG);
}

static void test_accept_attributes(void **state)
{
	static struct rb r;
	const uint8_t ip[4] = { 10, 9, 8, 7 }, timeout[4] = { 0, 0, 0x0e, 0x10 };
	(void)state;

	rb_init(&r, RADIUS_ACCESS_ACCEPT, 2);
	rb_attr(&r, RADIUS_ATTR_FRAMED_IP_ADDRESS, ip, 4);
	rb_attr(&r, RADIUS_ATTR_CLASS, "staff", 5);
	rb_attr(&r, RADIUS_ATTR_CLASS, "vpn", 3);
	rb_attr(&r, RADIUS_ATTR_SESSION_TIMEOUT, timeout, 4);
	rb_attr(&r, RADIUS_ATTR_VENDOR_SPECIFIC, "\0\0\0\x09" "ab", 6); /* Cisco: skipped */
	rb_finish(&r, req_auth);
	assert_int_equal(decode(&r, 2), 0);
	assert_true(reply.has_framed_ip);
	assert_memory_equal(reply.framed_ip, ip, 4);
	assert_int_equal(reply.n_class, 2);
	assert_memory_equal(reply.classes[0].p, "staff", 5);
	assert_memory_equal(reply.classes[1].p, "vpn", 3);
	assert_true(reply.has_session_timeout);
	assert_int_equal(reply.session_timeout, 3600);
}

/* ---- MS-MPPE keys ---- */

static void test_mppe_cipher(void **state)
{
	uint8_t key[32], enc[64], ref[64], dec[64];
	const uint8_t salt[2] = { 0x81, 0x23 }, bad_salt[2] = { 0x01, 0x23 };
	size_t n = 0, m = 0;
	(void)state;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0xa0 + i);
	assert_int_equal(radius_mppe_encrypt(secret, SECRET_LEN, req_auth, salt, key, 32, enc,
					     sizeof(enc), &n), 0);
	assert_int_equal(n, 48); /* 1 + 32 padded to 16 */
	assert_int_equal(ref_mppe(req_auth, salt, key, 32, ref), 48);
	assert_memory_equal(enc, ref, 48);
	assert_int_equal(radius_mppe_decrypt(secret, SECRET_LEN, req_auth, salt, enc, n, dec,
					     sizeof(dec), &m), 0);
	assert_int_equal(m, 32);
	assert_memory_equal(dec, key, 32);
	/* bad inputs */
	assert_int_equal(radius_mppe_encrypt(secret, SECRET_LEN, req_auth, bad_salt, key, 32,
					     enc, sizeof(enc), &n), -EINVAL);
	assert_int_equal(radius_mppe_encrypt(secret, SECRET_LEN, req_auth, salt, key, 32, enc,
					     47, &n), -ENOSPC);
	assert_int_equal(radius_mppe_decrypt(secret, SECRET_LEN, req_auth, bad_salt, enc, n,
					     dec, sizeof(dec), &m), -EBADMSG);
	assert_int_equal(radius_mppe_decrypt(secret, SECRET_LEN, req_auth, salt, enc, 47, dec,
					     sizeof(dec), &m), -EBADMSG);
	assert_int_equal(radius_mppe_decrypt(secret, SECRET_LEN, req_auth, salt, enc, 48, dec,
					     31, &m), -ENOSPC);
	/* A Key-Length past the String: decrypts the first block to a length of 200. */
	key[0] = 0;
	ref_mppe(req_auth, salt, key, 15, ref);
	ref[0] ^= 15 ^ 200;
	assert_int_equal(radius_mppe_decrypt(secret, SECRET_LEN, req_auth, salt, ref, 16, dec,
					     sizeof(dec), &m), -EBADMSG);
}

static void test_msk_from_accept(void **state)
{
	static struct rb r;
	uint8_t recv[32], send[32];
	(void)state;

	for (size_t i = 0; i < 32; i++) {
		recv[i] = (uint8_t)i;
		send[i] = (uint8_t)(0x80 | i);
	}
	rb_init(&r, RADIUS_ACCESS_ACCEPT, 4);
	rb_eap(&r, (const uint8_t[]){ 3, 6, 0, 4 }, 4);
	rb_mppe(&r, RADIUS_MS_MPPE_SEND_KEY, req_auth, 0x85, send, 32);
	rb_mppe(&r, RADIUS_MS_MPPE_RECV_KEY, req_auth, 0x86, recv, 32);
	rb_ma(&r);
	rb_finish(&r, req_auth);
	assert_int_equal(decode(&r, 4), 0);
	assert_int_equal(reply.msk_len, 64);
	assert_memory_equal(reply.msk, recv, 32); /* Recv-Key first */
	assert_memory_equal(reply.msk + 32, send, 32);
	radius_reply_clear(&reply);
	assert_int_equal(reply.msk_len, 0);

	/* Only one half: no MSK. */
	rb_init(&r, RADIUS_ACCESS_ACCEPT, 4);
	rb_mppe(&r, RADIUS_MS_MPPE_RECV_KEY, req_auth, 0x86, recv, 32);
	rb_finish(&r, req_auth);
	assert_int_equal(decode(&r, 4), 0);
	assert_int_equal(reply.msk_len, 0);

	/* A salt without its high bit. */
	rb_init(&r, RADIUS_ACCESS_ACCEPT, 4);
	rb_mppe(&r, RADIUS_MS_MPPE_SEND_KEY, req_auth, 0x05, send, 32);
	rb_mppe(&r, RADIUS_MS_MPPE_RECV_KEY, req_auth, 0x86, recv, 32);
	rb_finish(&r, req_auth);
	assert_int_equal(decode(&r, 4), -EBADMSG);
	assert_int_equal(reply.msk_len, 0);
}

static void test_ms_vsa_malformed(void **state)
{
	static struct rb r;
	const uint8_t short_key[] = { 0, 0, 1, 0x37, 17, 10, 0x80, 1, 1, 2, 3, 4, 5, 6 };
	const uint8_t sub_past[] = { 0, 0, 1, 0x37, 17, 30, 0x80, 1 };
	const uint8_t sub_zero[] = { 0, 0, 1, 0x37, 17, 0 };
	(void)state;

	rb_init(&r, RADIUS_ACCESS_ACCEPT, 4);
	rb_attr(&r, RADIUS_ATTR_VENDOR_SPECIFIC, short_key, sizeof(short_key));
	rb_finish(&r, req_auth);
	assert_int_equal(decode(&r, 4), -EBADMSG);
	rb_init(&r, RADIUS_ACCESS_ACCEPT, 4);
	rb_attr(&r, RADIUS_ATTR_VENDOR_SPECIFIC, sub_past, sizeof(sub_past));
	rb_finish(&r, req_auth);
	assert_int_equal(decode(&r, 4), -EBADMSG);
	rb_init(&r, RADIUS_ACCESS_ACCEPT, 4);
	rb_attr(&r, RADIUS_ATTR_VENDOR_SPECIFIC, sub_zero, sizeof(sub_zero));
	rb_finish(&r, req_auth);
	assert_int_equal(decode(&r, 4), -EBADMSG);
	rb_init(&r, RADIUS_ACCESS_ACCEPT, 4);
	rb_attr(&r, RADIUS_ATTR_VENDOR_SPECIFIC, "\0\0\1", 3); /* no room for Vendor-Id */
	rb_finish(&r, req_auth);
	assert_int_equal(decode(&r, 4), -EBADMSG);
}

/* The request's encoder and the reply's decoder agree on the Request Authenticator. */
static void test_request_reply_pair(void **state)
{
	static struct req_fixture f;
	static struct rb r;
	uint8_t ra[16];
	struct wbuf w;
	(void)state;

	req_fixture_init(&f);
	f.rq.authenticator = NULL;
	wbuf_init(&w, f.buf, sizeof(f.buf));
	assert_int_equal(radius_encode_access_request(&w, &f.rq, secret, SECRET_LEN, ra), 0);
	rb_init(&r, RADIUS_ACCESS_CHALLENGE, f.rq.id);
	rb_eap(&r, eap_req, sizeof(eap_req));
	rb_ma(&r);
	rb_finish(&r, ra);
	assert_int_equal(radius_decode_reply(r.buf, r.len, f.rq.id, ra, secret, SECRET_LEN,
					     &reply), 0);
	assert_int_equal(decode(&r, f.rq.id), -EACCES); /* another Request Authenticator */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc2865_accept),
		cmocka_unit_test(test_rfc5997_vectors),
		cmocka_unit_test(test_encode_request),
		cmocka_unit_test(test_encode_request_random_auth),
		cmocka_unit_test(test_encode_request_bad),
		cmocka_unit_test(test_challenge_with_eap),
		cmocka_unit_test(test_missing_or_wrong_ma),
		cmocka_unit_test(test_ma_malformed),
		cmocka_unit_test(test_wrong_response_auth_code_id),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_length_field),
		cmocka_unit_test(test_attr_lengths),
		cmocka_unit_test(test_eap_length_disagrees),
		cmocka_unit_test(test_accept_attributes),
		cmocka_unit_test(test_mppe_cipher),
		cmocka_unit_test(test_msk_from_accept),
		cmocka_unit_test(test_ms_vsa_malformed),
		cmocka_unit_test(test_request_reply_pair),
	};

	return cmocka_run_group_tests_name("radius", tests, NULL, NULL);
}
