/* SPDX-License-Identifier: ISC */
/*
 * Longer authentications (RFC 4739 rounds; EAP, RFC 7296 2.16, in ike_auth_eap.c): a
 * struct auth_flow in the SA's EAP session (sa->eap) keeps what later requests need:
 *
 *   first request             stage after           our answer
 *   IDi, no AUTH (EAP)        FLOW_EAP              IDr, CERT, AUTH, EAP(Identity)
 *   IDi, AUTH, ANOTHER_AUTH   FLOW_NEXT_ROUND       IDr, CERT, AUTH
 *   later requests
 *   EAP (FLOW_EAP)            FLOW_EAP / _EAP_AUTH  EAP (Request, Success) or, with RADIUS,
 *                                                   nothing until it answers (sa busy)
 *   AUTH (FLOW_EAP_AUTH)      FLOW_NEXT_ROUND / -   AUTH(MSK) [+ CP, SA, TSi, TSr when last]
 *   IDi (FLOW_NEXT_ROUND)     FLOW_EAP / -          EAP(Identity), or for a certificate
 *                                                   round (a job) CP, SA, TSi, TSr
 *
 * SA, TSi, TSr and CP come in the first request only; they are kept (re-encoded) in the
 * flow until the last round is done.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "ikegw/config.h"
#include "ikegw/eap_session.h"
#include "ikegw/exchange.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/ikev2.h"
#include "ikegw/pool.h"
#include "ikegw/profile.h"

#include "ike_auth_int.h"

static void flow_free(void *arg)
{
	struct auth_flow *f = arg;

	if (!f)
		return;
	auth_kept_clear(&f->first);
	X509_free(f->leaf);
	X509_free(f->anchor);
	OPENSSL_cleanse(f, sizeof(*f));
	free(f);
}

struct auth_flow *auth_flow_of(const struct ike_sa *sa)
{
	return eap_session_ctx(sa->eap);
}

/* RADIUS Framed-IP-Address (RFC 2865 5.8) is the client's address when the pool has it. */
bool auth_flow_framed_ip(struct ike_sa *sa, struct ip_addr *out)
{
	const struct auth_flow *f = sa->eap ? auth_flow_of(sa) : NULL;
	struct ip_addr a = { .family = AF_INET };

	if (!f || !f->attrs.has_framed_ip || !sa->pool)
		return false;
	memcpy(a.bytes, f->attrs.framed_ip, 4);
	if (!pool_contains(sa->pool, &a)) {
		log_info(&sa->gw->log, sa->tag, "RADIUS Framed-IP-Address outside the pool ignored");
		return false;
	}
	*out = a;
	return true;
}

/* The payloads the last round needs from the first request, as a chain of their own. */
static int flow_keep_first(struct auth_flow *f, const struct ike_msg *m)
{
	static const uint8_t keep[] = { IKEV2_PL_SA, IKEV2_PL_TSI, IKEV2_PL_TSR, IKEV2_PL_CP,
					IKEV2_PL_NOTIFY };

	return auth_keep(m, keep, sizeof(keep), &f->first);
}

static int flow_keep_idi(struct auth_flow *f, const struct ike_payload *idi, const char *text)
{
	if (idi->body.len > sizeof(f->idi))
		return -EMSGSIZE;
	memcpy(f->idi, idi->body.p, idi->body.len);
	f->idi_len = idi->body.len;
	snprintf(f->round_id, sizeof(f->round_id), "%s", text);
	return 0;
}

/*
 * A client that stops half way: the half-open timer (timeouts.half_open) now also ends
 * the conversation, counting it as a failed sign-in.
 */
static void flow_expired(struct loop *loop, void *arg)
{
	struct ike_sa *sa = arg;
	struct auth_flow *f = auth_flow_of(sa);

	(void)loop;
	if (sa->state != IKE_SA_HALF_OPEN)
		return;
	auth_log_failure(sa, f ? f->method : NULL,
		    eap_session_busy(sa->eap) ? "RADIUS timeout (half-open timeout)"
					      : "client stopped answering (half-open timeout)");
	auth_flow_end(sa);
	ike_sa_free(sa);
}

