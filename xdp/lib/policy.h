/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Admission: the operator's policy, applied to a request that passed every
 * protocol rule, just before it is answered. Two checks, in order:
 *   scope   the answered address (echo destination, ARP/NS target) must lie
 *           in the interface's prefix lists, when it has any (reason
 *           not_in_prefix; the frame passes untouched);
 *   rate    the requester's source (IPv4 /32, IPv6 /64; a link-local
 *           source by its interface ID) and all replies
 *           together stay under their limits (reason rate_limited; the frame
 *           is dropped, so a spoofed flood is not reflected).
 */
#ifndef PONG_LIB_POLICY_H
#define PONG_LIB_POLICY_H

#include <linux/bpf.h>
#include <linux/in6.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include "verdict.h"

#define NSEC_PER_SEC 1000000000ull

volatile struct pong_settings pong_settings;   /* .bss: zero = every address, no limits */

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

/* Per-source limiter state: the GCRA "theoretical arrival time", in ns. */
struct rl_key {
	__u32 family;
	__u8 addr[8];     /* IPv4 address, the /64 of an IPv6 one, or a link-local's interface ID */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PONG_RL_SOURCES);
	__type(key, struct rl_key);
	__type(value, __u64);
} pong_rl_source SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pong_rl_global SEC(".maps");

/*
 * GCRA (a token bucket of one second's worth): admit if the bucket has a
 * token, and take it. Lock-free: a compare-and-swap, retried a few times
 * when other CPUs race for the same bucket.
 */
static __always_inline int gcra_admit(__u64 *tat, __u64 now, __u64 interval)
{
	__u64 tau = NSEC_PER_SEC > interval ? NSEC_PER_SEC - interval : 0;

	for (int i = 0; i < 4; i++) {
		__u64 old = *(volatile __u64 *)tat;
		__u64 t = old > now ? old : now;

		if (t - now > tau)
			return 0;
		if (__sync_val_compare_and_swap(tat, old, t + interval) == old)
			return 1;
	}
	return 0;
}

static __always_inline int rate_admit(const struct rl_key *src)
{
	__u64 src_iv = pong_settings.source_interval_ns, all_iv = pong_settings.global_interval_ns;
	__u64 now, *tat;
	__u32 zero = 0;

	if (!src_iv && !all_iv)
		return 0;
	now = bpf_ktime_get_ns();
	if (src_iv) {
		tat = bpf_map_lookup_elem(&pong_rl_source, src);
		if (!tat) {
			__u64 first = now + src_iv;   /* a new source: its first request is free */

			bpf_map_update_elem(&pong_rl_source, src, &first, BPF_NOEXIST);
		} else if (!gcra_admit(tat, now, src_iv)) {
			return PONG_R_RATE_LIMITED;
		}
	}
	if (all_iv) {
		tat = bpf_map_lookup_elem(&pong_rl_global, &zero);
		if (tat && !gcra_admit(tat, now, all_iv))
			return PONG_R_RATE_LIMITED;
	}
	return 0;
}

/* 0 to answer an IPv4 request for target from source, else the reason. */
static __always_inline int admit_v4(__be32 target, __be32 source)
{
	struct rl_key src = { .family = 4 };

	if (pong_settings.scoped) {
		struct pong_lpm4 key = { .prefixlen = 32 };

		__builtin_memcpy(key.addr, &target, 4);
		if (!bpf_map_lookup_elem(&pong_prefix4, &key))
			return PONG_R_NOT_IN_PREFIX;
	}
	__builtin_memcpy(src.addr, &source, 4);
	return rate_admit(&src);
}

/* 0 to answer an IPv6 request for target from source, else the reason. */
static __always_inline int admit_v6(const struct in6_addr *target, const struct in6_addr *source)
{
	struct rl_key src = { .family = 6 };

	if (pong_settings.scoped) {
		struct pong_lpm6 key = { .prefixlen = 128 };

		__builtin_memcpy(key.addr, target, 16);
		if (!bpf_map_lookup_elem(&pong_prefix6, &key))
			return PONG_R_NOT_IN_PREFIX;
	}
	if (source->in6_u.u6_addr8[0] == 0xfe && (source->in6_u.u6_addr8[1] & 0xc0) == 0x80) {
		/* link-local: every host shares fe80::/64, so key by interface ID */
		src.family = 0xfe80;
		__builtin_memcpy(src.addr, &source->in6_u.u6_addr8[8], 8);
	} else {
		__builtin_memcpy(src.addr, source, 8);
	}
	return rate_admit(&src);
}

#endif
