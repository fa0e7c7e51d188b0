/* SPDX-License-Identifier: ISC */
/*
 * Dropping capabilities, checked the way an administrator would: fork, drop in the child,
 * and read the child's own /proc/self/status (CapEff, CapPrm, CapBnd, NoNewPrivs, Uid).
 * The child reports through its exit status, so a failed drop never touches the test
 * runner itself.  As non-root nothing can be dropped that is worth checking: SKIP.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "ikegw/caps.h"

#define BIT(c) (1ull << (c))

/* A hex field of /proc/self/status ("CapBnd:"), or ~0 when missing. */
static uint64_t status_hex(const char *key)
{
	char line[256];
	unsigned long long v = ~0ull;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return v;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0 && sscanf(line + strlen(key), "%llx", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* Exit codes of the child: 0 ok, else which check failed. */
static int child_drop(const char *user, bool net_raw)
{
	uint64_t want = BIT(CAP_NET_ADMIN) | (net_raw ? BIT(CAP_NET_RAW) : 0), eff = 0;
	char why[CAPS_WHY_MAX];

	if (caps_drop(user, net_raw, why, sizeof(why)) != 0) {
		fprintf(stderr, "caps_drop: %s\n", why);
		return 10;
	}
	if (caps_read_effective(0, &eff) != 0 || eff != want)
		return 11;
	if (status_hex("CapPrm:") != want || status_hex("CapInh:") != 0)
		return 12;
	if (status_hex("CapBnd:") != want)
		return 13;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0L, 0L, 0L, 0L) != 1)
		return 14;
	if (user && (getuid() != 65534 || geteuid() != 65534 || getgid() != 65534))
		return 15;
	if (!user && getuid() != 0)
		return 16;
	return 0;
}

static int run_in_child(const char *user, bool net_raw)
{
	int status = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_drop(user, net_raw));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static bool need_root(void)
{
	if (geteuid() == 0)
		return true;
	printf("SKIP: capabilities can only be dropped and checked as root\n");
	return false;
}

static void test_drop_keeps_only_net_admin(void **state)
{
	(void)state;
	if (!need_root())
		skip();
	assert_int_equal(run_in_child(NULL, false), 0);
}

static void test_drop_with_net_raw(void **state)
{
	(void)state;
	if (!need_root())
		skip();
	assert_int_equal(run_in_child(NULL, true), 0);
}

static void test_drop_and_switch_user(void **state)
{
	(void)state;
	if (!need_root())
		skip();
	assert_int_equal(run_in_child("nobody", false), 0);
}

static void test_unknown_user_fails(void **state)
{
	int status = 0;
	pid_t pid;

	(void)state;
	if (!need_root())
		skip();
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char why[CAPS_WHY_MAX];
		int rc = caps_drop("no-such-user-ikegw", false, why, sizeof(why));

		_exit(rc == -ENOENT && strstr(why, "no-such-user-ikegw") ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_read_effective(void **state)
{
	uint64_t mask = 0;

	(void)state;
	assert_int_equal(caps_read_effective(0, &mask), 0);
	assert_int_equal(mask, status_hex("CapEff:"));
	assert_int_equal(caps_read_effective(getpid(), &mask), 0);
	assert_true(caps_read_effective(-5, &mask) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_keeps_only_net_admin),
		cmocka_unit_test(test_drop_with_net_raw),
		cmocka_unit_test(test_drop_and_switch_user),
		cmocka_unit_test(test_unknown_user_fails),
		cmocka_unit_test(test_read_effective),
	};

	return cmocka_run_group_tests_name("caps", tests, NULL, NULL);
}
