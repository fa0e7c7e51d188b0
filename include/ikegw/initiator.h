/* SPDX-License-Identifier: ISC */
/*
 * The gateway's own requests on an IKE SA (RFC 7296 2.1, 2.3): liveness checks, Deletes,
 * rekeys.  One request at a time (a window of one), retransmitted with exponential
 * backoff until answered, given up after a bounded number of tries (the peer is then
 * dead and the IKE SA goes with everything it owns).  exchange.c matches responses by
 * message ID and hands the decrypted ones here.
 */
#ifndef IKEGW_INITIATOR_H
#define IKEGW_INITIATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ikegw/codec.h"

struct ike_sa;
struct child_sa;
struct ke_key;
struct loop;

/* RFC 7296 2.1: sends at 0, 1, 3 and 7 s; given up at 15 s without an answer (a
 * remote-access gateway frees a dead client's lease quickly). */
#define IKE_RETX_BASE_MS 1000u
#define IKE_RETX_TRIES 4u

enum ike_req_kind {
	IKE_REQ_DPD,          /* empty INFORMATIONAL (RFC 7296 1.4) */
	IKE_REQ_DELETE_IKE,
	IKE_REQ_DELETE_CHILD,
	IKE_REQ_REKEY_CHILD,  /* create_child.c */
	IKE_REQ_REKEY_IKE,
};

struct ike_req {
	enum ike_req_kind kind;
	uint8_t exchange;
	uint32_t msg_id;
	uint8_t *msg;          /* as sent, for retransmits */
	size_t len;
	unsigned int sent;     /* transmissions so far */
	struct ke_key *ke;     /* rekeys with a key exchange (PFS, IKE SA) */
	uint8_t ni[32];        /* our nonce of a rekey */
	uint32_t spi;          /* new inbound ESP SPI (child rekey) / SPI deleted */
	uint32_t old_spi;      /* child rekey: inbound SPI of the SA being replaced */
	struct ike_sa *new_sa; /* IKE rekey: the SA being created, owned until adopted */
};

struct ike_req *initiator_req_new(enum ike_req_kind kind);
/* A request that was never handed to initiator_send() (NULL is fine). */
void initiator_req_free_unsent(struct ike_req *r);
/* Encrypt inner as our next request, send it, arm the retransmission; takes req.
 * 0 once it is outstanding (even if its first send failed: it is retransmitted);
 * -EBUSY while another request is outstanding, or an error (req freed, not sent). */
int initiator_send(struct ike_sa *sa, struct ike_req *req, uint8_t exchange,
		   const uint8_t *inner, size_t inner_len, uint8_t first);
bool initiator_busy(const struct ike_sa *sa);
/* Forget the outstanding request (and a half-made rekeyed SA); the SA is going. */
void initiator_req_free(struct ike_sa *sa);
/* A decrypted response to our outstanding request. */
void initiator_response(struct ike_sa *sa, const struct ike_msg *m);
/* The retransmission timer's callback (sa_timers.c arms nothing else of ours). */
void initiator_retransmit(struct loop *loop, void *arg);

int initiator_dpd(struct ike_sa *sa);
/* Delete the IKE SA (idle, DPD, superseded); it is freed when answered or given up. */
int initiator_delete_ike(struct ike_sa *sa, const char *why);
/* Delete a Child SA (our inbound SPI); dropped from the dataplane when answered. */
int initiator_delete_child(struct ike_sa *sa, const struct child_sa *c);

#endif
