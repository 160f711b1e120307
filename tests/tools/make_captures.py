#!/usr/bin/env python3
"""Generate the golden test captures of pathobs.

    make_captures.py OUTDIR              all captures into OUTDIR
    make_captures.py --sample PATH       only the example capture
    make_captures.py OUTDIR --sample PATH   both

Every file is deterministic: running the script twice gives byte-identical
files. tests/golden/README.md says what each capture covers. Addresses are
from the documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
2001:db8::/32); timestamps start at 1500000000 (2017-07-14 02:40:00 UTC).
"""

import argparse
import hashlib
import os
import struct
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pcapgen as pg  # noqa: E402

T0 = 1500000000


def at(rel):
    """(seconds, microseconds) for ``rel`` seconds after T0."""
    micros = int(round(rel * 1000000))
    return (T0 + micros // 1000000, micros % 1000000)


def mac_of(addr):
    """A stable, locally administered MAC for an IP address."""
    return b"\x02" + hashlib.sha256(pg.addr_bytes(addr)).digest()[:5]


def eth(packet, vlan=None, pad=True, trailer=b""):
    """Ethernet frame for an IP packet, MACs derived from its addresses,
    short frames padded to 60 bytes."""
    if packet[0] >> 4 == 4:
        src, dst = packet[12:16], packet[16:20]
    else:
        src, dst = packet[8:24], packet[24:40]
    return pg.ether(packet, src=mac_of(src), dst=mac_of(dst), vlan=vlan,
                    pad=pad, trailer=trailer)


# TCP options as a typical Linux client/server sends them on SYN / SYN+ACK
def syn_options(tsval, tsecr=0):
    return [pg.opt_mss(1460), pg.opt_sackperm(), pg.opt_ts(tsval, tsecr),
            pg.opt_nop(), pg.opt_ws(7)]


def syn_options6(tsval, tsecr=0):
    return [pg.opt_mss(1440), pg.opt_sackperm(), pg.opt_ts(tsval, tsecr),
            pg.opt_nop(), pg.opt_ws(7)]


HTTP_GET = b"GET / HTTP/1.1\r\nHost: www.example.com\r\nAccept: */*\r\n\r\n"


def http_response(body_len):
    body = (b"<html><body>" + b"x" * max(0, body_len - 26) +
            b"</body></html>")[:body_len]
    return (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)) + body


# --------------------------------------------------------------------------
# tcp4.pcap


def tcp_two_flows(cli, srv, srv2, syn_opts, hbh_on_data=False):
    """Two interleaved TCP connections from ``cli``:

    flow 1 ``cli:40001 -> srv:80``: handshake, request, response, FIN from
    the client, FIN from the server, last ACK;
    flow 2 ``cli:40002 -> srv2:25``: handshake, 4 bytes from the client,
    RST+ACK from the server.
    Short frames are padded to 60 bytes; one has non-zero padding.
    """
    v6 = ":" in cli
    cap = pg.Capture()
    a = pg.TcpSession(cli, srv, 40001, 80, cisn=0x10000000, sisn=0x20000000)
    b = pg.TcpSession(cli, srv2, 40002, 25, cisn=0x30000000, sisn=0x40000000)
    data_ip = {"exts": [pg.hbh()]} if hbh_on_data else None
    cap.add(at(0.000100), eth(a.seg(True, "S", options=syn_opts(100))))
    cap.add(at(0.010200), eth(a.seg(False, "SA", options=syn_opts(900, 100))))
    cap.add(at(0.010300), eth(a.seg(True, "A")))
    cap.add(at(0.010400), eth(a.seg(True, "PA", HTTP_GET, ip_opts=data_ip)))
    cap.add(at(0.015000), eth(b.seg(True, "S", options=syn_opts(120))))
    cap.add(at(0.020600), eth(a.seg(False, "A")))
    cap.add(at(0.021000), eth(b.seg(False, "SA", options=syn_opts(700, 120))))
    cap.add(at(0.021100), eth(b.seg(True, "A")))
    cap.add(at(0.530000), eth(a.seg(False, "PA", http_response(300))))
    cap.add(at(0.530100), eth(a.seg(True, "A")))
    if v6:
        cap.add(at(0.735000), eth(b.seg(True, "PA", b"hi\r\n")))
    else:
        # 58 bytes, padded to 60 with junk a NIC might leave: not payload
        cap.add(at(0.735000), eth(b.seg(True, "PA", b"hi\r\n"), pad=False,
                                  trailer=b"\xde\xad"))
    cap.add(at(0.736000), eth(b.seg(False, "RA")))
    cap.add(at(1.040000), eth(a.seg(True, "FA")))
    cap.add(at(1.050000), eth(a.seg(False, "FA")))
    cap.add(at(1.050100), eth(a.seg(True, "A")))
    return cap


