/* SPDX-License-Identifier: ISC */
/*
 * The control commands (SPEC.md "ikegwctl"): one table, one handler each.  A handler
 * writes the members of the answer object; on failure it returns a negative errno with
 * a message in x->err, and the whole answer becomes {"error": message}.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ikegw/config.h"
#include "ikegw/ctl.h"
#include "ikegw/dataplane.h"
#include "ikegw/gw.h"
#include "ikegw/create_child.h"
#include "ikegw/ike_rekey.h"
#include "ikegw/ike_sa.h"
#include "ikegw/ikev2.h"
#include "ikegw/pool.h"
#include "ikegw/sa_table.h"
#include "ikegw/suite.h"
#include "ikegw/ts.h"

#ifndef IKEGW_VERSION
#define IKEGW_VERSION "unknown"
#endif

struct cmd_ctx {
	struct gw *gw;
	const struct ctl_hooks *hooks;
	char err[256];
};

struct cmd {
	const char *name;
	const char *usage;
	int min_args, max_args; /* words after the command name */
	int (*fn)(struct cmd_ctx *x, int argc, char **argv, struct json *j);
};

__attribute__((format(printf, 2, 3))) static int cmd_fail(struct cmd_ctx *x, const char *fmt,
							    ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->err, sizeof(x->err), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* ---- formatting ---------------------------------------------------------------------- */

static void sockaddr_text(const struct sockaddr_storage *ss, char *out, size_t len)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)ss;
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &a4->sin_addr, ip, sizeof(ip));
		snprintf(out, len, "%s:%u", ip, ntohs(a4->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &a6->sin6_addr, ip, sizeof(ip));
		snprintf(out, len, "[%s]:%u", ip, ntohs(a6->sin6_port));
	} else {
		snprintf(out, len, "-");
	}
}

static const char *ip_text(const struct ip_addr *a, char *out, size_t len)
{
	if (!inet_ntop(a->family, a->bytes, out, (socklen_t)len))
		snprintf(out, len, "?");
	return out;
}

/* "rekeyed": replaced by a rekey, or the redundant SA of a collision (RFC 7296 2.8.2),
 * kept only until its Delete; it carries nothing. */
static const char *state_name(const struct ike_sa *sa)
{
	switch (sa->state) {
	case IKE_SA_HALF_OPEN: return "half-open";
	case IKE_SA_ESTABLISHED: return sa->superseded ? "rekeyed" : "established";
	case IKE_SA_DELETED: return "deleted";
	}
	return "?";
}

static void kspi(struct json *j, const char *key, uint64_t v, int digits)
{
	char hex[17];

	snprintf(hex, sizeof(hex), "%0*llx", digits, (unsigned long long)v);
	json_kstr(j, key, hex);
}

/* Seconds since a loop-clock instant, and the wall-clock time it corresponds to. */
static uint64_t age_s(struct gw *gw, uint64_t then_ms)
{
	uint64_t now = loop_now(gw->loop);

	return now > then_ms ? (now - then_ms) / 1000 : 0;
}

static void kage(struct json *j, struct gw *gw, const char *key_age, const char *key_at,
		 uint64_t then_ms)
{
	uint64_t age = age_s(gw, then_ms);
	int64_t at = (int64_t)gw_time(gw) - (int64_t)age;

	json_ku64(j, key_age, age);
	json_key(j, key_at);
	json_i64(j, at);
}

/* ---- status -------------------------------------------------------------------------- */

