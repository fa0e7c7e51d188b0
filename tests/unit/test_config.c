/* SPDX-License-Identifier: ISC */
/*
 * Config loader: the good config with every value checked, defaults, the shipped
 * example (conf/ikegw.yaml with its /etc/ikegw/ paths pointed at the test PKI), and a
 * table of broken files under tests/data/config/, each pinned to the exact
 * "FILE:LINE:COLUMN: message" of its error.  Test data is found through $IKEGW_TOP.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "ikegw/config.h"
#include "ikegw/ikev2.h"

static const char *top(void)
{
	const char *t = getenv("IKEGW_TOP");
	return t && *t ? t : ".";
}

static void data_path(char *out, size_t len, const char *file)
{
	snprintf(out, len, "%s/tests/data/config/%s", top(), file);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Print every error: a failing test then shows what the loader said. */
static void dump(const struct config_errors *e)
{
	config_errors_print(e, stderr);
}

static void assert_ip(const struct config_ip *ip, const char *text)
{
	char buf[INET6_ADDRSTRLEN];

	assert_non_null(inet_ntop(ip->family, ip->family == AF_INET ? (const void *)&ip->u.v4
								    : (const void *)&ip->u.v6,
				  buf, sizeof(buf)));
	assert_string_equal(buf, text);
}

static void assert_prefix(const struct config_prefix *p, const char *addr, unsigned len)
{
	assert_ip(&p->addr, addr);
	assert_int_equal(p->len, len);
}

static void assert_ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	assert_true(a >= b);
	assert_string_equal(s + a - b, suffix);
}

/* ---- the good config --------------------------------------------------------- */

static void check_good_gateway(const struct config_gateway *g)
{
	assert_string_equal(g->id, "vpn.example.com");
	assert_int_equal(g->id_type, CONFIG_ID_FQDN);
	assert_int_equal(g->n_listen, 2);
	assert_ip(&g->listen[0], "192.0.2.1");
	assert_ip(&g->listen[1], "2001:db8::1");
	assert_int_equal(g->listen[1].mark.line, 4);
	assert_int_equal(g->listen[1].mark.col, 23);
	assert_int_equal(g->port, 1500);
	assert_int_equal(g->mark.port.line, 5);
	assert_int_equal(g->mark.port.col, 3);
	assert_int_equal(g->natt_port, 14500);
	assert_true(g->certificate[0] == '/');
	assert_ends_with(g->certificate, "/tests/data/config/pki/gw.crt");
	assert_ends_with(g->private_key, "/tests/data/config/pki/gw.key");
	assert_int_equal(g->dataplane, CONFIG_DP_USERSPACE);
	assert_ends_with(g->control_socket, "/tests/data/config/run/ikegw.sock");
	assert_string_equal(g->control_group, "root");
	assert_string_equal(g->tun_name, "vpn7");
	assert_string_equal(g->user, "root");
	assert_int_equal(g->log_level, CONFIG_LOG_DEBUG);
	assert_true(g->allow_legacy);
	assert_int_equal(g->fragment_size, 1400);
	assert_int_equal(g->max_half_open, 3000);
	assert_int_equal(g->cookie_threshold, 100);
}

static void check_good_top(const struct config *c)
{
	const struct config_proposals *p = &c->proposals;

	assert_int_equal(c->trust.n_ca, 1);
	assert_ends_with(c->trust.ca[0].s, "/pki/ca.crt");
	assert_int_equal(c->trust.ca[0].mark.line, 21);
	assert_int_equal(c->trust.n_crl, 1);
	assert_ends_with(c->trust.crl[0].s, "/pki/ca.crl");
	assert_int_equal(p->n_ike, 2);
	assert_string_equal(p->ike_src[0].s, "aes256gcm16-prfsha384-x25519");
	assert_string_equal(p->ike_src[1].s, "aes128-sha1-modp1024"); /* allow_legacy */
	assert_int_equal(p->ike[0].protocol, IKEV2_PROTO_IKE);
	assert_int_equal(p->ike[0].n_xf, 3);
	assert_int_equal(p->n_esp, 2);
	assert_string_equal(p->esp_src[1].s, "aes128gcm16-ecp256");
	assert_int_equal(p->esp[1].protocol, IKEV2_PROTO_ESP);
	assert_int_equal(c->lifetimes.ike, 86400);
	assert_int_equal(c->lifetimes.child, 90 * 60);
	assert_int_equal(c->timeouts.dpd, 45);
	assert_int_equal(c->timeouts.idle, 7200);
	assert_int_equal(c->timeouts.half_open, 20);
}

