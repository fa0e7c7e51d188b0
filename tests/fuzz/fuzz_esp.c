/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for ESP decapsulation, the replay window and the userspace
 * dataplane's inbound path.
 *
 * Input: one control octet, then data.
 *   control bits 0-1: transform (AES-GCM-16-256, ChaCha20-Poly1305, AES-CBC-256 with
 *                     HMAC-SHA2-256-128, AES-CBC-128 with HMAC-SHA2-512-256)
 *   control bits 2-3: mode
 *     0  data is an ESP packet: decapsulate with fixed keys (lengths, parsing, ICV);
 *     1  round trip: data (version nibble forced to 4 or 6) is encapsulated, must open
 *        again to the same bytes, and must fail once any one octet is flipped;
 *     2  data is a list of 32-bit sequence numbers for the replay window, checked
 *        against a plain model (the set of accepted numbers and the highest one);
 *     3  data is encapsulated as the inner packet and handed to the dataplane's inbound
 *        path, so the inner-header parser and the policy check see arbitrary bytes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ikegw/dataplane.h"
#include "ikegw/dp_userspace.h"
#include "ikegw/esp.h"
#include "ikegw/ikev2.h"
#include "ikegw/loop.h"

#define FUZZ_MAX 70000

struct fuzz_env {
	struct crypto_suite *suite;
	struct cipher_ctx *cx;
	struct esp_ctx ex;
	struct loop *loop;
	struct dataplane *dp;
	int tun;
	struct esp_sa client_tx;
	uint8_t pkt[FUZZ_MAX + 128], plain[FUZZ_MAX + 128];
};

static void fuzz_dir(unsigned kind, uint32_t spi, uint8_t k, struct dp_sa *d)
{
	static const uint16_t encr[4][3] = {
		{ IKEV2_ENCR_AES_GCM_16, 256, IKEV2_INTEG_NONE },
		{ IKEV2_ENCR_CHACHA20_POLY1305, 0, IKEV2_INTEG_NONE },
		{ IKEV2_ENCR_AES_CBC, 256, IKEV2_INTEG_HMAC_SHA2_256_128 },
		{ IKEV2_ENCR_AES_CBC, 128, IKEV2_INTEG_HMAC_SHA2_512_256 },
	};
	const struct suite_encr *e = suite_encr_find(encr[kind][0], encr[kind][1]);
	const struct suite_integ *i = suite_integ_find(encr[kind][2]);

	memset(d, 0, sizeof(*d));
	d->spi = spi;
	d->encr_id = encr[kind][0];
	d->encr_keylen = encr[kind][1];
	d->integ_id = encr[kind][2];
	d->enc_key_len = (uint8_t)(e->key_len + e->salt_len);
	d->integ_key_len = i ? i->key_len : 0;
	memset(d->enc_key, k, sizeof(d->enc_key));
	memset(d->integ_key, k ^ 0x5a, sizeof(d->integ_key));
}

/* The dataplane over a socketpair, with one client 10.0.0.1 that may reach anything. */
static void fuzz_dp_init(struct fuzz_env *e)
{
	struct dp_child c = { .reqid = 1, .replay_window = 128 };
	int sv[2];

	e->loop = loop_new(NULL);
	if (!e->loop || socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv) != 0)
		abort();
	e->tun = sv[0];
	e->dp = dp_userspace_new_fd(e->loop, NULL, sv[1], NULL);
	if (!e->dp)
		abort();
	c.local.ss_family = c.peer.ss_family = AF_INET;
	fuzz_dir(0, 0x1000, 0x31, &c.in);
	fuzz_dir(0, 0x2000, 0x32, &c.out);
	c.vip = (struct dp_prefix){ .family = AF_INET, .plen = 32, .addr = { 10, 0, 0, 1 } };
	c.n_subnets = 2;
	c.subnets[0] = (struct dp_prefix){ .family = AF_INET, .plen = 0 };
	c.subnets[1] = (struct dp_prefix){ .family = AF_INET6, .plen = 0 };
	if (e->dp->ops->child_add(e->dp, &c) != 0 || esp_sa_init(&e->client_tx, &c.in, 128) != 0)
		abort();
}

static struct fuzz_env *fuzz_env(void)
{
	static struct fuzz_env *e; /* created once for the process */

	if (e)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		abort();
	e->suite = crypto_suite_new();
	e->cx = e->suite ? cipher_ctx_new(e->suite) : NULL;
	if (!e->cx)
		abort();
	esp_ctx_init(&e->ex, e->cx);
	fuzz_dp_init(e);
	return e;
}

