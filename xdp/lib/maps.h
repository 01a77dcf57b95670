/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every map and global variable of the program, in one place: what the
 * datapath keeps, who writes it, and where the loader finds it (by the
 * names in pong.h: a map by its name, a global by its section's, pong_cfg
 * by its own name in .rodata's BTF). The headers that use them include
 * this one. Each global has a section of its own: a global added later
 * cannot change the size the loader checks another's by.
 *
 *   written before load (the loader)    pong_cfg
 *   written by the CLI while attached   pong_iface, pong_settings,
 *                                       pong_prefix4/6, pong_own*,
 *                                       pong_verdicts4/6, pong_prober (run)
 *   written by the datapath             pong_counters, pong_reasons,
 *                                       pong_rl_*, pong_asks, pong_frag4/6
 *   by both                             pong_claims4/6 (the datapath makes
 *                                       and updates entries, run deletes
 *                                       idle ones), pong_events (released:
 *                                       the datapath; claimed, probes: run)
 */
#ifndef PONG_LIB_MAPS_H
#define PONG_LIB_MAPS_H

#include <linux/bpf.h>
#include <linux/in6.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include "../pong.h"
#include "eth.h"

/* Per load (libbpf-bootstrap style): the reply TTL and the rate limiter's seed. Found by name. */
const volatile struct pong_config pong_cfg = {
	.ttl = PONG_DEFAULT_TTL,
};

/* The interface's MAC: set before load, and rewritten by `run` when the interface's changes. */
volatile struct pong_iface pong_iface SEC(".data.iface");

/* The operator's policy (zero = every address, no limits, no claims); the CLI writes it whole. */
volatile struct pong_settings pong_settings SEC(".data.settings");

/* Outcomes (pong.h enum pong_counter) and refusal reasons (enum pong_reason), per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PONG_CNT__MAX);
	__type(key, __u32);
	__type(value, struct pong_stat);
} pong_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PONG_R__MAX);
	__type(key, __u32);
	__type(value, struct pong_stat);
} pong_reasons SEC(".maps");

/* --prefix: the interface's scope (policy.h). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PONG_PREFIX_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pong_lpm4);
	__type(value, __u8);
} pong_prefix4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PONG_PREFIX_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pong_lpm6);
	__type(value, __u8);
} pong_prefix6 SEC(".maps");

/* Rate limits (policy.h): GCRA "theoretical arrival times", in ns, per class of request:
 * PONG_RL_BUCKETS hashed per-source buckets (echo, resolve, ICMP errors), and one global
 * bucket each (echo, resolve, ICMP errors). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3 * PONG_RL_BUCKETS);
	__type(key, __u32);
	__type(value, __u64);
} pong_rl_source SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);     /* enum pong_rl_class: echo, resolve, ICMP errors */
	__type(key, __u32);
	__type(value, __u64);
} pong_rl_global SEC(".maps");

/* The host's own addresses (own.h): exact ones, local prefixes wider than one, and a filter of bits. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PONG_OWN_MAX);
	__type(key, __be32);
	__type(value, __u8);
} pong_own4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PONG_OWN_MAX);
	__type(key, struct in6_addr);
	__type(value, __u8);
} pong_own6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PONG_OWN_NETS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pong_lpm4);
	__type(value, __u8);
} pong_own_nets4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PONG_OWN_NETS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pong_lpm6);
	__type(value, __u8);
} pong_own_nets6 SEC(".maps");

volatile struct pong_own_filter pong_own_filter SEC(".data.own");

/*
 * --unclaimed (claim.h): what the datapath saw (claims) and what `run`'s
 * probes found (verdicts), per family. Not preallocated: an element that
 * `run` replaces or deletes is freed after an RCU grace period, never
 * handed to another key while a reader holds it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PONG_CLAIMS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pong_claim_key4);
	__type(value, struct pong_claim);
} pong_claims4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PONG_CLAIMS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pong_claim_key6);
	__type(value, struct pong_claim);
} pong_claims6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PONG_CLAIMS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pong_claim_key4);
	__type(value, struct pong_verdict);
} pong_verdicts4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PONG_CLAIMS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pong_claim_key6);
	__type(value, struct pong_verdict);
} pong_verdicts6 SEC(".maps");

/* Requests for addresses not claimed, told to `run` (struct pong_ask). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} pong_asks SEC(".maps");

/* Events that are not outcomes of a frame (pong.h enum pong_event), per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PONG_EV__MAX);
	__type(key, __u32);
	__type(value, __u64);
} pong_events SEC(".maps");

/* run's heartbeat: a claim holds only while the process that verifies it is alive. */
volatile struct pong_prober_beat pong_prober SEC(".data.prober");

/*
 * Fragmented echo requests answered (frag.h): a first fragment's reply made
 * an entry, which lets the datagram's later fragments be answered too, in
 * the same VLANs (cursor.vlan, as claims are kept). LRU: a flood of first
 * fragments pushes out old entries (about PONG_FRAG_MAX: the per-CPU free
 * lists may push out sooner).
 */
struct pong_frag_key4 {
	__be32 saddr, daddr;
	__be16 id;
	__u16 pad;
	__u16 vlan[VLAN_MAX_DEPTH];
};

struct pong_frag_entry {
	__u64 expires_ns;   /* bpf_ktime_get_coarse_ns() after which its fragments are not answered */
	__s64 budget;       /* bytes of frame its later fragments' replies may still carry (an IP datagram's most) */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PONG_FRAG_MAX);
	__type(key, struct pong_frag_key4);
	__type(value, struct pong_frag_entry);
} pong_frag4 SEC(".maps");

struct pong_frag_key6 {
	struct in6_addr saddr, daddr;
	__be32 id;
	__u16 vlan[VLAN_MAX_DEPTH];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PONG_FRAG_MAX);
	__type(key, struct pong_frag_key6);
	__type(value, struct pong_frag_entry);
} pong_frag6 SEC(".maps");

#endif
