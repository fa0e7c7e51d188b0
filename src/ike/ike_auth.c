/* SPDX-License-Identifier: ISC */
/*
 * IKE_AUTH, responder side (RFC 7296 1.2, 2.15, 2.16, 3.5-3.8, 3.15; RFC 4739): authenticate
 * the client (certificate signature, PSK, EAP, or two of them in two rounds), choose its
 * profile, give it an address, create its Child SA, and authenticate ourselves with our
 * certificate (always in the first response) and, after EAP, with the MSK.
 *
 * A one-message authentication (certificate, PSK) is answered at once.  Anything longer
 * keeps a struct auth_flow in the SA's EAP session (sa->eap) between requests:
 *
 *   first request             stage after           our answer
 *   IDi, no AUTH (EAP)        FLOW_EAP              IDr, CERT, AUTH, EAP(Identity)
 *   IDi, AUTH, ANOTHER_AUTH   FLOW_NEXT_ROUND       IDr, CERT, AUTH
 *   later requests
 *   EAP (FLOW_EAP)            FLOW_EAP / _EAP_AUTH  EAP (Request, Success) or, with RADIUS,
 *                                                   nothing until it answers (sa busy)
 *   AUTH (FLOW_EAP_AUTH)      FLOW_NEXT_ROUND / -   AUTH(MSK) [+ CP, SA, TSi, TSr when last]
 *   IDi (FLOW_NEXT_ROUND)     FLOW_EAP / -          EAP(Identity), or for a certificate
 *                                                   round CP, SA, TSi, TSr
 *
 * SA, TSi, TSr and CP come in the first request only; they are kept (re-encoded) in the
 * flow until the last round is done.  Every refusal is one log line and
 * AUTHENTICATION_FAILED; the SA and its session go with it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "ikegw/cert.h"
#include "ikegw/child_sa.h"
#include "ikegw/config.h"
#include "ikegw/cp.h"
#include "ikegw/eap.h"
#include "ikegw/eap_session.h"
#include "ikegw/exchange.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/ikev2.h"
#include "ikegw/pool.h"
#include "ikegw/prf.h"
#include "ikegw/profile.h"
#include "ikegw/psk.h"
#include "ikegw/sa_table.h"
#include "ikegw/sa_timers.h"
#include "ikegw/sig.h"
#include "ikegw/udp.h"

#define AUTH_OCTETS_MAX (IKE_MSG_MAX + 256 + 64)
#define MAX_CERTS 8

/* Everything learned about the client while processing one request. */
struct auth_ctx {
	struct ike_sa *sa;
	const struct ike_msg *m;
	const struct ike_payload *idi, *auth;
	X509 *leaf, *anchor;
	const char *method_name;
	char reason[512];
};

static const char *prf_digest_name(const struct suite_prf *prf)
{
	static const char *const names[] = { [SUITE_MD_SHA1] = "SHA1", [SUITE_MD_SHA256] = "SHA256",
					     [SUITE_MD_SHA384] = "SHA384",
					     [SUITE_MD_SHA512] = "SHA512" };

	return prf->md < SUITE_MD_COUNT ? names[prf->md] : NULL;
}

/* RFC 7296 2.15: <msg> | <nonce> | prf(SK_px, ID payload body). */
static int auth_octets(struct ike_sa *sa, const uint8_t *msg, size_t msg_len,
		       const uint8_t *nonce, size_t nonce_len, const uint8_t *skp,
		       const struct codec_view *id_body, struct wbuf *out)
{
	uint8_t maced[SUITE_MAX_PRF_OUT];
	struct crypto_chunk c = { id_body->p, id_body->len };
	struct sig_octets o = { msg, msg_len, nonce, nonce_len, maced, sa->prf->out_len };
	int rc = prf_compute(sa->gw->suite, sa->prf, skp, sa->prf->key_len, &c, 1, maced);

	if (rc == 0)
		rc = sig_octets_build(&o, out);
	OPENSSL_cleanse(maced, sizeof(maced));
	return rc;
}

static void id_text(struct auth_ctx *a, char *out, size_t len)
{
	const struct ike_pl_id *id = &a->idi->u.id;
	uint8_t ip[16];
	X509_NAME *dn;
	const uint8_t *p = id->data.p;

	out[0] = 0;
	if (id->type == IKEV2_ID_FQDN || id->type == IKEV2_ID_RFC822_ADDR) {
		if (codec_id_string(id, out, len) == 0)
			return;
	} else if (id->type == IKEV2_ID_IPV4_ADDR && codec_id_ipv4(id, ip) == 0) {
		inet_ntop(AF_INET, ip, out, (socklen_t)len);
		return;
	} else if (id->type == IKEV2_ID_IPV6_ADDR && codec_id_ipv6(id, ip) == 0) {
		inet_ntop(AF_INET6, ip, out, (socklen_t)len);
		return;
	} else if (id->type == IKEV2_ID_DER_ASN1_DN &&
		   (dn = d2i_X509_NAME(NULL, &p, (long)id->data.len)) != NULL) {
		X509_NAME_oneline(dn, out, (int)len);
		X509_NAME_free(dn);
		return;
	}
	codec_id_format(id, out, len);
}

/* Record why the client is refused ("what: detail"); always -EACCES. */
static int fail(struct auth_ctx *a, const char *what, const char *detail)
{
	snprintf(a->reason, sizeof(a->reason), "%s%s%s", what, detail ? ": " : "",
		 detail ? detail : "");
	return -EACCES;
}

/* The client's certificate chain, verified against trust.ca/crl, bound to its IDi. */
static int verify_cert(struct auth_ctx *a)
{
	struct cert_der der[MAX_CERTS];
	struct cert_error err = { 0 };
	size_t n = 0;

	for (size_t i = 0; i < a->m->n && n < MAX_CERTS; i++) {
		const struct ike_payload *p = &a->m->pl[i];

		if (p->type == IKEV2_PL_CERT && p->u.cert.encoding == IKEV2_CERT_X509_SIG)
			der[n++] = (struct cert_der){ p->u.cert.data.p, p->u.cert.data.len };
	}
	if (n == 0)
		return fail(a, "no certificate sent", NULL);
	if (!a->sa->gw->trust)
		return fail(a, "no trusted CA configured", NULL);
	if (cert_chain_verify(a->sa->gw->trust, der, n, gw_time(a->sa->gw), &a->leaf, &a->anchor,
			      &err) != 0)
		return fail(a, "certificate", err.reason);
	if (cert_match_id(a->leaf, a->idi->u.id.type, a->idi->u.id.data.p,
			  a->idi->u.id.data.len) != 0)
		return fail(a, "identity not in the certificate", NULL);
	return 0;
}

