/* SPDX-License-Identifier: ISC */
/*
 * The dataplane interface: the one ops table in ikegw.  The IKE code hands a negotiated
 * Child SA pair and a client's policies to a backend (kernel XFRM, userspace ESP over
 * TUN, or a recording fake in tests) and asks it for counters; it never knows which.
 */
#ifndef IKEGW_DATAPLANE_H
#define IKEGW_DATAPLANE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define DP_KEY_MAX 68 /* AES-256 + HMAC-SHA2-512 key, or an AEAD key + salt */
#define DP_MAX_SUBNETS 16

struct dp_prefix {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t plen;
	uint8_t addr[16];
};

/* One direction of an ESP SA: raw keys only (no EVP state here). */
struct dp_sa {
	uint32_t spi;          /* network byte order is the backend's business: host order here */
	uint16_t encr_id;      /* IKEV2_ENCR_* */
	uint16_t encr_keylen;  /* bits, without salt */
	uint16_t integ_id;     /* IKEV2_INTEG_* (NONE for AEAD) */
	uint8_t enc_key_len;   /* bytes incl. AEAD salt */
	uint8_t integ_key_len;
	uint8_t enc_key[DP_KEY_MAX];
	uint8_t integ_key[DP_KEY_MAX];
	bool esn;
};

/* A Child SA pair for one client, tunnel mode. */
struct dp_child {
	uint32_t reqid;                 /* ties SAs and policies together; unique per Child SA */
	struct sockaddr_storage local;  /* our outer address (and NAT-T port when encap) */
	struct sockaddr_storage peer;   /* the client's outer address and port */
	bool encap;                     /* ESP in UDP (RFC 3948) */
	struct dp_sa in;                /* client -> gateway */
	struct dp_sa out;               /* gateway -> client */
	struct dp_prefix vip;           /* client's inner address (TSi) */
	uint8_t n_subnets;              /* what the client may reach (TSr) */
	struct dp_prefix subnets[DP_MAX_SUBNETS];
	uint32_t soft_lifetime_s, hard_lifetime_s;
	uint32_t replay_window;
};

struct dp_counters {
	uint64_t bytes_in, bytes_out, packets_in, packets_out;
	uint64_t replay_drops, auth_drops, policy_drops;
	uint64_t last_use_ms; /* loop clock of the last inbound or outbound packet; 0 = never */
	uint64_t last_in_ms;  /* the same for inbound only: what DPD may count as the peer alive */
};

enum dp_expire_kind { DP_EXPIRE_SOFT, DP_EXPIRE_HARD };

struct dataplane;

struct dataplane_ops {
	const char *name;
	int (*child_add)(struct dataplane *dp, const struct dp_child *c);
	int (*child_del)(struct dataplane *dp, uint32_t reqid);
	int (*counters)(struct dataplane *dp, uint32_t reqid, struct dp_counters *out);
	/* Peer moved (NAT rebinding, MOBIKE): new outer addresses for a pair. */
	int (*child_update_peer)(struct dataplane *dp, uint32_t reqid,
				 const struct sockaddr_storage *peer);
	int (*flush)(struct dataplane *dp); /* optional */
	void (*free)(struct dataplane *dp);
};

/* Expiry reports go back to the SA lifecycle code through this callback. */
typedef void (*dp_expire_cb)(void *arg, uint32_t reqid, enum dp_expire_kind kind);

struct dataplane {
	const struct dataplane_ops *ops;
	dp_expire_cb on_expire;
	void *on_expire_arg;
};

/* Wipes key material in a child description (callers keep them on the stack). */
void dp_child_wipe(struct dp_child *c);

#endif
