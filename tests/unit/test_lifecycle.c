/* SPDX-License-Identifier: ISC */
/*
 * The SA lifecycle in process (RFC 7296 1.3, 1.4, 2.1, 2.4, 2.8, 2.18): a struct gw from
 * tests/data/exchange/gw.yaml with a fake clock and a recording dataplane that also
 * reports counters, driven by support/ike_initiator.c.  Rekeys both ways, collisions,
 * refusals, the gateway's retransmission schedule, DPD, idle expiry, and that every timer
 * dies with its SA.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ikegw/codec.h"
#include "ikegw/config.h"
#include "ikegw/dataplane.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/ikev2.h"
#include "ikegw/keymat.h"
#include "ikegw/loop.h"
#include "ikegw/pool.h"
#include "ikegw/sa_table.h"

#include "support/gw_harness.h"
#include "support/ike_initiator.h"

#define GWH_AT ((time_t)1893456000) /* 2030-01-01: inside every test certificate's validity */
#define PSK "exchange harness pre-shared key"

struct h {
	struct gw_harness x;
	struct ike_msg m;
	uint8_t plain[IKEI_MSG_MAX];
	uint8_t buf[IKEI_MSG_MAX];
	size_t len;
	struct ike_proposal ike, esp;
	size_t base_timers;
};

/* ---- harness ---- */

static int setup(void **state)
{
	struct h *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	gwh_setup(&h->x, true);
	h->base_timers = loop_timer_count(h->x.gw.loop);
	assert_int_equal(ikei_proposal("aes256gcm16-prfsha384-x25519", IKEV2_PROTO_IKE, &h->ike),
			 0);
	assert_int_equal(ikei_proposal("aes256gcm16", IKEV2_PROTO_ESP, &h->esp), 0);
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	struct h *h = *state;

	gwh_teardown(&h->x);
	free(h);
	return 0;
}

/* Move the fake clock and fire what is due; returns how many datagrams went out. */
static size_t advance(struct h *h, uint64_t ms)
{
	size_t before = h->x.n_out;

	h->x.now += ms;
	loop_run_timers(h->x.gw.loop);
	return h->x.n_out - before;
}

static void connect_client(struct h *h, struct ikei *c)
{
	struct ikei_sa_init_opts so = { .props = &h->ike, .n_props = 1,
					.ke_group = IKEV2_KE_CURVE25519, .nat_d = true };
	const char *id = "alice@psk.example.test";
	struct ikei_auth_opts o = {
		.id_type = IKEV2_ID_RFC822_ADDR, .id = (const uint8_t *)id, .id_len = strlen(id),
		.psk = (const uint8_t *)PSK, .psk_len = strlen(PSK), .cp = true,
		.esp = &h->esp, .n_esp = 1,
	};
	struct wbuf w;

	assert_int_equal(ikei_init(c, h->x.gw.suite, &h->x.cl_addr, &h->x.gw_addr), 0);
	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_sa_init_build(c, &so, &w), 0);
	assert_int_equal(gwh_deliver(&h->x, h->buf, wbuf_len(&w)), 1);
	assert_int_equal(ikei_sa_init_process(c, gwh_last(&h->x)->msg, gwh_last(&h->x)->len, &h->m), 0);
	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_auth_build(c, &o, &w), 0);
	assert_int_equal(gwh_deliver(&h->x, h->buf, wbuf_len(&w)), 1);
	assert_int_equal(ikei_decrypt(c, gwh_last(&h->x)->msg, gwh_last(&h->x)->len, &h->m, h->plain,
				      sizeof(h->plain)), 0);
	assert_non_null(codec_msg_find(&h->m, IKEV2_PL_AUTH, 0));
	assert_int_equal(h->x.rec.n_added, 1);
}

static int find_any(struct sa_table_entry *e, void *arg)
{
	*(struct ike_sa **)arg = ike_sa_from_entry(e);
	return 1;
}

static struct ike_sa *the_sa(struct h *h)
{
	struct ike_sa *sa = NULL;

	sa_table_foreach(h->x.gw.sas, find_any, &sa);
	assert_non_null(sa);
	return sa;
}

/* Send a request of ours; decrypt the single answer into h->m. */
static void exchange_with(struct h *h, struct ikei *c, const struct wbuf *w)
{
	assert_int_equal(gwh_deliver(&h->x, h->buf, wbuf_len(w)), 1);
	assert_int_equal(ikei_decrypt(c, gwh_last(&h->x)->msg, gwh_last(&h->x)->len, &h->m, h->plain,
				      sizeof(h->plain)), 0);
	assert_true(h->m.hdr.flags & IKEV2_FLAG_RESPONSE);
}

/* The gateway's last datagram, a request of its own, decrypted into h->m. */
static void gw_request(struct h *h, struct ikei *c, uint8_t exchange)
{
	assert_int_equal(ikei_decrypt(c, gwh_last(&h->x)->msg, gwh_last(&h->x)->len, &h->m, h->plain,
				      sizeof(h->plain)), 0);
	assert_false(h->m.hdr.flags & IKEV2_FLAG_RESPONSE);
	assert_int_equal(h->m.hdr.exchange, exchange);
}

static uint16_t notify_of(const struct ike_msg *m)
{
	const struct ike_payload *p = codec_msg_find(m, IKEV2_PL_NOTIFY, 0);

	return p ? p->u.notify.type : 0;
}

static uint32_t be32(const uint8_t *p)
{
	struct rbuf r;
	uint32_t v = 0;

	rbuf_init(&r, p, 4);
	assert_int_equal(rbuf_u32(&r, &v), 0);
	return v;
}

/* The SPIs of the first Delete payload. */
static size_t delete_spis(const struct ike_msg *m, uint8_t proto, uint32_t *out, size_t cap)
{
	const struct ike_payload *d = codec_msg_find(m, IKEV2_PL_DELETE, 0);
	struct rbuf r;
	size_t n = 0;

	assert_non_null(d);
	assert_int_equal(d->u.del.protocol, proto);
	rbuf_init(&r, d->u.del.spis.p, d->u.del.spis.len);
	while (n < cap && rbuf_u32(&r, &out[n]) == 0)
		n++;
	return n;
}

/* Answer the gateway's request in h->m with the inner chain (NULL: empty). */
static size_t answer(struct h *h, struct ikei *c, const uint8_t *inner, size_t len,
		     uint8_t first)
{
	struct wbuf w;

	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_response_build(c, h->m.hdr.exchange, h->m.hdr.msg_id, inner, len,
					     first, &w), 0);
	h->len = wbuf_len(&w);
	return gwh_deliver(&h->x, h->buf, h->len);
}

static size_t answer_delete_esp(struct h *h, struct ikei *c, uint32_t spi)
{
	uint8_t inner[32], s[4] = { (uint8_t)(spi >> 24), (uint8_t)(spi >> 16),
				    (uint8_t)(spi >> 8), (uint8_t)spi }, first = 0;
	struct codec_enc e;
	struct wbuf w;

	wbuf_init(&w, inner, sizeof(inner));
	codec_enc_begin_chain(&e, &w);
	codec_enc_delete(&e, IKEV2_PROTO_ESP, 4, 1, s);
	assert_int_equal(codec_enc_end_chain(&e, &first), 0);
	return answer(h, c, inner, wbuf_len(&w), first);
}

