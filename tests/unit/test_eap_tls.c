/* SPDX-License-Identifier: ISC */
/*
 * EAP-TLS server against an OpenSSL client driven in-process: the test peer below
 * runs SSL_connect over memory BIOs and speaks RFC 5216 framing (fragments, ACKs),
 * with the certificates of tests/data/pki.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>

#include "ikegw/cert.h"
#include "ikegw/eap.h"
#include "ikegw/eap_tls.h"

/* 2030-01-01T00:00:00Z, as in test_cert.c: inside every test certificate's validity
 * but client-expired's. */
#define AT ((time_t)1893456000)
#define ID0 0x42
#define BUF 4096

/* Test PKI from tests/data/pki/mkpki.sh; IKEGW_TOP is set by tests/run.sh. */
static const char *pki(char *buf, size_t len, const char *name)
{
	const char *top = getenv("IKEGW_TOP");

	snprintf(buf, len, "%s/tests/data/pki/%s", top ? top : ".", name);
	return buf;
}

struct fixture {
	struct cert_own *own;
	struct cert_store *trust;
};

static int setup(void **state)
{
	char a[512], b[512], c[512], d[512];
	struct fixture *f = calloc(1, sizeof(*f));
	struct cert_error err;
	const char *ca[1], *crl[2];

	assert_non_null(f);
	f->own = cert_own_new(pki(a, sizeof(a), "gateway.crt"), pki(b, sizeof(b), "gateway.key"),
			      &err);
	assert_non_null(f->own);
	ca[0] = pki(a, sizeof(a), "ca-a.crt");
	crl[0] = pki(c, sizeof(c), "ca-a.crl");
	crl[1] = pki(d, sizeof(d), "int-a.crl");
	f->trust = cert_store_new(ca, 1, crl, 2, &err);
	assert_non_null(f->trust);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	cert_own_free(f->own);
	cert_store_free(f->trust);
	free(f);
	return 0;
}

static struct eap_tls_server *srv_new(void **state, size_t frag, size_t max_msg)
{
	struct fixture *f = *state;
	struct eap_tls_config cfg = {
		.own = f->own, .trust = f->trust, .at = AT, .frag_size = frag,
		.max_msg = max_msg,
	};
	struct eap_tls_server *s = eap_tls_server_new(&cfg, ID0);

	assert_non_null(s);
	return s;
}

/* ---- the test peer: an OpenSSL client in EAP-TLS framing ---------------------- */

struct peer {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *rbio, *wbio;
	size_t frag;
	uint8_t *obuf;
	size_t olen, opos;
	bool hs_done;
	bool got_indication; /* RFC 9190 2.5: the 0x00 application data arrived */
	int fragments_in;    /* server fragments that carried M */
	int fragments_out;   /* our fragments that carried M */
};

static struct peer *peer_new(const char *cert, const char *key, int max_version, size_t frag)
{
	struct peer *p = calloc(1, sizeof(*p));
	char a[512];

	assert_non_null(p);
	p->frag = frag;
	p->ctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(p->ctx);
	assert_int_equal(SSL_CTX_set_min_proto_version(p->ctx, TLS1_2_VERSION), 1);
	assert_int_equal(SSL_CTX_set_max_proto_version(p->ctx, max_version), 1);
	if (cert) {
		assert_int_equal(SSL_CTX_use_certificate_chain_file(p->ctx, pki(a, sizeof(a), cert)), 1);
		assert_int_equal(SSL_CTX_use_PrivateKey_file(p->ctx, pki(a, sizeof(a), key),
							     SSL_FILETYPE_PEM), 1);
	}
	/* The client checks the gateway's certificate too, at the same fixed time. */
	assert_int_equal(SSL_CTX_load_verify_locations(p->ctx, pki(a, sizeof(a), "ca-a.crt"),
						       NULL), 1);
	SSL_CTX_set_verify(p->ctx, SSL_VERIFY_PEER, NULL);
	X509_VERIFY_PARAM_set_time(SSL_CTX_get0_param(p->ctx), AT);
	p->ssl = SSL_new(p->ctx);
	p->rbio = BIO_new(BIO_s_mem());
	p->wbio = BIO_new(BIO_s_mem());
	assert_true(p->ssl && p->rbio && p->wbio);
	SSL_set_bio(p->ssl, p->rbio, p->wbio);
	SSL_set_connect_state(p->ssl);
	return p;
}

static void peer_free(struct peer *p)
{
	SSL_free(p->ssl);
	SSL_CTX_free(p->ctx);
	free(p->obuf);
	free(p);
}

