// SPDX-License-Identifier: GPL-2.0
/*
 * xdp-pong: answer ICMP echo, ARP and IPv6 neighbour solicitations for any
 * address, at the NIC.
 *
 * The common request of each kind is classified with all its rules at once
 * (the *_fast_* checks in lib/): without a policy on it is answered at once
 * (fast_reply()); with scope or limits on, the policy is applied after
 * that check; with --unclaimed, and for any frame the fast checks do not
 * take, the rules run one by one and name the reason of every refusal. All
 * ways answer exactly the same frames the same way: the differential fuzzer
 * runs every frame with no settings, with a scope of every address, and with
 * the fast checks off (PONG_ACTIVE_RULES, which only the tests set).
 *
 * The host's own addresses are never answered (lib/own.h): a request for
 * one leaves every path for the kernel.
 *
 * Per frame, one of three outcomes, each counted:
 *   reply   XDP_TX, the frame rewritten in place into its answer;
 *   refused XDP_PASS untouched: a frame we would answer, but a safety rule,
 *           the operator's scope or --unclaimed said no (the reason is
 *           counted too); over a rate limit, XDP_DROP instead;
 *   passed  XDP_PASS untouched: not a frame xdp-pong answers.
 * With --unclaimed, every frame is also watched for signs of life of the
 * owners of addresses asked for (lib/claim.h).
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <xdp/xdp_helpers.h>

#include "pong.h"
#include "lib/verdict.h"
#include "lib/csum.h"
#include "lib/eth.h"
#include "lib/ipv4.h"
#include "lib/icmp.h"
#include "lib/arp.h"
#include "lib/ipv6.h"
#include "lib/icmp6.h"
#include "lib/ndp.h"
#include "lib/own.h"
#include "lib/policy.h"
#include "lib/claim.h"

/* Set by the loader before load (libbpf-bootstrap style per-load config). */
const volatile struct pong_config pong_cfg = {
	.ttl = PONG_DEFAULT_TTL,
};

/* The interface's MAC: set before load, and rewritten by `run` when the interface's changes. */
volatile struct pong_iface pong_iface SEC(".data.iface");

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

