/* SPDX-License-Identifier: ISC */
/*
 * Traffic selectors as plain values, and the responder's narrowing (RFC 7296 2.9).
 *
 * Independent of the wire codec: the responder converts decoded TS payloads into
 * struct ts and back.  Also home of the small address/prefix value types that the
 * pool and CP modules share (they belong to no wire format either).
 */
#ifndef IKEGW_TS_H
#define IKEGW_TS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* family is AF_INET or AF_INET6; IPv4 uses bytes[0..3], the rest stays zero. */
struct ip_addr {
	uint8_t family;
	uint8_t bytes[16];
};

struct ip_prefix {
	struct ip_addr addr;
	uint8_t len;
};

/* "10.0.0.1" / "fd00::1".  -EINVAL when it is neither. */
int ts_parse_addr(const char *text, struct ip_addr *out);
/* "10.0.0.0/8", "::/0"; a bare address is a host prefix.  Host bits are cleared. */
int ts_parse_prefix(const char *text, struct ip_prefix *out);
bool ts_addr_equal(const struct ip_addr *a, const struct ip_addr *b);
/* Address size in bytes for a family: 4, 16, or 0 when unknown. */
size_t ts_addr_len(int family);

#define TS_PROTO_ANY 0
/* RFC 7296 3.13.1: start port 65535 with end port 0 means OPAQUE. */
#define TS_PORT_OPAQUE_START 65535
#define TS_PORT_OPAQUE_END 0

struct ts {
	uint8_t type;  /* IKEV2_TS_IPV4_ADDR_RANGE or IKEV2_TS_IPV6_ADDR_RANGE */
	uint8_t proto; /* IP protocol number, TS_PROTO_ANY = all */
	uint16_t start_port, end_port;
	uint8_t start[16], end[16]; /* big-endian, inclusive; IPv4 in the first 4 bytes */
};

/* Bounded result lists: narrowing never grows past this, it truncates (and says so). */
#define TS_LIST_MAX 16

struct ts_list {
	size_t n;
	bool truncated;
	struct ts ts[TS_LIST_MAX];
};

/* The whole prefix, every protocol and port.  -EINVAL on bad family or length. */
int ts_from_prefix(const struct ip_prefix *p, struct ts *out);
/* A single address (/32 or /128), every protocol and port. */
int ts_from_addr(const struct ip_addr *a, struct ts *out);
/* AF_INET / AF_INET6 for a known TS type, else 0. */
int ts_family(const struct ts *ts);
/* 0 when type is known and start <= end; -EINVAL otherwise. */
int ts_check(const struct ts *ts);
/* a ∩ b (addresses, ports, protocol).  False when empty or of different families. */
bool ts_intersect(const struct ts *a, const struct ts *b, struct ts *out);
/* True when every packet matching inner also matches outer. */
bool ts_contains(const struct ts *outer, const struct ts *inner);
/*
 * Cover the address range of ts with CIDR prefixes (what XFRM selectors take).
 * -ENOBUFS when cap is too small (at most 2 * address bits are ever needed).
 */
int ts_split_prefixes(const struct ts *ts, struct ip_prefix *out, size_t cap, size_t *n);

/* What the responder narrows: the client's proposal and the profile's policy. */
struct ts_narrow_req {
	const struct ts *tsi; /* the client's TSi list, as proposed */
	size_t ntsi;
	const struct ts *tsr; /* the client's TSr list, as proposed */
	size_t ntsr;
	/* Where the client's traffic comes from: its virtual IPs (or, without a
	 * configuration payload, its outer address). */
	const struct ip_addr *vips;
	size_t nvips;
	/* The profile's allowed destinations: 0.0.0.0/0 (full tunnel) or subnets. */
	const struct ts *allowed;
	size_t nallowed;
};

/*
 * RFC 7296 2.9, responder side.  TSi = each VIP intersected with each proposed TSi;
 * TSr = each proposed TSr intersected with each allowed selector.  Results covered by
 * another result are dropped; only families present in both TSi and TSr are kept.
 * Returns 0, or -ENOENT when nothing fits (the caller answers TS_UNACCEPTABLE),
 * -EINVAL on NULL arguments.
 */
int ts_narrow(const struct ts_narrow_req *req, struct ts_list *tsi, struct ts_list *tsr);

#endif
