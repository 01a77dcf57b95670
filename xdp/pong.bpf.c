// SPDX-License-Identifier: GPL-2.0
/*
 * xdp-pong: answer ICMP echo, ARP and IPv6 neighbour solicitations for any
 * address, at the NIC.
 *
 * Per frame: with --unclaimed, the signs of life it carries are noted
 * (lib/claim.h); then its kind is found from its headers, and each kind is
 * one line of decisions:
 *   classify  the common request meets every rule of its kind in one
 *             combined test (the fast check, *_fast_* in lib/); any other
 *             frame goes through the rules one by one, which name the reason
 *             of a refusal;
 *   admit     the host's own addresses, then the operator's policy (scope,
 *             claims, rate: lib/policy.h), which costs nothing when none is on;
 *   reply     the frame rewritten in place into its answer.
 * Both ways of classifying answer exactly the same frames the same way: the
 * differential fuzzer runs every frame with no settings, with a scope of
 * every address, and with the fast checks off (PONG_ACTIVE_RULES, which only
 * the tests set).
 *
 * Per frame, one of three outcomes, each counted:
 *   reply   XDP_TX, the frame rewritten in place into its answer;
 *   refused XDP_PASS untouched: a frame we would answer, but a safety rule,
 *           the host's own address, the operator's scope or --unclaimed said
 *           no (the reason is counted too); over a rate limit, XDP_DROP
 *           instead;
 *   passed  XDP_PASS untouched: not a frame xdp-pong answers.
 * Every function returns one of the shapes stated in lib/verdict.h; every
 * map and global is in lib/maps.h.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <xdp/xdp_helpers.h>

#include "pong.h"
#include "lib/verdict.h"
#include "lib/maps.h"
#include "lib/csum.h"
#include "lib/eth.h"
#include "lib/ipv4.h"
#include "lib/icmp.h"
#include "lib/arp.h"
#include "lib/ipv6.h"
#include "lib/icmp6.h"
#include "lib/ndp.h"
#include "lib/udp.h"
#include "lib/tcp.h"
#include "lib/frag.h"
#include "lib/own.h"
#include "lib/policy.h"
#include "lib/claim.h"

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

/* Truth: the fast checks may classify (off only in tests: PONG_ACTIVE_RULES). */
static __always_inline int fast_checks_on(void)
{
	return pong_settings.active != PONG_ACTIVE_RULES;
}

/* ARP request: "the target is at our MAC". */
static __always_inline int answer_arp(struct cursor *c, struct eth_hdr *eth)
{
	struct arp_eth_ipv4 *arp = c->pos;
	struct request req = {};
	int verdict = fast_checks_on() && arp_fast_request(c, eth, pong_iface.mac) ? PONG_GO_ON :
		      arp_check_request(c, eth, pong_iface.mac, &arp);

	if (verdict)
		return verdict;
	if ((void *)(arp + 1) > c->end)
		return PONG_NOT_OURS;   /* checked by the classifier; said again for the verifier */
	req.target4 = arp_ip(arp->tpa);
	req.source4 = arp_ip(arp->spa);
	verdict = admit(c, PONG_CNT_ARP, &req);
	if (!verdict)
		arp_reply(eth, arp, pong_iface.mac);
	return verdict;
}

/* ICMP echo request (the IPv4 header in the frame, protocol ICMP): the echo reply. */
static __always_inline int answer_echo4(struct xdp_md *ctx, struct cursor *c, struct eth_hdr *eth)
{
	struct iphdr *iph = c->pos;
	struct icmphdr *icmp = (void *)(iph + 1);
	struct request req = {};
	int verdict = fast_checks_on() && icmp4_fast_echo(c, eth, pong_iface.mac) ? PONG_GO_ON :
		      icmp4_check_echo(ctx, c, eth, pong_iface.mac, &iph, &icmp);

	if (verdict)
		return verdict;
	if ((void *)(icmp + 1) > c->end)
		return PONG_NOT_OURS;   /* checked by the classifier; said again for the verifier */
	req.target4 = iph->daddr;
	req.source4 = iph->saddr;
	verdict = admit(c, PONG_CNT_ECHO4, &req);
	if (!verdict)
		icmp4_echo_reply(ctx, eth, iph, icmp, pong_iface.mac, pong_cfg.ttl,
				 icmp4_reply_id(iph, icmp, pong_cfg.reply_seed));
	return verdict;
}

