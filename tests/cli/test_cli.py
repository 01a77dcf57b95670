"""The CLI's contract: --help everywhere, and bad input gets one clear line on
stderr, a non-zero exit, and leaves nothing attached. Every test runs twice:
with build/xdp-pong, and with build/asan/xdp-pong (AddressSanitizer and
UndefinedBehaviorSanitizer, leak checks on), where any sanitizer report
fails the test.

Each test gets its own namespace holding a veth pair (native XDP) a0/b0,
another c0/d0, a bridge br9 (no native XDP) and loopback (not Ethernet).
"""
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile

import pytest

from pylib import libxdp
from pylib.env import ASAN_XDP_PONG, BUILD, PASS_OBJ, PROMTOOL, XDP_PONG, bytes_sh, delta, send_frames, sh
from pylib.frames import ANY_IP, CLIENT_IP, IP, UDP, Raw, echo4, l2
from pylib.kernel import kernel_has

SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "runtime error:")
ASAN_ENV = {"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=99",
            "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:exitcode=99"}


class CLI:
    """xdp-pong (one of the two builds) run in a namespace; sanitizer reports are failures."""

    def __init__(self, binary, lab):
        self.binary, self.lab, self.ns = binary, lab, lab.ns_name
        self.env = dict(os.environ, **ASAN_ENV) if binary == ASAN_XDP_PONG else None

    def _watch(self, res, args):
        err = res.stderr if isinstance(res.stderr, str) else res.stderr.decode("utf-8", "replace")
        assert not any(m in err for m in SANITIZER_MARKS), f"sanitizer report for {args}: {err[:800]}"
        return res

    def __call__(self, *args, user=None, timeout=60, env=None):
        pre = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if user else []
        env = dict(self.env or os.environ, **env) if env else self.env
        return self._watch(sh(["ip", "netns", "exec", self.ns, *pre, self.binary, *args], env=env,
                              timeout=timeout), args)

    def raw(self, *args):
        """With bytes arguments and output (names with any byte)."""
        return self._watch(bytes_sh([b"ip", b"netns", b"exec", self.ns.encode(), self.binary.encode(), *args],
                                    env=self.env), args)

    def shell(self, script, *args):
        """A shell script in the namespace, $0 being xdp-pong."""
        return self._watch(sh(["ip", "netns", "exec", self.ns, "unshare", "-m", "sh", "-c", script, self.binary,
                               *args], env=self.env), script)

    def xdp_prog(self, dev):
        return self.lab.xdp_prog(self.ns, dev)


@pytest.fixture(params=[XDP_PONG, ASAN_XDP_PONG], ids=["plain", "asan"])
def binary(request):
    assert os.access(request.param, os.X_OK), f"{request.param} missing: run make first"
    return request.param


@pytest.fixture
def cli(binary, netns):
    for cmd in (["link", "add", "a0", "type", "veth", "peer", "name", "b0"],
                ["link", "add", "c0", "type", "veth", "peer", "name", "d0"],
                ["link", "add", "br9", "type", "bridge"]):
        netns.ip(netns.ns_name, *cmd)
    for dev in ("a0", "b0", "c0", "d0", "br9"):
        netns.ip(netns.ns_name, "link", "set", dev, "up")
    return CLI(binary, netns)


def expect_error(res, code, text):
    lines = res.stderr.strip().splitlines()
    assert res.returncode == code and len(lines) == 1 and text in lines[0], \
        f"exit {res.returncode}, stderr {res.stderr.strip()!r}; want exit {code} and one line with {text!r}"


def subcommands():
    """Every command, as `xdp-pong --help` lists them (a command added there is tested here);
    none without a build (test_help_lists_the_commands then says so)."""
    if not os.access(XDP_PONG, os.X_OK):
        return []
    out = subprocess.run([XDP_PONG, "--help"], capture_output=True, text=True).stdout
    return re.findall(r"^  (\w+) ", out.split("Commands:", 1)[-1], re.M)


SUBCOMMANDS = subcommands()


def test_help_lists_the_commands():
    assert set(SUBCOMMANDS) >= {"attach", "run", "detach", "prefix", "set", "claims", "status", "stats",
                                "metrics"}, SUBCOMMANDS

