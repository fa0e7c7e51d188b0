/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ikegw/ikev2.h"
#include "ikegw/proposal.h"

#define IKE IKEV2_PROTO_IKE
#define ESP IKEV2_PROTO_ESP
#define ENCR IKEV2_TRANS_ENCR
#define PRF IKEV2_TRANS_PRF
#define INTEG IKEV2_TRANS_INTEG
#define KE IKEV2_TRANS_KE
#define ESN IKEV2_TRANS_ESN

/* ---- helpers -------------------------------------------------------------------- */

static struct ike_proposal parse_ok(const char *s, uint8_t proto, int legacy)
{
	struct ike_proposal p;
	char err[128] = "";
	int rc = proposal_parse(s, proto, legacy, &p, err, sizeof(err));

	if (rc)
		fail_msg("'%s' failed: %d %s", s, rc, err);
	return p;
}

static void expect_err(const char *s, uint8_t proto, int legacy, int want_rc, const char *reason)
{
	struct ike_proposal p;
	static const struct ike_proposal zero;
	char err[160] = "";

	memset(&p, 0xa5, sizeof(p));
	assert_int_equal(proposal_parse(s, proto, legacy, &p, err, sizeof(err)), want_rc);
	if (!strstr(err, reason))
		fail_msg("'%s': reason '%s' lacks '%s'", s ? s : "(null)", err, reason);
	assert_memory_equal(&p, &zero, sizeof(p)); /* nothing half-parsed leaks out */
}

static size_t count_type(const struct ike_proposal *p, uint8_t type)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_xf; i++)
		n += p->xf[i].type == type;
	return n;
}

/* The i-th transform of a type, in the proposal's order. */
static const struct ike_transform *nth(const struct ike_proposal *p, uint8_t type, size_t i)
{
	for (size_t k = 0; k < p->n_xf; k++)
		if (p->xf[k].type == type && i-- == 0)
			return &p->xf[k];
	return NULL;
}

static void assert_xf(const struct ike_transform *x, uint16_t id, uint16_t keylen)
{
	assert_non_null(x);
	assert_int_equal(x->id, id);
	assert_int_equal(x->keylen, keylen);
}

static void add(struct ike_proposal *p, uint8_t type, uint16_t id, uint16_t keylen)
{
	assert_true(p->n_xf < IKE_PROPOSAL_MAX_XF);
	p->xf[p->n_xf++] = (struct ike_transform){ .type = type, .id = id, .keylen = keylen };
}

static struct ike_proposal *peer_new(struct ike_sa_proposals *sa, uint8_t num, uint8_t proto)
{
	struct ike_proposal *p = &sa->p[sa->n++];

	memset(p, 0, sizeof(*p));
	p->num = num;
	p->protocol = proto;
	return p;
}

static void add_ke_list(struct ike_proposal *p)
{
	/* strongSwan 5.9's default group order */
	static const uint16_t groups[] = { 19, 20, 21, 31, 32, 15, 16, 17, 18, 14 };

	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		add(p, KE, groups[i], 0);
}

static void add_prf_list(struct ike_proposal *p)
{
	add(p, PRF, IKEV2_PRF_HMAC_SHA2_256, 0);
	add(p, PRF, IKEV2_PRF_HMAC_SHA2_384, 0);
	add(p, PRF, IKEV2_PRF_HMAC_SHA2_512, 0);
	add(p, PRF, IKEV2_PRF_HMAC_SHA1, 0);
}

/* strongSwan's default IKE offer: a classic proposal and an AEAD proposal. */
static void strongswan_default_offer(struct ike_sa_proposals *sa)
{
	struct ike_proposal *p1, *p2;

	memset(sa, 0, sizeof(*sa));
	p1 = peer_new(sa, 1, IKE);
	add(p1, ENCR, IKEV2_ENCR_AES_CBC, 128);
	add(p1, ENCR, IKEV2_ENCR_AES_CBC, 192);
	add(p1, ENCR, IKEV2_ENCR_AES_CBC, 256);
	add(p1, INTEG, IKEV2_INTEG_HMAC_SHA2_256_128, 0);
	add(p1, INTEG, IKEV2_INTEG_HMAC_SHA2_384_192, 0);
	add(p1, INTEG, IKEV2_INTEG_HMAC_SHA2_512_256, 0);
	add(p1, INTEG, IKEV2_INTEG_HMAC_SHA1_96, 0);
	add_prf_list(p1);
	add_ke_list(p1);
	p2 = peer_new(sa, 2, IKE);
	add(p2, ENCR, IKEV2_ENCR_AES_GCM_16, 128);
	add(p2, ENCR, IKEV2_ENCR_AES_GCM_16, 192);
	add(p2, ENCR, IKEV2_ENCR_AES_GCM_16, 256);
	add(p2, ENCR, IKEV2_ENCR_CHACHA20_POLY1305, 0);
	add_prf_list(p2);
	add_ke_list(p2);
}

static void parse_list(const char *const *s, size_t n, uint8_t proto, struct ike_proposal *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = parse_ok(s[i], proto, 0);
}

