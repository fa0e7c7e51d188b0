/* SPDX-License-Identifier: ISC */
/*
 * IKE_AUTH internals, shared by the ike_auth*.c files only (not a public header):
 *
 *   ike_auth.c          entry (ike_auth_recv), the first request, the response, refusals
 *   ike_auth_msg.c      what AUTH covers (RFC 7296 2.15), identities as text, our IDr
 *   ike_auth_profile.c  which profile a client gets, unique:, the PSK check
 *   ike_auth_cert.c     the client's certificate AUTH (chain + signature) as a job
 *   ike_auth_sign.c     our own AUTH (IDr, CERT, signature) as a job
 *   ike_auth_cp.c       the client's address (CP, RFC 7296 3.15)
 *   ike_auth_flow.c     longer authentications: the flow kept between requests, RFC 4739
 *                       rounds
 *   ike_auth_eap.c      the EAP conversation of a flow (2.16), AUTH with the MSK
 */
#ifndef IKEGW_IKE_AUTH_INT_H
#define IKEGW_IKE_AUTH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>

#include <openssl/x509.h>

#include "ikegw/codec.h"
#include "ikegw/config.h"
#include "ikegw/eap_session.h"
#include "ikegw/exchange.h"
#include "ikegw/jobs.h"

struct gw;
struct ike_sa;
struct suite_prf;
struct profile_facts;

#define AUTH_OCTETS_MAX (IKE_MSG_MAX + 256 + 64)
#define AUTH_MAX_CERTS 8
#define AUTH_REASON_MAX 512
#define AUTH_SIG_MAX 2048  /* our AUTH data: RSA-8192 and an AlgorithmIdentifier fit */
#define AUTH_ID_MAX 1024   /* our IDr data */

/* Everything learned about the client while processing one request. */
struct auth_ctx {
	struct ike_sa *sa;
	const struct ike_msg *m;
	const struct ike_payload *idi, *auth;
	X509 *leaf, *anchor;
	const char *method_name;
	char reason[AUTH_REASON_MAX];
};

/* ---- ike_auth_msg.c ---- */
const char *auth_prf_digest(const struct suite_prf *prf);
/* RFC 7296 2.15: <msg> | <nonce> | prf(SK_px, ID payload body), appended to out. */
int auth_octets(struct ike_sa *sa, const uint8_t *msg, size_t msg_len, const uint8_t *nonce,
		size_t nonce_len, const uint8_t *skp, const struct codec_view *id_body,
		struct wbuf *out);
/* InitiatorSignedOctets over this IDi body (2.15); free() the result, NULL on failure. */
uint8_t *auth_initiator_octets(struct ike_sa *sa, const struct codec_view *idi_body,
			       size_t *len);
/* ResponderSignedOctets over our IDr body: type, 3 reserved octets, data (2.15). */
int auth_responder_octets(struct ike_sa *sa, const struct codec_view *idr_body,
			  struct wbuf *out);
/* Our IDr payload body: *type and the data after the 4-octet header. */
int auth_our_id(struct gw *gw, uint8_t *type, uint8_t *data, size_t cap, size_t *len);
/* The IDi as text for logs and matching (sanitized or formatted). */
void auth_id_text(const struct ike_pl_id *id, char *out, size_t len);
void auth_peer_text(const struct ike_sa *sa, char *out, size_t len);
/* Record why the client is refused ("what: detail"); always -EACCES. */
int auth_fail(struct auth_ctx *a, const char *what, const char *detail);
/* A copy of a request's inner payloads (all of them, or those in keep[]), as a chain. */
struct auth_kept {
	uint8_t *buf;
	size_t len;
	uint8_t first;
};
int auth_keep(const struct ike_msg *m, const uint8_t *keep, size_t n_keep,
	      struct auth_kept *out);
/* The kept chain decoded again into a new message (free() it); NULL on failure. */
struct ike_msg *auth_kept_decode(const struct auth_kept *k);
void auth_kept_clear(struct auth_kept *k);

