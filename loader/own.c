// SPDX-License-Identifier: GPL-2.0
/*
 * Floor 2: the host's own addresses, which the datapath leaves to the
 * kernel (xdp/lib/own.h). pong_own_sync() reads every address of every
 * interface in this network namespace, and every local and anycast route
 * of its local routing table, and makes a program's maps (pong_own4/6,
 * pong_own_nets4/6 for local prefixes) and the filter in its .data.own
 * hold exactly those. attach calls it once, before the program answers
 * anything; run calls it again each time the kernel announces a change
 * (pong_own_watch_open(), pong_own_watch_drain()).
 *
 * Why every interface, not only the attached one: with the default
 * arp_ignore=0 the kernel answers ARP on any interface for an address on
 * any other, so each of them is the host's to answer for. Why routes too:
 * the kernel answers for every address of a local route (`ip addr add
 * 10.66.0.1/24 dev lo` makes all of 10.66.0.0/24 the host's; so does
 * `ip route add local`), and for IPv6 anycast addresses (a router's
 * subnet-router anycast address).
 */
#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "xdp-pong.h"

static int cmp4(const void *a, const void *b)
{
	return memcmp(a, b, 4);
}

static int cmp6(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

static int cmp_lpm4(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct pong_lpm4));
}

static int cmp_lpm6(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct pong_lpm6));
}

/* Sort n items of size bytes and drop repeats; the count left. */
static int sort_unique(void *items, int n, size_t size, int (*cmp)(const void *, const void *))
{
	char *p = items;
	int k = 0;

	qsort(items, (size_t)n, size, cmp);
	for (int i = 0; i < n; i++)
		if (!k || cmp(p + (size_t)(k - 1) * size, p + (size_t)i * size))
			memmove(p + (size_t)k++ * size, p + (size_t)i * size, size);
	return k;
}

/* One more address; when the array is full, its repeats are dropped first (one address on many
 * interfaces, as fe80::1 on every VLAN, comes once per interface and once per local route). */
static void add_addr(struct pong_own_set *set, int family, const void *addr)
{
	if (family == AF_INET) {
		if (set->n4 == PONG_OWN_READ_MAX)
			set->n4 = sort_unique(set->v4, set->n4, 4, cmp4);
		if (set->n4 < PONG_OWN_READ_MAX)
			memcpy(&set->v4[set->n4++], addr, 4);
		else
			set->overflow = true;
	} else {
		if (set->n6 == PONG_OWN_READ_MAX)
			set->n6 = sort_unique(set->v6, set->n6, 16, cmp6);
		if (set->n6 < PONG_OWN_READ_MAX)
			memcpy(set->v6[set->n6++], addr, 16);
		else
			set->overflow = true;
	}
}

/* A local route of a prefix (not a single address): every address in it is the host's. */
static void add_net(struct pong_own_set *set, int family, const __u8 *addr, int len)
{
	if (family == AF_INET) {
		if (addr[0] == 127)
			return;                 /* loopback: refused as a destination anyway (ip_dst) */
		if (set->nn4 == PONG_OWN_NETS_MAX) {
			set->overflow = true;
			return;
		}
		set->nets4[set->nn4].prefixlen = (__u32)len;
		memcpy(set->nets4[set->nn4++].addr, addr, 4);
	} else {
		if (set->nn6 == PONG_OWN_NETS_MAX) {
			set->overflow = true;
			return;
		}
		set->nets6[set->nn6].prefixlen = (__u32)len;
		memcpy(set->nets6[set->nn6++].addr, addr, 16);
	}
}

/*
 * The local routing table's addresses of one family: every route of type
 * local (the host's addresses, and prefixes routed to the host itself, as
 * `ip route add local 192.0.2.0/24 dev lo` makes them) or anycast (IPv6).
 * The kernel answers for all of them: ARP and NS when their address is one
 * of them (inet_addr_type() RTN_LOCAL), echo to any. And every broadcast
 * route (IPv4: a connected subnet's broadcast address): the kernel's too, to
 * ignore, so that no reply claims to come from it (RFC 1122 3.2.2: no ICMP
 * error for a datagram to a broadcast address; no RST either). Only table
 * local is asked for (a router's full table is not dumped). 0 or -errno.
 */
