/* SPDX-License-Identifier: ISC */
/*
 * IKE SA rekeys (RFC 7296 2.18), carried by CREATE_CHILD_SA: the client's (we answer,
 * via create_child_recv) and ours (sa_timers asks; the answer comes through
 * initiator.c).  The new IKE SA's keys come from the old SA's SK_d (2.18); the old SA
 * hands its Child SAs to the new one and lingers, superseded, until its Delete is done.
 *
 * Collisions (2.8.2): when both sides rekey the IKE SA at once, two new SAs exist once
 * both exchanges are done; the one created with the lowest of the four nonces is deleted
 * by whoever created it and the other survives: it inherits the Child SAs, and the
 * winner's creator deletes the old IKE SA.  The client's rekey is refused
 * TEMPORARY_FAILURE (2.25.2) while a Child SA exchange or Delete of ours is in flight.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ikegw/config.h"
#include "ikegw/gw.h"
#include "ikegw/ike_rekey.h"
#include "ikegw/ike_sa.h"
#include "ikegw/ikev2.h"
#include "ikegw/initiator.h"
#include "ikegw/ke.h"
#include "ikegw/keymat.h"
#include "ikegw/sa_timers.h"

#include "create_child_int.h"

/* ---- responder: the client rekeys the IKE SA (RFC 7296 2.18) ---- */

static uint64_t spi64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void put_spi64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* The new SA's keys from the old SA's SK_d; spi_i/spi_r as the new SA's header has them. */
static int ike_rekey_keys(struct ike_sa *old, struct ike_sa *fresh, const uint8_t *ni,
			  size_t ni_len, const uint8_t *nr, size_t nr_len, const struct dh *d)
{
	struct keymat_ike_in in = { .prf = fresh->prf, .encr = fresh->encr,
				    .integ = fresh->integ, .ni = ni, .ni_len = ni_len, .nr = nr,
				    .nr_len = nr_len, .shared = d->shared,
				    .shared_len = d->shared_len };

	ike_sa_spis(fresh, in.spi_i, in.spi_r);
	return keymat_ike_rekey(old->gw->suite, old->keys, &in, &fresh->keys);
}

/* The old SA hands everything to the new one and waits for its own Delete. */
static void ike_switch(struct ike_sa *old, struct ike_sa *fresh)
{
	fresh->state = IKE_SA_ESTABLISHED;
	fresh->superseded = false; /* a colliding rekey's SA held back until now */
	loop_timer_cancel(old->gw->loop, &fresh->half_open_timer);
	fresh->last_rx_ms = loop_now(old->gw->loop);
	ike_sa_move_state(old, fresh);
	old->superseded = true;
	sa_timers_superseded(old);
	sa_timers_established(fresh);
	log_info(&old->gw->log, old->tag, "IKE SA rekeyed into %s (%s)", fresh->tag,
		 fresh->orig_init ? "by us" : "by the client");
}

/* A new IKE SA that is not (or not yet) the one in use: it answers INFORMATIONAL only
 * and goes with its Delete, or after the superseded linger. */
static void ike_hold(struct ike_sa *fresh)
{
	fresh->state = IKE_SA_ESTABLISHED;
	fresh->superseded = true;
	fresh->last_rx_ms = loop_now(fresh->gw->loop);
	sa_timers_superseded(fresh);
}

struct ike_resp {
	struct ike_proposal chosen;
	uint8_t nr[NONCE_LEN];
	struct dh dh;
};

static struct ike_sa *ike_prepare(struct ike_sa *sa, const struct ike_msg *m,
				  struct ike_resp *r, int *notify)
{
	const struct config_proposals *cp = &sa->gw->cfg->proposals;
	const struct ike_payload *ni = codec_msg_find(m, IKEV2_PL_NONCE, 0);
	const struct ike_payload *ke = codec_msg_find(m, IKEV2_PL_KE, 0);
	struct ike_sa *fresh;

