/* SPDX-License-Identifier: GPL-2.0 */
/* IPv6 header parsing, extension-header walk and address classes. */
#ifndef PONG_LIB_IPV6_H
#define PONG_LIB_IPV6_H

#include <linux/types.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "verdict.h"
#include "eth.h"

#define IPV6_EXT_MAX 4          /* extension headers walked to find ICMPv6 */
#define IPPROTO_MH   135        /* mobility header */

static __always_inline int ipv6_is_multicast(const struct in6_addr *a)
{
	return a->in6_u.u6_addr8[0] == 0xff;
}

static __always_inline int ipv6_is_unspecified(const struct in6_addr *a)
{
	return (a->in6_u.u6_addr32[0] | a->in6_u.u6_addr32[1] |
		a->in6_u.u6_addr32[2] | a->in6_u.u6_addr32[3]) == 0;
}

/* Neither unspecified, multicast nor loopback: an address we answer for or to. */
static __always_inline int ipv6_is_unicast(const struct in6_addr *a)
{
	__u32 last = a->in6_u.u6_addr32[3];

	if (ipv6_is_multicast(a))
		return 0;
	/* ::/127 holds both :: and ::1; one test of the first 96 bits covers them */
	return (a->in6_u.u6_addr32[0] | a->in6_u.u6_addr32[1] | a->in6_u.u6_addr32[2]) != 0 ||
	       (last != 0 && last != bpf_htonl(1));
}

/* ::ffff:0:0/96, an IPv4 address written as IPv6: never the source of a real IPv6 packet. */
static __always_inline int ipv6_is_v4mapped(const struct in6_addr *a)
{
	return (a->in6_u.u6_addr32[0] | a->in6_u.u6_addr32[1]) == 0 &&
	       a->in6_u.u6_addr32[2] == bpf_htonl(0x0000ffff);
}

static __always_inline int ipv6_equal(const struct in6_addr *a, const struct in6_addr *b)
{
	const __u32 *x = a->in6_u.u6_addr32, *y = b->in6_u.u6_addr32;

	/* one branch for the four words */
	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3])) == 0;
}

/*
 * Swap two addresses in a packet, 8 bytes at a time: packet access need not
 * be aligned on the architectures XDP runs natively on, and half the loads
 * and stores of the 4-byte words the type's alignment would give.
 */
static __always_inline void ipv6_swap(struct in6_addr *a, struct in6_addr *b)
{
	__u64 *x = (__u64 *)a, *y = (__u64 *)b;
	__u64 x0 = x[0], x1 = x[1];

	x[0] = y[0];
	x[1] = y[1];
	y[0] = x0;
	y[1] = x1;
}

/* dst = src, 8 bytes at a time (as ipv6_swap()). */
static __always_inline void ipv6_copy(struct in6_addr *dst, const struct in6_addr *src)
{
	__u64 *x = (__u64 *)dst;
	const __u64 *y = (const __u64 *)src;

	x[0] = y[0];
	x[1] = y[1];
}

/* One's complement sum of an IPv6 address, 32 bits at a time (fold with csum_fold64()). */
static __always_inline __u64 csum_addr6(const struct in6_addr *a)
{
	const __u32 *w = a->in6_u.u6_addr32;

	return (__u64)w[0] + w[1] + w[2] + w[3];
}

/* The last word of target's solicited-node group, ff:XX:XX:XX (also the group MAC's last 4 bytes). */
static __always_inline __u32 ipv6_solicited_node_word(const struct in6_addr *target)
{
	return (target->in6_u.u6_addr32[3] & bpf_htonl(0x00ffffff)) | bpf_htonl(0xff000000);
}

/* ff02::1:ffXX:XXXX, the solicited-node group of target (RFC 4291 2.7.1). */
static __always_inline int ipv6_is_solicited_node_of(const struct in6_addr *group,
						     const struct in6_addr *target)
{
	const __u32 *g = group->in6_u.u6_addr32;

	return ((g[0] ^ bpf_htonl(0xff020000)) | g[1] | (g[2] ^ bpf_htonl(1)) |
		(g[3] ^ ipv6_solicited_node_word(target))) == 0;
}

/*
 * Walk the extension headers after the fixed header at ip6: PONG_GO_ON with
 * the cursor on the upper-layer header, *proto its protocol, and *ext
 * whether any extension header came first; PONG_NOT_OURS if the chain is cut
 * short or too long.
 */
static __always_inline int ipv6_upper(struct cursor *c, const struct ipv6hdr *ip6, __u8 *proto, int *ext)
{
	__u8 nexthdr = ip6->nexthdr;

	c->pos = (void *)(ip6 + 1);
	*ext = 0;
	if (__builtin_expect(nexthdr == IPPROTO_ICMPV6, 1)) {   /* the common case, before the switch */
		*proto = nexthdr;
		return PONG_GO_ON;
	}
#pragma unroll
	for (int i = 0; i < IPV6_EXT_MAX; i++) {
		struct ipv6_opt_hdr *h = c->pos;
		__u32 len;

		switch (nexthdr) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_MH:
			if ((void *)(h + 1) > c->end)
				return PONG_NOT_OURS;
			len = (h->hdrlen + 1) * 8;
			break;
		case IPPROTO_FRAGMENT:
			/* a later fragment carries data, not an upper-layer header */
			if ((void *)h + 8 > c->end || (((__u8 *)h)[2] | (((__u8 *)h)[3] & 0xf8)))
				return PONG_NOT_OURS;
			len = 8;
			break;
		case IPPROTO_AH:
			if ((void *)(h + 1) > c->end)
				return PONG_NOT_OURS;
			len = (h->hdrlen + 2) * 4;
			break;
		default:
			*proto = nexthdr;
			return PONG_GO_ON;
		}
		*ext = 1;
		nexthdr = h->nexthdr;
		c->pos += len;
	}
	return PONG_NOT_OURS;
}

/*
 * The rules every IPv6 request we answer meets before those of its kind:
 * no extension header (ip6_ext_header), a unicast source MAC (l2_src), the
 * version and a payload length within the frame (ip_header). PONG_GO_ON with
 * *plenp the payload length.
 */
static __always_inline int ipv6_check(const struct cursor *c, const struct eth_hdr *eth,
				      const struct ipv6hdr *ip6, int ext, __u32 *plenp)
{
	__u32 plen = bpf_ntohs(ip6->payload_len);

	if (ext)
		return PONG_R_IP6_EXT_HEADER;
	if (!mac_is_station(eth->h_source))
		return PONG_R_L2_SRC;
	if (ip6->version != 6 || (const void *)(ip6 + 1) + plen > c->end)
		return PONG_R_IP_HEADER;
	*plenp = plen;
	return PONG_GO_ON;
}

#endif
