/* SPDX-License-Identifier: ISC */
/*
 * A real exchange between two strongSwan 5.9.8 charons (tests/data/captures/exchange.txt,
 * made by make-capture.sh): IKE_SA_INIT and IKE_AUTH, certificate auth with ECDSA P-256,
 * aes256gcm16-prfsha384-x25519, plus the keys the responder logged.  Checks our codec,
 * rules, key derivation, SK decryption and signature verification against what an
 * independent implementation put on the wire.
 */
#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "ikegw/buf.h"
#include "ikegw/cert.h"
#include "ikegw/codec.h"
#include "ikegw/ikev2.h"
#include "ikegw/keymat.h"
#include "ikegw/prf.h"
#include "ikegw/rules.h"
#include "ikegw/sig.h"
#include "ikegw/sk.h"
#include "ikegw/suite.h"

#define N_MSGS 4
#define MAX_KEYS 16

struct blob {
	uint8_t *p;
	size_t len;
};

struct cap {
	struct blob msg[N_MSGS];
	char dir[N_MSGS];
	size_t n_msgs;
	char key_name[MAX_KEYS][48];
	struct blob key[MAX_KEYS];
	size_t n_keys;
	struct crypto_suite *suite;
	struct ike_keys *keys; /* derived by us */
};

/* ---- exchange.txt ---- */

