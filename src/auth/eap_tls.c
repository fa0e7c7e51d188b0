/* SPDX-License-Identifier: ISC */
/*
 * EAP-TLS server: RFC 5216 (framing, TLS 1.2 key derivation) and RFC 9190 (TLS 1.3).
 *
 * OpenSSL reads the peer's TLS bytes from one memory BIO and writes ours to another;
 * this file moves bytes between those BIOs and EAP-TLS packets, fragmenting ours and
 * reassembling the peer's (RFC 5216 3.1), and decides the outcome.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ikegw/eap_tls.h"

#define EAP_TLS_HDR_MAX (EAP_HDR_LEN + 1 + 1 + 4) /* EAP header, Type, Flags, Length */
#define KEYMAT_LEN (EAP_TLS_MSK_LEN + EAP_TLS_EMSK_LEN)
#define PEER_CHAIN_MAX 16     /* certificates we pass to cert_chain_verify */
#define OUT_MAX (64 * 1024)   /* our own flight; our chain is far smaller */
#define TEXT_MAX 256

/* RFC 5216 2.3 (TLS 1.2): PRF(master_secret, label, client.random || server.random). */
static const char label_tls12[] = "client EAP encryption";
/* RFC 9190 2.3 (TLS 1.3): TLS-Exporter(label, context = Type-Code, 128). */
static const char label_tls13[] = "EXPORTER_EAP_TLS_Key_Material";
static const uint8_t type_code = EAP_TYPE_TLS;

enum srv_state {
	ST_INIT,     /* created, Start not written */
	ST_RECV,     /* waiting for (the next fragment of) the peer's TLS message */
	ST_SEND,     /* our message has fragments left: waiting for the peer's ACK */
	ST_FINAL,    /* handshake done and all sent: waiting for the final empty Response */
	ST_DONE,
	ST_FAILED,
};

struct eap_tls_server {
	struct eap_tls_config cfg;   /* defaults filled in */
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *rbio, *wbio;            /* owned by ssl */
	enum srv_state state;
	uint8_t eap_id;              /* Identifier of the pending Request */
	unsigned rounds;
	bool in_active;              /* a fragmented peer message is being reassembled */
	uint32_t in_total;           /* its TLS Message Length */
	size_t in_got;               /* bytes of it already in rbio */
	uint8_t *obuf;               /* our pending TLS bytes */
	size_t olen, opos;
	bool hs_done;
	bool verified;               /* cert_chain_verify accepted the peer's chain */
	X509 *peer, *anchor;
	int version;
	uint8_t keymat[KEYMAT_LEN];  /* MSK | EMSK */
	char reason[EAP_TLS_REASON_MAX];
	char subject[TEXT_MAX];
	char san[TEXT_MAX];
};

/* ---- framing (RFC 5216 3.1) ----------------------------------------------- */

int eap_tls_decode(const struct eap_pkt *p, struct eap_tls_msg *m)
{
	struct rbuf r;

	if (!p || !m)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	if ((p->code != EAP_CODE_REQUEST && p->code != EAP_CODE_RESPONSE) ||
	    p->type != EAP_TYPE_TLS)
		return -EINVAL;
	rbuf_init(&r, p->data, p->data_len);
	if (rbuf_u8(&r, &m->flags))
		return -EBADMSG;
	m->has_len = (m->flags & EAP_TLS_FLAG_L) != 0;
	if (m->has_len && rbuf_u32(&r, &m->tls_len))
		return -EBADMSG;
	rbuf_rest(&r, &m->data, &m->data_len);
	return 0;
}

int eap_tls_encode(struct wbuf *w, uint8_t code, uint8_t id, uint8_t flags,
		   uint32_t tls_len, const uint8_t *data, size_t n)
{
	size_t start;

	if (!w || (!data && n) || (code != EAP_CODE_REQUEST && code != EAP_CODE_RESPONSE))
		return -EINVAL;
	start = eap_encode_begin(w, code, id, EAP_TYPE_TLS);
	wbuf_u8(w, flags);
	if (flags & EAP_TLS_FLAG_L)
		wbuf_u32(w, tls_len);
	if (n)
		wbuf_bytes(w, data, n);
	return eap_encode_end(w, start);
}

