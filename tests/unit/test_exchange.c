/* SPDX-License-Identifier: ISC */
/*
 * The responder end to end, in process: a struct gw built from tests/data/exchange/gw.yaml
 * with a fake clock, a fixed certificate-check time, no sockets, its send hook capturing
 * every datagram, and a recording fake dataplane; the client is support/ike_initiator.c.
 * Each test drives whole exchanges through ike_recv() and checks what comes back.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "ikegw/cert.h"
#include "ikegw/codec.h"
#include "ikegw/config.h"
#include "ikegw/dataplane.h"
#include "ikegw/gw.h"
#include "ikegw/ikev2.h"
#include "ikegw/jobs.h"
#include "ikegw/keymat.h"
#include "ikegw/loop.h"
#include "ikegw/pool.h"
#include "ikegw/reload.h"
#include "ikegw/sa_table.h"

#include "support/gw_harness.h"
#include "support/ike_initiator.h"

#define PSK "exchange harness pre-shared key"
#define TINY_PSK "tiny pool pre-shared key 0123"

struct h {
	struct gw_harness x;
	struct ike_msg m;
	uint8_t plain[IKEI_MSG_MAX];
	uint8_t buf[IKEI_MSG_MAX];
	size_t len;
	struct ike_proposal ike, esp;
};

/* ---- harness ---- */

/* Flip bits of one octet of a message copy, through the writer (no raw indexing). */
static void flip(uint8_t *p, size_t len, size_t off, uint8_t mask)
{
	struct wbuf w;
	uint8_t *b;

	wbuf_init(&w, p, len);
	w.len = len; /* everything is written already */
	b = wbuf_at(&w, off, 1);
	assert_non_null(b);
	*b ^= mask;
}

static int setup(void **state)
{
	struct h *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	gwh_setup(&h->x, false);
	assert_int_equal(ikei_proposal("aes256gcm16-prfsha384-x25519", IKEV2_PROTO_IKE, &h->ike),
			 0);
	assert_int_equal(ikei_proposal("aes256gcm16", IKEV2_PROTO_ESP, &h->esp), 0);
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	struct h *h = *state;

	jobs_drain(&h->x.gw.jobs); /* what gw_fini does too (deferred tests) */
	gwh_teardown(&h->x);
	free(h);
	return 0;
}

static struct ikei_sa_init_opts init_opts(struct h *h)
{
	return (struct ikei_sa_init_opts){ .props = &h->ike, .n_props = 1,
					   .ke_group = IKEV2_KE_CURVE25519, .nat_d = true,
					   .sig_hash = true };
}

static void client_new(struct h *h, struct ikei *c)
{
	assert_int_equal(ikei_init(c, h->x.gw.suite, &h->x.cl_addr, &h->x.gw_addr), 0);
}

/* Build and deliver our IKE_SA_INIT; process the one answer into h->m. */
static int send_init(struct h *h, struct ikei *c, const struct ikei_sa_init_opts *o)
{
	struct wbuf w;

	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_sa_init_build(c, o, &w), 0);
	h->len = wbuf_len(&w);
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 1);
	return ikei_sa_init_process(c, gwh_last(&h->x)->msg, gwh_last(&h->x)->len, &h->m);
}

static void do_init(struct h *h, struct ikei *c)
{
	struct ikei_sa_init_opts o = init_opts(h);

	client_new(h, c);
	assert_int_equal(send_init(h, c, &o), 0);
}

static struct ikei_auth_opts psk_opts(struct h *h, const char *id)
{
	return (struct ikei_auth_opts){
		.id_type = IKEV2_ID_RFC822_ADDR, .id = (const uint8_t *)id, .id_len = strlen(id),
		.psk = (const uint8_t *)PSK, .psk_len = strlen(PSK), .cp = true,
		.esp = &h->esp, .n_esp = 1,
	};
}

static void build_auth(struct h *h, struct ikei *c, const struct ikei_auth_opts *o)
{
	struct wbuf w;

	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_auth_build(c, o, &w), 0);
	h->len = wbuf_len(&w);
}

/* IKE_AUTH: exactly one answer, decrypted into h->m. */
static void send_auth(struct h *h, struct ikei *c, const struct ikei_auth_opts *o)
{
	build_auth(h, c, o);
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 1);
	assert_int_equal(ikei_decrypt(c, gwh_last(&h->x)->msg, gwh_last(&h->x)->len, &h->m, h->plain,
				      sizeof(h->plain)), 0);
	assert_true(h->m.hdr.flags & IKEV2_FLAG_RESPONSE);
	assert_int_equal(h->m.hdr.exchange, IKEV2_EXCH_IKE_AUTH);
}

static void connect_psk(struct h *h, struct ikei *c, const char *id)
{
	struct ikei_auth_opts o = psk_opts(h, id);

	if (strstr(id, "@tiny."))
		o.psk = (const uint8_t *)TINY_PSK, o.psk_len = strlen(TINY_PSK);
	do_init(h, c);
	send_auth(h, c, &o);
}

static uint16_t notify_of(const struct ike_msg *m)
{
	const struct ike_payload *p = codec_msg_find(m, IKEV2_PL_NOTIFY, 0);

	return p ? p->u.notify.type : 0;
}

static size_t inner_count(const struct ike_msg *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->n; i++)
		n += m->pl[i].inner;
	return n;
}

/* The INTERNAL_IP4_ADDRESS and first INTERNAL_IP4_DNS of a CFG_REPLY; false: no DNS. */
static bool cp_reply(const struct ike_msg *m, uint8_t vip[4], uint8_t dns[4])
{
	const struct ike_payload *p = codec_msg_find(m, IKEV2_PL_CP, 0);
	struct ike_cfg_attr a;
	struct codec_err err;
	struct rbuf it, v;
	bool got_ip = false, got_dns = false;

	assert_non_null(p);
	assert_int_equal(p->u.cp.cfg_type, IKEV2_CFG_REPLY);
	rbuf_init(&it, p->u.cp.attrs.p, p->u.cp.attrs.len);
	while (codec_cp_next(&it, &a, &err) == 1) {
		rbuf_init(&v, a.value.p, a.value.len);
		if (a.type == IKEV2_CFG_INTERNAL_IP4_ADDRESS && !got_ip)
			got_ip = rbuf_copy(&v, vip, 4) == 0;
		else if (a.type == IKEV2_CFG_INTERNAL_IP4_DNS && !got_dns)
			got_dns = rbuf_copy(&v, dns, 4) == 0;
	}
	assert_true(got_ip);
	return got_dns;
}

/* The only selector of a TS payload. */
static void one_ts(const struct ike_msg *m, uint8_t type, struct ike_ts *ts)
{
	const struct ike_payload *p = codec_msg_find(m, type, 0);
	struct codec_err err;
	struct rbuf it;

	assert_non_null(p);
	assert_int_equal(p->u.ts.count, 1);
	rbuf_init(&it, p->u.ts.selectors.p, p->u.ts.selectors.len);
	assert_int_equal(codec_ts_next(&it, ts, &err), 1);
}

static uint32_t esp_spi_of(const struct ike_msg *m)
{
	struct rbuf r;
	uint32_t spi = 0;

	assert_true(m->has_sa);
	assert_int_equal(m->sa.n, 1);
	assert_int_equal(m->sa.p[0].protocol, IKEV2_PROTO_ESP);
	assert_int_equal(m->sa.p[0].spi_len, 4);
	rbuf_init(&r, m->sa.p[0].spi, 4);
	assert_int_equal(rbuf_u32(&r, &spi), 0);
	return spi;
}

static uint32_t pool_used(struct h *h, size_t i)
{
	struct pool_stats st;

	pool_stats(h->x.gw.pools[i], AF_INET, &st);
	return st.used;
}

static struct cert_own *load_cred(const char *name)
{
	char crt[512], key[512], rel[128];
	struct cert_error err;
	struct cert_own *own;

	snprintf(rel, sizeof(rel), "pki/%s.crt", name);
	gwh_data_path(crt, sizeof(crt), rel);
	snprintf(rel, sizeof(rel), "pki/%s.key", name);
	gwh_data_path(key, sizeof(key), rel);
	own = cert_own_new(crt, key, &err);
	assert_non_null(own);
	return own;
}

