/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <string.h>

#include "ikegw/buf.h"

void rbuf_init(struct rbuf *r, const void *data, size_t len)
{
	r->data = data;
	r->len = data ? len : 0;
	r->pos = 0;
}

size_t rbuf_left(const struct rbuf *r)
{
	return r->len - r->pos;
}

bool rbuf_empty(const struct rbuf *r)
{
	return r->pos == r->len;
}

int rbuf_bytes(struct rbuf *r, size_t n, const uint8_t **p)
{
	if (n > rbuf_left(r))
		return -EMSGSIZE;
	*p = r->data + r->pos;
	r->pos += n;
	return 0;
}

void rbuf_rest(struct rbuf *r, const uint8_t **p, size_t *n)
{
	*n = rbuf_left(r);
	*p = r->data + r->pos;
	r->pos = r->len;
}

int rbuf_skip(struct rbuf *r, size_t n)
{
	const uint8_t *p;

	return rbuf_bytes(r, n, &p);
}

int rbuf_copy(struct rbuf *r, void *dst, size_t n)
{
	const uint8_t *p;
	int rc = rbuf_bytes(r, n, &p);

	if (rc == 0 && n > 0)
		memcpy(dst, p, n);
	return rc;
}

int rbuf_sub(struct rbuf *r, size_t n, struct rbuf *sub)
{
	const uint8_t *p;
	int rc = rbuf_bytes(r, n, &p);

	if (rc == 0)
		rbuf_init(sub, p, n);
	return rc;
}

int rbuf_u8(struct rbuf *r, uint8_t *v)
{
	return rbuf_copy(r, v, 1);
}

static uint64_t be_load(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static int rbuf_be(struct rbuf *r, size_t n, uint64_t *v)
{
	const uint8_t *p;
	int rc = rbuf_bytes(r, n, &p);

	if (rc == 0)
		*v = be_load(p, n);
	return rc;
}

int rbuf_u16(struct rbuf *r, uint16_t *v)
{
	uint64_t x;
	int rc = rbuf_be(r, 2, &x);

	if (rc == 0)
		*v = (uint16_t)x;
	return rc;
}

int rbuf_u32(struct rbuf *r, uint32_t *v)
{
	uint64_t x;
	int rc = rbuf_be(r, 4, &x);

	if (rc == 0)
		*v = (uint32_t)x;
	return rc;
}

int rbuf_u64(struct rbuf *r, uint64_t *v)
{
	return rbuf_be(r, 8, v);
}

int rbuf_peek_u8(const struct rbuf *r, size_t off, uint8_t *v)
{
	if (off >= rbuf_left(r))
		return -EMSGSIZE;
	*v = r->data[r->pos + off];
	return 0;
}

int rbuf_peek_u32(const struct rbuf *r, size_t off, uint32_t *v)
{
	if (off > rbuf_left(r) || rbuf_left(r) - off < 4)
		return -EMSGSIZE;
	*v = (uint32_t)be_load(r->data + r->pos + off, 4);
	return 0;
}

void wbuf_init(struct wbuf *w, void *data, size_t cap)
{
	w->data = data;
	w->cap = data ? cap : 0;
	w->len = 0;
	w->overflow = false;
}

void wbuf_init_full(struct wbuf *w, void *data, size_t len)
{
	wbuf_init(w, data, len);
	w->len = w->cap;
}

bool wbuf_ok(const struct wbuf *w)
{
	return !w->overflow;
}

size_t wbuf_len(const struct wbuf *w)
{
	return w->len;
}

size_t wbuf_reserve(struct wbuf *w, size_t n)
{
	size_t off = w->len;

	if (w->overflow || n > w->cap - w->len) {
		w->overflow = true;
		return (size_t)-1;
	}
	w->len += n;
	return off;
}

void wbuf_bytes(struct wbuf *w, const void *p, size_t n)
{
	size_t off = wbuf_reserve(w, n);

	if (off != (size_t)-1 && n > 0)
		memcpy(w->data + off, p, n);
}

void wbuf_zero(struct wbuf *w, size_t n)
{
	size_t off = wbuf_reserve(w, n);

	if (off != (size_t)-1 && n > 0)
		memset(w->data + off, 0, n);
}

uint8_t *wbuf_at(struct wbuf *w, size_t off, size_t n)
{
	if (w->overflow || off > w->len || n > w->len - off) {
		w->overflow = true;
		return NULL;
	}
	return w->data + off;
}

static void be_store(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = n; i > 0; i--) {
		p[i - 1] = (uint8_t)v;
		v >>= 8;
	}
}

static void wbuf_be(struct wbuf *w, uint64_t v, size_t n)
{
	size_t off = wbuf_reserve(w, n);

	if (off != (size_t)-1)
		be_store(w->data + off, v, n);
}

static void wbuf_be_at(struct wbuf *w, size_t off, uint64_t v, size_t n)
{
	uint8_t *p = wbuf_at(w, off, n);

	if (p)
		be_store(p, v, n);
}

void wbuf_u8(struct wbuf *w, uint8_t v) { wbuf_be(w, v, 1); }
void wbuf_u16(struct wbuf *w, uint16_t v) { wbuf_be(w, v, 2); }
void wbuf_u32(struct wbuf *w, uint32_t v) { wbuf_be(w, v, 4); }
void wbuf_u64(struct wbuf *w, uint64_t v) { wbuf_be(w, v, 8); }
void wbuf_put_u8_at(struct wbuf *w, size_t off, uint8_t v) { wbuf_be_at(w, off, v, 1); }
void wbuf_put_u16_at(struct wbuf *w, size_t off, uint16_t v) { wbuf_be_at(w, off, v, 2); }
void wbuf_put_u32_at(struct wbuf *w, size_t off, uint32_t v) { wbuf_be_at(w, off, v, 4); }