static void check_good_pools(const struct config *c)
{
	const struct config_pool *s = config_find_pool(c, "staff");
	const struct config_pool *g = config_find_pool(c, "guests");

	assert_int_equal(c->n_pools, 2);
	assert_ptr_equal(s, &c->pools[0]);
	assert_true(s->has_ipv4 && s->has_ipv6);
	assert_prefix(&s->ipv4, "10.99.0.0", 24);
	assert_prefix(&s->ipv6, "fd00:99::", 112);
	assert_int_equal(s->n_dns, 2);
	assert_ip(&s->dns[0], "10.0.0.53");
	assert_ip(&s->dns[1], "fd00::53");
	assert_int_equal(s->n_dns_domains, 2);
	assert_string_equal(s->dns_domains[1].s, "lab.corp.example");
	assert_non_null(g);
	assert_true(g->has_ipv4 && !g->has_ipv6);
	assert_prefix(&g->ipv4, "10.98.0.0", 25);
	assert_int_equal(g->n_dns, 0);
	assert_null(config_find_pool(c, "nope"));
	assert_null(config_find_pool(c, NULL));
}

static void check_good_users_radius(const struct config *c)
{
	static const uint8_t alice[16] = { 0x88, 0x46, 0xf7, 0xea, 0xee, 0x8f, 0xb1, 0x17,
					   0xad, 0x06, 0xbd, 0xd8, 0x30, 0xb7, 0x58, 0x6c };
	const struct config_radius *r = &c->radius;

	assert_int_equal(c->n_users, 2);
	assert_string_equal(c->users[0].name, "alice");
	assert_memory_equal(c->users[0].nt_hash, alice, 16);
	assert_string_equal(c->users[1].name, "bob");
	assert_int_equal(c->users[1].nt_hash[15], 0xff);
	assert_int_equal(r->n_servers, 2);
	assert_ip(&r->servers[0].address, "127.0.0.1");
	assert_int_equal(r->servers[0].port, 1812);
	assert_string_equal(r->servers[0].secret, "testing123");
	assert_ip(&r->servers[1].address, "::1");
	assert_int_equal(r->servers[1].port, 11812);
	assert_string_equal(r->servers[1].secret, "other-secret");
	assert_int_equal(r->timeout, 5);
	assert_int_equal(r->retries, 2);
}

static void check_good_profiles(const struct config *c)
{
	const struct config_profile *s = config_find_profile(c, "staff");
	const struct config_profile *g = config_find_profile(c, "guests");
	const struct config_profile *r = config_find_profile(c, "routers");

	assert_int_equal(c->n_profiles, 3);
	assert_non_null(s);
	assert_int_equal(s->n_auth, 2);
	assert_int_equal(s->auth[0], CONFIG_AUTH_CERTIFICATE);
	assert_int_equal(s->auth[1], CONFIG_AUTH_EAP_RADIUS);
	assert_null(s->psk);
	assert_string_equal(s->match.identity, "*@corp.example");
	assert_ends_with(s->match.ca, "/pki/ca.crt");
	assert_string_equal(s->match.subject, "O=ikegw test");
	assert_string_equal(s->match.radius_class, "staff");
	assert_ptr_equal(s->pool, config_find_pool(c, "staff"));
	assert_int_equal(s->n_allow, 2); /* default: full tunnel, both families */
	assert_prefix(&s->allow[0], "0.0.0.0", 0);
	assert_prefix(&s->allow[1], "::", 0);
	assert_int_equal(s->unique, CONFIG_UNIQUE_KEEP);
	assert_false(s->accept_no_pfs);
	assert_non_null(g);
	assert_int_equal(g->n_auth, 1);
	assert_int_equal(g->auth[0], CONFIG_AUTH_EAP_MSCHAPV2);
	assert_int_equal(g->n_allow, 2);
	assert_prefix(&g->allow[0], "10.1.0.0", 16);
	assert_prefix(&g->allow[1], "192.168.7.0", 24);
	assert_int_equal(g->unique, CONFIG_UNIQUE_NEVER);
	assert_true(g->accept_no_pfs);
	assert_non_null(r);
	assert_int_equal(r->auth[0], CONFIG_AUTH_PSK);
	assert_string_equal(r->psk, "correct horse battery staple");
	assert_null(r->pool);
	assert_int_equal(r->n_allow, 1);
	assert_prefix(&r->allow[0], "0.0.0.0", 0);
	assert_null(config_find_profile(c, "nope"));
}

