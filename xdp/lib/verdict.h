/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The verdict vocabulary of the datapath: what a handler answers about a
 * frame. PONG_REPLY (0) to answer it, PONG_NOT_OURS to pass it on as not
 * ours, PONG_DROP for a frame already changed that cannot be answered,
 * PONG_REPLY_DONE for a reply already written in full, or a
 * refusal reason from pong.h (> 0; the frame passes untouched). Every
 * header that returns a verdict includes this one.
 */
#ifndef PONG_LIB_VERDICT_H
#define PONG_LIB_VERDICT_H

#include "../pong.h"

#define PONG_REPLY     0
#define PONG_NOT_OURS  (-1)
#define PONG_DROP      (-2)   /* a frame already resized that cannot be answered */
#define PONG_REPLY_DONE (-3)  /* a reply already written in full (the NA of the fast path) */

#endif
