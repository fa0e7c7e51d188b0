/* SPDX-License-Identifier: ISC */
/*
 * The IKEv2 wire codec (RFC 7296 section 3, RFC 7383 section 2.5): pure decode and
 * encode, no SA state, no allocation.
 *
 * Decoding fills a plain struct ike_msg whose views point into the packet, so the
 * packet must outlive the struct.  Every payload body is checked when it is decoded
 * (lengths, counts, ranges); which payloads an exchange may carry is a separate check,
 * rules_check() in ikegw/rules.h, run on the decoded struct.
 *
 * Encrypted messages: codec_decode_msg() stops at the SK (46) or SKF (53) payload,
 * which must be the last one, and records it in msg->enc.  After decrypting (and for
 * SKF, reassembling) the caller decodes the plaintext inner chain with
 * codec_decode_chain(msg->enc.inner_next, plain, plain_len, msg, err); the inner
 * payloads are appended to the same msg (marked .inner = true).
 *
 * Encoding, the SK framing contract (for src/ike/sk.c):
 *   1. Encode the inner payloads into their own buffer: codec_enc_begin_chain(),
 *      codec_enc_<payload>()..., codec_enc_end_chain() gives the first inner type.
 *   2. Encode the message: codec_enc_begin(&e, out, &hdr), any unencrypted payloads
 *      (none in practice), then codec_enc_sk(&e, first_inner, iv_len, ct_len, icv_len,
 *      &sk) where ct_len is the padded plaintext length (inner chain + padding + the
 *      Pad Length byte, RFC 7296 3.14).  codec_enc_sk() closes the message: the SK
 *      payload length and the IKE header length are final when it returns, so the
 *      header can be used as AEAD associated data / integrity input right away.
 *      sk.hdr_off is the SK generic header offset, sk.iv_off/ct_off/icv_off the reserved
 *      (zeroed) regions inside out; sk.c fills them (wbuf_at(out, off, n)).
 *   3. Fragments (RFC 7383 2.5): the same with codec_enc_skf(); first_inner is the
 *      inner chain's first type on fragment 1 and 0 on the others.
 * Encoders write through struct wbuf and never fail half way: errors are sticky in the
 * wbuf and codec_enc_finish() / codec_enc_sk() report -EMSGSIZE once at the end.
 */
#ifndef IKEGW_CODEC_H
#define IKEGW_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ikegw/buf.h"
#include "ikegw/proposal.h"

#define CODEC_MAX_PAYLOADS 64 /* outer + inner payloads walked in one message */
#define CODEC_NONCE_MIN 16    /* RFC 7296 3.9 */
#define CODEC_NONCE_MAX 256

/* Why a message was refused: the notify to send (IKEV2_N_*), its 1-byte data where the
 * RFC defines one (UNSUPPORTED_CRITICAL_PAYLOAD: the payload type), and a log reason. */
struct codec_err {
	uint16_t notify;
	uint8_t data;
	const char *reason;
};

/* Borrowed bytes (from the packet, or from the caller's plaintext buffer). */
struct codec_view {
	const uint8_t *p;
	size_t len;
};

struct ike_hdr {
	uint64_t spi_i;
	uint64_t spi_r;
	uint8_t next;     /* first payload type */
	uint8_t major;
	uint8_t minor;
	uint8_t exchange; /* IKEV2_EXCH_* */
	uint8_t flags;    /* IKEV2_FLAG_* */
	uint32_t msg_id;
	uint32_t length;
};

struct ike_pl_ke {
	uint16_t group;
	struct codec_view data;
};

struct ike_pl_id { /* IDi, IDr */
	uint8_t type; /* IKEV2_ID_* */
	struct codec_view data;
};

struct ike_pl_cert { /* CERT, CERTREQ */
	uint8_t encoding; /* IKEV2_CERT_* */
	struct codec_view data;
};

struct ike_pl_auth {
	uint8_t method; /* IKEV2_AUTH_* */
	struct codec_view data;
};

struct ike_pl_notify {
	uint8_t protocol;
	uint8_t spi_len;
	uint16_t type; /* IKEV2_N_* */
	struct codec_view spi;
	struct codec_view data;
};

struct ike_pl_delete {
	uint8_t protocol;
	uint8_t spi_len; /* 0 for IKE, 4 for ESP/AH */
	uint16_t count;
	struct codec_view spis; /* count * spi_len bytes */
};

struct ike_pl_ts { /* TSi, TSr: iterate with codec_ts_next() */
	uint8_t count;
	struct codec_view selectors;
};

struct ike_pl_cp { /* iterate with codec_cp_next() */
	uint8_t cfg_type; /* IKEV2_CFG_REQUEST ... */
	struct codec_view attrs;
};

