/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the RADIUS reply decoder.  Random bytes almost never carry a
 * right Response Authenticator, so the harness first signs the input as a server
 * would (Message-Authenticator if the input has one, then the Response Authenticator)
 * unless the Identifier's high bit is set: those go in unsigned so that the rejection
 * paths are fuzzed too.  A decoded reply must be self-consistent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ikegw/eap.h"
#include "ikegw/radius.h"

static const uint8_t secret[] = "fuzz-secret";
static const uint8_t req_auth[16] = "0123456789abcdef";
#define SECRET_LEN (sizeof(secret) - 1)

/* Offset of the first Message-Authenticator value, or 0. */
static size_t find_ma(const uint8_t *p, size_t len)
{
	for (size_t pos = 20; pos + 2 <= len && p[pos + 1] >= 2; pos += p[pos + 1])
		if (p[pos] == RADIUS_ATTR_MESSAGE_AUTHENTICATOR && p[pos + 1] == 18 &&
		    pos + 18 <= len)
			return pos + 2;
	return 0;
}

static void sign(uint8_t *p, size_t n)
{
	size_t len = (size_t)p[2] << 8 | p[3], ma, outl = 0;
	uint8_t buf[4096 + 16];
	unsigned int dl = 0;

	if (len < 20 || len > n || len > 4096)
		return;
	memcpy(p + 4, req_auth, 16);
	if ((ma = find_ma(p, len)) != 0) {
		memset(p + ma, 0, 16);
		if (!EVP_Q_mac(NULL, "HMAC", NULL, "MD5", NULL, secret, SECRET_LEN, p, len,
			       p + ma, 16, &outl))
			abort();
	}
	memcpy(buf, p, len);
	memcpy(buf + len, secret, SECRET_LEN);
	if (EVP_Digest(buf, len + SECRET_LEN, p + 4, &dl, EVP_md5(), NULL) != 1)
		abort();
}

static void check(const struct radius_reply *r)
{
	struct eap_pkt e;

	if (r->eap_len && eap_decode(r->eap, r->eap_len, &e) != 0)
		abort(); /* the decoder promised one whole EAP packet */
	if (r->msk_len > sizeof(r->msk) || r->n_class > RADIUS_CLASS_MAX)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct radius_reply reply;
	uint8_t *p;

	if (size < 2 || size > 5000)
		return 0;
	if (!(p = malloc(size)))
		return 0;
	memcpy(p, data, size);
	if (size >= 20 && (p[1] & 0x80) == 0)
		sign(p, size);
	if (radius_decode_reply(p, size, p[1], req_auth, secret, SECRET_LEN,
				&reply) == 0)
		check(&reply);
	radius_reply_clear(&reply);
	free(p);
	return 0;
}
