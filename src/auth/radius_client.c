/* SPDX-License-Identifier: ISC */
/* RADIUS over UDP on the event loop: Identifiers, retransmission, fail-over (RFC 2865 2.5,
 * RFC 5080 2.2.1).  The packet codec and every reply check are in radius.c. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ikegw/config.h"
#include "ikegw/log.h"
#include "ikegw/loop.h"
#include "ikegw/radius_client.h"

#define RC_IDS 256
#define RC_NAS_ID_MAX 64
#define RC_CALLING_MAX 64

struct rc_server {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	uint8_t *secret;
	size_t secret_len;
};

/* One socket per address family; its Identifier space is its own. */
struct rc_sock {
	int fd;
	int family;
	struct radius_client_req *by_id[RC_IDS];
	uint8_t next_id;
};

struct radius_client_req {
	struct radius_client *c;
	struct rc_sock *sock;
	struct loop_timer timer;
	radius_client_cb *cb;
	void *arg;
	uint8_t id;
	size_t server;        /* index of the server we are talking to */
	size_t servers_tried;
	uint32_t sends;       /* to this server */
	uint8_t req_auth[RADIUS_AUTH_LEN];
	/* The attributes, copied, so the request can be re-encoded for another server. */
	uint8_t *user, *eap, *state;
	size_t user_len, eap_len, state_len;
	char nas_id[RC_NAS_ID_MAX], calling[RC_CALLING_MAX];
	uint16_t framed_mtu;
	uint8_t pkt[RADIUS_MAX_LEN];
	size_t pkt_len;
};

struct radius_client {
	struct loop *loop;
	struct log *log;
	struct rc_server *servers;
	size_t n_servers;
	size_t current;       /* the server that answered last: new requests start there */
	uint32_t timeout_ms;
	uint32_t retries;
	struct rc_sock socks[2]; /* AF_INET, AF_INET6 */
	size_t pending;
	struct radius_reply reply; /* 4 KiB: one, reused, not on the stack */
};

static struct rc_sock *sock_for(struct radius_client *c, int family)
{
	for (size_t i = 0; i < 2; i++)
		if (c->socks[i].family == family && c->socks[i].fd >= 0)
			return &c->socks[i];
	return NULL;
}

static int sock_open(struct rc_sock *s, int family)
{
	s->family = family;
	s->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	return s->fd >= 0 ? 0 : -errno;
}

static void on_readable(struct loop *loop, int fd, uint32_t events, void *arg);

static int copy_servers(struct radius_client *c, const struct config_radius *cfg)
{
	c->servers = calloc(cfg->n_servers, sizeof(*c->servers));
	if (!c->servers)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_servers; i++) {
		const struct config_radius_server *s = &cfg->servers[i];
		struct rc_server *d = &c->servers[i];

		d->addr_len = config_ip_sockaddr(&s->address, s->port, &d->addr);
		d->secret_len = s->secret ? strlen(s->secret) : 0;
		d->secret = malloc(d->secret_len + 1);
		if (!d->secret)
			return -ENOMEM;
		memcpy(d->secret, s->secret ? s->secret : "", d->secret_len + 1);
		c->n_servers = i + 1;
	}
	return 0;
}

/* A socket for each family some server uses, watched by the loop. */
static int open_sockets(struct radius_client *c)
{
	static const int fams[2] = { AF_INET, AF_INET6 };
	int rc;

	for (size_t f = 0; f < 2; f++) {
		bool used = false;

		for (size_t i = 0; i < c->n_servers; i++)
			used |= c->servers[i].addr.ss_family == fams[f];
		if (!used)
			continue;
		if ((rc = sock_open(&c->socks[f], fams[f])) != 0)
			return rc;
		if ((rc = loop_fd_add(c->loop, c->socks[f].fd, EPOLLIN, on_readable, c)) != 0)
			return rc;
	}
	return 0;
}

struct radius_client *radius_client_new(struct loop *loop, const struct config_radius *cfg,
					struct log *log)
{
	struct radius_client *c;

