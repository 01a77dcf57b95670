// SPDX-License-Identifier: GPL-2.0
/*
 * Floor 6, the top: xdp-pong's subcommands (attach, run, detach, prefix, set,
 * claims, status, stats, metrics), what each says on success and on failure, and
 * every exit code: 0 success, 1 error, 2 usage error. Options are declared
 * in options.c; each subcommand below lists the ones it takes and says what
 * its operands are. options.c parses and checks both before a command runs,
 * and the command gets the result (struct pong_args): no globals.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include "xdp-pong.h"

#define OPTS(...) (const enum pong_opt[]){ __VA_ARGS__, PONG_OPT__END }

/* Every command but --help needs root; one sentence for it. */
static int need_root(void)
{
	if (pong_is_root())
		return 0;
	pong_err("must be run as root (loading and reading XDP programs needs CAP_BPF, CAP_PERFMON, "
		 "CAP_NET_ADMIN and CAP_SYS_ADMIN)");
	return 1;
}

/* An errno as a user reads it: -EPROTO from below means a program of another version. */
static const char *err_text(int err)
{
	return err == -EPROTO ? "the attached program is from another xdp-pong version (detach and attach it again)" :
	       strerror(-err);
}

/* A failure below: print why (or the errno) and return exit status 1. */
static int failed(const struct pong_why *why, int err)
{
	if (why->text[0])
		pong_err("%s", why->text);
	else
		pong_err("%s", err_text(err));
	return 1;
}

static int lock_or_fail(void)
{
	int lock = pong_lock();    /* prefix and set rewrite shared settings: one at a time */

	if (lock < 0)
		pong_err("cannot take the lock %s: %s", PONG_LOCK_FILE, strerror(-lock));
	return lock;
}

/* ---- attach, run, detach ---- */

/* The attach options of attach and run, from the parsed command line. */
static void attach_opts(const struct pong_args *args, struct pong_attach_opts *o)
{
	*o = (struct pong_attach_opts){
		.mode = args->mode, .ttl = (int)args->ttl, .nprefixes = args->nprefixes, .settings = args->settings,
		.record = args->record,
	};
	memcpy(o->prefixes, args->prefixes, sizeof(o->prefixes));
}

/*
 * --answer kinds are answered only for addresses in a prefix list (with
 * --unclaimed, claimed ones in it): at attach and run, --prefix must come
 * with them. A claim alone is no scope (xdp/lib/policy.h). A list of every
 * address is warned of (a router would reset all its transit traffic).
 * True after the usage error.
 */
static bool unscoped_answer(const struct pong_args *args)
{
	char kinds[PONG_ANSWER_TEXT];

	if (args->settings.answer <= 0)
		return false;
	for (int i = 0; i < args->nprefixes; i++) {
		if (!args->prefixes[i].len) {
			pong_err("warning: --answer with --prefix %s: every %s TCP connection and UDP flow through this "
				 "host that is not its own gets a RST or a port unreachable", args->prefixes[i].family ==
				 AF_INET ? "0.0.0.0/0" : "::/0", args->prefixes[i].family == AF_INET ? "IPv4" : "IPv6");
			break;
		}
	}
	if (args->nprefixes)
		return false;
	pong_usage_error(args->cmd, "--answer %s needs --prefix: these replies are not harmless, so they go only "
			 "to addresses you name", pong_answer_text((__u32)args->settings.answer, kinds));
	return true;
}

static int cmd_attach(const struct pong_args *args)
{
	struct pong_attach_opts o;
	static const int held[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct pong_why why = { "" };
	char *const *names = args->ifaces;
	sigset_t block, old;
	int err, n = args->nifaces;

	if (args->settings.unclaimed == 1)
		return pong_usage_error(args->cmd, "--unclaimed claims an address only after probes of its own, sent by a "
					"process that attach does not leave: use 'xdp-pong run --unclaimed'");
	if (unscoped_answer(args))
		return 2;
	attach_opts(args, &o);
	if (need_root())
		return 1;
	/*
	 * All or nothing, even when interrupted: SIGINT, SIGTERM, SIGHUP and
	 * SIGQUIT wait until the attach is whole (recorded) or rolled back.
	 */
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(held) / sizeof(held[0]); i++)
		sigaddset(&block, held[i]);
	sigprocmask(SIG_BLOCK, &block, &old);
	err = pong_attach(names, n, &o, &why);
	if (err)
		failed(&why, err);
	sigprocmask(SIG_SETMASK, &old, NULL);   /* a signal that came meanwhile acts now */
	if (err)
		return 1;
	for (int i = 0; i < n; i++) {
		char text[PONG_NAME_TEXT];

		printf("xdp-pong attached to %s (%s mode, ttl %d, %s)\n", pong_name_text(names[i], text, sizeof(text)),
		       pong_mode_name(o.mode), o.ttl, o.nprefixes ? "answering its prefix list" : "answering every address");
	}
	pong_warn_unscoped(&o, names, n);
	return 0;
}

