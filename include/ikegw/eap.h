/* SPDX-License-Identifier: ISC */
/*
 * EAP packet codec (RFC 3748 4, 5.1, 5.3.1): pure decode into a struct that borrows
 * from the packet, and encoders that write through struct wbuf.
 *
 * An EAP packet travels inside a container that has its own length (the IKEv2 EAP
 * payload, RFC 7296 3.16; reassembled RADIUS EAP-Message attributes, RFC 3579 3.1), so
 * the decoder insists that the EAP Length equals the container's length: a disagreement
 * is an error, not padding.  The codes are EAP_CODE_* from ikegw/ikev2.h.
 */
#ifndef IKEGW_EAP_H
#define IKEGW_EAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ikegw/buf.h"
#include "ikegw/ikev2.h"

/* RFC 3748 5 and the IANA EAP method type registry. */
enum eap_type {
	EAP_TYPE_IDENTITY = 1,
	EAP_TYPE_NOTIFICATION = 2,
	EAP_TYPE_NAK = 3, /* Legacy Nak, Response only (RFC 3748 5.3.1) */
	EAP_TYPE_MD5 = 4,
	EAP_TYPE_TLS = 13,
	EAP_TYPE_MSCHAPV2 = 26,
	EAP_TYPE_EXPANDED = 254,
};

#define EAP_HDR_LEN 4      /* Code, Identifier, Length */
#define EAP_MAX_LEN 65535  /* the Length field is 16 bits */

struct eap_pkt {
	uint8_t code;            /* EAP_CODE_* */
	uint8_t id;
	uint16_t length;         /* equals the container's length */
	uint8_t type;            /* Request/Response; 0 for Success/Failure */
	const uint8_t *data;     /* Type-Data, borrowed from the packet */
	size_t data_len;
};

/*
 * Decode one EAP packet that fills p[0..n) exactly.  0, or -EBADMSG (short, unknown
 * code, Length != n, Success/Failure with data, Request/Response without a Type).
 */
int eap_decode(const uint8_t *p, size_t n, struct eap_pkt *out);

/*
 * The Identity of an Identity Response as a NUL-terminated string (RFC 3748 5.1: not
 * NUL-terminated on the wire, so an embedded NUL is refused).  0, -EINVAL (not an
 * Identity Response), -EBADMSG (NUL inside), -ENOSPC (longer than cap - 1).
 */
int eap_identity_get(const struct eap_pkt *p, char *out, size_t cap);

/* Does a Nak Response list this type among the peer's desired types (RFC 3748 5.3.1)? */
bool eap_nak_has(const struct eap_pkt *p, uint8_t type);

/*
 * Encoders: 0, -EINVAL (bad code or arguments, packet longer than EAP_MAX_LEN) or
 * -ENOSPC (the wbuf overflowed; it stays in overflow).
 */
int eap_encode(struct wbuf *w, uint8_t code, uint8_t id, uint8_t type,
	       const void *data, size_t n);
int eap_encode_success(struct wbuf *w, uint8_t id);
int eap_encode_failure(struct wbuf *w, uint8_t id);
/* An Identity Request (empty prompt) and a Nak listing the desired types. */
int eap_encode_identity_request(struct wbuf *w, uint8_t id);
int eap_encode_nak(struct wbuf *w, uint8_t id, const uint8_t *types, size_t n);

/*
 * Build a packet piecewise: begin writes the header and Type with a placeholder length
 * and returns its offset in w (or (size_t)-1 on overflow); the caller writes Type-Data;
 * end fills the Length.  end returns as eap_encode.
 */
size_t eap_encode_begin(struct wbuf *w, uint8_t code, uint8_t id, uint8_t type);
int eap_encode_end(struct wbuf *w, size_t start);

#endif
