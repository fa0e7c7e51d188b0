/* SPDX-License-Identifier: ISC */
/*
 * SA proposals: the one representation shared by the wire codec (peer proposals
 * decoded from an SA payload), the config (our proposals, parsed from strongSwan-style
 * strings such as "aes256gcm16-prfsha384-x25519") and the responder's selection.
 */
#ifndef IKEGW_PROPOSAL_H
#define IKEGW_PROPOSAL_H

#include <stddef.h>
#include <stdint.h>

#define IKE_PROPOSAL_MAX_XF 64   /* transforms in one proposal */
#define IKE_SA_MAX_PROPOSALS 16  /* proposals in one SA payload */
#define IKE_SPI_MAX_LEN 8

struct ike_transform {
	uint8_t type;    /* IKEV2_TRANS_* */
	uint16_t id;     /* transform ID within the type */
	uint16_t keylen; /* Key Length attribute in bits; 0 when absent */
};

struct ike_proposal {
	uint8_t num;      /* proposal number as on the wire (1-based); 0 for ours */
	uint8_t protocol; /* IKEV2_PROTO_IKE or IKEV2_PROTO_ESP */
	uint8_t spi_len;
	uint8_t spi[IKE_SPI_MAX_LEN];
	uint8_t n_xf;
	struct ike_transform xf[IKE_PROPOSAL_MAX_XF];
};

struct ike_sa_proposals {
	uint8_t n;
	struct ike_proposal p[IKE_SA_MAX_PROPOSALS];
};

/*
 * Parse one strongSwan-style proposal string for protocol (IKE or ESP) into *out.
 * On error returns a negative errno and writes a one-line reason into err
 * ("unknown algorithm 'aes512'", "IKE proposal needs a PRF or an AEAD cipher", ...).
 * Weak algorithms (MODP-1024/1536, SHA-1, 3DES) are refused unless allow_legacy.
 */
int proposal_parse(const char *s, uint8_t protocol, int allow_legacy, struct ike_proposal *out,
		   char *err, size_t errlen);

/*
 * Responder selection (RFC 7296 2.7): walk our proposals in our order; for each, the
 * first peer proposal that offers an acceptable transform of every type ours names
 * wins.  *chosen gets exactly one transform per type, the peer's proposal number and
 * SPI.  Returns 0, or -ENOENT when nothing fits (NO_PROPOSAL_CHOSEN).
 */
int proposal_select(const struct ike_proposal *ours, size_t n_ours,
		    const struct ike_sa_proposals *peer, struct ike_proposal *chosen);

/* The transform of a type in a chosen proposal, or NULL. */
const struct ike_transform *proposal_get(const struct ike_proposal *p, uint8_t type);

/* Format a chosen proposal back as a string for logs ("aes256gcm16-prfsha384-x25519"). */
int proposal_format(const struct ike_proposal *p, char *out, size_t outlen);

/*
 * Flags for proposal_select_flags().  They only affect non-IKE (ESP) proposals; an IKE
 * proposal always needs a KE group.
 *  ACCEPT_NO_KE: CREATE_CHILD_SA — a peer proposal without a KE transform (or offering
 *    KE NONE, RFC 7296 3.3.3) is acceptable although ours lists groups (optional PFS).
 *  SKIP_KE: IKE_AUTH — the Child SA's keys come from the IKE SA (RFC 7296 2.17), so KE
 *    transforms on both sides are ignored and the chosen proposal carries none.
 * A chosen proposal may carry INTEG NONE (AEAD) or KE NONE (no PFS) when the peer
 * offered them, because RFC 7296 2.7 wants exactly one transform of each type the
 * peer's proposal included.  proposal_select() is proposal_select_flags() with 0.
 */
#define PROPOSAL_SEL_ACCEPT_NO_KE 0x1u
#define PROPOSAL_SEL_SKIP_KE 0x2u

int proposal_select_flags(const struct ike_proposal *ours, size_t n_ours,
			  const struct ike_sa_proposals *peer, unsigned int flags,
			  struct ike_proposal *chosen);

#endif
