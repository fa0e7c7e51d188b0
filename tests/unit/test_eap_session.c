/* SPDX-License-Identifier: ISC */
/*
 * The EAP conversation: Identity, EAP-MSCHAPv2 against local users (a peer built from
 * the RFC 2759 primitives), the RADIUS relay against a fake server on loopback, and the
 * packets that must be dropped or refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>

#include "ikegw/child_sa.h"
#include "ikegw/codec.h"
#include "ikegw/config.h"
#include "ikegw/eap.h"
#include "ikegw/exchange.h"
#include "ikegw/gw.h"
#include "ikegw/ikev2.h"
#include "ikegw/sa_table.h"
#include "ikegw/eap_session.h"
#include "ikegw/loop.h"
#include "ikegw/mschapv2.h"
#include "ikegw/radius.h"
#include "ikegw/radius_client.h"
#include "ikegw/reload.h"
#include "support/fake_radius.h"
#include "support/ike_initiator.h"

#define SECRET "radius-test-secret"

struct fx {
	struct mschapv2_ctx *ms;
	uint8_t alice_hash[16];
	struct eap_session_cfg cfg;
	struct eap_session *s;
	uint8_t out[4096];
	size_t out_len;
	/* relay */
	uint64_t now;
	struct loop *loop;
	struct fake_radius srv;
	struct config_radius_server rs;
	struct config_radius rcfg;
	struct radius_client *rc;
	int done_calls;
	enum eap_session_status done_st;
	uint8_t done_pkt[4096];
	size_t done_len;
};

static int lookup(void *arg, const char *name, uint8_t nt_hash[16])
{
	struct fx *f = arg;

	if (strcmp(name, "alice") != 0)
		return -ENOENT;
	memcpy(nt_hash, f->alice_hash, 16);
	return 0;
}

static uint64_t fake_now(void *ctx)
{
	return *(uint64_t *)ctx;
}

static void on_done(void *arg, uint64_t key, struct eap_session *s, enum eap_session_status st,
		    const uint8_t *pkt, size_t len)
{
	struct fx *f = arg;

	assert_int_equal(key, 0x1234);
	assert_ptr_equal(s, f->s);
	f->done_calls++;
	f->done_st = st;
	assert_true(len <= sizeof(f->done_pkt));
	memcpy(f->done_pkt, pkt, len);
	f->done_len = len;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || !(f->ms = mschapv2_ctx_new()))
		return -1;
	if (mschapv2_nt_hash_ascii(f->ms, "secret", f->alice_hash) != 0)
		return -1;
	f->cfg = (struct eap_session_cfg){ .ike_identity = "client.example.test",
					   .server_name = "vpn.example.test", .mschapv2 = f->ms,
					   .lookup = lookup, .lookup_arg = f, .done = on_done,
					   .done_arg = f, .owner_key = 0x1234 };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	eap_session_free(f->s);
	radius_client_free(f->rc);
	if (f->loop) {
		fake_radius_close(&f->srv);
		loop_free(f->loop);
	}
	mschapv2_ctx_free(f->ms);
	free(f);
	return 0;
}

/* Feed one packet; the status, with the answer in f->out. */
static int feed(struct fx *f, const uint8_t *pkt, size_t len)
{
	struct wbuf w;
	int st;

	wbuf_init(&w, f->out, sizeof(f->out));
	st = eap_session_process(f->s, pkt, len, &w);
	f->out_len = wbuf_len(&w);
	return st;
}

static void decode_out(const struct fx *f, struct eap_pkt *p)
{
	assert_int_equal(eap_decode(f->out, f->out_len, p), 0);
}

/* Start with method; answer the Identity Request with identity. */
static int start_and_identify(struct fx *f, enum config_auth method, const char *identity)
{
	uint8_t pkt[300];
	struct eap_pkt req;
	struct wbuf w;

	f->s = eap_session_new(&f->cfg);
	assert_non_null(f->s);
	wbuf_init(&w, f->out, sizeof(f->out));
	assert_int_equal(eap_session_start(f->s, method, &w), EAP_SESSION_REQUEST);
	f->out_len = wbuf_len(&w);
	decode_out(f, &req);
	assert_int_equal(req.code, EAP_CODE_REQUEST);
	assert_int_equal(req.type, EAP_TYPE_IDENTITY);
	wbuf_init(&w, pkt, sizeof(pkt));
	assert_int_equal(eap_encode(&w, EAP_CODE_RESPONSE, req.id, EAP_TYPE_IDENTITY, identity,
				    strlen(identity)), 0);
	return feed(f, pkt, wbuf_len(&w));
}

