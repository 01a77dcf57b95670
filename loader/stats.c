// SPDX-License-Identifier: GPL-2.0
/*
 * Floor 3: xdp-pong on many interfaces at once, for status, stats and
 * metrics: which interfaces (named, or every one running xdp-pong), their
 * counters read together, and the description status prints.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "xdp-pong.h"

/*
 * Fill a[] for the named interfaces, or with every interface that carries
 * xdp-pong when none is named. With need_attached, a named interface
 * without xdp-pong is an error. Returns the count, or -errno with why.
 */
int pong_collect(char *const *names, int n, struct pong_attachment *a, bool need_attached, struct pong_why *why)
{
	struct if_nameindex *all, *it;
	int count = 0;

	if (n > 0) {
		int ifindex[PONG_MAX_IFACES];
		int err = pong_parse_ifaces(names, n, ifindex, why);

		if (err)
			return err;
		for (int i = 0; i < n; i++) {
			snprintf(a[i].name, sizeof(a[i].name), "%s", names[i]);
			err = pong_find(ifindex[i], &a[i], NULL);
			if (!err && need_attached && !a[i].attached)
				err = -ENOENT;
			if (err) {
				pong_explain(why, names[i], err, &a[i]);
				return err;
			}
		}
		return n;
	}
	all = if_nameindex();
	if (!all) {
		int err = -errno;

		pong_why(why, "cannot list interfaces: %s", strerror(-err));
		return err;
	}
	for (it = all; it->if_index && count < PONG_MAX_IFACES; it++) {
		struct pong_attachment *cur = &a[count];

		snprintf(cur->name, sizeof(cur->name), "%s", it->if_name);
		if (pong_find((int)it->if_index, cur, NULL) == 0 && cur->attached)
			count++;
	}
	if_freenameindex(all);
	return count;
}

/*
 * Fill a[] for the interfaces ifindex[], named as they are called now: one
 * that is gone, cannot be queried or runs no xdp-pong is there, not
 * attached. A gone one is named known[i] where that is given and set (the
 * name it had), else by its index. Returns n.
 */
int pong_collect_ifindexes(const int *ifindex, const char (*known)[IF_NAMESIZE], int n,
			   struct pong_attachment *a)
{
	for (int i = 0; i < n; i++) {
		bool here;

		memset(&a[i], 0, sizeof(a[i]));
		a[i].ifindex = ifindex[i];
		here = if_indextoname((unsigned)ifindex[i], a[i].name) != NULL;
		if (!here && known && known[i][0])
			memcpy(a[i].name, known[i], IF_NAMESIZE);   /* gone: by the name it had */
		else if (!here)
			snprintf(a[i].name, sizeof(a[i].name), "#%d", ifindex[i]);   /* gone: named by its index */
		else if (pong_find(ifindex[i], &a[i], NULL))
			a[i].attached = false;
	}
	return n;
}

/*
 * Read the counters of each attachment in a[] (re-finding the program, which
 * may have been replaced). An interface that disappeared, was detached or
 * cannot be read is moved to lost[] (with why, as an errno: -ENODEV,
 * -ENOENT, -EPROTO for another xdp-pong version, ...) and dropped from
 * a[]/c[]; strict makes that an error (-errno, the first one) instead.
 * Returns how many remain.
 */
int pong_snapshot(struct pong_attachment *a, struct pong_counters *c, int n, bool strict,
		  struct pong_lost *lost, int *nlost)
{
	int kept = 0;

	*nlost = 0;
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
		if (err) {
			snprintf(lost[*nlost].name, sizeof(lost[*nlost].name), "%s", a[i].name);
			lost[(*nlost)++].err = err;
			if (strict)
				return err;
			continue;
		}
		if (kept != i) {
			a[kept] = a[i];
			c[kept] = c[i];
		}
		kept++;
	}
	return kept;
}

/*
 * For status: what xdp-pong (found by pong_find()) was loaded with (config)
 * and runs with now (the MAC it answers as, settings, prefix count), the
 * interface's own MAC, and how many of the host's addresses it does not
 * know. Left unknown if unreadable.
 */
void pong_describe(struct pong_attachment *a)
{
	int fd;

	a->link_mac_known = pong_link_mac(a->ifindex, a->link_mac) == 0;
	if (!a->attached)
		return;
	fd = pong_prog_fd_by_id(a->prog_id);
	if (fd < 0)
		return;
	a->cfg_known = pong_read_config(fd, &a->cfg) == 0;
	a->mac_known = pong_read_mac(fd, a->mac) == 0;
	if (pong_read_settings(fd, &a->settings) == 0)
		a->nprefixes = pong_prefix_count(fd);
	a->own_unknown = pong_own_missing(fd);
	close(fd);
}
