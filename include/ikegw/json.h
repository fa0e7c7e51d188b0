/* SPDX-License-Identifier: ISC */
/*
 * A small JSON writer and reader for the control protocol (SPEC.md "Control protocol").
 *
 * Writer: appends to a fixed buffer or to a growable one with a size cap; commas come by
 * themselves.  Errors are sticky (the first one is kept, later calls do nothing), so a
 * caller writes a whole answer and checks json_finish() once.  Strings are escaped per
 * RFC 8259 7: quote, backslash and every control character; valid UTF-8 passes through,
 * and each byte of an invalid UTF-8 sequence becomes U+FFFD, so the output is always
 * valid JSON text (RFC 8259 8.1) whatever bytes a string held.
 *
 * Reader (for ikegwctl): parses one JSON text into a tree of struct json_val.  Depth is
 * capped at JSON_PARSE_DEPTH and every node costs input bytes, so memory is bounded by
 * the input; malformed input is an error with a reason, never a crash.
 */
#ifndef IKEGW_JSON_H
#define IKEGW_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_DEPTH_MAX 16   /* writer nesting */
#define JSON_PARSE_DEPTH 32 /* reader nesting */

struct json {
	char *buf;     /* always NUL-terminated text (when cap > 0) */
	size_t len;    /* bytes of text, NUL excluded */
	size_t cap;    /* bytes allocated, NUL included */
	size_t max;    /* the text may not grow beyond this (NUL excluded) */
	bool owned;    /* buf is ours and grows up to max */
	int err;       /* sticky: 0, -ENOBUFS (max reached), -ENOMEM, -EINVAL (misuse) */
	uint8_t depth;
	bool after_key;               /* a member name was written, its value comes next */
	bool has_items[JSON_DEPTH_MAX];
	char open[JSON_DEPTH_MAX];    /* '{' or '[' per level */
};

/* Write into buf[size] (size includes the NUL): at most size - 1 bytes of text. */
void json_init_fixed(struct json *j, char *buf, size_t size);
/* A growable buffer of at most max bytes of text.  0 or -ENOMEM. */
int json_init_dyn(struct json *j, size_t max);
/* Frees an owned buffer; j is then empty (a fixed buffer is left alone). */
void json_fini(struct json *j);
/* Empty the text and clear the error and nesting, keeping the buffer. */
void json_reset(struct json *j);

/* The sticky error, or -EINVAL when a container is still open.  0 when complete. */
int json_finish(const struct json *j);
const char *json_text(const struct json *j);
size_t json_len(const struct json *j);

void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
/* A member name; only directly inside an object, and then before every value. */
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s); /* NULL writes null */
void json_strn(struct json *j, const char *s, size_t len);
void json_u64(struct json *j, uint64_t v);
void json_i64(struct json *j, int64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* Member shortcuts: json_key() then the value. */
void json_kstr(struct json *j, const char *key, const char *s);
void json_ku64(struct json *j, const char *key, uint64_t v);
void json_kbool(struct json *j, const char *key, bool v);
void json_kobj_begin(struct json *j, const char *key);
void json_karr_begin(struct json *j, const char *key);

/* Plain text, no JSON rules (the metrics page, the answer's final "\n"). */
void json_raw(struct json *j, const char *s, size_t len);
void json_rawf(struct json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- reader ---- */

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_val {
	enum json_type type;
	bool b;                 /* JSON_BOOL */
	char *s;                /* JSON_STRING: decoded UTF-8; JSON_NUMBER: its text */
	size_t len;             /* of s (a string may hold "\u0000": use len, not strlen) */
	char *key;              /* member name when the parent is an object, else NULL */
	size_t n;               /* children of an array or object */
	struct json_val *child; /* first child */
	struct json_val *next;  /* next sibling */
};

/*
 * Parse exactly one JSON value from text[len] (whitespace around it allowed).  0 and
 * *out (free with json_val_free), or -EINVAL / -ENOMEM with a reason in err (may be NULL).
 */
int json_parse(const char *text, size_t len, struct json_val **out, char *err,
	       size_t err_len);
void json_val_free(struct json_val *v);
/* The member named key of an object (the first one), or NULL. */
const struct json_val *json_get(const struct json_val *obj, const char *key);
/* The string of a JSON_STRING, else NULL. */
const char *json_get_str(const struct json_val *obj, const char *key);
/* A non-negative integer number, as uint64.  0 or -EINVAL (other type, fraction, range). */
int json_val_u64(const struct json_val *v, uint64_t *out);

#endif