# args, expected exit status, text the single stderr line must contain
BAD_INPUT = [
    ([], 2, "Usage"),
    (["frobnicate"], 2, "unknown command 'frobnicate'"),
    (["attach"], 2, "no interface given"),
    (["detach"], 2, "no interface given"),
    (["attach", "a0", "--bogus"], 2, "unknown option"),
    (["attach", "a0", "-x"], 2, "unknown option -x"),
    (["attach", "a0", "--ttl"], 2, "--ttl needs a value"),
    (["attach", "a0", "--ttl", "0"], 2, "--ttl takes a whole number from 1 to 255"),
    (["attach", "a0", "--ttl", "256"], 2, "--ttl takes a whole number from 1 to 255"),
    (["attach", "a0", "--ttl", "6x"], 2, "--ttl takes a whole number from 1 to 255"),
    (["attach", "a0", "--mode", "turbo"], 2, "--mode takes native or skb"),
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
    (["status", "--prometheus"], 2, "unknown option"),
    (["run"], 2, "no interface given"),
    (["run", "a0", "--record", "/tmp/x"], 2, "unknown option"),
    (["run", "nosuch0"], 1, "no such interface: nosuch0"),
    (["run", "lo"], 1, "not an Ethernet interface"),
    (["run", "a0", "--metrics", "nonsense"], 2, "--metrics wants ADDR:PORT"),
    (["metrics", "nosuch0", "--listen", "127.0.0.1:9"], 1, "no such interface: nosuch0"),
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
    (["attach", "a0", "--record", "/tmp/a", "--record", "/tmp/b"], 2, "--record given twice"),
    (["stats", "--json", "-xj"], 2, "unknown option -x"),
    (["set", "a0", "--unclaimed=maybe"], 2, "--unclaimed takes on or off"),
    (["attach", "a0", "--claim-after", "3/5"], 2, "unknown option"),
    (["attach", "a0", "--unclaimed"], 2, "use 'xdp-pong run --unclaimed'"),
    (["claims"], 2, "want one interface"),
    (["claims", "a0"], 1, "a0: xdp-pong is not attached"),
    (["attach", "a0", "--answer", "udp,icmp"], 2, "--answer 'udp,icmp' takes kinds joined by commas"),
    (["attach", "a0", "--answer", ""], 2, "--answer '' takes kinds"),
    (["attach", "a0", "--answer", "udp,"], 2, "--answer 'udp,' takes kinds"),
    (["attach", "a0", "--answer", "udp"], 2, "--answer udp needs --prefix"),
    (["run", "a0", "--answer", "tcp,timestamp"], 2, "--answer tcp,timestamp needs --prefix"),
    (["run", "a0", "--unclaimed", "--answer", "udp"], 2, "--answer udp needs --prefix"),
    (["attach", "a0", "--icmp-ratelimit", "soon"], 2, "--icmp-ratelimit takes"),
    (["set", "a0", "--answer", "udp"], 1, "a0: xdp-pong is not attached"),
]

# An option's range as its error states it (made from its row in options.c): the ends are taken, a step past
# either is refused with that error. Taken, the call goes on to fail on the missing interface (exit 1).
RANGES = [
    (["attach", "nosuch0", "--ttl"], "1", "255", ["0", "256"]),
    (["attach", "nosuch0", "--rate-limit"], "0", "100000000", ["-1", "100000001"]),
    (["attach", "nosuch0", "--global-limit"], "0", "100000000", ["-1", "100000001", "5/source"]),
    (["stats", "nosuch0", "--interval"], "0.1", "3600", ["0.09", "3600.5"]),
    (["stats", "nosuch0", "--interval", "1", "--count"], "1", None, ["0"]),
    (["attach", "nosuch0", "--prefix", "10.0.0.0/8", "--icmp-ratelimit"], "0", "60000", ["-1", "60001"]),
]


@pytest.mark.parametrize("args,low,high,beyond", RANGES, ids=[" ".join(r[0][2:]) for r in RANGES])
def test_option_range_as_stated(cli, args, low, high, beyond):
    opt = args[-1]
    res = cli(*args, beyond[0])
    stated = re.search(rf"{opt} takes [a-z ]+ (?:from ([^\s,]+) to ([^\s,]+)|of at least ([^\s,]+))", res.stderr)
    assert res.returncode == 2 and stated, res.stderr
    assert (stated.group(1) or stated.group(3), stated.group(2)) == (low, high), f"the error states the range: {res.stderr}"
    for value in [low] + ([high] if high else []):
        expect_error(cli(*args, value), 1, "no such interface: nosuch0")
    for value in beyond:
        expect_error(cli(*args, value), 2, stated.group(0).strip())


