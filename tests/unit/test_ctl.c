/* SPDX-License-Identifier: ISC */
/*
 * The control socket end to end, without root: a struct gw from a host-check-free
 * config, a ctl_server on a socket in a temporary folder, real client sockets, and the
 * loop driven by hand with a fake clock.  Every answer is parsed back with json_parse(),
 * so each test also proves the answer is well-formed JSON on one line.
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
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "ikegw/config.h"
#include "ikegw/ctl.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/ikev2.h"
#include "ikegw/json.h"
#include "ikegw/loop.h"
#include "ikegw/pool.h"
#include "ikegw/sa_table.h"

static const char config_text[] =
	"gateway:\n"
	"  id: vpn.example.test\n"
	"  listen: [192.0.2.1]\n"
	"pools:\n"
	"  - name: staff\n"
	"    ipv4: 10.99.0.0/24\n"
	"  - name: \"we\\\"ird\"\n"
	"    ipv4: 10.98.0.0/30\n"
	"profiles:\n"
	"  - name: staff\n"
	"    auth: [psk]\n"
	"    psk: 0123456789abcdef0123\n"
	"    pool: staff\n";

struct fixture {
	uint64_t now;
	struct config *cfg;
	struct gw gw;
	struct ctl_server *srv;
	char dir[64];
	char path[128];
	FILE *log;
};

static uint64_t fake_now(void *ctx)
{
	return ((struct fixture *)ctx)->now;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct loop_clock clock = { fake_now, f };
	struct config_errors e;
	int err;

	assert_non_null(f);
	f->now = 1000000;
	config_errors_init(&e);
	if (config_load_buffer("ctl.yaml", "/", config_text, strlen(config_text),
			       CONFIG_NO_HOST_CHECKS, &f->cfg, &e) != 0)
		config_errors_print(&e, stderr);
	config_errors_clear(&e);
	assert_non_null(f->cfg);
	f->log = fopen("/dev/null", "w");
	assert_int_equal(gw_init(&f->gw, f->cfg, &clock, f->log), 0);
	f->gw.fixed_time = 1700000000;
	snprintf(f->dir, sizeof(f->dir), "/tmp/ikegw-ctl-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/ctl.sock", f->dir);
	f->srv = ctl_server_new(&f->gw, f->path, NULL, &err);
	assert_int_equal(err, 0);
	assert_non_null(f->srv);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ctl_server_free(f->srv);
	gw_fini(&f->gw, false);
	config_free(f->cfg);
	fclose(f->log);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* ---- helpers ---- */

