/* SPDX-License-Identifier: ISC */
/* sd_notify(3) over $NOTIFY_SOCKET, without libsystemd (see include/ikegw/notify.h). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ikegw/notify.h"

/* "/path" or "@abstract" into a sockaddr; the abstract name's first byte is NUL. */
static int notify_parse_addr(struct notify *n, const char *s)
{
	size_t len = strlen(s);

	if ((s[0] != '/' && s[0] != '@') || len < 2 || len >= sizeof(n->addr.sun_path))
		return -EINVAL;
	memset(&n->addr, 0, sizeof(n->addr));
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, s, len);
	if (s[0] == '@') {
		n->addr.sun_path[0] = '\0';
		n->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	} else {
		n->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	}
	return 0;
}

/* sd_watchdog_enabled(3): WATCHDOG_USEC applies to us only if WATCHDOG_PID is ours. */
static uint64_t notify_parse_watchdog(const char *usec, const char *pid)
{
	unsigned long long v, p;
	char *end;

	if (!usec || !*usec)
		return 0;
	errno = 0;
	v = strtoull(usec, &end, 10);
	if (errno || *end || usec[0] == '-')
		return 0;
	if (pid && *pid) {
		errno = 0;
		p = strtoull(pid, &end, 10);
		if (errno || *end || p != (unsigned long long)getpid())
			return 0;
	}
	return v;
}

int notify_init(struct notify *n, const char *socket_name, const char *watchdog_usec,
		const char *watchdog_pid)
{
	memset(n, 0, sizeof(*n));
	n->fd = -1;
	loop_timer_init(&n->wd_timer, NULL, n);
	if (!socket_name || !*socket_name)
		return 0;
	if (notify_parse_addr(n, socket_name) != 0)
		return -EINVAL;
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (n->fd < 0)
		return -errno;
	n->watchdog_usec = notify_parse_watchdog(watchdog_usec, watchdog_pid);
	return 0;
}

int notify_init_env(struct notify *n)
{
	return notify_init(n, getenv("NOTIFY_SOCKET"), getenv("WATCHDOG_USEC"),
			   getenv("WATCHDOG_PID"));
}

void notify_fini(struct notify *n)
{
	if (n->loop)
		loop_timer_cancel(n->loop, &n->wd_timer);
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
	n->loop = NULL;
}

bool notify_enabled(const struct notify *n)
{
	return n->fd >= 0;
}

int notify_send(struct notify *n, const char *text)
{
	size_t len = strlen(text);
	ssize_t r;

	if (n->fd < 0)
		return 0;
	do {
		r = sendto(n->fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT,
			   (const struct sockaddr *)&n->addr, n->addr_len);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	n->sent++;
	return (size_t)r == len ? 0 : -EMSGSIZE;
}

/* Status text is free-form but one line: a newline would start a new KEY=. */
static void notify_one_line(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

int notify_ready(struct notify *n, const char *status)
{
	char msg[NOTIFY_MSG_MAX];

	if (!status)
		return notify_send(n, "READY=1");
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	notify_one_line(msg + strlen("READY=1\nSTATUS="));
	return notify_send(n, msg);
}

int notify_reloading(struct notify *n)
{
	struct timespec ts;
	char msg[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000);
	return notify_send(n, msg);
}

int notify_stopping(struct notify *n)
{
	return notify_send(n, "STOPPING=1");
}

int notify_status(struct notify *n, const char *fmt, ...)
{
	char msg[NOTIFY_MSG_MAX];
	size_t off = strlen("STATUS=");
	va_list ap;

	if (n->fd < 0)
		return 0;
	memcpy(msg, "STATUS=", off + 1);
	va_start(ap, fmt);
	vsnprintf(msg + off, sizeof(msg) - off, fmt, ap);
	va_end(ap);
	notify_one_line(msg + off);
	return notify_send(n, msg);
}

static uint64_t notify_wd_interval_ms(const struct notify *n)
{
	uint64_t ms = n->watchdog_usec / 2000; /* half the timeout, as sd_watchdog_enabled(3) advises */

	return ms ? ms : 1;
}

static void notify_wd_tick(struct loop *loop, void *arg)
{
	struct notify *n = arg;

	notify_send(n, "WATCHDOG=1");
	loop_timer_arm_in(loop, &n->wd_timer, notify_wd_interval_ms(n));
}

int notify_watchdog_start(struct notify *n, struct loop *loop)
{
	if (n->fd < 0 || n->watchdog_usec == 0)
		return 0;
	n->loop = loop;
	loop_timer_init(&n->wd_timer, notify_wd_tick, n);
	notify_send(n, "WATCHDOG=1");
	return loop_timer_arm_in(loop, &n->wd_timer, notify_wd_interval_ms(n));
}
