"""Differential fuzzing in make check: 200,000 frames (FUZZ_COUNT, FUZZ_SEED to
change or replay) through the real program, each checked against the
independent model (tests/datapath/model.py), on each way through the program
(fuzz.PATHS): the fast path (no settings), the policy path (a scope of every
address), the rules one by one (fast checks off; the kinds --answer turns on,
with no scope), the kinds --answer turns on answered in a scope, and, with a
tenth and a twentieth of the frames, --unclaimed and --icmp-ratelimit. The
engine is tests/datapath/fuzz.py; `make fuzz N=...` runs it longer.
"""
import os
import random

import pytest

from datapath.fuzz import DEFAULT_COUNT, PATHS, describe, fuzz, never_fuzzed

CATEGORIES = ["verdict", "pass_changed", "reply", "counting", "csum"]
SEED = int(os.environ.get("FUZZ_SEED", random.SystemRandom().randrange(1 << 32)))


@pytest.fixture(scope="module", params=list(PATHS))
def result(request):
    """The same frames on each way through the program (fuzz.PATHS); one seed for all
    (the paths share the frames, made once)."""
    count = int(os.environ.get("FUZZ_COUNT", DEFAULT_COUNT))
    res = fuzz(SEED, count, request.param)
    assert res["ran"], f"pong-testrun did not run every frame: {res.get('error')}"
    return res


@pytest.mark.parametrize("category", CATEGORIES)
def test_no_mismatch(result, category):
    assert not result["bad"][category], \
        f"{len(result['bad'][category])} of {len(result['frames'])}: {describe(result, category)}"


def test_every_counter_reached(result):
    assert not result["missing_counters"], f"never: {result['missing_counters']}"


def test_every_protocol_refusal_reason_reached(result):
    assert not result["missing_reasons"], f"never: {result['missing_reasons']}"


def test_every_counter_and_reason_has_a_path():
    """Each counter and each reason of xdp/pong.h is one some path must reach
    (fuzz.UNREACHABLE), but no_room: no reply lacks room under BPF_PROG_TEST_RUN."""
    assert never_fuzzed() == ([], ["no_room"])
