/* SPDX-License-Identifier: ISC */
/* A minimal IKEv2 initiator for tests and the load generator (see ike_initiator.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "ikegw/cert.h"
#include "ikegw/ikev2.h"
#include "ikegw/ke.h"
#include "ikegw/prf.h"
#include "ikegw/psk.h"
#include "ikegw/rules.h"
#include "ikegw/sig.h"
#include "ikegw/sk.h"

#include "ike_initiator.h"

#define NAT_HASH_LEN 20
#define AUTH_DATA_MAX 2048

/* RFC 7427 4: SHA2-256, SHA2-384, SHA2-512, Identity. */
static const uint8_t sig_hashes[] = { 0, 2, 0, 3, 0, 4, 0, 5 };

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	if (d && n)
		memcpy(d, p, n);
	return d;
}

static void put_be32(uint8_t out[4], uint32_t v)
{
	out[0] = (uint8_t)(v >> 24);
	out[1] = (uint8_t)(v >> 16);
	out[2] = (uint8_t)(v >> 8);
	out[3] = (uint8_t)v;
}

static int random_u64(uint64_t *v)
{
	uint8_t b[8];
	struct rbuf r;

	do {
		if (RAND_bytes(b, sizeof(b)) != 1)
			return -EIO;
		rbuf_init(&r, b, sizeof(b));
		rbuf_u64(&r, v);
	} while (*v == 0);
	return 0;
}

int ikei_init(struct ikei *c, const struct crypto_suite *s, const struct sockaddr_storage *local,
	      const struct sockaddr_storage *peer)
{
	uint64_t spi;

	memset(c, 0, sizeof(*c));
	c->suite = s;
	if (local)
		c->local = *local;
	if (peer)
		c->peer = *peer;
	if (random_u64(&c->spi_i) != 0 || random_u64(&spi) != 0)
		return -EIO;
	/* RFC 4303 2.1: ESP SPIs 1-255 are reserved. */
	c->esp_spi = (uint32_t)spi | 0x100u;
	return 0;
}

void ikei_fini(struct ikei *c)
{
	ke_key_free(c->ke);
	ke_key_free(c->cke);
	keymat_ike_free(c->keys);
	free(c->msg1);
	free(c->msg2);
	OPENSSL_cleanse(c, sizeof(*c));
}

int ikei_proposal(const char *s, uint8_t protocol, struct ike_proposal *out)
{
	char err[128];

	return proposal_parse(s, protocol, 1, out, err, sizeof(err));
}

int ikei_nat_hash(const struct crypto_suite *s, uint64_t spi_i, uint64_t spi_r,
		  const struct sockaddr_storage *a, uint8_t out[20])
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)a;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;
	uint8_t in[8 + 8 + 16 + 2];
	unsigned int outlen = 0;
	struct wbuf w;

	wbuf_init(&w, in, sizeof(in));
	wbuf_u64(&w, spi_i);
	wbuf_u64(&w, spi_r);
	if (a->ss_family == AF_INET6) {
		wbuf_bytes(&w, &a6->sin6_addr, 16);
		wbuf_u16(&w, ntohs(a6->sin6_port));
	} else {
		wbuf_bytes(&w, &a4->sin_addr, 4);
		wbuf_u16(&w, ntohs(a4->sin_port));
	}
	if (!wbuf_ok(&w))
		return -EINVAL;
	if (EVP_Digest(in, wbuf_len(&w), out, &outlen, suite_md_get(s, SUITE_MD_SHA1), NULL) != 1 ||
	    outlen != NAT_HASH_LEN)
		return -EIO;
	return 0;
}

/* ---- IKE_SA_INIT ---- */

static int take_nonce(struct ikei *c, const struct ikei_sa_init_opts *o)
{
	if (o->nonce) {
		if (o->nonce_len < CODEC_NONCE_MIN || o->nonce_len > CODEC_NONCE_MAX)
			return -EINVAL;
		memcpy(c->ni, o->nonce, o->nonce_len);
		c->ni_len = o->nonce_len;
	} else if (c->ni_len == 0) { /* RFC 7296 2.6: a retry after COOKIE keeps Ni */
		if (RAND_bytes(c->ni, IKEI_NONCE_LEN) != 1)
			return -EIO;
		c->ni_len = IKEI_NONCE_LEN;
	}
	return 0;
}

/* A fresh key pair when the group changed (RFC 7296 1.3: retry after INVALID_KE). */
static int take_ke(struct ikei *c, uint16_t group, uint8_t *pub, size_t cap, size_t *len)
{
	if (!c->ke || ke_key_group(c->ke)->id != group) {
		ke_key_free(c->ke);
		c->ke = NULL;
		if (ke_key_generate(c->suite, group, &c->ke) != 0)
			return -EINVAL;
	}
	return ke_public_get(c->ke, pub, cap, len);
}

static int enc_nat_d(struct ikei *c, struct codec_enc *e)
{
	uint8_t src[NAT_HASH_LEN], dst[NAT_HASH_LEN];

	if (ikei_nat_hash(c->suite, c->spi_i, 0, &c->local, src) != 0 ||
	    ikei_nat_hash(c->suite, c->spi_i, 0, &c->peer, dst) != 0)
		return -EIO;
	codec_enc_notify(e, 0, NULL, 0, IKEV2_N_NAT_DETECTION_SOURCE_IP, src, sizeof(src));
	codec_enc_notify(e, 0, NULL, 0, IKEV2_N_NAT_DETECTION_DESTINATION_IP, dst, sizeof(dst));
	return 0;
}

