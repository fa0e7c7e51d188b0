/* SPDX-License-Identifier: ISC */
/*
 * Certificates: trust store, peer chain verification, ID binding, own credentials.
 *
 * The trust store holds only what the configuration names (SPEC: "never the system
 * store"); X509_STORE_new() starts empty and we never call set_default_paths.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ikegw/buf.h"
#include "ikegw/cert.h"
#include "ikegw/ikev2.h"

/* A CERT payload body is at most 65535 - 5 bytes (RFC 7296 3.6). */
#define CERT_DER_MAX 65535
/* Peer chain: leaf + intermediates; more than this is not a real deployment. */
#define CERT_CHAIN_MAX 16
#define CERT_DEPTH_MAX 8
#define CERT_OWN_MAX 8

/*
 * Both objects are shared read-only between the gateway (until a reload replaces them)
 * and the jobs that use them (from submit to free), possibly on other threads: an atomic
 * reference count decides who frees.
 */
struct cert_store {
	atomic_size_t refs;
	X509_STORE *store;
	bool have_crls;
};

struct cert_own {
	atomic_size_t refs;
	EVP_PKEY *key;
	X509 *certs[CERT_OWN_MAX];
	uint8_t *der[CERT_OWN_MAX];
	size_t der_len[CERT_OWN_MAX];
	size_t n;
};

static void err_reset(struct cert_error *err)
{
	if (!err)
		return;
	err->status = CERT_OK;
	err->depth = -1;
	err->reason[0] = '\0';
}

__attribute__((format(printf, 3, 4)))
static int err_set(struct cert_error *err, enum cert_status st, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->status = st;
		va_start(ap, fmt);
		vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
		va_end(ap);
	}
	ERR_clear_error();
	return st;
}

/* The last OpenSSL error as text, for "why did this file not load". */
static const char *ossl_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_peek_last_error());

	return r ? r : "no usable content";
}

/* Never prompt on a terminal for an encrypted key: the daemon has no one to ask. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* ---- reference counts ----------------------------------------------------- */

static void ref_get(atomic_size_t *refs)
{
	/* Taking one needs a reference already held: no ordering to establish. */
	atomic_fetch_add_explicit(refs, 1, memory_order_relaxed);
}

/* Drop one; true for the last, whose holder frees.  acq_rel: every holder's use of the
 * object happens before the free (the release of the others, the acquire of the last). */
static bool ref_put(atomic_size_t *refs)
{
	return atomic_fetch_sub_explicit(refs, 1, memory_order_acq_rel) == 1;
}

/* ---- trust store ---------------------------------------------------------- */

static int store_add_cas(X509_STORE *store, const char *path, struct cert_error *err)
{
	BIO *bio = BIO_new_file(path, "r");
	X509 *x;
	int n = 0;

	if (!bio)
		return err_set(err, CERT_E_IO, "%s: %s", path, ossl_reason());
	while ((x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL))) {
		int ok = X509_STORE_add_cert(store, x);

		X509_free(x);
		if (ok != 1) {
			BIO_free(bio);
			return err_set(err, CERT_E_IO, "%s: %s", path, ossl_reason());
		}
		n++;
	}
	if (n == 0 && BIO_reset(bio) == 0 && (x = d2i_X509_bio(bio, NULL))) {
		n = X509_STORE_add_cert(store, x) == 1;
		X509_free(x);
	}
	BIO_free(bio);
	if (n == 0)
		return err_set(err, CERT_E_IO, "%s: no CA certificate found", path);
	ERR_clear_error(); /* the PEM loop ends on a "no start line" error */
	return 0;
}

