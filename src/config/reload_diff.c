/* SPDX-License-Identifier: ISC */
/*
 * What a reload changes, as names: the comparison of two config generations and the
 * report (JSON for `ikegwctl reload`, one log line).  No SA or pool is touched here;
 * reload.c applies the difference.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ikegw/json.h"
#include "ikegw/reload.h"

/* ---- the report ---------------------------------------------------------------------- */

static void names_clear(struct reload_names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int names_add(struct reload_names *l, const char *name)
{
	char **grown = realloc(l->v, (l->n + 1) * sizeof(*l->v));

	if (!grown)
		return -ENOMEM;
	l->v = grown;
	if (!(l->v[l->n] = strdup(name ? name : "")))
		return -ENOMEM;
	l->n++;
	return 0;
}

void reload_report_init(struct reload_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	config_errors_init(&rep->errors);
}

void reload_report_clear(struct reload_report *rep)
{
	config_errors_clear(&rep->errors);
	names_clear(&rep->profiles_added);
	names_clear(&rep->profiles_removed);
	names_clear(&rep->profiles_changed);
	names_clear(&rep->pools_added);
	names_clear(&rep->pools_removed);
	names_clear(&rep->pools_changed);
	names_clear(&rep->settings);
	names_clear(&rep->restart);
	reload_report_init(rep);
}

/* ---- comparisons --------------------------------------------------------------------- */

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Secrets (PSKs, RADIUS secrets): no early exit on the first differing byte. */
static bool secret_eq(const char *a, const char *b)
{
	size_t n;

	if (!a || !b)
		return !a && !b;
	n = strlen(a);
	return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

static bool ip_eq(const struct config_ip *a, const struct config_ip *b)
{
	return a->family == b->family &&
	       memcmp(&a->u, &b->u, a->family == AF_INET ? 4 : 16) == 0;
}

static bool prefix_eq(const struct config_prefix *a, const struct config_prefix *b)
{
	return a->len == b->len && ip_eq(&a->addr, &b->addr);
}

static bool ips_eq(const struct config_ip *a, size_t na, const struct config_ip *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!ip_eq(&a[i], &b[i]))
			return false;
	return true;
}

static bool prefixes_eq(const struct config_prefix *a, size_t na,
			const struct config_prefix *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!prefix_eq(&a[i], &b[i]))
			return false;
	return true;
}

static bool strs_eq(const struct config_str *a, size_t na, const struct config_str *b,
		    size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!str_eq(a[i].s, b[i].s))
			return false;
	return true;
}

static bool match_eq(const struct config_match *a, const struct config_match *b)
{
	return str_eq(a->identity, b->identity) && str_eq(a->ca, b->ca) &&
	       str_eq(a->subject, b->subject) && str_eq(a->radius_class, b->radius_class);
}

/* A profile's own settings; its pool's range and DNS are the pool's change. */
static bool profile_eq(const struct config_profile *a, const struct config_profile *b)
{
	if (a->n_auth != b->n_auth || memcmp(a->auth, b->auth, sizeof(a->auth)) != 0)
		return false;
	return secret_eq(a->psk, b->psk) && match_eq(&a->match, &b->match) &&
	       str_eq(a->pool_name, b->pool_name) &&
	       prefixes_eq(a->allow, a->n_allow, b->allow, b->n_allow) &&
	       a->unique == b->unique && a->accept_no_pfs == b->accept_no_pfs;
}

static bool pool_eq(const struct config_pool *a, const struct config_pool *b)
{
	if (a->has_ipv4 != b->has_ipv4 || a->has_ipv6 != b->has_ipv6)
		return false;
	if ((a->has_ipv4 && !prefix_eq(&a->ipv4, &b->ipv4)) ||
	    (a->has_ipv6 && !prefix_eq(&a->ipv6, &b->ipv6)))
		return false;
	return ips_eq(a->dns, a->n_dns, b->dns, b->n_dns) &&
	       strs_eq(a->dns_domains, a->n_dns_domains, b->dns_domains, b->n_dns_domains);
}

static bool users_eq(const struct config *a, const struct config *b)
{
	if (a->n_users != b->n_users)
		return false;
	for (size_t i = 0; i < a->n_users; i++)
		if (!str_eq(a->users[i].name, b->users[i].name) ||
		    CRYPTO_memcmp(a->users[i].nt_hash, b->users[i].nt_hash, 16) != 0)
			return false;
	return true;
}

