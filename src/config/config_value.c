/* SPDX-License-Identifier: ISC */
/* Config scalar converters: pure string -> value functions (numbers, durations,
 * addresses, prefixes, DNS names, DNs), no YAML and no allocation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "config_internal.h"

/* ---- scalar converters (pure) ------------------------------------------------- */

int cfg_parse_uint(const char *s, unsigned long long *v)
{
	size_t n = strlen(s);

	if (n == 0 || n > 12 || strspn(s, "0123456789") != n)
		return -EINVAL;
	*v = strtoull(s, NULL, 10);
	return 0;
}

/* "30s", "10m", "4h", "1d", or plain seconds. */
int cfg_parse_duration(const char *s, unsigned long long *v)
{
	static const char units[] = "smhd";
	static const unsigned mult[] = { 1, 60, 3600, 86400 };
	size_t n = strlen(s), digits = strspn(s, "0123456789");
	const char *u;

	if (digits == 0 || digits > 12 || n > digits + 1)
		return -EINVAL;
	*v = strtoull(s, NULL, 10);
	if (n == digits)
		return 0;
	u = strchr(units, s[digits]);
	if (!u || !*u)
		return -EINVAL;
	*v *= mult[u - units];
	return 0;
}

int cfg_parse_ip(const char *s, struct config_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, &ip->u.v4) == 1) {
		ip->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &ip->u.v6) == 1) {
		ip->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

/* Clear the bits past len; returns 1 if any was set. */
static int mask_host_bits(struct config_ip *ip, unsigned len)
{
	uint8_t *b = ip->family == AF_INET ? (uint8_t *)&ip->u.v4 : ip->u.v6.s6_addr;
	unsigned total = ip->family == AF_INET ? 4 : 16, had = 0;

	for (unsigned i = 0; i < total; i++) {
		unsigned keep = len >= 8 * (i + 1) ? 8 : len > 8 * i ? len - 8 * i : 0;
		uint8_t m = keep ? (uint8_t)(0xff << (8 - keep)) : 0;
		had |= b[i] & (uint8_t)~m;
		b[i] &= m;
	}
	return had != 0;
}

/* "ADDRESS/LEN" with no host bits; on error a one-line reason in why. */
int cfg_parse_prefix(const char *s, struct config_prefix *out, char *why, size_t whylen)
{
	const char *slash = strchr(s, '/');
	char addr[64], fixed[INET6_ADDRSTRLEN + 8];
	unsigned long long len;

	if (!slash || (size_t)(slash - s) >= sizeof(addr)) {
		snprintf(why, whylen, "'%s' is not a CIDR prefix (ADDRESS/LENGTH)", s);
		return -EINVAL;
	}
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	memset(out, 0, sizeof(*out));
	if (cfg_parse_ip(addr, &out->addr) < 0) {
		snprintf(why, whylen, "'%s' is not a valid IP address", addr);
		return -EINVAL;
	}
	if (cfg_parse_uint(slash + 1, &len) < 0 || len > (out->addr.family == AF_INET ? 32u : 128u)) {
		snprintf(why, whylen, "'%s' has an invalid prefix length", s);
		return -EINVAL;
	}
	out->len = (uint8_t)len;
	if (mask_host_bits(&out->addr, out->len)) {
		cfg_prefix_format(out, fixed, sizeof(fixed));
		snprintf(why, whylen, "%s has host bits set; did you mean %s?", s, fixed);
		return -EINVAL;
	}
	return 0;
}

/* RFC 1035 2.3.1 host names: labels of letters, digits, hyphens; 253 octets. */
int cfg_valid_dns_name(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		char ch = s[i];
		if (ch == '.' || ch == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return 0;
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			   (ch >= '0' && ch <= '9') || (ch == '-' && label > 0)) {
			label++;
		} else {
			return 0;
		}
	}
	return 1;
}

/* "C=GB, O=Corp, CN=vpn": every comma-separated part is TYPE=value. */
int cfg_valid_dn(const char *s)
{
	const char *part = s;

	while (*part) {
		size_t n = strcspn(part, ",");
		const char *eq = memchr(part, '=', n);
		while (*part == ' ')
			part++, n--;
		if (!eq || eq == part || (size_t)(eq - part) + 1 >= n)
			return 0;
		part += n;
		if (*part == ',')
			part++;
	}
	return 1;
}

int cfg_hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

