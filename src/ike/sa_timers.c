/* SPDX-License-Identifier: ISC */
/*
 * The timers of an IKE SA.  Each is a struct loop_timer embedded in struct ike_sa and
 * cancelled by ike_sa_free(), so no timer outlives its SA:
 *
 *   timer              armed when                          fires
 *   half_open_timer    IKE_SA_INIT answered (ike_sa_init)  no IKE_AUTH: SA freed
 *                      IKE SA rekeyed away (superseded)    its Delete never came: freed
 *   dpd_timer          established; re-armed on each fire  timeouts.dpd without inbound IKE
 *                                                          or ESP: empty INFORMATIONAL
 *                                                          (RFC 7296 1.4); no answer after
 *                                                          the retransmissions: SA gone
 *   idle_timer         established; re-armed on each fire  timeouts.idle without ESP in
 *                                                          either direction: Delete sent,
 *                                                          everything removed
 *   rekey_child_timer  a Child SA installed                85-90% of lifetimes.child
 *                                                          (jitter, RFC 7296 2.8): we rekey
 *                                                          it; also the dataplane's soft
 *                                                          expiry
 *   rekey_ike_timer    established (or rekeyed into)       85-90% of lifetimes.ike: we
 *                                                          rekey the IKE SA (2.18)
 *   retx_timer         we sent a request (initiator.c)     exponential backoff; given up
 *                                                          after IKE_RETX_TRIES sends
 */
#include <errno.h>

#include <openssl/rand.h>

#include "ikegw/config.h"
#include "ikegw/create_child.h"
#include "ikegw/dataplane.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/initiator.h"
#include "ikegw/sa_timers.h"

#define BUSY_RETRY_MS 2000u      /* our window is taken: try a rekey again this soon */
#define SUPERSEDED_LINGER_MS 30000u

static bool live(const struct ike_sa *sa)
{
	return sa->state == IKE_SA_ESTABLISHED && !sa->superseded;
}

/* Loop time of the last ESP packet of any Child SA; 0 when unknown (no counters). */
static uint64_t esp_last_use(const struct ike_sa *sa, bool *known)
{
	const struct child_sa *cs[] = { &sa->child, &sa->child_old, &sa->child_spare };
	struct dataplane *dp = sa->gw->dp;
	struct dp_counters c;
	uint64_t last = 0;

	*known = dp && dp->ops->counters;
	for (size_t i = 0; *known && i < 3; i++) {
		if (cs[i]->installed && dp->ops->counters(dp, cs[i]->reqid, &c) == 0 &&
		    c.last_use_ms > last)
			last = c.last_use_ms;
	}
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
	uint64_t last = max3(sa->last_rx_ms, esp_last_use(sa, &known), sa->established_ms);

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
	uint64_t esp = esp_last_use(sa, &known);
	uint64_t last = max3(esp, sa->child.created_ms, sa->established_ms);

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

static void rekey_child_fire(struct loop *loop, void *arg)
{
	struct ike_sa *sa = arg;
	int rc;

	(void)loop;
	if (!live(sa) || !sa->child.installed)
		return;
	rc = create_child_rekey_child(sa);
	if (rc == -EBUSY)
		sa_timers_retry_child_rekey(sa);
}

static void rekey_ike_fire(struct loop *loop, void *arg)
{
	struct ike_sa *sa = arg;
	int rc;

	(void)loop;
	if (!live(sa))
		return;
	rc = create_child_rekey_ike(sa);
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
	sa_timers_child_created(sa);
}

void sa_timers_child_created(struct ike_sa *sa)
{
	const struct config *cfg = sa->gw->cfg;

	if (!sa->child.installed && !sa->child.spi_in)
		return;
	loop_timer_arm(sa->gw->loop, &sa->rekey_child_timer,
		       sa->child.created_ms + jittered(cfg->lifetimes.child));
}

void sa_timers_retry_child_rekey(struct ike_sa *sa)
{
	loop_timer_arm_in(sa->gw->loop, &sa->rekey_child_timer, BUSY_RETRY_MS);
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
	struct child_sa *c;
};

static int find_reqid(struct sa_table_entry *e, void *arg)
{
	struct by_reqid *f = arg;
	struct ike_sa *sa = ike_sa_from_entry(e);
	struct child_sa *cs[] = { &sa->child, &sa->child_old, &sa->child_spare };

	for (size_t i = 0; i < 3; i++) {
		if (cs[i]->installed && cs[i]->reqid == f->reqid) {
			f->sa = sa;
			f->c = cs[i];
			return 1;
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
		if (f.c == &f.sa->child && live(f.sa) && !f.c->rekeying)
			loop_timer_arm_in(gw->loop, &f.sa->rekey_child_timer, 0);
		return;
	}
	log_info(&gw->log, f.sa->tag, "Child SA %08x hard-expired", f.c->spi_in);
	if (live(f.sa))
		initiator_delete_child(f.sa, f.c);
	ike_sa_child_drop(f.sa, f.c);
}

void sa_timers_hook_dataplane(struct gw *gw)
{
	if (gw->dp && !gw->dp->on_expire) {
		gw->dp->on_expire = sa_timers_dp_expire;
		gw->dp->on_expire_arg = gw;
	}
}
