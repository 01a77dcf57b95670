/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How every function of the datapath answers: three shapes, no others.
 *
 *   a verdict (int)  what decides about a frame: parse_*, *_check_*,
 *                    *_admit*, admit, answer_*, ipv6_upper, and the one
 *                    writer that can fail (ndp_reply: it resizes the frame).
 *                      PONG_GO_ON (0)  nothing refuses it: go on (from
 *                                      answer_*: answered, the frame is now
 *                                      its reply);
 *                      > 0             a refusal reason (pong.h): the frame
 *                                      passes untouched (rate_limited: it is
 *                                      dropped);
 *                      PONG_NOT_OURS   not a frame xdp-pong answers: it passes
 *                                      untouched;
 *                      PONG_DROP       a frame already changed that cannot be
 *                                      answered: dropped.
 *   a truth (int)    a question, 1 or 0: *_is_*, *_ok, *_equal, *_has,
 *                    *_holds, own_address_*, own_net_*, kind_*, gcra_*,
 *                    fast_checks_on, and the fast checks *_fast_* ("the
 *                    common request, every rule met at once").
 *   void             a writer that cannot fail (the other *_reply, *_copy,
 *                    *_swap, claim_* that record).
 * Arithmetic (checksums, hashes, bucket indexes) returns its value. What a
 * function finds besides (a header, an EtherType, a MAC) goes out through a
 * pointer parameter, to be used only when the verdict is PONG_GO_ON; a
 * parser also moves the cursor past what it parsed.
 */
#ifndef PONG_LIB_VERDICT_H
#define PONG_LIB_VERDICT_H

#include "../pong.h"

#define PONG_GO_ON     0
#define PONG_NOT_OURS  (-1)
#define PONG_DROP      (-2)

#endif