static int read_local_table(struct pong_own_set *set, int family)
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rt;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETROUTE, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = 1 },
		.rt = { .rtm_family = (unsigned char)family, .rtm_table = RT_TABLE_LOCAL },
	};
	static char buf[65536];
	int one = 1, err = 0, done = 0;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	/* the kernel filters the dump by table (since 4.20); if it cannot, the filter below still holds */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	if (send(fd, &req, sizeof(req), 0) < 0)
		err = -errno;
	while (!err && !done) {
		ssize_t got = recv(fd, buf, sizeof(buf), 0);
		int len = got > 0 ? (int)got : 0;
		struct nlmsghdr *nh;

		if (got < 0) {
			err = errno == EINTR ? 0 : -errno;
			continue;
		}
		if (got == 0)
			err = -EPROTO;         /* the dump ended without its last message */
		for (nh = (struct nlmsghdr *)(void *)buf; !err && NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			const struct rtmsg *rt = NLMSG_DATA(nh);
			const struct rtattr *at;
			__u8 dst[16] = { 0 };
			__u32 table;
			int alen;

			if (nh->nlmsg_flags & NLM_F_DUMP_INTR) {
				err = -EAGAIN;     /* the table changed during the dump: read it again */
				break;
			}
			if (nh->nlmsg_type == NLMSG_DONE) {
				int status = 0;

				/* the dump's own error rides on its last message; no table local yet is no route */
				if (nh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					memcpy(&status, NLMSG_DATA(nh), sizeof(int));
				err = status == -ENOENT ? 0 : status;
				done = 1;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				err = nh->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error ? e->error : -EPROTO;
				if (err == -ENOENT)
					err = 0, done = 1;
				break;
			}
			if (nh->nlmsg_type != RTM_NEWROUTE || nh->nlmsg_len < NLMSG_LENGTH(sizeof(*rt)) ||
			    rt->rtm_family != family)
				continue;
			table = rt->rtm_table;
			alen = (int)RTM_PAYLOAD(nh);
			for (at = RTM_RTA(rt); RTA_OK(at, alen); at = RTA_NEXT(at, alen)) {
				if (at->rta_type == RTA_TABLE && RTA_PAYLOAD(at) == 4)
					memcpy(&table, RTA_DATA(at), 4);
				else if (at->rta_type == RTA_DST && RTA_PAYLOAD(at) <= sizeof(dst))
					memcpy(dst, RTA_DATA(at), RTA_PAYLOAD(at));
			}
			if (table != RT_TABLE_LOCAL || (rt->rtm_type != RTN_LOCAL && rt->rtm_type != RTN_ANYCAST &&
							rt->rtm_type != RTN_BROADCAST))
				continue;
			if (rt->rtm_dst_len == (family == AF_INET ? 32 : 128))
				add_addr(set, family, dst);
			else
				add_net(set, family, dst, rt->rtm_dst_len);
		}
	}
	close(fd);
	return err;
}

/*
 * The host's own addresses in this network namespace: every address of
 * every interface (tentative IPv6 ones too: a host is about to take them),
 * and every local, anycast and broadcast route of the local table; sorted,
 * each once.
 * 0 or -errno (-E2BIG: more than the program can hold).
 */
