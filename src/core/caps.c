/* SPDX-License-Identifier: ISC */
/* Keeping only CAP_NET_ADMIN after the sockets are bound (see include/ikegw/caps.h). */
#define _GNU_SOURCE /* setresuid, setresgid */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "ikegw/caps.h"

static int caps_fail(char *why, size_t len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int caps_fail(char *why, size_t len, int err, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
		n = strlen(why);
		snprintf(why + n, len - n, ": %s", strerror(err));
	}
	return -err;
}

static bool caps_is_kept(cap_value_t c, bool net_raw)
{
	return c == CAP_NET_ADMIN || (net_raw && c == CAP_NET_RAW);
}

/* The bounding set caps what any later exec could regain; needs CAP_SETPCAP. */
static int caps_drop_bounding(bool net_raw, char *why, size_t len)
{
	cap_value_t max = (cap_value_t)cap_max_bits();

	for (cap_value_t c = 0; c < max; c++) {
		if (caps_is_kept(c, net_raw) || cap_get_bound(c) != 1)
			continue;
		if (cap_drop_bound(c) != 0) {
			if (errno == EPERM && geteuid() != 0)
				return 0; /* unprivileged: nothing of ours to protect */
			return caps_fail(why, len, errno, "dropping capability %d from the bounding set",
					 (int)c);
		}
	}
	return 0;
}

static int caps_switch_user(const char *user, char *why, size_t len)
{
	struct passwd pw, *pwp = NULL;
	char buf[4096];
	gid_t gid;
	int rc;

	rc = getpwnam_r(user, &pw, buf, sizeof(buf), &pwp);
	if (rc != 0 || !pwp)
		return caps_fail(why, len, rc ? rc : ENOENT, "user '%s'", user);
	gid = pw.pw_gid;
	if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) != 0)
		return caps_fail(why, len, errno, "PR_SET_KEEPCAPS");
	if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0)
		return caps_fail(why, len, errno, "switching to group %u", (unsigned)gid);
	if (setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid) != 0)
		return caps_fail(why, len, errno, "switching to user '%s'", user);
	if (prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) != 0)
		return caps_fail(why, len, errno, "clearing PR_SET_KEEPCAPS");
	return 0;
}

/* Permitted and effective = the wanted set, as far as we hold it; inheritable empty. */
static int caps_set_process(bool net_raw, char *why, size_t len)
{
	cap_value_t want[2] = { CAP_NET_ADMIN, CAP_NET_RAW };
	cap_t cur = cap_get_proc(), next = cap_init();
	cap_flag_value_t have;
	int rc = 0;

	if (!cur || !next) {
		rc = caps_fail(why, len, ENOMEM, "capability state");
		goto out;
	}
	for (int i = 0; i < (net_raw ? 2 : 1); i++) {
		if (cap_get_flag(cur, want[i], CAP_PERMITTED, &have) != 0 || have != CAP_SET)
			continue;
		if (cap_set_flag(next, CAP_PERMITTED, 1, &want[i], CAP_SET) != 0 ||
		    cap_set_flag(next, CAP_EFFECTIVE, 1, &want[i], CAP_SET) != 0) {
			rc = caps_fail(why, len, errno, "building the capability set");
			goto out;
		}
	}
	if (cap_set_proc(next) != 0)
		rc = caps_fail(why, len, errno, "cap_set_proc");
out:
	if (cur)
		cap_free(cur);
	if (next)
		cap_free(next);
	return rc;
}

int caps_drop(const char *user, bool net_raw, char *why, size_t why_len)
{
	int rc;

	if (why && why_len)
		why[0] = '\0';
	rc = caps_drop_bounding(net_raw, why, why_len);
	if (rc == 0 && user)
		rc = caps_switch_user(user, why, why_len);
	if (rc == 0)
		rc = caps_set_process(net_raw, why, why_len);
	if (rc == 0 && CAP_AMBIENT_SUPPORTED() && cap_reset_ambient() != 0)
		rc = caps_fail(why, why_len, errno, "clearing the ambient set");
	if (rc == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) != 0)
		rc = caps_fail(why, why_len, errno, "PR_SET_NO_NEW_PRIVS");
	return rc;
}

int caps_read_effective(pid_t pid, uint64_t *mask)
{
	char path[64], line[256];
	unsigned long long v;
	int rc = -ENOENT;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "CapEff:", 7) != 0)
			continue;
		rc = sscanf(line + 7, "%llx", &v) == 1 ? 0 : -EINVAL;
		if (rc == 0)
			*mask = v;
		break;
	}
	fclose(f);
	return rc;
}

void caps_text(char *buf, size_t len)
{
	cap_t c = cap_get_proc();
	char *t = c ? cap_to_text(c, NULL) : NULL;

	if (len)
		snprintf(buf, len, "%s", t ? t : "?");
	if (t)
		cap_free(t);
	if (c)
		cap_free(c);
}
