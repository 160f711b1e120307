#!/usr/bin/env python3
"""pcapgen: build packets byte by byte and write capture files.

Standard library only. Everything is deterministic: the same calls give the
same bytes, so a script that uses this module always writes identical files.

Layers (each builder returns ``bytes``):

* link:      ``ether`` (optional 802.1Q / QinQ tags, padding, trailer), ``arp``
* network:   ``ipv4``, ``ipv6`` (+ extension headers ``hbh``, ``dstopts``,
             ``routing``, ``frag6``, ``ah``, ``ext``), ``ip`` picks the family
* transport: ``tcp`` (+ option helpers ``opt_*``), ``udp``, ``icmp4``,
             ``icmp6`` and the shortcuts ``icmp4_echo``, ``icmp4_error``,
             ``icmp6_echo``, ``icmp6_error``
* whole IP packets in one call: ``tcp_packet``, ``udp_packet``
* fragmentation: ``fragment4``, ``fragment6`` split an existing IP packet
* payloads: ``dns_message`` (a small DNS wire-format builder), ``filler``

Captures: collect frames in a ``Capture`` and save it as classic pcap
(microseconds), pcapng (SHB/IDB/EPB) or gzip-compressed pcap. ``read_capture``
reads all three back (used to check what was written).

Checksums are computed unless a builder is given ``checksum=`` explicitly.
Addresses are strings (``"192.0.2.1"``, ``"2001:db8::1"``) or packed bytes.
"""

import gzip
import hashlib
import ipaddress
import struct
import zlib

__all__ = [
    "ETH_IPV4", "ETH_IPV6", "ETH_ARP", "ETH_VLAN", "ETH_QINQ",
    "PROTO_HOPOPT", "PROTO_ICMP", "PROTO_TCP", "PROTO_UDP", "PROTO_IPV6_ROUTE",
    "PROTO_IPV6_FRAG", "PROTO_AH", "PROTO_ICMPV6", "PROTO_IPV6_NONXT",
    "PROTO_IPV6_OPTS",
    "LINKTYPE_ETHERNET", "LINKTYPE_RAW", "LINKTYPE_NULL", "LINKTYPE_LOOP",
    "LINKTYPE_LINUX_SLL", "LINKTYPE_LINUX_SLL2", "LINKTYPE_IPV4", "LINKTYPE_IPV6",
    "ether_fcs", "sll", "sll2", "loopback", "ppp", "pppoe", "mpls", "macsec",
    "wlan_data", "radiotap", "ppi", "prism", "avs", "nflog", "ipnet", "ipoib",
    "frelay", "arcnet", "pktap", "juniper", "c_hdlc", "erf_record", "docsis", "llc_snap", "ip_ethertype",
    "inet_checksum", "addr_bytes", "mac_bytes",
    "ether", "arp", "ipv4", "ipv6", "ip", "Ext", "ext", "hbh", "dstopts",
    "routing", "frag6", "ah", "pad_tlv_options",
    "tcp", "tcp_flags", "opt_eol", "opt_nop", "opt_mss", "opt_ws",
    "opt_sackperm", "opt_sack", "opt_ts", "opt_tfo", "opt_raw",
    "udp", "icmp4", "icmp4_echo", "icmp4_error", "icmp6", "icmp6_echo",
    "icmp6_error", "tcp_packet", "TcpSession", "udp_packet", "fragment4", "fragment6",
    "dns_message", "filler", "Capture", "read_capture",
]

# --------------------------------------------------------------------------
# constants

ETH_IPV4 = 0x0800
ETH_ARP = 0x0806
ETH_VLAN = 0x8100
ETH_IPV6 = 0x86DD
ETH_QINQ = 0x88A8

PROTO_HOPOPT = 0
PROTO_ICMP = 1
PROTO_TCP = 6
PROTO_UDP = 17
PROTO_IPV6_ROUTE = 43
PROTO_IPV6_FRAG = 44
PROTO_AH = 51
PROTO_ICMPV6 = 58
PROTO_IPV6_NONXT = 59
PROTO_IPV6_OPTS = 60

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_IEEE802_5 = 6
LINKTYPE_ARCNET_BSD = 7
LINKTYPE_SLIP = 8
LINKTYPE_PPP = 9
LINKTYPE_FDDI = 10
LINKTYPE_PPP_HDLC = 50
LINKTYPE_PPP_ETHER = 51
LINKTYPE_ATM_RFC1483 = 100
LINKTYPE_RAW = 101
LINKTYPE_C_HDLC = 104
LINKTYPE_IEEE802_11 = 105
LINKTYPE_FRELAY = 107
LINKTYPE_LOOP = 108
LINKTYPE_ENC = 109
LINKTYPE_LINUX_SLL = 113
LINKTYPE_PFLOG = 117
LINKTYPE_IEEE802_11_PRISM = 119
LINKTYPE_IEEE802_11_RADIOTAP = 127
LINKTYPE_ARCNET_LINUX = 129
LINKTYPE_IEEE802_11_AVS = 163
LINKTYPE_JUNIPER_ETHER = 178
LINKTYPE_PPI = 192
LINKTYPE_MPLS = 219
LINKTYPE_IPNET = 226
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_NFLOG = 239
LINKTYPE_NETANALYZER = 240
LINKTYPE_IPOIB = 242
LINKTYPE_PKTAP = 258
LINKTYPE_LINUX_SLL2 = 276

# ARPHRD_ values of a Linux cooked capture's hatype field
ARPHRD_ETHER = 1
ARPHRD_PPP = 512
ARPHRD_RAWIP = 530
ARPHRD_TUNNEL = 768
ARPHRD_TUNNEL6 = 769
ARPHRD_LOOPBACK = 772
ARPHRD_SIT = 776
ARPHRD_IPGRE = 778
ARPHRD_NONE = 65534

ETH_MIN_FRAME = 60          # minimum Ethernet frame without the FCS

DEFAULT_SRC_MAC = "02:00:00:00:00:01"
DEFAULT_DST_MAC = "02:00:00:00:00:02"

# --------------------------------------------------------------------------
# small helpers


