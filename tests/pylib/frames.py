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
