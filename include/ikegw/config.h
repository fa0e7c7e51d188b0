/* SPDX-License-Identifier: ISC */
/*
 * The configuration: /etc/ikegw/ikegw.yaml (schema in SPEC.md "Config file") parsed with
 * libyaml into a plain, owned struct config with binary values (addresses, prefixes,
 * seconds, parsed proposals), then validated as a whole (pools, profiles, proposals,
 * certificate and key files).  Every problem becomes one "FILE:LINE:COLUMN: message"
 * string; all of them are collected, not just the first (ikegwd --check prints them).
 *
 * Every value read from the file keeps the 1-based line:column where it was written
 * (struct config_mark), so later checks and the reload diff can point at it.  A zero
 * mark means "not in the file: a default".
 */
#ifndef IKEGW_CONFIG_H
#define IKEGW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "ikegw/proposal.h"

#define CONFIG_MAX_ERRORS 200        /* then one "too many errors" line */
#define CONFIG_MAX_FILE_SIZE (1u << 20)
#define CONFIG_MAX_AUTH_ROUNDS 2     /* RFC 4739 multiple authentication */
#define CONFIG_PSK_MIN_LEN 16        /* RFC 7296 2.15: PSKs are open to offline guessing */

struct config_mark {
	uint32_t line; /* 1-based; 0 = default, not from the file */
	uint32_t col;  /* 1-based */
};

/* The collected errors, each "FILE:LINE:COLUMN: message" (no trailing newline). */
struct config_errors {
	char **msg;
	size_t n;
	size_t cap;
	size_t dropped; /* errors past CONFIG_MAX_ERRORS */
};

void config_errors_init(struct config_errors *e);
void config_errors_clear(struct config_errors *e); /* frees the strings, keeps e usable */
/* Append one formatted line (used by the loader; exposed for reload.c / main.c). */
int config_errors_add(struct config_errors *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* One line each to f, plus a last line counting dropped ones. */
void config_errors_print(const struct config_errors *e, FILE *f);

struct config_ip {
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} u;
	struct config_mark mark;
};

struct config_prefix {
	struct config_ip addr; /* network address: host bits are always zero */
	uint8_t len;
};

/* A string from the file with where it was written (paths: already absolute). */
struct config_str {
	char *s;
	struct config_mark mark;
};

enum config_dataplane { CONFIG_DP_AUTO, CONFIG_DP_XFRM, CONFIG_DP_USERSPACE };
enum config_log_level { CONFIG_LOG_ERROR, CONFIG_LOG_WARNING, CONFIG_LOG_INFO, CONFIG_LOG_DEBUG };
/* How gateway.id is sent as IDr (RFC 7296 3.5): classified from its text. */
enum config_id_type { CONFIG_ID_FQDN, CONFIG_ID_IPV4, CONFIG_ID_IPV6, CONFIG_ID_DN };
enum config_auth {
	CONFIG_AUTH_NONE = 0,
	CONFIG_AUTH_CERTIFICATE,
	CONFIG_AUTH_EAP_MSCHAPV2,
	CONFIG_AUTH_EAP_TLS,
	CONFIG_AUTH_EAP_RADIUS,
	CONFIG_AUTH_PSK,
};
enum config_unique { CONFIG_UNIQUE_REPLACE, CONFIG_UNIQUE_KEEP, CONFIG_UNIQUE_NEVER };

struct config_gateway {
	char *id;                    /* required */
	enum config_id_type id_type;
	struct config_ip *listen;    /* default 0.0.0.0 and :: */
	size_t n_listen;
	uint16_t port;               /* default 500 */
	uint16_t natt_port;          /* default 4500 */
	char *certificate;           /* absolute path or NULL */
	char *private_key;           /* absolute path or NULL */
	enum config_dataplane dataplane; /* default auto */
	char *control_socket;        /* absolute; default /run/ikegw/ikegw.sock */
	char *control_group;         /* NULL: root only */
	char *tun_name;              /* default "ikegw0" */
	char *user;                  /* NULL: stay root (with caps dropped) */
	enum config_log_level log_level; /* default info */
	bool allow_legacy;           /* default false: MODP-1024/1536, SHA-1, 3DES refused */
	uint16_t fragment_size;      /* default 1280 (RFC 7383 2.5) */
	uint32_t max_half_open;      /* default 20000: IKE_SA_INITs beyond are dropped */
	uint32_t cookie_threshold;   /* default 500 half-open SAs: COOKIEs required above */
	struct {
		struct config_mark self, id, listen, port, natt_port, certificate, private_key,
			dataplane, control_socket, control_group, tun_name, user, log_level,
			allow_legacy, fragment_size, max_half_open, cookie_threshold;
	} mark;
};

struct config_trust {
	struct config_str *ca; /* absolute paths */
	size_t n_ca;
	struct config_str *crl;
	size_t n_crl;
	struct {
		struct config_mark self, ca, crl;
	} mark;
};

struct config_proposals {
	struct config_str *ike_src;  /* the strings as written (or the defaults), for logs */
	struct ike_proposal *ike;    /* parsed; same count and order as ike_src */
	size_t n_ike;
	struct config_str *esp_src;
	struct ike_proposal *esp;
	size_t n_esp;
	struct {
		struct config_mark self, ike, esp;
	} mark;
};

