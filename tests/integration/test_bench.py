"""A smoke run of the benchmark (few packets, one round): it runs, cleans up,
and its JSON says what make bench promises. No timing is asserted here.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from pylib.lab import ROOT  # noqa: E402

KINDS = ["echo4 64B", "echo4 1514B", "arp", "echo6", "ndp"]


def run(t):
    stats_before = open("/proc/sys/kernel/bpf_stats_enabled").read().strip()
    with tempfile.TemporaryDirectory() as tmp:
        out_json, out_png = os.path.join(tmp, "bench.json"), os.path.join(tmp, "bench.png")
        res = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "scripts", "bench.py"), "--packets", "20000",
                              "--rounds", "1", "--latency-count", "50", "--json", out_json, "--png", out_png],
                             capture_output=True, text=True, timeout=600, check=False)
        if not t.check("bench smoke run exits 0", res.returncode == 0, (res.stderr or res.stdout)[-800:]):
            return
        doc = json.load(open(out_json))
        with open(out_png, "rb") as f:
            t.check("bench wrote a PNG chart", f.read(8) == b"\x89PNG\r\n\x1a\n")
    t.equal("bench measured every kind", sorted(doc["throughput"]), sorted(KINDS))
    for kind in KINDS:
        runs = doc["throughput"][kind]["runs"]
        pong = runs["xdp-pong"][0]
        # at full rate a veth may drop requests before xdp-pong sees them (it counts them)
        t.equal(f"bench {kind}: every request answered by xdp-pong or counted as dropped by the veth",
                pong["replies"] + pong["requests_dropped_by_veth"], pong["sent"])
        t.equal(f"bench {kind}: no reply dropped on the way back", pong["replies_dropped_by_veth"], 0)
        t.check(f"bench {kind}: ceiling and kernel answered", runs["ceiling"][0]["replies"] > 0 and
                runs["kernel"][0]["replies"] > 0, str(runs))
        t.check(f"bench {kind}: program cost measured", doc["throughput"][kind]["summary"]["xdp-pong"].get(
            "ns_per_packet") is not None)
    lat = doc["latency"]
    t.check("bench latency: both responders answered pings",
            lat["xdp-pong"]["received"] == lat["xdp-pong"]["sent"] == 50 and
            lat["kernel"]["received"] == lat["kernel"]["sent"] == 50, str(lat))
    left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    t.check("bench removed its namespaces", not any(line.startswith("xpb") for line in left.splitlines()), left)
    stats = open("/proc/sys/kernel/bpf_stats_enabled").read().strip()
    t.equal("bench restored kernel.bpf_stats_enabled", stats, stats_before)