/* ---- outcome helpers -------------------------------------------------------- */

__attribute__((format(printf, 2, 3)))
static void reason_set(struct eap_tls_server *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->reason, sizeof(s->reason), fmt, ap);
	va_end(ap);
}

/*
 * End the conversation with EAP-Failure (RFC 3748 4.2: it carries the Identifier of
 * the Response it answers).  reason NULL keeps one already recorded.
 */
static int fail(struct eap_tls_server *s, struct wbuf *out, const char *reason)
{
	if (reason || !s->reason[0])
		reason_set(s, "%s", reason ? reason : "EAP-TLS failed");
	s->state = ST_FAILED;
	OPENSSL_cleanse(s->keymat, sizeof(s->keymat));
	ERR_clear_error();
	if (eap_encode_failure(out, s->eap_id) != 0)
		return -ENOSPC;
	return EAP_TLS_FAILED;
}

/* The handshake failed inside OpenSSL: keep the verifier's reason, else OpenSSL's. */
static int fail_tls(struct eap_tls_server *s, struct wbuf *out)
{
	unsigned long e = ERR_peek_last_error();
	const char *why = ERR_reason_error_string(e);

	if (s->reason[0])
		return fail(s, out, NULL);
	if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
	    ERR_GET_REASON(e) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
		reason_set(s, "client sent no certificate");
	else
		reason_set(s, "TLS handshake failed: %s", why ? why : "unknown error");
	return fail(s, out, NULL);
}

/* ---- client certificate: cert_chain_verify decides ------------------------ */

static void ders_free(struct cert_der *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		OPENSSL_free((void *)d[i].der);
}

static int der_add(struct cert_der *d, size_t *n, X509 *x)
{
	unsigned char *p = NULL;
	int len;

	if (*n == PEER_CHAIN_MAX)
		return -E2BIG;
	len = i2d_X509(x, &p);
	if (len <= 0)
		return -ENOMEM;
	d[*n].der = p;
	d[(*n)++].len = (size_t)len;
	return 0;
}

/* The leaf first, then whatever else the peer sent (cert_chain_verify sorts them). */
static int chain_collect(X509_STORE_CTX *xs, struct cert_der *d, size_t *n)
{
	X509 *leaf = X509_STORE_CTX_get0_cert(xs);
	STACK_OF(X509) *sk = X509_STORE_CTX_get0_untrusted(xs);
	int rc = leaf ? der_add(d, n, leaf) : -ENOENT;

	for (int i = 0; rc == 0 && sk && i < sk_X509_num(sk); i++) {
		X509 *x = sk_X509_value(sk, i);

		if (x != leaf)
			rc = der_add(d, n, x);
	}
	return rc;
}

/*
 * SSL_CTX_set_cert_verify_callback: replaces OpenSSL's own X509_verify_cert, so the
 * handshake-level check only hands us the chain; trust, CRLs, validity at cfg.at and
 * the leaf profile are cert_chain_verify's, the same as for IKE certificates.
 * Returning 0 fails the handshake.
 */
