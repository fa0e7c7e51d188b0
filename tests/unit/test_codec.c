/* SPDX-License-Identifier: ISC */
/* Unit tests for the IKEv2 wire codec (src/ike/codec*.c) and payload rules (rules.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ikegw/codec.h"
#include "ikegw/ikev2.h"
#include "ikegw/rules.h"

#define BUFSZ 4096

struct fx {
	uint8_t buf[BUFSZ];
	struct wbuf w;
	struct codec_enc e;
	struct ike_msg msg;
	struct codec_err err;
};

static const uint8_t nonce32[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
				     17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31 };

static void hdr_set(struct ike_hdr *h, uint8_t exch, uint8_t flags)
{
	memset(h, 0, sizeof(*h));
	h->spi_i = 0x0102030405060708ULL;
	h->spi_r = exch == IKEV2_EXCH_IKE_SA_INIT && !(flags & IKEV2_FLAG_RESPONSE) ? 0 : 0x1112;
	h->exchange = exch;
	h->flags = flags;
	h->msg_id = exch == IKEV2_EXCH_IKE_SA_INIT ? 0 : 7;
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ike_hdr h;

	assert_non_null(f);
	wbuf_init(&f->w, f->buf, sizeof(f->buf));
	hdr_set(&h, IKEV2_EXCH_IKE_SA_INIT, IKEV2_FLAG_INITIATOR);
	codec_enc_begin(&f->e, &f->w, &h);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	free(*state);
	return 0;
}

/* A fresh fixture for the next case inside one test. */
static struct fx *fx_reset(void **state)
{
	void *old = *state;

	fx_setup(state);
	free(old);
	return *state;
}

/* A payload with a hand-written body. */
static void raw_payload(struct fx *f, uint8_t type, bool crit, const void *body, size_t n)
{
	codec_enc_open(&f->e, type, crit);
	wbuf_bytes(&f->w, body, n);
	codec_enc_close(&f->e);
}

static int fx_decode(struct fx *f)
{
	assert_int_equal(codec_enc_finish(&f->e), 0);
	memset(&f->err, 0, sizeof(f->err));
	return codec_decode_msg(f->buf, wbuf_len(&f->w), &f->msg, &f->err);
}

static void expect_fail(struct fx *f, uint16_t notify)
{
	assert_int_equal(fx_decode(f), -EBADMSG);
	assert_int_equal(f->err.notify, notify);
	assert_non_null(f->err.reason);
}

static void init_proposals(struct ike_proposal p[2])
{
	memset(p, 0, 2 * sizeof(*p));
	p[0].protocol = IKEV2_PROTO_IKE;
	p[0].n_xf = 3;
	p[0].xf[0] = (struct ike_transform){ IKEV2_TRANS_ENCR, IKEV2_ENCR_AES_GCM_16, 256 };
	p[0].xf[1] = (struct ike_transform){ IKEV2_TRANS_PRF, IKEV2_PRF_HMAC_SHA2_384, 0 };
	p[0].xf[2] = (struct ike_transform){ IKEV2_TRANS_KE, IKEV2_KE_CURVE25519, 0 };
	p[1].protocol = IKEV2_PROTO_IKE;
	p[1].n_xf = 4;
	p[1].xf[0] = (struct ike_transform){ IKEV2_TRANS_ENCR, IKEV2_ENCR_AES_CBC, 128 };
	p[1].xf[1] = (struct ike_transform){ IKEV2_TRANS_INTEG, IKEV2_INTEG_HMAC_SHA2_256_128, 0 };
	p[1].xf[2] = (struct ike_transform){ IKEV2_TRANS_PRF, IKEV2_PRF_HMAC_SHA2_256, 0 };
	p[1].xf[3] = (struct ike_transform){ IKEV2_TRANS_KE, IKEV2_KE_MODP2048, 0 };
}

static void assert_proposal_eq(const struct ike_proposal *a, const struct ike_proposal *b)
{
	assert_int_equal(a->protocol, b->protocol);
	assert_int_equal(a->spi_len, b->spi_len);
	assert_memory_equal(a->spi, b->spi, a->spi_len);
	assert_int_equal(a->n_xf, b->n_xf);
	for (size_t i = 0; i < a->n_xf; i++) {
		assert_int_equal(a->xf[i].type, b->xf[i].type);
		assert_int_equal(a->xf[i].id, b->xf[i].id);
		assert_int_equal(a->xf[i].keylen, b->xf[i].keylen);
	}
}

static void assert_view(struct codec_view v, const void *p, size_t n)
{
	assert_int_equal(v.len, n);
	if (n)
		assert_memory_equal(v.p, p, n);
}

/* ---- round trips ---- */

static void test_roundtrip_ike_sa_init(void **state)
{
	struct fx *f = *state;
	struct ike_proposal p[2];
	uint8_t ke[32] = { 0x42 }, natd[20] = { 9 }, vid[16] = { 0xaa, 0xbb };
	uint8_t creq[20] = { 7 };
	const struct ike_payload *pl;

	init_proposals(p);
	codec_enc_sa(&f->e, p, 2);
	codec_enc_ke(&f->e, IKEV2_KE_CURVE25519, ke, sizeof(ke));
	codec_enc_nonce(&f->e, nonce32, sizeof(nonce32));
	codec_enc_notify(&f->e, 0, NULL, 0, IKEV2_N_NAT_DETECTION_SOURCE_IP, natd, sizeof(natd));
	codec_enc_cert(&f->e, IKEV2_PL_CERTREQ, IKEV2_CERT_X509_SIG, creq, sizeof(creq));
	codec_enc_vendor(&f->e, vid, sizeof(vid));
	assert_int_equal(fx_decode(f), 0);

	assert_int_equal(f->msg.hdr.spi_i, 0x0102030405060708ULL);
	assert_int_equal(f->msg.hdr.exchange, IKEV2_EXCH_IKE_SA_INIT);
	assert_int_equal(f->msg.hdr.flags, IKEV2_FLAG_INITIATOR);
	assert_int_equal(f->msg.hdr.major, 2);
	assert_int_equal(f->msg.hdr.length, wbuf_len(&f->w));
	assert_int_equal(f->msg.n, 6);
	assert_true(f->msg.has_sa);
	assert_int_equal(f->msg.sa.n, 2);
	assert_int_equal(f->msg.sa.p[0].num, 1);
	assert_int_equal(f->msg.sa.p[1].num, 2);
	assert_proposal_eq(&f->msg.sa.p[0], &p[0]);
	assert_proposal_eq(&f->msg.sa.p[1], &p[1]);
	pl = codec_msg_find(&f->msg, IKEV2_PL_KE, 0);
	assert_non_null(pl);
	assert_int_equal(pl->u.ke.group, IKEV2_KE_CURVE25519);
	assert_view(pl->u.ke.data, ke, sizeof(ke));
	assert_view(codec_msg_find(&f->msg, IKEV2_PL_NONCE, 0)->body, nonce32, sizeof(nonce32));
	pl = codec_msg_notify(&f->msg, IKEV2_N_NAT_DETECTION_SOURCE_IP);
	assert_non_null(pl);
	assert_view(pl->u.notify.data, natd, sizeof(natd));
	assert_int_equal(pl->u.notify.spi.len, 0);
	pl = codec_msg_find(&f->msg, IKEV2_PL_CERTREQ, 0);
	assert_int_equal(pl->u.cert.encoding, IKEV2_CERT_X509_SIG);
	assert_view(pl->u.cert.data, creq, sizeof(creq));
	assert_view(codec_msg_find(&f->msg, IKEV2_PL_VENDOR, 0)->body, vid, sizeof(vid));
	assert_int_equal(rules_check(&f->msg, &f->err), 0);
}

