/* SPDX-License-Identifier: ISC */
/*
 * The config schema (SPEC.md "Config file"): one field table per mapping, and the
 * typed handlers that turn a YAML value into its binary form, each reporting its own
 * errors at the value's line:column.  Defaults are set before parsing (config.c
 * cfg_defaults, the *_init functions here) or, when they depend on other values, in
 * config_check.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

/* ---- typed handlers ----------------------------------------------------------- */

static void h_str(struct pctx *p, yaml_node_t *v, void *obj, const struct field *f)
{
	const char *s = cfg_scalar(p, v);
	char **dst = cfg_at(obj, f->off);

	if (!s)
		return;
	free(*dst); /* a default (tun_name); duplicate keys never get here */
	*dst = cfg_dup_or_flag(p, s);
}

static void h_path(struct pctx *p, yaml_node_t *v, void *obj, const struct field *f)
{
	const char *s = cfg_scalar(p, v);
	char **dst = cfg_at(obj, f->off);

	if (!s)
		return;
	free(*dst);
	*dst = cfg_path_resolve(p->c->dir, s);
	if (!*dst)
		p->nomem = 1;
}

static int ranged_uint(struct pctx *p, yaml_node_t *v, const struct field *f,
		       unsigned long long *out)
{
	const char *s = cfg_scalar(p, v);

	if (!s)
		return -EINVAL;
	if (cfg_parse_uint(s, out) < 0) {
		cfg_perr(p, v, "'%s' is not a number", s);
		return -EINVAL;
	}
	if (*out < (unsigned long long)f->min || *out > (unsigned long long)f->max) {
		cfg_perr(p, v, "%s is out of range %lld-%lld", s, f->min, f->max);
		return -ERANGE;
	}
	return 0;
}

static void h_u16(struct pctx *p, yaml_node_t *v, void *obj, const struct field *f)
{
	unsigned long long x;

	if (ranged_uint(p, v, f, &x) == 0)
		*(uint16_t *)cfg_at(obj, f->off) = (uint16_t)x;
}

static void h_u32(struct pctx *p, yaml_node_t *v, void *obj, const struct field *f)
{
	unsigned long long x;

	if (ranged_uint(p, v, f, &x) == 0)
		*(uint32_t *)cfg_at(obj, f->off) = (uint32_t)x;
}

static void h_duration(struct pctx *p, yaml_node_t *v, void *obj, const struct field *f)
{
	const char *s = cfg_scalar(p, v);
	unsigned long long x;

	if (!s)
		return;
	if (cfg_parse_duration(s, &x) < 0) {
		cfg_perr(p, v, "'%s' is not a duration (30s, 10m, 4h, 1d, or plain seconds)", s);
		return;
	}
	if (x < (unsigned long long)f->min || x > (unsigned long long)f->max) {
		cfg_perr(p, v, "%s is out of range (%lld to %lld seconds)", s, f->min, f->max);
		return;
	}
	*(uint32_t *)cfg_at(obj, f->off) = (uint32_t)x;
}

static void h_bool(struct pctx *p, yaml_node_t *v, void *obj, const struct field *f)
{
	static const char *const t[] = { "true", "True", "TRUE" };
	static const char *const n[] = { "false", "False", "FALSE" };
	const char *s = cfg_scalar(p, v);

	if (!s)
		return;
	for (size_t i = 0; i < 3; i++) {
		if (strcmp(s, t[i]) == 0 || strcmp(s, n[i]) == 0) {
			*(bool *)cfg_at(obj, f->off) = strcmp(s, t[i]) == 0;
			return;
		}
	}
	cfg_perr(p, v, "'%s' is not a boolean (true or false)", s);
}

static void words_join(const char *const *w, char *out, size_t outlen)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; w[i] && used < outlen; i++)
		used += (size_t)snprintf(out + used, outlen - used, "%s%s", i ? ", " : "", w[i]);
}

