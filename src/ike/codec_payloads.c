/* SPDX-License-Identifier: ISC */
/*
 * Per-payload body decoders (RFC 7296 3.3-3.16, RFC 7383 2.5) and the helpers that
 * interpret decoded payloads.  Every read goes through struct rbuf; a body that does
 * not add up is INVALID_SYNTAX with a reason for the log.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ikegw/codec.h"
#include "ikegw/ikev2.h"

#define SYNTAX IKEV2_N_INVALID_SYNTAX

int codec_fail(struct codec_err *err, uint16_t notify, const char *reason)
{
	if (err) {
		err->notify = notify;
		err->data = 0;
		err->reason = reason;
	}
	return -EBADMSG;
}

static void view_rest(struct rbuf *r, struct codec_view *v)
{
	rbuf_rest(r, &v->p, &v->len);
}

/* ---- SA (RFC 7296 3.3) ---- */

#define SA_LAST 0
#define SA_MORE_PROPOSAL 2
#define SA_MORE_TRANSFORM 3

/* One transform attribute; only a TV Key Length is understood (3.3.5). */
static int sa_decode_attr(struct rbuf *r, struct ike_transform *x, bool *usable,
			  struct codec_err *err)
{
	uint16_t af_type, val;

	if (rbuf_u16(r, &af_type) || rbuf_u16(r, &val))
		return codec_fail(err, SYNTAX, "truncated transform attribute");
	if (!(af_type & IKEV2_ATTR_FORMAT_TV)) {
		/* TLV: val is the length; nothing in IKEv2 uses TLV, so not understood */
		if (rbuf_skip(r, val))
			return codec_fail(err, SYNTAX, "transform attribute past its transform");
		*usable = false;
		return 0;
	}
	if ((af_type & 0x7fff) != IKEV2_ATTR_KEY_LENGTH || x->keylen != 0)
		*usable = false; /* 3.3.6: a transform with an unknown attribute is unacceptable */
	else
		x->keylen = val;
	return 0;
}

static int sa_decode_xf(struct rbuf *r, bool expect_last, struct ike_transform *x,
			bool *usable, struct codec_err *err)
{
	uint8_t more, rsv;
	uint16_t len;
	struct rbuf tr;

	if (rbuf_u8(r, &more) || rbuf_u8(r, &rsv) || rbuf_u16(r, &len))
		return codec_fail(err, SYNTAX, "truncated transform");
	if (more != (expect_last ? SA_LAST : SA_MORE_TRANSFORM))
		return codec_fail(err, SYNTAX, "transform last/more disagrees with count");
	if (len < 8 || rbuf_sub(r, len - 4, &tr))
		return codec_fail(err, SYNTAX, "transform length out of range");
	memset(x, 0, sizeof(*x));
	if (rbuf_u8(&tr, &x->type) || rbuf_u8(&tr, &rsv) || rbuf_u16(&tr, &x->id))
		return codec_fail(err, SYNTAX, "truncated transform");
	*usable = true;
	while (!rbuf_empty(&tr)) {
		if (sa_decode_attr(&tr, x, usable, err))
			return -EBADMSG;
	}
	return 0;
}

/* RFC 7296 3.3.1: SPI size 0 (IKE_SA_INIT) or 8 (rekey) for IKE, 4 for ESP/AH. */
static bool sa_spi_len_ok(uint8_t protocol, uint8_t spi_len)
{
	if (protocol == IKEV2_PROTO_IKE)
		return spi_len == 0 || spi_len == 8;
	if (protocol == IKEV2_PROTO_ESP || protocol == IKEV2_PROTO_AH)
		return spi_len == 4;
	return spi_len <= IKE_SPI_MAX_LEN;
}

static bool sa_xf_type_known(uint8_t type)
{
	return type >= IKEV2_TRANS_ENCR && type <= IKEV2_TRANS_ESN;
}

static int sa_decode_xfs(struct rbuf *pr, struct ike_proposal *p, uint8_t n_xf, bool *usable,
			 struct codec_err *err)
{
	struct ike_transform x;
	bool xf_ok;

