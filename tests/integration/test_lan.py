"""Safe on a shared LAN and under attack, in the bridge lab with a second host
("own") that owns addresses, assigned by its kernel, and a flooding host.

--unclaimed: the owner alone answers for its address; a never-assigned
address is answered after the threshold (a client's own ARP and NS retries
get through); an address assigned later (with its gratuitous ARP, or IPv6
DAD) is given up within a second. Without --unclaimed, xdp-pong's neighbour
advertisements (O=0) resolve a fresh entry but never override the owner's.
A random-source echo flood at the generator's full rate, with
--global-limit 1000, cannot stop ARP and neighbour discovery.
"""
import json
import re
import subprocess
import time

import pytest

from pylib.env import GEN, request_frames

OWN_IP, OWN_IP6 = "198.51.100.30", "2001:db8:77::30"
FREE_IP, FREE_IP6 = "198.51.100.90", "2001:db8:77::90"        # assigned nowhere
LATER_IP, LATER_IP6 = "198.51.100.91", "2001:db8:77::91"      # assigned to "own" during the test


def received(out):
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


@pytest.fixture(scope="module")
def lan(bridge):
    """The lab, plus the owner host (no addresses yet) and a flooding host."""
    bridge.own = bridge.lab.add_host("own")
    bridge.flood = bridge.lab.add_host("flood", xdp_peer=True)
    bridge.own_mac = bridge.mac(bridge.own, "own0")
    bridge.pong_mac = bridge.mac(bridge.pong, "pong0")
    return bridge