static void assert_format(const struct ike_proposal *p, const char *want)
{
	char buf[256];

	assert_int_equal(proposal_format(p, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

/* ---- parsing: every token ------------------------------------------------------- */

struct token_case {
	const char *token;
	uint8_t type;
	uint16_t id;
	uint16_t keylen;
	int legacy;
	const char *canonical; /* what proposal_format() prints for it */
};

static const struct token_case tokens[] = {
	{ "aes128", ENCR, IKEV2_ENCR_AES_CBC, 128, 0, "aes128" },
	{ "aes192", ENCR, IKEV2_ENCR_AES_CBC, 192, 0, "aes192" },
	{ "aes256", ENCR, IKEV2_ENCR_AES_CBC, 256, 0, "aes256" },
	{ "3des", ENCR, IKEV2_ENCR_3DES, 0, 1, "3des" },
	{ "aes128gcm16", ENCR, IKEV2_ENCR_AES_GCM_16, 128, 0, "aes128gcm16" },
	{ "aes192gcm16", ENCR, IKEV2_ENCR_AES_GCM_16, 192, 0, "aes192gcm16" },
	{ "aes256gcm16", ENCR, IKEV2_ENCR_AES_GCM_16, 256, 0, "aes256gcm16" },
	{ "aes128gcm128", ENCR, IKEV2_ENCR_AES_GCM_16, 128, 0, "aes128gcm16" },
	{ "aes192gcm128", ENCR, IKEV2_ENCR_AES_GCM_16, 192, 0, "aes192gcm16" },
	{ "aes256gcm128", ENCR, IKEV2_ENCR_AES_GCM_16, 256, 0, "aes256gcm16" },
	{ "chacha20poly1305", ENCR, IKEV2_ENCR_CHACHA20_POLY1305, 0, 0, "chacha20poly1305" },
	{ "sha256", INTEG, IKEV2_INTEG_HMAC_SHA2_256_128, 0, 0, "sha256" },
	{ "sha384", INTEG, IKEV2_INTEG_HMAC_SHA2_384_192, 0, 0, "sha384" },
	{ "sha512", INTEG, IKEV2_INTEG_HMAC_SHA2_512_256, 0, 0, "sha512" },
	{ "sha1", INTEG, IKEV2_INTEG_HMAC_SHA1_96, 0, 1, "sha1" },
	{ "prfsha256", PRF, IKEV2_PRF_HMAC_SHA2_256, 0, 0, "prfsha256" },
	{ "prfsha384", PRF, IKEV2_PRF_HMAC_SHA2_384, 0, 0, "prfsha384" },
	{ "prfsha512", PRF, IKEV2_PRF_HMAC_SHA2_512, 0, 0, "prfsha512" },
	{ "prfsha1", PRF, IKEV2_PRF_HMAC_SHA1, 0, 1, "prfsha1" },
	{ "modp2048", KE, IKEV2_KE_MODP2048, 0, 0, "modp2048" },
	{ "modp3072", KE, IKEV2_KE_MODP3072, 0, 0, "modp3072" },
	{ "modp4096", KE, IKEV2_KE_MODP4096, 0, 0, "modp4096" },
	{ "ecp256", KE, IKEV2_KE_ECP256, 0, 0, "ecp256" },
	{ "ecp384", KE, IKEV2_KE_ECP384, 0, 0, "ecp384" },
	{ "ecp521", KE, IKEV2_KE_ECP521, 0, 0, "ecp521" },
	{ "x25519", KE, IKEV2_KE_CURVE25519, 0, 0, "x25519" },
	{ "curve25519", KE, IKEV2_KE_CURVE25519, 0, 0, "x25519" },
	{ "x448", KE, IKEV2_KE_CURVE448, 0, 0, "x448" },
	{ "curve448", KE, IKEV2_KE_CURVE448, 0, 0, "x448" },
	{ "modp1024", KE, IKEV2_KE_MODP1024, 0, 1, "modp1024" },
	{ "modp1536", KE, IKEV2_KE_MODP1536, 0, 1, "modp1536" },
	{ "esn", ESN, IKEV2_ESN_YES, 0, 0, "esn" },
	{ "noesn", ESN, IKEV2_ESN_NO, 0, 0, "noesn" },
};

#define N_TOKENS (sizeof(tokens) / sizeof(tokens[0]))

static int is_aead_token(const struct token_case *t)
{
	return t->type == ENCR &&
	       (t->id == IKEV2_ENCR_AES_GCM_16 || t->id == IKEV2_ENCR_CHACHA20_POLY1305);
}

/* A complete, valid proposal string around one token, in canonical order. */
static uint8_t token_string(const struct token_case *t, const char *name, char *buf,
			    size_t len)
{
	switch (t->type) {
	case ENCR:
		snprintf(buf, len, is_aead_token(t) ? "%s-prfsha256-ecp256" : "%s-sha256-ecp256",
			 name);
		return IKE;
	case INTEG:
		snprintf(buf, len, "aes128-%s-ecp256", name);
		return IKE;
	case PRF:
		snprintf(buf, len, "aes128gcm16-%s-ecp256", name);
		return IKE;
	case KE:
		snprintf(buf, len, "aes128gcm16-prfsha256-%s", name);
		return IKE;
	default:
		snprintf(buf, len, "aes128gcm16-%s", name);
		return ESP;
	}
}

static void test_parse_every_token(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_TOKENS; i++) {
		const struct token_case *t = &tokens[i];
		char s[96];
		uint8_t proto = token_string(t, t->token, s, sizeof(s));
		struct ike_proposal p = parse_ok(s, proto, t->legacy);

		assert_int_equal(p.protocol, proto);
		assert_int_equal(p.num, 0);
		assert_int_equal(p.spi_len, 0);
		assert_int_equal(count_type(&p, t->type), 1);
		assert_xf(proposal_get(&p, t->type), t->id, t->keylen);
	}
}

static void test_parse_every_token_round_trips(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_TOKENS; i++) {
		const struct token_case *t = &tokens[i];
		char s[96], want[96], out[96];
		uint8_t proto = token_string(t, t->token, s, sizeof(s));
		struct ike_proposal p = parse_ok(s, proto, t->legacy), q;

		token_string(t, t->canonical, want, sizeof(want));
		if (t->type == INTEG) /* the implied PRF is left out, as the user wrote it */
			snprintf(want, sizeof(want), "aes128-%s-ecp256", t->canonical);
		assert_int_equal(proposal_format(&p, out, sizeof(out)), 0);
		assert_string_equal(out, want);
		q = parse_ok(out, proto, t->legacy);
		assert_memory_equal(&p, &q, sizeof(p));
	}
}

static void test_parse_legacy_needs_allow_legacy(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_TOKENS; i++) {
		const struct token_case *t = &tokens[i];
		char s[96], reason[96];
		uint8_t proto;

		if (!t->legacy)
			continue;
		proto = token_string(t, t->token, s, sizeof(s));
		snprintf(reason, sizeof(reason), "%s is weak; set allow_legacy to use it",
			 t->token);
		expect_err(s, proto, 0, -EINVAL, reason);
	}
	expect_err("aes256-sha256-modp1024", IKE, 0, -EINVAL,
		   "modp1024 is weak; set allow_legacy to use it");
}

