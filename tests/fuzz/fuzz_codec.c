/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the IKEv2 wire codec: decode header + chain, run the payload
 * rules, then treat the first encrypted payload's body as a decrypted inner chain
 * (so inner-chain decoding is reached without keys), and re-encode what decoded.
 * Re-encoding a successfully decoded SA/KE/Nonce/Notify/TS/CP must decode again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ikegw/codec.h"
#include "ikegw/ikev2.h"
#include "ikegw/rules.h"

/* Usable proposals renumbered from 1; the ones left without transforms dropped. */
static void reencode_sa(struct codec_enc *e, const struct ike_sa_proposals *sa)
{
	struct ike_sa_proposals *c = malloc(sizeof(*c));

	if (!c)
		return;
	c->n = 0;
	for (size_t i = 0; i < sa->n; i++) {
		if (sa->p[i].n_xf == 0)
			continue;
		c->p[c->n] = sa->p[i];
		c->p[c->n++].num = 0;
	}
	if (c->n)
		codec_enc_sa(e, c->p, c->n);
	free(c);
}

static void reencode_payload(struct codec_enc *e, const struct ike_msg *m,
			     const struct ike_payload *pl)
{
	switch (pl->type) {
	case IKEV2_PL_SA:
		reencode_sa(e, &m->sa);
		break;
	case IKEV2_PL_KE:
		codec_enc_ke(e, pl->u.ke.group, pl->u.ke.data.p, pl->u.ke.data.len);
		break;
	case IKEV2_PL_IDI:
	case IKEV2_PL_IDR:
		codec_enc_id(e, pl->type, pl->u.id.type, pl->u.id.data.p, pl->u.id.data.len);
		break;
	case IKEV2_PL_NOTIFY:
		codec_enc_notify(e, pl->u.notify.protocol, pl->u.notify.spi.p, pl->u.notify.spi_len,
				 pl->u.notify.type, pl->u.notify.data.p, pl->u.notify.data.len);
		break;
	case IKEV2_PL_DELETE:
		codec_enc_delete(e, pl->u.del.protocol, pl->u.del.spi_len, pl->u.del.count,
				 pl->u.del.spis.p);
		break;
	case IKEV2_PL_EAP:
		codec_enc_eap(e, pl->u.eap.code, pl->u.eap.id, pl->u.eap.type,
			      pl->u.eap.type_data.p, pl->u.eap.type_data.len);
		break;
	case IKEV2_PL_NONCE:
		codec_enc_nonce(e, pl->body.p, pl->body.len);
		break;
	default:
		break;
	}
}

static void reencode_ts_cp(struct codec_enc *e, const struct ike_payload *pl)
{
	struct ike_ts ts[64];
	struct ike_cfg_attr a[64];
	struct rbuf it;
	size_t n = 0;

	if (pl->type == IKEV2_PL_TSI || pl->type == IKEV2_PL_TSR) {
		rbuf_init(&it, pl->u.ts.selectors.p, pl->u.ts.selectors.len);
		while (n < 64 && codec_ts_next(&it, &ts[n], NULL) == 1)
			n++;
		codec_enc_ts(e, pl->type, ts, n);
	} else if (pl->type == IKEV2_PL_CP) {
		rbuf_init(&it, pl->u.cp.attrs.p, pl->u.cp.attrs.len);
		while (n < 64 && codec_cp_next(&it, &a[n], NULL) == 1)
			n++;
		codec_enc_cp(e, pl->u.cp.cfg_type, a, n);
	}
}

/* The interpreting helpers must cope with whatever the decoder accepted. */
static void exercise_helpers(const struct ike_payload *pl)
{
	char txt[128];
	uint8_t a[16];
	struct codec_view alg, sig;

	if (pl->type == IKEV2_PL_IDI || pl->type == IKEV2_PL_IDR) {
		codec_id_format(&pl->u.id, txt, sizeof(txt));
		(void)codec_id_ipv4(&pl->u.id, a);
		(void)codec_id_ipv6(&pl->u.id, a);
		(void)codec_id_string(&pl->u.id, txt, sizeof(txt));
	} else if (pl->type == IKEV2_PL_AUTH) {
		(void)codec_auth_split_sig(&pl->u.auth, &alg, &sig);
	}
}

static void reencode(const struct ike_msg *m)
{
	static uint8_t out[70000];
	struct ike_msg *again = malloc(sizeof(*again));
	struct codec_err err;
	struct wbuf w;
	struct codec_enc e;
	uint8_t first;

	if (!again)
		return;
	wbuf_init(&w, out, sizeof(out));
	codec_enc_begin_chain(&e, &w);
	for (size_t i = 0; i < m->n; i++) {
		reencode_payload(&e, m, &m->pl[i]);
		reencode_ts_cp(&e, &m->pl[i]);
		exercise_helpers(&m->pl[i]);
	}
	if (codec_enc_end_chain(&e, &first) == 0) {
		memset(again, 0, sizeof(*again));
		if (codec_decode_chain(first, out, wbuf_len(&w), again, &err) != 0)
			abort(); /* what we encode from decoded input must decode */
	}
	free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ike_msg *m = malloc(sizeof(*m));
	struct codec_err err;

	if (!m)
		return 0;
	if (codec_decode_msg(data, size, m, &err) == 0) {
		if (m->enc.type != 0 &&
		    codec_decode_chain(m->enc.inner_next, m->enc.body.p, m->enc.body.len, m, &err))
			goto out;
		(void)rules_check(m, &err);
		reencode(m);
	}
out:
	free(m);
	return 0;
}
