/* SPDX-License-Identifier: ISC */
#define _GNU_SOURCE /* recvmmsg, struct in6_pktinfo */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ikegw/buf.h"
#include "ikegw/ikev2.h"
#include "ikegw/loop.h"
#include "ikegw/udp.h"

#define UDP_CMSG_SPACE (CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int)))
_Static_assert(UDP_SRC_CMSG_SPACE >= CMSG_SPACE(sizeof(struct in6_pktinfo)) +
				     CMSG_SPACE(sizeof(int)) &&
		       UDP_SRC_CMSG_SPACE >= CMSG_SPACE(sizeof(struct in_pktinfo)) +
				     CMSG_SPACE(sizeof(int)),
	       "UDP_SRC_CMSG_SPACE holds either pktinfo and a TOS");
/* Batches drained per readiness event before other fds get their turn. */
#define UDP_DRAIN_ROUNDS 4

struct udp {
	struct udp_sock *socks;
	size_t nsocks;
	udp_ike_fn *on_ike;
	void *ike_arg;
	udp_esp_fn *on_esp;
	void *esp_arg;
	struct udp_counters stats;
	struct loop *loop;
	struct udp_dgram *batch;  /* UDP_BATCH_MAX datagrams of UDP_DGRAM_MAX, for udp_attach */
	uint8_t *bufs;
};

static const uint8_t udp_non_esp_marker[IKEV2_NON_ESP_MARKER_LEN];

/* ---- addresses ---- */

static int udp_addr_parse6(const char *s, uint16_t port, struct sockaddr_in6 *sin6)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *pct = strchr(s, '%');
	size_t hlen = pct ? (size_t)(pct - s) : strlen(s);

	if (hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	*sin6 = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = htons(port) };
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
		return -EINVAL;
	if (pct) {
		sin6->sin6_scope_id = if_nametoindex(pct + 1);
		if (sin6->sin6_scope_id == 0)
			return -EINVAL;
	}
	return 0;
}

int udp_addr_parse(const char *s, uint16_t port, struct sockaddr_storage *out)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)out;

	memset(out, 0, sizeof(*out));
	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return 0;
	}
	return udp_addr_parse6(s, port, (struct sockaddr_in6 *)out);
}

bool udp_addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return IN6_ARE_ADDR_EQUAL(&a6->sin6_addr, &b6->sin6_addr) &&
		       a6->sin6_scope_id == b6->sin6_scope_id;
	return false;
}

bool udp_addr_is_any(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (a->ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)a)->sin6_addr);
	return false;
}

uint16_t udp_addr_port(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)a)->sin_port);
	if (a->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
	return 0;
}

static socklen_t udp_addr_len(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* ---- one socket ---- */

static int udp_setopt(int fd, int level, int name)
{
	int one = 1;

	return setsockopt(fd, level, name, &one, sizeof(one)) < 0 ? -errno : 0;
}

static int udp_sock_setup(int fd, int family)
{
	int rc;

	if (family == AF_INET)
		return udp_setopt(fd, IPPROTO_IP, IP_PKTINFO);
	/* v6-only, so "::" and "0.0.0.0" can both be bound on the same port. */
	rc = udp_setopt(fd, IPPROTO_IPV6, IPV6_V6ONLY);
	if (rc == 0)
		rc = udp_setopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO);
	return rc;
}

int udp_sock_open(struct udp_sock *s, const struct sockaddr_storage *addr, enum udp_kind kind)
{
	socklen_t len = sizeof(s->bound);
	int family = addr->ss_family;
	int rc;

	s->fd = -1;
	s->kind = kind;
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	s->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (s->fd < 0)
		return -errno;
	rc = udp_sock_setup(s->fd, family);
	/* RFC 6040 4.2: ESP decapsulation needs the outer ECN field. */
	if (rc == 0 && kind == UDP_KIND_NATT)
		rc = family == AF_INET ? udp_setopt(s->fd, IPPROTO_IP, IP_RECVTOS)
				       : udp_setopt(s->fd, IPPROTO_IPV6, IPV6_RECVTCLASS);
	if (rc == 0 && bind(s->fd, (const struct sockaddr *)addr, udp_addr_len(addr)) < 0)
		rc = -errno;
	if (rc == 0 && getsockname(s->fd, (struct sockaddr *)&s->bound, &len) < 0)
		rc = -errno;
	if (rc < 0)
		udp_sock_close(s);
	return rc;
}

