// SPDX-License-Identifier: GPL-2.0
/*
 * Floor 2: --unclaimed's verification, done by `run` for each interface it
 * holds (the datapath's side is xdp/lib/claim.h; the states are in pong.h).
 *
 * The datapath tells of a request for an address it does not answer
 * (ring buffer pong_asks). For each, a round of PONG_PROBES probes of our
 * own, PONG_PROBE_GAP_MS apart, in the request's VLAN:
 *   IPv4  an ARP probe (RFC 5227: sender IP 0.0.0.0, so that no host's cache
 *         learns anything from it), to broadcast; an owner answers it with
 *         an ARP reply to our MAC.
 *   IPv6  a neighbour solicitation from fe80::/64 + our MAC's EUI-64 with our
 *         MAC as source link-layer option, to the target's solicited-node
 *         group; an owner answers with an NA to our MAC. Its source is
 *         unicast, and a host doing duplicate address detection for the same
 *         address at that moment ignores it (RFC 4862 5.4.3: such an NS is
 *         address resolution, not DAD), so the probe cannot make it give up
 *         its address.
 * If no sign of life (claim.h) came since the round began, PONG_PROBE_WAIT_MS
 * after its last probe, the round's start is written as verified_ns: the
 * address is claimed. Claimed addresses are probed again every
 * PONG_REVERIFY_S; any answer ends the claim in the datapath at once.
 * Addresses nobody asked for in PONG_CLAIM_IDLE_S are forgotten. At most
 * PONG_PROBE_PPS probes a second leave an interface (a flood of requests for
 * many addresses cannot turn us into a broadcast flood); rounds wait for
 * their turn.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xdp-pong.h"

#define MAX_ROUNDS 1024          /* rounds under way at once, per interface */
#define SCAN_MS 1000             /* the tables read whole: re-verification, lost asks, forgetting */
#define BEAT_MS 250
#define RETRY_GAP_MS 1000        /* an address is probed at most once a second */
#define PROBE_BURST 50
#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
#define ASK_ROUNDS (MAX_ROUNDS * 3 / 4)   /* asks take at most these; the rest wait for re-verification */

struct round {
	struct pong_ask ask;
	__u64 start_ns;
	__u64 sent_ns;               /* last probe */
	int sent;
};

struct pong_prober {
	int sock;                    /* AF_PACKET, send only */
	int ifindex;
	int prog_fd;                 /* the held program's (not ours to close) */
	int claims[2], verdicts[2];  /* IPv4, IPv6 */
	int events, asks;
	struct ring_buffer *rb;
	__u8 mac[6];
	struct round rounds[MAX_ROUNDS];
	int nrounds;
	__u64 bucket_ns;             /* GCRA over PONG_PROBE_PPS */
	__u64 scanned_ns, beat_ns;
	__u64 since_ns;              /* settings' unclaimed_since_ns: older verdicts do not count */
	__u64 claimed, probes;       /* this run's counts (events claimed, probes) */
};

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static size_t addr_len(__u32 family)
{
	return family == AF_INET ? 4 : 16;
}

/* The map key of an ask: the tags, then the address (struct pong_claim_key4/6). */
static size_t ask_key(const struct pong_ask *a, __u8 *key)
{
	memcpy(key, a->vlan, sizeof(a->vlan));
	memcpy(key + sizeof(a->vlan), a->addr, addr_len(a->family));
	return sizeof(a->vlan) + addr_len(a->family);
}

static int fam(__u32 family)
{
	return family == AF_INET ? 0 : 1;
}

/* The tags of a frame in its VLAN, after the two MACs; returns the bytes written. */
static size_t put_tags(__u8 *p, const __u16 *vlan)
{
	size_t n = 0;

	for (int i = 0; i < 2 && vlan[i]; i++) {
		__u16 tpid = htons(vlan[i] & PONG_VLAN_AD ? ETH_P_8021AD : ETH_P_8021Q), tci = htons(vlan[i] & 0x0fff);

		memcpy(p + n, &tpid, 2);
		memcpy(p + n + 2, &tci, 2);
		n += 4;
	}
	return n;
}

static __u32 sum16(const __u8 *p, size_t len, __u32 sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (__u32)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (__u32)(p[len - 1] << 8);
	return sum;
}