static void test_good_config(void **state)
{
	struct config_errors e;
	struct config *c;
	char path[4096];
	(void)state;

	config_errors_init(&e);
	data_path(path, sizeof(path), "good.yaml");
	if (config_load(path, &c, &e) != 0)
		dump(&e);
	assert_int_equal(e.n, 0);
	assert_non_null(c);
	assert_true(c->path[0] == '/');
	check_good_gateway(&c->gateway);
	check_good_top(c);
	check_good_pools(c);
	check_good_users_radius(c);
	check_good_profiles(c);
	config_free(c);
	config_errors_clear(&e);
}

/* ---- defaults ---------------------------------------------------------------- */

static const char minimal[] = "gateway:\n  id: 192.0.2.7\n"
			      "profiles:\n  - name: p\n    auth: [psk]\n"
			      "    psk: 0123456789abcdef0123\n";

static void test_defaults(void **state)
{
	struct config_errors e;
	struct config *c;
	(void)state;

	config_errors_init(&e);
	assert_int_equal(config_load_buffer("min.yaml", "/", minimal, strlen(minimal), 0, &c, &e),
			 0);
	assert_int_equal(c->gateway.id_type, CONFIG_ID_IPV4);
	assert_int_equal(c->gateway.port, 500);
	assert_int_equal(c->gateway.natt_port, 4500);
	assert_int_equal(c->gateway.n_listen, 2);
	assert_ip(&c->gateway.listen[0], "0.0.0.0");
	assert_ip(&c->gateway.listen[1], "::");
	assert_int_equal(c->gateway.mark.port.line, 0); /* a default */
	assert_string_equal(c->gateway.control_socket, "/run/ikegw/ikegw.sock");
	assert_null(c->gateway.control_group);
	assert_null(c->gateway.certificate);
	assert_null(c->gateway.user);
	assert_string_equal(c->gateway.tun_name, "ikegw0");
	assert_int_equal(c->gateway.dataplane, CONFIG_DP_AUTO);
	assert_int_equal(c->gateway.log_level, CONFIG_LOG_INFO);
	assert_false(c->gateway.allow_legacy);
	assert_int_equal(c->gateway.fragment_size, 1280);
	assert_int_equal(c->gateway.max_half_open, 20000);
	assert_int_equal(c->gateway.cookie_threshold, 500);
	assert_int_equal(c->lifetimes.ike, 4 * 3600);
	assert_int_equal(c->lifetimes.child, 3600);
	assert_int_equal(c->timeouts.dpd, 30);
	assert_int_equal(c->timeouts.idle, 600);
	assert_int_equal(c->timeouts.half_open, 30);
	assert_int_equal(c->radius.timeout, 3);
	assert_int_equal(c->radius.retries, 3);
	assert_int_equal(c->proposals.n_ike, 3);
	assert_string_equal(c->proposals.ike_src[0].s, "aes256gcm16-prfsha384-x25519");
	assert_int_equal(c->proposals.n_esp, 3);
	assert_int_equal(c->profiles[0].unique, CONFIG_UNIQUE_REPLACE);
	assert_true(c->profiles[0].accept_no_pfs);
	assert_int_equal(c->profiles[0].n_allow, 1);
	assert_prefix(&c->profiles[0].allow[0], "0.0.0.0", 0);
	config_free(c);
	config_errors_clear(&e);
}

/* ---- the shipped example ----------------------------------------------------- */

/* Replace every "from" in text with "to" (a fresh string). */
static char *replace_all(const char *text, const char *from, const char *to)
{
	size_t n = 0, fl = strlen(from), tl = strlen(to);
	char *out, *o;

	for (const char *p = strstr(text, from); p; p = strstr(p + fl, from))
		n++;
	out = calloc(1, strlen(text) + n * tl + 1);
	assert_non_null(out);
	o = out;
	for (const char *p = text, *q; *p; p = q + fl) {
		q = strstr(p, from);
		if (!q) {
			strcpy(o, p);
			break;
		}
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, to, tl);
		o += tl;
	}
	return out;
}

/* conf/ikegw.yaml names /etc/ikegw/{gw.crt,gw.key,ca.crt,ca.crl} and group ikegw: the
 * test PKI has files of the same names, and group root exists everywhere. */