static int verify_signature(struct auth_ctx *a, const uint8_t *octets, size_t n)
{
	const struct ike_pl_auth *au = &a->auth->u.auth;
	int rc = sig_verify(cert_pubkey(a->leaf), au->method, au->data.p, au->data.len, octets,
			    n);

	return rc == 0 ? 0 : fail(a, "signature does not verify", NULL);
}

static int verify_psk(struct auth_ctx *a, const struct config_profile *p, const uint8_t *octets,
		      size_t n)
{
	const struct ike_pl_auth *au = &a->auth->u.auth;

	if (!p->psk || psk_auth_verify(prf_digest_name(a->sa->prf), (const uint8_t *)p->psk,
				       strlen(p->psk), octets, n, au->data.p, au->data.len) != 0)
		return fail(a, "pre-shared key AUTH does not verify", NULL);
	return 0;
}

static bool method_is_eap(enum config_auth m)
{
	return m == CONFIG_AUTH_EAP_MSCHAPV2 || m == CONFIG_AUTH_EAP_TLS ||
	       m == CONFIG_AUTH_EAP_RADIUS;
}

/*
 * The first profile (file order) of this many rounds (RFC 4739: the client announces a
 * second one with ANOTHER_AUTH_FOLLOWS) whose first round and match rules fit.
 */
/*
 * match.radius_class cannot be known before RADIUS accepted the client: for a profile
 * with an eap-radius round it is taken as fitting now and checked in final_profile().
 */
static bool matches_so_far(const struct config_profile *p, const struct profile_facts *f)
{
	struct profile_facts g = *f;

	for (size_t i = 0; i < p->n_auth && !g.radius_class; i++)
		if (p->auth[i] == CONFIG_AUTH_EAP_RADIUS)
			g.radius_class = p->match.radius_class;
	return profile_matches(p, &g);
}

static const struct config_profile *select_profile(const struct config *cfg,
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
static const struct config_profile *select_eap_profile(const struct config *cfg,
						       const struct profile_facts *f)
{
	for (size_t i = 0; i < cfg->n_profiles; i++) {
		const struct config_profile *p = &cfg->profiles[i];

		if (p->n_auth > 0 && method_is_eap(p->auth[0]) && matches_so_far(p, f))
			return p;
	}
	return NULL;
}

/* InitiatorSignedOctets for this request's IDi (RFC 7296 2.15); free() the result. */
static uint8_t *initiator_octets(struct auth_ctx *a, size_t *len)
{
	struct ike_sa *sa = a->sa;
	uint8_t *octets = malloc(AUTH_OCTETS_MAX);
	struct codec_view idb = a->idi->body;
	struct wbuf w;

	if (!octets)
		return NULL;
	wbuf_init(&w, octets, AUTH_OCTETS_MAX);
	if (auth_octets(sa, sa->msg1, sa->msg1_len, sa->nr, sizeof(sa->nr), sa->keys->pi, &idb,
			&w) != 0) {
		free(octets);
		return NULL;
	}
	*len = wbuf_len(&w);
	return octets;
}

/* A certificate or PSK AUTH, checked for a profile p (NULL: choose one of rounds rounds). */
static int authenticate(struct auth_ctx *a, const struct config_profile *p, size_t rounds)
{
	struct ike_sa *sa = a->sa;
	struct profile_facts f = { .identity = sa->peer_id };
	size_t n = 0;
	uint8_t *octets = initiator_octets(a, &n);
	int rc;

	if (!octets)
		return fail(a, "cannot compute AUTH octets", NULL);
	if (a->auth->u.auth.method == IKEV2_AUTH_PSK) {
		a->method_name = "psk";
		f.method = CONFIG_AUTH_PSK;
		if (!p)
			p = select_profile(sa->gw->cfg, &f, rounds);
		rc = p ? verify_psk(a, p, octets, n)
		       : fail(a, "no psk profile for this identity", NULL);
	} else {
		a->method_name = "certificate";
		f.method = CONFIG_AUTH_CERTIFICATE;
		rc = verify_cert(a);
		if (rc == 0)
			rc = verify_signature(a, octets, n);
		f.leaf = a->leaf;
		f.anchor = a->anchor;
		if (rc == 0 && !p && !(p = select_profile(sa->gw->cfg, &f, rounds)))
			rc = fail(a, "no certificate profile matches this client", NULL);
		else if (rc == 0 && !profile_matches(p, &f))
			rc = fail(a, "certificate does not match the profile", NULL);
	}
	if (rc == 0)
		sa->profile = p;
	free(octets);
	return rc;
}

/* unique: replace deletes the identity's other SAs; keep refuses the newcomer. */
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

static bool unique_ok(struct ike_sa *sa)
{
	struct unique_walk u = { .self = sa };

	if (sa->profile->unique == CONFIG_UNIQUE_NEVER)
		return true;
	u.delete_them = sa->profile->unique == CONFIG_UNIQUE_REPLACE;
	sa_table_foreach(sa->gw->sas, unique_visit, &u);
	return u.delete_them || u.found == 0;
}

static void copy_ip(struct ip_addr *out, const struct config_ip *in)
{
	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)in->family;
	memcpy(out->bytes, &in->u, in->family == AF_INET ? 4 : 16);
}

static bool framed_ip(struct ike_sa *sa, struct ip_addr *out);