static int word_index(struct pctx *p, yaml_node_t *v, const char *const *words)
{
	const char *s = cfg_scalar(p, v);
	char list[256];

	if (!s)
		return -1;
	for (int i = 0; words[i]; i++)
		if (strcmp(s, words[i]) == 0)
			return i;
	words_join(words, list, sizeof(list));
	cfg_perr(p, v, "'%s' is not one of: %s", s, list);
	return -1;
}

static void h_enum(struct pctx *p, yaml_node_t *v, void *obj, const struct field *f)
{
	int i = word_index(p, v, f->words);

	if (i >= 0)
		*(int *)cfg_at(obj, f->off) = i;
}

static void h_id(struct pctx *p, yaml_node_t *v, void *obj, const struct field *f)
{
	struct config_gateway *g = obj;
	struct config_ip ip;
	const char *s = cfg_scalar(p, v);

	if (!s)
		return;
	if (cfg_parse_ip(s, &ip) == 0)
		g->id_type = ip.family == AF_INET ? CONFIG_ID_IPV4 : CONFIG_ID_IPV6;
	else if (strchr(s, '=') && cfg_valid_dn(s))
		g->id_type = CONFIG_ID_DN;
	else if (!strchr(s, '=') && cfg_valid_dns_name(s))
		g->id_type = CONFIG_ID_FQDN;
	else {
		cfg_perr(p, v, "'%s' is not an FQDN, an IP address or a DN (\"C=GB, O=Corp, CN=vpn\")",
		     s);
		return;
	}
	h_str(p, v, obj, f);
}

static int i_ip(struct pctx *p, yaml_node_t *item, void *out)
{
	struct config_ip *ip = out;
	const char *s = cfg_scalar(p, item);

	if (!s)
		return 1;
	if (cfg_parse_ip(s, ip) < 0) {
		cfg_perr(p, item, "'%s' is not a valid IP address", s);
		return 1;
	}
	ip->mark = cfg_mark_of(item);
	return 0;
}

static int i_prefix(struct pctx *p, yaml_node_t *item, void *out)
{
	struct config_prefix *pf = out;
	const char *s = cfg_scalar(p, item);
	char why[256];

	if (!s)
		return 1;
	if (cfg_parse_prefix(s, pf, why, sizeof(why)) < 0) {
		cfg_perr(p, item, "%s", why);
		return 1;
	}
	pf->addr.mark = cfg_mark_of(item);
	return 0;
}

static int i_str(struct pctx *p, yaml_node_t *item, void *out)
{
	struct config_str *cs = out;
	const char *s = cfg_scalar(p, item);

	if (!s)
		return 1;
	cs->s = cfg_dup_or_flag(p, s);
	cs->mark = cfg_mark_of(item);
	return cs->s ? 0 : 1;
}

static int i_path(struct pctx *p, yaml_node_t *item, void *out)
{
	struct config_str *cs = out;
	const char *s = cfg_scalar(p, item);

	if (!s)
		return 1;
	cs->s = cfg_path_resolve(p->c->dir, s);
	cs->mark = cfg_mark_of(item);
	if (!cs->s)
		p->nomem = 1;
	return cs->s ? 0 : 1;
}

static int i_domain(struct pctx *p, yaml_node_t *item, void *out)
{
	const char *s = cfg_scalar(p, item);

	if (!s)
		return 1;
	if (!cfg_valid_dns_name(s)) {
		cfg_perr(p, item, "'%s' is not a valid DNS domain name", s);
		return 1;
	}
	return i_str(p, item, out);
}

static void h_ip_list(struct pctx *p, yaml_node_t *v, void *obj, const struct field *f)
{
	size_t n;
	void *arr = cfg_parse_list(p, v, sizeof(struct config_ip), f, i_ip, &n);

	cfg_set_list(obj, f, arr, n);
}

static void h_prefix_list(struct pctx *p, yaml_node_t *v, void *obj, const struct field *f)
{
	size_t n;
	void *arr = cfg_parse_list(p, v, sizeof(struct config_prefix), f, i_prefix, &n);

	cfg_set_list(obj, f, arr, n);
}

