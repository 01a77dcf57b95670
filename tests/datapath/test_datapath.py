"""Datapath tables: every rule of xdp/pong.bpf.c as input frame -> verdict -> bytes.

Each row is a test (`pytest -k 'ndp: link-local'` runs one). A table runs
through the real program with BPF_PROG_TEST_RUN (build/pong-testrun) once,
in order (the rate-limit tables carry state from row to row); each row's
test then checks its line. A reply must equal, byte for byte, the reply
built here independently with scapy, and its checksums are verified with
our own routine. A passed frame must come out unchanged, with the right
counter and refusal reason moved.
"""
import os
import subprocess
import time

import pytest

from datapath.model import adopt_times, echo4_reply_id, echo6_reply_flow, frag6_reply_id, reply_id4
from pylib.env import TESTRUN
from pylib.frames import (IPV4_OPTION_CASES, ZERO_MAC, ANY_IP, ANY_IP6, ARP, BCAST, CLIENT_IP, CLIENT_IP6,  # noqa: E402
                          ICMP, option_bytes,
                          IF_MAC, IP, OTHER_MAC, PEER_MAC, TCP, UDP, Ether, ICMPv6ND_NA,
                          ICMPv6NDOptDstLLAddr, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
                          IPv6ExtHdrHopByHop, Raw, arp_request, checksum_ok, echo4, echo6, l2,
                          l3_offset, ns, ones_sum, solicited_node, tags_of)
from scapy.layers.inet6 import (ICMPv6DestUnreach, ICMPv6EchoReply, ICMPv6ND_Redirect, ICMPv6ND_RA,  # noqa: E402
                                ICMPv6ND_RS, ICMPv6MLReport2, ICMPv6NDOptSrcLLAddr)



class Reply:
    """Expect XDP_TX, the given counter, and output equal to `frame`.

    csum_error: the request's ICMP checksum (True) or IPv4 header checksum
    ("ip") is wrong; the reply must carry exactly the same error.
    times: offsets in frame of the times of day the program writes (IPv4
    timestamp options), taken from its output and checked for plausibility.
    """
    def __init__(self, counter, frame, csum_error=False, times=()):
        self.counter, self.frame, self.csum_error, self.times = counter, bytes(frame), csum_error, times


def icmp_checksum_again(frame):
    """frame (an IPv4 ICMP message without options) with its ICMP checksum summed again:
    a timestamp reply's, once the times the program wrote are adopted."""
    b = bytearray(frame)
    off = l3_offset(b) + 20
    b[off + 2:off + 4] = b"\0\0"
    b[off + 2:off + 4] = (~ones_sum(bytes(b[off:])) & 0xFFFF).to_bytes(2, "big")
    return bytes(b)


class Pass:
    """Expect XDP_PASS with the frame untouched, counted under counter/reason."""
    def __init__(self, counter="passed", reason="-"):
        self.counter, self.reason = counter, reason


def refused(reason):
    return Pass("refused", reason)


class Drop:
    """Expect XDP_DROP, counted as refused with reason."""
    def __init__(self, reason):
        self.reason = reason


# ---- expected replies, built from the request with scapy ----

def echo4_reply(req, ttl=64):
    """As Linux: DF clear, an identification of its own (the model's echo4_reply_id(), seed 0 as
    pong-testrun loads the program; test_ip_id_is_our_own checks what the values do)."""
    raw = bytes(req)
    off = l3_offset(raw)
    rep = Ether(raw)
    rep[Ether].dst, rep[Ether].src = req[Ether].src, IF_MAC
    rep[IP].src, rep[IP].dst = req[IP].dst, req[IP].src
    rep[IP].ttl = ttl
    rep[IP].flags = int(rep[IP].flags) & ~0x2
    rep[IP].id = echo4_reply_id(raw, off, off + (raw[off] & 0x0F) * 4)
    rep[ICMP].type = 0
    del rep[IP].chksum
    del rep[ICMP].chksum
    return rep


