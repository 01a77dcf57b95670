/* SPDX-License-Identifier: GPL-2.0 */
/* Ethernet and 802.1Q/802.1ad parsing; the header cursor used by every parser. */
#ifndef PONG_LIB_ETH_H
#define PONG_LIB_ETH_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "verdict.h"

#define VLAN_MAX_DEPTH 2   /* 802.1Q, or 802.1ad outer + 802.1Q inner (QinQ) */
#define ETH_L2_MAX     22  /* the longest L2 header: Ethernet and VLAN_MAX_DEPTH tags */

/*
 * The Ethernet header. Unlike <linux/if_ether.h>'s packed struct ethhdr it
 * is 2-byte aligned, so the compiler reads and writes it in 16-bit words
 * rather than byte by byte. MAC helpers below rely on that alignment.
 */
struct eth_hdr {
	__u8 h_dest[ETH_ALEN];
	__u8 h_source[ETH_ALEN];
	__be16 h_proto;
} __attribute__((aligned(2)));

/*
 * Where parsing stands: pos is the next unparsed byte. vlan: the frame's
 * tags, outer first, as --unclaimed keys its state (pong.h: 0 = no tag).
 */
struct cursor {
	void *pos;
	void *end;
	__u16 vlan[VLAN_MAX_DEPTH];
};

struct vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

static __always_inline int proto_is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

/*
 * Parse the Ethernet header and up to VLAN_MAX_DEPTH tags: PONG_GO_ON with
 * *proto the inner EtherType (host order) and the cursor on the L3 header,
 * or PONG_NOT_OURS for a runt or a frame with more tags than we handle. Tags
 * are left in place: a reply built in the same buffer carries them unchanged.
 */
static __always_inline int parse_eth(struct cursor *c, struct eth_hdr **ethp, __u16 *protop)
{
	struct eth_hdr *eth = c->pos;
	__be16 proto;

	if ((void *)(eth + 1) > c->end)
		return PONG_NOT_OURS;
	*ethp = eth;
	c->pos = eth + 1;
	proto = eth->h_proto;

#pragma unroll
	for (int i = 0; i < VLAN_MAX_DEPTH; i++) {
		struct vlan_hdr *vlan = c->pos;

		if (!proto_is_vlan(proto))
			break;
		if ((void *)(vlan + 1) > c->end)
			return PONG_NOT_OURS;
		/* a priority tag (VLAN 0) is no VLAN: its frames are the untagged ones' */
		if (bpf_ntohs(vlan->tci) & 0x0fff)
			c->vlan[i] = PONG_VLAN_TAG | (proto == bpf_htons(ETH_P_8021AD) ? PONG_VLAN_AD : 0) |
				     (bpf_ntohs(vlan->tci) & 0x0fff);
		proto = vlan->encap_proto;
		c->pos = vlan + 1;
	}
	if (!c->vlan[0]) {          /* an outer priority tag: the inner VLAN is the VLAN */
		c->vlan[0] = c->vlan[1];
		c->vlan[1] = 0;
	}
	if (proto_is_vlan(proto))
		return PONG_NOT_OURS;
	*protop = bpf_ntohs(proto);
	return PONG_GO_ON;
}

static __always_inline int mac_is_multicast(const __u8 *mac)
{
	return mac[0] & 1;   /* includes broadcast */
}

/*
 * MACs are handled as a 32-bit and a 16-bit word. The MACs we touch are
 * only 2-byte aligned; a 32-bit access there is one instruction on the
 * architectures XDP runs on (the verifier allows unaligned packet access
 * where the CPU does it efficiently), where the compiler, told the truth,
 * would split it into halves.
 */
static __always_inline int mac_is_broadcast(const __u8 *mac)
{
	return *(const __u32 *)mac == 0xffffffff && *(const __u16 *)(mac + 4) == 0xffff;
}

static __always_inline int mac_is_zero(const __u8 *mac)
{
	return (*(const __u32 *)mac | *(const __u16 *)(mac + 4)) == 0;
}

/* A MAC a host sends from: neither multicast (broadcast included) nor all-zero. */
static __always_inline int mac_is_station(const __u8 *mac)
{
	return !mac_is_multicast(mac) && !mac_is_zero(mac);
}

static __always_inline int mac_equal(const __u8 *a, const volatile __u8 *b)
{
	return ((*(const __u32 *)a ^ *(const volatile __u32 *)b) |
		(*(const __u16 *)(a + 4) ^ *(const volatile __u16 *)(b + 4))) == 0;
}

static __always_inline void mac_copy(__u8 *dst, const volatile __u8 *src)
{
	*(__u32 *)dst = *(const volatile __u32 *)src;
	*(__u16 *)(dst + 4) = *(const volatile __u16 *)(src + 4);
}

/* Address the frame back to its sender, from our own MAC. */
static __always_inline void eth_reply(struct eth_hdr *eth, const volatile __u8 *our_mac)
{
	mac_copy(eth->h_dest, eth->h_source);
	mac_copy(eth->h_source, our_mac);
}

/* A frame sent to our MAC from a unicast one, as an IP request must be: else l2_dst or l2_src. */
static __always_inline int eth_check_unicast(const struct eth_hdr *eth, const volatile __u8 *our_mac)
{
	if (!mac_equal(eth->h_dest, our_mac))
		return PONG_R_L2_DST;
	if (!mac_is_station(eth->h_source))
		return PONG_R_L2_SRC;
	return PONG_GO_ON;
}

#endif
