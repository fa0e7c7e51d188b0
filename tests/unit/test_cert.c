/* SPDX-License-Identifier: ISC */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ikegw/cert.h"
#include "ikegw/ikev2.h"

/* 2030-01-01T00:00:00Z: inside every test certificate's validity but client-expired's. */
#define AT ((time_t)1893456000)

/* Test PKI from tests/data/pki/mkpki.sh; IKEGW_TOP is set by tests/run.sh. */
static const char *pki(char *buf, size_t len, const char *name)
{
	const char *top = getenv("IKEGW_TOP");

	snprintf(buf, len, "%s/tests/data/pki/%s", top ? top : ".", name);
	return buf;
}

struct der {
	uint8_t *p;
	struct cert_der d;
};

static X509 *load_x509(const char *name)
{
	char path[512];
	BIO *bio = BIO_new_file(pki(path, sizeof(path), name), "r");
	X509 *x;

	assert_non_null(bio);
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	assert_non_null(x);
	return x;
}

static struct der load_der(const char *name)
{
	X509 *x = load_x509(name);
	struct der d = { NULL, { NULL, 0 } };
	int n = i2d_X509(x, &d.p);

	assert_true(n > 0);
	d.d.der = d.p;
	d.d.len = (size_t)n;
	X509_free(x);
	return d;
}

struct stores {
	struct cert_store *a_crl;   /* CA-A + its CRLs */
	struct cert_store *a;       /* CA-A, no CRLs */
	struct cert_store *b;       /* CA-B */
};

static struct cert_store *store(const char *ca1, const char *ca2, const char *crl1,
				const char *crl2)
{
	char p[4][512];
	const char *cas[2], *crls[2];
	size_t n_ca = 0, n_crl = 0;
	struct cert_error err;
	struct cert_store *st;

	cas[n_ca++] = pki(p[0], sizeof(p[0]), ca1);
	if (ca2)
		cas[n_ca++] = pki(p[1], sizeof(p[1]), ca2);
	if (crl1)
		crls[n_crl++] = pki(p[2], sizeof(p[2]), crl1);
	if (crl2)
		crls[n_crl++] = pki(p[3], sizeof(p[3]), crl2);
	st = cert_store_new(cas, n_ca, crls, n_crl, &err);
	if (!st)
		print_error("store: %s\n", err.reason);
	return st;
}

static int setup(void **state)
{
	static struct stores s;

	s.a_crl = store("ca-a.crt", NULL, "ca-a.crl", "int-a.crl");
	s.a = store("ca-a.crt", NULL, NULL, NULL);
	s.b = store("ca-b.crt", NULL, NULL, NULL);
	*state = &s;
	return s.a_crl && s.a && s.b ? 0 : -1;
}

static int teardown(void **state)
{
	struct stores *s = *state;

	cert_store_free(s->a_crl);
	cert_store_free(s->a);
	cert_store_free(s->b);
	return 0;
}

/* Verify one leaf (plus an optional intermediate) and return the status. */
static int verify(const struct cert_store *st, const char *leaf, const char *inter,
		  time_t at, struct cert_error *err)
{
	struct der l = load_der(leaf), i = { NULL, { NULL, 0 } };
	struct cert_der chain[2];
	size_t n = 1;
	int rc;

	chain[0] = l.d;
	if (inter) {
		i = load_der(inter);
		chain[n++] = i.d;
	}
	rc = cert_chain_verify(st, chain, n, at, NULL, NULL, err);
	OPENSSL_free(l.p);
	OPENSSL_free(i.p);
	return rc;
}

static void test_good_clients(void **state)
{
	static const char *const good[] = {
		"client-ecdsa.crt", "client-rsa.crt", "client-ed25519.crt",
		"client-ipsecike.crt", "client-noeku.crt",
	};
	struct stores *s = *state;
	struct cert_error err;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(verify(s->a_crl, good[i], NULL, AT, &err), CERT_OK);
		assert_int_equal(verify(s->a, good[i], NULL, AT, &err), CERT_OK);
	}
}

