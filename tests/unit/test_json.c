/* SPDX-License-Identifier: ISC */
/*
 * JSON writer and reader: escaping (RFC 8259 7), UTF-8 passthrough and repair, nesting and
 * misuse, size caps of fixed and growable buffers; the reader on good text, on the
 * writer's own output, and on malformed, truncated and hostile input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ikegw/json.h"

static void assert_text(struct json *j, const char *want)
{
	assert_int_equal(json_finish(j), 0);
	assert_string_equal(json_text(j), want);
	assert_int_equal(json_len(j), strlen(want));
}

static void str_to(const char *in, size_t len, const char *want)
{
	char buf[256];
	struct json j;

	json_init_fixed(&j, buf, sizeof(buf));
	json_strn(&j, in, len);
	assert_text(&j, want);
}

static void test_escape_specials(void **state)
{
	(void)state;
	str_to("plain", 5, "\"plain\"");
	str_to("a\"b", 3, "\"a\\\"b\"");
	str_to("a\\b", 3, "\"a\\\\b\"");
	str_to("/", 1, "\"/\"");
	str_to("", 0, "\"\"");
}

static void test_escape_control(void **state)
{
	(void)state;
	str_to("\b\t\n\f\r", 5, "\"\\b\\t\\n\\f\\r\"");
	str_to("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"");
	str_to("a\0b", 3, "\"a\\u0000b\""); /* json_strn: an embedded NUL is data */
	str_to("\x1b[31mred", 8, "\"\\u001b[31mred\"");
}

