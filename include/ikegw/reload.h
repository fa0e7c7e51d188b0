/* SPDX-License-Identifier: ISC */
/*
 * Hitless reload (SIGHUP, `ikegwctl reload`; SPEC.md "Behaviour every user expects").
 *
 * The new file is parsed and validated completely, and the new trust store, our own
 * certificate and key, and any new pool are built, before anything running is touched;
 * on any error the gateway keeps the old config and the report says why.  Then the
 * difference is applied:
 *   - an SA whose profile (by name) still exists stays up untouched and is re-pointed to
 *     the new profile, whose settings apply from its next exchange/rekey; a profile is
 *     "changed" when any of its own settings differ (auth, psk, match, pool, allow,
 *     unique, accept_no_pfs);
 *   - an SA of a removed profile is deleted, with a Delete to the client when it is
 *     established;
 *   - pools are matched by name: a kept pool is resized in place (pool_resize), so no
 *     lease in use is taken away; a lease outside every new range drains (it is never
 *     handed out again and is released when its SA goes); a lease whose address now lies
 *     in another pool's range moves to that pool, so the two can never collide;
 *   - trust (CAs, CRLs), our certificate and key and the CERTREQ hashes are reloaded;
 *     proposals, lifetimes, timeouts, users, RADIUS and log_level take effect for the
 *     next exchange;
 *   - settings bound at start (listen, port, natt_port, dataplane, control_socket,
 *     control_group, tun_name, user) keep their running values and are reported as
 *     "restart_required".
 *
 * Ownership: reload_apply() takes newcfg and, on success, frees the config gw ran on.
 * So whoever owns gw frees gw->cfg (not the pointer it gave gw_init) at exit.
 */
#ifndef IKEGW_RELOAD_H
#define IKEGW_RELOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "ikegw/config.h"

struct gw;
struct json;
struct notify;

/* A list of names (profiles, pools, settings) the report mentions. */
struct reload_names {
	char **v;
	size_t n;
};

struct reload_report {
	bool ok;
	char error[256];                /* why it failed, when !ok */
	struct config_errors errors;    /* the config's own errors, when !ok */
	struct reload_names profiles_added, profiles_removed, profiles_changed;
	struct reload_names pools_added, pools_removed, pools_changed;
	struct reload_names settings;   /* other sections that changed ("proposals", ...) */
	struct reload_names restart;    /* changed but kept until a restart ("gateway.port") */
	size_t sas_kept, sas_deleted;
	size_t leases_moved, leases_draining;
};

void reload_report_init(struct reload_report *rep);
void reload_report_clear(struct reload_report *rep);

/*
 * What changed from old to new (names and settings only, no SA work).  Settings that
 * need a restart are copied from old into new (new then runs like old) and listed in
 * rep->restart.  0 or -ENOMEM.
 */
int reload_diff(const struct config *old, struct config *newcfg, struct reload_report *rep);

/* Apply newcfg to a running gw (see above); takes newcfg in every case.  0 or -errno. */
int reload_apply(struct gw *gw, struct config *newcfg, struct reload_report *rep);

/* config_load(path) then reload_apply(); a config error is -EINVAL with rep->errors. */
int reload_from_file(struct gw *gw, const char *path, struct reload_report *rep);

/*
 * The report as members of the control answer: "reloaded", "config", "profiles",
 * "pools", "settings_changed", "restart_required", "sas", "leases"; or "error" and
 * "errors" on failure.
 */
void reload_report_json(const struct reload_report *rep, struct json *j);
/* One summary line (info) or the error lines (err) to gw's log. */
void reload_report_log(struct gw *gw, const struct reload_report *rep);

/* What the daemon's SIGHUP handler and the ctl hook share. */
struct reload_ctx {
	struct gw *gw;
	struct notify *notify; /* RELOADING=1 ... READY=1 around the reload; may be NULL */
	bool force_debug;      /* ikegwd -d: keep debug logging whatever the file says */
};

/* Reload gw->cfg->path: notify, load, apply, log; the report into j when not NULL. */
int reload_run(struct reload_ctx *x, struct json *j);
/* ctl_reload_fn for ctl_server_set_reload(srv, reload_ctl_hook, &ctx). */
int reload_ctl_hook(void *arg, struct json *j);

#endif
