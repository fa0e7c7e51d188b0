/* SPDX-License-Identifier: ISC */
#include <string.h>

#include "hex.h"

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t test_unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t len = strlen(hex), n = len / 2;

	if (len % 2 || n > cap)
		return (size_t)-1;
	for (size_t i = 0; i < n; i++) {
		int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return (size_t)-1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return n;
}