/* The probe for an ask, in frame (at least 128 bytes); returns its length. */
static size_t build_probe(const struct pong_prober *p, const struct pong_ask *a, __u8 *f)
{
	size_t n = 12;
	__u16 type;

	memset(f, 0, 128);
	memcpy(f + 6, p->mac, 6);
	n += put_tags(f + n, a->vlan);
	if (a->family == AF_INET) {
		static const __u8 arp_head[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };   /* Ethernet, IPv4, request */

		memset(f, 0xff, 6);
		type = htons(ETH_P_ARP);
		memcpy(f + n, &type, 2);
		memcpy(f + n + 2, arp_head, 8);
		memcpy(f + n + 10, p->mac, 6);        /* sender MAC ours, sender IP 0.0.0.0 (RFC 5227) */
		memcpy(f + n + 26, a->addr, 4);       /* target MAC 0, target IP the address */
		n += 30;
		return n < 60 ? 60 : n;
	}
	/* 33:33:ff + the target's last 3 bytes; ff02::1:ffXX:XXXX */
	{
		__u8 *ip = f + n + 2, *icmp = ip + 40;
		__u32 sum;

		f[0] = 0x33, f[1] = 0x33, f[2] = 0xff;
		memcpy(f + 3, a->addr + 13, 3);
		type = htons(ETH_P_IPV6);
		memcpy(f + n, &type, 2);
		ip[0] = 0x60;
		ip[5] = 32;                           /* payload: NS (24) + source link-layer option (8) */
		ip[6] = IPPROTO_ICMPV6;
		ip[7] = 255;
		ip[8] = 0xfe, ip[9] = 0x80;           /* fe80::, then our MAC's EUI-64 */
		ip[16] = p->mac[0] ^ 0x02, ip[17] = p->mac[1], ip[18] = p->mac[2], ip[19] = 0xff;
		ip[20] = 0xfe, ip[21] = p->mac[3], ip[22] = p->mac[4], ip[23] = p->mac[5];
		ip[24] = 0xff, ip[25] = 0x02, ip[35] = 0x01, ip[36] = 0xff;
		memcpy(ip + 37, a->addr + 13, 3);
		icmp[0] = 135;
		memcpy(icmp + 8, a->addr, 16);
		icmp[24] = 1, icmp[25] = 1;           /* source link-layer address, 8 bytes */
		memcpy(icmp + 26, p->mac, 6);
		sum = sum16(ip + 8, 32, 32 + IPPROTO_ICMPV6);   /* pseudo-header: addresses, length, next header */
		sum = sum16(icmp, 32, sum);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		icmp[2] = (__u8)(~sum >> 8), icmp[3] = (__u8)~sum;
		return n + 2 + 40 + 32;
	}
}

/*
 * The packet socket probes leave by (it takes CAP_NET_RAW): opened when
 * first needed, or at the start of a run with --unclaimed. 0 or -errno.
 */
int pong_prober_socket(struct pong_prober *p)
{
	if (p->sock < 0) {
		p->sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);   /* protocol 0: receives nothing */
		if (p->sock < 0)
			return -errno;
	}
	return 0;
}

/* Has the interface's probe budget (PONG_PROBE_PPS, bursts of PROBE_BURST) a probe left now? */
static bool budget(struct pong_prober *p, __u64 now)
{
	__u64 interval = NS_PER_S / PONG_PROBE_PPS;

	if (p->bucket_ns < now - PROBE_BURST * interval)
		p->bucket_ns = now - PROBE_BURST * interval;
	return p->bucket_ns + interval <= now;
}

