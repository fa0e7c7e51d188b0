/* SPDX-License-Identifier: ISC */
/*
 * Payload rules per exchange and direction: one table row each, read off RFC 7296
 * 1.2 (IKE_SA_INIT, IKE_AUTH), 1.3 (CREATE_CHILD_SA), 1.4 (INFORMATIONAL), with the
 * IKE_AUTH variants of EAP (2.16), RFC 4739 (multiple auth), RFC 5998 (EAP-only) and
 * RFC 6023 (childless) folded into "any of" and "together" sets.
 */
#include <errno.h>
#include <stddef.h>

#include "ikegw/ikev2.h"
#include "ikegw/rules.h"

#define SYNTAX IKEV2_N_INVALID_SYNTAX

/* Payload types 33..53 as bits 1..21. */
#define B(t) (UINT32_C(1) << ((t) - 32))
#define P_SA B(IKEV2_PL_SA)
#define P_KE B(IKEV2_PL_KE)
#define P_IDI B(IKEV2_PL_IDI)
#define P_IDR B(IKEV2_PL_IDR)
#define P_CERT B(IKEV2_PL_CERT)
#define P_CREQ B(IKEV2_PL_CERTREQ)
#define P_AUTH B(IKEV2_PL_AUTH)
#define P_NONCE B(IKEV2_PL_NONCE)
#define P_N B(IKEV2_PL_NOTIFY)
#define P_D B(IKEV2_PL_DELETE)
#define P_V B(IKEV2_PL_VENDOR)
#define P_TSI B(IKEV2_PL_TSI)
#define P_TSR B(IKEV2_PL_TSR)
#define P_SK B(IKEV2_PL_SK)
#define P_CP B(IKEV2_PL_CP)
#define P_EAP B(IKEV2_PL_EAP)
#define P_SKF B(IKEV2_PL_SKF)

/* At most one of each of these in any message. */
#define SINGLE (P_SA | P_KE | P_NONCE | P_IDI | P_IDR | P_AUTH | P_TSI | P_TSR | P_CP | P_EAP)
#define CHILD (P_SA | P_TSI | P_TSR) /* RFC 6023: all three or none */

struct rule {
	uint8_t exchange;
	bool response;
	bool encrypted; /* everything inside SK/SKF */
	uint32_t allowed;
	uint32_t required;
	uint32_t any_of;   /* at least one of these (0: no such condition) */
	uint32_t together; /* all or none of these */
};

static const struct rule rules[] = {
	{ IKEV2_EXCH_IKE_SA_INIT, false, false, P_SA | P_KE | P_NONCE | P_N | P_V | P_CREQ,
	  P_SA | P_KE | P_NONCE, 0, 0 },
	{ IKEV2_EXCH_IKE_SA_INIT, true, false, P_SA | P_KE | P_NONCE | P_N | P_V | P_CREQ,
	  P_SA | P_KE | P_NONCE, 0, 0 },
	/* requests: the first carries IDi, EAP rounds carry EAP, the last one AUTH */
	{ IKEV2_EXCH_IKE_AUTH, false, true,
	  P_IDI | P_CERT | P_CREQ | P_IDR | P_AUTH | CHILD | P_CP | P_N | P_V | P_EAP, 0,
	  P_IDI | P_AUTH | P_EAP, CHILD },
	{ IKEV2_EXCH_IKE_AUTH, true, true,
	  P_IDR | P_CERT | P_CREQ | P_AUTH | CHILD | P_CP | P_N | P_V | P_EAP, 0,
	  P_IDR | P_AUTH | P_EAP, CHILD },
	/* RFC 7296 1.3: TSi/TSr only for Child SAs, not for IKE SA rekeying */
	{ IKEV2_EXCH_CREATE_CHILD_SA, false, true, P_SA | P_NONCE | P_KE | P_TSI | P_TSR | P_N | P_V,
	  P_SA | P_NONCE, 0, P_TSI | P_TSR },
	{ IKEV2_EXCH_CREATE_CHILD_SA, true, true, P_SA | P_NONCE | P_KE | P_TSI | P_TSR | P_N | P_V,
	  P_SA | P_NONCE, 0, P_TSI | P_TSR },
	{ IKEV2_EXCH_INFORMATIONAL, false, true, P_N | P_D | P_CP | P_V, 0, 0, 0 },
	{ IKEV2_EXCH_INFORMATIONAL, true, true, P_N | P_D | P_CP | P_V, 0, 0, 0 },
};

