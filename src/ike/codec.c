/* SPDX-License-Identifier: ISC */
/*
 * IKEv2 message header, payload chain walk and the encoder (RFC 7296 3.1, 3.2, 3.14;
 * RFC 7383 2.5).  Payload bodies are decoded in codec_payloads.c.
 */
#include <errno.h>
#include <string.h>

#include "ikegw/codec.h"
#include "ikegw/ikev2.h"

#define SYNTAX IKEV2_N_INVALID_SYNTAX
#define NO_OFF ((size_t)-1)

/* ---- decoding ---- */

int codec_decode_hdr(const uint8_t *pkt, size_t len, struct ike_hdr *h, struct codec_err *err)
{
	struct rbuf r;
	uint8_t ver;

	rbuf_init(&r, pkt, len);
	if (len < IKEV2_HDR_LEN)
		return codec_fail(err, SYNTAX, "datagram shorter than the IKE header");
	if (rbuf_u64(&r, &h->spi_i) || rbuf_u64(&r, &h->spi_r) || rbuf_u8(&r, &h->next) ||
	    rbuf_u8(&r, &ver) || rbuf_u8(&r, &h->exchange) || rbuf_u8(&r, &h->flags) ||
	    rbuf_u32(&r, &h->msg_id) || rbuf_u32(&r, &h->length))
		return codec_fail(err, SYNTAX, "datagram shorter than the IKE header");
	h->major = ver >> 4;
	h->minor = ver & 0x0f; /* RFC 7296 3.1: minor version is ignored */
	if (h->major != IKEV2_MAJOR_VERSION)
		return codec_fail(err, IKEV2_N_INVALID_MAJOR_VERSION, "IKE major version is not 2");
	if (h->length != len)
		return codec_fail(err, SYNTAX, "IKE header length differs from the datagram");
	return 0;
}

static int decode_skf_body(struct rbuf *body, struct ike_pl_enc *enc, struct codec_err *err)
{
	/* RFC 7383 2.5: numbers start at 1 and never exceed the total */
	if (rbuf_u16(body, &enc->frag_num) || rbuf_u16(body, &enc->frag_total))
		return codec_fail(err, SYNTAX, "SKF payload too short");
	if (enc->frag_num == 0 || enc->frag_num > enc->frag_total)
		return codec_fail(err, SYNTAX, "SKF fragment number out of range");
	return 0;
}

/* SK/SKF ends the chain: record it and make sure nothing follows (RFC 7296 3.14). */
static int chain_record_enc(struct ike_msg *msg, struct rbuf *r, struct ike_payload *pl,
			    uint8_t inner_next, size_t hdr_off, struct codec_err *err)
{
	struct ike_pl_enc *enc = &msg->enc;
	struct rbuf body;

	memset(enc, 0, sizeof(*enc));
	rbuf_init(&body, pl->body.p, pl->body.len);
	if (pl->type == IKEV2_PL_SKF && decode_skf_body(&body, enc, err))
		return -EBADMSG;
	rbuf_rest(&body, &enc->body.p, &enc->body.len);
	enc->type = pl->type;
	enc->inner_next = inner_next;
	enc->hdr_off = hdr_off;
	if (!rbuf_empty(r))
		return codec_fail(err, SYNTAX, "payload after the encrypted payload");
	return 0;
}

static int chain_decode_one(struct ike_msg *msg, struct ike_payload *pl, struct codec_err *err)
{
	if (pl->type != IKEV2_PL_SA)
		return codec_decode_body(pl->type, pl->body.p, pl->body.len, pl, err);
	/* Only the first SA is kept; rules_check() refuses a second one. */
	if (msg->has_sa)
		return codec_decode_sa(pl->body.p, pl->body.len, NULL, err);
	msg->has_sa = true;
	return codec_decode_sa(pl->body.p, pl->body.len, &msg->sa, err);
}

/* Reads one generic payload header (RFC 7296 3.2) and borrows its body. */
static int chain_read_generic(struct rbuf *r, uint8_t *next, uint8_t *flags,
			      struct codec_view *body, struct codec_err *err)
{
	uint16_t len;

