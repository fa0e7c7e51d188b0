/* SPDX-License-Identifier: ISC */
/*
 * IKEv2 AUTH signatures: RFC 7427 Digital Signature and the classic RFC 7296 /
 * RFC 4754 methods, over octets the caller built (RFC 7296 2.15).
 */
#include <errno.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>

#include "ikegw/ikev2.h"
#include "ikegw/sig.h"

#define RSA_BITS_MIN 2048

/* ---- AlgorithmIdentifier table (RFC 7427 A, RFC 4055, RFC 5758, RFC 8410) ---- */

/* OIDs as DER TLVs. */
#define OID_RSA_PKCS1(x) 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, x
#define OID_SHA2(x) 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, x
#define OID_ECDSA_SHA2(x) 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, x

/* sha*WithRSAEncryption: parameters NULL (RFC 4055 5). */
#define AID_RSA_PKCS1(x) { 0x30, 0x0d, OID_RSA_PKCS1(x), 0x05, 0x00 }
/* ecdsa-with-SHA*: parameters absent (RFC 5758 3.2). */
#define AID_ECDSA(x) { 0x30, 0x0a, OID_ECDSA_SHA2(x) }

/*
 * id-RSASSA-PSS with RSASSA-PSS-params { [0] hash, [1] mgf1(hash), [2] salt = hash
 * length }, trailer field default (RFC 4055 3.1).  We send hash identifiers with NULL
 * parameters as RFC 4055 2.1 / RFC 8017 A.2.3 write them; we also accept them absent.
 */
#define AID_PSS_NULL(h, salt) { 0x30, 0x41, OID_RSA_PKCS1(0x0a), 0x30, 0x34, \
	0xa0, 0x0f, 0x30, 0x0d, OID_SHA2(h), 0x05, 0x00, \
	0xa1, 0x1c, 0x30, 0x1a, OID_RSA_PKCS1(0x08), 0x30, 0x0d, OID_SHA2(h), 0x05, 0x00, \
	0xa2, 0x03, 0x02, 0x01, salt }
#define AID_PSS_ABSENT(h, salt) { 0x30, 0x3d, OID_RSA_PKCS1(0x0a), 0x30, 0x30, \
	0xa0, 0x0b, 0x30, 0x09, OID_SHA2(h), \
	0xa1, 0x18, 0x30, 0x16, OID_RSA_PKCS1(0x08), 0x30, 0x09, OID_SHA2(h), \
	0xa2, 0x03, 0x02, 0x01, salt }

static const uint8_t aid_rsa256[] = AID_RSA_PKCS1(0x0b);
static const uint8_t aid_rsa384[] = AID_RSA_PKCS1(0x0c);
static const uint8_t aid_rsa512[] = AID_RSA_PKCS1(0x0d);
static const uint8_t aid_pss256[] = AID_PSS_NULL(0x01, 0x20);
static const uint8_t aid_pss384[] = AID_PSS_NULL(0x02, 0x30);
static const uint8_t aid_pss512[] = AID_PSS_NULL(0x03, 0x40);
static const uint8_t aid_pss256_a[] = AID_PSS_ABSENT(0x01, 0x20);
static const uint8_t aid_pss384_a[] = AID_PSS_ABSENT(0x02, 0x30);
static const uint8_t aid_pss512_a[] = AID_PSS_ABSENT(0x03, 0x40);
static const uint8_t aid_ecdsa256[] = AID_ECDSA(0x02);
static const uint8_t aid_ecdsa384[] = AID_ECDSA(0x03);
static const uint8_t aid_ecdsa512[] = AID_ECDSA(0x04);
/* id-Ed25519 1.3.101.112, parameters absent (RFC 8410 3). */
static const uint8_t aid_ed25519[] = { 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70 };

struct algid {
	struct sig_scheme s;
	const uint8_t *der;
	size_t len;
	bool send; /* the encoding we emit; the others are only accepted */
};

#define AID(kind, hash, arr, send) { { kind, hash }, arr, sizeof(arr), send }

