/* SPDX-License-Identifier: ISC */
/* IKE message fragmentation (RFC 7383): reassembly (2.6) and fragmenting (2.5). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ikegw/frag.h"
#include "ikegw/ikev2.h"
#include "ikegw/sk.h"

struct frag_piece {
	struct frag_piece *next;
	uint16_t num;
	size_t len;
	uint8_t data[];
};

/* What a fragment that passed the header checks does to the set in progress. */
enum frag_action { FRAG_JOIN, FRAG_RESTART };

void frag_limits_default(struct frag_limits *lim)
{
	lim->max_frags = FRAG_MAX;
	lim->max_bytes = FRAG_SA_BYTES_DEFAULT;
	lim->timeout_ms = FRAG_TIMEOUT_MS_DEFAULT;
}

void frag_reasm_init(struct frag_reasm *r, struct frag_budget *budget)
{
	memset(r, 0, sizeof(*r));
	r->budget = budget;
}

static uint64_t frag_mask(uint16_t total)
{
	return total >= 64 ? UINT64_MAX : (UINT64_C(1) << total) - 1;
}

static bool set_live(const struct frag_reasm *r, uint64_t now_ms)
{
	return r->total != 0 && now_ms < r->deadline_ms;
}

/* Drop the set in progress: wipe (it is decrypted IKE content) and uncharge. */
static void set_discard(struct frag_reasm *r)
{
	struct frag_piece *p = r->pieces, *next;

	while (p) {
		next = p->next;
		OPENSSL_cleanse(p->data, p->len);
		free(p);
		p = next;
	}
	if (r->budget)
		r->budget->used -= r->bytes <= r->budget->used ? r->bytes : r->budget->used;
	r->pieces = NULL;
	r->bytes = 0;
	r->have = 0;
	r->total = 0;
	r->first_inner = 0;
}

/* RFC 7383 2.5 / 2.6: the header fields on their own. */
static int frag_fields_check(const struct frag_limits *lim, uint16_t num, uint16_t total,
			     uint8_t first_inner)
{
	if (total == 0 || num == 0 || num > total)
		return -EINVAL;
	if (num != 1 && first_inner != 0) /* 2.5: Next Payload is 0 after fragment 1 */
		return -EINVAL;
	if (total > FRAG_MAX || total > lim->max_frags)
		return -EMSGSIZE;
	return 0;
}

/*
 * RFC 7383 2.6, against the set in progress: a newer message ID starts over (the peer
 * gave up on the old one), an older one is ignored; with the same ID a larger Total
 * Fragments discards what is stored and starts over, a smaller one is discarded, and
 * the same number and total again is a replay.  FRAG_JOIN / FRAG_RESTART or a refusal.
 */
static int frag_classify(const struct frag_reasm *r, uint64_t now_ms, uint32_t msg_id,
			 uint16_t num, uint16_t total)
{
	if (r->done_valid && msg_id == r->done_msg_id)
		return -EALREADY;
	if (r->done_valid && msg_id < r->done_msg_id)
		return -ESTALE;
	if (!set_live(r, now_ms) || msg_id > r->msg_id)
		return FRAG_RESTART;
	if (msg_id < r->msg_id || total < r->total)
		return -ESTALE;
	if (total > r->total)
		return FRAG_RESTART;
	return r->have & (UINT64_C(1) << (num - 1)) ? -EALREADY : FRAG_JOIN;
}

int frag_reasm_check(const struct frag_reasm *r, const struct frag_limits *lim,
		     uint64_t now_ms, uint32_t msg_id, uint16_t num, uint16_t total,
		     uint8_t first_inner)
{
	int rc;

	if (!r || !lim)
		return -EINVAL;
	rc = frag_fields_check(lim, num, total, first_inner);
	if (rc != 0)
		return rc;
	rc = frag_classify(r, now_ms, msg_id, num, total);
	return rc < 0 ? rc : 0;
}

static void set_start(struct frag_reasm *r, const struct frag_limits *lim, uint64_t now_ms,
		      uint32_t msg_id, uint16_t total)
{
	set_discard(r);
	r->msg_id = msg_id;
	r->total = total;
	r->deadline_ms = now_ms + lim->timeout_ms;
}

