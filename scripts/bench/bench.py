#!/usr/bin/python3
"""make bench: what xdp-pong costs over a bare MAC swap, and what that means in replies/s.

Two namespaces joined by a veth pair (scripts/lab/lab.py): gen0 (generator
side) and dut0 (the responder). The generator (build/pong-gen) transmits
request frames out of gen0 with BPF_F_TEST_XDP_LIVE_FRAMES as fast as the
kernel lets it (or, where the kernel refuses live frames, from a packet
socket, which the report then says); a sink XDP program on gen0 counts what comes back, by kind,
and drops it. On dut0, one of:

  xdp-pong   the responder, attached with `xdp-pong attach dut0`
  ceiling    a trivial XDP_TX reflector that only swaps MACs (the fastest
             anything answering with XDP_TX can be on this path)
  kernel     the Linux stack with the addresses assigned (dut0 carries an
             XDP_PASS program: a veth receives frames sent by XDP only when
             it has NAPI, which an XDP program enables)

The machine is shared and noisy, so every comparison is made in A-B-A
rounds (ceiling, xdp-pong, ceiling again), and the two ceiling runs of a
round, compared with each other, are the control: they show how much the
machine moved within the round.

  cost        program run time per packet (kernel.bpf_stats_enabled,
              run_time_ns / run_cnt), in rounds of their own: the
              accounting itself costs a clock read per run. Each run is
              sent in chunks and read after each; its cost is its lowest
              chunk (other work on the machine only adds). xdp-pong's extra
              over the ceiling, per round; also with a 1,000-prefix list,
              with both limits on, and under a random-source flood.
  throughput  replies/s, xdp-pong / ceiling per round, and the kernel stack.
  flood       a random-source echo flood: frames/s handled, limits off and
              on.
  scaling     replies/s with two CPUs sending (a veth with two queues) over
              one.
  latency     RTT percentiles of iputils ping, xdp-pong and the kernel.

Prints tables, and the machine, kernel and NIC driver; writes JSON and a
PNG chart.
"""
import argparse
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts", "lab"))
from lab import Lab, ethtool_counters, request_frames  # noqa: E402

BUILD = os.path.join(ROOT, "build")
XDP_PONG = os.path.join(BUILD, "xdp-pong")
GEN = os.path.join(BUILD, "pong-gen")
GEN_IP, DUT_IP = "198.51.100.2", "198.51.100.1"
GEN_IP6, DUT_IP6 = "2001:db8:77::2", "2001:db8:77::1"
NIC_NS_PER_PACKET = 59.0    # XDP_TX MAC swap on one core of a ConnectX-5 (XDP paper, CoNEXT 2018)
COST_CHUNKS = 20            # samples of run time per cost run
LIMITS = ("--rate-limit", "10", "--global-limit", "1000")
GATED = ("--prefix", "198.51.100.0/24", "--prefix", "2001:db8:77::/64", "--answer", "udp,tcp,timestamp",
         "--icmp-ratelimit", "0")


def sh(*cmd, check=True, timeout=600):
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if check and res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {res.stderr.strip() or res.stdout.strip()}")
    return res


def med(values):
    return statistics.median(values) if values else None


