/* SPDX-License-Identifier: ISC */
/*
 * CREATE_CHILD_SA for Child SAs (RFC 7296 1.3): further Child SAs a client asks for
 * (1.3.1) and rekeys of Child SAs (1.3.3), asked by the client (we answer) or by our
 * timers (we ask).  A new pair is installed before the one it replaces is removed, so
 * traffic flows through the overlap: the old pair goes only when its Delete exchange is
 * done.  Every Child SA lives in a line of the IKE SA (ike_sa.h) with its own selectors,
 * which its rekeys keep.  Requests that rekey the IKE SA itself (2.18) are handed to
 * ike_rekey.c; the helpers both files use (create_child_int.h) are defined here.
 *
 * Collisions (2.8.1): when both sides rekey the same Child SA at once, two new SAs
 * exist once both exchanges are done; the one created with the lowest of the four
 * nonces is deleted by whoever created it and the other survives.  A Child SA request
 * while our IKE SA rekey is in flight is answered TEMPORARY_FAILURE (2.25.2).
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
#include "ikegw/ike_rekey.h"
#include "ikegw/ike_sa.h"
#include "ikegw/ikev2.h"
#include "ikegw/initiator.h"
#include "ikegw/ke.h"
#include "ikegw/sa_timers.h"
#include "ikegw/suite.h"

#include "create_child_int.h"

/* ---- shared with ike_rekey.c (create_child_int.h) ---- */

void cc_dh_wipe(struct dh *d)
{
	OPENSSL_cleanse(d, sizeof(*d));
}

/* Responder: a fresh key of group, then g^ir with the peer's value. */
int cc_dh_respond(const struct ike_sa *sa, uint16_t group, const struct ike_pl_ke *ke,
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

int cc_respond_error(struct ike_sa *sa, uint16_t type, uint16_t group)
{
	uint8_t g[2] = { (uint8_t)(group >> 8), (uint8_t)group };

	log_info(&sa->gw->log, sa->tag, "CREATE_CHILD_SA refused: notify %u", type);
	return exchange_respond_notify(sa, IKEV2_EXCH_CREATE_CHILD_SA, type, g,
				       type == IKEV2_N_INVALID_KE_PAYLOAD ? 2 : 0);
}

int cc_respond_chain(struct ike_sa *sa, struct codec_enc *e, const uint8_t *buf,
		     const struct wbuf *w)
{
	uint8_t first = 0;

	if (codec_enc_end_chain(e, &first) != 0)
		return -EMSGSIZE;
	return exchange_respond(sa, IKEV2_EXCH_CREATE_CHILD_SA, buf, wbuf_len(w), first);
}

/* Nonces compared as strongSwan does: octet by octet, then the shorter one first. */
int cc_nonce_order(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	return c ? c : (al > bl) - (al < bl);
}

/* RFC 7296 2.8.1: the lower nonce of an exchange (its first 32 octets) into out. */
uint8_t cc_lower_nonce(const uint8_t *a, size_t al, const uint8_t *b, size_t bl,
		       uint8_t out[NONCE_LEN])
{
	bool a_low = cc_nonce_order(a, al, b, bl) < 0;
	size_t n = a_low ? al : bl;

	n = n < NONCE_LEN ? n : NONCE_LEN;
	memcpy(out, a_low ? a : b, n);
	return (uint8_t)n;
}

/* Nonce and, when the proposal asks for one, our KE value into the request. */
int cc_enc_nonce_ke(const struct ike_sa *sa, struct ike_req *r, uint16_t group,
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

int cc_send_request(struct ike_sa *sa, struct ike_req *r, struct codec_enc *e,
		    const uint8_t *buf, const struct wbuf *w)
{
	uint8_t first = 0;

	if (codec_enc_end_chain(e, &first) != 0) {
		initiator_req_free_unsent(r);
		return -EMSGSIZE;
	}
	return initiator_send(sa, r, IKEV2_EXCH_CREATE_CHILD_SA, buf, wbuf_len(w), first);
}

/* The first error notify of a response, or 0. */
uint16_t cc_error_of(const struct ike_msg *m)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->pl[i].type == IKEV2_PL_NOTIFY && m->pl[i].u.notify.type <= IKEV2_N_ERROR_MAX)
			return m->pl[i].u.notify.type;
	return 0;
}

/* ---- Child SAs ---- */

