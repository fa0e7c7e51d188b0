/* SPDX-License-Identifier: ISC */
/*
 * The XFRM policy reference table (xfrm_pol.c): who uses which kernel policy and what
 * the kernel must be told.  Pure bookkeeping, no kernel.
 *
 * Users are Child SAs by their dataplane reqid (7, 8, 9); each brings the kernel reqid
 * its SAs carry (K7, K9).  A rekey (RFC 7296 2.8) shares its predecessor's kernel reqid,
 * so the template must not change while both generations live; an additional Child SA
 * (1.3.1) with its own kernel reqid and an overlapping selector repoints it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ikegw/xfrm.h"
#include "ikegw/xfrm_pol.h"
#include "support/addr.h"

#define K7 (XFRM_REQID_TAG | 7)
#define K9 (XFRM_REQID_TAG | 9)

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

static struct xfrm_pol_spec pol_of(const struct pol_fixture *f, uint32_t kreqid)
{
	return (struct xfrm_pol_spec){ XFRM_POLICY_OUT, &f->net, &f->vip, &f->local, &f->peer,
				       kreqid };
}

static void ref_ok(struct xfrm_poltab *t, const struct xfrm_pol_spec *p, uint32_t user,
		   enum xfrm_pol_act want)
{
	enum xfrm_pol_act act = (enum xfrm_pol_act)-1;

	assert_int_equal(xfrm_poltab_ref(t, p, user, &act), 0);
	assert_int_equal(act, want);
}

static void unref_ok(struct xfrm_poltab *t, const struct xfrm_pol_spec *p, uint32_t user,
		     enum xfrm_pol_act want, struct xfrm_pol_msg *m)
{
	enum xfrm_pol_act act = (enum xfrm_pol_act)-1;

	assert_int_equal(xfrm_poltab_unref(t, p, user, &act, m), 0);
	assert_int_equal(act, want);
}

/* A rekey shares the kernel reqid: nothing to tell the kernel until the last one goes. */
static void test_poltab_rekey_shared(void **state)
{
	struct xfrm_poltab *t = xfrm_poltab_new();
	struct pol_fixture f, g;
	struct xfrm_pol_spec a, b;
	struct xfrm_pol_msg m;

	(void)state;
	assert_non_null(t);
	pol_fixture(&f);
	pol_fixture(&g);
	ta_pfx(&g.net, AF_INET, "10.0.0.0", 24); /* the same prefix without the host bits */
	a = pol_of(&f, K7);
	b = pol_of(&g, K7);
	assert_int_equal(xfrm_poltab_kreqid(t, &a), 0);
	ref_ok(t, &a, 7, XFRM_POL_NEW);
	ref_ok(t, &b, 8, XFRM_POL_KEEP);
	assert_int_equal(xfrm_poltab_count(t), 1);
	assert_int_equal(xfrm_poltab_kreqid(t, &b), K7);
	/* the usual order: the old generation goes, the template stays */
	unref_ok(t, &a, 7, XFRM_POL_KEEP, &m);
	assert_int_equal(xfrm_poltab_kreqid(t, &a), K7);
	ref_ok(t, &a, 9, XFRM_POL_KEEP); /* and the next rekey */
	unref_ok(t, &b, 9, XFRM_POL_KEEP, &m);
	unref_ok(t, &b, 8, XFRM_POL_DELETE, &m);
	assert_int_equal(m.spec.reqid, K7);
	assert_int_equal(m.spec.dir, XFRM_POLICY_OUT);
	assert_memory_equal(m.spec.src, &g.net, sizeof(g.net));
	assert_memory_equal(m.spec.tmpl_dst, &f.peer, sizeof(struct sockaddr_in));
	assert_int_equal(xfrm_poltab_count(t), 0);
	assert_int_equal(xfrm_poltab_kreqid(t, &a), 0);
	xfrm_poltab_free(t);
}

