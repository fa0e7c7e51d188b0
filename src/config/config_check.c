/* SPDX-License-Identifier: ISC */
/*
 * Whole-config validation after parsing: defaults that depend on other values, pools
 * vs. each other, vs. split-tunnel subnets and our own addresses, profiles vs. what
 * their authentication needs, proposal strings (proposal_parse), and the certificate,
 * key, CA and CRL files.  Every error points at the key that introduced the value.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ikegw/ikev2.h"
#include "config_internal.h"

/* Secure by default (SPEC.md): AEAD first, no MODP-1024, no SHA-1. */
static const char *const default_ike[] = { "aes256gcm16-prfsha384-x25519",
					   "aes256gcm16-prfsha256-ecp256",
					   "aes256-sha256-modp2048" };
static const char *const default_esp[] = { "aes256gcm16", "aes128gcm16", "aes256-sha256" };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *nm(const char *s)
{
	return s ? s : "?";
}

/* ---- gateway ------------------------------------------------------------------ */

static int listen_defaults(struct config_gateway *g)
{
	g->listen = calloc(2, sizeof(*g->listen));
	if (!g->listen)
		return -ENOMEM;
	g->listen[0].family = AF_INET;   /* 0.0.0.0 */
	g->listen[1].family = AF_INET6;  /* :: */
	g->n_listen = 2;
	return 0;
}

static int ip_equal(const struct config_ip *a, const struct config_ip *b)
{
	if (a->family != b->family)
		return 0;
	return a->family == AF_INET ? a->u.v4.s_addr == b->u.v4.s_addr
				    : memcmp(&a->u.v6, &b->u.v6, sizeof(a->u.v6)) == 0;
}

static int ip_is_any(const struct config_ip *ip)
{
	return ip->family == AF_INET ? ip->u.v4.s_addr == 0 : IN6_IS_ADDR_UNSPECIFIED(&ip->u.v6);
}

/* IFNAMSIZ is 16 with the NUL; the kernel refuses '/', whitespace, "." and "..". */
static int valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	return strcspn(s, "/: \t\n") == n;
}

static int check_gateway(struct cfg_ctx *c)
{
	struct config_gateway *g = &c->cfg->gateway;
	char a[INET6_ADDRSTRLEN];

	if (g->n_listen == 0 && g->mark.listen.line == 0 && listen_defaults(g) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < g->n_listen; i++) {
		for (size_t j = 0; j < i; j++) {
			if (!ip_equal(&g->listen[i], &g->listen[j]))
				continue;
			cfg_ip_format(&g->listen[i], a, sizeof(a));
			cfg_error(c, g->listen[i].mark, "gateway.listen: %s is listed twice", a);
			break;
		}
	}
	if (g->port == g->natt_port)
		cfg_error(c, g->mark.natt_port.line ? g->mark.natt_port : g->mark.port,
			  "gateway.natt_port must differ from gateway.port (both %u)", g->port);
	if (g->tun_name && !valid_ifname(g->tun_name))
		cfg_error(c, g->mark.tun_name,
			  "gateway.tun_name '%s' is not a valid interface name (1-15 characters, "
			  "no '/', ':' or spaces)", g->tun_name);
	if (g->control_socket && strlen(g->control_socket) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		cfg_error(c, g->mark.control_socket,
			  "gateway.control_socket: the path is longer than a UNIX socket allows "
			  "(107 bytes)");
	/* RFC 7296 2.6: COOKIEs are the defence before the half-open cap drops everyone */
	if (g->cookie_threshold >= g->max_half_open)
		cfg_error(c, g->mark.cookie_threshold.line ? g->mark.cookie_threshold
							   : g->mark.max_half_open,
			  "gateway.cookie_threshold (%u) must be below gateway.max_half_open (%u): "
			  "COOKIEs would never be asked for", g->cookie_threshold, g->max_half_open);
	return 0;
}

/* ---- proposals ---------------------------------------------------------------- */

static int proposal_defaults(struct config_str **src, size_t *n, const char *const *def,
			     size_t n_def)
{
	*src = calloc(n_def, sizeof(**src));
	if (!*src)
		return -ENOMEM;
	for (size_t i = 0; i < n_def; i++) {
		(*src)[i].s = strdup(def[i]);
		if (!(*src)[i].s)
			return -ENOMEM; /* config_free frees the others: n counts them */
		*n = i + 1;
	}
	return 0;
}

static int proposals_parse(struct cfg_ctx *c, const char *what, uint8_t proto,
			   const struct config_str *src, size_t n, struct ike_proposal **out)
{
	char why[256];

	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		why[0] = '\0';
		if (proposal_parse(src[i].s, proto, c->cfg->gateway.allow_legacy, &(*out)[i], why,
				   sizeof(why)) < 0)
			cfg_error(c, src[i].mark, "proposals.%s[%zu] '%s': %s", what, i, src[i].s,
				  why[0] ? why : "invalid proposal");
	}
	return 0;
}

