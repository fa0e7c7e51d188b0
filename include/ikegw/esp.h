/* SPDX-License-Identifier: ISC */
/*
 * ESP packet processing (RFC 4303), tunnel mode, for the userspace dataplane: pure
 * per-packet encapsulation and decapsulation plus the anti-replay window.  No I/O, no
 * allocation; the EVP context comes from the caller's struct cipher_ctx, the keys from
 * the struct esp_sa, so a packet costs a re-key of an existing context and nothing more.
 *
 * The per-packet cost is dominated by keying the cipher, so struct esp_ctx remembers
 * which AEAD key its EVP context holds: a run of packets on one SA (a bulk flow) costs
 * a nonce change each, not a key schedule.  It also draws CBC IVs from a pool filled by
 * one RAND_bytes call per ESP_RND_POOL bytes (RAND_bytes per packet costs a getpid()).
 *
 * Wire format (RFC 4303 2):
 *   SPI(4) | Sequence Number(4) | IV | ciphertext( payload | padding | pad length(1) |
 *   next header(1) ) | ICV
 * AES-GCM-16 (RFC 4106) and ChaCha20-Poly1305 (RFC 7634): 8-byte IV = the 64-bit
 * sequence number (unique per key), nonce = salt | IV, AAD = SPI | seq (8 bytes, no
 * ESN), ICV = the 16-byte tag.  AES-CBC (RFC 3602) + HMAC-SHA2 (RFC 4868): random
 * 16-byte IV, ICV = truncated HMAC over SPI .. ciphertext.
 */
#ifndef IKEGW_ESP_H
#define IKEGW_ESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ikegw/cipher.h"
#include "ikegw/suite.h"

struct dp_sa;

#define ESP_HDR_LEN 8              /* SPI + sequence number */
#define ESP_TRAILER_LEN 2          /* pad length + next header */
#define ESP_NH_IPV4 4
#define ESP_NH_IPV6 41
#define ESP_NH_NONE 59             /* RFC 4303 2.6: dummy packet */
/* Room before the inner packet for the largest header + IV (AES-CBC). */
#define ESP_HEADROOM (ESP_HDR_LEN + SUITE_MAX_IV)
/* Room after it for the largest padding, trailer and ICV. */
#define ESP_TAILROOM (SUITE_MAX_IV - 1 + ESP_TRAILER_LEN + SUITE_MAX_ICV)

/*
 * Anti-replay window (RFC 4303 3.4.3, bitmap in the style of RFC 6479): bit (s mod
 * ESP_REPLAY_BITS) in a ring of words records sequence number s.  One word is kept
 * spare so that moving the right edge clears whole words without touching the window.
 */
#define ESP_REPLAY_WORDS 16
#define ESP_REPLAY_BITS (ESP_REPLAY_WORDS * 64)
#define ESP_REPLAY_MIN 128                       /* RFC 4303 3.4.3 default is 64; we keep more */
#define ESP_REPLAY_MAX (ESP_REPLAY_BITS - 64)    /* 960 */

struct esp_replay {
	uint64_t top;    /* highest verified sequence number; 0 = none yet */
	uint32_t window; /* accepted: top - window < s; ESP_REPLAY_MIN..ESP_REPLAY_MAX */
	uint64_t bits[ESP_REPLAY_WORDS];
};

#define ESP_RND_POOL 1024

/*
 * Per-dataplane (per-worker) crypto state.  It must be the only user of cx: a key put
 * into cx->evp behind its back would go unnoticed.
 */
struct esp_ctx {
	struct cipher_ctx *cx;                 /* borrowed; one per dataplane */
	size_t keyed_len;                      /* 0: cx->evp holds no key we know */
	uint8_t keyed[SUITE_MAX_ENCR_KEY];     /* the AEAD key cx->evp is keyed with */
	size_t rnd_left;
	uint8_t rnd[ESP_RND_POOL];             /* unused random bytes for CBC IVs */
};

void esp_ctx_init(struct esp_ctx *e, struct cipher_ctx *cx);
/* Wipes the remembered key and the random pool (cx stays the caller's). */
void esp_ctx_wipe(struct esp_ctx *e);

/* One direction of an ESP SA: raw keys and the per-direction counters. */
struct esp_sa {
	const struct suite_encr *encr;
	const struct suite_integ *integ; /* NULL for AEAD */
	uint32_t spi;                    /* host order */
	uint32_t seq;                    /* outbound: last sequence number sent (0 = none) */
	struct esp_replay replay;        /* inbound */
	uint8_t enc_key[SUITE_MAX_ENCR_KEYMAT]; /* key | salt (AEAD) */
	uint8_t integ_key[SUITE_MAX_INTEG_KEY];
};

