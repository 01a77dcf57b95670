"""make check's test run: pytest over tests/ (any pytest arguments pass through:
`tests/run.py -k ndp`, `tests/run.py -m "not slow"`, a file or a test id).

Ends with the line `N passed, N failed` (tests/conftest.py), or `N passed,
N failed, N skipped (kernel lacks: FEATURE, ...)` where a test needs a kernel
feature this kernel lacks; exits non-zero on any failure or skip. Needs root and a build (`make all`). SIGTERM and SIGHUP
stop it as Ctrl-C does, leaving nothing of the tests' behind.
"""
import os
import signal
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

def interrupted(signum, _frame):
    """SIGTERM and SIGHUP end the run as Ctrl-C does: through every finally and atexit, so the
    namespaces, programs and containers the tests made are removed (killed outright, they stay)."""
    raise KeyboardInterrupt(f"signal {signum}")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)
    sys.exit(pytest.main(["-c", os.path.join(HERE, "pytest.ini"), "--rootdir", HERE, *sys.argv[1:]]))