static void test_example_conf(void **state)
{
	struct config_errors e;
	struct config *c;
	char path[4096], pki[4096];
	char *text, *a, *b;
	size_t len;
	(void)state;

	char *abs_top = realpath(top(), NULL);

	assert_non_null(abs_top);
	snprintf(path, sizeof(path), "%s/conf/ikegw.yaml", abs_top);
	snprintf(pki, sizeof(pki), "%s/tests/data/config/pki/", abs_top);
	free(abs_top);
	text = slurp(path, &len);
	a = replace_all(text, "/etc/ikegw/", pki);
	b = replace_all(a, "control_group: ikegw", "control_group: root");
	config_errors_init(&e);
	if (config_load_buffer(path, "/", b, strlen(b), 0, &c, &e) != 0)
		dump(&e);
	assert_int_equal(e.n, 0);
	assert_string_equal(c->gateway.id, "vpn.example.com");
	assert_false(c->gateway.allow_legacy);
	assert_int_equal(c->n_profiles, 1);
	assert_int_equal(c->profiles[0].auth[0], CONFIG_AUTH_CERTIFICATE);
	assert_int_equal(c->profiles[0].n_allow, 2);
	assert_int_equal(c->profiles[0].allow[0].len, 0);
	config_free(c);
	/* As shipped, only the host checks (files, group) can fail. */
	assert_int_equal(config_load_buffer(path, "/", text, len, CONFIG_NO_HOST_CHECKS, &c, &e),
			 0);
	config_free(c);
	config_errors_clear(&e);
	free(text);
	free(a);
	free(b);
}

/* ---- broken files: the exact FILE:LINE:COLUMN: message ----------------------- */

struct broken {
	const char *file;
	unsigned line, col;
	const char *msg; /* the start of the message */
	size_t n;        /* how many errors in all */
};

static const struct broken broken[] = {
	{ "unknown_top.yaml", 3, 1, "unknown top-level key 'gatway'; valid keys: gateway, trust, "
	  "proposals, lifetimes, timeouts, pools, users, radius, profiles", 1 },
	{ "unknown_nested.yaml", 7, 34, "unknown key 'cn' in profiles[0].match; valid keys: "
	  "identity, ca, subject, radius_class", 1 },
	{ "wrong_type_list.yaml", 3, 11, "gateway.listen: expected a list, got a single value", 1 },
	{ "wrong_type_scalar.yaml", 3, 9, "gateway.port: expected a single value, got a list", 1 },
	{ "wrong_type_map.yaml", 1, 10, "gateway: expected a mapping, got a single value", 1 },
	{ "bad_cidr.yaml", 5, 11, "pools[0].ipv4: '10.99.0.0/33' has an invalid prefix length", 1 },
	{ "host_bits.yaml", 5, 11, "pools[0].ipv4: 10.99.0.1/24 has host bits set; did you mean "
	  "10.99.0.0/24?", 1 },
	{ "bad_ip.yaml", 3, 21, "gateway.listen[1]: '192.0.2.300' is not a valid IP address", 1 },
	{ "overlap_pools.yaml", 7, 5, "pool 'b' ipv4 overlaps pool 'a' (10.99.0.0/24, line 5)", 1 },
	{ "pool_split_overlap.yaml", 11, 29, "profile 'p': allow 10.0.0.0/8 overlaps pool 'staff' "
	  "(10.99.0.0/24)", 1 },
	{ "pool_listen.yaml", 6, 5, "pool 'staff' contains the gateway's own listen address "
	  "10.99.0.1", 1 },
	{ "missing_pool.yaml", 10, 5, "profile 'p': pool 'stuff' is not defined (pools: staff)", 1 },
	/* the reason after the string comes from proposal_parse() */
	{ "weak_proposal.yaml", 4, 39, "proposals.ike[1] 'aes256-sha1-modp1024': ", 1 },
	{ "unknown_proposal.yaml", 6, 7, "proposals.esp[1] 'aes512gcm16': ", 1 },
	{ "bad_duration.yaml", 4, 8, "timeouts.dpd: '30x' is not a duration", 1 },
	{ "port_range.yaml", 3, 9, "gateway.port: 70000 is out of range 1-65535", 1 },
	{ "psk_no_secret.yaml", 5, 5, "profile 'p' uses psk authentication but has no psk secret",
	  1 },
	{ "short_psk.yaml", 6, 5, "profile 'p': the psk is shorter than 16 characters", 1 },
	{ "cert_unreadable.yaml", 3, 3, "gateway.certificate: cannot open ", 1 },
	{ "key_mismatch.yaml", 4, 3, "gateway.private_key ", 1 },
	{ "ca_not_ca.yaml", 8, 7, "trust.ca[1]: ", 1 },
	{ "crl_not_crl.yaml", 7, 9, "trust.crl[0]: ", 1 },
	{ "id_not_in_cert.yaml", 2, 3, "gateway.id 'gw.other.example' is not in the "
	  "subjectAltName", 1 },
	{ "cert_auth_no_cert.yaml", 7, 5, "profile 'p': certificate and EAP authentication need "
	  "gateway.certificate and gateway.private_key", 1 },
	{ "eap_no_users.yaml", 7, 5, "profile 'p' uses eap-mschapv2 but no users are defined", 1 },
	{ "radius_no_servers.yaml", 7, 5, "profile 'p' uses eap-radius but no radius servers are "
	  "defined", 1 },
	{ "bad_nt_hash.yaml", 6, 29, "users[0].nt_hash: an NT hash is 32 hexadecimal digits", 1 },
	{ "dup_profile.yaml", 7, 5, "duplicate profile name 'p' (first at line 4)", 1 },
	{ "dup_pool.yaml", 5, 7, "duplicate pool name 'staff' (first at line 4)", 1 },
	{ "dup_key.yaml", 4, 3, "duplicate key 'gateway.port' (first at line 3)", 1 },
	{ "missing_id.yaml", 2, 3, "gateway: missing required key 'id'", 1 },
	{ "syntax.yaml", 4, 9, "YAML syntax error: did not find expected ',' or ']'", 1 },
	{ "alias.yaml", 3, 11, "YAML aliases (*name) are not supported", 1 },
	{ "two_docs.yaml", 8, 1, "only one YAML document is allowed", 1 },
	{ "empty.yaml", 1, 1, "the config is empty", 1 },
	{ "three_errors.yaml", 3, 14, "gateway.natt_port: 0 is out of range 1-65535", 3 },
	{ "three_errors.yaml", 5, 8, "lifetimes.ike: '4 hours' is not a duration", 3 },
	{ "three_errors.yaml", 10, 13, "profiles[0].unique: 'sometimes' is not one of: replace, "
	  "keep, never", 3 },
};