static int check_proposals(struct cfg_ctx *c)
{
	struct config_proposals *p = &c->cfg->proposals;

	if (p->n_ike == 0 && p->mark.ike.line == 0 &&
	    proposal_defaults(&p->ike_src, &p->n_ike, default_ike, NELEM(default_ike)) < 0)
		return -ENOMEM;
	if (p->n_esp == 0 && p->mark.esp.line == 0 &&
	    proposal_defaults(&p->esp_src, &p->n_esp, default_esp, NELEM(default_esp)) < 0)
		return -ENOMEM;
	if (proposals_parse(c, "ike", IKEV2_PROTO_IKE, p->ike_src, p->n_ike, &p->ike) < 0 ||
	    proposals_parse(c, "esp", IKEV2_PROTO_ESP, p->esp_src, p->n_esp, &p->esp) < 0)
		return -ENOMEM;
	return 0;
}

/* ---- pools -------------------------------------------------------------------- */

/* Pools are bitmaps (ARCHITECTURE.md): at most 2^24 addresses (2 MiB) each.  IPv4
 * pools never hand out the network and broadcast addresses (SPEC.md). */
static void pool_size(struct cfg_ctx *c, const struct config_pool *p,
		      const struct config_prefix *pf, struct config_mark m)
{
	int v4 = pf->addr.family == AF_INET;
	unsigned min = v4 ? 8 : 104, max = v4 ? 30 : 126;
	char s[INET6_ADDRSTRLEN + 8];

	cfg_prefix_format(pf, s, sizeof(s));
	if (pf->len > max)
		cfg_error(c, m, "pool '%s' %s is too small: use a /%u or shorter prefix",
			  nm(p->name), s, max);
	else if (pf->len < min)
		cfg_error(c, m, "pool '%s' %s is too large: at most 16777216 addresses "
			  "(a /%u or longer prefix)", nm(p->name), s, min);
}

static void pool_vs_pool(struct cfg_ctx *c, const struct config_pool *a,
			 const struct config_pool *b)
{
	char s[INET6_ADDRSTRLEN + 8];

	if (a->has_ipv4 && b->has_ipv4 && cfg_prefix_overlap(&a->ipv4, &b->ipv4)) {
		cfg_prefix_format(&a->ipv4, s, sizeof(s));
		cfg_error(c, b->mark.ipv4, "pool '%s' ipv4 overlaps pool '%s' (%s, line %u)",
			  nm(b->name), nm(a->name), s, a->mark.ipv4.line);
	}
	if (a->has_ipv6 && b->has_ipv6 && cfg_prefix_overlap(&a->ipv6, &b->ipv6)) {
		cfg_prefix_format(&a->ipv6, s, sizeof(s));
		cfg_error(c, b->mark.ipv6, "pool '%s' ipv6 overlaps pool '%s' (%s, line %u)",
			  nm(b->name), nm(a->name), s, a->mark.ipv6.line);
	}
}

