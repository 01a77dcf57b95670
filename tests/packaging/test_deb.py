"""make deb (scripts/packaging/deb.sh, scripts/packaging/debian/): the Debian package.

- It builds from a copy of the tracked tree, in a throwaway bookworm build
  root (nothing installed on this machine), and lintian finds no error or
  warning in the source or binary package (each override in debian/ says why).
- The .deb holds exactly the binary, the man page (gzipped), the template
  unit running /usr/sbin/xdp-pong, the bash completion, the README and
  Debian's own files; its version is the program's (PONG_VERSION).
- Its maintainer scripts enable and start nothing. What dh generates for
  the template unit with --no-enable --no-start is no maintainer script at
  all; any script that appears must not enable or start a unit.
- Installed by apt in a fresh bookworm root (mmdebstrap minbase, with man-db
  and the package's Depends: the root differs from the snapshot by xdp-pong
  alone), it adds its own files and dpkg's records of them and nothing
  else (no unit enabled, nothing in /etc), `xdp-pong --version` prints the
  package's version, `man -w` finds the page, bash loads the completion.
  Purged, it leaves the root as it found it: every file, directory and link
  outside the volatile trees (/proc, /sys, /dev, /run, /tmp, /var/tmp,
  /var/cache: apt's archives and man-db's index, /var/log: dpkg's and apt's
  logs, /var/lib/apt/lists) is back with the same type, owner, mode and
  content, but /var/lib/dpkg/status-old, the backup dpkg rewrites on every
  run.
- The root lives under /var/tmp, has nothing mounted into it, and is removed
  on every way out (failure, Ctrl-C, SIGTERM, SIGHUP).
"""
import contextlib
import gzip
import hashlib
import os
import re
import shutil
import signal
import stat
import subprocess
import tarfile
import tempfile

import pytest

from pylib.env import ROOT, apt_sources

pytestmark = pytest.mark.slow

DEB_SH = os.path.join(ROOT, "scripts", "packaging", "deb.sh")
DEBIAN = os.path.join(ROOT, "scripts", "packaging", "debian")
# Trees that change by themselves or hold no state of a package: never compared.
VOLATILE = ("proc", "sys", "dev", "run", "tmp", "var/tmp", "var/cache", "var/log", "var/lib/apt/lists")
# The only file that may differ after install and purge: dpkg's copy of the
# previous status file, rewritten on every dpkg run.
DPKG_BACKUP = "var/lib/dpkg/status-old"
CHROOT_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "DEBIAN_FRONTEND": "noninteractive"}
# What would enable or start a unit (or an init script) from a maintainer script
ENABLING = re.compile(r"deb-systemd-helper\s+(--\S+\s+)*(enable|reenable)\b|"
                      r"deb-systemd-invoke\s+(?!stop\b)\S|"      # start, restart, $_dh_action
                      r"systemctl\s+(--\S+\s+)*(enable|start|restart|reenable)\b|"
                      r"invoke-rc\.d|update-rc\.d\s+\S+\s+(defaults|enable)")


def run(cmd, timeout=600, **kw):
    """A command, stopped with SIGTERM (then SIGKILL) if the test is interrupted
    or it times out, so that it can clean up after itself (mmdebstrap unmounts)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except BaseException:
        proc.terminate()
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, "")


@contextlib.contextmanager
def interruptible():
    """SIGTERM and SIGHUP end the test the way Ctrl-C does, through every finally."""
    def stop(sig, frame):
        raise KeyboardInterrupt(f"signal {signal.Signals(sig).name}")
    old = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def remove_root(path):
    """Unmount whatever is under path (nothing, unless mmdebstrap was killed
    half-way), then remove it without ever crossing into another file system."""
    mounts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4].encode().decode("unicode_escape")
            if point == path or point.startswith(path + "/"):
                mounts.append(point)
    for point in sorted(mounts, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)
    subprocess.run(["rm", "-rf", "--one-file-system", path], capture_output=True)


def snapshot(root):
    """Every path under root but the volatile trees: type, owner, mode, and a
    regular file's size and content hash, a link's target."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        rel = "" if rel == "." else rel
        dirs[:] = sorted(d for d in dirs if os.path.join(rel, d) not in VOLATILE)
        for name in dirs + files:
            path, key = os.path.join(dirpath, name), os.path.join(rel, name)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                out[key] = ("link", os.readlink(path))
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
                out[key] = ("file", st.st_uid, st.st_gid, oct(st.st_mode), st.st_size, digest)
            else:
                out[key] = ("dir" if stat.S_ISDIR(st.st_mode) else "other", st.st_uid, st.st_gid, oct(st.st_mode))
    return out


def differences(before, after):
    """{'added': [...], 'removed': [...], 'changed': [...]} between two snapshots."""
    return {"added": sorted(set(after) - set(before)), "removed": sorted(set(before) - set(after)),
            "changed": sorted(k for k in set(before) & set(after) if before[k] != after[k])}


