// SPDX-License-Identifier: GPL-2.0
/*
 * Floor 5: every option of the CLI, declared once in one table: its name,
 * its letter, the type of its value, the field of struct pong_args it fills,
 * its help text, and what it accepts (for the error when it is given
 * something else). Subcommands list the options they take (main.c); usage
 * lines, --help and parsing are all made from this table.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "xdp-pong.h"

enum opt_type {
	T_FLAG,            /* bool */
	T_MODE,            /* enum xdp_attach_mode: native or skb */
	T_TTL,             /* long, 1-255 */
	T_CIDR,            /* appended to prefixes[] */
	T_PPS,             /* __u32 packets per second, and a bool saying it was given */
	T_UNIT_INSTANCE,   /* appended to unit_names[], unescaped */
	T_PATH,            /* const char * */
	T_SECONDS,         /* double, 0.1-3600 */
	T_COUNT,           /* long, >= 1 */
	T_LISTEN,          /* const char *, ADDR:PORT */
	T_ONOFF,           /* int: 1 for --NAME or --NAME=on, 0 for --NAME=off */
	T_HELP,
};

struct opt_def {
	const char *name;
	const char *value;         /* what the value looks like, for usage and --help; NULL for flags */
	const char *help;          /* for --help; '\n' starts another line */
	const char *want;          /* "--NAME <want>, not 'X'" when the value is wrong */
	size_t field;              /* offsetof(struct pong_args, ...) */
	size_t given;              /* T_PPS: offsetof the bool that says it was given */
	enum opt_type type;
	char letter;
	bool repeatable;
};

/* One row: name, letter, type, field, given, value, repeatable, help, want. */
#define ROW(name_, letter_, type_, field_, given_, value_, rep_, help_, want_) \
	{ .name = name_, .letter = letter_, .type = type_, .field = field_, .given = given_, .value = value_, \
	  .repeatable = rep_, .help = help_, .want = want_ }

#define F(field) offsetof(struct pong_args, field)

