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
 * its datagram's first fragment was (an entry in pong_frag4, pong_frag6 for
 * IPv6, keyed by the addresses, the identification and the VLANs, made when
 * the first fragment's reply was admitted), for PONG_FRAG_TIMEOUT_S and up
 * to FRAG_REPLY_BUDGET bytes of reply frames in all, and each one as an
 * echo request is (admit(): scope, own addresses, claims, rate limits, per
 * fragment): no fragment of anything else is answered, and a spoofed source
 * gets no more than it was sent in its name, within the limits. Fragments
 * Linux would drop are the kernel's too (ip_fragment): empty, beyond a
 * datagram's 65,535 bytes, not a multiple of 8 bytes but the last. Later
 * fragments that arrive before their first are the kernel's (ip_fragment),
 * fragments with IPv4 options refused (ip_options).
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

#define FRAG_DATAGRAM_MAX 65535   /* bytes of an IP datagram */
/* bytes of reply frames a request's fragments get in all: a whole datagram's, with a header
 * and padding per fragment */
#define FRAG_REPLY_BUDGET (2 * FRAG_DATAGRAM_MAX)

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

/*
 * The reply's identification, one for all the fragments of a request: a
 * hash of the pair plus the request's (ipv4_reply_id()), so that two
 * requests of one pair never get the same one.
 */
static __always_inline __be16 frag4_reply_id(const struct iphdr *iph, __u32 seed)
{
	return ipv4_reply_id(iph->saddr, iph->daddr, 0, iph->id, seed);
}

/*
 * What Linux's reassembly drops, the kernel's here too (ip_fragment): an
 * empty fragment, one that is not the last and not a multiple of 8 bytes,
 * one that ends beyond a datagram's most (max: 65,515 bytes of IPv4
 * payload, 65,535 of IPv6). off8: the fragment's offset in 8-byte units.
 */
static __always_inline int frag_sane(__u32 off8, int more, __u32 plen, __u32 max)
{
	if (!plen || (more && (plen & 7)) || off8 * 8 + plen > max)
		return PONG_R_IP_FRAGMENT;
	return PONG_GO_ON;
}

static __always_inline void frag4_key(struct pong_frag_key4 *key, const struct cursor *c, const struct iphdr *iph)
{
	key->saddr = iph->saddr;
	key->daddr = iph->daddr;
	key->id = iph->id;
	key->pad = 0;
	key->vlan[0] = c->vlan[0];
	key->vlan[1] = c->vlan[1];
}

/* An entry good for FRAG_REPLY_BUDGET bytes of reply frames, less the first's (bytes). */
static __always_inline void frag_entry(struct pong_frag_entry *e, __u32 bytes)
{
	e->expires_ns = bpf_ktime_get_coarse_ns() + PONG_FRAG_TIMEOUT_S * 1000000000ull;
	e->budget = FRAG_REPLY_BUDGET - (__s64)bytes;
}

/*
 * Spend bytes of entry e (none: ip_fragment): PONG_GO_ON if it is not too
 * late and has them; else ip_fragment, nothing spent.
 */
static __always_inline int frag_spend(struct pong_frag_entry *e, __u32 bytes)
{
	if (!e || bpf_ktime_get_coarse_ns() > e->expires_ns)
		return PONG_R_IP_FRAGMENT;
	if (__sync_fetch_and_add(&e->budget, -(__s64)bytes) < (__s64)bytes) {
		__sync_fetch_and_add(&e->budget, (__s64)bytes);   /* over: given back, not answered */
		return PONG_R_IP_FRAGMENT;
	}
	return PONG_GO_ON;
}

/* Remember that the datagram of the first fragment at iph, bytes of frame from it, is answered. */
static __noinline void frag4_remember(const struct cursor *c, const struct iphdr *iph, __u32 bytes)
{
	struct pong_frag_key4 key;
	struct pong_frag_entry e;

	frag4_key(&key, c, iph);
	frag_entry(&e, bytes);
	bpf_map_update_elem(&pong_frag4, &key, &e, BPF_ANY);
}

/* A later fragment, bytes of frame from iph, of a datagram whose first was answered: frag_spend(). */
static __noinline int frag4_admit_later(const struct cursor *c, const struct iphdr *iph, __u32 bytes)
{
	struct pong_frag_key4 key;

	frag4_key(&key, c, iph);
	return frag_spend(bpf_map_lookup_elem(&pong_frag4, &key), bytes);
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
 * right after the fixed header, with an offset or M: an atomic fragment
 * (RFC 6946: offset 0, M clear) is not one (refused as any extension header:
 * Linux's reply would carry no fragment header).
 */
static __always_inline int frag6_is(const struct cursor *c, const struct ipv6hdr *ip6)
{
	const struct pong_frag6_hdr *fh = (const void *)(ip6 + 1);

	return ip6->nexthdr == IPPROTO_FRAGMENT && (const void *)(fh + 1) <= c->end && fh->nexthdr == IPPROTO_ICMPV6 &&
	       (fh->frag_off & bpf_htons(0xfff9));
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

static __always_inline void frag6_key(struct pong_frag_key6 *key, const struct cursor *c, const struct ipv6hdr *ip6,
				      const struct pong_frag6_hdr *fh)
{
	ipv6_copy(&key->saddr, &ip6->saddr);
	ipv6_copy(&key->daddr, &ip6->daddr);
	key->id = fh->id;
	key->vlan[0] = c->vlan[0];
	key->vlan[1] = c->vlan[1];
}

/*
 * As frag4_remember(), for IPv6. The four that build a key are subprograms
 * (__noinline): their keys are off the stack of the chain of calls that
 * goes on to admit_policy() (BPF allows 512 bytes for it).
 */
static __noinline void frag6_remember(const struct cursor *c, const struct ipv6hdr *ip6,
					   const struct pong_frag6_hdr *fh, __u32 bytes)
{
	struct pong_frag_key6 key;
	struct pong_frag_entry e;

	frag6_key(&key, c, ip6, fh);
	frag_entry(&e, bytes);
	bpf_map_update_elem(&pong_frag6, &key, &e, BPF_ANY);
}

/* As frag4_admit_later(), for IPv6. */
static __noinline int frag6_admit_later(const struct cursor *c, const struct ipv6hdr *ip6,
					     const struct pong_frag6_hdr *fh, __u32 bytes)
{
	struct pong_frag_key6 key;

	frag6_key(&key, c, ip6, fh);
	return frag_spend(bpf_map_lookup_elem(&pong_frag6, &key), bytes);
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
