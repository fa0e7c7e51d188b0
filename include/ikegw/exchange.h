/* SPDX-License-Identifier: ISC */
/*
 * The exchange layer between the wire and the per-exchange handlers: message-ID window,
 * retransmission cache, SK unwrap on the way in and SK wrap on the way out.  Handlers
 * (ike_sa_init.c, ike_auth.c, create_child.c, informational.c) see decoded messages and build inner
 * payload chains; they never touch sockets or keys directly.
 */
#ifndef IKEGW_EXCHANGE_H
#define IKEGW_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ikegw/codec.h"

struct gw;
struct ike_sa;

#define IKE_MSG_MAX 16384 /* largest IKE message we build or accept */

/* Where a datagram came from and went to. */
struct ike_path {
	struct sockaddr_storage local, peer;
	bool natt;
};

/* Encrypt inner (its first payload type: first) as our response to the current
 * request, send it, cache it for retransmits and open the window for the next one.
 * 0 once it is cached (a failed send is a lost packet the client's retransmission
 * recovers); an error when nothing was answered. */
int exchange_respond(struct ike_sa *sa, uint8_t exchange, const uint8_t *inner,
		     size_t inner_len, uint8_t first);
/* Our cached response to the previous request, sent again (whole or every fragment). */
int exchange_resend(struct ike_sa *sa);
/* An encrypted response holding a single notify (errors: AUTHENTICATION_FAILED, ...). */
int exchange_respond_notify(struct ike_sa *sa, uint8_t exchange, uint16_t type,
			    const uint8_t *data, size_t len);
/* Send bytes on an SA's current path. */
int exchange_send(struct ike_sa *sa, const uint8_t *msg, size_t len);
int exchange_send_path(struct gw *gw, const struct ike_path *path, const uint8_t *msg,
		       size_t len);

/* Fire-and-forget Delete of the IKE SA (shutdown, terminate: the SA is freed next). */
int exchange_send_delete(struct ike_sa *sa);
/* An encrypted message of this SA (header SPIs and keys by our role) into w. */
int exchange_build(struct ike_sa *sa, uint8_t exchange, uint32_t msg_id, uint8_t flags,
		   const uint8_t *inner, size_t inner_len, uint8_t first, struct wbuf *w);

/* Handlers. */
void ike_sa_init_recv(struct gw *gw, const struct ike_path *path, const uint8_t *pkt,
		      size_t len);
void ike_auth_recv(struct ike_sa *sa, const struct ike_msg *m);
void informational_recv(struct ike_sa *sa, const struct ike_msg *m);

/* Mark for deletion; the exchange layer frees it when the current event is done. */
void ike_sa_delete(struct ike_sa *sa, const char *why);

#endif
