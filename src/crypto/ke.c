/* SPDX-License-Identifier: ISC */
/* Diffie-Hellman over MODP, ECP and X25519/X448 through EVP_PKEY, with peer checks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>

#include "ikegw/buf.h"
#include "ikegw/ke.h"

#define EC_POINT_UNCOMPRESSED 0x04 /* SEC 1 2.3.3; RFC 5903 7 leaves it off the wire */

struct ke_key {
	const struct crypto_suite *suite;
	const struct suite_ke *grp;
	EVP_PKEY *pkey;
};

/* What to put into an EVP_PKEY besides the group; NULL members are left out. */
struct ke_parts {
	const BIGNUM *priv;
	const BIGNUM *pub;      /* MODP public value */
	const uint8_t *pub_oct; /* ECP encoded point */
	size_t pub_oct_len;
};

/* The group: OpenSSL's name for it, or (RFC 2409 6.2) the prime with generator 2. */
static int group_push(OSSL_PARAM_BLD *bld, const struct suite_ke *g, BIGNUM **p, BIGNUM **gen)
{
	if (g->group)
		return OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, g->group,
						       0) == 1 ? 0 : -EIO;
	if (!g->prime_hex || BN_hex2bn(p, g->prime_hex) == 0)
		return -EIO;
	*gen = BN_new();
	if (!*gen || BN_set_word(*gen, 2) != 1)
		return -EIO;
	if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, *p) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, *gen) != 1)
		return -EIO;
	return 0;
}

static int parts_push(OSSL_PARAM_BLD *bld, const struct ke_parts *kp)
{
	if (kp->priv && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, kp->priv) != 1)
		return -EIO;
	if (kp->pub && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, kp->pub) != 1)
		return -EIO;
	if (kp->pub_oct && OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
							    kp->pub_oct, kp->pub_oct_len) != 1)
		return -EIO;
	return 0;
}

static EVP_PKEY *pkey_fromdata(const struct crypto_suite *s, const char *keytype,
			       int selection, OSSL_PARAM *params)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(suite_libctx(s), keytype, NULL);
	EVP_PKEY *pk = NULL;

	if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, selection, params) != 1) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

/* A MODP or ECP EVP_PKEY: group parameters plus whatever kp carries. */
static EVP_PKEY *pkey_build(const struct crypto_suite *s, const struct suite_ke *g,
			    int selection, const struct ke_parts *kp)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *p = NULL, *gen = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY *pk = NULL;

	if (bld && group_push(bld, g, &p, &gen) == 0 && parts_push(bld, kp) == 0)
		params = OSSL_PARAM_BLD_to_param(bld);
	if (params)
		pk = pkey_fromdata(s, g->keytype, selection, params);
	/* Private BNs are BN_secure: the builder put them in cleared-on-free memory. */
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(p);
	BN_free(gen);
	return pk;
}

static int key_alloc(const struct crypto_suite *s, uint16_t group, struct ke_key **out)
{
	const struct suite_ke *g = suite_ke_find(group);

	*out = NULL;
	if (!g)
		return -ENOENT;
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	(*out)->suite = s;
	(*out)->grp = g;
	return 0;
}

void ke_key_free(struct ke_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey); /* OpenSSL clears private key material on free */
	free(k);
}

const struct suite_ke *ke_key_group(const struct ke_key *k)
{
	return k->grp;
}

/* Key generation context: from the group parameters, or by name for X25519/X448. */
static EVP_PKEY_CTX *keygen_ctx(const struct crypto_suite *s, const struct suite_ke *g,
				EVP_PKEY **tmpl)
{
	static const struct ke_parts none;

	*tmpl = NULL;
	if (g->kind == SUITE_KE_ECX)
		return EVP_PKEY_CTX_new_from_name(suite_libctx(s), g->keytype, NULL);
	*tmpl = pkey_build(s, g, EVP_PKEY_KEY_PARAMETERS, &none);
	if (!*tmpl)
		return NULL;
	return EVP_PKEY_CTX_new_from_pkey(suite_libctx(s), *tmpl, NULL);
}