static int store_add_crls(X509_STORE *store, const char *path, struct cert_error *err)
{
	BIO *bio = BIO_new_file(path, "r");
	X509_CRL *c;
	int n = 0;

	if (!bio)
		return err_set(err, CERT_E_IO, "%s: %s", path, ossl_reason());
	while ((c = PEM_read_bio_X509_CRL(bio, NULL, no_passphrase, NULL))) {
		int ok = X509_STORE_add_crl(store, c);

		X509_CRL_free(c);
		if (ok != 1) {
			BIO_free(bio);
			return err_set(err, CERT_E_IO, "%s: %s", path, ossl_reason());
		}
		n++;
	}
	if (n == 0 && BIO_reset(bio) == 0 && (c = d2i_X509_CRL_bio(bio, NULL))) {
		n = X509_STORE_add_crl(store, c) == 1;
		X509_CRL_free(c);
	}
	BIO_free(bio);
	if (n == 0)
		return err_set(err, CERT_E_IO, "%s: no CRL found", path);
	ERR_clear_error();
	return 0;
}

struct cert_store *cert_store_new(const char *const *ca_paths, size_t n_ca,
				  const char *const *crl_paths, size_t n_crl,
				  struct cert_error *err)
{
	struct cert_store *st = calloc(1, sizeof(*st));
	size_t i;

	err_reset(err);
	if (st)
		atomic_init(&st->refs, 1);
	if (!st || !(st->store = X509_STORE_new())) {
		err_set(err, CERT_E_NOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < n_ca; i++)
		if (store_add_cas(st->store, ca_paths[i], err) != 0)
			goto fail;
	for (i = 0; i < n_crl; i++)
		if (store_add_crls(st->store, crl_paths[i], err) != 0)
			goto fail;
	st->have_crls = n_crl > 0;
	/* Revocation of every certificate in the chain, not only the leaf. */
	if (st->have_crls &&
	    X509_STORE_set_flags(st->store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL) != 1) {
		err_set(err, CERT_E_NOMEM, "cannot enable CRL checking");
		goto fail;
	}
	return st;
fail:
	cert_store_free(st);
	return NULL;
}

struct cert_store *cert_store_up_ref(struct cert_store *st)
{
	if (st)
		ref_get(&st->refs);
	return st;
}

void cert_store_free(struct cert_store *st)
{
	if (!st || !ref_put(&st->refs))
		return;
	X509_STORE_free(st->store);
	free(st);
}

/* ---- peer chain ----------------------------------------------------------- */

/* Strict DER: the re-encoding must have the length we were given (no trailing bytes). */
static X509 *der_to_x509(const struct cert_der *c)
{
	const unsigned char *p = c->der;
	X509 *x;

	if (!c->der || c->len == 0 || c->len > CERT_DER_MAX)
		return NULL;
	x = d2i_X509(NULL, &p, (long)c->len);
	if (x && i2d_X509(x, NULL) != (int)c->len) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

static int verify_status(int e)
{
	switch (e) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return CERT_E_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return CERT_E_NOT_YET_VALID;
	case X509_V_ERR_CERT_REVOKED:
		return CERT_E_REVOKED;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_CHAIN_TOO_LONG:
		return CERT_E_UNTRUSTED;
	case X509_V_ERR_UNABLE_TO_GET_CRL:
	case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
	case X509_V_ERR_CRL_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
	case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
	case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
	case X509_V_ERR_DIFFERENT_CRL_SCOPE:
		return CERT_E_CRL;
	default:
		return CERT_E_INVALID;
	}
}

/* Turn a failed X509_verify_cert into a status and "reason (depth N: subject)". */
static int verify_failed(X509_STORE_CTX *ctx, struct cert_error *err)
{
	int e = X509_STORE_CTX_get_error(ctx);
	int depth = X509_STORE_CTX_get_error_depth(ctx);
	X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
	char subj[128] = "?";

	if (e == X509_V_OK) /* verify returned <= 0 without saying why: internal error */
		return err_set(err, CERT_E_INVALID, "certificate verification failed internally");
	if (cur)
		cert_subject_text(cur, subj, sizeof(subj));
	if (err)
		err->depth = depth;
	return err_set(err, verify_status(e), "%s (depth %d: %s)",
		       X509_verify_cert_error_string(e), depth, subj);
}

static int anchor_get(X509_STORE_CTX *ctx, X509 **anchor)
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
	int n = chain ? sk_X509_num(chain) : 0;
	X509 *top = n > 0 ? sk_X509_value(chain, n - 1) : NULL;

