/* SPDX-License-Identifier: ISC */
/*
 * IKE SA rekeys (RFC 7296 2.18) both ways: the client's answered, ours started and its
 * answer acted on, and simultaneous rekeys settled by the lowest nonce (2.8.2).
 */
#ifndef IKEGW_IKE_REKEY_H
#define IKEGW_IKE_REKEY_H

#include "ikegw/codec.h"

struct ike_sa;
struct ike_req;

/* Responder: a CREATE_CHILD_SA request of sa whose SA payload proposes an IKE SA. */
void ike_rekey_recv(struct ike_sa *sa, const struct ike_msg *m);
/* Initiator: rekey the IKE SA.  -EBUSY while another request of ours is outstanding. */
int ike_rekey_start(struct ike_sa *sa);
/* The answer to that. */
void ike_rekey_done(struct ike_sa *sa, struct ike_req *req, const struct ike_msg *m);
/* The client deletes IKE SA sa: a rekey of its that met ours takes over (RFC 7296 2.8.2).
 * Call before the SA goes. */
void ike_rekey_deleted(struct ike_sa *sa);

#endif