/* Flip bits of one octet of a message copy, through the writer (no raw indexing). */
static void flip(uint8_t *p, size_t len, size_t off, uint8_t mask)
{
	struct wbuf w;
	uint8_t *b;

	wbuf_init(&w, p, len);
	w.len = len; /* everything is written already */
	b = wbuf_at(&w, off, 1);
	assert_non_null(b);
	*b ^= mask;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int unhex(const char *s, struct blob *out)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n % 2)
		return -EINVAL;
	out->len = n / 2;
	out->p = malloc(out->len ? out->len : 1);
	if (!out->p)
		return -ENOMEM;
	for (size_t i = 0; i < out->len; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out->p[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* "<dir> <sport> <dport> <hex>" or "key <name> <hex>"; '#' lines are comments. */
static void parse_line(struct cap *c, const char *line)
{
	char name[48], hex[8192];
	unsigned sport, dport;
	char dir;

	if (line[0] == '#' || line[0] == '\n')
		return;
	if (sscanf(line, "key %47s %8191s", name, hex) == 2) {
		assert_true(c->n_keys < MAX_KEYS);
		snprintf(c->key_name[c->n_keys], sizeof(c->key_name[0]), "%s", name);
		assert_int_equal(unhex(hex, &c->key[c->n_keys++]), 0);
	} else if (sscanf(line, "%c %u %u %8191s", &dir, &sport, &dport, hex) == 4) {
		assert_true(c->n_msgs < N_MSGS);
		assert_true(dir == 'i' || dir == 'r');
		c->dir[c->n_msgs] = dir;
		assert_int_equal(unhex(hex, &c->msg[c->n_msgs++]), 0);
	} else {
		fail_msg("unparsable line in exchange.txt: %.40s", line);
	}
}

static const struct blob *key_get(const struct cap *c, const char *name)
{
	for (size_t i = 0; i < c->n_keys; i++)
		if (strcmp(c->key_name[i], name) == 0)
			return &c->key[i];
	fail_msg("exchange.txt has no key %s", name);
	return NULL;
}

/* ---- decoding helpers ---- */

static void decode(const struct blob *b, struct ike_msg *m)
{
	struct codec_err err = { 0 };

	if (codec_decode_msg(b->p, b->len, m, &err) != 0)
		fail_msg("codec: %s", err.reason);
}

static const struct codec_view *nonce_of(const struct ike_msg *m)
{
	const struct ike_payload *p = codec_msg_find(m, IKEV2_PL_NONCE, 0);

	assert_non_null(p);
	return &p->body;
}

static void spi_bytes(uint64_t spi, uint8_t out[8])
{
	struct wbuf w;

	wbuf_init(&w, out, 8);
	wbuf_u64(&w, spi);
}

/* IKE keys from the capture's nonces and SPIs and the logged g^ir. */
static int derive(struct cap *c)
{
	struct ike_msg *m1 = malloc(sizeof(*m1)), *m2 = malloc(sizeof(*m2));
	const struct blob *shared = key_get(c, "shared_Diffie_Hellman_secret");
	struct keymat_ike_in in = {
		.prf = suite_prf_find(IKEV2_PRF_HMAC_SHA2_384),
		.encr = suite_encr_find(IKEV2_ENCR_AES_GCM_16, 256),
		.shared = shared->p, .shared_len = shared->len,
	};
	int rc;

	assert_non_null(m1);
	assert_non_null(m2);
	decode(&c->msg[0], m1);
	decode(&c->msg[1], m2);
	in.ni = nonce_of(m1)->p;
	in.ni_len = nonce_of(m1)->len;
	in.nr = nonce_of(m2)->p;
	in.nr_len = nonce_of(m2)->len;
	spi_bytes(m2->hdr.spi_i, in.spi_i);
	spi_bytes(m2->hdr.spi_r, in.spi_r);
	rc = keymat_ike_derive(c->suite, &in, &c->keys);
	free(m1);
	free(m2);
	return rc;
}

static int setup(void **state)
{
	struct cap *c = calloc(1, sizeof(*c));
	const char *top = getenv("IKEGW_TOP");
	char path[512], *line = NULL;
	size_t cap = 0;
	FILE *f;

	assert_non_null(c);
	snprintf(path, sizeof(path), "%s/tests/data/captures/exchange.txt", top ? top : ".");
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	while (getline(&line, &cap, f) > 0)
		parse_line(c, line);
	free(line);
	fclose(f);
	assert_int_equal(c->n_msgs, N_MSGS);
	c->suite = crypto_suite_new();
	assert_non_null(c->suite);
	assert_int_equal(derive(c), 0);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct cap *c = *state;

	for (size_t i = 0; i < c->n_msgs; i++)
		free(c->msg[i].p);
	for (size_t i = 0; i < c->n_keys; i++) {
		OPENSSL_cleanse(c->key[i].p, c->key[i].len);
		free(c->key[i].p);
	}
	keymat_ike_free(c->keys);
	crypto_suite_free(c->suite);
	free(c);
	return 0;
}

/* Decrypt message i (SK_ei for the client's, SK_er for the responder's) into m. */
static void decrypt(struct cap *c, size_t i, struct ike_msg *m, uint8_t *plain)
{
	const struct sk_dir_keys *k = c->dir[i] == 'i' ? &c->keys->i : &c->keys->r;
	struct codec_err err = { 0 };
	size_t plain_len = 0;

	decode(&c->msg[i], m);
	assert_int_equal(m->enc.type, IKEV2_PL_SK);
	assert_int_equal(sk_unprotect(c->suite, k, c->msg[i].p, c->msg[i].len, m->enc.hdr_off,
				      plain, c->msg[i].len, &plain_len), 0);
	if (codec_decode_chain(m->enc.inner_next, plain, plain_len, m, &err) != 0 ||
	    rules_check(m, &err) != 0)
		fail_msg("inner chain: %s", err.reason);
}

/* ---- tests ---- */

static void test_decode_init(void **state)
{
	struct cap *c = *state;
	struct ike_msg *m = malloc(sizeof(*m));
	const struct ike_proposal *p;
	struct codec_err err = { 0 };

	assert_non_null(m);
	for (size_t i = 0; i < 2; i++) {
		decode(&c->msg[i], m);
		assert_int_equal(rules_check(m, &err), 0);
		assert_int_equal(m->hdr.exchange, IKEV2_EXCH_IKE_SA_INIT);
		assert_int_equal(!!(m->hdr.flags & IKEV2_FLAG_RESPONSE), c->dir[i] == 'r');
		assert_true(m->has_sa);
		assert_int_equal(m->sa.n, 1);
		p = &m->sa.p[0];
		assert_int_equal(p->protocol, IKEV2_PROTO_IKE);
		assert_int_equal(proposal_get(p, IKEV2_TRANS_ENCR)->id, IKEV2_ENCR_AES_GCM_16);
		assert_int_equal(proposal_get(p, IKEV2_TRANS_ENCR)->keylen, 256);
		assert_int_equal(proposal_get(p, IKEV2_TRANS_PRF)->id, IKEV2_PRF_HMAC_SHA2_384);
		assert_int_equal(proposal_get(p, IKEV2_TRANS_KE)->id, IKEV2_KE_CURVE25519);
		assert_int_equal(codec_msg_find(m, IKEV2_PL_KE, 0)->u.ke.group,
				 IKEV2_KE_CURVE25519);
		assert_int_equal(codec_msg_find(m, IKEV2_PL_KE, 0)->u.ke.data.len, 32);
		assert_int_equal(nonce_of(m)->len, 32);
		assert_non_null(codec_msg_notify(m, IKEV2_N_NAT_DETECTION_SOURCE_IP));
		assert_non_null(codec_msg_notify(m, IKEV2_N_NAT_DETECTION_DESTINATION_IP));
		assert_non_null(codec_msg_notify(m, IKEV2_N_SIGNATURE_HASH_ALGORITHMS));
	}
	assert_non_null(codec_msg_find(m, IKEV2_PL_CERTREQ, 0)); /* the responder's */
	free(m);
}

static void check_key(const uint8_t *ours, size_t len, const struct blob *logged)
{
	assert_int_equal(len, logged->len);
	assert_memory_equal(ours, logged->p, len);
}

static void test_keys(void **state)
{
	struct cap *c = *state;
	struct ike_msg *m1 = malloc(sizeof(*m1)), *m2 = malloc(sizeof(*m2));
	const struct suite_prf *prf = c->keys->prf;
	const struct blob *shared = key_get(c, "shared_Diffie_Hellman_secret");
	uint8_t seed[SUITE_MAX_PRF_OUT], nonces[2 * CODEC_NONCE_MAX];
	struct crypto_chunk ch = { shared->p, shared->len };
	const struct codec_view *ni, *nr;
	struct wbuf w;
	size_t ek = 32 + 4; /* AES-256-GCM key and salt (RFC 5282 7.1) */

	assert_non_null(m1);
	assert_non_null(m2);
	decode(&c->msg[0], m1);
	decode(&c->msg[1], m2);
	ni = nonce_of(m1);
	nr = nonce_of(m2);
	/* SKEYSEED = prf(Ni | Nr, g^ir) (RFC 7296 2.14); keymat does not export it */
	wbuf_init(&w, nonces, sizeof(nonces));
	wbuf_bytes(&w, ni->p, ni->len);
	wbuf_bytes(&w, nr->p, nr->len);
	assert_true(wbuf_ok(&w));
	assert_int_equal(prf_compute(c->suite, prf, nonces, wbuf_len(&w), &ch, 1, seed), 0);
	check_key(seed, prf->out_len, key_get(c, "SKEYSEED"));
	check_key(c->keys->d, prf->key_len, key_get(c, "Sk_d"));
	check_key(c->keys->i.ek, ek, key_get(c, "Sk_ei"));
	check_key(c->keys->r.ek, ek, key_get(c, "Sk_er"));
	check_key(c->keys->pi, prf->key_len, key_get(c, "Sk_pi"));
	check_key(c->keys->pr, prf->key_len, key_get(c, "Sk_pr"));
	assert_null(c->keys->i.integ);
	OPENSSL_cleanse(seed, sizeof(seed));
	free(m1);
	free(m2);
}

static void check_id(const struct ike_msg *m, uint8_t pl, uint8_t type, const char *want)
{
	const struct ike_payload *p = codec_msg_find(m, pl, 0);
	char text[128];

	assert_non_null(p);
	assert_true(p->inner);
	assert_int_equal(p->u.id.type, type);
	assert_int_equal(codec_id_string(&p->u.id, text, sizeof(text)), 0);
	assert_string_equal(text, want);
}

static void check_child_payloads(const struct ike_msg *m, uint8_t cfg_type)
{
	const struct ike_payload *cp = codec_msg_find(m, IKEV2_PL_CP, 0);

	assert_non_null(codec_msg_find(m, IKEV2_PL_CERT, 0));
	assert_int_equal(codec_msg_find(m, IKEV2_PL_CERT, 0)->u.cert.encoding,
			 IKEV2_CERT_X509_SIG);
	assert_int_equal(codec_msg_find(m, IKEV2_PL_AUTH, 0)->u.auth.method,
			 IKEV2_AUTH_DIGITAL_SIGNATURE);
	assert_non_null(cp);
	assert_int_equal(cp->u.cp.cfg_type, cfg_type);
	assert_true(m->has_sa);
	assert_int_equal(m->sa.p[0].protocol, IKEV2_PROTO_ESP);
	assert_int_equal(m->sa.p[0].spi_len, 4);
	assert_int_equal(proposal_get(&m->sa.p[0], IKEV2_TRANS_ENCR)->id, IKEV2_ENCR_AES_GCM_16);
	assert_non_null(codec_msg_find(m, IKEV2_PL_TSI, 0));
	assert_non_null(codec_msg_find(m, IKEV2_PL_TSR, 0));
	assert_non_null(codec_msg_find(m, IKEV2_PL_NOTIFY, 0));
}

static void test_auth_request(void **state)
{
	struct cap *c = *state;
	struct ike_msg *m = malloc(sizeof(*m));
	uint8_t *plain = malloc(c->msg[2].len);

	assert_non_null(m);
	assert_non_null(plain);
	decrypt(c, 2, m, plain);
	assert_int_equal(m->hdr.exchange, IKEV2_EXCH_IKE_AUTH);
	assert_int_equal(m->hdr.msg_id, 1);
	assert_false(m->hdr.flags & IKEV2_FLAG_RESPONSE);
	check_id(m, IKEV2_PL_IDI, IKEV2_ID_RFC822_ADDR, "client@example.test");
	check_id(m, IKEV2_PL_IDR, IKEV2_ID_FQDN, "vpn.example.test");
	check_child_payloads(m, IKEV2_CFG_REQUEST);
	free(plain);
	free(m);
}

static void test_auth_response(void **state)
{
	struct cap *c = *state;
	struct ike_msg *m = malloc(sizeof(*m));
	uint8_t *plain = malloc(c->msg[3].len);
	const struct ike_payload *cp;
	struct ike_cfg_attr a;
	struct codec_err err;
	struct rbuf it, v;
	uint8_t vip[4] = { 0 };
	bool got = false;

	assert_non_null(m);
	assert_non_null(plain);
	decrypt(c, 3, m, plain);
	assert_true(m->hdr.flags & IKEV2_FLAG_RESPONSE);
	assert_int_equal(m->hdr.msg_id, 1);
	check_id(m, IKEV2_PL_IDR, IKEV2_ID_FQDN, "vpn.example.test");
	assert_null(codec_msg_find(m, IKEV2_PL_IDI, 0));
	check_child_payloads(m, IKEV2_CFG_REPLY);
	cp = codec_msg_find(m, IKEV2_PL_CP, 0);
	rbuf_init(&it, cp->u.cp.attrs.p, cp->u.cp.attrs.len);
	while (codec_cp_next(&it, &a, &err) == 1) {
		rbuf_init(&v, a.value.p, a.value.len);
		if (a.type == IKEV2_CFG_INTERNAL_IP4_ADDRESS)
			got = rbuf_copy(&v, vip, 4) == 0;
	}
	assert_true(got); /* from the responder's pool 10.99.0.0/24 */
	assert_int_equal(vip[0], 10);
	assert_int_equal(vip[1], 99);
	free(plain);
	free(m);
}

/*
 * RFC 7296 2.15 / RFC 7427: verify AUTH of message i over msg | nonce | prf(SK_px, ID')
 * with the key of its first CERT.  tamper flips one octet of the signed octets.
 */
static int verify_auth(struct cap *c, size_t i, bool tamper)
{
	bool client = c->dir[i] == 'i';
	struct ike_msg *m = malloc(sizeof(*m)), *peer = malloc(sizeof(*peer));
	uint8_t *plain = malloc(c->msg[i].len), maced[SUITE_MAX_PRF_OUT], *octets;
	const struct ike_payload *id, *auth, *cert;
	const struct codec_view *nonce;
	const unsigned char *der;
	struct crypto_chunk ch;
	struct sig_octets o;
	const struct blob *signed_msg = &c->msg[client ? 0 : 1];
	struct wbuf w;
	X509 *x;
	int rc;

	assert_non_null(m);
	assert_non_null(peer);
	assert_non_null(plain);
	decrypt(c, i, m, plain);
	decode(&c->msg[client ? 1 : 0], peer); /* the other side's nonce is signed */
	nonce = nonce_of(peer);
	id = codec_msg_find(m, client ? IKEV2_PL_IDI : IKEV2_PL_IDR, 0);
	auth = codec_msg_find(m, IKEV2_PL_AUTH, 0);
	cert = codec_msg_find(m, IKEV2_PL_CERT, 0);
	ch = (struct crypto_chunk){ id->body.p, id->body.len };
	assert_int_equal(prf_compute(c->suite, c->keys->prf, client ? c->keys->pi : c->keys->pr,
				     c->keys->prf->key_len, &ch, 1, maced), 0);
	o = (struct sig_octets){ signed_msg->p, signed_msg->len, nonce->p, nonce->len, maced,
				 c->keys->prf->out_len };
	octets = malloc(sig_octets_len(&o));
	assert_non_null(octets);
	wbuf_init(&w, octets, sig_octets_len(&o));
	assert_int_equal(sig_octets_build(&o, &w), 0);
	if (tamper)
		flip(octets, wbuf_len(&w), 40, 0x01);
	der = cert->u.cert.data.p;
	x = d2i_X509(NULL, &der, (long)cert->u.cert.data.len);
	assert_non_null(x);
	rc = sig_verify(cert_pubkey(x), auth->u.auth.method, auth->u.auth.data.p,
			auth->u.auth.data.len, octets, wbuf_len(&w));
	X509_free(x);
	free(octets);
	free(plain);
	free(peer);
	free(m);
	return rc;
}

static void test_client_signature(void **state)
{
	assert_int_equal(verify_auth(*state, 2, false), 0);
	assert_int_equal(verify_auth(*state, 2, true), -EACCES);
}

static void test_responder_signature(void **state)
{
	assert_int_equal(verify_auth(*state, 3, false), 0);
	assert_int_equal(verify_auth(*state, 3, true), -EACCES);
}

/* The client's certificate binds the identity it claimed (RFC 4945 3.1). */
static void test_client_cert_binds_id(void **state)
{
	struct cap *c = *state;
	struct ike_msg *m = malloc(sizeof(*m));
	uint8_t *plain = malloc(c->msg[2].len);
	const struct ike_payload *cert, *id;
	const unsigned char *der;
	X509 *x;

	assert_non_null(m);
	assert_non_null(plain);
	decrypt(c, 2, m, plain);
	cert = codec_msg_find(m, IKEV2_PL_CERT, 0);
	id = codec_msg_find(m, IKEV2_PL_IDI, 0);
	der = cert->u.cert.data.p;
	x = d2i_X509(NULL, &der, (long)cert->u.cert.data.len);
	assert_non_null(x);
	assert_int_equal(cert_match_id(x, id->u.id.type, id->u.id.data.p, id->u.id.data.len), 0);
	assert_int_equal(EVP_PKEY_get_base_id(cert_pubkey(x)), EVP_PKEY_EC);
	X509_free(x);
	free(plain);
	free(m);
}

/* Any flipped bit in the ciphertext or tag makes the AEAD refuse it. */
static void test_tampered_capture(void **state)
{
	struct cap *c = *state;
	struct ike_msg *m = malloc(sizeof(*m));
	uint8_t *copy = malloc(c->msg[2].len), *plain = malloc(c->msg[2].len);
	size_t plain_len = 0;

	assert_non_null(m);
	assert_non_null(copy);
	assert_non_null(plain);
	decode(&c->msg[2], m);
	memcpy(copy, c->msg[2].p, c->msg[2].len);
	flip(copy, c->msg[2].len, c->msg[2].len - 20, 0x04);
	assert_int_equal(sk_unprotect(c->suite, &c->keys->i, copy, c->msg[2].len, m->enc.hdr_off,
				      plain, c->msg[2].len, &plain_len), SK_ERR_AUTH);
	/* the responder's keys do not open the client's message */
	assert_int_equal(sk_unprotect(c->suite, &c->keys->r, c->msg[2].p, c->msg[2].len,
				      m->enc.hdr_off, plain, c->msg[2].len, &plain_len),
			 SK_ERR_AUTH);
	free(plain);
	free(copy);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_init),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_auth_request),
		cmocka_unit_test(test_auth_response),
		cmocka_unit_test(test_client_signature),
		cmocka_unit_test(test_responder_signature),
		cmocka_unit_test(test_client_cert_binds_id),
		cmocka_unit_test(test_tampered_capture),
	};

	return cmocka_run_group_tests_name("captured", tests, setup, teardown);
}
