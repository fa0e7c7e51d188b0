/* SPDX-License-Identifier: ISC */
/* IKE fragmentation (RFC 7383): split with real keys, open, reassemble; refusals. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ikegw/codec.h"
#include "ikegw/frag.h"
#include "ikegw/ikev2.h"
#include "ikegw/sk.h"

#define T0 1000000u /* fake clock, ms */
#define MSG_ID 5

static int setup(void **state)
{
	*state = crypto_suite_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	crypto_suite_free(*state);
	return 0;
}

static void keys_make(bool cbc, struct sk_dir_keys *k)
{
	memset(k, 0, sizeof(*k));
	if (cbc) {
		k->encr = suite_encr_find(IKEV2_ENCR_AES_CBC, 256);
		k->integ = suite_integ_find(IKEV2_INTEG_HMAC_SHA2_256_128);
	} else {
		k->encr = suite_encr_find(IKEV2_ENCR_AES_GCM_16, 256);
	}
	assert_non_null(k->encr);
	for (size_t i = 0; i < sizeof(k->ek); i++)
		k->ek[i] = (uint8_t)(0x30 + i);
	for (size_t i = 0; i < sizeof(k->ak); i++)
		k->ak[i] = (uint8_t)(0x90 + i);
}

static const struct ike_hdr test_hdr = {
	.spi_i = 0x0102030405060708ull, .spi_r = 0x1112131415161718ull,
	.exchange = IKEV2_EXCH_IKE_AUTH, .flags = IKEV2_FLAG_RESPONSE, .msg_id = MSG_ID,
};

/* A real inner chain of about 5 KB: IDr, a 4.6 KB CERT, AUTH, a notify. */
static size_t chain_make(uint8_t *buf, size_t cap, uint8_t *first)
{
	static uint8_t cert[4800], sig[256];
	struct codec_enc e;
	struct wbuf w;

	for (size_t i = 0; i < sizeof(cert); i++)
		cert[i] = (uint8_t)(i * 7 + 3);
	for (size_t i = 0; i < sizeof(sig); i++)
		sig[i] = (uint8_t)(i ^ 0x5a);
	wbuf_init(&w, buf, cap);
	codec_enc_begin_chain(&e, &w);
	codec_enc_id(&e, IKEV2_PL_IDR, IKEV2_ID_FQDN, (const uint8_t *)"vpn.example.com", 15);
	codec_enc_cert(&e, IKEV2_PL_CERT, IKEV2_CERT_X509_SIG, cert, sizeof(cert));
	codec_enc_auth(&e, IKEV2_AUTH_RSA_SIG, sig, sizeof(sig));
	codec_enc_notify(&e, 0, NULL, 0, IKEV2_N_INITIAL_CONTACT, NULL, 0);
	assert_int_equal(codec_enc_end_chain(&e, first), 0);
	assert_true(wbuf_len(&w) > 5000);
	return wbuf_len(&w);
}

/* Every fragment decodes as an SKF message and opens; its plaintext goes to plain[i]. */
struct opened {
	size_t n;
	uint16_t total;
	uint8_t first[FRAG_MAX];
	uint8_t *plain[FRAG_MAX];
	size_t len[FRAG_MAX];
};

static void frags_open(const struct crypto_suite *s, const struct sk_dir_keys *k,
		       const struct frag_out *fo, size_t max_len, struct opened *op)
{
	static struct ike_msg m;
	struct codec_err err;

	memset(op, 0, sizeof(*op));
	for (size_t i = 0; i < fo->n; i++) {
		assert_true(fo->len[i] <= max_len);
		assert_int_equal(codec_decode_msg(fo->msg[i], fo->len[i], &m, &err), 0);
		assert_int_equal(m.hdr.msg_id, MSG_ID);
		assert_int_equal(m.hdr.next, IKEV2_PL_SKF);
		assert_int_equal(m.enc.type, IKEV2_PL_SKF);
		assert_int_equal(m.enc.frag_num, i + 1);
		assert_int_equal(m.enc.frag_total, fo->n);
		op->plain[i] = malloc(fo->len[i]);
		assert_non_null(op->plain[i]);
		assert_int_equal(skf_unprotect(s, k, fo->msg[i], fo->len[i], m.enc.hdr_off,
					       op->plain[i], fo->len[i], &op->len[i]), 0);
		op->first[i] = m.enc.inner_next;
	}
	op->n = fo->n;
	op->total = (uint16_t)fo->n;
}

