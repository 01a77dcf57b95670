// SPDX-License-Identifier: GPL-2.0
/*
 * Floor 2: the host's own addresses, which the datapath leaves to the
 * kernel (xdp/lib/own.h). pong_own_sync() reads every address of every
 * interface in this network namespace and makes a program's pong_own4 and
 * pong_own6, and the filter in its .data.own, hold exactly those. attach
 * calls it once, before the program answers anything; run calls it again
 * each time the kernel announces an address added or removed
 * (pong_own_watch_open(), pong_own_watch_drain()).
 *
 * Why every interface, not only the attached one: with the default
 * arp_ignore=0 the kernel answers ARP on any interface for an address on
 * any other, so each of them is the host's to answer for. IPv6 anycast
 * addresses the kernel answers solicitations for (a router's subnet-router
 * anycast address, /proc/net/anycast6) count too.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
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

static int add6(struct pong_own_set *set, const void *addr)
{
	if (set->n6 == PONG_OWN_MAX)
		return -E2BIG;
	memcpy(set->v6[set->n6++], addr, 16);
	return 0;
}

/* The IPv6 anycast addresses of this namespace's interfaces (lines "IFINDEX NAME HEX32 USERS"). */
static int read_anycast6(struct pong_own_set *set)
{
	FILE *f = fopen("/proc/self/net/anycast6", "re");   /* /proc/net is hidden under ProcSubset=pid */
	char line[256];
	int err = 0;

	if (!f)
		return errno == ENOENT ? 0 : -errno;    /* no IPv6 in this kernel */
	while (!err && fgets(line, sizeof(line), f)) {
		char hex[33];
		__u8 addr[16];
		int ok = sscanf(line, "%*d %*s %32s", hex) == 1 && strlen(hex) == 32;

		for (size_t k = 0; ok && k < 16; k++) {
			unsigned v;

			ok = sscanf(hex + 2 * k, "%2x", &v) == 1;
			addr[k] = (__u8)v;
		}
		if (ok)
			err = add6(set, addr);
	}
	fclose(f);
	return err;
}

/*
 * The addresses of every interface in this network namespace (and its IPv6
 * anycast addresses), sorted. 0 or -errno (-E2BIG: too many).
 */
int pong_own_read(struct pong_own_set *set)
{
	struct ifaddrs *all, *i;
	int err;

	set->n4 = set->n6 = 0;
	err = read_anycast6(set);
	if (err)
		return err;
	if (getifaddrs(&all))
		return -errno;
	for (i = all; i && !err; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			if (set->n4 == PONG_OWN_MAX)
				err = -E2BIG;
			else
				memcpy(&set->v4[set->n4++], &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			err = add6(set, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr);
		}
	}
	freeifaddrs(all);
	qsort(set->v4, (size_t)set->n4, 4, cmp4);
	qsort(set->v6, (size_t)set->n6, 16, cmp6);
	return err;
}

/* Delete from the hash map fd every key (of size ksize) that is not in sorted[0..n). */
static int drop_others(int fd, const void *sorted, int n, size_t ksize, int (*cmp)(const void *, const void *))
{
	__u8 key[16], next[16];
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, ksize);
		if (!bsearch(key, sorted, (size_t)n, ksize, cmp)) {
			if (bpf_map_delete_elem(fd, key) && errno != ENOENT)
				return -errno;
			prev = NULL;       /* the walk starts over: the deleted key cannot lead on */
			continue;
		}
		prev = key;
	}
	return errno == ENOENT ? 0 : -errno;
}

static int map_fd(int prog_fd, const char *name, __u32 ksize)
{
	struct bpf_map_info minfo = { 0 };
	int fd = pong_prog_map_fd(prog_fd, name, &minfo);

	if (fd >= 0 && (minfo.key_size != ksize || minfo.max_entries != PONG_OWN_MAX)) {
		close(fd);
		return -EPROTO;
	}
	return fd;
}

/*
 * Make the program's own-address maps and filter hold exactly set: the new
 * addresses into the maps first, then the filter (whole, marked ready), then
 * the addresses no longer the host's out of the maps. At no moment is an
 * address of the host's answered. 0 or -errno.
 */
