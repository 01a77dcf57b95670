"""The probe tools against --answer udp,tcp,timestamp, with Linux as the oracle.

Each tool (traceroute UDP and TCP, tracepath, mtr, tcptraceroute, nmap's
host discovery, hping3, ping -R / -T) goes from the client to the Linux host
on the bridge and to an address xdp-pong answers: both must give the outcome
the tool prints for a live host with closed ports (reached, closed, up), and
xdp-pong's counter of that kind must move for its address alone (so a pass
cannot come from a kernel). The replies themselves are compared field by
field with Linux's. Also: the kinds are off by default; the ICMP error
burst is Linux's; on a router, transit traffic (destinations outside the
prefix list) still reaches the host behind it, and the router's own UDP and
TCP services still answer.
"""
import json
import re
import shutil
import subprocess

import pytest
from pylib.env import CLIENT_IP, CLIENT_IP6, XDP_PONG, Lab, sh, unique
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import ICMPv6DestUnreach, IPv6
from test_oracle import LINUX4, LINUX6, PONG4, PONG6, ask

# The prefix lists hold xdp-pong's address and neither the client's nor the Linux host's.
# Without --unclaimed, xdp-pong answers ARP for every address in its list, a live host's
# included, and its reply comes a few microseconds after the owner's: a Linux neighbour entry
# last updated more than a second before (locktime) takes the later of two replies, so once
# any tool broadcast an ARP request for the Linux host (scapy, nmap), the client's entry for
# 198.51.100.77 pointed at pong0 and xdp-pong answered in the Linux host's name (seen: the
# "Linux" port unreachables counted in udp4). IPv6 is left out too: xdp-pong's NA (O=0) does
# not override the owner's, but it completes an INCOMPLETE entry when it comes first.
SCOPE = ["--prefix", "198.51.100.48/28", "--prefix", "2001:db8:77::50/124"]
ANSWER = [*SCOPE, "--answer", "udp,tcp,timestamp"]
TOOLS = ("traceroute", "tracepath", "mtr", "tcptraceroute", "nmap", "hping3", "ping")


def pong_cli_ok(lab, *args):
    res = lab.pong_cli(*args)
    assert res.returncode == 0, f"xdp-pong {' '.join(args)}: {res.stderr.strip()}"
    return res


def attach(lab, *opts):
    pong_cli_ok(lab, "attach", "pong0", *opts)


def detach(lab):
    lab.pong_cli("detach", "pong0")


@pytest.fixture(scope="module")
def lab(bridge):
    """The bridge lab with a Linux host on the switch ("lnx") and xdp-pong on pong0 answering
    udp, tcp and timestamp for its prefix list. ICMP error rate limits are off on both hosts
    here: traceroute, tracepath and mtr send many UDP probes in a burst, and a limit (one error
    a second after 6) would make the outcome depend on the tests run before; the limit has its
    own test, which turns both hosts' defaults back on."""
    missing = [t for t in TOOLS if shutil.which(t) is None]
    assert not missing, f"tools missing: {missing} (scripts/deps.sh installs them)"
    bridge.lnx = bridge.lab.add_host("lnx", [f"{LINUX4}/24", f"{LINUX6}/64"])
    bridge.linux_limits = {}
    for key in ("net/ipv4/icmp_ratelimit", "net/ipv6/icmp/ratelimit"):
        bridge.linux_limits[key] = bridge.ns(bridge.lnx, "cat", f"/proc/sys/{key}").stdout.strip()
        bridge.lab.write_sysctl(bridge.lnx, key, "0")
    attach(bridge, *ANSWER, "--icmp-ratelimit", "0")
    yield bridge
    detach(bridge)


def counted(stats, path):
    """The packets of a counter ("udp4") or of a refusal reason ("own_address") in a stats entry."""
    return (stats["counters"] if path in stats["counters"] else stats["refused_by_reason"])[path]["packets"]


def moved(before, after, path):
    return counted(after, path) - counted(before, path)


# ---- each tool's outcome, as the tool prints it ----

def trace_last_hop(out, ip):
    """traceroute: the last line's hop is the target (not '*', not another address)."""
    hops = re.findall(r"^\s*\d+\s+(\S+)", out, re.M)
    return "reached" if hops and hops[-1] == ip else f"not reached (last hop {hops[-1:] or None})"


