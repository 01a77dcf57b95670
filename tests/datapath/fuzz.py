"""Differential fuzzing: random and mutated frames through the real program
(BPF_PROG_TEST_RUN via build/pong-testrun), each checked against the
independent model in model.py.

For every frame: the verdict is XDP_TX or XDP_PASS only; a passed frame comes
out byte-identical; a reply equals the model's reply byte for byte; the
counter and refusal reason that moved are the model's; an echo reply's
checksums are valid exactly when the request's were. Every counter and every
refusal reason must be reached, or the fuzzer is not reaching deep enough.

    /usr/bin/python3 tests/datapath/fuzz.py [--count N] [--seed S]

replays a run (the seed is printed); `make check` runs 200,000 frames
(tests/datapath/test_fuzz.py), `make fuzz N=...` runs more.
"""
import argparse
import os
import random
import re
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from datapath.model import Model, adopt_times, ones_sum  # noqa: E402
from pylib.env import ROOT, TESTRUN  # noqa: E402
from pylib.frames import (ANY_IP, ANY_IP6, ICMPv6NDOptSrcLLAddr, IF_MAC, IP, PEER_MAC, UDP,  # noqa: E402
                          IPv6ExtHdrHopByHop, Raw, arp_request, echo4, echo6, l2, ns)

DEFAULT_COUNT = 200_000
MAC = bytes.fromhex(IF_MAC.replace(":", ""))
TTL = 64
COUNTERS = ["echo4", "arp", "echo6", "ndp", "passed", "refused"]


def reasons_from_header():
    """Reason names as the ABI header lists them (so a new reason must be reached too)."""
    text = open(os.path.join(ROOT, "xdp", "pong.h")).read()
    block = text.split("#define PONG_REASONS(X)", 1)[1].split("enum pong_reason", 1)[0]
    return re.findall(r'X\(\w+,\s*"(\w+)"', block)


def templates():
    """Valid requests of every kind, plain and tagged, as (name, bytes)."""
    q, qinq = [(0x8100, 5)], [(0x88A8, 6), (0x8100, 7)]
    t = [
        ("echo4", echo4()), ("echo4 q", echo4(tags=q)), ("echo4 qinq", echo4(tags=qinq)),
        ("echo4 opts", echo4(ip_kw={"options": [b"\x07\x07\x04\0\0\0\0\x01"]})),
        ("echo4 rr", echo4(ip_kw={"options": [b"\x01\x07\x0b\x04" + bytes(8)]})),
        ("echo4 ts", echo4(ip_kw={"options": [b"\x44\x0c\x05\x00" + bytes(8)]})),
        ("echo4 ts addr", echo4(ip_kw={"options": [b"\x44\x14\x05\x01" + bytes(16)]})),
        ("echo4 short", echo4(payload=b"")),
        ("arp", arp_request()), ("arp q", arp_request(tags=q)), ("arp unicast", arp_request(dst=IF_MAC)),
        ("echo6", echo6()), ("echo6 qinq", echo6(tags=qinq)),
        ("echo6 hbh", echo6(ext=[IPv6ExtHdrHopByHop()])),
        ("ns", ns()), ("ns q", ns(tags=q)), ("ns nud", ns(dst_ip=ANY_IP6, dst=IF_MAC, slla=None)),
        ("ns nonce", ns(opts=Raw(bytes([14, 1]) + b"\1" * 6) / ICMPv6NDOptSrcLLAddr(lladdr=PEER_MAC))),
        ("udp", l2() / IP(src="198.51.100.2", dst=ANY_IP) / UDP(dport=7) / Raw(b"u" * 20)),
    ]
    return [(name, bytes(pkt)) for name, pkt in t]


INTERESTING8 = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x0B, 0x0C, 0x0D, 0x0F, 0x10, 0x20, 0x40, 0x44, 0x45, 0x46, 0x4F,
                0x60, 0x7F, 0x80, 0x81, 0x83, 0x86, 0x87, 0x88, 0x89, 0xF0, 0xF1, 0xFE, 0xFF, 58, 135, 136, 128,
                129, 0x33, 0xA8]
INTERESTING32 = [0, 1, 0x7F000001, 0xE0000001, 0xEFFFFFFF, 0xF0000001, 0xFFFFFFFF, 0x00FFFFFF, 0xC6336402,
                 0xCB007107, 0xCB007109, 0xFF020000, 0x60000000]
INTERESTING16 = [0, 1, 0x0800, 0x0806, 0x86DD, 0x8100, 0x88A8, 0x3FFF, 0x2000, 0x4000, 0xFFFF, 20, 24,
                 28, 32, 40, 64, 256, 1500]


