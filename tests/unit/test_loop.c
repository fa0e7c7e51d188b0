/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "ikegw/loop.h"

struct fake_clock {
	uint64_t now;
};

static uint64_t fake_now(void *ctx)
{
	return ((struct fake_clock *)ctx)->now;
}

struct fixture {
	struct fake_clock clk;
	struct loop *loop;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct loop_clock c = { .now_ms = fake_now };

	if (!f)
		return -1;
	f->clk.now = 1000;
	c.ctx = &f->clk;
	f->loop = loop_new(&c);
	*state = f;
	return f->loop ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	loop_free(f->loop);
	free(f);
	return 0;
}

/* A timer that records its firing into a shared log. */
struct rec {
	struct loop_timer t;
	struct log_of_fires *log;
	int id;
	uint64_t when;
	bool cancelled;
	struct rec *victim;   /* cancelled by this one's callback */
	uint64_t rearm_at;    /* re-armed by its own callback when non-zero */
	int rearms_left;
};

struct log_of_fires {
	int ids[4096];
	uint64_t whens[4096];
	size_t n;
};

static void rec_fire(struct loop *loop, void *arg)
{
	struct rec *r = arg;

	assert_false(loop_timer_armed(&r->t));
	assert_true(r->log->n < 4096);
	r->log->ids[r->log->n] = r->id;
	r->log->whens[r->log->n] = loop_now(loop);
	r->log->n++;
	if (r->victim) {
		loop_timer_cancel(loop, &r->victim->t);
		loop_timer_cancel(loop, &r->t); /* cancelling itself, unarmed: a no-op */
	}
	if (r->rearms_left > 0) {
		r->rearms_left--;
		assert_int_equal(loop_timer_arm(loop, &r->t, r->rearm_at), 0);
	}
}

/* A fixed-seed generator so the order is random but the test is repeatable. */
static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void test_heap_orders_many_timers(void **state)
{
	struct fixture *f = *state;
	enum { N = 2000 };
	static struct rec r[N];
	static struct log_of_fires lg;
	uint32_t seed = 42;
	size_t live = 0;

	lg.n = 0;
	for (int i = 0; i < N; i++) {
		r[i] = (struct rec){ .log = &lg, .id = i, .when = 1000 + lcg(&seed) % 500 };
		loop_timer_init(&r[i].t, rec_fire, &r[i]);
		assert_int_equal(loop_timer_arm(f->loop, &r[i].t, r[i].when), 0);
	}
	for (int i = 0; i < N; i += 3) {
		loop_timer_cancel(f->loop, &r[i].t);
		r[i].cancelled = true;
	}
	for (int i = 0; i < N; i++)
		live += !r[i].cancelled;
	assert_int_equal(loop_timer_count(f->loop), live);

	f->clk.now = 1250;
	size_t first = loop_run_timers(f->loop);
	f->clk.now = 2000;
	size_t second = loop_run_timers(f->loop);
	assert_int_equal(first + second, live);
	assert_int_equal(lg.n, live);
	for (size_t i = 0; i < lg.n; i++) {
		struct rec *x = &r[lg.ids[i]];

		assert_false(x->cancelled);
		if (i < first)
			assert_true(x->when <= 1250);
		else
			assert_true(x->when > 1250);
		if (i > 0) {
			struct rec *p = &r[lg.ids[i - 1]];

			/* Deadline order; equal deadlines in arming order. */
			assert_true(p->when < x->when || (p->when == x->when && p->id < x->id));
		}
	}
	assert_int_equal(loop_timer_count(f->loop), 0);
}

