"""Frame builders and an independent checksum routine for the tests.

Nothing here shares code with xdp/: requests and expected replies are built
with scapy from the protocol definitions, and checksums are checked with our
own one's-complement routine below.
"""
import logging
import struct

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.layers.inet import ICMP, IP, TCP, UDP  # noqa: E402
from scapy.layers.l2 import ARP, Dot1AD, Dot1Q, Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402

IF_MAC = "02:00:00:00:00:01"      # the interface xdp-pong runs on
PEER_MAC = "02:00:00:00:00:02"    # the requester
OTHER_MAC = "02:00:00:00:00:99"   # some third host
BCAST = "ff:ff:ff:ff:ff:ff"
CLIENT_IP = "198.51.100.2"
ANY_IP = "203.0.113.7"            # an address nobody assigned


def ones_sum(data: bytes) -> int:
    """One's complement sum of 16-bit big-endian words (odd byte padded)."""
    if len(data) % 2:
        data += b"\0"
    total = 0
    for (word,) in struct.iter_unpack("!H", data):
        total += word
        total = (total & 0xFFFF) + (total >> 16)
    return total


def checksum_ok(data: bytes) -> bool:
    """True if data, checksum field included, sums to 0xffff."""
    return ones_sum(data) == 0xFFFF


def l2(dst=IF_MAC, src=PEER_MAC, tags=()):
    """Ethernet header plus VLAN tags: tags is a list of (tpid, vid)."""
    frame = Ether(dst=dst, src=src)
    for tpid, vid in tags:
        frame = frame / (Dot1AD(vlan=vid) if tpid == 0x88A8 else Dot1Q(vlan=vid))
    return frame


def echo4(dst_ip=ANY_IP, src_ip=CLIENT_IP, payload=b"x" * 56, ident=0x1234, seq=1,
          ip_kw=None, icmp_kw=None, **l2kw):
    icmp = dict(type=8, id=ident, seq=seq)
    icmp.update(icmp_kw or {})
    return (l2(**l2kw) / IP(src=src_ip, dst=dst_ip, **(ip_kw or {})) / ICMP(**icmp) / Raw(payload))


def arp_request(target=ANY_IP, sender=CLIENT_IP, dst=BCAST, sha=PEER_MAC, arp_kw=None, **l2kw):
    kw = dict(hwtype=1, ptype=0x0800, hwlen=6, plen=4, op=1,
              hwsrc=sha, psrc=sender, hwdst="00:00:00:00:00:00", pdst=target)
    kw.update(arp_kw or {})
    return l2(dst=dst, **l2kw) / ARP(**kw)


def tags_of(pkt):
    """The (tpid, vid) tags of a scapy frame, outermost first."""
    tags, layer = [], pkt.payload
    while isinstance(layer, (Dot1Q, Dot1AD)):
        tags.append((0x88A8 if isinstance(layer, Dot1AD) else 0x8100, layer.vlan))
        layer = layer.payload
    return tags


def l3_offset(frame: bytes) -> int:
    off, etype = 14, struct.unpack_from("!H", frame, 12)[0]
    while etype in (0x8100, 0x88A8):
        etype = struct.unpack_from("!H", frame, off + 2)[0]
        off += 4
    return off


__all__ = ["ICMP", "IP", "TCP", "UDP", "ARP", "Dot1Q", "Dot1AD", "Ether", "Raw"]