def tracepath_reached(out, ip):
    return "reached" if re.search(rf"^\s*\d+:\s+{re.escape(ip)}\s.*\breached\b", out, re.M) else "not reached"


def mtr_last_hop(out, ip):
    """mtr --report: the last hop is the target and its probe came back (loss below 100%)."""
    hops = re.findall(r"^\s*\d+\.\|--\s+(\S+)\s+([\d.]+)%", out, re.M)
    if not hops or hops[-1][0] != ip:
        return f"not reached (last hop {hops[-1:] or None})"
    return "reached" if float(hops[-1][1]) < 100 else "lost"


def tcptraceroute_closed(out, ip):
    return "closed" if re.search(rf"\b{re.escape(ip)} \[closed\]", out) else "not closed"


def nmap_up(out, ip):
    return "up" if "Host is up" in out and "(1 host up)" in out else "down"


def hping_timestamp(out, ip):
    ok = re.search(rf"ip={re.escape(ip)} .*\n\s*ICMP timestamp: Originate=\d+ Receive=\d+ Transmit=\d+", out)
    return "timestamp reply" if ok else "no timestamp reply"


def hping_unreachable(out, ip):
    return "port unreachable" if f"ICMP Port Unreachable from ip={ip}" in out else "no port unreachable"


def hping_flags(out, ip):
    m = re.search(rf"ip={re.escape(ip)} .*\bflags=(\w+)", out)
    return f"flags={m.group(1)}" if m else "no reply"


def ping_recorded(out, ip):
    """ping -R: the reply's record route lists the target."""
    recorded = out.split("RR:", 1)[-1].split("---", 1)[0] if "RR:" in out else ""
    return "recorded" if re.search(rf"^\s*{re.escape(ip)}\s*$", recorded, re.M) else "not recorded"


def ping_stamps(out, ip):
    """ping -T tsonly: how many timestamps the reply came back with."""
    if "TS:" not in out:
        return "no timestamps"
    stamps = re.findall(r"^\s*(-?\d+)\s*(absolute)?\s*$", out.split("TS:", 1)[1].split("---", 1)[0], re.M)
    return f"{len(stamps)} timestamps"


