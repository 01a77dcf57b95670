// SPDX-License-Identifier: GPL-2.0
/*
 * Floor 5: every option of the CLI, declared once in one row of one table:
 * its name, its letter, the kind of its value, the field of struct
 * pong_args it fills, its help text, and what it accepts: a number's range
 * (and default), a choice's values. The parser checks a value against its
 * row, and the error, the usage line and --help are made from the same row:
 * a range or a choice is written once. Subcommands list the options they
 * take and say what their operands are (main.c); the operands too are
 * checked here, before any command runs, which then gets everything in one
 * struct pong_args.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "xdp-pong.h"

enum opt_type {
	T_FLAG,            /* bool */
	T_NUMBER,          /* a whole number within the row's range (into an int, long or __u32) */
	T_REAL,            /* a number within the row's range (into a double) */
	T_CHOICE,          /* one of the row's values (into an int or an enum), named by its name function */
	T_CIDR,            /* appended to prefixes[] */
	T_UNIT_INSTANCE,   /* appended to unit_names[], unescaped */
	T_PATH,            /* const char * */
	T_LISTEN,          /* const char *, ADDR:PORT */
	T_ANSWER,          /* kinds joined by commas, or none (names.c), into an int of PONG_ANSWER_* bits */
	T_HELP,
};

#define NO_MAX    INFINITY   /* a range without an upper bound */
#define MAX_CHOICES 4

struct opt_def {
	const char *name;
	const char *value;         /* what the value looks like, for usage and --help (T_CHOICE: made from
				    * its values); NULL for flags */
	const char *help;          /* for --help; '\n' starts another line; "{range}" and "{default}" are
				    * the row's own */
	size_t field, size;        /* offsetof and sizeof the field of struct pong_args */
	size_t given;              /* offsetof a bool that says it was given, or 0 */
	/* what a value may be: checked by the parser, said by the error and --help */
	double min, max;           /* T_NUMBER, T_REAL: the range (max NO_MAX: no bound) */
	double def;                /* T_NUMBER, T_REAL, T_CHOICE: the value when not given */
	const char *unit;          /* T_NUMBER, T_REAL: what the number counts ("seconds") */
	const char *zero;          /* T_NUMBER: a word for 0 ("off"), or NULL */
	const char *suffix;        /* T_NUMBER: may follow the number, saying nothing more ("/source") */
	const char *(*value_name)(int value);   /* T_CHOICE: a value's name */
	const char *want;          /* T_UNIT_INSTANCE: what it accepts, for the error */
	enum opt_type type;
	int nvalues;
	int values[MAX_CHOICES];   /* T_CHOICE: the values, nvalues of them */
	char letter;
	bool repeatable;
	bool optional;             /* T_CHOICE: --NAME alone means values[0] */
};

#define FIELD(f) .field = offsetof(struct pong_args, f), .size = sizeof(((struct pong_args *)0)->f)
#define GIVEN(f) .given = offsetof(struct pong_args, f)
#define CHOICES(name_of, ...) .value_name = name_of, .values = { __VA_ARGS__ }, \
	.nvalues = (int)(sizeof((int[]){ __VA_ARGS__ }) / sizeof(int))

static const char *mode_name(int mode)
{
	return pong_mode_name((enum xdp_attach_mode)mode);   /* names.c names them */
}

static const char *on_off_name(int on)
{
	return on ? "on" : "off";
}

/* How --listen and --metrics want their value (metrics.c's pong_parse_listen() decides). */
#define LISTEN_WANT "ADDR:PORT (127.0.0.1:9101, [::1]:9101, :9101)"