static void h_str_list(struct pctx *p, yaml_node_t *v, void *obj, const struct field *f)
{
	size_t n;
	void *arr = cfg_parse_list(p, v, sizeof(struct config_str), f, i_str, &n);

	cfg_set_list(obj, f, arr, n);
}

static void h_path_list(struct pctx *p, yaml_node_t *v, void *obj, const struct field *f)
{
	size_t n;
	void *arr = cfg_parse_list(p, v, sizeof(struct config_str), f, i_path, &n);

	cfg_set_list(obj, f, arr, n);
}

static void h_domain_list(struct pctx *p, yaml_node_t *v, void *obj, const struct field *f)
{
	size_t n;
	void *arr = cfg_parse_list(p, v, sizeof(struct config_str), f, i_domain, &n);

	cfg_set_list(obj, f, arr, n);
}

static void h_map(struct pctx *p, yaml_node_t *v, void *obj, const struct field *f)
{
	cfg_parse_map(p, v, f->sub, cfg_at(obj, f->off));
}

/* ---- the schema --------------------------------------------------------------- */

#define U16_ANY 1, 65535

static const char *const dataplane_words[] = { "auto", "xfrm", "userspace", NULL };
static const char *const log_words[] = { "error", "warning", "info", "debug", NULL };
static const char *const unique_words[] = { "replace", "keep", "never", NULL };
static const char *const auth_words[] = { "none", "certificate", "eap-mschapv2", "eap-tls",
					  "eap-radius", "psk", NULL };

#define GW(m) offsetof(struct config_gateway, m), offsetof(struct config_gateway, mark.m)
static const struct field gateway_fields[] = {
	{ "id", h_id, GW(id), 0, 0, 0, NULL, F_REQUIRED, NULL },
	{ "listen", h_ip_list, GW(listen), offsetof(struct config_gateway, n_listen), 0, 0, NULL,
	  F_NONEMPTY, NULL },
	{ "port", h_u16, GW(port), 0, U16_ANY, NULL, 0, NULL },
	{ "natt_port", h_u16, GW(natt_port), 0, U16_ANY, NULL, 0, NULL },
	{ "certificate", h_path, GW(certificate), 0, 0, 0, NULL, 0, NULL },
	{ "private_key", h_path, GW(private_key), 0, 0, 0, NULL, 0, NULL },
	{ "dataplane", h_enum, GW(dataplane), 0, 0, 0, dataplane_words, 0, NULL },
	{ "control_socket", h_path, GW(control_socket), 0, 0, 0, NULL, 0, NULL },
	{ "control_group", h_str, GW(control_group), 0, 0, 0, NULL, 0, NULL },
	{ "tun_name", h_str, GW(tun_name), 0, 0, 0, NULL, 0, NULL },
	{ "user", h_str, GW(user), 0, 0, 0, NULL, 0, NULL },
	{ "log_level", h_enum, GW(log_level), 0, 0, 0, log_words, 0, NULL },
	{ "allow_legacy", h_bool, GW(allow_legacy), 0, 0, 0, NULL, 0, NULL },
	/* RFC 7383 2.5: 1280 fits any IPv6 path; 576 is the IPv4 floor */
	{ "fragment_size", h_u16, GW(fragment_size), 0, 576, 65535, NULL, 0, NULL },
	{ "max_half_open", h_u32, GW(max_half_open), 0, 1, 1000000, NULL, 0, NULL },
	{ "cookie_threshold", h_u32, GW(cookie_threshold), 0, 0, 1000000, NULL, 0, NULL },
	{ NULL, NULL, 0, 0, 0, 0, 0, NULL, 0, NULL },
};
#undef GW

#define TR(m) offsetof(struct config_trust, m), offsetof(struct config_trust, mark.m)
static const struct field trust_fields[] = {
	{ "ca", h_path_list, TR(ca), offsetof(struct config_trust, n_ca), 0, 0, NULL, 0, NULL },
	{ "crl", h_path_list, TR(crl), offsetof(struct config_trust, n_crl), 0, 0, NULL, 0,
	  NULL },
	{ NULL, NULL, 0, 0, 0, 0, 0, NULL, 0, NULL },
};
#undef TR

