/* SPDX-License-Identifier: ISC */
/*
 * IKE message fragmentation (RFC 7383): reassembly of the Encrypted Fragment (SKF)
 * payloads a peer sends, and splitting our own encrypted messages into SKF messages.
 *
 * Reassembly works on plaintext: RFC 7383 2.6 has every fragment authenticated before
 * it is stored, so the caller runs skf_unprotect() first and hands the decrypted piece
 * to frag_reasm_add().  frag_reasm_check() runs the same header checks without storing
 * anything, so duplicates and stale fragments can be dropped before any crypto (2.6
 * lists the validity and replay checks ahead of the ICV check).
 *
 * Memory is bounded twice: per IKE SA (struct frag_limits.max_bytes) and across all SAs
 * (struct frag_budget, one per daemon, shared).  A stored fragment is charged its
 * plaintext length plus a small per-fragment header against both; nothing is allocated
 * beyond them except the finished message handed to the caller.  A refusal never frees
 * anything another SA owns.
 */
#ifndef IKEGW_FRAG_H
#define IKEGW_FRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ikegw/codec.h"
#include "ikegw/keymat.h"
#include "ikegw/suite.h"

/* Hard ceiling on Total Fragments, received or sent (a 64-bit map tracks them). */
#define FRAG_MAX 64

#define FRAG_SA_BYTES_DEFAULT (64u * 1024)      /* stored plaintext per IKE SA */
#define FRAG_BUDGET_DEFAULT (8u * 1024 * 1024)  /* stored plaintext, all SAs */
#define FRAG_TIMEOUT_MS_DEFAULT 30000           /* an incomplete set lives this long */

/*
 * RFC 7383 2.5.1: keep the IP datagram of each fragment within 576 octets (IPv4) and
 * 1280 octets (IPv6).  These are the IKE message sizes that leaves: minus the IP and
 * UDP headers; subtract 4 more (the non-ESP marker) on the NAT-T port.
 */
#define FRAG_MSG_LEN_IPV4 (576 - 20 - 8)
#define FRAG_MSG_LEN_IPV6 (1280 - 40 - 8)
#define FRAG_NON_ESP_MARKER_LEN 4

/* Results of frag_reasm_add() that are not errors. */
#define FRAG_WAIT 0 /* stored; more fragments needed */
#define FRAG_DONE 1 /* the message is complete */

/*
 * Refusals (negative errno).  None of them changes the set in progress except where
 * noted.
 *   -EINVAL    number 0 or above total, total 0, Next Payload non-zero on a fragment
 *              other than 1 (RFC 7383 2.5)
 *   -EMSGSIZE  total above the limit; or storing the fragment would pass the per-SA
 *              byte limit: the whole set is discarded (it can never complete)
 *   -ESTALE    an older message ID than the set in progress or the last message
 *              completed, or a smaller Total Fragments than the set's (RFC 7383 2.6)
 *   -EALREADY  a duplicate: same message ID, number and total already stored, or a
 *              fragment of the message that was just completed (2.6: a replay)
 *   -ENOBUFS   the shared budget is exhausted; the set in progress is kept
 *   -ENOMEM    allocation failed; the set in progress is kept, unless it was the
 *              finished message that could not be allocated (then it is discarded, so
 *              the peer's retransmission starts over)
 */

struct frag_limits {
	uint16_t max_frags;  /* Total Fragments accepted, 1..FRAG_MAX */
	size_t max_bytes;    /* stored per SA, fragment headers included */
	uint64_t timeout_ms; /* from the first fragment of a set */
};

/* Shared by every SA's reassembly; the daemon owns one (e.g. in struct gw). */
struct frag_budget {
	size_t used;
	size_t max;
};

struct frag_piece; /* one stored fragment, private to frag.c */

/* One IKE SA's reassembly state: about 64 octets when idle, embed it in the SA. */
struct frag_reasm {
	struct frag_budget *budget;
	struct frag_piece *pieces; /* sorted by fragment number */
	uint64_t have;             /* bit n-1: fragment n is stored */
	uint64_t deadline_ms;      /* the set in progress expires at this time */
	size_t bytes;              /* charged to this SA (and to *budget) */
	uint32_t msg_id;           /* of the set in progress */
	uint32_t done_msg_id;      /* the last message completed */
	uint16_t total;            /* Total Fragments of the set; 0 when there is none */
	uint8_t first_inner;       /* from fragment 1 */
	bool done_valid;
};