def inet_checksum(data):
    """RFC 1071 ones' complement sum of ``data``, complemented (16 bits)."""
    if len(data) % 2:
        data = data + b"\x00"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def addr_bytes(addr):
    """Packed 4- or 16-byte form of an address given as str or bytes."""
    if isinstance(addr, (bytes, bytearray)):
        if len(addr) not in (4, 16):
            raise ValueError("address must be 4 or 16 bytes")
        return bytes(addr)
    return ipaddress.ip_address(addr).packed


def mac_bytes(mac):
    """Packed 6-byte MAC from ``"aa:bb:cc:dd:ee:ff"``, bytes or an int."""
    if isinstance(mac, (bytes, bytearray)):
        if len(mac) != 6:
            raise ValueError("MAC must be 6 bytes")
        return bytes(mac)
    if isinstance(mac, int):
        return mac.to_bytes(6, "big")
    parts = mac.replace("-", ":").split(":")
    if len(parts) != 6:
        raise ValueError("bad MAC %r" % mac)
    return bytes(int(p, 16) for p in parts)


def _pseudo_header(src, dst, proto, length):
    s, d = addr_bytes(src), addr_bytes(dst)
    if len(s) != len(d):
        raise ValueError("mixed address families")
    if len(s) == 4:
        return s + d + struct.pack("!BBH", 0, proto, length)
    return s + d + struct.pack("!I3xB", length, proto)


def _transport_checksum(src, dst, proto, segment):
    return inet_checksum(_pseudo_header(src, dst, proto, len(segment)) + segment)


def filler(length, seed=b"pathobs"):
    """``length`` deterministic pseudo-random bytes (SHA-256 counter stream)."""
    if isinstance(seed, str):
        seed = seed.encode()
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return bytes(out[:length])


# --------------------------------------------------------------------------
# link layer


def _vlan_tag(tag, tpid):
    """One 4-byte tag. ``tag`` is a VID or a (vid, pcp[, dei[, tpid]]) tuple."""
    pcp = dei = 0
    if isinstance(tag, tuple):
        vid = tag[0]
        if len(tag) > 1:
            pcp = tag[1]
        if len(tag) > 2:
            dei = tag[2]
        if len(tag) > 3:
            tpid = tag[3]
    else:
        vid = tag
    if not 0 <= vid <= 0xFFF or not 0 <= pcp <= 7:
        raise ValueError("bad VLAN tag %r" % (tag,))
    return struct.pack("!HH", tpid, (pcp << 13) | ((dei & 1) << 12) | vid)


def ether(payload, src=DEFAULT_SRC_MAC, dst=DEFAULT_DST_MAC, ethertype=None,
          vlan=None, pad=False, trailer=b""):
    """Ethernet II frame (no FCS).

    ethertype: default guessed from the IP version nibble of ``payload``.
    vlan:      a VID, a (vid, pcp[, dei[, tpid]]) tuple, or a list of those
               for stacked tags, outermost first. With a list of several
               tags the outer ones use TPID 0x88A8 (802.1ad) and the innermost
               0x8100 unless a tuple gives its own TPID.
    trailer:   bytes appended after the payload (e.g. junk a NIC left).
    pad:       True pads with zeros to the 60-byte minimum; an int pads to
               that length instead.
    """
    if ethertype is None:
        if not payload:
            raise ValueError("cannot guess the ethertype of an empty payload")
        version = payload[0] >> 4
        if version == 4:
            ethertype = ETH_IPV4
        elif version == 6:
            ethertype = ETH_IPV6
        else:
            raise ValueError("cannot guess the ethertype; pass ethertype=")
    tags = b""
    if vlan is not None:
        tag_list = vlan if isinstance(vlan, list) else [vlan]
        for i, tag in enumerate(tag_list):
            outer = i < len(tag_list) - 1
            tags += _vlan_tag(tag, ETH_QINQ if outer else ETH_VLAN)
    frame = (mac_bytes(dst) + mac_bytes(src) + tags +
             struct.pack("!H", ethertype) + payload + trailer)
    if pad:
        minimum = ETH_MIN_FRAME if pad is True else int(pad)
        if len(frame) < minimum:
            frame += b"\x00" * (minimum - len(frame))
    return frame


def arp(op, sha, spa, tha, tpa):
    """ARP for IPv4 over Ethernet (28 bytes). op: 1 request, 2 reply."""
    return (struct.pack("!HHBBH", 1, ETH_IPV4, 6, 4, op) +
            mac_bytes(sha) + addr_bytes(spa) + mac_bytes(tha) + addr_bytes(tpa))


# --------------------------------------------------------------------------
# other link layers (what src/link.c reads; docs/observer.md "Link layers")


def ip_ethertype(payload):
    """0x0800 or 0x86DD from the version nibble of an IP packet."""
    version = payload[0] >> 4 if payload else 0
    if version == 4:
        return ETH_IPV4
    if version == 6:
        return ETH_IPV6
    raise ValueError("cannot guess the ethertype; pass it")


def ether_fcs(frame):
    """``frame`` with its Ethernet FCS (CRC-32, least significant byte first)."""
    return frame + struct.pack("<I", zlib.crc32(frame) & 0xFFFFFFFF)


def llc_snap(payload, ethertype=None, oui=b"\x00\x00\x00"):
    """802.2 LLC + SNAP header (AA AA 03, OUI, ethertype) before ``payload``."""
    if ethertype is None:
        ethertype = ip_ethertype(payload)
    return b"\xaa\xaa\x03" + oui + struct.pack("!H", ethertype) + payload


def sll(payload, protocol=None, hatype=ARPHRD_ETHER, pkttype=0, addr=b"\x02\x00\x00\x00\x00\x01"):
    """Linux cooked v1 (LINKTYPE_LINUX_SLL) header: packet type, ARPHRD type,
    address length and 8 address bytes, protocol (default: by the IP version)."""
    if protocol is None:
        protocol = ip_ethertype(payload)
    return (struct.pack("!HHH", pkttype, hatype, len(addr)) + addr.ljust(8, b"\x00")[:8] +
            struct.pack("!H", protocol) + payload)