def make_tcp4():
    return tcp_two_flows("192.0.2.10", "198.51.100.20", "198.51.100.21",
                         syn_options)


# --------------------------------------------------------------------------
# tcp6.pcap


def make_tcp6():
    return tcp_two_flows("2001:db8:10::10", "2001:db8:20::20",
                         "2001:db8:20::21", syn_options6, hbh_on_data=True)


# --------------------------------------------------------------------------
# udp.pcap


def a_record(addr):
    return (1, 300, pg.addr_bytes(addr))


def aaaa_record(addr):
    return (28, 300, pg.addr_bytes(addr))


def make_udp():
    cap = pg.Capture()
    c4, s4 = "192.0.2.10", "198.51.100.53"
    c6, s6 = "2001:db8:10::10", "2001:db8:20::53"
    z1, z2 = "192.0.2.11", "198.51.100.7"
    q4 = pg.dns_message(0x1a2b, "www.example.com", 1)
    r4 = pg.dns_message(0x1a2b, "www.example.com", 1, response=True,
                        answers=[a_record("203.0.113.80")])
    q6 = pg.dns_message(0x3c4d, "www.example.com", 28)
    r6 = pg.dns_message(0x3c4d, "www.example.com", 28, response=True,
                        answers=[aaaa_record("2001:db8:80::80")])
    cap.add(at(0.100000), eth(pg.udp_packet(c4, s4, 53001, 53, payload=q4,
                                            ip_opts={"ident": 0x1001})))
    cap.add(at(0.100500), eth(pg.udp_packet(c6, s6, 53002, 53, payload=q6)))
    # zero checksum (no checksum) on IPv4; 46-byte frame padded to 60
    cap.add(at(0.200000), eth(pg.udp_packet(z1, z2, 40100, 40200, payload=b"ping",
                                            checksum=0,
                                            ip_opts={"ident": 0x2001})))
    cap.add(at(0.112000), eth(pg.udp_packet(s4, c4, 53, 53001, payload=r4,
                                            ip_opts={"ident": 0x7001})))
    cap.add(at(0.113000), eth(pg.udp_packet(s6, c6, 53, 53002, payload=r6)))
    cap.add(at(0.201000), eth(pg.udp_packet(z2, z1, 40200, 40100, payload=b"pong",
                                            ip_opts={"ident": 0x8001})))
    cap.records.sort(key=lambda r: r[0])
    return cap


# --------------------------------------------------------------------------
# icmp.pcap