int pong_own_read(struct pong_own_set *set)
{
	struct ifaddrs *all, *i;
	int err;

	for (int tries = 0; tries < 5; tries++) {
		set->n4 = set->n6 = set->nn4 = set->nn6 = 0;
		set->overflow = false;
		err = read_local_table(set, AF_INET);
		if (!err)
			err = read_local_table(set, AF_INET6);
		if (err != -EAGAIN)
			break;                 /* -EAGAIN: a dump cut by a change, read again */
	}
	if (err)
		return err;
	if (getifaddrs(&all))
		return -errno;
	for (i = all; i; i = i->ifa_next) {
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET)
			add_addr(set, AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr);
		else if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET6)
			add_addr(set, AF_INET6, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr);
	}
	freeifaddrs(all);
	set->n4 = sort_unique(set->v4, set->n4, 4, cmp4);
	set->n6 = sort_unique(set->v6, set->n6, 16, cmp6);
	set->nn4 = sort_unique(set->nets4, set->nn4, sizeof(struct pong_lpm4), cmp_lpm4);
	set->nn6 = sort_unique(set->nets6, set->nn6, sizeof(struct pong_lpm6), cmp_lpm6);
	return set->overflow || set->n4 > PONG_OWN_MAX || set->n6 > PONG_OWN_MAX ? -E2BIG : 0;
}

/*
 * Make the map hold exactly keys[0..n) (sorted): one walk finds what it
 * holds; the stale keys go out first, then only the missing ones go in (a
 * key it holds is never written again: an LPM trie that is full refuses
 * even that on kernels before 6.13, and it costs a system call).
 */
static int map_sync(int fd, __u32 max_entries, const void *keys, int n, size_t ksize,
		    int (*cmp)(const void *, const void *))
{
	__u8 *held = malloc((size_t)max_entries * ksize), key[sizeof(struct pong_lpm6)], one = 1;
	__u32 nheld = 0;
	int err = 0;
	void *prev = NULL;

	if (!held)
		return -ENOMEM;
	while (nheld < max_entries && !bpf_map_get_next_key(fd, prev, key)) {
		memcpy(held + (size_t)nheld++ * ksize, key, ksize);
		prev = key;
	}
	if (nheld < max_entries && errno != ENOENT)
		err = -errno;
	for (__u32 i = 0; !err && i < nheld; i++) {
		const __u8 *k = held + (size_t)i * ksize;

		if (!bsearch(k, keys, (size_t)n, ksize, cmp) && bpf_map_delete_elem(fd, k) && errno != ENOENT)
			err = -errno;
	}
	qsort(held, nheld, ksize, cmp);
	for (int i = 0; !err && i < n; i++) {
		const void *k = (const char *)keys + (size_t)i * ksize;

		if (!bsearch(k, held, nheld, ksize, cmp) && bpf_map_update_elem(fd, k, &one, BPF_ANY))
			err = -errno;
	}
	free(held);
	return err;
}

static int map_fd(int prog_fd, const char *name, __u32 ksize, __u32 max_entries)
{
	struct bpf_map_info minfo = { 0 };
	int fd = pong_prog_map_fd(prog_fd, name, &minfo);

	if (fd >= 0 && (minfo.key_size != ksize || minfo.max_entries != max_entries)) {
		close(fd);
		return -EPROTO;
	}
	return fd;
}

/*
 * Make the program's own-address maps and filter hold exactly set: the
 * addresses that are no longer the host's out of the maps first (answering
 * for them is right), then the new ones in, then the filter (whole, marked
 * ready). An address the program knew as the host's is never answered on
 * the way; a new one is, until the filter is written (the write takes
 * milliseconds); and the maps never need room for old and new at once.
 * 0 or -errno.
 */
