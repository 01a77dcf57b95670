"""An independent model of xdp-pong's datapath, for differential fuzzing.

Written from the rules in the man page (loader/xdp-pong.8, and the RFCs they
cite), on raw bytes, sharing no code with xdp/. predict() returns what the program must do with
one frame: the XDP verdict, the counter and refusal reason that move, and the
frame that comes out. Where several rules refuse a frame, the first in the
order below names the reason (the order is part of what is tested).

Covered: ARP, ICMP echo (IPv4 options included), ICMPv6 echo, neighbour
solicitation; the kinds --answer turns on (UDP -> ICMP port unreachable, TCP
-> RST, ICMP timestamp -> timestamp reply), each off unless asked for; and
admission: the host's own addresses, the scope (--prefix), no scope for a
kind --answer turned on, --unclaimed as it stands when nothing is ever
claimed (Claims), and --icmp-ratelimit within its first interval
(ErrorLimit). Model(...) takes the settings pong-testrun is run with
(settings_from_args()).
"""
import ipaddress
import struct
import time

BCAST = b"\xff" * 6
ZERO6 = b"\0" * 6
TPIDS = (0x8100, 0x88A8)
M64, K1, K2 = 2**64 - 1, 0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F   # the program's hash constants
GATED = ("udp4", "udp6", "tcp4", "tcp6", "timestamp")              # answered only with --answer, in a scope
RESOLVE = ("arp", "ndp")
TCP_FIN, TCP_SYN, TCP_RST, TCP_ACK = 0x01, 0x02, 0x04, 0x10


class Outcome:
    """What the program must do with a frame. times: offsets in frame of the
    4-byte times of day the program writes (IPv4 timestamp options), which
    the model cannot know: adopt_times() takes them from the program's reply."""
    __slots__ = ("verdict", "counter", "reason", "frame", "times", "or_limited")

    def __init__(self, verdict, counter, reason="-", frame=None, times=()):
        self.verdict, self.counter, self.reason, self.frame, self.times = verdict, counter, reason, frame, times
        self.or_limited = False    # a reply the host-wide error limit may also drop (ErrorLimit: timing)

    def __repr__(self):
        return f"{self.verdict}/{self.counter}/{self.reason}"


def passed():
    return Outcome("XDP_PASS", "passed")


def refused(reason):
    # over a limit the frame is dropped, not passed: a spoofed flood costs the kernel nothing
    return Outcome("XDP_DROP" if reason == "rate_limited" else "XDP_PASS", "refused", reason)


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


def csum(data):
    """The Internet checksum to write over data (its checksum field zero)."""
    return ~ones_sum(data) & 0xFFFF


def rfc1624(check, old, new):
    """HC' = ~(~HC + ~m + m') on 16-bit words (RFC 1624, eqn. 3)."""
    s = ones_add(ones_add(~check & 0xFFFF, ~old & 0xFFFF), new)
    return ~s & 0xFFFF



def adopt_times(want: bytes, got: bytes, times):
    """want with the times at `times` taken from got, its IPv4 header checksum
    updated for them where they sit in the options, after the 20-byte header
    (a timestamp reply's sit in its ICMP message: its checksum summed again).
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
    hlen = (want[ip_off] & 15) * 4
    if any(t >= ip_off + hlen for t in times):     # a timestamp reply's: its ICMP checksum covers them
        icmp, end = ip_off + hlen, ip_off + u16(want, ip_off + 2)
        out[icmp + 2:icmp + 4] = bytes(2)
        struct.pack_into("!H", out, icmp + 2, csum(bytes(out[icmp:end])))
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
    h = ((halves(dst) ^ seed) * K1) & M64
    h = ((h ^ halves(src)) * K2) & M64
    return h >> 44


def frag6_reply_id(f, off, seed=0):
    """The fragment identification of the reply to the IPv6 fragment at off, one for the
    whole datagram: a keyed hash of the pair (as echo6_reply_flow()) and the request's
    identification, the program's 64-bit loads little-endian; the bytes as it stores them."""
    def halves(a):
        return int.from_bytes(a[:8], "little") ^ int.from_bytes(a[8:], "little")
    src, dst = f[off + 8:off + 24], f[off + 24:off + 40]
    h = ((halves(dst) ^ seed) * 0x9E3779B97F4A7C15) & (2**64 - 1)
    h = ((h ^ halves(src) ^ int.from_bytes(f[off + 44:off + 48], "little")) * 0xC2B2AE3D27D4EB4F) & (2**64 - 1)
    return (h >> 32).to_bytes(4, "little")


def reply_id4(src, dst, key, count, seed=0):
    """The identification of an IPv4 reply that is no copy of its request (echo
    and timestamp replies, port unreachables), as the program derives it: a keyed
    hash of the requester src, the address asked dst and a 16-bit key of the
    request (ICMP identifier, UDP source port), plus a 16-bit count of it
    (sequence number, UDP destination port: count, an int). The program reads
    src, dst and key (bytes, as in the frame) as they sit in memory
    (little-endian loads)."""
    s, d, k = (int.from_bytes(x, "little") for x in (src, dst, key))
    h = ((((s ^ seed) << 32) | d) * K1) & M64
    h = ((h ^ k) * K2) & M64
    return ((h >> 48) + count) & 0xFFFF