def echo4_reply_options(req, options_hex):
    """The echo reply to req with its IPv4 options as given, in hex with spaces
    ignored ("AAAAAAAA": the address asked; "TTTTTTTT": a time of day the
    program writes). The options are what Linux's reply carried for the same
    request (tests/lab/test_oracle.py asks Linux the same). Returns (frame,
    offsets of the times in it)."""
    addr = bytes(int(x) for x in req[IP].dst.split(".")).hex()
    text = options_hex.replace(" ", "").replace("AAAAAAAA", addr)
    rep = echo4_reply(req)
    raw = bytes(rep)
    start = l3_offset(raw) + 20
    times, i = [], 0
    while i < len(text):
        if text[i:i + 8] == "TTTTTTTT":
            times.append(start + i // 2)
            i += 8
        else:
            i += 2
    opts = bytes.fromhex(text.replace("TTTTTTTT", "00000000"))
    assert len(opts) == (rep[IP].ihl - 5) * 4, options_hex
    rep = Ether(raw[:start] + opts + raw[start + len(opts):])
    del rep[IP].chksum
    return Ether(bytes(rep)), times


def arp_reply(req):
    rep = Ether(bytes(req))
    rep[Ether].dst, rep[Ether].src = req[Ether].src, IF_MAC
    rep[ARP].op = 2
    rep[ARP].hwdst, rep[ARP].pdst = req[ARP].hwsrc, req[ARP].psrc
    rep[ARP].hwsrc, rep[ARP].psrc = IF_MAC, req[ARP].pdst
    return rep


def echo6_reply(req, ttl=64):
    """As Linux: the flow label its own (the model's echo6_reply_flow(), seed 0 as pong-testrun
    loads the program; test_flow_label_is_our_own checks what the values do)."""
    raw = bytes(req)
    rep = Ether(raw)
    rep[IPv6].fl = echo6_reply_flow(raw, l3_offset(raw))
    rep[Ether].dst, rep[Ether].src = req[Ether].src, IF_MAC
    rep[IPv6].src, rep[IPv6].dst = req[IPv6].dst, req[IPv6].src
    rep[IPv6].hlim = ttl
    rep[IPv6].payload.type = 129
    del rep[IPv6].payload.cksum
    return rep


def na_for(req, to_mac):
    """The advertisement RFC 4861 asks of a proxy: R=0 S=1 O=0, TLLA = our MAC, hop limit 255."""
    target = req[IPv6].payload.tgt
    return (l2(dst=to_mac, src=IF_MAC, tags=tags_of(req)) /
            IPv6(src=target, dst=req[IPv6].src, hlim=255, tc=0, fl=0) /
            ICMPv6ND_NA(R=0, S=1, O=0, tgt=target) / ICMPv6NDOptDstLLAddr(lladdr=IF_MAC))


def set_bytes(frame, at, data):
    """Overwrite bytes at an offset from the L3 header."""
    b = bytearray(frame)
    off = l3_offset(b) + at
    b[off:off + len(data)] = data
    return bytes(b)


def raw_ip(req_bytes, **patch):
    """Patch raw IPv4 header fields of a built frame (to make invalid headers)."""
    b = bytearray(req_bytes)
    off = l3_offset(b)
    if "ver_ihl" in patch:
        b[off] = patch["ver_ihl"]
    if "tot_len" in patch:
        b[off + 2:off + 4] = patch["tot_len"].to_bytes(2, "big")
    return bytes(b)


def cases_ipv4():
    q = [(0x8100, 100)]
    qinq = [(0x88A8, 200), (0x8100, 100)]
    req = echo4()
    yield "echo4: any destination", bytes(req), Reply("echo4", echo4_reply(req))
    for n in (0, 57, 1472):
        r = echo4(payload=(bytes(range(256)) * 6)[:n])
        yield f"echo4: payload {n} bytes", bytes(r), Reply("echo4", echo4_reply(r))
    r = echo4(dst_ip="240.0.0.1")
    yield "echo4: destination in 240/4 (not broadcast) is answered", bytes(r), Reply("echo4", echo4_reply(r))
    r = echo4(tags=q)
    yield "echo4: 802.1Q tag kept", bytes(r), Reply("echo4", echo4_reply(r))
    r = echo4(tags=qinq)
    yield "echo4: QinQ tags kept", bytes(r), Reply("echo4", echo4_reply(r))
    r = echo4(tags=[(0x8100, 10), (0x8100, 20), (0x8100, 30)])
    yield "echo4: three tags -> passed", bytes(r), Pass()
    r = echo4(ip_kw={"options": [b"\x94\x04\x00\x00"]})  # Router Alert, IHL 6
    yield "echo4: IP options (IHL 6) echoed", bytes(r), Reply("echo4", echo4_reply(r))
    r = echo4(ip_kw={"options": [b"\x07\x27\x04" + bytes(36) + b"\x01"]})  # record route, IHL 15
    want, times = echo4_reply_options(r, "07270c AAAAAAAA AAAAAAAA" + "00" * 28 + "01")
    yield "echo4: record route (IHL 15): ours recorded twice", bytes(r), \
        Reply("echo4", want, times=times)
    for name, opt, reply in IPV4_OPTION_CASES:
        r = echo4(ip_kw={"options": [option_bytes(opt, ANY_IP)]})
        if reply is None:
            yield f"refuse echo4: {name} (Linux: parameter problem or no reply)", bytes(r), refused("ip_options")
        else:
            want, times = echo4_reply_options(r, reply)
            yield f"echo4: {name}, as Linux fills it", bytes(r), Reply("echo4", want, times=times)
    r = echo4(ip_kw={"options": [bytes.fromhex("44 0c 05 00" + "00" * 8)], "chksum": 0x3333})
    want, times = echo4_reply_options(r, "440c0d00 TTTTTTTT TTTTTTTT")
    yield "echo4: timestamp filled, a wrong header checksum stays wrong", bytes(r), \
        Reply("echo4", want, csum_error="ip", times=times)
    r = echo4(ip_kw={"options": [b"\x01" * 8 + b"\x00" * 4]})
    yield "echo4: eight NOPs, then the end of options: answered (as Linux; its reply leaves them out)", \
        bytes(r), Reply("echo4", echo4_reply(r))
    r = echo4(ip_kw={"options": [b"\x01\x01\x94\x04\x00\x00\x00\x00"]})  # NOP NOP RA EOL
    yield "echo4: NOPs, router alert and end-of-options echoed", bytes(r), Reply("echo4", echo4_reply(r))
    r = echo4(ip_kw={"chksum": 0x1111})
    yield "echo4: wrong IPv4 header checksum stays wrong", bytes(r), Reply("echo4", echo4_reply(r), csum_error="ip")
    r = echo4(ip_kw={"flags": "DF", "id": 0})    # as ping sends it: DF, identification 0
    yield "echo4: DF cleared, as Linux sends echo replies", bytes(r), Reply("echo4", echo4_reply(r))
    r = echo4(ip_kw={"flags": "DF", "id": 0, "chksum": 0x2222})
    yield "echo4: DF cleared, a wrong header checksum stays wrong", bytes(r), \
        Reply("echo4", echo4_reply(r), csum_error="ip")
    r = Ether(bytes(echo4(payload=b"")) + b"\0" * 18)      # padded to 60 bytes
    yield "echo4: Ethernet padding kept", bytes(r), Reply("echo4", echo4_reply(r))
    r = echo4(ident=0, seq=0, payload=b"")
    yield "echo4: all-zero reply message gets checksum 0xffff", bytes(r), Reply("echo4", echo4_reply(r))
    r = echo4(icmp_kw={"chksum": 0x1234})
    yield "echo4: wrong ICMP checksum stays wrong", bytes(r), Reply("echo4", echo4_reply(r), csum_error=True)
    r = echo4(ip_kw={"tos": 0xB8, "id": 4321, "flags": "DF"})
    yield "echo4: TOS, id, DF kept", bytes(r), Reply("echo4", echo4_reply(r))

    yield "refuse echo4: destination MAC not ours", bytes(echo4(dst=OTHER_MAC)), refused("l2_dst")
    yield "refuse echo4: destination MAC broadcast", bytes(echo4(dst=BCAST)), refused("l2_dst")
    yield "refuse echo4: source MAC multicast", bytes(echo4(src="01:00:5e:00:00:01")), refused("l2_src")
    yield "refuse echo4: source MAC broadcast", bytes(echo4(src=BCAST)), refused("l2_src")
    yield "refuse echo4: source MAC all-zero", bytes(echo4(src=ZERO_MAC)), refused("l2_src")
    yield "refuse echo4: IP version 6", raw_ip(bytes(echo4()), ver_ihl=0x65), refused("ip_header")
    yield "refuse echo4: IHL 4", raw_ip(bytes(echo4()), ver_ihl=0x44), refused("ip_header")
    yield "refuse echo4: total length beyond frame", raw_ip(bytes(echo4()), tot_len=1000), refused("ip_header")
    yield "refuse echo4: total length below IHL", raw_ip(bytes(echo4()), tot_len=16), refused("ip_header")
    yield "refuse echo4: ICMP header cut short", raw_ip(bytes(echo4(payload=b"")), tot_len=24), refused("truncated")
    yield "refuse echo4: frame cut inside the ICMP header (length beyond frame)", \
        bytes(echo4(payload=b""))[:14 + 20 + 4], refused("ip_header")
    for name, opt in (("loose source route", b"\x83\x07\x04\xc6\x33\x64\x09\x01"),
                      ("strict source route", b"\x89\x07\x04\xc6\x33\x64\x09\x01"),
                      ("option length 1", b"\x07\x01\x00\x00"),
                      ("option longer than the header", b"\x44\x10\x05\x00"),
                      ("more than 8 options (40 NOPs)", b"\x01" * 40)):
        yield f"refuse echo4: IP options, {name}", bytes(echo4(ip_kw={"options": [opt]})), refused("ip_options")
    yield "refuse echo4: a later fragment whose first was never answered", bytes(echo4(ip_kw={"frag": 100})), \
        refused("ip_fragment")
    for src in ("0.1.2.3", "127.0.0.1", "224.0.0.5", "239.255.255.250", "240.0.0.1", "255.255.255.255"):
        yield f"refuse echo4: source {src}", bytes(echo4(src_ip=src)), refused("ip_src")
    for dst in ("0.0.0.0", "0.255.1.2", "127.0.0.1", "127.255.255.254", "224.0.0.1", "239.1.2.3",
                "255.255.255.255"):
        yield f"refuse echo4: destination {dst}", bytes(echo4(dst_ip=dst)), refused("ip_dst")
    for t in (0, 3, 11, 13):
        yield f"refuse ICMP type {t}", bytes(echo4(icmp_kw={"type": t})), refused("icmp_type")
    for code in (1, 9, 255):    # nmap's OS detection sends code 9; Linux answers with the code kept
        r = echo4(icmp_kw={"code": code})
        yield f"echo4: code {code} answered, the code kept", bytes(r), Reply("echo4", echo4_reply(r))

    yield "pass: TCP", bytes(l2() / IP(src=CLIENT_IP, dst=ANY_IP) / TCP(dport=80)), Pass()
    yield "pass: UDP", bytes(l2() / IP(src=CLIENT_IP, dst=ANY_IP) / UDP(dport=53) / Raw(b"q")), Pass()
    yield "pass: UDP fragment (rules apply to ICMP only)", \
        bytes(l2() / IP(src=CLIENT_IP, dst=ANY_IP, flags="MF") / UDP()), Pass()
    yield "pass: LLDP", bytes(Ether(dst="01:80:c2:00:00:0e", src=PEER_MAC, type=0x88CC) / Raw(b"\0" * 46)), Pass()
    yield "pass: unknown EtherType", bytes(Ether(dst=IF_MAC, src=PEER_MAC, type=0x1234) / Raw(b"\0" * 46)), Pass()
    yield "pass: Ethernet header only", bytes(Ether(dst=IF_MAC, src=PEER_MAC, type=0x0800)), Pass()
    yield "pass: IPv4 header cut short", bytes(echo4())[:14 + 12], Pass()
    yield "pass: VLAN tag cut short", bytes(echo4(tags=q))[:16], Pass()


def arp_raw(body_hex):
    """An ARP frame (EtherType 0x0806, broadcast) whose body is given as it is, malformed on purpose."""
    return Ether(dst=BCAST, src=PEER_MAC, type=0x0806) / Raw(bytes.fromhex(body_hex))


def fragments4(payload_len=2000, ident=4242, src_ip=CLIENT_IP, dst_ip=ANY_IP, mtu=1500, **kw):
    """An echo request of payload_len bytes, cut into the fragments a host with
    this MTU sends (scapy's fragment()), each a frame to us."""
    from scapy.layers.inet import fragment
    pkt = IP(src=src_ip, dst=dst_ip, id=ident, **kw) / ICMP(type=8, id=0x1234, seq=1) / \
        Raw((bytes(range(256)) * 300)[:payload_len])
    return [l2() / p for p in fragment(pkt, fragsize=mtu - 20)]


def fragment_reply(req, ttl=64):
    """The reply's fragment for a request's fragment, as Linux's reply is cut on the same MTU:
    the same offset, MF and length, addresses swapped, TTL set, DF clear, one identification of
    our own for the whole datagram (the model's reply_id4() of the request's identification),
    the first fragment's ICMP type 0 with its checksum updated for that alone."""
    raw = bytearray(bytes(req))
    off = l3_offset(raw)
    rep = Ether(bytes(raw))
    ident = reply_id4(raw[off + 12:off + 16], raw[off + 16:off + 20], b"\0\0", int.from_bytes(raw[off + 4:off + 6], "big"))
    rep[Ether].dst, rep[Ether].src = req[Ether].src, IF_MAC
    rep[IP].src, rep[IP].dst, rep[IP].ttl, rep[IP].id = req[IP].dst, req[IP].src, ttl, ident
    rep[IP].flags = int(rep[IP].flags) & ~0x2
    del rep[IP].chksum
    out = bytearray(bytes(rep))
    if req[IP].frag == 0:
        icmp = off + 20
        old = int.from_bytes(out[icmp:icmp + 2], "big")
        out[icmp] = 0
        check = int.from_bytes(out[icmp + 2:icmp + 4], "big")
        new = ~ones_sum((~check & 0xFFFF).to_bytes(2, "big") + (~old & 0xFFFF).to_bytes(2, "big") +
                        bytes(out[icmp:icmp + 2])) & 0xFFFF
        out[icmp + 2:icmp + 4] = (new or 0xFFFF).to_bytes(2, "big")
    return Ether(bytes(out))


def cases_fragments():
    """Fragmented echo requests (ping -s 2000): each fragment becomes the reply's fragment at the
    same offset; a later fragment only once its datagram's first was answered."""
    first, second = fragments4()
    yield "fragments: the first of a 2008-byte echo request gets the reply's first", bytes(first), \
        Reply("echo4", fragment_reply(first))
    yield "fragments: its second gets the reply's second", bytes(second), Reply("echo4", fragment_reply(second))
    a, b, c = fragments4(payload_len=3000, ident=7)
    yield "fragments: three of 3008 bytes, the first", bytes(a), Reply("echo4", fragment_reply(a))
    yield "fragments: the third before the second", bytes(c), Reply("echo4", fragment_reply(c))
    yield "fragments: the second", bytes(b), Reply("echo4", fragment_reply(b))
    x, y = fragments4(ident=8)
    yield "refuse fragments: a later one before its first: the kernel's", bytes(y), refused("ip_fragment")
    yield "fragments: then its first is answered", bytes(x), Reply("echo4", fragment_reply(x))
    x, y = fragments4(ident=9, dst_ip=OWN4_FRAG)
    yield "refuse fragments: the first, to the host's own address", bytes(x), refused("own_address")
    yield "refuse fragments: so its second is not answered either", bytes(y), refused("ip_fragment")
    x, y = fragments4(ident=10, options=[b"\x94\x04\x00\x00"])
    yield "refuse fragments: the first with options", bytes(x), refused("ip_options")
    yield "refuse fragments: the second of that datagram (router alert is copied into it)", bytes(y), \
        refused("ip_options")
    r = Ether(bytes(fragments4(ident=11)[0]))
    r[ICMP].type = 0
    del r[ICMP].chksum
    yield "refuse fragments: the first of an echo reply", bytes(Ether(bytes(r))), refused("icmp_type")
    yield "refuse fragments: the second of that one", bytes(fragments4(ident=11)[1]), refused("ip_fragment")
    big = fragments4(payload_len=65000, ident=12)
    yield "fragments: a 65,008-byte request, the first", bytes(big[0]), Reply("echo4", fragment_reply(big[0]))
    for i, f in enumerate(big[1:], start=2):
        yield f"fragments: the 65,008-byte request's fragment {i}", bytes(f), Reply("echo4", fragment_reply(f))
    x = Ether(bytes(fragments4(ident=14)[1]))
    for name, patch in (("empty", {"len": 20, "frag": 200}),
                        ("ending beyond a datagram's 65,535 bytes", {"frag": 8180}),
                        ("not the last, and not a multiple of 8 bytes", {"flags": "MF", "len": 20 + 13})):
        r = Ether(bytes(x))
        for k, v in patch.items():
            setattr(r[IP], k, v)
        del r[IP].chksum
        yield f"refuse fragments: one {name} (Linux drops it)", bytes(Ether(bytes(r))), refused("ip_fragment")
    x, y = fragments4(ident=13, dst_ip="198.51.100.9")
    yield "refuse fragments: the first, outside the prefix", bytes(x), refused("not_in_prefix")
    yield "refuse fragments: its second", bytes(y), refused("ip_fragment")


OWN4_FRAG = "203.0.113.9"


def fragments6(payload_len=1453, ident=4242, dst_ip=ANY_IP6, mtu=1500):
    """An ICMPv6 echo request of payload_len bytes as a host with this MTU fragments it
    (ping -6 -s 1453: 1461 bytes of ICMPv6, over 1452)."""
    from scapy.layers.inet6 import ICMPv6EchoRequest, fragment6
    pkt = IPv6(src=CLIENT_IP6, dst=dst_ip) / IPv6ExtHdrFragment(id=ident) / ICMPv6EchoRequest(id=0x4321, seq=1) / \
        Raw((bytes(range(256)) * 300)[:payload_len])
    return [l2() / p for p in fragment6(pkt, mtu)]


def fragment6_reply(req, ttl=64):
    """As fragment_reply(), over IPv6: the flow label the pair's, the fragment identification
    the model's frag6_reply_id(), the first fragment's type 129."""
    raw = bytes(req)
    off = l3_offset(raw)
    out = bytearray(raw)
    out[0:6], out[6:12] = raw[6:12], bytes.fromhex(IF_MAC.replace(":", ""))
    out[off + 8:off + 24], out[off + 24:off + 40] = raw[off + 24:off + 40], raw[off + 8:off + 24]
    out[off + 7] = ttl
    out[off:off + 4] = ((int.from_bytes(raw[off:off + 4], "big") & 0xFFF00000) |
                        echo6_reply_flow(raw, off)).to_bytes(4, "big")
    out[off + 44:off + 48] = frag6_reply_id(raw, off)
    if int.from_bytes(raw[off + 42:off + 44], "big") & 0xFFF8 == 0:
        p = off + 48
        out[p] = 129
        check = int.from_bytes(raw[p + 2:p + 4], "big")
        out[p + 2:p + 4] = (~ones_sum((~check & 0xFFFF).to_bytes(2, "big") + (~0x8000 & 0xFFFF).to_bytes(2, "big") +
                                      (0x8100).to_bytes(2, "big")) & 0xFFFF).to_bytes(2, "big")
    return Ether(bytes(out))


def cases_fragments6():
    """Fragmented ICMPv6 echo requests (ping -6 -s 1453), as IPv4's."""
    first, second = fragments6()
    yield "fragments6: the first of a 1461-byte echo request gets the reply's first", bytes(first), \
        Reply("echo6", fragment6_reply(first))
    yield "fragments6: its second gets the reply's second", bytes(second), Reply("echo6", fragment6_reply(second))
    x, y = fragments6(ident=5)
    yield "refuse fragments6: a later one before its first", bytes(y), refused("ip_fragment")
    x, y = fragments6(ident=6, dst_ip="2001:db8:99::9")
    yield "refuse fragments6: the first, to the host's own address", bytes(x), refused("own_address")
    yield "refuse fragments6: its second", bytes(y), refused("ip_fragment")


def cases_arp():
    req = arp_request()
    yield "arp: broadcast request for any address", bytes(req), Reply("arp", arp_reply(req))
    r = arp_request(dst=IF_MAC)
    yield "arp: unicast request to our MAC", bytes(r), Reply("arp", arp_reply(r))
    r = arp_request(tags=[(0x8100, 7)])
    yield "arp: 802.1Q tag kept", bytes(r), Reply("arp", arp_reply(r))
    r = arp_request(tags=[(0x88A8, 7), (0x8100, 8)])
    yield "arp: QinQ tags kept", bytes(r), Reply("arp", arp_reply(r))
    r = Ether(bytes(arp_request()) + b"\0" * 18)
    yield "arp: Ethernet padding kept", bytes(r), Reply("arp", arp_reply(r))
    r = arp_request(sha="02:00:00:00:00:77")
    yield "arp: reply goes to the ARP sender's hardware address", bytes(r), Reply("arp", arp_reply(r))

    yield "refuse arp: destination MAC another host", bytes(arp_request(dst=OTHER_MAC)), refused("l2_dst")
    yield "refuse arp: destination MAC multicast", bytes(arp_request(dst="01:00:5e:00:00:01")), refused("l2_dst")
    yield "refuse arp: source MAC multicast", bytes(arp_request(src="03:00:00:00:00:01")), refused("l2_src")
    yield "refuse arp: source MAC broadcast", bytes(arp_request(src=BCAST)), refused("l2_src")
    yield "refuse arp: source MAC all-zero", bytes(arp_request(src=ZERO_MAC)), refused("l2_src")
    yield "refuse arp: sender MAC multicast", bytes(arp_request(sha="01:00:5e:00:00:01")), refused("l2_src")
    yield "refuse arp: sender MAC zero", bytes(arp_request(sha="00:00:00:00:00:00")), refused("l2_src")
    for spa in ("127.0.0.1", "224.0.0.1", "240.0.0.1", "255.255.255.255", "0.0.0.1"):
        yield f"refuse arp: sender IP {spa}", bytes(arp_request(sender=spa)), refused("ip_src")
    yield "refuse arp: truncated", bytes(arp_request())[:14 + 20], refused("truncated")
    yield "refuse arp: hardware type 6", bytes(arp_request(arp_kw={"hwtype": 6})), refused("arp_format")
    yield "refuse arp: protocol IPv6", bytes(arp_request(arp_kw={"ptype": 0x86DD})), refused("arp_format")
    yield "refuse arp: hardware length 8", \
        bytes(arp_raw("0001080008040001" + "00" * 20)), refused("arp_format")
    yield "refuse arp: protocol length 16", \
        bytes(arp_raw("0001080006100001" + "00" * 20)), refused("arp_format")
    for op in (2, 3, 4):
        yield f"refuse arp: op {op}", bytes(arp_request(arp_kw={"op": op})), refused("arp_op")
    yield "refuse arp: probe (sender 0.0.0.0)", bytes(arp_request(sender="0.0.0.0")), refused("arp_probe")
    yield "refuse arp: gratuitous (sender == target)", \
        bytes(arp_request(sender=ANY_IP, target=ANY_IP)), refused("arp_gratuitous")
    for t in ("0.0.0.1", "127.0.0.1", "224.0.0.251", "255.255.255.255"):
        yield f"refuse arp: target {t}", bytes(arp_request(target=t)), refused("arp_target")


def cases_ipv6():
    q = [(0x8100, 100)]
    qinq = [(0x88A8, 200), (0x8100, 100)]
    for n in (0, 57, 1452):
        r = echo6(payload=(bytes(range(256)) * 6)[:n])
        yield f"echo6: payload {n} bytes", bytes(r), Reply("echo6", echo6_reply(r))
    r = echo6(tags=q)
    yield "echo6: 802.1Q tag kept", bytes(r), Reply("echo6", echo6_reply(r))
    r = echo6(tags=qinq)
    yield "echo6: QinQ tags kept", bytes(r), Reply("echo6", echo6_reply(r))
    r = echo6(dst_ip="fe80::1", src_ip="fe80::2")
    yield "echo6: link-local addresses", bytes(r), Reply("echo6", echo6_reply(r))
    r = echo6(ip_kw={"tc": 0x28, "fl": 12345})
    yield "echo6: traffic class kept, the flow label our own", bytes(r), Reply("echo6", echo6_reply(r))
    r = echo6(icmp_kw={"cksum": 0x1234})
    yield "echo6: wrong checksum stays wrong", bytes(r), Reply("echo6", echo6_reply(r), csum_error=True)

    yield "refuse echo6: destination MAC not ours", bytes(echo6(dst=OTHER_MAC)), refused("l2_dst")
    yield "refuse echo6: destination MAC multicast", bytes(echo6(dst="33:33:00:00:00:01")), refused("l2_dst")
    yield "refuse echo6: source MAC multicast", bytes(echo6(src="33:33:00:00:00:01")), refused("l2_src")
    yield "refuse echo6: source MAC all-zero", bytes(echo6(src=ZERO_MAC)), refused("l2_src")
    yield "refuse echo6: IPv4-mapped source (::ffff:0:0/96)", bytes(echo6(src_ip="::ffff:198.51.100.2")), \
        refused("ip6_src")
    for dst in ("ff02::1", "ff0e::1234", "::", "::1"):
        yield f"refuse echo6: destination {dst}", bytes(echo6(dst_ip=dst)), refused("ip6_dst")
    for src in ("::", "ff02::1", "::1"):
        yield f"refuse echo6: source {src}", bytes(echo6(src_ip=src)), refused("ip6_src")
    yield "refuse echo6: payload length beyond frame", set_bytes(bytes(echo6()), 4, b"\x04\x00"), refused("ip_header")
    yield "refuse echo6: IP version 4", set_bytes(bytes(echo6()), 0, b"\x40"), refused("ip_header")
    yield "refuse echo6: payload length 4", set_bytes(bytes(echo6()), 4, b"\x00\x04"), refused("truncated")
    for code in (1, 9, 255):
        r = echo6(icmp_kw={"code": code})
        yield f"echo6: code {code} answered, the code kept", bytes(r), Reply("echo6", echo6_reply(r))
    yield "refuse echo6: hop-by-hop header first", bytes(echo6(ext=[IPv6ExtHdrHopByHop()])), refused("ip6_ext_header")
    yield "refuse echo6: destination options first", bytes(echo6(ext=[IPv6ExtHdrDestOpt()])), refused("ip6_ext_header")
    yield ("refuse echo6: an atomic fragment (offset 0, M clear: RFC 6946; Linux's reply would carry no "
           "fragment header)"), bytes(echo6(ext=[IPv6ExtHdrFragment(id=3)])), refused("ip6_ext_header")

    r = ns()
    yield "ndp: multicast NS -> NA to its source link-layer address", bytes(r), Reply("ndp", na_for(r, PEER_MAC))
    r = ns(slla="02:00:00:00:00:55")
    yield "ndp: NA goes to the SLLA option, not the frame source", bytes(r), \
        Reply("ndp", na_for(r, "02:00:00:00:00:55"))
    r = ns(dst_ip=ANY_IP6, dst=IF_MAC, slla=None)
    yield "ndp: unicast NS without options (NUD) -> NA to frame source", bytes(r), Reply("ndp", na_for(r, PEER_MAC))
    r = ns(src_ip="fe80::2")
    yield "ndp: link-local solicitor", bytes(r), Reply("ndp", na_for(r, PEER_MAC))
    r = ns(target="fe80::abcd")
    yield "ndp: link-local target", bytes(r), Reply("ndp", na_for(r, PEER_MAC))
    r = ns(tags=q)
    yield "ndp: 802.1Q tag kept", bytes(r), Reply("ndp", na_for(r, PEER_MAC))
    r = ns(tags=qinq)
    yield "ndp: QinQ tags kept", bytes(r), Reply("ndp", na_for(r, PEER_MAC))
    r = ns(opts=Raw(bytes([14, 1]) + b"\x01" * 6) / ICMPv6NDOptSrcLLAddr(lladdr=PEER_MAC))
    yield "ndp: NS with a nonce option before SLLA", bytes(r), Reply("ndp", na_for(r, PEER_MAC))

    nonce = Raw(bytes([14, 1]) + b"\x01" * 6)
    r = ns(opts=nonce / nonce / nonce / nonce / nonce / nonce / nonce / ICMPv6NDOptSrcLLAddr(lladdr=PEER_MAC))
    yield "ndp: NS with 8 options", bytes(r), Reply("ndp", na_for(r, PEER_MAC))

    group, gmac = solicited_node(ANY_IP6)
    yield "refuse ndp: 9 options", bytes(ns(opts=nonce / nonce / nonce / nonce / nonce / nonce / nonce / nonce /
                                            ICMPv6NDOptSrcLLAddr(lladdr=PEER_MAC))), refused("ndp_format")
    yield "refuse ndp: longer than 256 bytes", \
        bytes(ns(opts=Raw(bytes([14, 31]) + bytes(246)) / ICMPv6NDOptSrcLLAddr(lladdr=PEER_MAC))), refused("ndp_format")
    bad = bytearray(bytes(ns()))
    bad[14 + 40 + 8 + 3] ^= 0x10   # flip a bit of the target, checksum left as it was
    yield "refuse ndp: wrong checksum", bytes(bad), refused("ndp_checksum")
    yield "refuse ndp: hop limit 64", bytes(ns(hlim=64)), refused("ndp_hop_limit")
    yield "refuse ndp: code 1", bytes(ns(ns_kw={"code": 1})), refused("icmp_code")
    short = bytes(ns(slla=None))[:-4]
    yield "refuse ndp: ICMPv6 length 20", set_bytes(short, 4, b"\x00\x14"), refused("ndp_format")
    for tgt in ("ff02::1", "::", "::1"):
        yield f"refuse ndp: target {tgt}", bytes(ns(target=tgt, dst_ip="ff02::1:ff00:1", dst="33:33:ff:00:00:01")), \
            refused("ndp_target")
    yield "refuse ndp: DAD probe (source ::)", bytes(ns(src_ip="::", slla=None)), refused("ndp_dad")
    yield "refuse ndp: source multicast", bytes(ns(src_ip="ff02::1")), refused("ip6_src")
    yield "refuse ndp: destination all-nodes", bytes(ns(dst_ip="ff02::1", dst="33:33:00:00:00:01")), refused("ndp_dst")
    yield "refuse ndp: destination another target's group", \
        bytes(ns(dst_ip="ff02::1:ff00:8", dst="33:33:ff:00:00:08")), refused("ndp_dst")
    yield "refuse ndp: destination another unicast address", \
        bytes(ns(dst_ip="2001:db8:99::8", dst=IF_MAC)), refused("ndp_dst")
    yield "refuse ndp: Ethernet destination another host", bytes(ns(dst=OTHER_MAC)), refused("l2_dst")
    yield "refuse ndp: Ethernet destination another group", bytes(ns(dst="33:33:ff:00:00:08")), refused("l2_dst")
    yield "refuse ndp: source MAC multicast", bytes(ns(src="33:33:00:00:00:02")), refused("l2_src")
    yield "refuse ndp: SLLA multicast", bytes(ns(slla="01:00:5e:00:00:01")), refused("l2_src")
    yield "refuse ndp: source MAC all-zero", bytes(ns(src=ZERO_MAC)), refused("l2_src")
    yield "refuse ndp: SLLA all-zero (the NA would go to 00:00:00:00:00:00)", bytes(ns(slla=ZERO_MAC)), \
        refused("l2_src")
    yield "refuse ndp: source is the target (NDP's gratuitous ARP)", \
        bytes(ns(target=ANY_IP6, src_ip=ANY_IP6)), refused("ndp_self")
    yield "refuse ndp: option length 0", bytes(ns(opts=Raw(bytes([1, 0]) + bytes(6)))), refused("ndp_format")
    yield "refuse ndp: SLLA of length 2", bytes(ns(opts=Raw(bytes([1, 2]) + bytes(14)))), refused("ndp_format")
    yield "refuse ndp: option beyond payload", \
        set_bytes(bytes(ns(opts=Raw(bytes([14, 2]) + bytes(6)))), 4, b"\x00\x20"), refused("ndp_format")
    yield "refuse ndp: hop-by-hop header first", \
        bytes(l2(dst=gmac) / IPv6(src=CLIENT_IP6, dst=group, hlim=255) / IPv6ExtHdrHopByHop(nh=58) /
              Raw(bytes(ns())[14 + 40:])), refused("ip6_ext_header")

    pv6 = dict(src=CLIENT_IP6, dst=ANY_IP6)
    yield "pass: neighbour advertisement", \
        bytes(l2() / IPv6(hlim=255, **pv6) / ICMPv6ND_NA(tgt=CLIENT_IP6)), Pass()
    yield "pass: router solicitation", \
        bytes(l2(dst="33:33:00:00:00:02") / IPv6(src=CLIENT_IP6, dst="ff02::2", hlim=255) / ICMPv6ND_RS()), Pass()
    yield "pass: router advertisement", \
        bytes(l2(dst="33:33:00:00:00:01") / IPv6(src="fe80::1", dst="ff02::1", hlim=255) / ICMPv6ND_RA()), Pass()
    yield "pass: redirect", bytes(l2() / IPv6(hlim=255, **pv6) / ICMPv6ND_Redirect()), Pass()
    yield "pass: echo reply", bytes(l2() / IPv6(**pv6) / ICMPv6EchoReply()), Pass()
    yield "pass: MLDv2 report behind hop-by-hop", \
        bytes(l2(dst="33:33:00:00:00:16") / IPv6(src="fe80::2", dst="ff02::16", hlim=1) /
              IPv6ExtHdrHopByHop() / ICMPv6MLReport2()), Pass()
    yield "pass: UDP over IPv6", bytes(l2() / IPv6(**pv6) / UDP(dport=53)), Pass()
    yield "pass: TCP over IPv6", bytes(l2() / IPv6(**pv6) / TCP(dport=80)), Pass()
    yield "pass: IPv6 header cut short", bytes(echo6())[:14 + 30], Pass()
    later = bytes(l2() / IPv6(**pv6) / IPv6ExtHdrFragment(nh=58, offset=100, id=77) / Raw(b"\x80\x00" + bytes(30)))
    yield "refuse: a later IPv6 fragment whose data looks like an echo request, its first never seen", later, \
        refused("ip_fragment")


def cases_scope():
    """With --prefix 203.0.113.0/24 and 2001:db8:99::/48: only those are answered."""
    r = echo4(dst_ip="203.0.113.200")
    yield "scope: echo4 inside the prefix", bytes(r), Reply("echo4", echo4_reply(r))
    yield "scope: echo4 outside the prefix", bytes(echo4(dst_ip="198.51.100.9")), refused("not_in_prefix")
    r = arp_request(target="203.0.113.1")
    yield "scope: ARP target inside", bytes(r), Reply("arp", arp_reply(r))
    yield "scope: ARP target outside", bytes(arp_request(target="203.0.114.1")), refused("not_in_prefix")
    r = echo6(dst_ip="2001:db8:99:ffff::1")
    yield "scope: echo6 inside", bytes(r), Reply("echo6", echo6_reply(r))
    yield "scope: echo6 outside", bytes(echo6(dst_ip="2001:db8:9a::1")), refused("not_in_prefix")
    r = ns(target="2001:db8:99::42")
    yield "scope: NS target inside", bytes(r), Reply("ndp", na_for(r, PEER_MAC))
    yield "scope: NS target outside", bytes(ns(target="2001:db8:77::42")), refused("not_in_prefix")
    yield "scope: a protocol rule still comes first", bytes(echo4(dst_ip="198.51.100.9", icmp_kw={"type": 13})), \
        refused("icmp_type")


def cases_source_limit():
    """--source-pps 3: a source gets 3 replies of a class (echo; ARP and NS) in a burst, then
    drops; other sources, and the other class, are unaffected."""
    for i in range(5):
        r = echo4(seq=i)
        yield f"rate: source A request {i + 1}", bytes(r), (Reply("echo4", echo4_reply(r)) if i < 3
                                                            else Drop("rate_limited"))
    r = arp_request()
    yield "rate: source A's ARP has a budget of its own", bytes(r), Reply("arp", arp_reply(r))
    r = echo4(src_ip="198.51.100.3")
    yield "rate: source B still answered", bytes(r), Reply("echo4", echo4_reply(r))
    r = arp_request(sender="198.51.100.3")
    yield "rate: source B's ARP answered", bytes(r), Reply("arp", arp_reply(r))
    for i in range(2):
        r = echo6(src_ip=f"2001:db8:77::{i + 10:x}")
        yield f"rate: IPv6 /64 shares one bucket ({i + 1})", bytes(r), Reply("echo6", echo6_reply(r))
    yield "rate: an NS from that /64 spends the other class", bytes(ns(src_ip="2001:db8:77::99")), \
        Reply("ndp", na_for(ns(src_ip="2001:db8:77::99"), PEER_MAC))
    r = echo6(src_ip="2001:db8:77::12")
    yield "rate: IPv6 /64 shares one bucket (3)", bytes(r), Reply("echo6", echo6_reply(r))
    yield "rate: IPv6 /64 shares one bucket (4)", bytes(echo6(src_ip="2001:db8:77::13")), Drop("rate_limited")
    r = echo6(src_ip="2001:db8:78::1")
    yield "rate: another /64 answered", bytes(r), Reply("echo6", echo6_reply(r))
    for host in range(1, 5):   # link-local hosts all share fe80::/64: each is its own source
        r = ns(src_ip=f"fe80::{host}")
        yield f"rate: link-local fe80::{host} has its own bucket", bytes(r), Reply("ndp", na_for(r, PEER_MAC))


def cases_global_limit():
    """--global-pps 2: two replies of a class in a burst, whoever asks, then drops; ARP and
    NS have a bucket of their own, which echo cannot spend."""
    r = echo4(src_ip="198.51.100.3")
    yield "global: request 1 answered", bytes(r), Reply("echo4", echo4_reply(r))
    yield "global: a refused frame passes and spends no token", bytes(echo4(dst_ip="127.0.0.1")), refused("ip_dst")
    r = echo4(src_ip="198.51.100.4")
    yield "global: request 2, from another source, answered", bytes(r), Reply("echo4", echo4_reply(r))
    yield "global: request 3, from a third source, dropped", bytes(echo4(src_ip="198.51.100.5")), \
        Drop("rate_limited")
    r = arp_request(sender="198.51.100.6")
    yield "global: echo spent, ARP still answered (its own bucket)", bytes(r), Reply("arp", arp_reply(r))
    r = ns(src_ip="2001:db8:77::6")
    yield "global: and NS (the same bucket as ARP)", bytes(r), Reply("ndp", na_for(r, PEER_MAC))
    yield "global: address resolution over its own limit, dropped", bytes(arp_request(sender="198.51.100.7")), \
        Drop("rate_limited")


UNCLAIMED = "198.51.100.77"     # asked for, probed by run, nobody answered: claimed
OWNED = "198.51.100.78"         # claimed, then its owner speaks up
UNCLAIMED6, OWNED6 = "2001:db8:77::77", "2001:db8:77::78"
VLAN20 = ((0x8100, 20),)


class Verified:
    """A line for pong-testrun: what run writes when nobody answered its probes for an address
    (ago: as if that many seconds ago), or with beat_ago alone, run's heartbeat that long ago."""
    def __init__(self, addr=None, vlan=None, ago=None, beat_ago=None):
        if beat_ago is not None:
            self.line = f"!beat-ago {beat_ago}"
        elif ago is not None:
            self.line = f"!verified-ago {ago} {addr}"
        else:
            self.line = f"!verified {addr}" + (f" {vlan}" if vlan else "")


class Ok:
    """Expect pong-testrun's "OK" for a Verified line."""


def cases_unclaimed():
    """--unclaimed: a request is answered only once run's own probes found its address free
    (a Verified row writes what run writes then), in the request's VLAN, and until a sign of
    life of the owner. Requests alone, however many, never claim. Rows run in order: each sees
    what the rows before left in the tables."""
    for i in range(1, 6):
        yield f"unclaimed: ARP for a new address, request {i} (any number): passed to its owner", \
            bytes(arp_request(target=UNCLAIMED, sender=f"198.51.100.{i}")), refused("not_claimed")
    yield "unclaimed: run's probes for it went unanswered", Verified(UNCLAIMED), Ok()
    r = arp_request(target=UNCLAIMED)
    yield "unclaimed: verified: answered", bytes(r), Reply("arp", arp_reply(r))
    yield "unclaimed: and answered from then on", bytes(r), Reply("arp", arp_reply(r))
    r = echo4(dst_ip=UNCLAIMED)
    yield "unclaimed: echo to the claimed address answered", bytes(r), Reply("echo4", echo4_reply(r))
    r = echo4(dst_ip="203.0.113.50")
    yield "unclaimed: echo to an address never asked for (routed) answered", bytes(r), Reply("echo4", echo4_reply(r))
    yield "unclaimed: the same address asked for in VLAN 20: not claimed there", \
        bytes(arp_request(target=UNCLAIMED, tags=VLAN20)), refused("not_claimed")
    yield "unclaimed: verified in VLAN 20 too", Verified(UNCLAIMED, 20), Ok()
    r = arp_request(target=UNCLAIMED, tags=VLAN20)
    yield "unclaimed: answered in VLAN 20, the tag kept", bytes(r), Reply("arp", arp_reply(r))
    yield "unclaimed: its owner speaks in VLAN 20 (an ARP request from it)", \
        bytes(arp_request(target="198.51.100.1", sender=UNCLAIMED, src=OTHER_MAC, sha=OTHER_MAC, tags=VLAN20)), \
        refused("not_claimed")
    yield "unclaimed: released in VLAN 20", bytes(arp_request(target=UNCLAIMED, tags=VLAN20)), refused("owner_seen")
    r = arp_request(target=UNCLAIMED)
    yield "unclaimed: still claimed untagged (another VLAN, another owner)", bytes(r), Reply("arp", arp_reply(r))
    yield "unclaimed: a second address asked for", bytes(arp_request(target=OWNED)), refused("not_claimed")
    yield "unclaimed: and verified", Verified(OWNED), Ok()
    r = arp_request(target=OWNED)
    yield "unclaimed: claimed", bytes(r), Reply("arp", arp_reply(r))
    yield "unclaimed: its owner announces itself (gratuitous ARP from another MAC)", \
        bytes(arp_request(target=OWNED, sender=OWNED, src=OTHER_MAC, sha=OTHER_MAC)), refused("arp_gratuitous")
    for i in range(3):
        yield f"unclaimed: ARP for an address whose owner spoke: passed ({i + 1})", \
            bytes(arp_request(target=OWNED)), refused("owner_seen")
    yield "unclaimed: echo to it passed too", bytes(echo4(dst_ip=OWNED)), refused("owner_seen")
    yield "unclaimed: the claimed address's owner sends any IPv4 frame", \
        bytes(l2(src=OTHER_MAC) / IP(src=UNCLAIMED, dst="198.51.100.2") / UDP(dport=53)), Pass()
    yield "unclaimed: released: its requests pass", bytes(arp_request(target=UNCLAIMED)), refused("owner_seen")
    yield "unclaimed: a priority-tagged request (VLAN 0): asked for, as an untagged one", \
        bytes(arp_request(target="198.51.100.80", tags=((0x8100, 0),))), refused("not_claimed")
    yield "unclaimed: verified untagged", Verified("198.51.100.80"), Ok()
    r = arp_request(target="198.51.100.80", tags=((0x8100, 0),))
    yield "unclaimed: answered priority-tagged", bytes(r), Reply("arp", arp_reply(r))
    r = arp_request(target="198.51.100.80")
    yield "unclaimed: and untagged: one VLAN", bytes(r), Reply("arp", arp_reply(r))
    yield "unclaimed: run's heartbeat 6 s old (run stalled or gone)", Verified(beat_ago=6), Ok()
    yield "unclaimed: no claim holds without it", bytes(arp_request(target="198.51.100.80")), refused("not_claimed")
    yield "unclaimed: run beats again", Verified(beat_ago=0), Ok()
    r = arp_request(target="198.51.100.80")
    yield "unclaimed: the claim holds again", bytes(r), Reply("arp", arp_reply(r))
    yield "unclaimed: verified 31 s ago, not since (lapsed)", Verified("198.51.100.80", ago=31), Ok()
    yield "unclaimed: a claim not verified within 30 s is not answered", \
        bytes(arp_request(target="198.51.100.80")), refused("not_claimed")
    yield "unclaimed: a third address asked for", bytes(arp_request(target="198.51.100.79")), refused("not_claimed")
    yield "unclaimed: and verified", Verified("198.51.100.79"), Ok()
    yield "unclaimed: an ARP probe (RFC 5227) for it from another host", \
        bytes(arp_request(target="198.51.100.79", sender="0.0.0.0", src=OTHER_MAC, sha=OTHER_MAC)), \
        refused("arp_probe")
    yield "unclaimed: the probed address is left to its new owner", \
        bytes(arp_request(target="198.51.100.79")), refused("owner_seen")

    yield "unclaimed: NS for a new address: passed", bytes(ns(target=UNCLAIMED6)), refused("not_claimed")
    yield "unclaimed: NS again, not verified: passed", bytes(ns(target=UNCLAIMED6)), refused("not_claimed")
    yield "unclaimed: run's probes for it went unanswered (IPv6)", Verified(UNCLAIMED6), Ok()
    r = ns(target=UNCLAIMED6)
    yield "unclaimed: verified: NA sent", bytes(r), Reply("ndp", na_for(r, PEER_MAC))
    r = echo6(dst_ip=UNCLAIMED6)
    yield "unclaimed: echo6 to it answered", bytes(r), Reply("echo6", echo6_reply(r))
    yield "unclaimed: its owner advertises it (NA from another MAC)", \
        bytes(l2(src=OTHER_MAC, dst="33:33:00:00:00:01") / IPv6(src="fe80::99", dst="ff02::1", hlim=255) /
              ICMPv6ND_NA(tgt=UNCLAIMED6, O=1)), Pass()
    yield "unclaimed: NS for it now passes", bytes(ns(target=UNCLAIMED6)), refused("owner_seen")
    yield "unclaimed: echo6 to it passes", bytes(echo6(dst_ip=UNCLAIMED6)), refused("owner_seen")
    yield "unclaimed: another address asked for (IPv6)", bytes(ns(target=OWNED6)), refused("not_claimed")
    yield "unclaimed: and verified (IPv6)", Verified(OWNED6), Ok()
    yield "unclaimed: a duplicate-address probe for it", \
        bytes(ns(target=OWNED6, src_ip="::", slla=None, src=OTHER_MAC)), refused("ndp_dad")
    yield "unclaimed: the probed address is left to its new owner (IPv6)", bytes(ns(target=OWNED6)), \
        refused("owner_seen")


OWN4, OWN6, OWN_LL = "203.0.113.9", "2001:db8:99::9", "fe80::9"
OWN_ARGS = ("--own", OWN4, "--own", OWN6, "--own", OWN_LL)


def cases_own(label, unclaimed=False):
    """The host's own addresses (--own 203.0.113.9, 2001:db8:99::9, fe80::9) are the kernel's,
    on every path (label: which one); their neighbours are answered as ever (with --unclaimed,
    a first ask for them is counted toward a claim)."""
    yield f"own, {label}: ARP for the host's address", bytes(arp_request(target=OWN4)), refused("own_address")
    yield f"own, {label}: ARP unicast to us for it", bytes(arp_request(target=OWN4, dst=IF_MAC)), \
        refused("own_address")
    yield f"own, {label}: echo to the host's address", bytes(echo4(dst_ip=OWN4)), refused("own_address")
    yield f"own, {label}: NS for the host's address", bytes(ns(target=OWN6)), refused("own_address")
    yield f"own, {label}: NS for the host's link-local address (a router's NUD probe)", \
        bytes(ns(target=OWN_LL, dst_ip=OWN_LL, dst=IF_MAC)), refused("own_address")
    yield f"own, {label}: echo6 to the host's address", bytes(echo6(dst_ip=OWN6)), refused("own_address")
    yield f"own, {label}: a protocol rule still comes first", bytes(echo4(dst_ip=OWN4, icmp_kw={"type": 13})), \
        refused("icmp_type")
    r = arp_request(target="203.0.113.8")
    yield f"own, {label}: ARP for the address next to it answered", bytes(r), \
        refused("not_claimed") if unclaimed else Reply("arp", arp_reply(r))
    r = echo4(dst_ip="203.0.113.10")
    yield f"own, {label}: echo to another address answered", bytes(r), Reply("echo4", echo4_reply(r))
    r = ns(target="2001:db8:99::8")
    yield f"own, {label}: NS for another address answered", bytes(r), \
        refused("not_claimed") if unclaimed else Reply("ndp", na_for(r, PEER_MAC))
    r = echo6(dst_ip="2001:db8:99::a")
    yield f"own, {label}: echo6 to another address answered", bytes(r), Reply("echo6", echo6_reply(r))


def cases_ttl():
    req, req6 = echo4(), echo6()
    yield "echo4: --ttl 17 sets the reply TTL", bytes(req), Reply("echo4", echo4_reply(req, ttl=17))
    yield "echo6: --ttl 17 sets the reply hop limit", bytes(req6), Reply("echo6", echo6_reply(req6, ttl=17))


# ---- the kinds --answer turns on (UDP, TCP, ICMP timestamp) ----

GATED_ARGS = ("--prefix", "203.0.113.0/24", "--prefix", "2001:db8:99::/48", "--answer", "udp,tcp,timestamp")


def udp4(dport=33434, payload=b"u" * 32, ip_kw=None, udp_kw=None, **l2kw):
    """A traceroute's probe: UDP to a high port of an address in the gated tables' prefix."""
    return l2(**l2kw) / IP(**{"src": CLIENT_IP, "dst": ANY_IP, **(ip_kw or {})}) / \
        UDP(**{"sport": 40000, "dport": dport, **(udp_kw or {})}) / Raw(payload)


def udp6(payload=b"v" * 32, ip_kw=None, udp_kw=None, **l2kw):
    return l2(**l2kw) / IPv6(**{"src": CLIENT_IP6, "dst": ANY_IP6, **(ip_kw or {})}) / \
        UDP(**{"sport": 40000, "dport": 33434, **(udp_kw or {})}) / Raw(payload)


def tcp4(flags="S", payload=b"", ip_kw=None, tcp_kw=None, **l2kw):
    """A SYN (or flags) to port 80, as tcptraceroute and nmap -PS send it."""
    return l2(**l2kw) / IP(**{"src": CLIENT_IP, "dst": ANY_IP, **(ip_kw or {})}) / \
        TCP(**{"sport": 40001, "dport": 80, "seq": 1000, "ack": (5000 if "A" in flags else 0), "flags": flags,
               **(tcp_kw or {})}) / Raw(payload)


def tcp6(flags="S", payload=b"", ip_kw=None, **l2kw):
    return l2(**l2kw) / IPv6(**{"src": CLIENT_IP6, "dst": ANY_IP6, **(ip_kw or {})}) / \
        TCP(sport=40001, dport=80, seq=1000, ack=(5000 if "A" in flags else 0), flags=flags) / Raw(payload)


def timestamp_req(length=20, ip_kw=None, icmp_kw=None, **l2kw):
    """An ICMP timestamp request (type 13) of length bytes (20: the full message)."""
    body = bytes.fromhex("0d00 0000 abcd 0001 01020304" + "00" * 8)
    b = bytearray((body + b"\xee" * 64)[:length])
    icmp = dict(icmp_kw or {})
    if "type" in icmp:
        b[0] = icmp.pop("type")
    if "code" in icmp:
        b[1] = icmp.pop("code")
    b[2:4] = b"\0\0"
    b[2:4] = (~ones_sum(bytes(b)) & 0xFFFF).to_bytes(2, "big")
    if "chksum" in icmp:
        b[2:4] = icmp.pop("chksum").to_bytes(2, "big")
    return l2(**l2kw) / IP(**{"src": CLIENT_IP, "dst": ANY_IP, "proto": 1, **(ip_kw or {})}) / Raw(bytes(b))


def udp6_zero_check_summing_valid():
    """A UDP/IPv6 datagram whose checksum field is 0 and whose other bytes, with the pseudo-header,
    sum to 0xffff: a checksum over it would pass; the field's 0 must not."""
    r = bytearray(bytes(udp6()))
    off = l3_offset(r)
    r[off + 46:off + 48] = b"\0\0"
    pseudo = r[off + 8:off + 40] + len(r[off + 40:]).to_bytes(4, "big") + bytes([0, 0, 0, 17])
    need = 0xFFFF - ones_sum(bytes(pseudo) + bytes(r[off + 40:off + 48]) + bytes(r[off + 50:]))
    r[off + 48:off + 50] = (need % 0xFFFF).to_bytes(2, "big")    # the payload's first word makes it add up
    assert ones_sum(bytes(pseudo) + bytes(r[off + 40:])) == 0xFFFF
    return Ether(bytes(r))


def partial(frame, family=4):
    """The frame with its UDP/TCP checksum as a local socket on veth leaves it
    (CHECKSUM_PARTIAL): the pseudo-header's sum, not complemented."""
    raw = bytearray(bytes(frame))
    off = l3_offset(raw)
    if family == 4:
        proto, l4 = raw[off + 9], off + (raw[off] & 0x0F) * 4
        length = int.from_bytes(raw[off + 2:off + 4], "big") - (l4 - off)
        pseudo = raw[off + 12:off + 20] + bytes([0, proto]) + length.to_bytes(2, "big")
    else:
        proto, l4 = raw[off + 6], off + 40
        length = int.from_bytes(raw[off + 4:off + 6], "big")
        pseudo = raw[off + 8:off + 40] + length.to_bytes(4, "big") + bytes([0, 0, 0, proto])
    at = l4 + (6 if proto == 17 else 16)
    raw[at:at + 2] = ones_sum(bytes(pseudo)).to_bytes(2, "big")
    return bytes(raw)


def port_unreachable4(req, ttl=64):
    """What Linux's icmp_send() sends for a closed port: a header of its own (TOS
    the request's precedence-free bits with "internetwork control", DF clear, the
    identification keyed by the ports), type 3 code 3, and the request's IP header
    and datagram, 576 bytes at most in all (tests/lab/test_probes.py asks Linux)."""
    req = Ether(bytes(req))   # its fields as they are on the wire
    raw = bytes(req)
    off = l3_offset(raw)
    quote = raw[off:off + 20 + req[UDP].len][:576 - 28]
    # the program's identification hash, keyed by the ports (where an echo's identifier and sequence sit)
    ident = echo4_reply_id(raw, off, off + 20 - 4)
    return l2(dst=req[Ether].src, src=IF_MAC, tags=tags_of(req)) / \
        IP(src=req[IP].dst, dst=req[IP].src, tos=(req[IP].tos & 0x1E) | 0xC0, id=ident, flags=0, ttl=ttl) / \
        ICMP(type=3, code=3) / Raw(quote)


def port_unreachable6(req, ttl=64, ulen=None):
    """icmp6_send()'s: traffic class 0, the flow label of the pair, type 1 code 4, the request
    quoted up to 1280 bytes in all (ulen: the datagram's length, if not its length field's)."""
    req = Ether(bytes(req))   # its fields as they are on the wire
    raw = bytes(req)
    off = l3_offset(raw)
    quote = raw[off:off + 40 + (req[UDP].len if ulen is None else ulen)][:1280 - 48]
    return l2(dst=req[Ether].src, src=IF_MAC, tags=tags_of(req)) / \
        IPv6(src=req[IPv6].dst, dst=req[IPv6].src, tc=0, fl=echo6_reply_flow(raw, off), hlim=ttl, nh=58) / \
        ICMPv6DestUnreach(code=4) / Raw(quote)


def reset_numbers(th, payload_len):
    """RFC 9293 3.10.7.1 for a closed port: an ACK's acknowledgment becomes the RST's
    sequence number; else sequence 0 and an ACK of everything the segment occupied."""
    flags = int(th.flags)
    if flags & 0x10:
        return dict(seq=th.ack, ack=0, flags="R")
    return dict(seq=0, ack=(th.seq + payload_len + (flags & 0x02 and 1) + (flags & 0x01)) & 0xFFFFFFFF,
                flags="RA")


def reset4(req, ttl=64):
    """tcp_v4_send_reset()'s: TOS without ECN, DF, identification 0, 40 bytes."""
    req = Ether(bytes(req))   # its fields as they are on the wire
    th = req[TCP]
    n = reset_numbers(th, req[IP].len - req[IP].ihl * 4 - th.dataofs * 4)
    return l2(dst=req[Ether].src, src=IF_MAC, tags=tags_of(req)) / \
        IP(src=req[IP].dst, dst=req[IP].src, tos=req[IP].tos & 0xFC, id=0, flags="DF", ttl=ttl) / \
        TCP(sport=th.dport, dport=th.sport, window=0, **n)


def reset6(req, ttl=64):
    """tcp_v6_send_reset()'s: traffic class without ECN, the flow label of the pair."""
    req = Ether(bytes(req))   # its fields as they are on the wire
    raw = bytes(req)
    th = req[TCP]
    n = reset_numbers(th, req[IPv6].plen - th.dataofs * 4)
    return l2(dst=req[Ether].src, src=IF_MAC, tags=tags_of(req)) / \
        IPv6(src=req[IPv6].dst, dst=req[IPv6].src, tc=req[IPv6].tc & 0xFC, fl=echo6_reply_flow(raw, l3_offset(raw)),
             hlim=ttl) / TCP(sport=th.dport, dport=th.sport, window=0, **n)


def timestamp_reply(req, ttl=64):
    """icmp_timestamp()'s: type 14 code 0, identifier, sequence and originate kept, receive and
    transmit the time of day (offsets returned: the program writes them); 20 bytes whatever the
    request's length; TOS kept, DF clear, an identification of our own (as an echo reply's)."""
    req = Ether(bytes(req))   # its fields as they are on the wire
    raw = bytes(req)
    off = l3_offset(raw)
    icmp = raw[off + 20:]
    ident = echo4_reply_id(raw, off, off + 20)
    msg = bytearray(bytes([14, 0, 0, 0]) + icmp[4:12] + bytes(8))
    msg[2:4] = (~ones_sum(bytes(msg)) & 0xFFFF).to_bytes(2, "big")
    rep = l2(dst=req[Ether].src, src=IF_MAC, tags=tags_of(req)) / \
        IP(src=req[IP].dst, dst=req[IP].src, tos=req[IP].tos, id=ident, flags=0, ttl=ttl, proto=1) / Raw(bytes(msg))
    start = len(bytes(rep)) - 20
    return rep, (start + 12, start + 16)


def cases_gated():
    """--answer udp,tcp,timestamp with --prefix 203.0.113.0/24 and 2001:db8:99::/48, the error
    limit off (--icmp-ratelimit 0), the host's own addresses given (--own)."""
    q = [(0x8100, 100)]
    r = udp4()
    yield "udp4: a traceroute probe gets a port unreachable", bytes(r), Reply("udp4", port_unreachable4(r))
    r = udp4(ip_kw={"tos": 0xB9, "flags": "DF", "id": 777})
    yield "udp4: TOS 0xb9 -> 0xd8 (internetwork control), DF clear", bytes(r), \
        Reply("udp4", port_unreachable4(r))
    r = udp4(udp_kw={"chksum": 0})
    yield "udp4: checksum 0 (none) answered", bytes(r), Reply("udp4", port_unreachable4(r))
    r = Ether(partial(udp4()))
    yield "udp4: a local socket's partial checksum taken, as the kernel takes it", bytes(r), \
        Reply("udp4", port_unreachable4(r))
    r = udp4(payload=bytes(range(256)) * 5 + bytes(172))
    yield "udp4: a 1472-byte datagram quoted up to 576 bytes", bytes(r), Reply("udp4", port_unreachable4(r))
    r = udp4(payload=b"")
    yield "udp4: an empty datagram quoted whole", bytes(r), Reply("udp4", port_unreachable4(r))
    r = Ether(bytes(udp4(payload=b"z")) + bytes(17))
    yield "udp4: Ethernet padding not quoted", bytes(r), Reply("udp4", port_unreachable4(r))
    r = udp4(tags=q)
    yield "udp4: 802.1Q tag kept", bytes(r), Reply("udp4", port_unreachable4(r))
    r = udp4(dport=53)
    yield "udp4: any port (nobody listens at an address nobody has)", bytes(r), \
        Reply("udp4", port_unreachable4(r))
    yield "refuse udp4: wrong checksum (Linux drops it)", bytes(udp4(udp_kw={"chksum": 0x1234})), \
        refused("l4_checksum")
    yield "refuse udp4: length field 7", bytes(udp4(udp_kw={"len": 7, "chksum": 0})), refused("truncated")
    yield "refuse udp4: length field beyond the IP payload", bytes(udp4(udp_kw={"len": 60, "chksum": 0})), \
        refused("truncated")
    yield "refuse udp4: IP options (Linux's error would quote and echo them)", \
        bytes(udp4(ip_kw={"options": [b"\x94\x04\x00\x00"]})), refused("ip_options")
    yield "refuse udp4: a fragment", bytes(udp4(ip_kw={"flags": "MF"})), refused("ip_fragment")
    yield "udp4: outside the prefix (a router's transit traffic): passed, not refused", \
        bytes(l2() / IP(src=CLIENT_IP, dst="198.51.100.9") / UDP() / Raw(b"u")), Pass()
    yield "refuse udp4: the host's own address", bytes(l2() / IP(src=CLIENT_IP, dst=OWN4) / UDP() / Raw(b"u")), \
        refused("own_address")
    yield "udp4: to a broadcast MAC (DHCP, say): passed, not counted as refused", bytes(udp4(dst=BCAST)), Pass()
    yield "udp4: a transit fragment outside the prefix: passed, not refused (the scope comes first)", \
        bytes(l2() / IP(src=CLIENT_IP, dst="198.51.100.9", flags="MF") / UDP() / Raw(b"u" * 16)), Pass()
    yield "udp4: transit with IP options outside the prefix: passed", \
        bytes(l2() / IP(src=CLIENT_IP, dst="198.51.100.9", options=[b"\x94\x04\x00\x00"]) / UDP() / Raw(b"u")), Pass()
    yield "refuse udp4: from the host's own address (a martian: Linux drops it)", \
        bytes(udp4(ip_kw={"src": OWN4})), refused("ip_src")
    yield "refuse tcp6: from the host's own address", bytes(tcp6(ip_kw={"src": OWN6})), refused("ip6_src")
    yield "udp6: transit with an extension header outside the prefix: passed", \
        bytes(l2() / IPv6(src=CLIENT_IP6, dst="2001:db8:9a::1") / IPv6ExtHdrHopByHop() / UDP() / Raw(b"v")), Pass()
    yield "refuse udp4: a wrong IPv4 header checksum (Linux drops it)", bytes(udp4(ip_kw={"chksum": 0x1111})), \
        refused("ip_header")
    yield "udp4: outside the prefix, its checksum wrong: the scope is looked at first", \
        bytes(l2() / IP(src=CLIENT_IP, dst="198.51.100.9") / UDP(chksum=0x1234) / Raw(b"u")), Pass()
    yield "refuse udp4: the host's own address, its checksum wrong: the scope is looked at first", \
        bytes(l2() / IP(src=CLIENT_IP, dst=OWN4) / UDP(chksum=0x1234) / Raw(b"u")), refused("own_address")
    yield "refuse udp4: from a multicast source", bytes(udp4(ip_kw={"src": "224.0.0.5"})), refused("ip_src")

    r = udp6()
    yield "udp6: a traceroute -6 probe gets a port unreachable", bytes(r), Reply("udp6", port_unreachable6(r))
    r = udp6(ip_kw={"tc": 0xB9, "fl": 99})
    yield "udp6: traffic class 0, the flow label the pair's", bytes(r), Reply("udp6", port_unreachable6(r))
    r = Ether(partial(udp6(), family=6))
    yield "udp6: a local socket's partial checksum taken", bytes(r), Reply("udp6", port_unreachable6(r))
    r = udp6(payload=bytes(range(256)) * 5 + bytes(152))
    yield "udp6: a 1452-byte datagram quoted up to 1280 bytes", bytes(r), Reply("udp6", port_unreachable6(r))
    r = udp6(tags=[(0x88A8, 200), (0x8100, 100)])
    yield "udp6: QinQ tags kept", bytes(r), Reply("udp6", port_unreachable6(r))
    yield "refuse udp6: checksum 0 (required over IPv6)", bytes(udp6(udp_kw={"chksum": 0})), refused("l4_checksum")
    yield "refuse udp6: checksum 0, the rest summing to a valid one (Linux drops it all the same)", \
        bytes(udp6_zero_check_summing_valid()), refused("l4_checksum")
    r = udp6(udp_kw={"len": 0})
    yield "udp6: length field 0 taken as the payload's, as Linux takes it", bytes(r), \
        Reply("udp6", port_unreachable6(r, ulen=len(r[IPv6].payload)))
    yield "refuse udp6: wrong checksum", bytes(udp6(udp_kw={"chksum": 0x1234})), refused("l4_checksum")
    yield "refuse udp6: an extension header", \
        bytes(l2() / IPv6(src=CLIENT_IP6, dst=ANY_IP6) / IPv6ExtHdrHopByHop() / UDP() / Raw(b"v")), \
        refused("ip6_ext_header")
    yield "udp6: outside the prefix: passed", \
        bytes(l2() / IPv6(src=CLIENT_IP6, dst="2001:db8:9a::1") / UDP() / Raw(b"v")), Pass()
    yield "refuse udp6: the host's own address", bytes(l2() / IPv6(src=CLIENT_IP6, dst=OWN6) / UDP() / Raw(b"v")), \
        refused("own_address")

    for name, r in (("a SYN gets RST|ACK of seq + 1", tcp4()),
                    ("a SYN with 10 bytes of data: ack covers them", tcp4(payload=b"d" * 10)),
                    ("SYN|FIN: ack covers both", tcp4(flags="SF")),
                    ("an ACK (nmap -PA) gets a RST at its ack number", tcp4(flags="A")),
                    ("FIN|ACK gets a RST", tcp4(flags="FA", payload=b"bye")),
                    ("a SYN with options (MSS): the RST has none",
                     tcp4(tcp_kw={"options": [("MSS", 1460), ("SAckOK", b""), ("WScale", 7)]})),
                    ("TOS 0xb9 -> 0xb8 (ECN bits off), DF set, identification 0",
                     tcp4(ip_kw={"tos": 0xB9, "id": 999})),
                    ("a local socket's partial checksum taken", Ether(partial(tcp4()))),
                    ("802.1Q tag kept", tcp4(tags=q)),
                    ("Ethernet padding dropped", Ether(bytes(tcp4()) + bytes(6)))):
        yield f"tcp4: {name}", bytes(r), Reply("tcp4", reset4(r))
    yield "refuse tcp4: a RST is never answered", bytes(tcp4(flags="R")), refused("tcp_rst")
    yield "refuse tcp4: RST|ACK is never answered", bytes(tcp4(flags="RA")), refused("tcp_rst")
    yield "refuse tcp4: a RST with a wrong checksum: a checksum error first, as Linux counts it", \
        bytes(tcp4(flags="R", tcp_kw={"chksum": 0x1234})), refused("l4_checksum")
    yield "refuse tcp4: a wrong IPv4 header checksum", bytes(tcp4(ip_kw={"chksum": 0x1111})), refused("ip_header")
    yield "refuse tcp4: wrong checksum", bytes(tcp4(tcp_kw={"chksum": 0x1234})), refused("l4_checksum")
    yield "refuse tcp4: data offset 4", bytes(tcp4(tcp_kw={"dataofs": 4})), refused("truncated")
    yield "refuse tcp4: data offset beyond the segment", bytes(tcp4(tcp_kw={"dataofs": 15})), refused("truncated")
    yield "refuse tcp4: header cut short", bytes(l2() / IP(src=CLIENT_IP, dst=ANY_IP, proto=6) / Raw(b"\0" * 12)), \
        refused("truncated")
    yield "tcp4: outside the prefix: passed", bytes(tcp4(ip_kw={"dst": "198.51.100.9"})), Pass()
    yield "refuse tcp4: the host's own address", bytes(tcp4(ip_kw={"dst": OWN4})), refused("own_address")
    for name, r in (("a SYN gets RST|ACK", tcp6()), ("an ACK gets a RST", tcp6(flags="A")),
                    ("traffic class without ECN, the flow label the pair's", tcp6(ip_kw={"tc": 0xB9, "fl": 5})),
                    ("a local socket's partial checksum taken", Ether(partial(tcp6(), family=6)))):
        yield f"tcp6: {name}", bytes(r), Reply("tcp6", reset6(r))
    yield "refuse tcp6: a RST", bytes(tcp6(flags="R")), refused("tcp_rst")
    yield "refuse tcp6: the host's own address", bytes(tcp6(ip_kw={"dst": OWN6})), refused("own_address")

    for name, r in (("a request (nmap -PP, hping3 --icmp-ts)", timestamp_req()),
                    ("the code set: the reply's is 0", timestamp_req(icmp_kw={"code": 5})),
                    ("TOS kept, DF clear", timestamp_req(ip_kw={"tos": 0xB8, "flags": "DF"})),
                    ("12 bytes, the shortest Linux answers: the reply has 20", timestamp_req(length=12)),
                    ("40 bytes: the reply has 20", timestamp_req(length=40)),
                    ("802.1Q tag kept", timestamp_req(tags=q))):
        want, times = timestamp_reply(r)
        yield f"timestamp: {name}", bytes(r), Reply("timestamp", want, times=times)
    yield "refuse timestamp: 11 bytes", bytes(timestamp_req(length=11)), refused("truncated")
    yield "refuse timestamp: wrong checksum", bytes(timestamp_req(icmp_kw={"chksum": 0x1234})), \
        refused("l4_checksum")
    yield "timestamp: outside the prefix: passed", bytes(timestamp_req(ip_kw={"dst": "198.51.100.9"})), Pass()
    yield "refuse timestamp: the host's own address", bytes(timestamp_req(ip_kw={"dst": OWN4})), \
        refused("own_address")
    yield "refuse timestamp: IP options", bytes(timestamp_req(ip_kw={"options": [b"\x94\x04\x00\x00"]})), \
        refused("ip_options")
    r = echo4()
    yield "gated: echo answered as ever", bytes(r), Reply("echo4", echo4_reply(r))
    yield "gated: a timestamp reply (type 14) is not a request", \
        bytes(timestamp_req(icmp_kw={"type": 14})), refused("icmp_type")


def cases_not_veth():
    """Without --veth (not a veth: a NIC's frames are never CHECKSUM_PARTIAL), a checksum that
    holds only the pseudo-header's sum is wrong, as Linux finds it on a NIC."""
    yield "not a veth: UDP with a partial checksum", partial(udp4()), refused("l4_checksum")
    yield "not a veth: UDP over IPv6 with a partial checksum", partial(udp6(), family=6), refused("l4_checksum")
    yield "not a veth: TCP with a partial checksum", partial(tcp4()), refused("l4_checksum")
    yield "not a veth: TCP over IPv6 with a partial checksum", partial(tcp6(), family=6), refused("l4_checksum")
    r = udp4()
    yield "not a veth: a full checksum answered", bytes(r), Reply("udp4", port_unreachable4(r))


def cases_unclaimed_answer():
    """--unclaimed without a prefix list is no scope for --answer: anyone's ARP for an off-link
    address gets it claimed, and on a router the transit traffic to it would then be reset."""
    yield "unclaimed, no prefix: UDP", bytes(udp4()), refused("no_scope")
    yield "unclaimed, no prefix: TCP over IPv6", bytes(tcp6()), refused("no_scope")
    yield "unclaimed, no prefix: timestamp", bytes(timestamp_req()), refused("no_scope")


def cases_gated_off():
    """No --answer: UDP, TCP and timestamp requests stay the kernel's, in scope or not."""
    yield "off: UDP passes", bytes(udp4()), Pass()
    yield "off: TCP passes", bytes(tcp4()), Pass()
    yield "off: UDP over IPv6 passes", bytes(udp6()), Pass()
    yield "off: TCP over IPv6 passes", bytes(tcp6()), Pass()
    yield "off: a timestamp request is refused, as before", bytes(timestamp_req()), refused("icmp_type")


def cases_no_scope():
    """--answer without --prefix or --unclaimed (the CLI refuses it; the program too):
    the new kinds are answered for no address."""
    yield "no scope: UDP", bytes(udp4()), refused("no_scope")
    yield "no scope: TCP", bytes(tcp4()), refused("no_scope")
    yield "no scope: UDP over IPv6", bytes(udp6()), refused("no_scope")
    yield "no scope: TCP over IPv6", bytes(tcp6()), refused("no_scope")
    yield "no scope: timestamp", bytes(timestamp_req()), refused("no_scope")
    r = echo4()
    yield "no scope: echo still answered for any address", bytes(r), Reply("echo4", echo4_reply(r))


def cases_error_limit():
    """The ICMP error limit (as Linux's icmp_ratelimit): a burst of 6 port unreachables per
    source, then none until the next token (here a minute away, so that a slow run cannot
    see one; the defaults, 1000 ms and 100 ms, are status's, tests/cli); RSTs and timestamp
    replies are not errors (Linux does not limit them)."""
    for i in range(8):
        r = udp4(dport=33434 + i)
        yield f"limit: source A's UDP probe {i + 1}", bytes(r), \
            Reply("udp4", port_unreachable4(r)) if i < 6 else Drop("rate_limited")
    r = l2() / IP(src="198.51.100.3", dst=ANY_IP) / UDP(sport=40000, dport=33434) / Raw(b"u")
    yield "limit: source B has its own burst", bytes(r), Reply("udp4", port_unreachable4(r))
    for i in range(8):
        r = tcp4(tcp_kw={"sport": 40100 + i})
        yield f"limit: source A's SYN {i + 1}: a RST is not an error", bytes(r), Reply("tcp4", reset4(r))
    for i in range(7):
        r = udp6(udp_kw={"dport": 33434 + i})
        yield f"limit: IPv6 source A's UDP probe {i + 1}", bytes(r), \
            Reply("udp6", port_unreachable6(r)) if i < 6 else Drop("rate_limited")


def cases_error_limit_off():
    """--icmp-ratelimit 0: no error limit (as icmp_ratelimit 0)."""
    for i in range(8):
        r = udp4(dport=33434 + i)
        yield f"limit off: UDP probe {i + 1}", bytes(r), Reply("udp4", port_unreachable4(r))


# table -> (its rows, pong-testrun's options)
TABLES = {
    "ipv4": (cases_ipv4, ()),
    "arp": (cases_arp, ()),
    "ipv6": (cases_ipv6, ()),
    "scope": (cases_scope, ("--prefix", "203.0.113.0/24", "--prefix", "2001:db8:99::/48")),
    "source limit": (cases_source_limit, ("--source-pps", "3")),
    "global limit": (cases_global_limit, ("--global-pps", "2")),
    "unclaimed": (cases_unclaimed, ("--unclaimed",)),
    "ttl": (cases_ttl, ("--ttl", "17")),
    "fragments": (cases_fragments, ("--prefix", "203.0.113.0/24", "--own", "203.0.113.9")),
    "fragments6": (cases_fragments6, ("--own", "2001:db8:99::9")),
    "own": (lambda: cases_own("no policy"), OWN_ARGS),
    "own scoped": (lambda: cases_own("a scope"), OWN_ARGS + ("--prefix", "203.0.113.0/24", "--prefix", "2001:db8::/32",
                                                             "--prefix", "fe80::/10")),
    "own rules": (lambda: cases_own("rules one by one"), OWN_ARGS + ("--rules-only",)),
    "own unclaimed": (lambda: cases_own("--unclaimed", unclaimed=True), OWN_ARGS + ("--unclaimed",)),
    "gated": (cases_gated, GATED_ARGS + ("--icmp-ratelimit", "0", "--veth") + OWN_ARGS),
    "gated, not a veth": (cases_not_veth, GATED_ARGS + ("--icmp-ratelimit", "0")),
    "gated with --unclaimed": (cases_unclaimed_answer, ("--unclaimed", "--answer", "udp,tcp,timestamp")),
    "gated off": (cases_gated_off, ("--prefix", "203.0.113.0/24", "--prefix", "2001:db8:99::/48")),
    "no scope": (cases_no_scope, ("--answer", "udp,tcp,timestamp")),
    "error limit": (cases_error_limit, GATED_ARGS + ("--icmp-ratelimit", "60000")),
    "error limit off": (cases_error_limit_off, GATED_ARGS + ("--icmp-ratelimit", "0")),
}
ROWS = {table: list(make()) for table, (make, _) in TABLES.items()}
PARAMS = [pytest.param(table, i, id=f"{table}: {name}") for table, rows in ROWS.items()
          for i, (name, _, _) in enumerate(rows)]


@pytest.fixture(scope="module")
def results():
    """Every table through the real program, once: table -> output lines."""
    assert os.access(TESTRUN, os.X_OK), f"{TESTRUN} missing: run make first"
    out = {}
    for table, (_, args) in TABLES.items():
        rows = ROWS[table]
        lines_in = "".join((f.line if isinstance(f, Verified) else f.hex()) + "\n" for _, f, _ in rows)
        proc = subprocess.run([TESTRUN, "--mac", IF_MAC, *args], input=lines_in,
                              capture_output=True, text=True, check=False, timeout=120)
        lines = proc.stdout.splitlines()
        assert proc.returncode == 0 and len(lines) == len(rows), \
            f"pong-testrun did not run every frame of {table}: {proc.stderr.strip()[-400:]}"
        out[table] = lines
    return out


@pytest.mark.parametrize("table,index", PARAMS)
def test_row(results, table, index):
    name, frame, expect = ROWS[table][index]
    verdict, counter, reason, out = results[table][index].split(" ")
    if isinstance(expect, Ok):
        assert verdict == "OK", name
        return
    out = bytes.fromhex(out) if out != "-" else b""
    if isinstance(expect, Drop):
        assert (verdict, counter, reason) == ("XDP_DROP", "refused", expect.reason), name
    elif isinstance(expect, Pass):
        assert (verdict, counter, reason, out == frame) == ("XDP_PASS", expect.counter, expect.reason, True), name
    else:
        problems = []
        if (verdict, counter, reason) != ("XDP_TX", expect.counter, "-"):
            problems.append(f"verdict {verdict}/{counter}/{reason}")
        want = expect.frame
        if expect.times and len(out) == len(want):
            want, bad_times = adopt_times(want, out, expect.times)
            problems += bad_times
            if expect.counter == "timestamp":     # the times are in the ICMP message, not in options
                want = icmp_checksum_again(want)
        problems += check_reply_bytes(out, want, frame, expect.csum_error)
        assert not problems, f"{name}: " + "; ".join(problems)


def check_reply_bytes(out, want, req, csum_error):
    """Exact bytes, and checksums verified with our own routine."""
    problems = []
    off = l3_offset(want)
    etype = want[off - 2:off]
    if etype in (b"\x08\x00", b"\x86\xdd"):
        if etype == b"\x08\x00":
            ihl = (want[off] & 0x0F) * 4
            tot = int.from_bytes(want[off + 2:off + 4], "big")
            icmp = slice(off + ihl, off + tot)
            # ICMP has no pseudo-header; a RST's TCP checksum has one
            pseudo = b"" if want[off + 9] == 1 else \
                out[off + 12:off + 20] + bytes([0, want[off + 9]]) + (tot - ihl).to_bytes(2, "big")
            if csum_error != "ip" and not checksum_ok(out[off:off + ihl]):
                problems.append("IPv4 header checksum invalid")
        else:
            plen = int.from_bytes(want[off + 4:off + 6], "big")
            icmp = slice(off + 40, off + 40 + plen)
            # the pseudo-header: source, destination, upper-layer length, next header
            pseudo = out[off + 8:off + 40] + plen.to_bytes(4, "big") + bytes([0, 0, 0, want[off + 6]])
            ihl = 40
        if csum_error == "ip":
            if checksum_ok(out[off:off + ihl]):
                problems.append("IPv4 header checksum was repaired")
            if ones_sum(out[off:off + ihl]) != ones_sum(req[off:off + ihl]):
                problems.append("IPv4 header checksum error changed")
            out = out[:off + 10] + want[off + 10:off + 12] + out[off + 12:]
        elif csum_error:
            # the error of the request's checksum carries over unchanged
            if checksum_ok(pseudo + out[icmp]):
                problems.append("ICMP checksum was repaired")
            if ones_sum(pseudo + out[icmp]) != ones_sum(pseudo + req[icmp]):
                problems.append("ICMP checksum error changed")
            cs = off + ihl + 2
            out = out[:cs] + want[cs:cs + 2] + out[cs + 2:]
        elif (etype == b"\x08\x00" and int.from_bytes(want[off + 6:off + 8], "big") & 0x3FFF) or \
                (etype == b"\x86\xdd" and want[off + 6] == 44):
            pass     # a fragment: its ICMP checksum covers the whole datagram (test_fragment_replies_reassemble)
        elif not checksum_ok(pseudo + out[icmp]):
            problems.append("ICMP checksum invalid")
    if out != want:
        diff = next((i for i in range(min(len(out), len(want))) if out[i] != want[i]), min(len(out), len(want)))
        problems.append(f"bytes differ from offset {diff} (len {len(out)} vs {len(want)}): "
                        f"got {out[diff:diff + 8].hex()} want {want[diff:diff + 8].hex()}")
    return problems


def replies_of(frames, counter, args=()):
    """The frames through pong-testrun in one run (the program as loaded, seed 0, with args):
    their replies, each of which must be counted under counter."""
    proc = subprocess.run([TESTRUN, "--mac", IF_MAC, *args], input="".join(bytes(f).hex() + "\n" for f in frames),
                          capture_output=True, text=True, check=False, timeout=60)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0 and len(lines) == len(frames), proc.stderr
    replies = []
    for line in lines:
        verdict, got, _, out = line.split(" ")
        assert (verdict, got) == ("XDP_TX", counter), line
        replies.append(Ether(bytes.fromhex(out)))
    return replies


def test_ip_id_is_our_own():
    """Echo replies carry identifications of their own, as Linux's do: one
    ping session (requester, address, ICMP identifier) counts up by one per
    sequence number from an offset of its own, whatever the requests carried;
    another requester's session is elsewhere. The seed is the test loader's
    (0), so the values are the same on every run."""
    pair_a = [echo4(src_ip=CLIENT_IP, dst_ip="203.0.113.7", seq=s, ip_kw={"id": i, "flags": "DF"})
              for s, i in ((1, 0), (2, 0), (3, 77))]
    pair_b = echo4(src_ip="192.0.2.33", dst_ip="203.0.113.7", seq=1, ip_kw={"id": 0})
    replies = replies_of([*pair_a[:2], pair_b, pair_a[2]], "echo4")
    assert not any(rep[IP].flags.DF for rep in replies), "DF clear"
    ids = [rep[IP].id for rep in replies]
    a0, a1, b0, a2 = ids
    assert (a1 - a0) % 65536 == 1 and (a2 - a1) % 65536 == 1, f"one pair counts up by one: {ids}"
    assert a0 not in (0, 77) and b0 != 0, f"not the requests' identifications: {ids}"
    assert b0 not in (a0, a1, a2), f"another pair's sequence is elsewhere: {ids}"


def test_timestamps_are_the_time_of_day():
    """The times a timestamp option gets are the host's, in ms since midnight UT,
    as a reply leaves (within 1 s of this test's clock: the same host)."""
    r = echo4(ip_kw={"options": [bytes.fromhex("440c0500" + "00" * 8)]})
    before = time.time()
    (rep,) = replies_of([r], "echo4")
    after = time.time()
    opts = bytes(rep[IP])[20:rep[IP].ihl * 4]
    got = [int.from_bytes(opts[i:i + 4], "big") for i in (4, 8)]
    day = 86_400_000
    lo, hi = int(before * 1000) % day - 1000, int(after * 1000) % day + 1000
    for t in got:
        assert lo <= t <= hi or lo <= t + day <= hi or lo <= t - day <= hi, \
            f"timestamp {t} ms, test clock {int(before * 1000) % day}..{int(after * 1000) % day} ms"


def test_timestamp_reply_is_the_time_of_day():
    """A timestamp reply's receive and transmit times are the host's, in ms since midnight UT
    (RFC 792), one value, within 1 s of this test's clock."""
    before = time.time()
    (rep,) = replies_of([timestamp_req()], "timestamp", GATED_ARGS)
    after = time.time()
    msg = bytes(rep[IP].payload)
    rx, tx = int.from_bytes(msg[12:16], "big"), int.from_bytes(msg[16:20], "big")
    day = 86_400_000
    lo, hi = int(before * 1000) % day - 1000, int(after * 1000) % day + 1000
    assert rx == tx, f"receive {rx}, transmit {tx}: taken once"
    assert lo <= rx <= hi or lo <= rx + day <= hi or lo <= rx - day <= hi, \
        f"timestamp {rx} ms, test clock {int(before * 1000) % day}..{int(after * 1000) % day} ms"


def test_icmp_errors_have_a_global_limit():
    """Linux's host-wide ICMP error limit (icmp_msgs_per_sec 1000, icmp_msgs_burst 50) holds
    whatever the sources: 50 port unreachables at once to 50 sources, then about one a
    millisecond (the runs here take a few ms: most of the next 40 are dropped)."""
    frames = [l2() / IP(src=f"198.51.{100 + i // 200}.{1 + i % 200}", dst=ANY_IP) / UDP(sport=40000, dport=33434) /
              Raw(b"u") for i in range(90)]
    t0 = time.monotonic()
    proc = subprocess.run([TESTRUN, "--mac", IF_MAC, *GATED_ARGS], input="".join(bytes(f).hex() + "\n" for f in frames),
                          capture_output=True, text=True, check=False, timeout=60)
    elapsed_ms = (time.monotonic() - t0) * 1000
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0 and len(lines) == len(frames), proc.stderr
    verdicts = [line.split(" ")[0] for line in lines]
    assert verdicts[:50] == ["XDP_TX"] * 50, f"the burst of 50: {verdicts[:50]}"
    assert set(verdicts[50:]) <= {"XDP_TX", "XDP_DROP"}, verdicts[50:]
    # after the burst, one a millisecond at most (the run's whole time, load or not, bounds it)
    sent = verdicts[50:].count("XDP_TX")
    assert sent <= elapsed_ms + 2, f"{sent} of the next 40 sent in {elapsed_ms:.1f} ms: {verdicts[50:]}"


def test_fragment_replies_reassemble():
    """The reply's fragments, put together as the requester's kernel puts them together, are one
    echo reply: type 0, the request's identifier, sequence and payload, a valid ICMP checksum."""
    from scapy.layers.inet import defragment
    frames = fragments4(payload_len=4000, ident=99)
    replies = replies_of(frames, "echo4", ("--prefix", "203.0.113.0/24"))
    (whole,) = defragment([rep[IP] for rep in replies])
    icmp = bytes(whole[IP].payload)
    assert len(icmp) == 4008 and icmp[0] == 0 and checksum_ok(icmp), f"{len(icmp)} bytes, type {icmp[0]}"
    assert icmp[4:] == bytes(frames[0])[14 + 20 + 4:14 + 20 + 8] + (bytes(range(256)) * 300)[:4000]
    assert whole[IP].src == ANY_IP and whole[IP].dst == CLIENT_IP


def test_fragment_replies_have_a_budget():
    """A first fragment answered buys its datagram at most 131,070 bytes of reply frames (two
    datagrams' worth, headers and padding included): the same later fragment sent again and
    again is answered until they are spent, then left to the kernel."""
    first, second = fragments4(payload_len=2000, ident=321)
    size = len(bytes(second)) - 14
    lines = run_frames([first] + [second] * 260, ("--prefix", "203.0.113.0/24"))
    answered = sum(1 for line in lines[1:] if line.startswith("XDP_TX"))
    assert answered == (131070 - (len(bytes(first)) - 14)) // size, (answered, size)
    assert all(line.startswith("XDP_PASS refused ip_fragment") for line in lines[1 + answered:])


def run_frames(frames, args=()):
    proc = subprocess.run([TESTRUN, "--mac", IF_MAC, *args], input="".join(bytes(f).hex() + "\n" for f in frames),
                          capture_output=True, text=True, check=False, timeout=60)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0 and len(lines) == len(frames), proc.stderr
    return lines


def test_fragment6_replies_reassemble():
    """As test_fragment_replies_reassemble(), over IPv6 (a 3000-byte ping -6): one echo reply, its
    ICMPv6 checksum valid over the pseudo-header."""
    from scapy.layers.inet6 import defragment6
    frames = fragments6(payload_len=3000, ident=98)
    replies = replies_of(frames, "echo6")
    whole = defragment6([rep[IPv6] for rep in replies])
    icmp = bytes(whole[IPv6].payload)
    pseudo = bytes(whole[IPv6])[8:40] + len(icmp).to_bytes(4, "big") + bytes([0, 0, 0, 58])
    assert icmp[0] == 129 and len(icmp) == 3008 and checksum_ok(pseudo + icmp), (icmp[:8].hex(), len(icmp))
    assert whole[IPv6].src == ANY_IP6 and whole[IPv6].dst == CLIENT_IP6


def test_flow_label_is_our_own():
    """Echo6 replies carry flow labels of their own, as Linux's do (auto_flowlabels): one label
    for every reply between two addresses, whatever label the request carried; another
    requester's elsewhere. Seed 0, as pong-testrun loads the program: the same every run."""
    frames = [echo6(src_ip=CLIENT_IP6, ip_kw={"fl": fl}) for fl in (0, 12345, 0xFFFFF)]
    frames.append(echo6(src_ip="2001:db8:77::99", ip_kw={"fl": 12345}))
    labels = [rep[IPv6].fl for rep in replies_of(frames, "echo6")]
    a0, a1, a2, b0 = labels
    assert a0 == a1 == a2, f"one label between two addresses: {labels}"
    assert a0 not in (0, 12345, 0xFFFFF) and b0 != a0, f"not the requests', another pair's elsewhere: {labels}"
