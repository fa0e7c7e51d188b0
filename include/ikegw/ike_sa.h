/* SPDX-License-Identifier: ISC */
/*
 * An IKE SA and its Child SAs.  A client gets one Child SA in IKE_AUTH and may ask for a
 * few more with CREATE_CHILD_SA (RFC 7296 1.3.1), each with its own traffic selectors.
 * Each is a "line": its selectors and up to three pairs (the current one, the one a
 * rekey replaced until its Delete is done, the redundant one of a rekey collision).  The
 * first line is embedded (most clients have one); further lines are allocated when asked
 * for and freed when empty or with the SA.  The struct owns its keys, the IKE_SA_INIT
 * messages it still needs for AUTH (freed once established), its cached last response,
 * its own outstanding request, its lease and its timers (sa_timers.c lists them);
 * ike_sa_free() releases all of them, so nothing outlives the SA.
 *
 * Roles: the client is the original initiator of the SA it creates; after an IKE SA
 * rekey the side that started the rekey is (RFC 7296 3.1: "this bit changes to reflect
 * who initiated the last rekey"), so orig_init says whether that is us.
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

/* RFC 7296 1.3.1: Child SAs a client may have on one IKE SA (NO_ADDITIONAL_SAS beyond). */
#define IKE_SA_MAX_CHILDREN 4

/* One Child SA's traffic selectors; its rekeys keep them (RFC 7296 2.8). */
struct child_ts {
	struct ts tsi;                 /* the client's VIP */
	uint8_t n_tsr;
	struct ts tsr[IKE_SA_MAX_TS];  /* what it may reach */
};

struct child_sa {
	bool installed;
	bool we_delete;    /* replaced by our rekey: our Delete for it is still owed */
	uint32_t reqid;
	uint32_t spi_in;  /* ours: the client sends with it */
	uint32_t spi_out; /* the client's */
	uint16_t encr_id, encr_keylen, integ_id;
	uint64_t created_ms;
	/* RFC 7296 2.8.1: the lower nonce of the exchange that created it (first 32
	 * octets), for the rekey collision rule; created_by_us: we initiated it. */
	uint8_t nonce_min[32];
	uint8_t nonce_min_len;
	bool created_by_us;
	uint32_t rekey_of;  /* the client's rekey of the pair whose spi_in this was, or 0 */
};

/* A Child SA with its selectors, through its rekeys. */
struct child_line {
	struct child_line *next;  /* the IKE SA's further lines (heap), or NULL */
	uint64_t rekey_at_ms;     /* when we rekey cur (jittered, RFC 7296 2.8) */
	uint32_t rekey_spi;       /* our rekey of cur is outstanding: its new inbound SPI */
	struct child_sa cur;      /* the current pair */
	struct child_sa old;      /* replaced by a rekey, until its Delete is done */
	struct child_sa spare;    /* the redundant one of a rekey collision (2.8.1) */
	struct child_ts ts;       /* selectors of the three */
};

/* RFC 7296 2.8.2: the client's IKE SA rekey, answered while ours was in flight. */
struct ike_rekey_theirs {
	uint64_t spi;             /* the new SA's SPI (ours): looked up, it may be gone */
	uint8_t nonce_min[32];    /* the lower nonce of that exchange */
	uint8_t nonce_min_len;
};

struct ike_req; /* our outstanding request (initiator.c) */

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
	bool orig_init;              /* we are the original initiator (we rekeyed it) */
	bool superseded;             /* rekeyed: only its Delete is still expected */

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
	uint32_t tx_msgid;           /* our next request (Delete, DPD, rekeys) */
	struct ike_req *req;         /* our request awaiting its response (window of one) */
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
	struct child_line children;   /* the first Child SA; .next the further ones */
	struct ike_rekey_theirs *rekey_theirs; /* a colliding IKE SA rekey (2.8.2), or NULL */
	uint64_t last_rx_ms;         /* last authenticated IKE message from the peer */
	uint8_t jobs_pending;        /* crypto jobs (jobs.h) not done yet: requests wait */

	/* sa_timers.c: half-open (also a superseded SA's linger), DPD, idle, rekeys,
	 * retransmission of our request. */
	struct loop_timer half_open_timer;
	struct loop_timer dpd_timer, idle_timer, rekey_child_timer, rekey_ike_timer;
	struct loop_timer retx_timer;
};

struct ike_sa *ike_sa_new(struct gw *gw, const struct sockaddr_storage *local,
			  const struct sockaddr_storage *peer, uint64_t spi_i);
/* Frees everything the SA owns: table entry, timers, keys, lease, dataplane state. */
void ike_sa_free(struct ike_sa *sa);
/* IKE_AUTH is done: the IKE_SA_INIT messages and nonces are no longer needed. */
void ike_sa_drop_init_state(struct ike_sa *sa);
/* The chosen IKE proposal as suite entries (encr, prf, integ, KE group); false when we
 * cannot run it after all. */
struct ike_proposal;
bool ike_sa_take_suite(struct ike_sa *sa, const struct ike_proposal *c);
/* Forget a fragmented cached response. */
void ike_sa_drop_resp_frags(struct ike_sa *sa);
struct ike_sa *ike_sa_from_entry(struct sa_table_entry *e);
/* The IKE header SPIs as wire bytes (big-endian). */
void ike_sa_spis(const struct ike_sa *sa, uint8_t spi_i[8], uint8_t spi_r[8]);
/* The header SPIs in host form: (SPIi, SPIr) as the original initiator chose them. */
uint64_t ike_sa_spi_i(const struct ike_sa *sa);
uint64_t ike_sa_spi_r(const struct ike_sa *sa);
/* The keys of what we send and what we receive (RFC 7296 2.14: SK_ei is the original
 * initiator's). */
const struct sk_dir_keys *ike_sa_tx_keys(const struct ike_sa *sa);
const struct sk_dir_keys *ike_sa_rx_keys(const struct ike_sa *sa);
/* The I flag of what we send (RFC 7296 3.1). */
uint8_t ike_sa_flags(const struct ike_sa *sa);
/* Remove a Child SA from the dataplane and forget it (its line stays, see tidy). */
void ike_sa_child_drop(struct ike_sa *sa, struct child_sa *c);
/* The Child SA (current, old or spare, of any line) whose outbound SPI (the peer's) /
 * inbound SPI is spi. */
struct child_sa *ike_sa_child_by_out(struct ike_sa *sa, uint32_t spi);
struct child_sa *ike_sa_child_by_in(struct ike_sa *sa, uint32_t spi);
/* The line holding c (a slot of it), or NULL. */
struct child_line *ike_sa_line_of(struct ike_sa *sa, const struct child_sa *c);
/* The line whose outstanding rekey (of ours) creates inbound SPI spi, or NULL. */
struct child_line *ike_sa_line_by_rekey(struct ike_sa *sa, uint32_t spi);
/* Lines with a current Child SA. */
size_t ike_sa_children_count(const struct ike_sa *sa);
/* An empty line for a further Child SA (the first line when it is empty), or NULL when
 * out of memory.  Left empty, tidy frees it. */
struct child_line *ike_sa_line_get(struct ike_sa *sa);
/* Free the further lines that hold nothing any more (not during a walk over them). */
void ike_sa_lines_tidy(struct ike_sa *sa);
/* Move the client's state (children, lease, profile, identity, path) into a new SA. */
void ike_sa_move_state(struct ike_sa *from, struct ike_sa *to);

#endif
