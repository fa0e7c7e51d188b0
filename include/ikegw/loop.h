/* SPDX-License-Identifier: ISC */
/*
 * The event loop: one epoll set, fd watchers, signals through a signalfd, and timers
 * kept in a binary min-heap.
 *
 * Timers are handles embedded in their owner (an IKE SA owns its DPD, rekey and
 * retransmit timers), so freeing the owner is: cancel its timers, then free.  The heap
 * points at the handles; a handle knows its own heap slot, so cancel is O(log n) and an
 * unarmed handle is never in the heap (cancelling it is a no-op).
 *
 * Time comes from an injectable clock.  Tests pass a fake clock, move it forward and
 * call loop_run_timers(): nothing sleeps.  There is no global state; everything lives
 * in struct loop.
 */
#ifndef IKEGW_LOOP_H
#define IKEGW_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

struct loop;

/* Milliseconds on a clock that never goes backwards. */
struct loop_clock {
	uint64_t (*now_ms)(void *ctx);
	void *ctx;
};

typedef void loop_timer_fn(struct loop *loop, void *arg);
typedef void loop_fd_fn(struct loop *loop, int fd, uint32_t events, void *arg);
typedef void loop_signal_fn(struct loop *loop, int signo, void *arg);

#define LOOP_TIMER_UNARMED ((size_t)-1)

/* Embed in the owner; the fields are the loop's, read them through the functions. */
struct loop_timer {
	uint64_t when_ms;
	uint64_t seq;     /* arm order: equal deadlines fire first-armed first */
	size_t heap_idx;  /* LOOP_TIMER_UNARMED when not in the heap */
	loop_timer_fn *cb;
	void *arg;
};

/* clock NULL = CLOCK_MONOTONIC.  The clock struct is copied. */
struct loop *loop_new(const struct loop_clock *clock);
/* Closes the epoll and signal fds, restores the signal mask; does not close watched fds. */
void loop_free(struct loop *loop);
uint64_t loop_now(const struct loop *loop);

void loop_timer_init(struct loop_timer *t, loop_timer_fn *cb, void *arg);
/* Arm (or move, when armed) to fire at absolute time when_ms.  -ENOMEM on failure. */
int loop_timer_arm(struct loop *loop, struct loop_timer *t, uint64_t when_ms);
/* Arm to fire delay_ms from now. */
int loop_timer_arm_in(struct loop *loop, struct loop_timer *t, uint64_t delay_ms);
void loop_timer_cancel(struct loop *loop, struct loop_timer *t);
bool loop_timer_armed(const struct loop_timer *t);
size_t loop_timer_count(const struct loop *loop);
/*
 * Fire every timer due now.  A timer armed (or re-armed) by a callback during this call
 * waits for the next call even if already due, so a callback cannot spin the loop.
 * Returns the number fired.
 */
size_t loop_run_timers(struct loop *loop);

/* events: EPOLLIN / EPOLLOUT.  -EEXIST if fd is already watched. */
int loop_fd_add(struct loop *loop, int fd, uint32_t events, loop_fd_fn *cb, void *arg);
int loop_fd_mod(struct loop *loop, int fd, uint32_t events);
/* Safe from any callback, including fd's own; no callback for fd runs afterwards. */
int loop_fd_del(struct loop *loop, int fd);

/* Block signo and deliver it through the loop (SIGHUP, SIGTERM, SIGINT, ...). */
int loop_signal_add(struct loop *loop, int signo, loop_signal_fn *cb, void *arg);

/*
 * Fire due timers, wait for events up to max_wait_ms (-1 = until the next timer or
 * forever; 0 = poll), dispatch them, fire due timers again.
 * Returns the number of fd events dispatched, or a negative errno.
 */
int loop_run_once(struct loop *loop, int max_wait_ms);
/* loop_run_once() until loop_stop(); returns 0, or a negative errno from epoll. */
int loop_run(struct loop *loop);
void loop_stop(struct loop *loop);
bool loop_stopped(const struct loop *loop);

#endif
