"""A small test harness: named checks, one line per failure, a closing count.

Every check is an assertion that can fail; nothing is skipped silently. A test
that cannot run (missing tool, no root) is counted as failed, with the reason.
"""
import sys
import traceback


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.failures = []

    def check(self, name, ok, detail=""):
        """Record one assertion; returns ok so callers can chain."""
        if ok:
            self.passed += 1
            print(f"  ok    {name}", flush=True)
        else:
            self.failed += 1
            self.failures.append(name)
            print(f"  FAIL  {name}" + (f": {detail}" if detail else ""), flush=True)
        return ok

    def equal(self, name, got, want):
        return self.check(name, got == want, f"got {got!r}, want {want!r}")

    def run_group(self, title, fn, *args):
        """Run one group of checks; an exception fails the group, not the run."""
        print(f"== {title}", flush=True)
        try:
            fn(self, *args)
        except Exception as exc:  # noqa: BLE001 - a crash is a failed test
            traceback.print_exc()
            self.check(f"{title}: completed without error", False, repr(exc))

    def summary(self):
        if self.failures:
            print("\nFailed:", file=sys.stdout)
            for name in self.failures:
                print(f"  {name}")
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 1 if self.failed else 0
