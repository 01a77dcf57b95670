"""Linux in the same lab is the oracle: each probe goes from the client to a
Linux host's address and to an address xdp-pong answers, on the same bridge,
and the two replies must agree in every field a host decides.

Fields that name the host (its addresses) differ by design and are checked
apart: the reply comes from the address probed. Checksums are checked for
validity, not compared (they cover the addresses).
"""
import json
import re

import pytest
from pylib.env import CLIENT_IP, CLIENT_IP6
from pylib.frames import IPV4_OPTION_CASES, option_bytes
from scapy.layers.inet import ICMP, IP, IPOption
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, IPv6

LINUX4, LINUX6 = "198.51.100.77", "2001:db8:77::77"   # assigned to the Linux host
PONG4, PONG6 = "198.51.100.50", "2001:db8:77::50"     # assigned nowhere: xdp-pong answers

# The client's side: send each probe (an L3 packet, as hex) and print each
# reply (hex, or null after 2 s of silence), as JSON on one line.
SEND = r'''
import json, sys
from scapy.all import conf, sr1, IP, IPv6
conf.verb = 0
out = []
for family, hexed in json.load(sys.stdin):
    pkt = (IP if family == 4 else IPv6)(bytes.fromhex(hexed))
    reply = sr1(pkt, timeout=2, iface="cli0")
    out.append(None if reply is None else bytes(reply).hex())
print(json.dumps(out))
'''


@pytest.fixture(scope="module")
def lab(bridge):
    """The bridge lab with a Linux host on the switch, and xdp-pong on pong0."""
    bridge.lab.add_host("lnx", [f"{LINUX4}/24", f"{LINUX6}/64"])
    res = bridge.pong_cli("attach", "pong0")
    assert res.returncode == 0, res.stderr
    yield bridge
    bridge.pong_cli("detach", "pong0")


