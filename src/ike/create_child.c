/* SPDX-License-Identifier: ISC */
/*
 * CREATE_CHILD_SA (RFC 7296 1.3): further Child SAs a client asks for (1.3.1), rekeys of
 * its Child SAs and of the IKE SA, asked by the client (we answer) or by our timers (we
 * ask).  A new pair is installed before the one it replaces is removed, so traffic flows
 * through the overlap: the old pair goes only when its Delete exchange is done.  Every
 * Child SA lives in a line of the IKE SA (ike_sa.h) with its own selectors, which its
 * rekeys keep.
 *
 * Collisions (2.8.1, 2.8.2): when both sides rekey the same SA at once, two new SAs
 * exist once both exchanges are done; the one created with the lowest of the four
 * nonces is deleted by whoever created it and the other survives (for the IKE SA it
 * inherits the Child SAs, and the winner's creator deletes the old IKE SA).  Other
 * overlaps are answered TEMPORARY_FAILURE (2.25.2): a Child SA request while our IKE SA
 * rekey is in flight, an IKE SA rekey while a Child SA exchange or Delete of ours is.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ikegw/child_sa.h"
#include "ikegw/config.h"
#include "ikegw/create_child.h"
#include "ikegw/exchange.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/ikev2.h"
#include "ikegw/initiator.h"
#include "ikegw/ke.h"
#include "ikegw/keymat.h"
#include "ikegw/sa_timers.h"
#include "ikegw/suite.h"

#define NONCE_LEN 32
#define INNER_MAX 2048

/* Our half of a key exchange: the public value and g^ir. */
struct dh {
	uint8_t pub[SUITE_MAX_KE_PUB];
	size_t pub_len;
	uint8_t shared[SUITE_MAX_KE_SHARED];
	size_t shared_len;
};

static void dh_wipe(struct dh *d)
{
	OPENSSL_cleanse(d, sizeof(*d));
}

/* Responder: a fresh key of group, then g^ir with the peer's value. */
static int dh_respond(const struct ike_sa *sa, uint16_t group, const struct ike_pl_ke *ke,
		      struct dh *out)
{
	struct ke_key *k = NULL;
	int rc = ke_key_generate(sa->gw->suite, group, &k);

	if (rc == 0)
		rc = ke_public_get(k, out->pub, sizeof(out->pub), &out->pub_len);
	if (rc == 0)
		rc = ke_shared_compute(k, ke->data.p, ke->data.len, out->shared,
				       sizeof(out->shared), &out->shared_len);
	ke_key_free(k);
	return rc;
}

static int respond_error(struct ike_sa *sa, uint16_t type, uint16_t group)
{
	uint8_t g[2] = { (uint8_t)(group >> 8), (uint8_t)group };

	log_info(&sa->gw->log, sa->tag, "CREATE_CHILD_SA refused: notify %u", type);
	return exchange_respond_notify(sa, IKEV2_EXCH_CREATE_CHILD_SA, type, g,
				       type == IKEV2_N_INVALID_KE_PAYLOAD ? 2 : 0);
}

static int respond_chain(struct ike_sa *sa, struct codec_enc *e, const uint8_t *buf,
			 const struct wbuf *w)
{
	uint8_t first = 0;

	if (codec_enc_end_chain(e, &first) != 0)
		return -EMSGSIZE;
	return exchange_respond(sa, IKEV2_EXCH_CREATE_CHILD_SA, buf, wbuf_len(w), first);
}

/* Nonces compared as strongSwan does: octet by octet, then the shorter one first. */
static int nonce_order(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	return c ? c : (al > bl) - (al < bl);
}

/* RFC 7296 2.8.1: the lower nonce of an exchange (its first 32 octets) into out. */
static uint8_t lower_nonce(const uint8_t *a, size_t al, const uint8_t *b, size_t bl,
			   uint8_t out[NONCE_LEN])
{
	bool a_low = nonce_order(a, al, b, bl) < 0;
	size_t n = a_low ? al : bl;

	n = n < NONCE_LEN ? n : NONCE_LEN;
	memcpy(out, a_low ? a : b, n);
	return (uint8_t)n;
}

static void note_nonces(struct child_sa *cs, const uint8_t *a, size_t al, const uint8_t *b,
			size_t bl)
{
	cs->nonce_min_len = lower_nonce(a, al, b, bl, cs->nonce_min);
}