/* What every successful IKE_AUTH answer must hold, with our IDr (FQDN) gw_id and a first
 * CERT that names it and verifies our AUTH; returns the VIP.  The tiny pool has no DNS
 * servers, so its clients get none (cp.h). */
static void check_established_as(struct h *h, struct ikei *c, uint8_t vip[4],
				 const char *gw_id)
{
	const struct ike_payload *idr = codec_msg_find(&h->m, IKEV2_PL_IDR, 0);
	static const uint8_t want_dns[4] = { 10, 0, 0, 53 };
	uint8_t dns[4], tsr_end[4] = { 10, 10, 0, 255 }, tsr_start[4] = { 10, 10, 0, 0 };
	bool has_dns;
	char idtext[64];
	struct ike_ts ts;
	X509 *leaf = NULL;

	assert_int_equal(notify_of(&h->m), 0);
	assert_non_null(idr);
	assert_int_equal(idr->u.id.type, IKEV2_ID_FQDN);
	assert_int_equal(codec_id_string(&idr->u.id, idtext, sizeof(idtext)), 0);
	assert_string_equal(idtext, gw_id);
	/* RFC 7296 2.15: the gateway's signature, checked with the key of its CERT */
	assert_int_equal(ikei_verify_responder(c, &h->m, &leaf), 0);
	assert_non_null(leaf);
	assert_int_equal(cert_match_id(leaf, IKEV2_ID_FQDN, (const uint8_t *)gw_id,
				       strlen(gw_id)), 0);
	X509_free(leaf);
	has_dns = cp_reply(&h->m, vip, dns);
	assert_true(has_dns == (vip[1] != 98));
	if (has_dns)
		assert_memory_equal(dns, want_dns, 4);
	assert_int_equal(vip[0], 10);
	assert_int_not_equal(vip[3], 0);
	assert_int_not_equal(vip[3], 255);
	assert_int_not_equal(esp_spi_of(&h->m), 0);
	one_ts(&h->m, IKEV2_PL_TSI, &ts); /* TSi = VIP/32 */
	assert_int_equal(ts.type, IKEV2_TS_IPV4_ADDR_RANGE);
	assert_memory_equal(ts.start, vip, 4);
	assert_memory_equal(ts.end, vip, 4);
	one_ts(&h->m, IKEV2_PL_TSR, &ts); /* TSr = the profile's allow list */
	assert_memory_equal(ts.start, tsr_start, 4);
	assert_memory_equal(ts.end, tsr_end, 4);
}

static void check_established(struct h *h, struct ikei *c, uint8_t vip[4])
{
	check_established_as(h, c, vip, "vpn.example.test");
}

/* ---- successful exchanges ---- */

static void test_psk_full(void **state)
{
	struct h *h = *state;
	struct ikei c;
	uint8_t vip[4];

	connect_psk(h, &c, "alice@psk.example.test");
	check_established(h, &c, vip);
	assert_int_equal(vip[1], 99); /* pool staff, 10.99.0.0/24 */
	assert_int_equal(vip[2], 0);
	assert_int_equal(h->m.hdr.msg_id, 1);
	assert_int_equal(sa_table_count(h->x.gw.sas), 1);
	assert_int_equal(sa_table_half_open_count(h->x.gw.sas), 0);
	assert_int_equal(pool_used(h, 0), 1);
	assert_int_equal(h->x.gw.ctr.handshakes_ok, 1);
	assert_true(gwh_log_has(&h->x, "established: identity 'alice@psk.example.test'"));
	ikei_fini(&c);
}

static void cert_exchange(struct h *h, const char *name, uint8_t id_type, const char *id,
			  bool pss)
{
	struct cert_own *cred = load_cred(name);
	struct ikei_auth_opts o = {
		.id_type = id_type, .id = (const uint8_t *)id, .id_len = strlen(id),
		.cred = cred, .rsa_pss = pss, .cp = true, .esp = &h->esp, .n_esp = 1,
		.idr = "vpn.example.test",
	};
	struct ikei c;
	uint8_t vip[4];

	do_init(h, &c);
	send_auth(h, &c, &o);
	check_established(h, &c, vip);
	assert_int_equal(vip[1], 99);
	assert_int_equal(sa_table_count(h->x.gw.sas), 1);
	ikei_fini(&c);
	cert_own_free(cred);
}

static void test_cert_ecdsa(void **state)
{
	cert_exchange(*state, "client-ecdsa", IKEV2_ID_RFC822_ADDR, "alice@example.test", false);
}

static void test_cert_rsa(void **state)
{
	cert_exchange(*state, "client-rsa", IKEV2_ID_FQDN, "bob.example.test", false);
}

static void test_cert_rsa_pss(void **state)
{
	cert_exchange(*state, "client-rsa", IKEV2_ID_FQDN, "bob.example.test", true);
}

/* RFC 7296 2.7: the answer names the proposal it took by the initiator's number. */
static void test_init_second_proposal(void **state)
{
	struct h *h = *state;
	struct ike_proposal p[2];
	struct ikei_sa_init_opts o = init_opts(h);
	struct ikei c;
	struct rbuf r;
	uint8_t num = 0;
	int rc;

	assert_int_equal(ikei_proposal("aes128gcm16-prfsha256-ecp384", IKEV2_PROTO_IKE, &p[0]), 0);
	p[1] = h->ike;
	o.props = p;
	o.n_props = 2;
	client_new(h, &c);
	rc = send_init(h, &c, &o);
	/* the gateway keeps the number: SA is the first payload, the proposal number is
	 * octet 4 of the first proposal (header 28 + payload header 4 + 4) */
	rbuf_init(&r, gwh_last(&h->x)->msg, gwh_last(&h->x)->len);
	assert_int_equal(rbuf_peek_u8(&r, IKEV2_HDR_LEN + 4 + 4, &num), 0);
	assert_int_equal(num, 2);
	assert_int_equal(sa_table_half_open_count(h->x.gw.sas), 1);
	/* RFC 7296 3.3.1: the accepted proposal keeps the number the initiator gave it. */
	assert_int_equal(rc, 0);
	assert_int_equal(h->m.sa.p[0].num, 2);
	assert_non_null(codec_msg_notify(&h->m, IKEV2_N_SIGNATURE_HASH_ALGORITHMS));
	assert_non_null(codec_msg_notify(&h->m, IKEV2_N_NAT_DETECTION_SOURCE_IP));
	assert_non_null(codec_msg_find(&h->m, IKEV2_PL_CERTREQ, 0));
	ikei_fini(&c);
}

/* ---- IKE_SA_INIT refused ---- */

static void test_wrong_ke_group(void **state)
{
	struct h *h = *state;
	struct ikei_sa_init_opts o = init_opts(h);
	struct ike_proposal p;
	const struct ike_payload *n;
	struct ikei c;
	struct rbuf r;
	uint16_t grp = 0;

	/* we offer ECP-256 and X25519 and guess ECP-256; the gateway prefers X25519 */
	assert_int_equal(ikei_proposal("aes256gcm16-prfsha384-ecp256-x25519", IKEV2_PROTO_IKE,
				       &p), 0);
	o.props = &p;
	o.ke_group = IKEV2_KE_ECP256;
	client_new(h, &c);
	assert_int_equal(send_init(h, &c, &o), IKEV2_N_INVALID_KE_PAYLOAD);
	n = codec_msg_notify(&h->m, IKEV2_N_INVALID_KE_PAYLOAD);
	rbuf_init(&r, n->u.notify.data.p, n->u.notify.data.len);
	assert_int_equal(rbuf_u16(&r, &grp), 0);
	assert_true(rbuf_empty(&r));
	assert_int_equal(grp, IKEV2_KE_CURVE25519);
	assert_int_equal(sa_table_count(h->x.gw.sas), 0);
	/* RFC 7296 1.3: the retry with the group asked for succeeds */
	o.ke_group = grp;
	assert_int_equal(send_init(h, &c, &o), 0);
	assert_int_equal(c.ke_group, IKEV2_KE_CURVE25519);
	assert_int_equal(sa_table_count(h->x.gw.sas), 1);
	ikei_fini(&c);
}

