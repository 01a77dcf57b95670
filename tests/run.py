"""make check's test run: pytest over tests/ (any pytest arguments pass through:
`tests/run.py -k ndp`, `tests/run.py -m "not slow"`, a file or a test id).

Ends with the line `N passed, N failed` (tests/conftest.py); exits non-zero
on any failure or skip. Needs root and a build (`make all`).
"""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

if __name__ == "__main__":
    sys.exit(pytest.main(["-c", os.path.join(HERE, "pytest.ini"), "--rootdir", HERE, *sys.argv[1:]]))
