/* SPDX-License-Identifier: ISC */
/*
 * EAP-MSCHAPv2: RFC 2759 8 (NT-Response, Authenticator Response), RFC 3079 3.4 (MPPE
 * keys, the MSK), draft-kamath-pppext-eap-mschapv2-02 (packet format), and the
 * authenticator's state machine.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include "ikegw/cipher.h"
#include "ikegw/mschapv2.h"

struct mschapv2_ctx {
	OSSL_LIB_CTX *lib;      /* holds only the legacy provider */
	OSSL_PROVIDER *legacy;
	EVP_MD *md4;            /* from lib */
	EVP_CIPHER *des;        /* DES-ECB, from lib */
};

/* RFC 2759 8.7 */
static const char auth_magic1[] = "Magic server to client signing constant";
static const char auth_magic2[] = "Pad to make it do more than one iteration";
/* RFC 3079 3.4 */
static const char key_magic1[] = "This is the MPPE Master Key";
static const char key_magic2[] =
	"On the client side, this is the send key; on the server side, it is the receive key.";
static const char key_magic3[] =
	"On the client side, this is the receive key; on the server side, it is the send key.";
#define SHS_PAD_LEN 40
_Static_assert(sizeof(key_magic2) == 85 && sizeof(key_magic3) == 85, "RFC 3079 3.4 magics");


struct mschapv2_ctx *mschapv2_ctx_new(void)
{
	struct mschapv2_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	/* MD4 and DES only from a context of our own, never the default one. */
	c->lib = OSSL_LIB_CTX_new();
	if (c->lib)
		c->legacy = OSSL_PROVIDER_load(c->lib, "legacy");
	if (c->legacy) {
		c->md4 = EVP_MD_fetch(c->lib, "MD4", NULL);
		c->des = EVP_CIPHER_fetch(c->lib, "DES-ECB", NULL);
	}
	if (!c->md4 || !c->des) {
		mschapv2_ctx_free(c);
		ERR_clear_error();
		return NULL;
	}
	return c;
}

void mschapv2_ctx_free(struct mschapv2_ctx *c)
{
	if (!c)
		return;
	EVP_MD_free(c->md4);
	EVP_CIPHER_free(c->des);
	if (c->legacy)
		OSSL_PROVIDER_unload(c->legacy);
	OSSL_LIB_CTX_free(c->lib);
	free(c);
}

/* The first len octets of SHA1(parts...), from the default context. */
static int sha1_trunc(const struct crypto_chunk *parts, size_t n, uint8_t *out, size_t len)
{
	uint8_t full[EVP_MAX_MD_SIZE];
	int rc = cipher_digest(EVP_sha1(), parts, n, full);

	if (rc == 0)
		memcpy(out, full, len);
	OPENSSL_cleanse(full, sizeof(full));
	return rc;
}

int mschapv2_nt_hash_ascii(const struct mschapv2_ctx *c, const char *password,
			   uint8_t out[MSCHAPV2_NT_HASH_LEN])
{
	uint8_t uni[2 * 256];
	size_t n = password ? strlen(password) : 0;
	uint8_t full[EVP_MAX_MD_SIZE];
	int rc;

	if (!c || !password || n > 256 || !out)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)password[i] >= 0x80)
			return -EINVAL; /* only ASCII maps to UTF-16LE this simply */
		uni[2 * i] = (uint8_t)password[i];
		uni[2 * i + 1] = 0;
	}
	rc = cipher_digest(c->md4, &(struct crypto_chunk){ uni, 2 * n }, 1, full);
	if (rc == 0)
		memcpy(out, full, MSCHAPV2_NT_HASH_LEN);
	OPENSSL_cleanse(uni, sizeof(uni));
	OPENSSL_cleanse(full, sizeof(full));
	return rc;
}

int mschapv2_hash_nt_hash(const struct mschapv2_ctx *c, const uint8_t nt_hash[16],
			  uint8_t out[16])
{
	uint8_t full[EVP_MAX_MD_SIZE];
	int rc;

	if (!c || !nt_hash || !out)
		return -EINVAL;
	rc = cipher_digest(c->md4, &(struct crypto_chunk){ nt_hash, 16 }, 1, full);
	if (rc == 0)
		memcpy(out, full, 16);
	OPENSSL_cleanse(full, sizeof(full));
	return rc;
}

