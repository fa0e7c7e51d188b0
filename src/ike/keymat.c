/* SPDX-License-Identifier: ISC */
/* SKEYSEED, the IKE SA keys, their rekeying and Child SA KEYMAT (RFC 7296 2.14-2.18). */
#include <errno.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "ikegw/buf.h"
#include "ikegw/keymat.h"
#include "ikegw/prf.h"

/* Longest prf+ output: SK_d, SK_pi, SK_pr plus two directions of encryption and MAC keys. */
#define IKE_STREAM_MAX (3 * SUITE_MAX_PRF_KEY + 2 * (SUITE_MAX_ENCR_KEYMAT + SUITE_MAX_INTEG_KEY))

/* An AEAD comes without an integrity transform, anything else with one. */
static int transforms_check(const struct suite_encr *e, const struct suite_integ *i)
{
	if (!e || (e->aead ? i != NULL : i == NULL))
		return -EINVAL;
	return 0;
}

static int nonces_check(const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len)
{
	if (!ni || !nr || ni_len < KEYMAT_NONCE_MIN || ni_len > KEYMAT_NONCE_MAX ||
	    nr_len < KEYMAT_NONCE_MIN || nr_len > KEYMAT_NONCE_MAX)
		return -EINVAL;
	return 0;
}

static int ike_in_check(const struct keymat_ike_in *in)
{
	if (!in->prf || !in->shared || in->shared_len == 0)
		return -EINVAL;
	if (transforms_check(in->encr, in->integ) != 0)
		return -EINVAL;
	return nonces_check(in->ni, in->ni_len, in->nr, in->nr_len);
}

static size_t encr_keymat_len(const struct suite_encr *e)
{
	return (size_t)e->key_len + e->salt_len; /* RFC 5282 7.1, RFC 7634 3: key | salt */
}

static size_t integ_key_len(const struct suite_integ *i)
{
	return i ? i->key_len : 0;
}

static void dir_set(struct sk_dir_keys *d, const struct suite_encr *e,
		    const struct suite_integ *i)
{
	d->encr = e;
	d->integ = i;
}

/* RFC 7296 2.14: SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr, in that order. */
static int ike_keys_take(struct rbuf *r, const struct keymat_ike_in *in, struct ike_keys *k)
{
	size_t pk = in->prf->key_len, ak = integ_key_len(in->integ);
	size_t ek = encr_keymat_len(in->encr);
	int rc = 0;

	rc |= rbuf_copy(r, k->d, pk);
	rc |= rbuf_copy(r, k->i.ak, ak);
	rc |= rbuf_copy(r, k->r.ak, ak);
	rc |= rbuf_copy(r, k->i.ek, ek);
	rc |= rbuf_copy(r, k->r.ek, ek);
	rc |= rbuf_copy(r, k->pi, pk);
	rc |= rbuf_copy(r, k->pr, pk);
	k->prf = in->prf;
	dir_set(&k->i, in->encr, in->integ);
	dir_set(&k->r, in->encr, in->integ);
	return rc == 0 ? 0 : -EIO;
}