/* Bare inner chain with every IKE_AUTH-ish payload; decoded by codec_decode_chain(). */
static size_t build_inner(uint8_t *buf, size_t cap, uint8_t *first)
{
	static const uint8_t fqdn[] = "client.example.com", cert[40] = { 0x30 };
	static const uint8_t gwip[4] = { 192, 0, 2, 1 }, sig[] = { 3, 0x30, 1, 2, 9, 9, 9 };
	static const uint8_t dns[4] = { 10, 0, 0, 53 }, spis[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct ike_proposal esp = { .protocol = IKEV2_PROTO_ESP, .spi_len = 4,
				    .spi = { 0xc0, 1, 2, 3 }, .n_xf = 2 };
	struct ike_ts ts[2] = {
		{ IKEV2_TS_IPV4_ADDR_RANGE, 0, 0, 65535, { 0 }, { 255, 255, 255, 255 } },
		{ IKEV2_TS_IPV6_ADDR_RANGE, 17, 53, 53, { 0xfd }, { 0xfd, [15] = 0xff } },
	};
	struct ike_cfg_attr attrs[2] = { { IKEV2_CFG_INTERNAL_IP4_ADDRESS, { NULL, 0 } },
					 { IKEV2_CFG_INTERNAL_IP4_DNS, { dns, 4 } } };
	struct wbuf w;
	struct codec_enc e;

	esp.xf[0] = (struct ike_transform){ IKEV2_TRANS_ENCR, IKEV2_ENCR_AES_GCM_16, 256 };
	esp.xf[1] = (struct ike_transform){ IKEV2_TRANS_ESN, IKEV2_ESN_NO, 0 };
	wbuf_init(&w, buf, cap);
	codec_enc_begin_chain(&e, &w);
	codec_enc_id(&e, IKEV2_PL_IDI, IKEV2_ID_FQDN, fqdn, sizeof(fqdn) - 1);
	codec_enc_cert(&e, IKEV2_PL_CERT, IKEV2_CERT_X509_SIG, cert, sizeof(cert));
	codec_enc_id(&e, IKEV2_PL_IDR, IKEV2_ID_IPV4_ADDR, gwip, 4);
	codec_enc_auth(&e, IKEV2_AUTH_DIGITAL_SIGNATURE, sig, sizeof(sig));
	codec_enc_cp(&e, IKEV2_CFG_REQUEST, attrs, 2);
	codec_enc_sa(&e, &esp, 1);
	codec_enc_ts(&e, IKEV2_PL_TSI, ts, 2);
	codec_enc_ts(&e, IKEV2_PL_TSR, ts, 1);
	codec_enc_notify(&e, IKEV2_PROTO_ESP, spis, 4, IKEV2_N_REKEY_SA, NULL, 0);
	codec_enc_delete(&e, IKEV2_PROTO_ESP, 4, 2, spis);
	codec_enc_eap(&e, EAP_CODE_RESPONSE, 5, 26, fqdn, 6);
	assert_int_equal(codec_enc_end_chain(&e, first), 0);
	return wbuf_len(&w);
}

static void test_roundtrip_inner_chain(void **state)
{
	struct fx *f = *state;
	uint8_t inner[1024], first, a4[4], buf[64];
	size_t n = build_inner(inner, sizeof(inner), &first);
	const struct ike_payload *pl;
	struct codec_view alg, sig;
	struct rbuf it;
	struct ike_ts ts;
	struct ike_cfg_attr attr;

	assert_int_equal(first, IKEV2_PL_IDI);
	memset(&f->msg, 0, sizeof(f->msg));
	assert_int_equal(codec_decode_chain(first, inner, n, &f->msg, &f->err), 0);
	assert_int_equal(f->msg.n, 11);
	assert_true(f->msg.pl[0].inner);

	pl = codec_msg_find(&f->msg, IKEV2_PL_IDI, 0);
	assert_int_equal(codec_id_string(&pl->u.id, (char *)buf, sizeof(buf)), 0);
	assert_string_equal((char *)buf, "client.example.com");
	pl = codec_msg_find(&f->msg, IKEV2_PL_IDR, 0);
	assert_int_equal(codec_id_ipv4(&pl->u.id, a4), 0);
	assert_memory_equal(a4, ((uint8_t[]){ 192, 0, 2, 1 }), 4);
	codec_id_format(&pl->u.id, (char *)buf, sizeof(buf));
	assert_string_equal((char *)buf, "ipv4:192.0.2.1");
	assert_int_equal(codec_id_ipv6(&pl->u.id, buf), -EINVAL);

	pl = codec_msg_find(&f->msg, IKEV2_PL_AUTH, 0);
	assert_int_equal(pl->u.auth.method, IKEV2_AUTH_DIGITAL_SIGNATURE);
	assert_int_equal(codec_auth_split_sig(&pl->u.auth, &alg, &sig), 0);
	assert_view(alg, ((uint8_t[]){ 0x30, 1, 2 }), 3);
	assert_view(sig, ((uint8_t[]){ 9, 9, 9 }), 3);

	pl = codec_msg_find(&f->msg, IKEV2_PL_CP, 0);
	assert_int_equal(pl->u.cp.cfg_type, IKEV2_CFG_REQUEST);
	rbuf_init(&it, pl->u.cp.attrs.p, pl->u.cp.attrs.len);
	assert_int_equal(codec_cp_next(&it, &attr, &f->err), 1);
	assert_int_equal(attr.type, IKEV2_CFG_INTERNAL_IP4_ADDRESS);
	assert_int_equal(attr.value.len, 0);
	assert_int_equal(codec_cp_next(&it, &attr, &f->err), 1);
	assert_int_equal(attr.type, IKEV2_CFG_INTERNAL_IP4_DNS);
	assert_view(attr.value, ((uint8_t[]){ 10, 0, 0, 53 }), 4);
	assert_int_equal(codec_cp_next(&it, &attr, &f->err), 0);

	assert_true(f->msg.has_sa);
	assert_int_equal(f->msg.sa.n, 1);
	assert_int_equal(f->msg.sa.p[0].protocol, IKEV2_PROTO_ESP);
	assert_int_equal(f->msg.sa.p[0].spi_len, 4);
	assert_memory_equal(f->msg.sa.p[0].spi, ((uint8_t[]){ 0xc0, 1, 2, 3 }), 4);
	assert_int_equal(f->msg.sa.p[0].xf[1].type, IKEV2_TRANS_ESN);

	pl = codec_msg_find(&f->msg, IKEV2_PL_TSI, 0);
	assert_int_equal(pl->u.ts.count, 2);
	rbuf_init(&it, pl->u.ts.selectors.p, pl->u.ts.selectors.len);
	assert_int_equal(codec_ts_next(&it, &ts, &f->err), 1);
	assert_int_equal(ts.type, IKEV2_TS_IPV4_ADDR_RANGE);
	assert_int_equal(ts.end_port, 65535);
	assert_memory_equal(ts.end, ((uint8_t[]){ 255, 255, 255, 255 }), 4);
	assert_int_equal(codec_ts_next(&it, &ts, &f->err), 1);
	assert_int_equal(ts.type, IKEV2_TS_IPV6_ADDR_RANGE);
	assert_int_equal(ts.ip_proto, 17);
	assert_int_equal(ts.start_port, 53);
	assert_int_equal(ts.end[15], 0xff);
	assert_int_equal(codec_ts_next(&it, &ts, &f->err), 0);
	assert_int_equal(codec_msg_find(&f->msg, IKEV2_PL_TSR, 0)->u.ts.count, 1);

	pl = codec_msg_notify(&f->msg, IKEV2_N_REKEY_SA);
	assert_int_equal(pl->u.notify.protocol, IKEV2_PROTO_ESP);
	assert_view(pl->u.notify.spi, ((uint8_t[]){ 1, 2, 3, 4 }), 4);
	pl = codec_msg_find(&f->msg, IKEV2_PL_DELETE, 0);
	assert_int_equal(pl->u.del.count, 2);
	assert_int_equal(pl->u.del.spis.len, 8);
	pl = codec_msg_find(&f->msg, IKEV2_PL_EAP, 0);
	assert_int_equal(pl->u.eap.code, EAP_CODE_RESPONSE);
	assert_int_equal(pl->u.eap.id, 5);
	assert_int_equal(pl->u.eap.type, 26);
	assert_int_equal(pl->u.eap.length, 11);
	assert_view(pl->u.eap.type_data, "client", 6);
	assert_int_equal(codec_msg_count(&f->msg, IKEV2_PL_CERT), 1);
}

/* SK framing: an IKE_AUTH request whose "plaintext" is the inner chain, as sk.c would. */
static void test_roundtrip_sk(void **state)
{
	struct fx *f = *state;
	struct ike_hdr h;
	struct codec_sk_layout lay;
	uint8_t inner[1024], first, *ct;
	size_t n = build_inner(inner, sizeof(inner), &first);

	wbuf_init(&f->w, f->buf, sizeof(f->buf));
	hdr_set(&h, IKEV2_EXCH_IKE_AUTH, IKEV2_FLAG_INITIATOR);
	codec_enc_begin(&f->e, &f->w, &h);
	assert_int_equal(codec_enc_sk(&f->e, first, 8, n, 16, &lay), 0);
	assert_int_equal(lay.hdr_off, 28);
	assert_int_equal(lay.iv_off, 32);
	assert_int_equal(lay.ct_off, 40);
	assert_int_equal(lay.icv_off, 40 + n);
	assert_int_equal(lay.end, wbuf_len(&f->w));
	ct = wbuf_at(&f->w, lay.ct_off, n);
	assert_non_null(ct);
	memcpy(ct, inner, n); /* "encrypt" with the identity cipher */
	/* nothing may follow SK */
	codec_enc_nonce(&f->e, nonce32, 16);
	assert_int_equal(codec_enc_finish(&f->e), -EMSGSIZE);

	assert_int_equal(codec_decode_msg(f->buf, lay.end, &f->msg, &f->err), 0);
	assert_int_equal(f->msg.hdr.next, IKEV2_PL_SK);
	assert_int_equal(f->msg.enc.type, IKEV2_PL_SK);
	assert_int_equal(f->msg.enc.hdr_off, 28);
	assert_int_equal(f->msg.enc.inner_next, IKEV2_PL_IDI);
	assert_int_equal(f->msg.enc.body.len, 8 + n + 16);
	/* rules need the inner chain: refused before, accepted after decoding it */
	assert_int_equal(rules_check(&f->msg, &f->err), -EBADMSG);
	assert_int_equal(codec_decode_chain(f->msg.enc.inner_next, inner, n, &f->msg, &f->err), 0);
	assert_int_equal(f->msg.n, 12);
	assert_int_equal(rules_check(&f->msg, &f->err), -EBADMSG); /* Delete not in IKE_AUTH */
}

static void test_roundtrip_skf(void **state)
{
	struct fx *f = *state;
	struct ike_hdr h;
	struct codec_sk_layout lay;

	wbuf_init(&f->w, f->buf, sizeof(f->buf));
	hdr_set(&h, IKEV2_EXCH_IKE_AUTH, IKEV2_FLAG_INITIATOR);
	codec_enc_begin(&f->e, &f->w, &h);
	assert_int_equal(codec_enc_skf(&f->e, 0, 2, 3, 16, 64, 16, &lay), 0);
	assert_int_equal(lay.iv_off, 36);
	assert_int_equal(codec_decode_msg(f->buf, lay.end, &f->msg, &f->err), 0);
	assert_int_equal(f->msg.enc.type, IKEV2_PL_SKF);
	assert_int_equal(f->msg.enc.frag_num, 2);
	assert_int_equal(f->msg.enc.frag_total, 3);
	assert_int_equal(f->msg.enc.inner_next, 0);
	assert_int_equal(f->msg.enc.body.len, 96);
}

static void test_encode_overflow(void **state)
{
	struct fx *f = *state;
	uint8_t small[40];
	struct ike_hdr h;
	uint8_t first;

	wbuf_init(&f->w, small, sizeof(small));
	hdr_set(&h, IKEV2_EXCH_IKE_SA_INIT, 0);
	codec_enc_begin(&f->e, &f->w, &h);
	codec_enc_nonce(&f->e, nonce32, 32);
	assert_int_equal(codec_enc_finish(&f->e), -EMSGSIZE);
	/* finish on a bare chain, SK in a bare chain are misuse */
	wbuf_init(&f->w, f->buf, sizeof(f->buf));
	codec_enc_begin_chain(&f->e, &f->w);
	assert_int_equal(codec_enc_end_chain(&f->e, &first), 0);
	assert_int_equal(first, 0);
	assert_int_equal(codec_enc_finish(&f->e), -EMSGSIZE);
}

/* ---- header rejections ---- */

static void test_hdr_truncated(void **state)
{
	struct fx *f = *state;

	assert_int_equal(codec_decode_msg(f->buf, 27, &f->msg, &f->err), -EBADMSG);
	assert_int_equal(f->err.notify, IKEV2_N_INVALID_SYNTAX);
	assert_int_equal(codec_decode_msg(NULL, 0, &f->msg, &f->err), -EBADMSG);
}

static void test_hdr_length_mismatch(void **state)
{
	struct fx *f = *state;
	size_t n;

	codec_enc_nonce(&f->e, nonce32, 32);
	assert_int_equal(codec_enc_finish(&f->e), 0);
	n = wbuf_len(&f->w);
	assert_int_equal(codec_decode_msg(f->buf, n - 1, &f->msg, &f->err), -EBADMSG);
	assert_int_equal(codec_decode_msg(f->buf, n + 1, &f->msg, &f->err), -EBADMSG);
	assert_int_equal(f->err.notify, IKEV2_N_INVALID_SYNTAX);
	wbuf_put_u32_at(&f->w, 24, 20); /* below the header size */
	assert_int_equal(codec_decode_msg(f->buf, n, &f->msg, &f->err), -EBADMSG);
	assert_int_equal(f->err.notify, IKEV2_N_INVALID_SYNTAX);
}

static void test_hdr_major_version(void **state)
{
	struct fx *f = *state;

	assert_int_equal(codec_enc_finish(&f->e), 0);
	wbuf_put_u8_at(&f->w, 17, 0x30);
	expect_fail(f, IKEV2_N_INVALID_MAJOR_VERSION);
	wbuf_put_u8_at(&f->w, 17, 0x27); /* minor version is ignored */
	assert_int_equal(fx_decode(f), 0);
	assert_int_equal(f->msg.hdr.minor, 7);
}

/* ---- chain rejections ---- */

static void test_payload_length_zero_and_short(void **state)
{
	struct fx *f = *state;

	codec_enc_vendor(&f->e, nonce32, 8);
	assert_int_equal(codec_enc_finish(&f->e), 0);
	wbuf_put_u16_at(&f->w, 30, 0);
	expect_fail(f, IKEV2_N_INVALID_SYNTAX);
	wbuf_put_u16_at(&f->w, 30, 3);
	expect_fail(f, IKEV2_N_INVALID_SYNTAX);
	wbuf_put_u16_at(&f->w, 30, 13); /* past the end */
	expect_fail(f, IKEV2_N_INVALID_SYNTAX);
	wbuf_put_u16_at(&f->w, 30, 11); /* one byte trailing */
	expect_fail(f, IKEV2_N_INVALID_SYNTAX);
	wbuf_put_u16_at(&f->w, 30, 12);
	assert_int_equal(fx_decode(f), 0);
}

static void test_truncated_generic_header(void **state)
{
	struct fx *f = *state;

	wbuf_bytes(&f->w, "\0\0", 2);
	assert_int_equal(codec_enc_finish(&f->e), 0);
	wbuf_put_u8_at(&f->w, 16, IKEV2_PL_VENDOR);
	expect_fail(f, IKEV2_N_INVALID_SYNTAX);
}

static void test_trailing_bytes(void **state)
{
	struct fx *f = *state;

	codec_enc_vendor(&f->e, nonce32, 4);
	wbuf_bytes(&f->w, nonce32, 5); /* not announced by any next payload */
	expect_fail(f, IKEV2_N_INVALID_SYNTAX);
}

static void test_unknown_critical(void **state)
{
	struct fx *f = *state;

	raw_payload(f, 99, true, nonce32, 4);
	expect_fail(f, IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD);
	assert_int_equal(f->err.data, 99);
}

static void test_unknown_noncritical_skipped(void **state)
{
	struct fx *f = *state;

	raw_payload(f, 99, false, nonce32, 4);
	codec_enc_vendor(&f->e, nonce32, 3);
	raw_payload(f, 49, false, NULL, 0); /* GSPM: not ours */
	assert_int_equal(fx_decode(f), 0);
	assert_int_equal(f->msg.n, 1);
	assert_int_equal(f->msg.walked, 3);
	assert_int_equal(f->msg.pl[0].type, IKEV2_PL_VENDOR);
}

static void test_too_many_payloads(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < CODEC_MAX_PAYLOADS; i++)
		codec_enc_vendor(&f->e, NULL, 0);
	assert_int_equal(fx_decode(f), 0);
	assert_int_equal(f->msg.n, CODEC_MAX_PAYLOADS);
	raw_payload(f, 99, false, NULL, 0); /* skipped ones count too */
	expect_fail(f, IKEV2_N_INVALID_SYNTAX);
}

