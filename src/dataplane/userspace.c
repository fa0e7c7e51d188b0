/* SPDX-License-Identifier: ISC */
/* The userspace dataplane: Child SA tables, ESP-in-UDP (RFC 3948) <-> TUN packet paths. */
#define _GNU_SOURCE /* sendmmsg */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <openssl/rand.h>

#include "ikegw/buf.h"
#include "ikegw/cipher.h"
#include "ikegw/dp_userspace.h"
#include "ikegw/esp.h"
#include "ikegw/log.h"
#include "ikegw/loop.h"
#include "ikegw/suite.h"
#include "ikegw/ts.h"
#include "ikegw/udp.h"

#define US_BUCKETS_MIN 64
/* Ask for a rekey this many packets before the 32-bit sequence number runs out. */
#define US_SEQ_SOFT (UINT32_MAX - (1u << 26))
#define US_SLOT_LEN (ESP_HEADROOM + DP_US_PKT_MAX + ESP_TAILROOM)

enum us_key { US_BY_SPI, US_BY_VIP, US_BY_REQID, US_KEYS };

struct dp_us;

struct us_child {
	struct us_child *next[US_KEYS];
	uint32_t hash[US_KEYS];
	uint64_t gen;           /* add order: the newest pair for a VIP carries its traffic */
	uint32_t reqid;
	struct ip_addr vip;
	struct esp_sa in, out;
	uint8_t n_subnets;
	struct dp_prefix subnets[DP_MAX_SUBNETS];
	struct sockaddr_storage local, peer;
	struct udp_sock *sock;  /* the NAT-T socket for local; NULL without a udp */
	struct dp_counters ctr;
	struct loop_timer soft, hard;
	bool rekey_asked;
	struct dp_us *owner;
};

/* One packet read from TUN, encrypted where it lies, waiting for sendmmsg. */
struct us_slot {
	uint8_t buf[US_SLOT_LEN];
};

struct us_tx {
	struct us_child *c;
	const uint8_t *pkt;
	size_t len;
	int tos;  /* the outer TOS byte: the inner packet's ECN field (RFC 6040 4.1) */
	bool sent;
};

struct dp_us {
	struct dataplane base;
	struct loop *loop;
	struct udp *udp;
	struct log *lg;
	int fd;
	bool fd_watched;
	unsigned ifindex;
	char ifname[IFNAMSIZ];
	struct crypto_suite *suite;
	struct cipher_ctx *cx;
	struct esp_ctx ex;       /* the only user of cx */
	struct us_child **tab[US_KEYS];
	size_t nbuckets; /* power of two, the same for every table */
	size_t n;
	uint64_t seed, next_gen;
	uint64_t now; /* loop clock at the start of a TUN batch */
	struct dp_us_stats stats;
	size_t ntx;
	struct us_tx tx[DP_US_BATCH];
	struct mmsghdr mm[DP_US_BATCH];
	struct iovec iov[DP_US_BATCH];
	union {
		char buf[UDP_SRC_CMSG_SPACE];
		struct cmsghdr align;
	} cmsg[DP_US_BATCH];
	struct us_slot slots[DP_US_BATCH];
	uint8_t rx[UDP_DGRAM_MAX];
};

static struct dp_us *us_of(struct dataplane *dp)
{
	return (struct dp_us *)dp;
}

static const struct dp_us *us_of_c(const struct dataplane *dp)
{
	return (const struct dp_us *)dp;
}

/* ---- hashing ---- */

static uint32_t us_mix(uint64_t x, uint64_t seed)
{
	x ^= seed;
	x *= 0x9e3779b97f4a7c15ull;
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	return (uint32_t)(x >> 32);
}

static uint32_t us_hash_addr(const struct ip_addr *a, uint64_t seed)
{
	uint64_t w[2];

	memcpy(w, a->bytes, sizeof(w));
	return us_mix(w[0] ^ us_mix(w[1] ^ a->family, seed), seed);
}