int pong_own_write(int prog_fd, const struct pong_own_set *set)
{
	static struct pong_own_filter filter;
	static const struct {
		const char *name;
		__u32 ksize, max;
	} maps[4] = {
		{ PONG_OWN4_MAP, 4, PONG_OWN_MAX }, { PONG_OWN6_MAP, 16, PONG_OWN_MAX },
		{ PONG_OWN_NETS4_MAP, sizeof(struct pong_lpm4), PONG_OWN_NETS_MAX },
		{ PONG_OWN_NETS6_MAP, sizeof(struct pong_lpm6), PONG_OWN_NETS_MAX },
	};
	const void *keys[4] = { set->v4, set->v6, set->nets4, set->nets6 };
	const int nkeys[4] = { set->n4, set->n6, set->nn4, set->nn6 };
	int (*const cmps[4])(const void *, const void *) = { cmp4, cmp6, cmp_lpm4, cmp_lpm6 };
	int err = 0;

	for (int m = 0; m < 4 && !err; m++) {
		int fd = map_fd(prog_fd, maps[m].name, maps[m].ksize, maps[m].max);

		if (fd < 0)
			return fd;
		err = map_sync(fd, maps[m].max, keys[m], nkeys[m], maps[m].ksize, cmps[m]);
		close(fd);
	}
	if (err)
		return err;
	memset(&filter, 0, sizeof(filter));
	filter.ready = 1;
	filter.nets4 = (__u32)set->nn4;
	filter.nets6 = (__u32)set->nn6;
	for (int i = 0; i < set->n4; i++) {
		__u32 bit = pong_own_bit4(set->v4[i]);

		filter.bits[bit / 64] |= 1ull << (bit % 64);
	}
	for (int i = 0; i < set->n6; i++) {
		__u32 w[4], bit;

		memcpy(w, set->v6[i], 16);
		bit = pong_own_bit6(w);
		filter.bits[bit / 64] |= 1ull << (bit % 64);
	}
	return pong_write_section(prog_fd, PONG_OWN_FILTER_MAP, &filter, sizeof(filter));
}

/*
 * Read the host's addresses once and write them into each of n programs.
 * 0, or -errno with *failed the index of the program not written (n: the
 * reading failed).
 */
int pong_own_sync(const int *prog_fds, int n, int *failed)
{
	struct pong_own_set *set = malloc(sizeof(*set));
	int err;

	*failed = n;
	if (!set)
		return -ENOMEM;
	err = pong_own_read(set);
	for (int i = 0; !err && i < n; i++) {
		err = pong_own_write(prog_fds[i], set);
		if (err)
			*failed = i;
	}
	free(set);
	return err;
}

/*
 * How many of the host's addresses (and local prefixes) the program does
 * not know (gained since it was written: `attach` writes them once), or
 * -errno.
 */
int pong_own_missing(int prog_fd)
{
	struct pong_own_set *set = malloc(sizeof(*set));
	int fds[4] = { -1, -1, -1, -1 }, missing;
	__u8 v;

	if (!set)
		return -ENOMEM;
	missing = pong_own_read(set);
	if (!missing) {
		fds[0] = map_fd(prog_fd, PONG_OWN4_MAP, 4, PONG_OWN_MAX);
		fds[1] = map_fd(prog_fd, PONG_OWN6_MAP, 16, PONG_OWN_MAX);
		fds[2] = map_fd(prog_fd, PONG_OWN_NETS4_MAP, sizeof(struct pong_lpm4), PONG_OWN_NETS_MAX);
		fds[3] = map_fd(prog_fd, PONG_OWN_NETS6_MAP, sizeof(struct pong_lpm6), PONG_OWN_NETS_MAX);
		for (int m = 0; m < 4; m++)
			if (fds[m] < 0 && !missing)
				missing = fds[m];
	}
	for (int i = 0; missing >= 0 && i < set->n4; i++)
		missing += bpf_map_lookup_elem(fds[0], &set->v4[i], &v) != 0;
	for (int i = 0; missing >= 0 && i < set->n6; i++)
		missing += bpf_map_lookup_elem(fds[1], set->v6[i], &v) != 0;
	/* an LPM lookup finds the longest match: a prefix is known when the lookup of itself finds it */
	for (int i = 0; missing >= 0 && i < set->nn4; i++) {
		struct pong_lpm4 k = set->nets4[i];

		missing += bpf_map_lookup_elem(fds[2], &k, &v) != 0;
	}
	for (int i = 0; missing >= 0 && i < set->nn6; i++) {
		struct pong_lpm6 k = set->nets6[i];

		missing += bpf_map_lookup_elem(fds[3], &k, &v) != 0;
	}
	for (int m = 0; m < 4; m++)
		if (fds[m] >= 0)
			close(fds[m]);
	free(set);
	return missing;
}