static int nonce_cmp(const struct child_sa *a, const struct child_sa *b)
{
	return nonce_order(a->nonce_min, a->nonce_min_len, b->nonce_min, b->nonce_min_len);
}

/* A new pair replaces a line's current one; the old one stays until its Delete is done. */
static void take_new_child(struct ike_sa *sa, struct child_line *l, const struct child_sa *fresh)
{
	if (l->old.spi_in) /* a previous rekey's leftover: its peer never deleted it */
		ike_sa_child_drop(sa, &l->old);
	l->old = l->cur;
	l->cur = *fresh;
	sa_timers_child_created(sa, l);
}

/* ---- responder: the client rekeys its Child SA ---- */

static struct child_sa *rekeyed_child(struct ike_sa *sa, const struct ike_msg *m)
{
	const struct ike_payload *n = codec_msg_notify(m, IKEV2_N_REKEY_SA);
	struct rbuf r;
	uint32_t spi = 0;

	if (n->u.notify.protocol != IKEV2_PROTO_ESP || n->u.notify.spi_len != 4)
		return NULL;
	rbuf_init(&r, n->u.notify.spi.p, n->u.notify.spi.len);
	if (rbuf_u32(&r, &spi) != 0)
		return NULL;
	return ike_sa_child_by_out(sa, spi); /* the client names its own inbound SPI */
}

/* PFS (RFC 7296 1.3.1): the KE group chosen, 0 for none. */
static uint16_t chosen_group(const struct ike_proposal *p)
{
	const struct ike_transform *k = proposal_get(p, IKEV2_TRANS_KE);

	return k && k->id != IKEV2_KE_NONE ? k->id : 0;
}

struct child_resp {
	struct ike_proposal chosen;
	struct child_sa fresh;
	struct child_ts ts; /* the Child SA's selectors (narrowed from the request) */
	uint8_t nr[NONCE_LEN];
	struct dh dh;
	uint16_t group;
};

/* Everything up to the installed pair; 0, or the notify type to refuse with. */
static int child_prepare(struct ike_sa *sa, const struct ike_msg *m, struct child_resp *r)
{
	const struct ike_payload *ni = codec_msg_find(m, IKEV2_PL_NONCE, 0);
	const struct ike_payload *ke = codec_msg_find(m, IKEV2_PL_KE, 0);
	unsigned int flags = sa->profile && sa->profile->accept_no_pfs ? PROPOSAL_SEL_ACCEPT_NO_KE
								      : 0;
	struct child_sa_exch x = { .nr = r->nr, .nr_len = NONCE_LEN };
	int notify = child_sa_select(sa, m, flags, &r->chosen);

	if (notify == 0 && !codec_msg_find(m, IKEV2_PL_TSI, 0))
		notify = IKEV2_N_TS_UNACCEPTABLE;
	if (notify == 0)
		notify = child_sa_narrow(sa, m, &r->ts);
	if (notify != 0 || !ni)
		return notify ? notify : IKEV2_N_INVALID_SYNTAX;
	r->group = chosen_group(&r->chosen);
	if (r->group && (!ke || ke->u.ke.group != r->group))
		return IKEV2_N_INVALID_KE_PAYLOAD;
	if (r->group && dh_respond(sa, r->group, &ke->u.ke, &r->dh) != 0)
		return IKEV2_N_NO_PROPOSAL_CHOSEN;
	x.ni = ni->body.p;
	x.ni_len = ni->body.len;
	x.shared = r->group ? r->dh.shared : NULL;
	x.shared_len = r->group ? r->dh.shared_len : 0;
	r->fresh.spi_out = child_sa_spi_of(&r->chosen);
	r->fresh.spi_in = child_sa_new_spi();
	if (RAND_bytes(r->nr, sizeof(r->nr)) != 1 || !r->fresh.spi_in ||
	    child_sa_install(sa, &r->fresh, &r->chosen, &x, &r->ts) != 0)
		return IKEV2_N_NO_PROPOSAL_CHOSEN;
	note_nonces(&r->fresh, x.ni, x.ni_len, r->nr, NONCE_LEN);
	return 0;
}

