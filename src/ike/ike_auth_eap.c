/* SPDX-License-Identifier: ISC */
/*
 * The EAP conversation of an IKE_AUTH flow (RFC 7296 2.16): the EAP session (local
 * MSCHAPv2 and EAP-TLS, or RADIUS), its packets in EAP payloads, and AUTH with the MSK
 * both ways once it succeeded.  The flow around it is ike_auth_flow.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ikegw/config.h"
#include "ikegw/eap.h"
#include "ikegw/eap_session.h"
#include "ikegw/exchange.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/ikev2.h"
#include "ikegw/psk.h"
#include "ikegw/sa_table.h"

#include "ike_auth_int.h"

static void eap_done(void *arg, uint64_t key, struct eap_session *s,
		     enum eap_session_status st, const uint8_t *pkt, size_t len);

/* The client's NT hash from users: (read at the time of use: a reload may change it). */
static int user_lookup(void *arg, const char *name, uint8_t nt_hash[16])
{
	const struct config *cfg = ((struct gw *)arg)->cfg;

	for (size_t i = 0; i < cfg->n_users; i++) {
		if (strcmp(cfg->users[i].name, name) == 0) {
			memcpy(nt_hash, cfg->users[i].nt_hash, 16);
			return 0;
		}
	}
	return -ENOENT;
}

/* What an EAP conversation borrows from the daemon, as it is now (a reload replaces
 * the config, the RADIUS client and the credentials between two rounds). */
static void eap_env(void *arg, struct eap_session_cfg *c)
{
	struct gw *gw = arg;

	c->server_name = gw->cfg->gateway.id;
	c->nas_identifier = gw->cfg->gateway.id;
	c->mschapv2 = gw->mschapv2;
	c->lookup_arg = gw;
	c->radius = gw->radius;
	c->own = gw->own;
	c->trust = gw->trust;
}

struct eap_session *auth_eap_session_new(struct ike_sa *sa, struct auth_flow *f)
{
	struct gw *gw = sa->gw;
	struct eap_session_cfg c = {
		.ike_identity = f->round_id, .lookup = user_lookup, .now = gw_time(gw),
		.done = eap_done, .done_arg = gw, .owner_key = sa->ent.spi_local,
		.refresh = eap_env, .refresh_arg = gw,
	};

	eap_env(gw, &c);
	auth_peer_text(sa, f->peer, sizeof(f->peer));
	c.calling_station_id = f->peer;
	return eap_session_new(&c);
}

/* An EAP packet as an IKE EAP payload (RFC 7296 3.16). */
static int enc_eap(struct codec_enc *e, const uint8_t *pkt, size_t len)
{
	struct eap_pkt p;

	if (eap_decode(pkt, len, &p) != 0)
		return -EINVAL;
	codec_enc_eap(e, p.code, p.id, p.type, p.data, p.data_len);
	return 0;
}

struct eap_out {
	const uint8_t *pkt;
	size_t len;
};

static int fill_eap(struct ike_sa *sa, const void *arg, struct codec_enc *e)
{
	const struct eap_out *o = arg;

	(void)sa;
	return enc_eap(e, o->pkt, o->len);
}

/* RFC 7296 2.16: AUTH = prf(prf(MSK, "Key Pad for IKEv2"), <ResponderSignedOctets>). */
int auth_msk_auth_encode(struct ike_sa *sa, struct codec_enc *e)
{
	uint8_t msk[EAP_SESSION_MSK_MAX], body[4 + 1024], auth[PSK_AUTH_MAX];
	uint8_t *octets = malloc(AUTH_OCTETS_MAX);
	struct codec_view idb = { body, 0 };
	size_t msk_len = 0, auth_len = 0, id_len = 0;
	struct wbuf w;
	int rc;

	if (!octets)
		return -ENOMEM;
	memset(body, 0, 4);
	rc = eap_session_msk(sa->eap, msk, sizeof(msk), &msk_len);
	if (rc == 0)
		rc = auth_our_id(sa->gw, &body[0], body + 4, sizeof(body) - 4, &id_len);
	idb.len = 4 + id_len;
	wbuf_init(&w, octets, AUTH_OCTETS_MAX);
	if (rc == 0)
		rc = auth_octets(sa, sa->msg2, sa->msg2_len, sa->ni, sa->ni_len, sa->keys->pr, &idb,
				 &w);
	if (rc == 0)
		rc = psk_auth_compute(auth_prf_digest(sa->prf), msk, msk_len, octets, wbuf_len(&w),
				      auth, sizeof(auth), &auth_len);
	if (rc == 0)
		codec_enc_auth(e, IKEV2_AUTH_PSK, auth, auth_len);
	OPENSSL_cleanse(msk, sizeof(msk));
	free(octets);
	return rc;
}