static const struct rule *rules_find(uint8_t exchange, bool response)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (rules[i].exchange == exchange && rules[i].response == response)
			return &rules[i];
	}
	return NULL;
}

/* Present payload types as a bitmask; sets *dup when a SINGLE type repeats. */
static uint32_t rules_present(const struct ike_msg *msg, bool *dup)
{
	uint32_t seen = 0;

	*dup = false;
	for (size_t i = 0; i < msg->n; i++) {
		uint32_t bit = B(msg->pl[i].type);

		if ((seen & bit) && (bit & SINGLE))
			*dup = true;
		seen |= bit;
	}
	return seen;
}

/* RFC 7296 2.21: an error response carries the notify and nothing else it needs;
 * 2.6: an IKE_SA_INIT response may be only N(COOKIE). */
static bool rules_waived(const struct ike_msg *msg)
{
	if (!(msg->hdr.flags & IKEV2_FLAG_RESPONSE))
		return false;
	for (size_t i = 0; i < msg->n; i++) {
		const struct ike_payload *pl = &msg->pl[i];

		if (pl->type == IKEV2_PL_NOTIFY && (pl->u.notify.type <= IKEV2_N_ERROR_MAX ||
						    pl->u.notify.type == IKEV2_N_COOKIE))
			return true;
	}
	return false;
}

/* Encrypted exchanges: the outer chain is exactly the SK/SKF payload (RFC 7296 1.2). */
static int rules_check_encryption(const struct ike_msg *msg, const struct rule *r,
				  struct codec_err *err)
{
	size_t outer = 0;

	for (size_t i = 0; i < msg->n; i++)
		outer += !msg->pl[i].inner;
	if (!r->encrypted)
		return msg->enc.type == 0 ? 0
					  : codec_fail(err, SYNTAX, "encrypted IKE_SA_INIT");
	if (msg->enc.type == 0 || outer != 1)
		return codec_fail(err, SYNTAX, "payloads outside the encrypted payload");
	return 0;
}

static bool rules_sa_fits(const struct ike_proposal *p, uint8_t exchange)
{
	switch (exchange) {
	case IKEV2_EXCH_IKE_SA_INIT: /* RFC 7296 3.3.1: SPI size 0 in the initial exchange */
		return p->protocol == IKEV2_PROTO_IKE && p->spi_len == 0;
	case IKEV2_EXCH_IKE_AUTH:
		return p->protocol == IKEV2_PROTO_ESP || p->protocol == IKEV2_PROTO_AH;
	case IKEV2_EXCH_CREATE_CHILD_SA: /* IKE SA rekey: the new SPI, 8 bytes */
		return p->protocol != IKEV2_PROTO_IKE || p->spi_len == 8;
	default:
		return true;
	}
}

static int rules_check_sa(const struct ike_msg *msg, struct codec_err *err)
{
	if (!msg->has_sa)
		return 0;
	for (size_t i = 0; i < msg->sa.n; i++) {
		if (!rules_sa_fits(&msg->sa.p[i], msg->hdr.exchange))
			return codec_fail(err, SYNTAX, "SA protocol/SPI size wrong for exchange");
	}
	return 0;
}

static int rules_check_presence(const struct ike_msg *msg, const struct rule *r,
				uint32_t seen, struct codec_err *err)
{
	if (rules_waived(msg))
		return 0;
	if ((seen & r->required) != r->required)
		return codec_fail(err, SYNTAX, "a required payload is missing");
	if (r->any_of && !(seen & r->any_of))
		return codec_fail(err, SYNTAX, "no ID, AUTH or EAP payload");
	if ((seen & r->together) != 0 && (seen & r->together) != r->together)
		return codec_fail(err, SYNTAX, "SA, TSi and TSr must come together");
	return 0;
}

int rules_check(const struct ike_msg *msg, struct codec_err *err)
{
	const struct rule *r = rules_find(msg->hdr.exchange, msg->hdr.flags & IKEV2_FLAG_RESPONSE);
	uint32_t seen;
	bool dup;

	if (!r)
		return codec_fail(err, SYNTAX, "unknown exchange type");
	if (rules_check_encryption(msg, r, err))
		return -EBADMSG;
	seen = rules_present(msg, &dup) & ~(P_SK | P_SKF);
	if (dup)
		return codec_fail(err, SYNTAX, "duplicate payload where only one is allowed");
	if (seen & ~r->allowed)
		return codec_fail(err, SYNTAX, "payload not allowed in this exchange");
	if (rules_check_presence(msg, r, seen, err))
		return -EBADMSG;
	return rules_check_sa(msg, err);
}
