"""Differential fuzzing: random and mutated frames through the real program
(BPF_PROG_TEST_RUN via build/pong-testrun), each checked against the
independent model in model.py.

The frames: mutations of valid requests of every kind (ARP, ICMP echo with
and without IPv4 options, ICMPv6 echo, NS; UDP, TCP and ICMP timestamp
requests, plain and VLAN-tagged, big ones included), random VLAN stacks and
random bytes. The settings (PATHS): none; a scope of every address; the fast
checks off; the kinds --answer turns on, in a scope that leaves addresses
out; --unclaimed; --icmp-ratelimit.

For every frame: the verdict is XDP_TX or XDP_PASS (XDP_DROP where the
model says rate_limited); a passed frame comes out byte-identical; a reply
equals the model's reply byte for byte; the counter and refusal reason that
moved are the model's; an echo reply's checksums are valid exactly when the
request's were, every other reply's are valid. On each path every counter
and refusal reason it can reach must be reached (UNREACHABLE says what it
cannot, and why), or the fuzzer is not reaching deep enough.

    /usr/bin/python3 tests/datapath/fuzz.py [--count N] [--seed S] [--path P]

replays a run (the seed is printed); `make check` runs 200,000 frames a path
(fewer on the small ones: PATH_SHARE) (tests/datapath/test_fuzz.py), `make
fuzz N=...` runs more.
"""
import argparse
import functools
import os
import random
import re
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from datapath.model import Model, adopt_times, l4_sum, ones_sum, settings_from_args  # noqa: E402
from pylib.env import ROOT, TESTRUN  # noqa: E402
from scapy.layers.inet import ICMP, fragment  # noqa: E402
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6, IPv6ExtHdrFragment, fragment6  # noqa: E402
from pylib.frames import (ANY_IP, ANY_IP6, CLIENT_IP, CLIENT_IP6, ICMPv6NDOptSrcLLAddr, IF_MAC, IP,  # noqa: E402
                          IPv6, PEER_MAC, TCP, UDP, IPv6ExtHdrHopByHop, Raw, arp_request, echo4, echo6, l2, ns)

DEFAULT_COUNT = 200_000
MAC = bytes.fromhex(IF_MAC.replace(":", ""))
TTL = 64


def names_from_header(macro, until):
    """The json names of an X-macro list of the ABI header (so a new counter or
    reason must be reached too)."""
    text = open(os.path.join(ROOT, "xdp", "pong.h")).read()
    block = text.split(f"#define {macro}(X)", 1)[1].split(until, 1)[0]
    return re.findall(r'X\(\w+,\s*"(\w+)"', block)


def reasons_from_header():
    return names_from_header("PONG_REASONS", "enum pong_reason")


COUNTERS = names_from_header("PONG_COUNTERS", "enum pong_counter")


def templates():
    """Valid requests of every kind, plain and tagged, as (name, bytes)."""
    q, qinq = [(0x8100, 5)], [(0x88A8, 6), (0x8100, 7)]
    t = [
        ("echo4", echo4()), ("echo4 q", echo4(tags=q)), ("echo4 qinq", echo4(tags=qinq)),
        ("echo4 opts", echo4(ip_kw={"options": [b"\x07\x07\x04\0\0\0\0\x01"]})),
        ("echo4 rr", echo4(ip_kw={"options": [b"\x01\x07\x0b\x04" + bytes(8)]})),
        ("echo4 ts", echo4(ip_kw={"options": [b"\x44\x0c\x05\x00" + bytes(8)]})),
        ("echo4 ts addr", echo4(ip_kw={"options": [b"\x44\x14\x05\x01" + bytes(16)]})),
        ("echo4 short", echo4(payload=b"")),
        ("arp", arp_request()), ("arp q", arp_request(tags=q)), ("arp unicast", arp_request(dst=IF_MAC)),
        ("echo6", echo6()), ("echo6 qinq", echo6(tags=qinq)),
        ("echo6 hbh", echo6(ext=[IPv6ExtHdrHopByHop()])),
        ("ns", ns()), ("ns q", ns(tags=q)), ("ns nud", ns(dst_ip=ANY_IP6, dst=IF_MAC, slla=None)),
        ("ns nonce", ns(opts=Raw(bytes([14, 1]) + b"\1" * 6) / ICMPv6NDOptSrcLLAddr(lladdr=PEER_MAC))),
        ("udp", l2() / IP(src="198.51.100.2", dst=ANY_IP) / UDP(dport=7) / Raw(b"u" * 20)),
        # a fragmented echo request (ping -s 600 over a 400-byte MTU): its first and later fragments
        *[(f"echo4 fragment {i}", l2() / p) for i, p in enumerate(fragment(
            IP(src=CLIENT_IP, dst=ANY_IP, id=777) / ICMP(id=5, seq=6) / Raw(b"f" * 600), fragsize=376))],
        *[(f"echo6 fragment {i}", l2() / p) for i, p in enumerate(fragment6(
            IPv6(src=CLIENT_IP6, dst=ANY_IP6) / IPv6ExtHdrFragment(id=778) / ICMPv6EchoRequest(id=5, seq=6) /
            Raw(b"g" * 600), 400))],
    ]
    return [(name, bytes(pkt)) for name, pkt in t] + gated_templates(q, qinq)


