/* SPDX-License-Identifier: ISC */
/* JSON writer and reader for the control protocol (RFC 8259); see include/ikegw/json.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ikegw/json.h"

#define JSON_DYN_INITIAL 256

/* ---- writer: the buffer ------------------------------------------------------------ */

void json_init_fixed(struct json *j, char *buf, size_t size)
{
	memset(j, 0, sizeof(*j));
	j->buf = buf;
	j->cap = size;
	j->max = size ? size - 1 : 0;
	if (size)
		buf[0] = '\0';
	else
		j->err = -ENOBUFS;
}

int json_init_dyn(struct json *j, size_t max)
{
	size_t cap = max + 1 < JSON_DYN_INITIAL ? max + 1 : JSON_DYN_INITIAL;

	memset(j, 0, sizeof(*j));
	j->buf = malloc(cap);
	if (!j->buf)
		return j->err = -ENOMEM;
	j->buf[0] = '\0';
	j->cap = cap;
	j->max = max;
	j->owned = true;
	return 0;
}

void json_fini(struct json *j)
{
	if (j->owned)
		free(j->buf);
	memset(j, 0, sizeof(*j));
}

void json_reset(struct json *j)
{
	j->len = 0;
	j->err = j->cap ? 0 : -ENOBUFS;
	j->depth = 0;
	j->after_key = false;
	if (j->cap)
		j->buf[0] = '\0';
}

int json_finish(const struct json *j)
{
	if (j->err)
		return j->err;
	return j->depth || j->after_key ? -EINVAL : 0;
}

const char *json_text(const struct json *j)
{
	return j->cap ? j->buf : "";
}

size_t json_len(const struct json *j)
{
	return j->len;
}

static void fail(struct json *j, int err)
{
	if (!j->err)
		j->err = err;
}

/* Room for n more bytes of text plus the NUL, growing an owned buffer up to max. */
static bool reserve(struct json *j, size_t n)
{
	size_t cap;
	char *p;

	if (j->err)
		return false;
	if (n > j->max - j->len) {
		fail(j, -ENOBUFS);
		return false;
	}
	if (j->len + n < j->cap)
		return true;
	if (!j->owned) {
		fail(j, -ENOBUFS);
		return false;
	}
	cap = j->cap;
	while (cap <= j->len + n)
		cap = cap > (j->max + 1) / 2 ? j->max + 1 : cap * 2;
	p = realloc(j->buf, cap);
	if (!p) {
		fail(j, -ENOMEM);
		return false;
	}
	j->buf = p;
	j->cap = cap;
	return true;
}

void json_raw(struct json *j, const char *s, size_t len)
{
	if (!reserve(j, len))
		return;
	memcpy(j->buf + j->len, s, len);
	j->len += len;
	j->buf[j->len] = '\0';
}

