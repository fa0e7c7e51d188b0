/* SPDX-License-Identifier: ISC */
/*
 * Protect and unprotect the Encrypted payload (SK, RFC 7296 3.14; AES-GCM RFC 5282;
 * ChaCha20-Poly1305 RFC 7634) and the Encrypted Fragment payload (SKF, RFC 7383 2.5).
 *
 * Works on raw message bytes so it needs nothing from the codec but the offset of the
 * SK/SKF payload's generic header.  The SK/SKF payload must be the last payload: its
 * Payload Length runs to the end of the message (RFC 7296 3.14).
 *
 *   SK:  IKE header | ... | hdr(4)           | IV | ciphertext | ICV
 *   SKF: IKE header | ... | hdr(4) num total | IV | ciphertext | ICV
 *
 * AEAD: AAD = everything before the IV; nonce = salt | IV.  CBC: the ICV is the
 * truncated HMAC over everything before the ICV, checked before decrypting.
 * Plaintext = inner payloads | padding | pad length (1 octet).
 */
#ifndef IKEGW_SK_H
#define IKEGW_SK_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "ikegw/buf.h"
#include "ikegw/keymat.h"
#include "ikegw/suite.h"

#define SK_HDR_LEN 4  /* generic payload header */
#define SKF_HDR_LEN 8 /* generic header + Fragment Number + Total Fragments */

/* Error codes (negative errno values, so callers may also treat them as such). */
#define SK_ERR_TRUNCATED (-EMSGSIZE) /* lengths do not fit: short, or length field wrong */
#define SK_ERR_AUTH (-EBADMSG)       /* ICV / AEAD tag did not verify (wrong key, tampering) */
#define SK_ERR_PADDING (-EPROTO)     /* authenticated, but the pad length does not fit */
#define SK_ERR_NOSPACE (-ENOSPC)     /* output buffer too small */

/*
 * Decrypt the SK payload whose generic header starts at sk_hdr_off in msg.  On success
 * plain[0 .. *plain_len) holds the inner payloads (whose first type is the SK header's
 * Next Payload).  plain_cap must be at least the ciphertext length (msg_len suffices).
 * On failure nothing decrypted is left in plain.
 */
int sk_unprotect(const struct crypto_suite *s, const struct sk_dir_keys *keys,
		 const uint8_t *msg, size_t msg_len, size_t sk_hdr_off, uint8_t *plain,
		 size_t plain_cap, size_t *plain_len);
int skf_unprotect(const struct crypto_suite *s, const struct sk_dir_keys *keys,
		  const uint8_t *msg, size_t msg_len, size_t skf_hdr_off, uint8_t *plain,
		  size_t plain_cap, size_t *plain_len);

/*
 * Encrypt inner into the SK payload.  w holds the message from the IKE header's first
 * octet, and ends just after the SK payload's generic header (written with its Next
 * Payload; the length is patched here), i.e. wbuf_len(w) == sk_hdr_off + 4.  Appends
 * IV | ciphertext | ICV, patches the SK Payload Length and the IKE header Length
 * (offset 24), then computes the ICV / tag last.
 * iv_counter: the AEAD IV, unique per key (e.g. a per-direction message counter); CBC
 * IVs are random (RFC 7296 3.14) and ignore it.  -ENOSPC when w is too small.
 */
int sk_protect(const struct crypto_suite *s, const struct sk_dir_keys *keys, uint64_t iv_counter,
	       const uint8_t *inner, size_t inner_len, struct wbuf *w, size_t sk_hdr_off);
/* The same for SKF: w ends after the 8-octet SKF header (wbuf_len == skf_hdr_off + 8). */
int skf_protect(const struct crypto_suite *s, const struct sk_dir_keys *keys, uint64_t iv_counter,
		const uint8_t *inner, size_t inner_len, struct wbuf *w, size_t skf_hdr_off);

/* Octets sk_protect appends after the header for inner_len octets (IV, padding, ICV). */
size_t sk_overhead(const struct sk_dir_keys *keys, size_t inner_len);

#endif
