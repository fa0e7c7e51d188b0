/* SPDX-License-Identifier: ISC */
/*
 * The kernel XFRM backend: the one place ikegw talks NETLINK_XFRM.  Requests go over a
 * blocking socket and wait for their ack (the kernel answers at once); expire and
 * acquire events arrive on a second, non-blocking socket the event loop watches, so an
 * event can never be mistaken for an ack.  Messages come from xfrm_msg.c.
 *
 * Per child we keep what deleting it needs (addresses, SPIs, selectors; no keys): the
 * kernel holds the keys, and a peer move reads them back with GETSA.
 *
 * Kernel reqids (RFC 7296 2.8 rekeys without inbound loss): a rekeyed Child SA has the
 * same selectors as the one it replaces, and both carry traffic until the old one is
 * deleted.  The kernel's inbound policy check (xfrm_state_ok: the SA's reqid must equal
 * the template's) would drop what still arrives on the old SA if the template were
 * repointed at the new one.  So, as strongSwan does, every generation of a Child SA
 * carries one kernel reqid: the policies stay untouched, inbound packets find their SA
 * by SPI and pass the check, and outbound the kernel picks the newest valid SA of that
 * reqid (xfrm_state_look_at prefers a non-dying SA, then the later add_time).  The
 * dataplane reqid stays the key of a pair (child_del, counters, expiry reports).
 */
#define _GNU_SOURCE /* strerrorname_np */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/crypto.h>

#include "ikegw/ikev2.h"
#include "ikegw/log.h"
#include "ikegw/loop.h"
#include "ikegw/xfrm.h"
#include "ikegw/xfrm_pol.h"

#define XFRM_BUCKETS 256
#define XFRM_RBUF 32768      /* dump batches can be up to 32 KiB */
#define XFRM_EVBUF 8192     /* one event per datagram; expire/acquire are < 1 KiB */
#define XFRM_EVENT_ROUNDS 64 /* events drained per readiness, then the loop moves on */

/* A request socket with its receive buffer and the kernel's last error text. */
struct xfrm_nl {
	struct mnl_socket *nl;
	uint32_t seq, portid;
	char why[160];
	uint8_t req[XFRM_MSG_BUFSIZE];
	uint8_t rbuf[XFRM_RBUF];
};

struct xfrm_rec {
	struct xfrm_rec *next;
	struct xfrm_rec *knext; /* the other pairs of the same kernel reqid */
	uint32_t kreqid;        /* untagged */
	struct dp_child c;      /* keys wiped: addresses, SPIs, selectors only */
};

/*
 * One entry per number N, in both of its roles: the kernel reqid the pair (or policy
 * set) with dataplane reqid N uses, and N as a kernel reqid: how many pairs use it, the
 * policy count they share (all generations have the same selectors) and its pairs.
 */
struct xfrm_kent {
	struct xfrm_kent *next;
	uint32_t num;
	uint32_t kreqid;       /* of dataplane reqid num (untagged); 0 = none */
	uint32_t kusers;       /* pairs whose kernel reqid is num */
	uint32_t kpols;        /* their policy count */
	struct xfrm_rec *recs; /* their records (child_add ones), via knext */
};

struct dp_xfrm {
	struct dataplane dp; /* first: the ops get a struct dataplane * */
	struct log *lg;
	struct loop *loop;
	struct xfrm_nl *req;
	struct mnl_socket *ev;
	struct xfrm_rec *buckets[XFRM_BUCKETS];
	struct xfrm_kent *kents[XFRM_BUCKETS]; /* dataplane reqid <-> kernel reqid */
	struct xfrm_poltab *pols; /* who uses which policy: rekeys share selectors */
	/* Apart from the request buffer: an expire callback may delete a child. */
	uint8_t evbuf[XFRM_EVBUF];
};

typedef int xfrm_reply_fn(const struct nlmsghdr *nlh, void *arg);

static const struct dataplane_ops xfrm_ops;

/* --- request socket --- */

static void xfrm_nl_free(struct xfrm_nl *n)
{
	if (n == NULL)
		return;
	if (n->nl != NULL)
		mnl_socket_close(n->nl);
	OPENSSL_cleanse(n->req, sizeof(n->req));
	free(n);
}

static struct xfrm_nl *xfrm_nl_new(void)
{
	struct xfrm_nl *n = calloc(1, sizeof(*n));
	int on = 1;

	if (n == NULL)
		return NULL;
	n->nl = mnl_socket_open2(NETLINK_XFRM, SOCK_CLOEXEC);
	if (n->nl == NULL || mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;

		xfrm_nl_free(n);
		errno = err;
		return NULL;
	}
	/* Extended acks: the kernel's reason ("Requested type not found") for our logs. */
	mnl_socket_setsockopt(n->nl, NETLINK_EXT_ACK, &on, sizeof(on));
	n->portid = mnl_socket_get_portid(n->nl);
	n->seq = (uint32_t)time(NULL);
	return n;
}

/* One received batch; *done once the ack (or the end of a dump) for seq is seen. */
static int xfrm_nl_batch(struct xfrm_nl *n, size_t got, uint32_t seq, xfrm_reply_fn *fn,
			 void *arg, bool *done)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)n->rbuf;
	int len = (int)got, rc = 0;

	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		if (!mnl_nlmsg_seq_ok(nlh, seq) || !mnl_nlmsg_portid_ok(nlh, n->portid))
			continue;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			int err = xfrm_msg_parse_ack(nlh, n->why, sizeof(n->why));

			*done = true;
			return rc < 0 ? rc : err;
		}
		if (nlh->nlmsg_type == NLMSG_DONE) {
			*done = true;
			return rc;
		}
		if (fn != NULL && rc == 0)
			rc = fn(nlh, arg);
	}
	return rc;
}