struct peer {
	uint8_t peer_ch[16];
	uint8_t nt_response[24];
	uint8_t nt_hash[16];
};

/* The peer answers the Challenge in f->out as name with password. */
static int answer_challenge(struct fx *f, struct peer *p, const char *name, const char *pw)
{
	struct eap_pkt req;
	struct mschapv2_msg m;
	uint8_t pkt[300];
	struct wbuf w;

	decode_out(f, &req);
	assert_int_equal(mschapv2_decode(&req, &m), 0);
	assert_int_equal(m.opcode, MSCHAPV2_OP_CHALLENGE);
	memset(p->peer_ch, 0x5a, sizeof(p->peer_ch));
	assert_int_equal(mschapv2_nt_hash_ascii(f->ms, pw, p->nt_hash), 0);
	assert_int_equal(mschapv2_nt_response(f->ms, m.challenge, p->peer_ch, name, strlen(name),
					      p->nt_hash, p->nt_response), 0);
	wbuf_init(&w, pkt, sizeof(pkt));
	assert_int_equal(mschapv2_encode_response(&w, req.id, m.ms_id, p->peer_ch,
						  p->nt_response, name), 0);
	return feed(f, pkt, wbuf_len(&w));
}

static void test_mschapv2_success(void **state)
{
	struct fx *f = *state;
	struct peer p;
	struct eap_pkt req, ok;
	struct mschapv2_msg m;
	uint8_t ack[16], msk[EAP_SESSION_MSK_MAX], want[MSCHAPV2_MSK_LEN];
	size_t msk_len = 0;
	struct wbuf w;

	assert_int_equal(start_and_identify(f, CONFIG_AUTH_EAP_MSCHAPV2, "alice"),
			 EAP_SESSION_REQUEST);
	assert_string_equal(eap_session_identity(f->s), "alice");
	assert_string_equal(eap_session_method(f->s), "eap-mschapv2");
	assert_int_equal(answer_challenge(f, &p, "alice", "secret"), EAP_SESSION_REQUEST);
	decode_out(f, &req);
	assert_int_equal(mschapv2_decode(&req, &m), 0);
	assert_int_equal(m.opcode, MSCHAPV2_OP_SUCCESS);
	assert_int_equal(eap_session_msk(f->s, msk, sizeof(msk), &msk_len), -EAGAIN);
	wbuf_init(&w, ack, sizeof(ack));
	assert_int_equal(mschapv2_encode_ack(&w, req.id, MSCHAPV2_OP_SUCCESS), 0);
	assert_int_equal(feed(f, ack, wbuf_len(&w)), EAP_SESSION_SUCCESS);
	/* RFC 3748 4.2: the Success carries the Identifier of the Response it answers. */
	decode_out(f, &ok);
	assert_int_equal(ok.code, EAP_CODE_SUCCESS);
	assert_int_equal(ok.id, req.id);
	assert_int_equal(eap_session_msk(f->s, msk, sizeof(msk), &msk_len), 0);
	assert_int_equal(msk_len, MSCHAPV2_MSK_LEN);
	assert_int_equal(mschapv2_msk(f->ms, p.nt_hash, p.nt_response, want), 0);
	assert_memory_equal(msk, want, MSCHAPV2_MSK_LEN);
	assert_int_equal(eap_session_msk(f->s, msk, 8, &msk_len), -ENOSPC);
	assert_false(eap_session_busy(f->s));
	/* Over: more packets are not for us. */
	assert_int_equal(feed(f, ack, wbuf_len(&w)), -EPROTO);
}

static void expect_failure(struct fx *f, int st, const char *reason)
{
	struct eap_pkt fl;
	uint8_t msk[EAP_SESSION_MSK_MAX];
	size_t n;

	assert_int_equal(st, EAP_SESSION_FAILURE);
	decode_out(f, &fl);
	assert_int_equal(fl.code, EAP_CODE_FAILURE);
	assert_string_equal(eap_session_reason(f->s), reason);
	assert_int_equal(eap_session_msk(f->s, msk, sizeof(msk), &n), -EAGAIN);
}

static void test_mschapv2_wrong_password(void **state)
{
	struct fx *f = *state;
	struct peer p;

	assert_int_equal(start_and_identify(f, CONFIG_AUTH_EAP_MSCHAPV2, "alice"),
			 EAP_SESSION_REQUEST);
	expect_failure(f, answer_challenge(f, &p, "alice", "guess"), "wrong password");
}

