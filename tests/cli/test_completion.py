"""Bash completion (scripts/packaging/xdp-pong.bash-completion): what each
partly typed command line completes to, in a namespace whose interfaces are
known, two of them named with shell metacharacters. Completing must never
run a name (the file a name such as $(id>f) would create must not appear),
and a name is offered quoted for the command line."""
import os
import re
import subprocess
import tempfile

import pytest

from pylib.env import BUILD, ROOT

COMPLETION = os.path.join(ROOT, "scripts", "packaging", "xdp-pong.bash-completion")

# Sources the completion, fills COMP_WORDS from the arguments, prints COMPREPLY one per line.
HARNESS = """
source "$COMPLETION" || exit 3
complete -p xdp-pong >/dev/null || exit 4
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_xdp_pong
printf '%s\\n' "${COMPREPLY[@]}"
"""

HOSTILE = "$(id>f)"       # a legal interface name that is a command substitution
SEMI = "x;y"


@pytest.fixture(scope="module")
def ns():
    from pylib.env import Lab, unique
    with Lab.single(unique("cmp")) as lab:
        lab.ip(lab.ns_name, "link", "add", "a0", "type", "veth", "peer", "name", "b0")
        lab.ip(lab.ns_name, "link", "add", HOSTILE, "type", "veth", "peer", "name", SEMI)
        yield lab


def complete(ns, *words):
    with tempfile.TemporaryDirectory() as cwd:
        res = subprocess.run(["ip", "netns", "exec", ns.ns_name, "/bin/bash", "--norc", "-c", HARNESS, "bash",
                              *words], cwd=cwd, capture_output=True, text=True, timeout=30,
                             env=dict(os.environ, COMPLETION=COMPLETION,
                                      PATH=BUILD + ":" + os.environ.get("PATH", "")))
        assert res.returncode == 0, res.stderr
        assert os.listdir(cwd) == [], f"completing {words} ran something: {os.listdir(cwd)}"
        return sorted(w for w in res.stdout.split("\n") if w)


CASES = [
    # (words typed, the last one partly; what it completes to)
    (["xdp-pong", "at"], ["attach"]),
    (["xdp-pong", "s"], ["set", "stats", "status"]),
    (["xdp-pong", "r"], ["run"]),
    (["xdp-pong", "--v"], ["--version"]),
    (["xdp-pong", "attach", "a"], ["a0"]),
    (["xdp-pong", "run", "b"], ["b0"]),
    (["xdp-pong", "status", "a0", "a"], ["a0"]),
    (["xdp-pong", "metrics", "b"], ["b0"]),
    (["xdp-pong", "attach", "--mo"], ["--mode"]),
    (["xdp-pong", "attach", "--mode", ""], ["native", "skb"]),
    (["xdp-pong", "attach", "-m", "n"], ["native"]),
    (["xdp-pong", "run", "--met"], ["--metrics"]),
    (["xdp-pong", "run", "--metrics", ""], []),                  # ADDR:PORT is typed by hand
    (["xdp-pong", "attach", "--ttl", ""], []),
    (["xdp-pong", "stats", "--j"], ["--json"]),
    (["xdp-pong", "status", "--j"], ["--json"]),
    (["xdp-pong", "prefix", ""], ["add", "clear", "del", "list"]),
    (["xdp-pong", "prefix", "add", "a"], ["a0"]),
    (["xdp-pong", "prefix", "add", "a0", ""], []),               # a CIDR is typed by hand
    # names with shell metacharacters: offered quoted, never run
    (["xdp-pong", "attach", "$"], ["\\$\\(id\\>f\\)"]),
    (["xdp-pong", "attach", "x"], ["x\\;y"]),
    (["xdp-pong", "attach", "x\\;"], ["x\\;y"]),            # typed with its escape
    (["xdp-pong", "attach", "'x;"], ["x\\;y"]),               # or in quotes
    (["xdp-pong", "attach", "\"x;"], ["x\\;y"]),
    (["xdp-pong", "attach", ""], sorted(["a0", "b0", "lo", "\\$\\(id\\>f\\)", "x\\;y"])),
]


@pytest.mark.parametrize("words,want", CASES, ids=[" ".join(w[1:]) or "-" for w, _ in CASES])
def test_completes(ns, words, want):
    assert complete(ns, *words) == want


def test_options_are_the_binarys(ns):
    """Every option `run --help` lists is offered, so the table cannot drift from the binary."""
    help_text = subprocess.run([os.path.join(BUILD, "xdp-pong"), "run", "--help"], capture_output=True,
                               text=True, check=True).stdout
    listed = {m.group(1) for m in re.finditer(r"^ +(?:-[a-zA-Z], )?(--[a-z][a-z-]*)", help_text, re.M)}
    assert {"--mode", "--metrics", "--prefix", "--unclaimed", "--help"} <= listed
    assert set(complete(ns, "xdp-pong", "run", "--")) == listed