/* Send the request in n->req (then wipe it: it may hold keys) and wait for the answer. */
static int xfrm_nl_talk(struct xfrm_nl *n, xfrm_reply_fn *fn, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)n->req;
	uint32_t seq = nlh->nlmsg_seq;
	bool done = false;
	ssize_t sent = mnl_socket_sendto(n->nl, nlh, nlh->nlmsg_len);
	int rc = 0;

	OPENSSL_cleanse(n->req, sizeof(n->req));
	n->why[0] = '\0';
	if (sent < 0)
		return -errno;
	while (!done) {
		ssize_t got = mnl_socket_recvfrom(n->nl, n->rbuf, sizeof(n->rbuf));

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		rc = xfrm_nl_batch(n, (size_t)got, seq, fn, arg, &done);
		OPENSSL_cleanse(n->rbuf, (size_t)got); /* SA replies carry keys */
	}
	return rc;
}

static uint32_t xfrm_nl_seq(struct xfrm_nl *n)
{
	return ++n->seq;
}

/* The kernel's words if it gave any, else strerror. */
static const char *xfrm_nl_why(const struct xfrm_nl *n, int rc)
{
	return n->why[0] != '\0' ? n->why : strerror(-rc);
}

/* --- kernel reqids --- */

static struct xfrm_kent **xfrm_kent_slot(struct dp_xfrm *x, uint32_t num)
{
	struct xfrm_kent **pp = &x->kents[num % XFRM_BUCKETS];

	while (*pp != NULL && (*pp)->num != num)
		pp = &(*pp)->next;
	return pp;
}

static struct xfrm_kent *xfrm_kent_get(struct dp_xfrm *x, uint32_t num)
{
	struct xfrm_kent **pp = xfrm_kent_slot(x, num);

	if (*pp == NULL) {
		*pp = calloc(1, sizeof(**pp));
		if (*pp != NULL)
			(*pp)->num = num;
	}
	return *pp;
}

/* Forget the entry of num once it has no role left. */
static void xfrm_kent_put(struct dp_xfrm *x, uint32_t num)
{
	struct xfrm_kent **pp = xfrm_kent_slot(x, num);
	struct xfrm_kent *e = *pp;

	if (e != NULL && e->kreqid == 0 && e->kusers == 0) {
		*pp = e->next;
		free(e);
	}
}

static void xfrm_kent_clear(struct dp_xfrm *x)
{
	for (size_t i = 0; i < XFRM_BUCKETS; i++) {
		while (x->kents[i] != NULL) {
			struct xfrm_kent *e = x->kents[i];

			x->kents[i] = e->next;
			free(e);
		}
	}
}

/* The kernel reqid (untagged) of dataplane reqid reqid; 0 when it has none. */
static uint32_t xfrm_kreqid_of(struct dp_xfrm *x, uint32_t reqid)
{
	struct xfrm_kent *e = *xfrm_kent_slot(x, reqid);

	return e != NULL ? e->kreqid : 0;
}

static uint32_t xfrm_kusers(struct dp_xfrm *x, uint32_t kreqid)
{
	struct xfrm_kent *e = *xfrm_kent_slot(x, kreqid);

	return e != NULL ? e->kusers : 0;
}

/* reqid (with npol policies) uses kernel reqid k from now on. */
static int xfrm_kreqid_bind(struct dp_xfrm *x, uint32_t reqid, uint32_t k, uint32_t npol)
{
	struct xfrm_kent *e = xfrm_kent_get(x, reqid);
	struct xfrm_kent *ke = e != NULL ? xfrm_kent_get(x, k) : NULL;

	if (ke == NULL) {
		xfrm_kent_put(x, reqid);
		return -ENOMEM;
	}
	e->kreqid = k;
	if (ke->kusers++ == 0)
		ke->kpols = npol;
	return 0;
}

static void xfrm_kreqid_unbind(struct dp_xfrm *x, uint32_t reqid)
{
	struct xfrm_kent *e = *xfrm_kent_slot(x, reqid);
	uint32_t k = e != NULL ? e->kreqid : 0;
	struct xfrm_kent *ke = k != 0 ? *xfrm_kent_slot(x, k) : NULL;

	if (ke == NULL)
		return;
	e->kreqid = 0;
	ke->kusers--;
	xfrm_kent_put(x, reqid);
	xfrm_kent_put(x, k);
}

/* --- the child table --- */

static struct xfrm_rec **xfrm_rec_slot(struct dp_xfrm *x, uint32_t reqid)
{
	struct xfrm_rec **pp = &x->buckets[reqid % XFRM_BUCKETS];

	while (*pp != NULL && (*pp)->c.reqid != reqid)
		pp = &(*pp)->next;
	return pp;
}

/* After xfrm_kreqid_bind(c->reqid, k): the record joins the pairs of kernel reqid k. */
static int xfrm_rec_add(struct dp_xfrm *x, const struct dp_child *c, uint32_t k)
{
	struct xfrm_rec **pp = xfrm_rec_slot(x, c->reqid);
	struct xfrm_kent *ke = *xfrm_kent_slot(x, k);
	struct xfrm_rec *r;

	if (*pp != NULL || ke == NULL)
		return -EEXIST;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->c = *c;
	dp_child_wipe(&r->c);
	r->c.in.spi = c->in.spi;
	r->c.out.spi = c->out.spi;
	r->kreqid = k;
	r->knext = ke->recs;
	ke->recs = r;
	*pp = r;
	return 0;
}

/* Before xfrm_kreqid_unbind: the entry of its kernel reqid still lists it. */
static void xfrm_rec_del(struct dp_xfrm *x, uint32_t reqid)
{
	struct xfrm_rec **pp = xfrm_rec_slot(x, reqid);
	struct xfrm_rec *r = *pp, **kp;
	struct xfrm_kent *ke;

	if (r == NULL)
		return;
	ke = *xfrm_kent_slot(x, r->kreqid);
	for (kp = ke != NULL ? &ke->recs : NULL; kp != NULL && *kp != NULL; kp = &(*kp)->knext) {
		if (*kp == r) {
			*kp = r->knext;
			break;
		}
	}
	*pp = r->next;
	free(r);
}