	if (!top || X509_up_ref(top) != 1)
		return CERT_E_NOMEM;
	*anchor = top;
	return 0;
}

static int run_verify(const struct cert_store *st, X509 *leaf, STACK_OF(X509) *untrusted,
		      time_t at, X509 **anchor, struct cert_error *err)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *vp;
	int rc;

	if (!ctx || X509_STORE_CTX_init(ctx, st->store, leaf, untrusted) != 1) {
		X509_STORE_CTX_free(ctx);
		return err_set(err, CERT_E_NOMEM, "cannot set up verification");
	}
	vp = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(vp, at);
	X509_VERIFY_PARAM_set_depth(vp, CERT_DEPTH_MAX);
	/* 1 is success; 0 and negative values are both failures. */
	if (X509_verify_cert(ctx) == 1)
		rc = anchor ? anchor_get(ctx, anchor) : 0;
	else
		rc = verify_failed(ctx, err);
	X509_STORE_CTX_free(ctx);
	if (rc == CERT_E_NOMEM)
		err_set(err, rc, "out of memory");
	return rc;
}

static int parse_intermediates(const struct cert_der *certs, size_t n,
			       STACK_OF(X509) *out, struct cert_error *err)
{
	size_t i;

	for (i = 1; i < n; i++) {
		X509 *x = der_to_x509(&certs[i]);

		if (!x)
			return err_set(err, CERT_E_MALFORMED, "certificate %zu is not valid DER", i);
		if (sk_X509_push(out, x) <= 0) {
			X509_free(x);
			return err_set(err, CERT_E_NOMEM, "out of memory");
		}
	}
	return 0;
}

int cert_chain_verify(const struct cert_store *st, const struct cert_der *certs, size_t n,
		      time_t at, X509 **leaf, X509 **anchor, struct cert_error *err)
{
	STACK_OF(X509) *untrusted = NULL;
	X509 *x = NULL, *top = NULL;
	int rc;

	err_reset(err);
	if (!st || !certs || n == 0)
		return err_set(err, CERT_E_MALFORMED, "no certificate");
	if (n > CERT_CHAIN_MAX)
		return err_set(err, CERT_E_MALFORMED, "too many certificates (%zu)", n);
	if (!(x = der_to_x509(&certs[0])))
		return err_set(err, CERT_E_MALFORMED, "leaf certificate is not valid DER");
	if (!(untrusted = sk_X509_new_null()))
		rc = err_set(err, CERT_E_NOMEM, "out of memory");
	else
		rc = parse_intermediates(certs, n, untrusted, err);
	if (rc == 0)
		rc = run_verify(st, x, untrusted, at, anchor ? &top : NULL, err);
	if (rc == 0)
		rc = cert_check_usage(x, err);
	sk_X509_pop_free(untrusted, X509_free);
	if (rc == 0 && leaf) {
		*leaf = x;
		x = NULL;
	}
	if (rc == 0 && anchor) {
		*anchor = top;
		top = NULL;
	}
	X509_free(top);
	X509_free(x);
	return rc;
}

/* ---- leaf profile (RFC 4945 5.1.3.12: EKU for IKE) -------------------------- */

static bool eku_ok_for_ike(EXTENDED_KEY_USAGE *eku)
{
	int i;

	for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		int nid = OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i));

		if (nid == NID_client_auth || nid == NID_ipsec_IKE ||
		    nid == NID_anyExtendedKeyUsage)
			return true;
	}
	return false;
}

static int check_eku(X509 *leaf, struct cert_error *err)
{
	int crit = -1;
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(leaf, NID_ext_key_usage, &crit, NULL);
	bool ok;

	if (!eku) {
		if (crit == -1) /* absent: any use allowed */
			return 0;
		return err_set(err, CERT_E_EKU, "unreadable or repeated EKU extension");
	}
	ok = eku_ok_for_ike(eku);
	EXTENDED_KEY_USAGE_free(eku);
	if (!ok)
		return err_set(err, CERT_E_EKU, "missing EKU clientAuth (or ipsecIKE, anyEKU)");
	return 0;
}

