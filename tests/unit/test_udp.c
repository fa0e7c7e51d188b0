/* SPDX-License-Identifier: ISC */
#define _GNU_SOURCE /* struct in6_pktinfo */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "ikegw/ikev2.h"
#include "ikegw/loop.h"
#include "ikegw/udp.h"

/* A fake IKE header's worth of bytes: non-zero SPIi first, like a real one. */
static void fake_ike(uint8_t *p, size_t n, uint8_t tag)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(tag + i);
	p[0] = 0x11;
}

/* The test's peer: an ordinary UDP socket of the family. */
static int peer_open(int family)
{
	struct sockaddr_storage ss;
	int fd;

	assert_int_equal(udp_addr_parse(family == AF_INET ? "127.0.0.1" : "::1", 0, &ss), 0);
	fd = socket(family, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, family == AF_INET ?
			      sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)), 0);
	return fd;
}

static void peer_send(int fd, const struct sockaddr_storage *to, const void *p, size_t n)
{
	socklen_t len = to->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
						   sizeof(struct sockaddr_in6);

	assert_int_equal(sendto(fd, p, n, 0, (const struct sockaddr *)to, len), (ssize_t)n);
}

/* Where to reach s: its port, at addr (its own address when addr is NULL). */
static void sock_target(const struct udp_sock *s, const char *addr, struct sockaddr_storage *to)
{
	if (addr)
		assert_int_equal(udp_addr_parse(addr, udp_addr_port(&s->bound), to), 0);
	else
		*to = s->bound;
}