static void pool_vs_listen(struct cfg_ctx *c, const struct config_pool *p)
{
	const struct config_gateway *g = &c->cfg->gateway;
	char a[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < g->n_listen; i++) {
		const struct config_ip *ip = &g->listen[i];
		int in4 = p->has_ipv4 && cfg_prefix_contains_ip(&p->ipv4, ip);
		int in6 = p->has_ipv6 && cfg_prefix_contains_ip(&p->ipv6, ip);

		if (ip_is_any(ip) || (!in4 && !in6))
			continue;
		cfg_ip_format(ip, a, sizeof(a));
		cfg_error(c, in4 ? p->mark.ipv4 : p->mark.ipv6,
			  "pool '%s' contains the gateway's own listen address %s", nm(p->name), a);
	}
}

static void check_pool(struct cfg_ctx *c, size_t i)
{
	const struct config_pool *p = &c->cfg->pools[i];

	if (!p->has_ipv4 && !p->has_ipv6 && !p->mark.ipv4.line && !p->mark.ipv6.line)
		cfg_error(c, p->mark.self, "pool '%s' needs ipv4 or ipv6 (or both)", nm(p->name));
	if (p->has_ipv4)
		pool_size(c, p, &p->ipv4, p->mark.ipv4);
	if (p->has_ipv6)
		pool_size(c, p, &p->ipv6, p->mark.ipv6);
	for (size_t j = 0; j < i; j++) {
		const struct config_pool *q = &c->cfg->pools[j];
		if (p->name && q->name && strcmp(p->name, q->name) == 0)
			cfg_error(c, p->mark.name, "duplicate pool name '%s' (first at line %u)",
				  p->name, q->mark.name.line);
		pool_vs_pool(c, q, p);
	}
	pool_vs_listen(c, p);
}

static void check_users(struct cfg_ctx *c)
{
	const struct config *cfg = c->cfg;

	for (size_t i = 0; i < cfg->n_users; i++)
		for (size_t j = 0; j < i; j++)
			if (cfg->users[i].name && cfg->users[j].name &&
			    strcmp(cfg->users[i].name, cfg->users[j].name) == 0) {
				cfg_error(c, cfg->users[i].mark.name,
					  "duplicate user name '%s' (first at line %u)",
					  cfg->users[i].name, cfg->users[j].mark.name.line);
				break;
			}
}

/* ---- profiles ----------------------------------------------------------------- */

static int has_auth(const struct config_profile *p, enum config_auth a)
{
	for (size_t i = 0; i < p->n_auth; i++)
		if (p->auth[i] == a)
			return 1;
	return 0;
}

static int has_eap(const struct config_profile *p)
{
	return has_auth(p, CONFIG_AUTH_EAP_MSCHAPV2) || has_auth(p, CONFIG_AUTH_EAP_TLS) ||
	       has_auth(p, CONFIG_AUTH_EAP_RADIUS);
}

static void check_rounds(struct cfg_ctx *c, const struct config_profile *p)
{
	if (p->n_auth == 2 && p->auth[0] == p->auth[1])
		cfg_error(c, p->mark.auth, "profile '%s': both rounds use %s", nm(p->name),
			  config_auth_name(p->auth[0]));
	/* RFC 4739: the second round is the "another auth follows" EAP or cert exchange;
	 * a PSK after a first round adds nothing but a second shared secret to leak. */
	else if (p->n_auth == 2 && p->auth[1] == CONFIG_AUTH_PSK)
		cfg_error(c, p->mark.auth, "profile '%s': psk can only be the first round",
			  nm(p->name));
}