/* ICMPv6 echo request (ip6's fixed header in the frame, ICMPv6 at the cursor): the echo reply. */
static __always_inline int answer_echo6(struct cursor *c, struct eth_hdr *eth, struct ipv6hdr *ip6, int ext)
{
	struct icmp6hdr *icmp6 = (void *)(ip6 + 1);     /* either way, no extension header */
	struct request req = {};
	int verdict = fast_checks_on() && icmp6_fast_echo(c, eth, ip6, pong_iface.mac) ? PONG_GO_ON :
		      icmp6_check_echo(c, eth, ip6, ext, pong_iface.mac);

	if (verdict)
		return verdict;
	if ((void *)(icmp6 + 1) > c->end)
		return PONG_NOT_OURS;   /* checked by the classifier; said again for the verifier */
	req.target6 = &ip6->daddr;
	req.source6 = &ip6->saddr;
	verdict = admit(c, PONG_CNT_ECHO6, &req);
	if (!verdict)
		icmp6_echo_reply(eth, ip6, icmp6, pong_iface.mac, pong_cfg.ttl, icmp6_reply_flow(ip6, pong_cfg.reply_seed));
	return verdict;
}

/* Neighbour solicitation (as answer_echo6()): a neighbour advertisement, "the target is at our MAC". */
static __always_inline int answer_ns(struct xdp_md *ctx, struct cursor *c, struct eth_hdr *eth,
				     struct ipv6hdr *ip6, int ext, __u64 len)
{
	struct nd_ns *ns = (void *)(ip6 + 1);           /* either way, no extension header */
	struct request req = {};
	__u8 reply_mac[ETH_ALEN] __attribute__((aligned(4)));
	int verdict = fast_checks_on() && ndp_fast_ns(c, eth, ip6, pong_iface.mac, len, reply_mac) ? PONG_GO_ON :
		      ndp_check_ns(c, eth, ip6, ext, pong_iface.mac, reply_mac);

	if (verdict)
		return verdict;
	if ((void *)(ns + 1) > c->end)
		return PONG_NOT_OURS;   /* checked by the classifier; said again for the verifier */
	req.target6 = &ns->target;
	req.source6 = &ip6->saddr;
	verdict = admit(c, PONG_CNT_NDP, &req);
	if (!verdict)
		verdict = ndp_reply(ctx, eth, ip6, reply_mac, pong_iface.mac);
	return verdict;
}

/*
 * The kinds --answer turns on (UDP, TCP, ICMP timestamp), which the program
 * reaches only when the kind is on: each a global function, which the
 * verifier checks once, apart from the program's paths, taking the frame
 * again from ctx. A frame not to our MAC is not theirs (it passes); then
 * the scope, before any rule (gated_scope_v4/v6(): none without a prefix
 * list; outside it, not theirs, so a router's transit traffic is never
 * counted as refused); then the echo request's rules (the IP header, the
 * addresses), no IPv4 options (and a valid IPv4 header checksum) or IPv6
 * extension headers, then their own (lib/udp.h, lib/tcp.h, lib/icmp.h);
 * admit() takes the claims and the limits.
 */

/* The frame's IPv4 header for a kind --answer turns on, with the cursor past it. */
static __always_inline int gated_ipv4(struct xdp_md *ctx, struct cursor *c, struct eth_hdr **eth,
				      struct iphdr **iph, __u32 *plen)
{
	__u16 proto;
	int verdict;

	c->pos = (void *)(long)ctx->data;
	c->end = (void *)(long)ctx->data_end;
	if (parse_eth(c, eth, &proto) || proto != ETH_P_IP)
		return PONG_NOT_OURS;
	if (!mac_equal((*eth)->h_dest, pong_iface.mac))
		return PONG_NOT_OURS;       /* broadcasts and others' frames: not ours to count, only to pass */
	*iph = c->pos;
	if ((void *)(*iph + 1) > c->end)
		return PONG_NOT_OURS;
	verdict = gated_scope_v4((*iph)->daddr, (*iph)->saddr);   /* before any rule: transit is not refused */
	if (!verdict)
		verdict = eth_check_unicast(*eth, pong_iface.mac);
	if (!verdict)
		verdict = parse_ipv4(ctx, c, iph);
	if (verdict)
		return verdict;
	if ((*iph)->ihl != 5)
		return PONG_R_IP_OPTIONS;   /* Linux would echo them in its reply; we do not */
	if (!ipv4_header_sum_ok(*iph))
		return PONG_R_IP_HEADER;    /* Linux drops it; a reply built afresh would hide the error */
	*plen = bpf_ntohs((*iph)->tot_len) - sizeof(struct iphdr);
	return PONG_GO_ON;
}

