/* SPDX-License-Identifier: ISC */
/*
 * The userspace dataplane without a TUN device: a SOCK_DGRAM socketpair stands in for
 * it (one packet per read/write, like TUN), a fake clock drives lifetimes, and outbound
 * ESP goes over real loopback UDP sockets to a socket playing the client.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "ikegw/dp_userspace.h"
#include "ikegw/esp.h"
#include "ikegw/ikev2.h"
#include "ikegw/loop.h"
#include "ikegw/ts.h"
#include "ikegw/udp.h"

struct fix {
	uint64_t now;
	struct loop *loop;
	struct dataplane *dp;
	int tun;                 /* our end of the socketpair: the "kernel" side of TUN */
	struct crypto_suite *suite;
	struct cipher_ctx *cx;
	struct esp_ctx ex;
	uint32_t expired[4];
	enum dp_expire_kind kinds[4];
	size_t n_expired;
};

static uint64_t fake_now(void *ctx)
{
	return ((struct fix *)ctx)->now;
}

static void on_expire(void *arg, uint32_t reqid, enum dp_expire_kind kind)
{
	struct fix *f = arg;

	if (f->n_expired < 4) {
		f->expired[f->n_expired] = reqid;
		f->kinds[f->n_expired++] = kind;
	}
}

static int fix_open(struct fix *f, struct udp *udp)
{
	struct loop_clock clk = { .now_ms = fake_now, .ctx = f };
	int sv[2];

	f->now = 1000;
	f->loop = loop_new(&clk);
	if (!f->loop || socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv) != 0)
		return -1;
	f->tun = sv[0];
	f->dp = dp_userspace_new_fd(f->loop, udp, sv[1], NULL);
	f->suite = crypto_suite_new();
	f->cx = f->suite ? cipher_ctx_new(f->suite) : NULL;
	if (!f->dp || !f->cx)
		return -1;
	esp_ctx_init(&f->ex, f->cx);
	f->dp->on_expire = on_expire;
	f->dp->on_expire_arg = f;
	return 0;
}

static int setup(void **state)
{
	static struct fix f;

	memset(&f, 0, sizeof(f));
	*state = &f;
	return fix_open(&f, NULL);
}

static int teardown(void **state)
{
	struct fix *f = *state;

	if (f->dp)
		f->dp->ops->free(f->dp);
	close(f->tun);
	cipher_ctx_free(f->cx);
	crypto_suite_free(f->suite);
	loop_free(f->loop);
	return 0;
}

static void v4(uint8_t *b, uint32_t a)
{
	b[0] = (uint8_t)(a >> 24), b[1] = (uint8_t)(a >> 16), b[2] = (uint8_t)(a >> 8);
	b[3] = (uint8_t)a;
}

static void dir_keys(struct dp_sa *d, uint32_t spi, uint8_t k)
{
	d->spi = spi;
	d->encr_id = IKEV2_ENCR_AES_GCM_16;
	d->encr_keylen = 256;
	d->integ_id = IKEV2_INTEG_NONE;
	d->enc_key_len = 36;
	memset(d->enc_key, k, 36);
}

/* Client i: VIP 10.(i>>8).(i&255).1... spread over 10.0.0.0/8; may reach 192.0.2.0/24. */
static uint32_t vip_of(uint32_t i)
{
	return 0x0a000000u | (i + 1);
}

static void child_make(struct dp_child *c, uint32_t i)
{
	struct sockaddr_in *l = (struct sockaddr_in *)&c->local;
	struct sockaddr_in *p = (struct sockaddr_in *)&c->peer;

	memset(c, 0, sizeof(*c));
	c->reqid = 100 + i;
	l->sin_family = p->sin_family = AF_INET;
	l->sin_addr.s_addr = htonl(0x7f000001);
	p->sin_addr.s_addr = htonl(0x7f000001);
	l->sin_port = htons(4500);
	p->sin_port = htons(4500);
	c->encap = true;
	dir_keys(&c->in, 0xc0000000u + i, 0x11);
	dir_keys(&c->out, 0xd0000000u + i, 0x22);
	c->vip.family = AF_INET;
	c->vip.plen = 32;
	v4(c->vip.addr, vip_of(i));
	c->n_subnets = 1;
	c->subnets[0].family = AF_INET;
	c->subnets[0].plen = 24;
	v4(c->subnets[0].addr, 0xc0000200u);
	c->replay_window = 128;
}

static struct ip_addr addr4(uint32_t a)
{
	struct ip_addr x = { .family = AF_INET };

	v4(x.bytes, a);
	return x;
}

