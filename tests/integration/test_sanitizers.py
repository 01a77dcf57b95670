"""The CLI contract again, with the CLI built with AddressSanitizer and
UndefinedBehaviorSanitizer (build/asan/xdp-pong, leak checking on): every
test of test_cli must pass, and no run may print a sanitizer report.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import pylib.lab as lab  # noqa: E402
from integration import test_cli  # noqa: E402

ASAN_BIN = os.path.join(lab.ROOT, "build", "asan", "xdp-pong")
MARKERS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "runtime error:")


def run(t):
    if not t.check("build/asan/xdp-pong exists", os.access(ASAN_BIN, os.X_OK), "run make first"):
        return
    reports = []
    plain_sh = lab.sh

    def watched_sh(cmd, timeout=60, **kw):
        res = plain_sh(cmd, timeout=timeout, **kw)
        if any(m in res.stderr for m in MARKERS):
            reports.append(f"{' '.join(cmd)}: {res.stderr.strip()[:600]}")
        return res

    saved = (test_cli.XDP_PONG, test_cli.sh, os.environ.get("ASAN_OPTIONS"), os.environ.get("UBSAN_OPTIONS"))
    os.environ["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0:exitcode=99"
    os.environ["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1:exitcode=99"
    test_cli.XDP_PONG, test_cli.sh = ASAN_BIN, watched_sh
    try:
        test_cli.run(t)
    finally:
        test_cli.XDP_PONG, test_cli.sh = saved[0], saved[1]
        for name, value in (("ASAN_OPTIONS", saved[2]), ("UBSAN_OPTIONS", saved[3])):
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    t.check("sanitizers: no report in any run of the CLI", not reports, "; ".join(reports[:2]))
