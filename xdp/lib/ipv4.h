/* SPDX-License-Identifier: GPL-2.0 */
/* IPv4 header parsing and the address classes xdp-pong never answers for. */
#ifndef PONG_LIB_IPV4_H
#define PONG_LIB_IPV4_H

#include <linux/types.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "verdict.h"
#include "csum.h"
#include "eth.h"
#include "clock.h"

#define IP_DF     0x4000
#define IP_MF     0x2000
#define IP_OFFSET 0x1fff
#define IPOPT_END_   0
#define IPOPT_NOP_   1
#define IPOPT_RR_    7        /* record route */
#define IPOPT_TS_    68       /* timestamp, with its flags: */
#define IPOPT_TS_TSONLY_    0
#define IPOPT_TS_TSANDADDR_ 1
#define IPOPT_TS_PRESPEC_   3
#define IPOPT_LSRR_  0x83
#define IPOPT_SSRR_  0x89
#define IPOPT_CIPSO_ 0x86
#define IPOPT_RA_    0x94     /* router alert */
#define IPV4_OPT_WALK 8     /* options walked; more (NOPs count) are refused */

/* 0.0.0.0/8 "this network", 127.0.0.0/8 loopback, 224.0.0.0/4 multicast. */
static __always_inline int ipv4_is_special(__be32 addr)
{
	__u32 a = bpf_ntohl(addr);

	return (a >> 24) == 0 || (a >> 24) == 127 || (a >> 28) == 0xe;
}

/* A source we would send a reply to: not special, not 240.0.0.0/4 (incl. broadcast). */
static __always_inline int ipv4_src_ok(__be32 addr)
{
	return !ipv4_is_special(addr) && (bpf_ntohl(addr) >> 28) != 0xf;
}

/* A destination (or ARP target) we answer for: not special, not 255.255.255.255. */
static __always_inline int ipv4_dst_ok(__be32 addr)
{
	return !ipv4_is_special(addr) && addr != 0xffffffff;
}

/*
 * The identification of a reply that is not a copy of the request (Linux
 * gives every datagram sent without DF one of its own): a hash of the
 * requester, the address asked and a 16-bit key of the request (an ICMP
 * identifier, a UDP source port), keyed by seed (random per load), plus a
 * 16-bit count of it (an ICMP sequence number, a UDP destination port).
 * Each session sees its replies count up by one from an offset of its own,
 * as from a host that counts per destination (Linux), but nothing is
 * stored: no counter shared between CPUs, and nothing another requester's
 * traffic moves (no idle scan through us). The request's fields are taken
 * as they sit in the frame.
 */
static __always_inline __be16 ipv4_reply_id(__be32 saddr, __be32 daddr, __be16 key, __be16 count, __u32 seed)
{
	__u64 h = ((__u64)(saddr ^ seed) << 32 | daddr) * 0x9e3779b97f4a7c15ull;

	h = (h ^ key) * 0xc2b2ae3d27d4eb4full;
	return bpf_htons((__u16)(h >> 48) + bpf_ntohs(count));
}

/*
 * The IPv4 header at iph (in the frame) made a reply's, in place: addresses
 * swapped (checksum neutral), TTL ttl, identification id (not the
 * request's), DF clear (a fragment's MF and offset kept); the header
 * checksum updated incrementally (RFC 1624 eqn. 3: an error stays).
 */
static __always_inline void ipv4_reply_in_place(struct iphdr *iph, __u8 ttl, __be16 id)
{
	/* TTL and protocol share a word: read once and written whole (a byte store read back would stall) */
	__be16 old_ttl = *(__be16 *)&iph->ttl, new_ttl = (old_ttl & bpf_htons(0x00ff)) | bpf_htons((__u16)ttl << 8);
	__be16 old_id = iph->id, old_frag = iph->frag_off, new_frag = old_frag & ~bpf_htons(IP_DF);
	__be32 addr = iph->saddr;

	iph->saddr = iph->daddr;
	iph->daddr = addr;
	*(__be16 *)&iph->ttl = new_ttl;
	iph->id = id;
	iph->frag_off = new_frag;
	/* eqn. 3 over three changed words at once (seven 16-bit terms: no overflow of 32 bits) */
	iph->check = (__sum16)~csum_fold((__u16)~iph->check + (__u16)~old_ttl + (__u16)new_ttl + (__u16)~old_id +
					 (__u16)id + (__u16)~old_frag + (__u16)new_frag);
}

