/* SPDX-License-Identifier: ISC */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ikegw/cookie.h"

struct fx {
	uint8_t ni[32];
	struct sockaddr_storage ip;
	uint64_t spi;
};

static void fx_init(struct fx *f, const char *addr)
{
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < sizeof(f->ni); i++)
		f->ni[i] = (uint8_t)(0xa0 + i);
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&f->ip;

		sin6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, addr, &sin6->sin6_addr), 1);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&f->ip;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(500);
		assert_int_equal(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
	}
	f->spi = 0x0102030405060708ULL;
}

static int verify(const struct cookie *c, const uint8_t *ck, size_t len, const struct fx *f)
{
	return cookie_verify(c, ck, len, f->ni, sizeof(f->ni), &f->ip, f->spi);
}

static void test_good_cookie_verifies(void **state)
{
	struct cookie *c = cookie_new(0);
	uint8_t ck[COOKIE_LEN], again[COOKIE_LEN];
	struct fx f;
	(void)state;

	assert_non_null(c);
	fx_init(&f, "192.0.2.10");
	assert_int_equal(cookie_make(c, f.ni, sizeof(f.ni), &f.ip, f.spi, ck), 0);
	assert_int_equal(verify(c, ck, sizeof(ck), &f), 0);
	/* Stateless and deterministic: the same inputs give the same cookie. */
	assert_int_equal(cookie_make(c, f.ni, sizeof(f.ni), &f.ip, f.spi, again), 0);
	assert_memory_equal(ck, again, sizeof(ck));
	/* The port is not part of IPi: a NAT rebinding the port does not matter. */
	((struct sockaddr_in *)&f.ip)->sin_port = htons(4500);
	assert_int_equal(verify(c, ck, sizeof(ck), &f), 0);

	fx_init(&f, "2001:db8::1");
	assert_int_equal(cookie_make(c, f.ni, sizeof(f.ni), &f.ip, f.spi, ck), 0);
	assert_int_equal(verify(c, ck, sizeof(ck), &f), 0);
	cookie_free(c);
	cookie_free(NULL);
}

static void test_wrong_inputs_rejected(void **state)
{
	struct cookie *c = cookie_new(0);
	uint8_t ck[COOKIE_LEN];
	struct fx f, g;
	(void)state;

	fx_init(&f, "192.0.2.10");
	assert_int_equal(cookie_make(c, f.ni, sizeof(f.ni), &f.ip, f.spi, ck), 0);

	fx_init(&g, "192.0.2.11");
	assert_int_equal(verify(c, ck, sizeof(ck), &g), -EACCES);
	fx_init(&g, "::ffff:192.0.2.10");
	assert_int_equal(verify(c, ck, sizeof(ck), &g), -EACCES);
	fx_init(&g, "192.0.2.10");
	g.spi ^= 1;
	assert_int_equal(verify(c, ck, sizeof(ck), &g), -EACCES);
	fx_init(&g, "192.0.2.10");
	g.ni[31] ^= 0x80;
	assert_int_equal(verify(c, ck, sizeof(ck), &g), -EACCES);
	fx_init(&g, "192.0.2.10");
	assert_int_equal(cookie_verify(c, ck, sizeof(ck), g.ni, sizeof(g.ni) - 1, &g.ip, g.spi),
			 -EACCES);
	/* A flipped hash bit or a foreign version byte. */
	ck[COOKIE_LEN - 1] ^= 1;
	assert_int_equal(verify(c, ck, sizeof(ck), &f), -EACCES);
	ck[COOKIE_LEN - 1] ^= 1;
	ck[0] ^= 0x55;
	assert_int_equal(verify(c, ck, sizeof(ck), &f), -EACCES);
	cookie_free(c);
}

static void test_truncated_and_oversized_rejected(void **state)
{
	struct cookie *c = cookie_new(0);
	uint8_t ck[COOKIE_LEN + 1] = { 0 };
	struct fx f;
	(void)state;

	fx_init(&f, "192.0.2.10");
	assert_int_equal(cookie_make(c, f.ni, sizeof(f.ni), &f.ip, f.spi, ck), 0);
	assert_int_equal(verify(c, ck, COOKIE_LEN - 1, &f), -EBADMSG);
	assert_int_equal(verify(c, ck, 1, &f), -EBADMSG);
	assert_int_equal(verify(c, ck, 0, &f), -EBADMSG);
	assert_int_equal(verify(c, NULL, 0, &f), -EBADMSG);
	assert_int_equal(verify(c, ck, COOKIE_LEN + 1, &f), -EBADMSG);
	assert_int_equal(verify(c, ck, COOKIE_LEN, &f), 0);
	cookie_free(c);
}