/* ---- ike_auth_profile.c ---- */
bool auth_method_is_eap(enum config_auth m);
const struct config_profile *auth_select_profile(const struct config *cfg,
						 const struct profile_facts *f, size_t rounds);
const struct config_profile *auth_select_eap_profile(const struct config *cfg,
						     const struct profile_facts *f);
/* unique: replace deletes the identity's other SAs; keep refuses the newcomer. */
bool auth_unique_ok(struct ike_sa *sa);
/* A PSK AUTH for profile p (NULL: choose one of rounds rounds); sets sa->profile. */
int auth_psk(struct auth_ctx *a, const struct config_profile *p, size_t rounds);
/* After a verified certificate (a->leaf, a->anchor): the profile; sets sa->profile. */
int auth_cert_profile(struct auth_ctx *a, const struct config_profile *p, size_t rounds);

/* ---- ike_auth.c: the response ---- */
typedef int auth_fill_fn(struct ike_sa *sa, const void *arg, struct codec_enc *e);
/* Our answer: the inner chain built by fill, encrypted and sent. */
int auth_respond_with(struct ike_sa *sa, auth_fill_fn *fill, const void *arg);
/* CP, then the Child SA of the request m (or a notify why not: the IKE SA stays). */
int auth_fill_child(struct ike_sa *sa, const struct ike_msg *m, struct codec_enc *e);
void auth_established(struct ike_sa *sa, const char *method);
void auth_log_failure(struct ike_sa *sa, const char *method, const char *reason);
void auth_refuse_sa(struct ike_sa *sa, const char *method, const char *reason,
		    const uint8_t *eap, size_t eap_len);
void auth_refuse(struct auth_ctx *a);
/* A job's SA again, by our SPI and its id; NULL when it went away meanwhile. */
struct ike_sa *auth_job_sa(struct gw *gw, uint64_t spi, uint32_t id);
/* The end of a job's done(): its SA, if still there and marked deleted, is freed (nobody
 * else will); by SPI and id, as a job submitted meanwhile may have freed it already. */
void auth_job_end(struct gw *gw, uint64_t spi, uint32_t id);
/* A certificate/PSK round is authenticated: answer (first round) or go on. */
void auth_first_round_ok(struct auth_ctx *a);

/* ---- ike_auth_cert.c ---- */
/* Submit the chain + signature check of a certificate AUTH; the exchange goes on in
 * its done() (the first round, or the next one of a flow).  Nothing to touch after. */
void auth_cert_submit(struct auth_ctx *a, size_t rounds);

/* ---- ike_auth_sign.c ---- */
/* Our signed AUTH (RFC 7296 2.15, RFC 7427 when the client announced hashes). */
struct cert_own;
struct auth_self {
	struct cert_own *own;      /* the sign job's reference: key signed with, chain sent */
	uint8_t id_type;
	uint8_t id[AUTH_ID_MAX];
	size_t id_len;
	uint8_t method;
	uint8_t sig[AUTH_SIG_MAX];
	size_t sig_len;
};
/* IDr, the CERTs of s->own (leaf first), AUTH into a response. */
void auth_self_encode(const struct auth_self *s, struct codec_enc *e);
/* What comes after our signature: the answer it goes into. */
enum auth_then {
	AUTH_THEN_FINAL,     /* the client is in: CP, Child SA (kept request) */
	AUTH_THEN_ROUND,     /* RFC 4739: the next round is the client's */
	AUTH_THEN_EAP,       /* RFC 7296 2.16: the first EAP request */
};
/* Sign our AUTH in a job, then answer.  kept (FINAL: the request; taken over) and eap
 * (EAP: the packet) say what goes with it; method names the client's for the log. */
void auth_sign_submit(struct ike_sa *sa, enum auth_then then, struct auth_kept *kept,
		      const uint8_t *eap, size_t eap_len, const char *method);

