/* SPDX-License-Identifier: ISC */
/*
 * IKEv2 AUTH signatures over the octets of RFC 7296 2.15.
 *
 *  - RFC 7427 Digital Signature (auth method 14): AUTH data is
 *    1-byte length | AlgorithmIdentifier DER | signature.  RSA PKCS#1 v1.5 and
 *    RSASSA-PSS (MGF1 with the same hash, salt = hash length) with SHA-256/384/512,
 *    ECDSA with SHA-256/384/512 (DER signature), Ed25519 (identity hash).
 *  - Classic methods: RSA_SIG (1) = PKCS#1 v1.5 with SHA-1, ECDSA_256/384/521
 *    (9/10/11, RFC 4754) with the curve's own hash and an r||s signature.
 *
 * Errors (negative errno): -EBADMSG malformed AUTH data, -ENOTSUP unknown or
 * unsupported algorithm, -EKEYREJECTED algorithm does not fit the key (or RSA key
 * under 2048 bits), -EACCES the signature does not verify, -ENOSPC output buffer too
 * small, -EINVAL bad arguments, -ENOMEM, -EIO an unexpected OpenSSL failure.
 */
#ifndef IKEGW_SIG_H
#define IKEGW_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "ikegw/buf.h"

enum sig_kind {
	SIG_RSA_PKCS1 = 1,
	SIG_RSA_PSS = 2,
	SIG_ECDSA = 3,
	SIG_ED25519 = 4,
};

/* A signature scheme: kind plus hash (enum ikev2_hash; IDENTITY for Ed25519). */
struct sig_scheme {
	enum sig_kind kind;
	int hash;
};

/* Upper bound of the AUTH data sig_ds_sign/sig_classic_sign write for this key. */
size_t sig_auth_len_max(EVP_PKEY *key);

/*
 * RFC 7427 4: from the peer's SIGNATURE_HASH_ALGORITHMS notify data (a list of
 * 16-bit hash ids, as received), the hash to sign with: Ed25519 needs IDENTITY;
 * ECDSA takes its curve's hash if announced, else the strongest announced; RSA the
 * strongest announced of SHA-512/384/256.  Returns the enum ikev2_hash value,
 * -ENOTSUP when nothing fits, -EBADMSG for an odd-length list.
 */
int sig_choose_hash(const uint8_t *notify_data, size_t len, EVP_PKEY *key);

/*
 * The AlgorithmIdentifier DER we send for a scheme (constant table).  0 or -ENOTSUP.
 */
int sig_ds_algid(const struct sig_scheme *s, const uint8_t **der, size_t *len);

/*
 * RFC 7427 3: sign octets with key and append the AUTH data to out.  The kind
 * follows from the key (RSA: PSS when rsa_pss, else PKCS#1 v1.5); hash is
 * SHA2_256/384/512, or IDENTITY for Ed25519.
 */
int sig_ds_sign(EVP_PKEY *key, int hash, bool rsa_pss, const uint8_t *octets, size_t n,
		struct wbuf *out);

/*
 * Verify RFC 7427 AUTH data against the peer's public key.  Any supported scheme
 * whose AlgorithmIdentifier fits the key type is accepted.  On success, *used (if
 * not NULL) says which scheme it was, for the log.
 */
int sig_ds_verify(EVP_PKEY *pub, const uint8_t *auth, size_t auth_len,
		  const uint8_t *octets, size_t n, struct sig_scheme *used);

/* The classic auth method for a key: RSA_SIG or ECDSA_256/384/521, or -ENOTSUP. */
int sig_classic_method(EVP_PKEY *key);

/*
 * Classic methods 1, 9, 10, 11.  RSA_SIG signs with SHA-1, so sig_classic_sign
 * refuses it (-ENOTSUP) unless allow_sha1.  ECDSA keys must be on the method's curve.
 */
int sig_classic_sign(EVP_PKEY *key, int method, bool allow_sha1, const uint8_t *octets,
		     size_t n, struct wbuf *out);
int sig_classic_verify(EVP_PKEY *pub, int method, const uint8_t *auth, size_t auth_len,
		       const uint8_t *octets, size_t n);

/* Verify AUTH data of any signature method (14, 1, 9, 10, 11); others -ENOTSUP. */
int sig_verify(EVP_PKEY *pub, int method, const uint8_t *auth, size_t auth_len,
	       const uint8_t *octets, size_t n);

/*
 * RFC 7296 2.15: InitiatorSignedOctets = RealMessage1 | NonceRData | MACedIDForI
 * (and the responder's mirror).  The caller computes MACedIDForX = prf(SK_px, IDx').
 */
struct sig_octets {
	const uint8_t *msg;
	size_t msg_len;
	const uint8_t *nonce;
	size_t nonce_len;
	const uint8_t *maced_id;
	size_t maced_id_len;
};

size_t sig_octets_len(const struct sig_octets *o);
/* Append the concatenation to out; -ENOSPC if it does not fit. */
int sig_octets_build(const struct sig_octets *o, struct wbuf *out);

#endif