static const struct field proposal_fields[] = {
	{ "ike", h_str_list, offsetof(struct config_proposals, ike_src),
	  offsetof(struct config_proposals, mark.ike), offsetof(struct config_proposals, n_ike),
	  0, 0, NULL, F_NONEMPTY, NULL },
	{ "esp", h_str_list, offsetof(struct config_proposals, esp_src),
	  offsetof(struct config_proposals, mark.esp), offsetof(struct config_proposals, n_esp),
	  0, 0, NULL, F_NONEMPTY, NULL },
	{ NULL, NULL, 0, 0, 0, 0, 0, NULL, 0, NULL },
};

#define LT(m) offsetof(struct config_lifetimes, m), offsetof(struct config_lifetimes, mark.m)
static const struct field lifetime_fields[] = {
	{ "ike", h_duration, LT(ike), 0, 60, UINT32_MAX, NULL, 0, NULL },
	{ "child", h_duration, LT(child), 0, 60, UINT32_MAX, NULL, 0, NULL },
	{ NULL, NULL, 0, 0, 0, 0, 0, NULL, 0, NULL },
};
#undef LT

#define TO(m) offsetof(struct config_timeouts, m), offsetof(struct config_timeouts, mark.m)
static const struct field timeout_fields[] = {
	{ "dpd", h_duration, TO(dpd), 0, 0, UINT32_MAX, NULL, 0, NULL },
	{ "idle", h_duration, TO(idle), 0, 0, UINT32_MAX, NULL, 0, NULL },
	{ "half_open", h_duration, TO(half_open), 0, 1, 300, NULL, 0, NULL },
	{ NULL, NULL, 0, 0, 0, 0, 0, NULL, 0, NULL },
};
#undef TO

static void h_pool_prefix(struct pctx *p, yaml_node_t *v, void *obj, const struct field *f)
{
	struct config_pool *pool = obj;
	struct config_prefix pf;
	int want = (int)f->min;

	if (i_prefix(p, v, &pf) != 0)
		return;
	if (pf.addr.family != want) {
		cfg_perr(p, v, "expected an %s prefix", want == AF_INET ? "IPv4" : "IPv6");
		return;
	}
	*(struct config_prefix *)cfg_at(obj, f->off) = pf;
	if (want == AF_INET)
		pool->has_ipv4 = true;
	else
		pool->has_ipv6 = true;
}

#define PL(m) offsetof(struct config_pool, m), offsetof(struct config_pool, mark.m)
static const struct field pool_fields[] = {
	{ "name", h_str, PL(name), 0, 0, 0, NULL, F_REQUIRED, NULL },
	{ "ipv4", h_pool_prefix, PL(ipv4), 0, AF_INET, 0, NULL, 0, NULL },
	{ "ipv6", h_pool_prefix, PL(ipv6), 0, AF_INET6, 0, NULL, 0, NULL },
	{ "dns", h_ip_list, PL(dns), offsetof(struct config_pool, n_dns), 0, 0, NULL, 0, NULL },
	{ "dns_domains", h_domain_list, PL(dns_domains),
	  offsetof(struct config_pool, n_dns_domains), 0, 0, NULL, 0, NULL },
	{ NULL, NULL, 0, 0, 0, 0, 0, NULL, 0, NULL },
};
#undef PL

static void h_nt_hash(struct pctx *p, yaml_node_t *v, void *obj, const struct field *f)
{
	struct config_user *u = obj;
	const char *s = cfg_scalar(p, v);
	(void)f;

	if (!s)
		return;
	if (strlen(s) != 32 || strspn(s, "0123456789abcdefABCDEF") != 32) {
		cfg_perr(p, v, "an NT hash is 32 hexadecimal digits");
		return;
	}
	for (size_t i = 0; i < 16; i++)
		u->nt_hash[i] = (uint8_t)(cfg_hexval(s[2 * i]) << 4 | cfg_hexval(s[2 * i + 1]));
}