static int cmd_run(const struct pong_args *args)
{
	struct pong_attach_opts o;
	struct pong_why why = { "" };
	int err;

	if (unscoped_answer(args))
		return 2;
	attach_opts(args, &o);
	o.record = NULL;       /* run holds its programs: nothing to record (and --record is refused) */
	if (need_root())
		return 1;
	err = pong_run(args->ifaces, args->nifaces, &o, args->metrics, &why);
	if (err)
		return failed(&why, err);
	return 0;
}

static int detach_recorded(const char *recorded)
{
	struct pong_recorded done[PONG_MAX_IFACES];
	struct pong_why why = { "" };
	int ndone, err = pong_detach_recorded(recorded, done, &ndone, &why);

	for (int i = 0; i < ndone; i++) {
		if (done[i].outcome == PONG_RECORD_DETACHED) {
			char text[PONG_NAME_TEXT];

			printf("xdp-pong detached from %s (program id %u)\n",
			       pong_name_text(done[i].name, text, sizeof(text)), done[i].prog_id);
		} else if (done[i].outcome == PONG_RECORD_NOT_THERE) {
			pong_err("%s: the program recorded in %s (id %u) is no longer attached; nothing detached",
				 done[i].name, recorded, done[i].prog_id);
		}
	}
	return err ? failed(&why, err) : 0;
}

static int cmd_detach(const struct pong_args *args)
{
	struct pong_why why = { "" };
	int err;

	if (need_root())
		return 1;
	if (args->recorded)      /* instead of interfaces (options.c checked that none is given) */
		return detach_recorded(args->recorded);
	err = pong_detach(args->ifaces, args->nifaces, &why);
	if (err)
		return failed(&why, err);
	for (int i = 0; i < args->nifaces; i++) {
		char text[PONG_NAME_TEXT];

		printf("xdp-pong detached from %s\n", pong_name_text(args->ifaces[i], text, sizeof(text)));
	}
	return 0;
}

/* ---- prefix and set: policy of attached interfaces, at run time ---- */

static int prefix_list(const char *ifname, int fd)
{
	char shown[PONG_NAME_TEXT];
	static struct pong_cidr list[2 * PONG_PREFIX_MAX];
	struct pong_settings st;
	char buf[64];
	int n = pong_prefix_list(fd, list, (int)(sizeof(list) / sizeof(list[0])));
	int err = n < 0 ? n : pong_read_settings(fd, &st);

	if (err) {
		pong_err("%s: cannot read the prefix lists: %s", ifname, err_text(err));
		return 1;
	}
	pong_name_text(ifname, shown, sizeof(shown));
	if (!st.scoped)
		printf("%s: no prefix list: every address is answered\n", shown);
	else if (n == 0)
		printf("%s: empty prefix list: nothing is answered\n", shown);
	for (int i = 0; i < n; i++) {
		pong_format_cidr(&list[i], buf, sizeof(buf));
		printf("%s\n", buf);
	}
	return 0;
}

