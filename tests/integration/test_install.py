"""make install (PREFIX, DESTDIR), the man page, and the systemd template
unit: systemd-analyze verify accepts it, and its ExecStart/ExecStop/
ExecStopPost command lines, run as systemd would run them for an interface,
attach, detach, and leave nothing attached after a failure.
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from pylib.lab import ROOT, sh  # noqa: E402


def make_install(**var):
    return subprocess.run(["make", "-s", "-C", ROOT, "install"] + [f"{k}={v}" for k, v in var.items()],
                          capture_output=True, text=True, timeout=300)


def unit_commands(unit_text, key, iface, runtime):
    """The command lines of key= in a unit, specifiers expanded (%t = runtime), '-' prefix noted."""
    out = []
    for line in unit_text.splitlines():
        if line.startswith(key + "="):
            cmd = (line[len(key) + 1:].replace("%I", iface).replace("%i", iface).replace("%t", runtime)
                   .replace("$XDP_PONG_OPTS", ""))
            ignore = cmd.startswith("-")
            out.append((ignore, shlex.split(cmd.lstrip("-"))))
    return out


def run(t):
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "usr")
        res = make_install(PREFIX=prefix)
        t.check("make install PREFIX=...", res.returncode == 0, res.stderr[-400:])
        binary = os.path.join(prefix, "sbin", "xdp-pong")
        man = os.path.join(prefix, "share", "man", "man8", "xdp-pong.8")
        unit = os.path.join(prefix, "lib", "systemd", "system", "xdp-pong@.service")
        for path in (binary, man, unit):
            t.check(f"installed {os.path.relpath(path, tmp)}", os.path.exists(path))
        if not os.path.exists(unit):
            return
        text = open(unit).read()
        t.check("unit runs the installed binary", f"ExecStart={binary} attach %I" in text, text)

        dest = os.path.join(tmp, "dest")
        res = make_install(PREFIX="/opt/xp", DESTDIR=dest)
        dunit = os.path.join(dest, "opt/xp/lib/systemd/system/xdp-pong@.service")
        t.check("make install DESTDIR=... PREFIX=/opt/xp: files under DESTDIR",
                res.returncode == 0 and os.path.exists(os.path.join(dest, "opt/xp/sbin/xdp-pong")) and
                os.path.exists(dunit), res.stderr[-300:])
        t.check("DESTDIR is not written into the unit", os.path.exists(dunit) and
                "ExecStart=/opt/xp/sbin/xdp-pong" in open(dunit).read() and dest not in open(dunit).read())

        instance = os.path.join(os.path.dirname(unit), "xdp-pong@eth0.service")
        os.symlink(unit, instance)
        env = dict(os.environ, MANPATH=os.path.join(prefix, "share", "man"))
        res = subprocess.run(["systemd-analyze", "verify", instance], capture_output=True, text=True, env=env)
        t.check("systemd-analyze verify xdp-pong@eth0.service", res.returncode == 0 and not res.stderr.strip(),
                res.stdout + res.stderr)

        page = subprocess.run(["man", "-l", man], capture_output=True, text=True,
                              env=dict(os.environ, MANWIDTH="100")).stdout
        helptext = sh([binary, "--help"]).stdout
        commands = re.findall(r"^  (\w+) ", helptext.split("Commands:")[1], re.M)
        t.check("the man page renders", "SYNOPSIS" in page and "EXIT STATUS" in page, page[:300])
        missing = [c for c in commands if f"xdp-pong {c}" not in page]
        t.check(f"the man page covers every command of --help ({', '.join(commands)})", not missing, str(missing))

        # the unit's commands, as systemd runs them (its runtime directory in tmp)
        runtime = os.path.join(tmp, "run")
        ns = f"xpinst{os.getpid() % 100000}"
        sh(["ip", "netns", "del", ns])
        sh(["ip", "netns", "add", ns])
        try:
            sh(["ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1"])
            sh(["ip", "-n", ns, "link", "set", "eth0", "up"])

            def step(key):
                """Run key='s commands; returns their exit codes (systemd stops at the first failure)."""
                codes = []
                for ignore, cmd in unit_commands(text, key, "eth0", runtime):
                    r = sh(["ip", "netns", "exec", ns, *cmd])
                    codes.append(r.returncode)
                    if r.returncode and not ignore:
                        break
                return codes

            def start():
                os.makedirs(os.path.join(runtime, "xdp-pong-eth0"), exist_ok=True)   # RuntimeDirectory=
                codes = step("ExecStart")
                return codes + (step("ExecStartPost") if codes == [0] else [])

            def stop(run_exec_stop=True):
                codes = (step("ExecStop") if run_exec_stop else []) + step("ExecStopPost")
                sh(["rm", "-rf", os.path.join(runtime, "xdp-pong-eth0")])          # removed at stop
                return codes

            def prog():
                out = sh(["ip", "-n", ns, "-d", "link", "show", "eth0"]).stdout
                return out.split("prog/xdp id ")[1].split()[0] if "prog/xdp id " in out else None

            t.equal("unit start: ExecStart and ExecStartPost succeed", start(), [0, 0])
            t.check("unit start attached xdp-pong to eth0", prog() is not None)
            t.equal("unit stop: ExecStop and ExecStopPost succeed", stop(), [0, 0])
            t.equal("unit stop detached it", prog(), None)

            start()
            t.equal("after a failure (ExecStop never ran), ExecStopPost succeeds", stop(run_exec_stop=False), [0])
            t.equal("after a failure, nothing this unit attached stays attached", prog(), None)

            sh(["ip", "netns", "exec", ns, binary, "attach", "eth0"])   # attached by hand, not by the unit
            by_hand = prog()
            codes = start()
            t.check("unit start on an interface already running xdp-pong fails", codes and codes[0] != 0, codes)
            stop(run_exec_stop=False)
            t.equal("the failed start's ExecStopPost leaves the hand-attached xdp-pong alone", prog(), by_hand)
        finally:
            sh(["ip", "netns", "del", ns])
