// SPDX-License-Identifier: GPL-2.0
/*
 * pong-gen: send COUNT copies of a request frame out of IFNAME as fast as the
 * kernel allows (BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES) and count
 * what comes back with a sink XDP program on the same interface.
 *
 *   pong-gen --ifname gen0 --frame HEX --count N [--batch N] [--random-src] [--cpus LIST]
 *            [--sample-prog ID --chunks K] [--until-stopped] [--method auto|live|socket]
 *
 * --random-src: the frame is an untagged IPv4 one; every copy gets a random
 * source in 10.0.0.0/8 (a spoofed flood). --cpus 0,1: one sending thread
 * pinned to each CPU listed, COUNT frames each; a veth hands what a CPU
 * sends to its own receive queue, so the responder runs on each of them.
 *
 * --sample-prog ID --chunks K: send in K chunks of COUNT/K and, after each,
 * read the run time and run count of program ID (kernel.bpf_stats_enabled
 * on): "cost_ns" lists each chunk's ns per run. A chunk the machine's other
 * work interrupted shows as a high value; the lowest is the program's cost.
 *
 * --until-stopped: send COUNT frames (per sender) again and again until
 * SIGINT or SIGTERM, then report what was sent and exit 0: a flood that lasts
 * as long as the test that started it, however fast the machine sends.
 * ("sent" counts whole rounds: a round cut short by the signal is not
 * counted.)
 *
 * --method: how frames are sent. live: BPF_PROG_TEST_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES (the fastest; frames enter the driver's XDP
 * transmit path). socket: an AF_PACKET socket bypassing the qdisc, batches
 * of sendmmsg() (a kernel that refuses live frames: some sandboxes do, with
 * EPERM); a frame the veth has no room for (ENOBUFS) is sent again, so every
 * frame counted as sent entered the responder's receive queue. auto (the
 * default): live if a one-frame live run of the sink succeeds, else socket.
 *
 * Prints one JSON object: {"sent":N,"elapsed_ns":T,"received":{KIND:N,...}}
 * (and "cost_ns":[...] with --sample-prog), and "method":"live"|"socket".
 * The sink is attached for the run only, and replaced by nothing afterwards.
 */
#define _GNU_SOURCE   /* NOLINT(bugprone-reserved-identifier): CPU_SET, pthread_setaffinity_np */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/if_packet.h>
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

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;      /* a test run in this thread returns -EINTR (the --cpus senders' end with the
			* process); the sink is detached on the way out */
}

static int until_stopped;   /* --until-stopped */

enum method { METHOD_AUTO, METHOD_LIVE, METHOD_SOCKET };
static const char *const method_names[] = { "auto", "live", "socket" };

/* The request frame, as given (socket senders copy it into their own buffers). */
static __u8 frame[GEN_MAX_FRAME];
static int frame_len, random_src;

#define SOCK_BATCH 64

struct sender {
	pthread_t thread;
	int cpu, prog_fd, err;
	enum method method;
	unsigned long long rounds;   /* whole rounds of opts.repeat frames */
	struct bpf_test_run_opts opts;
	int sock;                    /* METHOD_SOCKET: AF_PACKET, bound to the interface */
	__u8 *bufs;                  /* METHOD_SOCKET: SOCK_BATCH copies of the frame */
};

/* A random source in 10.0.0.0/8 in an untagged IPv4 frame, its header checksum updated (RFC 1624). */
static void randomize_src(__u8 *f, unsigned int *seed)
{
	__u16 old[2], new[2], check;
	__u32 src = htonl(0x0a000000u | ((__u32)rand_r(seed) & 0x00ffffffu)), sum;

	memcpy(old, &f[GEN_IPV4_SRC], 4);
	memcpy(&check, &f[GEN_IPV4_SRC - 2], 2);
	memcpy(new, &src, 4);
	sum = (__u16)~check + (__u16)~old[0] + (__u16)~old[1] + new[0] + new[1];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	check = (__u16)~sum;
	memcpy(&f[GEN_IPV4_SRC], &src, 4);
	memcpy(&f[GEN_IPV4_SRC - 2], &check, 2);
}