	if (rbuf_u8(r, next) || rbuf_u8(r, flags) || rbuf_u16(r, &len))
		return codec_fail(err, SYNTAX, "truncated generic payload header");
	if (len < IKEV2_PAYLOAD_HDR_LEN)
		return codec_fail(err, SYNTAX, "payload length below 4");
	body->len = len - IKEV2_PAYLOAD_HDR_LEN;
	if (rbuf_bytes(r, body->len, &body->p))
		return codec_fail(err, SYNTAX, "payload length past the end of the message");
	return 0;
}

static int chain_unknown(uint8_t type, uint8_t flags, struct codec_err *err)
{
	if (!(flags & IKEV2_PAYLOAD_CRITICAL))
		return 0; /* RFC 7296 2.5: skip unknown non-critical payloads */
	codec_fail(err, IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD, "unknown critical payload");
	if (err)
		err->data = type; /* RFC 7296 3.10.1: the notify data is the payload type */
	return -EBADMSG;
}

static int chain_walk(struct ike_msg *msg, struct rbuf *r, uint8_t next, bool inner,
		      struct codec_err *err)
{
	while (next != IKEV2_PL_NONE) {
		struct ike_payload *pl = &msg->pl[msg->n];
		size_t hdr_off = r->len - rbuf_left(r);
		uint8_t type = next, flags;
		struct codec_view body;

		if (msg->walked >= CODEC_MAX_PAYLOADS)
			return codec_fail(err, SYNTAX, "too many payloads");
		msg->walked++;
		if (chain_read_generic(r, &next, &flags, &body, err))
			return -EBADMSG;
		if (!codec_payload_known(type)) {
			if (chain_unknown(type, flags, err))
				return -EBADMSG;
			continue;
		}
		pl->type = type;
		pl->critical = flags & IKEV2_PAYLOAD_CRITICAL;
		pl->inner = inner;
		pl->body = body;
		msg->n++;
		if ((type == IKEV2_PL_SK || type == IKEV2_PL_SKF) && inner)
			return codec_fail(err, SYNTAX, "encrypted payload inside the encrypted one");
		if (type == IKEV2_PL_SK || type == IKEV2_PL_SKF)
			return chain_record_enc(msg, r, pl, next, hdr_off, err);
		if (chain_decode_one(msg, pl, err))
			return -EBADMSG;
	}
	if (!rbuf_empty(r))
		return codec_fail(err, SYNTAX, "bytes after the last payload");
	return 0;
}

int codec_decode_msg(const uint8_t *pkt, size_t len, struct ike_msg *msg,
		     struct codec_err *err)
{
	struct rbuf r;

	msg->n = 0;
	msg->walked = 0;
	msg->has_sa = false;
	msg->sa.n = 0;
	memset(&msg->enc, 0, sizeof(msg->enc));
	msg->raw.p = pkt;
	msg->raw.len = len;
	if (codec_decode_hdr(pkt, len, &msg->hdr, err))
		return -EBADMSG;
	rbuf_init(&r, pkt, len);
	rbuf_skip(&r, IKEV2_HDR_LEN);
	return chain_walk(msg, &r, msg->hdr.next, false, err);
}

int codec_decode_chain(uint8_t first_type, const uint8_t *p, size_t len, struct ike_msg *msg,
		       struct codec_err *err)
{
	struct rbuf r;

	rbuf_init(&r, p, len);
	return chain_walk(msg, &r, first_type, true, err);
}

const struct ike_payload *codec_msg_find(const struct ike_msg *msg, uint8_t type, size_t from)
{
	for (size_t i = from; i < msg->n; i++) {
		if (msg->pl[i].type == type)
			return &msg->pl[i];
	}
	return NULL;
}

size_t codec_msg_count(const struct ike_msg *msg, uint8_t type)
{
	size_t c = 0;

	for (size_t i = 0; i < msg->n; i++)
		c += msg->pl[i].type == type;
	return c;
}

const struct ike_payload *codec_msg_notify(const struct ike_msg *msg, uint16_t ntype)
{
	for (size_t i = 0; i < msg->n; i++) {
		if (msg->pl[i].type == IKEV2_PL_NOTIFY && msg->pl[i].u.notify.type == ntype)
			return &msg->pl[i];
	}
	return NULL;
}

/* ---- encoding ---- */

static void enc_fail(struct codec_enc *e)
{
	e->w->overflow = true; /* sticky, reported once by finish/end_chain/sk */
}

