/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ikegw/dataplane.h"
#include "ikegw/eap_session.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/ikev2.h"
#include "ikegw/initiator.h"
#include "ikegw/pool.h"
#include "ikegw/proposal.h"
#include "ikegw/sa_table.h"
#include "ikegw/sa_timers.h"

struct ike_sa *ike_sa_from_entry(struct sa_table_entry *e)
{
	return e ? container_of(e, struct ike_sa, ent) : NULL;
}

struct ike_sa *ike_sa_new(struct gw *gw, const struct sockaddr_storage *local,
			  const struct sockaddr_storage *peer, uint64_t spi_i)
{
	struct ike_sa *sa = calloc(1, sizeof(*sa));

	if (!sa)
		return NULL;
	sa->gw = gw;
	sa->id = ++gw->next_sa_id;
	snprintf(sa->tag, sizeof(sa->tag), "#%u", sa->id);
	sa->local = *local;
	sa->peer = *peer;
	sa->ent.peer = *peer;
	sa->ent.spi_remote = spi_i;
	sa->ent.half_open = true;
	sa->state = IKE_SA_HALF_OPEN;
	loop_timer_init(&sa->half_open_timer, NULL, sa);
	sa_timers_init(sa);
	frag_reasm_init(&sa->frag, &gw->frag_budget);
	if (sa_table_insert(gw->sas, &sa->ent) != 0) {
		free(sa);
		return NULL;
	}
	return sa;
}

uint64_t ike_sa_spi_i(const struct ike_sa *sa)
{
	return sa->orig_init ? sa->ent.spi_local : sa->ent.spi_remote;
}

uint64_t ike_sa_spi_r(const struct ike_sa *sa)
{
	return sa->orig_init ? sa->ent.spi_remote : sa->ent.spi_local;
}

void ike_sa_spis(const struct ike_sa *sa, uint8_t spi_i[8], uint8_t spi_r[8])
{
	uint64_t i = ike_sa_spi_i(sa), r = ike_sa_spi_r(sa);

	for (int k = 0; k < 8; k++) {
		spi_i[k] = (uint8_t)(i >> (56 - 8 * k));
		spi_r[k] = (uint8_t)(r >> (56 - 8 * k));
	}
}

const struct sk_dir_keys *ike_sa_tx_keys(const struct ike_sa *sa)
{
	return sa->orig_init ? &sa->keys->i : &sa->keys->r;
}

const struct sk_dir_keys *ike_sa_rx_keys(const struct ike_sa *sa)
{
	return sa->orig_init ? &sa->keys->r : &sa->keys->i;
}

uint8_t ike_sa_flags(const struct ike_sa *sa)
{
	return sa->orig_init ? IKEV2_FLAG_INITIATOR : 0;
}

bool ike_sa_take_suite(struct ike_sa *sa, const struct ike_proposal *c)
{
	const struct ike_transform *e = proposal_get(c, IKEV2_TRANS_ENCR);
	const struct ike_transform *p = proposal_get(c, IKEV2_TRANS_PRF);
	const struct ike_transform *i = proposal_get(c, IKEV2_TRANS_INTEG);
	const struct ike_transform *k = proposal_get(c, IKEV2_TRANS_KE);

	if (!e || !p || !k)
		return false;
	sa->encr = suite_encr_find(e->id, e->keylen);
	sa->prf = suite_prf_find(p->id);
	sa->integ = (i && i->id != IKEV2_INTEG_NONE) ? suite_integ_find(i->id) : NULL;
	sa->ke_group = k->id;
	return sa->encr && sa->prf && (sa->encr->aead || sa->integ);
}

void ike_sa_child_drop(struct ike_sa *sa, struct child_sa *c)
{
	struct gw *gw = sa->gw;
	struct dp_counters dc;

	if (c->installed && gw->dp) {
		if (gw->dp->ops->counters && gw->dp->ops->counters(gw->dp, c->reqid, &dc) == 0) {
			gw->ctr.gone_bytes_in += dc.bytes_in;
			gw->ctr.gone_bytes_out += dc.bytes_out;
			gw->ctr.gone_packets_in += dc.packets_in;
			gw->ctr.gone_packets_out += dc.packets_out;
		}
		gw->dp->ops->child_del(gw->dp, c->reqid);
	}
	memset(c, 0, sizeof(*c));
}

static struct child_sa *slot(struct child_line *l, int i)
{
	return i == 0 ? &l->cur : i == 1 ? &l->old : &l->spare;
}

struct child_sa *ike_sa_child_by_out(struct ike_sa *sa, uint32_t spi)
{
	for (struct child_line *l = &sa->children; l && spi; l = l->next)
		for (int i = 0; i < 3; i++)
			if (slot(l, i)->spi_in && slot(l, i)->spi_out == spi)
				return slot(l, i);
	return NULL;
}

struct child_sa *ike_sa_child_by_in(struct ike_sa *sa, uint32_t spi)
{
	for (struct child_line *l = &sa->children; l && spi; l = l->next)
		for (int i = 0; i < 3; i++)
			if (slot(l, i)->spi_in == spi)
				return slot(l, i);
	return NULL;
}

