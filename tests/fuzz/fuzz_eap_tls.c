/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for EAP-TLS framing (RFC 5216 3.1) and the server's fragment
 * reassembly (src/auth/eap_tls.c), with a fixed server: the gateway certificate and
 * trust store of tests/data/pki (found through IKEGW_TOP, else the current folder),
 * 64-byte fragments, a 2 KiB message bound and 64 rounds.
 *
 * Input: one mode octet, then records of a 2-octet length and that many octets.
 *   mode bit 0 clear: each record is the Type-Data (Flags, [Length], TLS data) of an
 *                     EAP-TLS Response carrying the Identifier the server expects;
 *   mode bit 0 set:   each record is a whole EAP packet, as is;
 *   mode bit 1 set:   a real ClientHello (made once by an OpenSSL client) goes first,
 *                     so the records meet a server that is sending its fragments.
 * Every record is also decoded on its own and, when it decodes, re-encoded: the
 * bytes must come back the same.  Checked after each step: the result is one of the
 * documented ones, a dropped packet writes nothing, CONTINUE writes an EAP-TLS Request
 * with the next Identifier and at most one fragment of data, FAILED writes an
 * EAP-Failure and leaves a reason, and DONE never happens (no client key here).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "ikegw/buf.h"
#include "ikegw/cert.h"
#include "ikegw/eap.h"
#include "ikegw/eap_tls.h"

#define FRAG 64
#define OUT_CAP 512

struct fixed {
	struct cert_own *own;
	struct cert_store *trust;
	bool tried;
	uint8_t hello[2048];
	size_t hello_len;
};

static const char *pki(char *buf, size_t len, const char *name)
{
	const char *top = getenv("IKEGW_TOP");

	snprintf(buf, len, "%s/tests/data/pki/%s", top ? top : ".", name);
	return buf;
}

/* One ClientHello from an OpenSSL client over a memory BIO, kept for every run. */
static void hello_make(struct fixed *f)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;
	BIO *r = BIO_new(BIO_s_mem()), *w = BIO_new(BIO_s_mem());
	int n;

	if (!ssl || !r || !w) {
		BIO_free(r);
		BIO_free(w);
	} else {
		SSL_set_bio(ssl, r, w);
		(void)SSL_connect(ssl);
		n = BIO_read(w, f->hello, sizeof(f->hello));
		f->hello_len = n > 0 ? (size_t)n : 0;
	}
	SSL_free(ssl);
	SSL_CTX_free(ctx);
}

static void fixed_load(struct fixed *f)
{
	char a[512], b[512], c[512];
	const char *ca[1], *crl[1];
	struct cert_error err;

	f->tried = true;
	f->own = cert_own_new(pki(a, sizeof(a), "gateway.crt"), pki(b, sizeof(b), "gateway.key"),
			      &err);
	ca[0] = pki(a, sizeof(a), "ca-a.crt");
	crl[0] = pki(c, sizeof(c), "ca-a.crl");
	f->trust = cert_store_new(ca, 1, crl, 1, &err);
	hello_make(f);
	if (!f->own || !f->trust)
		fprintf(stderr, "fuzz_eap_tls: no test PKI (set IKEGW_TOP): framing only\n");
}

/* Decode alone, then re-encode: the same bytes must come back. */
static void roundtrip(const uint8_t *p, size_t n)
{
	uint8_t buf[EAP_MAX_LEN];
	struct eap_pkt e;
	struct eap_tls_msg m;
	struct wbuf w;

	if (eap_decode(p, n, &e) != 0 || eap_tls_decode(&e, &m) != 0)
		return;
	wbuf_init(&w, buf, sizeof(buf));
	if (eap_tls_encode(&w, e.code, e.id, m.flags, m.tls_len, m.data, m.data_len) != 0)
		abort();
	if (wbuf_len(&w) != n || memcmp(buf, p, n) != 0)
		abort();
}