static void check_dir(const struct dp_sa *d, const struct sk_dir_keys *k, uint32_t spi)
{
	size_t ek = (size_t)k->encr->key_len + k->encr->salt_len;

	assert_int_equal(d->spi, spi);
	assert_int_equal(d->enc_key_len, ek);
	assert_memory_equal(d->enc_key, k->ek, ek);
}

static uint32_t pool_used(struct h *h)
{
	struct pool_stats st;

	pool_stats(h->x.gw.pools[0], AF_INET, &st);
	return st.used;
}

/* The client rekeys its Child SA; returns the gateway's new inbound SPI. */
static uint32_t client_rekey_child(struct h *h, struct ikei *c, uint16_t group, uint32_t new_spi,
				   const uint8_t *nonce)
{
	struct ikei_child_opts o = { .esp = &h->esp, .ke_group = group, .old_spi = c->esp_spi,
				     .new_spi = new_spi, .nonce = nonce };
	struct child_keys ck;
	uint32_t spi_r = 0;
	struct wbuf w;

	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_rekey_child_build(c, &o, &w), 0);
	exchange_with(h, c, &w);
	if (notify_of(&h->m))
		return 0;
	assert_int_equal(ikei_rekey_child_keys(c, &h->m, &ck, &spi_r), 0);
	/* RFC 7296 2.17: the client initiated this exchange, so i2r is what it sends */
	check_dir(&h->x.rec.added[h->x.rec.n_added - 1].in, &ck.i2r, spi_r);
	check_dir(&h->x.rec.added[h->x.rec.n_added - 1].out, &ck.r2i, new_spi);
	keymat_child_wipe(&ck);
	return spi_r;
}

static void send_info(struct h *h, struct ikei *c, const struct ikei_info_opts *io)
{
	struct wbuf w;

	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_info_build(c, io, &w), 0);
	exchange_with(h, c, &w);
	assert_int_equal(h->m.hdr.exchange, IKEV2_EXCH_INFORMATIONAL);
}

/* ---- the client rekeys ---- */

static void test_client_child_rekey(void **state)
{
	struct h *h = *state;
	struct ikei c;
	uint32_t old_gw, new_gw, old_cl, got[4];
	struct ikei_info_opts io = { .n_esp = 1 };

	connect_client(h, &c);
	old_gw = h->x.rec.added[0].in.spi;
	old_cl = c.esp_spi;
	new_gw = client_rekey_child(h, &c, 0, 0x01020304, NULL);
	assert_int_not_equal(new_gw, 0);
	assert_int_not_equal(new_gw, old_gw);
	/* the new pair is in before the old one goes: nothing deleted yet */
	assert_int_equal(h->x.rec.n_added, 2);
	assert_int_equal(h->x.rec.n_deleted, 0);
	assert_int_not_equal(h->x.rec.added[1].reqid, h->x.rec.added[0].reqid);
	assert_true(gwh_log_has(&h->x, "Child SA rekeyed by the client"));
	/* RFC 7296 1.4.1: the client deletes the old pair; we answer with our half */
	io.esp_spis = &old_cl;
	h->x.rec.bytes_in = 1000;
	send_info(h, &c, &io);
	assert_int_equal(delete_spis(&h->m, IKEV2_PROTO_ESP, got, 4), 1);
	assert_int_equal(got[0], old_gw);
	assert_int_equal(h->x.rec.n_deleted, 1);
	/* the old pair's traffic stays counted (Prometheus counters never go down) */
	assert_int_equal(h->x.gw.ctr.gone_bytes_in, 1000);
	assert_int_equal(h->x.rec.deleted[0], h->x.rec.added[0].reqid);
	assert_int_equal(the_sa(h)->children.cur.spi_in, new_gw);
	ikei_fini(&c);
}

/* RFC 7296 1.3.1: PFS when the proposal has a group; accept_no_pfs lets a client go
 * without, and turning it off refuses such a client. */
static void test_client_child_rekey_pfs(void **state)
{
	struct h *h = *state;
	struct ikei c;

	assert_int_equal(ikei_proposal("aes256gcm16-x25519", IKEV2_PROTO_ESP,
				       &h->x.cfg->proposals.esp[0]), 0);
	connect_client(h, &c);
	assert_int_not_equal(client_rekey_child(h, &c, IKEV2_KE_CURVE25519, 0x0a0b0c0d, NULL), 0);
	assert_non_null(codec_msg_find(&h->m, IKEV2_PL_KE, 0));
	assert_true(gwh_log_has(&h->x, "(PFS)"));
	/* no KE offered: accepted (accept_no_pfs defaults to true) */
	c.esp_spi = 0x0a0b0c0d;
	assert_int_not_equal(client_rekey_child(h, &c, 0, 0x0a0b0c0e, NULL), 0);
	assert_null(codec_msg_find(&h->m, IKEV2_PL_KE, 0));
	/* and refused once the profile wants PFS */
	for (size_t i = 0; i < h->x.cfg->n_profiles; i++)
		h->x.cfg->profiles[i].accept_no_pfs = false;
	c.esp_spi = 0x0a0b0c0e;
	assert_int_equal(client_rekey_child(h, &c, 0, 0x0a0b0c0f, NULL), 0);
	assert_int_equal(notify_of(&h->m), IKEV2_N_NO_PROPOSAL_CHOSEN);
	assert_int_equal(h->x.rec.n_added, 3);
	ikei_fini(&c);
}

/* A PFS proposal in the wrong group: INVALID_KE_PAYLOAD naming ours (RFC 7296 1.3). */
static void test_client_child_rekey_wrong_group(void **state)
{
	struct h *h = *state;
	const struct ike_payload *n;
	struct ikei c;

	assert_int_equal(ikei_proposal("aes256gcm16-x25519-ecp256", IKEV2_PROTO_ESP,
				       &h->x.cfg->proposals.esp[0]), 0);
	connect_client(h, &c);
	assert_int_equal(ikei_proposal("aes256gcm16-ecp256-x25519", IKEV2_PROTO_ESP, &h->esp), 0);
	assert_int_equal(client_rekey_child(h, &c, IKEV2_KE_ECP256, 0x0a0b0c0d, NULL), 0);
	n = codec_msg_notify(&h->m, IKEV2_N_INVALID_KE_PAYLOAD);
	assert_non_null(n);
	assert_int_equal(n->u.notify.data.len, 2);
	assert_int_equal(h->x.rec.n_added, 1);
	ikei_fini(&c);
}

static void test_client_rekey_unknown_child(void **state)
{
	struct h *h = *state;
	struct ikei c;

	connect_client(h, &c);
	c.esp_spi ^= 0xffff;
	assert_int_equal(client_rekey_child(h, &c, 0, 0x01020304, NULL), 0);
	assert_int_equal(notify_of(&h->m), IKEV2_N_CHILD_SA_NOT_FOUND);
	ikei_fini(&c);
}

