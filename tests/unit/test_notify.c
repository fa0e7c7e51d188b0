/* SPDX-License-Identifier: ISC */
/*
 * The sd_notify protocol against a fake systemd: a SOCK_DGRAM unix socket in a temporary
 * folder (and one abstract socket), read back datagram by datagram.  The watchdog runs on
 * a loop with a fake clock, so nothing sleeps.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "ikegw/loop.h"
#include "ikegw/notify.h"

struct fake_systemd {
	char dir[64];
	char path[128];
	int fd;
	uint64_t now;
};

static uint64_t fake_now(void *ctx)
{
	return ((struct fake_systemd *)ctx)->now;
}

static int setup(void **state)
{
	struct fake_systemd *f = calloc(1, sizeof(*f));
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/ikegw-notify-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/notify", f->dir);
	f->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(f->fd >= 0);
	memcpy(sun.sun_path, f->path, strlen(f->path) + 1);
	assert_int_equal(bind(f->fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	f->now = 5000;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake_systemd *f = *state;

	close(f->fd);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The next datagram as a string, or NULL when none is queued. */
static char *next_dgram(int fd, char *buf, size_t len)
{
	ssize_t n = recv(fd, buf, len - 1, MSG_DONTWAIT);

	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

static void test_ready_status_stopping(void **state)
{
	struct fake_systemd *f = *state;
	struct notify n;
	char buf[1024];

	assert_int_equal(notify_init(&n, f->path, NULL, NULL), 0);
	assert_true(notify_enabled(&n));
	assert_int_equal(notify_ready(&n, "listening on 192.0.2.1"), 0);
	assert_string_equal(next_dgram(f->fd, buf, sizeof(buf)),
			    "READY=1\nSTATUS=listening on 192.0.2.1");
	assert_int_equal(notify_ready(&n, NULL), 0);
	assert_string_equal(next_dgram(f->fd, buf, sizeof(buf)), "READY=1");
	assert_int_equal(notify_status(&n, "%d SAs\nREADY=1", 3), 0);
	/* a newline in the status cannot smuggle a second key */
	assert_string_equal(next_dgram(f->fd, buf, sizeof(buf)), "STATUS=3 SAs READY=1");
	assert_int_equal(notify_stopping(&n), 0);
	assert_string_equal(next_dgram(f->fd, buf, sizeof(buf)), "STOPPING=1");
	assert_null(next_dgram(f->fd, buf, sizeof(buf)));
	assert_int_equal(n.sent, 4);
	notify_fini(&n);
	assert_false(notify_enabled(&n));
}

static void test_reloading_has_monotonic_usec(void **state)
{
	struct fake_systemd *f = *state;
	struct timespec ts;
	unsigned long long usec, before;
	struct notify n;
	char buf[256], *p;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	before = (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000;
	assert_int_equal(notify_init(&n, f->path, NULL, NULL), 0);
	assert_int_equal(notify_reloading(&n), 0);
	p = next_dgram(f->fd, buf, sizeof(buf));
	assert_non_null(p);
	assert_int_equal(strncmp(p, "RELOADING=1\nMONOTONIC_USEC=", 27), 0);
	usec = strtoull(p + 27, &p, 10);
	assert_int_equal(*p, '\0');
	assert_true(usec >= before && usec < before + 60000000ull);
	notify_fini(&n);
}

static void test_watchdog_half_interval(void **state)
{
	struct fake_systemd *f = *state;
	struct loop_clock clock = { fake_now, f };
	struct loop *loop = loop_new(&clock);
	struct notify n;
	char buf[256];
	int fed = 0;

	assert_non_null(loop);
	assert_int_equal(notify_init(&n, f->path, "20000000", NULL), 0); /* 20 s */
	assert_int_equal(n.watchdog_usec, 20000000);
	assert_int_equal(notify_watchdog_start(&n, loop), 0);
	assert_string_equal(next_dgram(f->fd, buf, sizeof(buf)), "WATCHDOG=1");
	f->now += 9999;
	loop_run_timers(loop);
	assert_null(next_dgram(f->fd, buf, sizeof(buf)));
	for (int i = 0; i < 3; i++) {
		f->now += 10000; /* every 10 s: half of WATCHDOG_USEC */
		loop_run_timers(loop);
		while (next_dgram(f->fd, buf, sizeof(buf))) {
			assert_string_equal(buf, "WATCHDOG=1");
			fed++;
		}
	}
	assert_int_equal(fed, 3);
	notify_fini(&n);
	assert_int_equal(loop_timer_count(loop), 0);
	loop_free(loop);
}

static void test_watchdog_pid_not_ours(void **state)
{
	struct fake_systemd *f = *state;
	struct loop_clock clock = { fake_now, f };
	struct loop *loop = loop_new(&clock);
	char pid[32], buf[64];
	struct notify n;

	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	assert_int_equal(notify_init(&n, f->path, "1000000", pid), 0);
	assert_int_equal(n.watchdog_usec, 0);
	assert_int_equal(notify_watchdog_start(&n, loop), 0);
	assert_int_equal(loop_timer_count(loop), 0);
	assert_null(next_dgram(f->fd, buf, sizeof(buf)));
	notify_fini(&n);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	assert_int_equal(notify_init(&n, f->path, "1000000", pid), 0);
	assert_int_equal(n.watchdog_usec, 1000000);
	notify_fini(&n);
	assert_int_equal(notify_init(&n, f->path, "12x", NULL), 0);
	assert_int_equal(n.watchdog_usec, 0);
	notify_fini(&n);
	assert_int_equal(notify_init(&n, f->path, "-5", NULL), 0);
	assert_int_equal(n.watchdog_usec, 0);
	notify_fini(&n);
	loop_free(loop);
}

static void test_abstract_socket(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char name[64], buf[64];
	struct notify n;
	size_t len;
	int fd;

	(void)state;
	len = (size_t)snprintf(name, sizeof(name), "@ikegw-test-notify-%d", (int)getpid());
	memcpy(sun.sun_path + 1, name + 1, len - 1); /* sun_path[0] stays NUL: abstract */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)),
			 0);
	assert_int_equal(notify_init(&n, name, NULL, NULL), 0);
	assert_int_equal(notify_ready(&n, NULL), 0);
	assert_string_equal(next_dgram(fd, buf, sizeof(buf)), "READY=1");
	notify_fini(&n);
	close(fd);
}