static void test_only_due_timers_fire(void **state)
{
	struct fixture *f = *state;
	struct log_of_fires lg = { .n = 0 };
	struct rec a = { .log = &lg, .id = 1 }, b = { .log = &lg, .id = 2 };

	loop_timer_init(&a.t, rec_fire, &a);
	loop_timer_init(&b.t, rec_fire, &b);
	assert_false(loop_timer_armed(&a.t));
	assert_int_equal(loop_timer_arm_in(f->loop, &a.t, 10), 0);
	assert_int_equal(loop_timer_arm_in(f->loop, &b.t, 20), 0);
	assert_true(loop_timer_armed(&a.t));
	assert_int_equal(loop_run_timers(f->loop), 0);
	f->clk.now += 10;
	assert_int_equal(loop_run_timers(f->loop), 1);
	assert_int_equal(lg.ids[0], 1);
	assert_true(loop_timer_armed(&b.t));
	f->clk.now += 10;
	assert_int_equal(loop_run_timers(f->loop), 1);
	assert_int_equal(lg.ids[1], 2);
}

static void test_cancel_from_callback(void **state)
{
	struct fixture *f = *state;
	struct log_of_fires lg = { .n = 0 };
	struct rec a = { .log = &lg, .id = 1 }, b = { .log = &lg, .id = 2 };

	a.victim = &b;
	loop_timer_init(&a.t, rec_fire, &a);
	loop_timer_init(&b.t, rec_fire, &b);
	assert_int_equal(loop_timer_arm(f->loop, &a.t, 1005), 0);
	assert_int_equal(loop_timer_arm(f->loop, &b.t, 1500), 0);
	f->clk.now = 2000;
	assert_int_equal(loop_run_timers(f->loop), 1);
	assert_int_equal(lg.n, 1);
	assert_false(loop_timer_armed(&b.t));
	assert_int_equal(loop_timer_count(f->loop), 0);
}

static void test_cancel_other_due_at_same_time(void **state)
{
	struct fixture *f = *state;
	struct log_of_fires lg = { .n = 0 };
	struct rec a = { .log = &lg, .id = 1 }, b = { .log = &lg, .id = 2 };
	struct rec c = { .log = &lg, .id = 3 };

	a.victim = &b;
	loop_timer_init(&a.t, rec_fire, &a);
	loop_timer_init(&b.t, rec_fire, &b);
	loop_timer_init(&c.t, rec_fire, &c);
	assert_int_equal(loop_timer_arm(f->loop, &a.t, 1100), 0);
	assert_int_equal(loop_timer_arm(f->loop, &b.t, 1100), 0);
	assert_int_equal(loop_timer_arm(f->loop, &c.t, 1100), 0);
	f->clk.now = 1100;
	assert_int_equal(loop_run_timers(f->loop), 2);
	assert_int_equal(lg.ids[0], 1);
	assert_int_equal(lg.ids[1], 3);
}

static void test_rearm_from_own_callback(void **state)
{
	struct fixture *f = *state;
	struct log_of_fires lg = { .n = 0 };
	struct rec a = { .log = &lg, .id = 1, .rearm_at = 1030, .rearms_left = 1 };

	loop_timer_init(&a.t, rec_fire, &a);
	assert_int_equal(loop_timer_arm(f->loop, &a.t, 1010), 0);
	f->clk.now = 1010;
	assert_int_equal(loop_run_timers(f->loop), 1);
	assert_true(loop_timer_armed(&a.t));
	assert_int_equal(loop_run_timers(f->loop), 0);
	f->clk.now = 1030;
	assert_int_equal(loop_run_timers(f->loop), 1);
	assert_false(loop_timer_armed(&a.t));
	assert_int_equal(lg.whens[1], 1030);
}

/* A callback re-arming into the past waits for the next run instead of spinning. */
static void test_rearm_into_past_does_not_spin(void **state)
{
	struct fixture *f = *state;
	struct log_of_fires lg = { .n = 0 };
	struct rec a = { .log = &lg, .id = 1, .rearm_at = 1, .rearms_left = 1000 };
	struct rec b = { .log = &lg, .id = 2 };

	loop_timer_init(&a.t, rec_fire, &a);
	loop_timer_init(&b.t, rec_fire, &b);
	assert_int_equal(loop_timer_arm(f->loop, &a.t, 1000), 0);
	assert_int_equal(loop_timer_arm(f->loop, &b.t, 1000), 0);
	/* a fires, re-arms for t=1; b (armed earlier than the re-arm) still fires. */
	assert_int_equal(loop_run_timers(f->loop), 2);
	assert_int_equal(lg.ids[1], 2);
	assert_int_equal(loop_run_timers(f->loop), 1);
	assert_true(loop_timer_armed(&a.t));
}