def make_icmp():
    cap = pg.Capture()
    host, router4 = "192.0.2.10", "192.0.2.1"
    host6 = "2001:db8:10::10"

    # 1. TCP SYN answered by ICMPv4 host unreachable (3/1) from a router
    syn = pg.tcp_packet(host, "198.51.100.30", 40010, 8080, flags="S",
                        seq=0x11110000, options=syn_options(1),
                        ip_opts={"ident": 0x0101, "df": True})
    cap.add(at(0.100000), eth(syn))
    cap.add(at(0.120000), eth(pg.ip(pg.icmp4_error(3, 1, syn), router4, host,
                                    pg.PROTO_ICMP, ident=0x0a01, ttl=255)))

    # 2. UDP answered by ICMPv4 port unreachable (3/3) from the target
    probe = pg.udp_packet(host, "198.51.100.31", 40011, 9, payload=b"probe",
                          ip_opts={"ident": 0x0102})
    cap.add(at(0.200000), eth(probe))
    cap.add(at(0.201000), eth(pg.ip(pg.icmp4_error(3, 3, probe),
                                    "198.51.100.31", host, pg.PROTO_ICMP,
                                    ident=0x0b01)))

    # 3. SYN, SYN+ACK, and a time exceeded (11/0) quoting the SYN+ACK,
    #    sent to the server: it joins the flow in the forward direction
    s = pg.TcpSession("192.0.2.12", "198.51.100.32", 40012, 80,
                      cisn=0x22220000, sisn=0x33330000)
    cap.add(at(0.300000), eth(s.seg(True, "S", options=syn_options(2))))
    synack = s.seg(False, "SA", options=syn_options(3, 2),
                   ip_opts={"ttl": 1, "ident": 0x0c01})
    cap.add(at(0.310000), eth(synack))
    cap.add(at(0.311000), eth(pg.ip(pg.icmp4_error(11, 0, synack),
                                    "198.51.100.1", "198.51.100.32",
                                    pg.PROTO_ICMP, ident=0x0d01)))

    # 4. IPv6 UDP answered by ICMPv6 destination unreachable, port (1/4)
    probe6 = pg.udp_packet(host6, "2001:db8:20::30", 50000, 33434,
                           payload=b"\x00" * 24, ip_opts={"hlim": 64})
    cap.add(at(0.400000), eth(probe6))
    cap.add(at(0.401000), eth(pg.ip(
        pg.icmp6_error("2001:db8:20::30", host6, 1, 4, probe6),
        "2001:db8:20::30", host6, pg.PROTO_ICMPV6)))

    # 5. ICMPv4 error whose quotation (12 bytes) is shorter than an IPv4
    #    header: keyed as plain ICMP (router -> host, protocol 1)
    lost = pg.udp_packet("192.0.2.13", "198.51.100.33", 40013, 53,
                         payload=b"x" * 20)
    cap.add(at(0.500000), eth(pg.ip(pg.icmp4_error(3, 1, lost, quote_len=12),
                                    router4, "192.0.2.13", pg.PROTO_ICMP,
                                    ident=0x0e01)))

    # 6. ICMPv6 error whose quotation (24 bytes) is shorter than an IPv6
    #    header: keyed as plain ICMPv6
    lost6 = pg.udp_packet("2001:db8:10::13", "2001:db8:20::33", 40014, 53,
                          payload=b"x" * 20)
    cap.add(at(0.550000), eth(pg.ip(
        pg.icmp6_error("2001:db8:ff::1", "2001:db8:10::13", 3, 0, lost6,
                       quote_len=24),
        "2001:db8:ff::1", "2001:db8:10::13", pg.PROTO_ICMPV6)))

    # 7. ping v4: two echo requests and replies
    for i in range(2):
        data = bytes(range(56))
        cap.add(at(0.600000 + i), eth(pg.ip(
            pg.icmp4_echo(0x1234, i + 1, data), host, "198.51.100.40",
            pg.PROTO_ICMP, ident=0x0f01 + i, df=True)))
        cap.add(at(0.612000 + i), eth(pg.ip(
            pg.icmp4_echo(0x1234, i + 1, data, reply=True), "198.51.100.40",
            host, pg.PROTO_ICMP, ident=0x5501 + i)))

    # 8. ping v6
    data6 = bytes(range(56))
    cap.add(at(0.700000), eth(pg.ip(
        pg.icmp6_echo(host6, "2001:db8:20::40", 0x4321, 1, data6),
        host6, "2001:db8:20::40", pg.PROTO_ICMPV6)))
    cap.add(at(0.708000), eth(pg.ip(
        pg.icmp6_echo("2001:db8:20::40", host6, 0x4321, 1, data6, reply=True),
        "2001:db8:20::40", host6, pg.PROTO_ICMPV6)))

    # 9. echo request whose TTL runs out: the time exceeded quotes an ICMP
    #    packet (no ports) and joins the ping flow in the reverse direction
    echo = pg.ip(pg.icmp4_echo(0x5678, 1, bytes(range(56))), host,
                 "198.51.100.41", pg.PROTO_ICMP, ident=0x1101, ttl=2)
    cap.add(at(0.800000), eth(echo))
    cap.add(at(0.803000), eth(pg.ip(pg.icmp4_error(11, 0, echo),
                                    "192.0.2.254", host, pg.PROTO_ICMP,
                                    ident=0x1201)))
    cap.records.sort(key=lambda r: r[0])
    return cap


# --------------------------------------------------------------------------
# vlan.pcap


def make_vlan():
    cap = pg.Capture()
    # TCP over IPv4 in VLAN 100
    s = pg.TcpSession("192.0.2.10", "198.51.100.50", 40020, 80,
                      cisn=0x44440000, sisn=0x55550000)
    v = 100
    cap.add(at(0.100000), eth(s.seg(True, "S", options=syn_options(10)), vlan=v))
    cap.add(at(0.110000), eth(s.seg(False, "SA", options=syn_options(20, 10)),
                              vlan=v))
    cap.add(at(0.110100), eth(s.seg(True, "A"), vlan=v))
    cap.add(at(0.110200), eth(s.seg(True, "PA", HTTP_GET), vlan=v))
    cap.add(at(0.150000), eth(s.seg(False, "PA", http_response(100)), vlan=v))
    cap.add(at(0.150100), eth(s.seg(True, "FA"), vlan=v))
    cap.add(at(0.160000), eth(s.seg(False, "FA"), vlan=v))
    cap.add(at(0.160100), eth(s.seg(True, "A"), vlan=v))

    # UDP over IPv6 in VLAN 200, priority 5
    c6, s6 = "2001:db8:10::10", "2001:db8:20::53"
    q = pg.dns_message(0x0203, "example.org", 28)
    r = pg.dns_message(0x0203, "example.org", 28, response=True,
                       answers=[aaaa_record("2001:db8:80::81")])
    cap.add(at(0.200000), eth(pg.udp_packet(c6, s6, 53003, 53, payload=q),
                              vlan=(200, 5)))
    cap.add(at(0.210000), eth(pg.udp_packet(s6, c6, 53, 53003, payload=r),
                              vlan=(200, 5)))

    # UDP over IPv4 in QinQ: outer 802.1ad tag 10, inner 802.1Q tag 100
    cap.add(at(0.300000), eth(pg.udp_packet("192.0.2.14", "198.51.100.51",
                                            6001, 6002, payload=b"qinq"),
                              vlan=[10, 100]))
    cap.add(at(0.301000), eth(pg.udp_packet("198.51.100.51", "192.0.2.14",
                                            6002, 6001, payload=b"QINQ"),
                              vlan=[10, 100]))

    # the same with both tags 802.1Q (TPID 0x8100 twice, as older
    # switches do): outer 300, inner 30
    dq = [(300, 0, 0, pg.ETH_VLAN), 30]
    cap.add(at(0.400000), eth(pg.udp_packet("192.0.2.15", "198.51.100.52",
                                            6003, 6004, payload=b"q-in-q"),
                              vlan=dq))
    cap.add(at(0.401000), eth(pg.udp_packet("198.51.100.52", "192.0.2.15",
                                            6004, 6003, payload=b"Q-IN-Q"),
                              vlan=dq))

    # ARP (non-IP): a broadcast request untagged, the reply in VLAN 100
    mac_host, mac_gw = mac_of("192.0.2.10"), mac_of("192.0.2.1")
    cap.add(at(0.050000), pg.ether(
        pg.arp(1, mac_host, "192.0.2.10", b"\x00" * 6, "192.0.2.1"),
        src=mac_host, dst="ff:ff:ff:ff:ff:ff", ethertype=pg.ETH_ARP, pad=True))
    cap.add(at(0.050300), pg.ether(
        pg.arp(2, mac_gw, "192.0.2.1", mac_host, "192.0.2.10"),
        src=mac_gw, dst=mac_host, ethertype=pg.ETH_ARP, vlan=100, pad=True))
    cap.records.sort(key=lambda r: r[0])
    return cap