/* The response to a Child SA request: SA, Nr, [KE], TSi, TSr (RFC 7296 1.3.1). */
static int child_respond_ok(struct ike_sa *sa, struct child_resp *r, uint8_t *buf)
{
	struct codec_enc e;
	struct wbuf w;

	child_sa_set_spi(&r->chosen, r->fresh.spi_in);
	wbuf_init(&w, buf, INNER_MAX);
	codec_enc_begin_chain(&e, &w);
	codec_enc_sa(&e, &r->chosen, 1);
	codec_enc_nonce(&e, r->nr, NONCE_LEN);
	if (r->group)
		codec_enc_ke(&e, r->group, r->dh.pub, r->dh.pub_len);
	child_sa_encode_ts(&r->ts, false, &e);
	return respond_chain(sa, &e, buf, &w);
}

/* Answer a request for a Child SA in line l: a rekey of old, or a new one (old NULL). */
static void child_answer(struct ike_sa *sa, const struct ike_msg *m, struct child_line *l,
			 const struct child_sa *old)
{
	struct child_resp *r = calloc(1, sizeof(*r));
	uint8_t *buf = malloc(INNER_MAX);
	int notify;

	if (!r || !buf)
		goto out;
	notify = child_prepare(sa, m, r);
	if (notify != 0) {
		if (r->fresh.installed)
			ike_sa_child_drop(sa, &r->fresh);
		respond_error(sa, (uint16_t)notify, r->group);
		goto out;
	}
	if (child_respond_ok(sa, r, buf) != 0) {
		ike_sa_child_drop(sa, &r->fresh);
		goto out;
	}
	if (old) {
		log_info(&sa->gw->log, sa->tag,
			 "Child SA rekeyed by the client: %08x/%08x -> %08x/%08x%s", old->spi_in,
			 old->spi_out, r->fresh.spi_in, r->fresh.spi_out, r->group ? " (PFS)" : "");
		take_new_child(sa, l, &r->fresh);
	} else {
		log_info(&sa->gw->log, sa->tag, "further Child SA %08x/%08x created (%zu of %d)%s",
			 r->fresh.spi_in, r->fresh.spi_out, ike_sa_children_count(sa) + 1,
			 IKE_SA_MAX_CHILDREN, r->group ? " (PFS)" : "");
		l->cur = r->fresh;
		sa_timers_child_created(sa, l);
	}
	l->ts = r->ts;
out:
	if (r)
		dh_wipe(&r->dh);
	free(r);
	free(buf);
}

static void respond_child_rekey(struct ike_sa *sa, const struct ike_msg *m)
{
	struct child_sa *old = rekeyed_child(sa, m);
	struct child_line *l = ike_sa_line_of(sa, old);

	if (!l || old != &l->cur) /* RFC 7296 2.25 */
		respond_error(sa, IKEV2_N_CHILD_SA_NOT_FOUND, 0);
	else if (sa->req && sa->req->kind == IKE_REQ_REKEY_IKE) /* 2.25.2 */
		respond_error(sa, IKEV2_N_TEMPORARY_FAILURE, 0);
	else
		child_answer(sa, m, l, old);
}

/* RFC 7296 1.3.1: a further Child SA, with selectors of its own. */
static void respond_child_new(struct ike_sa *sa, const struct ike_msg *m)
{
	struct child_line *l;

	if (sa->req && sa->req->kind == IKE_REQ_REKEY_IKE) { /* 2.25.2, as strongSwan does */
		respond_error(sa, IKEV2_N_TEMPORARY_FAILURE, 0);
		return;
	}
	if (ike_sa_children_count(sa) >= IKE_SA_MAX_CHILDREN || !(l = ike_sa_line_get(sa))) {
		respond_error(sa, IKEV2_N_NO_ADDITIONAL_SAS, 0);
		return;
	}
	child_answer(sa, m, l, NULL);
}

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
	    dh_respond(sa, fresh->ke_group, &ke->u.ke, &r->dh) != 0 ||
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
	t->nonce_min_len = lower_nonce(ni->body.p, ni->body.len, nr, NONCE_LEN, t->nonce_min);
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
	return respond_chain(sa, &e, buf, &w);
}

/* RFC 7296 2.25.2: which of our requests let an IKE SA rekey through.  A liveness check
 * does; our own IKE SA rekey does once (the collision rule settles it, 2.8.2); a Child
 * SA exchange or a Delete of ours does not (strongSwan refuses the same). */
static bool ike_rekey_allowed(const struct ike_sa *sa, bool *collides)
{
	*collides = sa->req && sa->req->kind == IKE_REQ_REKEY_IKE && !sa->rekey_theirs;
	return !sa->req || sa->req->kind == IKE_REQ_DPD || *collides;
}