static void check_step(struct eap_tls_server *s, int rc, const uint8_t *out, size_t n,
		       uint8_t sent_id)
{
	struct eap_pkt e;
	struct eap_tls_msg m;

	if (rc < 0) {
		if ((rc != -EBADMSG && rc != -EPROTO) || n != 0)
			abort();
		return;
	}
	if (eap_decode(out, n, &e) != 0)
		abort();
	if (rc == EAP_TLS_FAILED) {
		if (e.code != EAP_CODE_FAILURE || e.id != sent_id || !eap_tls_server_reason(s)[0])
			abort();
		return;
	}
	if (rc != EAP_TLS_CONTINUE || e.code != EAP_CODE_REQUEST ||
	    e.id != (uint8_t)(sent_id + 1) || eap_tls_decode(&e, &m) != 0 || m.data_len > FRAG)
		abort();
}

/* Wrap a record as an EAP-TLS Response, or take it as a whole packet. */
static size_t make_packet(bool raw, uint8_t id, const uint8_t *rec, size_t n, uint8_t *pkt)
{
	struct wbuf w;
	size_t start;

	if (raw) {
		memcpy(pkt, rec, n);
		return n;
	}
	wbuf_init(&w, pkt, EAP_MAX_LEN);
	start = eap_encode_begin(&w, EAP_CODE_RESPONSE, id, EAP_TYPE_TLS);
	wbuf_bytes(&w, rec, n);
	return eap_encode_end(&w, start) == 0 ? wbuf_len(&w) : 0;
}

/* The cached ClientHello as one unfragmented Response: the server answers CONTINUE. */
static int hello_send(struct eap_tls_server *s, const struct fixed *f, uint8_t id)
{
	uint8_t pkt[sizeof(f->hello) + 16], out[OUT_CAP];
	struct wbuf p, o;

	wbuf_init(&p, pkt, sizeof(pkt));
	if (f->hello_len == 0 || eap_tls_encode(&p, EAP_CODE_RESPONSE, id, 0, 0, f->hello,
						f->hello_len) != 0)
		return -1;
	wbuf_init(&o, out, sizeof(out));
	return eap_tls_server_process(s, pkt, wbuf_len(&p), &o);
}

static void drive(struct eap_tls_server *s, const struct fixed *f, struct rbuf *r,
		  uint8_t mode)
{
	static uint8_t pkt[EAP_MAX_LEN];
	uint8_t out[OUT_CAP];
	uint8_t id = 0x10;
	struct wbuf w;
	uint16_t n;
	const uint8_t *rec;
	int rc = EAP_TLS_CONTINUE;
	bool raw = mode & 1;

	if ((mode & 2) && hello_send(s, f, id) == EAP_TLS_CONTINUE)
		id++;
	while (rc < 0 || rc == EAP_TLS_CONTINUE) {
		size_t len;

		if (rbuf_u16(r, &n) || rbuf_bytes(r, n, &rec))
			return;
		len = make_packet(raw, id, rec, n, pkt);
		roundtrip(pkt, len);
		wbuf_init(&w, out, sizeof(out));
		rc = eap_tls_server_process(s, pkt, len, &w);
		if (rc == EAP_TLS_DONE)
			abort();
		check_step(s, rc, out, wbuf_len(&w), id);
		if (rc == EAP_TLS_CONTINUE)
			id++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fixed f;
	struct eap_tls_config cfg = {
		.frag_size = FRAG, .max_msg = 2048, .max_rounds = 64, .at = 1893456000,
	};
	struct eap_tls_server *s;
	struct rbuf r;
	uint8_t mode, out[OUT_CAP];
	struct wbuf w;

	if (!f.tried)
		fixed_load(&f);
	rbuf_init(&r, data, size);
	if (rbuf_u8(&r, &mode))
		return 0;
	cfg.own = f.own;
	cfg.trust = f.trust;
	s = f.own && f.trust ? eap_tls_server_new(&cfg, 0x10) : NULL;
	wbuf_init(&w, out, sizeof(out));
	if (!s || eap_tls_server_start(s, &w) != 0) {
		const uint8_t *rec;
		uint16_t n;

		while (rbuf_u16(&r, &n) == 0 && rbuf_bytes(&r, n, &rec) == 0)
			roundtrip(rec, n);
		eap_tls_server_free(s);
		return 0;
	}
	drive(s, &f, &r, mode);
	eap_tls_server_free(s);
	return 0;
}