static void test_no_proposal(void **state)
{
	struct h *h = *state;
	struct ikei_sa_init_opts o = init_opts(h);
	struct ike_proposal p;
	struct ikei c;

	assert_int_equal(ikei_proposal("aes128gcm16-prfsha256-ecp384", IKEV2_PROTO_IKE, &p), 0);
	o.props = &p;
	o.ke_group = IKEV2_KE_ECP384;
	client_new(h, &c);
	assert_int_equal(send_init(h, &c, &o), IKEV2_N_NO_PROPOSAL_CHOSEN);
	assert_int_equal(h->m.hdr.spi_r, 0);
	assert_int_equal(sa_table_count(h->x.gw.sas), 0);
	ikei_fini(&c);
}

static void test_missing_nonce(void **state)
{
	struct h *h = *state;
	struct ikei_sa_init_opts o = init_opts(h);
	struct ikei c;

	o.no_nonce = true;
	client_new(h, &c);
	assert_int_equal(send_init(h, &c, &o), IKEV2_N_INVALID_SYNTAX);
	assert_int_equal(sa_table_count(h->x.gw.sas), 0);
	ikei_fini(&c);
}

static void test_unknown_critical_init(void **state)
{
	struct h *h = *state;
	struct ikei_sa_init_opts o = init_opts(h);
	const struct ike_payload *n;
	struct ikei c;
	struct rbuf r;
	uint8_t type = 0;

	o.critical_type = 49;
	client_new(h, &c);
	assert_int_equal(send_init(h, &c, &o), IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD);
	/* RFC 7296 3.10.1: the data is the one-octet payload type */
	n = codec_msg_notify(&h->m, IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD);
	rbuf_init(&r, n->u.notify.data.p, n->u.notify.data.len);
	assert_int_equal(rbuf_u8(&r, &type), 0);
	assert_true(rbuf_empty(&r));
	assert_int_equal(type, 49);
	assert_int_equal(sa_table_count(h->x.gw.sas), 0);
	ikei_fini(&c);
}

/* RFC 7296 2.1: a retransmitted request gets the very same bytes, no second SA. */
static void test_replay_init(void **state)
{
	struct h *h = *state;
	struct ikei c;
	const struct gwh_sent *first;

	do_init(h, &c);
	first = gwh_last(&h->x);
	assert_int_equal(gwh_deliver(&h->x, c.msg1, c.msg1_len), 1);
	assert_int_equal(gwh_last(&h->x)->len, first->len);
	assert_memory_equal(gwh_last(&h->x)->msg, first->msg, first->len);
	assert_int_equal(sa_table_count(h->x.gw.sas), 1);
	assert_int_equal(h->x.gw.ctr.retransmits_answered, 1);
	ikei_fini(&c);
}

/* ---- cookies (RFC 7296 2.6) ---- */

static void test_cookie(void **state)
{
	struct h *h = *state;
	struct ikei_sa_init_opts o = init_opts(h);
	const struct ike_payload *n;
	uint8_t cookie[64], bad[64];
	size_t cookie_len;
	struct rbuf r;
	struct ikei c;

	h->x.gw.cookie_threshold = 0;
	client_new(h, &c);
	assert_int_equal(send_init(h, &c, &o), IKEV2_N_COOKIE);
	assert_int_equal(sa_table_count(h->x.gw.sas), 0);
	n = codec_msg_notify(&h->m, IKEV2_N_COOKIE);
	cookie_len = n->u.notify.data.len;
	assert_true(cookie_len > 0 && cookie_len <= sizeof(cookie));
	rbuf_init(&r, n->u.notify.data.p, cookie_len);
	assert_int_equal(rbuf_copy(&r, cookie, cookie_len), 0);

	/* a wrong cookie: a new COOKIE, still no state */
	memcpy(bad, cookie, cookie_len);
	flip(bad, cookie_len, cookie_len - 1, 0x80);
	o.cookie = bad;
	o.cookie_len = cookie_len;
	assert_int_equal(send_init(h, &c, &o), IKEV2_N_COOKIE);
	assert_int_equal(sa_table_count(h->x.gw.sas), 0);
	assert_int_equal(h->x.gw.ctr.cookies_sent, 2);

	/* the cookie echoed: the real answer, and the exchange completes */
	o.cookie = cookie;
	assert_int_equal(send_init(h, &c, &o), 0);
	assert_int_equal(sa_table_count(h->x.gw.sas), 1);
	{
		struct ikei_auth_opts ao = psk_opts(h, "carol@psk.example.test");
		uint8_t vip[4];

		send_auth(h, &c, &ao); /* AUTH signs the request that carried the cookie */
		check_established(h, &c, vip);
	}
	ikei_fini(&c);
}

/* ---- IKE_AUTH refused ---- */

static void expect_auth_failed(struct h *h, const char *id)
{
	assert_int_equal(notify_of(&h->m), IKEV2_N_AUTHENTICATION_FAILED);
	assert_null(codec_msg_find(&h->m, IKEV2_PL_AUTH, 0));
	assert_int_equal(sa_table_count(h->x.gw.sas), 0);
	assert_int_equal(pool_used(h, 0), 0);
	assert_int_equal(pool_used(h, 1), 0);
	assert_int_equal(h->x.gw.ctr.auth_failures, 1);
	/* SPEC: a log line with the address, the claimed identity and the reason */
	assert_true(gwh_log_has(&h->x, "authentication failed: 198.51.100.7"));
	assert_true(gwh_log_has(&h->x, id));
}

static void test_wrong_psk(void **state)
{
	struct h *h = *state;
	struct ikei_auth_opts o = psk_opts(h, "alice@psk.example.test");
	struct ikei c;

	o.psk = (const uint8_t *)"not the right pre-shared key";
	o.psk_len = strlen((const char *)o.psk);
	do_init(h, &c);
	send_auth(h, &c, &o);
	expect_auth_failed(h, "alice@psk.example.test");
	assert_true(gwh_log_has(&h->x, "pre-shared key AUTH does not verify"));
	/* the SA is gone: a retransmission is not answered any more */
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 0);
	ikei_fini(&c);
}

static void test_tampered_signature(void **state)
{
	struct h *h = *state;
	struct cert_own *cred = load_cred("client-ecdsa");
	struct ikei_auth_opts o = {
		.id_type = IKEV2_ID_RFC822_ADDR, .id = (const uint8_t *)"alice@example.test",
		.id_len = 18, .cred = cred, .tamper_auth = true, .cp = true, .esp = &h->esp,
		.n_esp = 1,
	};
	struct ikei c;

	do_init(h, &c);
	send_auth(h, &c, &o);
	expect_auth_failed(h, "alice@example.test");
	assert_true(gwh_log_has(&h->x, "signature does not verify"));
	ikei_fini(&c);
	cert_own_free(cred);
}

static void test_unknown_identity(void **state)
{
	struct h *h = *state;
	struct ikei_auth_opts o = psk_opts(h, "mallory@elsewhere.test");
	struct ikei c;

	do_init(h, &c);
	send_auth(h, &c, &o);
	expect_auth_failed(h, "mallory@elsewhere.test");
	ikei_fini(&c);
}

/* A certificate from CA-B, which the gateway does not trust. */
static void test_untrusted_cert(void **state)
{
	struct h *h = *state;
	struct cert_own *cred = load_cred("client-cab");
	X509 *leaf = cert_own_leaf(cred);
	struct ikei_auth_opts o = {
		.cred = cred, .cp = true, .esp = &h->esp, .n_esp = 1,
	};
	unsigned char *dn = NULL;
	int dn_len = i2d_X509_NAME(X509_get_subject_name(leaf), &dn);
	struct ikei c;

	assert_true(dn_len > 0);
	o.id_type = IKEV2_ID_DER_ASN1_DN;
	o.id = dn;
	o.id_len = (size_t)dn_len;
	do_init(h, &c);
	send_auth(h, &c, &o);
	expect_auth_failed(h, "certificate");
	OPENSSL_free(dn);
	ikei_fini(&c);
	cert_own_free(cred);
}