# Every command's interfaces are checked before the command runs (even before it asks for root): too many is
# refused alike everywhere, and the wrong number where one is wanted.
OPERANDS = [(cmd, [f"x{i}" for i in range(65)], 1, "too many interfaces (65); at most 64")
            for cmd in (["attach"], ["run"], ["detach"], ["set", "--rate-limit", "5"], ["status"], ["stats"],
                        ["metrics", "--listen", ":9"])] + [
    (["claims"], ["a0", "c0"], 2, "want one interface"),
    (["prefix", "list"], ["a0", "c0"], 2, "list and clear take only IFACE"),
    (["detach", "--recorded", "/nonexistent/rec"], ["a0"], 2, "--recorded FILE takes no interface"),
]


@pytest.mark.parametrize("cmd,ifaces,code,text", OPERANDS, ids=[" ".join(o[0]) for o in OPERANDS])
def test_operands_checked_first(cli, cmd, ifaces, code, text):
    expect_error(cli(*cmd, *ifaces, user="nobody"), code, text)


NOT_ROOT = [["attach", "a0"], ["detach", "a0"], ["stats"], ["status"], ["prefix", "list", "a0"],
            ["set", "a0", "--global-limit", "5"], ["metrics", "--listen", ":9"]]


def test_help(binary):
    res = sh([binary, "--help"])
    assert res.returncode == 0 and "Commands:" in res.stdout, res.stderr
    res = sh([binary, "--version"])
    assert res.returncode == 0 and res.stdout.startswith("xdp-pong "), res.stdout


@pytest.mark.parametrize("sub", SUBCOMMANDS)
def test_subcommand_help(binary, sub):
    res = sh([binary, sub, "--help"])
    assert res.returncode == 0 and res.stdout.startswith(f"Usage: xdp-pong {sub}"), res.stdout + res.stderr


@pytest.mark.parametrize("args,code,text", BAD_INPUT, ids=[" ".join(a)[:60] or "no args" for a, _, _ in BAD_INPUT])
def test_bad_input(cli, args, code, text):
    expect_error(cli(*args), code, text)
    for dev in ("a0", "br9", "lo"):
        assert cli.xdp_prog(dev) is None, f"{dev} got a program from a bad call"


@pytest.mark.parametrize("args", NOT_ROOT, ids=[" ".join(a) for a in NOT_ROOT])
def test_not_root(cli, args):
    expect_error(cli(*args, user="nobody"), 1, "must be run as root")


def test_already_attached_and_all_or_nothing(cli):
    res = cli("attach", "a0", "--ttl", "9")
    assert res.returncode == 0, res.stderr
    prog = cli.xdp_prog("a0")
    assert isinstance(prog, int), "a0 carries a program"
    expect_error(cli("attach", "a0"), 1, "already attached")
    assert cli.xdp_prog("a0") == prog, "the first program stays"
    status = cli("status", "a0").stdout.splitlines()
    cols = status[1].split() if len(status) == 2 else []
    assert cols[:1] == ["a0"] and cols[2:5] == ["native", str(prog), "9"], status

    # all or nothing: c0 would attach, br9 cannot (no native XDP)
    expect_error(cli("attach", "c0", "br9"), 1, "br9: its driver has no native XDP support")
    assert cli.xdp_prog("c0") is None, "c0 rolled back: nothing attached"
    res = cli("detach", "a0", "c0")
    assert res.returncode == 1 and "c0" in res.stderr, "detach a0 c0 refused (c0 not attached)"
    assert cli.xdp_prog("a0") == prog, "a0 untouched by the refused detach"


def test_skb_mode(cli):
    assert cli("attach", "a0").returncode == 0
    res = cli("attach", "br9", "--mode", "skb")
    assert res.returncode == 0, res.stderr
    lines = cli("status").stdout.splitlines()
    assert any(line.startswith("a0 ") and " native " in line for line in lines) and \
        any(line.startswith("br9 ") and " skb " in line for line in lines), lines
    res = cli("detach", "a0", "br9")
    assert res.returncode == 0, res.stderr
    assert cli.xdp_prog("a0") is None and cli.xdp_prog("br9") is None