/* ---- further Child SAs (RFC 7296 1.3.1) ---- */

/* An IPv4 selector start-end, every protocol and port. */
static struct ike_ts ts4(const char *start, const char *end)
{
	struct ike_ts t = { .type = IKEV2_TS_IPV4_ADDR_RANGE, .end_port = 0xffff };

	assert_int_equal(inet_pton(AF_INET, start, t.start), 1);
	assert_int_equal(inet_pton(AF_INET, end, t.end), 1);
	return t;
}

static void assert_prefix(const struct dp_prefix *p, const char *addr, uint8_t plen)
{
	uint8_t a[4];

	assert_int_equal(inet_pton(AF_INET, addr, a), 1);
	assert_int_equal(p->family, AF_INET);
	assert_int_equal(p->plen, plen);
	assert_memory_equal(p->addr, a, 4);
}

/*
 * A CREATE_CHILD_SA of the client for its Child SA old_spi (a rekey) or, with old_spi 0,
 * for a further one, asking to reach tsr; the gateway's new inbound SPI, or 0 when it
 * answered with a notify (in h->m).  The keys are checked against what was installed.
 */
static uint32_t client_child(struct h *h, struct ikei *c, uint32_t old_spi, uint32_t new_spi,
			     const struct ike_ts *tsr)
{
	struct ikei_child_opts o = { .esp = &h->esp, .old_spi = old_spi, .new_spi = new_spi,
				     .tsr = tsr, .n_tsr = tsr ? 1 : 0 };
	size_t added = h->x.rec.n_added;
	struct child_keys ck;
	uint32_t spi_r = 0;
	struct wbuf w;

	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_rekey_child_build(c, &o, &w), 0);
	exchange_with(h, c, &w);
	if (notify_of(&h->m)) {
		assert_int_equal(h->x.rec.n_added, added);
		return 0;
	}
	assert_int_equal(ikei_rekey_child_keys(c, &h->m, &ck, &spi_r), 0);
	assert_int_equal(h->x.rec.n_added, added + 1);
	check_dir(&h->x.rec.added[added].in, &ck.i2r, spi_r);
	check_dir(&h->x.rec.added[added].out, &ck.r2i, new_spi);
	keymat_child_wipe(&ck);
	return spi_r;
}

/* The TS payload of h->m as one IPv4 range (the tests narrow to one). */
static void assert_ts_payload(const struct ike_msg *m, uint8_t type, const char *start,
			      const char *end)
{
	const struct ike_payload *p = codec_msg_find(m, type, 0);
	struct ike_ts t, want = ts4(start, end);
	struct codec_err err;
	struct rbuf it;

	assert_non_null(p);
	rbuf_init(&it, p->u.ts.selectors.p, p->u.ts.selectors.len);
	assert_int_equal(codec_ts_next(&it, &t, &err), 1);
	assert_memory_equal(t.start, want.start, 4);
	assert_memory_equal(t.end, want.end, 4);
	assert_int_equal(codec_ts_next(&it, &t, &err), 0);
}

/* Accepted with its TSr narrowed to the profile's allow list and TSi to the VIP; a
 * pair of its own in the dataplane, the first Child SA untouched. */
static void test_additional_child(void **state)
{
	struct h *h = *state;
	struct ike_ts wide = ts4("10.10.0.0", "10.10.1.255");
	struct ikei c;
	uint32_t spi;

	connect_client(h, &c);
	spi = client_child(h, &c, 0, 0x0b0b0b0b, &wide);
	assert_int_not_equal(spi, 0);
	assert_ts_payload(&h->m, IKEV2_PL_TSI, "10.99.0.1", "10.99.0.1");
	assert_ts_payload(&h->m, IKEV2_PL_TSR, "10.10.0.0", "10.10.0.255");
	assert_int_not_equal(h->x.rec.added[1].reqid, h->x.rec.added[0].reqid);
	assert_prefix(&h->x.rec.added[1].vip, "10.99.0.1", 32);
	assert_int_equal(h->x.rec.added[1].n_subnets, 1);
	assert_prefix(&h->x.rec.added[1].subnets[0], "10.10.0.0", 24);
	assert_int_equal(ike_sa_children_count(the_sa(h)), 2);
	assert_int_equal(the_sa(h)->children.cur.spi_in, h->x.rec.added[0].in.spi);
	assert_int_equal(h->x.rec.n_deleted, 0);
	assert_true(gwh_log_has(&h->x, "further Child SA"));
	ikei_fini(&c);
}

/* Nothing of what it asks for is allowed: TS_UNACCEPTABLE, nothing installed. */
static void test_additional_child_outside_allow(void **state)
{
	struct h *h = *state;
	struct ike_ts other = ts4("10.20.0.0", "10.20.0.255");
	struct ikei c;

	connect_client(h, &c);
	assert_int_equal(client_child(h, &c, 0, 0x0b0b0b0b, &other), 0);
	assert_int_equal(notify_of(&h->m), IKEV2_N_TS_UNACCEPTABLE);
	assert_int_equal(ike_sa_children_count(the_sa(h)), 1);
	assert_null(the_sa(h)->children.next);
	ikei_fini(&c);
}

/* IKE_SA_MAX_CHILDREN in all; the next one is NO_ADDITIONAL_SAS. */
static void test_additional_child_limit(void **state)
{
	struct h *h = *state;
	struct ike_ts half = ts4("10.10.0.128", "10.10.0.255");
	struct ikei c;

	connect_client(h, &c);
	for (uint32_t i = 1; i < IKE_SA_MAX_CHILDREN; i++)
		assert_int_not_equal(client_child(h, &c, 0, 0x0b0b0b00 + i, &half), 0);
	assert_int_equal(ike_sa_children_count(the_sa(h)), IKE_SA_MAX_CHILDREN);
	assert_int_equal(client_child(h, &c, 0, 0x0b0b0bff, &half), 0);
	assert_int_equal(notify_of(&h->m), IKEV2_N_NO_ADDITIONAL_SAS);
	assert_int_equal(h->x.rec.n_added, IKE_SA_MAX_CHILDREN);
	ikei_fini(&c);
}

/* The client rekeys its second Child SA: the new pair keeps that SA's selectors, and the
 * client deletes the old one on its own; the first Child SA is never touched. */
static void test_additional_child_client_rekey(void **state)
{
	struct h *h = *state;
	struct ike_ts half = ts4("10.10.0.128", "10.10.0.255");
	struct ikei_info_opts io = { .n_esp = 1 };
	uint32_t b_cl = 0x0b0b0b0b, b_gw, b2_gw, got[2];
	struct ikei c;

	connect_client(h, &c);
	b_gw = client_child(h, &c, 0, b_cl, &half);
	assert_int_not_equal(b_gw, 0);
	b2_gw = client_child(h, &c, b_cl, 0x0c0c0c0c, &half);
	assert_int_not_equal(b2_gw, 0);
	assert_prefix(&h->x.rec.added[2].subnets[0], "10.10.0.128", 25);
	assert_int_equal(ike_sa_children_count(the_sa(h)), 2);
	io.esp_spis = &b_cl;
	send_info(h, &c, &io);
	assert_int_equal(delete_spis(&h->m, IKEV2_PROTO_ESP, got, 2), 1);
	assert_int_equal(got[0], b_gw);
	assert_int_equal(h->x.rec.n_deleted, 1);
	assert_int_equal(h->x.rec.deleted[0], h->x.rec.added[1].reqid);
	assert_int_equal(the_sa(h)->children.cur.spi_in, h->x.rec.added[0].in.spi);
	assert_non_null(ike_sa_child_by_in(the_sa(h), b2_gw));
	ikei_fini(&c);
}

