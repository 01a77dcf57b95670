"""The documents agree with the code. The options are declared once
(loader/options.c) and `xdp-pong SUB --help` prints them; the man page
(loader/xdp-pong.8) is the reference and must name the same options for every
subcommand, in its SYNOPSIS and in its OPTIONS (each option there says which
commands take it), with the same short letter and value; its refusal reasons
and outcomes are the datapath's (xdp/pong.h). README.md only names commands:
its "Commands" table lists exactly the real ones, and every command line in
it (or in the man page's EXAMPLES) uses options that command has.
tests/README.md names every test file there is, and scripts/bench/README.md
every option of bench.py. And every file of the project says first what it
is for.
"""
import os
import re
import subprocess
import sys

import pytest

from pylib.env import ROOT, XDP_PONG

MAN = os.path.join(ROOT, "loader", "xdp-pong.8")
README = os.path.join(ROOT, "README.md")
TESTS_README = os.path.join(ROOT, "tests", "README.md")
BENCH_README = os.path.join(ROOT, "scripts", "bench", "README.md")
ABI = os.path.join(ROOT, "xdp", "pong.h")


def subcommands():
    out = subprocess.run([XDP_PONG, "--help"], capture_output=True, text=True).stdout
    return re.findall(r"^  (\w+) ", out.split("Commands:")[1], re.M)


def options(text):
    return set(re.findall(r"--([a-z][a-z-]*)", text)) - {"help"}


def sub_help(sub):
    return subprocess.run([XDP_PONG, sub, "--help"], capture_output=True, text=True).stdout


def from_help(sub):
    return options(sub_help(sub).split("\n\n")[0])           # the usage lines


def help_tags(sub):
    """The option rows of `xdp-pong SUB --help` as written there: {'-m, --mode native|skb', ...}."""
    tags = set()
    for line in sub_help(sub).splitlines():
        m = re.match(r"^  (-\w, --\S+(?: \S+)?)(?:\s{2,}|$)", line)
        if m and m.group(1) != "-h, --help":
            tags.add(m.group(1))
    return tags


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


def rendered_man():
    return subprocess.run(["groff", "-man", "-Tutf8", "-P-cbou", "-rLL=200n", MAN], capture_output=True,
                          text=True).stdout.replace("\u2010", "-").replace("\u2212", "-")


def from_man(sub):
    synopsis = rendered_man().split("SYNOPSIS", 1)[1].split("DESCRIPTION", 1)[0]
    return options(synopsis_lines(synopsis, sub))


def man_section(name):
    """The troff source of the man page's section NAME (between its .SH and the next)."""
    parts = re.split(r"^\.SH ", open(MAN).read(), flags=re.M)
    found = [p for p in parts if p.split("\n", 1)[0].strip().strip('"') == name]
    assert found, f"the man page has no section {name}"
    return found[0].split("\n", 1)[1]


def troff_text(line):
    """The text a one-line font request (.B, .BR, .RB, ...) prints, without fonts."""
    req, _, rest = line.partition(" ")
    args = [q.replace('""', '"') if q or not u else u
            for q, u in re.findall(r'"((?:[^"]|"")*)"|(\S+)', rest)]
    text = " ".join(args) if req in (".B", ".I") else "".join(args)
    return text.replace("\\-", "-").replace("\\e", "\\")


def man_tags(section):
    """The tags of the .TP entries of a man page section, and the further tags .TQ gives an
    entry: [(tag, the line after it)]."""
    lines = man_section(section).splitlines()
    return [(troff_text(lines[i + 1]), lines[i + 2] if i + 2 < len(lines) else "")
            for i, line in enumerate(lines[:-1]) if line in (".TP", ".TQ")]


def man_options():
    """{command: {option tag}} from the man page's OPTIONS: each entry says '(cmd, cmd)' first."""
    by_command = {}
    for tag, first in man_tags("OPTIONS"):
        m = re.match(r"^\(([\w, ]+)\)", first)
        assert m, f"man page OPTIONS: {tag!r} does not begin with the commands that take it: {first!r}"
        for command in re.split(r",\s*", m.group(1)):
            by_command.setdefault(command, set()).add(tag)
    return by_command