static const struct opt_def table[PONG_OPT__END] = {
	[PONG_OPT_MODE] = { .name = "mode", .letter = 'm', .type = T_CHOICE, FIELD(mode),
		CHOICES(mode_name, XDP_MODE_NATIVE, XDP_MODE_SKB), .def = XDP_MODE_NATIVE,
		.help = "native (default; no silent fallback) or skb (generic XDP)" },
	[PONG_OPT_TTL] = { .name = "ttl", .letter = 't', .type = T_NUMBER, FIELD(ttl), .value = "N",
		.min = 1, .max = 255, .def = PONG_DEFAULT_TTL, .unit = "a whole number",
		.help = "IPv4 TTL and IPv6 hop limit of every reply, {range} (default {default})" },
	[PONG_OPT_PREFIX] = { .name = "prefix", .letter = 'p', .type = T_CIDR, .value = "CIDR", .repeatable = true,
		.help = "answer only addresses inside CIDR (IPv4 or IPv6; repeatable);\n"
			"without it every address is answered, other hosts' included" },
	[PONG_OPT_RATE_LIMIT] = { .name = "rate-limit", .letter = 'r', .type = T_NUMBER, FIELD(settings.source_pps),
		GIVEN(settings.source_set), .value = "PPS", .min = 0, .max = PONG_PPS_MAX, .zero = "off",
		.suffix = "/source", .unit = "packets per second",
		.help = "replies per second to each source (IPv4 /32, IPv6 /64); requests\n"
			"over it are dropped; 0 or off: no limit (the default)" },
	[PONG_OPT_GLOBAL_LIMIT] = { .name = "global-limit", .letter = 'g', .type = T_NUMBER,
		FIELD(settings.global_pps), GIVEN(settings.global_set), .value = "PPS", .min = 0, .max = PONG_PPS_MAX,
		.zero = "off", .unit = "packets per second",
		.help = "replies per second in all; 0 or off: no limit (the default);\n"
			"a limit's bucket holds one second's worth" },
	[PONG_OPT_UNIT_INSTANCE] = { .name = "unit-instance", .letter = 'u', .type = T_UNIT_INSTANCE, .value = "NAME",
		.repeatable = true,
		.help = "also the interface NAME names in systemd-escape(1) form, as %i\n"
			"gives it in a unit (br\\x2dlan for br-lan)",
		.want = "is not an interface name escaped with systemd-escape (a '-' in it stands for '/': "
			"write br\\x2dlan for br-lan)" },
	[PONG_OPT_RECORD] = { .name = "record", .letter = 'R', .type = T_PATH, FIELD(record), .value = "FILE",
		.help = "write the ids of the programs this call attached to FILE, for\n"
			"'detach --recorded FILE'; if FILE cannot be written, nothing stays attached" },
	[PONG_OPT_RECORDED] = { .name = "recorded", .letter = 'R', .type = T_PATH, FIELD(recorded), .value = "FILE",
		.help = "detach what 'attach --record FILE' attached, where that very\n"
			"program is still attached, then remove FILE (no FILE: nothing to do)" },
	[PONG_OPT_JSON] = { .name = "json", .letter = 'j', .type = T_FLAG, FIELD(json),
		.help = "machine-readable output: one JSON object (each command's shape:\n"
			"man xdp-pong, OUTPUT)" },
	[PONG_OPT_PROMETHEUS] = { .name = "prometheus", .letter = 'P', .type = T_FLAG, FIELD(prometheus),
		.help = "Prometheus text exposition (xdp_pong_*_total counters)" },
	[PONG_OPT_TEXTFILE] = { .name = "textfile", .letter = 'T', .type = T_PATH, FIELD(textfile), .value = "PATH",
		.help = "write that to PATH atomically (node_exporter's textfile collector)" },
	[PONG_OPT_INTERVAL] = { .name = "interval", .letter = 'i', .type = T_REAL, FIELD(interval), .value = "SECS",
		.min = 0.1, .max = 3600, .unit = "seconds",
		.help = "live: packets/s and bits/s per counter every SECS, measured over\n"
			"the real elapsed time, until Ctrl-C (with --json: one object a line)" },
	[PONG_OPT_COUNT] = { .name = "count", .letter = 'c', .type = T_NUMBER, FIELD(count), .value = "N",
		.min = 1, .max = NO_MAX, .unit = "a whole number",
		.help = "with --interval: stop after N samples" },
	[PONG_OPT_LISTEN] = { .name = "listen", .letter = 'l', .type = T_LISTEN, FIELD(listen), .value = "ADDR:PORT",
		.help = "where to listen: an IPv4 address, an IPv6 address in brackets,\n"
			"or nothing for all: 127.0.0.1:9101, [::1]:9101, :9101" },
	[PONG_OPT_METRICS] = { .name = "metrics", .letter = 'M', .type = T_LISTEN, FIELD(metrics), .value = "ADDR:PORT",
		.help = "also serve these interfaces' counters at http://ADDR:PORT/metrics,\n"
			"as the metrics command does (127.0.0.1:9101, [::1]:9101, :9101)" },
	[PONG_OPT_UNCLAIMED] = { .name = "unclaimed", .letter = 'U', .type = T_CHOICE, FIELD(settings.unclaimed),
		CHOICES(on_off_name, 1, 0), .optional = true, .def = PONG_KEEP,
		.help = "answer ARP and NS only for addresses that xdp-pong's own probes\n"
			"found free, and give one up when its owner shows signs of life\n"
			"(run only; --unclaimed=off: every address again)" },
	[PONG_OPT_ANSWER] = { .name = "answer", .letter = 'A', .type = T_ANSWER, FIELD(settings.answer),
		.value = "LIST",
		.help = "also answer these kinds, off by default: udp (an ICMP port\n"
			"unreachable), tcp (a RST, as a closed port), timestamp (an ICMP\n"
			"timestamp reply); comma-separated, or none. Only for addresses in\n"
			"the --prefix list (needed; with --unclaimed, claimed ones in it),\n"
			"never the host's own",
		.want = "takes kinds joined by commas (udp, tcp, timestamp), or none" },
	[PONG_OPT_ICMP_RATELIMIT] = { .name = "icmp-ratelimit", .letter = 'I', .type = T_NUMBER,
		FIELD(settings.error_ms), GIVEN(settings.error_set), .value = "MS", .min = 0, .max = 60000,
		.zero = "off", .unit = "milliseconds",
		.help = "ICMP errors (--answer udp) to each source (IPv6: its /64): one per\n"
			"MS ms, 6 at once, as Linux's icmp_ratelimit (default: 1000 for IPv4,\n"
			"100 for IPv6, Linux's), and 1000/s from the interface (burst 50,\n"
			"Linux's icmp_msgs_per_sec); 0 or off: neither limit" },
	[PONG_OPT_VERBOSE] = { .name = "verbose", .letter = 'v', .type = T_FLAG, FIELD(verbose),
		.help = "show libbpf/libxdp messages" },
	[PONG_OPT_HELP] = { .name = "help", .letter = 'h', .type = T_HELP, .help = "this help" },
};