static const struct opt_def table[PONG_OPT__END] = {
	[PONG_OPT_MODE] = ROW("mode", 'm', T_MODE, F(mode), 0, "native|skb", false,
		"native (default; no silent fallback) or skb (generic XDP)", "must be native or skb"),
	[PONG_OPT_TTL] = ROW("ttl", 't', T_TTL, F(ttl), 0, "N", false,
		"IPv4 TTL and IPv6 hop limit of echo replies, 1-255 (default 64)",
		"must be a whole number from 1 to 255"),
	[PONG_OPT_PREFIX] = ROW("prefix", 'p', T_CIDR, F(prefixes), 0, "CIDR", true,
		"answer only addresses inside CIDR (IPv4 or IPv6; repeatable);\n"
		"without it every address is answered, other hosts' included", NULL),
	[PONG_OPT_RATE_LIMIT] = ROW("rate-limit", 'r', T_PPS, F(settings.source_pps), F(settings.source_set), "PPS", false,
		"replies per second to each source (IPv4 /32, IPv6 /64); requests\n"
		"over it are dropped; 0 or off: no limit (the default)",
		"takes packets per second (0-100000000, or off)"),
	[PONG_OPT_GLOBAL_LIMIT] = ROW("global-limit", 'g', T_PPS, F(settings.global_pps), F(settings.global_set), "PPS", false,
		"replies per second in all; 0 or off: no limit (the default);\n"
		"a limit's bucket holds one second's worth",
		"takes packets per second (0-100000000, or off)"),
	[PONG_OPT_UNIT_INSTANCE] = ROW("unit-instance", 'u', T_UNIT_INSTANCE, F(unit_names), 0, "NAME", true,
		"also the interface NAME names in systemd-escape(1) form, as %i\n"
		"gives it in a unit (br\\x2dlan for br-lan)",
		"is not an interface name escaped with systemd-escape (a '-' in it stands for '/': "
		"write br\\x2dlan for br-lan)"),
	[PONG_OPT_RECORD] = ROW("record", 'R', T_PATH, F(record), 0, "FILE", false,
		"write the ids of the programs this call attached to FILE, for\n"
		"'detach --recorded FILE'; if FILE cannot be written, nothing stays attached", NULL),
	[PONG_OPT_RECORDED] = ROW("recorded", 'R', T_PATH, F(recorded), 0, "FILE", false,
		"detach what 'attach --record FILE' attached, where that very\n"
		"program is still attached, then remove FILE (no FILE: nothing to do)", NULL),
	[PONG_OPT_JSON] = ROW("json", 'j', T_FLAG, F(json), 0, NULL, false,
		"machine-readable output: {\"interfaces\":[{\"name\",\"ifindex\",\"mode\",\n"
		"\"prog_id\",\"counters\":{NAME:{\"packets\",\"bytes\"}},\n"
		"\"refused_by_reason\":{REASON:{\"packets\",\"bytes\"}}}]}", NULL),
	[PONG_OPT_PROMETHEUS] = ROW("prometheus", 'P', T_FLAG, F(prometheus), 0, NULL, false,
		"Prometheus text exposition (xdp_pong_*_total counters)", NULL),
	[PONG_OPT_TEXTFILE] = ROW("textfile", 'T', T_PATH, F(textfile), 0, "PATH", false,
		"write that to PATH atomically (node_exporter's textfile collector)", NULL),
	[PONG_OPT_INTERVAL] = ROW("interval", 'i', T_SECONDS, F(interval), 0, "SECS", false,
		"live: packets/s and bits/s per counter every SECS, measured over\n"
		"the real elapsed time, until Ctrl-C (with --json: one object a line)",
		"takes seconds, from 0.1 to 3600"),
	[PONG_OPT_COUNT] = ROW("count", 'c', T_COUNT, F(count), 0, "N", false,
		"with --interval: stop after N samples", "takes a whole number of at least 1"),
	[PONG_OPT_LISTEN] = ROW("listen", 'l', T_LISTEN, F(listen), 0, "ADDR:PORT", false,
		"where to listen: an IPv4 address, an IPv6 address in brackets,\n"
		"or nothing for all: 127.0.0.1:9101, [::1]:9101, :9101",
		"wants ADDR:PORT (127.0.0.1:9101, [::1]:9101, :9101)"),
	[PONG_OPT_METRICS] = ROW("metrics", 'M', T_LISTEN, F(metrics), 0, "ADDR:PORT", false,
		"also serve these interfaces' counters at http://ADDR:PORT/metrics,\n"
		"as the metrics command does (127.0.0.1:9101, [::1]:9101, :9101)",
		"wants ADDR:PORT (127.0.0.1:9101, [::1]:9101, :9101)"),
	[PONG_OPT_UNCLAIMED] = ROW("unclaimed", 'U', T_ONOFF, F(settings.unclaimed), 0, NULL, false,
		"answer ARP and NS only for addresses that xdp-pong's own probes\n"
		"found free, and give one up when its owner shows signs of life\n"
		"(run only; --unclaimed=off: every address again)",
		"takes on or off (--unclaimed, --unclaimed=off)"),
	[PONG_OPT_VERBOSE] = ROW("verbose", 'v', T_FLAG, F(verbose), 0, NULL, false,
		"show libbpf/libxdp messages", NULL),
	[PONG_OPT_HELP] = ROW("help", 'h', T_HELP, 0, 0, NULL, false, "this help", NULL),
};

/*
 * Bad usage: one line on stderr; returns the exit status 2 (as getopt-style
 * tools do). Anything the user typed goes through pong_shown() first.
 */
int pong_usage_error(const struct pong_command *cmd, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "xdp-pong %s: %s (see 'xdp-pong %s --help')\n", cmd->name, msg, cmd->name);
	return 2;
}

/* A prefix as --prefix and `prefix add|del` take it: 0, or 2 after its usage error was printed. */
int pong_cidr_arg(const struct pong_command *cmd, const char *arg, struct pong_cidr *out)
{
	int err = pong_parse_cidr(arg, out);

	if (err == -ERANGE)
		return pong_usage_error(cmd, "bad prefix '%s': bits set after the prefix length", pong_shown(arg));
	if (err)
		return pong_usage_error(cmd, "bad prefix '%s': want ADDRESS/LENGTH, e.g. 203.0.113.0/24 or 2001:db8::/32",
					pong_shown(arg));
	return 0;
}

/* What the user typed, escaped for an error line (four static buffers: up to four per message). */
const char *pong_shown(const char *typed)
{
	static char buf[4][4 * 128];
	static int next;

	next = (next + 1) % 4;
	pong_text_escape(typed, buf[next], sizeof(buf[next]));
	return buf[next];
}

