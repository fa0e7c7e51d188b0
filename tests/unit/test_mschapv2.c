/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "ikegw/eap.h"
#include "ikegw/mschapv2.h"

/* RFC 2759 9.2 (and RFC 3079 3.5.3, which reuses it). */
static const char user[] = "User";
static const uint8_t auth_chal[16] = {
	0x5B, 0x5D, 0x7C, 0x7D, 0x7B, 0x3F, 0x2F, 0x3E,
	0x3C, 0x2C, 0x60, 0x21, 0x32, 0x26, 0x26, 0x28,
};
static const uint8_t peer_chal[16] = {
	0x21, 0x40, 0x23, 0x24, 0x25, 0x5E, 0x26, 0x2A,
	0x28, 0x29, 0x5F, 0x2B, 0x3A, 0x33, 0x7C, 0x7E,
};
static const uint8_t want_chal_hash[8] = { 0xD0, 0x2E, 0x43, 0x86, 0xBC, 0xE9, 0x12, 0x26 };
static const uint8_t nt_hash[16] = {
	0x44, 0xEB, 0xBA, 0x8D, 0x53, 0x12, 0xB8, 0xD6,
	0x11, 0x47, 0x44, 0x11, 0xF5, 0x69, 0x89, 0xAE,
};
static const uint8_t nt_resp[24] = {
	0x82, 0x30, 0x9E, 0xCD, 0x8D, 0x70, 0x8B, 0x5E, 0xA0, 0x8F, 0xAA, 0x39,
	0x81, 0xCD, 0x83, 0x54, 0x42, 0x33, 0x11, 0x4A, 0x3D, 0x85, 0xD6, 0xDF,
};
static const uint8_t want_hash_hash[16] = {
	0x41, 0xC0, 0x0C, 0x58, 0x4B, 0xD2, 0xD9, 0x1C,
	0x40, 0x17, 0xA2, 0xA1, 0x2F, 0xA5, 0x9F, 0x3F,
};
static const char want_auth[] = "S=407A5589115FD0D6209F510FE9C04566932CDA56";
/* RFC 3079 3.5.3 */
static const uint8_t want_master[16] = {
	0xFD, 0xEC, 0xE3, 0x71, 0x7A, 0x8C, 0x83, 0x8C,
	0xB3, 0x88, 0xE5, 0x27, 0xAE, 0x3C, 0xDD, 0x31,
};
static const uint8_t want_send_start128[16] = { /* the server's send key (Magic3) */
	0x8B, 0x7C, 0xDC, 0x14, 0x9B, 0x99, 0x3A, 0x1B,
	0xA1, 0x18, 0xCB, 0x15, 0x3F, 0x56, 0xDC, 0xCB,
};
/* NT hash of "password", as the SPEC's example account stores it. */
static const uint8_t password_nt[16] = {
	0x88, 0x46, 0xf7, 0xea, 0xee, 0x8f, 0xb1, 0x17,
	0xad, 0x06, 0xbd, 0xd8, 0x30, 0xb7, 0x58, 0x6c,
};

static int setup(void **state)
{
	*state = mschapv2_ctx_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	mschapv2_ctx_free(*state);
	return 0;
}

static void test_nt_hash(void **state)
{
	uint8_t h[16];

	assert_int_equal(mschapv2_nt_hash_ascii(*state, "clientPass", h), 0);
	assert_memory_equal(h, nt_hash, 16);
	assert_int_equal(mschapv2_nt_hash_ascii(*state, "password", h), 0);
	assert_memory_equal(h, password_nt, 16);
	assert_int_equal(mschapv2_nt_hash_ascii(*state, "p\xc3\xa4ss", h), -EINVAL);
	assert_int_equal(mschapv2_hash_nt_hash(*state, nt_hash, h), 0);
	assert_memory_equal(h, want_hash_hash, 16);
}

/* The legacy provider must stay out of the default library context. */
static void test_default_context_clean(void **state)
{
	EVP_MD *md4 = EVP_MD_fetch(NULL, "MD4", NULL);
	(void)state;

	assert_null(md4);
	EVP_MD_free(md4);
	ERR_clear_error();
}