static void test_mschapv2_unknown_user(void **state)
{
	struct fx *f = *state;
	struct peer p;

	assert_int_equal(start_and_identify(f, CONFIG_AUTH_EAP_MSCHAPV2, "mallory"),
			 EAP_SESSION_REQUEST);
	expect_failure(f, answer_challenge(f, &p, "mallory", "secret"), "unknown user");
}

/* Leases and logs go by the EAP identity: MSCHAPv2 must authenticate that name. */
static void test_mschapv2_name_not_identity(void **state)
{
	struct fx *f = *state;
	struct peer p;

	assert_int_equal(start_and_identify(f, CONFIG_AUTH_EAP_MSCHAPV2, "bob"),
			 EAP_SESSION_REQUEST);
	expect_failure(f, answer_challenge(f, &p, "alice", "secret"),
		       "MSCHAPv2 name is not the EAP identity");
}

static void test_mschapv2_nak(void **state)
{
	struct fx *f = *state;
	struct eap_pkt req;
	uint8_t pkt[16], want = EAP_TYPE_TLS;
	struct wbuf w;

	assert_int_equal(start_and_identify(f, CONFIG_AUTH_EAP_MSCHAPV2, "alice"),
			 EAP_SESSION_REQUEST);
	decode_out(f, &req);
	wbuf_init(&w, pkt, sizeof(pkt));
	assert_int_equal(eap_encode_nak(&w, req.id, &want, 1), 0);
	expect_failure(f, feed(f, pkt, wbuf_len(&w)), "client refused eap-mschapv2 (Nak)");
}

/* RFC 3748 5.1: an empty Identity; the IKE identity stands in. */
static void test_empty_identity_uses_idi(void **state)
{
	struct fx *f = *state;

	assert_int_equal(start_and_identify(f, CONFIG_AUTH_EAP_MSCHAPV2, ""),
			 EAP_SESSION_REQUEST);
	assert_string_equal(eap_session_identity(f->s), "client.example.test");
}

static void test_identity_with_nul_refused(void **state)
{
	struct fx *f = *state;
	struct eap_pkt req;
	uint8_t pkt[16];
	struct wbuf w;

	f->s = eap_session_new(&f->cfg);
	wbuf_init(&w, f->out, sizeof(f->out));
	assert_int_equal(eap_session_start(f->s, CONFIG_AUTH_EAP_MSCHAPV2, &w),
			 EAP_SESSION_REQUEST);
	f->out_len = wbuf_len(&w);
	decode_out(f, &req);
	wbuf_init(&w, pkt, sizeof(pkt));
	assert_int_equal(eap_encode(&w, EAP_CODE_RESPONSE, req.id, EAP_TYPE_IDENTITY, "al\0ice",
				    6), 0);
	expect_failure(f, feed(f, pkt, wbuf_len(&w)), "EAP identity malformed or too long");
}

/* Packets that do not fit are dropped without changing anything. */
static void test_bad_packets_dropped(void **state)
{
	struct fx *f = *state;
	struct eap_pkt req;
	struct wbuf w;
	uint8_t pkt[64], good[16];
	size_t good_len;

	f->s = eap_session_new(&f->cfg);
	assert_int_equal(feed(f, (const uint8_t *)"\x02\x01\x00\x05\x01", 5), -EPROTO);
	wbuf_init(&w, f->out, sizeof(f->out));
	assert_int_equal(eap_session_start(f->s, CONFIG_AUTH_PSK, &w), -EINVAL);
	assert_int_equal(eap_session_start(f->s, CONFIG_AUTH_EAP_MSCHAPV2, &w),
			 EAP_SESSION_REQUEST);
	f->out_len = wbuf_len(&w);
	decode_out(f, &req);
	/* a second start while running */
	wbuf_init(&w, pkt, sizeof(pkt));
	assert_int_equal(eap_session_start(f->s, CONFIG_AUTH_EAP_MSCHAPV2, &w), -EBUSY);
	wbuf_init(&w, good, sizeof(good));
	eap_encode(&w, EAP_CODE_RESPONSE, req.id, EAP_TYPE_IDENTITY, "alice", 5);
	good_len = wbuf_len(&w);
	/* wrong Identifier, a Request, truncated, Length disagreeing, empty */
	memcpy(pkt, good, good_len);
	pkt[1]++;
	assert_int_equal(feed(f, pkt, good_len), -EBADMSG);
	memcpy(pkt, good, good_len);
	pkt[0] = EAP_CODE_REQUEST;
	assert_int_equal(feed(f, pkt, good_len), -EBADMSG);
	for (size_t n = 0; n < good_len; n++)
		assert_int_equal(feed(f, good, n), -EBADMSG);
	memcpy(pkt, good, good_len);
	pkt[3]++;
	assert_int_equal(feed(f, pkt, good_len), -EBADMSG);
	memcpy(pkt, good, good_len);
	pkt[good_len] = 0;
	assert_int_equal(feed(f, pkt, good_len + 1), -EBADMSG);
	/* still waiting for the right one */
	assert_int_equal(feed(f, good, good_len), EAP_SESSION_REQUEST);
	assert_int_equal(eap_session_process(NULL, good, good_len, &w), -EINVAL);
}