/* The actions of `prefix`, as typed. */
static const char *const prefix_actions[] = {
	[PONG_PREFIX_ADD] = "add", [PONG_PREFIX_DEL] = "del", [PONG_PREFIX_LIST] = "list",
	[PONG_PREFIX_CLEAR] = "clear",
};
#define NACTIONS ((int)(sizeof(prefix_actions) / sizeof(prefix_actions[0])))

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
static int cidr_arg(const struct pong_command *cmd, const char *arg, struct pong_cidr *out)
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

/* A choice's values joined: "native|skb" (sep "|"), or "native or skb" (sep ", ", last " or "). */
static void choices_text(const struct opt_def *d, const char *sep, const char *last, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (int i = 0; i < d->nvalues && at < len; i++) {
		const char *glue = i == 0 ? "" : i == d->nvalues - 1 ? last : sep;
		int w = snprintf(buf + at, len - at, "%s%s", glue, d->value_name(d->values[i]));

		at += w > 0 ? (size_t)w : 0;
	}
}

/* The value of a row as usage and --help show it: "N", "native|skb", "" for flags. */
static const char *value_text(const struct opt_def *d, char *buf, size_t len)
{
	if (d->type == T_CHOICE)
		choices_text(d, "|", "|", buf, len);
	else
		snprintf(buf, len, "%s", d->value ? d->value : "");
	return buf;
}

