#!/usr/bin/python3
"""The namespace lab: every network namespace xdp-pong's demo, tests and
benchmark use is made here, and removed here whatever fails.

Topologies:

  bridge   "a NIC on a switch", for the demo and the real-client tests:

             [P-cli] cli0 --- swc [P-sw: bridge br0] swp --- pong0 [P-pong]

           The client has 198.51.100.2/24 and 2001:db8:77::2/64, default
           routes via .1 / ::1 (assigned nowhere: xdp-pong answers for them).
           pong0 has no address and IPv6 off, so its kernel never answers.
           swp carries an XDP_PASS program: a veth delivers XDP_TX frames
           only when its peer has NAPI, which an XDP program enables.

  pair     gen0 [P-gen] --- dut0 [P-dut]: a veth pair, for the benchmark and
           the soak (the generator on gen0, the responder on dut0).

  single   one namespace [P] to fill with devices, for the CLI's tests.

Usage as a library: `with Lab.bridge("xpdemo") as lab: ...` (or .pair,
.single); on the command line (the demo): `lab.py up|down PREFIX` for the
bridge lab. Also here: request frames of each kind (scapy), and the veth
counters from `ethtool -S`.
"""
import atexit
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
BUILD = os.path.join(ROOT, "build")
PASS_OBJ = os.environ.get("PASS_OBJ", os.path.join(BUILD, "pass.bpf.o"))

CLIENT_IP, CLIENT_IP6 = "198.51.100.2", "2001:db8:77::2"
GATEWAY_IP, GATEWAY_IP6 = "198.51.100.1", "2001:db8:77::1"


def sh(cmd, timeout=60, check=False, **kw):
    """Run a command (a list); returns the CompletedProcess, text output.
    check: raise with the command's stderr when it fails."""
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, **kw)
    if check and res.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))}: {(res.stderr or res.stdout).strip()}")
    return res


