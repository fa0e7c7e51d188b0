/* SPDX-License-Identifier: ISC */
/* Assembling struct gw from a config: crypto, trust, credentials, pools, SA table, sockets. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ikegw/cert.h"
#include "ikegw/config.h"
#include "ikegw/cookie.h"
#include "ikegw/dataplane.h"
#include "ikegw/dp_userspace.h"
#include "ikegw/exchange.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/loop.h"
#include "ikegw/mschapv2.h"
#include "ikegw/pool.h"
#include "ikegw/radius_client.h"
#include "ikegw/sa_table.h"
#include "ikegw/sa_timers.h"
#include "ikegw/suite.h"
#include "ikegw/udp.h"
#include "ikegw/xfrm.h"
#include <sys/epoll.h>

#define GW_COOKIE_ROTATE_MS (5 * 60 * 1000)

static const int log_prio[] = {
	[CONFIG_LOG_ERROR] = LOG_ERR, [CONFIG_LOG_WARNING] = LOG_WARNING,
	[CONFIG_LOG_INFO] = LOG_INFO, [CONFIG_LOG_DEBUG] = LOG_DEBUG,
};

time_t gw_time(const struct gw *gw)
{
	return gw->fixed_time ? gw->fixed_time : time(NULL);
}

static int udp_sender(void *arg, const struct sockaddr_storage *local,
		      const struct sockaddr_storage *peer, bool natt, const uint8_t *msg,
		      size_t len)
{
	struct gw *gw = arg;
	struct udp_sock *s = udp_sock_find(gw->udp, local, natt ? UDP_KIND_NATT : UDP_KIND_IKE);

	if (!s)
		return -ENOTCONN;
	return udp_send_ike(s, local, peer, msg, len);
}

/* RFC 7296 3.7: CERTREQ data is the SHA-1 of each trusted CA's SubjectPublicKeyInfo. */
int gw_certreq_add(const struct gw *gw, const char *ca_path, uint8_t **buf, size_t *len)
{
	FILE *f = fopen(ca_path, "r");
	X509 *ca;
	uint8_t *der = NULL, *grown;
	unsigned int hlen = 0;
	int n, rc = -EINVAL;

	if (!f)
		return -errno;
	while ((ca = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(ca), &der);
		grown = n > 0 ? realloc(*buf, *len + 20) : NULL;
		if (grown) {
			*buf = grown;
			if (EVP_Digest(der, (size_t)n, grown + *len, &hlen,
				       suite_md_get(gw->suite, SUITE_MD_SHA1), NULL) == 1 &&
			    hlen == 20) {
				*len += 20;
				rc = 0;
			}
		}
		OPENSSL_free(der);
		der = NULL;
		X509_free(ca);
	}
	fclose(f);
	return rc;
}

static int init_trust(struct gw *gw)
{
	const struct config_trust *t = &gw->cfg->trust;
	const char *ca[64], *crl[64];
	struct cert_error err = { 0 };
	size_t nca = t->n_ca < 64 ? t->n_ca : 64, ncrl = t->n_crl < 64 ? t->n_crl : 64;

	for (size_t i = 0; i < nca; i++) {
		ca[i] = t->ca[i].s;
		if (gw_certreq_add(gw, ca[i], &gw->certreq, &gw->certreq_len) != 0)
			log_warn(&gw->log, NULL, "cannot hash CA %s for CERTREQ", ca[i]);
	}
	for (size_t i = 0; i < ncrl; i++)
		crl[i] = t->crl[i].s;
	if (nca > 0 && !(gw->trust = cert_store_new(ca, nca, crl, ncrl, &err))) {
		log_err(&gw->log, NULL, "trust store: %s", err.reason);
		return -EINVAL;
	}
	if (gw->cfg->gateway.certificate &&
	    !(gw->own = cert_own_new(gw->cfg->gateway.certificate, gw->cfg->gateway.private_key,
				     &err))) {
		log_err(&gw->log, NULL, "gateway certificate: %s", err.reason);
		return -EINVAL;
	}
	return 0;
}

void gw_prefix_from_config(struct ip_prefix *out, const struct config_prefix *in)
{
	memset(out, 0, sizeof(*out));
	out->addr.family = (uint8_t)in->addr.family;
	memcpy(out->addr.bytes, &in->addr.u, in->addr.family == AF_INET ? 4 : 16);
	out->len = in->len;
}

