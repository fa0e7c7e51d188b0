/* SPDX-License-Identifier: ISC */
/* IKE_SA_INIT, responder side (RFC 7296 1.2, 2.6 cookies, 2.7 proposals, 2.23 NAT). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ikegw/config.h"
#include "ikegw/cookie.h"
#include "ikegw/exchange.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/ikev2.h"
#include "ikegw/jobs.h"
#include "ikegw/ke.h"
#include "ikegw/keymat.h"
#include "ikegw/rules.h"
#include "ikegw/sa_table.h"
#include "ikegw/suite.h"
#include "ikegw/udp.h"

#define NAT_HASH_LEN 20

/* Our RFC 7427 SIGNATURE_HASH_ALGORITHMS: SHA2-256, SHA2-384, SHA2-512, Identity. */
static const uint8_t our_sig_hashes[] = { 0, 2, 0, 3, 0, 4, 0, 5 };

/* An unencrypted error answer to an IKE_SA_INIT request; SPIr stays zero (RFC 7296 2.6). */
static void respond_plain_notify(struct gw *gw, const struct ike_path *path,
				 const struct ike_hdr *req, uint16_t type, const uint8_t *data,
				 size_t len)
{
	struct ike_hdr h = { .spi_i = req->spi_i, .exchange = IKEV2_EXCH_IKE_SA_INIT,
			     .flags = IKEV2_FLAG_RESPONSE, .msg_id = req->msg_id };
	uint8_t buf[512];
	struct wbuf w;
	struct codec_enc e;

	wbuf_init(&w, buf, sizeof(buf));
	codec_enc_begin(&e, &w, &h);
	codec_enc_notify(&e, 0, NULL, 0, type, data, len);
	if (codec_enc_finish(&e) == 0)
		exchange_send_path(gw, path, buf, wbuf_len(&w));
}

/* RFC 7296 2.23: SHA-1(SPIi | SPIr | IP address | port). */
static int nat_hash(const struct gw *gw, uint64_t spi_i, uint64_t spi_r,
		    const struct sockaddr_storage *a, uint8_t out[NAT_HASH_LEN])
{
	uint8_t in[8 + 8 + 16 + 2];
	struct wbuf w;
	unsigned int outlen = 0;

	wbuf_init(&w, in, sizeof(in));
	wbuf_u64(&w, spi_i);
	wbuf_u64(&w, spi_r);
	if (a->ss_family == AF_INET)
		wbuf_bytes(&w, &((const struct sockaddr_in *)a)->sin_addr, 4);
	else
		wbuf_bytes(&w, &((const struct sockaddr_in6 *)a)->sin6_addr, 16);
	wbuf_u16(&w, udp_addr_port(a));
	if (!wbuf_ok(&w))
		return -EINVAL;
	if (EVP_Digest(in, wbuf_len(&w), out, &outlen, suite_md_get(gw->suite, SUITE_MD_SHA1),
		       NULL) != 1 || outlen != NAT_HASH_LEN)
		return -EIO;
	return 0;
}

/* Does any NAT_DETECTION notify of this type match the hash of addr?  No notify: true. */
static bool nat_matches(const struct gw *gw, const struct ike_msg *m, uint16_t type,
			uint64_t spi_i, const struct sockaddr_storage *addr, bool *present)
{
	uint8_t want[NAT_HASH_LEN];
	bool seen = false;

	if (nat_hash(gw, spi_i, 0, addr, want) != 0)
		return false;
	for (size_t i = 0; i < m->n; i++) {
		const struct ike_payload *p = &m->pl[i];

		if (p->type != IKEV2_PL_NOTIFY || p->u.notify.type != type)
			continue;
		seen = true;
		if (p->u.notify.data.len == NAT_HASH_LEN &&
		    CRYPTO_memcmp(p->u.notify.data.p, want, NAT_HASH_LEN) == 0) {
			*present = true;
			return true;
		}
	}
	*present = seen;
	return !seen;
}

