#!/usr/bin/python3
"""make bench: replies/s of xdp-pong against the XDP_TX ceiling and the kernel stack.

Two namespaces joined by a veth pair: gen0 (generator side) and dut0 (the
responder). The generator (build/pong-gen) transmits request frames out of
gen0 with BPF_F_TEST_XDP_LIVE_FRAMES as fast as the kernel allows; a sink XDP
program on gen0 counts what comes back, by kind, and drops it. On dut0, in
alternating rounds, one of:

  xdp-pong   the responder, attached with `xdp-pong attach dut0`
  ceiling    a trivial XDP_TX reflector that only swaps MACs
  kernel     the Linux stack with the addresses assigned (dut0 carries an
             XDP_PASS program: a veth receives frames sent by XDP only when
             it has NAPI, which an XDP program enables)

Then RTT percentiles of `ping -c N -i 0.002` through xdp-pong and through the
kernel on the same path (up to 3 alternating rounds each, samples pooled).
Prints a table; writes JSON and a PNG chart.
"""
import argparse
import json
import os
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
RESPONDERS = ("xdp-pong", "ceiling", "kernel")


def sh(*cmd, check=True, timeout=300):
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if check and res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {res.stderr.strip() or res.stdout.strip()}")
    return res


class Bench:
    def __init__(self, args):
        self.args = args
        self.lab = None
        self.stats_was = None

    # ---- set-up and tear-down ----

    def up(self):
        self.lab = Lab.pair(f"xpb{os.getpid() % 100000}")
        self.gen_ns, self.dut_ns = self.lab.gen, self.lab.dut
        self.gen_mac, self.dut_mac = self.lab.gen_mac, self.lab.dut_mac
        self.stats_was = open("/proc/sys/kernel/bpf_stats_enabled").read().strip()
        self.bpf_stats(False)

    def bpf_stats(self, on):
        """Program run-time accounting costs a clock read per run: on only while measuring it."""
        set_bpf_stats("1" if on else "0")

    def down(self):
        if self.lab:
            self.lab.down()
        if self.stats_was is not None:
            set_bpf_stats(self.stats_was)
            self.stats_was = None

    def dut(self, *cmd, check=True):
        return sh("ip", "netns", "exec", self.dut_ns, *cmd, check=check)

    def responder(self, name, opts=()):
        """Leave dut0 bare, then set up one responder on it (opts: xdp-pong attach options)."""
        self.dut(XDP_PONG, "detach", "dut0", check=False)
        sh("ip", "-n", self.dut_ns, "link", "set", "dut0", "xdpdrv", "off")
        sh("ip", "-n", self.dut_ns, "addr", "flush", "dev", "dut0")
        sh("ip", "-n", self.dut_ns, "neigh", "flush", "dev", "dut0")
        if name == "xdp-pong":
            self.dut(XDP_PONG, "attach", "dut0", *opts)
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

    def prog_stats(self):
        """(run_time_ns, run_cnt) of the XDP program on dut0, or None."""
        link = json.loads(sh("ip", "-n", self.dut_ns, "-j", "-d", "link", "show", "dut0").stdout)[0]
        prog = (link.get("xdp") or {}).get("prog") or {}
        if "id" not in prog:
            return None
        info = json.loads(sh("bpftool", "-j", "prog", "show", "id", str(prog["id"])).stdout)
        return info.get("run_time_ns", 0), info.get("run_cnt", 0)

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

    # ---- measurements ----

    def one_run(self, frame, count, random_src=False):
        # Generator, responder and sink all run on the generator's CPU (veth
        # NAPI runs where it was scheduled); pinning keeps the run on one CPU.
        out = sh("ip", "netns", "exec", self.gen_ns, "taskset", "-c", str(self.args.cpu), GEN,
                 "--ifname", "gen0", "--frame", frame.hex(), "--count", str(count),
                 *(["--random-src"] if random_src else [])).stdout
        return json.loads(out)

    def pong_handled(self):
        """Frames xdp-pong on dut0 has handled so far: replies, refusals and passes."""
        doc = json.loads(self.dut(XDP_PONG, "stats", "dut0", "--json").stdout)["interfaces"][0]["counters"]
        return sum(v["packets"] for v in doc.values())

    def flood(self):
        """A random-source echo flood (16M spoofed sources): how fast xdp-pong handles it with
        its limits off and on, in alternating rounds, and its cost per packet in each."""
        frame = self.kinds()[0][2]                       # echo4, 64-byte frames
        settings = {"limits off": (), "limits on": ("--rate-limit", "10", "--global-limit", "1000")}
        runs = {name: [] for name in settings}
        for rnd in range(self.args.rounds):
            order = list(settings) if rnd % 2 == 0 else list(settings)[::-1]
            for name in order:
                self.responder("xdp-pong", settings[name])
                before = self.pong_handled()
                run = self.one_run(frame, self.args.packets, random_src=True)
                handled = self.pong_handled() - before
                secs = run["elapsed_ns"] / 1e9
                runs[name].append({"sent": run["sent"], "handled": handled, "seconds": secs,
                                   "handled_pps": handled / secs, "replies": run["received"]["echo4"]})
                print(f"  flood        round {rnd + 1} {name:10} {handled / secs / 1e6:7.3f} Mpps handled "
                      f"({run['received']['echo4']} replies)", flush=True)
        out = {}
        for name, rs in runs.items():
            pps = [r["handled_pps"] for r in rs]
            out[name] = {"runs": rs, "handled_pps": statistics.median(pps), "min": min(pps), "max": max(pps),
                         "ns_per_packet": self.program_cost("xdp-pong", frame, settings[name], random_src=True)}
        ratios = [on["handled_pps"] / off["handled_pps"] for on, off in zip(runs["limits on"], runs["limits off"])]
        out["ratio_on_off"] = statistics.median(ratios)
        print(f"  flood: limits on / off {out['ratio_on_off']:.3f} (per-round ratios {', '.join(f'{r:.3f}' for r in ratios)})",
              flush=True)
        return out

    def throughput(self):
        results = {}
        wanted = [k.strip() for k in self.args.kinds.split(",") if k.strip()]
        for kind, sink_kind, frame in self.kinds():
            if wanted and kind not in wanted:
                continue
            runs = {r: [] for r in RESPONDERS}
            for rnd in range(self.args.rounds):
                order = RESPONDERS[rnd % 3:] + RESPONDERS[:rnd % 3]   # alternate who goes first
                for resp in order:
                    self.responder(resp)
                    drops0 = self.drops()
                    run = self.one_run(frame, self.args.packets)
                    drops1 = self.drops()
                    secs = run["elapsed_ns"] / 1e9
                    got = sum(run["received"].values()) if resp == "ceiling" else run["received"][sink_kind]
                    entry = {"sent": run["sent"], "replies": got, "seconds": secs,
                             "offered_pps": run["sent"] / secs, "replies_pps": got / secs,
                             "requests_dropped_by_veth": drops1[0] - drops0[0],
                             "replies_dropped_by_veth": drops1[1] - drops0[1]}
                    runs[resp].append(entry)
                    print(f"  {kind:12} round {rnd + 1} {resp:9} {entry['replies_pps'] / 1e6:7.3f} Mpps "
                          f"({got}/{run['sent']})", flush=True)
            results[kind] = {"frame_bytes": len(frame), "runs": runs,
                             "summary": summarise(runs)}
            for resp in ("xdp-pong", "ceiling"):
                results[kind]["summary"][resp]["ns_per_packet"] = self.program_cost(resp, frame)
        return results

    def program_cost(self, resp, frame, opts=(), random_src=False):
        """Mean run time of the XDP program on dut0 per packet, from kernel.bpf_stats_enabled."""
        self.responder(resp, opts)
        self.bpf_stats(True)
        try:
            before = self.prog_stats()
            self.one_run(frame, min(self.args.packets, 1_000_000), random_src=random_src)
            after = self.prog_stats()
        finally:
            self.bpf_stats(False)
        if not before or not after or after[1] <= before[1]:
            return None
        return (after[0] - before[0]) / (after[1] - before[1])

    def latency(self):
        """RTT percentiles of iputils ping through xdp-pong and through the kernel."""
        sh("ip", "-n", self.gen_ns, "link", "set", "gen0", "xdpdrv", "obj", os.path.join(BUILD, "pass.bpf.o"),
           "sec", "xdp")
        sh("ip", "-n", self.gen_ns, "addr", "add", f"{GEN_IP}/24", "dev", "gen0")
        out = {}
        rounds = min(self.args.rounds, 3)
        rtts = {"xdp-pong": [], "kernel": []}
        try:
            for rnd in range(rounds):   # alternating, like the throughput rounds; samples pooled
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
                print(f"  latency {resp:9} p50 {fmt(out[resp]['p50_us'])} us  p99 {fmt(out[resp]['p99_us'])} us "
                      f"({len(vals)}/{out[resp]['sent']} replies)", flush=True)
        finally:
            sh("ip", "-n", self.gen_ns, "addr", "flush", "dev", "gen0", check=False)
            sh("ip", "-n", self.gen_ns, "link", "set", "gen0", "xdpdrv", "off", check=False)
        return out