def sll2(payload, protocol=None, hatype=ARPHRD_ETHER, pkttype=0, ifindex=1,
         addr=b"\x02\x00\x00\x00\x00\x01"):
    """Linux cooked v2 (LINKTYPE_LINUX_SLL2) header: protocol, reserved,
    interface index, ARPHRD type, packet type, address length, 8 address bytes."""
    if protocol is None:
        protocol = ip_ethertype(payload)
    return (struct.pack("!HHIHBB", protocol, 0, ifindex, hatype, pkttype, len(addr)) +
            addr.ljust(8, b"\x00")[:8] + payload)


def loopback(payload, af=None, byteorder="little"):
    """BSD loopback header: a 4-byte address family. LINKTYPE_NULL keeps the
    capturing host's byte order ("little" or "big"); LINKTYPE_LOOP is always
    "big". af default: 2 for IPv4, 30 (macOS) for IPv6."""
    if af is None:
        af = 2 if ip_ethertype(payload) == ETH_IPV4 else 30
    return af.to_bytes(4, byteorder) + payload


_PPP_PROTO = {ETH_IPV4: 0x0021, ETH_IPV6: 0x0057}


def ppp(payload, hdlc=True, protocol=None, compress=False):
    """PPP frame: optional ff 03 (HDLC address and control), protocol (0x0021
    IPv4, 0x0057 IPv6 by default), one byte of it with ``compress``."""
    if protocol is None:
        protocol = _PPP_PROTO[ip_ethertype(payload)]
    head = b"\xff\x03" if hdlc else b""
    if compress and protocol < 0x100:
        return head + bytes([protocol]) + payload
    return head + struct.pack("!H", protocol) + payload


def pppoe(payload, session=0x1234, protocol=None):
    """PPPoE session header + PPP protocol (what follows ethertype 0x8864, or
    all of a LINKTYPE_PPP_ETHER frame)."""
    body = ppp(payload, hdlc=False, protocol=protocol)
    return struct.pack("!BBHH", 0x11, 0, session, len(body)) + body


def mpls(payload, labels=(100,), ttl=64):
    """MPLS label stack (the last label has the bottom-of-stack bit)."""
    out = b""
    for i, label in enumerate(labels):
        bottom = 1 if i == len(labels) - 1 else 0
        out += struct.pack("!I", (label << 12) | (bottom << 8) | ttl)
    return out + payload


def macsec(payload, ethertype=None, sci=None, pn=1, icv=b"\xa5" * 16, short_length=None):
    """MACsec SecTAG (after ethertype 0x88E5) of an integrity-only frame, the
    plain ``payload`` with its ethertype, and the ICV. ``sci``: 8 bytes (sets
    the SC bit) or None."""
    if ethertype is None:
        ethertype = ip_ethertype(payload)
    tci = 0x20 if sci is not None else 0x00
    sl = short_length if short_length is not None else 0
    return (struct.pack("!BBI", tci, sl, pn) + (sci or b"") + struct.pack("!H", ethertype) +
            payload + icv)


def wlan_data(payload, ds=0, qos=False, protected=False, ethertype=None,
              src=DEFAULT_SRC_MAC, dst=DEFAULT_DST_MAC, bssid="02:00:00:00:00:bb", seq=1):
    """IEEE 802.11 data frame (QoS data with ``qos``) carrying ``payload`` in
    LLC/SNAP. ``ds``: 0 none, 1 to the AP, 2 from the AP, 3 four addresses;
    the addresses are placed as those bits say."""
    subtype = 8 if qos else 0
    fc0 = (subtype << 4) | (2 << 2)
    fc1 = ds | (0x40 if protected else 0)
    s, d, b = mac_bytes(src), mac_bytes(dst), mac_bytes(bssid)
    addrs = {0: (d, s, b), 1: (b, s, d), 2: (d, b, s), 3: (b, b, d)}[ds]
    hdr = struct.pack("<BBH", fc0, fc1, 0) + b"".join(addrs) + struct.pack("<H", seq << 4)
    if ds == 3:
        hdr += s
    if qos:
        hdr += struct.pack("<H", 0)
    return hdr + llc_snap(payload, ethertype)


def radiotap(frame, fcs=False, tsft=True):
    """Radiotap header (TSFT, Flags, Rate) before an 802.11 frame; with
    ``fcs`` the Flags say an FCS ends the frame, and a CRC-32 is appended."""
    fields = b""
    present = 0x2 | 0x4
    if tsft:
        present |= 0x1
        fields += struct.pack("<Q", 123456789)
    fields += bytes([0x10 if fcs else 0, 0x0c])
    hdr_len = 8 + len(fields)
    out = struct.pack("<BBHI", 0, 0, hdr_len, present) + fields + frame
    if fcs:
        out += struct.pack("<I", zlib.crc32(frame) & 0xFFFFFFFF)
    return out


def ppi(frame, dlt=LINKTYPE_IEEE802_11, fcs=False):
    """PPI header with an 802.11-Common field, before ``frame`` of link type
    ``dlt``; with ``fcs`` its flags say an FCS ends the frame (appended)."""
    common = struct.pack("<QHHHHBBbb", 0, 0x0001 if fcs else 0, 2, 2437, 0x00a0, 0, 0, -40, -90)
    field = struct.pack("<HH", 2, len(common)) + common
    out = struct.pack("<BBHI", 0, 0, 8 + len(field), dlt) + field + frame
    if fcs:
        out += struct.pack("<I", zlib.crc32(frame) & 0xFFFFFFFF)
    return out


def prism(frame):
    """Prism monitor header (144 bytes) before an 802.11 frame."""
    return struct.pack("<II", 0x44, 144) + b"wlan0".ljust(16, b"\x00") + b"\x00" * 120 + frame


def avs(frame):
    """AVS capture header (version 1, 64 bytes) before an 802.11 frame."""
    return struct.pack("!II", 0x80211001, 64) + b"\x00" * 56 + frame


def _tlv(byteorder, tlv_type, value):
    e = "<" if byteorder == "little" else ">"
    tlv = struct.pack(e + "HH", 4 + len(value), tlv_type) + value
    return tlv + b"\x00" * ((-len(tlv)) % 4)


def nflog(payload, family=None, group=1, prefix=b"pathobs", byteorder="little"):
    """Linux NFLOG record: family (2 or 10), version 0, group; TLVs in the
    capturing host's byte order: packet header, prefix, then the payload."""
    if family is None:
        family = 2 if ip_ethertype(payload) == ETH_IPV4 else 10
    out = struct.pack("!BBH", family, 0, group)
    out += _tlv(byteorder, 1, struct.pack("!HBB", ip_ethertype(payload), 3, 0))
    out += _tlv(byteorder, 10, prefix + b"\x00")
    out += _tlv(byteorder, 9, payload)
    return out


