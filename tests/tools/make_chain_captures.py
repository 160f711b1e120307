#!/usr/bin/env python3
"""Generate the test captures of the bundled chains (chains/*.lua).

    make_chain_captures.py OUTDIR

One capture per chain (``tcp.pcap``, ``ecn.pcap``, ...) plus ``mixed.pcap``
for all chains together and ``malformed.pcap`` (TCP options that must neither
hang nor confuse a chain). Every flow of a capture starts 100 s after the
previous one, so with the default timers each record is written before the
next flow begins and the expected output lists the flows in the order below.
A packet 10 s after a flow-completing packet (more than the 5 s expiry) shows
whether the flow really was completed: it starts a new record if so and joins
the old one if not.

Each ``make_*`` function documents its flows and what each one must give;
tests/golden/chains/expected/ holds the reviewed output. Standard library
only; the output is deterministic (same bytes on every run). Addresses are
from the documentation ranges; timestamps start at 1600000000.
"""

import os
import struct
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pcapgen as pg  # noqa: E402

T0 = 1600000000
FLOW_GAP = 100          # seconds between the starts of two flows

C4, S4 = "192.0.2.10", "198.51.100.20"
C6, S6 = "2001:db8:10::10", "2001:db8:20::20"
ROUTER4, ROUTER6 = "192.0.2.1", "2001:db8:10::1"

# ECN codepoints (the two low bits of the traffic class)
NOT_ECT, ECT1, ECT0, CE = 0, 1, 2, 3


def tos(dscp=0, ecn=0):
    return (dscp << 2) | ecn


