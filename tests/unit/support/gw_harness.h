/* SPDX-License-Identifier: ISC */
/*
 * The responder in process, for the exchange and lifecycle tests: a struct gw built from
 * tests/data/exchange/gw.yaml with a fake clock, a fixed certificate-check time, no
 * sockets, its send hook capturing every datagram, its log in memory, and optionally a
 * recording fake dataplane.  The client side is support/ike_initiator.c.
 */
#ifndef IKEGW_TEST_GW_HARNESS_H
#define IKEGW_TEST_GW_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "ikegw/config.h"
#include "ikegw/dataplane.h"
#include "ikegw/gw.h"
#include "ikegw/loop.h"

/* 2030-01-01T00:00:00Z: inside the validity of every test certificate but the expired. */
#define GWH_AT ((time_t)1893456000)
#define GWH_MAX_SENT 64
#define GWH_MAX_REC 8

struct gwh_sent {
	uint8_t *msg;
	size_t len;
};

/* The recording fake dataplane: what the responder installed and removed, and the
 * counters the test wants every pair to report. */
struct gwh_rec_dp {
	struct dataplane dp;
	struct dp_child added[GWH_MAX_REC];
	size_t n_added;
	uint32_t deleted[GWH_MAX_REC];
	size_t n_deleted;
	uint64_t last_use_ms;
	uint64_t last_in_ms;
	uint64_t bytes_in;
};

struct gw_harness {
	struct gw gw;
	struct config *cfg;
	uint64_t now;
	struct loop_clock clock;
	struct gwh_sent out[GWH_MAX_SENT];
	size_t n_out;
	FILE *log;
	char *logbuf;
	size_t loglen;
	struct gwh_rec_dp rec; /* gw.dp points here when set up with_dp */
	struct sockaddr_storage gw_addr, cl_addr;
};

/* tests/data/REL under $IKEGW_TOP (tests/run.sh exports it), or under ".". */
const char *gwh_data_path(char *buf, size_t len, const char *rel);
/* An IPv4 address and port (the test fails on a bad literal). */
void gwh_set_addr(struct sockaddr_storage *ss, const char *ip, uint16_t port);
void gwh_setup(struct gw_harness *x, bool with_dp);
void gwh_teardown(struct gw_harness *x);
/* Hand one datagram to the gateway; returns how many it sent back. */
size_t gwh_deliver(struct gw_harness *x, const uint8_t *msg, size_t len);
const struct gwh_sent *gwh_last(struct gw_harness *x);
bool gwh_log_has(struct gw_harness *x, const char *s);
bool gwh_rec_deleted(const struct gw_harness *x, uint32_t reqid);

#endif