static void test_payload_after_sk(void **state)
{
	struct fx *f = *state;
	struct codec_sk_layout lay;

	assert_int_equal(codec_enc_sk(&f->e, IKEV2_PL_IDI, 16, 16, 16, &lay), 0);
	/* a Vendor ID appended after SK, as a peer could send it */
	wbuf_bytes(&f->w, "\0\0\0\4", 4);
	f->e.closed = false;
	expect_fail(f, IKEV2_N_INVALID_SYNTAX);
}

static void test_sk_inside_sk(void **state)
{
	struct fx *f = *state;
	uint8_t inner[8] = { 0, 0, 0, 8, 1, 2, 3, 4 };

	memset(&f->msg, 0, sizeof(f->msg));
	assert_int_equal(codec_decode_chain(IKEV2_PL_SK, inner, 8, &f->msg, &f->err), -EBADMSG);
	assert_int_equal(codec_decode_chain(IKEV2_PL_SKF, inner, 8, &f->msg, &f->err), -EBADMSG);
}

static void test_skf_numbers(void **state)
{
	struct fx *f = *state;
	struct codec_sk_layout lay;

	assert_int_equal(codec_enc_skf(&f->e, IKEV2_PL_IDI, 4, 3, 16, 16, 16, &lay), 0);
	expect_fail(f, IKEV2_N_INVALID_SYNTAX);
	wbuf_put_u16_at(&f->w, lay.hdr_off + 4, 0);
	expect_fail(f, IKEV2_N_INVALID_SYNTAX);
	wbuf_put_u16_at(&f->w, lay.hdr_off + 4, 3);
	assert_int_equal(fx_decode(f), 0);
}

