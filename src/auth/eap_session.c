/* SPDX-License-Identifier: ISC */
/*
 * One IKE SA's EAP conversation (RFC 7296 2.16, RFC 3748): Identity, one method,
 * Success or Failure, the MSK.  The methods are adapters at the bottom of this file
 * behind struct eap_method; the codecs and state machines they drive live in
 * mschapv2.c, eap_tls.c, radius.c and radius_client.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ikegw/eap.h"
#include "ikegw/eap_session.h"
#include "ikegw/eap_tls.h"
#include "ikegw/radius.h"
#include "ikegw/radius_client.h"

#define RELAY_FRAMED_MTU 1400 /* RFC 3579 2.4: EAP packets the server may send us */

enum sess_state {
	S_IDLE,     /* no conversation (new, or the last one ended) */
	S_IDENTITY, /* Identity Request sent */
	S_METHOD,   /* the method's Request sent */
	S_PENDING,  /* waiting for RADIUS */
	S_DONE,
	S_FAILED,
};

struct eap_session;

/*
 * A method: start gets the peer's Identity Response (decoded and raw), process every
 * later Response; both write the next Request to out and return an
 * enum eap_session_status (FAILURE after fail()), or a negative errno to drop.
 */
struct eap_method {
	enum config_auth auth;
	const char *name;
	int (*start)(struct eap_session *s, const struct eap_pkt *in, const uint8_t *raw,
		     size_t n, struct wbuf *out);
	int (*process)(struct eap_session *s, const struct eap_pkt *in, const uint8_t *raw,
		       size_t n, struct wbuf *out);
	int (*msk)(struct eap_session *s, uint8_t *out, size_t cap, size_t *len);
	void (*free)(struct eap_session *s);
};

struct eap_session {
	struct eap_session_cfg cfg;
	const struct eap_method *m;
	enum sess_state state;
	uint8_t next_id;   /* Identifier of our next Request */
	uint8_t req_id;    /* Identifier of the Request the peer must answer */
	uint8_t resp_id;   /* Identifier of the last Response: Success/Failure echo it */
	char identity[EAP_SESSION_ID_MAX];
	char reason[EAP_SESSION_REASON_MAX];
	struct eap_session_attrs attrs;
	uint8_t msk[EAP_SESSION_MSK_MAX];
	size_t msk_len;
	/* eap-mschapv2 */
	struct mschapv2_server *ms;
	bool ms_known, ms_mismatch;
	/* eap-tls */
	struct eap_tls_server *tls;
	/* eap-radius */
	struct radius_client_req *rreq;
	uint8_t rstate[RADIUS_ATTR_MAX];
	size_t rstate_len;
	uint8_t rmsk[RADIUS_MSK_MAX];
	size_t rmsk_len;
	/* the owner's */
	void *ctx;
	void (*ctx_free)(void *);
	uint8_t scratch[RADIUS_MAX_LEN]; /* the method's next Request */
	size_t scratch_len;
};

static const struct eap_method *method_find(enum config_auth a);

/* Record why; always EAP_SESSION_FAILURE. */
static int fail(struct eap_session *s, const char *why)
{
	snprintf(s->reason, sizeof(s->reason), "%s", why);
	return EAP_SESSION_FAILURE;
}

struct eap_session *eap_session_new(const struct eap_session_cfg *cfg)
{
	struct eap_session *s;

	if (!cfg)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cfg = *cfg;
	/* RFC 3748 4.1: Identifiers need not be random, but a guessable start buys nothing. */
	if (RAND_bytes(&s->next_id, 1) != 1)
		s->next_id = 1;
	return s;
}

/* End the method's part (keeps identity, reason, MSK and attributes). */
static void method_end(struct eap_session *s)
{
	if (s->m && s->m->free)
		s->m->free(s);
	OPENSSL_cleanse(s->scratch, sizeof(s->scratch));
	s->scratch_len = 0;
}

