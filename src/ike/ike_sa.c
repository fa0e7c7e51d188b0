/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ikegw/dataplane.h"
#include "ikegw/eap_session.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/pool.h"
#include "ikegw/sa_table.h"

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
	frag_reasm_init(&sa->frag, &gw->frag_budget);
	if (sa_table_insert(gw->sas, &sa->ent) != 0) {
		free(sa);
		return NULL;
	}
	return sa;
}

void ike_sa_spis(const struct ike_sa *sa, uint8_t spi_i[8], uint8_t spi_r[8])
{
	for (int i = 0; i < 8; i++) {
		spi_i[i] = (uint8_t)(sa->ent.spi_remote >> (56 - 8 * i));
		spi_r[i] = (uint8_t)(sa->ent.spi_local >> (56 - 8 * i));
	}
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

void ike_sa_free(struct ike_sa *sa)
{
	struct gw *gw;

	if (!sa)
		return;
	gw = sa->gw;
	loop_timer_cancel(gw->loop, &sa->half_open_timer);
	if (sa->child.installed && gw->dp)
		gw->dp->ops->child_del(gw->dp, sa->child.reqid);
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