def echo4_reply_id(f, off, icmp, seed=0):
    """reply_id4() of the echo (or timestamp) request at off (ICMP at icmp):
    of its ICMP identifier and sequence number."""
    return reply_id4(f[off + 12:off + 16], f[off + 16:off + 20], f[icmp + 4:icmp + 6], u16(f, icmp + 6), seed)


def ipv4_header(tos, tot, ident, frag, ttl, proto, src, dst):
    """A fresh 20-byte IPv4 header (no options), its checksum summed."""
    h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, tos, tot, ident, frag, ttl, proto, 0, src, dst))
    struct.pack_into("!H", h, 10, csum(bytes(h)))
    return bytes(h)


def l4_sum(addrs, proto, length, data):
    """The one's complement sum over a UDP/TCP/ICMPv6 pseudo-header (addrs: source
    then destination, as in the frame; the same sum for IPv4's and IPv6's
    layout) and data: 0xffff when data holds a valid checksum."""
    return ones_sum(addrs + struct.pack("!HH", proto, length) + data)


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


def v4_mapped(a):
    return a[:12] == bytes(10) + b"\xff\xff"


def solicited_node_group(target):
    return b"\xff\x02" + b"\0" * 9 + b"\x01\xff" + target[13:16]


def vlan_key(f):
    """The frame's VLANs as --unclaimed keys its addresses (outer first, at most
    two): 0 for no tag, else 0x8000 | 0x4000 for an 802.1ad tag | the VLAN id;
    a priority tag (VLAN 0) is no VLAN, so an inner VLAN under one is the VLAN."""
    vlans, off = [0, 0], 14
    for i in range(2):
        tpid = u16(f, off - 2)
        if tpid not in TPIDS or off + 4 > len(f):
            break
        vid = u16(f, off) & 0xFFF
        if vid:
            vlans[i] = 0x8000 | (0x4000 if tpid == 0x88A8 else 0) | vid
        off += 4
    return (vlans[1], 0) if not vlans[0] else tuple(vlans)


class Claims:
    """--unclaimed as the fuzzer runs it: `run` never probes, so no address is
    ever claimed. What is left is what the program remembers (the man page's
    --unclaimed): an address is entered when an ARP request or neighbour
    solicitation asks for it (in its VLAN; at most MAX per family, a full
    table enters nothing), and its owner is seen when it shows signs of life:
    any IPv4/IPv6 frame from it, an ARP frame with it as sender (or an ARP
    probe for it), an NS from it or NA for it (or a DAD probe for it), ARP and
    NDP only from another MAC than ours."""
    MAX = 16384

    def __init__(self, mac):
        self.mac, self.owner = mac, {}          # (vlan, address) -> its owner seen
        self.entries = {4: 0, 16: 0}            # per family (address length)

    def alive(self, vlan, addr):
        if (vlan, addr) in self.owner:
            self.owner[(vlan, addr)] = True

    def watch(self, f, off, etype):
        """The signs of life in a frame, whatever becomes of it (before it is judged)."""
        vlan, ours = vlan_key(f), f[6:12] == self.mac
        if etype == 0x0806 and off + 28 <= len(f) and f[off:off + 6] == b"\0\1\x08\0\6\4" and not ours:
            spa, tpa = f[off + 14:off + 18], f[off + 24:off + 28]
            if spa != bytes(4):
                self.alive(vlan, spa)
            elif u16(f, off + 6) == 1:
                self.alive(vlan, tpa)           # a probe: a host is about to take it
        elif etype == 0x0800 and off + 20 <= len(f):
            self.alive(vlan, f[off + 12:off + 16])
        elif etype == 0x86DD and off + 40 <= len(f):
            src = f[off + 8:off + 24]
            if src != bytes(16):
                self.alive(vlan, src)
            nd = off + 40
            if f[off + 6] == 58 and nd + 24 <= len(f) and f[nd] in (135, 136) and not ours:
                self.alive(vlan, f[nd + 8:nd + 24] if f[nd] == 136 or src == bytes(16) else src)

    def admit(self, kind, vlan, addr):
        """The reason an address not claimed is refused for kind, or None. An
        echo request is refused only once the owner was seen (an address never
        asked for, routed here, is answered); ARP and NS enter the address."""
        key = (vlan, addr)
        if kind in RESOLVE and key not in self.owner:
            if self.entries[len(addr)] < self.MAX:
                self.owner[key] = False
                self.entries[len(addr)] += 1
            return "not_claimed"
        if kind in ("echo4", "echo6"):
            return "owner_seen" if self.owner.get(key) else None
        return "owner_seen" if self.owner.get(key) else "not_claimed"