/* ... its IPv6 header (as icmp6_check_echo() checks an echo's), the cursor past it. */
static __always_inline int gated_ipv6(struct xdp_md *ctx, struct cursor *c, struct eth_hdr **eth,
				      struct ipv6hdr **ip6p, __u32 *plen)
{
	struct ipv6hdr *ip6;
	__u16 proto;
	__u8 upper;
	int ext, verdict;

	c->pos = (void *)(long)ctx->data;
	c->end = (void *)(long)ctx->data_end;
	if (parse_eth(c, eth, &proto) || proto != ETH_P_IPV6 || !mac_equal((*eth)->h_dest, pong_iface.mac))
		return PONG_NOT_OURS;       /* as for IPv4 */
	ip6 = c->pos;
	if ((void *)(ip6 + 1) > c->end || ipv6_upper(c, ip6, &upper, &ext))
		return PONG_NOT_OURS;
	verdict = gated_scope_v6(&ip6->daddr, &ip6->saddr);
	if (!verdict)
		verdict = ipv6_check(c, *eth, ip6, ext, plen);
	if (verdict)
		return verdict;
	if (!ipv6_is_unicast(&ip6->daddr))
		return PONG_R_IP6_DST;
	if (!ipv6_is_unicast(&ip6->saddr) || ipv6_is_v4mapped(&ip6->saddr))
		return PONG_R_IP6_SRC;
	*ip6p = ip6;
	return PONG_GO_ON;
}

/* The pseudo-header's addresses, summed (IPv4). */
static __always_inline __u32 pseudo4(const struct iphdr *iph)
{
	return csum_fold64((__u64)iph->saddr + iph->daddr);
}

static __always_inline __u32 pseudo6(const struct ipv6hdr *ip6)
{
	return csum_fold64(csum_addr6(&ip6->saddr) + csum_addr6(&ip6->daddr));
}

/*
 * The replies' writers, each a global function of its own: its stack is not
 * on top of admit()'s (BPF allows 512 bytes for a chain of calls).
 */
__noinline int reply_udp4(struct xdp_md *ctx, __u32 l3, __u32 ulen)
{
	return udp4_unreach(ctx, l3, ulen, pong_iface.mac, pong_cfg.ttl, pong_cfg.reply_seed);
}

__noinline int reply_udp6(struct xdp_md *ctx, __u32 l3, __u32 ulen)
{
	return udp6_unreach(ctx, l3, ulen, pong_iface.mac, pong_cfg.ttl, pong_cfg.reply_seed);
}

__noinline int reply_tcp4(struct xdp_md *ctx, __u32 l3)
{
	return tcp4_rst(ctx, l3, pong_iface.mac, pong_cfg.ttl);
}

__noinline int reply_tcp6(struct xdp_md *ctx, __u32 l3)
{
	return tcp6_rst(ctx, l3, pong_iface.mac, pong_cfg.ttl, pong_cfg.reply_seed);
}

__noinline int reply_timestamp(struct xdp_md *ctx, __u32 l3)
{
	return icmp4_timestamp_reply(ctx, l3, pong_iface.mac, pong_cfg.ttl, pong_cfg.reply_seed);
}

/* UDP to an address in scope: a port unreachable (lib/udp.h). */
__noinline int answer_udp4(struct xdp_md *ctx)
{
	struct cursor c = {};
	struct eth_hdr *eth;
	struct iphdr *iph;
	struct request req = {};
	__u32 plen, ulen;
	int verdict = gated_ipv4(ctx, &c, &eth, &iph, &plen);

	if (!verdict)
		verdict = udp_check(ctx, &c, plen, pseudo4(iph), 0, pong_cfg.partial_csum, &ulen);
	if (verdict)
		return verdict;
	req.target4 = iph->daddr;
	req.source4 = iph->saddr;
	verdict = admit(&c, PONG_CNT_UDP4, &req);
	if (!verdict)
		verdict = reply_udp4(ctx, (__u32)((void *)iph - (void *)eth), ulen);
	return verdict;
}