static int cmd_status(struct cmd_ctx *x, int argc, char **argv, struct json *j)
{
	struct gw *gw = x->gw;
	struct ctl_totals t;

	(void)argc;
	(void)argv;
	ctl_totals_get(gw, &t);
	json_kstr(j, "version", IKEGW_VERSION);
	json_ku64(j, "uptime_s", age_s(gw, gw->started_ms));
	json_kstr(j, "config", gw->cfg->path);
	json_kstr(j, "dataplane", gw->dp ? gw->dp->ops->name : "none");
	json_kstr(j, "dataplane_config", config_dataplane_name(gw->cfg->gateway.dataplane));
	json_kstr(j, "log_level", log_level_name(gw->log.level));
	json_kobj_begin(j, "counts");
	json_ku64(j, "ike_sas", t.ike_sas);
	json_ku64(j, "child_sas", t.child_sas);
	json_ku64(j, "half_open", t.half_open);
	json_ku64(j, "leases", t.leases);
	json_obj_end(j);
	json_kobj_begin(j, "counters");
	json_ku64(j, "handshakes_ok", gw->ctr.handshakes_ok);
	json_ku64(j, "handshakes_failed", gw->ctr.handshakes_failed);
	json_ku64(j, "auth_failures", gw->ctr.auth_failures);
	json_ku64(j, "bytes_in", t.bytes_in);
	json_ku64(j, "bytes_out", t.bytes_out);
	json_ku64(j, "packets_in", t.packets_in);
	json_ku64(j, "packets_out", t.packets_out);
	json_obj_end(j);
	return 0;
}

/* ---- sas ----------------------------------------------------------------------------- */

static void ike_algs(struct json *j, const struct ike_sa *sa)
{
	const struct suite_ke *ke = suite_ke_find(sa->ke_group);

	/* As the header carries them: SPIi is the original initiator's, ours after we
	 * rekeyed the SA (RFC 7296 2.18). */
	json_kobj_begin(j, "ike");
	kspi(j, "spi_i", ike_sa_spi_i(sa), 16);
	kspi(j, "spi_r", ike_sa_spi_r(sa), 16);
	json_kstr(j, "encr", sa->encr ? sa->encr->name : NULL);
	json_kstr(j, "integ", sa->integ ? sa->integ->name : NULL);
	json_kstr(j, "prf", sa->prf ? sa->prf->name : NULL);
	json_kstr(j, "ke", ke ? ke->name : NULL);
	json_obj_end(j);
}

/* A selector as a prefix ("10.1.0.0/24") when it is one, else as "start-end". */
static const char *ts_text(const struct ts *t, char *out, size_t len)
{
	struct ip_prefix pf[1];
	struct ip_addr a = { .family = (uint8_t)ts_family(t) };
	char s[INET6_ADDRSTRLEN], e[INET6_ADDRSTRLEN];
	size_t n = 0;

	if (ts_split_prefixes(t, pf, 1, &n) == 0 && n == 1) {
		snprintf(out, len, "%s/%u", ip_text(&pf[0].addr, s, sizeof(s)), pf[0].len);
		return out;
	}
	memcpy(a.bytes, t->start, sizeof(a.bytes));
	ip_text(&a, s, sizeof(s));
	memcpy(a.bytes, t->end, sizeof(a.bytes));
	snprintf(out, len, "%s-%s", s, ip_text(&a, e, sizeof(e)));
	return out;
}

/* RFC 7296 2.9 from the gateway's side: local = what the client reaches (TSr), remote =
 * the client's address (TSi). */
static void ts_json(struct json *j, const struct child_ts *ts)
{
	char text[2 * INET6_ADDRSTRLEN + 8];

	json_karr_begin(j, "local_ts");
	for (size_t i = 0; i < ts->n_tsr; i++)
		json_str(j, ts_text(&ts->tsr[i], text, sizeof(text)));
	json_arr_end(j);
	json_karr_begin(j, "remote_ts");
	json_str(j, ts_text(&ts->tsi, text, sizeof(text)));
	json_arr_end(j);
}

