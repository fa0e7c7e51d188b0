/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for IKE fragment reassembly (RFC 7383 2.6, src/ike/frag.c).
 *
 * Two SAs share one small budget.  Input: 3 octets of limits, then 7-octet records:
 *   0: bit 0 which SA; bit 1 expire instead of add; bit 2 frag_reasm_check first (its
 *      answer must agree with add's); bit 3 free that SA's set
 *   1: message ID (0..7, so sets collide)      2: fragment number (mod 24)
 *   3: total (mod 24, or 60..71 with bit 7)    4: Next Payload (first inner)
 *   5: plaintext length                        6: clock step (x 97 ms)
 * Piece n is filled with the octet n, so a finished message must be a run of
 * non-decreasing fragment numbers no larger than the set's total.  After every step:
 * the budget equals what the two SAs hold, neither passes its limit, and the one not
 * touched is unchanged; at the end everything is returned (LeakSanitizer checks the rest).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ikegw/frag.h"

struct fz {
	struct frag_budget budget;
	struct frag_limits lim;
	struct frag_reasm sa[2];
	uint8_t first[2]; /* Next Payload of the last fragment 1 each SA stored */
	uint64_t now;
};

static void fz_invariants(const struct fz *f)
{
	if (f->budget.used != f->sa[0].bytes + f->sa[1].bytes || f->budget.used > f->budget.max)
		abort();
	for (int i = 0; i < 2; i++)
		if (f->sa[i].bytes > f->lim.max_bytes || (f->sa[i].total == 0 && f->sa[i].bytes))
			abort();
}

static void fz_check_done(const struct fz *f, int which, uint16_t total, const uint8_t *out,
			  size_t len, uint8_t first)
{
	uint8_t prev = 1;

	if (len > f->lim.max_bytes || first != f->first[which])
		abort();
	for (size_t i = 0; i < len; i++) {
		if (out[i] < prev || out[i] > total)
			abort();
		prev = out[i];
	}
}

static bool check_agrees(int check, int add)
{
	if (check == 0) /* add may still refuse for space */
		return add >= 0 || add == -EMSGSIZE || add == -ENOBUFS || add == -ENOMEM;
	return check == add;
}

static void fz_add(struct fz *f, const uint8_t *rec)
{
	static uint8_t plain[256];
	int which = rec[0] & 1;
	uint16_t num = rec[2] % 24;
	uint16_t total = rec[3] & 0x80 ? 60 + rec[3] % 12 : rec[3] % 24;
	uint8_t *out = NULL, first = 0;
	size_t out_len = 0, len = rec[5];
	size_t other = f->sa[!which].bytes;
	int check = 0, rc;

	memset(plain, (uint8_t)num, len);
	if (rec[0] & 4)
		check = frag_reasm_check(&f->sa[which], &f->lim, f->now, rec[1] % 8, num, total,
					 rec[4]);
	rc = frag_reasm_add(&f->sa[which], &f->lim, f->now, rec[1] % 8, num, total, rec[4],
			    plain, len, &out, &out_len, &first);
	if ((rec[0] & 4) && !check_agrees(check, rc))
		abort();
	if (rc >= 0 && num == 1)
		f->first[which] = rec[4];
	if (rc == FRAG_DONE)
		fz_check_done(f, which, total, out, out_len, first);
	else if (out)
		abort();
	free(out);
	if (f->sa[!which].bytes != other)
		abort();
}

static void fz_step(struct fz *f, const uint8_t *rec)
{
	f->now += (uint64_t)rec[6] * 97;
	if (rec[0] & 8)
		frag_reasm_free(&f->sa[rec[0] & 1]);
	else if (rec[0] & 2)
		frag_reasm_expire(&f->sa[rec[0] & 1], f->now);
	else
		fz_add(f, rec);
	fz_invariants(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f;

	if (size < 3)
		return 0;
	memset(&f, 0, sizeof(f));
	f.lim.max_frags = (uint16_t)(1 + data[0] % FRAG_MAX);
	f.lim.max_bytes = 64 + (size_t)data[1] * 16;
	f.lim.timeout_ms = 1 + (uint64_t)data[2] * 50;
	f.budget.max = f.lim.max_bytes + f.lim.max_bytes / 2; /* less than two full SAs */
	f.now = 1000;
	frag_reasm_init(&f.sa[0], &f.budget);
	frag_reasm_init(&f.sa[1], &f.budget);
	for (size_t off = 3; off + 7 <= size; off += 7)
		fz_step(&f, data + off);
	frag_reasm_free(&f.sa[0]);
	frag_reasm_free(&f.sa[1]);
	if (f.budget.used != 0)
		abort();
	return 0;
}
