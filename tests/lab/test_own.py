"""The host's own addresses stay the kernel's (issue: never answer for a host that is there).

The responder's namespace becomes a router: IPv6 forwarding on, addresses on
pong0, a router advertisement sent from its link-local address, which the
client takes as its default route. With xdp-pong on pong0, the client's
neighbour unreachability probes for the router must still be answered by the
router's kernel (its NA carries R=1); xdp-pong's NA (R=0) would make the
client drop its default route. Then: an address added after xdp-pong
started is resolved by the kernel, not by xdp-pong; echo to the host's own
address is the kernel's reply too.
"""
import json
import re
import time

import pytest

from pylib.env import ROOT  # noqa: F401  (the path set-up scapy's frames need)

pytestmark = pytest.mark.slow

ROUTER_IP, ROUTER_IP6 = "198.51.100.1", "2001:db8:77::1"


def neigh(lab, addr):
    """The client's neighbour entry for addr: (state words, lladdr)."""
    out = lab.client("ip", "-6" if ":" in addr else "-4", "neigh", "show", addr, "dev", "cli0").stdout
    m = re.search(r"lladdr (\S+)", out)
    return out.strip(), (m.group(1) if m else None)


def own_refused(stats):
    """Requests left to the kernel as the host's own (0 from a build that has no such reason)."""
    return stats["refused_by_reason"].get("own_address", {"packets": 0})["packets"]


def default6(lab):
    return lab.client("ip", "-6", "route", "show", "default").stdout.strip()


def send_ra(lab, ll, mac):
    """A router advertisement from the router's link-local address (scapy: no radvd needed)."""
    script = ("from scapy.all import *\n"
              f"p = Ether(src='{mac}', dst='33:33:00:00:00:01') / IPv6(src='{ll}', dst='ff02::1', hlim=255) / "
              f"ICMPv6ND_RA(routerlifetime=1800) / ICMPv6NDOptSrcLLAddr(lladdr='{mac}')\n"
              "sendp(p, iface='pong0', verbose=False)\n")
    res = lab.ns(lab.pong, "/usr/bin/python3", "-c", script)
    assert res.returncode == 0, res.stderr


def spoofed_ns(lab, target, src="2001:db8:77::66", count=3):
    """NS for target from a spoofed source, sent by the client's namespace (to get a claim made)."""
    cli_mac = lab.mac(lab.cli, "cli0")
    script = ("from scapy.all import *\n"
              f"t = '{target}'\n"
              "g = in6_getnsma(inet_pton(socket.AF_INET6, t))\n"
              "dst = inet_ntop(socket.AF_INET6, g)\n"
              f"p = Ether(src='{cli_mac}', dst=in6_getnsmac(g)) / IPv6(src='{src}', dst=dst, hlim=255) / "
              f"ICMPv6ND_NS(tgt=t) / ICMPv6NDOptSrcLLAddr(lladdr='{cli_mac}')\n"
              f"sendp(p, iface='cli0', count={count}, inter=0.2, verbose=False)\n")
    res = lab.client("/usr/bin/python3", "-c", script)
    assert res.returncode == 0, res.stderr


def link_local(lab, ns, dev):
    for _ in range(50):
        out = lab.ns(ns, "ip", "-6", "addr", "show", "dev", dev, "scope", "link").stdout
        m = re.search(r"inet6 (fe80::[0-9a-f:]+)/64 scope link\s*(\S*)", out)
        if m and "tentative" not in out:
            return m.group(1)
        time.sleep(0.1)
    raise AssertionError(f"no link-local address on {dev}: {out}")


@pytest.fixture(scope="module")
def router(bridge):
    """The responder's namespace as an IPv6 router with pong0 at 198.51.100.1 and 2001:db8:77::1,
    and the client using it as its RA-learned default route."""
    lab = bridge
    lab.lab.write_sysctl(lab.pong, "net/ipv6/conf/pong0/disable_ipv6", "0")
    lab.lab.write_sysctl(lab.pong, "net/ipv6/conf/all/forwarding", "1")
    lab.lab.write_sysctl(lab.pong, "net/ipv4/ip_forward", "1")
    lab.lab.ip(lab.pong, "addr", "add", f"{ROUTER_IP}/24", "dev", "pong0")
    lab.lab.ip(lab.pong, "addr", "add", f"{ROUTER_IP6}/64", "dev", "pong0", "nodad")
    lab.lab.ip(lab.cli, "-6", "route", "del", "default")
    lab.lab.write_sysctl(lab.cli, "net/ipv6/conf/cli0/accept_ra", "2")
    lab.router_ll = link_local(lab, lab.pong, "pong0")
    lab.router_mac = lab.mac(lab.pong, "pong0")
    advertise(lab)
    return lab


