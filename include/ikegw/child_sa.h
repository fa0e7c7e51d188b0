/* SPDX-License-Identifier: ISC */
#ifndef IKEGW_CHILD_SA_H
#define IKEGW_CHILD_SA_H

#include "ikegw/codec.h"

struct ike_sa;

/*
 * Negotiate the Child SA an IKE_AUTH request carries and install it.  On success the
 * SA, TSi and TSr payloads of the response are appended to resp and 0 is returned;
 * otherwise the notify type to answer with instead (NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE).
 */
int child_sa_negotiate(struct ike_sa *sa, const struct ike_msg *m, struct codec_enc *resp);

#endif
