/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host's own addresses are the kernel's to answer, never ours: an ARP
 * request or neighbour solicitation for one of them, and an echo request to
 * one, pass to the kernel untouched (reason own_address), whatever the mode.
 * A router's NA carries R=1 and ours would not; the kernel's echo reply
 * says the host itself is alive, which is what a ping of it asks.
 *
 * The loader keeps the addresses of every interface of the host's network
 * namespace, and those of its local routing table, in pong_own4 / pong_own6
 * (at attach; `run` follows changes as the kernel announces them); local
 * prefixes wider than an address in pong_own_nets4/6; and a 65,536-bit
 * filter of the addresses in .data.own (all ones, and not ready, until the
 * loader has written them: a program loaded but not yet told answers
 * nothing). Each answered request looks at one bit of the filter (no helper
 * call); only a frame whose bit is set pays for the hash-map lookup. A bit
 * set by another address costs that lookup, nothing more.
 */
#ifndef PONG_LIB_OWN_H
#define PONG_LIB_OWN_H

#include <linux/bpf.h>
#include <linux/in6.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"

static __always_inline int own_filter_has(__u32 bit)
{
	return (pong_own_filter.bits[(bit >> 6) & (PONG_OWN_FILTER_WORDS - 1)] >> (bit & 63)) & 1;
}

static __always_inline int own_net_v4(__be32 addr)
{
	struct pong_lpm4 key = { .prefixlen = 32 };

	__builtin_memcpy(key.addr, &addr, 4);
	return bpf_map_lookup_elem(&pong_own_nets4, &key) != 0;
}

static __always_inline int own_net_v6(const struct in6_addr *addr)
{
	struct pong_lpm6 key = { .prefixlen = 128 };

	__builtin_memcpy(key.addr, addr, 16);
	return bpf_map_lookup_elem(&pong_own_nets6, &key) != 0;
}

/* Truth: addr is an address of this host (or may be: the loader has not written them yet). */
static __always_inline int own_address_v4(__be32 addr)
{
	if (own_filter_has(pong_own_bit4(addr)) &&
	    (!pong_own_filter.ready || bpf_map_lookup_elem(&pong_own4, &addr)))
		return 1;
	return pong_own_filter.nets4 && own_net_v4(addr);
}

static __always_inline int own_address_v6(const struct in6_addr *addr)
{
	if (own_filter_has(pong_own_bit6(addr->in6_u.u6_addr32)) &&
	    (!pong_own_filter.ready || bpf_map_lookup_elem(&pong_own6, addr)))
		return 1;
	return pong_own_filter.nets6 && own_net_v6(addr);
}

#endif
