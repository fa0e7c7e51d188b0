/* SPDX-License-Identifier: ISC */
/*
 * A small IKEv2 initiator (RFC 7296 1.2-1.4) built on ikegw's own codec, crypto and auth
 * modules: enough of a road-warrior client to drive the responder in-process (the
 * exchange tests) or over UDP (a load generator).  No sockets, no cmocka, no globals:
 * every builder writes one datagram into the caller's wbuf, every parser reads one the
 * caller received.  Options exist to misbehave on purpose (omit the nonce, add an
 * unknown critical payload, tamper with AUTH), because that is what tests need.
 *
 * Life of a client:
 *   ikei_init(&c, suite, &local, &gw_addr);
 *   ikei_sa_init_build(&c, &init_opts, &w);        send; receive resp
 *   ikei_sa_init_process(&c, resp, len, m);         0: keys derived; >0: a notify only
 *   ikei_auth_build(&c, &auth_opts, &w);            send; receive resp
 *   ikei_decrypt(&c, resp, len, m, plain, cap);     the inner payloads, in m
 *   ikei_verify_responder(&c, m, NULL);             the gateway's AUTH (RFC 7296 2.15)
 *   ikei_child_keys(&c, m, &keys);                  the ESP keys both sides derived
 *   ikei_info_build(&c, &info_opts, &w);            liveness / Delete
 *   ikei_fini(&c);
 *
 * The SA lifecycle (RFC 7296 1.3, 2.8, 2.18), both ways:
 *   ikei_rekey_child_build / ikei_rekey_child_keys  we rekey a Child SA, or ask for one more
 *   ikei_rekey_child_answer                         the gateway rekeys it, we answer
 *   ikei_rekey_ike_build / ikei_rekey_ike_process   we rekey the IKE SA into *next
 *   ikei_rekey_ike_answer                           the gateway rekeys it, we answer
 *   ikei_response_build                             any answer to the gateway's request
 */
#ifndef IKEGW_TEST_IKE_INITIATOR_H
#define IKEGW_TEST_IKE_INITIATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/x509.h>

#include "ikegw/buf.h"
#include "ikegw/codec.h"
#include "ikegw/keymat.h"
#include "ikegw/proposal.h"
#include "ikegw/suite.h"

#define IKEI_MSG_MAX 16384
#define IKEI_NONCE_LEN 32 /* default Ni length */

struct ke_key;
struct cert_own;

struct ikei {
	const struct crypto_suite *suite;
	struct sockaddr_storage local, peer; /* ours and the responder's, for NAT-D */
	uint64_t spi_i, spi_r;               /* wire bytes in network order, as the codec */
	uint8_t ni[CODEC_NONCE_MAX], nr[CODEC_NONCE_MAX];
	size_t ni_len, nr_len;
	struct ke_key *ke;
	/* The IKE proposal the responder chose, as suite entries. */
	const struct suite_encr *encr;
	const struct suite_integ *integ; /* NULL with an AEAD */
	const struct suite_prf *prf;
	uint16_t ke_group;
	struct ike_keys *keys;
	/* RFC 7296 2.15: AUTH signs these. */
	uint8_t *msg1, *msg2; /* our last IKE_SA_INIT request, the responder's answer */
	size_t msg1_len, msg2_len;
	uint32_t next_msg_id; /* of our next request; builders use and increment it */
	uint64_t tx_iv;       /* AEAD IV counter for what we send */
	uint32_t esp_spi;     /* our inbound ESP SPI, offered in IKE_AUTH */
	bool orig_resp;       /* the gateway rekeyed the IKE SA: it is the original initiator */
	uint8_t cni[32];      /* our nonce of the last rekey we asked for */
	struct ke_key *cke;   /* and its key exchange, when there was one */
};

/* Random SPIi and ESP SPI; local/peer are copied (NULL: 0.0.0.0:0). */
int ikei_init(struct ikei *c, const struct crypto_suite *s, const struct sockaddr_storage *local,
	      const struct sockaddr_storage *peer);
/* Frees and wipes everything the client holds; c can be ikei_init'ed again. */
void ikei_fini(struct ikei *c);

