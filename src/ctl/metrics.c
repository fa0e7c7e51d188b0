/* SPDX-License-Identifier: ISC */
/*
 * Totals over the SA table and pools, and the Prometheus text exposition format 0.0.4
 * (one "# HELP" and "# TYPE" line per metric family, then its samples).
 *
 * The byte and packet totals add up every Child SA alive now (all of each IKE SA's, and
 * pairs a rekey replaced until they go) plus what the gone ones carried (gw->ctr.gone_*),
 * so they never go down (Prometheus would read a drop as a counter reset); see ctl.h.
 */
#include <inttypes.h>
#include <string.h>

#include "ikegw/config.h"
#include "ikegw/ctl.h"
#include "ikegw/dataplane.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/pool.h"
#include "ikegw/sa_table.h"

/* The ESP counters of one installed pair into the totals. */
static void add_child(struct gw *gw, const struct child_sa *cs, struct ctl_totals *t)
{
	struct dp_counters c;

	if (!cs->installed || !gw->dp || gw->dp->ops->counters(gw->dp, cs->reqid, &c) != 0)
		return;
	t->bytes_in += c.bytes_in;
	t->bytes_out += c.bytes_out;
	t->packets_in += c.packets_in;
	t->packets_out += c.packets_out;
}

/* Every Child SA of every line counts: a current one as a Child SA, and the traffic of
 * pairs a rekey replaced too (their counters are folded into gone_* when they go). */
static int add_sa(struct sa_table_entry *e, void *arg)
{
	struct ike_sa *sa = ike_sa_from_entry(e);
	struct ctl_totals *t = arg;

	if (sa->state == IKE_SA_HALF_OPEN) {
		t->half_open++;
		return 0;
	}
	t->ike_sas++;
	for (const struct child_line *l = &sa->children; l; l = l->next) {
		t->child_sas += l->cur.spi_in != 0;
		add_child(sa->gw, &l->cur, t);
		add_child(sa->gw, &l->old, t);
		add_child(sa->gw, &l->spare, t);
	}
	return 0;
}

void ctl_totals_get(struct gw *gw, struct ctl_totals *t)
{
	struct pool_stats st;

	memset(t, 0, sizeof(*t));
	t->bytes_in = gw->ctr.gone_bytes_in;
	t->bytes_out = gw->ctr.gone_bytes_out;
	t->packets_in = gw->ctr.gone_packets_in;
	t->packets_out = gw->ctr.gone_packets_out;
	sa_table_foreach(gw->sas, add_sa, t);
	for (size_t i = 0; gw->pools && i < gw->cfg->n_pools; i++) {
		pool_stats(gw->pools[i], 0, &st);
		t->leases += st.used;
	}
}

static void family(struct json *j, const char *name, const char *type, const char *help)
{
	json_rawf(j, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values escape backslash, double quote and newline (exposition format 0.0.4). */
static void label_value(struct json *j, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			json_rawf(j, "\\%c", *v);
		else if (*v == '\n')
			json_raw(j, "\\n", 2);
		else
			json_raw(j, v, 1);
	}
}

static void pool_samples(struct gw *gw, struct json *j)
{
	static const char *const state[] = { "used", "free" };
	struct pool_stats st;

	family(j, "ikegw_pool_addresses", "gauge", "Virtual IP addresses per pool and state.");
	for (size_t i = 0; gw->pools && i < gw->cfg->n_pools; i++) {
		pool_stats(gw->pools[i], 0, &st);
		for (int k = 0; k < 2; k++) {
			json_raw(j, "ikegw_pool_addresses{pool=\"", 27);
			label_value(j, pool_name(gw->pools[i]));
			json_rawf(j, "\",state=\"%s\"} %u\n", state[k], k ? st.free : st.used);
		}
	}
}

void ctl_metrics_write(struct gw *gw, struct json *j)
{
	const struct gw_counters *c = &gw->ctr;
	struct ctl_totals t;

	ctl_totals_get(gw, &t);
	family(j, "ikegw_ike_sas", "gauge", "Established IKE SAs.");
	json_rawf(j, "ikegw_ike_sas %" PRIu64 "\n", t.ike_sas);
	family(j, "ikegw_half_open_sas", "gauge", "Half-open IKE SAs.");
	json_rawf(j, "ikegw_half_open_sas %" PRIu64 "\n", t.half_open);
	family(j, "ikegw_child_sas", "gauge", "Child SAs.");
	json_rawf(j, "ikegw_child_sas %" PRIu64 "\n", t.child_sas);
	family(j, "ikegw_handshakes_total", "counter", "IKE handshakes by result.");
	json_rawf(j, "ikegw_handshakes_total{result=\"ok\"} %" PRIu64 "\n",
		  c->handshakes_ok);
	json_rawf(j, "ikegw_handshakes_total{result=\"failed\"} %" PRIu64 "\n",
		  c->handshakes_failed);
	family(j, "ikegw_auth_failures_total", "counter", "Clients refused authentication.");
	json_rawf(j, "ikegw_auth_failures_total %" PRIu64 "\n", c->auth_failures);
	family(j, "ikegw_bytes_total", "counter", "ESP payload bytes since start (Child SAs gone included).");
	json_rawf(j, "ikegw_bytes_total{direction=\"in\"} %" PRIu64 "\n", t.bytes_in);
	json_rawf(j, "ikegw_bytes_total{direction=\"out\"} %" PRIu64 "\n",
		  t.bytes_out);
	family(j, "ikegw_packets_total", "counter", "ESP packets since start (Child SAs gone included).");
	json_rawf(j, "ikegw_packets_total{direction=\"in\"} %" PRIu64 "\n",
		  t.packets_in);
	json_rawf(j, "ikegw_packets_total{direction=\"out\"} %" PRIu64 "\n",
		  t.packets_out);
	pool_samples(gw, j);
}