/* Charge, copy and link one fragment in number order; the set itself is checked. */
static int piece_store(struct frag_reasm *r, const struct frag_limits *lim, uint16_t num,
		       const uint8_t *plain, size_t len)
{
	size_t charge = sizeof(struct frag_piece) + len;
	struct frag_piece *p, **at = &r->pieces;

	if (len > lim->max_bytes || charge > lim->max_bytes - r->bytes) {
		set_discard(r); /* this message will never fit: free it now, not at expiry */
		return -EMSGSIZE;
	}
	if (!r->budget || charge > r->budget->max || r->budget->used > r->budget->max - charge)
		return -ENOBUFS;
	p = malloc(charge);
	if (!p)
		return -ENOMEM;
	p->num = num;
	p->len = len;
	if (len > 0)
		memcpy(p->data, plain, len);
	while (*at && (*at)->num < num)
		at = &(*at)->next;
	p->next = *at;
	*at = p;
	r->bytes += charge;
	r->budget->used += charge;
	r->have |= UINT64_C(1) << (num - 1);
	return 0;
}

/* Concatenate the pieces in number order into one owned buffer, then release the set. */
static int set_finish(struct frag_reasm *r, uint8_t **out, size_t *out_len, uint8_t *out_first)
{
	const struct frag_piece *p;
	size_t len = 0;
	struct wbuf w;
	uint8_t *buf;

	for (p = r->pieces; p; p = p->next)
		len += p->len;
	buf = malloc(len ? len : 1);
	if (!buf) {
		set_discard(r); /* else every retransmitted fragment is a duplicate until expiry */
		return -ENOMEM;
	}
	wbuf_init(&w, buf, len);
	for (p = r->pieces; p; p = p->next)
		wbuf_bytes(&w, p->data, p->len);
	if (!wbuf_ok(&w)) {
		free(buf);
		return -EINVAL;
	}
	*out = buf;
	*out_len = len;
	*out_first = r->first_inner;
	r->done_msg_id = r->msg_id;
	r->done_valid = true;
	set_discard(r);
	return FRAG_DONE;
}

int frag_reasm_add(struct frag_reasm *r, const struct frag_limits *lim, uint64_t now_ms,
		   uint32_t msg_id, uint16_t num, uint16_t total, uint8_t first_inner,
		   const uint8_t *plain, size_t plain_len, uint8_t **out, size_t *out_len,
		   uint8_t *out_first)
{
	int rc;

	if (!r || !lim || !out || !out_len || !out_first || (!plain && plain_len > 0))
		return -EINVAL;
	*out = NULL;
	*out_len = 0;
	frag_reasm_expire(r, now_ms);
	rc = frag_fields_check(lim, num, total, first_inner);
	if (rc != 0)
		return rc;
	rc = frag_classify(r, now_ms, msg_id, num, total);
	if (rc < 0)
		return rc;
	if (rc == FRAG_RESTART)
		set_start(r, lim, now_ms, msg_id, total);
	rc = piece_store(r, lim, num, plain, plain_len);
	if (rc != 0)
		return rc;
	if (num == 1)
		r->first_inner = first_inner;
	if (r->have != frag_mask(r->total))
		return FRAG_WAIT;
	return set_finish(r, out, out_len, out_first);
}

bool frag_reasm_expire(struct frag_reasm *r, uint64_t now_ms)
{
	if (!r || r->total == 0 || now_ms < r->deadline_ms)
		return false;
	set_discard(r);
	return true;
}

bool frag_reasm_pending(const struct frag_reasm *r, uint64_t *deadline_ms)
{
	if (!r || r->total == 0)
		return false;
	if (deadline_ms)
		*deadline_ms = r->deadline_ms;
	return true;
}

void frag_reasm_free(struct frag_reasm *r)
{
	if (r)
		set_discard(r);
}

/* ---- sending ---- */

/* IKE header + SKF header + IV + chunk + padding + pad length + ICV. */
static size_t skf_msg_len(const struct sk_dir_keys *keys, size_t chunk)
{
	return IKEV2_HDR_LEN + SKF_HDR_LEN + chunk + sk_overhead(keys, chunk);
}

