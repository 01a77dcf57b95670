/* SPDX-License-Identifier: GPL-2.0 */
/* Ethernet and 802.1Q/802.1ad parsing; the header cursor used by every parser. */
#ifndef PONG_LIB_ETH_H
#define PONG_LIB_ETH_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define VLAN_MAX_DEPTH 2   /* 802.1Q, or 802.1ad outer + 802.1Q inner (QinQ) */

/* Where parsing stands: pos is the next unparsed byte. */
struct cursor {
	void *pos;
	void *end;
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
 * Parse the Ethernet header and up to VLAN_MAX_DEPTH tags. Returns the inner
 * EtherType (host order) with the cursor on the L3 header, or -1 for a runt or
 * a frame with more tags than we handle. Tags are left in place: a reply built
 * in the same buffer carries them unchanged.
 */
static __always_inline int parse_eth(struct cursor *c, struct ethhdr **ethp)
{
	struct ethhdr *eth = c->pos;
	__be16 proto;

	if ((void *)(eth + 1) > c->end)
		return -1;
	*ethp = eth;
	c->pos = eth + 1;
	proto = eth->h_proto;

#pragma unroll
	for (int i = 0; i < VLAN_MAX_DEPTH; i++) {
		struct vlan_hdr *vlan = c->pos;

		if (!proto_is_vlan(proto))
			break;
		if ((void *)(vlan + 1) > c->end)
			return -1;
		proto = vlan->encap_proto;
		c->pos = vlan + 1;
	}
	if (proto_is_vlan(proto))
		return -1;
	return bpf_ntohs(proto);
}

static __always_inline int mac_is_multicast(const __u8 *mac)
{
	return mac[0] & 1;   /* includes broadcast */
}

static __always_inline int mac_is_broadcast(const __u8 *mac)
{
	return (mac[0] & mac[1] & mac[2] & mac[3] & mac[4] & mac[5]) == 0xff;
}

static __always_inline int mac_equal(const __u8 *a, const volatile __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] &&
	       a[3] == b[3] && a[4] == b[4] && a[5] == b[5];
}

static __always_inline void mac_copy(__u8 *dst, const volatile __u8 *src)
{
	dst[0] = src[0]; dst[1] = src[1]; dst[2] = src[2];
	dst[3] = src[3]; dst[4] = src[4]; dst[5] = src[5];
}

/* Address the frame back to its sender, from our own MAC. */
static __always_inline void eth_reply(struct ethhdr *eth, const volatile __u8 *our_mac)
{
	mac_copy(eth->h_dest, eth->h_source);
	mac_copy(eth->h_source, our_mac);
}

#endif
