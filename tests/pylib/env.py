"""Where things are, and small helpers the test modules share (the fixtures are in conftest.py)."""
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts", "lab"))

from lab import CLIENT_IP, CLIENT_IP6, Lab, ethtool_counters, request_frames, sh  # noqa: E402,F401

BUILD = os.path.join(ROOT, "build")
XDP_PONG = os.environ.get("XDP_PONG", os.path.join(BUILD, "xdp-pong"))
ASAN_XDP_PONG = os.path.join(BUILD, "asan", "xdp-pong")
TESTRUN = os.path.join(BUILD, "pong-testrun")
PASS_OBJ = os.path.join(BUILD, "pass.bpf.o")       # an XDP program that passes everything
GEN = os.path.join(BUILD, "pong-gen")
TOOLS = os.path.join(BUILD, "tools")           # prometheus and promtool, unpacked by scripts/deps.sh
PROMETHEUS = os.path.join(TOOLS, "prometheus")
PROMTOOL = os.path.join(TOOLS, "promtool")


def scrape(lab, ns, port):
    """GET http://127.0.0.1:PORT/metrics from inside namespace ns: the text."""
    res = lab.run(ns, "/usr/bin/python3", "-c",
                  f"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:{port}/metrics', "
                  f"timeout=5).read().decode())")
    assert res.returncode == 0, res.stderr
    return res.stdout


def metric(text, name, **labels):
    """The value of the first series NAME{...} whose labels include LABELS, or None."""
    for line in text.splitlines():
        m = re.match(r"^(\w+)\{(.*)\} (\S+)$", line)
        if m and m.group(1) == name and all(f'{k}="{v}"' in m.group(2) for k, v in labels.items()):
            return float(m.group(3))
    return None


def answers_and_reports(lab, prog, port):
    """The bridge lab's client gets 3 echo replies from the responder, whose /metrics
    (on 127.0.0.1:port in its namespace) shows the interface up, its program, the replies."""
    res = lab.run(lab.cli, "ping", "-c", "3", "-i", "0.2", "-W", "2", "198.51.100.1")
    assert res.returncode == 0 and "3 received" in res.stdout, res.stdout
    text = scrape(lab, lab.pong, port)
    assert metric(text, "xdp_pong_up", interface="pong0") == 1
    assert metric(text, "xdp_pong_info", interface="pong0", prog_id=str(prog), mode="native") == 1
    assert metric(text, "xdp_pong_replies_total", interface="pong0", kind="echo4") >= 3


def apt_sources():
    """This machine's apt sources, as files for mmdebstrap (one-line .list or deb822
    .sources, whatever their names): the roots it makes use the same mirrors. Empty:
    mmdebstrap's default mirror."""
    files = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")) + \
        sorted(glob.glob("/etc/apt/sources.list.d/*.sources"))
    return [f for f in files if os.path.isfile(f) and os.path.getsize(f) > 0]


def unique(tag):
    """A namespace prefix no other run on this machine uses."""
    return f"xp{tag}{os.getpid() % 100000}"


def delta(before, after, path):
    """after - before for a (section, name) pair of a stats entry, as (packets, bytes)."""
    sec, name = path
    a, b = after[sec][name], before[sec][name]
    return (a["packets"] - b["packets"], a["bytes"] - b["bytes"])


def bytes_sh(cmd, timeout=60, **kw):
    """Run a command given as bytes (names may hold any byte); bytes output."""
    return subprocess.run(cmd, capture_output=True, timeout=timeout, check=False, **kw)


SEND = """
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for line in sys.stdin:
    s.send(bytes.fromhex(line.strip()))
"""


def send_frames(lab, ns, dev, frames):
    """Frames (bytes, or scapy packets) sent as they are from ns's dev, through a packet socket:
    spoofed senders, tags, frames no client would make."""
    res = lab.run(ns, "/usr/bin/python3", "-c", SEND, dev, input="".join(bytes(f).hex() + "\n" for f in frames),
                  timeout=120)
    assert res.returncode == 0, res.stderr
