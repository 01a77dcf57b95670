/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TCP (--answer tcp): a segment for an address nobody listens on gets what
 * a closed port sends (RFC 9293 3.10.7.1), a RST, built as Linux's
 * tcp_v4_send_reset() / tcp_v6_send_reset() build it. This is what
 * tcptraceroute, traceroute -T and nmap -PS/-PA read as "closed": the host
 * is there.
 */
#ifndef PONG_LIB_TCP_H
#define PONG_LIB_TCP_H

#include <linux/bpf.h>
#include <linux/types.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "verdict.h"
#include "csum.h"
#include "eth.h"
#include "ipv4.h"
#include "ipv6.h"
#include "icmp6.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/*
 * The TCP header, declared here (<linux/tcp.h> pulls in socket headers a
 * BPF object must not depend on); doff_flags: data offset (high 4 bits),
 * reserved bits and flags (low 8 bits), as one 16-bit word.
 */
struct pong_tcphdr {
	__be16 source;
	__be16 dest;
	__be32 seq;
	__be32 ack_seq;
	__be16 doff_flags;
	__be16 window;
	__sum16 check;
	__be16 urg_ptr;
};

/*
 * The segment at the cursor (inside the IP packet, whose payload is plen
 * bytes), checked as Linux's tcp_v4_rcv() / tcp_v6_rcv() check it before a
 * closed port's reset: the header within the payload, a data offset of at
 * least 5 words and within the payload (else truncated), a valid checksum
 * over the pseudo-header sum pseudo, or on a veth (partial) CHECKSUM_PARTIAL's
 * (csum.h) (else l4_checksum), and not a RST (tcp_rst: a RST is never
 * answered). Linux drops all of those silently.
 */
static __always_inline int tcp_check(struct xdp_md *ctx, const struct cursor *c, __u32 plen, __u32 pseudo,
				     int partial)
{
	const struct pong_tcphdr *th = c->pos;
	__u32 doff;

	if ((void *)(th + 1) > c->end || plen < sizeof(*th))
		return PONG_R_TRUNCATED;
	doff = (bpf_ntohs(th->doff_flags) >> 12) * 4;
	if (doff < sizeof(*th) || doff > plen)
		return PONG_R_TRUNCATED;
	pseudo = csum_fold(pseudo + bpf_htons(plen) + bpf_htons(IPPROTO_TCP));
	if (!(partial && th->check == pseudo) &&
	    csum_frame(ctx, (__u32)(c->pos - (void *)(long)ctx->data), plen, pseudo) != 0xffff)
		return PONG_R_L4_CHECKSUM;
	if (bpf_ntohs(th->doff_flags) & TCP_RST)
		return PONG_R_TCP_RST;      /* after the checksum, as Linux counts them */
	return PONG_GO_ON;
}

/*
 * The reset's sequence and acknowledgment numbers and flags for the
 * segment th carrying len bytes of data (RFC 9293 3.10.7.1, as Linux):
 * to an ACK, a RST whose sequence number is the ACK's acknowledgment
 * number; to anything else, a RST+ACK with sequence number 0 that
 * acknowledges the segment (its data, and SYN and FIN one each).
 */
static __always_inline void tcp_rst_numbers(const struct pong_tcphdr *th, __u32 len, __be32 *seq, __be32 *ack,
					    __u16 *flags)
{
	__u16 in = bpf_ntohs(th->doff_flags);

	if (in & TCP_ACK) {
		*seq = th->ack_seq;
		*ack = 0;
		*flags = TCP_RST;
		return;
	}
	*seq = 0;
	*ack = bpf_htonl(bpf_ntohl(th->seq) + len + !!(in & TCP_SYN) + !!(in & TCP_FIN));
	*flags = TCP_RST | TCP_ACK;
}

/*
 * Write the 20-byte reset at th (in the frame) over the segment, its
 * checksum summed from the values written (not read back) and the
 * pseudo-header's addresses, summed.
 */
static __always_inline void tcp_rst_write(struct pong_tcphdr *th, __be32 seq, __be32 ack, __u16 flags,
					  __u64 pseudo)
{
	__be16 sport = th->source, dport = th->dest, word = bpf_htons(5 << 12 | flags);

	th->source = dport;
	th->dest = sport;
	th->seq = seq;
	th->ack_seq = ack;
	th->doff_flags = word;
	th->window = 0;
	th->urg_ptr = 0;
	pseudo += bpf_htons(sizeof(*th)) + bpf_htons(IPPROTO_TCP) + sport + dport + (__u64)seq + ack + word;
	th->check = (__sum16)~csum_fold64(pseudo);
}

