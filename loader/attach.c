// SPDX-License-Identifier: GPL-2.0
/*
 * Floor 3: attaching and detaching xdp-pong, all or nothing, and the records
 * of what an attach attached (attach --record, detach --recorded), which
 * let a supervisor remove exactly its own programs.
 *
 * One program per interface, loaded from the skeleton embedded in the
 * binary, with the reply TTL in .rodata, the interface's MAC in .data.iface
 * and the initial settings in .data.settings. attach goes through libxdp (which joins
 * its dispatcher where the kernel allows one, and attaches alone otherwise)
 * and the program stays when the command exits; run holds its programs
 * through BPF links (pong_hold()), which detach when it ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xdp-pong.h"
#include "pong.skel.h"

/*
 * Open the embedded object and set what this instance answers with: the
 * interface's MAC, the TTL, whether it is a veth (lib/csum.h), the limiter's seed
 * and the initial settings.
 * Not loaded yet. NULL with why on failure.
 */
static struct pong *prepare(const char *name, int ifindex, const __u8 mac[6], const struct pong_attach_opts *o,
			    struct pong_why *why, int *errp)
{
	struct pong *skel = pong__open();

	if (!skel) {
		*errp = -errno;
		pong_why(why, "%s: cannot open the embedded BPF object: %s", name, strerror(-*errp));
		return NULL;
	}
	memcpy((void *)skel->data_iface->pong_iface.mac, mac, 6);
	/* every address the host's until pong_own_sync() has written them (xdp/pong.h) */
	memset((void *)skel->data_own->pong_own_filter.bits, 0xff, sizeof(skel->data_own->pong_own_filter.bits));
	skel->data_own->pong_own_filter.ready = 0;
	skel->rodata->pong_cfg.ttl = (__u8)o->ttl;
	skel->rodata->pong_cfg.partial_csum = pong_link_is_veth(ifindex) == 1;
	skel->data_iface->pong_iface.tai_s = pong_tai_offset();
	/* the rate limiter's hash: unknown outside, so a flood cannot aim at one source's bucket; the
	 * replies' own, apart from it */
	if (getrandom((void *)&skel->rodata->pong_cfg.seed, sizeof(skel->rodata->pong_cfg.seed), 0) < 0 ||
	    getrandom((void *)&skel->rodata->pong_cfg.reply_seed, sizeof(skel->rodata->pong_cfg.reply_seed), 0) < 0) {
		*errp = -errno;
		pong_why(why, "%s: cannot get random bytes: %s", name, strerror(-*errp));
		pong__destroy(skel);
		return NULL;
	}
	/* scoped from the first frame on if prefixes are given; nothing is claimed before run's probes */
	pong_settings_initial((struct pong_settings *)&skel->data_settings->pong_settings, &o->settings, o->nprefixes);
	return skel;
}

/* why for a failed attach of name (err from libxdp or the kernel) */
static void attach_failed(struct pong_why *why, const char *name, int err, enum xdp_attach_mode mode)
{
	if (err == -EOPNOTSUPP && mode == XDP_MODE_NATIVE)
		pong_why(why, "%s: its driver has no native XDP support; --mode skb runs generic XDP instead (slower)",
			 name);
	else if (err == -EEXIST || err == -EBUSY)
		pong_why(why, "%s: another XDP program is attached and could not be shared; not replacing it", name);
	else if (err == -EPERM || err == -EACCES)
		/* EACCES: the verifier, which without CAP_PERFMON refuses some of the program's pointer arithmetic */
		pong_why(why, "%s: permission denied loading the XDP program (it needs CAP_BPF, CAP_PERFMON and "
			 "CAP_NET_ADMIN)", name);
	else if (err == -ENOSYS)
		/* a container's seccomp profile answers a refused bpf() with ENOSYS (scripts/container/README.md) */
		pong_why(why, "%s: the bpf() system call is not available: refused by a seccomp profile, or a kernel "
			 "without BPF", name);
	else
		pong_why(why, "%s: attach failed: %s", name, strerror(-err));
}

/* why for a prefix the program's list did not take (err from pong_scope_fill), and what followed */
static void prefix_failed(struct pong_why *why, const char *name, const struct pong_cidr *p, int err,
			  const char *then)
{
	char cidr[64];

	pong_format_cidr(p, cidr, sizeof(cidr));
	pong_why(why, "%s: cannot add prefix %s: %s%s", name, cidr,
		 err == -ENOSPC ? "the prefix list is full" : strerror(-err), then);
}

