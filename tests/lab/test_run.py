"""xdp-pong run: the foreground process that the systemd unit, the container
and the DaemonSet run. In the bridge lab (a client, a switch, the responder):
start, real clients answered, metrics scraped, SIGTERM detaches; a start
that fails half-way leaves nothing; SIGKILL leaves nothing and the next run
starts; a MAC change is followed; SIGHUP looks again and goes on; a program
detached underneath ends it.
"""
import json
import signal
import subprocess
import time

import pytest

from pylib.env import Lab, PASS_OBJ, XDP_PONG, answers_and_reports, metric, scrape, unique

pytestmark = pytest.mark.slow
GATEWAY_IP = "198.51.100.1"
PORT = 9477


@pytest.fixture
def lab():
    with Lab.bridge(unique("run")) as lab:
        yield lab


def start(lab, *args):
    """xdp-pong run in the responder's namespace; returned once every interface named (the
    arguments before the first option) has a program, or once it ended."""
    ifaces = [a for a in args[:next((i for i, a in enumerate(args) if a.startswith("-")), len(args))]]
    proc = lab.popen(lab.pong, XDP_PONG, "run", *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and proc.poll() is None:
        if all(lab.xdp_prog(lab.pong, dev) for dev in ifaces):
            break
        time.sleep(0.05)
    return proc


def stop(proc, sig=signal.SIGTERM, timeout=10):
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, proc.stderr.read()


def test_start_answer_scrape_stop(lab):
    proc = start(lab, "pong0", "--metrics", f"127.0.0.1:{PORT}")
    try:
        prog = lab.xdp_prog(lab.pong, "pong0")
        assert prog and proc.poll() is None, "running and attached"
        answers_and_reports(lab, prog, PORT)
    finally:
        rc, err = stop(proc)
    assert rc == 0 and "detaching" in err, err
    assert lab.xdp_prog(lab.pong, "pong0") is None, "SIGTERM detached it"
    res = lab.run(lab.pong, "/usr/bin/python3", "-c",
                  f"import socket; socket.create_connection(('127.0.0.1', {PORT}), timeout=2)")
    assert res.returncode != 0, "and the metrics port is closed"


def test_failing_second_interface_leaves_the_first_untouched(lab):
    # the second interface cannot take native XDP (a bridge has only generic XDP): it fails after
    # the first was attached, which must be detached again
    lab.ip(lab.pong, "link", "add", "br9", "type", "bridge")
    lab.ip(lab.pong, "link", "set", "br9", "up")
    proc = start(lab, "pong0", "br9", "--metrics", f"127.0.0.1:{PORT}")
    rc = proc.wait(timeout=20)
    err = proc.stderr.read()
    assert rc == 1 and "br9" in err and "native XDP" in err, err
    assert lab.xdp_prog(lab.pong, "pong0") is None and lab.xdp_prog(lab.pong, "br9") is None, \
        "nothing stays attached"
    # and a second interface that runs another program: refused before anything is attached
    lab.ip(lab.pong, "link", "set", "dev", "br9", "xdpgeneric", "obj", PASS_OBJ, "sec", "xdp")
    foreign = lab.xdp_prog(lab.pong, "br9")
    proc = start(lab, "pong0", "br9")
    assert proc.wait(timeout=20) == 1 and "another XDP program" in proc.stderr.read()
    assert lab.xdp_prog(lab.pong, "pong0") is None and lab.xdp_prog(lab.pong, "br9") == foreign


def test_port_in_use_fails_before_attaching(lab):
    holder = lab.popen(lab.pong, "/usr/bin/python3", "-c",
                       f"import socket,time; s=socket.socket(); s.bind(('127.0.0.1', {PORT})); s.listen(); "
                       f"print('ok', flush=True); time.sleep(60)", stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == "ok"
        proc = start(lab, "pong0", "--metrics", f"127.0.0.1:{PORT}")
        assert proc.wait(timeout=20) == 1 and "cannot listen" in proc.stderr.read()
        assert lab.xdp_prog(lab.pong, "pong0") is None
    finally:
        holder.kill()
        holder.wait()


def test_killed_leaves_nothing_and_the_next_run_starts(lab):
    proc = start(lab, "pong0")
    first = lab.xdp_prog(lab.pong, "pong0")
    assert first and proc.poll() is None
    stop(proc, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while lab.xdp_prog(lab.pong, "pong0") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lab.xdp_prog(lab.pong, "pong0") is None, "the kernel detached the killed run's program (its link)"
    proc = start(lab, "pong0")
    try:
        second = lab.xdp_prog(lab.pong, "pong0")
        assert second and second != first and proc.poll() is None, "a new run attached its own program"
        res = lab.run(lab.cli, "ping", "-c", "1", "-W", "2", GATEWAY_IP)
        assert res.returncode == 0, res.stdout
    finally:
        assert stop(proc)[0] == 0


def test_mac_change_followed_within_a_second(lab):
    proc = start(lab, "pong0")
    try:
        new = "02:5e:00:00:be:ef"
        lab.ip(lab.pong, "link", "set", "dev", "pong0", "address", new)
        changed = time.monotonic()
        # a real client: arping prints the MAC that answered
        while True:
            res = lab.run(lab.cli, "arping", "-c", "1", "-w", "1", "-I", "cli0", GATEWAY_IP)
            if new.upper() in res.stdout.upper() or time.monotonic() - changed > 3:
                break
        assert new.upper() in res.stdout.upper(), f"ARP answered with the new MAC: {res.stdout}"
        assert time.monotonic() - changed < 1.0, "within a second (run looks every 250 ms; arping answers at once)"
        st = json.loads(lab.run(lab.pong, XDP_PONG, "status", "pong0", "--json").stdout)["interfaces"][0]
        assert st["mac"] == new and not st["mac_stale"], st
        # echo replies come from it too (the client's neighbour entry is the new MAC now)
        lab.ip(lab.cli, "neigh", "flush", "dev", "cli0")
        assert lab.run(lab.cli, "ping", "-c", "1", "-W", "2", GATEWAY_IP).returncode == 0
    finally:
        rc, err = stop(proc)
    assert rc == 0 and f"to {new}" in err, err


def test_sighup_looks_again_and_goes_on(lab):
    """SIGHUP is a reload, never a silent stop (a unit with Restart=on-failure would not come back)."""
    proc = start(lab, "pong0")
    try:
        prog = lab.xdp_prog(lab.pong, "pong0")
        proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert proc.poll() is None, f"SIGHUP ended run: {proc.stderr.read() if proc.poll() is not None else ''}"
        assert lab.xdp_prog(lab.pong, "pong0") == prog, "the same program still attached"
        assert lab.run(lab.cli, "ping", "-c", "1", "-W", "2", GATEWAY_IP).returncode == 0, "still answering"
    finally:
        rc, err = stop(proc)
    assert rc == 0 and "SIGHUP: the host's addresses and the interfaces' MACs looked at again" in err, err


def test_stale_mac_flagged_after_attach(lab):
    """attach does not follow a MAC change: status says so."""
    assert lab.run(lab.pong, XDP_PONG, "attach", "pong0").returncode == 0
    try:
        lab.ip(lab.pong, "link", "set", "dev", "pong0", "address", "02:5e:00:00:be:ef")
        res = lab.run(lab.pong, XDP_PONG, "status", "pong0")
        assert res.returncode == 0 and "!" in res.stdout and "02:5e:00:00:be:ef" in res.stderr and \
            "'xdp-pong run' follows MAC changes" in res.stderr, res.stdout + res.stderr
        st = json.loads(lab.run(lab.pong, XDP_PONG, "status", "pong0", "--json").stdout)["interfaces"][0]
        assert st["mac_stale"] and st["interface_mac"] == "02:5e:00:00:be:ef" and st["mac"] != st["interface_mac"]
    finally:
        lab.run(lab.pong, XDP_PONG, "detach", "pong0")


def test_detached_underneath_ends_it(lab):
    """A program detached underneath an interface that is still there (bpftool link detach): run ends
    with an error, for a supervisor to start it again, and detaches the others."""
    lab.ip(lab.pong, "link", "add", "x0", "type", "veth", "peer", "name", "x1")
    lab.ip(lab.pong, "link", "set", "x0", "up")
    proc = start(lab, "pong0", "x0")
    assert proc.poll() is None and lab.xdp_prog(lab.pong, "x0")
    links = json.loads(subprocess.run(["bpftool", "-j", "link", "show"], capture_output=True, text=True,
                                      check=True).stdout)
    ours = lab.xdp_prog(lab.pong, "x0")
    link = next(k for k in links if k.get("type") == "xdp" and k.get("prog_id") == ours)
    subprocess.run(["bpftool", "link", "detach", "id", str(link["id"])], check=True)
    try:
        rc = proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read()
    assert rc == 1 and "no longer attached" in err, err
    assert lab.xdp_prog(lab.pong, "pong0") is None, "the other interface is detached too"


@pytest.mark.parametrize("how", ["interface removed", "moved to another namespace"])
def test_interface_gone_and_back(lab, how):
    """`run pong0 x0`: x0 goes away; pong0 is still served, and an x0 that appears again is attached
    again with the same options."""
    lab.ip(lab.pong, "link", "add", "x0", "type", "veth", "peer", "name", "x1")
    lab.ip(lab.pong, "link", "set", "x0", "up")
    proc = start(lab, "pong0", "x0", "--ttl", "33", "--metrics", f"127.0.0.1:{PORT}")
    try:
        assert proc.poll() is None and lab.xdp_prog(lab.pong, "x0")
        pong0 = lab.xdp_prog(lab.pong, "pong0")
        if how == "interface removed":
            lab.ip(lab.pong, "link", "del", "x0")
        else:
            lab.ip(lab.pong, "link", "set", "x0", "netns", lab.sw)
        time.sleep(1)
        assert proc.poll() is None, f"run goes on: {proc.stderr.read() if proc.poll() is not None else ''}"
        assert lab.xdp_prog(lab.pong, "pong0") == pong0, "pong0 still held"
        res = lab.run(lab.cli, "ping", "-c", "1", "-W", "2", GATEWAY_IP)
        assert res.returncode == 0 and "ttl=33" in res.stdout, f"pong0 still answered: {res.stdout}"
        text = scrape(lab, lab.pong, PORT)
        assert metric(text, "xdp_pong_up", interface="x0") == 0, f"/metrics: x0 down, by its name: {text[:600]}"
        if how == "moved to another namespace":
            assert lab.xdp_prog(lab.sw, "x0") is None, "nothing left on it where it went"
            lab.ip(lab.sw, "link", "set", "x0", "netns", lab.pong)
        else:
            lab.ip(lab.pong, "link", "add", "x0", "type", "veth", "peer", "name", "x1")
        lab.ip(lab.pong, "link", "set", "x0", "up")
        for _ in range(40):
            if lab.xdp_prog(lab.pong, "x0"):
                break
            time.sleep(0.1)
        assert lab.xdp_prog(lab.pong, "x0"), "x0 attached again when it came back"
        st = json.loads(lab.run(lab.pong, XDP_PONG, "status", "x0", "--json").stdout)["interfaces"][0]
        assert st["ttl"] == 33, "with the same options"
        time.sleep(1.1)       # /metrics is rendered at most once a second
        text = scrape(lab, lab.pong, PORT)
        assert metric(text, "xdp_pong_up", interface="x0") == 1, f"/metrics follows it: {text[:600]}"
    finally:
        rc, err = stop(proc)
    assert rc == 0 and "x0: the interface is gone" in err and "x0 is back" in err, err
    assert lab.xdp_prog(lab.pong, "x0") is None and lab.xdp_prog(lab.pong, "pong0") is None, "all detached at the end"


def test_unclaimed_refused_on_a_bridge_port(lab):
    """--unclaimed on a bridge port: hosts on the bridge's other ports would hear no probe and
    answer none through its XDP, so their addresses would look free. Refused, nothing attached;
    `set --unclaimed` on a run serving it is refused too."""
    lab.ip(lab.pong, "link", "add", "br9", "type", "bridge")
    lab.ip(lab.pong, "link", "set", "pong0", "master", "br9")
    try:
        proc = start(lab, "pong0", "--unclaimed")
        rc = proc.wait(timeout=20)
        err = proc.stderr.read()
        assert rc == 1 and "stacked with br9" in err, err
        assert lab.xdp_prog(lab.pong, "pong0") is None, "nothing stays attached"
        proc = start(lab, "pong0")
        try:
            res = lab.run(lab.pong, XDP_PONG, "set", "pong0", "--unclaimed")
            assert res.returncode == 1 and "stacked with br9" in res.stderr, res.stderr
        finally:
            assert stop(proc)[0] == 0
    finally:
        lab.ip(lab.pong, "link", "set", "pong0", "nomaster")