static void test_rfc2759_vector(void **state)
{
	uint8_t ch[8], resp[24];
	char auth[MSCHAPV2_AUTH_RESPONSE_LEN + 1];

	assert_int_equal(mschapv2_challenge_hash(peer_chal, auth_chal, user, 4, ch), 0);
	assert_memory_equal(ch, want_chal_hash, 8);
	assert_int_equal(mschapv2_challenge_response(*state, ch, nt_hash, resp), 0);
	assert_memory_equal(resp, nt_resp, 24);
	memset(resp, 0, sizeof(resp));
	assert_int_equal(mschapv2_nt_response(*state, auth_chal, peer_chal, user, 4, nt_hash,
					      resp), 0);
	assert_memory_equal(resp, nt_resp, 24);
	assert_int_equal(mschapv2_auth_response(*state, nt_hash, nt_resp, peer_chal, auth_chal,
						user, 4, auth), 0);
	assert_string_equal(auth, want_auth);
}

static void test_check_authenticator(void **state)
{
	char bad[] = "S=407A5589115FD0D6209F510FE9C04566932CDA57";

	assert_int_equal(mschapv2_check_authenticator(*state, nt_hash, nt_resp, peer_chal,
						      auth_chal, user, 4, want_auth, 42), 0);
	assert_int_equal(mschapv2_check_authenticator(*state, nt_hash, nt_resp, peer_chal,
						      auth_chal, user, 4, bad, 42), -EACCES);
	assert_int_equal(mschapv2_check_authenticator(*state, nt_hash, nt_resp, peer_chal,
						      auth_chal, user, 4, want_auth, 41), -EACCES);
	assert_int_equal(mschapv2_check_authenticator(*state, nt_hash, nt_resp, peer_chal,
						      auth_chal, "user", 4, want_auth, 42),
			 -EACCES);
}

/* The test's own SHA1 of RFC 3079 3.4 GetAsymmetricStartKey, for the Magic2 key. */
static void ref_start_key(const uint8_t mk[16], const char *magic, uint8_t out[16])
{
	uint8_t buf[16 + 40 + 84 + 40], d[20];
	unsigned int len = 0;

	memcpy(buf, mk, 16);
	memset(buf + 16, 0, 40);
	memcpy(buf + 56, magic, 84);
	memset(buf + 140, 0xf2, 40);
	assert_int_equal(EVP_Digest(buf, sizeof(buf), d, &len, EVP_sha1(), NULL), 1);
	memcpy(out, d, 16);
}

static void test_rfc3079_keys(void **state)
{
	static const char magic2[] = "On the client side, this is the send key; "
				     "on the server side, it is the receive key.";
	uint8_t mk[16], k[16], k2[16], ref[16], msk[64], zero[32] = { 0 };

	assert_int_equal(mschapv2_master_key(*state, nt_hash, nt_resp, mk), 0);
	assert_memory_equal(mk, want_master, 16);
	assert_int_equal(mschapv2_start_key(mk, true, true, k, 16), 0);
	assert_memory_equal(k, want_send_start128, 16);
	assert_int_equal(mschapv2_start_key(mk, false, false, k2, 16), 0);
	assert_memory_equal(k2, want_send_start128, 16); /* client receive = server send */
	assert_int_equal(mschapv2_start_key(mk, false, true, k, 16), 0);
	assert_int_equal(mschapv2_start_key(mk, true, false, k2, 16), 0);
	assert_memory_equal(k, k2, 16); /* server receive = client send */
	ref_start_key(mk, magic2, ref);
	assert_memory_equal(k, ref, 16);
	assert_int_equal(mschapv2_start_key(mk, true, true, k, 21), -EINVAL);

	/* MSK = server receive key (Magic2) | server send key (Magic3) | 32 zeros */
	assert_int_equal(mschapv2_msk(*state, nt_hash, nt_resp, msk), 0);
	assert_memory_equal(msk, ref, 16);
	assert_memory_equal(msk + 16, want_send_start128, 16);
	assert_memory_equal(msk + 32, zero, 32);
}

static void test_strip_domain(void **state)
{
	const char *u;
	size_t n;
	(void)state;

	mschapv2_user_strip_domain("CORP\\alice", 10, &u, &n);
	assert_int_equal(n, 5);
	assert_memory_equal(u, "alice", 5);
	mschapv2_user_strip_domain("alice", 5, &u, &n);
	assert_int_equal(n, 5);
	mschapv2_user_strip_domain("a\\b\\", 4, &u, &n);
	assert_int_equal(n, 0);
}

