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
 * answers as the new one from the next frame on). An interface that goes
 * away (removed, moved to another namespace) is let go, the others are
 * served on, and an interface of its name that appears is attached again;
 * a program detached underneath an interface that is still there ends it.
 * It also listens to the kernel's announcements: the moment an address or
 * a local route is added or removed anywhere on the host, every program is
 * told the host's addresses again (own.c), and a new one is the kernel's to
 * answer from then on. For --unclaimed (on from the start, or turned on by
 * `set`), it sends the probes that verify an address before it is claimed
 * (probe.c), when the datapath tells it of a request. SIGTERM or SIGINT detach everything and end it
 * with success; SIGHUP (a reload) makes it look at addresses and MACs again
 * at once, and it goes on.
 *
 * A run that is killed (SIGKILL, a crash, the OOM killer) leaves nothing
 * attached: the kernel detaches a link's program when the link's last file
 * descriptor closes, and nothing is pinned or written to disk. The next run
 * finds the interfaces as they were before.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include "xdp-pong.h"

#define WATCH_MS 250          /* how often the interfaces are looked at, at least */
#define OWN_RESYNC_MS 30000   /* the host's addresses written again every 30 s, announced or not */
#define OWN_GAP_MS 100        /* ... and at most every 100 ms, however many announcements come */
#define BACK_MS 1000          /* an interface gone is looked for once a second */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Every held program told the host's addresses again. 0 or -errno (with why). */
static int own_resync(const struct pong_held *held, int n, struct pong_why *why)
{
	int fds[PONG_MAX_IFACES], which[PONG_MAX_IFACES], k = 0, failed, err;

	for (int i = 0; i < n; i++) {
		if (held[i].skel) {           /* not an interface waited for */
			which[k] = i;
			fds[k++] = held[i].prog_fd;
		}
	}
	err = pong_own_sync(fds, k, &failed);
	if (err)
		pong_why(why, "%s: cannot give the program the host's own addresses (%s); ending, rather than answer "
			 "for one of them", failed < k ? held[which[failed]].name : "the host",
			 err == -E2BIG ? "more of them than xdp-pong can hold" : strerror(-err));
	return err;
}

/*
 * An interface that went away (removed, or moved to another namespace): its
 * program is released, and the others go on. Its name is watched for: an
 * interface of that name that appears (a veth made again, a NIC plugged in
 * again) is attached with the same options. told: its failure to attach
 * again was said once already.
 */
struct waiting {
	bool told;
	long long tried_ms;
};

/* --unclaimed's probes for each held interface (probe.c); told: a failure of them was said once already. */
static struct pong_prober *probers[PONG_MAX_IFACES];
static bool prober_told[PONG_MAX_IFACES];

/*
 * The prober of held[i]; with --unclaimed its packet socket too (CAP_NET_RAW),
 * so that a run that cannot probe fails at its start. 0 or -errno (with why).
 */
static int prober_open(const struct pong_held *h, int i, bool unclaimed, struct pong_why *why)
{
	int err = unclaimed ? pong_unclaimed_fits(h->ifindex, h->name, why) : 0;

	if (err) {
		probers[i] = NULL;
		return err;
	}
	err = pong_prober_open(h->prog_fd, h->ifindex, h->mac, &probers[i]);

	if (err) {
		probers[i] = NULL;
	} else if (unclaimed) {
		err = pong_prober_socket(probers[i]);
		if (err) {
			pong_prober_close(probers[i]);
			probers[i] = NULL;
		}
	}
	if (err)
		pong_why(why, "%s: --unclaimed cannot send its probes (%s%s)", h->name, strerror(-err),
			 err == -EPERM ? ": a packet socket takes CAP_NET_RAW" : "");
	return err;
}

static void prober_close(int i)
{
	pong_prober_close(probers[i]);
	probers[i] = NULL;
}

