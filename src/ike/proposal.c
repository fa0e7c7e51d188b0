/* SPDX-License-Identifier: ISC */
/*
 * SA proposals: strongSwan-style strings <-> struct ike_proposal, and the responder's
 * choice among the peer's proposals (RFC 7296 2.7, 3.3).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ikegw/ikev2.h"
#include "ikegw/proposal.h"

#define ALG_LEGACY 0x1 /* weak: refused unless allow_legacy */

struct alg_name {
	const char *name;
	uint8_t type;
	uint16_t id;
	uint16_t keylen;
	uint8_t flags;
};

/*
 * Every token we accept.  The first entry for a (type, id, keylen) is the canonical
 * name proposal_format() prints; aliases follow it.  The AES Key Length attribute is
 * mandatory for AES-CBC and AES-GCM (RFC 7296 3.3.5); ChaCha20-Poly1305 has none
 * (RFC 7634 2).
 */
static const struct alg_name alg_names[] = {
	{ "aes128", IKEV2_TRANS_ENCR, IKEV2_ENCR_AES_CBC, 128, 0 },
	{ "aes192", IKEV2_TRANS_ENCR, IKEV2_ENCR_AES_CBC, 192, 0 },
	{ "aes256", IKEV2_TRANS_ENCR, IKEV2_ENCR_AES_CBC, 256, 0 },
	{ "aes128gcm16", IKEV2_TRANS_ENCR, IKEV2_ENCR_AES_GCM_16, 128, 0 },
	{ "aes192gcm16", IKEV2_TRANS_ENCR, IKEV2_ENCR_AES_GCM_16, 192, 0 },
	{ "aes256gcm16", IKEV2_TRANS_ENCR, IKEV2_ENCR_AES_GCM_16, 256, 0 },
	{ "aes128gcm128", IKEV2_TRANS_ENCR, IKEV2_ENCR_AES_GCM_16, 128, 0 },
	{ "aes192gcm128", IKEV2_TRANS_ENCR, IKEV2_ENCR_AES_GCM_16, 192, 0 },
	{ "aes256gcm128", IKEV2_TRANS_ENCR, IKEV2_ENCR_AES_GCM_16, 256, 0 },
	{ "chacha20poly1305", IKEV2_TRANS_ENCR, IKEV2_ENCR_CHACHA20_POLY1305, 0, 0 },
	{ "3des", IKEV2_TRANS_ENCR, IKEV2_ENCR_3DES, 0, ALG_LEGACY },
	{ "sha256", IKEV2_TRANS_INTEG, IKEV2_INTEG_HMAC_SHA2_256_128, 0, 0 },
	{ "sha384", IKEV2_TRANS_INTEG, IKEV2_INTEG_HMAC_SHA2_384_192, 0, 0 },
	{ "sha512", IKEV2_TRANS_INTEG, IKEV2_INTEG_HMAC_SHA2_512_256, 0, 0 },
	{ "sha1", IKEV2_TRANS_INTEG, IKEV2_INTEG_HMAC_SHA1_96, 0, ALG_LEGACY },
	{ "prfsha256", IKEV2_TRANS_PRF, IKEV2_PRF_HMAC_SHA2_256, 0, 0 },
	{ "prfsha384", IKEV2_TRANS_PRF, IKEV2_PRF_HMAC_SHA2_384, 0, 0 },
	{ "prfsha512", IKEV2_TRANS_PRF, IKEV2_PRF_HMAC_SHA2_512, 0, 0 },
	{ "prfsha1", IKEV2_TRANS_PRF, IKEV2_PRF_HMAC_SHA1, 0, ALG_LEGACY },
	{ "modp2048", IKEV2_TRANS_KE, IKEV2_KE_MODP2048, 0, 0 },
	{ "modp3072", IKEV2_TRANS_KE, IKEV2_KE_MODP3072, 0, 0 },
	{ "modp4096", IKEV2_TRANS_KE, IKEV2_KE_MODP4096, 0, 0 },
	{ "ecp256", IKEV2_TRANS_KE, IKEV2_KE_ECP256, 0, 0 },
	{ "ecp384", IKEV2_TRANS_KE, IKEV2_KE_ECP384, 0, 0 },
	{ "ecp521", IKEV2_TRANS_KE, IKEV2_KE_ECP521, 0, 0 },
	{ "x25519", IKEV2_TRANS_KE, IKEV2_KE_CURVE25519, 0, 0 },
	{ "curve25519", IKEV2_TRANS_KE, IKEV2_KE_CURVE25519, 0, 0 },
	{ "x448", IKEV2_TRANS_KE, IKEV2_KE_CURVE448, 0, 0 },
	{ "curve448", IKEV2_TRANS_KE, IKEV2_KE_CURVE448, 0, 0 },
	{ "modp1024", IKEV2_TRANS_KE, IKEV2_KE_MODP1024, 0, ALG_LEGACY },
	{ "modp1536", IKEV2_TRANS_KE, IKEV2_KE_MODP1536, 0, ALG_LEGACY },
	{ "esn", IKEV2_TRANS_ESN, IKEV2_ESN_YES, 0, 0 },
	{ "noesn", IKEV2_TRANS_ESN, IKEV2_ESN_NO, 0, 0 },
};