/* The client's AUTH after EAP-Success, over this round's IDi, keyed with the MSK. */
static int verify_msk_auth(struct ike_sa *sa, const struct ike_pl_auth *au)
{
	struct auth_flow *f = auth_flow_of(sa);
	uint8_t msk[EAP_SESSION_MSK_MAX];
	uint8_t *octets = malloc(AUTH_OCTETS_MAX);
	struct codec_view idb = { f->idi, f->idi_len };
	size_t msk_len = 0;
	struct wbuf w;
	int rc;

	if (!octets)
		return -ENOMEM;
	wbuf_init(&w, octets, AUTH_OCTETS_MAX);
	rc = eap_session_msk(sa->eap, msk, sizeof(msk), &msk_len);
	if (rc == 0)
		rc = auth_octets(sa, sa->msg1, sa->msg1_len, sa->nr, sizeof(sa->nr), sa->keys->pi,
				 &idb, &w);
	if (rc == 0)
		rc = psk_auth_verify(auth_prf_digest(sa->prf), msk, msk_len, octets, wbuf_len(&w),
				     au->data.p, au->data.len);
	OPENSSL_cleanse(msk, sizeof(msk));
	free(octets);
	return rc;
}

int auth_fill_msk_auth(struct ike_sa *sa, const void *arg, struct codec_enc *e)
{
	(void)arg;
	return auth_msk_auth_encode(sa, e);
}

/* From now on the client is known by its EAP identity (leases, logs, unique:). */
static void adopt_eap_identity(struct ike_sa *sa)
{
	const char *id = eap_session_identity(sa->eap);

	if (id[0])
		log_sanitize(sa->peer_id, sizeof(sa->peer_id), (const uint8_t *)id, strlen(id));
}

/* What the EAP session decided, now or when RADIUS answered. */
static void on_eap_result(struct ike_sa *sa, int st, const uint8_t *pkt, size_t len)
{
	struct auth_flow *f = auth_flow_of(sa);
	struct eap_out o = { pkt, len };

	if (st == EAP_SESSION_PENDING) /* RADIUS has it: sa->eap is busy until it answers */
		return;
	adopt_eap_identity(sa);
	if (st == EAP_SESSION_FAILURE) {
		auth_refuse_sa(sa, f->method, eap_session_reason(sa->eap), pkt, len);
		return;
	}
	if (st == EAP_SESSION_SUCCESS) {
		f->stage = FLOW_EAP_AUTH;
		f->attrs = *eap_session_attrs(sa->eap);
		log_info(&sa->gw->log, sa->tag, "%s: EAP-Success for '%s'", f->method, sa->peer_id);
	}
	if (auth_respond_with(sa, fill_eap, &o) != 0)
		auth_flow_abort(sa, "cannot build the IKE_AUTH response");
}

/* RADIUS answered (eap-radius): the IKE_AUTH response goes out now. */
static void eap_done(void *arg, uint64_t key, struct eap_session *s,
		     enum eap_session_status st, const uint8_t *pkt, size_t len)
{
	struct gw *gw = arg;
	struct ike_sa *sa = ike_sa_from_entry(sa_table_find(gw->sas, key));