static void test_eap_tls_unavailable(void **state)
{
	struct fx *f = *state;

	expect_failure(f, start_and_identify(f, CONFIG_AUTH_EAP_TLS, "alice"),
		       "eap-tls not available");
	assert_string_equal(eap_session_method(f->s), "eap-tls");
}

static void test_ctx_freed_with_session(void **state)
{
	struct fx *f = *state;
	char *ctx = strdup("owner");

	f->s = eap_session_new(&f->cfg);
	eap_session_set_ctx(f->s, ctx, free);
	assert_ptr_equal(eap_session_ctx(f->s), ctx);
	eap_session_free(NULL);
	assert_null(eap_session_ctx(NULL));
	/* teardown frees the session and, with it, ctx (ASan checks) */
}

/* ---- the RADIUS relay ---- */

static void relay_setup(struct fx *f, uint32_t retries)
{
	struct loop_clock clock = { fake_now, &f->now };

	f->now = 1;
	f->loop = loop_new(&clock);
	assert_non_null(f->loop);
	assert_int_equal(fake_radius_open(&f->srv, SECRET), 0);
	f->rs.address.family = AF_INET;
	f->rs.address.u.v4.s_addr = htonl(0x7f000001);
	f->rs.port = f->srv.port;
	f->rs.secret = SECRET;
	f->rcfg = (struct config_radius){ .servers = &f->rs, .n_servers = 1, .timeout = 1,
					  .retries = retries };
	f->rc = radius_client_new(f->loop, &f->rcfg, NULL);
	assert_non_null(f->rc);
	f->cfg.radius = f->rc;
	f->cfg.nas_identifier = "vpn.example.test";
	f->cfg.calling_station_id = "192.0.2.2";
}

static void pump(struct fx *f)
{
	for (int i = 0; i < 5 && f->done_calls == 0; i++)
		loop_run_once(f->loop, 50);
}

static void test_relay_challenge_then_accept(void **state)
{
	struct fx *f = *state;
	uint8_t req[] = { EAP_CODE_REQUEST, 0x42, 0, 6, EAP_TYPE_MD5, 0 };
	uint8_t resp[] = { EAP_CODE_RESPONSE, 0x42, 0, 6, EAP_TYPE_MD5, 1 };
	uint8_t eap[64], msk[EAP_SESSION_MSK_MAX];
	struct fake_radius_reply ch = { .code = RADIUS_ACCESS_CHALLENGE, .eap = req,
					.eap_len = sizeof(req), .state = "round-1" };
	struct fake_radius_reply acc = { .code = RADIUS_ACCESS_ACCEPT, .mppe = true,
					 .class_attr = "staff", .framed_ip = true,
					 .ip = { 10, 99, 0, 77 } };
	const struct eap_session_attrs *a;
	const uint8_t *v;
	size_t n;

	relay_setup(f, 1);
	assert_int_equal(start_and_identify(f, CONFIG_AUTH_EAP_RADIUS, "alice"),
			 EAP_SESSION_PENDING);
	assert_true(eap_session_busy(f->s));
	assert_int_equal(f->out_len, 0);
	/* RFC 3579 3.1: the Identity Response itself goes to the server. */
	assert_int_equal(fake_radius_recv(&f->srv, 1000), 0);
	assert_int_equal(fake_radius_eap(&f->srv, eap, sizeof(eap)), 10);
	assert_null(fake_radius_attr(&f->srv, RADIUS_ATTR_STATE, &n));
	/* a retransmitted IKE request while busy: not processed again */
	assert_int_equal(feed(f, resp, sizeof(resp)), -EBUSY);
	assert_int_equal(fake_radius_reply(&f->srv, &ch), 0);
	pump(f);
	assert_int_equal(f->done_calls, 1);
	assert_int_equal(f->done_st, EAP_SESSION_REQUEST);
	assert_int_equal(f->done_len, sizeof(req));
	assert_memory_equal(f->done_pkt, req, sizeof(req));
	assert_false(eap_session_busy(f->s));
	/* the answer goes back with the server's State */
	assert_int_equal(feed(f, resp, sizeof(resp)), EAP_SESSION_PENDING);
	assert_int_equal(fake_radius_recv(&f->srv, 1000), 0);
	v = fake_radius_attr(&f->srv, RADIUS_ATTR_STATE, &n);
	assert_non_null(v);
	assert_int_equal(n, 7);
	assert_memory_equal(v, "round-1", 7);
	assert_int_equal(fake_radius_reply(&f->srv, &acc), 0);
	f->done_calls = 0;
	pump(f);
	assert_int_equal(f->done_calls, 1);
	assert_int_equal(f->done_st, EAP_SESSION_SUCCESS);
	assert_int_equal(f->done_pkt[0], EAP_CODE_SUCCESS);
	assert_int_equal(f->done_pkt[1], 0x42);
	assert_int_equal(eap_session_msk(f->s, msk, sizeof(msk), &n), 0);
	assert_int_equal(n, 64);
	assert_int_equal(msk[0], 0x11); /* Recv-Key first */
	assert_int_equal(msk[32], 0x22);
	a = eap_session_attrs(f->s);
	assert_int_equal(a->n_class, 1);
	assert_string_equal(a->classes[0], "staff");
	assert_true(a->has_framed_ip);
	assert_memory_equal(a->framed_ip, ((uint8_t[]){ 10, 99, 0, 77 }), 4);
}