/* ---- packets ---- */

static void decode_wire(const uint8_t *p, size_t n, struct eap_pkt *e, struct mschapv2_msg *m,
			int want)
{
	assert_int_equal(eap_decode(p, n, e), 0);
	assert_int_equal(mschapv2_decode(e, m), want);
}

static void test_challenge_roundtrip(void **state)
{
	uint8_t buf[128];
	struct wbuf w;
	struct eap_pkt e;
	struct mschapv2_msg m;
	(void)state;

	wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(mschapv2_encode_challenge(&w, 7, 7, auth_chal, "ikegw"), 0);
	assert_int_equal(wbuf_len(&w), 4 + 1 + 4 + 1 + 16 + 5);
	assert_int_equal(buf[5], MSCHAPV2_OP_CHALLENGE);
	assert_int_equal(buf[7] << 8 | buf[8], wbuf_len(&w) - 5); /* MS-Length */
	decode_wire(buf, wbuf_len(&w), &e, &m, 0);
	assert_int_equal(m.opcode, MSCHAPV2_OP_CHALLENGE);
	assert_int_equal(m.ms_id, 7);
	assert_memory_equal(m.challenge, auth_chal, 16);
	assert_int_equal(m.name_len, 5);
	assert_memory_equal(m.name, "ikegw", 5);
}

static void test_response_roundtrip(void **state)
{
	uint8_t buf[128];
	struct wbuf w;
	struct eap_pkt e;
	struct mschapv2_msg m;
	(void)state;

	wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(mschapv2_encode_response(&w, 9, 8, peer_chal, nt_resp, "User"), 0);
	assert_int_equal(wbuf_len(&w), 4 + 1 + 4 + 1 + 49 + 4);
	decode_wire(buf, wbuf_len(&w), &e, &m, 0);
	assert_int_equal(m.opcode, MSCHAPV2_OP_RESPONSE);
	assert_int_equal(m.ms_id, 8);
	assert_false(m.ack);
	assert_memory_equal(m.peer_challenge, peer_chal, 16);
	assert_memory_equal(m.nt_response, nt_resp, 24);
	assert_int_equal(m.flags, 0);
	assert_memory_equal(m.name, "User", 4);
}

static void test_success_failure_text(void **state)
{
	uint8_t buf[256];
	struct wbuf w;
	struct eap_pkt e;
	struct mschapv2_msg m;
	const char *want = "E=691 R=0 C=5B5D7C7D7B3F2F3E3C2C602132262628 V=3 M=no";
	(void)state;

	wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(mschapv2_encode_success(&w, 3, 2, want_auth, "hi"), 0);
	decode_wire(buf, wbuf_len(&w), &e, &m, 0);
	assert_int_equal(m.opcode, MSCHAPV2_OP_SUCCESS);
	assert_int_equal(m.message_len, 42 + 5);
	assert_memory_equal(m.message, "S=407A5589115FD0D6209F510FE9C04566932CDA56 M=hi", 47);

	wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(mschapv2_encode_failure(&w, 3, 2, 691, false, auth_chal, "no"), 0);
	decode_wire(buf, wbuf_len(&w), &e, &m, 0);
	assert_int_equal(m.opcode, MSCHAPV2_OP_FAILURE);
	assert_int_equal(m.message_len, strlen(want));
	assert_memory_equal(m.message, want, strlen(want));

	wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(mschapv2_encode_ack(&w, 3, MSCHAPV2_OP_SUCCESS), 0);
	assert_int_equal(wbuf_len(&w), 6);
	decode_wire(buf, 6, &e, &m, 0);
	assert_true(m.ack);
	assert_int_equal(m.opcode, MSCHAPV2_OP_SUCCESS);
	assert_int_equal(mschapv2_encode_ack(&w, 3, MSCHAPV2_OP_RESPONSE), -EINVAL);
}

/* A Response with every field, then each mutation that must fail. */
static size_t build_response(uint8_t *buf, size_t cap)
{
	struct wbuf w;

	wbuf_init(&w, buf, cap);
	assert_int_equal(mschapv2_encode_response(&w, 1, 1, peer_chal, nt_resp, "User"), 0);
	return wbuf_len(&w);
}

