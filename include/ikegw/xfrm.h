/* SPDX-License-Identifier: ISC */
/*
 * The kernel XFRM dataplane: ESP SAs and policies over NETLINK_XFRM (libmnl).
 *
 * Two halves.  xfrm_msg.c holds pure builders and parsers (one small function per
 * attribute group; no sockets, unit-tested by parsing back with libmnl).  xfrm.c owns the
 * netlink sockets, the ack handling, the ops table, expire/acquire events and the probe.
 *
 * Ownership of kernel state: a reqid range, not a mark.  Every SA and every policy
 * template ikegw installs carries a kernel reqid XFRM_REQID_TAG | k (24-bit k: the
 * dataplane's reqid must fit).  k is the pair's own dataplane reqid, except that a
 * rekeyed Child SA (RFC 7296 2.8: the same selectors) shares its predecessor's k, so the
 * policies never change during a rekey and the kernel's inbound check (the SA's reqid
 * must be the template's) passes packets on the old and the new SA alike; outbound the
 * kernel takes the newest SA of that reqid.  The dataplane reqid stays the key of a pair.  A mark would have been the other tag, but a mark on an SA or a
 * policy changes which packets match it (only packets with that skb mark do), so it would
 * need nftables rules to set the mark and would silently stop matching without them.  A
 * reqid only binds a policy template to its SAs, so it is invisible to packet matching and
 * safe as a label: on start, and on flush, we dump SAs (XFRM_MSG_GETSA) and policies
 * (XFRM_MSG_GETPOLICY) and delete exactly the entries whose reqid is in our range, leaving
 * anything another IKE daemon or an administrator installed alone.  strongSwan and
 * Libreswan allocate reqids counting up from 1, far below this range.
 *
 * SAs are tunnel mode with an empty selector and XFRM_STATE_AF_UNSPEC: the inner
 * addresses are checked by the in/fwd policies, whose templates name the reqid, so a
 * client's SA can only carry its own virtual IP (a packet from another VIP finds a policy
 * with another reqid and is dropped by the kernel's policy check).
 */
#ifndef IKEGW_XFRM_H
#define IKEGW_XFRM_H

#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ikegw/dataplane.h"

#define XFRM_REQID_TAG 0x49000000u
#define XFRM_REQID_MASK 0xff000000u
#define XFRM_REQID_MAX 0x00ffffffu
/* The reqid the probe's throwaway SA uses: in our range, so a leftover is flushed. */
#define XFRM_REQID_PROBE (XFRM_REQID_TAG | XFRM_REQID_MAX)

/* Large enough for any one request we build (two algorithms, encap, replay, tmpl). */
#define XFRM_MSG_BUFSIZE 2048

/*
 * Policy priorities: lower wins in the kernel.  More specific selectors get lower
 * numbers (base + 256 - (prefix_s + prefix_d)), so a split-tunnel /24 beats a /0.
 */
#define XFRM_PRIO_BASE 20000u

static inline uint32_t xfrm_reqid_tag(uint32_t reqid)
{
	return XFRM_REQID_TAG | (reqid & XFRM_REQID_MAX);
}

static inline bool xfrm_reqid_owned(uint32_t kernel_reqid)
{
	return (kernel_reqid & XFRM_REQID_MASK) == XFRM_REQID_TAG;
}

/* One ESP SA, one direction, as the kernel will see it.  reqid is already tagged. */
struct xfrm_sa_spec {
	const struct dp_sa *sa;
	const struct sockaddr_storage *src, *dst; /* outer addresses; ports used when encap */
	bool encap;                               /* RFC 3948 ESP in UDP */
	uint32_t reqid;
	uint32_t soft_s, hard_s;                  /* 0 = no limit */
	uint32_t replay_window;                   /* packets */
};

/* One policy.  For OUT: src = subnet, dst = VIP, tmpl us -> client; IN/FWD the reverse. */
struct xfrm_pol_spec {
	uint8_t dir;                                        /* XFRM_POLICY_IN/OUT/FWD */
	const struct dp_prefix *src, *dst;                  /* inner selector */
	const struct sockaddr_storage *tmpl_src, *tmpl_dst; /* outer tunnel endpoints */
	uint32_t reqid;                                     /* tagged */
};

