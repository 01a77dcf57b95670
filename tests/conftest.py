"""Fixtures and rules every xdp-pong test shares.

- The suite needs root (BPF_PROG_TEST_RUN, namespaces, XDP): without it,
  every test fails with the reason.
- Namespaces come from one place, scripts/lab/lab.py, through the fixtures
  below; each removes what it made, whatever fails.
- The run ends with the line `N passed, N failed`. A test skipped because
  the kernel lacks a feature (pylib/kernel.py's requires_kernel: "kernel
  lacks FEATURE") is counted apart, never as passed: the line becomes
  `N passed, N failed, N skipped (kernel lacks: FEATURE, ...)` and the run
  exits non-zero. Any other skip counts as failed (tests/README.md).
"""
import json
import os
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from pylib.env import XDP_PONG, Lab, unique  # noqa: E402
from pylib.kernel import lacked, lacking_feature  # noqa: E402


# ---- the summary line and the skip rule ----

class Tally:
    """Each test's outcome: passed, failed, or skipped for a feature the kernel lacks
    (requires_kernel); a skip for any other reason is failed."""

    def __init__(self):
        self.outcome = {}
        self.features = {}                      # nodeid -> the feature its skip names

    def pytest_collectreport(self, report):
        if report.skipped:                       # a whole module skipped (pytest.skip at module level)
            self.pytest_runtest_logreport(report)

    def pytest_runtest_logreport(self, report):
        was = self.outcome.get(report.nodeid)
        if report.failed:
            self.outcome[report.nodeid] = "failed"
        elif report.skipped and was != "failed":
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            feature = lacking_feature(reason)
            self.outcome[report.nodeid] = "skipped" if feature else "failed"
            if feature:
                self.features[report.nodeid] = feature
        elif report.when == "call" and report.passed and was is None:
            self.outcome[report.nodeid] = "passed"

    def counts(self):
        values = list(self.outcome.values())
        return values.count("passed"), values.count("failed"), values.count("skipped")

    def pytest_sessionfinish(self, session, exitstatus):
        _, failed, skipped = self.counts()
        if (failed or skipped) and session.exitstatus == 0:
            session.exitstatus = 1               # a skip is never a pass

    def pytest_unconfigure(self, config):
        for feature, why in lacked().items():
            print(f"this kernel lacks {feature} ({why})", flush=True)
        passed, failed, skipped = self.counts()
        line = f"{passed} passed, {failed} failed"
        if skipped:
            features = sorted({self.features[n] for n, o in self.outcome.items() if o == "skipped"})
            line += f", {skipped} skipped (kernel lacks: {', '.join(features)})"
        print(line, flush=True)


def pytest_configure(config):
    config.pluginmanager.register(Tally(), "xdp-pong-tally")


@pytest.fixture(autouse=True, scope="session")
def as_root():
    if os.geteuid() != 0:
        pytest.fail("the tests must run as root: they load BPF programs and create namespaces")


# ---- the CLI ----

@pytest.fixture(scope="session")
def xdp_pong():
    assert os.access(XDP_PONG, os.X_OK), f"{XDP_PONG} missing: run make first"
    return XDP_PONG


# ---- namespaces ----

class BridgeLab:
    """The bridge lab (client, switch, responder) with the tests' shorthands."""

    def __init__(self, lab, xp):
        self.lab, self.xp = lab, xp
        self.cli, self.sw, self.pong = lab.cli, lab.sw, lab.pong

    def ns(self, ns, *cmd, timeout=60):
        return self.lab.run(ns, *cmd, timeout=timeout)

    def client(self, *cmd, timeout=60):
        return self.lab.run(self.cli, *cmd, timeout=timeout)

    def pong_cli(self, *args, timeout=60):
        """xdp-pong inside the responder's namespace (no bpffs there)."""
        return self.lab.run(self.pong, self.xp, *args, timeout=timeout)

    def stats(self, iface="pong0"):
        res = self.pong_cli("stats", iface, "--json")
        assert res.returncode == 0, f"stats failed: {res.stderr.strip()}"
        (entry,) = json.loads(res.stdout)["interfaces"]
        return entry

    def mac(self, ns, dev):
        return self.lab.mac(ns, dev)

    def start_run(self, *opts):
        """`xdp-pong run pong0 OPTS` in the responder's namespace, returned once it answers for pong0."""
        run = self.lab.popen(self.pong, self.xp, "run", "pong0", *opts, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        for _ in range(100):
            if run.poll() is not None:
                raise AssertionError(f"run ended: {run.communicate()[1]}")
            if self.pong_cli("stats", "pong0", "--json").returncode == 0:
                return run
            time.sleep(0.1)
        run.terminate()
        raise AssertionError(f"run did not attach: {run.communicate(timeout=30)[1]}")

    @staticmethod
    def stop_run(run):
        """SIGTERM: it must detach and exit 0."""
        run.terminate()
        _, err = run.communicate(timeout=30)
        assert run.returncode == 0, err


@pytest.fixture(scope="module")
def bridge(xdp_pong, request):
    """A bridge lab for one test module, removed after it."""
    with Lab.bridge(unique(request.module.__name__.split("_")[-1][:3])) as lab:
        yield BridgeLab(lab, xdp_pong)


@pytest.fixture(scope="module")
def pair(request):
    """gen0 <-> dut0, a veth pair in two namespaces, for one test module."""
    with Lab.pair(unique("p" + request.module.__name__.split("_")[-1][:3])) as lab:
        yield lab


@pytest.fixture
def netns(request):
    """A function's own empty namespace (loopback up): lab.ns_name, lab.run(...)."""
    with Lab.single(unique("n" + request.node.name[:4].replace("[", ""))) as lab:
        yield lab