void json_rawf(struct json *j, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		fail(j, -EINVAL);
		return;
	}
	if ((size_t)n < sizeof(small)) {
		json_raw(j, small, (size_t)n);
		return;
	}
	if (!reserve(j, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(j->buf + j->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	j->len += (size_t)n;
}

static void put(struct json *j, char c)
{
	json_raw(j, &c, 1);
}

/* ---- writer: structure --------------------------------------------------------------- */

/* Before any value: a comma after a sibling; a value inside an object needs its key. */
static bool value_begin(struct json *j)
{
	if (j->err)
		return false;
	if (j->depth && j->open[j->depth - 1] == '{') {
		if (!j->after_key) {
			fail(j, -EINVAL);
			return false;
		}
		j->after_key = false;
		return true;
	}
	if (j->depth && j->has_items[j->depth - 1])
		put(j, ',');
	if (j->depth)
		j->has_items[j->depth - 1] = true;
	return !j->err;
}

static void open_container(struct json *j, char c)
{
	if (j->depth == JSON_DEPTH_MAX) {
		fail(j, -EINVAL);
		return;
	}
	if (!value_begin(j))
		return;
	put(j, c);
	j->open[j->depth] = c;
	j->has_items[j->depth] = false;
	j->depth++;
}

static void close_container(struct json *j, char open, char c)
{
	if (j->err)
		return;
	if (!j->depth || j->open[j->depth - 1] != open || j->after_key) {
		fail(j, -EINVAL);
		return;
	}
	j->depth--;
	put(j, c);
}

void json_obj_begin(struct json *j)
{
	open_container(j, '{');
}

void json_obj_end(struct json *j)
{
	close_container(j, '{', '}');
}

void json_arr_begin(struct json *j)
{
	open_container(j, '[');
}

void json_arr_end(struct json *j)
{
	close_container(j, '[', ']');
}

/* ---- writer: strings (RFC 8259 7) ----------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at s (RFC 3629 4), or 0 if there is none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0; /* overlong */
	else if (c == 0xed)
		hi = 0x9f; /* surrogates */
	else if (c == 0xf0)
		lo = 0x90; /* overlong */
	else if (c == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

static void put_escape(struct json *j, unsigned char c)
{
	static const char short_esc[] = { ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n',
					  ['\f'] = 'f', ['\r'] = 'r' };

	if (c < sizeof(short_esc) && short_esc[c]) {
		char e[2] = { '\\', short_esc[c] };

		json_raw(j, e, 2);
	} else {
		json_rawf(j, "\\u%04x", c);
	}
}

static void put_string(struct json *j, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run, k;

	put(j, '"');
	while (i < n && !j->err) {
		/* Copy the longest run that needs no escaping in one go. */
		for (run = i; run < n && s[run] >= 0x20 && s[run] < 0x7f && s[run] != '"' &&
			      s[run] != '\\';
		     run++)
			;
		json_raw(j, str + i, run - i);
		if ((i = run) >= n)
			break;
		if (s[i] == '"' || s[i] == '\\') {
			char e[2] = { '\\', (char)s[i] };

			json_raw(j, e, 2);
			i++;
		} else if (s[i] < 0x20 || s[i] == 0x7f) {
			put_escape(j, s[i++]);
		} else if ((k = utf8_len(s + i, n - i)) != 0) {
			json_raw(j, str + i, k);
			i += k;
		} else {
			json_raw(j, "\\ufffd", 6); /* not UTF-8: the replacement character */
			i++;
		}
	}
	put(j, '"');
}

void json_key(struct json *j, const char *key)
{
	if (j->err)
		return;
	if (!j->depth || j->open[j->depth - 1] != '{' || j->after_key) {
		fail(j, -EINVAL);
		return;
	}
	if (j->has_items[j->depth - 1])
		put(j, ',');
	j->has_items[j->depth - 1] = true;
	put_string(j, key, strlen(key));
	put(j, ':');
	j->after_key = true;
}

void json_strn(struct json *j, const char *s, size_t len)
{
	if (value_begin(j))
		put_string(j, s, len);
}

void json_str(struct json *j, const char *s)
{
	if (!s)
		json_null(j);
	else
		json_strn(j, s, strlen(s));
}

void json_u64(struct json *j, uint64_t v)
{
	if (value_begin(j))
		json_rawf(j, "%" PRIu64, v);
}

void json_i64(struct json *j, int64_t v)
{
	if (value_begin(j))
		json_rawf(j, "%" PRId64, v);
}

void json_bool(struct json *j, bool v)
{
	if (value_begin(j))
		json_raw(j, v ? "true" : "false", v ? 4 : 5);
}

void json_null(struct json *j)
{
	if (value_begin(j))
		json_raw(j, "null", 4);
}

void json_kstr(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_str(j, s);
}

void json_ku64(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_u64(j, v);
}

void json_kbool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}

void json_kobj_begin(struct json *j, const char *key)
{
	json_key(j, key);
	json_obj_begin(j);
}

void json_karr_begin(struct json *j, const char *key)
{
	json_key(j, key);
	json_arr_begin(j);
}

/* ---- reader (RFC 8259) ---------------------------------------------------------------- */

struct parser {
	const char *p;
	size_t len, pos;
	unsigned depth;
	char *err;
	size_t err_len;
};

static int perr(struct parser *ps, const char *what)
{
	if (ps->err && ps->err_len)
		snprintf(ps->err, ps->err_len, "%s at byte %zu", what, ps->pos);
	return -EINVAL;
}

static void skip_ws(struct parser *ps)
{
	while (ps->pos < ps->len && (ps->p[ps->pos] == ' ' || ps->p[ps->pos] == '\t' ||
				     ps->p[ps->pos] == '\r' || ps->p[ps->pos] == '\n'))
		ps->pos++;
}

static int peek(const struct parser *ps)
{
	return ps->pos < ps->len ? (unsigned char)ps->p[ps->pos] : -1;
}

static bool literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if (ps->len - ps->pos < n || memcmp(ps->p + ps->pos, word, n) != 0)
		return false;
	ps->pos += n;
	return true;
}

static void skip_digits(struct parser *ps)
{
	while (peek(ps) >= '0' && peek(ps) <= '9')
		ps->pos++;
}

/* RFC 8259 6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static int parse_number(struct parser *ps, struct json_val *v)
{
	size_t start = ps->pos;

	if (peek(ps) == '-')
		ps->pos++;
	if (peek(ps) == '0')
		ps->pos++;
	else if (peek(ps) >= '1' && peek(ps) <= '9')
		skip_digits(ps);
	else
		return perr(ps, "bad number");
	if (peek(ps) == '.') {
		ps->pos++;
		if (peek(ps) < '0' || peek(ps) > '9')
			return perr(ps, "bad fraction");
		skip_digits(ps);
	}
	if (peek(ps) == 'e' || peek(ps) == 'E') {
		ps->pos++;
		if (peek(ps) == '+' || peek(ps) == '-')
			ps->pos++;
		if (peek(ps) < '0' || peek(ps) > '9')
			return perr(ps, "bad exponent");
		skip_digits(ps);
	}
	v->type = JSON_NUMBER;
	v->len = ps->pos - start;
	v->s = strndup(ps->p + start, v->len);
	return v->s ? 0 : -ENOMEM;
}

static int hex4(struct parser *ps, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		int c = peek(ps), d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return perr(ps, "bad \\u escape");
		v = v << 4 | (uint32_t)d;
		ps->pos++;
	}
	*out = v;
	return 0;
}

static size_t utf8_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* After "\u": one code point, joining a surrogate pair; a lone surrogate is U+FFFD. */
static int parse_u_escape(struct parser *ps, uint32_t *cp)
{
	uint32_t lo;
	size_t back;
	int rc = hex4(ps, cp);

	if (rc || *cp < 0xd800 || *cp > 0xdfff)
		return rc;
	back = ps->pos;
	if (*cp >= 0xdc00 || !literal(ps, "\\u")) {
		*cp = 0xfffd;
		return 0;
	}
	if ((rc = hex4(ps, &lo)) != 0)
		return rc;
	if (lo < 0xdc00 || lo > 0xdfff) {
		*cp = 0xfffd;
		ps->pos = back; /* the next escape stands on its own */
		return 0;
	}
	*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	return 0;
}

static int parse_escape(struct parser *ps, char *o, size_t *n)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *e;
	uint32_t cp;
	int c, rc;

	ps->pos++; /* the backslash */
	if ((c = peek(ps)) < 0)
		return perr(ps, "unterminated string");
	ps->pos++;
	if (c == 'u') {
		if ((rc = parse_u_escape(ps, &cp)) != 0)
			return rc;
		*n += utf8_put(o + *n, cp);
		return 0;
	}
	if (c == 0 || !(e = strchr(from, c)))
		return perr(ps, "bad escape");
	o[(*n)++] = to[e - from];
	return 0;
}