# (name, command with {ip}, outcome, what Linux prints, xdp-pong's counter that must move).
# All are fast against a host that answers: traceroute's probes go out at once, -w 1 bounds
# the wait; nmap -sn with --disable-arp-ping sends only the probe asked (ARP or ND would say
# "up" by themselves on a LAN).
PROBES4 = [
    ("traceroute udp", "traceroute -n -q 1 -w 1 -m 3 {ip}", trace_last_hop, "reached", "udp4"),
    ("traceroute tcp", "traceroute -T -n -q 1 -w 1 -m 3 {ip}", trace_last_hop, "reached", "tcp4"),
    ("tracepath", "tracepath -n -m 3 {ip}", tracepath_reached, "reached", "udp4"),
    ("mtr udp", "mtr -n -u -r -c 1 -i 0.1 -G 0.3 -m 3 {ip}", mtr_last_hop, "reached", "udp4"),
    ("mtr tcp", "mtr -n -T -P 80 -r -c 1 -i 0.1 -G 0.3 -m 3 {ip}", mtr_last_hop, "reached", "tcp4"),
    ("tcptraceroute", "tcptraceroute -n -q 1 -w 1 -m 1 {ip} 80", tcptraceroute_closed, "closed", "tcp4"),
    ("nmap -PU", "nmap -n -sn -PU --disable-arp-ping {ip}", nmap_up, "up", "udp4"),
    ("nmap -PS", "nmap -n -sn -PS --disable-arp-ping {ip}", nmap_up, "up", "tcp4"),
    ("nmap -PA", "nmap -n -sn -PA --disable-arp-ping {ip}", nmap_up, "up", "tcp4"),
    ("nmap -PP", "nmap -n -sn -PP --disable-arp-ping {ip}", nmap_up, "up", "timestamp"),
    # address mask requests: Linux does not answer them, nor does xdp-pong (it sees and refuses it)
    ("nmap -PM", "nmap -n -sn -PM --disable-arp-ping --max-retries 1 --max-rtt-timeout 300ms {ip}",
     nmap_up, "down", "icmp_type"),
    ("hping3 --icmp-ts", "hping3 -n --icmp-ts -c 1 {ip}", hping_timestamp, "timestamp reply", "timestamp"),
    ("hping3 udp", "hping3 -n -2 -p 33434 -c 1 {ip}", hping_unreachable, "port unreachable", "udp4"),
    ("hping3 syn", "hping3 -n -S -p 80 -c 1 {ip}", hping_flags, "flags=RA", "tcp4"),
    ("hping3 ack", "hping3 -n -A -p 80 -c 1 {ip}", hping_flags, "flags=R", "tcp4"),
    ("ping -R", "ping -c 1 -W 2 -R {ip}", ping_recorded, "recorded", "echo4"),
    # Linux's reply holds 4 timestamps (ping prints the first absolute, the others relative):
    # xdp-pong's must hold as many
    ("ping -T tsonly", "ping -c 1 -W 2 -T tsonly {ip}", ping_stamps, "4 timestamps", "echo4"),
]
PROBES6 = [
    ("traceroute udp", "traceroute -6 -n -q 1 -w 1 -m 3 {ip}", trace_last_hop, "reached", "udp6"),
    ("traceroute tcp", "traceroute -6 -T -n -q 1 -w 1 -m 3 {ip}", trace_last_hop, "reached", "tcp6"),
    ("tracepath", "tracepath -6 -n -m 3 {ip}", tracepath_reached, "reached", "udp6"),
    ("mtr udp", "mtr -6 -n -u -r -c 1 -i 0.1 -G 0.3 -m 3 {ip}", mtr_last_hop, "reached", "udp6"),
    ("nmap -PU", "nmap -6 -n -sn -PU --disable-arp-ping {ip}", nmap_up, "up", "udp6"),
    ("nmap -PS", "nmap -6 -n -sn -PS --disable-arp-ping {ip}", nmap_up, "up", "tcp6"),
    ("nmap -PA", "nmap -6 -n -sn -PA --disable-arp-ping {ip}", nmap_up, "up", "tcp6"),
]
TARGETS = {"linux": {4: LINUX4, 6: LINUX6}, "pong": {4: PONG4, 6: PONG6}}
CASES = [pytest.param(family, row, target, id=f"{row[0]}{'' if family == 4 else ' (IPv6)'}-{target}")
         for family, rows in ((4, PROBES4), (6, PROBES6)) for row in rows for target in TARGETS]


@pytest.mark.parametrize("family, row, target", CASES)
def test_tool_sees_a_live_host(lab, family, row, target):
    """Each tool's verdict on the Linux host and on xdp-pong's address is the one Linux earns
    (a host with closed ports); xdp-pong's counter of that kind moves for its address, and
    stays still for the Linux host's (xdp-pong leaves another host's traffic alone)."""
    name, command, outcome, expected, counter = row
    ip = TARGETS[target][family]
    before = lab.stats()
    res = lab.client(*command.format(ip=ip).split(), timeout=60)
    out = res.stdout + res.stderr
    after = lab.stats()
    assert outcome(out, ip) == expected, f"{command.format(ip=ip)} (exit {res.returncode}):\n{out}"
    if target == "pong":
        assert moved(before, after, counter) >= 1, f"xdp-pong's {counter} did not move: the reply was not its own"
    else:
        assert moved(before, after, counter) == 0, f"xdp-pong's {counter} moved for the Linux host's address"


# ---- the replies, field by field ----

PAYLOAD = b"probe payload"
REPLY_PROBES = {
    "udp4": lambda d: IP(id=77, flags="DF") / UDP(sport=4444, dport=33434) / PAYLOAD,
    "udp4, DSCP and ECN, 1000 bytes (quote cut at 576)":
        lambda d: IP(tos=0xb9) / UDP(sport=4444, dport=33435) / (b"x" * 1000),
    "syn4": lambda d: IP() / TCP(sport=5555, dport=80, flags="S", seq=1000, options=[("MSS", 1460)]),
    "ack4": lambda d: IP(tos=0x2b) / TCP(sport=5555, dport=80, flags="A", seq=1000, ack=5000),
    "fin4 with data": lambda d: IP() / TCP(sport=5555, dport=81, flags="FA", seq=0xfffffffe, ack=7) / b"ab",
    "timestamp": lambda d: IP(tos=0x10) / ICMP(type=13, code=0, id=5, seq=6, ts_ori=12345),
    "timestamp, code 1, 8 bytes more": lambda d: IP() / ICMP(type=13, code=1, id=5, seq=7, ts_ori=1) / b"12345678",
    "udp6": lambda d: IPv6() / UDP(sport=4444, dport=33434) / PAYLOAD,
    "udp6, 1400 bytes (quote cut at 1280)": lambda d: IPv6(tc=0xb9) / UDP(sport=4444, dport=33436) / (b"y" * 1400),
    "syn6": lambda d: IPv6(tc=0x2e) / TCP(sport=5555, dport=80, flags="S", seq=5) / b"abc",
    "ack6": lambda d: IPv6() / TCP(sport=5555, dport=80, flags="A", seq=1000, ack=5000),
}


