/* SPDX-License-Identifier: ISC */
/*
 * Pure XFRM netlink message builders and parsers: no sockets, no state.  One small
 * function per attribute group; xfrm.c sends what these build.  Everything the kernel
 * sends back is read through libmnl's length-checked accessors and copied out with
 * memcpy (netlink payloads carry no alignment promise for our structs).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/udp.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ikegw/ikev2.h"
#include "ikegw/xfrm.h"

/* XFRMA_REPLAY_ESN_MAX is in bits: the largest bitmap the kernel takes. */
#define XFRM_REPLAY_MAX_WINDOW 4096u
#define XFRM_ESN_DEFAULT_WINDOW 32u

/* --- algorithms (RFC 7296 3.3.2 transform ids -> Linux crypto API names) --- */

/* AES-GCM (RFC 4106) and ChaCha20-Poly1305 (RFC 7634) carry a 4-byte salt after the key;
 * AES-CTR (RFC 3686) a 4-byte nonce.  The kernel wants key|salt in one blob. */
#define XFRM_SALT_LEN 4

static int xfrm_alg_aead(const struct dp_sa *sa, struct xfrm_alg *out)
{
	switch (sa->encr_id) {
	case IKEV2_ENCR_AES_GCM_8: out->icv_bits = 64; break;
	case IKEV2_ENCR_AES_GCM_12: out->icv_bits = 96; break;
	case IKEV2_ENCR_AES_GCM_16: out->icv_bits = 128; break;
	case IKEV2_ENCR_CHACHA20_POLY1305: out->icv_bits = 128; break;
	default: return -ENOTSUP;
	}
	if (sa->encr_id == IKEV2_ENCR_CHACHA20_POLY1305) {
		out->name = "rfc7539esp(chacha20,poly1305)";
		if (sa->enc_key_len != 32 + XFRM_SALT_LEN)
			return -EINVAL;
	} else {
		out->name = "rfc4106(gcm(aes))";
		if (sa->encr_keylen != 128 && sa->encr_keylen != 192 && sa->encr_keylen != 256)
			return -EINVAL;
		if (sa->enc_key_len != sa->encr_keylen / 8 + XFRM_SALT_LEN)
			return -EINVAL;
	}
	out->key_bits = (uint16_t)(sa->enc_key_len * 8);
	return 0;
}

static int xfrm_alg_cipher(const struct dp_sa *sa, struct xfrm_alg *out)
{
	size_t extra = 0;

	if (sa->encr_id == IKEV2_ENCR_AES_CBC) {
		out->name = "cbc(aes)";
	} else if (sa->encr_id == IKEV2_ENCR_AES_CTR) {
		out->name = "rfc3686(ctr(aes))";
		extra = XFRM_SALT_LEN;
	} else {
		return -ENOTSUP;
	}
	if (sa->encr_keylen != 128 && sa->encr_keylen != 192 && sa->encr_keylen != 256)
		return -EINVAL;
	if (sa->enc_key_len != sa->encr_keylen / 8 + extra)
		return -EINVAL;
	out->key_bits = (uint16_t)(sa->enc_key_len * 8);
	out->icv_bits = 0;
	return 0;
}

int xfrm_alg_encr(const struct dp_sa *sa, struct xfrm_alg *out, bool *aead)
{
	int rc = xfrm_alg_aead(sa, out);

	*aead = rc != -ENOTSUP;
	if (*aead)
		return rc;
	return xfrm_alg_cipher(sa, out);
}