static void opened_free(struct opened *op)
{
	for (size_t i = 0; i < op->n; i++)
		free(op->plain[i]);
}

struct env {
	struct frag_budget budget;
	struct frag_limits lim;
	struct frag_reasm r;
};

static void env_init(struct env *v)
{
	v->budget.used = 0;
	v->budget.max = FRAG_BUDGET_DEFAULT;
	frag_limits_default(&v->lim);
	frag_reasm_init(&v->r, &v->budget);
}

/* Feed fragment i (0-based) of op; returns add's result, *out set on FRAG_DONE. */
static int feed(struct env *v, const struct opened *op, size_t i, uint8_t **out,
		size_t *out_len, uint8_t *first)
{
	return frag_reasm_add(&v->r, &v->lim, T0, MSG_ID, (uint16_t)(i + 1), op->total,
			      op->first[i], op->plain[i], op->len[i], out, out_len, first);
}

enum feed_order { IN_ORDER, REVERSE, SHUFFLED_DUPS };

/* The order fragments are fed in: a permutation of 0..n-1, then (SHUFFLED_DUPS) the
 * first two again before the last one; *n_seq is the sequence length. */
static void order_make(enum feed_order how, size_t n, size_t *seq, size_t *n_seq)
{
	uint32_t x = 12345;

	for (size_t i = 0; i < n; i++)
		seq[i] = how == REVERSE ? n - 1 - i : i;
	*n_seq = n;
	if (how != SHUFFLED_DUPS)
		return;
	for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates with a fixed LCG */
		size_t j, t;

		x = x * 1103515245u + 12345u;
		j = (x >> 8) % (i + 1);
		t = seq[i];
		seq[i] = seq[j];
		seq[j] = t;
	}
	seq[n + 1] = seq[n - 1];
	seq[n - 1] = seq[0];
	seq[n] = seq[1];
	*n_seq = n + 2;
}

/* Split the 5 KB chain, open every fragment, feed them, check the result. */
static void roundtrip(const struct crypto_suite *s, bool cbc, size_t max_len,
		      enum feed_order how)
{
	static uint8_t chain[8192];
	static struct ike_msg m;
	struct sk_dir_keys k;
	struct frag_out fo;
	struct opened op;
	struct codec_err err;
	struct env v;
	uint64_t iv = 100;
	uint8_t first, got_first = 0, *out = NULL;
	size_t chain_len, out_len = 0, seq[FRAG_MAX + 2], n_seq;

	keys_make(cbc, &k);
	chain_len = chain_make(chain, sizeof(chain), &first);
	assert_int_equal(frag_split_chain(s, &k, &iv, &test_hdr, first, chain, chain_len, max_len,
					  &fo), 0);
	assert_true(fo.n > 4);
	assert_int_equal(iv, 100 + fo.n); /* a fresh IV per fragment */
	frags_open(s, &k, &fo, max_len, &op);
	assert_int_equal(op.first[0], first);
	for (size_t i = 1; i < op.n; i++)
		assert_int_equal(op.first[i], 0);
	env_init(&v);
	order_make(how, op.n, seq, &n_seq);
	for (size_t j = 0; j < n_seq; j++) {
		int rc = feed(&v, &op, seq[j], &out, &out_len, &got_first);

		if (j == n_seq - 1)
			assert_int_equal(rc, FRAG_DONE);
		else if (j >= op.n - 1) /* the duplicates */
			assert_int_equal(rc, -EALREADY);
		else
			assert_int_equal(rc, FRAG_WAIT);
	}
	assert_int_equal(out_len, chain_len);
	assert_memory_equal(out, chain, chain_len);
	assert_int_equal(got_first, first);
	assert_int_equal(v.budget.used, 0);
	assert_false(frag_reasm_pending(&v.r, NULL));
	/* the reassembled chain decodes */
	memset(&m, 0, sizeof(m));
	assert_int_equal(codec_decode_chain(got_first, out, out_len, &m, &err), 0);
	assert_non_null(codec_msg_find(&m, IKEV2_PL_CERT, 0));
	free(out);
	opened_free(&op);
	frag_out_clear(&fo);
	frag_reasm_free(&v.r);
}