	for (uint8_t i = 0; i < n_xf; i++) {
		if (sa_decode_xf(pr, i + 1 == n_xf, &x, &xf_ok, err))
			return -EBADMSG;
		if (!sa_xf_type_known(x.type))
			*usable = false; /* 3.3.6: unknown transform type, whole proposal out */
		if (xf_ok)
			p->xf[p->n_xf++] = x;
	}
	if (!rbuf_empty(pr))
		return codec_fail(err, SYNTAX, "proposal length disagrees with its transforms");
	return 0;
}

static int sa_decode_proposal(struct rbuf *r, uint8_t expect_num, struct ike_proposal *p,
			      bool *last, bool *usable, struct codec_err *err)
{
	uint8_t more, rsv, n_xf;
	uint16_t len;
	struct rbuf pr;

	if (rbuf_u8(r, &more) || rbuf_u8(r, &rsv) || rbuf_u16(r, &len))
		return codec_fail(err, SYNTAX, "truncated proposal");
	if (more != SA_LAST && more != SA_MORE_PROPOSAL)
		return codec_fail(err, SYNTAX, "bad proposal last/more value");
	if (len < 8 || rbuf_sub(r, len - 4, &pr))
		return codec_fail(err, SYNTAX, "proposal length out of range");
	*last = more == SA_LAST;
	memset(p, 0, offsetof(struct ike_proposal, xf));
	if (rbuf_u8(&pr, &p->num) || rbuf_u8(&pr, &p->protocol) || rbuf_u8(&pr, &p->spi_len) ||
	    rbuf_u8(&pr, &n_xf))
		return codec_fail(err, SYNTAX, "truncated proposal");
	/* 3.3.1: first is 1, each next one greater; an accepted proposal (alone in a
	 * response) keeps the number the initiator gave it */
	if (p->num != expect_num && !(expect_num == 1 && *last && p->num != 0))
		return codec_fail(err, SYNTAX, "proposal numbers not consecutive from 1");
	if (!sa_spi_len_ok(p->protocol, p->spi_len) || rbuf_copy(&pr, p->spi, p->spi_len))
		return codec_fail(err, SYNTAX, "bad proposal SPI size");
	if (n_xf == 0 || n_xf > IKE_PROPOSAL_MAX_XF)
		return codec_fail(err, SYNTAX, "transform count 0 or above IKE_PROPOSAL_MAX_XF");
	*usable = p->protocol == IKEV2_PROTO_IKE || p->protocol == IKEV2_PROTO_ESP ||
		  p->protocol == IKEV2_PROTO_AH;
	return sa_decode_xfs(&pr, p, n_xf, usable, err);
}

int codec_decode_sa(const uint8_t *body, size_t len, struct ike_sa_proposals *out,
		    struct codec_err *err)
{
	struct rbuf r;
	struct ike_proposal scratch;
	bool last = false, usable;
	unsigned int num = 0;

	rbuf_init(&r, body, len);
	if (out)
		out->n = 0;
	while (!last) {
		if (num == IKE_SA_MAX_PROPOSALS)
			return codec_fail(err, SYNTAX, "more than IKE_SA_MAX_PROPOSALS proposals");
		if (sa_decode_proposal(&r, (uint8_t)(num + 1), out ? &out->p[out->n] : &scratch,
				       &last, &usable, err))
			return -EBADMSG;
		num++;
		if (usable && out)
			out->n++;
	}
	if (!rbuf_empty(&r))
		return codec_fail(err, SYNTAX, "bytes after the last proposal");
	return 0;
}

/* ---- simple payloads ---- */

/* Type byte + 3 reserved + data: ID (3.5), AUTH (3.8); CERT/CERTREQ have no reserved. */
static int decode_typed(struct rbuf *r, size_t reserved, uint8_t *type, struct codec_view *data,
			const char *what, struct codec_err *err)
{
	if (rbuf_u8(r, type) || rbuf_skip(r, reserved))
		return codec_fail(err, SYNTAX, what);
	view_rest(r, data);
	return 0;
}

static int decode_ke(struct rbuf *r, struct ike_pl_ke *ke, struct codec_err *err)
{
	if (rbuf_u16(r, &ke->group) || rbuf_skip(r, 2) || rbuf_empty(r))
		return codec_fail(err, SYNTAX, "KE payload too short");
	view_rest(r, &ke->data);
	return 0;
}

