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

from pylib.env import GEN, request_frames, send_frames

OWN_IP, OWN_IP6 = "198.51.100.30", "2001:db8:77::30"
FREE_IP, FREE_IP6 = "198.51.100.90", "2001:db8:77::90"        # assigned nowhere
LATER_IP, LATER_IP6 = "198.51.100.91", "2001:db8:77::91"      # assigned to "own" during the test
LATER2_IP, LATER2_IP6 = "198.51.100.92", "2001:db8:77::93"    # ... with an announcement
AGAIN_IP = "198.51.100.96"                                      # ... while --unclaimed is off


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


def own_takes(lan, addr, wait=True, announce=True):
    """The owner configures addr as hosts do: IPv4 with a gratuitous ARP (unless not announce),
    IPv6 with DAD (its first probe at once: router_solicitation_delay 0). Returns when the
    announcement is sent, or with wait, when the address is ready."""
    if ":" in addr:
        lan.lab.write_sysctl(lan.own, "net/ipv6/conf/own0/router_solicitation_delay", "0")
        lan.ns(lan.own, "ip", "addr", "add", f"{addr}/64", "dev", "own0")
        if wait:
            past_dad(lan, addr)
        return None
    lan.ns(lan.own, "ip", "addr", "add", f"{addr}/24", "dev", "own0")
    if not announce:
        return None
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
    return {c["address"]: c for c in json.loads(res.stdout)["claims"] if not c["vlan"]}   # untagged


def owner_seen_soon(lan, addr):
    """True once addr's entry is owner-seen; a round of probes may be out (probing), for the
    owner to answer, but it is never claimed meanwhile."""
    for _ in range(40):
        state = claims(lan).get(addr, {}).get("state")
        assert state != "claimed", f"{addr} claimed"
        if state == "owner-seen":
            return True
        time.sleep(0.1)
    return False


def counters(lan):
    return lan.stats()["counters"]


def neigh_mac(lan, addr):
    out = lan.client("ip", "neigh", "show", addr).stdout
    m = re.search(r"lladdr ([0-9a-f:]{17})", out)
    return m.group(1) if m else None


def arp_req(src_mac, sender, target, tags=()):
    from pylib.frames import l2, ARP
    return l2(dst="ff:ff:ff:ff:ff:ff", src=src_mac, tags=tags) / ARP(op=1, hwsrc=src_mac, psrc=sender, pdst=target)


def ns_req(src_mac, src, target):
    from pylib.frames import ns
    return ns(target=target, src_ip=src, src=src_mac, slla=src_mac)


def macs_of_arping(out):
    return {m.lower() for m in re.findall(r"\[([0-9A-Fa-f:]{17})\]", out)}


def first_rtt_ms(out):
    m = re.search(r"icmp_seq=1 .*time=([0-9.]+) ms", out)
    return float(m.group(1)) if m else None


@pytest.fixture(scope="module")
def unclaimed(lan):
    """run --unclaimed on pong0; the owner holds OWN_IP and OWN_IP6 and says nothing unasked
    (no gratuitous ARP; its DAD is over before anyone asks for the address)."""
    lan.run_proc = lan.start_run("--unclaimed")
    own_takes(lan, OWN_IP, announce=False)
    own_takes(lan, OWN_IP6)
    yield lan
    if lan.run_proc.poll() is None:
        lan.stop_run(lan.run_proc)


def test_owner_alone_answers_ipv4(unclaimed):
    """arping -b -c 10 (broadcast requests, one a second) for a live owner's address: every
    reply is the owner's; xdp-pong's probes were answered, so it never claims it."""
    lan = unclaimed
    before = counters(lan)
    res = lan.client("arping", "-b", "-c", "10", "-w", "12", "-I", "cli0", OWN_IP, timeout=30)
    assert macs_of_arping(res.stdout) == {lan.own_mac}, f"arping shows the owner's MAC only: {res.stdout}"
    assert "Received 10 response" in res.stdout, res.stdout
    lan.client("ip", "neigh", "flush", "dev", "cli0")
    res = lan.client("ping", "-c", "3", "-i", "0.2", "-W", "1", OWN_IP)
    assert received(res.stdout) == (3, 3), res.stdout
    assert neigh_mac(lan, OWN_IP) == lan.own_mac, "the client resolved the owner"
    after = counters(lan)
    assert after["arp"]["packets"] == before["arp"]["packets"], "xdp-pong sent no ARP reply for it"
    assert after["echo4"]["packets"] == before["echo4"]["packets"], "no echo reply either"
    entry = claims(lan)[OWN_IP]
    assert entry["state"] == "owner-seen" and entry["probes"] >= 1, entry


