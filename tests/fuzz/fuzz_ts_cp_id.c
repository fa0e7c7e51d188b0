/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the payload bodies IKE_AUTH interprets after decoding: traffic
 * selectors, configuration attributes and identities.  The first input byte picks
 * the path, the rest is the body:
 *   0: TS   byte 1 = length of the TSi part; TSi selectors | TSr selectors
 *           (RFC 7296 3.13.1) -> struct ts -> ts.c checks, prefix split, narrowing
 *           against fixed allow lists (full tunnel, split tunnel)
 *   1: CP   attributes (RFC 7296 3.15.1) -> cp_request_add -> cp_reply_build, the
 *           reply encoded and decoded again
 *   2: ID   byte 1 = ID type; the ID body -> codec_id_* helpers and cert_match_id
 *           against two fixed certificates (IP/DNS SANs; email/DNS SANs), with the
 *           input's own type and then every other ID type
 *   3: text the body as a C string -> ts_parse_addr/prefix, cp_check_domain
 * Invariants that abort: narrowing results lie inside what was proposed and what is
 * allowed (RFC 7296 2.9), prefix splits cover the range exactly, an intersection lies
 * inside both operands, and a CFG_REPLY re-decodes to the same attributes.
 * Certificates come from $IKEGW_TOP/tests/data/pki (IKEGW_TOP defaults to ".").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ikegw/cert.h"
#include "ikegw/codec.h"
#include "ikegw/cp.h"
#include "ikegw/ikev2.h"
#include "ikegw/ts.h"

#define SPLIT_MAX 256 /* 2 * 128 bits: the most prefixes one range can need */

/* ---- traffic selectors ---- */

static size_t read_ts(const uint8_t *p, size_t len, struct ts *out)
{
	struct ike_ts t;
	struct rbuf it;
	size_t n = 0;

	rbuf_init(&it, p, len);
	while (n < TS_LIST_MAX && codec_ts_next(&it, &t, NULL) == 1) {
		out[n] = (struct ts){ .type = t.type, .proto = t.ip_proto,
				      .start_port = t.start_port, .end_port = t.end_port };
		memcpy(out[n].start, t.start, sizeof(t.start));
		memcpy(out[n].end, t.end, sizeof(t.end));
		n++;
	}
	return n;
}

/* The address range of p as a ts with every protocol and port. */
static void prefix_range(const struct ip_prefix *p, struct ts *out)
{
	if (ts_from_prefix(p, out) != 0)
		abort(); /* ts_split_prefixes produced a prefix ts_from_prefix refuses */
}

/* The prefixes cover [start, end] exactly, in order, within 2 * bits entries. */
static void check_split(const struct ts *t)
{
	static struct ip_prefix pf[SPLIT_MAX];
	size_t n = 0, alen = t->type == IKEV2_TS_IPV4_ADDR_RANGE ? 4 : 16;
	struct ts r, prev;
	int rc = ts_split_prefixes(t, pf, SPLIT_MAX, &n);

	if (rc != 0) {
		if (ts_check(t) == 0)
			abort(); /* a valid range never needs more than 2 * bits prefixes */
		return;
	}
	if (n == 0 || n > 2 * 8 * alen)
		abort();
	for (size_t i = 0; i < n; i++) {
		prefix_range(&pf[i], &r);
		if (i == 0 && memcmp(r.start, t->start, alen))
			abort();
		if (i > 0 && memcmp(r.start, prev.end, alen) <= 0)
			abort(); /* overlap or out of order */
		prev = r;
	}
	if (memcmp(prev.end, t->end, alen))
		abort();
}

static void check_pair(const struct ts *a, const struct ts *b)
{
	struct ts x;

	if (ts_intersect(a, b, &x) && (!ts_contains(a, &x) || !ts_contains(b, &x)))
		abort();
	if (ts_contains(a, b) && !ts_intersect(a, b, &x))
		abort();
}

static bool in_any(const struct ts *x, const struct ts *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ts_contains(&list[i], x))
			return true;
	return false;
}

static void narrow_one(struct ts_narrow_req *req)
{
	static struct ts_list tsi, tsr;
	struct ts vip[2];
	int rc = ts_narrow(req, &tsi, &tsr);

	if (rc != 0 && rc != -ENOENT)
		abort();
	if (rc != 0)
		return;
	for (size_t i = 0; i < req->nvips; i++)
		if (ts_from_addr(&req->vips[i], &vip[i]))
			abort();
	for (size_t i = 0; i < tsi.n; i++)
		if (!in_any(&tsi.ts[i], req->tsi, req->ntsi) || !in_any(&tsi.ts[i], vip, req->nvips))
			abort(); /* RFC 7296 2.9: narrowed TSi outside the proposal or the VIPs */
	for (size_t i = 0; i < tsr.n; i++)
		if (!in_any(&tsr.ts[i], req->tsr, req->ntsr) ||
		    !in_any(&tsr.ts[i], req->allowed, req->nallowed))
			abort(); /* narrowed TSr outside the proposal or the allow list */
}

