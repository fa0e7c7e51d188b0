/* SPDX-License-Identifier: ISC */
/*
 * The XFRM backend against the real kernel, in a network namespace of its own: the group
 * setup calls unshare(CLONE_NEWNET), so this process (and the `ip` it runs to look) only
 * ever sees a fresh, empty XFRM database, never the host's; it vanishes when we exit.
 * Without root (or namespaces) every test is skipped.
 *
 *   [ns] 192.0.2.1 (us)  <== tunnel ==>  198.51.100.7:41000 (a client behind NAT)
 *        VIP 10.99.0.7/32, subnets 10.0.0.0/24, 172.16.0.0/12 (and an IPv6 one, ignored)
 *
 * A kernel without ESP (CONFIG_INET_ESP off) still takes policies; the SA test then skips
 * with the kernel's reason.
 */
#define _GNU_SOURCE /* unshare */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <cmocka.h>

#include "ikegw/ikev2.h"
#include "ikegw/log.h"
#include "ikegw/xfrm.h"
#include "support/addr.h"

static bool in_ns;

static int ns_setup(void **state)
{
	(void)state;
	in_ns = geteuid() == 0 && unshare(CLONE_NEWNET) == 0;
	if (!in_ns)
		printf("SKIP: xfrm_ns: needs root and network namespaces\n");
	return 0;
}

/* The output of a shell command run inside our namespace (NUL-terminated, capped). */
static void sh(const char *cmd, char *out, size_t len)
{
	FILE *f = popen(cmd, "r");
	size_t n;

	assert_non_null(f);
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	pclose(f);
}

static int count_lines(const char *text, const char *prefix)
{
	int n = 0;

	for (const char *p = text; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
	}
	return n;
}

static int policy_count(char *out, size_t len)
{
	sh("ip xfrm policy list 2>&1", out, len);
	return count_lines(out, "src ");
}

static void sample_child(struct dp_child *c)
{
	memset(c, 0, sizeof(*c));
	c->reqid = 7;
	ta_ss4(&c->local, "192.0.2.1", 4500);
	ta_ss4(&c->peer, "198.51.100.7", 41000);
	c->encap = true;
	ta_pfx(&c->vip, AF_INET, "10.99.0.7", 32);
	ta_pfx(&c->subnets[0], AF_INET, "10.0.0.0", 24);
	ta_pfx(&c->subnets[1], AF_INET, "172.16.0.0", 12);
	ta_pfx(&c->subnets[2], AF_INET6, "fd00:10::", 64); /* other family than the VIP */
	c->n_subnets = 3;
	c->soft_lifetime_s = 3000;
	c->hard_lifetime_s = 3600;
	c->replay_window = 64;
	for (int i = 0; i < 2; i++) {
		struct dp_sa *sa = i ? &c->out : &c->in;

		sa->spi = i ? 0xc1000002 : 0xc1000001;
		sa->encr_id = IKEV2_ENCR_AES_GCM_16;
		sa->encr_keylen = 256;
		sa->enc_key_len = 36;
		memset(sa->enc_key, 0x5a + i, 36);
	}
}

static struct dataplane *open_dp(void)
{
	struct dataplane *dp = dp_xfrm_new(NULL, NULL);

	assert_non_null(dp);
	assert_string_equal(dp->ops->name, "xfrm");
	assert_true(dp_xfrm_fd(dp) >= 0);
	return dp;
}

static void test_probe(void **state)
{
	char why[256];
	int rc;

	(void)state;
	if (!in_ns)
		skip();
	rc = xfrm_probe(why, sizeof(why));
	printf("probe: %d: %s\n", rc, why);
	if (rc == 0) {
		assert_string_equal(why, "kernel ESP ok");
	} else {
		assert_non_null(strstr(why, "ESP"));
		if (rc == -EPROTONOSUPPORT)
			assert_non_null(strstr(why,
				"kernel has no ESP support: Requested type not found (-EPROTONOSUPPORT)"));
	}
	/* Nothing of the probe stays behind. */
	sh("ip xfrm state list 2>&1", why, sizeof(why));
	assert_string_equal(why, "");
}