def v4(tags=(), **ip_kw):
    return l2(tags=tags) / IP(src=CLIENT_IP, dst=ANY_IP, **ip_kw)


def v6(tags=(), **ip_kw):
    return l2(tags=tags) / IPv6(src=CLIENT_IP6, dst=ANY_IP6, **ip_kw)


def gated_templates(q, qinq):
    """The kinds --answer turns on, as traceroute, tcptraceroute, nmap and ping -T
    send them: UDP (checksum valid, none, or as a local socket leaves it;
    empty, trimmed by its length field, padded, and big enough to be quoted
    only in part), TCP (SYN, ACK, SYN with data, FIN, options), ICMP
    timestamp requests (short, full, long); with options or an extension
    header (refused) too."""
    probe, big = Raw(b"u" * 32), Raw(bytes(range(256)) * 5 + bytes(172))    # 1472 bytes: a full frame
    syn = TCP(sport=40000, dport=80, flags="S", seq=1000, window=64240)
    ack = TCP(sport=40000, dport=80, flags="A", seq=1000, ack=5555, window=512)
    stamp = timestamp_request(0x1234, 7, b"\x01\x02\x03\x04" + bytes(8))
    rr = {"options": [b"\x07\x07\x04\0\0\0\0\x01"]}
    t = [
        ("udp4", v4() / UDP(sport=40000, dport=33434) / probe),
        ("udp4 q", v4(q) / UDP(sport=40000, dport=33434) / probe),
        ("udp4 qinq", v4(qinq) / UDP(sport=40001, dport=33435) / probe),
        ("udp4 tos df", v4(tos=0xB9, flags="DF") / UDP(sport=53, dport=53) / probe),
        ("udp4 empty", v4() / UDP(sport=40000, dport=33434)),
        ("udp4 big", v4() / UDP(sport=40000, dport=33434) / big),
        ("udp4 big q", v4(q) / UDP(sport=40000, dport=33434) / Raw(bytes(540))),
        ("udp4 opts", v4(**rr) / UDP(sport=40000, dport=33434) / probe),
        ("udp6", v6() / UDP(sport=40000, dport=33434) / probe),
        ("udp6 q", v6(q, tc=0xB9, fl=0x12345) / UDP(sport=40000, dport=33434) / probe),
        ("udp6 big", v6() / UDP(sport=40000, dport=33434) / Raw(bytes(range(256)) * 5 + bytes(132))),
        ("udp6 hbh", l2() / IPv6(src=CLIENT_IP6, dst=ANY_IP6) / IPv6ExtHdrHopByHop() / UDP(dport=33434) / probe),
        ("tcp4 syn", v4() / syn), ("tcp4 ack", v4() / ack),
        ("tcp4 syn data", v4() / syn / Raw(b"d" * 20)),
        ("tcp4 fin", v4() / TCP(sport=40000, dport=80, flags="F", seq=0xFFFFFFFF)),
        ("tcp4 fin ack", v4(q, tos=0xB9) / TCP(sport=40000, dport=80, flags="FA", seq=77, ack=99)),
        ("tcp4 mss", v4(qinq, flags="DF") / TCP(sport=40000, dport=443, flags="S", options=[("MSS", 1460)])),
        ("tcp4 opts", v4(**rr) / syn),
        ("tcp6 syn", v6() / syn), ("tcp6 ack", v6(qinq) / ack),
        ("tcp6 syn data", v6(tc=0xB9, fl=0xABCDE) / syn / Raw(b"d" * 20)),
        ("timestamp", v4(proto=1) / stamp), ("timestamp q", v4(q, proto=1, tos=0xB9, flags="DF") / stamp),
        ("timestamp short", v4(proto=1) / timestamp_request(1, 2, b"\x01\x02\x03\x04")),     # the originate time only
        ("timestamp long", v4(qinq, proto=1) / timestamp_request(3, 4, bytes(range(40)))),
        ("timestamp opts", v4(proto=1, **rr) / stamp),
    ]
    out = [(name, bytes(pkt)) for name, pkt in t]
    by = dict(out)
    return out + [
        ("udp4 csum 0", l4_checksum(by["udp4"], "none")), ("udp4 partial", l4_checksum(by["udp4 q"], "partial")),
        ("udp6 partial", l4_checksum(by["udp6 q"], "partial")),
        ("tcp4 partial", l4_checksum(by["tcp4 ack"], "partial")),
        ("tcp6 partial", l4_checksum(by["tcp6 ack"], "partial")),
        # a length field shorter than the IP payload: the datagram ends there (Linux trims it), so
        # does the quote; and Ethernet padding after the IP packet, not quoted either
        ("udp4 trimmed", l4_checksum(udp_length(by["udp4"], 8 + 10), "valid")),
        ("udp6 trimmed", l4_checksum(udp_length(by["udp6"], 8 + 1), "valid")),
        ("udp4 padded", by["udp4"] + bytes(17)),
    ]


