/* SPDX-License-Identifier: ISC */
/* Reference counts for XFRM policies shared by Child SAs (see ikegw/xfrm_pol.h). */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ikegw/xfrm_pol.h"

/* Chained, fixed: every change also costs a netlink round trip, so chains stay cheap. */
#define XFRM_POL_BUCKETS 1024u

/* One Child SA using a policy: its dataplane reqid, the kernel reqid its SAs carry and its
 * template's endpoints (a sockaddr_in fits in a sockaddr_in6, which keeps a user at 64
 * bytes, not 264). */
struct xfrm_pol_user {
	uint32_t user;
	uint32_t kreqid; /* tagged */
	struct sockaddr_in6 tmpl_src, tmpl_dst;
};

struct xfrm_pol {
	struct xfrm_pol *next;
	uint8_t dir;
	struct dp_prefix src, dst;   /* host bits and bytes past the family cleared */
	uint32_t n, cap;
	struct xfrm_pol_user *users; /* oldest first */
	struct xfrm_pol_user cur;    /* what the kernel's template says (users[n-1]'s) */
};

struct xfrm_poltab {
	struct xfrm_pol *b[XFRM_POL_BUCKETS];
	size_t n;
};

/* ---- keys ---- */

/* The kernel compares selectors byte for byte, so equal prefixes must be equal bytes. */
static int pol_prefix_norm(const struct dp_prefix *in, struct dp_prefix *out)
{
	size_t alen = in->family == AF_INET ? 4 : in->family == AF_INET6 ? 16 : 0;

	if (alen == 0 || in->plen > alen * 8)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->family = in->family;
	out->plen = in->plen;
	for (size_t i = 0; i < alen; i++) {
		unsigned bits = in->plen > i * 8 ? in->plen - i * 8u : 0;

		out->addr[i] = bits >= 8 ? in->addr[i] : (uint8_t)(in->addr[i] & (0xff00u >> bits));
	}
	return 0;
}

static int pol_key(const struct xfrm_pol_spec *p, struct xfrm_pol *key)
{
	int rc;

	memset(key, 0, sizeof(*key));
	key->dir = p->dir;
	rc = pol_prefix_norm(p->src, &key->src);
	return rc == 0 ? pol_prefix_norm(p->dst, &key->dst) : rc;
}

static uint32_t pol_hash_bytes(uint32_t h, const void *data, size_t len)
{
	const uint8_t *b = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 16777619u; /* FNV-1a */
	return h;
}

static uint32_t pol_bucket(const struct xfrm_pol *key)
{
	uint32_t h = pol_hash_bytes(2166136261u, &key->dir, 1);

	h = pol_hash_bytes(h, &key->src, sizeof(key->src));
	h = pol_hash_bytes(h, &key->dst, sizeof(key->dst));
	return h % XFRM_POL_BUCKETS;
}

static bool pol_same(const struct xfrm_pol *a, const struct xfrm_pol *key)
{
	return a->dir == key->dir && memcmp(&a->src, &key->src, sizeof(key->src)) == 0 &&
	       memcmp(&a->dst, &key->dst, sizeof(key->dst)) == 0;
}

static struct xfrm_pol **pol_slot(struct xfrm_poltab *t, const struct xfrm_pol *key)
{
	struct xfrm_pol **pp = &t->b[pol_bucket(key)];

	while (*pp != NULL && !pol_same(*pp, key))
		pp = &(*pp)->next;
	return pp;
}

/* ---- users ---- */

static int pol_ep_store(struct sockaddr_in6 *e, const struct sockaddr_storage *ss)
{
	memset(e, 0, sizeof(*e));
	if (ss->ss_family == AF_INET)
		memcpy(e, ss, sizeof(struct sockaddr_in));
	else if (ss->ss_family == AF_INET6)
		memcpy(e, ss, sizeof(struct sockaddr_in6));
	else
		return -EAFNOSUPPORT;
	return 0;
}

static void pol_ep_load(struct sockaddr_storage *ss, const struct sockaddr_in6 *e)
{
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, e, sizeof(*e));
}

static int pol_user_make(const struct xfrm_pol_spec *p, uint32_t user,
			 struct xfrm_pol_user *u)
{
	int rc;

	memset(u, 0, sizeof(*u));
	u->user = user;
	u->kreqid = p->reqid;
	rc = pol_ep_store(&u->tmpl_src, p->tmpl_src);
	return rc == 0 ? pol_ep_store(&u->tmpl_dst, p->tmpl_dst) : rc;
}

static int pol_user_find(const struct xfrm_pol *pol, uint32_t user)
{
	for (uint32_t i = 0; i < pol->n; i++)
		if (pol->users[i].user == user)
			return (int)i;
	return -1;
}

static int pol_user_push(struct xfrm_pol *pol, const struct xfrm_pol_user *u)
{
	if (pol->n == pol->cap) {
		uint32_t cap = pol->cap ? pol->cap * 2 : 1;
		struct xfrm_pol_user *nu = realloc(pol->users, cap * sizeof(*nu));

		if (nu == NULL)
			return -ENOMEM;
		pol->users = nu;
		pol->cap = cap;
	}
	pol->users[pol->n++] = *u;
	return 0;
}

/* Does the template (cur) say what the newest user needs?  Users are memset before they
 * are filled, so whole-struct comparison sees no padding garbage. */
static bool pol_cur_ok(const struct xfrm_pol *pol)
{
	const struct xfrm_pol_user *u = &pol->users[pol->n - 1];

	return u->kreqid == pol->cur.kreqid &&
	       memcmp(&u->tmpl_src, &pol->cur.tmpl_src, sizeof(u->tmpl_src)) == 0 &&
	       memcmp(&u->tmpl_dst, &pol->cur.tmpl_dst, sizeof(u->tmpl_dst)) == 0;
}

