/* SPDX-License-Identifier: ISC */
/*
 * What IKE_AUTH needs from messages: the octets AUTH covers (RFC 7296 2.15), identities
 * as text, our own IDr, and a kept copy of a request's payloads for a later step (a job's
 * done(), the last round of a flow).
 */
#include <arpa/inet.h>
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
#include "ikegw/prf.h"
#include "ikegw/sig.h"
#include "ikegw/suite.h"

#include "ike_auth_int.h"

const char *auth_prf_digest(const struct suite_prf *prf)
{
	static const char *const names[] = { [SUITE_MD_SHA1] = "SHA1", [SUITE_MD_SHA256] = "SHA256",
					     [SUITE_MD_SHA384] = "SHA384",
					     [SUITE_MD_SHA512] = "SHA512" };

	return prf->md < SUITE_MD_COUNT ? names[prf->md] : NULL;
}

int auth_octets(struct ike_sa *sa, const uint8_t *msg, size_t msg_len, const uint8_t *nonce,
		size_t nonce_len, const uint8_t *skp, const struct codec_view *id_body,
		struct wbuf *out)
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

uint8_t *auth_initiator_octets(struct ike_sa *sa, const struct codec_view *idi_body,
			       size_t *len)
{
	uint8_t *octets = malloc(AUTH_OCTETS_MAX);
	struct wbuf w;

	if (!octets)
		return NULL;
	wbuf_init(&w, octets, AUTH_OCTETS_MAX);
	if (auth_octets(sa, sa->msg1, sa->msg1_len, sa->nr, sizeof(sa->nr), sa->keys->pi,
			idi_body, &w) != 0) {
		free(octets);
		return NULL;
	}
	*len = wbuf_len(&w);
	return octets;
}

int auth_responder_octets(struct ike_sa *sa, const struct codec_view *idr_body,
			  struct wbuf *out)
{
	return auth_octets(sa, sa->msg2, sa->msg2_len, sa->ni, sa->ni_len, sa->keys->pr, idr_body,
			   out);
}

int auth_our_id(struct gw *gw, uint8_t *type, uint8_t *data, size_t cap, size_t *len)
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

void auth_id_text(const struct ike_pl_id *id, char *out, size_t len)
{
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

void auth_peer_text(const struct ike_sa *sa, char *out, size_t len)
{
	const void *pa = sa->peer.ss_family == AF_INET
				 ? (const void *)&((const struct sockaddr_in *)&sa->peer)->sin_addr
				 : (const void *)&((const struct sockaddr_in6 *)&sa->peer)->sin6_addr;

	if (!inet_ntop(sa->peer.ss_family, pa, out, (socklen_t)len))
		snprintf(out, len, "?");
}

int auth_fail(struct auth_ctx *a, const char *what, const char *detail)
{
	snprintf(a->reason, sizeof(a->reason), "%s%s%s", what, detail ? ": " : "",
		 detail ? detail : "");
	return -EACCES;
}

static bool kept_type(uint8_t type, const uint8_t *keep, size_t n_keep)
{
	return !keep || memchr(keep, type, n_keep) != NULL;
}

int auth_keep(const struct ike_msg *m, const uint8_t *keep, size_t n_keep,
	      struct auth_kept *out)
{
	uint8_t *buf = malloc(IKE_MSG_MAX);
	struct codec_enc e;
	struct wbuf w;

	if (!buf)
		return -ENOMEM;
	wbuf_init(&w, buf, IKE_MSG_MAX);
	codec_enc_begin_chain(&e, &w);
	for (size_t i = 0; i < m->n; i++) {
		const struct ike_payload *p = &m->pl[i];

		if (!p->inner || !kept_type(p->type, keep, n_keep))
			continue;
		codec_enc_open(&e, p->type, p->critical);
		wbuf_bytes(&w, p->body.p, p->body.len);
		codec_enc_close(&e);
	}
	if (codec_enc_end_chain(&e, &out->first) != 0) {
		free(buf);
		return -EMSGSIZE;
	}
	out->buf = realloc(buf, wbuf_len(&w) ? wbuf_len(&w) : 1) ?: buf;
	out->len = wbuf_len(&w);
	return 0;
}

struct ike_msg *auth_kept_decode(const struct auth_kept *k)
{
	struct ike_msg *m = calloc(1, sizeof(*m));
	struct codec_err err;

	if (m && codec_decode_chain(k->first, k->buf, k->len, m, &err) != 0) {
		free(m);
		return NULL;
	}
	return m;
}

void auth_kept_clear(struct auth_kept *k)
{
	if (k->buf)
		OPENSSL_cleanse(k->buf, k->len);
	free(k->buf);
	*k = (struct auth_kept){ 0 };
}
