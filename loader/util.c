// SPDX-License-Identifier: GPL-2.0
/*
 * Floor 0, used by every other file: error lines, explanations for them
 * (struct pong_why), text escaping, interface names (as given, or as systemd
 * unit instances), an interface's MAC, logging of libbpf/libxdp, the root
 * check, the settings lock, systemd's readiness notification and the
 * kernel's TAI offset. Nothing here knows about BPF programs.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <sys/un.h>
#include <net/if_arp.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <bpf/libbpf.h>
#include "xdp-pong.h"

bool verbose;

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if s starts with an invalid one. */
int pong_utf8_len(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
			return 0;   /* overlong, or a UTF-16 surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
			return 0;   /* overlong, or beyond U+10FFFF */
		return 4;
	}
	return 0;
}

/*
 * Characters a terminal acts on although they are valid UTF-8: the C1
 * controls U+0080-U+009F (U+009B is CSI on the Linux console and in xterm),
 * and the ones that reorder or break what follows (bidirectional overrides,
 * embeddings and isolates, marks, line and paragraph separators).
 */
static bool is_format_char(const unsigned char *s, int k)
{
	unsigned cp;

	if (k == 2) {
		cp = (unsigned)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
		return cp >= 0x80 && cp <= 0x9f;
	}
	if (k != 3)
		return false;
	cp = (unsigned)(s[0] & 0x0f) << 12 | (unsigned)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	return cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * Text for a terminal or a log line. Names (interfaces, paths) may hold any
 * byte but NUL, and '/' for interfaces: valid UTF-8 is kept; backslash,
 * control bytes (C0, DEL, C1), characters that reorder text, and bytes that
 * are not UTF-8 are written as \\ and \xNN (each byte). Always terminated;
 * cut short (at a whole character) if out is too small.
 */
void pong_text_escape(const char *in, char *out, size_t len)
{
	size_t n = 0;

	if (!len)
		return;
	while (*in) {
		const unsigned char c = (unsigned char)*in;
		char piece[13];
		int k = pong_utf8_len(in);

		if (c == '\\') {
			snprintf(piece, sizeof(piece), "\\\\");
			k = 1;
		} else if (k == 0 || c < 0x20 || c == 0x7f) {
			snprintf(piece, sizeof(piece), "\\x%02x", c);
			k = 1;
		} else if (is_format_char((const unsigned char *)in, k)) {
			const unsigned char *u = (const unsigned char *)in;

			if (k == 2)
				snprintf(piece, sizeof(piece), "\\x%02x\\x%02x", u[0], u[1]);
			else
				snprintf(piece, sizeof(piece), "\\x%02x\\x%02x\\x%02x", u[0], u[1], u[2]);
		} else {
			memcpy(piece, in, (size_t)k);
			piece[k] = '\0';
		}
		if (n + strlen(piece) + 1 > len)
			break;
		memcpy(out + n, piece, strlen(piece));
		n += strlen(piece);
		in += k;
	}
	out[n] = '\0';
}

/* pong_text_escape() into buf, returning buf: for names printed in tables and lines. */
const char *pong_name_text(const char *name, char *buf, size_t len)
{
	pong_text_escape(name, buf, len);
	return buf;
}

/* One line on stderr, "xdp-pong: " first; escaped, so a name can neither break the line nor drive the terminal. */
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

/* Say why something failed, for main.c to print (one line, no "xdp-pong: "). */
void pong_why(struct pong_why *why, const char *fmt, ...)
{
	va_list ap;

	if (!why)
		return;
	va_start(ap, fmt);
	vsnprintf(why->text, sizeof(why->text), fmt, ap);
	va_end(ap);
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int libxdp_log(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	if (!verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* libbpf and libxdp speak only with --verbose; our own errors are one line. */
void pong_setup_logging(void)
{
	libbpf_set_print(libbpf_log);
	libxdp_set_print(libxdp_log);
}

bool pong_is_root(void)
{
	return geteuid() == 0;
}

/* n interfaces in one call: at most PONG_MAX_IFACES. 0, or -E2BIG with why. */
int pong_ifaces_fit(int n, struct pong_why *why)
{
	if (n <= PONG_MAX_IFACES)
		return 0;
	pong_why(why, "too many interfaces (%d); at most %d per call", n, PONG_MAX_IFACES);
	return -E2BIG;
}

/* Resolve interface names; every name must exist and appear once. 0, or -errno with why. */
int pong_parse_ifaces(char *const *names, int n, int *ifindexes, struct pong_why *why)
{
	if (pong_ifaces_fit(n, why))
		return -E2BIG;
	for (int i = 0; i < n; i++) {
		if (strlen(names[i]) >= IF_NAMESIZE || !(ifindexes[i] = (int)if_nametoindex(names[i]))) {
			pong_why(why, "no such interface: %s", names[i]);
			return -ENODEV;
		}
		for (int j = 0; j < i; j++) {
			if (ifindexes[j] == ifindexes[i]) {
				pong_why(why, "interface %s named twice", names[i]);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/*
 * The MAC address of interface ifindex (SIOCGIFHWADDR; needs no privilege).
 * -EPFNOSUPPORT: not an Ethernet interface; -ENODEV: no such interface.
 */
int pong_link_mac(int ifindex, __u8 mac[6])
{
	struct ifreq ifr = { 0 };
	int fd, err = 0;

	if (!if_indextoname((unsigned)ifindex, ifr.ifr_name))
		return -ENODEV;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		err = -errno;
	else if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		err = -EPFNOSUPPORT;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

/*
 * 1 if interface ifindex is a veth (its driver, by ETHTOOL_GDRVINFO; needs
 * no privilege), 0 if not (or its driver cannot be told), -ENODEV if gone.
 * A veth hands XDP the frames of local sockets with CHECKSUM_PARTIAL
 * checksums, which the program then accepts (xdp/lib/csum.h).
 */
int pong_link_is_veth(int ifindex)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { 0 };
	int fd, veth = 0;

	if (!if_indextoname((unsigned)ifindex, ifr.ifr_name))
		return -ENODEV;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	ifr.ifr_data = (void *)&info;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0)
		veth = !strncmp(info.driver, "veth", sizeof(info.driver));
	close(fd);
	return veth;
}

/*
 * Is interface ifindex stacked: a port of a bridge or bond (it has a
 * master), or the lower device of others (macvlan, VLAN, ...)? 1 with the
 * other device's name in other, 0, or -errno. From sysfs (this namespace's,
 * as `ip netns exec` mounts it): "master" and "upper_NAME" links.
 */
int pong_link_stacked(int ifindex, char other[IF_NAMESIZE])
{
	char name[IF_NAMESIZE], path[64];
	struct dirent *d;
	DIR *dir;
	int found = 0;

	if (!if_indextoname((unsigned)ifindex, name))
		return -ENODEV;
	snprintf(path, sizeof(path), "/sys/class/net/%s", name);   /* a name holds no '/' */
	dir = opendir(path);
	if (!dir)
		return -errno;
	while (!found && (d = readdir(dir)) != NULL) {
		if (!strcmp(d->d_name, "master")) {
			char target[256];
			ssize_t n = readlinkat(dirfd(dir), "master", target, sizeof(target) - 1);
			const char *base;

			if (n <= 0)
				continue;
			target[n] = '\0';
			base = strrchr(target, '/');
			snprintf(other, IF_NAMESIZE, "%.15s", base ? base + 1 : target);
			found = 1;
		} else if (!strncmp(d->d_name, "upper_", 6)) {
			snprintf(other, IF_NAMESIZE, "%.15s", d->d_name + 6);
			found = 1;
		}
	}
	closedir(dir);
	return found;
}

/*
 * --unclaimed on interface name (ifindex): hosts behind a stacked interface
 * (a bridge's other ports, a bond's peers, macvlan children) neither hear
 * probes sent on it nor answer through its XDP, so their addresses would
 * look free. 0, or -ENOTSUP with why.
 */
int pong_unclaimed_fits(int ifindex, const char *name, struct pong_why *why)
{
	char other[IF_NAMESIZE] = "";

	if (pong_link_stacked(ifindex, other) != 1)
		return 0;
	pong_why(why, "%s: --unclaimed cannot see hosts behind it: it is stacked with %s (a bridge or bond port, "
		 "or the lower device of macvlan or VLAN interfaces); run it on the device they share", name, other);
	return -ENOTSUP;
}

/*
 * A file written whole or not at all: fill(f, arg) writes into a fresh,
 * unguessable temporary file next to path (the same file system), mode
 * mode, which is fsynced and then put in place: renamed over path
 * (PONG_WHOLE_REPLACE: a reader sees the old file or the new one), or
 * linked to it (PONG_WHOLE_NEW: an existing path is left as it is,
 * -EEXIST). 0 or -errno.
 */
int pong_write_whole(const char *path, mode_t mode, int how, void (*fill)(FILE *f, const void *arg), const void *arg)
{
	char tmp[4096];
	FILE *f;
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) || !(f = fdopen(fd, "w"))) {
		err = -errno;
		close(fd);
		unlink(tmp);
		return err;
	}
	fill(f, arg);
	if (fflush(f) || fsync(fileno(f)))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && (how == PONG_WHOLE_NEW ? link(tmp, path) : rename(tmp, path)))
		err = -errno;
	if (err || how == PONG_WHOLE_NEW)
		unlink(tmp);          /* renamed, it is gone already */
	return err;
}

/* mac as text, "02:00:5e:00:00:01", in buf; returns buf. */
const char *pong_format_mac(const __u8 mac[6], char buf[PONG_MAC_TEXT])
{
	snprintf(buf, PONG_MAC_TEXT, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
	return buf;
}

/*
 * An interface name given as a systemd unit instance (the %i of
 * xdp-pong@.service), unescaped as systemd-escape(1) escaped it: "\xNN" is
 * the byte NN and '-' stands for '/'. Since no interface name holds a '/',
 * a '-' that was not escaped is an error. 0, or -EINVAL with out unchanged.
 */
int pong_unit_instance_name(const char *inst, char *out, size_t len)
{
	char name[IF_NAMESIZE];
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
		if (n + 1 >= sizeof(name) || n + 1 >= len)
			return -EINVAL;
		name[n++] = c;
	}
	if (n == 0)
		return -EINVAL;
	name[n] = '\0';
	memcpy(out, name, n + 1);
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

/*
 * Tell the service manager how we stand (sd_notify(3)'s protocol: one
 * datagram to $NOTIFY_SOCKET, a path or, with '@', an abstract name), e.g.
 * "READY=1". Nothing to do without $NOTIFY_SOCKET. 0 or -errno.
 */
int pong_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	int fd, err = 0;

	if (!path || !path[0])
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		err = -errno;
	close(fd);
	return err;
}

/*
 * The kernel's TAI offset (CLOCK_TAI - CLOCK_REALTIME, in seconds: 37 since 2017 where an NTP
 * daemon has told the kernel, else 0): the program takes IPv4 timestamps from CLOCK_TAI less it.
 */
__u8 pong_tai_offset(void)
{
	struct timex tx = { 0 };

	return adjtimex(&tx) >= 0 && tx.tai > 0 && tx.tai < 256 ? (__u8)tx.tai : 0;
}