static void enc_critical(struct codec_enc *e, uint8_t type)
{
	if (!type)
		return;
	codec_enc_open(e, type, true);
	codec_enc_close(e);
}

int ikei_sa_init_build(struct ikei *c, const struct ikei_sa_init_opts *o, struct wbuf *out)
{
	struct ike_hdr h = { .spi_i = c->spi_i, .exchange = IKEV2_EXCH_IKE_SA_INIT,
			     .flags = IKEV2_FLAG_INITIATOR };
	uint8_t pub[SUITE_MAX_KE_PUB];
	size_t pub_len = 0, start = wbuf_len(out);
	struct codec_enc e;
	int rc;

	if ((rc = take_nonce(c, o)) != 0 || (rc = take_ke(c, o->ke_group, pub, sizeof(pub),
							  &pub_len)) != 0)
		return rc;
	codec_enc_begin(&e, out, &h);
	if (o->cookie) /* RFC 7296 2.6: the cookie comes first */
		codec_enc_notify(&e, 0, NULL, 0, IKEV2_N_COOKIE, o->cookie, o->cookie_len);
	codec_enc_sa(&e, o->props, o->n_props);
	codec_enc_ke(&e, o->ke_group, pub, pub_len);
	if (!o->no_nonce)
		codec_enc_nonce(&e, c->ni, c->ni_len);
	if (o->nat_d && enc_nat_d(c, &e) != 0)
		return -EIO;
	if (o->sig_hash)
		codec_enc_notify(&e, 0, NULL, 0, IKEV2_N_SIGNATURE_HASH_ALGORITHMS, sig_hashes,
				 sizeof(sig_hashes));
	enc_critical(&e, o->critical_type);
	if ((rc = codec_enc_finish(&e)) != 0)
		return rc;
	free(c->msg1);
	c->msg1_len = wbuf_len(out) - start;
	c->msg1 = dup_bytes(wbuf_at(out, start, c->msg1_len), c->msg1_len);
	return c->msg1 ? 0 : -ENOMEM;
}

/* The first error notify or COOKIE of a response without SA, or 0. */
static int notify_only(const struct ike_msg *m)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct ike_payload *p = &m->pl[i];

		if (p->type == IKEV2_PL_NOTIFY && (p->u.notify.type <= IKEV2_N_ERROR_MAX ||
						   p->u.notify.type == IKEV2_N_COOKIE))
			return p->u.notify.type;
	}
	return 0;
}

static int take_ike_proposal(struct ikei *c, const struct ike_msg *m)
{
	const struct ike_proposal *p = &m->sa.p[0];
	const struct ike_transform *e, *f, *i, *k;

	if (m->sa.n != 1 || p->protocol != IKEV2_PROTO_IKE)
		return -EBADMSG;
	e = proposal_get(p, IKEV2_TRANS_ENCR);
	f = proposal_get(p, IKEV2_TRANS_PRF);
	i = proposal_get(p, IKEV2_TRANS_INTEG);
	k = proposal_get(p, IKEV2_TRANS_KE);
	if (!e || !f || !k)
		return -EBADMSG;
	c->encr = suite_encr_find(e->id, e->keylen);
	c->prf = suite_prf_find(f->id);
	c->integ = (i && i->id != IKEV2_INTEG_NONE) ? suite_integ_find(i->id) : NULL;
	c->ke_group = k->id;
	if (!c->encr || !c->prf || (!c->encr->aead && !c->integ))
		return -ENOTSUP;
	return 0;
}

static int derive_ike_keys(struct ikei *c, const struct ike_pl_ke *ke)
{
	uint8_t shared[SUITE_MAX_KE_SHARED];
	size_t shared_len = 0;
	struct keymat_ike_in in = { .prf = c->prf, .encr = c->encr, .integ = c->integ,
				    .ni = c->ni, .ni_len = c->ni_len,
				    .nr = c->nr, .nr_len = c->nr_len };
	struct wbuf w;
	int rc;

	if (!c->ke || ke->group != c->ke_group || ke_key_group(c->ke)->id != ke->group)
		return -EPROTO;
	rc = ke_shared_compute(c->ke, ke->data.p, ke->data.len, shared, sizeof(shared),
			       &shared_len);
	if (rc != 0)
		return rc;
	wbuf_init(&w, in.spi_i, sizeof(in.spi_i));
	wbuf_u64(&w, c->spi_i);
	wbuf_init(&w, in.spi_r, sizeof(in.spi_r));
	wbuf_u64(&w, c->spi_r);
	in.shared = shared;
	in.shared_len = shared_len;
	keymat_ike_free(c->keys);
	c->keys = NULL;
	rc = keymat_ike_derive(c->suite, &in, &c->keys);
	OPENSSL_cleanse(shared, sizeof(shared));
	return rc;
}