static void test_tables(void **state)
{
	struct fix *f = *state;
	const struct dataplane_ops *ops = f->dp->ops;
	struct dp_child c;
	struct ip_addr a;
	uint32_t reqid;
	const uint32_t n = 10000;

	for (uint32_t i = 0; i < n; i++) {
		child_make(&c, i);
		assert_int_equal(ops->child_add(f->dp, &c), 0);
	}
	assert_int_equal(dp_userspace_count(f->dp), n);
	child_make(&c, 7);
	assert_int_equal(ops->child_add(f->dp, &c), -EEXIST); /* same reqid */
	c.reqid = 999999;
	assert_int_equal(ops->child_add(f->dp, &c), -EEXIST); /* same inbound SPI */
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(dp_userspace_find_spi(f->dp, 0xc0000000u + i, &reqid), 0);
		assert_int_equal(reqid, 100 + i);
		a = addr4(vip_of(i));
		assert_int_equal(dp_userspace_find_vip(f->dp, &a, &reqid), 0);
		assert_int_equal(reqid, 100 + i);
	}
	for (uint32_t i = 1; i < n; i += 2)
		assert_int_equal(ops->child_del(f->dp, 100 + i), 0);
	assert_int_equal(ops->child_del(f->dp, 101), -ENOENT);
	assert_int_equal(dp_userspace_count(f->dp), n / 2);
	for (uint32_t i = 0; i < n; i++) {
		int want = i % 2 ? -ENOENT : 0;
		struct dp_counters ctr;

		a = addr4(vip_of(i));
		assert_int_equal(dp_userspace_find_spi(f->dp, 0xc0000000u + i, &reqid), want);
		assert_int_equal(dp_userspace_find_vip(f->dp, &a, &reqid), want);
		assert_int_equal(ops->counters(f->dp, 100 + i, &ctr), want);
	}
	assert_int_equal(dp_userspace_find_spi(f->dp, 0xdeadbeef, &reqid), -ENOENT);
	assert_int_equal(ops->flush(f->dp), 0);
	assert_int_equal(dp_userspace_count(f->dp), 0);
	assert_int_equal(dp_userspace_find_spi(f->dp, 0xc0000000u, &reqid), -ENOENT);
	assert_int_equal(loop_timer_count(f->loop), 0);
}

/* A rekeyed pair for the same VIP takes over at once; the old one is still found by SPI. */
static void test_rekey_shadow(void **state)
{
	struct fix *f = *state;
	const struct dataplane_ops *ops = f->dp->ops;
	struct dp_child c;
	struct ip_addr a = addr4(vip_of(5));
	uint32_t reqid;

	child_make(&c, 5);
	assert_int_equal(ops->child_add(f->dp, &c), 0);
	c.reqid = 900;
	c.in.spi = 0xe0000001;
	assert_int_equal(ops->child_add(f->dp, &c), 0);
	assert_int_equal(dp_userspace_find_vip(f->dp, &a, &reqid), 0);
	assert_int_equal(reqid, 900);
	assert_int_equal(dp_userspace_find_spi(f->dp, 0xc0000005u, &reqid), 0);
	assert_int_equal(reqid, 105);
	assert_int_equal(ops->child_del(f->dp, 105), 0);
	assert_int_equal(dp_userspace_find_vip(f->dp, &a, &reqid), 0);
	assert_int_equal(reqid, 900);
	child_make(&c, 5);
	assert_int_equal(ops->child_add(f->dp, &c), 0);
	assert_int_equal(ops->child_del(f->dp, 105), 0);
	assert_int_equal(dp_userspace_find_vip(f->dp, &a, &reqid), 0);
	assert_int_equal(reqid, 900);
}

/* Another Child SA on client i's VIP (RFC 7296 1.3.1): its own reqid, SPIs and subnet. */
static void child_more(struct dp_child *c, uint32_t i, uint32_t reqid, uint32_t subnet)
{
	child_make(c, i);
	c->reqid = reqid;
	c->in.spi = 0xe0000000u + reqid;
	c->out.spi = 0xf0000000u + reqid;
	v4(c->subnets[0].addr, subnet);
}

static int out_reqid(struct fix *f, uint32_t src, uint32_t dst, uint32_t *reqid)
{
	struct ip_addr s = addr4(src), d = addr4(dst);

	return dp_userspace_find_out(f->dp, &s, &d, reqid);
}

