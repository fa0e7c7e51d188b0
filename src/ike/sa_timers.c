/* SPDX-License-Identifier: ISC */
/*
 * The timers of an IKE SA.  Each is a struct loop_timer embedded in struct ike_sa and
 * cancelled by ike_sa_free(), so no timer outlives its SA:
 *
 *   timer              armed when                          fires
 *   half_open_timer    IKE_SA_INIT answered (ike_sa_init)  no IKE_AUTH: SA freed
 *                      IKE SA rekeyed away (superseded)    its Delete never came: freed
 *   dpd_timer          established; re-armed on each fire  timeouts.dpd without inbound IKE
 *                                                          or inbound ESP (outbound ESP
 *                                                          proves nothing): empty
 *                                                          INFORMATIONAL (RFC 7296 1.4);
 *                                                          no answer after the
 *                                                          retransmissions: SA gone
 *   idle_timer         established; re-armed on each fire  timeouts.idle without ESP in
 *                                                          either direction: Delete sent,
 *                                                          everything removed
 *   rekey_child_timer  a Child SA installed: armed for     85-90% of lifetimes.child after
 *                      the earliest rekey_at_ms of the     that Child SA was made (jitter,
 *                      SA's Child SA lines                 RFC 7296 2.8): we rekey it, one
 *                                                          at a time; also the dataplane's
 *                                                          soft expiry
 *   rekey_ike_timer    established (or rekeyed into)       85-90% of lifetimes.ike: we
 *                                                          rekey the IKE SA (2.18)
 *   retx_timer         we sent a request (initiator.c)     exponential backoff; given up
 *                                                          after IKE_RETX_TRIES sends
 */
#include <errno.h>
#include <stdint.h>

#include <openssl/rand.h>

#include "ikegw/config.h"
#include "ikegw/create_child.h"
#include "ikegw/dataplane.h"
#include "ikegw/gw.h"
#include "ikegw/ike_rekey.h"
#include "ikegw/ike_sa.h"
#include "ikegw/initiator.h"
#include "ikegw/sa_timers.h"

#define BUSY_RETRY_MS 2000u      /* our window is taken: try a rekey again this soon */
#define SUPERSEDED_LINGER_MS 30000u

static bool live(const struct ike_sa *sa)
{
	return sa->state == IKE_SA_ESTABLISHED && !sa->superseded;
}

/* Loop time of the last ESP packet of any Child SA (inbound only: in_only), 0 when none;
 * *known is false without dataplane counters. */
static uint64_t esp_last(const struct ike_sa *sa, bool in_only, bool *known)
{
	struct dataplane *dp = sa->gw->dp;
	struct dp_counters c;
	uint64_t last = 0, t;

	*known = dp && dp->ops->counters;
	for (const struct child_line *l = &sa->children; *known && l; l = l->next) {
		const struct child_sa *cs[] = { &l->cur, &l->old, &l->spare };

		for (size_t i = 0; i < 3; i++) {
			if (!cs[i]->installed || dp->ops->counters(dp, cs[i]->reqid, &c) != 0)
				continue;
			t = in_only ? c.last_in_ms : c.last_use_ms;
			last = t > last ? t : last;
		}
	}
	return last;
}

/* When the newest current Child SA was made. */
static uint64_t newest_child(const struct ike_sa *sa)
{
	uint64_t last = 0;

	for (const struct child_line *l = &sa->children; l; l = l->next)
		if (l->cur.spi_in && l->cur.created_ms > last)
			last = l->cur.created_ms;
	return last;
}

static uint64_t max3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t m = a > b ? a : b;

	return m > c ? m : c;
}

static void dpd_fire(struct loop *loop, void *arg)
{
	struct ike_sa *sa = arg;
	uint64_t dpd = sa->gw->cfg->timeouts.dpd * 1000ull, now = loop_now(loop);
	bool known;
	/* only what the peer sent proves it alive: our own ESP goes out to a dead peer too */
	uint64_t last = max3(sa->last_rx_ms, esp_last(sa, true, &known), sa->established_ms);

	if (!live(sa) || dpd == 0)
		return;
	if (now - last >= dpd) {
		initiator_dpd(sa); /* busy: our outstanding request checks liveness already */
		last = now;
	}
	loop_timer_arm(loop, &sa->dpd_timer, last + dpd);
}

