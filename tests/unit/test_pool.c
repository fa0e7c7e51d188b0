/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "ikegw/pool.h"

static struct ip_addr A(const char *text)
{
	struct ip_addr a;

	assert_int_equal(ts_parse_addr(text, &a), 0);
	return a;
}

static struct ip_prefix P(const char *text)
{
	struct ip_prefix p;

	assert_int_equal(ts_parse_prefix(text, &p), 0);
	return p;
}

static struct pool *pool4(const char *cidr)
{
	struct ip_prefix p = P(cidr);
	struct pool *pool = pool_new("staff", &p, NULL);

	assert_non_null(pool);
	return pool;
}

static void assert_addr(const struct ip_addr *got, const char *want)
{
	struct ip_addr w = A(want);

	assert_true(ts_addr_equal(got, &w));
}

static int get4(struct pool *pool, const char *id, const char *req, struct ip_addr *out)
{
	struct ip_addr r;

	if (req)
		r = A(req);
	return pool_lease_get(pool, AF_INET, id, req ? &r : NULL, 0, out);
}

static int put(struct pool *pool, const char *addr)
{
	struct ip_addr a = A(addr);

	return pool_lease_put(pool, &a);
}

static void test_new_edges(void **state)
{
	struct ip_prefix p31 = P("10.0.0.0/31"), p32 = P("10.0.0.1/32");
	struct ip_prefix p127 = P("fd00::/127"), p126 = P("fd00::/126"), v6 = P("fd00::/112");
	struct pool_stats st;
	struct pool *pool;
	struct ip_addr a;
	(void)state;

	errno = 0;
	assert_null(pool_new("x", &p31, NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(pool_new("x", &p32, NULL));
	assert_null(pool_new("x", NULL, &p127));
	assert_null(pool_new("x", NULL, NULL));
	assert_null(pool_new("x", &v6, NULL)); /* wrong family in the v4 slot */
	assert_null(pool_new("a-name-that-is-much-too-long-for-a-pool", &p126, NULL));
	assert_int_equal(pool_check_prefix(&p31, AF_INET), -EINVAL);
	pool_free(NULL);

	/* /30: network .0, broadcast .3, two clients */
	pool = pool4("10.0.0.0/30");
	pool_stats(pool, AF_INET, &st);
	assert_int_equal(st.size, 2);
	assert_int_equal(get4(pool, "a", NULL, &a), 0);
	assert_addr(&a, "10.0.0.1");
	assert_int_equal(get4(pool, "b", NULL, &a), 0);
	assert_addr(&a, "10.0.0.2");
	assert_int_equal(get4(pool, "c", NULL, &a), -ENOSPC);
	assert_int_equal(pool_lease_get(pool, AF_INET6, "a", NULL, 0, &a), -EAFNOSUPPORT);
	assert_int_equal(pool_lease_get(pool, 77, "a", NULL, 0, &a), -EAFNOSUPPORT);
	pool_free(pool);

	/* IPv6 /126: only the Subnet-Router anycast address is excluded */
	pool = pool_new("v6", NULL, &p126);
	assert_non_null(pool);
	pool_stats(pool, 0, &st);
	assert_int_equal(st.size, 3);
	pool_free(pool);
}

static void test_large_prefixes_capped(void **state)
{
	struct ip_prefix p8 = P("10.0.0.0/8"), p64 = P("fd00:1:2:3::/64");
	struct pool *pool = pool_new("big", &p8, &p64);
	struct pool_stats st;
	struct ip_addr a;
	(void)state;

	assert_non_null(pool);
	pool_stats(pool, AF_INET, &st);
	assert_int_equal(st.size, POOL_RANGE_MAX - 1); /* only .0 excluded: no broadcast */
	pool_stats(pool, AF_INET6, &st);
	assert_int_equal(st.size, POOL_RANGE_MAX - 1);
	pool_stats(pool, 0, &st);
	assert_int_equal(st.size, 2 * (POOL_RANGE_MAX - 1));
	a = A("10.15.255.255");
	assert_true(pool_contains(pool, &a));
	a = A("10.16.0.0");
	assert_false(pool_contains(pool, &a));
	assert_int_equal(get4(pool, "x", "10.15.255.255", &a), 0);
	assert_addr(&a, "10.15.255.255");
	assert_int_equal(pool_lease_get(pool, AF_INET6, "x", NULL, 0, &a), 0);
	assert_addr(&a, "fd00:1:2:3::1");
	pool_free(pool);
}

static void test_never_network_broadcast(void **state)
{
	struct pool *pool = pool4("10.99.0.0/24");
	struct pool_stats st;
	struct ip_addr a;
	char id[16];
	(void)state;

	for (int i = 0; i < 254; i++) {
		snprintf(id, sizeof(id), "u%d", i);
		assert_int_equal(get4(pool, id, NULL, &a), 0);
		assert_int_not_equal(a.bytes[3], 0);
		assert_int_not_equal(a.bytes[3], 255);
	}
	assert_int_equal(get4(pool, "late", NULL, &a), -ENOSPC);
	assert_int_equal(get4(pool, "late", "10.99.0.255", &a), -ENOSPC);
	pool_stats(pool, AF_INET, &st);
	assert_int_equal(st.size, 254);
	assert_int_equal(st.used, 254);
	assert_int_equal(st.free, 0);
	/* full, then one released: success */
	assert_int_equal(put(pool, "10.99.0.77"), 0);
	assert_int_equal(get4(pool, "late", NULL, &a), 0);
	assert_addr(&a, "10.99.0.77");
	pool_free(pool);
}

static void test_reserved(void **state)
{
	struct pool *pool = pool4("10.99.0.0/29"); /* .1 - .6 */
	struct ip_addr gw = A("10.99.0.1"), outside = A("192.0.2.1"), a;
	struct pool_stats st;
	(void)state;

	assert_int_equal(pool_reserve(pool, &gw), 0);
	assert_int_equal(pool_reserve(pool, &gw), 0); /* idempotent */
	assert_int_equal(pool_reserve(pool, &outside), 0);
	pool_stats(pool, AF_INET, &st);
	assert_int_equal(st.size, 5);
	assert_int_equal(get4(pool, "a", "10.99.0.1", &a), 0); /* requested: refused */
	assert_addr(&a, "10.99.0.2");
	for (int i = 0; i < 4; i++) {
		assert_int_equal(get4(pool, "b", NULL, &a), 0);
		assert_int_not_equal(a.bytes[3], 1);
	}
	assert_int_equal(get4(pool, "c", NULL, &a), -ENOSPC);

	/* reserving a leased address: it stays leased, then is never handed out again */
	a = A("10.99.0.3");
	assert_int_equal(pool_reserve(pool, &a), 0);
	assert_int_equal(put(pool, "10.99.0.3"), 0);
	assert_int_equal(get4(pool, "c", NULL, &a), -ENOSPC);
	assert_int_equal(get4(pool, "b", "10.99.0.3", &a), -ENOSPC);
	pool_free(pool);
}

static void test_reserved_limit(void **state)
{
	struct pool *pool = pool4("10.99.0.0/24");
	struct ip_addr a = A("10.99.0.0"), v6bad = { .family = 99 };
	(void)state;

	for (int i = 0; i < POOL_RESERVED_MAX; i++) {
		a.bytes[3] = (uint8_t)(100 + i);
		assert_int_equal(pool_reserve(pool, &a), 0);
	}
	a.bytes[3] = 200;
	assert_int_equal(pool_reserve(pool, &a), -ENOSPC);
	assert_int_equal(pool_reserve(pool, &v6bad), -EAFNOSUPPORT);
	pool_free(pool);
}

static void test_sticky(void **state)
{
	struct pool *pool = pool4("10.99.0.0/24");
	struct ip_addr a, alice, bob;
	(void)state;

	assert_int_equal(get4(pool, "alice", NULL, &alice), 0);
	assert_int_equal(get4(pool, "bob", NULL, &bob), 0);
	assert_int_equal(pool_lease_put(pool, &alice), 0);
	assert_int_equal(get4(pool, "carol", NULL, &a), 0);
	assert_false(ts_addr_equal(&a, &alice)); /* released addresses are reused last */
	assert_int_equal(get4(pool, "alice", NULL, &a), 0);
	assert_true(ts_addr_equal(&a, &alice));

	/* someone else requested alice's address while she was away: she gets another */
	assert_int_equal(pool_lease_put(pool, &alice), 0);
	assert_int_equal(get4(pool, "dave", "10.99.0.1", &a), 0);
	assert_addr(&a, "10.99.0.1");
	assert_int_equal(get4(pool, "alice", NULL, &a), 0);
	assert_false(ts_addr_equal(&a, &alice));
	pool_free(pool);
}

static void test_sticky_cap(void **state)
{
	struct pool *pool = pool4("10.99.0.0/24");
	struct ip_addr a;
	(void)state;

	assert_int_equal(get4(pool, "a", NULL, &a), 0);
	assert_int_equal(get4(pool, "b", NULL, &a), 0);
	assert_int_equal(get4(pool, "c", NULL, &a), 0);
	pool_set_sticky_max(pool, 2);
	assert_int_equal(put(pool, "10.99.0.1"), 0); /* a: oldest, forgotten below */
	assert_int_equal(put(pool, "10.99.0.2"), 0);
	assert_int_equal(put(pool, "10.99.0.3"), 0);
	assert_int_equal(get4(pool, "a", NULL, &a), 0);
	assert_addr(&a, "10.99.0.4");
	assert_int_equal(get4(pool, "c", NULL, &a), 0);
	assert_addr(&a, "10.99.0.3");
	assert_int_equal(get4(pool, "b", NULL, &a), 0);
	assert_addr(&a, "10.99.0.2");
	pool_set_sticky_max(pool, 0);
	assert_int_equal(put(pool, "10.99.0.2"), 0);
	assert_int_equal(get4(pool, "b", NULL, &a), 0);
	assert_addr(&a, "10.99.0.5");
	pool_free(pool);
}

static void test_requested(void **state)
{
	struct pool *pool = pool4("10.99.0.0/24");
	struct ip_addr a, v6 = A("fd00::5");
	struct pool_stats st;
	(void)state;

	assert_int_equal(get4(pool, "alice", "10.99.0.50", &a), 0);
	assert_addr(&a, "10.99.0.50");
	/* taken by someone else: refused, next free instead */
	assert_int_equal(get4(pool, "bob", "10.99.0.50", &a), 0);
	assert_addr(&a, "10.99.0.1"); /* requests do not move the cursor */
	/* out of range, network, broadcast, wrong family: refused */
	assert_int_equal(get4(pool, "c", "192.0.2.7", &a), 0);
	assert_true(pool_contains(pool, &a));
	assert_int_equal(get4(pool, "d", "10.99.0.0", &a), 0);
	assert_int_not_equal(a.bytes[3], 0);
	assert_int_equal(get4(pool, "e", "10.99.0.255", &a), 0);
	assert_int_not_equal(a.bytes[3], 255);
	assert_int_equal(pool_lease_get(pool, AF_INET, "f", &v6, 0, &a), 0);
	assert_int_equal(a.family, AF_INET);

	/* re-authentication: alice asks for the address she holds: shared, two puts */
	assert_int_equal(get4(pool, "alice", "10.99.0.50", &a), 0);
	assert_addr(&a, "10.99.0.50");
	pool_stats(pool, AF_INET, &st);
	assert_int_equal(st.used, 6);
	assert_int_equal(put(pool, "10.99.0.50"), 0);
	assert_int_equal(get4(pool, "zed", "10.99.0.50", &a), 0);
	assert_false(a.bytes[3] == 50);
	assert_int_equal(put(pool, "10.99.0.50"), 0);
	assert_int_equal(put(pool, "10.99.0.50"), -ENOENT);
	assert_int_equal(get4(pool, "zed2", "10.99.0.50", &a), 0);
	assert_addr(&a, "10.99.0.50");
	pool_free(pool);
}

static void test_bad_arguments(void **state)
{
	struct pool *pool = pool4("10.99.0.0/24");
	char *huge = malloc(POOL_IDENTITY_MAX + 2);
	struct ip_addr a, bad = { .family = 99 };
	(void)state;

	assert_non_null(huge);
	memset(huge, 'x', POOL_IDENTITY_MAX + 1);
	huge[POOL_IDENTITY_MAX + 1] = '\0';
	assert_int_equal(get4(pool, huge, NULL, &a), -EINVAL);
	huge[POOL_IDENTITY_MAX] = '\0';
	assert_int_equal(get4(pool, huge, NULL, &a), 0);
	assert_int_equal(get4(pool, NULL, NULL, &a), -EINVAL);
	assert_int_equal(put(pool, "10.99.0.9"), -ENOENT);
	assert_int_equal(put(pool, "192.0.2.1"), -ENOENT);
	assert_int_equal(pool_lease_put(pool, &bad), -ENOENT);
	assert_false(pool_contains(pool, &bad));
	assert_string_equal(pool_name(pool), "staff");
	free(huge);
	pool_free(pool);
}

struct seen {
	int n;
	int stop_at;
	uint64_t since_sum;
};

static int count_lease(const struct pool_lease_info *l, void *ctx)
{
	struct seen *s = ctx;

	assert_int_equal(l->identity[0], 'u');
	s->since_sum += l->since;
	return ++s->n == s->stop_at ? 42 : 0;
}

static void test_foreach(void **state)
{
	struct pool *pool = pool4("10.99.0.0/24");
	struct seen s = { 0 };
	struct ip_addr a;
	(void)state;

	assert_int_equal(pool_lease_get(pool, AF_INET, "u1", NULL, 100, &a), 0);
	assert_int_equal(pool_lease_get(pool, AF_INET, "u2", NULL, 200, &a), 0);
	assert_int_equal(pool_lease_get(pool, AF_INET, "u3", NULL, 300, &a), 0);
	assert_int_equal(pool_lease_put(pool, &a), 0); /* released: not listed */
	assert_int_equal(pool_lease_foreach(pool, count_lease, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.since_sum, 300);
	s = (struct seen){ .stop_at = 1 };
	assert_int_equal(pool_lease_foreach(pool, count_lease, &s), 42);
	assert_int_equal(s.n, 1);
	pool_free(pool);
}

static void test_resize_drain(void **state)
{
	struct pool *pool = pool4("10.99.0.0/24");
	struct ip_prefix half = P("10.99.0.0/25"), moved = P("10.99.1.0/24");
	struct ip_addr a, gone = A("10.99.0.200");
	struct pool_stats st;
	(void)state;

	assert_int_equal(get4(pool, "in", "10.99.0.5", &a), 0);
	assert_int_equal(get4(pool, "edge", "10.99.0.127", &a), 0);
	assert_int_equal(get4(pool, "out", "10.99.0.200", &a), 0);
	assert_int_equal(get4(pool, "away", "10.99.0.201", &a), 0);
	assert_int_equal(put(pool, "10.99.0.201"), 0); /* sticky, about to fall outside */
	assert_int_equal(pool_resize(pool, &half, NULL), 0);
	pool_stats(pool, AF_INET, &st);
	assert_int_equal(st.size, 126);
	assert_int_equal(st.used, 3);      /* .200 still leased, draining */
	assert_int_equal(st.free, 126 - 1); /* .5 inside; .127 is the new broadcast */
	assert_false(pool_contains(pool, &gone));
	assert_int_equal(get4(pool, "in", "10.99.0.5", &a), 0); /* shared: still hers */
	assert_int_equal(put(pool, "10.99.0.5"), 0);
	assert_int_equal(get4(pool, "away", NULL, &a), 0); /* sticky forgotten: new one */
	assert_true(pool_contains(pool, &a));
	/* draining leases release fine and are never handed out again */
	assert_int_equal(put(pool, "10.99.0.200"), 0);
	assert_int_equal(put(pool, "10.99.0.127"), 0);
	assert_int_equal(get4(pool, "x", "10.99.0.127", &a), 0);
	assert_int_not_equal(a.bytes[3], 127);
	assert_int_equal(get4(pool, "y", "10.99.0.200", &a), 0);
	assert_true(pool_contains(pool, &a));

	/* a bad new range changes nothing */
	assert_int_equal(pool_resize(pool, NULL, NULL), -EINVAL);
	assert_int_equal(pool_resize(pool, &moved, &moved), -EINVAL);
	pool_stats(pool, AF_INET, &st);
	assert_int_equal(st.size, 126);

	/* moved elsewhere entirely: every lease drains */
	assert_int_equal(pool_resize(pool, &moved, NULL), 0);
	pool_stats(pool, AF_INET, &st);
	assert_int_equal(st.free, 254);
	assert_int_equal(get4(pool, "z", NULL, &a), 0);
	assert_addr(&a, "10.99.1.1");
	pool_free(pool);
}

static void test_resize_keeps_reserved(void **state)
{
	struct pool *pool = pool4("10.99.0.0/24");
	struct ip_prefix next = P("10.99.1.0/24");
	struct ip_addr gw = A("10.99.1.1"), a;
	(void)state;

	assert_int_equal(pool_reserve(pool, &gw), 0); /* outside now, inside after reload */
	assert_int_equal(pool_resize(pool, &next, NULL), 0);
	assert_int_equal(get4(pool, "a", NULL, &a), 0);
	assert_addr(&a, "10.99.1.2");
	pool_free(pool);
}

static void test_v6(void **state)
{
	struct ip_prefix v4 = P("10.99.0.0/24"), v6 = P("fd00:99::/112");
	struct pool *pool = pool_new("dual", &v4, &v6);
	struct ip_addr a, b, req = A("fd00:99::abcd"), other = A("fd00:98::5");
	struct pool_stats st;
	(void)state;

	assert_non_null(pool);
	pool_stats(pool, AF_INET6, &st);
	assert_int_equal(st.size, 65535);
	assert_int_equal(pool_lease_get(pool, AF_INET6, "alice", NULL, 0, &a), 0);
	assert_addr(&a, "fd00:99::1");
	assert_int_equal(pool_lease_get(pool, AF_INET, "alice", NULL, 0, &b), 0);
	assert_addr(&b, "10.99.0.1");
	assert_int_equal(pool_lease_get(pool, AF_INET6, "bob", &req, 0, &b), 0);
	assert_addr(&b, "fd00:99::abcd");
	assert_int_equal(pool_lease_get(pool, AF_INET6, "carol", &other, 0, &b), 0);
	assert_addr(&b, "fd00:99::2");
	b = A("fd00:99::ffff"); /* IPv6 has no broadcast: the last address is usable */
	assert_int_equal(pool_lease_get(pool, AF_INET6, "dave", &b, 0, &b), 0);
	assert_addr(&b, "fd00:99::ffff");
	assert_int_equal(pool_lease_put(pool, &a), 0);
	assert_int_equal(pool_lease_get(pool, AF_INET6, "alice", NULL, 0, &a), 0);
	assert_addr(&a, "fd00:99::1");
	pool_stats(pool, 0, &st);
	assert_int_equal(st.used, 5);
	/* dropping the v6 range on reload: v6 leases drain */
	assert_int_equal(pool_resize(pool, &v4, NULL), 0);
	assert_int_equal(pool_lease_get(pool, AF_INET6, "erin", NULL, 0, &b), -EAFNOSUPPORT);
	assert_int_equal(pool_lease_put(pool, &a), 0);
	pool_stats(pool, AF_INET6, &st);
	assert_int_equal(st.used, 3);
	assert_int_equal(st.size, 0);
	pool_free(pool);
}

/* Thousands of leases and releases in random order never collide. */
static void test_random_no_collision(void **state)
{
	enum { N = 4096, IDS = 6000, OPS = 300000 };
	struct ip_prefix p = P("10.98.0.0/20");
	struct pool *pool = pool_new("rnd", &p, NULL);
	static uint8_t shadow[N];
	static struct ip_addr held[IDS];
	static bool has[IDS];
	struct ip_addr gw = A("10.98.3.3"), a;
	struct pool_stats st;
	unsigned seed = 12345, used = 0, full = 0;
	char id[16];
	int rc;
	(void)state;

	memset(shadow, 0, sizeof(shadow));
	memset(has, 0, sizeof(has));
	assert_int_equal(pool_reserve(pool, &gw), 0);
	pool_set_sticky_max(pool, 500);
	for (int op = 0; op < OPS; op++) {
		unsigned who = (unsigned)rand_r(&seed) % IDS;
		unsigned off;

		if (has[who]) {
			if (rand_r(&seed) % 4) /* release less often than lease: fills up */
				continue;
			off = (unsigned)held[who].bytes[2] << 8 | held[who].bytes[3];
			assert_int_equal(pool_lease_put(pool, &held[who]), 0);
			shadow[off] = 0;
			has[who] = false;
			used--;
			continue;
		}
		snprintf(id, sizeof(id), "user%u", who);
		rc = pool_lease_get(pool, AF_INET, id, NULL, (uint64_t)op, &a);
		if (rc == -ENOSPC) {
			assert_int_equal(used, N - 3);
			full++;
			continue;
		}
		assert_int_equal(rc, 0);
		assert_true(pool_contains(pool, &a));
		off = (unsigned)a.bytes[2] << 8 | a.bytes[3];
		assert_true(off > 0 && off < N - 1 && off != 0x303);
		assert_int_equal(shadow[off], 0);
		shadow[off] = 1;
		held[who] = a;
		has[who] = true;
		used++;
	}
	assert_true(full > 0); /* the full-pool path was exercised */
	pool_stats(pool, AF_INET, &st);
	assert_int_equal(st.used, used);
	assert_int_equal(st.size, N - 3);
	assert_int_equal(st.free, st.size - used);
	pool_free(pool);
}

/* Filling past the pool size with distinct identities: -ENOSPC, never a duplicate. */
static void test_fill_and_drain_all(void **state)
{
	struct pool *pool = pool4("10.97.0.0/22");
	static uint8_t shadow[1024];
	struct ip_addr a;
	char id[16];
	int ok = 0;
	(void)state;

	memset(shadow, 0, sizeof(shadow));
	for (int i = 0; i < 1100; i++) {
		snprintf(id, sizeof(id), "n%d", i);
		int rc = get4(pool, id, NULL, &a);

		if (rc == -ENOSPC)
			continue;
		assert_int_equal(rc, 0);
		unsigned off = (unsigned)(a.bytes[2] & 3) << 8 | a.bytes[3];
		assert_int_equal(shadow[off], 0);
		shadow[off] = 1;
		ok++;
	}
	assert_int_equal(ok, 1022);
	for (unsigned off = 1; off < 1023; off++) {
		a = A("10.97.0.0");
		a.bytes[2] = (uint8_t)(off >> 8);
		a.bytes[3] = (uint8_t)off;
		assert_int_equal(pool_lease_put(pool, &a), 0);
	}
	assert_int_equal(get4(pool, "n5", NULL, &a), 0);
	assert_addr(&a, "10.97.0.6"); /* sticky survives a full drain */
	pool_free(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_edges),
		cmocka_unit_test(test_large_prefixes_capped),
		cmocka_unit_test(test_never_network_broadcast),
		cmocka_unit_test(test_reserved),
		cmocka_unit_test(test_reserved_limit),
		cmocka_unit_test(test_sticky),
		cmocka_unit_test(test_sticky_cap),
		cmocka_unit_test(test_requested),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_foreach),
		cmocka_unit_test(test_resize_drain),
		cmocka_unit_test(test_resize_keeps_reserved),
		cmocka_unit_test(test_v6),
		cmocka_unit_test(test_random_no_collision),
		cmocka_unit_test(test_fill_and_drain_all),
	};

	return cmocka_run_group_tests_name("pool", tests, NULL, NULL);
}
