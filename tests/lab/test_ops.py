"""Operations, with real clients through the bridge lab (one per module): address scoping and
run-time prefix changes, per-source and global rate limits, live stats,
Prometheus output (promtool, textfile, HTTP, and a real Prometheus server
scraping it), several interfaces and an interface that disappears.
"""
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from pylib.env import PROMETHEUS, PROMTOOL, XDP_PONG, bytes_sh, delta, sh
from pylib.inotify import IN_MOVED_TO, WRITES_IN_PLACE, DirWatch

ECHO4 = ("counters", "echo4")
LIMITED = ("refused_by_reason", "rate_limited")
OUTSIDE = ("refused_by_reason", "not_in_prefix")


@pytest.fixture(autouse=True)
def clean(bridge):
    """Each test starts and ends with nothing attached and no neighbour cached by the client."""
    yield
    for dev in ("pong0", "pong1"):
        bridge.pong_cli("detach", dev)
    bridge.client("ip", "addr", "del", "198.51.100.3/24", "dev", "cli0")
    bridge.client("ip", "neigh", "flush", "dev", "cli0", "nud", "all")


def ping(lab, addr, count=3, interval="0.2", src=None, wait="1"):
    args = ["ping", "-n", "-c", str(count), "-i", interval, "-W", wait]
    if src:
        args += ["-I", src]
    res = lab.client(*args, addr, timeout=120)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", res.stdout)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_scoping(bridge):
    lab = bridge
    res = lab.pong_cli("attach", "pong0", "--prefix", "198.51.100.0/25", "--prefix", "2001:db8:77::/64")
    assert (res.returncode == 0 and "warning" not in res.stderr), ("attach with --prefix: no warning") + ': ' + str(res.stderr)
    listed = lab.pong_cli("prefix", "list", "pong0").stdout.split()
    assert (listed) == (["198.51.100.0/25", "2001:db8:77::/64"]), ("prefix list shows both prefixes")
    assert (ping(lab, "198.51.100.50")) == ((3, 3)), ("scope: an address inside is answered")
    before = lab.stats()
    assert (ping(lab, "198.51.100.200", count=2)[1]) == (0), ("scope: an address outside is not")
    assert (delta(before, lab.stats(), OUTSIDE)[0] >= 1), ("scope: counted under not_in_prefix")
    assert (ping(lab, "203.0.113.9", count=2)[1]) == (0), ("scope: routed to an address outside is not answered")
    res = lab.client("ping", "-6", "-n", "-c", "2", "-i", "0.2", "-W", "1", "2001:db8:77::50")
    assert (" 0% packet loss" in res.stdout), ("scope: IPv6 inside the prefix answered (NS and echo6)") + ': ' + str(res.stdout)
    res = lab.client("ping", "-6", "-n", "-c", "2", "-i", "0.2", "-W", "1", "2001:db8:99::9")
    assert ("100% packet loss" in res.stdout), ("scope: IPv6 routed outside the prefix not answered") + ': ' + str(res.stdout)

    before = lab.stats()
    res = lab.pong_cli("prefix", "add", "pong0", "198.51.100.128/25")
    assert (res.returncode == 0), ("prefix add at run time") + ': ' + str(res.stderr)
    lab.client("ip", "neigh", "flush", "dev", "cli0")
    assert (ping(lab, "198.51.100.200")) == ((3, 3)), ("prefix add: the new range answers")
    after = lab.stats()
    assert (after["counters"]["echo4"]["packets"] >= before["counters"]["echo4"]["packets"] + 3 and
            after["prog_id"] == before["prog_id"]), ("prefix add: counters kept (not reset by the change)") + ': ' + str(f"{before['counters']['echo4']} -> {after['counters']['echo4']}")
    for cidr in ("198.51.100.0/25", "198.51.100.128/25"):
        lab.pong_cli("prefix", "del", "pong0", cidr)
    res = lab.pong_cli("prefix", "del", "pong0", "2001:db8:77::/64")
    assert (res.returncode == 0 and "nothing is answered" in res.stdout), ("prefix del of the last one says nothing is answered now") + ': ' + str(res.stdout + res.stderr)
    lab.client("ip", "neigh", "flush", "dev", "cli0")
    assert (ping(lab, "198.51.100.50", count=2)[1]) == (0), ("empty list: fails closed, nothing answered")
    res = lab.pong_cli("prefix", "clear", "pong0")
    assert (res.returncode == 0 and
            "every address" in res.stderr), ("prefix clear warns that every address is answered") + ': ' + str(res.stderr)
    assert ("every address is answered" in lab.pong_cli("prefix", "list", "pong0").stdout), ("prefix list after clear says every address")
    lab.client("ip", "neigh", "flush", "dev", "cli0")
    assert (ping(lab, "203.0.113.9")) == ((3, 3)), ("after clear: routed addresses answered again")
    res = lab.pong_cli("detach", "pong0")
    assert (res.returncode == 0), ("detach after scoping") + ': ' + str(res.stderr)