static void test_parse_esp_tokens(void **state)
{
	struct ike_proposal p;
	(void)state;

	p = parse_ok("aes256-sha256", ESP, 0);
	assert_int_equal(p.n_xf, 2);
	assert_null(proposal_get(&p, PRF)); /* no implied PRF outside IKE */
	assert_null(proposal_get(&p, ESN)); /* default: no ESN transform = noesn */
	p = parse_ok("chacha20poly1305-x25519-modp3072", ESP, 0);
	assert_xf(proposal_get(&p, ENCR), IKEV2_ENCR_CHACHA20_POLY1305, 0);
	assert_xf(nth(&p, KE, 0), IKEV2_KE_CURVE25519, 0);
	assert_xf(nth(&p, KE, 1), IKEV2_KE_MODP3072, 0);
	p = parse_ok("aes128gcm16-esn-noesn", ESP, 0);
	assert_xf(nth(&p, ESN, 0), IKEV2_ESN_YES, 0);
	assert_xf(nth(&p, ESN, 1), IKEV2_ESN_NO, 0);
	p = parse_ok("3des-sha1-modp1024", ESP, 1);
	assert_int_equal(p.n_xf, 3);
}

static void test_parse_implied_prf(void **state)
{
	struct ike_proposal p;
	(void)state;

	p = parse_ok("aes256-sha384-modp2048", IKE, 0);
	assert_int_equal(count_type(&p, PRF), 1);
	assert_xf(proposal_get(&p, PRF), IKEV2_PRF_HMAC_SHA2_384, 0);
	p = parse_ok("aes256-sha512-sha256-modp2048", IKE, 0);
	assert_xf(nth(&p, PRF, 0), IKEV2_PRF_HMAC_SHA2_512, 0);
	assert_xf(nth(&p, PRF, 1), IKEV2_PRF_HMAC_SHA2_256, 0);
	p = parse_ok("aes256-sha1-modp2048", IKE, 1);
	assert_xf(proposal_get(&p, PRF), IKEV2_PRF_HMAC_SHA1, 0);
	/* an explicit PRF replaces the implied ones */
	p = parse_ok("aes256-sha256-prfsha512-x25519", IKE, 0);
	assert_int_equal(count_type(&p, PRF), 1);
	assert_xf(proposal_get(&p, PRF), IKEV2_PRF_HMAC_SHA2_512, 0);
	/* AEAD: nothing is implied */
	p = parse_ok("aes256gcm16-prfsha384-x25519", IKE, 0);
	assert_int_equal(p.n_xf, 3);
	assert_null(proposal_get(&p, INTEG));
}

static void test_parse_multiple_per_type(void **state)
{
	struct ike_proposal p;
	(void)state;

	p = parse_ok("aes128-aes256-sha256-modp2048-ecp256", IKE, 0);
	assert_int_equal(p.n_xf, 6);
	assert_xf(nth(&p, ENCR, 0), IKEV2_ENCR_AES_CBC, 128);
	assert_xf(nth(&p, ENCR, 1), IKEV2_ENCR_AES_CBC, 256);
	assert_xf(nth(&p, INTEG, 0), IKEV2_INTEG_HMAC_SHA2_256_128, 0);
	assert_xf(nth(&p, PRF, 0), IKEV2_PRF_HMAC_SHA2_256, 0);
	assert_xf(nth(&p, KE, 0), IKEV2_KE_MODP2048, 0);
	assert_xf(nth(&p, KE, 1), IKEV2_KE_ECP256, 0);
	/* order is kept even when types interleave */
	p = parse_ok("ecp384-aes256gcm16-x25519-prfsha384-aes128gcm16", IKE, 0);
	assert_xf(nth(&p, KE, 0), IKEV2_KE_ECP384, 0);
	assert_xf(nth(&p, KE, 1), IKEV2_KE_CURVE25519, 0);
	assert_xf(nth(&p, ENCR, 1), IKEV2_ENCR_AES_GCM_16, 128);
}

static void test_parse_aliases_and_duplicates(void **state)
{
	struct ike_proposal a, b;
	(void)state;

	a = parse_ok("aes256gcm16-prfsha384-x25519", IKE, 0);
	b = parse_ok("aes256gcm128-prfsha384-curve25519", IKE, 0);
	assert_memory_equal(&a, &b, sizeof(a));
	b = parse_ok("aes256gcm16-aes256gcm128-prfsha384-x25519-curve25519-x25519", IKE, 0);
	assert_memory_equal(&a, &b, sizeof(a));
	b = parse_ok("AES256GCM16-PrfSha384-X25519", IKE, 0);
	assert_memory_equal(&a, &b, sizeof(a));
}

/* ---- parsing: every error path ------------------------------------------------------ */

