/* SPDX-License-Identifier: ISC */
/*
 * IKE_AUTH, responder side (RFC 7296 1.2, 2.15, 3.5-3.8, 3.15): authenticate the client
 * (certificate signature or PSK), choose its profile, give it an address, create its
 * Child SA, and authenticate ourselves with our certificate.  EAP rounds: issue 5.
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
#include "ikegw/exchange.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/ikev2.h"
#include "ikegw/pool.h"
#include "ikegw/prf.h"
#include "ikegw/profile.h"
#include "ikegw/psk.h"
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

/* Authenticate the client and pick its profile; fills a->reason on failure. */
static int authenticate(struct auth_ctx *a)
{
	struct ike_sa *sa = a->sa;
	struct profile_facts f = { .identity = sa->peer_id };
	uint8_t *octets = malloc(AUTH_OCTETS_MAX);
	struct codec_view idb = a->idi->body;
	struct wbuf w;
	int rc;

	if (!octets)
		return fail(a, "out of memory", NULL);
	wbuf_init(&w, octets, AUTH_OCTETS_MAX);
	rc = auth_octets(sa, sa->msg1, sa->msg1_len, sa->nr, sizeof(sa->nr), sa->keys->pi, &idb,
			 &w);
	if (rc != 0) {
		free(octets);
		return fail(a, "cannot compute AUTH octets", NULL);
	}
	if (a->auth->u.auth.method == IKEV2_AUTH_PSK) {
		a->method_name = "psk";
		f.method = CONFIG_AUTH_PSK;
		sa->profile = profile_select(sa->gw->cfg, &f);
		rc = sa->profile ? verify_psk(a, sa->profile, octets, wbuf_len(&w))
				 : fail(a, "no psk profile for this identity", NULL);
	} else {
		a->method_name = "certificate";
		f.method = CONFIG_AUTH_CERTIFICATE;
		rc = verify_cert(a);
		if (rc == 0)
			rc = verify_signature(a, octets, wbuf_len(&w));
		f.leaf = a->leaf;
		f.anchor = a->anchor;
		if (rc == 0 && !(sa->profile = profile_select(sa->gw->cfg, &f)))
			rc = fail(a, "no certificate profile matches this client", NULL);
	}
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
		ike_sa_free(o); /* TODO(issue 6): send a Delete as initiator first */
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

static void established(struct ike_sa *sa, const char *method)
{
	char vip[INET6_ADDRSTRLEN] = "-", peer[INET6_ADDRSTRLEN] = "?";
	const void *pa = sa->peer.ss_family == AF_INET
				 ? (const void *)&((struct sockaddr_in *)&sa->peer)->sin_addr
				 : (const void *)&((struct sockaddr_in6 *)&sa->peer)->sin6_addr;

	inet_ntop(sa->peer.ss_family, pa, peer, sizeof(peer));
	if (sa->has_vip)
		inet_ntop(sa->vip.family, sa->vip.bytes, vip, sizeof(vip));
	sa->state = IKE_SA_ESTABLISHED;
	sa->established_ms = loop_now(sa->gw->loop);
	sa_table_mark_established(sa->gw->sas, &sa->ent);
	loop_timer_cancel(sa->gw->loop, &sa->half_open_timer);
	sa->gw->ctr.handshakes_ok++;
	log_info(&sa->gw->log, sa->tag,
		 "established: identity '%s' from %s:%u, vip %s, profile %s, auth %s, %s/%s",
		 sa->peer_id, peer, udp_addr_port(&sa->peer), vip, sa->profile->name, method,
		 sa->encr->name, sa->prf->name);
}

static void refuse(struct auth_ctx *a)
{
	struct ike_sa *sa = a->sa;
	char peer[INET6_ADDRSTRLEN] = "?";
	const void *pa = sa->peer.ss_family == AF_INET
				 ? (const void *)&((struct sockaddr_in *)&sa->peer)->sin_addr
				 : (const void *)&((struct sockaddr_in6 *)&sa->peer)->sin6_addr;

	inet_ntop(sa->peer.ss_family, pa, peer, sizeof(peer));
	sa->gw->ctr.auth_failures++;
	sa->gw->ctr.handshakes_failed++;
	log_warn(&sa->gw->log, sa->tag, "authentication failed: %s identity '%s' method %s: %s",
		 peer, sa->peer_id, a->method_name ? a->method_name : "?", a->reason);
	exchange_respond_notify(sa, IKEV2_EXCH_IKE_AUTH, IKEV2_N_AUTHENTICATION_FAILED, NULL, 0);
	ike_sa_delete(sa, "authentication failed");
}

/* Build and send the success response; a Child SA failure leaves the IKE SA up. */
static int respond_ok(struct ike_sa *sa, const struct ike_msg *m)
{
	uint8_t *buf = malloc(IKE_MSG_MAX);
	struct codec_enc e;
	struct wbuf w;
	uint8_t first;
	int rc, notify;

	if (!buf)
		return -ENOMEM;
	wbuf_init(&w, buf, IKE_MSG_MAX);
	codec_enc_begin_chain(&e, &w);
	rc = authenticate_self(sa, &e);
	if (rc == 0) {
		notify = assign_address(sa, m, &e);
		if (notify == 0)
			notify = child_sa_negotiate(sa, m, &e);
		if (notify != 0) {
			log_warn(&sa->gw->log, sa->tag, "no Child SA: notify %d", notify);
			codec_enc_notify(&e, 0, NULL, 0, (uint16_t)notify, NULL, 0);
		}
		rc = codec_enc_end_chain(&e, &first);
	}
	if (rc == 0)
		rc = exchange_respond(sa, IKEV2_EXCH_IKE_AUTH, buf, wbuf_len(&w), first);
	free(buf);
	return rc;
}

void ike_auth_recv(struct ike_sa *sa, const struct ike_msg *m)
{
	struct auth_ctx a = { .sa = sa, .m = m };

	a.idi = codec_msg_find(m, IKEV2_PL_IDI, 0);
	a.auth = codec_msg_find(m, IKEV2_PL_AUTH, 0);
	if (!a.idi) {
		exchange_respond_notify(sa, IKEV2_EXCH_IKE_AUTH, IKEV2_N_INVALID_SYNTAX, NULL, 0);
		ike_sa_delete(sa, "IKE_AUTH without IDi");
		return;
	}
	id_text(&a, sa->peer_id, sizeof(sa->peer_id));
	if (!a.auth) {
		a.method_name = "eap";
		fail(&a, "EAP is not supported yet", NULL);
		refuse(&a);
	} else if (authenticate(&a) != 0 || !unique_ok(sa)) {
		if (!a.reason[0])
			fail(&a, "identity already connected (unique: keep)", NULL);
		refuse(&a);
	} else if (respond_ok(sa, m) != 0) {
		ike_sa_delete(sa, "cannot build the IKE_AUTH response");
	} else {
		established(sa, a.method_name);
		ike_sa_drop_init_state(sa);
	}
	X509_free(a.leaf);
	X509_free(a.anchor);
}
