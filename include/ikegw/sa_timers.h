/* SPDX-License-Identifier: ISC */
/* The timers of an IKE SA (the list with their events is in sa_timers.c). */
#ifndef IKEGW_SA_TIMERS_H
#define IKEGW_SA_TIMERS_H

#include <stdint.h>

#include "ikegw/dataplane.h"

struct ike_sa;
struct child_line;
struct gw;

/* Every timer of a new SA unarmed, with its callback. */
void sa_timers_init(struct ike_sa *sa);
/* IKE_AUTH done (or an IKE rekey made this SA): DPD, idle, IKE and Child rekeys. */
void sa_timers_established(struct ike_sa *sa);
/* A new Child SA is current in line l: its rekey is due at 85-90% of lifetimes.child. */
void sa_timers_child_created(struct ike_sa *sa, struct child_line *l);
/* Try a rekey again after a TEMPORARY_FAILURE or while busy. */
void sa_timers_retry_child_rekey(struct ike_sa *sa, struct child_line *l);
void sa_timers_retry_ike_rekey(struct ike_sa *sa);
/* A rekeyed-away IKE SA: its own timers stop; it lingers until its Delete. */
void sa_timers_superseded(struct ike_sa *sa);
void sa_timers_cancel(struct ike_sa *sa);
/* Hook the dataplane's expiry reports (soft: rekey now; hard: the Child SA is gone). */
void sa_timers_hook_dataplane(struct gw *gw);
void sa_timers_dp_expire(void *gw, uint32_t reqid, enum dp_expire_kind kind);

#endif