static void check_psk(struct cfg_ctx *c, const struct config_profile *p)
{
	int wants = has_auth(p, CONFIG_AUTH_PSK);

	if (wants && !p->psk && !p->mark.psk.line)
		cfg_error(c, p->mark.auth, "profile '%s' uses psk authentication but has no psk "
			  "secret", nm(p->name));
	if (!wants && p->mark.psk.line)
		cfg_error(c, p->mark.psk, "profile '%s' has a psk but psk is not in its auth list",
			  nm(p->name));
	if (wants && p->psk && strlen(p->psk) < CONFIG_PSK_MIN_LEN)
		cfg_error(c, p->mark.psk, "profile '%s': the psk is shorter than %u characters "
			  "(PSKs can be guessed offline: use a long random one)", nm(p->name),
			  CONFIG_PSK_MIN_LEN);
}

static void check_auth_needs(struct cfg_ctx *c, const struct config_profile *p)
{
	const struct config *cfg = c->cfg;
	int certish = has_auth(p, CONFIG_AUTH_CERTIFICATE) || has_auth(p, CONFIG_AUTH_EAP_TLS);

	if (has_auth(p, CONFIG_AUTH_EAP_MSCHAPV2) && cfg->n_users == 0)
		cfg_error(c, p->mark.auth, "profile '%s' uses eap-mschapv2 but no users are "
			  "defined", nm(p->name));
	if (has_auth(p, CONFIG_AUTH_EAP_RADIUS) && cfg->radius.n_servers == 0)
		cfg_error(c, p->mark.auth, "profile '%s' uses eap-radius but no radius servers are "
			  "defined", nm(p->name));
	/* RFC 7296 2.16: with EAP the responder still authenticates with a signature. */
	if ((has_auth(p, CONFIG_AUTH_CERTIFICATE) || has_eap(p)) &&
	    (!cfg->gateway.certificate || !cfg->gateway.private_key))
		cfg_error(c, p->mark.auth, "profile '%s': certificate and EAP authentication need "
			  "gateway.certificate and gateway.private_key", nm(p->name));
	if (certish && cfg->trust.n_ca == 0)
		cfg_error(c, p->mark.auth, "profile '%s': client certificates need at least one "
			  "trust.ca", nm(p->name));
}

static void check_match(struct cfg_ctx *c, const struct config_profile *p)
{
	const struct config_match *m = &p->match;
	const struct config_trust *t = &c->cfg->trust;
	int certish = has_auth(p, CONFIG_AUTH_CERTIFICATE) || has_auth(p, CONFIG_AUTH_EAP_TLS);
	size_t i;

	if (m->ca) {
		for (i = 0; i < t->n_ca && strcmp(t->ca[i].s, m->ca) != 0; i++)
			;
		if (i == t->n_ca)
			cfg_error(c, m->mark.ca, "profile '%s': match.ca %s is not listed in trust.ca",
				  nm(p->name), m->ca);
	}
	if ((m->ca || m->subject) && !certish)
		cfg_error(c, m->ca ? m->mark.ca : m->mark.subject, "profile '%s': match.%s needs "
			  "certificate or eap-tls authentication", nm(p->name),
			  m->ca ? "ca" : "subject");
	if (m->radius_class && !has_auth(p, CONFIG_AUTH_EAP_RADIUS))
		cfg_error(c, m->mark.radius_class, "profile '%s': match.radius_class needs "
			  "eap-radius authentication", nm(p->name));
}

static void pool_names(const struct config *cfg, char *out, size_t outlen)
{
	size_t used = 0;

	snprintf(out, outlen, "none defined");
	for (size_t i = 0; i < cfg->n_pools && used < outlen; i++)
		used += (size_t)snprintf(out + used, outlen - used, "%s%s", i ? ", " : "",
					 nm(cfg->pools[i].name));
}

static int allow_defaults(struct config_profile *p)
{
	int v6 = p->pool && p->pool->has_ipv6;

	p->allow = calloc(2, sizeof(*p->allow));
	if (!p->allow)
		return -ENOMEM;
	p->allow[0].addr.family = AF_INET; /* 0.0.0.0/0 */
	p->allow[1].addr.family = AF_INET6; /* ::/0 when the clients get IPv6 */
	p->n_allow = v6 ? 2 : 1;
	return 0;
}