# --------------------------------------------------------------------------
# frag.pcap


def make_frag():
    cap = pg.Capture()
    # IPv4: a 1208-byte UDP datagram in three fragments (408 + 408 + 392)
    c4, s4 = "192.0.2.10", "198.51.100.60"
    dgram4 = pg.udp_packet(c4, s4, 40300, 9999,
                           payload=pg.filler(1200, "v4"),
                           ip_opts={"ident": 0x4242})
    frags4 = pg.fragment4(dgram4, [408, 408, 392])
    # IPv6: the same with a fragment header
    c6, s6 = "2001:db8:10::10", "2001:db8:20::60"
    dgram6 = pg.udp_packet(c6, s6, 40300, 9999, payload=pg.filler(1200, "v6"))
    frags6 = pg.fragment6(dgram6, [408, 408, 392], ident=0x01020304)
    t = 0.100000
    for f4, f6 in zip(frags4, frags6):
        cap.add(at(t), eth(f4))
        cap.add(at(t + 0.000050), eth(f6))
        t += 0.000100
    # unfragmented answers
    cap.add(at(0.150000), eth(pg.udp_packet(s4, c4, 9999, 40300, payload=b"ok",
                                            ip_opts={"ident": 0x9001})))
    cap.add(at(0.150500), eth(pg.udp_packet(s6, c6, 9999, 40300, payload=b"ok")))

    # orphan IPv4 fragment: offset 816, last, its first fragment never seen
    cap.add(at(0.200000), eth(pg.ipv4(pg.filler(100, "orphan4"), "192.0.2.11",
                                      "198.51.100.61", pg.PROTO_UDP,
                                      ident=0x9999, frag_offset=816)))
    # orphan IPv6 fragment: offset 408, more to come, never matched
    cap.add(at(0.250000), eth(pg.ipv6(pg.filler(408, "orphan6"),
                                      "2001:db8:10::11", "2001:db8:20::61",
                                      pg.PROTO_UDP,
                                      exts=[pg.frag6(408, True, 0xDEADBEEF)])))
    # IPv6 atomic fragment (offset 0, no more fragments): a first fragment
    atomic = pg.udp("2001:db8:10::12", "2001:db8:20::62", 40301, 9998,
                    payload=b"atomic")
    cap.add(at(0.300000), eth(pg.ipv6(atomic, "2001:db8:10::12",
                                      "2001:db8:20::62", pg.PROTO_UDP,
                                      exts=[pg.frag6(0, False, 7)])))
    return cap


# --------------------------------------------------------------------------
# short.pcap