struct ike_pl_eap {
	uint8_t code;   /* EAP_CODE_* */
	uint8_t id;
	uint16_t length;
	uint8_t type;   /* 0 for Success/Failure */
	struct codec_view msg;       /* the whole EAP packet, as RADIUS relays it */
	struct codec_view type_data; /* after the Type byte */
};

/* SK or SKF (msg->enc): the encrypted payload the chain walk stopped at. */
struct ike_pl_enc {
	uint8_t type;        /* IKEV2_PL_SK, IKEV2_PL_SKF, or 0 when there is none */
	uint8_t inner_next;  /* first inner payload type (0 on SKF fragments > 1) */
	size_t hdr_off;      /* offset of its generic payload header in the packet */
	uint16_t frag_num;   /* SKF only, 1-based */
	uint16_t frag_total; /* SKF only */
	struct codec_view body; /* IV | ciphertext | ICV */
};

struct ike_payload {
	uint8_t type;
	bool critical;
	bool inner;              /* decoded by codec_decode_chain() */
	struct codec_view body;  /* after the generic header */
	union {
		struct ike_pl_ke ke;
		struct ike_pl_id id;
		struct ike_pl_cert cert;
		struct ike_pl_auth auth;
		struct ike_pl_notify notify;
		struct ike_pl_delete del;
		struct ike_pl_ts ts;
		struct ike_pl_cp cp;
		struct ike_pl_eap eap;
		/* SA: msg->sa (first SA payload); Nonce, Vendor: body; SK/SKF: msg->enc */
	} u;
};

/* A decoded message, about 10.5 KiB (6.2 of them the SA): one per packet in hand. */
struct ike_msg {
	struct ike_hdr hdr;
	struct codec_view raw; /* the whole datagram */
	uint8_t n;             /* payloads stored, in wire order (unknown ones are skipped) */
	uint8_t walked;        /* payloads walked, for the CODEC_MAX_PAYLOADS bound */
	struct ike_payload pl[CODEC_MAX_PAYLOADS];
	struct ike_pl_enc enc;
	bool has_sa;
	struct ike_sa_proposals sa; /* usable proposals of the first SA payload */
};

/* 0 on success; -EBADMSG with *err filled when the message must be refused. */
int codec_decode_msg(const uint8_t *pkt, size_t len, struct ike_msg *msg,
		     struct codec_err *err);
/* Header only (28 bytes; the length must equal len): for SPI lookup before the rest. */
int codec_decode_hdr(const uint8_t *pkt, size_t len, struct ike_hdr *hdr,
		     struct codec_err *err);
/* The decrypted inner chain, appended to msg; SK/SKF inside it is INVALID_SYNTAX. */
int codec_decode_chain(uint8_t first_type, const uint8_t *p, size_t len, struct ike_msg *msg,
		       struct codec_err *err);

/* The first payload of type at index >= from, or NULL. */
const struct ike_payload *codec_msg_find(const struct ike_msg *msg, uint8_t type, size_t from);
size_t codec_msg_count(const struct ike_msg *msg, uint8_t type);
/* The first Notify of that notify type, or NULL. */
const struct ike_payload *codec_msg_notify(const struct ike_msg *msg, uint16_t ntype);

/* Fill *err and return -EBADMSG: the one way every decoder fails. */
int codec_fail(struct codec_err *err, uint16_t notify, const char *reason);

/* One known payload body (not SA, SK, SKF: see below and msg->enc) into pl->u. */
int codec_decode_body(uint8_t type, const uint8_t *body, size_t len, struct ike_payload *pl,
		      struct codec_err *err);
/* True for the payload types this codec knows (33..48, 53). */
bool codec_payload_known(uint8_t type);

/* SA payload body into *out: unusable proposals (unknown transform type) and unusable
 * transforms (unknown or TLV attribute) are left out, RFC 7296 3.3.6.  out may be NULL
 * to validate only. */
int codec_decode_sa(const uint8_t *body, size_t len, struct ike_sa_proposals *out,
		    struct codec_err *err);

/* Traffic selectors (RFC 7296 3.13.1). */
struct ike_ts {
	uint8_t type;     /* IKEV2_TS_IPV4_ADDR_RANGE or IKEV2_TS_IPV6_ADDR_RANGE */
	uint8_t ip_proto; /* 0 = any */
	uint16_t start_port;
	uint16_t end_port;
	uint8_t start[16]; /* 4 or 16 bytes used */
	uint8_t end[16];
};
/* Iterate: rbuf_init(&it, ts->selectors.p, ts->selectors.len); then while rc == 1.
 * Returns 1 with *out filled, 0 at the end, -EBADMSG on a malformed selector. */
int codec_ts_next(struct rbuf *it, struct ike_ts *out, struct codec_err *err);

/* Configuration attributes (RFC 7296 3.15.1). */
struct ike_cfg_attr {
	uint16_t type; /* 15 bits; the R bit is always 0 when we send */
	struct codec_view value;
};
/* Same iteration contract as codec_ts_next(). */
int codec_cp_next(struct rbuf *it, struct ike_cfg_attr *out, struct codec_err *err);

