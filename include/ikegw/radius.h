/* SPDX-License-Identifier: ISC */
/*
 * RADIUS codec for EAP relay (RFC 2865, RFC 3579, RFC 2548): the Access-Request we
 * send and the Access-Accept / -Reject / -Challenge we get back.  Pure: no sockets.
 *
 * Replies are authenticated twice before anything in them is believed: the Response
 * Authenticator (RFC 2865 3) and the Message-Authenticator (RFC 3579 3.2), which is
 * required whenever the reply carries an EAP-Message.  MS-MPPE-Recv-Key/Send-Key
 * (RFC 2548 2.4.2-2.4.3) are decrypted into the MSK the way strongSwan's eap-radius
 * and Windows NPS agree on: MSK = Recv-Key | Send-Key (RFC 3748/5216 put MSK[0..31]
 * in Recv-Key and MSK[32..63] in Send-Key).
 */
#ifndef IKEGW_RADIUS_H
#define IKEGW_RADIUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ikegw/buf.h"

#define RADIUS_HDR_LEN 20
#define RADIUS_AUTH_LEN 16
#define RADIUS_MAX_LEN 4096      /* RFC 2865 3 */
#define RADIUS_ATTR_MAX 253      /* value octets in one attribute */
#define RADIUS_MPPE_KEY_MAX 64   /* longest MS-MPPE key we keep */
#define RADIUS_MSK_MAX (2 * RADIUS_MPPE_KEY_MAX)
#define RADIUS_CLASS_MAX 4

enum radius_code {
	RADIUS_ACCESS_REQUEST = 1,
	RADIUS_ACCESS_ACCEPT = 2,
	RADIUS_ACCESS_REJECT = 3,
	RADIUS_ACCESS_CHALLENGE = 11,
};

enum radius_attr_type {
	RADIUS_ATTR_USER_NAME = 1,
	RADIUS_ATTR_SERVICE_TYPE = 6,
	RADIUS_ATTR_FRAMED_IP_ADDRESS = 8,
	RADIUS_ATTR_FRAMED_MTU = 12,
	RADIUS_ATTR_REPLY_MESSAGE = 18,
	RADIUS_ATTR_STATE = 24,
	RADIUS_ATTR_CLASS = 25,
	RADIUS_ATTR_VENDOR_SPECIFIC = 26,
	RADIUS_ATTR_SESSION_TIMEOUT = 27,
	RADIUS_ATTR_CALLING_STATION_ID = 31,
	RADIUS_ATTR_NAS_IDENTIFIER = 32,
	RADIUS_ATTR_NAS_PORT_TYPE = 61,
	RADIUS_ATTR_EAP_MESSAGE = 79,
	RADIUS_ATTR_MESSAGE_AUTHENTICATOR = 80,
};

#define RADIUS_SERVICE_TYPE_FRAMED 2
#define RADIUS_NAS_PORT_TYPE_VIRTUAL 5
#define RADIUS_VENDOR_MICROSOFT 311
#define RADIUS_MS_MPPE_SEND_KEY 16
#define RADIUS_MS_MPPE_RECV_KEY 17

struct radius_view {
	const uint8_t *p; /* borrowed from the packet */
	size_t len;
};

/* What goes into an Access-Request; NULL / 0 leaves an optional attribute out. */
struct radius_access_request {
	uint8_t id;
	const uint8_t *user_name;       /* required: the EAP identity (RFC 3579 2.1) */
	size_t user_name_len;
	const uint8_t *eap;             /* the EAP Response to relay, split by 253 */
	size_t eap_len;
	const uint8_t *state;           /* echo of the last Access-Challenge's State */
	size_t state_len;
	const char *nas_identifier;
	const char *calling_station_id; /* the client's address */
	uint16_t framed_mtu;            /* how big EAP-Messages the server may send */
	const uint8_t *authenticator;   /* 16 octets; NULL draws a random one */
};

/*
 * Encode an Access-Request with Service-Type Framed, NAS-Port-Type Virtual and a
 * Message-Authenticator (RFC 3579 3.3: required with EAP-Message).  req_auth gets the
 * Request Authenticator, which the reply is checked against.  0, -EINVAL (missing
 * user name or secret, an attribute over 253 octets, the packet over 4096), -ENOSPC,
 * -EIO.
 */
int radius_encode_access_request(struct wbuf *w, const struct radius_access_request *rq,
				 const uint8_t *secret, size_t secret_len,
				 uint8_t req_auth[RADIUS_AUTH_LEN]);

struct radius_reply {
	uint8_t code;                       /* RADIUS_ACCESS_ACCEPT / _REJECT / _CHALLENGE */
	uint8_t id;
	uint8_t eap[RADIUS_MAX_LEN];        /* EAP-Message attributes joined (RFC 3579 3.1) */
	size_t eap_len;                     /* 0: no EAP-Message */
	struct radius_view state;           /* echo it in the next Access-Request */
	struct radius_view classes[RADIUS_CLASS_MAX];
	size_t n_class;
	struct radius_view reply_message;   /* the first Reply-Message */
	bool has_framed_ip;
	uint8_t framed_ip[4];
	bool has_session_timeout;
	uint32_t session_timeout;
	uint8_t msk[RADIUS_MSK_MAX];        /* Recv-Key | Send-Key when both came */
	size_t msk_len;
};

/*
 * Decode and authenticate a reply to the Access-Request (id, req_auth).  The views
 * borrow from pkt.  0; -EBADMSG (malformed: short, Length past the datagram or under
 * 20, an attribute length under 2 or past the end, a bad EAP packet, a bad MPPE key);
 * -EPROTO (not a reply to an Access-Request, or another Identifier); -EACCES (wrong
 * Response Authenticator, wrong Message-Authenticator, or none with an EAP-Message).
 * On any error the reply holds no key material.
 */
int radius_decode_reply(const uint8_t *pkt, size_t n, uint8_t id,
			const uint8_t req_auth[RADIUS_AUTH_LEN], const uint8_t *secret,
			size_t secret_len, struct radius_reply *out);
/* Wipe the MSK. */
void radius_reply_clear(struct radius_reply *r);

/*
 * RFC 2548 2.4.2 key encryption: the String field (after the Salt) for key, with the
 * Request Authenticator of the Access-Request.  The salt's high bit must be set.
 * out gets the encrypted String, a multiple of 16 octets.  0, -EINVAL, -ENOSPC, -EIO.
 */
int radius_mppe_encrypt(const uint8_t *secret, size_t secret_len,
			const uint8_t req_auth[RADIUS_AUTH_LEN], const uint8_t salt[2],
			const uint8_t *key, size_t key_len, uint8_t *out, size_t cap,
			size_t *out_len);
/* The inverse; -EBADMSG when the String is malformed or its Key-Length too long. */
int radius_mppe_decrypt(const uint8_t *secret, size_t secret_len,
			const uint8_t req_auth[RADIUS_AUTH_LEN], const uint8_t salt[2],
			const uint8_t *string, size_t n, uint8_t *key, size_t cap,
			size_t *key_len);

#endif
