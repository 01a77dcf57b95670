// SPDX-License-Identifier: GPL-2.0
/*
 * Reading xdp-pong's counters from any later invocation. The maps are found
 * through the program attached to the interface (program -> map ids -> map
 * by name), so nothing needs to be pinned and no bpffs needs to be mounted:
 * this works after the attaching process has exited and inside
 * `ip netns exec`, where /sys (and any bpffs under it) is a fresh mount.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include "xdp-pong.h"

#define MAX_PROG_MAPS 16

/* A new fd of the map of xdp-pong's program whose name ends with suffix, or -errno. */
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
			return -EPROTO;   /* a program from another version of xdp-pong */
		}
		err = sum_percpu(fd, maps[i].entries, (struct pong_stat *)((char *)out + maps[i].offset));
		close(fd);
		if (err)
			return err;
	}
	return 0;
}

/*
 * The config the program was loaded with. pong_cfg is the only variable in
 * .rodata and comes first (8-byte aligned); the compiler may append constants
 * of its own after it.
 */
int pong_read_config(int prog_fd, struct pong_config *cfg)
{
	struct bpf_map_info minfo = { 0 };
	__u8 value[256];
	__u32 key = 0;
	int err = 0, fd = pong_prog_map_fd(prog_fd, ".rodata", &minfo);

	if (fd < 0)
		return fd;
	if (minfo.value_size < sizeof(*cfg) || minfo.value_size > sizeof(value) ||
	    bpf_map_lookup_elem(fd, &key, value))
		err = -EPROTO;
	else
		memcpy(cfg, value, sizeof(*cfg));
	close(fd);
	return err;
}

/*
 * Fill a[] for the named interfaces, or with every interface that carries
 * xdp-pong when none is named. With need_attached, a named interface without
 * xdp-pong is an error. Returns the count, or -1 after printing an error.
 */
int pong_collect(char **names, int n, struct pong_attachment *a, bool need_attached)
{
	int count = 0;

	if (n > 0) {
		int ifindex[PONG_MAX_IFACES];

		if (pong_parse_ifaces(names, n, ifindex))
			return -1;
		for (int i = 0; i < n; i++) {
			int err;

			snprintf(a[i].name, sizeof(a[i].name), "%s", names[i]);
			a[i].ifindex = ifindex[i];
			err = pong_find(ifindex[i], &a[i], NULL);
			if (err) {
				pong_err("%s: cannot query XDP programs: %s", names[i], strerror(-err));
				return -1;
			}
			if (need_attached && !a[i].attached) {
				pong_err("%s: xdp-pong is not attached", names[i]);
				return -1;
			}
		}
		return n;
	}

	struct if_nameindex *all = if_nameindex(), *it;

	if (!all) {
		pong_err("cannot list interfaces: %s", strerror(errno));
		return -1;
	}
	for (it = all; it->if_index && count < PONG_MAX_IFACES; it++) {
		struct pong_attachment *cur = &a[count];

		snprintf(cur->name, sizeof(cur->name), "%s", it->if_name);
		cur->ifindex = (int)it->if_index;
		if (pong_find(cur->ifindex, cur, NULL) == 0 && cur->attached)
			count++;
	}
	if_freenameindex(all);
	return count;
}


/*
 * Read the counters of each attachment in a[] (re-finding the program, which
 * may have changed). strict: any problem is an error (-1). Otherwise an
 * interface that disappeared or was detached meanwhile is reported on stderr
 * in one line and dropped from a[]/c[]. Returns how many remain.
 */
int pong_snapshot(struct pong_attachment *a, struct pong_counters *c, int n, bool strict)
{
	int kept = 0;

	for (int i = 0; i < n; i++) {
		char name[IF_NAMESIZE];
		int fd = -1, err = 0;

		if (!if_indextoname((unsigned)a[i].ifindex, name))
			err = -ENODEV;
		if (!err)
			err = pong_find(a[i].ifindex, &a[i], &fd);
		if (!err && !a[i].attached)
			err = -ENOENT;
		if (!err)
			err = pong_read_counters(fd, &c[i]);
		if (fd >= 0)
			close(fd);
		if (err == -ENODEV) {
			pong_err("%s: the interface is gone", a[i].name);
		} else if (err == -ENOENT) {
			pong_err("%s: xdp-pong is no longer attached", a[i].name);
		} else if (err) {
			pong_err("%s: cannot read xdp-pong's counters: %s", a[i].name,
				 err == -EPROTO ? "the attached program is from another xdp-pong version"
						: strerror(-err));
		}
		if (err && strict)
			return -1;
		if (!err) {
			if (kept != i) {
				a[kept] = a[i];
				c[kept] = c[i];
			}
			kept++;
		}
	}
	return kept;
}