static int decode_auth(struct rbuf *r, struct ike_pl_auth *a, struct codec_err *err)
{
	if (decode_typed(r, 3, &a->method, &a->data, "AUTH payload too short", err))
		return -EBADMSG;
	if (a->data.len == 0)
		return codec_fail(err, SYNTAX, "AUTH payload without data");
	return 0;
}

static int decode_nonce(struct rbuf *r, struct codec_err *err)
{
	size_t n = rbuf_left(r);

	if (n < CODEC_NONCE_MIN || n > CODEC_NONCE_MAX) /* RFC 7296 3.9 */
		return codec_fail(err, SYNTAX, "nonce not 16..256 bytes");
	return 0;
}

static int decode_notify(struct rbuf *r, struct ike_pl_notify *n, struct codec_err *err)
{
	if (rbuf_u8(r, &n->protocol) || rbuf_u8(r, &n->spi_len) || rbuf_u16(r, &n->type))
		return codec_fail(err, SYNTAX, "Notify payload too short");
	if (rbuf_bytes(r, n->spi_len, &n->spi.p))
		return codec_fail(err, SYNTAX, "Notify SPI past the payload");
	n->spi.len = n->spi_len;
	view_rest(r, &n->data);
	return 0;
}

/* RFC 7296 3.11: IKE SA: SPI size 0, no SPIs; ESP/AH: 4-byte SPIs. */
static int decode_delete(struct rbuf *r, struct ike_pl_delete *d, struct codec_err *err)
{
	if (rbuf_u8(r, &d->protocol) || rbuf_u8(r, &d->spi_len) || rbuf_u16(r, &d->count))
		return codec_fail(err, SYNTAX, "Delete payload too short");
	if (d->protocol == IKEV2_PROTO_IKE ? d->spi_len != 0
	    : (d->protocol != IKEV2_PROTO_ESP && d->protocol != IKEV2_PROTO_AH) || d->spi_len != 4)
		return codec_fail(err, SYNTAX, "Delete protocol/SPI size invalid");
	view_rest(r, &d->spis);
	if ((size_t)d->count * d->spi_len != d->spis.len)
		return codec_fail(err, SYNTAX, "Delete SPI count disagrees with its length");
	return 0;
}

int codec_ts_next(struct rbuf *it, struct ike_ts *out, struct codec_err *err)
{
	uint16_t sel_len;
	size_t alen;

	if (rbuf_empty(it))
		return 0;
	memset(out, 0, sizeof(*out));
	if (rbuf_u8(it, &out->type) || rbuf_u8(it, &out->ip_proto) || rbuf_u16(it, &sel_len))
		return codec_fail(err, SYNTAX, "truncated traffic selector");
	if (out->type == IKEV2_TS_IPV4_ADDR_RANGE && sel_len == 16)
		alen = 4;
	else if (out->type == IKEV2_TS_IPV6_ADDR_RANGE && sel_len == 40)
		alen = 16;
	else
		return codec_fail(err, SYNTAX, "TS type unknown or selector length not 16/40");
	if (rbuf_u16(it, &out->start_port) || rbuf_u16(it, &out->end_port) ||
	    rbuf_copy(it, out->start, alen) || rbuf_copy(it, out->end, alen))
		return codec_fail(err, SYNTAX, "traffic selector past the payload");
	return 1;
}

static int decode_ts(struct rbuf *r, struct ike_pl_ts *ts, struct codec_err *err)
{
	struct rbuf it;
	struct ike_ts one;
	unsigned int seen = 0;
	int rc;

	if (rbuf_u8(r, &ts->count) || rbuf_skip(r, 3))
		return codec_fail(err, SYNTAX, "TS payload too short");
	view_rest(r, &ts->selectors);
	rbuf_init(&it, ts->selectors.p, ts->selectors.len);
	while ((rc = codec_ts_next(&it, &one, err)) == 1)
		seen++;
	if (rc < 0)
		return rc;
	if (ts->count == 0 || seen != ts->count)
		return codec_fail(err, SYNTAX, "TS count disagrees with the selectors");
	return 0;
}

