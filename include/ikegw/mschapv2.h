/* SPDX-License-Identifier: ISC */
/*
 * EAP-MSCHAPv2: the RFC 2759 primitives, the RFC 3079 key derivation, the packet
 * format of draft-kamath-pppext-eap-mschapv2-02, and the authenticator's (server's)
 * state machine.
 *
 * Accounts are stored as NT hashes (MD4 of the UTF-16LE password), never as plain
 * text, so every primitive takes the NT hash (RFC 2759 "PasswordHash") as its input.
 * MD4 and DES live in OpenSSL's legacy provider; struct mschapv2_ctx loads it into a
 * library context of its own, used only for those two, so the default context stays
 * free of legacy algorithms.  Create one per daemon (or test) and share it.
 */
#ifndef IKEGW_MSCHAPV2_H
#define IKEGW_MSCHAPV2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ikegw/buf.h"
#include "ikegw/eap.h"

#define MSCHAPV2_CHALLENGE_LEN 16   /* Authenticator- and Peer-Challenge */
#define MSCHAPV2_NT_HASH_LEN 16
#define MSCHAPV2_CHALLENGE_HASH_LEN 8
#define MSCHAPV2_NT_RESPONSE_LEN 24
#define MSCHAPV2_AUTH_RESPONSE_LEN 42 /* "S=" and 40 upper-case hex digits */
#define MSCHAPV2_MASTER_KEY_LEN 16
#define MSCHAPV2_MSK_LEN 64
#define MSCHAPV2_NAME_MAX 255         /* longest Name we accept from a peer */
#define MSCHAPV2_RESPONSE_VALUE_SIZE 49

/* OpCodes, draft-kamath-pppext-eap-mschapv2-02 2. */
enum mschapv2_opcode {
	MSCHAPV2_OP_CHALLENGE = 1,
	MSCHAPV2_OP_RESPONSE = 2,
	MSCHAPV2_OP_SUCCESS = 3,
	MSCHAPV2_OP_FAILURE = 4,
	MSCHAPV2_OP_CHANGE_PASSWORD = 7,
};

/* RFC 2759 6: the error we report for a bad password or an unknown user. */
#define MSCHAPV2_ERROR_AUTHENTICATION_FAILURE 691

struct mschapv2_ctx;

/* NULL when the legacy provider (MD4, DES) cannot be loaded. */
struct mschapv2_ctx *mschapv2_ctx_new(void);
void mschapv2_ctx_free(struct mschapv2_ctx *c);

/* ---- RFC 2759 8 primitives; 0 or -EINVAL / -EIO ---- */

/* NtPasswordHash of an ASCII password (tooling and tests; -EINVAL for non-ASCII). */
int mschapv2_nt_hash_ascii(const struct mschapv2_ctx *c, const char *password,
			   uint8_t out[MSCHAPV2_NT_HASH_LEN]);
/* HashNtPasswordHash: MD4 of the NT hash. */
int mschapv2_hash_nt_hash(const struct mschapv2_ctx *c, const uint8_t nt_hash[16],
			  uint8_t out[16]);
/* ChallengeHash = SHA1(PeerChallenge | AuthenticatorChallenge | UserName)[0..8). */
int mschapv2_challenge_hash(const uint8_t peer_challenge[16], const uint8_t auth_challenge[16],
			    const char *user, size_t user_len, uint8_t out[8]);
/* ChallengeResponse: three DES encryptions of the challenge hash. */
int mschapv2_challenge_response(const struct mschapv2_ctx *c, const uint8_t challenge[8],
				const uint8_t nt_hash[16], uint8_t out[24]);
/* GenerateNTResponse. */
int mschapv2_nt_response(const struct mschapv2_ctx *c, const uint8_t auth_challenge[16],
			 const uint8_t peer_challenge[16], const char *user, size_t user_len,
			 const uint8_t nt_hash[16], uint8_t out[24]);
/* GenerateAuthenticatorResponse: "S=" + 40 hex digits, NUL-terminated (43 bytes). */
int mschapv2_auth_response(const struct mschapv2_ctx *c, const uint8_t nt_hash[16],
			   const uint8_t nt_response[24], const uint8_t peer_challenge[16],
			   const uint8_t auth_challenge[16], const char *user, size_t user_len,
			   char out[MSCHAPV2_AUTH_RESPONSE_LEN + 1]);
/* CheckAuthenticatorResponse (the peer's check): 0 on a match, -EACCES otherwise. */
int mschapv2_check_authenticator(const struct mschapv2_ctx *c, const uint8_t nt_hash[16],
				 const uint8_t nt_response[24], const uint8_t peer_challenge[16],
				 const uint8_t auth_challenge[16], const char *user,
				 size_t user_len, const char *received, size_t received_len);

/* ---- RFC 3079 3.4 key derivation ---- */

/* GetMasterKey(PasswordHashHash, NTResponse), from the NT hash. */
int mschapv2_master_key(const struct mschapv2_ctx *c, const uint8_t nt_hash[16],
			const uint8_t nt_response[24], uint8_t out[16]);
/* GetAsymmetricStartKey: len <= 20 (16 for 128-bit keys). */
int mschapv2_start_key(const uint8_t master_key[16], bool is_send, bool is_server,
		       uint8_t *out, size_t len);