static void test_roundtrip_in_order(void **state)
{
	roundtrip(*state, false, FRAG_MSG_LEN_IPV6, IN_ORDER);
	roundtrip(*state, true, FRAG_MSG_LEN_IPV6, IN_ORDER);
	/* NAT-T: the non-ESP marker comes out of the UDP payload */
	roundtrip(*state, false, FRAG_MSG_LEN_IPV4 - FRAG_NON_ESP_MARKER_LEN, IN_ORDER);
}

static void test_roundtrip_reverse(void **state)
{
	roundtrip(*state, false, FRAG_MSG_LEN_IPV6, REVERSE);
	roundtrip(*state, true, FRAG_MSG_LEN_IPV4, REVERSE);
}

static void test_roundtrip_shuffled_dups(void **state)
{
	roundtrip(*state, false, FRAG_MSG_LEN_IPV4, SHUFFLED_DUPS);
	roundtrip(*state, true, FRAG_MSG_LEN_IPV6, SHUFFLED_DUPS);
	roundtrip(*state, true, 300, SHUFFLED_DUPS);
}

/* The chunk size is the largest that fits, for both cipher kinds and many sizes. */
static void test_chunk_max(void **state)
{
	(void)state;
	for (int cbc = 0; cbc < 2; cbc++) {
		struct sk_dir_keys k;

		keys_make(cbc, &k);
		for (size_t max = 40; max < 1400; max++) {
			size_t c = frag_chunk_max(&k, max);
			size_t fixed = IKEV2_HDR_LEN + SKF_HDR_LEN;

			if (c == 0)
				continue;
			assert_true(fixed + c + sk_overhead(&k, c) <= max);
			assert_true(fixed + c + 1 + sk_overhead(&k, c + 1) > max);
		}
		assert_int_equal(frag_chunk_max(&k, IKEV2_HDR_LEN + SKF_HDR_LEN), 0);
	}
	assert_int_equal(frag_chunk_max(NULL, 1000), 0);
	{
		struct sk_dir_keys k;

		keys_make(false, &k);
		assert_int_equal(frag_chunk_max(&k, SIZE_MAX), UINT16_MAX - 61);
	}
}

static void test_split_errors(void **state)
{
	const struct crypto_suite *s = *state;
	static uint8_t big[FRAG_MAX * 100 + 1];
	struct sk_dir_keys k;
	struct frag_out fo;
	uint64_t iv = 0;

	keys_make(false, &k);
	/* nothing fits */
	assert_int_equal(frag_split_chain(s, &k, &iv, &test_hdr, IKEV2_PL_IDR, big, 10, 60, &fo),
			 -EMSGSIZE);
	assert_int_equal(fo.n, 0);
	/* more than FRAG_MAX fragments */
	size_t max = IKEV2_HDR_LEN + SKF_HDR_LEN + 100 + sk_overhead(&k, 100);
	assert_int_equal(frag_chunk_max(&k, max), 100);
	assert_int_equal(frag_split_chain(s, &k, &iv, &test_hdr, IKEV2_PL_IDR, big, sizeof(big),
					  max, &fo), -EMSGSIZE);
	assert_int_equal(fo.n, 0);
	/* exactly FRAG_MAX fragments, each exactly max octets */
	assert_int_equal(frag_split_chain(s, &k, &iv, &test_hdr, IKEV2_PL_IDR, big,
					  sizeof(big) - 1, max, &fo), 0);
	assert_int_equal(fo.n, FRAG_MAX);
	for (size_t i = 0; i < fo.n; i++)
		assert_int_equal(fo.len[i], max);
	frag_out_clear(&fo);
	assert_int_equal(fo.n, 0);
	/* an empty chain is one fragment */
	assert_int_equal(frag_split_chain(s, &k, &iv, &test_hdr, 0, NULL, 0, 1000, &fo), 0);
	assert_int_equal(fo.n, 1);
	frag_out_clear(&fo);
	/* bad arguments */
	assert_int_equal(frag_split_chain(s, NULL, &iv, &test_hdr, 0, big, 10, 1000, &fo), -EINVAL);
	assert_int_equal(frag_split_chain(s, &k, &iv, &test_hdr, 0, NULL, 10, 1000, &fo), -EINVAL);
	frag_out_clear(NULL);
}

