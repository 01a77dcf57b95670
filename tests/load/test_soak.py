"""Soak and churn, over a veth pair in namespaces, with the benchmark's
generator (build/pong-gen: live frames, or a packet socket where the kernel
refuses those) and its sink.

Soak: SOAK_REQUESTS requests (make check: 1,000,000; make soak: 10,000,000),
spread over every kind, at the generator's full rate. Every reply counted by
xdp-pong reaches the sink, every request is accounted for (answered by
xdp-pong, or dropped by the veth before xdp-pong saw it, which the veth
counts), xdp_tx_errors stays 0, and the kernel logs no warning.

Churn: CHURN_CYCLES attach/detach cycles (make check: 20; make soak: 100)
while the generator keeps sending; in every cycle xdp-pong answers before it
is detached again, and afterwards none of the programs and maps the cycles
loaded, and no bpffs pin of xdp-pong, is left.
"""
import json
import os
import re
import subprocess
import time

import pytest

from pylib.env import GEN, XDP_PONG, ethtool_counters, request_frames, sh

KERNEL_ALARMS = re.compile(r"WARNING:|BUG:|Call Trace|RIP:|general protection|list_(add|del) corruption")
REQUESTS = int(os.environ.get("SOAK_REQUESTS", 1_000_000))
CYCLES = int(os.environ.get("CHURN_CYCLES", 20))
pytestmark = pytest.mark.slow


def kernel_log():
    """dmesg, or a failure: a check of the kernel's log must be able to read it."""
    res = sh(["dmesg"])
    assert res.returncode == 0 and res.stdout.strip(), f"dmesg could not be read: {res.stderr.strip()}"
    return res.stdout.splitlines()


def alarms(lines):
    return [line for line in lines if KERNEL_ALARMS.search(line)]


@pytest.fixture(scope="module")
def dut(pair):
    """pair, with the kernel's alarms before the module ran, and xdp-pong's stats reader."""
    pair.alarms0 = set(alarms(kernel_log()))

    def stats(kind):
        res = pair.run(pair.dut, XDP_PONG, "stats", "dut0", "--json")
        assert res.returncode == 0, res.stderr
        return json.loads(res.stdout)["interfaces"][0]["counters"][kind]["packets"]
    pair.pong_stats = stats
    yield pair
    pair.run(pair.dut, XDP_PONG, "detach", "dut0")


@pytest.fixture(scope="module")
def frames(dut):
    return {kind: bytes(f) for kind, f in request_frames(dut.gen_mac, dut.dut_mac).items()}


@pytest.fixture(scope="module")
def soaked(dut, frames):
    """Attach, then per kind: requests sent, replies at the sink, drops by the veth, xdp-pong's count."""
    res = dut.run(dut.dut, XDP_PONG, "attach", "dut0")
    assert res.returncode == 0, res.stderr
    tx_errors0 = ethtool_counters(dut, dut.dut, "dut0", r"rx_queue_\d+_xdp_tx_errors")
    per_kind = REQUESTS // len(frames)
    out = {}
    for kind, frame in frames.items():
        drops0 = ethtool_counters(dut, dut.gen, "gen0", r"tx_queue_\d+_xdp_xmit_errors")
        before = dut.pong_stats(kind)
        res = dut.run(dut.gen, GEN, "--ifname", "gen0", "--frame", frame.hex(), "--count", str(per_kind),
                      timeout=900)
        assert res.returncode == 0, f"generator for {kind}: {res.stderr}"
        run = json.loads(res.stdout)
        out[kind] = {"sent": per_kind, "replies": run["received"][kind], "answered": dut.pong_stats(kind) - before,
                     "dropped": ethtool_counters(dut, dut.gen, "gen0", r"tx_queue_\d+_xdp_xmit_errors") - drops0}
        print(f"  soak {kind}: {per_kind} requests, {run['received'][kind]} replies, {out[kind]['dropped']} dropped "
              f"by the veth before xdp-pong, {per_kind / (run['elapsed_ns'] / 1e9) / 1e6:.2f} Mpps offered")
    out["tx_errors"] = ethtool_counters(dut, dut.dut, "dut0", r"rx_queue_\d+_xdp_tx_errors") - tx_errors0
    res = dut.run(dut.dut, XDP_PONG, "detach", "dut0")
    assert res.returncode == 0, res.stderr
    return out


