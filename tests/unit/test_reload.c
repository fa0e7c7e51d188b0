/* SPDX-License-Identifier: ISC */
/*
 * Hitless reload: a struct gw from one config, SAs put in the table by hand (as IKE_AUTH
 * would leave them), then a second config applied.  Checks which SAs stay (re-pointed
 * to the new profile), which go, that no lease in use is taken away when pools shrink,
 * move or vanish, that settings bound at start keep their running values, and that a
 * broken file or unloadable trust changes nothing.  The daemon's path (reload_run on a
 * file, with the systemd notifications) runs against a fake NOTIFY_SOCKET.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "ikegw/config.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/json.h"
#include "ikegw/notify.h"
#include "ikegw/pool.h"
#include "ikegw/reload.h"
#include "ikegw/sa_table.h"

#define HEAD                                  \
	"gateway:\n"                              \
	"  id: vpn.example.test\n"                \
	"  listen: [192.0.2.1]\n"

static const char cfg_a[] = HEAD
	"pools:\n"
	"  - { name: staff, ipv4: 10.99.0.0/24 }\n"
	"  - { name: guests, ipv4: 10.98.0.0/24 }\n"
	"profiles:\n"
	"  - { name: staff, auth: [psk], psk: 0123456789abcdef0123, pool: staff }\n"
	"  - { name: guests, auth: [psk], psk: 0123456789abcdef0123, pool: guests,\n"
	"      match: { identity: '*@guest.test' } }\n";

/* staff: allow changed; guests: removed; ops: added. */
static const char cfg_b[] = HEAD
	"pools:\n"
	"  - { name: staff, ipv4: 10.99.0.0/24 }\n"
	"profiles:\n"
	"  - { name: staff, auth: [psk], psk: 0123456789abcdef0123, pool: staff,\n"
	"      allow: [10.10.0.0/16] }\n"
	"  - { name: ops, auth: [psk], psk: 0123456789abcdef0123, pool: staff,\n"
	"      match: { identity: '*@ops.test' } }\n";

/* staff shrinks to the lower half: 10.99.0.200 is outside. */
static const char cfg_shrink[] = HEAD
	"pools:\n"
	"  - { name: staff, ipv4: 10.99.0.0/25 }\n"
	"  - { name: guests, ipv4: 10.98.0.0/24 }\n"
	"profiles:\n"
	"  - { name: staff, auth: [psk], psk: 0123456789abcdef0123, pool: staff }\n"
	"  - { name: guests, auth: [psk], psk: 0123456789abcdef0123, pool: guests,\n"
	"      match: { identity: '*@guest.test' } }\n";

/* staff moves to 10.99.1.0/24; a new pool "lan" takes over 10.99.0.0/24. */
static const char cfg_move[] = HEAD
	"pools:\n"
	"  - { name: staff, ipv4: 10.99.1.0/24 }\n"
	"  - { name: lan, ipv4: 10.99.0.0/24 }\n"
	"  - { name: guests, ipv4: 10.98.0.0/24 }\n"
	"profiles:\n"
	"  - { name: staff, auth: [psk], psk: 0123456789abcdef0123, pool: staff }\n"
	"  - { name: guests, auth: [psk], psk: 0123456789abcdef0123, pool: guests,\n"
	"      match: { identity: '*@guest.test' } }\n";

/* guests' pool disappears (its profile now uses staff); nothing covers 10.98.0.0/24. */
static const char cfg_pool_gone[] = HEAD
	"pools:\n"
	"  - { name: staff, ipv4: 10.99.0.0/24 }\n"
	"profiles:\n"
	"  - { name: staff, auth: [psk], psk: 0123456789abcdef0123, pool: staff }\n"
	"  - { name: guests, auth: [psk], psk: 0123456789abcdef0123, pool: staff,\n"
	"      match: { identity: '*@guest.test' } }\n";