def ipnet(payload):
    """Solaris IPNET header (24 bytes; family 2 or 26)."""
    family = 2 if ip_ethertype(payload) == ETH_IPV4 else 26
    return struct.pack("!BBHIIIII", 2, family, 0, len(payload), 1, 0, 0, 0) + payload


def ipoib(payload, ethertype=None):
    """IP over InfiniBand (LINKTYPE_IPOIB): 40 address bytes, type, reserved."""
    if ethertype is None:
        ethertype = ip_ethertype(payload)
    return b"\x00" * 40 + struct.pack("!HH", ethertype, 0) + payload


def frelay(payload, dlci=100):
    """Frame Relay: Q.922 address, UI control, NLPID (0xCC IPv4, 0x8E IPv6)."""
    addr = struct.pack("!BB", (dlci >> 4) << 2, ((dlci & 0xF) << 4) | 1)
    nlpid = 0xCC if ip_ethertype(payload) == ETH_IPV4 else 0x8E
    return addr + bytes([0x03, nlpid]) + payload


def arcnet(payload, linux=False, src=1, dst=2):
    """ARCnet RFC 1201 header (type 0xD4 IPv4, 0xC4 IPv6, unfragmented); the
    Linux form has a 2-byte offset field before the type."""
    atype = 0xD4 if ip_ethertype(payload) == ETH_IPV4 else 0xC4
    mid = b"\x00\x00" if linux else b""
    return bytes([src, dst]) + mid + struct.pack("!BBH", atype, 0, 0) + payload


def pktap(frame, dlt=LINKTYPE_ETHERNET, ifname=b"en0"):
    """Apple PKTAP header (108 bytes, little-endian) before ``frame`` of ``dlt``."""
    hdr = struct.pack("<III", 108, 1, dlt) + ifname.ljust(24, b"\x00")
    return hdr + b"\x00" * (108 - len(hdr)) + frame


def juniper(frame):
    """Juniper "MGC" pseudo-header (no extensions) before an Ethernet frame
    (LINKTYPE_JUNIPER_ETHER)."""
    return b"MGC\x00" + frame


def erf_record(frame, erf_type=2, fcs=True, ts=0):
    """ERF record (LINKTYPE_ERF) of an Ethernet frame (type 2: 2 pad bytes,
    the FCS appended with ``fcs``) or a raw IP packet (type 22 IPv4, 23 IPv6),
    padded to a multiple of 8 bytes as DAG cards write them."""
    if erf_type == 2:
        body = b"\x00\x00" + (ether_fcs(frame) if fcs else frame)
        wlen = len(body) - 2
    else:
        body = frame
        wlen = len(frame)
    rlen = 16 + len(body)
    pad = (-rlen) % 8
    return struct.pack("<Q", ts) + struct.pack("!BBHHH", erf_type, 0x04, rlen + pad, 0,
                                               wlen) + body + b"\x00" * pad


def docsis(frame):
    """DOCSIS packet PDU: MAC header (no extended header) and an Ethernet
    frame with its CRC."""
    pdu = ether_fcs(frame)
    return struct.pack("!BBHH", 0, 0, len(pdu), 0) + pdu


def c_hdlc(payload, ethertype=None):
    """Cisco HDLC: unicast address, control, ethertype."""
    if ethertype is None:
        ethertype = ip_ethertype(payload)
    return struct.pack("!BBH", 0x0F, 0, ethertype) + payload


# --------------------------------------------------------------------------
# IPv4


