/* SPDX-License-Identifier: ISC */
/*
 * CREATE_CHILD_SA internals, shared by create_child.c (Child SAs, where these are
 * defined) and ike_rekey.c (IKE SA rekeys, RFC 7296 2.18) only; not a public header.
 */
#ifndef IKEGW_CREATE_CHILD_INT_H
#define IKEGW_CREATE_CHILD_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ikegw/codec.h"
#include "ikegw/suite.h"

struct ike_sa;
struct ike_req;

#define NONCE_LEN 32
#define INNER_MAX 2048

/* Our half of a key exchange: the public value and g^ir. */
struct dh {
	uint8_t pub[SUITE_MAX_KE_PUB];
	size_t pub_len;
	uint8_t shared[SUITE_MAX_KE_SHARED];
	size_t shared_len;
};

void cc_dh_wipe(struct dh *d);
/* Responder: a fresh key of group, then g^ir with the peer's value. */
int cc_dh_respond(const struct ike_sa *sa, uint16_t group, const struct ike_pl_ke *ke,
		  struct dh *out);

/* Responder: refuse with notify type (INVALID_KE_PAYLOAD names group), or send the
 * answer encoded in buf through w. */
int cc_respond_error(struct ike_sa *sa, uint16_t type, uint16_t group);
int cc_respond_chain(struct ike_sa *sa, struct codec_enc *e, const uint8_t *buf,
		     const struct wbuf *w);

/* Nonces compared as strongSwan does: octet by octet, then the shorter one first. */
int cc_nonce_order(const uint8_t *a, size_t al, const uint8_t *b, size_t bl);
/* RFC 7296 2.8.1: the lower nonce of an exchange (its first 32 octets) into out. */
uint8_t cc_lower_nonce(const uint8_t *a, size_t al, const uint8_t *b, size_t bl,
		       uint8_t out[NONCE_LEN]);

/* Initiator: nonce and, when group is not 0, our KE value into request r; then send it
 * (r is freed when it cannot be). */
int cc_enc_nonce_ke(const struct ike_sa *sa, struct ike_req *r, uint16_t group,
		    struct codec_enc *e);
int cc_send_request(struct ike_sa *sa, struct ike_req *r, struct codec_enc *e,
		    const uint8_t *buf, const struct wbuf *w);
/* The first error notify of a response, or 0. */
uint16_t cc_error_of(const struct ike_msg *m);

#endif