static void test_parse_errors(void **state)
{
	(void)state;
	expect_err("", IKE, 0, -EINVAL, "empty proposal");
	expect_err(NULL, ESP, 0, -EINVAL, "empty proposal");
	expect_err("aes512-sha256-modp2048", IKE, 0, -EINVAL, "unknown algorithm 'aes512'");
	expect_err("aes256-sha256-modp2047", IKE, 0, -EINVAL, "unknown algorithm 'modp2047'");
	expect_err("aes256 -sha256-modp2048", IKE, 0, -EINVAL, "unknown algorithm 'aes256 '");
	expect_err("aes256gcm", ESP, 0, -EINVAL, "unknown algorithm 'aes256gcm'");
	expect_err("aes128--sha256-ecp256", IKE, 0, -EINVAL, "empty algorithm name");
	expect_err("-aes128-sha256-ecp256", IKE, 0, -EINVAL, "empty algorithm name");
	expect_err("aes128-sha256-ecp256-", IKE, 0, -EINVAL, "empty algorithm name");
	expect_err("-", ESP, 0, -EINVAL, "empty algorithm name");
	expect_err("aes256gcm16-sha256-prfsha256-x25519", IKE, 0, -EINVAL,
		   "AEAD cipher 'aes256gcm16' cannot be combined with integrity algorithm 'sha256'");
	expect_err("chacha20poly1305-sha512", ESP, 0, -EINVAL,
		   "AEAD cipher 'chacha20poly1305' cannot be combined");
	expect_err("aes256gcm16-aes256-sha256-x25519", IKE, 0, -EINVAL,
		   "cannot mix AEAD cipher 'aes256gcm16' and non-AEAD cipher 'aes256'");
	expect_err("aes256-modp2048", IKE, 0, -EINVAL,
		   "cipher 'aes256' needs an integrity algorithm");
	expect_err("aes128-ecp256", ESP, 0, -EINVAL, "cipher 'aes128' needs an integrity algorithm");
	expect_err("sha256-modp2048", IKE, 0, -EINVAL, "proposal needs an encryption algorithm");
	expect_err("ecp256-esn", ESP, 0, -EINVAL, "proposal needs an encryption algorithm");
	expect_err("aes256-sha256", IKE, 0, -EINVAL, "IKE proposal needs a key exchange group");
	expect_err("aes256gcm16-prfsha384", IKE, 0, -EINVAL,
		   "IKE proposal needs a key exchange group");
	expect_err("aes256gcm16-x25519", IKE, 0, -EINVAL,
		   "IKE proposal with AEAD cipher 'aes256gcm16' needs a PRF");
	expect_err("aes256gcm16-prfsha256", ESP, 0, -EINVAL,
		   "PRF 'prfsha256' is only valid in IKE proposals");
	expect_err("aes256gcm16-prfsha256-x25519-esn", IKE, 0, -EINVAL,
		   "'esn' is only valid in ESP proposals");
	expect_err("aes256gcm16-prfsha256-x25519-noesn", IKE, 0, -EINVAL,
		   "'noesn' is only valid in ESP proposals");
	expect_err("aes256gcm16", IKEV2_PROTO_AH, 0, -EINVAL, "unsupported protocol 2");
}

static void test_parse_legacy_each_type(void **state)
{
	(void)state;
	expect_err("3des-sha256-modp2048", IKE, 0, -EINVAL, "3des is weak");
	expect_err("aes128-sha1-modp2048", IKE, 0, -EINVAL, "sha1 is weak");
	expect_err("aes128gcm16-prfsha1-modp2048", IKE, 0, -EINVAL, "prfsha1 is weak");
	expect_err("aes128-sha256-modp1536", IKE, 0, -EINVAL, "modp1536 is weak");
	expect_err("aes128-sha256-MODP1024", ESP, 0, -EINVAL, "modp1024 is weak");
	parse_ok("3des-sha1-modp1024", IKE, 1);
}

static void build_tokens(char *buf, size_t len, size_t n)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + off, len - off, "%s%s", i ? "-" : "",
				 i == 0 ? "aes128gcm16" : i == 1 ? "prfsha256" : "x25519");
		assert_true(w > 0 && (size_t)w < len - off);
		off += (size_t)w;
	}
}

static void test_parse_too_many_transforms(void **state)
{
	char s[1024];
	struct ike_proposal p;
	(void)state;

	build_tokens(s, sizeof(s), IKE_PROPOSAL_MAX_XF);
	p = parse_ok(s, IKE, 0); /* 64 tokens: fine, duplicates collapse */
	assert_int_equal(p.n_xf, 3);
	build_tokens(s, sizeof(s), IKE_PROPOSAL_MAX_XF + 1);
	expect_err(s, IKE, 0, -E2BIG, "too many transforms (at most 64)");
}

