#!/usr/bin/python3
"""A container engine's default seccomp profile, changed in one place: the
bpf() system call is allowed to a container that holds CAP_BPF.

    scripts/container/seccomp-bpf.py [DEFAULT.json] > seccomp-xdp-pong.json

xdp-pong needs bpf() to load and attach its program. Older default profiles
allow bpf() only with CAP_SYS_ADMIN, which a responder must not be given:
Debian bookworm's podman 4.3 (containers-common 0.50,
/usr/share/containers/seccomp.json, the default input here) is one. Docker
23 and later and containerd 1.6.x/1.7 (Kubernetes' RuntimeDefault) already
allow bpf() under CAP_BPF and need no change. Nothing else in the profile
changes: perf_event_open() stays as it was (xdp-pong does not call it;
CAP_PERFMON is for the verifier).

Reads only the standard library; the output is the input with bpf taken
out of the rules that refuse it without CAP_SYS_ADMIN, and one rule added.
"""
import json
import sys

DEFAULT = "/usr/share/containers/seccomp.json"


def allow_bpf(profile):
    rules = []
    for rule in profile.get("syscalls", []):
        refuses = rule.get("action") != "SCMP_ACT_ALLOW"
        if refuses and "bpf" in rule.get("names", []):
            rule = dict(rule, names=[n for n in rule["names"] if n != "bpf"])
            if not rule["names"]:
                continue
        rules.append(rule)
    rules.append({"names": ["bpf"], "action": "SCMP_ACT_ALLOW", "args": [],
                  "comment": "xdp-pong: bpf() with CAP_BPF (scripts/container/seccomp-bpf.py)",
                  "includes": {"caps": ["CAP_BPF"]}, "excludes": {}})
    return dict(profile, syscalls=rules)


def main(argv):
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print("usage: seccomp-bpf.py [DEFAULT.json] > OUT.json", file=sys.stderr)
        return 2
    path = argv[0] if argv else DEFAULT
    try:
        with open(path, encoding="utf-8") as f:
            profile = json.load(f)
    except (OSError, ValueError) as exc:
        print(f"seccomp-bpf.py: {path}: {exc}", file=sys.stderr)
        return 1
    if not isinstance(profile, dict) or not isinstance(profile.get("syscalls"), list):
        print(f"seccomp-bpf.py: {path}: not a seccomp profile (no syscalls list)", file=sys.stderr)
        return 1
    json.dump(allow_bpf(profile), sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