static void peer_take_output(struct peer *p)
{
	size_t n = BIO_ctrl_pending(p->wbio);

	free(p->obuf);
	p->obuf = NULL;
	p->olen = p->opos = 0;
	if (n == 0)
		return;
	p->obuf = malloc(n);
	assert_non_null(p->obuf);
	assert_int_equal(BIO_read(p->wbio, p->obuf, (int)n), (int)n);
	p->olen = n;
}

static void peer_send_next(struct peer *p, uint8_t id, struct wbuf *w)
{
	size_t n = p->olen - p->opos;
	uint8_t flags = 0;

	if (n > p->frag) {
		n = p->frag;
		flags |= EAP_TLS_FLAG_M;
		p->fragments_out++;
	}
	if (p->opos == 0 && (flags & EAP_TLS_FLAG_M))
		flags |= EAP_TLS_FLAG_L; /* like strongSwan: L only when fragmenting */
	assert_int_equal(eap_tls_encode(w, EAP_CODE_RESPONSE, id, flags, (uint32_t)p->olen,
					p->obuf + p->opos, n), 0);
	p->opos += n;
}

static void peer_ack(uint8_t id, struct wbuf *w)
{
	assert_int_equal(eap_tls_encode(w, EAP_CODE_RESPONSE, id, 0, 0, NULL, 0), 0);
}

/* Run the client's TLS on what has arrived; read the 1.3 success indication. */
static void peer_drive(struct peer *p)
{
	uint8_t b[16];
	int r;

	if (!p->hs_done) {
		r = SSL_connect(p->ssl);
		if (r == 1)
			p->hs_done = true;
	}
	if (p->hs_done) {
		r = SSL_read(p->ssl, b, sizeof(b));
		if (r == 1 && b[0] == 0x00)
			p->got_indication = true;
	}
	ERR_clear_error();
	peer_take_output(p);
}

/* Answer one EAP-TLS Request of the server. */
static void peer_respond(struct peer *p, const uint8_t *req, size_t n, struct wbuf *w)
{
	struct eap_pkt e;
	struct eap_tls_msg m;

	assert_int_equal(eap_decode(req, n, &e), 0);
	assert_int_equal(e.code, EAP_CODE_REQUEST);
	assert_int_equal(eap_tls_decode(&e, &m), 0);
	if (p->opos < p->olen) { /* we are fragmenting: the server only ACKs */
		assert_int_equal(m.flags, 0);
		assert_int_equal(m.data_len, 0);
		peer_send_next(p, e.id, w);
		return;
	}
	if (m.data_len)
		assert_int_equal(BIO_write(p->rbio, m.data, (int)m.data_len), (int)m.data_len);
	if (m.flags & EAP_TLS_FLAG_M) {
		p->fragments_in++;
		peer_ack(e.id, w);
		return;
	}
	peer_drive(p);
	if (p->olen)
		peer_send_next(p, e.id, w);
	else
		peer_ack(e.id, w);
}

/* Client-side key material, as RFC 5216 2.3 / RFC 9190 2.3 define it. */
static void peer_keymat(struct peer *p, uint8_t out[128])
{
	static const char l12[] = "client EAP encryption";
	static const char l13[] = "EXPORTER_EAP_TLS_Key_Material";
	static const uint8_t ctx13 = 0x0d;

	if (SSL_version(p->ssl) == TLS1_3_VERSION)
		assert_int_equal(SSL_export_keying_material(p->ssl, out, 128, l13, strlen(l13),
							    &ctx13, 1, 1), 1);
	else
		assert_int_equal(SSL_export_keying_material(p->ssl, out, 128, l12, strlen(l12),
							    NULL, 0, 0), 1);
}

/*
 * RFC 5216 2.3 spelled out, independently of the exporter:
 * Key_Material = TLS-PRF-128(master_secret, "client EAP encryption",
 *                            client.random || server.random).
 */
static void tls12_prf_keymat(struct peer *p, uint8_t out[128])
{
	static const char label[] = "client EAP encryption";
	uint8_t ms[SSL_MAX_MASTER_KEY_LENGTH], cr[SSL3_RANDOM_SIZE], sr[SSL3_RANDOM_SIZE];
	size_t ms_len = SSL_SESSION_get_master_key(SSL_get_session(p->ssl), ms, sizeof(ms));
	const EVP_MD *md = SSL_CIPHER_get_handshake_digest(SSL_get_current_cipher(p->ssl));
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
	EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						 (char *)EVP_MD_get0_name(md), 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, ms, ms_len),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)label,
						  strlen(label)),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, cr, sizeof(cr)),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, sr, sizeof(sr)),
		OSSL_PARAM_construct_end(),
	};

	assert_true(ms_len > 0 && md && kctx);
	assert_int_equal(SSL_get_client_random(p->ssl, cr, sizeof(cr)), sizeof(cr));
	assert_int_equal(SSL_get_server_random(p->ssl, sr, sizeof(sr)), sizeof(sr));
	assert_int_equal(EVP_KDF_derive(kctx, out, 128, params), 1);
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
}

