/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Neighbour discovery (RFC 4861): classify a neighbour solicitation and
 * answer it with a neighbour advertisement written over it, in the same
 * buffer resized to the NA.
 */
#ifndef PONG_LIB_NDP_H
#define PONG_LIB_NDP_H

#include <linux/bpf.h>
#include <linux/types.h>
#include <linux/in.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "verdict.h"
#include "csum.h"
#include "eth.h"
#include "ipv6.h"

#define NDISC_NS          135
#define NDISC_NA          136
#define ND_OPT_SLLA       1      /* source link-layer address */
#define ND_OPT_TLLA       2      /* target link-layer address */
#define ND_OPT_MAX        8      /* options walked in a solicitation */
/*
 * The NA's flags, R=0 S=1 O=0: the first 16 bits of its flags word (the
 * rest is reserved, 0). O=0: we answer for addresses that are not our own,
 * so an owner's advertisement (O=1) must win in every neighbour cache
 * (RFC 4861 7.2.8). A cache with no entry yet (INCOMPLETE) takes ours all
 * the same.
 */
#define NA_FLAGS_HI       0x4000
#define L3_OFFSET_MAX     (ETH_HLEN + 4 * VLAN_MAX_DEPTH)
#define NS_MAX_LEN        256    /* longest solicitation we answer (24 + options) */

struct nd_ns {
	__u8 type;
	__u8 code;
	__sum16 cksum;
	__be32 reserved;
	struct in6_addr target;
};

struct nd_opt {
	__u8 type;
	__u8 len;        /* in units of 8 bytes */
	__u8 data[6];    /* a link-layer address, for SLLA/TLLA on Ethernet */
};

/* The advertisement we send: header plus one TLLA option, 32 bytes. */
struct nd_na {
	__u8 type;
	__u8 code;
	__sum16 cksum;
	__be32 flags;
	struct in6_addr target;
	struct nd_opt tlla;
};

/* 33:33:ff:XX:XX:XX, the MAC of target's solicited-node group. */
static __always_inline int mac_is_solicited_node_of(const __u8 *mac, const struct in6_addr *target)
{
	/* 33:33:ff:XX:XX:XX, two loads (RFC 2464 7) */
	return *(const __u16 *)mac == bpf_htons(0x3333) &&
	       *(const __u32 *)(mac + 2) == ipv6_solicited_node_word(target);
}

/*
 * Verify the checksum of the solicitation at ns, plen bytes long (a multiple
 * of 8, at most NS_MAX_LEN, within the frame), over the IPv6 pseudo-header.
 * The answer is built afresh with a valid checksum, so a corrupted request
 * must not get one (RFC 4861 7.1.1).
 */
static __always_inline int ndp_checksum_ok(const struct ipv6hdr *ip6, const struct nd_ns *ns, __u32 plen,
					   const void *end)
{
	__u32 sum = csum_words(&ip6->saddr, 16) + bpf_htons(plen) + bpf_htons(IPPROTO_ICMPV6);

	for (__u32 off = 0; off < NS_MAX_LEN; off += 8) {
		const __u16 *w = (const void *)ns + off;

		if (off >= plen)
			break;
		if ((void *)(w + 4) > end)
			return 0;
		sum += (__u32)w[0] + w[1] + w[2] + w[3];
	}
	return csum_fold(sum) == 0xffff;
}

/*
 * The rules one by one, each refusal named: the solicitation at the cursor
 * (ip6's fixed header in the frame; ext: extension headers came first) is
 * one we answer: ipv6_check(), then its own rules. PONG_GO_ON (the NS right
 * after ip6's header) with reply_mac, where the NA goes: its source
 * link-layer address option, else the frame's source MAC.
 */
