/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The xdp-pong CLI's declarations, floor by floor. A file calls only what is
 * declared on floors below its own (tests/cli/test_layering.py checks the
 * symbols each object file uses):
 *
 *   0  util.c      error lines and explanations, text escaping, interface
 *                  names, logging, the settings lock
 *      names.c     names of counters, refusal reasons and modes
 *   1  prog.c      find xdp-pong on an interface; its maps, config and
 *                  counters; the settings' one owner (read, initial, change)
 *   2  policy.c    scope (prefix lists) and its rules; the claims --unclaimed
 *                  holds
 *      own.c       the host's own addresses, kept in the program, and the
 *                  kernel's word when they change
 *      probe.c     --unclaimed's probes: an address is claimed only once
 *                  nobody answered ours
 *   3  stats.c     many interfaces at once: collect, read, describe
 *      attach.c    attach and detach, all or nothing; records
 *      output.c    tables, JSON, Prometheus text
 *   4  live.c      stats --interval
 *      metrics.c   the /metrics server and the textfile
 *   5  run.c       run: attach through links held by this process, watch
 *                  them (attached? the interface's MAC?), serve metrics,
 *                  detach at the end; it reports what it sees on stderr
 *      options.c   the option table (each option's range or choices) and
 *                  the operand kinds: parsing, checking, usage and --help
 *   6  main.c      subcommands; their messages and exit codes
 *
 * Below main.c, functions return 0 or -errno (or a count) and print
 * nothing, unless printing is their job (output.c, live.c); where a bare
 * errno would not say enough, they fill a struct pong_why for main.c to
 * print. Exit codes exist only in main.c.
 */
#ifndef XDP_PONG_CLI_H
#define XDP_PONG_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <net/if.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <xdp/libxdp.h>
#include "pong.h"

#define PONG_VERSION      "0.1.0"
#define PONG_MAX_IFACES   64
#define PONG_MAX_PREFIXES 64           /* --prefix options per attach */
#define PONG_PPS_MAX      100000000u   /* highest --rate-limit / --global-limit (options.c) */
#define PONG_LOCK_FILE    "/run/xdp-pong.lock"

/* ---- floor 0: util.c, names.c ---- */

/* Why an operation failed, in one line, for main.c to print. */
struct pong_why {
	char text[512];
};

extern bool verbose;
void pong_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pong_why(struct pong_why *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int pong_utf8_len(const char *s);
void pong_text_escape(const char *in, char *out, size_t len);
#define PONG_NAME_TEXT (4 * IF_NAMESIZE)   /* an interface name escaped (each byte at most "\xNN") */
const char *pong_name_text(const char *name, char *buf, size_t len);
void pong_setup_logging(void);
bool pong_is_root(void);
int pong_ifaces_fit(int n, struct pong_why *why);
int pong_parse_ifaces(char *const *names, int n, int *ifindexes, struct pong_why *why);
int pong_unit_instance_name(const char *inst, char *out, size_t len);
int pong_link_mac(int ifindex, __u8 mac[6]);
int pong_link_is_veth(int ifindex);
int pong_link_stacked(int ifindex, char other[IF_NAMESIZE]);
int pong_unclaimed_fits(int ifindex, const char *name, struct pong_why *why);
#define PONG_WHOLE_REPLACE 0   /* pong_write_whole(): renamed over the path */
#define PONG_WHOLE_NEW     1   /* ... linked to it: an existing file is kept (-EEXIST) */
int pong_write_whole(const char *path, mode_t mode, int how, void (*fill)(FILE *f, const void *arg),
		     const void *arg);
#define PONG_MAC_TEXT 18   /* "xx:xx:xx:xx:xx:xx" and its NUL */
const char *pong_format_mac(const __u8 mac[6], char buf[PONG_MAC_TEXT]);
__u8 pong_tai_offset(void);
int pong_notify(const char *state);
int pong_lock(void);
void pong_unlock(int fd);

extern const char *const pong_counter_names[PONG_CNT__MAX];
extern const char *const pong_reason_names[PONG_R__MAX];
extern const char *const pong_reason_texts[PONG_R__MAX];
extern const char *const pong_event_names[PONG_EV__MAX];
const char *pong_claim_state_name(unsigned state);
const char *pong_mode_name(enum xdp_attach_mode mode);
#define PONG_ANSWER_TEXT 32   /* "udp,tcp,timestamp" and its NUL */
const char *pong_answer_text(__u32 answer, char buf[PONG_ANSWER_TEXT]);
int pong_answer_parse(const char *list, __u32 *answer);

/* ---- floor 1: prog.c ---- */

/* An interface and what xdp-pong finds attached to it. */
struct pong_attachment {
	char name[IF_NAMESIZE];
	int ifindex;
	bool attached;               /* xdp-pong runs on it */
	enum xdp_attach_mode mode;
	__u32 prog_id;
	struct pong_config cfg;      /* as loaded (read back from .rodata), by pong_describe() */
	bool cfg_known;
	__u8 mac[6];                 /* the MAC it answers as (.data.iface), by pong_describe() */
	bool mac_known;
	__u8 link_mac[6];            /* the interface's MAC now, by pong_describe() */
	bool link_mac_known;
	struct pong_settings settings;   /* scope and limits, as they are now */
	int nprefixes;               /* entries in the prefix lists, -1 if unknown */
	int own_unknown;             /* the host's addresses the program does not know (added after
				      * attach), -1 if unknown; by pong_describe() */
	char other[192];             /* some other XDP program there, if any: "'name' (id N)" */
	bool shared;                 /* programs run under libxdp's dispatcher */
};

struct pong_counters {
	struct pong_stat counter[PONG_CNT__MAX];
	struct pong_stat reason[PONG_R__MAX];
	__u64 event[PONG_EV__MAX];
};

int pong_own(__u32 prog_id, int prog_fd, const struct bpf_object *obj);
void pong_disown(__u32 prog_id);
int pong_prog_fd_by_id(__u32 id);
int pong_find(int ifindex, struct pong_attachment *a, int *prog_fd);
int pong_open(const char *name, struct pong_attachment *a, int *prog_fd);
void pong_explain(struct pong_why *why, const char *name, int err, const struct pong_attachment *a);
int pong_prog_map_fd(int prog_fd, const char *suffix, struct bpf_map_info *minfo);
int pong_read_config(int prog_fd, struct pong_config *cfg);
int pong_read_section(int prog_fd, const char *suffix, void *value, __u32 size);
int pong_read_mac(int prog_fd, __u8 mac[6]);
int pong_write_section(int prog_fd, const char *suffix, const void *value, __u32 size);
int pong_write_iface(int prog_fd, const __u8 mac[6], __u8 tai_s);

/*
 * A change of settings, as the options give it: what it does not give is
 * kept. prog.c applies it (one read, one write of the whole value).
 */
#define PONG_KEEP (-1)
struct pong_settings_change {
	__u32 source_pps, global_pps;   /* packets per second, 0 = no limit ... */
	bool source_set, global_set;    /* ... if given */
	int unclaimed;                  /* 1 on, 0 off, PONG_KEEP */
	int scoped;                     /* 1 on, 0 off, PONG_KEEP (policy.c's rules say when) */
	int answer;                     /* PONG_ANSWER_* bits, PONG_KEEP */
	__u32 error_ms;                 /* --icmp-ratelimit, for IPv4 and IPv6, 0 = no limit ... */
	bool error_set;                 /* ... if given (at load, not given: Linux's defaults) */
};
#define PONG_SETTINGS_KEEP ((struct pong_settings_change){ .unclaimed = PONG_KEEP, .scoped = PONG_KEEP, \
							     .answer = PONG_KEEP })

int pong_read_settings(int prog_fd, struct pong_settings *s);
void pong_settings_initial(struct pong_settings *s, const struct pong_settings_change *c, int nprefixes);
int pong_settings_apply(int prog_fd, const struct pong_settings_change *c, struct pong_settings *out);
int pong_read_counters(int prog_fd, struct pong_counters *out);

/* ---- floor 2: policy.c ---- */

/* An IPv4 or IPv6 prefix, as given to --prefix and `prefix add|del`. */
struct pong_cidr {
	int family;                  /* AF_INET or AF_INET6 */
	__u8 addr[16];
	int len;
};

int pong_parse_cidr(const char *s, struct pong_cidr *out);
void pong_format_cidr(const struct pong_cidr *c, char *buf, size_t len);
int pong_prefix_list(int prog_fd, struct pong_cidr *out, int max);
int pong_prefix_count(int prog_fd);
int pong_scope_fill(int prog_fd, const struct pong_cidr *list, int n, int *failed);
int pong_scope_add(int prog_fd, const struct pong_cidr *c, bool *turned_on);
int pong_scope_del(int prog_fd, const struct pong_cidr *c, bool *now_empty);
int pong_scope_clear(int prog_fd, struct pong_cidr *failed);

/* How --unclaimed stands with an address (pong_claims_list() derives it). */
enum pong_claim_state {
	PONG_CLAIM_ASKED,            /* asked for; not probed yet, or its probes were answered long ago */
	PONG_CLAIM_PROBING,          /* our probes are out */
	PONG_CLAIM_CLAIMED,          /* nobody answered them: xdp-pong answers for it */
	PONG_CLAIM_OWNER,            /* its owner showed signs of life since: hands off */
};

/* An address --unclaimed tracks, as `claims` lists it. */
struct pong_claim_entry {
	int family;                  /* AF_INET or AF_INET6 */
	__u16 vlan[2];               /* as in the map key (pong.h) */
	__u8 addr[16];
	struct pong_claim claim;     /* the datapath's */
	struct pong_verdict verdict; /* run's (zero if none) */
	enum pong_claim_state state;
	double state_s, asked_s;     /* how long in that state; since it was last asked for */
};

int pong_claims_list(int prog_fd, struct pong_claim_entry *out, int max);

/* ---- floor 2: probe.c ---- */

struct pong_prober;
int pong_prober_open(int prog_fd, int ifindex, const __u8 mac[6], struct pong_prober **out);
void pong_prober_close(struct pong_prober *p);
int pong_prober_socket(struct pong_prober *p);
int pong_prober_fd(const struct pong_prober *p);
void pong_prober_set_mac(struct pong_prober *p, const __u8 mac[6]);
int pong_prober_work(struct pong_prober *p, int *next_ms);
int pong_prober_alive(int prog_fd);

/* ---- floor 2: own.c ---- */

/* The host's own addresses, sorted: what the datapath leaves to the kernel. */
#define PONG_OWN_READ_MAX (2 * PONG_OWN_MAX)   /* read, before repeats are dropped */
struct pong_own_set {
	__u32 v4[PONG_OWN_READ_MAX];         /* as they lie in memory (network order) */
	__u8 v6[PONG_OWN_READ_MAX][16];
	struct pong_lpm4 nets4[PONG_OWN_NETS_MAX];   /* local prefixes (not single addresses) */
	struct pong_lpm6 nets6[PONG_OWN_NETS_MAX];
	int n4, n6, nn4, nn6;
	bool overflow;
};

#define PONG_OWN_CHANGED  1   /* pong_own_watch_drain(): the host's addresses may have changed */
#define PONG_LINK_CHANGED 2   /* ... an interface came, went or changed */

int pong_own_read(struct pong_own_set *set);
int pong_own_write(int prog_fd, const struct pong_own_set *set);
int pong_own_sync(const int *prog_fds, int n, int *failed);
int pong_own_missing(int prog_fd);
int pong_own_watch_open(void);
int pong_own_watch_drain(int fd);

/* ---- floor 3: stats.c, attach.c, output.c ---- */

/* An interface pong_snapshot() could no longer read, and why (-errno). */
struct pong_lost {
	char name[IF_NAMESIZE];
	int err;
};

int pong_collect(char *const *names, int n, struct pong_attachment *a, bool need_attached, struct pong_why *why);
int pong_collect_ifindexes(const int *ifindex, const char (*known)[IF_NAMESIZE], int n,
			   struct pong_attachment *a);
int pong_snapshot(struct pong_attachment *a, struct pong_counters *c, int n, bool strict,
		  struct pong_lost *lost, int *nlost);
void pong_describe(struct pong_attachment *a);

struct pong_attach_opts {
	enum xdp_attach_mode mode;
	int ttl;
	struct pong_settings_change settings;   /* limits and --unclaimed (scoped: by nprefixes) */
	struct pong_cidr prefixes[PONG_MAX_PREFIXES];
	int nprefixes;
	const char *record;          /* --record FILE, or NULL */
};

/* What detach --recorded did with one line of the record. */
struct pong_recorded {
	char name[IF_NAMESIZE];
	__u32 prog_id;
	enum { PONG_RECORD_DETACHED, PONG_RECORD_NOT_THERE, PONG_RECORD_GONE, PONG_RECORD_FAILED } outcome;
};

int pong_attach(char *const *names, int n, const struct pong_attach_opts *o, struct pong_why *why);
void pong_warn_unscoped(const struct pong_attach_opts *o, char *const *names, int n);
int pong_detach(char *const *names, int n, struct pong_why *why);
int pong_detach_recorded(const char *path, struct pong_recorded *done, int *ndone, struct pong_why *why);

/* An interface run attached xdp-pong to, through a BPF link it holds. */
struct pong_held {
	char name[IF_NAMESIZE];      /* as it is called now */
	int ifindex;
	__u32 prog_id;
	int prog_fd;                 /* the loaded object's (valid while held) */
	int link_fd;
	void *skel;                  /* the loaded object, attach.c's */
	__u8 mac[6];                 /* the MAC the program answers as */
	__u8 tai_s;                  /* the TAI offset it was given (struct pong_iface) */
};

int pong_hold(char *const *names, int n, const struct pong_attach_opts *o, struct pong_held *held, struct pong_why *why);
int pong_held_attached(struct pong_held *h);
int pong_held_follow(struct pong_held *h, __u8 old[6]);
void pong_release(struct pong_held *held, int n);

void pong_format_limits(const struct pong_settings *s, char *buf, size_t len);
void pong_format_claims(const struct pong_settings *s, char *buf, size_t len);
void pong_print_claims_table(const char *ifname, const struct pong_settings *st, const struct pong_claim_entry *e,
			     int n);
void pong_print_claims_json(const char *ifname, const struct pong_settings *st, const struct pong_claim_entry *e,
			    int n);
void pong_print_status_table(const struct pong_attachment *a, int n);
void pong_print_status_json(const struct pong_attachment *a, int n);
bool pong_mac_stale(const struct pong_attachment *a);
void pong_print_stats_table(const struct pong_attachment *a, const struct pong_counters *c, int n);
void pong_print_stats_json(const struct pong_attachment *a, const struct pong_counters *c, int n);
void pong_json_string(FILE *f, const char *s);
void pong_print_prometheus(FILE *f, const struct pong_attachment *a, const struct pong_counters *c, int n,
			   const struct pong_attachment *down, int ndown);
void pong_print_lost(const struct pong_lost *lost, int n);

/* ---- floor 4: live.c, metrics.c ---- */

struct MHD_Daemon;
struct sockaddr_storage;

int pong_stats_live(struct pong_attachment *a, int n, bool named, double interval, long count, bool json);
int pong_write_textfile(const char *path, const struct pong_attachment *a, const struct pong_counters *c, int n,
			struct pong_why *why);
int pong_parse_listen(const char *s, struct sockaddr_storage *ss);
struct MHD_Daemon *pong_metrics_start(const char *listen_addr, const int *ifindex, int n, struct pong_why *why);
void pong_metrics_tick(struct MHD_Daemon *d);
void pong_metrics_follow(int i, int ifindex, const char *name);
void pong_metrics_stop(struct MHD_Daemon *d);

/* ---- floor 5: run.c, options.c ---- */

int pong_run(char *const *names, int n, const struct pong_attach_opts *o, const char *metrics, struct pong_why *why);


/* What a command's operands are: checked, and put in struct pong_args, before the command runs. */
enum pong_operands {
	PONG_IFACES,                 /* IFACE...: one or more (--unit-instance's names first) */
	PONG_IFACES_ANY,             /* [IFACE...]: none stands for every interface running xdp-pong */
	PONG_ONE_IFACE,              /* IFACE */
	PONG_PREFIX_ACTION,          /* add|del|list|clear IFACE [CIDR] */
};

enum pong_prefix_action { PONG_PREFIX_ADD, PONG_PREFIX_DEL, PONG_PREFIX_LIST, PONG_PREFIX_CLEAR };

enum pong_opt {
	PONG_OPT_MODE, PONG_OPT_TTL, PONG_OPT_PREFIX, PONG_OPT_RATE_LIMIT, PONG_OPT_GLOBAL_LIMIT,
	PONG_OPT_UNIT_INSTANCE, PONG_OPT_RECORD, PONG_OPT_RECORDED, PONG_OPT_JSON, PONG_OPT_PROMETHEUS,
	PONG_OPT_TEXTFILE, PONG_OPT_INTERVAL, PONG_OPT_COUNT, PONG_OPT_LISTEN, PONG_OPT_UNCLAIMED,
	PONG_OPT_METRICS, PONG_OPT_VERBOSE, PONG_OPT_ANSWER, PONG_OPT_ICMP_RATELIMIT,
	PONG_OPT_HELP, PONG_OPT__END
};

/* A subcommand as options.c needs to know it: name, operands, what it does, its options. */
struct pong_command {
	const char *name;
	enum pong_operands operands;
	const char *about;           /* what it does, a paragraph */
	const enum pong_opt *opts;   /* ends with PONG_OPT__END */
	enum pong_opt required;      /* an option that must be given (shown without brackets), or PONG_OPT__END */
	enum pong_opt instead;       /* an option given instead of the interfaces (detach --recorded), or
				      * PONG_OPT__END */
};

/*
 * A command line, parsed and checked: what a command gets. Every option
 * fills one field here (options.c's table declares each option once: name,
 * kind, field, range or values, help); the operands fill ifaces[] or the
 * prefix action.
 */
struct pong_args {
	const struct pong_command *cmd;
	char *ifaces[PONG_MAX_IFACES];   /* the interfaces named, in order */
	int nifaces;
	enum pong_prefix_action action;  /* prefix: what to do ... */
	struct pong_cidr cidr;           /* ... with which prefix (add, del) */
	enum xdp_attach_mode mode;
	long ttl;
	struct pong_cidr prefixes[PONG_MAX_PREFIXES];
	int nprefixes;
	struct pong_settings_change settings;   /* --rate-limit, --global-limit, --unclaimed, --answer,
						 * --icmp-ratelimit */
	char unit_names[PONG_MAX_IFACES][IF_NAMESIZE];
	int nunit_names;
	const char *record, *recorded, *textfile, *listen, *metrics;
	bool json, prometheus, verbose;
	double interval;
	long count;
};

#define PONG_PARSE_HELP   (-1)   /* pong_parse_args(): --help printed */
#define PONG_PARSE_USAGE  (-2)   /* ... a usage error printed */
#define PONG_PARSE_FAILED (-3)   /* ... another error printed */
int pong_parse_args(const struct pong_command *cmd, int argc, char **argv, struct pong_args *args);
void pong_print_usage(const struct pong_command *cmd, FILE *f);
void pong_print_synopsis(const struct pong_command *cmd, FILE *f);
void pong_print_help(const struct pong_command *cmd, FILE *f);
int pong_usage_error(const struct pong_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *pong_shown(const char *typed);

#endif