/* RFC 7296 2.3: outside the window: dropped, no answer, no state change. */
static void test_auth_wrong_msgid(void **state)
{
	struct h *h = *state;
	struct ikei_auth_opts o = psk_opts(h, "alice@psk.example.test");
	struct ikei c;
	uint8_t vip[4];

	do_init(h, &c);
	c.next_msg_id = 2;
	build_auth(h, &c, &o);
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 0);
	c.next_msg_id = 0;
	build_auth(h, &c, &o);
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 0);
	assert_int_equal(sa_table_half_open_count(h->x.gw.sas), 1);
	c.next_msg_id = 1;
	send_auth(h, &c, &o);
	check_established(h, &c, vip);
	ikei_fini(&c);
}

/* Before IKE_AUTH nothing but IKE_AUTH is processed (strongSwan's CVE-2014-2338). */
static void test_exchanges_before_auth(void **state)
{
	struct h *h = *state;
	struct ikei_auth_opts o = psk_opts(h, "alice@psk.example.test");
	struct ikei_info_opts io = { .delete_ike = true };
	uint8_t inner[512], first, nonce[32] = { 1 }, vip[4];
	struct ike_ts any = { .type = IKEV2_TS_IPV4_ADDR_RANGE, .end_port = 0xffff,
			      .end = { 0xff, 0xff, 0xff, 0xff } };
	struct ike_proposal esp = h->esp;
	struct codec_enc e;
	struct wbuf w;
	struct ikei c;
	size_t inner_len;

	do_init(h, &c);
	esp.spi_len = 4;
	esp.spi[3] = 0x42;
	wbuf_init(&w, inner, sizeof(inner));
	codec_enc_begin_chain(&e, &w);
	codec_enc_sa(&e, &esp, 1);
	codec_enc_nonce(&e, nonce, sizeof(nonce));
	codec_enc_ts(&e, IKEV2_PL_TSI, &any, 1);
	codec_enc_ts(&e, IKEV2_PL_TSR, &any, 1);
	assert_int_equal(codec_enc_end_chain(&e, &first), 0);
	inner_len = wbuf_len(&w);
	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_request_build(&c, IKEV2_EXCH_CREATE_CHILD_SA, inner, inner_len,
					    first, &w), 0);
	assert_int_equal(gwh_deliver(&h->x, h->buf, wbuf_len(&w)), 0);
	c.next_msg_id = 1;
	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_info_build(&c, &io, &w), 0);
	assert_int_equal(gwh_deliver(&h->x, h->buf, wbuf_len(&w)), 0);
	assert_int_equal(sa_table_count(h->x.gw.sas), 1); /* the Delete was not acted on */
	c.next_msg_id = 1;
	send_auth(h, &c, &o);
	check_established(h, &c, vip);
	ikei_fini(&c);
}

static void test_replay_auth(void **state)
{
	struct h *h = *state;
	struct ikei c;
	const struct gwh_sent *first;

	connect_psk(h, &c, "alice@psk.example.test");
	first = gwh_last(&h->x);
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 1);
	assert_int_equal(gwh_last(&h->x)->len, first->len);
	assert_memory_equal(gwh_last(&h->x)->msg, first->msg, first->len);
	assert_int_equal(sa_table_count(h->x.gw.sas), 1);
	assert_int_equal(pool_used(h, 0), 1);
	ikei_fini(&c);
}

/* RFC 7296 2.21.2: a message that fails integrity is dropped without an answer. */
static void test_tampered_icv(void **state)
{
	struct h *h = *state;
	struct ikei_auth_opts o = psk_opts(h, "alice@psk.example.test");
	uint8_t *bad;
	struct ikei c;
	uint8_t vip[4];

	do_init(h, &c);
	build_auth(h, &c, &o);
	bad = malloc(h->len);
	assert_non_null(bad);
	memcpy(bad, h->buf, h->len);
	flip(bad, h->len, h->len - 1, 0x01); /* the last octet of the ICV */
	assert_int_equal(gwh_deliver(&h->x, bad, h->len), 0);
	flip(bad, h->len, h->len - 1, 0x01);
	flip(bad, h->len, h->len - 40, 0x01); /* ciphertext */
	assert_int_equal(gwh_deliver(&h->x, bad, h->len), 0);
	free(bad);
	assert_int_equal(sa_table_half_open_count(h->x.gw.sas), 1);
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 1);
	assert_int_equal(ikei_decrypt(&c, gwh_last(&h->x)->msg, gwh_last(&h->x)->len, &h->m, h->plain,
				      sizeof(h->plain)), 0);
	check_established(h, &c, vip);
	ikei_fini(&c);
}

/*
 * RFC 7296 2.5: an unknown critical payload inside SK must be answered with
 * UNSUPPORTED_CRITICAL_PAYLOAD, as in IKE_SA_INIT.
 * RFC 7296 2.5: an unknown critical payload inside SK is answered
 * UNSUPPORTED_CRITICAL_PAYLOAD naming its type, not INVALID_SYNTAX.
 */
static void test_unknown_critical_auth(void **state)
{
	struct h *h = *state;
	struct ikei_auth_opts o = psk_opts(h, "alice@psk.example.test");
	struct ikei c;
	const struct ike_payload *n;

	o.critical_type = 49;
	do_init(h, &c);
	send_auth(h, &c, &o);
	assert_null(codec_msg_find(&h->m, IKEV2_PL_AUTH, 0));
	assert_int_equal(h->x.gw.ctr.handshakes_ok, 0);
	n = codec_msg_find(&h->m, IKEV2_PL_NOTIFY, 0);
	assert_non_null(n);
	ikei_fini(&c);
	assert_int_equal(n->u.notify.type, IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD);
}

/* ---- timers ---- */

static void test_half_open_expiry(void **state)
{
	struct h *h = *state;
	struct ikei_auth_opts o = psk_opts(h, "alice@psk.example.test");
	uint64_t t = h->x.cfg->timeouts.half_open * 1000ull;
	struct ikei c;

	assert_int_equal(t, 30000);
	do_init(h, &c);
	h->x.now += t - 1;
	loop_run_timers(h->x.gw.loop);
	assert_int_equal(sa_table_count(h->x.gw.sas), 1);
	h->x.now += 1;
	loop_run_timers(h->x.gw.loop);
	assert_int_equal(sa_table_count(h->x.gw.sas), 0);
	assert_int_equal(sa_table_half_open_count(h->x.gw.sas), 0);
	assert_true(gwh_log_has(&h->x, "half-open IKE SA expired"));
	build_auth(h, &c, &o);
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 0);
	ikei_fini(&c);
}

/* An established SA does not expire with the half-open timer. */
static void test_established_survives_half_open_timeout(void **state)
{
	struct h *h = *state;
	struct ikei c;

	connect_psk(h, &c, "alice@psk.example.test");
	h->x.now += 60000;
	loop_run_timers(h->x.gw.loop);
	assert_int_equal(sa_table_count(h->x.gw.sas), 1);
	ikei_fini(&c);
}

/* ---- INFORMATIONAL (RFC 7296 1.4) ---- */

static void send_info(struct h *h, struct ikei *c, const struct ikei_info_opts *io)
{
	struct wbuf w;

	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_info_build(c, io, &w), 0);
	h->len = wbuf_len(&w);
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 1);
	assert_int_equal(ikei_decrypt(c, gwh_last(&h->x)->msg, gwh_last(&h->x)->len, &h->m, h->plain,
				      sizeof(h->plain)), 0);
	assert_int_equal(h->m.hdr.exchange, IKEV2_EXCH_INFORMATIONAL);
	assert_true(h->m.hdr.flags & IKEV2_FLAG_RESPONSE);
	assert_int_equal(h->m.hdr.msg_id, c->next_msg_id - 1);
}

static void test_info_empty(void **state)
{
	struct h *h = *state;
	struct ikei_info_opts io = { 0 };
	struct ikei c;

	connect_psk(h, &c, "alice@psk.example.test");
	send_info(h, &c, &io);
	assert_int_equal(inner_count(&h->m), 0);
	send_info(h, &c, &io); /* the window moves on */
	assert_int_equal(h->m.hdr.msg_id, 3);
	assert_int_equal(sa_table_count(h->x.gw.sas), 1);
	ikei_fini(&c);
}

