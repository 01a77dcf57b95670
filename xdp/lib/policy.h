/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Admission (admit()): the verdict on a request that met every protocol
 * rule, just before it is answered. In order:
 *   own     the host's own addresses are the kernel's (own.h; reason
 *           own_address; the frame passes untouched), whatever the mode;
 *           with no policy on, nothing more is looked at;
 *   scope   the answered address (echo destination, ARP/NS target) must lie
 *           in the interface's prefix lists, when it has any (reason
 *           not_in_prefix; passes);
 *   claims  with --unclaimed, see claim.h (not_claimed, owner_seen; passes);
 *   rate    the requester's source (IPv4 /32, IPv6 /64; a link-local
 *           source by its interface ID) and all replies together stay under
 *           their limits (reason rate_limited; the frame is dropped, so a
 *           spoofed flood is not reflected); an ICMP error (port
 *           unreachable) also under --icmp-ratelimit for its source.
 *
 * The kinds --answer turns on (UDP, TCP, ICMP timestamp: kind_is_gated())
 * go further: without a prefix list they are refused (no_scope), whatever
 * the CLI did, --unclaimed or not: a claim alone is no scope, since anyone's
 * ARP for an off-link address (arping 8.8.8.8, a wrong netmask) gets it
 * claimed, and on a router the transit traffic to it would then be reset.
 * With --unclaimed as well, only a claimed address in the list answers them
 * (looked up, never entered: transit traffic makes no entries).
 *
 * Rate limits count two classes of request apart: echo, and address
 * resolution (ARP, NS). Each has its own global bucket and its own table of
 * per-source buckets, so an echo flood cannot spend the budget that keeps
 * ARP and neighbour discovery answering. The kinds --answer turns on count
 * as echo. ICMP errors have a third table of per-source buckets and a
 * global bucket of their own: Linux's icmp_ratelimit, one error per
 * interval to each source and PONG_ERROR_BURST at once, and its host-wide
 * icmp_msgs_per_sec. Per-source buckets are a fixed
 * array (16,384 per class: small enough to stay in a CPU's cache) indexed
 * by a hash of the source, seeded at random per load: the cost per packet
 * is the same whatever the sources (no map insert per new source under a
 * spoofed flood), and two sources sharing a bucket can only make each
 * other's limit stricter, never looser.
 */
#ifndef PONG_LIB_POLICY_H
#define PONG_LIB_POLICY_H

#include <linux/bpf.h>
#include <linux/in6.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include "verdict.h"
#include "maps.h"
#include "eth.h"
#include "own.h"
#include "claim.h"

#define NSEC_PER_SEC 1000000000ull
#define GCRA_TRIES   16          /* compare-and-swap attempts against other CPUs */

enum pong_rl_class {
	PONG_RL_ECHO = 0,
	PONG_RL_RESOLVE = 1,     /* ARP and NS */
	PONG_RL_ERROR = 2,       /* ICMP errors (--icmp-ratelimit) */
};

/*
 * Linux's host-wide limit on ICMP errors (icmp_global_allow():
 * net.ipv4.icmp_msgs_per_sec 1000, icmp_msgs_burst 50), which holds
 * whatever icmp_ratelimit is; here, while --icmp-ratelimit is not off.
 */
#define PONG_ERROR_GLOBAL_NS    1000000ull     /* one error a millisecond */
#define PONG_ERROR_GLOBAL_BURST 50

/*
 * GCRA (a token bucket of one second's worth): truth: the bucket had a
 * token, and it was taken. Lock-free: a compare-and-swap, retried when another
 * CPU moved the bucket in between (each retry sees that CPU's update, so
 * only a request over the limit is ever refused).
 */
static __always_inline int gcra_take_tau(__u64 *tat, __u64 now, __u64 interval, __u64 tau)
{
	for (int i = 0; i < GCRA_TRIES; i++) {
		__u64 old = *(volatile __u64 *)tat;
		__u64 t = old > now ? old : now;

		if (t - now > tau)
			return 0;
		if (__sync_val_compare_and_swap(tat, old, t + interval) == old)
			return 1;
	}
	return 0;
}

/* ... a bucket of one second's worth (tau: how far ahead of now its time may run). */
static __always_inline int gcra_take(__u64 *tat, __u64 now, __u64 interval)
{
	return gcra_take_tau(tat, now, interval, NSEC_PER_SEC > interval ? NSEC_PER_SEC - interval : 0);
}

/* Bucket index of a source: a multiplicative hash of (class, family tag, 8 bytes of address), seeded. */
static __always_inline __u32 rl_bucket(__u32 class, __u64 tag, __u64 addr, __u32 seed)
{
	__u64 h = (addr ^ ((__u64)seed << 32 | seed)) * 0x9e3779b97f4a7c15ull;

	h ^= tag * 0xc2b2ae3d27d4eb4full;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return class * PONG_RL_BUCKETS + (__u32)(h >> 50);   /* top 14 bits: PONG_RL_BUCKETS = 16384 */
}

/* Truth: a GCRA bucket with no token left, at time now (a look, nothing taken; tau as gcra_take_tau()). */
static __always_inline int gcra_empty_tau(const __u64 *tat, __u64 now, __u64 tau)
{
	__u64 t = *(volatile const __u64 *)tat;

	return t > now && t - now > tau;
}

/* ... of a bucket of one second's worth. */
static __always_inline int gcra_empty(const __u64 *tat, __u64 now, __u64 interval)
{
	return gcra_empty_tau(tat, now, NSEC_PER_SEC > interval ? NSEC_PER_SEC - interval : 0);
}

/*
 * The limits, in an order that keeps a flood cheap: a spent global bucket
 * refuses at once, before any per-source bucket is looked at (under a
 * spoofed flood, that is nearly every request); otherwise the source's
 * bucket, then the global one, each take a token. The clock is the coarse
 * one (a tick, a few ms): the rates hold over time, and reading it costs
 * next to nothing.
 */
static __always_inline int rate_admit(__u32 class, __u64 tag, __u64 addr, __u32 seed)
{
	__u64 src_iv = pong_settings.source_interval_ns, all_iv = pong_settings.global_interval_ns;
	__u64 now, *global = 0;

	if (!src_iv && !all_iv)
		return PONG_GO_ON;
	now = bpf_ktime_get_coarse_ns();
	if (all_iv) {
		global = bpf_map_lookup_elem(&pong_rl_global, &class);
		if (global && gcra_empty(global, now, all_iv))
			return PONG_R_RATE_LIMITED;
	}
	if (src_iv) {
		__u32 idx = rl_bucket(class, tag, addr, seed);
		__u64 *tat = bpf_map_lookup_elem(&pong_rl_source, &idx);

		if (tat && !gcra_take(tat, now, src_iv))
			return PONG_R_RATE_LIMITED;
	}
	if (global && !gcra_take(global, now, all_iv))
		return PONG_R_RATE_LIMITED;
	return PONG_GO_ON;
}

/* Truth: target lies in the interface's prefix list. */
static __always_inline int scope_has_v4(__be32 target)
{
	struct pong_lpm4 key = { .prefixlen = 32 };

	__builtin_memcpy(key.addr, &target, 4);
	return bpf_map_lookup_elem(&pong_prefix4, &key) != 0;
}

static __always_inline int scope_has_v6(const struct in6_addr *target)
{
	struct pong_lpm6 key = { .prefixlen = 128 };

	__builtin_memcpy(key.addr, target, 16);
	return bpf_map_lookup_elem(&pong_prefix6, &key) != 0;
}

/*
 * --icmp-ratelimit: an ICMP error to a source (tag and addr as for
 * rate_admit(); v6: an IPv6 one) only if its bucket has a token (one per
 * interval, PONG_ERROR_BURST at once, as Linux's inet_peer_xrlim_allow()),
 * then only if the host-wide error bucket has one. The source's bucket
 * first, as Linux checks them since 6.12: one source's flood spends its own
 * tokens, not everyone's.
 */
static __always_inline int error_admit(int v6, __u64 tag, __u64 addr, __u32 seed)
{
	__u64 iv = pong_settings.error_interval_ns[v6 ? 1 : 0], now;
	__u32 idx, class = PONG_RL_ERROR;
	__u64 *tat, *global;

	if (!iv)
		return PONG_GO_ON;
	now = bpf_ktime_get_coarse_ns();
	global = bpf_map_lookup_elem(&pong_rl_global, &class);
	if (global && gcra_empty_tau(global, now, (PONG_ERROR_GLOBAL_BURST - 1) * PONG_ERROR_GLOBAL_NS))
		return PONG_R_RATE_LIMITED;   /* a look first, as Linux's: a flood spends no source's tokens */
	idx = rl_bucket(PONG_RL_ERROR, tag, addr, seed);
	tat = bpf_map_lookup_elem(&pong_rl_source, &idx);
	if (tat && !gcra_take_tau(tat, now, iv, (PONG_ERROR_BURST - 1) * iv))
		return PONG_R_RATE_LIMITED;
	if (global && !gcra_take_tau(global, now, PONG_ERROR_GLOBAL_NS,
				     (PONG_ERROR_GLOBAL_BURST - 1) * PONG_ERROR_GLOBAL_NS))
		return PONG_R_RATE_LIMITED;
	return PONG_GO_ON;
}

/*
 * The rate limits for a request from an IPv4 source (error: it gets an ICMP
 * error, whose own limits come first: a source over them spends none of the
 * tokens echo and the other kinds share).
 */
static __always_inline int rate_admit_v4(__u32 class, __be32 source, int error)
{
	int verdict = error ? error_admit(0, 4, source, pong_cfg.seed) : PONG_GO_ON;

	return verdict ? verdict : rate_admit(class, 4, source, pong_cfg.seed);
}

/* ... from an IPv6 source: its /64, or a link-local one by its interface ID (all share fe80::/64). */
static __always_inline int rate_admit_v6(__u32 class, const struct in6_addr *source, int error)
{
	__u64 half, tag = 6;
	int verdict;

	if (source->in6_u.u6_addr8[0] == 0xfe && (source->in6_u.u6_addr8[1] & 0xc0) == 0x80) {
		__builtin_memcpy(&half, &source->in6_u.u6_addr8[8], 8);
		tag = 0xfe80;
	} else {
		__builtin_memcpy(&half, source, 8);
	}
	verdict = error ? error_admit(1, tag, half, pong_cfg.seed) : PONG_GO_ON;
	return verdict ? verdict : rate_admit(class, tag, half, pong_cfg.seed);
}

/*
 * What admission needs of a request besides its kind (pong.h enum
 * pong_counter: the reply it would get, which says its family and class):
 * the address answered for and the requester's, as the frame holds them
 * (IPv4 kinds fill the 4-byte fields, IPv6 kinds the pointers).
 */
struct request {
	__be32 target4, source4;
	const struct in6_addr *target6, *source6;
};

static __always_inline int kind_is_v6(__u32 kind)
{
	return kind == PONG_CNT_ECHO6 || kind == PONG_CNT_NDP || kind == PONG_CNT_UDP6 || kind == PONG_CNT_TCP6;
}

/* Truth: a kind --answer turns on (UDP, TCP, ICMP timestamp), answered only inside a --prefix list. */
static __always_inline int kind_is_gated(__u32 kind)
{
	return kind == PONG_CNT_UDP4 || kind == PONG_CNT_UDP6 || kind == PONG_CNT_TCP4 || kind == PONG_CNT_TCP6 ||
	       kind == PONG_CNT_TIMESTAMP;
}

/* Truth: a kind answered with an ICMP error (a port unreachable), under --icmp-ratelimit. */
static __always_inline int kind_is_error(__u32 kind)
{
	return kind == PONG_CNT_UDP4 || kind == PONG_CNT_UDP6;
}

/* Truth: a request to resolve an address (ARP, NS), which --unclaimed answers only when claimed. */
static __always_inline int kind_resolves(__u32 kind)
{
	return kind == PONG_CNT_ARP || kind == PONG_CNT_NDP;
}

/*
 * The operator's policy: scope, claims, rate, in that order. One function in
 * the program, not a copy per kind (a BPF-to-BPF call): its cost is paid only
 * with a policy on, and every kind shares one stack frame for its keys.
 */
static __noinline int admit_policy(const struct cursor *c, __u32 kind, const struct request *r)
{
	int v6 = kind_is_v6(kind), resolve = kind_resolves(kind), gated = kind_is_gated(kind);
	int error = kind_is_error(kind);
	__u32 class = resolve ? PONG_RL_RESOLVE : PONG_RL_ECHO;
	int need = resolve ? CLAIM_NEEDED : gated ? CLAIM_HELD : CLAIM_ECHO;

	if (gated && !pong_settings.scoped)
		return PONG_R_NO_SCOPE;     /* gated_scope_v4/v6() said so already: the list may have gone since */
	if (!gated && pong_settings.scoped && !(v6 ? scope_has_v6(r->target6) : scope_has_v4(r->target4)))
		return PONG_R_NOT_IN_PREFIX;
	if (pong_settings.unclaimed) {
		int verdict = v6 ? claim_admit_v6(c, r->target6, need) : claim_admit_v4(c, r->target4, need);
		if (verdict)
			return verdict;
	}
	return v6 ? rate_admit_v6(class, r->source6, error) : rate_admit_v4(class, r->source4, error);
}

/*
 * The first look at a kind --answer turns on, once its destination can be
 * read and before any rule: with no prefix list, none is answered
 * (no_scope); a destination outside the list is no request to us (a
 * router's transit traffic, the host's own connections): it passes,
 * uncounted as refused, whatever its header holds, at the cost of one
 * lookup (no checksum summed in BPF); inside it, the host's own addresses
 * are the kernel's, and a source that is one of them (its broadcast
 * address, say) is a martian Linux drops. admit() then takes the claims and
 * the limits, without looking at scope and own addresses again.
 */
static __always_inline int gated_scope_v4(__be32 target, __be32 source)
{
	if (pong_settings.active == PONG_ACTIVE_NONE || !pong_settings.scoped)
		return PONG_R_NO_SCOPE;
	if (!scope_has_v4(target))
		return PONG_NOT_OURS;
	if (own_address_v4(target))
		return PONG_R_OWN_ADDRESS;
	return own_address_v4(source) ? PONG_R_IP_SRC : PONG_GO_ON;    /* a martian: Linux drops it */
}

static __always_inline int gated_scope_v6(const struct in6_addr *target, const struct in6_addr *source)
{
	if (pong_settings.active == PONG_ACTIVE_NONE || !pong_settings.scoped)
		return PONG_R_NO_SCOPE;
	if (!scope_has_v6(target))
		return PONG_NOT_OURS;
	if (own_address_v6(target))
		return PONG_R_OWN_ADDRESS;
	return own_address_v6(source) ? PONG_R_IP6_SRC : PONG_GO_ON;
}

/*
 * Admission: the verdict on a request that met every protocol rule. The
 * host's own addresses first, whatever the mode; with no policy on, that is
 * all; otherwise admit_policy().
 */
static __always_inline int admit(const struct cursor *c, __u32 kind, const struct request *r)
{
	if (!kind_is_gated(kind) &&         /* gated_scope_v4/v6() looked */
	    (kind_is_v6(kind) ? own_address_v6(r->target6) : own_address_v4(r->target4)))
		return PONG_R_OWN_ADDRESS;
	if (pong_settings.active == PONG_ACTIVE_NONE)
		return kind_is_gated(kind) ? PONG_R_NO_SCOPE : PONG_GO_ON;   /* no policy, so no scope either */
	return admit_policy(c, kind, r);   /* kind in a register: the verifier follows each kind apart */
}

#endif