static void allow_vs_pools(struct cfg_ctx *c, const struct config_profile *p)
{
	const struct config *cfg = c->cfg;
	char a[INET6_ADDRSTRLEN + 8], b[INET6_ADDRSTRLEN + 8];

	for (size_t i = 0; i < p->n_allow; i++) {
		const struct config_prefix *al = &p->allow[i];
		if (al->len == 0)
			continue; /* full tunnel: the pool is meant to be inside it */
		for (size_t j = 0; j < cfg->n_pools; j++) {
			const struct config_pool *q = &cfg->pools[j];
			const struct config_prefix *pf = al->addr.family == AF_INET ?
				(q->has_ipv4 ? &q->ipv4 : NULL) : (q->has_ipv6 ? &q->ipv6 : NULL);
			if (!pf || !cfg_prefix_overlap(al, pf))
				continue;
			cfg_prefix_format(al, a, sizeof(a));
			cfg_prefix_format(pf, b, sizeof(b));
			cfg_error(c, al->addr.mark, "profile '%s': allow %s overlaps pool '%s' (%s): "
				  "virtual IPs must lie outside split-tunnel subnets", nm(p->name), a,
				  nm(q->name), b);
		}
	}
}

static int check_profile(struct cfg_ctx *c, size_t i)
{
	struct config_profile *p = &c->cfg->profiles[i];
	char names[256];

	for (size_t j = 0; j < i; j++) {
		const struct config_profile *q = &c->cfg->profiles[j];
		if (p->name && q->name && strcmp(p->name, q->name) == 0)
			cfg_error(c, p->mark.name, "duplicate profile name '%s' (first at line %u)",
				  p->name, q->mark.name.line);
	}
	if (p->pool_name) {
		p->pool = config_find_pool(c->cfg, p->pool_name);
		pool_names(c->cfg, names, sizeof(names));
		if (!p->pool)
			cfg_error(c, p->mark.pool, "profile '%s': pool '%s' is not defined (pools: %s)",
				  nm(p->name), p->pool_name, names);
	}
	if (p->n_allow == 0 && p->mark.allow.line == 0 && allow_defaults(p) < 0)
		return -ENOMEM;
	check_rounds(c, p);
	check_psk(c, p);
	check_auth_needs(c, p);
	check_match(c, p);
	allow_vs_pools(c, p);
	return 0;
}

/* ---- files and host lookups --------------------------------------------------- */

static FILE *file_open(struct cfg_ctx *c, struct config_mark m, const char *what,
		       const char *path)
{
	FILE *f = fopen(path, "r");

	if (!f)
		cfg_error(c, m, "%s: cannot open %s: %s", what, path, strerror(errno));
	return f;
}

static X509 *cert_load(struct cfg_ctx *c, struct config_mark m, const char *what,
		       const char *path)
{
	FILE *f = file_open(c, m, what, path);
	X509 *x;

	if (!f)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	if (!x)
		cfg_error(c, m, "%s: no PEM certificate in %s", what, path);
	return x;
}

/* Never prompt on the terminal for a passphrase: a daemon has no one to ask. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

static EVP_PKEY *key_load(struct cfg_ctx *c, struct config_mark m, const char *path)
{
	FILE *f = file_open(c, m, "gateway.private_key", path);
	EVP_PKEY *k;

	if (!f)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
	fclose(f);
	ERR_clear_error();
	if (!k)
		cfg_error(c, m, "gateway.private_key: no usable private key in %s (PEM only; "
			  "encrypted keys are not supported)", path);
	return k;
}

/* IKE clients (Windows, iOS, strongSwan) check IDr against the certificate's SANs. */
static void check_id_in_cert(struct cfg_ctx *c, X509 *x)
{
	const struct config_gateway *g = &c->cfg->gateway;
	int ok = 1;

	if (!g->id)
		return;
	if (g->id_type == CONFIG_ID_FQDN)
		ok = X509_check_host(x, g->id, strlen(g->id), 0, NULL) == 1;
	else if (g->id_type == CONFIG_ID_IPV4 || g->id_type == CONFIG_ID_IPV6)
		ok = X509_check_ip_asc(x, g->id, 0) == 1;
	if (!ok)
		cfg_error(c, g->mark.id, "gateway.id '%s' is not in the subjectAltName of %s "
			  "(clients check it)", g->id, g->certificate);
}

