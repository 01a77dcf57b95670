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
#define PONG_EVENTS_MAP    "pong_events"
#define PONG_CLAIMS4_MAP   "pong_claims4"
#define PONG_CLAIMS6_MAP   "pong_claims6"
#define PONG_VERDICTS4_MAP "pong_verdicts4"
#define PONG_VERDICTS6_MAP "pong_verdicts6"
#define PONG_ASKS_MAP      "pong_asks"
#define PONG_PROBER_MAP    ".data.prober"  /* the map of pong_prober, by suffix */
#define PONG_SETTINGS_MAP  ".data.settings" /* the map of pong_settings, by suffix */
#define PONG_CONFIG_MAP    ".rodata"       /* the map of pong_cfg, by suffix ... */
#define PONG_CONFIG_VAR    "pong_cfg"      /* ... and the variable, by name in its BTF */
#define PONG_IFACE_MAP     ".data.iface"   /* the map of pong_iface, by suffix */
#define PONG_OWN4_MAP      "pong_own4"
#define PONG_OWN6_MAP      "pong_own6"
#define PONG_OWN_NETS4_MAP "pong_own_nets4"
#define PONG_OWN_NETS6_MAP "pong_own_nets6"
#define PONG_OWN_FILTER_MAP ".data.own"    /* the map of pong_own_filter, by suffix */
#define PONG_PREFIX_MAX    1024            /* prefixes per family and interface */
#define PONG_RL_BUCKETS    16384           /* hashed per-source buckets, per class of request */
#define PONG_CLAIMS_MAX    16384           /* addresses tracked by --unclaimed, per family (full: fail closed) */
#define PONG_OWN_MAX       4096            /* the host's own addresses, per family */
#define PONG_OWN_NETS_MAX  64              /* local prefixes of the host (AnyIP), per family */
#define PONG_DEFAULT_TTL   64
/*
 * --unclaimed (lib/claim.h, loader/probe.c): an address asked for is probed
 * by `run` (PONG_PROBES probes, PONG_PROBE_GAP_MS apart, an answer awaited
 * until PONG_PROBE_WAIT_MS after the last); unanswered, it is claimed, and probed
 * again every PONG_REVERIFY_S while claimed. A claim not verified again
 * within PONG_CLAIM_TTL_S lapses (fail closed, should `run` stall). The
 * datapath tells `run` of a request for an unclaimed address at most every
 * PONG_ASK_GAP_MS per address; `run` forgets an address not asked for in
 * PONG_CLAIM_IDLE_S. An address whose owner showed signs of life is neither
 * probed nor claimed until the owner has been silent for PONG_OWNER_HOLD_S
 * (a host doing DAD or RFC 5227 ACD is silent to our probes while it does).
 */
#define PONG_PROBES           3
#define PONG_PROBE_GAP_MS     100
#define PONG_PROBE_WAIT_MS    150
#define PONG_REVERIFY_S       10
#define PONG_CLAIM_TTL_S      30
#define PONG_ASK_GAP_MS       500
#define PONG_CLAIM_IDLE_S     120
#define PONG_PROBE_PPS        500            /* probes sent per second per interface, at most */
#define PONG_PROBER_DEAD_S    5              /* claims hold only while run beat within this */
#define PONG_OWNER_HOLD_S     60             /* an owner seen: not probed, not claimed, for this long */

/*
 * Outcome counters. Every frame the program sees lands in exactly one of them:
 * a reply of some kind, "passed" (not a frame xdp-pong answers) or "refused"
 * (a frame xdp-pong would answer, but a safety rule said no; see reasons).
 * udp4/udp6 (a port unreachable), tcp4/tcp6 (a RST) and timestamp (an
 * ICMP timestamp reply) are answered only when --answer turns them on:
 * until then their frames are "passed".
 * X(id, json name)
 */
