/* SPDX-License-Identifier: ISC */
/* Test vectors are written in hex; one decoder for every test. */
#ifndef IKEGW_TEST_HEX_H
#define IKEGW_TEST_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Decode hex (even length, no separators) into out; the byte count, or (size_t)-1 when the
 * text is not hex or does not fit in cap. */
size_t test_unhex(const char *hex, uint8_t *out, size_t cap);

#endif