def in_root(root, rel):
    """A package path as it lands in root: through a top-level link such as
    lib -> usr/lib of a merged-/usr system."""
    first, _, rest = rel.partition("/")
    link = os.path.join(root, first)
    if rest and os.path.islink(link) and not os.readlink(link).startswith("/"):
        return os.path.normpath(os.path.join(os.readlink(link), rest))
    return rel


def deb_paths(deb):
    """The paths a .deb holds (./ stripped), with the mode string dpkg-deb shows."""
    res = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True, check=True)
    paths = {}
    for line in res.stdout.splitlines():
        fields = line.split(None, 5)
        name = fields[5].split(" -> ")[0]
        if name.startswith("./") and name != "./":
            paths[name[2:].rstrip("/")] = fields[0]
    return paths


def upstream_version():
    with open(os.path.join(ROOT, "loader", "xdp-pong.h")) as f:
        return re.search(r'#define PONG_VERSION\s+"([^"]+)"', f.read()).group(1)


@pytest.fixture(scope="module")
def package():
    """make deb's build: (the .deb's path, deb.sh's output)."""
    with interruptible():
        res = run(["sh", DEB_SH], timeout=1200)
    assert res.returncode == 0, f"deb.sh failed:\n{res.stdout[-3000:]}"
    deb = res.stdout.strip().splitlines()[-1]
    assert os.path.isfile(deb), f"deb.sh printed the .deb's path last: {deb}"
    return deb, res.stdout


def field(deb, name):
    return subprocess.run(["dpkg-deb", "-f", deb, name], capture_output=True, text=True, check=True).stdout.strip()


def test_lintian_clean(package):
    deb, log = package
    hints = [line for line in log.splitlines() if re.match(r"^[EWIPX]: ", line)]
    print("\n".join(["lintian:"] + (hints or ["(no hints)"])))
    bad = [h for h in hints if h[0] in "EW"]
    assert not bad and "deb: lintian: no errors or warnings" in log, f"lintian errors or warnings: {bad}"
    # each override says why, in a comment right above it
    for rel in ("xdp-pong.lintian-overrides", "source/lintian-overrides"):
        path = os.path.join(DEBIAN, rel)
        if not os.path.exists(path):
            continue
        lines = open(path).read().splitlines()
        for i, line in enumerate(lines):
            if line.strip() and not line.startswith("#"):
                assert i > 0 and lines[i - 1].startswith("#"), f"{rel}: override without a reason above it: {line}"


def test_contents(package, tmp_path):
    deb, _ = package
    version = field(deb, "Version")
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()
    assert version == f"{upstream_version()}-1" and os.path.basename(deb) == f"xdp-pong_{version}_{arch}.deb", \
        f"the package's version is the program's (PONG_VERSION {upstream_version()}): {version}, {deb}"
    depends = field(deb, "Depends")
    for lib in ("libbpf1", "libxdp1", "libmicrohttpd12", "libc6"):
        assert re.search(rf"\b{lib}\b", depends), f"Depends names {lib}: {depends}"

    paths = deb_paths(deb)
    files = {p: mode for p, mode in paths.items() if not mode.startswith("d")}
    expected = {
        "usr/sbin/xdp-pong": "-rwxr-xr-x",
        "usr/share/man/man8/xdp-pong.8.gz": "-rw-r--r--",
        "lib/systemd/system/xdp-pong@.service": "-rw-r--r--",
        "usr/share/bash-completion/completions/xdp-pong": "-rw-r--r--",
        "usr/share/doc/xdp-pong/README.md.gz": "-rw-r--r--",
        "usr/share/doc/xdp-pong/changelog.Debian.gz": "-rw-r--r--",
        "usr/share/doc/xdp-pong/copyright": "-rw-r--r--",
        "usr/share/lintian/overrides/xdp-pong": "-rw-r--r--",
    }
    assert files == expected, f"the package holds exactly {sorted(expected)}: {files}"

    tree = tmp_path / "x"
    subprocess.run(["dpkg-deb", "-x", deb, str(tree)], check=True)
    unit = (tree / "lib/systemd/system/xdp-pong@.service").read_text()
    assert re.search(r"^ExecStart=/usr/sbin/xdp-pong run ", unit, re.M) and "@SBINDIR@" not in unit, \
        f"the unit runs the packaged binary: {re.findall(r'^ExecStart=.*', unit, re.M)}"
    # the files as the build took them from the tree: the upstream tarball made with the .deb
    # (the work tree may have changed since)
    source = {"loader/xdp-pong.8": "usr/share/man/man8/xdp-pong.8.gz",
              "README.md": "usr/share/doc/xdp-pong/README.md.gz",
              "scripts/packaging/xdp-pong.bash-completion": "usr/share/bash-completion/completions/xdp-pong"}
    orig = os.path.join(os.path.dirname(deb), f"xdp-pong_{version.rsplit('-', 1)[0]}.orig.tar.gz")
    with tarfile.open(orig) as tar:
        for src, packaged in source.items():
            want = tar.extractfile(f"xdp-pong-{version.rsplit('-', 1)[0]}/{src}").read()
            path = tree / packaged
            got = gzip.decompress(path.read_bytes()) if packaged.endswith(".gz") else path.read_bytes()
            assert got == want, f"{packaged} is the tree's {src}"


