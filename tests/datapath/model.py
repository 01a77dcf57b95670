"""An independent model of xdp-pong's datapath, for differential fuzzing.

Written from the rules in the man page (loader/xdp-pong.8, and the RFCs they
cite), on raw bytes, sharing no code with xdp/. predict() returns what the program must do with
one frame: the XDP verdict, the counter and refusal reason that move, and the
frame that comes out. Where several rules refuse a frame, the first in the
order below names the reason (the order is part of what is tested).
"""
import struct
import time

BCAST = b"\xff" * 6
ZERO6 = b"\0" * 6
TPIDS = (0x8100, 0x88A8)


class Outcome:
    """What the program must do with a frame. times: offsets in frame of the
    4-byte times of day the program writes (IPv4 timestamp options), which
    the model cannot know: adopt_times() takes them from the program's reply."""
    __slots__ = ("verdict", "counter", "reason", "frame", "times")

    def __init__(self, verdict, counter, reason="-", frame=None, times=()):
        self.verdict, self.counter, self.reason, self.frame, self.times = verdict, counter, reason, frame, times

    def __repr__(self):
        return f"{self.verdict}/{self.counter}/{self.reason}"


def passed():
    return Outcome("XDP_PASS", "passed")


def refused(reason):
    return Outcome("XDP_PASS", "refused", reason)


def u16(b, o):
    return struct.unpack_from("!H", b, o)[0]


def u32(b, o):
    return struct.unpack_from("!I", b, o)[0]


def ones_add(a, b):
    s = a + b
    return (s & 0xFFFF) + (s >> 16)


def ones_sum(data):
    if len(data) % 2:
        data = data + b"\0"
    s = 0
    for (w,) in struct.iter_unpack("!H", data):
        s = ones_add(s, w)
    return s


def rfc1624(check, old, new):
    """HC' = ~(~HC + ~m + m') on 16-bit words (RFC 1624, eqn. 3)."""
    s = ones_add(ones_add(~check & 0xFFFF, ~old & 0xFFFF), new)
    return ~s & 0xFFFF



def adopt_times(want: bytes, got: bytes, times):
    """want with the times at `times` taken from got, its IPv4 header checksum
    updated for them (they sit in the options, after the 20-byte header).
    Also returns the problems with those times: each the time of day in ms
    within 5 minutes of this host's clock now (the program ran moments ago,
    on this host), all one value (taken once per reply)."""
    out = bytearray(want)
    for t in times:
        out[t:t + 4] = got[t:t + 4]
    ip_off = 14
    while u16(want, ip_off - 2) in TPIDS:
        ip_off += 4
    options_changed(want, out, ip_off)
    values = {u32(got, t) for t in times}
    day, now = 86_400_000, int(time.time() * 1000) % 86_400_000
    problems = [f"timestamp {v} is not this host's time of day in ms ({now})" for v in values
                if min((v - now) % day, (now - v) % day) > 300_000]
    if len(values) > 1:
        problems.append(f"timestamps of one reply differ: {sorted(values)}")
    return bytes(out), problems


def options_changed(before: bytes, out: bytearray, ip_off: int):
    """out's IPv4 header checksum (at ip_off + 10) updated from before's for its
    options having changed (eqn. 3 over the options' words: an error stays)."""
    hlen = (before[ip_off] & 15) * 4
    old, new = ones_sum(before[ip_off + 20:ip_off + hlen]), ones_sum(bytes(out[ip_off + 20:ip_off + hlen]))
    check = ~ones_add(ones_add(~u16(before, ip_off + 10) & 0xFFFF, ~old & 0xFFFF), new) & 0xFFFF
    struct.pack_into("!H", out, ip_off + 10, check)


def echo6_reply_flow(f, off, seed=0):
    """The flow label of the reply to the IPv6 request at off, as the program
    derives it: a keyed hash of the reply's addresses (the request's
    destination, then its source), read as they sit in memory (little-endian
    64-bit loads)."""
    def halves(a):
        return int.from_bytes(a[:8], "little") ^ int.from_bytes(a[8:], "little")
    src, dst = f[off + 8:off + 24], f[off + 24:off + 40]
    h = ((halves(dst) ^ seed) * 0x9E3779B97F4A7C15) & (2**64 - 1)
    h = ((h ^ halves(src)) * 0xC2B2AE3D27D4EB4F) & (2**64 - 1)
    return h >> 44


