/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the certificate path of IKE_AUTH (RFC 7296 3.6, 2.15; RFC 4945;
 * RFC 7427): the CERT payload bodies a client sends, its AUTH data, and our checks.
 *
 * Input layout:
 *   byte 0     bits 0-1: certificate count - 1 (3 means 1); bit 2: trust store
 *              (0: CA-A and CA-B, no CRLs; 1: CA-A with the CA-A and Intermediate A
 *              CRLs, so revocation is checked); bits 3-5: AUTH method (table below)
 *   then, per certificate, a 2-byte big-endian length and that many DER bytes
 *   the rest   AUTH data
 * The certificates go through cert_chain_verify() at a fixed time; when the leaf parses
 * as X.509 (verified or not) its key verifies the AUTH data over fixed signed octets
 * with sig_verify(), and sig_choose_hash() reads the AUTH data as a hash list.  A
 * verified leaf is also matched against fixed IDs of every type.
 * The stores are built once from $IKEGW_TOP/tests/data/pki (IKEGW_TOP defaults to ".").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "ikegw/buf.h"
#include "ikegw/cert.h"
#include "ikegw/ikev2.h"
#include "ikegw/sig.h"

#define FUZZ_CERT_TIME 1704067200 /* 2024-01-01: inside every test certificate's validity */

/* The signed octets of the seeds' AUTH data (stands in for RFC 7296 2.15's octets). */
static const uint8_t octets[] = "ikegw fuzz_cert: RealMessage1 | NonceR | MACedIDForI";

static const int methods[8] = { IKEV2_AUTH_DIGITAL_SIGNATURE, IKEV2_AUTH_RSA_SIG,
				IKEV2_AUTH_ECDSA_256, IKEV2_AUTH_ECDSA_384,
				IKEV2_AUTH_ECDSA_521, IKEV2_AUTH_DIGITAL_SIGNATURE,
				IKEV2_AUTH_PSK, 0 };

static struct cert_store *store_load(const char *const *ca, size_t nca,
				     const char *const *crl, size_t ncrl)
{
	const char *top = getenv("IKEGW_TOP");
	char cap[2][4096], crlp[2][4096];
	const char *cas[2], *crls[2];
	struct cert_error err;
	struct cert_store *st;

	for (size_t i = 0; i < nca; i++) {
		snprintf(cap[i], sizeof(cap[i]), "%s/tests/data/pki/%s", top ? top : ".", ca[i]);
		cas[i] = cap[i];
	}
	for (size_t i = 0; i < ncrl; i++) {
		snprintf(crlp[i], sizeof(crlp[i]), "%s/tests/data/pki/%s", top ? top : ".",
			 crl[i]);
		crls[i] = crlp[i];
	}
	st = cert_store_new(cas, nca, crls, ncrl, &err);
	if (!st) {
		fprintf(stderr, "fuzz_cert: trust store: %s (set IKEGW_TOP)\n", err.reason);
		abort();
	}
	return st;
}

static const struct cert_store *store_get(int which)
{
	static const char *const ab[] = { "ca-a.crt", "ca-b.crt" };
	static const char *const a[] = { "ca-a.crt" };
	static const char *const crls[] = { "ca-a.crl", "int-a.crl" };
	static struct cert_store *st[2];

	if (!st[0]) {
		st[0] = store_load(ab, 2, NULL, 0);
		st[1] = store_load(a, 1, crls, 2);
	}
	return st[which];
}

/* Split the input into certificates and AUTH data; -1 when it is too short. */
static int split_input(struct rbuf *r, struct cert_der *der, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint16_t len;

		if (rbuf_u16(r, &len) || rbuf_bytes(r, len, &der[i].der))
			return -1;
		der[i].len = len;
	}
	return 0;
}

static void verified_leaf(X509 *leaf, X509 *anchor)
{
	static const uint8_t ip4[4] = { 192, 0, 2, 10 };
	static const char fqdn[] = "bob.example.test", mail[] = "alice@example.test";
	char txt[CERT_REASON_MAX];

	if (!leaf || !anchor)
		abort(); /* CERT_OK promises both references */
	(void)cert_match_id(leaf, IKEV2_ID_IPV4_ADDR, ip4, sizeof(ip4));
	(void)cert_match_id(leaf, IKEV2_ID_FQDN, (const uint8_t *)fqdn, strlen(fqdn));
	(void)cert_match_id(leaf, IKEV2_ID_RFC822_ADDR, (const uint8_t *)mail, strlen(mail));
	cert_subject_text(leaf, txt, sizeof(txt));
	cert_subject_text(anchor, txt, 8);
	if (cert_check_usage(leaf, NULL) != 0)
		abort(); /* cert_chain_verify ran the same checks */
}

/* Whatever the chain verdict: the leaf's key against the AUTH data. */
static void check_auth(const struct cert_der *leaf_der, int method, const uint8_t *auth,
		       size_t auth_len)
{
	const unsigned char *p = leaf_der->der;
	X509 *x = d2i_X509(NULL, &p, (long)leaf_der->len);
	EVP_PKEY *pub;

	if (!x) {
		ERR_clear_error();
		return;
	}
	pub = cert_pubkey(x);
	if (pub) {
		(void)sig_verify(pub, method, auth, auth_len, octets, sizeof(octets) - 1);
		(void)sig_choose_hash(auth, auth_len, pub);
		(void)sig_classic_method(pub);
		(void)sig_auth_len_max(pub);
	}
	X509_free(x);
	ERR_clear_error();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cert_der der[3];
	struct cert_error err;
	X509 *leaf = NULL, *anchor = NULL;
	const uint8_t *auth;
	size_t n, auth_len;
	struct rbuf r;
	uint8_t flags;

	rbuf_init(&r, data, size);
	if (rbuf_u8(&r, &flags))
		return 0;
	n = (flags & 3) == 3 ? 1 : (size_t)(flags & 3) + 1;
	if (split_input(&r, der, n))
		return 0;
	rbuf_rest(&r, &auth, &auth_len);
	if (cert_chain_verify(store_get((flags >> 2) & 1), der, n, FUZZ_CERT_TIME, &leaf,
			      &anchor, &err) == CERT_OK)
		verified_leaf(leaf, anchor);
	else if (leaf || anchor || err.reason[0] == '\0')
		abort(); /* a failure hands back no references, and always says why */
	X509_free(leaf);
	X509_free(anchor);
	check_auth(&der[0], methods[(flags >> 3) & 7], auth, auth_len);
	ERR_clear_error();
	return 0;
}
