/* SPDX-License-Identifier: ISC */
/*
 * Creating a Child SA (RFC 7296 1.2, 1.3, 2.9, 2.17): ESP proposal, traffic selectors
 * narrowed to the client's VIP and the profile's allow list, keys, and the hand-over to
 * the dataplane.  IKE_AUTH uses child_sa_negotiate(); CREATE_CHILD_SA (create_child.c)
 * uses the pieces, because a rekey brings its own nonces, maybe a key exchange, and may
 * be started by us.
 */
#include <errno.h>
#include <string.h>

#include <openssl/rand.h>

#include "ikegw/child_sa.h"
#include "ikegw/config.h"
#include "ikegw/dataplane.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/ikev2.h"
#include "ikegw/keymat.h"
#include "ikegw/sa_timers.h"
#include "ikegw/suite.h"

static int read_ts(const struct ike_msg *m, uint8_t type, struct ts *out, size_t cap,
		   size_t *n)
{
	const struct ike_payload *p = codec_msg_find(m, type, 0);
	struct codec_err err;
	struct ike_ts t;
	struct rbuf it;
	int rc;

	*n = 0;
	if (!p)
		return -ENOENT;
	rbuf_init(&it, p->u.ts.selectors.p, p->u.ts.selectors.len);
	while ((rc = codec_ts_next(&it, &t, &err)) == 1) {
		if (*n == cap)
			break;
		out[*n] = (struct ts){ .type = t.type, .proto = t.ip_proto,
				       .start_port = t.start_port, .end_port = t.end_port };
		memcpy(out[*n].start, t.start, sizeof(t.start));
		memcpy(out[*n].end, t.end, sizeof(t.end));
		(*n)++;
	}
	return rc < 0 ? rc : 0;
}

static void to_ike_ts(const struct ts_list *l, struct ike_ts *out)
{
	for (size_t i = 0; i < l->n; i++) {
		out[i] = (struct ike_ts){ .type = l->ts[i].type, .ip_proto = l->ts[i].proto,
					  .start_port = l->ts[i].start_port,
					  .end_port = l->ts[i].end_port };
		memcpy(out[i].start, l->ts[i].start, sizeof(out[i].start));
		memcpy(out[i].end, l->ts[i].end, sizeof(out[i].end));
	}
}

/* RFC 7296 2.9: TSi = the client's VIP, TSr = its proposal within the profile's allow. */
static int narrow(struct ike_sa *sa, const struct ike_msg *m, struct ts_list *tsi,
		  struct ts_list *tsr)
{
	const struct config_profile *p = sa->profile;
	struct ts ci[TS_LIST_MAX], cr[TS_LIST_MAX], allowed[TS_LIST_MAX];
	struct ip_addr outer = { 0 };
	struct ts_narrow_req req = { .tsi = ci, .tsr = cr, .allowed = allowed };
	size_t na = 0;

	if (read_ts(m, IKEV2_PL_TSI, ci, TS_LIST_MAX, &req.ntsi) != 0 ||
	    read_ts(m, IKEV2_PL_TSR, cr, TS_LIST_MAX, &req.ntsr) != 0)
		return -EBADMSG;
	for (size_t i = 0; i < p->n_allow && na < TS_LIST_MAX; i++) {
		struct ip_prefix pf = { .len = p->allow[i].len };

		pf.addr.family = (uint8_t)p->allow[i].addr.family;
		memcpy(pf.addr.bytes, &p->allow[i].addr.u, pf.addr.family == AF_INET ? 4 : 16);
		if (ts_from_prefix(&pf, &allowed[na]) == 0)
			na++;
	}
	req.nallowed = na;
	if (sa->has_vip) {
		req.vips = &sa->vip;
	} else { /* no virtual IP: the client's traffic comes from its outer address */
		outer.family = (uint8_t)sa->peer.ss_family;
		if (outer.family == AF_INET)
			memcpy(outer.bytes, &((struct sockaddr_in *)&sa->peer)->sin_addr, 4);
		else
			memcpy(outer.bytes, &((struct sockaddr_in6 *)&sa->peer)->sin6_addr, 16);
		req.vips = &outer;
	}
	req.nvips = 1;
	return ts_narrow(&req, tsi, tsr);
}