class Bench:
    def __init__(self, args):
        self.current, self.binary = None, None
        self.methods = set()   # how pong-gen sent: live, socket
        self.args = args
        self.lab = None
        self.stats_was = None

    # ---- set-up and tear-down ----

    def up(self):
        self.lab = Lab.pair(f"xpb{os.getpid() % 100000}", queues=2)
        self.gen_ns, self.dut_ns = self.lab.gen, self.lab.dut
        self.gen_mac, self.dut_mac = self.lab.gen_mac, self.lab.dut_mac
        self.stats_was = open("/proc/sys/kernel/bpf_stats_enabled").read().strip()
        set_bpf_stats("0")
        self.prefixes = os.path.join(BUILD, ".bench-prefixes")

    def down(self):
        if self.lab:
            self.lab.down()
        if self.stats_was is not None:
            set_bpf_stats(self.stats_was)
            self.stats_was = None

    def dut(self, *cmd, check=True):
        return sh("ip", "netns", "exec", self.dut_ns, *cmd, check=check)

    def responder(self, name, opts=(), binary=None):
        """Leave dut0 bare, then set up one responder on it (opts: xdp-pong attach options;
        "prefix1000" stands for a list of 1,000 prefixes, the last of them the one asked for;
        binary: another xdp-pong build, for --baseline)."""
        self.dut(XDP_PONG, "detach", "dut0", check=False)
        if self.binary:
            self.dut(self.binary, "detach", "dut0", check=False)
        self.binary = binary if name == "xdp-pong" else None
        self.current = name
        sh("ip", "-n", self.dut_ns, "link", "set", "dut0", "xdpdrv", "off")
        sh("ip", "-n", self.dut_ns, "addr", "flush", "dev", "dut0")
        sh("ip", "-n", self.dut_ns, "neigh", "flush", "dev", "dut0")
        if name == "xdp-pong":
            if "prefix1000" in opts:
                # 999 prefixes of 10.0.0.0/8 and 2001:db8:1000::/36 beside the ones the requests ask for
                self.dut(XDP_PONG, "attach", "dut0", "--prefix", "198.51.100.0/24", "--prefix", "2001:db8:77::/64")
                self.dut("sh", "-c", 'for i in $(seq 0 498); do "$0" prefix add dut0 10.$((i / 256)).$((i % 256)).0/24 '
                         '&& "$0" prefix add dut0 2001:db8:1$((i / 256)):$(printf %x $((i % 256)))00::/56 '
                         '|| exit 1; done >/dev/null', XDP_PONG)
            else:
                self.dut(binary or XDP_PONG, "attach", "dut0", *opts)
        elif name == "ceiling":
            sh("ip", "-n", self.dut_ns, "link", "set", "dut0", "xdpdrv", "obj",
               os.path.join(BUILD, "reflect.bpf.o"), "sec", "xdp")
        else:
            sh("ip", "-n", self.dut_ns, "link", "set", "dut0", "xdpdrv", "obj",
               os.path.join(BUILD, "pass.bpf.o"), "sec", "xdp")
            sh("ip", "-n", self.dut_ns, "addr", "add", f"{DUT_IP}/24", "dev", "dut0")
            sh("ip", "-n", self.dut_ns, "addr", "add", f"{DUT_IP6}/64", "dev", "dut0", "nodad")
            # replies must not wait for neighbour resolution of the generator
            for ip in (GEN_IP, GEN_IP6):
                sh("ip", "-n", self.dut_ns, "neigh", "replace", ip, "lladdr", self.gen_mac,
                   "dev", "dut0", "nud", "permanent")

    def drops(self):
        """Frames the veths dropped: requests gen0 could not hand to dut0, replies dut0 could not send back."""
        return (ethtool_counters(self.lab, self.gen_ns, "gen0", r"tx_queue_\d+_xdp_xmit_errors"),
                ethtool_counters(self.lab, self.dut_ns, "dut0", r"rx_queue_\d+_xdp_tx_errors"))

    def prog_id(self):
        """Id of the responder's program on dut0: xdp-pong's as it reports it (under libxdp's
        dispatcher, the interface shows the dispatcher's), another's as the interface shows it."""
        if self.current == "xdp-pong":
            out = self.dut(self.binary or XDP_PONG, "stats", "dut0", "--json").stdout
            return json.loads(out)["interfaces"][0]["prog_id"]
        link = json.loads(sh("ip", "-n", self.dut_ns, "-j", "-d", "link", "show", "dut0").stdout)[0]
        return ((link.get("xdp") or {}).get("prog") or {})["id"]

    # ---- the request frames ----

    def kinds(self):
        """(name, the sink's kind, request frame bytes): minimum-size frames, and a full-size echo."""
        small = request_frames(self.gen_mac, self.dut_mac, payload=18)     # 64-byte echo4 frames
        return [
            ("echo4 64B", "echo4", bytes(small["echo4"])),
            ("echo4 1514B", "echo4", bytes(request_frames(self.gen_mac, self.dut_mac, payload=1472)["echo4"])),
            ("arp", "arp", bytes(small["arp"]) + bytes(18)),                 # padded to 60 bytes, as on a wire
            ("echo6", "echo6", bytes(request_frames(self.gen_mac, self.dut_mac, payload=16)["echo6"])),
            ("ndp", "ndp", bytes(small["ndp"])),
        ]

    def gated_kinds(self):
        """(name, request frame) of the kinds --answer turns on, to DUT_IP, DUT_IP6: 60 bytes
        over IPv4 (a SYN with no data 54), 74 over IPv6."""
        from scapy.layers.inet import ICMP, IP, TCP, UDP
        from scapy.layers.inet6 import IPv6
        from scapy.layers.l2 import Ether
        from scapy.packet import Raw
        eth = Ether(dst=self.dut_mac, src=self.gen_mac)
        v4, v6 = IP(src=GEN_IP, dst=DUT_IP), IPv6(src=GEN_IP6, dst=DUT_IP6)
        return [
            ("udp4 port unreachable", eth / v4 / UDP(sport=40000, dport=33434) / Raw(b"s" * 18)),
            ("udp6 port unreachable", eth / v6 / UDP(sport=40000, dport=33434) / Raw(b"s" * 12)),
            ("tcp4 RST", eth / v4 / TCP(sport=40001, dport=80, flags="S", seq=1000)),
            ("tcp6 RST", eth / v6 / TCP(sport=40001, dport=80, flags="S", seq=1000)),
            ("timestamp reply", eth / v4 / ICMP(type=13, id=7, seq=1) / Raw(bytes(12) + b"s" * 6)),
            # a fragmented echo request's first fragment (each one remembered anew: an LRU map update)
            ("echo4 first fragment", eth / IP(src=GEN_IP, dst=DUT_IP, flags="MF", id=9) / ICMP(id=7, seq=1) /
             Raw(b"s" * 24)),
        ]

    def wanted(self, kind):
        kinds = [k.strip() for k in self.args.kinds.split(",") if k.strip()]
        return not kinds or kind in kinds

    # ---- measurements ----

    def one_run(self, frame, count, random_src=False, cpus=None, sample=()):
        # Generator, responder and sink run on the generator's CPU (veth NAPI
        # runs where it was scheduled); pinning keeps a run on one CPU.
        cmd = ["ip", "netns", "exec", self.gen_ns]
        if cpus:
            cmd += [GEN, "--cpus", cpus]
        else:
            cmd += ["taskset", "-c", str(self.args.cpu), GEN]
        cmd += ["--ifname", "gen0", "--frame", frame.hex(), "--count", str(count)]
        out = json.loads(sh(*cmd, *(["--random-src"] if random_src else []), *sample).stdout)
        self.methods.add(out["method"])
        return out

    def cost_run(self, frame, random_src=False):
        """ns per packet of the program now on dut0: the run is sent in chunks
        (COST_CHUNKS) and the lowest chunk's mean is taken. The machine's other
        work only ever adds time to a chunk, so the lowest is the least disturbed."""
        prog_id = self.prog_id()
        out = self.one_run(frame, self.args.cost_packets, random_src=random_src,
                           sample=("--sample-prog", str(prog_id), "--chunks", str(COST_CHUNKS)))
        chunks = [c for c in out.get("cost_ns", []) if c > 0]
        if not chunks:
            raise SystemExit("bench: no run-time samples (is kernel.bpf_stats_enabled on?)")
        return min(chunks)

    def cost(self, frame, opts=(), random_src=False):
        """A-B-A rounds: ceiling, xdp-pong (with opts), ceiling. Extra = xdp-pong less the
        mean of its two ceilings; control = the two ceilings' difference."""
        rounds = {"ceiling": [], "xdp-pong": [], "extra": [], "control": []}
        set_bpf_stats("1")
        try:
            for _ in range(self.args.rounds):
                self.responder("ceiling")
                a = self.cost_run(frame, random_src)
                self.responder("xdp-pong", opts)
                b = self.cost_run(frame, random_src)
                self.responder("ceiling")
                c = self.cost_run(frame, random_src)
                rounds["ceiling"] += [a, c]
                rounds["xdp-pong"].append(b)
                rounds["extra"].append(b - (a + c) / 2)
                rounds["control"].append(c - a)
        finally:
            set_bpf_stats("0")
        rounds["summary"] = {
            "ceiling_min": min(rounds["ceiling"]), "xdp_pong_min": min(rounds["xdp-pong"]),
            "extra_median": med(rounds["extra"]), "extra_min": min(rounds["xdp-pong"]) - min(rounds["ceiling"]),
            "extra_range": [min(rounds["extra"]), max(rounds["extra"])],
            "control_median_abs": med([abs(x) for x in rounds["control"]]),
        }
        return rounds

    def baseline(self):
        """--baseline: another xdp-pong build against this one, per kind, in rounds of ceiling,
        baseline, this build, ceiling; each one's extra over the ceiling (min over runs, and the
        median of the rounds)."""
        out = {}
        set_bpf_stats("1")
        try:
            for kind, _, frame in self.kinds():
                if not self.wanted(kind):
                    continue
                r = {"ceiling": [], "baseline": [], "xdp-pong": []}
                for _ in range(self.args.rounds):
                    for who in ("ceiling", "baseline", "xdp-pong", "ceiling"):
                        if who == "ceiling":
                            self.responder("ceiling")
                        else:
                            self.responder("xdp-pong", binary=self.args.baseline if who == "baseline" else None)
                        r[who].append(self.cost_run(frame))
                c_min, c_med = min(r["ceiling"]), med(r["ceiling"])
                r["summary"] = {w: {"extra_min": min(r[w]) - c_min, "extra_median": med(r[w]) - c_med}
                                for w in ("baseline", "xdp-pong")}
                print(f"  baseline {kind:12} +{r['summary']['baseline']['extra_min']:.1f} -> "
                      f"+{r['summary']['xdp-pong']['extra_min']:.1f} ns (min)", flush=True)
                out[kind] = r
        finally:
            set_bpf_stats("0")
        return out

    def costs(self):
        out = {"kinds": {}, "policy": {}}
        kinds = self.kinds()
        for kind, _, frame in kinds:
            if self.wanted(kind):
                out["kinds"][kind] = self.cost(frame)
                s = out["kinds"][kind]["summary"]
                print(f"  cost {kind:12} +{s['extra_min']:.1f} ns (min-min), +{s['extra_median']:.1f} median "
                      f"(control {s['control_median_abs']:.1f})", flush=True)
        echo4, ndp = kinds[0][2], kinds[4][2]
        for name, opts, frame, rnd in (("echo4, --prefix list of 1000", ("prefix1000",), echo4, False),
                                       ("ndp, --prefix list of 1000", ("prefix1000",), ndp, False),
                                       ("echo4, both limits on", LIMITS, echo4, False),
                                       ("echo4 flood, limits off", (), echo4, True),
                                       ("echo4 flood, both limits on", LIMITS, echo4, True)):
            if self.wanted("policy"):
                out["policy"][name] = self.cost(frame, opts, random_src=rnd)
                s = out["policy"][name]["summary"]
                print(f"  cost {name:30} +{s['extra_min']:.1f} ns (min-min), +{s['extra_median']:.1f} median",
                      flush=True)
        if self.wanted("gated"):
            # every request answered (the ICMP error limit off): what building each reply costs
            for name, frame in self.gated_kinds():
                out["policy"][name] = self.cost(bytes(frame), GATED)
                s = out["policy"][name]["summary"]
                print(f"  cost {name:30} +{s['extra_min']:.1f} ns (min-min), +{s['extra_median']:.1f} median",
                      flush=True)
        return out

    def throughput(self):
        """Per round: ceiling, xdp-pong, ceiling, kernel. Ratio per round: xdp-pong / mean ceiling."""
        results = {}
        for kind, sink_kind, frame in self.kinds():
            if not self.wanted(kind):
                continue
            runs = {"ceiling": [], "xdp-pong": [], "kernel": []}
            ratios, control, vs_kernel = [], [], []
            for rnd in range(self.args.rounds):
                got = {}
                for resp in ("ceiling", "xdp-pong", "ceiling", "kernel"):
                    self.responder(resp)
                    drops0 = self.drops()
                    run = self.one_run(frame, self.args.packets)
                    drops1 = self.drops()
                    secs = run["elapsed_ns"] / 1e9
                    n = sum(run["received"].values()) if resp == "ceiling" else run["received"][sink_kind]
                    entry = {"sent": run["sent"], "replies": n, "seconds": secs, "replies_pps": n / secs,
                             "requests_dropped_by_veth": drops1[0] - drops0[0],
                             "replies_dropped_by_veth": drops1[1] - drops0[1]}
                    runs[resp].append(entry)
                    got.setdefault(resp, []).append(entry["replies_pps"])
                ceiling = sum(got["ceiling"]) / 2
                ratios.append(got["xdp-pong"][0] / ceiling)
                control.append(got["ceiling"][1] / got["ceiling"][0])
                vs_kernel.append(got["xdp-pong"][0] / got["kernel"][0] if got["kernel"][0] else None)
                print(f"  {kind:12} round {rnd + 1}: xdp-pong {got['xdp-pong'][0] / 1e6:6.3f} Mpps, ceiling "
                      f"{got['ceiling'][0] / 1e6:6.3f}/{got['ceiling'][1] / 1e6:6.3f}, kernel "
                      f"{got['kernel'][0] / 1e6:6.3f}: {ratios[-1]:.3f} of the ceiling (control {control[-1]:.3f})",
                      flush=True)
            summary = {}
            for resp, rs in runs.items():
                pps = [r["replies_pps"] for r in rs]
                summary[resp] = {"replies_pps": med(pps), "min": min(pps), "max": max(pps),
                                 "loss_pct": 100.0 * (1 - sum(r["replies"] for r in rs) / sum(r["sent"] for r in rs))}
            summary["xdp-pong"].update({"vs_ceiling": med(ratios), "vs_ceiling_range": [min(ratios), max(ratios)],
                                        "vs_kernel": med([v for v in vs_kernel if v])})
            summary["control"] = {"median": med(control), "range": [min(control), max(control)]}
            results[kind] = {"frame_bytes": len(frame), "runs": runs, "ratios": ratios, "control": control,
                             "summary": summary}
        return results

    def pong_handled(self):
        """Frames xdp-pong on dut0 has handled so far: replies, refusals and passes."""
        doc = json.loads(self.dut(XDP_PONG, "stats", "dut0", "--json").stdout)["interfaces"][0]["counters"]
        return sum(v["packets"] for v in doc.values())

    def flood(self):
        """A random-source echo flood (16M spoofed sources): frames/s xdp-pong handles with its
        limits off and on, alternating."""
        frame = self.kinds()[0][2]
        settings = {"limits off": (), "limits on": LIMITS}
        runs = {name: [] for name in settings}
        for rnd in range(self.args.rounds):
            for name in (list(settings) if rnd % 2 == 0 else list(settings)[::-1]):
                self.responder("xdp-pong", settings[name])
                before = self.pong_handled()
                run = self.one_run(frame, self.args.packets, random_src=True)
                handled = self.pong_handled() - before
                secs = run["elapsed_ns"] / 1e9
                runs[name].append({"sent": run["sent"], "handled": handled, "seconds": secs,
                                   "handled_pps": handled / secs, "replies": run["received"]["echo4"]})
        ratios = [on["handled_pps"] / off["handled_pps"] for on, off in zip(runs["limits on"], runs["limits off"])]
        out = {name: {"runs": rs, "handled_pps": med([r["handled_pps"] for r in rs])} for name, rs in runs.items()}
        out["ratio_on_off"], out["ratio_range"] = med(ratios), [min(ratios), max(ratios)]
        print(f"  flood: handled {out['limits off']['handled_pps'] / 1e6:.2f} Mpps limits off, "
              f"{out['limits on']['handled_pps'] / 1e6:.2f} Mpps limits on: {out['ratio_on_off']:.3f}", flush=True)
        return out

    def scaling(self):
        """echo4 replies/s with one CPU sending and with two (xdp-pong runs on each), alternating."""
        frame = self.kinds()[0][2]
        self.responder("xdp-pong")
        runs = {"1 CPU": [], "2 CPUs": []}
        exact = True
        for rnd in range(self.args.rounds):
            for name in (("1 CPU", "2 CPUs") if rnd % 2 == 0 else ("2 CPUs", "1 CPU")):
                before = self.pong_handled()
                run = self.one_run(frame, self.args.packets, cpus="0" if name == "1 CPU" else "0,1")
                answered = self.pong_handled() - before
                exact &= answered >= run["received"]["echo4"]     # a reply the sink saw was counted
                runs[name].append(run["received"]["echo4"] / (run["elapsed_ns"] / 1e9))
        out = {name: {"replies_pps": med(v), "min": min(v), "max": max(v)} for name, v in runs.items()}
        out["ratio"] = out["2 CPUs"]["replies_pps"] / out["1 CPU"]["replies_pps"]
        out["counters_cover_replies"] = exact
        print(f"  scaling: {out['1 CPU']['replies_pps'] / 1e6:.2f} Mpps on 1 CPU, "
              f"{out['2 CPUs']['replies_pps'] / 1e6:.2f} on 2: {out['ratio']:.2f}x", flush=True)
        return out

    def latency(self):
        """RTT percentiles of iputils ping through xdp-pong and through the kernel."""
        sh("ip", "-n", self.gen_ns, "link", "set", "gen0", "xdpdrv", "obj", os.path.join(BUILD, "pass.bpf.o"),
           "sec", "xdp")
        sh("ip", "-n", self.gen_ns, "addr", "add", f"{GEN_IP}/24", "dev", "gen0")
        out = {}
        rounds = min(self.args.rounds, 3)
        rtts = {"xdp-pong": [], "kernel": []}
        try:
            for rnd in range(rounds):   # alternating; samples pooled
                for resp in (("xdp-pong", "kernel") if rnd % 2 == 0 else ("kernel", "xdp-pong")):
                    self.responder(resp)
                    sh("ip", "-n", self.gen_ns, "neigh", "flush", "dev", "gen0")
                    res = sh("ip", "netns", "exec", self.gen_ns, "ping", "-n", "-c", str(self.args.latency_count),
                             "-i", "0.002", "-W", "1", DUT_IP, check=False, timeout=600)
                    rtts[resp] += [float(x) for x in re.findall(r"time=([\d.]+) ms", res.stdout)]
            for resp, vals in rtts.items():
                vals.sort()
                out[resp] = {"sent": rounds * self.args.latency_count, "received": len(vals),
                             "p50_us": pct(vals, 50) * 1000 if vals else None,
                             "p99_us": pct(vals, 99) * 1000 if vals else None}
        finally:
            sh("ip", "-n", self.gen_ns, "addr", "flush", "dev", "gen0", check=False)
            sh("ip", "-n", self.gen_ns, "link", "set", "gen0", "xdpdrv", "off", check=False)
        return out

    def machine(self):
        cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                   platform.processor())
        driver = sh("ip", "netns", "exec", self.dut_ns, "ethtool", "-i", "dut0", check=False).stdout
        return {"cpu": cpu, "cpus": os.cpu_count(), "kernel": platform.release(),
                "nic": "veth pair, 2 queues", "driver": (re.search(r"driver: (\S+)", driver) or [None, "?"])[1],
                "clocksource": open("/sys/devices/system/clocksource/clocksource0/current_clocksource").read().strip()}