static void test_broken_file(void **state)
{
	const struct broken *b = *state;
	struct config_errors e;
	struct config *c = (void *)1;
	char path[4096], want[8192];
	size_t i;

	data_path(path, sizeof(path), b->file);
	snprintf(want, sizeof(want), "%s:%u:%u: %s", path, b->line, b->col, b->msg);
	config_errors_init(&e);
	assert_int_equal(config_load(path, &c, &e), -EINVAL);
	assert_null(c);
	for (i = 0; i < e.n && strncmp(e.msg[i], want, strlen(want)) != 0; i++)
		;
	if (i == e.n || e.n != b->n) {
		fprintf(stderr, "wanted %zu error(s), one starting with\n  %s\ngot:\n", b->n, want);
		dump(&e);
	}
	assert_int_not_equal(i, e.n);
	assert_int_equal(e.n, b->n);
	config_errors_clear(&e);
}

/* A pool inside a full tunnel (0.0.0.0/0) is fine: only split-tunnel subnets count. */
static void test_pool_in_full_tunnel(void **state)
{
	struct config_errors e;
	struct config *c;
	char path[4096];
	(void)state;

	config_errors_init(&e);
	data_path(path, sizeof(path), "pool_full_tunnel.yaml");
	assert_int_equal(config_load(path, &c, &e), 0);
	assert_int_equal(e.n, 0);
	config_free(c);
}

/* ---- inline snippets: more bad values (schema only, no host checks) ---------- */

struct snippet {
	const char *yaml; /* appended to a valid gateway + psk profile */
	const char *msg;  /* a substring of the one error */
};

static const char base[] = "gateway:\n  id: vpn.example.com\n"
			   "profiles:\n  - name: p\n    auth: [psk]\n"
			   "    psk: 0123456789abcdef0123\n";

