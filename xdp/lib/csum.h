/* SPDX-License-Identifier: GPL-2.0 */
/* Internet checksum helpers: incremental update (RFC 1624, eqn. 3). */
#ifndef PONG_LIB_CSUM_H
#define PONG_LIB_CSUM_H

#include <linux/types.h>
#include <bpf/bpf_helpers.h>

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

#endif
