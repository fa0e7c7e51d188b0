/* SPDX-License-Identifier: ISC */
/*
 * Config entry points: read the file, run the parser (config_parse.c) and the
 * whole-config checks (config_check.c), collect errors as "FILE:LINE:COLUMN: message",
 * free (wiping secrets), look things up.
 */
#define _GNU_SOURCE /* asprintf, vasprintf */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/crypto.h>

#include "config_internal.h"

void config_errors_init(struct config_errors *e)
{
	memset(e, 0, sizeof(*e));
}

void config_errors_clear(struct config_errors *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++)
		free(e->msg[i]);
	free(e->msg);
	config_errors_init(e);
}

static int errors_push(struct config_errors *e, char *s)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 16;
		char **m = realloc(e->msg, cap * sizeof(*m));
		if (!m)
			return -ENOMEM;
		e->msg = m;
		e->cap = cap;
	}
	e->msg[e->n++] = s;
	return 0;
}

static int errors_vadd(struct config_errors *e, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static int errors_vadd(struct config_errors *e, const char *fmt, va_list ap)
{
	char *s;

	if (e->n >= CONFIG_MAX_ERRORS) {
		e->dropped++;
		return 0;
	}
	if (vasprintf(&s, fmt, ap) < 0)
		return -ENOMEM;
	if (errors_push(e, s) < 0) {
		free(s);
		return -ENOMEM;
	}
	return 0;
}

int config_errors_add(struct config_errors *e, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = errors_vadd(e, fmt, ap);
	va_end(ap);
	return rc;
}

void config_errors_print(const struct config_errors *e, FILE *f)
{
	for (size_t i = 0; i < e->n; i++)
		fprintf(f, "%s\n", e->msg[i]);
	if (e->dropped)
		fprintf(f, "(%zu more errors not shown)\n", e->dropped);
}

void cfg_error(struct cfg_ctx *c, struct config_mark m, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	c->n_err++;
	if (!c->errs)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	config_errors_add(c->errs, "%s:%u:%u: %s", c->name, m.line ? m.line : 1,
			  m.col ? m.col : 1, msg);
}

char *cfg_path_resolve(const char *dir, const char *p)
{
	char *out;

	if (p[0] == '/' || !dir)
		return strdup(p);
	if (asprintf(&out, "%s/%s", strcmp(dir, "/") ? dir : "", p) < 0)
		return NULL;
	return out;
}

/* ---- addresses ---------------------------------------------------------------- */

static const uint8_t *ip_bytes(const struct config_ip *ip)
{
	return ip->family == AF_INET ? (const uint8_t *)&ip->u.v4 : ip->u.v6.s6_addr;
}

/* Do the first len bits of a and b agree? */
static int bits_equal(const uint8_t *a, const uint8_t *b, unsigned len)
{
	unsigned full = len / 8, rest = len % 8;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ b[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

int cfg_prefix_overlap(const struct config_prefix *a, const struct config_prefix *b)
{
	unsigned len = a->len < b->len ? a->len : b->len;

	if (a->addr.family != b->addr.family)
		return 0;
	return bits_equal(ip_bytes(&a->addr), ip_bytes(&b->addr), len);
}

int cfg_prefix_contains_ip(const struct config_prefix *p, const struct config_ip *ip)
{
	if (p->addr.family != ip->family)
		return 0;
	return bits_equal(ip_bytes(&p->addr), ip_bytes(ip), p->len);
}

void cfg_ip_format(const struct config_ip *ip, char *out, size_t outlen)
{
	if (!inet_ntop(ip->family, ip_bytes(ip), out, (socklen_t)outlen))
		snprintf(out, outlen, "?");
}

void cfg_prefix_format(const struct config_prefix *p, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN];

	cfg_ip_format(&p->addr, a, sizeof(a));
	snprintf(out, outlen, "%s/%u", a, p->len);
}

socklen_t config_ip_sockaddr(const struct config_ip *ip, uint16_t port,
			     struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ip->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = ip->u.v4;
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin6->sin6_addr = ip->u.v6;
	return sizeof(*sin6);
}

/* ---- names -------------------------------------------------------------------- */

const char *config_auth_name(enum config_auth a)
{
	static const char *const n[] = { "none", "certificate", "eap-mschapv2", "eap-tls",
					 "eap-radius", "psk" };
	return (size_t)a < sizeof(n) / sizeof(n[0]) ? n[a] : "?";
}

const char *config_dataplane_name(enum config_dataplane d)
{
	static const char *const n[] = { "auto", "xfrm", "userspace" };
	return (size_t)d < sizeof(n) / sizeof(n[0]) ? n[d] : "?";
}

const char *config_unique_name(enum config_unique u)
{
	static const char *const n[] = { "replace", "keep", "never" };
	return (size_t)u < sizeof(n) / sizeof(n[0]) ? n[u] : "?";
}

const char *config_log_level_name(enum config_log_level l)
{
	static const char *const n[] = { "error", "warning", "info", "debug" };
	return (size_t)l < sizeof(n) / sizeof(n[0]) ? n[l] : "?";
}

/* ---- lookups ------------------------------------------------------------------ */

const struct config_profile *config_find_profile(const struct config *cfg, const char *name)
{
	for (size_t i = 0; cfg && name && i < cfg->n_profiles; i++)
		if (cfg->profiles[i].name && strcmp(cfg->profiles[i].name, name) == 0)
			return &cfg->profiles[i];
	return NULL;
}

const struct config_pool *config_find_pool(const struct config *cfg, const char *name)
{
	for (size_t i = 0; cfg && name && i < cfg->n_pools; i++)
		if (cfg->pools[i].name && strcmp(cfg->pools[i].name, name) == 0)
			return &cfg->pools[i];
	return NULL;
}

/* ---- free --------------------------------------------------------------------- */

static void secret_free(char *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

static void strs_free(struct config_str *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].s);
	free(v);
}

static void gateway_free(struct config_gateway *g)
{
	free(g->id);
	free(g->listen);
	free(g->certificate);
	free(g->private_key);
	free(g->control_socket);
	free(g->control_group);
	free(g->tun_name);
	free(g->user);
}

static void pools_free(struct config_pool *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++) {
		free(p[i].name);
		free(p[i].dns);
		strs_free(p[i].dns_domains, p[i].n_dns_domains);
	}
	free(p);
}