static void fill_dir(struct dp_sa *d, uint32_t spi, const struct sk_dir_keys *k)
{
	d->spi = spi;
	d->encr_id = k->encr->id;
	d->encr_keylen = k->encr->keylen_bits;
	d->integ_id = k->integ ? k->integ->id : IKEV2_INTEG_NONE;
	d->enc_key_len = (uint8_t)(k->encr->key_len + k->encr->salt_len);
	memcpy(d->enc_key, k->ek, d->enc_key_len);
	d->integ_key_len = k->integ ? k->integ->key_len : 0;
	if (k->integ)
		memcpy(d->integ_key, k->ak, d->integ_key_len);
}

static void prefix_of(const struct ts *t, struct dp_prefix *out)
{
	struct ip_prefix pf[1];
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	out->family = t->type == IKEV2_TS_IPV4_ADDR_RANGE ? AF_INET : AF_INET6;
	if (ts_split_prefixes(t, pf, 1, &n) == 0 && n == 1) {
		out->plen = pf[0].len;
		memcpy(out->addr, pf[0].addr.bytes, 16);
	}
}

static int install(struct ike_sa *sa, struct child_sa *cs, const struct child_keys *ck,
		   bool we_init, const struct child_ts *ts)
{
	struct gw *gw = sa->gw;
	struct dp_child c = { .reqid = cs->reqid, .local = sa->local, .peer = sa->peer,
			      .encap = sa->natt || sa->nat_peer || sa->nat_local,
			      .soft_lifetime_s = gw->cfg->lifetimes.child * 9 / 10,
			      .hard_lifetime_s = gw->cfg->lifetimes.child, .replay_window = 128 };
	int rc;

	cs->created_ms = loop_now(gw->loop);
	if (!gw->dp)
		return 0;
	sa_timers_hook_dataplane(gw);
	/* RFC 7296 2.17: i2r protects what the exchange's initiator sends. */
	fill_dir(&c.in, cs->spi_in, we_init ? &ck->r2i : &ck->i2r);
	fill_dir(&c.out, cs->spi_out, we_init ? &ck->i2r : &ck->r2i);
	prefix_of(&ts->tsi, &c.vip);
	for (size_t i = 0; i < ts->n_tsr && i < DP_MAX_SUBNETS; i++)
		prefix_of(&ts->tsr[i], &c.subnets[c.n_subnets++]);
	rc = gw->dp->ops->child_add(gw->dp, &c);
	dp_child_wipe(&c);
	if (rc == 0)
		cs->installed = true;
	return rc;
}

int child_sa_install(struct ike_sa *sa, struct child_sa *cs, const struct ike_proposal *chosen,
		     const struct child_sa_exch *x, const struct child_ts *ts)
{
	const struct ike_transform *e = proposal_get(chosen, IKEV2_TRANS_ENCR);
	const struct ike_transform *i = proposal_get(chosen, IKEV2_TRANS_INTEG);
	struct keymat_child_in in = { .ni = x->ni, .ni_len = x->ni_len, .nr = x->nr,
				      .nr_len = x->nr_len, .shared = x->shared,
				      .shared_len = x->shared_len };
	struct child_keys ck;
	int rc;

	in.encr = e ? suite_encr_find(e->id, e->keylen) : NULL;
	in.integ = (i && i->id != IKEV2_INTEG_NONE) ? suite_integ_find(i->id) : NULL;
	if (!in.encr)
		return -ENOTSUP;
	cs->encr_id = in.encr->id;
	cs->encr_keylen = in.encr->keylen_bits;
	cs->integ_id = in.integ ? in.integ->id : IKEV2_INTEG_NONE;
	cs->reqid = ++sa->gw->next_reqid;
	rc = keymat_child_derive(sa->gw->suite, sa->keys, &in, &ck);
	if (rc == 0)
		rc = install(sa, cs, &ck, x->we_init, ts);
	keymat_child_wipe(&ck);
	return rc;
}