	*notify = IKEV2_N_NO_PROPOSAL_CHOSEN;
	if (proposal_select(cp->ike, cp->n_ike, &m->sa, &r->chosen) != 0 || !ni ||
	    r->chosen.spi_len != 8)
		return NULL;
	if (!ke || ke->u.ke.group != proposal_get(&r->chosen, IKEV2_TRANS_KE)->id) {
		*notify = IKEV2_N_INVALID_KE_PAYLOAD; /* RFC 7296 1.3: naming the group we want */
		return NULL;
	}
	fresh = ike_sa_new(sa->gw, &sa->local, &sa->peer, spi64(r->chosen.spi));
	if (!fresh)
		return NULL;
	sa_table_mark_established(sa->gw->sas, &fresh->ent);
	if (!ike_sa_take_suite(fresh, &r->chosen) ||
	    cc_dh_respond(sa, fresh->ke_group, &ke->u.ke, &r->dh) != 0 ||
	    RAND_bytes(r->nr, sizeof(r->nr)) != 1 ||
	    ike_rekey_keys(sa, fresh, ni->body.p, ni->body.len, r->nr, NONCE_LEN, &r->dh) != 0) {
		ike_sa_free(fresh);
		return NULL;
	}
	return fresh;
}

/* RFC 7296 2.8.2: the client's rekey met ours; its new SA waits until ours is answered. */
static void hold_theirs(struct ike_sa *sa, struct ike_sa *fresh, struct ike_rekey_theirs *t,
			const struct ike_msg *m, const uint8_t *nr)
{
	const struct ike_payload *ni = codec_msg_find(m, IKEV2_PL_NONCE, 0);

	t->spi = fresh->ent.spi_local;
	t->nonce_min_len = cc_lower_nonce(ni->body.p, ni->body.len, nr, NONCE_LEN, t->nonce_min);
	sa->rekey_theirs = t;
	ike_hold(fresh);
	log_info(&sa->gw->log, sa->tag,
		 "IKE SA rekey collision: the client's rekey into %s answered, ours in flight",
		 fresh->tag);
}

static int ike_respond_ok(struct ike_sa *sa, struct ike_sa *fresh, struct ike_resp *r,
			  uint8_t *buf)
{
	struct codec_enc e;
	struct wbuf w;

	r->chosen.spi_len = 8;
	put_spi64(r->chosen.spi, fresh->ent.spi_local);
	wbuf_init(&w, buf, INNER_MAX);
	codec_enc_begin_chain(&e, &w);
	codec_enc_sa(&e, &r->chosen, 1);
	codec_enc_nonce(&e, r->nr, NONCE_LEN);
	codec_enc_ke(&e, fresh->ke_group, r->dh.pub, r->dh.pub_len);
	return cc_respond_chain(sa, &e, buf, &w);
}

/* RFC 7296 2.25.2: which of our requests let an IKE SA rekey through.  A liveness check
 * does; our own IKE SA rekey does once (the collision rule settles it, 2.8.2); a Child
 * SA exchange or a Delete of ours does not (strongSwan refuses the same). */
static bool ike_rekey_allowed(const struct ike_sa *sa, bool *collides)
{
	*collides = sa->req && sa->req->kind == IKE_REQ_REKEY_IKE && !sa->rekey_theirs;
	return !sa->req || sa->req->kind == IKE_REQ_DPD || *collides;
}

void ike_rekey_recv(struct ike_sa *sa, const struct ike_msg *m)
{
	struct ike_resp *r = calloc(1, sizeof(*r));
	uint8_t *buf = malloc(INNER_MAX);
	struct ike_rekey_theirs *t = NULL;
	struct ike_sa *fresh = NULL;
	bool collides = false;
	int notify = 0;

	if (!r || !buf)
		goto out;
	if (!ike_rekey_allowed(sa, &collides) || (collides && !(t = calloc(1, sizeof(*t))))) {
		cc_respond_error(sa, IKEV2_N_TEMPORARY_FAILURE, 0);
		goto out;
	}
	fresh = ike_prepare(sa, m, r, &notify);
	if (!fresh) {
		const struct ike_transform *k = proposal_get(&r->chosen, IKEV2_TRANS_KE);

		cc_respond_error(sa, (uint16_t)notify, k ? k->id : sa->ke_group);
		goto out;
	}
	if (ike_respond_ok(sa, fresh, r, buf) != 0) {
		ike_sa_free(fresh);
		goto out;
	}
	if (collides) {
		hold_theirs(sa, fresh, t, m, r->nr);
		t = NULL;
	} else {
		ike_switch(sa, fresh);
	}
out:
	if (r)
		cc_dh_wipe(&r->dh);
	free(t);
	free(r);
	free(buf);
}

/* ---- initiator: our IKE SA rekey (RFC 7296 2.18) ---- */