static __always_inline int ndp_check_ns(struct cursor *c, const struct eth_hdr *eth, const struct ipv6hdr *ip6,
					int ext, const volatile __u8 *our_mac, __u8 *reply_mac)
{
	struct nd_ns *ns = c->pos;
	__u32 off = sizeof(*ns), plen;
	int verdict = ipv6_check(c, eth, ip6, ext, &plen);

	if (verdict)
		return verdict;

	if (ip6->hop_limit != 255)
		return PONG_R_NDP_HOP_LIMIT;
	if ((void *)(ns + 1) > c->end || plen < sizeof(*ns) || plen > NS_MAX_LEN)
		return PONG_R_NDP_FORMAT;
	if (ns->code != 0)
		return PONG_R_ICMP_CODE;
	if (ipv6_is_unspecified(&ip6->saddr))
		return PONG_R_NDP_DAD;
	if (!ipv6_is_unicast(&ip6->saddr))
		return PONG_R_IP6_SRC;
	if (!ipv6_is_unicast(&ns->target))
		return PONG_R_NDP_TARGET;
	if (ipv6_equal(&ip6->saddr, &ns->target))
		return PONG_R_NDP_SELF;
	if (!ipv6_equal(&ip6->daddr, &ns->target) &&
	    !ipv6_is_solicited_node_of(&ip6->daddr, &ns->target))
		return PONG_R_NDP_DST;
	if (!mac_equal(eth->h_dest, our_mac) && !mac_is_solicited_node_of(eth->h_dest, &ns->target))
		return PONG_R_L2_DST;

	mac_copy(reply_mac, eth->h_source);
	/* a bounded loop (kernel >= 5.3): the verifier walks every iteration */
	for (int i = 0; i < ND_OPT_MAX; i++) {
		struct nd_opt *opt;

		if (off >= plen)
			break;
		if (off > 2048)   /* bound for the verifier; real offsets are smaller */
			return PONG_R_NDP_FORMAT;
		opt = (void *)ns + off;
		if ((void *)opt + 2 > c->end)
			return PONG_R_NDP_FORMAT;
		if (opt->len == 0 || off + opt->len * 8 > plen)
			return PONG_R_NDP_FORMAT;
		if (opt->type == ND_OPT_SLLA) {
			if (opt->len != 1 || (void *)(opt + 1) > c->end)
				return PONG_R_NDP_FORMAT;
			if (!mac_is_station(opt->data))
				return PONG_R_L2_SRC;
			mac_copy(reply_mac, opt->data);
		}
		off += opt->len * 8;
	}
	if (off < plen)
		return PONG_R_NDP_FORMAT;   /* more options than we walk */
	if (!ndp_checksum_ok(ip6, ns, plen, c->end))
		return PONG_R_NDP_CHECKSUM;
	return PONG_GO_ON;
}

/*
 * The fast check: truth, the IPv6 packet at ip6 is a neighbour solicitation
 * that every rule (ipv6_check(), ndp_check_ns()) answers, in its common
 * shape: no extension header, hop limit 255, 32 bytes (the NS and one source
 * link-layer address option, which is where the NA goes) ending the frame,
 * a valid checksum, unicast source and target, different, sent to the
 * target's solicited-node group (or the target) and its MAC (or ours), from
 * unicast MACs. Any other solicitation takes the rules one by one. True:
 * reply_mac holds the solicitor's link-layer address, where the NA goes.
 */
static __always_inline int ndp_fast_ns(const struct cursor *c, const struct eth_hdr *eth,
				       const struct ipv6hdr *ip6, const volatile __u8 *our_mac, __u64 frame_len,
				       __u8 *reply_mac)
{
	const struct nd_ns *ns = (const void *)(ip6 + 1);
	const struct nd_opt *opt = (const void *)(ns + 1);
	const __u32 *w = (const __u32 *)ns;
	__u64 sum;

	/* exactly the NS and its option: no padding, which the full path cuts off the reply */
	if ((const void *)(opt + 1) > c->end || (__u64)((const void *)(opt + 1) - (const void *)eth) != frame_len ||
	    ip6->version != 6 ||
	    /* payload length 32, next header ICMPv6, hop limit 255: one word */
	    *(const __be32 *)&ip6->payload_len != bpf_htonl(32 << 16 | IPPROTO_ICMPV6 << 8 | 255) ||
	    *(const __be16 *)ns != bpf_htons(NDISC_NS << 8) ||
	    *(const __be16 *)opt != bpf_htons(ND_OPT_SLLA << 8 | 1))
		return 0;
	if (!ipv6_is_unicast(&ip6->saddr) || !ipv6_is_unicast(&ns->target) || ipv6_equal(&ip6->saddr, &ns->target) ||
	    (!ipv6_is_solicited_node_of(&ip6->daddr, &ns->target) && !ipv6_equal(&ip6->daddr, &ns->target)))
		return 0;
	if ((!mac_is_solicited_node_of(eth->h_dest, &ns->target) && !mac_equal(eth->h_dest, our_mac)) ||
	    !mac_is_station(eth->h_source) || !mac_is_station(opt->data))
		return 0;
	/* the checksum, over the pseudo-header (length 32, next header 58) and the 32 bytes */
	sum = csum_addr6(&ip6->saddr) + csum_addr6(&ip6->daddr) + bpf_htons(32) + bpf_htons(IPPROTO_ICMPV6) +
	      w[0] + w[1] + w[2] + w[3] + w[4] + w[5] + w[6] + w[7];
	if (csum_fold64(sum) != 0xffff)
		return 0;
	mac_copy(reply_mac, opt->data);
	return 1;
}