size_t frag_chunk_max(const struct sk_dir_keys *keys, size_t max_msg_len)
{
	const size_t fixed = IKEV2_HDR_LEN + SKF_HDR_LEN + 1; /* headers + Pad Length */
	size_t chunk;

	if (!keys || sk_overhead(keys, 0) == 0 || max_msg_len <= fixed) /* 0: bad keys */
		return 0;
	if (max_msg_len > UINT16_MAX) /* a UDP datagram; also keeps the sums below small */
		max_msg_len = UINT16_MAX;
	/* Start from a bound that ignores IV, ICV and padding, and step down to the largest
	 * chunk that fits: chunk + overhead never decreases as chunk grows, so the first
	 * fit is the largest (a few dozen steps at most: IV + ICV + one block). */
	chunk = max_msg_len - fixed;
	while (chunk > 0 && skf_msg_len(keys, chunk) > max_msg_len)
		chunk--;
	return chunk;
}

bool frag_needed(const struct sk_dir_keys *keys, size_t inner_len, size_t max_msg_len)
{
	return IKEV2_HDR_LEN + SK_HDR_LEN + inner_len + sk_overhead(keys, inner_len) >
	       max_msg_len;
}

void frag_out_clear(struct frag_out *out)
{
	if (!out)
		return;
	for (size_t i = 0; i < out->n && i < FRAG_MAX; i++)
		free(out->msg[i]);
	memset(out, 0, sizeof(*out));
}

/* One SKF message: header, SKF header with number and total, then skf_protect. */
static int frag_build_one(const struct crypto_suite *s, const struct sk_dir_keys *keys,
			  uint64_t iv, const struct ike_hdr *hdr, uint8_t first_inner,
			  const uint16_t pos[2], const uint8_t *chunk, size_t len,
			  struct wbuf *w)
{
	struct codec_enc e;
	size_t skf_off;

	codec_enc_begin(&e, w, hdr);
	codec_enc_open(&e, IKEV2_PL_SKF, false);
	skf_off = e.pl_off;
	/* RFC 7383 2.5: Next Payload is the first inner type on fragment 1, else 0. */
	wbuf_put_u8_at(w, skf_off, pos[0] == 1 ? first_inner : IKEV2_PL_NONE);
	wbuf_u16(w, pos[0]);
	wbuf_u16(w, pos[1]);
	if (!wbuf_ok(w))
		return -EMSGSIZE;
	return skf_protect(s, keys, iv, chunk, len, w, skf_off);
}

static int frag_emit(const struct crypto_suite *s, const struct sk_dir_keys *keys,
		     uint64_t *iv_counter, const struct ike_hdr *hdr, uint8_t first_inner,
		     const uint16_t pos[2], struct rbuf *in, size_t chunk, struct frag_out *out)
{
	size_t len = rbuf_left(in) < chunk ? rbuf_left(in) : chunk;
	size_t cap = skf_msg_len(keys, len);
	const uint8_t *p = NULL;
	uint8_t *buf;
	struct wbuf w;
	int rc;

	if (len > 0 && rbuf_bytes(in, len, &p) != 0)
		return -EINVAL;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	wbuf_init(&w, buf, cap);
	rc = frag_build_one(s, keys, (*iv_counter)++, hdr, first_inner, pos, p, len, &w);
	if (rc != 0) {
		free(buf);
		return rc;
	}
	out->msg[out->n] = buf;
	out->len[out->n] = wbuf_len(&w);
	out->n++;
	return 0;
}

int frag_split_chain(const struct crypto_suite *s, const struct sk_dir_keys *keys,
		     uint64_t *iv_counter, const struct ike_hdr *hdr, uint8_t first_inner,
		     const uint8_t *inner, size_t inner_len, size_t max_msg_len,
		     struct frag_out *out)
{
	size_t chunk, total;
	struct rbuf in;
	int rc = 0;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!s || !keys || !iv_counter || !hdr || (!inner && inner_len > 0))
		return -EINVAL;
	chunk = frag_chunk_max(keys, max_msg_len);
	if (chunk == 0)
		return -EMSGSIZE;
	total = inner_len == 0 ? 1 : (inner_len + chunk - 1) / chunk;
	if (total > FRAG_MAX)
		return -EMSGSIZE;
	rbuf_init(&in, inner, inner_len);
	for (size_t i = 1; i <= total && rc == 0; i++) {
		const uint16_t pos[2] = { (uint16_t)i, (uint16_t)total };

		rc = frag_emit(s, keys, iv_counter, hdr, first_inner, pos, &in, chunk, out);
	}
	if (rc != 0)
		frag_out_clear(out);
	return rc;
}