/* Truth: the 20-byte IPv4 header at iph (in the frame, checked) sums to a valid checksum. */
static __always_inline int ipv4_header_sum_ok(const struct iphdr *iph)
{
	const __u32 *w = (const __u32 *)iph;
	__u64 sum = (__u64)w[0] + w[1] + w[2] + w[3] + w[4];

	return csum_fold64(sum) == 0xffff;
}

/*
 * Write a fresh 20-byte IPv4 header at iph (in the frame), its checksum
 * summed from scratch: tos, total length, identification (as it goes in
 * the frame), flags and offset (IP_DF or 0), ttl, protocol, addresses.
 */
static __always_inline void ipv4_write(struct iphdr *iph, __u8 tos, __u16 tot, __be16 id, __u16 frag, __u8 ttl,
				       __u8 proto, __be32 saddr, __be32 daddr)
{
	__u16 *w = (__u16 *)iph;

	*(__be16 *)iph = bpf_htons(0x4500 | tos);
	iph->tot_len = bpf_htons(tot);
	iph->id = id;
	iph->frag_off = bpf_htons(frag);
	*(__be16 *)&iph->ttl = bpf_htons((__u16)ttl << 8 | proto);
	iph->check = 0;
	iph->saddr = saddr;
	iph->daddr = daddr;
	iph->check = (__sum16)~csum_fold((__u32)w[0] + w[1] + w[2] + w[3] + w[4] + w[6] + w[7] + w[8] + w[9]);
}

/*
 * Truth: the prespecified address at 1-based pointer ptr of the timestamp
 * option at p is one Linux stamps, one that is not unicast elsewhere
 * (inet_addr_type() != RTN_UNICAST): ours (the address asked), or one of
 * 0/8, 127/8, 224/4 and 255.255.255.255.
 */
static __always_inline int ipv4_ts_stamps(const __u8 *p, __u32 ptr, const void *end, __be32 ours)
{
	const __u8 *a = p + ((ptr - 1) & 0xff);   /* bounded for the verifier; ptr is a byte */
	__be32 addr;

	if ((const void *)(a + 4) > end)
		return 0;
	addr = *(const __be32 *)a;
	return addr == ours || ipv4_is_special(addr) || addr == 0xffffffff;
}

/*
 * Record route (RFC 791) as Linux takes it (net/ipv4/ip_options.c): a
 * destination records itself where there is room, once as it receives the
 * request and once more as it sends the reply (ip_options_compile(), then
 * ip_options_echo()). Truth: Linux would answer (a pointer below 4, or one
 * that leaves less than an address, gets a parameter problem or no reply).
 */
static __always_inline int ipv4_rr_ok(const __u8 *p)
{
	__u32 len = p[1], ptr = p[2];

	if (len < 3 || ptr < 4)
		return 0;
	if (ptr <= len) {
		if (ptr + 3 > len)
			return 0;
		ptr += 4;
		if (ptr <= len && ptr + 3 > len)
			return 0;
	}
	return 1;
}

/*
 * Timestamp (RFC 791) as Linux takes it: flag 0 records the time, 1 the
 * address and the time, 3 the time where the next prespecified address is
 * one Linux stamps (ipv4_ts_stamps()); once as received, once as sent, where
 * there is room; with no room, the overflow count goes up (flags 0 and 1).
 * Truth: Linux would answer (bad lengths or pointers, or an overflow count
 * already at 15, get a parameter problem or no reply), and the time is known.
 */
static __always_inline int ipv4_ts_ok(const __u8 *p, const void *end, __be32 ours)
{
	__u32 len = p[1], ptr = p[2], flag = p[3] & 0x0f, need_addr = 0, need_time = 0;

	if (len < 4 || ptr < 5)
		return 0;
	if (ptr > len)
		return flag == IPOPT_TS_PRESPEC_ || (p[3] >> 4) != 15;
	if (ptr + 3 > len)
		return 0;
	if (flag == IPOPT_TS_TSONLY_) {
		need_time = 1;
		ptr += 4;
	} else if (flag == IPOPT_TS_TSANDADDR_ || flag == IPOPT_TS_PRESPEC_) {
		if (ptr + 7 > len)
			return 0;
		if (flag == IPOPT_TS_TSANDADDR_ || ipv4_ts_stamps(p, ptr, end, ours)) {
			need_addr = flag == IPOPT_TS_TSANDADDR_;
			need_time = 1;
			ptr += 8;
		}
	}
	if (need_time && !clock_known())
		return 0;
	if (ptr <= len) {
		if (need_addr) {
			if (ptr + 3 > len)
				return 0;
			ptr += 4;
		}
		if (need_time && ptr + 3 > len)
			return 0;
	}
	return 1;
}

