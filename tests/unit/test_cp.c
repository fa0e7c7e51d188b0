/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "ikegw/cp.h"
#include "ikegw/ikev2.h"

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

static void want(struct cp_request *req, uint16_t type)
{
	assert_int_equal(cp_request_add(req, type, NULL, 0), 0);
}

static size_t count(const struct cp_attr *out, size_t n, uint16_t type)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += out[i].type == type;
	return c;
}

/* The k-th attribute of type, or fail. */
static const struct cp_attr *nth(const struct cp_attr *out, size_t n, uint16_t type, size_t k)
{
	for (size_t i = 0; i < n; i++)
		if (out[i].type == type && k-- == 0)
			return &out[i];
	fail_msg("attribute %u #%zu missing", type, k);
	return NULL;
}

static void test_request_values(void **state)
{
	static const uint8_t v4[] = { 10, 99, 0, 7 }, zero4[4] = { 0 };
	static const uint8_t v6[17] = { 0xfd, 0, 0, 0x99, [15] = 5, [16] = 64 };
	struct cp_request req;
	(void)state;

	cp_request_init(&req);
	assert_int_equal(cp_request_add(&req, IKEV2_CFG_INTERNAL_IP4_ADDRESS, v4, 4), 0);
	assert_true(req.has_ip4);
	assert_int_equal(req.ip4.family, AF_INET);
	assert_memory_equal(req.ip4.bytes, v4, 4);
	assert_int_equal(cp_request_add(&req, IKEV2_CFG_INTERNAL_IP6_ADDRESS, v6, 17), 0);
	assert_true(req.has_ip6);
	assert_memory_equal(req.ip6.bytes, v6, 16);
	assert_true(cp_request_wants(&req, IKEV2_CFG_INTERNAL_IP4_ADDRESS));
	assert_true(cp_request_wants(&req, IKEV2_CFG_INTERNAL_IP6_ADDRESS));
	assert_false(cp_request_wants(&req, IKEV2_CFG_INTERNAL_IP4_DNS));

	/* an all-zero address is no preference */
	cp_request_init(&req);
	assert_int_equal(cp_request_add(&req, IKEV2_CFG_INTERNAL_IP4_ADDRESS, zero4, 4), 0);
	assert_false(req.has_ip4);
	assert_true(cp_request_wants(&req, IKEV2_CFG_INTERNAL_IP4_ADDRESS));
	/* the reserved top bit of the type is not part of it */
	assert_int_equal(cp_request_add(&req, 0x8000 | IKEV2_CFG_INTERNAL_IP4_DNS, NULL, 0), 0);
	assert_true(cp_request_wants(&req, IKEV2_CFG_INTERNAL_IP4_DNS));
	/* unknown and large types are accepted and ignored */
	assert_int_equal(cp_request_add(&req, 0x7000, v4, 4), 0);
	assert_int_equal(cp_request_add(&req, 63, NULL, 0), 0);
	assert_false(cp_request_wants(&req, 0x7000));
	assert_int_equal(req.nmalformed, 0);
}

static void test_request_wrong_lengths(void **state)
{
	static const uint8_t bytes[20] = { 10, 99, 0, 7, 1, 2, 3 };
	struct cp_request req;
	(void)state;

	cp_request_init(&req);
	assert_int_equal(cp_request_add(&req, IKEV2_CFG_INTERNAL_IP4_ADDRESS, bytes, 3),
			 -EBADMSG);
	assert_int_equal(cp_request_add(&req, IKEV2_CFG_INTERNAL_IP4_ADDRESS, bytes, 5),
			 -EBADMSG);
	assert_int_equal(cp_request_add(&req, IKEV2_CFG_INTERNAL_IP6_ADDRESS, bytes, 16),
			 -EBADMSG);
	assert_int_equal(cp_request_add(&req, IKEV2_CFG_INTERNAL_IP6_ADDRESS, bytes, 18),
			 -EBADMSG);
	assert_false(req.has_ip4);
	assert_false(req.has_ip6);
	assert_true(cp_request_wants(&req, IKEV2_CFG_INTERNAL_IP4_ADDRESS));
	assert_true(cp_request_wants(&req, IKEV2_CFG_INTERNAL_IP6_ADDRESS));
	assert_int_equal(req.nmalformed, 4);
	/* values of attributes we do not read are not checked */
	assert_int_equal(cp_request_add(&req, IKEV2_CFG_INTERNAL_IP4_DNS, bytes, 7), 0);
}