int ikei_sa_init_process(struct ikei *c, const uint8_t *msg, size_t len, struct ike_msg *m)
{
	const struct ike_payload *ke, *nr;
	struct codec_err err;
	int rc;

	if (codec_decode_msg(msg, len, m, &err) != 0 || rules_check(m, &err) != 0)
		return -EBADMSG;
	if (m->hdr.exchange != IKEV2_EXCH_IKE_SA_INIT || !(m->hdr.flags & IKEV2_FLAG_RESPONSE) ||
	    m->hdr.spi_i != c->spi_i || m->hdr.msg_id != 0)
		return -EPROTO;
	if (!m->has_sa)
		return notify_only(m) ?: -EBADMSG;
	ke = codec_msg_find(m, IKEV2_PL_KE, 0);
	nr = codec_msg_find(m, IKEV2_PL_NONCE, 0);
	if (!ke || !nr || nr->body.len > sizeof(c->nr) || m->hdr.spi_r == 0)
		return -EBADMSG;
	if ((rc = take_ike_proposal(c, m)) != 0)
		return rc;
	memcpy(c->nr, nr->body.p, nr->body.len);
	c->nr_len = nr->body.len;
	c->spi_r = m->hdr.spi_r;
	if ((rc = derive_ike_keys(c, &ke->u.ke)) != 0)
		return rc;
	free(c->msg2);
	if (!(c->msg2 = dup_bytes(msg, len)))
		return -ENOMEM;
	c->msg2_len = len;
	c->next_msg_id = 1;
	return 0;
}

/* ---- encrypted requests ---- */

static int encrypted_build(struct ikei *c, uint8_t exchange, uint32_t msg_id, uint8_t flags,
			   const uint8_t *inner, size_t inner_len, uint8_t first, struct wbuf *out)
{
	struct ike_hdr h = { .spi_i = c->spi_i, .spi_r = c->spi_r, .exchange = exchange,
			     .flags = flags | (c->orig_resp ? 0 : IKEV2_FLAG_INITIATOR),
			     .msg_id = msg_id };
	struct codec_enc e;
	size_t sk_off;

	if (!c->keys || wbuf_len(out) != 0)
		return -EINVAL; /* sk_protect wants the message from the buffer's start */
	codec_enc_begin(&e, out, &h);
	codec_enc_open(&e, IKEV2_PL_SK, false);
	sk_off = e.pl_off;
	wbuf_put_u8_at(out, sk_off, first);
	if (!wbuf_ok(out))
		return -EMSGSIZE;
	return sk_protect(c->suite, c->orig_resp ? &c->keys->r : &c->keys->i, c->tx_iv++, inner,
			  inner_len, out, sk_off);
}

int ikei_request_build(struct ikei *c, uint8_t exchange, const uint8_t *inner, size_t inner_len,
		       uint8_t first, struct wbuf *out)
{
	int rc = encrypted_build(c, exchange, c->next_msg_id, 0, inner, inner_len, first, out);

	if (rc == 0)
		c->next_msg_id++;
	return rc;
}

int ikei_response_build(struct ikei *c, uint8_t exchange, uint32_t msg_id, const uint8_t *inner,
			size_t inner_len, uint8_t first, struct wbuf *out)
{
	return encrypted_build(c, exchange, msg_id, IKEV2_FLAG_RESPONSE, inner, inner_len, first,
			       out);
}

/* ---- IKE_AUTH ---- */

static const char *prf_digest(const struct suite_prf *prf)
{
	switch (prf->md) {
	case SUITE_MD_SHA1:
		return "SHA1";
	case SUITE_MD_SHA256:
		return "SHA256";
	case SUITE_MD_SHA384:
		return "SHA384";
	default:
		return "SHA512";
	}
}

/* RFC 7296 2.15: <msg> | <nonce> | prf(SK_px, ID body); the caller frees *octets. */
static int signed_octets(struct ikei *c, const uint8_t *msg, size_t msg_len, const uint8_t *nonce,
			 size_t nonce_len, const uint8_t *skp, const uint8_t *id_body,
			 size_t id_len, uint8_t **octets, size_t *n)
{
	uint8_t maced[SUITE_MAX_PRF_OUT];
	struct crypto_chunk ch = { id_body, id_len };
	struct sig_octets o = { msg, msg_len, nonce, nonce_len, maced, c->prf->out_len };
	struct wbuf w;
	int rc;

	if (!msg || !(*octets = malloc(sig_octets_len(&o))))
		return -ENOMEM;
	wbuf_init(&w, *octets, sig_octets_len(&o));
	rc = prf_compute(c->suite, c->prf, skp, c->prf->key_len, &ch, 1, maced);
	if (rc == 0)
		rc = sig_octets_build(&o, &w);
	OPENSSL_cleanse(maced, sizeof(maced));
	*n = wbuf_len(&w);
	if (rc != 0) {
		free(*octets);
		*octets = NULL;
	}
	return rc;
}