class Trace:
    """Frames of one capture; each flow gets its own time slot."""

    def __init__(self):
        self.cap = pg.Capture()
        self.slot = -1

    def flow(self):
        """Start the next flow's time slot; returns its first timestamp."""
        self.slot += 1
        return T0 + self.slot * FLOW_GAP

    def add(self, ts, packet, caplen=None, pad=True):
        """Add an IP packet at ``ts`` (seconds, float) in an Ethernet frame,
        short frames padded to 60 bytes. ``caplen`` cuts the capture."""
        micros = int(round((ts - T0) * 1000000))
        frame = pg.ether(packet, pad=pad)
        if caplen is not None:
            caplen += 14           # caplen counts from the IP header here
        self.cap.add((T0 + micros // 1000000, micros % 1000000), frame,
                     caplen=caplen)


def session(v6, cport, sport, cisn=1000, sisn=5000):
    if v6:
        return pg.TcpSession(C6, S6, cport, sport, cisn=cisn, sisn=sisn)
    return pg.TcpSession(C4, S4, cport, sport, cisn=cisn, sisn=sisn)


def addrs(v6):
    return (C6, S6) if v6 else (C4, S4)


def handshake(tr, s, t, syn_opts=b"", synack_opts=b"", ip=None):
    """SYN, SYN+ACK, ACK at t, t+0.01, t+0.02."""
    tr.add(t, s.seg(True, "S", options=syn_opts, ip_opts=ip))
    tr.add(t + 0.01, s.seg(False, "SA", options=synack_opts, ip_opts=ip))
    tr.add(t + 0.02, s.seg(True, "A", ip_opts=ip))


def close(tr, s, t, client_first=True):
    """FIN from one side, FIN+ACK from the other, last ACK."""
    tr.add(t, s.seg(client_first, "FA"))
    tr.add(t + 0.01, s.seg(not client_first, "FA"))
    tr.add(t + 0.02, s.seg(client_first, "A"))


def ip_kw(v6, tc):
    return {"tc": tc} if v6 else {"tos": tc}


# --------------------------------------------------------------------------
# tcp.pcap


def make_tcp():
    """Flows (client port):
    1. 41001 v4: handshake, data both ways, client FIN, server FIN, last ACK:
       synflags 2/18, connected, fin both ways, complete. A stray ACK 10 s
       later starts a new record (2.) with nothing set.
    3. 41002 v4: handshake, server FIN first (fin_rev only, flow goes on),
       client data, then 10 s later the client FIN (same record, complete).
    4. 41003 v4: handshake, client RST: rst_fwd, complete (a packet 10 s later
       is record 5.).
    6. 41004 v4: SYN answered by RST+ACK: rst_rev, synflags_rev null, not
       connected.
    7. 41005 v6: SYN with ECE+CWR (194), SYN+ACK with ECE (82), ACK,
       server FIN then client FIN: connected, complete.
    8. 41006 v6: handshake, data, server RST: connected, rst_rev.
    9. 41007 v4: SYN (2), SYN again with ECE+CWR (194: latest wins),
       SYN+ACK, then only the server sends an ACK with data: not connected.
    10. 41008 v4: SYN, a SYN without ACK from the server (simultaneous
       open, synflags_rev 2), client ACK: not connected.
    11. 41009 v4: RST+ACK and FIN+ACK from the client in one segment
       (0x15): fin_fwd and rst_fwd, complete.
    """
    tr = Trace()
    # 1
    t = tr.flow()
    s = session(False, 41001, 80)
    handshake(tr, s, t)
    tr.add(t + 0.03, s.seg(True, "PA", b"GET / HTTP/1.0\r\n\r\n"))
    tr.add(t + 0.04, s.seg(False, "PA", b"HTTP/1.0 200 OK\r\n\r\nhello"))
    close(tr, s, t + 0.05, client_first=True)
    tr.add(t + 10.07, s.seg(True, "A"))
    # 3
    t = tr.flow()
    s = session(False, 41002, 80)
    handshake(tr, s, t)
    tr.add(t + 0.03, s.seg(False, "FA"))
    tr.add(t + 0.04, s.seg(True, "PA", b"more data"))
    tr.add(t + 10.05, s.seg(True, "FA"))
    tr.add(t + 10.06, s.seg(False, "A"))
    # 4
    t = tr.flow()
    s = session(False, 41003, 80)
    handshake(tr, s, t)
    tr.add(t + 0.03, s.seg(True, "R"))
    tr.add(t + 10.04, s.seg(True, "A"))
    # 6
    t = tr.flow()
    s = session(False, 41004, 81)
    tr.add(t, s.seg(True, "S"))
    tr.add(t + 0.01, s.seg(False, "RA"))
    # 7
    t = tr.flow()
    s = session(True, 41005, 80)
    tr.add(t, s.seg(True, "SEC"))
    tr.add(t + 0.01, s.seg(False, "SAE"))
    tr.add(t + 0.02, s.seg(True, "A"))
    close(tr, s, t + 0.03, client_first=False)
    # 8
    t = tr.flow()
    s = session(True, 41006, 80)
    handshake(tr, s, t)
    tr.add(t + 0.03, s.seg(True, "PA", b"data"))
    tr.add(t + 0.04, s.seg(False, "R"))
    # 9
    t = tr.flow()
    s = session(False, 41007, 80)
    tr.add(t, s.seg(True, "S", seq=999))
    tr.add(t + 1.0, s.seg(True, "SEC", seq=999))
    tr.add(t + 1.01, s.seg(False, "SA"))
    tr.add(t + 1.02, s.seg(False, "PA", b"server speaks first"))
    # 10
    t = tr.flow()
    s = session(False, 41008, 80)
    tr.add(t, s.seg(True, "S"))
    tr.add(t + 0.01, s.seg(False, "S"))
    tr.add(t + 0.02, s.seg(True, "A"))
    # 11
    t = tr.flow()
    s = session(False, 41009, 80)
    handshake(tr, s, t)
    tr.add(t + 0.03, s.seg(True, "RFA"))
    return tr.cap


# --------------------------------------------------------------------------
# ecn.pcap


def make_ecn():
    """For each IP version (v4 client ports 42001-42003, v6 42011-42013),
    three TCP flows with marks rotated so that together they set all twelve
    fields: flow k marks SYN with M[k], SYN+ACK with M[k+1], forward data with
    M[k+2], reverse data with M[k] (M = ect0, ect1, ce); the DSCP bits are
    non-zero (46) so only the two ECN bits may count. Pure ACKs are not-ECT.
    Then per version a TCP flow without marks (42004 / 42014: all false), a
    pure ACK marked ce after the handshake (42005 / 42015: data ce, since
    every non-SYN packet is data), and a UDP flow (42006 / 42016: forward
    ect1, reverse ce, both data).
    """
    tr = Trace()
    marks = [ECT0, ECT1, CE]
    for v6 in (False, True):
        base = 42011 if v6 else 42001
        for k in range(3):
            t = tr.flow()
            s = session(v6, base + k, 80)
            m = [marks[k % 3], marks[(k + 1) % 3], marks[(k + 2) % 3]]
            tr.add(t, s.seg(True, "S", ip_opts=ip_kw(v6, tos(46, m[0]))))
            tr.add(t + 0.01, s.seg(False, "SA", ip_opts=ip_kw(v6, tos(46, m[1]))))
            tr.add(t + 0.02, s.seg(True, "A", ip_opts=ip_kw(v6, tos(46, 0))))
            tr.add(t + 0.03, s.seg(True, "PA", b"request",
                                   ip_opts=ip_kw(v6, tos(46, m[2]))))
            tr.add(t + 0.04, s.seg(False, "PA", b"response",
                                   ip_opts=ip_kw(v6, tos(46, m[0]))))
        t = tr.flow()
        s = session(v6, base + 3, 80)
        handshake(tr, s, t)
        tr.add(t + 0.03, s.seg(True, "PA", b"plain"))
        t = tr.flow()
        s = session(v6, base + 4, 80)
        handshake(tr, s, t)
        tr.add(t + 0.03, s.seg(True, "A", ip_opts=ip_kw(v6, tos(0, CE))))
        t = tr.flow()
        c, srv = addrs(v6)
        tr.add(t, pg.udp_packet(c, srv, base + 5, 4000, payload=b"up",
                                ip_opts=ip_kw(v6, tos(0, ECT1))))
        tr.add(t + 0.01, pg.udp_packet(srv, c, 4000, base + 5, payload=b"down",
                                       ip_opts=ip_kw(v6, tos(0, CE))))
    return tr.cap


# --------------------------------------------------------------------------
# dscp.pcap


def make_dscp():
    """Flows (client port):
    1. 43001 v4: SYN dscp 10, SYN+ACK 0, pure ACK 46 (ignored), forward data
       0 then 12 then 20, reverse data 0 and 0, reverse FIN without payload
       8 (ignored): syn 10/0, data fwd 12 (first non-zero), data rev 0.
    2. 43002 v4: SYN dscp 8, retransmitted SYN 16, SYN+ACK 4, no data:
       syn fwd 16 (latest), syn rev 4, data null both ways.
    3. 43003 v6: SYN 46, SYN+ACK 46, forward data 46, reverse data 0 then 32:
       data rev 32.
    4. 43004 v4 UDP: forward 0, 0; reverse 26, 0: data fwd 0, rev 26; syn null.
    5. 43005 v6 UDP: forward 63 only: data fwd 63, rev null.
    6. 43006 v4: handshake at dscp 0, forward data dscp 18 cut by the capture
       right after the TCP header (payload per the IP length: counts),
       reverse pure ACK dscp 40 padded to 60 bytes (padding is not payload:
       ignored): data fwd 18, data rev null.
    """
    tr = Trace()
    # 1
    t = tr.flow()
    s = session(False, 43001, 80)
    tr.add(t, s.seg(True, "S", ip_opts={"tos": tos(10)}))
    tr.add(t + 0.01, s.seg(False, "SA", ip_opts={"tos": tos(0)}))
    tr.add(t + 0.02, s.seg(True, "A", ip_opts={"tos": tos(46)}))
    tr.add(t + 0.03, s.seg(True, "PA", b"one", ip_opts={"tos": tos(0)}))
    tr.add(t + 0.04, s.seg(True, "PA", b"two", ip_opts={"tos": tos(12)}))
    tr.add(t + 0.05, s.seg(True, "PA", b"three", ip_opts={"tos": tos(20)}))
    tr.add(t + 0.06, s.seg(False, "PA", b"four", ip_opts={"tos": tos(0)}))
    tr.add(t + 0.07, s.seg(False, "PA", b"five", ip_opts={"tos": tos(0)}))
    tr.add(t + 0.08, s.seg(False, "FA", ip_opts={"tos": tos(8)}))
    # 2
    t = tr.flow()
    s = session(False, 43002, 80)
    tr.add(t, s.seg(True, "S", seq=777, ip_opts={"tos": tos(8)}))
    tr.add(t + 1.0, s.seg(True, "S", seq=777, ip_opts={"tos": tos(16)}))
    tr.add(t + 1.01, s.seg(False, "SA", ip_opts={"tos": tos(4)}))
    # 3
    t = tr.flow()
    s = session(True, 43003, 80)
    tr.add(t, s.seg(True, "S", ip_opts={"tc": tos(46)}))
    tr.add(t + 0.01, s.seg(False, "SA", ip_opts={"tc": tos(46)}))
    tr.add(t + 0.02, s.seg(True, "PA", b"req", ip_opts={"tc": tos(46)}))
    tr.add(t + 0.03, s.seg(False, "PA", b"resp1", ip_opts={"tc": tos(0)}))
    tr.add(t + 0.04, s.seg(False, "PA", b"resp2", ip_opts={"tc": tos(32)}))
    # 4
    t = tr.flow()
    tr.add(t, pg.udp_packet(C4, S4, 43004, 4000, payload=b"a",
                            ip_opts={"tos": tos(0)}))
    tr.add(t + 0.01, pg.udp_packet(C4, S4, 43004, 4000, payload=b"b",
                                   ip_opts={"tos": tos(0)}))
    tr.add(t + 0.02, pg.udp_packet(S4, C4, 4000, 43004, payload=b"c",
                                   ip_opts={"tos": tos(26)}))
    tr.add(t + 0.03, pg.udp_packet(S4, C4, 4000, 43004, payload=b"d",
                                   ip_opts={"tos": tos(0)}))
    # 5
    t = tr.flow()
    tr.add(t, pg.udp_packet(C6, S6, 43005, 4000, payload=b"max",
                            ip_opts={"tc": tos(63)}))
    # 6
    t = tr.flow()
    s = session(False, 43006, 80)
    handshake(tr, s, t)
    data = s.seg(True, "PA", b"x" * 200, ip_opts={"tos": tos(18)})
    tr.add(t + 0.03, data, caplen=40)
    tr.add(t + 0.04, s.seg(False, "A", ip_opts={"tos": tos(40)}))
    return tr.cap


# --------------------------------------------------------------------------
# evilbit.pcap


def make_evilbit():
    """Flows (client port):
    1. 44001 v4: SYN evil, SYN+ACK not, pure ACK evil (ignored), forward
       data not evil then evil then evil, reverse data evil, and 10 s later
       more forward data: syn fwd true, rev false, data fwd false (first),
       data rev true, and one record (PATHspider ended the flow on the
       second data packet).
    2. 44002 v4: SYN not evil, retransmitted SYN evil, SYN+ACK evil, no
       data: syn fwd true (latest), syn rev true, data null.
    3. 44003 v4 UDP: forward evil, reverse not: data fwd true, rev false.
    4. 44004 v6: TCP with data: everything null (IPv6 has no such bit).
    5. 44005 v4: handshake, forward data cut by the capture after the TCP
       header (counts: payload per IP length) evil, reverse pure ACK evil
       padded to 60 bytes (ignored): data fwd true, rev null.
    """
    tr = Trace()
    # 1
    t = tr.flow()
    s = session(False, 44001, 80)
    tr.add(t, s.seg(True, "S", ip_opts={"evil": True}))
    tr.add(t + 0.01, s.seg(False, "SA"))
    tr.add(t + 0.02, s.seg(True, "A", ip_opts={"evil": True}))
    tr.add(t + 0.03, s.seg(True, "PA", b"one"))
    tr.add(t + 0.04, s.seg(True, "PA", b"two", ip_opts={"evil": True}))
    tr.add(t + 0.05, s.seg(True, "PA", b"three", ip_opts={"evil": True}))
    tr.add(t + 0.06, s.seg(False, "PA", b"four", ip_opts={"evil": True}))
    tr.add(t + 10.0, s.seg(True, "PA", b"later"))
    # 2
    t = tr.flow()
    s = session(False, 44002, 80)
    tr.add(t, s.seg(True, "S", seq=555))
    tr.add(t + 1.0, s.seg(True, "S", seq=555, ip_opts={"evil": True}))
    tr.add(t + 1.01, s.seg(False, "SA", ip_opts={"evil": True}))
    # 3
    t = tr.flow()
    tr.add(t, pg.udp_packet(C4, S4, 44003, 4000, payload=b"a",
                            ip_opts={"evil": True}))
    tr.add(t + 0.01, pg.udp_packet(S4, C4, 4000, 44003, payload=b"b"))
    # 4
    t = tr.flow()
    s = session(True, 44004, 80)
    handshake(tr, s, t)
    tr.add(t + 0.03, s.seg(True, "PA", b"data"))
    tr.add(t + 0.04, s.seg(False, "PA", b"data"))
    # 5
    t = tr.flow()
    s = session(False, 44005, 80)
    handshake(tr, s, t)
    tr.add(t + 0.03, s.seg(True, "PA", b"y" * 100, ip_opts={"evil": True}),
           caplen=40)
    tr.add(t + 0.04, s.seg(False, "A", ip_opts={"evil": True}))
    return tr.cap


# --------------------------------------------------------------------------
# icmp.pcap


def make_icmp():
    """Flows (client port):
    1. 45001 v4 TCP: SYN, ICMPv4 host unreachable (3/1) from a router quoting
       it (reverse): unreachable, complete; the SYN retransmitted 10 s later
       is a new record (2.) with false.
    3. 45002 v6 UDP: datagram, ICMPv6 port unreachable (1/4) quoting it:
       true, complete; another datagram 10 s later is record 4.
    5. 45003 v4 UDP: datagram, ICMPv4 time exceeded (11/0) quoting it, and a
       datagram 10 s later: false, one record.
    6. 45004 v4 TCP: SYN, SYN+ACK, ICMPv4 unreachable quoting the SYN+ACK
       (joins in the forward direction): false, one record with the ACK
       10 s later.
    7. 45005 v6 TCP: SYN, ICMPv6 time exceeded (3/0): false; then ICMPv6
       administratively prohibited (1/1): true, complete.
    8. 45006 v6 TCP: SYN, ICMPv6 packet too big (2/0): false.
    9. v4 ping (id 45007): echo request, echo reply: false (type 0 is not
       unreachable).
    """
    tr = Trace()
    # 1
    t = tr.flow()
    syn = pg.tcp_packet(C4, S4, 45001, 80, flags="S", seq=100)
    tr.add(t, syn)
    tr.add(t + 0.01, pg.ip(pg.icmp4_error(3, 1, syn), ROUTER4, C4,
                           pg.PROTO_ICMP, ttl=255))
    tr.add(t + 10.0, syn)
    # 3
    t = tr.flow()
    dgram = pg.udp_packet(C6, S6, 45002, 4000, payload=b"probe")
    tr.add(t, dgram)
    tr.add(t + 0.01, pg.ip(pg.icmp6_error(S6, C6, 1, 4, dgram), S6, C6,
                           pg.PROTO_ICMPV6))
    tr.add(t + 10.0, dgram)
    # 5
    t = tr.flow()
    dgram = pg.udp_packet(C4, S4, 45003, 33434, payload=b"trace",
                          ip_opts={"ttl": 1})
    tr.add(t, dgram)
    tr.add(t + 0.01, pg.ip(pg.icmp4_error(11, 0, dgram), ROUTER4, C4,
                           pg.PROTO_ICMP))
    tr.add(t + 10.0, dgram)
    # 6
    t = tr.flow()
    s = session(False, 45004, 80)
    tr.add(t, s.seg(True, "S"))
    synack = s.seg(False, "SA")
    tr.add(t + 0.01, synack)
    tr.add(t + 0.02, pg.ip(pg.icmp4_error(3, 1, synack), "198.51.100.1", S4,
                           pg.PROTO_ICMP))
    tr.add(t + 10.0, s.seg(True, "A"))
    # 7
    t = tr.flow()
    syn = pg.tcp_packet(C6, S6, 45005, 80, flags="S", seq=100)
    tr.add(t, syn)
    tr.add(t + 0.01, pg.ip(pg.icmp6_error(ROUTER6, C6, 3, 0, syn), ROUTER6,
                           C6, pg.PROTO_ICMPV6))
    tr.add(t + 1.0, syn)
    tr.add(t + 1.01, pg.ip(pg.icmp6_error(ROUTER6, C6, 1, 1, syn), ROUTER6,
                           C6, pg.PROTO_ICMPV6))
    # 8
    t = tr.flow()
    syn = pg.tcp_packet(C6, S6, 45006, 80, flags="S", seq=100)
    tr.add(t, syn)
    tr.add(t + 0.01, pg.ip(pg.icmp6_error(ROUTER6, C6, 2, 0, syn, rest=1280),
                           ROUTER6, C6, pg.PROTO_ICMPV6))
    # 9
    t = tr.flow()
    tr.add(t, pg.ip(pg.icmp4_echo(45007, 1, b"ping"), C4, S4, pg.PROTO_ICMP))
    tr.add(t + 0.01, pg.ip(pg.icmp4_echo(45007, 1, b"ping", reply=True), S4,
                           C4, pg.PROTO_ICMP))
    return tr.cap


# --------------------------------------------------------------------------
# mss.pcap


def make_mss():
    """Flows (client port):
    1. 46001 v4: SYN MSS 1460, SYN+ACK MSS 1380: len 4/4, 1460/1380.
    2. 46002 v6: SYN MSS 1440, SYN+ACK without MSS: fwd 4/1440, rev null.
    3. 46003 v4: SYN with a 1-byte MSS (0x05), SYN+ACK with a 3-byte MSS
       (0x0005b4): len 3 value 5; len 5 value 1460.
    4. 46004 v4: SYN with an empty MSS (length 2), SYN+ACK with a 4-byte MSS
       0x00010000: len 2 value 0; len 6 value 65536.
    5. 46005 v4: SYN without options, ACK carrying MSS 1200 (not a SYN:
       ignored): null.
    6. 46006 v4: SYN with two MSS options (1200 then 1300): the first, 1200.
    7. 46007 v4: SYN MSS 1460, retransmitted SYN MSS 536: 536 (latest SYN).
    8. 46008 v6: SYN and SYN+ACK with MSS after NOPs, a window scale and SACK
       permitted: 1220 / 1440.
    """
    tr = Trace()
    cases = [
        (46001, False, [pg.opt_mss(1460)], [pg.opt_mss(1380)]),
        (46002, True, [pg.opt_mss(1440)], [pg.opt_sackperm()]),
        (46003, False, [pg.opt_mss(5, size=1)], [pg.opt_mss(1460, size=3)]),
        (46004, False, [pg.opt_mss(0, size=0)], [pg.opt_mss(65536, size=4)]),
    ]
    for port, v6, syn_o, sa_o in cases:
        t = tr.flow()
        s = session(v6, port, 80)
        handshake(tr, s, t, syn_o, sa_o)
    # 5
    t = tr.flow()
    s = session(False, 46005, 80)
    tr.add(t, s.seg(True, "S"))
    tr.add(t + 0.01, s.seg(False, "SA"))
    tr.add(t + 0.02, s.seg(True, "A", options=[pg.opt_mss(1200)]))
    # 6
    t = tr.flow()
    s = session(False, 46006, 80)
    handshake(tr, s, t, [pg.opt_mss(1200), pg.opt_mss(1300)])
    # 7
    t = tr.flow()
    s = session(False, 46007, 80)
    tr.add(t, s.seg(True, "S", seq=333, options=[pg.opt_mss(1460)]))
    tr.add(t + 1.0, s.seg(True, "S", seq=333, options=[pg.opt_mss(536)]))
    # 8
    t = tr.flow()
    s = session(True, 46008, 80)
    opts = [pg.opt_nop(), pg.opt_ws(8), pg.opt_nop(), pg.opt_nop(),
            pg.opt_sackperm()]
    handshake(tr, s, t, opts + [pg.opt_mss(1220)], opts + [pg.opt_mss(1440)])
    return tr.cap


# --------------------------------------------------------------------------
# tcpopt.pcap


def make_tcpopt():
    """Flows (client port):
    1. 47001 v4: SYN and SYN+ACK with MSS, SACK-permitted, TS, WS: all true.
    2. 47002 v4: SYN with all, SYN+ACK with MSS only: all null (the SYN
       does not count).
    3. 47003 v6: SYN+ACK with WS only: ws true, ts and sack null.
    4. 47004 v6: SYN+ACK with SACK-permitted and TS, then reverse data with
       WS in its options (not a SYN: ignored): ts, sack true; ws null.
    5. 47005 v4: SYN+ACK with TS, an option of length 0, then WS and
       SACK-permitted: the walk stops at the bad length: ts true, others null.
    6. 47006 v4: simultaneous open: the server's SYN (no ACK) carries
       SACK-permitted: sack true (any reverse SYN counts).
    """
    tr = Trace()
    full = [pg.opt_mss(1460), pg.opt_sackperm(), pg.opt_ts(1, 0),
            pg.opt_nop(), pg.opt_ws(7)]
    # 1
    t = tr.flow()
    handshake(tr, session(False, 47001, 80), t, full, full)
    # 2
    t = tr.flow()
    handshake(tr, session(False, 47002, 80), t, full, [pg.opt_mss(1400)])
    # 3
    t = tr.flow()
    handshake(tr, session(True, 47003, 80), t, full,
              [pg.opt_nop(), pg.opt_ws(2)])
    # 4
    t = tr.flow()
    s = session(True, 47004, 80)
    handshake(tr, s, t, full, [pg.opt_sackperm(), pg.opt_ts(2, 1)])
    tr.add(t + 0.03, s.seg(False, "PA", b"data",
                           options=[pg.opt_nop(), pg.opt_ws(3)]))
    # 5
    t = tr.flow()
    bad = [pg.opt_ts(2, 1), pg.opt_raw(30, length=0), pg.opt_ws(7),
           pg.opt_sackperm()]
    handshake(tr, session(False, 47005, 80), t, full, bad)
    # 6
    t = tr.flow()
    s = session(False, 47006, 80)
    tr.add(t, s.seg(True, "S", options=full))
    tr.add(t + 0.01, s.seg(False, "S", options=[pg.opt_sackperm()]))
    return tr.cap


# --------------------------------------------------------------------------
# tfo.pcap

COOKIE8 = bytes(range(0xa0, 0xa8))


def make_tfo():
    """Flows (client port; client ISN 1000, server ISN 5000):
    1. 48001 v4: SYN with a kind 34 cookie request (empty), SYN+ACK with a
       kind 34 8-byte cookie: synkind 34, synclen 0, seq 1000, dlen 0,
       ack 1001, ackkind 34, ackclen 8.
    2. 48002 v4: SYN with a kind 34 8-byte cookie and 100 bytes of data,
       SYN+ACK acknowledging all of it, without a cookie: synclen 8, dlen 100,
       ack 1101, ackkind 0, ackclen 0.
    3. 48003 v6: SYN with kind 254 + 0xF989 + 8-byte cookie and 40 bytes of
       data, SYN+ACK with a kind 254 cookie of 8 acknowledging only the SYN:
       synkind 254, synclen 8, dlen 40, ack 1001, ackkind 254, ackclen 8.
    4. 48004 v6: SYN with a kind 255 cookie request, SYN+ACK with a kind 255
       16-byte cookie: synkind 255, synclen 0, ackkind 255, ackclen 16
       (PATHspider measured the kind 254 option here).
    5. 48005 v4: SYN with kind 254 but experiment id 0x1234, SYN+ACK with a
       kind 34 cookie: no TFO on the SYN, so everything stays 0.
    6. 48006 v4: SYN with kind 255 (4-byte cookie), kind 254 (6) and kind 34
       (8), in that order: 34 wins, synclen 8; SYN+ACK with 255 (4) and
       254 (6): 254 wins, ackclen 6.
    7. 48007 v4: SYN with data but no cookie: all 0.
    8. 48008 v4: SYN with a kind 34 cookie and 300 bytes of data, cut by the
       capture after the options: dlen 300 (from the IP length); SYN+ACK
       ack 1301.
    9. 48009 v4: SYN with kind 254 holding only 1 data byte (too short for
       the experiment id), then kind 255 + id with an empty cookie:
       synkind 255, synclen 0; no SYN+ACK: ack 0.
    """
    tr = Trace()
    # 1
    t = tr.flow()
    s = session(False, 48001, 80)
    handshake(tr, s, t, [pg.opt_mss(1460), pg.opt_tfo(b"")],
              [pg.opt_mss(1460), pg.opt_tfo(COOKIE8)])
    # 2
    t = tr.flow()
    s = session(False, 48002, 80)
    tr.add(t, s.seg(True, "S", b"d" * 100, options=[pg.opt_tfo(COOKIE8)]))
    tr.add(t + 0.01, s.seg(False, "SA"))
    tr.add(t + 0.02, s.seg(True, "A"))
    # 3
    t = tr.flow()
    s = session(True, 48003, 80)
    tr.add(t, s.seg(True, "S", b"e" * 40,
                    options=[pg.opt_tfo(COOKIE8, kind=254)]))
    tr.add(t + 0.01, s.seg(False, "SA", options=[pg.opt_tfo(COOKIE8, kind=254)],
                           ack=1001))
    tr.add(t + 0.02, s.seg(True, "PA", b"e" * 40, seq=1001))
    # 4
    t = tr.flow()
    s = session(True, 48004, 80)
    handshake(tr, s, t, [pg.opt_tfo(b"", kind=255)],
              [pg.opt_tfo(bytes(range(16)), kind=255)])
    # 5
    t = tr.flow()
    s = session(False, 48005, 80)
    handshake(tr, s, t, [pg.opt_tfo(COOKIE8, kind=254, exid=0x1234)],
              [pg.opt_tfo(COOKIE8)])
    # 6
    t = tr.flow()
    s = session(False, 48006, 80)
    handshake(tr, s, t,
              [pg.opt_tfo(b"1234", kind=255), pg.opt_tfo(b"123456", kind=254),
               pg.opt_tfo(COOKIE8)],
              [pg.opt_tfo(b"1234", kind=255), pg.opt_tfo(b"123456", kind=254)])
    # 7
    t = tr.flow()
    s = session(False, 48007, 80)
    tr.add(t, s.seg(True, "S", b"no cookie", options=[pg.opt_mss(1460)]))
    tr.add(t + 0.01, s.seg(False, "SA"))
    # 8
    t = tr.flow()
    s = session(False, 48008, 80)
    tr.add(t, s.seg(True, "S", b"f" * 300, options=[pg.opt_tfo(COOKIE8)]),
           caplen=20 + 20 + 12)
    tr.add(t + 0.01, s.seg(False, "SA"))
    # 9
    t = tr.flow()
    s = session(False, 48009, 80)
    tr.add(t, s.seg(True, "S", options=[pg.opt_raw(254, b"\xf9"),
                                        pg.opt_tfo(b"", kind=255)]))
    return tr.cap


# --------------------------------------------------------------------------
# udp.pcap


def make_udp():
    """Flows (client port):
    1. 49001 v4: forward checksum 0, reverse non-zero: fwd true, rev false.
    2. 49002 v4: forward non-zero then 0 (latest wins): fwd true, rev null.
    3. 49003 v6: both non-zero: false, false.
    4. 49004 v6: forward non-zero, reverse 0 (not legal on IPv6, but
       reported as seen): fwd false, rev true.
    5. 49005 v4 TCP: the udp chain is not called: null, null.
    """
    tr = Trace()
    t = tr.flow()
    tr.add(t, pg.udp_packet(C4, S4, 49001, 4000, payload=b"q", checksum=0))
    tr.add(t + 0.01, pg.udp_packet(S4, C4, 4000, 49001, payload=b"r"))
    t = tr.flow()
    tr.add(t, pg.udp_packet(C4, S4, 49002, 4000, payload=b"q"))
    tr.add(t + 0.01, pg.udp_packet(C4, S4, 49002, 4000, payload=b"q",
                                   checksum=0))
    t = tr.flow()
    tr.add(t, pg.udp_packet(C6, S6, 49003, 4000, payload=b"q"))
    tr.add(t + 0.01, pg.udp_packet(S6, C6, 4000, 49003, payload=b"r"))
    t = tr.flow()
    tr.add(t, pg.udp_packet(C6, S6, 49004, 4000, payload=b"q"))
    tr.add(t + 0.01, pg.udp_packet(S6, C6, 4000, 49004, payload=b"r",
                                   checksum=0))
    t = tr.flow()
    handshake(tr, session(False, 49005, 80), t)
    return tr.cap


# --------------------------------------------------------------------------
# dns.pcap


def query(ident, v6=False):
    return pg.dns_message(ident, "www.example.com", 28 if v6 else 1)


def answer(ident, v6=False):
    if v6:
        return pg.dns_message(ident, "www.example.com", 28, response=True,
                              answers=[(28, 300, pg.addr_bytes("2001:db8:80::80"))])
    return pg.dns_message(ident, "www.example.com", 1, response=True,
                          answers=[(1, 300, pg.addr_bytes("203.0.113.80"))])


def tcp_dns(msg, delta=0):
    return struct.pack("!H", len(msg) + delta) + msg


def make_dns():
    """Flows (client port), server port 53:
    1. 50001 v4 UDP: query, valid response: true, complete; a new query 10 s
       later is record 2 (false).
    3. 50002 v4 UDP: query, an answer with the QR bit clear: false.
    4. 50003 v4 UDP: query, a response whose header promises an answer that
       is not there: false.
    5. 50004 v4 UDP: query, no response: false.
    6. 50005 v6 UDP: query, valid response: true.
    7. 50006 v4 UDP: a valid response travelling forward (first packet): false.
    8. 50007 v4 TCP: handshake, query, valid response with its length prefix:
       true, complete; the client's FIN 10 s later is record 9.
    10. 50008 v4 TCP: response whose length prefix is one too large: false.
    11. 50009 v4 TCP: response without the length prefix: false.
    12. 50010 v6 TCP: valid response: true.
    13. 50011 v4 UDP: valid response cut by the capture: false (incomplete).
    14. 50012 v4 UDP: 1-byte and empty reverse payloads, then garbage: false.
    15. 50013 v4 TCP: a valid response split over two segments: false (one
       whole message per segment is required).
    """
    tr = Trace()
    # 1
    t = tr.flow()
    tr.add(t, pg.udp_packet(C4, S4, 50001, 53, payload=query(1)))
    tr.add(t + 0.01, pg.udp_packet(S4, C4, 53, 50001, payload=answer(1)))
    tr.add(t + 10.0, pg.udp_packet(C4, S4, 50001, 53, payload=query(2)))
    # 3
    t = tr.flow()
    tr.add(t, pg.udp_packet(C4, S4, 50002, 53, payload=query(3)))
    tr.add(t + 0.01, pg.udp_packet(S4, C4, 53, 50002, payload=query(3)))
    # 4
    t = tr.flow()
    broken = answer(4)
    broken = broken[:-16]          # the answer record is missing
    tr.add(t, pg.udp_packet(C4, S4, 50003, 53, payload=query(4)))
    tr.add(t + 0.01, pg.udp_packet(S4, C4, 53, 50003, payload=broken))
    # 5
    t = tr.flow()
    tr.add(t, pg.udp_packet(C4, S4, 50004, 53, payload=query(5)))
    # 6
    t = tr.flow()
    tr.add(t, pg.udp_packet(C6, S6, 50005, 53, payload=query(6, True)))
    tr.add(t + 0.01, pg.udp_packet(S6, C6, 53, 50005, payload=answer(6, True)))
    # 7
    t = tr.flow()
    tr.add(t, pg.udp_packet(C4, S4, 50006, 53, payload=answer(7)))
    # 8
    t = tr.flow()
    s = session(False, 50007, 53)
    handshake(tr, s, t)
    tr.add(t + 0.03, s.seg(True, "PA", tcp_dns(query(8))))
    tr.add(t + 0.04, s.seg(False, "PA", tcp_dns(answer(8))))
    tr.add(t + 10.05, s.seg(True, "FA"))
    # 10, 11
    for port, payload in ((50008, tcp_dns(answer(10), 1)), (50009, answer(11))):
        t = tr.flow()
        s = session(False, port, 53)
        handshake(tr, s, t)
        tr.add(t + 0.03, s.seg(True, "PA", tcp_dns(query(10))))
        tr.add(t + 0.04, s.seg(False, "PA", payload))
    # 12
    t = tr.flow()
    s = session(True, 50010, 53)
    handshake(tr, s, t)
    tr.add(t + 0.03, s.seg(True, "PA", tcp_dns(query(12, True))))
    tr.add(t + 0.04, s.seg(False, "PA", tcp_dns(answer(12, True))))
    # 13
    t = tr.flow()
    tr.add(t, pg.udp_packet(C4, S4, 50011, 53, payload=query(13)))
    tr.add(t + 0.01, pg.udp_packet(S4, C4, 53, 50011, payload=answer(13)),
           caplen=20 + 8 + 20)
    # 14
    t = tr.flow()
    tr.add(t, pg.udp_packet(C4, S4, 50012, 53, payload=query(14)))
    tr.add(t + 0.01, pg.udp_packet(S4, C4, 53, 50012, payload=b"\x80"))
    tr.add(t + 0.02, pg.udp_packet(S4, C4, 53, 50012, payload=b""))
    tr.add(t + 0.03, pg.udp_packet(S4, C4, 53, 50012,
                                   payload=b"\xff" * 12 + b"\x3f" * 30))
    # 15
    t = tr.flow()
    s = session(False, 50013, 53)
    handshake(tr, s, t)
    tr.add(t + 0.03, s.seg(True, "PA", tcp_dns(query(15))))
    whole = tcp_dns(answer(15))
    tr.add(t + 0.04, s.seg(False, "PA", whole[:20]))
    tr.add(t + 0.05, s.seg(False, "PA", whole[20:]))
    return tr.cap


# --------------------------------------------------------------------------
# malformed.pcap


def make_malformed():
    """TCP options that are broken on purpose; every chain must carry on
    (no hang, no chain error). Flows (client port):
    1. 51001 v4: SYN with MSS, a kind 34 cookie request, then an option of
       length 0; SYN+ACK starting with an option of length 0 followed by MSS,
       TS, WS and a kind 34 cookie: mss fwd 1460, rev null; tcpopt null;
       tfo synkind 34, ack 1001, but no cookie found on the SYN+ACK (the
       walk stopped at the bad length).
    2. 51002 v6: SYN with an option of length 1 before MSS; SYN+ACK with a
       TS whose length overruns the header: nothing found.
    3. 51003 v4: SYN with a data offset of 15 but only 20 bytes of header
       captured (options clipped to the capture), then a normal SYN+ACK.
    4. 51004 v4: SYN whose options end with a kind byte and no length byte
       (kind 2 as the last byte), SYN+ACK with EOL then garbage.
    """
    tr = Trace()
    t = tr.flow()
    s = session(False, 51001, 80)
    handshake(tr, s, t, [pg.opt_mss(1460), pg.opt_tfo(b""),
                         pg.opt_raw(8, length=0)],
              [pg.opt_raw(99, length=0), pg.opt_mss(1380), pg.opt_ts(5, 1),
               pg.opt_ws(7), pg.opt_tfo(COOKIE8)])
    t = tr.flow()
    s = session(True, 51002, 80)
    handshake(tr, s, t, [pg.opt_raw(3, length=1), pg.opt_mss(1440)],
              [pg.opt_nop(), pg.opt_nop(), pg.opt_raw(8, b"\x00" * 8, length=40)])
    t = tr.flow()
    s = session(False, 51003, 80)
    tr.add(t, s.seg(True, "S", doff=15), caplen=40)
    tr.add(t + 0.01, s.seg(False, "SA", options=[pg.opt_mss(1400)]))
    tr.add(t + 0.02, s.seg(True, "A"))
    t = tr.flow()
    s = session(False, 51004, 80)
    handshake(tr, s, t, [pg.opt_nop(), pg.opt_nop(), pg.opt_nop(), b"\x02"],
              [pg.opt_eol(), pg.opt_mss(1400), pg.opt_sackperm()])
    return tr.cap


# --------------------------------------------------------------------------
# mixed.pcap (all chains at once)


def make_mixed():
    """All chains together, to see them side by side and check that a flow
    completed by one chain is still seen whole by the others.
    1. 52001 v4 TCP: SYN with ECE+CWR, dscp 10, not-ECT, the evil bit, MSS
       1460, SACK-permitted, TS, WS and a kind 34 cookie request; SYN+ACK
       with ECE, dscp 0, MSS 1400, the same options and an 8-byte cookie;
       forward data dscp 12 ECT0 evil, reverse data dscp 12 CE; FIN both
       ways: the tcp chain completes the flow.
    2. 52002 v6 UDP DNS: query, valid response with ECT1, dscp 46 and a zero
       checksum: the dns chain completes the flow.
    3. 52003 v4 TCP: SYN with MSS 1460, ICMPv4 port unreachable from the
       server quoting it: the icmp chain completes the flow.
    4. 52004 v4 TCP: SYN with an option of length 0, RST+ACK from the server.
    """
    tr = Trace()
    t = tr.flow()
    s = session(False, 52001, 80)
    syn_o = [pg.opt_mss(1460), pg.opt_sackperm(), pg.opt_ts(1, 0),
             pg.opt_nop(), pg.opt_ws(7), pg.opt_tfo(b"")]
    sa_o = [pg.opt_mss(1400), pg.opt_sackperm(), pg.opt_ts(9, 1),
            pg.opt_nop(), pg.opt_ws(5), pg.opt_tfo(COOKIE8)]
    tr.add(t, s.seg(True, "SEC", options=syn_o,
                    ip_opts={"tos": tos(10, NOT_ECT), "evil": True}))
    tr.add(t + 0.01, s.seg(False, "SAE", options=sa_o,
                           ip_opts={"tos": tos(0, NOT_ECT)}))
    tr.add(t + 0.02, s.seg(True, "A"))
    tr.add(t + 0.03, s.seg(True, "PA", b"request",
                           ip_opts={"tos": tos(12, ECT0), "evil": True}))
    tr.add(t + 0.04, s.seg(False, "PA", b"response",
                           ip_opts={"tos": tos(12, CE)}))
    close(tr, s, t + 0.05)
    t = tr.flow()
    tr.add(t, pg.udp_packet(C6, S6, 52002, 53, payload=query(1, True)))
    tr.add(t + 0.01, pg.udp_packet(S6, C6, 53, 52002, payload=answer(1, True),
                                   checksum=0,
                                   ip_opts={"tc": tos(46, ECT1)}))
    t = tr.flow()
    syn = pg.tcp_packet(C4, S4, 52003, 80, flags="S", seq=100,
                        options=[pg.opt_mss(1460)])
    tr.add(t, syn)
    tr.add(t + 0.01, pg.ip(pg.icmp4_error(3, 3, syn), S4, C4, pg.PROTO_ICMP))
    t = tr.flow()
    s = session(False, 52004, 80)
    tr.add(t, s.seg(True, "S", options=[pg.opt_raw(2, length=0)]))
    tr.add(t + 0.01, s.seg(False, "RA"))
    return tr.cap


CAPTURES = {
    "tcp.pcap": make_tcp,
    "ecn.pcap": make_ecn,
    "dscp.pcap": make_dscp,
    "evilbit.pcap": make_evilbit,
    "icmp.pcap": make_icmp,
    "mss.pcap": make_mss,
    "tcpopt.pcap": make_tcpopt,
    "tfo.pcap": make_tfo,
    "udp.pcap": make_udp,
    "dns.pcap": make_dns,
    "malformed.pcap": make_malformed,
    "mixed.pcap": make_mixed,
}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0].startswith("-"):
        sys.stdout.write(__doc__)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    outdir = argv[0]
    os.makedirs(outdir, exist_ok=True)
    for name, make in CAPTURES.items():
        cap = make()
        size = cap.save(os.path.join(outdir, name))
        print("%-16s %3d packets %6d bytes" % (name, len(cap), size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
