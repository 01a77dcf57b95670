// SPDX-License-Identifier: GPL-2.0
/* Benchmark sink on the generator's interface: count what comes back, by kind, and drop it. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bench.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SINK__MAX);
	__type(key, __u32);
	__type(value, __u64);
} sink_counts SEC(".maps");

static __always_inline __u32 kind_of(void *data, const void *end)
{
	struct ethhdr *eth = data;
	__u8 *p;

	if ((void *)(eth + 1) > end)
		return SINK_OTHER;
	p = (void *)(eth + 1);
	switch (bpf_ntohs(eth->h_proto)) {
	case ETH_P_ARP:   /* ARP op is at offset 6..7 */
		if ((void *)(p + 8) <= end && p[6] == 0 && p[7] == 2)
			return SINK_ARP;
		break;
	case ETH_P_IP: {
		struct iphdr *ip = (void *)p;
		__u8 *icmp;

		if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_ICMP)
			break;
		icmp = (void *)ip + ip->ihl * 4;
		if ((void *)(icmp + 1) <= end && icmp[0] == 0)
			return SINK_ECHO4;
		break;
	}
	case ETH_P_IPV6: {
		struct ipv6hdr *ip6 = (void *)p;
		__u8 *icmp6 = (void *)(ip6 + 1);

		if ((void *)(icmp6 + 1) > end || ip6->nexthdr != IPPROTO_ICMPV6)
			break;
		if (icmp6[0] == 129)
			return SINK_ECHO6;
		if (icmp6[0] == 136)
			return SINK_NDP;
		break;
	}
	}
	return SINK_OTHER;
}

SEC("xdp")
int xdp_sink(struct xdp_md *ctx)
{
	__u32 kind = kind_of((void *)(long)ctx->data, (void *)(long)ctx->data_end);
	__u64 *count = bpf_map_lookup_elem(&sink_counts, &kind);

	if (count)
		(*count)++;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
