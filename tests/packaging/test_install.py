"""make install (PREFIX, DESTDIR), the man page, and the systemd template unit.

The unit is tested as systemd itself reads it: `systemd --test` (run as an
unprivileged user, on the installed unit) dumps each instance's command
lines after systemd's own parsing and specifier expansion; those argv are
then run as systemd would run them (variables expanded at exec time, the
unit's capability bounding set applied with setpriv, /proc limited to
processes as ProcSubset=pid does, NOTIFY_SOCKET for Type=notify, SIGTERM to
stop), for interfaces named eth0, br-lan and names a shell would act on. systemd-analyze verify
and security (offline) check the unit file. systemctl itself is not run:
the machines this runs on have no systemd as PID 1.
"""
import os
import re
import shutil
import socket
import subprocess
import tempfile

import pytest

from pylib.env import ROOT, Lab, bytes_sh, sh, unique

SYSTEMD = "/lib/systemd/systemd"
# plain; one that needs escaping; names a shell would act on (';' and '>',
# '$(...)', backquotes, quotes, backslashes); variables systemd would expand;
# a byte >= 0x80
NAMES = [b"eth0", b"br-lan", b"v;id>pwned", b"$(touch${IFS}p)", b"q'`id`\\\"\xe9", b"h${HOME}$PATH"]
MAX_EXPOSURE = 3.0     # systemd-analyze security: 9.6 before the unit was sandboxed


def make_install(**var):
    return subprocess.run(["make", "-s", "-C", ROOT, "install"] + [f"{k}={v}" for k, v in var.items()],
                          capture_output=True, text=True, timeout=300)


def unquote_words(line):
    """Split a 'Command Line:' of systemd's dump into words (bytes). systemd
    writes it with shell quoting: "..." with \\\\, \\", \\$ and \\` escaped, other
    bytes that are not printable as \\NNN (octal)."""
    words, i, n = [], 0, len(line)
    while i < n:
        while i < n and line[i:i + 1] == b" ":
            i += 1
        if i >= n:
            break
        word = b""
        while i < n and line[i:i + 1] != b" ":
            c = line[i:i + 1]
            if c == b'"':
                i += 1
                while i < n and line[i:i + 1] != b'"':
                    if line[i:i + 1] == b"\\" and re.fullmatch(rb"[0-7]{3}", line[i + 1:i + 4]):
                        word += bytes([int(line[i + 1:i + 4], 8)])      # a byte it wrote in octal
                        i += 4
                        continue
                    if line[i:i + 1] == b"\\" and line[i + 1:i + 2] in (b'"', b"\\", b"$", b"`"):
                        i += 1
                    word += line[i:i + 1]
                    i += 1
                if i >= n:
                    raise ValueError(f"unterminated quote in {line!r}")
                i += 1
            elif c == b"'":
                j = line.index(b"'", i + 1)
                word += line[i + 1:j]
                i = j + 1
            else:
                if c == b"\\":
                    i += 1
                word += line[i:i + 1]
                i += 1
        words.append(word)
    return words


def systemd_view(unit_dir, instance):
    """What systemd makes of a unit instance: its Exec* argv lists, RuntimeDirectory, CapabilityBoundingSet."""
    env = dict(os.environ, SYSTEMD_UNIT_PATH=unit_dir + ":")
    cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", SYSTEMD, "--test", "--system",
           b"--unit=" + instance]
    if not os.path.ismount("/sys/fs/cgroup"):
        # systemd needs a cgroup file system to start at all (a chroot may lack one): give it
        # one in a mount namespace of its own
        cmd = ["unshare", "-m", "sh", "-c", 'mount -t cgroup2 none /sys/fs/cgroup && exec "$@"', "sh", *cmd]
    res = subprocess.run(cmd, env=env, capture_output=True, timeout=120)
    head = b"-> Unit " + instance + b":"
    lines = res.stdout.split(b"\n")
    start = next((i for i, line in enumerate(lines) if line.strip() == head), None)
    if start is None:
        raise RuntimeError(f"systemd --test did not load {instance!r}: {res.stderr[-300:]!r}")
    view = {"exec": {}, "runtime_dir": None, "caps": []}
    key = None
    for line in lines[start + 1:]:
        s = line.strip()
        if s.startswith(b"-> Unit "):
            break
        m = re.match(rb"^-> (Exec\w+):$", s)
        if m:
            key = m.group(1).decode()
        elif s.startswith(b"Command Line: ") and key:
            view["exec"].setdefault(key, []).append(unquote_words(s[len(b"Command Line: "):]))
        elif s.startswith(b"RuntimeDirectory: "):
            view["runtime_dir"] = s[len(b"RuntimeDirectory: "):]
        elif s.startswith(b"CapabilityBoundingSet: "):
            view["caps"] = s[len(b"CapabilityBoundingSet: "):].decode().split()
    return view