static const struct snippet snippets[] = {
	{ "lifetimes: { ike: 1w }", "'1w' is not a duration" },
	{ "lifetimes: { ike: 1h30m }", "'1h30m' is not a duration" },
	{ "lifetimes: { ike: 99999999999 }", "is out of range" },
	{ "lifetimes: { ike: 50000d }", "is out of range" },
	{ "lifetimes: { child: 10s }", "10s is out of range (60 to" },
	{ "lifetimes: { ike: -1 }", "'-1' is not a duration" },
	{ "timeouts: { half_open: 0 }", "0 is out of range (1 to 300 seconds)" },
	{ "timeouts: { idle: }", "timeouts.idle: value is missing" },
	{ "radius: { retries: 0x3 }", "'0x3' is not a number" },
	{ "pools: [{ name: a, ipv4: 10.0.0.0/31 }]", "is too small" },
	{ "pools: [{ name: a, ipv4: 10.0.0.0/7 }]", "is too large" },
	{ "pools: [{ name: a, ipv6: \"fd00::/64\" }]", "is too large" },
	{ "pools: [{ name: a, ipv6: \"fd00::1/112\" }]", "fd00::1/112 has host bits set; did "
	  "you mean fd00::/112?" },
	{ "pools: [{ name: a, ipv4: \"fd00::/112\" }]", "expected an IPv4 prefix" },
	{ "pools: [{ name: a, ipv4: 10.0.0.0 }]", "is not a CIDR prefix" },
	{ "pools: [{ name: a }]", "pool 'a' needs ipv4 or ipv6" },
	{ "pools: [{ name: a, ipv4: 10.0.0.0/24, dns_domains: [\"bad domain\"] }]",
	  "'bad domain' is not a valid DNS domain name" },
	{ "pools:\n  - { name: a, ipv6: \"fd00::/112\" }\n  - { name: b, ipv6: \"fd00::/120\" }",
	  "pool 'b' ipv6 overlaps pool 'a'" },
	{ "users: [{ name: a, nt_hash: 00112233445566778899aabbccddeeff }, "
	  "{ name: a, nt_hash: 00112233445566778899aabbccddeeff }]", "duplicate user name 'a'" },
	{ "radius: { servers: [{ address: 10.0.0.1 }] }", "missing required key 'secret'" },
	{ "radius: { servers: [{ address: radius.example, secret: x }] }",
	  "is not a valid IP address" },
	{ "trust: { ca: ca.crt, crl: [] }", "trust.ca: expected a list" },
	{ "proposals: { ike: [] }", "proposals.ike: must not be empty" },
	{ "profiles: []", "duplicate key 'profiles'" },
	{ "? [a, b]\n: 1", "keys must be plain names" },
	{ "users: {}", "users: expected a list, got a mapping" },
};

static void load_snippet(const char *extra_gw, const char *extra, struct config_errors *e)
{
	char text[4096];
	struct config *c = (void *)1;

	snprintf(text, sizeof(text), "gateway:\n  id: vpn.example.com\n%s\nprofiles:\n"
		 "  - name: p\n    auth: [psk]\n    psk: 0123456789abcdef0123\n%s\n",
		 extra_gw, extra);
	assert_int_equal(config_load_buffer("s.yaml", "/", text, strlen(text),
					    CONFIG_NO_HOST_CHECKS, &c, e), -EINVAL);
	assert_null(c);
}

static void expect_one(const char *gw, const char *extra, const char *msg)
{
	struct config_errors e;

	config_errors_init(&e);
	load_snippet(gw, extra, &e);
	if (e.n != 1 || !strstr(e.msg[0], msg)) {
		fprintf(stderr, "snippet:\n%s%s\nwanted one error with '%s', got:\n", gw, extra, msg);
		dump(&e);
	}
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.msg[0], msg));
	config_errors_clear(&e);
}

static void test_bad_snippets(void **state)
{
	(void)state;
	(void)base;
	for (size_t i = 0; i < sizeof(snippets) / sizeof(snippets[0]); i++)
		expect_one("", snippets[i].yaml, snippets[i].msg);
}

static void test_bad_gateway_values(void **state)
{
	(void)state;
	expect_one("  natt_port: 500", "", "must differ from gateway.port");
	expect_one("  tun_name: much-too-long-name0", "", "not a valid interface name");
	expect_one("  allow_legacy: yes", "", "'yes' is not a boolean (true or false)");
	expect_one("  dataplane: dpdk", "", "'dpdk' is not one of: auto, xfrm, userspace");
	expect_one("  fragment_size: 500", "", "500 is out of range 576-65535");
	expect_one("  max_half_open: 0", "", "0 is out of range 1-1000000");
	expect_one("  cookie_threshold: 2000000", "", "2000000 is out of range 0-1000000");
	expect_one("  max_half_open: 100", "", "gateway.cookie_threshold (500) must be below "
		   "gateway.max_half_open (100)");
	expect_one("  max_half_open: 100\n  cookie_threshold: 100", "",
		   "COOKIEs would never be asked for");
	expect_one("  listen: []", "", "gateway.listen: must not be empty");
	expect_one("  listen: [0.0.0.0, 0.0.0.0]", "", "0.0.0.0 is listed twice");
	expect_one("  port: \"5\\0\"", "", "contains a NUL character");
	expect_one("  control_socket: /run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock", "",
		   "longer than a UNIX socket allows");
}

/* gateway.id becomes IDr (RFC 7296 3.5): an FQDN, an address or a DN. */
static int load_id(const char *id, struct config **c, struct config_errors *e)
{
	char text[512];

	snprintf(text, sizeof(text), "gateway: { id: \"%s\" }\nprofiles: [{ name: p, auth: "
		 "[psk], psk: 0123456789abcdef0123 }]\n", id);
	return config_load_buffer("id.yaml", "/", text, strlen(text), CONFIG_NO_HOST_CHECKS, c,
				  e);
}