#define PONG_COUNTERS(X)          \
	X(ECHO4,   "echo4")       \
	X(ARP,     "arp")         \
	X(ECHO6,   "echo6")       \
	X(NDP,     "ndp")         \
	X(UDP4,    "udp4")        \
	X(UDP6,    "udp6")        \
	X(TCP4,    "tcp4")        \
	X(TCP6,    "tcp6")        \
	X(TIMESTAMP, "timestamp") \
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
	X(L2_SRC,         "l2_src",         "source MAC (or ARP/NDP sender MAC) multicast, broadcast or all-zero") \
	X(TRUNCATED,      "truncated",      "header cut short (frame or IP length)")         \
	X(IP_HEADER,      "ip_header",      "IP version, header, total length or (UDP, TCP, timestamp) header checksum invalid") \
	X(IP_FRAGMENT,    "ip_fragment",    "fragment not answered: its datagram's first was not, or Linux would drop it") \
	X(IP_OPTIONS,     "ip_options",     "IPv4 options Linux would not answer (source route, malformed...)") \
	X(IP_SRC,         "ip_src",         "source (or ARP sender) in 0/8, 127/8, 224/4 or 240/4, or (--answer) the host's own") \
	X(IP_DST,         "ip_dst",         "destination in 0/8, 127/8, 224/4 or broadcast") \
	X(ICMP_TYPE,      "icmp_type",      "ICMP type is not echo request (nor timestamp request, with --answer timestamp)") \
	X(ICMP_CODE,      "icmp_code",      "neighbour solicitation with code != 0") \
	X(ARP_FORMAT,     "arp_format",     "ARP not Ethernet/IPv4 (htype, ptype, lengths)") \
	X(ARP_OP,         "arp_op",         "ARP operation is not request")                  \
	X(ARP_PROBE,      "arp_probe",      "ARP probe (sender IP 0.0.0.0, RFC 5227)")       \
	X(ARP_GRATUITOUS, "arp_gratuitous", "gratuitous ARP (sender IP == target IP)")       \
	X(ARP_TARGET,     "arp_target",     "ARP target in 0/8, 127/8, 224/4 or broadcast")  \
	X(IP6_SRC,        "ip6_src",        "IPv6 source unspecified, multicast, loopback or (echo) IPv4-mapped") \
	X(IP6_DST,        "ip6_dst",        "IPv6 destination unspecified, multicast or loopback") \
	X(IP6_EXT_HEADER, "ip6_ext_header", "IPv6 extension header before ICMPv6 (or UDP, TCP with --answer)") \
	X(NDP_HOP_LIMIT,  "ndp_hop_limit",  "neighbour solicitation with hop limit != 255")   \
	X(NDP_FORMAT,     "ndp_format",     "neighbour solicitation too short or with malformed options") \
	X(NDP_CHECKSUM,   "ndp_checksum",   "neighbour solicitation with a wrong checksum")   \
	X(NDP_DAD,        "ndp_dad",        "duplicate-address probe (source ::, RFC 4862)")  \
	X(NDP_TARGET,     "ndp_target",     "NS target multicast, unspecified or loopback")    \
	X(NDP_SELF,       "ndp_self",       "NS whose source is its target (NDP's gratuitous ARP)") \
	X(NDP_DST,        "ndp_dst",        "NS sent neither to the target nor to its solicited-node group") \
	X(NO_ROOM,        "no_room",        "no room in the frame buffer to build the reply") \
	X(L4_CHECKSUM,    "l4_checksum",    "UDP, TCP or ICMP timestamp request with a wrong checksum (Linux drops it)") \
	X(TCP_RST,        "tcp_rst",        "TCP segment with RST set: never answered (RFC 9293)") \
	X(NO_SCOPE,       "no_scope",       "--answer kind, but no --prefix list says for which addresses") \
	X(OWN_ADDRESS,    "own_address",    "an address of this host: the kernel answers for it") \
	X(NOT_IN_PREFIX,  "not_in_prefix",  "address outside the interface's --prefix list")   \
	X(NOT_CLAIMED,    "not_claimed",    "--unclaimed: not (yet) verified free by xdp-pong's own probes") \
	X(OWNER_SEEN,     "owner_seen",     "--unclaimed: its owner showed signs of life")      \
	X(RATE_LIMITED,   "rate_limited",   "over --rate-limit, --global-limit or (port unreachables) --icmp-ratelimit (dropped)")

enum pong_reason {
	PONG_R_NONE = 0,
#define PONG_X_ENUM(id, name, text) PONG_R_##id,
	PONG_REASONS(PONG_X_ENUM)
#undef PONG_X_ENUM
	PONG_R__MAX
};

/*
 * Events that are not outcomes of a frame, counted per CPU in pong_events
 * (--unclaimed): an address claimed (its probes went unanswered: counted by
 * `run`, which decides), a claim released (its owner showed signs of life:
 * counted by the datapath, which sees them), a probe sent (by `run`).
 * X(id, json name)
 */
#define PONG_EVENTS(X)              \
	X(CLAIMED,  "claimed")      \
	X(RELEASED, "released")     \
	X(PROBES,   "probes")

enum pong_event {
#define PONG_X_ENUM(id, name) PONG_EV_##id,
	PONG_EVENTS(PONG_X_ENUM)
#undef PONG_X_ENUM
	PONG_EV__MAX
};

/* Value of the counter maps (per CPU; userspace sums over all CPUs). */
struct pong_stat {
	__u64 packets;
	__u64 bytes;
};

