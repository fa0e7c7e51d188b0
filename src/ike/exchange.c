/* SPDX-License-Identifier: ISC */
/*
 * Every IKE datagram enters here (ike_recv).  The table of what runs where:
 *
 *   exchange          SA state      handler
 *   IKE_SA_INIT       (no SA)       ike_sa_init_recv      (retransmits: cached response)
 *   IKE_AUTH          HALF_OPEN     ike_auth_recv         (its jobs may finish later)
 *   INFORMATIONAL     ESTABLISHED   informational_recv    (also on a superseded SA)
 *   CREATE_CHILD_SA   ESTABLISHED   create_child_recv     (superseded SA: TEMPORARY_FAILURE)
 *   any response      ESTABLISHED   initiator_response    (only to our outstanding request)
 *   anything else                   dropped; before IKE_AUTH completed nothing but IKE_AUTH
 *                                   is processed (strongSwan's CVE-2014-2338)
 *
 * While a crypto job of an SA is in flight (sa->jobs_pending, jobs.h), its requests are
 * dropped: the client retransmits (RFC 7296 2.1) and the job's done() answers.  A job may
 * also finish inside the handler and free its SA, so nothing here touches the SA after
 * a handler without finding it again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ikegw/config.h"
#include "ikegw/create_child.h"
#include "ikegw/exchange.h"
#include "ikegw/gw.h"
#include "ikegw/ike_sa.h"
#include "ikegw/ikev2.h"
#include "ikegw/initiator.h"
#include "ikegw/rules.h"
#include "ikegw/sk.h"
#include "ikegw/udp.h"

int exchange_send_path(struct gw *gw, const struct ike_path *path, const uint8_t *msg,
		       size_t len)
{
	return gw->send(gw->send_arg, &path->local, &path->peer, path->natt, msg, len);
}

int exchange_send(struct ike_sa *sa, const uint8_t *msg, size_t len)
{
	struct ike_path p = { .local = sa->local, .peer = sa->peer, .natt = sa->natt };

	return exchange_send_path(sa->gw, &p, msg, len);
}

/* RFC 7296 3.14: the header, an SK payload whose Next Payload is the first inner type. */
int exchange_build(struct ike_sa *sa, uint8_t exchange, uint32_t msg_id, uint8_t flags,
		   const uint8_t *inner, size_t inner_len, uint8_t first, struct wbuf *w)
{
	struct ike_hdr h = {
		.spi_i = ike_sa_spi_i(sa), .spi_r = ike_sa_spi_r(sa),
		.exchange = exchange, .flags = flags, .msg_id = msg_id,
	};
	struct codec_enc e;
	size_t sk_off;

	codec_enc_begin(&e, w, &h);
	codec_enc_open(&e, IKEV2_PL_SK, false);
	sk_off = e.pl_off;
	wbuf_put_u8_at(w, sk_off, first);
	if (!wbuf_ok(w))
		return -EMSGSIZE;
	return sk_protect(sa->gw->suite, ike_sa_tx_keys(sa), sa->tx_iv++, inner, inner_len, w,
			  sk_off);
}

/*
 * Largest IKE message we send before fragmenting (RFC 7383 2.5.1): gateway.fragment_size
 * is the IP datagram size; unset, IPv4 stays within 576 octets and IPv6 within 1280.
 */
static size_t frag_limit(const struct ike_sa *sa)
{
	const struct config_gateway *g = &sa->gw->cfg->gateway;
	bool v6 = sa->peer.ss_family == AF_INET6;
	size_t ip = g->mark.fragment_size.line ? g->fragment_size : (v6 ? 1280 : 576);
	size_t hdrs = (v6 ? 40 : 20) + 8 + (sa->natt ? FRAG_NON_ESP_MARKER_LEN : 0);

	return ip > hdrs + 100 ? ip - hdrs : 100;
}