struct run {
	int rc;
	int rounds;
	uint8_t last[BUF]; /* the server's last packet (Success / Failure / Request) */
	size_t last_len;
	uint8_t last_resp_id;
};

/* Start, then answer every Request until the server stops continuing. */
static void converse(struct eap_tls_server *s, struct peer *p, struct run *r)
{
	uint8_t resp[BUF];
	struct wbuf w, q;
	struct eap_pkt e;

	memset(r, 0, sizeof(*r));
	wbuf_init(&w, r->last, sizeof(r->last));
	assert_int_equal(eap_tls_server_start(s, &w), 0);
	for (r->rc = EAP_TLS_CONTINUE; r->rc == EAP_TLS_CONTINUE && r->rounds < 300; r->rounds++) {
		wbuf_init(&q, resp, sizeof(resp));
		peer_respond(p, r->last, wbuf_len(&w), &q);
		assert_int_equal(eap_decode(resp, wbuf_len(&q), &e), 0);
		r->last_resp_id = e.id;
		wbuf_init(&w, r->last, sizeof(r->last));
		r->rc = eap_tls_server_process(s, resp, wbuf_len(&q), &w);
	}
	r->last_len = wbuf_len(&w);
}

static void expect_final(const struct run *r, uint8_t code)
{
	struct eap_pkt e;

	assert_int_equal(eap_decode(r->last, r->last_len, &e), 0);
	assert_int_equal(e.code, code);
	assert_int_equal(e.id, r->last_resp_id); /* RFC 3748 4.2 */
}

/* ---- full handshakes ------------------------------------------------------------- */

static void handshake_ok(void **state, const char *cert, const char *key, int version,
			 size_t frag, const char *cn, const char *san)
{
	struct eap_tls_server *s = srv_new(state, frag, 0);
	struct peer *p = peer_new(cert, key, version, frag);
	uint8_t km[128], msk[64], emsk[64];
	struct run r;

	converse(s, p, &r);
	assert_int_equal(r.rc, EAP_TLS_DONE);
	expect_final(&r, EAP_CODE_SUCCESS);
	assert_string_equal(eap_tls_server_reason(s), "");
	assert_int_equal(eap_tls_server_version(s), version);
	assert_int_equal(SSL_version(p->ssl), version);
	peer_keymat(p, km);
	assert_int_equal(eap_tls_server_msk(s, msk), 0);
	assert_int_equal(eap_tls_server_emsk(s, emsk), 0);
	assert_memory_equal(msk, km, 64);
	assert_memory_equal(emsk, km + 64, 64);
	if (version == TLS1_2_VERSION) {
		tls12_prf_keymat(p, km);
		assert_memory_equal(msk, km, 64);
		assert_memory_equal(emsk, km + 64, 64);
	}
	assert_true(p->got_indication == (version == TLS1_3_VERSION));
	assert_non_null(strstr(eap_tls_server_subject(s), cn));
	assert_string_equal(eap_tls_server_san(s), san);
	assert_non_null(eap_tls_server_peer_cert(s));
	assert_non_null(eap_tls_server_peer_ca(s));
	if (frag < 200) {
		assert_true(p->fragments_in > 2);
		assert_true(p->fragments_out > 2);
	}
	/* Finished: nothing more is accepted. */
	assert_int_equal(eap_tls_server_process(s, r.last, r.last_len,
						&(struct wbuf){ r.last, sizeof(r.last), 0, false }),
			 -EBADMSG);
	eap_tls_server_free(s);
	peer_free(p);
}

/* A reload drops the daemon's trust store mid-conversation: the server keeps its own
 * reference, and the client's chain is still checked against the store it started with. */
static void test_trust_outlives_reload(void **state)
{
	struct fixture *f = *state;
	char a[512];
	const char *ca[1] = { pki(a, sizeof(a), "ca-a.crt") };
	struct cert_error err;
	struct eap_tls_config cfg = { .own = f->own, .at = AT };
	struct eap_tls_server *s;
	struct peer *p = peer_new("client-ecdsa.crt", "client-ecdsa.key", TLS1_3_VERSION, 1000);
	struct run r;

	cfg.trust = cert_store_new(ca, 1, NULL, 0, &err);
	assert_non_null(cfg.trust);
	s = eap_tls_server_new(&cfg, ID0);
	assert_non_null(s);
	cert_store_free(cfg.trust); /* what reload's commit_trust does with the old store */
	converse(s, p, &r);
	assert_int_equal(r.rc, EAP_TLS_DONE);
	expect_final(&r, EAP_CODE_SUCCESS);
	assert_non_null(eap_tls_server_peer_ca(s));
	eap_tls_server_free(s);
	peer_free(p);
}