/*
 * A netlink socket that hears of every address added or removed in this
 * namespace, every change to its local routing table, IPv6 anycast
 * addresses, and interfaces coming and going (for run to look at them at
 * once); the fd, or -errno.
 */
int pong_own_watch_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE |
					       RTMGRP_IPV6_ROUTE | RTMGRP_LINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	/* an IPv6 anycast address comes with a route in the local table (heard above); its own group, where
	 * the headers know it, as well */
#ifdef RTNLGRP_IPV6_ACADDR
	{
		int group = RTNLGRP_IPV6_ACADDR;

		(void)setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group));
	}
#endif
	return fd;
}

/* Whether a route message is about the local table. */
static bool local_table(const struct nlmsghdr *nh)
{
	const struct rtmsg *rt = NLMSG_DATA(nh);
	const struct rtattr *at;
	__u32 table = rt->rtm_table;
	int alen = (int)RTM_PAYLOAD(nh);

	for (at = RTM_RTA(rt); RTA_OK(at, alen); at = RTA_NEXT(at, alen))
		if (at->rta_type == RTA_TABLE && RTA_PAYLOAD(at) == 4)
			memcpy(&table, RTA_DATA(at), 4);
	return table == RT_TABLE_LOCAL;
}

/*
 * Read what the socket heard: PONG_OWN_CHANGED if the host's addresses may
 * have changed (an address, a local or anycast route; or messages were lost
 * to an overflow, so anything may have), PONG_LINK_CHANGED if an interface
 * came, went or changed; 0 if nothing; -errno on failure. Routes of other
 * tables (a router's churn) are read and let go.
 */
int pong_own_watch_drain(int fd)
{
	static char buf[16384];
	int what = 0;

	/* at most 1,024 reads a call: a router's endless route updates cannot hold the caller here */
	for (int reads = 0; reads < 1024; reads++) {
		ssize_t r = recv(fd, buf, sizeof(buf), MSG_TRUNC);
		int len = r > 0 ? (int)(r < (ssize_t)sizeof(buf) ? r : (ssize_t)sizeof(buf)) : 0;
		struct nlmsghdr *nh;

		if (r < 0 && errno == ENOBUFS) {
			what |= PONG_OWN_CHANGED | PONG_LINK_CHANGED;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return what;
		if (r <= 0)
			return r == 0 ? what : -errno;
		if (r > (ssize_t)sizeof(buf))
			what |= PONG_OWN_CHANGED | PONG_LINK_CHANGED;   /* cut short: anything may have changed */
		for (nh = (struct nlmsghdr *)(void *)buf; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			bool route = nh->nlmsg_type == RTM_NEWROUTE || nh->nlmsg_type == RTM_DELROUTE;
			bool addr = nh->nlmsg_type == RTM_NEWADDR || nh->nlmsg_type == RTM_DELADDR;

#ifdef RTM_NEWANYCAST
			addr = addr || nh->nlmsg_type == RTM_NEWANYCAST || nh->nlmsg_type == RTM_DELANYCAST;
#endif
			if (addr || (route && nh->nlmsg_len >= NLMSG_LENGTH(sizeof(struct rtmsg)) && local_table(nh)))
				what |= PONG_OWN_CHANGED;
			else if (nh->nlmsg_type == RTM_NEWLINK || nh->nlmsg_type == RTM_DELLINK)
				what |= PONG_LINK_CHANGED;
		}
	}
	return what | PONG_OWN_CHANGED | PONG_LINK_CHANGED;   /* more to read: the next call reads on */
}