/* A rekey overlap prefers the newer pair; deleting either leaves the rest working. */
static void test_rekey_overlap(void **state)
{
	struct fix *f = *state;
	const struct dataplane_ops *ops = f->dp->ops;
	struct dp_child c;
	uint32_t reqid;

	child_make(&c, 1); /* reqid 101, 192.0.2.0/24 */
	assert_int_equal(ops->child_add(f->dp, &c), 0);
	child_more(&c, 1, 900, 0xc0000200u); /* its rekey: same VIP, same subnets */
	assert_int_equal(ops->child_add(f->dp, &c), 0);
	child_more(&c, 1, 950, 0xc6336400u); /* an additional child: 198.51.100.0/24 */
	assert_int_equal(ops->child_add(f->dp, &c), 0);
	assert_int_equal(out_reqid(f, 0xc0000207, vip_of(1), &reqid), 0);
	assert_int_equal(reqid, 900);
	assert_int_equal(out_reqid(f, 0xc6336407, vip_of(1), &reqid), 0);
	assert_int_equal(reqid, 950);
	assert_int_equal(out_reqid(f, 0x08080808, vip_of(1), &reqid), -EACCES);
	assert_int_equal(out_reqid(f, 0xc0000207, vip_of(2), &reqid), -ENOENT);
	/* the new pair goes first (its rekey failed): the old one carries the traffic again */
	assert_int_equal(ops->child_del(f->dp, 900), 0);
	assert_int_equal(out_reqid(f, 0xc0000207, vip_of(1), &reqid), 0);
	assert_int_equal(reqid, 101);
	assert_int_equal(ops->child_del(f->dp, 101), 0);
	assert_int_equal(out_reqid(f, 0xc0000207, vip_of(1), &reqid), -EACCES);
	assert_int_equal(out_reqid(f, 0xc6336407, vip_of(1), &reqid), 0);
	assert_int_equal(reqid, 950);
	assert_int_equal(ops->child_del(f->dp, 950), 0);
	assert_int_equal(out_reqid(f, 0xc6336407, vip_of(1), &reqid), -ENOENT);
}

static void test_add_refused(void **state)
{
	struct fix *f = *state;
	const struct dataplane_ops *ops = f->dp->ops;
	struct dp_child c;

	child_make(&c, 1);
	c.vip.plen = 24; /* not a host: outbound lookup is by address */
	assert_int_equal(ops->child_add(f->dp, &c), -EINVAL);
	child_make(&c, 1);
	c.out.esn = true;
	assert_int_equal(ops->child_add(f->dp, &c), -ENOTSUP);
	child_make(&c, 1);
	c.in.enc_key_len = 3;
	assert_int_equal(ops->child_add(f->dp, &c), -EINVAL);
	assert_int_equal(dp_userspace_count(f->dp), 0);
	assert_int_equal(loop_timer_count(f->loop), 0);
}

/* An IPv4 packet src -> dst of len bytes (header checksum left zero: not checked here). */
static void ip4_make(uint8_t *p, size_t len, uint32_t src, uint32_t dst)
{
	memset(p, 0xab, len);
	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = 17;
	v4(p + 12, src);
	v4(p + 16, dst);
}

/* The client's side of pair i: its outbound is our inbound. */
static void client_sa(const struct dp_child *c, struct esp_sa *tx, struct esp_sa *rx)
{
	assert_int_equal(esp_sa_init(tx, &c->in, 128), 0);
	assert_int_equal(esp_sa_init(rx, &c->out, 128), 0);
}

/* Pair i added, and the client's side of it. */
static void child_up(struct fix *f, uint32_t i, struct dp_child *c, struct esp_sa *tx,
		     struct esp_sa *rx)
{
	child_make(c, i);
	assert_int_equal(f->dp->ops->child_add(f->dp, c), 0);
	client_sa(c, tx, rx);
}

static int inject(struct fix *f, struct esp_sa *tx, const uint8_t *inner, size_t len)
{
	uint8_t pkt[2048];
	size_t n;

	assert_int_equal(esp_encap(&f->ex, tx, inner, len, pkt, sizeof(pkt), &n), 0);
	return dp_userspace_esp_input(f->dp, pkt, n);
}