/* AUTH method and data for our IDi body; *method set. */
static int auth_value(struct ikei *c, const struct ikei_auth_opts *o, const uint8_t *id_body,
		      size_t id_len, uint8_t *method, struct wbuf *aw)
{
	uint8_t *octets = NULL, mac[PSK_AUTH_MAX];
	size_t n = 0, mac_len = 0;
	EVP_PKEY *key;
	int rc, hash;

	rc = signed_octets(c, c->msg1, c->msg1_len, c->nr, c->nr_len, c->keys->pi, id_body, id_len,
			   &octets, &n);
	if (rc != 0)
		return rc;
	if (o->psk) {
		*method = IKEV2_AUTH_PSK;
		rc = psk_auth_compute(prf_digest(c->prf), o->psk, o->psk_len, octets, n, mac,
				      sizeof(mac), &mac_len);
		wbuf_bytes(aw, mac, mac_len);
	} else if (o->cred) {
		*method = IKEV2_AUTH_DIGITAL_SIGNATURE;
		key = cert_own_key(o->cred);
		hash = o->sig_hash ? o->sig_hash
				   : EVP_PKEY_is_a(key, "ED25519") ? IKEV2_HASH_IDENTITY
								   : IKEV2_HASH_SHA2_256;
		rc = sig_ds_sign(key, hash, o->rsa_pss, octets, n, aw);
	} else {
		rc = -EINVAL;
	}
	free(octets);
	if (rc == 0 && o->tamper_auth && wbuf_len(aw) > 0) {
		uint8_t *last = wbuf_at(aw, wbuf_len(aw) - 1, 1);

		*last ^= 0x01;
	}
	return rc != 0 ? rc : wbuf_ok(aw) ? 0 : -ENOSPC;
}

static void enc_certs(struct codec_enc *e, const struct cert_own *cred)
{
	for (size_t i = 0; cred && i < cert_own_count(cred); i++) {
		struct cert_der d = cert_own_der(cred, i);

		codec_enc_cert(e, IKEV2_PL_CERT, IKEV2_CERT_X509_SIG, d.der, d.len);
	}
}

/* RFC 7296 3.15.1: empty values ask "give me one". */
static void enc_cp_request(struct codec_enc *e)
{
	static const uint16_t types[] = { IKEV2_CFG_INTERNAL_IP4_ADDRESS,
					  IKEV2_CFG_INTERNAL_IP4_NETMASK,
					  IKEV2_CFG_INTERNAL_IP4_DNS };
	struct ike_cfg_attr a[3];

	for (size_t i = 0; i < 3; i++)
		a[i] = (struct ike_cfg_attr){ .type = types[i] };
	codec_enc_cp(e, IKEV2_CFG_REQUEST, a, 3);
}

static void enc_child(struct ikei *c, const struct ikei_auth_opts *o, struct codec_enc *e)
{
	struct ike_proposal p[IKE_SA_MAX_PROPOSALS];
	struct ike_ts any = { .type = IKEV2_TS_IPV4_ADDR_RANGE, .end_port = 0xffff,
			      .end = { 0xff, 0xff, 0xff, 0xff } };
	size_t n = o->n_esp < IKE_SA_MAX_PROPOSALS ? o->n_esp : IKE_SA_MAX_PROPOSALS;

	for (size_t i = 0; i < n; i++) {
		p[i] = o->esp[i];
		p[i].protocol = IKEV2_PROTO_ESP;
		p[i].spi_len = 4;
		put_be32(p[i].spi, c->esp_spi);
	}
	codec_enc_sa(e, p, n);
	codec_enc_ts(e, IKEV2_PL_TSI, o->tsi ? o->tsi : &any, o->tsi ? o->n_tsi : 1);
	codec_enc_ts(e, IKEV2_PL_TSR, o->tsr ? o->tsr : &any, o->tsr ? o->n_tsr : 1);
}

static int auth_inner(struct ikei *c, const struct ikei_auth_opts *o, struct wbuf *w,
		      uint8_t *first)
{
	uint8_t idb[4 + 256], *authdata = malloc(AUTH_DATA_MAX), method = 0;
	struct codec_enc e;
	struct wbuf iw, aw;
	int rc;

	if (!authdata)
		return -ENOMEM;
	wbuf_init(&iw, idb, sizeof(idb)); /* IDi body: type, 3 reserved, data */
	wbuf_u8(&iw, o->id_type);
	wbuf_zero(&iw, 3);
	wbuf_bytes(&iw, o->id, o->id_len);
	wbuf_init(&aw, authdata, AUTH_DATA_MAX);
	rc = wbuf_ok(&iw) ? auth_value(c, o, idb, wbuf_len(&iw), &method, &aw) : -EINVAL;
	codec_enc_begin_chain(&e, w);
	codec_enc_id(&e, IKEV2_PL_IDI, o->id_type, o->id, o->id_len);
	enc_certs(&e, o->psk ? NULL : o->cred);
	if (o->idr)
		codec_enc_id(&e, IKEV2_PL_IDR, IKEV2_ID_FQDN, (const uint8_t *)o->idr,
			     strlen(o->idr));
	codec_enc_auth(&e, method, authdata, wbuf_len(&aw));
	if (o->cp)
		enc_cp_request(&e);
	if (o->esp)
		enc_child(c, o, &e);
	enc_critical(&e, o->critical_type);
	free(authdata);
	return rc ? rc : codec_enc_end_chain(&e, first);
}

int ikei_auth_build(struct ikei *c, const struct ikei_auth_opts *o, struct wbuf *out)
{
	uint8_t *inner = malloc(IKEI_MSG_MAX), first = 0;
	struct wbuf w;
	int rc;

	if (!inner)
		return -ENOMEM;
	wbuf_init(&w, inner, IKEI_MSG_MAX);
	rc = c->keys ? auth_inner(c, o, &w, &first) : -EINVAL;
	if (rc == 0)
		rc = ikei_request_build(c, IKEV2_EXCH_IKE_AUTH, inner, wbuf_len(&w), first, out);
	free(inner);
	return rc;
}

