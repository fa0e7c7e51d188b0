/* SPDX-License-Identifier: ISC */
/*
 * Our own AUTH (RFC 7296 2.15, RFC 7427): the octets are computed on the loop (a PRF over
 * our IDr with SK_pr), the signature in a job, and done() sends the answer it goes into:
 * IDr, CERT (always: some clients send no CERTREQ), AUTH, then what the step needs (CP +
 * Child SA, nothing, or the first EAP request).
 *
 * The job holds one reference to our credential set (chain + key) from submit to free and
 * takes both the key it signs with and the CERT payloads it sends from it: a reload in
 * between replaces gw->own for later answers, never half of this one (RFC 7296 3.6: the
 * first CERT holds the key that verifies AUTH).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ikegw/cert.h"
#include "ikegw/eap.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/ikev2.h"
#include "ikegw/sig.h"

#include "ike_auth_int.h"

#define EAP_FIRST_MAX 64

struct sign_job {
	struct job job;
	struct gw *gw;
	uint64_t spi;             /* our SPI: done() finds the SA again */
	uint32_t sa_id;
	int hash;                 /* RFC 7427 hash, 0 for the classic method of the key */
	uint8_t *octets;          /* ResponderSignedOctets */
	size_t octets_len;
	struct auth_self self;    /* IDr, our credentials (in), method and signature (out) */
	enum auth_then then;
	struct auth_kept kept;    /* AUTH_THEN_FINAL: the request (CP, SA, TSi, TSr) */
	uint8_t eap[EAP_FIRST_MAX];
	size_t eap_len;
	char method[24];          /* the client's, for the established/refused line */
};