static void test_inbound(void **state)
{
	struct fix *f = *state;
	struct dp_child c;
	struct dp_counters ctr;
	struct esp_sa tx, rx;
	uint8_t inner[100], got[256], pkt[2048];
	size_t n;

	child_up(f, 3, &c, &tx, &rx);
	ip4_make(inner, sizeof(inner), vip_of(3), 0xc0000205);
	f->now = 5000;
	assert_int_equal(inject(f, &tx, inner, sizeof(inner)), 0);
	assert_int_equal(read(f->tun, got, sizeof(got)), sizeof(inner));
	assert_memory_equal(got, inner, sizeof(inner));
	/* source not the client's VIP: dropped and counted */
	ip4_make(inner, sizeof(inner), vip_of(4), 0xc0000205);
	assert_int_equal(inject(f, &tx, inner, sizeof(inner)), -EACCES);
	/* destination outside what the client may reach */
	ip4_make(inner, sizeof(inner), vip_of(3), 0xc0000305);
	assert_int_equal(inject(f, &tx, inner, sizeof(inner)), -EACCES);
	/* replay and forgery */
	ip4_make(inner, sizeof(inner), vip_of(3), 0xc0000205);
	assert_int_equal(esp_encap(&f->ex, &tx, inner, sizeof(inner), pkt, sizeof(pkt), &n), 0);
	assert_int_equal(dp_userspace_esp_input(f->dp, pkt, n), 0);
	assert_int_equal(dp_userspace_esp_input(f->dp, pkt, n), -EALREADY);
	assert_int_equal(esp_encap(&f->ex, &tx, inner, sizeof(inner), pkt, sizeof(pkt), &n), 0);
	pkt[n - 3] ^= 4;
	assert_int_equal(dp_userspace_esp_input(f->dp, pkt, n), -EBADMSG);
	pkt[0] ^= 0x80;
	assert_int_equal(dp_userspace_esp_input(f->dp, pkt, n), -ENOENT);
	assert_int_equal(dp_userspace_esp_input(f->dp, pkt, 3), -ENOENT);
	assert_int_equal(f->dp->ops->counters(f->dp, c.reqid, &ctr), 0);
	assert_int_equal(ctr.packets_in, 2);
	assert_int_equal(ctr.bytes_in, 2 * sizeof(inner));
	assert_int_equal(ctr.policy_drops, 2);
	assert_int_equal(ctr.replay_drops, 1);
	assert_int_equal(ctr.auth_drops, 1);
	assert_int_equal(ctr.last_use_ms, 5000);
	assert_int_equal(dp_userspace_stats(f->dp)->no_sa_in, 2);
	assert_int_equal(read(f->tun, got, sizeof(got)), sizeof(inner));
	assert_int_equal(read(f->tun, got, sizeof(got)), -1);
}

/* last_in_ms: authentic, fresh inbound packets only (DPD's sign of life). */
/* RFC 7296 2.8: a pair we made by answering the client's rekey carries our traffic only
 * once the client has been heard on it (our answer may have been lost); until then the
 * pair the client is heard on does, and with nothing heard anywhere the newest. */
static void test_out_waits_for_client(void **state)
{
	struct fix *f = *state;
	const struct dataplane_ops *ops = f->dp->ops;
	struct dp_child c, fresh;
	struct esp_sa tx, rx, ftx, frx;
	uint8_t inner[80], got[256];
	uint32_t reqid;

	child_up(f, 9, &c, &tx, &rx);
	ip4_make(inner, sizeof(inner), vip_of(9), 0xc0000201);
	f->now = 1000;
	assert_int_equal(inject(f, &tx, inner, sizeof(inner)), 0); /* the old pair is in use */
	assert_int_equal(read(f->tun, got, sizeof(got)), sizeof(inner));
	child_more(&fresh, 9, 909, 0xc0000200u); /* the rekey we answered */
	assert_int_equal(ops->child_add(f->dp, &fresh), 0);
	client_sa(&fresh, &ftx, &frx);
	assert_int_equal(out_reqid(f, 0xc0000207, vip_of(9), &reqid), 0);
	assert_int_equal(reqid, c.reqid);
	f->now = 2000;
	assert_int_equal(inject(f, &ftx, inner, sizeof(inner)), 0); /* the client has it */
	assert_int_equal(read(f->tun, got, sizeof(got)), sizeof(inner));
	assert_int_equal(out_reqid(f, 0xc0000207, vip_of(9), &reqid), 0);
	assert_int_equal(reqid, 909);
	/* the old pair goes, the new one stays */
	assert_int_equal(ops->child_del(f->dp, c.reqid), 0);
	assert_int_equal(out_reqid(f, 0xc0000207, vip_of(9), &reqid), 0);
	assert_int_equal(reqid, 909);
}

static void test_last_in(void **state)
{
	struct fix *f = *state;
	struct dp_child c;
	struct dp_counters ctr;
	struct esp_sa tx, rx;
	uint8_t inner[80], got[256], pkt[2048];
	size_t n;

	child_up(f, 8, &c, &tx, &rx);
	assert_int_equal(f->dp->ops->counters(f->dp, c.reqid, &ctr), 0);
	assert_int_equal(ctr.last_in_ms, 0);
	ip4_make(inner, sizeof(inner), vip_of(8), 0xc0000201);
	f->now = 7000;
	assert_int_equal(esp_encap(&f->ex, &tx, inner, sizeof(inner), pkt, sizeof(pkt), &n), 0);
	assert_int_equal(dp_userspace_esp_input(f->dp, pkt, n), 0);
	assert_int_equal(read(f->tun, got, sizeof(got)), sizeof(inner));
	/* a replay and a forgery later on prove nothing about the peer */
	f->now = 8000;
	assert_int_equal(dp_userspace_esp_input(f->dp, pkt, n), -EALREADY);
	assert_int_equal(esp_encap(&f->ex, &tx, inner, sizeof(inner), pkt, sizeof(pkt), &n), 0);
	pkt[n - 1] ^= 1;
	assert_int_equal(dp_userspace_esp_input(f->dp, pkt, n), -EBADMSG);
	assert_int_equal(f->dp->ops->counters(f->dp, c.reqid, &ctr), 0);
	assert_int_equal(ctr.last_in_ms, 7000);
	assert_int_equal(ctr.last_use_ms, 7000);
	/* authentic but against the policy: alive, yet no traffic for the idle timer */
	f->now = 9000;
	ip4_make(inner, sizeof(inner), vip_of(8), 0x08080808);
	assert_int_equal(inject(f, &tx, inner, sizeof(inner)), -EACCES);
	assert_int_equal(f->dp->ops->counters(f->dp, c.reqid, &ctr), 0);
	assert_int_equal(ctr.last_in_ms, 9000);
	assert_int_equal(ctr.last_use_ms, 7000);
}