static void test_request_parse_list(void **state)
{
	struct cp_attr attrs[4];
	struct cp_request req;
	(void)state;

	memset(attrs, 0, sizeof(attrs));
	attrs[0] = (struct cp_attr){ .type = IKEV2_CFG_INTERNAL_IP4_ADDRESS, .len = 4,
				     .val = { 10, 99, 0, 9 } };
	attrs[1] = (struct cp_attr){ .type = IKEV2_CFG_INTERNAL_IP4_DNS };
	attrs[2] = (struct cp_attr){ .type = IKEV2_CFG_INTERNAL_IP6_ADDRESS,
				     .len = CP_ATTR_VAL_MAX + 1 }; /* lies about its length */
	attrs[3] = (struct cp_attr){ .type = IKEV2_CFG_INTERNAL_DNS_DOMAIN };
	cp_request_init(&req);
	assert_int_equal(cp_request_parse(&req, attrs, 4), -EBADMSG);
	assert_true(req.has_ip4);
	assert_int_equal(req.ip4.bytes[3], 9);
	assert_false(req.has_ip6);
	assert_true(cp_request_wants(&req, IKEV2_CFG_INTERNAL_IP6_ADDRESS));
	assert_true(cp_request_wants(&req, IKEV2_CFG_INTERNAL_DNS_DOMAIN));
	assert_int_equal(req.nmalformed, 1);
	cp_request_init(&req);
	assert_int_equal(cp_request_parse(&req, attrs, 2), 0);
}

