/* SPDX-License-Identifier: ISC */
/*
 * struct gw: the daemon's context, and the only mutable state outside the stack.  Tests
 * build one with gw_new() and a fake send hook and clock, without sockets or root.
 */
#ifndef IKEGW_GW_H
#define IKEGW_GW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "ikegw/frag.h"
#include "ikegw/jobs.h"
#include "ikegw/log.h"
#include "ikegw/loop.h"

struct config;
struct loop;
struct loop_clock;
struct crypto_suite;
struct sa_table;
struct cookie;
struct udp;
struct cert_store;
struct cert_own;
struct pool;
struct dataplane;
struct ike_sa;
struct radius_client;
struct mschapv2_ctx;

struct gw_counters {
	uint64_t handshakes_ok, handshakes_failed, auth_failures;
	uint64_t init_requests, cookies_sent, retransmits_answered, bad_messages;
	/* ESP counters of Child SAs already gone, so totals only grow (Prometheus counters) */
	uint64_t gone_bytes_in, gone_bytes_out, gone_packets_in, gone_packets_out;
};

/* How an IKE message leaves: the real one sends over UDP, tests capture it. */
typedef int gw_send_fn(void *arg, const struct sockaddr_storage *local,
		       const struct sockaddr_storage *peer, bool natt, const uint8_t *msg,
		       size_t len);

struct gw {
	struct config *cfg;
	struct log log;
	struct loop *loop;
	struct crypto_suite *suite;
	struct sa_table *sas;
	struct cookie *cookie;
	struct udp *udp;
	struct cert_store *trust;
	struct cert_own *own;
	struct pool **pools; /* parallel to cfg->pools */
	struct dataplane *dp;
	struct jobs jobs;     /* expensive crypto (inline today) */
	bool force_encap;     /* fake NAT detection so clients send ESP in UDP (userspace DP) */
	struct frag_budget frag_budget; /* reassembly memory over all SAs */
	struct frag_limits frag_lim;
	uint8_t *certreq;     /* CERTREQ data: SHA-1 of each trusted CA's public key */
	size_t certreq_len;
	gw_send_fn *send;
	void *send_arg;
	time_t fixed_time;   /* certificate checks at this time when non-zero (tests) */
	uint32_t next_sa_id;
	uint32_t next_reqid;
	size_t half_open_max;     /* new IKE_SA_INITs are dropped above this */
	size_t cookie_threshold;  /* half-open SAs above which COOKIEs are required */
	uint64_t started_ms;
	struct loop_timer cookie_timer; /* rotates the cookie secret */
	struct gw_counters ctr;
	/* EAP (issue 5): set up in gw_init from users: and radius:, freed in gw_fini. */
	struct radius_client *radius;   /* NULL without radius.servers */
	struct mschapv2_ctx *mschapv2;  /* NULL without users: or without MD4/DES */
};

/* Everything but the sockets: config, crypto, trust, credentials, pools, SA table. */
int gw_init(struct gw *gw, struct config *cfg, const struct loop_clock *clock, FILE *logf);
/* Deletes every SA (sending Delete when say_goodbye) and frees what gw owns. */
void gw_fini(struct gw *gw, bool say_goodbye);
/* Open the UDP sockets and hook them to the loop and to ike_recv(). */
int gw_listen(struct gw *gw);
time_t gw_time(const struct gw *gw);
/* Append the CERTREQ hashes (SHA-1 of each SubjectPublicKeyInfo) of the CAs in a PEM file. */
int gw_certreq_add(const struct gw *gw, const char *ca_path, uint8_t **buf, size_t *len);
struct ip_prefix;
struct config_prefix;
void gw_prefix_from_config(struct ip_prefix *out, const struct config_prefix *in);

/* Entry point for every IKE datagram (the non-ESP marker already stripped). */
void ike_recv(struct gw *gw, const struct sockaddr_storage *local,
	      const struct sockaddr_storage *peer, bool natt, const uint8_t *msg, size_t len);

#endif