static void test_info_delete_ike(void **state)
{
	struct h *h = *state;
	struct ikei_info_opts io = { .delete_ike = true };
	struct ikei c;

	h->x.gw.dp = &h->x.rec.dp;
	connect_psk(h, &c, "alice@psk.example.test");
	assert_int_equal(h->x.rec.n_added, 1);
	send_info(h, &c, &io);
	assert_int_equal(inner_count(&h->m), 0);
	assert_int_equal(sa_table_count(h->x.gw.sas), 0);
	assert_int_equal(pool_used(h, 0), 0);
	assert_int_equal(h->x.rec.n_deleted, 1);
	assert_int_equal(h->x.rec.deleted[0], h->x.rec.added[0].reqid);
	/* nothing is left to answer a retransmission */
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 0);
	ikei_fini(&c);
}

static void delete_esp(struct h *h, bool with_dp)
{
	struct ikei c;
	uint32_t spi_r;
	struct ikei_info_opts io = { .esp_spis = NULL, .n_esp = 1 };
	const struct ike_payload *d;
	struct rbuf r;
	uint32_t got = 0;

	if (with_dp)
		h->x.gw.dp = &h->x.rec.dp;
	connect_psk(h, &c, "alice@psk.example.test");
	spi_r = esp_spi_of(&h->m);
	io.esp_spis = &c.esp_spi;
	send_info(h, &c, &io);
	assert_int_equal(sa_table_count(h->x.gw.sas), 1); /* the IKE SA stays */
	if (with_dp) {
		assert_int_equal(h->x.rec.n_deleted, 1);
		assert_int_equal(h->x.rec.deleted[0], h->x.rec.added[0].reqid);
	}
	d = codec_msg_find(&h->m, IKEV2_PL_DELETE, 0);
	ikei_fini(&c);
	/* RFC 7296 1.4.1: the answer deletes the other half of the pair, dataplane or not. */
	assert_non_null(d);
	assert_int_equal(d->u.del.protocol, IKEV2_PROTO_ESP);
	assert_int_equal(d->u.del.spi_len, 4);
	assert_int_equal(d->u.del.count, 1);
	rbuf_init(&r, d->u.del.spis.p, d->u.del.spis.len);
	assert_int_equal(rbuf_u32(&r, &got), 0);
	assert_int_equal(got, spi_r);
}

static void test_info_delete_esp(void **state)
{
	delete_esp(*state, true);
}

static void test_info_delete_esp_no_dataplane(void **state)
{
	delete_esp(*state, false);
}

/* ---- unique, pools ---- */

static void test_unique_replace(void **state)
{
	struct h *h = *state;
	struct ikei c1, c2;
	struct ikei_info_opts io = { 0 };
	uint8_t vip1[4], vip2[4];
	struct wbuf w;

	struct ikei_auth_opts o = psk_opts(h, "dave@psk.example.test");
	const struct ike_payload *d;

	connect_psk(h, &c1, "dave@psk.example.test");
	check_established(h, &c1, vip1);
	do_init(h, &c2);
	build_auth(h, &c2, &o);
	/* two datagrams: a Delete to the old SA (RFC 7296 1.4.1), then the new SA's answer */
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 2);
	assert_int_equal(ikei_decrypt(&c1, h->x.out[h->x.n_out - 2].msg, h->x.out[h->x.n_out - 2].len,
				      &h->m, h->plain, sizeof(h->plain)), 0);
	assert_int_equal(h->m.hdr.exchange, IKEV2_EXCH_INFORMATIONAL);
	assert_false(h->m.hdr.flags & IKEV2_FLAG_RESPONSE);
	d = codec_msg_find(&h->m, IKEV2_PL_DELETE, 0);
	assert_non_null(d);
	assert_int_equal(d->u.del.protocol, IKEV2_PROTO_IKE);
	assert_int_equal(ikei_decrypt(&c2, gwh_last(&h->x)->msg, gwh_last(&h->x)->len, &h->m, h->plain,
				      sizeof(h->plain)), 0);
	check_established(h, &c2, vip2);
	assert_int_equal(sa_table_count(h->x.gw.sas), 1);
	assert_int_equal(pool_used(h, 0), 1);
	/* SPEC: a reconnecting identity gets its previous address back when free */
	assert_memory_equal(vip1, vip2, 4);
	assert_true(gwh_log_has(&h->x, "(unique: replace)"));
	/* the first SA is gone, the second answers */
	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_info_build(&c1, &io, &w), 0);
	assert_int_equal(gwh_deliver(&h->x, h->buf, wbuf_len(&w)), 0);
	send_info(h, &c2, &io);
	ikei_fini(&c1);
	ikei_fini(&c2);
}

/* A /30 has two usable addresses; the third client gets its IKE SA but no Child SA. */
static void test_pool_full(void **state)
{
	struct h *h = *state;
	struct ikei c[3];
	struct ikei_info_opts io = { 0 };
	uint8_t vip[2][4];
	static const char *const ids[3] = { "a@tiny.example.test", "b@tiny.example.test",
					    "c@tiny.example.test" };

	for (size_t i = 0; i < 2; i++) {
		connect_psk(h, &c[i], ids[i]);
		check_established(h, &c[i], vip[i]);
		assert_int_equal(vip[i][1], 98);
	}
	assert_memory_not_equal(vip[0], vip[1], 4);
	assert_int_equal(pool_used(h, 1), 2);
	connect_psk(h, &c[2], ids[2]);
	/* RFC 7296 3.15.4: INTERNAL_ADDRESS_FAILURE, the IKE SA stays, no Child SA */
	assert_int_equal(notify_of(&h->m), IKEV2_N_INTERNAL_ADDRESS_FAILURE);
	assert_int_equal(ikei_verify_responder(&c[2], &h->m, NULL), 0);
	assert_null(codec_msg_find(&h->m, IKEV2_PL_CP, 0));
	assert_false(h->m.has_sa);
	assert_null(codec_msg_find(&h->m, IKEV2_PL_TSI, 0));
	assert_int_equal(sa_table_count(h->x.gw.sas), 3);
	assert_int_equal(pool_used(h, 1), 2);
	for (size_t i = 0; i < 3; i++) /* everyone still answered */
		send_info(h, &c[i], &io);
	for (size_t i = 0; i < 3; i++)
		ikei_fini(&c[i]);
}

/* ---- the dataplane hand-over ---- */

static void check_dir(const struct dp_sa *d, const struct sk_dir_keys *k, uint32_t spi)
{
	size_t ek = (size_t)k->encr->key_len + k->encr->salt_len;

	assert_int_equal(d->spi, spi);
	assert_int_equal(d->encr_id, k->encr->id);
	assert_int_equal(d->encr_keylen, k->encr->keylen_bits);
	assert_int_equal(d->enc_key_len, ek);
	assert_memory_equal(d->enc_key, k->ek, ek);
	if (k->integ) {
		assert_int_equal(d->integ_id, k->integ->id);
		assert_int_equal(d->integ_key_len, k->integ->key_len);
		assert_memory_equal(d->integ_key, k->ak, k->integ->key_len);
	} else {
		assert_int_equal(d->integ_id, IKEV2_INTEG_NONE);
		assert_int_equal(d->integ_key_len, 0);
	}
}

static void dataplane_keys(struct h *h, const char *esp)
{
	struct ikei_auth_opts o = psk_opts(h, "erin@psk.example.test");
	struct child_keys ck;
	const struct dp_child *dc;
	uint32_t spi_r = 0;
	uint8_t vip[4];
	struct ikei c;

	assert_int_equal(ikei_proposal(esp, IKEV2_PROTO_ESP, &h->esp), 0);
	h->x.gw.dp = &h->x.rec.dp;
	do_init(h, &c);
	send_auth(h, &c, &o);
	check_established(h, &c, vip);
	assert_int_equal(ikei_child_keys(&c, &h->m, &ck, &spi_r), 0);
	assert_int_equal(h->x.rec.n_added, 1);
	dc = &h->x.rec.added[0];
	check_dir(&dc->in, &ck.i2r, spi_r);      /* client -> gateway: our SPI choice */
	check_dir(&dc->out, &ck.r2i, c.esp_spi); /* gateway -> client: the client's SPI */
	assert_false(dc->encap);                 /* NAT-D hashes matched */
	assert_int_equal(dc->vip.family, AF_INET);
	assert_int_equal(dc->vip.plen, 32);
	assert_memory_equal(dc->vip.addr, vip, 4);
	assert_int_equal(dc->n_subnets, 1);
	assert_int_equal(dc->subnets[0].plen, 24);
	assert_int_equal(dc->hard_lifetime_s, 3600);
	keymat_child_wipe(&ck);
	/* freeing the SA (shutdown) removes the pair */
	gw_fini(&h->x.gw, false);
	assert_int_equal(h->x.rec.n_deleted, 1);
	assert_int_equal(h->x.rec.deleted[0], dc->reqid);
	assert_int_equal(gw_init(&h->x.gw, h->x.cfg, &h->x.clock, h->x.log), 0); /* for teardown */
	ikei_fini(&c);
}