static bool radius_eq(const struct config_radius *a, const struct config_radius *b)
{
	if (a->n_servers != b->n_servers || a->timeout != b->timeout || a->retries != b->retries)
		return false;
	for (size_t i = 0; i < a->n_servers; i++)
		if (!ip_eq(&a->servers[i].address, &b->servers[i].address) ||
		    a->servers[i].port != b->servers[i].port ||
		    !secret_eq(a->servers[i].secret, b->servers[i].secret))
			return false;
	return true;
}

/* ---- the diff ------------------------------------------------------------------------ */

static int diff_profiles(const struct config *old, const struct config *nc,
			 struct reload_report *rep)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < nc->n_profiles; i++) {
		const struct config_profile *o = config_find_profile(old, nc->profiles[i].name);

		if (!o)
			rc = names_add(&rep->profiles_added, nc->profiles[i].name);
		else if (!profile_eq(o, &nc->profiles[i]))
			rc = names_add(&rep->profiles_changed, nc->profiles[i].name);
	}
	for (size_t i = 0; rc == 0 && i < old->n_profiles; i++)
		if (!config_find_profile(nc, old->profiles[i].name))
			rc = names_add(&rep->profiles_removed, old->profiles[i].name);
	return rc;
}

static int diff_pools(const struct config *old, const struct config *nc,
		      struct reload_report *rep)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < nc->n_pools; i++) {
		const struct config_pool *o = config_find_pool(old, nc->pools[i].name);

		if (!o)
			rc = names_add(&rep->pools_added, nc->pools[i].name);
		else if (!pool_eq(o, &nc->pools[i]))
			rc = names_add(&rep->pools_changed, nc->pools[i].name);
	}
	for (size_t i = 0; rc == 0 && i < old->n_pools; i++)
		if (!config_find_pool(nc, old->pools[i].name))
			rc = names_add(&rep->pools_removed, old->pools[i].name);
	return rc;
}

static int diff_settings(const struct config *o, const struct config *n,
			 struct reload_report *rep)
{
	const struct config_gateway *og = &o->gateway, *ng = &n->gateway;
	const struct {
		const char *name;
		bool same;
	} s[] = {
		{ "gateway.id", str_eq(og->id, ng->id) },
		{ "gateway.certificate", str_eq(og->certificate, ng->certificate) },
		{ "gateway.private_key", str_eq(og->private_key, ng->private_key) },
		{ "gateway.log_level", og->log_level == ng->log_level },
		{ "gateway.allow_legacy", og->allow_legacy == ng->allow_legacy },
		{ "gateway.fragment_size", og->fragment_size == ng->fragment_size },
		{ "gateway.max_half_open", og->max_half_open == ng->max_half_open },
		{ "gateway.cookie_threshold", og->cookie_threshold == ng->cookie_threshold },
		{ "trust", strs_eq(o->trust.ca, o->trust.n_ca, n->trust.ca, n->trust.n_ca) &&
				   strs_eq(o->trust.crl, o->trust.n_crl, n->trust.crl, n->trust.n_crl) },
		{ "proposals", strs_eq(o->proposals.ike_src, o->proposals.n_ike,
				       n->proposals.ike_src, n->proposals.n_ike) &&
				       strs_eq(o->proposals.esp_src, o->proposals.n_esp,
					       n->proposals.esp_src, n->proposals.n_esp) },
		{ "lifetimes", o->lifetimes.ike == n->lifetimes.ike &&
				       o->lifetimes.child == n->lifetimes.child },
		{ "timeouts", o->timeouts.dpd == n->timeouts.dpd && o->timeouts.idle == n->timeouts.idle &&
				      o->timeouts.half_open == n->timeouts.half_open },
		{ "users", users_eq(o, n) },
		{ "radius", radius_eq(&o->radius, &n->radius) },
	};
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < sizeof(s) / sizeof(s[0]); i++)
		if (!s[i].same)
			rc = names_add(&rep->settings, s[i].name);
	return rc;
}

/* Replace *dst with a copy of src (either may be NULL). */
static int str_keep(char **dst, const char *src)
{
	char *c = src ? strdup(src) : NULL;

	if (src && !c)
		return -ENOMEM;
	free(*dst);
	*dst = c;
	return 0;
}

