/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "fake_radius.h"
#include "ikegw/buf.h"
#include "ikegw/radius.h"

int fake_radius_open(struct fake_radius *f, const char *secret)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t len = sizeof(a);

	memset(f, 0, sizeof(*f));
	snprintf(f->secret, sizeof(f->secret), "%s", secret);
	f->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (f->fd < 0)
		return -errno;
	if (bind(f->fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(f->fd, (struct sockaddr *)&a, &len) != 0) {
		close(f->fd);
		return -errno;
	}
	f->port = ntohs(a.sin_port);
	return 0;
}

void fake_radius_close(struct fake_radius *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

int fake_radius_recv(struct fake_radius *f, int ms)
{
	struct pollfd p = { .fd = f->fd, .events = POLLIN };
	socklen_t len = sizeof(f->from);
	ssize_t n;

	if (poll(&p, 1, ms) != 1)
		return -ETIMEDOUT;
	n = recvfrom(f->fd, f->req, sizeof(f->req), 0, (struct sockaddr *)&f->from, &len);
	if (n < 0)
		return -errno;
	f->req_len = (size_t)n;
	return 0;
}

/* Walk the attributes of the last request: calls back with each (type, value). */
static const uint8_t *attr_next(struct rbuf *r, uint8_t *type, size_t *len)
{
	uint8_t l;
	const uint8_t *v;

	if (rbuf_u8(r, type) != 0 || rbuf_u8(r, &l) != 0 || l < 2 ||
	    rbuf_bytes(r, (size_t)l - 2, &v) != 0)
		return NULL;
	*len = (size_t)l - 2;
	return v;
}

const uint8_t *fake_radius_attr(const struct fake_radius *f, uint8_t type, size_t *len)
{
	struct rbuf r;
	uint8_t t;
	const uint8_t *v;

	rbuf_init(&r, f->req, f->req_len);
	if (rbuf_skip(&r, RADIUS_HDR_LEN) != 0)
		return NULL;
	while ((v = attr_next(&r, &t, len)) != NULL)
		if (t == type)
			return v;
	return NULL;
}

size_t fake_radius_eap(const struct fake_radius *f, uint8_t *out, size_t cap)
{
	struct rbuf r;
	uint8_t t;
	const uint8_t *v;
	size_t n = 0, len;

	rbuf_init(&r, f->req, f->req_len);
	if (rbuf_skip(&r, RADIUS_HDR_LEN) != 0)
		return 0;
	while ((v = attr_next(&r, &t, &len)) != NULL) {
		if (t != RADIUS_ATTR_EAP_MESSAGE || n + len > cap)
			continue;
		memcpy(out + n, v, len);
		n += len;
	}
	return n;
}

static void put_attr(struct wbuf *w, uint8_t type, const void *v, size_t n)
{
	wbuf_u8(w, type);
	wbuf_u8(w, (uint8_t)(n + 2));
	wbuf_bytes(w, v, n);
}

static void put_mppe(struct wbuf *w, const struct fake_radius *f, const char *secret,
		     const uint8_t *req_auth, uint8_t type, uint8_t fill)
{
	uint8_t key[32], enc[64], salt[2] = { (uint8_t)(0x80 | type), fill };
	size_t n = 0;

	(void)f;
	memset(key, fill, sizeof(key));
	if (radius_mppe_encrypt((const uint8_t *)secret, strlen(secret), req_auth, salt, key,
				sizeof(key), enc, sizeof(enc), &n) != 0)
		return;
	wbuf_u8(w, RADIUS_ATTR_VENDOR_SPECIFIC);
	wbuf_u8(w, (uint8_t)(2 + 4 + 2 + 2 + n));
	wbuf_u32(w, RADIUS_VENDOR_MICROSOFT);
	wbuf_u8(w, type);
	wbuf_u8(w, (uint8_t)(2 + 2 + n));
	wbuf_bytes(w, salt, 2);
	wbuf_bytes(w, enc, n);
}

static int hmac_md5(const char *secret, const uint8_t *p, size_t n, uint8_t out[16])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *c = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM prm[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "MD5", 0),
			     OSSL_PARAM_construct_end() };
	size_t len = 0;
	int ok = c && EVP_MAC_init(c, (const uint8_t *)secret, strlen(secret), prm) == 1 &&
		 EVP_MAC_update(c, p, n) == 1 && EVP_MAC_final(c, out, &len, 16) == 1;

	EVP_MAC_CTX_free(c);
	EVP_MAC_free(mac);
	return ok ? 0 : -EIO;
}

static int sign(uint8_t *p, size_t n, size_t ma_off, const char *secret,
		const struct fake_radius_reply *r)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t digest[16];
	unsigned int dl = 0;
	int ok;

	/* RFC 3579 3.2: the MAC is taken with the Request Authenticator in place. */
	if (ma_off && hmac_md5(secret, p, n, p + ma_off) != 0) {
		EVP_MD_CTX_free(c);
		return -EIO;
	}
	ok = c && EVP_DigestInit_ex(c, EVP_md5(), NULL) == 1 && EVP_DigestUpdate(c, p, n) == 1 &&
	     EVP_DigestUpdate(c, secret, strlen(secret)) == 1 &&
	     EVP_DigestFinal_ex(c, digest, &dl) == 1;
	EVP_MD_CTX_free(c);
	if (!ok)
		return -EIO;
	if (r->bad_resp_auth)
		digest[0] ^= 1;
	memcpy(p + 4, digest, 16);
	return 0;
}

int fake_radius_reply(struct fake_radius *f, const struct fake_radius_reply *r)
{
	const char *secret = r->secret ? r->secret : f->secret;
	uint8_t p[4096], zero[16] = { 0 };
	const uint8_t *req_auth = f->req + 4;
	struct wbuf w;
	size_t ma_off = 0;

	if (f->req_len < RADIUS_HDR_LEN)
		return -EINVAL;
	wbuf_init(&w, p, sizeof(p));
	wbuf_u8(&w, r->code);
	wbuf_u8(&w, f->req[1]);
	wbuf_u16(&w, 0);
	wbuf_bytes(&w, req_auth, 16);
	for (size_t off = 0; off < r->eap_len; off += 253)
		put_attr(&w, RADIUS_ATTR_EAP_MESSAGE, r->eap + off,
			 r->eap_len - off > 253 ? 253 : r->eap_len - off);
	if (r->state)
		put_attr(&w, RADIUS_ATTR_STATE, r->state, strlen(r->state));
	if (r->class_attr)
		put_attr(&w, RADIUS_ATTR_CLASS, r->class_attr, strlen(r->class_attr));
	if (r->framed_ip)
		put_attr(&w, RADIUS_ATTR_FRAMED_IP_ADDRESS, r->ip, 4);
	if (r->mppe) {
		put_mppe(&w, f, secret, req_auth, RADIUS_MS_MPPE_RECV_KEY, 0x11);
		put_mppe(&w, f, secret, req_auth, RADIUS_MS_MPPE_SEND_KEY, 0x22);
	}
	if (!r->no_ma) {
		ma_off = wbuf_len(&w) + 2;
		put_attr(&w, RADIUS_ATTR_MESSAGE_AUTHENTICATOR, zero, 16);
	}
	if (!wbuf_ok(&w))
		return -ENOSPC;
	wbuf_put_u16_at(&w, 2, (uint16_t)wbuf_len(&w));
	if (sign(p, wbuf_len(&w), ma_off, secret, r) != 0)
		return -EIO;
	if (sendto(f->fd, p, wbuf_len(&w), 0, (struct sockaddr *)&f->from, sizeof(f->from)) < 0)
		return -errno;
	return 0;
}