/* Settings bound at start change; so do proposals. */
static const char cfg_restart[] = "gateway:\n"
	"  id: vpn.example.test\n"
	"  listen: [192.0.2.9]\n"
	"  port: 600\n"
	"  tun_name: other0\n"
	"proposals: { ike: [aes128gcm16-prfsha256-ecp256], esp: [aes128gcm16] }\n"
	"pools:\n"
	"  - { name: staff, ipv4: 10.99.0.0/24 }\n"
	"  - { name: guests, ipv4: 10.98.0.0/24 }\n"
	"profiles:\n"
	"  - { name: staff, auth: [psk], psk: 0123456789abcdef0123, pool: staff }\n"
	"  - { name: guests, auth: [psk], psk: 0123456789abcdef0123, pool: guests,\n"
	"      match: { identity: '*@guest.test' } }\n";

/* users: and radius: (the back ends exist whatever the profiles use). */
static const char cfg_eap[] = HEAD
	"users: [{ name: alice, nt_hash: 8846f7eaee8fb117ad06bdd830b7586c }]\n"
	"radius: { servers: [{ address: 127.0.0.1, port: 1812, secret: reload-test-secret }] }\n"
	"pools:\n"
	"  - { name: staff, ipv4: 10.99.0.0/24 }\n"
	"profiles:\n"
	"  - { name: staff, auth: [psk], psk: 0123456789abcdef0123, pool: staff }\n";

static const char cfg_bad_trust[] = HEAD
	"trust: { ca: [/nonexistent/ikegw-ca.crt] }\n"
	"pools:\n"
	"  - { name: staff, ipv4: 10.99.0.0/24 }\n"
	"profiles:\n"
	"  - { name: staff, auth: [psk], psk: 0123456789abcdef0123, pool: staff }\n";

struct ondisk {
	char dir[64], file[128], sock[128];
	int fd;
};

struct fixture {
	uint64_t now;
	struct config *cfg; /* what gw_init got; gw.cfg after a reload */
	struct gw gw;
	FILE *log;
	struct reload_report rep;
	struct ondisk *d; /* the on-disk tests only */
};

static uint64_t fake_now(void *ctx)
{
	return ((struct fixture *)ctx)->now;
}

static struct config *load(const char *text)
{
	struct config_errors e;
	struct config *cfg = NULL;

	config_errors_init(&e);
	if (config_load_buffer("reload.yaml", "/", text, strlen(text), CONFIG_NO_HOST_CHECKS, &cfg,
			       &e) != 0)
		config_errors_print(&e, stderr);
	config_errors_clear(&e);
	assert_non_null(cfg);
	return cfg;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct loop_clock clock = { fake_now, f };

	assert_non_null(f);
	f->now = 1000000;
	f->cfg = load(cfg_a);
	f->log = fopen("/dev/null", "w");
	assert_int_equal(gw_init(&f->gw, f->cfg, &clock, f->log), 0);
	reload_report_init(&f->rep);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct config *cfg = f->gw.cfg; /* reload_apply freed the first one */

	reload_report_clear(&f->rep);
	gw_fini(&f->gw, false);
	config_free(cfg);
	fclose(f->log);
	free(f);
	return 0;
}

static struct pool *pool_named(struct gw *gw, const char *name)
{
	for (size_t i = 0; i < gw->cfg->n_pools; i++)
		if (strcmp(pool_name(gw->pools[i]), name) == 0)
			return gw->pools[i];
	return NULL;
}

static struct ip_addr ip4(const char *text)
{
	struct ip_addr a = { .family = AF_INET };

	assert_int_equal(inet_pton(AF_INET, text, a.bytes), 1);
	return a;
}

/* An established SA of profile with a lease from its pool (at vip when not NULL). */
static struct ike_sa *add_sa(struct fixture *f, const char *profile, const char *identity,
			     const char *vip)
{
	struct sockaddr_storage l = { 0 }, p = { 0 };
	struct sockaddr_in *l4 = (struct sockaddr_in *)&l, *p4 = (struct sockaddr_in *)&p;
	const struct config_profile *prof = config_find_profile(f->gw.cfg, profile);
	struct ip_addr want;
	struct ike_sa *sa;

	assert_non_null(prof);
	l4->sin_family = p4->sin_family = AF_INET;
	l4->sin_port = p4->sin_port = htons(500);
	inet_pton(AF_INET, "192.0.2.1", &l4->sin_addr);
	inet_pton(AF_INET, "192.0.2.2", &p4->sin_addr);
	sa = ike_sa_new(&f->gw, &l, &p, 0x0102030405060708ull + f->gw.next_sa_id);
	assert_non_null(sa);
	sa_table_mark_established(f->gw.sas, &sa->ent);
	sa->state = IKE_SA_ESTABLISHED;
	sa->profile = prof;
	snprintf(sa->peer_id, sizeof(sa->peer_id), "%s", identity);
	sa->pool = pool_named(&f->gw, prof->pool_name);
	assert_non_null(sa->pool);
	if (vip)
		want = ip4(vip);
	assert_int_equal(pool_lease_get(sa->pool, AF_INET, identity, vip ? &want : NULL, f->now,
					&sa->vip),
			 0);
	if (vip)
		assert_memory_equal(sa->vip.bytes, want.bytes, 4);
	sa->has_vip = true;
	return sa;
}