/* ---- INFORMATIONAL ---- */

int ikei_info_build(struct ikei *c, const struct ikei_info_opts *o, struct wbuf *out)
{
	uint8_t inner[512], spis[4 * 64], first = 0;
	struct codec_enc e;
	struct wbuf w;

	if (o->n_esp > 64)
		return -EINVAL;
	wbuf_init(&w, inner, sizeof(inner));
	codec_enc_begin_chain(&e, &w);
	if (o->delete_ike) /* RFC 7296 3.11: protocol IKE, no SPIs */
		codec_enc_delete(&e, IKEV2_PROTO_IKE, 0, 0, NULL);
	if (o->n_esp) {
		for (size_t i = 0; i < o->n_esp; i++)
			put_be32(spis + 4 * i, o->esp_spis[i]);
		codec_enc_delete(&e, IKEV2_PROTO_ESP, 4, (uint16_t)o->n_esp, spis);
	}
	if (codec_enc_end_chain(&e, &first) != 0)
		return -EMSGSIZE;
	return ikei_request_build(c, IKEV2_EXCH_INFORMATIONAL, inner, wbuf_len(&w), first, out);
}

/* ---- what the responder sends ---- */

int ikei_decrypt(struct ikei *c, const uint8_t *msg, size_t len, struct ike_msg *m,
		 uint8_t *plain, size_t cap)
{
	struct codec_err err;
	size_t plain_len = 0;

	if (!c->keys)
		return -EINVAL;
	if (codec_decode_msg(msg, len, m, &err) != 0)
		return -EBADMSG;
	if (m->hdr.spi_i != c->spi_i || m->hdr.spi_r != c->spi_r || m->enc.type != IKEV2_PL_SK)
		return -EPROTO;
	if (sk_unprotect(c->suite, c->orig_resp ? &c->keys->i : &c->keys->r, msg, len,
			 m->enc.hdr_off, plain, cap, &plain_len) != 0)
		return -EACCES;
	if (codec_decode_chain(m->enc.inner_next, plain, plain_len, m, &err) != 0 ||
	    rules_check(m, &err) != 0)
		return -EBADMSG;
	return 0;
}

int ikei_verify_responder(struct ikei *c, const struct ike_msg *m, X509 **leaf)
{
	const struct ike_payload *idr = codec_msg_find(m, IKEV2_PL_IDR, 0);
	const struct ike_payload *auth = codec_msg_find(m, IKEV2_PL_AUTH, 0);
	const struct ike_payload *cert = codec_msg_find(m, IKEV2_PL_CERT, 0);
	const unsigned char *der;
	uint8_t *octets = NULL;
	size_t n = 0;
	X509 *x;
	int rc;

	if (leaf)
		*leaf = NULL;
	if (!idr || !auth || !cert || !c->keys)
		return -ENOENT;
	der = cert->u.cert.data.p;
	x = d2i_X509(NULL, &der, (long)cert->u.cert.data.len);
	if (!x)
		return -EBADMSG;
	rc = signed_octets(c, c->msg2, c->msg2_len, c->ni, c->ni_len, c->keys->pr, idr->body.p,
			   idr->body.len, &octets, &n);
	if (rc == 0)
		rc = sig_verify(cert_pubkey(x), auth->u.auth.method, auth->u.auth.data.p,
				auth->u.auth.data.len, octets, n);
	free(octets);
	if (rc == 0 && leaf)
		*leaf = x;
	else
		X509_free(x);
	return rc;
}

int ikei_child_keys(struct ikei *c, const struct ike_msg *m, struct child_keys *out,
		    uint32_t *spi_r)
{
	const struct ike_proposal *p = &m->sa.p[0];
	const struct ike_transform *e, *i;
	struct keymat_child_in in = { .ni = c->ni, .ni_len = c->ni_len, .nr = c->nr,
				      .nr_len = c->nr_len };
	struct rbuf r;
	uint32_t spi = 0;

	if (!c->keys || !m->has_sa || m->sa.n != 1 || p->protocol != IKEV2_PROTO_ESP ||
	    p->spi_len != 4)
		return -EBADMSG;
	e = proposal_get(p, IKEV2_TRANS_ENCR);
	i = proposal_get(p, IKEV2_TRANS_INTEG);
	in.encr = e ? suite_encr_find(e->id, e->keylen) : NULL;
	in.integ = (i && i->id != IKEV2_INTEG_NONE) ? suite_integ_find(i->id) : NULL;
	if (!in.encr)
		return -ENOTSUP;
	rbuf_init(&r, p->spi, 4);
	rbuf_u32(&r, &spi);
	if (spi_r)
		*spi_r = spi;
	return keymat_child_derive(c->suite, c->keys, &in, out);
}

/* ---- the SA lifecycle (RFC 7296 1.3, 2.8, 2.18) ---- */

static const struct ike_ts any_ts = { .type = IKEV2_TS_IPV4_ADDR_RANGE, .end_port = 0xffff,
				      .end = { 0xff, 0xff, 0xff, 0xff } };