int mschapv2_challenge_hash(const uint8_t peer_challenge[16], const uint8_t auth_challenge[16],
			    const char *user, size_t user_len, uint8_t out[8])
{
	const struct crypto_chunk parts[] = {
		{ peer_challenge, 16 }, { auth_challenge, 16 }, { user, user_len },
	};

	if (!peer_challenge || !auth_challenge || (!user && user_len) || !out)
		return -EINVAL;
	return sha1_trunc(parts, 3, out, 8);
}

/* RFC 2759 8.6 DesEncrypt's key: 56 bits spread over 8 octets, odd parity in bit 0. */
static void des_key_expand(const uint8_t in[7], uint8_t out[8])
{
	uint64_t bits = 0;

	for (int i = 0; i < 7; i++)
		bits = bits << 8 | in[i];
	for (int i = 0; i < 8; i++) {
		uint8_t b = (uint8_t)(((bits >> (49 - 7 * i)) & 0x7f) << 1);
		uint8_t ones = (uint8_t)__builtin_popcount(b);

		out[i] = (uint8_t)(b | ((ones & 1) ? 0 : 1));
	}
}

static int des_encrypt(const struct mschapv2_ctx *c, const uint8_t key7[7],
		       const uint8_t clear[8], uint8_t cipher[8])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t key[8];
	int n = 0, fin = 0;
	int ok;

	des_key_expand(key7, key);
	ok = ctx && EVP_EncryptInit_ex2(ctx, c->des, key, NULL, NULL) == 1 &&
	     EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
	     EVP_EncryptUpdate(ctx, cipher, &n, clear, 8) == 1 && n == 8 &&
	     EVP_EncryptFinal_ex(ctx, cipher + n, &fin) == 1 && fin == 0;
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(key, sizeof(key));
	if (!ok)
		ERR_clear_error();
	return ok ? 0 : -EIO;
}

int mschapv2_challenge_response(const struct mschapv2_ctx *c, const uint8_t challenge[8],
				const uint8_t nt_hash[16], uint8_t out[24])
{
	uint8_t z[21] = { 0 }; /* RFC 2759 8.5: the hash zero-padded to 21 octets */
	int rc = 0;

	if (!c || !challenge || !nt_hash || !out)
		return -EINVAL;
	memcpy(z, nt_hash, 16);
	for (int i = 0; i < 3 && rc == 0; i++)
		rc = des_encrypt(c, z + 7 * i, challenge, out + 8 * i);
	OPENSSL_cleanse(z, sizeof(z));
	return rc;
}

int mschapv2_nt_response(const struct mschapv2_ctx *c, const uint8_t auth_challenge[16],
			 const uint8_t peer_challenge[16], const char *user, size_t user_len,
			 const uint8_t nt_hash[16], uint8_t out[24])
{
	uint8_t ch[8];
	int rc = mschapv2_challenge_hash(peer_challenge, auth_challenge, user, user_len, ch);

	return rc ? rc : mschapv2_challenge_response(c, ch, nt_hash, out);
}

