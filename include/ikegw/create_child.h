/* SPDX-License-Identifier: ISC */
/*
 * CREATE_CHILD_SA both ways (RFC 7296 1.3, 2.8, 2.18): a client's further Child SA, Child
 * SA rekey or IKE SA rekey answered, our own rekeys started and their answers acted on,
 * and rekey collisions settled by the lowest-nonce rule (2.8.1, 2.8.2).
 */
#ifndef IKEGW_CREATE_CHILD_H
#define IKEGW_CREATE_CHILD_H

#include "ikegw/codec.h"

struct ike_sa;
struct ike_req;
struct child_line;

/* Responder: the request of an established IKE SA. */
void create_child_recv(struct ike_sa *sa, const struct ike_msg *m);
/* Initiator: rekey the current Child SA of line l / the IKE SA.  -EBUSY while another
 * request of ours is outstanding, -ENOENT when l has nothing to rekey or is rekeying. */
int create_child_rekey_child(struct ike_sa *sa, struct child_line *l);
int create_child_rekey_ike(struct ike_sa *sa);
/* The answers to those. */
void create_child_child_done(struct ike_sa *sa, struct ike_req *req, const struct ike_msg *m);
void create_child_ike_done(struct ike_sa *sa, struct ike_req *req, const struct ike_msg *m);
/* The client deletes IKE SA sa: a rekey of its that met ours takes over (RFC 7296 2.8.2).
 * Call before the SA goes. */
void create_child_ike_deleted(struct ike_sa *sa);

#endif
