/* SPDX-License-Identifier: ISC */
/*
 * Profile selection (src/attr/profile.c): the first profile in file order whose first
 * auth round is the client's method and whose match rules (identity glob, CA, subject,
 * RADIUS Class) all fit.  The config is loaded with host checks, as the daemon does, so
 * match.ca is compared by the digests taken from the trust.ca files at load time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/pem.h>

#include "ikegw/config.h"
#include "ikegw/profile.h"
#include "support/gw_harness.h"

static const char cfg_text[] =
	"gateway:\n"
	"  id: vpn.example.test\n"
	"  certificate: gateway.crt\n"
	"  private_key: gateway.key\n"
	"trust:\n"
	"  ca: [ca-a.crt, ca-b.crt]\n"
	"radius:\n"
	"  servers: [{ address: 127.0.0.1, secret: testing123 }]\n"
	"profiles:\n"
	"  - name: from-b\n"
	"    auth: [certificate]\n"
	"    match: { ca: ca-b.crt }\n"
	"  - name: alice\n"
	"    auth: [certificate]\n"
	"    match: { identity: \"*alice*\", subject: \"CN=alice\" }\n"
	"  - name: any-cert\n"
	"    auth: [certificate, eap-radius]\n"
	"  - name: psk\n"
	"    auth: [psk]\n"
	"    psk: \"a pre-shared key of some length\"\n"
	"    match: { identity: \"*@psk.example.test\" }\n"
	"  - name: radius-admins\n"
	"    auth: [eap-radius]\n"
	"    match: { radius_class: admins }\n"
	"  - name: radius-rest\n"
	"    auth: [eap-radius]\n";

struct fx {
	struct config *cfg;
	X509 *ca_a, *ca_b, *alice, *frank;
};

static X509 *load_pem(const char *rel)
{
	char path[512];
	FILE *f = fopen(gwh_data_path(path, sizeof(path), rel), "r");
	X509 *x;

	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

static struct config *load_cfg(unsigned flags)
{
	char dir[512];
	struct config_errors e = { 0 };
	struct config *c = NULL;

	gwh_data_path(dir, sizeof(dir), "pki");
	if (config_load_buffer("profiles.yaml", dir, cfg_text, strlen(cfg_text), flags, &c,
			       &e) != 0)
		config_errors_print(&e, stderr);
	config_errors_clear(&e);
	assert_non_null(c);
	return c;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->cfg = load_cfg(0);
	f->ca_a = load_pem("pki/ca-a.crt");
	f->ca_b = load_pem("pki/ca-b.crt");
	f->alice = load_pem("pki/client-ecdsa.crt");
	f->frank = load_pem("pki/client-cab.crt");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	config_free(f->cfg);
	X509_free(f->ca_a);
	X509_free(f->ca_b);
	X509_free(f->alice);
	X509_free(f->frank);
	free(f);
	return 0;
}

static const char *pick(const struct config *c, enum config_auth method, const char *id,
			X509 *leaf, X509 *anchor, const char *radius_class)
{
	struct profile_facts facts = { .method = method, .identity = id, .leaf = leaf,
				       .anchor = anchor, .radius_class = radius_class };
	const struct config_profile *p = profile_select(c, &facts);

	return p ? p->name : "(none)";
}

static void test_ca_digests_taken_at_load(void **state)
{
	struct fx *f = *state;
	const struct config_profile *p = config_find_profile(f->cfg, "from-b");

	assert_non_null(p);
	assert_int_equal(p->match.n_ca_sha256, 1);
}

static void test_match_ca(void **state)
{
	struct fx *f = *state;

	assert_string_equal(pick(f->cfg, CONFIG_AUTH_CERTIFICATE, "frank.example.test", f->frank,
				 f->ca_b, NULL), "from-b");
	/* the same identity from the other CA falls through to the next fitting profile */
	assert_string_equal(pick(f->cfg, CONFIG_AUTH_CERTIFICATE, "frank.example.test", f->frank,
				 f->ca_a, NULL), "any-cert");
	/* no verified chain: a CA rule never matches */
	assert_string_equal(pick(f->cfg, CONFIG_AUTH_CERTIFICATE, "x", NULL, NULL, NULL),
			    "any-cert");
}

static void test_match_identity_and_subject(void **state)
{
	struct fx *f = *state;

	assert_string_equal(pick(f->cfg, CONFIG_AUTH_CERTIFICATE, "alice@example.test", f->alice,
				 f->ca_a, NULL), "alice");
	/* identity fits but the subject does not */
	assert_string_equal(pick(f->cfg, CONFIG_AUTH_CERTIFICATE, "alice.frank", f->frank,
				 f->ca_a, NULL), "any-cert");
	/* subject fits but the identity does not */
	assert_string_equal(pick(f->cfg, CONFIG_AUTH_CERTIFICATE, "bob@example.test", f->alice,
				 f->ca_a, NULL), "any-cert");
}

static void test_method_decides_first(void **state)
{
	struct fx *f = *state;

	assert_string_equal(pick(f->cfg, CONFIG_AUTH_PSK, "c1@psk.example.test", NULL, NULL,
				 NULL), "psk");
	assert_string_equal(pick(f->cfg, CONFIG_AUTH_PSK, "c1@other.example", NULL, NULL, NULL),
			    "(none)");
	/* no profile starts with EAP-MSCHAPv2 */
	assert_string_equal(pick(f->cfg, CONFIG_AUTH_EAP_MSCHAPV2, "alice", NULL, NULL, NULL),
			    "(none)");
	/* a two-round profile is chosen by its first round (RFC 4739) */
	assert_string_equal(pick(f->cfg, CONFIG_AUTH_EAP_RADIUS, "any", NULL, NULL, NULL),
			    "radius-rest");
}

static void test_match_radius_class(void **state)
{
	struct fx *f = *state;

	assert_string_equal(pick(f->cfg, CONFIG_AUTH_EAP_RADIUS, "root", NULL, NULL, "admins"),
			    "radius-admins");
	assert_string_equal(pick(f->cfg, CONFIG_AUTH_EAP_RADIUS, "root", NULL, NULL, "admin"),
			    "radius-rest");
}

/* Without host checks (schema tests, fuzzing) no CA file is read: match.ca fits nothing. */
static void test_no_host_checks_never_matches_ca(void **state)
{
	struct fx *f = *state;
	struct config *c = load_cfg(CONFIG_NO_HOST_CHECKS);

	assert_int_equal(config_find_profile(c, "from-b")->match.n_ca_sha256, 0);
	assert_string_equal(pick(c, CONFIG_AUTH_CERTIFICATE, "frank.example.test", f->frank,
				 f->ca_b, NULL), "any-cert");
	config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ca_digests_taken_at_load),
		cmocka_unit_test(test_match_ca),
		cmocka_unit_test(test_match_identity_and_subject),
		cmocka_unit_test(test_method_decides_first),
		cmocka_unit_test(test_match_radius_class),
		cmocka_unit_test(test_no_host_checks_never_matches_ca),
	};

	return cmocka_run_group_tests_name("profile", tests, setup, teardown);
}