static void test_parse_error_buffer_edges(void **state)
{
	struct ike_proposal p;
	char small[8];
	char err[160];
	char longtok[200];
	(void)state;

	/* no room for a reason is fine */
	assert_int_equal(proposal_parse("aes512", IKE, 0, &p, NULL, 0), -EINVAL);
	assert_int_equal(proposal_parse("aes512", IKE, 0, &p, err, 0), -EINVAL);
	/* a short buffer gets a truncated, terminated reason */
	assert_int_equal(proposal_parse("aes512", IKE, 0, &p, small, sizeof(small)), -EINVAL);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(proposal_parse("x", IKE, 0, NULL, err, sizeof(err)), -EINVAL);
	/* a huge unknown token is quoted, but not all of it */
	memset(longtok, 'z', sizeof(longtok) - 1);
	longtok[sizeof(longtok) - 1] = '\0';
	assert_int_equal(proposal_parse(longtok, IKE, 0, &p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown algorithm 'zzzz"));
	assert_true(strlen(err) < 80);
}

/* ---- formatting ----------------------------------------------------------------- */

static void test_format_round_trip_strings(void **state)
{
	static const struct {
		const char *s;
		uint8_t proto;
	} cases[] = {
		{ "aes256gcm16-prfsha384-x25519", IKE },
		{ "aes256gcm16-prfsha256-ecp256", IKE },
		{ "aes256-sha256-modp2048", IKE },
		{ "aes256-sha384-prfsha256-modp2048", IKE },
		{ "aes128-aes256-sha256-sha512-modp2048-ecp256", IKE },
		{ "aes128-sha256-sha384-prfsha384-prfsha256-ecp256", IKE },
		{ "chacha20poly1305-prfsha512-x448", IKE },
		{ "aes256gcm16", ESP },
		{ "aes128gcm16-noesn", ESP },
		{ "aes256gcm16-esn-noesn", ESP },
		{ "aes256-sha256", ESP },
		{ "aes256-sha512-ecp384-esn", ESP },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ike_proposal p = parse_ok(cases[i].s, cases[i].proto, 0);

		assert_format(&p, cases[i].s);
	}
}

static void test_format_edges(void **state)
{
	struct ike_proposal p = parse_ok("aes256gcm16-prfsha384-x25519", IKE, 0);
	struct ike_proposal q = { .protocol = ESP };
	char buf[12];
	(void)state;

	assert_int_equal(proposal_format(&p, buf, sizeof(buf)), -ENOSPC);
	assert_true(strlen(buf) < sizeof(buf));
	assert_int_equal(proposal_format(&p, buf, 0), -EINVAL);
	assert_int_equal(proposal_format(NULL, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(proposal_format(&p, NULL, 8), -EINVAL);
	assert_format(&q, "");
	/* names we never configure still print; NONE transforms are left out */
	add(&q, ENCR, IKEV2_ENCR_AES_CTR, 128);
	add(&q, ENCR, IKEV2_ENCR_AES_GCM_16, 256);
	add(&q, INTEG, IKEV2_INTEG_NONE, 0);
	add(&q, INTEG, IKEV2_INTEG_HMAC_MD5_96, 0);
	add(&q, KE, IKEV2_KE_NONE, 0);
	add(&q, KE, IKEV2_KE_MODP8192, 0);
	add(&q, 9, 7, 0);
	assert_format(&q, "encr13_128-aes256gcm16-integ1-ke18-type9_7");
	/* a PRF that is not the implied one is printed */
	p = parse_ok("aes128-sha256-prfsha384-ecp256", IKE, 0);
	assert_format(&p, "aes128-sha256-prfsha384-ecp256");
}

static void test_get(void **state)
{
	struct ike_proposal p = parse_ok("aes256-aes128-sha256-modp2048", IKE, 0);
	(void)state;

	assert_null(proposal_get(NULL, ENCR));
	assert_null(proposal_get(&p, ESN));
	assert_xf(proposal_get(&p, ENCR), IKEV2_ENCR_AES_CBC, 256); /* the first one */
	p.n_xf = 255; /* a corrupt count never reads past the array */
	assert_null(proposal_get(&p, 77));
}

/* ---- selection: IKE -------------------------------------------------------------- */

static void test_select_strongswan_default_offer(void **state)
{
	static const char *const ours_s[] = { "aes256gcm16-prfsha384-x25519",
					      "aes256gcm16-prfsha256-ecp256",
					      "aes256-sha256-modp2048" };
	struct ike_proposal ours[3], chosen;
	struct ike_sa_proposals peer;
	(void)state;

	parse_list(ours_s, 3, IKE, ours);
	strongswan_default_offer(&peer);
	assert_int_equal(proposal_select(ours, 3, &peer, &chosen), 0);
	assert_int_equal(chosen.num, 2);
	assert_int_equal(chosen.protocol, IKE);
	assert_int_equal(chosen.n_xf, 3);
	assert_xf(proposal_get(&chosen, ENCR), IKEV2_ENCR_AES_GCM_16, 256);
	assert_xf(proposal_get(&chosen, PRF), IKEV2_PRF_HMAC_SHA2_384, 0);
	assert_xf(proposal_get(&chosen, KE), IKEV2_KE_CURVE25519, 0);
	assert_format(&chosen, "aes256gcm16-prfsha384-x25519");
}

static void test_select_our_order_not_theirs(void **state)
{
	struct ike_proposal ours[2], chosen;
	struct ike_sa_proposals peer;
	(void)state;

	strongswan_default_offer(&peer);
	/* their first proposal matches our second: our first still wins */
	ours[0] = parse_ok("chacha20poly1305-prfsha512-x448", IKE, 0);
	ours[1] = parse_ok("aes128-sha256-modp2048", IKE, 0);
	assert_int_equal(proposal_select(ours, 2, &peer, &chosen), 0);
	assert_int_equal(chosen.num, 2);
	assert_format(&chosen, "chacha20poly1305-prfsha512-x448");
	/* within a type, our order wins as well (they list aes128 / sha256 / ecp256 first) */
	ours[0] = parse_ok("aes256-aes128-sha512-sha256-modp2048-ecp256", IKE, 0);
	assert_int_equal(proposal_select(ours, 1, &peer, &chosen), 0);
	assert_int_equal(chosen.num, 1);
	assert_int_equal(chosen.n_xf, 4);
	assert_xf(proposal_get(&chosen, ENCR), IKEV2_ENCR_AES_CBC, 256);
	assert_xf(proposal_get(&chosen, INTEG), IKEV2_INTEG_HMAC_SHA2_512_256, 0);
	assert_xf(proposal_get(&chosen, PRF), IKEV2_PRF_HMAC_SHA2_512, 0);
	assert_xf(proposal_get(&chosen, KE), IKEV2_KE_MODP2048, 0);
}

static void test_select_mismatch(void **state)
{
	struct ike_proposal ours, chosen;
	struct ike_sa_proposals peer;
	(void)state;

	strongswan_default_offer(&peer);
	ours = parse_ok("aes256gcm16-prfsha384-modp1024", IKE, 1);
	memset(&chosen, 0x5a, sizeof(chosen));
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), -ENOENT);
	assert_int_equal(chosen.n_xf, 0);
	ours = parse_ok("3des-sha256-ecp256", IKE, 1);
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), -ENOENT);
	assert_int_equal(proposal_select(&ours, 0, &peer, &chosen), -ENOENT);
	assert_int_equal(proposal_select(NULL, 1, &peer, &chosen), -EINVAL);
	assert_int_equal(proposal_select(&ours, 1, NULL, &chosen), -EINVAL);
	assert_int_equal(proposal_select(&ours, 1, &peer, NULL), -EINVAL);
}

