/* SPDX-License-Identifier: ISC */
#ifndef IKEGW_CHILD_SA_H
#define IKEGW_CHILD_SA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ikegw/codec.h"

struct ike_sa;

/*
 * Negotiate the Child SA an IKE_AUTH request carries and install it.  On success the
 * SA, TSi and TSr payloads of the response are appended to resp and 0 is returned;
 * otherwise the notify type to answer with instead (NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE).
 */
int child_sa_negotiate(struct ike_sa *sa, const struct ike_msg *m, struct codec_enc *resp);

/* The pieces, for CREATE_CHILD_SA (create_child.c). */
struct child_sa;
struct child_ts;
struct ike_proposal;

/* One creation's inputs: the exchange's nonces (initiator's first), g^ir with PFS. */
struct child_sa_exch {
	const uint8_t *ni, *nr;
	size_t ni_len, nr_len;
	const uint8_t *shared;
	size_t shared_len;
	bool we_init; /* we initiated the exchange: i2r keys are our outbound ones */
};

/* Our ESP proposals against the request's (PROPOSAL_SEL_* flags); 0 or a notify type. */
int child_sa_select(struct ike_sa *sa, const struct ike_msg *m, unsigned int flags,
		    struct ike_proposal *chosen);
/* RFC 7296 2.9: the request's TSi narrowed to the client's VIP and TSr to the profile's
 * allow list, into out; 0, or TS_UNACCEPTABLE when either comes out empty. */
int child_sa_narrow(struct ike_sa *sa, const struct ike_msg *m, struct child_ts *out);
/* Derive cs's keys from the IKE SA's SK_d, give it a new reqid and hand the pair to the
 * dataplane with the selectors ts (each Child SA its own). cs has its SPIs. */
int child_sa_install(struct ike_sa *sa, struct child_sa *cs, const struct ike_proposal *chosen,
		     const struct child_sa_exch *x, const struct child_ts *ts);
/* TSi and TSr payloads for ts, the initiator's first. */
void child_sa_encode_ts(const struct child_ts *ts, bool we_init, struct codec_enc *e);
/* A fresh ESP SPI (RFC 4303 2.1: not 0-255); 0 on RNG failure. */
uint32_t child_sa_new_spi(void);
uint32_t child_sa_spi_of(const struct ike_proposal *p);
void child_sa_set_spi(struct ike_proposal *p, uint32_t spi);

#endif
