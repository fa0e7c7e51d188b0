/* SPDX-License-Identifier: ISC */
/*
 * IKE_AUTH, responder side (RFC 7296 1.2, 2.15, 2.16, 3.5-3.8, 3.15; RFC 4739): authenticate
 * the client (certificate signature, PSK, EAP, or two of them in two rounds), choose its
 * profile, give it an address, create its Child SA, and authenticate ourselves with our
 * certificate (always in the first response) and, after EAP, with the MSK.
 *
 * This file is the entry and the first request, the response and the refusals; the
 * rest is split by what it owns (ike_auth_int.h lists the files).  Signatures and
 * certificate chains are jobs (jobs.h): the step after one continues in its done(),
 * possibly in a later event, so nothing here touches the SA after submitting one.
 *
 *   first request             path                          our answer
 *   IDi, AUTH (certificate)   cert job, then sign job       IDr, CERT, AUTH, CP, SA, TS
 *   IDi, AUTH (PSK)           sign job                      the same
 *   IDi, AUTH, ANOTHER_AUTH   (cert job), sign job, a flow  IDr, CERT, AUTH
 *   IDi, no AUTH (EAP)        sign job, a flow              IDr, CERT, AUTH, EAP(Identity)
 *
 * Later requests belong to the flow (ike_auth_flow.c).  Every refusal is one log line and
 * AUTHENTICATION_FAILED; the SA and its session go with it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ikegw/child_sa.h"
#include "ikegw/config.h"
#include "ikegw/eap.h"
#include "ikegw/exchange.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/ikev2.h"
#include "ikegw/profile.h"
#include "ikegw/sa_table.h"
#include "ikegw/sa_timers.h"
#include "ikegw/udp.h"

#include "ike_auth_int.h"

/* The client is in: the log line, the state, the timers; IKE_SA_INIT state goes. */
void auth_established(struct ike_sa *sa, const char *method)
{
	char vip[INET6_ADDRSTRLEN] = "-", peer[INET6_ADDRSTRLEN];

	auth_peer_text(sa, peer, sizeof(peer));
	if (sa->has_vip)
		inet_ntop(sa->vip.family, sa->vip.bytes, vip, sizeof(vip));
	sa->state = IKE_SA_ESTABLISHED;
	sa->established_ms = loop_now(sa->gw->loop);
	sa_table_mark_established(sa->gw->sas, &sa->ent);
	loop_timer_cancel(sa->gw->loop, &sa->half_open_timer);
	sa->gw->ctr.handshakes_ok++;
	/* "[2001:db8::2]:4500" for IPv6, as ikegwctl prints it: the port stays unambiguous */
	log_info(&sa->gw->log, sa->tag,
		 "established: identity '%s' from %s%s%s:%u, vip %s, profile %s, auth %s, %s/%s",
		 sa->peer_id, sa->peer.ss_family == AF_INET6 ? "[" : "", peer,
		 sa->peer.ss_family == AF_INET6 ? "]" : "", udp_addr_port(&sa->peer), vip,
		 sa->profile->name, method, sa->encr->name, sa->prf->name);
	ike_sa_drop_init_state(sa);
	sa_timers_established(sa);
}

/*
 * SPEC: a refused client gets AUTHENTICATION_FAILED (after an EAP-Failure when EAP
 * failed, RFC 7296 2.16) and one log line with its address, claimed identity, method and
 * reason; nothing of its state stays.
 */
void auth_log_failure(struct ike_sa *sa, const char *method, const char *reason)
{
	char peer[INET6_ADDRSTRLEN];

	auth_peer_text(sa, peer, sizeof(peer));
	sa->gw->ctr.auth_failures++;
	sa->gw->ctr.handshakes_failed++;
	log_warn(&sa->gw->log, sa->tag, "authentication failed: %s identity '%s' method %s: %s",
		 peer, sa->peer_id, method ? method : "?", reason);
}

void auth_refuse_sa(struct ike_sa *sa, const char *method, const char *reason,
		    const uint8_t *eap, size_t eap_len)
{
	uint8_t buf[512];
	struct codec_enc e;
	struct wbuf w;
	struct eap_pkt p;
	uint8_t first;

	auth_log_failure(sa, method, reason);
	wbuf_init(&w, buf, sizeof(buf));
	codec_enc_begin_chain(&e, &w);
	codec_enc_notify(&e, 0, NULL, 0, IKEV2_N_AUTHENTICATION_FAILED, NULL, 0);
	if (eap && eap_decode(eap, eap_len, &p) == 0 && p.code == EAP_CODE_FAILURE)
		codec_enc_eap(&e, p.code, p.id, 0, NULL, 0);
	if (codec_enc_end_chain(&e, &first) == 0)
		exchange_respond(sa, IKEV2_EXCH_IKE_AUTH, buf, wbuf_len(&w), first);
	auth_flow_end(sa);
	ike_sa_delete(sa, "authentication failed");
}