def exec_env_expand(argv, env):
    """systemd's expansion at exec time: "$VAR" as a whole word splits into
    words, "${VAR}" inside a word is replaced, "$$" is a '$'."""
    out = []
    for word in argv:
        m = re.fullmatch(rb"\$([A-Za-z_][A-Za-z0-9_]*)", word)
        if m:
            out += env.get(m.group(1), b"").split()
            continue
        word = re.sub(rb"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda x: env.get(x.group(1), b""), word)
        out.append(word.replace(b"$$", b"$"))
    return out


@pytest.fixture(scope="module")
def installed():
    """make install PREFIX=<tmp>/usr: (tmp, binary, man page, unit). Not under pytest's
    tmp_path: its parents are private, and systemd --test reads the unit as nobody."""
    tmp = tempfile.mkdtemp(prefix="xdp-pong-install.")
    yield from _installed(tmp)
    shutil.rmtree(tmp, ignore_errors=True)


def _installed(tmp):
    prefix = os.path.join(tmp, "usr")
    res = make_install(PREFIX=prefix)
    assert res.returncode == 0, res.stderr[-400:]
    paths = (os.path.join(prefix, "sbin", "xdp-pong"), os.path.join(prefix, "share", "man", "man8", "xdp-pong.8"),
             os.path.join(prefix, "lib", "systemd", "system", "xdp-pong@.service"))
    # systemd --test runs unprivileged: it must be able to read the unit
    for d in (tmp, prefix, os.path.join(prefix, "lib"), os.path.join(prefix, "lib", "systemd"),
              os.path.dirname(paths[2])):
        os.chmod(d, 0o755)
    yield (tmp, *paths)


def test_make_install(installed):
    tmp, binary, man, unit = installed
    completion = os.path.join(tmp, "usr", "share", "bash-completion", "completions", "xdp-pong")
    for path in (binary, man, unit, completion):
        assert os.path.exists(path), f"installed {os.path.relpath(path, tmp)}"
    assert f"ExecStart={binary} run " in open(unit).read(), "unit runs the installed binary"


def test_make_install_destdir(tmp_path):
    dest = str(tmp_path / "dest")
    res = make_install(PREFIX="/opt/xp", DESTDIR=dest)
    dunit = os.path.join(dest, "opt/xp/lib/systemd/system/xdp-pong@.service")
    assert res.returncode == 0 and os.path.exists(os.path.join(dest, "opt/xp/sbin/xdp-pong")) and \
        os.path.exists(dunit), res.stderr[-300:]
    text = open(dunit).read()
    assert "ExecStart=/opt/xp/sbin/xdp-pong" in text and dest not in text, "DESTDIR is not written into the unit"


def test_systemd_analyze_verify(installed, tmp_path):
    tmp, binary, man, unit = installed
    unit_dir = tmp_path / "units"
    unit_dir.mkdir()
    shutil.copy(unit, unit_dir / "xdp-pong@.service")
    os.symlink(unit_dir / "xdp-pong@.service", unit_dir / "xdp-pong@eth0.service")
    res = subprocess.run(["systemd-analyze", "verify", str(unit_dir / "xdp-pong@eth0.service")], capture_output=True,
                         text=True, env=dict(os.environ, MANPATH=os.path.dirname(os.path.dirname(man))))
    assert res.returncode == 0 and not res.stderr.strip(), res.stdout + res.stderr


def test_man_page_covers_every_command(installed):
    tmp, binary, man, unit = installed
    page = subprocess.run(["groff", "-man", "-Tutf8", "-P-cbou", "-rLL=100n", man], capture_output=True,
                          text=True).stdout
    commands = re.findall(r"^  (\w+) ", sh([binary, "--help"]).stdout.split("Commands:")[1], re.M)
    assert "SYNOPSIS" in page and "EXIT STATUS" in page, page[:300]
    missing = [c for c in commands if not re.search(rf"xdp-pong\s+{c}\b", page)]
    assert not missing, f"commands of --help missing from the man page: {missing}"


def test_security_exposure(installed):
    res = subprocess.run(["systemd-analyze", "security", "--offline=true", installed[3]], capture_output=True,
                         text=True)
    m = re.search(r"Overall exposure level for \S+: ([\d.]+)", res.stdout)
    score = float(m.group(1)) if m else None
    print(f"systemd-analyze security: exposure {score}")
    assert score is not None and score <= MAX_EXPOSURE, res.stdout[-600:] + res.stderr[-300:]


@pytest.fixture(scope="module")
def unit_ns():
    with Lab.single(unique("inst")) as lab:
        yield lab


@pytest.mark.parametrize("name", NAMES, ids=[repr(n)[2:-1] for n in NAMES])
def test_unit_instance(installed, unit_ns, tmp_path, name):
    """The unit's command lines for an interface called name, as systemd reads and runs them."""
    tmp, binary, man, unit = installed
    ns = unit_ns.ns_name
    peer = f"peer{NAMES.index(name)}".encode()
    res = bytes_sh([b"ip", b"-n", ns.encode(), b"link", b"add", name, b"type", b"veth", b"peer", b"name", peer])
    assert res.returncode == 0, res.stderr
    bytes_sh([b"ip", b"-n", ns.encode(), b"link", b"set", b"dev", name, b"up"])
    try:
        unit_instance(os.path.dirname(unit), binary, str(tmp_path), ns, name)
    finally:
        bytes_sh([b"ip", b"-n", ns.encode(), b"link", b"del", b"dev", name])


def unit_instance(unit_dir, binary, tmp, ns, name):
    inst = subprocess.run([b"systemd-escape", b"--template=xdp-pong@.service", name],
                          capture_output=True).stdout.strip()
    view = systemd_view(unit_dir, inst)
    start = view["exec"].get("ExecStart", [])
    assert len(start) == 1 and set(view["exec"]) == {"ExecStart"}, f"systemd reads one ExecStart: {view['exec']}"
    assert start[0][0] == binary.encode() and start[0][1] == b"run", f"it runs xdp-pong run, no shell: {start}"
    caps = ",".join("+" + c[4:].lower() for c in view["caps"])
    assert sorted(caps.split(",")) == ["+bpf", "+net_admin", "+net_raw", "+perfmon"], "the unit's capabilities"
    env = {b"XDP_PONG_OPTS": b"--ttl 9 --mode native --unclaimed"}   # --unclaimed: its probes need CAP_NET_RAW
    cwd = os.path.join(tmp, "cwd")
    os.makedirs(cwd, exist_ok=True)
    sname = name.decode("utf-8", "surrogateescape")

    def start_service():
        """ExecStart as systemd runs it (that exact argv, the unit's capabilities only, ProcSubset=pid,
        NOTIFY_SOCKET for Type=notify): (process, its notifications socket)."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        path = os.path.join(tmp, "notify")
        if os.path.exists(path):
            os.unlink(path)
        sock.bind(path)
        sock.settimeout(10)
        proc = subprocess.Popen([b"ip", b"netns", b"exec", ns.encode(), b"unshare", b"-m", b"sh", b"-c",
                                 b'mount -t proc -o subset=pid proc /proc && exec "$0" "$@"', b"setpriv",
                                 b"--bounding-set=-all," + caps.encode(), *exec_env_expand(start[0], env)],
                                cwd=cwd, env=dict(os.environ, NOTIFY_SOCKET=path), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        return proc, sock

    def notified(sock):
        try:
            return sock.recv(4096)
        except socket.timeout:
            return b""

    def by_hand(*verb):
        return subprocess.run(["ip", "netns", "exec", ns, binary, *verb, sname], capture_output=True, text=True)

    def prog():
        out = subprocess.run([b"ip", b"-n", ns.encode(), b"-d", b"link", b"show", b"dev", name],
                             capture_output=True).stdout
        m = re.search(rb"prog/xdp id (\d+)", out)
        return int(m.group(1)) if m else None

    proc, sock = start_service()
    try:
        assert notified(sock) == b"READY=1", "ready (Type=notify) once attached"
        attached = prog()
        assert attached is not None, "ExecStart attaches"
        out = by_hand("status").stdout
        assert re.search(r" native +\d+ +9 ", out), f"$XDP_PONG_OPTS reached run (ttl 9): {out}"
        assert sorted(os.listdir(cwd)) == [], "no shell ran any part of the name"
        res = by_hand("detach")
        assert res.returncode == 1 and "held by a BPF link" in res.stderr and prog() == attached, \
            f"detach by hand is refused while the service holds it: {res.stderr}"
        proc.terminate()                      # systemctl stop: SIGTERM to the main process
        assert proc.wait(timeout=10) == 0, proc.stderr.read()
        assert notified(sock) == b"STOPPING=1"
        assert prog() is None, "stopped: detached"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sock.close()

    # a start that fails (xdp-pong attached by hand): it ends with an error, the program is left alone
    by_hand("attach")
    hand = prog()
    proc, sock = start_service()
    try:
        assert proc.wait(timeout=30) != 0 and hand is not None and prog() == hand, \
            f"ExecStart fails where xdp-pong was attached by hand: {proc.stderr.read()}"
        sock.settimeout(0.1)
        assert notified(sock) == b"", "and never said it was ready"
    finally:
        sock.close()
    by_hand("detach")