static int verify_chain_cb(X509_STORE_CTX *xs, void *arg)
{
	struct eap_tls_server *s = arg;
	struct cert_der d[PEER_CHAIN_MAX];
	struct cert_error err;
	size_t n = 0;
	int rc = chain_collect(xs, d, &n);

	X509_free(s->peer);
	X509_free(s->anchor);
	s->peer = s->anchor = NULL;
	if (rc == 0)
		rc = cert_chain_verify(s->cfg.trust, d, n, s->cfg.at, &s->peer, &s->anchor, &err);
	else
		snprintf(err.reason, sizeof(err.reason), "%s",
			 rc == -E2BIG ? "too many certificates" : "cannot read the chain");
	ders_free(d, n);
	if (rc != 0) {
		reason_set(s, "client certificate refused: %s", err.reason);
		X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	s->verified = true;
	X509_STORE_CTX_set_error(xs, X509_V_OK);
	return 1;
}

/* ---- TLS context ------------------------------------------------------------- */

static bool ctx_use_own(SSL_CTX *ctx, const struct cert_own *own)
{
	if (SSL_CTX_use_certificate(ctx, cert_own_leaf(own)) != 1)
		return false;
	for (size_t i = 1; i < cert_own_count(own); i++) {
		struct cert_der c = cert_own_der(own, i);
		const unsigned char *p = c.der;
		X509 *x = d2i_X509(NULL, &p, (long)c.len);

		if (!x || SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			X509_free(x);
			return false;
		}
	}
	return SSL_CTX_use_PrivateKey(ctx, cert_own_key(own)) == 1 &&
	       SSL_CTX_check_private_key(ctx) == 1;
}

static SSL_CTX *ctx_new(struct eap_tls_server *s)
{
	static const unsigned char sid_ctx[] = "ikegw eap-tls";
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	bool ok = ctx != NULL;

	/* TLS 1.2 and 1.3 only; no resumption (no tickets, no cache, RFC 9190 2.1.2). */
	ok = ok && SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 &&
	     SSL_CTX_set_max_proto_version(ctx, s->cfg.max_version) == 1 &&
	     SSL_CTX_set_num_tickets(ctx, 0) == 1 &&
	     SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1) == 1 &&
	     ctx_use_own(ctx, s->cfg.own);
	if (!ok) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
				 SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, verify_chain_cb, s);
	return ctx;
}

static bool ssl_setup(struct eap_tls_server *s)
{
	BIO *r = BIO_new(BIO_s_mem()), *w = BIO_new(BIO_s_mem());

	s->ssl = SSL_new(s->ctx);
	if (!s->ssl || !r || !w) {
		BIO_free(r);
		BIO_free(w);
		return false;
	}
	SSL_set_bio(s->ssl, r, w); /* ssl owns both from here */
	s->rbio = r;
	s->wbio = w;
	SSL_set_accept_state(s->ssl);
	return true;
}

static bool config_fill(struct eap_tls_config *c)
{
	if (!c->own || !c->trust)
		return false;
	if (c->frag_size == 0)
		c->frag_size = EAP_TLS_FRAG_DEFAULT;
	if (c->max_msg == 0)
		c->max_msg = EAP_TLS_MSG_MAX_DEFAULT;
	if (c->max_rounds == 0)
		c->max_rounds = EAP_TLS_ROUNDS_DEFAULT;
	if (c->max_version == 0)
		c->max_version = TLS1_3_VERSION;
	return c->frag_size >= EAP_TLS_FRAG_MIN &&
	       c->frag_size <= EAP_MAX_LEN - EAP_TLS_HDR_MAX && c->max_msg <= UINT32_MAX &&
	       (c->max_version == TLS1_2_VERSION || c->max_version == TLS1_3_VERSION);
}

struct eap_tls_server *eap_tls_server_new(const struct eap_tls_config *cfg, uint8_t eap_id)
{
	struct eap_tls_server *s;

	if (!cfg || !(s = calloc(1, sizeof(*s))))
		return NULL;
	s->cfg = *cfg;
	s->cfg.trust = cert_store_up_ref(cfg->trust); /* a reload may drop the caller's */
	s->eap_id = eap_id;
	if (!config_fill(&s->cfg) || !(s->ctx = ctx_new(s)) || !ssl_setup(s)) {
		ERR_clear_error();
		eap_tls_server_free(s);
		return NULL;
	}
	return s;
}

