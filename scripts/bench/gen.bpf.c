// SPDX-License-Identifier: GPL-2.0
/*
 * Load generator, run with BPF_PROG_TEST_RUN and BPF_F_TEST_XDP_LIVE_FRAMES:
 * every run writes the request frame from tmpl into the page and transmits
 * it (XDP_TX becomes a redirect out of the interface given as ingress).
 * The frame must be written every run: pages come back recycled, carrying
 * whatever the responder turned them into. The kernel restores the frame's
 * bounds, not its bytes. Responders write only into headers (xdp-pong's
 * largest write, a neighbour advertisement, ends before byte 94), so the
 * first GEN_REWRITE bytes are rewritten; the rest of the page still holds
 * the payload the page pool was initialised with.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "bench.h"

struct {
	__u32 len;
	__u8 data[GEN_MAX_FRAME];
} tmpl;

SEC("xdp")
int xdp_gen(struct xdp_md *ctx)
{
	__u32 len = tmpl.len;

	if (len < 14 || len > GEN_MAX_FRAME)
		return XDP_ABORTED;
	if (len > GEN_REWRITE)
		len = GEN_REWRITE;
	if (bpf_xdp_store_bytes(ctx, 0, tmpl.data, len))
		return XDP_ABORTED;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
