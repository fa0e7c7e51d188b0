/* SPDX-License-Identifier: ISC */
/*
 * Expensive crypto (key exchange, signatures, certificate chains) as jobs: run() does the
 * work on data copied into the job and touches no shared daemon state and no SA; done()
 * applies the result on the event loop.  The daemon runs jobs inline (jobs_submit runs
 * run() then done() at once); a worker pool can replace that later without touching the
 * exchange code, which already treats every job as asynchronous:
 *
 *   - the submitter touches nothing of its SA after jobs_submit() (done() may have run
 *     and freed it);
 *   - done() finds its SA again by our SPI and checks its id, so an SA freed meanwhile
 *     just drops the result; the job frees itself in done();
 *   - the SA's jobs_pending counts jobs in flight: its requests are dropped meanwhile
 *     (the client retransmits, RFC 7296 2.1).
 *
 * Tests set defer: jobs_submit() queues, jobs_run_pending() runs them later, in order.
 * The queue is a list through struct job: no allocation, nothing to fail.
 */
#ifndef IKEGW_JOBS_H
#define IKEGW_JOBS_H

#include <stdbool.h>
#include <stddef.h>

struct job {
	void (*run)(struct job *job);  /* may run on another thread one day: no shared state */
	void (*done)(struct job *job); /* always on the event loop; frees the job */
	int rc;                        /* run()'s result for done(); -ECANCELED: never ran */
	struct job *next;              /* jobs.c: the deferred queue */
};

struct jobs {
	unsigned long submitted, completed;
	bool defer;               /* tests: queue jobs until jobs_run_pending() */
	struct job *head, *tail;  /* deferred jobs, oldest first */
	size_t queued;
};

void jobs_submit(struct jobs *j, struct job *job);
/* Deferred mode: run and complete the oldest queued job; false when none is queued. */
bool jobs_run_one(struct jobs *j);
/* Deferred mode: run and complete queued jobs, in order, until none is left (also those
 * that done() submits meanwhile); returns how many ran. */
size_t jobs_run_pending(struct jobs *j);
/* Shutdown: every queued job's done() with rc = -ECANCELED, without run(), so each frees
 * what it holds; call after the SAs are gone (gw_fini). */
void jobs_drain(struct jobs *j);

#endif
