/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fragmented echo requests (ping -s 2000, ping -6 -s 1453 on Ethernet). XDP sends one
 * frame for each it receives, and cannot reassemble; but the reply to an
 * echo request is the request with its type changed, so each fragment can
 * become the matching fragment of the reply, in place: the first (offset 0)
 * carries the ICMP header, whose checksum covers the whole datagram and
 * changes only by the type (RFC 1624, as for an unfragmented echo); the
 * later ones only change their IP header. The reply's fragments have the
 * request's sizes and offsets and one identification of our own. IPv6 the
 * same, where the fragment header follows the fixed header and says ICMPv6.
 *
 * A later fragment does not say what it belongs to: it is answered only if
 * its datagram's first fragment was (an entry in pong_frag4, keyed by the
 * addresses and the identification (pong_frag6 for IPv6), made when the first fragment's reply
 * was admitted, with every rule and limit of an echo request), for
 * PONG_FRAG_TIMEOUT_S and up to an IP datagram's 65,535 bytes in all: no
 * fragment of anything else is answered, and a spoofed source gets at most
 * as many bytes as it was sent. Later fragments that arrive before their
 * first are left to the kernel (ip_fragment), as are fragments with options.
 */
#ifndef PONG_LIB_FRAG_H
#define PONG_LIB_FRAG_H

#include <linux/bpf.h>
#include <linux/types.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/icmpv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "verdict.h"
#include "csum.h"
#include "eth.h"
#include "ipv4.h"
#include "ipv6.h"
#include "icmp6.h"
#include "maps.h"

#define FRAG_DATAGRAM_MAX 65535

/* Truth: the IPv4 header at iph (checked to be in the frame) is a fragment's. */
static __always_inline int frag4_is(const struct iphdr *iph)
{
	return (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET)) != 0;
}

/*
 * The rules of an IPv4 fragment's header, as parse_ipv4()'s but for the
 * fragment bits: the IP header within the frame (truncated, ip_header), no
 * options (ip_options: a first fragment's record route would have to be
 * filled, and later fragments carry only some), addresses we answer
 * (ip_src, ip_dst). *plen: the fragment's payload length.
 */
static __always_inline int frag4_check(struct cursor *c, const struct eth_hdr *eth, const volatile __u8 *our_mac,
				       struct iphdr **iphp, __u32 *plen)
{
	struct iphdr *iph = c->pos;
	int verdict = eth_check_unicast(eth, our_mac);
	__u32 tot;

	if (verdict)
		return verdict;
	if ((void *)(iph + 1) > c->end)
		return PONG_R_TRUNCATED;
	if (iph->version != 4 || iph->ihl < 5)
		return PONG_R_IP_HEADER;
	tot = bpf_ntohs(iph->tot_len);
	if (tot < iph->ihl * 4 || (void *)iph + tot > c->end)
		return PONG_R_IP_HEADER;
	if (iph->ihl != 5)
		return PONG_R_IP_OPTIONS;
	if (!ipv4_src_ok(iph->saddr))
		return PONG_R_IP_SRC;
	if (!ipv4_dst_ok(iph->daddr))
		return PONG_R_IP_DST;
	*iphp = iph;
	*plen = tot - sizeof(*iph);
	c->pos = iph + 1;
	return PONG_GO_ON;
}

/* The reply's identification, one for all the fragments of a request: ipv4_reply_id() of its own. */
static __always_inline __be16 frag4_reply_id(const struct iphdr *iph, __u32 seed)
{
	return ipv4_reply_id(iph->saddr, iph->daddr, iph->id, 0, seed);
}

/* Remember that the datagram of the first fragment at iph (payload plen bytes) is answered. */
static __always_inline void frag4_remember(const struct iphdr *iph, __u32 plen)
{
	struct pong_frag_key4 key = { .saddr = iph->saddr, .daddr = iph->daddr, .id = iph->id };
	struct pong_frag_entry e = {
		.expires_ns = bpf_ktime_get_coarse_ns() + PONG_FRAG_TIMEOUT_S * 1000000000ull,
		.budget = FRAG_DATAGRAM_MAX - (__s64)plen,
	};

	bpf_map_update_elem(&pong_frag4, &key, &e, BPF_ANY);
}

/*
 * A later fragment (payload plen bytes) of a datagram whose first fragment
 * was answered, not too late and within its bytes: PONG_GO_ON, its bytes
 * spent; else ip_fragment (the kernel's, as any fragment was before).
 */
static __always_inline int frag4_admit_later(const struct iphdr *iph, __u32 plen)
{
	struct pong_frag_key4 key = { .saddr = iph->saddr, .daddr = iph->daddr, .id = iph->id };
	struct pong_frag_entry *e = bpf_map_lookup_elem(&pong_frag4, &key);

	if (!e || bpf_ktime_get_coarse_ns() > e->expires_ns)
		return PONG_R_IP_FRAGMENT;
	if (__sync_fetch_and_add(&e->budget, -(__s64)plen) < (__s64)plen) {
		__sync_fetch_and_add(&e->budget, (__s64)plen);   /* over: given back, not answered */
		return PONG_R_IP_FRAGMENT;
	}
	return PONG_GO_ON;
}