/* why for the host's addresses not read, or not written into the program, and what followed */
static void own_failed(struct pong_why *why, const char *name, int err, const char *then)
{
	if (err == -E2BIG)
		pong_why(why, "%s: the host has more than %d addresses of one family: xdp-pong cannot know them all, "
			 "and would answer for some%s", name, PONG_OWN_MAX, then);
	else
		pong_why(why, "%s: cannot give the program the host's own addresses: %s%s", name, strerror(-err), then);
}

/*
 * The host's own addresses, read once for all the interfaces of a command:
 * the set (to free), or NULL with *errp and why.
 */
static struct pong_own_set *own_read(const char *name, int *errp, struct pong_why *why)
{
	struct pong_own_set *set = malloc(sizeof(*set));

	*errp = set ? pong_own_read(set) : -ENOMEM;
	if (*errp) {
		own_failed(why, name, *errp, "; nothing attached");
		free(set);
		return NULL;
	}
	return set;
}

/*
 * Load and attach one instance through libxdp, the host's addresses own
 * written into it; its program id in *prog_id. 0, or -errno with why.
 */
static int attach_one(const char *name, int ifindex, const __u8 mac[6], const struct pong_attach_opts *o,
		      const struct pong_own_set *own, __u32 *prog_id, struct pong_why *why)
{
	struct xdp_program *prog = NULL;
	struct pong *skel;
	int failed, perr = 0;
	long err;

	skel = prepare(name, ifindex, mac, o, why, &perr);
	if (!skel)
		return perr;

	LIBBPF_OPTS(xdp_program_opts, xopts, .obj = skel->obj, .prog_name = PONG_PROG_NAME);
	prog = xdp_program__create(&xopts);
	err = libxdp_get_error(prog);
	if (err) {
		pong_why(why, "%s: cannot prepare the XDP program: %s", name, strerror((int)-err));
		prog = NULL;
		goto out;
	}
	err = xdp_program__attach(prog, ifindex, o->mode, 0);
	if (err) {
		attach_failed(why, name, (int)err, o->mode);
		goto out;
	}
	*prog_id = xdp_program__id(prog);
	err = pong_scope_fill(xdp_program__fd(prog), o->prefixes, o->nprefixes, &failed);
	if (err) {
		prefix_failed(why, name, &o->prefixes[failed], (int)err,
			      xdp_program__detach(prog, ifindex, o->mode, 0) ?
			      "; and it could not be detached again: detach it by hand" : "");
		goto out;
	}
	err = pong_own_write(xdp_program__fd(prog), own);
	if (err)
		own_failed(why, name, (int)err, xdp_program__detach(prog, ifindex, o->mode, 0) ?
			   "; and it could not be detached again: detach it by hand" : "");
out:
	xdp_program__close(prog);
	pong__destroy(skel);
	return (int)err;
}

/*
 * Detach xdp-pong from ifindex; with expect_id, only if it is that very
 * program (else -ESTALE, and nothing is touched). -ENOENT: not attached.
 */
static int detach_one(const char *name, int ifindex, __u32 expect_id, struct pong_why *why)
{
	struct pong_attachment a;
	int fd, err = pong_find(ifindex, &a, &fd);

	if (!err && !a.attached)
		err = -ENOENT;
	if (err) {
		pong_explain(why, name, err, &a);
		return err;
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
		/* alone on the interface: detached only if it is still this very program */
		__u32 flags = a.mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE :
			      a.mode == XDP_MODE_HW ? XDP_FLAGS_HW_MODE : XDP_FLAGS_DRV_MODE;
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = fd);

		err = bpf_xdp_detach(ifindex, flags | XDP_FLAGS_REPLACE, &opts);
	}
	if (err == -EBUSY && !a.shared)
		/* the kernel detaches a link's program only with the link */
		pong_why(why, "%s: xdp-pong (id %u) is held by a BPF link, as 'xdp-pong run' attaches it: stop that "
			 "process (or 'bpftool link detach') instead", name, a.prog_id);
	else if (err)
		pong_why(why, "%s: detach failed: %s", name, strerror(-err));
	close(fd);
	return err;
}

/* The warning of attach and run without --prefix or --unclaimed: every address is answered. */
void pong_warn_unscoped(const struct pong_attach_opts *o, char *const *names, int n)
{
	if (!o->nprefixes && o->settings.unclaimed != 1)      /* pong_err() escapes the line */
		pong_err("warning: no --prefix: every address that reaches %s%s is answered, other hosts' included",
			 names[0], n > 1 ? " (and the others)" : "");
}

/*
 * The record of an attach: one line per interface, "IFINDEX PROGRAM_ID",
 * naming exactly the programs that call attached. Program ids are not
 * reused, so `detach --recorded` can tell them from anything attached later
 * by someone else. Written whole or not at all (pong_write_whole()).
 */