def timestamp_request(ident, seq, times):
    """An ICMP timestamp request (type 13) carrying times (the originate, receive
    and transmit times: 12 bytes, or fewer or more), as bytes: scapy's ICMP
    would add times of its own, from the clock."""
    msg = bytearray(struct.pack("!BBHHH", 13, 0, 0, ident, seq) + times)
    msg[2:4] = struct.pack("!H", ~ones_sum(bytes(msg)) & 0xFFFF)
    return Raw(bytes(msg))


def udp_length(b, ulen):
    """b (a UDP datagram's frame) with its UDP length field set to ulen."""
    L, _, _ = l4_offset(b)
    return b[:L + 4] + struct.pack("!H", ulen) + b[L + 6:]


INTERESTING8 = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11, 0x12, 0x14, 0x18, 0x20,
                0x40, 0x44, 0x45, 0x46, 0x4F, 0x50, 0x60, 0x7F, 0x80, 0x81, 0x83, 0x86, 0x87, 0x88, 0x89, 0xF0,
                0xF1, 0xFE, 0xFF, 58, 135, 136, 128, 129, 0x33, 0xA8, 17, 44]
INTERESTING32 = [0, 1, 0x7F000001, 0xE0000001, 0xEFFFFFFF, 0xF0000001, 0xFFFFFFFF, 0x00FFFFFF, 0xC6336402,
                 0xCB007107, 0xCB007109, 0xFF020000, 0x60000000]
# UDP lengths at the quote's limits: 20 + 528 = 576 - 28 (IPv4), 40 + 1192 = 1280 - 48 (IPv6); TCP data
# offset and flags words (SYN, ACK, RST)
INTERESTING16 = [0, 1, 0x0800, 0x0806, 0x86DD, 0x8100, 0x88A8, 0x3FFF, 0x2000, 0x4000, 0xFFFF, 7, 8, 9, 12,
                 19, 20, 21, 24, 28, 32, 40, 64, 256, 528, 529, 548, 1192, 1193, 1232, 1500, 0x5002, 0x5010, 0x5004]


MACS = [b"\xff" * 6, bytes(6), b"\x01\x00\x5e\x00\x00\x01", b"\x33\x33\x00\x00\x00\x01",
        b"\x33\x33\xff\x00\x00\x07", MAC, bytes.fromhex("020000000002"), bytes.fromhex("030000000001")]
ADDR6 = [bytes(16), bytes(15) + b"\x01", bytes.fromhex("ff020000000000000000000000000001"),
         bytes.fromhex("ff0200000000000000000001ff000007"), bytes.fromhex("fe800000000000000000000000000001"),
         bytes.fromhex("20010db8009900000000000000000007"), bytes.fromhex("20010db8007700000000000000000002"),
         bytes.fromhex("20010db8009900000000000000000009")]
# The host's own addresses on every path (203.0.113.9, 2001:db8:99::9: among the values above, so
# mutations reach them): requests for them are the kernel's (own_address).
OWN = ("203.0.113.9", "2001:db8:99::9")
OWN_BYTES = (bytes([203, 0, 113, 9]), bytes.fromhex("20010db8009900000000000000000009"))


def l4_offset(b):
    """(offset of the transport header, IP protocol, offset of the IP header) of a
    frame without IPv6 extension headers; the protocol None if not IP."""
    off, etype = 14, struct.unpack_from("!H", b, 12)[0] if len(b) >= 14 else 0
    while etype in (0x8100, 0x88A8) and off + 4 <= len(b):
        etype = struct.unpack_from("!H", b, off + 2)[0]
        off += 4
    if etype == 0x0800 and off + 20 <= len(b):
        return off + (b[off] & 15) * 4, b[off + 9], off
    if etype == 0x86DD and off + 40 <= len(b):
        return off + 40, b[off + 6], off
    return None, None, off


