/* SPDX-License-Identifier: GPL-2.0 */
/*
 * UDP (--answer udp): a datagram for an address nobody listens on gets what
 * Linux sends for a closed port, an ICMP port unreachable (IPv4 type 3
 * code 3, RFC 1122 3.2.2.1; IPv6 type 1 code 4, RFC 4443 3.1) quoting as
 * much of the datagram as fits in 576 / 1280 bytes (RFC 1812 4.3.2.3, RFC
 * 4443 2.4(c)), from the address asked. This is what ends a traceroute,
 * tracepath or mtr -u at its target.
 */
#ifndef PONG_LIB_UDP_H
#define PONG_LIB_UDP_H

#include <linux/bpf.h>
#include <linux/types.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "verdict.h"
#include "csum.h"
#include "eth.h"
#include "ipv4.h"
#include "icmp.h"
#include "ipv6.h"
#include "icmp6.h"

#define UDP_UNREACH4_ROOM 576    /* an IPv4 ICMP error is at most this long, headers included */
#define UDP_UNREACH6_ROOM 1280   /* an ICMPv6 error: IPv6's minimum MTU */
#define ICMP_DEST_UNREACH_ 3
#define ICMP_PORT_UNREACH_ 3
#define ICMPV6_DEST_UNREACH_ 1
#define ICMPV6_PORT_UNREACH_ 4

/*
 * The datagram's UDP header at the cursor (inside the IP packet, whose
 * payload is plen bytes), checked as Linux's __udp4_lib_rcv() and
 * __udp6_lib_rcv() check it: the header within the payload, a length
 * field of at least the header and at most the payload (a shorter one
 * trims the datagram, as Linux trims it: *ulenp; 0 over IPv6 is the
 * payload's), and a valid checksum over the pseudo-header sum pseudo (0 =
 * none: IPv4 only, v6 true), or on a veth (partial) CHECKSUM_PARTIAL's
 * (csum.h). Else truncated or l4_checksum; Linux drops those silently.
 */
static __always_inline int udp_check(struct xdp_md *ctx, const struct cursor *c, __u32 plen, __u32 pseudo, int v6,
				     int partial, __u32 *ulenp)
{
	const struct udphdr *udp = c->pos;
	__u32 ulen;

	if ((void *)(udp + 1) > c->end || plen < sizeof(*udp))
		return PONG_R_TRUNCATED;
	ulen = bpf_ntohs(udp->len);
	if (v6 && !ulen)
		ulen = plen;                /* as Linux's __udp6_lib_rcv() takes a length field of 0 */
	if (ulen < sizeof(*udp) || ulen > plen)
		return PONG_R_TRUNCATED;
	if (!udp->check) {
		if (v6)
			return PONG_R_L4_CHECKSUM;   /* required over IPv6 (RFC 8200 8.1) */
	} else {
		pseudo = csum_fold(pseudo + bpf_htons(ulen) + bpf_htons(IPPROTO_UDP));
		if (!(partial && udp->check == pseudo) &&
		    csum_frame(ctx, (__u32)(c->pos - (void *)(long)ctx->data), ulen, pseudo) != 0xffff)
			return PONG_R_L4_CHECKSUM;
	}
	*ulenp = ulen;
	return PONG_GO_ON;
}

/*
 * Grow the frame at its head by room bytes and cut it to want bytes (after
 * the growth): PONG_GO_ON, or no_room with the frame unchanged (the head
 * could not grow), or PONG_DROP (it grew but could not be cut: it is no
 * longer the request). The Ethernet header and VLAN tags (the first
 * ETH_L2_MAX bytes, whatever follows them is written over) are copied to the
 * new head, addressed back to the requester from our MAC.
 */
static __always_inline int udp_make_room(struct xdp_md *ctx, int room, __u32 want,
					 const volatile __u8 *our_mac)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u8 l2[ETH_L2_MAX] __attribute__((aligned(4)));
	int have = (int)(end - data);
	struct eth_hdr *eth;

	if (data + ETH_L2_MAX > end)
		return PONG_NOT_OURS;       /* cannot happen: the IP header follows */
	__builtin_memcpy(l2, data, ETH_L2_MAX);
	if (bpf_xdp_adjust_head(ctx, -room))
		return PONG_R_NO_ROOM;
	if ((int)want != have + room && bpf_xdp_adjust_tail(ctx, (int)want - (have + room)))
		return PONG_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + ETH_L2_MAX > end)
		return PONG_DROP;
	__builtin_memcpy(data, l2, ETH_L2_MAX);    /* past l3: the new IP header goes over it */
	eth = data;
	mac_copy(eth->h_dest, l2 + ETH_ALEN);
	mac_copy(eth->h_source, our_mac);
	return PONG_GO_ON;
}

/*
 * The IPv4 datagram whose 20-byte header is l3 bytes into the frame
 * (checked: udp_check(), ulen its length) becomes the port unreachable
 * Linux's icmp_send() sends for it: an IPv4 header of its own (TOS the
 * request's precedence-free bits with "internetwork control", as Linux
 * marks errors; DF clear, identification ipv4_reply_id() of the ports; ttl;
 * from the address asked), ICMP type 3 code 3, and the request's IP header
 * and first bytes, hlen + ulen at most, the whole at most 576 bytes.
 */
