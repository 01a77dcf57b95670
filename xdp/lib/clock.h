/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The time of day IPv4 timestamps carry (RFC 791's timestamp option):
 * milliseconds since midnight UT, as Linux's inet_current_timestamp()
 * gives them. Taken from CLOCK_TAI (bpf_ktime_get_tai_ns(), Linux 6.1),
 * which is CLOCK_REALTIME plus the kernel's TAI offset: it follows the
 * real-time clock's steps and NTP's slewing, so the value is accurate to
 * the millisecond as far as the host's clock is. The loader writes the TAI
 * offset (pong_iface.tai_s; `run` follows it); a kernel without the helper
 * has no clock here (clock_known() false) and requests that need one are
 * refused.
 */
#ifndef PONG_LIB_CLOCK_H
#define PONG_LIB_CLOCK_H

#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "maps.h"

#define CLOCK_NS_PER_MS  1000000ull
#define CLOCK_MS_PER_DAY 86400000ull

/* Truth: this kernel has CLOCK_TAI for BPF (resolved at load: the call below is dead code if not). */
static __always_inline int clock_known(void)
{
	return bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_ktime_get_tai_ns);
}

/* Milliseconds since midnight UT, in network order (0 where clock_known() is false). */
static __always_inline __be32 clock_ms_of_day(void)
{
	__u64 ns;

	if (!clock_known())
		return 0;
	ns = bpf_ktime_get_tai_ns() - (__u64)pong_iface.tai_s * 1000 * CLOCK_NS_PER_MS;
	return bpf_htonl((__u32)(ns / CLOCK_NS_PER_MS % CLOCK_MS_PER_DAY));
}

#endif