/* RFC 4303 2.7: TFC padding after the inner packet is not written to TUN. */
static void test_inbound_tfc(void **state)
{
	struct fix *f = *state;
	struct dp_child c;
	struct esp_sa tx, rx;
	uint8_t inner[120], got[256];

	child_up(f, 9, &c, &tx, &rx);
	ip4_make(inner, 80, vip_of(9), 0xc0000201);
	memset(inner + 80, 0xee, 40);
	assert_int_equal(inject(f, &tx, inner, sizeof(inner)), 0);
	assert_int_equal(read(f->tun, got, sizeof(got)), 80);
	/* an IPv4 header that claims more than there is */
	ip4_make(inner, sizeof(inner), vip_of(9), 0xc0000201);
	inner[2] = 0x10;
	assert_int_equal(inject(f, &tx, inner, sizeof(inner)), -EPROTO);
	assert_int_equal(dp_userspace_stats(f->dp)->bad_inner, 1);
}

static void test_lifetimes(void **state)
{
	struct fix *f = *state;
	struct dp_child c;

	child_make(&c, 2);
	c.soft_lifetime_s = 10;
	c.hard_lifetime_s = 20;
	assert_int_equal(f->dp->ops->child_add(f->dp, &c), 0);
	f->now += 9999;
	loop_run_timers(f->loop);
	assert_int_equal(f->n_expired, 0);
	f->now += 1;
	loop_run_timers(f->loop);
	assert_int_equal(f->n_expired, 1);
	assert_int_equal(f->expired[0], c.reqid);
	assert_int_equal(f->kinds[0], DP_EXPIRE_SOFT);
	f->now += 10000;
	loop_run_timers(f->loop);
	assert_int_equal(f->n_expired, 2);
	assert_int_equal(f->kinds[1], DP_EXPIRE_HARD);
	assert_int_equal(dp_userspace_count(f->dp), 0);
	assert_int_equal(loop_timer_count(f->loop), 0);
}

/* ---- outbound over loopback UDP ---- */

struct out_fix {
	struct fix f;
	struct udp *udp;
	int client;                      /* plays the client's NAT-T socket */
	struct sockaddr_storage client_addr, gw_addr;
};

static int setup_out(void **state)
{
	static struct out_fix o;
	const char *addrs[] = { "127.0.0.1" };
	struct sockaddr_in *sin = (struct sockaddr_in *)&o.client_addr;
	socklen_t sl = sizeof(o.client_addr);

	memset(&o, 0, sizeof(o));
	*state = &o;
	if (udp_open(&o.udp, addrs, 1, 0, 0) != 0)
		return -1;
	o.gw_addr = udp_sock_get(o.udp, 1)->bound;
	o.client = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(0x7f000001);
	if (o.client < 0 || bind(o.client, (struct sockaddr *)sin, sizeof(*sin)) != 0 ||
	    getsockname(o.client, (struct sockaddr *)&o.client_addr, &sl) != 0)
		return -1;
	return fix_open(&o.f, o.udp);
}

static int teardown_out(void **state)
{
	struct out_fix *o = *state;
	struct fix *f = &o->f;

	/* the dataplane lets go of udp, and udp of the loop, before the loop goes */
	if (f->dp)
		f->dp->ops->free(f->dp);
	f->dp = NULL;
	udp_free(o->udp);
	close(o->client);
	return teardown((void **)&f);
}