static void check_gateway_files(struct cfg_ctx *c)
{
	const struct config_gateway *g = &c->cfg->gateway;
	X509 *x = NULL;
	EVP_PKEY *k = NULL;

	if (g->certificate)
		x = cert_load(c, g->mark.certificate, "gateway.certificate", g->certificate);
	if (g->private_key)
		k = key_load(c, g->mark.private_key, g->private_key);
	if (x && k && EVP_PKEY_eq(X509_get0_pubkey(x), k) != 1)
		cfg_error(c, g->mark.private_key, "gateway.private_key %s does not match the public "
			  "key of gateway.certificate %s", g->private_key, g->certificate);
	if (x)
		check_id_in_cert(c, x);
	if (!!g->certificate != !!g->private_key && (g->certificate || g->private_key))
		cfg_error(c, g->certificate ? g->mark.certificate : g->mark.private_key,
			  "gateway.certificate and gateway.private_key go together");
	ERR_clear_error();
	X509_free(x);
	EVP_PKEY_free(k);
}

static const char *not_ca_reason(int rc)
{
	switch (rc) {
	case 0: return "is not a CA certificate (no basicConstraints CA:TRUE)";
	case 3: return "is an X.509 v1 certificate without basicConstraints CA:TRUE";
	case 4: return "has keyCertSign but no basicConstraints CA:TRUE";
	case 5: return "is a CA only by its obsolete Netscape cert type";
	default: return "has invalid extensions";
	}
}

/* RFC 5280 4.2.1.9: a CA certificate has basicConstraints with cA TRUE.
 * X509_check_ca() also returns 3, 4 or 5 for weaker hints: refuse those too. */
static void ca_check_one(struct cfg_ctx *c, const struct config_str *ca, size_t i, X509 *x)
{
	char subj[256];
	int rc = X509_check_purpose(x, -1, 0) == 1 ? X509_check_ca(x) : -1;

	if (rc == 1)
		return;
	X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof(subj));
	cfg_error(c, ca->mark, "trust.ca[%zu]: %s (%s) %s", i, ca->s, subj, not_ca_reason(rc));
}

/* match.ca is compared by certificate digest so that selecting a profile reads no file. */
static void ca_note_for_match(struct cfg_ctx *c, const char *path, X509 *x)
{
	unsigned int len = 0;

	for (size_t i = 0; i < c->cfg->n_profiles; i++) {
		struct config_match *m = &c->cfg->profiles[i].match;

		if (!m->ca || strcmp(m->ca, path) != 0 || m->n_ca_sha256 >= CONFIG_MATCH_CA_MAX)
			continue;
		if (X509_digest(x, EVP_sha256(), m->ca_sha256[m->n_ca_sha256], &len) == 1 &&
		    len == sizeof(m->ca_sha256[0]))
			m->n_ca_sha256++;
	}
}

static void ca_load(struct cfg_ctx *c, size_t i, STACK_OF(X509) *cas)
{
	const struct config_str *ca = &c->cfg->trust.ca[i];
	char what[32];
	FILE *f;
	X509 *x;
	int n = 0;

	snprintf(what, sizeof(what), "trust.ca[%zu]", i);
	f = file_open(c, ca->mark, what, ca->s);
	if (!f)
		return;
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		n++;
		ca_check_one(c, ca, i, x);
		ca_note_for_match(c, ca->s, x);
		if (!sk_X509_push(cas, x))
			X509_free(x);
	}
	fclose(f);
	ERR_clear_error();
	if (n == 0)
		cfg_error(c, ca->mark, "%s: no PEM certificate in %s", what, ca->s);
}

