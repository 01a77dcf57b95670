/* SPDX-License-Identifier: GPL-2.0 */
/* IPv4 header parsing and the address classes xdp-pong never answers for. */
#ifndef PONG_LIB_IPV4_H
#define PONG_LIB_IPV4_H

#include <linux/types.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "verdict.h"
#include "eth.h"

#define IP_DF     0x4000
#define IP_MF     0x2000
#define IP_OFFSET 0x1fff
#define IPOPT_END_  0
#define IPOPT_NOP_  1
#define IPOPT_LSRR_ 0x83
#define IPOPT_SSRR_ 0x89
#define IPV4_OPT_WALK 8     /* options walked; more (NOPs count) are refused */

/* 0.0.0.0/8 "this network", 127.0.0.0/8 loopback, 224.0.0.0/4 multicast. */
static __always_inline int ipv4_is_special(__be32 addr)
{
	__u32 a = bpf_ntohl(addr);

	return (a >> 24) == 0 || (a >> 24) == 127 || (a >> 28) == 0xe;
}

/* A source we would send a reply to: not special, not 240.0.0.0/4 (incl. broadcast). */
static __always_inline int ipv4_src_ok(__be32 addr)
{
	return !ipv4_is_special(addr) && (bpf_ntohl(addr) >> 28) != 0xf;
}

/* A destination (or ARP target) we answer for: not special, not 255.255.255.255. */
static __always_inline int ipv4_dst_ok(__be32 addr)
{
	return !ipv4_is_special(addr) && addr != 0xffffffff;
}

/*
 * Options are echoed unchanged, except source routes: a reply would have to
 * reverse the route (RFC 1122 3.2.2.6), and Linux drops such packets by
 * default (accept_source_route=0), so they are refused, as are malformed
 * options. opt points at the first option byte, len is their total length.
 */
static __always_inline int ipv4_check_options(const __u8 *opt, __u32 len, const void *end)
{
	__u32 off = 0;

	for (int i = 0; i < IPV4_OPT_WALK; i++) {
		const __u8 *p = opt + (off & 0x3f);
		__u8 type;

		if (off >= len)
			return PONG_GO_ON;
		if ((void *)(p + 2) > end)
			return PONG_R_IP_OPTIONS;
		type = p[0];
		if (type == IPOPT_END_)
			return PONG_GO_ON;
		if (type == IPOPT_NOP_) {
			off++;
			continue;
		}
		if (type == IPOPT_LSRR_ || type == IPOPT_SSRR_ || p[1] < 2 || off + p[1] > len)
			return PONG_R_IP_OPTIONS;
		off += p[1];
	}
	return off >= len ? PONG_GO_ON : PONG_R_IP_OPTIONS;
}

/*
 * Validate an IPv4 header at the cursor whose protocol is already known.
 * PONG_GO_ON with the cursor past the header (options included), or the
 * refusal reason.
 */
static __always_inline int parse_ipv4(struct cursor *c, struct iphdr **iphp)
{
	struct iphdr *iph = c->pos;
	__u32 hlen, tot;

	if ((void *)(iph + 1) > c->end)
		return PONG_R_TRUNCATED;
	if (iph->version != 4 || iph->ihl < 5)
		return PONG_R_IP_HEADER;
	hlen = iph->ihl * 4;
	tot = bpf_ntohs(iph->tot_len);
	if (tot < hlen || (void *)iph + tot > c->end)
		return PONG_R_IP_HEADER;
	if ((void *)iph + hlen > c->end)
		return PONG_R_TRUNCATED;
	if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return PONG_R_IP_FRAGMENT;
	if (hlen > sizeof(*iph)) {
		int r = ipv4_check_options((const __u8 *)(iph + 1), hlen - sizeof(*iph), c->end);

		if (r)
			return r;
	}
	if (!ipv4_src_ok(iph->saddr))
		return PONG_R_IP_SRC;
	if (!ipv4_dst_ok(iph->daddr))
		return PONG_R_IP_DST;
	*iphp = iph;
	c->pos = (void *)iph + hlen;
	return PONG_GO_ON;
}

#endif