static int prefix_change(enum pong_prefix_action action, const char *ifname, int fd, const struct pong_cidr *c)
{
	struct pong_cidr failed_cidr = *c;
	char buf[64], shown[PONG_NAME_TEXT];
	bool flag = false;
	int err;

	if (action == PONG_PREFIX_CLEAR)
		err = pong_scope_clear(fd, &failed_cidr);
	else if (action == PONG_PREFIX_ADD)
		err = pong_scope_add(fd, c, &flag);
	else
		err = pong_scope_del(fd, c, &flag);
	pong_format_cidr(&failed_cidr, buf, sizeof(buf));
	if (err == -EEXIST)
		pong_err("%s: %s is already in the prefix list", ifname, buf);
	else if (err == -ENOENT)
		pong_err("%s: %s is not in the prefix list", ifname, buf);
	else if (err == -ENOSPC)
		pong_err("%s: the prefix list is full (%d per family)", ifname, PONG_PREFIX_MAX);
	else if (err)
		pong_err("%s: cannot change the prefix list: %s", ifname, err_text(err));
	if (err)
		return 1;
	if (action == PONG_PREFIX_CLEAR) {
		struct pong_settings st;

		pong_err("warning: %s: no prefix list: every address that reaches it is answered, other hosts' included",
			 ifname);
		if (!pong_read_settings(fd, &st) && st.answer) {
			char kinds[PONG_ANSWER_TEXT];

			pong_err("warning: %s: --answer %s is answered for no address until a prefix is added",
				 ifname, pong_answer_text(st.answer, kinds));
		}
	}
	pong_name_text(ifname, shown, sizeof(shown));
	if (action == PONG_PREFIX_ADD && flag)
		printf("%s: now answering only addresses in its prefix list\n", shown);
	else if (action == PONG_PREFIX_DEL && flag)
		printf("%s: prefix list now empty: nothing is answered ('xdp-pong prefix clear %s' answers every "
		       "address)\n", shown, shown);
	return 0;
}

static int cmd_prefix(const struct pong_args *args)
{
	const char *ifname = args->ifaces[0];
	struct pong_attachment a;
	struct pong_why why = { "" };
	int fd, lock, err, rc;

	if (need_root())
		return 1;
	lock = lock_or_fail();
	if (lock < 0)
		return 1;
	err = pong_open(ifname, &a, &fd);
	if (err) {
		pong_explain(&why, ifname, err, &a);
		pong_unlock(lock);
		return failed(&why, err);
	}
	rc = args->action == PONG_PREFIX_LIST ? prefix_list(ifname, fd) : prefix_change(args->action, ifname, fd,
											  &args->cidr);
	close(fd);
	pong_unlock(lock);
	return rc;
}

static int cmd_set(const struct pong_args *args)
{
	const struct pong_settings_change *change = &args->settings;
	char *const *names = args->ifaces;
	struct pong_attachment a;
	struct pong_why why = { "" };
	int fds[PONG_MAX_IFACES], ifindexes[PONG_MAX_IFACES], n = args->nifaces, lock, rc = 0;

	if (!change->source_set && !change->global_set && change->unclaimed == PONG_KEEP &&
	    change->answer == PONG_KEEP && !change->error_set)
		return pong_usage_error(args->cmd, "nothing to set: give --rate-limit, --global-limit, --unclaimed, "
					"--answer or --icmp-ratelimit");
	if (need_root())
		return 1;
	rc = pong_parse_ifaces(names, n, ifindexes, &why);   /* each exists, each once: one write each */
	if (rc)
		return failed(&why, rc);
	lock = lock_or_fail();
	if (lock < 0)
		return 1;
	for (int i = 0; i < n; i++) {       /* all found first: change all or none */
		int err = pong_open(names[i], &a, &fds[i]);

		if (!err && change->unclaimed == 1 && pong_unclaimed_fits(a.ifindex, names[i], &why)) {
			pong_err("%s", why.text);
			close(fds[i]);
			while (i-- > 0)
				close(fds[i]);
			pong_unlock(lock);
			return 1;
		}
		if (err) {
			pong_explain(&why, names[i], err, &a);
			while (i-- > 0)
				close(fds[i]);
			pong_unlock(lock);
			return failed(&why, err);
		}
	}
	for (int i = 0; i < n && change->unclaimed == 1; i++) {   /* claims need run's probes: all have them, or none */
		int alive = pong_prober_alive(fds[i]);

		if (alive != 1) {
			pong_err("%s: %s", names[i], alive < 0 ? err_text(alive) :
				 "--unclaimed needs 'xdp-pong run' on it, whose probes verify an address before it is "
				 "claimed; this program was attached by 'xdp-pong attach'");
			for (int k = 0; k < n; k++)
				close(fds[k]);
			pong_unlock(lock);
			return 1;
		}
	}
	for (int i = 0; i < n && change->answer > 0; i++) {   /* --answer: each has a prefix list, or none changes */
		struct pong_settings st;
		int err = pong_read_settings(fds[i], &st);

		if (err || !st.scoped) {
			pong_err("%s: %s", names[i], err ? err_text(err) :
				 "--answer needs a prefix list ('xdp-pong prefix add') on it: these replies go only to "
				 "addresses you name");
			for (int k = 0; k < n; k++)
				close(fds[k]);
			pong_unlock(lock);
			return 1;
		}
	}
	for (int i = 0; i < n; i++) {
		struct pong_settings st;
		int err = pong_settings_apply(fds[i], change, &st);   /* one write: the change seen whole */

		if (err) {
			pong_err("%s: cannot change the settings: %s", names[i], err_text(err));
			rc = 1;
		} else {
			char limits[160], claims[64], shown[PONG_NAME_TEXT], kinds[PONG_ANSWER_TEXT];

			pong_format_limits(&st, limits, sizeof(limits));
			pong_format_claims(&st, claims, sizeof(claims));
			printf("%s: limits: %s; claims: %s; answer: %s\n", pong_name_text(names[i], shown, sizeof(shown)),
			       limits, claims, pong_answer_text(st.answer, kinds));
		}
		close(fds[i]);
	}
	pong_unlock(lock);
	return rc;
}