def fields(b):
    """(offset, size) of the header fields of a template, for field-aware mutation."""
    off, etype = 14, struct.unpack_from("!H", b, 12)[0]
    out = [(0, 6), (6, 6), (12, 2)]
    while etype in (0x8100, 0x88A8):
        out.append((off, 2))
        etype = struct.unpack_from("!H", b, off + 2)[0]
        off += 4
    L = off
    if etype == 0x0800:
        hl = (b[L] & 15) * 4
        out += [(L, 1), (L + 1, 1), (L + 2, 2), (L + 6, 2), (L + 8, 1), (L + 9, 1), (L + 12, 4), (L + 16, 4),
                (L + 20, 1), (L + 21, 1), (L + hl, 1), (L + hl + 1, 1)]
        if hl > 20:                       # option lengths, pointers, flags (record route, timestamp)
            out += [(L + 22, 1), (L + 23, 1), (L + 24, 1)]
        out += transport_fields(L + hl, b[L + 9])
    elif etype == 0x0806:
        out += [(L, 2), (L + 2, 2), (L + 4, 1), (L + 5, 1), (L + 6, 2), (L + 8, 6), (L + 14, 4), (L + 18, 6),
                (L + 24, 4)]
    elif etype == 0x86DD:
        out += [(L, 1), (L + 4, 2), (L + 6, 1), (L + 7, 1), (L + 8, 16), (L + 24, 16), (L + 40, 1), (L + 41, 1),
                (L + 48, 16), (L + 64, 1), (L + 65, 1), (L + 66, 6)]
        out += transport_fields(L + 40, b[L + 6])
    return [(o, n) for o, n in out if o + n <= len(b)]


def transport_fields(t, proto):
    """UDP: ports, length, checksum; TCP: sequence and acknowledgment numbers, data
    offset, flags, checksum; an ICMP timestamp's originate time."""
    if proto == 17:
        return [(t, 2), (t + 2, 2), (t + 4, 2), (t + 6, 2)]
    if proto == 6:
        return [(t + 2, 2), (t + 4, 4), (t + 8, 4), (t + 12, 1), (t + 13, 1), (t + 16, 2)]
    if proto == 1:
        return [(t + 2, 2), (t + 8, 4)]
    return []


def field_value(rng, b, n):
    if n == 1:
        return bytes([rng.choice(INTERESTING8)])
    if n == 2:
        return struct.pack("!H", rng.choice(INTERESTING16))
    if n == 4:
        return struct.pack("!I", rng.choice(INTERESTING32 + [rng.getrandbits(32)]))
    if n == 6:
        return rng.choice(MACS)
    return rng.choice(ADDR6 + [rng.randbytes(16)])


def fix_checksums(b, rng):
    """Make the L3/L4 checksums valid again (so mutated frames reach deep rules):
    a UDP or TCP checksum now and then as a local socket's checksum offload
    leaves it, a UDP one now and then none."""
    b = bytearray(b)
    off, etype = 14, struct.unpack_from("!H", b, 12)[0] if len(b) >= 14 else 0
    while etype in (0x8100, 0x88A8) and off + 4 <= len(b):
        etype = struct.unpack_from("!H", b, off + 2)[0]
        off += 4
    how = rng.choices(["valid", "partial", "none"], [85, 10, 5])[0]
    try:
        if etype == 0x0800 and off + 20 <= len(b):
            hl = (b[off] & 15) * 4
            if 20 <= hl and off + hl <= len(b):
                b[off + 10:off + 12] = b"\0\0"
                b[off + 10:off + 12] = struct.pack("!H", ~ones_sum(bytes(b[off:off + hl])) & 0xFFFF)
                tot = struct.unpack_from("!H", b, off + 2)[0]
                if b[off + 9] == 1 and off + hl + 4 <= len(b) and hl <= tot and off + tot <= len(b):
                    b[off + hl + 2:off + hl + 4] = b"\0\0"
                    s = ~ones_sum(bytes(b[off + hl:off + tot])) & 0xFFFF
                    b[off + hl + 2:off + hl + 4] = struct.pack("!H", s)
                elif b[off + 9] in (6, 17) and hl <= tot and off + tot <= len(b):
                    set_l4_checksum(b, off + hl, tot - hl, bytes(b[off + 12:off + 20]), b[off + 9], how)
        elif etype == 0x86DD and off + 40 <= len(b) and b[off + 6] == 58:
            plen = struct.unpack_from("!H", b, off + 4)[0]
            p = off + 40
            if p + 4 <= len(b) and p + plen <= len(b):
                b[p + 2:p + 4] = b"\0\0"
                pseudo = bytes(b[off + 8:off + 40]) + struct.pack("!IxxxB", plen, 58)
                b[p + 2:p + 4] = struct.pack("!H", ~ones_sum(pseudo + bytes(b[p:p + plen])) & 0xFFFF)
        elif etype == 0x86DD and off + 40 <= len(b) and b[off + 6] in (6, 17):
            plen = struct.unpack_from("!H", b, off + 4)[0]
            if off + 40 + plen <= len(b):
                set_l4_checksum(b, off + 40, plen, bytes(b[off + 8:off + 40]), b[off + 6], how)
    except struct.error:
        pass
    return bytes(b)