static void respond_ike_rekey(struct ike_sa *sa, const struct ike_msg *m)
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
		respond_error(sa, IKEV2_N_TEMPORARY_FAILURE, 0);
		goto out;
	}
	fresh = ike_prepare(sa, m, r, &notify);
	if (!fresh) {
		const struct ike_transform *k = proposal_get(&r->chosen, IKEV2_TRANS_KE);

		respond_error(sa, (uint16_t)notify, k ? k->id : sa->ke_group);
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
		dh_wipe(&r->dh);
	free(t);
	free(r);
	free(buf);
}

void create_child_recv(struct ike_sa *sa, const struct ike_msg *m)
{
	if (codec_msg_notify(m, IKEV2_N_REKEY_SA))
		respond_child_rekey(sa, m);
	else if (m->has_sa && m->sa.n > 0 && m->sa.p[0].protocol == IKEV2_PROTO_IKE)
		respond_ike_rekey(sa, m);
	else
		respond_child_new(sa, m);
	ike_sa_lines_tidy(sa);
}

/* ---- initiator: our rekeys ---- */

/* What we offer for a rekey of c: its algorithms, and PFS with the first group of a
 * configured ESP proposal using the same cipher (RFC 7296 1.3.1). */
static void child_offer(const struct ike_sa *sa, const struct child_sa *c, struct ike_proposal *p)
{
	const struct config_proposals *cp = &sa->gw->cfg->proposals;

	memset(p, 0, sizeof(*p));
	p->num = 1;
	p->protocol = IKEV2_PROTO_ESP;
	p->xf[p->n_xf++] = (struct ike_transform){ IKEV2_TRANS_ENCR, c->encr_id, c->encr_keylen };
	if (c->integ_id != IKEV2_INTEG_NONE)
		p->xf[p->n_xf++] = (struct ike_transform){ IKEV2_TRANS_INTEG, c->integ_id, 0 };
	for (size_t i = 0; i < cp->n_esp; i++) {
		const struct ike_transform *e = proposal_get(&cp->esp[i], IKEV2_TRANS_ENCR);
		const struct ike_transform *k = proposal_get(&cp->esp[i], IKEV2_TRANS_KE);

		if (e && e->id == c->encr_id && e->keylen == c->encr_keylen) {
			if (k && k->id != IKEV2_KE_NONE)
				p->xf[p->n_xf++] = (struct ike_transform){ IKEV2_TRANS_KE, k->id, 0 };
			break;
		}
	}
	p->xf[p->n_xf++] = (struct ike_transform){ IKEV2_TRANS_ESN, IKEV2_ESN_NO, 0 };
}

/* Nonce and, when the proposal asks for one, our KE value into the request. */
static int enc_nonce_ke(const struct ike_sa *sa, struct ike_req *r, uint16_t group,
			struct codec_enc *e)
{
	uint8_t pub[SUITE_MAX_KE_PUB];
	size_t pub_len = 0;

	if (RAND_bytes(r->ni, sizeof(r->ni)) != 1)
		return -EIO;
	codec_enc_nonce(e, r->ni, sizeof(r->ni));
	if (!group)
		return 0;
	if (ke_key_generate(sa->gw->suite, group, &r->ke) != 0 ||
	    ke_public_get(r->ke, pub, sizeof(pub), &pub_len) != 0)
		return -EIO;
	codec_enc_ke(e, group, pub, pub_len);
	return 0;
}

