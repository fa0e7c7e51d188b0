/* SPDX-License-Identifier: ISC */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>

#include "ikegw/cert.h"
#include "ikegw/profile.h"

/* match.ca names one of trust.ca: the client's chain must end at that certificate. */
static bool ca_matches(const char *path, X509 *anchor)
{
	FILE *f;
	X509 *ca;
	bool ok;

	if (!anchor)
		return false;
	f = fopen(path, "r");
	if (!f)
		return false;
	ca = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ok = ca && X509_cmp(ca, anchor) == 0;
	X509_free(ca);
	return ok;
}

bool profile_matches(const struct config_profile *p, const struct profile_facts *f)
{
	const struct config_match *m = &p->match;
	char subject[512];

	if (m->identity && (!f->identity || fnmatch(m->identity, f->identity, 0) != 0))
		return false;
	if (m->ca && !ca_matches(m->ca, f->anchor))
		return false;
	if (m->subject) {
		if (!f->leaf)
			return false;
		cert_subject_text(f->leaf, subject, sizeof(subject));
		if (!strstr(subject, m->subject))
			return false;
	}
	if (m->radius_class && (!f->radius_class || strcmp(m->radius_class, f->radius_class)))
		return false;
	return true;
}

const struct config_profile *profile_select(const struct config *cfg,
					     const struct profile_facts *f)
{
	for (size_t i = 0; i < cfg->n_profiles; i++) {
		const struct config_profile *p = &cfg->profiles[i];

		if (p->n_auth > 0 && p->auth[0] == f->method && profile_matches(p, f))
			return p;
	}
	return NULL;
}