/* Point the template at the newest user: KEEP when it already does, else UPDATE. */
static enum xfrm_pol_act pol_cur_sync(struct xfrm_pol *pol)
{
	if (pol_cur_ok(pol))
		return XFRM_POL_KEEP;
	pol->cur = pol->users[pol->n - 1];
	return XFRM_POL_UPDATE;
}

static void pol_msg_fill(struct xfrm_pol_msg *m, const struct xfrm_pol *pol,
			 const struct xfrm_pol_user *u)
{
	m->src = pol->src;
	m->dst = pol->dst;
	pol_ep_load(&m->tmpl_src, &u->tmpl_src);
	pol_ep_load(&m->tmpl_dst, &u->tmpl_dst);
	m->spec = (struct xfrm_pol_spec){
		.dir = pol->dir, .src = &m->src, .dst = &m->dst,
		.tmpl_src = &m->tmpl_src, .tmpl_dst = &m->tmpl_dst, .reqid = u->kreqid,
	};
}

static void pol_free(struct xfrm_pol *pol)
{
	free(pol->users);
	free(pol);
}

/* ---- the table ---- */

struct xfrm_poltab *xfrm_poltab_new(void)
{
	return calloc(1, sizeof(struct xfrm_poltab));
}

void xfrm_poltab_clear(struct xfrm_poltab *t)
{
	for (size_t i = 0; t != NULL && i < XFRM_POL_BUCKETS; i++) {
		while (t->b[i] != NULL) {
			struct xfrm_pol *pol = t->b[i];

			t->b[i] = pol->next;
			pol_free(pol);
		}
	}
	if (t != NULL)
		t->n = 0;
}

void xfrm_poltab_free(struct xfrm_poltab *t)
{
	xfrm_poltab_clear(t);
	free(t);
}

size_t xfrm_poltab_count(const struct xfrm_poltab *t)
{
	return t->n;
}

int xfrm_poltab_ref(struct xfrm_poltab *t, const struct xfrm_pol_spec *p, uint32_t user,
		    enum xfrm_pol_act *act)
{
	struct xfrm_pol key, **pp, *pol;
	struct xfrm_pol_user u;
	int rc = pol_key(p, &key);

	if (rc == 0)
		rc = pol_user_make(p, user, &u);
	if (rc < 0)
		return rc;
	pp = pol_slot(t, &key);
	if (*pp != NULL) {
		if (pol_user_find(*pp, user) >= 0)
			return -EEXIST;
		rc = pol_user_push(*pp, &u);
		if (rc == 0)
			*act = pol_cur_sync(*pp);
		return rc;
	}
	pol = malloc(sizeof(*pol));
	if (pol == NULL)
		return -ENOMEM;
	*pol = key;
	if (pol_user_push(pol, &u) < 0) {
		pol_free(pol);
		return -ENOMEM;
	}
	pol->cur = u;
	*pp = pol;
	t->n++;
	*act = XFRM_POL_NEW;
	return 0;
}

int xfrm_poltab_unref(struct xfrm_poltab *t, const struct xfrm_pol_spec *p, uint32_t user,
		      enum xfrm_pol_act *act, struct xfrm_pol_msg *out)
{
	struct xfrm_pol key, **pp, *pol;
	int i;

	if (pol_key(p, &key) < 0 || *(pp = pol_slot(t, &key)) == NULL)
		return -ENOENT;
	pol = *pp;
	i = pol_user_find(pol, user);
	if (i < 0)
		return -ENOENT;
	memmove(&pol->users[i], &pol->users[i + 1],
		(pol->n - (uint32_t)i - 1) * sizeof(pol->users[0]));
	pol->n--;
	if (pol->n == 0) {
		pol_msg_fill(out, pol, &pol->cur);
		*pp = pol->next;
		pol_free(pol);
		t->n--;
		*act = XFRM_POL_DELETE;
		return 0;
	}
	*act = pol_cur_sync(pol);
	if (*act == XFRM_POL_UPDATE)
		pol_msg_fill(out, pol, &pol->cur);
	return 0;
}

int xfrm_poltab_move(struct xfrm_poltab *t, const struct xfrm_pol_spec *p,
		     enum xfrm_pol_act *act)
{
	struct xfrm_pol key, **pp;
	struct xfrm_pol_user u;
	bool found = false;

	if (pol_key(p, &key) < 0 || pol_user_make(p, 0, &u) < 0 ||
	    *(pp = pol_slot(t, &key)) == NULL)
		return -ENOENT;
	for (uint32_t i = 0; i < (*pp)->n; i++) {
		struct xfrm_pol_user *v = &(*pp)->users[i];

		if (v->kreqid == p->reqid) {
			v->tmpl_src = u.tmpl_src;
			v->tmpl_dst = u.tmpl_dst;
			found = true;
		}
	}
	if (!found)
		return -ENOENT;
	*act = pol_cur_sync(*pp);
	return 0;
}

uint32_t xfrm_poltab_kreqid(const struct xfrm_poltab *t, const struct xfrm_pol_spec *p)
{
	struct xfrm_pol key;
	const struct xfrm_pol *pol;

	if (pol_key(p, &key) < 0)
		return 0;
	for (pol = t->b[pol_bucket(&key)]; pol != NULL; pol = pol->next)
		if (pol_same(pol, &key))
			return pol->cur.kreqid;
	return 0;
}
