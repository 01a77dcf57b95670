// SPDX-License-Identifier: GPL-2.0
/*
 * pong-testrun: run frames through the real xdp-pong program with
 * BPF_PROG_TEST_RUN (the object is loaded from the same skeleton the CLI
 * embeds; nothing is attached).
 *
 *   pong-testrun --mac 02:00:00:00:00:01 [--ttl N] [--prefix CIDR]...
 *                [--source-pps N] [--global-pps N] [--unclaimed] [--rules-only]
 *                [--answer LIST] [--icmp-ratelimit MS] [--own ADDR]... [--veth]
 *
 * --rules-only loads the program with its fast checks off: every frame goes
 * through the rules one by one (for the differential fuzzer).
 * --prefix, --answer, --icmp-ratelimit and the --*-pps options go through the CLI's own code
 * (loader/policy.c: the same CIDR parser, scoping rule and limit clamp as
 * `xdp-pong prefix add` and `xdp-pong set`), so a test cannot pass with a
 * rule the CLI does not apply. Counter and reason names are the CLI's too.
 * --veth loads it as attach does on a veth: CHECKSUM_PARTIAL UDP/TCP
 * checksums accepted (xdp/lib/csum.h).
 * --own ADDR makes ADDR one of the host's own addresses, written into the
 * program by the CLI's own code (loader/own.c); without it the program
 * knows none (its filter as loaded is all zeros).
 *
 * --unclaimed's probes are run's (loader/probe.c), not here: a line
 *   !verified ADDR [VLAN[.VLAN]]
 * writes what run writes when nobody answered its probes for ADDR (in that
 * 802.1Q VLAN, outer first): verified from now on, and run's heartbeat now.
 *   !verified-ago SECS ADDR     the same, as if SECS seconds ago
 *   !beat-ago SECS              run's last heartbeat SECS seconds ago
 * Each prints "OK - - -".
 *
 * Reads one frame per line on stdin, as hex. For each frame prints one line:
 *   VERDICT COUNTER REASON OUTPUT_HEX
 * VERDICT is the XDP action name, COUNTER the outcome counter that moved,
 * REASON the refusal reason that moved ("-" if none), OUTPUT_HEX the frame
 * after the program ran. Counters are read from the maps before and after
 * each run, so the counting is tested too.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "pong.h"
#include "xdp-pong.h"
#include "pong.skel.h"

#define MAX_FRAME 16384

static int ncpus;

/* libbpf's notes (such as the skipped .xdp_run_config section) are noise here. */
static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_WARN || strstr(fmt, "skipping unrecognized data section"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Packets per id of a per-CPU array of struct pong_stat, summed over CPUs (one syscall). */
static int read_all(int fd, __u32 n, __u64 *packets)
{
	static struct pong_stat vals[64 * 256];
	__u32 keys[64], count = n, out_batch;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	if (n > 64 || (size_t)n * (size_t)ncpus > sizeof(vals) / sizeof(vals[0]))
		return -E2BIG;
	if (bpf_map_lookup_batch(fd, NULL, &out_batch, keys, vals, &count, &opts) && errno != ENOENT)
		return -errno;
	if (count != n)
		return -EIO;
	for (__u32 k = 0; k < n; k++) {
		packets[keys[k]] = 0;
		for (int c = 0; c < ncpus; c++)
			packets[keys[k]] += vals[k * ncpus + c].packets;
	}
	return 0;
}

/* The single id whose count moved by one, or -1 if none or several did. */
static int moved(const __u64 *before, const __u64 *after, __u32 n)
{
	int id = -1;

	for (__u32 k = 0; k < n; k++) {
		if (after[k] == before[k])
			continue;
		if (after[k] != before[k] + 1 || id != -1)
			return -2;
		id = (int)k;
	}
	return id;
}

static int unhex(const char *s, __u8 *out, size_t max)
{
	size_t n = 0;

	for (; s[0] && s[0] != '\n'; s += 2) {
		unsigned v;

		if (n >= max || sscanf(s, "%2x", &v) != 1)
			return -1;
		out[n++] = (__u8)v;
	}
	return (int)n;
}

static const char *action(__u32 r)
{
	switch (r) {
	case XDP_ABORTED: return "XDP_ABORTED";
	case XDP_DROP: return "XDP_DROP";
	case XDP_PASS: return "XDP_PASS";
	case XDP_TX: return "XDP_TX";
	case XDP_REDIRECT: return "XDP_REDIRECT";
	default: return "XDP_UNKNOWN";
	}
}

static int cmp_bytes4(const void *a, const void *b)
{
	return memcmp(a, b, 4);
}

/* The directives above: a verdict as run writes it when its probes went unanswered, or its heartbeat. 0 or -1. */
static int verified(struct pong *skel, const char *line)
{
	char addr[64] = "";
	unsigned vid[2] = { 0, 0 }, ago = 0;
	struct pong_claim_key6 key = { 0 };
	struct pong_verdict v = { 0 };
	struct timespec ts;
	int n, fd;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (sscanf(line, "!beat-ago %u", &ago) == 1) {
		skel->data_prober->pong_prober.beat_ns = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec -
							 ago * 1000000000ull;
		return 0;
	}
	if (sscanf(line, "!verified-ago %u %63s", &ago, addr) == 2)
		n = 1;
	else
		n = sscanf(line, "!verified %63s %u.%u", addr, &vid[0], &vid[1]);
	if (n < 1)
		return -1;
	for (int i = 0; i < n - 1; i++)
		key.vlan[i] = (__u16)(PONG_VLAN_TAG | (vid[i] & 0x0fff));
	/* an IPv4 key is the first 8 bytes of this one: the tags, then 4 address bytes */
	if (inet_pton(AF_INET, addr, key.addr) == 1)
		fd = bpf_map__fd(skel->maps.pong_verdicts4);
	else if (inet_pton(AF_INET6, addr, key.addr) == 1)
		fd = bpf_map__fd(skel->maps.pong_verdicts6);
	else
		return -1;
	v.verified_ns = v.round_ns = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec - ago * 1000000000ull;
	v.probes = PONG_PROBES;
	/* and run's heartbeat, now, as it writes it */
	skel->data_prober->pong_prober.beat_ns = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
	return bpf_map_update_elem(fd, &key, &v, BPF_ANY) ? -1 : 0;
}

static int cmp_bytes16(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

/* A limit for --source-pps and --global-pps: packets per second, 0 for none. */
static int parse_pps(const char *s, __u32 *pps)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > PONG_PPS_MAX)
		return -1;
	*pps = (__u32)v;
	return 0;
}