static void test_leaf_and_anchor_returned(void **state)
{
	struct stores *s = *state;
	struct der l = load_der("client-ecdsa.crt");
	X509 *ca = load_x509("ca-a.crt"), *leaf = NULL, *anchor = NULL;
	struct cert_error err;
	char subj[128];

	assert_int_equal(cert_chain_verify(s->a_crl, &l.d, 1, AT, &leaf, &anchor, &err), 0);
	assert_non_null(leaf);
	assert_non_null(anchor);
	assert_int_equal(X509_cmp(anchor, ca), 0);
	cert_subject_text(leaf, subj, sizeof(subj));
	assert_string_equal(subj, "C=XX, O=ikegw test, CN=alice");
	assert_true(EVP_PKEY_is_a(cert_pubkey(leaf), "EC"));
	cert_subject_text(leaf, subj, 6);
	assert_string_equal(subj, "C=XX,");
	X509_free(leaf);
	X509_free(anchor);
	X509_free(ca);
	OPENSSL_free(l.p);
}

static void test_intermediate(void **state)
{
	struct stores *s = *state;
	struct cert_error err;

	assert_int_equal(verify(s->a_crl, "client-int.crt", "int-a.crt", AT, &err), CERT_OK);
	assert_int_equal(verify(s->a, "client-int.crt", "int-a.crt", AT, &err), CERT_OK);
	/* without the intermediate there is no path */
	assert_int_equal(verify(s->a, "client-int.crt", NULL, AT, &err), CERT_E_UNTRUSTED);
	assert_int_equal(err.status, CERT_E_UNTRUSTED);
	assert_non_null(strstr(err.reason, "unable to get local issuer certificate"));
	/* an unrelated extra certificate does no harm */
	assert_int_equal(verify(s->a, "client-ecdsa.crt", "int-a.crt", AT, &err), CERT_OK);
}

static void test_expired_and_time(void **state)
{
	struct stores *s = *state;
	struct cert_error err;

	assert_int_equal(verify(s->a_crl, "client-expired.crt", NULL, AT, &err), CERT_E_EXPIRED);
	assert_non_null(strstr(err.reason, "certificate has expired"));
	assert_non_null(strstr(err.reason, "CN=erin"));
	assert_int_equal(err.depth, 0);
	/* the verification time is ours to choose */
	assert_int_equal(verify(s->a, "client-ecdsa.crt", NULL, (time_t)4891363200, &err),
			 CERT_E_EXPIRED); /* 2125 */
	assert_int_equal(verify(s->a, "client-ecdsa.crt", NULL, (time_t)1262304000, &err),
			 CERT_E_NOT_YET_VALID); /* 2010 */
	assert_non_null(strstr(err.reason, "not yet valid"));
}

static void test_wrong_ca(void **state)
{
	struct stores *s = *state;
	struct cert_error err;

	assert_int_equal(verify(s->a_crl, "client-cab.crt", NULL, AT, &err), CERT_E_UNTRUSTED);
	assert_non_null(strstr(err.reason, "unable to get local issuer certificate"));
	assert_int_equal(verify(s->b, "client-cab.crt", NULL, AT, &err), CERT_OK);
	assert_int_equal(verify(s->b, "client-ecdsa.crt", NULL, AT, &err), CERT_E_UNTRUSTED);
	/* a CA certificate sent as the leaf is not trusted by itself */
	assert_int_equal(verify(s->a, "ca-b.crt", NULL, AT, &err), CERT_E_UNTRUSTED);
}

static void test_revoked(void **state)
{
	struct stores *s = *state;
	struct cert_error err;

	assert_int_equal(verify(s->a_crl, "client-revoked.crt", NULL, AT, &err), CERT_E_REVOKED);
	assert_non_null(strstr(err.reason, "certificate revoked"));
	/* without CRLs nobody knows */
	assert_int_equal(verify(s->a, "client-revoked.crt", NULL, AT, &err), CERT_OK);
}

