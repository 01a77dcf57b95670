// SPDX-License-Identifier: GPL-2.0
/*
 * Floor 1, the bottom of the loader: find xdp-pong on an interface, open
 * its maps, read its config and counters; and own its settings (reading,
 * writing, the layout check, the initial settings from the options, and
 * applying a change: nothing else writes them).
 *
 * Nothing is pinned. The program is found through the interface (netlink,
 * bpf_xdp_query) and its maps through the program (program -> map ids ->
 * map by name), so every command works after the attaching process has
 * exited, inside `ip netns exec` (where /sys, and any bpffs under it, is a
 * fresh mount) and without a bpffs at all. libxdp is asked only when its
 * dispatcher runs on the interface: the dispatcher's component list lives in
 * a bpffs.
 *
 * Programs this process loaded and holds itself (`run`) are registered here
 * (pong_own()): finding them and their maps then needs no
 * BPF_PROG_GET_FD_BY_ID or BPF_MAP_GET_FD_BY_ID, which take CAP_SYS_ADMIN,
 * so `run` needs only CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "xdp-pong.h"

#define MAX_PROG_MAPS 32   /* maps a program of ours has: 17 now */

/*
 * Programs this process holds: id -> its fd and the object its maps belong
 * to. `run` reads it from the /metrics thread while its main thread adds and
 * removes entries: every access holds own_lock, and an entry is removed
 * (pong_disown) before its object is destroyed, so a reader that found it
 * is done with the object before it goes.
 */
static pthread_mutex_t own_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	__u32 id;
	int prog_fd;
	const struct bpf_object *obj;
} own[PONG_MAX_IFACES];

/* Register a program this process loaded (the fd and object stay its caller's). -ENOSPC if full. */
int pong_own(__u32 prog_id, int prog_fd, const struct bpf_object *obj)
{
	int err = -ENOSPC;

	pthread_mutex_lock(&own_lock);
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		if (!own[i].id) {
			own[i].id = prog_id;
			own[i].prog_fd = prog_fd;
			own[i].obj = obj;
			err = 0;
			break;
		}
	}
	pthread_mutex_unlock(&own_lock);
	return err;
}

void pong_disown(__u32 prog_id)
{
	pthread_mutex_lock(&own_lock);
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (own[i].id == prog_id)
			own[i].id = 0;
	pthread_mutex_unlock(&own_lock);
}

/* With own_lock held. */
static int own_index(__u32 prog_id)
{
	for (size_t i = 0; prog_id && i < sizeof(own) / sizeof(own[0]); i++)
		if (own[i].id == prog_id)
			return (int)i;
	return -1;
}

/* A new fd of program id: a copy of our own, or from the kernel (CAP_SYS_ADMIN). -errno on failure. */
int pong_prog_fd_by_id(__u32 id)
{
	int i, fd;

	pthread_mutex_lock(&own_lock);
	i = own_index(id);
	fd = i >= 0 ? fcntl(own[i].prog_fd, F_DUPFD_CLOEXEC, 0) : -1;
	pthread_mutex_unlock(&own_lock);
	if (i < 0)
		fd = bpf_prog_get_fd_by_id(id);
	return fd < 0 ? -errno : fd;
}

static bool is_pong(const struct xdp_program *p)
{
	return p && strcmp(xdp_program__name(p), PONG_PROG_NAME) == 0;
}

