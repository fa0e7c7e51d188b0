/* SPDX-License-Identifier: ISC */
/*
 * Configuration payload attributes (RFC 7296 3.15.1, RFC 8598): what a client asks
 * for in CFG_REQUEST, and the CFG_REPLY list we answer with.  Independent of the
 * wire codec: values are plain bytes; the codec's CP encoder writes the list as is.
 *
 * What a reply contains:
 *  - INTERNAL_IP4_ADDRESS / INTERNAL_IP6_ADDRESS: the leased address, only when the
 *    client asked for that family.  IPv6 is 16 bytes + prefix length 128.
 *  - INTERNAL_IP4_NETMASK 255.255.255.255, with every IPv4 address: the virtual IP is
 *    a host address.  A pool-wide mask (e.g. /24) would make clients add an on-link
 *    route for the pool, sending traffic for other clients' addresses nowhere useful;
 *    routing comes from the traffic selectors and the subnet attributes instead.
 *  - INTERNAL_IP4_DNS / INTERNAL_IP6_DNS: the servers of a family, when the client asked
 *    for that DNS family or was given an address of that family (a server of a family
 *    the client has no tunnel address for is unreachable, so it is not sent).
 *  - INTERNAL_DNS_DOMAIN (RFC 8598), one per domain, text without a trailing dot, only
 *    when the reply carries at least one DNS server: the domains say which names those
 *    servers resolve.  Sent in full-tunnel setups too: RFC 8598 scopes split DNS to
 *    split tunnels, and full-tunnel clients ignore them (they use our servers anyway).
 *  - INTERNAL_IP4_SUBNET (address + netmask) / INTERNAL_IP6_SUBNET (address + prefix
 *    length), one per allowed subnet, when asked for or an address of that family was
 *    given; none for a family whose allowed list holds /0 (full tunnel).
 *  - Nothing for what we do not serve: NBNS, DHCP, APPLICATION_VERSION,
 *    SUPPORTED_ATTRIBUTES, DNSSEC_TA, unknown types.  They are left out, never failed.
 */
#ifndef IKEGW_CP_H
#define IKEGW_CP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ikegw/ts.h" /* struct ip_addr, struct ip_prefix */

#define CP_ATTR_VAL_MAX 255 /* a DNS name as text is at most 253 bytes */
#define CP_DOMAIN_MAX 253

struct cp_attr {
	uint16_t type; /* 15-bit attribute type; the reserved top bit is not kept */
	uint16_t len;
	uint8_t val[CP_ATTR_VAL_MAX];
};

struct cp_request {
	uint64_t want;         /* bit t: attribute type t (< 64) was in the request */
	bool has_ip4, has_ip6; /* the client asked for a specific address */
	struct ip_addr ip4, ip6;
	unsigned nmalformed;   /* values of the wrong length (ignored) */
};

void cp_request_init(struct cp_request *req);
/*
 * Note one requested attribute.  val/len is its value as received (may be empty);
 * read through the bounds-checked reader.  A value of the wrong length for its type
 * (RFC 7296 3.15.1: 0 or 4 bytes for INTERNAL_IP4_ADDRESS, 0 or 17 for the IPv6 one)
 * is ignored, the attribute still counts as asked for, and -EBADMSG says so (log it).
 * An all-zero address is "no preference".
 */
int cp_request_add(struct cp_request *req, uint16_t type, const uint8_t *val, size_t len);
/* cp_request_add() over a list; every entry is processed; -EBADMSG if any was malformed. */
int cp_request_parse(struct cp_request *req, const struct cp_attr *attrs, size_t n);
bool cp_request_wants(const struct cp_request *req, uint16_t type);

/* What we have to give this client. */
struct cp_config {
	const struct ip_addr *ip4; /* leased virtual IPs, NULL when none */
	const struct ip_addr *ip6;
	const struct ip_addr *dns; /* servers of either family */
	size_t ndns;
	const char *const *domains; /* RFC 8598 split-DNS domains; one trailing dot is dropped */
	size_t ndomains;
	const struct ip_prefix *subnets; /* the profile's allowed list */
	size_t nsubnets;
};

/*
 * Build the CFG_REPLY attributes into out[cap]; *n gets the count.
 * -ENOBUFS when cap is too small, -EINVAL on a bad config value (an address of the
 * wrong family, an invalid domain name): config validation should have caught it.
 */
int cp_reply_build(const struct cp_request *req, const struct cp_config *cfg,
		   struct cp_attr *out, size_t cap, size_t *n);

/* 0 if name (optionally with one trailing dot) is a valid DNS domain, else -EINVAL. */
int cp_check_domain(const char *name);

#endif