int ke_key_generate(const struct crypto_suite *s, uint16_t group, struct ke_key **out)
{
	EVP_PKEY *tmpl = NULL;
	EVP_PKEY_CTX *ctx;
	struct ke_key *k;
	int rc = key_alloc(s, group, &k);

	if (rc != 0)
		return rc;
	ctx = keygen_ctx(s, k->grp, &tmpl);
	if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_generate(ctx, &k->pkey) != 1)
		rc = -EIO;
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(tmpl);
	if (rc != 0) {
		ke_key_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

/* 0x04 | x | y from the wire's x | y, copied through the bounded reader. */
static int ec_point_encode(const uint8_t *xy, size_t len, uint8_t *out, size_t cap)
{
	struct rbuf r;

	if (len + 1 > cap)
		return -EINVAL;
	out[0] = EC_POINT_UNCOMPRESSED;
	rbuf_init(&r, xy, len);
	return rbuf_copy(&r, out + 1, len) == 0 ? 0 : -EINVAL;
}

/* The public half as an EVP_PKEY (MODP / ECP), or NULL when the value is not valid. */
static EVP_PKEY *peer_ffc_ec(const struct ke_key *k, const uint8_t *pub, size_t len,
			     const BIGNUM *y)
{
	uint8_t pt[1 + SUITE_MAX_KE_PUB];
	struct ke_parts kp = { .pub = y };

	if (k->grp->kind == SUITE_KE_ECP) {
		/* Decoding checks that the point is on the curve (RFC 5903 / SP 800-56A). */
		if (ec_point_encode(pub, len, pt, sizeof(pt)) != 0)
			return NULL;
		kp = (struct ke_parts){ .pub_oct = pt, .pub_oct_len = len + 1 };
	}
	return pkey_build(k->suite, k->grp, EVP_PKEY_PUBLIC_KEY, &kp);
}

/* RFC 7296 5 / SP 800-56A 5.6.2.3.1: reject y <= 1 and y >= p-1 (order 1 and 2). */
static int modp_range_check(const struct ke_key *k, const BIGNUM *y)
{
	BIGNUM *p = NULL;
	int rc = -EIO;

	if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_FFC_P, &p) == 1 &&
	    BN_sub_word(p, 1) == 1)
		rc = BN_cmp(y, BN_value_one()) > 0 && BN_cmp(y, p) < 0 ? 0 : -EINVAL;
	BN_free(p);
	return rc;
}

static int peer_import(const struct ke_key *k, const uint8_t *pub, size_t len, EVP_PKEY **out)
{
	BIGNUM *y = NULL;
	int rc = 0;

	*out = NULL;
	if (k->grp->kind == SUITE_KE_ECX) {
		*out = EVP_PKEY_new_raw_public_key_ex(suite_libctx(k->suite), k->grp->keytype,
						      NULL, pub, len);
		return *out ? 0 : -EINVAL;
	}
	if (k->grp->kind == SUITE_KE_MODP) {
		y = BN_bin2bn(pub, (int)len, NULL);
		rc = y ? modp_range_check(k, y) : -ENOMEM;
	}
	if (rc == 0) {
		*out = peer_ffc_ec(k, pub, len, y);
		rc = *out ? 0 : -EINVAL;
	}
	BN_free(y);
	return rc;
}

/* RFC 7296 2.14: g^ir is zero-padded to the length of the modulus. */
static int dh_pad_set(EVP_PKEY_CTX *ctx)
{
	unsigned int pad = 1;
	OSSL_PARAM params[2];

	params[0] = OSSL_PARAM_construct_uint(OSSL_EXCHANGE_PARAM_PAD, &pad);
	params[1] = OSSL_PARAM_construct_end();
	return EVP_PKEY_CTX_set_params(ctx, params) == 1 ? 0 : -EIO;
}

static int derive(const struct ke_key *k, EVP_PKEY *peer, uint8_t *out, size_t want)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(suite_libctx(k->suite), k->pkey, NULL);
	size_t len = want;
	int rc = 0;

	if (!ctx || EVP_PKEY_derive_init(ctx) != 1)
		rc = -EIO;
	if (rc == 0 && k->grp->kind == SUITE_KE_MODP)
		rc = dh_pad_set(ctx);
	/* The peer value was validated by peer_import; skip OpenSSL's costlier re-check. */
	if (rc == 0 && EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) != 1)
		rc = -EINVAL;
	/* X25519/X448 derivation fails on an all-zero result (small-order point). */
	if (rc == 0 && (EVP_PKEY_derive(ctx, out, &len) != 1 || len != want))
		rc = -EINVAL;
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

/* RFC 7748 6.1 / RFC 8031 2.3: an all-zero X25519/X448 result MUST be rejected. */
static int ecx_zero_check(const uint8_t *secret, size_t len)
{
	static const uint8_t zero[SUITE_MAX_KE_SHARED];

	return CRYPTO_memcmp(secret, zero, len) == 0 ? -EINVAL : 0;
}

int ke_shared_compute(const struct ke_key *k, const uint8_t *peer, size_t peer_len,
		      uint8_t *out, size_t cap, size_t *len)
{
	const struct suite_ke *g = k->grp;
	EVP_PKEY *pp = NULL;
	int rc;

	*len = 0;
	if (!peer || peer_len != g->pub_len)
		return -EINVAL;
	if (cap < g->shared_len)
		return -ENOSPC;
	rc = peer_import(k, peer, peer_len, &pp);
	if (rc == 0)
		rc = derive(k, pp, out, g->shared_len);
	if (rc == 0 && g->kind == SUITE_KE_ECX)
		rc = ecx_zero_check(out, g->shared_len);
	EVP_PKEY_free(pp);
	if (rc != 0) {
		OPENSSL_cleanse(out, g->shared_len);
		return rc;
	}
	*len = g->shared_len;
	return 0;
}

/* A BIGNUM parameter of our key, big-endian and left-padded to len bytes. */
static int bn_param_get(const EVP_PKEY *pk, const char *name, uint8_t *out, size_t len)
{
	BIGNUM *bn = NULL;
	int rc = -EIO;

	if (EVP_PKEY_get_bn_param(pk, name, &bn) == 1 && BN_bn2binpad(bn, out, (int)len) == (int)len)
		rc = 0;
	BN_free(bn);
	return rc;
}