/* RFC 7296 2.23: the client's NAT-D source hash names an address we do not see it
 * from, so it is behind a NAT and its ESP must be UDP-encapsulated (RFC 3948). */
static void test_nat_detected(void **state)
{
	struct h *h = *state;
	struct ikei_sa_init_opts so = init_opts(h);
	struct ikei_auth_opts o = psk_opts(h, "frank@psk.example.test");
	struct sockaddr_storage inside;
	struct ikei c;
	uint8_t vip[4];

	gwh_set_addr(&inside, "10.1.2.3", 500);
	h->x.gw.dp = &h->x.rec.dp;
	assert_int_equal(ikei_init(&c, h->x.gw.suite, &inside, &h->x.gw_addr), 0);
	assert_int_equal(send_init(h, &c, &so), 0);
	assert_true(gwh_log_has(&h->x, "NAT detected (peer)"));
	send_auth(h, &c, &o);
	check_established(h, &c, vip);
	assert_int_equal(h->x.rec.n_added, 1);
	assert_true(h->x.rec.added[0].encap);
	ikei_fini(&c);
}

static void test_dataplane_aead(void **state)
{
	dataplane_keys(*state, "aes256gcm16");
}

static void test_dataplane_cbc(void **state)
{
	dataplane_keys(*state, "aes256-sha256");
}

/* ---- crypto jobs completing later (jobs.h deferred mode) ---- */

/* Nothing answers until the jobs ran; then exactly one answer. */
static void run_jobs_expect_one(struct h *h)
{
	size_t before = h->x.n_out;

	assert_true(jobs_run_pending(&h->x.gw.jobs) > 0);
	assert_int_equal(h->x.n_out, before + 1);
}

static void deferred_init(struct h *h, struct ikei *c)
{
	struct ikei_sa_init_opts o = init_opts(h);
	unsigned long submitted = h->x.gw.jobs.submitted;
	struct wbuf w;

	h->x.gw.jobs.defer = true;
	client_new(h, c);
	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_sa_init_build(c, &o, &w), 0);
	h->len = wbuf_len(&w);
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 0);
	assert_int_equal(h->x.gw.jobs.queued, 1);
	assert_int_equal(sa_table_half_open_count(h->x.gw.sas), 1);
	/* RFC 7296 2.1: its retransmission waits for the job, no second one */
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 0);
	assert_int_equal(h->x.gw.jobs.submitted, submitted + 1);
	run_jobs_expect_one(h);
	assert_int_equal(ikei_sa_init_process(c, gwh_last(&h->x)->msg, gwh_last(&h->x)->len,
					      &h->m), 0);
}

static void decrypt_last(struct h *h, struct ikei *c)
{
	assert_int_equal(ikei_decrypt(c, gwh_last(&h->x)->msg, gwh_last(&h->x)->len, &h->m, h->plain,
				      sizeof(h->plain)), 0);
	assert_int_equal(h->m.hdr.exchange, IKEV2_EXCH_IKE_AUTH);
}

static void test_deferred_psk(void **state)
{
	struct h *h = *state;
	struct ikei_auth_opts o = psk_opts(h, "alice@psk.example.test");
	struct ikei c;
	uint8_t vip[4];

	deferred_init(h, &c);
	build_auth(h, &c, &o);
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 0); /* our signature is a job */
	assert_int_equal(h->x.gw.jobs.queued, 1);
	run_jobs_expect_one(h);
	decrypt_last(h, &c);
	check_established(h, &c, vip);
	assert_int_equal(h->x.gw.ctr.handshakes_ok, 1);
	ikei_fini(&c);
}

/* Certificate AUTH: a verify job, then a sign job; nothing is sent before both ran. */
static void deferred_cert(struct h *h, const char *name, uint8_t id_type, const char *id)
{
	struct cert_own *cred = load_cred(name);
	struct ikei_auth_opts o = {
		.id_type = id_type, .id = (const uint8_t *)id, .id_len = strlen(id),
		.cred = cred, .cp = true, .esp = &h->esp, .n_esp = 1, .idr = "vpn.example.test",
	};
	struct ikei c;
	size_t sent;
	uint8_t vip[4];

	deferred_init(h, &c);
	build_auth(h, &c, &o);
	sent = h->x.n_out;
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 0);
	assert_int_equal(h->x.gw.jobs.queued, 1);
	assert_true(jobs_run_one(&h->x.gw.jobs)); /* verified: now our signature */
	assert_int_equal(h->x.n_out, sent);
	assert_int_equal(h->x.gw.jobs.queued, 1);
	assert_int_equal(h->x.gw.ctr.handshakes_ok, 0);
	run_jobs_expect_one(h);
	decrypt_last(h, &c);
	check_established(h, &c, vip);
	assert_int_equal(sa_table_count(h->x.gw.sas), 1);
	assert_int_equal(sa_table_half_open_count(h->x.gw.sas), 0);
	assert_int_equal(h->x.gw.jobs.submitted, 3); /* KE, verify, sign */
	assert_int_equal(h->x.gw.jobs.completed, 3);
	ikei_fini(&c);
	cert_own_free(cred);
}

static void test_deferred_cert_ecdsa(void **state)
{
	deferred_cert(*state, "client-ecdsa", IKEV2_ID_RFC822_ADDR, "alice@example.test");
}

static void test_deferred_cert_rsa(void **state)
{
	deferred_cert(*state, "client-rsa", IKEV2_ID_FQDN, "bob.example.test");
}

/* RFC 7296 2.1: a retransmitted IKE_AUTH while its job runs is dropped, no second job;
 * once answered, a retransmission gets the cached answer. */
static void test_deferred_auth_retransmit(void **state)
{
	struct h *h = *state;
	struct cert_own *cred = load_cred("client-ecdsa");
	struct ikei_auth_opts o = {
		.id_type = IKEV2_ID_RFC822_ADDR, .id = (const uint8_t *)"alice@example.test",
		.id_len = 18, .cred = cred, .cp = true, .esp = &h->esp, .n_esp = 1,
	};
	struct ikei c;
	unsigned long submitted;
	uint8_t vip[4];

	deferred_init(h, &c);
	build_auth(h, &c, &o);
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 0);
	submitted = h->x.gw.jobs.submitted;
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 0);
	assert_int_equal(h->x.gw.jobs.submitted, submitted);
	assert_true(jobs_run_one(&h->x.gw.jobs));
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 0); /* the sign job runs now */
	assert_int_equal(h->x.gw.jobs.submitted, submitted + 1);
	run_jobs_expect_one(h);
	decrypt_last(h, &c);
	check_established(h, &c, vip);
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 1); /* the cached answer */
	assert_int_equal(h->x.gw.jobs.submitted, submitted + 1);
	assert_int_equal(pool_used(h, 0), 1);
	ikei_fini(&c);
	cert_own_free(cred);
}

/* The half-open timer frees the SA while its verify job is pending: the result is
 * dropped, nothing is sent, nothing leaks (ASan). */