/* A strongSwan-style proposal string ("aes256gcm16-prfsha384-x25519"), legacy allowed. */
int ikei_proposal(const char *s, uint8_t protocol, struct ike_proposal *out);

struct ikei_sa_init_opts {
	const struct ike_proposal *props; /* IKE proposals, in our order */
	size_t n_props;
	uint16_t ke_group;             /* the KE payload's group (a fresh key if it changed) */
	const uint8_t *nonce;          /* NULL: keep the previous Ni, or 32 random bytes */
	size_t nonce_len;
	bool no_nonce;                 /* misbehave: leave the Nonce payload out */
	const uint8_t *cookie;         /* RFC 7296 2.6: N(COOKIE) echoed as the first payload */
	size_t cookie_len;
	bool nat_d;                    /* NAT_DETECTION_SOURCE_IP / _DESTINATION_IP */
	bool sig_hash;                 /* SIGNATURE_HASH_ALGORITHMS (RFC 7427 4) */
	uint8_t critical_type;         /* misbehave: an empty payload of this type, critical */
};

/* Our IKE_SA_INIT request (message ID 0, SPIr 0); remembered as msg1. */
int ikei_sa_init_build(struct ikei *c, const struct ikei_sa_init_opts *o, struct wbuf *out);

/*
 * The responder's IKE_SA_INIT answer, decoded into m (views into msg).  0: SA, KE and
 * Nr taken, keys derived, msg2 kept.  > 0: no SA but a notify: the first error notify
 * or COOKIE type is returned (read its data with codec_msg_notify(m, type)).  < 0:
 * malformed (-EBADMSG), not the answer to our request (-EPROTO), crypto failure.
 */
int ikei_sa_init_process(struct ikei *c, const uint8_t *msg, size_t len, struct ike_msg *m);

struct ikei_auth_opts {
	uint8_t id_type;           /* IKEV2_ID_* */
	const uint8_t *id;
	size_t id_len;
	const char *idr;           /* optional IDr (FQDN) */
	/* PSK authentication when psk is set, else a signature with cred (RFC 7427). */
	const uint8_t *psk;
	size_t psk_len;
	const struct cert_own *cred;
	int sig_hash;              /* IKEV2_HASH_*; 0: SHA2-256 (IDENTITY for Ed25519) */
	bool rsa_pss;
	bool tamper_auth;          /* misbehave: flip a bit in the AUTH value */
	bool cp;                   /* CP(CFG_REQUEST): IP4 address, netmask, DNS */
	const struct ike_proposal *esp; /* ESP proposals (SPI set here); NULL: childless */
	size_t n_esp;
	const struct ike_ts *tsi, *tsr; /* NULL: 0.0.0.0-255.255.255.255 each */
	size_t n_tsi, n_tsr;
	uint8_t critical_type;     /* misbehave: an empty critical payload of this type */
};

/* Our IKE_AUTH request, encrypted with SK_ei under the next message ID. */
int ikei_auth_build(struct ikei *c, const struct ikei_auth_opts *o, struct wbuf *out);

/* Any encrypted request: the inner chain (first type: first) under the next message ID. */
int ikei_request_build(struct ikei *c, uint8_t exchange, const uint8_t *inner, size_t inner_len,
		       uint8_t first, struct wbuf *out);

struct ikei_info_opts {
	bool delete_ike;
	const uint32_t *esp_spis; /* Delete ESP of these (our inbound SPIs) */
	size_t n_esp;
};

/* An INFORMATIONAL request: empty (liveness), Delete IKE and/or Delete ESP. */
int ikei_info_build(struct ikei *c, const struct ikei_info_opts *o, struct wbuf *out);

/*
 * Decode an encrypted message from the responder (a response, or its own request),
 * check its SPIs, decrypt with SK_er, decode the inner chain into m and check the
 * payload rules.  plain (cap >= len) holds the plaintext m points into.
 * -EBADMSG malformed, -EPROTO not for this SA, -EACCES integrity failure.
 */
int ikei_decrypt(struct ikei *c, const uint8_t *msg, size_t len, struct ike_msg *m,
		 uint8_t *plain, size_t cap);