/* An answer to another Request than the one relayed last is dropped. */
static void test_relay_wrong_identifier(void **state)
{
	struct fx *f = *state;
	uint8_t req[] = { EAP_CODE_REQUEST, 9, 0, 6, EAP_TYPE_MD5, 0 };
	uint8_t resp[] = { EAP_CODE_RESPONSE, 10, 0, 6, EAP_TYPE_MD5, 1 };
	struct fake_radius_reply ch = { .code = RADIUS_ACCESS_CHALLENGE, .eap = req,
					.eap_len = sizeof(req) };

	relay_setup(f, 1);
	assert_int_equal(start_and_identify(f, CONFIG_AUTH_EAP_RADIUS, "alice"),
			 EAP_SESSION_PENDING);
	assert_int_equal(fake_radius_recv(&f->srv, 1000), 0);
	assert_int_equal(fake_radius_reply(&f->srv, &ch), 0);
	pump(f);
	assert_int_equal(feed(f, resp, sizeof(resp)), -EBADMSG);
}

static void test_relay_reject(void **state)
{
	struct fx *f = *state;
	struct fake_radius_reply rej = { .code = RADIUS_ACCESS_REJECT };

	relay_setup(f, 1);
	assert_int_equal(start_and_identify(f, CONFIG_AUTH_EAP_RADIUS, "alice"),
			 EAP_SESSION_PENDING);
	assert_int_equal(fake_radius_recv(&f->srv, 1000), 0);
	assert_int_equal(fake_radius_reply(&f->srv, &rej), 0);
	pump(f);
	assert_int_equal(f->done_st, EAP_SESSION_FAILURE);
	assert_int_equal(f->done_pkt[0], EAP_CODE_FAILURE);
	assert_string_equal(eap_session_reason(f->s), "RADIUS reject");
}

/* An Accept without MS-MPPE keys leaves nothing to compute AUTH with (RFC 7296 2.16). */
static void test_relay_accept_without_keys(void **state)
{
	struct fx *f = *state;
	struct fake_radius_reply acc = { .code = RADIUS_ACCESS_ACCEPT };

	relay_setup(f, 1);
	assert_int_equal(start_and_identify(f, CONFIG_AUTH_EAP_RADIUS, "alice"),
			 EAP_SESSION_PENDING);
	assert_int_equal(fake_radius_recv(&f->srv, 1000), 0);
	assert_int_equal(fake_radius_reply(&f->srv, &acc), 0);
	pump(f);
	assert_int_equal(f->done_st, EAP_SESSION_FAILURE);
	assert_string_equal(eap_session_reason(f->s), "RADIUS accept without MS-MPPE keys");
}

static void test_relay_timeout(void **state)
{
	struct fx *f = *state;

	relay_setup(f, 1);
	assert_int_equal(start_and_identify(f, CONFIG_AUTH_EAP_RADIUS, "alice"),
			 EAP_SESSION_PENDING);
	f->now += 1000;
	loop_run_timers(f->loop);
	assert_int_equal(f->done_calls, 0);
	f->now += 1000;
	loop_run_timers(f->loop);
	assert_int_equal(f->done_calls, 1);
	assert_int_equal(f->done_st, EAP_SESSION_FAILURE);
	assert_string_equal(eap_session_reason(f->s), "RADIUS timeout");
}