/*
 * The answer is given once it is cached and the window has moved: a send the host refused
 * (ENOBUFS, a firewall's EPERM) is one more lost packet, which the client's retransmission
 * recovers (RFC 7296 2.1).  Callers must not undo what the answer says.
 */
static int answer_given(struct ike_sa *sa, int send_rc)
{
	if (send_rc != 0)
		log_debug(&sa->gw->log, sa->tag, "response %u not sent (%d): the client retransmits",
			  sa->rx_msgid - 1, send_rc);
	return 0;
}

static int respond_fragments(struct ike_sa *sa, uint8_t exchange, const uint8_t *inner,
			     size_t inner_len, uint8_t first)
{
	struct ike_hdr h = { .spi_i = ike_sa_spi_i(sa), .spi_r = ike_sa_spi_r(sa),
			     .exchange = exchange,
			     .flags = IKEV2_FLAG_RESPONSE | ike_sa_flags(sa),
			     .msg_id = sa->rx_msgid };
	struct frag_out *out = calloc(1, sizeof(*out));
	int rc;

	if (!out)
		return -ENOMEM;
	rc = frag_split_chain(sa->gw->suite, ike_sa_tx_keys(sa), &sa->tx_iv, &h, first, inner,
			      inner_len, frag_limit(sa), out);
	if (rc != 0) {
		frag_out_clear(out);
		free(out);
		return rc;
	}
	free(sa->resp);
	sa->resp = NULL;
	sa->resp_len = 0;
	ike_sa_drop_resp_frags(sa);
	sa->resp_frags = out;
	sa->rx_msgid++;
	return answer_given(sa, exchange_resend(sa));
}

int exchange_respond(struct ike_sa *sa, uint8_t exchange, const uint8_t *inner,
		     size_t inner_len, uint8_t first)
{
	uint8_t *out;
	struct wbuf w;
	int rc;

	if (sa->frag_supported && frag_needed(ike_sa_tx_keys(sa), inner_len, frag_limit(sa)))
		return respond_fragments(sa, exchange, inner, inner_len, first);
	out = malloc(IKE_MSG_MAX);
	if (!out)
		return -ENOMEM;
	wbuf_init(&w, out, IKE_MSG_MAX);
	rc = exchange_build(sa, exchange, sa->rx_msgid, IKEV2_FLAG_RESPONSE | ike_sa_flags(sa),
			    inner, inner_len, first, &w);
	if (rc != 0) {
		free(out);
		return rc;
	}
	/* RFC 7296 2.1: keep the response until the next request; retransmits get it again. */
	free(sa->resp);
	ike_sa_drop_resp_frags(sa);
	sa->resp = realloc(out, wbuf_len(&w)) ?: out;
	sa->resp_len = wbuf_len(&w);
	sa->rx_msgid++;
	return answer_given(sa, exchange_send(sa, sa->resp, sa->resp_len));
}

/* The cached response again, whole or every fragment of it. */
int exchange_resend(struct ike_sa *sa)
{
	int rc = 0;

	if (sa->resp)
		return exchange_send(sa, sa->resp, sa->resp_len);
	for (size_t i = 0; sa->resp_frags && i < sa->resp_frags->n && rc == 0; i++)
		rc = exchange_send(sa, sa->resp_frags->msg[i], sa->resp_frags->len[i]);
	return rc;
}

int exchange_respond_notify(struct ike_sa *sa, uint8_t exchange, uint16_t type,
			    const uint8_t *data, size_t len)
{
	uint8_t buf[512];
	struct wbuf w;
	struct codec_enc e;
	uint8_t first;

	wbuf_init(&w, buf, sizeof(buf));
	codec_enc_begin_chain(&e, &w);
	codec_enc_notify(&e, 0, NULL, 0, type, data, len);
	if (codec_enc_end_chain(&e, &first) != 0)
		return -EMSGSIZE;
	return exchange_respond(sa, exchange, buf, wbuf_len(&w), first);
}

