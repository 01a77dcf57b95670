/* SPDX-License-Identifier: GPL-2.0 */
/* ICMPv4 echo: classify a request and turn it into a reply in place. */
#ifndef PONG_LIB_ICMP_H
#define PONG_LIB_ICMP_H

#include <linux/types.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "verdict.h"
#include "csum.h"
#include "eth.h"

/*
 * The ICMP header (RFC 792), declared here: <linux/icmp.h> pulls in
 * <linux/if.h> and through it the C library's <sys/socket.h>, which a BPF
 * object must not depend on.
 */
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO      8

struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 sequence;
};

/*
 * The ICMP message at the cursor, with room bytes of it inside the IPv4
 * packet (total length less the header): 0 if it is an echo request we
 * answer, with *icmpp set; otherwise the refusal reason.
 */
static __always_inline int icmp4_check_echo(struct cursor *c, struct icmphdr **icmpp,
					    __u32 room)
{
	struct icmphdr *icmp = c->pos;

	if ((void *)(icmp + 1) > c->end || room < sizeof(*icmp))
		return PONG_R_TRUNCATED;
	if (icmp->type != ICMP_ECHO)
		return PONG_R_ICMP_TYPE;
	if (icmp->code != 0)
		return PONG_R_ICMP_CODE;
	*icmpp = icmp;
	return 0;
}

/*
 * Rewrite an echo request into its reply: addresses swapped (checksum
 * neutral), TTL set, type 8 -> 0. Both checksums are updated incrementally,
 * so a request with a wrong checksum gets a reply with the same error.
 */
static __always_inline void icmp4_echo_reply(struct iphdr *iph, struct icmphdr *icmp, __u8 ttl)
{
	__be32 addr = iph->saddr;
	__be16 old_word, new_word;
	__sum16 check;

	iph->saddr = iph->daddr;
	iph->daddr = addr;

	old_word = *(__be16 *)&iph->ttl;          /* ttl and protocol share a word */
	iph->ttl = ttl;
	new_word = *(__be16 *)&iph->ttl;
	iph->check = csum_replace2(iph->check, old_word, new_word);

	old_word = *(__be16 *)icmp;               /* type and code share a word */
	icmp->type = ICMP_ECHOREPLY;
	new_word = *(__be16 *)icmp;
	check = csum_replace2(icmp->checksum, old_word, new_word);
	/*
	 * 0x0000 and 0xffff are both "zero" in one's complement, and equally
	 * valid for any message with a non-zero byte. For an all-zero message
	 * (id, sequence and payload zero) only 0xffff is, and that is exactly
	 * when a valid request makes eqn. 3 yield 0x0000. So write 0xffff.
	 */
	icmp->checksum = check ? check : 0xffff;
}

#endif