/* Freeing a session while RADIUS has its packet: no callback ever comes. */
static void test_relay_free_while_pending(void **state)
{
	struct fx *f = *state;

	relay_setup(f, 1);
	assert_int_equal(start_and_identify(f, CONFIG_AUTH_EAP_RADIUS, "alice"),
			 EAP_SESSION_PENDING);
	assert_int_equal(radius_client_pending(f->rc), 1);
	eap_session_free(f->s);
	f->s = NULL;
	assert_int_equal(radius_client_pending(f->rc), 0);
	f->now += 10000;
	loop_run_timers(f->loop);
	assert_int_equal(f->done_calls, 0);
}

static void test_relay_without_radius(void **state)
{
	struct fx *f = *state;

	expect_failure(f, start_and_identify(f, CONFIG_AUTH_EAP_RADIUS, "alice"),
		       "no RADIUS server configured");
}

/* ---- the responder's EAP flow in-process (ike_auth.c): a client that stops half way ---- */

#define GW_AT ((time_t)1893456000) /* inside the test PKI's validity */

struct gwh {
	struct gw gw;
	struct config *cfg;
	uint64_t now;
	struct loop_clock clock;
	FILE *log;
	char *logbuf;
	size_t loglen;
	uint8_t *sent;
	size_t sent_len;
	size_t n_sent;
	struct sockaddr_storage gw_addr, cl_addr;
};

static int gw_capture(void *arg, const struct sockaddr_storage *local,
		      const struct sockaddr_storage *peer, bool natt, const uint8_t *msg,
		      size_t len)
{
	struct gwh *h = arg;

	(void)local, (void)peer, (void)natt;
	free(h->sent);
	h->sent = malloc(len);
	assert_non_null(h->sent);
	memcpy(h->sent, msg, len);
	h->sent_len = len;
	h->n_sent++;
	return 0;
}

static void addr4(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in *a = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
}

/* The test gateway's config, as the daemon loads it (a file, with host checks). */
static struct config *gwh_config(void)
{
	const char *top = getenv("IKEGW_TOP");
	char path[] = "/tmp/ikegw-test-eap-XXXXXX", pki[512];
	struct config_errors errs;
	struct config *cfg = NULL;
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	assert_non_null(f);
	snprintf(pki, sizeof(pki), "%s/tests/data/pki", top ? top : ".");
	fprintf(f, "gateway:\n  id: vpn.example.test\n  listen: [192.0.2.1]\n"
		   "  certificate: %s/gateway.crt\n  private_key: %s/gateway.key\n"
		   "trust:\n  ca: [%s/ca-a.crt]\n"
		   "timeouts: { half_open: 30s }\n"
		   "pools:\n  - { name: staff, ipv4: 10.99.0.0/24 }\n"
		   "users:\n  - { name: alice, nt_hash: 878d8014606cda29677a44efa1353fc7 }\n"
		   "profiles:\n  - { name: eap, auth: [eap-mschapv2], pool: staff }\n",
		pki, pki, pki);
	fclose(f);
	config_errors_init(&errs);
	if (config_load(path, &cfg, &errs) != 0)
		config_errors_print(&errs, stderr);
	config_errors_clear(&errs);
	unlink(path);
	assert_non_null(cfg);
	return cfg;
}

static struct gwh *gwh_new(void)
{
	struct gwh *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	h->cfg = gwh_config();
	h->log = open_memstream(&h->logbuf, &h->loglen);
	h->now = 1000000;
	h->clock = (struct loop_clock){ fake_now, &h->now };
	assert_int_equal(gw_init(&h->gw, h->cfg, &h->clock, h->log), 0);
	h->gw.send = gw_capture;
	h->gw.send_arg = h;
	h->gw.fixed_time = GW_AT;
	addr4(&h->gw_addr, "192.0.2.1", 500);
	addr4(&h->cl_addr, "198.51.100.7", 500);
	return h;
}

static void gwh_free(struct gwh *h)
{
	gw_fini(&h->gw, false);
	config_free(h->cfg);
	fclose(h->log);
	free(h->logbuf);
	free(h->sent);
	free(h);
}

static bool gwh_logged(struct gwh *h, const char *s)
{
	fflush(h->log);
	return h->logbuf && strstr(h->logbuf, s);
}

