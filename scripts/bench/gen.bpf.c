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
#include <bpf/bpf_endian.h>
#include "bench.h"

struct {
	__u32 len;
	__u32 random_src;     /* non-zero: an IPv4 frame whose source gets a random 10/8 address every run */
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
	if (tmpl.random_src) {
		/*
		 * A spoofed flood: a random source in 10.0.0.0/8 (16M sources),
		 * the header checksum updated to match (RFC 1624), so that
		 * anything on the way that checks it (a bridge calling
		 * iptables) passes the frame on.
		 */
		__u16 old[2], new[2], check;
		__u32 src = bpf_htonl(0x0a000000 | (bpf_get_prandom_u32() & 0x00ffffff)), sum;

		__builtin_memcpy(old, &tmpl.data[GEN_IPV4_SRC], 4);
		__builtin_memcpy(&check, &tmpl.data[GEN_IPV4_SRC - 2], 2);
		__builtin_memcpy(new, &src, 4);
		sum = (__u16)~check + (__u16)~old[0] + (__u16)~old[1] + new[0] + new[1];
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		check = (__u16)~sum;
		if (bpf_xdp_store_bytes(ctx, GEN_IPV4_SRC, &src, 4) ||
		    bpf_xdp_store_bytes(ctx, GEN_IPV4_SRC - 2, &check, 2))
			return XDP_ABORTED;
	}
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