#define US(m) offsetof(struct config_user, m), offsetof(struct config_user, mark.m)
static const struct field user_fields[] = {
	{ "name", h_str, US(name), 0, 0, 0, NULL, F_REQUIRED, NULL },
	{ "nt_hash", h_nt_hash, US(nt_hash), 0, 0, 0, NULL, F_REQUIRED, NULL },
	{ NULL, NULL, 0, 0, 0, 0, 0, NULL, 0, NULL },
};
#undef US

static void h_ip(struct pctx *p, yaml_node_t *v, void *obj, const struct field *f)
{
	i_ip(p, v, cfg_at(obj, f->off));
}

#define RS(m) offsetof(struct config_radius_server, m), \
	offsetof(struct config_radius_server, mark.m)
static const struct field server_fields[] = {
	{ "address", h_ip, RS(address), 0, 0, 0, NULL, F_REQUIRED, NULL },
	{ "port", h_u16, RS(port), 0, U16_ANY, NULL, 0, NULL },
	{ "secret", h_str, RS(secret), 0, 0, 0, NULL, F_REQUIRED, NULL },
	{ NULL, NULL, 0, 0, 0, 0, 0, NULL, 0, NULL },
};
#undef RS

#define MA(m) offsetof(struct config_match, m), offsetof(struct config_match, mark.m)
static const struct field match_fields[] = {
	{ "identity", h_str, MA(identity), 0, 0, 0, NULL, 0, NULL },
	{ "ca", h_path, MA(ca), 0, 0, 0, NULL, 0, NULL },
	{ "subject", h_str, MA(subject), 0, 0, 0, NULL, 0, NULL },
	{ "radius_class", h_str, MA(radius_class), 0, 0, 0, NULL, 0, NULL },
	{ NULL, NULL, 0, 0, 0, 0, 0, NULL, 0, NULL },
};
#undef MA

static void h_auth_list(struct pctx *p, yaml_node_t *v, void *obj, const struct field *f)
{
	struct config_profile *pr = obj;
	size_t n;
	(void)f;

	if (!cfg_expect(p, v, YAML_SEQUENCE_NODE))
		return;
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n < 1 || n > CONFIG_MAX_AUTH_ROUNDS) {
		cfg_perr(p, v, "needs 1 or 2 authentication rounds, got %zu", n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		size_t old = cfg_path_push(p->c, "[%zu]", i);
		int w = word_index(p, cfg_node(p, v->data.sequence.items.start[i]), auth_words + 1);
		cfg_path_pop(p->c, old);
		if (w >= 0)
			pr->auth[pr->n_auth++] = (enum config_auth)(w + 1);
	}
}

#define PR(m) offsetof(struct config_profile, m), offsetof(struct config_profile, mark.m)
static const struct field profile_fields[] = {
	{ "name", h_str, PR(name), 0, 0, 0, NULL, F_REQUIRED, NULL },
	{ "auth", h_auth_list, PR(auth), 0, 0, 0, NULL, F_REQUIRED, NULL },
	{ "psk", h_str, PR(psk), 0, 0, 0, NULL, 0, NULL },
	{ "match", h_map, PR(match), 0, 0, 0, NULL, 0, match_fields },
	{ "pool", h_str, offsetof(struct config_profile, pool_name),
	  offsetof(struct config_profile, mark.pool), 0, 0, 0, NULL, 0, NULL },
	{ "allow", h_prefix_list, PR(allow), offsetof(struct config_profile, n_allow), 0, 0, NULL,
	  F_NONEMPTY, NULL },
	{ "unique", h_enum, PR(unique), 0, 0, 0, unique_words, 0, NULL },
	{ "accept_no_pfs", h_bool, PR(accept_no_pfs), 0, 0, 0, NULL, 0, NULL },
	{ NULL, NULL, 0, 0, 0, 0, 0, NULL, 0, NULL },
};
#undef PR

/* A list of mappings (pools, users, servers, profiles); elements keep their defaults
 * from init and whatever parsed, so later checks still see names of broken entries. */
static void server_init(void *obj)
{
	((struct config_radius_server *)obj)->port = 1812;
}

