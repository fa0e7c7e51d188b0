/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the configuration loader: the input is the YAML text of
 * ikegw.yaml, parsed and validated by config_load_buffer() with CONFIG_NO_HOST_CHECKS
 * (no certificate, key, CA or CRL file is opened, no group or user looked up).
 * Invariants that abort: success gives a config and no error lines, failure gives no
 * config and at least one "FILE:LINE:COLUMN: message" line; a loaded config's
 * references resolve (every profile's pool is one of its pools, found by name).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ikegw/config.h"

static void check_errors(const struct config_errors *e)
{
	static FILE *null;

	if (e->n == 0 && e->dropped == 0)
		abort(); /* a refused config always says why */
	for (size_t i = 0; i < e->n; i++)
		if (strncmp(e->msg[i], "fuzz.yaml:", 10) != 0)
			abort(); /* every message starts with FILE:LINE:COLUMN */
	if (!null)
		null = fopen("/dev/null", "w");
	if (null)
		config_errors_print(e, null);
}

static void check_config(const struct config *c)
{
	struct sockaddr_storage ss;

	for (size_t i = 0; i < c->n_profiles; i++) {
		const struct config_profile *p = &c->profiles[i];

		if (config_find_profile(c, p->name) == NULL)
			abort();
		if (p->pool_name && (p->pool != config_find_pool(c, p->pool_name) || !p->pool))
			abort(); /* the resolved pool is the one named */
		if (p->n_auth < 1 || p->n_auth > CONFIG_MAX_AUTH_ROUNDS)
			abort();
		for (size_t a = 0; a < p->n_auth; a++)
			(void)config_auth_name(p->auth[a]);
		(void)config_unique_name(p->unique);
	}
	for (size_t i = 0; i < c->gateway.n_listen; i++)
		if (config_ip_sockaddr(&c->gateway.listen[i], c->gateway.port, &ss) == 0)
			abort();
	if (!c->gateway.id)
		abort(); /* gateway.id is required */
	(void)config_dataplane_name(c->gateway.dataplane);
	(void)config_log_level_name(c->gateway.log_level);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs;
	struct config *cfg = NULL;
	int rc;

	config_errors_init(&errs);
	rc = config_load_buffer("fuzz.yaml", "/nonexistent/ikegw-fuzz", (const char *)data, size,
				CONFIG_NO_HOST_CHECKS, &cfg, &errs);
	if (rc == 0) {
		if (!cfg || errs.n != 0)
			abort();
		check_config(cfg);
	} else {
		if (cfg)
			abort();
		check_errors(&errs);
	}
	config_free(cfg);
	config_errors_clear(&errs);
	return 0;
}
