/* SPDX-License-Identifier: ISC */
/*
 * CREATE_CHILD_SA for Child SAs both ways (RFC 7296 1.3, 2.8): a client's further Child
 * SA or Child SA rekey answered, our own Child SA rekeys started and their answers acted
 * on, and Child SA rekey collisions settled by the lowest-nonce rule (2.8.1).  IKE SA
 * rekeys (2.18) are ike_rekey.h; create_child_recv hands them over.
 */
#ifndef IKEGW_CREATE_CHILD_H
#define IKEGW_CREATE_CHILD_H

#include "ikegw/codec.h"

struct ike_sa;
struct ike_req;
struct child_line;

/* Responder: the request of an established IKE SA. */
void create_child_recv(struct ike_sa *sa, const struct ike_msg *m);
/* Initiator: rekey the current Child SA of line l.  -EBUSY while another request of ours
 * is outstanding, -ENOENT when l has nothing to rekey or is rekeying. */
int create_child_rekey_child(struct ike_sa *sa, struct child_line *l);
/* The answer to that. */
void create_child_child_done(struct ike_sa *sa, struct ike_req *req, const struct ike_msg *m);

#endif
