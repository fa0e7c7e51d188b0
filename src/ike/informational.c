/* SPDX-License-Identifier: ISC */
/*
 * INFORMATIONAL requests from the client (RFC 7296 1.4): liveness checks answered empty,
 * Delete of the IKE SA acknowledged then acted on, Delete of Child SAs (any of them,
 * each on its own: current ones, ones a rekey replaced) answered with the Delete of their
 * other halves (1.4.1), then removed from the dataplane.
 */
#include <string.h>

#include "ikegw/codec.h"
#include "ikegw/dataplane.h"
#include "ikegw/exchange.h"
#include "ikegw/gw.h"
#include "ikegw/ike_rekey.h"
#include "ikegw/ike_sa.h"
#include "ikegw/ikev2.h"

#define MAX_DELETED (3 * IKE_SA_MAX_CHILDREN) /* current, old, spare of each */

struct deleted {
	struct child_sa *c[MAX_DELETED];
	size_t n;
	bool ike;
};

static void collect_child(struct ike_sa *sa, const struct ike_pl_delete *d, struct deleted *out)
{
	struct child_sa *c;
	struct rbuf r;
	uint32_t spi;

	if (d->protocol != IKEV2_PROTO_ESP || d->spi_len != 4)
		return;
	rbuf_init(&r, d->spis.p, d->spis.len);
	while (rbuf_u32(&r, &spi) == 0) {
		c = ike_sa_child_by_out(sa, spi);
		for (size_t i = 0; c && i < out->n; i++)
			if (out->c[i] == c)
				c = NULL;
		if (c && out->n < MAX_DELETED)
			out->c[out->n++] = c;
	}
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void informational_recv(struct ike_sa *sa, const struct ike_msg *m)
{
	uint8_t buf[32 + 4 * MAX_DELETED], spis[4 * MAX_DELETED];
	struct deleted d = { .n = 0 };
	struct codec_enc e;
	struct wbuf w;
	uint8_t first = 0;

	for (size_t i = 0; i < m->n; i++) {
		const struct ike_payload *p = &m->pl[i];

		if (p->type != IKEV2_PL_DELETE)
			continue;
		if (p->u.del.protocol == IKEV2_PROTO_IKE)
			d.ike = true;
		else
			collect_child(sa, &p->u.del, &d);
	}
	wbuf_init(&w, buf, sizeof(buf));
	codec_enc_begin_chain(&e, &w);
	if (d.n && !d.ike) { /* RFC 7296 1.4.1: the IKE SA's Delete takes its children along */
		for (size_t i = 0; i < d.n; i++)
			put_be32(spis + 4 * i, d.c[i]->spi_in);
		codec_enc_delete(&e, IKEV2_PROTO_ESP, 4, (uint16_t)d.n, spis);
	}
	if (codec_enc_end_chain(&e, &first) != 0)
		return;
	exchange_respond(sa, IKEV2_EXCH_INFORMATIONAL, buf, wbuf_len(&w), first);
	for (size_t i = 0; i < d.n; i++) {
		log_info(&sa->gw->log, sa->tag, "Child SA %08x/%08x deleted by the client",
			 d.c[i]->spi_in, d.c[i]->spi_out);
		ike_sa_child_drop(sa, d.c[i]);
	}
	ike_sa_lines_tidy(sa);
	if (d.ike) {
		ike_rekey_deleted(sa); /* RFC 7296 2.8.2: a colliding rekey of its wins */
		ike_sa_delete(sa, sa->superseded ? "rekeyed IKE SA deleted by the client"
						 : "deleted by the client");
	}
}