static void allowed_list(const char *const *txt, size_t n, struct ts *out)
{
	struct ip_prefix p;

	for (size_t i = 0; i < n; i++)
		if (ts_parse_prefix(txt[i], &p) || ts_from_prefix(&p, &out[i]))
			abort();
}

static void narrow_all(const struct ts *ci, size_t ni, const struct ts *cr, size_t nr)
{
	static const char *const full[] = { "0.0.0.0/0", "::/0" };
	static const char *const split[] = { "10.0.0.0/8", "192.168.1.0/24", "fd00::/64",
					      "203.0.113.7/32" };
	static const char *const vips[] = { "10.99.0.5", "fd00:99::5" };
	struct ts allow_full[2], allow_split[4];
	struct ip_addr va[2];
	struct ts_narrow_req req = { .tsi = ci, .ntsi = ni, .tsr = cr, .ntsr = nr, .vips = va };

	allowed_list(full, 2, allow_full);
	allowed_list(split, 4, allow_split);
	for (size_t i = 0; i < 2; i++)
		if (ts_parse_addr(vips[i], &va[i]))
			abort();
	req.nvips = 2;
	req.allowed = allow_full, req.nallowed = 2;
	narrow_one(&req);
	req.nvips = 1;
	req.allowed = allow_split, req.nallowed = 4;
	narrow_one(&req);
}

static void fuzz_ts(const uint8_t *p, size_t len)
{
	struct ts ci[TS_LIST_MAX], cr[TS_LIST_MAX];
	size_t cut, ni, nr;

	if (len < 1)
		return;
	cut = p[0] < len - 1 ? p[0] : len - 1;
	ni = read_ts(p + 1, cut, ci);
	nr = read_ts(p + 1 + cut, len - 1 - cut, cr);
	for (size_t i = 0; i < ni; i++) {
		(void)ts_family(&ci[i]);
		check_split(&ci[i]);
		for (size_t j = 0; j < nr; j++)
			check_pair(&ci[i], &cr[j]);
	}
	for (size_t j = 0; j < nr; j++)
		check_split(&cr[j]);
	narrow_all(ci, ni, cr, nr);
}

/* ---- configuration attributes ---- */

static void reply_roundtrip(const struct cp_attr *attrs, size_t n)
{
	static struct ike_cfg_attr wire[64];
	static uint8_t buf[64 * (8 + CP_ATTR_VAL_MAX)];
	struct codec_enc e;
	struct ike_msg *m = malloc(sizeof(*m));
	struct codec_err err;
	struct ike_cfg_attr a;
	struct rbuf it;
	struct wbuf w;
	uint8_t first;
	size_t i = 0;

	if (!m)
		return;
	for (size_t k = 0; k < n; k++)
		wire[k] = (struct ike_cfg_attr){ attrs[k].type, { attrs[k].val, attrs[k].len } };
	wbuf_init(&w, buf, sizeof(buf));
	codec_enc_begin_chain(&e, &w);
	codec_enc_cp(&e, IKEV2_CFG_REPLY, wire, n);
	if (codec_enc_end_chain(&e, &first) != 0)
		abort();
	memset(m, 0, sizeof(*m));
	if (codec_decode_chain(first, buf, wbuf_len(&w), m, &err) != 0 || m->n != 1)
		abort();
	rbuf_init(&it, m->pl[0].u.cp.attrs.p, m->pl[0].u.cp.attrs.len);
	for (; codec_cp_next(&it, &a, &err) == 1; i++)
		if (i >= n || a.type != attrs[i].type || a.value.len != attrs[i].len ||
		    memcmp(a.value.p, attrs[i].val, a.value.len))
			abort();
	if (i != n)
		abort();
	free(m);
}

