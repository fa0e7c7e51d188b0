/* SPDX-License-Identifier: ISC */
/*
 * The XFRM message builders, checked by parsing every message back with libmnl; and the
 * parsers, fed hand-built kernel messages (expire, acquire, ack, SA and policy dumps).
 * The policy reference table (xfrm_pol.c) has its own test_xfrm_pol.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/udp.h>
#include <cmocka.h>

#include "ikegw/ikev2.h"
#include "ikegw/xfrm.h"
#include "support/addr.h"

#define RQ (XFRM_REQID_TAG | 7)

static uint8_t buf[XFRM_MSG_BUFSIZE];

/* --- helpers --- */

static void fill_key(uint8_t *k, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		k[i] = (uint8_t)(seed + i);
}

static void sa_gcm(struct dp_sa *sa, uint16_t keylen)
{
	memset(sa, 0, sizeof(*sa));
	sa->spi = 0xc0ffee01;
	sa->encr_id = IKEV2_ENCR_AES_GCM_16;
	sa->encr_keylen = keylen;
	sa->enc_key_len = (uint8_t)(keylen / 8 + 4);
	fill_key(sa->enc_key, sa->enc_key_len, 0x10);
}

static void sa_cbc(struct dp_sa *sa, uint16_t integ, uint8_t integ_len)
{
	memset(sa, 0, sizeof(*sa));
	sa->spi = 0x01020304;
	sa->encr_id = IKEV2_ENCR_AES_CBC;
	sa->encr_keylen = 128;
	sa->enc_key_len = 16;
	sa->integ_id = integ;
	sa->integ_key_len = integ_len;
	fill_key(sa->enc_key, 16, 0x20);
	fill_key(sa->integ_key, integ_len, 0x40);
}

struct parsed {
	const struct nlmsghdr *nlh;
	const void *body;
	const struct nlattr *tb[XFRMA_MAX + 1];
	int ntmpl;
};

static int attr_cb(const struct nlattr *attr, void *data)
{
	struct parsed *p = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, XFRMA_MAX) < 0)
		return MNL_CB_OK;
	assert_null(p->tb[type]); /* every attribute at most once */
	p->tb[type] = attr;
	return MNL_CB_OK;
}

/* The message in buf: header checks, then every attribute after a body of body_len. */
static void parse(struct parsed *p, uint16_t type, size_t body_len)
{
	memset(p, 0, sizeof(*p));
	p->nlh = (const struct nlmsghdr *)buf;
	assert_int_equal(p->nlh->nlmsg_type, type);
	assert_true(p->nlh->nlmsg_flags & NLM_F_REQUEST);
	assert_true(mnl_nlmsg_ok(p->nlh, (int)sizeof(buf)));
	assert_true(mnl_nlmsg_get_payload_len(p->nlh) >= body_len);
	p->body = mnl_nlmsg_get_payload(p->nlh);
	assert_int_equal(mnl_attr_parse(p->nlh, (unsigned int)body_len, attr_cb, p), MNL_CB_OK);
}

static const struct xfrm_usersa_info *sa_info(const struct parsed *p)
{
	return p->body;
}

/* --- SAs --- */

static void add_gcm(struct sockaddr_storage *src, struct sockaddr_storage *dst,
		    struct dp_sa *sa, bool encap)
{
	struct xfrm_sa_spec s = { .sa = sa, .src = src, .dst = dst, .encap = encap,
				  .reqid = RQ, .soft_s = 3000, .hard_s = 3600,
				  .replay_window = 64 };

	ta_ss4(src, "198.51.100.7", 41000);
	ta_ss4(dst, "192.0.2.1", 4500);
	sa_gcm(sa, 256);
	assert_int_equal(xfrm_msg_sa_add(buf, sizeof(buf), 99, &s), 0);
}

static void test_sa_info_gcm(void **state)
{
	struct sockaddr_storage src, dst;
	struct dp_sa sa;
	struct parsed p;
	const struct xfrm_usersa_info *i;
	struct xfrm_selector zero;

	(void)state;
	add_gcm(&src, &dst, &sa, true);
	parse(&p, XFRM_MSG_NEWSA, sizeof(*i));
	i = sa_info(&p);
	assert_int_equal(p.nlh->nlmsg_seq, 99);
	assert_true(p.nlh->nlmsg_flags & NLM_F_ACK);
	assert_true(p.nlh->nlmsg_flags & NLM_F_EXCL);
	assert_int_equal(ntohl(i->id.spi), 0xc0ffee01);
	assert_int_equal(i->id.proto, IPPROTO_ESP);
	assert_memory_equal(&i->id.daddr.a4, &((struct sockaddr_in *)&dst)->sin_addr, 4);
	assert_memory_equal(&i->saddr.a4, &((struct sockaddr_in *)&src)->sin_addr, 4);
	assert_int_equal(i->family, AF_INET);
	assert_int_equal(i->mode, XFRM_MODE_TUNNEL);
	assert_int_equal(i->reqid, RQ);
	assert_int_equal(i->replay_window, 0);
	assert_int_equal(i->flags, XFRM_STATE_AF_UNSPEC);
	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(&i->sel, &zero, sizeof(zero));
	assert_int_equal(i->lft.soft_add_expires_seconds, 3000);
	assert_int_equal(i->lft.hard_add_expires_seconds, 3600);
	assert_true(i->lft.soft_byte_limit == XFRM_INF);
	assert_true(i->lft.hard_packet_limit == XFRM_INF);
}