static int fresh_nonce(uint8_t out[32], const uint8_t *given)
{
	if (given) {
		memcpy(out, given, 32);
		return 0;
	}
	return RAND_bytes(out, 32) == 1 ? 0 : -EIO;
}

/* A new key of group into *k, its public value encoded as a KE payload. */
static int enc_new_ke(struct ikei *c, struct ke_key **k, uint16_t group, struct codec_enc *e)
{
	uint8_t pub[SUITE_MAX_KE_PUB];
	size_t n = 0;

	ke_key_free(*k);
	*k = NULL;
	if (ke_key_generate(c->suite, group, k) != 0 || ke_public_get(*k, pub, sizeof(pub), &n))
		return -EINVAL;
	codec_enc_ke(e, group, pub, n);
	return 0;
}

static int end_and_send(struct ikei *c, struct codec_enc *e, uint8_t *inner, struct wbuf *out,
			int rc)
{
	uint8_t first = 0;

	if (rc == 0)
		rc = codec_enc_end_chain(e, &first);
	if (rc == 0)
		rc = ikei_request_build(c, IKEV2_EXCH_CREATE_CHILD_SA, inner, wbuf_len(e->w), first,
					out);
	free(inner);
	return rc;
}

int ikei_rekey_child_build(struct ikei *c, const struct ikei_child_opts *o, struct wbuf *out)
{
	uint8_t *inner = malloc(IKEI_MSG_MAX), spi[4];
	struct ike_proposal p = *o->esp;
	struct codec_enc e;
	struct wbuf w;
	int rc;

	if (!inner)
		return -ENOMEM;
	p.protocol = IKEV2_PROTO_ESP;
	p.spi_len = 4;
	put_be32(p.spi, o->new_spi);
	if (o->ke_group && p.n_xf < IKE_PROPOSAL_MAX_XF)
		p.xf[p.n_xf++] = (struct ike_transform){ IKEV2_TRANS_KE, o->ke_group, 0 };
	rc = fresh_nonce(c->cni, o->nonce);
	wbuf_init(&w, inner, IKEI_MSG_MAX);
	codec_enc_begin_chain(&e, &w);
	put_be32(spi, o->old_spi);
	if (o->old_spi)
		codec_enc_notify(&e, IKEV2_PROTO_ESP, spi, 4, IKEV2_N_REKEY_SA, NULL, 0);
	codec_enc_sa(&e, &p, 1);
	codec_enc_nonce(&e, c->cni, sizeof(c->cni));
	ke_key_free(c->cke);
	c->cke = NULL;
	if (rc == 0 && o->ke_group)
		rc = enc_new_ke(c, &c->cke, o->ke_group, &e);
	codec_enc_ts(&e, IKEV2_PL_TSI, o->tsi ? o->tsi : &any_ts, o->tsi ? o->n_tsi : 1);
	codec_enc_ts(&e, IKEV2_PL_TSR, o->tsr ? o->tsr : &any_ts, o->tsr ? o->n_tsr : 1);
	return end_and_send(c, &e, inner, out, rc);
}

/* RFC 7296 2.17 with the exchange's nonces and, with PFS, g^ir. */
static int child_derive(struct ikei *c, const struct ike_proposal *p, const uint8_t *ni,
			size_t ni_len, const uint8_t *nr, size_t nr_len, const uint8_t *shared,
			size_t shared_len, struct child_keys *out)
{
	const struct ike_transform *e = proposal_get(p, IKEV2_TRANS_ENCR);
	const struct ike_transform *i = proposal_get(p, IKEV2_TRANS_INTEG);
	struct keymat_child_in in = { .ni = ni, .ni_len = ni_len, .nr = nr, .nr_len = nr_len,
				      .shared = shared, .shared_len = shared_len };

	in.encr = e ? suite_encr_find(e->id, e->keylen) : NULL;
	in.integ = (i && i->id != IKEV2_INTEG_NONE) ? suite_integ_find(i->id) : NULL;
	if (!in.encr)
		return -ENOTSUP;
	return keymat_child_derive(c->suite, c->keys, &in, out);
}

static int shared_with(struct ke_key *k, const struct ike_msg *m, uint8_t *out, size_t cap,
		       size_t *len)
{
	const struct ike_payload *ke = codec_msg_find(m, IKEV2_PL_KE, 0);

	*len = 0;
	if (!k)
		return 0;
	if (!ke || ke->u.ke.group != ke_key_group(k)->id)
		return -EBADMSG;
	return ke_shared_compute(k, ke->u.ke.data.p, ke->u.ke.data.len, out, cap, len);
}

int ikei_rekey_child_keys(struct ikei *c, const struct ike_msg *m, struct child_keys *out,
			  uint32_t *spi_r)
{
	const struct ike_payload *nr = codec_msg_find(m, IKEV2_PL_NONCE, 0);
	uint8_t shared[SUITE_MAX_KE_SHARED];
	size_t n = 0;
	struct rbuf r;
	int rc;

	if (!c->keys || !nr || !m->has_sa || m->sa.n != 1 || m->sa.p[0].spi_len != 4)
		return -EBADMSG;
	rc = shared_with(c->cke, m, shared, sizeof(shared), &n);
	if (rc == 0)
		rc = child_derive(c, &m->sa.p[0], c->cni, sizeof(c->cni), nr->body.p, nr->body.len,
				  n ? shared : NULL, n, out);
	OPENSSL_cleanse(shared, sizeof(shared));
	rbuf_init(&r, m->sa.p[0].spi, 4);
	if (spi_r)
		rbuf_u32(&r, spi_r);
	return rc;
}

