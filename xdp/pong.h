/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ABI shared by the XDP program (xdp/pong.bpf.c) and the CLI (loader/):
 * program and map names, counter ids, refusal reasons and the per-load config.
 * Both sides include this file; ids are indexes into per-CPU array maps.
 */
#ifndef PONG_H
#define PONG_H

#ifndef __KERNEL__
#include <linux/types.h>
#endif

#define PONG_PROG_NAME     "xdp_pong"
#define PONG_COUNTERS_MAP  "pong_counters"
#define PONG_REASONS_MAP   "pong_reasons"
#define PONG_PREFIX4_MAP   "pong_prefix4"
#define PONG_PREFIX6_MAP   "pong_prefix6"
#define PONG_SETTINGS_MAP  ".bss"          /* the map of pong_settings, by suffix */
#define PONG_PREFIX_MAX    1024            /* prefixes per family and interface */
#define PONG_RL_SOURCES    65536           /* sources tracked by the per-source limit (LRU) */
#define PONG_DEFAULT_TTL   64

/*
 * Outcome counters. Every frame the program sees lands in exactly one of them:
 * a reply of some kind, "passed" (not a frame xdp-pong answers) or "refused"
 * (a frame xdp-pong would answer, but a safety rule said no; see reasons).
 * X(id, json name)
 */
#define PONG_COUNTERS(X)          \
	X(ECHO4,   "echo4")       \
	X(ARP,     "arp")         \
	X(ECHO6,   "echo6")       \
	X(NDP,     "ndp")         \
	X(PASSED,  "passed")      \
	X(REFUSED, "refused")

enum pong_counter {
#define PONG_X_ENUM(id, name) PONG_CNT_##id,
	PONG_COUNTERS(PONG_X_ENUM)
#undef PONG_X_ENUM
	PONG_CNT__MAX
};

/*
 * Refusal reasons: why a candidate frame got no reply. The frame is passed to
 * the kernel untouched. Id 0 is unused, so a handler can return 0 for "reply".
 * X(id, json name, one-line explanation)
 */
#define PONG_REASONS(X)                                                              \
	X(L2_DST,         "l2_dst",         "destination MAC neither ours nor (ARP) broadcast") \
	X(L2_SRC,         "l2_src",         "source MAC (or ARP/NDP sender MAC) multicast or broadcast") \
	X(TRUNCATED,      "truncated",      "header cut short (frame or IP length)")         \
	X(IP_HEADER,      "ip_header",      "IP version, header or total length invalid")    \
	X(IP_FRAGMENT,    "ip_fragment",    "IPv4 fragment")                                 \
	X(IP_OPTIONS,     "ip_options",     "IPv4 source route option, or malformed options") \
	X(IP_SRC,         "ip_src",         "source (or ARP sender) in 0/8, 127/8, 224/4 or 240/4") \
	X(IP_DST,         "ip_dst",         "destination in 0/8, 127/8, 224/4 or broadcast") \
	X(ICMP_TYPE,      "icmp_type",      "ICMP type is not echo request")                 \
	X(ICMP_CODE,      "icmp_code",      "ICMP/ICMPv6 echo request or NS with code != 0") \
	X(ARP_FORMAT,     "arp_format",     "ARP not Ethernet/IPv4 (htype, ptype, lengths)") \
	X(ARP_OP,         "arp_op",         "ARP operation is not request")                  \
	X(ARP_PROBE,      "arp_probe",      "ARP probe (sender IP 0.0.0.0, RFC 5227)")       \
	X(ARP_GRATUITOUS, "arp_gratuitous", "gratuitous ARP (sender IP == target IP)")       \
	X(ARP_TARGET,     "arp_target",     "ARP target in 0/8, 127/8, 224/4 or broadcast")  \
	X(IP6_SRC,        "ip6_src",        "IPv6 source unspecified, multicast or loopback") \
	X(IP6_DST,        "ip6_dst",        "IPv6 destination unspecified, multicast or loopback") \
	X(IP6_EXT_HEADER, "ip6_ext_header", "IPv6 extension header before ICMPv6")           \
	X(NDP_HOP_LIMIT,  "ndp_hop_limit",  "neighbour solicitation with hop limit != 255")   \
	X(NDP_FORMAT,     "ndp_format",     "neighbour solicitation too short or with malformed options") \
	X(NDP_CHECKSUM,   "ndp_checksum",   "neighbour solicitation with a wrong checksum")   \
	X(NDP_DAD,        "ndp_dad",        "duplicate-address probe (source ::, RFC 4862)")  \
	X(NDP_TARGET,     "ndp_target",     "NS target multicast, unspecified or loopback")    \
	X(NDP_DST,        "ndp_dst",        "NS sent neither to the target nor to its solicited-node group") \
	X(NO_ROOM,        "no_room",        "no room in the frame buffer to build the reply") \
	X(NOT_IN_PREFIX,  "not_in_prefix",  "address outside the interface's --prefix list")   \
	X(RATE_LIMITED,   "rate_limited",   "over --rate-limit or --global-limit (dropped)")

enum pong_reason {
	PONG_R_NONE = 0,
#define PONG_X_ENUM(id, name, text) PONG_R_##id,
	PONG_REASONS(PONG_X_ENUM)
#undef PONG_X_ENUM
	PONG_R__MAX
};

/* Value of both counter maps (per CPU; userspace sums over all CPUs). */
struct pong_stat {
	__u64 packets;
	__u64 bytes;
};

/* Per-load configuration, written by the loader into .rodata before load. */
struct pong_config {
	__u8 mac[6];   /* the interface's MAC: source of every reply (read as 16-bit words) */
	__u8 ttl;      /* IPv4 TTL and IPv6 hop limit of echo replies */
	__u8 pad;
} __attribute__((aligned(8)));

/*
 * Run-time settings, in the program's .bss (writable while attached): the
 * CLI rewrites the whole struct. Limits are GCRA token buckets holding one
 * second of their rate; interval = 1e9 / pps, 0 = no limit.
 */
struct pong_settings {
	__u32 scoped;               /* answer only addresses inside the prefix lists */
	__u32 source_pps;           /* per-source limit (IPv4 /32, IPv6 /64), for display */
	__u32 global_pps;           /* limit on all replies, for display */
	__u32 pad;
	__u64 source_interval_ns;
	__u64 global_interval_ns;
};

/* Keys of the prefix lists (LPM tries): prefix length, then the address. */
struct pong_lpm4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct pong_lpm6 {
	__u32 prefixlen;
	__u8 addr[16];
};

#endif /* PONG_H */
