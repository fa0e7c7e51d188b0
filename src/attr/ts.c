/* SPDX-License-Identifier: ISC */
/*
 * Traffic selectors: plain-value arithmetic and the responder's narrowing.
 * Addresses are big-endian byte arrays so that memcmp() orders them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ikegw/ikev2.h"
#include "ikegw/ts.h"

size_t ts_addr_len(int family)
{
	if (family == AF_INET)
		return 4;
	if (family == AF_INET6)
		return 16;
	return 0;
}

int ts_parse_addr(const char *text, struct ip_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (!text)
		return -EINVAL;
	if (inet_pton(AF_INET, text, out->bytes) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, out->bytes) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

/* Clear every bit past the first plen (the host part). */
static void addr_mask(uint8_t *a, size_t alen, unsigned plen)
{
	for (size_t i = 0; i < alen; i++) {
		unsigned keep = plen >= 8 * (i + 1) ? 8 : (plen > 8 * i ? plen - 8 * i : 0);

		a[i] &= (uint8_t)(0xff00u >> keep);
	}
}

/* Set every bit past the first plen. */
static void addr_fill(uint8_t *a, size_t alen, unsigned plen)
{
	for (size_t i = 0; i < alen; i++) {
		unsigned keep = plen >= 8 * (i + 1) ? 8 : (plen > 8 * i ? plen - 8 * i : 0);

		a[i] |= (uint8_t)(0xffu >> keep);
	}
}

static int parse_plen(const char *s, unsigned max, unsigned *plen)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > (long)max)
		return -EINVAL;
	*plen = (unsigned)v;
	return 0;
}

int ts_parse_prefix(const char *text, struct ip_prefix *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	unsigned plen;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!text || strlen(text) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	rc = ts_parse_addr(buf, &out->addr);
	if (rc)
		return rc;
	plen = 8 * (unsigned)ts_addr_len(out->addr.family);
	if (slash && parse_plen(slash + 1, plen, &plen))
		return -EINVAL;
	out->len = (uint8_t)plen;
	addr_mask(out->addr.bytes, ts_addr_len(out->addr.family), plen);
	return 0;
}

bool ts_addr_equal(const struct ip_addr *a, const struct ip_addr *b)
{
	size_t len = ts_addr_len(a->family);

	return a->family == b->family && len && !memcmp(a->bytes, b->bytes, len);
}

int ts_family(const struct ts *ts)
{
	if (ts->type == IKEV2_TS_IPV4_ADDR_RANGE)
		return AF_INET;
	if (ts->type == IKEV2_TS_IPV6_ADDR_RANGE)
		return AF_INET6;
	return 0;
}

static size_t ts_alen(const struct ts *ts)
{
	return ts_addr_len(ts_family(ts));
}

int ts_from_prefix(const struct ip_prefix *p, struct ts *out)
{
	size_t alen = ts_addr_len(p->addr.family);

	memset(out, 0, sizeof(*out));
	if (!alen || p->len > 8 * alen)
		return -EINVAL;
	out->type = p->addr.family == AF_INET ? IKEV2_TS_IPV4_ADDR_RANGE
					      : IKEV2_TS_IPV6_ADDR_RANGE;
	out->proto = TS_PROTO_ANY;
	out->start_port = 0;
	out->end_port = 65535;
	memcpy(out->start, p->addr.bytes, alen);
	addr_mask(out->start, alen, p->len);
	memcpy(out->end, out->start, alen);
	addr_fill(out->end, alen, p->len);
	return 0;
}

int ts_from_addr(const struct ip_addr *a, struct ts *out)
{
	struct ip_prefix p = { .addr = *a, .len = (uint8_t)(8 * ts_addr_len(a->family)) };

	return ts_from_prefix(&p, out);
}

int ts_check(const struct ts *ts)
{
	size_t alen = ts_alen(ts);

	if (!alen || memcmp(ts->start, ts->end, alen) > 0)
		return -EINVAL;
	return 0;
}

static bool ports_opaque(const struct ts *t)
{
	return t->start_port == TS_PORT_OPAQUE_START && t->end_port == TS_PORT_OPAQUE_END;
}

static bool ports_all(const struct ts *t)
{
	return t->start_port == 0 && t->end_port == 65535;
}

/*
 * RFC 7296 3.13.1 / RFC 4301 4.4.1.1: OPAQUE only meets OPAQUE or "any port";
 * otherwise port ranges intersect as intervals (ICMP type/code packed the same way).
 */
static bool ports_intersect(const struct ts *a, const struct ts *b, struct ts *out)
{
	if (ports_opaque(a) || ports_opaque(b)) {
		if (!(ports_opaque(a) || ports_all(a)) || !(ports_opaque(b) || ports_all(b)))
			return false;
		out->start_port = TS_PORT_OPAQUE_START;
		out->end_port = TS_PORT_OPAQUE_END;
		return true;
	}
	out->start_port = a->start_port > b->start_port ? a->start_port : b->start_port;
	out->end_port = a->end_port < b->end_port ? a->end_port : b->end_port;
	return out->start_port <= out->end_port;
}

static bool proto_intersect(uint8_t a, uint8_t b, uint8_t *out)
{
	if (a != TS_PROTO_ANY && b != TS_PROTO_ANY && a != b)
		return false;
	*out = a != TS_PROTO_ANY ? a : b;
	return true;
}

