/* SPDX-License-Identifier: ISC */
/* The client's address: CFG_REQUEST → a lease and the CFG_REPLY (RFC 7296 3.15). */
#include <string.h>

#include "ikegw/config.h"
#include "ikegw/cp.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/ikev2.h"
#include "ikegw/pool.h"

#include "ike_auth_int.h"

static void copy_ip(struct ip_addr *out, const struct config_ip *in)
{
	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)in->family;
	memcpy(out->bytes, &in->u, in->family == AF_INET ? 4 : 16);
}

/* The pool's DNS servers and domains, the profile's allowed subnets. */
struct reply_space {
	struct ip_addr dns[8];
	struct ip_prefix subnets[16];
	const char *domains[8];
};

static void reply_config(const struct config_profile *p, const struct config_pool *pc,
			 struct reply_space *sp, struct cp_config *cfg)
{
	for (size_t i = 0; i < pc->n_dns && cfg->ndns < 8; i++)
		copy_ip(&sp->dns[cfg->ndns++], &pc->dns[i]);
	for (size_t i = 0; i < pc->n_dns_domains && cfg->ndomains < 8; i++)
		sp->domains[cfg->ndomains++] = pc->dns_domains[i].s;
	for (size_t i = 0; i < p->n_allow && cfg->nsubnets < 16; i++) {
		copy_ip(&sp->subnets[cfg->nsubnets].addr, &p->allow[i].addr);
		sp->subnets[cfg->nsubnets++].len = p->allow[i].len;
	}
}

static void read_request(const struct ike_payload *cp, struct cp_request *req)
{
	struct ike_cfg_attr a;
	struct codec_err err;
	struct rbuf it;

	cp_request_init(req);
	rbuf_init(&it, cp->u.cp.attrs.p, cp->u.cp.attrs.len);
	while (codec_cp_next(&it, &a, &err) == 1)
		cp_request_add(req, a.type, a.value.p, a.value.len);
}

int auth_assign_address(struct ike_sa *sa, const struct ike_msg *m, struct codec_enc *resp)
{
	const struct ike_payload *cp = codec_msg_find(m, IKEV2_PL_CP, 0);
	const struct config_profile *p = sa->profile;
	const struct config_pool *pc = p->pool;
	struct cp_request req;
	struct ip_addr requested;
	struct reply_space sp;
	struct cp_attr attrs[32];
	struct ike_cfg_attr wire[32];
	struct cp_config cfg = { .dns = sp.dns, .domains = sp.domains, .subnets = sp.subnets };
	size_t n = 0;

	if (!cp || cp->u.cp.cfg_type != IKEV2_CFG_REQUEST || !pc)
		return 0;
	read_request(cp, &req);
	sa->pool = sa->gw->pools[pc - sa->gw->cfg->pools];
	requested = req.ip4;
	if (auth_flow_framed_ip(sa, &requested))
		req.has_ip4 = true;
	if (pool_lease_get(sa->pool, AF_INET, sa->peer_id, req.has_ip4 ? &requested : NULL,
			   loop_now(sa->gw->loop), &sa->vip) != 0)
		return IKEV2_N_INTERNAL_ADDRESS_FAILURE;
	sa->has_vip = true;
	cfg.ip4 = &sa->vip;
	reply_config(p, pc, &sp, &cfg);
	if (cp_reply_build(&req, &cfg, attrs, 32, &n) != 0)
		return IKEV2_N_INTERNAL_ADDRESS_FAILURE;
	for (size_t i = 0; i < n; i++)
		wire[i] = (struct ike_cfg_attr){ attrs[i].type, { attrs[i].val, attrs[i].len } };
	codec_enc_cp(resp, IKEV2_CFG_REPLY, wire, n);
	return 0;
}