static void note_nonces(struct child_sa *cs, const uint8_t *a, size_t al, const uint8_t *b,
			size_t bl)
{
	cs->nonce_min_len = cc_lower_nonce(a, al, b, bl, cs->nonce_min);
}

static int nonce_cmp(const struct child_sa *a, const struct child_sa *b)
{
	return cc_nonce_order(a->nonce_min, a->nonce_min_len, b->nonce_min, b->nonce_min_len);
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
	if (r->group && cc_dh_respond(sa, r->group, &ke->u.ke, &r->dh) != 0)
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
	return cc_respond_chain(sa, &e, buf, &w);
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
		cc_respond_error(sa, (uint16_t)notify, r->group);
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
		r->fresh.rekey_of = old->spi_in;
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
		cc_dh_wipe(&r->dh);
	free(r);
	free(buf);
}

static void respond_child_rekey(struct ike_sa *sa, const struct ike_msg *m)
{
	struct child_sa *old = rekeyed_child(sa, m);
	struct child_line *l = ike_sa_line_of(sa, old);

	if (!l || old != &l->cur) /* RFC 7296 2.25 */
		cc_respond_error(sa, IKEV2_N_CHILD_SA_NOT_FOUND, 0);
	else if (sa->req && sa->req->kind == IKE_REQ_REKEY_IKE) /* 2.25.2 */
		cc_respond_error(sa, IKEV2_N_TEMPORARY_FAILURE, 0);
	else
		child_answer(sa, m, l, old);
}

/* RFC 7296 1.3.1: a further Child SA, with selectors of its own. */
static void respond_child_new(struct ike_sa *sa, const struct ike_msg *m)
{
	struct child_line *l;

	if (sa->req && sa->req->kind == IKE_REQ_REKEY_IKE) { /* 2.25.2, as strongSwan does */
		cc_respond_error(sa, IKEV2_N_TEMPORARY_FAILURE, 0);
		return;
	}
	if (ike_sa_children_count(sa) >= IKE_SA_MAX_CHILDREN || !(l = ike_sa_line_get(sa))) {
		cc_respond_error(sa, IKEV2_N_NO_ADDITIONAL_SAS, 0);
		return;
	}
	child_answer(sa, m, l, NULL);
}

void create_child_recv(struct ike_sa *sa, const struct ike_msg *m)
{
	if (codec_msg_notify(m, IKEV2_N_REKEY_SA))
		respond_child_rekey(sa, m);
	else if (m->has_sa && m->sa.n > 0 && m->sa.p[0].protocol == IKEV2_PROTO_IKE)
		ike_rekey_recv(sa, m); /* RFC 7296 2.18 */
	else
		respond_child_new(sa, m);
	ike_sa_lines_tidy(sa);
}

/* ---- initiator: our Child SA rekeys ---- */

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
	if (cc_enc_nonce_ke(sa, r, chosen_group(&p), &e) != 0) {
		initiator_req_free_unsent(r);
		return -EIO;
	}
	child_sa_encode_ts(&l->ts, true, &e); /* RFC 7296 2.8: the same selectors */
	log_info(&sa->gw->log, sa->tag, "rekeying Child SA %08x/%08x", l->cur.spi_in,
		 l->cur.spi_out);
	cc_send_request(sa, r, &e, buf, &w);
	if (!sa->req || sa->req->kind != IKE_REQ_REKEY_CHILD || sa->req->spi != new_spi)
		return -EIO; /* not sent, and freed */
	l->rekey_spi = new_spi;
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
	cc_dh_wipe(&d);
	fresh->created_by_us = true;
	note_nonces(fresh, x.ni, x.ni_len, x.nr, x.nr_len);
	return ok;
}

/* RFC 7296 2.8.1: both sides rekeyed old; the peer's new pair is already current.  old
 * is NULL when the peer deleted it already (it did as the winner, so ours is redundant). */
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
	if (old) {
		old->we_delete = true;
		initiator_delete_child(sa, old);
	}
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
	uint16_t err = cc_error_of(m);

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
	if (!old && l->cur.rekey_of == r->old_spi) {
		/* 2.8.1: the client rekeyed it too, won, and deleted it before our answer */
		settle_collision(sa, l, NULL, &fresh);
	} else if (!old) { /* deleted meanwhile: the new pair is all there is */
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