static X509_CRL *crl_read(FILE *f)
{
	X509_CRL *crl = PEM_read_X509_CRL(f, NULL, NULL, NULL);

	if (!crl) {
		rewind(f);
		crl = d2i_X509_CRL_fp(f, NULL); /* DER, as CAs often publish them */
	}
	ERR_clear_error();
	return crl;
}

/* A CRL must come from one of our CAs and carry its valid signature (RFC 5280 6.3.3). */
static void crl_check_issuer(struct cfg_ctx *c, const struct config_str *cs, size_t i,
			     X509_CRL *crl, STACK_OF(X509) *cas)
{
	char iss[256];

	for (int j = 0; j < sk_X509_num(cas); j++) {
		X509 *ca = sk_X509_value(cas, j);
		if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca)) != 0)
			continue;
		if (X509_CRL_verify(crl, X509_get0_pubkey(ca)) == 1)
			return;
	}
	ERR_clear_error();
	X509_NAME_oneline(X509_CRL_get_issuer(crl), iss, sizeof(iss));
	cfg_error(c, cs->mark, "trust.crl[%zu]: %s is not signed by any trust.ca (issuer %s)", i,
		  cs->s, iss);
}

static void crl_load(struct cfg_ctx *c, size_t i, STACK_OF(X509) *cas)
{
	const struct config_str *cs = &c->cfg->trust.crl[i];
	char what[32];
	X509_CRL *crl;
	FILE *f;

	snprintf(what, sizeof(what), "trust.crl[%zu]", i);
	f = file_open(c, cs->mark, what, cs->s);
	if (!f)
		return;
	crl = crl_read(f);
	fclose(f);
	if (!crl) {
		cfg_error(c, cs->mark, "%s: %s is not a CRL (PEM or DER)", what, cs->s);
		return;
	}
	crl_check_issuer(c, cs, i, crl, cas);
	X509_CRL_free(crl);
}

static int check_trust_files(struct cfg_ctx *c)
{
	const struct config_trust *t = &c->cfg->trust;
	STACK_OF(X509) *cas = sk_X509_new_null();

	if (!cas)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_ca; i++)
		ca_load(c, i, cas);
	for (size_t i = 0; i < t->n_crl; i++)
		crl_load(c, i, cas);
	sk_X509_pop_free(cas, X509_free);
	return 0;
}

static void check_accounts(struct cfg_ctx *c)
{
	const struct config_gateway *g = &c->cfg->gateway;
	char buf[16384];
	struct group gr, *grp = NULL;
	struct passwd pw, *pwp = NULL;

	if (g->control_group &&
	    (getgrnam_r(g->control_group, &gr, buf, sizeof(buf), &grp) != 0 || !grp))
		cfg_error(c, g->mark.control_group, "gateway.control_group: no group named '%s'",
			  g->control_group);
	if (g->user && (getpwnam_r(g->user, &pw, buf, sizeof(buf), &pwp) != 0 || !pwp))
		cfg_error(c, g->mark.user, "gateway.user: no user named '%s'", g->user);
}

/* ---- entry -------------------------------------------------------------------- */

int cfg_check(struct cfg_ctx *c)
{
	struct config *cfg = c->cfg;

	if (check_gateway(c) < 0 || check_proposals(c) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_pools; i++)
		check_pool(c, i);
	check_users(c);
	if (cfg->n_profiles == 0 && cfg->mark.profiles.line)
		cfg_error(c, cfg->mark.profiles, "profiles: at least one profile is needed");
	for (size_t i = 0; i < cfg->n_profiles; i++)
		if (check_profile(c, i) < 0)
			return -ENOMEM;
	if (c->flags & CONFIG_NO_HOST_CHECKS)
		return 0;
	check_gateway_files(c);
	check_accounts(c);
	return check_trust_files(c);
}