static void test_arm_moves_armed_timer(void **state)
{
	struct fixture *f = *state;
	struct log_of_fires lg = { .n = 0 };
	struct rec a = { .log = &lg, .id = 1 }, b = { .log = &lg, .id = 2 };

	loop_timer_init(&a.t, rec_fire, &a);
	loop_timer_init(&b.t, rec_fire, &b);
	assert_int_equal(loop_timer_arm(f->loop, &a.t, 1100), 0);
	assert_int_equal(loop_timer_arm(f->loop, &b.t, 1200), 0);
	assert_int_equal(loop_timer_arm(f->loop, &a.t, 1300), 0);
	assert_int_equal(loop_timer_count(f->loop), 2);
	f->clk.now = 1250;
	assert_int_equal(loop_run_timers(f->loop), 1);
	assert_int_equal(lg.ids[0], 2);
	/* Cancelling twice, or cancelling the never-armed, is harmless. */
	loop_timer_cancel(f->loop, &a.t);
	loop_timer_cancel(f->loop, &a.t);
	loop_timer_cancel(f->loop, &b.t);
	assert_int_equal(loop_timer_count(f->loop), 0);
}

static void test_fake_clock(void **state)
{
	struct fixture *f = *state;
	struct log_of_fires lg = { .n = 0 };
	struct rec a = { .log = &lg, .id = 1 };

	assert_int_equal(loop_now(f->loop), 1000);
	f->clk.now = 123456;
	assert_int_equal(loop_now(f->loop), 123456);
	loop_timer_init(&a.t, rec_fire, &a);
	assert_int_equal(loop_timer_arm_in(f->loop, &a.t, 5), 0);
	/* Not due: run_once with a zero wait polls and returns without firing. */
	assert_int_equal(loop_run_once(f->loop, 0), 0);
	assert_int_equal(lg.n, 0);
	f->clk.now += 5;
	assert_int_equal(loop_run_once(f->loop, 0), 0);
	assert_int_equal(lg.n, 1);
	assert_int_equal(lg.whens[0], 123461);
}

static void test_real_clock_is_monotonic(void **state)
{
	struct loop *loop = loop_new(NULL);
	uint64_t a, b;
	(void)state;

	assert_non_null(loop);
	a = loop_now(loop);
	b = loop_now(loop);
	assert_true(b >= a);
	loop_free(loop);
}

struct pipe_ctx {
	int calls;
	char got[16];
	bool del_self;
};

static void pipe_readable(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct pipe_ctx *c = arg;
	ssize_t n;

	assert_true(events & EPOLLIN);
	n = read(fd, c->got, sizeof(c->got) - 1);
	assert_true(n > 0);
	c->got[n] = 0;
	c->calls++;
	if (c->del_self)
		assert_int_equal(loop_fd_del(loop, fd), 0);
}

static void test_fd_watcher_on_pipe(void **state)
{
	struct fixture *f = *state;
	struct pipe_ctx c = { 0 };
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(loop_fd_add(f->loop, p[0], EPOLLIN, pipe_readable, &c), 0);
	assert_int_equal(loop_fd_add(f->loop, p[0], EPOLLIN, pipe_readable, &c), -EEXIST);
	assert_int_equal(loop_run_once(f->loop, 0), 0);
	assert_int_equal(c.calls, 0);

	assert_int_equal(write(p[1], "hello", 5), 5);
	assert_int_equal(loop_run_once(f->loop, 1000), 1);
	assert_int_equal(c.calls, 1);
	assert_string_equal(c.got, "hello");

	c.del_self = true;
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(loop_run_once(f->loop, 1000), 1);
	assert_int_equal(c.calls, 2);
	assert_int_equal(write(p[1], "y", 1), 1);
	assert_int_equal(loop_run_once(f->loop, 0), 0);
	assert_int_equal(c.calls, 2);
	assert_int_equal(loop_fd_del(f->loop, p[0]), -ENOENT);
	assert_int_equal(loop_fd_mod(f->loop, p[0], EPOLLIN), -ENOENT);
	close(p[0]);
	close(p[1]);
}