def ask(lab, probes):
    """Each probe to both hosts: [(linux's reply, xdp-pong's reply)], as scapy packets.
    A probe is a packet, or a function of the destination that makes one."""
    sent = []
    for probe in probes:
        family = 4 if IP in (probe(LINUX4) if callable(probe) else probe) else 6
        for dst in ((LINUX4, PONG4) if family == 4 else (LINUX6, PONG6)):
            pkt = probe(dst) if callable(probe) else probe.copy()
            pkt.src, pkt.dst = (CLIENT_IP if family == 4 else CLIENT_IP6), dst
            sent.append((family, bytes(pkt).hex()))
    res = lab.lab.run(lab.cli, "/usr/bin/python3", "-c", SEND, input=json.dumps(sent), timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    got = [None if h is None else (IP if f == 4 else IPv6)(bytes.fromhex(h))
           for (f, _), h in zip(sent, json.loads(res.stdout))]
    return list(zip(got[0::2], got[1::2]))


def ip4_fields(p):
    """What an echo reply's host decides, over IPv4: all but addresses, identification and checksums."""
    return {"version": p.version, "ihl": p.ihl, "tos": p.tos, "len": p.len, "flags": int(p.flags),
            "frag": p.frag, "ttl": p.ttl, "proto": p.proto, "type": p[ICMP].type, "code": p[ICMP].code,
            "id": p[ICMP].id, "seq": p[ICMP].seq, "data": bytes(p[ICMP].payload)}


def ip6_fields(p):
    """... over IPv6: all but addresses, the flow label and the checksum."""
    icmp = p[ICMPv6EchoReply]
    return {"version": p.version, "tc": p.tc, "plen": p.plen, "nh": p.nh, "hlim": p.hlim,
            "type": icmp.type, "code": icmp.code, "id": icmp.id, "seq": icmp.seq, "data": bytes(icmp.data)}


def checksums_ok4(p):
    again = IP(bytes(p))
    del again.chksum
    del again[ICMP].chksum
    again = IP(bytes(again))
    return again.chksum == p.chksum and again[ICMP].chksum == p[ICMP].chksum


def checksums_ok6(p):
    again = IPv6(bytes(p))
    del again[ICMPv6EchoReply].cksum
    again = IPv6(bytes(again))
    return again[ICMPv6EchoReply].cksum == p[ICMPv6EchoReply].cksum


ECHO4 = {
    "code 0, DF and identification 0 (as ping sends it)":
        IP(id=0, flags="DF") / ICMP(type=8, code=0, id=7, seq=1) / b"abcdefgh",
    "code 9 (nmap's OS detection; hping3 -1 -K 9)": IP(id=4243) / ICMP(type=8, code=9, id=7, seq=2) / b"abcdefgh",
    "code 255, DSCP and ECN set": IP(id=0, tos=0xb9) / ICMP(type=8, code=255, id=7, seq=3) / bytes(range(40)),
}
ECHO6 = {
    "code 0": IPv6() / ICMPv6EchoRequest(code=0, id=7, seq=1, data=b"abcdefgh"),
    "code 9, a flow label": IPv6(fl=12345) / ICMPv6EchoRequest(code=9, id=7, seq=2, data=b"abcdefgh"),
    "code 255, traffic class and another flow label set":
        IPv6(tc=0xb9, fl=777) / ICMPv6EchoRequest(code=255, id=7, seq=3, data=bytes(range(40))),
}


def agree(names, replies, linux_addr, pong_addr, fields, checksums_ok):
    """Each pair of replies: both came, each from the address probed, alike in fields()."""
    for name, (linux, pong) in zip(names, replies):
        assert linux is not None, f"{name}: Linux did not answer"
        assert pong is not None, f"{name}: xdp-pong did not answer"
        assert pong.src == pong_addr and linux.src == linux_addr, name
        assert fields(pong) == fields(linux), name
        assert checksums_ok(pong), f"{name}: xdp-pong's checksums"


def test_echo4_as_linux(lab):
    replies = ask(lab, ECHO4.values())
    agree(ECHO4, replies, LINUX4, PONG4, ip4_fields, checksums_ok4)
    # Identification: each host its own, not the request's (0, 4243, 0). Linux counts per
    # destination with random steps; xdp-pong counts up by one per sequence number of a session
    # (requester, address, ICMP identifier: these three are one session, sequence 1, 2, 3).
    ids = [pong.id for _, pong in replies]
    assert ids[1] == (ids[0] + 1) % 65536 and ids[2] == (ids[1] + 1) % 65536, f"xdp-pong's identifications {ids}"
    assert [linux.id for linux, _ in replies] != [0, 4243, 0], "Linux's are its own too"


def test_echo6_as_linux(lab):
    replies = ask(lab, ECHO6.values())
    agree(ECHO6, replies, LINUX6, PONG6, ip6_fields, checksums_ok6)
    # Flow label: each host its own, one for every reply between two addresses, whatever the
    # request carried (0, 12345, 777): Linux's net.ipv6.auto_flowlabels, a hash of the flow.
    assert len({linux.fl for linux, _ in replies}) == 1, "Linux: one label between two addresses"
    assert len({pong.fl for _, pong in replies}) == 1, \
        f"xdp-pong: one label, not the requests': {[pong.fl for _, pong in replies]}"


def options_as(reply, text, addr):
    """The times of day in reply's IPv4 options if they are `text` (an
    IPV4_OPTION_CASES reply, AAAAAAAA being addr), else None."""
    opts = bytes(reply[IP])[20:reply[IP].ihl * 4]
    want = text.replace(" ", "").replace("AAAAAAAA", bytes(int(x) for x in addr.split(".")).hex())
    if len(want) != 2 * len(opts):
        return None
    times = []
    for i in range(0, len(want), 2):
        if want[i:i + 8] == "TTTTTTTT" and (not times or i >= times[-1][0] + 8):
            times.append((i, int.from_bytes(opts[i // 2:i // 2 + 4], "big")))
        elif not any(t <= i < t + 8 for t, _ in times) and opts[i // 2:i // 2 + 1].hex() != want[i:i + 2]:
            return None
    return [t for _, t in times]


def test_ipv4_options_as_linux(lab):
    """Record route and timestamp options, each case of IPV4_OPTION_CASES: Linux's reply carries
    the options the case says (this is where the cases come from), xdp-pong's the same with its
    address, at a time within a second of Linux's (one host's clock); no echo reply from either
    where Linux sends none."""
    probes = [(lambda dst, opt=opt, k=k: IP(options=IPOption(option_bytes(opt, dst))) /
               ICMP(type=8, id=9, seq=k) / b"opts")
              for k, (_, opt, _) in enumerate(IPV4_OPTION_CASES)]
    for (name, _, reply), (linux, pong) in zip(IPV4_OPTION_CASES, ask(lab, probes)):
        linux_echo = linux is not None and ICMP in linux and linux[ICMP].type == 0
        if reply is None:
            assert not linux_echo, f"{name}: Linux answered after all: {bytes(linux[IP]).hex()}"
            assert pong is None, f"{name}: xdp-pong answered: {bytes(pong[IP]).hex()}"
            continue
        assert linux_echo, f"{name}: Linux did not answer"
        assert pong is not None, f"{name}: xdp-pong did not answer"
        linux_times = options_as(linux, reply, LINUX4)
        assert linux_times is not None, f"{name}: Linux's options {bytes(linux[IP])[20:].hex()}, not {reply}"
        pong_times = options_as(pong, reply, PONG4)
        assert pong_times is not None, f"{name}: xdp-pong's options {bytes(pong[IP])[20:].hex()}, not {reply}"
        for a, b in zip(linux_times, pong_times):
            assert abs(a - b) <= 1000 or abs(a - b) >= 86_400_000 - 1000, f"{name}: times {a} and {b} ms"
        assert checksums_ok4(pong), f"{name}: xdp-pong's checksums"


def test_ping_record_route_and_timestamps(lab):
    """iputils ping -R, -T tsonly and -T tsandaddr: what ping prints of the target's entries."""
    for opts in (["-R"], ["-T", "tsonly"], ["-T", "tsandaddr"]):
        out = {}
        for host in (LINUX4, PONG4):
            res = lab.client("ping", "-c", "1", "-W", "2", *opts, host)
            assert res.returncode == 0, f"ping {' '.join(opts)} {host}: {res.stdout}{res.stderr}"
            out[host] = res.stdout
        if opts == ["-R"]:
            for host in (LINUX4, PONG4):
                recorded = out[host].split("RR:", 1)[-1].split("---", 1)[0]
                assert host in recorded, f"ping -R {host}: the target recorded itself: {out[host]}"
        elif opts[1] == "tsandaddr":
            for host in (LINUX4, PONG4):
                assert re.search(rf"^\s*{re.escape(host)}\s+\d+", out[host], re.M), \
                    f"ping -T tsandaddr {host}: the target's address and time: {out[host]}"
        else:
            counts = {h: len(re.findall(r"^\s*(-?\d+)\s*(absolute)?$", out[h].split("TS:", 1)[-1], re.M))
                      for h in (LINUX4, PONG4)}
            assert counts[PONG4] == counts[LINUX4], f"ping -T tsonly: entries {counts}: {out}"
