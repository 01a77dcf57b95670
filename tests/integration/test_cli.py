"""The CLI's contract: --help everywhere, and bad input gets one clear line on
stderr, a non-zero exit, and leaves nothing attached.

Runs in its own namespace holding a veth pair (native XDP), a bridge (no
native XDP) and loopback (not Ethernet).
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from pylib.lab import ROOT, XDP_PONG, sh  # noqa: E402

PASS_OBJ = os.path.join(ROOT, "build", "pass.bpf.o")


class Netns:
    def __init__(self):
        self.name = f"xpcli{os.getpid() % 100000}"

    def __enter__(self):
        self.__exit__()
        for cmd in (["ip", "netns", "add", self.name],
                    ["ip", "-n", self.name, "link", "add", "a0", "type", "veth", "peer", "name", "b0"],
                    ["ip", "-n", self.name, "link", "add", "c0", "type", "veth", "peer", "name", "d0"],
                    ["ip", "-n", self.name, "link", "add", "br9", "type", "bridge"]):
            res = sh(cmd)
            if res.returncode:
                raise RuntimeError(f"{' '.join(cmd)}: {res.stderr.strip()}")
        for dev in ("a0", "b0", "c0", "d0", "br9", "lo"):
            sh(["ip", "-n", self.name, "link", "set", dev, "up"])
        return self

    def __exit__(self, *exc):
        sh(["ip", "netns", "del", self.name])

    def pong(self, *args, user=None):
        pre = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if user else []
        return sh(["ip", "netns", "exec", self.name, *pre, XDP_PONG, *args])

    def xdp_prog(self, dev):
        out = sh(["ip", "-n", self.name, "-d", "link", "show", dev]).stdout
        if "prog/xdp" not in out:
            return None
        words = out.split("prog/xdp", 1)[1].split()   # "id N name X ..."
        return int(words[1]) if words[0] == "id" else "unparsed: " + out


# args, expected exit status, text the single stderr line must contain
BAD_INPUT = [
    ([], 2, "Usage"),
    (["frobnicate"], 2, "unknown command 'frobnicate'"),
    (["attach"], 2, "no interface given"),
    (["detach"], 2, "no interface given"),
    (["attach", "a0", "--bogus"], 2, "unknown option"),
    (["attach", "a0", "-x"], 2, "unknown option -x"),
    (["attach", "a0", "--ttl"], 2, "--ttl needs a value"),
    (["attach", "a0", "--ttl", "0"], 2, "--ttl must be a whole number from 1 to 255"),
    (["attach", "a0", "--ttl", "256"], 2, "--ttl must be a whole number from 1 to 255"),
    (["attach", "a0", "--ttl", "6x"], 2, "--ttl must be a whole number from 1 to 255"),
    (["attach", "a0", "--mode", "turbo"], 2, "--mode must be native or skb"),
    (["stats", "--json=yes"], 2, "unknown option"),
    (["attach", "nosuch0"], 1, "no such interface: nosuch0"),
    (["attach", "a0", "a0"], 1, "named twice"),
    (["attach", "x" * 40], 1, "no such interface"),
    (["attach", "lo"], 1, "not an Ethernet interface"),
    (["attach", "br9"], 1, "no native XDP support"),
    (["detach", "a0"], 1, "xdp-pong is not attached"),
    (["stats", "a0"], 1, "xdp-pong is not attached"),
    (["stats", "nosuch0"], 1, "no such interface"),
    (["attach"] + [f"x{i}" for i in range(65)], 1, "too many interfaces (65); at most 64"),
    (["status", "--json"], 2, "unknown option"),
    (["attach", "a0", "--prefix", "10.0.0.0/33"], 2, "bad prefix '10.0.0.0/33'"),
    (["attach", "a0", "--prefix", "10.1.2.3/8"], 2, "bits set after the prefix length"),
    (["attach", "a0", "--prefix", "fe80::zz/64"], 2, "bad prefix"),
    (["attach", "a0", "--rate-limit", "fast"], 2, "--rate-limit takes packets per second"),
    (["attach", "a0", "--global-limit", "-5"], 2, "--global-limit takes packets per second"),
    (["prefix"], 2, "want add|del|list|clear IFACE [CIDR]"),
    (["prefix", "move", "a0"], 2, "unknown action 'move': want add, del, list or clear"),
    (["prefix", "clear", "a0", "10.0.0.0/8"], 2, "list and clear take only IFACE"),
    (["prefix", "add", "a0"], 2, "add and del take IFACE CIDR"),
    (["prefix", "add", "a0", "10.0.0.0/8"], 1, "a0: xdp-pong is not attached"),
    (["prefix", "list", "nosuch0"], 1, "no such interface: nosuch0"),
    (["set", "a0"], 2, "nothing to set"),
    (["set", "a0", "--rate-limit", "10"], 1, "a0: xdp-pong is not attached"),
    (["stats", "--count", "3"], 2, "--count goes with --interval"),
    (["stats", "--interval", "0"], 2, "--interval takes seconds"),
    (["stats", "--json", "--prometheus"], 2, "choose one of"),
    (["stats", "--interval", "1", "--prometheus"], 2, "Prometheus computes its own"),
    (["metrics"], 2, "--listen ADDR:PORT is required"),
    (["metrics", "--listen", "localhost"], 2, "--listen wants ADDR:PORT"),
    (["metrics", "--listen", "127.0.0.1:0"], 2, "--listen wants ADDR:PORT"),
    (["detach", "a0", "--ttl", "5"], 2, "unknown option"),
]


def expect_error(t, name, res, code, text):
    lines = res.stderr.strip().splitlines()
    t.check(f"{name}: exit {code}, one stderr line with '{text}'",
            res.returncode == code and len(lines) == 1 and text in lines[0],
            f"exit {res.returncode}, stderr {res.stderr.strip()!r}")


def run(t):
    res = sh([XDP_PONG, "--help"])
    t.check("xdp-pong --help", res.returncode == 0 and "Commands:" in res.stdout, res.stderr)
    for sub in ("attach", "detach", "prefix", "set", "status", "stats", "metrics"):
        res = sh([XDP_PONG, sub, "--help"])
        t.check(f"xdp-pong {sub} --help", res.returncode == 0 and res.stdout.startswith(f"Usage: xdp-pong {sub}"),
                res.stdout + res.stderr)
    res = sh([XDP_PONG, "--version"])
    t.check("xdp-pong --version", res.returncode == 0 and res.stdout.startswith("xdp-pong "), res.stdout)

    with Netns() as ns:
        for args, code, text in BAD_INPUT:
            expect_error(t, "xdp-pong " + " ".join(args), ns.pong(*args), code, text)
        for dev in ("a0", "br9", "lo"):
            t.equal(f"nothing attached to {dev} after the bad calls", ns.xdp_prog(dev), None)

        for args in (["attach", "a0"], ["detach", "a0"], ["stats"], ["status"], ["prefix", "list", "a0"],
                     ["set", "a0", "--global-limit", "5"], ["metrics", "--listen", ":9"]):
            expect_error(t, "not root: xdp-pong " + " ".join(args), ns.pong(*args, user="nobody"), 1,
                         "must be run as root")

        # already attached
        res = ns.pong("attach", "a0", "--ttl", "9")
        t.check("attach a0 --ttl 9", res.returncode == 0, res.stderr)
        prog = ns.xdp_prog("a0")
        t.check("a0 carries a program", isinstance(prog, int), prog)
        expect_error(t, "attach a0 again", ns.pong("attach", "a0"), 1, "already attached")
        t.equal("the first program stays", ns.xdp_prog("a0"), prog)
        status = ns.pong("status", "a0").stdout.splitlines()
        cols = status[1].split() if len(status) == 2 else []
        t.check("status shows a0, native mode, program id and ttl 9",
                cols[:1] == ["a0"] and cols[2:5] == ["native", str(prog), "9"], status)

        # all or nothing: c0 would attach, br9 cannot (no native XDP)
        res = ns.pong("attach", "c0", "br9")
        expect_error(t, "attach c0 br9", res, 1, "br9: its driver has no native XDP support")
        t.equal("c0 rolled back: nothing attached", ns.xdp_prog("c0"), None)
        res = ns.pong("detach", "a0", "c0")
        t.check("detach a0 c0 refused (c0 not attached)", res.returncode == 1 and "c0" in res.stderr, res.stderr)
        t.check("a0 untouched by the refused detach", ns.xdp_prog("a0") == prog)

        # skb mode on a driver without native XDP
        res = ns.pong("attach", "br9", "--mode", "skb")
        t.check("attach br9 --mode skb", res.returncode == 0, res.stderr)
        status = ns.pong("status").stdout
        t.check("status lists a0 native and br9 skb",
                any(l.startswith("a0 ") and " native " in l for l in status.splitlines()) and
                any(l.startswith("br9 ") and " skb " in l for l in status.splitlines()), status)
        res = ns.pong("detach", "a0", "br9")
        t.check("detach a0 br9", res.returncode == 0, res.stderr)
        t.equal("a0 clear", ns.xdp_prog("a0"), None)
        t.equal("br9 clear", ns.xdp_prog("br9"), None)

        # attach where a bpffs is mounted (libxdp tries its dispatcher, falls
        # back); every later command runs where none is (plain ip netns exec)
        res = sh(["ip", "netns", "exec", ns.name, "unshare", "-m", "sh", "-c",
                  f"mount -t bpf bpf /sys/fs/bpf && {XDP_PONG} attach d0"])
        t.check("attach d0 with a bpffs mounted", res.returncode == 0, res.stderr)
        t.check("status without bpffs sees d0", "d0 " in ns.pong("status").stdout)
        res = ns.pong("stats", "d0", "--json")
        t.check("stats without bpffs reads d0's counters", res.returncode == 0 and '"name":"d0"' in res.stdout,
                res.stderr)
        res = ns.pong("detach", "d0")
        t.check("detach without bpffs", res.returncode == 0 and ns.xdp_prog("d0") is None, res.stderr)

        # odd interface names stay valid JSON
        odd = 'q"x\\y'
        res = sh(["ip", "-n", ns.name, "link", "add", odd, "type", "veth", "peer", "name", "oddpeer"])
        if t.check("an interface named q\"x\\y exists", res.returncode == 0, res.stderr):
            sh(["ip", "-n", ns.name, "link", "set", odd, "up"])
            ns.pong("attach", odd, "--mode", "skb")
            for args in (["stats", odd, "--json"], ["stats", odd, "--json", "--interval", "0.2", "--count", "1"]):
                res = ns.pong(*args)
                try:
                    name = json.loads(res.stdout.splitlines()[-1])["interfaces"][0]["name"]
                except (ValueError, IndexError, KeyError):
                    name = None
                t.equal(f"{' '.join(args[2:])}: the name survives JSON", name, odd)
            ns.pong("detach", odd)

        # a foreign XDP program is never replaced nor removed
        sh(["ip", "-n", ns.name, "link", "set", "dev", "a0", "xdpdrv", "obj", PASS_OBJ, "sec", "xdp"])
        foreign = ns.xdp_prog("a0")
        t.check("foreign XDP program attached to a0", isinstance(foreign, int), foreign)
        expect_error(t, "attach over a foreign program", ns.pong("attach", "a0"), 1,
                     f"another XDP program is attached, 'xdp_pass' (id {foreign})")
        expect_error(t, "detach a foreign program", ns.pong("detach", "a0"), 1, "xdp-pong is not attached")
        t.equal("foreign program still attached", ns.xdp_prog("a0"), foreign)
        res = ns.pong("status")
        t.check("status with only a foreign program: none attached",
                "not attached to any interface" in res.stdout, res.stdout)
        sh(["ip", "-n", ns.name, "link", "set", "dev", "a0", "xdpdrv", "off"])

        # libxdp's dispatcher seen without its bpffs: say so instead of "foreign"
        obj = dispatcher_lookalike()
        sh(["ip", "-n", ns.name, "link", "set", "dev", "a0", "xdpdrv", "obj", obj, "sec", "xdp"])
        expect_error(t, "detach where a dispatcher's bpffs is not visible", ns.pong("detach", "a0"), 1,
                     "libxdp's dispatcher")
        sh(["ip", "-n", ns.name, "link", "set", "dev", "a0", "xdpdrv", "off"])


def dispatcher_lookalike():
    """An XDP_PASS program named like libxdp's dispatcher, built for this test."""
    out = os.path.join(ROOT, "build", "test-dispatcher.bpf.o")
    src = out.replace(".o", ".c")
    with open(src, "w") as f:
        f.write('#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n'
                'SEC("xdp") int xdp_dispatcher(struct xdp_md *ctx) { return XDP_PASS; }\n'
                'char LICENSE[] SEC("license") = "GPL";\n')
    res = sh(["clang", "-O2", "-g", "-target", "bpf", "-I/usr/include/" + os.uname().machine + "-linux-gnu",
              "-c", src, "-o", out])
    if res.returncode:
        raise RuntimeError(res.stderr)
    return out
