/* SPDX-License-Identifier: ISC */
/*
 * The client's certificate AUTH (RFC 7296 2.15, 3.6; RFC 7427 and the classic methods):
 * its chain against trust.ca/crl, its IDi bound to the leaf (RFC 4945 3.1), its AUTH
 * signature over InitiatorSignedOctets.  The octets are computed on the loop; chain and
 * signature are checked in a job on copies (CERT data, IDi, AUTH data); done() chooses
 * the profile and goes on with the round.
 *
 * The job holds its own reference to the trust store from submit to free: a reload
 * meanwhile drops only the gateway's, so the chain is checked against the CAs and CRLs
 * of the moment the request arrived, and the store outlives every job that reads it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "ikegw/cert.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/ikev2.h"
#include "ikegw/sig.h"

#include "ike_auth_int.h"

struct cert_job {
	struct job job;
	struct gw *gw;
	uint64_t spi;                 /* our SPI: done() finds the SA again */
	uint32_t sa_id;
	bool in_flow;                 /* a later round (RFC 4739) or the first one */
	size_t rounds;                /* first round: the rounds the client announced */
	struct cert_store *trust;     /* our reference: a reload may replace gw->trust */
	time_t at;                    /* certificate validity time */
	struct cert_der der[AUTH_MAX_CERTS];
	size_t n_der;
	uint8_t *data;                /* one allocation: CERT data, IDi data, AUTH data */
	uint8_t id_type;
	struct codec_view id, sig;
	uint8_t sig_method;
	uint8_t *octets;              /* InitiatorSignedOctets */
	size_t octets_len;
	struct auth_kept kept;        /* the request, for done() */
	X509 *leaf, *anchor;          /* results */
	char reason[AUTH_REASON_MAX];
};