/* One Child SA; key NULL: as an array element. */
static void child_json(struct json *j, const char *key, struct gw *gw,
		       const struct child_line *l)
{
	const struct child_sa *c = &l->cur;
	const struct suite_encr *e = suite_encr_find(c->encr_id, c->encr_keylen);
	const struct suite_integ *i = suite_integ_find(c->integ_id);
	struct dp_counters dc = { 0 };

	if (c->installed && gw->dp)
		gw->dp->ops->counters(gw->dp, c->reqid, &dc);
	if (key)
		json_kobj_begin(j, key);
	else
		json_obj_begin(j);
	json_ku64(j, "reqid", c->reqid);
	kspi(j, "spi_in", c->spi_in, 8);
	kspi(j, "spi_out", c->spi_out, 8);
	json_kstr(j, "encr", e ? e->name : "?");
	json_kstr(j, "integ", c->integ_id == IKEV2_INTEG_NONE ? "none" : i ? i->name : "?");
	json_kbool(j, "installed", c->installed);
	json_ku64(j, "bytes_in", dc.bytes_in);
	json_ku64(j, "bytes_out", dc.bytes_out);
	json_ku64(j, "packets_in", dc.packets_in);
	json_ku64(j, "packets_out", dc.packets_out);
	ts_json(j, &l->ts);
	json_obj_end(j);
}

/* "child": the first Child SA (what readers of the answer have always found there);
 * "additional_children": the others a client asked for (RFC 7296 1.3.1), when there are
 * any.  Each Child SA appears once, with its own selectors. */
static void children_json(struct json *j, struct ike_sa *sa)
{
	const struct child_line *first = NULL, *l;

	for (l = &sa->children; l && !first; l = l->next)
		if (l->cur.spi_in)
			first = l;
	if (!first)
		return;
	child_json(j, "child", sa->gw, first);
	for (l = first->next; l && !l->cur.spi_in; l = l->next)
		;
	if (!l)
		return;
	json_karr_begin(j, "additional_children");
	for (; l; l = l->next)
		if (l->cur.spi_in)
			child_json(j, NULL, sa->gw, l);
	json_arr_end(j);
}

static void sa_json(struct json *j, struct ike_sa *sa)
{
	char text[INET6_ADDRSTRLEN + 16];

	json_obj_begin(j);
	json_ku64(j, "id", sa->id);
	sockaddr_text(&sa->peer, text, sizeof(text));
	json_kstr(j, "peer", text);
	json_kstr(j, "remote_id", sa->peer_id[0] ? sa->peer_id : NULL);
	json_kstr(j, "profile", sa->profile ? sa->profile->name : NULL);
	json_kstr(j, "vip", sa->has_vip ? ip_text(&sa->vip, text, sizeof(text)) : NULL);
	json_kstr(j, "state", state_name(sa));
	json_kbool(j, "natt", sa->natt || sa->nat_peer || sa->nat_local);
	if (sa->state == IKE_SA_ESTABLISHED)
		kage(j, sa->gw, "established_s", "established_at", sa->established_ms);
	ike_algs(j, sa);
	children_json(j, sa);
	json_obj_end(j);
}

struct sas_walk {
	struct json *j;
	bool all;
	size_t skipped;
};

static int sas_one(struct sa_table_entry *e, void *arg)
{
	struct ike_sa *sa = ike_sa_from_entry(e);
	struct sas_walk *w = arg;

	if (sa->state == IKE_SA_HALF_OPEN && !w->all)
		w->skipped++;
	else
		sa_json(w->j, sa);
	return json_finish(w->j) == -ENOBUFS; /* stop early: the answer is lost anyway */
}

/* Half-open SAs only with --all: under a flood there are thousands and they say little. */
static int cmd_sas(struct cmd_ctx *x, int argc, char **argv, struct json *j)
{
	struct sas_walk w = { .j = j };

	if (argc == 2 && strcmp(argv[1], "--all") != 0)
		return cmd_fail(x, "usage: sas [--all]");
	w.all = argc == 2;
	json_karr_begin(j, "sas");
	sa_table_foreach(x->gw->sas, sas_one, &w);
	json_arr_end(j);
	json_ku64(j, "half_open_hidden", w.skipped);
	return 0;
}

/* ---- leases and pools ---------------------------------------------------------------- */

struct lease_walk {
	struct gw *gw;
	struct json *j;
	const char *pool;
};

static int lease_one(const struct pool_lease_info *l, void *arg)
{
	struct lease_walk *w = arg;
	char ip[INET6_ADDRSTRLEN];

	json_obj_begin(w->j);
	json_kstr(w->j, "pool", w->pool);
	json_kstr(w->j, "address", ip_text(&l->addr, ip, sizeof(ip)));
	json_kstr(w->j, "identity", l->identity);
	kage(w->j, w->gw, "since_s", "since", l->since);
	json_obj_end(w->j);
	return json_finish(w->j) == -ENOBUFS;
}

