/* SPDX-License-Identifier: ISC */
#include <fnmatch.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ikegw/cert.h"
#include "ikegw/profile.h"

/* match.ca names one of trust.ca: the client's chain must end at a certificate of that
 * file, compared by the digests the config took when it was loaded. */
static bool ca_matches(const struct config_match *m, X509 *anchor)
{
	uint8_t d[32];
	unsigned int len = 0;

	if (!anchor || X509_digest(anchor, EVP_sha256(), d, &len) != 1 || len != sizeof(d))
		return false;
	for (size_t i = 0; i < m->n_ca_sha256; i++)
		if (memcmp(m->ca_sha256[i], d, sizeof(d)) == 0)
			return true;
	return false;
}

bool profile_matches(const struct config_profile *p, const struct profile_facts *f)
{
	const struct config_match *m = &p->match;
	char subject[512];

	if (m->identity && (!f->identity || fnmatch(m->identity, f->identity, 0) != 0))
		return false;
	if (m->ca && !ca_matches(m, f->anchor))
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