static void idle_fire(struct loop *loop, void *arg)
{
	struct ike_sa *sa = arg;
	uint64_t idle = sa->gw->cfg->timeouts.idle * 1000ull, now = loop_now(loop);
	bool known;
	uint64_t esp = esp_last(sa, false, &known);
	uint64_t last = max3(esp, newest_child(sa), sa->established_ms);

	if (!live(sa) || idle == 0 || !known)
		return;
	if (now - last >= idle) {
		if (initiator_delete_ike(sa, "idle (no ESP traffic)") != 0)
			ike_sa_free(sa);
		return;
	}
	loop_timer_arm(loop, &sa->idle_timer, last + idle);
}

/* RFC 7296 2.8: rekey a little before the lifetime, at a random point, so that both
 * sides (and all clients) do not rekey at once: 85% to 90% of it. */
static uint64_t jittered(uint32_t lifetime_s)
{
	uint8_t r = 0;

	if (RAND_bytes(&r, 1) != 1)
		r = 0;
	return (uint64_t)lifetime_s * (850u + (r % 51u));
}

/* The timer for the earliest Child SA rekey due (lines whose rekey is not under way). */
static void child_rekey_rearm(struct ike_sa *sa)
{
	uint64_t next = UINT64_MAX;

	for (const struct child_line *l = &sa->children; l; l = l->next)
		if (l->cur.installed && !l->rekey_spi && l->rekey_at_ms < next)
			next = l->rekey_at_ms;
	if (next == UINT64_MAX)
		loop_timer_cancel(sa->gw->loop, &sa->rekey_child_timer);
	else
		loop_timer_arm(sa->gw->loop, &sa->rekey_child_timer, next);
}

/* Our window holds one request: the first Child SA due is rekeyed, the others (and one
 * that could not start) try again a little later. */
static void rekey_child_fire(struct loop *loop, void *arg)
{
	struct ike_sa *sa = arg;
	uint64_t now = loop_now(loop);
	bool started = false;

	if (!live(sa))
		return;
	for (struct child_line *l = &sa->children; l; l = l->next) {
		if (!l->cur.installed || l->rekey_spi || l->rekey_at_ms > now)
			continue;
		if (!started && create_child_rekey_child(sa, l) == 0)
			started = true;
		else
			l->rekey_at_ms = now + BUSY_RETRY_MS;
	}
	child_rekey_rearm(sa);
}

static void rekey_ike_fire(struct loop *loop, void *arg)
{
	struct ike_sa *sa = arg;
	int rc;

	(void)loop;
	if (!live(sa))
		return;
	rc = ike_rekey_start(sa);
	if (rc == -EBUSY)
		sa_timers_retry_ike_rekey(sa);
}

void sa_timers_init(struct ike_sa *sa)
{
	loop_timer_init(&sa->dpd_timer, dpd_fire, sa);
	loop_timer_init(&sa->idle_timer, idle_fire, sa);
	loop_timer_init(&sa->rekey_child_timer, rekey_child_fire, sa);
	loop_timer_init(&sa->rekey_ike_timer, rekey_ike_fire, sa);
	loop_timer_init(&sa->retx_timer, initiator_retransmit, sa);
}

void sa_timers_established(struct ike_sa *sa)
{
	const struct config *cfg = sa->gw->cfg;
	struct loop *loop = sa->gw->loop;

	if (!sa->last_rx_ms)
		sa->last_rx_ms = loop_now(loop);
	if (cfg->timeouts.dpd)
		loop_timer_arm_in(loop, &sa->dpd_timer, cfg->timeouts.dpd * 1000ull);
	if (cfg->timeouts.idle)
		loop_timer_arm_in(loop, &sa->idle_timer, cfg->timeouts.idle * 1000ull);
	loop_timer_arm_in(loop, &sa->rekey_ike_timer, jittered(cfg->lifetimes.ike));
	for (struct child_line *l = &sa->children; l; l = l->next)
		if (l->cur.spi_in)
			l->rekey_at_ms = l->cur.created_ms + jittered(cfg->lifetimes.child);
	child_rekey_rearm(sa);
}