static void detect_nat(struct ike_sa *sa, const struct ike_msg *m)
{
	bool src_seen = false, dst_seen = false;

	sa->nat_peer = !nat_matches(sa->gw, m, IKEV2_N_NAT_DETECTION_SOURCE_IP,
				    sa->ent.spi_remote, &sa->peer, &src_seen);
	sa->nat_local = !nat_matches(sa->gw, m, IKEV2_N_NAT_DETECTION_DESTINATION_IP,
				     sa->ent.spi_remote, &sa->local, &dst_seen);
	if (sa->nat_peer || sa->nat_local)
		log_info(&sa->gw->log, sa->tag, "NAT detected (%s%s%s)",
			 sa->nat_peer ? "peer" : "", sa->nat_peer && sa->nat_local ? ", " : "",
			 sa->nat_local ? "us" : "");
}

static void half_open_expired(struct loop *loop, void *arg)
{
	struct ike_sa *sa = arg;

	(void)loop;
	if (sa->state != IKE_SA_HALF_OPEN)
		return;
	log_info(&sa->gw->log, sa->tag, "half-open IKE SA expired (no IKE_AUTH)");
	ike_sa_free(sa);
}

/* RFC 7296 2.6: above the threshold, a request must carry a cookie we made. */
static bool cookie_ok(struct gw *gw, const struct ike_path *path, const struct ike_msg *m,
		      const struct codec_view *ni)
{
	const struct ike_payload *n = codec_msg_notify(m, IKEV2_N_COOKIE);
	uint8_t ck[COOKIE_LEN];

	if (!cookie_required(sa_table_half_open_count(gw->sas), gw->cookie_threshold))
		return true;
	if (n && cookie_verify(gw->cookie, n->u.notify.data.p, n->u.notify.data.len, ni->p,
			       ni->len, &path->peer, m->hdr.spi_i) == 0)
		return true;
	if (cookie_make(gw->cookie, ni->p, ni->len, &path->peer, m->hdr.spi_i, ck) == 0) {
		gw->ctr.cookies_sent++;
		respond_plain_notify(gw, path, &m->hdr, IKEV2_N_COOKIE, ck, sizeof(ck));
	}
	return false;
}

static int build_response(struct ike_sa *sa,
			  const struct ike_proposal *chosen, const uint8_t *pub, size_t pub_len,
			  struct wbuf *w)
{
	struct gw *gw = sa->gw;
	struct ike_hdr h = { .spi_i = sa->ent.spi_remote, .spi_r = sa->ent.spi_local,
			     .exchange = IKEV2_EXCH_IKE_SA_INIT, .flags = IKEV2_FLAG_RESPONSE,
			     .msg_id = 0 };
	uint8_t src[NAT_HASH_LEN], dst[NAT_HASH_LEN];
	struct codec_enc e;

	if (nat_hash(gw, h.spi_i, h.spi_r, &sa->local, src) != 0 ||
	    nat_hash(gw, h.spi_i, h.spi_r, &sa->peer, dst) != 0)
		return -EIO;
	/* The userspace dataplane only sees ESP in UDP: a source hash that cannot match
	 * makes the client believe we are behind a NAT and encapsulate (as strongSwan's
	 * encap=yes does). */
	if (gw->force_encap)
		src[0] ^= 0xff;
	codec_enc_begin(&e, w, &h);
	codec_enc_sa(&e, chosen, 1);
	codec_enc_ke(&e, sa->ke_group, pub, pub_len);
	codec_enc_nonce(&e, sa->nr, sizeof(sa->nr));
	codec_enc_notify(&e, 0, NULL, 0, IKEV2_N_NAT_DETECTION_SOURCE_IP, src, sizeof(src));
	codec_enc_notify(&e, 0, NULL, 0, IKEV2_N_NAT_DETECTION_DESTINATION_IP, dst, sizeof(dst));
	if (gw->certreq_len)
		codec_enc_cert(&e, IKEV2_PL_CERTREQ, IKEV2_CERT_X509_SIG, gw->certreq,
			       gw->certreq_len);
	/* RFC 4739: certificate + EAP profiles need a second authentication round. */
	codec_enc_notify(&e, 0, NULL, 0, IKEV2_N_MULTIPLE_AUTH_SUPPORTED, NULL, 0);
	if (sa->frag_supported) /* RFC 7383 2.3 */
		codec_enc_notify(&e, 0, NULL, 0, IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0);
	codec_enc_notify(&e, 0, NULL, 0, IKEV2_N_SIGNATURE_HASH_ALGORITHMS, our_sig_hashes,
			 sizeof(our_sig_hashes));
	return codec_enc_finish(&e);
}