def test_rate_limits(bridge):
    lab = bridge
    res = lab.pong_cli("attach", "pong0", "--rate-limit", "50")
    assert (res.returncode == 0), ("attach --rate-limit 50") + ': ' + str(res.stderr)
    pong_mac = lab.mac(lab.pong, "pong0")
    lab.client("ip", "addr", "add", "198.51.100.3/24", "dev", "cli0")
    for addr in ("198.51.100.50", "198.51.100.51"):   # no ARP during the flood
        lab.client("ip", "neigh", "replace", addr, "lladdr", pong_mac, "dev", "cli0", "nud", "permanent")
    before = lab.stats()
    t0 = time.time()
    flood = subprocess.Popen(["ip", "netns", "exec", lab.cli, "ping", "-n", "-q", "-c", "600", "-i", "0.002",
                              "-W", "1", "-I", "198.51.100.2", "198.51.100.50"], stdout=subprocess.PIPE, text=True)
    polite = ping(lab, "198.51.100.51", count=8, interval="0.15", src="198.51.100.3")
    out, _ = flood.communicate(timeout=120)
    elapsed = time.time() - t0
    after = lab.stats()
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    sent, got = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    assert (polite) == ((8, 8)), ("rate limit: a second source keeps getting every answer")
    assert (sent == 600 and 50 <= got <= 50 * (elapsed + 1) + 10), (f"rate limit: the flooding source is cut to the limit ({got} of {sent} in {elapsed:.1f}s)") + ': ' + str(out)
    assert (delta(before, after, LIMITED)[0] + got) == (sent), ("rate limit: every request of the flood answered or dropped as rate_limited")

    res = lab.pong_cli("set", "pong0", "--rate-limit", "off", "--global-limit", "20")
    assert (res.returncode == 0 and "global 20 pps" in res.stdout), ("set --rate-limit off --global-limit 20") + ': ' + str(res.stdout + res.stderr)
    t0 = time.time()
    a = subprocess.Popen(["ip", "netns", "exec", lab.cli, "ping", "-n", "-q", "-c", "150", "-i", "0.01", "-W", "1",
                          "-I", "198.51.100.2", "198.51.100.50"], stdout=subprocess.PIPE, text=True)
    b_sent, b_got = ping(lab, "198.51.100.51", count=150, interval="0.01", src="198.51.100.3")
    out, _ = a.communicate(timeout=120)
    elapsed = time.time() - t0
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    a_got = int(m.group(2)) if m else -1
    assert (20 <= a_got + b_got <= 20 * (elapsed + 1) + 5), (f"global limit: all sources together cut to it ({a_got}+{b_got} in {elapsed:.1f}s)")
    status = lab.pong_cli("status", "pong0").stdout
    assert ("per source off, global 20 pps" in status), ("status shows the limits") + ': ' + str(status)
    lab.pong_cli("set", "pong0", "--global-limit", "off")
    assert (ping(lab, "198.51.100.50", count=5, interval="0.05")) == ((5, 5)), ("limits off: every answer again")
    lab.pong_cli("detach", "pong0")