static void test_bad_ms_length(void **state)
{
	uint8_t buf[128];
	size_t n = build_response(buf, sizeof(buf));
	struct eap_pkt e;
	struct mschapv2_msg m;
	(void)state;

	buf[8]++; /* MS-Length one more than EAP Length - 5 */
	decode_wire(buf, n, &e, &m, -EBADMSG);
	buf[8] -= 2;
	decode_wire(buf, n, &e, &m, -EBADMSG);
	buf[8]++;
	buf[9] = 48; /* Value-Size */
	decode_wire(buf, n, &e, &m, -EBADMSG);
}

static void test_truncations(void **state)
{
	uint8_t buf[128], t[128];
	size_t n = build_response(buf, sizeof(buf));
	struct eap_pkt e;
	struct mschapv2_msg m;
	(void)state;

	/* Each shorter packet with consistent EAP and MS lengths still must not decode
	 * unless it keeps the whole fixed part (the Name may shrink to nothing). */
	for (size_t k = 5; k < n; k++) {
		memcpy(t, buf, k);
		t[2] = 0;
		t[3] = (uint8_t)k;
		if (k >= 9) {
			t[7] = 0;
			t[8] = (uint8_t)(k - 5);
		}
		assert_int_equal(eap_decode(t, k, &e), 0);
		assert_int_equal(mschapv2_decode(&e, &m), k >= 59 ? 0 : -EBADMSG);
	}
	/* The EAP Length disagreeing with the container. */
	assert_int_equal(eap_decode(buf, n - 1, &e), -EBADMSG);
}

static void test_wrong_code_or_opcode(void **state)
{
	uint8_t buf[128];
	size_t n = build_response(buf, sizeof(buf));
	struct eap_pkt e;
	struct mschapv2_msg m;
	(void)state;

	buf[0] = EAP_CODE_REQUEST; /* a Response OpCode inside a Request */
	decode_wire(buf, n, &e, &m, -EBADMSG);
	buf[0] = EAP_CODE_RESPONSE;
	buf[5] = MSCHAPV2_OP_CHANGE_PASSWORD;
	decode_wire(buf, n, &e, &m, -EBADMSG);
	buf[5] = MSCHAPV2_OP_SUCCESS; /* a Response Success with a body */
	decode_wire(buf, n, &e, &m, -EBADMSG);
	buf[4] = EAP_TYPE_MD5;
	decode_wire(buf, n, &e, &m, -EINVAL);
}

/* ---- the server ---- */

struct users {
	const char *name;
	const uint8_t *hash;
	int calls;
};

static int lookup(void *arg, const char *name, uint8_t out[16])
{
	struct users *u = arg;

	u->calls++;
	if (strcmp(name, u->name) != 0)
		return -ENOENT;
	memcpy(out, u->hash, 16);
	return 0;
}

struct flow {
	struct users users;
	struct mschapv2_server *s;
	uint8_t buf[512];
	struct wbuf w;
	struct eap_pkt e;
	struct mschapv2_msg m;
};

static void flow_start(void **state, struct flow *f, const char *name, const uint8_t *hash)
{
	f->users = (struct users){ name, hash, 0 };
	f->s = mschapv2_server_new(*state, "ikegw", lookup, &f->users);
	assert_non_null(f->s);
	wbuf_init(&f->w, f->buf, sizeof(f->buf));
	assert_int_equal(mschapv2_server_start(f->s, 40, auth_chal, &f->w), 0);
	decode_wire(f->buf, wbuf_len(&f->w), &f->e, &f->m, 0);
	assert_int_equal(f->e.code, EAP_CODE_REQUEST);
	assert_int_equal(f->e.id, 40);
	assert_memory_equal(f->m.challenge, auth_chal, 16);
}

/* Send the peer's packet, then decode the server's answer (if any) into f->e/f->m. */
static int flow_send(struct flow *f, const uint8_t *pkt, size_t n)
{
	struct eap_pkt in;
	int rc;

	assert_int_equal(eap_decode(pkt, n, &in), 0);
	wbuf_init(&f->w, f->buf, sizeof(f->buf));
	rc = mschapv2_server_process(f->s, &in, &f->w);
	if (rc == MSCHAPV2_CONTINUE)
		decode_wire(f->buf, wbuf_len(&f->w), &f->e, &f->m, 0);
	return rc;
}

