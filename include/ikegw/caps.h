/* SPDX-License-Identifier: ISC */
/*
 * Dropping privileges once the sockets are bound (SPEC.md "Binaries and files").
 *
 * What ikegwd still needs at run time is CAP_NET_ADMIN: XFRM states and policies over
 * netlink, and TUN/route changes of the userspace dataplane.  UDP 500/4500 are bound
 * before the drop, the control socket is created (and chgrp'ed) before it, and no
 * dataplane opens raw or packet sockets, so CAP_NET_RAW is kept only when a caller asks
 * for it.  Everything else goes from the effective, permitted, inheritable, ambient and
 * bounding sets, and PR_SET_NO_NEW_PRIVS is set: nothing we could exec would gain more.
 *
 * With a user name the process also becomes that user (setgroups to its primary group,
 * setresgid, setresuid) keeping the capabilities across the switch with PR_SET_KEEPCAPS,
 * then re-raising them with cap_set_proc().  Files read on reload (certificates, keys,
 * CRLs, the config) must then be readable by that user.
 *
 * Only the calling thread is changed: call it before any thread is started.
 * An unprivileged caller keeps whatever subset of the wanted set it already has (none,
 * usually) and that is not an error, so tests and development runs work as any user.
 */
#ifndef IKEGW_CAPS_H
#define IKEGW_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CAPS_WHY_MAX 256

/*
 * Keep CAP_NET_ADMIN (and CAP_NET_RAW when net_raw) and drop the rest; switch to user
 * when not NULL.  0, or a negative errno with why[] saying which step failed; on failure
 * the process may be half-way and should exit.
 */
int caps_drop(const char *user, bool net_raw, char *why, size_t why_len);

/*
 * The CapEff line of /proc/PID/status (pid 0: ourselves) as a bit mask (bit n =
 * capability n).  0 or a negative errno.
 */
int caps_read_effective(pid_t pid, uint64_t *mask);

/* Our effective set as text for the log ("cap_net_admin=ep"); always NUL-terminated. */
void caps_text(char *buf, size_t len);

#endif