static void test_tls12_ecdsa(void **state)
{
	handshake_ok(state, "client-ecdsa.crt", "client-ecdsa.key", TLS1_2_VERSION, 1000,
		     "CN=alice", "alice@example.test");
}

static void test_tls13_ecdsa(void **state)
{
	handshake_ok(state, "client-ecdsa.crt", "client-ecdsa.key", TLS1_3_VERSION, 1000,
		     "CN=alice", "alice@example.test");
}

static void test_tls12_rsa(void **state)
{
	handshake_ok(state, "client-rsa.crt", "client-rsa.key", TLS1_2_VERSION, 1000, "CN=bob",
		     "bob.example.test");
}

/* An intermediate CA sent by the client, with both CRLs checked. */
static void test_tls13_intermediate(void **state)
{
	handshake_ok(state, "client-int-chain.crt", "client-int.key", TLS1_3_VERSION, 1000,
		     "CN=dave", "dave.example.test");
}

static void test_tls12_fragmented(void **state)
{
	handshake_ok(state, "client-rsa.crt", "client-rsa.key", TLS1_2_VERSION, 100, "CN=bob",
		     "bob.example.test");
}

static void test_tls13_fragmented(void **state)
{
	handshake_ok(state, "client-int-chain.crt", "client-int.key", TLS1_3_VERSION, 100,
		     "CN=dave", "dave.example.test");
}

/* ---- refused clients ---------------------------------------------------------------- */

static void handshake_refused(void **state, const char *cert, const char *key, int version,
			      const char *why)
{
	struct eap_tls_server *s = srv_new(state, 0, 0);
	struct peer *p = peer_new(cert, key, version, 1000);
	uint8_t msk[64];
	struct run r;

	converse(s, p, &r);
	assert_int_equal(r.rc, EAP_TLS_FAILED);
	expect_final(&r, EAP_CODE_FAILURE);
	if (!strstr(eap_tls_server_reason(s), why))
		fail_msg("reason \"%s\" lacks \"%s\"", eap_tls_server_reason(s), why);
	assert_int_equal(eap_tls_server_msk(s, msk), -EAGAIN);
	assert_null(eap_tls_server_peer_cert(s));
	assert_string_equal(eap_tls_server_subject(s), "");
	eap_tls_server_free(s);
	peer_free(p);
}

static void test_revoked(void **state)
{
	handshake_refused(state, "client-revoked.crt", "client-revoked.key", TLS1_2_VERSION,
			  "revoked");
	handshake_refused(state, "client-revoked.crt", "client-revoked.key", TLS1_3_VERSION,
			  "revoked");
}

static void test_untrusted(void **state)
{
	handshake_refused(state, "client-cab.crt", "client-cab.key", TLS1_2_VERSION,
			  "client certificate refused: unable to get local issuer");
	handshake_refused(state, "client-cab.crt", "client-cab.key", TLS1_3_VERSION,
			  "client certificate refused");
}

static void test_expired(void **state)
{
	handshake_refused(state, "client-expired.crt", "client-expired.key", TLS1_2_VERSION,
			  "expired");
	handshake_refused(state, "client-expired.crt", "client-expired.key", TLS1_3_VERSION,
			  "expired");
}

/* The IKE leaf profile applies too (cert_check_usage). */
static void test_wrong_eku(void **state)
{
	handshake_refused(state, "client-serverauth.crt", "client-serverauth.key",
			  TLS1_3_VERSION, "EKU");
}

static void test_no_client_cert(void **state)
{
	handshake_refused(state, NULL, NULL, TLS1_2_VERSION, "no certificate");
	handshake_refused(state, NULL, NULL, TLS1_3_VERSION, "no certificate");
}

/* The client refuses our certificate: its alert ends the conversation here too. */
static void test_client_rejects_server(void **state)
{
	struct eap_tls_server *s = srv_new(state, 0, 0);
	struct peer *p = peer_new("client-ecdsa.crt", "client-ecdsa.key", TLS1_3_VERSION, 1000);
	X509_STORE *other = X509_STORE_new();
	char a[512];
	struct run r;

	assert_non_null(other);
	assert_int_equal(X509_STORE_load_file(other, pki(a, sizeof(a), "ca-b.crt")), 1);
	SSL_CTX_set_cert_store(p->ctx, other); /* the client now trusts only CA-B */
	converse(s, p, &r);
	assert_int_equal(r.rc, EAP_TLS_FAILED);
	expect_final(&r, EAP_CODE_FAILURE);
	if (!strstr(eap_tls_server_reason(s), "alert"))
		fail_msg("reason \"%s\" names no alert", eap_tls_server_reason(s));
	eap_tls_server_free(s);
	peer_free(p);
}