void auth_refuse(struct auth_ctx *a)
{
	auth_refuse_sa(a->sa, a->method_name, a->reason, NULL, 0);
}

int auth_respond_with(struct ike_sa *sa, auth_fill_fn *fill, const void *arg)
{
	uint8_t *buf = malloc(IKE_MSG_MAX);
	struct codec_enc e;
	struct wbuf w;
	uint8_t first;
	int rc;

	if (!buf)
		return -ENOMEM;
	wbuf_init(&w, buf, IKE_MSG_MAX);
	codec_enc_begin_chain(&e, &w);
	rc = fill(sa, arg, &e);
	if (rc == 0)
		rc = codec_enc_end_chain(&e, &first);
	if (rc == 0)
		rc = exchange_respond(sa, IKEV2_EXCH_IKE_AUTH, buf, wbuf_len(&w), first);
	free(buf);
	return rc;
}

int auth_fill_child(struct ike_sa *sa, const struct ike_msg *m, struct codec_enc *e)
{
	int notify = auth_assign_address(sa, m, e);

	if (notify == 0)
		notify = child_sa_negotiate(sa, m, e);
	if (notify != 0) {
		log_warn(&sa->gw->log, sa->tag, "no Child SA: notify %d", notify);
		codec_enc_notify(e, 0, NULL, 0, (uint16_t)notify, NULL, 0);
	}
	return 0;
}

struct ike_sa *auth_job_sa(struct gw *gw, uint64_t spi, uint32_t id)
{
	struct ike_sa *sa = ike_sa_from_entry(sa_table_find(gw->sas, spi));

	if (!sa || sa->id != id || sa->jobs_pending == 0)
		return NULL;
	sa->jobs_pending--;
	return sa->state == IKE_SA_DELETED ? NULL : sa;
}

/*
 * A job's done() runs outside ike_recv() (or inside it, inline): nobody else frees an SA
 * it marked deleted.  Found again: a job done() submitted may have freed it already.
 */
void auth_job_end(struct gw *gw, uint64_t spi, uint32_t id)
{
	struct ike_sa *sa = ike_sa_from_entry(sa_table_find(gw->sas, spi));

	if (sa && sa->id == id && sa->state == IKE_SA_DELETED)
		ike_sa_free(sa);
}

void auth_first_round_ok(struct auth_ctx *a)
{
	struct ike_sa *sa = a->sa;
	struct auth_kept kept;

	if (codec_msg_notify(a->m, IKEV2_N_ANOTHER_AUTH_FOLLOWS)) {
		auth_flow_begin_rounds(a);
	} else if (auth_keep(a->m, NULL, 0, &kept) != 0) {
		ike_sa_delete(sa, "out of memory");
	} else {
		auth_sign_submit(sa, AUTH_THEN_FINAL, &kept, NULL, 0, a->method_name);
	}
}

/* A certificate or PSK first round; with ANOTHER_AUTH_FOLLOWS a second one is next. */
static void first_with_auth(struct auth_ctx *a)
{
	size_t rounds = codec_msg_notify(a->m, IKEV2_N_ANOTHER_AUTH_FOLLOWS) ? 2 : 1;

	if (a->auth->u.auth.method != IKEV2_AUTH_PSK)
		auth_cert_submit(a, rounds);
	else if (auth_psk(a, NULL, rounds) != 0)
		auth_refuse(a);
	else
		auth_first_round_ok(a);
}

/* No AUTH: the client wants EAP (RFC 7296 2.16) for a profile whose first round is EAP. */
static void first_eap(struct auth_ctx *a)
{
	struct ike_sa *sa = a->sa;
	struct profile_facts facts = { .identity = sa->peer_id };
	const struct config_profile *p = auth_select_eap_profile(sa->gw->cfg, &facts);

	a->method_name = "eap";
	if (!p) {
		auth_fail(a, "no EAP profile for this identity", NULL);
		auth_refuse(a);
		return;
	}
	auth_flow_begin_eap(a, p);
}

void ike_auth_recv(struct ike_sa *sa, const struct ike_msg *m)
{
	struct auth_ctx a = { .sa = sa, .m = m };

	if (sa->eap) {
		auth_flow_continue(sa, m);
		return;
	}
	a.idi = codec_msg_find(m, IKEV2_PL_IDI, 0);
	a.auth = codec_msg_find(m, IKEV2_PL_AUTH, 0);
	if (!a.idi) {
		exchange_respond_notify(sa, IKEV2_EXCH_IKE_AUTH, IKEV2_N_INVALID_SYNTAX, NULL, 0);
		ike_sa_delete(sa, "IKE_AUTH without IDi");
		return;
	}
	auth_id_text(&a.idi->u.id, sa->peer_id, sizeof(sa->peer_id));
	if (a.auth)
		first_with_auth(&a);
	else
		first_eap(&a);
}