static bool in_table(struct fixture *f, struct ike_sa *sa, uint64_t spi)
{
	return sa_table_find(f->gw.sas, spi) == &sa->ent;
}

static bool names_has(const struct reload_names *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], name) == 0)
			return true;
	return false;
}

static uint32_t used(struct pool *p)
{
	struct pool_stats st;

	pool_stats(p, 0, &st);
	return st.used;
}

/* ---- tests ---- */

static void test_kept_changed_removed(void **state)
{
	struct fixture *f = *state;
	struct ike_sa *s1 = add_sa(f, "staff", "a@staff.test", NULL);
	struct ike_sa *s2 = add_sa(f, "guests", "b@guest.test", NULL);
	struct sockaddr_storage any = { .ss_family = AF_INET };
	struct ike_sa *half = ike_sa_new(&f->gw, &any, &any, 77); /* no profile yet */
	uint64_t spi1 = s1->ent.spi_local, spi_half;
	const struct config_profile *staff;

	assert_non_null(half);
	spi_half = half->ent.spi_local;
	assert_int_equal(reload_apply(&f->gw, load(cfg_b), &f->rep), 0);
	assert_true(f->rep.ok);
	assert_true(f->gw.cfg != f->cfg);
	assert_int_equal(f->rep.profiles_added.n, 1);
	assert_true(names_has(&f->rep.profiles_added, "ops"));
	assert_true(names_has(&f->rep.profiles_removed, "guests"));
	assert_true(names_has(&f->rep.profiles_changed, "staff"));
	assert_true(names_has(&f->rep.pools_removed, "guests"));
	assert_int_equal(f->rep.sas_kept, 1);
	assert_int_equal(f->rep.sas_deleted, 1);
	/* the kept SA points into the new config, at the profile of the same name */
	staff = config_find_profile(f->gw.cfg, "staff");
	assert_ptr_equal(s1->profile, staff);
	assert_int_equal(staff->n_allow, 1);
	assert_true(in_table(f, s1, spi1));
	assert_ptr_equal(sa_table_find(f->gw.sas, spi_half), &half->ent);
	assert_int_equal(sa_table_count(f->gw.sas), 2);
	assert_ptr_equal(s1->pool, pool_named(&f->gw, "staff"));
	assert_int_equal(used(s1->pool), 1);
	assert_null(pool_named(&f->gw, "guests"));
	(void)s2; /* freed by the reload */
}

/* radius: and users: take effect on reload (the RADIUS client keeps its own copy). */
static void test_eap_backends_follow_reload(void **state)
{
	struct fixture *f = *state;

	assert_null(f->gw.radius);
	assert_int_equal(reload_apply(&f->gw, load(cfg_eap), &f->rep), 0);
	assert_non_null(f->gw.radius);
	assert_non_null(f->gw.mschapv2);
	assert_true(names_has(&f->rep.settings, "radius"));
	assert_int_equal(reload_apply(&f->gw, load(cfg_a), &f->rep), 0);
	assert_null(f->gw.radius); /* servers removed: no client left */
}

