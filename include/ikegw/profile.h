/* SPDX-License-Identifier: ISC */
/* Which configured profile a client gets: by auth method, then its match rules. */
#ifndef IKEGW_PROFILE_H
#define IKEGW_PROFILE_H

#include <openssl/x509.h>

#include "ikegw/config.h"

/* What we know of the client when choosing (NULL / empty where not known yet). */
struct profile_facts {
	enum config_auth method;  /* the first round's method */
	const char *identity;     /* IDi as text */
	X509 *leaf;               /* verified client certificate, or NULL */
	X509 *anchor;             /* the CA its chain ended at, or NULL */
	const char *radius_class;
};

/* The first profile (file order) whose first auth round and match rules fit, or NULL. */
const struct config_profile *profile_select(const struct config *cfg,
					     const struct profile_facts *f);
/* Only the match rules of one profile. */
bool profile_matches(const struct config_profile *p, const struct profile_facts *f);

#endif