/*
 * Turn the solicitation into "target is at our MAC" for the solicitor, at
 * reply_mac: the frame is resized to exactly the NA (IPv6 + 32 bytes; no
 * helper call when it already is, as in the common shape) and written over
 * the NS, which holds the target at the NA's place and the solicitor where
 * the NA's destination goes; VLAN tags before l3_offset stay as they were.
 * The checksum is summed from what the NA holds: the target twice
 * (pseudo-header source and the message), the solicitor, our MAC and
 * constants. PONG_GO_ON, or no_room if the frame cannot be resized
 * (unchanged then). eth and ip6: the frame's, as classified.
 */
static __always_inline int ndp_reply(struct xdp_md *ctx, struct eth_hdr *eth, struct ipv6hdr *ip6,
				     const __u8 *reply_mac, const volatile __u8 *our_mac)
{
	__u64 l3 = ((void *)ip6 - (void *)eth) & 0xff;     /* 64-bit bounds for the verifier */
	int want = (int)(l3 + sizeof(struct ipv6hdr) + sizeof(struct nd_na));
	int have = (int)(ctx->data_end - ctx->data);
	__u32 mac_hi = *(const volatile __u32 *)our_mac;
	__u16 mac_lo = *(const volatile __u16 *)(our_mac + 4);
	void *end = (void *)(long)ctx->data_end;
	struct nd_na *na;
	__u64 sum;

	if (want != have) {
		if (l3 > L3_OFFSET_MAX || bpf_xdp_adjust_tail(ctx, want - have))
			return PONG_R_NO_ROOM;   /* the frame is unchanged when the helper fails */
		eth = (void *)(long)ctx->data;
		end = (void *)(long)ctx->data_end;
		ip6 = (void *)eth + l3;
	}
	na = (void *)(ip6 + 1);
	if ((void *)(eth + 1) > end || (void *)(na + 1) > end)
		return PONG_DROP;        /* cannot happen: the frame is exactly want bytes */

	sum = 2 * csum_addr6(&na->target) + csum_addr6(&ip6->saddr) + mac_hi + mac_lo +
	      bpf_htons(sizeof(*na)) + bpf_htons(IPPROTO_ICMPV6) +          /* pseudo-header */
	      bpf_htons(NDISC_NA << 8) + bpf_htons(NA_FLAGS_HI) +            /* type, code; flags */
	      bpf_htons(ND_OPT_TLLA << 8 | 1);

	/* Ethernet: to the solicitor's link-layer address, from ours */
	mac_copy(eth->h_dest, reply_mac);
	*(__u32 *)eth->h_source = mac_hi;
	*(__u16 *)(eth->h_source + 4) = mac_lo;
	/* IPv6: version 6, no traffic class or flow label; 32 bytes of ICMPv6, hop limit 255;
	 * from the target to the solicitor */
	*(__be32 *)ip6 = bpf_htonl(0x60000000);
	*(__be32 *)&ip6->payload_len = bpf_htonl(sizeof(*na) << 16 | IPPROTO_ICMPV6 << 8 | 255);
	ipv6_copy(&ip6->daddr, &ip6->saddr);
	ipv6_copy(&ip6->saddr, &na->target);
	/* the NA, its target where the solicitation had it */
	*(__be16 *)na = bpf_htons(NDISC_NA << 8);
	na->cksum = (__sum16)~csum_fold64(sum);
	na->flags = bpf_htonl((__u32)NA_FLAGS_HI << 16);
	*(__be16 *)&na->tlla = bpf_htons(ND_OPT_TLLA << 8 | 1);
	*(__u32 *)na->tlla.data = mac_hi;
	*(__u16 *)(na->tlla.data + 4) = mac_lo;
	return PONG_GO_ON;
}

#endif
