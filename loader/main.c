// SPDX-License-Identifier: GPL-2.0
/*
 * xdp-pong CLI: attach, detach, status, stats.
 * Each subcommand has its own option table and --help.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include "xdp-pong.h"

struct subcommand {
	const char *name;
	const char *usage;    /* arguments, after "xdp-pong NAME" */
	const char *help;     /* what it does and its options */
	const char *shortopts;
	const struct option *longopts;
	int (*run)(int argc, char **argv);
};

static const struct subcommand *current;

static void usage_of(const struct subcommand *sc, FILE *f)
{
	fprintf(f, "Usage: xdp-pong %s %s\n\n%s", sc->name, sc->usage, sc->help);
}

/* Bad usage: one line on stderr, exit status 2 (as getopt-style tools do). */
static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "xdp-pong %s: ", current->name);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see 'xdp-pong %s --help')\n", current->name);
	return 2;
}

/* getopt found an unknown option, or one missing its value: say which. */
static void report_bad_option(int opt, const char *word)
{
	for (const struct option *o = current->longopts; opt == ':' && o->name; o++) {
		if (o->val == optopt && o->has_arg == required_argument) {
			fprintf(stderr, "xdp-pong %s: option --%s needs a value (see 'xdp-pong %s --help')\n",
				current->name, o->name, current->name);
			return;
		}
	}
	if (optopt && strncmp(word, "--", 2) != 0)
		fprintf(stderr, "xdp-pong %s: unknown option -%c", current->name, optopt);
	else
		fprintf(stderr, "xdp-pong %s: unknown option or value '%s'", current->name, word);
	fprintf(stderr, " (see 'xdp-pong %s --help')\n", current->name);
}

/*
 * Parse argv with the current subcommand's table. Options and interface names
 * may come in any order. Calls on_opt for each option; returns the index of
 * the first operand, or -1 after --help (already printed), or -2 on error.
 */
static int parse_opts(int argc, char **argv, int (*on_opt)(int opt, const char *arg))
{
	int opt;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, current->shortopts, current->longopts, NULL)) != -1) {
		if (opt == 'h') {
			usage_of(current, stdout);
			return -1;
		}
		if (opt == 'v') {
			verbose = true;
			continue;
		}
		if (opt == '?' || opt == ':') {
			report_bad_option(opt, argv[optind - 1]);
			return -2;
		}
		if (!on_opt || on_opt(opt, optarg))
			return -2;
	}
	return optind;
}

/* ---- option values shared by several subcommands ---- */

static int parse_cidr_arg(const char *arg, struct pong_cidr *c)
{
	int err = pong_parse_cidr(arg, c);

	if (err == -ERANGE)
		return usage_error("bad prefix '%s': bits set after the prefix length", arg);
	if (err)
		return usage_error("bad prefix '%s': want ADDRESS/LENGTH, e.g. 203.0.113.0/24 or 2001:db8::/32", arg);
	return 0;
}

static int parse_pps_arg(const char *opt, const char *arg, __u32 *pps)
{
	if (pong_parse_pps(arg, pps)) {
		fprintf(stderr, "xdp-pong %s: %s takes packets per second (0-100000000, or off), not '%s'"
			" (see 'xdp-pong %s --help')\n", current->name, opt, arg, current->name);
		return 2;
	}
	return 0;
}

/* ---- attach ---- */

static struct attach_opts attach_opts;
static char unit_names[PONG_MAX_IFACES][IF_NAMESIZE];
static int n_unit_names;

static int attach_opt(int opt, const char *arg)
{
	char *end;
	long v;

	switch (opt) {
	case 'm':
		if (!strcmp(arg, "native"))
			attach_opts.mode = XDP_MODE_NATIVE;
		else if (!strcmp(arg, "skb"))
			attach_opts.mode = XDP_MODE_SKB;
		else
			return usage_error("--mode must be native or skb, not '%s'", arg);
		return 0;
	case 't':
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno || end == arg || *end || v < 1 || v > 255)
			return usage_error("--ttl must be a whole number from 1 to 255, not '%s'", arg);
		attach_opts.ttl = (int)v;
		return 0;
	case 'p':
		if (attach_opts.nprefixes >= (int)(sizeof(attach_opts.prefixes) / sizeof(attach_opts.prefixes[0])))
			return usage_error("%s", "too many --prefix options (at most 64; add more with 'xdp-pong prefix add')");
		return parse_cidr_arg(arg, &attach_opts.prefixes[attach_opts.nprefixes++]);
	case 'r':
		return parse_pps_arg("--rate-limit", arg, &attach_opts.source_pps);
	case 'g':
		return parse_pps_arg("--global-limit", arg, &attach_opts.global_pps);
	case 'u':
		if (n_unit_names >= PONG_MAX_IFACES)
			return usage_error("%s", "too many --unit-instance options");
		if (pong_unit_instance_name(arg, unit_names[n_unit_names], IF_NAMESIZE)) {
			char text[256];

			pong_text_escape(arg, text, sizeof(text));
			return usage_error("--unit-instance '%s' is not an interface name escaped with systemd-escape "
					   "(a '-' in it stands for '/': write br\\x2dlan for br-lan)", text);
		}
		n_unit_names++;
		return 0;
	case 'R':
		attach_opts.record = arg;
		return 0;
	}
	return 1;
}