/*
 * Options are echoed, record route and timestamp filled in as Linux fills
 * them (ipv4_fill_options()); source routes are refused: a reply would have
 * to reverse the route (RFC 1122 3.2.2.6), and Linux drops such packets by
 * default (accept_source_route=0). So are malformed options, and what Linux
 * answers with a parameter problem or not at all: a second record route or
 * timestamp, CIPSO (no labelling configured), a router alert shorter than 4
 * bytes, the cases ipv4_rr_ok() and ipv4_ts_ok() name. opt points at the first option byte, len is their total
 * length, ours the address asked.
 */
static __always_inline int ipv4_check_options(const __u8 *opt, __u32 len, const void *end, __be32 ours)
{
	const __u8 *rr = 0, *ts = 0;
	__u32 off = 0;

	for (int i = 0; i < IPV4_OPT_WALK; i++) {
		const __u8 *p = opt + (off & 0x3f);
		__u8 type;

		if (off >= len)
			break;
		if ((void *)(p + 2) > end)
			return PONG_R_IP_OPTIONS;
		type = p[0];
		if (type == IPOPT_END_)
			break;
		if (type == IPOPT_NOP_) {
			off++;
			continue;
		}
		if (type == IPOPT_LSRR_ || type == IPOPT_SSRR_ || type == IPOPT_CIPSO_ || p[1] < 2 || off + p[1] > len ||
		    (type == IPOPT_RA_ && p[1] < 4))
			return PONG_R_IP_OPTIONS;
		if (type == IPOPT_RR_) {
			if (rr)
				return PONG_R_IP_OPTIONS;
			rr = p;
		} else if (type == IPOPT_TS_) {
			if (ts)
				return PONG_R_IP_OPTIONS;
			ts = p;
		}
		off += p[1];
	}
	if (off < len && (void *)(opt + (off & 0x3f) + 1) <= end && opt[off & 0x3f] != IPOPT_END_)
		return PONG_R_IP_OPTIONS;   /* more options than we walk */
	if (rr && ((void *)(rr + 3) > end || !ipv4_rr_ok(rr)))
		return PONG_R_IP_OPTIONS;
	if (ts && ((void *)(ts + 4) > end || !ipv4_ts_ok(ts, end, ours)))
		return PONG_R_IP_OPTIONS;
	return PONG_GO_ON;
}

static __always_inline void ipv4_opt_put(__u8 *p, __u32 at, const void *end, __be32 value)
{
	__u8 *q = p + (at & 0xff);   /* bounded for the verifier; at is at most a byte's worth */

	if ((void *)(q + 4) <= end)
		*(__be32 *)q = value;
}

/* Record route, checked by ipv4_rr_ok(): ours where there is room, as received and as sent. */
static __always_inline void ipv4_fill_rr(__u8 *p, const void *end, __be32 ours)
{
	__u32 len = p[1], ptr = p[2];

	if (ptr > len)
		return;
	ipv4_opt_put(p, ptr - 1, end, ours);
	ptr += 4;
	if (ptr <= len) {
		ipv4_opt_put(p, ptr - 1, end, ours);
		ptr += 4;
	}
	p[2] = ptr;
}

/* Timestamp, checked by ipv4_ts_ok(): as received, then as sent (now: the time, network order). */
static __always_inline void ipv4_fill_ts(__u8 *p, const void *end, __be32 ours, __be32 now)
{
	__u32 len = p[1], ptr = p[2], flag = p[3] & 0x0f, need_addr = 0, need_time = 0;

	if (ptr > len) {
		if (flag != IPOPT_TS_PRESPEC_)
			p[3] = flag | (((p[3] >> 4) + 1) << 4);   /* overflow: ipv4_ts_ok() refused 15 */
		return;
	}
	if (flag == IPOPT_TS_TSONLY_) {
		ipv4_opt_put(p, ptr - 1, end, now);
		need_time = 1;
		ptr += 4;
	} else if (flag == IPOPT_TS_TSANDADDR_ || (flag == IPOPT_TS_PRESPEC_ && ipv4_ts_stamps(p, ptr, end, ours))) {
		if (flag == IPOPT_TS_TSANDADDR_)
			ipv4_opt_put(p, ptr - 1, end, ours);     /* a prespecified address stays as it is */
		ipv4_opt_put(p, ptr + 3, end, now);
		need_addr = flag == IPOPT_TS_TSANDADDR_;
		need_time = 1;
		ptr += 8;
	}
	if (ptr <= len) {
		if (need_addr) {
			ipv4_opt_put(p, ptr - 1, end, ours);
			ptr += 4;
		}
		if (need_time && flag != IPOPT_TS_PRESPEC_) {
			ipv4_opt_put(p, ptr - 1, end, now);
			ptr += 4;
		} else if (need_time && ptr + 7 <= len && ipv4_ts_stamps(p, ptr, end, ours)) {
			ipv4_opt_put(p, ptr + 3, end, now);
			ptr += 8;
		}
	}
	p[2] = ptr;
}