static int send_request(struct ike_sa *sa, struct ike_req *r, struct codec_enc *e,
			const uint8_t *buf, const struct wbuf *w)
{
	uint8_t first = 0;

	if (codec_enc_end_chain(e, &first) != 0) {
		initiator_req_free_unsent(r);
		return -EMSGSIZE;
	}
	return initiator_send(sa, r, IKEV2_EXCH_CREATE_CHILD_SA, buf, wbuf_len(w), first);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int create_child_rekey_child(struct ike_sa *sa, struct child_line *l)
{
	uint8_t buf[INNER_MAX], spi[4];
	struct ike_proposal p;
	struct ike_req *r;
	struct codec_enc e;
	struct wbuf w;
	uint32_t new_spi;

	if (sa->req)
		return -EBUSY;
	if (!l->cur.spi_in || l->rekey_spi)
		return -ENOENT;
	r = initiator_req_new(IKE_REQ_REKEY_CHILD);
	if (!r || !(r->spi = child_sa_new_spi())) {
		initiator_req_free_unsent(r);
		return -ENOMEM;
	}
	new_spi = r->spi;
	r->old_spi = l->cur.spi_in;
	child_offer(sa, &l->cur, &p);
	child_sa_set_spi(&p, r->spi);
	wbuf_init(&w, buf, sizeof(buf));
	codec_enc_begin_chain(&e, &w);
	put_be32(spi, r->old_spi);
	/* RFC 7296 1.3.3: REKEY_SA names the SA by the SPI we expect inbound. */
	codec_enc_notify(&e, IKEV2_PROTO_ESP, spi, 4, IKEV2_N_REKEY_SA, NULL, 0);
	codec_enc_sa(&e, &p, 1);
	if (enc_nonce_ke(sa, r, chosen_group(&p), &e) != 0) {
		initiator_req_free_unsent(r);
		return -EIO;
	}
	child_sa_encode_ts(&l->ts, true, &e); /* RFC 7296 2.8: the same selectors */
	log_info(&sa->gw->log, sa->tag, "rekeying Child SA %08x/%08x", l->cur.spi_in,
		 l->cur.spi_out);
	send_request(sa, r, &e, buf, &w);
	if (!sa->req || sa->req->kind != IKE_REQ_REKEY_CHILD || sa->req->spi != new_spi)
		return -EIO; /* not sent, and freed */
	l->rekey_spi = new_spi;
	return 0;
}

/* The first error notify of a response, or 0. */
static uint16_t error_of(const struct ike_msg *m)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->pl[i].type == IKEV2_PL_NOTIFY && m->pl[i].u.notify.type <= IKEV2_N_ERROR_MAX)
			return m->pl[i].u.notify.type;
	return 0;
}

/* The responder's choice must be within what we offered (RFC 7296 2.7). */
static bool child_answer_ok(const struct ike_sa *sa, const struct ike_msg *m,
			    const struct ike_proposal *offer)
{
	const struct ike_proposal *c = &m->sa.p[0];

	(void)sa;
	if (!m->has_sa || m->sa.n != 1 || c->protocol != IKEV2_PROTO_ESP || c->spi_len != 4)
		return false;
	for (size_t i = 0; i < c->n_xf; i++) {
		bool found = false;

		for (size_t j = 0; j < offer->n_xf && !found; j++)
			found = offer->xf[j].type == c->xf[i].type && offer->xf[j].id == c->xf[i].id &&
				offer->xf[j].keylen == c->xf[i].keylen;
		if (!found)
			return false;
	}
	return proposal_get(c, IKEV2_TRANS_ENCR) != NULL;
}

/* Build the pair we asked for from the answer; false when it is unusable.  offer_of: the
 * Child SA whose algorithms we offered. */
static bool child_from_answer(struct ike_sa *sa, struct ike_req *r, const struct ike_msg *m,
			      const struct child_sa *offer_of, struct child_line *l,
			      struct child_sa *fresh)
{
	const struct ike_payload *nr = codec_msg_find(m, IKEV2_PL_NONCE, 0);
	const struct ike_payload *ke = codec_msg_find(m, IKEV2_PL_KE, 0);
	struct child_sa_exch x = { .ni = r->ni, .ni_len = sizeof(r->ni), .we_init = true };
	struct ike_proposal offer;
	struct dh d = { .pub_len = 0 };
	uint16_t group;
	bool ok;

	child_offer(sa, offer_of, &offer);
	if (!nr || !child_answer_ok(sa, m, &offer))
		return false;
	group = chosen_group(&m->sa.p[0]);
	if (group && (!r->ke || !ke || ke->u.ke.group != group ||
		      ke_shared_compute(r->ke, ke->u.ke.data.p, ke->u.ke.data.len, d.shared,
					sizeof(d.shared), &d.shared_len) != 0))
		return false;
	fresh->spi_in = r->spi;
	fresh->spi_out = child_sa_spi_of(&m->sa.p[0]);
	x.nr = nr->body.p;
	x.nr_len = nr->body.len;
	x.shared = group ? d.shared : NULL;
	x.shared_len = group ? d.shared_len : 0;
	/* the same selectors (RFC 7296 2.8): the line's */
	ok = child_sa_install(sa, fresh, &m->sa.p[0], &x, &l->ts) == 0;
	dh_wipe(&d);
	fresh->created_by_us = true;
	note_nonces(fresh, x.ni, x.ni_len, x.nr, x.nr_len);
	return ok;
}

