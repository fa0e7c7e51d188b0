/* SPDX-License-Identifier: ISC */
/* Addresses and prefixes from text for tests (the test fails on a bad literal). */
#ifndef IKEGW_TEST_ADDR_H
#define IKEGW_TEST_ADDR_H

#include <stdint.h>
#include <sys/socket.h>

#include "ikegw/dataplane.h"

void ta_ss4(struct sockaddr_storage *ss, const char *ip, uint16_t port);
void ta_ss6(struct sockaddr_storage *ss, const char *ip, uint16_t port);
void ta_pfx(struct dp_prefix *p, int family, const char *ip, uint8_t plen);

#endif