void ike_sa_delete(struct ike_sa *sa, const char *why)
{
	if (sa->state != IKE_SA_DELETED)
		log_info(&sa->gw->log, sa->tag, "IKE SA deleted: %s", why);
	sa->state = IKE_SA_DELETED;
}

/*
 * RFC 7383 2.6: a fragment is checked (cheaply) and authenticated before it is stored.
 * Returns true with the whole inner chain in *whole (owned) once the last one arrives.
 */
static bool reassemble(struct ike_sa *sa, const uint8_t *pkt, size_t len, struct ike_msg *m,
		       uint8_t *plain, size_t plain_cap, uint8_t **whole, size_t *whole_len,
		       uint8_t *first)
{
	const struct ike_pl_enc *f = &m->enc;
	uint64_t now = loop_now(sa->gw->loop);
	size_t plain_len = 0;
	int rc;

	rc = frag_reasm_check(&sa->frag, &sa->gw->frag_lim, now, m->hdr.msg_id, f->frag_num,
			      f->frag_total, f->inner_next);
	if (rc == 0)
		rc = skf_unprotect(sa->gw->suite, ike_sa_rx_keys(sa), pkt, len, f->hdr_off, plain,
				   plain_cap, &plain_len);
	if (rc == 0)
		rc = frag_reasm_add(&sa->frag, &sa->gw->frag_lim, now, m->hdr.msg_id, f->frag_num,
				    f->frag_total, f->inner_next, plain, plain_len, whole,
				    whole_len, first);
	if (rc < 0)
		log_debug(&sa->gw->log, sa->tag, "fragment %u/%u dropped (%d)", f->frag_num,
			  f->frag_total, rc);
	return rc == FRAG_DONE;
}

/*
 * Decrypt (and reassemble) the inner chain and decode it into m; false means "drop
 * silently" (RFC 7296 2.21.2) or "waiting for more fragments".  *whole, when set, owns
 * the plaintext m points into.
 */
static bool unwrap(struct ike_sa *sa, const uint8_t *pkt, size_t len, struct ike_msg *m,
		   uint8_t *plain, size_t plain_cap, uint8_t **whole)
{
	struct codec_err err;
	const uint8_t *inner = plain;
	size_t inner_len = 0;
	uint8_t first = m->enc.inner_next;
	int rc;

	if (m->enc.type == IKEV2_PL_SKF) {
		if (!reassemble(sa, pkt, len, m, plain, plain_cap, whole, &inner_len, &first))
			return false;
		inner = *whole;
	} else if (m->enc.type == IKEV2_PL_SK) {
		rc = sk_unprotect(sa->gw->suite, ike_sa_rx_keys(sa), pkt, len, m->enc.hdr_off, plain,
				  plain_cap, &inner_len);
		if (rc != 0) {
			log_debug(&sa->gw->log, sa->tag, "dropped message that failed integrity (%d)",
				  rc);
			return false;
		}
	} else {
		log_debug(&sa->gw->log, sa->tag, "dropped message without SK payload");
		return false;
	}
	if (codec_decode_chain(first, inner, inner_len, m, &err) != 0 ||
	    rules_check(m, &err) != 0) {
		/* Authenticated but malformed: RFC 7296 2.21.2 answers INVALID_SYNTAX, and
		 * 2.5 names an unknown critical payload in UNSUPPORTED_CRITICAL_PAYLOAD. */
		uint8_t d = err.data;

		log_info(&sa->gw->log, sa->tag, "malformed %s: %s",
			 (m->hdr.flags & IKEV2_FLAG_RESPONSE) ? "response" : "request", err.reason);
		if (m->hdr.flags & IKEV2_FLAG_RESPONSE) /* 2.21.2: never answer a response */
			return false;
		exchange_respond_notify(sa, m->hdr.exchange,
					err.notify ? err.notify : IKEV2_N_INVALID_SYNTAX, &d,
					err.notify == IKEV2_N_UNSUPPORTED_CRITICAL_PAYLOAD);
		return false;
	}
	return true;
}