/* ---- framing and hostile input --------------------------------------------------------- */

/* A started server and the Identifier its next Response must carry. */
static struct eap_tls_server *started(void **state, size_t frag, size_t max_msg)
{
	struct eap_tls_server *s = srv_new(state, frag, max_msg);
	uint8_t b[64];
	struct wbuf w;
	struct eap_pkt e;
	struct eap_tls_msg m;

	wbuf_init(&w, b, sizeof(b));
	assert_int_equal(eap_tls_server_start(s, &w), 0);
	assert_int_equal(eap_decode(b, wbuf_len(&w), &e), 0);
	assert_int_equal(e.code, EAP_CODE_REQUEST);
	assert_int_equal(e.id, ID0);
	assert_int_equal(eap_tls_decode(&e, &m), 0);
	assert_int_equal(m.flags, EAP_TLS_FLAG_S);
	assert_int_equal(m.data_len, 0);
	assert_int_equal(wbuf_len(&w), 6);
	return s;
}

/* Send one EAP-TLS Response; returns process()'s result, the answer in ans. */
static int send_resp(struct eap_tls_server *s, uint8_t id, uint8_t flags, uint32_t tls_len,
		     const uint8_t *data, size_t n, struct eap_pkt *ans)
{
	static uint8_t out[BUF];
	uint8_t in[BUF];
	struct wbuf w, o;
	int rc;

	wbuf_init(&w, in, sizeof(in));
	assert_int_equal(eap_tls_encode(&w, EAP_CODE_RESPONSE, id, flags, tls_len, data, n), 0);
	wbuf_init(&o, out, sizeof(out));
	rc = eap_tls_server_process(s, in, wbuf_len(&w), &o);
	if (rc >= 0 && ans)
		assert_int_equal(eap_decode(out, wbuf_len(&o), ans), 0);
	if (rc < 0)
		assert_int_equal(wbuf_len(&o), 0); /* a dropped packet writes nothing */
	return rc;
}

static void expect_failed(struct eap_tls_server *s, int rc, const struct eap_pkt *ans,
			  const char *why)
{
	assert_int_equal(rc, EAP_TLS_FAILED);
	assert_int_equal(ans->code, EAP_CODE_FAILURE);
	if (!strstr(eap_tls_server_reason(s), why))
		fail_msg("reason \"%s\" lacks \"%s\"", eap_tls_server_reason(s), why);
}

static void test_oversized(void **state)
{
	uint8_t data[100] = { 0x16 };
	struct eap_pkt a;
	struct eap_tls_server *s = started(state, 0, 0);

	expect_failed(s, send_resp(s, ID0, EAP_TLS_FLAG_L | EAP_TLS_FLAG_M, 65537, data, 100, &a),
		      &a, "oversized EAP-TLS message");
	eap_tls_server_free(s);
	/* A smaller configured bound applies to unfragmented messages as well. */
	s = started(state, 0, 64);
	expect_failed(s, send_resp(s, ID0, 0, 0, data, 100, &a), &a, "oversized");
	eap_tls_server_free(s);
}

static void test_m_without_l(void **state)
{
	uint8_t data[100] = { 0x16 };
	struct eap_pkt a;
	struct eap_tls_server *s = started(state, 0, 0);

	expect_failed(s, send_resp(s, ID0, EAP_TLS_FLAG_M, 0, data, 100, &a), &a,
		      "first fragment without the L flag");
	eap_tls_server_free(s);
}

