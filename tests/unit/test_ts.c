/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "ikegw/ikev2.h"
#include "ikegw/ts.h"

static struct ts cidr(const char *text)
{
	struct ip_prefix p;
	struct ts t;

	assert_int_equal(ts_parse_prefix(text, &p), 0);
	assert_int_equal(ts_from_prefix(&p, &t), 0);
	return t;
}

static struct ts range(const char *from, const char *to)
{
	struct ip_addr a, b;
	struct ts t;

	assert_int_equal(ts_parse_addr(from, &a), 0);
	assert_int_equal(ts_parse_addr(to, &b), 0);
	assert_int_equal(ts_from_addr(&a, &t), 0);
	memcpy(t.end, b.bytes, 16);
	return t;
}

static struct ts with_ports(struct ts t, uint8_t proto, uint16_t lo, uint16_t hi)
{
	t.proto = proto;
	t.start_port = lo;
	t.end_port = hi;
	return t;
}

static struct ip_addr addr(const char *text)
{
	struct ip_addr a;

	assert_int_equal(ts_parse_addr(text, &a), 0);
	return a;
}

static bool isect(struct ts a, struct ts b, struct ts *out)
{
	return ts_intersect(&a, &b, out);
}

static bool ts_same(const struct ts *a, const struct ts *b)
{
	return ts_contains(a, b) && ts_contains(b, a);
}

static void assert_ts(const struct ts *got, const struct ts want)
{
	assert_true(ts_same(got, &want));
}

static void test_parse(void **state)
{
	struct ip_prefix p;
	struct ip_addr a;
	(void)state;

	assert_int_equal(ts_parse_prefix("10.99.0.7/24", &p), 0);
	assert_int_equal(p.addr.family, AF_INET);
	assert_int_equal(p.len, 24);
	assert_memory_equal(p.addr.bytes, ((uint8_t[]){ 10, 99, 0, 0 }), 4);
	assert_int_equal(ts_parse_prefix("fd00:99::1/112", &p), 0);
	assert_int_equal(p.addr.family, AF_INET6);
	assert_int_equal(p.addr.bytes[15], 0);
	assert_int_equal(ts_parse_prefix("192.0.2.1", &p), 0);
	assert_int_equal(p.len, 32);
	assert_int_equal(ts_parse_prefix("::/0", &p), 0);
	assert_int_equal(p.len, 0);

	assert_int_equal(ts_parse_prefix("10.0.0.0/33", &p), -EINVAL);
	assert_int_equal(ts_parse_prefix("::/129", &p), -EINVAL);
	assert_int_equal(ts_parse_prefix("10.0.0.0/", &p), -EINVAL);
	assert_int_equal(ts_parse_prefix("10.0.0.0/-1", &p), -EINVAL);
	assert_int_equal(ts_parse_prefix("10.0.0.0/8x", &p), -EINVAL);
	assert_int_equal(ts_parse_prefix("/8", &p), -EINVAL);
	assert_int_equal(ts_parse_prefix("vpn.example.com", &p), -EINVAL);
	assert_int_equal(ts_parse_prefix(NULL, &p), -EINVAL);
	assert_int_equal(ts_parse_prefix("1111:2222:3333:4444:5555:6666:7777:8888/128xxxxxxx",
					 &p), -EINVAL);
	assert_int_equal(ts_parse_addr("10.0.0.256", &a), -EINVAL);
}

static void test_from_prefix(void **state)
{
	struct ts t = cidr("10.0.0.0/8");
	struct ip_prefix bad = { .addr.family = AF_INET, .len = 33 };
	(void)state;

	assert_int_equal(t.type, IKEV2_TS_IPV4_ADDR_RANGE);
	assert_int_equal(t.proto, 0);
	assert_int_equal(t.start_port, 0);
	assert_int_equal(t.end_port, 65535);
	assert_memory_equal(t.start, ((uint8_t[]){ 10, 0, 0, 0 }), 4);
	assert_memory_equal(t.end, ((uint8_t[]){ 10, 255, 255, 255 }), 4);
	assert_int_equal(ts_family(&t), AF_INET);
	assert_int_equal(ts_from_prefix(&bad, &t), -EINVAL);
	bad.addr.family = 99;
	bad.len = 0;
	assert_int_equal(ts_from_prefix(&bad, &t), -EINVAL);
}

