/* SPDX-License-Identifier: ISC */
/* The RADIUS client against fake servers on loopback, with a fake clock for timeouts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ikegw/config.h"
#include "ikegw/loop.h"
#include "ikegw/radius.h"
#include "ikegw/radius_client.h"
#include "support/fake_radius.h"

#define SECRET "s3cret-for-tests"

struct fx {
	uint64_t now;
	struct loop *loop;
	struct fake_radius srv[2];
	struct config_radius_server servers[2];
	struct config_radius cfg;
	struct radius_client *c;
	int calls, status;
	uint8_t code;
	size_t msk_len;
	char state[32];
};

static uint64_t fake_now(void *ctx)
{
	return *(uint64_t *)ctx;
}

static void server_cfg(struct fx *f, size_t i)
{
	struct config_radius_server *s = &f->servers[i];

	s->address.family = AF_INET;
	s->address.u.v4.s_addr = htonl(0x7f000001);
	s->port = f->srv[i].port;
	s->secret = SECRET;
}

static struct fx *fx_new(size_t n_servers, uint32_t retries)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct loop_clock clock;

	assert_non_null(f);
	f->now = 1000;
	clock = (struct loop_clock){ fake_now, &f->now };
	f->loop = loop_new(&clock);
	assert_non_null(f->loop);
	for (size_t i = 0; i < n_servers; i++) {
		assert_int_equal(fake_radius_open(&f->srv[i], SECRET), 0);
		server_cfg(f, i);
	}
	f->cfg = (struct config_radius){ .servers = f->servers, .n_servers = n_servers,
					 .timeout = 2, .retries = retries };
	f->c = radius_client_new(f->loop, &f->cfg, NULL);
	assert_non_null(f->c);
	return f;
}

static void fx_free(struct fx *f)
{
	radius_client_free(f->c);
	fake_radius_close(&f->srv[0]);
	if (f->cfg.n_servers > 1)
		fake_radius_close(&f->srv[1]);
	loop_free(f->loop);
	free(f);
}

static void on_answer(void *arg, int status, const struct radius_reply *r)
{
	struct fx *f = arg;

	f->calls++;
	f->status = status;
	f->code = r ? r->code : 0;
	f->msk_len = r ? r->msk_len : 0;
	if (r && r->state.len && r->state.len < sizeof(f->state)) {
		memcpy(f->state, r->state.p, r->state.len);
		f->state[r->state.len] = 0;
	}
}

static const uint8_t eap_identity[] = { 2, 7, 0, 10, 1, 'a', 'l', 'i', 'c', 'e' };

static struct radius_client_req *send_one(struct fx *f)
{
	struct radius_access_request rq = {
		.user_name = (const uint8_t *)"alice", .user_name_len = 5,
		.eap = eap_identity, .eap_len = sizeof(eap_identity),
		.nas_identifier = "vpn.example.test", .calling_station_id = "192.0.2.2",
	};
	struct radius_client_req *r = NULL;

	assert_int_equal(radius_client_send(f->c, &rq, on_answer, f, &r), 0);
	assert_non_null(r);
	return r;
}

/* Let the client read whatever arrived (the fake server answers synchronously). */
static void pump(struct fx *f)
{
	for (int i = 0; i < 5; i++)
		loop_run_once(f->loop, 20);
}

static void advance(struct fx *f, uint64_t ms)
{
	f->now += ms;
	loop_run_timers(f->loop);
}

static void test_accept_with_keys(void **state)
{
	struct fx *f = fx_new(1, 2);
	struct fake_radius_reply rep = { .code = RADIUS_ACCESS_ACCEPT, .mppe = true };
	uint8_t eap[64];
	size_t n;

	(void)state;
	send_one(f);
	assert_int_equal(radius_client_pending(f->c), 1);
	assert_int_equal(fake_radius_recv(&f->srv[0], 1000), 0);
	assert_int_equal(f->srv[0].req[0], RADIUS_ACCESS_REQUEST);
	assert_non_null(fake_radius_attr(&f->srv[0], RADIUS_ATTR_MESSAGE_AUTHENTICATOR, &n));
	assert_non_null(fake_radius_attr(&f->srv[0], RADIUS_ATTR_USER_NAME, &n));
	assert_int_equal(n, 5);
	assert_int_equal(fake_radius_eap(&f->srv[0], eap, sizeof(eap)), sizeof(eap_identity));
	assert_memory_equal(eap, eap_identity, sizeof(eap_identity));
	assert_int_equal(fake_radius_reply(&f->srv[0], &rep), 0);
	pump(f);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->status, 0);
	assert_int_equal(f->code, RADIUS_ACCESS_ACCEPT);
	assert_int_equal(f->msk_len, 64);
	assert_int_equal(radius_client_pending(f->c), 0);
	fx_free(f);
}

