/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations shared by the xdp-pong CLI's source files. */
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

#define PONG_VERSION "0.1.0"
#define PONG_MAX_IFACES 64

/* util.c */
extern bool verbose;
void pong_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pong_setup_logging(void);
int pong_require_root(void);
int pong_parse_ifaces(char **names, int n, int *ifindexes);
int pong_unit_instance_name(const char *inst, char *out, size_t len);
#define PONG_LOCK_FILE "/run/xdp-pong.lock"
int pong_lock(void);
void pong_unlock(int fd);

/* An IPv4 or IPv6 prefix, as given to --prefix and `prefix add|del`. */
struct pong_cidr {
	int family;                /* AF_INET or AF_INET6 */
	__u8 addr[16];
	int len;
};

/* An interface and what xdp-pong finds attached to it. */
struct pong_attachment {
	char name[IF_NAMESIZE];
	int ifindex;
	bool attached;               /* xdp-pong runs on it */
	enum xdp_attach_mode mode;
	__u32 prog_id;
	struct pong_config cfg;      /* as loaded (read back from .rodata) */
	bool cfg_known;
	struct pong_settings settings;   /* scope and limits, as they are now */
	int nprefixes;               /* entries in the prefix lists, -1 if unknown */
	char other[192];             /* some other XDP program there, if any: "'name' (id N)" */
	bool shared;                 /* programs run under libxdp's dispatcher */
};

/* attach.c */
struct attach_opts {
	enum xdp_attach_mode mode;
	int ttl;
	struct pong_cidr prefixes[64];
	int nprefixes;
	__u32 source_pps, global_pps;
	const char *record;          /* --record FILE, or NULL */
};
int pong_find(int ifindex, struct pong_attachment *a, int *prog_fd);
void pong_describe(struct pong_attachment *a);
int pong_attach(char **ifnames, int n, const struct attach_opts *opts);
int pong_detach(char **ifnames, int n);
int pong_detach_recorded(const char *path);

/* stats.c */
struct pong_counters {
	struct pong_stat counter[PONG_CNT__MAX];
	struct pong_stat reason[PONG_R__MAX];
};
int pong_read_counters(int prog_fd, struct pong_counters *out);
int pong_read_config(int prog_fd, struct pong_config *cfg);
int pong_prog_map_fd(int prog_fd, const char *suffix, struct bpf_map_info *minfo);
int pong_collect(char **names, int n, struct pong_attachment *a, bool need_attached);
int pong_snapshot(struct pong_attachment *a, struct pong_counters *c, int n, bool strict);

/* live.c: stats --interval */
int pong_stats_live(struct pong_attachment *a, int n, bool named, double interval, long count, bool json);

/* metrics.c: Prometheus exposition over HTTP */
int pong_metrics_serve(const char *listen_addr);
int pong_write_textfile(const char *path, const struct pong_attachment *a, const struct pong_counters *c, int n);

/* policy.c: address scope (prefix lists) and rate limits */
int pong_parse_cidr(const char *s, struct pong_cidr *out);
void pong_format_cidr(const struct pong_cidr *c, char *buf, size_t len);
int pong_parse_pps(const char *s, __u32 *pps);
int pong_read_settings(int prog_fd, struct pong_settings *s);
int pong_write_settings(int prog_fd, const struct pong_settings *s);
void pong_settings_set_limits(struct pong_settings *s, __u32 source_pps, __u32 global_pps);
int pong_prefix_add(int prog_fd, const struct pong_cidr *c);
int pong_prefix_del(int prog_fd, const struct pong_cidr *c);
int pong_prefix_list(int prog_fd, struct pong_cidr *out, int max);
int pong_prefix_count(int prog_fd);

/* output.c */
extern const char *const pong_counter_names[PONG_CNT__MAX];
extern const char *const pong_reason_names[PONG_R__MAX];
extern const char *const pong_reason_texts[PONG_R__MAX];
const char *pong_mode_name(enum xdp_attach_mode mode);
void print_status_table(const struct pong_attachment *a, int n);
void pong_format_limits(const struct pong_settings *s, char *buf, size_t len);
void print_stats_table(const struct pong_attachment *a, const struct pong_counters *c, int n);
void print_stats_json(const struct pong_attachment *a, const struct pong_counters *c, int n);
void print_json_string(const char *s);
void pong_json_string(FILE *f, const char *s);
void pong_text_escape(const char *in, char *out, size_t len);
const char *pong_name_text(const char *name, char *buf, size_t len);
void print_prometheus(FILE *f, const struct pong_attachment *a, const struct pong_counters *c, int n);

#endif