static int init_pools(struct gw *gw)
{
	const struct config *cfg = gw->cfg;

	gw->pools = calloc(cfg->n_pools ? cfg->n_pools : 1, sizeof(*gw->pools));
	if (!gw->pools)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_pools; i++) {
		const struct config_pool *p = &cfg->pools[i];
		struct ip_prefix v4, v6;

		gw_prefix_from_config(&v4, &p->ipv4);
		gw_prefix_from_config(&v6, &p->ipv6);
		gw->pools[i] = pool_new(p->name, p->has_ipv4 ? &v4 : NULL, p->has_ipv6 ? &v6 : NULL);
		if (!gw->pools[i]) {
			log_err(&gw->log, NULL, "pool %s cannot be created", p->name);
			return -EINVAL;
		}
		for (size_t j = 0; j < cfg->gateway.n_listen; j++) {
			struct ip_addr a = { .family = (uint8_t)cfg->gateway.listen[j].family };

			memcpy(a.bytes, &cfg->gateway.listen[j].u, a.family == AF_INET ? 4 : 16);
			if (pool_contains(gw->pools[i], &a))
				pool_reserve(gw->pools[i], &a);
		}
	}
	return 0;
}

static void cookie_tick(struct loop *loop, void *arg)
{
	struct gw *gw = arg;

	cookie_rotate(gw->cookie, loop_now(loop));
	loop_timer_arm_in(loop, &gw->cookie_timer, GW_COOKIE_ROTATE_MS);
}

/* EAP (issue 5): MSCHAPv2 for local users, the RADIUS client for eap-radius. */
static int init_eap(struct gw *gw)
{
	const struct config *cfg = gw->cfg;

	if (cfg->n_users > 0 && !(gw->mschapv2 = mschapv2_ctx_new()))
		log_warn(&gw->log, NULL, "MD4/DES unavailable (OpenSSL legacy provider): "
			 "eap-mschapv2 refuses every client");
	if (cfg->radius.n_servers > 0 &&
	    !(gw->radius = radius_client_new(gw->loop, &cfg->radius, &gw->log))) {
		log_err(&gw->log, NULL, "RADIUS client cannot be set up");
		return -EIO;
	}
	return 0;
}

int gw_init(struct gw *gw, struct config *cfg, const struct loop_clock *clock, FILE *logf)
{
	memset(gw, 0, sizeof(*gw));
	gw->cfg = cfg;
	log_init(&gw->log, logf ? logf : stderr, log_prio[cfg->gateway.log_level]);
	gw->loop = loop_new(clock);
	gw->suite = crypto_suite_new();
	gw->sas = sa_table_new();
	if (!gw->loop || !gw->suite || !gw->sas)
		return -ENOMEM;
	gw->cookie = cookie_new(loop_now(gw->loop));
	if (!gw->cookie)
		return -ENOMEM;
	gw->send = udp_sender;
	gw->send_arg = gw;
	gw->half_open_max = cfg->gateway.max_half_open;
	gw->cookie_threshold = cfg->gateway.cookie_threshold;
	gw->started_ms = loop_now(gw->loop);
	gw->frag_budget.max = FRAG_BUDGET_DEFAULT;
	frag_limits_default(&gw->frag_lim);
	loop_timer_init(&gw->cookie_timer, cookie_tick, gw);
	loop_timer_arm_in(gw->loop, &gw->cookie_timer, GW_COOKIE_ROTATE_MS);
	if (init_trust(gw) != 0 || init_pools(gw) != 0 || init_eap(gw) != 0)
		return -EINVAL;
	return 0;
}

static void on_xfrm_event(struct loop *loop, int fd, uint32_t events, void *arg)
{
	(void)loop;
	(void)fd;
	(void)events;
	dp_xfrm_read(arg);
}

/* Kernel XFRM: IKE sockets bypass IPsec policies, the NAT-T ones decapsulate ESP. */
static int start_xfrm(struct gw *gw)
{
	gw->dp = dp_xfrm_new(&gw->log, gw->loop);
	if (!gw->dp)
		return -EIO;
	for (size_t i = 0; i < udp_sock_count(gw->udp); i++) {
		struct udp_sock *s = udp_sock_get(gw->udp, i);

		if (xfrm_socket_bypass(s->fd, s->bound.ss_family) != 0 ||
		    (s->kind == UDP_KIND_NATT && xfrm_socket_encap(s->fd) != 0))
			return -EIO;
	}
	return loop_fd_add(gw->loop, dp_xfrm_fd(gw->dp), EPOLLIN, on_xfrm_event, gw->dp);
}