static void dispatch(struct ike_sa *sa, const struct ike_msg *m)
{
	uint8_t x = m->hdr.exchange;

	if (sa->state == IKE_SA_HALF_OPEN) {
		if (x == IKEV2_EXCH_IKE_AUTH)
			ike_auth_recv(sa, m); /* sa may be gone after it (a job's done()) */
		else
			log_info(&sa->gw->log, sa->tag, "exchange %u before IKE_AUTH ignored", x);
		return;
	}
	switch (x) {
	case IKEV2_EXCH_INFORMATIONAL:
		informational_recv(sa, m);
		break;
	case IKEV2_EXCH_CREATE_CHILD_SA:
		/* RFC 7296 2.25.2: an IKE SA being closed (rekeyed away) takes no new SAs. */
		if (sa->superseded)
			exchange_respond_notify(sa, x, IKEV2_N_TEMPORARY_FAILURE, NULL, 0);
		else
			create_child_recv(sa, m);
		break;
	default:
		log_debug(&sa->gw->log, sa->tag, "exchange %u not handled after IKE_AUTH", x);
		break;
	}
}

/* RFC 7296 2.23: an authenticated message tells us the peer's current path. */
static void take_path(struct ike_sa *sa, const struct ike_path *path)
{
	sa->local = path->local;
	sa->peer = path->peer;
	sa->natt = path->natt;
	sa->last_rx_ms = loop_now(sa->gw->loop);
}

/* RFC 7296 2.3: only the answer to our outstanding request, matched by message ID. */
static void recv_response(struct ike_sa *sa, const struct ike_path *path,
			  const struct ike_hdr *h, const uint8_t *pkt, size_t len)
{
	struct ike_msg *m;
	struct codec_err err;
	uint8_t *plain, *whole = NULL;

	if (!sa->req || h->msg_id != sa->req->msg_id || h->exchange != sa->req->exchange) {
		log_debug(&sa->gw->log, sa->tag, "dropped unexpected response %u", h->msg_id);
		return;
	}
	m = malloc(sizeof(*m));
	plain = malloc(len);
	if (m && plain && codec_decode_msg(pkt, len, m, &err) == 0 &&
	    unwrap(sa, pkt, len, m, plain, len, &whole)) {
		take_path(sa, path);
		initiator_response(sa, m);
	}
	free(whole);
	free(plain);
	free(m);
}

static void recv_request(struct ike_sa *sa, const struct ike_path *path,
			 const struct ike_hdr *h, const uint8_t *pkt, size_t len)
{
	struct ike_msg *m;
	struct codec_err err;
	uint8_t *plain, *whole = NULL;

	if (sa->jobs_pending && h->msg_id == sa->rx_msgid) {
		/* RFC 7296 2.1: the request being worked on (or a new one) waits for its job */
		log_debug(&sa->gw->log, sa->tag, "request %u dropped: crypto job pending",
			  h->msg_id);
		return;
	}
	if (h->msg_id != sa->rx_msgid && h->msg_id + 1 != sa->rx_msgid) {
		log_debug(&sa->gw->log, sa->tag, "dropped request with message ID %u (want %u)",
			  h->msg_id, sa->rx_msgid);
		return;
	}
	m = malloc(sizeof(*m));
	plain = malloc(len);
	if (!m || !plain || codec_decode_msg(pkt, len, m, &err) != 0) {
		if (m && plain)
			log_debug(&sa->gw->log, sa->tag, "dropped malformed message: %s", err.reason);
	} else if (h->msg_id + 1 == sa->rx_msgid) {
		/* RFC 7296 2.1 retransmit; RFC 7383 2.6.1: of a fragmented one, only the
		 * first fragment triggers our answer again. */
		if (m->enc.type != IKEV2_PL_SKF || m->enc.frag_num == 1) {
			sa->gw->ctr.retransmits_answered++;
			exchange_resend(sa);
		}
	} else if (unwrap(sa, pkt, len, m, plain, len, &whole)) {
		take_path(sa, path);
		dispatch(sa, m);
	}
	free(whole);
	free(plain);
	free(m);
}