#define N_ALG_NAMES (sizeof(alg_names) / sizeof(alg_names[0]))
#define TOKEN_QUOTE_MAX 40 /* keep error reasons on one short line */

/* ---- small helpers over one proposal ------------------------------------------ */

/* Never trust n_xf beyond the array: peer proposals come from the wire. */
static size_t xf_count(const struct ike_proposal *p)
{
	return p->n_xf < IKE_PROPOSAL_MAX_XF ? p->n_xf : IKE_PROPOSAL_MAX_XF;
}

static bool xf_equal(const struct ike_transform *a, const struct ike_transform *b)
{
	return a->type == b->type && a->id == b->id && a->keylen == b->keylen;
}

static bool proposal_offers(const struct ike_proposal *p, const struct ike_transform *x)
{
	for (size_t i = 0; i < xf_count(p); i++)
		if (xf_equal(&p->xf[i], x))
			return true;
	return false;
}

const struct ike_transform *proposal_get(const struct ike_proposal *p, uint8_t type)
{
	if (!p)
		return NULL;
	for (size_t i = 0; i < xf_count(p); i++)
		if (p->xf[i].type == type)
			return &p->xf[i];
	return NULL;
}

static int proposal_add_xf(struct ike_proposal *p, const struct ike_transform *x)
{
	if (proposal_offers(p, x))
		return 0; /* "x25519-curve25519" names one transform once */
	if (p->n_xf >= IKE_PROPOSAL_MAX_XF)
		return -E2BIG;
	/* Field by field: struct copies may carry padding bytes, and callers compare
	 * whole proposals with memcmp. */
	p->xf[p->n_xf].type = x->type;
	p->xf[p->n_xf].id = x->id;
	p->xf[p->n_xf].keylen = x->keylen;
	p->n_xf++;
	return 0;
}

/* Combined-mode ciphers carry their own integrity (RFC 5282 8, RFC 7296 3.3.2). */
static bool encr_is_aead(uint16_t id)
{
	return id == IKEV2_ENCR_AES_GCM_8 || id == IKEV2_ENCR_AES_GCM_12 ||
	       id == IKEV2_ENCR_AES_GCM_16 || id == IKEV2_ENCR_CHACHA20_POLY1305;
}

/* The first AEAD (want_aead) or non-AEAD cipher of p, or NULL. */
static const struct ike_transform *proposal_find_encr(const struct ike_proposal *p,
						      bool want_aead)
{
	for (size_t i = 0; i < xf_count(p); i++)
		if (p->xf[i].type == IKEV2_TRANS_ENCR && encr_is_aead(p->xf[i].id) == want_aead)
			return &p->xf[i];
	return NULL;
}

/* The PRF strongSwan derives from an integrity algorithm; 0 when there is none. */
static uint16_t integ_to_prf(uint16_t integ)
{
	switch (integ) {
	case IKEV2_INTEG_HMAC_SHA1_96:
		return IKEV2_PRF_HMAC_SHA1;
	case IKEV2_INTEG_HMAC_SHA2_256_128:
		return IKEV2_PRF_HMAC_SHA2_256;
	case IKEV2_INTEG_HMAC_SHA2_384_192:
		return IKEV2_PRF_HMAC_SHA2_384;
	case IKEV2_INTEG_HMAC_SHA2_512_256:
		return IKEV2_PRF_HMAC_SHA2_512;
	default:
		return 0;
	}
}