/* Every prober's work (asks read, probes sent, rounds decided); the wait until one needs it again. */
static int probers_work(int n, const struct pong_held *held, int wait)
{
	for (int i = 0; i < n; i++) {
		int next = wait, err;

		if (!probers[i])
			continue;
		err = pong_prober_work(probers[i], &next);
		if (err && !prober_told[i])
			pong_err("%s: --unclaimed's probes: %s (nothing is claimed while this lasts)", held[i].name,
				 strerror(-err));
		prober_told[i] = err != 0;
		if (next < wait)
			wait = next;
	}
	return wait;
}

/* Attach again to the interface held[i] was, if one of that name is here. */
static void come_back(struct pong_held *h, int i, struct waiting *w, const struct pong_attach_opts *o,
		      bool metrics)
{
	char name[IF_NAMESIZE], *names[1] = { name };
	struct pong_why why = { "" };
	int idx;

	memcpy(name, h->name, sizeof(name));
	idx = (int)if_nametoindex(name);
	if (!idx)
		return;
	if (pong_hold(names, 1, o, h, &why)) {
		memcpy(h->name, name, sizeof(name));   /* pong_hold() cleared it */
		if (!w->told)
			pong_err("%s is back, but cannot be attached again (trying again each second): %s", name, why.text);
		w->told = true;
		return;
	}
	w->told = false;
	if (prober_open(h, i, o->settings.unclaimed == 1, &why))
		pong_err("%s", why.text);     /* served on; nothing is claimed on it */
	if (metrics)
		pong_metrics_follow(i, h->ifindex, h->name);
	pong_err("%s is back (ifindex %d): attached again (program id %u)", h->name, h->ifindex, h->prog_id);
}

/*
 * Run until a signal says stop (0) or an interface loses its program
 * (-ENOLINK, with why). A failure at start (-errno, with why) leaves nothing
 * attached and nothing listening.
 */