static int keep_listen(struct config_gateway *ng, const struct config_gateway *og)
{
	struct config_ip *c = calloc(og->n_listen ? og->n_listen : 1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	memcpy(c, og->listen, og->n_listen * sizeof(*c));
	free(ng->listen);
	ng->listen = c;
	ng->n_listen = og->n_listen;
	return 0;
}

static int keep_str(char **ns, const char *os, const char *name, struct reload_report *rep)
{
	int rc;

	if (str_eq(*ns, os))
		return 0;
	rc = str_keep(ns, os);
	return rc ? rc : names_add(&rep->restart, name);
}

static int keep_port(uint16_t *np, uint16_t op, const char *name, struct reload_report *rep)
{
	if (*np == op)
		return 0;
	*np = op;
	return names_add(&rep->restart, name);
}

/* Bound at start (sockets, TUN, control socket, user): the running values stay. */
static int diff_restart(const struct config_gateway *og, struct config_gateway *ng,
			struct reload_report *rep)
{
	int rc = 0;

	if (!ips_eq(og->listen, og->n_listen, ng->listen, ng->n_listen) &&
	    (rc = keep_listen(ng, og)) == 0)
		rc = names_add(&rep->restart, "gateway.listen");
	if (rc == 0)
		rc = keep_port(&ng->port, og->port, "gateway.port", rep);
	if (rc == 0)
		rc = keep_port(&ng->natt_port, og->natt_port, "gateway.natt_port", rep);
	if (rc == 0 && ng->dataplane != og->dataplane) {
		ng->dataplane = og->dataplane;
		rc = names_add(&rep->restart, "gateway.dataplane");
	}
	if (rc == 0)
		rc = keep_str(&ng->control_socket, og->control_socket, "gateway.control_socket", rep);
	if (rc == 0)
		rc = keep_str(&ng->control_group, og->control_group, "gateway.control_group", rep);
	if (rc == 0)
		rc = keep_str(&ng->tun_name, og->tun_name, "gateway.tun_name", rep);
	if (rc == 0)
		rc = keep_str(&ng->user, og->user, "gateway.user", rep);
	return rc;
}

int reload_diff(const struct config *old, struct config *newcfg, struct reload_report *rep)
{
	int rc = diff_profiles(old, newcfg, rep);

	if (rc == 0)
		rc = diff_pools(old, newcfg, rep);
	if (rc == 0)
		rc = diff_settings(old, newcfg, rep);
	if (rc == 0)
		rc = diff_restart(&old->gateway, &newcfg->gateway, rep);
	return rc;
}

/* ---- output -------------------------------------------------------------------------- */

static void json_names(struct json *j, const char *key, const struct reload_names *l)
{
	json_karr_begin(j, key);
	for (size_t i = 0; i < l->n; i++)
		json_str(j, l->v[i]);
	json_arr_end(j);
}

static void json_changes(struct json *j, const char *key, const struct reload_names *added,
			 const struct reload_names *removed, const struct reload_names *changed)
{
	json_kobj_begin(j, key);
	json_names(j, "added", added);
	json_names(j, "removed", removed);
	json_names(j, "changed", changed);
	json_obj_end(j);
}

void reload_report_json(const struct reload_report *rep, struct json *j)
{
	if (!rep->ok) {
		json_kstr(j, "error", rep->error[0] ? rep->error : "reload failed");
		json_karr_begin(j, "errors");
		for (size_t i = 0; i < rep->errors.n; i++)
			json_str(j, rep->errors.msg[i]);
		json_arr_end(j);
		return;
	}
	json_kbool(j, "reloaded", true);
	json_changes(j, "profiles", &rep->profiles_added, &rep->profiles_removed,
		     &rep->profiles_changed);
	json_changes(j, "pools", &rep->pools_added, &rep->pools_removed, &rep->pools_changed);
	json_names(j, "settings_changed", &rep->settings);
	json_names(j, "restart_required", &rep->restart);
	json_kobj_begin(j, "sas");
	json_ku64(j, "kept", rep->sas_kept);
	json_ku64(j, "deleted", rep->sas_deleted);
	json_obj_end(j);
	json_kobj_begin(j, "leases");
	json_ku64(j, "moved", rep->leases_moved);
	json_ku64(j, "draining", rep->leases_draining);
	json_obj_end(j);
}
