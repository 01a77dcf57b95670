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

/* 0 if the ICMPv6 echo request at icmp6 (payload length plen) is answered, else the reason. */
static __always_inline int icmp6_check_echo(struct cursor *c, struct eth_hdr *eth,
					    struct ipv6hdr *ip6, __u32 plen,
					    const volatile __u8 *our_mac)
{
	struct icmp6hdr *icmp6 = c->pos;

	if (!mac_equal(eth->h_dest, our_mac))
		return PONG_R_L2_DST;
	if ((void *)(icmp6 + 1) > c->end || plen < sizeof(*icmp6))
		return PONG_R_TRUNCATED;
	if (!ipv6_is_unicast(&ip6->daddr))
		return PONG_R_IP6_DST;
	if (!ipv6_is_unicast(&ip6->saddr) || ipv6_is_v4mapped(&ip6->saddr))
		return PONG_R_IP6_SRC;   /* Linux drops IPv4-mapped sources too */
	if (icmp6->icmp6_code != 0)
		return PONG_R_ICMP_CODE;
	return 0;
}

/*
 * Request -> reply: addresses swapped (the pseudo-header sum does not change),
 * hop limit set, type 128 -> 129 with the checksum updated incrementally.
 */
static __always_inline void icmp6_echo_reply(struct ipv6hdr *ip6, struct icmp6hdr *icmp6, __u8 hop_limit)
{
	struct in6_addr addr = ip6->saddr;
	__be16 old_word, new_word;

	ip6->saddr = ip6->daddr;
	ip6->daddr = addr;
	ip6->hop_limit = hop_limit;

	old_word = *(__be16 *)icmp6;              /* type and code share a word */
	icmp6->icmp6_type = ICMPV6_ECHO_REPLY;
	new_word = *(__be16 *)icmp6;
	icmp6->icmp6_cksum = csum_replace2(icmp6->icmp6_cksum, old_word, new_word);
}

#endif