static void sign_job_free(struct sign_job *s)
{
	cert_own_free(s->self.own);
	free(s->octets);
	auth_kept_clear(&s->kept);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

/* The job: only the signature, with what it holds. */
static void sign_run(struct job *job)
{
	struct sign_job *s = container_of(job, struct sign_job, job);
	EVP_PKEY *key = cert_own_key(s->self.own);
	struct wbuf w;
	int method;

	wbuf_init(&w, s->self.sig, sizeof(s->self.sig));
	if (s->hash > 0) {
		s->self.method = IKEV2_AUTH_DIGITAL_SIGNATURE;
		job->rc = sig_ds_sign(key, s->hash, false, s->octets, s->octets_len, &w);
	} else if ((method = sig_classic_method(key)) < 0) {
		job->rc = method;
	} else {
		s->self.method = (uint8_t)method;
		job->rc = sig_classic_sign(key, method, false, s->octets, s->octets_len, &w);
	}
	s->self.sig_len = wbuf_len(&w);
}

/* The chain of the set we signed with, not gw->own: a reload may have replaced that. */
void auth_self_encode(const struct auth_self *s, struct codec_enc *e)
{
	codec_enc_id(e, IKEV2_PL_IDR, s->id_type, s->id, s->id_len);
	for (size_t i = 0; i < cert_own_count(s->own); i++) {
		struct cert_der d = cert_own_der(s->own, i);

		codec_enc_cert(e, IKEV2_PL_CERT, IKEV2_CERT_X509_SIG, d.der, d.len);
	}
	codec_enc_auth(e, s->method, s->sig, s->sig_len);
}

struct final_arg {
	const struct auth_self *self;
	const struct ike_msg *m;
};

static int fill_final(struct ike_sa *sa, const void *arg, struct codec_enc *e)
{
	const struct final_arg *o = arg;

	auth_self_encode(o->self, e);
	return auth_fill_child(sa, o->m, e);
}

static int fill_self(struct ike_sa *sa, const void *arg, struct codec_enc *e)
{
	(void)sa;
	auth_self_encode(arg, e);
	return 0;
}

/* RFC 7296 2.16: the first answer authenticates us with our certificate, then EAP. */
static int fill_first_eap(struct ike_sa *sa, const void *arg, struct codec_enc *e)
{
	const struct sign_job *s = arg;
	struct eap_pkt p;

	(void)sa;
	auth_self_encode(&s->self, e);
	if (eap_decode(s->eap, s->eap_len, &p) != 0)
		return -EINVAL;
	codec_enc_eap(e, p.code, p.id, p.type, p.data, p.data_len);
	return 0;
}

/* A one-round client is in: unique: (now, next to the answer), then CP + Child SA. */
static void then_final(struct ike_sa *sa, struct sign_job *s)
{
	struct ike_msg *m = auth_kept_decode(&s->kept);
	struct final_arg o = { &s->self, m };

	if (!m) {
		ike_sa_delete(sa, "cannot decode the kept IKE_AUTH payloads");
	} else if (!auth_unique_ok(sa)) {
		auth_refuse_sa(sa, s->method, "identity already connected (unique: keep)", NULL, 0);
	} else if (auth_respond_with(sa, fill_final, &o) != 0) {
		ike_sa_delete(sa, "cannot build the IKE_AUTH response");
	} else {
		auth_established(sa, s->method);
	}
	free(m);
}

static void sign_done(struct job *job)
{
	struct sign_job *s = container_of(job, struct sign_job, job);
	struct gw *gw = s->gw;
	uint64_t spi = s->spi;
	uint32_t id = s->sa_id;
	struct ike_sa *sa = auth_job_sa(gw, spi, id);

	if (!sa || job->rc == -ECANCELED) {
		sign_job_free(s); /* the SA went away meanwhile: nothing to answer */
		return;
	}
	if (job->rc != 0) {
		log_warn(&sa->gw->log, sa->tag, "cannot sign our AUTH (%d)", job->rc);
		auth_flow_abort(sa, "cannot build the IKE_AUTH response");
	} else if (s->then == AUTH_THEN_FINAL) {
		then_final(sa, s);
	} else if (auth_respond_with(sa, s->then == AUTH_THEN_EAP ? fill_first_eap : fill_self,
				     s->then == AUTH_THEN_EAP ? (const void *)s
							      : (const void *)&s->self) != 0) {
		auth_flow_abort(sa, "cannot build the IKE_AUTH response");
	}
	sign_job_free(s);
	auth_job_end(gw, spi, id);
}

/* On the loop: our credential set's reference, IDr (a DN comes from gw->own: the same
 * set), the octets over it, the hash (RFC 7427 4). */
static int sign_prepare(struct ike_sa *sa, struct sign_job *s)
{
	struct gw *gw = sa->gw;
	uint8_t body[4 + AUTH_ID_MAX];
	struct codec_view idb = { body, 0 };
	struct wbuf w;
	int rc, hash;

	s->self.own = cert_own_up_ref(gw->own);
	if (!cert_own_key(s->self.own))
		return -EINVAL;
	memset(body, 0, 4);
	rc = auth_our_id(gw, &s->self.id_type, body + 4, sizeof(body) - 4, &s->self.id_len);
	if (rc != 0)
		return rc;
	body[0] = s->self.id_type;
	memcpy(s->self.id, body + 4, s->self.id_len);
	idb.len = 4 + s->self.id_len;
	if (!(s->octets = malloc(AUTH_OCTETS_MAX)))
		return -ENOMEM;
	wbuf_init(&w, s->octets, AUTH_OCTETS_MAX);
	if ((rc = auth_responder_octets(sa, &idb, &w)) != 0)
		return rc;
	s->octets_len = wbuf_len(&w);
	hash = sig_choose_hash(sa->sighash, sa->sighash_len, cert_own_key(s->self.own));
	s->hash = sa->sighash_len && hash > 0 ? hash : 0;
	return 0;
}

void auth_sign_submit(struct ike_sa *sa, enum auth_then then, struct auth_kept *kept,
		      const uint8_t *eap, size_t eap_len, const char *method)
{
	struct sign_job *s = calloc(1, sizeof(*s));

	if (!s || eap_len > sizeof(s->eap) || sign_prepare(sa, s) != 0) {
		if (s)
			sign_job_free(s);
		if (kept)
			auth_kept_clear(kept);
		auth_flow_abort(sa, "cannot build the IKE_AUTH response");
		return;
	}
	s->job.run = sign_run;
	s->job.done = sign_done;
	s->gw = sa->gw;
	s->spi = sa->ent.spi_local;
	s->sa_id = sa->id;
	s->then = then;
	if (kept) {
		s->kept = *kept;
		*kept = (struct auth_kept){ 0 };
	}
	if (eap_len)
		memcpy(s->eap, eap, eap_len);
	s->eap_len = eap_len;
	snprintf(s->method, sizeof(s->method), "%s", method ? method : "?");
	sa->jobs_pending++;
	jobs_submit(&sa->gw->jobs, &s->job); /* done() may have freed sa: hands off */
}