struct record {
	const int *ifindex;
	const __u32 *prog_id;
	int n;
};

static void record_lines(FILE *f, const void *arg)
{
	const struct record *r = arg;

	for (int i = 0; i < r->n; i++)
		fprintf(f, "%d %u\n", r->ifindex[i], r->prog_id[i]);
}

static int record_write(const char *path, const int *ifindex, const __u32 *prog_id, int n, struct pong_why *why)
{
	const struct record r = { ifindex, prog_id, n };
	/* linked, not renamed: an existing record names programs someone may still have to detach */
	int err = pong_write_whole(path, 0600, PONG_WHOLE_NEW, record_lines, &r);

	if (err == -EEXIST)
		pong_why(why, "cannot write the record %s: it exists (detach --recorded it first)", path);
	else if (err)
		pong_why(why, "cannot write the record %s: %s", path, strerror(-err));
	return err;
}

/*
 * Before attaching anything: every interface exists, is Ethernet (its MAC
 * read into mac[]) and runs neither xdp-pong nor a program xdp-pong would
 * have to replace. 0, or -errno with why.
 */
static int precheck(char *const *names, int n, int *ifindex, __u8 (*mac)[6], struct pong_why *why)
{
	int err = pong_parse_ifaces(names, n, ifindex, why);

	if (err)
		return err;
	for (int i = 0; i < n; i++) {
		struct pong_attachment a;

		err = pong_link_mac(ifindex[i], mac[i]);
		if (err == -EPFNOSUPPORT) {
			pong_why(why, "%s: not an Ethernet interface; xdp-pong answers on Ethernet only", names[i]);
			return err;
		} else if (err) {
			pong_why(why, "%s: cannot read its MAC address: %s", names[i], strerror(-err));
			return err;
		}
		err = pong_find(ifindex[i], &a, NULL);
		if (err) {
			pong_explain(why, names[i], err, &a);
			return err;
		}
		if (a.attached) {
			pong_why(why, "%s: xdp-pong is already attached (program id %u)", names[i], a.prog_id);
			return -EEXIST;
		}
		if (a.other[0] && !a.shared) {
			/* libxdp never replaces a program attached without its dispatcher */
			pong_why(why, "%s: another XDP program is attached, %s; xdp-pong will not replace it",
				 names[i], a.other);
			return -EBUSY;
		}
	}
	return 0;
}

/*
 * Attach to every interface or to none: all are checked first, and if one
 * attach (or the record) still fails, those attached by this call are
 * detached again. 0, or -errno with why.
 */
int pong_attach(char *const *names, int n, const struct pong_attach_opts *o, struct pong_why *why)
{
	int ifindex[PONG_MAX_IFACES];
	__u8 mac[PONG_MAX_IFACES][6];
	__u32 prog_id[PONG_MAX_IFACES];
	struct pong_own_set *own;
	int done, err = precheck(names, n, ifindex, mac, why);

	if (err)
		return err;
	own = own_read(names[0], &err, why);
	if (!own)
		return err;
	for (done = 0; done < n; done++) {
		err = attach_one(names[done], ifindex[done], mac[done], o, own, &prog_id[done], why);
		if (err)
			break;
	}
	free(own);
	if (!err && o->record)
		err = record_write(o->record, ifindex, prog_id, n, why);
	if (!err)
		return 0;
	/* roll back quietly (why already says why), unless the rollback fails too */
	while (done-- > 0) {
		struct pong_why ignored;

		if (detach_one(names[done], ifindex[done], prog_id[done], &ignored)) {
			size_t len = strlen(why->text);

			snprintf(why->text + len, sizeof(why->text) - len, "; %s is still attached (id %u): "
				 "detach it by hand", names[done], prog_id[done]);
		}
	}
	return err;
}

/* Detach from every named interface; all must carry xdp-pong, checked first. 0, or -errno with why. */
int pong_detach(char *const *names, int n, struct pong_why *why)
{
	int ifindex[PONG_MAX_IFACES];
	int failed = 0, err = pong_parse_ifaces(names, n, ifindex, why);

	if (err)
		return err;
	for (int i = 0; i < n; i++) {
		struct pong_attachment a;

		err = pong_find(ifindex[i], &a, NULL);
		if (!err && !a.attached)
			err = -ENOENT;
		if (err) {
			pong_explain(why, names[i], err, &a);
			return err;
		}
	}
	for (int i = 0; i < n; i++) {
		err = detach_one(names[i], ifindex[i], 0, why);
		if (err && !failed)
			failed = err;
	}
	return failed;
}