/* Windows' built-in IKEv2 client offers only legacy suites by default. */
static void test_select_windows_legacy_offer(void **state)
{
	static const char *const ours_s[] = { "aes256gcm16-prfsha384-x25519",
					      "aes256-sha256-modp2048" };
	struct ike_proposal ours[2], chosen, *p;
	struct ike_sa_proposals peer = { 0 };
	(void)state;

	parse_list(ours_s, 2, IKE, ours);
	p = peer_new(&peer, 1, IKE);
	add(p, ENCR, IKEV2_ENCR_3DES, 0);
	add(p, INTEG, IKEV2_INTEG_HMAC_SHA1_96, 0);
	add(p, PRF, IKEV2_PRF_HMAC_SHA1, 0);
	add(p, KE, IKEV2_KE_MODP1024, 0);
	p = peer_new(&peer, 2, IKE);
	add(p, ENCR, IKEV2_ENCR_AES_CBC, 256);
	add(p, INTEG, IKEV2_INTEG_HMAC_SHA1_96, 0);
	add(p, PRF, IKEV2_PRF_HMAC_SHA1, 0);
	add(p, KE, IKEV2_KE_MODP1024, 0);
	p = peer_new(&peer, 3, IKE);
	add(p, ENCR, IKEV2_ENCR_AES_CBC, 256);
	add(p, INTEG, IKEV2_INTEG_HMAC_SHA2_256_128, 0);
	add(p, PRF, IKEV2_PRF_HMAC_SHA2_256, 0);
	add(p, KE, IKEV2_KE_MODP1024, 0);
	assert_int_equal(proposal_select(ours, 2, &peer, &chosen), -ENOENT);
	/* the same client with group 14 configured */
	p->xf[3].id = IKEV2_KE_MODP2048;
	assert_int_equal(proposal_select(ours, 2, &peer, &chosen), 0);
	assert_int_equal(chosen.num, 3);
	assert_format(&chosen, "aes256-sha256-modp2048");
}

static void test_select_key_length_must_match(void **state)
{
	struct ike_proposal ours, chosen, *p;
	struct ike_sa_proposals peer = { 0 };
	(void)state;

	ours = parse_ok("aes256-sha256-modp2048", IKE, 0);
	p = peer_new(&peer, 1, IKE);
	add(p, ENCR, IKEV2_ENCR_AES_CBC, 128);
	add(p, INTEG, IKEV2_INTEG_HMAC_SHA2_256_128, 0);
	add(p, PRF, IKEV2_PRF_HMAC_SHA2_256, 0);
	add(p, KE, IKEV2_KE_MODP2048, 0);
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), -ENOENT);
	p->xf[0].keylen = 0; /* AES without its mandatory Key Length (RFC 7296 3.3.5) */
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), -ENOENT);
	p->xf[0].keylen = 256;
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), 0);
	/* GCM-16 with 256 bits is not CBC with 256 bits */
	p->xf[0].id = IKEV2_ENCR_AES_GCM_16;
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), -ENOENT);
}

static void test_select_missing_or_extra_types(void **state)
{
	struct ike_proposal ours, chosen, *p;
	struct ike_sa_proposals peer = { 0 };
	(void)state;

	ours = parse_ok("aes256gcm16-prfsha384-x25519", IKE, 0);
	p = peer_new(&peer, 1, IKE);
	add(p, ENCR, IKEV2_ENCR_AES_GCM_16, 256);
	add(p, KE, IKEV2_KE_CURVE25519, 0);
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), -ENOENT); /* no PRF */
	add(p, PRF, IKEV2_PRF_HMAC_SHA2_384, 0);
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), 0);
	/* INTEG NONE with an AEAD cipher: accepted and echoed (RFC 7296 2.7) */
	add(p, INTEG, IKEV2_INTEG_NONE, 0);
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), 0);
	assert_xf(proposal_get(&chosen, INTEG), IKEV2_INTEG_NONE, 0);
	assert_format(&chosen, "aes256gcm16-prfsha384-x25519");
	/* a real integrity algorithm with it is a type ours does not have */
	p->xf[3].id = IKEV2_INTEG_HMAC_SHA2_256_128;
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), -ENOENT);
	p->n_xf--;
	/* ESN in an IKE proposal, or an unknown type (RFC 9370 ADDKE1 = 6) */
	add(p, ESN, IKEV2_ESN_NO, 0);
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), -ENOENT);
	p->xf[p->n_xf - 1].type = 6;
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), -ENOENT);
	p->xf[p->n_xf - 1].type = 0;
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), -ENOENT);
	/* protocol must match */
	p->n_xf--;
	p->protocol = ESP;
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), -ENOENT);
}

/* A hand-built non-AEAD proposal without INTEG must never pick INTEG NONE. */
static void test_select_integ_none_needs_aead(void **state)
{
	struct ike_proposal ours = { .protocol = ESP }, chosen, *p;
	struct ike_sa_proposals peer = { 0 };
	(void)state;

	add(&ours, ENCR, IKEV2_ENCR_AES_CBC, 256);
	p = peer_new(&peer, 1, ESP);
	add(p, ENCR, IKEV2_ENCR_AES_CBC, 256);
	add(p, INTEG, IKEV2_INTEG_NONE, 0);
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), -ENOENT);
}

static void test_select_rekey_spi_and_duplicate_numbers(void **state)
{
	static const uint8_t spi_a[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t spi_b[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
	struct ike_proposal ours, chosen, *p;
	struct ike_sa_proposals peer = { 0 };
	(void)state;

	ours = parse_ok("aes256gcm16-prfsha384-x25519", IKE, 0);
	p = peer_new(&peer, 1, IKE);
	p->spi_len = 8;
	memcpy(p->spi, spi_a, 8);
	add(p, ENCR, IKEV2_ENCR_AES_GCM_16, 128);
	add(p, PRF, IKEV2_PRF_HMAC_SHA2_384, 0);
	add(p, KE, IKEV2_KE_CURVE25519, 0);
	p = peer_new(&peer, 1, IKE); /* same number again: taken in order */
	p->spi_len = 8;
	memcpy(p->spi, spi_b, 8);
	add(p, ENCR, IKEV2_ENCR_AES_GCM_16, 256);
	add(p, PRF, IKEV2_PRF_HMAC_SHA2_384, 0);
	add(p, KE, IKEV2_KE_CURVE25519, 0);
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), 0);
	assert_int_equal(chosen.num, 1);
	assert_int_equal(chosen.spi_len, 8);
	assert_memory_equal(chosen.spi, spi_b, 8);
}