static void test_sa_aead_gcm(void **state)
{
	struct sockaddr_storage src, dst;
	struct dp_sa sa;
	struct parsed p;
	const struct xfrm_algo_aead *a;

	(void)state;
	add_gcm(&src, &dst, &sa, false);
	parse(&p, XFRM_MSG_NEWSA, sizeof(struct xfrm_usersa_info));
	assert_non_null(p.tb[XFRMA_ALG_AEAD]);
	assert_null(p.tb[XFRMA_ALG_CRYPT]);
	assert_null(p.tb[XFRMA_ALG_AUTH_TRUNC]);
	assert_null(p.tb[XFRMA_ENCAP]);
	a = mnl_attr_get_payload(p.tb[XFRMA_ALG_AEAD]);
	assert_string_equal(a->alg_name, "rfc4106(gcm(aes))");
	assert_int_equal(a->alg_key_len, 288); /* 256-bit key + 32-bit salt */
	assert_int_equal(a->alg_icv_len, 128);
	assert_int_equal(mnl_attr_get_payload_len(p.tb[XFRMA_ALG_AEAD]), sizeof(*a) + 36);
	assert_memory_equal(a->alg_key, sa.enc_key, 36);
}

static void test_sa_aead_gcm_sizes(void **state)
{
	static const struct { uint16_t id, keylen; unsigned icv, bits; } v[] = {
		{ IKEV2_ENCR_AES_GCM_16, 128, 128, 160 },
		{ IKEV2_ENCR_AES_GCM_12, 192, 96, 224 },
		{ IKEV2_ENCR_AES_GCM_8, 256, 64, 288 },
	};
	struct xfrm_alg alg;
	struct dp_sa sa;
	bool aead;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sa_gcm(&sa, v[i].keylen);
		sa.encr_id = v[i].id;
		assert_int_equal(xfrm_alg_encr(&sa, &alg, &aead), 0);
		assert_true(aead);
		assert_int_equal(alg.icv_bits, v[i].icv);
		assert_int_equal(alg.key_bits, v[i].bits);
	}
}

static void test_sa_aead_chacha(void **state)
{
	struct sockaddr_storage src, dst;
	struct dp_sa sa;
	struct xfrm_sa_spec s = { .sa = &sa, .src = &src, .dst = &dst, .reqid = RQ };
	struct parsed p;
	const struct xfrm_algo_aead *a;

	(void)state;
	ta_ss4(&src, "192.0.2.1", 0);
	ta_ss4(&dst, "198.51.100.7", 0);
	memset(&sa, 0, sizeof(sa));
	sa.spi = 0x1000;
	sa.encr_id = IKEV2_ENCR_CHACHA20_POLY1305;
	sa.encr_keylen = 256;
	sa.enc_key_len = 36;
	fill_key(sa.enc_key, 36, 1);
	assert_int_equal(xfrm_msg_sa_add(buf, sizeof(buf), 1, &s), 0);
	parse(&p, XFRM_MSG_NEWSA, sizeof(struct xfrm_usersa_info));
	a = mnl_attr_get_payload(p.tb[XFRMA_ALG_AEAD]);
	assert_string_equal(a->alg_name, "rfc7539esp(chacha20,poly1305)");
	assert_int_equal(a->alg_key_len, 288);
	assert_int_equal(a->alg_icv_len, 128);
	assert_memory_equal(a->alg_key, sa.enc_key, 36);
}

static void test_sa_cbc_hmac(void **state)
{
	static const struct { uint16_t id; uint8_t len; const char *name; unsigned trunc; } v[] = {
		{ IKEV2_INTEG_HMAC_SHA2_256_128, 32, "hmac(sha256)", 128 },
		{ IKEV2_INTEG_HMAC_SHA2_384_192, 48, "hmac(sha384)", 192 },
		{ IKEV2_INTEG_HMAC_SHA2_512_256, 64, "hmac(sha512)", 256 },
		{ IKEV2_INTEG_HMAC_SHA1_96, 20, "hmac(sha1)", 96 },
	};
	struct sockaddr_storage src, dst;
	struct dp_sa sa;
	struct xfrm_sa_spec s = { .sa = &sa, .src = &src, .dst = &dst, .reqid = RQ };
	struct parsed p;

	(void)state;
	ta_ss4(&src, "192.0.2.1", 0);
	ta_ss4(&dst, "198.51.100.7", 0);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const struct xfrm_algo *c;
		const struct xfrm_algo_auth *h;

		sa_cbc(&sa, v[i].id, v[i].len);
		assert_int_equal(xfrm_msg_sa_add(buf, sizeof(buf), 1, &s), 0);
		parse(&p, XFRM_MSG_NEWSA, sizeof(struct xfrm_usersa_info));
		assert_null(p.tb[XFRMA_ALG_AEAD]);
		c = mnl_attr_get_payload(p.tb[XFRMA_ALG_CRYPT]);
		assert_string_equal(c->alg_name, "cbc(aes)");
		assert_int_equal(c->alg_key_len, 128);
		assert_memory_equal(c->alg_key, sa.enc_key, 16);
		h = mnl_attr_get_payload(p.tb[XFRMA_ALG_AUTH_TRUNC]);
		assert_string_equal(h->alg_name, v[i].name);
		assert_int_equal(h->alg_key_len, v[i].len * 8);
		assert_int_equal(h->alg_trunc_len, v[i].trunc);
		assert_int_equal(mnl_attr_get_payload_len(p.tb[XFRMA_ALG_AUTH_TRUNC]),
				 sizeof(*h) + v[i].len);
		assert_memory_equal(h->alg_key, sa.integ_key, v[i].len);
	}
}