/* ---- payload body rejections ---- */

static void test_nonce_bounds(void **state)
{
	struct fx *f = *state;
	uint8_t big[257] = { 0 };

	codec_enc_nonce(&f->e, nonce32, 15);
	expect_fail(f, IKEV2_N_INVALID_SYNTAX);
	f = fx_reset(state);
	codec_enc_nonce(&f->e, big, 257);
	expect_fail(f, IKEV2_N_INVALID_SYNTAX);
	f = fx_reset(state);
	codec_enc_nonce(&f->e, big, 256);
	assert_int_equal(fx_decode(f), 0);
}

static void test_ts_selector_length(void **state)
{
	struct fx *f = *state;
	static const uint8_t ts[] = { 1, 0, 0, 0, IKEV2_TS_IPV4_ADDR_RANGE, 0, 0, 20,
				      0, 0, 0xff, 0xff, 10, 0, 0, 0, 10, 0, 0, 255, 0, 0, 0, 0 };

	raw_payload(f, IKEV2_PL_TSI, false, ts, sizeof(ts));
	expect_fail(f, IKEV2_N_INVALID_SYNTAX);
	wbuf_put_u16_at(&f->w, 28 + 4 + 6, 16); /* right length, now 4 bytes trailing */
	expect_fail(f, IKEV2_N_INVALID_SYNTAX);
}

static void test_ts_count_mismatch(void **state)
{
	struct fx *f = *state;
	static const uint8_t ts[] = { 2, 0, 0, 0, IKEV2_TS_IPV4_ADDR_RANGE, 0, 0, 16,
				      0, 0, 0xff, 0xff, 10, 0, 0, 0, 10, 0, 0, 255 };

	raw_payload(f, IKEV2_PL_TSR, false, ts, sizeof(ts));
	expect_fail(f, IKEV2_N_INVALID_SYNTAX);
}