static int cmd_leases(struct cmd_ctx *x, int argc, char **argv, struct json *j)
{
	struct lease_walk w = { .gw = x->gw, .j = j };

	(void)argc;
	(void)argv;
	json_karr_begin(j, "leases");
	for (size_t i = 0; x->gw->pools && i < x->gw->cfg->n_pools; i++) {
		w.pool = pool_name(x->gw->pools[i]);
		pool_lease_foreach(x->gw->pools[i], lease_one, &w);
	}
	json_arr_end(j);
	return 0;
}

static int cmd_pools(struct cmd_ctx *x, int argc, char **argv, struct json *j)
{
	struct pool_stats st;

	(void)argc;
	(void)argv;
	json_karr_begin(j, "pools");
	for (size_t i = 0; x->gw->pools && i < x->gw->cfg->n_pools; i++) {
		pool_stats(x->gw->pools[i], 0, &st);
		json_obj_begin(j);
		json_kstr(j, "name", pool_name(x->gw->pools[i]));
		json_ku64(j, "size", st.size);
		json_ku64(j, "used", st.used);
		json_ku64(j, "free", st.free);
		json_obj_end(j);
	}
	json_arr_end(j);
	return 0;
}

/* ---- terminate ----------------------------------------------------------------------- */

struct term_match {
	struct gw *gw;
	enum { BY_ID, BY_IDENTITY, BY_ADDRESS } by;
	uint32_t id;
	const char *identity;
	struct ip_addr addr;
	uint64_t n;
};

static bool peer_is(const struct ike_sa *sa, const struct ip_addr *a)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)&sa->peer;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&sa->peer;

	if (a->family == AF_INET && sa->peer.ss_family == AF_INET)
		return memcmp(&a4->sin_addr, a->bytes, 4) == 0;
	if (a->family == AF_INET6 && sa->peer.ss_family == AF_INET6)
		return memcmp(&a6->sin6_addr, a->bytes, 16) == 0;
	return false;
}

static bool term_matches(const struct term_match *m, const struct ike_sa *sa)
{
	switch (m->by) {
	case BY_ID: return sa->id == m->id;
	case BY_IDENTITY: return sa->peer_id[0] && strcmp(sa->peer_id, m->identity) == 0;
	case BY_ADDRESS:
		return peer_is(sa, &m->addr) || (sa->has_vip && ts_addr_equal(&sa->vip, &m->addr));
	}
	return false;
}

/* sa_table_foreach() lets the callback remove the entry it was given, which this does. */
static int term_one(struct sa_table_entry *e, void *arg)
{
	struct ike_sa *sa = ike_sa_from_entry(e);
	struct term_match *m = arg;

	if (!term_matches(m, sa))
		return 0;
	m->n++;
	gw_terminate(m->gw, sa);
	return 0;
}

static int parse_id(const char *s, uint32_t *id)
{
	char *end;
	unsigned long v;

	if (*s == '#')
		s++;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > UINT32_MAX)
		return -EINVAL;
	*id = (uint32_t)v;
	return 0;
}

static int term_parse(struct cmd_ctx *x, int argc, char **argv, struct term_match *m)
{
	static const char usage[] = "usage: terminate ID | --identity ID | --address IP";

	if (argc == 2 && parse_id(argv[1], &m->id) == 0) {
		m->by = BY_ID;
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--identity") == 0 && argv[2][0]) {
		m->by = BY_IDENTITY;
		m->identity = argv[2];
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "--address") == 0) {
		m->by = BY_ADDRESS;
		return ts_parse_addr(argv[2], &m->addr) == 0 ? 0
							      : cmd_fail(x, "bad address '%.64s'",
									 argv[2]);
	}
	return cmd_fail(x, usage);
}