static void test_intersect(void **state)
{
	struct ts x;
	struct ts any4 = cidr("0.0.0.0/0");
	struct ts bad = range("10.0.0.9", "10.0.0.1");
	(void)state;

	assert_true(isect(any4, cidr("10.1.0.0/16"), &x));
	assert_ts(&x, cidr("10.1.0.0/16"));
	assert_false(isect(cidr("10.0.0.0/8"), cidr("192.168.0.0/16"), &x));
	assert_false(isect(any4, cidr("::/0"), &x));
	/* overlapping ranges that are not prefixes */
	assert_true(isect(range("10.0.0.5", "10.0.0.20"), range("10.0.0.10", "10.0.0.30"), &x));
	assert_ts(&x, range("10.0.0.10", "10.0.0.20"));
	/* a malformed selector (start > end) meets nothing */
	assert_false(isect(any4, range("10.0.0.9", "10.0.0.1"), &x));
	assert_int_equal(ts_check(&bad), -EINVAL);
	x = any4;
	x.type = 9;
	assert_int_equal(ts_check(&x), -EINVAL);
	assert_false(ts_intersect(&x, &x, &x));
}

static void test_intersect_ports_proto(void **state)
{
	struct ts any4 = cidr("0.0.0.0/0"), x;
	struct ts tcp_web = with_ports(any4, 6, 80, 443);
	struct ts tcp_hi = with_ports(any4, 6, 443, 8443);
	struct ts udp = with_ports(any4, 17, 0, 65535);
	struct ts opaque = with_ports(any4, 6, TS_PORT_OPAQUE_START, TS_PORT_OPAQUE_END);
	(void)state;

	assert_true(ts_intersect(&tcp_web, &tcp_hi, &x));
	assert_int_equal(x.proto, 6);
	assert_int_equal(x.start_port, 443);
	assert_int_equal(x.end_port, 443);
	assert_false(ts_intersect(&tcp_web, &udp, &x));
	assert_true(ts_intersect(&any4, &udp, &x));
	assert_int_equal(x.proto, 17);
	assert_false(isect(tcp_web, with_ports(any4, 6, 444, 500), &x));
	/* RFC 7296 3.13.1 OPAQUE meets only OPAQUE and "any port" */
	assert_true(ts_intersect(&opaque, &any4, &x));
	assert_int_equal(x.start_port, TS_PORT_OPAQUE_START);
	assert_int_equal(x.end_port, TS_PORT_OPAQUE_END);
	assert_true(ts_intersect(&opaque, &opaque, &x));
	assert_false(ts_intersect(&opaque, &tcp_web, &x));
}

static void test_narrow_full_tunnel(void **state)
{
	struct ts tsi[] = { cidr("0.0.0.0/0") }, tsr[] = { cidr("0.0.0.0/0") };
	struct ts allowed[] = { cidr("0.0.0.0/0") };
	struct ip_addr vip = addr("10.99.0.5");
	struct ts_narrow_req req = { tsi, 1, tsr, 1, &vip, 1, allowed, 1 };
	struct ts_list oi, or_;
	(void)state;

	assert_int_equal(ts_narrow(&req, &oi, &or_), 0);
	assert_int_equal(oi.n, 1);
	assert_ts(&oi.ts[0], cidr("10.99.0.5/32"));
	assert_int_equal(or_.n, 1);
	assert_ts(&or_.ts[0], cidr("0.0.0.0/0"));
	assert_false(oi.truncated || or_.truncated);
}

/* Windows proposes full ranges of both families; only the family with a VIP stays. */
static void test_narrow_drops_family_without_vip(void **state)
{
	struct ts tsi[] = { range("0.0.0.0", "255.255.255.255"), cidr("::/0") };
	struct ts tsr[] = { range("0.0.0.0", "255.255.255.255"), cidr("::/0") };
	struct ts allowed[] = { cidr("0.0.0.0/0"), cidr("::/0") };
	struct ip_addr vip = addr("10.99.0.5");
	struct ts_narrow_req req = { tsi, 2, tsr, 2, &vip, 1, allowed, 2 };
	struct ts_list oi, or_;
	(void)state;

	assert_int_equal(ts_narrow(&req, &oi, &or_), 0);
	assert_int_equal(oi.n, 1);
	assert_int_equal(or_.n, 1);
	assert_int_equal(ts_family(&or_.ts[0]), AF_INET);
}

static void test_narrow_split_tunnel(void **state)
{
	struct ts tsi[] = { cidr("0.0.0.0/0") }, tsr[] = { cidr("0.0.0.0/0") };
	struct ts allowed[] = { cidr("10.0.0.0/8"), cidr("192.168.1.0/24") };
	struct ip_addr vip = addr("10.99.0.5");
	struct ts_narrow_req req = { tsi, 1, tsr, 1, &vip, 1, allowed, 2 };
	struct ts_list oi, or_;
	(void)state;

	assert_int_equal(ts_narrow(&req, &oi, &or_), 0);
	assert_int_equal(or_.n, 2);
	assert_ts(&or_.ts[0], cidr("10.0.0.0/8"));
	assert_ts(&or_.ts[1], cidr("192.168.1.0/24"));
}