int ke_public_get(const struct ke_key *k, uint8_t *out, size_t cap, size_t *len)
{
	const struct suite_ke *g = k->grp;
	size_t n = cap;
	int rc;

	*len = 0;
	if (cap < g->pub_len)
		return -ENOSPC;
	switch (g->kind) {
	case SUITE_KE_ECX:
		rc = EVP_PKEY_get_raw_public_key(k->pkey, out, &n) == 1 && n == g->pub_len ? 0 : -EIO;
		break;
	case SUITE_KE_ECP: /* RFC 5903 7: x | y, each the size of the field */
		rc = bn_param_get(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, out, g->pub_len / 2);
		if (rc == 0)
			rc = bn_param_get(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, out + g->pub_len / 2,
					  g->pub_len / 2);
		break;
	default:
		rc = bn_param_get(k->pkey, OSSL_PKEY_PARAM_PUB_KEY, out, g->pub_len);
		break;
	}
	if (rc == 0)
		*len = g->pub_len;
	return rc;
}

int ke_modp_prime_get(const struct ke_key *k, uint8_t *out, size_t cap, size_t *len)
{
	int rc;

	*len = 0;
	if (k->grp->kind != SUITE_KE_MODP)
		return -EINVAL;
	if (cap < k->grp->pub_len)
		return -ENOSPC;
	rc = bn_param_get(k->pkey, OSSL_PKEY_PARAM_FFC_P, out, k->grp->pub_len);
	if (rc == 0)
		*len = k->grp->pub_len;
	return rc;
}

/* X25519/X448 from the raw scalar; a given public value must match the derived one. */
static int import_ecx(struct ke_key *k, const uint8_t *priv, size_t priv_len,
		      const uint8_t *pub, size_t pub_len)
{
	uint8_t mine[SUITE_MAX_KE_PUB];
	size_t n;

	if (priv_len != k->grp->pub_len)
		return -EINVAL;
	k->pkey = EVP_PKEY_new_raw_private_key_ex(suite_libctx(k->suite), k->grp->keytype, NULL,
						  priv, priv_len);
	if (!k->pkey)
		return -EINVAL;
	if (!pub)
		return 0;
	if (pub_len != k->grp->pub_len || ke_public_get(k, mine, sizeof(mine), &n) != 0)
		return -EINVAL;
	return CRYPTO_memcmp(mine, pub, n) == 0 ? 0 : -EINVAL;
}

/* MODP / ECP key pair from its parts; OpenSSL's pairwise check ties them together. */
static int import_ffc_ec(struct ke_key *k, const uint8_t *priv, size_t priv_len,
			 const uint8_t *pub, size_t pub_len)
{
	uint8_t pt[1 + SUITE_MAX_KE_PUB];
	BIGNUM *x = BN_secure_new();
	BIGNUM *y = NULL;
	struct ke_parts kp = { .priv = x };
	EVP_PKEY_CTX *ctx = NULL;
	int rc = x && BN_bin2bn(priv, (int)priv_len, x) ? 0 : -ENOMEM;

	if (rc == 0 && k->grp->kind == SUITE_KE_ECP) {
		rc = ec_point_encode(pub, pub_len, pt, sizeof(pt));
		kp.pub_oct = pt;
		kp.pub_oct_len = pub_len + 1;
	} else if (rc == 0) {
		kp.pub = y = BN_bin2bn(pub, (int)pub_len, NULL);
		rc = y ? 0 : -ENOMEM;
	}
	if (rc == 0)
		k->pkey = pkey_build(k->suite, k->grp, EVP_PKEY_KEYPAIR, &kp);
	if (rc == 0 && k->pkey)
		ctx = EVP_PKEY_CTX_new_from_pkey(suite_libctx(k->suite), k->pkey, NULL);
	if (rc == 0 && (!ctx || EVP_PKEY_pairwise_check(ctx) != 1))
		rc = -EINVAL;
	EVP_PKEY_CTX_free(ctx);
	BN_clear_free(x);
	BN_free(y);
	return rc;
}

int ke_key_import(const struct crypto_suite *s, uint16_t group, const uint8_t *priv,
		  size_t priv_len, const uint8_t *pub, size_t pub_len, struct ke_key **out)
{
	struct ke_key *k;
	int rc = key_alloc(s, group, &k);

	if (rc != 0)
		return rc;
	if (!priv || priv_len == 0 || priv_len > SUITE_MAX_KE_PUB)
		rc = -EINVAL;
	else if (k->grp->kind == SUITE_KE_ECX)
		rc = import_ecx(k, priv, priv_len, pub, pub_len);
	else if (!pub || pub_len != k->grp->pub_len)
		rc = -EINVAL;
	else
		rc = import_ffc_ec(k, priv, priv_len, pub, pub_len);
	if (rc != 0) {
		ke_key_free(k);
		return rc;
	}
	*out = k;
	return 0;
}