def test_owner_alone_answers_ipv6(unclaimed):
    lan = unclaimed
    before = counters(lan)
    res = lan.client("ndisc6", "-m", "-r", "10", "-w", "1000", OWN_IP6, "cli0", timeout=30)
    macs = {m.lower() for m in re.findall(r"Target link-layer address: ([0-9A-Fa-f:]{17})", res.stdout)}
    assert macs == {lan.own_mac}, f"ndisc6 hears the owner only: {res.stdout}"
    lan.client("ip", "-6", "neigh", "flush", "dev", "cli0")
    res = lan.client("ping", "-6", "-c", "3", "-i", "0.2", "-W", "1", OWN_IP6)
    assert received(res.stdout) == (3, 3), res.stdout
    assert neigh_mac(lan, OWN_IP6) == lan.own_mac, "the client resolved the owner"
    after = counters(lan)
    assert after["ndp"]["packets"] == before["ndp"]["packets"], "xdp-pong sent no NA for it"
    assert after["echo6"]["packets"] == before["echo6"]["packets"]
    entry = claims(lan)[OWN_IP6]
    assert entry["state"] == "owner-seen" and entry["probes"] >= 1, entry


def test_spoofed_bursts_never_claim_a_live_owner(unclaimed):
    """Requests from a sender off the subnet, and bursts from many, for the owner's addresses:
    each one only makes xdp-pong probe again, the owner answers, nothing is claimed."""
    lan = unclaimed
    flood_mac = lan.mac(lan.flood, "flood0")
    before = counters(lan)
    frames = [arp_req(flood_mac, "10.9.9.9", OWN_IP) for _ in range(3)]
    frames += [arp_req(flood_mac, f"198.51.100.{100 + i}", OWN_IP) for i in range(20)]
    frames += [ns_req(flood_mac, "2001:db8:9::9", OWN_IP6) for _ in range(3)]
    frames += [ns_req(flood_mac, f"2001:db8:77::{0x100 + i:x}", OWN_IP6) for i in range(20)]
    for _ in range(3):
        send_frames(lan.lab, lan.flood, "flood0", frames)
        time.sleep(1.2)          # past the probe round each burst starts
    after = counters(lan)
    assert after["arp"]["packets"] == before["arp"]["packets"], "no ARP reply for the owner's address"
    assert after["ndp"]["packets"] == before["ndp"]["packets"], "no NA for the owner's address"
    states = {a: claims(lan)[a]["state"] for a in (OWN_IP, OWN_IP6)}
    assert states == {OWN_IP: "owner-seen", OWN_IP6: "owner-seen"}, states
    res = lan.client("arping", "-c", "3", "-w", "5", "-I", "cli0", OWN_IP, timeout=30)
    assert macs_of_arping(res.stdout) == {lan.own_mac}, res.stdout


@pytest.mark.parametrize("addr", [FREE_IP, FREE_IP6])
def test_free_address_answered_within_a_second(unclaimed, addr):
    """A free address: the first request makes xdp-pong probe (3 probes, 100 ms apart, 150 ms
    wait), the client's next resolution retry, a second later, is answered: ping's first reply
    comes in under 1.5 s."""
    lan = unclaimed
    before = lan.stats()["events"]["claimed"]
    res = lan.client("ping", *(["-6"] if ":" in addr else []), "-c", "3", "-W", "3", addr, timeout=30)
    assert received(res.stdout)[1] == 3, res.stdout
    rtt = first_rtt_ms(res.stdout)
    print(f"  {addr}: first reply after {rtt} ms")
    assert rtt is not None and rtt < 1500, f"the first reply took {rtt} ms: {res.stdout}"
    entry = claims(lan)[addr]
    assert entry["state"] == "claimed" and entry["hits"] >= 1 and entry["probes"] == 3, entry
    assert lan.stats()["events"]["claimed"] == before + 1, "counted as claimed"