static bool us_addr_eq(const struct ip_addr *a, const struct ip_addr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

/* ---- the three tables: chained, intrusive, grown by doubling ---- */

static struct us_child **us_bucket(const struct dp_us *u, enum us_key k, uint32_t h)
{
	return &u->tab[k][h & (u->nbuckets - 1)];
}

static void us_link(struct dp_us *u, struct us_child *c, enum us_key k)
{
	struct us_child **b = us_bucket(u, k, c->hash[k]);

	c->next[k] = *b;
	*b = c;
}

static void us_unlink(struct dp_us *u, struct us_child *c, enum us_key k)
{
	struct us_child **pp = us_bucket(u, k, c->hash[k]);

	while (*pp && *pp != c)
		pp = &(*pp)->next[k];
	if (*pp)
		*pp = c->next[k];
}

static int us_tables_alloc(struct dp_us *u, size_t nbuckets)
{
	struct us_child **t[US_KEYS];
	struct us_child **old[US_KEYS];
	size_t old_n = u->nbuckets;
	bool ok = true;

	for (int k = 0; k < US_KEYS; k++)
		ok = (t[k] = calloc(nbuckets, sizeof(*t[k]))) != NULL && ok;
	if (!ok) {
		for (int k = 0; k < US_KEYS; k++)
			free(t[k]);
		return -ENOMEM;
	}
	memcpy(old, u->tab, sizeof(old));
	memcpy(u->tab, t, sizeof(t));
	u->nbuckets = nbuckets;
	/* Walk the reqid chains of the old tables: every child is on exactly one. */
	for (size_t i = 0; old[US_BY_REQID] && i < old_n; i++) {
		for (struct us_child *c = old[US_BY_REQID][i], *nx; c; c = nx) {
			nx = c->next[US_BY_REQID];
			for (int k = 0; k < US_KEYS; k++)
				us_link(u, c, k);
		}
	}
	for (int k = 0; k < US_KEYS; k++)
		free(old[k]);
	return 0;
}

static struct us_child *us_find_reqid(const struct dp_us *u, uint32_t reqid)
{
	struct us_child *c = *us_bucket(u, US_BY_REQID, us_mix(reqid, u->seed));

	while (c && c->reqid != reqid)
		c = c->next[US_BY_REQID];
	return c;
}

static struct us_child *us_find_spi(const struct dp_us *u, uint32_t spi)
{
	struct us_child *c = *us_bucket(u, US_BY_SPI, us_mix(spi, ~u->seed));

	while (c && c->in.spi != spi)
		c = c->next[US_BY_SPI];
	return c;
}

/* The newest pair for the address (a rekeyed pair shadows the old one until deleted). */
static struct us_child *us_find_vip(const struct dp_us *u, const struct ip_addr *a)
{
	struct us_child *best = NULL;

	for (struct us_child *c = *us_bucket(u, US_BY_VIP, us_hash_addr(a, u->seed)); c;
	     c = c->next[US_BY_VIP])
		if (us_addr_eq(&c->vip, a) && (!best || c->gen > best->gen))
			best = c;
	return best;
}

/* ---- prefixes and inner headers ---- */

static bool us_prefix_has(const struct dp_prefix *p, const struct ip_addr *a)
{
	size_t full = p->plen / 8, rem = p->plen % 8, max = a->family == AF_INET ? 32 : 128;
	uint8_t mask;

	if (p->family != a->family || p->plen > max)
		return false;
	if (memcmp(p->addr, a->bytes, full) != 0)
		return false;
	mask = (uint8_t)(0xff00u >> rem);
	return rem == 0 || ((p->addr[full] ^ a->bytes[full]) & mask) == 0;
}

static bool us_subnets_have(const struct us_child *c, const struct ip_addr *a)
{
	for (size_t i = 0; i < c->n_subnets; i++)
		if (us_prefix_has(&c->subnets[i], a))
			return true;
	return false;
}

/* c over best for outbound: heard from the client first, then newer (us_find_out). */
static bool us_better_out(const struct us_child *c, const struct us_child *best)
{
	bool heard = c->ctr.last_in_ms != 0, best_heard = best && best->ctr.last_in_ms != 0;

	if (!best || heard != best_heard)
		return !best || heard;
	return c->gen > best->gen;
}

/*
 * The pair an outbound packet src -> dst leaves by.  RFC 7296 1.3.1: a client may have
 * several Child SAs on its VIP, each for its own subnets, and during a rekey (2.8) two
 * pairs with the same ones, the new one added before the old goes.  So: among the pairs
 * for dst whose subnets hold src, the newest the client has been heard on, else the
 * newest.  A pair we made by answering a rekey is unusable for the client until our
 * answer reaches it, and answers get lost: the client's first packet on it proves it has
 * the keys (strongSwan delays its outbound SA the same way); the old pair carries the
 * traffic until then or until it is deleted.  *vip_pair is the newest pair for dst at
 * all (NULL: nobody has that VIP), so a policy drop can be counted on it.  With one pair
 * per VIP this is the one bucket walk the VIP lookup always was.
 */
static struct us_child *us_find_out(const struct dp_us *u, const struct ip_addr *src,
				    const struct ip_addr *dst, struct us_child **vip_pair)
{
	struct us_child *best = NULL, *any = NULL;

	for (struct us_child *c = *us_bucket(u, US_BY_VIP, us_hash_addr(dst, u->seed)); c;
	     c = c->next[US_BY_VIP]) {
		if (!us_addr_eq(&c->vip, dst))
			continue;
		if (!any || c->gen > any->gen)
			any = c;
		if (us_better_out(c, best) && us_subnets_have(c, src))
			best = c;
	}
	*vip_pair = any;
	return best;
}

/* What the policy checks need from an inner IP header, and its own idea of its length. */
struct us_inner {
	struct ip_addr src, dst;
	size_t len;
};

static int us_inner_v4(struct rbuf *r, uint8_t vihl, struct us_inner *in)
{
	uint16_t tot;

	in->src.family = in->dst.family = AF_INET;
	if (rbuf_skip(r, 2) != 0 || rbuf_u16(r, &tot) != 0 || rbuf_skip(r, 8) != 0 ||
	    rbuf_copy(r, in->src.bytes, 4) != 0 || rbuf_copy(r, in->dst.bytes, 4) != 0)
		return -EMSGSIZE;
	/* RFC 791: total length covers the header (IHL words) and the data. */
	if ((vihl & 0x0f) < 5 || tot < (vihl & 0x0f) * 4u || tot > r->len)
		return -EMSGSIZE;
	in->len = tot;
	return 0;
}

static int us_inner_v6(struct rbuf *r, struct us_inner *in)
{
	uint16_t plen;

	in->src.family = in->dst.family = AF_INET6;
	if (rbuf_skip(r, 4) != 0 || rbuf_u16(r, &plen) != 0 || rbuf_skip(r, 2) != 0 ||
	    rbuf_copy(r, in->src.bytes, 16) != 0 || rbuf_copy(r, in->dst.bytes, 16) != 0)
		return -EMSGSIZE;
	/* RFC 8200 3: payload length after the 40-byte header; 0 (jumbograms) not here. */
	if (plen == 0 || 40u + plen > r->len)
		return -EMSGSIZE;
	in->len = 40u + plen;
	return 0;
}

/*
 * Addresses and length of an inner packet.  The length may be shorter than the buffer:
 * in tunnel mode what follows the inner packet is TFC padding (RFC 4303 2.7).
 */
static int us_inner_parse(const uint8_t *pkt, size_t len, struct us_inner *in)
{
	struct rbuf r;
	uint8_t v;

	memset(in, 0, sizeof(*in));
	rbuf_init(&r, pkt, len);
	if (rbuf_peek_u8(&r, 0, &v) != 0)
		return -EMSGSIZE;
	if (v >> 4 == 4)
		return us_inner_v4(&r, v, in);
	if (v >> 4 == 6)
		return us_inner_v6(&r, in);
	return -EPROTONOSUPPORT;
}

/* ---- expiry ---- */

static void us_expire(struct dp_us *u, uint32_t reqid, enum dp_expire_kind kind)
{
	if (u->base.on_expire)
		u->base.on_expire(u->base.on_expire_arg, reqid, kind);
}

static void us_child_destroy(struct dp_us *u, struct us_child *c)
{
	loop_timer_cancel(u->loop, &c->soft);
	loop_timer_cancel(u->loop, &c->hard);
	esp_sa_wipe(&c->in);
	esp_sa_wipe(&c->out);
	free(c);
}

static void us_child_remove(struct dp_us *u, struct us_child *c)
{
	for (int k = 0; k < US_KEYS; k++)
		us_unlink(u, c, k);
	us_child_destroy(u, c);
	u->n--;
}

static void us_on_soft(struct loop *loop, void *arg)
{
	struct us_child *c = arg;

	(void)loop;
	us_expire(c->owner, c->reqid, DP_EXPIRE_SOFT);
}

/* Like the kernel's XFRM, a hard expiry removes the pair (unless the callback did). */
static void us_on_hard(struct loop *loop, void *arg)
{
	struct us_child *c = arg;
	struct dp_us *u = c->owner;
	uint32_t reqid = c->reqid;

	(void)loop;
	us_expire(u, reqid, DP_EXPIRE_HARD);
	c = us_find_reqid(u, reqid);
	if (c)
		us_child_remove(u, c);
}

static int us_timers_arm(struct dp_us *u, struct us_child *c, const struct dp_child *dc)
{
	int rc = 0;

	if (dc->soft_lifetime_s)
		rc = loop_timer_arm_in(u->loop, &c->soft, dc->soft_lifetime_s * 1000ull);
	if (rc == 0 && dc->hard_lifetime_s)
		rc = loop_timer_arm_in(u->loop, &c->hard, dc->hard_lifetime_s * 1000ull);
	return rc;
}

/* ---- the ops ---- */

static int us_child_fill(struct dp_us *u, struct us_child *c, const struct dp_child *dc)
{
	size_t alen = dc->vip.family == AF_INET ? 4 : 16;
	int rc;

	if ((dc->vip.family != AF_INET && dc->vip.family != AF_INET6) || dc->vip.plen != alen * 8)
		return -EINVAL; /* outbound lookup is by host address */
	if (dc->local.ss_family != dc->peer.ss_family || dc->n_subnets > DP_MAX_SUBNETS)
		return -EINVAL;
	rc = esp_sa_init(&c->in, &dc->in, dc->replay_window);
	if (rc == 0)
		rc = esp_sa_init(&c->out, &dc->out, dc->replay_window);
	if (rc != 0)
		return rc;
	c->reqid = dc->reqid;
	c->vip.family = dc->vip.family;
	memcpy(c->vip.bytes, dc->vip.addr, alen);
	c->n_subnets = dc->n_subnets;
	memcpy(c->subnets, dc->subnets, sizeof(c->subnets));
	c->local = dc->local;
	c->peer = dc->peer;
	/* Always ESP in UDP from the NAT-T socket (RFC 3948), whatever dc->encap says. */
	c->sock = u->udp ? udp_sock_find(u->udp, &c->local, UDP_KIND_NATT) : NULL;
	if (u->udp && !c->sock)
		return -EADDRNOTAVAIL;
	c->owner = u;
	c->gen = ++u->next_gen;
	c->hash[US_BY_SPI] = us_mix(c->in.spi, ~u->seed);
	c->hash[US_BY_VIP] = us_hash_addr(&c->vip, u->seed);
	c->hash[US_BY_REQID] = us_mix(c->reqid, u->seed);
	return 0;
}

static int us_child_add(struct dataplane *dp, const struct dp_child *dc)
{
	struct dp_us *u = us_of(dp);
	struct us_child *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return -ENOMEM;
	loop_timer_init(&c->soft, us_on_soft, c);
	loop_timer_init(&c->hard, us_on_hard, c);
	rc = us_child_fill(u, c, dc);
	if (rc == 0 && (us_find_reqid(u, c->reqid) || us_find_spi(u, c->in.spi)))
		rc = -EEXIST;
	if (rc == 0 && u->n >= u->nbuckets)
		rc = us_tables_alloc(u, u->nbuckets * 2);
	if (rc == 0)
		rc = us_timers_arm(u, c, dc);
	if (rc != 0) {
		us_child_destroy(u, c);
		return rc;
	}
	for (int k = 0; k < US_KEYS; k++)
		us_link(u, c, k);
	u->n++;
	return 0;
}

static int us_child_del(struct dataplane *dp, uint32_t reqid)
{
	struct dp_us *u = us_of(dp);
	struct us_child *c = us_find_reqid(u, reqid);

	if (!c)
		return -ENOENT;
	us_child_remove(u, c);
	return 0;
}

static int us_counters(struct dataplane *dp, uint32_t reqid, struct dp_counters *out)
{
	struct us_child *c = us_find_reqid(us_of(dp), reqid);

	if (!c)
		return -ENOENT;
	*out = c->ctr;
	return 0;
}

static int us_update_peer(struct dataplane *dp, uint32_t reqid,
			  const struct sockaddr_storage *peer)
{
	struct us_child *c = us_find_reqid(us_of(dp), reqid);

	if (!c)
		return -ENOENT;
	if (peer->ss_family != c->local.ss_family)
		return -EAFNOSUPPORT;
	c->peer = *peer;
	return 0;
}

static int us_flush(struct dataplane *dp)
{
	struct dp_us *u = us_of(dp);

	for (size_t i = 0; i < u->nbuckets; i++)
		while (u->tab[US_BY_REQID][i])
			us_child_remove(u, u->tab[US_BY_REQID][i]);
	return 0;
}

static void us_free(struct dataplane *dp)
{
	struct dp_us *u = us_of(dp);

	if (!u)
		return;
	if (u->tab[US_BY_REQID])
		us_flush(dp);
	if (u->udp)
		udp_set_esp_handler(u->udp, NULL, NULL);
	if (u->fd_watched)
		loop_fd_del(u->loop, u->fd);
	if (u->fd >= 0)
		close(u->fd);
	for (int k = 0; k < US_KEYS; k++)
		free(u->tab[k]);
	esp_ctx_wipe(&u->ex);
	cipher_ctx_free(u->cx);
	crypto_suite_free(u->suite);
	free(u);
}

static const struct dataplane_ops us_ops = {
	.name = "userspace",
	.child_add = us_child_add,
	.child_del = us_child_del,
	.counters = us_counters,
	.child_update_peer = us_update_peer,
	.flush = us_flush,
	.free = us_free,
};

/* ---- inbound: ESP from the NAT-T socket to TUN ---- */

static int us_in_drop(struct dp_us *u, struct us_child *c, int rc)
{
	if (rc == -EALREADY)
		c->ctr.replay_drops++;
	else if (rc == -EBADMSG || rc == -EMSGSIZE)
		c->ctr.auth_drops++;
	else if (rc == -ENODATA)
		u->stats.dummy_in++; /* RFC 4303 2.6: dummy packets are dropped silently */
	else
		u->stats.bad_inner++;
	return rc;
}

/* The tunnel's inbound policy: from the client's VIP to somewhere in its TSr. */
static int us_in_policy(struct us_child *c, const uint8_t *pkt, size_t len, uint8_t nh,
			size_t *inner_len)
{
	struct us_inner in;

	if (us_inner_parse(pkt, len, &in) != 0 ||
	    (nh == ESP_NH_IPV4) != (in.src.family == AF_INET))
		return -EPROTO;
	if (!us_addr_eq(&in.src, &c->vip) || !us_subnets_have(c, &in.dst))
		return -EACCES;
	*inner_len = in.len;
	return 0;
}

/* RFC 6040 4.2: the outer ECN field onto the inner header; drop what must be dropped. */
static int us_in_ecn(struct dp_us *u, uint8_t *inner, size_t len, uint8_t outer_tos)
{
	int rc = esp_ecn_decap(inner, len, outer_tos);

	if (rc == -ECANCELED)
		u->stats.ecn_drops++;
	else if (rc != 0)
		u->stats.bad_inner++;
	return rc;
}

int dp_userspace_esp_input(struct dataplane *dp, const uint8_t *pkt, size_t len)
{
	return dp_userspace_esp_input_tos(dp, pkt, len, 0);
}

int dp_userspace_esp_input_tos(struct dataplane *dp, const uint8_t *pkt, size_t len,
			       uint8_t outer_tos)
{
	struct dp_us *u = us_of(dp);
	struct us_child *c;
	size_t plain_len = 0, inner_len = 0;
	uint32_t spi;
	uint8_t nh = 0;
	int rc;

	if (esp_peek_spi(pkt, len, &spi) != 0 || !(c = us_find_spi(u, spi))) {
		u->stats.no_sa_in++;
		return -ENOENT;
	}
	rc = esp_decap(&u->ex, &c->in, pkt, len, u->rx, sizeof(u->rx), &plain_len, &nh);
	/* ICV verified and not a replay (a dummy packet too, RFC 4303 2.6): the peer is
	 * alive, whatever the policy says of the inner packet.  DPD reads this. */
	if (rc == 0 || rc == -ENODATA)
		c->ctr.last_in_ms = loop_now(u->loop);
	if (rc != 0)
		return us_in_drop(u, c, rc);
	rc = us_in_policy(c, u->rx, plain_len, nh, &inner_len);
	if (rc == -EACCES)
		c->ctr.policy_drops++;
	else if (rc != 0)
		u->stats.bad_inner++;
	if (rc == 0)
		rc = us_in_ecn(u, u->rx, inner_len, outer_tos);
	if (rc != 0)
		return rc;
	c->ctr.packets_in++;
	c->ctr.bytes_in += inner_len;
	c->ctr.last_use_ms = loop_now(u->loop);
	if (write(u->fd, u->rx, inner_len) < 0) {
		u->stats.tun_write_errors++;
		return -errno;
	}
	return 0;
}

static void us_on_esp(void *arg, const struct udp_dgram *d, const uint8_t *pkt, size_t len)
{
	dp_userspace_esp_input_tos(arg, pkt, len, d->tos);
}

/* ---- outbound: TUN to ESP on the NAT-T socket ---- */

static void us_mmsg_fill(struct dp_us *u, size_t m, const struct us_tx *t)
{
	u->iov[m] = (struct iovec){ .iov_base = (void *)t->pkt, .iov_len = t->len };
	u->mm[m].msg_len = 0;
	udp_msg_fill(&u->mm[m].msg_hdr, u->cmsg[m].buf, &t->c->local, &t->c->peer, &u->iov[m], 1,
		     t->tos);
}

/* sendmmsg the prepared messages; a failing one is skipped, a full socket drops the rest. */
static void us_sendmmsg(struct dp_us *u, int fd, size_t n)
{
	size_t done = 0;

	while (done < n) {
		int r = sendmmsg(fd, &u->mm[done], (unsigned)(n - done), MSG_DONTWAIT);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
			u->stats.send_errors += n - done;
			return;
		}
		if (r <= 0) {
			u->stats.send_errors++;
			r = 1;
		}
		done += (size_t)r;
	}
}