static void xfrm_rec_clear(struct dp_xfrm *x)
{
	for (size_t i = 0; i < XFRM_BUCKETS; i++) {
		while (x->buckets[i] != NULL) {
			struct xfrm_rec *r = x->buckets[i];

			x->buckets[i] = r->next;
			free(r);
		}
	}
}

/* --- SAs --- */

static int xfrm_sa_add_one(struct dp_xfrm *x, const struct dp_child *c, uint32_t k, bool in)
{
	struct xfrm_sa_spec s = {
		.sa = in ? &c->in : &c->out,
		.src = in ? &c->peer : &c->local,
		.dst = in ? &c->local : &c->peer,
		.encap = c->encap,
		.reqid = xfrm_reqid_tag(k),
		.soft_s = c->soft_lifetime_s,
		.hard_s = c->hard_lifetime_s,
		.replay_window = c->replay_window,
	};
	struct xfrm_nl *n = x->req;
	int rc = xfrm_msg_sa_add(n->req, sizeof(n->req), xfrm_nl_seq(n), &s);

	if (rc == 0)
		rc = xfrm_nl_talk(n, NULL, NULL);
	else
		OPENSSL_cleanse(n->req, sizeof(n->req));
	if (rc < 0)
		log_err(x->lg, NULL, "xfrm: add %s SA spi 0x%08x reqid %u (kernel %u): %s",
			in ? "inbound" : "outbound", s.sa->spi, c->reqid, k, xfrm_nl_why(n, rc));
	return rc;
}

static int xfrm_sa_del_one(struct dp_xfrm *x, const struct sockaddr_storage *dst, uint32_t spi)
{
	struct xfrm_nl *n = x->req;
	int rc = xfrm_msg_sa_id(n->req, sizeof(n->req), xfrm_nl_seq(n), XFRM_MSG_DELSA, dst, spi);

	if (rc == 0)
		rc = xfrm_nl_talk(n, NULL, NULL);
	if (rc < 0 && rc != -ESRCH && rc != -ENOENT)
		log_warn(x->lg, NULL, "xfrm: delete SA spi 0x%08x: %s", spi, xfrm_nl_why(n, rc));
	return rc == -ESRCH ? -ENOENT : rc;
}

/* --- policies: one set (out, in, fwd) per (VIP, subnet) pair of one family --- */

static const uint8_t xfrm_dirs[] = { XFRM_POLICY_OUT, XFRM_POLICY_IN, XFRM_POLICY_FWD };
#define XFRM_NDIRS (sizeof(xfrm_dirs) / sizeof(xfrm_dirs[0]))

/* Policy k of a child (subnet k / 3, direction k % 3) with kernel reqid kreqid (untagged);
 * false for a family mismatch. */
static bool xfrm_pol_spec(const struct dp_child *c, size_t k, uint32_t kreqid,
			  struct xfrm_pol_spec *p)
{
	const struct dp_prefix *net = &c->subnets[k / XFRM_NDIRS];
	bool out = xfrm_dirs[k % XFRM_NDIRS] == XFRM_POLICY_OUT;

	if (net->family != c->vip.family)
		return false;
	p->dir = xfrm_dirs[k % XFRM_NDIRS];
	p->src = out ? net : &c->vip;
	p->dst = out ? &c->vip : net;
	p->tmpl_src = out ? &c->local : &c->peer;
	p->tmpl_dst = out ? &c->peer : &c->local;
	p->reqid = xfrm_reqid_tag(kreqid);
	return true;
}

static int xfrm_pol_send(struct dp_xfrm *x, const struct xfrm_pol_spec *p, int op)
{
	struct xfrm_nl *n = x->req;
	int rc = op < 0 ? xfrm_msg_policy_del(n->req, sizeof(n->req), xfrm_nl_seq(n), p)
			: xfrm_msg_policy_add(n->req, sizeof(n->req), xfrm_nl_seq(n), p, op > 0);

	if (rc == 0)
		rc = xfrm_nl_talk(n, NULL, NULL);
	if (rc < 0 && !(op < 0 && rc == -ENOENT))
		log_err(x->lg, NULL, "xfrm: %s policy dir %u: %s",
			op < 0 ? "delete" : "install", p->dir, xfrm_nl_why(n, rc));
	return rc;
}

static size_t xfrm_pol_count(const struct dp_child *c)
{
	return (size_t)c->n_subnets * XFRM_NDIRS;
}

/* How many policies the child has (subnets of the VIP's family, three directions each). */
static uint32_t xfrm_pol_used(const struct dp_child *c)
{
	struct xfrm_pol_spec p;
	uint32_t n = 0;

	for (size_t k = 0; k < xfrm_pol_count(c); k++)
		n += xfrm_pol_spec(c, k, 0, &p);
	return n;
}

/*
 * user takes a reference on the policy p describes: the first user installs it; a rekey
 * sharing the kernel reqid changes nothing; a child with its own kernel reqid and an
 * overlapping selector (RFC 7296 1.3.1) repoints the template at itself with UPDPOLICY.
 * Refused by the kernel: the table forgets the reference again.
 */
static int xfrm_pol_ref(struct dp_xfrm *x, const struct xfrm_pol_spec *p, uint32_t user)
{
	enum xfrm_pol_act act;
	struct xfrm_pol_msg m;
	int rc = xfrm_poltab_ref(x->pols, p, user, &act);

	if (rc < 0 || act == XFRM_POL_KEEP)
		return rc;
	rc = xfrm_pol_send(x, p, act == XFRM_POL_NEW ? 0 : 1);
	if (rc < 0)
		xfrm_poltab_unref(x->pols, p, user, &act, &m); /* the kernel still has what it had */
	return rc;
}