/* IKE_SA_INIT, then an IKE_AUTH with IDi and no AUTH: the client asks for EAP. */
static void gwh_start_eap(struct gwh *h, struct ikei *c, struct ike_msg *m, uint8_t *plain)
{
	struct ike_proposal ike, esp;
	struct ikei_sa_init_opts o = { .props = &ike, .n_props = 1,
				       .ke_group = IKEV2_KE_CURVE25519, .sig_hash = true };
	uint8_t buf[4096], inner[1024];
	struct wbuf w, wi;
	struct codec_enc e;
	struct ike_ts any = { .type = IKEV2_TS_IPV4_ADDR_RANGE, .end_port = 0xffff,
			      .end = { 255, 255, 255, 255 } };
	uint8_t first;

	assert_int_equal(ikei_proposal("aes256gcm16-prfsha384-x25519", IKEV2_PROTO_IKE, &ike),
			 0);
	assert_int_equal(ikei_proposal("aes256gcm16", IKEV2_PROTO_ESP, &esp), 0);
	assert_int_equal(ikei_init(c, h->gw.suite, &h->cl_addr, &h->gw_addr), 0);
	wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(ikei_sa_init_build(c, &o, &w), 0);
	ike_recv(&h->gw, &h->gw_addr, &h->cl_addr, false, buf, wbuf_len(&w));
	assert_int_equal(ikei_sa_init_process(c, h->sent, h->sent_len, m), 0);
	child_sa_set_spi(&esp, 0x01020304);
	wbuf_init(&wi, inner, sizeof(inner));
	codec_enc_begin_chain(&e, &wi);
	codec_enc_id(&e, IKEV2_PL_IDI, IKEV2_ID_RFC822_ADDR, (const uint8_t *)"x@example.test",
		     14);
	codec_enc_sa(&e, &esp, 1);
	codec_enc_ts(&e, IKEV2_PL_TSI, &any, 1);
	codec_enc_ts(&e, IKEV2_PL_TSR, &any, 1);
	assert_int_equal(codec_enc_end_chain(&e, &first), 0);
	wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(ikei_request_build(c, IKEV2_EXCH_IKE_AUTH, inner, wbuf_len(&wi), first,
					    &w), 0);
	ike_recv(&h->gw, &h->gw_addr, &h->cl_addr, false, buf, wbuf_len(&w));
	assert_int_equal(ikei_decrypt(c, h->sent, h->sent_len, m, plain, IKEI_MSG_MAX), 0);
}

/* RFC 7296 2.16: our first answer is IDr, CERT, AUTH (verifiable) and EAP-Identity. */
static void test_gw_first_answer_and_half_open(void **state)
{
	struct gwh *h = gwh_new();
	struct ikei c;
	struct ike_msg *m = calloc(1, sizeof(*m));
	uint8_t *plain = malloc(IKEI_MSG_MAX);
	const struct ike_payload *eap;

	(void)state;
	assert_non_null(m);
	assert_non_null(plain);
	gwh_start_eap(h, &c, m, plain);
	assert_int_equal(ikei_verify_responder(&c, m, NULL), 0);
	eap = codec_msg_find(m, IKEV2_PL_EAP, 0);
	assert_non_null(eap);
	assert_int_equal(eap->u.eap.code, EAP_CODE_REQUEST);
	assert_int_equal(eap->u.eap.type, EAP_TYPE_IDENTITY);
	assert_int_equal(sa_table_count(h->gw.sas), 1);
	/* the client goes silent: timeouts.half_open later nothing is left */
	h->now += 29999;
	loop_run_timers(h->gw.loop);
	assert_int_equal(sa_table_count(h->gw.sas), 1);
	h->now += 1;
	loop_run_timers(h->gw.loop);
	assert_int_equal(sa_table_count(h->gw.sas), 0);
	assert_true(gwh_logged(h, "authentication failed: 198.51.100.7 identity "
				  "'x@example.test' method eap-mschapv2: client stopped answering"));
	assert_int_equal(h->gw.ctr.auth_failures, 1);
	ikei_fini(&c);
	free(plain);
	free(m);
	gwh_free(h);
}

/* An EAP round whose request carries no EAP payload is refused, and the SA goes. */
static void test_gw_missing_eap_refused(void **state)
{
	struct gwh *h = gwh_new();
	struct ikei c;
	struct ike_msg *m = calloc(1, sizeof(*m));
	uint8_t *plain = malloc(IKEI_MSG_MAX), inner[64], buf[512] = { 0 };
	struct wbuf w, wi;
	struct codec_enc e;
	uint8_t first;

	(void)state;
	gwh_start_eap(h, &c, m, plain);
	wbuf_init(&wi, inner, sizeof(inner));
	codec_enc_begin_chain(&e, &wi);
	codec_enc_auth(&e, IKEV2_AUTH_PSK, buf, 32); /* AUTH where EAP belongs */
	assert_int_equal(codec_enc_end_chain(&e, &first), 0);
	wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(ikei_request_build(&c, IKEV2_EXCH_IKE_AUTH, inner, wbuf_len(&wi), first,
					    &w), 0);
	ike_recv(&h->gw, &h->gw_addr, &h->cl_addr, false, buf, wbuf_len(&w));
	assert_int_equal(ikei_decrypt(&c, h->sent, h->sent_len, m, plain, IKEI_MSG_MAX), 0);
	assert_non_null(codec_msg_notify(m, IKEV2_N_AUTHENTICATION_FAILED));
	assert_int_equal(sa_table_count(h->gw.sas), 0);
	assert_true(gwh_logged(h, "expected an EAP payload"));
	ikei_fini(&c);
	free(plain);
	free(m);
	gwh_free(h);
}