/* One sendmmsg per socket (two at most in practice: IPv4 and IPv6), order kept. */
static void us_tx_flush(struct dp_us *u)
{
	for (size_t i = 0; i < u->ntx; i++) {
		struct udp_sock *s = u->tx[i].c->sock;
		size_t m = 0;

		if (u->tx[i].sent)
			continue;
		for (size_t j = i; j < u->ntx; j++) {
			if (u->tx[j].sent || u->tx[j].c->sock != s)
				continue;
			us_mmsg_fill(u, m++, &u->tx[j]);
			u->tx[j].sent = true;
		}
		us_sendmmsg(u, s->fd, m);
	}
	u->ntx = 0;
}

/* RFC 4303 3.3.3: ask for a rekey well before the sequence number runs out. */
static void us_seq_check(struct dp_us *u, struct us_child *c)
{
	if (c->out.seq >= US_SEQ_SOFT && !c->rekey_asked) {
		c->rekey_asked = true;
		loop_timer_arm_in(u->loop, &c->soft, 0);
	}
}

/* Encrypt the packet in slot (read at ESP_HEADROOM) and queue it; false when dropped. */
static bool us_output(struct dp_us *u, struct us_slot *slot, size_t len)
{
	const uint8_t *inner = &slot->buf[ESP_HEADROOM];
	struct us_inner in;
	struct us_child *c, *vip_pair;
	size_t off, esp_len = 0;
	int ecn;

	if (us_inner_parse(inner, len, &in) != 0 || in.len != len) {
		u->stats.bad_inner++;
		return false;
	}
	c = us_find_out(u, &in.src, &in.dst, &vip_pair);
	if (!vip_pair) {
		u->stats.no_sa_out++;
		return false;
	}
	if (!c) {
		vip_pair->ctr.policy_drops++; /* no child of this client covers the source */
		return false;
	}
	if (!c->sock) {
		u->stats.no_sa_out++;
		return false;
	}
	ecn = esp_ecn_get(inner, len); /* before it is encrypted */
	/* The header and IV go just before the payload, which is encrypted where it is. */
	off = ESP_HEADROOM - esp_payload_offset(&c->out);
	if (esp_encap(&u->ex, &c->out, inner, len, &slot->buf[off], sizeof(slot->buf) - off,
		      &esp_len) != 0) {
		u->stats.encap_errors++;
		return false;
	}
	c->ctr.packets_out++;
	c->ctr.bytes_out += len;
	c->ctr.last_use_ms = u->now;
	us_seq_check(u, c);
	u->tx[u->ntx++] = (struct us_tx){ .c = c, .pkt = &slot->buf[off], .len = esp_len,
					  .tos = ecn >= 0 ? ecn : UDP_TOS_NONE };
	return true;
}