/* Drop user's reference: delete the policy with its last user, repoint the template when
 * no remaining user has the kernel reqid it names. */
static int xfrm_pol_unref(struct dp_xfrm *x, const struct xfrm_pol_spec *p, uint32_t user)
{
	enum xfrm_pol_act act;
	struct xfrm_pol_msg m;

	if (xfrm_poltab_unref(x->pols, p, user, &act, &m) < 0)
		return 0; /* not a user: never installed, or flushed */
	if (act == XFRM_POL_DELETE)
		return xfrm_pol_send(x, &m.spec, -1);
	if (act == XFRM_POL_UPDATE)
		return xfrm_pol_send(x, &m.spec, 1);
	return 0;
}

/* p's kernel reqid has new tunnel endpoints: rewrite the template if it names it. */
static int xfrm_pol_move(struct dp_xfrm *x, const struct xfrm_pol_spec *p)
{
	enum xfrm_pol_act act;

	if (xfrm_poltab_move(x->pols, p, &act) < 0 || act != XFRM_POL_UPDATE)
		return 0;
	return xfrm_pol_send(x, p, 1);
}

static void xfrm_pol_del_upto(struct dp_xfrm *x, const struct dp_child *c, size_t upto)
{
	struct xfrm_pol_spec p;

	for (size_t k = 0; k < upto; k++)
		if (xfrm_pol_spec(c, k, 0, &p))
			xfrm_pol_unref(x, &p, c->reqid);
}

/*
 * A rekey: every policy of c exists and names one kernel reqid, whose pairs have exactly
 * c's selectors (the same policy count: each policy naming it belongs to all of them).
 * An additional Child SA covering only some of them must not share: outbound, the kernel
 * would pick its SA for selectors the peer did not agree to carry on it.  0: no rekey.
 */
static uint32_t xfrm_kreqid_shared(struct dp_xfrm *x, const struct dp_child *c)
{
	struct xfrm_pol_spec p;
	struct xfrm_kent *ke;
	uint32_t k = 0, n = 0;

	for (size_t i = 0; i < xfrm_pol_count(c); i++) {
		uint32_t got;

		if (!xfrm_pol_spec(c, i, 0, &p))
			continue;
		got = xfrm_poltab_kreqid(x->pols, &p) & XFRM_REQID_MAX;
		if (got == 0 || (k != 0 && got != k))
			return 0;
		k = got;
		n++;
	}
	ke = k != 0 ? *xfrm_kent_slot(x, k) : NULL;
	return ke != NULL && ke->kusers > 0 && ke->kpols == n ? k : 0;
}

/*
 * The kernel reqid for a new pair: its predecessor's for a rekey, else its own number,
 * unless that is still the kernel reqid of pairs whose first generation is gone (a
 * reused number): then a free one from the top of the range, away from the numbers the
 * IKE code hands out counting up.
 */
static uint32_t xfrm_kreqid_pick(struct dp_xfrm *x, const struct dp_child *c)
{
	uint32_t k = xfrm_kreqid_shared(x, c), next = XFRM_REQID_MAX - 1;

	if (k != 0)
		return k;
	for (k = c->reqid; xfrm_kusers(x, k) > 0 && next > 0; next--)
		k = next;
	return k;
}

static struct dp_xfrm *xfrm_of(struct dataplane *dp)
{
	return dp != NULL && dp->ops == &xfrm_ops ? (struct dp_xfrm *)dp : NULL;
}

static int xfrm_child_check(const struct dp_child *c)
{
	if (c->reqid == 0 || c->reqid > XFRM_REQID_MAX || c->n_subnets > DP_MAX_SUBNETS)
		return -EINVAL;
	if (c->local.ss_family != c->peer.ss_family)
		return -EINVAL;
	return 0;
}

/* The policies of c under kernel reqid k, and the record of that choice. */
static int xfrm_policies_add_as(struct dp_xfrm *x, const struct dp_child *c, uint32_t k)
{
	struct xfrm_pol_spec p;
	int rc = xfrm_kreqid_bind(x, c->reqid, k, xfrm_pol_used(c));

	for (size_t i = 0; rc == 0 && i < xfrm_pol_count(c); i++) {
		if (xfrm_pol_spec(c, i, k, &p))
			rc = xfrm_pol_ref(x, &p, c->reqid);
		if (rc < 0) {
			xfrm_pol_del_upto(x, c, i);
			xfrm_kreqid_unbind(x, c->reqid);
		}
	}
	return rc;
}

int xfrm_policies_add(struct dataplane *dp, const struct dp_child *c)
{
	struct dp_xfrm *x = xfrm_of(dp);
	int rc = x != NULL ? xfrm_child_check(c) : -EINVAL;

	if (rc == 0 && xfrm_kreqid_of(x, c->reqid) != 0)
		rc = -EEXIST;
	return rc == 0 ? xfrm_policies_add_as(x, c, xfrm_kreqid_pick(x, c)) : rc;
}

int xfrm_policies_del(struct dataplane *dp, const struct dp_child *c)
{
	struct dp_xfrm *x = xfrm_of(dp);
	struct xfrm_pol_spec p;
	int first = 0;

	if (x == NULL || c->n_subnets > DP_MAX_SUBNETS)
		return -EINVAL;
	for (size_t k = 0; k < xfrm_pol_count(c); k++) {
		int rc = xfrm_pol_spec(c, k, 0, &p) ? xfrm_pol_unref(x, &p, c->reqid) : 0;

		if (rc < 0 && rc != -ENOENT && first == 0)
			first = rc;
	}
	xfrm_kreqid_unbind(x, c->reqid);
	return first;
}

uint32_t xfrm_policies_kreqid(struct dataplane *dp, uint32_t reqid)
{
	struct dp_xfrm *x = xfrm_of(dp);

	return x != NULL ? xfrm_kreqid_of(x, reqid) : 0;
}