/* CFG_REQUEST → a lease and the CFG_REPLY attributes (RFC 7296 3.15). */
static int assign_address(struct ike_sa *sa, const struct ike_msg *m, struct codec_enc *resp)
{
	const struct ike_payload *cp = codec_msg_find(m, IKEV2_PL_CP, 0);
	const struct config_profile *p = sa->profile;
	const struct config_pool *pc = p->pool;
	struct cp_request req;
	struct ip_addr dns[8], requested;
	struct ip_prefix subnets[16];
	const char *domains[8];
	struct cp_attr attrs[32];
	struct ike_cfg_attr wire[32];
	struct cp_config cfg = { .dns = dns, .domains = domains, .subnets = subnets };
	struct ike_cfg_attr a;
	struct codec_err err;
	struct rbuf it;
	size_t n = 0;

	if (!cp || cp->u.cp.cfg_type != IKEV2_CFG_REQUEST || !pc)
		return 0;
	cp_request_init(&req);
	rbuf_init(&it, cp->u.cp.attrs.p, cp->u.cp.attrs.len);
	while (codec_cp_next(&it, &a, &err) == 1)
		cp_request_add(&req, a.type, a.value.p, a.value.len);
	sa->pool = sa->gw->pools[pc - sa->gw->cfg->pools];
	requested = req.ip4;
	if (framed_ip(sa, &requested))
		req.has_ip4 = true;
	if (pool_lease_get(sa->pool, AF_INET, sa->peer_id, req.has_ip4 ? &requested : NULL,
			   loop_now(sa->gw->loop), &sa->vip) != 0)
		return IKEV2_N_INTERNAL_ADDRESS_FAILURE;
	sa->has_vip = true;
	cfg.ip4 = &sa->vip;
	for (size_t i = 0; i < pc->n_dns && cfg.ndns < 8; i++)
		copy_ip(&dns[cfg.ndns++], &pc->dns[i]);
	for (size_t i = 0; i < pc->n_dns_domains && cfg.ndomains < 8; i++)
		domains[cfg.ndomains++] = pc->dns_domains[i].s;
	for (size_t i = 0; i < p->n_allow && cfg.nsubnets < 16; i++) {
		copy_ip(&subnets[cfg.nsubnets].addr, &p->allow[i].addr);
		subnets[cfg.nsubnets++].len = p->allow[i].len;
	}
	if (cp_reply_build(&req, &cfg, attrs, 32, &n) != 0)
		return IKEV2_N_INTERNAL_ADDRESS_FAILURE;
	for (size_t i = 0; i < n; i++)
		wire[i] = (struct ike_cfg_attr){ attrs[i].type, { attrs[i].val, attrs[i].len } };
	codec_enc_cp(resp, IKEV2_CFG_REPLY, wire, n);
	return 0;
}

/* Our IDr payload body (type, 3 reserved octets, data): what prf(SK_pr, IDr') covers. */
static int our_id(struct gw *gw, uint8_t *type, uint8_t *data, size_t cap, size_t *len)
{
	const struct config_gateway *g = &gw->cfg->gateway;
	uint8_t *p = data;
	int n;

	switch (g->id_type) {
	case CONFIG_ID_IPV4:
		*type = IKEV2_ID_IPV4_ADDR;
		*len = 4;
		return inet_pton(AF_INET, g->id, data) == 1 ? 0 : -EINVAL;
	case CONFIG_ID_IPV6:
		*type = IKEV2_ID_IPV6_ADDR;
		*len = 16;
		return inet_pton(AF_INET6, g->id, data) == 1 ? 0 : -EINVAL;
	case CONFIG_ID_DN:
		*type = IKEV2_ID_DER_ASN1_DN;
		n = i2d_X509_NAME(X509_get_subject_name(cert_own_leaf(gw->own)), NULL);
		if (n <= 0 || (size_t)n > cap)
			return -EINVAL;
		*len = (size_t)i2d_X509_NAME(X509_get_subject_name(cert_own_leaf(gw->own)), &p);
		return 0;
	default:
		*type = IKEV2_ID_FQDN;
		*len = strlen(g->id);
		if (*len > cap)
			return -EINVAL;
		memcpy(data, g->id, *len);
		return 0;
	}
}

/* IDr, CERT (always: some clients send no CERTREQ), AUTH signed with our key. */
static int authenticate_self(struct ike_sa *sa, struct codec_enc *resp)
{
	struct gw *gw = sa->gw;
	EVP_PKEY *key = cert_own_key(gw->own);
	uint8_t body[4 + 1024], *octets = malloc(AUTH_OCTETS_MAX), authbuf[2048];
	struct codec_view idb = { body, 0 };
	struct wbuf w, aw;
	size_t id_len = 0;
	uint8_t id_type = 0, method;
	int rc, hash;

	if (!octets)
		return -ENOMEM;
	memset(body, 0, 4);
	rc = our_id(gw, &id_type, body + 4, sizeof(body) - 4, &id_len);
	body[0] = id_type;
	idb.len = 4 + id_len;
	wbuf_init(&w, octets, AUTH_OCTETS_MAX);
	if (rc == 0)
		rc = auth_octets(sa, sa->msg2, sa->msg2_len, sa->ni, sa->ni_len, sa->keys->pr, &idb,
				 &w);
	wbuf_init(&aw, authbuf, sizeof(authbuf));
	hash = sig_choose_hash(sa->sighash, sa->sighash_len, key);
	if (rc == 0 && sa->sighash_len && hash > 0) { /* RFC 7427 */
		method = IKEV2_AUTH_DIGITAL_SIGNATURE;
		rc = sig_ds_sign(key, hash, false, octets, wbuf_len(&w), &aw);
	} else if (rc == 0) {
		method = (uint8_t)sig_classic_method(key);
		rc = sig_classic_sign(key, method, false, octets, wbuf_len(&w), &aw);
	}
	free(octets);
	if (rc != 0)
		return rc;
	codec_enc_id(resp, IKEV2_PL_IDR, id_type, body + 4, id_len);
	for (size_t i = 0; i < cert_own_count(gw->own); i++) {
		struct cert_der d = cert_own_der(gw->own, i);

		codec_enc_cert(resp, IKEV2_PL_CERT, IKEV2_CERT_X509_SIG, d.der, d.len);
	}
	codec_enc_auth(resp, method, authbuf, wbuf_len(&aw));
	return 0;
}