/*
 * The EAP-MSCHAPv2 MSK as Windows and strongSwan derive it, equal on both sides:
 * MasterReceiveKey | MasterSendKey | 32 zero octets, with the keys of the authenticator
 * (server) side: its receive key (Magic2) first, then its send key (Magic3).
 */
int mschapv2_msk(const struct mschapv2_ctx *c, const uint8_t nt_hash[16],
		 const uint8_t nt_response[24], uint8_t out[MSCHAPV2_MSK_LEN]);

/* The UserName the hashes use: the part after the last '\' (RFC 2759 4, "DOMAIN\user"). */
void mschapv2_user_strip_domain(const char *name, size_t len, const char **user,
				size_t *user_len);

/* ---- packet format (EAP Type 26) ---- */

struct mschapv2_msg {
	uint8_t opcode;        /* MSCHAPV2_OP_* */
	uint8_t ms_id;         /* MS-CHAPv2-ID; 0 in the 1-octet acknowledgements */
	bool ack;              /* a peer's 1-octet Success/Failure Response */
	uint8_t challenge[MSCHAPV2_CHALLENGE_LEN];      /* Challenge */
	uint8_t peer_challenge[MSCHAPV2_CHALLENGE_LEN]; /* Response */
	uint8_t nt_response[MSCHAPV2_NT_RESPONSE_LEN];  /* Response */
	uint8_t flags;                                  /* Response */
	const uint8_t *name;   /* Challenge/Response Name, borrowed */
	size_t name_len;
	const uint8_t *message; /* Success/Failure Request text, borrowed */
	size_t message_len;
};

/*
 * Decode the Type-Data of an EAP-MSCHAPv2 packet.  0, -EINVAL (not EAP Type 26),
 * -EBADMSG (short, MS-Length != EAP Length - 5, wrong Value-Size, unknown OpCode).
 */
int mschapv2_decode(const struct eap_pkt *eap, struct mschapv2_msg *m);

/* Encoders: 0, -EINVAL, -ENOSPC. */
int mschapv2_encode_challenge(struct wbuf *w, uint8_t eap_id, uint8_t ms_id,
			      const uint8_t challenge[16], const char *name);
int mschapv2_encode_response(struct wbuf *w, uint8_t eap_id, uint8_t ms_id,
			     const uint8_t peer_challenge[16], const uint8_t nt_response[24],
			     const char *name);
/* "S=<40 hex> M=<message>" */
int mschapv2_encode_success(struct wbuf *w, uint8_t eap_id, uint8_t ms_id,
			    const char auth_response[MSCHAPV2_AUTH_RESPONSE_LEN],
			    const char *message);
/* "E=<error> R=<retry> C=<32 hex> V=3 M=<message>" (RFC 2759 6) */
int mschapv2_encode_failure(struct wbuf *w, uint8_t eap_id, uint8_t ms_id, unsigned error,
			    bool retry, const uint8_t challenge[16], const char *message);
/* The peer's 1-octet Success or Failure acknowledgement. */
int mschapv2_encode_ack(struct wbuf *w, uint8_t eap_id, uint8_t opcode);

/* ---- the authenticator's state machine ---- */

/* Find the NT hash of a user by the Name the peer sent: 0, or -ENOENT. */
typedef int (*mschapv2_lookup_fn)(void *arg, const char *name, uint8_t nt_hash[16]);

enum mschapv2_result {
	MSCHAPV2_CONTINUE = 0, /* send the EAP Request written to out */
	MSCHAPV2_DONE = 1,     /* authenticated: send EAP-Success; the MSK is ready */
	MSCHAPV2_FAILED = 2,   /* refused: send EAP-Failure */
};

struct mschapv2_server;

/* server_name goes into the Challenge's Name field.  NULL on -ENOMEM. */
struct mschapv2_server *mschapv2_server_new(const struct mschapv2_ctx *c,
					    const char *server_name,
					    mschapv2_lookup_fn lookup, void *arg);
void mschapv2_server_free(struct mschapv2_server *s);

/*
 * Write the Challenge Request with EAP Identifier eap_id.  challenge NULL draws a
 * random one (tests pass a fixed one).  0 or negative errno.
 */
int mschapv2_server_start(struct mschapv2_server *s, uint8_t eap_id,
			  const uint8_t *challenge, struct wbuf *out);
/*
 * Process the peer's EAP Response.  A right Response gets the Success Request
 * (CONTINUE), a wrong one (or an unknown user) the Failure Request "E=691 R=0"
 * (CONTINUE); the peer's Success acknowledgement then gives DONE, its Failure
 * acknowledgement or a Nak FAILED.  Negative errno for a packet that does not fit
 * (wrong Identifier, malformed, unexpected OpCode): the caller drops it.
 */
int mschapv2_server_process(struct mschapv2_server *s, const struct eap_pkt *in,
			    struct wbuf *out);
/* After DONE: the MSK (0), else -EAGAIN. */
int mschapv2_server_msk(const struct mschapv2_server *s, uint8_t out[MSCHAPV2_MSK_LEN]);
/* The Name the peer authenticated as (valid after DONE), or NULL. */
const char *mschapv2_server_user(const struct mschapv2_server *s);

#endif