/* --- ops --- */

static int xfrm_child_add(struct dataplane *dp, const struct dp_child *c)
{
	struct dp_xfrm *x = xfrm_of(dp);
	int rc = xfrm_child_check(c);
	uint32_t k;

	if (rc == 0 && (*xfrm_rec_slot(x, c->reqid) != NULL || xfrm_kreqid_of(x, c->reqid) != 0))
		rc = -EEXIST;
	if (rc < 0)
		return rc;
	k = xfrm_kreqid_pick(x, c); /* before the SAs: they carry it */
	rc = xfrm_sa_add_one(x, c, k, true);
	if (rc == 0) {
		rc = xfrm_sa_add_one(x, c, k, false);
		if (rc < 0)
			xfrm_sa_del_one(x, &c->local, c->in.spi);
	}
	if (rc < 0)
		return rc;
	rc = xfrm_policies_add_as(x, c, k);
	if (rc == 0) {
		rc = xfrm_rec_add(x, c, k);
		if (rc < 0)
			xfrm_policies_del(dp, c);
	}
	if (rc < 0) {
		xfrm_sa_del_one(x, &c->local, c->in.spi);
		xfrm_sa_del_one(x, &c->peer, c->out.spi);
	}
	return rc;
}

/* The pair's SAs go by SPI; its policy references go, the policies with their last user. */
static int xfrm_child_del(struct dataplane *dp, uint32_t reqid)
{
	struct dp_xfrm *x = xfrm_of(dp);
	struct xfrm_rec *r = *xfrm_rec_slot(x, reqid);
	struct dp_child c;
	int rc, rc2, rc3;

	if (r == NULL)
		return -ENOENT;
	c = r->c; /* no keys in it */
	xfrm_rec_del(x, reqid);
	rc = xfrm_policies_del(dp, &c);
	rc2 = xfrm_sa_del_one(x, &c.local, c.in.spi);
	rc3 = xfrm_sa_del_one(x, &c.peer, c.out.spi);
	if (rc == 0 && rc2 != -ENOENT)
		rc = rc2;
	if (rc == 0 && rc3 != -ENOENT)
		rc = rc3;
	return rc;
}

static int xfrm_sa_stats_cb(const struct nlmsghdr *nlh, void *arg)
{
	return xfrm_msg_parse_sa(nlh, arg);
}

static int xfrm_sa_get(struct dp_xfrm *x, const struct sockaddr_storage *dst, uint32_t spi,
		       struct xfrm_sa_stats *st)
{
	struct xfrm_nl *n = x->req;
	int rc = xfrm_msg_sa_id(n->req, sizeof(n->req), xfrm_nl_seq(n), XFRM_MSG_GETSA, dst, spi);

	memset(st, 0, sizeof(*st));
	return rc == 0 ? xfrm_nl_talk(n, xfrm_sa_stats_cb, st) : rc;
}

static uint64_t xfrm_now_ms(const struct dp_xfrm *x)
{
	struct timespec ts;

	if (x->loop != NULL)
		return loop_now(x->loop);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int xfrm_counters(struct dataplane *dp, uint32_t reqid, struct dp_counters *out)
{
	struct dp_xfrm *x = xfrm_of(dp);
	struct xfrm_rec *r = *xfrm_rec_slot(x, reqid);
	struct xfrm_sa_stats in, o;
	int rc;

	if (r == NULL)
		return -ENOENT;
	rc = xfrm_sa_get(x, &r->c.local, r->c.in.spi, &in);
	if (rc == 0)
		rc = xfrm_sa_get(x, &r->c.peer, r->c.out.spi, &o);
	if (rc < 0)
		return rc;
	xfrm_msg_counters(&in, &o, (uint64_t)time(NULL), xfrm_now_ms(x), out);
	return 0;
}

/* --- peer moves: re-install both SAs at the new address, keys and counters kept --- */

struct xfrm_snap {
	uint8_t msg[XFRM_MSG_BUFSIZE];
	bool got;
};

static int xfrm_snap_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct xfrm_snap *s = arg;

	if (nlh->nlmsg_type != XFRM_MSG_NEWSA || nlh->nlmsg_len > sizeof(s->msg))
		return -EBADMSG;
	memcpy(s->msg, nlh, nlh->nlmsg_len);
	s->got = true;
	return 0;
}

static int xfrm_sa_snap(struct dp_xfrm *x, const struct sockaddr_storage *dst, uint32_t spi,
			struct xfrm_snap *s)
{
	struct xfrm_nl *n = x->req;
	int rc = xfrm_msg_sa_id(n->req, sizeof(n->req), xfrm_nl_seq(n), XFRM_MSG_GETSA, dst, spi);

	s->got = false;
	if (rc == 0)
		rc = xfrm_nl_talk(n, xfrm_snap_cb, s);
	return rc == 0 && !s->got ? -ENOENT : rc;
}

static int xfrm_sa_resend(struct dp_xfrm *x, const struct xfrm_snap *s, uint16_t type,
			  const struct sockaddr_storage *src, const struct sockaddr_storage *dst,
			  bool encap)
{
	struct xfrm_nl *n = x->req;
	int rc = xfrm_msg_sa_move(n->req, sizeof(n->req), xfrm_nl_seq(n), type,
				  (const struct nlmsghdr *)s->msg, src, dst, encap);

	if (rc == 0)
		return xfrm_nl_talk(n, NULL, NULL);
	OPENSSL_cleanse(n->req, sizeof(n->req));
	return rc;
}