def advertise(lab):
    """The router advertises itself; the client takes it as its default route."""
    send_ra(lab, lab.router_ll, lab.router_mac)
    for _ in range(50):
        if "proto ra" in default6(lab):
            break
        time.sleep(0.1)
    assert f"via {lab.router_ll}" in default6(lab) and "proto ra" in default6(lab), default6(lab)


def nud_rounds(lab, rounds=3):
    """Make the client probe its router `rounds` times (entry set STALE, then traffic off-link, which
    sends NUD probes); after each, the default route and the entry's `router` flag must be there."""
    for i in range(rounds):
        res = lab.client("ip", "-6", "neigh", "change", lab.router_ll, "dev", "cli0", "lladdr", lab.router_mac,
                         "nud", "stale", "router")
        assert res.returncode == 0, res.stderr
        # off-link datagrams: the first use of a STALE entry starts NUD (DELAY, then unicast NS probes)
        lab.client("/usr/bin/python3", "-c",
                   "import socket, time\n"
                   "s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n"
                   "for _ in range(10):\n"
                   "    s.sendto(b'x', ('2001:db8:ffff::1', 9)); time.sleep(0.1)\n")
        deadline = time.time() + 10
        while time.time() < deadline:
            state, _ = neigh(lab, lab.router_ll)
            if "REACHABLE" in state:
                break
            time.sleep(0.2)
        state, mac = neigh(lab, lab.router_ll)
        assert "proto ra" in default6(lab), f"round {i + 1}: the client lost its default route ({state})"
        assert "router" in state.split(), f"round {i + 1}: the router flag is gone: {state}"
        assert "REACHABLE" in state and mac == lab.router_mac, f"round {i + 1}: {state}"


@pytest.mark.parametrize("opts", [[], ["--unclaimed"]], ids=["every-address", "unclaimed"])
def test_router_keeps_its_role(router, opts):
    lab = router
    advertise(lab)
    run = lab.start_run(*opts)
    try:
        before = lab.stats()
        if opts:
            spoofed_ns(lab, lab.router_ll)     # three asks from one source: what used to get it claimed
        nud_rounds(lab)
        after = lab.stats()
        assert after["counters"]["ndp"]["packets"] == before["counters"]["ndp"]["packets"], \
            "xdp-pong answered an NS for the router's own address"
        own = own_refused(after) - own_refused(before)
        assert own >= 3, f"the probes reached xdp-pong and were left to the kernel ({own})"
    finally:
        lab.stop_run(run)


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_address_added_later_is_the_kernels(router, family):
    """`run` follows the host's addresses: one added while it runs is resolved by the kernel."""
    lab = router
    addr = "198.51.100.77" if family == "ipv4" else "2001:db8:77::77"
    run = lab.start_run()
    try:
        # before: the address is nobody's, and xdp-pong answers for it
        lab.client("ip", "neigh", "flush", "dev", "cli0")
        before = lab.stats()
        resolve(lab, addr)
        mid = lab.stats()
        kind = "arp" if family == "ipv4" else "ndp"
        assert mid["counters"][kind]["packets"] > before["counters"][kind]["packets"], "xdp-pong answered it"
        lab.lab.ip(lab.pong, "addr", "add", addr + ("/24" if family == "ipv4" else "/64"), "dev", "pong0",
                   *(["nodad"] if family == "ipv6" else []))
        time.sleep(0.3)
        lab.client("ip", "neigh", "flush", "dev", "cli0")
        got = resolve(lab, addr)
        after = lab.stats()
        assert after["counters"][kind]["packets"] == mid["counters"][kind]["packets"], \
            "xdp-pong answered for an address the host now has"
        assert own_refused(after) > own_refused(mid), "the request met the host's own address"
        assert got == lab.router_mac, f"the kernel's answer: {got}"
        # and echo to it is the kernel's reply: xdp-pong's echo counter does not move
        res = lab.client("ping", "-c", "2", "-W", "2", addr)
        assert res.returncode == 0, res.stdout
        final = lab.stats()
        echo = "echo4" if family == "ipv4" else "echo6"
        assert final["counters"][echo]["packets"] == after["counters"][echo]["packets"], \
            "xdp-pong answered an echo to the host's own address"
    finally:
        lab.stop_run(run)
        lab.lab.ip(lab.pong, "addr", "del", addr + ("/24" if family == "ipv4" else "/64"), "dev", "pong0")


