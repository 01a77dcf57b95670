"""The set-up leaves the host as it found it (scripts/deps.sh, make).

- No package that deps.sh installs ships a service (a systemd unit or an
  init script), but those on every Debian system already (Priority:
  required, and systemd, the init system): nothing it installs can be
  enabled or started.
- Running the set-up for real enables no unit and writes no policy-rc.d.
- Interrupted by SIGINT, SIGTERM or SIGHUP while apt runs, deps.sh stops
  apt, removes its temporary directory and exits non-zero (apt and dpkg are
  stand-ins here, so that the interruption lands where it should).
- `make` alone installs nothing: it names the missing packages and fails.
"""
import glob
import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from pylib.env import ROOT, sh

DEPS = os.path.join(ROOT, "scripts", "deps.sh")
POLICY = "/usr/sbin/policy-rc.d"


def policy_state():
    """policy-rc.d as it is: None when absent, else its bytes and mtime (some
    images, Docker's among them, ship one of their own: it must stay as is)."""
    try:
        with open(POLICY, "rb") as f:
            return f.read(), os.stat(POLICY).st_mtime_ns
    except FileNotFoundError:
        return None


def enabled_units():
    """What starts at boot: systemd wants/requires links and SysV start links."""
    links = []
    for pattern in ("/etc/systemd/system/*.wants/*", "/etc/systemd/system/*.requires/*",
                    "/etc/rc[2345].d/S*"):
        links += glob.glob(pattern)
    return sorted(links)


def stub_bin(tmp, installed, block="install"):
    """A PATH directory with stand-ins for dpkg-query (every package `installed`
    or not) and apt-get (records its pid and arguments; waits to be
    interrupted when they contain `block`)."""
    d = os.path.join(tmp, "bin")
    os.makedirs(d)
    with open(os.path.join(d, "dpkg-query"), "w") as f:
        f.write("#!/bin/sh\n" + ("printf 'install ok installed'\n" if installed else "exit 1\n"))
    with open(os.path.join(d, "apt-get"), "w") as f:
        f.write(f"#!/bin/sh\necho \"$$ $*\" >> {tmp}/apt-calls\n"
                f"case \"$*\" in *{block}*) exec sleep 60 ;; esac\n")
    for name in ("dpkg-query", "apt-get"):
        os.chmod(os.path.join(d, name), 0o755)
    return d


@pytest.mark.parametrize("sig,installed", [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGHUP, False),
                                           (signal.SIGTERM, True)],
                         ids=["SIGINT during apt-get", "SIGTERM during apt-get", "SIGHUP during apt-get",
                              "SIGTERM during the package download"])