static void remember_peer_notifies(struct ike_sa *sa, const struct ike_msg *m)
{
	const struct ike_payload *n = codec_msg_notify(m, IKEV2_N_SIGNATURE_HASH_ALGORITHMS);

	sa->frag_supported = codec_msg_notify(m, IKEV2_N_IKEV2_FRAGMENTATION_SUPPORTED) != NULL;
	if (n && n->u.notify.data.len <= sizeof(sa->sighash)) {
		memcpy(sa->sighash, n->u.notify.data.p, n->u.notify.data.len);
		sa->sighash_len = (uint8_t)n->u.notify.data.len;
	}
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	if (d && n)
		memcpy(d, p, n);
	return d;
}

/*
 * The key exchange of a new SA, run as a job (RFC 7296 2.14: g^ir and every key): run()
 * works on the copies in the job only (suite entries are constant tables, the suite's
 * EVP objects are fetched once and only read); done() hands the keys to the SA.
 */
struct ke_job {
	struct job job;
	struct gw *gw;
	uint64_t spi;                 /* our SPI: done() finds the SA again */
	uint32_t sa_id;
	const struct crypto_suite *suite;
	uint16_t group;
	struct keymat_ike_in in;      /* points into ni, nr below */
	uint8_t ni[CODEC_NONCE_MAX], nr[32];
	uint8_t peer_ke[SUITE_MAX_KE_PUB];
	size_t peer_ke_len;
	struct ike_path path;
	struct ike_hdr req;
	struct ike_proposal chosen;
	uint8_t pub[SUITE_MAX_KE_PUB]; /* results: our KE value and the keys */
	size_t pub_len;
	struct ike_keys *keys;
};

static void ke_job_run(struct job *job)
{
	struct ke_job *k = container_of(job, struct ke_job, job);
	struct ke_key *key = NULL;
	uint8_t shared[SUITE_MAX_KE_SHARED];
	size_t shared_len = 0;
	int rc;

	rc = ke_key_generate(k->suite, k->group, &key);
	if (rc == 0)
		rc = ke_public_get(key, k->pub, sizeof(k->pub), &k->pub_len);
	if (rc == 0)
		rc = ke_shared_compute(key, k->peer_ke, k->peer_ke_len, shared, sizeof(shared),
				       &shared_len);
	ke_key_free(key);
	if (rc == 0) {
		k->in.shared = shared;
		k->in.shared_len = shared_len;
		rc = keymat_ike_derive(k->suite, &k->in, &k->keys);
		k->in.shared = NULL;
	}
	OPENSSL_cleanse(shared, sizeof(shared));
	job->rc = rc;
}

