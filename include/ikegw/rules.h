/* SPDX-License-Identifier: ISC */
/*
 * Which payloads each exchange may carry (RFC 7296 1.2-1.5, 2.21; RFC 4739, RFC 5998,
 * RFC 6023), checked on an already decoded struct ike_msg so the decoder stays generic.
 * Call it after the inner chain of SK/SKF has been decoded (codec_decode_chain()).
 */
#ifndef IKEGW_RULES_H
#define IKEGW_RULES_H

#include "ikegw/codec.h"

/*
 * 0, or -EBADMSG with err->notify = INVALID_SYNTAX and a reason: an unknown exchange
 * type, a payload the exchange does not allow, a second SA/KE/Nonce/IDi/IDr/AUTH/TSi/
 * TSr/CP/EAP, a missing required payload (waived for responses that carry an error
 * notify, or IKE_SA_INIT's COOKIE), SA/TSi/TSr not all present or all absent where that
 * applies, plaintext where SK is required (and the reverse), SA proposals whose
 * protocol/SPI size does not fit the exchange.
 */
int rules_check(const struct ike_msg *msg, struct codec_err *err);

#endif