void codec_enc_begin(struct codec_enc *e, struct wbuf *w, const struct ike_hdr *h)
{
	memset(e, 0, sizeof(*e));
	e->w = w;
	e->hdr_off = wbuf_len(w);
	e->next_off = e->hdr_off + 16;
	e->pl_off = NO_OFF;
	wbuf_u64(w, h->spi_i);
	wbuf_u64(w, h->spi_r);
	wbuf_u8(w, IKEV2_PL_NONE);
	wbuf_u8(w, IKEV2_MAJOR_VERSION << 4); /* RFC 7296 3.1: minor version 0 */
	wbuf_u8(w, h->exchange);
	wbuf_u8(w, h->flags);
	wbuf_u32(w, h->msg_id);
	wbuf_u32(w, 0); /* length, patched by finish */
}

void codec_enc_begin_chain(struct codec_enc *e, struct wbuf *w)
{
	memset(e, 0, sizeof(*e));
	e->w = w;
	e->hdr_off = NO_OFF;
	e->next_off = NO_OFF;
	e->pl_off = NO_OFF;
}

static void enc_patch_length(struct codec_enc *e)
{
	size_t total = wbuf_len(e->w) - e->hdr_off;

	if (total > UINT32_MAX)
		enc_fail(e);
	wbuf_put_u32_at(e->w, e->hdr_off + 24, (uint32_t)total);
}

int codec_enc_finish(struct codec_enc *e)
{
	if (e->hdr_off == NO_OFF)
		enc_fail(e);
	else if (!e->closed)
		enc_patch_length(e);
	return wbuf_ok(e->w) ? 0 : -EMSGSIZE;
}

int codec_enc_end_chain(struct codec_enc *e, uint8_t *first)
{
	if (e->hdr_off != NO_OFF)
		enc_fail(e);
	*first = e->first;
	return wbuf_ok(e->w) ? 0 : -EMSGSIZE;
}

void codec_enc_open(struct codec_enc *e, uint8_t type, bool critical)
{
	if (e->closed)
		enc_fail(e); /* nothing may follow SK/SKF */
	if (e->next_off == NO_OFF)
		e->first = type;
	else
		wbuf_put_u8_at(e->w, e->next_off, type);
	e->pl_off = wbuf_len(e->w);
	e->next_off = e->pl_off;
	wbuf_u8(e->w, IKEV2_PL_NONE);
	wbuf_u8(e->w, critical ? IKEV2_PAYLOAD_CRITICAL : 0);
	wbuf_u16(e->w, 0);
}

void codec_enc_close(struct codec_enc *e)
{
	size_t len = wbuf_len(e->w) - e->pl_off;

	if (e->pl_off == NO_OFF || len > UINT16_MAX) {
		enc_fail(e);
		return;
	}
	wbuf_put_u16_at(e->w, e->pl_off + 2, (uint16_t)len);
}

/* ---- payload encoders (RFC 7296 3.3-3.16) ---- */

static void enc_xf(struct wbuf *w, const struct ike_transform *x, bool last)
{
	wbuf_u8(w, last ? 0 : 3);
	wbuf_u8(w, 0);
	wbuf_u16(w, x->keylen ? 12 : 8);
	wbuf_u8(w, x->type);
	wbuf_u8(w, 0);
	wbuf_u16(w, x->id);
	if (x->keylen) { /* RFC 7296 3.3.5: Key Length, TV format */
		wbuf_u16(w, IKEV2_ATTR_FORMAT_TV | IKEV2_ATTR_KEY_LENGTH);
		wbuf_u16(w, x->keylen);
	}
}

static void enc_proposal(struct codec_enc *e, const struct ike_proposal *p, uint8_t num,
			 bool last)
{
	struct wbuf *w = e->w;
	size_t off = wbuf_len(w);
	size_t spi_len = p->spi_len <= IKE_SPI_MAX_LEN ? p->spi_len : 0;

	if (spi_len != p->spi_len || p->n_xf > IKE_PROPOSAL_MAX_XF)
		enc_fail(e);
	wbuf_u8(w, last ? 0 : 2);
	wbuf_u8(w, 0);
	wbuf_u16(w, 0);
	wbuf_u8(w, p->num ? p->num : num); /* a chosen proposal keeps the peer's number */
	wbuf_u8(w, p->protocol);
	wbuf_u8(w, (uint8_t)spi_len);
	wbuf_u8(w, p->n_xf);
	wbuf_bytes(w, p->spi, spi_len);
	for (size_t i = 0; i < p->n_xf && i < IKE_PROPOSAL_MAX_XF; i++)
		enc_xf(w, &p->xf[i], i + 1 == p->n_xf);
	if (wbuf_len(w) - off > UINT16_MAX)
		enc_fail(e);
	wbuf_put_u16_at(w, off + 2, (uint16_t)(wbuf_len(w) - off));
}