/* Name some other program on the interface, for messages: "'name' (id N)". */
static void describe_other(char *buf, size_t len, const char *name, __u32 id)
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
		describe_other(a->other, sizeof(a->other), xdp_program__name(p), xdp_program__id(p));
	} else {
		a->shared = true;
		for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp)) {
			if (is_pong(p))
				found = p;
			else if (!a->other[0])
				describe_other(a->other, sizeof(a->other), xdp_program__name(p), xdp_program__id(p));
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
 * What runs on ifindex: fills a (attached, mode, program id, any other
 * program; pong_describe() adds config and settings). With prog_fd, also
 * returns a new fd of xdp-pong's program (-1 if none). Opens nothing it does
 * not close. Returns 0, or -errno when the interface cannot be queried.
 */
int pong_find(int ifindex, struct pong_attachment *a, int *prog_fd)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int fd, err;

	a->ifindex = ifindex;
	a->attached = false;
	a->cfg_known = false;
	a->mac_known = false;
	a->link_mac_known = false;
	a->nprefixes = -1;
	a->own_unknown = -1;
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
	default:   /* driver, or several at once: the driver's program sees frames first */
		a->mode = q.drv_prog_id ? XDP_MODE_NATIVE : q.skb_prog_id ? XDP_MODE_SKB : XDP_MODE_HW;
	}
	a->prog_id = q.prog_id ? q.prog_id : q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id;
	fd = pong_prog_fd_by_id(a->prog_id);
	if (fd == -EPERM) {
		/* without CAP_SYS_ADMIN a program we did not load cannot be opened: not ours to touch */
		snprintf(a->other, sizeof(a->other), "a program (id %u) this process may not inspect", a->prog_id);
		return 0;
	}
	if (fd < 0)
		return fd;
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
		fd = pong_prog_fd_by_id(a->prog_id);
		if (fd < 0)
			return fd;
	} else if (strcmp(info.name, PONG_PROG_NAME) == 0) {
		a->attached = true;
	} else {
		describe_other(a->other, sizeof(a->other), info.name, a->prog_id);
		close(fd);
		return 0;
	}
	if (prog_fd)
		*prog_fd = fd;
	else
		close(fd);
	return 0;
}

/*
 * xdp-pong on the interface called name: fills a (name included) and, with
 * prog_fd, returns a new fd of the program. -ENODEV: no such interface;
 * -ENOENT: xdp-pong is not attached (a->other says what runs there, if
 * anything); other -errno: the interface cannot be queried.
 * pong_explain() turns each into its sentence.
 */
int pong_open(const char *name, struct pong_attachment *a, int *prog_fd)
{
	int err, ifindex = strlen(name) < IF_NAMESIZE ? (int)if_nametoindex(name) : 0;

	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "%s", name);
	if (prog_fd)
		*prog_fd = -1;
	if (!ifindex)
		return -ENODEV;
	err = pong_find(ifindex, a, prog_fd);
	if (!err && !a->attached)
		err = -ENOENT;
	return err;
}

/* The one sentence for what pong_open() or pong_find() returned about the interface name. */
void pong_explain(struct pong_why *why, const char *name, int err, const struct pong_attachment *a)
{
	if (err == -ENODEV)
		pong_why(why, "no such interface: %s", name);
	else if (err == -ENOENT)
		pong_why(why, "%s: xdp-pong is not attached%s%s", name,
			 a && a->other[0] ? "; it runs another XDP program, left alone: " : "", a ? a->other : "");
	else
		pong_why(why, "%s: cannot query XDP programs: %s", name, strerror(-err));
}

/* A new fd of the map of the program whose name ends with suffix, or -errno. */
int pong_prog_map_fd(int prog_fd, const char *suffix, struct bpf_map_info *minfo)
{
	__u32 ids[MAX_PROG_MAPS];
	struct bpf_prog_info info = {
		.nr_map_ids = MAX_PROG_MAPS,
		.map_ids = (__u64)(unsigned long)ids,
	};
	__u32 len = sizeof(info);
	size_t slen = strlen(suffix);

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	pthread_mutex_lock(&own_lock);
	int o = own_index(info.id);
	if (o >= 0) {
		struct bpf_map *map;
		int fd = -ENOENT;

		/* a copy of our own map's fd, taken while the object surely exists */
		bpf_object__for_each_map(map, own[o].obj) {
			const char *name = bpf_map__name(map);
			size_t nlen = strlen(name);

			if (nlen >= slen && strcmp(name + nlen - slen, suffix) == 0) {
				fd = fcntl(bpf_map__fd(map), F_DUPFD_CLOEXEC, 0);
				if (fd < 0)
					fd = -errno;
				break;
			}
		}
		pthread_mutex_unlock(&own_lock);
		if (fd >= 0) {
			__u32 mlen = sizeof(*minfo);

			memset(minfo, 0, sizeof(*minfo));
			if (bpf_obj_get_info_by_fd(fd, minfo, &mlen)) {
				int err = -errno;

				close(fd);
				return err;
			}
		}
		return fd;
	}
	pthread_mutex_unlock(&own_lock);
	for (__u32 i = 0; i < info.nr_map_ids && i < MAX_PROG_MAPS; i++) {
		__u32 mlen = sizeof(*minfo);
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		memset(minfo, 0, sizeof(*minfo));
		if (bpf_obj_get_info_by_fd(fd, minfo, &mlen) == 0) {
			size_t nlen = strlen(minfo->name);

			if (nlen >= slen && strcmp(minfo->name + nlen - slen, suffix) == 0)
				return fd;
		}
		close(fd);
	}
	return -ENOENT;
}