void eap_session_free(struct eap_session *s)
{
	if (!s)
		return;
	method_end(s);
	if (s->ctx_free)
		s->ctx_free(s->ctx);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

/* The daemon's objects as they are now: a reload between rounds replaced the old ones. */
static void env_refresh(struct eap_session *s)
{
	if (s->cfg.refresh)
		s->cfg.refresh(s->cfg.refresh_arg, &s->cfg);
}

int eap_session_start(struct eap_session *s, enum config_auth method, struct wbuf *out)
{
	const struct eap_method *m = method_find(method);

	if (!s || !out || !m)
		return -EINVAL;
	if (s->state == S_IDENTITY || s->state == S_METHOD || s->state == S_PENDING)
		return -EBUSY;
	env_refresh(s);
	method_end(s);
	s->m = m;
	s->identity[0] = s->reason[0] = 0;
	memset(&s->attrs, 0, sizeof(s->attrs));
	OPENSSL_cleanse(s->msk, sizeof(s->msk));
	s->msk_len = 0;
	s->req_id = s->next_id++;
	if (eap_encode_identity_request(out, s->req_id) != 0)
		return -ENOSPC;
	s->state = S_IDENTITY;
	return EAP_SESSION_REQUEST;
}

/*
 * Turn a method's result into what goes out: its Request, or our Success / Failure
 * echoing the last Response's Identifier (RFC 3748 4.2).
 */
static int conclude(struct eap_session *s, int st, struct wbuf *out)
{
	int rc = 0;

	if (st == EAP_SESSION_SUCCESS && s->m->msk(s, s->msk, sizeof(s->msk), &s->msk_len) != 0)
		st = fail(s, "method gave no MSK");
	switch (st) {
	case EAP_SESSION_REQUEST:
		wbuf_bytes(out, s->scratch, s->scratch_len);
		rc = wbuf_ok(out) ? 0 : -ENOSPC;
		s->state = S_METHOD;
		break;
	case EAP_SESSION_PENDING:
		s->state = S_PENDING;
		break;
	case EAP_SESSION_SUCCESS:
		rc = eap_encode_success(out, s->resp_id);
		s->state = S_DONE;
		method_end(s);
		break;
	default:
		st = EAP_SESSION_FAILURE;
		rc = eap_encode_failure(out, s->resp_id);
		s->state = S_FAILED;
		method_end(s);
		break;
	}
	return rc ? rc : st;
}

/* RFC 3748 5.1: the Identity Response; an empty one means "use what IKE said". */
static int take_identity(struct eap_session *s, const struct eap_pkt *in)
{
	int rc = eap_identity_get(in, s->identity, sizeof(s->identity));

	if (rc == -EINVAL)
		return fail(s, "no EAP identity (the client refused the Identity Request)");
	if (rc != 0)
		return fail(s, "EAP identity malformed or too long");
	if (!s->identity[0])
		snprintf(s->identity, sizeof(s->identity), "%s",
			 s->cfg.ike_identity ? s->cfg.ike_identity : "");
	if (!s->identity[0])
		return fail(s, "empty EAP identity");
	return 0;
}

int eap_session_process(struct eap_session *s, const uint8_t *pkt, size_t len,
			struct wbuf *out)
{
	struct eap_pkt in;
	struct wbuf w;
	int st;

	if (!s || !pkt || !out)
		return -EINVAL;
	if (s->state != S_IDENTITY && s->state != S_METHOD)
		return s->state == S_PENDING ? -EBUSY : -EPROTO;
	env_refresh(s);
	if (eap_decode(pkt, len, &in) != 0 || in.code != EAP_CODE_RESPONSE)
		return -EBADMSG;
	if (s->state == S_IDENTITY && in.id != s->req_id)
		return -EBADMSG;
	wbuf_init(&w, s->scratch, sizeof(s->scratch));
	s->resp_id = in.id;
	if (s->state == S_IDENTITY) {
		st = take_identity(s, &in);
		if (st == 0)
			st = s->m->start(s, &in, pkt, len, &w);
	} else {
		st = s->m->process(s, &in, pkt, len, &w);
	}
	if (st < 0)
		return st;
	s->scratch_len = wbuf_ok(&w) ? wbuf_len(&w) : 0;
	if (st == EAP_SESSION_REQUEST && !wbuf_ok(&w))
		st = fail(s, "EAP request too large");
	return conclude(s, st, out);
}

bool eap_session_busy(const struct eap_session *s)
{
	return s && s->state == S_PENDING;
}

int eap_session_msk(const struct eap_session *s, uint8_t *out, size_t cap, size_t *len)
{
	if (!s || !out || !len)
		return -EINVAL;
	if (s->state != S_DONE || s->msk_len == 0)
		return -EAGAIN;
	if (cap < s->msk_len)
		return -ENOSPC;
	memcpy(out, s->msk, s->msk_len);
	*len = s->msk_len;
	return 0;
}

const char *eap_session_identity(const struct eap_session *s)
{
	return s ? s->identity : "";
}

const char *eap_session_reason(const struct eap_session *s)
{
	return s ? s->reason : "";
}

const char *eap_session_method(const struct eap_session *s)
{
	return s && s->m ? s->m->name : "eap";
}

const struct eap_session_attrs *eap_session_attrs(const struct eap_session *s)
{
	return s ? &s->attrs : NULL;
}

void eap_session_set_ctx(struct eap_session *s, void *ctx, void (*ctx_free)(void *))
{
	if (!s)
		return;
	if (s->ctx_free && s->ctx != ctx)
		s->ctx_free(s->ctx);
	s->ctx = ctx;
	s->ctx_free = ctx_free;
}

void *eap_session_ctx(const struct eap_session *s)
{
	return s ? s->ctx : NULL;
}

/* ---- eap-mschapv2 against local users ---- */

/* The MSCHAPv2 Name must be the EAP identity: leases and logs go by the latter. */
static int ms_lookup(void *arg, const char *name, uint8_t nt_hash[16])
{
	struct eap_session *s = arg;
	int rc;

	if (strcmp(name, s->identity) != 0) {
		s->ms_mismatch = true;
		return -ENOENT;
	}
	rc = s->cfg.lookup ? s->cfg.lookup(s->cfg.lookup_arg, name, nt_hash) : -ENOENT;
	s->ms_known = rc == 0;
	return rc;
}

static int ms_start(struct eap_session *s, const struct eap_pkt *in, const uint8_t *raw,
		    size_t n, struct wbuf *out)
{
	(void)in;
	(void)raw;
	(void)n;
	s->ms_known = s->ms_mismatch = false;
	s->ms = s->cfg.mschapv2 ? mschapv2_server_new(s->cfg.mschapv2,
						      s->cfg.server_name ? s->cfg.server_name
									 : "ikegw",
						      ms_lookup, s)
				: NULL;
	if (!s->ms)
		return fail(s, "eap-mschapv2 not available");
	s->req_id = s->next_id++;
	if (mschapv2_server_start(s->ms, s->req_id, NULL, out) != 0)
		return fail(s, "cannot build the MSCHAPv2 challenge");
	return EAP_SESSION_REQUEST;
}

/* Did the server answer the Response with a Failure Request (wrong password)? */
static bool ms_is_failure_request(const uint8_t *p, size_t n)
{
	struct eap_pkt e;
	struct mschapv2_msg m;

	return eap_decode(p, n, &e) == 0 && e.code == EAP_CODE_REQUEST &&
	       mschapv2_decode(&e, &m) == 0 && m.opcode == MSCHAPV2_OP_FAILURE;
}

static int ms_process(struct eap_session *s, const struct eap_pkt *in, const uint8_t *raw,
		      size_t n, struct wbuf *out)
{
	int rc = mschapv2_server_process(s->ms, in, out);

	(void)raw;
	(void)n;
	if (rc < 0)
		return rc;
	if (rc == MSCHAPV2_DONE)
		return EAP_SESSION_SUCCESS;
	if (rc == MSCHAPV2_FAILED)
		return fail(s, in->type == EAP_TYPE_NAK ? "client refused eap-mschapv2 (Nak)"
							: "client rejected our authenticator response");
	/*
	 * The Failure Request (E=691 R=0) would only make the peer acknowledge before we
	 * send EAP-Failure anyway: end now (RFC 3748 4.2 lets the authenticator fail at any
	 * time), so the peer gets AUTHENTICATION_FAILED in this round trip.
	 */
	if (wbuf_ok(out) && ms_is_failure_request(s->scratch, wbuf_len(out)))
		return fail(s, s->ms_mismatch ? "MSCHAPv2 name is not the EAP identity"
				: s->ms_known ? "wrong password" : "unknown user");
	return EAP_SESSION_REQUEST;
}

static int ms_msk(struct eap_session *s, uint8_t *out, size_t cap, size_t *len)
{
	if (cap < MSCHAPV2_MSK_LEN || mschapv2_server_msk(s->ms, out) != 0)
		return -EAGAIN;
	*len = MSCHAPV2_MSK_LEN;
	return 0;
}

static void ms_free(struct eap_session *s)
{
	mschapv2_server_free(s->ms);
	s->ms = NULL;
}

/* ---- eap-tls ---- */

static int tls_start(struct eap_session *s, const struct eap_pkt *in, const uint8_t *raw,
		     size_t n, struct wbuf *out)
{
	struct eap_tls_config c = { .own = s->cfg.own, .trust = s->cfg.trust, .at = s->cfg.now };

	(void)in;
	(void)raw;
	(void)n;
	s->tls = s->cfg.own && s->cfg.trust ? eap_tls_server_new(&c, s->next_id) : NULL;
	if (!s->tls)
		return fail(s, "eap-tls not available");
	s->next_id++;
	if (eap_tls_server_start(s->tls, out) != 0)
		return fail(s, "cannot build the EAP-TLS start");
	return EAP_SESSION_REQUEST;
}

static int tls_process(struct eap_session *s, const struct eap_pkt *in, const uint8_t *raw,
		       size_t n, struct wbuf *out)
{
	int rc = eap_tls_server_process(s->tls, raw, n, out);

	(void)in;
	if (rc < 0)
		return rc;
	if (rc == EAP_TLS_DONE)
		return EAP_SESSION_SUCCESS;
	if (rc == EAP_TLS_FAILED) {
		const char *why = eap_tls_server_reason(s->tls);

		return fail(s, why && why[0] ? why : "EAP-TLS failed");
	}
	return EAP_SESSION_REQUEST;
}

static int tls_msk(struct eap_session *s, uint8_t *out, size_t cap, size_t *len)
{
	if (cap < EAP_TLS_MSK_LEN || eap_tls_server_msk(s->tls, out) != 0)
		return -EAGAIN;
	*len = EAP_TLS_MSK_LEN;
	return 0;
}

static void tls_free(struct eap_session *s)
{
	eap_tls_server_free(s->tls);
	s->tls = NULL;
}

/* ---- eap-radius: EAP relayed in Access-Requests (RFC 3579) ---- */

static void relay_on_reply(void *arg, int status, const struct radius_reply *r);

static int relay_send(struct eap_session *s, const uint8_t *raw, size_t n)
{
	struct radius_access_request rq = {
		.user_name = (const uint8_t *)s->identity, .user_name_len = strlen(s->identity),
		.eap = raw, .eap_len = n, .state = s->rstate_len ? s->rstate : NULL,
		.state_len = s->rstate_len, .nas_identifier = s->cfg.nas_identifier,
		.calling_station_id = s->cfg.calling_station_id, .framed_mtu = RELAY_FRAMED_MTU,
	};

	if (!s->cfg.radius || !s->cfg.done)
		return fail(s, "no RADIUS server configured");
	if (radius_client_send(s->cfg.radius, &rq, relay_on_reply, s, &s->rreq) != 0)
		return fail(s, "RADIUS request cannot be sent");
	return EAP_SESSION_PENDING;
}

static int relay_start(struct eap_session *s, const struct eap_pkt *in, const uint8_t *raw,
		       size_t n, struct wbuf *out)
{
	(void)in;
	(void)out;
	s->rstate_len = 0;
	s->rmsk_len = 0;
	return relay_send(s, raw, n);
}

static int relay_process(struct eap_session *s, const struct eap_pkt *in, const uint8_t *raw,
			 size_t n, struct wbuf *out)
{
	(void)out;
	/* RFC 3748 4.1: only the answer to the Request we relayed last goes on. */
	if (in->id != s->req_id)
		return -EBADMSG;
	return relay_send(s, raw, n);
}

/* RFC 2865 5.25: Class is opaque octets; a profile can only match printable text. */
static void relay_keep_attrs(struct eap_session *s, const struct radius_reply *r)
{
	struct eap_session_attrs *a = &s->attrs;

	for (size_t i = 0; i < r->n_class && a->n_class < EAP_SESSION_CLASS_MAX; i++) {
		struct rbuf rb;
		uint8_t c;
		size_t k = 0;
		bool ok = r->classes[i].len < EAP_SESSION_CLASS_LEN;

		rbuf_init(&rb, r->classes[i].p, r->classes[i].len);
		while (ok && rbuf_u8(&rb, &c) == 0) {
			ok = c >= 0x20 && c < 0x7f;
			a->classes[a->n_class][k++] = (char)c;
		}
		a->classes[a->n_class][ok ? k : 0] = 0;
		if (ok && k > 0)
			a->n_class++;
	}
	a->has_framed_ip = r->has_framed_ip;
	memcpy(a->framed_ip, r->framed_ip, sizeof(a->framed_ip));
}

static int relay_challenge(struct eap_session *s, const struct radius_reply *r)
{
	struct eap_pkt e;

	if (r->eap_len == 0 || r->eap_len > sizeof(s->scratch) ||
	    eap_decode(r->eap, r->eap_len, &e) != 0 || e.code != EAP_CODE_REQUEST)
		return fail(s, "RADIUS challenge without an EAP request");
	if (r->state.len > sizeof(s->rstate))
		return fail(s, "RADIUS State too long");
	if (r->state.len) /* RFC 2865 5.24: echo it in the next Access-Request */
		memcpy(s->rstate, r->state.p, r->state.len);
	s->rstate_len = r->state.len;
	memcpy(s->scratch, r->eap, r->eap_len);
	s->scratch_len = r->eap_len;
	s->req_id = e.id;
	return EAP_SESSION_REQUEST;
}

static int relay_result(struct eap_session *s, int status, const struct radius_reply *r)
{
	if (status == -ETIMEDOUT)
		return fail(s, "RADIUS timeout");
	if (status != 0 || !r)
		return fail(s, "RADIUS unavailable");
	if (r->code == RADIUS_ACCESS_REJECT)
		return fail(s, "RADIUS reject");
	if (r->code == RADIUS_ACCESS_CHALLENGE)
		return relay_challenge(s, r);
	if (r->code != RADIUS_ACCESS_ACCEPT)
		return fail(s, "unexpected RADIUS reply");
	/* RFC 7296 2.16: without an MSK neither side can compute AUTH. */
	if (r->msk_len == 0 || r->msk_len > sizeof(s->rmsk))
		return fail(s, "RADIUS accept without MS-MPPE keys");
	memcpy(s->rmsk, r->msk, r->msk_len);
	s->rmsk_len = r->msk_len;
	relay_keep_attrs(s, r);
	return EAP_SESSION_SUCCESS;
}

static void relay_on_reply(void *arg, int status, const struct radius_reply *r)
{
	struct eap_session *s = arg;
	uint8_t buf[RADIUS_MAX_LEN];
	struct wbuf w;
	int st;

	s->rreq = NULL;
	st = relay_result(s, status, r);
	wbuf_init(&w, buf, sizeof(buf));
	st = conclude(s, st, &w);
	if (st < 0) { /* cannot encode: tell the owner it failed */
		fail(s, "cannot encode the EAP answer");
		s->state = S_FAILED;
		st = EAP_SESSION_FAILURE;
		wbuf_init(&w, buf, sizeof(buf));
		eap_encode_failure(&w, s->resp_id);
	}
	s->cfg.done(s->cfg.done_arg, s->cfg.owner_key, s, (enum eap_session_status)st, buf,
		    wbuf_len(&w));
}

static int relay_msk(struct eap_session *s, uint8_t *out, size_t cap, size_t *len)
{
	if (s->rmsk_len == 0 || cap < s->rmsk_len)
		return -EAGAIN;
	memcpy(out, s->rmsk, s->rmsk_len);
	*len = s->rmsk_len;
	return 0;
}

static void relay_free(struct eap_session *s)
{
	radius_client_cancel(s->cfg.radius, s->rreq);
	s->rreq = NULL;
	OPENSSL_cleanse(s->rmsk, sizeof(s->rmsk));
	s->rmsk_len = 0;
	OPENSSL_cleanse(s->rstate, sizeof(s->rstate));
	s->rstate_len = 0;
}

static const struct eap_method methods[] = {
	{ CONFIG_AUTH_EAP_MSCHAPV2, "eap-mschapv2", ms_start, ms_process, ms_msk, ms_free },
	{ CONFIG_AUTH_EAP_TLS, "eap-tls", tls_start, tls_process, tls_msk, tls_free },
	{ CONFIG_AUTH_EAP_RADIUS, "eap-radius", relay_start, relay_process, relay_msk,
	  relay_free },
};

static const struct eap_method *method_find(enum config_auth a)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].auth == a)
			return &methods[i];
	return NULL;
}