/* Deletes every match (an identity or an address may have several SAs). */
static int cmd_terminate(struct cmd_ctx *x, int argc, char **argv, struct json *j)
{
	struct term_match m = { .gw = x->gw };

	if (term_parse(x, argc, argv, &m) != 0)
		return -EINVAL;
	sa_table_foreach(x->gw->sas, term_one, &m);
	if (m.n == 0)
		return cmd_fail(x, "no IKE SA matches");
	log_info(&x->gw->log, NULL, "control: terminated %llu IKE SA(s)", (unsigned long long)m.n);
	json_ku64(j, "terminated", m.n);
	return 0;
}

/* ---- rekey ----------------------------------------------------------------------------- */

struct find_id {
	uint32_t id;
	struct ike_sa *sa;
};

static int find_one(struct sa_table_entry *e, void *arg)
{
	struct find_id *f = arg;
	struct ike_sa *sa = ike_sa_from_entry(e);

	if (sa->id != f->id || sa->state != IKE_SA_ESTABLISHED || sa->superseded)
		return 0;
	f->sa = sa;
	return 1;
}

/* The first Child SA line with an installed pair (the client's first tunnel). */
static struct child_line *first_child(struct ike_sa *sa)
{
	for (struct child_line *l = &sa->children; l; l = l->next)
		if (l->cur.installed)
			return l;
	return NULL;
}

/* As strongSwan's `swanctl --rekey`: the same exchange our timers start, now. */
static int cmd_rekey(struct cmd_ctx *x, int argc, char **argv, struct json *j)
{
	struct find_id f = { 0 };
	bool ike = argc == 3 && strcmp(argv[2], "ike") == 0;
	struct child_line *l;
	int rc;

	if (parse_id(argv[1], &f.id) != 0 || (argc == 3 && !ike && strcmp(argv[2], "child")))
		return cmd_fail(x, "usage: rekey ID [child|ike]");
	sa_table_foreach(x->gw->sas, find_one, &f);
	if (!f.sa)
		return cmd_fail(x, "no established IKE SA %u", f.id);
	if (ike) {
		rc = ike_rekey_start(f.sa);
	} else {
		l = first_child(f.sa);
		rc = l ? create_child_rekey_child(f.sa, l) : -ENOENT;
	}
	if (rc == -EBUSY)
		return cmd_fail(x, "IKE SA %u is busy with another exchange: try again", f.id);
	if (rc != 0)
		return cmd_fail(x, "IKE SA %u: nothing to rekey (%d)", f.id, rc);
	log_info(&x->gw->log, f.sa->tag, "control: %s rekey started", ike ? "IKE SA" : "Child SA");
	json_kstr(j, "rekeying", ike ? "ike" : "child");
	json_ku64(j, "id", f.id);
	return 0;
}

/* ---- reload, log-level, metrics, help ---------------------------------------------------- */

static int cmd_reload(struct cmd_ctx *x, int argc, char **argv, struct json *j)
{
	(void)argc;
	(void)argv;
	if (!x->hooks || !x->hooks->reload)
		return cmd_fail(x, "reload is not implemented yet");
	return x->hooks->reload(x->hooks->reload_arg, j); /* its own "error" on failure */
}

static int cmd_log_level(struct cmd_ctx *x, int argc, char **argv, struct json *j)
{
	int level;

	if (argc == 2) {
		if (log_level_parse(argv[1], &level) != 0)
			return cmd_fail(x, "unknown log level '%.32s' (err, warning, info, debug)",
					argv[1]);
		x->gw->log.level = level;
		log_info(&x->gw->log, NULL, "control: log level set to %s", log_level_name(level));
	}
	json_kstr(j, "log_level", log_level_name(x->gw->log.level));
	return 0;
}

static int cmd_metrics(struct cmd_ctx *x, int argc, char **argv, struct json *j)
{
	struct json text;
	int rc;

	(void)argc;
	(void)argv;
	if (json_init_dyn(&text, CTL_ANSWER_MAX / 2) != 0)
		return cmd_fail(x, "out of memory");
	ctl_metrics_write(x->gw, &text);
	rc = json_finish(&text);
	if (rc == 0) {
		json_key(j, "text");
		json_strn(j, json_text(&text), json_len(&text));
	}
	json_fini(&text);
	return rc == 0 ? 0 : cmd_fail(x, "metrics too large");
}