static void test_unchanged_reload_reports_nothing(void **state)
{
	struct fixture *f = *state;
	struct ike_sa *s1 = add_sa(f, "staff", "a@staff.test", "10.99.0.9");
	struct pool *staff = s1->pool;

	assert_int_equal(reload_apply(&f->gw, load(cfg_a), &f->rep), 0);
	assert_int_equal(f->rep.profiles_added.n + f->rep.profiles_removed.n +
				 f->rep.profiles_changed.n + f->rep.pools_changed.n +
				 f->rep.settings.n + f->rep.restart.n,
			 0);
	assert_int_equal(f->rep.sas_kept, 1);
	assert_ptr_equal(s1->pool, staff); /* the same pool object: leases untouched */
	assert_ptr_equal(pool_named(&f->gw, "staff"), staff);
	assert_int_equal(used(staff), 1);
	assert_int_equal(f->rep.leases_moved + f->rep.leases_draining, 0);
}

static void test_pool_shrink_drains(void **state)
{
	struct fixture *f = *state;
	struct ike_sa *s1 = add_sa(f, "staff", "a@staff.test", "10.99.0.200");
	struct ip_addr want = ip4("10.99.0.200"), got;
	struct pool *staff = s1->pool;

	assert_int_equal(reload_apply(&f->gw, load(cfg_shrink), &f->rep), 0);
	assert_true(names_has(&f->rep.pools_changed, "staff"));
	assert_int_equal(f->rep.leases_draining, 1);
	assert_int_equal(f->rep.sas_kept, 1);
	assert_ptr_equal(s1->pool, staff);
	assert_true(s1->has_vip);
	assert_int_equal(used(staff), 1); /* still leased, outside the range */
	/* nobody else gets the draining address */
	assert_int_equal(pool_lease_get(staff, AF_INET, "c@staff.test", &want, f->now, &got), 0);
	assert_memory_not_equal(got.bytes, want.bytes, 4);
	assert_int_equal(pool_lease_put(staff, &got), 0);
	ike_sa_free(s1);
	assert_int_equal(used(staff), 0);
}

static void test_lease_moves_to_new_owner(void **state)
{
	struct fixture *f = *state;
	struct ike_sa *s1 = add_sa(f, "staff", "a@staff.test", "10.99.0.5");
	struct ip_addr want = ip4("10.99.0.5"), got;
	struct pool *staff = s1->pool, *lan;

	assert_int_equal(reload_apply(&f->gw, load(cfg_move), &f->rep), 0);
	lan = pool_named(&f->gw, "lan");
	assert_non_null(lan);
	assert_true(names_has(&f->rep.pools_added, "lan"));
	assert_int_equal(f->rep.leases_moved, 1);
	assert_ptr_equal(s1->pool, lan);
	assert_int_equal(used(lan), 1);
	assert_int_equal(used(staff), 0);
	/* lan knows 10.99.0.5 is in use: no collision with the SA that kept it */
	assert_int_equal(pool_lease_get(lan, AF_INET, "z@staff.test", &want, f->now, &got), 0);
	assert_memory_not_equal(got.bytes, want.bytes, 4);
	pool_lease_put(lan, &got);
	ike_sa_free(s1);
	assert_int_equal(used(lan), 0);
}

static void test_pool_removed_keeps_sa(void **state)
{
	struct fixture *f = *state;
	struct ike_sa *s2 = add_sa(f, "guests", "b@guest.test", "10.98.0.7");

	assert_int_equal(reload_apply(&f->gw, load(cfg_pool_gone), &f->rep), 0);
	assert_true(names_has(&f->rep.profiles_changed, "guests"));
	assert_true(names_has(&f->rep.pools_removed, "guests"));
	assert_int_equal(f->rep.sas_kept, 1);
	assert_int_equal(f->rep.leases_draining, 1);
	assert_null(s2->pool); /* its pool was freed; the address is in no range now */
	assert_true(s2->has_vip);
	ike_sa_free(s2); /* no use of the freed pool (ASan) */
}