static int socket_open(struct sender *s, int ifindex)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = ifindex };
	int one = 1;

	s->bufs = malloc((size_t)SOCK_BATCH * (size_t)frame_len);
	if (!s->bufs)
		return -ENOMEM;
	for (int i = 0; i < SOCK_BATCH; i++)
		memcpy(s->bufs + (size_t)i * (size_t)frame_len, frame, (size_t)frame_len);
	/* protocol 0: the socket sends, and receives nothing */
	s->sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (s->sock < 0)
		return -errno;
	if (setsockopt(s->sock, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) ||
	    bind(s->sock, (struct sockaddr *)&sll, sizeof(sll)))
		return -errno;
	return 0;
}

static void sender_close(struct sender *s)
{
	if (s->sock >= 0)
		close(s->sock);
	s->sock = -1;
	free(s->bufs);
	s->bufs = NULL;
}

/* n frames through the socket: 0, -EINTR when stopped, or -errno */
static int socket_send(struct sender *s, unsigned long long n)
{
	struct mmsghdr msgs[SOCK_BATCH];
	struct iovec iov[SOCK_BATCH];
	unsigned int seed = (unsigned int)(now_ns() ^ (__u64)s->cpu);

	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < SOCK_BATCH; i++) {
		iov[i].iov_base = s->bufs + (size_t)i * (size_t)frame_len;
		iov[i].iov_len = (size_t)frame_len;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (n) {
		unsigned int batch = n < SOCK_BATCH ? (unsigned int)n : SOCK_BATCH;
		int r;

		if (stop)
			return -EINTR;
		if (random_src)
			for (unsigned int i = 0; i < batch; i++)
				randomize_src(iov[i].iov_base, &seed);
		r = sendmmsg(s->sock, msgs, batch, 0);
		if (r < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
				sched_yield();   /* the receive queue is full: send the frame again */
				continue;
			}
			return -errno;
		}
		n -= (unsigned int)r;   /* copies of one frame: what was not sent goes in the next batch */
	}
	return 0;
}

/* One round of n frames by the sender's method: 0 or -errno (-EINTR: stopped). */
static int send_round(struct sender *s, unsigned long long n)
{
	if (s->method == METHOD_SOCKET)
		return socket_send(s, n);
	s->opts.repeat = (int)(__u32)n;   /* the kernel reads it as a u32 */
	return bpf_prog_test_run_opts(s->prog_fd, &s->opts) ? -errno : 0;
}

static void *send_on_cpu(void *arg)
{
	struct sender *s = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(s->cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set)) {
		s->err = EINVAL;
		return NULL;
	}
	do {
		int err = send_round(s, s->opts.repeat);

		if (err) {
			if (!(err == -EINTR && until_stopped))   /* stopped: that round is not counted */
				s->err = -err;
			break;
		}
		s->rounds++;
	} while (until_stopped && !stop);
	return NULL;
}