/*
 * RFC 7296 3.1: the I flag says which SPI the sender chose, so which one is ours; it must
 * be the other side's role (the original initiator sends with I set).
 */
static struct ike_sa *find_sa(struct gw *gw, const struct ike_hdr *h)
{
	bool from_orig_init = h->flags & IKEV2_FLAG_INITIATOR;
	uint64_t ours = from_orig_init ? h->spi_r : h->spi_i;
	uint64_t theirs = from_orig_init ? h->spi_i : h->spi_r;
	struct ike_sa *sa = ike_sa_from_entry(sa_table_find(gw->sas, ours));

	if (!sa || sa->ent.spi_remote != theirs || sa->state == IKE_SA_DELETED || !sa->keys ||
	    sa->orig_init == from_orig_init)
		return NULL;
	return sa;
}

void ike_recv(struct gw *gw, const struct sockaddr_storage *local,
	      const struct sockaddr_storage *peer, bool natt, const uint8_t *pkt, size_t len)
{
	struct ike_path path = { .local = *local, .peer = *peer, .natt = natt };
	struct codec_err err;
	struct ike_hdr h;
	struct ike_sa *sa;
	uint64_t spi;
	uint32_t id;

	if (codec_decode_hdr(pkt, len, &h, &err) != 0) {
		gw->ctr.bad_messages++;
		log_debug(&gw->log, NULL, "dropped datagram: %s", err.reason);
		return;
	}
	if (h.exchange == IKEV2_EXCH_IKE_SA_INIT) {
		/* New SAs are the clients' only: a request from an original initiator. */
		if (h.spi_r == 0 && !(h.flags & IKEV2_FLAG_RESPONSE) &&
		    (h.flags & IKEV2_FLAG_INITIATOR))
			ike_sa_init_recv(gw, &path, pkt, len);
		return;
	}
	sa = find_sa(gw, &h);
	if (!sa) {
		log_debug(&gw->log, NULL, "dropped message for unknown IKE SA");
		return;
	}
	spi = sa->ent.spi_local;
	id = sa->id;
	if (h.flags & IKEV2_FLAG_RESPONSE)
		recv_response(sa, &path, &h, pkt, len);
	else
		recv_request(sa, &path, &h, pkt, len);
	/* A job that finished inside the handler may have freed the SA already. */
	sa = ike_sa_from_entry(sa_table_find(gw->sas, spi));
	if (sa && sa->id == id && sa->state == IKE_SA_DELETED)
		ike_sa_free(sa);
}

/* Fire-and-forget Delete of the whole IKE SA (shutdown, terminate); RFC 7296 1.4.1. */
int exchange_send_delete(struct ike_sa *sa)
{
	uint8_t inner[16], out[256];
	struct codec_enc e;
	struct wbuf wi, w;
	uint8_t first;
	int rc;

	if (!sa->keys || sa->state != IKE_SA_ESTABLISHED)
		return -ENOTCONN;
	wbuf_init(&wi, inner, sizeof(inner));
	codec_enc_begin_chain(&e, &wi);
	codec_enc_delete(&e, IKEV2_PROTO_IKE, 0, 0, NULL);
	if (codec_enc_end_chain(&e, &first) != 0)
		return -EMSGSIZE;
	wbuf_init(&w, out, sizeof(out));
	rc = exchange_build(sa, IKEV2_EXCH_INFORMATIONAL, sa->tx_msgid++, ike_sa_flags(sa), inner,
			    wbuf_len(&wi), first, &w);
	return rc ? rc : exchange_send(sa, out, wbuf_len(&w));
}