int pong_own_write(int prog_fd, const struct pong_own_set *set)
{
	static struct pong_own_filter filter;
	struct bpf_map_info minfo = { 0 };
	int fd4, fd6, ffd, err = 0;
	__u32 zero = 0;
	__u8 one = 1;

	fd4 = map_fd(prog_fd, PONG_OWN4_MAP, 4);
	if (fd4 < 0)
		return fd4;
	fd6 = map_fd(prog_fd, PONG_OWN6_MAP, 16);
	if (fd6 < 0) {
		close(fd4);
		return fd6;
	}
	ffd = pong_prog_map_fd(prog_fd, PONG_OWN_FILTER_MAP, &minfo);
	if (ffd < 0) {
		err = ffd;
		goto out;
	}
	if (minfo.value_size != sizeof(filter)) {
		err = -EPROTO;
		goto out;
	}
	memset(&filter, 0, sizeof(filter));
	filter.ready = 1;
	for (int i = 0; i < set->n4 && !err; i++) {
		__u32 bit = pong_own_bit4(set->v4[i]);

		filter.bits[bit / 64] |= 1ull << (bit % 64);
		if (bpf_map_update_elem(fd4, &set->v4[i], &one, BPF_ANY))
			err = -errno;
	}
	for (int i = 0; i < set->n6 && !err; i++) {
		__u32 w[4], bit;

		memcpy(w, &set->v6[i], 16);
		bit = pong_own_bit6(w);
		filter.bits[bit / 64] |= 1ull << (bit % 64);
		if (bpf_map_update_elem(fd6, &set->v6[i], &one, BPF_ANY))
			err = -errno;
	}
	if (!err && bpf_map_update_elem(ffd, &zero, &filter, BPF_ANY))
		err = -errno;
	if (!err)
		err = drop_others(fd4, set->v4, set->n4, 4, cmp4);
	if (!err)
		err = drop_others(fd6, set->v6, set->n6, 16, cmp6);
out:
	if (ffd >= 0)
		close(ffd);
	close(fd4);
	close(fd6);
	return err;
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
 * How many of the host's addresses the program does not know (added since
 * it was written: `attach` writes them once), or -errno.
 */
int pong_own_missing(int prog_fd)
{
	struct pong_own_set *set = malloc(sizeof(*set));
	int fd4 = -1, fd6 = -1, missing = 0;
	__u8 v;

	if (!set)
		return -ENOMEM;
	missing = pong_own_read(set);
	if (!missing && (fd4 = map_fd(prog_fd, PONG_OWN4_MAP, 4)) < 0)
		missing = fd4;
	if (!missing && (fd6 = map_fd(prog_fd, PONG_OWN6_MAP, 16)) < 0)
		missing = fd6;
	for (int i = 0; missing >= 0 && fd4 >= 0 && fd6 >= 0 && i < set->n4; i++)
		missing += bpf_map_lookup_elem(fd4, &set->v4[i], &v) != 0;
	for (int i = 0; missing >= 0 && fd4 >= 0 && fd6 >= 0 && i < set->n6; i++)
		missing += bpf_map_lookup_elem(fd6, &set->v6[i], &v) != 0;
	if (fd4 >= 0)
		close(fd4);
	if (fd6 >= 0)
		close(fd6);
	free(set);
	return missing;
}

/* A netlink socket that hears of every address added or removed in this namespace; the fd, or -errno. */
int pong_own_watch_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/*
 * Read what the socket heard: 1 if an address changed (or messages were
 * lost: the socket's buffer overflowed, so anything may have), 0 if
 * nothing, -errno on failure.
 */
int pong_own_watch_drain(int fd)
{
	char buf[8192];
	int changed = 0;

	for (;;) {
		ssize_t r = recv(fd, buf, sizeof(buf), 0);

		if (r > 0) {
			changed = 1;
			continue;
		}
		if (r < 0 && errno == ENOBUFS) {
			changed = 1;
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return changed;
		return r == 0 ? changed : -errno;
	}
}
