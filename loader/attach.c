// SPDX-License-Identifier: GPL-2.0
/* Finding, attaching and detaching xdp-pong on interfaces, through libxdp. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/if_arp.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xdp-pong.h"
#include "pong.skel.h"

static bool is_pong(const struct xdp_program *p)
{
	return p && strcmp(xdp_program__name(p), PONG_PROG_NAME) == 0;
}

/* Name some other program on the interface, for messages: "'name' (id N)". */
static void describe(char *buf, size_t len, const char *name, __u32 id)
{
	/*
	 * libxdp lists a dispatcher's programs from its bpffs pins. Seen as a
	 * single program, the dispatcher was attached where a bpffs was mounted
	 * and this process cannot see it (e.g. under `ip netns exec`).
	 */
	if (strcmp(name, "xdp_dispatcher") == 0)
		snprintf(buf, len, "libxdp's dispatcher (id %u), whose programs are listed in a bpffs "
			 "not mounted here; run where it was attached", id);
	else
		snprintf(buf, len, "'%s' (id %u)", name, id);
}

/*
 * For status: what xdp-pong found by pong_find() was loaded with (config) and
 * runs with now (settings, prefix count). Left unknown if it cannot be read.
 */
void pong_describe(struct pong_attachment *a)
{
	int fd;

	if (!a->attached)
		return;
	fd = bpf_prog_get_fd_by_id(a->prog_id);
	if (fd < 0)
		return;
	a->cfg_known = pong_read_config(fd, &a->cfg) == 0;
	if (pong_read_settings(fd, &a->settings) == 0)
		a->nprefixes = pong_prefix_count(fd);
	close(fd);
}

/* Under libxdp's dispatcher: the component programs, from libxdp (and its bpffs pins). */
static int find_in_dispatcher(int ifindex, struct pong_attachment *a)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p, *found = NULL;
	long err = libxdp_get_error(mp);

	if (err)
		return (int)err;
	if (xdp_multiprog__is_legacy(mp)) {
		/* the pins are not visible here: libxdp sees the dispatcher alone */
		p = xdp_multiprog__main_prog(mp);
		describe(a->other, sizeof(a->other), xdp_program__name(p), xdp_program__id(p));
	} else {
		a->shared = true;
		for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp)) {
			if (is_pong(p))
				found = p;
			else if (!a->other[0])
				describe(a->other, sizeof(a->other), xdp_program__name(p), xdp_program__id(p));
		}
	}
	if (found) {
		a->attached = true;
		a->prog_id = xdp_program__id(found);
	}
	xdp_multiprog__close(mp);
	return 0;
}

/*
 * What runs on ifindex: fills a (attached, mode, program id, and any other
 * program; pong_describe() adds config and settings). With prog_fd, also returns a new fd of
 * xdp-pong's program (-1 if none). Works without bpffs, and opens nothing it
 * does not close: the program comes from netlink (bpf_xdp_query), and libxdp
 * is asked only when a dispatcher runs there (its component list lives in
 * bpffs). Returns 0, or a negative errno when the interface cannot be queried.
 */
int pong_find(int ifindex, struct pong_attachment *a, int *prog_fd)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int fd, err;

	a->attached = false;
	a->cfg_known = false;
	a->nprefixes = -1;
	memset(&a->settings, 0, sizeof(a->settings));
	a->other[0] = '\0';
	a->shared = false;
	if (prog_fd)
		*prog_fd = -1;

	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err;
	switch (q.attach_mode) {
	case XDP_ATTACHED_NONE:
		return 0;
	case XDP_ATTACHED_SKB:
		a->mode = XDP_MODE_SKB;
		break;
	case XDP_ATTACHED_HW:
		a->mode = XDP_MODE_HW;
		break;
	default:   /* driver, or several at once: the driver's program is the one that sees frames first */
		a->mode = q.drv_prog_id ? XDP_MODE_NATIVE : q.skb_prog_id ? XDP_MODE_SKB : XDP_MODE_HW;
	}
	a->prog_id = q.prog_id ? q.prog_id : q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
	fd = bpf_prog_get_fd_by_id(a->prog_id);
	if (fd < 0)
		return -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (strcmp(info.name, "xdp_dispatcher") == 0) {
		close(fd);
		err = find_in_dispatcher(ifindex, a);
		if (err || !a->attached)
			return err;
		fd = bpf_prog_get_fd_by_id(a->prog_id);
		if (fd < 0)
			return -errno;
	} else if (strcmp(info.name, PONG_PROG_NAME) == 0) {
		a->attached = true;
	} else {
		describe(a->other, sizeof(a->other), info.name, a->prog_id);
		close(fd);
		return 0;
	}
	if (prog_fd)
		*prog_fd = fd;
	else
		close(fd);
	return 0;
}

static int iface_mac(const char *name, __u8 mac[6])
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		err = -errno;
	else if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		err = -EPFNOSUPPORT;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