/* ESP over TUN; routes for every pool point into it. */
static int start_userspace(struct gw *gw)
{
	const struct config *cfg = gw->cfg;
	struct ip_prefix routes[128];
	size_t n = 0;

	for (size_t i = 0; i < cfg->n_pools && n + 2 <= 128; i++) {
		if (cfg->pools[i].has_ipv4)
			gw_prefix_from_config(&routes[n++], &cfg->pools[i].ipv4);
		if (cfg->pools[i].has_ipv6)
			gw_prefix_from_config(&routes[n++], &cfg->pools[i].ipv6);
	}
	gw->dp = dp_userspace_new(gw->loop, gw->udp, cfg->gateway.tun_name, routes, n, &gw->log);
	if (!gw->dp)
		return -EIO;
	/* It only receives ESP in UDP: make every client encapsulate (RFC 3948). */
	gw->force_encap = true;
	return 0;
}

/* gateway.dataplane: auto takes the kernel when it can do ESP, else userspace. */
static int start_dataplane(struct gw *gw)
{
	enum config_dataplane want = gw->cfg->gateway.dataplane;
	char why[256] = "";

	if (want == CONFIG_DP_AUTO) {
		want = xfrm_probe(why, sizeof(why)) == 0 ? CONFIG_DP_XFRM : CONFIG_DP_USERSPACE;
		if (want == CONFIG_DP_USERSPACE)
			log_info(&gw->log, NULL, "dataplane: %s; using the userspace ESP dataplane",
				 why);
	}
	if (want == CONFIG_DP_XFRM)
		return start_xfrm(gw);
	return start_userspace(gw);
}

static void on_ike(void *arg, const struct udp_dgram *d, const uint8_t *msg, size_t len)
{
	ike_recv(arg, &d->local, &d->peer, d->kind == UDP_KIND_NATT, msg, len);
}

int gw_listen(struct gw *gw)
{
	const struct config_gateway *g = &gw->cfg->gateway;
	char text[64][INET6_ADDRSTRLEN];
	const char *addrs[64];
	size_t n = g->n_listen < 64 ? g->n_listen : 64;
	int rc;

	for (size_t i = 0; i < n; i++) {
		inet_ntop(g->listen[i].family, &g->listen[i].u, text[i], sizeof(text[i]));
		addrs[i] = text[i];
	}
	rc = udp_open(&gw->udp, addrs, n, g->port, g->natt_port);
	if (rc != 0)
		return rc;
	udp_set_ike_handler(gw->udp, on_ike, gw);
	rc = udp_attach(gw->udp, gw->loop);
	if (rc == 0)
		rc = start_dataplane(gw);
	if (rc == 0 && gw->dp) {
		sa_timers_hook_dataplane(gw); /* soft expiry rekeys, hard expiry deletes */
		log_info(&gw->log, NULL, "dataplane: %s", gw->dp->ops->name);
	}
	return rc;
}

static int free_sa(struct sa_table_entry *e, void *arg)
{
	struct ike_sa *sa = ike_sa_from_entry(e);

	if (*(bool *)arg)
		exchange_send_delete(sa);
	ike_sa_free(sa);
	return 0;
}

void gw_fini(struct gw *gw, bool say_goodbye)
{
	if (gw->sas)
		sa_table_foreach(gw->sas, free_sa, &say_goodbye);
	jobs_drain(&gw->jobs); /* after the SAs: queued jobs find none and free what they hold */
	if (gw->loop)
		loop_timer_cancel(gw->loop, &gw->cookie_timer);
	if (gw->dp) {
		if (gw->dp->ops->flush) /* optional: test doubles own nothing to flush */
			gw->dp->ops->flush(gw->dp);
		gw->dp->ops->free(gw->dp);
	}
	udp_free(gw->udp);
	for (size_t i = 0; gw->pools && i < gw->cfg->n_pools; i++)
		pool_free(gw->pools[i]);
	free(gw->pools);
	radius_client_free(gw->radius); /* issue 5 */
	mschapv2_ctx_free(gw->mschapv2);
	free(gw->certreq);
	cert_own_free(gw->own);
	cert_store_free(gw->trust);
	cookie_free(gw->cookie);
	sa_table_free(gw->sas);
	crypto_suite_free(gw->suite);
	loop_free(gw->loop);
	memset(gw, 0, sizeof(*gw));
}
