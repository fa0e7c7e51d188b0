/* SPDX-License-Identifier: ISC */
/* Configuration payload attributes: reading a CFG_REQUEST, building a CFG_REPLY. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "ikegw/buf.h"
#include "ikegw/cp.h"
#include "ikegw/ikev2.h"

#define CP_TYPE_MASK 0x7fff /* RFC 7296 3.15.1: the top bit is reserved */
#define CP_IP6_ADDR_LEN 17  /* 16 bytes address + 1 byte prefix length */
#define CP_IP4_SUBNET_LEN 8 /* address + netmask */

void cp_request_init(struct cp_request *req)
{
	memset(req, 0, sizeof(*req));
}

bool cp_request_wants(const struct cp_request *req, uint16_t type)
{
	type &= CP_TYPE_MASK;
	return type < 64 && (req->want & (1ULL << type));
}

static bool bytes_zero(const uint8_t *b, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= b[i];
	return acc == 0;
}

/* A requested address: value empty (any) or exactly alen (+ trailer) bytes. */
static int request_addr(const uint8_t *val, size_t len, int family, size_t wire_len,
			bool *has, struct ip_addr *out)
{
	size_t alen = ts_addr_len(family);
	struct rbuf r;

	if (len == 0)
		return 0;
	if (len != wire_len)
		return -EBADMSG;
	rbuf_init(&r, val, len);
	memset(out, 0, sizeof(*out));
	if (rbuf_copy(&r, out->bytes, alen))
		return -EBADMSG;
	out->family = (uint8_t)family;
	/* The IPv6 prefix-length byte is ours to choose in the reply; ignore it. */
	*has = !bytes_zero(out->bytes, alen);
	return 0;
}

int cp_request_add(struct cp_request *req, uint16_t type, const uint8_t *val, size_t len)
{
	int rc = 0;

	type &= CP_TYPE_MASK;
	if (type < 64)
		req->want |= 1ULL << type;
	if (type == IKEV2_CFG_INTERNAL_IP4_ADDRESS)
		rc = request_addr(val, len, AF_INET, 4, &req->has_ip4, &req->ip4);
	else if (type == IKEV2_CFG_INTERNAL_IP6_ADDRESS)
		rc = request_addr(val, len, AF_INET6, CP_IP6_ADDR_LEN, &req->has_ip6, &req->ip6);
	if (rc)
		req->nmalformed++;
	return rc;
}

int cp_request_parse(struct cp_request *req, const struct cp_attr *attrs, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		/* A length past the array is malformed: never read past val[]. */
		bool fits = attrs[i].len <= CP_ATTR_VAL_MAX;

		if (cp_request_add(req, attrs[i].type, attrs[i].val, fits ? attrs[i].len : 0))
			rc = -EBADMSG;
		if (!fits) {
			req->nmalformed++;
			rc = -EBADMSG;
		}
	}
	return rc;
}

/* ---- the reply ---- */

struct reply {
	struct cp_attr *out;
	size_t cap, n;
	int err;
};

/* Append one attribute; the first failure sticks, like struct wbuf. */
static void reply_add(struct reply *rp, uint16_t type, const void *val, size_t len)
{
	struct cp_attr *a;

	if (rp->err)
		return;
	if (rp->n == rp->cap || len > CP_ATTR_VAL_MAX) {
		rp->err = -ENOBUFS;
		return;
	}
	a = &rp->out[rp->n++];
	memset(a, 0, sizeof(*a));
	a->type = type;
	a->len = (uint16_t)len;
	if (len)
		memcpy(a->val, val, len);
}

static void reply_fail(struct reply *rp, int err)
{
	if (!rp->err)
		rp->err = err;
}

static bool family_wanted(const struct cp_request *req, const struct ip_addr *given,
			  uint16_t attr)
{
	return given || cp_request_wants(req, attr);
}

/* Addresses only answer a request for that family (RFC 7296 2.19: the client asks). */
static void reply_addresses(struct reply *rp, const struct cp_request *req,
			    const struct cp_config *cfg)
{
	static const uint8_t host_mask[4] = { 255, 255, 255, 255 };
	uint8_t v6[CP_IP6_ADDR_LEN];

	if (cfg->ip4 && cfg->ip4->family != AF_INET)
		reply_fail(rp, -EINVAL);
	if (cfg->ip6 && cfg->ip6->family != AF_INET6)
		reply_fail(rp, -EINVAL);
	if (cfg->ip4 && cp_request_wants(req, IKEV2_CFG_INTERNAL_IP4_ADDRESS)) {
		reply_add(rp, IKEV2_CFG_INTERNAL_IP4_ADDRESS, cfg->ip4->bytes, 4);
		reply_add(rp, IKEV2_CFG_INTERNAL_IP4_NETMASK, host_mask, 4);
	}
	if (cfg->ip6 && cp_request_wants(req, IKEV2_CFG_INTERNAL_IP6_ADDRESS)) {
		memcpy(v6, cfg->ip6->bytes, 16);
		v6[16] = 128;
		reply_add(rp, IKEV2_CFG_INTERNAL_IP6_ADDRESS, v6, sizeof(v6));
	}
}

/* Only addresses actually put in this reply count as "given". */
static const struct ip_addr *given_addr(const struct cp_request *req,
					const struct ip_addr *a, uint16_t attr)
{
	return a && cp_request_wants(req, attr) ? a : NULL;
}