/* strongSwan-like request for everything, full tunnel. */
static void test_reply_every_type(void **state)
{
	static const uint16_t asked[] = {
		IKEV2_CFG_INTERNAL_IP4_ADDRESS, IKEV2_CFG_INTERNAL_IP4_NETMASK,
		IKEV2_CFG_INTERNAL_IP4_DNS, IKEV2_CFG_INTERNAL_IP4_NBNS,
		IKEV2_CFG_INTERNAL_IP4_DHCP, IKEV2_CFG_APPLICATION_VERSION,
		IKEV2_CFG_INTERNAL_IP6_ADDRESS, IKEV2_CFG_INTERNAL_IP6_DNS,
		IKEV2_CFG_INTERNAL_IP6_DHCP, IKEV2_CFG_SUPPORTED_ATTRIBUTES,
		IKEV2_CFG_INTERNAL_DNS_DOMAIN, IKEV2_CFG_INTERNAL_DNSSEC_TA, 0x4001, 30,
	};
	struct ip_addr ip4 = A("10.99.0.5"), ip6 = A("fd00:99::5");
	struct ip_addr dns[] = { A("10.0.0.53"), A("fd00::53"), A("10.0.0.54") };
	const char *domains[] = { "corp.example", "lab.corp.example." };
	struct ip_prefix allow[] = { P("0.0.0.0/0"), P("::/0") };
	struct cp_config cfg = { &ip4, &ip6, dns, 3, domains, 2, allow, 2 };
	struct cp_attr out[32];
	struct cp_request req;
	const struct cp_attr *a;
	size_t n;
	(void)state;

	cp_request_init(&req);
	for (size_t i = 0; i < sizeof(asked) / sizeof(asked[0]); i++)
		want(&req, asked[i]);
	assert_int_equal(cp_reply_build(&req, &cfg, out, 32, &n), 0);
	assert_int_equal(n, 8);

	a = nth(out, n, IKEV2_CFG_INTERNAL_IP4_ADDRESS, 0);
	assert_int_equal(a->len, 4);
	assert_memory_equal(a->val, ((uint8_t[]){ 10, 99, 0, 5 }), 4);
	a = nth(out, n, IKEV2_CFG_INTERNAL_IP4_NETMASK, 0);
	assert_int_equal(a->len, 4);
	assert_memory_equal(a->val, ((uint8_t[]){ 255, 255, 255, 255 }), 4);
	a = nth(out, n, IKEV2_CFG_INTERNAL_IP6_ADDRESS, 0);
	assert_int_equal(a->len, 17); /* RFC 7296 3.15.1: address + prefix length */
	assert_memory_equal(a->val, ip6.bytes, 16);
	assert_int_equal(a->val[16], 128);
	assert_int_equal(count(out, n, IKEV2_CFG_INTERNAL_IP4_DNS), 2);
	assert_memory_equal(nth(out, n, IKEV2_CFG_INTERNAL_IP4_DNS, 1)->val,
			    ((uint8_t[]){ 10, 0, 0, 54 }), 4);
	a = nth(out, n, IKEV2_CFG_INTERNAL_IP6_DNS, 0);
	assert_int_equal(a->len, 16);
	assert_memory_equal(a->val, dns[1].bytes, 16);
	/* RFC 8598: the name as text, no trailing dot, one attribute each */
	a = nth(out, n, IKEV2_CFG_INTERNAL_DNS_DOMAIN, 0);
	assert_int_equal(a->len, strlen("corp.example"));
	assert_memory_equal(a->val, "corp.example", a->len);
	a = nth(out, n, IKEV2_CFG_INTERNAL_DNS_DOMAIN, 1);
	assert_int_equal(a->len, strlen("lab.corp.example"));
	assert_memory_equal(a->val, "lab.corp.example", a->len);
	/* served nothing else: no NBNS, DHCP, version, DNSSEC_TA, unknown; no /0 subnets */
	assert_int_equal(count(out, n, IKEV2_CFG_INTERNAL_IP4_NBNS), 0);
	assert_int_equal(count(out, n, IKEV2_CFG_INTERNAL_IP4_DHCP), 0);
	assert_int_equal(count(out, n, IKEV2_CFG_APPLICATION_VERSION), 0);
	assert_int_equal(count(out, n, IKEV2_CFG_INTERNAL_DNSSEC_TA), 0);
	assert_int_equal(count(out, n, IKEV2_CFG_INTERNAL_IP4_SUBNET), 0);
	assert_int_equal(count(out, n, IKEV2_CFG_INTERNAL_IP6_SUBNET), 0);
}

static void test_reply_split_subnets(void **state)
{
	struct ip_addr ip4 = A("10.99.0.5");
	struct ip_prefix allow[] = { P("10.0.0.0/8"), P("192.168.1.0/24"), P("fd00:1::/64"),
				     P("172.16.5.0/28") };
	struct cp_config cfg = { .ip4 = &ip4, .subnets = allow, .nsubnets = 4 };
	struct cp_attr out[16];
	struct cp_request req;
	const struct cp_attr *a;
	size_t n;
	(void)state;

	cp_request_init(&req);
	want(&req, IKEV2_CFG_INTERNAL_IP4_ADDRESS);
	assert_int_equal(cp_reply_build(&req, &cfg, out, 16, &n), 0);
	assert_int_equal(count(out, n, IKEV2_CFG_INTERNAL_IP4_SUBNET), 3);
	assert_int_equal(count(out, n, IKEV2_CFG_INTERNAL_IP6_SUBNET), 0);
	a = nth(out, n, IKEV2_CFG_INTERNAL_IP4_SUBNET, 0);
	assert_int_equal(a->len, 8);
	assert_memory_equal(a->val, ((uint8_t[]){ 10, 0, 0, 0, 255, 0, 0, 0 }), 8);
	a = nth(out, n, IKEV2_CFG_INTERNAL_IP4_SUBNET, 1);
	assert_memory_equal(a->val, ((uint8_t[]){ 192, 168, 1, 0, 255, 255, 255, 0 }), 8);
	a = nth(out, n, IKEV2_CFG_INTERNAL_IP4_SUBNET, 2);
	assert_memory_equal(a->val, ((uint8_t[]){ 172, 16, 5, 0, 255, 255, 255, 240 }), 8);

	/* asked for explicitly: the IPv6 subnet too (address + prefix length) */
	want(&req, IKEV2_CFG_INTERNAL_IP6_SUBNET);
	assert_int_equal(cp_reply_build(&req, &cfg, out, 16, &n), 0);
	a = nth(out, n, IKEV2_CFG_INTERNAL_IP6_SUBNET, 0);
	assert_int_equal(a->len, 17);
	assert_int_equal(a->val[0], 0xfd);
	assert_int_equal(a->val[3], 0x01);
	assert_int_equal(a->val[16], 64);
}