/* The seven keys = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr) with the (new) SA's PRF. */
static int ike_expand(const struct crypto_suite *s, const struct keymat_ike_in *in,
		      const uint8_t *skeyseed, size_t seed_len, struct ike_keys **out)
{
	struct crypto_chunk seed[4] = {
		{ in->ni, in->ni_len },
		{ in->nr, in->nr_len },
		{ in->spi_i, KEYMAT_SPI_LEN },
		{ in->spi_r, KEYMAT_SPI_LEN },
	};
	size_t total = 3 * (size_t)in->prf->key_len +
		       2 * (encr_keymat_len(in->encr) + integ_key_len(in->integ));
	uint8_t stream[IKE_STREAM_MAX];
	struct ike_keys *k = calloc(1, sizeof(*k));
	struct rbuf r;
	int rc = k ? 0 : -ENOMEM;

	if (rc == 0)
		rc = prf_plus(s, in->prf, skeyseed, seed_len, seed, 4, stream, total);
	if (rc == 0) {
		rbuf_init(&r, stream, total);
		rc = ike_keys_take(&r, in, k);
	}
	OPENSSL_cleanse(stream, sizeof(stream));
	if (rc != 0) {
		keymat_ike_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

int keymat_ike_derive(const struct crypto_suite *s, const struct keymat_ike_in *in,
		      struct ike_keys **out)
{
	uint8_t nonces[2 * KEYMAT_NONCE_MAX], skeyseed[SUITE_MAX_PRF_OUT];
	struct crypto_chunk gir;
	struct wbuf w;
	int rc;

	*out = NULL;
	rc = ike_in_check(in);
	if (rc != 0)
		return rc;
	/*
	 * SKEYSEED = prf(Ni | Nr, g^ir).  RFC 7296 2.14 trims the nonces to 64 bits each only
	 * for the fixed-key PRFs (AES-XCBC-PRF-128, AES-CMAC-PRF-128); HMAC takes Ni | Nr whole.
	 */
	wbuf_init(&w, nonces, sizeof(nonces));
	wbuf_bytes(&w, in->ni, in->ni_len);
	wbuf_bytes(&w, in->nr, in->nr_len);
	gir = (struct crypto_chunk){ in->shared, in->shared_len };
	rc = wbuf_ok(&w) ? 0 : -EINVAL;
	if (rc == 0)
		rc = prf_compute(s, in->prf, nonces, wbuf_len(&w), &gir, 1, skeyseed);
	if (rc == 0)
		rc = ike_expand(s, in, skeyseed, in->prf->out_len, out);
	OPENSSL_cleanse(nonces, sizeof(nonces));
	OPENSSL_cleanse(skeyseed, sizeof(skeyseed));
	return rc;
}

int keymat_ike_rekey(const struct crypto_suite *s, const struct ike_keys *old,
		     const struct keymat_ike_in *in, struct ike_keys **out)
{
	uint8_t skeyseed[SUITE_MAX_PRF_OUT];
	struct crypto_chunk data[3] = {
		{ in->shared, in->shared_len },
		{ in->ni, in->ni_len },
		{ in->nr, in->nr_len },
	};
	int rc;

	*out = NULL;
	rc = old && old->prf ? ike_in_check(in) : -EINVAL;
	if (rc != 0)
		return rc;
	/* The exchange belongs to the old SA, so the old PRF makes SKEYSEED (2.18). */
	rc = prf_compute(s, old->prf, old->d, old->prf->key_len, data, 3, skeyseed);
	if (rc == 0)
		rc = ike_expand(s, in, skeyseed, old->prf->out_len, out);
	OPENSSL_cleanse(skeyseed, sizeof(skeyseed));
	return rc;
}

void keymat_ike_free(struct ike_keys *k)
{
	if (!k)
		return;
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

/* One direction of a Child SA: encryption key first, then integrity (RFC 7296 2.17). */
static int child_dir_take(struct rbuf *r, const struct keymat_child_in *in,
			  struct sk_dir_keys *d)
{
	int rc = rbuf_copy(r, d->ek, encr_keymat_len(in->encr));

	rc |= rbuf_copy(r, d->ak, integ_key_len(in->integ));
	dir_set(d, in->encr, in->integ);
	return rc == 0 ? 0 : -EIO;
}

int keymat_child_derive(const struct crypto_suite *s, const struct ike_keys *ike,
			const struct keymat_child_in *in, struct child_keys *out)
{
	struct crypto_chunk seed[3] = {
		{ in->shared, in->shared ? in->shared_len : 0 },
		{ in->ni, in->ni_len },
		{ in->nr, in->nr_len },
	};
	uint8_t stream[2 * (SUITE_MAX_ENCR_KEYMAT + SUITE_MAX_INTEG_KEY)];
	size_t total;
	struct rbuf r;
	int rc;

	if (!ike || !ike->prf || transforms_check(in->encr, in->integ) != 0 ||
	    nonces_check(in->ni, in->ni_len, in->nr, in->nr_len) != 0)
		return -EINVAL;
	total = 2 * (encr_keymat_len(in->encr) + integ_key_len(in->integ));
	rc = prf_plus(s, ike->prf, ike->d, ike->prf->key_len, seed, 3, stream, total);
	if (rc == 0) {
		rbuf_init(&r, stream, total);
		rc = child_dir_take(&r, in, &out->i2r);
	}
	if (rc == 0)
		rc = child_dir_take(&r, in, &out->r2i);
	OPENSSL_cleanse(stream, sizeof(stream));
	if (rc != 0)
		keymat_child_wipe(out);
	return rc;
}

void keymat_child_wipe(struct child_keys *k)
{
	if (k)
		OPENSSL_cleanse(k, sizeof(*k));
}