def make_short():
    cap = pg.Capture()
    t = [0.0]

    def add(frame, caplen=None):
        t[0] += 0.01
        cap.add(at(t[0]), frame, caplen=caplen)

    # 1. TCP/IPv4 cut inside the TCP header, before the end of the ports:
    #    short, skipped
    add(eth(pg.tcp_packet("192.0.2.20", "198.51.100.70", 40030, 80,
                          flags="S", options=syn_options(1))), caplen=14 + 20 + 2)
    # 2. TCP/IPv4 cut inside the TCP header after the ports: a flow with its
    #    ports (extract_ports reads them as the key does), but no complete
    #    TCP header for the chains
    add(eth(pg.tcp_packet("192.0.2.21", "198.51.100.71", 40031, 80,
                          flags="S", options=syn_options(1))), caplen=14 + 20 + 8)
    # 3. IPv4 cut inside its own header
    add(eth(pg.udp_packet("192.0.2.22", "198.51.100.72", 40032, 53,
                          payload=b"x" * 20)), caplen=14 + 12)
    # 4. IPv4 header with IHL 4 (< 5), fully captured
    add(eth(pg.ipv4(pg.udp("192.0.2.23", "198.51.100.73", 40033, 53,
                           payload=b"x" * 20),
                    "192.0.2.23", "198.51.100.73", pg.PROTO_UDP, ihl=4)))
    # 5. IPv4 total length (16) smaller than the header
    add(eth(pg.ipv4(pg.udp("192.0.2.26", "198.51.100.76", 40036, 53,
                           payload=b"x" * 20),
                    "192.0.2.26", "198.51.100.76", pg.PROTO_UDP,
                    total_length=16)))
    # 6. IPv6 whose extension chain overruns the packet: a hop-by-hop header,
    #    then destination options claiming 1608 bytes in an 84-byte packet
    add(eth(pg.ipv6(pg.udp("2001:db8:10::20", "2001:db8:20::70", 40040, 53,
                           payload=b"x" * 20),
                    "2001:db8:10::20", "2001:db8:20::70", pg.PROTO_UDP,
                    exts=[pg.hbh(), pg.dstopts(hdr_ext_len=200)])))
    # 7. IPv6 extension chain cut by the capture (inside the destination
    #    options header)
    add(eth(pg.ipv6(pg.udp("2001:db8:10::21", "2001:db8:20::71", 40041, 53,
                           payload=b"x" * 20),
                    "2001:db8:10::21", "2001:db8:20::71", pg.PROTO_UDP,
                    exts=[pg.hbh(), pg.dstopts(b"\x01\x0c" + b"\x00" * 12)])),
        caplen=14 + 40 + 8 + 6)
    # 8. IPv6 cut inside the fixed header
    add(eth(pg.udp_packet("2001:db8:10::22", "2001:db8:20::72", 40042, 53,
                          payload=b"x" * 20)), caplen=14 + 30)
    # 9. UDP/IPv6 with only 2 bytes of the UDP header captured
    add(eth(pg.udp_packet("2001:db8:10::23", "2001:db8:20::73", 40043, 53,
                          payload=b"x" * 20)), caplen=14 + 40 + 2)
    # 10. TCP with data offset 2 (< 5) in a complete 20-byte header
    add(eth(pg.tcp_packet("192.0.2.24", "198.51.100.74", 40034, 80,
                          flags="S", doff=2)))
    # 11. TCP with data offset 15 (60 bytes) but only 20 bytes of header
    add(eth(pg.tcp_packet("192.0.2.25", "198.51.100.75", 40035, 80,
                          flags="S", doff=15)))
    # 12. IPv4 total length 1500 in a 60-byte frame
    add(eth(pg.tcp_packet("192.0.2.27", "198.51.100.77", 40037, 80,
                          flags="A", ip_opts={"total_length": 1500})))
    # 13. ICMPv4 with only 4 bytes of its header captured
    add(eth(pg.ip(pg.icmp4_echo(0x99, 1, bytes(56)), "192.0.2.29",
                  "198.51.100.79", pg.PROTO_ICMP)), caplen=14 + 20 + 4)
    # 14. ICMPv4 error whose quotation is complete on the wire but cut to
    #     10 bytes by the capture
    quoted = pg.tcp_packet("192.0.2.30", "198.51.100.80", 40038, 80, flags="S")
    add(eth(pg.ip(pg.icmp4_error(3, 1, quoted), "192.0.2.2", "192.0.2.30",
                  pg.PROTO_ICMP)), caplen=14 + 20 + 8 + 10)
    # 15. a complete handshake start at the end: processing goes on
    s = pg.TcpSession("192.0.2.28", "198.51.100.78", 40039, 80)
    add(eth(s.seg(True, "S", options=syn_options(5))))
    add(eth(s.seg(False, "SA", options=syn_options(6, 5))))
    add(eth(s.seg(True, "A")))
    return cap


# --------------------------------------------------------------------------
# timers.pcap


