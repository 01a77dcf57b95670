"""Datapath tables: every rule of xdp/pong.bpf.c as input frame -> verdict -> bytes.

Each row runs through the real program with BPF_PROG_TEST_RUN (build/pong-testrun).
A reply must equal, byte for byte, the reply built here independently with
scapy, and its checksums are verified with our own routine. A passed frame
must come out unchanged, with the right counter and refusal reason moved.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from pylib.frames import (ANY_IP, ARP, BCAST, CLIENT_IP, ICMP, IF_MAC, IP, OTHER_MAC,  # noqa: E402
                          PEER_MAC, TCP, UDP, Ether, Raw, arp_request, checksum_ok, echo4,
                          l2, l3_offset, ones_sum)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TESTRUN = os.path.join(ROOT, "build", "pong-testrun")


class Reply:
    """Expect XDP_TX, the given counter, and output equal to `frame`."""
    def __init__(self, counter, frame, csum_error=False):
        self.counter, self.frame, self.csum_error = counter, bytes(frame), csum_error


class Pass:
    """Expect XDP_PASS with the frame untouched, counted under counter/reason."""
    def __init__(self, counter="passed", reason="-"):
        self.counter, self.reason = counter, reason


def refused(reason):
    return Pass("refused", reason)


# ---- expected replies, built from the request with scapy ----

def echo4_reply(req, ttl=64):
    rep = Ether(bytes(req))
    rep[Ether].dst, rep[Ether].src = req[Ether].src, IF_MAC
    rep[IP].src, rep[IP].dst = req[IP].dst, req[IP].src
    rep[IP].ttl = ttl
    rep[ICMP].type = 0
    del rep[IP].chksum
    del rep[ICMP].chksum
    return rep


def arp_reply(req):
    rep = Ether(bytes(req))
    rep[Ether].dst, rep[Ether].src = req[Ether].src, IF_MAC
    rep[ARP].op = 2
    rep[ARP].hwdst, rep[ARP].pdst = req[ARP].hwsrc, req[ARP].psrc
    rep[ARP].hwsrc, rep[ARP].psrc = IF_MAC, req[ARP].pdst
    return rep


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
    r = echo4(ip_kw={"options": [b"\x01" * 40]})          # 40 bytes of NOP, IHL 15
    yield "echo4: IP options (IHL 15) echoed", bytes(r), Reply("echo4", echo4_reply(r))
    r = Ether(bytes(echo4(payload=b"")) + b"\0" * 18)      # padded to 60 bytes
    yield "echo4: Ethernet padding kept", bytes(r), Reply("echo4", echo4_reply(r))
    r = echo4(icmp_kw={"chksum": 0x1234})
    yield "echo4: wrong ICMP checksum stays wrong", bytes(r), Reply("echo4", echo4_reply(r), csum_error=True)
    r = echo4(ip_kw={"tos": 0xB8, "id": 4321, "flags": "DF"})
    yield "echo4: TOS, id, DF kept", bytes(r), Reply("echo4", echo4_reply(r))

    yield "refuse echo4: destination MAC not ours", bytes(echo4(dst=OTHER_MAC)), refused("l2_dst")
    yield "refuse echo4: destination MAC broadcast", bytes(echo4(dst=BCAST)), refused("l2_dst")
    yield "refuse echo4: source MAC multicast", bytes(echo4(src="01:00:5e:00:00:01")), refused("l2_src")
    yield "refuse echo4: source MAC broadcast", bytes(echo4(src=BCAST)), refused("l2_src")
    yield "refuse echo4: IP version 6", raw_ip(bytes(echo4()), ver_ihl=0x65), refused("ip_header")
    yield "refuse echo4: IHL 4", raw_ip(bytes(echo4()), ver_ihl=0x44), refused("ip_header")
    yield "refuse echo4: total length beyond frame", raw_ip(bytes(echo4()), tot_len=1000), refused("ip_header")
    yield "refuse echo4: total length below IHL", raw_ip(bytes(echo4()), tot_len=16), refused("ip_header")
    yield "refuse echo4: ICMP header cut short", raw_ip(bytes(echo4(payload=b"")), tot_len=24), refused("truncated")
    yield "refuse echo4: frame cut inside the ICMP header (length beyond frame)", \
        bytes(echo4(payload=b""))[:14 + 20 + 4], refused("ip_header")
    yield "refuse echo4: fragment (MF)", bytes(echo4(ip_kw={"flags": "MF"})), refused("ip_fragment")
    yield "refuse echo4: fragment (offset)", bytes(echo4(ip_kw={"frag": 100})), refused("ip_fragment")
    for src in ("0.1.2.3", "127.0.0.1", "224.0.0.5", "239.255.255.250", "240.0.0.1", "255.255.255.255"):
        yield f"refuse echo4: source {src}", bytes(echo4(src_ip=src)), refused("ip_src")
    for dst in ("0.0.0.0", "0.255.1.2", "127.0.0.1", "127.255.255.254", "224.0.0.1", "239.1.2.3",
                "255.255.255.255"):
        yield f"refuse echo4: destination {dst}", bytes(echo4(dst_ip=dst)), refused("ip_dst")
    for t in (0, 3, 11, 13):
        yield f"refuse ICMP type {t}", bytes(echo4(icmp_kw={"type": t})), refused("icmp_type")
    yield "refuse echo4: code 1", bytes(echo4(icmp_kw={"code": 1})), refused("icmp_code")

    yield "pass: TCP", bytes(l2() / IP(src=CLIENT_IP, dst=ANY_IP) / TCP(dport=80)), Pass()
    yield "pass: UDP", bytes(l2() / IP(src=CLIENT_IP, dst=ANY_IP) / UDP(dport=53) / Raw(b"q")), Pass()
    yield "pass: UDP fragment (rules apply to ICMP only)", \
        bytes(l2() / IP(src=CLIENT_IP, dst=ANY_IP, flags="MF") / UDP()), Pass()
    yield "pass: LLDP", bytes(Ether(dst="01:80:c2:00:00:0e", src=PEER_MAC, type=0x88CC) / Raw(b"\0" * 46)), Pass()
    yield "pass: unknown EtherType", bytes(Ether(dst=IF_MAC, src=PEER_MAC, type=0x1234) / Raw(b"\0" * 46)), Pass()
    yield "pass: Ethernet header only", bytes(Ether(dst=IF_MAC, src=PEER_MAC, type=0x0800)), Pass()
    yield "pass: IPv4 header cut short", bytes(echo4())[:14 + 12], Pass()
    yield "pass: VLAN tag cut short", bytes(echo4(tags=q))[:16], Pass()


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
    yield "refuse arp: truncated", bytes(arp_request())[:14 + 20], refused("truncated")
    yield "refuse arp: hardware type 6", bytes(arp_request(arp_kw={"hwtype": 6})), refused("arp_format")
    yield "refuse arp: protocol IPv6", bytes(arp_request(arp_kw={"ptype": 0x86DD})), refused("arp_format")
    yield "refuse arp: hardware length 8", \
        bytes(l2(dst=BCAST) / Raw(bytes.fromhex("0001080008040001") + b"\0" * 20)), refused("arp_format")
    yield "refuse arp: protocol length 16", \
        bytes(l2(dst=BCAST) / Raw(bytes.fromhex("0001080006100001") + b"\0" * 20)), refused("arp_format")
    for op in (2, 3, 4):
        yield f"refuse arp: op {op}", bytes(arp_request(arp_kw={"op": op})), refused("arp_op")
    yield "refuse arp: probe (sender 0.0.0.0)", bytes(arp_request(sender="0.0.0.0")), refused("arp_probe")
    yield "refuse arp: gratuitous (sender == target)", \
        bytes(arp_request(sender=ANY_IP, target=ANY_IP)), refused("arp_gratuitous")
    for t in ("0.0.0.1", "127.0.0.1", "224.0.0.251", "255.255.255.255"):
        yield f"refuse arp: target {t}", bytes(arp_request(target=t)), refused("arp_target")


def fix_etype(cases):
    """Raw ARP bodies above were built with Raw: set EtherType 0x0806 on them."""
    for name, frame, expect in cases:
        if "length" in name and name.startswith("refuse arp"):
            frame = frame[:12] + b"\x08\x06" + frame[14:]
        yield name, frame, expect


def run_table(t, cases, ttl=64):
    cases = list(cases)
    proc = subprocess.run([TESTRUN, "--mac", IF_MAC, "--ttl", str(ttl)],
                          input="".join(f.hex() + "\n" for _, f, _ in cases),
                          capture_output=True, text=True, check=False, timeout=120)
    lines = proc.stdout.splitlines()
    if not t.check("pong-testrun ran every frame", proc.returncode == 0 and len(lines) == len(cases),
                   proc.stderr.strip()[-400:]):
        return
    for (name, frame, expect), line in zip(cases, lines):
        verdict, counter, reason, out = line.split(" ")
        out = bytes.fromhex(out) if out != "-" else b""
        if isinstance(expect, Pass):
            got = (verdict, counter, reason, out == frame)
            want = ("XDP_PASS", expect.counter, expect.reason, True)
            t.equal(name, got, want)
            continue
        want = expect.frame
        problems = []
        if (verdict, counter, reason) != ("XDP_TX", expect.counter, "-"):
            problems.append(f"verdict {verdict}/{counter}/{reason}")
        problems += check_reply_bytes(out, want, frame, expect.csum_error)
        t.check(name, not problems, "; ".join(problems))


def check_reply_bytes(out, want, req, csum_error):
    """Exact bytes, and checksums verified with our own routine."""
    problems = []
    off = l3_offset(want)
    is_ip = want[off - 2:off] == b"\x08\x00"
    if is_ip:
        ihl = (want[off] & 0x0F) * 4
        tot = int.from_bytes(want[off + 2:off + 4], "big")
        icmp = slice(off + ihl, off + tot)
        if not checksum_ok(out[off:off + ihl]):
            problems.append("IPv4 header checksum invalid")
        if csum_error:
            # the error of the request's checksum carries over unchanged
            if checksum_ok(out[icmp]):
                problems.append("ICMP checksum was repaired")
            if ones_sum(out[icmp]) != ones_sum(req[icmp]):
                problems.append("ICMP checksum error changed")
            cs = off + ihl + 2
            out = out[:cs] + want[cs:cs + 2] + out[cs + 2:]
        elif not checksum_ok(out[icmp]):
            problems.append("ICMP checksum invalid")
    if out != want:
        diff = next((i for i in range(min(len(out), len(want))) if out[i] != want[i]), min(len(out), len(want)))
        problems.append(f"bytes differ from offset {diff} (len {len(out)} vs {len(want)}): "
                        f"got {out[diff:diff + 8].hex()} want {want[diff:diff + 8].hex()}")
    return problems


def run(t):
    if not t.check("build/pong-testrun exists", os.access(TESTRUN, os.X_OK), "run make first"):
        return
    run_table(t, cases_ipv4())
    run_table(t, fix_etype(cases_arp()))
    req = echo4()
    run_table(t, [("echo4: --ttl 17 sets the reply TTL", bytes(req), Reply("echo4", echo4_reply(req, ttl=17)))],
              ttl=17)