def ipv4(payload, src, dst, proto, tos=0, ident=0, ttl=64, df=False,
         mf=False, evil=False, frag_offset=0, options=b"", total_length=None,
         ihl=None, checksum=None, version=4):
    """IPv4 header + payload.

    frag_offset is in bytes and must be a multiple of 8. ``evil`` sets the
    reserved flag (RFC 3514). ``options`` is padded with zeros (EOL) to a
    multiple of 4 bytes. ``total_length`` and ``ihl`` override the header
    fields without changing what is written; ``checksum`` forces the
    checksum field (otherwise it is computed over the written header).
    """
    if frag_offset % 8 or not 0 <= frag_offset <= 0x1FFF * 8:
        raise ValueError("frag_offset must be a multiple of 8 bytes, at most 65528")
    if len(options) % 4:
        options = options + b"\x00" * (4 - len(options) % 4)
    if len(options) > 40:
        raise ValueError("IPv4 options longer than 40 bytes")
    hlen = 20 + len(options)
    if ihl is None:
        ihl = hlen // 4
    if total_length is None:
        total_length = hlen + len(payload)
    flags = (4 if evil else 0) | (2 if df else 0) | (1 if mf else 0)
    frag_field = (flags << 13) | (frag_offset // 8)
    header = struct.pack("!BBHHHBBH4s4s", (version << 4) | (ihl & 0xF), tos,
                         total_length & 0xFFFF, ident & 0xFFFF, frag_field,
                         ttl, proto, 0, addr_bytes(src), addr_bytes(dst))
    header += options
    if checksum is None:
        checksum = inet_checksum(header)
    header = header[:10] + struct.pack("!H", checksum) + header[12:]
    return header + payload


# --------------------------------------------------------------------------
# IPv6 and its extension headers


class Ext:
    """An IPv6 extension header waiting for its Next Header value.

    ``code`` is the protocol number that announces it; ``make(next_header)``
    returns its bytes.
    """

    def __init__(self, code, make):
        self.code = code
        self.make = make

    def build(self, next_header):
        return self.make(next_header)


def pad_tlv_options(options, start=2):
    """Pad TLV options so that ``start + len`` is a multiple of 8 (Pad1/PadN)."""
    need = (-(start + len(options))) % 8
    if need == 0:
        return options
    if need == 1:
        return options + b"\x00"
    return options + bytes([1, need - 2]) + b"\x00" * (need - 2)


def ext(code, body, hdr_ext_len=None, unit=8, bias=1):
    """Generic extension header: Next Header, Hdr Ext Len, ``body``.

    hdr_ext_len defaults to the value that matches ``body`` (length in
    ``unit``-byte units, minus ``bias``); pass it to lie about the length.
    """
    def make(nh):
        length = hdr_ext_len
        if length is None:
            total = 2 + len(body)
            if total % unit:
                raise ValueError("extension header length is not a multiple of %d" % unit)
            length = total // unit - bias
        return struct.pack("!BB", nh, length) + body
    return Ext(code, make)


def hbh(options=None, hdr_ext_len=None):
    """Hop-by-hop options header. Default: one PadN filling 8 bytes."""
    opts = pad_tlv_options(options if options is not None else b"")
    return ext(PROTO_HOPOPT, opts, hdr_ext_len)


def dstopts(options=None, hdr_ext_len=None):
    """Destination options header. Default: one PadN filling 8 bytes."""
    opts = pad_tlv_options(options if options is not None else b"")
    return ext(PROTO_IPV6_OPTS, opts, hdr_ext_len)


def routing(addresses=(), segments_left=None, rtype=0, data=None,
            hdr_ext_len=None):
    """Routing header. Default body: 4 reserved bytes then ``addresses``."""
    if data is None:
        data = b"\x00" * 4 + b"".join(addr_bytes(a) for a in addresses)
    if segments_left is None:
        segments_left = len(addresses)
    return ext(PROTO_IPV6_ROUTE, struct.pack("!BB", rtype, segments_left) + data,
               hdr_ext_len)


def frag6(offset=0, more=False, ident=0, res=0):
    """Fragment header; ``offset`` in bytes (multiple of 8)."""
    if offset % 8:
        raise ValueError("fragment offset must be a multiple of 8 bytes")

    def make(nh):
        return struct.pack("!BBHI", nh, res & 0xFF,
                           (offset & 0xFFF8) | (1 if more else 0),
                           ident & 0xFFFFFFFF)
    return Ext(PROTO_IPV6_FRAG, make)


def ah(spi=0x100, seq=1, icv=b"\x00" * 12):
    """Authentication header (length in 4-byte units minus 2)."""
    body = struct.pack("!HII", 0, spi, seq) + icv
    return ext(PROTO_AH, body, unit=4, bias=2)


def ipv6(payload, src, dst, nh, tc=0, flow=0, hlim=64, exts=(), plen=None,
         version=6):
    """IPv6 header, extension headers in order, payload.

    ``nh`` is the protocol of ``payload`` (the last Next Header of the
    chain); the fixed header's Next Header is the first extension's code.
    ``plen`` overrides the Payload Length field.
    """
    exts = list(exts)
    codes = [e.code for e in exts] + [nh]
    chain = b"".join(e.build(codes[i + 1]) for i, e in enumerate(exts))
    body = chain + payload
    if plen is None:
        plen = len(body)
    first = (version << 28) | ((tc & 0xFF) << 20) | (flow & 0xFFFFF)
    return struct.pack("!IHBB16s16s", first, plen & 0xFFFF, codes[0], hlim,
                       addr_bytes(src), addr_bytes(dst)) + body


def ip(payload, src, dst, proto, **kw):
    """``ipv4`` or ``ipv6`` depending on the address family of ``src``.

    Keyword names of either builder are accepted (``ttl``/``hlim``,
    ``tos``/``tc`` are translated for convenience).
    """
    if len(addr_bytes(src)) == 4:
        if "tc" in kw:
            kw["tos"] = kw.pop("tc")
        if "hlim" in kw:
            kw["ttl"] = kw.pop("hlim")
        return ipv4(payload, src, dst, proto, **kw)
    if "tos" in kw:
        kw["tc"] = kw.pop("tos")
    if "ttl" in kw:
        kw["hlim"] = kw.pop("ttl")
    return ipv6(payload, src, dst, proto, **kw)


# --------------------------------------------------------------------------
# TCP

_TCP_FLAG_LETTERS = {
    "F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10, "U": 0x20,
    "E": 0x40, "C": 0x80, "N": 0x100, ".": 0x10,
}


def tcp_flags(flags):
    """Flags as an int from an int or letters F S R P A(.) U E C N(s)."""
    if isinstance(flags, int):
        return flags
    value = 0
    for letter in flags:
        if letter not in _TCP_FLAG_LETTERS:
            raise ValueError("unknown TCP flag %r" % letter)
        value |= _TCP_FLAG_LETTERS[letter]
    return value


def opt_eol():
    return b"\x00"


def opt_nop():
    return b"\x01"


def opt_raw(kind, data=b"", length=None):
    """Any option; ``length`` overrides the length byte (malformed options)."""
    if length is None:
        length = 2 + len(data)
    return bytes([kind, length & 0xFF]) + data


def opt_mss(mss=1460, size=2):
    """MSS (kind 2); ``size`` bytes of value (2 is correct, others malformed)."""
    return opt_raw(2, mss.to_bytes(size, "big") if size else b"")


def opt_ws(shift=7):
    return opt_raw(3, bytes([shift]))


def opt_sackperm():
    return opt_raw(4)


def opt_sack(blocks):
    """SACK (kind 5) with a list of (left, right) edges."""
    return opt_raw(5, b"".join(struct.pack("!II", l, r) for l, r in blocks))


def opt_ts(val, ecr=0):
    return opt_raw(8, struct.pack("!II", val & 0xFFFFFFFF, ecr & 0xFFFFFFFF))


def opt_tfo(cookie=b"", kind=34, exid=0xF989):
    """TCP Fast Open: kind 34 (IANA) or experimental 254/255 with ``exid``."""
    if kind == 34:
        return opt_raw(34, cookie)
    return opt_raw(kind, struct.pack("!H", exid) + cookie)


def tcp(src, dst, sport, dport, flags="", seq=0, ack=0, window=65535,
        options=b"", payload=b"", urg=0, doff=None, checksum=None):
    """TCP segment; ``src``/``dst`` are only used for the checksum.

    options: bytes, or a list of option byte strings (see ``opt_*``); padded
    with zeros (EOL) to a multiple of 4. ``doff`` overrides the data offset
    field (32-bit words) without changing what is written. ``checksum``
    forces the checksum field. For an IPv6 packet with a routing header pass
    the final destination as ``dst``.
    """
    if isinstance(options, (list, tuple)):
        options = b"".join(options)
    if len(options) % 4:
        options = options + b"\x00" * (4 - len(options) % 4)
    if len(options) > 40:
        raise ValueError("TCP options longer than 40 bytes")
    flag_bits = tcp_flags(flags)
    if doff is None:
        doff = (20 + len(options)) // 4
    off_byte = ((doff & 0xF) << 4) | ((flag_bits >> 8) & 1)
    segment = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF,
                          ack & 0xFFFFFFFF, off_byte, flag_bits & 0xFF,
                          window & 0xFFFF, 0, urg & 0xFFFF) + options + payload
    if checksum is None:
        checksum = _transport_checksum(src, dst, PROTO_TCP, segment)
    return segment[:16] + struct.pack("!H", checksum) + segment[18:]