static int cmd_attach(int argc, char **argv)
{
	char *names[PONG_MAX_IFACES + 1];
	int first, n = 0;

	memset(&attach_opts, 0, sizeof(attach_opts));
	n_unit_names = 0;
	attach_opts.mode = XDP_MODE_NATIVE;
	attach_opts.ttl = PONG_DEFAULT_TTL;
	first = parse_opts(argc, argv, attach_opt);
	if (first < 0)
		return first == -1 ? 0 : 2;
	for (int i = 0; i < n_unit_names; i++)
		names[n++] = unit_names[i];
	for (int i = first; i < argc && n <= PONG_MAX_IFACES; i++)
		names[n++] = argv[i];
	if (n == 0)
		return usage_error("%s", "no interface given");
	if (argc - first + n_unit_names > PONG_MAX_IFACES) {
		pong_err("too many interfaces (%d); at most %d per call", argc - first + n_unit_names, PONG_MAX_IFACES);
		return 1;
	}
	if (pong_require_root())
		return 1;
	if (pong_attach(names, n, &attach_opts))
		return 1;
	for (int i = 0; i < n; i++) {
		char text[4 * IF_NAMESIZE];

		printf("xdp-pong attached to %s (%s mode, ttl %d, %s)\n", pong_name_text(names[i], text, sizeof(text)),
		       pong_mode_name(attach_opts.mode), attach_opts.ttl,
		       attach_opts.nprefixes ? "answering its prefix list" : "answering every address");
	}
	if (!attach_opts.nprefixes)
		pong_err("warning: no --prefix: every address that reaches %s%s is answered, other hosts' included",
			 names[0], n > 1 ? " (and the others)" : "");
	return 0;
}

/* ---- detach ---- */

static const char *detach_recorded;

static int detach_opt(int opt, const char *arg)
{
	if (opt == 'R') {
		detach_recorded = arg;
		return 0;
	}
	return 1;
}

static int cmd_detach(int argc, char **argv)
{
	int first;

	detach_recorded = NULL;
	first = parse_opts(argc, argv, detach_opt);
	if (first < 0)
		return first == -1 ? 0 : 2;
	if (detach_recorded && first != argc)
		return usage_error("%s", "--recorded FILE takes no interface: the record names them");
	if (!detach_recorded && first == argc)
		return usage_error("%s", "no interface given");
	if (pong_require_root())
		return 1;
	if (detach_recorded)
		return pong_detach_recorded(detach_recorded);
	if (pong_detach(argv + first, argc - first))
		return 1;
	for (int i = first; i < argc; i++) {
		char text[4 * IF_NAMESIZE];

		printf("xdp-pong detached from %s\n", pong_name_text(argv[i], text, sizeof(text)));
	}
	return 0;
}

/* ---- prefix and set: policy of attached interfaces, at run time ---- */

/* A new fd of xdp-pong's program on the named interface, or -1 after an error. */
static int pong_prog_of(const char *name)
{
	struct pong_attachment a;
	int ifindex, fd, err;

	if (pong_parse_ifaces((char **)&name, 1, &ifindex))
		return -1;
	err = pong_find(ifindex, &a, &fd);
	if (err) {
		pong_err("%s: cannot query XDP programs: %s", name, strerror(-err));
		return -1;
	}
	if (!a.attached) {
		pong_err("%s: xdp-pong is not attached", name);
		return -1;
	}
	return fd;
}

