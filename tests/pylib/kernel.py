"""Kernel features the tests probe for, and the one skip the suite reports as
such: `requires_kernel(feature, probe)` skips the calling test with
"kernel lacks FEATURE: why". conftest.py counts that skip apart (the closing
line becomes `N passed, N failed, N skipped (kernel lacks: FEATURE, ...)`),
never as passed, and the run still exits non-zero; a skip for any other
reason is a failure.

A test that can assert what xdp-pong does without the feature asks
`kernel_has(feature, probe)` instead and takes that branch: nothing skips,
and the run says before its closing line which features this kernel lacked.

probe() returns (True, "") when the kernel has the feature, or (False, why).
Each feature is probed once per run.
"""
import pytest

LACKS = "kernel lacks "

_probed = {}     # feature -> (has, why)


def kernel_has(feature, probe):
    """Whether the kernel has feature (probe() run once per run); a lack is noted for the summary."""
    assert ": " not in feature and "," not in feature, f"a feature's name holds no ': ' nor ',': {feature!r}"
    if feature not in _probed:
        has, why = probe()
        _probed[feature] = (bool(has), why)
    return _probed[feature][0]


def requires_kernel(feature, probe):
    """Skip the calling test (or fixture) unless the kernel has feature: reported as "kernel lacks
    FEATURE", never counted as passed, and the run exits non-zero."""
    if not kernel_has(feature, probe):
        reason = f"{LACKS}{feature}: {_probed[feature][1]}"
        try:     # reported at the test's own line, not this one (as a skip mark is)
            exc = pytest.skip.Exception(reason, _use_item_location=True)
        except TypeError:
            exc = pytest.skip.Exception(reason)
        raise exc


def lacked():
    """{feature: why} for every feature probed in this run and found missing."""
    return {f: why for f, (has, why) in _probed.items() if not has}


def lacking_feature(skip_reason):
    """The feature a requires_kernel() skip names ("Skipped: kernel lacks F: why" -> F), else None."""
    reason = skip_reason[len("Skipped: "):] if skip_reason.startswith("Skipped: ") else skip_reason
    if not reason.startswith(LACKS):
        return None
    return reason[len(LACKS):].split(": ", 1)[0]
