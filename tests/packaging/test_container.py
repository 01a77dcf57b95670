"""The container image (scripts/container/Containerfile), built and run with
podman as a user would, without a registry: the base (Debian bookworm,
minbase without documentation, as bookworm-slim is made) comes from
mmdebstrap through `podman import`, and `podman build --from` uses it.

In the bridge lab, the container runs `xdp-pong run` in the responder's
network namespace with CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN only, and
bpf() allowed by the seccomp profile (scripts/container/seccomp-bpf.py:
podman 4.3's default profile allows it with CAP_SYS_ADMIN only): a real
ping is answered, /metrics is scraped, `podman stop` detaches it (exit 0)
and nothing is left attached. Each of the three capabilities, and the
engine's default profile, is shown to be needed: without it the start
fails with one line and attaches nothing.

podman runs from build/tools (tests/pylib/podman.py), never installed.
"""
import json
import os
import subprocess
import time

import pytest

from pylib.env import Lab, ROOT, XDP_PONG, answers_and_reports, apt_sources, unique
from pylib.podman import Podman

pytestmark = pytest.mark.slow
PORT = 9477
BASE = "localhost/debian:bookworm-slim-local"
IMAGE = "localhost/xdp-pong:test"
CAPS = ("bpf", "perfmon", "net_admin")
# podman 4.3 with runc could not raise a container's file and process limits
# to its defaults without CAP_SYS_RESOURCE here; lower ones are set instead
LIMITS = ("--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")


@pytest.fixture(scope="module")
def podman():
    pm = Podman()
    try:
        # the base image, as Debian's bookworm-slim is made: minbase, no documentation or locales
        mm = subprocess.Popen(["mmdebstrap", "--quiet", "--variant=minbase", "--dpkgopt=path-exclude=/usr/share/doc/*",
                               "--dpkgopt=path-exclude=/usr/share/man/*",
                               "--dpkgopt=path-exclude=/usr/share/locale/*", "bookworm", "-", *apt_sources()],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        res = pm("import", "--signature-policy", pm.policy, "-", BASE, stdin=mm.stdout, timeout=900)
        mm.stdout.close()
        err = mm.communicate(timeout=60)[1]
        assert mm.returncode == 0, f"mmdebstrap: {err.decode(errors='replace')[-800:]}"
        assert res.returncode == 0, res.stderr[-800:]
        pm.check("build", "--signature-policy", pm.policy, "--network", "host", "--from", BASE,
                 "-f", os.path.join(ROOT, "scripts", "container", "Containerfile"), "-t", IMAGE, ROOT, timeout=900)
        profile = os.path.join(pm.dir, "seccomp-xdp-pong.json")
        with open(profile, "w") as f:
            subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "scripts", "container", "seccomp-bpf.py"),
                            pm.default_seccomp], stdout=f, check=True)
        pm.profile = profile
        yield pm
    finally:
        pm.remove()


@pytest.fixture
def lab():
    with Lab.bridge(unique("ctr")) as lab:
        yield lab


def test_image(podman):
    config = json.loads(podman.check("image", "inspect", IMAGE).stdout)[0]["Config"]
    assert config["Entrypoint"] == ["/usr/sbin/xdp-pong", "run"] and config.get("StopSignal") == "SIGTERM", config
    version = subprocess.run([XDP_PONG, "--version"], capture_output=True, text=True).stdout
    res = podman.check("run", "--rm", *LIMITS, "--network", "none", "--entrypoint", "/usr/sbin/xdp-pong", IMAGE,
                       "--version")
    assert res.stdout == version, "the image holds the binary make built"
    res = podman.check("run", "--rm", *LIMITS, "--network", "none", "--entrypoint", "/bin/sh", IMAGE, "-c",
                       "ldd /usr/sbin/xdp-pong; ls /var/lib/apt/lists")
    assert "not found" not in res.stdout and "libxdp" in res.stdout and "libmicrohttpd" in res.stdout, res.stdout
    assert "Packages" not in res.stdout, "apt's lists are not left in the image"
    pkgs = {}
    for image in (BASE, IMAGE):
        res = podman.check("run", "--rm", *LIMITS, "--network", "none", "--entrypoint", "/usr/bin/dpkg-query", image,
                           "-W", "-f=${Package}\\n")
        pkgs[image] = set(res.stdout.split())
    added = pkgs[IMAGE] - pkgs[BASE]
    assert {"libbpf1", "libxdp1", "libmicrohttpd12"} <= added, added
    assert all(p.startswith("lib") for p in added), f"only runtime libraries added to the base: {sorted(added)}"


def run_container(podman, lab, name, *opts, detach=True):
    return podman("run", *(["-d"] if detach else ["--rm"]), "--name", name, "--network",
                  f"ns:/run/netns/{lab.pong}", *opts, IMAGE, "pong0", "--metrics", f"127.0.0.1:{PORT}",
                  timeout=120)


def test_run_ping_scrape_stop(podman, lab):
    name = unique("ctr")
    caps = ("--cap-drop", "all", "--cap-add", ",".join(CAPS))
    res = run_container(podman, lab, name, *caps, *LIMITS, "--security-opt", f"seccomp={podman.profile}",
                        "--read-only", "--read-only-tmpfs=false")      # run writes nothing
    try:
        assert res.returncode == 0, res.stderr[-800:]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not lab.xdp_prog(lab.pong, "pong0"):
            time.sleep(0.1)
        prog = lab.xdp_prog(lab.pong, "pong0")
        assert prog, f"attached from the container: {podman('logs', name).stderr}"
        answers_and_reports(lab, prog, PORT)
        podman.check("stop", "-t", "10", name, timeout=60)
        state = json.loads(podman.check("inspect", name).stdout)[0]["State"]
        logs = podman("logs", name).stderr
        assert state["ExitCode"] == 0 and "detaching" in logs, (state, logs)
        assert lab.xdp_prog(lab.pong, "pong0") is None, "podman stop detached it"
    finally:
        podman("rm", "-f", "-t", "0", name, timeout=60)
    assert lab.xdp_prog(lab.pong, "pong0") is None


LESS = [
    ("without CAP_BPF", ("--cap-drop", "all", "--cap-add", "perfmon,net_admin"), True),
    ("without CAP_PERFMON", ("--cap-drop", "all", "--cap-add", "bpf,net_admin"), True),
    ("without CAP_NET_ADMIN", ("--cap-drop", "all", "--cap-add", "bpf,perfmon"), True),
    ("the engine's default seccomp profile", ("--cap-drop", "all", "--cap-add", ",".join(CAPS)), False),
]


@pytest.mark.parametrize("what,caps,profile", LESS, ids=[w for w, _, _ in LESS])
def test_less_is_not_enough(podman, lab, what, caps, profile):
    seccomp = ("--security-opt", f"seccomp={podman.profile}") if profile else ()
    res = run_container(podman, lab, unique("less"), *caps, *LIMITS, *seccomp, detach=False)
    # podman's own lines (time="..." level=warning) aside, xdp-pong's: its no-prefix warning and one error
    lines = [line for line in res.stderr.splitlines()
             if line and not line.startswith("time=") and not line.startswith("xdp-pong: warning: no --prefix")]
    assert res.returncode == 1 and len(lines) == 1 and ("permission" in lines[0] or "bpf()" in lines[0]), \
        f"{what}: exit {res.returncode}, {res.stderr[-600:]}"
    assert lab.xdp_prog(lab.pong, "pong0") is None, f"{what}: nothing attached"