def test_bpffs_at_attach_only(cli):
    """attach where a bpffs is mounted (libxdp tries its dispatcher, falls back);
    every later command runs where none is (plain ip netns exec)."""
    res = cli.shell('mount -t bpf bpf /sys/fs/bpf && "$0" attach d0')
    assert res.returncode == 0, res.stderr
    assert "d0 " in cli("status").stdout, "status without bpffs sees d0"
    res = cli("stats", "d0", "--json")
    assert res.returncode == 0 and '"name":"d0"' in res.stdout, res.stderr
    res = cli("detach", "d0")
    assert res.returncode == 0 and cli.xdp_prog("d0") is None, res.stderr


def test_odd_name_survives_json(cli):
    odd = 'q"x\\y'
    cli.lab.ip(cli.ns, "link", "add", odd, "type", "veth", "peer", "name", "oddpeer")
    cli.lab.ip(cli.ns, "link", "set", odd, "up")
    assert cli("attach", odd, "--mode", "skb").returncode == 0
    for args in (["stats", odd, "--json"], ["stats", odd, "--json", "--interval", "0.2", "--count", "1"]):
        res = cli(*args)
        name = json.loads(res.stdout.splitlines()[-1])["interfaces"][0]["name"]
        assert name == odd, f"{' '.join(args[2:])}: the name survives JSON"


def test_names_with_any_byte(cli):
    """A byte that is not UTF-8 and a control byte: every output stays valid."""
    name = b"n\xe9\x1bx"
    assert bytes_sh([b"ip", b"-n", cli.ns.encode(), b"link", b"add", name, b"type", b"veth", b"peer", b"name",
                     b"oddpeer2"]).returncode == 0
    bytes_sh([b"ip", b"-n", cli.ns.encode(), b"link", b"set", b"dev", name, b"up"])
    res = cli.raw(b"attach", name, b"--mode", b"skb")
    assert res.returncode == 0, res.stderr
    assert b"\x1b" not in res.stdout + res.stderr and b"n\\xe9\\x1bx" in res.stdout, \
        "attach's lines show the name escaped, no raw control byte"
    for args in ([b"stats", b"--json"], [b"stats", b"--json", b"--interval", b"0.2", b"--count", b"1"]):
        doc = json.loads(cli.raw(*args).stdout.decode("utf-8").splitlines()[-1])   # strict UTF-8
        names = [i["name"] for i in doc["interfaces"]]
        assert "n\ufffd\x1bx" in names, f"{args}: the odd byte as U+FFFD, the control byte escaped: {names}"
    res = cli.raw(b"stats", b"--prometheus")
    check = subprocess.run([PROMTOOL, "check", "metrics"], input=res.stdout, capture_output=True)
    assert res.returncode == 0 and check.returncode == 0 and b'interface="n\\\\xe9\\\\x1bx"' in res.stdout, \
        check.stdout + check.stderr
    for args in ([b"status"], [b"stats", name]):
        res = cli.raw(*args)
        assert res.returncode == 0 and b"n\\xe9\\x1bx" in res.stdout and b"\x1b" not in res.stdout, res.stdout
    res = cli.raw(b"detach", name, name)
    assert res.returncode == 1 and res.stderr.count(b"\n") == 1 and b"n\\xe9\\x1bx" in res.stderr and \
        b"\x1b" not in res.stderr, res.stderr
    cli.raw(b"detach", name)
    # valid UTF-8 that a terminal obeys: CSI as a C1 control (U+009B), a right-to-left override (U+202E)
    name = b"c\xc2\x9b2J\xe2\x80\xae"
    assert bytes_sh([b"ip", b"-n", cli.ns.encode(), b"link", b"add", name, b"type", b"veth", b"peer", b"name",
                     b"oddpeer3"]).returncode == 0
    bytes_sh([b"ip", b"-n", cli.ns.encode(), b"link", b"set", b"dev", name, b"up"])
    res = cli.raw(b"attach", name, b"--mode", b"skb")
    out = res.stdout + res.stderr + cli.raw(b"status").stdout + cli.raw(b"prefix", b"list", name).stdout
    assert b"\xc2\x9b" not in out and b"\xe2\x80\xae" not in out and b"c\\xc2\\x9b2J\\xe2\\x80\\xae" in out, out
    cli.raw(b"detach", name)


def test_no_lock_no_change(cli):
    assert cli("attach", "a0").returncode == 0
    res = cli.shell('mount -t tmpfs -o ro tmpfs /run && exec "$0" set a0 --rate-limit 5')
    expect_error(res, 1, "cannot take the lock /run/xdp-pong.lock")
    assert "per source off" in cli("status", "a0").stdout, "the settings were not changed without the lock"
    res = cli.shell('mount -t tmpfs -o ro tmpfs /run && exec "$0" prefix add a0 10.0.0.0/8')
    expect_error(res, 1, "cannot take the lock")