static void test_bad_nonce_or_address(void **state)
{
	struct cookie *c = cookie_new(0);
	uint8_t ck[COOKIE_LEN], big[COOKIE_NONCE_MAX + 1] = { 0 };
	struct sockaddr_storage unix_addr = { .ss_family = AF_UNIX };
	struct fx f;
	(void)state;

	fx_init(&f, "192.0.2.10");
	assert_int_equal(cookie_make(c, f.ni, 0, &f.ip, f.spi, ck), -EINVAL);
	assert_int_equal(cookie_make(c, NULL, 16, &f.ip, f.spi, ck), -EINVAL);
	assert_int_equal(cookie_make(c, big, sizeof(big), &f.ip, f.spi, ck), -EINVAL);
	assert_int_equal(cookie_make(c, big, COOKIE_NONCE_MAX, &f.ip, f.spi, ck), 0);
	assert_int_equal(cookie_verify(c, ck, sizeof(ck), big, sizeof(big), &f.ip, f.spi),
			 -EINVAL);
	assert_int_equal(cookie_make(c, f.ni, sizeof(f.ni), &unix_addr, f.spi, ck), -EINVAL);
	cookie_free(c);
}

static void test_rotation(void **state)
{
	struct cookie *c = cookie_new(1000);
	uint8_t old[COOKIE_LEN], mid[COOKIE_LEN], cur[COOKIE_LEN];
	struct fx f;
	(void)state;

	fx_init(&f, "198.51.100.7");
	assert_int_equal(cookie_rotated_at(c), 1000);
	assert_int_equal(cookie_make(c, f.ni, sizeof(f.ni), &f.ip, f.spi, old), 0);

	assert_int_equal(cookie_rotate(c, 2000), 0);
	assert_int_equal(cookie_rotated_at(c), 2000);
	assert_int_equal(cookie_make(c, f.ni, sizeof(f.ni), &f.ip, f.spi, mid), 0);
	assert_int_not_equal(mid[0], old[0]);
	assert_memory_not_equal(mid + 1, old + 1, COOKIE_HASH_LEN);
	/* One rotation: the previous secret's cookie still verifies. */
	assert_int_equal(verify(c, old, sizeof(old), &f), 0);
	assert_int_equal(verify(c, mid, sizeof(mid), &f), 0);

	/* Two rotations: it no longer does. */
	assert_int_equal(cookie_rotate(c, 3000), 0);
	assert_int_equal(cookie_make(c, f.ni, sizeof(f.ni), &f.ip, f.spi, cur), 0);
	assert_int_equal(verify(c, old, sizeof(old), &f), -EACCES);
	assert_int_equal(verify(c, mid, sizeof(mid), &f), 0);
	assert_int_equal(verify(c, cur, sizeof(cur), &f), 0);
	/* The old cookie relabelled with a live version still fails the hash. */
	old[0] = cur[0];
	assert_int_equal(verify(c, old, sizeof(old), &f), -EACCES);
	cookie_free(c);
}

/* 256 rotations wrap the version byte; only current and previous ever verify. */
static void test_version_wraps(void **state)
{
	struct cookie *c = cookie_new(0);
	uint8_t first[COOKIE_LEN], ck[COOKIE_LEN];
	struct fx f;
	(void)state;

	fx_init(&f, "203.0.113.1");
	assert_int_equal(cookie_make(c, f.ni, sizeof(f.ni), &f.ip, f.spi, first), 0);
	for (int i = 0; i < 256; i++)
		assert_int_equal(cookie_rotate(c, (uint64_t)i), 0);
	assert_int_equal(cookie_make(c, f.ni, sizeof(f.ni), &f.ip, f.spi, ck), 0);
	assert_int_equal(ck[0], first[0]);
	assert_int_equal(verify(c, first, sizeof(first), &f), -EACCES);
	assert_int_equal(verify(c, ck, sizeof(ck), &f), 0);
	cookie_free(c);
}

static void test_required_threshold(void **state)
{
	(void)state;

	assert_false(cookie_required(0, 100));
	assert_false(cookie_required(99, 100));
	assert_true(cookie_required(100, 100));
	assert_true(cookie_required(5000, 100));
	assert_true(cookie_required(0, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_cookie_verifies),
		cmocka_unit_test(test_wrong_inputs_rejected),
		cmocka_unit_test(test_truncated_and_oversized_rejected),
		cmocka_unit_test(test_bad_nonce_or_address),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_version_wraps),
		cmocka_unit_test(test_required_threshold),
	};

	return cmocka_run_group_tests_name("cookie", tests, NULL, NULL);
}