/* Identification helpers (RFC 7296 3.5). -EINVAL when the type or the length is wrong. */
int codec_id_ipv4(const struct ike_pl_id *id, uint8_t out[4]);
int codec_id_ipv6(const struct ike_pl_id *id, uint8_t out[16]);
/* FQDN / RFC822: printable ASCII without NUL, copied NUL-terminated into out. */
int codec_id_string(const struct ike_pl_id *id, char *out, size_t outlen);
/* Any ID as text for logs: "fqdn:vpn.example.com", "ipv4:192.0.2.1", "dn:<n bytes>". */
void codec_id_format(const struct ike_pl_id *id, char *out, size_t outlen);

/* RFC 7427 3: AUTH method 14 data = 1-byte length | AlgorithmIdentifier | signature. */
int codec_auth_split_sig(const struct ike_pl_auth *auth, struct codec_view *alg_id,
			 struct codec_view *sig);

/* ---- encoding ---- */

struct codec_enc {
	struct wbuf *w;
	size_t hdr_off;  /* IKE header offset, or (size_t)-1 for a bare chain */
	size_t next_off; /* the "next payload" byte to patch when a payload is appended */
	size_t pl_off;   /* start of the payload being written */
	uint8_t first;   /* first payload type of a bare chain */
	bool closed;     /* after SK/SKF nothing more may follow */
};

/* Writes the header (hdr->next and hdr->length are ignored and patched later). */
void codec_enc_begin(struct codec_enc *e, struct wbuf *w, const struct ike_hdr *hdr);
/* A payload chain without header, e.g. the plaintext inside SK. */
void codec_enc_begin_chain(struct codec_enc *e, struct wbuf *w);
/* Patches the header length: 0, or -EMSGSIZE when anything did not fit. */
int codec_enc_finish(struct codec_enc *e);
/* Ends a bare chain: 0 and *first (0 for an empty chain), or -EMSGSIZE. */
int codec_enc_end_chain(struct codec_enc *e, uint8_t *first);

/* Low level: open a payload (patches the previous next byte), write its body through
 * e->w, then close it (patches its length).  The encoders below use these. */
void codec_enc_open(struct codec_enc *e, uint8_t type, bool critical);
void codec_enc_close(struct codec_enc *e);

void codec_enc_sa(struct codec_enc *e, const struct ike_proposal *p, size_t n);
void codec_enc_ke(struct codec_enc *e, uint16_t group, const uint8_t *data, size_t len);
/* pl_type: IKEV2_PL_IDI or IKEV2_PL_IDR */
void codec_enc_id(struct codec_enc *e, uint8_t pl_type, uint8_t id_type, const uint8_t *data,
		  size_t len);
/* pl_type: IKEV2_PL_CERT or IKEV2_PL_CERTREQ */
void codec_enc_cert(struct codec_enc *e, uint8_t pl_type, uint8_t encoding,
		    const uint8_t *data, size_t len);
void codec_enc_auth(struct codec_enc *e, uint8_t method, const uint8_t *data, size_t len);
void codec_enc_nonce(struct codec_enc *e, const uint8_t *data, size_t len);
void codec_enc_notify(struct codec_enc *e, uint8_t protocol, const uint8_t *spi,
		      uint8_t spi_len, uint16_t type, const uint8_t *data, size_t len);
void codec_enc_delete(struct codec_enc *e, uint8_t protocol, uint8_t spi_len, uint16_t count,
		      const uint8_t *spis);
void codec_enc_vendor(struct codec_enc *e, const uint8_t *data, size_t len);
/* pl_type: IKEV2_PL_TSI or IKEV2_PL_TSR */
void codec_enc_ts(struct codec_enc *e, uint8_t pl_type, const struct ike_ts *ts, size_t n);
void codec_enc_cp(struct codec_enc *e, uint8_t cfg_type, const struct ike_cfg_attr *a,
		  size_t n);
/* type is omitted for Success/Failure codes. */
void codec_enc_eap(struct codec_enc *e, uint8_t code, uint8_t id, uint8_t type,
		   const uint8_t *data, size_t len);

struct codec_sk_layout {
	size_t hdr_off; /* SK/SKF generic payload header */
	size_t iv_off;
	size_t ct_off;
	size_t icv_off;
	size_t end;     /* == message length */
};
/* Append the SK payload framing and close the message (see the contract above). */
int codec_enc_sk(struct codec_enc *e, uint8_t first_inner, size_t iv_len, size_t ct_len,
		 size_t icv_len, struct codec_sk_layout *out);
int codec_enc_skf(struct codec_enc *e, uint8_t first_inner, uint16_t frag_num,
		  uint16_t frag_total, size_t iv_len, size_t ct_len, size_t icv_len,
		  struct codec_sk_layout *out);

#endif