static void test_sa_aes_ctr(void **state)
{
	struct xfrm_alg alg;
	struct dp_sa sa;
	bool aead;

	(void)state;
	sa_cbc(&sa, IKEV2_INTEG_HMAC_SHA2_256_128, 32);
	sa.encr_id = IKEV2_ENCR_AES_CTR;
	sa.enc_key_len = 20; /* key + RFC 3686 nonce */
	assert_int_equal(xfrm_alg_encr(&sa, &alg, &aead), 0);
	assert_false(aead);
	assert_string_equal(alg.name, "rfc3686(ctr(aes))");
	assert_int_equal(alg.key_bits, 160);
}

static void test_sa_encap(void **state)
{
	struct sockaddr_storage src, dst;
	struct dp_sa sa;
	struct parsed p;
	const struct xfrm_encap_tmpl *e;

	(void)state;
	add_gcm(&src, &dst, &sa, true);
	parse(&p, XFRM_MSG_NEWSA, sizeof(struct xfrm_usersa_info));
	assert_int_equal(mnl_attr_get_payload_len(p.tb[XFRMA_ENCAP]), sizeof(*e));
	e = mnl_attr_get_payload(p.tb[XFRMA_ENCAP]);
	assert_int_equal(e->encap_type, UDP_ENCAP_ESPINUDP);
	assert_int_equal(ntohs(e->encap_sport), 41000); /* the client's NAT-mapped port */
	assert_int_equal(ntohs(e->encap_dport), 4500);
}

static void test_sa_replay(void **state)
{
	struct sockaddr_storage src, dst;
	struct dp_sa sa;
	struct xfrm_sa_spec s = { .sa = &sa, .src = &src, .dst = &dst, .reqid = RQ,
				  .replay_window = 64 };
	struct parsed p;
	const struct xfrm_replay_state_esn *r;

	(void)state;
	add_gcm(&src, &dst, &sa, false);
	parse(&p, XFRM_MSG_NEWSA, sizeof(struct xfrm_usersa_info));
	r = mnl_attr_get_payload(p.tb[XFRMA_REPLAY_ESN_VAL]);
	assert_int_equal(r->replay_window, 64);
	assert_int_equal(r->bmp_len, 2);
	assert_int_equal(mnl_attr_get_payload_len(p.tb[XFRMA_REPLAY_ESN_VAL]), sizeof(*r) + 8);

	sa.esn = true;
	s.replay_window = 0; /* the kernel wants a window with ESN: we pick one */
	assert_int_equal(xfrm_msg_sa_add(buf, sizeof(buf), 1, &s), 0);
	parse(&p, XFRM_MSG_NEWSA, sizeof(struct xfrm_usersa_info));
	assert_int_equal(sa_info(&p)->flags, XFRM_STATE_AF_UNSPEC | XFRM_STATE_ESN);
	r = mnl_attr_get_payload(p.tb[XFRMA_REPLAY_ESN_VAL]);
	assert_int_equal(r->replay_window, 32);
	assert_int_equal(r->bmp_len, 1);

	s.replay_window = 1u << 20; /* capped at the kernel's largest bitmap */
	assert_int_equal(xfrm_msg_sa_add(buf, sizeof(buf), 1, &s), 0);
	parse(&p, XFRM_MSG_NEWSA, sizeof(struct xfrm_usersa_info));
	r = mnl_attr_get_payload(p.tb[XFRMA_REPLAY_ESN_VAL]);
	assert_int_equal(r->replay_window, 4096);
	assert_int_equal(r->bmp_len, 128);
}

static void test_sa_ipv6(void **state)
{
	struct sockaddr_storage src, dst;
	struct dp_sa sa;
	struct xfrm_sa_spec s = { .sa = &sa, .src = &src, .dst = &dst, .reqid = RQ, .encap = true };
	struct parsed p;
	const struct xfrm_usersa_info *i;

	(void)state;
	ta_ss6(&src, "2001:db8::1", 4500);
	ta_ss6(&dst, "2001:db8:1::7", 4500);
	sa_gcm(&sa, 128);
	assert_int_equal(xfrm_msg_sa_add(buf, sizeof(buf), 1, &s), 0);
	parse(&p, XFRM_MSG_NEWSA, sizeof(*i));
	i = sa_info(&p);
	assert_int_equal(i->family, AF_INET6);
	assert_memory_equal(i->id.daddr.a6, &((struct sockaddr_in6 *)&dst)->sin6_addr, 16);
	assert_memory_equal(i->saddr.a6, &((struct sockaddr_in6 *)&src)->sin6_addr, 16);
	assert_non_null(p.tb[XFRMA_ENCAP]);
}

