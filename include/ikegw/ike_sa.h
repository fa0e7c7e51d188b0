/* SPDX-License-Identifier: ISC */
/*
 * An IKE SA as the responder keeps it, with its one Child SA (remote access: a client
 * gets one tunnel).  The struct owns its keys, the IKE_SA_INIT messages it still needs
 * for AUTH (freed once established), its cached last response, its lease and its timers;
 * ike_sa_free() releases all of them, so nothing outlives the SA.
 */
#ifndef IKEGW_IKE_SA_H
#define IKEGW_IKE_SA_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ikegw/frag.h"
#include "ikegw/keymat.h"
#include "ikegw/loop.h"
#include "ikegw/sa_table.h"
#include "ikegw/ts.h"

struct gw;
struct pool;
struct eap_session;
struct config_profile;

enum ike_sa_state {
	IKE_SA_HALF_OPEN,   /* IKE_SA_INIT answered, waiting for IKE_AUTH */
	IKE_SA_ESTABLISHED,
	IKE_SA_DELETED,     /* freed at the end of the current event */
};

#define IKE_SA_TAG_LEN 12
#define IKE_SA_MAX_TS 16

struct child_sa {
	bool installed;
	uint32_t reqid;
	uint32_t spi_in;  /* ours: the client sends with it */
	uint32_t spi_out; /* the client's */
	uint16_t encr_id, encr_keylen, integ_id;
	uint8_t n_tsr;
	struct ts tsi;                 /* the client's VIP */
	struct ts tsr[IKE_SA_MAX_TS];  /* what it may reach */
};

struct ike_sa {
	struct sa_table_entry ent;   /* spi_local = SPIr (ours), spi_remote = SPIi */
	struct gw *gw;
	uint32_t id;
	char tag[IKE_SA_TAG_LEN];    /* "#12": in every log line and in ikegwctl sas */
	enum ike_sa_state state;
	struct sockaddr_storage local, peer;
	bool natt;                   /* IKE floated to the NAT-T port */
	bool nat_peer, nat_local;    /* RFC 7296 2.23 detection results */
	bool frag_supported;         /* peer sent IKEV2_FRAGMENTATION_SUPPORTED */

	/* The chosen IKE proposal, as suite entries. */
	const struct suite_encr *encr;
	const struct suite_integ *integ;
	const struct suite_prf *prf;
	uint16_t ke_group;
	struct ike_keys *keys;
	uint64_t tx_iv;              /* AEAD IV counter for what we send */

	/* Until IKE_AUTH completes (RFC 7296 2.15: AUTH signs these). */
	uint8_t *msg1, *msg2;        /* IKE_SA_INIT request / our response */
	size_t msg1_len, msg2_len;
	uint8_t *ni;
	size_t ni_len;
	uint8_t nr[32];
	uint8_t sighash[16];         /* SIGNATURE_HASH_ALGORITHMS notify data, as sent */
	uint8_t sighash_len;

	/* Responder message-ID window of one (RFC 7296 2.3). */
	uint32_t rx_msgid;           /* next request we expect */
	uint32_t tx_msgid;           /* our next request (Delete on shutdown, DPD) */
	uint8_t *resp;               /* our response to rx_msgid - 1, for retransmits */
	size_t resp_len;
	struct frag_out *resp_frags; /* the same when it went out in fragments (RFC 7383) */
	struct frag_reasm frag;      /* a fragmented request being reassembled */

	const struct config_profile *profile;
	struct eap_session *eap;     /* EAP rounds in progress (auth/eap_session.c), or NULL */
	uint8_t auth_round;          /* RFC 4739: 0 = first authentication, 1 = second */
	char peer_id[128];           /* sanitized IDi text, for logs, leases, unique */
	struct pool *pool;
	bool has_vip;
	struct ip_addr vip;
	uint64_t established_ms;
	struct child_sa child;

	struct loop_timer half_open_timer;
};

struct ike_sa *ike_sa_new(struct gw *gw, const struct sockaddr_storage *local,
			  const struct sockaddr_storage *peer, uint64_t spi_i);
/* Frees everything the SA owns: table entry, timers, keys, lease, dataplane state. */
void ike_sa_free(struct ike_sa *sa);
/* IKE_AUTH is done: the IKE_SA_INIT messages and nonces are no longer needed. */
void ike_sa_drop_init_state(struct ike_sa *sa);
/* Forget a fragmented cached response. */
void ike_sa_drop_resp_frags(struct ike_sa *sa);
struct ike_sa *ike_sa_from_entry(struct sa_table_entry *e);
/* The IKE header SPIs as wire bytes (big-endian). */
void ike_sa_spis(const struct ike_sa *sa, uint8_t spi_i[8], uint8_t spi_r[8]);

#endif