/* The flow of a longer authentication, kept in a new EAP session of the SA. */
struct auth_flow *auth_flow_start(struct ike_sa *sa, const struct ike_msg *m,
				    const struct ike_payload *idi)
{
	struct auth_flow *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	if (flow_keep_first(f, m) != 0 || flow_keep_idi(f, idi, sa->peer_id) != 0 ||
	    !(sa->eap = auth_eap_session_new(sa, f))) {
		flow_free(f);
		return NULL;
	}
	eap_session_set_ctx(sa->eap, f, flow_free);
	snprintf(f->ike_id, sizeof(f->ike_id), "%s", sa->peer_id);
	loop_timer_cancel(sa->gw->loop, &sa->half_open_timer);
	loop_timer_init(&sa->half_open_timer, flow_expired, sa);
	loop_timer_arm_in(sa->gw->loop, &sa->half_open_timer,
			  sa->gw->cfg->timeouts.half_open * 1000ull);
	return f;
}

/* Something we cannot do (memory, encoding): the SA goes, without a refusal line. */
void auth_flow_abort(struct ike_sa *sa, const char *why)
{
	ike_sa_delete(sa, why);
	auth_flow_end(sa);
}

struct final_out {
	const struct ike_msg *first; /* the first request, decoded again */
	bool msk_auth;
};

static int fill_final(struct ike_sa *sa, const void *arg, struct codec_enc *e)
{
	const struct final_out *o = arg;
	int rc = o->msk_auth ? auth_msk_auth_encode(sa, e) : 0;

	return rc ? rc : auth_fill_child(sa, o->first, e);
}

static bool same_rounds(const struct config_profile *a, const struct config_profile *b)
{
	if (a->n_auth != b->n_auth)
		return false;
	for (size_t i = 0; i < a->n_auth; i++)
		if (a->auth[i] != b->auth[i])
			return false;
	return true;
}

/*
 * match.radius_class is known only when RADIUS accepted the client: profiles are chosen
 * again then, among those with the same rounds, with the Class values it sent.
 */
static const struct config_profile *final_profile(struct ike_sa *sa, struct auth_flow *f)
{
	const struct config *cfg = sa->gw->cfg;
	struct profile_facts facts = { .method = sa->profile->auth[0], .identity = f->ike_id,
				       .leaf = f->leaf, .anchor = f->anchor };
	size_t nc = f->attrs.n_class;

	for (size_t i = 0; i < cfg->n_profiles; i++) {
		const struct config_profile *p = &cfg->profiles[i];

		if (!same_rounds(p, sa->profile))
			continue;
		for (size_t k = 0; k < (nc ? nc : 1); k++) {
			facts.radius_class = nc ? f->attrs.classes[k] : NULL;
			if (profile_matches(p, &facts))
				return p;
		}
	}
	return NULL;
}

/* The last round is done: profile, uniqueness, CP + Child SA from the first request. */
static void flow_finish(struct ike_sa *sa, bool msk_auth)
{
	struct auth_flow *f = auth_flow_of(sa);
	struct ike_msg *m = auth_kept_decode(&f->first);
	struct final_out o = { m, msk_auth };
	const struct config_profile *p;
	char methods[sizeof(f->methods)];

	if (!m) {
		auth_flow_abort(sa, "cannot decode the kept IKE_AUTH payloads");
		return;
	}
	snprintf(methods, sizeof(methods), "%s", f->methods);
	if (!(p = final_profile(sa, f))) {
		auth_refuse_sa(sa, f->method, "no profile matches the RADIUS Class", NULL, 0);
	} else if ((sa->profile = p, !auth_unique_ok(sa))) {
		auth_refuse_sa(sa, f->method, "identity already connected (unique: keep)", NULL, 0);
	} else if (auth_respond_with(sa, fill_final, &o) != 0) {
		auth_flow_abort(sa, "cannot build the IKE_AUTH response");
	} else {
		auth_flow_end(sa);
		auth_established(sa, methods);
	}
	free(m);
}

/* RFC 4739: the client's ANOTHER_AUTH_FOLLOWS must agree with the profile's rounds. */
void auth_flow_round_done(struct ike_sa *sa, const struct ike_msg *m, bool msk_auth)
{
	struct auth_flow *f = auth_flow_of(sa);
	bool another = codec_msg_notify(m, IKEV2_N_ANOTHER_AUTH_FOLLOWS) != NULL;
	bool more = sa->auth_round + 1u < sa->profile->n_auth;

	if (another != more) {
		auth_refuse_sa(sa, f->method,
			  more ? "the profile requires another authentication round"
			       : "client announced a round the profile does not have",
			  NULL, 0);
		return;
	}
	if (!more) {
		flow_finish(sa, msk_auth);
		return;
	}
	sa->auth_round++;
	f->stage = FLOW_NEXT_ROUND;
	if (!msk_auth) /* our signature first (a job): it answers then */
		auth_sign_submit(sa, AUTH_THEN_ROUND, NULL, NULL, 0, f->method);
	else if (auth_respond_with(sa, auth_fill_msk_auth, NULL) != 0)
		auth_flow_abort(sa, "cannot build the IKE_AUTH response");
}