/* With CRLs configured, a trusted CA without one fails closed. */
static void test_crl_missing(void **state)
{
	struct cert_store *st = store("ca-a.crt", "ca-b.crt", "ca-a.crl", NULL);
	struct cert_error err;
	(void)state;

	assert_non_null(st);
	assert_int_equal(verify(st, "client-cab.crt", NULL, AT, &err), CERT_E_CRL);
	assert_non_null(strstr(err.reason, "CRL"));
	/* the intermediate has no CRL here either: CRL_CHECK_ALL */
	assert_int_equal(verify(st, "client-int.crt", "int-a.crt", AT, &err), CERT_E_CRL);
	assert_int_equal(verify(st, "client-ecdsa.crt", NULL, AT, &err), CERT_OK);
	cert_store_free(st);
}

static void test_wrong_eku_and_key_usage(void **state)
{
	struct stores *s = *state;
	struct cert_error err;

	assert_int_equal(verify(s->a_crl, "client-serverauth.crt", NULL, AT, &err), CERT_E_EKU);
	assert_non_null(strstr(err.reason, "missing EKU clientAuth"));
	assert_int_equal(verify(s->a_crl, "gateway.crt", NULL, AT, &err), CERT_E_EKU);
	assert_int_equal(verify(s->a_crl, "client-nodigsig.crt", NULL, AT, &err),
			 CERT_E_KEY_USAGE);
	assert_non_null(strstr(err.reason, "digitalSignature"));
}

static void test_malformed_chain(void **state)
{
	static const uint8_t garbage[] = { 0x30, 0x82, 0x01, 0x00, 0xde, 0xad };
	struct stores *s = *state;
	struct der l = load_der("client-ecdsa.crt");
	uint8_t *longer = malloc(l.d.len + 1);
	struct cert_der c[2];
	struct cert_error err;

	assert_int_equal(cert_chain_verify(s->a, NULL, 0, AT, NULL, NULL, &err),
			 CERT_E_MALFORMED);
	c[0] = (struct cert_der){ garbage, sizeof(garbage) };
	assert_int_equal(cert_chain_verify(s->a, c, 1, AT, NULL, NULL, &err), CERT_E_MALFORMED);
	c[0] = (struct cert_der){ l.d.der, l.d.len - 1 }; /* truncated */
	assert_int_equal(cert_chain_verify(s->a, c, 1, AT, NULL, NULL, &err), CERT_E_MALFORMED);
	c[0] = (struct cert_der){ garbage, 0 };
	assert_int_equal(cert_chain_verify(s->a, c, 1, AT, NULL, NULL, &err), CERT_E_MALFORMED);
	/* trailing bytes after the certificate */
	assert_non_null(longer);
	memcpy(longer, l.d.der, l.d.len);
	longer[l.d.len] = 0;
	c[0] = (struct cert_der){ longer, l.d.len + 1 };
	assert_int_equal(cert_chain_verify(s->a, c, 1, AT, NULL, NULL, &err), CERT_E_MALFORMED);
	/* good leaf, garbage intermediate */
	c[0] = l.d;
	c[1] = (struct cert_der){ garbage, sizeof(garbage) };
	assert_int_equal(cert_chain_verify(s->a, c, 2, AT, NULL, NULL, &err), CERT_E_MALFORMED);
	assert_non_null(strstr(err.reason, "certificate 1"));
	free(longer);
	OPENSSL_free(l.p);
}