struct child_line *ike_sa_line_of(struct ike_sa *sa, const struct child_sa *c)
{
	for (struct child_line *l = &sa->children; l && c; l = l->next)
		if (c == &l->cur || c == &l->old || c == &l->spare)
			return l;
	return NULL;
}

struct child_line *ike_sa_line_by_rekey(struct ike_sa *sa, uint32_t spi)
{
	for (struct child_line *l = &sa->children; l && spi; l = l->next)
		if (l->rekey_spi == spi)
			return l;
	return NULL;
}

size_t ike_sa_children_count(const struct ike_sa *sa)
{
	size_t n = 0;

	for (const struct child_line *l = &sa->children; l; l = l->next)
		n += l->cur.spi_in != 0;
	return n;
}

static bool line_empty(const struct child_line *l)
{
	return !l->cur.spi_in && !l->old.spi_in && !l->spare.spi_in && !l->rekey_spi;
}

struct child_line *ike_sa_line_get(struct ike_sa *sa)
{
	struct child_line *l = &sa->children;

	for (;; l = l->next) {
		if (line_empty(l))
			return l;
		if (!l->next)
			break;
	}
	l->next = calloc(1, sizeof(*l->next)); /* last: listed in the order asked for */
	return l->next;
}

void ike_sa_lines_tidy(struct ike_sa *sa)
{
	struct child_line **pp = &sa->children.next, *l;

	while ((l = *pp) != NULL) {
		if (line_empty(l)) {
			*pp = l->next;
			free(l);
		} else {
			pp = &l->next;
		}
	}
}

static void line_drop_all(struct ike_sa *sa, struct child_line *l)
{
	for (int i = 0; i < 3; i++)
		ike_sa_child_drop(sa, slot(l, i));
	l->rekey_spi = 0;
}

/* RFC 7296 2.18: the Child SAs (and everything the client was given) go to the new SA. */
void ike_sa_move_state(struct ike_sa *from, struct ike_sa *to)
{
	to->local = from->local;
	to->peer = from->peer;
	to->ent.peer = from->peer;
	to->natt = from->natt;
	to->nat_peer = from->nat_peer;
	to->nat_local = from->nat_local;
	to->frag_supported = from->frag_supported;
	to->profile = from->profile;
	memcpy(to->peer_id, from->peer_id, sizeof(to->peer_id));
	to->pool = from->pool;
	to->has_vip = from->has_vip;
	to->vip = from->vip;
	to->established_ms = from->established_ms;
	to->children = from->children; /* the further lines move with the first */
	for (struct child_line *l = &to->children; l; l = l->next)
		l->rekey_spi = 0; /* the old SA's outstanding request goes with it */
	memset(&from->children, 0, sizeof(from->children));
	from->has_vip = false;
	from->pool = NULL;
}

static void free_init_messages(struct ike_sa *sa)
{
	free(sa->msg1);
	free(sa->msg2);
	if (sa->ni)
		OPENSSL_cleanse(sa->ni, sa->ni_len);
	free(sa->ni);
	sa->msg1 = sa->msg2 = sa->ni = NULL;
	sa->msg1_len = sa->msg2_len = sa->ni_len = 0;
}

void ike_sa_drop_resp_frags(struct ike_sa *sa)
{
	if (sa->resp_frags) {
		frag_out_clear(sa->resp_frags);
		free(sa->resp_frags);
		sa->resp_frags = NULL;
	}
}

void ike_sa_drop_init_state(struct ike_sa *sa)
{
	free_init_messages(sa);
	OPENSSL_cleanse(sa->nr, sizeof(sa->nr));
}

/* A colliding rekey's new SA not adopted yet goes with the SA it was to replace. */
static void forget_rekey_theirs(struct ike_sa *sa)
{
	struct ike_sa *theirs;

	if (!sa->rekey_theirs)
		return;
	theirs = ike_sa_from_entry(sa_table_find(sa->gw->sas, sa->rekey_theirs->spi));
	free(sa->rekey_theirs);
	sa->rekey_theirs = NULL;
	if (theirs && theirs != sa)
		ike_sa_free(theirs);
}

void ike_sa_free(struct ike_sa *sa)
{
	struct gw *gw;

	if (!sa)
		return;
	gw = sa->gw;
	loop_timer_cancel(gw->loop, &sa->half_open_timer);
	sa_timers_cancel(sa);
	initiator_req_free(sa);
	forget_rekey_theirs(sa);
	for (struct child_line *l = &sa->children; l; l = l->next)
		line_drop_all(sa, l);
	ike_sa_lines_tidy(sa);
	if (sa->has_vip && sa->pool)
		pool_lease_put(sa->pool, &sa->vip);
	if (sa->ent.in_table)
		sa_table_remove(gw->sas, &sa->ent);
	eap_session_free(sa->eap); /* an EAP conversation cut short (terminate, shutdown) */
	sa->eap = NULL;
	keymat_ike_free(sa->keys);
	free_init_messages(sa);
	free(sa->resp);
	ike_sa_drop_resp_frags(sa);
	frag_reasm_free(&sa->frag);
	OPENSSL_cleanse(sa, sizeof(*sa));
	free(sa);
}