/* An overlapping Child SA with its own kernel reqid takes the template, gives it back. */
static void test_poltab_overlap(void **state)
{
	struct xfrm_poltab *t = xfrm_poltab_new();
	struct pol_fixture f, g;
	struct xfrm_pol_spec a, c;
	struct xfrm_pol_msg m;

	(void)state;
	pol_fixture(&f);
	pol_fixture(&g);
	ta_ss4(&g.peer, "198.51.100.7", 41001);
	a = pol_of(&f, K7);
	c = pol_of(&g, K9);
	ref_ok(t, &a, 7, XFRM_POL_NEW);
	ref_ok(t, &c, 9, XFRM_POL_UPDATE);
	assert_int_equal(xfrm_poltab_kreqid(t, &a), K9);
	unref_ok(t, &c, 9, XFRM_POL_UPDATE, &m);
	assert_int_equal(m.spec.reqid, K7);
	assert_memory_equal(m.spec.tmpl_dst, &f.peer, sizeof(struct sockaddr_in));
	assert_int_equal(xfrm_poltab_kreqid(t, &a), K7);
	/* the older one goes first: the newer one's template stays */
	ref_ok(t, &c, 9, XFRM_POL_UPDATE);
	unref_ok(t, &a, 7, XFRM_POL_KEEP, &m);
	unref_ok(t, &c, 9, XFRM_POL_DELETE, &m);
	assert_int_equal(m.spec.reqid, K9);
	xfrm_poltab_free(t);
}

/* A kernel reqid still held by a remaining user stays; else the newest remaining one's. */
static void test_poltab_kreqid_kept(void **state)
{
	struct xfrm_poltab *t = xfrm_poltab_new();
	struct pol_fixture f;
	struct xfrm_pol_spec a, c;
	struct xfrm_pol_msg m;

	(void)state;
	pol_fixture(&f);
	a = pol_of(&f, K7);
	c = pol_of(&f, K9);
	ref_ok(t, &a, 7, XFRM_POL_NEW);
	ref_ok(t, &c, 9, XFRM_POL_UPDATE);
	ref_ok(t, &c, 10, XFRM_POL_KEEP);   /* 9 rekeyed */
	unref_ok(t, &c, 9, XFRM_POL_KEEP, &m); /* 10 still holds K9 */
	ref_ok(t, &a, 8, XFRM_POL_UPDATE);  /* 7 rekeyed, after 10 came: newest names K7 */
	unref_ok(t, &a, 7, XFRM_POL_KEEP, &m);
	unref_ok(t, &a, 8, XFRM_POL_UPDATE, &m); /* back to 10's K9 */
	assert_int_equal(m.spec.reqid, K9);
	assert_int_equal(xfrm_poltab_kreqid(t, &a), K9);
	unref_ok(t, &c, 10, XFRM_POL_DELETE, &m);
	assert_int_equal(xfrm_poltab_count(t), 0);
	xfrm_poltab_free(t);
}

/* A peer move applies to every user of that kernel reqid; the template follows if it
 * names it. */
static void test_poltab_move(void **state)
{
	struct xfrm_poltab *t = xfrm_poltab_new();
	struct pol_fixture f;
	struct xfrm_pol_spec a, c;
	struct xfrm_pol_msg m;
	enum xfrm_pol_act act;

	(void)state;
	pol_fixture(&f);
	a = pol_of(&f, K7);
	ref_ok(t, &a, 7, XFRM_POL_NEW);
	ref_ok(t, &a, 8, XFRM_POL_KEEP);
	ta_ss4(&f.peer, "203.0.113.9", 4500);
	assert_int_equal(xfrm_poltab_move(t, &a, &act), 0);
	assert_int_equal(act, XFRM_POL_UPDATE);
	assert_int_equal(xfrm_poltab_move(t, &a, &act), 0); /* again: already there */
	assert_int_equal(act, XFRM_POL_KEEP);
	unref_ok(t, &a, 8, XFRM_POL_KEEP, &m); /* 7 moved along with 8 */
	/* 9 overlaps: moving K7 keeps the template (K9), which goes back to K7 moved */
	c = pol_of(&f, K9);
	ref_ok(t, &c, 9, XFRM_POL_UPDATE);
	ta_ss4(&f.peer, "203.0.113.10", 4500);
	assert_int_equal(xfrm_poltab_move(t, &a, &act), 0);
	assert_int_equal(act, XFRM_POL_KEEP);
	unref_ok(t, &c, 9, XFRM_POL_UPDATE, &m);
	assert_memory_equal(m.spec.tmpl_dst, &f.peer, sizeof(struct sockaddr_in));
	c.reqid = XFRM_REQID_TAG | 11;
	assert_int_equal(xfrm_poltab_move(t, &c, &act), -ENOENT); /* no user has it */
	unref_ok(t, &a, 7, XFRM_POL_DELETE, &m);
	assert_int_equal(xfrm_poltab_move(t, &a, &act), -ENOENT);
	xfrm_poltab_free(t);
}