/* The client deletes a further Child SA on its own: only that pair goes, and its line. */
static void test_additional_child_deleted(void **state)
{
	struct h *h = *state;
	struct ike_ts half = ts4("10.10.0.128", "10.10.0.255");
	struct ikei_info_opts io = { .n_esp = 1 };
	uint32_t b_cl = 0x0b0b0b0b, b_gw, got[2];
	struct ikei c;

	connect_client(h, &c);
	b_gw = client_child(h, &c, 0, b_cl, &half);
	io.esp_spis = &b_cl;
	send_info(h, &c, &io);
	assert_int_equal(delete_spis(&h->m, IKEV2_PROTO_ESP, got, 2), 1);
	assert_int_equal(got[0], b_gw);
	assert_int_equal(h->x.rec.n_deleted, 1);
	assert_int_equal(h->x.rec.deleted[0], h->x.rec.added[1].reqid);
	assert_int_equal(ike_sa_children_count(the_sa(h)), 1);
	assert_null(the_sa(h)->children.next);
	/* and the first one can go on its own too, the second taking its place later */
	io.esp_spis = &c.esp_spi;
	send_info(h, &c, &io);
	assert_int_equal(ike_sa_children_count(the_sa(h)), 0);
	assert_int_not_equal(client_child(h, &c, 0, 0x0d0d0d0d, &half), 0);
	assert_int_equal(the_sa(h)->children.cur.spi_out, 0x0d0d0d0d);
	ikei_fini(&c);
}

/* Every Child SA goes with the IKE SA: dataplane, lines, timers. */
static void test_additional_children_freed_with_sa(void **state)
{
	struct h *h = *state;
	struct ike_ts half = ts4("10.10.0.128", "10.10.0.255");
	struct ikei_info_opts del = { .delete_ike = true };
	struct ikei c;

	connect_client(h, &c);
	assert_int_not_equal(client_child(h, &c, 0, 0x0b0b0b0b, &half), 0);
	assert_int_not_equal(client_child(h, &c, 0, 0x0c0c0c0c, &half), 0);
	send_info(h, &c, &del);
	assert_int_equal(sa_table_count(h->x.gw.sas), 0);
	assert_int_equal(h->x.rec.n_deleted, 3);
	for (size_t i = 0; i < 3; i++)
		assert_true(gwh_rec_deleted(&h->x, h->x.rec.added[i].reqid));
	assert_int_equal(pool_used(h), 0);
	assert_int_equal(loop_timer_count(h->x.gw.loop), h->base_timers);
	ikei_fini(&c);
}

static void test_client_ike_rekey(void **state)
{
	struct h *h = *state;
	struct ikei c, next;
	struct ikei_info_opts del = { .delete_ike = true }, empty = { 0 };
	struct wbuf w;

	connect_client(h, &c);
	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_rekey_ike_build(&c, &next, &w), 0);
	exchange_with(h, &c, &w);
	assert_int_equal(notify_of(&h->m), 0);
	assert_int_equal(ikei_rekey_ike_process(&c, &next, &h->m), 0);
	assert_int_equal(sa_table_count(h->x.gw.sas), 2);
	assert_true(gwh_log_has(&h->x, "IKE SA rekeyed into #2 (by the client)"));
	/* RFC 7296 2.18: the new SA works from message ID 0 with the new keys */
	send_info(h, &next, &empty);
	assert_int_equal(h->m.hdr.msg_id, 0);
	/* the old one is deleted; the lease and the Child SA stay with the new SA */
	send_info(h, &c, &del);
	assert_int_equal(sa_table_count(h->x.gw.sas), 1);
	assert_int_equal(pool_used(h), 1);
	assert_int_equal(h->x.rec.n_deleted, 0);
	assert_int_equal(the_sa(h)->children.cur.spi_out, c.esp_spi);
	/* and it rekeys its Child SA through the new IKE SA */
	assert_int_not_equal(client_rekey_child(h, &next, 0, 0x05060708, NULL), 0);
	assert_int_equal(h->x.rec.n_added, 2);
	ikei_fini(&next);
	ikei_fini(&c);
}

/* Before IKE_AUTH completed, CREATE_CHILD_SA is not processed at all. */
static void test_rekey_before_auth_refused(void **state)
{
	struct h *h = *state;
	struct ikei_sa_init_opts so = { .props = &h->ike, .n_props = 1,
					.ke_group = IKEV2_KE_CURVE25519 };
	struct ikei_child_opts o = { .esp = &h->esp, .old_spi = 0x1234, .new_spi = 0x5678 };
	struct ikei c, next;
	struct wbuf w;

	assert_int_equal(ikei_init(&c, h->x.gw.suite, &h->x.cl_addr, &h->x.gw_addr), 0);
	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_sa_init_build(&c, &so, &w), 0);
	assert_int_equal(gwh_deliver(&h->x, h->buf, wbuf_len(&w)), 1);
	assert_int_equal(ikei_sa_init_process(&c, gwh_last(&h->x)->msg, gwh_last(&h->x)->len, &h->m), 0);
	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_rekey_child_build(&c, &o, &w), 0);
	assert_int_equal(gwh_deliver(&h->x, h->buf, wbuf_len(&w)), 0);
	c.next_msg_id = 1;
	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_rekey_ike_build(&c, &next, &w), 0);
	assert_int_equal(gwh_deliver(&h->x, h->buf, wbuf_len(&w)), 0);
	assert_int_equal(sa_table_count(h->x.gw.sas), 1);
	assert_int_equal(h->x.rec.n_added, 0);
	assert_true(gwh_log_has(&h->x, "before IKE_AUTH ignored"));
	ikei_fini(&next);
	ikei_fini(&c);
}

/* ---- the gateway rekeys ---- */

/* No liveness checks or idle expiry over the hours a lifetime takes. */
static void quiet(struct h *h)
{
	h->x.cfg->timeouts.dpd = 0;
	h->x.cfg->timeouts.idle = 0;
}

static uint64_t child_rekey_due(struct h *h)
{
	return h->x.cfg->lifetimes.child * 900ull; /* at most 90% of the lifetime */
}