static void test_needed(void **state)
{
	struct sk_dir_keys k;

	(void)state;
	keys_make(false, &k);
	/* 28 + 4 + 100 + 8 IV + 1 + 16 ICV = 157 */
	assert_false(frag_needed(&k, 100, 157));
	assert_true(frag_needed(&k, 100, 156));
}

/* Hand-made plaintext pieces for the reassembly rules. */
static int add(struct env *v, uint64_t now, uint32_t id, uint16_t num, uint16_t total,
	       uint8_t first, size_t len, uint8_t **out, size_t *out_len)
{
	static uint8_t data[2048];
	uint8_t got_first;

	memset(data, (uint8_t)num, sizeof(data));
	assert_true(len <= sizeof(data));
	return frag_reasm_add(&v->r, &v->lim, now, id, num, total, first, data, len, out,
			      out_len, &got_first);
}

static void test_expire(void **state)
{
	struct env v;
	uint64_t deadline = 0;
	uint8_t *out;
	size_t out_len;

	(void)state;
	env_init(&v);
	assert_int_equal(add(&v, T0, 1, 1, 3, IKEV2_PL_IDI, 100, &out, &out_len), FRAG_WAIT);
	assert_int_equal(add(&v, T0 + 10, 1, 3, 3, 0, 50, &out, &out_len), FRAG_WAIT);
	assert_true(v.budget.used > 150);
	assert_true(frag_reasm_pending(&v.r, &deadline));
	assert_int_equal(deadline, T0 + v.lim.timeout_ms);
	assert_false(frag_reasm_expire(&v.r, T0 + v.lim.timeout_ms - 1));
	assert_true(frag_reasm_expire(&v.r, T0 + v.lim.timeout_ms));
	assert_false(frag_reasm_pending(&v.r, NULL));
	assert_int_equal(v.budget.used, 0);
	assert_int_equal(v.r.bytes, 0);
	assert_false(frag_reasm_expire(&v.r, T0 + 2 * v.lim.timeout_ms));
	/* a late fragment of the expired set starts a new one; add expires by itself too */
	assert_int_equal(add(&v, T0 + 3 * v.lim.timeout_ms, 1, 2, 3, 0, 10, &out, &out_len),
			 FRAG_WAIT);
	assert_int_equal(add(&v, T0 + 5 * v.lim.timeout_ms, 1, 1, 3, 0, 10, &out, &out_len),
			 FRAG_WAIT);
	assert_int_equal(v.r.have, 1); /* fragment 2 went with the expired set */
	frag_reasm_free(&v.r);
	assert_int_equal(v.budget.used, 0);
	frag_reasm_free(NULL);
}

static void test_sa_limit(void **state)
{
	struct env v;
	uint8_t *out;
	size_t out_len;

	(void)state;
	env_init(&v);
	v.lim.max_bytes = 3000;
	assert_int_equal(add(&v, T0, 1, 1, 4, IKEV2_PL_IDI, 1000, &out, &out_len), FRAG_WAIT);
	assert_int_equal(add(&v, T0, 1, 2, 4, 0, 1000, &out, &out_len), FRAG_WAIT);
	/* the third would pass 3000: the hopeless set is released */
	assert_int_equal(add(&v, T0, 1, 3, 4, 0, 1000, &out, &out_len), -EMSGSIZE);
	assert_false(frag_reasm_pending(&v.r, NULL));
	assert_int_equal(v.budget.used, 0);
	/* a single fragment larger than the limit */
	assert_int_equal(add(&v, T0, 2, 1, 1, IKEV2_PL_IDI, 2048, &out, &out_len), FRAG_DONE);
	free(out);
	v.lim.max_bytes = 2000;
	assert_int_equal(add(&v, T0, 3, 1, 1, IKEV2_PL_IDI, 2048, &out, &out_len), -EMSGSIZE);
	assert_int_equal(v.budget.used, 0);
}

