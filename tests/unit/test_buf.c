/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ikegw/buf.h"

static void test_reads_consume_or_fail(void **state)
{
	static const uint8_t pkt[] = { 1, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07 };
	struct rbuf r;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	(void)state;

	rbuf_init(&r, pkt, sizeof(pkt));
	assert_int_equal(rbuf_u8(&r, &u8), 0);
	assert_int_equal(u8, 1);
	assert_int_equal(rbuf_u16(&r, &u16), 0);
	assert_int_equal(u16, 0x0203);
	assert_int_equal(rbuf_u32(&r, &u32), 0);
	assert_int_equal(u32, 0x04050607);
	assert_int_equal(rbuf_u8(&r, &u8), -EMSGSIZE);
}

static void test_short_read_consumes_nothing(void **state)
{
	static const uint8_t pkt[] = { 0xaa, 0xbb, 0xcc };
	struct rbuf r;
	uint32_t u32;
	uint16_t u16;
	(void)state;

	rbuf_init(&r, pkt, sizeof(pkt));
	assert_int_equal(rbuf_u32(&r, &u32), -EMSGSIZE);
	assert_int_equal(rbuf_left(&r), 3);
	assert_int_equal(rbuf_u16(&r, &u16), 0);
	assert_int_equal(u16, 0xaabb);
	assert_int_equal(rbuf_skip(&r, 2), -EMSGSIZE);
	assert_int_equal(rbuf_skip(&r, 1), 0);
	assert_true(rbuf_empty(&r));
}

static void test_sub_reader_is_bounded(void **state)
{
	static const uint8_t pkt[] = { 1, 2, 3, 4, 5 };
	struct rbuf r, sub;
	const uint8_t *p;
	uint8_t v;
	(void)state;

	rbuf_init(&r, pkt, sizeof(pkt));
	assert_int_equal(rbuf_sub(&r, 2, &sub), 0);
	assert_int_equal(rbuf_left(&sub), 2);
	assert_int_equal(rbuf_bytes(&sub, 3, &p), -EMSGSIZE);
	assert_int_equal(rbuf_peek_u8(&sub, 1, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(rbuf_peek_u8(&sub, 2, &v), -EMSGSIZE);
	assert_int_equal(rbuf_sub(&r, 4, &sub), -EMSGSIZE);
	assert_int_equal(rbuf_left(&r), 3);
}

static void test_peek_u32_near_end(void **state)
{
	static const uint8_t pkt[] = { 0, 0, 0, 1, 2 };
	struct rbuf r;
	uint32_t v;
	(void)state;

	rbuf_init(&r, pkt, sizeof(pkt));
	assert_int_equal(rbuf_peek_u32(&r, 0, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(rbuf_peek_u32(&r, 1, &v), 0);
	assert_int_equal(rbuf_peek_u32(&r, 2, &v), -EMSGSIZE);
	assert_int_equal(rbuf_peek_u32(&r, SIZE_MAX, &v), -EMSGSIZE);
}

static void test_writer_sticky_overflow(void **state)
{
	uint8_t out[6];
	struct wbuf w;
	size_t off;
	(void)state;

	wbuf_init(&w, out, sizeof(out));
	off = wbuf_reserve(&w, 2);
	wbuf_u32(&w, 0x01020304);
	wbuf_put_u16_at(&w, off, 6);
	assert_true(wbuf_ok(&w));
	assert_int_equal(wbuf_len(&w), 6);
	assert_int_equal(out[1], 6);
	assert_int_equal(out[5], 4);
	wbuf_u8(&w, 9);
	assert_false(wbuf_ok(&w));
	assert_int_equal(wbuf_len(&w), 6);
	wbuf_init(&w, out, sizeof(out));
	wbuf_put_u16_at(&w, 0, 1); /* nothing written there yet */
	assert_false(wbuf_ok(&w));
}

static void test_u64_roundtrip(void **state)
{
	uint8_t out[8];
	struct wbuf w;
	struct rbuf r;
	uint64_t v;
	(void)state;

	wbuf_init(&w, out, sizeof(out));
	wbuf_u64(&w, 0x0102030405060708ULL);
	assert_true(wbuf_ok(&w));
	rbuf_init(&r, out, wbuf_len(&w));
	assert_int_equal(rbuf_u64(&r, &v), 0);
	assert_true(v == 0x0102030405060708ULL);
}

/* A writer over bytes already there: fields rewritten in place, nothing past the end. */
static void test_rewrite_in_place(void **state)
{
	uint8_t pkt[4] = { 1, 2, 3, 4 };
	struct wbuf w;

	(void)state;
	wbuf_init_full(&w, pkt, sizeof(pkt));
	assert_int_equal(wbuf_len(&w), 4);
	wbuf_put_u8_at(&w, 1, 0xaa);
	wbuf_put_u16_at(&w, 2, 0xbbcc);
	assert_true(wbuf_ok(&w));
	assert_memory_equal(pkt, "\x01\xaa\xbb\xcc", 4);
	wbuf_put_u16_at(&w, 3, 0xdddd); /* one byte past the end */
	assert_false(wbuf_ok(&w));
	assert_memory_equal(pkt, "\x01\xaa\xbb\xcc", 4);
	wbuf_u8(&w, 5); /* full: no appending either */
	assert_int_equal(wbuf_len(&w), 4);
	wbuf_init_full(&w, NULL, 4);
	wbuf_put_u8_at(&w, 0, 1);
	assert_false(wbuf_ok(&w));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_consume_or_fail),
		cmocka_unit_test(test_short_read_consumes_nothing),
		cmocka_unit_test(test_sub_reader_is_bounded),
		cmocka_unit_test(test_peek_u32_near_end),
		cmocka_unit_test(test_writer_sticky_overflow),
		cmocka_unit_test(test_u64_roundtrip),
		cmocka_unit_test(test_rewrite_in_place),
	};
	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