MACS = [b"\xff" * 6, bytes(6), b"\x01\x00\x5e\x00\x00\x01", b"\x33\x33\x00\x00\x00\x01",
        b"\x33\x33\xff\x00\x00\x07", MAC, bytes.fromhex("020000000002"), bytes.fromhex("030000000001")]
ADDR6 = [bytes(16), bytes(15) + b"\x01", bytes.fromhex("ff020000000000000000000000000001"),
         bytes.fromhex("ff0200000000000000000001ff000007"), bytes.fromhex("fe800000000000000000000000000001"),
         bytes.fromhex("20010db8009900000000000000000007"), bytes.fromhex("20010db8007700000000000000000002"),
         bytes.fromhex("20010db8009900000000000000000009")]
# The host's own addresses on every path (203.0.113.9, 2001:db8:99::9: among the values above, so
# mutations reach them): requests for them are the kernel's (own_address).
OWN = ("203.0.113.9", "2001:db8:99::9")
OWN_BYTES = (bytes([203, 0, 113, 9]), bytes.fromhex("20010db8009900000000000000000009"))


def fields(b):
    """(offset, size) of the header fields of a template, for field-aware mutation."""
    off, etype = 14, struct.unpack_from("!H", b, 12)[0]
    out = [(0, 6), (6, 6), (12, 2)]
    while etype in (0x8100, 0x88A8):
        out.append((off, 2))
        etype = struct.unpack_from("!H", b, off + 2)[0]
        off += 4
    L = off
    if etype == 0x0800:
        hl = (b[L] & 15) * 4
        out += [(L, 1), (L + 2, 2), (L + 6, 2), (L + 8, 1), (L + 9, 1), (L + 12, 4), (L + 16, 4),
                (L + 20, 1), (L + 21, 1), (L + hl, 1), (L + hl + 1, 1)]
        if hl > 20:                       # option lengths, pointers, flags (record route, timestamp)
            out += [(L + 22, 1), (L + 23, 1), (L + 24, 1)]
    elif etype == 0x0806:
        out += [(L, 2), (L + 2, 2), (L + 4, 1), (L + 5, 1), (L + 6, 2), (L + 8, 6), (L + 14, 4), (L + 18, 6),
                (L + 24, 4)]
    elif etype == 0x86DD:
        out += [(L, 1), (L + 4, 2), (L + 6, 1), (L + 7, 1), (L + 8, 16), (L + 24, 16), (L + 40, 1), (L + 41, 1),
                (L + 48, 16), (L + 64, 1), (L + 65, 1), (L + 66, 6)]
    return [(o, n) for o, n in out if o + n <= len(b)]


def field_value(rng, b, n):
    if n == 1:
        return bytes([rng.choice(INTERESTING8)])
    if n == 2:
        return struct.pack("!H", rng.choice(INTERESTING16))
    if n == 4:
        return struct.pack("!I", rng.choice(INTERESTING32 + [rng.getrandbits(32)]))
    if n == 6:
        return rng.choice(MACS)
    return rng.choice(ADDR6 + [bytes(rng.getrandbits(8) for _ in range(16))])


def fix_checksums(b, rng):
    """Make the L3/L4 checksums valid again (so mutated frames reach deep rules)."""
    b = bytearray(b)
    off, etype = 14, struct.unpack_from("!H", b, 12)[0] if len(b) >= 14 else 0
    while etype in (0x8100, 0x88A8) and off + 4 <= len(b):
        etype = struct.unpack_from("!H", b, off + 2)[0]
        off += 4
    try:
        if etype == 0x0800 and off + 20 <= len(b):
            hl = (b[off] & 15) * 4
            if 20 <= hl and off + hl <= len(b):
                b[off + 10:off + 12] = b"\0\0"
                b[off + 10:off + 12] = struct.pack("!H", ~ones_sum(bytes(b[off:off + hl])) & 0xFFFF)
                tot = struct.unpack_from("!H", b, off + 2)[0]
                if b[off + 9] == 1 and off + hl + 4 <= len(b) and hl <= tot and off + tot <= len(b):
                    b[off + hl + 2:off + hl + 4] = b"\0\0"
                    s = ~ones_sum(bytes(b[off + hl:off + tot])) & 0xFFFF
                    b[off + hl + 2:off + hl + 4] = struct.pack("!H", s)
        elif etype == 0x86DD and off + 40 <= len(b) and b[off + 6] == 58:
            plen = struct.unpack_from("!H", b, off + 4)[0]
            p = off + 40
            if p + 4 <= len(b) and p + plen <= len(b):
                b[p + 2:p + 4] = b"\0\0"
                pseudo = bytes(b[off + 8:off + 40]) + struct.pack("!IxxxB", plen, 58)
                b[p + 2:p + 4] = struct.pack("!H", ~ones_sum(pseudo + bytes(b[p:p + plen])) & 0xFFFF)
    except struct.error:
        pass
    return bytes(b)