void udp_sock_close(struct udp_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* ---- the set of sockets ---- */

static int udp_open_one(struct udp *u, const char *addr, uint16_t port, enum udp_kind kind)
{
	struct sockaddr_storage ss;
	struct udp_sock *s = &u->socks[u->nsocks];
	int rc = udp_addr_parse(addr, port, &ss);

	if (rc == 0)
		rc = udp_sock_open(s, &ss, kind);
	if (rc == 0) {
		s->owner = u;
		u->nsocks++;
	}
	return rc;
}

int udp_open(struct udp **out, const char *const *addrs, size_t naddrs, uint16_t port,
	     uint16_t natt_port)
{
	struct udp *u = calloc(1, sizeof(*u));
	int rc = 0;

	*out = NULL;
	if (!u)
		return -ENOMEM;
	u->socks = calloc(naddrs ? 2 * naddrs : 1, sizeof(*u->socks));
	if (!u->socks)
		rc = -ENOMEM;
	for (size_t i = 0; rc == 0 && i < naddrs; i++) {
		rc = udp_open_one(u, addrs[i], port, UDP_KIND_IKE);
		if (rc == 0)
			rc = udp_open_one(u, addrs[i], natt_port, UDP_KIND_NATT);
	}
	if (rc < 0) {
		udp_free(u);
		return rc;
	}
	*out = u;
	return 0;
}

void udp_free(struct udp *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->nsocks; i++) {
		if (u->loop)
			loop_fd_del(u->loop, u->socks[i].fd);
		udp_sock_close(&u->socks[i]);
	}
	free(u->socks);
	free(u->batch);
	free(u->bufs);
	free(u);
}

size_t udp_sock_count(const struct udp *u)
{
	return u->nsocks;
}

struct udp_sock *udp_sock_get(struct udp *u, size_t i)
{
	return i < u->nsocks ? &u->socks[i] : NULL;
}

struct udp_sock *udp_sock_find(struct udp *u, const struct sockaddr_storage *local,
			       enum udp_kind kind)
{
	struct udp_sock *any = NULL;

	for (size_t i = 0; i < u->nsocks; i++) {
		struct udp_sock *s = &u->socks[i];

		if (s->kind != kind || s->bound.ss_family != local->ss_family)
			continue;
		if (udp_addr_equal(&s->bound, local))
			return s;
		if (!any && udp_addr_is_any(&s->bound))
			any = s;
	}
	return any;
}

const struct udp_counters *udp_counters(const struct udp *u)
{
	return &u->stats;
}

void udp_set_ike_handler(struct udp *u, udp_ike_fn *fn, void *arg)
{
	u->on_ike = fn;
	u->ike_arg = arg;
}

void udp_set_esp_handler(struct udp *u, udp_esp_fn *fn, void *arg)
{
	u->on_esp = fn;
	u->esp_arg = arg;
}

/* ---- receiving ---- */

/* The destination address of the datagram, from its pktinfo; our port from the socket. */
static void udp_local_from_cmsg(const struct udp_sock *s, struct msghdr *mh,
				struct sockaddr_storage *local)
{
	*local = s->bound;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			((struct sockaddr_in *)local)->sin_addr = pi.ipi_addr;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)local;
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			sin6->sin6_addr = pi.ipi6_addr;
			/* A link-local address means nothing without its interface. */
			sin6->sin6_scope_id = IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr) ?
						      (uint32_t)pi.ipi6_ifindex : 0;
		}
	}
}

/* The outer TOS / Traffic Class byte, if the socket reports it (NAT-T); else 0. */
static uint8_t udp_tos_from_cmsg(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS &&
		    c->cmsg_len >= CMSG_LEN(1)) {
			uint8_t tos;

			memcpy(&tos, CMSG_DATA(c), 1);
			return tos;
		}
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(int))) {
			int tc;

			memcpy(&tc, CMSG_DATA(c), sizeof(tc));
			return (uint8_t)tc;
		}
	}
	return 0;
}

