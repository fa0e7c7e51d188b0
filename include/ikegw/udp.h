/* SPDX-License-Identifier: ISC */
/*
 * The IKE sockets: one UDP socket per listen address and port kind (IKE on port 500,
 * NAT-T on port 4500).
 *
 * Each datagram carries the local address it arrived on (IP_PKTINFO / IPV6_PKTINFO), and
 * a reply is sent from that same address, so a gateway bound to 0.0.0.0 on a host with
 * several addresses answers from the one the client talked to (RFC 7296 2.11).
 *
 * On the NAT-T port, RFC 3948 2.2 tells the three kinds of datagram apart:
 *   one byte 0xFF             NAT keepalive (RFC 3948 2.3): counted and dropped;
 *   four zero bytes + IKE     the non-ESP marker: stripped, the rest goes to IKE;
 *   anything else             ESP, whose first four bytes are a non-zero SPI.
 * IKE sent on the NAT-T port gets the marker prepended (RFC 7296 2.23).
 */
#ifndef IKEGW_UDP_H
#define IKEGW_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct loop;
struct udp;

enum udp_kind {
	UDP_KIND_IKE = 0,   /* port 500: IKE only, no marker */
	UDP_KIND_NATT = 1,  /* port 4500: marker-prefixed IKE, ESP-in-UDP, keepalives */
};

enum udp_class {
	UDP_CLASS_IKE,
	UDP_CLASS_ESP,
	UDP_CLASS_KEEPALIVE,
	UDP_CLASS_DROP,  /* too short to be anything */
};

#define UDP_BATCH_MAX 32       /* datagrams per recvmmsg() */
#define UDP_DGRAM_MAX 65536    /* receive buffer per datagram in udp_attach() */

struct udp_sock {
	int fd;
	enum udp_kind kind;
	struct sockaddr_storage bound;  /* address and (kernel-chosen if 0) port */
	struct udp *owner;              /* set by udp_open() */
};

/* One received datagram; data and cap are the caller's buffer. */
struct udp_dgram {
	struct udp_sock *sock;
	enum udp_kind kind;
	struct sockaddr_storage local;  /* the address it was sent to, with our port */
	struct sockaddr_storage peer;
	uint8_t *data;
	size_t cap;
	size_t len;
	bool truncated;                 /* larger than cap: dropped by udp_dispatch() */
	uint8_t tos;                    /* outer IPv4 TOS / IPv6 Traffic Class on a NAT-T
					 * socket (its ECN bits: RFC 6040 decapsulation); 0
					 * when not reported */
};

struct udp_counters {
	uint64_t ike, esp, keepalive, dropped;
};

/* msg/pkt borrow from the datagram buffer: the IKE message (marker gone), or ESP packet. */
typedef void udp_ike_fn(void *arg, const struct udp_dgram *d, const uint8_t *msg, size_t len);
typedef void udp_esp_fn(void *arg, const struct udp_dgram *d, const uint8_t *pkt, size_t len);

/* "192.0.2.1", "::", "fe80::1%eth0" -> sockaddr with port.  0 or -EINVAL. */
int udp_addr_parse(const char *s, uint16_t port, struct sockaddr_storage *out);
/* Same address (and scope), ignoring the port. */
bool udp_addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
bool udp_addr_is_any(const struct sockaddr_storage *a);
uint16_t udp_addr_port(const struct sockaddr_storage *a);

/* One non-blocking socket, pktinfo on, IPV6_V6ONLY on IPv6, and on the NAT-T port
 * IP_RECVTOS / IPV6_RECVTCLASS (udp_dgram.tos).  0 or negative errno. */
int udp_sock_open(struct udp_sock *s, const struct sockaddr_storage *addr, enum udp_kind kind);
void udp_sock_close(struct udp_sock *s);

/* A socket on each address for port and one for natt_port (2 * naddrs sockets). */
int udp_open(struct udp **out, const char *const *addrs, size_t naddrs, uint16_t port,
	     uint16_t natt_port);
void udp_free(struct udp *u);
size_t udp_sock_count(const struct udp *u);
struct udp_sock *udp_sock_get(struct udp *u, size_t i);
/* The socket to send from: bound to local's address, else the wildcard of its family. */
struct udp_sock *udp_sock_find(struct udp *u, const struct sockaddr_storage *local,
			       enum udp_kind kind);
const struct udp_counters *udp_counters(const struct udp *u);

void udp_set_ike_handler(struct udp *u, udp_ike_fn *fn, void *arg);
/* For the userspace dataplane; without one, ESP is counted and dropped. */
void udp_set_esp_handler(struct udp *u, udp_esp_fn *fn, void *arg);

/*
 * Receive up to n datagrams (n <= UDP_BATCH_MAX) into d[0..n); each d[i].data/cap must be
 * set.  Returns how many arrived (0 when none is waiting) or a negative errno.
 */
int udp_recv_batch(struct udp_sock *s, struct udp_dgram *d, size_t n);
/* RFC 3948 2.2 demux of one datagram; *out is the IKE message or ESP packet. */
enum udp_class udp_classify(enum udp_kind kind, const uint8_t *data, size_t len,
			    const uint8_t **out, size_t *out_len);
/* Classify, count, and hand to the IKE or ESP handler. */
void udp_dispatch(struct udp *u, const struct udp_dgram *d);
/*
 * Watch every socket: readable sockets are drained in batches through udp_dispatch().
 * Allocates the receive batch (UDP_BATCH_MAX * UDP_DGRAM_MAX bytes) once.  udp_free()
 * unwatches the sockets, so free the udp before the loop.
 */
int udp_attach(struct udp *u, struct loop *loop);

/*
 * Send data as is, from local (NULL or a wildcard: the kernel chooses).  ESP goes out
 * this way on the NAT-T socket.  0 or negative errno (-EAGAIN when the socket is full).
 */
int udp_send(const struct udp_sock *s, const struct sockaddr_storage *local,
	     const struct sockaddr_storage *peer, const void *data, size_t len);
/* Send an IKE message, with the non-ESP marker in front on a NAT-T socket. */
int udp_send_ike(const struct udp_sock *s, const struct sockaddr_storage *local,
		 const struct sockaddr_storage *peer, const void *msg, size_t len);

/* Room for the control data udp_msg_fill() writes: one IP_PKTINFO or IPV6_PKTINFO and
 * one IP_TOS or IPV6_TCLASS. */
#define UDP_SRC_CMSG_SPACE (CMSG_SPACE(sizeof(struct in6_addr) + sizeof(unsigned int)) + \
			    CMSG_SPACE(sizeof(int)))
#define UDP_TOS_NONE (-1)

/*
 * A datagram header for sendmsg() or one entry of sendmmsg(): to peer, data in iov, and
 * from local's address (RFC 7296 2.11: answer from the address the peer talked to) as a
 * pktinfo control message in ctl (UDP_SRC_CMSG_SPACE bytes, aligned for struct cmsghdr);
 * none when local is NULL or a wildcard: the kernel chooses.  tos 0..255 adds an IP_TOS
 * (IPv4 peer) or IPV6_TCLASS (IPv6 peer) control message: the outer header's TOS /
 * Traffic Class (ESP in UDP carries the inner ECN field there, RFC 6040 4.1);
 * UDP_TOS_NONE leaves the socket's.
 */
void udp_msg_fill(struct msghdr *mh, void *ctl, const struct sockaddr_storage *local,
		  const struct sockaddr_storage *peer, struct iovec *iov, size_t niov, int tos);

#endif