/* "--mode native|skb", "--unclaimed[=on|off]", "--json": an option as usage and --help name it. */
static void option_text(const struct opt_def *d, char *buf, size_t len)
{
	char value[64];

	value_text(d, value, sizeof(value));
	if (d->type == T_CHOICE && d->optional)
		snprintf(buf, len, "--%s[=%s]", d->name, value);
	else
		snprintf(buf, len, "--%s%s%s", d->name, value[0] ? " " : "", value);
}

/* What a row accepts, for its error: "takes a whole number from 1 to 255". */
static void want_text(const struct opt_def *d, char *buf, size_t len)
{
	char values[128];

	switch (d->type) {
	case T_NUMBER:
	case T_REAL:
		if (isinf(d->max))
			snprintf(buf, len, "takes %s of at least %.15g", d->unit, d->min);
		else
			snprintf(buf, len, "takes %s from %.15g to %.15g%s%s", d->unit, d->min, d->max,
				 d->zero ? ", or " : "", d->zero ? d->zero : "");
		break;
	case T_CHOICE:
		choices_text(d, ", ", " or ", values, sizeof(values));
		if (d->optional)
			snprintf(buf, len, "takes %s (--%s alone: %s)", values, d->name, d->value_name(d->values[0]));
		else
			snprintf(buf, len, "takes %s", values);
		break;
	case T_LISTEN:
		snprintf(buf, len, "wants %s", LISTEN_WANT);
		break;
	default:
		snprintf(buf, len, "%s", d->want ? d->want : "is not valid");
		break;
	}
}

/* The synopsis of a command's operands: "IFACE...", "add|del|list|clear IFACE [CIDR]". */
static const char *operands_text(const struct pong_command *cmd, char *buf, size_t len)
{
	size_t at = 0;

	switch (cmd->operands) {
	case PONG_IFACES:
		snprintf(buf, len, "IFACE...");
		break;
	case PONG_IFACES_ANY:
		snprintf(buf, len, "[IFACE...]");
		break;
	case PONG_ONE_IFACE:
		snprintf(buf, len, "IFACE");
		break;
	case PONG_PREFIX_ACTION:
		buf[0] = '\0';
		for (int i = 0; i < NACTIONS && at < len; i++) {
			int w = snprintf(buf + at, len - at, "%s%s", i ? "|" : "", prefix_actions[i]);

			at += w > 0 ? (size_t)w : 0;
		}
		if (at < len)
			snprintf(buf + at, len - at, " IFACE [CIDR]");
		break;
	}
	return buf;
}

