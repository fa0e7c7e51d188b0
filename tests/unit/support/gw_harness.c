/* SPDX-License-Identifier: ISC */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gw_harness.h"

const char *gwh_data_path(char *buf, size_t len, const char *rel)
{
	const char *top = getenv("IKEGW_TOP");

	snprintf(buf, len, "%s/tests/data/%s", top ? top : ".", rel);
	return buf;
}

static uint64_t fake_now(void *ctx)
{
	return *(uint64_t *)ctx;
}

static int capture(void *arg, const struct sockaddr_storage *local,
		   const struct sockaddr_storage *peer, bool natt, const uint8_t *msg, size_t len)
{
	struct gw_harness *x = arg;

	(void)local, (void)peer, (void)natt;
	assert_true(x->n_out < GWH_MAX_SENT);
	x->out[x->n_out].msg = malloc(len);
	assert_non_null(x->out[x->n_out].msg);
	memcpy(x->out[x->n_out].msg, msg, len);
	x->out[x->n_out++].len = len;
	return 0;
}

static int rec_add(struct dataplane *dp, const struct dp_child *c)
{
	struct gwh_rec_dp *r = (struct gwh_rec_dp *)dp;

	assert_true(r->n_added < GWH_MAX_REC);
	r->added[r->n_added++] = *c;
	return 0;
}

static int rec_del(struct dataplane *dp, uint32_t reqid)
{
	struct gwh_rec_dp *r = (struct gwh_rec_dp *)dp;

	assert_true(r->n_deleted < GWH_MAX_REC);
	r->deleted[r->n_deleted++] = reqid;
	return 0;
}

static int rec_counters(struct dataplane *dp, uint32_t reqid, struct dp_counters *out)
{
	struct gwh_rec_dp *r = (struct gwh_rec_dp *)dp;

	(void)reqid;
	memset(out, 0, sizeof(*out));
	out->last_use_ms = r->last_use_ms;
	out->last_in_ms = r->last_in_ms;
	out->bytes_in = r->bytes_in;
	return 0;
}

static void rec_free(struct dataplane *dp)
{
	(void)dp; /* lives inside struct gw_harness */
}

static const struct dataplane_ops rec_ops = {
	.name = "recording", .child_add = rec_add, .child_del = rec_del,
	.counters = rec_counters, .free = rec_free,
};

void gwh_set_addr(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in *a = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
}

void gwh_setup(struct gw_harness *x, bool with_dp)
{
	struct config_errors errs;
	char path[512];

	config_errors_init(&errs);
	if (config_load(gwh_data_path(path, sizeof(path), "exchange/gw.yaml"), &x->cfg, &errs) != 0)
		config_errors_print(&errs, stderr);
	config_errors_clear(&errs);
	assert_non_null(x->cfg);
	x->log = open_memstream(&x->logbuf, &x->loglen);
	assert_non_null(x->log);
	x->now = 1000000;
	x->clock = (struct loop_clock){ fake_now, &x->now };
	assert_int_equal(gw_init(&x->gw, x->cfg, &x->clock, x->log), 0);
	x->gw.send = capture;
	x->gw.send_arg = x;
	x->gw.fixed_time = GWH_AT;
	x->rec.dp.ops = &rec_ops;
	if (with_dp)
		x->gw.dp = &x->rec.dp;
	gwh_set_addr(&x->gw_addr, "192.0.2.1", 500);
	gwh_set_addr(&x->cl_addr, "198.51.100.7", 500);
}

void gwh_teardown(struct gw_harness *x)
{
	gw_fini(&x->gw, false);
	config_free(x->cfg);
	fclose(x->log);
	free(x->logbuf);
	for (size_t i = 0; i < x->n_out; i++)
		free(x->out[i].msg);
}

size_t gwh_deliver(struct gw_harness *x, const uint8_t *msg, size_t len)
{
	size_t before = x->n_out;

	ike_recv(&x->gw, &x->gw_addr, &x->cl_addr, false, msg, len);
	return x->n_out - before;
}

const struct gwh_sent *gwh_last(struct gw_harness *x)
{
	assert_true(x->n_out > 0);
	return &x->out[x->n_out - 1];
}

bool gwh_log_has(struct gw_harness *x, const char *s)
{
	fflush(x->log);
	return x->logbuf && strstr(x->logbuf, s) != NULL;
}

bool gwh_rec_deleted(const struct gw_harness *x, uint32_t reqid)
{
	for (size_t i = 0; i < x->rec.n_deleted; i++)
		if (x->rec.deleted[i] == reqid)
			return true;
	return false;
}