/*
 * A reload between EAP rounds (a RADIUS MFA prompt keeps a client between rounds for
 * seconds; admins reload at any time) frees the old config and may replace the RADIUS
 * client and credentials: the conversation goes on with the daemon's current objects,
 * never with the ones it started with (under ASan a stale one is a use-after-free).
 */
static void test_gw_reload_between_rounds(void **state)
{
	struct gwh *h = gwh_new();
	struct ikei c;
	struct ike_msg *m = calloc(1, sizeof(*m));
	uint8_t *plain = malloc(IKEI_MSG_MAX), inner[128], buf[1024];
	const struct ike_payload *eap;
	struct reload_report rep;
	struct wbuf w, wi;
	struct codec_enc e;
	uint8_t first, id;
	const char *name = "vpn.example.test";
	const uint8_t *rest;
	struct rbuf r;
	size_t n;

	(void)state;
	assert_non_null(m);
	assert_non_null(plain);
	gwh_start_eap(h, &c, m, plain);
	eap = codec_msg_find(m, IKEV2_PL_EAP, 0);
	assert_non_null(eap);
	id = eap->u.eap.id;
	reload_report_init(&rep);
	assert_int_equal(reload_apply(&h->gw, gwh_config(), &rep), 0);
	assert_true(rep.ok);
	reload_report_clear(&rep);
	h->cfg = h->gw.cfg; /* the first config is gone */
	assert_int_equal(sa_table_count(h->gw.sas), 1);

	wbuf_init(&wi, inner, sizeof(inner));
	codec_enc_begin_chain(&e, &wi);
	codec_enc_eap(&e, EAP_CODE_RESPONSE, id, EAP_TYPE_IDENTITY, (const uint8_t *)"alice", 5);
	assert_int_equal(codec_enc_end_chain(&e, &first), 0);
	wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(ikei_request_build(&c, IKEV2_EXCH_IKE_AUTH, inner, wbuf_len(&wi), first,
					    &w), 0);
	ike_recv(&h->gw, &h->gw_addr, &h->cl_addr, false, buf, wbuf_len(&w));
	assert_int_equal(ikei_decrypt(&c, h->sent, h->sent_len, m, plain, IKEI_MSG_MAX), 0);
	eap = codec_msg_find(m, IKEV2_PL_EAP, 0);
	assert_non_null(eap);
	assert_int_equal(eap->u.eap.type, EAP_TYPE_MSCHAPV2);
	/* RFC 2759 via draft-kamath: OpCode, ID, MS-Length, Value-Size 16, Challenge, Name */
	rbuf_init(&r, eap->u.eap.type_data.p, eap->u.eap.type_data.len);
	assert_int_equal(rbuf_skip(&r, 4 + 1 + 16), 0);
	rbuf_rest(&r, &rest, &n);
	assert_int_equal(n, strlen(name));
	assert_memory_equal(rest, name, n);
	ikei_fini(&c);
	free(plain);
	free(m);
	gwh_free(h);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_mschapv2_success),
		T(test_mschapv2_wrong_password),
		T(test_mschapv2_unknown_user),
		T(test_mschapv2_name_not_identity),
		T(test_mschapv2_nak),
		T(test_empty_identity_uses_idi),
		T(test_identity_with_nul_refused),
		T(test_bad_packets_dropped),
		T(test_eap_tls_unavailable),
		T(test_ctx_freed_with_session),
		T(test_relay_challenge_then_accept),
		T(test_relay_wrong_identifier),
		T(test_relay_reject),
		T(test_relay_accept_without_keys),
		T(test_relay_timeout),
		T(test_relay_free_while_pending),
		T(test_relay_without_radius),
		cmocka_unit_test(test_gw_first_answer_and_half_open),
		cmocka_unit_test(test_gw_missing_eap_refused),
		cmocka_unit_test(test_gw_reload_between_rounds),
	};

	return cmocka_run_group_tests_name("eap_session", tests, NULL, NULL);
}