/* ---- claims: what --unclaimed holds ---- */

static int cmd_claims(const struct pong_args *args)
{
	const char *ifname = args->ifaces[0];
	static struct pong_claim_entry list[2 * PONG_CLAIMS_MAX];
	struct pong_attachment a;
	struct pong_settings st;
	struct pong_why why = { "" };
	int fd, n, err;

	if (need_root())
		return 1;
	err = pong_open(ifname, &a, &fd);
	if (err) {
		pong_explain(&why, ifname, err, &a);
		return failed(&why, err);
	}
	err = pong_read_settings(fd, &st);
	n = err ? err : pong_claims_list(fd, list, (int)(sizeof(list) / sizeof(list[0])));
	close(fd);
	if (n < 0) {
		pong_err("%s: cannot read the claims: %s", ifname, strerror(-n));
		return 1;
	}
	if (args->json)
		pong_print_claims_json(ifname, &st, list, n);
	else
		pong_print_claims_table(ifname, &st, list, n);
	return 0;
}

/* ---- status, stats and metrics ---- */

static int cmd_status(const struct pong_args *args)
{
	struct pong_attachment a[PONG_MAX_IFACES];
	struct pong_why why = { "" };
	int n;

	if (need_root())
		return 1;
	n = pong_collect(args->ifaces, args->nifaces, a, false, &why);
	if (n < 0)
		return failed(&why, n);
	for (int i = 0; i < n; i++)
		pong_describe(&a[i]);
	if (args->json)
		pong_print_status_json(a, n);
	else if (n == 0)
		printf("xdp-pong is not attached to any interface\n");
	else
		pong_print_status_table(a, n);
	return 0;
}

static int cmd_stats(const struct pong_args *args)
{
	static struct pong_attachment a[PONG_MAX_IFACES];
	static struct pong_counters c[PONG_MAX_IFACES];
	static struct pong_lost lost[PONG_MAX_IFACES];
	struct pong_why why = { "" };
	bool named = args->nifaces > 0;
	int n, nlost;

	if (args->json + args->prometheus + (args->textfile != NULL) > 1)
		return pong_usage_error(args->cmd, "choose one of --json, --prometheus and --textfile");
	if (args->count && !args->interval)
		return pong_usage_error(args->cmd, "--count goes with --interval");
	if (args->interval && (args->prometheus || args->textfile))
		return pong_usage_error(args->cmd, "--interval shows rates; Prometheus computes its own from the counters");
	if (need_root())
		return 1;
	n = pong_collect(args->ifaces, args->nifaces, a, true, &why);
	if (n < 0)
		return failed(&why, n);
	if (args->interval)
		return pong_stats_live(a, n, named, args->interval, args->count, args->json) ? 1 : 0;
	n = pong_snapshot(a, c, n, named, lost, &nlost);
	pong_print_lost(lost, nlost);
	if (n < 0)
		return 1;
	if (args->textfile) {
		if (pong_write_textfile(args->textfile, a, c, n, &why))
			return failed(&why, -EIO);
	} else if (args->prometheus) {
		pong_print_prometheus(stdout, a, c, n, NULL, 0);
	} else if (args->json) {
		pong_print_stats_json(a, c, n);
	} else if (n == 0) {
		printf("xdp-pong is not attached to any interface\n");
	} else {
		pong_print_stats_table(a, c, n);
	}
	return 0;
}