static void test_restart_settings_keep_running_values(void **state)
{
	struct fixture *f = *state;
	char ip[INET_ADDRSTRLEN];

	assert_int_equal(reload_apply(&f->gw, load(cfg_restart), &f->rep), 0);
	assert_true(names_has(&f->rep.restart, "gateway.port"));
	assert_true(names_has(&f->rep.restart, "gateway.listen"));
	assert_true(names_has(&f->rep.restart, "gateway.tun_name"));
	assert_false(names_has(&f->rep.restart, "gateway.natt_port"));
	assert_true(names_has(&f->rep.settings, "proposals"));
	assert_int_equal(f->gw.cfg->gateway.port, 500);
	assert_string_equal(f->gw.cfg->gateway.tun_name, "ikegw0");
	assert_int_equal(f->gw.cfg->gateway.n_listen, 1);
	inet_ntop(AF_INET, &f->gw.cfg->gateway.listen[0].u.v4, ip, sizeof(ip));
	assert_string_equal(ip, "192.0.2.1");
	assert_int_equal(f->gw.cfg->proposals.n_ike, 1); /* proposals do apply */
}

static void test_bad_trust_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct ike_sa *s2 = add_sa(f, "guests", "b@guest.test", NULL);
	uint64_t spi = s2->ent.spi_local;
	struct pool *guests = s2->pool;

	assert_true(reload_apply(&f->gw, load(cfg_bad_trust), &f->rep) < 0);
	assert_false(f->rep.ok);
	assert_non_null(strstr(f->rep.error, "trust store"));
	assert_ptr_equal(f->gw.cfg, f->cfg);
	assert_true(in_table(f, s2, spi));
	assert_ptr_equal(pool_named(&f->gw, "guests"), guests);
	assert_ptr_equal(s2->profile, config_find_profile(f->cfg, "guests"));
}

static void test_report_json(void **state)
{
	struct fixture *f = *state;
	const struct json_val *p, *sas;
	struct json_val *v;
	struct json j;

	add_sa(f, "staff", "a@staff.test", NULL);
	add_sa(f, "guests", "b@guest.test", NULL);
	assert_int_equal(reload_apply(&f->gw, load(cfg_b), &f->rep), 0);
	assert_int_equal(json_init_dyn(&j, 1 << 16), 0);
	json_obj_begin(&j);
	reload_report_json(&f->rep, &j);
	json_obj_end(&j);
	assert_int_equal(json_finish(&j), 0);
	assert_int_equal(json_parse(json_text(&j), json_len(&j), &v, NULL, 0), 0);
	assert_non_null(json_get(v, "reloaded"));
	p = json_get(v, "profiles");
	assert_non_null(p);
	assert_string_equal(json_get(p, "added")->child->s, "ops");
	assert_string_equal(json_get(p, "removed")->child->s, "guests");
	assert_string_equal(json_get(p, "changed")->child->s, "staff");
	sas = json_get(v, "sas");
	assert_non_null(sas);
	assert_string_equal(json_get(sas, "kept")->s, "1");
	assert_string_equal(json_get(sas, "deleted")->s, "1");
	json_val_free(v);
	json_fini(&j);
}

/* ---- the daemon's path: a file, RELOADING/READY, the ctl hook's JSON ---- */