static void test_sa_bad(void **state)
{
	struct sockaddr_storage src, dst, six;
	struct dp_sa sa;
	struct xfrm_sa_spec s = { .sa = &sa, .src = &src, .dst = &dst, .reqid = RQ };

	(void)state;
	ta_ss4(&src, "192.0.2.1", 0);
	ta_ss4(&dst, "198.51.100.7", 0);
	ta_ss6(&six, "2001:db8::1", 0);
	sa_gcm(&sa, 256);
	sa.enc_key_len = 32; /* salt missing */
	assert_int_equal(xfrm_msg_sa_add(buf, sizeof(buf), 1, &s), -EINVAL);
	sa_gcm(&sa, 200);
	assert_int_equal(xfrm_msg_sa_add(buf, sizeof(buf), 1, &s), -EINVAL);
	sa_gcm(&sa, 128);
	sa.integ_id = IKEV2_INTEG_HMAC_SHA2_256_128; /* AEAD takes no integrity transform */
	assert_int_equal(xfrm_msg_sa_add(buf, sizeof(buf), 1, &s), -EINVAL);
	sa_cbc(&sa, IKEV2_INTEG_HMAC_SHA2_256_128, 20);
	assert_int_equal(xfrm_msg_sa_add(buf, sizeof(buf), 1, &s), -EINVAL);
	sa_cbc(&sa, IKEV2_INTEG_HMAC_MD5_96, 16);
	assert_int_equal(xfrm_msg_sa_add(buf, sizeof(buf), 1, &s), -ENOTSUP);
	sa_cbc(&sa, IKEV2_INTEG_HMAC_SHA2_256_128, 32);
	sa.encr_id = IKEV2_ENCR_3DES;
	assert_int_equal(xfrm_msg_sa_add(buf, sizeof(buf), 1, &s), -ENOTSUP);
	sa_cbc(&sa, IKEV2_INTEG_HMAC_SHA2_256_128, 32);
	sa.enc_key_len = DP_KEY_MAX + 1;
	assert_int_equal(xfrm_msg_sa_add(buf, sizeof(buf), 1, &s), -EINVAL);
	sa_cbc(&sa, IKEV2_INTEG_HMAC_SHA2_256_128, 32);
	sa.spi = 255; /* RFC 4303 2.1: reserved */
	assert_int_equal(xfrm_msg_sa_add(buf, sizeof(buf), 1, &s), -EINVAL);
	sa.spi = 0x1000;
	s.reqid = 7; /* not tagged as ours */
	assert_int_equal(xfrm_msg_sa_add(buf, sizeof(buf), 1, &s), -EINVAL);
	s.reqid = RQ;
	s.dst = &six;
	assert_int_equal(xfrm_msg_sa_add(buf, sizeof(buf), 1, &s), -EINVAL);
	s.dst = &dst;
	s.encap = true; /* ports 0 */
	assert_int_equal(xfrm_msg_sa_add(buf, sizeof(buf), 1, &s), -EINVAL);
	s.encap = false;
	assert_int_equal(xfrm_msg_sa_add(buf, 100, 1, &s), -ENOBUFS);
	assert_int_equal(xfrm_msg_sa_add(buf, 8, 1, &s), -ENOBUFS);
	assert_int_equal(xfrm_msg_sa_add(buf, 300, 1, &s), -ENOBUFS); /* fits info, not algs */
	assert_int_equal(xfrm_msg_sa_add(buf, sizeof(buf), 1, &s), 0);
}

static void test_sa_id_msgs(void **state)
{
	struct sockaddr_storage dst;
	struct parsed p;
	const struct xfrm_usersa_id *id;
	struct xfrm_usersa_id in;

	(void)state;
	ta_ss4(&dst, "192.0.2.1", 4500);
	assert_int_equal(xfrm_msg_sa_id(buf, sizeof(buf), 5, XFRM_MSG_DELSA, &dst, 0xabcd), 0);
	parse(&p, XFRM_MSG_DELSA, sizeof(*id));
	id = p.body;
	assert_int_equal(ntohl(id->spi), 0xabcd);
	assert_int_equal(id->family, AF_INET);
	assert_int_equal(id->proto, IPPROTO_ESP);
	assert_memory_equal(&id->daddr.a4, &((struct sockaddr_in *)&dst)->sin_addr, 4);
	assert_int_equal(xfrm_msg_sa_id(buf, sizeof(buf), 5, XFRM_MSG_GETSA, &dst, 1), 0);
	parse(&p, XFRM_MSG_GETSA, sizeof(*id));
	assert_int_equal(xfrm_msg_sa_id(buf, sizeof(buf), 5, XFRM_MSG_NEWSA, &dst, 1), -EINVAL);
	assert_int_equal(xfrm_msg_sa_id(buf, 20, 5, XFRM_MSG_DELSA, &dst, 1), -ENOBUFS);

	memset(&in, 0, sizeof(in));
	in.spi = htonl(77);
	in.family = AF_INET6;
	in.proto = IPPROTO_ESP;
	assert_int_equal(xfrm_msg_sa_del_id(buf, sizeof(buf), 6, &in), 0);
	parse(&p, XFRM_MSG_DELSA, sizeof(in));
	assert_memory_equal(p.body, &in, sizeof(in));

	assert_int_equal(xfrm_msg_dump(buf, sizeof(buf), 8, XFRM_MSG_GETSA), 0);
	parse(&p, XFRM_MSG_GETSA, 0);
	assert_true(p.nlh->nlmsg_flags & NLM_F_DUMP);
	assert_int_equal(p.nlh->nlmsg_len, MNL_NLMSG_HDRLEN);
	assert_int_equal(xfrm_msg_dump(buf, sizeof(buf), 8, XFRM_MSG_GETPOLICY), 0);
	assert_int_equal(xfrm_msg_dump(buf, sizeof(buf), 8, XFRM_MSG_DELSA), -EINVAL);
}

/* --- policies --- */

struct pol_fixture {
	struct sockaddr_storage local, peer;
	struct dp_prefix vip, net;
};

static void pol_fixture(struct pol_fixture *f)
{
	ta_ss4(&f->local, "192.0.2.1", 4500);
	ta_ss4(&f->peer, "198.51.100.7", 41000);
	ta_pfx(&f->vip, AF_INET, "10.99.0.7", 32);
	ta_pfx(&f->net, AF_INET, "10.0.0.77", 24); /* host bits set on purpose */
}

static void check_tmpl(const struct parsed *p, const struct sockaddr_storage *src,
		       const struct sockaddr_storage *dst)
{
	const struct xfrm_user_tmpl *t;

	assert_int_equal(mnl_attr_get_payload_len(p->tb[XFRMA_TMPL]), sizeof(*t));
	t = mnl_attr_get_payload(p->tb[XFRMA_TMPL]);
	assert_memory_equal(&t->saddr.a4, &((const struct sockaddr_in *)src)->sin_addr, 4);
	assert_memory_equal(&t->id.daddr.a4, &((const struct sockaddr_in *)dst)->sin_addr, 4);
	assert_int_equal(t->id.proto, IPPROTO_ESP);
	assert_int_equal(t->id.spi, 0);
	assert_int_equal(t->family, AF_INET);
	assert_int_equal(t->reqid, RQ);
	assert_int_equal(t->mode, XFRM_MODE_TUNNEL);
	assert_int_equal(t->optional, 0);
	assert_int_equal(t->ealgos, ~0u);
}