int pong_run(char *const *names, int n, const struct pong_attach_opts *o, const char *metrics, struct pong_why *why)
{
	static struct pong_held held[PONG_MAX_IFACES];
	struct MHD_Daemon *d = NULL;
	int ifindex[PONG_MAX_IFACES];
	static struct waiting waiting[PONG_MAX_IFACES];
	struct pollfd fds[2 + PONG_MAX_IFACES] = { { .fd = -1, .events = POLLIN }, { .fd = -1, .events = POLLIN } };
	long long synced_ms = now_ms(), looked_ms = 0;
	bool pending = false;
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
	/* the signals, and the kernel's word of addresses, heard from before anything is attached */
	fds[0].fd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
	fds[1].fd = pong_own_watch_open();
	if (fds[0].fd < 0 || fds[1].fd < 0) {
		err = fds[0].fd < 0 ? -errno : fds[1].fd;
		pong_why(why, "cannot listen for %s: %s", fds[0].fd < 0 ? "signals" : "the kernel's address changes",
			 strerror(-err));
		goto close;
	}
	/* listening first: a port in use fails the start before anything is attached */
	if (metrics) {
		d = pong_metrics_start(metrics, ifindex, n, why);
		if (!d) {
			err = -EADDRINUSE;
			goto close;
		}
	}
	err = pong_hold(names, n, o, held, why);
	if (err) {
		pong_metrics_stop(d);
		goto close;
	}
	for (int i = 0; i < n; i++) {
		err = prober_open(&held[i], i, o->settings.unclaimed == 1, why);
		if (err && o->settings.unclaimed == 1)
			goto out;
		if (err)
			pong_err("warning: %s", why->text);   /* needed only if --unclaimed is turned on later */
		err = 0;
	}
	for (int i = 0; i < n; i++) {
		pong_err("running on %s (%s mode, program id %u)%s%s", held[i].name,
			 pong_mode_name(o->mode), held[i].prog_id, metrics && i == 0 ? "; metrics at http://" : "",
			 metrics && i == 0 ? metrics : "");
	}
	pong_warn_unscoped(o, names, n);
	pong_notify("READY=1");

	for (;;) {
		struct signalfd_siginfo si;
		long long now = now_ms();
		int what, wait = WATCH_MS;

		if (pending && OWN_GAP_MS - (now - synced_ms) < wait)
			wait = OWN_GAP_MS - (now - synced_ms) > 0 ? (int)(OWN_GAP_MS - (now - synced_ms)) : 0;
		wait = probers_work(n, held, wait);
		for (int i = 0; i < n; i++) {
			fds[2 + i].fd = probers[i] ? pong_prober_fd(probers[i]) : -1;
			fds[2 + i].events = POLLIN;
		}
		if (poll(fds, 2 + (nfds_t)n, wait) < 0 && errno != EINTR) {
			err = -errno;
			pong_why(why, "waiting for signals and address changes: %s", strerror(-err));
			goto out;
		}
		if (read(fds[0].fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo != SIGHUP) {
				pong_err("%s: detaching", strsignal((int)si.ssi_signo));
				break;
			}
			/* a reload (systemctl kill -s HUP): look at everything again now, and go on */
			pong_err("SIGHUP: the host's addresses and the interfaces' MACs looked at again; still running");
			pending = true;
			synced_ms = now - OWN_GAP_MS;
		}
		/* an address or local route added or removed anywhere on the host (or news of it lost) */
		what = pong_own_watch_drain(fds[1].fd);
		if (what < 0) {
			err = what;
			pong_why(why, "listening for the kernel's address changes: %s", strerror(-what));
			goto out;
		}
		now = now_ms();
		if ((what & PONG_OWN_CHANGED) || now - synced_ms >= OWN_RESYNC_MS)
			pending = true;
		/* the first change is written at once; a burst of them, at most every OWN_GAP_MS */
		if (pending && now - synced_ms >= OWN_GAP_MS) {
			err = own_resync(held, n, why);
			if (err)
				goto out;
			synced_ms = now_ms();      /* the gap counts from the end of the write */
			pending = false;
		}
		/* the interfaces: when one came, went or changed, and four times a second in any case */
		if (!(what & PONG_LINK_CHANGED) && now - looked_ms < WATCH_MS)
			continue;
		looked_ms = now;
		if (d)
			pong_metrics_tick(d);
		for (int i = 0; i < n; i++) {
			__u8 old[6];
			int r;

			if (!held[i].skel) {      /* gone: watched for, looked for once a second */
				if (now - waiting[i].tried_ms >= BACK_MS) {
					waiting[i].tried_ms = now;
					come_back(&held[i], i, &waiting[i], o, d != NULL);
				}
				continue;
			}
			r = pong_held_attached(&held[i]);
			if (r == 0 && if_nametoindex(held[i].name) != (unsigned)held[i].ifindex) {
				pong_err("%s: the interface is gone (removed, or moved to another namespace); serving the "
					 "others, and attaching again to an interface of that name when one appears",
					 held[i].name);
				prober_close(i);
				pong_release(&held[i], 1);
				waiting[i] = (struct waiting){ .tried_ms = now };
				continue;
			}
			if (r <= 0) {
				pong_why(why, "%s: xdp-pong is no longer attached (%s); ending, for a supervisor to start it "
					 "again", held[i].name,
					 r == 0 ? "its link was detached, or its program replaced" : strerror(-r));
				err = -ENOLINK;
				goto out;
			}
			r = pong_held_follow(&held[i], old);
			if (r == 1) {
				char was[PONG_MAC_TEXT], is[PONG_MAC_TEXT];

				/* pong_err() escapes the whole line: the name goes in as it is */
				pong_err("%s: MAC changed from %s to %s; replies now come from the new one", held[i].name,
					 pong_format_mac(old, was), pong_format_mac(held[i].mac, is));
				if (probers[i])
					pong_prober_set_mac(probers[i], held[i].mac);
			}
			/* a MAC that cannot be read now (the interface going away) is looked at again next time */
		}
	}
out:
	pong_notify("STOPPING=1");
	pong_metrics_stop(d);      /* first: its thread reads the programs released below */
	for (int i = 0; i < n; i++)
		prober_close(i);
	pong_release(held, n);
close:
	for (int i = 0; i < 2; i++)
		if (fds[i].fd >= 0)
			close(fds[i].fd);
	return err;
}