def test_live_stats(bridge):
    lab = bridge
    lab.pong_cli("attach", "pong0")
    pinger = subprocess.Popen(["ip", "netns", "exec", lab.cli, "ping", "-n", "-q", "-c", "60", "-i", "0.05",
                               "198.51.100.50"], stdout=subprocess.DEVNULL)
    res = lab.ns(lab.pong, XDP_PONG, "stats", "pong0", "--interval", "0.5", "--count", "3", "--json")
    pinger.wait(timeout=60)
    lines = [json.loads(line) for line in res.stdout.splitlines() if line.strip()]
    assert ((res.returncode, len(lines))) == ((0, 3)), ("stats --interval 0.5 --count 3: three samples, then exit 0")
    rates = [s["interfaces"][0]["rates"]["echo4"]["pps"] for s in lines]
    assert (all(12 <= r <= 28 for r in rates[1:])), (f"stats --interval: echo4 rate near the ping rate of 20/s ({rates})") + ': ' + str(str(rates))
    assert (all(0.45 <= s["elapsed"] <= 0.8 for s in lines)), ("stats --interval: elapsed time measured") + ': ' + str(str([s["elapsed"] for s in lines]))
    proc = subprocess.Popen(["ip", "netns", "exec", lab.pong, XDP_PONG, "stats", "--interval", "0.3"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert (proc.returncode == 0 and not err and "PACKETS/S" in out), ("stats --interval: Ctrl-C exits cleanly (status 0, no error)") + ': ' + str(f"{proc.returncode} {err}")


def test_prometheus(bridge):
    lab = bridge
    assert lab.pong_cli("attach", "pong0").returncode == 0
    ping(lab, "198.51.100.50")
    res = lab.pong_cli("stats", "--prometheus")
    assert (res.returncode == 0 and "xdp_pong_replies_total{" in res.stdout), ("stats --prometheus") + ': ' + str(res.stderr)
    check = subprocess.run([PROMTOOL, "check", "metrics"], input=res.stdout, capture_output=True, text=True)
    assert (check.returncode == 0), ("promtool check metrics accepts it") + ': ' + str(check.stdout + check.stderr)
    echo4 = lab.stats()["counters"]["echo4"]["packets"]
    assert (f'xdp_pong_replies_total{{interface="pong0",kind="echo4"}} {echo4}' in res.stdout), ("prometheus: the echo4 sample equals stats --json")

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "xdp_pong.prom")
        res = lab.pong_cli("stats", "--textfile", path)
        assert (res.returncode == 0 and os.path.exists(path)), ("stats --textfile writes the file") + ': ' + str(res.stderr)
        assert (open(path).read() == lab.pong_cli("stats", "--prometheus").stdout), ("stats --textfile: same content as --prometheus")
        assert (os.listdir(tmp)) == (["xdp_pong.prom"]), ("stats --textfile: no temporary file left")
        # atomic: the target is only ever renamed over, never written in place
        # (inotify sees every write; a reader racing the writer could miss a torn file)
        watch = DirWatch(tmp)
        try:
            for _ in range(5):
                assert lab.pong_cli("stats", "--textfile", path).returncode == 0
            events = [mask for name, mask in watch.events() if name == "xdp_pong.prom"]
            assert events and all(m == IN_MOVED_TO for m in events), \
                f"stats --textfile is atomic: the target was written in place: {[hex(m) for m in events]}"
            assert len(events) == 5, "stats --textfile: each write renamed a whole file over the target"
            # the detector's own control: a writer in place (the shell's >) is seen as one
            sh(["sh", "-c", 'cat "$1" > "$1.copy" && cat "$1.copy" > "$1"', "sh", path])
            assert any(m & WRITES_IN_PLACE for name, m in watch.events() if name == "xdp_pong.prom"), \
                "inotify must see a write in place (control)"
        finally:
            watch.close()
        os.unlink(path + ".copy")
        res = lab.pong_cli("stats", "--textfile", os.path.join(tmp, "nodir", "x.prom"))
        assert (res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1), ("stats --textfile into a missing directory: one-line error") + ': ' + str(res.stderr)

        # two names that differ only in a byte that is not UTF-8: two series, never one
        odd = (b"q\xff", b"q\xfe")
        assert bytes_sh([b"ip", b"-n", lab.pong.encode(), b"link", b"add", odd[0], b"type", b"veth", b"peer",
                         b"name", odd[1]]).returncode == 0
        for name in odd:
            bytes_sh([b"ip", b"-n", lab.pong.encode(), b"link", b"set", b"dev", name, b"up"])
        res = bytes_sh([b"ip", b"netns", b"exec", lab.pong.encode(), XDP_PONG.encode(), b"attach", *odd])
        assert res.returncode == 0, res.stderr
        port, prom_port = free_port(), free_port()
        server = subprocess.Popen(["ip", "netns", "exec", lab.pong, XDP_PONG, "metrics", "--listen",
                                   f"127.0.0.1:{port}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write(f"global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: xdp-pong\n"
                    f"    static_configs:\n      - targets: ['127.0.0.1:{port}']\n")
        prom = subprocess.Popen(["ip", "netns", "exec", lab.pong, PROMETHEUS, f"--config.file={cfg}",
                                 f"--storage.tsdb.path={tmp}/data", f"--web.listen-address=127.0.0.1:{prom_port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            body = http_get(lab, f"http://127.0.0.1:{port}/metrics")
            assert (body is not None and "xdp_pong_replies_total" in body), ("metrics --listen serves /metrics")
            fds_before = len(os.listdir(f"/proc/{server.pid}/fd"))
            lab.ns(lab.pong, "/usr/bin/python3", "-c",
                   f"import urllib.request\nfor _ in range(100): urllib.request.urlopen("
                   f"'http://127.0.0.1:{port}/metrics', timeout=5).read()")
            fds_after = len(os.listdir(f"/proc/{server.pid}/fd"))
            assert (fds_after) == (fds_before), ("metrics --listen: 100 scrapes leak no file descriptor")
            assert (http_status(lab, f"http://127.0.0.1:{port}/other")) == (404), ("metrics --listen: other paths are 404")
            value = None
            query = "xdp_pong_replies_total%7Bkind%3D%22echo4%22%7D"
            for _ in range(60):
                doc = http_get(lab, f"http://127.0.0.1:{prom_port}/api/v1/query?query={query}")
                try:
                    result = json.loads(doc)["data"]["result"] if doc else []
                    value = int(float(result[0]["value"][1])) if result else None
                except (ValueError, KeyError, IndexError):
                    value = None
                if value is not None:
                    break
                time.sleep(0.5)
            assert (value) == (lab.stats()["counters"]["echo4"]["packets"]), ("a real Prometheus scraped xdp-pong metrics: its query API returns the echo4 replies")
            doc = http_get(lab, f"http://127.0.0.1:{prom_port}/api/v1/query?query=xdp_pong_up")
            names = sorted(r["metric"]["interface"] for r in json.loads(doc)["data"]["result"])
            assert names == ["pong0", "q\\xfe", "q\\xff"], f"one series per interface, names told apart: {names}"
        finally:
            prom.terminate()
            prom.wait(timeout=30)
            server.send_signal(signal.SIGTERM)
            server.communicate(timeout=10)
            bytes_sh([b"ip", b"netns", b"exec", lab.pong.encode(), XDP_PONG.encode(), b"detach", *odd])
            bytes_sh([b"ip", b"-n", lab.pong.encode(), b"link", b"del", odd[0]])
        assert (server.returncode) == (0), ("metrics --listen exits 0 on SIGTERM")
    lab.pong_cli("detach", "pong0")


# The clients' helpers, run inside the responder's namespace with the server's port as argv[1].
CLIENTS = r"""
import json, socket, sys, threading, time
port = int(sys.argv[1])
def conn(src):
    s = socket.socket()
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s
def is_open(s):
    try:
        return s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
"""

# Hostile clients of `metrics --listen`, then a scrape.
HOSTILE = CLIENTS + r"""
out = {}
# 1,025 idle connections from one client
idle = []
for _ in range(1025):
    try:
        idle.append(conn("127.0.0.1"))
    except OSError:
        break
# 20 connections from 10 addresses of one IPv6 /64: a client, for the limit
many = []
for i in range(10):
    for _ in range(2):
        s = socket.socket(socket.AF_INET6)
        s.bind((f"2001:db8:ff::{i + 1}", 0))
        try:
            s.connect(("::1", port))
            many.append(s)
        except OSError:
            pass
# 20 slow clients in another /24: one header byte every 0.5 s, never done
slow = [conn("127.0.3.3") for _ in range(20)]
for s in slow:
    s.send(b"GET /metrics HTTP/1.1\r\n")
time.sleep(1.0)
out["idle_open"] = sum(is_open(s) for s in idle)
out["net64_open"] = sum(is_open(s) for s in many)
out["slow_open"] = sum(is_open(s) for s in slow)
# a scrape from a third network, while all of that is going on
t0 = time.time()
s = conn("127.0.2.2")
s.settimeout(5)
s.send(b"GET /metrics HTTP/1.0\r\n\r\n")
body = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
except OSError:
    pass
out["scrape_seconds"] = time.time() - t0
out["scrape_ok"] = body.startswith(b"HTTP/1.") and b" 200 " in body.split(b"\r\n")[0] and b"xdp_pong_replies_total" in body
# keep trickling; note when the server closes each slow connection
t0 = time.time()
alive = list(slow)
while alive and time.time() - t0 < 20:
    for s in list(alive):
        try:
            s.send(b"X")
        except OSError:
            alive.remove(s)
            continue
        if not is_open(s):
            alive.remove(s)
    time.sleep(0.5)
out["slow_closed_after"] = time.time() - t0 + 1.0
out["slow_still_open"] = len(alive)
for m in ("POST", "PUT", "DELETE"):
    s = conn("127.0.4.4")
    s.settimeout(5)
    s.send(m.encode() + b" /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n")
    head = s.recv(4096).split(b"\r\n\r\n")[0].decode("latin-1").lower()
    out[m] = [head.split("\r\n")[0], [h for h in head.split("\r\n") if h.startswith("allow:")]]
print(json.dumps(out))
"""


def test_hostile_clients(bridge):
    lab = bridge
    """metrics --listen under idle, slow and odd clients: a scrape still answers."""
    lab.pong_cli("attach", "pong0")
    port = free_port()
    for i in range(10):
        lab.ns(lab.pong, "ip", "addr", "add", f"2001:db8:ff::{i + 1}/64", "dev", "lo", "nodad")
    server = subprocess.Popen(["ip", "netns", "exec", lab.pong, XDP_PONG, "metrics", "--listen", f":{port}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        res = lab.ns(lab.pong, "/usr/bin/python3", "-c", HOSTILE, str(port), timeout=120)
        try:
            out = json.loads(res.stdout)
        except ValueError:
            assert (False), ("hostile clients: the client script ran") + ': ' + str(res.stderr[-600:])
            return
        assert (out["idle_open"] <= 8), (f"hostile clients: 1,025 idle connections from one client, {out['idle_open']} kept open (limit 8)") + ': ' + str(str(out))
        assert out["net64_open"] <= 8, f"20 connections from 10 addresses of one /64: {out['net64_open']} kept (limit 8)"
        assert (out["scrape_ok"] and out["scrape_seconds"] < 2), (f"hostile clients: a scrape from another client answers ({out['scrape_seconds']:.2f}s)") + ': ' + str(str(out))
        assert (out["slow_still_open"] == 0 and out["slow_closed_after"] <= 13), (f"hostile clients: slow clients sending a byte every 0.5 s are cut off by the deadline "
                f"(all within {out['slow_closed_after']:.1f}s)") + ': ' + str(str(out))
        for m in ("POST", "PUT", "DELETE"):
            status, allow = out[m]
            assert (" 405 " in status and
                    allow == ["allow: get, head"]), (f"hostile clients: {m} gets 405 with an Allow header") + ': ' + str(str(out[m]))
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=10)
        lab.pong_cli("detach", "pong0")
    assert (server.returncode) == (0), ("metrics --listen exits 0 on SIGTERM after hostile clients")


# Run inside the responder's namespace: NETS client networks (127.0.N.1) holding PER connections each,
# each connection opened again the moment the server closes it, while another network scrapes 18 times.
HOGS = CLIENTS + r"""
nets, per = int(sys.argv[2]), int(sys.argv[3])
stop = False
def hog(src):
    held = []
    while not stop:
        held = [s for s in held if is_open(s)]
        while len(held) < per and not stop:
            try:
                held.append(conn(src))
            except OSError:
                break
        time.sleep(0.01)
threads = [threading.Thread(target=hog, args=(f"127.0.{10 + i}.1",), daemon=True) for i in range(nets)]
for t in threads:
    t.start()
time.sleep(1.0)
ok = 0
for _ in range(18):
    try:
        s = socket.socket()
        s.bind(("127.0.250.1", 0))
        s.settimeout(3)
        s.connect(("127.0.0.1", port))
        s.send(b"GET /metrics HTTP/1.0\r\n\r\n")
        body = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
        ok += b" 200 " in body.split(b"\r\n")[0] and b"xdp_pong_up" in body
    except OSError:
        pass
    time.sleep(0.2)
stop = True
print(json.dumps({"scrapes_ok": ok}))
"""


@pytest.mark.parametrize("nets,per", [(8, 8)], ids=["8 networks x 8"])
def test_connection_hogs_cannot_starve_a_scraper(bridge, nets, per):
    """Clients holding every connection slot (and taking each back as soon as it closes): a scraper
    from another network is still answered, every time."""
    lab = bridge
    port = free_port()
    server = subprocess.Popen(["ip", "netns", "exec", lab.pong, XDP_PONG, "metrics", "--listen",
                               f"127.0.0.1:{port}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        res = lab.ns(lab.pong, "/usr/bin/python3", "-c", HOGS, str(port), str(nets), str(per), timeout=120)
        out = json.loads(res.stdout) if res.returncode == 0 else {}
        assert out.get("scrapes_ok") == 18, f"scrapes answered while {nets} networks hold every slot: {out} " \
            f"{res.stderr[-400:]}"
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=10)
    assert server.returncode == 0


def http_get(lab, url):
    res = lab.ns(lab.pong, "/usr/bin/python3", "-c",
                 f"import urllib.request; print(urllib.request.urlopen({url!r}, timeout=5).read().decode())")
    return res.stdout if res.returncode == 0 else None


def http_status(lab, url):
    res = lab.ns(lab.pong, "/usr/bin/python3", "-c",
                 "import urllib.request, urllib.error\n"
                 f"try:\n  print(urllib.request.urlopen({url!r}, timeout=5).status)\n"
                 "except urllib.error.HTTPError as e:\n  print(e.code)")
    return int(res.stdout.strip()) if res.stdout.strip().isdigit() else None


def test_several_interfaces(bridge):
    lab = bridge
    # a second responder port on the same bridge, in the responder's namespace
    for cmd in (["ip", "-n", lab.sw, "link", "add", "swq", "type", "veth", "peer", "name", "pong1", "netns",
                 lab.pong],
                ["ip", "-n", lab.sw, "link", "set", "swq", "master", "br0"],
                ["ip", "-n", lab.sw, "link", "set", "swq", "up"],
                ["ip", "-n", lab.pong, "link", "set", "pong1", "up"]):
        sh(cmd)
    res = lab.pong_cli("attach", "pong0", "pong1", "--mode", "skb", "--ttl", "33")
    assert (res.returncode == 0), ("attach two interfaces in one call") + ': ' + str(res.stderr)
    res = lab.pong_cli("prefix", "add", "pong1", "192.0.2.0/24")
    assert (res.returncode == 0), ("each interface has its own settings: prefix on pong1 only") + ': ' + str(res.stderr)
    status = lab.pong_cli("status").stdout
    assert (re.search(r"^pong0 .* all ", status, re.M) and re.search(r"^pong1 .* 1 prefix ", status, re.M)), ("status: pong0 all addresses, pong1 scoped") + ': ' + str(status)
    res = lab.pong_cli("detach", "pong1")
    assert (res.returncode == 0), ("detach one") + ': ' + str(res.stderr)
    assert (re.search(r"^pong0 ", lab.pong_cli("status").stdout, re.M) is not None), ("the other stays attached")
    lab.pong_cli("attach", "pong1", "--mode", "skb")
    sh(["ip", "-n", lab.pong, "link", "del", "pong1"])
    res = lab.pong_cli("stats", "pong1")
    assert (res.returncode == 1 and
            res.stderr.strip() == "xdp-pong: no such interface: pong1"), ("stats of a vanished interface: one plain line") + ': ' + str(res.stderr)
    res = lab.pong_cli("stats", "--json")
    names = [i["name"] for i in json.loads(res.stdout)["interfaces"]] if res.returncode == 0 else None
    assert (names) == (["pong0"]), ("stats without names lists the interfaces still there")
    lab.pong_cli("detach", "pong0")