static size_t reply_dns(struct reply *rp, const struct cp_request *req,
			const struct cp_config *cfg)
{
	const struct ip_addr *g4 = given_addr(req, cfg->ip4, IKEV2_CFG_INTERNAL_IP4_ADDRESS);
	const struct ip_addr *g6 = given_addr(req, cfg->ip6, IKEV2_CFG_INTERNAL_IP6_ADDRESS);
	bool want4 = family_wanted(req, g4, IKEV2_CFG_INTERNAL_IP4_DNS);
	bool want6 = family_wanted(req, g6, IKEV2_CFG_INTERNAL_IP6_DNS);
	size_t sent = 0;

	for (size_t i = 0; i < cfg->ndns; i++) {
		const struct ip_addr *d = &cfg->dns[i];

		if (d->family == AF_INET) {
			if (!want4)
				continue;
			reply_add(rp, IKEV2_CFG_INTERNAL_IP4_DNS, d->bytes, 4);
		} else if (d->family == AF_INET6) {
			if (!want6)
				continue;
			reply_add(rp, IKEV2_CFG_INTERNAL_IP6_DNS, d->bytes, 16);
		} else {
			reply_fail(rp, -EINVAL);
			continue;
		}
		sent++;
	}
	return sent;
}

static bool label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* Length of the name without one trailing dot, or 0 when it is not a valid name. */
static size_t domain_len(const char *name)
{
	size_t len = name ? strnlen(name, CP_DOMAIN_MAX + 2) : 0, label = 0;

	if (len && name[len - 1] == '.')
		len--;
	if (len == 0 || len > CP_DOMAIN_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '.') {
			if (label == 0 || name[i - 1] == '-')
				return 0;
			label = 0;
		} else if (!label_char(name[i]) || ++label > 63 || (label == 1 && name[i] == '-')) {
			return 0;
		}
	}
	return label == 0 || name[len - 1] == '-' ? 0 : len;
}

int cp_check_domain(const char *name)
{
	return domain_len(name) ? 0 : -EINVAL;
}

/* RFC 8598: the domain as text, no trailing dot, one attribute per domain. */
static void reply_domains(struct reply *rp, const struct cp_config *cfg)
{
	for (size_t i = 0; i < cfg->ndomains; i++) {
		size_t len = domain_len(cfg->domains[i]);

		if (!len)
			reply_fail(rp, -EINVAL);
		else
			reply_add(rp, IKEV2_CFG_INTERNAL_DNS_DOMAIN, cfg->domains[i], len);
	}
}

static bool full_tunnel(const struct cp_config *cfg, int family)
{
	for (size_t i = 0; i < cfg->nsubnets; i++)
		if (cfg->subnets[i].addr.family == family && cfg->subnets[i].len == 0)
			return true;
	return false;
}

static void subnet_value(const struct ip_prefix *p, uint8_t *v, size_t *len)
{
	uint32_t mask;
	struct ts t;

	ts_from_prefix(p, &t); /* t.start: the network address, host bits cleared */
	if (p->addr.family == AF_INET6) {
		memcpy(v, t.start, 16);
		v[16] = p->len;
		*len = CP_IP6_ADDR_LEN;
		return;
	}
	mask = p->len ? 0xffffffffu << (32 - p->len) : 0;
	memcpy(v, t.start, 4);
	v[4] = (uint8_t)(mask >> 24);
	v[5] = (uint8_t)(mask >> 16);
	v[6] = (uint8_t)(mask >> 8);
	v[7] = (uint8_t)mask;
	*len = CP_IP4_SUBNET_LEN;
}

static void reply_subnets_of(struct reply *rp, const struct cp_config *cfg, int family,
			     uint16_t attr)
{
	uint8_t v[CP_IP6_ADDR_LEN];
	size_t len;

	if (full_tunnel(cfg, family))
		return;
	for (size_t i = 0; i < cfg->nsubnets; i++) {
		const struct ip_prefix *p = &cfg->subnets[i];

		if (p->addr.family != family)
			continue;
		if (p->len > 8 * ts_addr_len(family)) {
			reply_fail(rp, -EINVAL);
			continue;
		}
		subnet_value(p, v, &len);
		reply_add(rp, attr, v, len);
	}
}

static void reply_subnets(struct reply *rp, const struct cp_request *req,
			  const struct cp_config *cfg)
{
	const struct ip_addr *g4 = given_addr(req, cfg->ip4, IKEV2_CFG_INTERNAL_IP4_ADDRESS);
	const struct ip_addr *g6 = given_addr(req, cfg->ip6, IKEV2_CFG_INTERNAL_IP6_ADDRESS);

	if (family_wanted(req, g4, IKEV2_CFG_INTERNAL_IP4_SUBNET))
		reply_subnets_of(rp, cfg, AF_INET, IKEV2_CFG_INTERNAL_IP4_SUBNET);
	if (family_wanted(req, g6, IKEV2_CFG_INTERNAL_IP6_SUBNET))
		reply_subnets_of(rp, cfg, AF_INET6, IKEV2_CFG_INTERNAL_IP6_SUBNET);
}

int cp_reply_build(const struct cp_request *req, const struct cp_config *cfg,
		   struct cp_attr *out, size_t cap, size_t *n)
{
	struct reply rp = { .out = out, .cap = cap };

	*n = 0;
	if (!req || !cfg || (cap && !out) || (cfg->ndns && !cfg->dns) ||
	    (cfg->ndomains && !cfg->domains) || (cfg->nsubnets && !cfg->subnets))
		return -EINVAL;
	reply_addresses(&rp, req, cfg);
	if (reply_dns(&rp, req, cfg) > 0)
		reply_domains(&rp, cfg);
	reply_subnets(&rp, req, cfg);
	if (rp.err)
		return rp.err;
	*n = rp.n;
	return 0;
}