/* Per-load configuration, written by the loader into .rodata before load. */
struct pong_config {
	__u8 ttl;          /* IPv4 TTL and IPv6 hop limit of every reply */
	__u8 partial_csum; /* 1: the interface is a veth, whose frames from local sockets carry
			    * CHECKSUM_PARTIAL UDP/TCP checksums (lib/csum.h); 0: verify every one */
	__u8 pad[2];
	__u32 seed;        /* random, per load: the rate limiter's hash, which a flood cannot aim */
	__u32 reply_seed;  /* random, per load, apart from seed (replies show its hashes): the
			    * replies' IPv4 identification and IPv6 flow label */
	__u32 pad2;
} __attribute__((aligned(8)));

/*
 * The interface's MAC, the source of every reply and the address ARP and NA
 * advertise, and the kernel's TAI offset: in a section of its own
 * (.data.iface), writable while the program runs, so that `run` can follow a
 * MAC change (a bond's failover, MAC randomisation) and the TAI offset (an
 * NTP daemon started after us, a leap second) without reloading. The
 * loader writes the whole value.
 */
struct pong_iface {
	__u8 mac[6];   /* read as a 32-bit and a 16-bit word */
	__u8 tai_s;    /* the kernel's CLOCK_TAI - CLOCK_REALTIME, in seconds (adjtimex's tai; 0 until
			* an NTP daemon sets it): IPv4 timestamps are CLOCK_TAI less this. `run`
			* follows it as it follows the MAC; `attach` leaves it as it was at attach */
	__u8 pad;
} __attribute__((aligned(8)));

/*
 * Run-time settings, in the program's .data.settings (writable while attached): the
 * CLI rewrites the whole struct. Limits are GCRA token buckets holding one
 * second of their rate; interval = 1e9 / pps, 0 = no limit.
 */
struct pong_settings {
	__u32 scoped;               /* answer only addresses inside the prefix lists */
	__u32 source_pps;           /* per-source limit (IPv4 /32, IPv6 /64), for display */
	__u32 global_pps;           /* limit on all replies, for display */
	__u32 unclaimed;            /* answer ARP/NS only for addresses verified free (--unclaimed) */
	__u64 source_interval_ns;
	__u64 global_interval_ns;
	__u64 unclaimed_since_ns;   /* when --unclaimed was last turned on: older verdicts do not count */
	__u64 error_interval_ns[2]; /* ICMP errors to each IPv4 [0] and IPv6 [1] source: one per this,
				     * PONG_ERROR_BURST at once (--icmp-ratelimit, as Linux's
				     * icmp_ratelimit and icmp/ratelimit); 0 = no limit */
	__u32 error_ms[2];          /* the same in ms, for display */
	__u32 answer;               /* PONG_ANSWER_* bits: the kinds, off by default, that are answered
				     * (only with scoped: else no_scope) */
	__u32 pad;
	__u32 active;               /* PONG_ACTIVE_*: derived from the fields above by the CLI on
				     * every write (loader/prog.c settings_change()) */
	__u32 layout;               /* PONG_SETTINGS_LAYOUT: a CLI that knows another layout (whose
				     * writes would leave fields it does not know stale) refuses it;
				     * always the last field */
};
#define PONG_SETTINGS_LAYOUT 4
#define PONG_ACTIVE_NONE     0   /* no policy: the fast path answers the common requests */
#define PONG_ACTIVE_POLICY   1   /* scope, claims or a limit on: fast checks, then the policy */
#define PONG_ACTIVE_RULES    2   /* tests only: every frame through the rules one by one */

/*
 * The kinds --answer turns on (pong_settings.answer), off by default: their
 * replies are not harmless as an echo reply is (a RST or a port unreachable
 * for a real host's address breaks its traffic), so they are answered only
 * for addresses inside a --prefix list (with --unclaimed, claimed ones in it).
 * X(id, name, bit)
 */
#define PONG_ANSWERS(X)                 \
	X(UDP,       "udp",       1)    \
	X(TCP,       "tcp",       2)    \
	X(TIMESTAMP, "timestamp", 4)

enum pong_answer {
#define PONG_X_ENUM(id, name, bit) PONG_ANSWER_##id = bit,
	PONG_ANSWERS(PONG_X_ENUM)
#undef PONG_X_ENUM
#define PONG_X_BIT(id, name, bit) | bit
	PONG_ANSWER_ALL = 0 PONG_ANSWERS(PONG_X_BIT)
#undef PONG_X_BIT
};
#define PONG_FRAG_MAX         16384  /* fragmented echo requests remembered (lib/frag.h) */
#define PONG_FRAG_TIMEOUT_S   30     /* how long their later fragments are answered: Linux's ipfrag_time */
#define PONG_ERROR_BURST      6      /* ICMP errors a source gets at once (Linux's XRLIM_BURST_FACTOR) */
#define PONG_DEFAULT_ERROR_MS  1000  /* --icmp-ratelimit's default for IPv4, Linux's icmp_ratelimit ... */
#define PONG_DEFAULT_ERROR6_MS 100   /* ... and for IPv6, Linux's net.ipv6.icmp.ratelimit */