def mutate(rng, tmpls):
    """One fuzz frame: a mutated valid request, a random VLAN stack, or random bytes."""
    r = rng.random()
    if r < 0.08:
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 1514)))
    name, b = rng.choice(tmpls)
    b = bytearray(b)
    if r < 0.18:                               # a random VLAN stack in front of the payload
        tags = b"".join(struct.pack("!HH", rng.choice([0x8100, 0x88A8, 0x8100, rng.getrandbits(16)]),
                                    rng.getrandbits(16)) for _ in range(rng.randint(0, 3)))
        b = b[:12] + tags + b[12:]
    flds = fields(bytes(b))
    for _ in range(rng.randint(1, 3)):
        how = rng.random()
        if not b:
            break
        i = rng.randrange(len(b))
        if how < 0.35 and flds:                # a header field set to a boundary value
            o, n = rng.choice(flds)
            if rng.random() < 0.2:             # or to another field's value (sender == target ...)
                o2, n2 = rng.choice([x for x in flds if x[1] == n] or [(o, n)])
                b[o:o + n] = b[o2:o2 + n]
            else:
                b[o:o + n] = field_value(rng, b, n)
        elif how < 0.45:
            b[i] = rng.choice(INTERESTING8)
        elif how < 0.55 and len(b) >= 2:
            i = rng.randrange(len(b) - 1)
            b[i:i + 2] = struct.pack("!H", rng.choice(INTERESTING16))
        elif how < 0.75:
            b[i] ^= 1 << rng.randrange(8)
        elif how < 0.80 and len(b) >= 4:
            i = rng.randrange(len(b) - 3)
            b[i:i + 4] = struct.pack("!I", rng.choice(INTERESTING32))
        elif how < 0.85 and len(b) >= 16:       # copy a field (sender == target), or zero an address
            i, j = rng.randrange(len(b) - 3), rng.randrange(len(b) - 3)
            n = rng.choice([4, 4, 16])
            b[j:j + n] = bytes(n) if rng.random() < 0.4 else b[i:i + n]
        elif how < 0.95:
            b = b[:rng.randint(0, len(b))]     # truncation
        else:
            b += bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 64)))
    if rng.random() < 0.6:
        b = bytearray(fix_checksums(bytes(b), rng))
    if rng.random() < 0.03 and len(b) >= 6:                    # the interface's MAC, or a solicited-node MAC
        b[0:6] = MAC if rng.random() < 0.5 else b"\x33\x33\xff" + bytes(rng.getrandbits(8) for _ in range(3))
    return bytes(b)


def frames(seed, count):
    rng = random.Random(seed)
    tmpls = templates()
    out = []
    for _, b in tmpls:                         # truncation at every length of every template
        out += [b[:n] for n in range(len(b) + 1)]
        out.append(b)
    while len(out) < count:
        out.append(mutate(rng, tmpls))
    return out[:max(count, len(out))]


# The ways through the program: with no settings, the fast path answers the
# common requests; with a policy on, the fast checks classify them and the
# policy follows; with the fast checks off (a test-only load option), every
# frame goes through the rules one by one. A scope holding every address
# changes no verdict, so the same model checks all three.
PATHS = {"default": (), "policy": ("--prefix", "0.0.0.0/0", "--prefix", "::/0"), "rules": ("--rules-only",)}


def run_frames(fs, extra=()):
    own = [a for addr in OWN for a in ("--own", addr)]
    proc = subprocess.run([TESTRUN, "--mac", IF_MAC, "--ttl", str(TTL), *own, *extra],
                          input="".join(f.hex() + "\n" for f in fs),
                          capture_output=True, text=True, check=False, timeout=1800)
    return proc.returncode, proc.stdout.splitlines(), proc.stderr


def echo_csum_valid(frame, outcome_kind):
    """(ok) whether the ICMP/ICMPv6 checksum of an echo frame is valid; None if not applicable."""
    off, etype = 14, struct.unpack_from("!H", frame, 12)[0]
    while etype in (0x8100, 0x88A8):
        etype = struct.unpack_from("!H", frame, off + 2)[0]
        off += 4
    if outcome_kind == "echo4":
        hl, tot = (frame[off] & 15) * 4, struct.unpack_from("!H", frame, off + 2)[0]
        return ones_sum(frame[off + hl:off + tot]) == 0xFFFF
    if outcome_kind == "echo6":
        plen = struct.unpack_from("!H", frame, off + 4)[0]
        pseudo = frame[off + 8:off + 40] + struct.pack("!IxxxB", plen, 58)
        return ones_sum(pseudo + frame[off + 40:off + 40 + plen]) == 0xFFFF
    return None