static void peer_text(const struct ike_sa *sa, char *out, size_t len)
{
	const void *pa = sa->peer.ss_family == AF_INET
				 ? (const void *)&((const struct sockaddr_in *)&sa->peer)->sin_addr
				 : (const void *)&((const struct sockaddr_in6 *)&sa->peer)->sin6_addr;

	if (!inet_ntop(sa->peer.ss_family, pa, out, (socklen_t)len))
		snprintf(out, len, "?");
}

static void established(struct ike_sa *sa, const char *method)
{
	char vip[INET6_ADDRSTRLEN] = "-", peer[INET6_ADDRSTRLEN];

	peer_text(sa, peer, sizeof(peer));
	if (sa->has_vip)
		inet_ntop(sa->vip.family, sa->vip.bytes, vip, sizeof(vip));
	sa->state = IKE_SA_ESTABLISHED;
	sa->established_ms = loop_now(sa->gw->loop);
	sa_table_mark_established(sa->gw->sas, &sa->ent);
	loop_timer_cancel(sa->gw->loop, &sa->half_open_timer);
	sa->gw->ctr.handshakes_ok++;
	/* "[2001:db8::2]:4500" for IPv6, as ikegwctl prints it: the port stays unambiguous */
	log_info(&sa->gw->log, sa->tag,
		 "established: identity '%s' from %s%s%s:%u, vip %s, profile %s, auth %s, %s/%s",
		 sa->peer_id, sa->peer.ss_family == AF_INET6 ? "[" : "", peer,
		 sa->peer.ss_family == AF_INET6 ? "]" : "", udp_addr_port(&sa->peer), vip,
		 sa->profile->name, method, sa->encr->name, sa->prf->name);
}

/* The flow is over (established or refused): the session and what it kept go. */
static void flow_end(struct ike_sa *sa)
{
	eap_session_free(sa->eap);
	sa->eap = NULL;
}

/*
 * SPEC: a refused client gets AUTHENTICATION_FAILED (after an EAP-Failure when EAP
 * failed, RFC 7296 2.16) and one log line with its address, claimed identity, method and
 * reason; nothing of its state stays.
 */
static void log_failure(struct ike_sa *sa, const char *method, const char *reason)
{
	char peer[INET6_ADDRSTRLEN];

	peer_text(sa, peer, sizeof(peer));
	sa->gw->ctr.auth_failures++;
	sa->gw->ctr.handshakes_failed++;
	log_warn(&sa->gw->log, sa->tag, "authentication failed: %s identity '%s' method %s: %s",
		 peer, sa->peer_id, method ? method : "?", reason);
}

static void refuse_sa(struct ike_sa *sa, const char *method, const char *reason,
		      const uint8_t *eap, size_t eap_len)
{
	uint8_t buf[512];
	struct codec_enc e;
	struct wbuf w;
	struct eap_pkt p;
	uint8_t first;

	log_failure(sa, method, reason);
	wbuf_init(&w, buf, sizeof(buf));
	codec_enc_begin_chain(&e, &w);
	codec_enc_notify(&e, 0, NULL, 0, IKEV2_N_AUTHENTICATION_FAILED, NULL, 0);
	if (eap && eap_decode(eap, eap_len, &p) == 0 && p.code == EAP_CODE_FAILURE)
		codec_enc_eap(&e, p.code, p.id, 0, NULL, 0);
	if (codec_enc_end_chain(&e, &first) == 0)
		exchange_respond(sa, IKEV2_EXCH_IKE_AUTH, buf, wbuf_len(&w), first);
	flow_end(sa);
	ike_sa_delete(sa, "authentication failed");
}

static void refuse(struct auth_ctx *a)
{
	refuse_sa(a->sa, a->method_name, a->reason, NULL, 0);
}

/* Our answer: the inner chain built by fill, encrypted and sent. */
typedef int fill_fn(struct ike_sa *sa, const void *arg, struct codec_enc *e);

static int respond_with(struct ike_sa *sa, fill_fn *fill, const void *arg)
{
	uint8_t *buf = malloc(IKE_MSG_MAX);
	struct codec_enc e;
	struct wbuf w;
	uint8_t first;
	int rc;

	if (!buf)
		return -ENOMEM;
	wbuf_init(&w, buf, IKE_MSG_MAX);
	codec_enc_begin_chain(&e, &w);
	rc = fill(sa, arg, &e);
	if (rc == 0)
		rc = codec_enc_end_chain(&e, &first);
	if (rc == 0)
		rc = exchange_respond(sa, IKEV2_EXCH_IKE_AUTH, buf, wbuf_len(&w), first);
	free(buf);
	return rc;
}

/* CP, then the Child SA of the request m (or a notify why not: the IKE SA stays). */
static int fill_child(struct ike_sa *sa, const struct ike_msg *m, struct codec_enc *e)
{
	int notify = assign_address(sa, m, e);

	if (notify == 0)
		notify = child_sa_negotiate(sa, m, e);
	if (notify != 0) {
		log_warn(&sa->gw->log, sa->tag, "no Child SA: notify %d", notify);
		codec_enc_notify(e, 0, NULL, 0, (uint16_t)notify, NULL, 0);
	}
	return 0;
}

static int fill_ok(struct ike_sa *sa, const void *arg, struct codec_enc *e)
{
	int rc = authenticate_self(sa, e);

	return rc ? rc : fill_child(sa, arg, e);
}

static int fill_self(struct ike_sa *sa, const void *arg, struct codec_enc *e)
{
	(void)arg;
	return authenticate_self(sa, e);
}

/* Build and send the success response; a Child SA failure leaves the IKE SA up. */
static int respond_ok(struct ike_sa *sa, const struct ike_msg *m)
{
	return respond_with(sa, fill_ok, m);
}

/* ---- longer authentications: EAP (RFC 7296 2.16) and two rounds (RFC 4739) ---- */

enum flow_stage {
	FLOW_EAP,        /* an EAP conversation runs */
	FLOW_EAP_AUTH,   /* EAP-Success sent: the client's AUTH (with the MSK) is next */
	FLOW_NEXT_ROUND, /* a round is done: the next one starts with an IDi */
};

#define FLOW_IDI_MAX 512