/* The synopsis: "xdp-pong NAME OPERANDS [--opt VALUE]...", wrapped under the name. */
void pong_print_usage(const struct pong_command *cmd, FILE *f)
{
	char line[256];
	int indent = (int)strlen("Usage: xdp-pong ") + (int)strlen(cmd->name) + 1;
	int col;

	col = fprintf(f, "Usage: xdp-pong %s%s%s", cmd->name, cmd->operands[0] ? " " : "", cmd->operands);
	for (const enum pong_opt *o = cmd->opts; *o != PONG_OPT__END; o++) {
		const struct opt_def *d = &table[*o];
		int len;

		if (d->type == T_HELP)
			continue;
		if (d->type == T_ONOFF)
			len = snprintf(line, sizeof(line), " [--%s[=on|off]]", d->name);
		else
			len = snprintf(line, sizeof(line), *o == cmd->required ? " --%s%s%s%s" : " [--%s%s%s]%s",
				       d->name, d->value ? " " : "", d->value ? d->value : "", d->repeatable ? "..." : "");
		if (col + len > 100) {
			col = fprintf(f, "\n%*s", indent - 1, "") - 1;
		}
		col += fprintf(f, "%s", line);
	}
	fputc('\n', f);
}

/* A command in one line, for xdp-pong --help: operands, the required option, "[OPTIONS]". */
void pong_print_synopsis(const struct pong_command *cmd, FILE *f)
{
	bool more = false;

	fputs(cmd->operands, f);
	for (const enum pong_opt *o = cmd->opts; *o != PONG_OPT__END; o++) {
		const struct opt_def *d = &table[*o];

		if (*o == cmd->required)
			fprintf(f, "%s--%s %s", cmd->operands[0] ? " " : "", d->name, d->value);
		else if (d->type != T_HELP)
			more = true;
	}
	fputs(more ? " [OPTIONS]\n" : "\n", f);
}

void pong_print_help(const struct pong_command *cmd, FILE *f)
{
	pong_print_usage(cmd, f);
	fprintf(f, "\n%s\n\n", cmd->about);
	for (const enum pong_opt *o = cmd->opts; *o != PONG_OPT__END; o++) {
		const struct opt_def *d = &table[*o];
		char head[64];
		const char *h = d->help;

		if (d->type == T_ONOFF)
			snprintf(head, sizeof(head), "-%c, --%s[=on|off]", d->letter, d->name);
		else
			snprintf(head, sizeof(head), "-%c, --%s%s%s", d->letter, d->name, d->value ? " " : "",
				 d->value ? d->value : "");
		fprintf(f, "  %-27s ", head);
		for (; *h; h++) {
			fputc(*h, f);
			if (*h == '\n')
				fprintf(f, "  %-27s ", "");
		}
		fputc('\n', f);
	}
}