static void fuzz_pair(unsigned kind, struct esp_sa *tx, struct esp_sa *rx)
{
	struct dp_sa d;

	fuzz_dir(kind, 0x4242, 0x17, &d);
	if (esp_sa_init(tx, &d, 128) != 0 || esp_sa_init(rx, &d, 128) != 0)
		abort();
}

static void fuzz_decap(struct fuzz_env *e, unsigned kind, const uint8_t *data, size_t size)
{
	struct esp_sa tx, rx;
	size_t il = 0;
	uint8_t nh = 0;

	fuzz_pair(kind, &tx, &rx);
	if (esp_decap(&e->ex, &rx, data, size, e->plain, sizeof(e->plain), &il, &nh) == 0 &&
	    (il > size || (nh != ESP_NH_IPV4 && nh != ESP_NH_IPV6)))
		abort();
}

static void fuzz_round_trip(struct fuzz_env *e, unsigned kind, uint8_t *inner, size_t size)
{
	struct esp_sa tx, rx;
	size_t n = 0, il = 0;
	uint8_t nh = 0;

	if (size == 0)
		return;
	fuzz_pair(kind, &tx, &rx);
	inner[0] = (uint8_t)((inner[0] & 0x0f) | (inner[0] & 0x80 ? 0x60 : 0x40));
	if (esp_encap(&e->ex, &tx, inner, size, e->pkt, sizeof(e->pkt), &n) != 0)
		abort();
	if (n != esp_encap_size(&tx, size))
		abort();
	if (esp_decap(&e->ex, &rx, e->pkt, n, e->plain, sizeof(e->plain), &il, &nh) != 0 ||
	    il != size || memcmp(e->plain, inner, size) != 0)
		abort();
	/* a fresh receiver, so the replay window does not hide a forgery */
	fuzz_pair(kind, &tx, &rx);
	e->pkt[size % n] ^= 0x01;
	if (esp_decap(&e->ex, &rx, e->pkt, n, e->plain, sizeof(e->plain), &il, &nh) == 0)
		abort();
}

/* The window against a model: the set of accepted numbers (kept small) and the top. */
static void fuzz_replay(const uint8_t *data, size_t size)
{
	static uint32_t seen[4096];
	size_t n_seen = 0;
	struct esp_replay r;
	uint64_t top = 0;

	esp_replay_init(&r, 128 + (size % 8) * 100);
	for (size_t i = 0; i + 4 <= size && n_seen < 4096; i += 4) {
		uint32_t s = (uint32_t)data[i] << 24 | (uint32_t)data[i + 1] << 16 |
			     (uint32_t)data[i + 2] << 8 | data[i + 3];
		bool dup = false, ok;

		for (size_t j = 0; j < n_seen && !dup; j++)
			dup = seen[j] == s;
		ok = s != 0 && !dup && (s > top || top - s < r.window);
		if ((esp_replay_check(&r, s) == 0) != ok)
			abort();
		if (ok) {
			esp_replay_update(&r, s);
			seen[n_seen++] = s;
			top = s > top ? s : top;
		}
	}
}

static void fuzz_inbound(struct fuzz_env *e, uint8_t *inner, size_t size)
{
	uint8_t drain[2048];
	size_t n = 0;

	if (size == 0)
		return;
	if (e->client_tx.seq > UINT32_MAX - 2) /* never in practice; keep encap working */
		abort();
	inner[0] = (uint8_t)((inner[0] & 0x0f) | (inner[0] & 0x80 ? 0x60 : 0x40));
	if (esp_encap(&e->ex, &e->client_tx, inner, size, e->pkt, sizeof(e->pkt), &n) != 0)
		abort();
	dp_userspace_esp_input(e->dp, e->pkt, n);
	while (read(e->tun, drain, sizeof(drain)) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_env *e = fuzz_env();
	unsigned kind, mode;
	uint8_t *copy;

	if (size < 1 || size > FUZZ_MAX)
		return 0;
	kind = data[0] & 3u;
	mode = (data[0] >> 2) & 3u;
	if (mode == 0) {
		fuzz_decap(e, kind, data + 1, size - 1);
		return 0;
	}
	if (mode == 2) {
		fuzz_replay(data + 1, size - 1);
		return 0;
	}
	copy = malloc(size);
	if (!copy)
		abort();
	memcpy(copy, data + 1, size - 1);
	if (mode == 1)
		fuzz_round_trip(e, kind, copy, size - 1);
	else
		fuzz_inbound(e, copy, size - 1);
	free(copy);
	return 0;
}