static void test_delete_count_mismatch(void **state)
{
	struct fx *f = *state;
	static const uint8_t del[] = { IKEV2_PROTO_ESP, 4, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t del_ike[] = { IKEV2_PROTO_IKE, 8, 0, 0 };

	raw_payload(f, IKEV2_PL_DELETE, false, del, sizeof(del));
	expect_fail(f, IKEV2_N_INVALID_SYNTAX);
	f = fx_reset(state);
	raw_payload(f, IKEV2_PL_DELETE, false, del_ike, sizeof(del_ike));
	expect_fail(f, IKEV2_N_INVALID_SYNTAX);
}

static void test_eap_length_mismatch(void **state)
{
	struct fx *f = *state;
	static const uint8_t eap[] = { EAP_CODE_REQUEST, 1, 0, 9, 1, 'a', 'b' };
	static const uint8_t eap_ok[] = { EAP_CODE_SUCCESS, 1, 0, 4 };

	raw_payload(f, IKEV2_PL_EAP, false, eap, sizeof(eap));
	expect_fail(f, IKEV2_N_INVALID_SYNTAX);
	f = fx_reset(state);
	raw_payload(f, IKEV2_PL_EAP, false, eap_ok, sizeof(eap_ok));
	assert_int_equal(fx_decode(f), 0);
	assert_int_equal(f->msg.pl[0].u.eap.type, 0);
}

static void test_short_bodies(void **state)
{
	static const uint8_t types[] = { IKEV2_PL_KE, IKEV2_PL_IDI, IKEV2_PL_CERT,
					 IKEV2_PL_AUTH, IKEV2_PL_NOTIFY, IKEV2_PL_DELETE,
					 IKEV2_PL_TSI, IKEV2_PL_CP, IKEV2_PL_EAP, IKEV2_PL_SA };
	struct fx *f;

	for (size_t i = 0; i < sizeof(types); i++) {
		f = *state;
		raw_payload(f, types[i], false, NULL, 0);
		expect_fail(f, IKEV2_N_INVALID_SYNTAX);
		fx_reset(state);
	}
}

/* SA: proposal 1 IKE {ENCR AES-CBC keylen 256}, built by hand so it can be broken. */
static uint8_t sa_one[] = {
	0, 0, 0, 20, 1, IKEV2_PROTO_IKE, 0, 1,          /* proposal: last, len 20, 1 xf */
	0, 0, 0, 12, IKEV2_TRANS_ENCR, 0, 0, 12, 0x80, 14, 1, 0, /* transform + keylen */
};

static void test_sa_transform_length_mismatch(void **state)
{
	struct fx *f = *state;
	uint8_t sa[sizeof(sa_one)];

	memcpy(sa, sa_one, sizeof(sa));
	sa[11] = 16; /* transform longer than its proposal */
	raw_payload(f, IKEV2_PL_SA, false, sa, sizeof(sa));
	expect_fail(f, IKEV2_N_INVALID_SYNTAX);
	f = fx_reset(state);
	sa[11] = 8; /* shorter: the proposal has 4 bytes the count does not cover */
	raw_payload(f, IKEV2_PL_SA, false, sa, sizeof(sa));
	expect_fail(f, IKEV2_N_INVALID_SYNTAX);
}

static int sa_decode_mut(uint8_t off, uint8_t val, struct ike_sa_proposals *out)
{
	uint8_t sa[sizeof(sa_one)];
	struct codec_err err;

	memcpy(sa, sa_one, sizeof(sa));
	sa[off] = val;
	return codec_decode_sa(sa, sizeof(sa), out, &err);
}

static void test_sa_rejections(void **state)
{
	struct ike_sa_proposals *sa = calloc(1, sizeof(*sa));

	(void)state;
	assert_int_equal(sa_decode_mut(0, 0, sa), 0);
	assert_int_equal(sa->n, 1);
	assert_int_equal(sa->p[0].xf[0].keylen, 256);
	assert_int_equal(sa_decode_mut(0, 2, sa), -EBADMSG);  /* "more" but nothing follows */
	assert_int_equal(sa_decode_mut(0, 3, sa), -EBADMSG);  /* bad last/more value */
	/* RFC 7296 3.3.1: a lone proposal (an accepted one, in a response) keeps its number */
	assert_int_equal(sa_decode_mut(4, 2, sa), 0);
	assert_int_equal(sa->p[0].num, 2);
	assert_int_equal(sa_decode_mut(4, 0, sa), -EBADMSG);  /* proposal number 0 */
	assert_int_equal(sa_decode_mut(6, 4, sa), -EBADMSG);  /* IKE with a 4-byte SPI */
	assert_int_equal(sa_decode_mut(7, 2, sa), -EBADMSG);  /* transform count too high */
	assert_int_equal(sa_decode_mut(7, 0, sa), -EBADMSG);  /* no transforms */
	assert_int_equal(sa_decode_mut(8, 3, sa), -EBADMSG);  /* last transform says more */
	assert_int_equal(sa_decode_mut(3, 4, sa), -EBADMSG);  /* proposal length < 8 */
	assert_int_equal(sa_decode_mut(3, 24, sa), -EBADMSG); /* proposal past the SA */
	assert_int_equal(sa_decode_mut(11, 4, sa), -EBADMSG); /* transform length < 8 */
	assert_int_equal(sa_decode_mut(16, 0, sa), -EBADMSG); /* TLV longer than its room */
	assert_int_equal(codec_decode_sa(NULL, 0, sa, NULL), -EBADMSG);
	free(sa);
}

static void test_sa_unusable_skipped(void **state)
{
	struct ike_sa_proposals *sa = calloc(1, sizeof(*sa));
	uint8_t two[2 * sizeof(sa_one)];

	(void)state;
	assert_int_equal(sa_decode_mut(17, 15, sa), 0); /* unknown TV attribute */
	assert_int_equal(sa->n, 1);
	assert_int_equal(sa->p[0].n_xf, 0);
	memcpy(two, sa_one, sizeof(sa_one));
	two[16] = 0, two[18] = 0, two[19] = 0; /* TLV Key Length, empty: not understood */
	assert_int_equal(codec_decode_sa(two, sizeof(sa_one), sa, NULL), 0);
	assert_int_equal(sa->n, 1);
	assert_int_equal(sa->p[0].n_xf, 0);
	assert_int_equal(sa_decode_mut(12, 6, sa), 0); /* unknown transform type: drop proposal */
	assert_int_equal(sa->n, 0);
	assert_int_equal(sa_decode_mut(5, 9, sa), 0); /* unknown protocol: drop proposal */
	assert_int_equal(sa->n, 0);
	/* two proposals, the first unusable: the second keeps its number 2 */
	memcpy(two, sa_one, sizeof(sa_one));
	memcpy(two + sizeof(sa_one), sa_one, sizeof(sa_one));
	two[0] = 2;
	two[12] = 6;
	two[sizeof(sa_one) + 4] = 2;
	assert_int_equal(codec_decode_sa(two, sizeof(two), sa, NULL), 0);
	assert_int_equal(sa->n, 1);
	assert_int_equal(sa->p[0].num, 2);
	free(sa);
}

static void test_sa_too_many(void **state)
{
	struct fx *f = *state;
	struct ike_proposal *p = calloc(IKE_SA_MAX_PROPOSALS + 1, sizeof(*p));
	struct ike_sa_proposals *sa = calloc(1, sizeof(*sa));
	uint8_t big[8 + 8 * (IKE_PROPOSAL_MAX_XF + 1)];
	struct wbuf w;
	struct codec_enc e;

	for (size_t i = 0; i <= IKE_SA_MAX_PROPOSALS; i++) {
		p[i].protocol = IKEV2_PROTO_ESP;
		p[i].spi_len = 4;
		p[i].n_xf = 1;
		p[i].xf[0].type = IKEV2_TRANS_ENCR;
	}
	codec_enc_sa(&f->e, p, IKE_SA_MAX_PROPOSALS);
	assert_int_equal(fx_decode(f), 0);
	assert_int_equal(f->msg.sa.n, IKE_SA_MAX_PROPOSALS);
	/* 17 proposals: the encoder refuses, so write the 17th by hand */
	wbuf_init(&w, f->buf, sizeof(f->buf));
	codec_enc_begin_chain(&e, &w);
	codec_enc_sa(&e, p, IKE_SA_MAX_PROPOSALS + 1);
	assert_false(wbuf_ok(&w));
	wbuf_init(&w, big, sizeof(big));
	wbuf_u8(&w, 0), wbuf_u8(&w, 0), wbuf_u16(&w, sizeof(big));
	wbuf_u8(&w, 1), wbuf_u8(&w, IKEV2_PROTO_IKE), wbuf_u8(&w, 0);
	wbuf_u8(&w, IKE_PROPOSAL_MAX_XF + 1);
	for (int i = 0; i <= IKE_PROPOSAL_MAX_XF; i++) {
		wbuf_u8(&w, i == IKE_PROPOSAL_MAX_XF ? 0 : 3), wbuf_u8(&w, 0), wbuf_u16(&w, 8);
		wbuf_u32(&w, (uint32_t)IKEV2_TRANS_ENCR << 24 | 12);
	}
	assert_true(wbuf_ok(&w));
	assert_int_equal(codec_decode_sa(big, sizeof(big), sa, &f->err), -EBADMSG);
	assert_non_null(strstr(f->err.reason, "IKE_PROPOSAL_MAX_XF"));
	free(p);
	free(sa);
}

static void test_sa_17_proposals(void **state)
{
	struct fx *f = *state;
	struct ike_sa_proposals *sa = calloc(1, sizeof(*sa));
	uint8_t buf[17 * 16];
	struct wbuf w;

	wbuf_init(&w, buf, sizeof(buf));
	for (int i = 1; i <= 17; i++) {
		wbuf_u8(&w, i == 17 ? 0 : 2), wbuf_u8(&w, 0), wbuf_u16(&w, 16);
		wbuf_u8(&w, (uint8_t)i), wbuf_u8(&w, IKEV2_PROTO_IKE), wbuf_u8(&w, 0);
		wbuf_u8(&w, 1);
		wbuf_u8(&w, 0), wbuf_u8(&w, 0), wbuf_u16(&w, 8);
		wbuf_u32(&w, (uint32_t)IKEV2_TRANS_ENCR << 24 | 12);
	}
	assert_true(wbuf_ok(&w));
	assert_int_equal(codec_decode_sa(buf, 16 * 16, sa, &f->err), -EBADMSG); /* last says more */
	assert_int_equal(codec_decode_sa(buf, sizeof(buf), sa, &f->err), -EBADMSG);
	assert_non_null(strstr(f->err.reason, "IKE_SA_MAX_PROPOSALS"));
	free(sa);
}

/* ---- helpers ---- */

static void test_id_helpers(void **state)
{
	char out[64];
	struct ike_pl_id id = { IKEV2_ID_FQDN, { (const uint8_t *)"a b", 3 } };
	uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, a[16];
	struct ike_pl_auth auth = { IKEV2_AUTH_DIGITAL_SIGNATURE, { (const uint8_t *)"\5ab", 3 } };
	struct codec_view alg, sig;

	(void)state;
	assert_int_equal(codec_id_string(&id, out, sizeof(out)), -EINVAL); /* space */
	codec_id_format(&id, out, sizeof(out));
	assert_string_equal(out, "id2:<3 bytes>");
	id.data.p = (const uint8_t *)"vpn.example.com";
	id.data.len = 15;
	assert_int_equal(codec_id_string(&id, out, 15), -EINVAL); /* no room for NUL */
	codec_id_format(&id, out, sizeof(out));
	assert_string_equal(out, "fqdn:vpn.example.com");
	id.type = IKEV2_ID_IPV6_ADDR;
	id.data.p = v6;
	id.data.len = 16;
	assert_int_equal(codec_id_ipv6(&id, a), 0);
	codec_id_format(&id, out, sizeof(out));
	assert_string_equal(out, "ipv6:2001:db8::1");
	id.type = IKEV2_ID_IPV4_ADDR;
	codec_id_format(&id, out, sizeof(out));
	assert_string_equal(out, "ipv4:<bad 16 bytes>");
	id.type = IKEV2_ID_DER_ASN1_DN;
	codec_id_format(&id, out, sizeof(out));
	assert_string_equal(out, "dn:<16 bytes>");
	assert_int_equal(codec_auth_split_sig(&auth, &alg, &sig), -EINVAL); /* 5 > 2 left */
	auth.data.p = (const uint8_t *)"\2ab";
	assert_int_equal(codec_auth_split_sig(&auth, &alg, &sig), -EINVAL); /* no signature */
	auth.method = IKEV2_AUTH_RSA_SIG;
	assert_int_equal(codec_auth_split_sig(&auth, &alg, &sig), -EINVAL);
}

/* ---- rules ---- */

static void enc_init_basics(struct fx *f, bool sa, bool ke, bool nonce)
{
	struct ike_proposal p[2];
	uint8_t kd[32] = { 0 };

	init_proposals(p);
	if (sa)
		codec_enc_sa(&f->e, p, 2);
	if (ke)
		codec_enc_ke(&f->e, IKEV2_KE_CURVE25519, kd, sizeof(kd));
	if (nonce)
		codec_enc_nonce(&f->e, nonce32, 32);
}

static void test_rules_duplicate_sa(void **state)
{
	struct fx *f = *state;
	struct ike_proposal p[2];

	init_proposals(p);
	enc_init_basics(f, true, true, true);
	codec_enc_sa(&f->e, p, 1);
	assert_int_equal(fx_decode(f), 0);
	assert_int_equal(f->msg.sa.n, 2); /* the first SA is the one kept */
	assert_int_equal(rules_check(&f->msg, &f->err), -EBADMSG);
	assert_int_equal(f->err.notify, IKEV2_N_INVALID_SYNTAX);
	assert_non_null(strstr(f->err.reason, "duplicate"));
}

static void test_rules_missing_ke(void **state)
{
	struct fx *f = *state;

	enc_init_basics(f, true, false, true);
	assert_int_equal(fx_decode(f), 0);
	assert_int_equal(rules_check(&f->msg, &f->err), -EBADMSG);
	assert_non_null(strstr(f->err.reason, "missing"));
}

static void test_rules_error_response_waived(void **state)
{
	struct fx *f = *state;
	struct ike_hdr h;
	uint8_t grp[2] = { 0, 19 };

	wbuf_init(&f->w, f->buf, sizeof(f->buf));
	hdr_set(&h, IKEV2_EXCH_IKE_SA_INIT, IKEV2_FLAG_RESPONSE);
	codec_enc_begin(&f->e, &f->w, &h);
	codec_enc_notify(&f->e, 0, NULL, 0, IKEV2_N_INVALID_KE_PAYLOAD, grp, 2);
	assert_int_equal(fx_decode(f), 0);
	assert_int_equal(rules_check(&f->msg, &f->err), 0);
	f->msg.hdr.flags = 0; /* the same as a request misses SA, KE, Ni */
	assert_int_equal(rules_check(&f->msg, &f->err), -EBADMSG);
}

static void test_rules_not_allowed_and_plaintext(void **state)
{
	struct fx *f = *state;

	enc_init_basics(f, true, true, true);
	codec_enc_auth(&f->e, IKEV2_AUTH_PSK, nonce32, 16);
	assert_int_equal(fx_decode(f), 0);
	assert_int_equal(rules_check(&f->msg, &f->err), -EBADMSG);
	assert_non_null(strstr(f->err.reason, "not allowed"));
	f->msg.hdr.exchange = IKEV2_EXCH_IKE_AUTH; /* plaintext IKE_AUTH */
	assert_int_equal(rules_check(&f->msg, &f->err), -EBADMSG);
	f->msg.hdr.exchange = 99;
	assert_int_equal(rules_check(&f->msg, &f->err), -EBADMSG);
}

/* IKE_AUTH with SA but without TSi/TSr, then childless, then an INFORMATIONAL. */
static void test_rules_ike_auth(void **state)
{
	struct fx *f = *state;
	struct ike_hdr h;
	struct codec_sk_layout lay;
	uint8_t inner[256], first;
	struct wbuf w;
	struct codec_enc e;
	struct ike_proposal esp = { .protocol = IKEV2_PROTO_ESP, .spi_len = 4, .n_xf = 1 };
	struct ike_ts ts = { IKEV2_TS_IPV4_ADDR_RANGE, 0, 0, 65535, { 0 }, { 255, 255, 255, 255 } };

	esp.xf[0] = (struct ike_transform){ IKEV2_TRANS_ENCR, IKEV2_ENCR_AES_GCM_16, 128 };
	wbuf_init(&f->w, f->buf, sizeof(f->buf));
	hdr_set(&h, IKEV2_EXCH_IKE_AUTH, IKEV2_FLAG_INITIATOR);
	codec_enc_begin(&f->e, &f->w, &h);
	assert_int_equal(codec_enc_sk(&f->e, IKEV2_PL_IDI, 16, 16, 16, &lay), 0);
	assert_int_equal(codec_decode_msg(f->buf, lay.end, &f->msg, &f->err), 0);

	wbuf_init(&w, inner, sizeof(inner));
	codec_enc_begin_chain(&e, &w);
	codec_enc_id(&e, IKEV2_PL_IDI, IKEV2_ID_FQDN, (const uint8_t *)"c", 1);
	codec_enc_auth(&e, IKEV2_AUTH_PSK, nonce32, 32);
	codec_enc_sa(&e, &esp, 1);
	assert_int_equal(codec_enc_end_chain(&e, &first), 0);
	assert_int_equal(codec_decode_chain(first, inner, wbuf_len(&w), &f->msg, &f->err), 0);
	assert_int_equal(rules_check(&f->msg, &f->err), -EBADMSG);
	assert_non_null(strstr(f->err.reason, "together"));

	codec_enc_ts(&e, IKEV2_PL_TSI, &ts, 1);
	codec_enc_ts(&e, IKEV2_PL_TSR, &ts, 1);
	assert_int_equal(codec_decode_msg(f->buf, lay.end, &f->msg, &f->err), 0);
	assert_int_equal(codec_decode_chain(first, inner, wbuf_len(&w), &f->msg, &f->err), 0);
	assert_int_equal(rules_check(&f->msg, &f->err), 0);
	f->msg.sa.p[0].protocol = IKEV2_PROTO_IKE; /* IKE proposal in IKE_AUTH */
	assert_int_equal(rules_check(&f->msg, &f->err), -EBADMSG);
	f->msg.hdr.exchange = IKEV2_EXCH_INFORMATIONAL;
	assert_int_equal(rules_check(&f->msg, &f->err), -EBADMSG);
}

/* An SK message whose inner chain is what enc_inner wrote, decoded both levels. */
static int sk_msg_decode(struct fx *f, uint8_t exch, uint8_t flags,
			 void (*enc_inner)(struct codec_enc *))
{
	static uint8_t inner[512];
	struct ike_hdr h;
	struct codec_sk_layout lay;
	struct wbuf w;
	struct codec_enc e;
	uint8_t first;

	wbuf_init(&w, inner, sizeof(inner));
	codec_enc_begin_chain(&e, &w);
	enc_inner(&e);
	assert_int_equal(codec_enc_end_chain(&e, &first), 0);
	wbuf_init(&f->w, f->buf, sizeof(f->buf));
	hdr_set(&h, exch, flags);
	codec_enc_begin(&f->e, &f->w, &h);
	assert_int_equal(codec_enc_sk(&f->e, first, 16, wbuf_len(&w), 16, &lay), 0);
	assert_int_equal(codec_decode_msg(f->buf, lay.end, &f->msg, &f->err), 0);
	assert_int_equal(codec_decode_chain(first, inner, wbuf_len(&w), &f->msg, &f->err), 0);
	return rules_check(&f->msg, &f->err);
}

static void enc_nothing(struct codec_enc *e)
{
	(void)e;
}

static void enc_rekey_ike(struct codec_enc *e)
{
	struct ike_proposal p[2];
	uint8_t kd[32] = { 0 };

	init_proposals(p);
	p[0].spi_len = 8;
	codec_enc_sa(e, p, 1);
	codec_enc_nonce(e, nonce32, 32);
	codec_enc_ke(e, IKEV2_KE_CURVE25519, kd, 32);
}

static void enc_rekey_ike_no_spi(struct codec_enc *e)
{
	struct ike_proposal p[2];

	init_proposals(p);
	codec_enc_sa(e, p, 1);
	codec_enc_nonce(e, nonce32, 32);
}

static void enc_delete_ike(struct codec_enc *e)
{
	codec_enc_delete(e, IKEV2_PROTO_IKE, 0, 0, NULL);
}

static void test_rules_create_child_informational(void **state)
{
	struct fx *f = *state;

	assert_int_equal(sk_msg_decode(f, IKEV2_EXCH_CREATE_CHILD_SA, 0, enc_rekey_ike), 0);
	assert_int_equal(sk_msg_decode(f, IKEV2_EXCH_CREATE_CHILD_SA, 0, enc_rekey_ike_no_spi),
			 -EBADMSG);
	assert_non_null(strstr(f->err.reason, "SPI size"));
	assert_int_equal(sk_msg_decode(f, IKEV2_EXCH_CREATE_CHILD_SA, 0, enc_nothing), -EBADMSG);
	/* DPD: an empty INFORMATIONAL, both ways */
	assert_int_equal(sk_msg_decode(f, IKEV2_EXCH_INFORMATIONAL, 0, enc_nothing), 0);
	assert_int_equal(sk_msg_decode(f, IKEV2_EXCH_INFORMATIONAL, IKEV2_FLAG_RESPONSE,
				       enc_nothing), 0);
	assert_int_equal(sk_msg_decode(f, IKEV2_EXCH_INFORMATIONAL, 0, enc_delete_ike), 0);
	assert_int_equal(sk_msg_decode(f, IKEV2_EXCH_IKE_SA_INIT, 0, enc_rekey_ike), -EBADMSG);
	assert_non_null(strstr(f->err.reason, "encrypted IKE_SA_INIT"));
}

/* ---- the real thing: strongSwan 5.9.8's IKE_SA_INIT request ---- */

static size_t load_capture(uint8_t *buf, size_t cap)
{
	const char *top = getenv("IKEGW_TOP");
	char path[4096];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/tests/data/strongswan_ike_sa_init_req.bin",
		 top ? top : ".");
	fp = fopen(path, "rb");
	assert_non_null(fp);
	n = fread(buf, 1, cap, fp);
	fclose(fp);
	return n;
}

