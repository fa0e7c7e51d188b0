/* SPDX-License-Identifier: ISC */
/*
 * Who uses which kernel XFRM policy: reference counts for policies shared by Child SAs.
 *
 * The kernel keeps one policy per (selector, direction), and its template names one
 * kernel reqid; the kernel's inbound check only accepts a packet whose SA carries that
 * reqid.  Several Child SAs can need the same policy: a rekeyed Child SA (RFC 7296 2.8)
 * has the same traffic selectors and is installed before the old one goes, and
 * additional Child SAs (1.3.1) may overlap.  A rekey therefore shares its predecessor's
 * kernel reqid (xfrm.c decides, see xfrm.h), so the template stays as it is while both
 * generations carry traffic.  Each policy keeps its users (Child SAs, by their dataplane
 * reqid) in the order they came, each with the kernel reqid its SAs carry; the template
 * names the newest user's kernel reqid and endpoints, is rewritten only when that changes
 * (an overlapping Child SA with its own kernel reqid, or the last user of the named
 * kernel reqid went), and the policy is deleted with its last user.
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
	XFRM_POL_UPDATE, /* XFRM_MSG_UPDPOLICY: the template now names another kernel reqid
			  * or other endpoints */
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
 * user (a Child SA's dataplane reqid) becomes the newest user of the policy (p->dir,
 * p->src, p->dst), its SAs carrying the kernel reqid p->reqid (tagged) between
 * p->tmpl_src and p->tmpl_dst.  0 with *act NEW or UPDATE (send p) or KEEP (the template
 * already says exactly p: a rekey sharing the kernel reqid); -EEXIST when user already
 * uses it; -EINVAL for a bad prefix; -ENOMEM.  If the kernel then refuses, undo with
 * xfrm_poltab_unref.
 */
int xfrm_poltab_ref(struct xfrm_poltab *t, const struct xfrm_pol_spec *p, uint32_t user,
		    enum xfrm_pol_act *act);

/*
 * user stops using the policy (p->dir, p->src, p->dst).  0 with *act: KEEP (the template
 * stays right: a remaining newest user has the same kernel reqid), UPDATE (send *out, the
 * newest remaining user's) or DELETE (it was the last: delete *out); -ENOENT when it was
 * no user of it.
 */
int xfrm_poltab_unref(struct xfrm_poltab *t, const struct xfrm_pol_spec *p, uint32_t user,
		      enum xfrm_pol_act *act, struct xfrm_pol_msg *out);

/*
 * The SAs of kernel reqid p->reqid moved (peer moved) to p->tmpl_src/tmpl_dst: every user
 * of the policy with that kernel reqid takes the new endpoints.  0 with *act UPDATE when
 * the template names that kernel reqid and its endpoints changed (send p), else KEEP;
 * -ENOENT when no user has it.
 */
int xfrm_poltab_move(struct xfrm_poltab *t, const struct xfrm_pol_spec *p,
		     enum xfrm_pol_act *act);

/* The kernel reqid (tagged) the template of policy (p->dir, p->src, p->dst) names now;
 * 0 when there is no such policy. */
uint32_t xfrm_poltab_kreqid(const struct xfrm_poltab *t, const struct xfrm_pol_spec *p);

#endif