static int answer_send(struct ikei *c, const struct ike_msg *req, struct codec_enc *e,
		       uint8_t *inner, struct wbuf *out, int rc)
{
	uint8_t first = 0;

	if (rc == 0)
		rc = codec_enc_end_chain(e, &first);
	if (rc == 0)
		rc = ikei_response_build(c, req->hdr.exchange, req->hdr.msg_id, inner,
					 wbuf_len(e->w), first, out);
	free(inner);
	return rc;
}

/* The answer's child part: proposal with our SPI, Nr, KE (PFS), g^ir into shared. */
static int child_answer_payloads(struct ikei *c, const struct ike_msg *req, uint32_t new_spi,
				 const uint8_t nr[32], struct codec_enc *e, uint8_t *shared,
				 size_t *shared_len)
{
	struct ike_proposal p = req->sa.p[0];
	const struct ike_transform *k = proposal_get(&p, IKEV2_TRANS_KE);
	struct ke_key *key = NULL;
	int rc = 0;

	put_be32(p.spi, new_spi);
	codec_enc_sa(e, &p, 1);
	codec_enc_nonce(e, nr, 32);
	*shared_len = 0;
	if (k && k->id != IKEV2_KE_NONE) {
		rc = enc_new_ke(c, &key, k->id, e);
		if (rc == 0)
			rc = shared_with(key, req, shared, SUITE_MAX_KE_SHARED, shared_len);
		ke_key_free(key);
	}
	return rc;
}

int ikei_rekey_child_answer(struct ikei *c, const struct ike_msg *req, uint32_t new_spi,
			    const uint8_t *nonce, struct wbuf *out, struct child_keys *keys,
			    uint32_t *spi_gw)
{
	const struct ike_payload *ni = codec_msg_find(req, IKEV2_PL_NONCE, 0);
	const struct ike_payload *tsi = codec_msg_find(req, IKEV2_PL_TSI, 0);
	const struct ike_payload *tsr = codec_msg_find(req, IKEV2_PL_TSR, 0);
	uint8_t *inner = malloc(IKEI_MSG_MAX), nr[32], shared[SUITE_MAX_KE_SHARED];
	struct codec_enc e;
	struct wbuf w;
	struct rbuf r;
	size_t n = 0;
	int rc;

	if (!inner)
		return -ENOMEM;
	if (!ni || !tsi || !tsr || !req->has_sa || req->sa.n != 1 || req->sa.p[0].spi_len != 4) {
		free(inner);
		return -EBADMSG;
	}
	rc = fresh_nonce(nr, nonce);
	wbuf_init(&w, inner, IKEI_MSG_MAX);
	codec_enc_begin_chain(&e, &w);
	if (rc == 0)
		rc = child_answer_payloads(c, req, new_spi, nr, &e, shared, &n);
	/* RFC 7296 2.9: the responder's TSi/TSr are the initiator's, narrowed (here: equal) */
	codec_enc_open(&e, IKEV2_PL_TSI, false);
	wbuf_bytes(e.w, tsi->body.p, tsi->body.len);
	codec_enc_close(&e);
	codec_enc_open(&e, IKEV2_PL_TSR, false);
	wbuf_bytes(e.w, tsr->body.p, tsr->body.len);
	codec_enc_close(&e);
	if (rc == 0 && keys) /* the gateway initiated: its nonce is Ni */
		rc = child_derive(c, &req->sa.p[0], ni->body.p, ni->body.len, nr, 32,
				  n ? shared : NULL, n, keys);
	OPENSSL_cleanse(shared, sizeof(shared));
	rbuf_init(&r, req->sa.p[0].spi, 4);
	if (spi_gw)
		rbuf_u32(&r, spi_gw);
	return answer_send(c, req, &e, inner, out, rc);
}

/* ---- IKE SA rekey (RFC 7296 2.18) ---- */

static void next_init(struct ikei *c, struct ikei *next)
{
	memset(next, 0, sizeof(*next));
	next->suite = c->suite;
	next->local = c->local;
	next->peer = c->peer;
	next->encr = c->encr;
	next->integ = c->integ;
	next->prf = c->prf;
	next->ke_group = c->ke_group;
	next->esp_spi = c->esp_spi;
}

static void ike_proposal_of(const struct ikei *c, uint64_t spi, struct ike_proposal *p)
{
	struct wbuf w;

	memset(p, 0, sizeof(*p));
	p->num = 1;
	p->protocol = IKEV2_PROTO_IKE;
	p->spi_len = 8;
	wbuf_init(&w, p->spi, 8);
	wbuf_u64(&w, spi);
	p->xf[p->n_xf++] = (struct ike_transform){ IKEV2_TRANS_ENCR, c->encr->id,
						   c->encr->keylen_bits };
	p->xf[p->n_xf++] = (struct ike_transform){ IKEV2_TRANS_PRF, c->prf->id, 0 };
	if (c->integ)
		p->xf[p->n_xf++] = (struct ike_transform){ IKEV2_TRANS_INTEG, c->integ->id, 0 };
	p->xf[p->n_xf++] = (struct ike_transform){ IKEV2_TRANS_KE, c->ke_group, 0 };
}