static void test_length_mismatch(void **state)
{
	uint8_t data[100] = { 0x16 };
	struct eap_pkt a;
	struct eap_tls_server *s = started(state, 0, 0);

	/* L announces 300; 100 arrive (ACKed), then a final 100: short. */
	assert_int_equal(send_resp(s, ID0, EAP_TLS_FLAG_L | EAP_TLS_FLAG_M, 300, data, 100, &a),
			 EAP_TLS_CONTINUE);
	assert_int_equal(a.code, EAP_CODE_REQUEST);
	assert_int_equal(a.id, ID0 + 1);
	assert_int_equal(a.data_len, 1); /* the ACK: Flags 0 and nothing else */
	expect_failed(s, send_resp(s, ID0 + 1, 0, 0, data, 100, &a), &a, "does not match");
	eap_tls_server_free(s);

	/* More data than announced. */
	s = started(state, 0, 0);
	expect_failed(s, send_resp(s, ID0, EAP_TLS_FLAG_L, 50, data, 100, &a), &a,
		      "more TLS data than");
	eap_tls_server_free(s);

	/* A later fragment announcing another total. */
	s = started(state, 0, 0);
	assert_int_equal(send_resp(s, ID0, EAP_TLS_FLAG_L | EAP_TLS_FLAG_M, 300, data, 100, &a),
			 EAP_TLS_CONTINUE);
	expect_failed(s, send_resp(s, ID0 + 1, EAP_TLS_FLAG_L | EAP_TLS_FLAG_M, 400, data, 100,
				   &a), &a, "changed");
	eap_tls_server_free(s);

	/* M set although the announced total has arrived. */
	s = started(state, 0, 0);
	expect_failed(s, send_resp(s, ID0, EAP_TLS_FLAG_L | EAP_TLS_FLAG_M, 100, data, 100, &a),
		      &a, "M flag");
	eap_tls_server_free(s);

	/* An empty first message. */
	s = started(state, 0, 0);
	expect_failed(s, send_resp(s, ID0, 0, 0, NULL, 0, &a), &a, "no TLS data");
	eap_tls_server_free(s);
}

static void test_garbage_tls(void **state)
{
	static const uint8_t junk[] = "GET / HTTP/1.0\r\n\r\nnot a TLS record at all";
	uint8_t hs[64];
	struct eap_pkt a;
	struct eap_tls_server *s = started(state, 0, 0);

	expect_failed(s, send_resp(s, ID0, 0, 0, junk, sizeof(junk), &a), &a,
		      "TLS handshake failed");
	eap_tls_server_free(s);

	/* A well-formed record header around a broken ClientHello. */
	memset(hs, 0xa5, sizeof(hs));
	hs[0] = 0x16, hs[1] = 3, hs[2] = 1, hs[3] = 0, hs[4] = sizeof(hs) - 5;
	hs[5] = 1; /* ClientHello */
	s = started(state, 0, 0);
	expect_failed(s, send_resp(s, ID0, EAP_TLS_FLAG_L, sizeof(hs), hs, sizeof(hs), &a), &a,
		      "TLS handshake failed");
	eap_tls_server_free(s);

	/* Half a record: TLS wants more, but the EAP message said it was complete. */
	s = started(state, 0, 0);
	expect_failed(s, send_resp(s, ID0, 0, 0, hs, 20, &a), &a, "incomplete");
	eap_tls_server_free(s);
}

/* While the server fragments, anything but an ACK ends the conversation. */
static void test_ack_expected(void **state)
{
	struct eap_tls_server *s = started(state, 100, 0);
	struct peer *p = peer_new("client-ecdsa.crt", "client-ecdsa.key", TLS1_3_VERSION, 1000);
	uint8_t junk[8] = { 0 };
	struct eap_pkt a;

	peer_drive(p); /* ClientHello */
	assert_true(p->olen > 0 && p->olen < 1000);
	assert_int_equal(send_resp(s, ID0, 0, 0, p->obuf, p->olen, &a), EAP_TLS_CONTINUE);
	assert_int_equal(a.code, EAP_CODE_REQUEST);
	assert_int_equal(a.data_len, 1 + 4 + 100); /* Flags L|M, Length, 100 bytes */
	expect_failed(s, send_resp(s, ID0 + 1, 0, 0, junk, sizeof(junk), &a), &a,
		      "acknowledgement");
	eap_tls_server_free(s);
	peer_free(p);
}

