/* SPDX-License-Identifier: ISC */
/*
 * make bench, part 1: the IKE path's cost, in process.  N clients (the test initiator,
 * tests/unit/support/ike_initiator.c) each run IKE_SA_INIT + IKE_AUTH (PSK, x25519,
 * AES-256-GCM, one Child SA, a virtual IP; the gateway signs its AUTH with the ECDSA P-256
 * certificate of tests/data/pki, as it always does) against a real struct gw with its send hook
 * capturing answers.  Prints the gateway's CPU time per handshake (only its ike_recv()
 * calls are timed, the initiator's work is not) and the heap each established client
 * keeps (mallinfo2 before and after, all N SAs alive).  Figures, never pass/fail.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netinet/in.h>

#include "ikegw/codec.h"
#include "ikegw/config.h"
#include "ikegw/gw.h"
#include "ikegw/ikev2.h"
#include "ikegw/sa_table.h"
#include "../unit/support/ike_initiator.h"

#define PSK "bench pre-shared key, long enough"

static const char cfg_text[] =
	"gateway: { id: vpn.example.test, listen: [192.0.2.1], log_level: error,\n"
	"  certificate: gateway.crt, private_key: gateway.key }\n"
	"proposals: { ike: [aes256gcm16-prfsha256-x25519], esp: [aes256gcm16] }\n"
	"pools: [{ name: p, ipv4: 10.64.0.0/16, dns: [10.0.0.53] }]\n"
	"profiles: [{ name: b, auth: [psk], psk: \"" PSK "\", pool: p, unique: never }]\n";

struct bench {
	struct gw gw;
	uint8_t *last;
	size_t last_len;
	double gw_seconds;
};

static int capture(void *arg, const struct sockaddr_storage *local,
		   const struct sockaddr_storage *peer, bool natt, const uint8_t *msg, size_t len)
{
	struct bench *b = arg;

	(void)local, (void)peer, (void)natt;
	free(b->last);
	b->last = malloc(len);
	if (!b->last)
		return -1;
	memcpy(b->last, msg, len);
	b->last_len = len;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void deliver(struct bench *b, const struct sockaddr_storage *gw_addr,
		    const struct sockaddr_storage *cl, const uint8_t *msg, size_t len)
{
	double t0 = now_s();

	ike_recv(&b->gw, gw_addr, cl, false, msg, len);
	b->gw_seconds += now_s() - t0;
}

static struct sockaddr_storage v4(uint32_t a, uint16_t port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;

	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(a);
	in->sin_port = htons(port);
	return ss;
}

/* One client from IKE_SA_INIT to an established SA; 0 on success. */
static int handshake(struct bench *b, unsigned i, const struct ike_proposal *ike,
		     const struct ike_proposal *esp, struct ike_msg *m, uint8_t *buf, size_t cap)
{
	struct sockaddr_storage gw_addr = v4(0xc0000201, 500), cl = v4(0xc6120000 + i, 500);
	struct ikei_sa_init_opts io = { .props = ike, .n_props = 1,
					.ke_group = IKEV2_KE_CURVE25519, .nat_d = true };
	char id[32];
	struct ikei_auth_opts ao = { .id_type = IKEV2_ID_RFC822_ADDR, .id = (uint8_t *)id,
				     .psk = (const uint8_t *)PSK, .psk_len = strlen(PSK),
				     .cp = true, .esp = esp, .n_esp = 1 };
	struct ikei c;
	struct wbuf w;
	int rc = -1;

	ao.id_len = (size_t)snprintf(id, sizeof(id), "user%u@bench.test", i);
	if (ikei_init(&c, b->gw.suite, &cl, &gw_addr) != 0)
		return -1;
	wbuf_init(&w, buf, cap);
	if (ikei_sa_init_build(&c, &io, &w) == 0) {
		deliver(b, &gw_addr, &cl, buf, wbuf_len(&w));
		if (b->last && ikei_sa_init_process(&c, b->last, b->last_len, m) == 0) {
			wbuf_init(&w, buf, cap);
			if (ikei_auth_build(&c, &ao, &w) == 0) {
				deliver(b, &gw_addr, &cl, buf, wbuf_len(&w));
				rc = ikei_decrypt(&c, b->last, b->last_len, m, buf, cap) == 0 &&
						     !codec_msg_notify(m, IKEV2_N_AUTHENTICATION_FAILED)
					     ? 0 : -1;
			}
		}
	}
	ikei_fini(&c);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 2000, ok = 0;
	struct config_errors errs;
	struct config *cfg = NULL;
	struct ike_proposal ike, esp;
	struct ike_msg *m = malloc(sizeof(*m));
	uint8_t *buf = malloc(IKEI_MSG_MAX);
	struct bench b = { 0 };
	struct mallinfo2 before, after;
	const char *top = getenv("IKEGW_TOP");
	char dir[4096];
	double t0, wall;

	snprintf(dir, sizeof(dir), "%s/tests/data/pki", top ? top : ".");
	config_errors_init(&errs);
	if (!m || !buf || n == 0 || n > 60000 ||
	    config_load_buffer("bench.yaml", dir, cfg_text, sizeof(cfg_text) - 1,
			       CONFIG_NO_HOST_CHECKS, &cfg, &errs) != 0 ||
	    gw_init(&b.gw, cfg, NULL, stderr) != 0 ||
	    ikei_proposal("aes256gcm16-prfsha256-x25519", IKEV2_PROTO_IKE, &ike) != 0 ||
	    ikei_proposal("aes256gcm16", IKEV2_PROTO_ESP, &esp) != 0) {
		config_errors_print(&errs, stderr);
		fprintf(stderr, "bench: cannot set up\n");
		return 1;
	}
	b.gw.send = capture;
	b.gw.send_arg = &b;
	before = mallinfo2();
	t0 = now_s();
	for (unsigned i = 0; i < n; i++)
		ok += handshake(&b, i, &ike, &esp, m, buf, IKEI_MSG_MAX) == 0;
	wall = now_s() - t0;
	free(b.last);
	b.last = NULL;
	after = mallinfo2();
	printf("IKE handshakes in process (PSK, x25519, aes256gcm16-prfsha256, 1 Child SA + VIP):\n");
	printf("  established:                 %u of %u (SAs in table: %zu)\n", ok, n,
	       sa_table_count(b.gw.sas));
	printf("  gateway CPU per handshake:   %.0f us (%.0f handshakes/s on one core)\n",
	       b.gw_seconds / n * 1e6, n / b.gw_seconds);
	printf("  with the client's work too:  %.0f us per handshake\n", wall / n * 1e6);
	printf("  heap per established client: %.0f bytes (budget 4096)\n",
	       ok ? (double)(after.uordblks - before.uordblks) / ok : 0.0);
	gw_fini(&b.gw, false);
	config_free(cfg);
	config_errors_clear(&errs);
	free(m);
	free(buf);
	return ok == n ? 0 : 1;
}
