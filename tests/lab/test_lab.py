"""Real clients against xdp-pong across a Linux bridge, in namespaces.

iputils ping and arping, fping, arping -D, ping -6, ndisc6, a new address
with DAD: replies come from addresses never assigned anywhere, and the
counters read with `stats --json` (from a later invocation, inside
`ip netns exec`) equal exactly what the clients sent.
"""
import re
import time

import pytest

from pylib.env import delta

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


@pytest.fixture(scope="module")
def responder(bridge):
    """xdp-pong attached to pong0 (after checking the lab is silent without it); its MAC."""
    assert bridge.client("ping", "-c", "1", "-W", "1", "198.51.100.40").returncode != 0, \
        "before attach, a never-assigned address must not answer"
    # drop the unresolved neighbour entry, or its queued request is sent
    # (and answered) once xdp-pong answers the ARP retry
    bridge.client("ip", "neigh", "flush", "dev", "cli0")
    res = bridge.pong_cli("attach", "pong0")
    assert res.returncode == 0, res.stderr
    yield bridge.mac(bridge.pong, "pong0")
    bridge.pong_cli("detach", "pong0")


def test_status_native(bridge, responder):
    status = bridge.pong_cli("status").stdout
    assert re.search(r"^pong0\s+\d+\s+native\s+\d+\s+64\s", status, re.M), status


@pytest.mark.parametrize("size,addr", [(0, SUBNET_ADDR), (57, SUBNET_ADDR), (1472, SUBNET_ADDR), (56, OFFNET_ADDR)])
def test_ping(bridge, responder, size, addr):
    before = bridge.stats()
    res = bridge.client("ping", "-c", "3", "-i", "0.2", "-W", "1", "-s", str(size), "-p", "a5c3", addr)
    after = bridge.stats()
    assert received(res.stdout) == (3, 3), res.stdout[-300:]
    assert "wrong data" not in res.stdout, "payload pattern intact"
    assert delta(before, after, ECHO4) == (3, 3 * (14 + 20 + 8 + size)), "echo4 counter == requests sent"


def test_arping(bridge, responder):
    before = bridge.stats()
    res = bridge.client("arping", "-c", "3", "-w", "5", "-I", "cli0", "198.51.100.60")
    after = bridge.stats()
    assert "Received 3 response(s)" in res.stdout, res.stdout
    macs = set(m.lower() for m in re.findall(r"\[([0-9A-Fa-f:]{17})\]", res.stdout))
    assert macs == {responder}, "replies come from pong0's MAC"
    assert delta(before, after, ARP) == (3, 3 * 42), "arp counter == requests sent"


def test_fping(bridge, responder):
    before = bridge.stats()
    res = bridge.client("fping", "-a", "-r", "0", "-t", "500", "-g", "198.51.100.100", "198.51.100.130")
    after = bridge.stats()
    assert len(res.stdout.split()) == 31, "all 31 addresses alive"
    assert delta(before, after, ECHO4)[0] == 31, "echo4 counter == 31 requests"


def test_arping_dad_finds_no_duplicate(bridge, responder):
    """A duplicate-address probe: xdp-pong must not claim a free address."""
    before = bridge.stats()
    res = bridge.client("arping", "-D", "-c", "2", "-w", "4", "-I", "cli0", "198.51.100.70")
    after = bridge.stats()
    assert res.returncode == 0 and "Received 0 response(s)" in res.stdout, res.stdout
    assert delta(before, after, PROBE) == (2, 2 * 42), "probes counted under refused/arp_probe"
    assert delta(before, after, ARP) == (0, 0), "no ARP reply counted"


@pytest.mark.parametrize("size,addr", [(0, SUBNET_ADDR6), (57, SUBNET_ADDR6), (1452, SUBNET_ADDR6),
                                       (56, OFFNET_ADDR6)])
def test_ping6(bridge, responder, size, addr):
    """In the client's prefix (resolved by xdp-pong's NA) and routed."""
    before = bridge.stats()
    res = bridge.client("ping", "-6", "-c", "3", "-i", "0.2", "-W", "1", "-s", str(size), "-p", "5a", addr)
    after = bridge.stats()
    assert received(res.stdout) == (3, 3), res.stdout[-300:]
    assert "wrong data" not in res.stdout, "payload pattern intact"
    assert delta(before, after, ECHO6) == (3, 3 * (14 + 40 + 8 + size)), "echo6 counter == requests sent"


def test_ndisc6(bridge, responder):
    before = bridge.stats()
    res = bridge.client("ndisc6", "-r", "1", "-w", "2000", "2001:db8:77::1234", "cli0")
    after = bridge.stats()
    m = re.search(r"Target link-layer address: ([0-9A-Fa-f:]{17})", res.stdout)
    assert res.returncode == 0 and m, res.stdout + res.stderr
    assert m.group(1).lower() == responder, "target link-layer address is pong0's MAC"
    assert delta(before, after, NDP)[0] == 1, "ndp counter == 1 solicitation"


def test_new_address_passes_dad(bridge, responder):
    """A new address with DAD enabled: xdp-pong stays silent, the address must not fail."""
    before = bridge.stats()
    bridge.client("ip", "-6", "addr", "add", "2001:db8:77::99/64", "dev", "cli0")
    state = ""
    for _ in range(50):
        state = bridge.client("ip", "-6", "addr", "show", "dev", "cli0", "to", "2001:db8:77::99/128").stdout
        if "tentative" not in state:
            break
        time.sleep(0.1)
    after = bridge.stats()
    assert "2001:db8:77::99" in state and "dadfailed" not in state and "tentative" not in state, state
    assert delta(before, after, DAD)[0] >= 1, "the probe was refused as ndp_dad"
    assert delta(before, after, NDP)[0] == 0, "no NA sent for it"


def test_no_tx_errors(bridge, responder):
    from pylib.env import ethtool_counters
    assert ethtool_counters(bridge.lab, bridge.pong, "pong0", r"rx_queue_\d+_xdp_tx_errors") == 0


def test_detach_goes_quiet(bridge, responder):
    res = bridge.pong_cli("detach", "pong0")
    assert res.returncode == 0, res.stderr
    assert bridge.client("ping", "-c", "2", "-W", "1", SUBNET_ADDR).returncode != 0, "after detach: ping fails"
    assert bridge.client("arping", "-c", "1", "-w", "2", "-I", "cli0", "198.51.100.61").returncode != 0, \
        "after detach: arping gets no reply"
    assert bridge.client("ping", "-6", "-c", "2", "-W", "1", SUBNET_ADDR6).returncode != 0, "after detach: ping -6"
    link = bridge.ns(bridge.pong, "ip", "link", "show", "pong0").stdout
    assert "xdp" not in link, link
    assert "not attached" in bridge.pong_cli("status").stdout