def make_timers():
    """Timeline in seconds after T0 (default timeouts: idle 30, expiry 5):

    A  TCP/IPv4   0.2 .. 2.0, then silence until 42.3: A's idle deadline
                  (32) passes during that jump and A is written then.
    B  UDP/IPv6   42.3, 42.4; idle deadline 73.
    K  UDP/IPv4   a packet every few seconds from 45.5 to 88.0 (one at
                  exactly 65.000000), alternating directions: the clock.
    U  UDP/IPv4   50.0, 50.5: idle at 81, emission due at 84; a packet at
                  82.5 arrives while it is expiring (joins the record);
                  another at 86.0 after emission starts a new flow.
    C  TCP/IPv6   188.0 .. 189.7 after a 100 s gap: K and the second U are
                  written during that jump; C at the end of input.
    """
    cap = pg.Capture()
    a = pg.TcpSession("192.0.2.40", "198.51.100.90", 41000, 80)
    cap.add(at(0.2), eth(a.seg(True, "S", options=syn_options(1))))
    cap.add(at(0.25), eth(a.seg(False, "SA", options=syn_options(2, 1))))
    cap.add(at(0.3), eth(a.seg(True, "A")))
    cap.add(at(1.2), eth(a.seg(True, "PA", b"hello")))
    cap.add(at(2.0), eth(a.seg(False, "A")))

    b6c, b6s = "2001:db8:10::40", "2001:db8:20::90"
    bq = pg.dns_message(0x0b0b, "b.example", 1)
    br = pg.dns_message(0x0b0b, "b.example", 1, response=True,
                        answers=[a_record("203.0.113.9")])
    cap.add(at(42.3), eth(pg.udp_packet(b6c, b6s, 41001, 53, payload=bq)))
    cap.add(at(42.4), eth(pg.udp_packet(b6s, b6c, 53, 41001, payload=br)))

    kc, ks = "192.0.2.41", "198.51.100.91"
    for i, rel in enumerate([45.5, 55.5, 65.0, 75.5, 78.5, 80.7, 83.9, 88.0]):
        fwd = i % 2 == 0
        src, dst = (kc, ks) if fwd else (ks, kc)
        cap.add(at(rel), eth(pg.udp_packet(src, dst, 6000, 6000,
                                           payload=b"keepalive %d" % i)))

    uc, us = "192.0.2.42", "198.51.100.92"
    cap.add(at(50.0), eth(pg.udp_packet(uc, us, 7000, 7001, payload=b"u1")))
    cap.add(at(50.5), eth(pg.udp_packet(us, uc, 7001, 7000, payload=b"u2")))
    cap.add(at(82.5), eth(pg.udp_packet(uc, us, 7000, 7001, payload=b"u3")))
    cap.add(at(86.0), eth(pg.udp_packet(uc, us, 7000, 7001, payload=b"u4")))

    c = pg.TcpSession("2001:db8:10::41", "2001:db8:20::91", 41002, 443)
    cap.add(at(188.0), eth(c.seg(True, "S", options=syn_options6(7))))
    cap.add(at(188.1), eth(c.seg(False, "SA", options=syn_options6(8, 7))))
    cap.add(at(188.2), eth(c.seg(True, "A")))
    cap.add(at(189.5), eth(c.seg(True, "FA")))
    cap.add(at(189.6), eth(c.seg(False, "FA")))
    cap.add(at(189.7), eth(c.seg(True, "A")))
    cap.records.sort(key=lambda r: r[0])
    return cap

# --------------------------------------------------------------------------
# flowrules.pcap