/* run time and run count of a program, for --sample-prog */
static int prog_stats(int fd, __u64 *ns, __u64 *cnt)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*ns = info.run_time_ns;
	*cnt = info.run_cnt;
	return 0;
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
	const char *ifname = NULL, *hex = NULL, *cpus = NULL;
	unsigned long long count = 0, sent = 0;
	int batch = 64, ifindex, ncpus, err = 0, rc = 1, nsend = 0, single = 0;
	int sample_id = 0, sample_fd = -1, chunks = 1;
	enum method method = METHOD_AUTO;
	static double cost_ns[1024];
	struct sender send[8];
	struct gen *gen = NULL;
	struct sink *sink = NULL;
	__u64 before[SINK__MAX], after[SINK__MAX], t0, t1;
	struct xdp_md ctx = { 0 };

	for (int i = 0; i < 8; i++)
		send[i] = (struct sender){ .sock = -1 };
	for (int i = 1; i < argc; i += 2) {
		if (!strcmp(argv[i], "--random-src")) {
			random_src = 1;
			i--;
			continue;
		}
		if (!strcmp(argv[i], "--until-stopped")) {
			until_stopped = 1;
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
		else if (!strcmp(argv[i], "--cpus"))
			cpus = argv[i + 1];
		else if (!strcmp(argv[i], "--sample-prog"))
			sample_id = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--chunks"))
			chunks = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--method")) {
			for (method = METHOD_AUTO; method <= METHOD_SOCKET; method++)
				if (!strcmp(argv[i + 1], method_names[method]))
					break;
			if (method > METHOD_SOCKET)
				return fail("--method: auto, live or socket");
		} else
			return fail("unknown option %s", argv[i]);
	}
	if (!ifname || !hex || !count || count > 0xffffffffull)
		return fail("usage: pong-gen --ifname IF --frame HEX --count N [--batch N] [--random-src] "
			    "[--cpus LIST] [--sample-prog ID --chunks K] [--until-stopped] [--method auto|live|socket]");
	if (chunks < 1 || chunks > 1024 || (unsigned long long)chunks > count || (chunks > 1 && !sample_id))
		return fail("--chunks: 1 to 1024, at most --count, and with --sample-prog");
	if (sample_id && cpus)
		return fail("--sample-prog works with one sender (no --cpus)");
	if (until_stopped && sample_id)
		return fail("--until-stopped does not go with --sample-prog");
	for (; hex[0] && hex[1]; hex += 2) {
		unsigned v;

		if (frame_len >= GEN_MAX_FRAME || sscanf(hex, "%2x", &v) != 1)
			return fail("bad frame hex (at most %d bytes)", GEN_MAX_FRAME);
		frame[frame_len++] = (__u8)v;
	}
	if (frame_len < 14)
		return fail("frame shorter than an Ethernet header");
	if (random_src && frame_len < GEN_IPV4_SRC + 4)
		return fail("--random-src needs an untagged IPv4 frame");
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
	if (sample_id) {
		sample_fd = bpf_prog_get_fd_by_id((__u32)sample_id);
		if (sample_fd < 0) {
			fail("no program with id %d: %s", sample_id, strerror(errno));
			goto out;
		}
	}
	if (cpus) {
		/* --cpus 0,1: one sender per CPU listed, at most 8 */
		for (const char *p = cpus; ; ) {
			char *end;
			long cpu = strtol(p, &end, 10);

			if (end == p || cpu < 0 || cpu >= ncpus || nsend == 8 || (*end && *end != ',')) {
				fail("bad --cpus '%s': up to 8 CPUs, 0-%d, separated by commas", cpus, ncpus - 1);
				goto out;
			}
			send[nsend++].cpu = (int)cpu;
			if (!*end)
				break;
			p = end + 1;
		}
	} else {
		single = 1;      /* one sender, in this thread */
		nsend = 1;
	}
	/* SIGINT and SIGTERM end the run early, with the sink detached (no SA_RESTART); set before it is attached */
	{
		struct sigaction sa = { .sa_handler = on_signal };

		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	err = bpf_xdp_attach(ifindex, bpf_program__fd(sink->progs.xdp_sink),
			     XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (err) {
		fail("attaching the sink to %s: %s", ifname, strerror(-err));
		goto out;
	}
	if (stop)
		goto detach;
	gen->bss->tmpl.len = (__u32)frame_len;
	gen->bss->tmpl.random_src = (__u32)random_src;
	memcpy(gen->bss->tmpl.data, frame, (size_t)frame_len);

	ctx.data_end = (__u32)frame_len;
	ctx.ingress_ifindex = (__u32)ifindex;
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = frame, .data_size_in = (__u32)frame_len,
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		.repeat = 1, .batch_size = (__u32)batch,
		.flags = BPF_F_TEST_XDP_LIVE_FRAMES);

	if (method == METHOD_AUTO) {
		/* one live frame through the sink, which drops it: nothing is sent, and the kernel says
		 * whether it runs live frames at all (counted before the run's "before") */
		method = bpf_prog_test_run_opts(bpf_program__fd(sink->progs.xdp_sink), &opts) ? METHOD_SOCKET
											   : METHOD_LIVE;
	}
	for (int i = 0; i < nsend; i++) {
		send[i].method = method;
		send[i].prog_fd = bpf_program__fd(gen->progs.xdp_gen);
		send[i].opts = opts;
		send[i].opts.repeat = (int)(__u32)count;
		if (method == METHOD_SOCKET && (err = socket_open(&send[i], ifindex))) {
			fail("a packet socket on %s: %s", ifname, strerror(-err));
			goto detach;
		}
	}
	if (read_counts(bpf_map__fd(sink->maps.sink_counts), ncpus, before))
		goto detach;
	t0 = now_ns();
	if (!single) {
		sigset_t block, old;

		sigemptyset(&block);
		sigaddset(&block, SIGINT);
		sigaddset(&block, SIGTERM);
		pthread_sigmask(SIG_BLOCK, &block, &old);      /* the senders never take them */
		err = 0;
		for (int i = 0; i < nsend; i++) {
			err = pthread_create(&send[i].thread, NULL, send_on_cpu, &send[i]);
			if (err) {
				nsend = i;     /* wait for those started, then fail */
				break;
			}
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		for (int i = 0; i < nsend; i++) {
			struct timespec until;

			for (;;) {
				clock_gettime(CLOCK_REALTIME, &until);
				until.tv_nsec += 100000000;
				if (until.tv_nsec >= 1000000000) {
					until.tv_sec++;
					until.tv_nsec -= 1000000000;
				}
				if (pthread_timedjoin_np(send[i].thread, NULL, &until) == 0)
					break;
				if (stop && !until_stopped)
					break;     /* the senders end with the process */
				/* --until-stopped: each sender ends after its current round */
			}
			if (stop && !until_stopped)
				break;
			if (send[i].err && !err)
				err = send[i].err;
			sent += send[i].rounds * count;
		}
		err = -err;
	} else if (until_stopped) {
		while (!stop && !(err = send_round(&send[0], count)))
			sent += count;
		if (err == -EINTR)
			err = 0;       /* the signal that ends the flood; that round is not counted */
	} else {
		/* chunks of count / chunks (the last takes the remainder), sampled after each */
		__u64 ns0 = 0, cnt0 = 0, ns1, cnt1;

		err = sample_fd >= 0 ? prog_stats(sample_fd, &ns0, &cnt0) : 0;
		for (int k = 0; !err && k < chunks && !stop; k++) {
			unsigned long long n = count / (unsigned)chunks + (k == chunks - 1 ? count % (unsigned)chunks : 0);

			err = send_round(&send[0], n);
			if (!err)
				sent += n;
			if (!err && sample_fd >= 0 && !(err = prog_stats(sample_fd, &ns1, &cnt1))) {
				cost_ns[k] = cnt1 > cnt0 ? (double)(ns1 - ns0) / (double)(cnt1 - cnt0) : 0;
				ns0 = ns1;
				cnt0 = cnt1;
			}
		}
	}
	t1 = now_ns();
	if (stop && !until_stopped) {
		fail("interrupted");
		goto detach;
	}
	if (err) {
		fail("%s: %s", method == METHOD_LIVE ? "live-frames test run" : "sending on the packet socket",
		     strerror(-err));
		goto detach;
	}
	/* let the last replies arrive: wait until the count holds still for 100 ms (a busy machine's softirq lags) */
	for (int stable = 0, i = 0; stable < 10 && i < 300; i++) {
		__u64 prev = total(after);

		usleep(10000);
		read_counts(bpf_map__fd(sink->maps.sink_counts), ncpus, after);
		stable = (i > 0 && total(after) == prev) ? stable + 1 : 0;
	}
	printf("{\"sent\":%llu,\"elapsed_ns\":%llu,\"method\":\"%s\",\"received\":{", sent,
	       (unsigned long long)(t1 - t0), method_names[method]);
	for (int k = 0; k < SINK__MAX; k++)
		printf("%s\"%s\":%llu", k ? "," : "", kind_names[k],
		       (unsigned long long)(after[k] - before[k]));
	printf("}");
	if (sample_fd >= 0) {
		printf(",\"cost_ns\":[");
		for (int k = 0; k < chunks; k++)
			printf("%s%.2f", k ? "," : "", cost_ns[k]);
		printf("]");
	}
	printf("}\n");
	rc = 0;
detach:
	{
		LIBBPF_OPTS(bpf_xdp_attach_opts, dopts, .old_prog_fd = bpf_program__fd(sink->progs.xdp_sink));
		bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE | XDP_FLAGS_REPLACE, &dopts);
	}
out:
	for (int i = 0; i < nsend; i++)
		sender_close(&send[i]);
	if (sample_fd >= 0)
		close(sample_fd);
	gen__destroy(gen);
	sink__destroy(sink);
	return rc;
}