# reasons no fuzzed frame can reach: no_room needs a full buffer; not_in_prefix,
# rate_limited, not_claimed and owner_seen need settings (the fuzzer runs with
# none: every address, no limits, no claims). The unit tables cover those.
POLICY_REASONS = ("no_room", "not_in_prefix", "rate_limited", "not_claimed", "owner_seen")


def fuzz(seed, count, path="default"):
    """Run count frames from seed through the real program (its settings
    choosing the path, PATHS) and the model.
    Returns {"ran": bool, "error", "frames", "bad": {category: [(i, detail)]},
    "missing_counters": [...], "missing_reasons": [...]}."""
    print(f"  fuzz: seed {seed}, {count} frames, {path} path (replay: /usr/bin/python3 tests/datapath/fuzz.py "
          f"--seed {seed} --count {count} --path {path})", flush=True)
    t0 = time.time()
    fs = frames(seed, count)
    model = Model(MAC, TTL, OWN_BYTES)
    rc, lines, err = run_frames(fs, PATHS[path])
    if rc != 0 or len(lines) != len(fs):
        return {"ran": False, "error": err[-300:], "frames": fs}
    bad = {"verdict": [], "pass_changed": [], "reply": [], "counting": [], "csum": []}
    seen_counters, seen_reasons = set(), set()
    for i, (f, line) in enumerate(zip(fs, lines)):
        verdict, counter, reason, out = line.split(" ")
        want = model.predict(f)
        if want.verdict == "ERROR":
            if not verdict.startswith("ERROR"):
                bad["verdict"].append((i, f"kernel accepted a {len(f)}-byte frame"))
            continue
        out = bytes.fromhex(out) if out != "-" else b""
        seen_counters.add(counter)
        seen_reasons.add(reason)
        if verdict not in ("XDP_TX", "XDP_PASS"):
            bad["verdict"].append((i, verdict))
        if verdict == "XDP_PASS" and out != f:
            bad["pass_changed"].append((i, "passed frame changed"))
        if (verdict, counter, reason) != (want.verdict, want.counter, want.reason):
            bad["counting"].append((i, f"got {verdict}/{counter}/{reason}, model {want}"))
        elif verdict == "XDP_TX":
            if want.times:
                want.frame, problems = adopt_times(want.frame, out, want.times)
                bad["reply"] += [(i, p) for p in problems]
            if out != want.frame:
                bad["reply"].append((i, f"reply differs from the model's: got {out.hex()} want {want.frame.hex()}"))
            v_req, v_rep = echo_csum_valid(f, counter), echo_csum_valid(out, counter)
            if v_req is not None and v_req != v_rep:
                bad["csum"].append((i, f"request checksum valid={v_req}, reply valid={v_rep}"))
    print(f"  fuzz: {len(fs)} frames in {time.time() - t0:.1f}s", flush=True)
    return {"ran": True, "frames": fs, "bad": bad,
            "missing_counters": [c for c in COUNTERS if c not in seen_counters],
            "missing_reasons": [r for r in reasons_from_header() if r not in seen_reasons and r not in POLICY_REASONS]}


def describe(result, category):
    fs = result["frames"]
    return "; ".join(f"frame {i} ({fs[i].hex()[:120]}...): {d}" for i, d in result["bad"][category][:3])


def main():
    ap = argparse.ArgumentParser(description="differential fuzzing of the xdp-pong datapath")
    ap.add_argument("--count", type=int, default=DEFAULT_COUNT)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--path", choices=[*PATHS, "all"], default="all",
                    help="none (the fast path), a scope of every address (the policy path), the fast checks "
                    "off (the rules one by one), or all of them (the default)")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 32)
    passed = failed = 0
    for path in (PATHS if args.path == "all" else [args.path]):
        result = fuzz(seed, args.count, path)
        if not result["ran"]:
            print(f"pong-testrun did not run every frame: {result['error']}")
            failed += 1
            continue
        for category, items in result["bad"].items():
            print(f"  {category} mismatches: {len(items)} of {len(result['frames'])}" +
                  (f": {describe(result, category)}" if items else ""))
            failed += bool(items)
            passed += not items
        for what in ("missing_counters", "missing_reasons"):
            print(f"  never reached: {result[what]}" if result[what] else f"  every {what[8:-1]} reached")
            failed += bool(result[what])
            passed += not result[what]
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