static __always_inline int udp4_unreach(struct xdp_md *ctx, __u32 l3, __u32 ulen, const volatile __u8 *our_mac,
					__u8 ttl, __u32 seed)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	const __u32 room = sizeof(struct iphdr) + sizeof(struct icmphdr);
	struct iphdr *iph = data + (l3 & 0x1f);
	struct udphdr *udp = (void *)(iph + 1);
	__u32 quote = sizeof(*iph) + ulen;
	__be32 saddr, daddr;
	__be16 id;
	__u8 tos;
	int verdict, sum;
	struct icmphdr *icmp;

	if (l3 > ETH_L2_MAX || (void *)(udp + 1) > end)
		return PONG_NOT_OURS;       /* cannot happen: checked by the classifier */
	if (quote > UDP_UNREACH4_ROOM - room)
		quote = UDP_UNREACH4_ROOM - room;
	saddr = iph->saddr;
	daddr = iph->daddr;
	tos = (iph->tos & 0x1e) | 0xc0;   /* RT_TOS() | IPTOS_PREC_INTERNETCONTROL */
	id = ipv4_reply_id(saddr, daddr, udp->source, udp->dest, seed);
	verdict = udp_make_room(ctx, room, l3 + room + quote, our_mac);
	if (verdict)
		return verdict;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	iph = data + (l3 & 0x1f);
	icmp = (void *)(iph + 1);
	if ((void *)(icmp + 1) > end)
		return PONG_DROP;
	ipv4_write(iph, tos, (__u16)(room + quote), id, 0, ttl, IPPROTO_ICMP, daddr, saddr);
	*(__be16 *)icmp = bpf_htons(ICMP_DEST_UNREACH_ << 8 | ICMP_PORT_UNREACH_);
	icmp->checksum = 0;
	icmp->id = 0;
	icmp->sequence = 0;
	sum = csum_frame(ctx, (l3 & 0x1f) + room, quote, bpf_htons(ICMP_DEST_UNREACH_ << 8 | ICMP_PORT_UNREACH_));
	if (sum < 0)
		return PONG_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	icmp = data + (l3 & 0x1f) + sizeof(struct iphdr);
	if ((void *)(icmp + 1) > end)
		return PONG_DROP;
	icmp->checksum = (__sum16)~(__u16)sum;
	return PONG_GO_ON;
}

/*
 * The same for the IPv6 datagram whose fixed header (no extension header)
 * is l3 bytes into the frame, as Linux's icmp6_send() sends it: an IPv6
 * header of its own (traffic class 0, flow label icmp6_reply_flow(), hop
 * limit ttl, from the address asked), ICMPv6 type 1 code 4, and the
 * request's header and first bytes, 40 + ulen at most, the whole at most
 * 1280 bytes.
 */
static __always_inline int udp6_unreach(struct xdp_md *ctx, __u32 l3, __u32 ulen, const volatile __u8 *our_mac,
					__u8 ttl, __u32 seed)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	const __u32 room = sizeof(struct ipv6hdr) + sizeof(struct icmp6hdr);
	struct ipv6hdr *ip6 = data + (l3 & 0x1f), *orig;
	__u32 quote = sizeof(*ip6) + ulen;
	struct icmp6hdr *icmp6;
	__be32 flow;
	__u64 pseudo;
	int verdict, sum;

	if (l3 > ETH_L2_MAX || (void *)(ip6 + 1) > end)
		return PONG_NOT_OURS;       /* cannot happen: checked by the classifier */
	if (quote > UDP_UNREACH6_ROOM - room)
		quote = UDP_UNREACH6_ROOM - room;
	flow = icmp6_reply_flow(ip6, seed);
	verdict = udp_make_room(ctx, room, l3 + room + quote, our_mac);
	if (verdict)
		return verdict;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	ip6 = data + (l3 & 0x1f);
	icmp6 = (void *)(ip6 + 1);
	orig = (void *)(icmp6 + 1);
	if ((void *)(orig + 1) > end)
		return PONG_DROP;
	/* the pseudo-header's addresses from the quote, not read back from what is written here */
	*(__be32 *)ip6 = bpf_htonl(0x60000000) | flow;
	*(__be32 *)&ip6->payload_len = bpf_htonl((sizeof(*icmp6) + quote) << 16 | IPPROTO_ICMPV6 << 8 | ttl);
	ipv6_copy(&ip6->saddr, &orig->daddr);
	ipv6_copy(&ip6->daddr, &orig->saddr);
	*(__be32 *)icmp6 = bpf_htonl(ICMPV6_DEST_UNREACH_ << 24 | ICMPV6_PORT_UNREACH_ << 16);
	*(__be32 *)((void *)icmp6 + 4) = 0;
	pseudo = csum_addr6(&orig->saddr) + csum_addr6(&orig->daddr) + bpf_htons(sizeof(*icmp6) + quote) +
		 bpf_htons(IPPROTO_ICMPV6) + bpf_htons(ICMPV6_DEST_UNREACH_ << 8 | ICMPV6_PORT_UNREACH_);
	sum = csum_frame(ctx, (l3 & 0x1f) + room, quote, csum_fold64(pseudo));
	if (sum < 0)
		return PONG_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	icmp6 = data + (l3 & 0x1f) + sizeof(struct ipv6hdr);
	if ((void *)(icmp6 + 1) > end)
		return PONG_DROP;
	icmp6->icmp6_cksum = (__sum16)~(__u16)sum;
	return PONG_GO_ON;
}

#endif
