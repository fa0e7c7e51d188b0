/* SPDX-License-Identifier: ISC */
/*
 * INFORMATIONAL requests from the client (RFC 7296 1.4): liveness checks answered empty,
 * Delete of the IKE SA acknowledged then acted on, Delete of our Child SA answered with
 * the Delete of its other half (1.4.1).
 */
#include <string.h>

#include "ikegw/codec.h"
#include "ikegw/dataplane.h"
#include "ikegw/exchange.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/ikev2.h"

static bool deletes_child(const struct ike_sa *sa, const struct ike_pl_delete *d)
{
	struct rbuf r;
	uint32_t spi;

	if (d->protocol != IKEV2_PROTO_ESP || d->spi_len != 4 || sa->child.spi_in == 0)
		return false;
	rbuf_init(&r, d->spis.p, d->spis.len);
	while (rbuf_u32(&r, &spi) == 0)
		if (spi == sa->child.spi_out)
			return true;
	return false;
}

void informational_recv(struct ike_sa *sa, const struct ike_msg *m)
{
	uint8_t buf[64], spi[4];
	struct codec_enc e;
	struct wbuf w;
	uint8_t first = 0;
	bool delete_ike = false, delete_child = false;

	for (size_t i = 0; i < m->n; i++) {
		const struct ike_payload *p = &m->pl[i];

		if (p->type != IKEV2_PL_DELETE)
			continue;
		if (p->u.del.protocol == IKEV2_PROTO_IKE)
			delete_ike = true;
		else if (deletes_child(sa, &p->u.del))
			delete_child = true;
	}
	wbuf_init(&w, buf, sizeof(buf));
	codec_enc_begin_chain(&e, &w);
	if (delete_child && !delete_ike) {
		spi[0] = (uint8_t)(sa->child.spi_in >> 24);
		spi[1] = (uint8_t)(sa->child.spi_in >> 16);
		spi[2] = (uint8_t)(sa->child.spi_in >> 8);
		spi[3] = (uint8_t)sa->child.spi_in;
		codec_enc_delete(&e, IKEV2_PROTO_ESP, 4, 1, spi);
	}
	if (codec_enc_end_chain(&e, &first) != 0)
		return;
	exchange_respond(sa, IKEV2_EXCH_INFORMATIONAL, buf, wbuf_len(&w), first);
	if (delete_child) {
		if (sa->child.installed && sa->gw->dp)
			sa->gw->dp->ops->child_del(sa->gw->dp, sa->child.reqid);
		sa->child.installed = false;
		sa->child.spi_in = sa->child.spi_out = 0;
	}
	if (delete_ike)
		ike_sa_delete(sa, "deleted by the client");
}
