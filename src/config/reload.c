/* SPDX-License-Identifier: ISC */
/*
 * Applying a new config generation to the running gateway (see include/ikegw/reload.h).
 *
 * Two phases: prepare builds everything new that can fail (trust store, own credentials,
 * CERTREQ hashes, new pools) without touching the running state; commit then only moves
 * pointers, deletes the SAs of removed profiles, resizes kept pools and relocates leases.
 * So a failed reload leaves the gateway exactly as it was.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ikegw/cert.h"
#include "ikegw/exchange.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/json.h"
#include "ikegw/notify.h"
#include "ikegw/pool.h"
#include "ikegw/reload.h"
#include "ikegw/radius_client.h"
#include "ikegw/mschapv2.h"
#include "ikegw/sa_table.h"
#include "ikegw/suite.h"

#define RELOAD_PATHS_MAX 64

static const int reload_log_prio[] = {
	[CONFIG_LOG_ERROR] = LOG_ERR, [CONFIG_LOG_WARNING] = LOG_WARNING,
	[CONFIG_LOG_INFO] = LOG_INFO, [CONFIG_LOG_DEBUG] = LOG_DEBUG,
};

/* Everything new, built before anything running changes. */
struct reload_plan {
	struct cert_store *trust;
	struct cert_own *own;
	uint8_t *certreq;
	size_t certreq_len;
	struct pool **pools; /* parallel to newcfg->pools; kept ones are the running objects */
	bool *kept;          /* parallel to the old cfg->pools: taken over by a new pool */
};

static int reload_fail(struct reload_report *rep, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int reload_fail(struct reload_report *rep, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rep->error, sizeof(rep->error), fmt, ap);
	va_end(ap);
	rep->ok = false;
	return rc;
}

/* ---- prepare: trust ------------------------------------------------------------------- */

static int plan_trust(struct gw *gw, const struct config *nc, struct reload_plan *p,
		      struct reload_report *rep)
{
	const char *ca[RELOAD_PATHS_MAX], *crl[RELOAD_PATHS_MAX];
	size_t nca = nc->trust.n_ca, ncrl = nc->trust.n_crl;
	struct cert_error err = { 0 };

	if (nca > RELOAD_PATHS_MAX || ncrl > RELOAD_PATHS_MAX)
		return reload_fail(rep, -E2BIG, "trust: more than %d CA or CRL files", RELOAD_PATHS_MAX);
	for (size_t i = 0; i < nca; i++) {
		ca[i] = nc->trust.ca[i].s;
		if (gw_certreq_add(gw, ca[i], &p->certreq, &p->certreq_len) != 0)
			log_warn(&gw->log, NULL, "reload: cannot hash CA %s for CERTREQ", ca[i]);
	}
	for (size_t i = 0; i < ncrl; i++)
		crl[i] = nc->trust.crl[i].s;
	if (nca > 0 && !(p->trust = cert_store_new(ca, nca, crl, ncrl, &err)))
		return reload_fail(rep, -EINVAL, "trust store: %s", err.reason);
	if (nc->gateway.certificate &&
	    !(p->own = cert_own_new(nc->gateway.certificate, nc->gateway.private_key, &err)))
		return reload_fail(rep, -EINVAL, "gateway certificate: %s", err.reason);
	return 0;
}

/* ---- prepare: pools ------------------------------------------------------------------- */


/* The gateway's own addresses are never handed out (SPEC.md "pools"). */
static void pool_reserve_listen(struct pool *pool, const struct config *cfg)
{
	for (size_t j = 0; j < cfg->gateway.n_listen; j++) {
		struct ip_addr a = { .family = (uint8_t)cfg->gateway.listen[j].family };

		memcpy(a.bytes, &cfg->gateway.listen[j].u, a.family == AF_INET ? 4 : 16);
		if (pool_contains(pool, &a))
			pool_reserve(pool, &a);
	}
}

static struct pool *pool_from_config(const struct config_pool *cp)
{
	struct ip_prefix v4, v6;

	gw_prefix_from_config(&v4, &cp->ipv4);
	gw_prefix_from_config(&v6, &cp->ipv6);
	return pool_new(cp->name, cp->has_ipv4 ? &v4 : NULL, cp->has_ipv6 ? &v6 : NULL);
}