def test_interrupted(sig, installed):
    """deps.sh check, with apt stubbed, interrupted by sig while apt runs."""
    policy = policy_state()
    what = "the package download" if installed else "apt-get"
    with tempfile.TemporaryDirectory() as tmp:
        block = "download" if installed else "install"
        bindir = stub_bin(tmp, installed, block)
        scratch = os.path.join(tmp, "scratch")
        os.makedirs(scratch)
        env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}", TMPDIR=scratch,
                   XDP_PONG_TOOLS=os.path.join(tmp, "tools"))
        proc = subprocess.Popen(["sh", DEPS, "check"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        calls = os.path.join(tmp, "apt-calls")
        lines = []
        for _ in range(200):
            lines = open(calls).read().splitlines() if os.path.exists(calls) else []
            if lines and block in lines[-1]:
                break
            time.sleep(0.05)
        apt_pid = int(lines[-1].split()[0]) if lines and block in lines[-1] else None
        t0 = time.time()
        proc.send_signal(sig)
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
        elapsed = time.time() - t0
        name = signal.Signals(sig).name
        assert (apt_pid is not None and proc.returncode not in (0, None) and elapsed < 5), (f"deps.sh interrupted by {name} during {what}: exits at once, non-zero") + ': ' + str(f"apt stub pid {apt_pid}, exit {proc.returncode} after {elapsed:.1f}s")
        alive = apt_pid is not None and os.path.exists(f"/proc/{apt_pid}")
        assert (not alive), (f"deps.sh interrupted by {name} during {what}: apt stopped too")
        assert (os.listdir(scratch)) == ([]), (f"deps.sh interrupted by {name} during {what}: no temporary file left")
        assert (not os.path.exists(os.path.join(tmp, "tools")) or not os.listdir(os.path.join(tmp, "tools"))), (f"deps.sh interrupted by {name} during {what}: nothing in build/tools")
        assert (policy_state()) == (policy), (f"deps.sh interrupted by {name}: policy-rc.d untouched")


def test_no_package_ships_a_service():
    pkgs = sh(["sh", DEPS, "--list", "build", "demo", "check", "bench", "deb"]).stdout.split()
    assert len(pkgs) > 10, f"deps.sh lists its packages: {pkgs}"
    services = {}
    for p in pkgs:
        files = sh(["dpkg", "-L", p]).stdout.splitlines()
        found = [f for f in files if f.startswith(("/lib/systemd/system/", "/usr/lib/systemd/system/",
                                                   "/etc/init.d/")) and not f.endswith("/")
                 and os.path.isfile(f)]
        prio = sh(["dpkg-query", "-W", "-f=${Priority}", p]).stdout.strip()
        # packages on every Debian system already (required), and the init system itself
        if found and prio != "required" and p != "systemd":
            services[p] = found
    assert not services, f"packages deps.sh installs that ship a service: {services}"
    assert sh(["dpkg-query", "-W", "-f=${Status}", "prometheus"]).stdout.find("install ok installed") < 0, \
        "Debian's prometheus package is not installed (it would enable a server on :9090)"


def test_setup_enables_nothing():
    """The set-up for real (everything present after make check's own run: it verifies)."""
    policy, before = policy_state(), enabled_units()
    res = sh(["sh", DEPS, "check"], timeout=1800)
    assert res.returncode == 0, res.stderr[-400:]
    assert enabled_units() == before, "the set-up enabled no unit at boot"
    assert policy_state() == policy, "the set-up left policy-rc.d as it was (absent, or the system's own)"
    tools = os.path.join(ROOT, "build", "tools")
    assert all(os.access(os.path.join(tools, p), os.X_OK) for p in ("prometheus", "promtool")), \
        "prometheus and promtool unpacked in build/tools"


def test_make_installs_nothing():
    """A missing package is named, and the build stops."""
    with tempfile.TemporaryDirectory() as tmp:
        bindir = stub_bin(tmp, installed=False)
        env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}")
        res = subprocess.run(["make", "-s", "-C", ROOT, "build-deps"], env=env, capture_output=True,
                             text=True, timeout=60)
        assert res.returncode != 0 and "missing Debian packages:" in res.stderr and "libbpf-dev" in res.stderr, \
            res.stderr
        assert not os.path.exists(os.path.join(tmp, "apt-calls")), "apt never ran"


@pytest.mark.parametrize("tamper", ["another package", "a symlink", "two files"])
def test_downloads_checked_before_unpacking(tamper):
    """apt downloads as its unprivileged _apt user, into a directory that user can write: what lies
    there when root unpacks it may not be what apt fetched. deps.sh unpacks only a root-owned copy
    whose SHA256 is the one apt's own lists give (here apt-get download is a stand-in that leaves a
    tampered file: a valid package of other content, a symlink, or a second package)."""
    with tempfile.TemporaryDirectory() as tmp:
        bindir = stub_bin(tmp, installed=True, block="never")
        fake = os.path.join(tmp, "fake")
        os.makedirs(os.path.join(fake, "DEBIAN"))
        os.makedirs(os.path.join(fake, "usr", "bin"))
        with open(os.path.join(fake, "DEBIAN", "control"), "w") as f:
            f.write("Package: prometheus\nVersion: 9.9\nArchitecture: all\nMaintainer: x <x@x>\nDescription: x\n")
        for prog in ("prometheus", "promtool"):
            with open(os.path.join(fake, "usr", "bin", prog), "w") as f:
                f.write("#!/bin/sh\necho planted\n")
            os.chmod(os.path.join(fake, "usr", "bin", prog), 0o755)
        deb = os.path.join(tmp, "planted.deb")
        assert sh(["dpkg-deb", "--build", fake, deb]).returncode == 0
        action = {"another package": f'cp {deb} prometheus_9.9_all.deb',
                  "a symlink": 'ln -s /etc/shadow prometheus_9.9_all.deb',
                  "two files": f'cp {deb} prometheus_9.9_all.deb; cp {deb} prometheus_9.8_all.deb'}[tamper]
        with open(os.path.join(bindir, "apt-get"), "w") as f:
            f.write(f'#!/bin/sh\necho "$$ $*" >> {tmp}/apt-calls\n'
                    f'case "$*" in *download*) {action} ;; esac\n')
        scratch, tools = os.path.join(tmp, "scratch"), os.path.join(tmp, "tools")
        os.makedirs(scratch)
        env = dict(os.environ, PATH=f"{bindir}:{os.environ['PATH']}", TMPDIR=scratch, XDP_PONG_TOOLS=tools)
        res = subprocess.run(["sh", DEPS, "check"], env=env, capture_output=True, text=True, timeout=120)
        assert "download -qq prometheus" in open(os.path.join(tmp, "apt-calls")).read(), "the download was asked for"
        assert res.returncode != 0, f"a tampered download is refused: {res.stdout} {res.stderr}"
        assert "nothing unpacked" in res.stderr or "not exactly one downloaded package file" in res.stderr, \
            res.stderr
        assert not os.path.exists(os.path.join(tools, "prometheus")), "nothing of it was unpacked"
        assert os.listdir(scratch) == [], "no temporary file left"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_interrupted_test_run_leaves_nothing(sig):
    """The suite itself (tests/run.py), stopped by sig while a lab test holds its namespaces and a
    running xdp-pong: it ends non-zero, and the namespaces are gone (killed outright they stayed)."""
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "run.py"), "lab/test_own.py",
                             "-k", "added_later and ipv4", "-q"], cwd=os.path.join(ROOT, "tests"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    prefix = f"xpown{proc.pid % 100000}"
    try:
        for _ in range(200):
            if prefix in sh(["ip", "netns", "list"]).stdout:
                break
            time.sleep(0.05)
        assert prefix in sh(["ip", "netns", "list"]).stdout, "the lab test made its namespaces"
        time.sleep(1)
        proc.send_signal(sig)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    left = [n for n in sh(["ip", "netns", "list"]).stdout.split() if n.startswith(prefix)]
    for n in left:
        sh(["ip", "netns", "del", n])
    assert proc.returncode not in (0, None), "an interrupted run is not a pass"
    assert not left, f"namespaces left behind: {left}"
