/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ikegw/buf.h"
#include "ikegw/cookie.h"

/* Ni | IPi (at most IPv6) | SPIi | secret */
#define COOKIE_INPUT_MAX (COOKIE_NONCE_MAX + 16 + 8 + COOKIE_SECRET_LEN)

struct cookie {
	EVP_MD *sha256;  /* fetched once */
	uint8_t secret[COOKIE_SECRET_LEN];
	uint8_t prev_secret[COOKIE_SECRET_LEN];
	uint8_t version;  /* of secret; prev_secret is version - 1 */
	bool have_prev;
	uint64_t rotated_at;
};

struct cookie *cookie_new(uint64_t now_ms)
{
	struct cookie *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!c->sha256 || RAND_bytes(c->secret, sizeof(c->secret)) != 1) {
		cookie_free(c);
		return NULL;
	}
	c->rotated_at = now_ms;
	return c;
}

void cookie_free(struct cookie *c)
{
	if (!c)
		return;
	EVP_MD_free(c->sha256);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

int cookie_rotate(struct cookie *c, uint64_t now_ms)
{
	uint8_t fresh[COOKIE_SECRET_LEN];

	if (RAND_bytes(fresh, sizeof(fresh)) != 1)
		return -EIO;
	memcpy(c->prev_secret, c->secret, sizeof(c->secret));
	memcpy(c->secret, fresh, sizeof(fresh));
	OPENSSL_cleanse(fresh, sizeof(fresh));
	c->have_prev = true;
	c->version++;
	c->rotated_at = now_ms;
	return 0;
}

uint64_t cookie_rotated_at(const struct cookie *c)
{
	return c->rotated_at;
}

static int cookie_put_ip(struct wbuf *w, const struct sockaddr_storage *ip)
{
	if (ip->ss_family == AF_INET)
		wbuf_bytes(w, &((const struct sockaddr_in *)ip)->sin_addr, 4);
	else if (ip->ss_family == AF_INET6)
		wbuf_bytes(w, &((const struct sockaddr_in6 *)ip)->sin6_addr, 16);
	else
		return -EINVAL;
	return 0;
}

/* RFC 7296 2.6: Hash(Ni | IPi | SPIi | <secret>), here SHA-256. */
static int cookie_hash(const struct cookie *c, const uint8_t *secret, const uint8_t *ni,
		       size_t ni_len, const struct sockaddr_storage *ipi, uint64_t spi_i,
		       uint8_t out[COOKIE_HASH_LEN])
{
	uint8_t in[COOKIE_INPUT_MAX];
	unsigned int out_len = 0;
	struct wbuf w;
	int rc;

	if (!ni || ni_len == 0 || ni_len > COOKIE_NONCE_MAX)
		return -EINVAL;
	wbuf_init(&w, in, sizeof(in));
	wbuf_bytes(&w, ni, ni_len);
	rc = cookie_put_ip(&w, ipi);
	wbuf_u64(&w, spi_i);
	wbuf_bytes(&w, secret, COOKIE_SECRET_LEN);
	if (rc == 0 && !wbuf_ok(&w))
		rc = -EINVAL;
	if (rc == 0 && (EVP_Digest(in, wbuf_len(&w), out, &out_len, c->sha256, NULL) != 1 ||
			out_len != COOKIE_HASH_LEN))
		rc = -EIO;
	OPENSSL_cleanse(in, sizeof(in));
	return rc;
}

int cookie_make(const struct cookie *c, const uint8_t *ni, size_t ni_len,
		const struct sockaddr_storage *ipi, uint64_t spi_i, uint8_t out[COOKIE_LEN])
{
	out[0] = c->version;
	return cookie_hash(c, c->secret, ni, ni_len, ipi, spi_i, out + 1);
}

int cookie_verify(const struct cookie *c, const uint8_t *cookie, size_t cookie_len,
		  const uint8_t *ni, size_t ni_len, const struct sockaddr_storage *ipi,
		  uint64_t spi_i)
{
	uint8_t want[COOKIE_HASH_LEN];
	const uint8_t *secret, *got;
	struct rbuf r;
	uint8_t version;
	int rc;

	rbuf_init(&r, cookie, cookie_len);
	if (rbuf_u8(&r, &version) < 0 || rbuf_bytes(&r, COOKIE_HASH_LEN, &got) < 0 ||
	    !rbuf_empty(&r))
		return -EBADMSG;
	if (version == c->version)
		secret = c->secret;
	else if (c->have_prev && version == (uint8_t)(c->version - 1))
		secret = c->prev_secret;
	else
		return -EACCES;
	rc = cookie_hash(c, secret, ni, ni_len, ipi, spi_i, want);
	if (rc == 0 && CRYPTO_memcmp(want, got, sizeof(want)) != 0)
		rc = -EACCES;
	OPENSSL_cleanse(want, sizeof(want));
	return rc;
}

bool cookie_required(size_t half_open, size_t threshold)
{
	return half_open >= threshold;
}
