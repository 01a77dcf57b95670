/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ICMPv4 echo: classify a request and turn it into a reply in place; and
 * the timestamp request (--answer timestamp), likewise.
 */
#ifndef PONG_LIB_ICMP_H
#define PONG_LIB_ICMP_H

#include <linux/types.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "verdict.h"
#include "csum.h"
#include "eth.h"
#include "ipv4.h"

/*
 * The ICMP header (RFC 792), declared here: <linux/icmp.h> pulls in
 * <linux/if.h> and through it the C library's <sys/socket.h>, which a BPF
 * object must not depend on.
 */
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO      8
#define ICMP_TIMESTAMP      13
#define ICMP_TIMESTAMPREPLY 14
#define ICMP_TS_MIN    12     /* a timestamp request Linux answers: header and originate time */

struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 sequence;
};

/*
 * The rules one by one, each refusal named: the IPv4 packet at the cursor
 * (its header known to be in the frame, protocol ICMP) is an echo request
 * we answer, sent to our MAC (eth.h, ipv4.h, then the ICMP header within
 * the packet's total length): PONG_GO_ON with *iphp and *icmpp set.
 */
static __always_inline int icmp4_check_echo(struct xdp_md *ctx, struct cursor *c, const struct eth_hdr *eth,
					    const volatile __u8 *our_mac, struct iphdr **iphp,
					    struct icmphdr **icmpp)
{
	struct iphdr *iph;
	struct icmphdr *icmp;
	int verdict = eth_check_unicast(eth, our_mac);

	if (!verdict)
		verdict = parse_ipv4(ctx, c, &iph);
	if (verdict)
		return verdict;
	icmp = c->pos;
	if ((void *)(icmp + 1) > c->end || bpf_ntohs(iph->tot_len) - iph->ihl * 4 < sizeof(*icmp))
		return PONG_R_TRUNCATED;
	if (icmp->type != ICMP_ECHO)
		return PONG_R_ICMP_TYPE;   /* any code: Linux answers it, and keeps it in the reply */
	*iphp = iph;
	*icmpp = icmp;
	return PONG_GO_ON;
}

/*
 * The identification of the reply to an echo (or timestamp) request:
 * ipv4_reply_id() of its ICMP identifier and sequence number. A request
 * sent again gets the same one.
 */
static __always_inline __be16 icmp4_reply_id(const struct iphdr *iph, const struct icmphdr *icmp, __u32 seed)
{
	return ipv4_reply_id(iph->saddr, iph->daddr, icmp->id, icmp->sequence, seed);
}

/*
 * Rewrite an echo request into its reply, sent back from our MAC, as Linux
 * builds it: addresses swapped (checksum neutral), TTL set, identification
 * id (icmp4_reply_id(): not the request's), DF cleared (Linux sends echo
 * replies with DF clear, which is why each needs an identification of its
 * own), type 8 -> 0, options as ipv4_fill_options() leaves them. Both
 * checksums are updated incrementally, so a request with a wrong checksum
 * gets a reply with the same error.
 */
static __always_inline void icmp4_echo_reply(struct xdp_md *ctx, struct eth_hdr *eth, struct iphdr *iph,
					     struct icmphdr *icmp, const volatile __u8 *our_mac, __u8 ttl, __be16 id)
{
	/* type and code share a word: read once and written whole (a byte store read back would stall) */
	__be16 old_type = *(__be16 *)icmp;
	__be16 new_type = old_type & bpf_htons(0x00ff);   /* type 8 -> 0, the code kept, as Linux keeps it */
	__sum16 check;

	if (iph->ihl > 5)      /* record route, timestamp: before the addresses swap */
		ipv4_fill_options(ctx, (__u32)((void *)iph - (void *)eth));
	ipv4_reply_in_place(iph, ttl, id);
	*(__be16 *)icmp = new_type;
	/* eqn. 3 with m' = m less the type 8 (words as they sit in memory): ~m + m' = 0xffff - type */
	check = (__sum16)~csum_fold((__u16)~icmp->checksum + 0xffff - bpf_htons(ICMP_ECHO << 8));
	/*
	 * 0x0000 and 0xffff are both "zero" in one's complement, and equally
	 * valid for any message with a non-zero byte. For an all-zero message
	 * (id, sequence and payload zero) only 0xffff is, and that is exactly
	 * when a valid request makes eqn. 3 yield 0x0000. So write 0xffff.
	 */
	icmp->checksum = check ? check : 0xffff;
	eth_reply(eth, our_mac);
}

/*
 * The fast check: truth, the IPv4 packet at the cursor is an echo request
 * that every rule of icmp4_check_echo() answers: sent to our MAC from a
 * unicast MAC, no options or fragments, lengths right, addresses of classes
 * we answer, type 8 (any code); its ICMP header follows the 20-byte IPv4 one.
 * The common frame passes with a few combined tests; any other takes the
 * rules one by one, which name the reason it is refused.
 */
