/* SPDX-License-Identifier: ISC */
/*
 * A RADIUS server on 127.0.0.1 for tests (no cmocka, no globals): it receives
 * Access-Requests and answers with replies signed the way a real server signs them
 * (Response Authenticator, RFC 2865 3; Message-Authenticator, RFC 3579 3.2; MS-MPPE
 * keys, RFC 2548 2.4), or deliberately wrong ones.
 */
#ifndef IKEGW_TEST_FAKE_RADIUS_H
#define IKEGW_TEST_FAKE_RADIUS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fake_radius {
	int fd;
	uint16_t port;                /* host order */
	char secret[64];
	uint8_t req[4096];            /* the last request received */
	size_t req_len;
	struct sockaddr_in from;
};

struct fake_radius_reply {
	uint8_t code;                 /* 2 Accept, 3 Reject, 11 Challenge */
	const uint8_t *eap;           /* EAP-Message (split by 253) */
	size_t eap_len;
	const char *state;            /* State */
	const char *class_attr;       /* Class */
	bool framed_ip;
	uint8_t ip[4];                /* Framed-IP-Address */
	bool mppe;                    /* MS-MPPE-Recv-Key = 32 x 0x11, Send-Key = 32 x 0x22 */
	bool no_ma;                   /* misbehave: leave the Message-Authenticator out */
	bool bad_resp_auth;           /* misbehave: flip a bit of the Response Authenticator */
	const char *secret;           /* misbehave: sign with another secret (NULL: ours) */
};

/* 0, or -errno; the server's port in f->port. */
int fake_radius_open(struct fake_radius *f, const char *secret);
void fake_radius_close(struct fake_radius *f);
/* Wait up to ms for a datagram into f->req: 0, -ETIMEDOUT. */
int fake_radius_recv(struct fake_radius *f, int ms);
/* The value of the first attribute of type in the last request; NULL if none. */
const uint8_t *fake_radius_attr(const struct fake_radius *f, uint8_t type, size_t *len);
/* The EAP-Message attributes of the last request joined; its length, 0 if none. */
size_t fake_radius_eap(const struct fake_radius *f, uint8_t *out, size_t cap);
/* Answer the last request; 0 or -errno. */
int fake_radius_reply(struct fake_radius *f, const struct fake_radius_reply *r);

#endif