void auth_flow_add_method(struct auth_flow *f, const char *name)
{
	size_t n = strlen(f->methods);

	snprintf(f->method, sizeof(f->method), "%s", name);
	snprintf(f->methods + n, sizeof(f->methods) - n, "%s%s", n ? "+" : "", name);
}

/* A second round's certificate or PSK AUTH (a certificate goes through a job). */
static void next_round_auth(struct auth_ctx *a, enum config_auth method)
{
	struct auth_flow *f = auth_flow_of(a->sa);

	if (!a->auth || (a->auth->u.auth.method == IKEV2_AUTH_PSK) != (method == CONFIG_AUTH_PSK))
		auth_refuse_sa(a->sa, f->method, "expected AUTH by this round's method", NULL, 0);
	else if (method != CONFIG_AUTH_PSK)
		auth_cert_submit(a, 0); /* goes on in auth_flow_cert_round_ok() */
	else if (auth_psk(a, a->sa->profile, 0) != 0)
		auth_refuse(a);
	else
		auth_flow_round_done(a->sa, a->m, false);
}

void auth_flow_cert_round_ok(struct auth_ctx *a)
{
	auth_flow_round_done(a->sa, a->m, false);
}

/* A second round starts with its own IDi: EAP (no AUTH) or a certificate/PSK AUTH. */
static void next_round(struct ike_sa *sa, const struct ike_msg *m)
{
	struct auth_flow *f = auth_flow_of(sa);
	struct auth_ctx a = { .sa = sa, .m = m };
	enum config_auth method = sa->profile->auth[sa->auth_round];
	char text[sizeof(f->round_id)];

	a.idi = codec_msg_find(m, IKEV2_PL_IDI, 0);
	a.auth = codec_msg_find(m, IKEV2_PL_AUTH, 0);
	auth_flow_add_method(f, config_auth_name(method));
	if (!a.idi) {
		auth_refuse_sa(sa, f->method, "expected the IDi of the next round", NULL, 0);
		return;
	}
	auth_id_text(&a.idi->u.id, text, sizeof(text));
	if (flow_keep_idi(f, a.idi, text) != 0)
		auth_refuse_sa(sa, f->method, "IDi too long", NULL, 0);
	else if (auth_method_is_eap(method))
		auth_eap_round(sa, &a, method);
	else
		next_round_auth(&a, method);
}

void auth_flow_continue(struct ike_sa *sa, const struct ike_msg *m)
{
	/* A retransmission while RADIUS has the last EAP packet: answered when it answers. */
	if (eap_session_busy(sa->eap)) {
		log_debug(&sa->gw->log, sa->tag, "IKE_AUTH retransmission dropped: RADIUS pending");
		return;
	}
	switch (auth_flow_of(sa)->stage) {
	case FLOW_EAP:
		auth_eap_step(sa, m);
		break;
	case FLOW_EAP_AUTH:
		auth_eap_auth(sa, m);
		break;
	case FLOW_NEXT_ROUND:
		next_round(sa, m);
		break;
	}
}


/* A certificate or PSK first round with ANOTHER_AUTH_FOLLOWS: our AUTH, then round 2. */
void auth_flow_begin_rounds(struct auth_ctx *a)
{
	struct ike_sa *sa = a->sa;
	struct auth_flow *f = auth_flow_start(sa, a->m, a->idi);

	if (!f) {
		ike_sa_delete(sa, "out of memory");
		return;
	}
	auth_flow_add_method(f, a->method_name);
	f->leaf = a->leaf;
	f->anchor = a->anchor;
	a->leaf = a->anchor = NULL;
	sa->auth_round = 1;
	f->stage = FLOW_NEXT_ROUND;
	auth_sign_submit(sa, AUTH_THEN_ROUND, NULL, NULL, 0, f->method);
}


void auth_flow_end(struct ike_sa *sa)
{
	eap_session_free(sa->eap);
	sa->eap = NULL;
}