static __always_inline int icmp4_fast_echo(const struct cursor *c, const struct eth_hdr *eth,
					   const volatile __u8 *our_mac)
{
	const struct iphdr *iph = c->pos;
	const struct icmphdr *icmp = (const void *)(iph + 1);
	__u32 tot;

	if ((const void *)(icmp + 1) > c->end)
		return 0;
	if (*(const __u8 *)iph != 0x45 || iph->protocol != IPPROTO_ICMP ||
	    icmp->type != ICMP_ECHO ||
	    (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET)))
		return 0;
	tot = bpf_ntohs(iph->tot_len);
	if (tot < sizeof(*iph) + sizeof(*icmp) || (const void *)iph + tot > c->end)
		return 0;
	return ipv4_src_ok(iph->saddr) && ipv4_dst_ok(iph->daddr) &&
	       mac_equal(eth->h_dest, our_mac) && mac_is_station(eth->h_source);
}

/*
 * Truth: the IPv4 packet at the cursor (its fixed header in the frame) is
 * an ICMP timestamp request, by its type alone (its rules follow).
 */
static __always_inline int icmp4_is_timestamp(const struct cursor *c)
{
	const struct iphdr *iph = c->pos;
	const __u8 *type;

	if ((const void *)(iph + 1) > c->end)
		return 0;
	type = (const __u8 *)iph + iph->ihl * 4;
	return (const void *)(type + 1) <= c->end && *type == ICMP_TIMESTAMP;
}

/*
 * The timestamp request at the cursor (an IPv4 packet of plen bytes of
 * ICMP), checked as Linux's icmp_rcv() and icmp_timestamp() check it: the
 * header and the originate time within it (else truncated), a valid
 * checksum (else l4_checksum; Linux drops those two), and a clock to
 * answer with (else icmp_type, as before --answer timestamp: a kernel
 * without CLOCK_TAI for BPF, whose Linux would answer).
 */
static __always_inline int icmp4_check_timestamp(struct xdp_md *ctx, const struct cursor *c, __u32 plen)
{
	const struct icmphdr *icmp = c->pos;

	if ((void *)(icmp + 1) > c->end || plen < ICMP_TS_MIN)
		return PONG_R_TRUNCATED;
	if (csum_frame(ctx, (__u32)(c->pos - (void *)(long)ctx->data), plen, 0) != 0xffff)
		return PONG_R_L4_CHECKSUM;
	if (!clock_known())
		return PONG_R_ICMP_TYPE;
	return PONG_GO_ON;
}

/*
 * The timestamp request whose 20-byte IPv4 header is l3 bytes into the
 * frame (checked) becomes its reply, in place, as Linux's icmp_timestamp()
 * answers (RFC 792): the frame cut (or grown) to exactly 20 bytes of ICMP,
 * type 14, code 0, identifier, sequence number and originate time kept,
 * receive and transmit times both the time of day now in milliseconds
 * since midnight UT (clock.h: from the kernel's real-time clock); the IP
 * header as an echo reply's (TOS kept, DF clear, identification
 * icmp4_reply_id(), ttl, from the address asked). PONG_GO_ON, or no_room
 * (the frame unchanged).
 */
static __always_inline int icmp4_timestamp_reply(struct xdp_md *ctx, __u32 l3, const volatile __u8 *our_mac,
						 __u8 ttl, __u32 seed)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct iphdr *iph = data + (l3 & 0x1f);
	struct icmphdr *icmp = (void *)(iph + 1);
	__u32 want = l3 + sizeof(*iph) + sizeof(*icmp) + 12;
	__be32 saddr, daddr, orig, now, *times;
	__be16 id, ident, seq;
	__u8 tos;

	if (l3 > ETH_L2_MAX || (void *)icmp + ICMP_TS_MIN > end)
		return PONG_NOT_OURS;       /* cannot happen: checked by the classifier */
	id = icmp4_reply_id(iph, icmp, seed);
	ident = icmp->id;
	seq = icmp->sequence;
	orig = *(__be32 *)(icmp + 1);
	if ((int)want != (int)(end - data) && bpf_xdp_adjust_tail(ctx, (int)want - (int)(end - data)))
		return PONG_R_NO_ROOM;      /* the frame is unchanged when the helper fails */
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	iph = data + (l3 & 0x1f);
	icmp = (void *)(iph + 1);
	times = (void *)(icmp + 1);
	if (data + sizeof(struct eth_hdr) > end || (void *)(times + 3) > end)
		return PONG_DROP;
	saddr = iph->saddr;
	daddr = iph->daddr;
	tos = iph->tos;
	now = clock_ms_of_day();
	ipv4_write(iph, tos, sizeof(*iph) + sizeof(*icmp) + 12, id, 0, ttl, IPPROTO_ICMP, daddr, saddr);
	*(__be16 *)icmp = bpf_htons(ICMP_TIMESTAMPREPLY << 8);
	icmp->id = ident;
	icmp->sequence = seq;
	times[0] = orig;
	times[1] = now;
	times[2] = now;
	icmp->checksum = 0;
	icmp->checksum = (__sum16)~csum_fold64((__u64)bpf_htons(ICMP_TIMESTAMPREPLY << 8) + ident + seq +
					       (orig & 0xffff) + (orig >> 16) + 2 * ((__u64)(now & 0xffff) + (now >> 16)));
	eth_reply(data, our_mac);
	return PONG_GO_ON;
}

#endif