/*
 * Where the variable name lies in the section whose BTF type is datasec_id:
 * its offset, or -ENOENT; -EPROTO if it is not size bytes (a program of
 * another version).
 */
static int btf_var_offset(const struct btf *btf, __u32 datasec_id, const char *name, __u32 size)
{
	const struct btf_type *sec = btf__type_by_id(btf, datasec_id);
	const struct btf_var_secinfo *vs;

	if (!sec || !btf_is_datasec(sec))
		return -EPROTO;
	vs = btf_var_secinfos(sec);
	for (__u16 i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);
		const char *vname = var && btf_is_var(var) ? btf__name_by_offset(btf, var->name_off) : NULL;

		if (vname && strcmp(vname, name) == 0)
			return vs->size == size ? (int)vs->offset : -EPROTO;
	}
	return -ENOENT;
}

/*
 * The config the program was loaded with: the variable pong_cfg, found by
 * name in the BTF of the program's .rodata (the compiler may put constants
 * of its own there, before or after it). -EPROTO: no such variable of that
 * size (a program of another version), or no BTF to find it by.
 */
int pong_read_config(int prog_fd, struct pong_config *cfg)
{
	struct bpf_map_info minfo = { 0 };
	struct btf *btf = NULL;
	__u8 *value = NULL;
	__u32 key = 0;
	int off, err = 0, fd = pong_prog_map_fd(prog_fd, PONG_CONFIG_MAP, &minfo);

	if (fd < 0)
		return fd;
	if (!minfo.btf_id) {
		err = -EPROTO;
		goto out;
	}
	btf = btf__load_from_kernel_by_id(minfo.btf_id);
	if (!btf) {
		err = -errno;
		goto out;
	}
	off = btf_var_offset(btf, minfo.btf_value_type_id, PONG_CONFIG_VAR, sizeof(*cfg));
	if (off < 0) {
		err = off;
	} else if ((__u32)off + sizeof(*cfg) > minfo.value_size) {
		err = -EPROTO;
	} else if (!(value = malloc(minfo.value_size))) {
		err = -ENOMEM;
	} else if (bpf_map_lookup_elem(fd, &key, value)) {
		err = -errno;
	} else {
		memcpy(cfg, value + off, sizeof(*cfg));
	}
out:
	free(value);
	btf__free(btf);
	close(fd);
	return err;
}

/* The MAC the program answers with now (its .data.iface). */
int pong_read_section(int prog_fd, const char *suffix, void *value, __u32 size)
{
	struct bpf_map_info minfo = { 0 };
	__u32 key = 0;
	int err = 0, fd = pong_prog_map_fd(prog_fd, suffix, &minfo);

	if (fd < 0)
		return fd;
	if (minfo.value_size != size)
		err = -EPROTO;
	else if (bpf_map_lookup_elem(fd, &key, value))
		err = -errno;
	close(fd);
	return err;
}

int pong_read_mac(int prog_fd, __u8 mac[6])
{
	struct pong_iface v;
	int err = pong_read_section(prog_fd, PONG_IFACE_MAP, &v, sizeof(v));

	if (!err)
		memcpy(mac, v.mac, 6);
	return err;
}

/*
 * Replace the whole value of one of the program's data sections (the map
 * whose name ends in suffix), from the next frame on. -EPROTO if its size
 * is not size (a program of another version).
 */
int pong_write_section(int prog_fd, const char *suffix, const void *value, __u32 size)
{
	struct bpf_map_info minfo = { 0 };
	__u32 key = 0;
	int err = 0, fd = pong_prog_map_fd(prog_fd, suffix, &minfo);

	if (fd < 0)
		return fd;
	if (minfo.value_size != size)
		err = -EPROTO;
	else if (bpf_map_update_elem(fd, &key, value, BPF_ANY))
		err = -errno;
	close(fd);
	return err;
}

/* Make the program answer as mac, with the kernel's TAI offset tai_s, from the next frame on. */
int pong_write_iface(int prog_fd, const __u8 mac[6], __u8 tai_s)
{
	struct pong_iface v = { .tai_s = tai_s };

	memcpy(v.mac, mac, 6);
	return pong_write_section(prog_fd, PONG_IFACE_MAP, &v, sizeof(v));
}