static void users_free(struct config_user *u, size_t n)
{
	if (!u)
		return;
	for (size_t i = 0; i < n; i++)
		free(u[i].name);
	OPENSSL_cleanse(u, n * sizeof(*u)); /* the NT hashes */
	free(u);
}

static void radius_free(struct config_radius *r)
{
	for (size_t i = 0; r->servers && i < r->n_servers; i++)
		secret_free(r->servers[i].secret);
	free(r->servers);
}

static void profiles_free(struct config_profile *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++) {
		free(p[i].name);
		secret_free(p[i].psk);
		free(p[i].match.identity);
		free(p[i].match.ca);
		free(p[i].match.subject);
		free(p[i].match.radius_class);
		free(p[i].pool_name);
		free(p[i].allow);
	}
	free(p);
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->dir);
	gateway_free(&cfg->gateway);
	strs_free(cfg->trust.ca, cfg->trust.n_ca);
	strs_free(cfg->trust.crl, cfg->trust.n_crl);
	strs_free(cfg->proposals.ike_src, cfg->proposals.n_ike);
	strs_free(cfg->proposals.esp_src, cfg->proposals.n_esp);
	free(cfg->proposals.ike);
	free(cfg->proposals.esp);
	pools_free(cfg->pools, cfg->n_pools);
	users_free(cfg->users, cfg->n_users);
	radius_free(&cfg->radius);
	profiles_free(cfg->profiles, cfg->n_profiles);
	free(cfg);
}

/* ---- load --------------------------------------------------------------------- */

