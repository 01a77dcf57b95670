"""Where things are, and small helpers the test modules share (the fixtures are in conftest.py)."""
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts", "lab"))

from lab import Lab, ethtool_counters, request_frames, sh  # noqa: E402,F401

BUILD = os.path.join(ROOT, "build")
XDP_PONG = os.environ.get("XDP_PONG", os.path.join(BUILD, "xdp-pong"))
ASAN_XDP_PONG = os.path.join(BUILD, "asan", "xdp-pong")
TESTRUN = os.path.join(BUILD, "pong-testrun")
PASS_OBJ = os.path.join(BUILD, "pass.bpf.o")       # an XDP program that passes everything
GEN = os.path.join(BUILD, "pong-gen")
TOOLS = os.path.join(BUILD, "tools")           # prometheus and promtool, unpacked by scripts/deps.sh
PROMETHEUS = os.path.join(TOOLS, "prometheus")
PROMTOOL = os.path.join(TOOLS, "promtool")


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