static void test_narrow_client_asks_narrower(void **state)
{
	/* first TSr: the packet that triggered the SA (RFC 7296 2.9), covered by the second */
	struct ts tsi[] = { cidr("0.0.0.0/0") };
	struct ts tsr[] = { with_ports(cidr("10.1.2.3/32"), 6, 443, 443), cidr("10.1.0.0/16") };
	struct ts allowed[] = { cidr("10.0.0.0/8"), cidr("192.168.1.0/24") };
	struct ip_addr vip = addr("10.99.0.5");
	struct ts_narrow_req req = { tsi, 1, tsr, 2, &vip, 1, allowed, 2 };
	struct ts_list oi, or_;
	(void)state;

	assert_int_equal(ts_narrow(&req, &oi, &or_), 0);
	assert_int_equal(or_.n, 1);
	assert_ts(&or_.ts[0], cidr("10.1.0.0/16"));
}

static void test_narrow_disjoint(void **state)
{
	struct ts tsi[] = { cidr("0.0.0.0/0") }, tsr[] = { cidr("172.16.0.0/12") };
	struct ts allowed[] = { cidr("10.0.0.0/8") };
	struct ts tsi_other[] = { cidr("192.168.0.0/16") }, tsr_any[] = { cidr("0.0.0.0/0") };
	struct ip_addr vip = addr("10.99.0.5");
	struct ts_narrow_req req = { tsi, 1, tsr, 1, &vip, 1, allowed, 1 };
	struct ts_list oi, or_;
	(void)state;

	assert_int_equal(ts_narrow(&req, &oi, &or_), -ENOENT);
	/* TSi that does not include the VIP */
	req = (struct ts_narrow_req){ tsi_other, 1, tsr_any, 1, &vip, 1, allowed, 1 };
	assert_int_equal(ts_narrow(&req, &oi, &or_), -ENOENT);
	/* no VIP at all, empty lists */
	req = (struct ts_narrow_req){ tsi, 1, tsr_any, 1, NULL, 0, allowed, 1 };
	assert_int_equal(ts_narrow(&req, &oi, &or_), -ENOENT);
	req = (struct ts_narrow_req){ NULL, 0, NULL, 0, &vip, 1, allowed, 1 };
	assert_int_equal(ts_narrow(&req, &oi, &or_), -ENOENT);
	/* v4 VIP, v6-only TSr: no family in common */
	struct ts tsr6[] = { cidr("::/0") }, allowed_all[] = { cidr("0.0.0.0/0"), cidr("::/0") };
	req = (struct ts_narrow_req){ tsi, 1, tsr6, 1, &vip, 1, allowed_all, 2 };
	assert_int_equal(ts_narrow(&req, &oi, &or_), -ENOENT);
}

static void test_narrow_ports_protocol(void **state)
{
	struct ts tsi[] = { with_ports(cidr("0.0.0.0/0"), 6, 0, 65535) };
	struct ts tsr[] = { with_ports(cidr("0.0.0.0/0"), 6, 80, 443) };
	struct ts allowed[] = { with_ports(cidr("10.0.0.0/8"), 6, 443, 8443) };
	struct ts allowed_udp[] = { with_ports(cidr("10.0.0.0/8"), 17, 0, 65535) };
	struct ip_addr vip = addr("10.99.0.5");
	struct ts_narrow_req req = { tsi, 1, tsr, 1, &vip, 1, allowed, 1 };
	struct ts_list oi, or_;
	(void)state;

	assert_int_equal(ts_narrow(&req, &oi, &or_), 0);
	assert_int_equal(oi.ts[0].proto, 6);
	assert_int_equal(or_.n, 1);
	assert_int_equal(or_.ts[0].proto, 6);
	assert_int_equal(or_.ts[0].start_port, 443);
	assert_int_equal(or_.ts[0].end_port, 443);
	req.allowed = allowed_udp;
	assert_int_equal(ts_narrow(&req, &oi, &or_), -ENOENT);
}

static void test_narrow_v6(void **state)
{
	struct ts tsi[] = { cidr("0.0.0.0/0"), cidr("::/0") };
	struct ts tsr[] = { cidr("0.0.0.0/0"), cidr("::/0") };
	struct ts allowed[] = { cidr("10.0.0.0/8"), cidr("fd00:1::/64"), cidr("fd00:2::/64") };
	struct ip_addr vips[] = { addr("10.99.0.5"), addr("fd00:99::5") };
	struct ts_narrow_req req = { tsi, 2, tsr, 2, vips, 2, allowed, 3 };
	struct ts_list oi, or_;
	(void)state;

	assert_int_equal(ts_narrow(&req, &oi, &or_), 0);
	assert_int_equal(oi.n, 2);
	assert_ts(&oi.ts[0], cidr("10.99.0.5/32"));
	assert_ts(&oi.ts[1], cidr("fd00:99::5/128"));
	assert_int_equal(or_.n, 3);
	assert_ts(&or_.ts[1], cidr("fd00:1::/64"));
	assert_ts(&or_.ts[2], cidr("fd00:2::/64"));
	/* v6 only */
	req.vips = &vips[1];
	req.nvips = 1;
	assert_int_equal(ts_narrow(&req, &oi, &or_), 0);
	assert_int_equal(oi.n, 1);
	assert_int_equal(or_.n, 2);
}