/* The device is gone or broken: stop watching it rather than spin on its error. */
static void us_tun_failed(struct dp_us *u, int err)
{
	if (!u->fd_watched)
		return;
	log_err(u->lg, NULL, "userspace dataplane: reading %s: %s; outbound traffic stops",
		u->ifname[0] ? u->ifname : "tun", strerror(err));
	loop_fd_del(u->loop, u->fd);
	u->fd_watched = false;
}

size_t dp_userspace_tun_drain(struct dataplane *dp)
{
	struct dp_us *u = us_of(dp);
	size_t n = 0;

	u->ntx = 0;
	u->now = loop_now(u->loop);
	while (n < DP_US_BATCH) {
		struct us_slot *slot = &u->slots[u->ntx];
		ssize_t r = read(u->fd, &slot->buf[ESP_HEADROOM], DP_US_PKT_MAX);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			us_tun_failed(u, errno);
		if (r <= 0)
			break; /* EAGAIN: drained */
		n++;
		u->stats.tun_in++;
		us_output(u, slot, (size_t)r);
	}
	us_tx_flush(u);
	return n;
}

static void us_on_tun(struct loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop;
	(void)fd;
	(void)events;
	dp_userspace_tun_drain(arg);
}

/* ---- the TUN device, its routes, forwarding ---- */

