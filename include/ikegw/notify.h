/* SPDX-License-Identifier: ISC */
/*
 * The systemd service notification protocol, spoken directly (no libsystemd): one
 * datagram of "KEY=VALUE\n" lines per state change, sent to the AF_UNIX socket named by
 * $NOTIFY_SOCKET (a path, or an abstract name written with a leading '@'), as described
 * in sd_notify(3).  The socket is opened once at start, before privileges are dropped.
 *
 * What ikegwd says (SPEC.md "Binaries and files"):
 *   READY=1 + STATUS=...        the sockets are bound, SAs can be set up
 *   RELOADING=1 + MONOTONIC_USEC=...   a reload starts (systemd >= 253 wants the
 *                               timestamp for Type=notify-reload; older ones ignore it);
 *                               READY=1 again when it is done, whatever the outcome
 *   STOPPING=1                  shutdown has begun (SAs are being deleted)
 *   WATCHDOG=1                  every WATCHDOG_USEC / 2, from a loop timer, so a wedged
 *                               loop stops feeding it and systemd restarts us
 *
 * Without $NOTIFY_SOCKET everything here is a no-op returning 0.  Send errors are
 * returned, never fatal: the gateway keeps serving if systemd goes away.
 */
#ifndef IKEGW_NOTIFY_H
#define IKEGW_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "ikegw/loop.h"

#define NOTIFY_MSG_MAX 512 /* one datagram; STATUS= text is cut to fit */

struct notify {
	int fd;                       /* -1 when not under systemd */
	struct sockaddr_un addr;
	socklen_t addr_len;
	uint64_t watchdog_usec;       /* 0: no watchdog requested for us */
	struct loop *loop;            /* set by notify_watchdog_start() */
	struct loop_timer wd_timer;
	uint64_t sent;                /* datagrams sent, for tests and status */
};

/*
 * From the environment: NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID (the watchdog is
 * ours only when WATCHDOG_PID is unset or equals getpid()).  0, or a negative errno
 * when NOTIFY_SOCKET is set but unusable (n is then disabled, a no-op).
 */
int notify_init_env(struct notify *n);
/* The same with explicit values (each may be NULL), for tests. */
int notify_init(struct notify *n, const char *socket, const char *watchdog_usec,
		const char *watchdog_pid);
/* Cancels the watchdog timer and closes the socket; safe on a disabled n.  Call it
 * before the loop given to notify_watchdog_start() is freed. */
void notify_fini(struct notify *n);
bool notify_enabled(const struct notify *n);

/* Send text (lines "KEY=VALUE", joined by '\n') as one datagram.  0 or negative errno. */
int notify_send(struct notify *n, const char *text);
/* READY=1 with an optional STATUS= line (status may be NULL). */
int notify_ready(struct notify *n, const char *status);
/* RELOADING=1 and MONOTONIC_USEC= of now (CLOCK_MONOTONIC). */
int notify_reloading(struct notify *n);
int notify_stopping(struct notify *n);
int notify_status(struct notify *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Feed the watchdog now and then every watchdog_usec / 2 on loop (at least every 1 ms).
 * 0 also when no watchdog was asked for (nothing is armed then).
 */
int notify_watchdog_start(struct notify *n, struct loop *loop);

#endif