static void ke_job_free(struct ke_job *k)
{
	keymat_ike_free(k->keys);
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

/* The SA again, if it is still there and waits for this job. */
static struct ike_sa *ke_job_sa(struct ke_job *k)
{
	struct ike_sa *sa = ike_sa_from_entry(sa_table_find(k->gw->sas, k->spi));

	if (!sa || sa->id != k->sa_id || sa->jobs_pending == 0)
		return NULL;
	sa->jobs_pending--;
	return k->job.rc == -ECANCELED ? NULL : sa;
}

/* Our IKE_SA_INIT response, kept for AUTH (RFC 7296 2.15) and retransmits. */
static void answer(struct ike_sa *sa, struct ke_job *k)
{
	uint8_t out[4096];
	struct wbuf w;

	wbuf_init(&w, out, sizeof(out));
	sa->keys = k->keys;
	k->keys = NULL;
	if (build_response(sa, &k->chosen, k->pub, k->pub_len, &w) != 0 ||
	    !(sa->msg2 = dup_bytes(out, wbuf_len(&w)))) {
		ike_sa_free(sa);
		return;
	}
	sa->msg2_len = wbuf_len(&w);
	sa->rx_msgid = 1;
	log_debug(&sa->gw->log, sa->tag, "IKE_SA_INIT answered");
	exchange_send(sa, sa->msg2, sa->msg2_len);
}

static void ke_job_done(struct job *job)
{
	struct ke_job *k = container_of(job, struct ke_job, job);
	struct ike_sa *sa = ke_job_sa(k);

	if (!sa) {
		/* freed meanwhile (half-open timer, shutdown): the result is dropped */
	} else if (job->rc != 0) {
		log_info(&k->gw->log, sa->tag, "key exchange with the peer's KE value failed");
		respond_plain_notify(k->gw, &k->path, &k->req, IKEV2_N_INVALID_SYNTAX, NULL, 0);
		ike_sa_free(sa);
	} else {
		answer(sa, k);
	}
	ke_job_free(k);
}

/* The job's inputs, copied from the new SA and the request. */
static void ke_job_fill(struct ke_job *k, struct ike_sa *sa, const struct ike_path *path,
			const struct ike_msg *m, const struct ike_proposal *chosen,
			const struct ike_pl_ke *ke)
{
	k->job.run = ke_job_run;
	k->job.done = ke_job_done;
	k->gw = sa->gw;
	k->spi = sa->ent.spi_local;
	k->sa_id = sa->id;
	k->suite = sa->gw->suite;
	k->group = sa->ke_group;
	memcpy(k->ni, sa->ni, sa->ni_len);
	memcpy(k->nr, sa->nr, sizeof(k->nr));
	k->in = (struct keymat_ike_in){ .prf = sa->prf, .encr = sa->encr, .integ = sa->integ,
					.ni = k->ni, .ni_len = sa->ni_len, .nr = k->nr,
					.nr_len = sizeof(k->nr) };
	ike_sa_spis(sa, k->in.spi_i, k->in.spi_r);
	memcpy(k->peer_ke, ke->data.p, ke->data.len);
	k->peer_ke_len = ke->data.len;
	k->path = *path;
	k->req = m->hdr;
	k->chosen = *chosen;
}

/* Everything after the checks: the new half-open SA, then the key exchange job. */
static void respond_new_sa(struct gw *gw, const struct ike_path *path, const struct ike_msg *m,
			   const struct ike_proposal *chosen, const struct ike_pl_ke *ke,
			   const struct codec_view *ni)
{
	struct ike_sa *sa;
	struct ke_job *k;

	if (ke->data.len > SUITE_MAX_KE_PUB || ni->len > CODEC_NONCE_MAX ||
	    !(k = calloc(1, sizeof(*k))))
		return;
	sa = ike_sa_new(gw, &path->local, &path->peer, m->hdr.spi_i);
	if (!sa) {
		free(k);
		return;
	}
	sa->natt = path->natt;
	if (!ike_sa_take_suite(sa, chosen) || RAND_bytes(sa->nr, sizeof(sa->nr)) != 1 ||
	    !(sa->ni = dup_bytes(ni->p, ni->len)) ||
	    !(sa->msg1 = dup_bytes(m->raw.p, m->raw.len))) {
		ike_sa_free(sa);
		free(k);
		return;
	}
	sa->ni_len = ni->len;
	sa->msg1_len = m->raw.len;
	detect_nat(sa, m);
	remember_peer_notifies(sa, m);
	/* From now on: a key exchange that never finishes still ends with the SA. */
	loop_timer_init(&sa->half_open_timer, half_open_expired, sa);
	loop_timer_arm_in(gw->loop, &sa->half_open_timer, gw->cfg->timeouts.half_open * 1000ull);
	ke_job_fill(k, sa, path, m, chosen, ke);
	sa->jobs_pending++;
	jobs_submit(&gw->jobs, &k->job); /* done() may have freed sa: hands off */
}

static void process(struct gw *gw, const struct ike_path *path, const struct ike_msg *m)
{
	const struct ike_payload *ke_pl = codec_msg_find(m, IKEV2_PL_KE, 0);
	const struct ike_payload *n_pl = codec_msg_find(m, IKEV2_PL_NONCE, 0);
	const struct config_proposals *cp = &gw->cfg->proposals;
	struct ike_proposal chosen;
	const struct ike_transform *k;
	struct sa_table_entry *old;
	uint8_t grp[2];

	old = sa_table_find_half_open(gw->sas, m->hdr.spi_i, &path->peer);
	if (old) { /* RFC 7296 2.1: a retransmitted request gets the same answer */
		struct ike_sa *sa = ike_sa_from_entry(old);

		if (sa->jobs_pending) { /* its key exchange runs: answered when it is done */
			log_debug(&gw->log, sa->tag, "IKE_SA_INIT retransmission dropped: job pending");
			return;
		}
		gw->ctr.retransmits_answered++;
		if (sa->msg2)
			exchange_send(sa, sa->msg2, sa->msg2_len);
		return;
	}
	if (sa_table_half_open_count(gw->sas) >= gw->half_open_max) {
		log_debug(&gw->log, NULL, "half-open limit reached: IKE_SA_INIT dropped");
		return;
	}
	if (!ke_pl || !n_pl || !m->has_sa)
		return; /* rules_check already refused these */
	if (!cookie_ok(gw, path, m, &n_pl->body))
		return;
	if (proposal_select(cp->ike, cp->n_ike, &m->sa, &chosen) != 0) {
		log_info(&gw->log, NULL, "IKE_SA_INIT: no acceptable IKE proposal");
		respond_plain_notify(gw, path, &m->hdr, IKEV2_N_NO_PROPOSAL_CHOSEN, NULL, 0);
		gw->ctr.handshakes_failed++;
		return;
	}
	k = proposal_get(&chosen, IKEV2_TRANS_KE);
	if (ke_pl->u.ke.group != k->id) { /* RFC 7296 1.3: tell the group we want */
		grp[0] = (uint8_t)(k->id >> 8);
		grp[1] = (uint8_t)k->id;
		respond_plain_notify(gw, path, &m->hdr, IKEV2_N_INVALID_KE_PAYLOAD, grp, 2);
		return;
	}
	respond_new_sa(gw, path, m, &chosen, &ke_pl->u.ke, &n_pl->body);
}

void ike_sa_init_recv(struct gw *gw, const struct ike_path *path, const uint8_t *pkt,
		      size_t len)
{
	struct ike_msg *m = malloc(sizeof(*m));
	struct codec_err err;

	if (!m)
		return;
	gw->ctr.init_requests++;
	if (codec_decode_msg(pkt, len, m, &err) != 0 || rules_check(m, &err) != 0) {
		gw->ctr.bad_messages++;
		log_info(&gw->log, NULL, "IKE_SA_INIT refused: %s", err.reason);
		if (err.notify) {
			uint8_t d = err.data;

			respond_plain_notify(gw, path, &m->hdr, err.notify, &d,
					     err.notify == IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD);
		}
	} else if (m->hdr.msg_id == 0) {
		process(gw, path, m);
	}
	free(m);
}