__noinline int answer_udp6(struct xdp_md *ctx)
{
	struct cursor c = {};
	struct eth_hdr *eth;
	struct ipv6hdr *ip6;
	struct request req = {};
	__u32 plen, ulen;
	int verdict = gated_ipv6(ctx, &c, &eth, &ip6, &plen);

	if (!verdict)
		verdict = udp_check(ctx, &c, plen, pseudo6(ip6), 1, pong_cfg.partial_csum, &ulen);
	if (verdict)
		return verdict;
	req.target6 = &ip6->daddr;
	req.source6 = &ip6->saddr;
	verdict = admit(&c, PONG_CNT_UDP6, &req);
	if (!verdict)
		verdict = reply_udp6(ctx, (__u32)((void *)ip6 - (void *)eth), ulen);
	return verdict;
}

/* TCP to an address in scope: a RST, as from a closed port (lib/tcp.h). */
__noinline int answer_tcp4(struct xdp_md *ctx)
{
	struct cursor c = {};
	struct eth_hdr *eth;
	struct iphdr *iph;
	struct request req = {};
	__u32 plen;
	int verdict = gated_ipv4(ctx, &c, &eth, &iph, &plen);

	if (!verdict)
		verdict = tcp_check(ctx, &c, plen, pseudo4(iph), pong_cfg.partial_csum);
	if (verdict)
		return verdict;
	req.target4 = iph->daddr;
	req.source4 = iph->saddr;
	verdict = admit(&c, PONG_CNT_TCP4, &req);
	if (!verdict)
		verdict = reply_tcp4(ctx, (__u32)((void *)iph - (void *)eth));
	return verdict;
}

__noinline int answer_tcp6(struct xdp_md *ctx)
{
	struct cursor c = {};
	struct eth_hdr *eth;
	struct ipv6hdr *ip6;
	struct request req = {};
	__u32 plen;
	int verdict = gated_ipv6(ctx, &c, &eth, &ip6, &plen);

	if (!verdict)
		verdict = tcp_check(ctx, &c, plen, pseudo6(ip6), pong_cfg.partial_csum);
	if (verdict)
		return verdict;
	req.target6 = &ip6->daddr;
	req.source6 = &ip6->saddr;
	verdict = admit(&c, PONG_CNT_TCP6, &req);
	if (!verdict)
		verdict = reply_tcp6(ctx, (__u32)((void *)ip6 - (void *)eth));
	return verdict;
}

/* ICMP timestamp request to an address in scope: the timestamp reply (lib/icmp.h). */
__noinline int answer_timestamp(struct xdp_md *ctx)
{
	struct cursor c = {};
	struct eth_hdr *eth;
	struct iphdr *iph;
	struct request req = {};
	__u32 plen;
	int verdict = gated_ipv4(ctx, &c, &eth, &iph, &plen);

	if (!verdict)
		verdict = icmp4_check_timestamp(ctx, &c, plen);
	if (verdict)
		return verdict;
	req.target4 = iph->daddr;
	req.source4 = iph->saddr;
	verdict = admit(&c, PONG_CNT_TIMESTAMP, &req);
	if (!verdict)
		verdict = reply_timestamp(ctx, (__u32)((void *)iph - (void *)eth));
	return verdict;
}

/*
 * A fragment of an ICMP datagram: the first of an echo request becomes the
 * first of its reply, a later one of a datagram whose first was answered
 * the reply's at the same offset (lib/frag.h). A global function: the
 * verifier checks it once, apart from the echo's paths.
 */
