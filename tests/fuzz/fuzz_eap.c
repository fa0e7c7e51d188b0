/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the EAP and EAP-MSCHAPv2 decoders and the authenticator's
 * state machine.  The input is one EAP packet; it is decoded, its Identity and Nak
 * helpers run, its MS-CHAPv2 body decoded and re-encoded (which must decode to the
 * same fields), and it is fed to a server that has sent its Challenge with the
 * packet's own Identifier, then to one that has sent a Success (the input's second
 * byte picks the Identifier so the ack paths are reached).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ikegw/eap.h"
#include "ikegw/mschapv2.h"

static const uint8_t nt_hash[16] = { 0x88, 0x46, 0xf7, 0xea, 0xee, 0x8f, 0xb1, 0x17,
				     0xad, 0x06, 0xbd, 0xd8, 0x30, 0xb7, 0x58, 0x6c };
static const uint8_t challenge[16] = "fuzz-challenge!";

static int lookup(void *arg, const char *name, uint8_t out[16])
{
	(void)arg;
	if (strcmp(name, "alice") != 0)
		return -1;
	memcpy(out, nt_hash, 16);
	return 0;
}

static void reencode(const struct eap_pkt *e, const struct mschapv2_msg *m)
{
	uint8_t buf[1024];
	struct wbuf w;
	struct eap_pkt e2;
	struct mschapv2_msg m2;
	char name[MSCHAPV2_NAME_MAX + 1];
	int rc = -1;

	if (m->opcode != MSCHAPV2_OP_RESPONSE || m->name_len > MSCHAPV2_NAME_MAX)
		return;
	memcpy(name, m->name, m->name_len);
	name[m->name_len] = '\0';
	if (strlen(name) != m->name_len)
		return;
	wbuf_init(&w, buf, sizeof(buf));
	rc = mschapv2_encode_response(&w, e->id, m->ms_id, m->peer_challenge, m->nt_response,
				      name);
	if (rc != 0 || eap_decode(buf, wbuf_len(&w), &e2) || mschapv2_decode(&e2, &m2))
		abort();
	if (memcmp(m2.nt_response, m->nt_response, 24) || m2.name_len != m->name_len)
		abort();
}

static void drive_server(const struct mschapv2_ctx *c, const struct eap_pkt *e)
{
	uint8_t buf[1024], pkt[128];
	struct mschapv2_server *s = mschapv2_server_new(c, "ikegw", lookup, NULL);
	struct wbuf w;
	struct eap_pkt in;
	uint8_t resp[24];

	if (!s)
		return;
	wbuf_init(&w, buf, sizeof(buf));
	if (mschapv2_server_start(s, e->id, challenge, &w) == 0) {
		wbuf_init(&w, buf, sizeof(buf));
		(void)mschapv2_server_process(s, e, &w);
	}
	mschapv2_server_free(s);

	/* A server one step further: a right Response from alice, then the input. */
	s = mschapv2_server_new(c, "ikegw", lookup, NULL);
	if (!s)
		return;
	wbuf_init(&w, buf, sizeof(buf));
	if (mschapv2_server_start(s, (uint8_t)(e->id - 1), challenge, &w) == 0 &&
	    mschapv2_nt_response(c, challenge, challenge, "alice", 5, nt_hash, resp) == 0) {
		wbuf_init(&w, pkt, sizeof(pkt));
		if (mschapv2_encode_response(&w, (uint8_t)(e->id - 1), (uint8_t)(e->id - 1),
					     challenge, resp, "alice") == 0 &&
		    eap_decode(pkt, wbuf_len(&w), &in) == 0) {
			wbuf_init(&w, buf, sizeof(buf));
			if (mschapv2_server_process(s, &in, &w) == MSCHAPV2_CONTINUE) {
				wbuf_init(&w, buf, sizeof(buf));
				(void)mschapv2_server_process(s, e, &w);
			}
		}
	}
	mschapv2_server_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mschapv2_ctx *c;
	struct eap_pkt e;
	struct mschapv2_msg m;
	char id[64];

	if (!c && !(c = mschapv2_ctx_new()))
		abort();
	if (eap_decode(data, size, &e) != 0)
		return 0;
	(void)eap_identity_get(&e, id, sizeof(id));
	(void)eap_nak_has(&e, EAP_TYPE_MSCHAPV2);
	if (mschapv2_decode(&e, &m) == 0)
		reencode(&e, &m);
	drive_server(c, &e);
	return 0;
}
