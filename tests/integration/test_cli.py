"""The CLI's contract: --help everywhere, and bad input gets one clear line on
stderr, a non-zero exit, and leaves nothing attached.

Runs in its own namespace holding a veth pair (native XDP), a bridge (no
native XDP) and loopback (not Ethernet).
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from pylib.lab import ROOT, XDP_PONG, sh  # noqa: E402

PROMTOOL = os.path.join(ROOT, "build", "tools", "promtool")

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
    (["attach", "--unit-instance", "br-lan"], 2, "is not an interface name escaped with systemd-escape"),
    (["attach", "--unit-instance", "a\\x2"], 2, "is not an interface name escaped with systemd-escape"),
    (["attach", "--unit-instance", "nosuch\\x2d0"], 1, "no such interface: nosuch-0"),
    (["detach", "--recorded", "/nonexistent/rec", "a0"], 2, "--recorded FILE takes no interface"),
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

        names_any_bytes(t, ns)
        lock_and_records(t, ns)

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


def names_any_bytes(t, ns):
    """A name with a byte that is not UTF-8 and a control byte: every output stays valid."""
    name = b"n\xe9\x1bx"
    res = subprocess.run([b"ip", b"-n", ns.name.encode(), b"link", b"add", name, b"type", b"veth", b"peer",
                          b"name", b"oddpeer2"], capture_output=True)
    if not t.check("an interface named n\\xe9\\x1bx exists", res.returncode == 0, res.stderr):
        return
    subprocess.run([b"ip", b"-n", ns.name.encode(), b"link", b"set", b"dev", name, b"up"])

    def pong(*args):
        return subprocess.run([b"ip", b"netns", b"exec", ns.name.encode(), XDP_PONG.encode(), *args],
                              capture_output=True, timeout=60)
    res = pong(b"attach", name, b"--mode", b"skb")
    t.check("attach to n\\xe9\\x1bx", res.returncode == 0, res.stderr)
    t.check("attach's lines show the name escaped, no raw control byte",
            b"\x1b" not in res.stdout + res.stderr and b"n\\xe9\\x1bx" in res.stdout, res.stdout + res.stderr)
    for args in ([b"stats", b"--json"], [b"stats", b"--json", b"--interval", b"0.2", b"--count", b"1"]):
        res = pong(*args)
        try:
            doc = json.loads(res.stdout.decode("utf-8").splitlines()[-1])   # strict UTF-8
            entry = next(i for i in doc["interfaces"] if "\ufffd" in i["name"])
        except (ValueError, StopIteration, IndexError) as exc:
            entry = repr(exc)
        t.equal(f"{b' '.join(args).decode()}: valid UTF-8 JSON; the odd byte as U+FFFD, the control byte escaped",
                entry if isinstance(entry, str) else entry["name"], "n\ufffd\x1bx")
    res = pong(b"stats", b"--prometheus")
    check = subprocess.run([PROMTOOL, "check", "metrics"], input=res.stdout, capture_output=True)
    t.check("stats --prometheus with that name: promtool accepts the whole exposition",
            res.returncode == 0 and check.returncode == 0 and "n\ufffd".encode() in res.stdout,
            check.stdout + check.stderr)
    for args in ([b"status"], [b"stats", name]):
        res = pong(*args)
        t.check(f"{b' '.join(args[:1]).decode()}: the table shows the name escaped",
                res.returncode == 0 and b"n\\xe9\\x1bx" in res.stdout and b"\x1b" not in res.stdout, res.stdout)
    res = pong(b"detach", name, name)
    t.check("an error about that name is one escaped line",
            res.returncode == 1 and res.stderr.count(b"\n") == 1 and b"n\\xe9\\x1bx" in res.stderr and
            b"\x1b" not in res.stderr, res.stderr)
    pong(b"detach", name)


def lock_and_records(t, ns):
    res = ns.pong("attach", "a0")
    t.check("attach a0 for the lock and record checks", res.returncode == 0, res.stderr)
    res = sh(["ip", "netns", "exec", ns.name, "unshare", "-m", "sh", "-c",
              f'mount -t tmpfs -o ro tmpfs /run && exec {XDP_PONG} set a0 --rate-limit 5'])
    expect_error(t, "set with /run read-only: no lock, no change", res, 1, "cannot take the lock /run/xdp-pong.lock")
    t.check("the settings were not changed without the lock", "per source off" in ns.pong("status", "a0").stdout)
    res = sh(["ip", "netns", "exec", ns.name, "unshare", "-m", "sh", "-c",
              f'mount -t tmpfs -o ro tmpfs /run && exec {XDP_PONG} prefix add a0 10.0.0.0/8'])
    expect_error(t, "prefix add with /run read-only", res, 1, "cannot take the lock")
    ns.pong("detach", "a0")
    with tempfile.TemporaryDirectory() as tmp:
        rec = os.path.join(tmp, "rec")
        res = ns.pong("detach", "--recorded", rec)
        t.check("detach --recorded with no record: nothing to do, exit 0", res.returncode == 0 and not res.stderr,
                res.stderr)
        with open(rec, "w") as f:
            f.write("garbage\n")
        expect_error(t, "detach --recorded with a malformed record", ns.pong("detach", "--recorded", rec), 1,
                     "not a record of xdp-pong attach --record")
        res = ns.pong("attach", "a0", "c0", "--record", rec)
        ids = [ns.xdp_prog("a0"), ns.xdp_prog("c0")]
        t.check("attach --record writes one line per interface", res.returncode == 0 and
                [int(line.split()[1]) for line in open(rec)] == ids, open(rec).read())
        res = ns.pong("attach", "d0", "--record", os.path.join(tmp, "nodir", "rec"))
        t.check("attach --record into a missing directory fails and attaches nothing",
                res.returncode == 1 and ns.xdp_prog("d0") is None, res.stderr)
        res = ns.pong("detach", "--recorded", rec)
        t.check("detach --recorded detaches both and removes the record",
                res.returncode == 0 and ns.xdp_prog("a0") is None and ns.xdp_prog("c0") is None and
                not os.path.exists(rec), res.stderr)


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