static void cert_job_free(struct cert_job *c)
{
	X509_free(c->leaf);
	X509_free(c->anchor);
	cert_store_free(c->trust);
	free(c->data);
	free(c->octets);
	auth_kept_clear(&c->kept);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

static int job_fail(struct cert_job *c, const char *what, const char *detail)
{
	snprintf(c->reason, sizeof(c->reason), "%s%s%s", what, detail ? ": " : "",
		 detail ? detail : "");
	return -EACCES;
}

/* The job: chain, ID binding, signature; nothing but what the job holds. */
static void cert_run(struct job *job)
{
	struct cert_job *c = container_of(job, struct cert_job, job);
	struct cert_error err = { 0 };

	if (cert_chain_verify(c->trust, c->der, c->n_der, c->at, &c->leaf, &c->anchor,
			      &err) != 0)
		job->rc = job_fail(c, "certificate", err.reason);
	else if (cert_match_id(c->leaf, c->id_type, c->id.p, c->id.len) != 0)
		job->rc = job_fail(c, "identity not in the certificate", NULL);
	else if (sig_verify(cert_pubkey(c->leaf), c->sig_method, c->sig.p, c->sig.len, c->octets,
			    c->octets_len) != 0)
		job->rc = job_fail(c, "signature does not verify", NULL);
}

/* The round goes on with the verified leaf: profile, then the first round or the flow. */
static void go_on(struct auth_ctx *a, struct cert_job *c)
{
	const struct config_profile *p = c->in_flow ? a->sa->profile : NULL;

	if (auth_cert_profile(a, p, c->rounds) != 0)
		auth_refuse(a);
	else if (c->in_flow)
		auth_flow_cert_round_ok(a);
	else
		auth_first_round_ok(a);
}

static void cert_done(struct job *job)
{
	struct cert_job *c = container_of(job, struct cert_job, job);
	struct gw *gw = c->gw;
	uint64_t spi = c->spi;
	uint32_t id = c->sa_id;
	struct ike_sa *sa = auth_job_sa(gw, spi, id);
	struct ike_msg *m;
	struct auth_ctx a = { .sa = sa, .method_name = "certificate" };

	if (!sa || job->rc == -ECANCELED || (sa->eap != NULL) != c->in_flow) {
		cert_job_free(c); /* the SA went away (or moved on) meanwhile */
		return;
	}
	m = job->rc == 0 ? auth_kept_decode(&c->kept) : NULL;
	if (job->rc != 0) {
		snprintf(a.reason, sizeof(a.reason), "%s", c->reason);
		auth_refuse(&a);
	} else if (!m) {
		auth_flow_abort(sa, "cannot decode the kept IKE_AUTH payloads");
	} else {
		a.m = m;
		a.idi = codec_msg_find(m, IKEV2_PL_IDI, 0);
		a.auth = codec_msg_find(m, IKEV2_PL_AUTH, 0);
		a.leaf = c->leaf;
		a.anchor = c->anchor;
		c->leaf = c->anchor = NULL;
		go_on(&a, c);
	}
	X509_free(a.leaf);
	X509_free(a.anchor);
	free(m);
	cert_job_free(c);
	auth_job_end(gw, spi, id);
}

static size_t cert_payloads(const struct ike_msg *m, struct cert_der *der, size_t *total)
{
	size_t n = 0;

	*total = 0;
	for (size_t i = 0; i < m->n && n < AUTH_MAX_CERTS; i++) {
		const struct ike_payload *p = &m->pl[i];

		if (p->type == IKEV2_PL_CERT && p->u.cert.encoding == IKEV2_CERT_X509_SIG) {
			der[n++] = (struct cert_der){ p->u.cert.data.p, p->u.cert.data.len };
			*total += p->u.cert.data.len;
		}
	}
	return n;
}

static const uint8_t *put(uint8_t **at, const uint8_t *p, size_t len)
{
	const uint8_t *start = *at;

	if (len)
		memcpy(*at, p, len);
	*at += len;
	return start;
}

/* Copies of everything the job reads: CERT data, IDi data, AUTH data. */
static int copy_inputs(struct cert_job *c, const struct auth_ctx *a, size_t total)
{
	const struct ike_pl_id *id = &a->idi->u.id;
	const struct ike_pl_auth *au = &a->auth->u.auth;
	uint8_t *at;

	c->data = malloc(total + id->data.len + au->data.len + 1);
	if (!c->data)
		return -ENOMEM;
	at = c->data;
	for (size_t i = 0; i < c->n_der; i++)
		c->der[i].der = put(&at, c->der[i].der, c->der[i].len);
	c->id_type = id->type;
	c->id = (struct codec_view){ put(&at, id->data.p, id->data.len), id->data.len };
	c->sig_method = au->method;
	c->sig = (struct codec_view){ put(&at, au->data.p, au->data.len), au->data.len };
	return 0;
}

/* On the loop: what can be refused at once, the octets, the copies. */
static int cert_prepare(struct auth_ctx *a, struct cert_job *c)
{
	struct ike_sa *sa = a->sa;
	size_t total = 0;

	c->n_der = cert_payloads(a->m, c->der, &total);
	if (c->n_der == 0)
		return auth_fail(a, "no certificate sent", NULL);
	if (!sa->gw->trust)
		return auth_fail(a, "no trusted CA configured", NULL);
	c->octets = auth_initiator_octets(sa, &a->idi->body, &c->octets_len);
	if (!c->octets)
		return auth_fail(a, "cannot compute AUTH octets", NULL);
	if (copy_inputs(c, a, total) != 0 || auth_keep(a->m, NULL, 0, &c->kept) != 0)
		return -ENOMEM;
	c->trust = cert_store_up_ref(sa->gw->trust);
	c->at = gw_time(sa->gw);
	return 0;
}

void auth_cert_submit(struct auth_ctx *a, size_t rounds)
{
	struct ike_sa *sa = a->sa;
	struct cert_job *c = calloc(1, sizeof(*c));
	int rc;

	a->method_name = "certificate";
	if (!c) {
		auth_flow_abort(sa, "out of memory");
		return;
	}
	rc = cert_prepare(a, c);
	if (rc != 0) {
		cert_job_free(c);
		if (rc == -EACCES)
			auth_refuse(a);
		else
			auth_flow_abort(sa, "out of memory");
		return;
	}
	c->job.run = cert_run;
	c->job.done = cert_done;
	c->gw = sa->gw;
	c->spi = sa->ent.spi_local;
	c->sa_id = sa->id;
	c->in_flow = sa->eap != NULL;
	c->rounds = rounds;
	sa->jobs_pending++;
	jobs_submit(&sa->gw->jobs, &c->job); /* done() may have freed sa: hands off */
}