static void test_challenge_state(void **state)
{
	struct fx *f = fx_new(1, 2);
	uint8_t req[] = { 1, 8, 0, 6, 26, 1 };
	struct fake_radius_reply rep = { .code = RADIUS_ACCESS_CHALLENGE, .eap = req,
					 .eap_len = sizeof(req), .state = "st-42" };

	(void)state;
	send_one(f);
	assert_int_equal(fake_radius_recv(&f->srv[0], 1000), 0);
	assert_int_equal(fake_radius_reply(&f->srv[0], &rep), 0);
	pump(f);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->code, RADIUS_ACCESS_CHALLENGE);
	assert_string_equal(f->state, "st-42");
	fx_free(f);
}

/* RFC 5080 2.2.1: a retransmission is the same packet (Identifier, Authenticator). */
static void test_retransmit_same_packet(void **state)
{
	struct fx *f = fx_new(1, 2);
	uint8_t first[4096];
	size_t n;

	(void)state;
	send_one(f);
	assert_int_equal(fake_radius_recv(&f->srv[0], 1000), 0);
	n = f->srv[0].req_len;
	memcpy(first, f->srv[0].req, n);
	advance(f, 1999);
	assert_int_equal(fake_radius_recv(&f->srv[0], 50), -ETIMEDOUT);
	advance(f, 1);
	assert_int_equal(fake_radius_recv(&f->srv[0], 1000), 0);
	assert_int_equal(f->srv[0].req_len, n);
	assert_memory_equal(f->srv[0].req, first, n);
	assert_int_equal(f->calls, 0);
	fx_free(f);
}

/* 1 + retries sends, then -ETIMEDOUT exactly once. */
static void test_timeout(void **state)
{
	struct fx *f = fx_new(1, 1);

	(void)state;
	send_one(f);
	assert_int_equal(fake_radius_recv(&f->srv[0], 1000), 0);
	advance(f, 2000);
	assert_int_equal(fake_radius_recv(&f->srv[0], 1000), 0);
	assert_int_equal(f->calls, 0);
	advance(f, 2000);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->status, -ETIMEDOUT);
	assert_int_equal(radius_client_pending(f->c), 0);
	advance(f, 10000);
	assert_int_equal(f->calls, 1);
	fx_free(f);
}

/* The first server is silent: the request moves to the second, which then stays first. */
static void test_failover(void **state)
{
	struct fx *f = fx_new(2, 0);
	struct fake_radius_reply rep = { .code = RADIUS_ACCESS_REJECT };
	uint8_t auth1[16];

	(void)state;
	send_one(f);
	assert_int_equal(fake_radius_recv(&f->srv[0], 1000), 0);
	memcpy(auth1, f->srv[0].req + 4, 16);
	advance(f, 2000);
	assert_int_equal(fake_radius_recv(&f->srv[1], 1000), 0);
	/* Re-encoded for the other server: a fresh Request Authenticator. */
	assert_memory_not_equal(f->srv[1].req + 4, auth1, 16);
	assert_int_equal(fake_radius_reply(&f->srv[1], &rep), 0);
	pump(f);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->code, RADIUS_ACCESS_REJECT);
	send_one(f);
	assert_int_equal(fake_radius_recv(&f->srv[1], 1000), 0);
	assert_int_equal(fake_radius_recv(&f->srv[0], 50), -ETIMEDOUT);
	fx_free(f);
}