static void reply_build(const struct cp_request *req, bool v6)
{
	static const char *const domains[] = { "corp.example", "lab.example." };
	static const char *const dtxt[] = { "10.0.0.53", "fd00::53" };
	static const char *const stxt[] = { "10.0.0.0/8", "fd00::/64", "0.0.0.0/0" };
	struct ip_addr ip4, ip6, dns[2];
	struct ip_prefix subnets[3];
	struct cp_attr out[32];
	struct cp_config cfg = { .ip4 = &ip4, .ip6 = v6 ? &ip6 : NULL, .dns = dns, .ndns = 2,
				 .domains = domains, .ndomains = 2, .subnets = subnets,
				 .nsubnets = v6 ? 2 : 3 };
	size_t n = 0;

	if (ts_parse_addr("10.99.0.5", &ip4) || ts_parse_addr("fd00:99::5", &ip6))
		abort();
	for (size_t i = 0; i < 2; i++)
		if (ts_parse_addr(dtxt[i], &dns[i]))
			abort();
	for (size_t i = 0; i < 3; i++)
		if (ts_parse_prefix(stxt[i], &subnets[i]))
			abort();
	if (cp_reply_build(req, &cfg, out, 32, &n) != 0)
		abort(); /* a fixed good config always fits 32 attributes */
	for (size_t i = 0; i < n; i++)
		if (out[i].len > CP_ATTR_VAL_MAX)
			abort();
	reply_roundtrip(out, n);
}

static void fuzz_cp(const uint8_t *p, size_t len)
{
	static struct cp_attr list[64];
	struct cp_request req, req2;
	struct ike_cfg_attr a;
	struct rbuf it;
	size_t n = 0;

	cp_request_init(&req);
	rbuf_init(&it, p, len);
	while (codec_cp_next(&it, &a, NULL) == 1) {
		(void)cp_request_add(&req, a.type, a.value.p, a.value.len);
		if (n < 64) {
			list[n].type = a.type;
			list[n].len = a.value.len;
			memcpy(list[n++].val, a.value.p,
			       a.value.len < CP_ATTR_VAL_MAX ? a.value.len : CP_ATTR_VAL_MAX);
		}
	}
	cp_request_init(&req2);
	(void)cp_request_parse(&req2, list, n);
	(void)cp_request_wants(&req, IKEV2_CFG_INTERNAL_IP4_DNS);
	reply_build(&req, false);
	reply_build(&req, true);
}

/* ---- identities ---- */

static X509 *load_cert(const char *name)
{
	const char *top = getenv("IKEGW_TOP");
	char path[4096];
	X509 *x = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/data/pki/%s", top ? top : ".", name);
	f = fopen(path, "r");
	if (f) {
		x = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (!x) {
		fprintf(stderr, "fuzz_ts_cp_id: cannot load %s (set IKEGW_TOP)\n", path);
		abort();
	}
	return x;
}

static void fuzz_id(const uint8_t *p, size_t len)
{
	static X509 *certs[2];
	static const int types[] = { IKEV2_ID_IPV4_ADDR, IKEV2_ID_FQDN, IKEV2_ID_RFC822_ADDR,
				     IKEV2_ID_IPV6_ADDR, IKEV2_ID_DER_ASN1_DN,
				     IKEV2_ID_DER_ASN1_GN, IKEV2_ID_KEY_ID, IKEV2_ID_NULL };
	struct ike_pl_id id;
	char txt[300];
	uint8_t a[16];

	if (!certs[0]) {
		certs[0] = load_cert("client-rsa.crt");
		certs[1] = load_cert("client-ecdsa.crt");
	}
	if (len < 1)
		return;
	id = (struct ike_pl_id){ .type = p[0], .data = { len > 1 ? p + 1 : NULL, len - 1 } };
	codec_id_format(&id, txt, sizeof(txt));
	codec_id_format(&id, txt, 5); /* truncation */
	(void)codec_id_ipv4(&id, a);
	(void)codec_id_ipv6(&id, a);
	(void)codec_id_string(&id, txt, sizeof(txt));
	for (size_t c = 0; c < 2; c++) {
		(void)cert_match_id(certs[c], id.type, id.data.p, id.data.len);
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
			(void)cert_match_id(certs[c], types[t], id.data.p, id.data.len);
	}
}

/* ---- text parsers (config values) ---- */

static void fuzz_text(const uint8_t *p, size_t len)
{
	char s[512];
	struct ip_addr a;
	struct ip_prefix pf;
	struct ts t;

	if (len >= sizeof(s))
		len = sizeof(s) - 1;
	memcpy(s, p, len);
	s[len] = '\0';
	if (ts_parse_addr(s, &a) == 0 && ts_from_addr(&a, &t) != 0)
		abort();
	if (ts_parse_prefix(s, &pf) == 0) {
		if (ts_from_prefix(&pf, &t) != 0)
			abort();
		check_split(&t);
	}
	(void)cp_check_domain(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		fuzz_ts(data + 1, size - 1);
		break;
	case 1:
		fuzz_cp(data + 1, size - 1);
		break;
	case 2:
		fuzz_id(data + 1, size - 1);
		break;
	default:
		fuzz_text(data + 1, size - 1);
		break;
	}
	return 0;
}
