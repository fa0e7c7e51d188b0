/* SPDX-License-Identifier: ISC */
/*
 * Our requests (RFC 7296 2.1, 2.3): message IDs from tx_msgid, a window of one, the
 * request kept until answered and sent again on an exponential backoff, responses
 * matched by exchange.c and acted on here.  No answer after IKE_RETX_TRIES sends means
 * the peer is gone (2.4): the IKE SA, its Child SAs, dataplane state and lease go.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ikegw/create_child.h"
#include "ikegw/exchange.h"
#include "ikegw/gw.h"
#include "ikegw/ike_rekey.h"
#include "ikegw/ike_sa.h"
#include "ikegw/ikev2.h"
#include "ikegw/initiator.h"
#include "ikegw/ke.h"

struct ike_req *initiator_req_new(enum ike_req_kind kind)
{
	struct ike_req *r = calloc(1, sizeof(*r));

	if (r)
		r->kind = kind;
	return r;
}

static void req_free(struct ike_req *r)
{
	if (!r)
		return;
	ke_key_free(r->ke);
	ike_sa_free(r->new_sa);
	free(r->msg);
	OPENSSL_cleanse(r, sizeof(*r));
	free(r);
}

void initiator_req_free_unsent(struct ike_req *r)
{
	req_free(r);
}

bool initiator_busy(const struct ike_sa *sa)
{
	return sa->req != NULL;
}

void initiator_req_free(struct ike_sa *sa)
{
	struct ike_req *r = sa->req;

	loop_timer_cancel(sa->gw->loop, &sa->retx_timer);
	sa->req = NULL;
	req_free(r);
}

/* RFC 7296 2.1: the interval doubles with each retransmission. */
static uint64_t backoff_ms(unsigned int sent)
{
	return (uint64_t)IKE_RETX_BASE_MS << (sent ? sent - 1 : 0);
}

void initiator_retransmit(struct loop *loop, void *arg)
{
	struct ike_sa *sa = arg;
	struct ike_req *r = sa->req;

	(void)loop;
	if (!r)
		return;
	if (r->sent >= IKE_RETX_TRIES) {
		log_info(&sa->gw->log, sa->tag,
			 "no answer to our request %u after %u tries: peer is dead, IKE SA removed",
			 r->msg_id, r->sent);
		ike_sa_free(sa);
		return;
	}
	r->sent++;
	log_debug(&sa->gw->log, sa->tag, "retransmitting request %u (try %u)", r->msg_id, r->sent);
	exchange_send(sa, r->msg, r->len);
	loop_timer_arm_in(sa->gw->loop, &sa->retx_timer, backoff_ms(r->sent));
}

int initiator_send(struct ike_sa *sa, struct ike_req *req, uint8_t exchange,
		   const uint8_t *inner, size_t inner_len, uint8_t first)
{
	uint8_t *out;
	struct wbuf w;
	int rc;

	if (sa->req) {
		req_free(req);
		return -EBUSY;
	}
	out = malloc(IKE_MSG_MAX);
	if (!out) {
		req_free(req);
		return -ENOMEM;
	}
	wbuf_init(&w, out, IKE_MSG_MAX);
	rc = exchange_build(sa, exchange, sa->tx_msgid, ike_sa_flags(sa), inner, inner_len, first,
			    &w);
	if (rc != 0) {
		free(out);
		req_free(req);
		return rc;
	}
	req->exchange = exchange;
	req->msg_id = sa->tx_msgid++;
	req->msg = realloc(out, wbuf_len(&w)) ?: out;
	req->len = wbuf_len(&w);
	req->sent = 1;
	sa->req = req;
	loop_timer_arm_in(sa->gw->loop, &sa->retx_timer, backoff_ms(1));
	/* From here the request is ours to retransmit (RFC 7296 2.1): a first send the host
	 * refused (ENOBUFS, a firewall's EPERM) is one more lost packet, not a failure. */
	if (exchange_send(sa, req->msg, req->len) != 0)
		log_debug(&sa->gw->log, sa->tag, "request %u not sent: retransmitting later",
			  req->msg_id);
	return 0;
}

void initiator_response(struct ike_sa *sa, const struct ike_msg *m)
{
	struct ike_req *r = sa->req;

	loop_timer_cancel(sa->gw->loop, &sa->retx_timer);
	sa->req = NULL;
	switch (r->kind) {
	case IKE_REQ_DPD:
		log_debug(&sa->gw->log, sa->tag, "peer is alive");
		break;
	case IKE_REQ_DELETE_IKE:
		ike_sa_delete(sa, "Delete acknowledged");
		break;
	case IKE_REQ_DELETE_CHILD: {
		struct child_sa *c = ike_sa_child_by_in(sa, r->spi);

		if (c) {
			log_info(&sa->gw->log, sa->tag, "Child SA %08x deleted", r->spi);
			ike_sa_child_drop(sa, c);
		}
		break;
	}
	case IKE_REQ_REKEY_CHILD:
		create_child_child_done(sa, r, m);
		break;
	case IKE_REQ_REKEY_IKE:
		ike_rekey_done(sa, r, m);
		break;
	}
	ike_sa_lines_tidy(sa);
	req_free(r);
}

static int send_info(struct ike_sa *sa, struct ike_req *r, const uint8_t *inner, size_t len,
		     uint8_t first)
{
	if (!r)
		return -ENOMEM;
	return initiator_send(sa, r, IKEV2_EXCH_INFORMATIONAL, inner, len, first);
}

int initiator_dpd(struct ike_sa *sa)
{
	if (sa->req)
		return -EBUSY;
	log_debug(&sa->gw->log, sa->tag, "liveness check");
	return send_info(sa, initiator_req_new(IKE_REQ_DPD), NULL, 0, 0);
}

int initiator_delete_ike(struct ike_sa *sa, const char *why)
{
	uint8_t inner[16], first = 0;
	struct codec_enc e;
	struct wbuf w;

	if (sa->req) /* the window is ours: what is outstanding no longer matters */
		initiator_req_free(sa);
	log_info(&sa->gw->log, sa->tag, "deleting the IKE SA: %s", why);
	wbuf_init(&w, inner, sizeof(inner));
	codec_enc_begin_chain(&e, &w);
	codec_enc_delete(&e, IKEV2_PROTO_IKE, 0, 0, NULL);
	if (codec_enc_end_chain(&e, &first) != 0)
		return -EMSGSIZE;
	return send_info(sa, initiator_req_new(IKE_REQ_DELETE_IKE), inner, wbuf_len(&w), first);
}

int initiator_delete_child(struct ike_sa *sa, const struct child_sa *c)
{
	uint8_t inner[32], spi[4], first = 0;
	struct ike_req *r;
	struct codec_enc e;
	struct wbuf w;

	if (sa->req)
		return -EBUSY;
	spi[0] = (uint8_t)(c->spi_in >> 24);
	spi[1] = (uint8_t)(c->spi_in >> 16);
	spi[2] = (uint8_t)(c->spi_in >> 8);
	spi[3] = (uint8_t)c->spi_in;
	wbuf_init(&w, inner, sizeof(inner));
	codec_enc_begin_chain(&e, &w);
	codec_enc_delete(&e, IKEV2_PROTO_ESP, 4, 1, spi);
	if (codec_enc_end_chain(&e, &first) != 0)
		return -EMSGSIZE;
	r = initiator_req_new(IKE_REQ_DELETE_CHILD);
	if (r)
		r->spi = c->spi_in;
	return send_info(sa, r, inner, wbuf_len(&w), first);
}