class ErrorLimit:
    """--icmp-ratelimit over a run shorter than its interval: each source's
    bucket gives its burst of BURST port unreachables (Linux's
    XRLIM_BURST_FACTOR) and no more until an interval has passed. Sources
    share the program's hashed buckets (an IPv4 /32, an IPv6 /64, a
    link-local IPv6 source by its interface ID), the hash keyed by seed 0 as
    pong-testrun loads it."""
    BURST = 6
    GLOBAL_BURST = 50     # Linux's icmp_msgs_burst; then one a millisecond (icmp_msgs_per_sec 1000)

    def __init__(self):
        self.taken, self.sent = {}, 0

    @staticmethod
    def bucket(src):
        if len(src) == 4:
            tag, half = 4, src
        elif src[0] == 0xFE and src[1] & 0xC0 == 0x80:
            tag, half = 0xFE80, src[8:]
        else:
            tag, half = 6, src[:8]
        h = (int.from_bytes(half, "little") * K1) & M64
        h ^= (tag * K2) & M64
        h ^= h >> 29
        return ((h * 0xBF58476D1CE4E5B9) & M64) >> 50

    def take(self, src):
        """Truth: src's bucket had a port unreachable left (and it is spent)."""
        b = self.bucket(src)
        self.taken[b] = self.taken.get(b, 0) + 1
        return self.taken[b] <= self.BURST

    def beyond_global_burst(self):
        """Truth: a port unreachable its source's bucket allowed comes after the host-wide
        bucket's burst: whether it is sent depends on the time taken since (one a ms)."""
        self.sent += 1
        return self.sent > self.GLOBAL_BURST


def settings_from_args(args):
    """Model keywords from pong-testrun's arguments (--prefix, --answer,
    --unclaimed, --icmp-ratelimit; --rules-only changes no outcome)."""
    kw, args = {"prefixes": None, "answer": (), "unclaimed": False, "error_limit": False, "veth": False}, list(args)
    for i, a in enumerate(args):
        if a == "--prefix":
            kw["prefixes"] = (kw["prefixes"] or []) + [ipaddress.ip_network(args[i + 1])]
        elif a == "--answer":
            kw["answer"] = tuple(args[i + 1].split(","))
        elif a == "--unclaimed":
            kw["unclaimed"] = True
        elif a == "--veth":
            kw["veth"] = True
        elif a == "--icmp-ratelimit":
            kw["error_limit"] = int(args[i + 1]) > 0
    return kw