static void test_strongswan_ike_sa_init(void **state)
{
	struct fx *f = *state;
	size_t n = load_capture(f->buf, sizeof(f->buf));
	const struct ike_payload *pl;
	const struct ike_proposal *p;
	static const uint8_t hashes[] = { 0, 2, 0, 3, 0, 4, 0, 5 };

	assert_int_equal(n, 276);
	assert_int_equal(codec_decode_msg(f->buf, n, &f->msg, &f->err), 0);
	assert_int_equal(rules_check(&f->msg, &f->err), 0);
	assert_int_equal(f->msg.hdr.exchange, IKEV2_EXCH_IKE_SA_INIT);
	assert_int_equal(f->msg.hdr.flags, IKEV2_FLAG_INITIATOR);
	assert_int_equal(f->msg.hdr.spi_r, 0);
	assert_int_equal(f->msg.hdr.msg_id, 0);
	/* aes256gcm16-prfsha384-x25519, aes256-sha256-modp2048 */
	assert_int_equal(f->msg.sa.n, 2);
	p = &f->msg.sa.p[0];
	assert_int_equal(p->protocol, IKEV2_PROTO_IKE);
	assert_int_equal(p->spi_len, 0);
	assert_int_equal(p->n_xf, 3);
	assert_int_equal(p->xf[0].type, IKEV2_TRANS_ENCR);
	assert_int_equal(p->xf[0].id, IKEV2_ENCR_AES_GCM_16);
	assert_int_equal(p->xf[0].keylen, 256);
	assert_int_equal(p->xf[1].id, IKEV2_PRF_HMAC_SHA2_384);
	assert_int_equal(p->xf[2].type, IKEV2_TRANS_KE);
	assert_int_equal(p->xf[2].id, IKEV2_KE_CURVE25519);
	p = &f->msg.sa.p[1];
	assert_int_equal(p->num, 2);
	assert_int_equal(p->n_xf, 4);
	assert_int_equal(p->xf[0].id, IKEV2_ENCR_AES_CBC);
	assert_int_equal(p->xf[0].keylen, 256);
	assert_int_equal(p->xf[1].id, IKEV2_INTEG_HMAC_SHA2_256_128);
	assert_int_equal(p->xf[2].id, IKEV2_PRF_HMAC_SHA2_256);
	assert_int_equal(p->xf[3].id, IKEV2_KE_MODP2048);
	pl = codec_msg_find(&f->msg, IKEV2_PL_KE, 0);
	assert_int_equal(pl->u.ke.group, IKEV2_KE_CURVE25519);
	assert_int_equal(pl->u.ke.data.len, 32);
	assert_int_equal(codec_msg_find(&f->msg, IKEV2_PL_NONCE, 0)->body.len, 32);
	assert_int_equal(codec_msg_count(&f->msg, IKEV2_PL_NOTIFY), 5);
	assert_int_equal(codec_msg_notify(&f->msg, IKEV2_N_NAT_DETECTION_SOURCE_IP)
				 ->u.notify.data.len, 20);
	assert_int_equal(codec_msg_notify(&f->msg, IKEV2_N_NAT_DETECTION_DESTINATION_IP)
				 ->u.notify.data.len, 20);
	assert_non_null(codec_msg_notify(&f->msg, IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED));
	assert_non_null(codec_msg_notify(&f->msg, IKEV2_N_REDIRECT_SUPPORTED));
	pl = codec_msg_notify(&f->msg, IKEV2_N_SIGNATURE_HASH_ALGORITHMS);
	assert_view(pl->u.notify.data, hashes, sizeof(hashes));
}

