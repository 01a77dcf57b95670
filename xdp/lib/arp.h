/* SPDX-License-Identifier: GPL-2.0 */
/* ARP for IPv4 over Ethernet: classify a request and answer it in place. */
#ifndef PONG_LIB_ARP_H
#define PONG_LIB_ARP_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "verdict.h"
#include "eth.h"
#include "ipv4.h"

/* From RFC 826 (<linux/if_arp.h> would pull in the C library's <sys/socket.h>). */
#define ARPHRD_ETHER  1
#define ARPOP_REQUEST 1
#define ARPOP_REPLY   2

/*
 * The ARP header with its Ethernet/IPv4 body (RFC 826), 28 bytes. The IPv4
 * addresses are only 2-byte aligned, so they are kept as two 16-bit words.
 */
struct arp_eth_ipv4 {
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 op;
	__u8 sha[ETH_ALEN];
	__u16 spa[2];
	__u8 tha[ETH_ALEN];
	__u16 tpa[2];
};

static __always_inline __be32 arp_ip(const __u16 *p)
{
	return *(const __be32 *)p;    /* one load: unaligned access is cheap where XDP runs (eth.h) */
}

/* The rules one by one: the ARP frame at the cursor is a request we answer (PONG_GO_ON, *arpp set). */
static __always_inline int arp_check_request(struct cursor *c, struct eth_hdr *eth,
					     const volatile __u8 *our_mac,
					     struct arp_eth_ipv4 **arpp)
{
	struct arp_eth_ipv4 *arp = c->pos;
	__be32 spa, tpa;

	if (!mac_is_broadcast(eth->h_dest) && !mac_equal(eth->h_dest, our_mac))
		return PONG_R_L2_DST;
	if (!mac_is_station(eth->h_source))
		return PONG_R_L2_SRC;
	if ((void *)(arp + 1) > c->end)
		return PONG_R_TRUNCATED;
	if (arp->htype != bpf_htons(ARPHRD_ETHER) || arp->ptype != bpf_htons(ETH_P_IP) ||
	    arp->hlen != ETH_ALEN || arp->plen != 4)
		return PONG_R_ARP_FORMAT;
	if (arp->op != bpf_htons(ARPOP_REQUEST))
		return PONG_R_ARP_OP;
	if (!mac_is_station(arp->sha))
		return PONG_R_L2_SRC;
	spa = arp_ip(arp->spa);
	tpa = arp_ip(arp->tpa);
	if (spa == 0)
		return PONG_R_ARP_PROBE;
	if (!ipv4_src_ok(spa))
		return PONG_R_IP_SRC;
	if (spa == tpa)
		return PONG_R_ARP_GRATUITOUS;
	if (!ipv4_dst_ok(tpa))
		return PONG_R_ARP_TARGET;
	*arpp = arp;
	return PONG_GO_ON;
}

/*
 * The fast check: truth, the frame at the cursor is a request that every
 * rule of arp_check_request() answers (the same rules, fewer branches: the
 * fixed part of the header is one 8-byte compare).
 */
static __always_inline int arp_fast_request(const struct cursor *c, const struct eth_hdr *eth,
					    const volatile __u8 *our_mac)
{
	const struct arp_eth_ipv4 *arp = c->pos;
	/* htype 1, ptype 0x0800, hlen 6, plen 4, op 1: the bytes 00 01 08 00 06 04 00 01, read as a u64 */
	const __u64 request = bpf_cpu_to_be64(0x0001080006040001ull);
	__be32 spa, tpa;

	if ((const void *)(arp + 1) > c->end || *(const __u64 *)arp != request)   /* one load, unaligned (eth.h) */
		return 0;
	spa = arp_ip(arp->spa);
	tpa = arp_ip(arp->tpa);
	return spa != tpa && ipv4_src_ok(spa) && ipv4_dst_ok(tpa) &&
	       (mac_is_broadcast(eth->h_dest) || mac_equal(eth->h_dest, our_mac)) &&
	       mac_is_station(eth->h_source) && mac_is_station(arp->sha);
}

/* Request -> reply: "target IP is at our MAC", sent back to the requester. */
static __always_inline void arp_reply(struct eth_hdr *eth, struct arp_eth_ipv4 *arp,
				      const volatile __u8 *our_mac)
{
	__be32 sender = arp_ip(arp->spa);

	arp->op = bpf_htons(ARPOP_REPLY);
	mac_copy(arp->tha, arp->sha);
	mac_copy(arp->sha, our_mac);
	*(__be32 *)arp->spa = arp_ip(arp->tpa);
	*(__be32 *)arp->tpa = sender;
	eth_reply(eth, our_mac);
}

#endif
