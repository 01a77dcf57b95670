"""The namespace lab (scripts/lab.sh) as a context manager, plus command helpers.

Every lab gets a unique prefix and is always torn down, also on failure or
interruption (finally + atexit).
"""
import atexit
import json
import os
import subprocess

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
XDP_PONG = os.environ.get("XDP_PONG", os.path.join(ROOT, "build", "xdp-pong"))
LAB = os.path.join(ROOT, "scripts", "lab.sh")


def sh(cmd, timeout=60, **kw):
    """Run a command (list); returns CompletedProcess with text output."""
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, **kw)


class Lab:
    def __init__(self, tag):
        self.prefix = f"xp{tag}{os.getpid() % 100000}"
        self.cli, self.sw, self.pong = (f"{self.prefix}-{x}" for x in ("cli", "sw", "pong"))

    def __enter__(self):
        atexit.register(self.down)
        res = sh([LAB, "up", self.prefix])
        if res.returncode != 0:
            self.down()
            raise RuntimeError(f"lab up failed: {res.stderr.strip()}")
        return self

    def __exit__(self, *exc):
        self.down()

    def down(self):
        sh([LAB, "down", self.prefix])

    def ns(self, ns, *cmd, timeout=60):
        return sh(["ip", "netns", "exec", ns, *cmd], timeout=timeout)

    def client(self, *cmd, timeout=60):
        return self.ns(self.cli, *cmd, timeout=timeout)

    def pong_cli(self, *args):
        """xdp-pong run inside the responder's namespace (no bpffs there)."""
        return self.ns(self.pong, XDP_PONG, *args)

    def stats(self, iface="pong0"):
        res = self.pong_cli("stats", iface, "--json")
        if res.returncode != 0:
            raise RuntimeError(f"stats failed: {res.stderr.strip()}")
        (entry,) = json.loads(res.stdout)["interfaces"]
        return entry

    def mac(self, ns, iface):
        res = self.ns(ns, "cat", f"/sys/class/net/{iface}/address")
        return res.stdout.strip()


def delta(before, after, path):
    """after - before for a (section, name) pair of a stats entry, as (packets, bytes)."""
    sec, name = path
    a, b = after[sec][name], before[sec][name]
    return (a["packets"] - b["packets"], a["bytes"] - b["bytes"])