static void test_store_errors(void **state)
{
	char p1[512], p2[512];
	const char *ca[1], *crl[1];
	struct cert_error err;
	(void)state;

	ca[0] = pki(p1, sizeof(p1), "no-such-file.crt");
	assert_null(cert_store_new(ca, 1, NULL, 0, &err));
	assert_int_equal(err.status, CERT_E_IO);
	assert_non_null(strstr(err.reason, "no-such-file.crt"));
	ca[0] = pki(p1, sizeof(p1), "ca-a.key"); /* not a certificate */
	assert_null(cert_store_new(ca, 1, NULL, 0, &err));
	assert_int_equal(err.status, CERT_E_IO);
	ca[0] = pki(p1, sizeof(p1), "ca-a.crt");
	crl[0] = pki(p2, sizeof(p2), "ca-a.crt"); /* not a CRL */
	assert_null(cert_store_new(ca, 1, crl, 1, &err));
	assert_int_equal(err.status, CERT_E_IO);
	/* an empty store trusts nothing */
	{
		struct cert_store *st = cert_store_new(NULL, 0, NULL, 0, &err);

		assert_non_null(st);
		assert_int_equal(verify(st, "client-ecdsa.crt", NULL, AT, &err),
				 CERT_E_UNTRUSTED);
		cert_store_free(st);
	}
	cert_store_free(NULL);
}

static void test_check_usage_alone(void **state)
{
	X509 *ok = load_x509("client-ipsecike.crt"), *bad = load_x509("client-serverauth.crt");
	struct cert_error err;
	(void)state;

	assert_int_equal(cert_check_usage(ok, &err), 0);
	assert_int_equal(cert_check_usage(bad, &err), CERT_E_EKU);
	X509_free(ok);
	X509_free(bad);
}

static int match_str(X509 *x, int type, const char *s)
{
	return cert_match_id(x, type, (const uint8_t *)s, strlen(s));
}

static void test_match_ip(void **state)
{
	X509 *x = load_x509("client-rsa.crt");
	uint8_t v4[4], v6[16];
	(void)state;

	assert_int_equal(inet_pton(AF_INET, "192.0.2.10", v4), 1);
	assert_int_equal(cert_match_id(x, IKEV2_ID_IPV4_ADDR, v4, 4), 0);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::10", v6), 1);
	assert_int_equal(cert_match_id(x, IKEV2_ID_IPV6_ADDR, v6, 16), 0);
	v4[3] = 11;
	assert_int_equal(cert_match_id(x, IKEV2_ID_IPV4_ADDR, v4, 4), -ENOENT);
	v6[15] = 0x11;
	assert_int_equal(cert_match_id(x, IKEV2_ID_IPV6_ADDR, v6, 16), -ENOENT);
	/* wrong lengths for the type */
	assert_int_equal(cert_match_id(x, IKEV2_ID_IPV4_ADDR, v4, 3), -EBADMSG);
	assert_int_equal(cert_match_id(x, IKEV2_ID_IPV4_ADDR, v6, 16), -EBADMSG);
	assert_int_equal(cert_match_id(x, IKEV2_ID_IPV6_ADDR, v4, 4), -EBADMSG);
	/* an IPv4 ID is not matched against the IPv6 SAN's first bytes */
	assert_int_equal(inet_pton(AF_INET, "32.1.13.184", v4), 1); /* 2001:0db8 */
	assert_int_equal(cert_match_id(x, IKEV2_ID_IPV4_ADDR, v4, 4), -ENOENT);
	X509_free(x);
}