def set_l4_checksum(b, t, plen, addrs, proto, how):
    """The UDP (17) or TCP (6) checksum of the header at t in b (a bytearray), in
    an IP payload of plen bytes, addrs the pseudo-header's: "valid"; "partial",
    the pseudo-header's sum alone (CHECKSUM_PARTIAL, as a local socket's
    offload leaves it); "none" (0: valid for UDP over IPv4 only). Left alone
    where the header or length does not fit."""
    if proto == 17:
        if t + 8 > len(b) or plen < 8 or not 8 <= struct.unpack_from("!H", b, t + 4)[0] <= plen:
            return
        length, at = struct.unpack_from("!H", b, t + 4)[0], t + 6
    else:
        if t + 20 > len(b) or plen < 20:
            return
        length, at = plen, t + 16
    b[at:at + 2] = b"\0\0"
    if how == "partial":
        value = l4_sum(addrs, proto, length, b"")
    elif how == "none" and proto == 17:
        value = 0
    else:   # a UDP sum of zero goes as 0xffff (RFC 768): 0 would say "none"
        value = ~l4_sum(addrs, proto, length, bytes(b[t:t + length])) & 0xFFFF or (0xFFFF if proto == 17 else 0)
    b[at:at + 2] = struct.pack("!H", value)


def l4_checksum(b, how):
    """The frame b (UDP or TCP, no extension header) with its transport checksum
    set as set_l4_checksum() says."""
    t, proto, ip = l4_offset(b)
    if ip is None or proto is None:
        return b
    out = bytearray(b)
    if b[ip] >> 4 == 4:
        plen, addrs = struct.unpack_from("!H", b, ip + 2)[0] - (t - ip), b[ip + 12:ip + 20]
    else:
        plen, addrs = struct.unpack_from("!H", b, ip + 4)[0], b[ip + 8:ip + 40]
    set_l4_checksum(out, t, plen, addrs, proto, how)
    return bytes(out)


def mutate(rng, tmpls):
    """One fuzz frame: a mutated valid request, a random VLAN stack, or random bytes."""
    r = rng.random()
    if r < 0.08:
        return rng.randbytes(rng.randint(0, 1514))
    name, b = rng.choice(tmpls)
    b = bytearray(b)
    if r < 0.18:                               # a random VLAN stack in front of the payload
        tags = b"".join(struct.pack("!HH", rng.choice([0x8100, 0x88A8, 0x8100, rng.getrandbits(16)]),
                                    rng.getrandbits(16)) for _ in range(rng.randint(0, 3)))
        b = b[:12] + tags + b[12:]
    flds = fields(bytes(b))
    for _ in range(rng.randint(1, 3)):
        how = rng.random()
        if not b:
            break
        i = rng.randrange(len(b))
        if how < 0.35 and flds:                # a header field set to a boundary value
            o, n = rng.choice(flds)
            if rng.random() < 0.2:             # or to another field's value (sender == target ...)
                o2, n2 = rng.choice([x for x in flds if x[1] == n] or [(o, n)])
                b[o:o + n] = b[o2:o2 + n]
            else:
                b[o:o + n] = field_value(rng, b, n)
        elif how < 0.45:
            b[i] = rng.choice(INTERESTING8)
        elif how < 0.55 and len(b) >= 2:
            i = rng.randrange(len(b) - 1)
            b[i:i + 2] = struct.pack("!H", rng.choice(INTERESTING16))
        elif how < 0.75:
            b[i] ^= 1 << rng.randrange(8)
        elif how < 0.80 and len(b) >= 4:
            i = rng.randrange(len(b) - 3)
            b[i:i + 4] = struct.pack("!I", rng.choice(INTERESTING32))
        elif how < 0.85 and len(b) >= 16:       # copy a field (sender == target), or zero an address
            i, j = rng.randrange(len(b) - 3), rng.randrange(len(b) - 3)
            n = rng.choice([4, 4, 16])
            b[j:j + n] = bytes(n) if rng.random() < 0.4 else b[i:i + n]
        elif how < 0.95:
            b = b[:rng.randint(0, len(b))]     # truncation
        else:
            b += rng.randbytes(rng.randint(1, 64))
    if rng.random() < 0.6:
        b = bytearray(fix_checksums(bytes(b), rng))
    if rng.random() < 0.03 and len(b) >= 6:                    # the interface's MAC, or a solicited-node MAC
        b[0:6] = MAC if rng.random() < 0.5 else b"\x33\x33\xff" + rng.randbytes(3)
    return bytes(b)