void eap_tls_server_free(struct eap_tls_server *s)
{
	if (!s)
		return;
	SSL_free(s->ssl);
	SSL_CTX_free(s->ctx);
	X509_free(s->peer);
	X509_free(s->anchor);
	cert_store_free(s->cfg.trust);
	free(s->obuf);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

/* ---- sending ------------------------------------------------------------------ */

int eap_tls_server_start(struct eap_tls_server *s, struct wbuf *out)
{
	int rc;

	if (!s || !out || s->state != ST_INIT)
		return -EINVAL;
	/* RFC 5216 3.1: the Start has S set and no TLS data. */
	rc = eap_tls_encode(out, EAP_CODE_REQUEST, s->eap_id, EAP_TLS_FLAG_S, 0, NULL, 0);
	if (rc == 0)
		s->state = ST_RECV;
	return rc;
}

/* Move what OpenSSL wrote into obuf (bounded). */
static int output_take(struct eap_tls_server *s)
{
	size_t n = BIO_ctrl_pending(s->wbio);

	free(s->obuf);
	s->obuf = NULL;
	s->olen = s->opos = 0;
	if (n == 0)
		return 0;
	if (n > OUT_MAX || !(s->obuf = malloc(n)))
		return -ENOMEM;
	if (BIO_read(s->wbio, s->obuf, (int)n) != (int)n)
		return -EIO;
	s->olen = n;
	return 0;
}

/*
 * The next fragment of obuf as a new Request.  RFC 5216 3.1: L (with the total) on
 * the first fragment, also when it is the only one, as most servers do; M while
 * more follow.
 */
static int send_next(struct eap_tls_server *s, struct wbuf *out)
{
	size_t n = s->olen - s->opos;
	uint8_t flags = s->opos == 0 ? EAP_TLS_FLAG_L : 0;
	struct rbuf r;
	const uint8_t *p;

	if (n > s->cfg.frag_size) {
		n = s->cfg.frag_size;
		flags |= EAP_TLS_FLAG_M;
	}
	rbuf_init(&r, s->obuf, s->olen);
	if (rbuf_skip(&r, s->opos) || rbuf_bytes(&r, n, &p))
		return -EIO;
	if (eap_tls_encode(out, EAP_CODE_REQUEST, (uint8_t)(s->eap_id + 1), flags,
			   (uint32_t)s->olen, p, n) != 0)
		return -ENOSPC;
	s->eap_id++;
	s->opos += n;
	if (s->opos < s->olen) {
		s->state = ST_SEND;
	} else {
		free(s->obuf);
		s->obuf = NULL;
		s->olen = s->opos = 0;
		s->state = s->hs_done ? ST_FINAL : ST_RECV;
	}
	return EAP_TLS_CONTINUE;
}

/* RFC 5216 3.1: acknowledge a peer fragment with an empty Request. */
static int send_ack(struct eap_tls_server *s, struct wbuf *out)
{
	if (eap_tls_encode(out, EAP_CODE_REQUEST, (uint8_t)(s->eap_id + 1), 0, 0, NULL, 0))
		return -ENOSPC;
	s->eap_id++;
	return EAP_TLS_CONTINUE;
}

/* ---- the handshake ------------------------------------------------------------- */

static int keys_export(struct eap_tls_server *s)
{
	int ok;

	if (s->version == TLS1_3_VERSION)
		ok = SSL_export_keying_material(s->ssl, s->keymat, KEYMAT_LEN, label_tls13,
						sizeof(label_tls13) - 1, &type_code, 1, 1);
	else
		ok = SSL_export_keying_material(s->ssl, s->keymat, KEYMAT_LEN, label_tls12,
						sizeof(label_tls12) - 1, NULL, 0, 0);
	return ok == 1 ? 0 : -EIO;
}

/* Copy an ASN1 string for a log line: printable ASCII kept, anything else '?'. */
static void text_copy(char *dst, size_t cap, const ASN1_STRING *a)
{
	struct rbuf r;
	uint8_t c;
	size_t n = 0;

	rbuf_init(&r, ASN1_STRING_get0_data(a), (size_t)ASN1_STRING_length(a));
	while (n + 1 < cap && rbuf_u8(&r, &c) == 0)
		dst[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	dst[n] = '\0';
}

static bool san_format(const GENERAL_NAME *g, char *dst, size_t cap)
{
	int type;
	const ASN1_STRING *a = GENERAL_NAME_get0_value(g, &type);
	int len = a ? ASN1_STRING_length(a) : 0;

	if (!a)
		return false;
	if (type == GEN_EMAIL || type == GEN_DNS) {
		text_copy(dst, cap, a);
		return true;
	}
	if (type == GEN_IPADD && (len == 4 || len == 16))
		return inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(a), dst,
				 (socklen_t)cap) != NULL;
	return false;
}

static void identity_fill(struct eap_tls_server *s)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(s->peer, NID_subject_alt_name, NULL, NULL);

	cert_subject_text(s->peer, s->subject, sizeof(s->subject));
	s->san[0] = '\0';
	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++)
		if (san_format(sk_GENERAL_NAME_value(gens, i), s->san, sizeof(s->san)))
			break;
	GENERAL_NAMES_free(gens);
	ERR_clear_error();
}