/* Bytes up to the closing quote (or the end), skipping escaped characters. */
static size_t raw_string_len(const struct parser *ps)
{
	size_t i = ps->pos;

	while (i < ps->len && ps->p[i] != '"')
		i += ps->p[i] == '\\' ? 2 : 1;
	return (i < ps->len ? i : ps->len) - ps->pos;
}

/* Decoding never lengthens a string (the longest: "\uXXXX" -> 3 bytes), so raw + 1 do. */
static int parse_string(struct parser *ps, char **out, size_t *out_len)
{
	size_t n = 0;
	char *o;
	int c, rc = 0;

	ps->pos++; /* the opening quote */
	o = malloc(raw_string_len(ps) + 1);
	if (!o)
		return -ENOMEM;
	while (rc == 0 && (c = peek(ps)) != '"') {
		if (c < 0)
			rc = perr(ps, "unterminated string");
		else if (c < 0x20)
			rc = perr(ps, "control character in string");
		else if (c == '\\')
			rc = parse_escape(ps, o, &n);
		else
			o[n++] = ps->p[ps->pos++];
	}
	if (rc) {
		free(o);
		return rc;
	}
	ps->pos++;
	o[n] = '\0';
	*out = o;
	*out_len = n;
	return 0;
}

static int parse_value(struct parser *ps, struct json_val *v);

