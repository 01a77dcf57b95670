"""The loader's floors (loader/xdp-pong.h): each file calls only what files on
lower floors define. Read from the symbols of the built objects
(build/obj/*.o, `nm`), against the floor plan in the header's first comment.
"""
import functools
import os
import re
import subprocess

import pytest

from pylib.env import BUILD, ROOT

HEADER = os.path.join(ROOT, "loader", "xdp-pong.h")


@functools.lru_cache(maxsize=None)
def floor_plan():
    """file -> floor, from the header's comment ("  N  file.c  ..." lines, N carried down)."""
    plan, floor = {}, None
    text = open(HEADER).read()
    comment = text[text.index("floor by floor"):].split("*/", 1)[0]
    for line in comment.splitlines():
        m = re.match(r"^ \*\s+(\d+)?\s+(\w+\.c)\s", line)
        if m:
            floor = int(m.group(1)) if m.group(1) else floor
            plan[m.group(2)] = floor
    return plan


@functools.lru_cache(maxsize=None)
def symbols(obj):
    """(defined, used) global symbols of an object file."""
    out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            used.add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBR":
            defined.add(parts[2])
    return defined, used


def test_every_source_has_a_floor():
    sources = sorted(f for f in os.listdir(os.path.join(ROOT, "loader")) if f.endswith(".c"))
    assert sorted(floor_plan()) == sources


@pytest.mark.parametrize("source", sorted(floor_plan()))
def test_calls_only_lower_floors(source):
    plan = floor_plan()
    objs = {s: os.path.join(BUILD, "obj", s.replace(".c", ".o")) for s in plan}
    assert all(os.path.exists(o) for o in objs.values()), "run make first"
    owner = {}
    for s, o in objs.items():
        for sym in symbols(o)[0]:
            owner[sym] = s
    _, used = symbols(objs[source])
    upward = sorted(f"{sym} ({owner[sym]}, floor {plan[owner[sym]]})" for sym in used
                    if sym in owner and plan[owner[sym]] >= plan[source])
    assert not upward, f"{source} (floor {plan[source]}) calls on its own floor or above: {', '.join(upward)}"