static void test_policy_out(void **state)
{
	struct pol_fixture f;
	struct xfrm_pol_spec s;
	struct parsed p;
	const struct xfrm_userpolicy_info *i;
	uint8_t net0[4] = { 10, 0, 0, 0 };

	(void)state;
	pol_fixture(&f);
	s = (struct xfrm_pol_spec){ XFRM_POLICY_OUT, &f.net, &f.vip, &f.local, &f.peer, RQ };
	assert_int_equal(xfrm_msg_policy_add(buf, sizeof(buf), 3, &s, false), 0);
	parse(&p, XFRM_MSG_NEWPOLICY, sizeof(*i));
	i = p.body;
	assert_true(p.nlh->nlmsg_flags & NLM_F_ACK);
	assert_int_equal(i->dir, XFRM_POLICY_OUT);
	assert_int_equal(i->action, XFRM_POLICY_ALLOW);
	assert_int_equal(i->sel.family, AF_INET);
	assert_int_equal(i->sel.prefixlen_s, 24);
	assert_int_equal(i->sel.prefixlen_d, 32);
	assert_memory_equal(&i->sel.saddr.a4, net0, 4);
	assert_memory_equal(&i->sel.daddr.a4, f.vip.addr, 4);
	assert_int_equal(i->sel.proto, 0);
	assert_int_equal(i->priority, XFRM_PRIO_BASE + 256 - 56);
	assert_true(i->lft.hard_byte_limit == XFRM_INF);
	check_tmpl(&p, &f.local, &f.peer);

	assert_int_equal(xfrm_msg_policy_add(buf, sizeof(buf), 3, &s, true), 0);
	parse(&p, XFRM_MSG_UPDPOLICY, sizeof(*i));
}

static void test_policy_in_fwd(void **state)
{
	static const uint8_t dirs[] = { XFRM_POLICY_IN, XFRM_POLICY_FWD };
	struct pol_fixture f;
	struct xfrm_pol_spec s;
	struct parsed p;
	const struct xfrm_userpolicy_info *i;

	(void)state;
	pol_fixture(&f);
	ta_pfx(&f.net, AF_INET, "0.0.0.0", 0); /* full tunnel */
	for (size_t k = 0; k < 2; k++) {
		s = (struct xfrm_pol_spec){ dirs[k], &f.vip, &f.net, &f.peer, &f.local, RQ };
		assert_int_equal(xfrm_msg_policy_add(buf, sizeof(buf), 3, &s, false), 0);
		parse(&p, XFRM_MSG_NEWPOLICY, sizeof(*i));
		i = p.body;
		assert_int_equal(i->dir, dirs[k]);
		assert_int_equal(i->sel.prefixlen_s, 32);
		assert_int_equal(i->sel.prefixlen_d, 0);
		assert_memory_equal(&i->sel.saddr.a4, f.vip.addr, 4);
		assert_int_equal(i->priority, XFRM_PRIO_BASE + 256 - 32);
		check_tmpl(&p, &f.peer, &f.local);
	}
}

static void test_policy_ipv6_inner(void **state)
{
	struct pol_fixture f;
	struct dp_prefix vip6, net6;
	struct xfrm_pol_spec s;
	struct parsed p;
	const struct xfrm_userpolicy_info *i;
	const struct xfrm_user_tmpl *t;
	uint8_t want[16] = { 0xfd, 0, 0, 0x10 };

	(void)state;
	pol_fixture(&f); /* IPv6 inside an IPv4 tunnel */
	ta_pfx(&vip6, AF_INET6, "fd00:99::7", 128);
	ta_pfx(&net6, AF_INET6, "fd00:10::ffff", 33);
	s = (struct xfrm_pol_spec){ XFRM_POLICY_OUT, &net6, &vip6, &f.local, &f.peer, RQ };
	assert_int_equal(xfrm_msg_policy_add(buf, sizeof(buf), 3, &s, false), 0);
	parse(&p, XFRM_MSG_NEWPOLICY, sizeof(*i));
	i = p.body;
	assert_int_equal(i->sel.family, AF_INET6);
	assert_int_equal(i->sel.prefixlen_s, 33);
	assert_memory_equal(i->sel.saddr.a6, want, 16);
	t = mnl_attr_get_payload(p.tb[XFRMA_TMPL]);
	assert_int_equal(t->family, AF_INET);
}

static void test_policy_del(void **state)
{
	struct pol_fixture f;
	struct xfrm_pol_spec s;
	struct parsed p;
	const struct xfrm_userpolicy_id *id;

	(void)state;
	pol_fixture(&f);
	s = (struct xfrm_pol_spec){ XFRM_POLICY_FWD, &f.vip, &f.net, &f.peer, &f.local, RQ };
	assert_int_equal(xfrm_msg_policy_del(buf, sizeof(buf), 4, &s), 0);
	parse(&p, XFRM_MSG_DELPOLICY, sizeof(*id));
	id = p.body;
	assert_int_equal(id->dir, XFRM_POLICY_FWD);
	assert_int_equal(id->index, 0);
	assert_int_equal(id->sel.prefixlen_d, 24);
	assert_int_equal(id->sel.family, AF_INET);
	assert_null(p.tb[XFRMA_TMPL]);

	assert_int_equal(xfrm_msg_policy_del_index(buf, sizeof(buf), 4, 0x1234, XFRM_POLICY_IN),
			 0);
	parse(&p, XFRM_MSG_DELPOLICY, sizeof(*id));
	id = p.body;
	assert_int_equal(id->index, 0x1234);
	assert_int_equal(id->dir, XFRM_POLICY_IN);
	assert_int_equal(xfrm_msg_policy_del_index(buf, sizeof(buf), 4, 0, 0), -EINVAL);
}