static void test_global_budget(void **state)
{
	struct frag_budget budget = { .used = 0, .max = 2500 };
	struct frag_limits lim;
	struct frag_reasm a, b;
	uint8_t data[1000], *out, first;
	size_t out_len, a_bytes;

	(void)state;
	memset(data, 0xab, sizeof(data));
	frag_limits_default(&lim);
	frag_reasm_init(&a, &budget);
	frag_reasm_init(&b, &budget);
	assert_int_equal(frag_reasm_add(&a, &lim, T0, 1, 1, 3, IKEV2_PL_IDI, data, 1000, &out,
					&out_len, &first), FRAG_WAIT);
	assert_int_equal(frag_reasm_add(&a, &lim, T0, 1, 2, 3, 0, data, 1000, &out, &out_len,
					&first), FRAG_WAIT);
	a_bytes = a.bytes;
	assert_int_equal(budget.used, a_bytes);
	/* B is refused; A keeps everything */
	assert_int_equal(frag_reasm_add(&b, &lim, T0, 1, 1, 2, IKEV2_PL_IDI, data, 1000, &out,
					&out_len, &first), -ENOBUFS);
	assert_int_equal(a.bytes, a_bytes);
	assert_int_equal(budget.used, a_bytes);
	assert_int_equal(b.bytes, 0);
	/* B's small fragment still fits */
	assert_int_equal(frag_reasm_add(&b, &lim, T0, 1, 1, 2, IKEV2_PL_IDI, data, 100, &out,
					&out_len, &first), FRAG_WAIT);
	/* A's last fragment does not fit right now; A's set survives the refusal */
	assert_int_equal(frag_reasm_add(&a, &lim, T0, 1, 3, 3, 0, data, 1000, &out, &out_len,
					&first), -ENOBUFS);
	assert_int_equal(a.bytes, a_bytes);
	assert_true(frag_reasm_pending(&a, NULL));
	/* B goes away: A can finish (the peer retransmits) */
	frag_reasm_free(&b);
	assert_int_equal(budget.used, a_bytes);
	assert_int_equal(frag_reasm_add(&a, &lim, T0, 1, 3, 3, 0, data, 100, &out, &out_len,
					&first), FRAG_DONE);
	assert_int_equal(out_len, 2100);
	assert_int_equal(first, IKEV2_PL_IDI);
	free(out);
	assert_int_equal(budget.used, 0);
}

static void test_total_changes(void **state)
{
	struct env v;
	uint8_t *out;
	size_t out_len;

	(void)state;
	env_init(&v);
	assert_int_equal(add(&v, T0, 1, 1, 3, IKEV2_PL_IDI, 500, &out, &out_len), FRAG_WAIT);
	assert_int_equal(add(&v, T0, 1, 2, 3, 0, 500, &out, &out_len), FRAG_WAIT);
	/* RFC 7383 2.6: smaller total: discarded, the set is unchanged */
	assert_int_equal(add(&v, T0, 1, 1, 2, IKEV2_PL_IDI, 300, &out, &out_len), -ESTALE);
	assert_int_equal(v.r.have, 3);
	assert_int_equal(v.r.total, 3);
	/* larger total (smaller PMTU): start over with just this fragment */
	assert_int_equal(add(&v, T0, 1, 4, 5, 0, 100, &out, &out_len), FRAG_WAIT);
	assert_int_equal(v.r.total, 5);
	assert_int_equal(v.r.have, 1u << 3);
	assert_int_equal(v.budget.used, v.r.bytes);
	assert_true(v.r.bytes < 500);
	for (uint16_t n = 1; n <= 3; n++)
		assert_int_equal(add(&v, T0, 1, n, 5, n == 1 ? IKEV2_PL_IDI : 0, 100, &out,
				     &out_len), FRAG_WAIT);
	assert_int_equal(add(&v, T0, 1, 5, 5, 0, 100, &out, &out_len), FRAG_DONE);
	assert_int_equal(out_len, 500);
	for (size_t i = 0; i < 5; i++) /* each piece is filled with its number */
		assert_int_equal(out[i * 100], i + 1);
	free(out);
	assert_int_equal(v.budget.used, 0);
}