static void test_reply_only_what_fits_the_request(void **state)
{
	struct ip_addr ip4 = A("10.99.0.5"), ip6 = A("fd00:99::5");
	struct ip_addr dns[] = { A("10.0.0.53"), A("fd00::53") };
	const char *domains[] = { "corp.example" };
	struct cp_config cfg = { &ip4, &ip6, dns, 2, domains, 1, NULL, 0 };
	struct cp_attr out[16];
	struct cp_request req;
	size_t n;
	(void)state;

	/* asked for an IPv6 address only: no IPv4 address, no IPv4 DNS */
	cp_request_init(&req);
	want(&req, IKEV2_CFG_INTERNAL_IP6_ADDRESS);
	assert_int_equal(cp_reply_build(&req, &cfg, out, 16, &n), 0);
	assert_int_equal(count(out, n, IKEV2_CFG_INTERNAL_IP4_ADDRESS), 0);
	assert_int_equal(count(out, n, IKEV2_CFG_INTERNAL_IP4_NETMASK), 0);
	assert_int_equal(count(out, n, IKEV2_CFG_INTERNAL_IP6_ADDRESS), 1);
	assert_int_equal(count(out, n, IKEV2_CFG_INTERNAL_IP4_DNS), 0);
	assert_int_equal(count(out, n, IKEV2_CFG_INTERNAL_IP6_DNS), 1);
	assert_int_equal(count(out, n, IKEV2_CFG_INTERNAL_DNS_DOMAIN), 1);

	/* no address and no DNS asked for, nothing leased: nothing at all */
	cfg.ip4 = cfg.ip6 = NULL;
	cp_request_init(&req);
	want(&req, IKEV2_CFG_INTERNAL_IP4_NBNS);
	assert_int_equal(cp_reply_build(&req, &cfg, out, 16, &n), 0);
	assert_int_equal(n, 0);
	/* asked for IPv4 DNS only: the domains go with the servers */
	want(&req, IKEV2_CFG_INTERNAL_IP4_DNS);
	assert_int_equal(cp_reply_build(&req, &cfg, out, 16, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].type, IKEV2_CFG_INTERNAL_IP4_DNS);
	assert_int_equal(out[1].type, IKEV2_CFG_INTERNAL_DNS_DOMAIN);
	/* domains without any server sent: left out */
	cfg.ndns = 0;
	want(&req, IKEV2_CFG_INTERNAL_DNS_DOMAIN);
	assert_int_equal(cp_reply_build(&req, &cfg, out, 16, &n), 0);
	assert_int_equal(n, 0);
}

