/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the responder's IKE_AUTH handling with real SA state: per input,
 * a gateway (struct gw, no sockets, a fake clock, a no-op dataplane) from a fixed
 * config, a fixed IKE_SA_INIT from the test initiator, then the input as the inner
 * payload chain of a validly encrypted IKE_AUTH request.  This reaches ike_auth.c's
 * handling of IDi, CERT, AUTH, CP, SA, TSi/TSr, N and EAP, and child_sa.c after it.
 *
 * The gateway is built once; after each input every IKE SA it holds is freed (as
 * gw_fini() does), so leases, half-open counts and the SA table start clean.
 *
 * Input layout: byte 0 = first inner payload type; byte 1 = flags (bit 0: the IKE
 * proposal, AES-GCM or AES-CBC/HMAC; bit 1: leave AUTH alone); the rest = inner chain.
 * Unless bit 1 is set, a PSK AUTH payload whose data has the right length gets the
 * right value (RFC 7296 2.15, computed over this run's keys) before encryption, so
 * the fuzzer gets past authentication to the CP, SA and TS handling.
 * Invariant that aborts: whatever the gateway answers must decrypt and pass the
 * payload rules at the initiator (ikei_decrypt).
 * Files come from $IKEGW_TOP/tests/data/pki (IKEGW_TOP defaults to ".").
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ikegw/config.h"
#include "ikegw/dataplane.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/ikev2.h"
#include "ikegw/loop.h"
#include "ikegw/sa_table.h"

/* The fuzz build links src/ only: the test initiator comes in as source. */
#include "../unit/support/ike_initiator.c"

#define FUZZ_AT ((time_t)1893456000) /* 2030-01-01: certificate checks */
#define FUZZ_PSK "fuzz ike_auth pre-shared key"

static const char gw_yaml[] =
	"gateway:\n"
	"  id: vpn.example.test\n"
	"  listen: [192.0.2.1]\n"
	"  certificate: gateway.crt\n"
	"  private_key: gateway.key\n"
	"trust:\n"
	"  ca: [ca-a.crt]\n"
	"  crl: [ca-a.crl]\n"
	"proposals:\n"
	"  ike: [aes256gcm16-prfsha384-x25519, aes128-sha256-x25519]\n"
	"  esp: [aes256gcm16, aes128-sha256]\n"
	"pools:\n"
	"  - name: staff\n"
	"    ipv4: 10.99.0.0/24\n"
	"    ipv6: fd00:99::/112\n"
	"    dns: [10.0.0.53, \"fd00::53\"]\n"
	"    dns_domains: [corp.example]\n"
	"users:\n"
	"  - { name: alice, nt_hash: 8846f7eaee8fb117ad06bdd830b7586c }\n"
	"profiles:\n"
	"  - name: psk\n"
	"    auth: [psk]\n"
	"    psk: \"" FUZZ_PSK "\"\n"
	"    match: { identity: \"*@psk.example.test\" }\n"
	"    pool: staff\n"
	"    allow: [10.10.0.0/24, \"fd00:10::/64\"]\n"
	"  - name: full\n"
	"    auth: [psk]\n"
	"    psk: \"" FUZZ_PSK "\"\n"
	"    match: { identity: \"*.full.example.test\" }\n"
	"    pool: staff\n"
	"  - name: eap\n"
	"    auth: [eap-mschapv2]\n"
	"    match: { identity: \"*@eap.example.test\" }\n"
	"    pool: staff\n"
	"  - name: cert\n"
	"    auth: [certificate]\n"
	"    match: { ca: ca-a.crt }\n"
	"    pool: staff\n";

struct fz {
	struct gw gw;
	struct dataplane dp;
	struct config *cfg;
	FILE *log;
	uint64_t now;
	struct loop_clock clock;
	struct sockaddr_storage gw_addr, cl_addr;
	struct ike_proposal ike[2];
	uint8_t out[IKEI_MSG_MAX]; /* the gateway's last datagram */
	size_t out_len, n_out;
};

/* ---- the gateway's surroundings ---- */

static int capture(void *arg, const struct sockaddr_storage *local,
		   const struct sockaddr_storage *peer, bool natt, const uint8_t *msg, size_t len)
{
	struct fz *f = arg;

	(void)local, (void)peer, (void)natt;
	if (len > sizeof(f->out))
		abort(); /* bigger than any datagram the gateway should build */
	memcpy(f->out, msg, len);
	f->out_len = len;
	f->n_out++;
	return 0;
}

static int nop_add(struct dataplane *dp, const struct dp_child *c)
{
	(void)dp, (void)c;
	return 0;
}

static int nop_del(struct dataplane *dp, uint32_t reqid)
{
	(void)dp, (void)reqid;
	return 0;
}

static int nop_flush(struct dataplane *dp)
{
	(void)dp;
	return 0;
}

static void nop_free(struct dataplane *dp)
{
	(void)dp; /* static */
}

static const struct dataplane_ops nop_ops = {
	.name = "fuzz", .child_add = nop_add, .child_del = nop_del, .flush = nop_flush,
	.free = nop_free,
};

static uint64_t fake_now(void *ctx)
{
	return *(uint64_t *)ctx;
}

static void set_addr(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in *a = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	if (inet_pton(AF_INET, ip, &a->sin_addr) != 1)
		abort();
}

static struct fz *fz_get(void)
{
	static struct fz *f;
	struct config_errors errs;
	const char *top = getenv("IKEGW_TOP");
	char dir[4096];

	if (f)
		return f;
	if (!(f = calloc(1, sizeof(*f))))
		abort();
	snprintf(dir, sizeof(dir), "%s/tests/data/pki", top ? top : ".");
	config_errors_init(&errs);
	if (config_load_buffer("fuzz-gw.yaml", dir, gw_yaml, sizeof(gw_yaml) - 1, 0, &f->cfg,
			       &errs) != 0) {
		config_errors_print(&errs, stderr);
		fprintf(stderr, "fuzz_ike_auth: config failed (set IKEGW_TOP)\n");
		abort();
	}
	config_errors_clear(&errs);
	f->log = fopen("/dev/null", "w");
	f->now = 1000000;
	f->clock = (struct loop_clock){ fake_now, &f->now };
	set_addr(&f->gw_addr, "192.0.2.1", 500);
	set_addr(&f->cl_addr, "198.51.100.7", 500);
	if (!f->log || ikei_proposal("aes256gcm16-prfsha384-x25519", IKEV2_PROTO_IKE, &f->ike[0]) ||
	    ikei_proposal("aes128-sha256-x25519", IKEV2_PROTO_IKE, &f->ike[1]))
		abort();
	if (gw_init(&f->gw, f->cfg, &f->clock, f->log) != 0)
		abort();
	f->gw.send = capture;
	f->gw.send_arg = f;
	f->gw.fixed_time = FUZZ_AT;
	f->dp.ops = &nop_ops;
	f->gw.dp = &f->dp;
	return f;
}

static void deliver(struct fz *f, struct gw *gw, const uint8_t *msg, size_t len)
{
	f->n_out = 0;
	ike_recv(gw, &f->gw_addr, &f->cl_addr, false, msg, len);
}

/* ---- the client side ---- */

static int do_init(struct fz *f, struct gw *gw, struct ikei *c, int prop)
{
	static const uint8_t nonce[IKEI_NONCE_LEN] = "fuzz ike_auth fixed nonce Ni...";
	static struct ike_msg m;
	struct ikei_sa_init_opts o = { .props = &f->ike[prop], .n_props = 1,
				       .ke_group = IKEV2_KE_CURVE25519, .nonce = nonce,
				       .nonce_len = sizeof(nonce), .nat_d = true,
				       .sig_hash = true };
	uint8_t buf[IKEI_MSG_MAX];
	struct wbuf w;

	if (ikei_init(c, gw->suite, &f->cl_addr, &f->gw_addr) != 0)
		abort();
	wbuf_init(&w, buf, sizeof(buf));
	if (ikei_sa_init_build(c, &o, &w) != 0)
		abort();
	deliver(f, gw, buf, wbuf_len(&w));
	if (f->n_out != 1 || ikei_sa_init_process(c, f->out, f->out_len, &m) != 0)
		abort(); /* a fixed good IKE_SA_INIT must succeed */
	return 0;
}

/* RFC 7296 2.15: put this run's PSK AUTH value where the input has one of that size. */
static void fix_psk_auth(struct ikei *c, uint8_t first, uint8_t *inner, size_t len)
{
	static struct ike_msg m;
	struct ikei_auth_opts o = { .psk = (const uint8_t *)FUZZ_PSK,
				    .psk_len = sizeof(FUZZ_PSK) - 1 };
	const struct ike_payload *id, *au;
	uint8_t mac[PSK_AUTH_MAX], method, *dst;
	struct codec_err err;
	struct wbuf aw, w;

	memset(&m, 0, sizeof(m));
	if (codec_decode_chain(first, inner, len, &m, &err) != 0)
		return;
	id = codec_msg_find(&m, IKEV2_PL_IDI, 0);
	au = codec_msg_find(&m, IKEV2_PL_AUTH, 0);
	if (!id || !au || au->u.auth.method != IKEV2_AUTH_PSK)
		return;
	wbuf_init(&aw, mac, sizeof(mac));
	if (auth_value(c, &o, id->body.p, id->body.len, &method, &aw) != 0 ||
	    wbuf_len(&aw) != au->u.auth.data.len)
		return;
	wbuf_init(&w, inner, len);
	w.len = len; /* the chain is written already; patch the AUTH data in place */
	dst = wbuf_at(&w, (size_t)(au->u.auth.data.p - inner), wbuf_len(&aw));
	if (dst)
		memcpy(dst, mac, wbuf_len(&aw));
}

static void do_auth(struct fz *f, struct gw *gw, struct ikei *c, const uint8_t *data,
		    size_t size)
{
	static uint8_t inner[IKEI_MSG_MAX], buf[IKEI_MSG_MAX], plain[IKEI_MSG_MAX];
	static struct ike_msg m;
	size_t len = size - 2;
	struct wbuf w;

	if (len > sizeof(inner) - 512)
		return;
	memcpy(inner, data + 2, len);
	if (!(data[1] & 2))
		fix_psk_auth(c, data[0], inner, len);
	wbuf_init(&w, buf, sizeof(buf));
	if (ikei_request_build(c, IKEV2_EXCH_IKE_AUTH, inner, len, data[0], &w) != 0)
		return;
	deliver(f, gw, buf, wbuf_len(&w));
	if (f->n_out == 0)
		return;
	memset(&m, 0, sizeof(m));
	if (ikei_decrypt(c, f->out, f->out_len, &m, plain, sizeof(plain)) != 0)
		abort(); /* the gateway sent something its peer cannot read */
}

static int free_sa(struct sa_table_entry *e, void *arg)
{
	(void)arg;
	ike_sa_free(ike_sa_from_entry(e));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz *f = fz_get();
	struct ikei c;

	if (size < 2)
		return 0;
	do_init(f, &f->gw, &c, data[1] & 1);
	do_auth(f, &f->gw, &c, data, size);
	ikei_fini(&c);
	sa_table_foreach(f->gw.sas, free_sa, NULL);
	if (sa_table_count(f->gw.sas) != 0)
		abort();
	return 0;
}