uint32_t child_sa_new_spi(void)
{
	uint8_t b[4];
	uint32_t spi = 0;

	/* RFC 4303 2.1: SPIs 1-255 are reserved, 0 is never used. */
	while (spi < 256) {
		if (RAND_bytes(b, sizeof(b)) != 1)
			return 0;
		spi = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	}
	return spi;
}

int child_sa_select(struct ike_sa *sa, const struct ike_msg *m, unsigned int flags,
		    struct ike_proposal *chosen)
{
	const struct config_proposals *cp = &sa->gw->cfg->proposals;

	if (!m->has_sa ||
	    proposal_select_flags(cp->esp, cp->n_esp, &m->sa, flags, chosen) != 0 ||
	    chosen->protocol != IKEV2_PROTO_ESP || chosen->spi_len != 4)
		return IKEV2_N_NO_PROPOSAL_CHOSEN;
	return 0;
}

int child_sa_narrow(struct ike_sa *sa, const struct ike_msg *m, struct child_ts *out)
{
	struct ts_list tsi, tsr;

	if (narrow(sa, m, &tsi, &tsr) != 0 || tsi.n == 0 || tsr.n == 0)
		return IKEV2_N_TS_UNACCEPTABLE;
	out->tsi = tsi.ts[0];
	out->n_tsr = (uint8_t)(tsr.n < IKE_SA_MAX_TS ? tsr.n : IKE_SA_MAX_TS);
	memcpy(out->tsr, tsr.ts, out->n_tsr * sizeof(struct ts));
	return 0;
}

/* RFC 7296 2.9: TSi are the initiator's selectors: the client's VIP when it asks. */
void child_sa_encode_ts(const struct child_ts *ts, bool we_init, struct codec_enc *e)
{
	struct ts_list vip = { .n = 1 }, nets = { .n = ts->n_tsr };
	struct ike_ts wv[1], wn[IKE_SA_MAX_TS];

	vip.ts[0] = ts->tsi;
	memcpy(nets.ts, ts->tsr, ts->n_tsr * sizeof(struct ts));
	to_ike_ts(&vip, wv);
	to_ike_ts(&nets, wn);
	codec_enc_ts(e, IKEV2_PL_TSI, we_init ? wn : wv, we_init ? nets.n : 1);
	codec_enc_ts(e, IKEV2_PL_TSR, we_init ? wv : wn, we_init ? 1 : nets.n);
}

uint32_t child_sa_spi_of(const struct ike_proposal *p)
{
	return (uint32_t)p->spi[0] << 24 | (uint32_t)p->spi[1] << 16 |
	       (uint32_t)p->spi[2] << 8 | p->spi[3];
}

void child_sa_set_spi(struct ike_proposal *p, uint32_t spi)
{
	p->spi_len = 4;
	p->spi[0] = (uint8_t)(spi >> 24);
	p->spi[1] = (uint8_t)(spi >> 16);
	p->spi[2] = (uint8_t)(spi >> 8);
	p->spi[3] = (uint8_t)spi;
}

int child_sa_negotiate(struct ike_sa *sa, const struct ike_msg *m, struct codec_enc *resp)
{
	struct child_sa_exch x = { .ni = sa->ni, .ni_len = sa->ni_len, .nr = sa->nr,
				   .nr_len = sizeof(sa->nr) };
	struct child_line *l = &sa->children; /* IKE_AUTH: the first line */
	struct ike_proposal chosen;
	int notify;

	notify = child_sa_select(sa, m, PROPOSAL_SEL_SKIP_KE, &chosen);
	if (notify == 0)
		notify = child_sa_narrow(sa, m, &l->ts);
	if (notify != 0)
		return notify;
	l->cur.spi_out = child_sa_spi_of(&chosen);
	l->cur.spi_in = child_sa_new_spi();
	if (!l->cur.spi_in || child_sa_install(sa, &l->cur, &chosen, &x, &l->ts) != 0) {
		memset(&l->cur, 0, sizeof(l->cur));
		return IKEV2_N_NO_PROPOSAL_CHOSEN;
	}
	child_sa_set_spi(&chosen, l->cur.spi_in);
	codec_enc_sa(resp, &chosen, 1);
	child_sa_encode_ts(&l->ts, false, resp);
	return 0;
}