static void hex_upper(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int mschapv2_auth_response(const struct mschapv2_ctx *c, const uint8_t nt_hash[16],
			   const uint8_t nt_response[24], const uint8_t peer_challenge[16],
			   const uint8_t auth_challenge[16], const char *user, size_t user_len,
			   char out[MSCHAPV2_AUTH_RESPONSE_LEN + 1])
{
	uint8_t hh[16], d[20], ch[8];
	int rc;

	if (!c || !nt_hash || !nt_response || !out)
		return -EINVAL;
	rc = mschapv2_hash_nt_hash(c, nt_hash, hh);
	if (rc == 0) { /* RFC 2759 8.7 */
		const struct crypto_chunk p1[] = {
			{ hh, 16 }, { nt_response, 24 }, { auth_magic1, sizeof(auth_magic1) - 1 },
		};
		rc = sha1_trunc(p1, 3, d, 20);
	}
	if (rc == 0)
		rc = mschapv2_challenge_hash(peer_challenge, auth_challenge, user, user_len, ch);
	if (rc == 0) {
		const struct crypto_chunk p2[] = {
			{ d, 20 }, { ch, 8 }, { auth_magic2, sizeof(auth_magic2) - 1 },
		};
		rc = sha1_trunc(p2, 3, d, 20);
	}
	if (rc == 0) {
		out[0] = 'S';
		out[1] = '=';
		hex_upper(d, 20, out + 2);
	}
	OPENSSL_cleanse(hh, sizeof(hh));
	return rc;
}

int mschapv2_check_authenticator(const struct mschapv2_ctx *c, const uint8_t nt_hash[16],
				 const uint8_t nt_response[24], const uint8_t peer_challenge[16],
				 const uint8_t auth_challenge[16], const char *user,
				 size_t user_len, const char *received, size_t received_len)
{
	char want[MSCHAPV2_AUTH_RESPONSE_LEN + 1];
	int rc;

	if (!received && received_len)
		return -EINVAL;
	rc = mschapv2_auth_response(c, nt_hash, nt_response, peer_challenge, auth_challenge,
				    user, user_len, want);
	if (rc == 0 && (received_len != MSCHAPV2_AUTH_RESPONSE_LEN ||
			CRYPTO_memcmp(want, received, MSCHAPV2_AUTH_RESPONSE_LEN) != 0))
		rc = -EACCES;
	return rc;
}

int mschapv2_master_key(const struct mschapv2_ctx *c, const uint8_t nt_hash[16],
			const uint8_t nt_response[24], uint8_t out[16])
{
	uint8_t hh[16];
	int rc;

	if (!nt_response || !out)
		return -EINVAL;
	rc = mschapv2_hash_nt_hash(c, nt_hash, hh);
	if (rc == 0) { /* RFC 3079 3.4 GetMasterKey */
		const struct crypto_chunk p[] = {
			{ hh, 16 }, { nt_response, 24 }, { key_magic1, sizeof(key_magic1) - 1 },
		};
		rc = sha1_trunc(p, 3, out, 16);
	}
	OPENSSL_cleanse(hh, sizeof(hh));
	return rc;
}

int mschapv2_start_key(const uint8_t master_key[16], bool is_send, bool is_server,
		       uint8_t *out, size_t len)
{
	static const uint8_t pad1[SHS_PAD_LEN] = { 0 };
	uint8_t pad2[SHS_PAD_LEN];
	/* RFC 3079 3.4: the server's send key is the client's receive key (Magic3). */
	const char *magic = (is_send == is_server) ? key_magic3 : key_magic2;

	if (!master_key || !out || len > 20)
		return -EINVAL;
	memset(pad2, 0xf2, sizeof(pad2));
	const struct crypto_chunk p[] = {
		{ master_key, 16 }, { pad1, sizeof(pad1) }, { magic, sizeof(key_magic2) - 1 },
		{ pad2, sizeof(pad2) },
	};
	return sha1_trunc(p, 4, out, len);
}

int mschapv2_msk(const struct mschapv2_ctx *c, const uint8_t nt_hash[16],
		 const uint8_t nt_response[24], uint8_t out[MSCHAPV2_MSK_LEN])
{
	uint8_t mk[16];
	int rc;

	if (!out)
		return -EINVAL;
	memset(out, 0, MSCHAPV2_MSK_LEN);
	rc = mschapv2_master_key(c, nt_hash, nt_response, mk);
	if (rc == 0)
		rc = mschapv2_start_key(mk, false, true, out, 16); /* MasterReceiveKey */
	if (rc == 0)
		rc = mschapv2_start_key(mk, true, true, out + 16, 16); /* MasterSendKey */
	OPENSSL_cleanse(mk, sizeof(mk));
	if (rc)
		OPENSSL_cleanse(out, MSCHAPV2_MSK_LEN);
	return rc;
}

void mschapv2_user_strip_domain(const char *name, size_t len, const char **user,
				size_t *user_len)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++)
		if (name[i] == '\\')
			start = i + 1;
	*user = name + start;
	*user_len = len - start;
}

/* ---- packet format ---- */