static void ike_offer(const struct ike_sa *sa, uint64_t spi, struct ike_proposal *p)
{
	memset(p, 0, sizeof(*p));
	p->num = 1;
	p->protocol = IKEV2_PROTO_IKE;
	p->spi_len = 8;
	put_spi64(p->spi, spi);
	p->xf[p->n_xf++] = (struct ike_transform){ IKEV2_TRANS_ENCR, sa->encr->id,
						   sa->encr->keylen_bits };
	p->xf[p->n_xf++] = (struct ike_transform){ IKEV2_TRANS_PRF, sa->prf->id, 0 };
	if (sa->integ)
		p->xf[p->n_xf++] = (struct ike_transform){ IKEV2_TRANS_INTEG, sa->integ->id, 0 };
	p->xf[p->n_xf++] = (struct ike_transform){ IKEV2_TRANS_KE, sa->ke_group, 0 };
}

/* The new SA, not yet in the SA table (its SPI is reserved when it is adopted). */
static struct ike_sa *ike_half_made(struct ike_sa *sa)
{
	struct ike_sa *fresh = ike_sa_new(sa->gw, &sa->local, &sa->peer, 0);

	if (!fresh)
		return NULL;
	sa_table_remove(sa->gw->sas, &fresh->ent);
	fresh->orig_init = true; /* RFC 7296 3.1: whoever rekeys is the original initiator */
	fresh->encr = sa->encr;
	fresh->prf = sa->prf;
	fresh->integ = sa->integ;
	fresh->ke_group = sa->ke_group;
	return fresh;
}

int ike_rekey_start(struct ike_sa *sa)
{
	uint8_t buf[INNER_MAX];
	struct ike_proposal p;
	struct ike_req *r;
	struct codec_enc e;
	struct wbuf w;

	if (sa->req)
		return -EBUSY;
	r = initiator_req_new(IKE_REQ_REKEY_IKE);
	if (!r || !(r->new_sa = ike_half_made(sa))) {
		initiator_req_free_unsent(r);
		return -ENOMEM;
	}
	ike_offer(sa, r->new_sa->ent.spi_local, &p);
	wbuf_init(&w, buf, sizeof(buf));
	codec_enc_begin_chain(&e, &w);
	codec_enc_sa(&e, &p, 1);
	if (cc_enc_nonce_ke(sa, r, sa->ke_group, &e) != 0) {
		initiator_req_free_unsent(r);
		return -EIO;
	}
	log_info(&sa->gw->log, sa->tag, "rekeying the IKE SA");
	return cc_send_request(sa, r, &e, buf, &w);
}

static bool ike_answer_ok(const struct ike_sa *sa, const struct ike_msg *m)
{
	struct ike_proposal offer;
	const struct ike_proposal *c = &m->sa.p[0];

	if (!m->has_sa || m->sa.n != 1 || c->protocol != IKEV2_PROTO_IKE || c->spi_len != 8 ||
	    spi64(c->spi) == 0)
		return false;
	ike_offer(sa, 0, &offer);
	for (size_t i = 0; i < offer.n_xf; i++) {
		const struct ike_transform *t = proposal_get(c, offer.xf[i].type);

		if (!t || t->id != offer.xf[i].id || t->keylen != offer.xf[i].keylen)
			return false;
	}
	return true;
}

static int ike_adopt(struct ike_sa *sa, struct ike_req *r, const struct ike_msg *m)
{
	const struct ike_payload *nr = codec_msg_find(m, IKEV2_PL_NONCE, 0);
	const struct ike_payload *ke = codec_msg_find(m, IKEV2_PL_KE, 0);
	struct ike_sa *fresh = r->new_sa;
	struct dh d = { .pub_len = 0 };
	int rc = -EBADMSG;

	if (!nr || !ke || ke->u.ke.group != sa->ke_group || !ike_answer_ok(sa, m))
		return rc;
	fresh->ent.spi_remote = spi64(m->sa.p[0].spi);
	rc = ke_shared_compute(r->ke, ke->u.ke.data.p, ke->u.ke.data.len, d.shared,
			       sizeof(d.shared), &d.shared_len);
	if (rc == 0)
		rc = ike_rekey_keys(sa, fresh, r->ni, sizeof(r->ni), nr->body.p, nr->body.len, &d);
	if (rc == 0)
		rc = sa_table_insert_spi(sa->gw->sas, &fresh->ent, fresh->ent.spi_local);
	cc_dh_wipe(&d);
	if (rc == 0)
		sa_table_mark_established(sa->gw->sas, &fresh->ent);
	return rc;
}