static void test_gw_child_rekey(void **state)
{
	struct h *h = *state;
	struct ike_sa *sa;
	struct child_keys ck;
	const struct ike_payload *n;
	uint32_t old_gw, spi_gw = 0, got[2];
	struct wbuf w;
	struct ikei c;

	quiet(h);
	connect_client(h, &c);
	old_gw = h->x.rec.added[0].in.spi;
	assert_int_equal(advance(h, h->x.cfg->lifetimes.child * 850ull - 1000), 0);
	assert_int_equal(advance(h, child_rekey_due(h) - h->x.cfg->lifetimes.child * 850ull + 1000),
			 1);
	gw_request(h, &c, IKEV2_EXCH_CREATE_CHILD_SA);
	assert_int_equal(h->m.hdr.msg_id, 0);
	n = codec_msg_notify(&h->m, IKEV2_N_REKEY_SA);
	assert_non_null(n);
	assert_int_equal(be32(n->u.notify.spi.p), old_gw);
	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_rekey_child_answer(&c, &h->m, 0x11223344, NULL, &w, &ck, &spi_gw),
			 0);
	/* installed at once; then our Delete for the old pair follows */
	assert_int_equal(gwh_deliver(&h->x, h->buf, wbuf_len(&w)), 1);
	assert_int_equal(h->x.rec.n_added, 2);
	check_dir(&h->x.rec.added[1].in, &ck.r2i, spi_gw); /* we initiated: we receive r2i */
	check_dir(&h->x.rec.added[1].out, &ck.i2r, 0x11223344);
	keymat_child_wipe(&ck);
	gw_request(h, &c, IKEV2_EXCH_INFORMATIONAL);
	assert_int_equal(h->m.hdr.msg_id, 1);
	assert_int_equal(delete_spis(&h->m, IKEV2_PROTO_ESP, got, 2), 1);
	assert_int_equal(got[0], old_gw);
	assert_int_equal(h->x.rec.n_deleted, 0); /* the old pair works until answered */
	assert_int_equal(answer_delete_esp(h, &c, c.esp_spi), 0);
	assert_int_equal(h->x.rec.n_deleted, 1);
	assert_int_equal(h->x.rec.deleted[0], h->x.rec.added[0].reqid);
	sa = the_sa(h);
	assert_int_equal(sa->children.cur.spi_in, spi_gw);
	assert_int_equal(sa->children.old.spi_in, 0);
	ikei_fini(&c);
}

/* Our rekey of the gateway's pair gw_spi, answered by the client; then our Delete of the
 * old pair, answered.  Returns the new pair's gateway SPI. */
static uint32_t gw_rekeys_child(struct h *h, struct ikei *c, uint32_t gw_spi, uint32_t cl_old,
				uint32_t cl_new)
{
	const struct ike_payload *n;
	uint32_t spi_gw = 0, got[2];
	struct wbuf w;

	gw_request(h, c, IKEV2_EXCH_CREATE_CHILD_SA);
	n = codec_msg_notify(&h->m, IKEV2_N_REKEY_SA);
	assert_non_null(n);
	assert_int_equal(be32(n->u.notify.spi.p), gw_spi);
	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_rekey_child_answer(c, &h->m, cl_new, NULL, &w, NULL, &spi_gw), 0);
	assert_int_equal(gwh_deliver(&h->x, h->buf, wbuf_len(&w)), 1);
	gw_request(h, c, IKEV2_EXCH_INFORMATIONAL);
	assert_int_equal(delete_spis(&h->m, IKEV2_PROTO_ESP, got, 2), 1);
	assert_int_equal(got[0], gw_spi);
	assert_int_equal(answer_delete_esp(h, c, cl_old), 0);
	return spi_gw;
}

/* Each Child SA is rekeyed by us at its own time (85-90% of lifetimes.child after it was
 * made), with its own selectors. */
static void test_additional_child_gw_rekey(void **state)
{
	struct h *h = *state;
	struct ike_ts half = ts4("10.10.0.128", "10.10.0.255");
	uint64_t life = h->x.cfg->lifetimes.child * 1000ull, t0;
	uint32_t a_gw, b_gw;
	struct ikei c;

	quiet(h);
	connect_client(h, &c);
	t0 = h->x.now;
	a_gw = h->x.rec.added[0].in.spi;
	assert_int_equal(advance(h, life / 10), 0);
	b_gw = client_child(h, &c, 0, 0x0b0b0b0b, &half);
	/* the first one is due by 90%; the second one not before 95% */
	assert_int_equal(advance(h, t0 + life * 9 / 10 - h->x.now), 1);
	gw_rekeys_child(h, &c, a_gw, c.esp_spi, 0x0a0a0a0a);
	assert_int_equal(h->x.rec.n_added, 3);
	assert_prefix(&h->x.rec.added[2].subnets[0], "10.10.0.0", 24);
	assert_int_equal(h->x.rec.deleted[0], h->x.rec.added[0].reqid);
	assert_int_equal(advance(h, t0 + life * 19 / 20 - 1 - h->x.now), 0);
	assert_int_equal(advance(h, life / 20 + 1), 1);
	gw_request(h, &c, IKEV2_EXCH_CREATE_CHILD_SA);
	/* we initiate: TSi are our side's, the second Child SA's subnet */
	assert_ts_payload(&h->m, IKEV2_PL_TSI, "10.10.0.128", "10.10.0.255");
	assert_ts_payload(&h->m, IKEV2_PL_TSR, "10.99.0.1", "10.99.0.1");
	gw_rekeys_child(h, &c, b_gw, 0x0b0b0b0b, 0x0c0c0c0c);
	assert_int_equal(h->x.rec.n_added, 4);
	assert_prefix(&h->x.rec.added[3].subnets[0], "10.10.0.128", 25);
	assert_int_equal(h->x.rec.deleted[1], h->x.rec.added[1].reqid);
	assert_int_equal(ike_sa_children_count(the_sa(h)), 2);
	ikei_fini(&c);
}

/* The dataplane's soft expiry starts our rekey at once. */
static void test_soft_expire_rekeys(void **state)
{
	struct h *h = *state;
	struct ikei c;

	connect_client(h, &c);
	assert_non_null(h->x.rec.dp.on_expire);
	h->x.rec.dp.on_expire(h->x.rec.dp.on_expire_arg, h->x.rec.added[0].reqid, DP_EXPIRE_SOFT);
	assert_int_equal(advance(h, 0), 1);
	gw_request(h, &c, IKEV2_EXCH_CREATE_CHILD_SA);
	assert_non_null(codec_msg_notify(&h->m, IKEV2_N_REKEY_SA));
	/* a hard expiry: the pair is gone and the client is told */
	h->x.rec.dp.on_expire(h->x.rec.dp.on_expire_arg, h->x.rec.added[0].reqid, DP_EXPIRE_HARD);
	assert_int_equal(h->x.rec.n_deleted, 1);
	ikei_fini(&c);
}