def test_set_writes_each_interface_once(cli, tmp_path):
    """`set` changes each interface's settings in one write, limits and --unclaimed together: the datapath
    never sees the new limits with the old --unclaimed (issue 18). Counted as the bpf() map updates it makes."""
    assert shutil.which("strace"), "strace missing: run scripts/deps.sh check"
    assert cli("attach", "a0", "c0").returncode == 0
    trace = tmp_path / "set.strace"
    # LeakSanitizer cannot run under ptrace: the other checks of the asan build still do
    res = cli.shell('ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:exitcode=99 exec strace -f -qq -e trace=bpf '
                    '-e signal=none -o "$1" "$0" set a0 c0 --rate-limit 5 --global-limit 9 --unclaimed=off',
                    str(trace))
    assert res.returncode == 0 and res.stdout.count("limits: per source 5 pps, global 9 pps") == 2, \
        res.stdout + res.stderr
    updates = [line for line in trace.read_text().splitlines() if "bpf(BPF_MAP_UPDATE_ELEM" in line]
    assert len(updates) == 2, f"one write per interface, not {len(updates)}: {updates}"
    assert "per source 5 pps" in cli("status", "c0").stdout
    # an interface named twice is refused, as attach refuses it, and nothing is written
    expect_error(cli("set", "a0", "c0", "a0", "--rate-limit", "7"), 1, "interface a0 named twice")
    assert "per source 5 pps" in cli("status", "a0").stdout and "per source 5 pps" in cli("status", "c0").stdout


def test_settings_of_another_layout_refused(cli):
    """A program whose settings have another layout (another xdp-pong version) is refused, not rewritten:
    a CLI that does not know a field would leave it stale (issue 12: a stale 'active' bypasses the policy)."""
    assert cli("attach", "a0").returncode == 0
    prog = json.loads(subprocess.run(["bpftool", "-j", "prog", "show", "id", str(cli.xdp_prog("a0"))],
                                     capture_output=True, text=True, check=True).stdout)
    settings = next(m for m in (json.loads(subprocess.run(["bpftool", "-j", "map", "show", "id", str(i)],
                                                          capture_output=True, text=True, check=True).stdout)
                                for i in prog["map_ids"])
                    if m["name"].endswith(".data.settings"))
    value = bytearray(settings["bytes_value"])
    struct.pack_into("<I", value, len(value) - 4, 1)     # the last field, layout: 1 is not PONG_SETTINGS_LAYOUT
    subprocess.run(["bpftool", "map", "update", "id", str(settings["id"]), "key", "0", "0", "0", "0", "value",
                    *[str(b) for b in value]], check=True)
    expect_error(cli("set", "a0", "--rate-limit", "5"), 1, "from another xdp-pong version")
    expect_error(cli("prefix", "add", "a0", "10.0.0.0/8"), 1, "from another xdp-pong version")


def test_records(cli):
    with tempfile.TemporaryDirectory() as tmp:
        rec = os.path.join(tmp, "rec")
        res = cli("detach", "--recorded", rec)
        assert res.returncode == 0 and not res.stderr, "no record: nothing to do"
        with open(rec, "w") as f:
            f.write("garbage\n")
        expect_error(cli("detach", "--recorded", rec), 1, "not a record of xdp-pong attach --record")
        assert open(rec).read() == "garbage\n", "a bad record is left as it was"
        os.unlink(rec)
        # a FIFO (or a directory) in the record's place: refused at once, never waited on
        os.mkfifo(rec)
        res = cli("detach", "--recorded", rec, timeout=10)
        expect_error(res, 1, "not a regular file")
        os.unlink(rec)
        os.mkdir(rec)
        expect_error(cli("detach", "--recorded", rec, timeout=10), 1, "not a regular file")
        os.rmdir(rec)
        res = cli("attach", "a0", "c0", "--record", rec)
        ids = [cli.xdp_prog("a0"), cli.xdp_prog("c0")]
        assert res.returncode == 0 and [int(line.split()[1]) for line in open(rec)] == ids, open(rec).read()
        expect_error(cli("attach", "b0", "--record", rec), 1, "it exists (detach --recorded it first)")
        assert cli.xdp_prog("b0") is None, "an existing record: nothing attached"
        res = cli("attach", "d0", "--record", os.path.join(tmp, "nodir", "rec"))
        assert res.returncode == 1 and cli.xdp_prog("d0") is None, "a record that cannot be written: nothing attached"
        res = cli("detach", "--recorded", rec)
        assert res.returncode == 0 and cli.xdp_prog("a0") is None and cli.xdp_prog("c0") is None and \
            not os.path.exists(rec), res.stderr