def set_bpf_stats(value):
    with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
        f.write(value)


def pct(sorted_vals, p):
    """Nearest-rank percentile."""
    k = max(0, min(len(sorted_vals) - 1, int(round(p / 100 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def fmt(v, digits=1):
    return "-" if v is None else f"{v:.{digits}f}"


def summarise(runs):
    s = {}
    for resp, rs in runs.items():
        pps = [r["replies_pps"] for r in rs]
        s[resp] = {
            "offered_pps": statistics.median(r["offered_pps"] for r in rs),
            "replies_pps": statistics.median(pps), "replies_pps_min": min(pps), "replies_pps_max": max(pps),
            "loss_pct": 100.0 * (1 - sum(r["replies"] for r in rs) / sum(r["sent"] for r in rs)),
        }
    # Ratios are taken round by round (the runs of one round follow each other
    # within seconds, so drifts of the machine cancel out), then the median.
    def ratio(other):
        rs = [p["replies_pps"] / o["replies_pps"] for p, o in zip(runs["xdp-pong"], runs[other]) if o["replies_pps"]]
        return statistics.median(rs) if rs else None
    s["xdp-pong"].update({"vs_ceiling": ratio("ceiling"), "vs_kernel": ratio("kernel")})
    return s


def print_table(results, lat):
    print("\nreplies/s: median of the rounds (min-max); ratios: median of the per-round ratios; "
          "offered = the generator's rate; "
          "ns/pkt = program run time per packet (kernel.bpf_stats_enabled, separate run)")
    print(f"{'kind':12} {'responder':9} {'offered':>10} {'replies/s':>10} {'(min-max)':>21} {'loss%':>7} "
          f"{'/ceiling':>8} {'/kernel':>8} {'ns/pkt':>7}")
    for kind, r in results.items():
        for resp in RESPONDERS:
            s = r["summary"][resp]
            rng = f"{s['replies_pps_min'] / 1e6:.3f}-{s['replies_pps_max'] / 1e6:.3f}M"
            print(f"{kind:12} {resp:9} {s['offered_pps'] / 1e6:9.3f}M {s['replies_pps'] / 1e6:9.3f}M {rng:>21} "
                  f"{s['loss_pct']:7.2f} {fmt(s.get('vs_ceiling'), 3):>8} {fmt(s.get('vs_kernel'), 1):>8} "
                  f"{fmt(s.get('ns_per_packet')):>7}")
    if lat:
        print("\nRTT of ping -i 0.002 (microseconds)")
        for resp, v in lat.items():
            print(f"  {resp:9} p50 {fmt(v['p50_us'])}  p99 {fmt(v['p99_us'])}  ({v['received']}/{v['sent']} replies)")


def check_targets(results, lat):
    """The issue's targets, as lines of (ok, text)."""
    out = []
    for kind, r in results.items():
        s = r["summary"]
        p = s["xdp-pong"]
        out.append((p["vs_ceiling"] is not None and p["vs_ceiling"] >= 0.97,
                    f"{kind}: xdp-pong {fmt(p['vs_ceiling'], 3)} x ceiling (target >= 0.97)"))
        out.append((p["vs_kernel"] is not None and p["vs_kernel"] >= 10,
                    f"{kind}: xdp-pong {fmt(p['vs_kernel'], 1)} x kernel (target >= 10)"))
        pr = r["runs"]["xdp-pong"]
        lost = sum(x["sent"] - x["replies"] for x in pr)
        where = (f" ({sum(x['requests_dropped_by_veth'] for x in pr)} requests dropped before xdp-pong saw them, "
                 f"{sum(x['replies_dropped_by_veth'] for x in pr)} replies dropped by the veth)") if lost else ""
        out.append((lost == 0, f"{kind}: xdp-pong lost {lost} replies (target 0){where}"))
    if lat and lat.get("xdp-pong", {}).get("p50_us") and lat.get("kernel", {}).get("p50_us"):
        for q in ("p50_us", "p99_us"):
            out.append((lat["xdp-pong"][q] <= lat["kernel"][q],
                        f"RTT {q[:3]}: xdp-pong {fmt(lat['xdp-pong'][q])} us, kernel {fmt(lat['kernel'][q])} us"))
    return out


def chart(results, lat, path):
    """Bar chart of replies/s per kind and responder, and RTT percentiles, with gnuplot."""
    dat = path + ".dat"
    with open(dat, "w") as f:
        for kind, r in results.items():
            vals = " ".join(f"{r['summary'][x]['replies_pps'] / 1e6:.4f}" for x in RESPONDERS)
            f.write(f"\"{kind.replace(' ', '-')}\" {vals}\n")
        f.write("\n\n")
        for q in ("p50_us", "p99_us"):
            f.write(f"{q[:3]} {lat.get('xdp-pong', {}).get(q) or 0:.2f} {lat.get('kernel', {}).get(q) or 0:.2f}\n")
    script = f"""
set terminal pngcairo size 1100,450 font ",10"
set output "{path}"
set multiplot layout 1,2 title "xdp-pong benchmark (veth, medians of alternating rounds)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set key outside bottom center horizontal
set grid ytics
set yrange [0:*]
set xtics nomirror
set termoption noenhanced
set ylabel "replies/s (millions)"
set title "Throughput"
set xrange [-0.6:{len(results) - 0.4}]
plot "{dat}" index 0 using 2:xtic(1) title "xdp-pong", "" index 0 using 3 title "XDP_TX ceiling", \
     "" index 0 using 4 title "kernel stack"
set ylabel "RTT (microseconds)"
set title "ping -i 0.002 RTT"
set xrange [-0.6:1.6]
plot "{dat}" index 1 using 2:xtic(1) title "xdp-pong", "" index 1 using 3 title "kernel stack"
unset multiplot
"""
    res = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True, check=False)
    os.unlink(dat)
    if res.returncode != 0:
        raise RuntimeError(f"gnuplot: {res.stderr.strip()}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--packets", type=int, default=int(os.environ.get("BENCH_PACKETS", 2_000_000)),
                    help="requests per run (default 2000000, env BENCH_PACKETS)")
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 5)),
                    help="alternating rounds per kind (default 5, env BENCH_ROUNDS)")
    ap.add_argument("--latency-count", type=int, default=int(os.environ.get("BENCH_PINGS", 1000)),
                    help="pings per latency run (default 1000, env BENCH_PINGS)")
    ap.add_argument("--cpu", type=int, default=0,
                    help="CPU the generator (and with it the whole path) runs on (default 0)")
    ap.add_argument("--kinds", default="", help="comma-separated subset of kinds, e.g. 'echo4 64B,ndp,flood'")
    ap.add_argument("--json", default=os.path.join(BUILD, "bench.json"))
    ap.add_argument("--png", default=os.path.join(BUILD, "bench.png"))
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: must be run as root (namespaces, XDP)")
    if args.packets < 1 or args.rounds < 1 or args.latency_count < 1:
        sys.exit("bench: --packets, --rounds and --latency-count must be positive")

    bench = Bench(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        bench.up()
        print(f"bench: {args.packets} requests per run, {args.rounds} rounds, {os.cpu_count()} CPUs", flush=True)
        results = bench.throughput()
        wanted = [k.strip() for k in args.kinds.split(",") if k.strip()]
        flood = bench.flood() if not wanted or "flood" in wanted else None
        lat = bench.latency()
    finally:
        bench.down()
    print_table(results, lat)
    targets = check_targets(results, lat)
    print("\ntargets:")
    for ok, text in targets:
        print(f"  {'met ' if ok else 'MISS'} {text}")
    doc = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "kernel": os.uname().release,
           "cpus": os.cpu_count(), "packets_per_run": args.packets, "rounds": args.rounds,
           "throughput": results, "flood": flood, "latency": lat,
           "targets": [{"met": ok, "what": text} for ok, text in targets]}
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(doc, f, indent=1)
    if results:
        chart(results, lat, args.png)
    print(f"\nwrote {args.json} and {args.png}")


if __name__ == "__main__":
    main()
