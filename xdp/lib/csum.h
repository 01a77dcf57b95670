/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internet checksum helpers: incremental update (RFC 1624, eqn. 3), and the
 * sum of a span of the frame (csum_frame()) for what must be summed whole.
 */
#ifndef PONG_LIB_CSUM_H
#define PONG_LIB_CSUM_H

#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/*
 * Checksum after one 16-bit word of the covered data changed from old to new:
 * HC' = ~(~HC + ~m + m'). The one's complement sum does not depend on byte
 * order, so all three values may be passed as they sit in the packet. An
 * invalid checksum stays invalid by exactly the same amount.
 */
static __always_inline __sum16 csum_replace2(__sum16 check, __be16 old, __be16 new)
{
	__u32 sum = (__u16)~check + (__u16)~old + (__u16)new;

	return (__sum16)~csum_fold(sum);
}

/*
 * One's complement sum of n 16-bit words at p, unfolded (n is a constant and
 * small enough that the 32-bit sum cannot overflow). For data on the stack.
 */
static __always_inline __u32 csum_words(const void *p, const int n)
{
	const __u16 *w = p;
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < n; i++)
		sum += w[i];
	return sum;
}

/*
 * A one's complement sum taken 32 bits at a time into 64 (the carries pile
 * up above bit 32), folded down to 16 bits at the end: half the loads and
 * adds of a 16-bit sum, the same result.
 */
static __always_inline __u16 csum_fold64(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	return csum_fold((__u32)sum);
}

/*
 * CHECKSUM_PARTIAL: a UDP or TCP checksum a sender's checksum offload has
 * left for the NIC to finish holds the pseudo-header's sum, folded, not yet
 * complemented. That is what a veth passes on from a local socket, and the
 * kernel accepts it (the skb says so; XDP cannot see that). The checks in
 * udp.h and tcp.h accept it only on a veth (pong_cfg.partial_csum, set by
 * the loader from the driver's name): a frame from a NIC is never partial,
 * and there anyone can write that value into a frame whose data is garbage,
 * which Linux would drop.
 */

#define CSUM_FRAME_MAX   9216   /* the longest span csum_frame() sums (a jumbo frame's) */
#define CSUM_FRAME_CHUNK 256    /* bytes per bpf_csum_diff() call in its loop */

/*
 * One piece of csum_frame(): the n bytes (a multiple of 4, at most 128)
 * that bit n of len stands for, at len with its lower bits cleared: where
 * each piece lies does not depend on the others, so the verifier's paths
 * through them join again.
 */
#define CSUM_FRAME_PIECE(n)                                                             \
	if (len & (n)) {                                                               \
		p = data + off + (len & ~(2 * (n) - 1));                               \
		if (p + (n) > end)                                                     \
			return -1;                                                     \
		sum = bpf_csum_diff(0, 0, (__be32 *)p, (n), (__u32)csum_fold64(sum)); \
	}

/*
 * The one's complement sum of len bytes of the frame from off, plus seed (a
 * sum of words as they sit in memory: a pseudo-header's), folded to 16 bits
 * as it sits in memory: 0xffff over a span with a valid checksum in it.
 * -1 if the span is not all in the frame or longer than CSUM_FRAME_MAX.
 * bpf_csum_diff() (the kernel's csum_partial()) 256 bytes at a time, then
 * one piece per bit of len down to 4 bytes; the last 2 and 1 by hand. A
 * global function: the verifier checks its loop once.
 */
__noinline int csum_frame(struct xdp_md *ctx, __u32 off, __u32 len, __u32 seed)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u64 sum = seed;
	void *p;

	if (off > 0x3fff || len > CSUM_FRAME_MAX)
		return -1;
	for (__u32 i = 0; i < CSUM_FRAME_MAX / CSUM_FRAME_CHUNK; i++) {
		if ((i + 1) * CSUM_FRAME_CHUNK > len)
			break;
		p = data + off + i * CSUM_FRAME_CHUNK;
		if (p + CSUM_FRAME_CHUNK > end)
			return -1;
		sum = bpf_csum_diff(0, 0, (__be32 *)p, CSUM_FRAME_CHUNK, (__u32)csum_fold64(sum));
	}
	CSUM_FRAME_PIECE(128)
	CSUM_FRAME_PIECE(64)
	CSUM_FRAME_PIECE(32)
	CSUM_FRAME_PIECE(16)
	CSUM_FRAME_PIECE(8)
	CSUM_FRAME_PIECE(4)
	if (len & 2) {
		p = data + off + (len & ~3u);
		if (p + 2 > end)
			return -1;
		sum += *(__u16 *)p;
	}
	if (len & 1) {
		p = data + off + (len & ~1u);
		if (p + 1 > end)
			return -1;
		sum += bpf_htons((__u16)*(__u8 *)p << 8);   /* the odd byte is the high half of a word */
	}
	return csum_fold64(sum);
}

#endif
