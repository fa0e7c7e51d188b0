/* SPDX-License-Identifier: ISC */
/*
 * Expensive crypto (key exchange, signatures) as jobs: run() does the work with no access
 * to shared daemon state, done() applies the result on the event loop.  Today jobs run
 * inline (run then done, at once); a worker pool can replace jobs_submit() later without
 * touching the exchange code, which already treats every job as asynchronous (everything
 * after the expensive step happens in done()).  Moving to threads also needs the SA a
 * job belongs to kept alive between submit and done: a pending count on struct ike_sa.
 */
#ifndef IKEGW_JOBS_H
#define IKEGW_JOBS_H

struct job {
	void (*run)(struct job *job);  /* may run on another thread one day: no shared state */
	void (*done)(struct job *job); /* always on the event loop */
	int rc;                        /* run()'s result, for done() */
};

struct jobs {
	unsigned long submitted, completed;
};

void jobs_submit(struct jobs *j, struct job *job);

#endif