/* Run before other programs when sharing the interface via libxdp; go on after XDP_PASS. */
struct {
	__uint(priority, 10);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(xdp_pong);


static __always_inline void count(void *map, __u32 id, __u64 bytes)
{
	struct pong_stat *s = bpf_map_lookup_elem(map, &id);

	if (s) {
		s->packets++;
		s->bytes += bytes;
	}
}

/* --unclaimed: what an ARP frame says about who is alive (before it is judged as a request). */
static __always_inline void watch_arp(struct cursor *c, struct eth_hdr *eth)
{
	struct arp_eth_ipv4 *arp = c->pos;
	struct pong_claim_key4 key;
	__be32 spa;

	if ((void *)(arp + 1) > c->end || arp->htype != bpf_htons(ARPHRD_ETHER) ||
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

static __always_inline int handle_arp(struct cursor *c, struct eth_hdr *eth, int unclaimed)
{
	struct arp_eth_ipv4 *arp = unclaimed || pong_settings.active != PONG_ACTIVE_POLICY ? NULL :
				   arp_fast_request(c, eth, pong_iface.mac);
	__be32 target, sender;
	int verdict;

	if (!arp) {                 /* not the common request: every rule, one by one */
		if (unclaimed)
			watch_arp(c, eth);
		verdict = arp_check_request(c, eth, pong_iface.mac, &arp);
		if (verdict || !arp)
			return verdict;
	}
	target = arp_ip(arp->tpa);
	sender = arp_ip(arp->spa);
	verdict = own_admit_v4(target);
	if (!verdict)
		verdict = scope_admit_v4(target);
	if (!verdict && unclaimed) {
		struct pong_claim_key4 key;

		claim_key4(&key, c, target);
		verdict = claim_request(&pong_claims4, &pong_verdicts4, &key, AF_INET);
	}
	if (!verdict)
		verdict = rate_admit_v4(PONG_RL_RESOLVE, sender, pong_cfg.seed);
	if (verdict)
		return verdict;
	arp_reply(eth, arp, pong_iface.mac);
	return PONG_REPLY;
}

static __always_inline int handle_ipv4(struct cursor *c, struct eth_hdr *eth, int unclaimed)
{
	struct iphdr *iph = c->pos;
	struct icmphdr *icmp = unclaimed || pong_settings.active != PONG_ACTIVE_POLICY ? NULL :
			       icmp4_fast_echo(c, eth, pong_iface.mac);
	int verdict;

	if (icmp)                   /* the common request, all rules checked at once */
		goto admit;
	if ((void *)(iph + 1) > c->end)
		return PONG_NOT_OURS;
	if (unclaimed) {                /* any frame from an address asked for */
		struct pong_claim_key4 key;

		claim_key4(&key, c, iph->saddr);
		claim_alive(&pong_claims4, &pong_verdicts4, &key);
	}
	/* Only ICMP is ours; protocol sits at a fixed offset whatever the IHL. */
	if (iph->protocol != IPPROTO_ICMP)
		return PONG_NOT_OURS;
	if (!mac_equal(eth->h_dest, pong_iface.mac))
		return PONG_R_L2_DST;
	if (mac_is_multicast(eth->h_source) || mac_is_zero(eth->h_source))
		return PONG_R_L2_SRC;
	verdict = parse_ipv4(c, &iph);
	if (verdict)
		return verdict;
	verdict = icmp4_check_echo(c, &icmp, bpf_ntohs(iph->tot_len) - iph->ihl * 4);
	if (verdict || !icmp)
		return verdict;
admit:
	if ((void *)(iph + 1) > c->end)
		return PONG_NOT_OURS;   /* known; for the verifier */
	verdict = own_admit_v4(iph->daddr);
	if (!verdict)
		verdict = scope_admit_v4(iph->daddr);
	if (!verdict && unclaimed) {
		struct pong_claim_key4 key;

		claim_key4(&key, c, iph->daddr);
		verdict = claim_echo(&pong_claims4, &pong_verdicts4, &key);
	}
	if (!verdict)
		verdict = rate_admit_v4(PONG_RL_ECHO, iph->saddr, pong_cfg.seed);
	if (verdict)
		return verdict;

	eth_reply(eth, pong_iface.mac);
	icmp4_echo_reply(iph, icmp, pong_cfg.ttl);
	return PONG_REPLY;
}

/* --unclaimed: what an NS or NA says about who is alive (type and source known to be in the frame). */
static __always_inline void watch_ndp(struct cursor *c, struct eth_hdr *eth, struct ipv6hdr *ip6, __u8 type)
{
	struct nd_ns *nd = c->pos;       /* an NA has its target at the same place */
	struct pong_claim_key6 key;

	if ((void *)(nd + 1) > c->end || mac_equal(eth->h_source, pong_iface.mac))
		return;
	if (type == NDISC_NA || ipv6_is_unspecified(&ip6->saddr))
		claim_key6(&key, c, &nd->target);   /* its owner advertises it, or a DAD probe: a host takes it */
	else
		claim_key6(&key, c, &ip6->saddr);   /* an NS from it */
	claim_alive(&pong_claims6, &pong_verdicts6, &key);
}

/*
 * ICMPv6 echo requests and neighbour solicitations are ours; everything else
 * in IPv6 (other ICMPv6 types, TCP, UDP, ...) passes. *counter says which
 * reply a PONG_REPLY stands for; an NS also leaves its answer's fields in ns.
 */
static __always_inline int handle_ipv6(struct cursor *c, struct eth_hdr *eth, int unclaimed, __u64 frame_len,
				       __u32 *counter, struct ns_request *ns)
{
	struct ipv6hdr *ip6 = c->pos;
	int ext = 0, verdict;
	__u8 *type;
	__u32 plen;

	if ((void *)(ip6 + 1) > c->end)
		return PONG_NOT_OURS;
	if (!unclaimed && pong_settings.active == PONG_ACTIVE_POLICY) {   /* the common requests at once */
		if (icmp6_fast_echo(c, eth, ip6, pong_iface.mac)) {
			*counter = PONG_CNT_ECHO6;
			c->pos = ip6 + 1;
			goto echo;
		}
		if (ndp_fast_ns(c, eth, ip6, pong_iface.mac, frame_len)) {
			struct nd_ns *nsh = (void *)(ip6 + 1);

			*counter = PONG_CNT_NDP;
			verdict = own_admit_v6(&nsh->target);
			if (!verdict)
				verdict = scope_admit_v6(&nsh->target);
			if (!verdict)
				verdict = rate_admit_v6(PONG_RL_RESOLVE, &ip6->saddr, pong_cfg.seed);
			if (!verdict) {
				ndp_fast_na(eth, ip6, pong_iface.mac);
				return PONG_REPLY_DONE;
			}
			return verdict;
		}
	}
	if (unclaimed && !ipv6_is_unspecified(&ip6->saddr)) {   /* any frame from an address asked for */
		struct pong_claim_key6 key;

		claim_key6(&key, c, &ip6->saddr);
		claim_alive(&pong_claims6, &pong_verdicts6, &key);
	}
	if (ipv6_upper_proto(c, ip6, &ext) != IPPROTO_ICMPV6)
		return PONG_NOT_OURS;
	type = c->pos;
	if ((void *)(type + 1) > c->end)
		return PONG_NOT_OURS;
	if (unclaimed && !ext && (*type == NDISC_NS || *type == NDISC_NA))
		watch_ndp(c, eth, ip6, *type);
	if (*type == ICMPV6_ECHO_REQUEST)
		*counter = PONG_CNT_ECHO6;
	else if (*type == NDISC_NS)
		*counter = PONG_CNT_NDP;
	else
		return PONG_NOT_OURS;

	if (ext)
		return PONG_R_IP6_EXT_HEADER;
	if (mac_is_multicast(eth->h_source) || mac_is_zero(eth->h_source))
		return PONG_R_L2_SRC;
	plen = bpf_ntohs(ip6->payload_len);
	if (ip6->version != 6 || (void *)(ip6 + 1) + plen > c->end)
		return PONG_R_IP_HEADER;

	if (*counter == PONG_CNT_NDP) {
		ns->l3_offset = (void *)ip6 - (void *)eth;
		verdict = ndp_check_ns(c, eth, ip6, plen, pong_iface.mac, ns);
		if (!verdict)
			verdict = own_admit_v6(&ns->target);
		if (!verdict)
			verdict = scope_admit_v6(&ns->target);
		if (!verdict && unclaimed) {
			struct pong_claim_key6 key;

			claim_key6(&key, c, &ns->target);
			verdict = claim_request(&pong_claims6, &pong_verdicts6, &key, AF_INET6);
		}
		return verdict ? verdict : rate_admit_v6(PONG_RL_RESOLVE, &ns->src, pong_cfg.seed);
	}
	verdict = icmp6_check_echo(c, eth, ip6, plen, pong_iface.mac);
	if (verdict)
		return verdict;
echo:
	if ((void *)(ip6 + 1) + sizeof(struct icmp6hdr) > c->end)
		return PONG_NOT_OURS;   /* known; for the verifier */
	verdict = own_admit_v6(&ip6->daddr);
	if (!verdict)
		verdict = scope_admit_v6(&ip6->daddr);
	if (!verdict && unclaimed) {
		struct pong_claim_key6 key;

		claim_key6(&key, c, &ip6->daddr);
		verdict = claim_echo(&pong_claims6, &pong_verdicts6, &key);
	}
	if (!verdict)
		verdict = rate_admit_v6(PONG_RL_ECHO, &ip6->saddr, pong_cfg.seed);
	if (verdict)
		return verdict;
	eth_reply(eth, pong_iface.mac);
	icmp6_echo_reply(ip6, c->pos, pong_cfg.ttl);
	return PONG_REPLY;
}

/*
 * With no policy on (no scope, no claims, no limits), the common request of
 * each kind is checked with all its rules at once and answered at once.
 * 1 if it was (the frame is now its reply), 0 to take the full path.
 */
static __always_inline int fast_reply(struct cursor *c, struct eth_hdr *eth, int proto, __u64 len)
{
	__u32 counter;

	if (proto == ETH_P_IP) {
		struct iphdr *iph = c->pos;
		struct icmphdr *icmp = icmp4_fast_echo(c, eth, pong_iface.mac);

		if (!icmp || (void *)(iph + 1) > c->end || own_address_v4(iph->daddr))
			return 0;
		eth_reply(eth, pong_iface.mac);
		icmp4_echo_reply(iph, icmp, pong_cfg.ttl);
		counter = PONG_CNT_ECHO4;
	} else if (proto == ETH_P_ARP) {
		struct arp_eth_ipv4 *arp = arp_fast_request(c, eth, pong_iface.mac);

		if (!arp || own_address_v4(arp_ip(arp->tpa)))
			return 0;
		arp_reply(eth, arp, pong_iface.mac);
		counter = PONG_CNT_ARP;
	} else if (proto == ETH_P_IPV6) {
		struct ipv6hdr *ip6 = c->pos;

		if ((void *)(ip6 + 1) > c->end)
			return 0;
		if (icmp6_fast_echo(c, eth, ip6, pong_iface.mac)) {
			if (own_address_v6(&ip6->daddr))
				return 0;
			eth_reply(eth, pong_iface.mac);
			icmp6_echo_reply(ip6, (void *)(ip6 + 1), pong_cfg.ttl);
			counter = PONG_CNT_ECHO6;
		} else if (ndp_fast_ns(c, eth, ip6, pong_iface.mac, len)) {
			if (own_address_v6(&((struct nd_ns *)(ip6 + 1))->target))
				return 0;
			ndp_fast_na(eth, ip6, pong_iface.mac);
			counter = PONG_CNT_NDP;
		} else {
			return 0;
		}
	} else {
		return 0;
	}
	count(&pong_counters, counter, len);
	return 1;
}

SEC("xdp")
int xdp_pong(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 len = data_end - data;
	struct cursor c = { .pos = data, .end = data_end };
	struct eth_hdr *eth = 0;
	struct ns_request ns;   /* filled by handle_ipv6() before any use */
	int verdict = PONG_NOT_OURS, unclaimed, proto;
	__u32 reply_counter = 0;

	proto = parse_eth(&c, &eth);
	if (pong_settings.active == PONG_ACTIVE_NONE && fast_reply(&c, eth, proto, len))
		return XDP_TX;

	/* every rule, one by one, with the operator's policy */
	unclaimed = pong_settings.unclaimed;
	switch (proto) {
	case ETH_P_ARP:
		verdict = handle_arp(&c, eth, unclaimed);
		reply_counter = PONG_CNT_ARP;
		break;
	case ETH_P_IP:
		verdict = handle_ipv4(&c, eth, unclaimed);
		reply_counter = PONG_CNT_ECHO4;
		break;
	case ETH_P_IPV6:
		verdict = handle_ipv6(&c, eth, unclaimed, len, &reply_counter, &ns);
		if (verdict == PONG_REPLY && reply_counter == PONG_CNT_NDP)
			verdict = ndp_send_na(ctx, &ns, pong_iface.mac);
		else if (verdict == PONG_REPLY_DONE)
			verdict = PONG_REPLY;   /* an NA written in place by the fast path */
		break;
	}

	if (verdict == PONG_REPLY) {
		count(&pong_counters, reply_counter, len);
		return XDP_TX;
	}
	if (verdict == PONG_DROP)
		return XDP_DROP;
	if (verdict == PONG_NOT_OURS) {
		count(&pong_counters, PONG_CNT_PASSED, len);
		return XDP_PASS;
	}
	count(&pong_reasons, verdict, len);
	count(&pong_counters, PONG_CNT_REFUSED, len);
	/* over a limit: dropped, not passed, so a flood costs the kernel nothing */
	return verdict == PONG_R_RATE_LIMITED ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
