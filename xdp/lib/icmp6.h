/* SPDX-License-Identifier: GPL-2.0 */
/* ICMPv6 echo: classify a request and turn it into a reply in place. */
#ifndef PONG_LIB_ICMP6_H
#define PONG_LIB_ICMP6_H

#include <linux/types.h>
#include <linux/icmpv6.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include "verdict.h"
#include "csum.h"
#include "eth.h"
#include "ipv6.h"

/*
 * The rules one by one, each refusal named: the ICMPv6 echo request at the
 * cursor (ip6's fixed header in the frame; ext: extension headers came
 * first) is one we answer: ipv6_check(), then its own rules. PONG_GO_ON
 * means its header is right after ip6's.
 */
static __always_inline int icmp6_check_echo(struct cursor *c, const struct eth_hdr *eth,
					    const struct ipv6hdr *ip6, int ext,
					    const volatile __u8 *our_mac)
{
	struct icmp6hdr *icmp6 = c->pos;
	__u32 plen;
	int verdict = ipv6_check(c, eth, ip6, ext, &plen);

	if (verdict)
		return verdict;

	if (!mac_equal(eth->h_dest, our_mac))
		return PONG_R_L2_DST;
	if ((void *)(icmp6 + 1) > c->end || plen < sizeof(*icmp6))
		return PONG_R_TRUNCATED;
	if (!ipv6_is_unicast(&ip6->daddr))
		return PONG_R_IP6_DST;
	if (!ipv6_is_unicast(&ip6->saddr) || ipv6_is_v4mapped(&ip6->saddr))
		return PONG_R_IP6_SRC;   /* Linux drops IPv4-mapped sources too */
	return PONG_GO_ON;          /* any code: Linux answers it, and keeps it in the reply */
}

/*
 * The fast check: truth, the IPv6 packet at ip6 (its fixed header within
 * the frame) is an ICMPv6 echo request that every rule (ipv6_check(),
 * icmp6_check_echo()) answers: no extension header, lengths right, to our MAC from a unicast
 * MAC, unicast addresses (no IPv4-mapped source), type 128 (any code).
 */
static __always_inline int icmp6_fast_echo(const struct cursor *c, const struct eth_hdr *eth,
					   const struct ipv6hdr *ip6, const volatile __u8 *our_mac)
{
	const struct icmp6hdr *icmp6 = (const void *)(ip6 + 1);
	__u32 plen;

	if ((const void *)(icmp6 + 1) > c->end || ip6->nexthdr != IPPROTO_ICMPV6 || ip6->version != 6 ||
	    icmp6->icmp6_type != ICMPV6_ECHO_REQUEST)
		return 0;
	plen = bpf_ntohs(ip6->payload_len);
	if (plen < sizeof(*icmp6) || (const void *)(ip6 + 1) + plen > c->end)
		return 0;
	return ipv6_is_unicast(&ip6->daddr) && ipv6_is_unicast(&ip6->saddr) && !ipv6_is_v4mapped(&ip6->saddr) &&
	       mac_equal(eth->h_dest, our_mac) && mac_is_station(eth->h_source);
}

/*
 * The flow label of the reply to the request at ip6, as Linux labels it
 * (net.ipv6.auto_flowlabels, on by default): a hash of the reply's
 * addresses, keyed by the seed (random per load), the same for every reply
 * between two addresses whatever label the request carried. Nothing
 * stored, nothing copied.
 */
static __always_inline __be32 icmp6_reply_flow(const struct ipv6hdr *ip6, __u32 seed)
{
	const __u64 *from = (const __u64 *)&ip6->daddr, *to = (const __u64 *)&ip6->saddr;
	__u64 h = (from[0] ^ from[1] ^ seed) * 0x9e3779b97f4a7c15ull;

	h = (h ^ to[0] ^ to[1]) * 0xc2b2ae3d27d4eb4full;
	return bpf_htonl((__u32)(h >> 44));                /* the top 20 bits */
}

/*
 * Request -> reply, sent back from our MAC: addresses swapped (the
 * pseudo-header sum does not change), traffic class kept, flow label
 * `flow` (icmp6_reply_flow()), hop limit set, type 128 -> 129 (the code
 * kept) with the checksum updated incrementally.
 */
static __always_inline void icmp6_echo_reply(struct eth_hdr *eth, struct ipv6hdr *ip6, struct icmp6hdr *icmp6,
					     const volatile __u8 *our_mac, __u8 hop_limit, __be32 flow)
{
	/* type and code share a word: read once, written whole (a byte store read back would stall) */
	__be16 old_type = *(__be16 *)icmp6;
	__be16 new_type = (old_type & bpf_htons(0x00ff)) | bpf_htons(ICMPV6_ECHO_REPLY << 8);

	*(__be32 *)ip6 = (*(__be32 *)ip6 & bpf_htonl(0xfff00000)) | flow;   /* not in the checksum */
	ipv6_swap(&ip6->saddr, &ip6->daddr);
	ip6->hop_limit = hop_limit;
	*(__be16 *)icmp6 = new_type;
	/* eqn. 3 with m' = m plus one in the type byte (128 -> 129): ~m + m' = 0xffff + that one */
	icmp6->icmp6_cksum = (__sum16)~csum_fold((__u16)~icmp6->icmp6_cksum + 0xffff + bpf_htons(1 << 8));
	eth_reply(eth, our_mac);
}

#endif
