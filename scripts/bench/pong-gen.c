// SPDX-License-Identifier: GPL-2.0
/*
 * pong-gen: send COUNT copies of a request frame out of IFNAME as fast as the
 * kernel allows (BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES) and count
 * what comes back with a sink XDP program on the same interface.
 *
 *   pong-gen --ifname gen0 --frame HEX --count N [--batch N] [--random-src]
 *
 * --random-src: the frame is an untagged IPv4 one; every copy gets a random
 * source in 10.0.0.0/8 (a spoofed flood).
 *
 * Prints one JSON object: {"sent":N,"elapsed_ns":T,"received":{KIND:N,...}}.
 * The sink is attached for the run only, and replaced by nothing afterwards.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bench.h"
#include "gen.skel.h"
#include "sink.skel.h"

static const char *const kind_names[] = SINK_KIND_NAMES;

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static int read_counts(int fd, int ncpus, __u64 *out)
{
	__u64 vals[ncpus];

	for (__u32 k = 0; k < SINK__MAX; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals))
			return -errno;
		out[k] = 0;
		for (int c = 0; c < ncpus; c++)
			out[k] += vals[c];
	}
	return 0;
}

static __u64 total(const __u64 *c)
{
	__u64 t = 0;

	for (int k = 0; k < SINK__MAX; k++)
		t += c[k];
	return t;
}

static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("pong-gen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char **argv)
{
	static __u8 frame[GEN_MAX_FRAME];
	const char *ifname = NULL, *hex = NULL;
	unsigned long long count = 0;
	int batch = 64, len = 0, ifindex, ncpus, err, rc = 1, random_src = 0;
	struct gen *gen = NULL;
	struct sink *sink = NULL;
	__u64 before[SINK__MAX], after[SINK__MAX], t0, t1;
	struct xdp_md ctx = { 0 };

	for (int i = 1; i < argc; i += 2) {
		if (!strcmp(argv[i], "--random-src")) {
			random_src = 1;
			i--;
			continue;
		}
		if (i + 1 >= argc)
			return fail("option %s needs a value", argv[i]);
		if (!strcmp(argv[i], "--ifname"))
			ifname = argv[i + 1];
		else if (!strcmp(argv[i], "--frame"))
			hex = argv[i + 1];
		else if (!strcmp(argv[i], "--count"))
			count = strtoull(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--batch"))
			batch = atoi(argv[i + 1]);
		else
			return fail("unknown option %s", argv[i]);
	}
	if (!ifname || !hex || !count || count > 0xffffffffull)
		return fail("usage: pong-gen --ifname IF --frame HEX --count N [--batch N] [--random-src]");
	for (; hex[0] && hex[1]; hex += 2) {
		unsigned v;

		if (len >= GEN_MAX_FRAME || sscanf(hex, "%2x", &v) != 1)
			return fail("bad frame hex (at most %d bytes)", GEN_MAX_FRAME);
		frame[len++] = (__u8)v;
	}
	if (len < 14)
		return fail("frame shorter than an Ethernet header");
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return fail("no such interface: %s", ifname);

	libbpf_set_print(quiet);
	ncpus = libbpf_num_possible_cpus();
	sink = sink__open_and_load();
	gen = gen__open_and_load();
	if (!sink || !gen) {
		fail("loading the BPF programs failed: %s", strerror(errno));
		goto out;
	}
	err = bpf_xdp_attach(ifindex, bpf_program__fd(sink->progs.xdp_sink),
			     XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (err) {
		fail("attaching the sink to %s: %s", ifname, strerror(-err));
		goto out;
	}
	gen->bss->tmpl.len = (__u32)len;
	gen->bss->tmpl.random_src = (__u32)random_src;
	memcpy(gen->bss->tmpl.data, frame, (size_t)len);

	ctx.data_end = (__u32)len;
	ctx.ingress_ifindex = (__u32)ifindex;
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = frame, .data_size_in = (__u32)len,
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		.repeat = (__u32)count, .batch_size = (__u32)batch,
		.flags = BPF_F_TEST_XDP_LIVE_FRAMES);

	if (read_counts(bpf_map__fd(sink->maps.sink_counts), ncpus, before))
		goto detach;
	t0 = now_ns();
	err = bpf_prog_test_run_opts(bpf_program__fd(gen->progs.xdp_gen), &opts);
	t1 = now_ns();
	if (err) {
		fail("live-frames test run: %s", strerror(errno));
		goto detach;
	}
	/* let the last replies arrive: wait until the count holds still */
	for (int stable = 0, i = 0; stable < 3 && i < 300; i++) {
		__u64 prev = total(after);

		usleep(10000);
		read_counts(bpf_map__fd(sink->maps.sink_counts), ncpus, after);
		stable = (i > 0 && total(after) == prev) ? stable + 1 : 0;
	}
	printf("{\"sent\":%llu,\"elapsed_ns\":%llu,\"received\":{", count, (unsigned long long)(t1 - t0));
	for (int k = 0; k < SINK__MAX; k++)
		printf("%s\"%s\":%llu", k ? "," : "", kind_names[k],
		       (unsigned long long)(after[k] - before[k]));
	printf("}}\n");
	rc = 0;
detach:
	{
		LIBBPF_OPTS(bpf_xdp_attach_opts, dopts, .old_prog_fd = bpf_program__fd(sink->progs.xdp_sink));
		bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE | XDP_FLAGS_REPLACE, &dopts);
	}
out:
	gen__destroy(gen);
	sink__destroy(sink);
	return rc;
}
