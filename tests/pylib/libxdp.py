"""libxdp (libxdp.so.1, ctypes) as another XDP tool uses it: attach a program
through libxdp's dispatcher where the kernel lets it load one (libxdp falls
back to attaching the program alone where it does not), and list what libxdp
sees on an interface. Run as a script inside a namespace, with LIBXDP_BPFFS
naming the bpffs libxdp keeps its dispatcher's pins in:

    python3 libxdp.py attach IFACE OBJ SECTION   # prints {"prog_id": N}
    python3 libxdp.py list IFACE                 # prints {"dispatcher": ID or null, "programs": [[NAME, ID], ...]}

libxdp's own messages (why it fell back, say) go to stderr.

Imported, it gives the tests bpffs() (a bpffs of their own for LIBXDP_BPFFS),
run() (this script in a namespace) and dispatcher_probe() (for
pylib/kernel.py: does libxdp's dispatcher load on this kernel?).
"""
import contextlib
import ctypes
import json
import os
import socket
import subprocess
import sys
import tempfile

HELPER = os.path.abspath(__file__)
DISPATCHER = "libxdp's dispatcher"      # the feature's name for pylib/kernel.py

XDP_MODE_NATIVE = 1


def _lib():
    lib = ctypes.CDLL("libxdp.so.1", use_errno=True)
    for name, res, args in (
            ("xdp_program__open_file", ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p]),
            ("libxdp_get_error", ctypes.c_long, [ctypes.c_void_p]),
            ("xdp_program__attach", ctypes.c_int, [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_uint]),
            ("xdp_program__id", ctypes.c_uint32, [ctypes.c_void_p]),
            ("xdp_program__name", ctypes.c_char_p, [ctypes.c_void_p]),
            ("xdp_program__close", None, [ctypes.c_void_p]),
            ("xdp_multiprog__get_from_ifindex", ctypes.c_void_p, [ctypes.c_int]),
            ("xdp_multiprog__is_legacy", ctypes.c_bool, [ctypes.c_void_p]),
            ("xdp_multiprog__main_prog", ctypes.c_void_p, [ctypes.c_void_p]),
            ("xdp_multiprog__next_prog", ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_void_p]),
            ("xdp_multiprog__close", None, [ctypes.c_void_p])):
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    return lib


def attach(iface, obj, section):
    """Attach obj's program in section to iface (native mode) as xdp-loader does, through
    xdp_program__attach: {"prog_id": N}, or {"error": -errno}."""
    lib = _lib()
    prog = lib.xdp_program__open_file(obj.encode(), section.encode(), None)
    err = lib.libxdp_get_error(prog)
    if err:
        return {"error": err}
    err = lib.xdp_program__attach(prog, socket.if_nametoindex(iface), XDP_MODE_NATIVE, 0)
    out = {"error": err} if err else {"prog_id": lib.xdp_program__id(prog)}
    lib.xdp_program__close(prog)
    return out


def listing(iface):
    """What libxdp sees on iface: the dispatcher's id (None: no dispatcher) and the programs it runs."""
    lib = _lib()
    mp = lib.xdp_multiprog__get_from_ifindex(socket.if_nametoindex(iface))
    err = lib.libxdp_get_error(mp)
    if err:
        return {"error": err}
    main = lib.xdp_multiprog__main_prog(mp)
    out = {"dispatcher": None, "programs": []}
    if lib.xdp_multiprog__is_legacy(mp):
        if main:
            out["programs"].append([lib.xdp_program__name(main).decode(), lib.xdp_program__id(main)])
    else:
        out["dispatcher"] = lib.xdp_program__id(main)
        prog = lib.xdp_multiprog__next_prog(None, mp)
        while prog:
            out["programs"].append([lib.xdp_program__name(prog).decode(), lib.xdp_program__id(prog)])
            prog = lib.xdp_multiprog__next_prog(prog, mp)
    lib.xdp_multiprog__close(mp)
    return out


@contextlib.contextmanager
def bpffs():
    """A bpffs of the caller's own, on a temporary directory that every namespace sees (ip netns exec
    mounts /sys afresh, so /sys/fs/bpf would not last from one command to the next): its path, for
    LIBXDP_BPFFS. Unmounted on the way out, and the dispatcher's pins with it."""
    path = tempfile.mkdtemp(prefix="xdp-pong-bpffs.")
    try:
        subprocess.run(["mount", "-t", "bpf", "bpf", path], check=True, capture_output=True)
        try:
            yield path
        finally:
            subprocess.run(["umount", path], check=False, capture_output=True)
    finally:
        os.rmdir(path)


def run(lab, ns, fs, *args, timeout=60):
    """This script with ARGS in namespace ns, libxdp's pins in the bpffs fs: (exit status, its JSON, stderr)."""
    res = lab.run(ns, sys.executable, HELPER, *args, env=dict(os.environ, LIBXDP_BPFFS=fs), timeout=timeout)
    return res.returncode, json.loads(res.stdout) if res.stdout.strip() else None, res.stderr


def dispatcher_probe():
    """Does libxdp's dispatcher load here? A program that passes everything is attached through libxdp
    to a veth in a namespace of its own, with a bpffs: (True, "") if libxdp runs it under its dispatcher,
    else (False, libxdp's reason for attaching it alone)."""
    from pylib.env import PASS_OBJ, Lab, unique
    with bpffs() as fs, Lab.single(unique("xdisp")) as lab:
        ns = lab.ns_name
        lab.ip(ns, "link", "add", "a0", "type", "veth", "peer", "name", "b0")
        for dev in ("a0", "b0"):
            lab.ip(ns, "link", "set", dev, "up")
        code, out, err = run(lab, ns, fs, "attach", "a0", PASS_OBJ, "xdp")
        assert code == 0, f"libxdp attaches no program at all: {out} {err}"
        code, seen, err2 = run(lab, ns, fs, "list", "a0")
        assert code == 0, f"libxdp cannot list a0: {seen} {err2}"
        if seen["dispatcher"]:
            return True, ""
        why = [line.removeprefix("libxdp: ") for line in err.splitlines()
               if line.startswith("libxdp: ") and "dispatcher" in line and "Falling back" not in line]
        return False, "; ".join(why) or "libxdp attached the program alone"


if __name__ == "__main__":
    if sys.argv[1:2] == ["attach"] and len(sys.argv) == 5:
        result = attach(*sys.argv[2:])
    elif sys.argv[1:2] == ["list"] and len(sys.argv) == 3:
        result = listing(sys.argv[2])
    else:
        sys.exit(__doc__)
    print(json.dumps(result))
    sys.exit(1 if "error" in result else 0)