int cert_check_usage(X509 *leaf, struct cert_error *err)
{
	uint32_t ku;
	int rc = check_eku(leaf, err);

	if (rc != 0)
		return rc;
	/* UINT32_MAX means "no keyUsage extension", i.e. any use. */
	ku = X509_get_key_usage(leaf);
	if (ku != UINT32_MAX && !(ku & KU_DIGITAL_SIGNATURE))
		return err_set(err, CERT_E_KEY_USAGE, "keyUsage lacks digitalSignature");
	return 0;
}

/* ---- ID binding (RFC 4945 3.1, RFC 7296 3.5) --------------------------------- */

static uint8_t ascii_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c - 'A' + 'a') : c;
}

/* Equal lengths and bytes; with nocase, ASCII letters compare case-insensitively. */
static bool bytes_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
			bool nocase)
{
	struct rbuf ra, rb;
	uint8_t ca, cb;

	if (alen != blen)
		return false;
	if (!nocase)
		return alen == 0 || memcmp(a, b, alen) == 0;
	rbuf_init(&ra, a, alen);
	rbuf_init(&rb, b, blen);
	while (rbuf_u8(&ra, &ca) == 0 && rbuf_u8(&rb, &cb) == 0)
		if (ascii_lower(ca) != ascii_lower(cb))
			return false;
	return true;
}

static int match_san(X509 *leaf, int gen_type, const uint8_t *id, size_t len, bool nocase)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	int i, rc = -ENOENT;

	for (i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		int type;
		const ASN1_STRING *s = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, i),
							       &type);

		if (type != gen_type || !s)
			continue;
		if (bytes_equal(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s),
				id, len, nocase)) {
			rc = 0;
			break;
		}
	}
	GENERAL_NAMES_free(gens);
	return rc;
}

/* RFC 7296 3.5: ID_DER_ASN1_DN equals the subject, compared as canonical names. */
static int match_dn(X509 *leaf, const uint8_t *id, size_t len)
{
	const unsigned char *p = id;
	X509_NAME *name;
	int rc;

	if (len == 0 || len > CERT_DER_MAX)
		return -EBADMSG;
	name = d2i_X509_NAME(NULL, &p, (long)len);
	if (!name) {
		ERR_clear_error();
		return -EBADMSG;
	}
	/* The name keeps its received encoding: a shorter one means trailing junk. */
	if (i2d_X509_NAME(name, NULL) != (int)len)
		rc = -EBADMSG;
	else
		rc = X509_NAME_cmp(name, X509_get_subject_name(leaf)) == 0 ? 0 : -ENOENT;
	X509_NAME_free(name);
	return rc;
}

int cert_match_id(X509 *leaf, int id_type, const uint8_t *id, size_t id_len)
{
	if (!leaf || (!id && id_len))
		return -EINVAL;
	switch (id_type) {
	case IKEV2_ID_IPV4_ADDR:
		return id_len == 4 ? match_san(leaf, GEN_IPADD, id, id_len, false) : -EBADMSG;
	case IKEV2_ID_IPV6_ADDR:
		return id_len == 16 ? match_san(leaf, GEN_IPADD, id, id_len, false) : -EBADMSG;
	case IKEV2_ID_FQDN:
		return id_len ? match_san(leaf, GEN_DNS, id, id_len, true) : -EBADMSG;
	case IKEV2_ID_RFC822_ADDR:
		return id_len ? match_san(leaf, GEN_EMAIL, id, id_len, true) : -EBADMSG;
	case IKEV2_ID_DER_ASN1_DN:
		return match_dn(leaf, id, id_len);
	default: /* KEY_ID names no certificate; GN and NULL are not supported */
		return -ENOTSUP;
	}
}

/* ---- small accessors -------------------------------------------------------- */

