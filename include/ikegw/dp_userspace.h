/* SPDX-License-Identifier: ISC */
/*
 * The userspace dataplane: ESP in UDP (RFC 3948) on the NAT-T socket, inner packets
 * through a TUN device, for kernels whose XFRM has no ESP transform.
 *
 *   TUN read ─► (source, destination) → Child SA ─► esp_encap ─► sendmmsg on the NAT-T socket
 *   NAT-T ESP ─► SPI → Child SA ─► esp_decap ─► source = VIP, destination in TSr ─► TUN write
 *
 * Every packet is encapsulated (the dp_child encap flag is ignored): the peer must be
 * sending ESP in UDP, so the IKE side has to make it float to port 4500.  One crypto
 * suite and one cipher context per dataplane; per-packet work allocates nothing.
 * Child SAs are found in O(1) by inbound SPI, by reqid, and outbound by VIP: a VIP may
 * have several pairs (RFC 7296 1.3.1 additional Child SAs, each for its own subnets, and
 * the two pairs of a rekey), and a packet leaves by the most recently added pair for its
 * destination whose subnets hold its source, so a rekeyed pair takes over before the old
 * one is deleted; no such pair: dropped, counted in that VIP's newest pair's policy_drops.
 */
#ifndef IKEGW_DP_USERSPACE_H
#define IKEGW_DP_USERSPACE_H

#include <stddef.h>
#include <stdint.h>

#include "ikegw/dataplane.h"

struct loop;
struct udp;
struct log;
struct ip_addr;
struct ip_prefix;

#define DP_US_TUN_DEFAULT "ikegw0"
#define DP_US_TUN_MTU 1400   /* inner MTU: 1400 + ESP + UDP + IPv6 fits 1500 */
#define DP_US_BATCH 64       /* TUN packets read (and sent with one sendmmsg) per wake-up */
#define DP_US_PKT_MAX 4096   /* largest inner packet taken from TUN */

/*
 * Opens /dev/net/tun (IFF_TUN | IFF_NO_PI, tun_name or DP_US_TUN_DEFAULT), sets its MTU,
 * brings it up, routes each prefix in routes (the pools) through it over rtnetlink,
 * sets net.ipv4.ip_forward=1 (logs when it cannot), watches the fd on loop and becomes
 * udp's ESP handler.  NULL on failure (logged).  Needs CAP_NET_ADMIN.
 */
struct dataplane *dp_userspace_new(struct loop *loop, struct udp *udp, const char *tun_name,
				   const struct ip_prefix *routes, size_t n_routes,
				   struct log *lg);

/*
 * The same dataplane over fd standing in for the TUN device (a SOCK_DGRAM socketpair
 * end keeps packet boundaries the way TUN does): no device, routes or sysctl, so it
 * runs unprivileged.  fd is owned (closed by free, also on failure) and watched on
 * loop; udp may be NULL (outbound packets are then counted and dropped).
 */
struct dataplane *dp_userspace_new_fd(struct loop *loop, struct udp *udp, int fd,
				      struct log *lg);

/* The ifindex and name of the TUN device (0 / "" for dp_userspace_new_fd). */
unsigned dp_userspace_ifindex(const struct dataplane *dp);
const char *dp_userspace_ifname(const struct dataplane *dp);

/*
 * The inbound path of one ESP packet (the UDP ESP handler calls it): 0 when written to
 * TUN, else why it was dropped: -ENOENT unknown SPI, -EACCES policy (source not the
 * VIP or destination outside the subnets), the esp_decap() errors, or the write's.
 */
int dp_userspace_esp_input(struct dataplane *dp, const uint8_t *pkt, size_t len);
/*
 * The same with the outer header's TOS / Traffic Class byte (udp_dgram.tos), whose ECN
 * field is applied to the inner packet (RFC 6040 4.2, normal mode: esp_ecn_decap);
 * -ECANCELED (counted in ecn_drops) for outer CE on a Not-ECT inner packet.  Outbound,
 * the inner ECN field is copied into the outer header (4.1).  dp_userspace_esp_input is
 * this with outer Not-ECT.
 */
int dp_userspace_esp_input_tos(struct dataplane *dp, const uint8_t *pkt, size_t len,
			       uint8_t outer_tos);

/* Read and send what waits on the TUN fd, at most DP_US_BATCH packets; returns how many
 * were read.  The loop calls it on readiness; tests call it directly. */
size_t dp_userspace_tun_drain(struct dataplane *dp);

/* Lookups (tests, ikegwctl): 0 and the reqid, or -ENOENT.  find_vip: the newest pair. */
int dp_userspace_find_spi(const struct dataplane *dp, uint32_t spi, uint32_t *reqid);
int dp_userspace_find_vip(const struct dataplane *dp, const struct ip_addr *vip,
			  uint32_t *reqid);
/* The pair a packet src -> dst leaves by: 0, -ENOENT (no pair for dst), -EACCES (pairs for
 * dst, none whose subnets hold src). */
int dp_userspace_find_out(const struct dataplane *dp, const struct ip_addr *src,
			  const struct ip_addr *dst, uint32_t *reqid);
size_t dp_userspace_count(const struct dataplane *dp);

/* Packets that matched no Child SA or could not be sent (not per SA). */
struct dp_us_stats {
	uint64_t tun_in, no_sa_out, no_sa_in, bad_inner, send_errors, tun_write_errors,
		dummy_in, encap_errors, ecn_drops;
};
const struct dp_us_stats *dp_userspace_stats(const struct dataplane *dp);

#endif