/* ---- ike_auth_cp.c ---- */
/* CFG_REQUEST: a lease and the CFG_REPLY; 0 or a notify type. */
int auth_assign_address(struct ike_sa *sa, const struct ike_msg *m, struct codec_enc *resp);

/* ---- ike_auth_flow.c ---- */
enum flow_stage {
	FLOW_EAP,        /* an EAP conversation runs */
	FLOW_EAP_AUTH,   /* EAP-Success sent: the client's AUTH (with the MSK) is next */
	FLOW_NEXT_ROUND, /* a round is done: the next one starts with an IDi */
};

#define FLOW_IDI_MAX 512

/* What a longer authentication keeps between requests, in the SA's EAP session. */
struct auth_flow {
	enum flow_stage stage;
	char method[24];           /* of the round in progress, for logs */
	char round_id[128];        /* this round's IDi as text: EAP's fallback identity */
	uint8_t idi[FLOW_IDI_MAX]; /* this round's IDi body: its AUTH covers it (2.15) */
	size_t idi_len;
	struct auth_kept first;    /* SA, TSi, TSr, CP, N of the first request, re-encoded */
	X509 *leaf, *anchor;       /* from a certificate round */
	char peer[INET6_ADDRSTRLEN]; /* RADIUS Calling-Station-Id (RFC 3579 2.6.2) */
	char ike_id[128];          /* the first IDi as text: what match.identity applies to */
	char methods[64];          /* "certificate+eap-radius", for the established line */
	struct eap_session_attrs attrs; /* of the RADIUS round */
};

struct auth_flow *auth_flow_of(const struct ike_sa *sa);
/* A new flow in a new EAP session of the SA (its half-open timer now ends the flow). */
struct auth_flow *auth_flow_start(struct ike_sa *sa, const struct ike_msg *m,
				  const struct ike_payload *idi);
/* The round in progress uses method name (logs, the established line). */
void auth_flow_add_method(struct auth_flow *f, const char *name);
/* A first round that is not the last (RFC 4739) starts a flow. */
void auth_flow_begin_rounds(struct auth_ctx *a);
void auth_flow_continue(struct ike_sa *sa, const struct ike_msg *m);
/* A round is authenticated (msk_auth: by EAP): the next one, or the end of the flow. */
void auth_flow_round_done(struct ike_sa *sa, const struct ike_msg *m, bool msk_auth);
/* A certificate round of a flow was verified in a job: go on. */
void auth_flow_cert_round_ok(struct auth_ctx *a);
/* The flow is over (established or refused): the session and what it kept go. */
void auth_flow_end(struct ike_sa *sa);
/* RADIUS Framed-IP-Address when it is in the pool (RFC 2865 5.8). */
bool auth_flow_framed_ip(struct ike_sa *sa, struct ip_addr *out);
/* Something we cannot do (memory, encoding): the SA goes, without a refusal line. */
void auth_flow_abort(struct ike_sa *sa, const char *why);

/* ---- ike_auth_eap.c ---- */
/* No AUTH in the first request: EAP for profile p (RFC 7296 2.16). */
void auth_flow_begin_eap(struct auth_ctx *a, const struct config_profile *p);
struct eap_session *auth_eap_session_new(struct ike_sa *sa, struct auth_flow *f);
/* A later round by EAP: its first request (a->auth must be absent). */
void auth_eap_round(struct ike_sa *sa, struct auth_ctx *a, enum config_auth method);
/* FLOW_EAP: the client's EAP packet; FLOW_EAP_AUTH: its AUTH with the MSK. */
void auth_eap_step(struct ike_sa *sa, const struct ike_msg *m);
void auth_eap_auth(struct ike_sa *sa, const struct ike_msg *m);
/* Our AUTH with the MSK (RFC 7296 2.16), as a payload, and as a whole answer's fill. */
int auth_msk_auth_encode(struct ike_sa *sa, struct codec_enc *e);
int auth_fill_msk_auth(struct ike_sa *sa, const void *arg, struct codec_enc *e);

#endif
