/* SPDX-License-Identifier: ISC */
/*
 * EAP-TLS, the server (authenticator) side: RFC 5216 for TLS 1.2, RFC 9190 for
 * TLS 1.3.  OpenSSL runs the TLS handshake over a pair of memory BIOs, so the method
 * is driven by EAP packets alone and never touches a socket.
 *
 * The client certificate is verified exactly like an IKE certificate: OpenSSL only
 * delivers the chain the peer sent, and cert_chain_verify() (trust.ca, trust.crl,
 * the IKE client EKU/keyUsage rules, the given verification time) decides.
 *
 * A conversation:
 *   srv = eap_tls_server_new(&cfg, id);  eap_tls_server_start(srv, out)  -> TLS-Start
 *   for each EAP Response: eap_tls_server_process(srv, pkt, len, out)
 *     CONTINUE: send the EAP-Request in out;  DONE: send the EAP-Success in out,
 *     eap_tls_server_msk() is ready;  FAILED: send the EAP-Failure in out and log
 *     eap_tls_server_reason();  negative errno: drop the packet, nothing changed.
 */
#ifndef IKEGW_EAP_TLS_H
#define IKEGW_EAP_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "ikegw/buf.h"
#include "ikegw/cert.h"
#include "ikegw/eap.h"

/* RFC 5216 3.1: the Flags octet. */
#define EAP_TLS_FLAG_L 0x80 /* TLS Message Length included */
#define EAP_TLS_FLAG_M 0x40 /* more fragments follow */
#define EAP_TLS_FLAG_S 0x20 /* EAP-TLS Start */

#define EAP_TLS_MSK_LEN 64
#define EAP_TLS_EMSK_LEN 64
#define EAP_TLS_FRAG_DEFAULT 1000      /* TLS bytes per EAP-TLS packet we send */
#define EAP_TLS_FRAG_MIN 16
#define EAP_TLS_MSG_MAX_DEFAULT 65536  /* bound on a reassembled peer message */
#define EAP_TLS_ROUNDS_DEFAULT 128     /* EAP round trips before we give up */
#define EAP_TLS_REASON_MAX 256

/* One EAP-TLS packet's Type-Data, decoded; data borrows from the packet. */
struct eap_tls_msg {
	uint8_t flags;       /* EAP_TLS_FLAG_*; reserved bits as received */
	bool has_len;        /* L was set */
	uint32_t tls_len;    /* TLS Message Length when has_len */
	const uint8_t *data; /* TLS data of this fragment (may be empty) */
	size_t data_len;
};

/*
 * Decode an EAP-TLS Request or Response (Type 13).  0, -EINVAL (not EAP-TLS),
 * -EBADMSG (no Flags octet, L set without room for the length).
 */
int eap_tls_decode(const struct eap_pkt *p, struct eap_tls_msg *m);

/*
 * Encode one EAP-TLS packet; tls_len is written only when flags has L.  0, -EINVAL,
 * -ENOSPC (w stays in overflow).
 */
int eap_tls_encode(struct wbuf *w, uint8_t code, uint8_t id, uint8_t flags,
		   uint32_t tls_len, const uint8_t *data, size_t n);

struct eap_tls_config {
	const struct cert_own *own;     /* our chain and key (borrowed, must outlive) */
	struct cert_store *trust;       /* trust.ca + trust.crl (the server takes a reference) */
	time_t at;                      /* verification time (the loop's wall clock) */
	size_t frag_size;               /* 0: EAP_TLS_FRAG_DEFAULT; >= EAP_TLS_FRAG_MIN */
	size_t max_msg;                 /* 0: EAP_TLS_MSG_MAX_DEFAULT */
	unsigned max_rounds;            /* 0: EAP_TLS_ROUNDS_DEFAULT */
	int max_version;                /* 0: TLS 1.3; TLS1_2_VERSION to cap at 1.2 */
};

enum eap_tls_result {
	EAP_TLS_CONTINUE = 0, /* send the EAP-Request written to out */
	EAP_TLS_DONE = 1,     /* authenticated: send the EAP-Success in out */
	EAP_TLS_FAILED = 2,   /* refused: send the EAP-Failure in out */
};

struct eap_tls_server;

/*
 * eap_id is the Identifier of the TLS-Start Request; each later Request takes the
 * next one.  NULL on a bad config or when OpenSSL cannot set up (out of memory, a
 * key it refuses).
 */
struct eap_tls_server *eap_tls_server_new(const struct eap_tls_config *cfg, uint8_t eap_id);
void eap_tls_server_free(struct eap_tls_server *s);

/* Write the EAP-TLS Start Request (S flag, no data).  0 or negative errno. */
int eap_tls_server_start(struct eap_tls_server *s, struct wbuf *out);

/*
 * Process one EAP packet from the peer (the EAP payload's bytes, exactly).  Returns
 * enum eap_tls_result, or a negative errno when the packet is dropped: -EBADMSG (not
 * a Response with the pending Identifier, malformed EAP, not EAP-TLS or Nak),
 * -EPROTO (nothing pending: not started, or finished), -ENOSPC (out has less room
 * than frag_size + 10, checked before anything changes).
 */
int eap_tls_server_process(struct eap_tls_server *s, const uint8_t *eap_pkt, size_t len,
			   struct wbuf *out);

/* After DONE: the MSK (RFC 5216 2.3 / RFC 9190 2.3) (0), else -EAGAIN. */
int eap_tls_server_msk(const struct eap_tls_server *s, uint8_t out[EAP_TLS_MSK_LEN]);
/* After DONE: the EMSK, the next 64 octets of the same key material. */
int eap_tls_server_emsk(const struct eap_tls_server *s, uint8_t out[EAP_TLS_EMSK_LEN]);

/* Why FAILED (or "" while nothing failed); always a NUL-terminated string. */
const char *eap_tls_server_reason(const struct eap_tls_server *s);

/* After DONE: the client's subject DN, "C=XX, O=Org, CN=name"; else "". */
const char *eap_tls_server_subject(const struct eap_tls_server *s);
/* After DONE: its first email / DNS / IP subjectAltName as text; "" if none. */
const char *eap_tls_server_san(const struct eap_tls_server *s);
/* After DONE: the verified leaf and the CA that anchors it (borrowed), else NULL. */
X509 *eap_tls_server_peer_cert(const struct eap_tls_server *s);
X509 *eap_tls_server_peer_ca(const struct eap_tls_server *s);
/* After DONE: the negotiated version (TLS1_2_VERSION, TLS1_3_VERSION), else 0. */
int eap_tls_server_version(const struct eap_tls_server *s);

#endif