/* One option's value into args; 0, or the exit status 2 after saying what is wrong. */
static int take(const struct pong_command *cmd, const struct opt_def *d, const char *arg, struct pong_args *args)
{
	void *field = (char *)args + d->field;
	char *end;
	int err;

	errno = 0;
	switch (d->type) {
	case T_FLAG:
		*(bool *)field = true;
		return 0;
	case T_MODE: {
		static const enum xdp_attach_mode modes[] = { XDP_MODE_NATIVE, XDP_MODE_SKB };   /* names.c names them */

		for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
			if (!strcmp(arg, pong_mode_name(modes[m]))) {
				args->mode = modes[m];
				return 0;
			}
		}
		break;
	}
	case T_TTL: {
		long v = strtol(arg, &end, 10);

		if (errno || end == arg || *end || v < 1 || v > 255)
			break;
		*(long *)field = v;
		return 0;
	}
	case T_CIDR:
		if (args->nprefixes >= PONG_MAX_PREFIXES)
			return pong_usage_error(cmd, "too many --prefix options (at most %d; add more with "
						"'xdp-pong prefix add')", PONG_MAX_PREFIXES);
		err = pong_cidr_arg(cmd, arg, &args->prefixes[args->nprefixes]);
		if (err)
			return err;
		args->nprefixes++;
		return 0;
	case T_PPS:
		if (pong_parse_pps(arg, (__u32 *)field))
			break;
		*(bool *)((char *)args + d->given) = true;
		return 0;
	case T_UNIT_INSTANCE:
		if (args->nunit_names >= PONG_MAX_IFACES)
			return pong_usage_error(cmd, "too many --%s options", d->name);
		if (pong_unit_instance_name(arg, args->unit_names[args->nunit_names], IF_NAMESIZE))
			return pong_usage_error(cmd, "--%s '%s' %s", d->name, pong_shown(arg), d->want);
		args->nunit_names++;
		return 0;
	case T_PATH:
		*(const char **)field = arg;
		return 0;
	case T_SECONDS: {
		double v = strtod(arg, &end);

		if (errno || end == arg || *end || !(v >= 0.1 && v <= 3600))
			break;
		*(double *)field = v;
		return 0;
	}
	case T_COUNT: {
		long v = strtol(arg, &end, 10);

		if (errno || end == arg || *end || v < 1)
			break;
		*(long *)field = v;
		return 0;
	}
	case T_LISTEN: {
		struct sockaddr_storage ss;

		if (pong_parse_listen(arg, &ss))
			break;
		*(const char **)field = arg;
		return 0;
	}
	case T_ONOFF:
		if (!arg || !strcmp(arg, "on"))
			*(int *)field = 1;
		else if (!strcmp(arg, "off"))
			*(int *)field = 0;
		else
			break;
		return 0;
	case T_HELP:
		return 0;
	}
	return pong_usage_error(cmd, "--%s %s, not '%s'", d->name, d->want, pong_shown(arg));
}

/*
 * Parse argv (argv[0] is the subcommand) with cmd's options, in any order
 * with the operands. Fills args (zeroed first, then the defaults). Returns
 * the index of the first operand; -1 after printing --help (exit 0); -2
 * after a usage error was printed (exit 2).
 */
int pong_parse_args(const struct pong_command *cmd, int argc, char **argv, struct pong_args *args)
{
	struct option longopts[PONG_OPT__END + 1];
	char shortopts[2 * PONG_OPT__END + 2] = ":";
	bool seen[PONG_OPT__END] = { false };
	int n = 0, opt;

	memset(args, 0, sizeof(*args));
	args->settings = PONG_SETTINGS_KEEP;
	args->mode = XDP_MODE_NATIVE;
	args->ttl = PONG_DEFAULT_TTL;
	for (const enum pong_opt *o = cmd->opts; *o != PONG_OPT__END; o++) {
		const struct opt_def *d = &table[*o];
		size_t len = strlen(shortopts);

		longopts[n++] = (struct option){ d->name, d->type == T_ONOFF ? optional_argument :
						 d->value ? required_argument : no_argument, NULL, d->letter };
		shortopts[len] = d->letter;
		shortopts[len + 1] = d->value ? ':' : '\0';
		shortopts[len + 2] = '\0';
	}
	longopts[n] = (struct option){ 0 };

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const char *word = argv[optind - 1];
		const struct opt_def *d = NULL;

		if (opt == ':') {
			for (const enum pong_opt *o = cmd->opts; *o != PONG_OPT__END; o++) {
				if (table[*o].letter == optopt)
					pong_usage_error(cmd, "option --%s needs a value", table[*o].name);
			}
			return -2;
		}
		if (opt == '?') {
			if (optopt > 0x20 && optopt < 0x7f)      /* a short option, maybe inside a cluster */
				pong_usage_error(cmd, "unknown option -%c", optopt);
			else
				pong_usage_error(cmd, "unknown option or value '%s'", pong_shown(word));
			return -2;
		}
		for (const enum pong_opt *o = cmd->opts; *o != PONG_OPT__END; o++) {
			if (table[*o].letter == opt) {
				d = &table[*o];
				if (seen[*o] && !d->repeatable && d->type != T_HELP) {
					/* the later one would win silently: say so instead */
					pong_usage_error(cmd, "--%s given twice", d->name);
					return -2;
				}
				seen[*o] = true;
			}
		}
		if (!d)
			return -2;
		if (d->type == T_HELP) {
			pong_print_help(cmd, stdout);
			return -1;
		}
		if (take(cmd, d, optarg, args))
			return -2;
	}
	return optind;
}