class Lab:
    """Namespaces named PREFIX-ROLE, made by one of the topologies below and
    removed by down(): on leaving `with`, at exit of the process, and when
    making them fails half-way (before `with` could call __exit__)."""

    def __init__(self, prefix, roles):
        self.prefix = prefix
        self.names = {role: f"{prefix}-{role}" if role else prefix for role in roles}
        self._up = False

    # ---- the topologies ----

    @classmethod
    def bridge(cls, prefix):
        lab = cls(prefix, ("cli", "sw", "pong"))
        lab.cli, lab.sw, lab.pong = (lab.names[r] for r in ("cli", "sw", "pong"))
        return lab._build(lab._bridge)

    @classmethod
    def pair(cls, prefix, queues=1):
        """queues: receive and transmit queues of each end (a veth hands what a CPU
        sends to the queue of that CPU's number, so 2 queues spread 2 senders)."""
        lab = cls(prefix, ("gen", "dut"))
        lab.gen, lab.dut, lab.queues = lab.names["gen"], lab.names["dut"], queues
        return lab._build(lab._pair)

    @classmethod
    def single(cls, prefix):
        lab = cls(prefix, ("",))
        lab.ns_name = lab.names[""]
        return lab._build(lambda: None)

    def _build(self, build):
        self.down()                            # a previous run's leftovers of the same name
        atexit.register(self.down)
        try:
            for ns in self.names.values():
                sh(["ip", "netns", "add", ns], check=True)
            for ns in self.names.values():
                self.ip(ns, "link", "set", "lo", "up")
            build()
        except BaseException:
            self.down()
            raise
        self._up = True
        return self

    def _bridge(self):
        if not os.path.exists(PASS_OBJ):
            raise RuntimeError(f"{PASS_OBJ} missing: run make first")
        # a switch forwards frames, it does not filter them: no iptables on bridged traffic
        for proto in ("iptables", "ip6tables", "arptables"):
            if os.path.exists(f"/proc/sys/net/bridge/bridge-nf-call-{proto}"):
                self.write_sysctl(self.sw, f"net/bridge/bridge-nf-call-{proto}", "0")
        self.ip(self.sw, "link", "add", "br0", "type", "bridge")
        self.ip(self.sw, "link", "set", "br0", "up")
        self.ip(self.sw, "link", "add", "swc", "type", "veth", "peer", "name", "cli0", "netns", self.cli)
        self.ip(self.sw, "link", "add", "swp", "type", "veth", "peer", "name", "pong0", "netns", self.pong)
        for port in ("swc", "swp"):
            self.ip(self.sw, "link", "set", port, "master", "br0")
            self.ip(self.sw, "link", "set", port, "up")
        self.ip(self.sw, "link", "set", "dev", "swp", "xdpdrv", "obj", PASS_OBJ, "sec", "xdp")
        # the responder answers in XDP only: its kernel must not answer IPv6 itself
        self.write_sysctl(self.pong, "net/ipv6/conf/pong0/disable_ipv6", "1")
        self.ip(self.pong, "link", "set", "pong0", "up")
        self.ip(self.cli, "link", "set", "cli0", "up")
        self.ip(self.cli, "addr", "add", f"{CLIENT_IP}/24", "dev", "cli0")
        self.ip(self.cli, "addr", "add", f"{CLIENT_IP6}/64", "dev", "cli0", "nodad")
        self.ip(self.cli, "route", "add", "default", "via", GATEWAY_IP)
        self.ip(self.cli, "-6", "route", "add", "default", "via", GATEWAY_IP6)

    def add_host(self, role, addrs=(), xdp_peer=False):
        """Another host on the bridge lab's switch: namespace PREFIX-ROLE, interface
        ROLE0 (with addrs, "A/LEN", IPv6 without DAD), its switch port sw-ROLE.
        xdp_peer: an XDP_PASS program on that port, so that frames sent from
        ROLE0 by XDP (a generator) are delivered. Removed with the lab."""
        ns, dev, port = f"{self.prefix}-{role}", f"{role}0", f"sw-{role}"
        self.names[role] = ns
        sh(["ip", "netns", "add", ns], check=True)
        self.ip(ns, "link", "set", "lo", "up")
        self.ip(self.sw, "link", "add", port, "type", "veth", "peer", "name", dev, "netns", ns)
        self.ip(self.sw, "link", "set", port, "master", "br0")
        self.ip(self.sw, "link", "set", port, "up")
        if xdp_peer:
            self.ip(self.sw, "link", "set", "dev", port, "xdpdrv", "obj", PASS_OBJ, "sec", "xdp")
        self.ip(ns, "link", "set", dev, "up")
        for addr in addrs:
            self.ip(ns, "addr", "add", addr, "dev", dev, *(["nodad"] if ":" in addr else []))
        return ns

    def _pair(self):
        q = [] if self.queues == 1 else ["numtxqueues", str(self.queues), "numrxqueues", str(self.queues)]
        self.ip(self.gen, "link", "add", "gen0", *q, "type", "veth", "peer", "name", "dut0", *q, "netns", self.dut)
        self.ip(self.gen, "link", "set", "gen0", "up")
        self.ip(self.dut, "link", "set", "dut0", "up")
        self.gen_mac = self.mac(self.gen, "gen0")
        self.dut_mac = self.mac(self.dut, "dut0")

    # ---- tear-down ----

    def down(self):
        for ns in self.names.values():
            sh(["ip", "netns", "del", ns])
        self._up = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.down()

    # ---- inside the namespaces ----

    def ip(self, ns, *args):
        """`ip -n NS ...`; raises if it fails."""
        return sh(["ip", "-n", ns, *args], check=True)

    def run(self, ns, *cmd, timeout=60, **kw):
        return sh(["ip", "netns", "exec", ns, *cmd], timeout=timeout, **kw)

    def popen(self, ns, *cmd, **kw):
        return subprocess.Popen(["ip", "netns", "exec", ns, *cmd], text=True, **kw)

    def mac(self, ns, dev):
        return self.run(ns, "cat", f"/sys/class/net/{dev}/address", check=True).stdout.strip()

    def write_sysctl(self, ns, key, value):
        """A sysctl of the namespace, by /proc/sys (no procps needed)."""
        self.run(ns, "sh", "-c", 'echo "$1" > "/proc/sys/$2"', "sh", value, key, check=True)

    def xdp_prog(self, ns, dev):
        """Id of the XDP program on dev, or None."""
        out = sh(["ip", "-n", ns, "-d", "link", "show", "dev", dev]).stdout
        m = re.search(r"prog/xdp id (\d+)", out)
        return int(m.group(1)) if m else None