/*
 * ---- The settings (.data.settings, struct pong_settings): this is their one owner ----
 *
 * Every value the datapath reads is made here: at load from the options
 * (pong_settings_initial()), and at run time by one read and one write of
 * the whole value per change (pong_settings_apply()), so the datapath sees
 * a change whole: never new limits with an old --unclaimed. Here too: the
 * layout check, and the derivation of what the datapath reads first
 * (active). Callers that change settings hold the settings lock
 * (pong_lock()): otherwise two changes could interleave their read and
 * write. When scoping turns on or off at run time is policy.c's rule; at
 * load, a program is scoped exactly when prefixes were given.
 */

static int settings_fd(int prog_fd)
{
	struct bpf_map_info minfo;
	int fd = pong_prog_map_fd(prog_fd, PONG_SETTINGS_MAP, &minfo);

	if (fd >= 0 && minfo.value_size != sizeof(struct pong_settings)) {
		close(fd);
		return -EPROTO;    /* a program from another version of xdp-pong */
	}
	return fd;
}

/* The settings value of the map fd; -EPROTO if its layout is another version's. */
static int settings_lookup(int fd, struct pong_settings *s)
{
	__u32 key = 0;

	if (bpf_map_lookup_elem(fd, &key, s))
		return -errno;
	/* the same size, another meaning: a program from another version */
	return s->layout != PONG_SETTINGS_LAYOUT ? -EPROTO : 0;
}

/* The run-time settings (scope switch, limits, --unclaimed), as they are now. */
int pong_read_settings(int prog_fd, struct pong_settings *s)
{
	int err, fd = settings_fd(prog_fd);

	if (fd < 0)
		return fd;
	err = settings_lookup(fd, s);
	close(fd);
	return err;
}

/* A limit as the program uses it: a GCRA interval, 1e9 / pps ns; 0 = no limit. */
static __u64 interval_ns(__u32 pps)
{
	__u64 ns = pps ? 1000000000ull / pps : 0;

	/* at rates above 1e9 pps the interval would round to 0 (= no limit): 1 instead */
	return pps && !ns ? 1 : ns;
}

/*
 * Apply change c to s: what c gives is set, the rest kept; then derive
 * what the datapath reads first (whether any policy is on: without any, a
 * common request is answered after one look at the settings) and stamp
 * the layout.
 */
static void settings_change(struct pong_settings *s, const struct pong_settings_change *c)
{
	if (c->scoped != PONG_KEEP)
		s->scoped = c->scoped == 1;
	if (c->source_set) {
		s->source_pps = c->source_pps;
		s->source_interval_ns = interval_ns(c->source_pps);
	}
	if (c->global_set) {
		s->global_pps = c->global_pps;
		s->global_interval_ns = interval_ns(c->global_pps);
	}
	if (c->unclaimed == 1 && !s->unclaimed) {
		/* counts only verdicts from now on: while it was off the datapath saw no owner speak */
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);   /* the clock of bpf_ktime_get_ns() */
		s->unclaimed_since_ns = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
	}
	if (c->unclaimed != PONG_KEEP)
		s->unclaimed = c->unclaimed == 1;
	if (c->answer != PONG_KEEP)
		s->answer = (__u32)c->answer & PONG_ANSWER_ALL;
	if (c->error_set) {
		for (int v6 = 0; v6 < 2; v6++) {
			s->error_ms[v6] = c->error_ms;
			s->error_interval_ns[v6] = (__u64)c->error_ms * 1000000ull;
		}
	}
	/* the --answer kinds go through the policy, which refuses them without a prefix list (no_scope) */
	s->active = s->scoped || s->unclaimed || s->answer || s->source_interval_ns || s->global_interval_ns ?
		    PONG_ACTIVE_POLICY : PONG_ACTIVE_NONE;
	s->layout = PONG_SETTINGS_LAYOUT;
}

/*
 * The settings a program is loaded with (into its .data.settings, before load), from
 * the options: the limits, --unclaimed and --answer given (the others off;
 * --icmp-ratelimit at Linux's defaults unless given), and
 * scoped exactly when nprefixes > 0 (c->scoped is not looked at): the
 * prefix lists can only be filled once the program is loaded, and until
 * then a scoped, empty list refuses everything rather than answering
 * everything.
 */