static void test_deferred_sa_gone_auth(void **state)
{
	struct h *h = *state;
	struct cert_own *cred = load_cred("client-ecdsa");
	struct ikei_auth_opts o = {
		.id_type = IKEV2_ID_RFC822_ADDR, .id = (const uint8_t *)"alice@example.test",
		.id_len = 18, .cred = cred, .cp = true, .esp = &h->esp, .n_esp = 1,
	};
	struct ikei c;
	size_t sent;

	deferred_init(h, &c);
	build_auth(h, &c, &o);
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 0);
	sent = h->x.n_out;
	h->x.now += h->x.cfg->timeouts.half_open * 1000ull;
	loop_run_timers(h->x.gw.loop);
	assert_int_equal(sa_table_count(h->x.gw.sas), 0);
	assert_int_equal(jobs_run_pending(&h->x.gw.jobs), 1); /* no sign job follows */
	assert_int_equal(h->x.n_out, sent);
	assert_int_equal(h->x.gw.ctr.handshakes_ok, 0);
	assert_int_equal(pool_used(h, 0), 0);
	ikei_fini(&c);
	cert_own_free(cred);
}

/* The same for the key exchange of IKE_SA_INIT: the half-open timer runs from the
 * request, so a key exchange that never finishes still ends with its SA. */
static void test_deferred_sa_gone_init(void **state)
{
	struct h *h = *state;
	struct ikei_sa_init_opts o = init_opts(h);
	struct ikei c;
	struct wbuf w;

	h->x.gw.jobs.defer = true;
	client_new(h, &c);
	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_sa_init_build(&c, &o, &w), 0);
	assert_int_equal(gwh_deliver(&h->x, h->buf, wbuf_len(&w)), 0);
	h->x.now += h->x.cfg->timeouts.half_open * 1000ull;
	loop_run_timers(h->x.gw.loop);
	assert_int_equal(sa_table_count(h->x.gw.sas), 0);
	assert_int_equal(jobs_run_pending(&h->x.gw.jobs), 1);
	assert_int_equal(h->x.n_out, 0);
	assert_int_equal(sa_table_half_open_count(h->x.gw.sas), 0);
	ikei_fini(&c);
}

/* Shutdown with jobs queued (gw_fini drains them): each frees what it holds. */
static void test_deferred_drain(void **state)
{
	struct h *h = *state;
	struct ikei_auth_opts o = psk_opts(h, "alice@psk.example.test");
	struct ikei c, c2;
	struct ikei_sa_init_opts io = init_opts(h);
	struct wbuf w;

	deferred_init(h, &c);
	build_auth(h, &c, &o);
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 0); /* sign job queued */
	client_new(h, &c2);
	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_sa_init_build(&c2, &io, &w), 0);
	assert_int_equal(gwh_deliver(&h->x, h->buf, wbuf_len(&w)), 0); /* KE job queued */
	assert_int_equal(h->x.gw.jobs.queued, 2);
	jobs_drain(&h->x.gw.jobs);
	assert_int_equal(h->x.gw.jobs.queued, 0);
	assert_int_equal(h->x.gw.ctr.handshakes_ok, 0);
	ikei_fini(&c);
	ikei_fini(&c2);
}

/* A signature that does not verify, found in the job: AUTHENTICATION_FAILED, the log
 * line, the SA gone (freed by the job's done(), outside ike_recv). */
static void test_deferred_bad_signature(void **state)
{
	struct h *h = *state;
	struct cert_own *cred = load_cred("client-ecdsa");
	struct ikei_auth_opts o = {
		.id_type = IKEV2_ID_RFC822_ADDR, .id = (const uint8_t *)"alice@example.test",
		.id_len = 18, .cred = cred, .tamper_auth = true, .cp = true, .esp = &h->esp,
		.n_esp = 1,
	};
	struct ikei c;

	deferred_init(h, &c);
	build_auth(h, &c, &o);
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 0);
	run_jobs_expect_one(h);
	assert_int_equal(h->x.gw.jobs.submitted, 2); /* no signature of ours for it */
	decrypt_last(h, &c);
	expect_auth_failed(h, "alice@example.test");
	assert_true(gwh_log_has(&h->x, "signature does not verify"));
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 0);
	ikei_fini(&c);
	cert_own_free(cred);
}

/* The staff (certificate) profile with unique: keep, as a test may set it. */
static void staff_unique_keep(struct h *h)
{
	for (size_t i = 0; i < h->x.cfg->n_profiles; i++)
		if (strcmp(h->x.cfg->profiles[i].name, "staff") == 0)
			h->x.cfg->profiles[i].unique = CONFIG_UNIQUE_KEEP;
}

/*
 * unique: keep refuses a certificate client after both jobs (the refusal comes from the
 * sign job's done(), which frees the SA while the verify job's done() is still on the
 * stack when jobs run inline): AUTHENTICATION_FAILED, the first SA stays, ASan clean.
 */
static void unique_keep_cert(struct h *h, bool defer)
{
	struct cert_own *cred = load_cred("client-ecdsa");
	struct ikei_auth_opts o = {
		.id_type = IKEV2_ID_RFC822_ADDR, .id = (const uint8_t *)"alice@example.test",
		.id_len = 18, .cred = cred, .cp = true, .esp = &h->esp, .n_esp = 1,
	};
	struct ikei c1, c2;
	uint8_t vip[4];

	staff_unique_keep(h);
	do_init(h, &c1);
	send_auth(h, &c1, &o);
	check_established(h, &c1, vip);
	if (defer)
		deferred_init(h, &c2);
	else
		do_init(h, &c2);
	build_auth(h, &c2, &o);
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), defer ? 0 : 1);
	if (defer)
		run_jobs_expect_one(h);
	decrypt_last(h, &c2);
	assert_int_equal(notify_of(&h->m), IKEV2_N_AUTHENTICATION_FAILED);
	assert_true(gwh_log_has(&h->x, "identity already connected (unique: keep)"));
	assert_int_equal(sa_table_count(h->x.gw.sas), 1);
	assert_int_equal(sa_table_half_open_count(h->x.gw.sas), 0);
	assert_int_equal(pool_used(h, 0), 1);
	ikei_fini(&c1);
	ikei_fini(&c2);
	cert_own_free(cred);
}

static void test_unique_keep_cert_inline(void **state)
{
	unique_keep_cert(*state, false);
}

static void test_deferred_unique_keep_cert(void **state)
{
	unique_keep_cert(*state, true);
}

/* ---- a reload while crypto jobs are queued (they keep what they were submitted with) ---- */

/*
 * gw.yaml with other credentials: our certificate and key are client-rsa's (RSA, where
 * gateway.crt is ECDSA, so a signature by one key with the other's chain cannot verify;
 * its SAN names bob.example.test, our new IDr), trust is CA-B only, and staff matches
 * any trusted certificate.  Pools and the other profiles stay as they are.
 */
static const char cfg_new_creds[] =
	"gateway:\n"
	"  id: bob.example.test\n"
	"  listen: [192.0.2.1]\n"
	"  certificate: ../pki/client-rsa.crt\n"
	"  private_key: ../pki/client-rsa.key\n"
	"  log_level: debug\n"
	"trust: { ca: [../pki/ca-b.crt] }\n"
	"proposals:\n"
	"  ike: [aes256gcm16-prfsha384-x25519, aes256-sha256-modp2048]\n"
	"  esp: [aes256gcm16, aes256-sha256]\n"
	"lifetimes: { ike: 4h, child: 1h }\n"
	"timeouts: { dpd: 30s, idle: 10m, half_open: 30s }\n"
	"pools:\n"
	"  - { name: staff, ipv4: 10.99.0.0/24, dns: [10.0.0.53], dns_domains: [corp.example] }\n"
	"  - { name: tiny, ipv4: 10.98.0.0/30 }\n"
	"profiles:\n"
	"  - { name: tiny, auth: [psk], psk: \"tiny pool pre-shared key 0123\",\n"
	"      match: { identity: '*@tiny.example.test' }, pool: tiny, allow: [10.10.0.0/24],\n"
	"      unique: never }\n"
	"  - { name: psk, auth: [psk], psk: \"exchange harness pre-shared key\",\n"
	"      match: { identity: '*@psk.example.test' }, pool: staff, allow: [10.10.0.0/24],\n"
	"      unique: replace }\n"
	"  - { name: staff, auth: [certificate], pool: staff, allow: [10.10.0.0/24],\n"
	"      unique: replace }\n";

/* The daemon's reload (reload_apply: commit_trust drops the gateway's references to the
 * old trust store and credentials) to cfg_new_creds. */
