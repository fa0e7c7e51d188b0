/* SPDX-License-Identifier: ISC */
/*
 * X.509 for IKEv2 (RFC 7296 3.6/3.7, RFC 4945): the trust store built only from the
 * configured CA files and CRLs, verification of a peer's chain as it arrives in CERT
 * payloads, binding of the peer's ID payload to its certificate, and our own
 * certificate chain and private key.
 *
 * Errors are a small enum (negative) plus a human reason for the log line.
 */
#ifndef IKEGW_CERT_H
#define IKEGW_CERT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

enum cert_status {
	CERT_OK = 0,
	CERT_E_INVALID = -1,       /* anything not listed below (bad signature, ...) */
	CERT_E_MALFORMED = -2,     /* DER does not parse, empty chain */
	CERT_E_UNTRUSTED = -3,     /* no path to a configured CA */
	CERT_E_EXPIRED = -4,
	CERT_E_NOT_YET_VALID = -5,
	CERT_E_REVOKED = -6,
	CERT_E_CRL = -7,           /* CRL missing, expired or bad: revocation unknown */
	CERT_E_EKU = -8,           /* EKU present without clientAuth/ipsecIKE/anyEKU */
	CERT_E_KEY_USAGE = -9,     /* keyUsage present without digitalSignature */
	CERT_E_IO = -10,           /* a configured file cannot be read or holds nothing */
	CERT_E_KEY_MISMATCH = -11, /* our private key does not belong to our leaf */
	CERT_E_NOMEM = -12,
};

#define CERT_REASON_MAX 256

struct cert_error {
	enum cert_status status;
	int depth;                 /* chain position of the failure, -1 if none */
	char reason[CERT_REASON_MAX];
};

/* One DER certificate as it came in a CERT payload (borrowed). */
struct cert_der {
	const uint8_t *der;
	size_t len;
};

struct cert_store;

/*
 * Trust anchors from ca_paths (PEM, several certs per file allowed) and CRLs from
 * crl_paths (PEM or DER).  Never the system default paths.  With at least one CRL the
 * whole chain is revocation-checked (CRL_CHECK | CRL_CHECK_ALL), so every CA in use
 * needs a CRL.  NULL on failure with err filled.
 */
struct cert_store *cert_store_new(const char *const *ca_paths, size_t n_ca,
				  const char *const *crl_paths, size_t n_crl,
				  struct cert_error *err);
/*
 * Reference counted: cert_store_new() returns the first reference, cert_store_up_ref()
 * adds one (and returns st; NULL stays NULL), cert_store_free() drops one and frees the
 * store with the last.  Atomic, so a job on another thread may hold one while a reload
 * on the loop drops the gateway's.  The store is never changed after cert_store_new(),
 * so every holder may verify with it concurrently.
 */
struct cert_store *cert_store_up_ref(struct cert_store *st);
void cert_store_free(struct cert_store *st);

/*
 * Verify a peer chain: certs[0] is the leaf, the rest untrusted intermediates, in
 * any order.  at = verification time (the loop's wall clock; tests fix it).  Checks
 * chain, validity, CRLs, then the IKE client EKU and keyUsage rules on the leaf.
 * On CERT_OK *leaf (if not NULL) is an owned reference (X509_free), and *anchor (if
 * not NULL) an owned reference to the trusted CA that ends the chain.
 */
int cert_chain_verify(const struct cert_store *st, const struct cert_der *certs, size_t n,
		      time_t at, X509 **leaf, X509 **anchor, struct cert_error *err);

/* Just the leaf-profile checks (EKU, keyUsage) that cert_chain_verify applies. */
int cert_check_usage(X509 *leaf, struct cert_error *err);

/*
 * RFC 4945 3.1 / RFC 7296 3.5: does the ID payload (type from enum ikev2_id_type,
 * body bytes as received) name this certificate?  IPv4/IPv6 -> iPAddress SAN,
 * FQDN -> dNSName SAN (ASCII case-insensitive), RFC822 -> rfc822Name SAN (case-
 * insensitive), DER_ASN1_DN -> equal to the subject DN.  0 when bound, -ENOENT when
 * not, -EBADMSG for a malformed ID body, -ENOTSUP for KEY_ID and other types.
 */
int cert_match_id(X509 *leaf, int id_type, const uint8_t *id, size_t id_len);

/* Subject DN for logs, "C=XX, O=Org, CN=name" (escaped); always NUL-terminated. */
void cert_subject_text(X509 *cert, char *buf, size_t len);

/* The certificate's public key, borrowed from cert (NULL if it has none usable). */
EVP_PKEY *cert_pubkey(X509 *cert);

/*
 * Our own credentials: chain (leaf first) and the matching private key, one set that
 * belongs together.  Reference counted like the store: whoever signs with the key and
 * sends the chain holds one reference to the set, so a reload in between cannot pair a
 * signature with another chain.  Never changed after cert_own_new().
 */
struct cert_own;

struct cert_own *cert_own_new(const char *chain_path, const char *key_path,
			      struct cert_error *err);
struct cert_own *cert_own_up_ref(struct cert_own *own);  /* returns own; NULL-safe */
void cert_own_free(struct cert_own *own);                /* drops one reference */
X509 *cert_own_leaf(const struct cert_own *own);       /* borrowed */
EVP_PKEY *cert_own_key(const struct cert_own *own);    /* borrowed, private */
/* Number of DER certificates to send: the leaf, then each intermediate. */
size_t cert_own_count(const struct cert_own *own);
/* i = 0 is the leaf.  Returns a borrowed DER blob, or {NULL, 0} past the end. */
struct cert_der cert_own_der(const struct cert_own *own, size_t i);

#endif