struct auth_flow {
	enum flow_stage stage;
	char method[24];           /* of the round in progress, for logs */
	char round_id[128];        /* this round's IDi as text: EAP's fallback identity */
	uint8_t idi[FLOW_IDI_MAX]; /* this round's IDi body: its AUTH covers it (2.15) */
	size_t idi_len;
	uint8_t *first;            /* SA, TSi, TSr, CP, N of the first request, re-encoded */
	size_t first_len;
	uint8_t first_type;
	X509 *leaf, *anchor;       /* from a certificate round */
	char peer[INET6_ADDRSTRLEN]; /* RADIUS Calling-Station-Id (RFC 3579 2.6.2) */
	char ike_id[128];          /* the first IDi as text: what match.identity applies to */
	char methods[64];          /* "certificate+eap-radius", for the established line */
	struct eap_session_attrs attrs; /* of the RADIUS round */
};

static void flow_free(void *arg)
{
	struct auth_flow *f = arg;

	if (!f)
		return;
	free(f->first);
	X509_free(f->leaf);
	X509_free(f->anchor);
	OPENSSL_cleanse(f, sizeof(*f));
	free(f);
}

static struct auth_flow *flow_of(const struct ike_sa *sa)
{
	return eap_session_ctx(sa->eap);
}

/* RADIUS Framed-IP-Address (RFC 2865 5.8) is the client's address when the pool has it. */
static bool framed_ip(struct ike_sa *sa, struct ip_addr *out)
{
	const struct auth_flow *f = sa->eap ? flow_of(sa) : NULL;
	struct ip_addr a = { .family = AF_INET };

	if (!f || !f->attrs.has_framed_ip || !sa->pool)
		return false;
	memcpy(a.bytes, f->attrs.framed_ip, 4);
	if (!pool_contains(sa->pool, &a)) {
		log_info(&sa->gw->log, sa->tag, "RADIUS Framed-IP-Address outside the pool ignored");
		return false;
	}
	*out = a;
	return true;
}

/* The payloads the last round needs from the first request, as a chain of their own. */
static int flow_keep_first(struct auth_flow *f, const struct ike_msg *m)
{
	static const uint8_t keep[] = { IKEV2_PL_SA, IKEV2_PL_TSI, IKEV2_PL_TSR, IKEV2_PL_CP,
					IKEV2_PL_NOTIFY };
	uint8_t *buf = malloc(IKE_MSG_MAX);
	struct codec_enc e;
	struct wbuf w;

	if (!buf)
		return -ENOMEM;
	wbuf_init(&w, buf, IKE_MSG_MAX);
	codec_enc_begin_chain(&e, &w);
	for (size_t i = 0; i < m->n; i++) {
		const struct ike_payload *p = &m->pl[i];

		if (!p->inner || !memchr(keep, p->type, sizeof(keep)))
			continue;
		codec_enc_open(&e, p->type, p->critical);
		wbuf_bytes(&w, p->body.p, p->body.len);
		codec_enc_close(&e);
	}
	if (codec_enc_end_chain(&e, &f->first_type) != 0) {
		free(buf);
		return -EMSGSIZE;
	}
	f->first = buf;
	f->first_len = wbuf_len(&w);
	return 0;
}

static int flow_keep_idi(struct auth_flow *f, const struct ike_payload *idi, const char *text)
{
	if (idi->body.len > sizeof(f->idi))
		return -EMSGSIZE;
	memcpy(f->idi, idi->body.p, idi->body.len);
	f->idi_len = idi->body.len;
	snprintf(f->round_id, sizeof(f->round_id), "%s", text);
	return 0;
}

static void eap_done(void *arg, uint64_t key, struct eap_session *s,
		     enum eap_session_status st, const uint8_t *pkt, size_t len);

/* The client's NT hash from users: (read at the time of use: a reload may change it). */
static int user_lookup(void *arg, const char *name, uint8_t nt_hash[16])
{
	const struct config *cfg = ((struct gw *)arg)->cfg;

	for (size_t i = 0; i < cfg->n_users; i++) {
		if (strcmp(cfg->users[i].name, name) == 0) {
			memcpy(nt_hash, cfg->users[i].nt_hash, 16);
			return 0;
		}
	}
	return -ENOENT;
}

static struct eap_session *session_new(struct ike_sa *sa, struct auth_flow *f)
{
	struct gw *gw = sa->gw;
	struct eap_session_cfg c = {
		.ike_identity = f->round_id, .server_name = gw->cfg->gateway.id,
		.mschapv2 = gw->mschapv2, .lookup = user_lookup, .lookup_arg = gw,
		.radius = gw->radius, .nas_identifier = gw->cfg->gateway.id,
		.own = gw->own, .trust = gw->trust, .now = gw_time(gw),
		.done = eap_done, .done_arg = gw, .owner_key = sa->ent.spi_local,
	};

	peer_text(sa, f->peer, sizeof(f->peer));
	c.calling_station_id = f->peer;
	return eap_session_new(&c);
}

/*
 * A client that stops half way: the half-open timer (timeouts.half_open) now also ends
 * the conversation, counting it as a failed sign-in.
 */
static void flow_expired(struct loop *loop, void *arg)
{
	struct ike_sa *sa = arg;
	struct auth_flow *f = flow_of(sa);

	(void)loop;
	if (sa->state != IKE_SA_HALF_OPEN)
		return;
	log_failure(sa, f ? f->method : NULL,
		    eap_session_busy(sa->eap) ? "RADIUS timeout (half-open timeout)"
					      : "client stopped answering (half-open timeout)");
	flow_end(sa);
	ike_sa_free(sa);
}

/* The flow of a longer authentication, kept in a new EAP session of the SA. */
static struct auth_flow *flow_start(struct ike_sa *sa, const struct ike_msg *m,
				    const struct ike_payload *idi)
{
	struct auth_flow *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	if (flow_keep_first(f, m) != 0 || flow_keep_idi(f, idi, sa->peer_id) != 0 ||
	    !(sa->eap = session_new(sa, f))) {
		flow_free(f);
		return NULL;
	}
	eap_session_set_ctx(sa->eap, f, flow_free);
	snprintf(f->ike_id, sizeof(f->ike_id), "%s", sa->peer_id);
	loop_timer_cancel(sa->gw->loop, &sa->half_open_timer);
	loop_timer_init(&sa->half_open_timer, flow_expired, sa);
	loop_timer_arm_in(sa->gw->loop, &sa->half_open_timer,
			  sa->gw->cfg->timeouts.half_open * 1000ull);
	return f;
}