static void test_bad_fields(void **state)
{
	struct env v;
	uint8_t *out;
	size_t out_len;

	(void)state;
	env_init(&v);
	assert_int_equal(add(&v, T0, 1, 1, 3, IKEV2_PL_IDI, 10, &out, &out_len), FRAG_WAIT);
	assert_int_equal(add(&v, T0, 1, 4, 3, 0, 10, &out, &out_len), -EINVAL);  /* num > total */
	assert_int_equal(add(&v, T0, 1, 0, 3, 0, 10, &out, &out_len), -EINVAL);  /* num 0 */
	assert_int_equal(add(&v, T0, 1, 0, 0, 0, 10, &out, &out_len), -EINVAL);  /* total 0 */
	assert_int_equal(add(&v, T0, 1, 1, 0, 0, 10, &out, &out_len), -EINVAL);
	/* RFC 7383 2.5: Next Payload only on fragment 1 */
	assert_int_equal(add(&v, T0, 1, 2, 3, IKEV2_PL_CERT, 10, &out, &out_len), -EINVAL);
	/* oversize totals, with a larger total than the set's */
	assert_int_equal(add(&v, T0, 1, 1, FRAG_MAX + 1, 0, 10, &out, &out_len), -EMSGSIZE);
	assert_int_equal(add(&v, T0, 1, 1, UINT16_MAX, 0, 10, &out, &out_len), -EMSGSIZE);
	v.lim.max_frags = 8;
	assert_int_equal(add(&v, T0, 1, 1, 9, 0, 10, &out, &out_len), -EMSGSIZE);
	/* none of that touched the set */
	assert_int_equal(v.r.have, 1);
	assert_int_equal(v.r.total, 3);
	assert_int_equal(v.r.first_inner, IKEV2_PL_IDI);
	/* null arguments */
	assert_int_equal(frag_reasm_add(&v.r, &v.lim, T0, 1, 2, 3, 0, NULL, 5, &out, &out_len,
					(uint8_t[1]){ 0 }), -EINVAL);
	assert_int_equal(frag_reasm_add(&v.r, NULL, T0, 1, 2, 3, 0, NULL, 0, &out, &out_len,
					(uint8_t[1]){ 0 }), -EINVAL);
	frag_reasm_free(&v.r);
	assert_int_equal(v.budget.used, 0);
}

static void test_msg_ids(void **state)
{
	struct env v;
	uint8_t *out;
	size_t out_len;

	(void)state;
	env_init(&v);
	assert_int_equal(add(&v, T0, 7, 1, 2, IKEV2_PL_IDI, 10, &out, &out_len), FRAG_WAIT);
	/* older: ignored */
	assert_int_equal(add(&v, T0, 6, 2, 2, 0, 10, &out, &out_len), -ESTALE);
	assert_int_equal(v.r.msg_id, 7);
	/* newer: the old set goes */
	assert_int_equal(add(&v, T0, 8, 2, 2, 0, 10, &out, &out_len), FRAG_WAIT);
	assert_int_equal(v.r.msg_id, 8);
	assert_int_equal(v.r.have, 2);
	assert_int_equal(v.budget.used, v.r.bytes);
	/* duplicate */
	assert_int_equal(add(&v, T0, 8, 2, 2, 0, 10, &out, &out_len), -EALREADY);
	assert_int_equal(add(&v, T0, 8, 1, 2, IKEV2_PL_SA, 10, &out, &out_len), FRAG_DONE);
	free(out);
	/* the completed message and older ones are refused, newer ones start */
	assert_int_equal(add(&v, T0, 8, 1, 2, IKEV2_PL_SA, 10, &out, &out_len), -EALREADY);
	assert_int_equal(add(&v, T0, 8, 1, 3, IKEV2_PL_SA, 10, &out, &out_len), -EALREADY);
	assert_int_equal(add(&v, T0, 7, 1, 2, IKEV2_PL_SA, 10, &out, &out_len), -ESTALE);
	assert_int_equal(add(&v, T0, 9, 1, 1, 0, 0, &out, &out_len), FRAG_DONE);
	assert_int_equal(out_len, 0);
	free(out);
	assert_int_equal(v.budget.used, 0);
}