/* RFC 7296 2.8.1: both sides rekeyed old; the peer's new pair is already current. */
static void settle_collision(struct ike_sa *sa, struct child_line *l, struct child_sa *old,
			     const struct child_sa *ours)
{
	if (l->spare.spi_in)
		ike_sa_child_drop(sa, &l->spare);
	if (nonce_cmp(ours, &l->cur) < 0) {
		/* ours holds the lowest nonce: redundant, and ours to delete */
		log_info(&sa->gw->log, sa->tag, "rekey collision: our Child SA %08x is redundant",
			 ours->spi_in);
		l->spare = *ours;
		initiator_delete_child(sa, &l->spare);
		return;
	}
	/* the peer's is redundant (it deletes it); ours survives and we delete the old */
	log_info(&sa->gw->log, sa->tag, "rekey collision: our Child SA %08x survives",
		 ours->spi_in);
	l->spare = l->cur;
	l->cur = *ours;
	sa_timers_child_created(sa, l);
	old->we_delete = true;
	initiator_delete_child(sa, old);
}

/* Our rekey was refused: try again later (2.25), or forget a Child SA the peer no
 * longer has (CHILD_SA_NOT_FOUND: "silently delete" it). */
static void child_refused(struct ike_sa *sa, struct child_line *l, struct child_sa *old,
			  uint16_t err)
{
	log_info(&sa->gw->log, sa->tag, "Child SA rekey refused by the client: notify %u", err);
	if (err == IKEV2_N_TEMPORARY_FAILURE && old && old == &l->cur)
		sa_timers_retry_child_rekey(sa, l);
	else if (err == IKEV2_N_CHILD_SA_NOT_FOUND && old)
		ike_sa_child_drop(sa, old);
}

void create_child_child_done(struct ike_sa *sa, struct ike_req *r, const struct ike_msg *m)
{
	struct child_line *l = ike_sa_line_by_rekey(sa, r->spi);
	struct child_sa *old = ike_sa_child_by_in(sa, r->old_spi);
	struct child_sa fresh = { .installed = false };
	uint16_t err = error_of(m);

	if (!l) /* cannot happen: a line with our rekey outstanding is kept */
		return;
	l->rekey_spi = 0;
	if (err) {
		child_refused(sa, l, old, err);
		return;
	}
	if (!child_from_answer(sa, r, m, old ? old : &l->cur, l, &fresh)) {
		log_info(&sa->gw->log, sa->tag, "unusable answer to our Child SA rekey");
		ike_sa_child_drop(sa, &fresh);
		return;
	}
	log_info(&sa->gw->log, sa->tag, "Child SA rekeyed by us: %08x -> %08x/%08x", r->old_spi,
		 fresh.spi_in, fresh.spi_out);
	if (!old) { /* deleted meanwhile: the new pair is all there is */
		if (l->cur.spi_in)
			ike_sa_child_drop(sa, &l->cur);
		l->cur = fresh;
		sa_timers_child_created(sa, l);
	} else if (old != &l->cur) {
		settle_collision(sa, l, old, &fresh);
	} else {
		take_new_child(sa, l, &fresh);
		l->old.we_delete = true;
		initiator_delete_child(sa, &l->old);
	}
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

int create_child_rekey_ike(struct ike_sa *sa)
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
	if (enc_nonce_ke(sa, r, sa->ke_group, &e) != 0) {
		initiator_req_free_unsent(r);
		return -EIO;
	}
	log_info(&sa->gw->log, sa->tag, "rekeying the IKE SA");
	return send_request(sa, r, &e, buf, &w);
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
	dh_wipe(&d);
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
	uint8_t low_len = lower_nonce(r->ni, sizeof(r->ni), nr->body.p, nr->body.len, low);

	if (!theirs || nonce_order(low, low_len, t->nonce_min, t->nonce_min_len) > 0) {
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

void create_child_ike_done(struct ike_sa *sa, struct ike_req *r, const struct ike_msg *m)
{
	struct ike_sa *fresh = r->new_sa;
	uint16_t err = error_of(m);

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

void create_child_ike_deleted(struct ike_sa *sa)
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