def cut_lengths(n):
    """The lengths a template is cut to: every one up to 160 bytes (the headers),
    then every 37th (the rest of a big datagram is more of the same)."""
    return sorted(set(range(min(n, 160) + 1)) | set(range(161, n + 1, 37)) | {n})


@functools.lru_cache(maxsize=2)
def frames(seed, count):
    """The frames of a run (a tuple): the same for every path given seed and count."""
    rng = random.Random(seed)
    tmpls = templates()
    out = []
    for _, b in tmpls:                         # truncation at (nearly) every length of every template
        out += [b[:n] for n in cut_lengths(len(b))]
        out.append(b)
    while len(out) < count:
        out.append(mutate(rng, tmpls))
    return tuple(out)


GATED = "udp,tcp,timestamp"
# The ways through the program: with no settings, the fast path answers the
# common requests; with a policy on, the fast checks classify them and the
# policy follows; with the fast checks off (a test-only load option), every
# frame goes through the rules one by one. A scope holding every address
# changes no verdict, so the same model checks all three. "rules" also turns
# the kinds --answer gates on, without a scope: they are refused (no_scope)
# after their own rules, which names the reason; default and policy keep them
# off (their frames pass, a timestamp request is an echo's icmp_type).
# "gated" answers them, in a scope that leaves addresses out (not_in_prefix);
# "unclaimed" (--unclaimed, nothing ever claimed: pong-testrun runs no probes)
# refuses every request that needs a claim; "limited" gives each source its
# burst of port unreachables (an interval of a minute, longer than its run).
# Settings are the CLI's (pong-testrun applies them as `xdp-pong set` does);
# the model takes the same (model.settings_from_args()).
PATHS = {
    "default": (),
    "policy": ("--prefix", "0.0.0.0/0", "--prefix", "::/0"),
    "rules": ("--rules-only", "--answer", GATED),
    "gated": ("--prefix", "203.0.113.0/24", "--prefix", "2001:db8:99::/48", "--answer", GATED,
              "--icmp-ratelimit", "0", "--veth"),
    "unclaimed": ("--unclaimed", "--answer", GATED),
    "limited": ("--prefix", "0.0.0.0/0", "--prefix", "::/0", "--answer", "udp", "--icmp-ratelimit", "60000"),
}
# The share of --count a path runs (the others: all of it), and the most it
# runs: "limited" must finish within the minute its buckets take to refill one
# port unreachable (the model knows no time); a few thousand frames reach
# what the two small paths are for, the other paths reach the rest.
PATH_SHARE = {"unclaimed": 0.1, "limited": 0.05}
PATH_MAX = {"limited": 20_000}


def path_count(path, count):
    return min(PATH_MAX.get(path, count), max(1, int(count * PATH_SHARE.get(path, 1))))


def run_frames(fs, extra=()):
    own = [a for addr in OWN for a in ("--own", addr)]
    proc = subprocess.run([TESTRUN, "--mac", IF_MAC, "--ttl", str(TTL), *own, *extra],
                          input="".join(f.hex() + "\n" for f in fs),
                          capture_output=True, text=True, check=False, timeout=1800)
    return proc.returncode, proc.stdout.splitlines(), proc.stderr


def echo_csum_valid(frame, outcome_kind):
    """(ok) whether the ICMP/ICMPv6 checksum of an echo frame is valid; None if not applicable."""
    off, etype = 14, struct.unpack_from("!H", frame, 12)[0]
    while etype in (0x8100, 0x88A8):
        etype = struct.unpack_from("!H", frame, off + 2)[0]
        off += 4
    if outcome_kind == "echo4":
        hl, tot = (frame[off] & 15) * 4, struct.unpack_from("!H", frame, off + 2)[0]
        return ones_sum(frame[off + hl:off + tot]) == 0xFFFF
    if outcome_kind == "echo6":
        plen = struct.unpack_from("!H", frame, off + 4)[0]
        pseudo = frame[off + 8:off + 40] + struct.pack("!IxxxB", plen, 58)
        return ones_sum(pseudo + frame[off + 40:off + 40 + plen]) == 0xFFFF
    return None