static void test_policy_bad(void **state)
{
	struct pol_fixture f;
	struct dp_prefix v6, bad;
	struct sockaddr_storage six;
	struct xfrm_pol_spec s;

	(void)state;
	pol_fixture(&f);
	ta_pfx(&v6, AF_INET6, "fd00::1", 128);
	ta_ss6(&six, "2001:db8::1", 0);
	s = (struct xfrm_pol_spec){ 7, &f.net, &f.vip, &f.local, &f.peer, RQ };
	assert_int_equal(xfrm_msg_policy_add(buf, sizeof(buf), 1, &s, false), -EINVAL);
	assert_int_equal(xfrm_msg_policy_del(buf, sizeof(buf), 1, &s), -EINVAL);
	s.dir = XFRM_POLICY_OUT;
	s.src = &v6; /* selector families differ */
	assert_int_equal(xfrm_msg_policy_add(buf, sizeof(buf), 1, &s, false), -EINVAL);
	bad = f.vip;
	bad.plen = 33;
	s.src = &bad;
	assert_int_equal(xfrm_msg_policy_add(buf, sizeof(buf), 1, &s, false), -EINVAL);
	s.src = &f.net;
	s.tmpl_dst = &six; /* template families differ */
	assert_int_equal(xfrm_msg_policy_add(buf, sizeof(buf), 1, &s, false), -EINVAL);
	s.tmpl_dst = &f.peer;
	s.reqid = 7;
	assert_int_equal(xfrm_msg_policy_add(buf, sizeof(buf), 1, &s, false), -EINVAL);
	s.reqid = RQ;
	assert_int_equal(xfrm_msg_policy_add(buf, 200, 1, &s, false), -ENOBUFS);
}

/* --- moving an SA --- */

/* What GETSA would answer: our own NEWSA plus a LASTUSED and a foreign attribute. */
static void fake_getsa(uint8_t *out, size_t len)
{
	struct sockaddr_storage src, dst;
	struct dp_sa sa;
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct xfrm_usersa_info *i = mnl_nlmsg_get_payload(nlh);

	add_gcm(&src, &dst, &sa, true);
	i->curlft.bytes = 123456;
	i->curlft.add_time = 1700000000;
	i->stats.replay = 3;
	i->stats.integrity_failed = 4;
	i->replay_window = 32; /* what a kernel may report beside XFRMA_REPLAY_ESN_VAL */
	mnl_attr_put_u64(nlh, XFRMA_LASTUSED, 1700000100);
	mnl_attr_put(nlh, XFRMA_ALG_AUTH, 8, "hmac(x)");
	mnl_attr_put_u32(nlh, XFRMA_OUTPUT_MARK, 9);
	assert_true(nlh->nlmsg_len <= len);
	memcpy(out, buf, nlh->nlmsg_len);
}

static void test_sa_move(void **state)
{
	uint8_t got[XFRM_MSG_BUFSIZE];
	struct sockaddr_storage src, dst;
	struct parsed p;
	const struct xfrm_usersa_info *i;
	const struct xfrm_encap_tmpl *e;
	const struct xfrm_lifetime_cur *cur;
	const struct xfrm_algo_aead *a;

	(void)state;
	fake_getsa(got, sizeof(got));
	ta_ss4(&src, "203.0.113.9", 50000); /* the client moved */
	ta_ss4(&dst, "192.0.2.1", 4500);
	assert_int_equal(xfrm_msg_sa_move(buf, sizeof(buf), 11, XFRM_MSG_NEWSA,
					  (const struct nlmsghdr *)got, &src, &dst, true), 0);
	parse(&p, XFRM_MSG_NEWSA, sizeof(*i));
	i = sa_info(&p);
	assert_memory_equal(&i->saddr.a4, &((struct sockaddr_in *)&src)->sin_addr, 4);
	assert_int_equal(ntohl(i->id.spi), 0xc0ffee01);
	assert_int_equal(i->reqid, RQ);
	assert_int_equal(i->replay_window, 0);
	assert_null(p.tb[XFRMA_ALG_AUTH]);
	a = mnl_attr_get_payload(p.tb[XFRMA_ALG_AEAD]);
	assert_string_equal(a->alg_name, "rfc4106(gcm(aes))");
	assert_non_null(p.tb[XFRMA_REPLAY_ESN_VAL]);
	assert_null(p.tb[XFRMA_LASTUSED]);
	assert_null(p.tb[XFRMA_OUTPUT_MARK]);
	e = mnl_attr_get_payload(p.tb[XFRMA_ENCAP]);
	assert_int_equal(ntohs(e->encap_sport), 50000);
	cur = mnl_attr_get_payload(p.tb[XFRMA_LTIME_VAL]);
	assert_true(cur->bytes == 123456);
	assert_true(cur->add_time == 1700000000);

	assert_int_equal(xfrm_msg_sa_move(buf, sizeof(buf), 11, XFRM_MSG_UPDSA,
					  (const struct nlmsghdr *)got, &src, &dst, false), 0);
	parse(&p, XFRM_MSG_UPDSA, sizeof(*i));
	assert_null(p.tb[XFRMA_ENCAP]);
	assert_int_equal(xfrm_msg_sa_move(buf, sizeof(buf), 11, XFRM_MSG_DELSA,
					  (const struct nlmsghdr *)got, &src, &dst, false), -EINVAL);
	assert_int_equal(xfrm_msg_sa_move(buf, 300, 11, XFRM_MSG_NEWSA,
					  (const struct nlmsghdr *)got, &src, &dst, false), -ENOBUFS);
}