/* One probe, if the interface's budget has one: 1 sent, 0 not now, -errno. */
static int send_probe(struct pong_prober *p, const struct pong_ask *a, __u64 now)
{
	__u8 frame[128];
	size_t len;
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = p->ifindex, .sll_halen = 6 };
	int err = pong_prober_socket(p);

	if (err)
		return err;
	if (!budget(p, now))
		return 0;
	len = build_probe(p, a, frame);
	memcpy(to.sll_addr, frame, 6);
	if (sendto(p->sock, frame, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return errno == ENOBUFS || errno == EAGAIN ? 0 : -errno;
	p->bucket_ns += NS_PER_S / PONG_PROBE_PPS;
	p->probes++;
	return 1;
}

/* The datapath's entry and our verdict of an address; 0, or -ENOENT when it was forgotten. */
static int look(const struct pong_prober *p, const struct pong_ask *a, struct pong_claim *c, struct pong_verdict *v)
{
	__u8 key[sizeof(struct pong_claim_key6)];

	ask_key(a, key);
	if (bpf_map_lookup_elem(p->claims[fam(a->family)], key, c))
		return -ENOENT;
	if (bpf_map_lookup_elem(p->verdicts[fam(a->family)], key, v))
		memset(v, 0, sizeof(*v));
	return 0;
}

static int put_verdict(const struct pong_prober *p, const struct pong_ask *a, const struct pong_verdict *v)
{
	__u8 key[sizeof(struct pong_claim_key6)];

	ask_key(a, key);
	return bpf_map_update_elem(p->verdicts[fam(a->family)], key, v, BPF_ANY) ? -errno : 0;
}

/* The datapath's rule (claim.h), but for the heartbeat, which is ours. */
static bool holds(const struct pong_prober *p, const struct pong_claim *c, const struct pong_verdict *v, __u64 now)
{
	return pong_claim_verified(c, v, p->since_ns, now);
}

/* Its owner spoke within PONG_OWNER_HOLD_S before t: the address is left alone. */
static bool held_by_owner(const struct pong_claim *c, __u64 t)
{
	return c->owner_ns && c->owner_ns + PONG_OWNER_HOLD_S * NS_PER_S > t;
}

static bool same_ask(const struct pong_ask *x, const struct pong_ask *y)
{
	return x->family == y->family && !memcmp(x->vlan, y->vlan, sizeof(x->vlan)) &&
	       !memcmp(x->addr, y->addr, addr_len(x->family));
}

/*
 * A round for the address of a, unless one is under way, it was probed
 * within RETRY_GAP_MS, its owner spoke within PONG_OWNER_HOLD_S, or it is
 * claimed and not due for re-verification; and unless asks (not
 * re-verifications) already take ASK_ROUNDS. 0, or -errno.
 */
static int start_round(struct pong_prober *p, const struct pong_ask *a, __u64 now)
{
	struct pong_claim c;
	struct pong_verdict v;
	struct round *r;
	bool reverify;

	if (a->family != AF_INET && a->family != AF_INET6)
		return 0;
	for (int i = 0; i < p->nrounds; i++)
		if (same_ask(&p->rounds[i].ask, a))
			return 0;
	if (p->nrounds == MAX_ROUNDS || look(p, a, &c, &v))
		return 0;     /* no room now (the next scan finds it again), or forgotten */
	if (v.round_ns && now - v.round_ns < RETRY_GAP_MS * NS_PER_MS)
		return 0;
	if (held_by_owner(&c, now))
		return 0;     /* a host doing DAD or ACD does not answer probes: wait until it has been silent */
	reverify = holds(p, &c, &v, now);
	if (reverify && now - v.verified_ns < PONG_REVERIFY_S * NS_PER_S)
		return 0;
	if (!reverify && p->nrounds >= ASK_ROUNDS)
		return 0;     /* re-verifications keep their room: claims must not lapse under a flood of asks */
	/* verified_ns is kept: a claim re-verified holds on until an owner answers */
	v.round_ns = now;
	v.probing = 1;
	v.probes = 0;
	r = &p->rounds[p->nrounds++];
	*r = (struct round){ .ask = *a, .start_ns = now };
	return put_verdict(p, a, &v);
}

static int on_ask(void *ctx, void *data, size_t size)
{
	struct pong_prober *p = ctx;
	struct pong_ask a;

	if (size < sizeof(a))
		return 0;
	memcpy(&a, data, sizeof(a));
	return start_round(p, &a, mono_ns());
}

/* A round whose probes went out and whose wait is over: claimed, or left to its owner. */
static int decide(struct pong_prober *p, const struct round *r, __u64 now)
{
	struct pong_claim c;
	struct pong_verdict v;

	if (look(p, &r->ask, &c, &v))
		return 0;                       /* forgotten meanwhile */
	if (c.owner_ns < r->start_ns && !held_by_owner(&c, r->start_ns)) {
		if (!holds(p, &c, &v, now))
			p->claimed++;
		v.verified_ns = r->start_ns;    /* nobody answered: ours, from the round's start on */
	} else {
		v.verified_ns = 0;              /* an owner answered (the datapath has ended any claim) */
	}
	v.probing = 0;
	v.probes = (__u32)r->sent;
	return put_verdict(p, &r->ask, &v);
}

/* The rounds under way: probes due, decisions due. *next_ms: when next, if sooner. 0 or -errno. */
static int advance(struct pong_prober *p, __u64 now, long long *next_ms)
{
	for (int i = 0; i < p->nrounds;) {
		struct round *r = &p->rounds[i];
		bool answered = false;
		__u64 due;

		if (r->sent < PONG_PROBES && now >= r->start_ns + (__u64)r->sent * PONG_PROBE_GAP_MS * NS_PER_MS) {
			struct pong_claim c;
			struct pong_verdict v;

			if (!budget(p, now)) {
				;                       /* no probe left now: nothing to read either */
			} else if (look(p, &r->ask, &c, &v) || c.owner_ns >= r->start_ns) {
				answered = true;        /* or forgotten: decide now */
			} else {
				int sent = send_probe(p, &r->ask, now);

				if (sent < 0)
					return sent;
				if (sent) {
					r->sent++;
					r->sent_ns = now;
				}
			}
		}
		if (answered || (r->sent >= PONG_PROBES && now >= r->sent_ns + PONG_PROBE_WAIT_MS * NS_PER_MS)) {
			int err = decide(p, r, now);

			p->rounds[i] = p->rounds[--p->nrounds];
			if (err)
				return err;
			continue;
		}
		if (r->sent >= PONG_PROBES)
			due = r->sent_ns + PONG_PROBE_WAIT_MS * NS_PER_MS;
		else
			due = r->start_ns + (__u64)r->sent * PONG_PROBE_GAP_MS * NS_PER_MS;
		if (due <= now)
			due = now + 1000000000ull / PONG_PROBE_PPS;   /* waiting for the budget */
		if ((long long)((due - now) / NS_PER_MS) + 1 < *next_ms)
			*next_ms = (long long)((due - now) / NS_PER_MS) + 1;
		i++;
	}
	return 0;
}

/*
 * One family's table, whole: forget the idle; with --unclaimed on (probe),
 * re-verify the claimed and probe asks a lost event hid.
 */
static int scan(struct pong_prober *p, int f, bool probe)
{
	static __u8 doomed[PONG_CLAIMS_MAX][sizeof(struct pong_claim_key6)];
	__u8 key[sizeof(struct pong_claim_key6)] = { 0 }, next[sizeof(struct pong_claim_key6)] = { 0 };
	size_t alen = f ? 16 : 4;
	void *prev = NULL;
	int ndoomed = 0;

	/* deleted after the walk: a walk from a deleted key starts over from the first */
	while (bpf_map_get_next_key(p->claims[f], prev, next) == 0) {
		struct pong_claim c;
		struct pong_verdict v;
		struct pong_ask a = { .family = f ? AF_INET6 : AF_INET };
		__u64 now;

		memcpy(key, next, sizeof(key));
		prev = key;
		memcpy(a.vlan, key, sizeof(a.vlan));
		memcpy(a.addr, key + sizeof(a.vlan), alen);
		if (look(p, &a, &c, &v))
			continue;
		now = mono_ns();      /* after the read, so that an ask during the scan is not in the future */
		if (now > c.asked_ns && now - c.asked_ns > PONG_CLAIM_IDLE_S * NS_PER_S && !v.probing) {
			if (ndoomed < PONG_CLAIMS_MAX)
				memcpy(doomed[ndoomed++], key, sizeof(key));
			continue;
		}
		if (probe && (holds(p, &c, &v, now) || c.asked_ns > v.round_ns)) {
			int err = start_round(p, &a, now);

			if (err)
				return err;
		}
	}
	for (int i = 0; i < ndoomed; i++) {
		/* the verdict first: a claim entry made again meanwhile finds none */
		bpf_map_delete_elem(p->verdicts[f], doomed[i]);
		bpf_map_delete_elem(p->claims[f], doomed[i]);
	}
	return 0;
}

/* This run's counts into the program's event counters (the datapath counts released only). */
static void write_counts(const struct pong_prober *p)
{
	static __u64 vals[4096];
	int ncpus = libbpf_num_possible_cpus();
	const struct { __u32 id; __u64 n; } counts[] = { { PONG_EV_CLAIMED, p->claimed }, { PONG_EV_PROBES, p->probes } };

	if (ncpus <= 0 || ncpus > 4096)
		return;
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		memset(vals, 0, sizeof(__u64) * (size_t)ncpus);
		vals[0] = counts[i].n;
		bpf_map_update_elem(p->events, &counts[i].id, vals, BPF_ANY);
	}
}