def test_foreign_program(cli):
    """A foreign XDP program is never replaced nor removed."""
    cli.lab.ip(cli.ns, "link", "set", "dev", "a0", "xdpdrv", "obj", PASS_OBJ, "sec", "xdp")
    foreign = cli.xdp_prog("a0")
    assert isinstance(foreign, int)
    expect_error(cli("attach", "a0"), 1, f"another XDP program is attached, 'xdp_pass' (id {foreign})")
    expect_error(cli("detach", "a0"), 1, "xdp-pong is not attached")
    assert cli.xdp_prog("a0") == foreign, "foreign program still attached"
    res = cli("status")
    assert "not attached to any interface" in res.stdout, res.stdout


def build_xdp(tmp_path, name, body):
    """A small XDP object for a test, compiled as make compiles the datapath's (kernel and libbpf headers
    only): its path."""
    src, obj = tmp_path / f"{name}.bpf.c", tmp_path / f"{name}.bpf.o"
    src.write_text('#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n' + body +
                   'char LICENSE[] SEC("license") = "GPL";\n')
    res = sh(["clang", "-O2", "-g", "-target", "bpf", "-nostdinc", "-isystem", os.path.join(BUILD, "bpf-include"),
              "-c", str(src), "-o", str(obj)])
    assert res.returncode == 0, res.stderr
    return str(obj)


def test_dispatcher_without_its_bpffs(cli, tmp_path):
    """libxdp's dispatcher seen without its bpffs: say so instead of "foreign"."""
    obj = build_xdp(tmp_path, "dispatcher", 'SEC("xdp") int xdp_dispatcher(struct xdp_md *ctx) { return XDP_PASS; }\n')
    cli.lab.ip(cli.ns, "link", "set", "dev", "a0", "xdpdrv", "obj", obj, "sec", "xdp")
    expect_error(cli("detach", "a0"), 1, "libxdp's dispatcher")


# Another tool's XDP program: it counts every frame it sees, and passes it on.
COUNTER = """struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32);
         __type(value, __u64); } seen SEC(".maps");
SEC("xdp") int xdp_count(struct xdp_md *ctx)
{
    __u32 key = 0;
    __u64 *n = bpf_map_lookup_elem(&seen, &key);

    if (n)
        __sync_fetch_and_add(n, 1);
    return XDP_PASS;
}
"""


def counted(prog_id):
    """How many frames the counter (program prog_id) has seen."""
    info = json.loads(sh(["bpftool", "--json", "prog", "show", "id", str(prog_id)]).stdout)
    (map_id,) = info["map_ids"]
    (entry,) = json.loads(sh(["bpftool", "--json", "map", "dump", "id", str(map_id)]).stdout)
    value = entry.get("formatted", entry)["value"]
    return value if isinstance(value, int) else int.from_bytes(bytes(int(b, 16) for b in value), "little")


