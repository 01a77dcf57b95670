/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the benchmark's BPF programs and its generator tool. */
#ifndef PONG_BENCH_H
#define PONG_BENCH_H

#define GEN_MAX_FRAME 1514
#define GEN_REWRITE   256    /* bytes the generator rewrites every run */
#define GEN_IPV4_SRC  26     /* offset of the IPv4 source in an untagged frame */

/* What the sink counts, by the kind of frame that came back. */
enum sink_kind {
	SINK_ECHO4,    /* ICMP echo reply */
	SINK_ARP,      /* ARP reply */
	SINK_ECHO6,    /* ICMPv6 echo reply */
	SINK_NDP,      /* neighbour advertisement */
	SINK_OTHER,
	SINK__MAX
};

#define SINK_KIND_NAMES { "echo4", "arp", "echo6", "ndp", "other" }

#endif