static int on_handshake_done(struct eap_tls_server *s, struct wbuf *out)
{
	static const uint8_t success_indication = 0x00;

	if (!s->verified || !s->peer)
		return fail(s, out, "client certificate was not verified");
	s->version = SSL_version(s->ssl);
	if (keys_export(s) != 0)
		return fail(s, out, "cannot derive the EAP-TLS key material");
	/* RFC 9190 2.5: one octet 0x00 of application data, the protected success
	 * indication, tells the peer no more handshake messages will follow. */
	if (s->version == TLS1_3_VERSION && SSL_write(s->ssl, &success_indication, 1) != 1)
		return fail_tls(s, out);
	s->hs_done = true;
	if (output_take(s) != 0 || s->olen == 0)
		return fail(s, out, "TLS produced no final message");
	identity_fill(s);
	return send_next(s, out);
}

static int handshake_step(struct eap_tls_server *s, struct wbuf *out)
{
	int r = SSL_do_handshake(s->ssl);

	if (r == 1)
		return on_handshake_done(s, out);
	if (SSL_get_error(s->ssl, r) != SSL_ERROR_WANT_READ)
		return fail_tls(s, out);
	if (output_take(s) != 0)
		return fail(s, out, "cannot buffer our TLS message");
	/* A whole peer message that moves nothing would leave both sides waiting. */
	if (s->olen == 0)
		return fail(s, out, "incomplete TLS message from the peer");
	return send_next(s, out);
}

/* ---- receiving ------------------------------------------------------------------ */

/* RFC 5216 3.1 reassembly into rbio; NULL, or why the fragment is refused. */
static const char *reasm_add(struct eap_tls_server *s, const struct eap_tls_msg *m)
{
	bool more = (m->flags & EAP_TLS_FLAG_M) != 0;

	if (m->flags & EAP_TLS_FLAG_S)
		return "S flag in a Response";
	if (!s->in_active) {
		if (more && !m->has_len)
			return "first fragment without the L flag";
		s->in_total = m->has_len ? m->tls_len : (uint32_t)m->data_len;
		if (s->in_total > s->cfg.max_msg)
			return "oversized EAP-TLS message";
		s->in_got = 0;
		s->in_active = true;
	} else if (m->has_len && m->tls_len != s->in_total) {
		return "TLS Message Length changed between fragments";
	}
	if (m->data_len > s->in_total - s->in_got)
		return "more TLS data than the TLS Message Length";
	if (more && (m->data_len == 0 || s->in_got + m->data_len == s->in_total))
		return "M flag without more data to come";
	if (!more && s->in_got + m->data_len != s->in_total)
		return "TLS Message Length does not match the data received";
	if (m->data_len &&
	    BIO_write(s->rbio, m->data, (int)m->data_len) != (int)m->data_len)
		return "out of memory";
	s->in_got += m->data_len;
	return NULL;
}

static int on_fragment(struct eap_tls_server *s, const struct eap_tls_msg *m,
		       struct wbuf *out)
{
	const char *bad = reasm_add(s, m);

	if (bad)
		return fail(s, out, bad);
	if (m->flags & EAP_TLS_FLAG_M)
		return send_ack(s, out);
	s->in_active = false;
	if (s->in_got == 0)
		return fail(s, out, "peer sent no TLS data");
	return handshake_step(s, out);
}

/* RFC 5216 3.1: while our fragments are pending, the peer only acknowledges. */
static bool is_ack(const struct eap_tls_msg *m)
{
	return !(m->flags & (EAP_TLS_FLAG_L | EAP_TLS_FLAG_M | EAP_TLS_FLAG_S)) &&
	       m->data_len == 0;
}

