/* SPDX-License-Identifier: ISC */
/* ikegwd: the IKEv2 remote-access gateway daemon (SPEC.md "Binaries and files"). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "ikegw/config.h"
#include "ikegw/ctl.h"
#include "ikegw/gw.h"
#include "ikegw/loop.h"

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
	struct gw *gw = arg;

	log_info(&gw->log, NULL, "signal %d: deleting every SA and stopping", signo);
	loop_stop(loop);
}

static void on_hup(struct loop *loop, int signo, void *arg)
{
	struct gw *gw = arg;

	(void)loop;
	(void)signo;
	log_warn(&gw->log, NULL, "SIGHUP: reload is not implemented yet; keeping the config");
}

static int run(struct config *cfg, const struct opts *o)
{
	struct ctl_server *ctl = NULL;
	struct gw gw;
	int rc;

	if (o->debug)
		cfg->gateway.log_level = CONFIG_LOG_DEBUG;
	rc = gw_init(&gw, cfg, NULL, stderr);
	if (rc == 0)
		rc = gw_listen(&gw);
	if (rc == 0 && !(ctl = ctl_server_new(&gw, cfg->gateway.control_socket,
					      cfg->gateway.control_group, &rc)))
		rc = rc ? rc : -EIO;
	if (rc != 0) {
		log_err(&gw.log, NULL, "cannot start: %s", strerror(-rc));
		ctl_server_free(ctl);
		gw_fini(&gw, false);
		return 1;
	}
	loop_signal_add(gw.loop, SIGTERM, on_stop, &gw);
	loop_signal_add(gw.loop, SIGINT, on_stop, &gw);
	loop_signal_add(gw.loop, SIGHUP, on_hup, &gw);
	log_info(&gw.log, NULL, "ikegwd %s started, listening on UDP %u and %u", IKEGW_VERSION,
		 cfg->gateway.port, cfg->gateway.natt_port);
	loop_run(gw.loop);
	ctl_server_free(ctl);
	gw_fini(&gw, true);
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
	rc = run(cfg, &o);
	config_free(cfg);
	return rc;
}