/*
 * RFC 7296 2.15: verify the AUTH of a decrypted IKE_AUTH response, over msg2 | Ni |
 * prf(SK_pr, IDr'), with the public key of its first CERT payload.  *leaf (may be
 * NULL) gets that certificate (X509_free it).  0, -ENOENT (payload missing),
 * -EBADMSG (certificate does not parse), or sig_verify()'s error.
 */
int ikei_verify_responder(struct ikei *c, const struct ike_msg *m, X509 **leaf);

/*
 * RFC 7296 2.17: the Child SA keys of a decrypted IKE_AUTH response (its SA payload
 * chose the ESP transforms); *spi_r (may be NULL) gets the responder's ESP SPI.
 */
int ikei_child_keys(struct ikei *c, const struct ike_msg *m, struct child_keys *out,
		    uint32_t *spi_r);

/* An encrypted response to the gateway's request msg_id (our keys and flags by role). */
int ikei_response_build(struct ikei *c, uint8_t exchange, uint32_t msg_id, const uint8_t *inner,
			size_t inner_len, uint8_t first, struct wbuf *out);

struct ikei_child_opts {
	const struct ike_proposal *esp; /* our proposal (no SPI needed) */
	uint16_t ke_group;              /* PFS: a KE transform and payload of this group */
	uint32_t old_spi;               /* REKEY_SA: our inbound SPI of the SA; 0: none */
	uint32_t new_spi;               /* our inbound SPI of the new SA */
	const uint8_t *nonce;           /* 32 octets; NULL: random */
	const struct ike_ts *tsi, *tsr; /* NULL: 0.0.0.0-255.255.255.255 each */
	size_t n_tsi, n_tsr;
};

/* CREATE_CHILD_SA rekeying a Child SA (1.3.3) or, without old_spi, asking for a further
 * one (1.3.1); TSi/TSr as in the options. */
int ikei_rekey_child_build(struct ikei *c, const struct ikei_child_opts *o, struct wbuf *out);
/* The new Child SA's keys from the decrypted answer (2.17), with our stored nonce/KE. */
int ikei_rekey_child_keys(struct ikei *c, const struct ike_msg *m, struct child_keys *out,
			  uint32_t *spi_r);
/*
 * Answer the gateway's Child SA rekey request req: accept its proposal with new_spi, our
 * nonce (NULL: random), a KE when it asked for PFS, its TS echoed.  *keys (may be NULL)
 * gets the new pair's keys; *spi_gw its inbound SPI.
 */
int ikei_rekey_child_answer(struct ikei *c, const struct ike_msg *req, uint32_t new_spi,
			    const uint8_t *nonce, struct wbuf *out, struct child_keys *keys,
			    uint32_t *spi_gw);

/* CREATE_CHILD_SA rekeying the IKE SA (2.18): *next gets the new SA's SPI, nonce, KE. */
int ikei_rekey_ike_build(struct ikei *c, struct ikei *next, struct wbuf *out);
/* The same with our nonce chosen (32 octets; NULL: random), for the collision rule. */
int ikei_rekey_ike_build_nonce(struct ikei *c, struct ikei *next, const uint8_t *nonce,
			       struct wbuf *out);
/* The answer: *next gets the responder's SPI and the new keys from c's SK_d. */
int ikei_rekey_ike_process(struct ikei *c, struct ikei *next, const struct ike_msg *m);
/* The gateway rekeys: answer req on c; *next becomes the new SA (we are its responder). */
int ikei_rekey_ike_answer(struct ikei *c, struct ikei *next, const struct ike_msg *req,
			  struct wbuf *out);
/* The same with our nonce chosen (32 octets; NULL: random). */
int ikei_rekey_ike_answer_nonce(struct ikei *c, struct ikei *next, const struct ike_msg *req,
				const uint8_t *nonce, struct wbuf *out);

/* RFC 7296 2.23: SHA-1(SPIi | SPIr | address | port). */
int ikei_nat_hash(const struct crypto_suite *s, uint64_t spi_i, uint64_t spi_r,
		  const struct sockaddr_storage *a, uint8_t out[20]);

#endif