/* The kernel's names and sizes for an IKEv2 transform (RFC 7296 3.3.2 ids). */
struct xfrm_alg {
	const char *name;
	uint16_t key_bits;   /* as the kernel counts it: key plus salt/nonce */
	uint16_t icv_bits;   /* AEAD ICV, or the HMAC truncation */
};

/* Encryption (AEAD or cipher) for an SA: -ENOTSUP for an id we do not map, -EINVAL
 * when the key length does not fit the transform. */
int xfrm_alg_encr(const struct dp_sa *sa, struct xfrm_alg *out, bool *aead);
int xfrm_alg_integ(const struct dp_sa *sa, struct xfrm_alg *out);

/*
 * Builders.  Each writes one complete netlink request into buf (len bytes, at least
 * XFRM_MSG_BUFSIZE for SAs) and returns 0, or a negative errno (-ENOBUFS when it does not
 * fit, -EINVAL / -ENOTSUP for descriptions the kernel cannot take).  The length is in
 * ((struct nlmsghdr *)buf)->nlmsg_len.  NLM_F_ACK is always set.
 */
int xfrm_msg_sa_add(void *buf, size_t len, uint32_t seq, const struct xfrm_sa_spec *s);
/* XFRM_MSG_DELSA or XFRM_MSG_GETSA for the SA (dst, spi) (spi in host order). */
int xfrm_msg_sa_id(void *buf, size_t len, uint32_t seq, uint16_t type,
		   const struct sockaddr_storage *dst, uint32_t spi);
/* XFRM_MSG_NEWPOLICY, or XFRM_MSG_UPDPOLICY (insert or replace) when update. */
/* XFRM_MSG_DELSA by an id a dump gave us. */
int xfrm_msg_sa_del_id(void *buf, size_t len, uint32_t seq, const struct xfrm_usersa_id *id);
int xfrm_msg_policy_add(void *buf, size_t len, uint32_t seq, const struct xfrm_pol_spec *p,
			bool update);
int xfrm_msg_policy_del(void *buf, size_t len, uint32_t seq, const struct xfrm_pol_spec *p);
/* Delete by the kernel's policy index (what a dump gives us). */
int xfrm_msg_policy_del_index(void *buf, size_t len, uint32_t seq, uint32_t index,
			      uint8_t dir);
/* A dump request: type XFRM_MSG_GETSA or XFRM_MSG_GETPOLICY. */
int xfrm_msg_dump(void *buf, size_t len, uint32_t seq, uint16_t type);
/*
 * Peer moved: rewrite an SA as the kernel reported it (a GETSA reply) into a request of
 * type XFRM_MSG_NEWSA or XFRM_MSG_UPDSA with new outer addresses and encap ports, keeping
 * its keys, replay state and lifetime counters (the peer's replay window must not see
 * sequence numbers start again).
 */
int xfrm_msg_sa_move(void *buf, size_t len, uint32_t seq, uint16_t type,
		     const struct nlmsghdr *got, const struct sockaddr_storage *src,
		     const struct sockaddr_storage *dst, bool encap);

/* Parsers of what the kernel sends (libmnl-validated; never trust lengths). */

/* An NLMSG_ERROR: returns its error (0 = ack), copies the extended-ack text if any. */
int xfrm_msg_parse_ack(const struct nlmsghdr *nlh, char *text, size_t text_len);

struct xfrm_expire {
	uint32_t reqid;      /* as in the kernel: tagged */
	uint32_t spi;        /* host order */
	bool hard;
};
/* XFRM_MSG_EXPIRE: 0, or -EINVAL when malformed. */
int xfrm_msg_parse_expire(const struct nlmsghdr *nlh, struct xfrm_expire *out);
/* XFRM_MSG_ACQUIRE: the reqid of the policy's first template. */
int xfrm_msg_parse_acquire(const struct nlmsghdr *nlh, uint32_t *reqid);

