/* SPDX-License-Identifier: ISC */
/*
 * The EAP conversation of one IKE SA (RFC 7296 2.16, RFC 3748): the Identity exchange,
 * then one method until EAP-Success or EAP-Failure, then the MSK that both sides'
 * AUTH payloads are computed with.
 *
 *   s = eap_session_new(&cfg);
 *   eap_session_start(s, CONFIG_AUTH_EAP_MSCHAPV2, out)   -> EAP-Request/Identity
 *   for each EAP payload from the peer: eap_session_process(s, pkt, len, out)
 *     EAP_SESSION_REQUEST: send out;  EAP_SESSION_SUCCESS: send out (EAP-Success),
 *     the MSK is ready;  EAP_SESSION_FAILURE: send out (EAP-Failure), see _reason();
 *     EAP_SESSION_PENDING: nothing to send now, cfg.done runs with the answer later
 *     (EAP relayed to RADIUS); negative errno: drop the packet, nothing changed.
 *
 * Methods sit behind one small interface {start, process, msk, free} inside
 * eap_session.c: EAP-MSCHAPv2 against local users (mschapv2.h), EAP-TLS (eap_tls.h),
 * and the RADIUS relay (RFC 3579: every EAP packet travels in Access-Requests, the
 * server chooses the method; the MSK comes from MS-MPPE keys).  The session can be
 * started again for another round (RFC 4739) once a conversation ended.
 *
 * The session also carries an opaque context for its owner (ike_auth.c keeps what the
 * later IKE_AUTH messages need in it), freed with the session.
 */
#ifndef IKEGW_EAP_SESSION_H
#define IKEGW_EAP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ikegw/buf.h"
#include "ikegw/config.h"
#include "ikegw/mschapv2.h"

struct eap_session;
struct radius_client;
struct cert_own;
struct cert_store;

#define EAP_SESSION_ID_MAX 128     /* longest EAP identity we accept (incl. NUL) */
#define EAP_SESSION_MSK_MAX 128
#define EAP_SESSION_CLASS_MAX 4
#define EAP_SESSION_CLASS_LEN 64
#define EAP_SESSION_REASON_MAX 128

enum eap_session_status {
	EAP_SESSION_REQUEST = 0,
	EAP_SESSION_PENDING = 1,
	EAP_SESSION_SUCCESS = 2,
	EAP_SESSION_FAILURE = 3,
};

/*
 * A pending step finished: st and the EAP packet to send (pkt/len; the EAP-Failure on
 * FAILURE).  owner_key is cfg.owner_key, so the owner can find itself again (or learn it
 * is gone); the callback may free the session.
 */
typedef void eap_session_done_fn(void *arg, uint64_t owner_key, struct eap_session *s,
				 enum eap_session_status st, const uint8_t *pkt, size_t len);

struct eap_session_cfg {
	const char *ike_identity;        /* IDi as text: the identity if EAP gives none */
	const char *server_name;         /* our name in MSCHAPv2 Challenges (gateway id) */
	const struct mschapv2_ctx *mschapv2; /* for eap-mschapv2 */
	mschapv2_lookup_fn lookup;       /* the NT hash of a local user */
	void *lookup_arg;
	struct radius_client *radius;    /* for eap-radius */
	const char *nas_identifier;      /* RADIUS NAS-Identifier (may be NULL) */
	const char *calling_station_id;  /* the client's address (may be NULL) */
	const struct cert_own *own;      /* for eap-tls */
	struct cert_store *trust;        /* for eap-tls (its server holds a reference) */
	time_t now;                      /* eap-tls certificate checks at this time */
	eap_session_done_fn *done;       /* required for eap-radius */
	void *done_arg;
	uint64_t owner_key;
	/* Called at every entry (start, process) to put the daemon's current server_name,
	 * mschapv2, lookup_arg, radius, nas_identifier, own and trust in cfg: a reload
	 * between rounds frees the old ones.  NULL: the ones above stay. */
	void (*refresh)(void *arg, struct eap_session_cfg *cfg);
	void *refresh_arg;
};

/* The cfg is copied (its strings are not: they must outlive the session). */
struct eap_session *eap_session_new(const struct eap_session_cfg *cfg);
/* Cancels a pending RADIUS request, wipes keys, frees the owner context. */
void eap_session_free(struct eap_session *s);

/*
 * Begin a conversation with method (CONFIG_AUTH_EAP_*): the Identity Request goes to
 * out.  EAP_SESSION_REQUEST, or -EINVAL (not an EAP method), -EBUSY (a conversation is
 * running), -ENOSPC.
 */
int eap_session_start(struct eap_session *s, enum config_auth method, struct wbuf *out);
/* One EAP packet from the peer (the EAP payload, exactly).  See above. */
int eap_session_process(struct eap_session *s, const uint8_t *pkt, size_t len,
			struct wbuf *out);

/* Waiting for RADIUS: a retransmitted IKE request must not be processed again. */
bool eap_session_busy(const struct eap_session *s);
/* After SUCCESS: the MSK (0), else -EAGAIN; -ENOSPC when cap is too small. */
int eap_session_msk(const struct eap_session *s, uint8_t *out, size_t cap, size_t *len);
/* The EAP identity (the IDi text when the peer sent an empty one); "" before. */
const char *eap_session_identity(const struct eap_session *s);
/* Why it failed: "wrong password", "unknown user", "RADIUS reject", ...; "" if not. */
const char *eap_session_reason(const struct eap_session *s);
/* The running or last method's name ("eap-mschapv2"), or "eap". */
const char *eap_session_method(const struct eap_session *s);

/* What a RADIUS Access-Accept said about the client (RFC 2865 5.8, 5.25). */
struct eap_session_attrs {
	char classes[EAP_SESSION_CLASS_MAX][EAP_SESSION_CLASS_LEN]; /* printable ones only */
	size_t n_class;
	bool has_framed_ip;
	uint8_t framed_ip[4];
};
const struct eap_session_attrs *eap_session_attrs(const struct eap_session *s);

/* The owner's context, freed by ctx_free in eap_session_free (replaces an old one). */
void eap_session_set_ctx(struct eap_session *s, void *ctx, void (*ctx_free)(void *));
void *eap_session_ctx(const struct eap_session *s);

#endif