static void test_max_rounds(void **state)
{
	struct fixture *f = *state;
	struct eap_tls_config cfg = {
		.own = f->own, .trust = f->trust, .at = AT, .max_rounds = 4,
	};
	struct eap_tls_server *s = eap_tls_server_new(&cfg, ID0);
	uint8_t b[64], one = 0x16;
	struct wbuf w;
	struct eap_pkt a;
	int i;

	assert_non_null(s);
	wbuf_init(&w, b, sizeof(b));
	assert_int_equal(eap_tls_server_start(s, &w), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(send_resp(s, (uint8_t)(ID0 + i), EAP_TLS_FLAG_L | EAP_TLS_FLAG_M,
					   1000, &one, 1, &a), EAP_TLS_CONTINUE);
	expect_failed(s, send_resp(s, (uint8_t)(ID0 + i), EAP_TLS_FLAG_M, 0, &one, 1, &a), &a,
		      "too many");
	eap_tls_server_free(s);
}

/* Packets that do not belong to the conversation are dropped, state unchanged. */
static void test_dropped(void **state)
{
	uint8_t data[4] = { 1, 2, 3, 4 }, b[BUF];
	struct eap_tls_server *s = srv_new(state, 0, 0);
	struct wbuf w;
	struct eap_pkt a;
	static const uint8_t no_flags[] = { EAP_CODE_RESPONSE, ID0, 0, 5, EAP_TYPE_TLS };
	static const uint8_t short_len[] = { EAP_CODE_RESPONSE, ID0, 0, 8, EAP_TYPE_TLS,
					     EAP_TLS_FLAG_L, 0, 0 };
	static const uint8_t md5[] = { EAP_CODE_RESPONSE, ID0, 0, 6, EAP_TYPE_MD5, 0 };
	static const uint8_t request[] = { EAP_CODE_REQUEST, ID0, 0, 6, EAP_TYPE_TLS, 0 };
	static const uint8_t bad_len[] = { EAP_CODE_RESPONSE, ID0, 0, 9, EAP_TYPE_TLS, 0 };

	assert_int_equal(send_resp(s, ID0, 0, 0, data, 4, NULL), -EPROTO); /* not started */
	eap_tls_server_free(s);
	s = started(state, 0, 0);
	assert_int_equal(send_resp(s, ID0 + 1, 0, 0, data, 4, NULL), -EBADMSG);
	assert_int_equal(send_resp(s, ID0 - 1, 0, 0, data, 4, NULL), -EBADMSG);
#define PROC(pkt) (wbuf_init(&w, b, sizeof(b)), eap_tls_server_process(s, pkt, sizeof(pkt), &w))
	assert_int_equal(PROC(no_flags), -EBADMSG);
	assert_int_equal(PROC(short_len), -EBADMSG);
	assert_int_equal(PROC(md5), -EBADMSG);
	assert_int_equal(PROC(request), -EBADMSG);
	assert_int_equal(PROC(bad_len), -EBADMSG);
#undef PROC
	wbuf_init(&w, b, 0);
	assert_int_equal(eap_tls_server_process(s, NULL, 0, &w), -EBADMSG);
	/* out too small for a fragment: refused before anything changes */
	wbuf_init(&w, b, 100);
	{
		uint8_t in[16];
		struct wbuf i;

		wbuf_init(&i, in, sizeof(in));
		assert_int_equal(eap_tls_encode(&i, EAP_CODE_RESPONSE, ID0, 0, 0, data, 4), 0);
		assert_int_equal(eap_tls_server_process(s, in, wbuf_len(&i), &w), -ENOSPC);
	}
	assert_string_equal(eap_tls_server_reason(s), "");
	/* start twice */
	wbuf_init(&w, b, sizeof(b));
	assert_int_equal(eap_tls_server_start(s, &w), -EINVAL);
	/* S in a Response ends it */
	expect_failed(s, send_resp(s, ID0, EAP_TLS_FLAG_S, 0, data, 4, &a), &a, "S flag");
	assert_int_equal(send_resp(s, ID0, 0, 0, data, 4, NULL), -EPROTO);
	eap_tls_server_free(s);
}

static void test_nak(void **state)
{
	struct eap_tls_server *s = started(state, 0, 0);
	uint8_t in[16], out[BUF];
	struct wbuf i, o;
	struct eap_pkt a;
	const uint8_t want = EAP_TYPE_MSCHAPV2;

	wbuf_init(&i, in, sizeof(in));
	assert_int_equal(eap_encode_nak(&i, ID0, &want, 1), 0);
	wbuf_init(&o, out, sizeof(out));
	assert_int_equal(eap_tls_server_process(s, in, wbuf_len(&i), &o), EAP_TLS_FAILED);
	assert_int_equal(eap_decode(out, wbuf_len(&o), &a), 0);
	assert_int_equal(a.code, EAP_CODE_FAILURE);
	assert_int_equal(a.id, ID0);
	assert_non_null(strstr(eap_tls_server_reason(s), "Nak"));
	eap_tls_server_free(s);
}

static void test_codec(void **state)
{
	uint8_t b[64], data[3] = { 7, 8, 9 };
	struct wbuf w;
	struct eap_pkt e;
	struct eap_tls_msg m;
	static const uint8_t want[] = { 2, 9, 0, 13, 13, 0xc0, 0, 0, 1, 0, 7, 8, 9 };

	(void)state;
	wbuf_init(&w, b, sizeof(b));
	assert_int_equal(eap_tls_encode(&w, EAP_CODE_RESPONSE, 9, EAP_TLS_FLAG_L | EAP_TLS_FLAG_M,
					256, data, 3), 0);
	assert_int_equal(wbuf_len(&w), sizeof(want));
	assert_memory_equal(b, want, sizeof(want));
	assert_int_equal(eap_decode(b, wbuf_len(&w), &e), 0);
	assert_int_equal(eap_tls_decode(&e, &m), 0);
	assert_true(m.has_len);
	assert_int_equal(m.tls_len, 256);
	assert_int_equal(m.flags, 0xc0);
	assert_int_equal(m.data_len, 3);
	assert_memory_equal(m.data, data, 3);
	/* reserved flag bits are kept but mean nothing; no L means no length */
	e.data = (const uint8_t *)"\x1f\x01";
	e.data_len = 2;
	assert_int_equal(eap_tls_decode(&e, &m), 0);
	assert_false(m.has_len);
	assert_int_equal(m.data_len, 1);
	/* L with 3 of the 4 length octets */
	e.data = (const uint8_t *)"\x80\x00\x00\x01";
	e.data_len = 4;
	assert_int_equal(eap_tls_decode(&e, &m), -EBADMSG);
	e.data_len = 0;
	assert_int_equal(eap_tls_decode(&e, &m), -EBADMSG);
	e.type = EAP_TYPE_MSCHAPV2;
	assert_int_equal(eap_tls_decode(&e, &m), -EINVAL);
	/* encoder errors */
	assert_int_equal(eap_tls_encode(&w, EAP_CODE_SUCCESS, 1, 0, 0, NULL, 0), -EINVAL);
	assert_int_equal(eap_tls_encode(&w, EAP_CODE_REQUEST, 1, 0, 0, NULL, 1), -EINVAL);
	wbuf_init(&w, b, 8);
	assert_int_equal(eap_tls_encode(&w, EAP_CODE_REQUEST, 1, 0, 0, data, 3), -ENOSPC);
}

static void test_config(void **state)
{
	struct fixture *f = *state;
	struct eap_tls_config cfg = { .own = f->own, .trust = f->trust, .at = AT };

	assert_null(eap_tls_server_new(NULL, 1));
	cfg.frag_size = 8;
	assert_null(eap_tls_server_new(&cfg, 1));
	cfg.frag_size = 0;
	cfg.max_version = TLS1_1_VERSION;
	assert_null(eap_tls_server_new(&cfg, 1));
	cfg.max_version = TLS1_2_VERSION;
	cfg.trust = NULL;
	assert_null(eap_tls_server_new(&cfg, 1));
	eap_tls_server_free(NULL);
	assert_string_equal(eap_tls_server_reason(NULL), "");
}

/* max_version = 1.2 on our side: a 1.3-capable client gets 1.2 and the RFC 5216 MSK. */
static void test_cap_tls12(void **state)
{
	struct fixture *f = *state;
	struct eap_tls_config cfg = {
		.own = f->own, .trust = f->trust, .at = AT, .max_version = TLS1_2_VERSION,
	};
	struct eap_tls_server *s = eap_tls_server_new(&cfg, ID0);
	struct peer *p = peer_new("client-ed25519.crt", "client-ed25519.key", TLS1_3_VERSION,
				  1000);
	uint8_t km[128], msk[64];
	struct run r;

	assert_non_null(s);
	converse(s, p, &r);
	assert_int_equal(r.rc, EAP_TLS_DONE);
	assert_int_equal(eap_tls_server_version(s), TLS1_2_VERSION);
	peer_keymat(p, km);
	assert_int_equal(eap_tls_server_msk(s, msk), 0);
	assert_memory_equal(msk, km, 64);
	assert_string_equal(eap_tls_server_san(s), "carol.example.test");
	eap_tls_server_free(s);
	peer_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_tls12_ecdsa),
		cmocka_unit_test(test_trust_outlives_reload),
		cmocka_unit_test(test_tls13_ecdsa),
		cmocka_unit_test(test_tls12_rsa),
		cmocka_unit_test(test_tls13_intermediate),
		cmocka_unit_test(test_tls12_fragmented),
		cmocka_unit_test(test_tls13_fragmented),
		cmocka_unit_test(test_cap_tls12),
		cmocka_unit_test(test_revoked),
		cmocka_unit_test(test_untrusted),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_wrong_eku),
		cmocka_unit_test(test_no_client_cert),
		cmocka_unit_test(test_client_rejects_server),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_m_without_l),
		cmocka_unit_test(test_length_mismatch),
		cmocka_unit_test(test_garbage_tls),
		cmocka_unit_test(test_ack_expected),
		cmocka_unit_test(test_max_rounds),
		cmocka_unit_test(test_dropped),
		cmocka_unit_test(test_nak),
	};

	return cmocka_run_group_tests_name("eap_tls", tests, setup, teardown);
}