def resolve(lab, addr):
    """The MAC the client's resolution of addr gets (arping / ndisc6), or None."""
    if ":" in addr:
        res = lab.client("ndisc6", "-r", "2", "-w", "1000", addr, "cli0")
        m = re.search(r"Target link-layer address: ([0-9A-Fa-f:]{17})", res.stdout)
    else:
        res = lab.client("arping", "-c", "1", "-w", "2", "-I", "cli0", addr)
        m = re.search(r"\[([0-9A-Fa-f:]{17})\]", res.stdout)
    return m.group(1).lower() if m else None


def test_attach_knows_the_addresses_it_found(router):
    """`attach` leaves no process: it writes the host's addresses once. Those it found are the
    kernel's; one added later is not followed, and status says so (a warning, and
    own_addresses_unknown in --json) until xdp-pong is attached again."""
    lab = router
    assert lab.pong_cli("attach", "pong0").returncode == 0
    try:
        before = lab.stats()
        lab.client("ip", "neigh", "flush", "dev", "cli0")
        assert resolve(lab, ROUTER_IP) == lab.router_mac
        mid = lab.stats()
        assert mid["counters"]["arp"]["packets"] == before["counters"]["arp"]["packets"]
        assert own_refused(mid) > own_refused(before), "the router's address, there at attach, is the kernel's"
        st = lab.pong_cli("status", "pong0", "--json")
        assert json.loads(st.stdout)["interfaces"][0]["own_addresses_unknown"] == 0, st.stdout
        lab.lab.ip(lab.pong, "addr", "add", "198.51.100.78/24", "dev", "pong0")
        try:
            st = lab.pong_cli("status", "pong0", "--json")
            assert json.loads(st.stdout)["interfaces"][0]["own_addresses_unknown"] == 1, st.stdout
            st = lab.pong_cli("status", "pong0")
            assert st.returncode == 0 and "1 of this host's addresses came after attach" in st.stderr, st.stderr
            assert lab.pong_cli("detach", "pong0").returncode == 0
            assert lab.pong_cli("attach", "pong0").returncode == 0
            st = lab.pong_cli("status", "pong0", "--json")
            assert json.loads(st.stdout)["interfaces"][0]["own_addresses_unknown"] == 0, st.stdout
        finally:
            lab.lab.ip(lab.pong, "addr", "del", "198.51.100.78/24", "dev", "pong0")
    finally:
        lab.pong_cli("detach", "pong0")


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_local_routes_are_the_kernels(router, family):
    """Every address of a local route is the host's (`ip route add local PREFIX dev lo`, AnyIP, or an
    address with a prefix on lo): the kernel answers echo (and ARP) for all of them, and xdp-pong
    leaves them alone, run following the route as the kernel announces it."""
    lab = router
    net, addr, echo = (("10.66.0.0/24", "10.66.0.10", "echo4") if family == "ipv4" else
                       ("fd77::/64", "fd77::10", "echo6"))
    if family == "ipv6":
        advertise(lab)                      # the client's default route: the router
    run = lab.start_run()
    try:
        lab.lab.ip(lab.pong, "route", "add", "local", net, "dev", "lo")
        time.sleep(0.3)
        before = lab.stats()
        res = lab.client("ping", "-c", "2", "-W", "2", addr)
        assert res.returncode == 0, f"the router's kernel answers {addr}: {res.stdout}"
        after = lab.stats()
        assert after["counters"][echo]["packets"] == before["counters"][echo]["packets"], \
            "xdp-pong answered an echo to an address of a local route"
        assert own_refused(after) > own_refused(before)
        if family == "ipv4":
            lab.client("ip", "neigh", "flush", "dev", "cli0")
            mid = lab.stats()
            assert resolve(lab, "10.66.0.11") == lab.router_mac
            assert lab.stats()["counters"]["arp"]["packets"] == mid["counters"]["arp"]["packets"], \
                "xdp-pong answered ARP for an address of a local route"
    finally:
        lab.lab.ip(lab.pong, "route", "del", "local", net, "dev", "lo")
        lab.stop_run(run)
