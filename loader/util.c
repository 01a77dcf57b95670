// SPDX-License-Identifier: GPL-2.0
/* Errors, logging and argument checks common to all subcommands. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/file.h>
#include <bpf/libbpf.h>
#include "xdp-pong.h"

bool verbose;

void pong_err(const char *fmt, ...)
{
	va_list ap;

	fputs("xdp-pong: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int libxdp_log(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if (!verbose)
		return 0;
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

/* libbpf and libxdp speak only with --verbose; our own errors are one line. */
void pong_setup_logging(void)
{
	libbpf_set_print(libbpf_log);
	libxdp_set_print(libxdp_log);
}

int pong_require_root(void)
{
	if (geteuid() != 0) {
		pong_err("must be run as root (loading and reading XDP programs needs CAP_BPF and CAP_NET_ADMIN)");
		return -EPERM;
	}
	return 0;
}

/* Resolve interface names; every name must exist and appear once. */
int pong_parse_ifaces(char **names, int n, int *ifindexes)
{
	if (n > PONG_MAX_IFACES) {
		pong_err("too many interfaces (%d); at most %d per call", n, PONG_MAX_IFACES);
		return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		if (strlen(names[i]) >= IF_NAMESIZE || !(ifindexes[i] = (int)if_nametoindex(names[i]))) {
			pong_err("no such interface: %s", names[i]);
			return -ENODEV;
		}
		for (int j = 0; j < i; j++) {
			if (ifindexes[j] == ifindexes[i]) {
				pong_err("interface %s named twice", names[i]);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/*
 * Serialise the commands that rewrite a program's settings (prefix, set):
 * each reads, changes and writes the whole settings value. Returns an fd to
 * pass to pong_unlock(), or -1 (then without a lock: /run not writable).
 */
int pong_lock(void)
{
	int fd = open("/run/xdp-pong.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd >= 0 && flock(fd, LOCK_EX)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

void pong_unlock(int fd)
{
	if (fd >= 0)
		close(fd);   /* closing releases the lock */
}