int main(int argc, char **argv)
{
	static char line[2 * MAX_FRAME + 4];
	static __u8 in[MAX_FRAME], out[MAX_FRAME];
	unsigned int mac[6] = { 2, 0, 0, 0, 0, 1 };
	int ttl = PONG_DEFAULT_TTL;
	const char *prefixes[16];
	int nprefixes = 0;
	static struct pong_own_set own;
	bool own_given = false;
	struct pong_settings_change change = PONG_SETTINGS_KEEP;   /* as `set` would change them */
	bool rules_only = false, veth = false;
	struct pong *skel;
	int prog_fd, cnt_fd, rsn_fd;

	for (int i = 1; i < argc; i += 2) {
		if (!strcmp(argv[i], "--unclaimed")) {
			change.unclaimed = 1;
			i--;
			continue;
		}
		if (!strcmp(argv[i], "--rules-only")) {
			rules_only = true;
			i--;
			continue;
		}
		if (!strcmp(argv[i], "--veth")) {
			veth = true;
			i--;
			continue;
		}
		if (i + 1 >= argc)
			goto usage;
		if (!strcmp(argv[i], "--mac") &&
		    sscanf(argv[i + 1], "%x:%x:%x:%x:%x:%x", &mac[0], &mac[1], &mac[2],
			   &mac[3], &mac[4], &mac[5]) == 6)
			continue;
		if (!strcmp(argv[i], "--ttl")) {
			char *end;

			ttl = (int)strtol(argv[i + 1], &end, 10);
			if (*end || ttl < 1 || ttl > 255)
				goto usage;
			continue;
		}
		if (!strcmp(argv[i], "--own") && own.n4 < PONG_OWN_MAX && own.n6 < PONG_OWN_MAX) {
			if (inet_pton(AF_INET, argv[i + 1], &own.v4[own.n4]) == 1)
				own.n4++;
			else if (inet_pton(AF_INET6, argv[i + 1], own.v6[own.n6]) == 1)
				own.n6++;
			else
				goto usage;
			own_given = true;
			continue;
		}
		if (!strcmp(argv[i], "--prefix") && nprefixes < 16) {
			prefixes[nprefixes++] = argv[i + 1];
			continue;
		}
		if (!strcmp(argv[i], "--source-pps") && parse_pps(argv[i + 1], &change.source_pps) == 0) {
			change.source_set = true;
			continue;
		}
		if (!strcmp(argv[i], "--global-pps") && parse_pps(argv[i + 1], &change.global_pps) == 0) {
			change.global_set = true;
			continue;
		}
		if (!strcmp(argv[i], "--answer")) {
			__u32 answer;

			if (pong_answer_parse(argv[i + 1], &answer))
				goto usage;
			change.answer = (int)answer;
			continue;
		}
		if (!strcmp(argv[i], "--icmp-ratelimit")) {
			char *end;
			long ms = strtol(argv[i + 1], &end, 10);

			if (*end || ms < 0 || ms > 60000)
				goto usage;
			change.error_ms = (__u32)ms;
			change.error_set = true;
			continue;
		}
usage:
		fprintf(stderr, "usage: pong-testrun [--mac MAC] [--ttl N] [--prefix CIDR]... "
			"[--source-pps N] [--global-pps N] [--unclaimed] [--answer LIST] [--icmp-ratelimit MS] "
			"[--rules-only] [--veth] [--own ADDR]... < frames.hex\n");
		return 2;
	}

	ncpus = libbpf_num_possible_cpus();
	libbpf_set_print(quiet_libbpf);
	skel = pong__open();
	if (!skel) {
		perror("pong__open");
		return 1;
	}
	for (int i = 0; i < 6; i++)
		skel->data_iface->pong_iface.mac[i] = (__u8)mac[i];
	skel->rodata->pong_cfg.ttl = (__u8)ttl;
	skel->rodata->pong_cfg.partial_csum = veth;   /* as attach loads it on a veth */
	skel->data_iface->pong_iface.tai_s = pong_tai_offset();   /* as attach loads it */
	{
		struct pong_settings_change none = PONG_SETTINGS_KEEP;   /* as attach without options loads it */

		pong_settings_initial((struct pong_settings *)&skel->data_settings->pong_settings, &none, 0);
	}
	if (pong__load(skel)) {
		fprintf(stderr, "pong-testrun: loading the program failed: %s\n", strerror(errno));
		return 1;
	}
	prog_fd = bpf_program__fd(skel->progs.xdp_pong);
	for (int i = 0; i < nprefixes; i++) {
		struct pong_cidr c;
		bool on;

		if (pong_parse_cidr(prefixes[i], &c) || pong_scope_add(prog_fd, &c, &on)) {
			fprintf(stderr, "pong-testrun: bad prefix %s\n", prefixes[i]);
			return 2;
		}
	}
	if (own_given) {
		qsort(own.v4, (size_t)own.n4, 4, cmp_bytes4);
		qsort(own.v6, (size_t)own.n6, 16, cmp_bytes16);
		if (pong_own_write(prog_fd, &own)) {
			fprintf(stderr, "pong-testrun: cannot write the own addresses\n");
			return 1;
		}
	}
	if (pong_settings_apply(prog_fd, &change, NULL)) {
		fprintf(stderr, "pong-testrun: cannot change the settings\n");
		return 1;
	}
	if (rules_only)
		skel->data_settings->pong_settings.active = PONG_ACTIVE_RULES;   /* after every CLI write, which derives it */
	cnt_fd = bpf_map__fd(skel->maps.pong_counters);
	rsn_fd = bpf_map__fd(skel->maps.pong_reasons);

	while (fgets(line, sizeof(line), stdin)) {
		__u64 c0[PONG_CNT__MAX], c1[PONG_CNT__MAX], r0[PONG_R__MAX], r1[PONG_R__MAX];
		int len, c, r;
		LIBBPF_OPTS(bpf_test_run_opts, opts,
			.data_in = in,
			.data_out = out, .data_size_out = sizeof(out),
			.repeat = 1);

		if (line[0] == '!') {
			if (verified(skel, line)) {
				fprintf(stderr, "pong-testrun: bad line %s", line);
				return 1;
			}
			printf("OK - - -\n");
			fflush(stdout);
			continue;
		}
		len = unhex(line, in, sizeof(in));
		if (len < 0) {
			fprintf(stderr, "pong-testrun: bad hex line\n");
			return 1;
		}
		opts.data_size_in = (__u32)len;
		if (read_all(cnt_fd, PONG_CNT__MAX, c0) || read_all(rsn_fd, PONG_R__MAX, r0) ||
		    bpf_prog_test_run_opts(prog_fd, &opts) ||
		    read_all(cnt_fd, PONG_CNT__MAX, c1) || read_all(rsn_fd, PONG_R__MAX, r1)) {
			/* the kernel refuses frames shorter than an Ethernet header */
			printf("ERROR:%d - - -\n", errno);
			fflush(stdout);
			continue;
		}
		c = moved(c0, c1, PONG_CNT__MAX);
		r = moved(r0, r1, PONG_R__MAX);
		printf("%s %s %s ", action(opts.retval),
		       c >= 0 ? pong_counter_names[c] : (c == -1 ? "none" : "several"),
		       r >= 0 ? pong_reason_names[r] : (r == -1 ? "-" : "several"));
		for (__u32 i = 0; i < opts.data_size_out; i++)
			printf("%02x", out[i]);
		if (!opts.data_size_out)
			putchar('-');
		putchar('\n');
		fflush(stdout);
	}
	pong__destroy(skel);
	return 0;
}