static void test_gw_ike_rekey(void **state)
{
	struct h *h = *state;
	struct ikei c, next;
	struct ikei_info_opts empty = { 0 };
	struct wbuf w;

	quiet(h);
	h->x.cfg->lifetimes.child = 10 * h->x.cfg->lifetimes.ike;
	connect_client(h, &c);
	advance(h, h->x.cfg->lifetimes.ike * 900ull);
	gw_request(h, &c, IKEV2_EXCH_CREATE_CHILD_SA);
	assert_true(h->m.has_sa);
	assert_int_equal(h->m.sa.p[0].protocol, IKEV2_PROTO_IKE);
	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_rekey_ike_answer(&c, &next, &h->m, &w), 0);
	assert_int_equal(gwh_deliver(&h->x, h->buf, wbuf_len(&w)), 1);
	assert_true(gwh_log_has(&h->x, "(by us)"));
	/* the old SA is deleted by us once the new one is in */
	gw_request(h, &c, IKEV2_EXCH_INFORMATIONAL);
	assert_non_null(codec_msg_find(&h->m, IKEV2_PL_DELETE, 0));
	assert_int_equal(sa_table_count(h->x.gw.sas), 2);
	assert_int_equal(answer(h, &c, NULL, 0, 0), 0);
	assert_int_equal(sa_table_count(h->x.gw.sas), 1);
	assert_true(the_sa(h)->orig_init);
	/* RFC 7296 3.1: we are its original initiator now; the client talks without I */
	send_info(h, &next, &empty);
	assert_int_equal(h->m.hdr.flags & IKEV2_FLAG_INITIATOR, IKEV2_FLAG_INITIATOR);
	assert_int_equal(pool_used(h), 1);
	assert_int_equal(h->x.rec.n_deleted, 0);
	ikei_fini(&next);
	ikei_fini(&c);
}

/* RFC 7296 2.25: a Child SA rekey while our IKE SA rekey is in flight. */
static void test_temporary_failure(void **state)
{
	struct h *h = *state;
	struct ikei c;

	quiet(h);
	h->x.cfg->lifetimes.child = 10 * h->x.cfg->lifetimes.ike;
	connect_client(h, &c);
	advance(h, h->x.cfg->lifetimes.ike * 900ull);
	gw_request(h, &c, IKEV2_EXCH_CREATE_CHILD_SA);
	assert_int_equal(client_rekey_child(h, &c, 0, 0x01020304, NULL), 0);
	assert_int_equal(notify_of(&h->m), IKEV2_N_TEMPORARY_FAILURE);
	ikei_fini(&c);
}

/*
 * RFC 7296 2.8.1: both rekey the Child SA at once.  The gateway answers the client's
 * request as usual; when its own answer arrives, the pair made with the lowest of the
 * four nonces is deleted by whoever made it.  deleted_first: the client, the winner,
 * deletes the old pair before our answer reaches it (strongSwan does exactly that).
 */
static void collision(struct h *h, bool ours_lowest, bool deleted_first)
{
	static const uint8_t low[32] = { 0 }, high[32] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff };
	struct ike_msg *gw_req = malloc(sizeof(*gw_req));
	uint8_t *req_plain = malloc(IKEI_MSG_MAX);
	struct ike_sa *sa;
	struct ikei c;
	uint32_t ours = 0, theirs, old_gw, got[2];
	struct wbuf w;

	assert_non_null(gw_req);
	assert_non_null(req_plain);
	quiet(h);
	connect_client(h, &c);
	old_gw = h->x.rec.added[0].in.spi;
	advance(h, child_rekey_due(h));
	assert_int_equal(ikei_decrypt(&c, gwh_last(&h->x)->msg, gwh_last(&h->x)->len, gw_req, req_plain,
				      IKEI_MSG_MAX), 0);
	/* the client's own rekey crosses ours */
	theirs = client_rekey_child(h, &c, 0, 0x0c0c0c0c, ours_lowest ? high : low);
	assert_int_not_equal(theirs, 0);
	if (deleted_first) {
		struct ikei_info_opts del = { .esp_spis = &c.esp_spi, .n_esp = 1 };

		send_info(h, &c, &del);
		assert_int_equal(delete_spis(&h->m, IKEV2_PROTO_ESP, got, 2), 1);
		assert_int_equal(got[0], old_gw);
		assert_int_equal(h->x.rec.n_deleted, 1);
	}
	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_rekey_child_answer(&c, gw_req, 0x0d0d0d0d, ours_lowest ? low : high,
						 &w, NULL, &ours), 0);
	assert_int_equal(gwh_deliver(&h->x, h->buf, wbuf_len(&w)), 1);
	gw_request(h, &c, IKEV2_EXCH_INFORMATIONAL);
	assert_int_equal(delete_spis(&h->m, IKEV2_PROTO_ESP, got, 2), 1);
	sa = the_sa(h);
	if (ours_lowest) { /* ours is redundant: we delete it, the client's survives */
		assert_int_equal(got[0], ours);
		assert_int_equal(sa->children.cur.spi_in, theirs);
		assert_true(gwh_log_has(&h->x, "is redundant"));
	} else { /* the client's is redundant (it deletes it); we delete the old pair */
		assert_int_equal(got[0], old_gw);
		assert_int_equal(sa->children.cur.spi_in, ours);
		assert_true(gwh_log_has(&h->x, "survives"));
	}
	assert_int_equal(answer_delete_esp(h, &c, ours_lowest ? 0x0d0d0d0d : c.esp_spi), 0);
	assert_int_equal(h->x.rec.n_deleted, deleted_first ? 2 : 1);
	assert_int_equal(ike_sa_children_count(sa), 1);
	free(gw_req);
	free(req_plain);
	ikei_fini(&c);
}

static void test_collision_ours_lowest(void **state)
{
	collision(*state, true, false);
}

static void test_collision_theirs_lowest(void **state)
{
	collision(*state, false, false);
}

static void test_collision_old_deleted_first(void **state)
{
	collision(*state, true, true);
}

/*
 * RFC 7296 2.8.2: the client rekeys the IKE SA while our rekey of it is in flight.  The
 * gateway answers (no TEMPORARY_FAILURE); once both exchanges are done, the new SA made
 * with the lowest of the four nonces is deleted by whoever made it, the other takes the
 * Child SAs (both of them here), and its maker deletes the old SA.  The client's nonces
 * are all-zero or all-ones, so the gateway's random ones fall between.
 */