static void test_addr_parse(void **state)
{
	struct sockaddr_storage ss, ss2;
	(void)state;

	assert_int_equal(udp_addr_parse("0.0.0.0", 500, &ss), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_true(udp_addr_is_any(&ss));
	assert_int_equal(udp_addr_port(&ss), 500);
	assert_int_equal(udp_addr_parse("::", 4500, &ss), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_true(udp_addr_is_any(&ss));
	assert_int_equal(udp_addr_port(&ss), 4500);
	assert_int_equal(udp_addr_parse("fe80::1%lo", 0, &ss), 0);
	assert_int_not_equal(((struct sockaddr_in6 *)&ss)->sin6_scope_id, 0);
	assert_int_equal(udp_addr_parse("fe80::1", 0, &ss2), 0);
	assert_false(udp_addr_equal(&ss, &ss2));
	assert_int_equal(udp_addr_parse("192.0.2.1", 1, &ss), 0);
	assert_int_equal(udp_addr_parse("192.0.2.1", 2, &ss2), 0);
	assert_true(udp_addr_equal(&ss, &ss2));
	assert_false(udp_addr_is_any(&ss));
	assert_int_equal(udp_addr_parse("1", 0, &ss), -EINVAL);
	assert_int_equal(udp_addr_parse("", 0, &ss), -EINVAL);
	assert_int_equal(udp_addr_parse("vpn.example.com", 0, &ss), -EINVAL);
	assert_int_equal(udp_addr_parse("fe80::1%no-such-if0", 0, &ss), -EINVAL);
	assert_int_equal(udp_addr_parse("::1%", 0, &ss), -EINVAL);
	assert_int_equal(udp_addr_parse(NULL, 0, &ss), -EINVAL);
}

static void test_classify(void **state)
{
	uint8_t pkt[64] = { 0 };
	const uint8_t *p;
	size_t n;
	(void)state;

	pkt[0] = 0xff;
	assert_int_equal(udp_classify(UDP_KIND_NATT, pkt, 1, &p, &n), UDP_CLASS_KEEPALIVE);
	pkt[0] = 0xfe;
	assert_int_equal(udp_classify(UDP_KIND_NATT, pkt, 1, &p, &n), UDP_CLASS_DROP);
	assert_int_equal(udp_classify(UDP_KIND_NATT, pkt, 0, &p, &n), UDP_CLASS_DROP);
	assert_int_equal(udp_classify(UDP_KIND_NATT, NULL, 0, &p, &n), UDP_CLASS_DROP);
	assert_int_equal(udp_classify(UDP_KIND_NATT, pkt, 3, &p, &n), UDP_CLASS_DROP);

	/* Marker, then an IKE header: the marker is stripped. */
	memset(pkt, 0, sizeof(pkt));
	fake_ike(pkt + 4, 40, 1);
	assert_int_equal(udp_classify(UDP_KIND_NATT, pkt, 44, &p, &n), UDP_CLASS_IKE);
	assert_ptr_equal(p, pkt + 4);
	assert_int_equal(n, 40);
	/* Marker and less than an IKE header, or the marker alone. */
	assert_int_equal(udp_classify(UDP_KIND_NATT, pkt, 4 + IKEV2_HDR_LEN - 1, &p, &n),
			 UDP_CLASS_DROP);
	assert_int_equal(udp_classify(UDP_KIND_NATT, pkt, 4, &p, &n), UDP_CLASS_DROP);

	/* A non-zero SPI: ESP, kept whole; shorter than SPI + sequence: dropped. */
	pkt[3] = 1;
	assert_int_equal(udp_classify(UDP_KIND_NATT, pkt, 44, &p, &n), UDP_CLASS_ESP);
	assert_ptr_equal(p, pkt);
	assert_int_equal(n, 44);
	assert_int_equal(udp_classify(UDP_KIND_NATT, pkt, 7, &p, &n), UDP_CLASS_DROP);
	assert_int_equal(udp_classify(UDP_KIND_NATT, pkt, 8, &p, &n), UDP_CLASS_ESP);

	/* Port 500 has no marker: everything long enough is IKE, as is. */
	assert_int_equal(udp_classify(UDP_KIND_IKE, pkt, 44, &p, &n), UDP_CLASS_IKE);
	assert_ptr_equal(p, pkt);
	assert_int_equal(n, 44);
	pkt[0] = 0xff;
	assert_int_equal(udp_classify(UDP_KIND_IKE, pkt, 1, &p, &n), UDP_CLASS_DROP);
	assert_int_equal(udp_classify(UDP_KIND_IKE, pkt, IKEV2_HDR_LEN - 1, &p, &n),
			 UDP_CLASS_DROP);
}

static void test_open_both_families_same_port(void **state)
{
	struct sockaddr_storage any4, any6;
	struct udp_sock s4, s6;
	(void)state;

	assert_int_equal(udp_addr_parse("0.0.0.0", 0, &any4), 0);
	assert_int_equal(udp_sock_open(&s4, &any4, UDP_KIND_IKE), 0);
	/* "::" on the very port "0.0.0.0" took: only possible with IPV6_V6ONLY. */
	assert_int_equal(udp_addr_parse("::", udp_addr_port(&s4.bound), &any6), 0);
	assert_int_equal(udp_sock_open(&s6, &any6, UDP_KIND_IKE), 0);
	assert_int_equal(udp_addr_port(&s6.bound), udp_addr_port(&s4.bound));
	udp_sock_close(&s4);
	udp_sock_close(&s6);
	udp_sock_close(&s6);

	/* Binding a second socket to a taken address fails cleanly. */
	assert_int_equal(udp_addr_parse("127.0.0.1", 0, &any4), 0);
	assert_int_equal(udp_sock_open(&s4, &any4, UDP_KIND_IKE), 0);
	assert_int_equal(udp_sock_open(&s6, &s4.bound, UDP_KIND_IKE), -EADDRINUSE);
	assert_int_equal(s6.fd, -1);
	udp_sock_close(&s4);
}

static void test_open_set(void **state)
{
	static const char *const addrs[] = { "127.0.0.1", "::1" };
	static const char *const bad[] = { "127.0.0.1", "not-an-address" };
	struct sockaddr_storage ss;
	struct udp *u;
	(void)state;

	assert_int_equal(udp_open(&u, addrs, 2, 0, 0), 0);
	assert_int_equal(udp_sock_count(u), 4);
	assert_int_equal(udp_sock_get(u, 0)->kind, UDP_KIND_IKE);
	assert_int_equal(udp_sock_get(u, 1)->kind, UDP_KIND_NATT);
	assert_null(udp_sock_get(u, 4));
	assert_int_equal(udp_addr_parse("::1", 0, &ss), 0);
	assert_ptr_equal(udp_sock_find(u, &ss, UDP_KIND_NATT), udp_sock_get(u, 3));
	assert_int_equal(udp_addr_parse("127.0.0.2", 0, &ss), 0);
	assert_null(udp_sock_find(u, &ss, UDP_KIND_IKE));
	udp_free(u);
	udp_free(NULL);

	assert_int_equal(udp_open(&u, bad, 2, 0, 0), -EINVAL);
	assert_null(u);
}

/* A request to 127.0.0.2 on a wildcard socket: we learn 127.0.0.2 and answer from it. */
static void test_pktinfo_v4_reply_from_local(void **state)
{
	static const char *const addrs[] = { "0.0.0.0" };
	struct sockaddr_storage to, from;
	socklen_t fromlen = sizeof(from);
	uint8_t msg[40], buf[128], reply[64];
	struct udp_dgram d = { .data = buf, .cap = sizeof(buf) };
	struct udp *u;
	struct udp_sock *s;
	int peer = peer_open(AF_INET);
	(void)state;

	assert_int_equal(udp_open(&u, addrs, 1, 0, 0), 0);
	s = udp_sock_get(u, 0);
	assert_ptr_equal(udp_sock_find(u, &s->bound, UDP_KIND_IKE), s);
	sock_target(s, "127.0.0.2", &to);
	assert_ptr_equal(udp_sock_find(u, &to, UDP_KIND_IKE), s);
	fake_ike(msg, sizeof(msg), 7);
	peer_send(peer, &to, msg, sizeof(msg));

	assert_int_equal(udp_recv_batch(s, &d, 1), 1);
	assert_ptr_equal(d.sock, s);
	assert_int_equal(d.kind, UDP_KIND_IKE);
	assert_int_equal(d.len, sizeof(msg));
	assert_memory_equal(buf, msg, sizeof(msg));
	assert_true(udp_addr_equal(&d.local, &to));
	assert_int_equal(udp_addr_port(&d.local), udp_addr_port(&s->bound));
	assert_int_equal(d.peer.ss_family, AF_INET);

	fake_ike(reply, sizeof(reply), 9);
	assert_int_equal(udp_send_ike(s, &d.local, &d.peer, reply, sizeof(reply)), 0);
	assert_int_equal(recvfrom(peer, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen),
			 sizeof(reply));
	assert_memory_equal(buf, reply, sizeof(reply));
	assert_true(udp_addr_equal(&from, &to));
	assert_int_equal(udp_addr_port(&from), udp_addr_port(&to));

	/* Nothing left: a non-blocking receive says 0. */
	assert_int_equal(udp_recv_batch(s, &d, 1), 0);
	close(peer);
	udp_free(u);
}

static void test_pktinfo_v6(void **state)
{
	static const char *const addrs[] = { "::" };
	struct sockaddr_storage to, from;
	socklen_t fromlen = sizeof(from);
	uint8_t msg[32], buf[128];
	struct udp_dgram d = { .data = buf, .cap = sizeof(buf) };
	struct udp *u;
	struct udp_sock *s;
	int peer = peer_open(AF_INET6);
	(void)state;

	assert_int_equal(udp_open(&u, addrs, 1, 0, 0), 0);
	s = udp_sock_get(u, 0);
	sock_target(s, "::1", &to);
	fake_ike(msg, sizeof(msg), 3);
	peer_send(peer, &to, msg, sizeof(msg));
	assert_int_equal(udp_recv_batch(s, &d, 1), 1);
	assert_int_equal(d.local.ss_family, AF_INET6);
	assert_true(udp_addr_equal(&d.local, &to));
	assert_false(udp_addr_is_any(&d.local));

	assert_int_equal(udp_send_ike(s, &d.local, &d.peer, msg, sizeof(msg)), 0);
	assert_int_equal(recvfrom(peer, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen),
			 sizeof(msg));
	assert_true(udp_addr_equal(&from, &to));

	/* Family mismatch between socket and peer. */
	sock_target(s, "127.0.0.1", &to);
	assert_int_equal(udp_send(s, NULL, &to, msg, sizeof(msg)), -EAFNOSUPPORT);
	close(peer);
	udp_free(u);
}

struct seen {
	int ike, esp;
	uint8_t ike_msg[64];
	size_t ike_len, esp_len;
	uint8_t esp_first;
	enum udp_kind kind;
};

static void on_ike(void *arg, const struct udp_dgram *d, const uint8_t *msg, size_t len)
{
	struct seen *s = arg;

	s->ike++;
	s->kind = d->kind;
	s->ike_len = len;
	assert_true(len <= sizeof(s->ike_msg));
	memcpy(s->ike_msg, msg, len);
}

static void on_esp(void *arg, const struct udp_dgram *d, const uint8_t *pkt, size_t len)
{
	struct seen *s = arg;
	(void)d;

	s->esp++;
	s->esp_len = len;
	s->esp_first = pkt[3];
}

/* The one msghdr builder sendmsg and the userspace dataplane's sendmmsg share. */
static void test_msg_fill(void **state)
{
	union {
		char buf[UDP_SRC_CMSG_SPACE];
		struct cmsghdr align;
	} ctl;
	struct sockaddr_storage peer, local;
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr mh;
	struct cmsghdr *c;
	struct in_pktinfo pi;
	struct in6_pktinfo pi6;

	(void)state;
	assert_int_equal(udp_addr_parse("192.0.2.9", 4500, &peer), 0);
	assert_int_equal(udp_addr_parse("192.0.2.1", 4500, &local), 0);
	udp_msg_fill(&mh, ctl.buf, &local, &peer, &iov, 1, UDP_TOS_NONE);
	assert_ptr_equal(mh.msg_name, &peer);
	assert_int_equal(mh.msg_namelen, sizeof(struct sockaddr_in));
	assert_ptr_equal(mh.msg_iov, &iov);
	assert_int_equal(mh.msg_iovlen, 1);
	assert_int_equal(mh.msg_controllen, CMSG_SPACE(sizeof(pi)));
	c = CMSG_FIRSTHDR(&mh);
	assert_non_null(c);
	assert_true(c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO);
	memcpy(&pi, CMSG_DATA(c), sizeof(pi));
	assert_memory_equal(&pi.ipi_spec_dst, &((struct sockaddr_in *)&local)->sin_addr, 4);
	assert_int_equal(pi.ipi_ifindex, 0);
	assert_null(CMSG_NXTHDR(&mh, c));
	/* a wildcard or no local address: the kernel picks */
	assert_int_equal(udp_addr_parse("0.0.0.0", 4500, &local), 0);
	udp_msg_fill(&mh, ctl.buf, &local, &peer, &iov, 1, UDP_TOS_NONE);
	assert_true(mh.msg_control == NULL && mh.msg_controllen == 0);
	udp_msg_fill(&mh, ctl.buf, NULL, &peer, &iov, 1, UDP_TOS_NONE);
	assert_true(mh.msg_control == NULL && mh.msg_controllen == 0);
	/* IPv6, link-local: the interface goes with the address */
	assert_int_equal(udp_addr_parse("2001:db8::9", 4500, &peer), 0);
	assert_int_equal(udp_addr_parse("fe80::1%lo", 4500, &local), 0);
	udp_msg_fill(&mh, ctl.buf, &local, &peer, &iov, 1, UDP_TOS_NONE);
	assert_int_equal(mh.msg_namelen, sizeof(struct sockaddr_in6));
	assert_int_equal(mh.msg_controllen, CMSG_SPACE(sizeof(pi6)));
	c = CMSG_FIRSTHDR(&mh);
	assert_true(c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO);
	memcpy(&pi6, CMSG_DATA(c), sizeof(pi6));
	assert_memory_equal(&pi6.ipi6_addr, &((struct sockaddr_in6 *)&local)->sin6_addr, 16);
	assert_int_equal(pi6.ipi6_ifindex, ((struct sockaddr_in6 *)&local)->sin6_scope_id);
	assert_true(pi6.ipi6_ifindex != 0);
	/* with a TOS: IPV6_TCLASS after the pktinfo (RFC 6040 4.1: the outer ECN field) */
	udp_msg_fill(&mh, ctl.buf, &local, &peer, &iov, 1, 0x02);
	assert_int_equal(mh.msg_controllen, CMSG_SPACE(sizeof(pi6)) + CMSG_SPACE(sizeof(int)));
	c = CMSG_NXTHDR(&mh, CMSG_FIRSTHDR(&mh));
	assert_true(c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS);
	assert_int_equal(*(int *)CMSG_DATA(c), 0x02);
	assert_null(CMSG_NXTHDR(&mh, c));
	/* IPv4, no source address: IP_TOS alone; out of range: nothing */
	assert_int_equal(udp_addr_parse("192.0.2.9", 4500, &peer), 0);
	udp_msg_fill(&mh, ctl.buf, NULL, &peer, &iov, 1, 0x03);
	assert_int_equal(mh.msg_controllen, CMSG_SPACE(sizeof(int)));
	c = CMSG_FIRSTHDR(&mh);
	assert_true(c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS);
	assert_int_equal(*(int *)CMSG_DATA(c), 0x03);
	udp_msg_fill(&mh, ctl.buf, NULL, &peer, &iov, 1, 0x100);
	assert_true(mh.msg_control == NULL && mh.msg_controllen == 0);
}

/* The outer TOS set with udp_msg_fill arrives in udp_dgram.tos on the NAT-T socket. */
static void test_natt_tos(void **state)
{
	static const char *const addrs[] = { "127.0.0.1" };
	static const int tos[] = { 0x00, 0x01, 0x02, 0x03, 0xb8 | 0x03 };
	static const uint8_t esp[] = { 0, 0, 0x10, 0x01, 0, 0, 0, 1 };
	union {
		char buf[UDP_SRC_CMSG_SPACE];
		struct cmsghdr align;
	} ctl;
	uint8_t bufs[8][64];
	struct udp_dgram d[8];
	struct sockaddr_storage to;
	struct iovec iov = { .iov_base = (void *)esp, .iov_len = sizeof(esp) };
	struct msghdr mh;
	struct udp *u;
	int peer = peer_open(AF_INET);
	size_t n = sizeof(tos) / sizeof(tos[0]);
	(void)state;

	assert_int_equal(udp_open(&u, addrs, 1, 0, 0), 0);
	sock_target(udp_sock_get(u, 1), NULL, &to);
	for (size_t i = 0; i < n; i++) {
		udp_msg_fill(&mh, ctl.buf, NULL, &to, &iov, 1, tos[i]);
		assert_int_equal(sendmsg(peer, &mh, 0), (ssize_t)sizeof(esp));
	}
	for (size_t i = 0; i < n; i++)
		d[i] = (struct udp_dgram){ .data = bufs[i], .cap = sizeof(bufs[i]), .tos = 0x55 };
	assert_int_equal(udp_recv_batch(udp_sock_get(u, 1), d, n), (int)n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(d[i].tos, tos[i]);
	/* the IKE port does not ask for it: 0 */
	sock_target(udp_sock_get(u, 0), NULL, &to);
	udp_msg_fill(&mh, ctl.buf, NULL, &to, &iov, 1, 0x03);
	assert_int_equal(sendmsg(peer, &mh, 0), (ssize_t)sizeof(esp));
	d[0].tos = 0x55;
	assert_int_equal(udp_recv_batch(udp_sock_get(u, 0), d, 1), 1);
	assert_int_equal(d[0].tos, 0);
	close(peer);
	udp_free(u);
}

static void test_natt_demux_three_kinds(void **state)
{
	static const char *const addrs[] = { "127.0.0.1" };
	static const uint8_t keepalive[] = { 0xff };
	static const uint8_t esp[] = { 0, 0, 0x10, 0x01, 0, 0, 0, 1, 0xaa, 0xbb };
	uint8_t ike[4 + 36] = { 0 }, bufs[4][128];
	struct udp_dgram d[4];
	struct sockaddr_storage to;
	struct seen seen = { 0 };
	struct udp *u;
	struct udp_sock *s;
	int peer = peer_open(AF_INET);
	(void)state;

	assert_int_equal(udp_open(&u, addrs, 1, 0, 0), 0);
	udp_set_ike_handler(u, on_ike, &seen);
	udp_set_esp_handler(u, on_esp, &seen);
	s = udp_sock_get(u, 1);
	assert_int_equal(s->kind, UDP_KIND_NATT);
	sock_target(s, NULL, &to);
	fake_ike(ike + 4, sizeof(ike) - 4, 5);
	peer_send(peer, &to, keepalive, sizeof(keepalive));
	peer_send(peer, &to, ike, sizeof(ike));
	peer_send(peer, &to, esp, sizeof(esp));
	peer_send(peer, &to, esp, 3);
	for (int i = 0; i < 4; i++)
		d[i] = (struct udp_dgram){ .data = bufs[i], .cap = sizeof(bufs[i]) };
	assert_int_equal(udp_recv_batch(s, d, 4), 4);
	for (int i = 0; i < 4; i++)
		udp_dispatch(u, &d[i]);

	assert_int_equal(udp_counters(u)->keepalive, 1);
	assert_int_equal(udp_counters(u)->ike, 1);
	assert_int_equal(udp_counters(u)->esp, 1);
	assert_int_equal(udp_counters(u)->dropped, 1);
	assert_int_equal(seen.ike, 1);
	assert_int_equal(seen.kind, UDP_KIND_NATT);
	assert_int_equal(seen.ike_len, sizeof(ike) - 4);
	assert_memory_equal(seen.ike_msg, ike + 4, sizeof(ike) - 4);
	assert_int_equal(seen.esp, 1);
	assert_int_equal(seen.esp_len, sizeof(esp));
	assert_int_equal(seen.esp_first, 0x01);
	close(peer);
	udp_free(u);
}

static void test_send_ike_on_natt_adds_marker(void **state)
{
	static const char *const addrs[] = { "127.0.0.1" };
	uint8_t msg[30], buf[128];
	struct sockaddr_storage peer_addr;
	socklen_t len = sizeof(peer_addr);
	struct udp *u;
	int peer = peer_open(AF_INET);
	(void)state;

	assert_int_equal(getsockname(peer, (struct sockaddr *)&peer_addr, &len), 0);
	assert_int_equal(udp_open(&u, addrs, 1, 0, 0), 0);
	fake_ike(msg, sizeof(msg), 1);
	assert_int_equal(udp_send_ike(udp_sock_get(u, 1), NULL, &peer_addr, msg, sizeof(msg)), 0);
	assert_int_equal(recv(peer, buf, sizeof(buf), 0), 4 + sizeof(msg));
	assert_memory_equal(buf, "\0\0\0\0", 4);
	assert_memory_equal(buf + 4, msg, sizeof(msg));
	/* On port 500, and with udp_send, the bytes go as they are. */
	assert_int_equal(udp_send_ike(udp_sock_get(u, 0), NULL, &peer_addr, msg, sizeof(msg)), 0);
	assert_int_equal(recv(peer, buf, sizeof(buf), 0), sizeof(msg));
	assert_int_equal(udp_send(udp_sock_get(u, 1), NULL, &peer_addr, msg, sizeof(msg)), 0);
	assert_int_equal(recv(peer, buf, sizeof(buf), 0), sizeof(msg));
	assert_memory_equal(buf, msg, sizeof(msg));
	close(peer);
	udp_free(u);
}

static void test_batch_receive(void **state)
{
	static const char *const addrs[] = { "127.0.0.1" };
	enum { N = 10 };
	uint8_t bufs[UDP_BATCH_MAX][64], msg[40];
	struct udp_dgram d[UDP_BATCH_MAX];
	struct sockaddr_storage to;
	struct udp *u;
	struct udp_sock *s;
	int peer = peer_open(AF_INET);
	(void)state;

	assert_int_equal(udp_open(&u, addrs, 1, 0, 0), 0);
	s = udp_sock_get(u, 0);
	sock_target(s, NULL, &to);
	for (int i = 0; i < N; i++) {
		fake_ike(msg, sizeof(msg), (uint8_t)i);
		peer_send(peer, &to, msg, sizeof(msg) - (size_t)i);
	}
	for (int i = 0; i < UDP_BATCH_MAX; i++)
		d[i] = (struct udp_dgram){ .data = bufs[i], .cap = sizeof(bufs[i]) };
	/* More asked for than the maximum: clamped, not overrun. */
	assert_int_equal(udp_recv_batch(s, d, 1000), N);
	for (int i = 0; i < N; i++) {
		fake_ike(msg, sizeof(msg), (uint8_t)i);
		assert_int_equal(d[i].len, sizeof(msg) - (size_t)i);
		assert_memory_equal(d[i].data, msg, d[i].len);
		assert_true(udp_addr_equal(&d[i].local, &to));
	}
	close(peer);
	udp_free(u);
}

static void test_truncated_is_dropped(void **state)
{
	static const char *const addrs[] = { "127.0.0.1" };
	uint8_t msg[100], buf[50];
	struct udp_dgram d = { .data = buf, .cap = sizeof(buf) };
	struct sockaddr_storage to;
	struct seen seen = { 0 };
	struct udp *u;
	int peer = peer_open(AF_INET);
	(void)state;

	assert_int_equal(udp_open(&u, addrs, 1, 0, 0), 0);
	udp_set_ike_handler(u, on_ike, &seen);
	sock_target(udp_sock_get(u, 0), NULL, &to);
	fake_ike(msg, sizeof(msg), 0);
	peer_send(peer, &to, msg, sizeof(msg));
	assert_int_equal(udp_recv_batch(udp_sock_get(u, 0), &d, 1), 1);
	assert_true(d.truncated);
	udp_dispatch(u, &d);
	assert_int_equal(seen.ike, 0);
	assert_int_equal(udp_counters(u)->dropped, 1);
	close(peer);
	udp_free(u);
}

static void test_attach_to_loop(void **state)
{
	static const char *const addrs[] = { "127.0.0.1", "::1" };
	uint8_t msg[4 + 32] = { 0 };
	struct sockaddr_storage to;
	struct seen seen = { 0 };
	struct loop *loop = loop_new(NULL);
	struct udp *u;
	int peer = peer_open(AF_INET6);
	(void)state;

	assert_non_null(loop);
	assert_int_equal(udp_open(&u, addrs, 2, 0, 0), 0);
	udp_set_ike_handler(u, on_ike, &seen);
	assert_int_equal(udp_attach(u, loop), 0);
	sock_target(udp_sock_get(u, 3), NULL, &to);
	fake_ike(msg + 4, 32, 2);
	peer_send(peer, &to, msg, sizeof(msg));
	assert_int_equal(loop_run_once(loop, 1000), 1);
	assert_int_equal(seen.ike, 1);
	assert_int_equal(seen.ike_len, 32);
	assert_memory_equal(seen.ike_msg, msg + 4, 32);
	udp_free(u);
	loop_free(loop);
	close(peer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_open_both_families_same_port),
		cmocka_unit_test(test_open_set),
		cmocka_unit_test(test_pktinfo_v4_reply_from_local),
		cmocka_unit_test(test_pktinfo_v6),
		cmocka_unit_test(test_msg_fill),
		cmocka_unit_test(test_natt_tos),
		cmocka_unit_test(test_natt_demux_three_kinds),
		cmocka_unit_test(test_send_ike_on_natt_adds_marker),
		cmocka_unit_test(test_batch_receive),
		cmocka_unit_test(test_truncated_is_dropped),
		cmocka_unit_test(test_attach_to_loop),
	};

	return cmocka_run_group_tests_name("udp", tests, NULL, NULL);
}
