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
 *            from it (ARP and neighbour discovery only from another MAC than
 *            ours); any IPv4 or IPv6 frame from it. In the same VLAN.
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
#include <linux/ip.h>
#include <linux/socket.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include "verdict.h"
#include "maps.h"
#include "eth.h"
#include "arp.h"
#include "ipv6.h"
#include "ndp.h"

#ifndef AF_INET
#define AF_INET  2
#define AF_INET6 10
#endif

#define CLAIM_NS_PER_MS 1000000ull
#define CLAIM_NS_PER_S  1000000000ull

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
 * Truth: the claim holds: verified by a round nobody answered, since
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

/* What an ARP frame says about who is alive (before it is judged as a request). */
static __always_inline void claim_watch_arp(const struct cursor *c, const struct eth_hdr *eth)
{
	const struct arp_eth_ipv4 *arp = c->pos;
	struct pong_claim_key4 key;
	__be32 spa;

	if ((const void *)(arp + 1) > c->end || arp->htype != bpf_htons(ARPHRD_ETHER) ||
	    arp->ptype != bpf_htons(ETH_P_IP) || arp->hlen != ETH_ALEN || arp->plen != 4 ||
	    mac_equal(eth->h_source, pong_iface.mac))
		return;
	spa = arp_ip(arp->spa);
	if (spa)
		claim_key4(&key, c, spa);                   /* request, reply or announcement from it */
	else if (arp->op == bpf_htons(ARPOP_REQUEST))
		claim_key4(&key, c, arp_ip(arp->tpa));      /* a probe: a host is about to take it */
	else
		return;
	claim_alive(&pong_claims4, &pong_verdicts4, &key);
}

/* What an NS or NA says about who is alive (its ICMPv6 header right after the fixed IPv6 one). */
static __always_inline void claim_watch_ndp(const struct cursor *c, const struct eth_hdr *eth,
					    const struct ipv6hdr *ip6)
{
	const struct nd_ns *nd = (const void *)(ip6 + 1);   /* an NA has its target at the same place */
	struct pong_claim_key6 key;

	if ((const void *)(nd + 1) > c->end || (nd->type != NDISC_NS && nd->type != NDISC_NA) ||
	    mac_equal(eth->h_source, pong_iface.mac))
		return;
	if (nd->type == NDISC_NA || ipv6_is_unspecified(&ip6->saddr))
		claim_key6(&key, c, &nd->target);   /* its owner advertises it, or a DAD probe: a host takes it */
	else
		claim_key6(&key, c, &ip6->saddr);   /* an NS from it */
	claim_alive(&pong_claims6, &pong_verdicts6, &key);
}

/*
 * --unclaimed: the signs of life in a frame of any kind (proto, its
 * EtherType, with the cursor on its L3 header), before it is judged: any
 * IPv4 or IPv6 frame from an address asked for; ARP and neighbour discovery
 * as claim_watch_arp() and claim_watch_ndp() read them. A BPF-to-BPF call:
 * inlined, its branches would multiply the verifier's states for all that
 * follows (a third more instructions to verify for the whole program).
 */
static __noinline void claim_watch(const struct cursor *c, const struct eth_hdr *eth, __u16 proto)
{
	if (proto == ETH_P_ARP) {
		claim_watch_arp(c, eth);
	} else if (proto == ETH_P_IP) {
		const struct iphdr *iph = c->pos;
		struct pong_claim_key4 key;

		if ((const void *)(iph + 1) > c->end)
			return;
		claim_key4(&key, c, iph->saddr);
		claim_alive(&pong_claims4, &pong_verdicts4, &key);
	} else if (proto == ETH_P_IPV6) {
		const struct ipv6hdr *ip6 = c->pos;
		struct pong_claim_key6 key;

		if ((const void *)(ip6 + 1) > c->end)
			return;
		if (!ipv6_is_unspecified(&ip6->saddr)) {
			claim_key6(&key, c, &ip6->saddr);
			claim_alive(&pong_claims6, &pong_verdicts6, &key);
		}
		if (ip6->nexthdr == IPPROTO_ICMPV6)
			claim_watch_ndp(c, eth, ip6);
	}
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
 * which passed every other rule: PONG_GO_ON while it is claimed, else
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
		return PONG_GO_ON;
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
	return PONG_GO_ON;
}

/* What --unclaimed asks of an address (claim_admit_v4/v6). */
#define CLAIM_ECHO   0   /* echo: refused only once its owner showed signs of life (claim_echo()) */
#define CLAIM_NEEDED 1   /* ARP, NS: a claim, asked for if there is none (claim_request()) */
#define CLAIM_HELD   2   /* the --answer kinds: a claim, never asked for (claim_held()) */

/*
 * A request of a kind --answer turns on, for the address of key: answered
 * only while it is claimed. Nothing is entered or told: the address must
 * have been asked for by ARP or NS (on a router, every transit packet
 * reaches our MAC, and must not fill the table).
 */
static __always_inline int claim_held(void *claims, void *verdicts, const void *key)
{
	struct pong_claim *c = bpf_map_lookup_elem(claims, key);

	if (!c)
		return PONG_R_NOT_CLAIMED;
	if (claim_holds(c, bpf_map_lookup_elem(verdicts, key), bpf_ktime_get_ns())) {
		c->hits++;
		return PONG_GO_ON;
	}
	return c->owner_ns ? PONG_R_OWNER_SEEN : PONG_R_NOT_CLAIMED;
}

/*
 * Admission under --unclaimed of a request for target in the frame's VLAN,
 * as need (CLAIM_*) says.
 */
static __always_inline int claim_admit_v4(const struct cursor *c, __be32 target, int need)
{
	struct pong_claim_key4 key;

	claim_key4(&key, c, target);
	if (need == CLAIM_NEEDED)
		return claim_request(&pong_claims4, &pong_verdicts4, &key, AF_INET);
	if (need == CLAIM_HELD)
		return claim_held(&pong_claims4, &pong_verdicts4, &key);
	return claim_echo(&pong_claims4, &pong_verdicts4, &key);
}

static __always_inline int claim_admit_v6(const struct cursor *c, const struct in6_addr *target, int need)
{
	struct pong_claim_key6 key;

	claim_key6(&key, c, target);
	if (need == CLAIM_NEEDED)
		return claim_request(&pong_claims6, &pong_verdicts6, &key, AF_INET6);
	if (need == CLAIM_HELD)
		return claim_held(&pong_claims6, &pong_verdicts6, &key);
	return claim_echo(&pong_claims6, &pong_verdicts6, &key);
}

#endif