static int cmd_prefix(int argc, char **argv)
{
	struct pong_settings st;
	static struct pong_cidr list[PONG_PREFIX_MAX * 2];
	struct pong_cidr c;
	char buf[64] = "";
	const char *verb, *ifname;
	bool takes_cidr;
	int first = parse_opts(argc, argv, NULL), n, fd, lock, err = 0, rc = 1;

	if (first < 0)
		return first == -1 ? 0 : 2;
	if (argc - first < 2)
		return usage_error("%s", "want add|del|list|clear IFACE [CIDR]");
	verb = argv[first];
	ifname = argv[first + 1];
	takes_cidr = strcmp(verb, "add") == 0 || strcmp(verb, "del") == 0;
	if (!takes_cidr && strcmp(verb, "list") != 0 && strcmp(verb, "clear") != 0)
		return usage_error("unknown action '%s': want add, del, list or clear", verb);
	if (argc - first != (takes_cidr ? 3 : 2))
		return usage_error("%s", takes_cidr ? "add and del take IFACE CIDR" : "list and clear take only IFACE");
	if (takes_cidr && parse_cidr_arg(argv[first + 2], &c))
		return 2;
	if (pong_require_root())
		return 1;
	lock = pong_lock();    /* prefix and set rewrite shared settings: one at a time */
	if (lock < 0) {
		pong_err("cannot take the lock %s: %s", PONG_LOCK_FILE, strerror(-lock));
		return 1;
	}
	fd = pong_prog_of(ifname);
	if (fd < 0)
		goto unlock;
	if (pong_read_settings(fd, &st)) {
		pong_err("%s: cannot read xdp-pong's settings", ifname);
		goto out;
	}
	n = pong_prefix_list(fd, list, (int)(sizeof(list) / sizeof(list[0])));
	if (n < 0) {
		pong_err("%s: cannot read the prefix lists: %s", ifname, strerror(-n));
		goto out;
	}
	if (!strcmp(verb, "list")) {
		if (!st.scoped)
			printf("%s: no prefix list: every address is answered\n", ifname);
		else if (n == 0)
			printf("%s: empty prefix list: nothing is answered\n", ifname);
		for (int i = 0; i < n; i++) {
			pong_format_cidr(&list[i], buf, sizeof(buf));
			printf("%s\n", buf);
		}
		rc = 0;
		goto out;
	}
	if (!strcmp(verb, "clear")) {
		for (int i = 0; i < n && !err; i++) {
			pong_format_cidr(&list[i], buf, sizeof(buf));
			err = pong_prefix_del(fd, &list[i]);
		}
		if (!err) {
			st.scoped = 0;
			err = pong_write_settings(fd, &st);
		}
		if (!err)
			fprintf(stderr, "xdp-pong: warning: %s: no prefix list: every address that reaches it is "
				"answered, other hosts' included\n", ifname);
	} else if (!strcmp(verb, "add")) {
		pong_format_cidr(&c, buf, sizeof(buf));
		err = pong_prefix_add(fd, &c);
		if (!err && !st.scoped) {
			st.scoped = 1;
			err = pong_write_settings(fd, &st);
			if (!err)
				printf("%s: now answering only addresses in its prefix list\n", ifname);
		}
	} else {
		pong_format_cidr(&c, buf, sizeof(buf));
		err = pong_prefix_del(fd, &c);
		/* an empty list still scopes: fail closed; `prefix clear` answers everything again */
		if (!err && n == 1 && st.scoped)
			printf("%s: prefix list now empty: nothing is answered ('xdp-pong prefix clear %s' "
			       "answers every address)\n", ifname, ifname);
	}
	if (err == -EEXIST)
		pong_err("%s: %s is already in the prefix list", ifname, buf);
	else if (err == -ENOENT)
		pong_err("%s: %s is not in the prefix list", ifname, buf);
	else if (err == -ENOSPC)
		pong_err("%s: the prefix list is full (%d per family)", ifname, PONG_PREFIX_MAX);
	else if (err)
		pong_err("%s: cannot change the prefix list: %s", ifname, strerror(-err));
	rc = err ? 1 : 0;
out:
	close(fd);
unlock:
	pong_unlock(lock);
	return rc;
}

static struct {
	bool source_set, global_set;
	__u32 source_pps, global_pps;
} set_opts;

static int set_opt(int opt, const char *arg)
{
	if (opt == 'r') {
		set_opts.source_set = true;
		return parse_pps_arg("--rate-limit", arg, &set_opts.source_pps);
	}
	if (opt == 'g') {
		set_opts.global_set = true;
		return parse_pps_arg("--global-limit", arg, &set_opts.global_pps);
	}
	return 1;
}