static int cmd_help(struct cmd_ctx *x, int argc, char **argv, struct json *j);

static const struct cmd cmds[] = {
	{ "status", "status", 0, 0, cmd_status },
	{ "sas", "sas [--all]", 0, 1, cmd_sas },
	{ "leases", "leases", 0, 0, cmd_leases },
	{ "pools", "pools", 0, 0, cmd_pools },
	{ "terminate", "terminate ID | --identity ID | --address IP", 1, 2, cmd_terminate },
	{ "rekey", "rekey ID [child|ike]", 1, 2, cmd_rekey },
	{ "reload", "reload", 0, 0, cmd_reload },
	{ "log-level", "log-level [err|warning|info|debug]", 0, 1, cmd_log_level },
	{ "metrics", "metrics", 0, 0, cmd_metrics },
	{ "help", "help", 0, 0, cmd_help },
};

static int cmd_help(struct cmd_ctx *x, int argc, char **argv, struct json *j)
{
	(void)x;
	(void)argc;
	(void)argv;
	json_karr_begin(j, "commands");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		json_str(j, cmds[i].usage);
	json_arr_end(j);
	return 0;
}

/* ---- dispatch ------------------------------------------------------------------------ */

int ctl_split_words(char *line, char **argv, int max)
{
	char *r = line, *w;
	bool more;
	int n = 0;

	for (;;) {
		while (*r == ' ' || *r == '\t')
			r++;
		if (!*r)
			return n;
		if (n == max)
			return -E2BIG;
		argv[n++] = w = r;
		if (*r == '"') {
			for (r++; *r != '"'; *w++ = *r++) {
				if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
					r++;
				else if (!*r || *r == '\\')
					return -EINVAL; /* unterminated, or an unknown escape */
			}
			r++;
			if (*r && *r != ' ' && *r != '\t')
				return -EINVAL; /* "a"b */
		} else {
			while (*r && *r != ' ' && *r != '\t')
				w = ++r;
		}
		more = *r != '\0';
		*w = '\0';
		r += more;
	}
}

static const struct cmd *cmd_find(const char *name)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

static int run(struct cmd_ctx *x, char *line, struct json *j)
{
	char *argv[CTL_ARGS_MAX];
	const struct cmd *c;
	int argc = ctl_split_words(line, argv, CTL_ARGS_MAX), rc;

	if (argc < 0)
		return cmd_fail(x, argc == -E2BIG ? "too many words" : "bad quoting");
	if (argc == 0)
		return cmd_fail(x, "empty request");
	if (!(c = cmd_find(argv[0])))
		return cmd_fail(x, "unknown command '%.64s'", argv[0]);
	if (argc - 1 < c->min_args || argc - 1 > c->max_args)
		return cmd_fail(x, "usage: %s", c->usage);
	json_obj_begin(j);
	rc = c->fn(x, argc, argv, j);
	json_obj_end(j);
	return rc;
}

void ctl_command_run(struct gw *gw, const struct ctl_hooks *hooks, const char *line,
		     struct json *j)
{
	struct cmd_ctx x = { .gw = gw, .hooks = hooks };
	char *copy = strdup(line);
	int rc, done;

	json_reset(j);
	rc = copy ? run(&x, copy, j) : cmd_fail(&x, "out of memory");
	free(copy);
	done = json_finish(j);
	if (rc < 0 && !x.err[0] && done == 0)
		return; /* a hook wrote its own "error" */
	if (rc >= 0 && done == -ENOBUFS)
		snprintf(x.err, sizeof(x.err), "answer too large");
	else if (rc >= 0 && done != 0)
		snprintf(x.err, sizeof(x.err), "internal error (%d)", done);
	else if (rc >= 0)
		return;
	json_reset(j);
	json_obj_begin(j);
	json_kstr(j, "error", x.err[0] ? x.err : "failed");
	json_obj_end(j);
}