/*
 * Detach what `attach --record path` attached, where that very program is
 * still attached, then remove the record. Whatever runs there that the
 * record did not attach is left alone. No record: nothing to do. Each
 * recorded interface is reported in done[] (*ndone of them). 0, or -errno
 * with why.
 */
int pong_detach_recorded(const char *path, struct pong_recorded *done, int *ndone, struct pong_why *why)
{
	struct { int ifindex; unsigned id; } rec[PONG_MAX_IFACES];
	char line[128];
	int n = 0, err = 0, lineno = 0;
	struct stat st;
	FILE *f;
	int fd;

	*ndone = 0;
	/* a regular file only: anything else is refused before it is opened (opening a device can do
	 * something), and opened without blocking (a FIFO swapped in meanwhile cannot hang it) */
	if (stat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		err = -errno;
		pong_why(why, "cannot read the record %s: %s", path, strerror(-err));
		return err;
	}
	fd = S_ISREG(st.st_mode) ? open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY) : -1;
	if (fd >= 0 && (fstat(fd, &st) || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
		errno = EINVAL;
	}
	if (fd < 0) {
		err = S_ISREG(st.st_mode) && errno != EINVAL ? -errno : -EINVAL;
		if (err == -EINVAL)
			pong_why(why, "%s: not a record of xdp-pong attach --record (not a regular file); nothing "
				 "detached", path);
		else
			pong_why(why, "cannot read the record %s: %s", path, strerror(-err));
		return err;
	}
	f = fdopen(fd, "r");
	if (!f) {
		err = -errno;
		close(fd);
		pong_why(why, "cannot read the record %s: %s", path, strerror(-err));
		return err;
	}
	/* all of it read and checked first: a bad record is left whole, nothing detached */
	while (fgets(line, sizeof(line), f)) {
		int end = 0;

		lineno++;
		if (n == PONG_MAX_IFACES || sscanf(line, "%d %u%n", &rec[n].ifindex, &rec[n].id, &end) != 2 ||
		    rec[n].ifindex <= 0 || !rec[n].id || (line[end] != '\n' && line[end] != '\0')) {
			pong_why(why, "%s:%d: not a record of xdp-pong attach --record; nothing detached", path, lineno);
			fclose(f);
			return -EINVAL;
		}
		n++;
	}
	fclose(f);
	for (int i = 0; i < n; i++) {
		struct pong_recorded *r = &done[(*ndone)++];
		struct pong_why one = { "" };
		int e;

		memset(r, 0, sizeof(*r));
		r->prog_id = rec[i].id;
		if (!if_indextoname((unsigned)rec[i].ifindex, r->name)) {
			r->outcome = PONG_RECORD_GONE;   /* the interface is gone, and the program with it */
			continue;
		}
		e = detach_one(r->name, rec[i].ifindex, rec[i].id, &one);
		r->outcome = !e ? PONG_RECORD_DETACHED : e == -ESTALE || e == -ENOENT ? PONG_RECORD_NOT_THERE :
			     PONG_RECORD_FAILED;
		if (r->outcome == PONG_RECORD_FAILED && !err) {
			err = e;
			*why = one;
		}
	}
	if (!err && unlink(path) && errno != ENOENT) {
		err = -errno;
		pong_why(why, "cannot remove the record %s: %s", path, strerror(-err));
	}
	return err;
}

/* ---- attachments held by this process (run) ---- */

static __u32 mode_flags(enum xdp_attach_mode mode)
{
	return mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : mode == XDP_MODE_HW ? XDP_FLAGS_HW_MODE : XDP_FLAGS_DRV_MODE;
}

/*
 * Load one instance, fill its scope, write the host's addresses (own) into
 * it, then attach it through a BPF link. 0, or -errno with why.
 */