int xfrm_alg_integ(const struct dp_sa *sa, struct xfrm_alg *out)
{
	size_t key;

	switch (sa->integ_id) {
	case IKEV2_INTEG_HMAC_SHA1_96: /* legacy, RFC 8221 2.2 "MUST-" */
		*out = (struct xfrm_alg){ "hmac(sha1)", 160, 96 }; key = 20; break;
	case IKEV2_INTEG_HMAC_SHA2_256_128: /* RFC 4868 */
		*out = (struct xfrm_alg){ "hmac(sha256)", 256, 128 }; key = 32; break;
	case IKEV2_INTEG_HMAC_SHA2_384_192:
		*out = (struct xfrm_alg){ "hmac(sha384)", 384, 192 }; key = 48; break;
	case IKEV2_INTEG_HMAC_SHA2_512_256:
		*out = (struct xfrm_alg){ "hmac(sha512)", 512, 256 }; key = 64; break;
	default:
		return -ENOTSUP;
	}
	return sa->integ_key_len == key ? 0 : -EINVAL;
}

/* --- addresses --- */

static int xfrm_addr_from_ss(const struct sockaddr_storage *ss, xfrm_address_t *a,
			     uint16_t *family, uint16_t *port_be)
{
	memset(a, 0, sizeof(*a));
	*family = AF_UNSPEC;
	*port_be = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		memcpy(&a->a4, &sin->sin_addr, 4);
		*port_be = sin->sin_port;
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		memcpy(a->a6, &sin6->sin6_addr, 16);
		*port_be = sin6->sin6_port;
	} else {
		return -EAFNOSUPPORT;
	}
	*family = ss->ss_family;
	return 0;
}

static int xfrm_addr_from_prefix(const struct dp_prefix *p, xfrm_address_t *a)
{
	size_t alen = p->family == AF_INET ? 4 : p->family == AF_INET6 ? 16 : 0;
	uint8_t bytes[16] = { 0 };

	if (alen == 0 || p->plen > alen * 8)
		return -EINVAL;
	/* Host bits cleared: delete-by-selector compares selectors byte for byte. */
	for (size_t i = 0; i < alen; i++) {
		unsigned int bits = p->plen > i * 8 ? p->plen - i * 8 : 0;

		bytes[i] = bits >= 8 ? p->addr[i] : (uint8_t)(p->addr[i] & (0xff00u >> bits));
	}
	memset(a, 0, sizeof(*a));
	memcpy(a, bytes, alen);
	return 0;
}

/* --- message framing --- */

static struct nlmsghdr *xfrm_msg_start(void *buf, size_t len, uint16_t type,
				       uint16_t flags, uint32_t seq, size_t body)
{
	struct nlmsghdr *nlh;

	if (len < MNL_NLMSG_HDRLEN + MNL_ALIGN(body))
		return NULL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	if (body > 0)
		mnl_nlmsg_put_extra_header(nlh, body);
	return nlh;
}

/* --- SA attribute groups --- */

static void xfrm_sa_lifetimes(struct xfrm_lifetime_cfg *lft, uint32_t soft_s, uint32_t hard_s)
{
	lft->soft_byte_limit = XFRM_INF;
	lft->hard_byte_limit = XFRM_INF;
	lft->soft_packet_limit = XFRM_INF;
	lft->hard_packet_limit = XFRM_INF;
	lft->soft_add_expires_seconds = soft_s;
	lft->hard_add_expires_seconds = hard_s;
}

static int xfrm_sa_info(struct xfrm_usersa_info *p, const struct xfrm_sa_spec *s)
{
	uint16_t sfam, dfam, port;
	int rc;

	rc = xfrm_addr_from_ss(s->src, &p->saddr, &sfam, &port);
	if (rc == 0)
		rc = xfrm_addr_from_ss(s->dst, &p->id.daddr, &dfam, &port);
	if (rc < 0)
		return rc;
	if (sfam != dfam)
		return -EINVAL;
	p->id.spi = htonl(s->sa->spi);
	p->id.proto = IPPROTO_ESP;
	p->family = sfam;
	p->mode = XFRM_MODE_TUNNEL;
	p->reqid = s->reqid;
	/* The window lives in XFRMA_REPLAY_ESN_VAL; the kernel wants 0 here then. */
	p->replay_window = 0;
	/* Empty selector, any inner family: the policies check inner addresses. */
	p->flags = XFRM_STATE_AF_UNSPEC | (s->sa->esn ? XFRM_STATE_ESN : 0);
	xfrm_sa_lifetimes(&p->lft, s->soft_s, s->hard_s);
	return 0;
}