def sent_bytes(probe, dst):
    """The request as ask() sends it to dst."""
    pkt = probe(dst)
    pkt.src, pkt.dst = (CLIENT_IP if IP in pkt else CLIENT_IP6), dst
    return bytes(pkt)


def fields(reply, request):
    """What a host decides in a port unreachable, a RST or a timestamp reply: every field but
    the addresses, IPv4's identification, IPv6's flow label, the checksums and the times
    (compared apart). The quoted request must be the request as sent, cut alike."""
    if IP in reply:
        f = {k: getattr(reply[IP], k) for k in ("version", "ihl", "tos", "len", "frag", "ttl", "proto")}
        f["flags"] = int(reply[IP].flags)
        l4 = reply[IP].payload
    else:
        f = {k: getattr(reply[IPv6], k) for k in ("version", "tc", "plen", "nh", "hlim")}
        l4 = reply[IPv6].payload
    raw = bytes(l4)
    if isinstance(l4, TCP):
        f.update({k: getattr(l4, k) for k in ("sport", "dport", "seq", "ack", "dataofs", "window", "urgptr")})
        f.update(flags=str(l4.flags), options=l4.options, data=bytes(l4.payload))
    elif isinstance(l4, (ICMP, ICMPv6DestUnreach)) and raw[0] in (3, 1):       # port unreachable
        quote = raw[8:]
        f.update(type=raw[0], code=raw[1], unused=raw[4:8], quoted=len(quote),
                 quote_is_request=request.startswith(quote))
    else:                                                                       # timestamp reply
        f.update(type=raw[0], code=raw[1], id_seq=raw[4:8], originate=raw[8:12], length=len(raw))
    return f


def checksums_ok(p):
    """xdp-pong's checksums (IPv4 header, TCP or ICMP): computed again, the same bytes (the quote
    inside a port unreachable is left as it came)."""
    again = p.__class__(bytes(p))
    if IP in p:
        del again.chksum
    l4 = again.payload
    del l4.fields["chksum" if "chksum" in l4.fields else "cksum"]
    return bytes(p.__class__(bytes(again))) == bytes(p)


def test_replies_as_linux(lab):
    """Port unreachables (IPv4 and IPv6, quotes cut at 576 and 1280 bytes), RSTs to SYN, ACK and
    FIN with data (sequence numbers wrapping) and timestamp replies agree with Linux's in every
    field a host decides; xdp-pong's checksums hold and its receive and transmit times are
    within a second of Linux's."""
    before = lab.stats()
    replies = ask(lab, REPLY_PROBES.values())
    after = lab.stats()
    # xdp-pong answered its address's probes alone: Linux's replies are Linux's own
    want = {"udp4": 2, "tcp4": 3, "timestamp": 2, "udp6": 2, "tcp6": 2}
    assert {k: moved(before, after, k) for k in want} == want, "xdp-pong's replies, by kind"
    for (name, probe), (linux, pong) in zip(REPLY_PROBES.items(), replies):
        linux_addr, pong_addr = (LINUX4, PONG4) if IP in probe(LINUX4) else (LINUX6, PONG6)
        assert linux is not None, f"{name}: Linux did not answer"
        assert pong is not None, f"{name}: xdp-pong did not answer"
        assert linux.src == linux_addr and pong.src == pong_addr, name
        want, got = fields(linux, sent_bytes(probe, linux_addr)), fields(pong, sent_bytes(probe, pong_addr))
        assert got == want, f"{name}: xdp-pong {got}\n  Linux {want}"
        assert want.get("quote_is_request", True), f"{name}: Linux's quote is not the request"
        assert checksums_ok(pong), f"{name}: xdp-pong's checksums: {bytes(pong).hex()}"
        if "originate" in want:
            times = [int.from_bytes(bytes(p[ICMP])[k:k + 4], "big") for p in (linux, pong) for k in (12, 16)]
            for a, b in zip(times[:2], times[2:]):
                assert abs(a - b) <= 1000 or abs(a - b) >= 86_400_000 - 1000, f"{name}: times {times}"