def tcp_packet(src, dst, sport, dport, ip_opts=None, **tcp_kw):
    """Whole IPv4/IPv6 packet carrying a TCP segment."""
    segment = tcp(src, dst, sport, dport, **tcp_kw)
    return ip(segment, src, dst, PROTO_TCP, **(ip_opts or {}))


class TcpSession:
    """Sequence-number bookkeeping for one TCP connection.

    ``seg(from_client, flags, ...)`` returns the IP packet of the next
    segment: its sequence number is that side's next one, its ACK number
    (when the flags hold ACK) the other side's next one; SYN, FIN and payload
    bytes advance the sender. Extra keywords go to ``tcp`` (e.g. ``seq=`` to
    send something out of order); ``ip_opts`` to ``ip``.
    """

    def __init__(self, client, server, cport, sport, cisn=1000, sisn=5000,
                 cwindow=64240, swindow=65160, ip_opts=None):
        self.addr = {True: client, False: server}
        self.port = {True: cport, False: sport}
        self.nxt = {True: cisn, False: sisn}
        self.window = {True: cwindow, False: swindow}
        self.ip_opts = dict(ip_opts or {})

    def seg(self, from_client, flags, payload=b"", options=b"", ip_opts=None,
            **tcp_kw):
        bits = tcp_flags(flags)
        side = bool(from_client)
        kw = dict(seq=self.nxt[side],
                  ack=self.nxt[not side] if bits & 0x10 else 0,
                  window=self.window[side], options=options, payload=payload)
        kw.update(tcp_kw)
        opts = dict(self.ip_opts)
        opts.update(ip_opts or {})
        packet = tcp_packet(self.addr[side], self.addr[not side],
                            self.port[side], self.port[not side],
                            ip_opts=opts, flags=bits, **kw)
        if "seq" not in tcp_kw:
            self.nxt[side] = (self.nxt[side] + len(payload) +
                              (1 if bits & 0x02 else 0) +
                              (1 if bits & 0x01 else 0)) & 0xFFFFFFFF
        return packet


# --------------------------------------------------------------------------
# UDP


def udp(src, dst, sport, dport, payload=b"", checksum=None, length=None):
    """UDP datagram. ``checksum=0`` writes no checksum (legal on IPv4 only);
    a computed 0 is sent as 0xFFFF. ``length`` overrides the length field."""
    if length is None:
        length = 8 + len(payload)
    datagram = struct.pack("!HHHH", sport, dport, length & 0xFFFF, 0) + payload
    if checksum is None:
        checksum = _transport_checksum(src, dst, PROTO_UDP, datagram) or 0xFFFF
    return datagram[:6] + struct.pack("!H", checksum) + datagram[8:]


def udp_packet(src, dst, sport, dport, ip_opts=None, **udp_kw):
    """Whole IPv4/IPv6 packet carrying a UDP datagram."""
    datagram = udp(src, dst, sport, dport, **udp_kw)
    return ip(datagram, src, dst, PROTO_UDP, **(ip_opts or {}))


# --------------------------------------------------------------------------
# ICMP


def _rest(rest):
    if isinstance(rest, int):
        return struct.pack("!I", rest & 0xFFFFFFFF)
    if len(rest) != 4:
        raise ValueError("ICMP rest-of-header must be 4 bytes")
    return bytes(rest)


def icmp4(icmp_type, code=0, payload=b"", rest=0, checksum=None):
    """ICMPv4 message: type, code, checksum, 4 bytes ``rest``, payload."""
    msg = struct.pack("!BBH", icmp_type, code, 0) + _rest(rest) + payload
    if checksum is None:
        checksum = inet_checksum(msg)
    return msg[:2] + struct.pack("!H", checksum) + msg[4:]


def icmp4_echo(ident, seq, data=b"", reply=False):
    return icmp4(0 if reply else 8, 0, data, struct.pack("!HH", ident, seq))


def _ipv4_header_len(packet):
    return (packet[0] & 0x0F) * 4


def icmp4_error(icmp_type, code, quoted, quote_len=None, rest=0):
    """ICMPv4 error quoting ``quoted`` (an IPv4 packet): by default its IP
    header plus the first 8 bytes of its payload (RFC 792)."""
    if quote_len is None:
        quote_len = _ipv4_header_len(quoted) + 8
    return icmp4(icmp_type, code, quoted[:quote_len], rest)


def icmp6(src, dst, icmp_type, code=0, payload=b"", rest=0, checksum=None):
    """ICMPv6 message; ``src``/``dst`` are for the pseudo-header checksum."""
    msg = struct.pack("!BBH", icmp_type, code, 0) + _rest(rest) + payload
    if checksum is None:
        checksum = _transport_checksum(src, dst, PROTO_ICMPV6, msg)
    return msg[:2] + struct.pack("!H", checksum) + msg[4:]


def icmp6_echo(src, dst, ident, seq, data=b"", reply=False):
    return icmp6(src, dst, 129 if reply else 128, 0, data,
                 struct.pack("!HH", ident, seq))


def icmp6_error(src, dst, icmp_type, code, quoted, quote_len=None, rest=0):
    """ICMPv6 error quoting ``quoted`` (an IPv6 packet): by default as much
    as keeps the error within the 1280-byte minimum MTU (RFC 4443)."""
    if quote_len is None:
        quote_len = 1280 - 40 - 8
    return icmp6(src, dst, icmp_type, code, quoted[:quote_len], rest)