/*
 * XFRMA_ALG_*: a fixed kernel struct immediately followed by the key.  The copy on the
 * stack holds key material, so it is wiped whatever happens.
 */
static int xfrm_put_keyed(struct nlmsghdr *nlh, size_t len, uint16_t type, const void *hdr,
			  size_t hdr_len, const uint8_t *key, size_t key_len)
{
	uint8_t buf[sizeof(struct xfrm_algo_aead) + DP_KEY_MAX];
	int rc;

	if (hdr_len > sizeof(struct xfrm_algo_aead) || key_len > DP_KEY_MAX)
		return -EINVAL;
	memcpy(buf, hdr, hdr_len);
	memcpy(buf + hdr_len, key, key_len);
	rc = mnl_attr_put_check(nlh, len, type, hdr_len + key_len, buf) ? 0 : -ENOBUFS;
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

static int xfrm_put_aead(struct nlmsghdr *nlh, size_t len, const struct dp_sa *sa,
			 const struct xfrm_alg *alg)
{
	struct xfrm_algo_aead a = { .alg_key_len = alg->key_bits, .alg_icv_len = alg->icv_bits };

	strncpy(a.alg_name, alg->name, sizeof(a.alg_name) - 1);
	return xfrm_put_keyed(nlh, len, XFRMA_ALG_AEAD, &a, sizeof(a), sa->enc_key,
			      sa->enc_key_len);
}

static int xfrm_put_crypt(struct nlmsghdr *nlh, size_t len, const struct dp_sa *sa,
			  const struct xfrm_alg *alg)
{
	struct xfrm_algo a = { .alg_key_len = alg->key_bits };

	strncpy(a.alg_name, alg->name, sizeof(a.alg_name) - 1);
	return xfrm_put_keyed(nlh, len, XFRMA_ALG_CRYPT, &a, sizeof(a), sa->enc_key,
			      sa->enc_key_len);
}

static int xfrm_put_auth(struct nlmsghdr *nlh, size_t len, const struct dp_sa *sa,
			 const struct xfrm_alg *alg)
{
	struct xfrm_algo_auth a = { .alg_key_len = alg->key_bits, .alg_trunc_len = alg->icv_bits };

	strncpy(a.alg_name, alg->name, sizeof(a.alg_name) - 1);
	return xfrm_put_keyed(nlh, len, XFRMA_ALG_AUTH_TRUNC, &a, sizeof(a), sa->integ_key,
			      sa->integ_key_len);
}

static int xfrm_put_algs(struct nlmsghdr *nlh, size_t len, const struct dp_sa *sa)
{
	struct xfrm_alg enc, integ;
	bool aead;
	int rc;

	if (sa->enc_key_len > DP_KEY_MAX || sa->integ_key_len > DP_KEY_MAX)
		return -EINVAL;
	rc = xfrm_alg_encr(sa, &enc, &aead);
	if (rc < 0)
		return rc;
	if (aead) /* RFC 4106 8 / RFC 7634 2: no separate integrity transform */
		return sa->integ_id == IKEV2_INTEG_NONE ? xfrm_put_aead(nlh, len, sa, &enc)
							: -EINVAL;
	rc = xfrm_alg_integ(sa, &integ);
	if (rc == 0)
		rc = xfrm_put_crypt(nlh, len, sa, &enc);
	if (rc == 0)
		rc = xfrm_put_auth(nlh, len, sa, &integ);
	return rc;
}

/* RFC 3948 2.1: sport/dport as seen from this SA's source to its destination. */
static int xfrm_put_encap(struct nlmsghdr *nlh, size_t len,
			  const struct sockaddr_storage *src, const struct sockaddr_storage *dst)
{
	struct xfrm_encap_tmpl e;
	xfrm_address_t unused;
	uint16_t fam;

	memset(&e, 0, sizeof(e));
	e.encap_type = UDP_ENCAP_ESPINUDP;
	if (xfrm_addr_from_ss(src, &unused, &fam, &e.encap_sport) < 0 ||
	    xfrm_addr_from_ss(dst, &unused, &fam, &e.encap_dport) < 0)
		return -EINVAL;
	if (e.encap_sport == 0 || e.encap_dport == 0)
		return -EINVAL;
	return mnl_attr_put_check(nlh, len, XFRMA_ENCAP, sizeof(e), &e) ? 0 : -ENOBUFS;
}

/* A bitmap window (and ESN when negotiated, RFC 4303 2.2.1) through one attribute. */
static int xfrm_put_replay(struct nlmsghdr *nlh, size_t len, uint32_t window, bool esn)
{
	union {
		struct xfrm_replay_state_esn r;
		uint8_t raw[sizeof(struct xfrm_replay_state_esn) + XFRM_REPLAY_MAX_WINDOW / 8];
	} u;

	if (window > XFRM_REPLAY_MAX_WINDOW)
		window = XFRM_REPLAY_MAX_WINDOW;
	/* The kernel refuses an inbound ESN SA without a window. */
	if (esn && window == 0)
		window = XFRM_ESN_DEFAULT_WINDOW;
	memset(&u, 0, sizeof(u));
	u.r.replay_window = window;
	u.r.bmp_len = (window + 31) / 32;
	return mnl_attr_put_check(nlh, len, XFRMA_REPLAY_ESN_VAL,
				  sizeof(u.r) + u.r.bmp_len * sizeof(uint32_t), &u) ? 0 : -ENOBUFS;
}

int xfrm_msg_sa_add(void *buf, size_t len, uint32_t seq, const struct xfrm_sa_spec *s)
{
	struct nlmsghdr *nlh;
	struct xfrm_usersa_info *p;
	int rc;

	if ((s->reqid & ~XFRM_REQID_MAX) == 0 || s->sa->spi < 256) /* RFC 4303 2.1 */
		return -EINVAL;
	nlh = xfrm_msg_start(buf, len, XFRM_MSG_NEWSA, NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL,
			     seq, sizeof(*p));
	if (nlh == NULL)
		return -ENOBUFS;
	p = mnl_nlmsg_get_payload(nlh);
	rc = xfrm_sa_info(p, s);
	if (rc == 0)
		rc = xfrm_put_algs(nlh, len, s->sa);
	if (rc == 0)
		rc = xfrm_put_replay(nlh, len, s->replay_window, s->sa->esn);
	if (rc == 0 && s->encap)
		rc = xfrm_put_encap(nlh, len, s->src, s->dst);
	return rc;
}

int xfrm_msg_sa_id(void *buf, size_t len, uint32_t seq, uint16_t type,
		   const struct sockaddr_storage *dst, uint32_t spi)
{
	struct nlmsghdr *nlh;
	struct xfrm_usersa_id *id;
	uint16_t fam, port;
	int rc;

	if (type != XFRM_MSG_DELSA && type != XFRM_MSG_GETSA)
		return -EINVAL;
	nlh = xfrm_msg_start(buf, len, type, NLM_F_REQUEST | NLM_F_ACK, seq, sizeof(*id));
	if (nlh == NULL)
		return -ENOBUFS;
	id = mnl_nlmsg_get_payload(nlh);
	rc = xfrm_addr_from_ss(dst, &id->daddr, &fam, &port);
	id->family = fam;
	id->spi = htonl(spi);
	id->proto = IPPROTO_ESP;
	return rc;
}

int xfrm_msg_sa_del_id(void *buf, size_t len, uint32_t seq, const struct xfrm_usersa_id *id)
{
	struct nlmsghdr *nlh = xfrm_msg_start(buf, len, XFRM_MSG_DELSA,
					      NLM_F_REQUEST | NLM_F_ACK, seq, sizeof(*id));

	if (nlh == NULL)
		return -ENOBUFS;
	memcpy(mnl_nlmsg_get_payload(nlh), id, sizeof(*id));
	return 0;
}

/* --- policies --- */

static int xfrm_selector(struct xfrm_selector *sel, const struct dp_prefix *src,
			 const struct dp_prefix *dst)
{
	int rc;

	if (src->family != dst->family)
		return -EINVAL;
	rc = xfrm_addr_from_prefix(src, &sel->saddr);
	if (rc == 0)
		rc = xfrm_addr_from_prefix(dst, &sel->daddr);
	sel->family = src->family;
	sel->prefixlen_s = src->plen;
	sel->prefixlen_d = dst->plen;
	return rc;
}

static int xfrm_put_tmpl(struct nlmsghdr *nlh, size_t len, const struct xfrm_pol_spec *p)
{
	struct xfrm_user_tmpl t;
	uint16_t sfam, dfam, port;

	memset(&t, 0, sizeof(t));
	if (xfrm_addr_from_ss(p->tmpl_src, &t.saddr, &sfam, &port) < 0 ||
	    xfrm_addr_from_ss(p->tmpl_dst, &t.id.daddr, &dfam, &port) < 0 || sfam != dfam)
		return -EINVAL;
	t.id.proto = IPPROTO_ESP;
	t.family = sfam;
	t.reqid = p->reqid;
	t.mode = XFRM_MODE_TUNNEL;
	t.share = XFRM_SHARE_ANY;
	t.optional = 0; /* required: unprotected traffic for the VIP is dropped */
	t.aalgos = ~0u;
	t.ealgos = ~0u;
	t.calgos = ~0u;
	return mnl_attr_put_check(nlh, len, XFRMA_TMPL, sizeof(t), &t) ? 0 : -ENOBUFS;
}

static bool xfrm_dir_ok(uint8_t dir)
{
	return dir == XFRM_POLICY_IN || dir == XFRM_POLICY_OUT || dir == XFRM_POLICY_FWD;
}

int xfrm_msg_policy_add(void *buf, size_t len, uint32_t seq, const struct xfrm_pol_spec *p,
			bool update)
{
	struct nlmsghdr *nlh;
	struct xfrm_userpolicy_info *pi;
	uint16_t type = update ? XFRM_MSG_UPDPOLICY : XFRM_MSG_NEWPOLICY;
	int rc;

	if (!xfrm_dir_ok(p->dir) || (p->reqid & ~XFRM_REQID_MAX) == 0)
		return -EINVAL;
	nlh = xfrm_msg_start(buf, len, type, NLM_F_REQUEST | NLM_F_ACK, seq, sizeof(*pi));
	if (nlh == NULL)
		return -ENOBUFS;
	pi = mnl_nlmsg_get_payload(nlh);
	rc = xfrm_selector(&pi->sel, p->src, p->dst);
	if (rc < 0)
		return rc;
	xfrm_sa_lifetimes(&pi->lft, 0, 0);
	pi->priority = XFRM_PRIO_BASE + 256u - (p->src->plen + p->dst->plen);
	pi->dir = p->dir;
	pi->action = XFRM_POLICY_ALLOW;
	pi->share = XFRM_SHARE_ANY;
	return xfrm_put_tmpl(nlh, len, p);
}

int xfrm_msg_policy_del(void *buf, size_t len, uint32_t seq, const struct xfrm_pol_spec *p)
{
	struct nlmsghdr *nlh;
	struct xfrm_userpolicy_id *id;

	if (!xfrm_dir_ok(p->dir))
		return -EINVAL;
	nlh = xfrm_msg_start(buf, len, XFRM_MSG_DELPOLICY, NLM_F_REQUEST | NLM_F_ACK, seq,
			     sizeof(*id));
	if (nlh == NULL)
		return -ENOBUFS;
	id = mnl_nlmsg_get_payload(nlh);
	id->dir = p->dir;
	return xfrm_selector(&id->sel, p->src, p->dst);
}

int xfrm_msg_policy_del_index(void *buf, size_t len, uint32_t seq, uint32_t index,
			      uint8_t dir)
{
	struct nlmsghdr *nlh;
	struct xfrm_userpolicy_id *id;

	if (index == 0 || !xfrm_dir_ok(dir))
		return -EINVAL;
	nlh = xfrm_msg_start(buf, len, XFRM_MSG_DELPOLICY, NLM_F_REQUEST | NLM_F_ACK, seq,
			     sizeof(*id));
	if (nlh == NULL)
		return -ENOBUFS;
	id = mnl_nlmsg_get_payload(nlh);
	id->index = index;
	id->dir = dir;
	return 0;
}

int xfrm_msg_dump(void *buf, size_t len, uint32_t seq, uint16_t type)
{
	if (type != XFRM_MSG_GETSA && type != XFRM_MSG_GETPOLICY)
		return -EINVAL;
	return xfrm_msg_start(buf, len, type, NLM_F_REQUEST | NLM_F_DUMP, seq, 0)
		? 0 : -ENOBUFS;
}

/* --- moving an SA to new outer addresses --- */

static bool xfrm_move_keeps(uint16_t type)
{
	switch (type) {
	/* Not XFRMA_ALG_AUTH: the kernel reports it beside AUTH_TRUNC, with the default
	 * truncation; AUTH_TRUNC alone says it right. */
	case XFRMA_ALG_AEAD: case XFRMA_ALG_CRYPT: case XFRMA_ALG_AUTH_TRUNC:
	case XFRMA_REPLAY_VAL: case XFRMA_REPLAY_ESN_VAL:
	case XFRMA_SA_EXTRA_FLAGS: case XFRMA_TFCPAD:
		return true;
	default:
		return false;
	}
}

struct xfrm_move_ctx {
	struct nlmsghdr *nlh;
	size_t len;
	int rc;
	bool esn_val;
};

static int xfrm_move_attr(const struct nlattr *attr, void *data)
{
	struct xfrm_move_ctx *m = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (!xfrm_move_keeps(type))
		return MNL_CB_OK;
	m->esn_val |= type == XFRMA_REPLAY_ESN_VAL;
	if (!mnl_attr_put_check(m->nlh, m->len, type, mnl_attr_get_payload_len(attr),
				mnl_attr_get_payload(attr))) {
		m->rc = -ENOBUFS;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int xfrm_msg_sa_move(void *buf, size_t len, uint32_t seq, uint16_t type,
		     const struct nlmsghdr *got, const struct sockaddr_storage *src,
		     const struct sockaddr_storage *dst, bool encap)
{
	struct xfrm_move_ctx m = { .len = len, .rc = 0 };
	struct xfrm_usersa_info p;
	uint16_t sfam, dfam, port;

	if ((type != XFRM_MSG_NEWSA && type != XFRM_MSG_UPDSA) ||
	    got->nlmsg_type != XFRM_MSG_NEWSA || mnl_nlmsg_get_payload_len(got) < sizeof(p))
		return -EINVAL;
	memcpy(&p, mnl_nlmsg_get_payload(got), sizeof(p));
	if (xfrm_addr_from_ss(src, &p.saddr, &sfam, &port) < 0 ||
	    xfrm_addr_from_ss(dst, &p.id.daddr, &dfam, &port) < 0 || sfam != dfam)
		return -EINVAL;
	p.family = sfam;
	m.nlh = xfrm_msg_start(buf, len, type, NLM_F_REQUEST | NLM_F_ACK, seq, sizeof(p));
	if (m.nlh == NULL)
		return -ENOBUFS;
	if (mnl_attr_parse(got, sizeof(p), xfrm_move_attr, &m) < 0)
		return m.rc < 0 ? m.rc : -EINVAL;
	if (m.esn_val) /* the kernel takes a window in one place only */
		p.replay_window = 0;
	memcpy(mnl_nlmsg_get_payload(m.nlh), &p, sizeof(p));
	/* The lifetime counters (and add_time, so the hard limit stays put) carry over. */
	if (!mnl_attr_put_check(m.nlh, len, XFRMA_LTIME_VAL, sizeof(p.curlft), &p.curlft))
		return -ENOBUFS;
	return encap ? xfrm_put_encap(m.nlh, len, src, dst) : 0;
}

/* --- parsers --- */

struct xfrm_ack_ctx {
	char *text;
	size_t len;
};

static int xfrm_ack_attr(const struct nlattr *attr, void *data)
{
	struct xfrm_ack_ctx *a = data;

	if (mnl_attr_get_type(attr) != NLMSGERR_ATTR_MSG)
		return MNL_CB_OK;
	if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0 || a->len == 0)
		return MNL_CB_OK;
	strncpy(a->text, mnl_attr_get_str(attr), a->len - 1);
	a->text[a->len - 1] = '\0';
	return MNL_CB_OK;
}

int xfrm_msg_parse_ack(const struct nlmsghdr *nlh, char *text, size_t text_len)
{
	struct xfrm_ack_ctx a = { text, text_len };
	size_t plen = mnl_nlmsg_get_payload_len(nlh);
	struct nlmsgerr e;
	size_t off = sizeof(e);

	if (text_len > 0)
		text[0] = '\0';
	if (nlh->nlmsg_type != NLMSG_ERROR || plen < sizeof(e))
		return -EBADMSG;
	memcpy(&e, mnl_nlmsg_get_payload(nlh), sizeof(e));
	if (e.error > 0 || e.error < -4095)
		return -EBADMSG;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return e.error;
	/* netlink(7): without NLM_F_CAPPED the request's payload is echoed. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e.msg.nlmsg_len < MNL_NLMSG_HDRLEN)
			return e.error;
		off += MNL_ALIGN(e.msg.nlmsg_len - MNL_NLMSG_HDRLEN);
	}
	if (off <= plen)
		mnl_attr_parse(nlh, (unsigned int)off, xfrm_ack_attr, &a);
	return e.error;
}

int xfrm_msg_parse_expire(const struct nlmsghdr *nlh, struct xfrm_expire *out)
{
	struct xfrm_user_expire ue;

	if (nlh->nlmsg_type != XFRM_MSG_EXPIRE || mnl_nlmsg_get_payload_len(nlh) < sizeof(ue))
		return -EINVAL;
	memcpy(&ue, mnl_nlmsg_get_payload(nlh), sizeof(ue));
	out->reqid = ue.state.reqid;
	out->spi = ntohl(ue.state.id.spi);
	out->hard = ue.hard != 0;
	return 0;
}

struct xfrm_tmpl_ctx {
	uint32_t reqid;
	bool found;
};

static int xfrm_tmpl_attr(const struct nlattr *attr, void *data)
{
	struct xfrm_tmpl_ctx *t = data;
	struct xfrm_user_tmpl ut;

	if (mnl_attr_get_type(attr) != XFRMA_TMPL || t->found)
		return MNL_CB_OK;
	if (mnl_attr_get_payload_len(attr) < sizeof(ut))
		return MNL_CB_ERROR;
	memcpy(&ut, mnl_attr_get_payload(attr), sizeof(ut));
	t->reqid = ut.reqid;
	t->found = true;
	return MNL_CB_OK;
}

int xfrm_msg_parse_acquire(const struct nlmsghdr *nlh, uint32_t *reqid)
{
	struct xfrm_tmpl_ctx t = { 0, false };

	if (nlh->nlmsg_type != XFRM_MSG_ACQUIRE ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct xfrm_user_acquire))
		return -EINVAL;
	if (mnl_attr_parse(nlh, sizeof(struct xfrm_user_acquire), xfrm_tmpl_attr, &t) < 0 ||
	    !t.found)
		return -EINVAL;
	*reqid = t.reqid;
	return 0;
}

static int xfrm_lastused_attr(const struct nlattr *attr, void *data)
{
	uint64_t *last = data;

	if (mnl_attr_get_type(attr) == XFRMA_LASTUSED &&
	    mnl_attr_validate(attr, MNL_TYPE_U64) == 0)
		*last = mnl_attr_get_u64(attr);
	return MNL_CB_OK;
}

int xfrm_msg_parse_sa(const struct nlmsghdr *nlh, struct xfrm_sa_stats *out)
{
	struct xfrm_usersa_info p;

	if (nlh->nlmsg_type != XFRM_MSG_NEWSA || mnl_nlmsg_get_payload_len(nlh) < sizeof(p))
		return -EINVAL;
	memcpy(&p, mnl_nlmsg_get_payload(nlh), sizeof(p));
	memset(out, 0, sizeof(*out));
	out->reqid = p.reqid;
	out->bytes = p.curlft.bytes;
	out->packets = p.curlft.packets;
	out->replay_drops = p.stats.replay;
	out->auth_drops = p.stats.integrity_failed;
	out->id.daddr = p.id.daddr;
	out->id.spi = p.id.spi;
	out->id.family = p.family;
	out->id.proto = p.id.proto;
	if (mnl_attr_parse(nlh, sizeof(p), xfrm_lastused_attr, &out->last_used_s) < 0)
		return -EINVAL;
	return 0;
}

/* The kernel's XFRMA_LASTUSED is wall-clock seconds; the loop's clock is not.  An age
 * older than the loop clock itself maps to 1 (long ago, but not "never"). */
static uint64_t xfrm_last_use_ms(uint64_t last_s, uint64_t now_s, uint64_t now_ms)
{
	uint64_t age_ms;

	if (last_s == 0)
		return 0;
	age_ms = last_s < now_s ? (now_s - last_s) * 1000 : 0;
	return age_ms < now_ms ? now_ms - age_ms : 1;
}

void xfrm_msg_counters(const struct xfrm_sa_stats *in, const struct xfrm_sa_stats *out,
		       uint64_t now_s, uint64_t now_ms, struct dp_counters *c)
{
	uint64_t last_s = in->last_used_s > out->last_used_s ? in->last_used_s : out->last_used_s;

	memset(c, 0, sizeof(*c));
	c->bytes_in = in->bytes;
	c->packets_in = in->packets;
	c->bytes_out = out->bytes;
	c->packets_out = out->packets;
	c->replay_drops = in->replay_drops;
	c->auth_drops = in->auth_drops;
	c->last_use_ms = xfrm_last_use_ms(last_s, now_s, now_ms);
	/* The inbound SA's last use: the kernel counts it only for packets that passed
	 * the ICV and replay checks (xfrm_input), what DPD may take as the peer alive. */
	c->last_in_ms = xfrm_last_use_ms(in->last_used_s, now_s, now_ms);
}

int xfrm_msg_parse_policy(const struct nlmsghdr *nlh, struct xfrm_userpolicy_id *id,
			  uint32_t *reqid)
{
	struct xfrm_tmpl_ctx t = { 0, false };
	struct xfrm_userpolicy_info p;

	if (nlh->nlmsg_type != XFRM_MSG_NEWPOLICY || mnl_nlmsg_get_payload_len(nlh) < sizeof(p))
		return -EINVAL;
	memcpy(&p, mnl_nlmsg_get_payload(nlh), sizeof(p));
	if (mnl_attr_parse(nlh, sizeof(p), xfrm_tmpl_attr, &t) < 0)
		return -EINVAL;
	memset(id, 0, sizeof(*id));
	id->sel = p.sel;
	id->index = p.index;
	id->dir = p.dir;
	*reqid = t.reqid;
	return 0;
}
