/* SPDX-License-Identifier: ISC */
/*
 * EAP packet codec, RFC 3748 4 (packet format) and 5 (Identity, Nak).
 */
#include <errno.h>
#include <string.h>

#include "ikegw/eap.h"

static bool code_has_type(uint8_t code)
{
	return code == EAP_CODE_REQUEST || code == EAP_CODE_RESPONSE;
}

static bool code_known(uint8_t code)
{
	return code_has_type(code) || code == EAP_CODE_SUCCESS || code == EAP_CODE_FAILURE;
}

int eap_decode(const uint8_t *p, size_t n, struct eap_pkt *out)
{
	struct rbuf r;

	memset(out, 0, sizeof(*out));
	rbuf_init(&r, p, p ? n : 0);
	if (rbuf_u8(&r, &out->code) || rbuf_u8(&r, &out->id) || rbuf_u16(&r, &out->length))
		return -EBADMSG;
	/* RFC 3748 4: Length counts the whole packet; the container must agree exactly. */
	if (!code_known(out->code) || out->length != n)
		return -EBADMSG;
	if (!code_has_type(out->code))
		return rbuf_empty(&r) ? 0 : -EBADMSG; /* RFC 3748 4.2: no data */
	if (rbuf_u8(&r, &out->type)) /* RFC 3748 4.1: a Request/Response has a Type */
		return -EBADMSG;
	rbuf_rest(&r, &out->data, &out->data_len);
	return 0;
}

int eap_identity_get(const struct eap_pkt *p, char *out, size_t cap)
{
	struct rbuf r;

	if (!p || !out || cap == 0 || p->code != EAP_CODE_RESPONSE ||
	    p->type != EAP_TYPE_IDENTITY)
		return -EINVAL;
	if (p->data_len >= cap)
		return -ENOSPC;
	rbuf_init(&r, p->data, p->data_len);
	if (rbuf_copy(&r, out, p->data_len))
		return -EBADMSG;
	out[p->data_len] = '\0';
	/* RFC 3748 5.1: the Identity is not NUL-terminated; a NUL would truncate it. */
	return strlen(out) == p->data_len ? 0 : -EBADMSG;
}

bool eap_nak_has(const struct eap_pkt *p, uint8_t type)
{
	struct rbuf r;
	uint8_t t;

	if (!p || p->code != EAP_CODE_RESPONSE || p->type != EAP_TYPE_NAK)
		return false;
	rbuf_init(&r, p->data, p->data_len);
	while (rbuf_u8(&r, &t) == 0)
		if (t == type)
			return true;
	return false;
}

size_t eap_encode_begin(struct wbuf *w, uint8_t code, uint8_t id, uint8_t type)
{
	size_t start = wbuf_len(w);

	if (!code_known(code))
		return (size_t)-1; /* eap_encode_end() reports -EINVAL */
	wbuf_u8(w, code);
	wbuf_u8(w, id);
	wbuf_u16(w, 0); /* Length, filled by eap_encode_end() */
	if (code_has_type(code))
		wbuf_u8(w, type);
	return wbuf_ok(w) ? start : (size_t)-1;
}

int eap_encode_end(struct wbuf *w, size_t start)
{
	size_t len;

	if (!wbuf_ok(w))
		return -ENOSPC;
	if (start == (size_t)-1 || start > wbuf_len(w))
		return -EINVAL;
	len = wbuf_len(w) - start;
	if (len < EAP_HDR_LEN || len > EAP_MAX_LEN)
		return -EINVAL;
	wbuf_put_u16_at(w, start + 2, (uint16_t)len);
	return wbuf_ok(w) ? 0 : -ENOSPC;
}

int eap_encode(struct wbuf *w, uint8_t code, uint8_t id, uint8_t type,
	       const void *data, size_t n)
{
	size_t start;

	if (!w || (!data && n) || !code_known(code) || (!code_has_type(code) && n) ||
	    n > EAP_MAX_LEN - EAP_HDR_LEN - 1)
		return -EINVAL;
	start = eap_encode_begin(w, code, id, type);
	if (n)
		wbuf_bytes(w, data, n);
	return eap_encode_end(w, start);
}

int eap_encode_success(struct wbuf *w, uint8_t id)
{
	return eap_encode(w, EAP_CODE_SUCCESS, id, 0, NULL, 0);
}

int eap_encode_failure(struct wbuf *w, uint8_t id)
{
	return eap_encode(w, EAP_CODE_FAILURE, id, 0, NULL, 0);
}

int eap_encode_identity_request(struct wbuf *w, uint8_t id)
{
	return eap_encode(w, EAP_CODE_REQUEST, id, EAP_TYPE_IDENTITY, NULL, 0);
}

int eap_encode_nak(struct wbuf *w, uint8_t id, const uint8_t *types, size_t n)
{
	if (n == 0) /* RFC 3748 5.3.1: at least one octet (0 = no alternative) */
		return -EINVAL;
	return eap_encode(w, EAP_CODE_RESPONSE, id, EAP_TYPE_NAK, types, n);
}