static int cmd_set(int argc, char **argv)
{
	int first, fds[PONG_MAX_IFACES], n, lock, failed = 0;

	memset(&set_opts, 0, sizeof(set_opts));
	first = parse_opts(argc, argv, set_opt);
	if (first < 0)
		return first == -1 ? 0 : 2;
	if (first == argc)
		return usage_error("%s", "no interface given");
	if (!set_opts.source_set && !set_opts.global_set)
		return usage_error("%s", "nothing to set: give --rate-limit and/or --global-limit");
	if (pong_require_root())
		return 1;
	n = argc - first;
	if (n > PONG_MAX_IFACES) {
		pong_err("too many interfaces (%d); at most %d per call", n, PONG_MAX_IFACES);
		return 1;
	}
	lock = pong_lock();
	if (lock < 0) {
		pong_err("cannot take the lock %s: %s", PONG_LOCK_FILE, strerror(-lock));
		return 1;
	}
	for (int i = 0; i < n; i++) {       /* all found first: change all or none */
		fds[i] = pong_prog_of(argv[first + i]);
		if (fds[i] < 0) {
			while (i-- > 0)
				close(fds[i]);
			pong_unlock(lock);
			return 1;
		}
	}
	for (int i = 0; i < n; i++) {
		struct pong_settings st;
		int err = pong_read_settings(fds[i], &st);

		if (!err) {
			pong_settings_set_limits(&st, set_opts.source_set ? set_opts.source_pps : st.source_pps,
						 set_opts.global_set ? set_opts.global_pps : st.global_pps);
			err = pong_write_settings(fds[i], &st);
		}
		if (err) {
			pong_err("%s: cannot change the settings: %s", argv[first + i], strerror(-err));
			failed = 1;
		} else {
			char limits[96];

			pong_format_limits(&st, limits, sizeof(limits));
			printf("%s: limits: %s\n", argv[first + i], limits);
		}
		close(fds[i]);
	}
	pong_unlock(lock);
	return failed;
}

/* ---- status, stats and metrics ---- */

static int cmd_status(int argc, char **argv)
{
	struct pong_attachment a[PONG_MAX_IFACES];
	int first = parse_opts(argc, argv, NULL), n;

	if (first < 0)
		return first == -1 ? 0 : 2;
	if (pong_require_root())
		return 1;
	n = pong_collect(argv + first, argc - first, a, false);
	if (n < 0)
		return 1;
	if (n == 0) {
		printf("xdp-pong is not attached to any interface\n");
		return 0;
	}
	for (int i = 0; i < n; i++)
		pong_describe(&a[i]);
	print_status_table(a, n);
	return 0;
}

static struct {
	bool json, prometheus;
	const char *textfile;
	double interval;
	long count;
} stats_opts;

static int stats_opt(int opt, const char *arg)
{
	char *end;

	switch (opt) {
	case 'j':
		stats_opts.json = true;
		return 0;
	case 'P':
		stats_opts.prometheus = true;
		return 0;
	case 'T':
		stats_opts.textfile = arg;
		return 0;
	case 'i':
		errno = 0;
		stats_opts.interval = strtod(arg, &end);
		if (errno || end == arg || *end || !(stats_opts.interval >= 0.1 && stats_opts.interval <= 3600))
			return usage_error("--interval takes seconds, from 0.1 to 3600, not '%s'", arg);
		return 0;
	case 'c':
		errno = 0;
		stats_opts.count = strtol(arg, &end, 10);
		if (errno || end == arg || *end || stats_opts.count < 1)
			return usage_error("--count takes a whole number of at least 1, not '%s'", arg);
		return 0;
	}
	return 1;
}

