/* SPDX-License-Identifier: ISC */
/* jobs.c: inline (the daemon) and deferred (tests) completion, order, drain at shutdown. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ikegw/jobs.h"

#define MAX_EVENTS 32

/* What happened, in order: +id for run(), -id for done() (rc kept per job). */
struct trace {
	int ev[MAX_EVENTS];
	size_t n;
};

struct tjob {
	struct job job;
	struct trace *t;
	int id;
	int seen_rc;
	struct jobs *resubmit_to;  /* done() submits child then */
	struct tjob *child;
};

static void note(struct trace *t, int e)
{
	assert_true(t->n < MAX_EVENTS);
	t->ev[t->n++] = e;
}

static void t_run(struct job *job)
{
	struct tjob *j = (struct tjob *)job;

	note(j->t, j->id);
	job->rc = j->id == 99 ? -EIO : 0;
}

static void t_done(struct job *job)
{
	struct tjob *j = (struct tjob *)job;

	j->seen_rc = job->rc;
	note(j->t, -j->id);
	if (j->resubmit_to && j->child)
		jobs_submit(j->resubmit_to, &j->child->job);
}

static void tjob_init(struct tjob *j, struct trace *t, int id)
{
	memset(j, 0, sizeof(*j));
	j->job.run = t_run;
	j->job.done = t_done;
	j->t = t;
	j->id = id;
	j->seen_rc = 12345;
}

static void test_inline(void **state)
{
	struct jobs js = { 0 };
	struct trace t = { 0 };
	struct tjob a, b;

	(void)state;
	tjob_init(&a, &t, 1);
	tjob_init(&b, &t, 99);
	jobs_submit(&js, &a.job);
	assert_int_equal(t.n, 2); /* run then done, before jobs_submit returns */
	assert_int_equal(t.ev[0], 1);
	assert_int_equal(t.ev[1], -1);
	jobs_submit(&js, &b.job);
	assert_int_equal(b.seen_rc, -EIO); /* run()'s result reaches done() */
	assert_int_equal(a.seen_rc, 0);
	assert_int_equal(js.submitted, 2);
	assert_int_equal(js.completed, 2);
	assert_int_equal(js.queued, 0);
	assert_false(jobs_run_one(&js)); /* nothing is ever queued inline */
	assert_int_equal(jobs_run_pending(&js), 0);
}

static void test_deferred_order(void **state)
{
	struct jobs js = { .defer = true };
	struct trace t = { 0 };
	struct tjob j[3];
	static const int want[] = { 1, -1, 2, -2, 3, -3 };

	(void)state;
	for (int i = 0; i < 3; i++) {
		tjob_init(&j[i], &t, i + 1);
		jobs_submit(&js, &j[i].job);
	}
	assert_int_equal(t.n, 0); /* nothing ran at submit */
	assert_int_equal(js.queued, 3);
	assert_int_equal(js.submitted, 3);
	assert_int_equal(js.completed, 0);
	assert_true(jobs_run_one(&js));
	assert_int_equal(t.n, 2);
	assert_int_equal(js.queued, 2);
	assert_int_equal(jobs_run_pending(&js), 2);
	assert_int_equal(t.n, 6);
	assert_memory_equal(t.ev, want, sizeof(want));
	assert_int_equal(js.completed, 3);
	assert_int_equal(js.queued, 0);
	assert_null(js.head);
	assert_null(js.tail);
	assert_false(jobs_run_one(&js));
}

/* A done() that submits the next step (verify, then sign): it queues behind and runs. */
static void test_deferred_chain(void **state)
{
	struct jobs js = { .defer = true };
	struct trace t = { 0 };
	struct tjob first, second, other;
	static const int want[] = { 1, -1, 3, -3, 2, -2 };

	(void)state;
	tjob_init(&first, &t, 1);
	tjob_init(&second, &t, 2);
	tjob_init(&other, &t, 3);
	first.resubmit_to = &js;
	first.child = &second;
	jobs_submit(&js, &first.job);
	jobs_submit(&js, &other.job);
	assert_int_equal(jobs_run_pending(&js), 3);
	assert_int_equal(t.n, 6);
	assert_memory_equal(t.ev, want, sizeof(want));
	assert_int_equal(js.submitted, 3);
	assert_int_equal(js.completed, 3);
}

/* Shutdown: done() with -ECANCELED, run() never, so each job frees what it holds. */
static void test_drain(void **state)
{
	struct jobs js = { .defer = true };
	struct trace t = { 0 };
	struct tjob a, b;

	(void)state;
	tjob_init(&a, &t, 1);
	tjob_init(&b, &t, 2);
	jobs_submit(&js, &a.job);
	jobs_submit(&js, &b.job);
	jobs_drain(&js);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.ev[0], -1);
	assert_int_equal(t.ev[1], -2);
	assert_int_equal(a.seen_rc, -ECANCELED);
	assert_int_equal(b.seen_rc, -ECANCELED);
	assert_int_equal(js.queued, 0);
	assert_int_equal(js.completed, 2);
	jobs_drain(&js); /* empty: nothing happens */
	assert_int_equal(t.n, 2);
}

/* A job can be submitted again once done (its links are reset). */
static void test_resubmit(void **state)
{
	struct jobs js = { .defer = true };
	struct trace t = { 0 };
	struct tjob a, b;

	(void)state;
	tjob_init(&a, &t, 1);
	tjob_init(&b, &t, 2);
	jobs_submit(&js, &a.job);
	assert_int_equal(jobs_run_pending(&js), 1);
	jobs_submit(&js, &b.job);
	jobs_submit(&js, &a.job);
	assert_int_equal(js.queued, 2);
	assert_int_equal(jobs_run_pending(&js), 2);
	assert_int_equal(t.n, 6);
	assert_int_equal(t.ev[4], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inline),
		cmocka_unit_test(test_deferred_order),
		cmocka_unit_test(test_deferred_chain),
		cmocka_unit_test(test_drain),
		cmocka_unit_test(test_resubmit),
	};

	return cmocka_run_group_tests_name("jobs", tests, NULL, NULL);
}