/* Something we cannot do (memory, encoding): the SA goes, without a refusal line. */
static void flow_abort(struct ike_sa *sa, const char *why)
{
	ike_sa_delete(sa, why);
	flow_end(sa);
}

/* An EAP packet as an IKE EAP payload (RFC 7296 3.16). */
static int enc_eap(struct codec_enc *e, const uint8_t *pkt, size_t len)
{
	struct eap_pkt p;

	if (eap_decode(pkt, len, &p) != 0)
		return -EINVAL;
	codec_enc_eap(e, p.code, p.id, p.type, p.data, p.data_len);
	return 0;
}

struct eap_out {
	const uint8_t *pkt;
	size_t len;
};

static int fill_eap(struct ike_sa *sa, const void *arg, struct codec_enc *e)
{
	const struct eap_out *o = arg;

	(void)sa;
	return enc_eap(e, o->pkt, o->len);
}

/* RFC 7296 2.16: the first answer authenticates us with our certificate, then EAP. */
static int fill_first_eap(struct ike_sa *sa, const void *arg, struct codec_enc *e)
{
	int rc = authenticate_self(sa, e);

	return rc ? rc : fill_eap(sa, arg, e);
}

/* RFC 7296 2.16: AUTH = prf(prf(MSK, "Key Pad for IKEv2"), <ResponderSignedOctets>). */
static int enc_msk_auth(struct ike_sa *sa, struct codec_enc *e)
{
	uint8_t msk[EAP_SESSION_MSK_MAX], body[4 + 1024], auth[PSK_AUTH_MAX];
	uint8_t *octets = malloc(AUTH_OCTETS_MAX);
	struct codec_view idb = { body, 0 };
	size_t msk_len = 0, auth_len = 0, id_len = 0;
	struct wbuf w;
	int rc;

	if (!octets)
		return -ENOMEM;
	memset(body, 0, 4);
	rc = eap_session_msk(sa->eap, msk, sizeof(msk), &msk_len);
	if (rc == 0)
		rc = our_id(sa->gw, &body[0], body + 4, sizeof(body) - 4, &id_len);
	idb.len = 4 + id_len;
	wbuf_init(&w, octets, AUTH_OCTETS_MAX);
	if (rc == 0)
		rc = auth_octets(sa, sa->msg2, sa->msg2_len, sa->ni, sa->ni_len, sa->keys->pr, &idb,
				 &w);
	if (rc == 0)
		rc = psk_auth_compute(prf_digest_name(sa->prf), msk, msk_len, octets, wbuf_len(&w),
				      auth, sizeof(auth), &auth_len);
	if (rc == 0)
		codec_enc_auth(e, IKEV2_AUTH_PSK, auth, auth_len);
	OPENSSL_cleanse(msk, sizeof(msk));
	free(octets);
	return rc;
}

/* The client's AUTH after EAP-Success, over this round's IDi, keyed with the MSK. */
static int verify_msk_auth(struct ike_sa *sa, const struct ike_pl_auth *au)
{
	struct auth_flow *f = flow_of(sa);
	uint8_t msk[EAP_SESSION_MSK_MAX];
	uint8_t *octets = malloc(AUTH_OCTETS_MAX);
	struct codec_view idb = { f->idi, f->idi_len };
	size_t msk_len = 0;
	struct wbuf w;
	int rc;

	if (!octets)
		return -ENOMEM;
	wbuf_init(&w, octets, AUTH_OCTETS_MAX);
	rc = eap_session_msk(sa->eap, msk, sizeof(msk), &msk_len);
	if (rc == 0)
		rc = auth_octets(sa, sa->msg1, sa->msg1_len, sa->nr, sizeof(sa->nr), sa->keys->pi,
				 &idb, &w);
	if (rc == 0)
		rc = psk_auth_verify(prf_digest_name(sa->prf), msk, msk_len, octets, wbuf_len(&w),
				     au->data.p, au->data.len);
	OPENSSL_cleanse(msk, sizeof(msk));
	free(octets);
	return rc;
}

static int fill_msk_auth(struct ike_sa *sa, const void *arg, struct codec_enc *e)
{
	(void)arg;
	return enc_msk_auth(sa, e);
}

struct final_out {
	const struct ike_msg *first; /* the first request, decoded again */
	bool msk_auth;
};

static int fill_final(struct ike_sa *sa, const void *arg, struct codec_enc *e)
{
	const struct final_out *o = arg;
	int rc = o->msk_auth ? enc_msk_auth(sa, e) : 0;

	return rc ? rc : fill_child(sa, o->first, e);
}

static bool same_rounds(const struct config_profile *a, const struct config_profile *b)
{
	if (a->n_auth != b->n_auth)
		return false;
	for (size_t i = 0; i < a->n_auth; i++)
		if (a->auth[i] != b->auth[i])
			return false;
	return true;
}

/*
 * match.radius_class is known only when RADIUS accepted the client: profiles are chosen
 * again then, among those with the same rounds, with the Class values it sent.
 */
static const struct config_profile *final_profile(struct ike_sa *sa, struct auth_flow *f)
{
	const struct config *cfg = sa->gw->cfg;
	struct profile_facts facts = { .method = sa->profile->auth[0], .identity = f->ike_id,
				       .leaf = f->leaf, .anchor = f->anchor };
	size_t nc = f->attrs.n_class;

	for (size_t i = 0; i < cfg->n_profiles; i++) {
		const struct config_profile *p = &cfg->profiles[i];

		if (!same_rounds(p, sa->profile))
			continue;
		for (size_t k = 0; k < (nc ? nc : 1); k++) {
			facts.radius_class = nc ? f->attrs.classes[k] : NULL;
			if (profile_matches(p, &facts))
				return p;
		}
	}
	return NULL;
}

