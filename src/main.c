/* SPDX-License-Identifier: ISC */
/* ikegwd: the IKEv2 remote-access gateway daemon (SPEC.md "Binaries and files"). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "ikegw/caps.h"
#include "ikegw/config.h"
#include "ikegw/ctl.h"
#include "ikegw/gw.h"
#include "ikegw/loop.h"
#include "ikegw/notify.h"
#include "ikegw/reload.h"

struct opts {
	const char *config;
	bool check, debug;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ikegwd [-c FILE] [--check] [-d|--debug] [--version]\n");
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' }, { "check", no_argument, NULL, 'C' },
		{ "debug", no_argument, NULL, 'd' },        { "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
	};
	int c;

	o->config = "/etc/ikegw/ikegw.yaml";
	while ((c = getopt_long(argc, argv, "c:dh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'C': o->check = true; break;
		case 'd': o->debug = true; break;
		case 'V': printf("ikegwd %s\n", IKEGW_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

static void on_stop(struct loop *loop, int signo, void *arg)
{
	struct reload_ctx *x = arg;

	log_info(&x->gw->log, NULL, "signal %d: deleting every SA and stopping", signo);
	notify_stopping(x->notify);
	loop_stop(loop);
}

static void on_hup(struct loop *loop, int signo, void *arg)
{
	(void)loop;
	(void)signo;
	reload_run(arg, NULL);
}

/* After the sockets are bound: CAP_NET_ADMIN only (SPEC.md), as gateway.user if set. */
static int drop_privileges(struct gw *gw)
{
	char why[CAPS_WHY_MAX], caps[128];

	if (caps_drop(gw->cfg->gateway.user, false, why, sizeof(why)) != 0) {
		log_err(&gw->log, NULL, "cannot drop privileges: %s", why);
		return -EPERM;
	}
	caps_text(caps, sizeof(caps));
	log_info(&gw->log, NULL, "privileges dropped: %s%s%s", caps,
		 gw->cfg->gateway.user ? ", user " : "",
		 gw->cfg->gateway.user ? gw->cfg->gateway.user : "");
	return 0;
}

static int run(struct config *cfg, const struct opts *o)
{
	struct ctl_server *ctl = NULL;
	struct notify nt;
	struct gw gw;
	struct reload_ctx rx = { &gw, &nt, o->debug };
	char status[128];
	int rc;

	if (o->debug)
		cfg->gateway.log_level = CONFIG_LOG_DEBUG;
	rc = gw_init(&gw, cfg, NULL, stderr);
	if (rc == 0)
		rc = gw_listen(&gw);
	if (rc == 0 && !(ctl = ctl_server_new(&gw, cfg->gateway.control_socket,
					      cfg->gateway.control_group, &rc)))
		rc = rc ? rc : -EIO;
	if (notify_init_env(&nt) != 0)
		log_warn(&gw.log, NULL, "NOTIFY_SOCKET is unusable: not talking to systemd");
	if (rc == 0)
		rc = drop_privileges(&gw);
	if (rc != 0) {
		log_err(&gw.log, NULL, "cannot start: %s", strerror(-rc));
		notify_fini(&nt);
		ctl_server_free(ctl);
		cfg = gw.cfg;
		gw_fini(&gw, false);
		config_free(cfg);
		return 1;
	}
	ctl_server_set_reload(ctl, reload_ctl_hook, &rx);
	loop_signal_add(gw.loop, SIGTERM, on_stop, &rx);
	loop_signal_add(gw.loop, SIGINT, on_stop, &rx);
	loop_signal_add(gw.loop, SIGHUP, on_hup, &rx);
	log_info(&gw.log, NULL, "ikegwd %s started, listening on UDP %u and %u", IKEGW_VERSION,
		 cfg->gateway.port, cfg->gateway.natt_port);
	snprintf(status, sizeof(status), "listening on UDP %u and %u", cfg->gateway.port,
		 cfg->gateway.natt_port);
	notify_ready(&nt, status);
	notify_watchdog_start(&nt, gw.loop);
	loop_run(gw.loop);
	notify_fini(&nt); /* before gw_fini frees the loop its watchdog timer is on */
	ctl_server_free(ctl);
	cfg = gw.cfg; /* a reload replaced (and freed) the one we started with */
	gw_fini(&gw, true);
	config_free(cfg);
	return 0;
}

int main(int argc, char **argv)
{
	struct config_errors errs;
	struct config *cfg = NULL;
	struct opts o = { 0 };
	int rc;

	if (parse_args(argc, argv, &o) != 0) {
		usage(stderr);
		return 2;
	}
	config_errors_init(&errs);
	rc = config_load(o.config, &cfg, &errs);
	if (rc != 0) {
		config_errors_print(&errs, stderr);
		if (errs.n == 0)
			fprintf(stderr, "%s: %s\n", o.config, strerror(-rc));
		config_errors_clear(&errs);
		return 1;
	}
	config_errors_clear(&errs);
	if (o.check) {
		printf("%s: configuration is valid\n", o.config);
		config_free(cfg);
		return 0;
	}
	return run(cfg, &o); /* run() frees the config */
}
