"""A smoke run of the benchmark (few packets, one round): it runs, cleans up,
and its JSON says what make bench promises. No timing is asserted here.
"""
import json
import os
import subprocess

import pytest

from pylib.env import ROOT

KINDS = ["echo4 64B", "echo4 1514B", "arp", "echo6", "ndp"]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    out_json, out_png = tmp / "bench.json", tmp / "bench.png"
    stats_before = open("/proc/sys/kernel/bpf_stats_enabled").read().strip()
    res = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "scripts", "bench", "bench.py"), "--packets", "20000",
                          "--cost-packets", "20000", "--rounds", "1", "--latency-count", "50", "--json", str(out_json),
                          "--png", str(out_png)], capture_output=True, text=True, timeout=900, check=False)
    assert res.returncode == 0, (res.stderr or res.stdout)[-800:]
    return {"doc": json.load(open(out_json)), "png": out_png.read_bytes(), "stats_before": stats_before}


def test_outputs(bench):
    doc = bench["doc"]
    assert bench["png"][:8] == b"\x89PNG\r\n\x1a\n", "bench wrote a PNG chart"
    assert sorted(doc["throughput"]) == sorted(KINDS), "bench measured every kind"
    assert sorted(doc["cost"]["kinds"]) == sorted(KINDS), "and the cost of every kind"
    assert {"echo4, --prefix list of 1000", "echo4, both limits on", "echo4 flood, both limits on"} <= \
        set(doc["cost"]["policy"]), "and of the policies"
    assert doc["machine"]["driver"] == "veth" and doc["machine"]["kernel"], doc["machine"]


@pytest.mark.parametrize("kind", KINDS)
def test_cost(bench, kind):
    r = bench["doc"]["cost"]["kinds"][kind]
    assert len(r["xdp-pong"]) == 1 and len(r["ceiling"]) == 2, "A-B-A: the ceiling before and after"
    assert all(v > 0 for v in r["xdp-pong"] + r["ceiling"]), r


def test_flood_and_scaling(bench):
    doc = bench["doc"]
    assert doc["flood"]["limits on"]["runs"][0]["handled"] > 0 and doc["flood"]["limits off"]["runs"][0]["handled"] > 0
    assert doc["scaling"]["1 CPU"]["replies_pps"] > 0 and doc["scaling"]["2 CPUs"]["replies_pps"] > 0
    assert doc["scaling"]["counters_cover_replies"], "xdp-pong counted every reply the sink saw, on both CPUs"


@pytest.mark.parametrize("kind", KINDS)
def test_kind(bench, kind):
    runs = bench["doc"]["throughput"][kind]["runs"]
    pong = runs["xdp-pong"][0]
    # at full rate a veth may drop requests before xdp-pong sees them (it counts them)
    assert pong["replies"] + pong["requests_dropped_by_veth"] == pong["sent"], \
        "every request answered by xdp-pong or counted as dropped by the veth"
    assert pong["replies_dropped_by_veth"] == 0, "no reply dropped on the way back"
    assert runs["ceiling"][0]["replies"] > 0 and runs["kernel"][0]["replies"] > 0, str(runs)
    assert len(runs["ceiling"]) == 2 and bench["doc"]["throughput"][kind]["control"], "A-B-A, with its control"


def test_latency(bench):
    lat = bench["doc"]["latency"]
    assert lat["xdp-pong"]["received"] == lat["xdp-pong"]["sent"] == 50 and \
        lat["kernel"]["received"] == lat["kernel"]["sent"] == 50, str(lat)


def test_cleaned_up(bench):
    left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not any(line.startswith("xpb") for line in left.splitlines()), left
    assert open("/proc/sys/kernel/bpf_stats_enabled").read().strip() == bench["stats_before"], \
        "bench restored kernel.bpf_stats_enabled"