def echo4_reply_id(f, off, icmp, seed=0):
    """The identification of the reply to the echo request at off (ICMP at icmp),
    as the program derives it: a keyed hash of the requester, the address asked
    and the ICMP identifier, plus the sequence number. The program reads the
    addresses and the identifier as they sit in memory (little-endian loads)."""
    src, dst = int.from_bytes(f[off + 12:off + 16], "little"), int.from_bytes(f[off + 16:off + 20], "little")
    ident, seq = int.from_bytes(f[icmp + 4:icmp + 6], "little"), u16(f, icmp + 6)
    h = ((((src ^ seed) << 32) | dst) * 0x9E3779B97F4A7C15) & (2**64 - 1)
    h = ((h ^ ident) * 0xC2B2AE3D27D4EB4F) & (2**64 - 1)
    return ((h >> 48) + seq) & 0xFFFF


# ---- IPv4 address classes ----

def v4_special(a):
    return (a >> 24) in (0, 127) or (a >> 28) == 0xE


def v4_src_ok(a):
    return not v4_special(a) and (a >> 28) != 0xF


def v4_dst_ok(a):
    return not v4_special(a) and a != 0xFFFFFFFF


# ---- IPv6 address classes ----

def v6_unicast(a):
    return a[0] != 0xFF and a not in (b"\0" * 16, b"\0" * 15 + b"\1")


def solicited_node_group(target):
    return b"\xff\x02" + b"\0" * 9 + b"\x01\xff" + target[13:16]