static bool xfrm_same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	xfrm_address_t aa, bb;

	if (a->ss_family != b->ss_family)
		return false;
	memset(&aa, 0, sizeof(aa));
	memset(&bb, 0, sizeof(bb));
	if (a->ss_family == AF_INET) {
		memcpy(&aa, &((const struct sockaddr_in *)a)->sin_addr, 4);
		memcpy(&bb, &((const struct sockaddr_in *)b)->sin_addr, 4);
	} else {
		memcpy(&aa, &((const struct sockaddr_in6 *)a)->sin6_addr, 16);
		memcpy(&bb, &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
	}
	return memcmp(&aa, &bb, sizeof(aa)) == 0;
}

/*
 * Same address, new port (NAT rebinding): UPDSA rewrites the encap ports in place.
 * New address: the SA's id changes with it (out) or its source must (in, which the
 * policy template checks), so delete and add; the outbound SA is added first so no
 * packet leaves unprotected.
 */
static int xfrm_sa_repoint(struct dp_xfrm *x, struct xfrm_rec *r,
			   const struct sockaddr_storage *peer, struct xfrm_snap *s)
{
	const struct dp_child *c = &r->c;
	bool same = xfrm_same_host(&c->peer, peer);
	int rc = xfrm_sa_snap(x, &c->peer, c->out.spi, s);

	if (rc == 0 && same)
		rc = xfrm_sa_resend(x, s, XFRM_MSG_UPDSA, &c->local, peer, c->encap);
	else if (rc == 0) {
		rc = xfrm_sa_resend(x, s, XFRM_MSG_NEWSA, &c->local, peer, c->encap);
		if (rc == 0)
			xfrm_sa_del_one(x, &c->peer, c->out.spi);
	}
	if (rc == 0)
		rc = xfrm_sa_snap(x, &c->local, c->in.spi, s);
	if (rc == 0 && !same)
		xfrm_sa_del_one(x, &c->local, c->in.spi);
	if (rc == 0)
		rc = xfrm_sa_resend(x, s, same ? XFRM_MSG_UPDSA : XFRM_MSG_NEWSA, peer,
				    &c->local, c->encap);
	return rc;
}

static bool xfrm_same_ep(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	in_port_t pa = a->ss_family == AF_INET ? ((const struct sockaddr_in *)a)->sin_port
					       : ((const struct sockaddr_in6 *)a)->sin6_port;
	in_port_t pb = b->ss_family == AF_INET ? ((const struct sockaddr_in *)b)->sin_port
					       : ((const struct sockaddr_in6 *)b)->sin6_port;

	return xfrm_same_host(a, b) && pa == pb;
}

/*
 * Every pair of kernel reqid k moves: the policy templates name k and the kernel checks
 * the tunnel endpoints of whichever SA a packet arrived on against them, so an older
 * generation still in its overlap moves along (pairs already there are left alone).
 */
static int xfrm_kreqid_move(struct dp_xfrm *x, uint32_t k, const struct sockaddr_storage *peer)
{
	struct xfrm_kent *ke = *xfrm_kent_slot(x, k);
	struct xfrm_snap *s = malloc(sizeof(*s));
	int rc = s != NULL ? 0 : -ENOMEM;

	for (struct xfrm_rec *q = ke != NULL ? ke->recs : NULL; rc == 0 && q != NULL;
	     q = q->knext) {
		if (xfrm_same_ep(&q->c.peer, peer))
			continue;
		rc = xfrm_sa_repoint(x, q, peer, s);
		if (rc == 0)
			q->c.peer = *peer;
	}
	if (s != NULL)
		OPENSSL_cleanse(s, sizeof(*s));
	free(s);
	return rc;
}

static int xfrm_child_update_peer(struct dataplane *dp, uint32_t reqid,
				  const struct sockaddr_storage *peer)
{
	struct dp_xfrm *x = xfrm_of(dp);
	struct xfrm_rec *r = *xfrm_rec_slot(x, reqid);
	struct xfrm_pol_spec p;
	int rc;

	if (r == NULL)
		return -ENOENT;
	if (peer->ss_family != r->c.local.ss_family)
		return -EAFNOSUPPORT;
	rc = xfrm_kreqid_move(x, r->kreqid, peer);
	for (size_t k = 0; rc == 0 && k < xfrm_pol_count(&r->c); k++)
		if (xfrm_pol_spec(&r->c, k, r->kreqid, &p))
			rc = xfrm_pol_move(x, &p);
	return rc;
}

/* --- flush: everything in our reqid range, ours from this run or a previous one --- */

struct xfrm_owned {
	size_t n, cap;
	struct xfrm_usersa_id *sas;
	struct xfrm_userpolicy_id *pols;
};

static int xfrm_owned_grow(struct xfrm_owned *o, size_t elem, void **arr)
{
	void *p;

	if (o->n < o->cap)
		return 0;
	p = realloc(*arr, (o->cap ? o->cap * 2 : 64) * elem);
	if (p == NULL)
		return -ENOMEM;
	*arr = p;
	o->cap = o->cap ? o->cap * 2 : 64;
	return 0;
}

static int xfrm_owned_sa_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct xfrm_owned *o = arg;
	struct xfrm_sa_stats st;

	if (xfrm_msg_parse_sa(nlh, &st) < 0 || !xfrm_reqid_owned(st.reqid))
		return 0;
	if (xfrm_owned_grow(o, sizeof(*o->sas), (void **)&o->sas) < 0)
		return -ENOMEM;
	o->sas[o->n++] = st.id;
	return 0;
}

static int xfrm_owned_pol_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct xfrm_owned *o = arg;
	struct xfrm_userpolicy_id id;
	uint32_t reqid;

	if (xfrm_msg_parse_policy(nlh, &id, &reqid) < 0 || !xfrm_reqid_owned(reqid))
		return 0;
	if (xfrm_owned_grow(o, sizeof(*o->pols), (void **)&o->pols) < 0)
		return -ENOMEM;
	o->pols[o->n++] = id;
	return 0;
}