/*
 * From the dataplane description of one direction.  replay_window is clamped to
 * ESP_REPLAY_MIN..ESP_REPLAY_MAX.  -ENOTSUP for transforms we do not implement and for
 * ESN (only 32-bit sequence numbers here), -EINVAL for wrong key lengths.
 */
int esp_sa_init(struct esp_sa *sa, const struct dp_sa *d, uint32_t replay_window);
void esp_sa_wipe(struct esp_sa *sa);

/* Bytes from the start of the ESP packet to the payload (header + IV). */
size_t esp_payload_offset(const struct esp_sa *sa);
/* Upper bound of the ESP packet size for an inner packet of len bytes. */
size_t esp_encap_size(const struct esp_sa *sa, size_t len);

/*
 * Encapsulate one inner IPv4/IPv6 packet (next header 4 or 41 from its version nibble)
 * into out.  inner may already sit at out + esp_payload_offset(sa): it is then
 * encrypted where it is, without a copy; any other overlap is not allowed.
 * Returns 0, -EOVERFLOW when the sequence number would pass 2^32-1 (RFC 4303 3.3.3:
 * the SA must be rekeyed), -EPROTONOSUPPORT when inner is not IP, -ENOBUFS when out is
 * too small, -EIO on a crypto failure.
 */
int esp_encap(struct esp_ctx *e, struct esp_sa *sa, const uint8_t *inner, size_t len,
	      uint8_t *out, size_t cap, size_t *out_len);

/*
 * Decapsulate one ESP packet into out (cap bytes; pkt and out must not overlap).  On 0,
 * the inner packet is out[0 .. *inner_len) and *next_header is 4 or 41.  Order (RFC
 * 4303 3.4.3/3.4.4): a cheap replay check, the ICV (constant time) / AEAD open, only
 * then the window update, then padding and next header.  Errors:
 *   -EMSGSIZE  truncated or misaligned          -ENOENT   SPI is not this SA's
 *   -EALREADY  replayed or left of the window   -EBADMSG  ICV does not verify
 *   -EPROTO    padding bytes not 1, 2, 3, ...   -ENODATA  next header 59 (dummy: drop)
 *   -EPROTONOSUPPORT  next header not 4/41      -ENOBUFS  out too small   -EIO crypto
 */
int esp_decap(struct esp_ctx *e, struct esp_sa *sa, const uint8_t *pkt, size_t len,
	      uint8_t *out, size_t cap, size_t *inner_len, uint8_t *next_header);

/* The SPI of an ESP packet (host order), for the SA lookup.  0 or -EMSGSIZE. */
int esp_peek_spi(const uint8_t *pkt, size_t len, uint32_t *spi);

/*
 * ECN across the tunnel (RFC 6040, normal mode).  The ECN field is the low two bits of
 * the IPv4 TOS byte / IPv6 Traffic Class (RFC 3168 5).
 */
#define ESP_ECN_NOT_ECT 0
#define ESP_ECN_ECT1 1
#define ESP_ECN_ECT0 2
#define ESP_ECN_CE 3
#define ESP_ECN_MASK 3

/* The ECN field of an inner IPv4/IPv6 packet (what encapsulation copies into the outer
 * header, RFC 6040 4.1), or -EMSGSIZE (short header) / -EPROTONOSUPPORT (not IP). */
int esp_ecn_get(const uint8_t *pkt, size_t len);

/*
 * Decapsulation (RFC 6040 4.2, Figure 4) of an inner packet that arrived under an outer
 * header with TOS / Traffic Class byte outer_tos: outer CE sets CE on an ECT(0)/ECT(1)
 * inner, outer ECT(1) turns an ECT(0) inner into ECT(1), anything else leaves it alone.
 * The inner header is rewritten in place (IPv4 header checksum updated, RFC 1624).
 * 0; -ECANCELED when the packet must be dropped (outer CE, inner Not-ECT: the congestion
 * mark cannot be passed on); the esp_ecn_get errors.
 */
int esp_ecn_decap(uint8_t *pkt, size_t len, uint8_t outer_tos);

/* The replay window on its own (exposed for tests). */
void esp_replay_init(struct esp_replay *r, uint32_t window);
/* 0 when seq may be accepted, -EALREADY when it is a duplicate or too old. */
int esp_replay_check(const struct esp_replay *r, uint32_t seq);
/* Record a verified seq (call only after esp_replay_check() passed and the ICV verified). */
void esp_replay_update(struct esp_replay *r, uint32_t seq);

#endif