class Model:
    def __init__(self, mac: bytes, ttl: int, own=(), answer=(), prefixes=None, unclaimed=False, error_limit=False,
                 veth=False):
        """own: the host's own addresses (4 or 16 bytes each): requests for them are the kernel's.
        answer: the kinds --answer turns on ("udp", "tcp", "timestamp"); prefixes: the --prefix
        list (ipaddress networks), None for no scope; unclaimed: --unclaimed (Claims);
        error_limit: --icmp-ratelimit on, its interval longer than the run (ErrorLimit);
        veth: loaded as on a veth, CHECKSUM_PARTIAL checksums accepted."""
        self.mac, self.ttl, self.own, self.answer = mac, ttl, set(own), set(answer)
        self.prefixes = prefixes
        self.claims = Claims(mac) if unclaimed else None
        self.errors = ErrorLimit() if error_limit else None
        self.veth = veth
        self.frags = {}      # fragmented echo requests answered: (src, dst, id) -> bytes their later fragments may carry

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
        if self.claims:
            self.claims.watch(f, off, etype)
        if etype == 0x0806:
            return self.arp(f, off)
        if etype == 0x0800:
            return self.ipv4(f, off)
        if etype == 0x86DD:
            return self.ipv6(f, off)
        return passed()

    # ---- admission ----

    def in_scope(self, addr):
        a = ipaddress.ip_address(addr)
        return any(a in net for net in self.prefixes if net.version == a.version)

    def admit(self, f, kind, target, source):
        """None (answered), or the refusal of a request of kind that met every rule
        of its protocol: for the host's own address target; a kind --answer turned
        on with no scope (no --prefix: --unclaimed alone is none); target outside the
        prefixes; not claimed (--unclaimed); a port unreachable over the limit."""
        if target in self.own:
            return refused("own_address")
        if kind in GATED and self.prefixes is None:
            return refused("no_scope")
        if self.prefixes is not None and not self.in_scope(target):
            return refused("not_in_prefix")
        if self.claims:
            bad = self.claims.admit(kind, vlan_key(f), target)
            if bad:
                return refused(bad)
        if kind in ("udp4", "udp6") and self.errors:
            if not self.errors.take(source):
                return refused("rate_limited")
            if self.errors.beyond_global_burst():
                return "or_limited"
        return None

    def gated_scope(self, target, source):
        """The first look at a kind --answer turns on, once its destination can
        be read, before any rule: refused with no prefix list (no_scope); a
        destination outside it is not a request to us (a router's transit
        traffic, the host's own connections): passed, not refused, whatever its
        header holds; the host's own address in it is the kernel's; a source
        that is one of them is a martian (Linux drops it). The outcome, or None."""
        if self.prefixes is None:
            return refused("no_scope")
        if not self.in_scope(target):
            return passed()
        if target in self.own:
            return refused("own_address")
        if source in self.own:
            return refused("ip_src" if len(source) == 4 else "ip6_src")
        return None

    def gated_answer(self, f, kind, target, source, build):
        """admit()'s verdict on a request of a kind --answer turns on, or its reply (build())."""
        no = self.admit(f, kind, target, source)
        if no and no != "or_limited":
            return no
        out = Outcome("XDP_TX", kind, "-", build())
        out.or_limited = no == "or_limited"
        return out

    def reply_l2_of(self, f, off):
        """The Ethernet header and tags of a reply built afresh behind them."""
        out = bytearray(f[:off])
        self.reply_l2(out, f[6:12])
        return bytes(out)

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
        no = self.admit(f, "arp", f[off + 24:off + 28], f[off + 14:off + 18])
        if no:
            return no
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
        """The kind from the protocol; an ICMP timestamp request (with --answer
        timestamp) by the type where the header length puts it."""
        if off + 20 > len(f):
            return passed()
        proto = f[off + 9]
        if proto == 1:
            if u16(f, off + 6) & 0x3FFF:
                return self.frag4(f, off)
            t = off + (f[off] & 15) * 4
            if "timestamp" in self.answer and t < len(f) and f[t] == 13:
                return self.timestamp(f, off)
            return self.echo4(f, off)
        if proto == 17 and "udp" in self.answer:
            return self.udp4(f, off)
        if proto == 6 and "tcp" in self.answer:
            return self.tcp4(f, off)
        return passed()

    def ipv4_rules(self, f, off):
        """The rules every IPv4 request meets (L2, header, options, addresses):
        the first one broken, or None."""
        if f[0:6] != self.mac:
            return "l2_dst"
        if f[6] & 1 or f[6:12] == ZERO6:
            return "l2_src"
        ver, ihl = f[off] >> 4, f[off] & 15
        if ver != 4 or ihl < 5:
            return "ip_header"
        hlen, tot = ihl * 4, u16(f, off + 2)
        if tot < hlen or off + tot > len(f):
            return "ip_header"
        if u16(f, off + 6) & 0x3FFF:
            return "ip_fragment"
        if hlen > 20:
            bad = self.ipv4_options(f, off + 20, hlen - 20)
            if bad:
                return bad
        src, dst = u32(f, off + 12), u32(f, off + 16)
        if not v4_src_ok(src):
            return "ip_src"
        if not v4_dst_ok(dst):
            return "ip_dst"
        return None

    def echo4(self, f, off):
        bad = self.ipv4_rules(f, off)
        if bad:
            return refused(bad)
        hlen, tot = (f[off] & 15) * 4, u16(f, off + 2)
        icmp = off + hlen
        if icmp + 8 > len(f) or tot - hlen < 8:
            return refused("truncated")
        if f[icmp] != 8:
            return refused("icmp_type")     # any code: Linux answers it and keeps it
        no = self.admit(f, "echo4", f[off + 16:off + 20], f[off + 12:off + 16])
        if no:
            return no
        out = bytearray(f)
        times = []
        if hlen > 20:
            times = self.fill_options(f, out, off + 20, hlen - 20, f[off + 16:off + 20])
            options_changed(f, out, off)
        self.echo4_rewrite(f, off, out, echo4_reply_id(f, off, icmp), icmp)
        return Outcome("XDP_TX", "echo4", "-", bytes(out), times)

    def echo4_rewrite(self, f, off, out, ident, icmp=None):
        """out (f, its options already filled) made the reply: from our MAC, addresses
        swapped, TTL set, DF clear (as Linux sends echo replies; a fragment's offset and MF
        kept), identification ident, both checksums updated (RFC 1624: an error stays); the
        ICMP type 8 -> 0 where the ICMP header is (icmp; none in a later fragment)."""
        self.reply_l2(out, f[6:12])
        out[off + 12:off + 16], out[off + 16:off + 20] = f[off + 16:off + 20], f[off + 12:off + 16]
        old = u16(f, off + 8)
        out[off + 8] = self.ttl
        struct.pack_into("!H", out, off + 10, rfc1624(u16(out, off + 10), old, u16(out, off + 8)))
        old = u16(f, off + 6)
        out[off + 6] &= ~0x40 & 0xFF
        struct.pack_into("!H", out, off + 10, rfc1624(u16(out, off + 10), old, u16(out, off + 6)))
        old = u16(f, off + 4)                # an identification of its own
        struct.pack_into("!H", out, off + 4, ident)
        struct.pack_into("!H", out, off + 10, rfc1624(u16(out, off + 10), old, u16(out, off + 4)))
        if icmp is None:
            return
        old = u16(f, icmp)
        out[icmp] = 0
        # 0x0000 and 0xffff are the same checksum for any message with a
        # non-zero byte; only 0xffff is valid for an all-zero one: write 0xffff
        struct.pack_into("!H", out, icmp + 2, rfc1624(u16(f, icmp + 2), old, u16(out, icmp)) or 0xFFFF)

    FRAG_DATAGRAM_MAX = 65535
    FRAG_REPLY_BUDGET = 2 * 65535      # bytes of reply frames (headers, padding) a datagram's fragments get

    @staticmethod
    def frag_insane(off8, more, plen, most):
        """Truth: a fragment Linux's reassembly drops: empty, not the last and not a multiple
        of 8 bytes, or ending beyond a datagram's most."""
        return not plen or (more and plen & 7) or off8 * 8 + plen > most

    def frag_spend(self, key, size):
        """Spend size bytes of reply frames of the answered datagram key: None, or ip_fragment
        (not answered, or not enough left: nothing spent)."""
        left = self.frags.get(key)
        if left is None or left < size:
            return refused("ip_fragment")
        self.frags[key] = left - size
        return None

    def frag4(self, f, off):
        """A fragment of an ICMP datagram (RFC 791): answered fragment by fragment, as the
        requester's kernel reassembles the reply: the first (offset 0) of an echo request, with
        every rule and limit of one, becomes the reply's first (type 0); it lets the later
        fragments of its datagram (same addresses and identification) become the reply's at
        their offsets, up to 65,535 bytes in all; a later fragment of anything else is the
        kernel's (ip_fragment). No options in any fragment. One identification of our own for
        the reply's fragments: reply_id4() of the request's identification."""
        if f[0:6] != self.mac:
            return refused("l2_dst")
        if f[6] & 1 or f[6:12] == ZERO6:
            return refused("l2_src")
        ver, ihl, tot = f[off] >> 4, f[off] & 15, u16(f, off + 2)
        if ver != 4 or ihl < 5 or tot < ihl * 4 or off + tot > len(f):
            return refused("ip_header")
        if ihl != 5:
            return refused("ip_options")
        src, dst = f[off + 12:off + 16], f[off + 16:off + 20]
        if not v4_src_ok(u32(f, off + 12)):
            return refused("ip_src")
        if not v4_dst_ok(u32(f, off + 16)):
            return refused("ip_dst")
        plen, frag = tot - 20, u16(f, off + 6)
        if self.frag_insane(frag & 0x1FFF, frag & 0x2000, plen, self.FRAG_DATAGRAM_MAX - 20):
            return refused("ip_fragment")
        key, size = ("4", src, dst, f[off + 4:off + 6], vlan_key(f)), len(f) - off
        ident = reply_id4(src, dst, b"\0\0", u16(f, off + 4))
        out = bytearray(f)
        if frag & 0x1FFF:
            no = self.frag_spend(key, size) or self.admit(f, "echo4", dst, src)
            if no:
                return no
            self.echo4_rewrite(f, off, out, ident)
            return Outcome("XDP_TX", "echo4", "-", bytes(out))
        icmp = off + 20
        if icmp + 8 > len(f) or plen < 8:
            return refused("truncated")
        if f[icmp] != 8:
            return refused("icmp_type")
        no = self.admit(f, "echo4", dst, src)
        if no:
            return no
        self.frags[key] = self.FRAG_REPLY_BUDGET - size
        assert len(self.frags) <= 16384, "more datagrams than the program remembers (PONG_FRAG_MAX)"
        self.echo4_rewrite(f, off, out, ident, icmp)
        return Outcome("XDP_TX", "echo4", "-", bytes(out))

    # ---- the kinds --answer turns on: UDP, TCP, ICMP timestamp ----

    def gated4(self, f, off):
        """The rules of a kind --answer turns on, over IPv4: a frame not to our
        MAC (a broadcast, another host's) is not ours: passed; then the scope
        (gated_scope()); then an echo request's rules, no options (Linux would
        echo them in its reply, which the program does not build), a valid
        header checksum (Linux drops a wrong one; a reply built afresh would
        hide it). The outcome, or None."""
        if f[0:6] != self.mac:
            return passed()
        first = self.gated_scope(f[off + 16:off + 20], f[off + 12:off + 16])
        if first:
            return first
        bad = self.ipv4_rules(f, off)
        if bad is None and f[off] & 15 != 5:
            bad = "ip_options"
        if bad is None and ones_sum(f[off:off + 20]) != 0xFFFF:
            bad = "ip_header"
        return refused(bad) if bad else None

    def udp_rules(self, f, u, plen, addrs, v6):
        """The datagram at u, in an IP payload of plen bytes (addrs: the
        pseudo-header's), as Linux's UDP receive takes it (RFC 768, RFC 8200
        8.1): the header within the payload and a length field of at least the
        header and at most the payload (a shorter one trims it), a checksum
        over the pseudo-header and that length: none (0) only over IPv4; or
        the pseudo-header's sum alone, folded, as a local socket's checksum
        offload leaves it on a veth (CHECKSUM_PARTIAL, which the kernel accepts;
        a NIC's frames never carry it). A length field of 0 over IPv6 is the
        payload's (a jumbogram's), as Linux takes it."""
        if u + 8 > len(f) or plen < 8:
            return "truncated"
        ulen, check = self.udp_length(f, u, plen, v6), u16(f, u + 6)
        if ulen < 8 or ulen > plen:
            return "truncated"
        if check == 0:
            return "l4_checksum" if v6 else None
        if not (self.veth and check == l4_sum(addrs, 17, ulen, b"")) and \
                l4_sum(addrs, 17, ulen, f[u:u + ulen]) != 0xFFFF:
            return "l4_checksum"
        return None

    @staticmethod
    def udp_length(f, u, plen, v6):
        ulen = u16(f, u + 4)
        return plen if v6 and ulen == 0 else ulen

    def tcp_rules(self, f, t, plen, addrs):
        """The segment at t, in an IP payload of plen bytes, as Linux's TCP
        receive takes it before a closed port's reset: the header within the
        payload, a data offset of 5 words at least and within the payload, a
        valid checksum (or on a veth CHECKSUM_PARTIAL's, as for UDP), no RST
        (never answered, RFC 9293 3.10.7.1; its checksum is checked first, as
        Linux counts a bad one)."""
        if t + 20 > len(f) or plen < 20:
            return "truncated"
        doff = (f[t + 12] >> 4) * 4
        if doff < 20 or doff > plen:
            return "truncated"
        if not (self.veth and u16(f, t + 16) == l4_sum(addrs, 6, plen, b"")) and \
                l4_sum(addrs, 6, plen, f[t:t + plen]) != 0xFFFF:
            return "l4_checksum"
        if f[t + 13] & TCP_RST:
            return "tcp_rst"
        return None

    def udp4(self, f, off):
        src, dst = f[off + 12:off + 16], f[off + 16:off + 20]
        first = self.gated4(f, off)
        if first:
            return first
        bad = self.udp_rules(f, off + 20, u16(f, off + 2) - 20, src + dst, False)
        if bad:
            return refused(bad)
        return self.gated_answer(f, "udp4", dst, src, lambda: self.unreach4(f, off))

    def unreach4(self, f, off):
        """The port unreachable Linux's icmp_send() sends for a datagram to a
        closed port (RFC 1122 3.2.2.1): from the address asked, type 3 code 3,
        quoting the request's IP header and datagram (as trimmed to its
        length field), 576 bytes in all at most (RFC 1812 4.3.2.3); an error's
        TOS (the request's less precedence and ECN, then "internetwork
        control"), DF clear, an identification of the ports."""
        u, src, dst = off + 20, f[off + 12:off + 16], f[off + 16:off + 20]
        quote = f[off:off + min(20 + u16(f, u + 4), 576 - 28)]
        msg = bytearray(b"\x03\x03\0\0\0\0\0\0" + quote)
        struct.pack_into("!H", msg, 2, csum(bytes(msg)))
        ip = ipv4_header((f[off + 1] & 0x1E) | 0xC0, 20 + len(msg), reply_id4(src, dst, f[u:u + 2], u16(f, u + 2)),
                         0, self.ttl, 1, dst, src)
        return self.reply_l2_of(f, off) + ip + bytes(msg)

    def tcp4(self, f, off):
        src, dst = f[off + 12:off + 16], f[off + 16:off + 20]
        plen = u16(f, off + 2) - 20
        first = self.gated4(f, off)
        if first:
            return first
        bad = self.tcp_rules(f, off + 20, plen, src + dst)
        if bad:
            return refused(bad)
        no = self.admit(f, "tcp4", dst, src)
        if no:
            return no
        # tcp_v4_send_reset(): the request's TOS less ECN, DF, identification 0
        ip = ipv4_header(f[off + 1] & 0xFC, 40, 0, 0x4000, self.ttl, 6, dst, src)
        return Outcome("XDP_TX", "tcp4", "-", self.reply_l2_of(f, off) + ip + self.rst(f, off + 20, plen, dst + src))

    @staticmethod
    def rst(f, t, plen, addrs):
        """The reset for the segment at t (RFC 9293 3.10.7.1): to an ACK, a RST
        whose sequence number is its acknowledgment number; to anything else a
        RST+ACK with sequence number 0 acknowledging the segment's data, SYN and
        FIN. 20 bytes, window 0; addrs: the reset's source and destination."""
        flags, data = f[t + 13], plen - (f[t + 12] >> 4) * 4
        if flags & TCP_ACK:
            seq, ack, out = u32(f, t + 8), 0, TCP_RST
        else:
            seq, out = 0, TCP_RST | TCP_ACK
            ack = (u32(f, t + 4) + data + bool(flags & TCP_SYN) + bool(flags & TCP_FIN)) & 0xFFFFFFFF
        seg = bytearray(struct.pack("!HHIIBBHHH", u16(f, t + 2), u16(f, t), seq, ack, 0x50, out, 0, 0, 0))
        struct.pack_into("!H", seg, 16, ~l4_sum(addrs, 6, 20, bytes(seg)) & 0xFFFF)
        return bytes(seg)

    def timestamp(self, f, off):
        """An ICMP timestamp request (RFC 792), as Linux's icmp_timestamp()
        takes it: the header and the originate time within the message (12
        bytes), a valid checksum. Its reply: 20 bytes of ICMP, type 14 code 0,
        identifier, sequence number and originate time kept, receive and
        transmit times the time of day (adopted: Outcome.times); the IP header
        an echo reply's (TOS kept, DF clear, an identification of our own)."""
        plen, i = u16(f, off + 2) - 20, off + 20
        first = self.gated4(f, off)
        if first:
            return first
        bad = None
        if i + 8 > len(f) or plen < 12:
            bad = "truncated"
        if bad is None and ones_sum(f[i:i + plen]) != 0xFFFF:
            bad = "l4_checksum"
        if bad:
            return refused(bad)
        src, dst = f[off + 12:off + 16], f[off + 16:off + 20]
        no = self.admit(f, "timestamp", dst, src)
        if no:
            return no
        msg = bytearray(b"\x0e\0\0\0" + f[i + 4:i + 12] + bytes(8))
        struct.pack_into("!H", msg, 2, csum(bytes(msg)))
        ip = ipv4_header(f[off + 1], 40, echo4_reply_id(f, off, i), 0, self.ttl, 1, dst, src)
        return Outcome("XDP_TX", "timestamp", "-", self.reply_l2_of(f, off) + ip + bytes(msg), (off + 32, off + 36))

    # ---- IPv6 / ICMPv6 / NDP ----

    def ipv6(self, f, off):
        if off + 40 > len(f):
            return passed()
        nh, p, ext = f[off + 6], off + 40, False
        if nh == 44 and off + 48 <= len(f) and f[off + 40] == 58 and u16(f, off + 42) & 0xFFF9:
            return self.frag6(f, off)       # not an atomic fragment: that one is refused as any extension
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
        if nh == 17 and "udp" in self.answer:
            return self.udp6(f, off, ext)
        if nh == 6 and "tcp" in self.answer:
            return self.tcp6(f, off, ext)
        if nh != 58 or p + 1 > len(f):
            return passed()
        kind = {128: "echo6", 135: "ndp"}.get(f[p])
        if kind is None:
            return passed()
        bad = self.ipv6_rules(f, off, ext)
        if bad:
            return refused(bad)
        plen = u16(f, off + 4)
        src, dst = f[off + 8:off + 24], f[off + 24:off + 40]
        if kind == "echo6":
            return self.echo6(f, off, p, plen, src, dst)
        return self.ns(f, off, p, plen, src, dst)

    @staticmethod
    def ipv6_rules(f, off, ext):
        """The rules every IPv6 request meets first: no extension header, a
        station's source MAC, the version and a payload within the frame."""
        if ext:
            return "ip6_ext_header"
        if f[6] & 1 or f[6:12] == ZERO6:
            return "l2_src"
        if f[off] >> 4 != 6 or off + 40 + u16(f, off + 4) > len(f):
            return "ip_header"
        return None

    def gated6(self, f, off, ext):
        """The rules of a kind --answer turns on, over IPv6: not to our MAC,
        passed (as over IPv4); the scope (gated_scope()); ipv6_rules(), unicast
        addresses (no IPv4-mapped source). The outcome, or None."""
        src, dst = f[off + 8:off + 24], f[off + 24:off + 40]
        if f[0:6] != self.mac:
            return passed()
        first = self.gated_scope(dst, src)
        if first:
            return first
        bad = self.ipv6_rules(f, off, ext)
        if not bad and not v6_unicast(dst):
            bad = "ip6_dst"
        if not bad and (not v6_unicast(src) or v4_mapped(src)):
            bad = "ip6_src"
        return refused(bad) if bad else None

    def udp6(self, f, off, ext):
        src, dst = f[off + 8:off + 24], f[off + 24:off + 40]
        first = self.gated6(f, off, ext)
        if first:
            return first
        bad = self.udp_rules(f, off + 40, u16(f, off + 4), src + dst, True)
        if bad:
            return refused(bad)
        return self.gated_answer(f, "udp6", dst, src, lambda: self.unreach6(f, off))

    def unreach6(self, f, off):
        """The port unreachable Linux's icmp6_send() sends (RFC 4443 3.1): from
        the address asked, traffic class 0, the flow label of the pair (as an
        echo reply's), type 1 code 4, quoting the request's packet (its header,
        the datagram as trimmed to its length field), 1280 bytes in all at
        most (RFC 4443 2.4(c))."""
        src, dst = f[off + 8:off + 24], f[off + 24:off + 40]
        quote = f[off:off + min(40 + self.udp_length(f, off + 40, u16(f, off + 4), True), 1280 - 48)]
        msg = bytearray(b"\x01\x04\0\0\0\0\0\0" + quote)
        struct.pack_into("!H", msg, 2, ~l4_sum(dst + src, 58, len(msg), bytes(msg)) & 0xFFFF)
        ip6 = struct.pack("!IHBB", 0x60000000 | echo6_reply_flow(f, off), len(msg), 58, self.ttl) + dst + src
        return self.reply_l2_of(f, off) + ip6 + bytes(msg)

    def tcp6(self, f, off, ext):
        src, dst = f[off + 8:off + 24], f[off + 24:off + 40]
        plen = u16(f, off + 4)
        first = self.gated6(f, off, ext)
        if first:
            return first
        bad = self.tcp_rules(f, off + 40, plen, src + dst)
        if bad:
            return refused(bad)
        no = self.admit(f, "tcp6", dst, src)
        if no:
            return no
        # tcp_v6_send_reset(): the request's traffic class less ECN, the flow label of the pair
        first = 0x60000000 | (u32(f, off) & 0x0FC00000) | echo6_reply_flow(f, off)
        ip6 = struct.pack("!IHBB", first, 20, 6, self.ttl) + dst + src
        return Outcome("XDP_TX", "tcp6", "-", self.reply_l2_of(f, off) + ip6 + self.rst(f, off + 40, plen, dst + src))

    def frag6(self, f, off):
        """A fragment of an ICMPv6 datagram, its fragment header right after the fixed header
        (RFC 8200 4.5): as frag4(): the first of an echo request becomes the reply's first
        (type 129, as an echo reply's, the reply's own flow label), its datagram's later ones
        the reply's at their offsets; one fragment identification of our own
        (frag6_reply_id())."""
        if f[6] & 1 or f[6:12] == ZERO6:
            return refused("l2_src")
        plen = u16(f, off + 4)
        if f[off] >> 4 != 6 or off + 40 + plen > len(f):
            return refused("ip_header")
        if f[0:6] != self.mac:
            return refused("l2_dst")
        if plen < 8:
            return refused("truncated")
        src, dst = f[off + 8:off + 24], f[off + 24:off + 40]
        if not v6_unicast(dst):
            return refused("ip6_dst")
        if not v6_unicast(src) or v4_mapped(src):
            return refused("ip6_src")
        data, frag = plen - 8, u16(f, off + 42)
        if self.frag_insane(frag >> 3, frag & 1, data, self.FRAG_DATAGRAM_MAX):
            return refused("ip_fragment")
        key, size = ("6", src, dst, f[off + 44:off + 48], vlan_key(f)), len(f) - off
        out = bytearray(f)
        if frag >> 3:
            no = self.frag_spend(key, size) or self.admit(f, "echo6", dst, src)
            if no:
                return no
            self.echo6_rewrite(f, off, out)
            return Outcome("XDP_TX", "echo6", "-", bytes(out))
        p = off + 48
        if p + 8 > len(f) or data < 8:
            return refused("truncated")
        if f[p] != 128:
            return passed()                 # as any ICMPv6 but echo and NS
        no = self.admit(f, "echo6", dst, src)
        if no:
            return no
        self.frags[key] = self.FRAG_REPLY_BUDGET - size
        self.echo6_rewrite(f, off, out, p)
        return Outcome("XDP_TX", "echo6", "-", bytes(out))

    def echo6_rewrite(self, f, off, out, p=None):
        """out (f) made the reply: from our MAC, addresses swapped, hop limit set, our flow label;
        a fragment's identification our own (frag6_reply_id()); type 128 -> 129 with its checksum
        updated where the ICMPv6 header is (p)."""
        src, dst = f[off + 8:off + 24], f[off + 24:off + 40]
        self.reply_l2(out, f[6:12])
        out[off + 8:off + 24], out[off + 24:off + 40] = dst, src
        out[off + 7] = self.ttl
        struct.pack_into("!I", out, off, (u32(f, off) & 0xFFF00000) | echo6_reply_flow(f, off))
        if f[off + 6] == 44:
            out[off + 44:off + 48] = frag6_reply_id(f, off)
        if p is not None:
            old = u16(f, p)
            out[p] = 129
            struct.pack_into("!H", out, p + 2, rfc1624(u16(f, p + 2), old, u16(out, p)))

    def echo6(self, f, off, p, plen, src, dst):
        if f[0:6] != self.mac:
            return refused("l2_dst")
        if p + 8 > len(f) or plen < 8:
            return refused("truncated")
        if not v6_unicast(dst):
            return refused("ip6_dst")
        if not v6_unicast(src) or v4_mapped(src):
            return refused("ip6_src")             # IPv4-mapped sources too; any code, as Linux
        no = self.admit(f, "echo6", dst, src)
        if no:
            return no
        out = bytearray(f)
        self.echo6_rewrite(f, off, out, p)      # version, class kept; our label
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
        no = self.admit(f, "ndp", target, src)
        if no:
            return no
        # R=0 S=1 O=0: a proxy's advertisement must not override the owner's (RFC 4861 7.2.8)
        na = bytearray(struct.pack("!BBHI", 136, 0, 0, 0x40000000) + target + bytes([2, 1]) + self.mac)
        ip6 = struct.pack("!IHBB", 0x60000000, len(na), 58, 255) + target + src
        csum = ~ones_sum(target + src + struct.pack("!IxxxB", len(na), 58) + bytes(na)) & 0xFFFF
        struct.pack_into("!H", na, 2, csum)
        out = bytearray(f[:off])
        self.reply_l2(out, reply_mac)
        return Outcome("XDP_TX", "ndp", "-", bytes(out) + ip6 + bytes(na))
