"""The options are declared once (loader/options.c); the documents that list
them must agree with it: for every subcommand, `xdp-pong SUB --help`, the
man page's SYNOPSIS and README's synopsis (section "Use") name the same
options. And every file of the project says first what it is for.
"""
import os
import re
import subprocess

import pytest

from pylib.env import ROOT, XDP_PONG

MAN = os.path.join(ROOT, "loader", "xdp-pong.8")
README = os.path.join(ROOT, "README.md")


def subcommands():
    out = subprocess.run([XDP_PONG, "--help"], capture_output=True, text=True).stdout
    return re.findall(r"^  (\w+) ", out.split("Commands:")[1], re.M)


def options(text):
    return set(re.findall(r"--([a-z][a-z-]*)", text)) - {"help"}


def from_help(sub):
    out = subprocess.run([XDP_PONG, sub, "--help"], capture_output=True, text=True).stdout
    return options(out.split("\n\n")[0])           # the usage lines


def synopsis_lines(text, sub):
    """The lines of a synopsis that begin with `xdp-pong SUB`, with their indented continuations."""
    out, inside = [], False
    for line in text.splitlines():
        if re.match(rf"^\s*xdp-pong\s+{sub}\b", line):
            inside = True
            out.append(line)
        elif inside and line.startswith("    ") and not re.match(r"^\s*xdp-pong\s", line):
            out.append(line)
        else:
            inside = False
    return "\n".join(out)


def from_man(sub):
    page = subprocess.run(["groff", "-man", "-Tutf8", "-P-cbou", "-rLL=200n", MAN], capture_output=True,
                          text=True).stdout
    synopsis = page.split("SYNOPSIS", 1)[1].split("DESCRIPTION", 1)[0]
    return options(synopsis_lines(synopsis, sub))


def from_readme(sub):
    use = open(README).read().split("\n## Use", 1)[1]
    block = use.split("```sh", 1)[1].split("```", 1)[0]
    return options(synopsis_lines(block, sub))


@pytest.mark.parametrize("sub", subcommands())
def test_help_man_readme_agree(sub):
    want = from_help(sub)
    assert from_man(sub) == want, f"man page SYNOPSIS for {sub} vs --help"
    assert from_readme(sub) == want, f"README's synopsis for {sub} vs --help"


def sources():
    skip = {".git", "build"}
    for dirpath, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in skip and not d.startswith("__")]
        for f in files:
            if f.endswith((".c", ".h", ".py", ".sh")) or f in ("Makefile", "run"):
                yield os.path.relpath(os.path.join(dirpath, f), ROOT)


@pytest.mark.parametrize("path", sorted(sources()))
def test_file_says_what_it_is_for(path):
    """The first comment (or docstring) of every source file, below any shebang and SPDX line."""
    lines = [line for line in open(os.path.join(ROOT, path)).read().splitlines()
             if line.strip() and not line.startswith("#!") and "SPDX-License-Identifier" not in line]
    first = lines[0].strip() if lines else ""
    # a comment: C's /* or //; Python's docstring or #; shell's and make's # (a C file's "#include" is not one)
    c_like = path.endswith((".c", ".h"))
    starts = ("/*", "//") if c_like else ("#", '"""')
    assert first.startswith(starts) and not first.startswith("#!"), \
        f"{path} does not begin with a comment: {first!r}"
    assert len(first.strip("/*#\" ")) > 0 or len(lines) > 1 and lines[1].strip(" */#").strip(), \
        f"{path}: its first comment is empty"