static void test_gateway_id(void **state)
{
	static const struct {
		const char *id;
		int type; /* -1: invalid */
	} t[] = {
		{ "vpn.example.com", CONFIG_ID_FQDN },
		{ "192.0.2.1", CONFIG_ID_IPV4 },
		{ "2001:db8::1", CONFIG_ID_IPV6 },
		{ "C=GB, O=Corp, CN=vpn", CONFIG_ID_DN },
		{ "bad_name!", -1 },
		{ "-leading.example", -1 },
		{ "a..b", -1 },
		{ "CN=", -1 },
		{ "C=GB,, CN=x", -1 },
		{ "=x", -1 },
	};
	struct config_errors e;
	struct config *c;
	(void)state;

	config_errors_init(&e);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = load_id(t[i].id, &c, &e);
		if ((rc == 0) != (t[i].type >= 0))
			fprintf(stderr, "id '%s': rc %d\n", t[i].id, rc);
		assert_int_equal(rc == 0, t[i].type >= 0);
		if (rc == 0)
			assert_int_equal(c->gateway.id_type, t[i].type);
		else
			assert_non_null(strstr(e.msg[e.n - 1], "is not an FQDN, an IP address"));
		config_free(c);
	}
	config_errors_clear(&e);
}

static void test_bad_profiles(void **state)
{
	static const char head[] = "  - name: q\n";
	char buf[512];
	static const struct {
		const char *body, *msg;
	} t[] = {
		{ "    auth: [certificate, eap-tls, psk]", "needs 1 or 2 authentication rounds" },
		{ "    auth: []", "needs 1 or 2 authentication rounds, got 0" },
		{ "    auth: [eap-md5]", "'eap-md5' is not one of: certificate, eap-mschapv2" },
		{ "    auth: [psk, psk]\n    psk: 0123456789abcdef0123", "both rounds use psk" },
		{ "    auth: [psk]\n    psk: 0123456789abcdef0123\n    match: { radius_class: x }",
		  "match.radius_class needs eap-radius" },
		{ "    auth: [psk]\n    psk: 0123456789abcdef0123\n    match: { subject: CN=x }",
		  "match.subject needs certificate or eap-tls" },
		{ "    auth: [psk]\n    psk: 0123456789abcdef0123\n    allow: [10.0.0.0]",
		  "'10.0.0.0' is not a CIDR prefix" },
		{ "    auth: [psk]\n    psk: 0123456789abcdef0123\n    allow: []",
		  "allow: must not be empty" },
		{ "    auth: psk", "profiles[1].auth: expected a list" },
		{ "    auth: [psk]\n    psk: 0123456789abcdef0123\n    accept_no_pfs: 1",
		  "'1' is not a boolean" },
		{ "    auth: [psk]\n    psk: [0123456789abcdef0123]", "expected a single value" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(buf, sizeof(buf), "%s%s", head, t[i].body);
		expect_one("", buf, t[i].msg);
	}
	static const char gw[] = "  certificate: gw.crt\n  private_key: gw.key";

	expect_one(gw, "  - name: q\n    auth: [eap-radius, psk]\n    psk: 0123456789abcdef0123\n"
		   "radius: { servers: [{ address: 10.0.0.1, secret: s }] }",
		   "psk can only be the first round");
	expect_one(gw, "  - name: q\n    auth: [certificate]\n    match: { ca: other.crt }\n"
		   "    psk: 0123456789abcdef0123\ntrust: { ca: [other.crt] }",
		   "profile 'q' has a psk but psk is not in its auth list");
}

static void test_match_ca_must_be_trusted(void **state)
{
	struct config_errors e;
	(void)state;

	config_errors_init(&e);
	load_snippet("  certificate: gw.crt\n  private_key: gw.key", "  - name: q\n"
		     "    auth: [eap-tls]\n    match: { ca: other.crt }\n"
		     "trust: { ca: [ca.crt] }", &e);
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.msg[0], "match.ca /other.crt is not listed in trust.ca"));
	config_errors_clear(&e);
}

/* Not UTF-8: libyaml's reader refuses it; the offset becomes a line:column. */
static void test_invalid_utf8(void **state)
{
	static const char text[] = "gateway:\n  id: vpn\xff.example.com\n";
	struct config_errors e;
	struct config *c;
	(void)state;

	config_errors_init(&e);
	assert_int_equal(config_load_buffer("u.yaml", "/", text, sizeof(text) - 1,
					    CONFIG_NO_HOST_CHECKS, &c, &e), -EINVAL);
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.msg[0], "u.yaml:2:10: YAML syntax error"));
	config_errors_clear(&e);
}