static const struct alg_name *alg_by_token(const char *tok, size_t len)
{
	for (size_t i = 0; i < N_ALG_NAMES; i++)
		if (strlen(alg_names[i].name) == len && strncasecmp(alg_names[i].name, tok, len) == 0)
			return &alg_names[i];
	return NULL;
}

static const struct alg_name *alg_by_xf(const struct ike_transform *x)
{
	for (size_t i = 0; i < N_ALG_NAMES; i++)
		if (alg_names[i].type == x->type && alg_names[i].id == x->id &&
		    alg_names[i].keylen == x->keylen)
			return &alg_names[i];
	return NULL;
}

static const char *xf_name(const struct ike_transform *x)
{
	const struct alg_name *a = x ? alg_by_xf(x) : NULL;

	return a ? a->name : "?";
}

/* ---- parsing ------------------------------------------------------------------- */

__attribute__((format(printf, 4, 5))) static int parse_fail(char *err, size_t errlen, int rc,
							     const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static size_t count_tokens(const char *s)
{
	size_t n = 1;

	for (; *s; s++)
		n += *s == '-';
	return n;
}

static int quote_len(size_t len)
{
	return (int)(len < TOKEN_QUOTE_MAX ? len : TOKEN_QUOTE_MAX);
}

/* Is this algorithm allowed in a proposal for this protocol (RFC 7296 3.3.3)? */
static int check_token_protocol(const struct alg_name *a, uint8_t protocol, char *err,
				size_t errlen)
{
	if (a->type == IKEV2_TRANS_PRF && protocol != IKEV2_PROTO_IKE)
		return parse_fail(err, errlen, -EINVAL,
				  "PRF '%s' is only valid in IKE proposals", a->name);
	if (a->type == IKEV2_TRANS_ESN && protocol == IKEV2_PROTO_IKE)
		return parse_fail(err, errlen, -EINVAL,
				  "'%s' is only valid in ESP proposals", a->name);
	return 0;
}

static int parse_token(const char *tok, size_t len, int allow_legacy, struct ike_proposal *out,
		       char *err, size_t errlen)
{
	const struct alg_name *a;
	struct ike_transform x;
	int rc;

	if (len == 0)
		return parse_fail(err, errlen, -EINVAL, "empty algorithm name (stray '-')");
	a = alg_by_token(tok, len);
	if (!a)
		return parse_fail(err, errlen, -EINVAL, "unknown algorithm '%.*s'",
				  quote_len(len), tok);
	if ((a->flags & ALG_LEGACY) && !allow_legacy)
		return parse_fail(err, errlen, -EINVAL, "%s is weak; set allow_legacy to use it",
				  a->name);
	rc = check_token_protocol(a, out->protocol, err, errlen);
	if (rc)
		return rc;
	x = (struct ike_transform){ .type = a->type, .id = a->id, .keylen = a->keylen };
	rc = proposal_add_xf(out, &x);
	if (rc)
		return parse_fail(err, errlen, rc, "too many transforms (at most %d)",
				  IKE_PROPOSAL_MAX_XF);
	return 0;
}

/* strongSwan: without a PRF token, each integrity algorithm brings its own PRF. */
static void add_implied_prfs(struct ike_proposal *p)
{
	size_t n = xf_count(p);

	if (proposal_get(p, IKEV2_TRANS_PRF))
		return;
	for (size_t i = 0; i < n; i++) {
		struct ike_transform x = { .type = IKEV2_TRANS_PRF };

		if (p->xf[i].type != IKEV2_TRANS_INTEG)
			continue;
		x.id = integ_to_prf(p->xf[i].id);
		if (x.id)
			(void)proposal_add_xf(p, &x); /* cannot fail: the table has < 40 names */
	}
}

/* Cipher and integrity must agree: RFC 7296 2.7 wants two proposals for a mix. */
static int check_ciphers(const struct ike_proposal *p, char *err, size_t errlen)
{
	const struct ike_transform *aead = proposal_find_encr(p, true);
	const struct ike_transform *plain = proposal_find_encr(p, false);
	const struct ike_transform *integ = proposal_get(p, IKEV2_TRANS_INTEG);

	if (!aead && !plain)
		return parse_fail(err, errlen, -EINVAL, "proposal needs an encryption algorithm");
	if (aead && plain)
		return parse_fail(err, errlen, -EINVAL,
				  "cannot mix AEAD cipher '%s' and non-AEAD cipher '%s' in one "
				  "proposal; use two proposals", xf_name(aead), xf_name(plain));
	if (aead && integ)
		return parse_fail(err, errlen, -EINVAL,
				  "AEAD cipher '%s' cannot be combined with integrity algorithm "
				  "'%s'", xf_name(aead), xf_name(integ));
	if (plain && !integ)
		return parse_fail(err, errlen, -EINVAL,
				  "cipher '%s' needs an integrity algorithm (e.g. sha256)",
				  xf_name(plain));
	return 0;
}

/* RFC 7296 3.3.3: an IKE proposal needs ENCR, PRF and KE (INTEG unless AEAD). */
static int check_ike(const struct ike_proposal *p, char *err, size_t errlen)
{
	if (p->protocol != IKEV2_PROTO_IKE)
		return 0;
	if (!proposal_get(p, IKEV2_TRANS_KE))
		return parse_fail(err, errlen, -EINVAL,
				  "IKE proposal needs a key exchange group (e.g. x25519)");
	if (!proposal_get(p, IKEV2_TRANS_PRF))
		return parse_fail(err, errlen, -EINVAL,
				  "IKE proposal with AEAD cipher '%s' needs a PRF (e.g. prfsha384)",
				  xf_name(proposal_get(p, IKEV2_TRANS_ENCR)));
	return 0;
}

static int parse_tokens(const char *s, int allow_legacy, struct ike_proposal *out, char *err,
			size_t errlen)
{
	for (;;) {
		size_t len = strcspn(s, "-");
		int rc = parse_token(s, len, allow_legacy, out, err, errlen);

		if (rc)
			return rc;
		if (s[len] == '\0')
			return 0;
		s += len + 1;
	}
}

static int parse_proposal(const char *s, int allow_legacy, struct ike_proposal *out, char *err,
			  size_t errlen)
{
	int rc;

	if (out->protocol != IKEV2_PROTO_IKE && out->protocol != IKEV2_PROTO_ESP)
		return parse_fail(err, errlen, -EINVAL, "unsupported protocol %u", out->protocol);
	if (!s || !*s)
		return parse_fail(err, errlen, -EINVAL, "empty proposal");
	/* Bound the work before looking at any token (duplicates collapse later). */
	if (count_tokens(s) > IKE_PROPOSAL_MAX_XF)
		return parse_fail(err, errlen, -E2BIG, "too many transforms (at most %d)",
				  IKE_PROPOSAL_MAX_XF);
	rc = parse_tokens(s, allow_legacy, out, err, errlen);
	if (rc)
		return rc;
	if (out->protocol == IKEV2_PROTO_IKE && !proposal_find_encr(out, true))
		add_implied_prfs(out);
	rc = check_ciphers(out, err, errlen);
	return rc ? rc : check_ike(out, err, errlen);
}

int proposal_parse(const char *s, uint8_t protocol, int allow_legacy, struct ike_proposal *out,
		   char *err, size_t errlen)
{
	int rc;

	if (!out)
		return parse_fail(err, errlen, -EINVAL, "no output proposal");
	memset(out, 0, sizeof(*out));
	out->protocol = protocol;
	rc = parse_proposal(s, allow_legacy, out, err, errlen);
	if (rc)
		memset(out, 0, sizeof(*out)); /* nothing half-parsed reaches the config */
	return rc;
}

/* ---- selection (RFC 7296 2.7) ------------------------------------------------------ */

struct type_mask {
	uint32_t w[8];
};

static void type_mask_add(struct type_mask *m, const struct ike_proposal *p)
{
	for (size_t i = 0; i < xf_count(p); i++)
		m->w[p->xf[i].type / 32] |= 1u << (p->xf[i].type % 32);
}

static bool type_mask_has(const struct type_mask *m, unsigned int type)
{
	return m->w[type / 32] & (1u << (type % 32));
}

/* Our most preferred transform of this type that the peer also offers. */
static const struct ike_transform *pick_ours_first(const struct ike_proposal *ours,
						   const struct ike_proposal *peer, uint8_t type)
{
	for (size_t i = 0; i < xf_count(ours); i++)
		if (ours->xf[i].type == type && proposal_offers(peer, &ours->xf[i]))
			return &ours->xf[i];
	return NULL;
}

/* Echo a NONE-like transform the peer offered (one per included type, RFC 7296 2.7). */
static int add_peer_id(struct ike_proposal *chosen, const struct ike_proposal *peer,
		       uint8_t type, uint16_t id)
{
	const struct ike_transform x = { .type = type, .id = id, .keylen = 0 };

	if (!proposal_offers(peer, &x))
		return -ENOENT;
	return proposal_add_xf(chosen, &x) ? -ENOENT : 0;
}

/* Ours lists groups but the peer may go without PFS (CREATE_CHILD_SA, RFC 7296 1.3.1). */
static int match_optional_ke(const struct ike_proposal *peer, bool peer_has,
			     unsigned int flags, struct ike_proposal *chosen)
{
	if (!(flags & PROPOSAL_SEL_ACCEPT_NO_KE))
		return -ENOENT;
	if (!peer_has)
		return 0;
	return add_peer_id(chosen, peer, IKEV2_TRANS_KE, IKEV2_KE_NONE);
}

/*
 * A type the peer offers and ours does not name: acceptable only where "absent" has a
 * meaning we share — INTEG NONE with an AEAD cipher (RFC 5282 8), KE NONE (optional PFS,
 * RFC 7296 3.3.3) and ESN_NO (our default) in child proposals.
 */
static int match_implicit(const struct ike_proposal *peer, uint8_t type,
			  struct ike_proposal *chosen)
{
	const struct ike_transform *encr = proposal_get(chosen, IKEV2_TRANS_ENCR);
	bool child = peer->protocol != IKEV2_PROTO_IKE;

	if (type == IKEV2_TRANS_INTEG && encr && encr_is_aead(encr->id))
		return add_peer_id(chosen, peer, type, IKEV2_INTEG_NONE);
	if (type == IKEV2_TRANS_KE && child)
		return add_peer_id(chosen, peer, type, IKEV2_KE_NONE);
	if (type == IKEV2_TRANS_ESN && child)
		return add_peer_id(chosen, peer, type, IKEV2_ESN_NO);
	return -ENOENT;
}

static int match_type(const struct ike_proposal *ours, const struct ike_proposal *peer,
		      uint8_t type, unsigned int flags, struct ike_proposal *chosen)
{
	bool child = ours->protocol != IKEV2_PROTO_IKE;
	bool peer_has = proposal_get(peer, type) != NULL;
	const struct ike_transform *x;

	if (type == IKEV2_TRANS_KE && child && (flags & PROPOSAL_SEL_SKIP_KE))
		return 0;
	if (!proposal_get(ours, type))
		return match_implicit(peer, type, chosen);
	x = peer_has ? pick_ours_first(ours, peer, type) : NULL;
	if (x)
		return proposal_add_xf(chosen, x) ? -ENOENT : 0;
	if (type == IKEV2_TRANS_KE && child)
		return match_optional_ke(peer, peer_has, flags, chosen);
	return -ENOENT;
}

static void chosen_init(struct ike_proposal *chosen, const struct ike_proposal *peer)
{
	memset(chosen, 0, sizeof(*chosen));
	chosen->num = peer->num;
	chosen->protocol = peer->protocol;
	chosen->spi_len = peer->spi_len < IKE_SPI_MAX_LEN ? peer->spi_len : IKE_SPI_MAX_LEN;
	memcpy(chosen->spi, peer->spi, chosen->spi_len);
}

static int match_proposal(const struct ike_proposal *ours, const struct ike_proposal *peer,
			  unsigned int flags, struct ike_proposal *chosen)
{
	struct type_mask m = { { 0 } };

	if (ours->protocol != peer->protocol || xf_count(ours) == 0)
		return -ENOENT;
	chosen_init(chosen, peer);
	type_mask_add(&m, ours);
	type_mask_add(&m, peer);
	/* Ascending type order: ENCR is chosen before INTEG needs to know if it is AEAD. */
	for (unsigned int t = 0; t < 256; t++) {
		if (type_mask_has(&m, t) && match_type(ours, peer, (uint8_t)t, flags, chosen))
			return -ENOENT;
	}
	return 0;
}

int proposal_select_flags(const struct ike_proposal *ours, size_t n_ours,
			  const struct ike_sa_proposals *peer, unsigned int flags,
			  struct ike_proposal *chosen)
{
	size_t n_peer;

	if (!ours || !peer || !chosen)
		return -EINVAL;
	n_peer = peer->n < IKE_SA_MAX_PROPOSALS ? peer->n : IKE_SA_MAX_PROPOSALS;
	for (size_t i = 0; i < n_ours; i++)
		for (size_t j = 0; j < n_peer; j++)
			if (match_proposal(&ours[i], &peer->p[j], flags, chosen) == 0)
				return 0;
	memset(chosen, 0, sizeof(*chosen));
	return -ENOENT;
}

int proposal_select(const struct ike_proposal *ours, size_t n_ours,
		    const struct ike_sa_proposals *peer, struct ike_proposal *chosen)
{
	return proposal_select_flags(ours, n_ours, peer, 0, chosen);
}

/* ---- formatting -------------------------------------------------------------------- */

struct strout {
	char *s;
	size_t cap;
	size_t len;
	bool trunc;
};

__attribute__((format(printf, 2, 3))) static void strout_add(struct strout *o,
							     const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->trunc)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->s + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->s[o->len] = '\0'; /* no half-written name */
		o->trunc = true;
		return;
	}
	o->len += (size_t)n;
}