struct xfrm_sa_stats {
	uint32_t reqid;
	uint64_t bytes, packets;
	uint32_t replay_drops, auth_drops;
	uint64_t last_used_s;  /* wall clock seconds, 0 = never */
	struct xfrm_usersa_id id;
};
/* An SA as GETSA (or a dump) reports it. */
int xfrm_msg_parse_sa(const struct nlmsghdr *nlh, struct xfrm_sa_stats *out);
/*
 * dp_counters of a pair from its two SAs' stats: last_use_ms from the later of the two
 * last uses, last_in_ms from the inbound SA's, both turned from the kernel's wall-clock
 * seconds (now_s = time(NULL)) into the loop clock (now_ms); 0 = never used.
 */
void xfrm_msg_counters(const struct xfrm_sa_stats *in, const struct xfrm_sa_stats *out,
		       uint64_t now_s, uint64_t now_ms, struct dp_counters *c);
/* A policy from a dump: its delete id and the reqid of its first template (0 if none). */
int xfrm_msg_parse_policy(const struct nlmsghdr *nlh, struct xfrm_userpolicy_id *id,
			  uint32_t *reqid);

/*
 * The backend.  dp_xfrm_new opens the request and event sockets, deletes what a previous
 * ikegwd left (our reqid range only) and subscribes to XFRMNLGRP_EXPIRE and
 * XFRMNLGRP_ACQUIRE.  loop (may be NULL) turns the kernel's last-use times into loop
 * clock values for dp_counters.last_use_ms.  NULL on failure (logged, errno set).
 *
 * child_add picks the kernel reqid, installs the two SAs with it, then the policies for
 * every (VIP, subnet) pair of the same family (xfrm_policies_add); on any failure it
 * removes what it added and returns the kernel's errno.  child_del deletes the pair's
 * SAs by SPI and drops its policy references.  child_update_peer moves every pair of the
 * same kernel reqid (an older generation in its overlap too) and the policy templates.
 * Expiry: the kernel reports soft and hard expiry per SA, so on_expire may be called once
 * for each direction of a pair; callers treat repeats as one.  Acquires (traffic on an
 * out policy with no SA: we never initiate) are only logged.
 */
struct log;
struct loop;
struct dataplane *dp_xfrm_new(struct log *lg, struct loop *loop);
int dp_xfrm_fd(struct dataplane *dp);          /* the event socket, for EPOLLIN */
void dp_xfrm_read(struct dataplane *dp);       /* drain it; calls dp->on_expire */
/*
 * Policies alone, with the kernel reqid choice (child_add uses them; public so a
 * namespace test can check them on a kernel without ESP).  Reference-counted per
 * (selector, direction), see xfrm_pol.h.  add: when every policy of c already exists and
 * names one kernel reqid whose users have exactly c's selectors (a rekey), c shares that
 * kernel reqid and the kernel is told nothing; otherwise c gets its own (its reqid, or a
 * free one if that number is still another lineage's kernel reqid) and an overlapping
 * policy is repointed at it.  -EEXIST when c->reqid already has policies (nothing is left
 * half-added).  del: drops c's references; a policy goes with its last user and keeps
 * its kernel reqid while any remaining user has it (else names the newest remaining).
 */
int xfrm_policies_add(struct dataplane *dp, const struct dp_child *c);
int xfrm_policies_del(struct dataplane *dp, const struct dp_child *c);
/* The kernel reqid (untagged) a dataplane reqid's SAs and policies use; 0 = none. */
uint32_t xfrm_policies_kreqid(struct dataplane *dp, uint32_t reqid);

/*
 * Does this kernel do ESP?  Adds a throwaway SA (TEST-NET-3 addresses that are nowhere
 * local, an SPI we never allocate, no policy points at it) and deletes it at once.
 * 0 = yes; otherwise the negative errno, and why gets the kernel's answer, e.g.
 * "kernel has no ESP support: Requested type not found (-EPROTONOSUPPORT)".
 */
int xfrm_probe(char *why, size_t len);

/* Per-socket policy bypass (both directions) so IKE packets never get ESP-protected. */
int xfrm_socket_bypass(int fd, int family);
/* UDP_ENCAP_ESPINUDP on the NAT-T socket: the kernel takes ESP off it (RFC 3948). */
int xfrm_socket_encap(int fd);

#endif