__noinline int answer_frag4(struct xdp_md *ctx)
{
	struct cursor c = {};
	struct eth_hdr *eth;
	struct iphdr *iph;
	struct icmphdr *icmp;
	struct request req = {};
	__u16 proto, frag;
	__u32 plen, bytes;
	__be16 id;
	int verdict;

	c.pos = (void *)(long)ctx->data;
	c.end = (void *)(long)ctx->data_end;
	if (parse_eth(&c, &eth, &proto) || proto != ETH_P_IP)
		return PONG_NOT_OURS;
	verdict = frag4_check(&c, eth, pong_iface.mac, &iph, &plen);
	if (verdict)
		return verdict;
	frag = bpf_ntohs(iph->frag_off);
	verdict = frag_sane(frag & IP_OFFSET, frag & IP_MF, plen, FRAG_DATAGRAM_MAX - sizeof(*iph));
	if (verdict)
		return verdict;
	bytes = (__u32)(c.end - (void *)iph);   /* the reply's bytes from the IP header on, padding included */
	id = frag4_reply_id(iph, pong_cfg.reply_seed);
	req.target4 = iph->daddr;
	req.source4 = iph->saddr;
	if (frag & IP_OFFSET) {
		verdict = frag4_admit_later(&c, iph, bytes);
		if (!verdict)
			verdict = admit(&c, PONG_CNT_ECHO4, &req);   /* each fragment as an echo request */
		if (!verdict)
			frag4_later_reply(eth, iph, pong_iface.mac, pong_cfg.ttl, id);
		return verdict;
	}
	icmp = c.pos;
	if ((void *)(icmp + 1) > c.end || plen < sizeof(*icmp))
		return PONG_R_TRUNCATED;
	if (icmp->type != ICMP_ECHO)
		return PONG_R_ICMP_TYPE;
	verdict = admit(&c, PONG_CNT_ECHO4, &req);
	if (verdict)
		return verdict;
	frag4_remember(&c, iph, bytes);
	icmp4_echo_reply(ctx, eth, iph, icmp, pong_iface.mac, pong_cfg.ttl, id);
	return PONG_GO_ON;
}

/* An IPv6 fragment of an ICMPv6 datagram: as answer_frag4(). */
__noinline int answer_frag6(struct xdp_md *ctx)
{
	struct cursor c = {};
	struct eth_hdr *eth;
	struct ipv6hdr *ip6;
	struct pong_frag6_hdr *fh;
	struct icmp6hdr *icmp6;
	struct request req = {};
	__u16 proto, frag;
	__u32 plen, bytes;
	__be32 id;
	int verdict;

	c.pos = (void *)(long)ctx->data;
	c.end = (void *)(long)ctx->data_end;
	if (parse_eth(&c, &eth, &proto) || proto != ETH_P_IPV6)
		return PONG_NOT_OURS;
	ip6 = c.pos;
	if ((void *)(ip6 + 1) > c.end || !frag6_is(&c, ip6))
		return PONG_NOT_OURS;
	fh = (void *)(ip6 + 1);
	if ((void *)(fh + 1) > c.end)
		return PONG_NOT_OURS;       /* frag6_is() said so; again for the verifier */
	verdict = frag6_check(&c, eth, ip6, pong_iface.mac, &plen);
	if (verdict)
		return verdict;
	frag = bpf_ntohs(fh->frag_off);
	verdict = frag_sane(frag >> 3, frag & 1, plen, FRAG_DATAGRAM_MAX);
	if (verdict)
		return verdict;
	bytes = (__u32)(c.end - (void *)ip6);
	id = frag6_reply_id(ip6, fh, pong_cfg.reply_seed);
	req.target6 = &ip6->daddr;
	req.source6 = &ip6->saddr;
	if (frag >> 3) {
		verdict = frag6_admit_later(&c, ip6, fh, bytes);
		if (!verdict)
			verdict = admit(&c, PONG_CNT_ECHO6, &req);
		if (!verdict)
			frag6_later_reply(eth, ip6, fh, pong_iface.mac, pong_cfg.ttl,
					  icmp6_reply_flow(ip6, pong_cfg.reply_seed), id);
		return verdict;
	}
	icmp6 = (void *)(fh + 1);
	if ((void *)(icmp6 + 1) > c.end || plen < sizeof(*icmp6))
		return PONG_R_TRUNCATED;
	if (icmp6->icmp6_type != ICMPV6_ECHO_REQUEST)
		return PONG_NOT_OURS;       /* as any ICMPv6 but echo and NS */
	verdict = admit(&c, PONG_CNT_ECHO6, &req);
	if (verdict)
		return verdict;
	frag6_remember(&c, ip6, fh, bytes);
	fh->id = id;
	icmp6_echo_reply(eth, ip6, icmp6, pong_iface.mac, pong_cfg.ttl, icmp6_reply_flow(ip6, pong_cfg.reply_seed));
	return PONG_GO_ON;
}

/* Truth: --answer turned kind (PONG_ANSWER_*) on. */
static __always_inline int answering(__u32 kind)
{
	return pong_settings.answer & kind;
}