int pong_prober_work(struct pong_prober *p, int *next_ms)
{
	long long next = BEAT_MS;
	int err = ring_buffer__consume(p->rb);
	__u64 now = mono_ns();

	if (err < 0)
		return err;
	if (now - p->scanned_ns >= SCAN_MS * NS_PER_MS) {
		struct pong_settings st;

		p->scanned_ns = now;
		err = pong_read_settings(p->prog_fd, &st);
		p->since_ns = err ? p->since_ns : st.unclaimed_since_ns;
		if (!err)
			err = scan(p, 0, st.unclaimed);
		if (!err)
			err = scan(p, 1, st.unclaimed);
		if (err)
			return err;
	}
	err = advance(p, mono_ns(), &next);
	if (err)
		return err;
	if (now - p->beat_ns >= BEAT_MS * NS_PER_MS) {
		struct pong_prober_beat beat = { .beat_ns = now, .pid = (__u32)getpid() };

		p->beat_ns = now;
		write_counts(p);
		err = pong_write_section(p->prog_fd, PONG_PROBER_MAP, &beat, sizeof(beat));
		if (err)
			return err;
	}
	*next_ms = (int)next;
	return 0;
}

int pong_prober_fd(const struct pong_prober *p)
{
	return ring_buffer__epoll_fd(p->rb);
}