static int plan_pools(struct gw *gw, const struct config *nc, struct reload_plan *p,
		      struct reload_report *rep)
{
	const struct config *old = gw->cfg;

	p->pools = calloc(nc->n_pools ? nc->n_pools : 1, sizeof(*p->pools));
	p->kept = calloc(old->n_pools ? old->n_pools : 1, sizeof(*p->kept));
	if (!p->pools || !p->kept)
		return reload_fail(rep, -ENOMEM, "%s", "out of memory");
	for (size_t i = 0; i < nc->n_pools; i++) {
		const struct config_pool *o = config_find_pool(old, nc->pools[i].name);

		if (o) {
			p->kept[o - old->pools] = true;
			p->pools[i] = gw->pools[o - old->pools];
			continue;
		}
		p->pools[i] = pool_from_config(&nc->pools[i]);
		if (!p->pools[i])
			return reload_fail(rep, -EINVAL, "pool %s cannot be created", nc->pools[i].name);
		pool_reserve_listen(p->pools[i], nc);
	}
	return 0;
}

/* After a failure: free what was built, never what runs. */
static void plan_abort(struct gw *gw, const struct config *nc, struct reload_plan *p)
{
	for (size_t i = 0; p->pools && i < nc->n_pools; i++)
		if (p->pools[i] && !config_find_pool(gw->cfg, nc->pools[i].name))
			pool_free(p->pools[i]);
	free(p->pools);
	free(p->kept);
	free(p->certreq);
	cert_store_free(p->trust);
	cert_own_free(p->own);
}

/* ---- commit: SAs ---------------------------------------------------------------------- */

struct sa_walk {
	struct gw *gw;
	const struct config *nc;
	struct reload_plan *plan;
	struct reload_report *rep;
};

/* Every SA follows its profile by name into the new config, or goes with it. */
static int sa_follow_profile(struct sa_table_entry *e, void *arg)
{
	struct ike_sa *sa = ike_sa_from_entry(e);
	struct sa_walk *w = arg;
	const struct config_profile *np;

	if (!sa->profile || sa->state == IKE_SA_DELETED)
		return 0;
	np = config_find_profile(w->nc, sa->profile->name);
	if (np) {
		sa->profile = np;
		w->rep->sas_kept += sa->state == IKE_SA_ESTABLISHED;
		return 0;
	}
	log_info(&w->gw->log, sa->tag, "reload: profile '%s' was removed: deleting the IKE SA%s",
		 sa->profile->name, exchange_send_delete(sa) == 0 ? ", Delete sent" : "");
	ike_sa_free(sa);
	w->rep->sas_deleted++;
	return 0;
}

static bool plan_has_pool(const struct reload_plan *p, size_t n, const struct pool *pool)
{
	for (size_t i = 0; i < n; i++)
		if (p->pools[i] == pool)
			return true;
	return false;
}

/* Move an SA's lease into target, which now owns that address. */
static void lease_move(struct sa_walk *w, struct ike_sa *sa, struct pool *target)
{
	struct ip_addr got;

	if (pool_lease_get(target, sa->vip.family, sa->peer_id, &sa->vip, loop_now(w->gw->loop),
			   &got) != 0) {
		log_warn(&w->gw->log, sa->tag, "reload: cannot move its address to pool %s",
			 pool_name(target));
		return;
	}
	if (memcmp(got.bytes, sa->vip.bytes, sizeof(got.bytes)) != 0) {
		pool_lease_put(target, &got); /* it was taken: cannot happen with disjoint pools */
		return;
	}
	if (sa->pool)
		pool_lease_put(sa->pool, &sa->vip);
	sa->pool = target;
	w->rep->leases_moved++;
}