/* RFC 5216 2.1.1 / RFC 9190 2.1.1: the peer's empty Response ends the conversation. */
static int on_final(struct eap_tls_server *s, const struct eap_tls_msg *m, struct wbuf *out)
{
	if (!is_ack(m))
		return fail(s, out, "peer sent data instead of the final acknowledgement");
	if (eap_encode_success(out, s->eap_id) != 0)
		return -ENOSPC;
	s->state = ST_DONE;
	return EAP_TLS_DONE;
}

/* A Response with our pending Identifier, or -EBADMSG; -EPROTO when none is pending. */
static int response_check(const struct eap_tls_server *s, const struct eap_pkt *e,
			  const struct wbuf *out)
{
	if (e->code != EAP_CODE_RESPONSE || e->id != s->eap_id)
		return -EBADMSG;
	if (s->state != ST_RECV && s->state != ST_SEND && s->state != ST_FINAL)
		return -EPROTO;
	if (e->type != EAP_TYPE_TLS && e->type != EAP_TYPE_NAK)
		return -EBADMSG;
	/* Room for our biggest Request, checked before any state changes. */
	if (out->overflow || out->cap - out->len < s->cfg.frag_size + EAP_TLS_HDR_MAX)
		return -ENOSPC;
	return 0;
}

int eap_tls_server_process(struct eap_tls_server *s, const uint8_t *eap_pkt, size_t len,
			   struct wbuf *out)
{
	struct eap_pkt e;
	struct eap_tls_msg m;
	int rc;

	if (!s || !out)
		return -EINVAL;
	if (eap_decode(eap_pkt, len, &e) != 0)
		return -EBADMSG;
	if ((rc = response_check(s, &e, out)) != 0)
		return rc;
	if (e.type == EAP_TYPE_NAK) /* RFC 3748 5.3.1: the peer refuses the method */
		return fail(s, out, "peer refused EAP-TLS (Nak)");
	if (eap_tls_decode(&e, &m) != 0)
		return -EBADMSG;
	if (++s->rounds > s->cfg.max_rounds)
		return fail(s, out, "too many EAP-TLS round trips");
	ERR_clear_error(); /* so a failure reports its own OpenSSL reason */
	switch (s->state) {
	case ST_SEND:
		return is_ack(&m) ? send_next(s, out)
				  : fail(s, out, "expected an acknowledgement of our fragment");
	case ST_FINAL:
		return on_final(s, &m, out);
	default:
		return on_fragment(s, &m, out);
	}
}

/* ---- results ---------------------------------------------------------------------- */

int eap_tls_server_msk(const struct eap_tls_server *s, uint8_t out[EAP_TLS_MSK_LEN])
{
	if (!s || !out)
		return -EINVAL;
	if (s->state != ST_DONE)
		return -EAGAIN;
	memcpy(out, s->keymat, EAP_TLS_MSK_LEN);
	return 0;
}

int eap_tls_server_emsk(const struct eap_tls_server *s, uint8_t out[EAP_TLS_EMSK_LEN])
{
	if (!s || !out)
		return -EINVAL;
	if (s->state != ST_DONE)
		return -EAGAIN;
	memcpy(out, s->keymat + EAP_TLS_MSK_LEN, EAP_TLS_EMSK_LEN);
	return 0;
}

const char *eap_tls_server_reason(const struct eap_tls_server *s)
{
	return s ? s->reason : "";
}

const char *eap_tls_server_subject(const struct eap_tls_server *s)
{
	return s && s->state == ST_DONE ? s->subject : "";
}

const char *eap_tls_server_san(const struct eap_tls_server *s)
{
	return s && s->state == ST_DONE ? s->san : "";
}

X509 *eap_tls_server_peer_cert(const struct eap_tls_server *s)
{
	return s && s->state == ST_DONE ? s->peer : NULL;
}

X509 *eap_tls_server_peer_ca(const struct eap_tls_server *s)
{
	return s && s->state == ST_DONE ? s->anchor : NULL;
}

int eap_tls_server_version(const struct eap_tls_server *s)
{
	return s && s->state == ST_DONE ? s->version : 0;
}