static int decode_challenge(struct rbuf *r, struct mschapv2_msg *m)
{
	uint8_t vs;

	if (rbuf_u8(r, &vs) || vs != MSCHAPV2_CHALLENGE_LEN ||
	    rbuf_copy(r, m->challenge, MSCHAPV2_CHALLENGE_LEN))
		return -EBADMSG;
	rbuf_rest(r, &m->name, &m->name_len);
	return 0;
}

static int decode_response(struct rbuf *r, struct mschapv2_msg *m)
{
	uint8_t vs;

	if (rbuf_u8(r, &vs) || vs != MSCHAPV2_RESPONSE_VALUE_SIZE ||
	    rbuf_copy(r, m->peer_challenge, MSCHAPV2_CHALLENGE_LEN) ||
	    rbuf_skip(r, 8) /* Reserved */ ||
	    rbuf_copy(r, m->nt_response, MSCHAPV2_NT_RESPONSE_LEN) || rbuf_u8(r, &m->flags))
		return -EBADMSG;
	rbuf_rest(r, &m->name, &m->name_len);
	return 0;
}

/* Which OpCodes travel in which EAP Code (draft-kamath-pppext-eap-mschapv2-02 2). */
static int decode_body(const struct eap_pkt *eap, struct rbuf *r, struct mschapv2_msg *m)
{
	bool req = eap->code == EAP_CODE_REQUEST;

	switch (m->opcode) {
	case MSCHAPV2_OP_CHALLENGE:
		return req ? decode_challenge(r, m) : -EBADMSG;
	case MSCHAPV2_OP_RESPONSE:
		return req ? -EBADMSG : decode_response(r, m);
	case MSCHAPV2_OP_SUCCESS:
	case MSCHAPV2_OP_FAILURE:
		if (!req) /* only the 1-octet acknowledgement is a Response */
			return -EBADMSG;
		rbuf_rest(r, &m->message, &m->message_len);
		return 0;
	default:
		return -EBADMSG; /* Change-Password and unknown OpCodes */
	}
}

int mschapv2_decode(const struct eap_pkt *eap, struct mschapv2_msg *m)
{
	struct rbuf r;
	uint16_t ms_len;

	if (!eap || !m)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	if ((eap->code != EAP_CODE_REQUEST && eap->code != EAP_CODE_RESPONSE) ||
	    eap->type != EAP_TYPE_MSCHAPV2)
		return -EINVAL;
	rbuf_init(&r, eap->data, eap->data_len);
	if (rbuf_u8(&r, &m->opcode))
		return -EBADMSG;
	if (eap->code == EAP_CODE_RESPONSE && rbuf_empty(&r) &&
	    (m->opcode == MSCHAPV2_OP_SUCCESS || m->opcode == MSCHAPV2_OP_FAILURE)) {
		m->ack = true;
		return 0;
	}
	if (rbuf_u8(&r, &m->ms_id) || rbuf_u16(&r, &ms_len))
		return -EBADMSG;
	/* MS-Length is the EAP Length minus 5 (Code, Identifier, Length, Type). */
	if ((size_t)ms_len + 5 != eap->length || (size_t)ms_len != eap->data_len)
		return -EBADMSG;
	return decode_body(eap, &r, m);
}

/* Header through MS-Length; returns the EAP start offset for finish(). */
static size_t encode_head(struct wbuf *w, uint8_t code, uint8_t eap_id, uint8_t opcode,
			  uint8_t ms_id)
{
	size_t start = eap_encode_begin(w, code, eap_id, EAP_TYPE_MSCHAPV2);

	wbuf_u8(w, opcode);
	wbuf_u8(w, ms_id);
	wbuf_u16(w, 0); /* MS-Length, filled by encode_finish() */
	return start;
}

static int encode_finish(struct wbuf *w, size_t start)
{
	if (!wbuf_ok(w) || start == (size_t)-1)
		return -ENOSPC;
	wbuf_put_u16_at(w, start + 7, (uint16_t)(wbuf_len(w) - start - 5));
	return eap_encode_end(w, start);
}

static int text_ok(const char *s, size_t max)
{
	return s && strlen(s) <= max;
}