/* Re-encoding what was decoded gives the captured bytes back (no padding, no slack). */
static void test_strongswan_reencode(void **state)
{
	struct fx *f = *state;
	uint8_t orig[512], out[512];
	size_t n = load_capture(orig, sizeof(orig));
	struct wbuf w;
	struct codec_enc e;
	const struct ike_payload *pl;

	assert_int_equal(codec_decode_msg(orig, n, &f->msg, &f->err), 0);
	wbuf_init(&w, out, sizeof(out));
	codec_enc_begin(&e, &w, &f->msg.hdr);
	codec_enc_sa(&e, f->msg.sa.p, f->msg.sa.n);
	pl = codec_msg_find(&f->msg, IKEV2_PL_KE, 0);
	codec_enc_ke(&e, pl->u.ke.group, pl->u.ke.data.p, pl->u.ke.data.len);
	pl = codec_msg_find(&f->msg, IKEV2_PL_NONCE, 0);
	codec_enc_nonce(&e, pl->body.p, pl->body.len);
	for (pl = codec_msg_find(&f->msg, IKEV2_PL_NOTIFY, 0); pl;
	     pl = codec_msg_find(&f->msg, IKEV2_PL_NOTIFY, (size_t)(pl - f->msg.pl) + 1))
		codec_enc_notify(&e, pl->u.notify.protocol, pl->u.notify.spi.p,
				 pl->u.notify.spi_len, pl->u.notify.type, pl->u.notify.data.p,
				 pl->u.notify.data.len);
	assert_int_equal(codec_enc_finish(&e), 0);
	assert_int_equal(wbuf_len(&w), n);
	assert_memory_equal(out, orig, n);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_roundtrip_ike_sa_init),
		T(test_roundtrip_inner_chain),
		T(test_roundtrip_sk),
		T(test_roundtrip_skf),
		T(test_encode_overflow),
		T(test_hdr_truncated),
		T(test_hdr_length_mismatch),
		T(test_hdr_major_version),
		T(test_payload_length_zero_and_short),
		T(test_truncated_generic_header),
		T(test_trailing_bytes),
		T(test_unknown_critical),
		T(test_unknown_noncritical_skipped),
		T(test_too_many_payloads),
		T(test_payload_after_sk),
		T(test_sk_inside_sk),
		T(test_skf_numbers),
		T(test_nonce_bounds),
		T(test_ts_selector_length),
		T(test_ts_count_mismatch),
		T(test_delete_count_mismatch),
		T(test_eap_length_mismatch),
		T(test_short_bodies),
		T(test_sa_transform_length_mismatch),
		T(test_sa_rejections),
		T(test_sa_unusable_skipped),
		T(test_sa_too_many),
		T(test_sa_17_proposals),
		T(test_id_helpers),
		T(test_rules_duplicate_sa),
		T(test_rules_missing_ke),
		T(test_rules_error_response_waived),
		T(test_rules_not_allowed_and_plaintext),
		T(test_rules_ike_auth),
		T(test_rules_create_child_informational),
		T(test_strongswan_ike_sa_init),
		T(test_strongswan_reencode),
	};

	return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
