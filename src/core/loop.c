/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "ikegw/loop.h"

#define LOOP_MAX_EVENTS 64

/* One slot per fd number; gen tells a stale event of a reused fd number from a live one. */
struct loop_fd {
	loop_fd_fn *cb;
	void *arg;
	uint32_t gen;
	bool used;
};

struct loop_sig {
	loop_signal_fn *cb;
	void *arg;
};

struct loop {
	int epfd;
	struct loop_clock clock;
	bool stopped;

	struct loop_timer **heap;
	size_t heap_len, heap_cap;
	uint64_t seq;
	uint64_t run_now;  /* the time loop_run_timers() is firing for */
	bool in_run;

	struct loop_fd *fds;
	size_t fds_cap;
	uint32_t fd_gen;

	int sigfd;
	sigset_t sigmask, old_sigmask;
	struct loop_sig sigs[_NSIG];
};

static uint64_t loop_monotonic_ms(void *ctx)
{
	struct timespec ts;
	(void)ctx;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct loop *loop_new(const struct loop_clock *clock)
{
	struct loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		free(loop);
		return NULL;
	}
	if (clock)
		loop->clock = *clock;
	else
		loop->clock.now_ms = loop_monotonic_ms;
	loop->sigfd = -1;
	sigemptyset(&loop->sigmask);
	return loop;
}

void loop_free(struct loop *loop)
{
	if (!loop)
		return;
	for (size_t i = 0; i < loop->heap_len; i++)
		loop->heap[i]->heap_idx = LOOP_TIMER_UNARMED;
	if (loop->sigfd >= 0) {
		close(loop->sigfd);
		sigprocmask(SIG_SETMASK, &loop->old_sigmask, NULL);
	}
	close(loop->epfd);
	free(loop->heap);
	free(loop->fds);
	free(loop);
}

uint64_t loop_now(const struct loop *loop)
{
	return loop->clock.now_ms(loop->clock.ctx);
}

/* ---- timers: a binary min-heap ordered by (when, seq) ---- */

static bool timer_before(const struct loop_timer *a, const struct loop_timer *b)
{
	if (a->when_ms != b->when_ms)
		return a->when_ms < b->when_ms;
	return a->seq < b->seq;
}

static void heap_place(struct loop *loop, size_t i, struct loop_timer *t)
{
	loop->heap[i] = t;
	t->heap_idx = i;
}

static void heap_sift_up(struct loop *loop, size_t i)
{
	struct loop_timer *t = loop->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!timer_before(t, loop->heap[parent]))
			break;
		heap_place(loop, i, loop->heap[parent]);
		i = parent;
	}
	heap_place(loop, i, t);
}

static void heap_sift_down(struct loop *loop, size_t i)
{
	struct loop_timer *t = loop->heap[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= loop->heap_len)
			break;
		if (child + 1 < loop->heap_len &&
		    timer_before(loop->heap[child + 1], loop->heap[child]))
			child++;
		if (!timer_before(loop->heap[child], t))
			break;
		heap_place(loop, i, loop->heap[child]);
		i = child;
	}
	heap_place(loop, i, t);
}

static int heap_reserve(struct loop *loop)
{
	struct loop_timer **n;
	size_t cap;

	if (loop->heap_len < loop->heap_cap)
		return 0;
	cap = loop->heap_cap ? loop->heap_cap * 2 : 64;
	n = reallocarray(loop->heap, cap, sizeof(*n));
	if (!n)
		return -ENOMEM;
	loop->heap = n;
	loop->heap_cap = cap;
	return 0;
}

void loop_timer_init(struct loop_timer *t, loop_timer_fn *cb, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->heap_idx = LOOP_TIMER_UNARMED;
	t->cb = cb;
	t->arg = arg;
}

bool loop_timer_armed(const struct loop_timer *t)
{
	return t->heap_idx != LOOP_TIMER_UNARMED;
}

size_t loop_timer_count(const struct loop *loop)
{
	return loop->heap_len;
}