static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static void ondisk_init(struct ondisk *d)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	snprintf(d->dir, sizeof(d->dir), "/tmp/ikegw-reload-XXXXXX");
	assert_non_null(mkdtemp(d->dir));
	snprintf(d->file, sizeof(d->file), "%s/ikegw.yaml", d->dir);
	snprintf(d->sock, sizeof(d->sock), "%s/notify", d->dir);
	d->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(d->fd >= 0);
	memcpy(sun.sun_path, d->sock, strlen(d->sock) + 1);
	assert_int_equal(bind(d->fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
}

static void ondisk_fini(struct ondisk *d)
{
	close(d->fd);
	unlink(d->sock);
	unlink(d->file);
	rmdir(d->dir);
}

static const char *dgram(struct ondisk *d, char *buf, size_t len)
{
	ssize_t n = recv(d->fd, buf, len - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static int disk_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct loop_clock clock = { fake_now, f };
	struct ondisk *d = calloc(1, sizeof(*d));
	struct config_errors e;

	assert_non_null(f);
	assert_non_null(d);
	ondisk_init(d);
	write_file(d->file, cfg_a);
	config_errors_init(&e);
	if (config_load(d->file, &f->cfg, &e) != 0)
		config_errors_print(&e, stderr);
	config_errors_clear(&e);
	assert_non_null(f->cfg);
	f->now = 1000000;
	f->log = fopen("/dev/null", "w");
	assert_int_equal(gw_init(&f->gw, f->cfg, &clock, f->log), 0);
	reload_report_init(&f->rep);
	f->d = d;
	*state = f;
	return 0;
}

static int disk_teardown(void **state)
{
	struct fixture *f = *state;
	struct ondisk *d = f->d;

	ondisk_fini(d);
	free(d);
	return teardown(state);
}

static void test_run_broken_then_good(void **state)
{
	struct fixture *f = *state;
	struct ondisk *d = f->d;
	struct ike_sa *s2 = add_sa(f, "guests", "b@guest.test", NULL);
	uint64_t spi = s2->ent.spi_local;
	struct notify n;
	struct reload_ctx x = { &f->gw, &n, false };
	struct json_val *v;
	struct json j;
	char buf[256];

	assert_int_equal(notify_init(&n, d->sock, NULL, NULL), 0);
	assert_int_equal(json_init_dyn(&j, 1 << 16), 0);
	/* broken: an unknown key; the old config and the SA stay */
	write_file(d->file, "gateway: { id: vpn.example.test, bogus: 1 }\n");
	json_obj_begin(&j);
	assert_int_equal(reload_ctl_hook(&x, &j), -EINVAL);
	json_obj_end(&j);
	assert_int_equal(json_parse(json_text(&j), json_len(&j), &v, NULL, 0), 0);
	assert_non_null(strstr(json_get_str(v, "error"), "keeping the running configuration"));
	assert_non_null(strstr(json_get(v, "errors")->child->s, "ikegw.yaml:1:"));
	json_val_free(v);
	assert_ptr_equal(f->gw.cfg, f->cfg);
	assert_ptr_equal(sa_table_find(f->gw.sas, spi), &s2->ent);
	assert_int_equal(strncmp(dgram(d, buf, sizeof(buf)), "RELOADING=1\nMONOTONIC_USEC=", 27), 0);
	assert_string_equal(dgram(d, buf, sizeof(buf)),
			    "READY=1\nSTATUS=reload failed: running the previous configuration");
	/* good: guests goes, with its SA */
	write_file(d->file, cfg_b);
	json_reset(&j);
	json_obj_begin(&j);
	assert_int_equal(reload_ctl_hook(&x, &j), 0);
	json_obj_end(&j);
	assert_int_equal(json_parse(json_text(&j), json_len(&j), &v, NULL, 0), 0);
	assert_null(json_get(v, "error"));
	assert_string_equal(json_get(json_get(v, "sas"), "deleted")->s, "1");
	json_val_free(v);
	assert_null(sa_table_find(f->gw.sas, spi));
	assert_true(f->gw.cfg != f->cfg);
	assert_int_equal(strncmp(dgram(d, buf, sizeof(buf)), "RELOADING=1", 11), 0);
	assert_string_equal(dgram(d, buf, sizeof(buf)),
			    "READY=1\nSTATUS=reloaded: 0 IKE SAs kept, 1 deleted");
	/* a file that cannot be read at all */
	unlink(d->file);
	assert_true(reload_run(&x, NULL) < 0);
	json_fini(&j);
	notify_fini(&n);
}

static void test_force_debug_survives(void **state)
{
	struct fixture *f = *state;
	struct reload_ctx x = { &f->gw, NULL, true };

	f->gw.log.level = LOG_DEBUG;
	f->gw.cfg->gateway.log_level = CONFIG_LOG_DEBUG; /* what ikegwd -d does */
	assert_int_equal(reload_run(&x, NULL), 0);
	assert_int_equal(f->gw.log.level, LOG_DEBUG);
	x.force_debug = false;
	assert_int_equal(reload_run(&x, NULL), 0);
	assert_int_equal(f->gw.log.level, LOG_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kept_changed_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eap_backends_follow_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unchanged_reload_reports_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pool_shrink_drains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_moves_to_new_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_removed_keeps_sa, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_settings_keep_running_values, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_trust_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_broken_then_good, disk_setup,
						disk_teardown),
		cmocka_unit_test_setup_teardown(test_force_debug_survives, disk_setup, disk_teardown),
	};

	return cmocka_run_group_tests_name("reload", tests, NULL, NULL);
}