static int cmd_stats(int argc, char **argv)
{
	static struct pong_attachment a[PONG_MAX_IFACES];
	static struct pong_counters c[PONG_MAX_IFACES];
	int first, n, formats;

	memset(&stats_opts, 0, sizeof(stats_opts));
	first = parse_opts(argc, argv, stats_opt);
	if (first < 0)
		return first == -1 ? 0 : 2;
	formats = stats_opts.json + stats_opts.prometheus + (stats_opts.textfile != NULL);
	if (formats > 1)
		return usage_error("%s", "choose one of --json, --prometheus and --textfile");
	if (stats_opts.count && !stats_opts.interval)
		return usage_error("%s", "--count goes with --interval");
	if (stats_opts.interval && (stats_opts.prometheus || stats_opts.textfile))
		return usage_error("%s", "--interval shows rates; Prometheus computes its own from the counters");
	if (pong_require_root())
		return 1;
	n = pong_collect(argv + first, argc - first, a, true);
	if (n < 0)
		return 1;
	if (stats_opts.interval)
		return pong_stats_live(a, n, argc - first > 0, stats_opts.interval, stats_opts.count, stats_opts.json);
	n = pong_snapshot(a, c, n, argc - first > 0);
	if (n < 0)
		return 1;
	if (stats_opts.textfile)
		return pong_write_textfile(stats_opts.textfile, a, c, n) ? 1 : 0;
	if (stats_opts.prometheus)
		print_prometheus(stdout, a, c, n);
	else if (stats_opts.json)
		print_stats_json(a, c, n);
	else if (n == 0)
		printf("xdp-pong is not attached to any interface\n");
	else
		print_stats_table(a, c, n);
	return 0;
}

static const char *metrics_listen;

static int metrics_opt(int opt, const char *arg)
{
	if (opt == 'l') {
		metrics_listen = arg;
		return 0;
	}
	return 1;
}

static int cmd_metrics(int argc, char **argv)
{
	int first;

	metrics_listen = NULL;
	first = parse_opts(argc, argv, metrics_opt);
	if (first < 0)
		return first == -1 ? 0 : 2;
	if (first != argc)
		return usage_error("unexpected argument '%s': metrics serves every interface running xdp-pong",
				   argv[first]);
	if (!metrics_listen)
		return usage_error("%s", "--listen ADDR:PORT is required");
	if (pong_require_root())
		return 1;
	return pong_metrics_serve(metrics_listen);
}

/* ---- the table ---- */