void loop_timer_cancel(struct loop *loop, struct loop_timer *t)
{
	size_t i = t->heap_idx;
	struct loop_timer *last;

	if (i == LOOP_TIMER_UNARMED)
		return;
	t->heap_idx = LOOP_TIMER_UNARMED;
	last = loop->heap[--loop->heap_len];
	if (last == t)
		return;
	/* The last element fills the hole and moves whichever way restores the order. */
	heap_place(loop, i, last);
	heap_sift_up(loop, i);
	heap_sift_down(loop, last->heap_idx);
}

int loop_timer_arm(struct loop *loop, struct loop_timer *t, uint64_t when_ms)
{
	if (!loop_timer_armed(t)) {
		int rc = heap_reserve(loop);

		if (rc < 0)
			return rc;
		loop->heap_len++;
		heap_place(loop, loop->heap_len - 1, t);
	}
	/* See loop_run_timers: a timer armed into the past while timers fire waits its turn. */
	if (loop->in_run && when_ms < loop->run_now)
		when_ms = loop->run_now;
	t->when_ms = when_ms;
	t->seq = ++loop->seq;
	heap_sift_up(loop, t->heap_idx);
	heap_sift_down(loop, t->heap_idx);
	return 0;
}

int loop_timer_arm_in(struct loop *loop, struct loop_timer *t, uint64_t delay_ms)
{
	return loop_timer_arm(loop, t, loop_now(loop) + delay_ms);
}

size_t loop_run_timers(struct loop *loop)
{
	uint64_t last_seq = loop->seq;
	size_t fired = 0;

	if (loop->in_run)
		return 0;
	loop->in_run = true;
	loop->run_now = loop_now(loop);
	/*
	 * Only timers armed before this call fire.  One armed by a callback has a larger
	 * seq and, being clamped to run_now at least (loop_timer_arm), sorts after every
	 * older due timer: reaching it at the top means the due ones are done.
	 */
	while (loop->heap_len > 0) {
		struct loop_timer *t = loop->heap[0];

		if (t->when_ms > loop->run_now || t->seq > last_seq)
			break;
		loop_timer_cancel(loop, t);
		t->cb(loop, t->arg);
		fired++;
	}
	loop->in_run = false;
	return fired;
}

/* ---- fd watchers ---- */

static int fds_reserve(struct loop *loop, int fd)
{
	struct loop_fd *n;
	size_t cap = loop->fds_cap ? loop->fds_cap : 64;

	if ((size_t)fd < loop->fds_cap)
		return 0;
	while (cap <= (size_t)fd)
		cap *= 2;
	n = reallocarray(loop->fds, cap, sizeof(*n));
	if (!n)
		return -ENOMEM;
	memset(n + loop->fds_cap, 0, (cap - loop->fds_cap) * sizeof(*n));
	loop->fds = n;
	loop->fds_cap = cap;
	return 0;
}

static struct loop_fd *loop_fd_get(struct loop *loop, int fd)
{
	if (fd < 0 || (size_t)fd >= loop->fds_cap || !loop->fds[fd].used)
		return NULL;
	return &loop->fds[fd];
}

/* The event carries fd and generation, so a deleted watcher's pending event is dropped. */
static int loop_epoll_ctl(struct loop *loop, int op, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events };

	ev.data.u64 = (uint64_t)loop->fds[fd].gen << 32 | (uint32_t)fd;
	return epoll_ctl(loop->epfd, op, fd, &ev) < 0 ? -errno : 0;
}

int loop_fd_add(struct loop *loop, int fd, uint32_t events, loop_fd_fn *cb, void *arg)
{
	struct loop_fd *w;
	int rc;

	if (fd < 0 || !cb)
		return -EINVAL;
	if (loop_fd_get(loop, fd))
		return -EEXIST;
	rc = fds_reserve(loop, fd);
	if (rc < 0)
		return rc;
	w = &loop->fds[fd];
	*w = (struct loop_fd){ .cb = cb, .arg = arg, .gen = ++loop->fd_gen, .used = true };
	rc = loop_epoll_ctl(loop, EPOLL_CTL_ADD, fd, events);
	if (rc < 0)
		w->used = false;
	return rc;
}