/* Transforms without a name (peer offers we never configure) still log legibly. */
static void strout_xf(struct strout *o, const struct ike_transform *x)
{
	static const char *const prefix[] = { "type0", "encr", "prf", "integ", "ke", "esn" };
	const struct alg_name *a = alg_by_xf(x);
	const char *sep = o->len ? "-" : "";

	if (a)
		strout_add(o, "%s%s", sep, a->name);
	else if (x->type < sizeof(prefix) / sizeof(prefix[0]) && x->keylen)
		strout_add(o, "%s%s%u_%u", sep, prefix[x->type], x->id, x->keylen);
	else if (x->type < sizeof(prefix) / sizeof(prefix[0]))
		strout_add(o, "%s%s%u", sep, prefix[x->type], x->id);
	else
		strout_add(o, "%stype%u_%u", sep, x->type, x->id);
}

/* The PRFs are exactly what the integrity algorithms imply, in order: leave them out
 * so that format(parse("aes256-sha256-modp2048")) gives the string back. */
static bool prfs_implied(const struct ike_proposal *p)
{
	uint16_t want[IKE_PROPOSAL_MAX_XF];
	size_t n_want = 0, k = 0;

	if (p->protocol != IKEV2_PROTO_IKE || proposal_find_encr(p, true))
		return false;
	for (size_t i = 0; i < xf_count(p); i++)
		if (p->xf[i].type == IKEV2_TRANS_INTEG)
			want[n_want++] = integ_to_prf(p->xf[i].id);
	for (size_t i = 0; i < xf_count(p); i++) {
		if (p->xf[i].type != IKEV2_TRANS_PRF)
			continue;
		if (k == n_want || want[k] != p->xf[i].id || p->xf[i].keylen)
			return false;
		k++;
	}
	return n_want > 0 && k == n_want;
}