static const struct algid algids[] = {
	AID(SIG_RSA_PKCS1, IKEV2_HASH_SHA2_256, aid_rsa256, true),
	AID(SIG_RSA_PKCS1, IKEV2_HASH_SHA2_384, aid_rsa384, true),
	AID(SIG_RSA_PKCS1, IKEV2_HASH_SHA2_512, aid_rsa512, true),
	AID(SIG_RSA_PSS, IKEV2_HASH_SHA2_256, aid_pss256, true),
	AID(SIG_RSA_PSS, IKEV2_HASH_SHA2_384, aid_pss384, true),
	AID(SIG_RSA_PSS, IKEV2_HASH_SHA2_512, aid_pss512, true),
	AID(SIG_RSA_PSS, IKEV2_HASH_SHA2_256, aid_pss256_a, false),
	AID(SIG_RSA_PSS, IKEV2_HASH_SHA2_384, aid_pss384_a, false),
	AID(SIG_RSA_PSS, IKEV2_HASH_SHA2_512, aid_pss512_a, false),
	AID(SIG_ECDSA, IKEV2_HASH_SHA2_256, aid_ecdsa256, true),
	AID(SIG_ECDSA, IKEV2_HASH_SHA2_384, aid_ecdsa384, true),
	AID(SIG_ECDSA, IKEV2_HASH_SHA2_512, aid_ecdsa512, true),
	AID(SIG_ED25519, IKEV2_HASH_IDENTITY, aid_ed25519, true),
};

#define N_ALGIDS (sizeof(algids) / sizeof(algids[0]))

static const struct algid *algid_by_der(const uint8_t *der, size_t len)
{
	size_t i;

	for (i = 0; i < N_ALGIDS; i++)
		if (algids[i].len == len && memcmp(algids[i].der, der, len) == 0)
			return &algids[i];
	return NULL;
}

int sig_ds_algid(const struct sig_scheme *s, const uint8_t **der, size_t *len)
{
	size_t i;

	for (i = 0; s && i < N_ALGIDS; i++) {
		if (algids[i].send && algids[i].s.kind == s->kind && algids[i].s.hash == s->hash) {
			*der = algids[i].der;
			*len = algids[i].len;
			return 0;
		}
	}
	return -ENOTSUP;
}

/* ---- keys and hashes ------------------------------------------------------ */

/* NULL = no digest (Ed25519 signs the octets themselves, RFC 8420). */
static const char *hash_md_name(int hash)
{
	switch (hash) {
	case IKEV2_HASH_SHA1:
		return "SHA1";
	case IKEV2_HASH_SHA2_256:
		return "SHA256";
	case IKEV2_HASH_SHA2_384:
		return "SHA384";
	case IKEV2_HASH_SHA2_512:
		return "SHA512";
	default:
		return NULL;
	}
}

static bool key_is_rsa(EVP_PKEY *key)
{
	return EVP_PKEY_is_a(key, "RSA") == 1 || EVP_PKEY_is_a(key, "RSA-PSS") == 1;
}

/* NID of an EC key's named curve, or NID_undef. */
static int key_curve(EVP_PKEY *key)
{
	char name[64];

	if (EVP_PKEY_is_a(key, "EC") != 1 ||
	    EVP_PKEY_get_group_name(key, name, sizeof(name), NULL) != 1)
		return NID_undef;
	return OBJ_txt2nid(name);
}

/* Does the key's type fit the scheme's kind?  Also refuses weak RSA keys. */
static int key_fits(EVP_PKEY *key, enum sig_kind kind)
{
	switch (kind) {
	case SIG_RSA_PKCS1:
		if (EVP_PKEY_is_a(key, "RSA") != 1)
			return -EKEYREJECTED;
		break;
	case SIG_RSA_PSS:
		if (!key_is_rsa(key))
			return -EKEYREJECTED;
		break;
	case SIG_ECDSA:
		return EVP_PKEY_is_a(key, "EC") == 1 ? 0 : -EKEYREJECTED;
	case SIG_ED25519:
		return EVP_PKEY_is_a(key, "ED25519") == 1 ? 0 : -EKEYREJECTED;
	default:
		return -ENOTSUP;
	}
	return EVP_PKEY_get_bits(key) >= RSA_BITS_MIN ? 0 : -EKEYREJECTED;
}