def make_flowrules():
    """Flow rules that PATHspider's observer and pathobs must agree on
    (seconds after T0; default timeouts: idle 30, expiry 5):

    A  UDP/IPv4   1.0, then 31.8 (a 30.8 s gap): ARP frames every 2 s in the
                  gap move the packet clock, so A completes at 31 and its
                  second packet joins the expiring record: one record.
    R  UDP/IPv4   40.0, 42.0, then a reply stamped 41.0 (timestamps going
                  backwards): pkt_last stays 42.0, the frame is reordered.
    G  GRE        50.0 a later fragment (offset 1480) whose first fragment
                  never came: no record; 50.1 an unfragmented GRE packet of
                  the same hosts (a record), 50.2 another lone later
                  fragment (not joined to it).
    H  GRE        50.3, 50.4 a datagram in two fragments: one record.
    S  TCP/IPv4   51.0 a SYN; 51.1 an ICMP unreachable quoting all of it in
                  two fragments: both join S as reverse packets.
    P  SCTP       52.0, 52.1 two associations between the same hosts: two
                  records with their ports; UDP-Lite/IPv6 52.2: its ports.
    E  TCP/IPv4   53.0 an AccECN SYN (AE CWR ECE SYN = 0x1c2), 53.1 SYN+ACK.
    """
    cap = pg.Capture()
    ac, as_ = "192.0.2.50", "198.51.100.50"
    cap.add(at(1.0), eth(pg.udp_packet(ac, as_, 5000, 5001, payload=b"a1")))
    rel = 3.0
    while rel < 31.8:
        cap.add(at(rel), pg.ether(pg.arp(1, "02:00:00:00:00:01", "192.0.2.1",
                                         "00:00:00:00:00:00", "192.0.2.2"),
                                  ethertype=pg.ETH_ARP, pad=True))
        rel += 2.0
    cap.add(at(31.8), eth(pg.udp_packet(ac, as_, 5000, 5001, payload=b"a2")))

    rc, rs = "192.0.2.51", "198.51.100.51"
    cap.add(at(40.0), eth(pg.udp_packet(rc, rs, 5002, 5003, payload=b"r1")))
    cap.add(at(42.0), eth(pg.udp_packet(rc, rs, 5002, 5003, payload=b"r2")))
    cap.add(at(41.0), eth(pg.udp_packet(rs, rc, 5003, 5002, payload=b"r3")))

    gre = 47
    gc, gs = "192.0.2.52", "198.51.100.52"
    cap.add(at(50.0), eth(pg.ipv4(pg.filler(40, "gre-orphan"), gc, gs, gre,
                                  ident=0x1111, frag_offset=1480)))
    cap.add(at(50.1), eth(pg.ipv4(b"\x00\x00\x08\x00" + pg.filler(28, "gre"),
                                  gc, gs, gre, ident=0x1112)))
    cap.add(at(50.2), eth(pg.ipv4(pg.filler(40, "gre-orphan2"), gc, gs, gre,
                                  ident=0x1113, frag_offset=1480)))
    hc, hs = "192.0.2.53", "198.51.100.53"
    whole = pg.ipv4(b"\x00\x00\x08\x00" + pg.filler(196, "gre-frag"), hc, hs,
                    gre, ident=0x2222)
    for i, f in enumerate(pg.fragment4(whole, [104, 96])):
        cap.add(at(50.3 + 0.1 * i), eth(f))

    sc, ss, router = "192.0.2.54", "198.51.100.54", "203.0.113.54"
    syn = pg.tcp_packet(sc, ss, 41000, 80, flags="S", seq=1,
                        payload=pg.filler(100, "syn-data"))
    cap.add(at(51.0), eth(syn))
    err = pg.ipv4(pg.icmp4_error(3, 4, syn, quote_len=len(syn)), router, sc,
                  pg.PROTO_ICMP, ident=0x3333)
    for i, f in enumerate(pg.fragment4(err, [48, len(syn) + 8 - 48])):
        cap.add(at(51.1 + 0.01 * i), eth(f))

    pc, ps = "192.0.2.55", "198.51.100.55"
    for i, (sp, dp) in enumerate([(36412, 2905), (36413, 2905)]):
        sctp = struct.pack("!HHII", sp, dp, 0x01020304 + i, 0) + pg.filler(20, "sctp")
        cap.add(at(52.0 + 0.1 * i), eth(pg.ipv4(sctp, pc, ps, 132, ident=0x4444 + i)))
    lite = struct.pack("!HHHH", 7000, 7001, 8, 0) + b"lite"
    cap.add(at(52.2), eth(pg.ipv6(lite, "2001:db8:10::55", "2001:db8:20::55", 136)))

    e = pg.TcpSession("192.0.2.56", "198.51.100.56", 41001, 443)
    cap.add(at(53.0), eth(e.seg(True, 0x1c2, options=syn_options(11))))
    cap.add(at(53.1), eth(e.seg(False, 0x52, options=syn_options(12, 11))))
    return cap


# --------------------------------------------------------------------------
# examples/sample.pcap