static int hold_one(const char *name, int ifindex, const __u8 mac[6], const struct pong_attach_opts *o,
		    const struct pong_own_set *own, struct pong_held *h, struct pong_why *why)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	struct pong *skel;
	int err = 0, failed, prog_fd, link_fd;

	skel = prepare(name, ifindex, mac, o, why, &err);
	if (!skel)
		return err;
	err = pong__load(skel);
	if (err) {
		attach_failed(why, name, err, o->mode);
		goto fail;
	}
	prog_fd = bpf_program__fd(skel->progs.xdp_pong);
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len)) {
		err = -errno;
		pong_why(why, "%s: cannot read the loaded program's id: %s", name, strerror(-err));
		goto fail;
	}
	err = pong_own(info.id, prog_fd, skel->obj);
	if (err) {
		pong_why(why, "%s: too many programs held", name);
		goto fail;
	}
	/* the scope and the host's addresses before the first frame: attached last, the program is whole
	 * when it starts */
	err = pong_scope_fill(prog_fd, o->prefixes, o->nprefixes, &failed);
	if (err) {
		prefix_failed(why, name, &o->prefixes[failed], err, "");
		goto disown;
	}
	err = pong_own_write(prog_fd, own);
	if (err) {
		own_failed(why, name, err, "");
		goto disown;
	}
	{
		LIBBPF_OPTS(bpf_link_create_opts, lo, .flags = mode_flags(o->mode));

		link_fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &lo);
	}
	if (link_fd < 0) {
		err = -errno;
		attach_failed(why, name, err, o->mode);
		goto disown;
	}
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->ifindex = ifindex;
	h->prog_id = info.id;
	h->prog_fd = prog_fd;
	h->link_fd = link_fd;
	h->skel = skel;
	memcpy(h->mac, mac, 6);
	h->tai_s = skel->data_iface->pong_iface.tai_s;
	return 0;
disown:
	pong_disown(info.id);
fail:
	pong__destroy(skel);
	return err;
}

/*
 * Attach to every interface or to none, each through a BPF link this
 * process holds: the program stays attached exactly as long as the process
 * lives (killed, it leaves nothing attached: the kernel detaches a link when
 * its last fd closes), and nothing can replace it meanwhile (the kernel
 * refuses to replace a link's program through netlink). held[] gets one
 * entry per interface. 0, or -errno with why.
 */
int pong_hold(char *const *names, int n, const struct pong_attach_opts *o, struct pong_held *held, struct pong_why *why)
{
	int ifindex[PONG_MAX_IFACES];
	__u8 mac[PONG_MAX_IFACES][6];
	struct pong_own_set *own;
	int done, err = precheck(names, n, ifindex, mac, why);

	if (err)
		return err;
	own = own_read(names[0], &err, why);
	if (!own)
		return err;
	memset(held, 0, (size_t)n * sizeof(*held));
	for (done = 0; done < n; done++) {
		err = hold_one(names[done], ifindex[done], mac[done], o, own, &held[done], why);
		if (err)
			break;
	}
	free(own);
	if (err)
		pong_release(held, done);
	return err;
}

/*
 * Whether h's program is still attached: 1, or 0 when its link lost the
 * interface (removed, or the link detached with bpftool), or -errno. The
 * name follows a renamed interface.
 */
int pong_held_attached(struct pong_held *h)
{
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof(info);
	char name[IF_NAMESIZE];

	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err;

	if (bpf_obj_get_info_by_fd(h->link_fd, &info, &len))
		return -errno;
	if (info.type != BPF_LINK_TYPE_XDP || (int)info.xdp.ifindex != h->ifindex || info.prog_id != h->prog_id)
		return 0;
	/*
	 * The link follows its interface into another network namespace; here,
	 * the interface of that index must still carry our program (a moved
	 * interface is gone from this namespace, and a new one may take its index).
	 */
	err = bpf_xdp_query(h->ifindex, 0, &q);
	if (err == -ENODEV || (!err && q.drv_prog_id != h->prog_id && q.skb_prog_id != h->prog_id))
		return 0;
	if (err)
		return err;
	if (if_indextoname((unsigned)h->ifindex, name))
		memcpy(h->name, name, sizeof(name));
	return 1;
}

/*
 * Follow the interface's MAC and the kernel's TAI offset: if either changed,
 * the program answers as the new MAC, and stamps times with the new offset,
 * from the next frame on. 1 if the MAC changed (the previous one in old), 0
 * if not, -errno if it cannot be read or written.
 */
int pong_held_follow(struct pong_held *h, __u8 old[6])
{
	__u8 now[6], tai_s = pong_tai_offset();
	int err = pong_link_mac(h->ifindex, now);

	if (err)
		return err;
	if (!memcmp(now, h->mac, 6) && tai_s == h->tai_s)
		return 0;
	err = pong_write_iface(h->prog_fd, now, tai_s);
	if (err)
		return err;
	h->tai_s = tai_s;
	if (!memcmp(now, h->mac, 6))
		return 0;
	memcpy(old, h->mac, 6);
	memcpy(h->mac, now, 6);
	return 1;
}

/* Detach and unload what pong_hold() attached (closing a link detaches its program). */
void pong_release(struct pong_held *held, int n)
{
	for (int i = 0; i < n; i++) {
		if (!held[i].skel)
			continue;
		pong_disown(held[i].prog_id);
		close(held[i].link_fd);
		pong__destroy(held[i].skel);
		held[i].skel = NULL;
	}
}