static void test_socket_opts(void **state)
{
	int fd4, fd6;

	(void)state;
	if (!in_ns)
		skip();
	fd4 = socket(AF_INET, SOCK_DGRAM, 0);
	fd6 = socket(AF_INET6, SOCK_DGRAM, 0);
	assert_true(fd4 >= 0 && fd6 >= 0);
	assert_int_equal(xfrm_socket_bypass(fd4, AF_INET), 0);
	assert_int_equal(xfrm_socket_bypass(fd6, AF_INET6), 0);
	assert_int_equal(xfrm_socket_bypass(fd4, AF_UNIX), -EAFNOSUPPORT);
	assert_int_equal(xfrm_socket_encap(fd4), 0);
	assert_int_equal(xfrm_socket_encap(fd6), 0);
	close(fd4);
	close(fd6);
}

static void test_policies(void **state)
{
	struct dataplane *dp;
	struct dp_child c;
	char out[8192];

	(void)state;
	if (!in_ns)
		skip();
	assert_int_equal(policy_count(out, sizeof(out)), 0); /* a fresh namespace */
	dp = open_dp();
	sample_child(&c);
	assert_int_equal(xfrm_policies_add(dp, &c), 0);
	/* Two IPv4 subnets x (out, in, fwd); the IPv6 subnet has no IPv4 VIP to pair with. */
	assert_int_equal(policy_count(out, sizeof(out)), 6);
	assert_non_null(strstr(out, "src 10.0.0.0/24 dst 10.99.0.7/32 \n\tdir out"));
	assert_non_null(strstr(out, "src 10.99.0.7/32 dst 172.16.0.0/12 \n\tdir fwd"));
	assert_non_null(strstr(out, "src 10.99.0.7/32 dst 10.0.0.0/24 \n\tdir in"));
	assert_non_null(strstr(out, "tmpl src 192.0.2.1 dst 198.51.100.7"));
	assert_non_null(strstr(out, "tmpl src 198.51.100.7 dst 192.0.2.1"));
	assert_non_null(strstr(out, "proto esp reqid 1224736775 mode tunnel")); /* 0x49000007 */
	assert_int_equal(xfrm_policies_add(dp, &c), -EEXIST); /* and rolled back */
	assert_int_equal(policy_count(out, sizeof(out)), 6);
	assert_int_equal(xfrm_policies_del(dp, &c), 0);
	assert_int_equal(policy_count(out, sizeof(out)), 0);
	assert_int_equal(xfrm_policies_del(dp, &c), 0); /* already gone is fine */
	dp->ops->free(dp);
}