def test_maintainer_scripts(package, tmp_path):
    deb, _ = package
    ctrl = tmp_path / "control"
    subprocess.run(["dpkg-deb", "-e", deb, str(ctrl)], check=True)
    members = sorted(os.listdir(ctrl))
    print(f"control members: {members}")
    for script in ("preinst", "postinst", "prerm", "postrm"):
        path = ctrl / script
        if path.exists():
            text = path.read_text()
            assert not ENABLING.search(text), f"{script} enables or starts a unit:\n{text}"
    assert not (ctrl / "conffiles").exists() or not (ctrl / "conffiles").read_text().strip(), "no conffiles"


def test_install_and_purge_in_fresh_root(package):
    deb, _ = package
    depends = [alt.split("|")[0].split("(")[0].strip() for alt in field(deb, "Depends").split(",")]
    root = tempfile.mkdtemp(prefix="xdp-pong-deb.", dir="/var/tmp")
    try:
        with interruptible():
            fresh_root(deb, root, depends)
    finally:
        remove_root(root)
    assert not os.path.exists(root), f"{root} removed"


def chroot(root, *cmd, timeout=300):
    return run(["chroot", root, *cmd], timeout=timeout, env=CHROOT_ENV)


def fresh_root(deb, root, depends):
    # The host's apt settings (as ../shared/fresh-machine copies them), and the
    # package's run-time dependencies, so that the root differs by xdp-pong alone
    res = run(["mmdebstrap", "--quiet", "--variant=minbase", "--include=" + ",".join(["man-db"] + depends),
               '--setup-hook=mkdir -p "$1/etc/apt/apt.conf.d"; '
               'cp /etc/apt/apt.conf.d/* "$1/etc/apt/apt.conf.d/" 2>/dev/null || true',
               "bookworm", root, *apt_sources()], timeout=900)
    assert res.returncode == 0, f"mmdebstrap failed:\n{res.stdout[-2000:]}"
    before = snapshot(root)
    name = os.path.basename(deb)
    shutil.copy(deb, os.path.join(root, "tmp", name))

    res = chroot(root, "apt-get", "install", "-y", "-q", "--no-install-recommends", "-o", "Dpkg::Use-Pty=0",
                 f"/tmp/{name}")
    assert res.returncode == 0, f"apt-get install ./{name}:\n{res.stdout[-2000:]}"
    installed = snapshot(root)
    diff = differences(before, installed)
    own = {in_root(root, p) for p in deb_paths(deb)}
    extra = [p for p in diff["added"] if p not in own and not p.startswith("var/lib/dpkg/info/xdp-pong.")]
    missing = [p for p in own if p not in installed]
    assert not extra and not missing and not diff["removed"], \
        f"install adds the package's files and dpkg's records only: extra {extra}, missing {missing}, " \
        f"removed {diff['removed']}"
    changed = [p for p in diff["changed"] if p not in ("var/lib/dpkg/status", DPKG_BACKUP)]
    assert not changed, f"install changes nothing but dpkg's status: {changed}"
    assert not [p for p in diff["added"] if p.startswith(("etc/", "var/lib/systemd/"))], \
        "nothing in /etc or systemd's state: no unit enabled"

    res = chroot(root, "xdp-pong", "--version")
    assert res.returncode == 0 and res.stdout.strip() == f"xdp-pong {field(deb, 'Version').rsplit('-', 1)[0]}", \
        f"the installed xdp-pong is the package's version: {res.stdout.strip()}"
    res = chroot(root, "man", "-w", "xdp-pong")
    assert res.returncode == 0 and res.stdout.strip() == "/usr/share/man/man8/xdp-pong.8.gz", \
        f"man finds the page: {res.stdout.strip()}"
    res = chroot(root, "bash", "-c", "source /usr/share/bash-completion/completions/xdp-pong && complete -p xdp-pong")
    assert res.returncode == 0 and "xdp-pong" in res.stdout, f"bash loads the completion: {res.stdout}"
    for unit in ("xdp-pong@.service", "xdp-pong@eth0.service"):
        res = run(["systemctl", f"--root={root}", "is-enabled", unit])
        assert res.stdout.strip() == "disabled", f"{unit} is not enabled: {res.stdout.strip()}"

    res = chroot(root, "apt-get", "purge", "-y", "-q", "-o", "Dpkg::Use-Pty=0", "xdp-pong")
    assert res.returncode == 0, f"apt-get purge xdp-pong:\n{res.stdout[-2000:]}"
    os.unlink(os.path.join(root, "tmp", name))
    diff = differences(before, snapshot(root))
    diff["changed"] = [p for p in diff["changed"] if p != DPKG_BACKUP]
    assert diff == {"added": [], "removed": [], "changed": []}, f"purge leaves the root as it was: {diff}"