static int flow_respond(struct flow *f, uint8_t eap_id, const char *name,
			const uint8_t *resp)
{
	uint8_t pkt[128];
	struct wbuf w;

	wbuf_init(&w, pkt, sizeof(pkt));
	assert_int_equal(mschapv2_encode_response(&w, eap_id, 40, peer_chal, resp, name), 0);
	return flow_send(f, pkt, wbuf_len(&w));
}

static int flow_ack(struct flow *f, uint8_t eap_id, uint8_t opcode)
{
	uint8_t pkt[8];
	struct wbuf w;

	wbuf_init(&w, pkt, sizeof(pkt));
	assert_int_equal(mschapv2_encode_ack(&w, eap_id, opcode), 0);
	return flow_send(f, pkt, wbuf_len(&w));
}

static void test_server_success(void **state)
{
	struct flow f;
	uint8_t msk[64], want_msk[64];

	flow_start(state, &f, "User", nt_hash);
	assert_int_equal(mschapv2_server_msk(f.s, msk), -EAGAIN);
	assert_int_equal(flow_respond(&f, 40, "User", nt_resp), MSCHAPV2_CONTINUE);
	assert_int_equal(f.e.id, 41);
	assert_int_equal(f.m.opcode, MSCHAPV2_OP_SUCCESS);
	assert_int_equal(f.m.ms_id, 40);
	assert_true(f.m.message_len > 42);
	assert_memory_equal(f.m.message, want_auth, 42);
	assert_memory_equal(f.m.message + 42, " M=", 3);
	assert_int_equal(mschapv2_server_msk(f.s, msk), -EAGAIN);
	assert_null(mschapv2_server_user(f.s));
	/* A stale Identifier is dropped; the right one completes. */
	assert_int_equal(flow_ack(&f, 40, MSCHAPV2_OP_SUCCESS), -EBADMSG);
	assert_int_equal(flow_ack(&f, 41, MSCHAPV2_OP_SUCCESS), MSCHAPV2_DONE);
	assert_int_equal(mschapv2_server_msk(f.s, msk), 0);
	assert_int_equal(mschapv2_msk(*state, nt_hash, nt_resp, want_msk), 0);
	assert_memory_equal(msk, want_msk, 64);
	assert_string_equal(mschapv2_server_user(f.s), "User");
	assert_int_equal(flow_ack(&f, 41, MSCHAPV2_OP_SUCCESS), -EPROTO);
	mschapv2_server_free(f.s);
}

static void test_server_domain_name(void **state)
{
	struct flow f;

	/* The hash uses "User" even though the peer names itself "CORP\User". */
	flow_start(state, &f, "CORP\\User", nt_hash);
	assert_int_equal(flow_respond(&f, 40, "CORP\\User", nt_resp), MSCHAPV2_CONTINUE);
	assert_int_equal(f.m.opcode, MSCHAPV2_OP_SUCCESS);
	mschapv2_server_free(f.s);
}

static void expect_failure_request(struct flow *f)
{
	static const char head[] = "E=691 R=0 C=";

	assert_int_equal(f->m.opcode, MSCHAPV2_OP_FAILURE);
	assert_int_equal(f->e.id, 41);
	assert_true(f->m.message_len > sizeof(head) - 1 + 32 + 5);
	assert_memory_equal(f->m.message, head, sizeof(head) - 1);
	assert_memory_equal(f->m.message + sizeof(head) - 1 + 32, " V=3 M=", 7);
}

static void test_server_wrong_password(void **state)
{
	struct flow f;
	uint8_t msk[64];

	flow_start(state, &f, "User", password_nt);
	assert_int_equal(flow_respond(&f, 40, "User", nt_resp), MSCHAPV2_CONTINUE);
	expect_failure_request(&f);
	assert_int_equal(flow_ack(&f, 41, MSCHAPV2_OP_FAILURE), MSCHAPV2_FAILED);
	assert_int_equal(mschapv2_server_msk(f.s, msk), -EAGAIN);
	mschapv2_server_free(f.s);
}