int mschapv2_encode_challenge(struct wbuf *w, uint8_t eap_id, uint8_t ms_id,
			      const uint8_t challenge[16], const char *name)
{
	size_t start;

	if (!w || !challenge || !text_ok(name, MSCHAPV2_NAME_MAX))
		return -EINVAL;
	start = encode_head(w, EAP_CODE_REQUEST, eap_id, MSCHAPV2_OP_CHALLENGE, ms_id);
	wbuf_u8(w, MSCHAPV2_CHALLENGE_LEN);
	wbuf_bytes(w, challenge, MSCHAPV2_CHALLENGE_LEN);
	wbuf_bytes(w, name, strlen(name));
	return encode_finish(w, start);
}

int mschapv2_encode_response(struct wbuf *w, uint8_t eap_id, uint8_t ms_id,
			     const uint8_t peer_challenge[16], const uint8_t nt_response[24],
			     const char *name)
{
	size_t start;

	if (!w || !peer_challenge || !nt_response || !text_ok(name, MSCHAPV2_NAME_MAX))
		return -EINVAL;
	start = encode_head(w, EAP_CODE_RESPONSE, eap_id, MSCHAPV2_OP_RESPONSE, ms_id);
	wbuf_u8(w, MSCHAPV2_RESPONSE_VALUE_SIZE);
	wbuf_bytes(w, peer_challenge, MSCHAPV2_CHALLENGE_LEN);
	wbuf_zero(w, 8); /* Reserved */
	wbuf_bytes(w, nt_response, MSCHAPV2_NT_RESPONSE_LEN);
	wbuf_u8(w, 0); /* Flags */
	wbuf_bytes(w, name, strlen(name));
	return encode_finish(w, start);
}

static int encode_text(struct wbuf *w, uint8_t eap_id, uint8_t opcode, uint8_t ms_id,
		       const char *text, int n)
{
	size_t start;

	if (n < 0 || n >= 512)
		return -EINVAL;
	start = encode_head(w, EAP_CODE_REQUEST, eap_id, opcode, ms_id);
	wbuf_bytes(w, text, (size_t)n);
	return encode_finish(w, start);
}

int mschapv2_encode_success(struct wbuf *w, uint8_t eap_id, uint8_t ms_id,
			    const char auth_response[MSCHAPV2_AUTH_RESPONSE_LEN],
			    const char *message)
{
	char text[512];
	int n;

	if (!w || !auth_response || !text_ok(message, 256))
		return -EINVAL;
	/* RFC 2759 5: "S=<auth_string> M=<message>" */
	n = snprintf(text, sizeof(text), "%.*s M=%s", MSCHAPV2_AUTH_RESPONSE_LEN,
		     auth_response, message);
	return encode_text(w, eap_id, MSCHAPV2_OP_SUCCESS, ms_id, text, n);
}

int mschapv2_encode_failure(struct wbuf *w, uint8_t eap_id, uint8_t ms_id, unsigned error,
			    bool retry, const uint8_t challenge[16], const char *message)
{
	char text[512], hex[2 * MSCHAPV2_CHALLENGE_LEN + 1];
	int n;

	if (!w || !challenge || !text_ok(message, 256))
		return -EINVAL;
	hex_upper(challenge, MSCHAPV2_CHALLENGE_LEN, hex);
	/* RFC 2759 6: "E=eeeeeeeeee R=r C=cccc... V=vvvvvvvvvv M=<msg>" */
	n = snprintf(text, sizeof(text), "E=%u R=%d C=%s V=3 M=%s", error, retry ? 1 : 0,
		     hex, message);
	return encode_text(w, eap_id, MSCHAPV2_OP_FAILURE, ms_id, text, n);
}

int mschapv2_encode_ack(struct wbuf *w, uint8_t eap_id, uint8_t opcode)
{
	if (opcode != MSCHAPV2_OP_SUCCESS && opcode != MSCHAPV2_OP_FAILURE)
		return -EINVAL;
	return eap_encode(w, EAP_CODE_RESPONSE, eap_id, EAP_TYPE_MSCHAPV2, &opcode, 1);
}

