/* SPDX-License-Identifier: ISC */
/*
 * Who uses which kernel XFRM policy: reference counts for policies shared by Child SAs.
 *
 * The kernel keeps one policy per (selector, direction), and its template names one reqid.
 * Several Child SAs can need the same one: a rekeyed Child SA (RFC 7296 2.8) has the same
 * traffic selectors under a new reqid and is installed before the old one goes, and
 * additional Child SAs (1.3.1) may overlap.  So each policy keeps its users in the order
 * they came, points at the newest, points back at the newest remaining one when that one
 * goes, and is deleted with its last user.
 *
 * Pure bookkeeping, no sockets: each change says what the kernel must now be told
 * (xfrm.c sends it), so it is unit-tested without a kernel.
 */
#ifndef IKEGW_XFRM_POL_H
#define IKEGW_XFRM_POL_H

#include "ikegw/xfrm.h"

struct xfrm_poltab;

enum xfrm_pol_act {
	XFRM_POL_KEEP,   /* nothing to send */
	XFRM_POL_NEW,    /* XFRM_MSG_NEWPOLICY: the first user */
	XFRM_POL_UPDATE, /* XFRM_MSG_UPDPOLICY: the template now names another user */
	XFRM_POL_DELETE, /* XFRM_MSG_DELPOLICY: the last user went */
};

/* A policy as the kernel must see it, self-contained (no pointers into the table). */
struct xfrm_pol_msg {
	struct xfrm_pol_spec spec; /* points into the fields below */
	struct dp_prefix src, dst;
	struct sockaddr_storage tmpl_src, tmpl_dst;
};

struct xfrm_poltab *xfrm_poltab_new(void);
void xfrm_poltab_free(struct xfrm_poltab *t);
/* Forget every policy (after a flush removed them from the kernel). */
void xfrm_poltab_clear(struct xfrm_poltab *t);
size_t xfrm_poltab_count(const struct xfrm_poltab *t); /* policies, not users */

/*
 * p->reqid (tagged) becomes a user of the policy (p->dir, p->src, p->dst), the newest.
 * 0 with *act NEW or UPDATE (send p); -EEXIST when that reqid already uses it; -EINVAL
 * for a bad prefix; -ENOMEM.  If the kernel then refuses, undo with xfrm_poltab_unref.
 */
int xfrm_poltab_ref(struct xfrm_poltab *t, const struct xfrm_pol_spec *p,
		    enum xfrm_pol_act *act);

/*
 * p->reqid stops using the policy.  0 with *act: KEEP, UPDATE (it was the newest: send
 * *out, the newest remaining user) or DELETE (it was the last: delete *out); -ENOENT when
 * it was no user of it.
 */
int xfrm_poltab_unref(struct xfrm_poltab *t, const struct xfrm_pol_spec *p,
		      enum xfrm_pol_act *act, struct xfrm_pol_msg *out);

/*
 * p->reqid's tunnel endpoints changed (peer moved) to p->tmpl_src/tmpl_dst.  0 with *act
 * UPDATE when the policy points at it (send p), else KEEP; -ENOENT when no user.
 */
int xfrm_poltab_move(struct xfrm_poltab *t, const struct xfrm_pol_spec *p,
		     enum xfrm_pol_act *act);

#endif