int udp_recv_batch(struct udp_sock *s, struct udp_dgram *d, size_t n)
{
	struct mmsghdr mm[UDP_BATCH_MAX];
	struct iovec iov[UDP_BATCH_MAX];
	union {
		char buf[UDP_CMSG_SPACE];
		struct cmsghdr align;
	} ctl[UDP_BATCH_MAX];
	int got;

	if (n > UDP_BATCH_MAX)
		n = UDP_BATCH_MAX;
	memset(mm, 0, n * sizeof(mm[0]));
	for (size_t i = 0; i < n; i++) {
		iov[i] = (struct iovec){ .iov_base = d[i].data, .iov_len = d[i].cap };
		mm[i].msg_hdr = (struct msghdr){
			.msg_name = &d[i].peer, .msg_namelen = sizeof(d[i].peer),
			.msg_iov = &iov[i], .msg_iovlen = 1,
			.msg_control = ctl[i].buf, .msg_controllen = sizeof(ctl[i].buf),
		};
	}
	got = recvmmsg(s->fd, mm, (unsigned int)n, MSG_DONTWAIT, NULL);
	if (got < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
	for (int i = 0; i < got; i++) {
		d[i].sock = s;
		d[i].kind = s->kind;
		d[i].truncated = (mm[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
		d[i].len = d[i].truncated ? 0 : mm[i].msg_len;
		udp_local_from_cmsg(s, &mm[i].msg_hdr, &d[i].local);
		d[i].tos = udp_tos_from_cmsg(&mm[i].msg_hdr);
	}
	return got;
}

/* RFC 3948 2.2: on the NAT-T port the first four bytes say what follows. */
static enum udp_class udp_classify_natt(struct rbuf *r)
{
	uint32_t first;
	uint8_t b;

	if (rbuf_left(r) == 1 && rbuf_peek_u8(r, 0, &b) == 0)
		return b == 0xff ? UDP_CLASS_KEEPALIVE : UDP_CLASS_DROP;
	if (rbuf_peek_u32(r, 0, &first) < 0)
		return UDP_CLASS_DROP;
	if (first == 0) {
		rbuf_skip(r, IKEV2_NON_ESP_MARKER_LEN);
		return rbuf_left(r) >= IKEV2_HDR_LEN ? UDP_CLASS_IKE : UDP_CLASS_DROP;
	}
	/* ESP header: SPI and sequence number (RFC 4303 2). */
	return rbuf_left(r) >= 8 ? UDP_CLASS_ESP : UDP_CLASS_DROP;
}

enum udp_class udp_classify(enum udp_kind kind, const uint8_t *data, size_t len,
			    const uint8_t **out, size_t *out_len)
{
	struct rbuf r;
	enum udp_class c;

	rbuf_init(&r, data, len);
	if (kind == UDP_KIND_NATT)
		c = udp_classify_natt(&r);
	else
		c = rbuf_left(&r) >= IKEV2_HDR_LEN ? UDP_CLASS_IKE : UDP_CLASS_DROP;
	rbuf_rest(&r, out, out_len);
	return c;
}

void udp_dispatch(struct udp *u, const struct udp_dgram *d)
{
	const uint8_t *p;
	size_t n;
	enum udp_class c = d->truncated ? UDP_CLASS_DROP :
					  udp_classify(d->kind, d->data, d->len, &p, &n);

	switch (c) {
	case UDP_CLASS_IKE:
		u->stats.ike++;
		if (u->on_ike)
			u->on_ike(u->ike_arg, d, p, n);
		break;
	case UDP_CLASS_ESP:
		u->stats.esp++;
		if (u->on_esp)
			u->on_esp(u->esp_arg, d, p, n);
		break;
	case UDP_CLASS_KEEPALIVE:
		u->stats.keepalive++;
		break;
	case UDP_CLASS_DROP:
		u->stats.dropped++;
		break;
	}
}

static void udp_readable(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct udp_sock *s = arg;
	struct udp *u = s->owner;
	(void)loop;
	(void)fd;
	(void)events;

	for (int round = 0; round < UDP_DRAIN_ROUNDS; round++) {
		int got;

		for (size_t i = 0; i < UDP_BATCH_MAX; i++)
			u->batch[i].cap = UDP_DGRAM_MAX;
		got = udp_recv_batch(s, u->batch, UDP_BATCH_MAX);
		for (int i = 0; i < got; i++)
			udp_dispatch(u, &u->batch[i]);
		if (got < UDP_BATCH_MAX)
			break;
	}
}

static int udp_batch_alloc(struct udp *u)
{
	u->batch = calloc(UDP_BATCH_MAX, sizeof(*u->batch));
	u->bufs = malloc((size_t)UDP_BATCH_MAX * UDP_DGRAM_MAX);
	if (!u->batch || !u->bufs)
		return -ENOMEM;
	for (size_t i = 0; i < UDP_BATCH_MAX; i++)
		u->batch[i].data = u->bufs + i * UDP_DGRAM_MAX;
	return 0;
}

int udp_attach(struct udp *u, struct loop *loop)
{
	int rc = u->batch ? 0 : udp_batch_alloc(u);

	for (size_t i = 0; rc == 0 && i < u->nsocks; i++) {
		rc = loop_fd_add(loop, u->socks[i].fd, EPOLLIN, udp_readable, &u->socks[i]);
		if (rc == 0)
			u->loop = loop;
	}
	return rc;
}

/* ---- sending ---- */

/* The pktinfo that asks for local's address as the source. */
static size_t udp_cmsg_source(void *ctl, const struct sockaddr_storage *local)
{
	struct cmsghdr *c = ctl;

	if (local->ss_family == AF_INET) {
		struct in_pktinfo pi = { 0 };

		pi.ipi_spec_dst = ((const struct sockaddr_in *)local)->sin_addr;
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)local;
	struct in6_pktinfo pi6 = { .ipi6_addr = sin6->sin6_addr };

	pi6.ipi6_ifindex = sin6->sin6_scope_id;
	c->cmsg_level = IPPROTO_IPV6;
	c->cmsg_type = IPV6_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi6));
	memcpy(CMSG_DATA(c), &pi6, sizeof(pi6));
	return CMSG_SPACE(sizeof(pi6));
}

/* IP_TOS or IPV6_TCLASS (an int for both) at ctl: the outer header's TOS byte. */
static size_t udp_cmsg_tos(void *ctl, const struct sockaddr_storage *peer, int tos)
{
	struct cmsghdr *c = ctl;
	bool v4 = peer->ss_family == AF_INET;

	c->cmsg_level = v4 ? IPPROTO_IP : IPPROTO_IPV6;
	c->cmsg_type = v4 ? IP_TOS : IPV6_TCLASS;
	c->cmsg_len = CMSG_LEN(sizeof(tos));
	memcpy(CMSG_DATA(c), &tos, sizeof(tos));
	return CMSG_SPACE(sizeof(tos));
}

void udp_msg_fill(struct msghdr *mh, void *ctl, const struct sockaddr_storage *local,
		  const struct sockaddr_storage *peer, struct iovec *iov, size_t niov, int tos)
{
	size_t clen = 0;

	memset(ctl, 0, UDP_SRC_CMSG_SPACE);
	if (local && (local->ss_family == AF_INET || local->ss_family == AF_INET6) &&
	    !udp_addr_is_any(local))
		clen = udp_cmsg_source(ctl, local);
	if (tos >= 0 && tos <= 0xff &&
	    (peer->ss_family == AF_INET || peer->ss_family == AF_INET6))
		clen += udp_cmsg_tos((char *)ctl + clen, peer, tos);
	*mh = (struct msghdr){
		.msg_name = (void *)peer, .msg_namelen = udp_addr_len(peer),
		.msg_iov = iov, .msg_iovlen = niov,
		.msg_control = clen ? ctl : NULL, .msg_controllen = clen,
	};
}

static int udp_sendv(const struct udp_sock *s, const struct sockaddr_storage *local,
		     const struct sockaddr_storage *peer, struct iovec *iov, size_t niov)
{
	union {
		char buf[UDP_SRC_CMSG_SPACE];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh;

	if (peer->ss_family != s->bound.ss_family)
		return -EAFNOSUPPORT;
	if (local && local->ss_family != peer->ss_family)
		return -EAFNOSUPPORT;
	udp_msg_fill(&mh, ctl.buf, local, peer, iov, niov, UDP_TOS_NONE);
	return sendmsg(s->fd, &mh, MSG_DONTWAIT) < 0 ? -errno : 0;
}

int udp_send(const struct udp_sock *s, const struct sockaddr_storage *local,
	     const struct sockaddr_storage *peer, const void *data, size_t len)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };

	return udp_sendv(s, local, peer, &iov, 1);
}

int udp_send_ike(const struct udp_sock *s, const struct sockaddr_storage *local,
		 const struct sockaddr_storage *peer, const void *msg, size_t len)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)udp_non_esp_marker, .iov_len = sizeof(udp_non_esp_marker) },
		{ .iov_base = (void *)msg, .iov_len = len },
	};

	/* RFC 7296 2.23: on port 4500 IKE is prefixed with four zero bytes. */
	if (s->kind == UDP_KIND_NATT)
		return udp_sendv(s, local, peer, iov, 2);
	return udp_sendv(s, local, peer, &iov[1], 1);
}