static int parse_members(struct parser *ps, struct json_val *v, char close)
{
	struct json_val **tail = &v->child;
	int rc;

	ps->pos++;
	skip_ws(ps);
	if (peek(ps) == close) {
		ps->pos++;
		return 0;
	}
	for (;;) {
		struct json_val *c = calloc(1, sizeof(*c));

		if (!c)
			return -ENOMEM;
		*tail = c;
		tail = &c->next;
		v->n++;
		skip_ws(ps);
		if (close == '}') {
			if (peek(ps) != '"')
				return perr(ps, "expected a member name");
			if ((rc = parse_string(ps, &c->key, &c->len)) != 0)
				return rc;
			skip_ws(ps);
			if (peek(ps) != ':')
				return perr(ps, "expected ':'");
			ps->pos++;
		}
		if ((rc = parse_value(ps, c)) != 0)
			return rc;
		skip_ws(ps);
		if (peek(ps) == close) {
			ps->pos++;
			return 0;
		}
		if (peek(ps) != ',')
			return perr(ps, "expected ',' or the end of the container");
		ps->pos++;
	}
}

static int parse_value(struct parser *ps, struct json_val *v)
{
	int c, rc;

	skip_ws(ps);
	c = peek(ps);
	v->len = 0;
	if (c == '{' || c == '[') {
		if (ps->depth >= JSON_PARSE_DEPTH)
			return perr(ps, "nested too deeply");
		ps->depth++;
		v->type = c == '{' ? JSON_OBJECT : JSON_ARRAY;
		rc = parse_members(ps, v, c == '{' ? '}' : ']');
		ps->depth--;
		return rc;
	}
	if (c == '"') {
		v->type = JSON_STRING;
		return parse_string(ps, &v->s, &v->len);
	}
	if (c == '-' || (c >= '0' && c <= '9'))
		return parse_number(ps, v);
	if (literal(ps, "true") || literal(ps, "false")) {
		v->type = JSON_BOOL;
		v->b = ps->p[ps->pos - 1] == 'e' && ps->p[ps->pos - 4] == 't';
		return 0;
	}
	if (literal(ps, "null")) {
		v->type = JSON_NULL;
		return 0;
	}
	return perr(ps, c < 0 ? "unexpected end" : "unexpected character");
}

int json_parse(const char *text, size_t len, struct json_val **out, char *err,
	       size_t err_len)
{
	struct parser ps = { .p = text, .len = len, .err = err, .err_len = err_len };
	struct json_val *v = calloc(1, sizeof(*v));
	int rc;

	*out = NULL;
	if (err && err_len)
		err[0] = '\0';
	if (!v)
		return -ENOMEM;
	rc = parse_value(&ps, v);
	if (rc == 0) {
		skip_ws(&ps);
		if (ps.pos != ps.len)
			rc = perr(&ps, "trailing bytes");
	}
	if (rc) {
		if (rc == -ENOMEM && err && err_len)
			snprintf(err, err_len, "out of memory");
		json_val_free(v);
		return rc;
	}
	*out = v;
	return 0;
}

void json_val_free(struct json_val *v)
{
	while (v) {
		struct json_val *next = v->next;

		json_val_free(v->child); /* recursion bounded by JSON_PARSE_DEPTH */
		free(v->s);
		free(v->key);
		free(v);
		v = next;
	}
}

const struct json_val *json_get(const struct json_val *obj, const char *key)
{
	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (const struct json_val *c = obj->child; c; c = c->next)
		if (c->key && strcmp(c->key, key) == 0)
			return c;
	return NULL;
}

const char *json_get_str(const struct json_val *obj, const char *key)
{
	const struct json_val *v = json_get(obj, key);

	return v && v->type == JSON_STRING ? v->s : NULL;
}

int json_val_u64(const struct json_val *v, uint64_t *out)
{
	uint64_t r = 0;

	if (!v || v->type != JSON_NUMBER || v->len == 0)
		return -EINVAL;
	for (size_t i = 0; i < v->len; i++) {
		unsigned d = (unsigned)(v->s[i] - '0');

		if (d > 9 || r > (UINT64_MAX - d) / 10)
			return -EINVAL;
		r = r * 10 + d;
	}
	*out = r;
	return 0;
}