	if (!loop || !cfg || cfg->n_servers == 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->loop = loop;
	c->log = log;
	c->socks[0].fd = c->socks[1].fd = -1;
	c->timeout_ms = (cfg->timeout ? cfg->timeout : 3) * 1000u;
	c->retries = cfg->retries;
	if (copy_servers(c, cfg) != 0 || open_sockets(c) != 0) {
		radius_client_free(c);
		return NULL;
	}
	return c;
}

static void req_free(struct radius_client_req *r)
{
	struct radius_client *c = r->c;

	loop_timer_cancel(c->loop, &r->timer);
	if (r->sock->by_id[r->id] == r) {
		r->sock->by_id[r->id] = NULL;
		c->pending--;
	}
	free(r->user);
	free(r->eap);
	free(r->state);
	OPENSSL_cleanse(r, sizeof(*r));
	free(r);
}

void radius_client_free(struct radius_client *c)
{
	if (!c)
		return;
	for (size_t f = 0; f < 2; f++) {
		struct rc_sock *s = &c->socks[f];

		for (size_t i = 0; i < RC_IDS; i++)
			if (s->by_id[i])
				req_free(s->by_id[i]);
		if (s->fd >= 0) {
			loop_fd_del(c->loop, s->fd);
			close(s->fd);
		}
	}
	for (size_t i = 0; i < c->n_servers; i++) {
		OPENSSL_cleanse(c->servers[i].secret, c->servers[i].secret_len);
		free(c->servers[i].secret);
	}
	free(c->servers);
	radius_reply_clear(&c->reply);
	free(c);
}

size_t radius_client_pending(const struct radius_client *c)
{
	return c ? c->pending : 0;
}

/* Encode the request for its current server (fresh Request Authenticator). */
static int req_encode(struct radius_client_req *r)
{
	const struct rc_server *s = &r->c->servers[r->server];
	struct radius_access_request rq = {
		.id = r->id, .user_name = r->user, .user_name_len = r->user_len,
		.eap = r->eap, .eap_len = r->eap_len, .state = r->state,
		.state_len = r->state_len, .framed_mtu = r->framed_mtu,
		.nas_identifier = r->nas_id[0] ? r->nas_id : NULL,
		.calling_station_id = r->calling[0] ? r->calling : NULL,
	};
	struct wbuf w;
	int rc;

	wbuf_init(&w, r->pkt, sizeof(r->pkt));
	rc = radius_encode_access_request(&w, &rq, s->secret, s->secret_len, r->req_auth);
	r->pkt_len = rc == 0 ? wbuf_len(&w) : 0;
	return rc;
}

static int req_transmit(struct radius_client_req *r)
{
	const struct rc_server *s = &r->c->servers[r->server];
	ssize_t n = sendto(r->sock->fd, r->pkt, r->pkt_len, 0, (const struct sockaddr *)&s->addr,
			   s->addr_len);

	r->sends++;
	loop_timer_arm_in(r->c->loop, &r->timer, r->c->timeout_ms);
	/* A send error is treated like a lost datagram: the timer moves us on. */
	if (n < 0)
		log_debug(r->c->log, NULL, "radius: send to server %zu failed (%d)", r->server,
			  -errno);
	return 0;
}

/* The next server that shares the request's socket family, or false after the last. */
static bool next_server(struct radius_client_req *r)
{
	struct radius_client *c = r->c;

	while (++r->servers_tried < c->n_servers) {
		r->server = (r->server + 1) % c->n_servers;
		if (c->servers[r->server].addr.ss_family == r->sock->family)
			return true;
	}
	return false;
}

static void finish(struct radius_client_req *r, int status, const struct radius_reply *reply)
{
	radius_client_cb *cb = r->cb;
	void *arg = r->arg;

	req_free(r);
	cb(arg, status, reply);
}

static void on_timeout(struct loop *loop, void *arg)
{
	struct radius_client_req *r = arg;

	(void)loop;
	if (r->sends <= r->c->retries) {
		req_transmit(r); /* RFC 5080 2.2.1: the same packet again */
		return;
	}
	log_warn(r->c->log, NULL, "radius: server %zu did not answer", r->server);
	if (next_server(r) && req_encode(r) == 0) {
		r->sends = 0;
		req_transmit(r);
		return;
	}
	finish(r, -ETIMEDOUT, NULL);
}

static int alloc_id(struct rc_sock *s, uint8_t *id)
{
	for (size_t i = 0; i < RC_IDS; i++) {
		uint8_t cand = (uint8_t)(s->next_id + i);

		if (!s->by_id[cand]) {
			*id = cand;
			s->next_id = (uint8_t)(cand + 1);
			return 0;
		}
	}
	return -EBUSY;
}

static int dup_bytes(uint8_t **dst, size_t *dst_len, const uint8_t *src, size_t n)
{
	*dst = NULL;
	*dst_len = 0;
	if (!src || n == 0)
		return 0;
	*dst = malloc(n);
	if (!*dst)
		return -ENOMEM;
	memcpy(*dst, src, n);
	*dst_len = n;
	return 0;
}

static int req_fill(struct radius_client_req *r, const struct radius_access_request *rq)
{
	if (dup_bytes(&r->user, &r->user_len, rq->user_name, rq->user_name_len) != 0 ||
	    dup_bytes(&r->eap, &r->eap_len, rq->eap, rq->eap_len) != 0 ||
	    dup_bytes(&r->state, &r->state_len, rq->state, rq->state_len) != 0)
		return -ENOMEM;
	if (rq->nas_identifier && strlen(rq->nas_identifier) >= sizeof(r->nas_id))
		return -EINVAL;
	if (rq->calling_station_id && strlen(rq->calling_station_id) >= sizeof(r->calling))
		return -EINVAL;
	strcpy(r->nas_id, rq->nas_identifier ? rq->nas_identifier : "");
	strcpy(r->calling, rq->calling_station_id ? rq->calling_station_id : "");
	r->framed_mtu = rq->framed_mtu;
	return 0;
}

int radius_client_send(struct radius_client *c, const struct radius_access_request *rq,
		       radius_client_cb *cb, void *arg, struct radius_client_req **out)
{
	struct radius_client_req *r;
	struct rc_sock *s;
	int rc;

	if (!c || !rq || !cb || !out || !rq->user_name || rq->user_name_len == 0)
		return -EINVAL;
	s = sock_for(c, c->servers[c->current].addr.ss_family);
	if (!s)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	*r = (struct radius_client_req){ .c = c, .sock = s, .cb = cb, .arg = arg,
					 .server = c->current };
	loop_timer_init(&r->timer, on_timeout, r);
	if ((rc = alloc_id(s, &r->id)) == 0 && (rc = req_fill(r, rq)) == 0)
		rc = req_encode(r);
	if (rc != 0) {
		free(r->user);
		free(r->eap);
		free(r->state);
		free(r);
		return rc;
	}
	s->by_id[r->id] = r;
	c->pending++;
	*out = r;
	return req_transmit(r);
}

void radius_client_cancel(struct radius_client *c, struct radius_client_req *r)
{
	if (c && r)
		req_free(r);
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

/* One datagram: find its request, authenticate it against that request, deliver it. */
static void on_datagram(struct radius_client *c, struct rc_sock *s, const uint8_t *pkt, size_t n,
			const struct sockaddr_storage *from)
{
	struct radius_client_req *r;
	const struct rc_server *srv;
	int rc;

	/* The Identifier is read only to find the request; radius_decode_reply checks it. */
	struct rbuf rb;
	uint8_t code, id;

	rbuf_init(&rb, pkt, n);
	if (rbuf_u8(&rb, &code) != 0 || rbuf_u8(&rb, &id) != 0)
		return;
	r = s->by_id[id];
	if (!r)
		return;
	srv = &c->servers[r->server];
	if (!same_addr(from, &srv->addr)) {
		log_debug(c->log, NULL, "radius: reply from an unexpected address dropped");
		return;
	}
	rc = radius_decode_reply(pkt, n, r->id, r->req_auth, srv->secret, srv->secret_len,
				 &c->reply);
	if (rc != 0) {
		log_warn(c->log, NULL, "radius: reply from server %zu dropped (%d)", r->server, rc);
		radius_reply_clear(&c->reply);
		return;
	}
	c->current = r->server;
	finish(r, 0, &c->reply);
	radius_reply_clear(&c->reply);
}

static void on_readable(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct radius_client *c = arg;
	struct rc_sock *s = c->socks[0].fd == fd ? &c->socks[0] : &c->socks[1];
	uint8_t pkt[RADIUS_MAX_LEN];
	struct sockaddr_storage from;
	socklen_t flen;
	ssize_t n;

	(void)loop;
	(void)events;
	for (int i = 0; i < 64; i++) { /* bounded: other fds get their turn */
		flen = sizeof(from);
		n = recvfrom(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&from, &flen);
		if (n < 0)
			return;
		on_datagram(c, s, pkt, (size_t)n, &from);
	}
}
