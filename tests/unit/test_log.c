/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "ikegw/log.h"

struct capture {
	char *buf;
	size_t len;
	FILE *f;
	struct log lg;
};

static int setup(void **state)
{
	struct capture *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	c->f = open_memstream(&c->buf, &c->len);
	if (!c->f)
		return -1;
	c->lg = (struct log){ .level = LOG_INFO, .journal = false, .out = c->f };
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct capture *c = *state;

	fclose(c->f);
	free(c->buf);
	free(c);
	return 0;
}

static const char *captured(struct capture *c)
{
	fflush(c->f);
	return c->buf;
}

static void test_plain_format(void **state)
{
	struct capture *c = *state;

	log_info(&c->lg, "7", "IKE_SA_INIT from %s:%d", "192.0.2.1", 500);
	log_err(&c->lg, NULL, "bind failed: %s", "EADDRINUSE");
	assert_string_equal(captured(c), "ikegwd[info] [7] IKE_SA_INIT from 192.0.2.1:500\n"
					 "ikegwd[err] bind failed: EADDRINUSE\n");
}

static void test_journal_prefix(void **state)
{
	struct capture *c = *state;

	c->lg.journal = true;
	log_warn(&c->lg, "12", "retransmit %u", 3u);
	log_info(&c->lg, NULL, "ready");
	assert_string_equal(captured(c), "<4>[12] retransmit 3\n<6>ready\n");
}

static void test_level_filter(void **state)
{
	struct capture *c = *state;

	log_debug(&c->lg, NULL, "hidden");
	assert_false(log_enabled(&c->lg, LOG_DEBUG));
	assert_true(log_enabled(&c->lg, LOG_WARNING));
	c->lg.level = LOG_DEBUG;
	log_debug(&c->lg, NULL, "shown");
	c->lg.level = LOG_ERR;
	log_warn(&c->lg, NULL, "hidden too");
	assert_string_equal(captured(c), "ikegwd[debug] shown\n");
	log_msg(NULL, LOG_ERR, NULL, "no log, no crash");
}

static void test_no_embedded_newlines(void **state)
{
	struct capture *c = *state;

	log_info(&c->lg, "1\n2", "line one\nikegwd[err] forged\r\t");
	assert_string_equal(captured(c),
			    "ikegwd[info] [1\\x0a2] line one\\x0aikegwd[err] forged\\x0d\\x09\n");
}

static void test_long_message_is_cut(void **state)
{
	struct capture *c = *state;
	char big[3000];
	const char *out;

	memset(big, '\n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info(&c->lg, NULL, "%s", big);
	out = captured(c);
	assert_non_null(strstr(out, "...\n"));
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	assert_true(strlen(out) < 4 * LOG_MSG_MAX + 64);
}

static void test_sanitize(void **state)
{
	static const uint8_t id[] = { 'b', 'o', 'b', '\n', 0, '\\', 0xc3, 0xa9, 0x7f };
	char out[64];
	(void)state;

	assert_int_equal(log_sanitize(out, sizeof(out), id, sizeof(id)), 25);
	assert_string_equal(out, "bob\\x0a\\x00\\\\\\xc3\\xa9\\x7f");
	assert_int_equal(log_sanitize(out, sizeof(out), NULL, 0), 0);
	assert_string_equal(out, "");
}

static void test_sanitize_cuts_at_whole_escape(void **state)
{
	static const uint8_t id[] = { 'a', 'b', 0x01, 'c' };
	char out[6];
	(void)state;

	/* "ab\x01c" needs 8 bytes; only "ab" fits with its NUL since "\x01" does not. */
	assert_int_equal(log_sanitize(out, sizeof(out), id, sizeof(id)), 2);
	assert_string_equal(out, "ab");
	assert_int_equal(log_sanitize(out, 1, id, sizeof(id)), 0);
	assert_string_equal(out, "");
	assert_int_equal(log_sanitize(NULL, 0, id, sizeof(id)), 0);
}

static void test_level_names(void **state)
{
	int lvl = -1;
	(void)state;

	assert_int_equal(log_level_parse("err", &lvl), 0);
	assert_int_equal(lvl, LOG_ERR);
	assert_int_equal(log_level_parse("warning", &lvl), 0);
	assert_int_equal(lvl, LOG_WARNING);
	assert_int_equal(log_level_parse("INFO", &lvl), 0);
	assert_int_equal(lvl, LOG_INFO);
	assert_int_equal(log_level_parse("debug", &lvl), 0);
	assert_int_equal(lvl, LOG_DEBUG);
	assert_int_equal(log_level_parse("verbose", &lvl), -EINVAL);
	assert_int_equal(log_level_parse("", &lvl), -EINVAL);
	assert_int_equal(log_level_parse(NULL, &lvl), -EINVAL);
	assert_string_equal(log_level_name(LOG_ERR), "err");
	assert_string_equal(log_level_name(LOG_WARNING), "warning");
	assert_string_equal(log_level_name(LOG_NOTICE), "info");
	assert_string_equal(log_level_name(LOG_INFO), "info");
	assert_string_equal(log_level_name(LOG_DEBUG), "debug");
	assert_string_equal(log_level_name(LOG_CRIT), "err");
}

static void test_journal_detection(void **state)
{
	FILE *f = tmpfile();
	struct stat st;
	char env[64];
	struct log lg;
	(void)state;

	assert_non_null(f);
	assert_int_equal(fstat(fileno(f), &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	assert_true(log_stream_is_journal(fileno(f), env));
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + 1);
	assert_false(log_stream_is_journal(fileno(f), env));
	assert_false(log_stream_is_journal(fileno(f), NULL));
	assert_false(log_stream_is_journal(fileno(f), ""));
	assert_false(log_stream_is_journal(fileno(f), "12"));
	assert_false(log_stream_is_journal(fileno(f), "1:2x"));
	assert_false(log_stream_is_journal(fileno(f), ":5"));

	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	log_init(&lg, f, LOG_INFO);
	assert_true(lg.journal);
	unsetenv("JOURNAL_STREAM");
	log_init(&lg, f, LOG_DEBUG);
	assert_false(lg.journal);
	assert_int_equal(lg.level, LOG_DEBUG);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plain_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_embedded_newlines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_message_is_cut, setup, teardown),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_sanitize_cuts_at_whole_escape),
		cmocka_unit_test(test_level_names),
		cmocka_unit_test(test_journal_detection),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