bool ts_intersect(const struct ts *a, const struct ts *b, struct ts *out)
{
	size_t alen = ts_alen(a);
	struct ts r;

	if (!alen || a->type != b->type || ts_check(a) || ts_check(b))
		return false;
	memset(&r, 0, sizeof(r));
	r.type = a->type;
	if (!proto_intersect(a->proto, b->proto, &r.proto) || !ports_intersect(a, b, &r))
		return false;
	memcpy(r.start, memcmp(a->start, b->start, alen) > 0 ? a->start : b->start, alen);
	memcpy(r.end, memcmp(a->end, b->end, alen) < 0 ? a->end : b->end, alen);
	if (memcmp(r.start, r.end, alen) > 0)
		return false;
	*out = r;
	return true;
}

bool ts_contains(const struct ts *outer, const struct ts *inner)
{
	size_t alen = ts_alen(inner);
	struct ts x;

	if (!ts_intersect(outer, inner, &x))
		return false;
	return x.proto == inner->proto && x.start_port == inner->start_port &&
	       x.end_port == inner->end_port && !memcmp(x.start, inner->start, alen) &&
	       !memcmp(x.end, inner->end, alen);
}

/* True when the host part (bits past plen) of a is all zero. */
static bool addr_aligned(const uint8_t *a, size_t alen, unsigned plen)
{
	uint8_t m[16];

	memcpy(m, a, alen);
	addr_mask(m, alen, plen);
	return !memcmp(m, a, alen);
}

/* a += 1; false on wrap-around past the top of the address space. */
static bool addr_inc(uint8_t *a, size_t alen)
{
	for (size_t i = alen; i-- > 0;)
		if (++a[i] != 0)
			return true;
	return false;
}

/* The shortest prefix starting at start that ends at or before end. */
static unsigned largest_block(const uint8_t *start, const uint8_t *end, size_t alen)
{
	unsigned bits = (unsigned)(8 * alen), plen;
	uint8_t last[16];

	for (plen = 0; plen < bits; plen++) {
		if (!addr_aligned(start, alen, plen))
			continue;
		memcpy(last, start, alen);
		addr_fill(last, alen, plen);
		if (memcmp(last, end, alen) <= 0)
			break;
	}
	return plen;
}

int ts_split_prefixes(const struct ts *ts, struct ip_prefix *out, size_t cap, size_t *n)
{
	size_t alen = ts_alen(ts);
	uint8_t cur[16];

	*n = 0;
	if (ts_check(ts))
		return -EINVAL;
	memcpy(cur, ts->start, alen);
	for (;;) {
		unsigned plen = largest_block(cur, ts->end, alen);

		if (*n == cap)
			return -ENOBUFS;
		memset(&out[*n], 0, sizeof(out[*n]));
		out[*n].addr.family = (uint8_t)ts_family(ts);
		memcpy(out[*n].addr.bytes, cur, alen);
		out[*n].len = (uint8_t)plen;
		(*n)++;
		addr_fill(cur, alen, plen);
		if (!memcmp(cur, ts->end, alen) || !addr_inc(cur, alen))
			return 0;
	}
}

/* Append x unless an entry already covers it; entries x covers are dropped. */
static void list_add(struct ts_list *l, const struct ts *x)
{
	size_t w = 0;

	for (size_t i = 0; i < l->n; i++)
		if (ts_contains(&l->ts[i], x))
			return;
	for (size_t i = 0; i < l->n; i++)
		if (!ts_contains(x, &l->ts[i]))
			l->ts[w++] = l->ts[i];
	l->n = w;
	if (l->n == TS_LIST_MAX) {
		l->truncated = true;
		return;
	}
	l->ts[l->n++] = *x;
}

static bool list_has_family(const struct ts_list *l, int family)
{
	for (size_t i = 0; i < l->n; i++)
		if (ts_family(&l->ts[i]) == family)
			return true;
	return false;
}

/* Keep only selectors whose family also appears in other: one SA, paired policies. */
static void list_keep_families(struct ts_list *l, const struct ts_list *other)
{
	size_t w = 0;

	for (size_t i = 0; i < l->n; i++)
		if (list_has_family(other, ts_family(&l->ts[i])))
			l->ts[w++] = l->ts[i];
	l->n = w;
}

static void narrow_tsi(const struct ts_narrow_req *req, struct ts_list *out)
{
	struct ts vip, x;

	for (size_t v = 0; v < req->nvips; v++) {
		if (ts_from_addr(&req->vips[v], &vip))
			continue;
		for (size_t i = 0; i < req->ntsi; i++)
			if (ts_intersect(&vip, &req->tsi[i], &x))
				list_add(out, &x);
	}
}

static void narrow_tsr(const struct ts_narrow_req *req, struct ts_list *out)
{
	struct ts x;

	for (size_t i = 0; i < req->ntsr; i++)
		for (size_t a = 0; a < req->nallowed; a++)
			if (ts_intersect(&req->tsr[i], &req->allowed[a], &x))
				list_add(out, &x);
}

int ts_narrow(const struct ts_narrow_req *req, struct ts_list *tsi, struct ts_list *tsr)
{
	if (!req || !tsi || !tsr || (req->ntsi && !req->tsi) || (req->ntsr && !req->tsr) ||
	    (req->nvips && !req->vips) || (req->nallowed && !req->allowed))
		return -EINVAL;
	memset(tsi, 0, sizeof(*tsi));
	memset(tsr, 0, sizeof(*tsr));
	narrow_tsi(req, tsi);
	narrow_tsr(req, tsr);
	list_keep_families(tsi, tsr);
	list_keep_families(tsr, tsi);
	if (tsi->n == 0 || tsr->n == 0)
		return -ENOENT;
	return 0;
}