/*
 * The IPv4 segment whose 20-byte header is l3 bytes into the frame
 * (checked: tcp_check()) becomes the reset, in place, the frame cut to it:
 * an IPv4 header as Linux's ip_send_unicast_reply() writes it (TOS the
 * request's without ECN, DF set and identification 0, ttl, from the
 * address asked), then the 20-byte RST. PONG_GO_ON, or no_room (unchanged).
 */
static __always_inline int tcp4_rst(struct xdp_md *ctx, __u32 l3, const volatile __u8 *our_mac, __u8 ttl)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct iphdr *iph = data + (l3 & 0x1f);
	struct pong_tcphdr *th = (void *)(iph + 1);
	__u32 want = l3 + sizeof(*iph) + sizeof(*th), len;
	__be32 seq, ack, saddr, daddr;
	__u16 flags;
	__u8 tos;

	if (l3 > ETH_L2_MAX || (void *)(th + 1) > end)
		return PONG_NOT_OURS;       /* cannot happen: checked by the classifier */
	len = bpf_ntohs(iph->tot_len) - sizeof(*iph) - (bpf_ntohs(th->doff_flags) >> 12) * 4;
	tcp_rst_numbers(th, len, &seq, &ack, &flags);
	if ((int)want != (int)(end - data) && bpf_xdp_adjust_tail(ctx, (int)want - (int)(end - data)))
		return PONG_R_NO_ROOM;      /* the frame is unchanged when the helper fails */
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	iph = data + (l3 & 0x1f);
	th = (void *)(iph + 1);
	if (data + sizeof(struct eth_hdr) > end || (void *)(th + 1) > end)
		return PONG_DROP;
	saddr = iph->saddr;
	daddr = iph->daddr;
	tos = iph->tos & ~0x3;
	ipv4_write(iph, tos, sizeof(*iph) + sizeof(*th), 0, IP_DF, ttl, IPPROTO_TCP, daddr, saddr);
	tcp_rst_write(th, seq, ack, flags, (__u64)saddr + daddr);
	eth_reply(data, our_mac);
	return PONG_GO_ON;
}

/*
 * The same for the IPv6 segment whose fixed header (no extension header)
 * is l3 bytes into the frame: traffic class the request's without ECN, flow
 * label icmp6_reply_flow(), hop limit ttl (tcp_v6_send_response()).
 */
static __always_inline int tcp6_rst(struct xdp_md *ctx, __u32 l3, const volatile __u8 *our_mac, __u8 ttl,
				    __u32 seed)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ipv6hdr *ip6 = data + (l3 & 0x1f);
	struct pong_tcphdr *th = (void *)(ip6 + 1);
	__u32 want = l3 + sizeof(*ip6) + sizeof(*th), len;
	__be32 seq, ack, flow, word0;
	__u64 pseudo;
	__u16 flags;

	if (l3 > ETH_L2_MAX || (void *)(th + 1) > end)
		return PONG_NOT_OURS;       /* cannot happen: checked by the classifier */
	len = bpf_ntohs(ip6->payload_len) - (bpf_ntohs(th->doff_flags) >> 12) * 4;
	tcp_rst_numbers(th, len, &seq, &ack, &flags);
	flow = icmp6_reply_flow(ip6, seed);
	if ((int)want != (int)(end - data) && bpf_xdp_adjust_tail(ctx, (int)want - (int)(end - data)))
		return PONG_R_NO_ROOM;      /* the frame is unchanged when the helper fails */
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	ip6 = data + (l3 & 0x1f);
	th = (void *)(ip6 + 1);
	if (data + sizeof(struct eth_hdr) > end || (void *)(th + 1) > end)
		return PONG_DROP;
	word0 = *(__be32 *)ip6 & bpf_htonl(0xffc00000);    /* version, traffic class less its ECN bits */
	*(__be32 *)ip6 = word0 | flow;
	*(__be32 *)&ip6->payload_len = bpf_htonl(sizeof(*th) << 16 | IPPROTO_TCP << 8 | ttl);
	pseudo = csum_addr6(&ip6->saddr) + csum_addr6(&ip6->daddr);   /* before they are written */
	ipv6_swap(&ip6->saddr, &ip6->daddr);
	tcp_rst_write(th, seq, ack, flags, pseudo);
	eth_reply(data, our_mac);
	return PONG_GO_ON;
}

#endif