int cfg_defaults(struct config *cfg)
{
	struct config_gateway *g = &cfg->gateway;

	g->port = 500;
	g->natt_port = 4500;
	g->dataplane = CONFIG_DP_AUTO;
	g->log_level = CONFIG_LOG_INFO;
	g->fragment_size = 1280;
	g->max_half_open = 20000;
	g->cookie_threshold = 500;
	g->control_socket = strdup("/run/ikegw/ikegw.sock");
	g->tun_name = strdup("ikegw0");
	cfg->lifetimes.ike = 4 * 3600;
	cfg->lifetimes.child = 3600;
	cfg->timeouts.dpd = 30;
	cfg->timeouts.idle = 600;
	cfg->timeouts.half_open = 30;
	cfg->radius.timeout = 3;
	cfg->radius.retries = 3;
	return g->control_socket && g->tun_name ? 0 : -ENOMEM;
}

static int load_run(struct cfg_ctx *c, const char *text, size_t len, struct config **out)
{
	int rc = cfg_parse(c, text, len);

	if (rc == 0)
		rc = cfg_check(c);
	if (rc == 0 && c->n_err)
		rc = -EINVAL;
	if (rc < 0) {
		if (rc == -ENOMEM)
			cfg_error(c, (struct config_mark){ 0, 0 }, "out of memory");
		config_free(c->cfg);
		return rc;
	}
	*out = c->cfg;
	return 0;
}

int config_load_buffer(const char *name, const char *dir, const char *text, size_t len,
		       unsigned flags, struct config **out, struct config_errors *errs)
{
	struct cfg_ctx c = { .name = name, .flags = flags, .errs = errs };
	struct config *cfg;

	*out = NULL;
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return -ENOMEM;
	c.cfg = cfg;
	cfg->path = strdup(name);
	cfg->dir = dir ? realpath(dir, NULL) : NULL;
	if (!cfg->dir && dir)
		cfg->dir = strdup(dir); /* a folder that does not exist: file checks will say */
	if (!cfg->dir)
		cfg->dir = strdup("/");
	if (!cfg->path || !cfg->dir || cfg_defaults(cfg) < 0) {
		config_free(cfg);
		return -ENOMEM;
	}
	c.dir = cfg->dir;
	return load_run(&c, text, len, out);
}

static int file_read(const char *path, char **text, size_t *len)
{
	struct stat st;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CONFIG_MAX_FILE_SIZE) {
		close(fd);
		return S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
	}
	*text = malloc((size_t)st.st_size + 1);
	if (!*text) {
		close(fd);
		return -ENOMEM;
	}
	r = read(fd, *text, (size_t)st.st_size);
	close(fd);
	if (r != st.st_size) {
		free(*text);
		return r < 0 ? -errno : -EIO;
	}
	*len = (size_t)r;
	return 0;
}

/* The folder of path, made absolute (relative config paths resolve against it). */
static char *dir_of(const char *path)
{
	char *real = realpath(path, NULL), *slash;

	if (!real)
		return NULL;
	slash = strrchr(real, '/');
	if (slash == real)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	return real;
}

int config_load(const char *path, struct config **out, struct config_errors *errs)
{
	char *text = NULL, *dir;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = file_read(path, &text, &len);
	if (rc < 0) {
		if (errs)
			config_errors_add(errs, "%s:1:1: cannot read the config file: %s", path,
					  rc == -EFBIG ? "larger than 1 MiB" :
					  rc == -EINVAL ? "not a regular file" : strerror(-rc));
		return rc;
	}
	dir = dir_of(path);
	rc = config_load_buffer(path, dir ? dir : ".", text, len, 0, out, errs);
	OPENSSL_cleanse(text, len); /* it holds the PSK and RADIUS secrets */
	free(text);
	free(dir);
	if (rc == 0) {
		free((*out)->path);
		(*out)->path = realpath(path, NULL);
		if (!(*out)->path) {
			config_free(*out);
			*out = NULL;
			return -ENOMEM;
		}
	}
	return rc;
}