static void test_outbound(void **state)
{
	struct out_fix *o = *state;
	struct fix *f = &o->f;
	struct dp_child c;
	struct dp_counters ctr;
	struct esp_sa tx, rx;
	uint8_t inner[300], pkt[2048], plain[2048];
	size_t il;
	uint8_t nh;
	ssize_t n;
	const size_t count = 100;

	child_make(&c, 1);
	c.local = o->gw_addr;
	c.peer = o->client_addr;
	assert_int_equal(f->dp->ops->child_add(f->dp, &c), 0);
	client_sa(&c, &tx, &rx);
	for (size_t i = 0; i < count; i++) {
		ip4_make(inner, 40 + i, 0xc0000207, vip_of(1));
		assert_int_equal(write(f->tun, inner, 40 + i), (ssize_t)(40 + i));
	}
	/* one packet for nobody, one from outside the subnets */
	ip4_make(inner, 60, 0xc0000207, vip_of(77));
	assert_int_equal(write(f->tun, inner, 60), 60);
	ip4_make(inner, 60, 0x08080808, vip_of(1));
	assert_int_equal(write(f->tun, inner, 60), 60);
	assert_int_equal(dp_userspace_tun_drain(f->dp), DP_US_BATCH);
	assert_int_equal(dp_userspace_tun_drain(f->dp), count + 2 - DP_US_BATCH);
	assert_int_equal(dp_userspace_tun_drain(f->dp), 0);
	for (size_t i = 0; i < count; i++) {
		n = recv(o->client, pkt, sizeof(pkt), 0);
		assert_true(n > 0);
		assert_int_equal(esp_decap(&f->ex, &rx, pkt, (size_t)n, plain, sizeof(plain), &il,
					   &nh), 0);
		assert_int_equal(il, 40 + i);
		ip4_make(inner, 40 + i, 0xc0000207, vip_of(1));
		assert_memory_equal(plain, inner, il);
	}
	assert_int_equal(recv(o->client, pkt, sizeof(pkt), 0), -1);
	assert_int_equal(f->dp->ops->counters(f->dp, c.reqid, &ctr), 0);
	assert_int_equal(ctr.packets_out, count);
	assert_int_equal(ctr.policy_drops, 1);
	assert_int_equal(dp_userspace_stats(f->dp)->no_sa_out, 1);
	assert_int_equal(dp_userspace_stats(f->dp)->send_errors, 0);
}

/* The outbound SPI of the next datagram the client gets (0 when none waits). */
static uint32_t client_spi(struct out_fix *o)
{
	uint8_t pkt[2048];
	ssize_t n = recv(o->client, pkt, sizeof(pkt), 0);
	uint32_t spi = 0;

	if (n > 0)
		assert_int_equal(esp_peek_spi(pkt, (size_t)n, &spi), 0);
	return spi;
}

static void tun_send(struct fix *f, uint32_t src, uint32_t dst)
{
	uint8_t inner[60];

	ip4_make(inner, sizeof(inner), src, dst);
	assert_int_equal(write(f->tun, inner, sizeof(inner)), sizeof(inner));
}

/* Two children on one VIP with different subnets: each packet takes its own child. */
static void test_children_subnets(void **state)
{
	struct out_fix *o = *state;
	struct fix *f = &o->f;
	const struct dataplane_ops *ops = f->dp->ops;
	struct dp_child a, b;
	struct dp_counters ca, cb;
	struct esp_sa tx, rx;
	uint8_t inner[60];

	child_make(&a, 1);
	child_more(&b, 1, 500, 0xc6336400u);
	a.local = b.local = o->gw_addr;
	a.peer = b.peer = o->client_addr;
	assert_int_equal(ops->child_add(f->dp, &a), 0);
	assert_int_equal(ops->child_add(f->dp, &b), 0);
	tun_send(f, 0xc0000207, vip_of(1));  /* 192.0.2.7: a's */
	tun_send(f, 0xc6336409, vip_of(1));  /* 198.51.100.9: b's */
	tun_send(f, 0x08080808, vip_of(1));  /* neither's */
	assert_int_equal(dp_userspace_tun_drain(f->dp), 3);
	assert_int_equal(client_spi(o), a.out.spi);
	assert_int_equal(client_spi(o), b.out.spi);
	assert_int_equal(client_spi(o), 0);
	assert_int_equal(ops->counters(f->dp, a.reqid, &ca), 0);
	assert_int_equal(ops->counters(f->dp, b.reqid, &cb), 0);
	assert_true(ca.packets_out == 1 && cb.packets_out == 1);
	assert_true(ca.policy_drops == 0 && cb.policy_drops == 1); /* on the newest */
	assert_int_equal(dp_userspace_stats(f->dp)->no_sa_out, 0);
	/* inbound stays per SA: b's SA may only reach b's subnet */
	client_sa(&b, &tx, &rx);
	ip4_make(inner, sizeof(inner), vip_of(1), 0xc0000205);
	assert_int_equal(inject(f, &tx, inner, sizeof(inner)), -EACCES);
	ip4_make(inner, sizeof(inner), vip_of(1), 0xc6336405);
	assert_int_equal(inject(f, &tx, inner, sizeof(inner)), 0);
	/* deleting b keeps a working; b's sources are now nobody's */
	assert_int_equal(ops->child_del(f->dp, b.reqid), 0);
	tun_send(f, 0xc0000207, vip_of(1));
	tun_send(f, 0xc6336409, vip_of(1));
	assert_int_equal(dp_userspace_tun_drain(f->dp), 2);
	assert_int_equal(client_spi(o), a.out.spi);
	assert_int_equal(client_spi(o), 0);
	assert_int_equal(ops->counters(f->dp, a.reqid, &ca), 0);
	assert_true(ca.packets_out == 2 && ca.policy_drops == 1);
}

