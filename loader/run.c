// SPDX-License-Identifier: GPL-2.0
/*
 * Floor 5: `run`, xdp-pong as a foreground process: the shape of a systemd
 * service (Type=notify) and of a container's entrypoint.
 *
 * It attaches to every interface or to none, through BPF links it holds
 * (attach.c's pong_hold()), optionally serves /metrics for those
 * interfaces, tells systemd it is ready, and then watches each interface
 * four times a second: is the program still attached (else it says so and
 * ends with an error, for a supervisor to restart it), and is the
 * interface's MAC still the one replies are sent from (else the program
 * answers as the new one from the next frame on). SIGTERM, SIGINT or SIGHUP
 * detach everything and end it with success.
 *
 * A run that is killed (SIGKILL, a crash, the OOM killer) leaves nothing
 * attached: the kernel detaches a link's program when the link's last file
 * descriptor closes, and nothing is pinned or written to disk. The next run
 * finds the interfaces as they were before.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include "xdp-pong.h"

#define WATCH_NS 250000000L   /* how often the interfaces are looked at */

/*
 * Run until a signal says stop (0) or an interface loses its program
 * (-ENOLINK, with why). A failure at start (-errno, with why) leaves nothing
 * attached and nothing listening.
 */
int pong_run(char **names, int n, const struct pong_attach_opts *o, const char *metrics, struct pong_why *why)
{
	static struct pong_held held[PONG_MAX_IFACES];
	struct MHD_Daemon *d = NULL;
	int ifindex[PONG_MAX_IFACES];
	sigset_t stop;
	int err;

	/* blocked before any thread starts: only sigtimedwait() below takes them */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigprocmask(SIG_BLOCK, &stop, NULL);

	err = pong_parse_ifaces(names, n, ifindex, why);
	if (err)
		return err;
	/* listening first: a port in use fails the start before anything is attached */
	if (metrics) {
		d = pong_metrics_start(metrics, ifindex, n, why);
		if (!d)
			return -EADDRINUSE;
	}
	err = pong_hold(names, n, o, held, why);
	if (err) {
		pong_metrics_stop(d);
		return err;
	}
	for (int i = 0; i < n; i++) {
		pong_err("running on %s (%s mode, program id %u)%s%s", held[i].name,
			 pong_mode_name(o->mode), held[i].prog_id, metrics && i == 0 ? "; metrics at http://" : "",
			 metrics && i == 0 ? metrics : "");
	}
	if (!o->nprefixes && !o->unclaimed)
		pong_err("warning: no --prefix: every address that reaches %s%s is answered, other hosts' included",
			 names[0], n > 1 ? " (and the others)" : "");
	pong_notify("READY=1");

	for (;;) {
		struct timespec tick = { .tv_sec = 0, .tv_nsec = WATCH_NS };
		int sig = sigtimedwait(&stop, NULL, &tick);

		if (sig > 0) {
			pong_err("%s: detaching", strsignal(sig));
			break;
		}
		if (d)
			pong_metrics_tick(d);
		for (int i = 0; i < n; i++) {
			__u8 old[6];
			int r = pong_held_attached(&held[i]);

			if (r <= 0) {
				pong_why(why, "%s: xdp-pong is no longer attached (%s); ending, for a supervisor to start it "
					 "again", held[i].name,
					 r == 0 ? "the interface was removed, or its link was detached" : strerror(-r));
				err = -ENOLINK;
				goto out;
			}
			r = pong_held_follow_mac(&held[i], old);
			if (r == 1) {
				char was[PONG_MAC_TEXT], now[PONG_MAC_TEXT];

				/* pong_err() escapes the whole line: the name goes in as it is */
				pong_err("%s: MAC changed from %s to %s; replies now come from the new one", held[i].name,
					 pong_format_mac(old, was), pong_format_mac(held[i].mac, now));
			}
			/* a MAC that cannot be read now (the interface going away) is looked at again next time */
		}
	}
out:
	pong_notify("STOPPING=1");
	pong_metrics_stop(d);      /* first: its thread reads the programs released below */
	pong_release(held, n);
	return err;
}