/* NONE transforms mean "absent" (RFC 7296 3.3.2); the log reads better without them. */
static bool xf_skip(const struct ike_transform *x, bool skip_prf)
{
	if (x->type == IKEV2_TRANS_PRF)
		return skip_prf;
	return (x->type == IKEV2_TRANS_INTEG && x->id == IKEV2_INTEG_NONE) ||
	       (x->type == IKEV2_TRANS_KE && x->id == IKEV2_KE_NONE);
}

int proposal_format(const struct ike_proposal *p, char *out, size_t outlen)
{
	static const uint8_t order[] = { IKEV2_TRANS_ENCR, IKEV2_TRANS_INTEG, IKEV2_TRANS_PRF,
					 IKEV2_TRANS_KE, IKEV2_TRANS_ESN };
	struct strout o = { .s = out, .cap = outlen };
	bool skip_prf;

	if (!p || !out || outlen == 0)
		return -EINVAL;
	out[0] = '\0';
	skip_prf = prfs_implied(p);
	for (size_t t = 0; t < sizeof(order); t++)
		for (size_t i = 0; i < xf_count(p); i++)
			if (p->xf[i].type == order[t] && !xf_skip(&p->xf[i], skip_prf))
				strout_xf(&o, &p->xf[i]);
	for (size_t i = 0; i < xf_count(p); i++)
		if (p->xf[i].type == 0 || p->xf[i].type > IKEV2_TRANS_ESN)
			strout_xf(&o, &p->xf[i]);
	return o.trunc ? -ENOSPC : 0;
}