/* The last round is done: profile, uniqueness, CP + Child SA from the first request. */
static void flow_finish(struct ike_sa *sa, bool msk_auth)
{
	struct auth_flow *f = flow_of(sa);
	struct ike_msg *m = calloc(1, sizeof(*m));
	struct final_out o = { m, msk_auth };
	const struct config_profile *p;
	struct codec_err err;
	char methods[sizeof(f->methods)];

	if (!m || codec_decode_chain(f->first_type, f->first, f->first_len, m, &err) != 0) {
		free(m);
		flow_abort(sa, "cannot decode the kept IKE_AUTH payloads");
		return;
	}
	snprintf(methods, sizeof(methods), "%s", f->methods);
	if (!(p = final_profile(sa, f))) {
		refuse_sa(sa, f->method, "no profile matches the RADIUS Class", NULL, 0);
	} else if ((sa->profile = p, !unique_ok(sa))) {
		refuse_sa(sa, f->method, "identity already connected (unique: keep)", NULL, 0);
	} else if (respond_with(sa, fill_final, &o) != 0) {
		flow_abort(sa, "cannot build the IKE_AUTH response");
	} else {
		flow_end(sa);
		established(sa, methods);
		ike_sa_drop_init_state(sa);
	}
	free(m);
}

/* From now on the client is known by its EAP identity (leases, logs, unique:). */
static void adopt_eap_identity(struct ike_sa *sa)
{
	const char *id = eap_session_identity(sa->eap);

	if (id[0])
		log_sanitize(sa->peer_id, sizeof(sa->peer_id), (const uint8_t *)id, strlen(id));
}

/* What the EAP session decided, now or when RADIUS answered. */
static void on_eap_result(struct ike_sa *sa, int st, const uint8_t *pkt, size_t len)
{
	struct auth_flow *f = flow_of(sa);
	struct eap_out o = { pkt, len };

	if (st == EAP_SESSION_PENDING) /* RADIUS has it: sa->eap is busy until it answers */
		return;
	adopt_eap_identity(sa);
	if (st == EAP_SESSION_FAILURE) {
		refuse_sa(sa, f->method, eap_session_reason(sa->eap), pkt, len);
		return;
	}
	if (st == EAP_SESSION_SUCCESS) {
		f->stage = FLOW_EAP_AUTH;
		f->attrs = *eap_session_attrs(sa->eap);
		log_info(&sa->gw->log, sa->tag, "%s: EAP-Success for '%s'", f->method, sa->peer_id);
	}
	if (respond_with(sa, fill_eap, &o) != 0)
		flow_abort(sa, "cannot build the IKE_AUTH response");
}

/* RADIUS answered (eap-radius): the IKE_AUTH response goes out now. */
static void eap_done(void *arg, uint64_t key, struct eap_session *s,
		     enum eap_session_status st, const uint8_t *pkt, size_t len)
{
	struct gw *gw = arg;
	struct ike_sa *sa = ike_sa_from_entry(sa_table_find(gw->sas, key));

	if (!sa || sa->eap != s) {
		eap_session_free(s); /* its SA went away meanwhile */
		return;
	}
	on_eap_result(sa, (int)st, pkt, len);
	/* Not called from ike_recv(): nobody else frees a refused SA. */
	if (sa->state == IKE_SA_DELETED)
		ike_sa_free(sa);
}

static void eap_step(struct ike_sa *sa, const struct ike_msg *m)
{
	const struct ike_payload *p = codec_msg_find(m, IKEV2_PL_EAP, 0);
	uint8_t *buf;
	struct wbuf w;
	int st;

	if (!p) {
		refuse_sa(sa, flow_of(sa)->method, "expected an EAP payload", NULL, 0);
		return;
	}
	buf = malloc(EAP_MAX_LEN);
	if (!buf) {
		flow_abort(sa, "out of memory");
		return;
	}
	wbuf_init(&w, buf, EAP_MAX_LEN);
	st = eap_session_process(sa->eap, p->u.eap.msg.p, p->u.eap.msg.len, &w);
	if (st < 0) /* RFC 3748 4.1: a Response that does not fit is silently discarded */
		log_debug(&sa->gw->log, sa->tag, "EAP packet dropped (%d)", st);
	else
		on_eap_result(sa, st, buf, wbuf_len(&w));
	free(buf);
}

/* RFC 4739: the client's ANOTHER_AUTH_FOLLOWS must agree with the profile's rounds. */
static void round_done(struct ike_sa *sa, const struct ike_msg *m, bool msk_auth)
{
	struct auth_flow *f = flow_of(sa);
	bool another = codec_msg_notify(m, IKEV2_N_ANOTHER_AUTH_FOLLOWS) != NULL;
	bool more = sa->auth_round + 1u < sa->profile->n_auth;

	if (another != more) {
		refuse_sa(sa, f->method,
			  more ? "the profile requires another authentication round"
			       : "client announced a round the profile does not have",
			  NULL, 0);
		return;
	}
	if (!more) {
		flow_finish(sa, msk_auth);
		return;
	}
	sa->auth_round++;
	f->stage = FLOW_NEXT_ROUND;
	if (respond_with(sa, msk_auth ? fill_msk_auth : fill_self, NULL) != 0)
		flow_abort(sa, "cannot build the IKE_AUTH response");
}

static void eap_auth(struct ike_sa *sa, const struct ike_msg *m)
{
	struct auth_flow *f = flow_of(sa);
	const struct ike_payload *auth = codec_msg_find(m, IKEV2_PL_AUTH, 0);

	if (!auth) {
		refuse_sa(sa, f->method, "expected AUTH after EAP-Success", NULL, 0);
	} else if (auth->u.auth.method != IKEV2_AUTH_PSK) { /* RFC 7296 2.16 */
		refuse_sa(sa, f->method, "AUTH after EAP must be computed with the MSK", NULL, 0);
	} else if (verify_msk_auth(sa, &auth->u.auth) != 0) {
		refuse_sa(sa, f->method, "AUTH with the EAP MSK does not verify", NULL, 0);
	} else {
		round_done(sa, m, true);
	}
}

static void add_method(struct auth_flow *f, const char *name)
{
	size_t n = strlen(f->methods);

	snprintf(f->method, sizeof(f->method), "%s", name);
	snprintf(f->methods + n, sizeof(f->methods) - n, "%s%s", n ? "+" : "", name);
}