static void reload_new_creds(struct h *h)
{
	struct cert_store *old_trust = h->x.gw.trust;
	struct cert_own *old_own = h->x.gw.own;
	struct config_errors errs;
	struct reload_report rep;
	struct config *nc = NULL;
	char dir[512];

	config_errors_init(&errs);
	if (config_load_buffer("reload.yaml", gwh_data_path(dir, sizeof(dir), "exchange"),
			       cfg_new_creds, strlen(cfg_new_creds), 0, &nc, &errs) != 0)
		config_errors_print(&errs, stderr);
	config_errors_clear(&errs);
	assert_non_null(nc);
	reload_report_init(&rep);
	assert_int_equal(reload_apply(&h->x.gw, nc, &rep), 0);
	assert_true(rep.ok);
	reload_report_clear(&rep);
	h->x.cfg = h->x.gw.cfg; /* reload_apply freed the config the harness started with */
	assert_ptr_not_equal(h->x.gw.trust, old_trust);
	assert_ptr_not_equal(h->x.gw.own, old_own);
}

static struct ikei_auth_opts cert_opts(struct h *h, const struct cert_own *cred,
				       uint8_t id_type, const char *id)
{
	return (struct ikei_auth_opts){
		.id_type = id_type, .id = (const uint8_t *)id, .id_len = strlen(id),
		.cred = cred, .cp = true, .esp = &h->esp, .n_esp = 1,
	};
}

/* After the reload: a CA-B client gets in, and sees our new IDr, chain and signature. */
static void next_client_new_creds(struct h *h)
{
	struct cert_own *cred = load_cred("client-cab");
	struct ikei_auth_opts o = cert_opts(h, cred, IKEV2_ID_FQDN, "frank.example.test");
	struct ikei c;
	uint8_t vip[4];

	deferred_init(h, &c);
	build_auth(h, &c, &o);
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 0);
	run_jobs_expect_one(h);
	decrypt_last(h, &c);
	check_established_as(h, &c, vip, "bob.example.test");
	ikei_fini(&c);
	cert_own_free(cred);
}

/* After the reload: a CA-A client is refused (the new trust store is in use). */
static void next_client_old_ca_refused(struct h *h)
{
	struct cert_own *cred = load_cred("client-ecdsa");
	struct ikei_auth_opts o = cert_opts(h, cred, IKEV2_ID_RFC822_ADDR, "alice@example.test");
	uint64_t failures = h->x.gw.ctr.auth_failures;
	struct ikei c;

	deferred_init(h, &c);
	build_auth(h, &c, &o);
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 0);
	run_jobs_expect_one(h);
	decrypt_last(h, &c);
	assert_int_equal(notify_of(&h->m), IKEV2_N_AUTHENTICATION_FAILED);
	assert_int_equal(h->x.gw.ctr.auth_failures, failures + 1);
	assert_true(gwh_log_has(&h->x, "unable to get local issuer certificate"));
	ikei_fini(&c);
	cert_own_free(cred);
}

/*
 * A PSK client's sign job is queued with the old credentials, then a reload: the answer
 * carries the old chain and IDr with the old key's signature (the client's check passes),
 * the old set is freed with the job (ASan: not before, and not leaked), and the next
 * client gets the new chain, IDr and trust.
 */
static void test_deferred_reload_sign(void **state)
{
	struct h *h = *state;
	struct ikei_auth_opts o = psk_opts(h, "alice@psk.example.test");
	struct ikei c;
	uint8_t vip[4];

	deferred_init(h, &c);
	build_auth(h, &c, &o);
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 0);
	assert_int_equal(h->x.gw.jobs.queued, 1); /* our signature */
	reload_new_creds(h);
	run_jobs_expect_one(h);
	decrypt_last(h, &c);
	check_established(h, &c, vip); /* vpn.example.test, gateway.crt, its key's AUTH */
	assert_int_equal(h->x.gw.ctr.handshakes_ok, 1);
	next_client_new_creds(h);
	next_client_old_ca_refused(h);
	assert_int_equal(sa_table_count(h->x.gw.sas), 2);
	ikei_fini(&c);
}

/*
 * A CA-A client's verify job is queued with the old trust store, then a reload that
 * trusts CA-B only: the chain is still checked against the store of submit time (and
 * the store lives until the job is freed).  after_verify moves the reload between the
 * verify job and our sign job: the answer then carries the old chain and IDr; otherwise
 * the sign job, submitted after the reload, uses the new ones, consistently.
 */
static void reload_cert(struct h *h, bool after_verify)
{
	struct cert_own *cred = load_cred("client-ecdsa");
	struct ikei_auth_opts o = cert_opts(h, cred, IKEV2_ID_RFC822_ADDR, "alice@example.test");
	struct ikei c;
	uint8_t vip[4];

	deferred_init(h, &c);
	build_auth(h, &c, &o);
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 0);
	assert_int_equal(h->x.gw.jobs.queued, 1); /* the chain and signature check */
	if (after_verify) {
		assert_true(jobs_run_one(&h->x.gw.jobs));
		assert_int_equal(h->x.gw.jobs.queued, 1); /* our signature */
	}
	reload_new_creds(h);
	run_jobs_expect_one(h);
	decrypt_last(h, &c);
	check_established_as(h, &c, vip, after_verify ? "vpn.example.test" : "bob.example.test");
	assert_int_equal(h->x.gw.ctr.handshakes_ok, 1);
	next_client_new_creds(h);
	next_client_old_ca_refused(h);
	ikei_fini(&c);
	cert_own_free(cred);
}

static void test_deferred_reload_before_verify(void **state)
{
	reload_cert(*state, false);
}

static void test_deferred_reload_before_sign(void **state)
{
	reload_cert(*state, true);
}

/* Shutdown with a job queued across a reload: draining frees the last reference. */
static void test_deferred_reload_drain(void **state)
{
	struct h *h = *state;
	struct cert_own *cred = load_cred("client-ecdsa");
	struct ikei_auth_opts o = cert_opts(h, cred, IKEV2_ID_RFC822_ADDR, "alice@example.test");
	struct ikei c;

	deferred_init(h, &c);
	build_auth(h, &c, &o);
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 0);
	reload_new_creds(h);
	jobs_drain(&h->x.gw.jobs); /* the old store goes with the job (ASan: no leak) */
	assert_int_equal(h->x.gw.ctr.handshakes_ok, 0);
	ikei_fini(&c);
	cert_own_free(cred);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_psk_full),
		T(test_cert_ecdsa),
		T(test_cert_rsa),
		T(test_cert_rsa_pss),
		T(test_init_second_proposal),
		T(test_wrong_ke_group),
		T(test_no_proposal),
		T(test_missing_nonce),
		T(test_unknown_critical_init),
		T(test_replay_init),
		T(test_cookie),
		T(test_wrong_psk),
		T(test_tampered_signature),
		T(test_unknown_identity),
		T(test_untrusted_cert),
		T(test_auth_wrong_msgid),
		T(test_exchanges_before_auth),
		T(test_replay_auth),
		T(test_tampered_icv),
		T(test_unknown_critical_auth),
		T(test_half_open_expiry),
		T(test_established_survives_half_open_timeout),
		T(test_info_empty),
		T(test_info_delete_ike),
		T(test_info_delete_esp),
		T(test_info_delete_esp_no_dataplane),
		T(test_unique_replace),
		T(test_pool_full),
		T(test_nat_detected),
		T(test_dataplane_aead),
		T(test_dataplane_cbc),
		T(test_deferred_psk),
		T(test_deferred_cert_ecdsa),
		T(test_deferred_cert_rsa),
		T(test_deferred_auth_retransmit),
		T(test_deferred_sa_gone_auth),
		T(test_deferred_sa_gone_init),
		T(test_deferred_drain),
		T(test_deferred_bad_signature),
		T(test_unique_keep_cert_inline),
		T(test_deferred_unique_keep_cert),
		T(test_deferred_reload_sign),
		T(test_deferred_reload_before_verify),
		T(test_deferred_reload_before_sign),
		T(test_deferred_reload_drain),
#undef T
	};

	return cmocka_run_group_tests_name("exchange", tests, NULL, NULL);
}