static void ike_collision(struct h *h, bool we_win)
{
	static const uint8_t low[32] = { 0 };
	uint8_t high[32];
	struct ike_msg *gw_req = malloc(sizeof(*gw_req));
	uint8_t *req_plain = malloc(IKEI_MSG_MAX);
	struct ike_ts half = ts4("10.10.0.128", "10.10.0.255");
	struct ikei_info_opts del = { .delete_ike = true }, empty = { 0 };
	struct ikei c, theirs, ours, *survivor;
	struct wbuf w;

	memset(high, 0xff, sizeof(high));
	assert_non_null(gw_req);
	assert_non_null(req_plain);
	quiet(h);
	h->x.cfg->lifetimes.child = 10 * h->x.cfg->lifetimes.ike;
	connect_client(h, &c);
	assert_int_not_equal(client_child(h, &c, 0, 0x0b0b0b0b, &half), 0);
	advance(h, h->x.cfg->lifetimes.ike * 900ull);
	assert_int_equal(ikei_decrypt(&c, gwh_last(&h->x)->msg, gwh_last(&h->x)->len, gw_req,
				      req_plain, IKEI_MSG_MAX), 0);
	assert_int_equal(gw_req->sa.p[0].protocol, IKEV2_PROTO_IKE);
	/* the client's own rekey crosses ours: answered, its new SA held back */
	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_rekey_ike_build_nonce(&c, &theirs, we_win ? low : high, &w), 0);
	exchange_with(h, &c, &w);
	assert_int_equal(notify_of(&h->m), 0);
	assert_int_equal(ikei_rekey_ike_process(&c, &theirs, &h->m), 0);
	assert_true(gwh_log_has(&h->x, "IKE SA rekey collision"));
	assert_int_equal(sa_table_count(h->x.gw.sas), 2);
	/* then the client answers ours */
	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_rekey_ike_answer_nonce(&c, &ours, gw_req, we_win ? high : low, &w),
			 0);
	assert_int_equal(gwh_deliver(&h->x, h->buf, wbuf_len(&w)), 1);
	assert_int_equal(sa_table_count(h->x.gw.sas), 3);
	if (we_win) {
		/* the client's SA is redundant: it deletes it; we delete the old one */
		gw_request(h, &c, IKEV2_EXCH_INFORMATIONAL);
		assert_non_null(codec_msg_find(&h->m, IKEV2_PL_DELETE, 0));
		assert_true(gwh_log_has(&h->x, "the client's is redundant"));
		assert_int_equal(answer(h, &c, NULL, 0, 0), 0);
		send_info(h, &theirs, &del);
		survivor = &ours;
	} else {
		/* ours is redundant: we delete it; the client deletes the old one */
		gw_request(h, &ours, IKEV2_EXCH_INFORMATIONAL);
		assert_non_null(codec_msg_find(&h->m, IKEV2_PL_DELETE, 0));
		assert_true(gwh_log_has(&h->x, "the client's #"));
		assert_int_equal(answer(h, &ours, NULL, 0, 0), 0);
		send_info(h, &c, &del);
		survivor = &theirs;
	}
	assert_int_equal(sa_table_count(h->x.gw.sas), 1);
	assert_int_equal(the_sa(h)->orig_init, we_win);
	assert_int_equal(ike_sa_children_count(the_sa(h)), 2);
	assert_int_equal(h->x.rec.n_deleted, 0);
	assert_int_equal(pool_used(h), 1);
	/* the survivor works, and its Child SAs go with it, nothing left behind */
	send_info(h, survivor, &empty);
	send_info(h, survivor, &del);
	assert_int_equal(sa_table_count(h->x.gw.sas), 0);
	assert_int_equal(h->x.rec.n_deleted, 2);
	assert_int_equal(pool_used(h), 0);
	assert_int_equal(loop_timer_count(h->x.gw.loop), h->base_timers);
	free(gw_req);
	free(req_plain);
	ikei_fini(&ours);
	ikei_fini(&theirs);
	ikei_fini(&c);
}

static void test_ike_collision_we_win(void **state)
{
	ike_collision(*state, true);
}

static void test_ike_collision_they_win(void **state)
{
	ike_collision(*state, false);
}

/* 2.8.2's special case: the client finished its rekey before it saw ours and refuses
 * ours (TEMPORARY_FAILURE); its new SA takes over and it deletes the old one. */
static void test_ike_collision_client_unaware(void **state)
{
	struct h *h = *state;
	struct ike_msg *gw_req = malloc(sizeof(*gw_req));
	uint8_t *req_plain = malloc(IKEI_MSG_MAX);
	uint8_t inner[16], first = 0;
	struct ikei_info_opts del = { .delete_ike = true };
	struct ikei c, theirs;
	struct codec_enc e;
	struct wbuf w;

	assert_non_null(gw_req);
	assert_non_null(req_plain);
	quiet(h);
	h->x.cfg->lifetimes.child = 10 * h->x.cfg->lifetimes.ike;
	connect_client(h, &c);
	advance(h, h->x.cfg->lifetimes.ike * 900ull);
	assert_int_equal(ikei_decrypt(&c, gwh_last(&h->x)->msg, gwh_last(&h->x)->len, gw_req,
				      req_plain, IKEI_MSG_MAX), 0);
	wbuf_init(&w, h->buf, sizeof(h->buf));
	assert_int_equal(ikei_rekey_ike_build(&c, &theirs, &w), 0);
	exchange_with(h, &c, &w);
	assert_int_equal(ikei_rekey_ike_process(&c, &theirs, &h->m), 0);
	/* TEMPORARY_FAILURE to ours */
	memcpy(&h->m, gw_req, sizeof(h->m));
	wbuf_init(&w, inner, sizeof(inner));
	codec_enc_begin_chain(&e, &w);
	codec_enc_notify(&e, 0, NULL, 0, IKEV2_N_TEMPORARY_FAILURE, NULL, 0);
	assert_int_equal(codec_enc_end_chain(&e, &first), 0);
	assert_int_equal(answer(h, &c, inner, wbuf_len(&w), first), 0);
	assert_true(gwh_log_has(&h->x, "IKE SA rekeyed into #3 (by the client)"));
	send_info(h, &c, &del);
	assert_int_equal(sa_table_count(h->x.gw.sas), 1);
	assert_false(the_sa(h)->orig_init);
	assert_int_equal(ike_sa_children_count(the_sa(h)), 1);
	assert_int_equal(h->x.rec.n_deleted, 0);
	assert_int_equal(advance(h, 60000), 0); /* nothing retried, nothing lingering */
	assert_int_equal(sa_table_count(h->x.gw.sas), 1);
	free(gw_req);
	free(req_plain);
	ikei_fini(&theirs);
	ikei_fini(&c);
}

/* ---- liveness, retransmissions, idle ---- */

/* RFC 7296 2.1, 2.4: the DPD request is sent again at 1, 3 and 7 s, then the peer is
 * dead at 15 s: SA, Child SA, lease and every timer go. */
static void test_dpd_retransmit_give_up(void **state)
{
	struct h *h = *state;
	uint64_t dpd = h->x.cfg->timeouts.dpd * 1000ull;
	const struct gwh_sent *first;
	struct ikei c;

	connect_client(h, &c);
	assert_int_equal(advance(h, dpd - 1), 0);
	assert_int_equal(advance(h, 1), 1);
	first = gwh_last(&h->x);
	gw_request(h, &c, IKEV2_EXCH_INFORMATIONAL);
	assert_int_equal(h->m.n, 1); /* the SK payload only: empty */
	assert_int_equal(advance(h, 999), 0);
	assert_int_equal(advance(h, 1), 1); /* +1 s */
	assert_memory_equal(gwh_last(&h->x)->msg, first->msg, first->len);
	assert_int_equal(advance(h, 1999), 0);
	assert_int_equal(advance(h, 1), 1); /* +2 s */
	assert_int_equal(advance(h, 4000), 1); /* +4 s */
	assert_int_equal(sa_table_count(h->x.gw.sas), 1);
	assert_int_equal(advance(h, 7999), 0);
	assert_int_equal(advance(h, 1), 0); /* +8 s: given up */
	assert_int_equal(sa_table_count(h->x.gw.sas), 0);
	assert_int_equal(pool_used(h), 0);
	assert_true(gwh_rec_deleted(&h->x, h->x.rec.added[0].reqid));
	assert_true(gwh_log_has(&h->x, "peer is dead"));
	assert_int_equal(loop_timer_count(h->x.gw.loop), h->base_timers);
	ikei_fini(&c);
}