def make_sample():
    """A small realistic mix for the README and for trying chains."""
    cap = pg.Capture()
    host4, host6 = "192.0.2.10", "2001:db8:10::10"
    dns4, dns6 = "198.51.100.53", "2001:db8:53::53"
    web4, web6 = "203.0.113.80", "2001:db8:80::80"
    base = 1.0

    def add(rel, packet, **kw):
        cap.add(at(base + rel), eth(packet, **kw))

    # DNS A and AAAA lookups (v4 transport, then v6 transport)
    q = pg.dns_message(0xbeef, "www.example.com", 1)
    r = pg.dns_message(0xbeef, "www.example.com", 1, response=True,
                       answers=[a_record(web4)])
    add(0.000, pg.udp_packet(host4, dns4, 51515, 53, payload=q,
                             ip_opts={"ident": 0x1c01}))
    add(0.014, pg.udp_packet(dns4, host4, 53, 51515, payload=r,
                             ip_opts={"ident": 0x7e01}))
    q6 = pg.dns_message(0xcafe, "www.example.com", 28)
    r6 = pg.dns_message(0xcafe, "www.example.com", 28, response=True,
                        answers=[aaaa_record(web6)])
    add(0.001, pg.udp_packet(host6, dns6, 51516, 53, payload=q6))
    add(0.016, pg.udp_packet(dns6, host6, 53, 51516, payload=r6))

    # HTTP over IPv4
    h = pg.TcpSession(host4, web4, 45678, 80, cisn=0x6a1b2c3d, sisn=0x0badf00d)
    add(0.020, h.seg(True, "S", options=syn_options(11111)))
    add(0.045, h.seg(False, "SA", options=syn_options(99999, 11111)))
    add(0.045200, h.seg(True, "A"))
    add(0.045300, h.seg(True, "PA", HTTP_GET))
    add(0.070, h.seg(False, "A"))
    add(0.071, h.seg(False, "PA", http_response(1200)))
    add(0.071200, h.seg(True, "A"))
    add(0.072, h.seg(True, "FA"))
    add(0.096, h.seg(False, "FA"))
    add(0.096100, h.seg(True, "A"))

    # TLS-like exchange over IPv6
    t = pg.TcpSession(host6, web6, 45679, 443, cisn=0x11223344, sisn=0x55667788)
    add(0.030, t.seg(True, "S", options=syn_options6(22222)))
    add(0.052, t.seg(False, "SA", options=syn_options6(88888, 22222)))
    add(0.052100, t.seg(True, "A"))
    add(0.052300, t.seg(True, "PA", b"\x16\x03\x01\x00\xf5" + pg.filler(245, "ch")))
    add(0.075, t.seg(False, "A"))
    add(0.076, t.seg(False, "PA", b"\x16\x03\x03\x03\xe3" + pg.filler(995, "sh")))
    add(0.076100, t.seg(True, "A"))
    add(0.080, t.seg(True, "PA", b"\x17\x03\x03\x00\x40" + pg.filler(64, "ad")))
    add(0.101, t.seg(False, "PA", b"\x17\x03\x03\x01\x00" + pg.filler(256, "as")))
    add(0.101100, t.seg(True, "A"))
    add(0.300, t.seg(True, "FA"))
    add(0.323, t.seg(False, "FA"))
    add(0.323100, t.seg(True, "A"))

    # a refused connection: RST+ACK from the server
    rf = pg.TcpSession(host4, "203.0.113.81", 45680, 8443, cisn=0x77777777)
    add(0.500, rf.seg(True, "S", options=syn_options(33333)))
    add(0.524, rf.seg(False, "RA", seq=0))

    # UDP to a closed port, answered by ICMP port unreachable
    probe = pg.udp_packet(host4, "198.51.100.99", 45681, 33434,
                          payload=b"\x00" * 32, ip_opts={"ident": 0x2d01})
    add(0.600, probe)
    add(0.631, pg.ip(pg.icmp4_error(3, 3, probe), "198.51.100.99", host4,
                     pg.PROTO_ICMP, ident=0x3e01))

    # three pings
    for i in range(3):
        data = struct.pack("!Q", i) + bytes(range(48))
        add(0.700 + i, pg.ip(pg.icmp4_echo(0x0777, i + 1, data), host4,
                             "203.0.113.1", pg.PROTO_ICMP, ident=0x4f01 + i,
                             df=True))
        add(0.718 + i, pg.ip(pg.icmp4_echo(0x0777, i + 1, data, reply=True),
                             "203.0.113.1", host4, pg.PROTO_ICMP,
                             ident=0x6001 + i))
    cap.records.sort(key=lambda r: r[0])
    return cap


# --------------------------------------------------------------------------

CAPTURES = [
    ("tcp4.pcap", make_tcp4),
    ("tcp6.pcap", make_tcp6),
    ("udp.pcap", make_udp),
    ("icmp.pcap", make_icmp),
    ("vlan.pcap", make_vlan),
    ("frag.pcap", make_frag),
    ("short.pcap", make_short),
    ("timers.pcap", make_timers),
    ("flowrules.pcap", make_flowrules),
]


def write_checked(cap, path, fmt=None):
    """Save ``cap`` and read it back to make sure the file holds it."""
    size = cap.save(path, fmt)
    linktype, records = pg.read_capture(path)
    if linktype != cap.linktype or records != cap.records:
        raise SystemExit("%s: read back differs from what was written" % path)
    print("%-40s %3d packets %6d bytes" % (path, len(records), size))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outdir", nargs="?",
                        help="folder for the golden captures")
    parser.add_argument("--sample", metavar="PATH",
                        help="also write the example capture to PATH")
    args = parser.parse_args(argv)
    if not args.outdir and not args.sample:
        parser.error("give OUTDIR, --sample PATH, or both")
    if args.outdir:
        os.makedirs(args.outdir, exist_ok=True)
        for name, make in CAPTURES:
            cap = make()
            write_checked(cap, os.path.join(args.outdir, name))
            if name == "tcp4.pcap":
                write_checked(cap, os.path.join(args.outdir, "pcapng.pcapng"),
                              "pcapng")
                write_checked(cap, os.path.join(args.outdir, "tcp4.pcap.gz"),
                              "pcap.gz")
    if args.sample:
        parent = os.path.dirname(args.sample)
        if parent:
            os.makedirs(parent, exist_ok=True)
        write_checked(make_sample(), args.sample)
    return 0


if __name__ == "__main__":
    sys.exit(main())