@pytest.mark.parametrize("family, size", [(4, 2000), (4, 8000), (6, 1453), (6, 8000)])
def test_fragmented_ping_as_linux(lab, family, size):
    """ping -s 2000 (two fragments on a 1500-byte link), -s 8000 (six), ping -6 -s 1453 (the
    smallest that fragments) and -s 8000 get their reply from the Linux host and from xdp-pong
    alike: the client's kernel puts the reply's fragments together into one echo reply for
    ping (xdp-pong's counter moves by one per fragment it answered)."""
    kind, per = ("echo4", 1480) if family == 4 else ("echo6", 1448)
    for target in ((LINUX4, PONG4) if family == 4 else (LINUX6, PONG6)):
        before = lab.stats()
        res = lab.client("ping", f"-{family}", "-n", "-c", "2", "-i", "0.2", "-W", "2", "-s", str(size), target)
        after = lab.stats()
        assert res.returncode == 0 and " 0% packet loss" in res.stdout, f"{target}: {res.stdout}{res.stderr}"
        assert re.search(rf"{size + 8} bytes from {re.escape(target)}", res.stdout), res.stdout
        fragments = 2 * -(-(size + 8) // per)
        assert moved(before, after, kind) == (fragments if target in (PONG4, PONG6) else 0), (target, fragments)


# ---- off by default ----

@pytest.mark.parametrize("how", ["attach without --answer", "set --answer none"])
def test_off_by_default(lab, how):
    """Without --answer (and after `set --answer none`) UDP, TCP and timestamp requests to an
    address xdp-pong answers are the kernel's (pong0's kernel has no address: no answer at all):
    traceroute ends in stars, hping3 gets no RST and no timestamp reply, while ping still works."""
    try:
        if how == "set --answer none":
            pong_cli_ok(lab, "set", "pong0", "--answer", "none")
        else:
            detach(lab)
            attach(lab, *SCOPE)
        before = lab.stats()
        res = lab.client("traceroute", "-n", "-q", "1", "-w", "1", "-m", "3", PONG4)
        assert trace_last_hop(res.stdout, PONG4) != "reached" and re.search(r"^\s*3\s+\*", res.stdout, re.M), \
            res.stdout + res.stderr
        res = lab.client("hping3", "-n", "-S", "-p", "80", "-c", "1", PONG4)
        assert hping_flags(res.stdout + res.stderr, PONG4) == "no reply", res.stdout + res.stderr
        res = lab.client("hping3", "-n", "--icmp-ts", "-c", "1", PONG4)
        assert hping_timestamp(res.stdout + res.stderr, PONG4) == "no timestamp reply", res.stdout + res.stderr
        res = lab.client("ping", "-c", "1", "-W", "2", PONG4)
        assert res.returncode == 0, res.stdout + res.stderr
        after = lab.stats()
        for kind in ("udp4", "tcp4", "timestamp"):
            assert moved(before, after, kind) == 0, f"{kind} answered with --answer off"
        assert moved(before, after, "echo4") == 1
        assert moved(before, after, "passed") >= 4, "3 traceroute probes and the SYN go to the kernel"
        assert moved(before, after, "icmp_type") >= 1, "the timestamp request is refused as icmp_type"
    finally:
        if how == "set --answer none":
            pong_cli_ok(lab, "set", "pong0", "--answer", "udp,tcp,timestamp")
        else:
            detach(lab)
            attach(lab, *ANSWER, "--icmp-ratelimit", "0")


# ---- the ICMP error rate limit ----

BURST6 = r'''
import socket, sys, time
src, dst = sys.argv[1], sys.argv[2]
icmp = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
udp = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
udp.bind((src, 0))
start = time.monotonic()
for _ in range(10):
    udp.sendto(b"x", (dst, 33434))
print(f"sent in {(time.monotonic() - start) * 1000:.1f} ms", file=sys.stderr)
icmp.settimeout(1)
got = 0
try:
    while True:
        data, peer = icmp.recvfrom(2000)
        if peer[0] == dst and data[:2] == b"\x01\x04" and socket.inet_ntop(socket.AF_INET6, data[16:32]) == src:
            got += 1
except socket.timeout:
    pass
print(got)
'''


@pytest.mark.parametrize("family", [4, 6])
def test_icmp_error_burst_as_linux(lab, family):
    """With the default limits (Linux's icmp_ratelimit on the Linux host, no --icmp-ratelimit on
    xdp-pong), 10 UDP datagrams from one source within 100 ms get 6 port unreachables from each
    host (the burst; a token comes back after 1000 ms for IPv4, 100 ms for IPv6), the 4 others
    rate_limited on xdp-pong. Each family sends from a source address of its own that nothing
    else used: Linux's limit is per destination of the error (inet_peer), and a used one would
    start with fewer tokens (Linux refills an address's tokens from its last error, even while
    the limit was off). hping3 (IPv4) sends one every 10 ms; IPv6 is a socket (hping3 has no
    IPv6)."""
    src = "198.51.100.3" if family == 4 else "2001:db8:77::3"
    linux_ip, pong_ip = TARGETS["linux"][family], TARGETS["pong"][family]
    try:
        lab.lab.ip(lab.cli, "addr", "add", src + ("/24" if family == 4 else "/64"), "dev", "cli0",
                   *(["nodad"] if family == 6 else []))
        for key, value in lab.linux_limits.items():
            lab.lab.write_sysctl(lab.lnx, key, value)
        detach(lab)
        attach(lab, *ANSWER)
        got, took = {}, []         # took: IPv6's sending time (a token comes back after 100 ms)
        for ip in (linux_ip, pong_ip):
            if ip == pong_ip:
                before = lab.stats()
            if family == 4:
                res = lab.client("hping3", "-n", "-2", "-p", "33434", "-c", "10", "-i", "u10000", "-a", src, ip)
                got[ip] = (res.stdout + res.stderr).count(f"ICMP Port Unreachable from ip={ip}")
            else:
                res = lab.client("/usr/bin/python3", "-c", BURST6, src, ip)
                assert res.returncode == 0, res.stderr
                got[ip] = int(res.stdout)
                took.append(res.stderr.strip())
        after = lab.stats()
        kind = "udp4" if family == 4 else "udp6"
        assert got == {linux_ip: 6, pong_ip: 6}, f"port unreachables for 10 datagrams: {got} {took}"
        assert moved(before, after, kind) == 6 and moved(before, after, "rate_limited") == 4, \
            f"xdp-pong: {moved(before, after, kind)} answered, {moved(before, after, 'rate_limited')} rate_limited"
    finally:
        for key in lab.linux_limits:
            lab.lab.write_sysctl(lab.lnx, key, "0")
        detach(lab)
        attach(lab, *ANSWER, "--icmp-ratelimit", "0")
        sh(["ip", "-n", lab.cli, "addr", "del", src + ("/24" if family == 4 else "/64"), "dev", "cli0"])


# ---- a router: transit traffic and its own services ----

ROUTER_IP, ROUTER_IP6 = "198.51.100.1", "2001:db8:77::1"     # on pong0: the client's default routes
FAR_IP, FAR_IP6 = "203.0.113.9", "2001:db8:99::9"           # a host behind the router
UP_IP, UP_IP6 = "203.0.113.1", "2001:db8:99::1"             # the router's side of that link
UDP_PORT, TCP_PORT = 5000, 5001

# A UDP echo and a TCP server (each reply "echo " + what came) on ADDRESS, until stdin closes.
SERVE = r'''
import socket, sys, threading
addr = sys.argv[1]
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
u = socket.socket(fam, socket.SOCK_DGRAM)
u.bind((addr, %d))
t = socket.socket(fam, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((addr, %d))
t.listen(8)
def udp():
    while True:
        data, peer = u.recvfrom(2000)
        u.sendto(b"echo " + data, peer)
def tcp():
    while True:
        c, _ = t.accept()
        c.sendall(b"echo " + c.recv(2000))
        c.close()
threading.Thread(target=udp, daemon=True).start()
threading.Thread(target=tcp, daemon=True).start()
print("ready", flush=True)
sys.stdin.read()
''' % (UDP_PORT, TCP_PORT)

# The client's side: one datagram and one TCP exchange with ADDRESS; prints both answers.
TALK = r'''
import socket, sys
addr = sys.argv[1]
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
u = socket.socket(fam, socket.SOCK_DGRAM)
u.settimeout(3)
u.sendto(b"over udp", (addr, %d))
print(u.recvfrom(2000)[0].decode())
t = socket.create_connection((addr, %d), timeout=3)
t.sendall(b"over tcp")
print(t.recv(2000).decode())
''' % (UDP_PORT, TCP_PORT)


class Server:
    """SERVE in a namespace, for `with`: up when entered, ended (by its own pid) when left."""

    def __init__(self, lab, ns, addr):
        self.proc = lab.popen(ns, "/usr/bin/python3", "-c", SERVE, addr, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def __enter__(self):
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            self.__exit__()
            raise AssertionError(f"the server did not start: {self.proc.stderr.read()}")
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()


class Router:
    """A bridge lab whose responder is a router: pong0 at ROUTER_IP/ROUTER_IP6 (the client's
    default routes), forwarding on, and a far host ("far", far0) on a veth behind it (up0)."""

    def __init__(self, lab):
        self.lab, self.cli, self.pong = lab, lab.cli, lab.pong
        self.far = f"{lab.prefix}-far"
        lab.names["far"] = self.far                          # removed with the lab
        sh(["ip", "netns", "add", self.far], check=True)
        lab.ip(self.far, "link", "set", "lo", "up")
        lab.write_sysctl(lab.pong, "net/ipv6/conf/pong0/disable_ipv6", "0")
        lab.write_sysctl(lab.pong, "net/ipv4/ip_forward", "1")
        lab.write_sysctl(lab.pong, "net/ipv6/conf/all/forwarding", "1")
        lab.ip(lab.pong, "addr", "add", f"{ROUTER_IP}/24", "dev", "pong0")
        lab.ip(lab.pong, "addr", "add", f"{ROUTER_IP6}/64", "dev", "pong0", "nodad")
        lab.ip(lab.pong, "link", "add", "up0", "type", "veth", "peer", "name", "far0", "netns", self.far)
        lab.ip(lab.pong, "addr", "add", f"{UP_IP}/24", "dev", "up0")
        lab.ip(lab.pong, "addr", "add", f"{UP_IP6}/64", "dev", "up0", "nodad")
        lab.ip(lab.pong, "link", "set", "up0", "up")
        lab.ip(self.far, "addr", "add", f"{FAR_IP}/24", "dev", "far0")
        lab.ip(self.far, "addr", "add", f"{FAR_IP6}/64", "dev", "far0", "nodad")
        lab.ip(self.far, "link", "set", "far0", "up")
        lab.ip(self.far, "route", "add", "default", "via", UP_IP)
        lab.ip(self.far, "-6", "route", "add", "default", "via", UP_IP6)

    def client(self, *cmd, timeout=60):
        return self.lab.run(self.cli, *cmd, timeout=timeout)

    def pong_cli(self, *args):
        return self.lab.run(self.pong, XDP_PONG, *args)

    def stats(self):
        res = self.pong_cli("stats", "pong0", "--json")
        assert res.returncode == 0, res.stderr
        (entry,) = json.loads(res.stdout)["interfaces"]
        return entry


@pytest.fixture(scope="module")
def router(xdp_pong):
    """The router lab (its own namespaces), with xdp-pong on pong0 answering udp and tcp for
    198.51.100.0/24 and 2001:db8:77::/64: the router's own addresses inside, the far host's
    outside."""
    with Lab.bridge(unique("prt")) as lab:
        r = Router(lab)
        # the router must forward before xdp-pong is there: the client reaches the far host
        res = r.client("ping", "-c", "1", "-W", "2", FAR_IP)
        assert res.returncode == 0, f"no route to the far host: {res.stdout}{res.stderr}"
        pong_cli_ok(r, "attach", "pong0", "--prefix", "198.51.100.0/24", "--prefix", "2001:db8:77::/64",
                    "--answer", "udp,tcp")
        try:
            yield r
        finally:
            r.pong_cli("detach", "pong0")


@pytest.mark.parametrize("family", [4, 6])
def test_transit_reaches_the_host_behind(router, family):
    """A router with xdp-pong on its interface still forwards UDP and TCP to destinations outside
    the prefix list: the far host's UDP echo and TCP server answer the client, traceroute goes
    through the router (hop 1, its kernel's time exceeded) to the far host, whose kernel sends
    the port unreachable and the RST of its closed ports. xdp-pong answers none of it (its udp
    and tcp counters stay still) and counts the frames it let through as passed: they were not
    requests to it (not refused, which would drown the refusals that say something)."""
    r = router
    far = FAR_IP if family == 4 else FAR_IP6
    hop1 = ROUTER_IP if family == 4 else ROUTER_IP6
    six = [] if family == 4 else ["-6"]
    before = r.stats()
    with Server(r.lab, r.far, far):
        res = r.client("/usr/bin/python3", "-c", TALK, far)
    assert res.returncode == 0 and res.stdout.split("\n")[:2] == ["echo over udp", "echo over tcp"], \
        res.stdout + res.stderr
    for opts in ([], ["-T"]):
        res = r.client("traceroute", *six, *opts, "-n", "-q", "1", "-w", "1", "-m", "4", far)
        hops = re.findall(r"^\s*\d+\s+(\S+)", res.stdout, re.M)
        assert hops[:2] == [hop1, far], f"traceroute {' '.join(opts)}: {res.stdout}{res.stderr}"
    if family == 4:
        res = r.client("hping3", "-n", "-S", "-p", "80", "-c", "1", far)
        assert hping_flags(res.stdout + res.stderr, far) == "flags=RA", res.stdout + res.stderr
    after = r.stats()
    for kind in (f"udp{family}", f"tcp{family}"):
        assert moved(before, after, kind) == 0, f"xdp-pong answered transit traffic ({kind})"
    assert moved(before, after, "passed") >= 5, "xdp-pong saw the transit frames and let them through"
    assert moved(before, after, "not_in_prefix") == 0, "transit frames are not refused requests"


@pytest.mark.parametrize("family", [4, 6])
def test_own_services_answer(router, family):
    """The router's own addresses are inside the prefix list, and --answer udp,tcp is on: its
    UDP echo and TCP server on them still answer the client, and a closed port gets the
    router's kernel's port unreachable and RST; xdp-pong answers none of these (udp and tcp
    counters still) and counts them as own_address."""
    r = router
    own = ROUTER_IP if family == 4 else ROUTER_IP6
    six = [] if family == 4 else ["-6"]
    before = r.stats()
    with Server(r.lab, r.pong, own):
        res = r.client("/usr/bin/python3", "-c", TALK, own)
    assert res.returncode == 0 and res.stdout.split("\n")[:2] == ["echo over udp", "echo over tcp"], \
        res.stdout + res.stderr
    for opts in ([], ["-T"]):            # closed ports: the kernel's port unreachable, its RST
        res = r.client("traceroute", *six, *opts, "-n", "-q", "1", "-w", "1", "-m", "3", own)
        assert trace_last_hop(res.stdout, own) == "reached", res.stdout + res.stderr
    after = r.stats()
    for kind in (f"udp{family}", f"tcp{family}"):
        assert moved(before, after, kind) == 0, f"xdp-pong answered for the router's own address ({kind})"
    assert moved(before, after, "own_address") >= 5, "the frames met the host's own address"


def test_subnet_broadcast_is_the_kernels(router):
    """UDP and TCP to the router's subnet broadcast address (198.51.100.255, a broadcast route of
    its local table), sent to its MAC, inside the prefix list: no port unreachable, no RST from
    xdp-pong (Linux sends neither for a broadcast destination, RFC 1122 3.2.2); the frames are
    the kernel's, counted as own_address."""
    r = router
    mac = r.lab.run(r.pong, "cat", "/sys/class/net/pong0/address").stdout.strip()
    before = r.stats()
    res = r.client("/usr/bin/python3", "-c",
                   "import sys\n"
                   "from scapy.all import Ether, IP, UDP, TCP, sendp\n"
                   "ip = IP(dst='198.51.100.255')\n"
                   "sendp([Ether(dst=sys.argv[1]) / ip / UDP(dport=33434) / b'x', "
                   "Ether(dst=sys.argv[1]) / ip / TCP(dport=80, flags='S')], iface='cli0', verbose=False)\n", mac)
    assert res.returncode == 0, res.stderr
    after = r.stats()
    assert moved(before, after, "udp4") == 0 and moved(before, after, "tcp4") == 0, \
        "xdp-pong answered for a broadcast address"
    assert moved(before, after, "own_address") == 2, after["refused_by_reason"]