static int record_write(const char *path, const int *ifindex, int n);

static int attach_one(const char *name, int ifindex, const __u8 mac[6],
		      const struct attach_opts *o)
{
	struct xdp_program *prog = NULL;
	struct pong *skel;
	long err;

	skel = pong__open();
	if (!skel) {
		err = -errno;
		pong_err("%s: cannot open the embedded BPF object: %s", name, strerror((int)-err));
		return (int)err;
	}
	memcpy((void *)skel->rodata->pong_cfg.mac, mac, 6);
	skel->rodata->pong_cfg.ttl = (__u8)o->ttl;
	/*
	 * Scoped from the first frame on: the prefix lists can only be filled
	 * once the program is loaded (by the attach), and until then an empty
	 * list refuses everything rather than answering everything.
	 */
	skel->bss->pong_settings.scoped = o->nprefixes > 0;
	pong_settings_set_limits((struct pong_settings *)&skel->bss->pong_settings, o->source_pps, o->global_pps);

	LIBBPF_OPTS(xdp_program_opts, xopts, .obj = skel->obj, .prog_name = PONG_PROG_NAME);
	prog = xdp_program__create(&xopts);
	err = libxdp_get_error(prog);
	if (err) {
		pong_err("%s: cannot prepare the XDP program: %s", name, strerror((int)-err));
		prog = NULL;
		goto out;
	}

	err = xdp_program__attach(prog, ifindex, o->mode, 0);
	if (err == -EOPNOTSUPP && o->mode == XDP_MODE_NATIVE)
		pong_err("%s: its driver has no native XDP support; --mode skb runs generic XDP instead (slower)", name);
	else if (err == -EEXIST || err == -EBUSY)
		pong_err("%s: another XDP program is attached and could not be shared; not replacing it", name);
	else if (err == -EPERM)
		pong_err("%s: permission denied loading the XDP program (need CAP_BPF and CAP_NET_ADMIN)", name);
	else if (err)
		pong_err("%s: attach failed: %s", name, strerror((int)-err));
	for (int i = 0; !err && i < o->nprefixes; i++) {
		char cidr[64];

		err = pong_prefix_add(xdp_program__fd(prog), &o->prefixes[i]);
		if (err == -EEXIST) {
			err = 0;       /* named twice: once is enough */
		} else if (err) {
			pong_format_cidr(&o->prefixes[i], cidr, sizeof(cidr));
			pong_err("%s: cannot add prefix %s: %s", name, cidr,
				 err == -ENOSPC ? "the prefix list is full" : strerror((int)-err));
			xdp_program__detach(prog, ifindex, o->mode, 0);
		}
	}
out:
	xdp_program__close(prog);
	pong__destroy(skel);
	return (int)err;
}

/* Detach xdp-pong from ifindex; with expect_id, only if it is that very program (else -ESTALE). */
static int detach_one(const char *name, int ifindex, __u32 expect_id)
{
	struct pong_attachment a;
	int fd, err = pong_find(ifindex, &a, &fd);

	if (err) {
		pong_err("%s: cannot query XDP programs: %s", name, strerror(-err));
		return err;
	}
	if (!a.attached) {
		if (!expect_id)
			pong_err("%s: xdp-pong is not attached", name);
		return -ENOENT;
	}
	if (expect_id && a.prog_id != expect_id) {
		close(fd);
		return -ESTALE;
	}
	if (a.shared) {
		/* under libxdp's dispatcher: libxdp removes our component only */
		struct xdp_program *p = xdp_program__from_fd(fd);

		err = (int)libxdp_get_error(p);
		if (!err) {
			err = xdp_program__detach(p, ifindex, a.mode, 0);
			xdp_program__close(p);
		}
	} else {
		/* alone on the interface: detach it only if it is still this very program */
		__u32 flags = a.mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE :
			      a.mode == XDP_MODE_HW ? XDP_FLAGS_HW_MODE : XDP_FLAGS_DRV_MODE;
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = fd);

		err = bpf_xdp_detach(ifindex, flags | XDP_FLAGS_REPLACE, &opts);
	}
	if (err)
		pong_err("%s: detach failed: %s", name, strerror((int)-err));
	close(fd);
	return err;
}

/*
 * Attach to every interface or to none: all are checked first, and if one
 * attach still fails, those attached by this call are detached again.
 */