static int us_tun_open(const char *name, char *ifname)
{
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	int fd, rc;

	if (strlen(name) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memcpy(ifr.ifr_name, name, strlen(name) + 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
	ifname[IFNAMSIZ - 1] = '\0';
	return fd;
}

/* MTU, up, ifindex, through the classic interface ioctls. */
static int us_link_up(const char *ifname, unsigned *ifindex)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (s < 0)
		return -errno;
	memcpy(ifr.ifr_name, ifname, IFNAMSIZ);
	ifr.ifr_mtu = DP_US_TUN_MTU;
	if (ioctl(s, SIOCSIFMTU, &ifr) < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		rc = -errno;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (rc == 0 && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		rc = -errno;
	if (rc == 0 && ioctl(s, SIOCGIFINDEX, &ifr) < 0)
		rc = -errno;
	if (rc == 0)
		*ifindex = (unsigned)ifr.ifr_ifindex;
	close(s);
	return rc;
}

static void us_route_msg(struct nlmsghdr *nlh, unsigned ifindex, const struct ip_prefix *p,
			 uint32_t seq)
{
	struct rtmsg *rtm;

	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = p->addr.family;
	rtm->rtm_dst_len = p->len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, p->addr.family == AF_INET ? 4 : 16, p->addr.bytes);
	mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
}

static int us_route_add(struct mnl_socket *nl, unsigned ifindex, const struct ip_prefix *p,
			uint32_t seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	ssize_t n;

	if (p->addr.family != AF_INET && p->addr.family != AF_INET6)
		return -EAFNOSUPPORT;
	us_route_msg(nlh, ifindex, p, seq);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	if (mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl), NULL, NULL) < 0)
		return errno ? -errno : -EIO;
	return 0;
}