static void test_dpd_answered(void **state)
{
	struct h *h = *state;
	uint64_t dpd = h->x.cfg->timeouts.dpd * 1000ull;
	struct ikei c;

	connect_client(h, &c);
	assert_int_equal(advance(h, dpd), 1);
	gw_request(h, &c, IKEV2_EXCH_INFORMATIONAL);
	assert_int_equal(answer(h, &c, NULL, 0, 0), 0);
	assert_int_equal(advance(h, 20000), 0); /* no retransmission after the answer */
	assert_int_equal(sa_table_count(h->x.gw.sas), 1);
	/* the same answer again (stale now) is ignored */
	assert_int_equal(gwh_deliver(&h->x, h->buf, h->len), 0);
	assert_int_equal(advance(h, dpd), 1); /* the next check */
	gw_request(h, &c, IKEV2_EXCH_INFORMATIONAL);
	assert_int_equal(h->m.hdr.msg_id, 1);
	ikei_fini(&c);
}

/* Inbound ESP traffic (dataplane counters) or IKE requests from the client defer DPD. */
static void test_dpd_deferred_by_traffic(void **state)
{
	struct h *h = *state;
	uint64_t dpd = h->x.cfg->timeouts.dpd * 1000ull;
	struct ikei_info_opts empty = { 0 };
	struct ikei c;

	connect_client(h, &c);
	assert_int_equal(advance(h, dpd / 2), 0);
	h->x.rec.last_use_ms = h->x.now;
	h->x.rec.last_in_ms = h->x.now;
	assert_int_equal(advance(h, dpd / 2), 0);
	assert_int_equal(advance(h, dpd / 2 - 1), 0);
	send_info(h, &c, &empty);
	assert_int_equal(advance(h, dpd - 1), 0);
	assert_int_equal(advance(h, 1), 1);
	ikei_fini(&c);
}

/* Only outbound ESP (last_use_ms moves, last_in_ms does not): that is what a gateway
 * sends to a dead peer, so DPD asks all the same; the idle clock counts it though. */
static void test_dpd_outbound_only(void **state)
{
	struct h *h = *state;
	uint64_t dpd = h->x.cfg->timeouts.dpd * 1000ull;
	struct ikei c;

	connect_client(h, &c);
	h->x.rec.last_in_ms = h->x.now;
	assert_int_equal(advance(h, dpd / 2), 0);
	h->x.rec.last_use_ms = h->x.now; /* ours going out */
	assert_int_equal(advance(h, dpd / 2 - 1), 0);
	assert_int_equal(advance(h, 1), 1);
	gw_request(h, &c, IKEV2_EXCH_INFORMATIONAL);
	assert_int_equal(h->m.n, 1); /* the liveness check: empty */
	ikei_fini(&c);
}

static void test_idle_timeout(void **state)
{
	struct h *h = *state;
	uint64_t idle = h->x.cfg->timeouts.idle * 1000ull;
	struct ikei c;

	h->x.cfg->timeouts.dpd = 0;
	connect_client(h, &c);
	h->x.rec.last_use_ms = h->x.now;
	assert_int_equal(advance(h, idle / 2), 0);
	h->x.rec.last_use_ms = h->x.now; /* traffic: the idle clock starts over */
	assert_int_equal(advance(h, idle - 1), 0);
	assert_int_equal(advance(h, 1), 1);
	gw_request(h, &c, IKEV2_EXCH_INFORMATIONAL);
	assert_non_null(codec_msg_find(&h->m, IKEV2_PL_DELETE, 0));
	assert_true(gwh_log_has(&h->x, "idle"));
	assert_int_equal(answer(h, &c, NULL, 0, 0), 0);
	assert_int_equal(sa_table_count(h->x.gw.sas), 0);
	assert_int_equal(pool_used(h), 0);
	assert_int_equal(h->x.rec.n_deleted, 1);
	assert_int_equal(loop_timer_count(h->x.gw.loop), h->base_timers);
	ikei_fini(&c);
}

/* A response nobody asked for, or with the wrong message ID, changes nothing. */
static void test_unexpected_response(void **state)
{
	struct h *h = *state;
	struct ikei c;

	connect_client(h, &c);
	h->m.hdr.exchange = IKEV2_EXCH_INFORMATIONAL;
	h->m.hdr.msg_id = 0;
	assert_int_equal(answer(h, &c, NULL, 0, 0), 0);
	assert_int_equal(advance(h, h->x.cfg->timeouts.dpd * 1000ull), 1);
	h->m.hdr.msg_id = 7;
	assert_int_equal(answer(h, &c, NULL, 0, 0), 0);
	assert_int_equal(advance(h, 1000), 1); /* still unanswered: sent again */
	assert_true(gwh_log_has(&h->x, "unexpected response"));
	ikei_fini(&c);
}

/* A client's Delete while our request is outstanding: answered, everything goes. */
static void test_delete_while_requesting(void **state)
{
	struct h *h = *state;
	struct ikei_info_opts del = { .delete_ike = true };
	struct ikei c;

	connect_client(h, &c);
	assert_int_equal(advance(h, h->x.cfg->timeouts.dpd * 1000ull), 1);
	send_info(h, &c, &del);
	assert_int_equal(sa_table_count(h->x.gw.sas), 0);
	assert_int_equal(loop_timer_count(h->x.gw.loop), h->base_timers);
	assert_int_equal(advance(h, 60000), 0);
	ikei_fini(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_client_child_rekey),
		T(test_client_child_rekey_pfs),
		T(test_client_child_rekey_wrong_group),
		T(test_client_rekey_unknown_child),
		T(test_additional_child),
		T(test_additional_child_outside_allow),
		T(test_additional_child_limit),
		T(test_additional_child_client_rekey),
		T(test_additional_child_deleted),
		T(test_additional_children_freed_with_sa),
		T(test_client_ike_rekey),
		T(test_rekey_before_auth_refused),
		T(test_gw_child_rekey),
		T(test_soft_expire_rekeys),
		T(test_additional_child_gw_rekey),
		T(test_gw_ike_rekey),
		T(test_temporary_failure),
		T(test_collision_ours_lowest),
		T(test_collision_theirs_lowest),
		T(test_collision_old_deleted_first),
		T(test_ike_collision_we_win),
		T(test_ike_collision_they_win),
		T(test_ike_collision_client_unaware),
		T(test_dpd_retransmit_give_up),
		T(test_dpd_answered),
		T(test_dpd_deferred_by_traffic),
		T(test_dpd_outbound_only),
		T(test_idle_timeout),
		T(test_unexpected_response),
		T(test_delete_while_requesting),
#undef T
	};

	return cmocka_run_group_tests_name("lifecycle", tests, NULL, NULL);
}