/* The limits above (FRAG_*_DEFAULT) and FRAG_MAX fragments. */
void frag_limits_default(struct frag_limits *lim);

/* Empty state charging to budget (which must outlive it). */
void frag_reasm_init(struct frag_reasm *r, struct frag_budget *budget);

/*
 * Would frag_reasm_add() accept a fragment with these header fields (from msg->enc and
 * the IKE header)?  0 when it would be stored, else the refusal add would return (but
 * -EMSGSIZE for the byte limits, -ENOBUFS and -ENOMEM, which need the plaintext size).
 * Changes nothing: call it before skf_unprotect() to skip decrypting what add refuses.
 */
int frag_reasm_check(const struct frag_reasm *r, const struct frag_limits *lim,
		     uint64_t now_ms, uint32_t msg_id, uint16_t num, uint16_t total,
		     uint8_t first_inner);

/*
 * Store one authenticated fragment's plaintext (RFC 7383 2.6).  FRAG_WAIT, FRAG_DONE or
 * a refusal above.  On FRAG_DONE *out is an owned malloc'd buffer (free() it) with the
 * whole inner payload chain, *out_len its length (may be 0), *out_first the first inner
 * payload type from fragment 1; the set is released and fragments of that message ID
 * are refused from then on.  A newer message ID, or the same one with a larger Total
 * Fragments, discards the set in progress and starts over with this fragment.
 * An expired set is discarded first.
 */
int frag_reasm_add(struct frag_reasm *r, const struct frag_limits *lim, uint64_t now_ms,
		   uint32_t msg_id, uint16_t num, uint16_t total, uint8_t first_inner,
		   const uint8_t *plain, size_t plain_len, uint8_t **out, size_t *out_len,
		   uint8_t *out_first);

/* Discard the set in progress if its deadline has passed: true when it did. */
bool frag_reasm_expire(struct frag_reasm *r, uint64_t now_ms);
/* Is a set in progress?  *deadline_ms (may be NULL) is when it expires. */
bool frag_reasm_pending(const struct frag_reasm *r, uint64_t *deadline_ms);
/* Release everything stored (wiped) and return it to the budget; r stays usable. */
void frag_reasm_free(struct frag_reasm *r);

/* ---- sending (RFC 7383 2.5) ---- */

/* The SKF messages of one IKE message; each msg[i] is owned (malloc'd). */
struct frag_out {
	size_t n;
	uint8_t *msg[FRAG_MAX];
	size_t len[FRAG_MAX];
};

/* Inner plaintext octets that fit one SKF message of at most max_msg_len; 0 if none. */
size_t frag_chunk_max(const struct sk_dir_keys *keys, size_t max_msg_len);

/* Would the unfragmented SK message for inner_len octets exceed max_msg_len? */
bool frag_needed(const struct sk_dir_keys *keys, size_t inner_len, size_t max_msg_len);

/*
 * Split the inner payload chain (first inner type: first_inner) into SKF messages of at
 * most max_msg_len octets each (the UDP payload without the non-ESP marker), with the
 * IKE header fields of hdr (next and length are ignored), each protected with keys.
 * Every fragment takes a fresh AEAD IV from *iv_counter (incremented per fragment).
 * Fragment 1 carries first_inner in its Next Payload, the others 0 (RFC 7383 2.5).
 * 0 with out filled; -EMSGSIZE when no plaintext fits or more than FRAG_MAX fragments
 * would be needed; -EINVAL, -ENOMEM, or skf_protect's error.  On failure out is empty.
 */
int frag_split_chain(const struct crypto_suite *s, const struct sk_dir_keys *keys,
		     uint64_t *iv_counter, const struct ike_hdr *hdr, uint8_t first_inner,
		     const uint8_t *inner, size_t inner_len, size_t max_msg_len,
		     struct frag_out *out);

/* Free the buffers and empty out; out itself is the caller's.  Accepts NULL. */
void frag_out_clear(struct frag_out *out);

#endif