/* ---- the authenticator's state machine ---- */

enum srv_state {
	SRV_INIT,
	SRV_CHALLENGE_SENT,
	SRV_SUCCESS_SENT,
	SRV_FAILURE_SENT,
	SRV_DONE,
	SRV_FAILED,
};

struct mschapv2_server {
	const struct mschapv2_ctx *c;
	mschapv2_lookup_fn lookup;
	void *arg;
	char name[64];             /* our Name in the Challenge */
	enum srv_state state;
	uint8_t eap_id;            /* Identifier of the Request we sent last */
	uint8_t ms_id;
	uint8_t challenge[MSCHAPV2_CHALLENGE_LEN];
	char user[MSCHAPV2_NAME_MAX + 1];
	uint8_t msk[MSCHAPV2_MSK_LEN];
};

struct mschapv2_server *mschapv2_server_new(const struct mschapv2_ctx *c,
					    const char *server_name,
					    mschapv2_lookup_fn lookup, void *arg)
{
	struct mschapv2_server *s;

	if (!c || !lookup || !server_name || strlen(server_name) >= sizeof(s->name))
		return NULL;
	if (!(s = calloc(1, sizeof(*s))))
		return NULL;
	s->c = c;
	s->lookup = lookup;
	s->arg = arg;
	memcpy(s->name, server_name, strlen(server_name) + 1);
	return s;
}

