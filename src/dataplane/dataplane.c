/* SPDX-License-Identifier: ISC */
#include <openssl/crypto.h>

#include "ikegw/dataplane.h"

void dp_child_wipe(struct dp_child *c)
{
	OPENSSL_cleanse(&c->in, sizeof(c->in));
	OPENSSL_cleanse(&c->out, sizeof(c->out));
}