/* Every prefix of the good config: errors, never a crash or a leak (ASan build). */
static void test_truncated_inputs(void **state)
{
	char path[4096];
	size_t len;
	char *text;
	(void)state;

	data_path(path, sizeof(path), "good.yaml");
	text = slurp(path, &len);
	for (size_t n = 0; n < len; n++) {
		struct config_errors e;
		struct config *c = NULL;
		config_errors_init(&e);
		int rc = config_load_buffer("t.yaml", "/", text, n, CONFIG_NO_HOST_CHECKS, &c, &e);
		assert_true(rc == 0 || (rc == -EINVAL && e.n > 0 && c == NULL));
		config_free(c);
		config_errors_clear(&e);
	}
	free(text);
}

static void test_error_cap(void **state)
{
	struct config_errors e;
	struct config *c;
	char *text = calloc(1, 64 * 1024), *o;
	FILE *devnull = fopen("/dev/null", "w");
	(void)state;

	assert_non_null(text);
	o = text + sprintf(text, "gateway:\n  id: x.example\n  listen:\n");
	for (int i = 0; i < 300; i++)
		o += sprintf(o, "    - bad%d\n", i);
	config_errors_init(&e);
	assert_int_equal(config_load_buffer("cap.yaml", "/", text, strlen(text),
					    CONFIG_NO_HOST_CHECKS, &c, &e), -EINVAL);
	assert_int_equal(e.n, CONFIG_MAX_ERRORS);
	assert_true(e.dropped > 0);
	config_errors_print(&e, devnull);
	fclose(devnull);
	config_errors_clear(&e);
	assert_int_equal(e.n, 0);
	free(text);
}

static void test_missing_file(void **state)
{
	struct config_errors e;
	struct config *c = (void *)1;
	(void)state;

	config_errors_init(&e);
	assert_int_equal(config_load("/nonexistent/ikegw.yaml", &c, &e), -ENOENT);
	assert_null(c);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0], "/nonexistent/ikegw.yaml:1:1: cannot read the config "
			    "file: No such file or directory");
	config_errors_clear(&e);
	assert_int_equal(config_load("/", &c, NULL), -EINVAL); /* a folder; no errs list */
}

static void test_sockaddr_and_names(void **state)
{
	struct config_ip ip = { .family = AF_INET6 };
	struct sockaddr_storage ss;
	(void)state;

	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", &ip.u.v6), 1);
	assert_int_equal(config_ip_sockaddr(&ip, 4500, &ss), sizeof(struct sockaddr_in6));
	assert_int_equal(((struct sockaddr_in6 *)&ss)->sin6_port, htons(4500));
	ip.family = AF_INET;
	ip.u.v4.s_addr = htonl(0xc0000201);
	assert_int_equal(config_ip_sockaddr(&ip, 500, &ss), sizeof(struct sockaddr_in));
	assert_int_equal(((struct sockaddr_in *)&ss)->sin_addr.s_addr, htonl(0xc0000201));
	assert_string_equal(config_auth_name(CONFIG_AUTH_EAP_MSCHAPV2), "eap-mschapv2");
	assert_string_equal(config_dataplane_name(CONFIG_DP_USERSPACE), "userspace");
	assert_string_equal(config_unique_name(CONFIG_UNIQUE_NEVER), "never");
	assert_string_equal(config_log_level_name(CONFIG_LOG_WARNING), "warning");
	assert_string_equal(config_auth_name((enum config_auth)99), "?");
	config_free(NULL);
	config_errors_clear(NULL);
}

#define N_BROKEN (sizeof(broken) / sizeof(broken[0]))

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_good_config),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_example_conf),
		cmocka_unit_test(test_pool_in_full_tunnel),
		cmocka_unit_test(test_bad_snippets),
		cmocka_unit_test(test_bad_gateway_values),
		cmocka_unit_test(test_gateway_id),
		cmocka_unit_test(test_bad_profiles),
		cmocka_unit_test(test_match_ca_must_be_trusted),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_truncated_inputs),
		cmocka_unit_test(test_error_cap),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_sockaddr_and_names),
	};
	struct CMUnitTest tests[sizeof(fixed) / sizeof(fixed[0]) + N_BROKEN];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		tests[n++] = fixed[i];
	for (size_t i = 0; i < N_BROKEN; i++) {
		tests[n] = (struct CMUnitTest)cmocka_unit_test_prestate(test_broken_file,
									 (void *)&broken[i]);
		tests[n++].name = broken[i].file;
	}
	return _cmocka_run_group_tests("config", tests, n, NULL, NULL);
}
