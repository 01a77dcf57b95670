"""Real clients against xdp-pong across a Linux bridge, in namespaces.

iputils ping and arping, fping, arping -D: replies come from addresses never
assigned anywhere, and the counters read with `stats --json` (from a later
invocation, inside `ip netns exec`) equal exactly what the clients sent.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from pylib.lab import Lab, delta  # noqa: E402

SUBNET_ADDR = "198.51.100.50"     # in the client's subnet, never assigned
OFFNET_ADDR = "203.0.113.9"       # routed via the (never assigned) gateway .1
SUBNET_ADDR6 = "2001:db8:77::50"  # in the client's prefix, never assigned
OFFNET_ADDR6 = "2001:db8:99::9"   # routed via the (never assigned) gateway 2001:db8:77::1
ECHO4 = ("counters", "echo4")
ECHO6 = ("counters", "echo6")
NDP = ("counters", "ndp")
DAD = ("refused_by_reason", "ndp_dad")
ARP = ("counters", "arp")
PROBE = ("refused_by_reason", "arp_probe")


def received(ping_output):
    m = re.search(r"(\d+) packets transmitted, (\d+) received", ping_output)
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


def run(t):
    with Lab("l") as lab:
        t.check("before attach: ping to a never-assigned address fails",
                lab.client("ping", "-c", "1", "-W", "1", "198.51.100.40").returncode != 0)
        # drop the unresolved neighbour entry, or its queued request is sent
        # (and answered) once xdp-pong answers the ARP retry
        lab.client("ip", "neigh", "flush", "dev", "cli0")

        res = lab.pong_cli("attach", "pong0")
        if not t.check("attach pong0 (native) in the responder namespace", res.returncode == 0, res.stderr):
            return
        status = lab.pong_cli("status").stdout
        t.check("status lists pong0 in native mode", re.search(r"^pong0\s+\d+\s+native\s+\d+\s+64\s", status, re.M),
                status)
        pong_mac = lab.mac(lab.pong, "pong0")

        # ping: payload sizes 0, 57, 1472 and a -p pattern, in-subnet and routed
        for size, addr in ((0, SUBNET_ADDR), (57, SUBNET_ADDR), (1472, SUBNET_ADDR), (56, OFFNET_ADDR)):
            before = lab.stats()
            res = lab.client("ping", "-c", "3", "-i", "0.2", "-W", "1", "-s", str(size), "-p", "a5c3", addr)
            after = lab.stats()
            sent, got = received(res.stdout)
            t.check(f"ping -s {size} {addr}: 3 of 3 replies", (sent, got) == (3, 3), res.stdout[-300:])
            t.check(f"ping -s {size} {addr}: payload pattern intact", "wrong data" not in res.stdout, res.stdout)
            frame = 14 + 20 + 8 + size
            t.equal(f"ping -s {size} {addr}: echo4 counter == requests sent", delta(before, after, ECHO4),
                    (3, 3 * frame))

        # arping: replies carry pong0's MAC; counted exactly
        before = lab.stats()
        res = lab.client("arping", "-c", "3", "-w", "5", "-I", "cli0", "198.51.100.60")
        after = lab.stats()
        t.check("arping: 3 replies", "Received 3 response(s)" in res.stdout, res.stdout)
        macs = set(m.lower() for m in re.findall(r"\[([0-9A-Fa-f:]{17})\]", res.stdout))
        t.equal("arping: replies come from pong0's MAC", macs, {pong_mac})
        t.equal("arping: arp counter == requests sent", delta(before, after, ARP), (3, 3 * 42))

        # fping over a range of never-assigned addresses, no retries
        before = lab.stats()
        res = lab.client("fping", "-a", "-r", "0", "-t", "500", "-g", "198.51.100.100", "198.51.100.130")
        after = lab.stats()
        alive = res.stdout.split()
        t.equal("fping: all 31 addresses alive", len(alive), 31)
        t.equal("fping: echo4 counter == 31 requests", delta(before, after, ECHO4)[0], 31)

        # duplicate-address probe: xdp-pong must not claim a free address
        before = lab.stats()
        res = lab.client("arping", "-D", "-c", "2", "-w", "4", "-I", "cli0", "198.51.100.70")
        after = lab.stats()
        t.check("arping -D: no duplicate reported (exit 0)", res.returncode == 0 and
                "Received 0 response(s)" in res.stdout, res.stdout)
        t.equal("arping -D: probes counted under refused/arp_probe", delta(before, after, PROBE), (2, 2 * 42))
        t.equal("arping -D: no ARP reply counted", delta(before, after, ARP), (0, 0))

        check_ipv6(t, lab, pong_mac)

        ethtool = lab.ns(lab.pong, "ethtool", "-S", "pong0").stdout
        errors = re.findall(r"xdp_tx_errors:\s*(\d+)", ethtool)
        t.check("pong0: xdp_tx_errors stay 0", errors and all(e == "0" for e in errors), ethtool)

        # detach: the addresses go quiet again, nothing of xdp-pong is left
        res = lab.pong_cli("detach", "pong0")
        t.check("detach pong0", res.returncode == 0, res.stderr)
        t.check("after detach: ping fails", lab.client("ping", "-c", "2", "-W", "1", SUBNET_ADDR).returncode != 0)
        t.check("after detach: arping gets no reply",
                lab.client("arping", "-c", "1", "-w", "2", "-I", "cli0", "198.51.100.61").returncode != 0)
        t.check("after detach: ping -6 fails",
                lab.client("ping", "-6", "-c", "2", "-W", "1", SUBNET_ADDR6).returncode != 0)
        link = lab.ns(lab.pong, "ip", "link", "show", "pong0").stdout
        t.check("after detach: no XDP program on pong0", "xdp" not in link, link)
        t.check("after detach: status says not attached",
                "not attached" in lab.pong_cli("status").stdout)


def check_ipv6(t, lab, pong_mac):
    # ping -6: in the client's prefix (resolved by xdp-pong's NA) and routed
    for size, addr in ((0, SUBNET_ADDR6), (57, SUBNET_ADDR6), (1452, SUBNET_ADDR6), (56, OFFNET_ADDR6)):
        before = lab.stats()
        res = lab.client("ping", "-6", "-c", "3", "-i", "0.2", "-W", "1", "-s", str(size), "-p", "5a", addr)
        after = lab.stats()
        t.check(f"ping -6 -s {size} {addr}: 3 of 3 replies", received(res.stdout) == (3, 3), res.stdout[-300:])
        t.check(f"ping -6 -s {size} {addr}: payload pattern intact", "wrong data" not in res.stdout, res.stdout)
        t.equal(f"ping -6 -s {size} {addr}: echo6 counter == requests sent", delta(before, after, ECHO6),
                (3, 3 * (14 + 40 + 8 + size)))

    # ndisc6: a neighbour advertisement for an arbitrary target, from pong0's MAC
    before = lab.stats()
    res = lab.client("ndisc6", "-r", "1", "-w", "2000", "2001:db8:77::1234", "cli0")
    after = lab.stats()
    m = re.search(r"Target link-layer address: ([0-9A-Fa-f:]{17})", res.stdout)
    t.check("ndisc6: NA received", res.returncode == 0 and m, res.stdout + res.stderr)
    t.equal("ndisc6: target link-layer address is pong0's MAC", m.group(1).lower() if m else None, pong_mac)
    t.equal("ndisc6: ndp counter == 1 solicitation", delta(before, after, NDP)[0], 1)

    # a new address with DAD enabled: xdp-pong must stay silent, the address must not fail
    before = lab.stats()
    lab.client("ip", "-6", "addr", "add", "2001:db8:77::99/64", "dev", "cli0")
    state = ""
    for _ in range(50):
        state = lab.client("ip", "-6", "addr", "show", "dev", "cli0", "to", "2001:db8:77::99/128").stdout
        if "tentative" not in state:
            break
        time.sleep(0.1)
    after = lab.stats()
    t.check("DAD: the new address is configured, not dadfailed",
            "2001:db8:77::99" in state and "dadfailed" not in state and "tentative" not in state, state)
    t.check("DAD: the probe was refused as ndp_dad", delta(before, after, DAD)[0] >= 1,
            str(delta(before, after, DAD)))
    t.equal("DAD: no NA sent for it", delta(before, after, NDP)[0], 0)