/* RFC 7296 2.8.2: the client's new SA survives; the old one waits for its Delete. */
static void theirs_wins(struct ike_sa *sa, struct ike_sa *theirs)
{
	log_info(&sa->gw->log, sa->tag, "IKE SA rekey collision: the client's %s survives",
		 theirs->tag);
	ike_switch(sa, theirs);
}

static struct ike_sa *take_theirs(struct ike_sa *sa, struct ike_rekey_theirs *t)
{
	struct ike_sa *theirs = ike_sa_from_entry(sa_table_find(sa->gw->sas, t->spi));

	sa->rekey_theirs = NULL;
	return theirs && theirs != sa && theirs->state == IKE_SA_ESTABLISHED ? theirs : NULL;
}

/*
 * RFC 7296 2.8.2: both rekeys are done.  The new SA made with the lowest of the four
 * nonces is deleted by its creator; the other inherits the Child SAs.  Its creator
 * deletes the old SA (as strongSwan does): us when ours survives, else the client.  The
 * client's new SA is gone already when it deleted it as the redundant one.
 */
static void settle_ike_collision(struct ike_sa *sa, struct ike_req *r, const struct ike_msg *m,
				 struct ike_sa *ours)
{
	const struct ike_payload *nr = codec_msg_find(m, IKEV2_PL_NONCE, 0);
	struct ike_rekey_theirs *t = sa->rekey_theirs;
	struct ike_sa *theirs = take_theirs(sa, t);
	uint8_t low[NONCE_LEN];
	uint8_t low_len = cc_lower_nonce(r->ni, sizeof(r->ni), nr->body.p, nr->body.len, low);

	if (!theirs || cc_nonce_order(low, low_len, t->nonce_min, t->nonce_min_len) > 0) {
		log_info(&sa->gw->log, sa->tag,
			 "IKE SA rekey collision: ours (%s) survives, the client's is redundant",
			 ours->tag);
		ike_switch(sa, ours);
		initiator_delete_ike(sa, "rekeyed");
	} else {
		theirs_wins(sa, theirs);
		ike_hold(ours);
		initiator_delete_ike(ours, "redundant (IKE SA rekey collision, RFC 7296 2.8.2)");
	}
	OPENSSL_cleanse(t, sizeof(*t));
	free(t);
}

/* Our IKE SA rekey failed; a rekey of the client's that met it is the one then. */
static void ike_rekey_failed(struct ike_sa *sa, uint16_t err)
{
	struct ike_rekey_theirs *t = sa->rekey_theirs;
	struct ike_sa *theirs;

	if (!t) {
		if (err == IKEV2_N_TEMPORARY_FAILURE)
			sa_timers_retry_ike_rekey(sa);
		return;
	}
	/* 2.8.2: the client finished its rekey before it saw ours; it deletes the old SA */
	theirs = take_theirs(sa, t);
	free(t);
	if (theirs)
		theirs_wins(sa, theirs);
}

void ike_rekey_done(struct ike_sa *sa, struct ike_req *r, const struct ike_msg *m)
{
	struct ike_sa *fresh = r->new_sa;
	uint16_t err = cc_error_of(m);

	if (err) {
		log_info(&sa->gw->log, sa->tag, "IKE SA rekey refused by the client: notify %u", err);
		ike_rekey_failed(sa, err);
		return;
	}
	if (ike_adopt(sa, r, m) != 0) {
		log_info(&sa->gw->log, sa->tag, "unusable answer to our IKE SA rekey");
		ike_rekey_failed(sa, 0);
		return;
	}
	r->new_sa = NULL;
	if (sa->rekey_theirs) {
		settle_ike_collision(sa, r, m, fresh);
		return;
	}
	ike_switch(sa, fresh);
	initiator_delete_ike(sa, "rekeyed");
}

void ike_rekey_deleted(struct ike_sa *sa)
{
	struct ike_rekey_theirs *t = sa->rekey_theirs;
	struct ike_sa *theirs;

	if (!t)
		return;
	/* RFC 7296 2.8.2: the client did not see our rekey; "the first peer can forget its
	 * own rekey attempt", and the client's new SA takes the Child SAs. */
	theirs = take_theirs(sa, t);
	free(t);
	if (theirs)
		theirs_wins(sa, theirs);
}