@pytest.mark.parametrize("kind", ["echo4", "arp", "echo6", "ndp"])
def test_soak(soaked, kind):
    r = soaked[kind]
    assert r["answered"] == r["replies"], "xdp-pong's counter equals the sink's replies"
    assert r["answered"] + r["dropped"] == r["sent"], "every request answered or dropped by the veth before xdp-pong"


def test_soak_no_tx_errors(soaked):
    assert soaked["tx_errors"] == 0


def ours_now(dut):
    """The program xdp-pong has on dut0 now, and its maps: (prog id, [map ids])."""
    res = dut.run(dut.dut, XDP_PONG, "stats", "dut0", "--json")
    assert res.returncode == 0, res.stderr
    prog_id = json.loads(res.stdout)["interfaces"][0]["prog_id"]
    prog = sh(["bpftool", "-j", "prog", "show", "id", str(prog_id)])
    assert prog.returncode == 0, prog.stderr
    return prog_id, json.loads(prog.stdout).get("map_ids", [])


def leftovers(prog_ids, map_ids):
    """Which of the programs and maps this test attached still exist, and bpffs pins of xdp-pong.
    Only what the test made is looked at: xdp-pong may be running elsewhere on the machine."""
    progs = [i for i in prog_ids if sh(["bpftool", "prog", "show", "id", str(i)]).returncode == 0]
    maps = [i for i in map_ids if sh(["bpftool", "map", "show", "id", str(i)]).returncode == 0]
    pins = []
    if os.path.isdir("/sys/fs/bpf"):
        for dirpath, dirs, files in os.walk("/sys/fs/bpf"):
            pins += [os.path.join(dirpath, f) for f in files + dirs if "pong" in f]
    return progs + maps, pins


def test_churn(dut, frames, soaked):
    # traffic for the whole churn, until the test stops it
    gen = dut.popen(dut.gen, GEN, "--ifname", "gen0", "--frame", frames["echo4"].hex(), "--count", "1000000",
                    "--until-stopped", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    failures, silent, prog_ids, map_ids = [], [], [], []
    try:
        for i in range(CYCLES):
            res = dut.run(dut.dut, XDP_PONG, "attach", "dut0")
            if res.returncode != 0:
                failures.append(f"cycle {i} attach: {res.stderr.strip()}")
                continue
            prog_id, maps = ours_now(dut)
            prog_ids.append(prog_id)
            map_ids += maps
            # traffic flowed: this program answered before it goes again
            for _ in range(100):
                if dut.pong_stats("echo4") > 0:
                    break
                time.sleep(0.01)
            else:
                silent.append(i)
            res = dut.run(dut.dut, XDP_PONG, "detach", "dut0")
            if res.returncode != 0:
                failures.append(f"cycle {i} detach: {res.stderr.strip()}")
        flooding = gen.poll() is None
    finally:
        gen.terminate()
        gen.wait(timeout=60)
    assert flooding, "the generator sent until the churn ended"
    assert not failures, "; ".join(failures[:3])
    assert not silent, f"cycles where xdp-pong answered nothing while attached: {silent}"
    assert len(prog_ids) == CYCLES and len(set(prog_ids)) == CYCLES, "each cycle loaded a program of its own"
    ours, pins = leftovers(prog_ids, map_ids)
    for _ in range(50):              # programs and maps are freed after an RCU grace period
        if not ours:
            break
        time.sleep(0.1)
        ours, pins = leftovers(prog_ids, map_ids)
    assert not ours, f"programs or maps of xdp-pong left (ids): {ours}"
    assert not pins, f"bpffs pins of xdp-pong left: {pins}"


def test_no_kernel_warnings(dut, soaked):
    new = [a for a in alarms(kernel_log()) if a not in dut.alarms0]
    assert not new, "; ".join(new[:3])