/* A later fragment at iph becomes the reply's fragment at the same offset (ipv4_reply_in_place()). */
static __always_inline void frag4_later_reply(struct eth_hdr *eth, struct iphdr *iph, const volatile __u8 *our_mac,
					      __u8 ttl, __be16 id)
{
	ipv4_reply_in_place(iph, ttl, id);
	eth_reply(eth, our_mac);
}

/* IPv6's fragment header (RFC 8200 4.5), declared here as tcp.h declares TCP's. */
struct pong_frag6_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;   /* offset in 8-byte units (high 13 bits), M (bit 0) */
	__be32 id;
};

/*
 * Truth: the IPv6 packet at ip6 (its fixed header in the frame) is a
 * fragment of an ICMPv6 datagram, its fragment header (within the frame)
 * right after the fixed header.
 */
static __always_inline int frag6_is(const struct cursor *c, const struct ipv6hdr *ip6)
{
	const struct pong_frag6_hdr *fh = (const void *)(ip6 + 1);

	return ip6->nexthdr == IPPROTO_FRAGMENT && (const void *)(fh + 1) <= c->end && fh->nexthdr == IPPROTO_ICMPV6;
}

/*
 * The rules of an IPv6 fragment of an echo request, as icmp6_check_echo()'s
 * (but for the fragment header): a station's source MAC, the version and
 * payload within the frame, our MAC, unicast addresses (no IPv4-mapped
 * source). *plen: the fragment's bytes after its fragment header.
 */
static __always_inline int frag6_check(const struct cursor *c, const struct eth_hdr *eth, const struct ipv6hdr *ip6,
				       const volatile __u8 *our_mac, __u32 *plen)
{
	__u32 len;
	int verdict = ipv6_check(c, eth, ip6, 0, &len);

	if (verdict)
		return verdict;
	if (!mac_equal(eth->h_dest, our_mac))
		return PONG_R_L2_DST;
	if (len < sizeof(struct pong_frag6_hdr))
		return PONG_R_TRUNCATED;
	if (!ipv6_is_unicast(&ip6->daddr))
		return PONG_R_IP6_DST;
	if (!ipv6_is_unicast(&ip6->saddr) || ipv6_is_v4mapped(&ip6->saddr))
		return PONG_R_IP6_SRC;
	*plen = len - sizeof(struct pong_frag6_hdr);
	return PONG_GO_ON;
}

/* The reply's fragment identification, one for the whole datagram: a keyed hash of the pair and the request's. */
static __always_inline __be32 frag6_reply_id(const struct ipv6hdr *ip6, const struct pong_frag6_hdr *fh, __u32 seed)
{
	const __u64 *from = (const __u64 *)&ip6->daddr, *to = (const __u64 *)&ip6->saddr;
	__u64 h = (from[0] ^ from[1] ^ seed) * 0x9e3779b97f4a7c15ull;

	h = (h ^ to[0] ^ to[1] ^ fh->id) * 0xc2b2ae3d27d4eb4full;
	return (__be32)(h >> 32);
}

static __always_inline void frag6_key(struct pong_frag_key6 *key, const struct ipv6hdr *ip6,
				      const struct pong_frag6_hdr *fh)
{
	ipv6_copy(&key->saddr, &ip6->saddr);
	ipv6_copy(&key->daddr, &ip6->daddr);
	key->id = fh->id;
}

static __always_inline void frag6_remember(const struct ipv6hdr *ip6, const struct pong_frag6_hdr *fh, __u32 plen)
{
	struct pong_frag_key6 key;
	struct pong_frag_entry e = {
		.expires_ns = bpf_ktime_get_coarse_ns() + PONG_FRAG_TIMEOUT_S * 1000000000ull,
		.budget = FRAG_DATAGRAM_MAX - (__s64)plen,
	};

	frag6_key(&key, ip6, fh);
	bpf_map_update_elem(&pong_frag6, &key, &e, BPF_ANY);
}

/* As frag4_admit_later(), for IPv6. */
static __always_inline int frag6_admit_later(const struct ipv6hdr *ip6, const struct pong_frag6_hdr *fh, __u32 plen)
{
	struct pong_frag_key6 key;
	struct pong_frag_entry *e;

	frag6_key(&key, ip6, fh);
	e = bpf_map_lookup_elem(&pong_frag6, &key);
	if (!e || bpf_ktime_get_coarse_ns() > e->expires_ns)
		return PONG_R_IP_FRAGMENT;
	if (__sync_fetch_and_add(&e->budget, -(__s64)plen) < (__s64)plen) {
		__sync_fetch_and_add(&e->budget, (__s64)plen);
		return PONG_R_IP_FRAGMENT;
	}
	return PONG_GO_ON;
}

/* A later IPv6 fragment becomes the reply's: as an echo reply's header (icmp6_echo_reply()), identification id. */
static __always_inline void frag6_later_reply(struct eth_hdr *eth, struct ipv6hdr *ip6, struct pong_frag6_hdr *fh,
					      const volatile __u8 *our_mac, __u8 hop_limit, __be32 flow, __be32 id)
{
	*(__be32 *)ip6 = (*(__be32 *)ip6 & bpf_htonl(0xfff00000)) | flow;
	ipv6_swap(&ip6->saddr, &ip6->daddr);
	ip6->hop_limit = hop_limit;
	fh->id = id;
	eth_reply(eth, our_mac);
}

#endif