/* The kind an RFC 7427 signature with this key has. */
static int key_kind(EVP_PKEY *key, bool rsa_pss)
{
	if (EVP_PKEY_is_a(key, "RSA-PSS") == 1)
		return SIG_RSA_PSS;
	if (EVP_PKEY_is_a(key, "RSA") == 1)
		return rsa_pss ? SIG_RSA_PSS : SIG_RSA_PKCS1;
	if (EVP_PKEY_is_a(key, "EC") == 1)
		return SIG_ECDSA;
	if (EVP_PKEY_is_a(key, "ED25519") == 1)
		return SIG_ED25519;
	return -ENOTSUP;
}

size_t sig_auth_len_max(EVP_PKEY *key)
{
	int n = key ? EVP_PKEY_get_size(key) : 0;

	/* length byte + the longest AlgorithmIdentifier + the signature */
	return n > 0 ? 1 + sizeof(aid_pss256) + (size_t)n : 0;
}

/* ---- SIGNATURE_HASH_ALGORITHMS (RFC 7427 4) -------------------------------- */

static int announced_mask(const uint8_t *data, size_t len, unsigned *mask)
{
	struct rbuf r;
	uint16_t h;

	if (len % 2)
		return -EBADMSG;
	*mask = 0;
	rbuf_init(&r, data, len);
	while (rbuf_u16(&r, &h) == 0)
		if (h < 16)
			*mask |= 1u << h;
	return 0;
}

static int curve_hash(int nid)
{
	switch (nid) {
	case NID_X9_62_prime256v1:
		return IKEV2_HASH_SHA2_256;
	case NID_secp384r1:
		return IKEV2_HASH_SHA2_384;
	case NID_secp521r1:
		return IKEV2_HASH_SHA2_512;
	default:
		return -ENOTSUP;
	}
}

int sig_choose_hash(const uint8_t *notify_data, size_t len, EVP_PKEY *key)
{
	static const int strongest[] = {
		IKEV2_HASH_SHA2_512, IKEV2_HASH_SHA2_384, IKEV2_HASH_SHA2_256,
	};
	unsigned mask;
	size_t i;
	int pref;

	if (!key || (!notify_data && len))
		return -EINVAL;
	if (announced_mask(notify_data, len, &mask) != 0)
		return -EBADMSG;
	if (EVP_PKEY_is_a(key, "ED25519") == 1)
		return (mask & (1u << IKEV2_HASH_IDENTITY)) ? IKEV2_HASH_IDENTITY : -ENOTSUP;
	if (!key_is_rsa(key) && EVP_PKEY_is_a(key, "EC") != 1)
		return -ENOTSUP;
	/* An ECDSA key's strength is its curve's: a longer hash adds nothing. */
	pref = curve_hash(key_curve(key));
	if (pref > 0 && (mask & (1u << pref)))
		return pref;
	for (i = 0; i < sizeof(strongest) / sizeof(strongest[0]); i++)
		if (mask & (1u << strongest[i]))
			return strongest[i];
	return -ENOTSUP;
}

/* ---- EVP sign / verify ----------------------------------------------------- */

static int md_ctx_init(EVP_MD_CTX *mctx, bool sign, EVP_PKEY *key, enum sig_kind kind,
		       int hash)
{
	const char *md = hash_md_name(hash);
	EVP_PKEY_CTX *pctx = NULL;
	int ok;

	if (sign)
		ok = EVP_DigestSignInit_ex(mctx, &pctx, md, NULL, NULL, key, NULL);
	else
		ok = EVP_DigestVerifyInit_ex(mctx, &pctx, md, NULL, NULL, key, NULL);
	if (ok != 1)
		return -EIO;
	if (kind == SIG_RSA_PKCS1)
		return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0 ? 0 : -EIO;
	if (kind != SIG_RSA_PSS)
		return 0;
	/* RFC 7427 / RFC 4055: MGF1 with the same hash, salt as long as the hash. */
	if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, md, NULL) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0)
		return -EIO;
	return 0;
}