def set_bpf_stats(value):
    with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
        f.write(value)


def pct(sorted_vals, p):
    """Nearest-rank percentile."""
    k = max(0, min(len(sorted_vals) - 1, int(round(p / 100 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def fmt(v, digits=1):
    return "-" if v is None else f"{v:.{digits}f}"


def print_report(doc):
    m = doc["machine"]
    print(f"\nmachine: {m['cpu']}, {m['cpus']} CPUs, Linux {m['kernel']}, {m['nic']} ({m['driver']}), "
          f"clock {m['clocksource']}, generator {m.get('generator', '-')}")
    if "socket" in m.get("generator", ""):
        print("  (this kernel refuses live frames: requests were sent from a packet socket, whose rate, not the "
              "responder's, can bound the throughput rows; the cost rows do not depend on it)")
    cost = doc.get("cost") or {}
    if cost.get("kinds"):
        print("\nprogram cost per packet (ns; bpf_stats, A-B-A rounds; min = min over runs, control = |ceiling "
              "- ceiling| within a round)")
        print(f"{'kind':30} {'ceiling':>8} {'xdp-pong':>9} {'extra min':>10} {'extra med':>10} {'(range)':>15} "
              f"{'control':>8} {'NIC projection':>15}")
        for name, r in list(cost["kinds"].items()) + list(cost.get("policy", {}).items()):
            s = r["summary"]
            proj = 1e3 / (NIC_NS_PER_PACKET + max(0.0, s["extra_min"]))
            print(f"{name:30} {s['ceiling_min']:8.1f} {s['xdp_pong_min']:9.1f} {s['extra_min']:+10.1f} "
                  f"{s['extra_median']:+10.1f} {s['extra_range'][0]:+7.1f}..{s['extra_range'][1]:+.1f} "
                  f"{s['control_median_abs']:8.1f} {proj:11.1f} Mpps")
        print(f"(projection: one core of a NIC whose XDP_TX MAC swap takes {NIC_NS_PER_PACKET:.0f} ns a packet, "
              f"16.9 Mpps, plus xdp-pong's extra; a projection, not a measurement)")
    base = doc.get("baseline") or {}
    if base:
        print(f"\nbaseline {doc.get('baseline_binary')} against this build: extra over the ceiling, ns "
              f"(min over runs; median of rounds)")
        for kind, r in base.items():
            b, x = r["summary"]["baseline"], r["summary"]["xdp-pong"]
            print(f"{kind:30} {b['extra_min']:+7.1f} -> {x['extra_min']:+7.1f}   "
                  f"(median {b['extra_median']:+.1f} -> {x['extra_median']:+.1f})")
    tp = doc.get("throughput") or {}
    if tp:
        print("\nreplies/s: medians of the rounds (min-max); ratios per round, then the median")
        print(f"{'kind':12} {'xdp-pong':>10} {'ceiling':>10} {'kernel':>10} {'/ceiling':>9} {'(range)':>13} "
              f"{'control':>8} {'/kernel':>8} {'loss%':>6}")
        for kind, r in tp.items():
            s = r["summary"]
            p = s["xdp-pong"]
            print(f"{kind:12} {p['replies_pps'] / 1e6:9.3f}M {s['ceiling']['replies_pps'] / 1e6:9.3f}M "
                  f"{s['kernel']['replies_pps'] / 1e6:9.3f}M {p['vs_ceiling']:9.3f} "
                  f"{p['vs_ceiling_range'][0]:.3f}-{p['vs_ceiling_range'][1]:.3f} {s['control']['median']:8.3f} "
                  f"{fmt(p['vs_kernel'])} {p['loss_pct']:6.2f}")
    if doc.get("flood"):
        f = doc["flood"]
        print(f"\nrandom-source echo flood: {f['limits off']['handled_pps'] / 1e6:.2f} Mpps handled with no limits, "
              f"{f['limits on']['handled_pps'] / 1e6:.2f} with {' '.join(LIMITS)}: {f['ratio_on_off']:.3f} "
              f"({f['ratio_range'][0]:.3f}-{f['ratio_range'][1]:.3f})")
    if doc.get("scaling"):
        s = doc["scaling"]
        print(f"scaling: echo4 {s['1 CPU']['replies_pps'] / 1e6:.2f} Mpps from 1 CPU, "
              f"{s['2 CPUs']['replies_pps'] / 1e6:.2f} from 2: {s['ratio']:.2f}x")
    if doc.get("latency"):
        print("RTT of ping -i 0.002 (microseconds): " + ", ".join(
            f"{resp} p50 {fmt(v['p50_us'])} p99 {fmt(v['p99_us'])} ({v['received']}/{v['sent']})"
            for resp, v in doc["latency"].items()))


def chart(doc, path):
    """Extra cost per kind (ns) and replies/s per kind and responder, with gnuplot."""
    cost, tp = (doc.get("cost") or {}).get("kinds") or {}, doc.get("throughput") or {}
    if not cost and not tp:
        return
    dat = path + ".dat"
    with open(dat, "w") as f:
        for kind, r in cost.items():
            f.write(f"\"{kind.replace(' ', '-')}\" {r['summary']['ceiling_min']:.2f} {r['summary']['xdp_pong_min']:.2f}\n")
        f.write("\n\n")
        for kind, r in tp.items():
            vals = " ".join(f"{r['summary'][x]['replies_pps'] / 1e6:.4f}" for x in ("xdp-pong", "ceiling", "kernel"))
            f.write(f"\"{kind.replace(' ', '-')}\" {vals}\n")
    panels = []
    if cost:
        panels.append(f'''set ylabel "ns per packet (bpf_stats, min of rounds)"
set title "Program cost"
set xrange [-0.6:{len(cost) - 0.4}]
plot "{dat}" index 0 using 2:xtic(1) title "MAC swap (ceiling)", "" index 0 using 3 title "xdp-pong"''')
    if tp:
        panels.append(f'''set ylabel "replies/s (millions)"
set title "Throughput (medians)"
set xrange [-0.6:{len(tp) - 0.4}]
plot "{dat}" index 1 using 2:xtic(1) title "xdp-pong", "" index 1 using 3 title "XDP_TX ceiling", \\
     "" index 1 using 4 title "kernel stack"''')
    script = f"""
set terminal pngcairo size 1200,450 font ",10"
set output "{path}"
set multiplot layout 1,{len(panels)} title "xdp-pong benchmark (veth, A-B-A rounds)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set key outside bottom center horizontal
set grid ytics
set yrange [0:*]
set xtics nomirror
set termoption noenhanced
""" + "\n".join(panels) + "\nunset multiplot\n"
    res = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True, check=False)
    os.unlink(dat)
    if res.returncode != 0:
        raise RuntimeError(f"gnuplot: {res.stderr.strip()}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--packets", type=int, default=int(os.environ.get("BENCH_PACKETS", 2_000_000)),
                    help="requests per throughput run (default 2000000)")
    ap.add_argument("--cost-packets", type=int, default=int(os.environ.get("BENCH_COST_PACKETS", 1_000_000)),
                    help="requests per cost run (default 1000000)")
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 5)),
                    help="A-B-A rounds of each measurement (default 5)")
    ap.add_argument("--latency-count", type=int, default=int(os.environ.get("BENCH_PINGS", 1000)),
                    help="pings per latency run (default 1000)")
    ap.add_argument("--cpu", type=int, default=0, help="CPU the generator (and with it the path) runs on")
    ap.add_argument("--kinds", default="", help="a subset: kinds ('echo4 64B,ndp'), and 'policy', 'gated' (the kinds "
                    "of --answer), 'flood', 'scaling', 'latency'")
    ap.add_argument("--only", default="cost,throughput,flood,scaling,latency",
                    help="which measurements (default all): cost,throughput,flood,scaling,latency")
    ap.add_argument("--baseline", metavar="XDP_PONG_BINARY",
                    help="also compare the cost per kind with another xdp-pong build (its CLI attaches it)")
    ap.add_argument("--json", default=os.path.join(BUILD, "bench.json"))
    ap.add_argument("--png", default=os.path.join(BUILD, "bench.png"))
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: must be run as root (namespaces, XDP)")
    if min(args.packets, args.cost_packets, args.rounds, args.latency_count) < 1:
        sys.exit("bench: --packets, --cost-packets, --rounds and --latency-count must be positive")
    only = set(args.only.split(","))
    if args.baseline:
        args.baseline = os.path.abspath(args.baseline)
        if not (os.path.isfile(args.baseline) and os.access(args.baseline, os.X_OK)):
            sys.exit(f"bench: --baseline {args.baseline}: not an executable file")

    bench = Bench(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    doc = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "packets_per_run": args.packets,
           "cost_packets_per_run": args.cost_packets, "rounds": args.rounds}
    try:
        bench.up()
        doc["machine"] = bench.machine()
        print(f"bench: {args.rounds} rounds; {doc['machine']['cpu']}, Linux {doc['machine']['kernel']}", flush=True)
        if "cost" in only:
            doc["cost"] = bench.costs()
        if args.baseline:
            doc["baseline_binary"] = args.baseline
            doc["baseline"] = bench.baseline()
        if "throughput" in only:
            doc["throughput"] = bench.throughput()
        if "flood" in only and bench.wanted("flood"):
            doc["flood"] = bench.flood()
        if "scaling" in only and bench.wanted("scaling"):
            doc["scaling"] = bench.scaling()
        if "latency" in only and bench.wanted("latency"):
            doc["latency"] = bench.latency()
    finally:
        bench.down()
    if "machine" in doc:
        doc["machine"]["generator"] = ",".join(sorted(bench.methods)) or "-"   # known once runs were made
    print_report(doc)
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(doc, f, indent=1)
    chart(doc, args.png)
    print(f"\nwrote {args.json}" + (f" and {args.png}" if os.path.exists(args.png) else ""))


if __name__ == "__main__":
    main()