void mschapv2_server_free(struct mschapv2_server *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

int mschapv2_server_start(struct mschapv2_server *s, uint8_t eap_id,
			  const uint8_t *challenge, struct wbuf *out)
{
	if (!s || !out || s->state != SRV_INIT)
		return -EINVAL;
	if (challenge)
		memcpy(s->challenge, challenge, MSCHAPV2_CHALLENGE_LEN);
	else if (RAND_bytes(s->challenge, MSCHAPV2_CHALLENGE_LEN) != 1)
		return -EIO;
	s->eap_id = eap_id;
	s->ms_id = eap_id; /* as Windows and strongSwan do */
	s->state = SRV_CHALLENGE_SENT;
	return mschapv2_encode_challenge(out, eap_id, s->ms_id, s->challenge, s->name);
}

/* The peer's Name as a C string: refused when it holds a NUL or is too long. */
static int copy_name(const struct mschapv2_msg *m, char *out, size_t cap)
{
	struct rbuf r;

	if (m->name_len >= cap)
		return -EBADMSG;
	rbuf_init(&r, m->name, m->name_len);
	if (rbuf_copy(&r, out, m->name_len))
		return -EBADMSG;
	out[m->name_len] = '\0';
	return strlen(out) == m->name_len ? 0 : -EBADMSG;
}

/*
 * Compare the peer's NT-Response with ours.  An unknown user is checked against a
 * random hash so that it takes the same path and time as a wrong password.
 */
static int verify_response(struct mschapv2_server *s, const struct mschapv2_msg *m,
			   uint8_t nt_hash[16], bool *match)
{
	uint8_t want[MSCHAPV2_NT_RESPONSE_LEN];
	const char *user;
	size_t user_len;
	bool known = s->lookup(s->arg, s->user, nt_hash) == 0;
	int rc = 0;

	if (!known && RAND_bytes(nt_hash, MSCHAPV2_NT_HASH_LEN) != 1)
		return -EIO;
	mschapv2_user_strip_domain(s->user, strlen(s->user), &user, &user_len);
	rc = mschapv2_nt_response(s->c, s->challenge, m->peer_challenge, user, user_len,
				  nt_hash, want);
	*match = rc == 0 && known &&
		 CRYPTO_memcmp(want, m->nt_response, sizeof(want)) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return rc;
}

static int send_success(struct mschapv2_server *s, const struct mschapv2_msg *m,
			const uint8_t nt_hash[16], struct wbuf *out)
{
	char auth[MSCHAPV2_AUTH_RESPONSE_LEN + 1];
	const char *user;
	size_t user_len;
	int rc;

	mschapv2_user_strip_domain(s->user, strlen(s->user), &user, &user_len);
	rc = mschapv2_auth_response(s->c, nt_hash, m->nt_response, m->peer_challenge,
				    s->challenge, user, user_len, auth);
	if (rc == 0)
		rc = mschapv2_msk(s->c, nt_hash, m->nt_response, s->msk);
	if (rc == 0)
		rc = mschapv2_encode_success(out, (uint8_t)(s->eap_id + 1), s->ms_id, auth,
					     "Authenticated");
	if (rc == 0) {
		s->eap_id++;
		s->state = SRV_SUCCESS_SENT;
	}
	return rc;
}

/* RFC 2759 6: E=691, no retry (R=0); the challenge is fresh even so. */
static int send_failure(struct mschapv2_server *s, struct wbuf *out)
{
	uint8_t fresh[MSCHAPV2_CHALLENGE_LEN];
	int rc;

	if (RAND_bytes(fresh, sizeof(fresh)) != 1)
		return -EIO;
	rc = mschapv2_encode_failure(out, (uint8_t)(s->eap_id + 1), s->ms_id,
				     MSCHAPV2_ERROR_AUTHENTICATION_FAILURE, false, fresh,
				     "Authentication failed");
	if (rc == 0) {
		s->eap_id++;
		s->state = SRV_FAILURE_SENT;
	}
	return rc;
}

static int on_response(struct mschapv2_server *s, const struct mschapv2_msg *m,
		       struct wbuf *out)
{
	uint8_t nt_hash[MSCHAPV2_NT_HASH_LEN];
	bool match = false;
	int rc;

	if (m->opcode != MSCHAPV2_OP_RESPONSE || m->ms_id != s->ms_id)
		return -EBADMSG;
	if ((rc = copy_name(m, s->user, sizeof(s->user))) != 0)
		return rc;
	rc = verify_response(s, m, nt_hash, &match);
	if (rc == 0)
		rc = match ? send_success(s, m, nt_hash, out) : send_failure(s, out);
	OPENSSL_cleanse(nt_hash, sizeof(nt_hash));
	return rc ? rc : MSCHAPV2_CONTINUE;
}

static int on_ack(struct mschapv2_server *s, const struct mschapv2_msg *m)
{
	if (!m->ack)
		return -EBADMSG;
	if (s->state == SRV_SUCCESS_SENT && m->opcode == MSCHAPV2_OP_SUCCESS) {
		s->state = SRV_DONE;
		return MSCHAPV2_DONE;
	}
	/* The peer did not accept our Authenticator Response, or saw our Failure. */
	OPENSSL_cleanse(s->msk, sizeof(s->msk));
	s->state = SRV_FAILED;
	return MSCHAPV2_FAILED;
}

int mschapv2_server_process(struct mschapv2_server *s, const struct eap_pkt *in,
			    struct wbuf *out)
{
	struct mschapv2_msg m;
	int rc;

	if (!s || !in || !out)
		return -EINVAL;
	/* RFC 3748 4.1: a Response must carry the Identifier of the pending Request. */
	if (in->code != EAP_CODE_RESPONSE || in->id != s->eap_id)
		return -EBADMSG;
	if (s->state != SRV_CHALLENGE_SENT && s->state != SRV_SUCCESS_SENT &&
	    s->state != SRV_FAILURE_SENT)
		return -EPROTO;
	if (in->type == EAP_TYPE_NAK) { /* RFC 3748 5.3.1: the peer refuses the method */
		s->state = SRV_FAILED;
		return MSCHAPV2_FAILED;
	}
	if ((rc = mschapv2_decode(in, &m)) != 0)
		return rc == -EINVAL ? -EBADMSG : rc;
	if (s->state == SRV_CHALLENGE_SENT)
		return on_response(s, &m, out);
	return on_ack(s, &m);
}

int mschapv2_server_msk(const struct mschapv2_server *s, uint8_t out[MSCHAPV2_MSK_LEN])
{
	if (!s || !out)
		return -EINVAL;
	if (s->state != SRV_DONE)
		return -EAGAIN;
	memcpy(out, s->msk, MSCHAPV2_MSK_LEN);
	return 0;
}

const char *mschapv2_server_user(const struct mschapv2_server *s)
{
	return s && s->state == SRV_DONE ? s->user : NULL;
}