/* Sign into a fresh buffer (*sig, OPENSSL_free) of *siglen bytes. */
static int raw_sign(EVP_PKEY *key, enum sig_kind kind, int hash, const uint8_t *data,
		    size_t n, uint8_t **sig, size_t *siglen)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	int rc = mctx ? md_ctx_init(mctx, true, key, kind, hash) : -ENOMEM;

	*sig = NULL;
	if (rc == 0 && EVP_DigestSign(mctx, NULL, siglen, data, n) != 1)
		rc = -EIO;
	if (rc == 0 && !(*sig = OPENSSL_malloc(*siglen)))
		rc = -ENOMEM;
	if (rc == 0 && EVP_DigestSign(mctx, *sig, siglen, data, n) != 1)
		rc = -EIO;
	if (rc != 0) {
		OPENSSL_free(*sig);
		*sig = NULL;
	}
	EVP_MD_CTX_free(mctx);
	ERR_clear_error();
	return rc;
}

static int raw_verify(EVP_PKEY *key, enum sig_kind kind, int hash, const uint8_t *sig,
		      size_t siglen, const uint8_t *data, size_t n)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	int rc = mctx ? md_ctx_init(mctx, false, key, kind, hash) : -ENOMEM;

	/* 1 is a good signature; 0 a bad one and negative an error: both fail. */
	if (rc == 0 && EVP_DigestVerify(mctx, sig, siglen, data, n) != 1)
		rc = -EACCES;
	EVP_MD_CTX_free(mctx);
	ERR_clear_error();
	return rc;
}

/* ---- RFC 7427 Digital Signature -------------------------------------------- */

static bool hash_fits(enum sig_kind kind, int hash)
{
	if (kind == SIG_ED25519)
		return hash == IKEV2_HASH_IDENTITY;
	return hash == IKEV2_HASH_SHA2_256 || hash == IKEV2_HASH_SHA2_384 ||
	       hash == IKEV2_HASH_SHA2_512;
}

int sig_ds_sign(EVP_PKEY *key, int hash, bool rsa_pss, const uint8_t *octets, size_t n,
		struct wbuf *out)
{
	struct sig_scheme s;
	const uint8_t *aid;
	size_t aid_len, siglen;
	uint8_t *sig;
	int rc;

	if (!key || !out || (!octets && n))
		return -EINVAL;
	if ((rc = key_kind(key, rsa_pss)) < 0)
		return rc;
	s.kind = (enum sig_kind)rc;
	s.hash = hash;
	if (!hash_fits(s.kind, hash) || sig_ds_algid(&s, &aid, &aid_len) != 0)
		return -ENOTSUP;
	if ((rc = key_fits(key, s.kind)) != 0)
		return rc;
	if ((rc = raw_sign(key, s.kind, hash, octets, n, &sig, &siglen)) != 0)
		return rc;
	/* RFC 7427 3: length of the AlgorithmIdentifier, the DER, the signature. */
	wbuf_u8(out, (uint8_t)aid_len);
	wbuf_bytes(out, aid, aid_len);
	wbuf_bytes(out, sig, siglen);
	OPENSSL_free(sig);
	return wbuf_ok(out) ? 0 : -ENOSPC;
}

int sig_ds_verify(EVP_PKEY *pub, const uint8_t *auth, size_t auth_len,
		  const uint8_t *octets, size_t n, struct sig_scheme *used)
{
	const struct algid *a;
	const uint8_t *aid, *sig;
	size_t siglen;
	struct rbuf r;
	uint8_t aid_len;
	int rc;

	if (!pub || (!auth && auth_len) || (!octets && n))
		return -EINVAL;
	rbuf_init(&r, auth, auth_len);
	if (rbuf_u8(&r, &aid_len) != 0 || aid_len == 0 || rbuf_bytes(&r, aid_len, &aid) != 0)
		return -EBADMSG;
	rbuf_rest(&r, &sig, &siglen);
	if (siglen == 0)
		return -EBADMSG;
	if (!(a = algid_by_der(aid, aid_len)))
		return -ENOTSUP;
	if ((rc = key_fits(pub, a->s.kind)) != 0)
		return rc;
	if ((rc = raw_verify(pub, a->s.kind, a->s.hash, sig, siglen, octets, n)) != 0)
		return rc;
	if (used)
		*used = a->s;
	return 0;
}