/* NAT rebinding / MOBIKE: after child_update_peer, ESP goes to the new address. */
static void test_update_peer(void **state)
{
	struct out_fix *o = *state;
	struct fix *f = &o->f;
	const struct dataplane_ops *ops = f->dp->ops;
	struct sockaddr_storage moved = o->client_addr, v6 = { .ss_family = AF_INET6 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&moved;
	socklen_t sl = sizeof(moved);
	struct dp_child c;
	uint8_t inner[60], pkt[256];
	int s2 = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	assert_true(s2 >= 0);
	sin->sin_port = 0;
	assert_int_equal(bind(s2, (struct sockaddr *)sin, sizeof(*sin)), 0);
	assert_int_equal(getsockname(s2, (struct sockaddr *)&moved, &sl), 0);
	child_make(&c, 6);
	c.local = o->gw_addr;
	c.peer = o->client_addr;
	assert_int_equal(ops->child_add(f->dp, &c), 0);
	assert_int_equal(ops->child_update_peer(f->dp, 4242, &moved), -ENOENT);
	assert_int_equal(ops->child_update_peer(f->dp, c.reqid, &v6), -EAFNOSUPPORT);
	assert_int_equal(ops->child_update_peer(f->dp, c.reqid, &moved), 0);
	ip4_make(inner, sizeof(inner), 0xc0000207, vip_of(6));
	assert_int_equal(write(f->tun, inner, sizeof(inner)), sizeof(inner));
	assert_int_equal(dp_userspace_tun_drain(f->dp), 1);
	assert_true(recv(s2, pkt, sizeof(pkt), 0) > 0);
	assert_int_equal(recv(o->client, pkt, sizeof(pkt), 0), -1);
	close(s2);
}

/* The ESP handler is wired: a datagram to the NAT-T socket reaches TUN through the loop. */
static void test_via_udp(void **state)
{
	struct out_fix *o = *state;
	struct fix *f = &o->f;
	struct dp_child c;
	struct esp_sa tx, rx;
	uint8_t inner[64], pkt[256], got[256];
	size_t n;

	assert_int_equal(udp_attach(o->udp, f->loop), 0);
	child_make(&c, 4);
	c.local = o->gw_addr;
	c.peer = o->client_addr;
	assert_int_equal(f->dp->ops->child_add(f->dp, &c), 0);
	client_sa(&c, &tx, &rx);
	ip4_make(inner, sizeof(inner), vip_of(4), 0xc0000201);
	assert_int_equal(esp_encap(&f->ex, &tx, inner, sizeof(inner), pkt, sizeof(pkt), &n), 0);
	assert_int_equal(sendto(o->client, pkt, n, 0, (struct sockaddr *)&o->gw_addr,
				sizeof(struct sockaddr_in)), (ssize_t)n);
	for (int i = 0; i < 50 && read(f->tun, got, sizeof(got)) < 0; i++)
		loop_run_once(f->loop, 20);
	assert_memory_equal(got, inner, sizeof(inner));
}

/* --- ECN (RFC 6040, normal mode) --- */

static uint16_t ip4_sum(const uint8_t *h)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < 20; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* ip4_make with ECN field ecn and a right header checksum. */
static void ip4_ecn_make(uint8_t *p, size_t len, uint32_t src, uint32_t dst, int ecn)
{
	uint16_t c;

	ip4_make(p, len, src, dst);
	p[1] = (uint8_t)ecn;
	c = (uint16_t)~ip4_sum(p);
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
}

/* RFC 6040 4.2 Figure 4 through the inbound path: [inner][outer] -> inner, -1 = drop. */
static void test_inbound_ecn(void **state)
{
	static const int table[4][4] = {
		/* outer: Not-ECT, ECT(1), ECT(0), CE */
		[ESP_ECN_NOT_ECT] = { 0, 0, 0, -1 },
		[ESP_ECN_ECT1] = { 1, 1, 1, 3 },
		[ESP_ECN_ECT0] = { 2, 1, 2, 3 },
		[ESP_ECN_CE] = { 3, 3, 3, 3 },
	};
	struct fix *f = *state;
	struct dp_child c;
	struct esp_sa tx, rx;
	uint8_t inner[60], got[256], pkt[2048];
	size_t n;
	uint64_t drops = 0;

	child_up(f, 5, &c, &tx, &rx);
	for (int in = 0; in < 4; in++) {
		for (int out = 0; out < 4; out++) {
			int rc;

			ip4_ecn_make(inner, sizeof(inner), vip_of(5), 0xc0000205, in);
			assert_int_equal(esp_encap(&f->ex, &tx, inner, sizeof(inner), pkt,
						   sizeof(pkt), &n), 0);
			/* DSCP bits in the outer byte never reach the inner header */
			rc = dp_userspace_esp_input_tos(f->dp, pkt, n, (uint8_t)(0xb8 | out));
			if (table[in][out] < 0) {
				assert_int_equal(rc, -ECANCELED);
				assert_int_equal(dp_userspace_stats(f->dp)->ecn_drops, ++drops);
				continue;
			}
			assert_int_equal(rc, 0);
			assert_int_equal(read(f->tun, got, sizeof(got)), sizeof(inner));
			assert_int_equal(got[1], table[in][out]);
			assert_int_equal(ip4_sum(got), 0xffff);
			assert_memory_equal(got + 12, inner + 12, sizeof(inner) - 12);
		}
	}
	assert_int_equal(read(f->tun, got, sizeof(got)), -1);
	assert_int_equal(dp_userspace_stats(f->dp)->bad_inner, 0);
}

/* The outer TOS byte of the next datagram the client gets (IP_RECVTOS on its socket). */
static int client_tos(struct out_fix *o)
{
	uint8_t pkt[2048];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = pkt, .iov_len = sizeof(pkt) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;

	assert_true(recvmsg(o->client, &mh, 0) > 0);
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS)
			return *(uint8_t *)CMSG_DATA(c);
	fail_msg("no IP_TOS");
	return -1;
}