/* The synopsis: "xdp-pong NAME OPERANDS [--opt VALUE]...", wrapped under the name. */
void pong_print_usage(const struct pong_command *cmd, FILE *f)
{
	char line[256], opt[128], operands[64];
	int indent = (int)strlen("Usage: xdp-pong ") + (int)strlen(cmd->name) + 1;
	int col;

	col = fprintf(f, "Usage: xdp-pong %s %s", cmd->name, operands_text(cmd, operands, sizeof(operands)));
	for (const enum pong_opt *o = cmd->opts; *o != PONG_OPT__END; o++) {
		const struct opt_def *d = &table[*o];
		int len;

		if (d->type == T_HELP)
			continue;
		option_text(d, opt, sizeof(opt));
		len = snprintf(line, sizeof(line), *o == cmd->required ? " %s%s" : " [%s]%s", opt,
			       d->repeatable ? "..." : "");
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
	char operands[64], opt[128];
	bool more = false;

	fputs(operands_text(cmd, operands, sizeof(operands)), f);
	for (const enum pong_opt *o = cmd->opts; *o != PONG_OPT__END; o++) {
		const struct opt_def *d = &table[*o];

		if (*o == cmd->required) {
			option_text(d, opt, sizeof(opt));
			fprintf(f, " %s", opt);
		} else if (d->type != T_HELP) {
			more = true;
		}
	}
	fputs(more ? " [OPTIONS]\n" : "\n", f);
}

/* A row's help text, its "{range}" and "{default}" filled in, each new line indented. */
static void print_option_help(const struct opt_def *d, FILE *f)
{
	for (const char *h = d->help; *h; h++) {
		if (!strncmp(h, "{range}", 7)) {
			fprintf(f, "%.15g-%.15g", d->min, d->max);
			h += 6;
		} else if (!strncmp(h, "{default}", 9)) {
			fprintf(f, "%.15g", d->def);
			h += 8;
		} else {
			fputc(*h, f);
			if (*h == '\n')
				fprintf(f, "  %-27s ", "");
		}
	}
	fputc('\n', f);
}

void pong_print_help(const struct pong_command *cmd, FILE *f)
{
	pong_print_usage(cmd, f);
	fprintf(f, "\n%s\n\n", cmd->about);
	for (const enum pong_opt *o = cmd->opts; *o != PONG_OPT__END; o++) {
		const struct opt_def *d = &table[*o];
		char head[160], opt[128];

		option_text(d, opt, sizeof(opt));
		snprintf(head, sizeof(head), "-%c, %s", d->letter, opt);
		fprintf(f, "  %-27s ", head);
		print_option_help(d, f);
	}
}

/* A number into a field of its size (the row's range makes it fit). */
static void store_number(void *field, size_t size, long long v)
{
	if (size == sizeof(int32_t)) {
		int32_t x = (int32_t)v;

		memcpy(field, &x, sizeof(x));
	} else {
		int64_t x = (int64_t)v;

		memcpy(field, &x, sizeof(x));
	}
}

/* A whole number as the row takes it, within its range: 0, or -EINVAL. */
static int parse_number(const struct opt_def *d, const char *arg, long long *v)
{
	char *end;

	if (d->zero && !strcmp(arg, d->zero)) {
		*v = 0;
		return 0;
	}
	errno = 0;
	*v = strtoll(arg, &end, 10);
	if (errno || end == arg || (*end && !(d->suffix && !strcmp(end, d->suffix))))
		return -EINVAL;
	return (double)*v >= d->min && (double)*v <= d->max ? 0 : -EINVAL;
}

/* One option's value into args; 0, or the exit status 2 after saying what is wrong. */
static int take(const struct pong_command *cmd, const struct opt_def *d, const char *arg, struct pong_args *args)
{
	void *field = (char *)args + d->field;
	char want[256];
	long long v;
	int err;

	switch (d->type) {
	case T_FLAG:
		*(bool *)field = true;
		return 0;
	case T_NUMBER:
		if (parse_number(d, arg, &v))
			break;
		store_number(field, d->size, v);
		if (d->given)
			*(bool *)((char *)args + d->given) = true;
		return 0;
	case T_REAL: {
		char *end;
		double r;

		errno = 0;
		r = strtod(arg, &end);
		if (errno || end == arg || *end || !(r >= d->min && r <= d->max))
			break;
		memcpy(field, &r, sizeof(r));
		return 0;
	}
	case T_CHOICE:
		for (int i = 0; i < d->nvalues; i++) {
			if (!arg || !strcmp(arg, d->value_name(d->values[i]))) {   /* no value: the first (optional) */
				store_number(field, d->size, d->values[i]);
				return 0;
			}
		}
		break;
	case T_CIDR:
		if (args->nprefixes >= PONG_MAX_PREFIXES)
			return pong_usage_error(cmd, "too many --prefix options (at most %d; add more with "
						"'xdp-pong prefix add')", PONG_MAX_PREFIXES);
		err = cidr_arg(cmd, arg, &args->prefixes[args->nprefixes]);
		if (err)
			return err;
		args->nprefixes++;
		return 0;
	case T_UNIT_INSTANCE:
		if (args->nunit_names >= PONG_MAX_IFACES)
			return pong_usage_error(cmd, "too many --%s options", d->name);
		if (pong_unit_instance_name(arg, args->unit_names[args->nunit_names], IF_NAMESIZE))
			break;
		args->nunit_names++;
		return 0;
	case T_PATH:
		*(const char **)field = arg;
		return 0;
	case T_LISTEN: {
		struct sockaddr_storage ss;

		if (pong_parse_listen(arg, &ss))
			break;
		*(const char **)field = arg;
		return 0;
	}
	case T_ANSWER: {
		__u32 answer;

		if (pong_answer_parse(arg, &answer))
			break;
		*(int *)field = (int)answer;
		return 0;
	}
	case T_HELP:
		return 0;
	}
	want_text(d, want, sizeof(want));
	if (d->type == T_UNIT_INSTANCE || d->type == T_ANSWER)
		return pong_usage_error(cmd, "--%s '%s' %s", d->name, pong_shown(arg), want);
	return pong_usage_error(cmd, "--%s %s, not '%s'", d->name, want, pong_shown(arg));
}

/* `prefix`'s operands: ACTION IFACE [CIDR]. 0, or the exit status 2 after the usage error. */
static int take_prefix_action(const struct pong_command *cmd, char **ops, int n, struct pong_args *args)
{
	bool takes_cidr;
	int a;

	if (n < 2) {
		char synopsis[64];

		return pong_usage_error(cmd, "want %s", operands_text(cmd, synopsis, sizeof(synopsis)));
	}
	for (a = 0; a < NACTIONS && strcmp(ops[0], prefix_actions[a]) != 0; a++)
		;
	if (a == NACTIONS)
		return pong_usage_error(cmd, "unknown action '%s': want %s, %s, %s or %s", pong_shown(ops[0]),
					prefix_actions[PONG_PREFIX_ADD], prefix_actions[PONG_PREFIX_DEL],
					prefix_actions[PONG_PREFIX_LIST], prefix_actions[PONG_PREFIX_CLEAR]);
	args->action = (enum pong_prefix_action)a;
	takes_cidr = args->action == PONG_PREFIX_ADD || args->action == PONG_PREFIX_DEL;
	if (takes_cidr && n != 3)
		return pong_usage_error(cmd, "%s and %s take IFACE CIDR", prefix_actions[PONG_PREFIX_ADD],
					prefix_actions[PONG_PREFIX_DEL]);
	if (!takes_cidr && n != 2)
		return pong_usage_error(cmd, "%s and %s take only IFACE", prefix_actions[PONG_PREFIX_LIST],
					prefix_actions[PONG_PREFIX_CLEAR]);
	args->ifaces[args->nifaces++] = ops[1];
	return takes_cidr ? cidr_arg(cmd, ops[2], &args->cidr) : 0;
}

/*
 * The operands, as the command's kind says, into args->ifaces (for attach
 * and run, --unit-instance's names first). 0; PONG_PARSE_USAGE or
 * PONG_PARSE_FAILED after saying what is wrong.
 */
static int take_operands(const struct pong_command *cmd, char **ops, int n, const bool *seen,
			 struct pong_args *args)
{
	const struct opt_def *instead = cmd->instead != PONG_OPT__END ? &table[cmd->instead] : NULL;
	int total = args->nunit_names + n;
	struct pong_why why = { "" };

	switch (cmd->operands) {
	case PONG_PREFIX_ACTION:
		return take_prefix_action(cmd, ops, n, args) ? PONG_PARSE_USAGE : 0;
	case PONG_ONE_IFACE:
		if (n != 1) {
			pong_usage_error(cmd, "want one interface");
			return PONG_PARSE_USAGE;
		}
		break;
	case PONG_IFACES:
		if (instead && seen[cmd->instead] && total > 0) {
			pong_usage_error(cmd, "--%s %s takes no interface: %s names them", instead->name, instead->value,
					 instead->value);
			return PONG_PARSE_USAGE;
		}
		if (total == 0 && !(instead && seen[cmd->instead])) {
			pong_usage_error(cmd, "no interface given");
			return PONG_PARSE_USAGE;
		}
		break;
	case PONG_IFACES_ANY:
		break;
	}
	if (pong_ifaces_fit(total, &why)) {
		pong_err("%s", why.text);
		return PONG_PARSE_FAILED;
	}
	for (int i = 0; i < args->nunit_names; i++)
		args->ifaces[args->nifaces++] = args->unit_names[i];
	for (int i = 0; i < n; i++)
		args->ifaces[args->nifaces++] = ops[i];
	return 0;
}

/* Every option at its default: numbers and choices at their row's, the settings unchanged. */
static void defaults(struct pong_args *args)
{
	memset(args, 0, sizeof(*args));
	args->settings = PONG_SETTINGS_KEEP;
	for (size_t i = 0; i < PONG_OPT__END; i++) {
		const struct opt_def *d = &table[i];

		if (d->type == T_NUMBER || d->type == T_CHOICE)
			store_number((char *)args + d->field, d->size, (long long)d->def);
		else if (d->type == T_REAL)
			memcpy((char *)args + d->field, &d->def, sizeof(d->def));
	}
}

/*
 * Parse argv (argv[0] is the subcommand) with cmd's options, in any order
 * with the operands, and check the operands as cmd's kind says. Fills args
 * (defaults first). Returns 0; PONG_PARSE_HELP after printing --help;
 * PONG_PARSE_USAGE after a usage error was printed; PONG_PARSE_FAILED
 * after another error was.
 */
int pong_parse_args(const struct pong_command *cmd, int argc, char **argv, struct pong_args *args)
{
	struct option longopts[PONG_OPT__END + 1];
	char shortopts[2 * PONG_OPT__END + 2] = ":";
	bool seen[PONG_OPT__END] = { false };
	int n = 0, opt;

	defaults(args);
	args->cmd = cmd;
	for (const enum pong_opt *o = cmd->opts; *o != PONG_OPT__END; o++) {
		const struct opt_def *d = &table[*o];
		bool optional = d->type == T_CHOICE && d->optional;
		bool takes = d->type != T_FLAG && d->type != T_HELP;
		size_t len = strlen(shortopts);

		longopts[n++] = (struct option){ d->name, optional ? optional_argument :
						 takes ? required_argument : no_argument, NULL, d->letter };
		shortopts[len] = d->letter;
		shortopts[len + 1] = takes && !optional ? ':' : '\0';
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
			return PONG_PARSE_USAGE;
		}
		if (opt == '?') {
			if (optopt > 0x20 && optopt < 0x7f)      /* a short option, maybe inside a cluster */
				pong_usage_error(cmd, "unknown option -%c", optopt);
			else
				pong_usage_error(cmd, "unknown option or value '%s'", pong_shown(word));
			return PONG_PARSE_USAGE;
		}
		for (const enum pong_opt *o = cmd->opts; *o != PONG_OPT__END; o++) {
			if (table[*o].letter == opt) {
				d = &table[*o];
				if (seen[*o] && !d->repeatable && d->type != T_HELP) {
					/* the later one would win silently: say so instead */
					pong_usage_error(cmd, "--%s given twice", d->name);
					return PONG_PARSE_USAGE;
				}
				seen[*o] = true;
			}
		}
		if (!d)
			return PONG_PARSE_USAGE;
		if (d->type == T_HELP) {
			pong_print_help(cmd, stdout);
			return PONG_PARSE_HELP;
		}
		if (take(cmd, d, optarg, args))
			return PONG_PARSE_USAGE;
	}
	if (cmd->required != PONG_OPT__END && !seen[cmd->required]) {
		char text[128];

		option_text(&table[cmd->required], text, sizeof(text));
		pong_usage_error(cmd, "%s is required", text);
		return PONG_PARSE_USAGE;
	}
	return take_operands(cmd, argv + optind, argc - optind, seen, args);
}