def own_takes(lan, addr, wait=True):
    """The owner configures addr as hosts do: IPv4 with a gratuitous ARP, IPv6 with DAD
    (its first probe at once: router_solicitation_delay 0). Returns when the announcement is sent,
    or with wait, when the address is ready."""
    if ":" in addr:
        lan.lab.write_sysctl(lan.own, "net/ipv6/conf/own0/router_solicitation_delay", "0")
        lan.ns(lan.own, "ip", "addr", "add", f"{addr}/64", "dev", "own0")
        if wait:
            past_dad(lan, addr)
        return None
    lan.ns(lan.own, "ip", "addr", "add", f"{addr}/24", "dev", "own0")
    announce = lan.lab.popen(lan.own, "arping", "-U", "-c", "1", "-I", "own0", addr, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    if wait:
        out, err = announce.communicate(timeout=30)
        assert announce.returncode == 0, out + err
        return None
    return announce


def past_dad(lan, addr):
    """Wait until the owner's IPv6 address has passed DAD (it answers only then)."""
    for _ in range(50):
        state = lan.ns(lan.own, "ip", "-6", "addr", "show", "dev", "own0", "to", f"{addr}/128").stdout
        if addr in state and "tentative" not in state:
            return
        time.sleep(0.1)
    raise AssertionError(f"{addr} never passed DAD on the owner")


def claims(lan):
    res = lan.pong_cli("claims", "pong0", "--json")
    assert res.returncode == 0, res.stderr
    return {c["address"]: c for c in json.loads(res.stdout)["claims"]}


def counters(lan):
    return lan.stats()["counters"]


def neigh_mac(lan, addr):
    out = lan.client("ip", "neigh", "show", addr).stdout
    m = re.search(r"lladdr ([0-9a-f:]{17})", out)
    return m.group(1) if m else None


@pytest.fixture(scope="module")
def unclaimed(lan):
    res = lan.pong_cli("attach", "pong0", "--unclaimed")
    assert res.returncode == 0, res.stderr
    assert "warning" not in res.stderr, "--unclaimed is a scope of its own: no warning"
    own_takes(lan, OWN_IP)
    own_takes(lan, OWN_IP6)
    yield lan
    lan.pong_cli("detach", "pong0")


def test_owner_alone_answers_ipv4(unclaimed):
    lan = unclaimed
    before = counters(lan)
    res = lan.client("arping", "-c", "3", "-w", "5", "-I", "cli0", OWN_IP)
    macs = {m.lower() for m in re.findall(r"\[([0-9A-Fa-f:]{17})\]", res.stdout)}
    assert macs == {lan.own_mac}, f"arping shows the owner's MAC only: {res.stdout}"
    lan.client("ip", "neigh", "flush", "dev", "cli0")
    res = lan.client("ping", "-c", "3", "-i", "0.2", "-W", "1", OWN_IP)
    assert received(res.stdout) == (3, 3), res.stdout
    assert neigh_mac(lan, OWN_IP) == lan.own_mac, "the client resolved the owner"
    after = counters(lan)
    assert after["arp"]["packets"] == before["arp"]["packets"], "xdp-pong sent no ARP reply for it"
    assert after["echo4"]["packets"] == before["echo4"]["packets"], "no echo reply either"
    assert claims(lan)[OWN_IP]["state"] == "owner-seen"


def test_owner_alone_answers_ipv6(unclaimed):
    lan = unclaimed
    before = counters(lan)
    res = lan.client("ndisc6", "-m", "-r", "3", "-w", "1000", OWN_IP6, "cli0")
    macs = {m.lower() for m in re.findall(r"Target link-layer address: ([0-9A-Fa-f:]{17})", res.stdout)}
    assert macs == {lan.own_mac}, f"ndisc6 hears the owner only: {res.stdout}"
    lan.client("ip", "-6", "neigh", "flush", "dev", "cli0")
    res = lan.client("ping", "-6", "-c", "3", "-i", "0.2", "-W", "1", OWN_IP6)
    assert received(res.stdout) == (3, 3), res.stdout
    assert neigh_mac(lan, OWN_IP6) == lan.own_mac, "the client resolved the owner"
    after = counters(lan)
    assert after["ndp"]["packets"] == before["ndp"]["packets"], "xdp-pong sent no NA for it"
    assert after["echo6"]["packets"] == before["echo6"]["packets"]
    assert claims(lan)[OWN_IP6]["state"] == "owner-seen"


@pytest.mark.parametrize("addr", [FREE_IP, FREE_IP6])
def test_free_address_answered_after_threshold(unclaimed, addr):
    """The client's own resolution retries (3, a second apart) claim it: ping succeeds."""
    lan = unclaimed
    before = lan.stats()["events"]["claimed"]
    res = lan.client("ping", *(["-6"] if ":" in addr else []), "-c", "3", "-W", "3", addr, timeout=30)
    assert received(res.stdout)[1] == 3, res.stdout
    entry = claims(lan)[addr]
    assert entry["state"] == "claimed" and entry["hits"] >= 1, entry
    assert lan.stats()["events"]["claimed"] == before + 1, "counted as claimed"


@pytest.mark.parametrize("addr", [LATER_IP, LATER_IP6])
def test_assigned_later_given_up_within_a_second(unclaimed, addr):
    lan = unclaimed
    v6 = ":" in addr
    res = lan.client("ping", *(["-6"] if v6 else []), "-c", "3", "-W", "3", addr, timeout=30)
    assert received(res.stdout)[1] == 3 and claims(lan)[addr]["state"] == "claimed", res.stdout
    released = lan.stats()["events"]["released"]
    t0 = time.time()
    announce = own_takes(lan, addr, wait=False)       # the gratuitous ARP, or the DAD probe, goes now
    state = None
    while time.time() - t0 < 1.0:
        state = claims(lan)[addr]["state"]
        if state == "owner-seen":
            break
        time.sleep(0.02)
    took = time.time() - t0
    if announce:
        announce.communicate(timeout=30)
    print(f"  {addr}: given up {took * 1000:.0f} ms after the owner announced it")
    assert state == "owner-seen", f"still {state} {took:.2f}s after the owner took it"
    assert lan.stats()["events"]["released"] == released + 1, "counted as released"
    # a client resolving it afresh reaches the owner only (once the owner answers: after its DAD)
    if v6:
        past_dad(lan, addr)
    lan.client("ip", "-6" if v6 else "-4", "neigh", "flush", "dev", "cli0")
    before = counters(lan)
    res = lan.client("ping", *(["-6"] if v6 else []), "-c", "3", "-i", "0.2", "-W", "1", addr)
    assert received(res.stdout) == (3, 3), res.stdout
    assert neigh_mac(lan, addr) == lan.own_mac
    after = counters(lan)
    kind = "ndp" if v6 else "arp"
    assert after[kind]["packets"] == before[kind]["packets"], f"xdp-pong answered no {kind} for it"


def test_set_unclaimed_off_at_run_time(unclaimed):
    lan = unclaimed
    res = lan.pong_cli("set", "pong0", "--unclaimed=off")
    assert res.returncode == 0 and "claims: off" in res.stdout, res.stdout + res.stderr
    lan.client("ip", "neigh", "flush", "dev", "cli0")
    res = lan.client("arping", "-c", "1", "-w", "2", "-I", "cli0", "198.51.100.95")
    assert "Received 1 response" in res.stdout, f"every address answered again: {res.stdout}"
    res = lan.pong_cli("set", "pong0", "--unclaimed", "--claim-after", "2/3")
    assert res.returncode == 0 and "claims: on (2/3s)" in res.stdout, res.stdout + res.stderr
    assert "on (2/3s)" in lan.pong_cli("status", "pong0").stdout


@pytest.fixture(scope="module")
def plain(lan, unclaimed):
    """xdp-pong answering every address (after the --unclaimed tests: the owner has its addresses)."""
    lan.pong_cli("detach", "pong0")
    res = lan.pong_cli("attach", "pong0")
    assert res.returncode == 0, res.stderr
    yield lan
    lan.pong_cli("detach", "pong0")


def test_na_override_zero_fresh_entry(plain):
    """O=0: a fresh neighbour entry still resolves through xdp-pong's NA."""
    lan = plain
    lan.client("ip", "-6", "neigh", "flush", "dev", "cli0")
    res = lan.client("ping", "-6", "-c", "2", "-i", "0.2", "-W", "1", "2001:db8:77::92")
    assert received(res.stdout) == (2, 2), res.stdout
    assert neigh_mac(lan, "2001:db8:77::92") == lan.pong_mac


def test_na_override_zero_owner_wins(plain):
    """With the owner present, both answer the NS; the client's cache ends up with the owner's MAC."""
    lan = plain
    for attempt in range(5):
        lan.client("ip", "-6", "neigh", "flush", "dev", "cli0")
        before = counters(lan)["ndp"]["packets"]
        res = lan.client("ping", "-6", "-c", "2", "-i", "0.2", "-W", "1", OWN_IP6)
        assert received(res.stdout)[1] >= 1, res.stdout
        assert counters(lan)["ndp"]["packets"] > before, "xdp-pong answered the NS too"
        time.sleep(0.2)
        assert neigh_mac(lan, OWN_IP6) == lan.own_mac, f"attempt {attempt + 1}: the owner's NA must win"


def test_echo_flood_cannot_stop_address_resolution(plain):
    """A random-source echo flood at the generator's full rate with --global-limit 1000: the
    echo budget is spent, yet every ARP request and NS of a client that flushed its
    neighbour cache is answered."""
    lan = plain
    res = lan.pong_cli("set", "pong0", "--global-limit", "1000")
    assert res.returncode == 0, res.stderr
    flood_mac = lan.mac(lan.flood, "flood0")
    frame = bytes(request_frames(flood_mac, lan.pong_mac)["echo4"])
    before = lan.stats()
    gen = subprocess.Popen(["ip", "netns", "exec", lan.flood, GEN, "--ifname", "flood0", "--frame", frame.hex(),
                            "--count", "1000000", "--random-src", "--until-stopped"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        for i, addr in enumerate(("198.51.100.50", "198.51.100.51", "198.51.100.52")):
            lan.client("ip", "-4", "neigh", "flush", "dev", "cli0")
            res = lan.client("arping", "-c", "1", "-w", "2", "-I", "cli0", addr)
            assert "Received 1 response" in res.stdout, f"ARP for {addr} during the flood: {res.stdout}"
            lan.client("ip", "-6", "neigh", "flush", "dev", "cli0")
            res = lan.client("ndisc6", "-r", "1", "-w", "1000", f"2001:db8:77::{0x50 + i:x}", "cli0")
            m = re.search(r"Target link-layer address: ([0-9A-Fa-f:]{17})", res.stdout)
            assert m and m.group(1).lower() == lan.pong_mac, f"NS during the flood: {res.stdout}"
        # and the kernel's own resolution, as a ping starts it (the echo itself meets the spent budget)
        lan.client("ip", "neigh", "flush", "dev", "cli0")
        lan.client("ping", "-c", "2", "-W", "1", "198.51.100.53")
        lan.client("ping", "-6", "-c", "2", "-W", "1", "2001:db8:77::53")
        assert neigh_mac(lan, "198.51.100.53") == lan.pong_mac, "ping's ARP was answered"
        assert neigh_mac(lan, "2001:db8:77::53") == lan.pong_mac, "ping's NS was answered"
        flooding = gen.poll() is None
    finally:
        gen.terminate()
        gen.wait(timeout=60)
    after = lan.stats()
    limited = after["refused_by_reason"]["rate_limited"]["packets"] - before["refused_by_reason"]["rate_limited"][
        "packets"]
    assert flooding, f"the generator stopped early: {gen.stderr.read() if gen.stderr else ''}"
    assert limited > 100000, f"the flood reached xdp-pong and spent the echo budget ({limited} dropped)"
    assert after["counters"]["arp"]["packets"] - before["counters"]["arp"]["packets"] >= 4
    assert after["counters"]["ndp"]["packets"] - before["counters"]["ndp"]["packets"] >= 4
    lan.pong_cli("set", "pong0", "--global-limit", "off")