static void test_disabled_and_bad(void **state)
{
	struct fake_systemd *f = *state;
	char longname[200];
	struct notify n;

	assert_int_equal(notify_init(&n, NULL, "1000", NULL), 0);
	assert_false(notify_enabled(&n));
	assert_int_equal(notify_ready(&n, "x"), 0);
	assert_int_equal(notify_stopping(&n), 0);
	assert_int_equal(notify_status(&n, "y"), 0);
	assert_int_equal(n.sent, 0);
	notify_fini(&n);
	assert_int_equal(notify_init(&n, "", NULL, NULL), 0);
	assert_false(notify_enabled(&n));
	notify_fini(&n);
	assert_int_equal(notify_init(&n, "relative/path", NULL, NULL), -EINVAL);
	assert_false(notify_enabled(&n));
	notify_fini(&n);
	assert_int_equal(notify_init(&n, "@", NULL, NULL), -EINVAL);
	notify_fini(&n);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(notify_init(&n, longname, NULL, NULL), -EINVAL);
	notify_fini(&n);
	/* nobody listening: an error to return, not to die of */
	assert_int_equal(notify_init(&n, "/nonexistent/ikegw-notify", NULL, NULL), 0);
	assert_true(notify_ready(&n, NULL) < 0);
	notify_fini(&n);
	(void)f;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ready_status_stopping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reloading_has_monotonic_usec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watchdog_half_interval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watchdog_pid_not_ours, setup, teardown),
		cmocka_unit_test(test_abstract_socket),
		cmocka_unit_test_setup_teardown(test_disabled_and_bad, setup, teardown),
	};

	return cmocka_run_group_tests_name("notify", tests, NULL, NULL);
}