/*
 * What --unclaimed knows of an address, per VLAN: two maps per family with
 * one writer each, keyed alike. pong_claims4/6 (written by the datapath
 * only, entries made by requests only): when it was asked for, and when its
 * owner last showed signs of life. pong_verdicts4/6 (written by `run`
 * only): its probes. The datapath answers for an address while
 *     verified_ns && owner_ns < verified_ns && now - verified_ns < TTL,
 * verified_ns being the start of the last probe round nobody answered: a
 * sign of life at any moment after that round began ends the claim at once,
 * whichever side writes first. Times are CLOCK_MONOTONIC ns (bpf_ktime_get_ns).
 *
 * vlan[]: the frame's tags, outer first; 0 = no tag, else PONG_VLAN_TAG |
 * the VLAN id, with PONG_VLAN_AD for an 802.1ad (S-) tag.
 */
#define PONG_VLAN_TAG 0x8000
#define PONG_VLAN_AD  0x4000

struct pong_claim_key4 {
	__u16 vlan[2];
	__u8 addr[4];
};

struct pong_claim_key6 {
	__u16 vlan[2];
	__u8 addr[16];
};

struct pong_claim {                 /* the datapath's */
	__u64 asked_ns;             /* last request for it */
	__u64 owner_ns;             /* last sign of life of its owner (0: none seen) */
	__u64 hits;                 /* requests answered for it */
	__u64 told_ns;              /* last time `run` was told of a request (pong_asks) */
};

struct pong_verdict {               /* run's */
	__u64 verified_ns;          /* start of the last probe round nobody answered (0: none) */
	__u64 round_ns;             /* start of the last probe round */
	__u32 probing;              /* 1 while that round is under way */
	__u32 probes;               /* probes sent in that round */
};

/*
 * The claim rule above, but for run's heartbeat, which the datapath adds
 * (lib/claim.h): one statement for the datapath, run's prober and `claims`.
 * since: the settings' unclaimed_since_ns.
 */
static inline int pong_claim_verified(const struct pong_claim *c, const struct pong_verdict *v, __u64 since,
				      __u64 now)
{
	return v->verified_ns && c->owner_ns < v->verified_ns && v->verified_ns > since &&
	       now - v->verified_ns < PONG_CLAIM_TTL_S * 1000000000ull;
}

/* A request for an address not claimed, told to `run` (ring buffer pong_asks). */
struct pong_ask {
	__u16 vlan[2];
	__u32 family;               /* AF_INET or AF_INET6 */
	__u8 addr[16];
};

/*
 * Written by `run` four times a second (.data.prober): claims hold only while
 * it beats (PONG_PROBER_DEAD_S), and `set --unclaimed` is refused without it.
 */
struct pong_prober_beat {
	__u64 beat_ns;              /* CLOCK_MONOTONIC */
	__u32 pid;
	__u32 pad;
} __attribute__((aligned(8)));

/*
 * The host's own addresses (lib/own.h): pong_own4 / pong_own6 hold them, and
 * this filter, in .data.own, has the bit of each set (the loader writes the
 * whole value). Both sides compute a bit from the address's bytes as they
 * lie in memory, on the same machine. Until the loader has written the
 * addresses (ready 0), every bit is set and every address counts as the
 * host's: nothing is answered before the program knows what not to answer.
 */
#define PONG_OWN_FILTER_LOG2  16
#define PONG_OWN_FILTER_WORDS ((1u << PONG_OWN_FILTER_LOG2) / 64)

struct pong_own_filter {
	__u64 ready;                 /* 1 once the maps hold the host's addresses */
	__u32 nets4, nets6;          /* local prefixes in pong_own_nets4/6: looked up only if any */
	__u64 bits[PONG_OWN_FILTER_WORDS];
};

static inline __u32 pong_own_hash(__u32 x)
{
	return (x * 0x9e3779b1u) >> (32 - PONG_OWN_FILTER_LOG2);
}

static inline __u32 pong_own_bit4(__u32 addr)
{
	return pong_own_hash(addr);
}

static inline __u32 pong_own_bit6(const volatile __u32 *addr)
{
	return pong_own_hash(addr[0] ^ addr[1] ^ addr[2] ^ addr[3]);
}

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