void sa_timers_child_created(struct ike_sa *sa, struct child_line *l)
{
	l->rekey_at_ms = l->cur.created_ms + jittered(sa->gw->cfg->lifetimes.child);
	child_rekey_rearm(sa);
}

void sa_timers_retry_child_rekey(struct ike_sa *sa, struct child_line *l)
{
	l->rekey_at_ms = loop_now(sa->gw->loop) + BUSY_RETRY_MS;
	child_rekey_rearm(sa);
}

void sa_timers_retry_ike_rekey(struct ike_sa *sa)
{
	loop_timer_arm_in(sa->gw->loop, &sa->rekey_ike_timer, BUSY_RETRY_MS);
}

static void superseded_fire(struct loop *loop, void *arg)
{
	struct ike_sa *sa = arg;

	(void)loop;
	log_info(&sa->gw->log, sa->tag, "rekeyed IKE SA removed (its Delete did not come)");
	ike_sa_free(sa);
}

void sa_timers_superseded(struct ike_sa *sa)
{
	sa_timers_cancel(sa);
	loop_timer_init(&sa->half_open_timer, superseded_fire, sa);
	loop_timer_arm_in(sa->gw->loop, &sa->half_open_timer, SUPERSEDED_LINGER_MS);
}

void sa_timers_cancel(struct ike_sa *sa)
{
	struct loop *loop = sa->gw->loop;

	loop_timer_cancel(loop, &sa->dpd_timer);
	loop_timer_cancel(loop, &sa->idle_timer);
	loop_timer_cancel(loop, &sa->rekey_child_timer);
	loop_timer_cancel(loop, &sa->rekey_ike_timer);
	loop_timer_cancel(loop, &sa->retx_timer);
}

/* ---- dataplane expiry reports ---- */

struct by_reqid {
	uint32_t reqid;
	struct ike_sa *sa;
	struct child_line *l;
	struct child_sa *c;
};

static int find_reqid(struct sa_table_entry *e, void *arg)
{
	struct by_reqid *f = arg;
	struct ike_sa *sa = ike_sa_from_entry(e);

	for (struct child_line *l = &sa->children; l; l = l->next) {
		struct child_sa *cs[] = { &l->cur, &l->old, &l->spare };

		for (size_t i = 0; i < 3; i++) {
			if (cs[i]->installed && cs[i]->reqid == f->reqid) {
				f->sa = sa;
				f->l = l;
				f->c = cs[i];
				return 1;
			}
		}
	}
	return 0;
}

void sa_timers_dp_expire(void *arg, uint32_t reqid, enum dp_expire_kind kind)
{
	struct gw *gw = arg;
	struct by_reqid f = { .reqid = reqid };

	sa_table_foreach(gw->sas, find_reqid, &f);
	if (!f.sa)
		return;
	if (kind == DP_EXPIRE_SOFT) {
		/* RFC 7296 2.8: the soft lifetime is the time to rekey, if not done yet. */
		if (f.c == &f.l->cur && live(f.sa) && !f.l->rekey_spi) {
			f.l->rekey_at_ms = loop_now(gw->loop);
			child_rekey_rearm(f.sa);
		}
		return;
	}
	log_info(&gw->log, f.sa->tag, "Child SA %08x hard-expired", f.c->spi_in);
	if (live(f.sa))
		initiator_delete_child(f.sa, f.c);
	ike_sa_child_drop(f.sa, f.c);
	ike_sa_lines_tidy(f.sa);
}

void sa_timers_hook_dataplane(struct gw *gw)
{
	if (gw->dp && !gw->dp->on_expire) {
		gw->dp->on_expire = sa_timers_dp_expire;
		gw->dp->on_expire_arg = gw;
	}
}