def test_beside_another_program_through_libxdp(cli, tmp_path):
    """xdp-pong beside another tool's XDP program, which libxdp attached to a0 (with a bpffs, where
    libxdp keeps its dispatcher). Which branch runs depends on the kernel, and the run says which
    (pylib/kernel.py): nothing skips.

    Where libxdp's dispatcher loads: attach joins it and runs first (priority 10, the counter 50),
    status --json says shared, both programs run (xdp-pong answers the echo requests, the counter sees
    the datagrams xdp-pong passes on), and detach removes xdp-pong alone: the counter still runs.

    Where it does not (this kernel refuses freplace with EPERM): libxdp attached the counter alone,
    attach refuses to replace it and leaves it running; on a free interface xdp-pong attaches alone
    (the kernel's program is xdp_pong itself, status --json says shared false, --verbose shows
    libxdp's fallback) and answers."""
    counter_obj = build_xdp(tmp_path, "count", COUNTER)
    shared = kernel_has(libxdp.DISPATCHER, libxdp.dispatcher_probe)

    with libxdp.bpffs() as fs:
        env = {"LIBXDP_BPFFS": fs}

        def seen(dev):
            code, out, err = libxdp.run(cli.lab, cli.ns, fs, "list", dev)
            assert code == 0, f"libxdp cannot list {dev}: {out} {err}"
            return out

        def status(dev):
            res = cli("status", "--json", env=env)
            assert res.returncode == 0, res.stderr
            return next(i for i in json.loads(res.stdout)["interfaces"] if i["name"] == dev)

        def stats(dev):
            res = cli("stats", dev, "--json", env=env)
            assert res.returncode == 0, res.stderr
            return json.loads(res.stdout)["interfaces"][0]

        def echoes(dev):      # three echo requests to dev, from its peer
            return [echo4(dst=cli.lab.mac(cli.ns, dev), seq=i) for i in range(3)]

        def datagrams(dev):   # five frames xdp-pong passes on
            return [l2(dst=cli.lab.mac(cli.ns, dev)) / IP(src=CLIENT_IP, dst=ANY_IP) / UDP(dport=9) / Raw(b"z")] * 5

        code, out, err = libxdp.run(cli.lab, cli.ns, fs, "attach", "a0", counter_obj, "xdp")
        assert code == 0, f"libxdp did not attach the counter: {out} {err}"
        on_a0 = seen("a0")
        assert [name for name, _ in on_a0["programs"]] == ["xdp_count"], on_a0
        counter = on_a0["programs"][0][1]

        if shared:
            assert on_a0["dispatcher"], f"the probe found the dispatcher, a0 has none: {on_a0}"
            res = cli("attach", "a0", env=env)
            assert res.returncode == 0, res.stderr
            assert [name for name, _ in seen("a0")["programs"]] == ["xdp_pong", "xdp_count"], \
                "xdp-pong joined the dispatcher, first"
            assert status("a0")["attached"] and status("a0")["shared"] is True
            before, count = stats("a0"), counted(counter)
            send_frames(cli.lab, cli.ns, "b0", echoes("a0") + datagrams("a0"))
            assert delta(before, stats("a0"), ("counters", "echo4"))[0] == 3, "xdp-pong answered, first"
            assert counted(counter) - count >= 5, "the counter saw what xdp-pong passed on"
            res = cli("detach", "a0", env=env)
            assert res.returncode == 0, res.stderr
            assert [name for name, _ in seen("a0")["programs"]] == ["xdp_count"], "detach removed xdp-pong alone"
            assert not status("a0")["attached"]
            count = counted(counter)
            send_frames(cli.lab, cli.ns, "b0", datagrams("a0"))
            assert counted(counter) - count >= 5, "the counter still runs"
            return

        # libxdp could not load its dispatcher: it attached the counter alone, as the program itself
        assert on_a0["dispatcher"] is None and cli.xdp_prog("a0") == counter, on_a0
        expect_error(cli("attach", "a0", env=env), 1,
                     f"a0: another XDP program is attached, 'xdp_count' (id {counter}); xdp-pong will not replace it")
        assert cli.xdp_prog("a0") == counter, "the counter is still attached"
        count = counted(counter)
        send_frames(cli.lab, cli.ns, "b0", datagrams("a0"))
        assert counted(counter) - count >= 5, "the counter still runs"

        res = cli("attach", "c0", "--verbose", env=env)
        assert res.returncode == 0, res.stderr
        assert "Falling back to loading single prog without dispatcher" in res.stderr, \
            "with --verbose, xdp-pong shows libxdp's fallback"
        on_c0 = seen("c0")
        assert on_c0["dispatcher"] is None and [name for name, _ in on_c0["programs"]] == ["xdp_pong"], on_c0
        assert cli.xdp_prog("c0") == on_c0["programs"][0][1], "the kernel runs xdp_pong itself on c0"
        assert status("c0")["attached"] and status("c0")["shared"] is False
        before = stats("c0")
        send_frames(cli.lab, cli.ns, "d0", echoes("c0"))
        assert delta(before, stats("c0"), ("counters", "echo4"))[0] == 3, "xdp-pong alone answers"
        res = cli("detach", "c0", env=env)
        assert res.returncode == 0, res.stderr
        assert cli.xdp_prog("c0") is None and cli.xdp_prog("a0") == counter, "detach removed xdp-pong alone"


