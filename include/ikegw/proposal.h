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

#endif