/* frag_reasm_check answers what add would, and changes nothing. */
static void test_check(void **state)
{
	struct env v;
	struct frag_reasm before;
	uint8_t *out;
	size_t out_len;

	(void)state;
	env_init(&v);
	assert_int_equal(frag_reasm_check(&v.r, &v.lim, T0, 3, 1, 2, IKEV2_PL_IDI), 0);
	assert_int_equal(add(&v, T0, 3, 1, 2, IKEV2_PL_IDI, 10, &out, &out_len), FRAG_WAIT);
	before = v.r;
	assert_int_equal(frag_reasm_check(&v.r, &v.lim, T0, 3, 1, 2, IKEV2_PL_IDI), -EALREADY);
	assert_int_equal(frag_reasm_check(&v.r, &v.lim, T0, 3, 2, 2, 0), 0);
	assert_int_equal(frag_reasm_check(&v.r, &v.lim, T0, 3, 2, 2, 1), -EINVAL);
	assert_int_equal(frag_reasm_check(&v.r, &v.lim, T0, 3, 3, 2, 0), -EINVAL);
	assert_int_equal(frag_reasm_check(&v.r, &v.lim, T0, 3, 1, 1, 0), -ESTALE);
	assert_int_equal(frag_reasm_check(&v.r, &v.lim, T0, 2, 2, 2, 0), -ESTALE);
	assert_int_equal(frag_reasm_check(&v.r, &v.lim, T0, 4, 2, 2, 0), 0);
	assert_int_equal(frag_reasm_check(&v.r, &v.lim, T0, 3, 1, 65, 0), -EMSGSIZE);
	/* after the deadline the old set no longer counts */
	assert_int_equal(frag_reasm_check(&v.r, &v.lim, T0 + v.lim.timeout_ms, 2, 2, 2, 0), 0);
	assert_memory_equal(&before, &v.r, sizeof(before));
	assert_int_equal(frag_reasm_check(NULL, &v.lim, T0, 3, 1, 2, 0), -EINVAL);
	frag_reasm_free(&v.r);
}

/* Total Fragments 64: the whole bitmap. */
static void test_sixty_four(void **state)
{
	struct env v;
	uint8_t *out = NULL;
	size_t out_len;

	(void)state;
	env_init(&v);
	for (uint16_t n = FRAG_MAX; n >= 1; n--)
		assert_int_equal(add(&v, T0, 1, n, FRAG_MAX, n == 1 ? IKEV2_PL_IDI : 0, 3, &out,
				     &out_len), n == 1 ? FRAG_DONE : FRAG_WAIT);
	assert_int_equal(out_len, 3 * FRAG_MAX);
	for (size_t i = 0; i < FRAG_MAX; i++)
		assert_int_equal(out[3 * i + 2], i + 1);
	free(out);
	assert_int_equal(v.budget.used, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_in_order),
		cmocka_unit_test(test_roundtrip_reverse),
		cmocka_unit_test(test_roundtrip_shuffled_dups),
		cmocka_unit_test(test_chunk_max),
		cmocka_unit_test(test_split_errors),
		cmocka_unit_test(test_needed),
		cmocka_unit_test(test_expire),
		cmocka_unit_test(test_sa_limit),
		cmocka_unit_test(test_global_budget),
		cmocka_unit_test(test_total_changes),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_msg_ids),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_sixty_four),
	};

	return cmocka_run_group_tests_name("frag", tests, setup, teardown);
}