/* ---- classic methods (RFC 7296 3.8, RFC 4754) ------------------------------ */

/* ECDSA method -> curve NID and hash; 0 or -ENOTSUP. */
static int ecdsa_method(int method, int *nid, int *hash)
{
	switch (method) {
	case IKEV2_AUTH_ECDSA_256:
		*nid = NID_X9_62_prime256v1;
		break;
	case IKEV2_AUTH_ECDSA_384:
		*nid = NID_secp384r1;
		break;
	case IKEV2_AUTH_ECDSA_521:
		*nid = NID_secp521r1;
		break;
	default:
		return -ENOTSUP;
	}
	*hash = curve_hash(*nid);
	return 0;
}

/* RFC 4754 7: r and s are each as long as the curve's field (P-521: 66 bytes). */
static size_t ecdsa_half_len(int nid)
{
	return nid == NID_secp521r1 ? 66 : nid == NID_secp384r1 ? 48 : 32;
}

int sig_classic_method(EVP_PKEY *key)
{
	if (!key)
		return -EINVAL;
	if (EVP_PKEY_is_a(key, "RSA") == 1)
		return IKEV2_AUTH_RSA_SIG;
	switch (key_curve(key)) {
	case NID_X9_62_prime256v1:
		return IKEV2_AUTH_ECDSA_256;
	case NID_secp384r1:
		return IKEV2_AUTH_ECDSA_384;
	case NID_secp521r1:
		return IKEV2_AUTH_ECDSA_521;
	default:
		return -ENOTSUP;
	}
}

/* DER ECDSA-Sig-Value -> r || s, fixed size. */
static int ecdsa_der_to_rs(const uint8_t *der, size_t len, size_t half, struct wbuf *out)
{
	const unsigned char *p = der;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM *r, *s;
	uint8_t buf[2 * 66];
	int rc = -EIO;

	if (!es)
		return -EIO;
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, buf, (int)half) == (int)half &&
	    BN_bn2binpad(s, buf + half, (int)half) == (int)half) {
		wbuf_bytes(out, buf, 2 * half);
		rc = wbuf_ok(out) ? 0 : -ENOSPC;
	}
	ECDSA_SIG_free(es);
	return rc;
}

/* r || s from the network -> DER ECDSA-Sig-Value (*der, OPENSSL_free). */
static int ecdsa_rs_to_der(const uint8_t *rs, size_t len, size_t half, uint8_t **der,
			   int *der_len)
{
	const uint8_t *rp, *sp;
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = NULL, *s = NULL;
	struct rbuf rb;

	*der = NULL;
	rbuf_init(&rb, rs, len);
	if (!es || len != 2 * half || rbuf_bytes(&rb, half, &rp) != 0 ||
	    rbuf_bytes(&rb, half, &sp) != 0)
		goto fail;
	r = BN_bin2bn(rp, (int)half, NULL);
	s = BN_bin2bn(sp, (int)half, NULL);
	if (!r || !s || ECDSA_SIG_set0(es, r, s) != 1)
		goto fail;
	r = s = NULL; /* owned by es now */
	*der_len = i2d_ECDSA_SIG(es, der);
	ECDSA_SIG_free(es);
	return *der_len > 0 ? 0 : -ENOMEM;
fail:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return -EBADMSG;
}

static int classic_ecdsa_sign(EVP_PKEY *key, int method, const uint8_t *octets, size_t n,
			      struct wbuf *out)
{
	int nid, hash, rc;
	size_t siglen;
	uint8_t *sig;

	if (ecdsa_method(method, &nid, &hash) != 0)
		return -ENOTSUP;
	if (key_curve(key) != nid)
		return -EKEYREJECTED;
	if ((rc = raw_sign(key, SIG_ECDSA, hash, octets, n, &sig, &siglen)) != 0)
		return rc;
	rc = ecdsa_der_to_rs(sig, siglen, ecdsa_half_len(nid), out);
	OPENSSL_free(sig);
	return rc;
}

