/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --unclaimed: answer ARP and neighbour solicitations only for addresses
 * that xdp-pong has itself found free, and give one up the moment its owner
 * shows signs of life (arpsponge's way: ask before you sponge, at XDP speed).
 *
 *   ask      a request for an address not claimed passes untouched (reason
 *            not_claimed, or owner_seen once its owner spoke) and makes an
 *            entry for it, in its VLAN; `run` is told through pong_asks (at
 *            most every PONG_ASK_GAP_MS per address).
 *   verify   `run` sends probes of its own (loader/probe.c: an RFC 5227 ARP
 *            probe; an NS from a unicast link-local source) and, when none is
 *            answered, writes the round's start into pong_verdicts: from then
 *            on the address is claimed and its requests answered. An owner's
 *            answer to our probe comes to our MAC: it is seen on a switch too.
 *   release  a sign of life of the owner, at any moment after the round that
 *            verified the claim began, ends it at once (see pong.h): an ARP
 *            request, reply or announcement with the address as sender; an
 *            ARP probe or IPv6 duplicate-address probe for it (a host about
 *            to take it); a neighbour advertisement for it or solicitation
 *            from it; any IPv4 or IPv6 frame from it. Only from another MAC
 *            than ours, and in the same VLAN.
 *
 * Entries are made by requests only, never by signs of life, in a hash map
 * that nothing evicts: a flood of senders cannot push an entry out, and a
 * full table makes no entry (the request passes: fail closed). `run` forgets
 * addresses nobody asked for in PONG_CLAIM_IDLE_S; an address forgotten is
 * probed again before it is claimed again.
 */
#ifndef PONG_LIB_CLAIM_H
#define PONG_LIB_CLAIM_H

#include <linux/bpf.h>
#include <linux/in6.h>
#include <linux/socket.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include "verdict.h"
#include "eth.h"
#include "policy.h"

#ifndef AF_INET
#define AF_INET  2
#define AF_INET6 10
#endif

#define CLAIM_NS_PER_MS 1000000ull
#define CLAIM_NS_PER_S  1000000000ull

/*
 * Not preallocated: an element that `run` replaces or deletes is freed after
 * an RCU grace period, never handed to another key while a reader holds it.
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

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} pong_asks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PONG_EV__MAX);
	__type(key, __u32);
	__type(value, __u64);
} pong_events SEC(".maps");

/* run's heartbeat (pong.h): a claim holds only while the process that verifies it is alive. */
volatile struct pong_prober_beat pong_prober SEC(".data.prober");

static __always_inline void claim_event(__u32 id)
{
	__u64 *n = bpf_map_lookup_elem(&pong_events, &id);

	if (n)
		(*n)++;
}

/* The key of addr (4 or 16 bytes, as in the frame) in the frame's VLAN. */
static __always_inline void claim_key4(struct pong_claim_key4 *k, const struct cursor *c, __be32 addr)
{
	k->vlan[0] = c->vlan[0];
	k->vlan[1] = c->vlan[1];
	__builtin_memcpy(k->addr, &addr, 4);
}

static __always_inline void claim_key6(struct pong_claim_key6 *k, const struct cursor *c, const struct in6_addr *addr)
{
	k->vlan[0] = c->vlan[0];
	k->vlan[1] = c->vlan[1];
	__builtin_memcpy(k->addr, addr, 16);
}

/*
 * 1 while the claim holds: verified by a round nobody answered, since
 * --unclaimed was last turned on, no sign of life since, not lapsed, and
 * `run` still beating.
 */
static __always_inline int claim_holds(const struct pong_claim *c, const struct pong_verdict *v, __u64 now)
{
	return v && pong_claim_verified(c, v, pong_settings.unclaimed_since_ns, now) &&
	       now - pong_prober.beat_ns < PONG_PROBER_DEAD_S * CLAIM_NS_PER_S;
}

/* Signs of life of the owner of the address of key (in claims): recorded only if it was asked for. */
static __always_inline void claim_alive(void *claims, void *verdicts, const void *key)
{
	struct pong_claim *c = bpf_map_lookup_elem(claims, key);
	__u64 now;

	if (!c)
		return;
	now = bpf_ktime_get_ns();
	if (claim_holds(c, bpf_map_lookup_elem(verdicts, key), now))
		claim_event(PONG_EV_RELEASED);
	c->owner_ns = now;
}

/* Tell `run` that the address of key (struct pong_claim_key4/6 of family) was asked for. */
static __always_inline void claim_tell(const void *key, __u32 family)
{
	const __u16 *vlan = key;
	const __u8 *addr = (const __u8 *)key + 2 * sizeof(__u16);   /* both keys: the tags, then the address */
	struct pong_ask ask = { .vlan = { vlan[0], vlan[1] }, .family = family };

	if (family == AF_INET)
		__builtin_memcpy(ask.addr, addr, 4);
	else
		__builtin_memcpy(ask.addr, addr, 16);
	bpf_ringbuf_output(&pong_asks, &ask, sizeof(ask), 0);
}

/*
 * A request for the address of key (struct pong_claim_key4/6, of family),
 * which passed every other rule: PONG_REPLY while it is claimed, else
 * not_claimed or owner_seen (and `run` is told, to probe it).
 */
static __always_inline int claim_request(void *claims, void *verdicts, const void *key, __u32 family)
{
	__u64 now = bpf_ktime_get_ns();
	struct pong_claim *c = bpf_map_lookup_elem(claims, key);

	if (!c) {
		struct pong_claim fresh = { .asked_ns = now, .told_ns = now };

		/* a full table makes no entry: nothing to verify, nothing claimed */
		if (!bpf_map_update_elem(claims, key, &fresh, BPF_NOEXIST))
			claim_tell(key, family);
		return PONG_R_NOT_CLAIMED;
	}
	c->asked_ns = now;
	if (claim_holds(c, bpf_map_lookup_elem(verdicts, key), now)) {
		c->hits++;
		return PONG_REPLY;
	}
	if (now - c->told_ns >= PONG_ASK_GAP_MS * CLAIM_NS_PER_MS) {
		c->told_ns = now;
		claim_tell(key, family);
	}
	return c->owner_ns ? PONG_R_OWNER_SEEN : PONG_R_NOT_CLAIMED;
}

/*
 * An echo request to the address of key: refused only if its owner was seen
 * and it is not claimed (an address never asked for on this link, routed
 * here, is answered).
 */
static __always_inline int claim_echo(void *claims, void *verdicts, const void *key)
{
	struct pong_claim *c = bpf_map_lookup_elem(claims, key);

	if (c && c->owner_ns && !claim_holds(c, bpf_map_lookup_elem(verdicts, key), bpf_ktime_get_ns()))
		return PONG_R_OWNER_SEEN;
	return 0;
}

#endif