def csum_problems(req, out, counter):
    """An echo reply's checksum is valid exactly when the request's was; every
    other reply built afresh (port unreachable, RST, timestamp reply) has valid
    checksums: its IPv4 header's, and its ICMP, ICMPv6 or TCP one."""
    if counter in ("echo4", "echo6"):
        v_req, v_rep = echo_csum_valid(req, counter), echo_csum_valid(out, counter)
        return [] if v_req == v_rep else [f"request checksum valid={v_req}, reply valid={v_rep}"]
    if counter not in GATED_COUNTERS:
        return []
    t, proto, ip = l4_offset(out)
    if out[ip] >> 4 == 4:
        tot = struct.unpack_from("!H", out, ip + 2)[0]
        problems = [] if ones_sum(out[ip:ip + 20]) == 0xFFFF else ["IPv4 header checksum"]
        pseudo = l4_sum(out[ip + 12:ip + 20], 6, tot - 20, b"") if proto == 6 else 0
        total = ones_sum(struct.pack("!H", pseudo) + out[t:ip + tot])
    else:
        plen = struct.unpack_from("!H", out, ip + 4)[0]
        problems, total = [], l4_sum(out[ip + 8:ip + 40], proto, plen, out[t:t + plen])
    return problems + ([] if total == 0xFFFF else [f"{counter} reply: protocol {proto} checksum"])


# What each path cannot reach, and why: path -> (reasons, counters); the rest it
# must reach. no_room, everywhere: BPF_PROG_TEST_RUN gives every frame 256
# bytes of headroom and the rest of a page as tailroom, so every reply fits.
NO_ROOM = ("no_room",)
KINDS_OFF = ("l4_checksum", "tcp_rst", "no_scope")                 # UDP, TCP and timestamp frames pass
NOT_LIMITED = ("rate_limited",)        # no --icmp-ratelimit (the --*-pps limits are not fuzzed: timing)
NOT_CLAIMING = ("not_claimed", "owner_seen")                      # no --unclaimed
EVERY_ADDRESS = ("not_in_prefix",)     # no scope, or one holding every address
GATED_COUNTERS = ("udp4", "udp6", "tcp4", "tcp6", "timestamp")
# the small paths (PATH_SHARE) are asked only what they are for: a few thousand
# frames do not reach the rarest protocol reasons every time, the big paths do
PROTOCOL = ("l2_dst", "l2_src", "truncated", "ip_header", "ip_fragment", "ip_options", "ip_src", "ip_dst",
            "icmp_type", "icmp_code", "arp_format", "arp_op", "arp_probe", "arp_gratuitous", "arp_target",
            "ip6_src", "ip6_dst", "ip6_ext_header", "ndp_hop_limit", "ndp_format", "ndp_checksum", "ndp_dad",
            "ndp_target", "ndp_self", "ndp_dst", "l4_checksum", "tcp_rst", "own_address")
UNREACHABLE = {
    "default": (NO_ROOM + KINDS_OFF + NOT_LIMITED + NOT_CLAIMING + EVERY_ADDRESS, GATED_COUNTERS),
    "policy": (NO_ROOM + KINDS_OFF + NOT_LIMITED + NOT_CLAIMING + EVERY_ADDRESS, GATED_COUNTERS),
    # the kinds are refused: no scope, before their own checksums and flags are looked at
    "rules": (NO_ROOM + NOT_LIMITED + NOT_CLAIMING + EVERY_ADDRESS + ("l4_checksum", "tcp_rst"), GATED_COUNTERS),
    # a scope: no_scope never; port unreachables unlimited
    "gated": (NO_ROOM + NOT_LIMITED + NOT_CLAIMING + ("no_scope",), ()),
    # nothing is ever claimed: no ARP or NDP reply; --unclaimed without a prefix list is no scope for
    # the gated kinds (no_scope), so no error is sent, and none limited
    "unclaimed": (NO_ROOM + PROTOCOL + NOT_LIMITED + EVERY_ADDRESS, ("arp", "ndp") + GATED_COUNTERS),
    # --answer udp only, in a scope of every address
    "limited": (NO_ROOM + PROTOCOL + NOT_CLAIMING + EVERY_ADDRESS + ("no_scope",), ("tcp4", "tcp6", "timestamp")),
}


