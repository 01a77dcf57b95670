// SPDX-License-Identifier: GPL-2.0
/*
 * XDP_PASS, nothing else. The lab and the benchmark attach it to the peer of
 * a veth that runs xdp-pong: a veth delivers XDP_TX frames only when its peer
 * has NAPI enabled, and an attached XDP program is what enables it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