/* --- parsers --- */

static struct nlmsghdr *fake_msg(uint16_t type, const void *body, size_t len)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	memcpy(mnl_nlmsg_put_extra_header(nlh, len), body, len);
	return nlh;
}

static void test_parse_expire(void **state)
{
	struct xfrm_user_expire ue;
	struct xfrm_expire e;
	struct nlmsghdr *nlh;

	(void)state;
	memset(&ue, 0, sizeof(ue));
	ue.state.reqid = RQ;
	ue.state.id.spi = htonl(0xdeadbeef);
	ue.hard = 1;
	nlh = fake_msg(XFRM_MSG_EXPIRE, &ue, sizeof(ue));
	assert_int_equal(xfrm_msg_parse_expire(nlh, &e), 0);
	assert_int_equal(e.reqid, RQ);
	assert_true(xfrm_reqid_owned(e.reqid));
	assert_int_equal(e.spi, 0xdeadbeef);
	assert_true(e.hard);
	ue.hard = 0;
	nlh = fake_msg(XFRM_MSG_EXPIRE, &ue, sizeof(ue));
	assert_int_equal(xfrm_msg_parse_expire(nlh, &e), 0);
	assert_false(e.hard);

	nlh = fake_msg(XFRM_MSG_EXPIRE, &ue, sizeof(ue) - 8); /* truncated */
	assert_int_equal(xfrm_msg_parse_expire(nlh, &e), -EINVAL);
	nlh = fake_msg(XFRM_MSG_POLEXPIRE, &ue, sizeof(ue));
	assert_int_equal(xfrm_msg_parse_expire(nlh, &e), -EINVAL);
}

static void test_parse_acquire(void **state)
{
	struct xfrm_user_acquire acq;
	struct xfrm_user_tmpl t;
	struct nlmsghdr *nlh;
	uint32_t reqid = 0;

	(void)state;
	memset(&acq, 0, sizeof(acq));
	memset(&t, 0, sizeof(t));
	t.reqid = RQ;
	nlh = fake_msg(XFRM_MSG_ACQUIRE, &acq, sizeof(acq));
	assert_int_equal(xfrm_msg_parse_acquire(nlh, &reqid), -EINVAL); /* no template */
	mnl_attr_put(nlh, XFRMA_TMPL, sizeof(t), &t);
	assert_int_equal(xfrm_msg_parse_acquire(nlh, &reqid), 0);
	assert_int_equal(reqid, RQ);

	nlh = fake_msg(XFRM_MSG_ACQUIRE, &acq, sizeof(acq));
	mnl_attr_put(nlh, XFRMA_TMPL, 8, &t); /* short template */
	assert_int_equal(xfrm_msg_parse_acquire(nlh, &reqid), -EINVAL);
	nlh = fake_msg(XFRM_MSG_ACQUIRE, &acq, 16);
	assert_int_equal(xfrm_msg_parse_acquire(nlh, &reqid), -EINVAL);
}

/* An NLMSG_ERROR as the kernel builds it: nlmsgerr, echoed payload unless capped, TLVs. */
static struct nlmsghdr *fake_ack(int error, bool capped, const char *text)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlmsgerr e = { .error = error };
	uint8_t echo[24] = { 0 };

	nlh->nlmsg_type = NLMSG_ERROR;
	e.msg.nlmsg_len = MNL_NLMSG_HDRLEN + sizeof(echo);
	e.msg.nlmsg_type = XFRM_MSG_NEWSA;
	memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(e)), &e, sizeof(e));
	if (!capped)
		mnl_nlmsg_put_extra_header(nlh, sizeof(echo));
	if (text != NULL) {
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS | (capped ? NLM_F_CAPPED : 0);
		mnl_attr_put_u32(nlh, NLMSGERR_ATTR_OFFS, 16);
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, text);
	}
	return nlh;
}