static int xfrm_flush_sas(struct xfrm_nl *n, size_t *count)
{
	struct xfrm_owned o = { 0 };
	int rc = xfrm_msg_dump(n->req, sizeof(n->req), xfrm_nl_seq(n), XFRM_MSG_GETSA);

	if (rc == 0)
		rc = xfrm_nl_talk(n, xfrm_owned_sa_cb, &o);
	for (size_t i = 0; rc == 0 && i < o.n; i++) {
		rc = xfrm_msg_sa_del_id(n->req, sizeof(n->req), xfrm_nl_seq(n), &o.sas[i]);
		if (rc == 0)
			rc = xfrm_nl_talk(n, NULL, NULL);
		if (rc == -ESRCH || rc == -ENOENT) /* expired meanwhile */
			rc = 0;
	}
	*count = o.n;
	free(o.sas);
	return rc;
}

static int xfrm_flush_policies(struct xfrm_nl *n, size_t *count)
{
	struct xfrm_owned o = { 0 };
	int rc = xfrm_msg_dump(n->req, sizeof(n->req), xfrm_nl_seq(n), XFRM_MSG_GETPOLICY);

	if (rc == 0)
		rc = xfrm_nl_talk(n, xfrm_owned_pol_cb, &o);
	for (size_t i = 0; rc == 0 && i < o.n; i++) {
		rc = xfrm_msg_policy_del_index(n->req, sizeof(n->req), xfrm_nl_seq(n),
					       o.pols[i].index, o.pols[i].dir);
		if (rc == 0)
			rc = xfrm_nl_talk(n, NULL, NULL);
		if (rc == -ENOENT)
			rc = 0;
	}
	*count = o.n;
	free(o.pols);
	return rc;
}

static int xfrm_flush(struct dataplane *dp)
{
	struct dp_xfrm *x = xfrm_of(dp);
	size_t npol = 0, nsa = 0;
	int rc = xfrm_flush_policies(x->req, &npol);

	if (rc == 0)
		rc = xfrm_flush_sas(x->req, &nsa);
	if (rc < 0)
		log_err(x->lg, NULL, "xfrm: flush: %s", xfrm_nl_why(x->req, rc));
	else if (npol + nsa > 0)
		log_info(x->lg, NULL, "xfrm: removed %zu policies and %zu SAs of ikegw", npol, nsa);
	xfrm_rec_clear(x);
	xfrm_kent_clear(x);
	xfrm_poltab_clear(x->pols);
	return rc;
}

static void xfrm_free(struct dataplane *dp)
{
	struct dp_xfrm *x = xfrm_of(dp);

	if (x == NULL)
		return;
	xfrm_rec_clear(x);
	xfrm_kent_clear(x);
	xfrm_poltab_free(x->pols);
	xfrm_nl_free(x->req);
	if (x->ev != NULL)
		mnl_socket_close(x->ev);
	free(x);
}

static const struct dataplane_ops xfrm_ops = {
	.name = "xfrm",
	.child_add = xfrm_child_add,
	.child_del = xfrm_child_del,
	.counters = xfrm_counters,
	.child_update_peer = xfrm_child_update_peer,
	.flush = xfrm_flush,
	.free = xfrm_free,
};

/* --- events --- */

static struct mnl_socket *xfrm_ev_open(void)
{
	static const int groups[] = { XFRMNLGRP_EXPIRE, XFRMNLGRP_ACQUIRE };
	struct mnl_socket *ev = mnl_socket_open2(NETLINK_XFRM, SOCK_CLOEXEC | SOCK_NONBLOCK);
	size_t i;

	if (ev == NULL)
		return NULL;
	if (mnl_socket_bind(ev, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		int grp = groups[i];

		if (mnl_socket_setsockopt(ev, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)) < 0)
			goto fail;
	}
	return ev;
fail:
	i = (size_t)errno; /* mnl_socket_close may change errno */
	mnl_socket_close(ev);
	errno = (int)i;
	return NULL;
}

/*
 * The pair an expiring SA belongs to: the kernel names its kernel reqid, which the
 * generations of a rekeyed Child SA share, so the SPI picks the pair.  A kernel reqid we
 * know nothing of (a leftover) is reported under its own number, which the SA code
 * ignores if it knows none; a stale event of a deleted generation, or a number that is
 * now a pair with another kernel reqid, is dropped (0).
 */
static uint32_t xfrm_expire_reqid(struct dp_xfrm *x, const struct xfrm_expire *e)
{
	uint32_t k = e->reqid & XFRM_REQID_MAX;
	struct xfrm_kent *ke = *xfrm_kent_slot(x, k);

	if (ke == NULL)
		return k;
	for (const struct xfrm_rec *q = ke->recs; q != NULL; q = q->knext)
		if (q->c.in.spi == e->spi || q->c.out.spi == e->spi)
			return q->c.reqid;
	return 0;
}

static void xfrm_ev_one(struct dp_xfrm *x, const struct nlmsghdr *nlh)
{
	struct xfrm_expire e;
	uint32_t reqid;

	if (xfrm_msg_parse_expire(nlh, &e) == 0 && xfrm_reqid_owned(e.reqid)) {
		reqid = xfrm_expire_reqid(x, &e);
		log_debug(x->lg, NULL, "xfrm: %s expire spi 0x%08x reqid %u (kernel %u)",
			  e.hard ? "hard" : "soft", e.spi, reqid, e.reqid & XFRM_REQID_MAX);
		if (x->dp.on_expire != NULL && reqid != 0)
			x->dp.on_expire(x->dp.on_expire_arg, reqid,
					e.hard ? DP_EXPIRE_HARD : DP_EXPIRE_SOFT);
	} else if (xfrm_msg_parse_acquire(nlh, &reqid) == 0 && xfrm_reqid_owned(reqid)) {
		/* A responder never initiates: traffic met an out policy whose SA is gone. */
		log_debug(x->lg, NULL, "xfrm: acquire for reqid %u ignored",
			  reqid & XFRM_REQID_MAX);
	}
}