/* RFC 6040 4.1: the inner ECN field goes into the outer header; through the NAT-T socket
 * the outer CE comes back onto an ECT(0) inner packet. */
static void test_ecn_via_udp(void **state)
{
	struct out_fix *o = *state;
	struct fix *f = &o->f;
	struct dp_child c;
	struct esp_sa tx, rx;
	uint8_t inner[64], pkt[256], got[256];
	size_t n;
	int one = 1, ce = ESP_ECN_CE;

	assert_int_equal(setsockopt(o->client, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one)), 0);
	child_make(&c, 6);
	c.local = o->gw_addr;
	c.peer = o->client_addr;
	assert_int_equal(f->dp->ops->child_add(f->dp, &c), 0);
	client_sa(&c, &tx, &rx);
	for (int ecn = 0; ecn < 4; ecn++) {
		ip4_ecn_make(inner, 60, 0xc0000207, vip_of(6), ecn);
		assert_int_equal(write(f->tun, inner, 60), 60);
	}
	assert_int_equal(dp_userspace_tun_drain(f->dp), 4);
	for (int ecn = 0; ecn < 4; ecn++)
		assert_int_equal(client_tos(o), ecn);
	/* inbound: the client's packet is marked CE on the way */
	assert_int_equal(udp_attach(o->udp, f->loop), 0);
	assert_int_equal(setsockopt(o->client, IPPROTO_IP, IP_TOS, &ce, sizeof(ce)), 0);
	ip4_ecn_make(inner, sizeof(inner), vip_of(6), 0xc0000201, ESP_ECN_ECT0);
	assert_int_equal(esp_encap(&f->ex, &tx, inner, sizeof(inner), pkt, sizeof(pkt), &n), 0);
	assert_int_equal(sendto(o->client, pkt, n, 0, (struct sockaddr *)&o->gw_addr,
				sizeof(struct sockaddr_in)), (ssize_t)n);
	for (int i = 0; i < 50 && read(f->tun, got, sizeof(got)) < 0; i++)
		loop_run_once(f->loop, 20);
	assert_int_equal(got[1], ESP_ECN_CE);
	assert_int_equal(ip4_sum(got), 0xffff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_shadow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_overlap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_waits_for_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_in, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inbound_tfc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lifetimes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbound, setup_out, teardown_out),
		cmocka_unit_test_setup_teardown(test_children_subnets, setup_out, teardown_out),
		cmocka_unit_test_setup_teardown(test_update_peer, setup_out, teardown_out),
		cmocka_unit_test_setup_teardown(test_via_udp, setup_out, teardown_out),
		cmocka_unit_test_setup_teardown(test_inbound_ecn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ecn_via_udp, setup_out, teardown_out),
	};

	return cmocka_run_group_tests_name("userspace", tests, NULL, NULL);
}