	if (!sa || sa->eap != s) {
		eap_session_free(s); /* its SA went away meanwhile */
		return;
	}
	on_eap_result(sa, (int)st, pkt, len);
	/* Not called from ike_recv(): nobody else frees a refused SA. */
	if (sa->state == IKE_SA_DELETED)
		ike_sa_free(sa);
}

void auth_eap_step(struct ike_sa *sa, const struct ike_msg *m)
{
	const struct ike_payload *p = codec_msg_find(m, IKEV2_PL_EAP, 0);
	uint8_t *buf;
	struct wbuf w;
	int st;

	if (!p) {
		auth_refuse_sa(sa, auth_flow_of(sa)->method, "expected an EAP payload", NULL, 0);
		return;
	}
	buf = malloc(EAP_MAX_LEN);
	if (!buf) {
		auth_flow_abort(sa, "out of memory");
		return;
	}
	wbuf_init(&w, buf, EAP_MAX_LEN);
	st = eap_session_process(sa->eap, p->u.eap.msg.p, p->u.eap.msg.len, &w);
	if (st < 0) /* RFC 3748 4.1: a Response that does not fit is silently discarded */
		log_debug(&sa->gw->log, sa->tag, "EAP packet dropped (%d)", st);
	else
		on_eap_result(sa, st, buf, wbuf_len(&w));
	free(buf);
}

void auth_eap_auth(struct ike_sa *sa, const struct ike_msg *m)
{
	struct auth_flow *f = auth_flow_of(sa);
	const struct ike_payload *auth = codec_msg_find(m, IKEV2_PL_AUTH, 0);

	if (!auth) {
		auth_refuse_sa(sa, f->method, "expected AUTH after EAP-Success", NULL, 0);
	} else if (auth->u.auth.method != IKEV2_AUTH_PSK) { /* RFC 7296 2.16 */
		auth_refuse_sa(sa, f->method, "AUTH after EAP must be computed with the MSK", NULL, 0);
	} else if (verify_msk_auth(sa, &auth->u.auth) != 0) {
		auth_refuse_sa(sa, f->method, "AUTH with the EAP MSK does not verify", NULL, 0);
	} else {
		auth_flow_round_done(sa, m, true);
	}
}

/* An EAP round: EAP (no AUTH) from the client, our first EAP request. */
void auth_eap_round(struct ike_sa *sa, struct auth_ctx *a, enum config_auth method)
{
	struct auth_flow *f = auth_flow_of(sa);
	uint8_t buf[64];
	struct wbuf w;
	struct eap_out o = { buf, 0 };

	if (a->auth) {
		auth_refuse_sa(sa, f->method, "expected EAP in this round, not AUTH", NULL, 0);
		return;
	}
	wbuf_init(&w, buf, sizeof(buf));
	if (eap_session_start(sa->eap, method, &w) != EAP_SESSION_REQUEST) {
		auth_flow_abort(sa, "cannot start EAP");
		return;
	}
	f->stage = FLOW_EAP;
	o.len = wbuf_len(&w);
	if (auth_respond_with(sa, fill_eap, &o) != 0)
		auth_flow_abort(sa, "cannot build the IKE_AUTH response");
}

/* No AUTH: EAP for profile p; the first answer is our AUTH and the first EAP request. */
void auth_flow_begin_eap(struct auth_ctx *a, const struct config_profile *p)
{
	struct ike_sa *sa = a->sa;
	struct auth_flow *f;
	uint8_t buf[64];
	struct wbuf w;

	sa->profile = p;
	sa->auth_round = 0;
	if (!(f = auth_flow_start(sa, a->m, a->idi))) {
		ike_sa_delete(sa, "out of memory");
		return;
	}
	auth_flow_add_method(f, config_auth_name(p->auth[0]));
	wbuf_init(&w, buf, sizeof(buf));
	if (eap_session_start(sa->eap, p->auth[0], &w) != EAP_SESSION_REQUEST) {
		auth_flow_abort(sa, "cannot start EAP");
		return;
	}
	f->stage = FLOW_EAP;
	auth_sign_submit(sa, AUTH_THEN_EAP, NULL, buf, wbuf_len(&w), f->method);
}
