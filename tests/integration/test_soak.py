"""Soak and churn, over a veth pair in namespaces, with the benchmark's
live-frames generator (build/pong-gen) and its sink.

Soak: SOAK_REQUESTS requests (make check: 1,000,000; make soak: 10,000,000),
spread over every kind, at the generator's full rate. Every reply counted by
xdp-pong reaches the sink, every request is accounted for (answered by
xdp-pong, or dropped by the veth before xdp-pong saw it, which the veth
counts), xdp_tx_errors stays 0, and the kernel logs no warning.

Churn: CHURN_CYCLES attach/detach cycles (make check: 20; make soak: 100)
while the generator keeps sending; every command succeeds, and afterwards no
program, map or bpffs pin of xdp-pong is left.
"""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from pylib.frames import (ARP, ICMP, IP, Ether, ICMPv6EchoRequest, ICMPv6ND_NS,  # noqa: E402
                          ICMPv6NDOptSrcLLAddr, IPv6, Raw, solicited_node)
from pylib.lab import ROOT, XDP_PONG, sh  # noqa: E402

GEN = os.path.join(ROOT, "build", "pong-gen")
KERNEL_ALARMS = re.compile(r"WARNING:|BUG:|Call Trace|RIP:|general protection|list_(add|del) corruption")


class Pair:
    """gen0 <-> dut0 in two namespaces; xdp-pong on dut0."""
    def __init__(self):
        tag = f"xps{os.getpid() % 100000}"
        self.gen, self.dut = f"{tag}-gen", f"{tag}-dut"

    def __enter__(self):
        self.__exit__()
        for cmd in (["ip", "netns", "add", self.gen], ["ip", "netns", "add", self.dut],
                    ["ip", "-n", self.gen, "link", "add", "gen0", "type", "veth", "peer", "name", "dut0",
                     "netns", self.dut],
                    ["ip", "-n", self.gen, "link", "set", "gen0", "up"],
                    ["ip", "-n", self.dut, "link", "set", "dut0", "up"]):
            res = sh(cmd)
            if res.returncode:
                raise RuntimeError(f"{' '.join(cmd)}: {res.stderr.strip()}")
        self.gen_mac = sh(["ip", "netns", "exec", self.gen, "cat", "/sys/class/net/gen0/address"]).stdout.strip()
        self.dut_mac = sh(["ip", "netns", "exec", self.dut, "cat", "/sys/class/net/dut0/address"]).stdout.strip()
        return self

    def __exit__(self, *exc):
        for ns in (self.gen, self.dut):
            sh(["ip", "netns", "del", ns])

    def pong(self, *args):
        return sh(["ip", "netns", "exec", self.dut, XDP_PONG, *args])

    def ethtool(self, ns, dev, pattern):
        out = sh(["ip", "netns", "exec", ns, "ethtool", "-S", dev]).stdout
        return sum(int(v) for v in re.findall(pattern + r":\s*(\d+)", out))

    def frames(self):
        eth = Ether(dst=self.dut_mac, src=self.gen_mac)
        group, gmac = solicited_node("2001:db8:77::1")
        return {
            "echo4": eth / IP(src="198.51.100.2", dst="198.51.100.1") / ICMP(id=7, seq=1) / Raw(b"s" * 56),
            "arp": Ether(dst="ff:ff:ff:ff:ff:ff", src=self.gen_mac) /
            ARP(op=1, hwsrc=self.gen_mac, psrc="198.51.100.2", pdst="198.51.100.1"),
            "echo6": eth / IPv6(src="2001:db8:77::2", dst="2001:db8:77::1") / ICMPv6EchoRequest(id=7) /
            Raw(b"s" * 56),
            "ndp": Ether(dst=gmac, src=self.gen_mac) / IPv6(src="2001:db8:77::2", dst=group, hlim=255) /
            ICMPv6ND_NS(tgt="2001:db8:77::1") / ICMPv6NDOptSrcLLAddr(lladdr=self.gen_mac),
        }


def kernel_alarms():
    return [line for line in sh(["dmesg"]).stdout.splitlines() if KERNEL_ALARMS.search(line)]


