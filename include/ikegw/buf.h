/* SPDX-License-Identifier: ISC */
/*
 * The one bounds-checked reader and writer.
 *
 * Every byte that arrives from the network is read through a struct rbuf; no other
 * code indexes packet memory or does pointer arithmetic on it.  A read either
 * consumes exactly what it asked for or fails with -EMSGSIZE and consumes nothing,
 * so a parser can stop at the first short read without further checks.
 *
 * The writer has a sticky error: once a write does not fit, every later write is a
 * no-op and wbuf_ok() is false.  Encoders write freely and check once at the end.
 */
#ifndef IKEGW_BUF_H
#define IKEGW_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rbuf {
	const uint8_t *data;
	size_t len;
	size_t pos;
};

void rbuf_init(struct rbuf *r, const void *data, size_t len);
size_t rbuf_left(const struct rbuf *r);
bool rbuf_empty(const struct rbuf *r);

int rbuf_u8(struct rbuf *r, uint8_t *v);
int rbuf_u16(struct rbuf *r, uint16_t *v); /* network byte order */
int rbuf_u32(struct rbuf *r, uint32_t *v);
int rbuf_u64(struct rbuf *r, uint64_t *v);
int rbuf_skip(struct rbuf *r, size_t n);
/* Borrow n bytes: *p points into the buffer and lives as long as it does. */
int rbuf_bytes(struct rbuf *r, size_t n, const uint8_t **p);
/* Borrow everything that is left (may be zero bytes). */
void rbuf_rest(struct rbuf *r, const uint8_t **p, size_t *n);
int rbuf_copy(struct rbuf *r, void *dst, size_t n);
/* A reader over the next n bytes; the parent moves past them. */
int rbuf_sub(struct rbuf *r, size_t n, struct rbuf *sub);
/* Look without consuming. */
int rbuf_peek_u8(const struct rbuf *r, size_t off, uint8_t *v);
int rbuf_peek_u32(const struct rbuf *r, size_t off, uint32_t *v);

struct wbuf {
	uint8_t *data;
	size_t cap;
	size_t len;
	bool overflow;
};

void wbuf_init(struct wbuf *w, void *data, size_t cap);
/* A writer over len bytes that already hold a packet (len = cap = len), to rewrite fields
 * in place with the _at functions below (bounds-checked like every other write). */
void wbuf_init_full(struct wbuf *w, void *data, size_t len);
bool wbuf_ok(const struct wbuf *w);
size_t wbuf_len(const struct wbuf *w);
void wbuf_u8(struct wbuf *w, uint8_t v);
void wbuf_u16(struct wbuf *w, uint16_t v);
void wbuf_u32(struct wbuf *w, uint32_t v);
void wbuf_u64(struct wbuf *w, uint64_t v);
void wbuf_bytes(struct wbuf *w, const void *p, size_t n);
void wbuf_zero(struct wbuf *w, size_t n);
/*
 * Reserve n bytes to be filled later (a length field, or room for cipher output).
 * Returns the offset of the reserved bytes, or (size_t)-1 after an overflow.
 */
size_t wbuf_reserve(struct wbuf *w, size_t n);
/* Fill previously written bytes; out-of-range offsets set the overflow flag. */
void wbuf_put_u8_at(struct wbuf *w, size_t off, uint8_t v);
void wbuf_put_u16_at(struct wbuf *w, size_t off, uint16_t v);
void wbuf_put_u32_at(struct wbuf *w, size_t off, uint32_t v);
/* Writable pointer to n bytes at off within what has been written, or NULL. */
uint8_t *wbuf_at(struct wbuf *w, size_t off, size_t n);

#endif