/* The kernel refused an UPDPOLICY: undoing the reference restores the old template. */
static void test_poltab_undo(void **state)
{
	struct xfrm_poltab *t = xfrm_poltab_new();
	struct pol_fixture f;
	struct xfrm_pol_spec a, c;
	struct xfrm_pol_msg m;
	enum xfrm_pol_act act;

	(void)state;
	pol_fixture(&f);
	a = pol_of(&f, K7);
	c = pol_of(&f, K9);
	ref_ok(t, &a, 7, XFRM_POL_NEW);
	ref_ok(t, &c, 9, XFRM_POL_UPDATE);
	unref_ok(t, &c, 9, XFRM_POL_UPDATE, &m);
	assert_int_equal(xfrm_poltab_kreqid(t, &a), K7);
	assert_int_equal(xfrm_poltab_ref(t, &a, 7, &act), -EEXIST);
	assert_int_equal(xfrm_poltab_unref(t, &a, 9, &act, &m), -ENOENT);
	unref_ok(t, &a, 7, XFRM_POL_DELETE, &m);
	assert_int_equal(xfrm_poltab_unref(t, &a, 7, &act, &m), -ENOENT);
	xfrm_poltab_free(t);
}

/* Other directions and selectors are other policies; bad prefixes are refused. */
static void test_poltab_keys(void **state)
{
	struct xfrm_poltab *t = xfrm_poltab_new();
	struct pol_fixture f;
	struct xfrm_pol_spec p;
	struct dp_prefix bad;
	enum xfrm_pol_act act;

	(void)state;
	pol_fixture(&f);
	p = pol_of(&f, K7);
	ref_ok(t, &p, 7, XFRM_POL_NEW);
	p.dir = XFRM_POLICY_FWD;
	ref_ok(t, &p, 7, XFRM_POL_NEW);
	ta_pfx(&f.net, AF_INET, "10.0.0.0", 25);
	ref_ok(t, &p, 7, XFRM_POL_NEW);
	assert_int_equal(xfrm_poltab_count(t), 3);
	ta_pfx(&bad, AF_INET, "10.0.0.0", 33);
	p.src = &bad;
	assert_int_equal(xfrm_poltab_ref(t, &p, 7, &act), -EINVAL);
	assert_int_equal(xfrm_poltab_kreqid(t, &p), 0);
	bad.family = AF_UNIX;
	assert_int_equal(xfrm_poltab_ref(t, &p, 7, &act), -EINVAL);
	p = pol_of(&f, K7);
	p.tmpl_src = &(struct sockaddr_storage){ .ss_family = AF_UNIX };
	assert_int_equal(xfrm_poltab_ref(t, &p, 8, &act), -EAFNOSUPPORT);
	assert_int_equal(xfrm_poltab_move(t, &p, &act), -ENOENT);
	xfrm_poltab_clear(t);
	assert_int_equal(xfrm_poltab_count(t), 0);
	xfrm_poltab_free(t);
	xfrm_poltab_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_poltab_rekey_shared),
		cmocka_unit_test(test_poltab_overlap),
		cmocka_unit_test(test_poltab_kreqid_kept),
		cmocka_unit_test(test_poltab_move),
		cmocka_unit_test(test_poltab_undo),
		cmocka_unit_test(test_poltab_keys),
	};

	return cmocka_run_group_tests_name("xfrm_pol", tests, NULL, NULL);
}