static void test_server_unknown_user(void **state)
{
	struct flow f;

	flow_start(state, &f, "alice", nt_hash);
	assert_int_equal(flow_respond(&f, 40, "User", nt_resp), MSCHAPV2_CONTINUE);
	assert_int_equal(f.users.calls, 1);
	expect_failure_request(&f);
	mschapv2_server_free(f.s);
}

static void test_server_peer_rejects_success(void **state)
{
	struct flow f;
	uint8_t msk[64];

	flow_start(state, &f, "User", nt_hash);
	assert_int_equal(flow_respond(&f, 40, "User", nt_resp), MSCHAPV2_CONTINUE);
	assert_int_equal(flow_ack(&f, 41, MSCHAPV2_OP_FAILURE), MSCHAPV2_FAILED);
	assert_int_equal(mschapv2_server_msk(f.s, msk), -EAGAIN);
	mschapv2_server_free(f.s);
}

static void test_server_bad_input(void **state)
{
	struct flow f;
	uint8_t nak[] = { 2, 40, 0, 6, EAP_TYPE_NAK, 13 };
	uint8_t pkt[128];
	struct wbuf w;

	flow_start(state, &f, "User", nt_hash);
	assert_int_equal(flow_respond(&f, 39, "User", nt_resp), -EBADMSG); /* wrong EAP id */
	/* wrong MS-CHAPv2-ID */
	wbuf_init(&w, pkt, sizeof(pkt));
	assert_int_equal(mschapv2_encode_response(&w, 40, 41, peer_chal, nt_resp, "User"), 0);
	assert_int_equal(flow_send(&f, pkt, wbuf_len(&w)), -EBADMSG);
	/* an acknowledgement before any Success/Failure */
	assert_int_equal(flow_ack(&f, 40, MSCHAPV2_OP_SUCCESS), -EBADMSG);
	/* a Name holding a NUL */
	wbuf_init(&w, pkt, sizeof(pkt));
	assert_int_equal(mschapv2_encode_response(&w, 40, 40, peer_chal, nt_resp, "Usex"), 0);
	pkt[wbuf_len(&w) - 1] = 0;
	assert_int_equal(flow_send(&f, pkt, wbuf_len(&w)), -EBADMSG);
	assert_int_equal(f.users.calls, 0);
	/* still usable, then a Nak ends it */
	assert_int_equal(flow_send(&f, nak, sizeof(nak)), MSCHAPV2_FAILED);
	assert_int_equal(flow_respond(&f, 40, "User", nt_resp), -EPROTO);
	mschapv2_server_free(f.s);
	mschapv2_server_free(NULL);
}

static void test_server_random_challenge(void **state)
{
	struct mschapv2_server *s = mschapv2_server_new(*state, "ikegw", lookup, NULL);
	uint8_t buf[64];
	struct wbuf w;

	assert_non_null(s);
	wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(mschapv2_server_start(s, 1, NULL, &w), 0);
	assert_int_equal(mschapv2_server_start(s, 1, NULL, &w), -EINVAL); /* only once */
	mschapv2_server_free(s);
	assert_null(mschapv2_server_new(*state, "ikegw", NULL, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nt_hash),
		cmocka_unit_test(test_default_context_clean),
		cmocka_unit_test(test_rfc2759_vector),
		cmocka_unit_test(test_check_authenticator),
		cmocka_unit_test(test_rfc3079_keys),
		cmocka_unit_test(test_strip_domain),
		cmocka_unit_test(test_challenge_roundtrip),
		cmocka_unit_test(test_response_roundtrip),
		cmocka_unit_test(test_success_failure_text),
		cmocka_unit_test(test_bad_ms_length),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_wrong_code_or_opcode),
		cmocka_unit_test(test_server_success),
		cmocka_unit_test(test_server_domain_name),
		cmocka_unit_test(test_server_wrong_password),
		cmocka_unit_test(test_server_unknown_user),
		cmocka_unit_test(test_server_peer_rejects_success),
		cmocka_unit_test(test_server_bad_input),
		cmocka_unit_test(test_server_random_challenge),
	};

	return cmocka_run_group_tests_name("mschapv2", tests, setup, teardown);
}
