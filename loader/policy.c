// SPDX-License-Identifier: GPL-2.0
/*
 * Floor 2: the operator's policy on a program, and its rules: which
 * addresses are answered (the prefix lists, LPM tries, and when the scope
 * switch in pong_settings turns on or off), and the claims --unclaimed
 * holds. (The rate limits are settings alone: options.c parses them, prog.c
 * writes them.) Changed at run time through the maps: no detach, no lost
 * counters.
 *
 * The rules of scoping at run time live here and only here:
 *   - the first prefix added turns scoping on;
 *   - deleting the last prefix leaves scoping on with an empty list, which
 *     answers nothing (fail closed);
 *   - only clearing the list turns scoping off: every address again.
 * (At load, a program is scoped exactly when prefixes were given: prog.c's
 * pong_settings_initial().) The switch itself, like every setting, is
 * written by prog.c (pong_settings_apply()); callers that change settings
 * hold the settings lock (pong_lock()).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include "xdp-pong.h"

/* "203.0.113.0/24", "2001:db8::/32", or a bare address (/32, /128). -EINVAL, or -ERANGE: host bits set. */
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
			return -ERANGE;
	}
	return 0;
}

void pong_format_cidr(const struct pong_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(c->family, c->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%d", a, c->len);
}

static int prefix_map(int prog_fd, int family)
{
	struct bpf_map_info minfo;

	return pong_prog_map_fd(prog_fd, family == AF_INET ? PONG_PREFIX4_MAP : PONG_PREFIX6_MAP, &minfo);
}

/* Key of an LPM trie: prefix length, then the address bytes (struct pong_lpm4/6). */
static void lpm_key(const struct pong_cidr *c, __u8 *key)
{
	__u32 plen = (__u32)c->len;

	memcpy(key, &plen, sizeof(plen));
	memcpy(key + sizeof(plen), c->addr, c->family == AF_INET ? 4 : 16);
}

/* Add to the list (scoping unchanged); -EEXIST if listed already, -ENOSPC if the list is full. */
static int prefix_add(int prog_fd, const struct pong_cidr *c)
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

/* Remove from the list (exact match); -ENOENT if it is not listed. */
static int prefix_del(int prog_fd, const struct pong_cidr *c)
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

/* How --unclaimed stands with an entry, now: the datapath's rule (claim.h), heartbeat included. */
static void claim_state(struct pong_claim_entry *e, __u64 now, __u64 on_since, __u64 beat)
{
	const struct pong_claim *c = &e->claim;
	const struct pong_verdict *v = &e->verdict;
	__u64 since = c->asked_ns;

	if (pong_claim_verified(c, v, on_since, now) && now - beat < PONG_PROBER_DEAD_S * 1000000000ull) {
		e->state = PONG_CLAIM_CLAIMED;
		since = v->verified_ns;
	} else if (v->probing && c->owner_ns < v->round_ns) {   /* not answered yet */
		e->state = PONG_CLAIM_PROBING;
		since = v->round_ns;
	} else if (c->owner_ns) {
		e->state = PONG_CLAIM_OWNER;
		since = c->owner_ns;
	} else {
		e->state = PONG_CLAIM_ASKED;
	}
	e->state_s = now > since ? (double)(now - since) / 1e9 : 0.0;
	e->asked_s = now > c->asked_ns ? (double)(now - c->asked_ns) / 1e9 : 0.0;
}

/*
 * The addresses --unclaimed tracks, IPv4 first: up to max entries in out.
 * Returns how many were stored, or -errno.
 */
int pong_claims_list(int prog_fd, struct pong_claim_entry *out, int max)
{
	static const struct {
		const char *claims, *verdicts;
		int family;
		size_t len;
	} maps[] = { { PONG_CLAIMS4_MAP, PONG_VERDICTS4_MAP, AF_INET, sizeof(struct pong_claim_key4) },
		     { PONG_CLAIMS6_MAP, PONG_VERDICTS6_MAP, AF_INET6, sizeof(struct pong_claim_key6) } };
	struct pong_prober_beat beat = { 0 };
	struct pong_settings st;
	struct timespec ts;
	int n = 0, err = pong_read_settings(prog_fd, &st);

	if (!err)
		err = pong_read_section(prog_fd, PONG_PROBER_MAP, &beat, sizeof(beat));
	if (err)
		return err;
	clock_gettime(CLOCK_MONOTONIC, &ts);   /* the clock of bpf_ktime_get_ns() */
	for (size_t m = 0; m < 2; m++) {
		__u8 key[sizeof(struct pong_claim_key6)], next[sizeof(struct pong_claim_key6)];
		struct bpf_map_info cinfo, vinfo;
		void *prev = NULL;
		int cfd = pong_prog_map_fd(prog_fd, maps[m].claims, &cinfo), vfd;

		if (cfd < 0)
			return cfd;
		vfd = pong_prog_map_fd(prog_fd, maps[m].verdicts, &vinfo);
		if (vfd < 0)
			err = vfd;
		else if (cinfo.value_size != sizeof(struct pong_claim) || cinfo.key_size != maps[m].len ||
			 vinfo.value_size != sizeof(struct pong_verdict) || vinfo.key_size != maps[m].len)
			err = -EPROTO;
		while (!err && n < max && bpf_map_get_next_key(cfd, prev, next) == 0) {
			memset(&out[n], 0, sizeof(out[n]));
			out[n].family = maps[m].family;
			memcpy(out[n].vlan, next, sizeof(out[n].vlan));
			memcpy(out[n].addr, next + sizeof(out[n].vlan), maps[m].len - sizeof(out[n].vlan));
			if (bpf_map_lookup_elem(cfd, next, &out[n].claim) == 0) {   /* forgotten meanwhile: skipped */
				if (bpf_map_lookup_elem(vfd, next, &out[n].verdict))
					memset(&out[n].verdict, 0, sizeof(out[n].verdict));
				claim_state(&out[n], (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec,
					    st.unclaimed_since_ns, beat.beat_ns);
				n++;
			}
			memcpy(key, next, maps[m].len);
			prev = key;
		}
		close(cfd);
		if (vfd >= 0)
			close(vfd);
		if (err)
			return err;
	}
	return n;
}

/*
 * Scope a program that was loaded scoped (attach --prefix: the switch is set
 * in .data.settings before load, so the moment before the list is filled refuses
 * rather than answers): add each prefix; one named twice is added once. On
 * failure, *failed is the index of the prefix that failed.
 */
int pong_scope_fill(int prog_fd, const struct pong_cidr *list, int n, int *failed)
{
	for (int i = 0; i < n; i++) {
		int err = prefix_add(prog_fd, &list[i]);

		if (err && err != -EEXIST) {
			*failed = i;
			return err;
		}
	}
	return 0;
}

/* Add a prefix; the first one turns scoping on (*turned_on says so). */
int pong_scope_add(int prog_fd, const struct pong_cidr *c, bool *turned_on)
{
	struct pong_settings st;
	int err = pong_read_settings(prog_fd, &st);

	*turned_on = false;
	if (!err)
		err = prefix_add(prog_fd, c);
	if (!err && !st.scoped) {
		struct pong_settings_change on = PONG_SETTINGS_KEEP;

		on.scoped = 1;
		err = pong_settings_apply(prog_fd, &on, NULL);
		*turned_on = !err;
	}
	return err;
}

/* Delete a prefix; scoping stays on, so an emptied list answers nothing (*now_empty says so). */
int pong_scope_del(int prog_fd, const struct pong_cidr *c, bool *now_empty)
{
	struct pong_settings st;
	int n, err = pong_read_settings(prog_fd, &st);

	*now_empty = false;
	if (!err)
		err = prefix_del(prog_fd, c);
	if (err)
		return err;
	n = pong_prefix_count(prog_fd);
	if (n < 0)
		return n;
	*now_empty = st.scoped && n == 0;
	return 0;
}

/* Empty the lists and turn scoping off: every address is answered again. On failure, *failed is the prefix. */
int pong_scope_clear(int prog_fd, struct pong_cidr *failed)
{
	static struct pong_cidr list[2 * PONG_PREFIX_MAX];
	struct pong_settings st;
	int n = pong_prefix_list(prog_fd, list, (int)(sizeof(list) / sizeof(list[0])));
	int err = pong_read_settings(prog_fd, &st);   /* another version's settings: nothing deleted */

	if (n < 0)
		return n;
	for (int i = 0; i < n && !err; i++) {
		err = prefix_del(prog_fd, &list[i]);
		if (err)
			*failed = list[i];
	}
	if (!err) {
		struct pong_settings_change off = PONG_SETTINGS_KEEP;

		off.scoped = 0;
		err = pong_settings_apply(prog_fd, &off, NULL);
	}
	return err;
}