def fuzz(seed, count, path="default"):
    """Run count frames (path_count()) from seed through the real program (its
    settings choosing the path, PATHS) and the model.
    Returns {"ran": bool, "error", "frames", "bad": {category: [(i, detail)]},
    "missing_counters": [...], "missing_reasons": [...]}."""
    print(f"  fuzz: seed {seed}, {path_count(path, count)} frames, {path} path (replay: /usr/bin/python3 "
          f"tests/datapath/fuzz.py --seed {seed} --count {count} --path {path})", flush=True)
    t0 = time.time()
    fs = frames(seed, path_count(path, count))
    model = Model(MAC, TTL, OWN_BYTES, **settings_from_args(PATHS[path]))
    rc, lines, err = run_frames(fs, PATHS[path])
    if rc != 0 or len(lines) != len(fs):
        return {"ran": False, "error": err[-300:], "frames": fs}
    bad = {"verdict": [], "pass_changed": [], "reply": [], "counting": [], "csum": []}
    seen_counters, seen_reasons = set(), set()
    for i, (f, line) in enumerate(zip(fs, lines)):
        verdict, counter, reason, out = line.split(" ")
        want = model.predict(f)
        if want.verdict == "ERROR":
            if not verdict.startswith("ERROR"):
                bad["verdict"].append((i, f"kernel accepted a {len(f)}-byte frame"))
            continue
        out = bytes.fromhex(out) if out != "-" else b""
        seen_counters.add(counter)
        seen_reasons.add(reason)
        if verdict not in ("XDP_TX", "XDP_PASS", "XDP_DROP") or (verdict == "XDP_DROP") != (reason == "rate_limited"):
            bad["verdict"].append((i, f"{verdict} ({reason})"))
        if verdict == "XDP_PASS" and out != f:
            bad["pass_changed"].append((i, "passed frame changed"))
        if want.or_limited and (verdict, counter, reason) == ("XDP_DROP", "refused", "rate_limited"):
            continue                     # past the host-wide error burst: sent or not, by the clock
        if (verdict, counter, reason) != (want.verdict, want.counter, want.reason):
            bad["counting"].append((i, f"got {verdict}/{counter}/{reason}, model {want}"))
        elif verdict == "XDP_TX":
            if want.times:
                want.frame, problems = adopt_times(want.frame, out, want.times)
                bad["reply"] += [(i, p) for p in problems]
            if out != want.frame:
                bad["reply"].append((i, f"reply differs from the model's: got {out.hex()} want {want.frame.hex()}"))
            bad["csum"] += [(i, p) for p in csum_problems(f, out, counter)]
    print(f"  fuzz: {len(fs)} frames in {time.time() - t0:.1f}s", flush=True)
    cannot_reasons, cannot_counters = UNREACHABLE[path]
    return {"ran": True, "frames": fs, "bad": bad,
            "missing_counters": [c for c in COUNTERS if c not in seen_counters and c not in cannot_counters],
            "missing_reasons": [r for r in reasons_from_header() if r not in seen_reasons and r not in cannot_reasons]}


def never_fuzzed():
    """Counters and reasons no path can reach: (counters, reasons)."""
    return ([c for c in COUNTERS if all(c in UNREACHABLE[p][1] for p in PATHS)],
            [r for r in reasons_from_header() if all(r in UNREACHABLE[p][0] for p in PATHS)])


def describe(result, category):
    fs = result["frames"]
    return "; ".join(f"frame {i} ({fs[i].hex()[:120]}...): {d}" for i, d in result["bad"][category][:3])


def main():
    ap = argparse.ArgumentParser(description="differential fuzzing of the xdp-pong datapath")
    ap.add_argument("--count", type=int, default=DEFAULT_COUNT)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--path", choices=[*PATHS, "all"], default="all",
                    help="one way through the program (PATHS: none, the fast path; policy, a scope of every "
                    "address; rules, the fast checks off; gated, --answer in a scope; unclaimed; limited, "
                    "--icmp-ratelimit), or all of them (the default)")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 32)
    passed = failed = 0
    for path in (PATHS if args.path == "all" else [args.path]):
        result = fuzz(seed, args.count, path)
        if not result["ran"]:
            print(f"pong-testrun did not run every frame: {result['error']}")
            failed += 1
            continue
        for category, items in result["bad"].items():
            print(f"  {category} mismatches: {len(items)} of {len(result['frames'])}" +
                  (f": {describe(result, category)}" if items else ""))
            failed += bool(items)
            passed += not items
        for what in ("missing_counters", "missing_reasons"):
            print(f"  never reached: {result[what]}" if result[what] else f"  every {what[8:-1]} reached")
            failed += bool(result[what])
            passed += not result[what]
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
