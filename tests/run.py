"""Run xdp-pong's tests: `run.py [unit|integration ...]` (default: all).

Ends with the line `N passed, N failed`; exits non-zero on any failure.
Needs root (BPF_PROG_TEST_RUN, namespaces) and a build (`make all`).
"""
import importlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from pylib.harness import Results  # noqa: E402

SUITES = {
    "unit": ["unit.test_datapath", "unit.test_fuzz"],
    "integration": ["integration.test_cli", "integration.test_sanitizers", "integration.test_lab",
                    "integration.test_ops", "integration.test_install", "integration.test_setup", "integration.test_bench", "integration.test_soak"],
    "soak": ["integration.test_soak"],
    "ops": ["integration.test_ops"],
    "setup": ["integration.test_setup"],
    "install": ["integration.test_install"],
}


def main(argv):
    chosen = argv or ["unit", "integration"]
    results = Results()
    if os.geteuid() != 0:
        results.check("running as root", False, "the tests load BPF programs and create namespaces")
        return results.summary()
    for suite in chosen:
        if suite not in SUITES:
            results.check(f"suite {suite} exists", False, f"choose from {', '.join(SUITES)}")
            continue
        for modname in SUITES[suite]:
            try:
                mod = importlib.import_module(modname)
            except Exception as exc:  # noqa: BLE001
                results.check(f"{modname} imports", False, repr(exc))
                continue
            results.run_group(modname, mod.run)
    return results.summary()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