static int cmd_metrics(const struct pong_args *args)
{
	struct pong_why why = { "" };
	struct MHD_Daemon *d;
	sigset_t set;

	int ifindex[PONG_MAX_IFACES], n = args->nifaces, err;

	if (need_root())
		return 1;
	err = pong_parse_ifaces(args->ifaces, n, ifindex, &why);
	if (err)
		return failed(&why, err);
	/* blocked before the server's thread starts, so only sigtimedwait() below sees them */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	d = pong_metrics_start(args->listen, ifindex, n, &why);
	if (!d)
		return failed(&why, -EADDRINUSE);
	pong_err("serving metrics at http://%s/metrics", args->listen);
	for (;;) {
		struct timespec tick = { .tv_sec = 1 };
		int sig = sigtimedwait(&set, NULL, &tick);

		if (sig == SIGINT || sig == SIGTERM)
			break;
		pong_metrics_tick(d);
	}
	pong_metrics_stop(d);
	return 0;
}

/* ---- the commands ---- */

static const struct {
	struct pong_command cmd;
	int (*run)(const struct pong_args *args);
} commands[] = {
	{ { "attach", PONG_IFACES,
	    "Attach xdp-pong to each interface (through libxdp); the command exits and the\n"
	    "program stays attached, answering ICMP/ICMPv6 echo, ARP and neighbour\n"
	    "solicitations for every address that reaches the interface, or only for those\n"
	    "in its --prefix list; with --answer, also UDP, TCP and timestamp probes inside\n"
	    "it. Each interface gets its own program, counters and settings. All\n"
	    "interfaces are attached, or none.",
	    OPTS(PONG_OPT_MODE, PONG_OPT_TTL, PONG_OPT_PREFIX, PONG_OPT_RATE_LIMIT, PONG_OPT_GLOBAL_LIMIT,
		 PONG_OPT_UNCLAIMED, PONG_OPT_ANSWER, PONG_OPT_ICMP_RATELIMIT, PONG_OPT_UNIT_INSTANCE, PONG_OPT_RECORD,
		 PONG_OPT_VERBOSE, PONG_OPT_HELP), PONG_OPT__END, PONG_OPT__END }, cmd_attach },
	{ { "run", PONG_IFACES,
	    "Attach xdp-pong to each interface (all or none) and stay in the foreground:\n"
	    "SIGTERM or Ctrl-C detaches it and exits 0; SIGHUP makes it look at the host's\n"
	    "addresses and the MACs again, and it goes on. The programs are held by this\n"
	    "process (BPF links): killed, it leaves nothing attached. Four times a second\n"
	    "it checks each interface: a changed MAC is followed (replies come from the\n"
	    "new one); an interface that goes away is let go, the others served on, and\n"
	    "one of its name that appears is attached again; a program detached\n"
	    "underneath an interface still there ends it with an error, for a supervisor\n"
	    "(systemd, a container runtime) to start it again. The host's own addresses\n"
	    "are followed as the kernel announces them. With systemd, Type=notify: ready\n"
	    "once attached.",
	    OPTS(PONG_OPT_MODE, PONG_OPT_TTL, PONG_OPT_PREFIX, PONG_OPT_RATE_LIMIT, PONG_OPT_GLOBAL_LIMIT,
		 PONG_OPT_UNCLAIMED, PONG_OPT_ANSWER, PONG_OPT_ICMP_RATELIMIT, PONG_OPT_UNIT_INSTANCE, PONG_OPT_METRICS,
		 PONG_OPT_VERBOSE, PONG_OPT_HELP), PONG_OPT__END, PONG_OPT__END }, cmd_run },
	{ { "detach", PONG_IFACES,
	    "Remove xdp-pong from each interface; other XDP programs are left alone. With\n"
	    "--recorded FILE instead of interfaces, remove what 'attach --record FILE' attached.",
	    OPTS(PONG_OPT_RECORDED, PONG_OPT_VERBOSE, PONG_OPT_HELP), PONG_OPT__END, PONG_OPT_RECORDED }, cmd_detach },
	{ { "prefix", PONG_PREFIX_ACTION,
	    "Change or show the prefix list of an attached interface, at run time (no\n"
	    "detach, counters kept). Once it has a list, only echo destinations, ARP\n"
	    "targets and NS targets inside it are answered; deleting the last prefix\n"
	    "answers nothing. 'clear' removes the list: every address is answered again\n"
	    "(but no kind of --answer: those need a list).",
	    OPTS(PONG_OPT_HELP), PONG_OPT__END, PONG_OPT__END }, cmd_prefix },
	{ { "set", PONG_IFACES,
	    "Change the rate limits, --unclaimed and --answer of attached interfaces, at\n"
	    "run time.",
	    OPTS(PONG_OPT_RATE_LIMIT, PONG_OPT_GLOBAL_LIMIT, PONG_OPT_UNCLAIMED, PONG_OPT_ANSWER,
		 PONG_OPT_ICMP_RATELIMIT, PONG_OPT_HELP),
	    PONG_OPT__END, PONG_OPT__END }, cmd_set },
	{ { "claims", PONG_ONE_IFACE,
	    "With --unclaimed: the addresses asked for on an interface (by VLAN), and how\n"
	    "xdp-pong stands with each: asked (not answered), probing (our probes are out),\n"
	    "claimed (nobody answered them: answered, and probed again every 10 s) or\n"
	    "owner-seen (its owner showed signs of life: left to it); for how long, when it\n"
	    "was last asked for, replies sent and probes in its last round.",
	    OPTS(PONG_OPT_JSON, PONG_OPT_HELP), PONG_OPT__END, PONG_OPT__END }, cmd_claims },
	{ { "status", PONG_IFACES_ANY,
	    "Show interfaces running xdp-pong (or the named ones): mode, program id,\n"
	    "reply TTL, the MAC replies are sent from (marked '!' when it is no longer\n"
	    "the interface's), scope, --unclaimed and rate limits.",
	    OPTS(PONG_OPT_JSON, PONG_OPT_HELP), PONG_OPT__END, PONG_OPT__END }, cmd_status },
	{ { "stats", PONG_IFACES_ANY,
	    "Show packet and byte counters of xdp-pong on each interface running it\n"
	    "(or the named ones): replies by kind, frames passed to the kernel, and\n"
	    "frames refused with the reason why.",
	    OPTS(PONG_OPT_JSON, PONG_OPT_PROMETHEUS, PONG_OPT_TEXTFILE, PONG_OPT_INTERVAL, PONG_OPT_COUNT,
		 PONG_OPT_HELP), PONG_OPT__END, PONG_OPT__END }, cmd_stats },
	{ { "metrics", PONG_IFACES_ANY,
	    "Serve the counters of every interface running xdp-pong (or of the named ones,\n"
	    "each with xdp_pong_up 0 while xdp-pong is not attached to it) at\n"
	    "http://ADDR:PORT/metrics for Prometheus to scrape, until Ctrl-C or SIGTERM. Only GET and HEAD of\n"
	    "/metrics; at most 8 connections per client and 64 in all; every connection\n"
	    "closed after 10 s.",
	    OPTS(PONG_OPT_LISTEN, PONG_OPT_HELP), PONG_OPT_LISTEN, PONG_OPT__END }, cmd_metrics },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "Usage: xdp-pong COMMAND [OPTIONS] [IFACE...]\n\n"
		   "Answer ping (IPv4 and IPv6), ARP and neighbour discovery for any address,\n"
		   "at the NIC, with XDP.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const struct pong_command *c = &commands[i].cmd;

		fprintf(f, "  %-8s ", c->name);
		pong_print_synopsis(c, f);
	}
	fprintf(f, "\n'xdp-pong COMMAND --help' explains each one. 'xdp-pong --version' prints the version.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "xdp-pong: no command given; Usage: xdp-pong COMMAND [OPTIONS] [IFACE...] "
			"(see 'xdp-pong --help')\n");
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("xdp-pong %s\n", PONG_VERSION);
		return 0;
	}
	pong_setup_logging();
	for (size_t i = 0; i < NCOMMANDS; i++) {
		static struct pong_args args;   /* static: a few kB */
		int parsed;

		if (strcmp(argv[1], commands[i].cmd.name) != 0)
			continue;
		parsed = pong_parse_args(&commands[i].cmd, argc - 1, argv + 1, &args);
		if (parsed == PONG_PARSE_HELP)
			return 0;
		if (parsed)
			return parsed == PONG_PARSE_USAGE ? 2 : 1;
		verbose = args.verbose;
		return commands[i].run(&args);
	}
	pong_err("unknown command '%s' (see 'xdp-pong --help')", argv[1]);
	return 2;
}