int pong_attach(char **names, int n, const struct attach_opts *o)
{
	int ifindex[PONG_MAX_IFACES];
	__u8 mac[PONG_MAX_IFACES][6];
	int done;

	if (pong_parse_ifaces(names, n, ifindex))
		return 1;
	for (int i = 0; i < n; i++) {
		struct pong_attachment a;
		int err = iface_mac(names[i], mac[i]);

		if (err == -EPFNOSUPPORT) {
			pong_err("%s: not an Ethernet interface; xdp-pong answers on Ethernet only", names[i]);
			return 1;
		} else if (err) {
			pong_err("%s: cannot read its MAC address: %s", names[i], strerror(-err));
			return 1;
		}
		err = pong_find(ifindex[i], &a, NULL);
		if (err) {
			pong_err("%s: cannot query XDP programs: %s", names[i], strerror(-err));
			return 1;
		}
		if (a.attached) {
			pong_err("%s: xdp-pong is already attached (program id %u)", names[i], a.prog_id);
			return 1;
		}
		if (a.other[0] && !a.shared) {
			/* libxdp never replaces a program attached without its dispatcher */
			pong_err("%s: another XDP program is attached, %s; xdp-pong will not replace it",
				 names[i], a.other);
			return 1;
		}
	}

	for (done = 0; done < n; done++) {
		if (attach_one(names[done], ifindex[done], mac[done], o))
			break;
	}
	if (done == n && !o->record)
		return 0;
	if (done == n && o->record && record_write(o->record, ifindex, n) == 0)
		return 0;
	/* roll back quietly: the error above already says why nothing is attached */
	while (done-- > 0)
		detach_one(names[done], ifindex[done], 0);
	return 1;
}

/* Detach from every named interface; all must carry xdp-pong, checked first. */
int pong_detach(char **names, int n)
{
	int ifindex[PONG_MAX_IFACES];
	int failed = 0;

	if (pong_parse_ifaces(names, n, ifindex))
		return 1;
	for (int i = 0; i < n; i++) {
		struct pong_attachment a;
		int err = pong_find(ifindex[i], &a, NULL);

		if (err) {
			pong_err("%s: cannot query XDP programs: %s", names[i], strerror(-err));
			return 1;
		}
		if (!a.attached) {
			pong_err("%s: xdp-pong is not attached%s%s", names[i],
				 a.other[0] ? "; it runs another XDP program, left alone: " : "", a.other);
			return 1;
		}
	}
	for (int i = 0; i < n; i++)
		failed |= detach_one(names[i], ifindex[i], 0) != 0;
	return failed;
}

/*
 * The record of an attach (attach --record FILE): one line per interface,
 * "IFINDEX PROGRAM_ID", naming exactly the programs that call attached.
 * Program ids are not reused, so `detach --recorded FILE` can tell them from
 * anything attached later by someone else. Written to a temporary file and
 * renamed: the record is whole or absent.
 */
static int record_write(const char *path, const int *ifindex, int n)
{
	char tmp[4096];
	FILE *f;
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		pong_err("%s: path too long", path);
		return -ENAMETOOLONG;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		err = -errno;
		pong_err("cannot write the record %s: %s", path, strerror(-err));
		return err;
	}
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		goto fail;
	}
	for (int i = 0; i < n; i++) {
		struct pong_attachment a;

		err = pong_find(ifindex[i], &a, NULL);
		if (!err && !a.attached)
			err = -ENOENT;    /* detached already, by someone else */
		if (err) {
			fclose(f);
			goto fail;
		}
		fprintf(f, "%d %u\n", ifindex[i], a.prog_id);
	}
	if (fflush(f) || fsync(fileno(f)))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (!err)
		return 0;
fail:
	unlink(tmp);
	pong_err("cannot write the record %s: %s", path, strerror(-err));
	return err;
}

/*
 * Detach what `attach --record FILE` attached, where it is still attached,
 * and remove FILE. Whatever runs there now that this record did not attach
 * is left alone. No FILE: nothing to do. Returns 0, 1 after an error.
 */
int pong_detach_recorded(const char *path)
{
	char line[128];
	int failed = 0, lineno = 0;
	FILE *f = fopen(path, "re");

	if (!f) {
		if (errno == ENOENT)
			return 0;
		pong_err("cannot read the record %s: %s", path, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		char name[IF_NAMESIZE] = "";
		int ifindex, end = 0, err;
		unsigned id;

		lineno++;
		if (sscanf(line, "%d %u%n", &ifindex, &id, &end) != 2 || ifindex <= 0 || !id ||
		    (line[end] != '\n' && line[end] != '\0')) {
			pong_err("%s:%d: not a record of xdp-pong attach --record; left alone", path, lineno);
			fclose(f);
			return 1;
		}
		if (!if_indextoname((unsigned)ifindex, name))
			continue;    /* the interface is gone, and the program with it */
		err = detach_one(name, ifindex, id);
		if (err == -ESTALE || err == -ENOENT) {
			pong_err("%s: the program recorded in %s (id %u) is no longer attached; nothing detached",
				 name, path, id);
		} else if (err) {
			failed = 1;
		} else {
			char text[4 * IF_NAMESIZE];

			printf("xdp-pong detached from %s (program id %u)\n", pong_name_text(name, text, sizeof(text)), id);
		}
	}
	fclose(f);
	if (!failed && unlink(path) && errno != ENOENT) {
		pong_err("cannot remove the record %s: %s", path, strerror(errno));
		failed = 1;
	}
	return failed;
}