# --------------------------------------------------------------------------
# fragmentation


def _split_sizes(total, size):
    """Lengths of the fragment payloads: ``size`` is an int (rounded down to
    a multiple of 8) or an explicit list whose items but the last are
    multiples of 8 and that covers ``total``."""
    if isinstance(size, int):
        step = size - size % 8
        if step <= 0:
            raise ValueError("fragment size must be at least 8")
        sizes = []
        left = total
        while left > step:
            sizes.append(step)
            left -= step
        sizes.append(left)
        return sizes
    sizes = list(size)
    if sum(sizes) != total:
        raise ValueError("fragment sizes add up to %d, not %d" % (sum(sizes), total))
    if any(s % 8 for s in sizes[:-1]):
        raise ValueError("all fragments but the last must be multiples of 8")
    return sizes


def _ipv4_copied_options(options):
    """Options with the 'copied' bit, for non-first fragments (RFC 791)."""
    out = b""
    i = 0
    while i < len(options):
        kind = options[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(options) or options[i + 1] < 2:
            break
        length = options[i + 1]
        if kind & 0x80:
            out += options[i:i + length]
        i += length
    return out


def fragment4(packet, size):
    """Split an IPv4 packet into fragments of at most ``size`` payload bytes
    (or the list of sizes given). Keeps TOS, ident, TTL, the evil and DF
    bits; MF is set on all but the last (and on the last too when the
    original packet already was a non-last fragment)."""
    hlen = _ipv4_header_len(packet)
    tos = packet[1]
    total = struct.unpack("!H", packet[2:4])[0]
    ident, frag_field = struct.unpack("!HH", packet[4:8])
    ttl, proto = packet[8], packet[9]
    src, dst = packet[12:16], packet[16:20]
    options = packet[20:hlen]
    payload = packet[hlen:total]
    evil = bool(frag_field & 0x8000)
    df = bool(frag_field & 0x4000)
    orig_mf = bool(frag_field & 0x2000)
    base = (frag_field & 0x1FFF) * 8
    frags = []
    offset = 0
    sizes = _split_sizes(len(payload), size)
    for n, length in enumerate(sizes):
        last = n == len(sizes) - 1
        frags.append(ipv4(payload[offset:offset + length], src, dst, proto,
                          tos=tos, ident=ident, ttl=ttl, df=df, evil=evil,
                          mf=orig_mf or not last, frag_offset=base + offset,
                          options=options if offset == 0 else
                          _ipv4_copied_options(options)))
        offset += length
    return frags


def fragment6(packet, size, ident):
    """Split an IPv6 packet: the unfragmentable part (fixed header,
    hop-by-hop, routing and the destination options before a routing header)
    is repeated in each fragment, followed by a fragment header and at most
    ``size`` bytes (or the list of sizes given) of the rest."""
    plen = struct.unpack("!H", packet[4:6])[0]
    packet = packet[:40 + plen]
    nh_pos = 6                  # where the Next Header byte of the last
    nh = packet[6]              # unfragmentable header lives
    pos = 40
    walk_pos, walk_nh_pos, walk_nh = pos, nh_pos, nh
    while walk_nh in (PROTO_HOPOPT, PROTO_IPV6_ROUTE, PROTO_IPV6_OPTS):
        this = walk_nh
        hdr_len = (packet[walk_pos + 1] + 1) * 8
        walk_nh_pos = walk_pos
        walk_nh = packet[walk_pos]
        walk_pos += hdr_len
        if this in (PROTO_HOPOPT, PROTO_IPV6_ROUTE):
            pos, nh_pos, nh = walk_pos, walk_nh_pos, walk_nh
    unfrag = bytearray(packet[:pos])
    unfrag[nh_pos] = PROTO_IPV6_FRAG
    rest = packet[pos:]
    frags = []
    offset = 0
    sizes = _split_sizes(len(rest), size)
    for n, length in enumerate(sizes):
        last = n == len(sizes) - 1
        fh = frag6(offset, not last, ident).build(nh)
        body = bytes(unfrag[40:]) + fh + rest[offset:offset + length]
        frags.append(bytes(unfrag[:4]) + struct.pack("!H", len(body)) +
                     bytes(unfrag[6:40]) + body)
        offset += length
    return frags


# --------------------------------------------------------------------------
# DNS payloads (just enough wire format for realistic test traffic)


def _dns_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            raw = label.encode("ascii")
            if len(raw) > 63:
                raise ValueError("DNS label too long")
            out += bytes([len(raw)]) + raw
    return out + b"\x00"


def dns_message(ident, qname, qtype=1, response=False, answers=(), rcode=0,
                rd=True, ra=None):
    """A DNS message with one question. ``answers`` is a list of
    (type, ttl, rdata-bytes) for ``qname`` (name written as a pointer to the
    question). Class IN throughout."""
    if ra is None:
        ra = response
    flags = ((0x8000 if response else 0) | (0x0100 if rd else 0) |
             (0x0080 if ra else 0) | (rcode & 0xF))
    msg = struct.pack("!HHHHHH", ident, flags, 1, len(answers), 0, 0)
    msg += _dns_name(qname) + struct.pack("!HH", qtype, 1)
    for rtype, ttl, rdata in answers:
        msg += struct.pack("!HHHIH", 0xC00C, rtype, 1, ttl, len(rdata)) + rdata
    return msg


# --------------------------------------------------------------------------
# captures


def _ts_micros(ts):
    """Timestamp -> integer microseconds. ``ts`` is seconds (int/float) or a
    (seconds, microseconds) tuple."""
    if isinstance(ts, tuple):
        sec, usec = ts
        if not 0 <= usec < 1000000:
            raise ValueError("microseconds out of range")
        return sec * 1000000 + usec
    return int(round(ts * 1000000))


class Capture:
    """An ordered list of captured frames, savable in several formats."""

    def __init__(self, linktype=LINKTYPE_ETHERNET, snaplen=65535, fcslen=None):
        """linktype: the LINKTYPE_ value, or a whole pcap link-type field
        (its upper bits carry an FCS length: 0x24000001 is Ethernet with 4
        FCS bytes). fcslen: the FCS bytes every frame ends with; a pcap header
        then says so in its link-type field (the "F" bit 0x04000000 and the
        length in 16-bit words in bits 28..31), a pcapng interface in its
        if_fcslen option."""
        self.linktype = linktype
        self.snaplen = snaplen
        self.fcslen = fcslen
        self.records = []       # (micros, captured bytes, original length)

    def add(self, ts, frame, caplen=None, orig_len=None):
        """Add ``frame`` seen at ``ts``. ``caplen`` keeps only the first bytes
        (a truncated capture); ``orig_len`` overrides the on-the-wire length
        (default: the full frame length)."""
        if orig_len is None:
            orig_len = len(frame)
        data = frame if caplen is None else frame[:caplen]
        if len(data) > self.snaplen:
            data = data[:self.snaplen]
        self.records.append((_ts_micros(ts), bytes(data), orig_len))
        return self

    def __len__(self):
        return len(self.records)

    # classic pcap -------------------------------------------------------
    def pcap_bytes(self):
        field = self.linktype
        if self.fcslen is not None:
            field = (field & 0x03FFFFFF) | 0x04000000 | ((self.fcslen // 2) << 28)
        out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, self.snaplen, field)]
        for micros, data, orig_len in self.records:
            sec, usec = divmod(micros, 1000000)
            out.append(struct.pack("<IIII", sec, usec, len(data), orig_len))
            out.append(data)
        return b"".join(out)

    # pcapng ---------------------------------------------------------------
    @staticmethod
    def _ng_options(options):
        out = b""
        for code, value in options:
            out += struct.pack("<HH", code, len(value)) + value
            out += b"\x00" * ((-len(value)) % 4)
        if options:
            out += struct.pack("<HH", 0, 0)
        return out

    @staticmethod
    def _ng_block(block_type, body):
        body += b"\x00" * ((-len(body)) % 4)
        total = 12 + len(body)
        return struct.pack("<II", block_type, total) + body + struct.pack("<I", total)

    def pcapng_bytes(self, application="pathobs tests/tools/pcapgen.py"):
        shb = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + self._ng_options(
            [(4, application.encode())])           # shb_userappl
        options = [(9, b"\x06")]                   # if_tsresol: microseconds
        if self.fcslen is not None:
            options.append((13, bytes([self.fcslen])))  # if_fcslen
        idb = struct.pack("<HHI", self.linktype & 0xFFFF, 0, self.snaplen) + \
            self._ng_options(options)
        out = [self._ng_block(0x0A0D0D0A, shb), self._ng_block(1, idb)]
        for micros, data, orig_len in self.records:
            body = struct.pack("<IIIII", 0, micros >> 32, micros & 0xFFFFFFFF,
                               len(data), orig_len) + data
            out.append(self._ng_block(6, body))
        return b"".join(out)

    # gzip -----------------------------------------------------------------
    def pcap_gz_bytes(self):
        # mtime=0 and no file name: identical bytes on every run
        return gzip.compress(self.pcap_bytes(), compresslevel=9, mtime=0)

    def save(self, path, fmt=None):
        """Write to ``path``; format from ``fmt`` ("pcap", "pcapng",
        "pcap.gz") or from the file name."""
        if fmt is None:
            name = str(path)
            if name.endswith(".gz"):
                fmt = "pcap.gz"
            elif name.endswith(".pcapng"):
                fmt = "pcapng"
            else:
                fmt = "pcap"
        data = {"pcap": self.pcap_bytes, "pcapng": self.pcapng_bytes,
                "pcap.gz": self.pcap_gz_bytes}[fmt]()
        with open(path, "wb") as f:
            f.write(data)
        return len(data)


# --------------------------------------------------------------------------
# reading back (for checks)


def _read_pcap(data):
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise ValueError("not a pcap file")
    nanos = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    _, _, _, _, _, snaplen, linktype = struct.unpack(end + "IHHiIII", data[:24])
    records = []
    pos = 24
    while pos < len(data):
        if pos + 16 > len(data):
            raise ValueError("truncated record header at %d" % pos)
        sec, frac, incl, orig = struct.unpack(end + "IIII", data[pos:pos + 16])
        pos += 16
        if pos + incl > len(data):
            raise ValueError("truncated record data at %d" % pos)
        micros = sec * 1000000 + (frac // 1000 if nanos else frac)
        records.append((micros, data[pos:pos + incl], orig))
        pos += incl
    return linktype, records


def _read_pcapng(data):
    records = []
    linktypes = []
    resolutions = []
    pos = 0
    end = "<"
    while pos < len(data):
        block_type = struct.unpack("<I", data[pos:pos + 4])[0]
        if block_type == 0x0A0D0D0A:
            bom = data[pos + 8:pos + 12]
            end = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            linktypes, resolutions = [], []
        total = struct.unpack(end + "I", data[pos + 4:pos + 8])[0]
        if total < 12 or total % 4 or pos + total > len(data):
            raise ValueError("bad pcapng block length at %d" % pos)
        if struct.unpack(end + "I", data[pos + total - 4:pos + total])[0] != total:
            raise ValueError("pcapng trailing length mismatch at %d" % pos)
        body = data[pos + 8:pos + total - 4]
        block_type = struct.unpack(end + "I", data[pos:pos + 4])[0]
        if block_type == 1:
            linktype, _, _ = struct.unpack(end + "HHI", body[:8])
            linktypes.append(linktype)
            res = 6
            opos = 8
            while opos + 4 <= len(body):
                code, olen = struct.unpack(end + "HH", body[opos:opos + 4])
                if code == 0:
                    break
                if code == 9 and olen == 1:
                    res = body[opos + 4]
                opos += 4 + olen + ((-olen) % 4)
            resolutions.append(res)
        elif block_type == 6:
            iface, hi, lo, incl, orig = struct.unpack(end + "IIIII", body[:20])
            res = resolutions[iface]
            units = (hi << 32) | lo
            if res & 0x80:
                raise ValueError("binary timestamp resolution not supported")
            micros = units * 1000000 // (10 ** res)
            records.append((micros, body[20:20 + incl], orig))
        pos += total
    return (linktypes[0] if linktypes else None), records


def read_capture(path):
    """Read a pcap, pcapng or gzip-compressed pcap file.
    Returns (linktype, [(micros, captured bytes, original length), ...])."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        return _read_pcapng(data)
    return _read_pcap(data)