static void test_match_fqdn_rfc822(void **state)
{
	X509 *rsa = load_x509("client-rsa.crt"), *ec = load_x509("client-ecdsa.crt");
	static const uint8_t nul[] = "alice.example.test\0x";
	(void)state;

	assert_int_equal(match_str(rsa, IKEV2_ID_FQDN, "bob.example.test"), 0);
	assert_int_equal(match_str(rsa, IKEV2_ID_FQDN, "BOB.Example.TEST"), 0);
	assert_int_equal(match_str(rsa, IKEV2_ID_FQDN, "bob.example.tes"), -ENOENT);
	assert_int_equal(match_str(rsa, IKEV2_ID_FQDN, "bob.example.test."), -ENOENT);
	assert_int_equal(match_str(rsa, IKEV2_ID_FQDN, "alice.example.test"), -ENOENT);
	assert_int_equal(match_str(rsa, IKEV2_ID_FQDN, ""), -EBADMSG);
	/* the CN is not a dNSName */
	assert_int_equal(match_str(rsa, IKEV2_ID_FQDN, "bob"), -ENOENT);
	assert_int_equal(match_str(ec, IKEV2_ID_FQDN, "alice.example.test"), 0);
	assert_int_equal(cert_match_id(ec, IKEV2_ID_FQDN, nul, sizeof(nul) - 1), -ENOENT);
	assert_int_equal(match_str(ec, IKEV2_ID_RFC822_ADDR, "alice@example.test"), 0);
	assert_int_equal(match_str(ec, IKEV2_ID_RFC822_ADDR, "Alice@Example.Test"), 0);
	assert_int_equal(match_str(ec, IKEV2_ID_RFC822_ADDR, "bob@example.test"), -ENOENT);
	/* an FQDN ID does not match an rfc822Name and vice versa */
	assert_int_equal(match_str(ec, IKEV2_ID_FQDN, "alice@example.test"), -ENOENT);
	assert_int_equal(match_str(ec, IKEV2_ID_RFC822_ADDR, "alice.example.test"), -ENOENT);
	X509_free(rsa);
	X509_free(ec);
}

static void test_match_dn(void **state)
{
	X509 *x = load_x509("client-ecdsa.crt"), *ca = load_x509("ca-a.crt");
	X509_NAME *n = X509_NAME_new();
	uint8_t *der = NULL, *der2 = NULL, *longer;
	int len, len2;
	(void)state;

	len = i2d_X509_NAME(X509_get_subject_name(x), &der);
	assert_true(len > 0);
	assert_int_equal(cert_match_id(x, IKEV2_ID_DER_ASN1_DN, der, (size_t)len), 0);
	assert_int_equal(cert_match_id(ca, IKEV2_ID_DER_ASN1_DN, der, (size_t)len), -ENOENT);
	/* canonical comparison: another string type and case still name the same DN */
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC,
						    (const unsigned char *)"XX", -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
						    (const unsigned char *)"IKEGW  Test", -1, -1,
						    0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
						    (const unsigned char *)"ALICE", -1, -1, 0), 1);
	len2 = i2d_X509_NAME(n, &der2);
	assert_true(len2 > 0);
	assert_int_equal(cert_match_id(x, IKEV2_ID_DER_ASN1_DN, der2, (size_t)len2), 0);
	/* malformed: truncated, trailing byte, garbage, empty */
	assert_int_equal(cert_match_id(x, IKEV2_ID_DER_ASN1_DN, der, (size_t)len - 1), -EBADMSG);
	longer = malloc((size_t)len + 1);
	assert_non_null(longer);
	memcpy(longer, der, (size_t)len);
	longer[len] = 0;
	assert_int_equal(cert_match_id(x, IKEV2_ID_DER_ASN1_DN, longer, (size_t)len + 1),
			 -EBADMSG);
	assert_int_equal(match_str(x, IKEV2_ID_DER_ASN1_DN, "CN=alice"), -EBADMSG);
	assert_int_equal(cert_match_id(x, IKEV2_ID_DER_ASN1_DN, NULL, 0), -EBADMSG);
	free(longer);
	OPENSSL_free(der);
	OPENSSL_free(der2);
	X509_NAME_free(n);
	X509_free(x);
	X509_free(ca);
}