void codec_enc_sa(struct codec_enc *e, const struct ike_proposal *p, size_t n)
{
	codec_enc_open(e, IKEV2_PL_SA, false);
	if (n == 0 || n > IKE_SA_MAX_PROPOSALS)
		enc_fail(e);
	for (size_t i = 0; i < n && i < IKE_SA_MAX_PROPOSALS; i++)
		enc_proposal(e, &p[i], (uint8_t)(i + 1), i + 1 == n);
	codec_enc_close(e);
}

void codec_enc_ke(struct codec_enc *e, uint16_t group, const uint8_t *data, size_t len)
{
	codec_enc_open(e, IKEV2_PL_KE, false);
	wbuf_u16(e->w, group);
	wbuf_u16(e->w, 0);
	wbuf_bytes(e->w, data, len);
	codec_enc_close(e);
}

/* type byte, reserved, data: ID (3 reserved), AUTH (3), CERT/CERTREQ (none) */
static void enc_typed(struct codec_enc *e, uint8_t pl_type, uint8_t type, size_t reserved,
		      const uint8_t *data, size_t len)
{
	codec_enc_open(e, pl_type, false);
	wbuf_u8(e->w, type);
	wbuf_zero(e->w, reserved);
	wbuf_bytes(e->w, data, len);
	codec_enc_close(e);
}

void codec_enc_id(struct codec_enc *e, uint8_t pl_type, uint8_t id_type, const uint8_t *data,
		  size_t len)
{
	enc_typed(e, pl_type, id_type, 3, data, len);
}

void codec_enc_cert(struct codec_enc *e, uint8_t pl_type, uint8_t encoding,
		    const uint8_t *data, size_t len)
{
	enc_typed(e, pl_type, encoding, 0, data, len);
}

void codec_enc_auth(struct codec_enc *e, uint8_t method, const uint8_t *data, size_t len)
{
	enc_typed(e, IKEV2_PL_AUTH, method, 3, data, len);
}

static void enc_opaque(struct codec_enc *e, uint8_t pl_type, const uint8_t *data, size_t len)
{
	codec_enc_open(e, pl_type, false);
	wbuf_bytes(e->w, data, len);
	codec_enc_close(e);
}

void codec_enc_nonce(struct codec_enc *e, const uint8_t *data, size_t len)
{
	enc_opaque(e, IKEV2_PL_NONCE, data, len);
}

void codec_enc_vendor(struct codec_enc *e, const uint8_t *data, size_t len)
{
	enc_opaque(e, IKEV2_PL_VENDOR, data, len);
}

void codec_enc_notify(struct codec_enc *e, uint8_t protocol, const uint8_t *spi,
		      uint8_t spi_len, uint16_t type, const uint8_t *data, size_t len)
{
	codec_enc_open(e, IKEV2_PL_NOTIFY, false);
	wbuf_u8(e->w, protocol);
	wbuf_u8(e->w, spi_len);
	wbuf_u16(e->w, type);
	wbuf_bytes(e->w, spi, spi_len);
	wbuf_bytes(e->w, data, len);
	codec_enc_close(e);
}

void codec_enc_delete(struct codec_enc *e, uint8_t protocol, uint8_t spi_len, uint16_t count,
		      const uint8_t *spis)
{
	codec_enc_open(e, IKEV2_PL_DELETE, false);
	wbuf_u8(e->w, protocol);
	wbuf_u8(e->w, spi_len);
	wbuf_u16(e->w, count);
	wbuf_bytes(e->w, spis, (size_t)spi_len * count);
	codec_enc_close(e);
}

static void enc_selector(struct codec_enc *e, const struct ike_ts *ts)
{
	size_t alen = ts->type == IKEV2_TS_IPV6_ADDR_RANGE ? 16 : 4;

	if (ts->type != IKEV2_TS_IPV4_ADDR_RANGE && ts->type != IKEV2_TS_IPV6_ADDR_RANGE)
		enc_fail(e);
	wbuf_u8(e->w, ts->type);
	wbuf_u8(e->w, ts->ip_proto);
	wbuf_u16(e->w, (uint16_t)(8 + 2 * alen));
	wbuf_u16(e->w, ts->start_port);
	wbuf_u16(e->w, ts->end_port);
	wbuf_bytes(e->w, ts->start, alen);
	wbuf_bytes(e->w, ts->end, alen);
}

