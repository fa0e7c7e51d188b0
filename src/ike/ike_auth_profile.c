/* SPDX-License-Identifier: ISC */
/*
 * Which profile a client gets (file order: the first whose rounds and match rules fit),
 * the unique: policy, and the PSK check against the chosen profile (RFC 7296 2.15).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ikegw/config.h"
#include "ikegw/exchange.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/ikev2.h"
#include "ikegw/profile.h"
#include "ikegw/psk.h"
#include "ikegw/sa_table.h"

#include "ike_auth_int.h"

bool auth_method_is_eap(enum config_auth m)
{
	return m == CONFIG_AUTH_EAP_MSCHAPV2 || m == CONFIG_AUTH_EAP_TLS ||
	       m == CONFIG_AUTH_EAP_RADIUS;
}

/*
 * match.radius_class cannot be known before RADIUS accepted the client: for a profile
 * with an eap-radius round it is taken as fitting now and checked when the flow ends.
 */
static bool matches_so_far(const struct config_profile *p, const struct profile_facts *f)
{
	struct profile_facts g = *f;

	for (size_t i = 0; i < p->n_auth && !g.radius_class; i++)
		if (p->auth[i] == CONFIG_AUTH_EAP_RADIUS)
			g.radius_class = p->match.radius_class;
	return profile_matches(p, &g);
}

/*
 * The first profile (file order) of this many rounds (RFC 4739: the client announces a
 * second one with ANOTHER_AUTH_FOLLOWS) whose first round and match rules fit.
 */
const struct config_profile *auth_select_profile(const struct config *cfg,
						 const struct profile_facts *f, size_t rounds)
{
	for (size_t i = 0; i < cfg->n_profiles; i++) {
		const struct config_profile *p = &cfg->profiles[i];

		if (p->n_auth == rounds && p->auth[0] == f->method && matches_so_far(p, f))
			return p;
	}
	return NULL;
}

/* The first profile whose first round is an EAP method and whose rules fit. */
const struct config_profile *auth_select_eap_profile(const struct config *cfg,
						     const struct profile_facts *f)
{
	for (size_t i = 0; i < cfg->n_profiles; i++) {
		const struct config_profile *p = &cfg->profiles[i];

		if (p->n_auth > 0 && auth_method_is_eap(p->auth[0]) && matches_so_far(p, f))
			return p;
	}
	return NULL;
}

struct unique_walk {
	struct ike_sa *self;
	int found;
	bool delete_them;
};

static int unique_visit(struct sa_table_entry *e, void *arg)
{
	struct unique_walk *u = arg;
	struct ike_sa *o = ike_sa_from_entry(e);

	if (o == u->self || o->state != IKE_SA_ESTABLISHED || o->profile != u->self->profile ||
	    strcmp(o->peer_id, u->self->peer_id) != 0)
		return 0;
	u->found++;
	if (u->delete_them) {
		log_info(&o->gw->log, o->tag, "replaced by %s (unique: replace)", u->self->tag);
		exchange_send_delete(o); /* RFC 7296 1.4.1: tell the old one it is gone */
		ike_sa_free(o);
	}
	return 0;
}

bool auth_unique_ok(struct ike_sa *sa)
{
	struct unique_walk u = { .self = sa };

	if (sa->profile->unique == CONFIG_UNIQUE_NEVER)
		return true;
	u.delete_them = sa->profile->unique == CONFIG_UNIQUE_REPLACE;
	sa_table_foreach(sa->gw->sas, unique_visit, &u);
	return u.delete_them || u.found == 0;
}

/* The PSK is cheap (one PRF): checked on the loop, not as a job. */
int auth_psk(struct auth_ctx *a, const struct config_profile *p, size_t rounds)
{
	struct ike_sa *sa = a->sa;
	const struct ike_pl_auth *au = &a->auth->u.auth;
	struct profile_facts f = { .identity = sa->peer_id, .method = CONFIG_AUTH_PSK };
	size_t n = 0;
	uint8_t *octets = auth_initiator_octets(sa, &a->idi->body, &n);
	int rc;

	a->method_name = "psk";
	if (!octets)
		return auth_fail(a, "cannot compute AUTH octets", NULL);
	if (!p)
		p = auth_select_profile(sa->gw->cfg, &f, rounds);
	if (!p)
		rc = auth_fail(a, "no psk profile for this identity", NULL);
	else if (!p->psk ||
		 psk_auth_verify(auth_prf_digest(sa->prf), (const uint8_t *)p->psk, strlen(p->psk),
				 octets, n, au->data.p, au->data.len) != 0)
		rc = auth_fail(a, "pre-shared key AUTH does not verify", NULL);
	else
		rc = 0;
	if (rc == 0)
		sa->profile = p;
	free(octets);
	return rc;
}

int auth_cert_profile(struct auth_ctx *a, const struct config_profile *p, size_t rounds)
{
	struct ike_sa *sa = a->sa;
	struct profile_facts f = { .identity = sa->peer_id, .method = CONFIG_AUTH_CERTIFICATE,
				   .leaf = a->leaf, .anchor = a->anchor };

	a->method_name = "certificate";
	if (!p && !(p = auth_select_profile(sa->gw->cfg, &f, rounds)))
		return auth_fail(a, "no certificate profile matches this client", NULL);
	if (!profile_matches(p, &f))
		return auth_fail(a, "certificate does not match the profile", NULL);
	sa->profile = p;
	return 0;
}