/* Two pipes ready in one batch; the first callback deletes the second's watcher. */
struct pair_ctx {
	int fds[2];
	int calls;
};

static void pair_readable(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct pair_ctx *c = arg;
	(void)events;

	c->calls++;
	assert_int_equal(loop_fd_del(loop, fd == c->fds[0] ? c->fds[1] : c->fds[0]), 0);
	assert_int_equal(loop_fd_del(loop, fd), 0);
}

static void test_fd_del_other_in_same_batch(void **state)
{
	struct fixture *f = *state;
	struct pair_ctx c = { .calls = 0 };
	int a[2], b[2];

	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	c.fds[0] = a[0];
	c.fds[1] = b[0];
	assert_int_equal(loop_fd_add(f->loop, a[0], EPOLLIN, pair_readable, &c), 0);
	assert_int_equal(loop_fd_add(f->loop, b[0], EPOLLIN, pair_readable, &c), 0);
	assert_int_equal(write(a[1], "1", 1), 1);
	assert_int_equal(write(b[1], "2", 1), 1);
	assert_int_equal(loop_run_once(f->loop, 1000), 2);
	assert_int_equal(c.calls, 1);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}

struct sig_ctx {
	int hup, term;
};

static void on_signal(struct loop *loop, int signo, void *arg)
{
	struct sig_ctx *c = arg;

	if (signo == SIGHUP)
		c->hup++;
	if (signo == SIGTERM) {
		c->term++;
		loop_stop(loop);
	}
}

static void test_signals_through_signalfd(void **state)
{
	struct fixture *f = *state;
	struct sig_ctx c = { 0 };

	assert_int_equal(loop_signal_add(f->loop, SIGHUP, on_signal, &c), 0);
	assert_int_equal(loop_signal_add(f->loop, SIGTERM, on_signal, &c), 0);
	assert_int_equal(loop_signal_add(f->loop, 0, on_signal, &c), -EINVAL);
	assert_int_equal(raise(SIGHUP), 0);
	assert_int_equal(loop_run_once(f->loop, 1000), 1);
	assert_int_equal(c.hup, 1);
	assert_false(loop_stopped(f->loop));
	assert_int_equal(raise(SIGTERM), 0);
	assert_int_equal(loop_run(f->loop), 0);
	assert_int_equal(c.term, 1);
	assert_true(loop_stopped(f->loop));
}

static void stop_cb(struct loop *loop, void *arg)
{
	(*(int *)arg)++;
	loop_stop(loop);
}

static void test_stop_from_timer(void **state)
{
	struct fixture *f = *state;
	struct loop_timer t;
	int fired = 0;

	loop_timer_init(&t, stop_cb, &fired);
	assert_int_equal(loop_timer_arm(f->loop, &t, f->clk.now), 0);
	assert_int_equal(loop_run(f->loop), 0);
	assert_int_equal(fired, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_heap_orders_many_timers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_only_due_timers_fire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_from_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_other_due_at_same_time, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rearm_from_own_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rearm_into_past_does_not_spin, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_arm_moves_armed_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_clock, setup, teardown),
		cmocka_unit_test(test_real_clock_is_monotonic),
		cmocka_unit_test_setup_teardown(test_fd_watcher_on_pipe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_del_other_in_same_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signals_through_signalfd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_from_timer, setup, teardown),
	};

	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