def ethtool_counters(lab, ns, dev, pattern):
    """Sum of the `ethtool -S` counters of dev whose names match pattern. Raises if
    ethtool fails or no counter matches: a missing counter must not read as zero."""
    res = lab.run(ns, "ethtool", "-S", dev)
    values = re.findall(r"^\s*(" + pattern + r"):\s*(\d+)\s*$", res.stdout, re.M)
    if res.returncode != 0 or not values:
        raise RuntimeError(f"ethtool -S {dev}: no counter matching {pattern!r} "
                           f"({res.stderr.strip() or 'not in its output'})")
    return sum(int(v) for _, v in values)


def request_frames(src_mac, dst_mac, src_ip=CLIENT_IP, dst_ip=GATEWAY_IP, src_ip6=CLIENT_IP6,
                   dst_ip6=GATEWAY_IP6, payload=56):
    """One request of each kind xdp-pong answers, from src to dst, as scapy frames:
    {"echo4", "arp", "echo6", "ndp"}."""
    import logging
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    from scapy.layers.inet import ICMP, IP
    from scapy.layers.inet6 import (ICMPv6EchoRequest, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, IPv6,
                                    in6_getnsma, in6_getnsmac)
    from scapy.layers.l2 import ARP, Ether
    from scapy.packet import Raw
    from scapy.pton_ntop import inet_ntop, inet_pton
    import socket

    group = inet_ntop(socket.AF_INET6, in6_getnsma(inet_pton(socket.AF_INET6, dst_ip6)))
    gmac = in6_getnsmac(inet_pton(socket.AF_INET6, group))
    eth = Ether(dst=dst_mac, src=src_mac)
    return {
        "echo4": eth / IP(src=src_ip, dst=dst_ip) / ICMP(id=7, seq=1) / Raw(b"s" * payload),
        "arp": Ether(dst="ff:ff:ff:ff:ff:ff", src=src_mac) / ARP(op=1, hwsrc=src_mac, psrc=src_ip, pdst=dst_ip),
        "echo6": eth / IPv6(src=src_ip6, dst=dst_ip6) / ICMPv6EchoRequest(id=7) / Raw(b"s" * payload),
        "ndp": Ether(dst=gmac, src=src_mac) / IPv6(src=src_ip6, dst=group, hlim=255) /
        ICMPv6ND_NS(tgt=dst_ip6) / ICMPv6NDOptSrcLLAddr(lladdr=src_mac),
    }


def main(argv):
    """lab.py up|down PREFIX: the bridge lab, for scripts/demo.sh."""
    if len(argv) != 2 or argv[0] not in ("up", "down") or not re.fullmatch(r"[A-Za-z0-9_]{1,20}", argv[1]):
        print("usage: lab.py up|down PREFIX (letters, digits, _; at most 20)", file=sys.stderr)
        return 2
    if argv[0] == "down":
        Lab(argv[1], ("cli", "sw", "pong")).down()
        return 0
    try:
        lab = Lab.bridge(argv[1])
    except (RuntimeError, subprocess.SubprocessError) as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return 1
    atexit.unregister(lab.down)                  # the demo takes it down itself
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