void cert_subject_text(X509 *cert, char *buf, size_t len)
{
	const unsigned long flags = (XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_FN_SN |
				     ASN1_STRFLGS_RFC2253) & ~ASN1_STRFLGS_ESC_MSB;
	BIO *bio;
	int n = -1;

	if (!buf || len == 0)
		return;
	bio = BIO_new(BIO_s_mem());
	if (bio && cert && len <= INT_MAX &&
	    X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, flags) >= 0)
		n = BIO_read(bio, buf, (int)len - 1);
	BIO_free(bio);
	if (n < 0)
		snprintf(buf, len, "(unknown)");
	else
		buf[n] = '\0';
}

EVP_PKEY *cert_pubkey(X509 *cert)
{
	return cert ? X509_get0_pubkey(cert) : NULL;
}

/* ---- own credentials ------------------------------------------------------- */

static int own_load_chain(struct cert_own *own, const char *path, struct cert_error *err)
{
	BIO *bio = BIO_new_file(path, "r");
	X509 *x;

	if (!bio)
		return err_set(err, CERT_E_IO, "%s: %s", path, ossl_reason());
	while ((x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL))) {
		if (own->n == CERT_OWN_MAX) {
			X509_free(x);
			BIO_free(bio);
			return err_set(err, CERT_E_IO, "%s: more than %d certificates", path,
				       CERT_OWN_MAX);
		}
		own->certs[own->n++] = x;
	}
	BIO_free(bio);
	if (own->n == 0)
		return err_set(err, CERT_E_IO, "%s: no certificate found", path);
	ERR_clear_error();
	return 0;
}

static int own_load_key(struct cert_own *own, const char *path, struct cert_error *err)
{
	BIO *bio = BIO_new_file(path, "r");

	if (!bio)
		return err_set(err, CERT_E_IO, "%s: %s", path, ossl_reason());
	own->key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (!own->key)
		return err_set(err, CERT_E_IO, "%s: no usable private key (%s)", path,
			       ossl_reason());
	if (EVP_PKEY_eq(X509_get0_pubkey(own->certs[0]), own->key) != 1)
		return err_set(err, CERT_E_KEY_MISMATCH,
			       "%s: private key does not match the certificate", path);
	return 0;
}

static int own_encode(struct cert_own *own, struct cert_error *err)
{
	size_t i;

	for (i = 0; i < own->n; i++) {
		int len = i2d_X509(own->certs[i], &own->der[i]);

		if (len <= 0 || len > CERT_DER_MAX)
			return err_set(err, CERT_E_IO, "certificate %zu cannot be encoded", i);
		own->der_len[i] = (size_t)len;
	}
	return 0;
}

struct cert_own *cert_own_new(const char *chain_path, const char *key_path,
			      struct cert_error *err)
{
	struct cert_own *own = calloc(1, sizeof(*own));

	err_reset(err);
	if (!own) {
		err_set(err, CERT_E_NOMEM, "out of memory");
		return NULL;
	}
	atomic_init(&own->refs, 1);
	if (own_load_chain(own, chain_path, err) != 0 || own_load_key(own, key_path, err) != 0 ||
	    own_encode(own, err) != 0) {
		cert_own_free(own);
		return NULL;
	}
	return own;
}

struct cert_own *cert_own_up_ref(struct cert_own *own)
{
	if (own)
		ref_get(&own->refs);
	return own;
}

void cert_own_free(struct cert_own *own)
{
	size_t i;

	if (!own || !ref_put(&own->refs))
		return;
	for (i = 0; i < own->n; i++) {
		X509_free(own->certs[i]);
		OPENSSL_free(own->der[i]);
	}
	EVP_PKEY_free(own->key); /* OpenSSL clears private key material on free */
	free(own);
}

X509 *cert_own_leaf(const struct cert_own *own)
{
	return own ? own->certs[0] : NULL;
}

EVP_PKEY *cert_own_key(const struct cert_own *own)
{
	return own ? own->key : NULL;
}

size_t cert_own_count(const struct cert_own *own)
{
	return own ? own->n : 0;
}

struct cert_der cert_own_der(const struct cert_own *own, size_t i)
{
	struct cert_der d = { NULL, 0 };

	if (own && i < own->n) {
		d.der = own->der[i];
		d.len = own->der_len[i];
	}
	return d;
}