/* One's complement sum of the options (len bytes, a multiple of 4, at most 40), 16 bits at a time. */
static __always_inline __u32 ipv4_opt_sum(const __u8 *opt, __u32 len, const void *end)
{
	__u32 sum = 0;

	for (__u32 off = 0; off < 40; off += 2) {
		const __u16 *w = (const void *)(opt + off);

		if (off >= len || (void *)(w + 1) > end)
			break;
		sum += *w;
	}
	return sum;
}

/*
 * Fill the record route and timestamp options of the echo request whose
 * IPv4 header is l3 bytes into the frame (checked by ipv4_check_options())
 * as Linux's reply carries them; the header checksum updated for them
 * (eqn. 3 over the options' words: an error stays as it was). A global
 * function: the verifier checks it once, apart from the program's paths.
 */
__noinline int ipv4_fill_options(struct xdp_md *ctx, __u32 l3)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct iphdr *iph = data + (l3 & 0xff);
	__u8 *opt = (void *)(iph + 1), *rr = 0, *ts = 0;
	__u32 len, off = 0, before, after;
	__be32 ours;

	if ((void *)(iph + 1) > end)
		return 0;
	len = iph->ihl * 4 - sizeof(*iph);
	ours = iph->daddr;
	if (len > 40)
		return 0;
	for (int i = 0; i < IPV4_OPT_WALK; i++) {
		__u8 *p = opt + (off & 0x3f);

		if (off >= len || (void *)(p + 4) > end || p[0] == IPOPT_END_)
			break;
		if (p[0] == IPOPT_NOP_) {
			off++;
			continue;
		}
		if (p[0] == IPOPT_RR_)
			rr = p;
		else if (p[0] == IPOPT_TS_)
			ts = p;
		off += p[1];
	}
	before = csum_fold(ipv4_opt_sum(opt, len, end));
	if (rr)
		ipv4_fill_rr(rr, end, ours);
	if (ts)
		ipv4_fill_ts(ts, end, ours, clock_ms_of_day());
	after = csum_fold(ipv4_opt_sum(opt, len, end));
	iph->check = (__sum16)~csum_fold((__u16)~iph->check + (__u16)~before + after);
	return 0;
}

/*
 * Validate an IPv4 header at the cursor whose protocol is already known.
 * PONG_GO_ON with the cursor past the header (options included), or the
 * refusal reason.
 */
/*
 * ipv4_check_options() on the IPv4 header l3 bytes into the frame: a global
 * function, which the verifier checks once, apart from the program's paths
 * (the record route and timestamp rules would multiply them).
 */
__noinline int ipv4_options_verdict(struct xdp_md *ctx, __u32 l3)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct iphdr *iph = data + (l3 & 0xff);

	if ((void *)(iph + 1) > end || iph->ihl < 5)
		return PONG_R_IP_OPTIONS;
	return ipv4_check_options((const __u8 *)(iph + 1), iph->ihl * 4 - sizeof(*iph), end, iph->daddr);
}

static __always_inline int parse_ipv4(struct xdp_md *ctx, struct cursor *c, struct iphdr **iphp)
{
	struct iphdr *iph = c->pos;
	__u32 hlen, tot;

	if ((void *)(iph + 1) > c->end)
		return PONG_R_TRUNCATED;
	if (iph->version != 4 || iph->ihl < 5)
		return PONG_R_IP_HEADER;
	hlen = iph->ihl * 4;
	tot = bpf_ntohs(iph->tot_len);
	if (tot < hlen || (void *)iph + tot > c->end)
		return PONG_R_IP_HEADER;
	if ((void *)iph + hlen > c->end)
		return PONG_R_TRUNCATED;
	if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return PONG_R_IP_FRAGMENT;
	if (hlen > sizeof(*iph)) {
		int r = ipv4_options_verdict(ctx, (__u32)((void *)iph - (void *)(long)ctx->data));

		if (r)
			return r;
	}
	if (!ipv4_src_ok(iph->saddr))
		return PONG_R_IP_SRC;
	if (!ipv4_dst_ok(iph->daddr))
		return PONG_R_IP_DST;
	*iphp = iph;
	c->pos = (void *)iph + hlen;
	return PONG_GO_ON;
}

#endif