static int client(const struct fixture *f)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	memcpy(sun.sun_path, f->path, strlen(f->path) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

static void pump(struct fixture *f, int rounds)
{
	for (int i = 0; i < rounds; i++)
		assert_true(loop_run_once(f->gw.loop, 0) >= 0);
}

static void say(int fd, const char *text, size_t len)
{
	assert_int_equal(send(fd, text, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* One answer line (without "\n"), driving the loop; NULL on EOF.  Leftovers stay queued. */
static char *read_line(struct fixture *f, int fd)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);

	assert_non_null(buf);
	for (int round = 0; round < 10000; round++) {
		ssize_t r;

		pump(f, 1);
		if (n + 1 == cap)
			assert_non_null(buf = realloc(buf, cap *= 2));
		/* Peek first, then take exactly one line: a second answer stays queued. */
		r = recv(fd, buf + n, cap - 1 - n, MSG_PEEK);
		if (r == 0) {
			free(buf);
			return NULL;
		}
		if (r < 0) {
			assert_true(errno == EAGAIN);
			continue;
		}
		char *nl = memchr(buf + n, '\n', (size_t)r);
		size_t take = nl ? (size_t)(nl - (buf + n)) + 1 : (size_t)r;

		assert_int_equal(recv(fd, buf + n, take, 0), (ssize_t)take);
		n += take;
		if (nl) {
			buf[n - 1] = '\0';
			return buf;
		}
	}
	fail_msg("no answer");
	return NULL;
}

static struct json_val *ask(struct fixture *f, int fd, const char *req)
{
	struct json_val *v;
	char err[128], *line;

	say(fd, req, strlen(req));
	line = read_line(f, fd);
	assert_non_null(line);
	if (json_parse(line, strlen(line), &v, err, sizeof(err)) != 0)
		fail_msg("bad JSON (%s): %s", err, line);
	assert_int_equal(v->type, JSON_OBJECT);
	free(line);
	return v;
}

static struct json_val *ask1(struct fixture *f, const char *req)
{
	int fd = client(f);
	struct json_val *v = ask(f, fd, req);

	close(fd);
	pump(f, 2);
	return v;
}

static uint64_t num(const struct json_val *obj, const char *key)
{
	uint64_t v = UINT64_MAX;

	assert_int_equal(json_val_u64(json_get(obj, key), &v), 0);
	return v;
}

/* The peer closed: EOF now or after a few loop rounds. */
static void assert_closed(struct fixture *f, int fd)
{
	char c;

	for (int i = 0; i < 100; i++) {
		pump(f, 1);
		ssize_t r = recv(fd, &c, 1, 0);

		/* Closed with our unread bytes in its buffer: a reset, not an EOF. */
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return;
		assert_true(r < 0 && errno == EAGAIN);
	}
	fail_msg("still open");
}

static void assert_error(struct json_val *v, const char *want)
{
	const char *e = json_get_str(v, "error");

	if (!e || !strstr(e, want))
		fail_msg("wanted error '%s', got '%s'", want, e ? e : "(none)");
	json_val_free(v);
}

static struct ike_sa *add_sa(struct fixture *f, const char *peer, const char *identity,
			     bool with_vip)
{
	struct sockaddr_storage l = { 0 }, p = { 0 };
	struct sockaddr_in *l4 = (struct sockaddr_in *)&l, *p4 = (struct sockaddr_in *)&p;
	struct ike_sa *sa;

	l4->sin_family = p4->sin_family = AF_INET;
	l4->sin_port = htons(500);
	p4->sin_port = htons(4500);
	inet_pton(AF_INET, "192.0.2.1", &l4->sin_addr);
	inet_pton(AF_INET, peer, &p4->sin_addr);
	sa = ike_sa_new(&f->gw, &l, &p, 0x0102030405060708ull);
	assert_non_null(sa);
	sa_table_mark_established(f->gw.sas, &sa->ent);
	sa->state = IKE_SA_ESTABLISHED;
	sa->established_ms = f->now;
	sa->profile = &f->cfg->profiles[0];
	snprintf(sa->peer_id, sizeof(sa->peer_id), "%s", identity);
	sa->ke_group = IKEV2_KE_CURVE25519;
	sa->children.cur.spi_in = 0xc0ffee01;
	sa->children.cur.spi_out = 0x0000abcd;
	sa->children.cur.encr_id = IKEV2_ENCR_AES_GCM_16;
	sa->children.cur.encr_keylen = 256;
	sa->children.cur.integ_id = IKEV2_INTEG_NONE;
	if (with_vip) {
		sa->pool = f->gw.pools[0];
		assert_int_equal(pool_lease_get(sa->pool, AF_INET, identity, NULL, f->now,
						&sa->vip),
				 0);
		sa->has_vip = true;
	}
	return sa;
}

/* ---- tests ---- */

static void test_status(void **state)
{
	struct fixture *f = *state;
	struct json_val *v, *c;

	f->now += 61000;
	f->gw.ctr.handshakes_ok = 3;
	f->gw.ctr.auth_failures = 2;
	v = ask1(f, "status\n");
	assert_null(json_get(v, "error"));
	assert_non_null(json_get_str(v, "version"));
	assert_int_equal(num(v, "uptime_s"), 61);
	assert_non_null(strstr(json_get_str(v, "config"), "ctl.yaml"));
	assert_string_equal(json_get_str(v, "dataplane"), "none");
	c = (struct json_val *)json_get(v, "counts");
	assert_int_equal(num(c, "ike_sas"), 0);
	assert_int_equal(num(c, "child_sas"), 0);
	assert_int_equal(num(c, "half_open"), 0);
	assert_int_equal(num(c, "leases"), 0);
	c = (struct json_val *)json_get(v, "counters");
	assert_int_equal(num(c, "handshakes_ok"), 3);
	assert_int_equal(num(c, "handshakes_failed"), 0);
	assert_int_equal(num(c, "auth_failures"), 2);
	assert_int_equal(num(c, "bytes_in"), 0);
	assert_int_equal(num(c, "bytes_out"), 0);
	json_val_free(v);
}

static void test_errors(void **state)
{
	struct fixture *f = *state;

	assert_error(ask1(f, "bogus\n"), "unknown command 'bogus'");
	assert_error(ask1(f, "\n"), "empty request");
	assert_error(ask1(f, "status extra\n"), "usage: status");
	assert_error(ask1(f, "sas \"unterminated\n"), "bad quoting");
	assert_error(ask1(f, "a b c d e f g h i\n"), "too many words");
	assert_error(ask1(f, "reload\n"), "reload is not implemented yet");
	assert_error(ask1(f, "terminate\n"), "usage: terminate");
	assert_error(ask1(f, "terminate x\n"), "usage: terminate");
	assert_error(ask1(f, "terminate 0\n"), "usage: terminate");
	assert_error(ask1(f, "terminate --address nope\n"), "bad address");
	assert_error(ask1(f, "terminate 99\n"), "no IKE SA matches");
	assert_error(ask1(f, "log-level loud\n"), "unknown log level");
}

/* An unknown name that is itself hostile comes back escaped, still one JSON line. */
static void test_error_echo_escaped(void **state)
{
	struct fixture *f = *state;
	struct json_val *v = ask1(f, "\"x\\\"y\x01\xff\"\r\n");

	assert_string_equal(json_get_str(v, "error"), "unknown command 'x\"y\x01\xef\xbf\xbd'");
	json_val_free(v);
	{
		int fd = client(f);
		char *line;

		say(fd, "sta\0tus\n", 8);
		line = read_line(f, fd);
		assert_string_equal(line, "{\"error\":\"bad request\"}");
		free(line);
		close(fd);
	}
}

static void test_pipelined_and_kept_open(void **state)
{
	struct fixture *f = *state;
	int fd = client(f);
	char *a, *b;

	say(fd, "pools\nlog-level\n", 16);
	a = read_line(f, fd);
	b = read_line(f, fd);
	assert_non_null(strstr(a, "\"pools\""));
	assert_string_equal(b, "{\"log_level\":\"info\"}");
	free(a);
	free(b);
	/* The same connection takes another request. */
	a = read_line(f, (say(fd, "help\n", 5), fd));
	assert_non_null(strstr(a, "\"commands\""));
	free(a);
	/* A last request without "\n" before the client's EOF is still answered. */
	say(fd, "log-level", 9);
	shutdown(fd, SHUT_WR);
	a = read_line(f, fd);
	assert_string_equal(a, "{\"log_level\":\"info\"}");
	free(a);
	assert_closed(f, fd);
	close(fd);
	pump(f, 2);
	assert_int_equal(ctl_server_clients(f->srv), 0);
}

static void test_request_too_long(void **state)
{
	struct fixture *f = *state;
	char *big = malloc(CTL_REQ_MAX + 100), *line;
	int fd = client(f);

	memset(big, 'a', CTL_REQ_MAX + 100);
	say(fd, big, CTL_REQ_MAX + 100);
	line = read_line(f, fd);
	assert_string_equal(line, "{\"error\":\"request too long\"}");
	assert_closed(f, fd);
	close(fd);
	free(line);
	free(big);
	pump(f, 1);
	assert_int_equal(ctl_server_clients(f->srv), 0);
}

/* Exactly the cap with its "\n" is fine. */
static void test_request_at_cap(void **state)
{
	struct fixture *f = *state;
	char *req = malloc(CTL_REQ_MAX + 1);
	struct json_val *v;

	memcpy(req, "log-level", 9);
	memset(req + 9, ' ', CTL_REQ_MAX - 10);
	req[CTL_REQ_MAX - 1] = '\n';
	req[CTL_REQ_MAX] = '\0';
	v = ask1(f, req);
	assert_string_equal(json_get_str(v, "log_level"), "info");
	json_val_free(v);
	free(req);
}

static void test_silent_client_times_out(void **state)
{
	struct fixture *f = *state;
	int fd = client(f), fd2;

	pump(f, 2);
	assert_int_equal(ctl_server_clients(f->srv), 1);
	say(fd, "stat", 4); /* never finished */
	f->now += CTL_TIMEOUT_MS - 1;
	loop_run_timers(f->gw.loop);
	assert_int_equal(ctl_server_clients(f->srv), 1);
	/* A client that is answered gets a fresh period for its next request. */
	fd2 = client(f);
	json_val_free(ask(f, fd2, "help\n"));
	f->now += 1;
	loop_run_timers(f->gw.loop);
	assert_int_equal(ctl_server_clients(f->srv), 1);
	assert_closed(f, fd);
	f->now += CTL_TIMEOUT_MS;
	loop_run_timers(f->gw.loop);
	assert_int_equal(ctl_server_clients(f->srv), 0);
	assert_closed(f, fd2);
	close(fd);
	close(fd2);
}

static void test_clients_bounded(void **state)
{
	struct fixture *f = *state;
	int fds[CTL_CLIENTS_MAX + 6];
	char *line;

	for (size_t i = 0; i < CTL_CLIENTS_MAX + 6; i++) {
		fds[i] = client(f);
		pump(f, 1);
	}
	pump(f, 4);
	assert_int_equal(ctl_server_clients(f->srv), CTL_CLIENTS_MAX);
	for (size_t i = CTL_CLIENTS_MAX; i < CTL_CLIENTS_MAX + 6; i++) {
		line = read_line(f, fds[i]);
		assert_string_equal(line, "{\"error\":\"too many clients\"}");
		free(line);
		assert_closed(f, fds[i]);
	}
	/* Those admitted still work. */
	json_val_free(ask(f, fds[0], "status\n"));
	json_val_free(ask(f, fds[CTL_CLIENTS_MAX - 1], "status\n"));
	for (size_t i = 0; i < CTL_CLIENTS_MAX + 6; i++)
		close(fds[i]);
	pump(f, 4);
	assert_int_equal(ctl_server_clients(f->srv), 0);
}

static void test_sas(void **state)
{
	struct fixture *f = *state;
	struct ike_sa *sa = add_sa(f, "198.51.100.7", "alice@example.test", true);
	struct json_val *v;
	const struct json_val *list, *s, *c, *ike;
	struct sockaddr_storage any = { .ss_family = AF_INET };
	char line[64];

	/* And one half-open SA: hidden unless --all. */
	assert_non_null(ike_sa_new(&f->gw, &any, &any, 42));
	f->now += 3 * 3600 * 1000;
	v = ask1(f, "sas\n");
	list = json_get(v, "sas");
	assert_int_equal(list->type, JSON_ARRAY);
	assert_int_equal(list->n, 1);
	assert_int_equal(num(v, "half_open_hidden"), 1);
	s = list->child;
	assert_int_equal(num(s, "id"), sa->id);
	assert_string_equal(json_get_str(s, "peer"), "198.51.100.7:4500");
	assert_string_equal(json_get_str(s, "remote_id"), "alice@example.test");
	assert_string_equal(json_get_str(s, "profile"), "staff");
	assert_string_equal(json_get_str(s, "vip"), "10.99.0.1");
	assert_string_equal(json_get_str(s, "state"), "established");
	assert_int_equal(num(s, "established_s"), 3 * 3600);
	ike = json_get(s, "ike");
	assert_string_equal(json_get_str(ike, "spi_i"), "0102030405060708");
	assert_string_equal(json_get_str(ike, "ke"), "x25519");
	c = json_get(s, "child");
	assert_string_equal(json_get_str(c, "spi_in"), "c0ffee01");
	assert_string_equal(json_get_str(c, "spi_out"), "0000abcd");
	assert_string_equal(json_get_str(c, "encr"), "aes256gcm16");
	assert_string_equal(json_get_str(c, "integ"), "none");
	assert_int_equal(num(c, "bytes_in"), 0);
	assert_int_equal(num(c, "packets_out"), 0);
	json_val_free(v);

	v = ask1(f, "sas --all\n");
	assert_int_equal(json_get(v, "sas")->n, 2);
	assert_int_equal(num(v, "half_open_hidden"), 0);
	json_val_free(v);
	assert_error(ask1(f, "sas --some\n"), "usage: sas");

	v = ask1(f, "status\n");
	assert_int_equal(num(json_get(v, "counts"), "ike_sas"), 1);
	assert_int_equal(num(json_get(v, "counts"), "child_sas"), 1);
	assert_int_equal(num(json_get(v, "counts"), "half_open"), 1);
	assert_int_equal(num(json_get(v, "counts"), "leases"), 1);
	json_val_free(v);

	/* replaced by a rekey, waiting for its Delete: not a tunnel any more */
	sa->superseded = true;
	v = ask1(f, "sas\n");
	assert_string_equal(json_get_str(json_get(v, "sas")->child, "state"), "rekeyed");
	json_val_free(v);
	snprintf(line, sizeof(line), "rekey %u ike\n", sa->id);
	assert_error(ask1(f, line), "no established IKE SA");
	sa->superseded = false;
	assert_error(ask1(f, "rekey 999\n"), "no established IKE SA 999");
	assert_error(ask1(f, "rekey one\n"), "usage: rekey ID [child|ike]");
	assert_error(ask1(f, "rekey 1 both\n"), "usage: rekey ID [child|ike]");
}

/* Whatever bytes an identity holds, the answer stays well-formed JSON. */
static void set_ts(struct ts *t, const char *start, const char *end)
{
	memset(t, 0, sizeof(*t));
	t->type = IKEV2_TS_IPV4_ADDR_RANGE;
	t->end_port = 0xffff;
	assert_int_equal(inet_pton(AF_INET, start, t->start), 1);
	assert_int_equal(inet_pton(AF_INET, end, t->end), 1);
}

/* RFC 7296 1.3.1: every Child SA with its own selectors; "child" stays the first one. */
static void test_sas_children(void **state)
{
	struct fixture *f = *state;
	struct ike_sa *sa = add_sa(f, "198.51.100.7", "alice@example.test", true);
	struct child_line *l = ike_sa_line_get(sa);
	const struct json_val *list, *first, *second, *ts;
	struct json_val *v;

	assert_non_null(l);
	assert_true(l != &sa->children); /* the first line is taken: a new one */
	set_ts(&sa->children.ts.tsi, "10.99.0.1", "10.99.0.1");
	sa->children.ts.n_tsr = 1;
	set_ts(&sa->children.ts.tsr[0], "10.10.0.0", "10.10.0.255");
	l->cur = sa->children.cur;
	l->cur.spi_in = 0xc0ffee02;
	l->ts.tsi = sa->children.ts.tsi;
	l->ts.n_tsr = 2;
	set_ts(&l->ts.tsr[0], "10.20.0.0", "10.20.0.127");
	set_ts(&l->ts.tsr[1], "10.30.0.1", "10.30.0.5");
	v = ask1(f, "sas\n");
	first = json_get(json_get(v, "sas")->child, "child");
	assert_string_equal(json_get_str(first, "spi_in"), "c0ffee01");
	assert_string_equal(json_get(first, "local_ts")->child->s, "10.10.0.0/24");
	assert_string_equal(json_get(first, "remote_ts")->child->s, "10.99.0.1/32");
	list = json_get(json_get(v, "sas")->child, "additional_children");
	assert_non_null(list);
	assert_int_equal(list->n, 1);
	second = list->child;
	assert_string_equal(json_get_str(second, "spi_in"), "c0ffee02");
	ts = json_get(second, "local_ts");
	assert_int_equal(ts->n, 2);
	assert_string_equal(ts->child->s, "10.20.0.0/25");
	assert_string_equal(ts->child->next->s, "10.30.0.1-10.30.0.5");
	assert_string_equal(json_get(second, "remote_ts")->child->s, "10.99.0.1/32");
	json_val_free(v);
	v = ask1(f, "status\n");
	assert_int_equal(num(json_get(v, "counts"), "child_sas"), 2);
	json_val_free(v);
}

static void test_sas_hostile_identity(void **state)
{
	struct fixture *f = *state;
	static const char evil[] = "\"},{\"x\":\"\\\n\t\x01\x7f\xff\xc3(\xe2\x82\xac";
	struct json_val *v;

	add_sa(f, "198.51.100.8", evil, false);
	v = ask1(f, "sas\n");
	assert_int_equal(json_get(v, "sas")->n, 1);
	assert_memory_equal(json_get_str(json_get(v, "sas")->child, "remote_id"),
			    "\"},{\"x\":\"\\\n\t\x01\x7f\xef\xbf\xbd", 17);
	json_val_free(v);
}

static void test_leases_pools_metrics(void **state)
{
	struct fixture *f = *state;
	const struct json_val *l, *p;
	struct json_val *v;
	const char *text;

	add_sa(f, "198.51.100.7", "alice@example.test", true);
	f->now += 90000;
	v = ask1(f, "leases\n");
	l = json_get(v, "leases");
	assert_int_equal(l->n, 1);
	assert_string_equal(json_get_str(l->child, "pool"), "staff");
	assert_string_equal(json_get_str(l->child, "address"), "10.99.0.1");
	assert_string_equal(json_get_str(l->child, "identity"), "alice@example.test");
	assert_int_equal(num(l->child, "since_s"), 90);
	assert_int_equal(num(l->child, "since"), 1700000000 - 90);
	json_val_free(v);

	v = ask1(f, "pools\n");
	p = json_get(v, "pools");
	assert_int_equal(p->n, 2);
	assert_string_equal(json_get_str(p->child, "name"), "staff");
	assert_int_equal(num(p->child, "size"), 254);
	assert_int_equal(num(p->child, "used"), 1);
	assert_int_equal(num(p->child, "free"), 253);
	assert_string_equal(json_get_str(p->child->next, "name"), "we\"ird");
	json_val_free(v);

	f->gw.ctr.handshakes_failed = 5;
	v = ask1(f, "metrics\n");
	text = json_get_str(v, "text");
	assert_non_null(text);
	assert_non_null(strstr(text, "# TYPE ikegw_ike_sas gauge\nikegw_ike_sas 1\n"));
	assert_non_null(strstr(text, "# HELP ikegw_half_open_sas "));
	assert_non_null(strstr(text, "ikegw_handshakes_total{result=\"failed\"} 5\n"));
	assert_non_null(strstr(text, "# TYPE ikegw_auth_failures_total counter\n"));
	assert_non_null(strstr(text, "ikegw_bytes_total{direction=\"in\"} 0\n"));
	assert_non_null(strstr(text, "ikegw_packets_total{direction=\"out\"} 0\n"));
	assert_non_null(strstr(text, "ikegw_pool_addresses{pool=\"staff\",state=\"used\"} 1\n"));
	assert_non_null(strstr(text, "ikegw_pool_addresses{pool=\"staff\",state=\"free\"} 253\n"));
	/* Label values escape the quote (exposition format 0.0.4). */
	assert_non_null(strstr(text, "{pool=\"we\\\"ird\",state=\"free\"} 2\n"));
	assert_int_equal(text[strlen(text) - 1], '\n');
	json_val_free(v);
}

static void test_terminate(void **state)
{
	struct fixture *f = *state;
	struct pool_stats st;
	struct json_val *v;
	char req[64];
	struct ike_sa *a = add_sa(f, "198.51.100.7", "alice@example.test", true);

	add_sa(f, "198.51.100.8", "bob@example.test", true);
	add_sa(f, "198.51.100.9", "bob@example.test", false);
	add_sa(f, "198.51.100.10", "carol@example.test", true);
	assert_int_equal(sa_table_count(f->gw.sas), 4);

	snprintf(req, sizeof(req), "terminate #%u\n", a->id);
	v = ask1(f, req);
	assert_int_equal(num(v, "terminated"), 1);
	json_val_free(v);
	assert_int_equal(sa_table_count(f->gw.sas), 3);
	pool_stats(f->gw.pools[0], 0, &st);
	assert_int_equal(st.used, 2); /* the lease went with it */
	assert_error(ask1(f, req), "no IKE SA matches");

	v = ask1(f, "terminate --identity bob@example.test\n");
	assert_int_equal(num(v, "terminated"), 2);
	json_val_free(v);
	assert_int_equal(sa_table_count(f->gw.sas), 1);

	/* By virtual IP (carol has 10.99.0.3), then by outer address. */
	add_sa(f, "198.51.100.11", "dave@example.test", false);
	assert_error(ask1(f, "terminate --address 10.99.0.2\n"), "no IKE SA matches");
	v = ask1(f, "terminate --address 10.99.0.3\n");
	assert_int_equal(num(v, "terminated"), 1);
	json_val_free(v);
	assert_int_equal(sa_table_count(f->gw.sas), 1);
	v = ask1(f, "terminate --address 198.51.100.11\n");
	assert_int_equal(num(v, "terminated"), 1);
	json_val_free(v);
	assert_int_equal(sa_table_count(f->gw.sas), 0);
}

static void test_terminate_quoted_identity(void **state)
{
	struct fixture *f = *state;
	struct json_val *v;

	add_sa(f, "198.51.100.7", "C=GB, O=Corp \"x\", CN=a\\b", false);
	v = ask1(f, "terminate --identity \"C=GB, O=Corp \\\"x\\\", CN=a\\\\b\"\n");
	assert_int_equal(num(v, "terminated"), 1);
	json_val_free(v);
}

static void test_log_level(void **state)
{
	struct fixture *f = *state;
	struct json_val *v;

	assert_int_equal(f->gw.log.level, LOG_INFO);
	v = ask1(f, "log-level debug\n");
	assert_string_equal(json_get_str(v, "log_level"), "debug");
	json_val_free(v);
	assert_int_equal(f->gw.log.level, LOG_DEBUG);
	v = ask1(f, "log-level warning\n");
	json_val_free(v);
	assert_int_equal(f->gw.log.level, LOG_WARNING);
	v = ask1(f, "status\n");
	assert_string_equal(json_get_str(v, "log_level"), "warning");
	json_val_free(v);
}

static int reload_ok(void *arg, struct json *j)
{
	(*(int *)arg)++;
	json_karr_begin(j, "changed");
	json_str(j, "pools.staff");
	json_arr_end(j);
	return 0;
}

static int reload_bad(void *arg, struct json *j)
{
	(void)arg;
	json_kstr(j, "error", "config has errors; keeping the old one");
	json_karr_begin(j, "errors");
	json_str(j, "ikegw.yaml:3:5: unknown key 'x'");
	json_arr_end(j);
	return -EINVAL;
}

static void test_reload_hook(void **state)
{
	struct fixture *f = *state;
	struct json_val *v;
	int calls = 0;

	ctl_server_set_reload(f->srv, reload_ok, &calls);
	v = ask1(f, "reload\n");
	assert_int_equal(calls, 1);
	assert_string_equal(json_get(v, "changed")->child->s, "pools.staff");
	json_val_free(v);
	ctl_server_set_reload(f->srv, reload_bad, NULL);
	v = ask1(f, "reload\n");
	assert_non_null(json_get(v, "errors"));
	assert_error(v, "keeping the old one");
}

/* A client that asks and never reads: the daemon neither blocks nor buffers more. */
static void test_slow_reader(void **state)
{
	struct fixture *f = *state;
	int fd;

	for (int i = 0; i < 3000; i++)
		add_sa(f, "198.51.100.7", "someone.with.a.rather.long.identity@example.test",
		       false);
	fd = client(f);
	say(fd, "sas\nsas\nsas\nsas\n", 16);
	pump(f, 50); /* would hang here if a write blocked */
	assert_int_equal(ctl_server_clients(f->srv), 1);
	f->now += CTL_TIMEOUT_MS;
	loop_run_timers(f->gw.loop);
	assert_int_equal(ctl_server_clients(f->srv), 0);
	close(fd);
}

/* An answer past the cap is replaced by a short error, not cut. */
static void test_answer_too_large(void **state)
{
	struct fixture *f = *state;
	struct json j;

	assert_int_equal(json_init_dyn(&j, 100), 0);
	ctl_command_run(&f->gw, NULL, "help", &j);
	assert_string_equal(json_text(&j), "{\"error\":\"answer too large\"}");
	ctl_command_run(&f->gw, NULL, "log-level", &j);
	assert_string_equal(json_text(&j), "{\"log_level\":\"info\"}");
	json_fini(&j);
}

static void test_split_words(void **state)
{
	char line[128], *argv[4];

	(void)state;
	strcpy(line, "  a\tbb  \"c d\" \"\" \"e\\\"\\\\\"  ");
	assert_int_equal(ctl_split_words(line, argv, 4), -E2BIG);
	strcpy(line, "  a\tbb  \"c d\" \"e\\\"\\\\\"  ");
	assert_int_equal(ctl_split_words(line, argv, 4), 4);
	assert_string_equal(argv[0], "a");
	assert_string_equal(argv[1], "bb");
	assert_string_equal(argv[2], "c d");
	assert_string_equal(argv[3], "e\"\\");
	strcpy(line, "\"\"");
	assert_int_equal(ctl_split_words(line, argv, 4), 1);
	assert_string_equal(argv[0], "");
	strcpy(line, "   ");
	assert_int_equal(ctl_split_words(line, argv, 4), 0);
	strcpy(line, "\"a\"b");
	assert_int_equal(ctl_split_words(line, argv, 4), -EINVAL);
	strcpy(line, "\"a\\n\"");
	assert_int_equal(ctl_split_words(line, argv, 4), -EINVAL);
	strcpy(line, "\"a\\");
	assert_int_equal(ctl_split_words(line, argv, 4), -EINVAL);
}

/* A socket file left behind is replaced; a live daemon's or a plain file is not. */
static void test_stale_socket(void **state)
{
	struct fixture *f = *state;
	struct ctl_server *s2;
	char path[160];
	int err, fd;
	FILE *plain;

	s2 = ctl_server_new(&f->gw, f->path, NULL, &err);
	assert_null(s2);
	assert_int_equal(err, -EADDRINUSE);

	snprintf(path, sizeof(path), "%s/stale.sock", f->dir);
	{
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		memcpy(sun.sun_path, path, strlen(path) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
		close(fd); /* the file stays, nobody listens */
	}
	s2 = ctl_server_new(&f->gw, path, NULL, &err);
	assert_non_null(s2);
	{
		struct stat st;

		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0660);
	}
	ctl_server_free(s2);
	assert_int_equal(access(path, F_OK), -1); /* unlinked on free */

	plain = fopen(path, "w");
	fclose(plain);
	assert_null(ctl_server_new(&f->gw, path, NULL, &err));
	assert_int_equal(err, -EEXIST);
	unlink(path);

	assert_null(ctl_server_new(&f->gw, path, "no-such-group-ikegw", &err));
	assert_int_equal(err, -ENOENT);
	assert_int_equal(access(path, F_OK), -1);
	assert_null(ctl_server_new(&f->gw,
				   "/tmp/a-very-long-path-that-does-not-fit-into-sun-path-at-all-"
				   "because-it-goes-on-and-on-and-on-and-on-and-on-and-on/x.sock",
				   NULL, &err));
	assert_int_equal(err, -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_status),
		T(test_errors),
		T(test_error_echo_escaped),
		T(test_pipelined_and_kept_open),
		T(test_request_too_long),
		T(test_request_at_cap),
		T(test_silent_client_times_out),
		T(test_clients_bounded),
		T(test_sas),
		T(test_sas_children),
		T(test_sas_hostile_identity),
		T(test_leases_pools_metrics),
		T(test_terminate),
		T(test_terminate_quoted_identity),
		T(test_log_level),
		T(test_reload_hook),
		T(test_slow_reader),
		T(test_answer_too_large),
		T(test_split_words),
		T(test_stale_socket),
#undef T
	};

	return cmocka_run_group_tests_name("ctl", tests, NULL, NULL);
}
