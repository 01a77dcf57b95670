// SPDX-License-Identifier: GPL-2.0
/* Errors, logging and argument checks common to all subcommands. */
#include <ctype.h>
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

/*
 * One line on stderr. Messages carry interface names and paths, which may
 * hold any byte but '/' and NUL: control bytes and invalid UTF-8 are shown
 * escaped, so a name can neither break the line nor drive the terminal.
 */
void pong_err(const char *fmt, ...)
{
	char msg[1024], safe[4 * sizeof(msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pong_text_escape(msg, safe, sizeof(safe));
	fprintf(stderr, "xdp-pong: %s\n", safe);
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

/*
 * An interface name given as a systemd unit instance (the %i of
 * xdp-pong@.service), unescaped as systemd-escape(1) escaped it: "\xNN" is
 * the byte NN and '-' stands for '/'. Since no interface name holds a '/',
 * a '-' that was not escaped is an error. 0, or -EINVAL with out unchanged.
 */
int pong_unit_instance_name(const char *inst, char *out, size_t len)
{
	size_t n = 0;

	for (const char *p = inst; *p; p++) {
		unsigned v;
		char c = *p;

		if (c == '\\') {
			if (p[1] != 'x' || !isxdigit((unsigned char)p[2]) || !isxdigit((unsigned char)p[3]) ||
			    sscanf(p + 2, "%2x", &v) != 1 || v == 0)
				return -EINVAL;
			c = (char)v;
			p += 3;
		} else if (c == '-') {
			return -EINVAL;    /* stands for '/': never part of an interface name */
		}
		if (n + 1 >= len)
			return -EINVAL;
		out[n++] = c;
	}
	if (n == 0)
		return -EINVAL;
	out[n] = '\0';
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
 * pass to pong_unlock(), or -errno: without the lock, two changes could undo
 * each other, so callers stop rather than go on unlocked.
 */
int pong_lock(void)
{
	int fd = open(PONG_LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

void pong_unlock(int fd)
{
	if (fd >= 0)
		close(fd);   /* closing releases the lock */
}
