/* SPDX-License-Identifier: ISC */
/*
 * The RADIUS client on the event loop: one UDP socket per address family, Identifier
 * allocation, retransmission and fail-over, and a callback when the answer arrives.
 * The packets themselves are radius.c's (encode, decode, all reply checks).
 *
 * A request goes to the server that answered last.  It is sent again unchanged (same
 * Identifier and Request Authenticator, RFC 5080 2.2.1) every `timeout` until `retries`
 * retransmissions went unanswered, then re-encoded for the next server (its own secret,
 * a fresh Request Authenticator); after the last server the callback gets -ETIMEDOUT.
 * A reply that fails any check (wrong source, Identifier, Response Authenticator or
 * Message-Authenticator) is dropped and the request keeps waiting: a forged datagram
 * cannot end it.  There are 256 Identifiers per socket, so at most 256 requests per
 * address family are outstanding; more get -EBUSY.
 */
#ifndef IKEGW_RADIUS_CLIENT_H
#define IKEGW_RADIUS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "ikegw/radius.h"

struct loop;
struct log;
struct config_radius;
struct radius_client;
struct radius_client_req;

/*
 * The answer: status 0 with the authenticated reply (Accept, Reject or Challenge; it is
 * wiped after the callback returns), or status -ETIMEDOUT (no server answered) /
 * another negative errno (cannot send) with reply NULL.  The request is over either way:
 * its handle is no longer valid when the callback runs.
 */
typedef void radius_client_cb(void *arg, int status, const struct radius_reply *reply);

/*
 * A client for cfg's servers (copied, secrets included: a reload does not disturb
 * requests in flight).  NULL when there are no servers, on -ENOMEM, or when no socket
 * can be opened.  log may be NULL.
 */
struct radius_client *radius_client_new(struct loop *loop, const struct config_radius *cfg,
					struct log *log);
/* Closes the sockets and drops every pending request without calling back. */
void radius_client_free(struct radius_client *c);

/*
 * Send an Access-Request.  rq's id and authenticator are ignored (the client picks
 * them); the attributes are copied, so rq may go away after the call.  On 0, *out is
 * the handle to cancel with; cb runs exactly once later unless cancelled.
 * -EINVAL, -EBUSY (no free Identifier), -ENOMEM, or the encoder's error.
 */
int radius_client_send(struct radius_client *c, const struct radius_access_request *rq,
		       radius_client_cb *cb, void *arg, struct radius_client_req **out);
/* Forget a request (no callback); NULL is a no-op. */
void radius_client_cancel(struct radius_client *c, struct radius_client_req *r);

/* Outstanding requests (tests, status). */
size_t radius_client_pending(const struct radius_client *c);

#endif