class Model:
    def __init__(self, mac: bytes, ttl: int, own=()):
        """own: the host's own addresses (4 or 16 bytes each): requests for them are the kernel's."""
        self.mac, self.ttl, self.own = mac, ttl, set(own)

    def predict(self, f: bytes) -> Outcome:
        if len(f) < 14:
            return Outcome("ERROR", "-")
        etype, off = u16(f, 12), 14
        for _ in range(2):
            if etype not in TPIDS:
                break
            if off + 4 > len(f):
                return passed()
            etype, off = u16(f, off + 2), off + 4
        if etype in TPIDS:
            return passed()              # more than two tags
        if etype == 0x0806:
            return self.arp(f, off)
        if etype == 0x0800:
            return self.ipv4(f, off)
        if etype == 0x86DD:
            return self.ipv6(f, off)
        return passed()

    def reply_l2(self, out, to_mac):
        out[0:6] = to_mac
        out[6:12] = self.mac

    # ---- ARP ----

    def arp(self, f, off):
        dst, src = f[0:6], f[6:12]
        if dst not in (BCAST, self.mac):
            return refused("l2_dst")
        if src[0] & 1 or src == ZERO6:
            return refused("l2_src")
        if off + 28 > len(f):
            return refused("truncated")
        htype, ptype, hlen, plen, op = struct.unpack_from("!HHBBH", f, off)
        if (htype, ptype, hlen, plen) != (1, 0x0800, 6, 4):
            return refused("arp_format")
        if op != 1:
            return refused("arp_op")
        sha = f[off + 8:off + 14]
        if sha[0] & 1 or sha == ZERO6:
            return refused("l2_src")
        spa, tpa = u32(f, off + 14), u32(f, off + 24)
        if spa == 0:
            return refused("arp_probe")
        if not v4_src_ok(spa):
            return refused("ip_src")
        if spa == tpa:
            return refused("arp_gratuitous")
        if not v4_dst_ok(tpa):
            return refused("arp_target")
        if f[off + 24:off + 28] in self.own:
            return refused("own_address")
        out = bytearray(f)
        self.reply_l2(out, src)
        struct.pack_into("!H", out, off + 6, 2)
        out[off + 18:off + 24] = sha                         # target = the requester
        out[off + 8:off + 14] = self.mac                     # sender = us, for the asked address
        out[off + 14:off + 18] = f[off + 24:off + 28]
        out[off + 24:off + 28] = f[off + 14:off + 18]
        return Outcome("XDP_TX", "arp", "-", bytes(out))

    # ---- IPv4 / ICMP ----

    def ipv4_options(self, f, start, optlen):
        o, seen = 0, set()
        ours = f[start - 4:start]                 # the destination: the address asked
        for _ in range(8):
            if o >= optlen:
                return None
            p = start + o
            if p + 2 > len(f):
                return "ip_options"
            t = f[p]
            if t == 0:
                return None
            if t == 1:
                o += 1
                continue
            if t in (0x83, 0x89, 0x86) or f[p + 1] < 2 or o + f[p + 1] > optlen:
                return "ip_options"      # source routes; CIPSO (Linux has no labelling configured)
            if t == 0x94 and f[p + 1] < 4:
                return "ip_options"      # router alert: Linux wants its 2 bytes of value
            if t in seen and t in (7, 68):
                return "ip_options"      # a second record route or timestamp: parameter problem
            seen.add(t)
            if t == 7 and (p + 3 > len(f) or not self.linux_answers_rr(f[p + 1], f[p + 2])):
                return "ip_options"
            if t == 68 and (p + 4 > len(f) or not self.linux_answers_ts(f, p, ours)):
                return "ip_options"
            o += f[p + 1]
        # after 8 options: the end of them, or the end-of-options option, else too many
        return None if o >= optlen or f[start + o] == 0 else "ip_options"

    # Record route and timestamp, read from Linux (net/ipv4/ip_options.c): on
    # receipt, ip_options_compile() records the destination where there is room
    # (an error there is a parameter problem); the reply, ip_options_echo(),
    # records it once more (an error there: no reply at all).

    @staticmethod
    def linux_answers_rr(length, ptr):
        if length < 3 or ptr < 4:
            return False
        if ptr <= length:
            if ptr + 3 > length:
                return False
            ptr += 4                                        # recorded on receipt
            if ptr <= length and ptr + 3 > length:
                return False                                # ip_options_echo: -EINVAL
        return True

    @staticmethod
    def linux_stamps(addr, ours):
        """A prespecified address Linux stamps: not unicast elsewhere (inet_addr_type): its own
        (for xdp-pong, the address asked), 0/8, 127/8, multicast, the limited broadcast."""
        a = int.from_bytes(addr, "big")
        return addr == ours or v4_special(a) or a == 0xFFFFFFFF

    def linux_answers_ts(self, f, p, ours):
        length, ptr, flag, overflow = f[p + 1], f[p + 2], f[p + 3] & 15, f[p + 3] >> 4
        if length < 4 or ptr < 5:
            return False
        if ptr > length:
            return flag == 3 or overflow != 15
        if ptr + 3 > length:
            return False
        need_addr = need_time = False
        if flag == 0:
            need_time, ptr = True, ptr + 4
        elif flag in (1, 3):
            if ptr + 7 > length:
                return False
            if flag == 1 or self.linux_stamps(f[p + ptr - 1:p + ptr + 3], ours):
                need_addr, need_time, ptr = flag == 1, True, ptr + 8
        if ptr <= length:
            if need_addr:
                if ptr + 3 > length:
                    return False
                ptr += 4
            if need_time and ptr + 3 > length:
                return False
        return True

    def fill_options(self, f, out, start, optlen, ours):
        """Record route and timestamp as Linux's reply carries them, in out; the
        frame offsets of the times written (left as they were: adopt_times())."""
        times, o = [], 0
        while o < optlen:
            p = start + o
            if f[p] == 0:
                break
            if f[p] == 1:
                o += 1
                continue
            length, ptr = f[p + 1], f[p + 2]
            if f[p] == 7 and ptr <= length:
                for _ in range(2):                          # on receipt, then in the reply
                    if ptr > length:
                        break
                    out[p + ptr - 1:p + ptr + 3] = ours
                    ptr += 4
                out[p + 2] = ptr
            elif f[p] == 68:
                flag = f[p + 3] & 15
                if ptr > length:
                    if flag != 3:
                        out[p + 3] = flag | (((f[p + 3] >> 4) + 1) << 4)
                else:
                    need_addr = need_time = False
                    if flag == 0:
                        times.append(p + ptr - 1)
                        need_time, ptr = True, ptr + 4
                    elif flag == 1 or (flag == 3 and self.linux_stamps(f[p + ptr - 1:p + ptr + 3], ours)):
                        if flag == 1:                       # a prespecified address stays as it is
                            out[p + ptr - 1:p + ptr + 3] = ours
                        times.append(p + ptr + 3)
                        need_addr, need_time, ptr = flag == 1, True, ptr + 8
                    if ptr <= length:
                        if need_addr:
                            out[p + ptr - 1:p + ptr + 3] = ours
                            ptr += 4
                        if need_time and flag != 3:
                            times.append(p + ptr - 1)
                            ptr += 4
                        elif need_time and ptr + 7 <= length and self.linux_stamps(f[p + ptr - 1:p + ptr + 3], ours):
                            times.append(p + ptr + 3)
                            ptr += 8
                    out[p + 2] = ptr
            o += length
        return times

    def ipv4(self, f, off):
        if off + 20 > len(f) or f[off + 9] != 1:
            return passed()
        if f[0:6] != self.mac:
            return refused("l2_dst")
        if f[6] & 1 or f[6:12] == ZERO6:
            return refused("l2_src")
        ver, ihl = f[off] >> 4, f[off] & 15
        if ver != 4 or ihl < 5:
            return refused("ip_header")
        hlen, tot = ihl * 4, u16(f, off + 2)
        if tot < hlen or off + tot > len(f):
            return refused("ip_header")
        if u16(f, off + 6) & 0x3FFF:
            return refused("ip_fragment")
        if hlen > 20:
            bad = self.ipv4_options(f, off + 20, hlen - 20)
            if bad:
                return refused(bad)
        src, dst = u32(f, off + 12), u32(f, off + 16)
        if not v4_src_ok(src):
            return refused("ip_src")
        if not v4_dst_ok(dst):
            return refused("ip_dst")
        icmp = off + hlen
        if icmp + 8 > len(f) or tot - hlen < 8:
            return refused("truncated")
        if f[icmp] != 8:
            return refused("icmp_type")     # any code: Linux answers it and keeps it
        if f[off + 16:off + 20] in self.own:
            return refused("own_address")
        out = bytearray(f)
        times = []
        if hlen > 20:
            times = self.fill_options(f, out, off + 20, hlen - 20, f[off + 16:off + 20])
            options_changed(f, out, off)
        self.reply_l2(out, f[6:12])
        out[off + 12:off + 16], out[off + 16:off + 20] = f[off + 16:off + 20], f[off + 12:off + 16]
        old = u16(f, off + 8)
        out[off + 8] = self.ttl
        struct.pack_into("!H", out, off + 10, rfc1624(u16(out, off + 10), old, u16(out, off + 8)))
        old = u16(f, off + 6)
        out[off + 6] &= ~0x40 & 0xFF         # DF clear, as Linux sends echo replies
        struct.pack_into("!H", out, off + 10, rfc1624(u16(out, off + 10), old, u16(out, off + 6)))
        old = u16(f, off + 4)                # an identification of its own
        struct.pack_into("!H", out, off + 4, echo4_reply_id(f, off, icmp))
        struct.pack_into("!H", out, off + 10, rfc1624(u16(out, off + 10), old, u16(out, off + 4)))
        old = u16(f, icmp)
        out[icmp] = 0
        # 0x0000 and 0xffff are the same checksum for any message with a
        # non-zero byte; only 0xffff is valid for an all-zero one: write 0xffff
        struct.pack_into("!H", out, icmp + 2, rfc1624(u16(f, icmp + 2), old, u16(out, icmp)) or 0xFFFF)
        return Outcome("XDP_TX", "echo4", "-", bytes(out), times)

    # ---- IPv6 / ICMPv6 / NDP ----

    def ipv6(self, f, off):
        if off + 40 > len(f):
            return passed()
        nh, p, ext = f[off + 6], off + 40, False
        for _ in range(4):
            if nh in (0, 43, 60, 135):
                if p + 2 > len(f):
                    return passed()
                nxt, size = f[p], (f[p + 1] + 1) * 8
            elif nh == 44:
                if p + 8 > len(f) or f[p + 2] or f[p + 3] & 0xF8:
                    return passed()       # cut short, or a later fragment
                nxt, size = f[p], 8
            elif nh == 51:
                if p + 2 > len(f):
                    return passed()
                nxt, size = f[p], (f[p + 1] + 2) * 4
            else:
                break
            nh, p, ext = nxt, p + size, True
        else:
            return passed()               # more extension headers than walked
        if nh != 58 or p + 1 > len(f):
            return passed()
        kind = {128: "echo6", 135: "ndp"}.get(f[p])
        if kind is None:
            return passed()
        if ext:
            return refused("ip6_ext_header")
        if f[6] & 1 or f[6:12] == ZERO6:
            return refused("l2_src")
        plen = u16(f, off + 4)
        if f[off] >> 4 != 6 or off + 40 + plen > len(f):
            return refused("ip_header")
        src, dst = f[off + 8:off + 24], f[off + 24:off + 40]
        if kind == "echo6":
            return self.echo6(f, off, p, plen, src, dst)
        return self.ns(f, off, p, plen, src, dst)

    def echo6(self, f, off, p, plen, src, dst):
        if f[0:6] != self.mac:
            return refused("l2_dst")
        if p + 8 > len(f) or plen < 8:
            return refused("truncated")
        if not v6_unicast(dst):
            return refused("ip6_dst")
        if not v6_unicast(src) or src[:12] == bytes(10) + b"\xff\xff":
            return refused("ip6_src")             # IPv4-mapped sources too; any code, as Linux
        if dst in self.own:
            return refused("own_address")
        out = bytearray(f)
        self.reply_l2(out, f[6:12])
        out[off + 8:off + 24], out[off + 24:off + 40] = dst, src
        out[off + 7] = self.ttl
        first = (u32(f, off) & 0xFFF00000) | echo6_reply_flow(f, off)   # version, class kept; our label
        struct.pack_into("!I", out, off, first)
        old = u16(f, p)
        out[p] = 129
        struct.pack_into("!H", out, p + 2, rfc1624(u16(f, p + 2), old, u16(out, p)))
        return Outcome("XDP_TX", "echo6", "-", bytes(out))

    def ns(self, f, off, p, plen, src, dst):
        if f[off + 7] != 255:
            return refused("ndp_hop_limit")
        if p + 24 > len(f) or plen < 24 or plen > 256:
            return refused("ndp_format")
        if f[p + 1] != 0:
            return refused("icmp_code")
        if src == b"\0" * 16:
            return refused("ndp_dad")
        if not v6_unicast(src):
            return refused("ip6_src")
        target = f[p + 8:p + 24]
        if not v6_unicast(target):
            return refused("ndp_target")
        if src == target:
            return refused("ndp_self")
        if dst != target and dst != solicited_node_group(target):
            return refused("ndp_dst")
        if f[0:6] != self.mac and f[0:6] != b"\x33\x33\xff" + target[13:16]:
            return refused("l2_dst")
        reply_mac, o = f[6:12], 24
        for _ in range(8):
            if o >= plen:
                break
            q = p + o
            if q + 2 > len(f):
                return refused("ndp_format")
            olen = f[q + 1]
            if olen == 0 or o + olen * 8 > plen:
                return refused("ndp_format")
            if f[q] == 1:
                if olen != 1 or q + 8 > len(f):
                    return refused("ndp_format")
                if f[q + 2] & 1 or f[q + 2:q + 8] == ZERO6:
                    return refused("l2_src")
                reply_mac = f[q + 2:q + 8]
            o += olen * 8
        if o < plen:
            return refused("ndp_format")
        pseudo = src + dst + struct.pack("!IxxxB", plen, 58)
        if ones_sum(pseudo + f[p:p + plen]) != 0xFFFF:
            return refused("ndp_checksum")
        if target in self.own:
            return refused("own_address")
        # R=0 S=1 O=0: a proxy's advertisement must not override the owner's (RFC 4861 7.2.8)
        na = bytearray(struct.pack("!BBHI", 136, 0, 0, 0x40000000) + target + bytes([2, 1]) + self.mac)
        ip6 = struct.pack("!IHBB", 0x60000000, len(na), 58, 255) + target + src
        csum = ~ones_sum(target + src + struct.pack("!IxxxB", len(na), 58) + bytes(na)) & 0xFFFF
        struct.pack_into("!H", na, 2, csum)
        out = bytearray(f[:off])
        self.reply_l2(out, reply_mac)
        return Outcome("XDP_TX", "ndp", "-", bytes(out) + ip6 + bytes(na))