int codec_cp_next(struct rbuf *it, struct ike_cfg_attr *out, struct codec_err *err)
{
	uint16_t type, len;

	if (rbuf_empty(it))
		return 0;
	if (rbuf_u16(it, &type) || rbuf_u16(it, &len))
		return codec_fail(err, SYNTAX, "truncated configuration attribute");
	out->type = type & 0x7fff; /* RFC 7296 3.15.1: top bit reserved */
	out->value.len = len;
	if (rbuf_bytes(it, len, &out->value.p))
		return codec_fail(err, SYNTAX, "configuration attribute past the payload");
	return 1;
}

static int decode_cp(struct rbuf *r, struct ike_pl_cp *cp, struct codec_err *err)
{
	struct rbuf it;
	struct ike_cfg_attr a;
	int rc;

	if (rbuf_u8(r, &cp->cfg_type) || rbuf_skip(r, 3))
		return codec_fail(err, SYNTAX, "CP payload too short");
	view_rest(r, &cp->attrs);
	rbuf_init(&it, cp->attrs.p, cp->attrs.len);
	while ((rc = codec_cp_next(&it, &a, err)) == 1)
		;
	return rc;
}

/* RFC 7296 3.16 / RFC 3748 4: the EAP length must be the payload's. */
static int decode_eap(const uint8_t *body, size_t total, struct ike_pl_eap *eap,
		      struct codec_err *err)
{
	struct rbuf rr, *r = &rr;

	eap->msg.p = body;
	eap->msg.len = total;
	rbuf_init(r, body, total);
	if (rbuf_u8(r, &eap->code) || rbuf_u8(r, &eap->id) || rbuf_u16(r, &eap->length))
		return codec_fail(err, SYNTAX, "EAP payload too short");
	if (eap->length != total)
		return codec_fail(err, SYNTAX, "EAP length disagrees with the payload");
	eap->type = 0;
	if (eap->code == EAP_CODE_SUCCESS || eap->code == EAP_CODE_FAILURE) {
		if (total != 4)
			return codec_fail(err, SYNTAX, "EAP Success/Failure with data");
	} else if (eap->code != EAP_CODE_REQUEST && eap->code != EAP_CODE_RESPONSE) {
		return codec_fail(err, SYNTAX, "unknown EAP code");
	} else if (rbuf_u8(r, &eap->type)) {
		return codec_fail(err, SYNTAX, "EAP request/response without type");
	}
	view_rest(r, &eap->type_data);
	return 0;
}

bool codec_payload_known(uint8_t type)
{
	return (type >= IKEV2_PL_SA && type <= IKEV2_PL_EAP) || type == IKEV2_PL_SKF;
}

int codec_decode_body(uint8_t type, const uint8_t *body, size_t len, struct ike_payload *pl,
		      struct codec_err *err)
{
	struct rbuf r;

	rbuf_init(&r, body, len);
	memset(&pl->u, 0, sizeof(pl->u));
	switch (type) {
	case IKEV2_PL_KE:
		return decode_ke(&r, &pl->u.ke, err);
	case IKEV2_PL_IDI:
	case IKEV2_PL_IDR:
		return decode_typed(&r, 3, &pl->u.id.type, &pl->u.id.data, "ID payload too short",
				    err);
	case IKEV2_PL_CERT:
	case IKEV2_PL_CERTREQ:
		return decode_typed(&r, 0, &pl->u.cert.encoding, &pl->u.cert.data,
				    "CERT/CERTREQ payload too short", err);
	case IKEV2_PL_AUTH:
		return decode_auth(&r, &pl->u.auth, err);
	case IKEV2_PL_NONCE:
		return decode_nonce(&r, err);
	case IKEV2_PL_NOTIFY:
		return decode_notify(&r, &pl->u.notify, err);
	case IKEV2_PL_DELETE:
		return decode_delete(&r, &pl->u.del, err);
	case IKEV2_PL_TSI:
	case IKEV2_PL_TSR:
		return decode_ts(&r, &pl->u.ts, err);
	case IKEV2_PL_CP:
		return decode_cp(&r, &pl->u.cp, err);
	case IKEV2_PL_EAP:
		return decode_eap(body, len, &pl->u.eap, err);
	default: /* SA, SK, SKF: decoded by the chain walk; Vendor: opaque */
		return 0;
	}
}