static int classic_ecdsa_verify(EVP_PKEY *pub, int method, const uint8_t *auth,
				size_t auth_len, const uint8_t *octets, size_t n)
{
	int nid, hash, der_len, rc;
	uint8_t *der;

	if (ecdsa_method(method, &nid, &hash) != 0)
		return -ENOTSUP;
	if (key_curve(pub) != nid)
		return -EKEYREJECTED;
	if ((rc = ecdsa_rs_to_der(auth, auth_len, ecdsa_half_len(nid), &der, &der_len)) != 0)
		return rc;
	rc = raw_verify(pub, SIG_ECDSA, hash, der, (size_t)der_len, octets, n);
	OPENSSL_free(der);
	return rc;
}

int sig_classic_sign(EVP_PKEY *key, int method, bool allow_sha1, const uint8_t *octets,
		     size_t n, struct wbuf *out)
{
	size_t siglen;
	uint8_t *sig;
	int rc;

	if (!key || !out || (!octets && n))
		return -EINVAL;
	if (method != IKEV2_AUTH_RSA_SIG)
		return classic_ecdsa_sign(key, method, octets, n, out);
	/* RFC 7296 3.8: RSA_SIG is PKCS#1 v1.5 over SHA-1, which we avoid. */
	if (!allow_sha1)
		return -ENOTSUP;
	if ((rc = key_fits(key, SIG_RSA_PKCS1)) != 0)
		return rc;
	if ((rc = raw_sign(key, SIG_RSA_PKCS1, IKEV2_HASH_SHA1, octets, n, &sig, &siglen)) != 0)
		return rc;
	wbuf_bytes(out, sig, siglen);
	OPENSSL_free(sig);
	return wbuf_ok(out) ? 0 : -ENOSPC;
}

int sig_classic_verify(EVP_PKEY *pub, int method, const uint8_t *auth, size_t auth_len,
		       const uint8_t *octets, size_t n)
{
	int rc;

	if (!pub || (!auth && auth_len) || (!octets && n))
		return -EINVAL;
	if (auth_len == 0)
		return -EBADMSG;
	if (method != IKEV2_AUTH_RSA_SIG)
		return classic_ecdsa_verify(pub, method, auth, auth_len, octets, n);
	if ((rc = key_fits(pub, SIG_RSA_PKCS1)) != 0)
		return rc;
	return raw_verify(pub, SIG_RSA_PKCS1, IKEV2_HASH_SHA1, auth, auth_len, octets, n);
}

int sig_verify(EVP_PKEY *pub, int method, const uint8_t *auth, size_t auth_len,
	       const uint8_t *octets, size_t n)
{
	switch (method) {
	case IKEV2_AUTH_DIGITAL_SIGNATURE:
		return sig_ds_verify(pub, auth, auth_len, octets, n, NULL);
	case IKEV2_AUTH_RSA_SIG:
	case IKEV2_AUTH_ECDSA_256:
	case IKEV2_AUTH_ECDSA_384:
	case IKEV2_AUTH_ECDSA_521:
		return sig_classic_verify(pub, method, auth, auth_len, octets, n);
	default:
		return -ENOTSUP;
	}
}

/* ---- signed octets (RFC 7296 2.15) ---------------------------------------- */

size_t sig_octets_len(const struct sig_octets *o)
{
	return o->msg_len + o->nonce_len + o->maced_id_len;
}

int sig_octets_build(const struct sig_octets *o, struct wbuf *out)
{
	if (!o || !out || (!o->msg && o->msg_len) || (!o->nonce && o->nonce_len) ||
	    (!o->maced_id && o->maced_id_len))
		return -EINVAL;
	wbuf_bytes(out, o->msg, o->msg_len);
	wbuf_bytes(out, o->nonce, o->nonce_len);
	wbuf_bytes(out, o->maced_id, o->maced_id_len);
	return wbuf_ok(out) ? 0 : -ENOSPC;
}