static void test_select_hostile_counts(void **state)
{
	struct ike_proposal ours, chosen, *p;
	struct ike_sa_proposals peer;
	(void)state;

	ours = parse_ok("aes256gcm16-prfsha384-x25519", IKE, 0);
	memset(&peer, 0, sizeof(peer));
	for (int i = 0; i < IKE_SA_MAX_PROPOSALS; i++) {
		p = peer_new(&peer, (uint8_t)(i + 1), IKE);
		for (int k = 0; k < IKE_PROPOSAL_MAX_XF; k++)
			add(p, ENCR, IKEV2_ENCR_AES_GCM_16, 128);
		p->n_xf = 255;
		p->spi_len = 200;
	}
	peer.n = 255;
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), -ENOENT);
	/* the last transform slot still counts, and SPI length is clamped */
	p = &peer.p[IKE_SA_MAX_PROPOSALS - 1];
	p->xf[IKE_PROPOSAL_MAX_XF - 3] = (struct ike_transform){ ENCR, IKEV2_ENCR_AES_GCM_16, 256 };
	p->xf[IKE_PROPOSAL_MAX_XF - 2] = (struct ike_transform){ PRF, IKEV2_PRF_HMAC_SHA2_384, 0 };
	p->xf[IKE_PROPOSAL_MAX_XF - 1] = (struct ike_transform){ KE, IKEV2_KE_CURVE25519, 0 };
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), 0);
	assert_int_equal(chosen.num, IKE_SA_MAX_PROPOSALS);
	assert_int_equal(chosen.spi_len, IKE_SPI_MAX_LEN);
}

/* ---- selection: ESP ---------------------------------------------------------------- */

static struct ike_proposal *esp_peer(struct ike_sa_proposals *sa, uint8_t num, uint16_t encr,
				     uint16_t keylen)
{
	struct ike_proposal *p = peer_new(sa, num, ESP);

	p->spi_len = 4;
	p->spi[0] = 0xc0;
	p->spi[3] = num;
	add(p, ENCR, encr, keylen);
	return p;
}

static void test_select_esp_esn(void **state)
{
	struct ike_proposal ours, chosen, *p;
	struct ike_sa_proposals peer = { 0 };
	(void)state;

	ours = parse_ok("aes256gcm16", ESP, 0);
	p = esp_peer(&peer, 1, IKEV2_ENCR_AES_GCM_16, 256);
	add(p, ESN, IKEV2_ESN_YES, 0);
	add(p, ESN, IKEV2_ESN_NO, 0);
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), 0);
	assert_int_equal(chosen.spi_len, 4);
	assert_int_equal(chosen.spi[3], 1);
	assert_int_equal(chosen.n_xf, 2);
	assert_xf(proposal_get(&chosen, ESN), IKEV2_ESN_NO, 0);
	assert_format(&chosen, "aes256gcm16-noesn");
	/* only ESN offered, ours says no ESN */
	p->n_xf--;
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), -ENOENT);
	/* ours prefers ESN */
	ours = parse_ok("aes256gcm16-esn-noesn", ESP, 0);
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), 0);
	assert_xf(proposal_get(&chosen, ESN), IKEV2_ESN_YES, 0);
	/* ours insists on ESN, peer without ESN support */
	ours = parse_ok("aes256gcm16-esn", ESP, 0);
	p->xf[1].id = IKEV2_ESN_NO;
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), -ENOENT);
	/* a peer that leaves ESN out entirely matches a proposal that does too */
	ours = parse_ok("aes256gcm16", ESP, 0);
	p->n_xf--;
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), 0);
	assert_null(proposal_get(&chosen, ESN));
}

static void test_select_esp_classic_multiple(void **state)
{
	static const char *const ours_s[] = { "aes256gcm16", "aes128gcm16", "aes256-sha256" };
	struct ike_proposal ours[3], chosen, *p;
	struct ike_sa_proposals peer = { 0 };
	(void)state;

	parse_list(ours_s, 3, ESP, ours);
	/* strongSwan's default ESP offer: aes128/256-cbc + sha256... then aes-gcm */
	p = esp_peer(&peer, 1, IKEV2_ENCR_AES_CBC, 128);
	add(p, ENCR, IKEV2_ENCR_AES_CBC, 256);
	add(p, INTEG, IKEV2_INTEG_HMAC_SHA2_256_128, 0);
	add(p, INTEG, IKEV2_INTEG_HMAC_SHA2_384_192, 0);
	add(p, ESN, IKEV2_ESN_NO, 0);
	p = esp_peer(&peer, 2, IKEV2_ENCR_AES_GCM_16, 128);
	add(p, ESN, IKEV2_ESN_NO, 0);
	assert_int_equal(proposal_select(ours, 3, &peer, &chosen), 0);
	assert_int_equal(chosen.num, 2);
	assert_format(&chosen, "aes128gcm16-noesn");
	peer.n = 1;
	assert_int_equal(proposal_select(ours, 3, &peer, &chosen), 0);
	assert_int_equal(chosen.num, 1);
	assert_format(&chosen, "aes256-sha256-noesn");
}