/*
 * IPv4: the kind from the protocol (it sits at a fixed offset whatever the
 * IHL): ICMP (a fragment of it, answer_frag4(); echo; a timestamp request,
 * with --answer timestamp), and UDP and TCP with --answer.
 */
static __always_inline int answer_ipv4(struct xdp_md *ctx, struct cursor *c, struct eth_hdr *eth, __u32 *kind)
{
	struct iphdr *iph = c->pos;

	if ((void *)(iph + 1) > c->end)
		return PONG_NOT_OURS;
	if (iph->protocol == IPPROTO_ICMP) {
		if (__builtin_expect(frag4_is(iph), 0)) {
			*kind = PONG_CNT_ECHO4;
			return answer_frag4(ctx);
		}
		if (answering(PONG_ANSWER_TIMESTAMP) && icmp4_is_timestamp(c)) {
			*kind = PONG_CNT_TIMESTAMP;
			return answer_timestamp(ctx);
		}
		*kind = PONG_CNT_ECHO4;
		return answer_echo4(ctx, c, eth);
	}
	if (iph->protocol == IPPROTO_UDP && answering(PONG_ANSWER_UDP)) {
		*kind = PONG_CNT_UDP4;
		return answer_udp4(ctx);
	}
	if (iph->protocol == IPPROTO_TCP && answering(PONG_ANSWER_TCP)) {
		*kind = PONG_CNT_TCP4;
		return answer_tcp4(ctx);
	}
	return PONG_NOT_OURS;
}

/*
 * IPv6: the kind from the ICMPv6 type, past any extension headers (other
 * types pass), or UDP and TCP with --answer.
 */
static __always_inline int answer_ipv6(struct xdp_md *ctx, struct cursor *c, struct eth_hdr *eth,
				       __u64 len, __u32 *kind)
{
	struct ipv6hdr *ip6 = c->pos;
	int ext;
	__u8 proto, *type;

	if ((void *)(ip6 + 1) > c->end)
		return PONG_NOT_OURS;
	if (__builtin_expect(ip6->nexthdr == IPPROTO_FRAGMENT, 0) && frag6_is(c, ip6)) {
		*kind = PONG_CNT_ECHO6;     /* off the echo's path: a fragment is rare */
		return answer_frag6(ctx);
	}
	if (ipv6_upper(c, ip6, &proto, &ext))
		return PONG_NOT_OURS;
	if (proto != IPPROTO_ICMPV6) {
		if (proto == IPPROTO_UDP && answering(PONG_ANSWER_UDP)) {
			*kind = PONG_CNT_UDP6;
			return answer_udp6(ctx);
		}
		if (proto == IPPROTO_TCP && answering(PONG_ANSWER_TCP)) {
			*kind = PONG_CNT_TCP6;
			return answer_tcp6(ctx);
		}
		return PONG_NOT_OURS;
	}
	type = c->pos;
	if ((void *)(type + 1) > c->end)
		return PONG_NOT_OURS;
	if (*type == ICMPV6_ECHO_REQUEST) {
		*kind = PONG_CNT_ECHO6;
		return answer_echo6(c, eth, ip6, ext);
	}
	if (*type == NDISC_NS) {
		*kind = PONG_CNT_NDP;
		return answer_ns(ctx, c, eth, ip6, ext, len);
	}
	return PONG_NOT_OURS;
}

SEC("xdp")
int xdp_pong(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 len = data_end - data;
	struct cursor c = { .pos = data, .end = data_end };
	struct eth_hdr *eth;
	int verdict = PONG_NOT_OURS;
	__u32 kind = PONG_CNT_PASSED;
	__u16 proto;

	if (!parse_eth(&c, &eth, &proto)) {
		if (pong_settings.unclaimed)
			claim_watch(&c, eth, proto);
		if (proto == ETH_P_ARP) {
			kind = PONG_CNT_ARP;
			verdict = answer_arp(&c, eth);
		} else if (proto == ETH_P_IP) {
			verdict = answer_ipv4(ctx, &c, eth, &kind);
		} else if (proto == ETH_P_IPV6) {
			verdict = answer_ipv6(ctx, &c, eth, len, &kind);
		}
	}

	if (verdict == PONG_GO_ON) {
		count(&pong_counters, kind, len);
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
