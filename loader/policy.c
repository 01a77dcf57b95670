// SPDX-License-Identifier: GPL-2.0
/*
 * The operator's policy on an attached program: which addresses are answered
 * (prefix lists, LPM tries) and how fast (rate limits, in pong_settings in
 * the program's .bss). Changed at run time through the maps: no detach, no
 * lost counters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "xdp-pong.h"

/* "203.0.113.0/24", "2001:db8::/32", or a bare address (/32, /128). Host bits must be zero. */
int pong_parse_cidr(const char *s, struct pong_cidr *out)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	int max;

	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	out->len = max;
	if (slash) {
		char *end;
		long v;

		errno = 0;
		v = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || v < 0 || v > max)
			return -EINVAL;
		out->len = (int)v;
	}
	for (int bit = out->len; bit < max; bit++) {
		if (out->addr[bit / 8] & (0x80 >> (bit % 8)))
			return -ERANGE;    /* host bits set */
	}
	return 0;
}

void pong_format_cidr(const struct pong_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(c->family, c->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%d", a, c->len);
}

/* "100", "100/source" (the same: per source) ; "0" or "off" turns the limit off. */
int pong_parse_pps(const char *s, __u32 *pps)
{
	char *end;
	unsigned long v;

	if (!strcmp(s, "off")) {
		*pps = 0;
		return 0;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || (*end && strcmp(end, "/source") != 0) || v > 100000000ul || s[0] == '-')
		return -EINVAL;
	*pps = (__u32)v;
	return 0;
}

static int settings_fd(int prog_fd)
{
	struct bpf_map_info minfo;
	int fd = pong_prog_map_fd(prog_fd, PONG_SETTINGS_MAP, &minfo);

	if (fd >= 0 && minfo.value_size != sizeof(struct pong_settings)) {
		close(fd);
		return -EPROTO;
	}
	return fd;
}

int pong_read_settings(int prog_fd, struct pong_settings *s)
{
	__u32 key = 0;
	int err = 0, fd = settings_fd(prog_fd);

	if (fd < 0)
		return fd;
	if (bpf_map_lookup_elem(fd, &key, s))
		err = -errno;
	close(fd);
	return err;
}

int pong_write_settings(int prog_fd, const struct pong_settings *s)
{
	__u32 key = 0;
	int err = 0, fd = settings_fd(prog_fd);

	if (fd < 0)
		return fd;
	if (bpf_map_update_elem(fd, &key, s, BPF_ANY))
		err = -errno;
	close(fd);
	return err;
}

void pong_settings_set_limits(struct pong_settings *s, __u32 source_pps, __u32 global_pps)
{
	s->source_pps = source_pps;
	s->global_pps = global_pps;
	s->source_interval_ns = source_pps ? 1000000000ull / source_pps : 0;
	s->global_interval_ns = global_pps ? 1000000000ull / global_pps : 0;
	/* at rates above 1e9 pps the interval would round to 0 (= no limit) */
	if (source_pps && !s->source_interval_ns)
		s->source_interval_ns = 1;
	if (global_pps && !s->global_interval_ns)
		s->global_interval_ns = 1;
}

static int prefix_map(int prog_fd, int family)
{
	struct bpf_map_info minfo;

	return pong_prog_map_fd(prog_fd, family == AF_INET ? PONG_PREFIX4_MAP : PONG_PREFIX6_MAP, &minfo);
}

/* Key of an LPM trie: prefix length, then the address bytes. */
static void lpm_key(const struct pong_cidr *c, __u8 *key)
{
	__u32 plen = (__u32)c->len;

	memcpy(key, &plen, sizeof(plen));
	memcpy(key + sizeof(plen), c->addr, c->family == AF_INET ? 4 : 16);
}

/* Add a prefix; -EEXIST if it is listed already, -ENOSPC if the list is full. */
int pong_prefix_add(int prog_fd, const struct pong_cidr *c)
{
	__u8 key[sizeof(struct pong_lpm6)], one = 1;
	int err = 0, fd = prefix_map(prog_fd, c->family);

	if (fd < 0)
		return fd;
	lpm_key(c, key);
	if (bpf_map_update_elem(fd, key, &one, BPF_NOEXIST))
		err = errno == E2BIG ? -ENOSPC : -errno;
	close(fd);
	return err;
}

/* Remove a prefix (exact match); -ENOENT if it is not listed. */
int pong_prefix_del(int prog_fd, const struct pong_cidr *c)
{
	__u8 key[sizeof(struct pong_lpm6)];
	int err = 0, fd = prefix_map(prog_fd, c->family);

	if (fd < 0)
		return fd;
	lpm_key(c, key);
	if (bpf_map_delete_elem(fd, key))
		err = -errno;
	close(fd);
	return err;
}

/*
 * Walk both lists, IPv4 first, storing up to max entries in out (out may be
 * NULL when max is 0). Returns how many the lists hold, or -errno.
 */
static int prefix_walk(int prog_fd, struct pong_cidr *out, int max)
{
	static const int families[] = { AF_INET, AF_INET6 };
	int n = 0;

	for (int f = 0; f < 2; f++) {
		__u8 key[sizeof(struct pong_lpm6)], next[sizeof(struct pong_lpm6)];
		int fd = prefix_map(prog_fd, families[f]);
		void *prev = NULL;

		if (fd < 0)
			return fd;
		while (bpf_map_get_next_key(fd, prev, next) == 0) {
			if (n < max) {
				__u32 plen;

				memcpy(&plen, next, sizeof(plen));
				memset(&out[n], 0, sizeof(out[n]));
				out[n].family = families[f];
				out[n].len = (int)plen;
				memcpy(out[n].addr, next + sizeof(plen), families[f] == AF_INET ? 4 : 16);
			}
			n++;
			memcpy(key, next, sizeof(key));
			prev = key;
		}
		close(fd);
	}
	return n;
}

/* Both lists, IPv4 first: the number stored in out, -E2BIG if they hold more than max, or -errno. */
int pong_prefix_list(int prog_fd, struct pong_cidr *out, int max)
{
	int n = prefix_walk(prog_fd, out, max);

	return n > max ? -E2BIG : n;
}

/* How many prefixes both lists hold, or -errno. */
int pong_prefix_count(int prog_fd)
{
	return prefix_walk(prog_fd, NULL, 0);
}
