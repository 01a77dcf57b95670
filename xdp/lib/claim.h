/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --unclaimed: answer ARP and neighbour solicitations only for addresses
 * nobody else answers for, and give an address up as soon as its owner
 * shows signs of life (the way arpsponge and farpd claim addresses on a
 * shared LAN, here at XDP speed).
 *
 *   claim    an address is claimed after PONG_CLAIM_REQUESTS requests for
 *            it from one asker within the window (defaults: 3 in 5 s): an
 *            asker repeats only when nobody answered it, while an owner's
 *            answer (which we may never see: on a switch it is unicast to
 *            the asker) stops it after the first. Until then the requests
 *            pass untouched (reason not_claimed).
 *   release  the owner is alive when it sends an ARP request, reply or
 *            announcement with the address as sender; an ARP probe or an
 *            IPv6 duplicate-address probe for it (a host about to take it);
 *            a neighbour advertisement for it from another MAC; any IPv4 or
 *            IPv6 frame from the address. From then on requests for it pass
 *            (reason owner_seen), echo to it included, until it has been
 *            silent for the hold time (60 s); then it can be claimed again.
 *
 * State: one LRU map per family, PONG_CLAIMS_MAX addresses each, per
 * interface. A frame from a source that was never asked for creates no
 * entry (routed traffic cannot flush the table); ARP and NDP signs of life
 * do, since they name on-link addresses.
 */
#ifndef PONG_LIB_CLAIM_H
#define PONG_LIB_CLAIM_H

#include <linux/bpf.h>
#include <linux/in6.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include "verdict.h"
#include "policy.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PONG_CLAIMS_MAX);
	__type(key, __be32);
	__type(value, struct pong_claim);
} pong_claims4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PONG_CLAIMS_MAX);
	__type(key, struct in6_addr);
	__type(value, struct pong_claim);
} pong_claims6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PONG_EV__MAX);
	__type(key, __u32);
	__type(value, __u64);
} pong_events SEC(".maps");

static __always_inline void claim_event(__u32 id)
{
	__u64 *n = bpf_map_lookup_elem(&pong_events, &id);

	if (n)
		(*n)++;
}

/* An owner showed signs of life for the entry c: hands off. */
static __always_inline void claim_owner_seen(struct pong_claim *c, __u64 now)
{
	if (c->state == PONG_CLAIM_CLAIMED)
		claim_event(PONG_EV_RELEASED);
	c->state = PONG_CLAIM_OWNER;
	c->since_ns = now;
	c->requests = 0;
}

/*
 * Signs of life of the owner of an address (key: __be32 or struct in6_addr
 * in map). create: record it even if nobody asked for it yet (ARP and NDP
 * name on-link addresses; plain IP sources may be anywhere).
 */
static __always_inline void claim_alive(void *map, const void *key, int create)
{
	__u64 now = bpf_ktime_get_ns();
	struct pong_claim *c = bpf_map_lookup_elem(map, key);

	if (c) {
		claim_owner_seen(c, now);
	} else if (create) {
		struct pong_claim fresh = { .since_ns = now, .state = PONG_CLAIM_OWNER };

		bpf_map_update_elem(map, key, &fresh, BPF_ANY);
	}
}

/*
 * A request for the address key from asker, which passed every other rule:
 * PONG_REPLY to answer it (claimed, or claimed by this very request), else
 * not_claimed or owner_seen.
 */
static __always_inline int claim_request(void *map, const void *key, __u32 asker)
{
	__u64 now = bpf_ktime_get_ns();
	struct pong_claim *c = bpf_map_lookup_elem(map, key);

	if (!c) {
		struct pong_claim fresh = { .since_ns = now, .asker = asker, .requests = 1 };

		if (pong_settings.claim_requests > 1) {
			bpf_map_update_elem(map, key, &fresh, BPF_NOEXIST);
			return PONG_R_NOT_CLAIMED;
		}
		fresh.state = PONG_CLAIM_CLAIMED;      /* a threshold of one: claimed at once */
		fresh.hits = 1;
		bpf_map_update_elem(map, key, &fresh, BPF_NOEXIST);
		claim_event(PONG_EV_CLAIMED);
		return PONG_REPLY;
	}
	if (c->state == PONG_CLAIM_CLAIMED) {
		c->hits++;
		return PONG_REPLY;
	}
	if (c->state == PONG_CLAIM_OWNER) {
		if (now - c->since_ns < pong_settings.owner_hold_ns)
			return PONG_R_OWNER_SEEN;
		c->state = PONG_CLAIM_CANDIDATE;       /* silent long enough: count again */
		c->requests = 0;
	}
	if (c->asker != asker || now - c->since_ns > pong_settings.claim_window_ns || !c->requests) {
		c->asker = asker;                      /* a new asker, or a new window: start over */
		c->since_ns = now;
		c->requests = 0;
	}
	if (++c->requests < pong_settings.claim_requests)
		return PONG_R_NOT_CLAIMED;
	c->state = PONG_CLAIM_CLAIMED;
	c->since_ns = now;
	c->hits = 1;
	claim_event(PONG_EV_CLAIMED);
	return PONG_REPLY;
}

/* An echo request to dst: refused only if dst's owner was seen (and still counts as present). */
static __always_inline int claim_echo(void *map, const void *dst)
{
	struct pong_claim *c = bpf_map_lookup_elem(map, dst);

	if (c && c->state == PONG_CLAIM_OWNER &&
	    bpf_ktime_get_ns() - c->since_ns < pong_settings.owner_hold_ns)
		return PONG_R_OWNER_SEEN;
	return 0;
}

/* The asker of an IPv6 request, for counting its repeats: the source folded to 32 bits. */
static __always_inline __u32 claim_asker6(const struct in6_addr *src)
{
	return src->in6_u.u6_addr32[0] ^ src->in6_u.u6_addr32[1] ^ src->in6_u.u6_addr32[2] ^
	       src->in6_u.u6_addr32[3];
}

#endif