void codec_enc_ts(struct codec_enc *e, uint8_t pl_type, const struct ike_ts *ts, size_t n)
{
	codec_enc_open(e, pl_type, false);
	if (n == 0 || n > UINT8_MAX)
		enc_fail(e);
	wbuf_u8(e->w, (uint8_t)n);
	wbuf_zero(e->w, 3);
	for (size_t i = 0; i < n && i <= UINT8_MAX; i++)
		enc_selector(e, &ts[i]);
	codec_enc_close(e);
}

void codec_enc_cp(struct codec_enc *e, uint8_t cfg_type, const struct ike_cfg_attr *a,
		  size_t n)
{
	codec_enc_open(e, IKEV2_PL_CP, false);
	wbuf_u8(e->w, cfg_type);
	wbuf_zero(e->w, 3);
	for (size_t i = 0; i < n; i++) {
		if (a[i].value.len > UINT16_MAX)
			enc_fail(e);
		wbuf_u16(e->w, a[i].type & 0x7fff);
		wbuf_u16(e->w, (uint16_t)a[i].value.len);
		wbuf_bytes(e->w, a[i].value.p, a[i].value.len);
	}
	codec_enc_close(e);
}

void codec_enc_eap(struct codec_enc *e, uint8_t code, uint8_t id, uint8_t type,
		   const uint8_t *data, size_t len)
{
	bool typed = code == EAP_CODE_REQUEST || code == EAP_CODE_RESPONSE;
	size_t total = 4 + (typed ? 1 + len : 0);

	codec_enc_open(e, IKEV2_PL_EAP, false);
	if (total > UINT16_MAX)
		enc_fail(e);
	wbuf_u8(e->w, code);
	wbuf_u8(e->w, id);
	wbuf_u16(e->w, (uint16_t)total);
	if (typed) {
		wbuf_u8(e->w, type);
		wbuf_bytes(e->w, data, len);
	}
	codec_enc_close(e);
}

/* SK (RFC 7296 3.14) or SKF (RFC 7383 2.5): framing only; sk.c fills the regions. */
static int enc_encrypted(struct codec_enc *e, uint8_t type, uint8_t first_inner,
			 const uint16_t frag[2], const size_t sizes[3],
			 struct codec_sk_layout *out)
{
	struct wbuf *w = e->w;

	memset(out, 0, sizeof(*out));
	if (e->hdr_off == NO_OFF)
		enc_fail(e); /* SK belongs in a message, not in a bare chain */
	codec_enc_open(e, type, false);
	out->hdr_off = e->pl_off;
	wbuf_put_u8_at(w, e->pl_off, first_inner);
	if (frag) {
		wbuf_u16(w, frag[0]);
		wbuf_u16(w, frag[1]);
	}
	out->iv_off = wbuf_len(w);
	wbuf_zero(w, sizes[0]);
	out->ct_off = wbuf_len(w);
	wbuf_zero(w, sizes[1]);
	out->icv_off = wbuf_len(w);
	wbuf_zero(w, sizes[2]);
	codec_enc_close(e);
	if (e->hdr_off != NO_OFF)
		enc_patch_length(e);
	e->closed = true;
	out->end = wbuf_len(w);
	return wbuf_ok(w) ? 0 : -EMSGSIZE;
}

int codec_enc_sk(struct codec_enc *e, uint8_t first_inner, size_t iv_len, size_t ct_len,
		 size_t icv_len, struct codec_sk_layout *out)
{
	const size_t sizes[3] = { iv_len, ct_len, icv_len };

	return enc_encrypted(e, IKEV2_PL_SK, first_inner, NULL, sizes, out);
}

int codec_enc_skf(struct codec_enc *e, uint8_t first_inner, uint16_t frag_num,
		  uint16_t frag_total, size_t iv_len, size_t ct_len, size_t icv_len,
		  struct codec_sk_layout *out)
{
	const uint16_t frag[2] = { frag_num, frag_total };
	const size_t sizes[3] = { iv_len, ct_len, icv_len };

	return enc_encrypted(e, IKEV2_PL_SKF, first_inner, frag, sizes, out);
}