def test_nmap_arp_scan_lists_free_addresses(unclaimed):
    """nmap -sn -PR over 16 free addresses (it tries each twice): all 16 up."""
    lan = unclaimed
    res = lan.client("nmap", "-n", "-sn", "-PR", "-e", "cli0", "198.51.100.160-175", timeout=120)
    assert res.returncode == 0, res.stderr
    print("  " + res.stdout.strip().splitlines()[-1])
    assert "16 hosts up" in res.stdout, res.stdout
    tracked = claims(lan)
    assert all(tracked[f"198.51.100.{i}"]["state"] == "claimed" for i in range(160, 176))


SNIFF_TAGGED = """
import sys
from scapy.all import sniff, ARP, Dot1Q
got = sniff(iface=sys.argv[1], timeout=float(sys.argv[2]), lfilter=lambda p: Dot1Q in p and ARP in p)
for p in got:
    print(p[Dot1Q].vlan, p[ARP].psrc, p[ARP].pdst, p[ARP].hwsrc)
"""


def test_vlan_claim_stays_in_its_vlan(unclaimed):
    """Requests for the owner's address in VLAN 20, where nobody has it: probed in VLAN 20
    (tagged), claimed there; untagged, the owner still answers alone, and its answers do not
    release VLAN 20's claim."""
    lan = unclaimed
    flood_mac = lan.mac(lan.flood, "flood0")
    # the switch port hands frames to pong0 with their tags in the frame, as a NIC with
    # rx-vlan-offload off does (man xdp-pong): a veth would carry them beside it, out of XDP's sight
    res = lan.ns(lan.sw, "ethtool", "-K", "swp", "txvlan", "off")
    assert res.returncode == 0, res.stderr
    sniffer = lan.lab.popen(lan.own, "/usr/bin/python3", "-c", SNIFF_TAGGED, "own0", "4", stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    time.sleep(1)
    before = counters(lan)["arp"]["packets"]
    for _ in range(2):
        send_frames(lan.lab, lan.flood, "flood0", [arp_req(flood_mac, "198.51.100.120", OWN_IP, tags=((0x8100, 20),))])
        time.sleep(1)
    out, err = sniffer.communicate(timeout=30)
    probes = [line.split() for line in out.splitlines()]
    assert ["20", "0.0.0.0", OWN_IP, lan.pong_mac] in probes, f"xdp-pong's probe, tagged 20: {out} {err}"
    tracked = json.loads(lan.pong_cli("claims", "pong0", "--json").stdout)["claims"]
    states = {(c["address"], tuple(c["vlan"])): c["state"] for c in tracked}
    assert states[(OWN_IP, (20,))] == "claimed", states
    assert counters(lan)["arp"]["packets"] == before + 1, "the second tagged request answered"
    res = lan.client("arping", "-b", "-c", "3", "-w", "5", "-I", "cli0", OWN_IP, timeout=30)
    assert macs_of_arping(res.stdout) == {lan.own_mac}, f"untagged, the owner alone: {res.stdout}"
    tracked = json.loads(lan.pong_cli("claims", "pong0", "--json").stdout)["claims"]
    states = {(c["address"], tuple(c["vlan"])): c["state"] for c in tracked}
    assert states[(OWN_IP, ())] == "owner-seen" and states[(OWN_IP, (20,))] == "claimed", states


@pytest.mark.parametrize("addr", [LATER_IP, LATER_IP6])
def test_silent_owner_released_within_one_reverification(unclaimed, addr):
    """An address claimed, then configured on the owner without a word (no gratuitous ARP, no
    DAD): xdp-pong's next re-verification probe (every 10 s) is answered and the claim ends."""
    lan = unclaimed
    v6 = ":" in addr
    res = lan.client("ping", *(["-6"] if v6 else []), "-c", "3", "-W", "3", addr, timeout=30)
    assert received(res.stdout)[1] == 3 and claims(lan)[addr]["state"] == "claimed", res.stdout
    released = lan.stats()["events"]["released"]
    lan.ns(lan.own, "ip", "addr", "add", f"{addr}/{64 if v6 else 24}", "dev", "own0", *(["nodad"] if v6 else []))
    t0 = time.time()
    state = None
    while time.time() - t0 < 12:
        state = claims(lan)[addr]["state"]
        if state != "claimed":
            break
        time.sleep(0.05)
    took = time.time() - t0
    print(f"  {addr}: released {took:.1f} s after its owner took it silently")
    assert state == "owner-seen", f"still {state} {took:.1f} s after the owner took it"
    assert took < 10.5, f"released only after {took:.1f} s"
    assert lan.stats()["events"]["released"] == released + 1, "counted as released"
    lan.client("ip", "-6" if v6 else "-4", "neigh", "flush", "dev", "cli0")
    before = counters(lan)
    res = lan.client("ping", *(["-6"] if v6 else []), "-c", "3", "-i", "0.2", "-W", "1", addr)
    assert received(res.stdout) == (3, 3) and neigh_mac(lan, addr) == lan.own_mac, res.stdout
    kind = "ndp" if v6 else "arp"
    assert counters(lan)[kind]["packets"] == before[kind]["packets"], f"xdp-pong answered no {kind} for it"


@pytest.mark.parametrize("addr", [LATER2_IP, LATER2_IP6])
def test_announced_owner_released_at_once(unclaimed, addr):
    """An owner that announces the address (gratuitous ARP, or DAD) ends the claim at once, and
    clients asking on (through its DAD, when it does not answer yet) never get xdp-pong's answer."""
    lan = unclaimed
    v6 = ":" in addr
    res = lan.client("ping", *(["-6"] if v6 else []), "-c", "3", "-W", "3", addr, timeout=30)
    assert received(res.stdout)[1] == 3 and claims(lan)[addr]["state"] == "claimed", res.stdout
    released = lan.stats()["events"]["released"]
    t0 = time.time()
    announce = own_takes(lan, addr, wait=False)
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
    # asked on for 12 s, from the announcement on: through the owner's DAD (IPv6: 1 s, no answer)
    hits = claims(lan)[addr]["hits"]       # requests for it answered (other addresses' may be, meanwhile)
    if v6:
        macs = set()
        for _ in range(12):
            out = lan.client("ndisc6", "-m", "-r", "1", "-w", "1000", addr, "cli0", timeout=30).stdout
            macs |= {m.lower() for m in re.findall(r"Target link-layer address: ([0-9A-Fa-f:]{17})", out)}
    else:
        out = lan.client("arping", "-b", "-c", "12", "-w", "14", "-I", "cli0", addr, timeout=30).stdout
        macs = macs_of_arping(out)
    assert macs == {lan.own_mac}, f"the owner's answers only: {macs}"
    entry = claims(lan)[addr]
    assert entry["hits"] == hits and entry["state"] == "owner-seen", f"xdp-pong answered none for it: {entry}"


def test_set_unclaimed_at_run_time(unclaimed):
    """Off: every address answered; on again: nothing verified before counts (while off, no owner
    was watched for): an address claimed before, taken meanwhile by the owner, is probed again."""
    lan = unclaimed
    res = lan.client("ping", "-c", "3", "-W", "3", AGAIN_IP, timeout=30)
    assert received(res.stdout)[1] == 3 and claims(lan)[AGAIN_IP]["state"] == "claimed", res.stdout
    res = lan.pong_cli("set", "pong0", "--unclaimed=off")
    assert res.returncode == 0 and "claims: off" in res.stdout, res.stdout + res.stderr
    lan.client("ip", "neigh", "flush", "dev", "cli0")
    res = lan.client("arping", "-c", "1", "-w", "2", "-I", "cli0", "198.51.100.95")
    assert "Received 1 response" in res.stdout, f"every address answered again: {res.stdout}"
    lan.ns(lan.own, "ip", "addr", "add", f"{AGAIN_IP}/24", "dev", "own0")     # silently, while off
    res = lan.pong_cli("set", "pong0", "--unclaimed")
    assert res.returncode == 0 and "claims: on" in res.stdout, res.stdout + res.stderr
    assert '"on":true' in lan.pong_cli("status", "pong0", "--json").stdout.replace(" ", "")
    assert claims(lan)[AGAIN_IP]["state"] != "claimed", "a verdict from before does not count"
    lan.client("ip", "neigh", "flush", "dev", "cli0")
    res = lan.client("arping", "-b", "-c", "3", "-w", "5", "-I", "cli0", AGAIN_IP, timeout=30)
    assert macs_of_arping(res.stdout) == {lan.own_mac}, res.stdout


def test_flood_of_new_addresses_cannot_evict_an_owner(unclaimed):
    """24,000 requests, each from its own sender for its own address: the table fills (16,384)
    and then makes no new entry; the owner's entry stays, and requests for its address after the
    flood get no claim."""
    lan = unclaimed
    flood_mac = lan.mac(lan.flood, "flood0")
    lan.client("arping", "-c", "1", "-w", "2", "-I", "cli0", OWN_IP)     # its entry is there
    frames = [arp_req(flood_mac, f"10.{1 + i // 65536}.{i // 256 % 256}.{i % 256}",
                      f"10.200.{i // 256}.{i % 256}") for i in range(24000)]
    send_frames(lan.lab, lan.flood, "flood0", frames)
    time.sleep(2)                 # rounds under way decided
    tracked = claims(lan)
    assert len(tracked) >= 16000, f"the flood filled the table ({len(tracked)} entries)"
    assert owner_seen_soon(lan, OWN_IP), tracked.get(OWN_IP)
    before = counters(lan)["arp"]["packets"]
    res = lan.client("arping", "-b", "-c", "5", "-w", "7", "-I", "cli0", OWN_IP, timeout=30)
    assert macs_of_arping(res.stdout) == {lan.own_mac}, res.stdout
    send_frames(lan.lab, lan.flood, "flood0", [arp_req(flood_mac, "10.9.9.9", OWN_IP) for _ in range(10)])
    time.sleep(2)
    assert counters(lan)["arp"]["packets"] == before, "no ARP reply for the owner's address"
    assert owner_seen_soon(lan, OWN_IP), claims(lan).get(OWN_IP)


def test_flood_of_new_addresses_cannot_evict_an_owner_ipv6(unclaimed):
    """The same with 24,000 neighbour solicitations, each from its own source for its own target."""
    lan = unclaimed
    flood_mac = lan.mac(lan.flood, "flood0")
    lan.client("ndisc6", "-r", "1", "-w", "1000", OWN_IP6, "cli0")       # its entry is there
    frames = [ns_req(flood_mac, f"2001:db8:66::{i // 65536:x}:{i % 65536:x}", f"2001:db8:55::{i:x}")
              for i in range(24000)]
    send_frames(lan.lab, lan.flood, "flood0", frames)
    time.sleep(2)
    tracked = claims(lan)
    assert sum(":" in a for a in tracked) >= 16000, f"the flood filled the table ({len(tracked)} entries)"
    assert owner_seen_soon(lan, OWN_IP6), tracked.get(OWN_IP6)
    before = counters(lan)["ndp"]["packets"]
    res = lan.client("ndisc6", "-m", "-r", "5", "-w", "1000", OWN_IP6, "cli0", timeout=30)
    macs = {m.lower() for m in re.findall(r"Target link-layer address: ([0-9A-Fa-f:]{17})", res.stdout)}
    assert macs == {lan.own_mac}, res.stdout
    send_frames(lan.lab, lan.flood, "flood0", [ns_req(flood_mac, "2001:db8:9::9", OWN_IP6) for _ in range(10)])
    time.sleep(2)
    assert counters(lan)["ndp"]["packets"] == before, "no NA for the owner's address"
    assert owner_seen_soon(lan, OWN_IP6), claims(lan).get(OWN_IP6)


@pytest.fixture(scope="module")
def plain(lan, unclaimed):
    """xdp-pong answering every address (after the --unclaimed tests: the owner has its addresses)."""
    lan.stop_run(lan.run_proc)
    res = lan.pong_cli("attach", "pong0")
    assert res.returncode == 0, res.stderr
    yield lan
    lan.pong_cli("detach", "pong0")


def test_set_unclaimed_needs_run(plain):
    """A program attached by `attach` has no process to probe: set --unclaimed is refused."""
    res = plain.pong_cli("set", "pong0", "--unclaimed")
    assert res.returncode == 1 and "xdp-pong run" in res.stderr, res.stderr
    assert '"on":false' in plain.pong_cli("status", "pong0", "--json").stdout.replace(" ", "")


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