static int us_routes_add(struct dp_us *u, const struct ip_prefix *routes, size_t n)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	char text[INET6_ADDRSTRLEN];
	int rc = nl ? 0 : -errno;

	if (rc == 0 && mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		rc = -errno;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = us_route_add(nl, u->ifindex, &routes[i], (uint32_t)i + 1);
		if (rc != 0 && inet_ntop(routes[i].addr.family, routes[i].addr.bytes, text,
					 sizeof(text)))
			log_err(u->lg, NULL, "userspace dataplane: route %s/%u via %s: %s", text,
				routes[i].len, u->ifname, strerror(-rc));
	}
	if (nl)
		mnl_socket_close(nl);
	return rc;
}

/* A gateway forwards between the tunnel and the LAN; a failure is logged, not fatal. */
static void us_ip_forward(struct dp_us *u)
{
	int fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, "1\n", 2) != 2)
		log_warn(u->lg, NULL, "userspace dataplane: cannot set net.ipv4.ip_forward=1: %s",
			 strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* ---- construction ---- */

static struct dp_us *us_alloc(struct loop *loop, struct udp *udp, struct log *lg)
{
	struct dp_us *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->base.ops = &us_ops;
	u->loop = loop;
	u->udp = udp;
	u->lg = lg;
	u->fd = -1;
	u->suite = crypto_suite_new();
	u->cx = u->suite ? cipher_ctx_new(u->suite) : NULL;
	esp_ctx_init(&u->ex, u->cx);
	if (!u->cx || RAND_bytes((uint8_t *)&u->seed, sizeof(u->seed)) != 1 ||
	    us_tables_alloc(u, US_BUCKETS_MIN) != 0) {
		us_free(&u->base);
		return NULL;
	}
	return u;
}

/* Watch the fd and take the ESP from udp: the last step, so free undoes it. */
static int us_attach(struct dp_us *u)
{
	int rc = loop_fd_add(u->loop, u->fd, EPOLLIN, us_on_tun, u);

	if (rc != 0)
		return rc;
	u->fd_watched = true;
	if (u->udp)
		udp_set_esp_handler(u->udp, us_on_esp, u);
	return 0;
}

struct dataplane *dp_userspace_new_fd(struct loop *loop, struct udp *udp, int fd,
				      struct log *lg)
{
	struct dp_us *u = loop ? us_alloc(loop, udp, lg) : NULL;

	if (!u) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	u->fd = fd;
	if (fd < 0 || us_attach(u) != 0) {
		us_free(&u->base);
		return NULL;
	}
	return &u->base;
}

struct dataplane *dp_userspace_new(struct loop *loop, struct udp *udp, const char *tun_name,
				   const struct ip_prefix *routes, size_t n_routes,
				   struct log *lg)
{
	struct dp_us *u = loop ? us_alloc(loop, udp, lg) : NULL;
	const char *name = tun_name ? tun_name : DP_US_TUN_DEFAULT;
	int rc = u ? 0 : -ENOMEM;

	if (rc == 0) {
		u->fd = us_tun_open(name, u->ifname);
		rc = u->fd < 0 ? u->fd : 0;
	}
	if (rc == 0 && (rc = us_link_up(u->ifname, &u->ifindex)) != 0)
		log_err(lg, NULL, "userspace dataplane: bringing %s up: %s", u->ifname,
			strerror(-rc));
	if (rc == 0)
		rc = us_routes_add(u, routes, n_routes);
	if (rc == 0)
		us_ip_forward(u);
	if (rc == 0)
		rc = us_attach(u);
	if (rc != 0) {
		log_err(lg, NULL, "userspace dataplane on %s: %s", name, strerror(-rc));
		us_free(u ? &u->base : NULL);
		return NULL;
	}
	log_info(lg, NULL, "userspace dataplane: %s (ifindex %u, mtu %d), %zu route(s)",
		 u->ifname, u->ifindex, DP_US_TUN_MTU, n_routes);
	return &u->base;
}

/* ---- queries ---- */

unsigned dp_userspace_ifindex(const struct dataplane *dp)
{
	return us_of_c(dp)->ifindex;
}

const char *dp_userspace_ifname(const struct dataplane *dp)
{
	return us_of_c(dp)->ifname;
}

/* A caller's address with the bytes past its family's length cleared, as the tables keep it. */
static void us_addr_key(struct ip_addr *key, const struct ip_addr *a)
{
	*key = (struct ip_addr){ .family = a->family };
	memcpy(key->bytes, a->bytes, a->family == AF_INET ? 4 : 16);
}

int dp_userspace_find_spi(const struct dataplane *dp, uint32_t spi, uint32_t *reqid)
{
	const struct us_child *c = us_find_spi(us_of_c(dp), spi);

	if (!c)
		return -ENOENT;
	*reqid = c->reqid;
	return 0;
}

int dp_userspace_find_vip(const struct dataplane *dp, const struct ip_addr *vip,
			  uint32_t *reqid)
{
	struct ip_addr key;
	const struct us_child *c;

	us_addr_key(&key, vip);
	c = us_find_vip(us_of_c(dp), &key);
	if (!c)
		return -ENOENT;
	*reqid = c->reqid;
	return 0;
}

int dp_userspace_find_out(const struct dataplane *dp, const struct ip_addr *src,
			  const struct ip_addr *dst, uint32_t *reqid)
{
	struct ip_addr s, d;
	struct us_child *c, *vip_pair;

	us_addr_key(&s, src);
	us_addr_key(&d, dst);
	c = us_find_out(us_of_c(dp), &s, &d, &vip_pair);
	if (!c)
		return vip_pair ? -EACCES : -ENOENT;
	*reqid = c->reqid;
	return 0;
}

size_t dp_userspace_count(const struct dataplane *dp)
{
	return us_of_c(dp)->n;
}

const struct dp_us_stats *dp_userspace_stats(const struct dataplane *dp)
{
	return &us_of_c(dp)->stats;
}
