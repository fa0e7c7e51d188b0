/* SPDX-License-Identifier: ISC */
/*
 * Key derivation for IKE SAs (RFC 7296 2.14), their rekeying (2.18) and Child SAs
 * (2.17).  The results are raw keys in fixed-size structs (no EVP objects), wiped when
 * freed.  struct sk_dir_keys is one direction's keys, used by sk.c for the IKE SA and
 * by the ESP dataplane for a Child SA.
 */
#ifndef IKEGW_KEYMAT_H
#define IKEGW_KEYMAT_H

#include <stddef.h>
#include <stdint.h>

#include "ikegw/suite.h"

#define KEYMAT_SPI_LEN 8
#define KEYMAT_NONCE_MIN 16  /* RFC 7296 2.10 */
#define KEYMAT_NONCE_MAX 256

/* One direction: encryption key (| salt for an AEAD) and integrity key. */
struct sk_dir_keys {
	const struct suite_encr *encr;
	const struct suite_integ *integ;        /* NULL with an AEAD */
	uint8_t ek[SUITE_MAX_ENCR_KEYMAT];      /* encr->key_len + encr->salt_len bytes */
	uint8_t ak[SUITE_MAX_INTEG_KEY];        /* integ->key_len bytes */
};

/* An IKE SA's keys.  i: SK_ei/SK_ai (protects what the original initiator sends). */
struct ike_keys {
	const struct suite_prf *prf;
	uint8_t d[SUITE_MAX_PRF_KEY];
	uint8_t pi[SUITE_MAX_PRF_KEY];
	uint8_t pr[SUITE_MAX_PRF_KEY];
	struct sk_dir_keys i;
	struct sk_dir_keys r;
};

/* A Child SA's keys: i2r protects initiator-to-responder traffic. */
struct child_keys {
	struct sk_dir_keys i2r;
	struct sk_dir_keys r2i;
};

/* Inputs of an IKE SA derivation (fresh, or a rekey's new SA). */
struct keymat_ike_in {
	const struct suite_prf *prf;
	const struct suite_encr *encr;
	const struct suite_integ *integ; /* NULL with an AEAD */
	const uint8_t *ni, *nr;
	size_t ni_len, nr_len;
	const uint8_t *shared; /* g^ir */
	size_t shared_len;
	uint8_t spi_i[KEYMAT_SPI_LEN], spi_r[KEYMAT_SPI_LEN];
};

struct keymat_child_in {
	const struct suite_encr *encr;
	const struct suite_integ *integ; /* NULL with an AEAD */
	const uint8_t *ni, *nr;
	size_t ni_len, nr_len;
	const uint8_t *shared; /* g^ir (new) with PFS, else NULL */
	size_t shared_len;
};

/*
 * SKEYSEED = prf(Ni | Nr, g^ir); {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}
 * = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr).  -EINVAL on missing or inconsistent inputs
 * (an AEAD with an integrity transform, a CBC cipher without one, bad nonce lengths).
 */
int keymat_ike_derive(const struct crypto_suite *s, const struct keymat_ike_in *in,
		      struct ike_keys **out);

/*
 * RFC 7296 2.18: SKEYSEED = prf_old(SK_d (old), g^ir (new) | Ni | Nr), then the keys as
 * above with the new SA's PRF, SPIs and nonces.
 */
int keymat_ike_rekey(const struct crypto_suite *s, const struct ike_keys *old,
		     const struct keymat_ike_in *in, struct ike_keys **out);

void keymat_ike_free(struct ike_keys *k);

/*
 * RFC 7296 2.17: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr); i2r keys first (encryption
 * then integrity), then r2i.
 */
int keymat_child_derive(const struct crypto_suite *s, const struct ike_keys *ike,
			const struct keymat_child_in *in, struct child_keys *out);
void keymat_child_wipe(struct child_keys *k);

#endif