int dp_xfrm_fd(struct dataplane *dp)
{
	struct dp_xfrm *x = xfrm_of(dp);

	return x != NULL ? mnl_socket_get_fd(x->ev) : -EINVAL;
}

void dp_xfrm_read(struct dataplane *dp)
{
	struct dp_xfrm *x = xfrm_of(dp);
	uint8_t *buf = x != NULL ? x->evbuf : NULL;

	for (int round = 0; buf != NULL && round < XFRM_EVENT_ROUNDS; round++) {
		ssize_t got = mnl_socket_recvfrom(x->ev, buf, XFRM_EVBUF);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int len = (int)got;

		if (got < 0 && errno == ENOBUFS) {
			log_warn(x->lg, NULL, "xfrm: event queue overrun, expiry events lost");
			continue;
		}
		if (got < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn(x->lg, NULL, "xfrm: event socket: %s", strerror(errno));
			return;
		}
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
			xfrm_ev_one(x, nlh);
	}
}

struct dataplane *dp_xfrm_new(struct log *lg, struct loop *loop)
{
	struct dp_xfrm *x = calloc(1, sizeof(*x));
	int err;

	if (x == NULL)
		return NULL;
	x->dp.ops = &xfrm_ops;
	x->lg = lg;
	x->loop = loop;
	x->pols = xfrm_poltab_new();
	x->req = x->pols != NULL ? xfrm_nl_new() : NULL;
	x->ev = x->req != NULL ? xfrm_ev_open() : NULL;
	if (x->ev == NULL) {
		err = errno;
		log_err(lg, NULL, "xfrm: netlink socket: %s", strerror(err));
		goto fail;
	}
	err = -xfrm_flush(&x->dp);
	if (err == 0)
		return &x->dp;
fail:
	xfrm_free(&x->dp);
	errno = err;
	return NULL;
}

/* --- probe and socket options --- */

static void xfrm_probe_sa(struct dp_sa *sa, struct sockaddr_storage *src,
			  struct sockaddr_storage *dst)
{
	struct sockaddr_in *s = (struct sockaddr_in *)src, *d = (struct sockaddr_in *)dst;

	/* RFC 8221's mandatory pair; AES-CBC and HMAC-SHA2 exist wherever ESP does. */
	memset(sa, 0, sizeof(*sa));
	sa->spi = 0x49ffffffu;
	sa->encr_id = IKEV2_ENCR_AES_CBC;
	sa->encr_keylen = 128;
	sa->enc_key_len = 16;
	sa->integ_id = IKEV2_INTEG_HMAC_SHA2_256_128;
	sa->integ_key_len = 32;
	memset(src, 0, sizeof(*src));
	memset(dst, 0, sizeof(*dst));
	s->sin_family = d->sin_family = AF_INET;
	inet_pton(AF_INET, "203.0.113.254", &s->sin_addr); /* TEST-NET-3, RFC 5737 */
	inet_pton(AF_INET, "203.0.113.253", &d->sin_addr);
}

static int xfrm_probe_run(struct xfrm_nl *n, char *why, size_t len)
{
	struct sockaddr_storage src, dst;
	struct dp_sa sa;
	struct xfrm_sa_spec s = { .sa = &sa, .src = &src, .dst = &dst, .reqid = XFRM_REQID_PROBE };
	int rc;

	xfrm_probe_sa(&sa, &src, &dst);
	rc = xfrm_msg_sa_add(n->req, sizeof(n->req), xfrm_nl_seq(n), &s);
	if (rc == 0)
		rc = xfrm_nl_talk(n, NULL, NULL);
	if (rc == 0) {
		snprintf(why, len, "kernel ESP ok");
		if (xfrm_msg_sa_id(n->req, sizeof(n->req), xfrm_nl_seq(n), XFRM_MSG_DELSA, &dst,
				   sa.spi) == 0)
			xfrm_nl_talk(n, NULL, NULL);
		return 0;
	}
	snprintf(why, len, "%s: %s (-%s)", rc == -EPROTONOSUPPORT ?
		 "kernel has no ESP support" : "kernel refused an ESP SA",
		 xfrm_nl_why(n, rc), strerrorname_np(-rc) ? strerrorname_np(-rc) : "?");
	return rc;
}

int xfrm_probe(char *why, size_t len)
{
	struct xfrm_nl *n = xfrm_nl_new();
	int rc;

	if (n == NULL) {
		rc = -errno;
		snprintf(why, len, "no XFRM netlink: %s", strerror(-rc));
		return rc;
	}
	rc = xfrm_probe_run(n, why, len);
	xfrm_nl_free(n);
	return rc;
}

int xfrm_socket_bypass(int fd, int family)
{
	struct xfrm_userpolicy_info pol;
	int level = family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
	int name = family == AF_INET ? IP_XFRM_POLICY : IPV6_XFRM_POLICY;

	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	memset(&pol, 0, sizeof(pol));
	pol.action = XFRM_POLICY_ALLOW;
	pol.sel.family = (uint16_t)family;
	pol.lft.soft_byte_limit = pol.lft.hard_byte_limit = XFRM_INF;
	pol.lft.soft_packet_limit = pol.lft.hard_packet_limit = XFRM_INF;
	for (int dir = XFRM_POLICY_IN; dir <= XFRM_POLICY_OUT; dir++) {
		pol.dir = (uint8_t)dir;
		if (setsockopt(fd, level, name, &pol, sizeof(pol)) < 0)
			return -errno;
	}
	return 0;
}

int xfrm_socket_encap(int fd)
{
	int type = UDP_ENCAP_ESPINUDP;

	return setsockopt(fd, IPPROTO_UDP, UDP_ENCAP, &type, sizeof(type)) < 0 ? -errno : 0;
}