struct config_lifetimes {
	uint32_t ike;   /* seconds; default 4h */
	uint32_t child; /* seconds; default 1h */
	struct {
		struct config_mark self, ike, child;
	} mark;
};

struct config_timeouts {
	uint32_t dpd;       /* seconds; default 30s; 0 = no dead peer detection */
	uint32_t idle;      /* seconds; default 10m; 0 = never */
	uint32_t half_open; /* seconds; default 30s */
	struct {
		struct config_mark self, dpd, idle, half_open;
	} mark;
};

struct config_pool {
	char *name;
	bool has_ipv4, has_ipv6;     /* at least one */
	struct config_prefix ipv4;
	struct config_prefix ipv6;
	struct config_ip *dns;
	size_t n_dns;
	struct config_str *dns_domains;
	size_t n_dns_domains;
	struct {
		struct config_mark self, name, ipv4, ipv6, dns, dns_domains;
	} mark;
};

struct config_user {
	char *name;
	uint8_t nt_hash[16]; /* secret: wiped on free */
	struct {
		struct config_mark self, name, nt_hash;
	} mark;
};

struct config_radius_server {
	struct config_ip address;
	uint16_t port;   /* default 1812 */
	char *secret;    /* secret: wiped on free (strings from the file never hold a NUL) */
	struct {
		struct config_mark self, address, port, secret;
	} mark;
};

struct config_radius {
	struct config_radius_server *servers;
	size_t n_servers;
	uint32_t timeout; /* seconds; default 3s */
	uint32_t retries; /* default 3 */
	struct {
		struct config_mark self, servers, timeout, retries;
	} mark;
};

#define CONFIG_MATCH_CA_MAX 4 /* certificates of one trust.ca file match.ca can name */

struct config_match {
	char *identity;     /* fnmatch(3) glob on the peer's IDi, or NULL */
	char *ca;           /* absolute path of one of trust.ca, or NULL */
	/* SHA-256 of the certificates in that file, taken when the config is loaded (not
	 * with CONFIG_NO_HOST_CHECKS): matching never reads files. */
	uint8_t ca_sha256[CONFIG_MATCH_CA_MAX][32];
	uint8_t n_ca_sha256;
	char *subject;      /* substring of the subject, or "CN=..., O=..." fields; or NULL */
	char *radius_class; /* RADIUS Class attribute value, or NULL */
	struct {
		struct config_mark self, identity, ca, subject, radius_class;
	} mark;
};

struct config_profile {
	char *name;
	enum config_auth auth[CONFIG_MAX_AUTH_ROUNDS];
	size_t n_auth;                  /* 1 or 2 */
	char *psk;                      /* secret (iff psk in auth): wiped on free */
	struct config_match match;
	char *pool_name;                /* NULL: no virtual IP */
	const struct config_pool *pool; /* resolved; points into config.pools */
	struct config_prefix *allow;    /* default 0.0.0.0/0 (+ ::/0 if the pool has IPv6) */
	size_t n_allow;
	enum config_unique unique;      /* default replace */
	bool accept_no_pfs;             /* default true */
	struct {
		struct config_mark self, name, auth, psk, match, pool, allow, unique,
			accept_no_pfs;
	} mark;
};

struct config {
	char *path; /* absolute path of the file */
	char *dir;  /* its folder: relative paths were resolved against it */
	struct config_gateway gateway;
	struct config_trust trust;
	struct config_proposals proposals;
	struct config_lifetimes lifetimes;
	struct config_timeouts timeouts;
	struct config_pool *pools;
	size_t n_pools;
	struct config_user *users;
	size_t n_users;
	struct config_radius radius;
	struct config_profile *profiles; /* in file order: first match wins */
	size_t n_profiles;
	struct {
		struct config_mark pools, users, profiles;
	} mark;
};

/*
 * Load, parse and validate path.  On success returns 0 and *out owns the config.  On any
 * problem returns -EINVAL (config errors) or a negative errno (cannot read the file),
 * *out is NULL, and every error has been appended to errs (which may be NULL).
 */
int config_load(const char *path, struct config **out, struct config_errors *errs);

/*
 * The same from memory: name is used in messages, dir resolves relative paths.
 * With CONFIG_NO_HOST_CHECKS nothing about the host is looked at (certificate, key, CA
 * and CRL files are not opened, control_group/user are not looked up): for fuzzing and
 * for tests of the schema alone.
 */
#define CONFIG_NO_HOST_CHECKS 0x1u
int config_load_buffer(const char *name, const char *dir, const char *text, size_t len,
		       unsigned flags, struct config **out, struct config_errors *errs);

void config_free(struct config *cfg);

const struct config_profile *config_find_profile(const struct config *cfg, const char *name);
const struct config_pool *config_find_pool(const struct config *cfg, const char *name);

/* ip + port as a sockaddr for bind()/sendto(); returns the address length. */
socklen_t config_ip_sockaddr(const struct config_ip *ip, uint16_t port,
			     struct sockaddr_storage *ss);

/* Names for logs and ikegwctl ("eap-mschapv2", "userspace", ...). */
const char *config_auth_name(enum config_auth a);
const char *config_dataplane_name(enum config_dataplane d);
const char *config_unique_name(enum config_unique u);
const char *config_log_level_name(enum config_log_level l);

#endif