/* A second round starts with its own IDi: EAP (no AUTH) or a certificate/PSK AUTH. */
static void next_round(struct ike_sa *sa, const struct ike_msg *m)
{
	struct auth_flow *f = flow_of(sa);
	struct auth_ctx a = { .sa = sa, .m = m };
	enum config_auth method = sa->profile->auth[sa->auth_round];
	char text[sizeof(f->round_id)];
	uint8_t buf[64];
	struct wbuf w;
	struct eap_out o = { buf, 0 };

	a.idi = codec_msg_find(m, IKEV2_PL_IDI, 0);
	a.auth = codec_msg_find(m, IKEV2_PL_AUTH, 0);
	add_method(f, config_auth_name(method));
	if (!a.idi) {
		refuse_sa(sa, f->method, "expected the IDi of the next round", NULL, 0);
		return;
	}
	id_text(&a, text, sizeof(text));
	if (flow_keep_idi(f, a.idi, text) != 0) {
		refuse_sa(sa, f->method, "IDi too long", NULL, 0);
	} else if (method_is_eap(method)) {
		wbuf_init(&w, buf, sizeof(buf));
		if (a.auth) {
			refuse_sa(sa, f->method, "expected EAP in this round, not AUTH", NULL, 0);
			return;
		}
		if (eap_session_start(sa->eap, method, &w) != EAP_SESSION_REQUEST) {
			flow_abort(sa, "cannot start EAP");
			return;
		}
		f->stage = FLOW_EAP;
		o.len = wbuf_len(&w);
		if (respond_with(sa, fill_eap, &o) != 0)
			flow_abort(sa, "cannot build the IKE_AUTH response");
	} else if (!a.auth || (a.auth->u.auth.method == IKEV2_AUTH_PSK) !=
					   (method == CONFIG_AUTH_PSK)) {
		refuse_sa(sa, f->method, "expected AUTH by this round's method", NULL, 0);
	} else if (authenticate(&a, sa->profile, 0) != 0) {
		refuse(&a);
	} else {
		round_done(sa, m, false);
	}
	X509_free(a.leaf);
	X509_free(a.anchor);
}

static void continue_flow(struct ike_sa *sa, const struct ike_msg *m)
{
	/* A retransmission while RADIUS has the last EAP packet: answered when it answers. */
	if (eap_session_busy(sa->eap)) {
		log_debug(&sa->gw->log, sa->tag, "IKE_AUTH retransmission dropped: RADIUS pending");
		return;
	}
	switch (flow_of(sa)->stage) {
	case FLOW_EAP:
		eap_step(sa, m);
		break;
	case FLOW_EAP_AUTH:
		eap_auth(sa, m);
		break;
	case FLOW_NEXT_ROUND:
		next_round(sa, m);
		break;
	}
}

/* A certificate or PSK first round; with ANOTHER_AUTH_FOLLOWS a second one is next. */
static void first_with_auth(struct auth_ctx *a)
{
	struct ike_sa *sa = a->sa;
	bool another = codec_msg_notify(a->m, IKEV2_N_ANOTHER_AUTH_FOLLOWS) != NULL;
	struct auth_flow *f;

	if (authenticate(a, NULL, another ? 2 : 1) != 0) {
		refuse(a);
	} else if (!another) {
		if (!unique_ok(sa)) {
			fail(a, "identity already connected (unique: keep)", NULL);
			refuse(a);
		} else if (respond_ok(sa, a->m) != 0) {
			ike_sa_delete(sa, "cannot build the IKE_AUTH response");
		} else {
			established(sa, a->method_name);
			ike_sa_drop_init_state(sa);
		}
	} else if (!(f = flow_start(sa, a->m, a->idi))) {
		ike_sa_delete(sa, "out of memory");
	} else {
		add_method(f, a->method_name);
		f->leaf = a->leaf;
		f->anchor = a->anchor;
		a->leaf = a->anchor = NULL;
		sa->auth_round = 1;
		f->stage = FLOW_NEXT_ROUND;
		if (respond_with(sa, fill_self, NULL) != 0)
			flow_abort(sa, "cannot build the IKE_AUTH response");
	}
}

/* No AUTH: the client wants EAP (RFC 7296 2.16) for a profile whose first round is EAP. */
static void first_eap(struct auth_ctx *a)
{
	struct ike_sa *sa = a->sa;
	struct profile_facts facts = { .identity = sa->peer_id };
	const struct config_profile *p = select_eap_profile(sa->gw->cfg, &facts);
	struct auth_flow *f;
	uint8_t buf[64];
	struct wbuf w;
	struct eap_out o = { buf, 0 };

	a->method_name = "eap";
	if (!p) {
		fail(a, "no EAP profile for this identity", NULL);
		refuse(a);
		return;
	}
	sa->profile = p;
	sa->auth_round = 0;
	if (!(f = flow_start(sa, a->m, a->idi))) {
		ike_sa_delete(sa, "out of memory");
		return;
	}
	add_method(f, config_auth_name(p->auth[0]));
	wbuf_init(&w, buf, sizeof(buf));
	if (eap_session_start(sa->eap, p->auth[0], &w) != EAP_SESSION_REQUEST) {
		flow_abort(sa, "cannot start EAP");
		return;
	}
	f->stage = FLOW_EAP;
	o.len = wbuf_len(&w);
	if (respond_with(sa, fill_first_eap, &o) != 0)
		flow_abort(sa, "cannot build the IKE_AUTH response");
}

void ike_auth_recv(struct ike_sa *sa, const struct ike_msg *m)
{
	struct auth_ctx a = { .sa = sa, .m = m };

	if (sa->eap) {
		continue_flow(sa, m);
		return;
	}
	a.idi = codec_msg_find(m, IKEV2_PL_IDI, 0);
	a.auth = codec_msg_find(m, IKEV2_PL_AUTH, 0);
	if (!a.idi) {
		exchange_respond_notify(sa, IKEV2_EXCH_IKE_AUTH, IKEV2_N_INVALID_SYNTAX, NULL, 0);
		ike_sa_delete(sa, "IKE_AUTH without IDi");
		return;
	}
	id_text(&a, sa->peer_id, sizeof(sa->peer_id));
	if (a.auth)
		first_with_auth(&a);
	else
		first_eap(&a);
	X509_free(a.leaf);
	X509_free(a.anchor);
}