/* A lease belongs to the pool whose new range holds it; else it drains where it is. */
static int sa_relocate_lease(struct sa_table_entry *e, void *arg)
{
	struct ike_sa *sa = ike_sa_from_entry(e);
	struct sa_walk *w = arg;
	struct pool *target = NULL;

	if (!sa->has_vip || sa->state == IKE_SA_DELETED)
		return 0;
	for (size_t i = 0; i < w->nc->n_pools && !target; i++)
		if (pool_contains(w->plan->pools[i], &sa->vip))
			target = w->plan->pools[i];
	if (target && target != sa->pool)
		lease_move(w, sa, target);
	if (!target)
		w->rep->leases_draining++;
	if (sa->pool != target && !plan_has_pool(w->plan, w->nc->n_pools, sa->pool))
		sa->pool = NULL; /* its pool goes away; the address is in no range any more */
	return 0;
}

/* ---- commit: pools and trust ---------------------------------------------------------- */

static void commit_pools(struct gw *gw, const struct config *nc, struct reload_plan *p,
			 struct sa_walk *w)
{
	const struct config *old = gw->cfg;

	for (size_t i = 0; i < nc->n_pools; i++) {
		const struct config_pool *cp = &nc->pools[i];
		struct ip_prefix v4, v6;

		if (!config_find_pool(old, cp->name))
			continue;
		gw_prefix_from_config(&v4, &cp->ipv4);
		gw_prefix_from_config(&v6, &cp->ipv6);
		if (pool_resize(p->pools[i], cp->has_ipv4 ? &v4 : NULL, cp->has_ipv6 ? &v6 : NULL))
			log_warn(&gw->log, NULL, "reload: pool %s keeps its previous range", cp->name);
		pool_reserve_listen(p->pools[i], nc);
	}
	sa_table_foreach(gw->sas, sa_relocate_lease, w);
	for (size_t i = 0; i < old->n_pools; i++)
		if (!p->kept[i])
			pool_free(gw->pools[i]);
	free(gw->pools);
	free(p->kept);
	gw->pools = p->pools;
}

/*
 * The gateway drops its references to the old store and credential set; a crypto job in
 * flight holds its own (ike_auth_cert.c, ike_auth_sign.c) and frees the last one, so it
 * finishes with what it was submitted with, and later requests get the new ones.
 */
static void commit_trust(struct gw *gw, struct reload_plan *p)
{
	cert_store_free(gw->trust);
	cert_own_free(gw->own);
	free(gw->certreq);
	gw->trust = p->trust;
	gw->own = p->own;
	gw->certreq = p->certreq;
	gw->certreq_len = p->certreq_len;
}

/*
 * EAP back ends follow the new config: the MSCHAPv2 context appears with the first users:
 * entry, and the RADIUS client (it keeps its own copy of radius:) is rebuilt.  Sign-ins in
 * flight hold requests of the old client, so it is only replaced when none is pending;
 * otherwise radius: changes wait for the next reload, and the log says so.
 */
static void commit_eap(struct gw *gw, const struct config *nc)
{
	struct radius_client *fresh;

	if (!gw->mschapv2 && nc->n_users > 0 && !(gw->mschapv2 = mschapv2_ctx_new()))
		log_warn(&gw->log, NULL, "reload: MD4/DES unavailable: eap-mschapv2 refuses clients");
	if (gw->radius && radius_client_pending(gw->radius) > 0) {
		log_warn(&gw->log, NULL, "reload: RADIUS requests in flight: radius: changes "
			 "apply at the next reload");
		return;
	}
	fresh = nc->radius.n_servers ? radius_client_new(gw->loop, &nc->radius, &gw->log) : NULL;
	if (nc->radius.n_servers && !fresh) {
		log_err(&gw->log, NULL, "reload: new RADIUS client failed; keeping the old servers");
		return;
	}
	radius_client_free(gw->radius);
	gw->radius = fresh;
}