static void test_reply_errors(void **state)
{
	struct ip_addr ip4 = A("10.99.0.5"), ip6 = A("fd00::5");
	struct ip_addr dns[] = { A("10.0.0.53"), { .family = 99 } };
	const char *bad_domain[] = { "corp..example" };
	struct ip_prefix bad_prefix = { .addr.family = AF_INET, .len = 40 };
	struct cp_config cfg = { .ip4 = &ip4 };
	struct cp_attr out[4];
	struct cp_request req;
	size_t n = 99;
	(void)state;

	cp_request_init(&req);
	want(&req, IKEV2_CFG_INTERNAL_IP4_ADDRESS);
	want(&req, IKEV2_CFG_INTERNAL_IP4_DNS);
	assert_int_equal(cp_reply_build(&req, &cfg, out, 1, &n), -ENOBUFS);
	assert_int_equal(n, 0);
	assert_int_equal(cp_reply_build(&req, &cfg, out, 2, &n), 0);
	assert_int_equal(n, 2);
	cfg.ip4 = &ip6; /* wrong family */
	assert_int_equal(cp_reply_build(&req, &cfg, out, 4, &n), -EINVAL);
	cfg = (struct cp_config){ .ip4 = &ip4, .dns = dns, .ndns = 2 };
	assert_int_equal(cp_reply_build(&req, &cfg, out, 4, &n), -EINVAL);
	cfg = (struct cp_config){ .ip4 = &ip4, .dns = dns, .ndns = 1, .domains = bad_domain,
				  .ndomains = 1 };
	assert_int_equal(cp_reply_build(&req, &cfg, out, 4, &n), -EINVAL);
	cfg = (struct cp_config){ .ip4 = &ip4, .subnets = &bad_prefix, .nsubnets = 1 };
	assert_int_equal(cp_reply_build(&req, &cfg, out, 4, &n), -EINVAL);
	cfg = (struct cp_config){ .ndns = 1 };
	assert_int_equal(cp_reply_build(&req, &cfg, out, 4, &n), -EINVAL);
	assert_int_equal(cp_reply_build(NULL, &cfg, out, 4, &n), -EINVAL);
}

static void test_check_domain(void **state)
{
	char label64[80], long_name[300];
	(void)state;

	assert_int_equal(cp_check_domain("corp.example"), 0);
	assert_int_equal(cp_check_domain("corp.example."), 0);
	assert_int_equal(cp_check_domain("_srv.x-1.example"), 0);
	assert_int_equal(cp_check_domain("example"), 0);
	assert_int_equal(cp_check_domain(""), -EINVAL);
	assert_int_equal(cp_check_domain("."), -EINVAL);
	assert_int_equal(cp_check_domain("a..b"), -EINVAL);
	assert_int_equal(cp_check_domain(".a.b"), -EINVAL);
	assert_int_equal(cp_check_domain("a.b.."), -EINVAL);
	assert_int_equal(cp_check_domain("-a.b"), -EINVAL);
	assert_int_equal(cp_check_domain("a-.b"), -EINVAL);
	assert_int_equal(cp_check_domain("a.b-"), -EINVAL);
	assert_int_equal(cp_check_domain("a b.example"), -EINVAL);
	assert_int_equal(cp_check_domain(NULL), -EINVAL);
	memset(label64, 'a', 64);
	strcpy(label64 + 64, ".example");
	assert_int_equal(cp_check_domain(label64), -EINVAL);
	strcpy(label64 + 63, ".example");
	assert_int_equal(cp_check_domain(label64), 0);
	for (int i = 0; i < 300; i++)
		long_name[i] = i % 2 ? '.' : 'a';
	long_name[253] = '\0'; /* 253 characters: the limit */
	assert_int_equal(cp_check_domain(long_name), 0);
	long_name[253] = 'a';
	long_name[254] = '\0';
	assert_int_equal(cp_check_domain(long_name), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_values),
		cmocka_unit_test(test_request_wrong_lengths),
		cmocka_unit_test(test_request_parse_list),
		cmocka_unit_test(test_reply_every_type),
		cmocka_unit_test(test_reply_split_subnets),
		cmocka_unit_test(test_reply_only_what_fits_the_request),
		cmocka_unit_test(test_reply_errors),
		cmocka_unit_test(test_check_domain),
	};

	return cmocka_run_group_tests_name("cp", tests, NULL, NULL);
}
