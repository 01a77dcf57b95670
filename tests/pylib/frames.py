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
from scapy.layers.inet6 import (ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS,  # noqa: E402
                                 ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr, IPv6,
                                 IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                                 in6_getnsma, in6_getnsmac)
from scapy.packet import Raw  # noqa: E402
from scapy.pton_ntop import inet_pton  # noqa: E402
import socket  # noqa: E402

IF_MAC = "02:00:00:00:00:01"      # the interface xdp-pong runs on
PEER_MAC = "02:00:00:00:00:02"    # the requester
OTHER_MAC = "02:00:00:00:00:99"   # some third host
BCAST = "ff:ff:ff:ff:ff:ff"
ZERO_MAC = "00:00:00:00:00:00"
CLIENT_IP = "198.51.100.2"
ANY_IP = "203.0.113.7"            # an address nobody assigned
CLIENT_IP6 = "2001:db8:77::2"
ANY_IP6 = "2001:db8:99::7"        # an address nobody assigned


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


def echo6(dst_ip=ANY_IP6, src_ip=CLIENT_IP6, payload=b"y" * 56, ident=0x4321, seq=1,
          ip_kw=None, icmp_kw=None, ext=(), **l2kw):
    """ICMPv6 echo request; ext is a list of scapy extension headers to put first."""
    icmp = dict(id=ident, seq=seq)
    icmp.update(icmp_kw or {})
    pkt = l2(**l2kw) / IPv6(src=src_ip, dst=dst_ip, **(ip_kw or {}))
    for hdr in ext:
        pkt = pkt / hdr
    return pkt / ICMPv6EchoRequest(**icmp) / Raw(payload)


def solicited_node(addr):
    """(IPv6 group, MAC) of addr's solicited-node multicast group."""
    group = socket.inet_ntop(socket.AF_INET6, in6_getnsma(inet_pton(socket.AF_INET6, addr)))
    return group, in6_getnsmac(inet_pton(socket.AF_INET6, group))


def ns(target=ANY_IP6, src_ip=CLIENT_IP6, dst_ip=None, dst=None, slla=PEER_MAC, hlim=255,
       ns_kw=None, opts=None, **l2kw):
    """Neighbour solicitation, by default multicast to target's solicited-node group."""
    group, gmac = solicited_node(target)
    pkt = (l2(dst=dst or gmac, **l2kw) / IPv6(src=src_ip, dst=dst_ip or group, hlim=hlim) /
           ICMPv6ND_NS(tgt=target, **(ns_kw or {})))
    if opts is not None:
        return pkt / opts
    return pkt / ICMPv6NDOptSrcLLAddr(lladdr=slla) if slla else pkt


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


# IPv4 record route (7) and timestamp (68) options: (name, the request's, the
# options of Linux's echo reply to it), in hex, spaces ignored; None: Linux sends
# no echo reply (a parameter problem, or nothing). AAAAAAAA is the address asked
# (Linux's own, when Linux is asked), TTTTTTTT a time of day the host writes.
# datapath/test_datapath.py holds xdp-pong to them; lab/test_oracle.py asks
# Linux the same and checks it still answers so.
IPV4_OPTION_CASES = [
    ("record route, no room", "07 03 04 00", "07030400"),
    ("record route, room for one", "07 07 04 00000000 00", "070708 AAAAAAAA 00"),
    ("record route, room for two", "07 0b 04 0000000000000000 00", "070b0c AAAAAAAA AAAAAAAA 00"),
    ("record route, room for three", "07 0f 04 000000000000000000000000 00",
     "070f0c AAAAAAAA AAAAAAAA 00000000 00"),
    ("record route, full", "07 0b 0c 0000000000000000 00", "070b0c 0000000000000000 00"),
    ("record route, one hop in", "07 0b 08 01020304 00000000 00", "070b0c 01020304 AAAAAAAA 00"),
    ("timestamp, room for one", "44 08 05 00 00000000", "44080900 TTTTTTTT"),
    ("timestamp, room for two", "44 0c 05 00 0000000000000000", "440c0d00 TTTTTTTT TTTTTTTT"),
    ("timestamp, no room: overflow counted", "44 04 05 00", "44040510"),
    ("timestamp, full, overflow 14", "44 08 09 e0 00000000", "440809f0 00000000"),
    ("timestamp, full, overflow 15", "44 08 09 f0 00000000", None),
    ("timestamp with address, room for one", "44 0c 05 01 0000000000000000", "440c0d01 AAAAAAAA TTTTTTTT"),
    ("timestamp with address, room for two", "44 14 05 01" + "00" * 16,
     "44141501 AAAAAAAA TTTTTTTT AAAAAAAA TTTTTTTT"),
    ("timestamp with address, a hop in", "44 10 09 01" + "00" * 12, "44101101 00000000 AAAAAAAA TTTTTTTT"),
    ("prespecified timestamp, ours twice", "44 14 05 03 AAAAAAAA 00000000 AAAAAAAA 00000000",
     "44141503 AAAAAAAA TTTTTTTT AAAAAAAA TTTTTTTT"),
    ("prespecified timestamp, another address first", "44 14 05 03 c6336409 00000000 AAAAAAAA 00000000",
     "44140503 c6336409 00000000 AAAAAAAA 00000000"),
    ("timestamp with an unknown flag (2)", "44 0c 05 02 0000000000000000", "440c0502 0000000000000000"),
    ("prespecified timestamp, 0.0.0.0", "44 0c 05 03 00000000 00000000", "440c0d03 00000000 TTTTTTTT"),
    ("prespecified timestamp, 127.0.0.1", "44 0c 05 03 7f000001 00000000", "440c0d03 7f000001 TTTTTTTT"),
    ("prespecified timestamp, 224.0.0.1", "44 0c 05 03 e0000001 00000000", "440c0d03 e0000001 TTTTTTTT"),
    ("prespecified timestamp, 255.255.255.255", "44 0c 05 03 ffffffff 00000000", "440c0d03 ffffffff TTTTTTTT"),
    ("prespecified timestamp, 240.0.0.1 (unicast elsewhere)", "44 0c 05 03 f0000001 00000000",
     "440c0503 f0000001 00000000"),
    ("router alert of 2 bytes", "94 02 0000", None),
    ("record route and timestamp", "07 07 04 00000000 44 08 05 00 00000000 00",
     "070708 AAAAAAAA 44080900 TTTTTTTT 00"),
    ("two record routes", "07 07 04 00000000 07 07 04 00000000 00 00", None),
    ("record route, pointer off the slots", "07 0b 05 0000000000000000 00", None),
    ("record route, pointer below 4", "07 07 03 00000000 00", None),
    ("timestamp, pointer below 5", "44 08 04 00 00000000", None),
    ("timestamp with address, room for half an entry", "44 08 05 01 00000000", None),
    ("CIPSO (no labelling: Linux refuses it)", "86 06 00000001", None),
]


def option_bytes(text, addr):
    """An IPV4_OPTION_CASES request's options, AAAAAAAA being addr (dotted)."""
    return bytes.fromhex(text.replace(" ", "").replace("AAAAAAAA", bytes(int(x) for x in addr.split(".")).hex()))