int reload_apply(struct gw *gw, struct config *newcfg, struct reload_report *rep)
{
	struct reload_plan plan = { 0 };
	struct sa_walk w = { gw, newcfg, &plan, rep };
	struct config *old = gw->cfg;
	int rc;

	rc = reload_diff(old, newcfg, rep);
	if (rc != 0)
		rc = reload_fail(rep, rc, "%s", "out of memory");
	if (rc == 0)
		rc = plan_trust(gw, newcfg, &plan, rep);
	if (rc == 0)
		rc = plan_pools(gw, newcfg, &plan, rep);
	if (rc != 0) {
		plan_abort(gw, newcfg, &plan);
		config_free(newcfg);
		return rc;
	}
	sa_table_foreach(gw->sas, sa_follow_profile, &w);
	commit_pools(gw, newcfg, &plan, &w);
	commit_trust(gw, &plan);
	commit_eap(gw, newcfg);
	if (newcfg->gateway.log_level != old->gateway.log_level)
		gw->log.level = reload_log_prio[newcfg->gateway.log_level];
	gw->half_open_max = newcfg->gateway.max_half_open;
	gw->cookie_threshold = newcfg->gateway.cookie_threshold;
	gw->cfg = newcfg;
	config_free(old);
	rep->ok = true;
	return 0;
}

/* ---- loading, logging, the daemon's entry points -------------------------------------- */

static int reload_load(const char *path, struct config **out, struct reload_report *rep)
{
	int rc = config_load(path, out, &rep->errors);

	if (rc == 0)
		return 0;
	if (rep->errors.n == 0)
		snprintf(rep->error, sizeof(rep->error), "%s: %s; keeping the running configuration",
			 path, strerror(-rc));
	else
		snprintf(rep->error, sizeof(rep->error),
			 "%s has errors; keeping the running configuration", path);
	rep->ok = false;
	return rc;
}

int reload_from_file(struct gw *gw, const char *path, struct reload_report *rep)
{
	struct config *nc = NULL;
	int rc = reload_load(path, &nc, rep);

	return rc ? rc : reload_apply(gw, nc, rep);
}

/* "a, b" (or "-") into buf. */
static const char *names_text(const struct reload_names *l, char *buf, size_t len)
{
	size_t off = 0;

	snprintf(buf, len, "-");
	for (size_t i = 0; i < l->n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", l->v[i]);
	return buf;
}

void reload_report_log(struct gw *gw, const struct reload_report *rep)
{
	char a[256], r[256], c[256], s[256];

	if (!rep->ok) {
		log_err(&gw->log, NULL, "reload failed: %s", rep->error);
		for (size_t i = 0; i < rep->errors.n; i++)
			log_err(&gw->log, NULL, "%s", rep->errors.msg[i]);
		return;
	}
	log_info(&gw->log, NULL,
		 "reloaded: profiles added [%s] removed [%s] changed [%s]; IKE SAs kept %zu, "
		 "deleted %zu; leases moved %zu, draining %zu; settings changed [%s]",
		 names_text(&rep->profiles_added, a, sizeof(a)),
		 names_text(&rep->profiles_removed, r, sizeof(r)),
		 names_text(&rep->profiles_changed, c, sizeof(c)), rep->sas_kept, rep->sas_deleted,
		 rep->leases_moved, rep->leases_draining, names_text(&rep->settings, s, sizeof(s)));
	if (rep->restart.n)
		log_warn(&gw->log, NULL, "reload: these settings keep their running values until "
					 "a restart: %s", names_text(&rep->restart, s, sizeof(s)));
}

int reload_run(struct reload_ctx *x, struct json *j)
{
	struct reload_report rep;
	struct config *nc = NULL;
	char status[128];
	int rc;

	if (x->notify)
		notify_reloading(x->notify);
	reload_report_init(&rep);
	rc = reload_load(x->gw->cfg->path, &nc, &rep);
	if (rc == 0 && x->force_debug)
		nc->gateway.log_level = CONFIG_LOG_DEBUG;
	if (rc == 0)
		rc = reload_apply(x->gw, nc, &rep);
	reload_report_log(x->gw, &rep);
	if (j)
		reload_report_json(&rep, j);
	if (rc == 0)
		snprintf(status, sizeof(status), "reloaded: %zu IKE SAs kept, %zu deleted",
			 rep.sas_kept, rep.sas_deleted);
	else
		snprintf(status, sizeof(status), "reload failed: running the previous configuration");
	if (x->notify)
		notify_ready(x->notify, status);
	reload_report_clear(&rep);
	return rc;
}

int reload_ctl_hook(void *arg, struct json *j)
{
	return reload_run(arg, j);
}