static void test_match_unsupported(void **state)
{
	X509 *x = load_x509("client-ecdsa.crt");
	(void)state;

	assert_int_equal(match_str(x, IKEV2_ID_KEY_ID, "alice"), -ENOTSUP);
	assert_int_equal(match_str(x, IKEV2_ID_DER_ASN1_GN, "alice"), -ENOTSUP);
	assert_int_equal(match_str(x, IKEV2_ID_NULL, ""), -ENOTSUP);
	assert_int_equal(match_str(x, 99, "x"), -ENOTSUP);
	X509_free(x);
}

static struct cert_own *own(const char *chain, const char *key, struct cert_error *err)
{
	char p1[512], p2[512];

	return cert_own_new(pki(p1, sizeof(p1), chain), pki(p2, sizeof(p2), key), err);
}

static void test_own_chain(void **state)
{
	struct stores *s = *state;
	struct der leaf = load_der("client-int.crt"), inter = load_der("int-a.crt");
	struct cert_error err;
	struct cert_own *o = own("client-int-chain.crt", "client-int.key", &err);
	struct cert_der c[2];

	assert_non_null(o);
	assert_int_equal(cert_own_count(o), 2);
	c[0] = cert_own_der(o, 0);
	c[1] = cert_own_der(o, 1);
	assert_int_equal(c[0].len, leaf.d.len);
	assert_memory_equal(c[0].der, leaf.d.der, leaf.d.len);
	assert_int_equal(c[1].len, inter.d.len);
	assert_memory_equal(c[1].der, inter.d.der, inter.d.len);
	assert_null(cert_own_der(o, 2).der);
	/* what we would send verifies at the other end */
	assert_int_equal(cert_chain_verify(s->a_crl, c, 2, AT, NULL, NULL, &err), CERT_OK);
	assert_int_equal(EVP_PKEY_eq(cert_pubkey(cert_own_leaf(o)), cert_own_key(o)), 1);
	cert_own_free(o);
	cert_own_free(NULL);
	OPENSSL_free(leaf.p);
	OPENSSL_free(inter.p);
}

static void test_own_key_types(void **state)
{
	static const char *const names[][3] = {
		{ "client-rsa.crt", "client-rsa.key", "RSA" },
		{ "client-ecdsa.crt", "client-ecdsa.key", "EC" },
		{ "client-ed25519.crt", "client-ed25519.key", "ED25519" },
		{ "gateway.crt", "gateway.key", "EC" },
	};
	struct cert_error err;
	size_t i;
	(void)state;

	for (i = 0; i < 4; i++) {
		struct cert_own *o = own(names[i][0], names[i][1], &err);

		assert_non_null(o);
		assert_int_equal(cert_own_count(o), 1);
		assert_true(EVP_PKEY_is_a(cert_own_key(o), names[i][2]));
		cert_own_free(o);
	}
	assert_null(own("client-ecdsa.crt", "client-rsa.key", &err));
	assert_int_equal(err.status, CERT_E_KEY_MISMATCH);
	assert_null(own("client-ecdsa.crt", "missing.key", &err));
	assert_int_equal(err.status, CERT_E_IO);
	assert_null(own("client-ecdsa.key", "client-ecdsa.key", &err));
	assert_int_equal(err.status, CERT_E_IO);
	assert_null(own("client-ecdsa.crt", "client-ecdsa.crt", &err));
	assert_int_equal(err.status, CERT_E_IO);
}

/* ---- reference counts (a job holds the store / our credentials across a reload) ---- */

/* Dropping one of two references leaves the store working; the second frees it (ASan:
 * neither freed early nor leaked). */
static void test_store_refcount(void **state)
{
	struct cert_store *st = store("ca-a.crt", NULL, NULL, NULL);
	struct cert_error err;
	(void)state;

	assert_non_null(st);
	assert_ptr_equal(cert_store_up_ref(st), st);
	cert_store_free(st); /* the "gateway" lets go: a reload */
	assert_int_equal(verify(st, "client-ecdsa.crt", NULL, AT, &err), CERT_OK);
	assert_int_equal(verify(st, "client-cab.crt", NULL, AT, &err), CERT_E_UNTRUSTED);
	cert_store_free(st); /* the "job" lets go: freed now */
	assert_null(cert_store_up_ref(NULL));
}