int loop_fd_mod(struct loop *loop, int fd, uint32_t events)
{
	if (!loop_fd_get(loop, fd))
		return -ENOENT;
	return loop_epoll_ctl(loop, EPOLL_CTL_MOD, fd, events);
}

int loop_fd_del(struct loop *loop, int fd)
{
	struct loop_fd *w = loop_fd_get(loop, fd);

	if (!w)
		return -ENOENT;
	w->used = false;
	/* The fd may already be closed (EBADF): the watcher is gone either way. */
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	return 0;
}

static void loop_fd_dispatch(struct loop *loop, const struct epoll_event *ev)
{
	int fd = (int)(uint32_t)ev->data.u64;
	uint32_t gen = (uint32_t)(ev->data.u64 >> 32);
	struct loop_fd *w = loop_fd_get(loop, fd);

	if (w && w->gen == gen)
		w->cb(loop, fd, ev->events, w->arg);
}

/* ---- signals through a signalfd ---- */

static void loop_signal_read(struct loop *loop, int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;
	(void)events;
	(void)arg;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		struct loop_sig *s;

		if (si.ssi_signo >= _NSIG)
			continue;
		s = &loop->sigs[si.ssi_signo];
		if (s->cb)
			s->cb(loop, (int)si.ssi_signo, s->arg);
	}
}

static int loop_signal_fd_open(struct loop *loop)
{
	sigset_t none;
	int rc;

	sigemptyset(&none);
	if (sigprocmask(SIG_BLOCK, &none, &loop->old_sigmask) < 0)
		return -errno;
	loop->sigfd = signalfd(-1, &loop->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (loop->sigfd < 0)
		return -errno;
	rc = loop_fd_add(loop, loop->sigfd, EPOLLIN, loop_signal_read, NULL);
	if (rc < 0) {
		close(loop->sigfd);
		loop->sigfd = -1;
	}
	return rc;
}

int loop_signal_add(struct loop *loop, int signo, loop_signal_fn *cb, void *arg)
{
	int rc;

	if (signo <= 0 || signo >= _NSIG || !cb)
		return -EINVAL;
	if (sigaddset(&loop->sigmask, signo) < 0)
		return -errno;
	/* Blocked, so the signal waits in the signalfd instead of interrupting anything. */
	if (loop->sigfd < 0) {
		rc = loop_signal_fd_open(loop);
		if (rc < 0)
			return rc;
	} else if (signalfd(loop->sigfd, &loop->sigmask, 0) < 0) {
		return -errno;
	}
	if (sigprocmask(SIG_BLOCK, &loop->sigmask, NULL) < 0)
		return -errno;
	loop->sigs[signo] = (struct loop_sig){ .cb = cb, .arg = arg };
	return 0;
}

/* ---- running ---- */

/* epoll timeout: the caller's limit or the next timer's deadline, whichever is sooner. */
static int loop_wait_ms(const struct loop *loop, int max_wait_ms)
{
	uint64_t now, when, delta;

	if (loop->stopped)
		return 0;
	if (loop->heap_len == 0)
		return max_wait_ms;
	now = loop_now(loop);
	when = loop->heap[0]->when_ms;
	delta = when > now ? when - now : 0;
	if (max_wait_ms >= 0 && delta > (uint64_t)max_wait_ms)
		return max_wait_ms;
	return delta > INT32_MAX ? INT32_MAX : (int)delta;
}

int loop_run_once(struct loop *loop, int max_wait_ms)
{
	struct epoll_event ev[LOOP_MAX_EVENTS];
	int n;

	loop_run_timers(loop);
	n = epoll_wait(loop->epfd, ev, LOOP_MAX_EVENTS, loop_wait_ms(loop, max_wait_ms));
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++)
		loop_fd_dispatch(loop, &ev[i]);
	loop_run_timers(loop);
	return n;
}

int loop_run(struct loop *loop)
{
	while (!loop->stopped) {
		int rc = loop_run_once(loop, -1);

		if (rc < 0)
			return rc;
	}
	return 0;
}

void loop_stop(struct loop *loop)
{
	loop->stopped = true;
}

bool loop_stopped(const struct loop *loop)
{
	return loop->stopped;
}