static void test_utf8(void **state)
{
	(void)state;
	/* Well-formed 2, 3 and 4 byte sequences pass through unchanged. */
	str_to("caf\xc3\xa9", 5, "\"caf\xc3\xa9\"");
	str_to("\xe2\x82\xac", 3, "\"\xe2\x82\xac\"");
	str_to("\xf0\x9f\x94\x91", 4, "\"\xf0\x9f\x94\x91\"");
	str_to("\xef\xbf\xbf", 3, "\"\xef\xbf\xbf\"");
	/* Broken ones: every bad byte becomes U+FFFD, the rest survives. */
	str_to("\xff", 1, "\"\\ufffd\"");
	str_to("\xc3", 1, "\"\\ufffd\"");                 /* truncated */
	str_to("\xc3" "A", 2, "\"\\ufffdA\"");            /* bad continuation */
	str_to("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");      /* overlong '/' */
	str_to("\xe0\x80\xaf", 3, "\"\\ufffd\\ufffd\\ufffd\"");
	str_to("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""); /* a surrogate */
	str_to("\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
	str_to("\xe2\x82", 2, "\"\\ufffd\\ufffd\"");
}

static void test_nesting(void **state)
{
	char buf[512];
	struct json j;

	(void)state;
	json_init_fixed(&j, buf, sizeof(buf));
	json_obj_begin(&j);
	json_kstr(&j, "a", "x");
	json_ku64(&j, "n", UINT64_MAX);
	json_key(&j, "neg");
	json_i64(&j, INT64_MIN);
	json_karr_begin(&j, "l");
	json_u64(&j, 1);
	json_obj_begin(&j);
	json_obj_end(&j);
	json_arr_begin(&j);
	json_arr_end(&j);
	json_null(&j);
	json_bool(&j, false);
	json_arr_end(&j);
	json_kobj_begin(&j, "o");
	json_kbool(&j, "t", true);
	json_kstr(&j, "nil", NULL);
	json_obj_end(&j);
	json_obj_end(&j);
	assert_text(&j, "{\"a\":\"x\",\"n\":18446744073709551615,\"neg\":-9223372036854775808,"
			"\"l\":[1,{},[],null,false],\"o\":{\"t\":true,\"nil\":null}}");
}

static void test_misuse(void **state)
{
	char buf[128];
	struct json j;

	(void)state;
	json_init_fixed(&j, buf, sizeof(buf));
	json_obj_begin(&j);
	json_u64(&j, 1); /* a value without its key */
	assert_int_equal(json_finish(&j), -EINVAL);

	json_reset(&j);
	json_key(&j, "k"); /* a key outside an object */
	assert_int_equal(json_finish(&j), -EINVAL);

	json_reset(&j);
	json_arr_begin(&j);
	json_obj_end(&j); /* mismatched end */
	assert_int_equal(json_finish(&j), -EINVAL);

	json_reset(&j);
	json_obj_begin(&j);
	assert_int_equal(json_finish(&j), -EINVAL); /* still open */
	json_key(&j, "k");
	json_obj_end(&j); /* key without value */
	assert_int_equal(json_finish(&j), -EINVAL);

	json_reset(&j);
	for (int i = 0; i < JSON_DEPTH_MAX; i++)
		json_arr_begin(&j);
	assert_int_equal(j.err, 0);
	json_arr_begin(&j); /* one too deep */
	assert_int_equal(json_finish(&j), -EINVAL);

	json_reset(&j);
	json_obj_end(&j); /* nothing open */
	assert_int_equal(json_finish(&j), -EINVAL);
}

static void test_fixed_cap(void **state)
{
	char buf[8];
	struct json j;

	(void)state;
	json_init_fixed(&j, buf, sizeof(buf));
	json_str(&j, "abcde"); /* 7 bytes with quotes: fits exactly */
	assert_text(&j, "\"abcde\"");
	json_reset(&j);
	json_str(&j, "abcdef");
	assert_int_equal(json_finish(&j), -ENOBUFS);
	assert_true(json_len(&j) <= 7);
	assert_int_equal(strlen(json_text(&j)), json_len(&j)); /* still terminated */
	json_u64(&j, 1); /* sticky: nothing more is written */
	assert_int_equal(json_finish(&j), -ENOBUFS);

	json_init_fixed(&j, buf, 0);
	assert_int_equal(json_finish(&j), -ENOBUFS);
	assert_string_equal(json_text(&j), "");
}

static void test_dyn_cap(void **state)
{
	struct json j;
	char *big = malloc(10000);

	(void)state;
	assert_non_null(big);
	memset(big, 'x', 10000);
	assert_int_equal(json_init_dyn(&j, 100000), 0);
	json_strn(&j, big, 10000); /* grows well past the initial buffer */
	assert_int_equal(json_finish(&j), 0);
	assert_int_equal(json_len(&j), 10002);
	assert_int_equal(json_text(&j)[10001], '"');
	json_fini(&j);

	assert_int_equal(json_init_dyn(&j, 5000), 0);
	json_arr_begin(&j);
	for (int i = 0; i < 1000; i++)
		json_str(&j, "abcdefgh");
	assert_int_equal(json_finish(&j), -ENOBUFS);
	assert_true(json_len(&j) <= 5000);
	json_reset(&j); /* a cleared error: usable again */
	json_rawf(&j, "%s %d", "ok", 7);
	assert_string_equal(json_text(&j), "ok 7");
	json_fini(&j);
	json_fini(&j); /* twice is harmless */
	free(big);
}

static void test_rawf_long(void **state)
{
	struct json j;
	char s[1000];

	(void)state;
	memset(s, 'y', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	assert_int_equal(json_init_dyn(&j, 4096), 0);
	json_rawf(&j, "<%s>", s); /* longer than the small stack buffer */
	assert_int_equal(json_len(&j), 1001);
	assert_int_equal(json_text(&j)[1000], '>');
	json_fini(&j);
}

/* ---- reader ---- */

static struct json_val *parse_ok(const char *text)
{
	struct json_val *v = NULL;
	char err[128];

	if (json_parse(text, strlen(text), &v, err, sizeof(err)) != 0)
		fail_msg("parse '%s': %s", text, err);
	return v;
}

static void test_parse_values(void **state)
{
	struct json_val *v = parse_ok(" {\"a\": \"x\\n\\u00e9\\ud83d\\udd11\", \"n\": 42, "
				      "\"f\": -1.5e3, \"t\": true, \"nul\": null, "
				      "\"l\": [1, [], {}], \"b\": false} ");
	const struct json_val *l;
	uint64_t n;

	(void)state;
	assert_int_equal(v->type, JSON_OBJECT);
	assert_int_equal(v->n, 7);
	assert_string_equal(json_get_str(v, "a"), "x\n\xc3\xa9\xf0\x9f\x94\x91");
	assert_int_equal(json_val_u64(json_get(v, "n"), &n), 0);
	assert_int_equal(n, 42);
	assert_int_equal(json_val_u64(json_get(v, "f"), &n), -EINVAL);
	assert_string_equal(json_get(v, "f")->s, "-1.5e3");
	assert_true(json_get(v, "t")->b);
	assert_false(json_get(v, "b")->b);
	assert_int_equal(json_get(v, "nul")->type, JSON_NULL);
	l = json_get(v, "l");
	assert_int_equal(l->type, JSON_ARRAY);
	assert_int_equal(l->n, 3);
	assert_int_equal(l->child->next->type, JSON_ARRAY);
	assert_null(json_get(v, "missing"));
	assert_null(json_get_str(v, "n"));
	assert_null(json_get(l, "x")); /* not an object */
	json_val_free(v);

	v = parse_ok("\"\\u0000\\ud800x\\udc00\\ud800\\u0041\"");
	assert_int_equal(v->len, 1 + 3 + 1 + 3 + 3 + 1);
	assert_memory_equal(v->s, "\0\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbd" "A", v->len);
	json_val_free(v);

	v = parse_ok("18446744073709551615");
	assert_int_equal(json_val_u64(v, &n), 0);
	assert_true(n == UINT64_MAX);
	json_val_free(v);
	v = parse_ok("18446744073709551616");
	assert_int_equal(json_val_u64(v, &n), -EINVAL);
	json_val_free(v);
}

/* What the writer produces, the reader reads back, byte for byte. */
static void test_round_trip(void **state)
{
	char in[256], buf[2048];
	struct json j;
	struct json_val *v;

	(void)state;
	for (int i = 0; i < 255; i++)
		in[i] = (char)(i + 1);
	in[255] = '\0';
	json_init_fixed(&j, buf, sizeof(buf));
	json_obj_begin(&j);
	json_kstr(&j, "s", "tab\there \"q\" \\ caf\xc3\xa9");
	json_kstr(&j, "all", in);
	json_obj_end(&j);
	assert_int_equal(json_finish(&j), 0);
	v = parse_ok(json_text(&j));
	assert_string_equal(json_get_str(v, "s"), "tab\there \"q\" \\ caf\xc3\xa9");
	/* ASCII comes back as is; bytes >= 0x80 that are not UTF-8 as U+FFFD. */
	assert_memory_equal(json_get_str(v, "all"), in, 127);
	json_val_free(v);
}

static void test_parse_bad(void **state)
{
	static const char *bad[] = {
		"", " ", "{", "}", "[", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}", "{a:1}",
		"{\"a\":1,}", "{\"a\":1 \"b\":2}", "\"abc", "\"a\\\"", "\"\\x\"", "\"\\u12\"",
		"\"\\u12g4\"", "\"a\nb\"", "01", "-", "1.", "1e", "1e+", ".5", "+1", "tru",
		"nul", "falsey", "1 2", "{} x", "[1]]", "\"\\", "\"\\u", "[\"a\",", "NaN",
		"Infinity", "'a'", "\"\\ud800\\u12\"",
	};
	struct json_val *v;
	char err[64];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = (struct json_val *)1;
		if (json_parse(bad[i], strlen(bad[i]), &v, err, sizeof(err)) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
		assert_null(v);
		assert_true(err[0] != '\0');
	}
	/* Text after an embedded NUL does not count as the end. */
	assert_int_equal(json_parse("1\0", 2, &v, NULL, 0), -EINVAL);
	assert_int_equal(json_parse("\"a\0b\"", 5, &v, NULL, 0), -EINVAL);
}

static void test_parse_depth(void **state)
{
	char text[2 * (JSON_PARSE_DEPTH + 1) + 1];
	struct json_val *v;
	size_t n = JSON_PARSE_DEPTH;

	(void)state;
	memset(text, '[', n);
	memset(text + n, ']', n);
	text[2 * n] = '\0';
	v = parse_ok(text);
	json_val_free(v);
	memset(text, '[', n + 1);
	memset(text + n + 1, ']', n + 1);
	text[2 * n + 2] = '\0';
	assert_int_equal(json_parse(text, strlen(text), &v, NULL, 0), -EINVAL);
}

/* Every prefix of a valid document is refused cleanly (no reads past the end). */
static void test_parse_truncated(void **state)
{
	static const char doc[] = "{\"a\":[1,-2.5e+3,true,false,null,\"x\\u00e9\\\"\"],"
				  "\"b\":{\"c\":\"\\ud83d\\udd11\"}}";
	struct json_val *v;

	(void)state;
	for (size_t n = 0; n < sizeof(doc) - 1; n++) {
		char *copy = malloc(n ? n : 1);

		assert_non_null(copy);
		memcpy(copy, doc, n); /* not terminated: ASan sees any overread */
		assert_int_equal(json_parse(copy, n, &v, NULL, 0), -EINVAL);
		free(copy);
	}
	v = parse_ok(doc);
	json_val_free(v);
}

/* Bytes from a fixed pseudo-random stream: never a crash, always a clean answer. */
static void test_parse_noise(void **state)
{
	static const char alphabet[] = "{}[]\",:\\u0123456789abcdefnrtul-+.eE \t\n\xc3\xff";
	uint32_t x = 0x12345678;
	char text[64];
	struct json_val *v;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t n = 1 + round % (sizeof(text) - 1);

		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245 + 12345;
			text[i] = alphabet[(x >> 16) % (sizeof(alphabet) - 1)];
		}
		if (json_parse(text, n, &v, NULL, 0) == 0)
			json_val_free(v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_specials), cmocka_unit_test(test_escape_control),
		cmocka_unit_test(test_utf8),            cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_misuse),          cmocka_unit_test(test_fixed_cap),
		cmocka_unit_test(test_dyn_cap),         cmocka_unit_test(test_rawf_long),
		cmocka_unit_test(test_parse_values),    cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_parse_bad),       cmocka_unit_test(test_parse_depth),
		cmocka_unit_test(test_parse_truncated), cmocka_unit_test(test_parse_noise),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