/* How many policies' templates (or SAs, in `ip xfrm state`) name this untagged reqid. */
static int reqid_count(const char *out, uint32_t reqid)
{
	char needle[64];
	int n = 0;

	snprintf(needle, sizeof(needle), "reqid %u mode", xfrm_reqid_tag(reqid));
	for (const char *p = strstr(out, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

/*
 * A rekey (RFC 7296 2.8) installs a child with the same selectors under a new reqid
 * before the old one goes.  It shares the old one's kernel reqid, so the kernel's policies
 * do not change at all (their templates keep naming the reqid the old SAs carry, and the
 * kernel's inbound check keeps passing packets that still arrive on them); deleting the
 * older pair keeps them as they are; deleting the last removes them.
 */
static void test_policies_rekey(void **state)
{
	struct dataplane *dp;
	struct dp_child old, new, next;
	char before[16384], out[16384];

	(void)state;
	if (!in_ns)
		skip();
	dp = open_dp();
	sample_child(&old);
	new = old;
	new.reqid = 8;
	next = old;
	next.reqid = 10;
	assert_int_equal(xfrm_policies_add(dp, &old), 0);
	assert_int_equal(policy_count(before, sizeof(before)), 6);
	assert_int_equal(reqid_count(before, 7), 6);
	assert_int_equal(xfrm_policies_add(dp, &new), 0);
	assert_int_equal(xfrm_policies_kreqid(dp, 8), 7);
	assert_int_equal(policy_count(out, sizeof(out)), 6);
	assert_string_equal(out, before); /* not even rewritten */
	assert_int_equal(xfrm_policies_del(dp, &old), 0);
	policy_count(out, sizeof(out));
	assert_string_equal(out, before);
	assert_int_equal(xfrm_policies_kreqid(dp, 7), 0);
	/* and the next generation, after the first is gone */
	assert_int_equal(xfrm_policies_add(dp, &next), 0);
	assert_int_equal(xfrm_policies_kreqid(dp, 10), 7);
	assert_int_equal(xfrm_policies_del(dp, &new), 0);
	policy_count(out, sizeof(out));
	assert_string_equal(out, before);
	assert_int_equal(xfrm_policies_del(dp, &next), 0);
	assert_int_equal(policy_count(out, sizeof(out)), 0);
	dp->ops->free(dp);
}

/*
 * Children that are no rekey get their own kernel reqid: other selectors (their own
 * policies), or only some of the same ones (an additional Child SA, RFC 7296 1.3.1: it
 * must not share, or outbound the kernel could send other selectors' traffic over its
 * SA), whose shared policies name it while it lives.  A reused number that is still the
 * kernel reqid of a later generation is not taken again.
 */
static void test_policies_own_reqid(void **state)
{
	struct dataplane *dp;
	struct dp_child old, other, subset, new, reused;
	char out[16384];

	(void)state;
	if (!in_ns)
		skip();
	dp = open_dp();
	sample_child(&old);
	other = old;
	other.reqid = 9;
	other.n_subnets = 1;
	ta_pfx(&other.subnets[0], AF_INET, "192.168.50.0", 24);
	subset = old;
	subset.reqid = 11;
	subset.n_subnets = 1;
	ta_pfx(&subset.subnets[0], AF_INET, "10.0.0.1", 24); /* host bits: still 10.0.0.0/24 */
	assert_int_equal(xfrm_policies_add(dp, &old), 0);
	assert_int_equal(xfrm_policies_add(dp, &other), 0);
	assert_int_equal(xfrm_policies_kreqid(dp, 9), 9);
	assert_int_equal(policy_count(out, sizeof(out)), 9);
	assert_int_equal(reqid_count(out, 7), 6);
	assert_int_equal(reqid_count(out, 9), 3);
	assert_non_null(strstr(out, "src 192.168.50.0/24 dst 10.99.0.7/32 \n\tdir out"));
	assert_int_equal(xfrm_policies_add(dp, &subset), 0);
	assert_int_equal(xfrm_policies_kreqid(dp, 11), 11);
	assert_int_equal(policy_count(out, sizeof(out)), 9);
	assert_int_equal(reqid_count(out, 11), 3);
	assert_int_equal(reqid_count(out, 7), 3);
	assert_int_equal(xfrm_policies_del(dp, &subset), 0);
	assert_int_equal(policy_count(out, sizeof(out)), 9);
	assert_int_equal(reqid_count(out, 7), 6);
	/* 7 is rekeyed by 8 and goes; a new child that gets the number 7 again */
	new = old;
	new.reqid = 8;
	assert_int_equal(xfrm_policies_add(dp, &new), 0);
	assert_int_equal(xfrm_policies_del(dp, &old), 0);
	reused = other;
	reused.reqid = 7;
	ta_pfx(&reused.subnets[0], AF_INET, "192.168.51.0", 24);
	assert_int_equal(xfrm_policies_add(dp, &reused), 0);
	assert_int_equal(xfrm_policies_kreqid(dp, 7), XFRM_REQID_MAX - 1);
	assert_int_equal(policy_count(out, sizeof(out)), 12);
	assert_int_equal(reqid_count(out, 7), 6);
	assert_int_equal(reqid_count(out, XFRM_REQID_MAX - 1), 3);
	assert_int_equal(xfrm_policies_del(dp, &new), 0);
	assert_int_equal(xfrm_policies_del(dp, &reused), 0);
	assert_int_equal(xfrm_policies_del(dp, &other), 0);
	assert_int_equal(policy_count(out, sizeof(out)), 0);
	assert_int_equal(xfrm_policies_kreqid(dp, 7), 0);
	dp->ops->free(dp);
}

/* A restarted ikegwd removes what the previous one left, and nothing else. */
static void test_flush_leftovers(void **state)
{
	struct dataplane *dp;
	struct dp_child c;
	char out[8192];

	(void)state;
	if (!in_ns)
		skip();
	dp = open_dp();
	sample_child(&c);
	assert_int_equal(xfrm_policies_add(dp, &c), 0);
	dp->ops->free(dp); /* "crashed": no flush */
	sh("ip xfrm policy add src 10.5.0.0/16 dst 10.6.0.0/16 dir out "
	   "tmpl src 192.0.2.1 dst 192.0.2.9 proto esp reqid 5 mode tunnel 2>&1", out, sizeof(out));
	assert_string_equal(out, "");
	assert_int_equal(policy_count(out, sizeof(out)), 7);
	dp = open_dp();
	assert_int_equal(policy_count(out, sizeof(out)), 1);
	assert_non_null(strstr(out, "src 10.5.0.0/16 dst 10.6.0.0/16"));
	assert_int_equal(dp->ops->flush(dp), 0);
	assert_int_equal(policy_count(out, sizeof(out)), 1);
	dp->ops->free(dp);
	sh("ip xfrm policy flush 2>&1", out, sizeof(out)); /* our namespace's own */
	assert_int_equal(policy_count(out, sizeof(out)), 0);
}

struct expired {
	struct dataplane *dp;
	int calls;
	uint32_t reqid;
	enum dp_expire_kind kind;
};

static void on_expire(void *arg, uint32_t reqid, enum dp_expire_kind kind)
{
	struct expired *e = arg;

	e->calls++;
	e->reqid = reqid;
	/* What the SA lifecycle code does on a hard expiry: safe from inside the read. */
	assert_int_equal(e->dp->ops->child_del(e->dp, reqid), -ENOENT);
	e->kind = kind;
}

/* Root may send to an XFRM multicast group: a stand-in for the kernel's own events. */
static void send_event(int fd, uint16_t type, unsigned int group, const void *body,
		       size_t len, const void *attr, size_t attr_len)
{
	uint8_t msg[1024];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(msg);
	struct sockaddr_nl to = { .nl_family = AF_NETLINK, .nl_groups = 1u << (group - 1) };

	nlh->nlmsg_type = type;
	memcpy(mnl_nlmsg_put_extra_header(nlh, len), body, len);
	if (attr != NULL)
		mnl_attr_put(nlh, XFRMA_TMPL, attr_len, attr);
	assert_int_equal(sendto(fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)nlh->nlmsg_len);
}

static void test_events(void **state)
{
	struct dataplane *dp;
	struct expired e = { 0 };
	struct xfrm_user_expire ue;
	struct xfrm_user_acquire acq;
	struct xfrm_user_tmpl t;
	int fd;

	(void)state;
	if (!in_ns)
		skip();
	dp = open_dp();
	e.dp = dp;
	dp->on_expire = on_expire;
	dp->on_expire_arg = &e;
	dp_xfrm_read(dp); /* nothing queued: returns at once */
	assert_int_equal(e.calls, 0);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_XFRM);
	assert_true(fd >= 0);
	memset(&ue, 0, sizeof(ue));
	ue.state.reqid = XFRM_REQID_TAG | 7;
	ue.hard = 1;
	send_event(fd, XFRM_MSG_EXPIRE, XFRMNLGRP_EXPIRE, &ue, sizeof(ue), NULL, 0);
	ue.state.reqid = 5; /* someone else's SA */
	send_event(fd, XFRM_MSG_EXPIRE, XFRMNLGRP_EXPIRE, &ue, sizeof(ue), NULL, 0);
	memset(&acq, 0, sizeof(acq));
	memset(&t, 0, sizeof(t));
	t.reqid = XFRM_REQID_TAG | 7;
	send_event(fd, XFRM_MSG_ACQUIRE, XFRMNLGRP_ACQUIRE, &acq, sizeof(acq), &t, sizeof(t));
	send_event(fd, XFRM_MSG_EXPIRE, XFRMNLGRP_EXPIRE, &ue, 8, NULL, 0); /* truncated */
	dp_xfrm_read(dp);
	assert_int_equal(e.calls, 1);
	assert_int_equal(e.reqid, 7);
	assert_int_equal(e.kind, DP_EXPIRE_HARD);
	ue.state.reqid = XFRM_REQID_TAG | 9;
	ue.hard = 0;
	send_event(fd, XFRM_MSG_EXPIRE, XFRMNLGRP_EXPIRE, &ue, sizeof(ue), NULL, 0);
	dp_xfrm_read(dp);
	assert_int_equal(e.calls, 2);
	assert_int_equal(e.reqid, 9);
	assert_int_equal(e.kind, DP_EXPIRE_SOFT);
	close(fd);
	dp->ops->free(dp);
}

/*
 * The kernel checks a NEWSA's attributes (sizes, replay state, algorithm names, ICV and
 * truncation lengths, encap) before it looks up the ESP type, so even without ESP an
 * answer of EPROTONOSUPPORT, never EINVAL, says every format we send is accepted.
 */
static void test_sa_formats(void **state)
{
	static const struct { uint16_t id; uint8_t len; } integ[] = {
		{ IKEV2_INTEG_HMAC_SHA2_256_128, 32 }, { IKEV2_INTEG_HMAC_SHA2_384_192, 48 },
		{ IKEV2_INTEG_HMAC_SHA2_512_256, 64 }, { IKEV2_INTEG_HMAC_SHA1_96, 20 },
	};
	struct dataplane *dp;
	struct dp_child c;
	char out[4096];

	(void)state;
	if (!in_ns)
		skip();
	dp = open_dp();
	for (size_t k = 0; k < 4 * sizeof(integ) / sizeof(integ[0]); k++) {
		int rc;

		sample_child(&c);
		c.encap = k & 1;
		for (int i = 0; i < 2; i++) {
			struct dp_sa *sa = i ? &c.out : &c.in;

			sa->esn = k & 2;
			sa->encr_id = IKEV2_ENCR_AES_CBC;
			sa->encr_keylen = 128;
			sa->enc_key_len = 16;
			sa->integ_id = integ[k / 4].id;
			sa->integ_key_len = integ[k / 4].len;
		}
		rc = dp->ops->child_add(dp, &c);
		assert_true(rc == 0 || rc == -EPROTONOSUPPORT);
		if (rc == 0)
			assert_int_equal(dp->ops->child_del(dp, c.reqid), 0);
	}
	sh("ip xfrm state list 2>&1", out, sizeof(out));
	assert_string_equal(out, "");
	assert_int_equal(policy_count(out, sizeof(out)), 0);
	dp->ops->free(dp);
}

static void test_child(void **state)
{
	struct dataplane *dp;
	struct dp_child c;
	struct dp_counters ctr;
	char why[256], out[8192];
	int rc;

	(void)state;
	if (!in_ns)
		skip();
	dp = open_dp();
	sample_child(&c);
	rc = dp->ops->child_add(dp, &c);
	if (rc < 0) {
		/* A kernel without ESP: nothing half-installed stays behind. */
		assert_int_equal(policy_count(out, sizeof(out)), 0);
		sh("ip xfrm state list 2>&1", out, sizeof(out));
		assert_string_equal(out, "");
		assert_int_equal(dp->ops->child_del(dp, c.reqid), -ENOENT);
		dp->ops->free(dp);
		assert_true(xfrm_probe(why, sizeof(why)) < 0);
		printf("SKIP: kernel has no ESP transform (%s; child_add: %s)\n", why,
		       strerror(-rc));
		skip();
	}
	sh("ip xfrm state list 2>&1", out, sizeof(out));
	assert_int_equal(count_lines(out, "src "), 2);
	assert_non_null(strstr(out, "aead rfc4106(gcm(aes))"));
	assert_non_null(strstr(out, "encap type espinudp sport 41000 dport 4500"));
	assert_int_equal(policy_count(out, sizeof(out)), 6);
	assert_int_equal(dp->ops->child_add(dp, &c), -EEXIST);
	assert_int_equal(dp->ops->counters(dp, c.reqid, &ctr), 0);
	assert_true(ctr.bytes_in == 0 && ctr.packets_out == 0);
	ta_ss4(&c.peer, "198.51.100.7", 42000); /* NAT rebinding */
	assert_int_equal(dp->ops->child_update_peer(dp, c.reqid, &c.peer), 0);
	sh("ip xfrm state list 2>&1", out, sizeof(out));
	assert_non_null(strstr(out, "sport 42000 dport 4500"));
	ta_ss4(&c.peer, "203.0.113.50", 4500); /* a new address */
	assert_int_equal(dp->ops->child_update_peer(dp, c.reqid, &c.peer), 0);
	sh("ip xfrm state list 2>&1", out, sizeof(out));
	assert_int_equal(count_lines(out, "src "), 2);
	assert_non_null(strstr(out, "src 192.0.2.1 dst 203.0.113.50"));
	assert_int_equal(dp->ops->child_del(dp, c.reqid), 0);
	sh("ip xfrm state list 2>&1", out, sizeof(out));
	assert_string_equal(out, "");
	assert_int_equal(policy_count(out, sizeof(out)), 0);
	dp->ops->free(dp);
}

/*
 * On a kernel with ESP: a rekeyed pair's SAs carry the old pair's kernel reqid, the
 * policies stay, and deleting the old pair leaves the new SAs and the policies alone.
 */
static void test_child_rekey(void **state)
{
	struct dataplane *dp;
	struct dp_child old, new;
	char before[16384], out[16384];
	int rc;

	(void)state;
	if (!in_ns)
		skip();
	dp = open_dp();
	sample_child(&old);
	rc = dp->ops->child_add(dp, &old);
	if (rc < 0) {
		dp->ops->free(dp);
		printf("SKIP: kernel has no ESP transform (child_add: %s)\n", strerror(-rc));
		skip();
	}
	new = old;
	new.reqid = 8;
	new.in.spi = 0xc1000003;
	new.out.spi = 0xc1000004;
	policy_count(before, sizeof(before));
	assert_int_equal(dp->ops->child_add(dp, &new), 0);
	policy_count(out, sizeof(out));
	assert_string_equal(out, before);
	sh("ip xfrm state list 2>&1", out, sizeof(out));
	assert_int_equal(count_lines(out, "src "), 4);
	assert_int_equal(reqid_count(out, 7), 4);
	assert_int_equal(dp->ops->child_del(dp, old.reqid), 0);
	sh("ip xfrm state list 2>&1", out, sizeof(out));
	assert_int_equal(count_lines(out, "src "), 2);
	assert_non_null(strstr(out, "spi 0xc1000003"));
	policy_count(out, sizeof(out));
	assert_string_equal(out, before);
	ta_ss4(&new.peer, "203.0.113.50", 4500); /* the peer moves: SAs and templates follow */
	assert_int_equal(dp->ops->child_update_peer(dp, new.reqid, &new.peer), 0);
	assert_int_equal(policy_count(out, sizeof(out)), 6);
	assert_non_null(strstr(out, "tmpl src 192.0.2.1 dst 203.0.113.50"));
	assert_int_equal(dp->ops->child_del(dp, new.reqid), 0);
	sh("ip xfrm state list 2>&1", out, sizeof(out));
	assert_string_equal(out, "");
	assert_int_equal(policy_count(out, sizeof(out)), 0);
	dp->ops->free(dp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_socket_opts),
		cmocka_unit_test(test_policies),
		cmocka_unit_test(test_policies_rekey),
		cmocka_unit_test(test_policies_own_reqid),
		cmocka_unit_test(test_flush_leftovers),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_sa_formats),
		cmocka_unit_test(test_child),
		cmocka_unit_test(test_child_rekey),
	};

	return cmocka_run_group_tests_name("xfrm_ns", tests, ns_setup, NULL);
}