static void test_parse_ack(void **state)
{
	char why[64];
	char tiny[8];

	(void)state;
	assert_int_equal(xfrm_msg_parse_ack(fake_ack(0, true, NULL), why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_int_equal(xfrm_msg_parse_ack(fake_ack(-EPROTONOSUPPORT, false,
						     "Requested type not found"), why, sizeof(why)),
			 -EPROTONOSUPPORT);
	assert_string_equal(why, "Requested type not found");
	assert_int_equal(xfrm_msg_parse_ack(fake_ack(-ENOSYS, true,
						     "Requested AEAD algorithm not found"),
					    why, sizeof(why)), -ENOSYS);
	assert_string_equal(why, "Requested AEAD algorithm not found");
	assert_int_equal(xfrm_msg_parse_ack(fake_ack(-EEXIST, true, "a long kernel text"),
					    tiny, sizeof(tiny)), -EEXIST);
	assert_string_equal(tiny, "a long ");
	assert_int_equal(xfrm_msg_parse_ack(fake_ack(-EINVAL, false, NULL), why, sizeof(why)),
			 -EINVAL);
	assert_int_equal(xfrm_msg_parse_ack(fake_ack(1, true, NULL), why, sizeof(why)),
			 -EBADMSG);
	assert_int_equal(xfrm_msg_parse_ack(fake_msg(NLMSG_ERROR, "\0\0", 2), why, sizeof(why)),
			 -EBADMSG);
	assert_int_equal(xfrm_msg_parse_ack(fake_msg(NLMSG_DONE, "\0\0\0\0", 4), why,
					    sizeof(why)), -EBADMSG);
}

static void test_parse_sa(void **state)
{
	uint8_t got[XFRM_MSG_BUFSIZE];
	struct xfrm_sa_stats st;

	(void)state;
	fake_getsa(got, sizeof(got));
	assert_int_equal(xfrm_msg_parse_sa((const struct nlmsghdr *)got, &st), 0);
	assert_int_equal(st.reqid, RQ);
	assert_true(st.bytes == 123456);
	assert_int_equal(st.replay_drops, 3);
	assert_int_equal(st.auth_drops, 4);
	assert_true(st.last_used_s == 1700000100);
	assert_int_equal(ntohl(st.id.spi), 0xc0ffee01);
	assert_int_equal(st.id.family, AF_INET);
	assert_int_equal(st.id.proto, IPPROTO_ESP);
	assert_int_equal(xfrm_msg_parse_sa(fake_msg(XFRM_MSG_NEWSA, got, 64), &st), -EINVAL);
}

static void test_parse_policy(void **state)
{
	struct pol_fixture f;
	struct xfrm_pol_spec s;
	struct xfrm_userpolicy_id id;
	struct xfrm_userpolicy_info *i;
	uint32_t reqid;

	(void)state;
	pol_fixture(&f);
	s = (struct xfrm_pol_spec){ XFRM_POLICY_IN, &f.vip, &f.net, &f.peer, &f.local, RQ };
	assert_int_equal(xfrm_msg_policy_add(buf, sizeof(buf), 3, &s, false), 0);
	/* The kernel's dump answer has the same shape, with its index filled in. */
	((struct nlmsghdr *)buf)->nlmsg_type = XFRM_MSG_NEWPOLICY;
	i = mnl_nlmsg_get_payload((struct nlmsghdr *)buf);
	i->index = 0x88;
	assert_int_equal(xfrm_msg_parse_policy((const struct nlmsghdr *)buf, &id, &reqid), 0);
	assert_int_equal(reqid, RQ);
	assert_int_equal(id.index, 0x88);
	assert_int_equal(id.dir, XFRM_POLICY_IN);
	assert_int_equal(id.sel.prefixlen_s, 32);
	assert_int_equal(xfrm_msg_parse_policy(fake_msg(XFRM_MSG_NEWPOLICY, "", 1), &id, &reqid),
			 -EINVAL);
}

/* Counters of a pair: last use from either SA, last inbound use from the inbound one. */
static void test_counters(void **state)
{
	struct xfrm_sa_stats in = { .bytes = 10, .packets = 1, .replay_drops = 2,
				    .auth_drops = 3, .last_used_s = 1000 };
	struct xfrm_sa_stats out = { .bytes = 20, .packets = 2, .last_used_s = 1005 };
	struct dp_counters c;

	(void)state;
	xfrm_msg_counters(&in, &out, 1010, 50000, &c);
	assert_true(c.bytes_in == 10 && c.packets_in == 1 && c.bytes_out == 20 &&
		    c.packets_out == 2 && c.replay_drops == 2 && c.auth_drops == 3);
	assert_true(c.last_use_ms == 45000); /* 5 s ago on the loop clock */
	assert_true(c.last_in_ms == 40000);  /* 10 s ago */
	/* only outbound traffic: nothing heard from the peer */
	in.last_used_s = 0;
	xfrm_msg_counters(&in, &out, 1010, 50000, &c);
	assert_true(c.last_in_ms == 0 && c.last_use_ms == 45000);
	/* older than the loop clock: long ago, but not "never" */
	in.last_used_s = 1000;
	xfrm_msg_counters(&in, &out, 1010, 3000, &c);
	assert_true(c.last_in_ms == 1 && c.last_use_ms == 1);
	/* a wall clock stepped back: used "now" */
	xfrm_msg_counters(&in, &out, 900, 3000, &c);
	assert_true(c.last_in_ms == 3000);
}

static void test_reqid_range(void **state)
{
	(void)state;
	assert_int_equal(xfrm_reqid_tag(1), 0x49000001u);
	assert_int_equal(xfrm_reqid_tag(XFRM_REQID_MAX), 0x49ffffffu);
	assert_true(xfrm_reqid_owned(0x49000001u));
	assert_true(xfrm_reqid_owned(XFRM_REQID_PROBE));
	assert_false(xfrm_reqid_owned(1)); /* strongSwan's first reqid */
	assert_false(xfrm_reqid_owned(0x4a000001u));
	assert_false(xfrm_reqid_owned(0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sa_info_gcm),
		cmocka_unit_test(test_sa_aead_gcm),
		cmocka_unit_test(test_sa_aead_gcm_sizes),
		cmocka_unit_test(test_sa_aead_chacha),
		cmocka_unit_test(test_sa_cbc_hmac),
		cmocka_unit_test(test_sa_aes_ctr),
		cmocka_unit_test(test_sa_encap),
		cmocka_unit_test(test_sa_replay),
		cmocka_unit_test(test_sa_ipv6),
		cmocka_unit_test(test_sa_bad),
		cmocka_unit_test(test_sa_id_msgs),
		cmocka_unit_test(test_policy_out),
		cmocka_unit_test(test_policy_in_fwd),
		cmocka_unit_test(test_policy_ipv6_inner),
		cmocka_unit_test(test_policy_del),
		cmocka_unit_test(test_policy_bad),
		cmocka_unit_test(test_sa_move),
		cmocka_unit_test(test_parse_expire),
		cmocka_unit_test(test_parse_acquire),
		cmocka_unit_test(test_parse_ack),
		cmocka_unit_test(test_parse_sa),
		cmocka_unit_test(test_parse_policy),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_reqid_range),
	};

	return cmocka_run_group_tests_name("xfrm_msg", tests, NULL, NULL);
}