static void profile_init(void *obj)
{
	struct config_profile *pr = obj;

	pr->unique = CONFIG_UNIQUE_REPLACE;
	pr->accept_no_pfs = true;
}

static void h_pools(struct pctx *p, yaml_node_t *v, void *obj, const struct field *f)
{
	struct config *cfg = obj;
	(void)f;

	cfg->pools = cfg_parse_map_list(p, v, sizeof(*cfg->pools), pool_fields, NULL, &cfg->n_pools);
	for (size_t i = 0; i < cfg->n_pools; i++)
		cfg->pools[i].mark.self = cfg_mark_of(cfg_node(p, v->data.sequence.items.start[i]));
}

static void h_users(struct pctx *p, yaml_node_t *v, void *obj, const struct field *f)
{
	struct config *cfg = obj;
	(void)f;

	cfg->users = cfg_parse_map_list(p, v, sizeof(*cfg->users), user_fields, NULL, &cfg->n_users);
	for (size_t i = 0; i < cfg->n_users; i++)
		cfg->users[i].mark.self = cfg_mark_of(cfg_node(p, v->data.sequence.items.start[i]));
}

static void h_servers(struct pctx *p, yaml_node_t *v, void *obj, const struct field *f)
{
	struct config_radius *r = obj;
	(void)f;

	r->servers = cfg_parse_map_list(p, v, sizeof(*r->servers), server_fields, server_init,
				    &r->n_servers);
	for (size_t i = 0; i < r->n_servers; i++)
		r->servers[i].mark.self = cfg_mark_of(cfg_node(p, v->data.sequence.items.start[i]));
}

static void h_profiles(struct pctx *p, yaml_node_t *v, void *obj, const struct field *f)
{
	struct config *cfg = obj;
	(void)f;

	cfg->profiles = cfg_parse_map_list(p, v, sizeof(*cfg->profiles), profile_fields,
				       profile_init, &cfg->n_profiles);
	for (size_t i = 0; i < cfg->n_profiles; i++)
		cfg->profiles[i].mark.self = cfg_mark_of(cfg_node(p, v->data.sequence.items.start[i]));
}

#define RA(m) offsetof(struct config_radius, m), offsetof(struct config_radius, mark.m)
static const struct field radius_fields[] = {
	{ "servers", h_servers, 0, offsetof(struct config_radius, mark.servers), 0, 0, 0, NULL,
	  0, NULL },
	{ "timeout", h_duration, RA(timeout), 0, 1, 60, NULL, 0, NULL },
	{ "retries", h_u32, RA(retries), 0, 0, 10, NULL, 0, NULL },
	{ NULL, NULL, 0, 0, 0, 0, 0, NULL, 0, NULL },
};
#undef RA

#define TOP(m) offsetof(struct config, m), offsetof(struct config, m.mark.self)
const struct field cfg_top_fields[] = {
	{ "gateway", h_map, TOP(gateway), 0, 0, 0, NULL, F_REQUIRED, gateway_fields },
	{ "trust", h_map, TOP(trust), 0, 0, 0, NULL, 0, trust_fields },
	{ "proposals", h_map, TOP(proposals), 0, 0, 0, NULL, 0, proposal_fields },
	{ "lifetimes", h_map, TOP(lifetimes), 0, 0, 0, NULL, 0, lifetime_fields },
	{ "timeouts", h_map, TOP(timeouts), 0, 0, 0, NULL, 0, timeout_fields },
	{ "pools", h_pools, 0, offsetof(struct config, mark.pools), 0, 0, 0, NULL, 0,
	  NULL },
	{ "users", h_users, 0, offsetof(struct config, mark.users), 0, 0, 0, NULL, 0,
	  NULL },
	{ "radius", h_map, TOP(radius), 0, 0, 0, NULL, 0, radius_fields },
	{ "profiles", h_profiles, 0, offsetof(struct config, mark.profiles), 0, 0, 0, NULL,
	  F_REQUIRED, NULL },
	{ NULL, NULL, 0, 0, 0, 0, 0, NULL, 0, NULL },
};
#undef TOP