/*
 * The interface's MAC changed: the rounds under way are dropped, undecided
 * (their probes asked for answers to the old MAC, which the NIC may now
 * filter: silence would prove nothing); their addresses are probed again.
 */
void pong_prober_set_mac(struct pong_prober *p, const __u8 mac[6])
{
	memcpy(p->mac, mac, 6);
	for (int i = 0; i < p->nrounds; i++) {
		struct pong_claim c;
		struct pong_verdict v;

		if (look(p, &p->rounds[i].ask, &c, &v) == 0) {
			v.probing = 0;
			v.round_ns = 0;
			put_verdict(p, &p->rounds[i].ask, &v);
		}
	}
	p->nrounds = 0;
}

void pong_prober_close(struct pong_prober *p)
{
	if (!p)
		return;
	ring_buffer__free(p->rb);
	for (int i = 0; i < 2; i++) {
		if (p->claims[i] >= 0)
			close(p->claims[i]);
		if (p->verdicts[i] >= 0)
			close(p->verdicts[i]);
	}
	if (p->events >= 0)
		close(p->events);
	if (p->asks >= 0)
		close(p->asks);
	if (p->sock >= 0)
		close(p->sock);
	free(p);
}

/* The prober of the program prog_fd on ifindex, answering as mac. 0 or -errno. */
int pong_prober_open(int prog_fd, int ifindex, const __u8 mac[6], struct pong_prober **out)
{
	static const char *const maps[4] = { PONG_CLAIMS4_MAP, PONG_CLAIMS6_MAP, PONG_VERDICTS4_MAP, PONG_VERDICTS6_MAP };
	struct pong_prober *p = calloc(1, sizeof(*p));
	struct bpf_map_info minfo;
	int err = 0;

	if (!p)
		return -ENOMEM;
	p->sock = p->events = p->asks = p->claims[0] = p->claims[1] = p->verdicts[0] = p->verdicts[1] = -1;
	p->ifindex = ifindex;
	p->prog_fd = prog_fd;
	memcpy(p->mac, mac, 6);
	for (int i = 0; i < 4 && !err; i++) {
		int fd = pong_prog_map_fd(prog_fd, maps[i], &minfo);

		if (fd < 0)
			err = fd;
		else if (i < 2)
			p->claims[i] = fd;
		else
			p->verdicts[i - 2] = fd;
	}
	if (!err) {
		p->events = pong_prog_map_fd(prog_fd, PONG_EVENTS_MAP, &minfo);
		err = p->events < 0 ? p->events : 0;
	}
	if (!err) {
		p->asks = pong_prog_map_fd(prog_fd, PONG_ASKS_MAP, &minfo);
		err = p->asks < 0 ? p->asks : 0;
		if (!err) {
			p->rb = ring_buffer__new(p->asks, on_ask, p, NULL);
			err = p->rb ? 0 : -errno;
		}
	}
	if (err) {
		pong_prober_close(p);
		return err;
	}
	*out = p;
	return 0;
}

/* Is a `run` probing for the program prog_fd (its heartbeat within 2 s)? 1, 0, or -errno. */
int pong_prober_alive(int prog_fd)
{
	struct pong_prober_beat beat;
	int err = pong_read_section(prog_fd, PONG_PROBER_MAP, &beat, sizeof(beat));

	if (err)
		return err;
	return beat.beat_ns && mono_ns() - beat.beat_ns < 2000000000ull;
}