def abi_names(macro):
    """The names of an X-macro list of xdp/pong.h: PONG_REASONS -> {'l2_dst', ...}."""
    text = open(ABI).read()
    body = re.search(rf"#define {macro}\(X\)(.*?)(?:\n\n|\n#|\n/)", text, re.S)
    assert body, f"{macro} not found in xdp/pong.h"
    return set(re.findall(r'X\(\s*\w+\s*,\s*"(\w+)"', body.group(1)))


def code_lines(text):
    """The lines of a Markdown text's fenced code blocks, a line continued with a backslash joined to
    the next."""
    blocks = re.findall(r"^```\w*\n(.*?)^```", text, re.S | re.M)
    return [line for block in blocks for line in re.sub(r"\\\n\s*", " ", block).splitlines()]


def command_lines(lines):
    """(command, its options) for each line that runs xdp-pong (as xdp-pong, build/xdp-pong, with sudo)."""
    for line in lines:
        m = re.match(r"^\s*(?:sudo\s+)?(?:\S*/)?xdp-pong\s+(\S+)(.*)$", line.replace("\\-", "-"))
        if m:
            yield m.group(1), options(m.group(2).split("#", 1)[0])


@pytest.mark.parametrize("sub", subcommands())
def test_help_and_man_synopsis_agree(sub):
    assert from_man(sub) == from_help(sub), f"man page SYNOPSIS for {sub} vs --help"


@pytest.mark.parametrize("sub", subcommands())
def test_man_options_are_the_help_options(sub):
    """Both ways: an option --help lists is described in the man page under that command, and the man
    page gives a command no option it does not take; short letter and value as --help writes them."""
    assert man_options().get(sub, set()) == help_tags(sub), f"man page OPTIONS for {sub} vs --help"


def test_man_options_name_real_commands():
    assert set(man_options()) <= set(subcommands())


def test_man_reasons_are_the_datapaths():
    """Every refusal reason the datapath counts is explained, and no other."""
    assert {tag for tag, _ in man_tags("REFUSAL REASONS")} == abi_names("PONG_REASONS")


def test_man_outcomes_are_the_datapaths():
    assert {tag for tag, _ in man_tags("WHAT IS ANSWERED")} == abi_names("PONG_COUNTERS")


def test_man_page_renders_without_warnings():
    res = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", MAN], capture_output=True, text=True)
    assert res.returncode == 0 and not res.stderr.strip(), res.stderr


def test_readme_commands_are_the_real_ones():
    """README's "Commands" table lists each command once, no other, and sends the reader to the man page."""
    section = open(README).read().split("\n## Commands", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `(\w+)", section, re.M)
    assert sorted(listed) == sorted(subcommands()), f"README's Commands table: {listed}"
    assert "man xdp-pong" in section


@pytest.mark.parametrize("doc", [README, MAN])
def test_command_lines_use_real_options(doc):
    """Every xdp-pong command line in README's code blocks and the man page's EXAMPLES: a real command,
    with options that command takes."""
    lines = code_lines(open(doc).read()) if doc == README else man_section("EXAMPLES").splitlines()
    seen = list(command_lines(lines))
    assert seen, f"no xdp-pong command line found in {doc}"
    for sub, opts in seen:
        assert sub in subcommands() or sub == "--version", f"{doc}: xdp-pong {sub}: no such command"
        if sub in subcommands():
            assert opts <= from_help(sub), f"{doc}: xdp-pong {sub} has no {opts - from_help(sub)}"


def test_tests_readme_names_every_test_file():
    """tests/README.md says what each test file guards: every one is named there, and every one it
    names exists."""
    tests = os.path.join(ROOT, "tests")
    files = {os.path.relpath(os.path.join(d, f), tests) for d, _, fs in os.walk(tests)
             for f in fs if re.match(r"test_\w+\.py$", f)}
    named = set(re.findall(r"\b((?:[a-z]+/)+test_\w+\.py)\b", open(TESTS_README).read()))
    assert files - named == set(), "test files tests/README.md does not name"
    assert named - files == set(), "tests/README.md names test files that do not exist"


def test_bench_readme_names_every_bench_option():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "bench", "bench.py"), "--help"],
                         capture_output=True, text=True).stdout
    have = options(out)
    text = open(BENCH_README).read()
    named = options("\n".join(line for line in text.splitlines() if "bench.py" in line or "BENCH_ARGS" in line))
    assert have - options(text) == set(), "bench.py options scripts/bench/README.md does not describe"
    assert named - have == set(), "scripts/bench/README.md gives bench.py options it does not have"


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
