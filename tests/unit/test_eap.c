/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ikegw/eap.h"

/* RFC 3748 5.1: an Identity Response "alice", Identifier 1. */
static const uint8_t identity_resp[] = { 2, 1, 0, 10, 1, 'a', 'l', 'i', 'c', 'e' };

static void test_decode_identity(void **state)
{
	struct eap_pkt p;
	char id[16];
	(void)state;

	assert_int_equal(eap_decode(identity_resp, sizeof(identity_resp), &p), 0);
	assert_int_equal(p.code, EAP_CODE_RESPONSE);
	assert_int_equal(p.id, 1);
	assert_int_equal(p.length, 10);
	assert_int_equal(p.type, EAP_TYPE_IDENTITY);
	assert_int_equal(p.data_len, 5);
	assert_int_equal(eap_identity_get(&p, id, sizeof(id)), 0);
	assert_string_equal(id, "alice");
	assert_int_equal(eap_identity_get(&p, id, 5), -ENOSPC);
	assert_int_equal(eap_identity_get(&p, id, 6), 0);
}

static void test_identity_bad(void **state)
{
	uint8_t nul[] = { 2, 1, 0, 8, 1, 'a', 0, 'b' };
	uint8_t req[] = { 1, 1, 0, 5, 1 };
	uint8_t empty[] = { 2, 1, 0, 5, 1 };
	struct eap_pkt p;
	char id[16];
	(void)state;

	assert_int_equal(eap_decode(nul, sizeof(nul), &p), 0);
	assert_int_equal(eap_identity_get(&p, id, sizeof(id)), -EBADMSG);
	assert_int_equal(eap_decode(req, sizeof(req), &p), 0);
	assert_int_equal(eap_identity_get(&p, id, sizeof(id)), -EINVAL);
	assert_int_equal(eap_decode(empty, sizeof(empty), &p), 0);
	assert_int_equal(eap_identity_get(&p, id, sizeof(id)), 0);
	assert_string_equal(id, "");
}

static void test_success_failure(void **state)
{
	uint8_t ok[] = { 3, 9, 0, 4 };
	uint8_t fail[] = { 4, 9, 0, 4 };
	uint8_t with_data[] = { 3, 9, 0, 5, 0 };
	struct eap_pkt p;
	(void)state;

	assert_int_equal(eap_decode(ok, 4, &p), 0);
	assert_int_equal(p.code, EAP_CODE_SUCCESS);
	assert_int_equal(p.type, 0);
	assert_int_equal(p.data_len, 0);
	assert_int_equal(eap_decode(fail, 4, &p), 0);
	assert_int_equal(p.code, EAP_CODE_FAILURE);
	assert_int_equal(eap_decode(with_data, 5, &p), -EBADMSG);
}

static void test_every_truncation(void **state)
{
	uint8_t t[sizeof(identity_resp)];
	struct eap_pkt p;
	(void)state;

	/* Cut short with the original Length: the container disagrees. */
	for (size_t k = 0; k < sizeof(identity_resp); k++)
		assert_int_equal(eap_decode(identity_resp, k, &p), -EBADMSG);
	/* Cut short with a matching Length: fine down to the Type octet. */
	for (size_t k = 0; k < sizeof(identity_resp); k++) {
		memcpy(t, identity_resp, k);
		if (k >= 4)
			t[3] = (uint8_t)k;
		assert_int_equal(eap_decode(t, k, &p), k >= 5 ? 0 : -EBADMSG);
	}
	assert_int_equal(eap_decode(NULL, 0, &p), -EBADMSG);
}

static void test_length_mismatch(void **state)
{
	uint8_t longer[sizeof(identity_resp) + 1];
	uint8_t bad[] = { 2, 1, 0, 3 };
	struct eap_pkt p;
	(void)state;

	memcpy(longer, identity_resp, sizeof(identity_resp));
	longer[sizeof(identity_resp)] = 0;
	/* The container is longer than the EAP Length: no trailing padding here. */
	assert_int_equal(eap_decode(longer, sizeof(longer), &p), -EBADMSG);
	assert_int_equal(eap_decode(bad, sizeof(bad), &p), -EBADMSG);
	longer[0] = 5; /* unknown code */
	longer[3] = sizeof(longer);
	assert_int_equal(eap_decode(longer, sizeof(longer), &p), -EBADMSG);
	longer[0] = 0;
	assert_int_equal(eap_decode(longer, sizeof(longer), &p), -EBADMSG);
}

static void test_nak(void **state)
{
	uint8_t buf[16];
	const uint8_t types[] = { EAP_TYPE_TLS, EAP_TYPE_MSCHAPV2 };
	struct wbuf w;
	struct eap_pkt p;
	(void)state;

	wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(eap_encode_nak(&w, 4, types, 2), 0);
	assert_int_equal(wbuf_len(&w), 7);
	assert_int_equal(eap_decode(buf, 7, &p), 0);
	assert_int_equal(p.type, EAP_TYPE_NAK);
	assert_true(eap_nak_has(&p, EAP_TYPE_MSCHAPV2));
	assert_true(eap_nak_has(&p, EAP_TYPE_TLS));
	assert_false(eap_nak_has(&p, EAP_TYPE_MD5));
	assert_int_equal(eap_decode(identity_resp, sizeof(identity_resp), &p), 0);
	assert_false(eap_nak_has(&p, 'a'));
	assert_int_equal(eap_encode_nak(&w, 4, types, 0), -EINVAL);
}

static void test_encode(void **state)
{
	uint8_t buf[16];
	const uint8_t want_req[] = { 1, 0xff, 0, 5, 1 };
	const uint8_t want_ok[] = { 3, 7, 0, 4 };
	const uint8_t want_fail[] = { 4, 8, 0, 4 };
	struct wbuf w;
	(void)state;

	wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(eap_encode_identity_request(&w, 0xff), 0);
	assert_memory_equal(buf, want_req, 5);
	wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(eap_encode_success(&w, 7), 0);
	assert_int_equal(eap_encode_failure(&w, 8), 0);
	assert_int_equal(wbuf_len(&w), 8);
	assert_memory_equal(buf, want_ok, 4);
	assert_memory_equal(buf + 4, want_fail, 4);
	wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(eap_encode(&w, EAP_CODE_RESPONSE, 1, 1, "alice", 5), 0);
	assert_memory_equal(buf, identity_resp, sizeof(identity_resp));
}

static void test_encode_bad(void **state)
{
	uint8_t buf[8];
	struct wbuf w;
	size_t start;
	(void)state;

	wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(eap_encode(&w, 9, 1, 1, NULL, 0), -EINVAL);
	assert_int_equal(eap_encode(&w, EAP_CODE_SUCCESS, 1, 0, "x", 1), -EINVAL);
	assert_int_equal(eap_encode(&w, EAP_CODE_REQUEST, 1, 1, NULL, 3), -EINVAL);
	assert_int_equal(eap_encode(&w, EAP_CODE_REQUEST, 1, 1, "toolong", 7), -ENOSPC);
	assert_false(wbuf_ok(&w));
	wbuf_init(&w, buf, sizeof(buf));
	start = eap_encode_begin(&w, 0, 1, 1);
	assert_int_equal(start, (size_t)-1);
	assert_int_equal(eap_encode_end(&w, start), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_identity),
		cmocka_unit_test(test_identity_bad),
		cmocka_unit_test(test_success_failure),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_length_mismatch),
		cmocka_unit_test(test_nak),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_encode_bad),
	};

	return cmocka_run_group_tests_name("eap", tests, NULL, NULL);
}