/* ---- helpers on decoded payloads ---- */

static int id_addr(const struct ike_pl_id *id, uint8_t type, uint8_t *out, size_t n)
{
	struct rbuf r;

	if (id->type != type || id->data.len != n)
		return -EINVAL;
	rbuf_init(&r, id->data.p, id->data.len);
	return rbuf_copy(&r, out, n) ? -EINVAL : 0;
}

int codec_id_ipv4(const struct ike_pl_id *id, uint8_t out[4])
{
	return id_addr(id, IKEV2_ID_IPV4_ADDR, out, 4);
}

int codec_id_ipv6(const struct ike_pl_id *id, uint8_t out[16])
{
	return id_addr(id, IKEV2_ID_IPV6_ADDR, out, 16);
}

int codec_id_string(const struct ike_pl_id *id, char *out, size_t outlen)
{
	struct rbuf r;
	uint8_t c;
	size_t i = 0;

	if ((id->type != IKEV2_ID_FQDN && id->type != IKEV2_ID_RFC822_ADDR) ||
	    id->data.len == 0 || id->data.len >= outlen)
		return -EINVAL;
	rbuf_init(&r, id->data.p, id->data.len);
	while (rbuf_u8(&r, &c) == 0) {
		if (c < 0x21 || c > 0x7e) /* no NUL, controls, spaces or 8-bit in names */
			return -EINVAL;
		out[i++] = (char)c;
	}
	out[i] = '\0';
	return 0;
}

static void id_format_ip(const struct ike_pl_id *id, char *out, size_t outlen)
{
	uint8_t a[16];
	char txt[INET6_ADDRSTRLEN];
	bool v4 = id->type == IKEV2_ID_IPV4_ADDR;

	if ((v4 ? codec_id_ipv4(id, a) : codec_id_ipv6(id, a)) != 0 ||
	    !inet_ntop(v4 ? AF_INET : AF_INET6, a, txt, sizeof(txt)))
		snprintf(out, outlen, "%s:<bad %zu bytes>", v4 ? "ipv4" : "ipv6", id->data.len);
	else
		snprintf(out, outlen, "%s:%s", v4 ? "ipv4" : "ipv6", txt);
}

void codec_id_format(const struct ike_pl_id *id, char *out, size_t outlen)
{
	char name[256];

	if (outlen == 0)
		return;
	switch (id->type) {
	case IKEV2_ID_IPV4_ADDR:
	case IKEV2_ID_IPV6_ADDR:
		id_format_ip(id, out, outlen);
		return;
	case IKEV2_ID_FQDN:
	case IKEV2_ID_RFC822_ADDR:
		if (codec_id_string(id, name, sizeof(name)) == 0) {
			snprintf(out, outlen, "%s:%s",
				 id->type == IKEV2_ID_FQDN ? "fqdn" : "email", name);
			return;
		}
		break;
	case IKEV2_ID_DER_ASN1_DN: /* rendered by the cert module, which can parse DER */
		snprintf(out, outlen, "dn:<%zu bytes>", id->data.len);
		return;
	case IKEV2_ID_KEY_ID:
		snprintf(out, outlen, "keyid:<%zu bytes>", id->data.len);
		return;
	case IKEV2_ID_NULL:
		snprintf(out, outlen, "null");
		return;
	}
	snprintf(out, outlen, "id%u:<%zu bytes>", id->type, id->data.len);
}

int codec_auth_split_sig(const struct ike_pl_auth *auth, struct codec_view *alg_id,
			 struct codec_view *sig)
{
	struct rbuf r;
	uint8_t n;

	if (auth->method != IKEV2_AUTH_DIGITAL_SIGNATURE)
		return -EINVAL;
	rbuf_init(&r, auth->data.p, auth->data.len);
	if (rbuf_u8(&r, &n) || n == 0 || rbuf_bytes(&r, n, &alg_id->p) || rbuf_empty(&r))
		return -EINVAL;
	alg_id->len = n;
	view_rest(&r, sig);
	return 0;
}
