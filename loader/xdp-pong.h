/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations shared by the xdp-pong CLI's source files. */
#ifndef XDP_PONG_CLI_H
#define XDP_PONG_CLI_H

#include <stdbool.h>
#include <net/if.h>
#include <linux/types.h>
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

/* An interface and what xdp-pong finds attached to it. */
struct pong_attachment {
	char name[IF_NAMESIZE];
	int ifindex;
	bool attached;               /* xdp-pong runs on it */
	enum xdp_attach_mode mode;
	__u32 prog_id;
	struct pong_config cfg;      /* as loaded (read back from .rodata) */
	bool cfg_known;
	char other[192];             /* some other XDP program there, if any: "'name' (id N)" */
	bool shared;                 /* programs run under libxdp's dispatcher */
};

/* attach.c */
struct attach_opts {
	enum xdp_attach_mode mode;
	int ttl;
};
int pong_find(int ifindex, struct pong_attachment *a, int *prog_fd);
int pong_attach(char **ifnames, int n, const struct attach_opts *opts);
int pong_detach(char **ifnames, int n);

/* stats.c */
struct pong_counters {
	struct pong_stat counter[PONG_CNT__MAX];
	struct pong_stat reason[PONG_R__MAX];
};
int pong_read_counters(int prog_fd, struct pong_counters *out);
int pong_read_config(int prog_fd, struct pong_config *cfg);

/* output.c */
extern const char *const pong_counter_names[PONG_CNT__MAX];
extern const char *const pong_reason_names[PONG_R__MAX];
extern const char *const pong_reason_texts[PONG_R__MAX];
const char *pong_mode_name(enum xdp_attach_mode mode);
void print_status_table(const struct pong_attachment *a, int n);
void print_stats_table(const struct pong_attachment *a, const struct pong_counters *c, int n);
void print_stats_json(const struct pong_attachment *a, const struct pong_counters *c, int n);

#endif