def test_success_paths(cli, tmp_path):
    """The commands that succeed, each once (under ASan too): prefix, set, status,
    stats in every format, stats --interval, metrics with a scrape, detach."""
    def ok(res):
        assert res.returncode == 0, f"{res.args}: {res.stderr}"
        return res

    ok(cli("attach", "a0", "--prefix", "10.0.0.0/8", "--rate-limit", "100"))
    ok(cli("prefix", "add", "a0", "2001:db8::/32"))
    assert cli("prefix", "list", "a0").stdout.split() == ["10.0.0.0/8", "2001:db8::/32"]
    ok(cli("prefix", "del", "a0", "10.0.0.0/8"))
    ok(cli("prefix", "clear", "a0"))
    assert "global 7 pps" in ok(cli("set", "a0", "--global-limit", "7")).stdout
    assert "global 7 pps" in ok(cli("status")).stdout
    for fmt in ([], ["--json"], ["--prometheus"], ["--textfile", str(tmp_path / "x.prom")]):
        ok(cli("stats", *fmt))
    lines = cli("stats", "--interval", "0.2", "--count", "2", "--json").stdout.splitlines()
    assert len(lines) == 2 and all("rates" in line for line in lines), lines
    res = cli.shell('"$0" metrics --listen 127.0.0.1:9109 & pid=$!; sleep 0.5; '
                    '/usr/bin/python3 -c "import urllib.request as u; print(u.urlopen(\'http://127.0.0.1:9109/metrics\', '
                    'timeout=5).read().decode())"; kill -TERM $pid; wait $pid')
    assert res.returncode == 0 and "xdp_pong_replies_total" in res.stdout, res.stderr
    ok(cli("detach", "a0"))


def test_answer_needs_a_scope_and_shows(cli):
    """--answer turns kinds on only where the interface has a scope (attach refuses it without
    --prefix; set refuses it on an interface answering every address, and leaves it as it was);
    status shows the kinds and the ICMP error limits, set changes them and 'none' ends them."""
    def ok(res):
        assert res.returncode == 0, f"{res.args}: {res.stderr}"
        return res

    def status():
        return json.loads(ok(cli("status", "--json", "a0", "c0")).stdout)["interfaces"]

    ok(cli("attach", "a0", "--prefix", "10.0.0.0/8", "--answer", "udp,timestamp", "--icmp-ratelimit", "250"))
    ok(cli("attach", "c0"))
    a0, c0 = status()
    assert a0["answer"] == ["udp", "timestamp"] and a0["limits"]["icmp_ratelimit_ms"] == {"ipv4": 250, "ipv6": 250}
    assert c0["answer"] == [] and c0["limits"]["icmp_ratelimit_ms"] == {"ipv4": 1000, "ipv6": 100}, \
        "off by default; Linux's error limits by default"
    assert "udp,timestamp" in ok(cli("status", "a0")).stdout
    prom = ok(cli("stats", "a0", "--prometheus")).stdout
    for kind in ("udp4", "udp6", "tcp4", "tcp6", "timestamp"):
        assert f'xdp_pong_replies_total{{interface="a0",kind="{kind}"}} 0' in prom, kind
        assert kind in json.loads(ok(cli("stats", "a0", "--json")).stdout)["interfaces"][0]["counters"]
    for reason in ("l4_checksum", "tcp_rst", "no_scope"):
        assert f'reason="{reason}"' in prom, reason
    expect_error(cli("set", "c0", "--answer", "tcp"), 1, "c0: --answer needs a prefix list")
    assert status()[1]["answer"] == [], "a refused set changes nothing"
    out = ok(cli("set", "a0", "--answer", "tcp", "--icmp-ratelimit", "off")).stdout
    assert "answer: tcp" in out, out
    a0 = status()[0]
    assert a0["answer"] == ["tcp"] and a0["limits"]["icmp_ratelimit_ms"] == {"ipv4": 0, "ipv6": 0}
    ok(cli("set", "a0", "--answer", "none"))
    assert status()[0]["answer"] == []
    res = ok(cli("prefix", "clear", "a0"))
    assert "no prefix list" in res.stderr and "--answer" not in res.stderr, "no kind on: no second warning"
    ok(cli("detach", "c0"))
    res = ok(cli("attach", "c0", "--prefix", "::/0", "--answer", "tcp"))
    assert "warning: --answer with --prefix ::/0" in res.stderr, res.stderr
    res = ok(cli("prefix", "clear", "c0"))
    assert "--answer tcp is answered for no address" in res.stderr, res.stderr
    ok(cli("detach", "a0"))
    ok(cli("detach", "c0"))