/* Forged or damaged replies are dropped; the request keeps waiting for the real one. */
static void test_bad_replies_dropped(void **state)
{
	struct fx *f = fx_new(1, 2);
	struct fake_radius_reply wrong_secret = { .code = RADIUS_ACCESS_ACCEPT, .mppe = true,
						  .secret = "not-the-secret" };
	struct fake_radius_reply bad_auth = { .code = RADIUS_ACCESS_ACCEPT, .bad_resp_auth = true };
	uint8_t eap_success[] = { 3, 7, 0, 4 };
	struct fake_radius_reply no_ma = { .code = RADIUS_ACCESS_ACCEPT, .eap = eap_success,
					   .eap_len = sizeof(eap_success), .no_ma = true };
	struct fake_radius_reply good = { .code = RADIUS_ACCESS_REJECT };

	(void)state;
	send_one(f);
	assert_int_equal(fake_radius_recv(&f->srv[0], 1000), 0);
	assert_int_equal(fake_radius_reply(&f->srv[0], &wrong_secret), 0);
	assert_int_equal(fake_radius_reply(&f->srv[0], &bad_auth), 0);
	assert_int_equal(fake_radius_reply(&f->srv[0], &no_ma), 0);
	pump(f);
	assert_int_equal(f->calls, 0);
	assert_int_equal(radius_client_pending(f->c), 1);
	assert_int_equal(fake_radius_reply(&f->srv[0], &good), 0);
	pump(f);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->code, RADIUS_ACCESS_REJECT);
	fx_free(f);
}

/* A correct reply from another port than the server's is not the server's. */
static void test_wrong_source_dropped(void **state)
{
	struct fx *f = fx_new(1, 2);
	struct fake_radius other;
	struct fake_radius_reply rep = { .code = RADIUS_ACCESS_REJECT };

	(void)state;
	send_one(f);
	assert_int_equal(fake_radius_recv(&f->srv[0], 1000), 0);
	assert_int_equal(fake_radius_open(&other, SECRET), 0);
	memcpy(other.req, f->srv[0].req, f->srv[0].req_len);
	other.req_len = f->srv[0].req_len;
	other.from = f->srv[0].from;
	assert_int_equal(fake_radius_reply(&other, &rep), 0);
	pump(f);
	assert_int_equal(f->calls, 0);
	fake_radius_close(&other);
	fx_free(f);
}

static void test_cancel(void **state)
{
	struct fx *f = fx_new(1, 2);
	struct radius_client_req *r = send_one(f);
	struct fake_radius_reply rep = { .code = RADIUS_ACCESS_REJECT };

	(void)state;
	assert_int_equal(fake_radius_recv(&f->srv[0], 1000), 0);
	radius_client_cancel(f->c, r);
	radius_client_cancel(f->c, NULL);
	assert_int_equal(radius_client_pending(f->c), 0);
	assert_int_equal(fake_radius_reply(&f->srv[0], &rep), 0);
	pump(f);
	advance(f, 60000);
	assert_int_equal(f->calls, 0);
	fx_free(f);
}

/* 256 Identifiers per socket: the 257th outstanding request is refused, not queued. */
static void test_identifiers_bounded(void **state)
{
	struct fx *f = fx_new(1, 2);
	struct radius_access_request rq = { .user_name = (const uint8_t *)"bob",
					    .user_name_len = 3 };
	struct radius_client_req *r;

	(void)state;
	for (int i = 0; i < 256; i++)
		assert_int_equal(radius_client_send(f->c, &rq, on_answer, f, &r), 0);
	assert_int_equal(radius_client_send(f->c, &rq, on_answer, f, &r), -EBUSY);
	assert_int_equal(radius_client_pending(f->c), 256);
	fx_free(f); /* frees pending requests without calling back */
	(void)f;
}

static void test_bad_arguments(void **state)
{
	struct fx *f = fx_new(1, 2);
	struct config_radius none = { 0 };
	struct radius_access_request no_user = { .user_name_len = 0 };
	struct radius_access_request long_nas = { .user_name = (const uint8_t *)"x",
						  .user_name_len = 1,
						  .nas_identifier = "0123456789012345678901234567890123456789012345678901234567890123456789" };
	struct radius_client_req *r;

	(void)state;
	assert_null(radius_client_new(f->loop, &none, NULL));
	assert_null(radius_client_new(f->loop, NULL, NULL));
	assert_int_equal(radius_client_send(f->c, &no_user, on_answer, f, &r), -EINVAL);
	assert_int_equal(radius_client_send(f->c, &long_nas, on_answer, f, &r), -EINVAL);
	assert_int_equal(radius_client_send(f->c, &long_nas, NULL, f, &r), -EINVAL);
	assert_int_equal(radius_client_pending(f->c), 0);
	radius_client_free(NULL);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_with_keys),
		cmocka_unit_test(test_challenge_state),
		cmocka_unit_test(test_retransmit_same_packet),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_failover),
		cmocka_unit_test(test_bad_replies_dropped),
		cmocka_unit_test(test_wrong_source_dropped),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_identifiers_bounded),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests_name("radius_client", tests, NULL, NULL);
}