int ikei_rekey_ike_build(struct ikei *c, struct ikei *next, struct wbuf *out)
{
	return ikei_rekey_ike_build_nonce(c, next, NULL, out);
}

int ikei_rekey_ike_build_nonce(struct ikei *c, struct ikei *next, const uint8_t *nonce,
			       struct wbuf *out)
{
	uint8_t *inner = malloc(IKEI_MSG_MAX);
	struct ike_proposal p;
	struct codec_enc e;
	struct wbuf w;
	int rc;

	if (!inner)
		return -ENOMEM;
	next_init(c, next);
	rc = random_u64(&next->spi_i);
	if (rc == 0)
		rc = fresh_nonce(next->ni, nonce);
	next->ni_len = 32;
	ike_proposal_of(c, next->spi_i, &p);
	wbuf_init(&w, inner, IKEI_MSG_MAX);
	codec_enc_begin_chain(&e, &w);
	codec_enc_sa(&e, &p, 1);
	codec_enc_nonce(&e, next->ni, next->ni_len);
	if (rc == 0)
		rc = enc_new_ke(c, &next->ke, c->ke_group, &e);
	return end_and_send(c, &e, inner, out, rc);
}

/* SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) and the rest with next's SPIs. */
static int next_keys(struct ikei *c, struct ikei *next, const struct ike_msg *m)
{
	uint8_t shared[SUITE_MAX_KE_SHARED];
	size_t n = 0;
	struct keymat_ike_in in = { .prf = next->prf, .encr = next->encr, .integ = next->integ,
				    .ni = next->ni, .ni_len = next->ni_len, .nr = next->nr,
				    .nr_len = next->nr_len };
	struct wbuf w;
	int rc = shared_with(next->ke, m, shared, sizeof(shared), &n);

	wbuf_init(&w, in.spi_i, 8);
	wbuf_u64(&w, next->spi_i);
	wbuf_init(&w, in.spi_r, 8);
	wbuf_u64(&w, next->spi_r);
	in.shared = shared;
	in.shared_len = n;
	if (rc == 0 && n == 0)
		rc = -EBADMSG;
	if (rc == 0)
		rc = keymat_ike_rekey(c->suite, c->keys, &in, &next->keys);
	OPENSSL_cleanse(shared, sizeof(shared));
	return rc;
}

int ikei_rekey_ike_process(struct ikei *c, struct ikei *next, const struct ike_msg *m)
{
	const struct ike_payload *nr = codec_msg_find(m, IKEV2_PL_NONCE, 0);
	struct rbuf r;

	if (!nr || nr->body.len > sizeof(next->nr) || !m->has_sa || m->sa.n != 1 ||
	    m->sa.p[0].protocol != IKEV2_PROTO_IKE || m->sa.p[0].spi_len != 8)
		return -EBADMSG;
	memcpy(next->nr, nr->body.p, nr->body.len);
	next->nr_len = nr->body.len;
	rbuf_init(&r, m->sa.p[0].spi, 8);
	rbuf_u64(&r, &next->spi_r);
	return next_keys(c, next, m);
}

int ikei_rekey_ike_answer(struct ikei *c, struct ikei *next, const struct ike_msg *req,
			  struct wbuf *out)
{
	return ikei_rekey_ike_answer_nonce(c, next, req, NULL, out);
}

int ikei_rekey_ike_answer_nonce(struct ikei *c, struct ikei *next, const struct ike_msg *req,
				const uint8_t *nonce, struct wbuf *out)
{
	const struct ike_payload *ni = codec_msg_find(req, IKEV2_PL_NONCE, 0);
	uint8_t *inner = malloc(IKEI_MSG_MAX);
	struct ike_proposal p;
	struct codec_enc e;
	struct wbuf w;
	struct rbuf r;
	int rc;

	if (!inner)
		return -ENOMEM;
	if (!ni || ni->body.len > sizeof(next->ni) || !req->has_sa || req->sa.n != 1 ||
	    req->sa.p[0].spi_len != 8) {
		free(inner);
		return -EBADMSG;
	}
	next_init(c, next);
	next->orig_resp = true; /* RFC 7296 3.1: the gateway started this rekey */
	memcpy(next->ni, ni->body.p, ni->body.len);
	next->ni_len = ni->body.len;
	rbuf_init(&r, req->sa.p[0].spi, 8);
	rbuf_u64(&r, &next->spi_i);
	rc = random_u64(&next->spi_r);
	if (rc == 0)
		rc = fresh_nonce(next->nr, nonce);
	next->nr_len = 32;
	ike_proposal_of(c, next->spi_r, &p);
	wbuf_init(&w, inner, IKEI_MSG_MAX);
	codec_enc_begin_chain(&e, &w);
	codec_enc_sa(&e, &p, 1);
	codec_enc_nonce(&e, next->nr, next->nr_len);
	if (rc == 0)
		rc = enc_new_ke(c, &next->ke, c->ke_group, &e);
	if (rc == 0)
		rc = next_keys(c, next, req);
	return answer_send(c, req, &e, inner, out, rc);
}
