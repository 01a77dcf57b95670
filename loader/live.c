// SPDX-License-Identifier: GPL-2.0
/*
 * Floor 4: stats --interval, live packets/s and bits/s per counter until
 * Ctrl-C or --count samples. Its job is printing: samples on stdout, lost
 * interfaces on stderr.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <inttypes.h>
#include "xdp-pong.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep until deadline (monotonic seconds); returns early on a signal. */
static void sleep_until(double deadline)
{
	while (!stop) {
		double left = deadline - now_s();
		struct timespec ts;

		if (left <= 0)
			return;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		if (nanosleep(&ts, NULL) == 0)
			return;
	}
}

static void human_bits(double bps, char *buf, size_t len)
{
	static const char *const unit[] = { "bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s" };
	int u = 0;

	while (bps >= 1000 && u < 4) {
		bps /= 1000;
		u++;
	}
	snprintf(buf, len, "%.*f %s", u ? 2 : 0, bps, unit[u]);
}

static void print_rates(const struct pong_attachment *a, const struct pong_counters *now,
			const struct pong_counters *prev, int n, double elapsed, bool json)
{
	if (json)
		printf("{\"elapsed\":%.6f,\"interfaces\":[", elapsed);
	for (int i = 0; i < n; i++) {
		if (json) {
			printf("%s{\"name\":", i ? "," : "");
			pong_json_string(stdout, a[i].name);
			printf(",\"rates\":{");
		} else {
			char name[PONG_NAME_TEXT];

			printf("%s%s: %.3f s\n", i ? "" : "\n", pong_name_text(a[i].name, name, sizeof(name)), elapsed);
			printf("  %-10s %14s %16s\n", "COUNTER", "PACKETS/S", "BITS/S");
		}
		for (int k = 0; k < PONG_CNT__MAX; k++) {
			double pps = (double)(now[i].counter[k].packets - prev[i].counter[k].packets) / elapsed;
			double bps = 8.0 * (double)(now[i].counter[k].bytes - prev[i].counter[k].bytes) / elapsed;

			if (json) {
				printf("%s\"%s\":{\"pps\":%.3f,\"bps\":%.3f}", k ? "," : "", pong_counter_names[k], pps, bps);
			} else {
				char bits[32];

				human_bits(bps, bits, sizeof(bits));
				printf("  %-10s %14.1f %16s\n", pong_counter_names[k], pps, bits);
			}
		}
		if (json)
			printf("}}");
	}
	if (json)
		printf("]}\n");
	fflush(stdout);
}

/*
 * Sample the counters every interval seconds; rates use the elapsed time
 * actually measured between two reads. named: the interfaces were named on
 * the command line, so losing one is an error (-errno, after its line);
 * otherwise it is reported and the others go on. 0 at the end.
 */
int pong_stats_live(struct pong_attachment *a, int n, bool named, double interval, long count, bool json)
{
	static struct pong_counters prev[PONG_MAX_IFACES], cur[PONG_MAX_IFACES];
	static struct pong_lost lost[PONG_MAX_IFACES];
	int nlost;
	struct sigaction sa = { .sa_handler = on_signal };
	double t_prev, next;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (n == 0) {
		printf(json ? "{\"elapsed\":0,\"interfaces\":[]}\n" : "xdp-pong is not attached to any interface\n");
		return 0;
	}
	n = pong_snapshot(a, prev, n, named, lost, &nlost);
	pong_print_lost(lost, nlost);
	if (n < 0)
		return n;
	t_prev = now_s();
	next = t_prev + interval;
	for (long i = 0; !stop && (!count || i < count); i++) {
		struct pong_attachment snap[PONG_MAX_IFACES];
		double t_cur;
		int m;

		sleep_until(next);
		if (stop)
			break;
		next += interval;
		memcpy(snap, a, sizeof(*a) * (size_t)n);
		m = pong_snapshot(snap, cur, n, named, lost, &nlost);
		t_cur = now_s();
		pong_print_lost(lost, nlost);
		if (m < 0)
			return m;
		/* keep prev[] in step with the interfaces still there */
		for (int j = 0, k = 0; j < n && k < m; j++) {
			if (a[j].ifindex != snap[k].ifindex)
				continue;
			prev[k] = prev[j];
			if (snap[k].prog_id != a[j].prog_id) {
				/* attached again meanwhile: the new program counts from zero */
				pong_err("%s: xdp-pong was attached again; its counters restarted", snap[k].name);
				memset(&prev[k], 0, sizeof(prev[k]));
			}
			k++;
		}
		memcpy(a, snap, sizeof(*a) * (size_t)m);
		n = m;
		if (n == 0)
			return 0;
		print_rates(a, cur, prev, n, t_cur - t_prev, json);
		memcpy(prev, cur, sizeof(*cur) * (size_t)n);
		t_prev = t_cur;
	}
	return 0;
}