static void test_narrow_bounded(void **state)
{
	struct ts tsi[] = { cidr("0.0.0.0/0") }, tsr[TS_LIST_MAX + 4];
	struct ts allowed[] = { cidr("0.0.0.0/0") };
	struct ip_addr vip = addr("10.99.0.5");
	struct ts_narrow_req req = { tsi, 1, tsr, TS_LIST_MAX + 4, &vip, 1, allowed, 1 };
	struct ts_list oi, or_;
	(void)state;

	for (size_t i = 0; i < TS_LIST_MAX + 4; i++) {
		tsr[i] = cidr("10.0.0.0/24");
		tsr[i].start[2] = tsr[i].end[2] = (uint8_t)i;
	}
	assert_int_equal(ts_narrow(&req, &oi, &or_), 0);
	assert_int_equal(or_.n, TS_LIST_MAX);
	assert_true(or_.truncated);
	assert_int_equal(ts_narrow(NULL, &oi, &or_), -EINVAL);
	req.tsi = NULL;
	assert_int_equal(ts_narrow(&req, &oi, &or_), -EINVAL);
}

static void test_narrow_skips_malformed(void **state)
{
	struct ts bad = range("10.0.0.9", "10.0.0.1");
	struct ts tsi[] = { cidr("0.0.0.0/0") }, tsr[] = { bad, cidr("10.5.0.0/16") };
	struct ts allowed[] = { cidr("0.0.0.0/0") };
	struct ip_addr vip = addr("10.99.0.5");
	struct ts_narrow_req req = { tsi, 1, tsr, 2, &vip, 1, allowed, 1 };
	struct ts_list oi, or_;
	(void)state;

	tsr[0].type = 200;
	assert_int_equal(ts_narrow(&req, &oi, &or_), 0);
	assert_int_equal(or_.n, 1);
	assert_ts(&or_.ts[0], cidr("10.5.0.0/16"));
}

static void test_split_prefixes(void **state)
{
	struct ts t = range("10.0.0.5", "10.0.0.9");
	struct ip_prefix p[260];
	size_t n;
	(void)state;

	assert_int_equal(ts_split_prefixes(&t, p, 260, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(p[0].len, 32);
	assert_int_equal(p[0].addr.bytes[3], 5);
	assert_int_equal(p[1].len, 31);
	assert_int_equal(p[1].addr.bytes[3], 6);
	assert_int_equal(p[2].len, 31);
	assert_int_equal(p[2].addr.bytes[3], 8);
	assert_int_equal(ts_split_prefixes(&t, p, 2, &n), -ENOBUFS);
	t = cidr("0.0.0.0/0");
	assert_int_equal(ts_split_prefixes(&t, p, 260, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].len, 0);
	t = range("0.0.0.1", "255.255.255.254"); /* the worst case: 2 * 31 prefixes */
	assert_int_equal(ts_split_prefixes(&t, p, 260, &n), 0);
	assert_int_equal(n, 62);
	t = cidr("::/0");
	assert_int_equal(ts_split_prefixes(&t, p, 260, &n), 0);
	assert_int_equal(n, 1);
	t = range("::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
	assert_int_equal(ts_split_prefixes(&t, p, 260, &n), 0);
	assert_int_equal(n, 254);
	t = range("10.0.0.9", "10.0.0.1");
	assert_int_equal(ts_split_prefixes(&t, p, 260, &n), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_from_prefix),
		cmocka_unit_test(test_intersect),
		cmocka_unit_test(test_intersect_ports_proto),
		cmocka_unit_test(test_narrow_full_tunnel),
		cmocka_unit_test(test_narrow_drops_family_without_vip),
		cmocka_unit_test(test_narrow_split_tunnel),
		cmocka_unit_test(test_narrow_client_asks_narrower),
		cmocka_unit_test(test_narrow_disjoint),
		cmocka_unit_test(test_narrow_ports_protocol),
		cmocka_unit_test(test_narrow_v6),
		cmocka_unit_test(test_narrow_bounded),
		cmocka_unit_test(test_narrow_skips_malformed),
		cmocka_unit_test(test_split_prefixes),
	};

	return cmocka_run_group_tests_name("ts", tests, NULL, NULL);
}