def soak(t, pair, requests):
    res = pair.pong("attach", "dut0")
    if not t.check("soak: attach dut0", res.returncode == 0, res.stderr):
        return
    frames = pair.frames()
    per_kind = requests // len(frames)
    sent = replies = dropped_before = 0
    tx_errors0 = pair.ethtool(pair.dut, "dut0", r"rx_queue_\d+_xdp_tx_errors")
    for kind, frame in frames.items():
        drops0 = pair.ethtool(pair.gen, "gen0", r"tx_queue_\d+_xdp_xmit_errors")
        before = json.loads(pair.pong("stats", "dut0", "--json").stdout)["interfaces"][0]["counters"][kind]
        res = sh(["ip", "netns", "exec", pair.gen, GEN, "--ifname", "gen0", "--frame", bytes(frame).hex(),
                  "--count", str(per_kind)], timeout=900)
        if not t.check(f"soak {kind}: generator ran", res.returncode == 0, res.stderr):
            return
        run = json.loads(res.stdout)
        after = json.loads(pair.pong("stats", "dut0", "--json").stdout)["interfaces"][0]["counters"][kind]
        drops = pair.ethtool(pair.gen, "gen0", r"tx_queue_\d+_xdp_xmit_errors") - drops0
        answered = after["packets"] - before["packets"]
        t.equal(f"soak {kind}: xdp-pong's counter equals the sink's replies", answered, run["received"][kind])
        t.equal(f"soak {kind}: every request answered or dropped by the veth before xdp-pong",
                answered + drops, per_kind)
        sent, replies, dropped_before = sent + per_kind, replies + run["received"][kind], dropped_before + drops
        print(f"  soak {kind}: {per_kind} requests, {run['received'][kind]} replies, "
              f"{drops} dropped by the veth before xdp-pong, "
              f"{per_kind / (run['elapsed_ns'] / 1e9) / 1e6:.2f} Mpps offered", flush=True)
    t.equal("soak: xdp_tx_errors stay 0", pair.ethtool(pair.dut, "dut0", r"rx_queue_\d+_xdp_tx_errors") - tx_errors0,
            0)
    print(f"  soak: {sent} requests, {replies} replies, {dropped_before} dropped before xdp-pong", flush=True)
    res = pair.pong("detach", "dut0")
    t.check("soak: detach dut0", res.returncode == 0, res.stderr)


def leftovers():
    progs = sh(["bpftool", "-j", "prog", "show"]).stdout
    maps = sh(["bpftool", "-j", "map", "show"]).stdout
    names = [p.get("name", "") for p in json.loads(progs or "[]")] + [m.get("name", "") for m in json.loads(maps or "[]")]
    ours = [n for n in names if n in ("xdp_pong", "pong_counters", "pong_reasons", "pong.rodata", "pong.bss",
                                      "pong_prefix4", "pong_prefix6", "pong_rl_source", "pong_rl_global")]
    pins = []
    if os.path.isdir("/sys/fs/bpf"):
        for dirpath, dirs, files in os.walk("/sys/fs/bpf"):
            pins += [os.path.join(dirpath, f) for f in files + dirs if "pong" in f]
    return ours, pins


def churn(t, pair, cycles):
    frame = pair.frames()["echo4"]
    # traffic for the whole churn: far more requests than the cycles take to run
    gen = subprocess.Popen(["ip", "netns", "exec", pair.gen, GEN, "--ifname", "gen0", "--frame", bytes(frame).hex(),
                            "--count", "4000000000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    failures = []
    try:
        time.sleep(0.2)
        for i in range(cycles):
            for verb in ("attach", "detach"):
                res = pair.pong(verb, "dut0")
                if res.returncode != 0:
                    failures.append(f"cycle {i} {verb}: {res.stderr.strip()}")
        still_sending = gen.poll() is None
    finally:
        gen.terminate()
        gen.wait(timeout=60)
    t.check(f"churn: {cycles} attach/detach cycles under traffic, every command succeeded", not failures,
            "; ".join(failures[:3]))
    t.check("churn: traffic flowed for the whole churn", still_sending, gen.stderr.read() if gen.stderr else "")
    ours, pins = leftovers()
    for _ in range(50):              # programs and maps are freed after an RCU grace period
        if not ours:
            break
        time.sleep(0.1)
        ours, pins = leftovers()
    t.check("churn: no xdp-pong program or map left (bpftool prog/map list)", not ours, str(ours))
    t.check("churn: no bpffs pin of xdp-pong", not pins, str(pins))


def run(t):
    requests = int(os.environ.get("SOAK_REQUESTS", 1_000_000))
    cycles = int(os.environ.get("CHURN_CYCLES", 20))
    alarms0 = set(kernel_alarms())
    with Pair() as pair:
        soak(t, pair, requests)
        churn(t, pair, cycles)
    new = [a for a in kernel_alarms() if a not in alarms0]
    t.check("no kernel warnings in dmesg", not new, "; ".join(new[:3]))