static void test_select_esp_ke(void **state)
{
	struct ike_proposal ours, chosen, *p;
	struct ike_sa_proposals peer = { 0 };
	(void)state;

	ours = parse_ok("aes256gcm16-ecp256-x25519", ESP, 0);
	p = esp_peer(&peer, 1, IKEV2_ENCR_AES_GCM_16, 256);
	add(p, ESN, IKEV2_ESN_NO, 0);
	/* no KE from the peer: only when KE-less children are accepted */
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), -ENOENT);
	assert_int_equal(proposal_select_flags(&ours, 1, &peer, PROPOSAL_SEL_ACCEPT_NO_KE, &chosen),
			 0);
	assert_null(proposal_get(&chosen, KE));
	/* PFS with a group we list: picked by our order */
	add(p, KE, IKEV2_KE_CURVE25519, 0);
	add(p, KE, IKEV2_KE_ECP256, 0);
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), 0);
	assert_xf(proposal_get(&chosen, KE), IKEV2_KE_ECP256, 0);
	/* a group we do not list: no, even with the flag */
	p->xf[2].id = IKEV2_KE_MODP2048;
	p->xf[3].id = IKEV2_KE_ECP384;
	assert_int_equal(proposal_select_flags(&ours, 1, &peer, PROPOSAL_SEL_ACCEPT_NO_KE, &chosen),
			 -ENOENT);
	/* optional PFS (KE NONE offered) with the flag: NONE is echoed */
	p->xf[3].id = IKEV2_KE_NONE;
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), -ENOENT);
	assert_int_equal(proposal_select_flags(&ours, 1, &peer, PROPOSAL_SEL_ACCEPT_NO_KE, &chosen),
			 0);
	assert_xf(proposal_get(&chosen, KE), IKEV2_KE_NONE, 0);
	/* IKE_AUTH: KE ignored on both sides */
	assert_int_equal(proposal_select_flags(&ours, 1, &peer, PROPOSAL_SEL_SKIP_KE, &chosen), 0);
	assert_null(proposal_get(&chosen, KE));
	assert_format(&chosen, "aes256gcm16-noesn");
}

static void test_select_esp_peer_ke_ours_none(void **state)
{
	struct ike_proposal ours, chosen, *p;
	struct ike_sa_proposals peer = { 0 };
	(void)state;

	ours = parse_ok("aes256gcm16", ESP, 0);
	p = esp_peer(&peer, 1, IKEV2_ENCR_AES_GCM_16, 256);
	add(p, ESN, IKEV2_ESN_NO, 0);
	add(p, KE, IKEV2_KE_MODP2048, 0);
	/* the peer wants PFS, we have no group: NO_PROPOSAL_CHOSEN */
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), -ENOENT);
	assert_int_equal(proposal_select_flags(&ours, 1, &peer, PROPOSAL_SEL_ACCEPT_NO_KE, &chosen),
			 -ENOENT);
	/* ...unless it is IKE_AUTH, where KE does not apply */
	assert_int_equal(proposal_select_flags(&ours, 1, &peer, PROPOSAL_SEL_SKIP_KE, &chosen), 0);
	assert_int_equal(chosen.n_xf, 2);
	/* PFS optional on their side: take NONE */
	add(p, KE, IKEV2_KE_NONE, 0);
	assert_int_equal(proposal_select(&ours, 1, &peer, &chosen), 0);
	assert_xf(proposal_get(&chosen, KE), IKEV2_KE_NONE, 0);
	assert_int_equal(chosen.n_xf, 3);
}

static void test_select_ike_ignores_child_flags(void **state)
{
	struct ike_proposal ours, chosen, *p;
	struct ike_sa_proposals peer = { 0 };
	(void)state;

	ours = parse_ok("aes256gcm16-prfsha384-x25519", IKE, 0);
	p = peer_new(&peer, 1, IKE);
	add(p, ENCR, IKEV2_ENCR_AES_GCM_16, 256);
	add(p, PRF, IKEV2_PRF_HMAC_SHA2_384, 0);
	assert_int_equal(proposal_select_flags(&ours, 1, &peer,
					       PROPOSAL_SEL_ACCEPT_NO_KE | PROPOSAL_SEL_SKIP_KE,
					       &chosen), -ENOENT);
	add(p, KE, IKEV2_KE_NONE, 0);
	assert_int_equal(proposal_select_flags(&ours, 1, &peer, PROPOSAL_SEL_ACCEPT_NO_KE, &chosen),
			 -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_every_token),
		cmocka_unit_test(test_parse_every_token_round_trips),
		cmocka_unit_test(test_parse_legacy_needs_allow_legacy),
		cmocka_unit_test(test_parse_esp_tokens),
		cmocka_unit_test(test_parse_implied_prf),
		cmocka_unit_test(test_parse_multiple_per_type),
		cmocka_unit_test(test_parse_aliases_and_duplicates),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_legacy_each_type),
		cmocka_unit_test(test_parse_too_many_transforms),
		cmocka_unit_test(test_parse_error_buffer_edges),
		cmocka_unit_test(test_format_round_trip_strings),
		cmocka_unit_test(test_format_edges),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_select_strongswan_default_offer),
		cmocka_unit_test(test_select_our_order_not_theirs),
		cmocka_unit_test(test_select_mismatch),
		cmocka_unit_test(test_select_windows_legacy_offer),
		cmocka_unit_test(test_select_key_length_must_match),
		cmocka_unit_test(test_select_missing_or_extra_types),
		cmocka_unit_test(test_select_integ_none_needs_aead),
		cmocka_unit_test(test_select_rekey_spi_and_duplicate_numbers),
		cmocka_unit_test(test_select_hostile_counts),
		cmocka_unit_test(test_select_esp_esn),
		cmocka_unit_test(test_select_esp_classic_multiple),
		cmocka_unit_test(test_select_esp_ke),
		cmocka_unit_test(test_select_esp_peer_ke_ours_none),
		cmocka_unit_test(test_select_ike_ignores_child_flags),
	};
	return cmocka_run_group_tests_name("proposal", tests, NULL, NULL);
}