void pong_settings_initial(struct pong_settings *s, const struct pong_settings_change *c, int nprefixes)
{
	struct pong_settings_change first = *c;

	first.scoped = nprefixes > 0;
	memset(s, 0, sizeof(*s));
	s->error_ms[0] = PONG_DEFAULT_ERROR_MS;      /* Linux's, unless --icmp-ratelimit says otherwise */
	s->error_ms[1] = PONG_DEFAULT_ERROR6_MS;
	for (int v6 = 0; v6 < 2; v6++)
		s->error_interval_ns[v6] = (__u64)s->error_ms[v6] * 1000000ull;
	settings_change(s, &first);
}

/*
 * Change a program's settings: one read, one write of the whole value
 * (the caller holds the settings lock). The new settings in *out (may be
 * NULL). 0, or -errno (-EPROTO: a program of another xdp-pong version).
 */
int pong_settings_apply(int prog_fd, const struct pong_settings_change *c, struct pong_settings *out)
{
	struct pong_settings s;
	__u32 key = 0;
	int err, fd = settings_fd(prog_fd);

	if (fd < 0)
		return fd;
	err = settings_lookup(fd, &s);
	if (!err) {
		settings_change(&s, c);
		if (bpf_map_update_elem(fd, &key, &s, BPF_ANY))
			err = -errno;
	}
	close(fd);
	if (!err && out)
		*out = s;
	return err;
}

/* Sum a per-CPU array of struct pong_stat over all possible CPUs. */
static int sum_percpu(int map_fd, __u32 entries, struct pong_stat *out)
{
	int ncpus = libbpf_num_possible_cpus();
	struct pong_stat *vals;
	int err = 0;

	if (ncpus <= 0)
		return -EINVAL;
	vals = calloc((size_t)ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (__u32 key = 0; key < entries && !err; key++) {
		out[key].packets = out[key].bytes = 0;
		if (bpf_map_lookup_elem(map_fd, &key, vals)) {
			err = -errno;
			break;
		}
		for (int cpu = 0; cpu < ncpus; cpu++) {
			out[key].packets += vals[cpu].packets;
			out[key].bytes += vals[cpu].bytes;
		}
	}
	free(vals);
	return err;
}

/* The event counters (claimed, released), summed over CPUs. */
static int read_events(int prog_fd, __u64 *out)
{
	struct bpf_map_info minfo = { 0 };
	int ncpus = libbpf_num_possible_cpus();
	int err = 0, fd = pong_prog_map_fd(prog_fd, PONG_EVENTS_MAP, &minfo);
	__u64 *vals;

	if (fd < 0)
		return fd;
	if (ncpus <= 0 || minfo.max_entries != PONG_EV__MAX || minfo.value_size != sizeof(__u64)) {
		close(fd);
		return ncpus <= 0 ? -EINVAL : -EPROTO;
	}
	vals = calloc((size_t)ncpus, sizeof(*vals));
	if (!vals) {
		close(fd);
		return -ENOMEM;
	}
	for (__u32 key = 0; key < PONG_EV__MAX && !err; key++) {
		out[key] = 0;
		if (bpf_map_lookup_elem(fd, &key, vals))
			err = -errno;
		for (int cpu = 0; cpu < ncpus && !err; cpu++)
			out[key] += vals[cpu];
	}
	free(vals);
	close(fd);
	return err;
}

/* Outcome, reason and event counters, summed over CPUs. -EPROTO: a program from another xdp-pong version. */
int pong_read_counters(int prog_fd, struct pong_counters *out)
{
	static const struct {
		const char *map;
		__u32 entries;
		size_t offset;
	} maps[] = {
		{ PONG_COUNTERS_MAP, PONG_CNT__MAX, offsetof(struct pong_counters, counter) },
		{ PONG_REASONS_MAP, PONG_R__MAX, offsetof(struct pong_counters, reason) },
	};

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		struct bpf_map_info minfo = { 0 };
		int err, fd = pong_prog_map_fd(prog_fd, maps[i].map, &minfo);

		if (fd < 0)
			return fd;
		if (minfo.max_entries != maps[i].entries ||
		    minfo.value_size != sizeof(struct pong_stat)) {
			close(fd);
			return -EPROTO;
		}
		err = sum_percpu(fd, maps[i].entries, (struct pong_stat *)((char *)out + maps[i].offset));
		close(fd);
		if (err)
			return err;
	}
	return read_events(prog_fd, out->event);
}