static void test_own_refcount(void **state)
{
	struct cert_error err;
	struct cert_own *o = own("client-int-chain.crt", "client-int.key", &err);
	struct cert_der leaf;
	(void)state;

	assert_non_null(o);
	assert_ptr_equal(cert_own_up_ref(o), o);
	assert_ptr_equal(cert_own_up_ref(o), o);
	cert_own_free(o);
	cert_own_free(o);
	/* the last holder still has the whole set: key, leaf and chain that belong together */
	assert_int_equal(cert_own_count(o), 2);
	leaf = cert_own_der(o, 0);
	assert_non_null(leaf.der);
	assert_int_equal(EVP_PKEY_eq(cert_pubkey(cert_own_leaf(o)), cert_own_key(o)), 1);
	cert_own_free(o);
	assert_null(cert_own_up_ref(NULL));
}

#define REF_THREADS 4
#define REF_ROUNDS 20000

struct ref_arg {
	struct cert_store *st;
	struct cert_own *own;
	int verified;
};

/* One "worker": takes and drops references while the others do, and verifies with the
 * shared store (read-only use from several threads at once). */
static void *ref_worker(void *p)
{
	struct ref_arg *a = p;
	struct cert_error err;

	for (int i = 0; i < REF_ROUNDS; i++) {
		cert_store_free(cert_store_up_ref(a->st));
		cert_own_free(cert_own_up_ref(a->own));
		if (i % (REF_ROUNDS / 4) == 0)
			a->verified += verify(a->st, "client-ecdsa.crt", NULL, AT, &err) == CERT_OK;
	}
	return NULL;
}

/* A count that is not atomic loses updates here: the last free comes too early (ASan:
 * use after free) or never (LeakSanitizer: a leak). */
static void test_refcount_threads(void **state)
{
	struct ref_arg args[REF_THREADS];
	pthread_t t[REF_THREADS];
	struct cert_error err;
	struct cert_store *st = store("ca-a.crt", NULL, NULL, NULL);
	struct cert_own *o = own("gateway.crt", "gateway.key", &err);
	(void)state;

	assert_non_null(st);
	assert_non_null(o);
	for (int i = 0; i < REF_THREADS; i++) {
		args[i] = (struct ref_arg){ st, o, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, ref_worker, &args[i]), 0);
	}
	for (int i = 0; i < REF_THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(args[i].verified, 4);
	}
	assert_int_equal(verify(st, "client-ecdsa.crt", NULL, AT, &err), CERT_OK);
	assert_int_equal(cert_own_count(o), 1);
	cert_store_free(st);
	cert_own_free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_clients),
		cmocka_unit_test(test_leaf_and_anchor_returned),
		cmocka_unit_test(test_intermediate),
		cmocka_unit_test(test_expired_and_time),
		cmocka_unit_test(test_wrong_ca),
		cmocka_unit_test(test_revoked),
		cmocka_unit_test(test_crl_missing),
		cmocka_unit_test(test_wrong_eku_and_key_usage),
		cmocka_unit_test(test_malformed_chain),
		cmocka_unit_test(test_store_errors),
		cmocka_unit_test(test_check_usage_alone),
		cmocka_unit_test(test_match_ip),
		cmocka_unit_test(test_match_fqdn_rfc822),
		cmocka_unit_test(test_match_dn),
		cmocka_unit_test(test_match_unsupported),
		cmocka_unit_test(test_own_chain),
		cmocka_unit_test(test_own_key_types),
		cmocka_unit_test(test_store_refcount),
		cmocka_unit_test(test_own_refcount),
		cmocka_unit_test(test_refcount_threads),
	};

	return cmocka_run_group_tests_name("cert", tests, setup, teardown);
}