static const struct option attach_long[] = {
	{ "mode", required_argument, NULL, 'm' },
	{ "ttl", required_argument, NULL, 't' },
	{ "prefix", required_argument, NULL, 'p' },
	{ "rate-limit", required_argument, NULL, 'r' },
	{ "global-limit", required_argument, NULL, 'g' },
	{ "unit-instance", required_argument, NULL, 'u' },
	{ "record", required_argument, NULL, 'R' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};
static const struct option detach_long[] = {
	{ "recorded", required_argument, NULL, 'R' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};
static const struct option help_long[] = {
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};
static const struct option set_long[] = {
	{ "rate-limit", required_argument, NULL, 'r' },
	{ "global-limit", required_argument, NULL, 'g' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};
static const struct option metrics_long[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};
static const struct option stats_long[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "prometheus", no_argument, NULL, 'P' },
	{ "textfile", required_argument, NULL, 'T' },
	{ "interval", required_argument, NULL, 'i' },
	{ "count", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static const struct subcommand commands[] = {
	{ "attach", "IFACE... [--mode native|skb] [--ttl N] [--prefix CIDR]... [--rate-limit PPS[/source]]\n"
	  "                  [--global-limit PPS] [--unit-instance NAME] [--record FILE] [--verbose]",
	  "Attach xdp-pong to each interface (through libxdp); the command exits and the\n"
	  "program stays attached, answering ICMP/ICMPv6 echo, ARP and neighbour\n"
	  "solicitations for every address that reaches the interface, or only for those\n"
	  "in its --prefix list. Each interface gets its own program, counters and\n"
	  "settings. All interfaces are attached, or none.\n\n"
	  "  -m, --mode MODE          native (default; no silent fallback) or skb (generic XDP)\n"
	  "  -t, --ttl N              IPv4 TTL and IPv6 hop limit of echo replies, 1-255 (default 64)\n"
	  "  -p, --prefix CIDR        answer only addresses inside CIDR (IPv4 or IPv6; repeatable);\n"
	  "                           without it every address is answered, other hosts' included\n"
	  "  -r, --rate-limit PPS     replies per second to each source (IPv4 /32, IPv6 /64);\n"
	  "                           requests over it are dropped (default off)\n"
	  "  -g, --global-limit PPS   replies per second in all (default off)\n"
	  "  -u, --unit-instance NAME also attach to the interface NAME names in systemd-escape(1)\n"
	  "                           form, as %i gives it in a unit (br\\x2dlan for br-lan)\n"
	  "  -R, --record FILE        write what this call attached to FILE (program ids), for\n"
	  "                           'detach --recorded FILE'; attach fails if FILE cannot be written\n"
	  "  -v, --verbose            show libbpf/libxdp messages\n"
	  "  -h, --help               this help\n",
	  ":m:t:p:r:g:u:R:vh", attach_long, cmd_attach },
	{ "detach", "IFACE... [--verbose] | --recorded FILE",
	  "Remove xdp-pong from each interface; other XDP programs are left alone.\n"
	  "With --recorded, remove what 'attach --record FILE' attached, where that very\n"
	  "program is still attached, then FILE; no FILE is nothing to do.\n\n"
	  "  -R, --recorded FILE   detach what FILE records instead of named interfaces\n"
	  "  -v, --verbose         show libbpf/libxdp messages\n"
	  "  -h, --help            this help\n",
	  ":R:vh", detach_long, cmd_detach },
	{ "prefix", "add|del|list|clear IFACE [CIDR]",
	  "Change or show the prefix list of an attached interface, at run time (no\n"
	  "detach, counters kept). Once it has a list, only echo destinations, ARP\n"
	  "targets and NS targets inside it are answered; deleting the last prefix\n"
	  "answers nothing. 'clear' removes the list: every address is answered again.\n\n"
	  "  -h, --help        this help\n",
	  ":h", help_long, cmd_prefix },
	{ "set", "IFACE... [--rate-limit PPS[/source]|off] [--global-limit PPS|off]",
	  "Change the rate limits of attached interfaces, at run time.\n\n"
	  "  -r, --rate-limit PPS     replies per second to each source (IPv4 /32, IPv6 /64)\n"
	  "  -g, --global-limit PPS   replies per second in all\n"
	  "                           (0 or off: no limit; a bucket holds one second's worth)\n"
	  "  -h, --help               this help\n",
	  ":r:g:h", set_long, cmd_set },
	{ "status", "[IFACE...]",
	  "Show interfaces running xdp-pong (or the named ones): mode, program id,\n"
	  "reply TTL, the MAC replies are sent from, scope and rate limits.\n\n"
	  "  -h, --help        this help\n",
	  ":h", help_long, cmd_status },
	{ "stats", "[IFACE...] [--json | --prometheus | --textfile PATH] [--interval SECS [--count N]]",
	  "Show packet and byte counters of xdp-pong on each interface running it\n"
	  "(or the named ones): replies by kind, frames passed to the kernel, and\n"
	  "frames refused with the reason why.\n\n"
	  "  -j, --json            machine-readable output:\n"
	  "                        {\"interfaces\":[{\"name\",\"ifindex\",\"mode\",\"prog_id\",\n"
	  "                         \"counters\":{NAME:{\"packets\",\"bytes\"}},\n"
	  "                         \"refused_by_reason\":{REASON:{\"packets\",\"bytes\"}}}]}\n"
	  "  -P, --prometheus      Prometheus text exposition (xdp_pong_*_total counters)\n"
	  "  -T, --textfile PATH   write that to PATH atomically (node_exporter's textfile collector)\n"
	  "  -i, --interval SECS   live: packets/s and bits/s per counter every SECS, measured over\n"
	  "                        the real elapsed time, until Ctrl-C (with --json: one object a line)\n"
	  "  -c, --count N         with --interval: stop after N samples\n"
	  "  -h, --help            this help\n",
	  ":jPT:i:c:h", stats_long, cmd_stats },
	{ "metrics", "--listen ADDR:PORT",
	  "Serve the counters of every interface running xdp-pong at http://ADDR:PORT/metrics\n"
	  "for Prometheus to scrape, until Ctrl-C or SIGTERM. ADDR is an IPv4 address, an\n"
	  "IPv6 address in brackets, or empty for all: 127.0.0.1:9101, [::1]:9101, :9101.\n\n"
	  "  -l, --listen ADDR:PORT   where to listen\n"
	  "  -h, --help               this help\n",
	  ":l:h", metrics_long, cmd_metrics },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "Usage: xdp-pong COMMAND [OPTIONS] [IFACE...]\n\n"
		   "Answer ping (IPv4 and IPv6), ARP and neighbour discovery for any address,\n"
		   "at the NIC, with XDP.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].usage);
	fprintf(f, "\n'xdp-pong COMMAND --help' explains each one. 'xdp-pong --version' prints the version.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "xdp-pong: no command given; Usage: xdp-pong COMMAND [OPTIONS] [IFACE...] (see 'xdp-pong --help')\n");
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
		if (!strcmp(argv[1], commands[i].name)) {
			current = &commands[i];
			return current->run(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "xdp-pong: unknown command '%s' (see 'xdp-pong --help')\n", argv[1]);
	return 2;
}
