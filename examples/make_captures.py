#!/usr/bin/env python3
"""Write the captures of the example chains into examples/.

    python3 examples/make_captures.py [OUTDIR]      (default: this folder)

ttl.pcap      TTL / hop limit changing within flows        (ttl.lua)
retrans.pcap  TCP retransmissions, a sequence number wrap   (retrans.lua)
sni.pcap      TLS ClientHellos, some broken on purpose      (sni.lua)
ecn.pcap      ECN negotiation with five servers             (ecn_table.sh/.py)
dns_names.pcap  DNS over UDP and TCP, answered or not, garbage  (dns_names.lua)

Every packet is built byte by byte with tests/tools/pcapgen.py (standard
library only), so running this twice gives identical files. Addresses are
from the documentation ranges, timestamps start at 1500000000 (2017-07-14
02:40:00 UTC), and every capture is taken on the client, so the client's
packets are the forward direction. examples/sample.pcap is made by
tests/tools/make_captures.py --sample.
"""

import hashlib
import os
import struct
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "tools"))

import pcapgen as pg  # noqa: E402

T0 = 1500000000
CLIENT4, CLIENT6 = "192.0.2.10", "2001:db8:10::10"


def at(rel):
    """(seconds, microseconds) for ``rel`` seconds after T0."""
    micros = int(round(rel * 1000000))
    return (T0 + micros // 1000000, micros % 1000000)


def eth(packet):
    """Ethernet frame with MACs derived from the IP addresses, padded to 60."""
    if packet[0] >> 4 == 4:
        src, dst = packet[12:16], packet[16:20]
    else:
        src, dst = packet[8:24], packet[24:40]

    def mac(a):
        return b"\x02" + hashlib.sha256(a).digest()[:5]
    return pg.ether(packet, src=mac(src), dst=mac(dst), pad=True)


def syn_opts(tsval, tsecr=0):
    return [pg.opt_mss(1460), pg.opt_sackperm(), pg.opt_ts(tsval, tsecr),
            pg.opt_nop(), pg.opt_ws(7)]


class Cap:
    """A capture whose packets are added at times relative to ``base``."""

    def __init__(self):
        self.cap = pg.Capture()

    def add(self, rel, packet):
        self.cap.add(at(rel), eth(packet))

    def done(self):
        self.cap.records.sort(key=lambda r: r[0])
        return self.cap


# --------------------------------------------------------------------------
# ttl.pcap


def make_ttl():
    """Flows 10 s apart.

    1. TCP/IPv4 192.0.2.10:40100 -> 198.51.100.20:80. The client sends with
       TTL 64. The server's packets arrive with TTL 52, then (a route
       change) 49: ttl_min_rev 49, ttl_max_rev 52.
    2. UDP/IPv6 2001:db8:10::10:50000 -> 2001:db8:53::53:53, hop limit 64
       out and 57 back: min = max in each direction.
    3. ICMPv4 echo 192.0.2.10 -> 203.0.113.1. The first request leaves with
       TTL 1 and a router (192.0.2.1) answers with time exceeded, TTL 255:
       the error joins the echo flow in the reverse direction. The second
       request (TTL 64) is answered by the target with TTL 117 (a host that
       starts at 128). ttl_min_fwd 1, ttl_max_fwd 64, ttl_min_rev 117,
       ttl_max_rev 255.
    """
    c = Cap()
    s = pg.TcpSession(CLIENT4, "198.51.100.20", 40100, 80,
                      cisn=0x01000000, sisn=0x02000000)
    req = b"GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n"
    c.add(0.000, s.seg(True, "S", options=syn_opts(1)))
    c.add(0.030, s.seg(False, "SA", options=syn_opts(2, 1), ip_opts={"ttl": 52}))
    c.add(0.031, s.seg(True, "A"))
    c.add(0.032, s.seg(True, "PA", req))
    c.add(0.062, s.seg(False, "A", ip_opts={"ttl": 52}))
    c.add(0.070, s.seg(False, "PA", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                       ip_opts={"ttl": 49}))
    c.add(0.071, s.seg(True, "FA"))
    c.add(0.101, s.seg(False, "FA", ip_opts={"ttl": 49}))
    c.add(0.102, s.seg(True, "A"))

    q = pg.dns_message(0x5151, "www.example.com", 28)
    r = pg.dns_message(0x5151, "www.example.com", 28, response=True,
                       answers=[(28, 300, pg.addr_bytes("2001:db8:80::80"))])
    c.add(10.000, pg.udp_packet(CLIENT6, "2001:db8:53::53", 50000, 53, payload=q,
                                ip_opts={"hlim": 64}))
    c.add(10.012, pg.udp_packet("2001:db8:53::53", CLIENT6, 53, 50000, payload=r,
                                ip_opts={"hlim": 57}))

    data = bytes(range(32))
    probe = pg.ip(pg.icmp4_echo(0x0abc, 1, data), CLIENT4, "203.0.113.1",
                  pg.PROTO_ICMP, ttl=1, ident=0x1001)
    c.add(20.000, probe)
    c.add(20.002, pg.ip(pg.icmp4_error(11, 0, probe), "192.0.2.1", CLIENT4,
                        pg.PROTO_ICMP, ttl=255, ident=0x2001))
    c.add(21.000, pg.ip(pg.icmp4_echo(0x0abc, 2, data), CLIENT4, "203.0.113.1",
                        pg.PROTO_ICMP, ttl=64, ident=0x1002))
    c.add(21.040, pg.ip(pg.icmp4_echo(0x0abc, 2, data, reply=True), "203.0.113.1",
                        CLIENT4, pg.PROTO_ICMP, ttl=117, ident=0x3001))
    return c.done()


# --------------------------------------------------------------------------
# retrans.pcap


def make_retrans():
    """Flows 10 s apart.

    1. TCP/IPv4 192.0.2.10:40200 -> 198.51.100.30:80. The client sends
       three 100-byte segments; the second is lost beyond the capture
       point, the server acknowledges the first twice, and the client sends
       the second again: retrans_fwd 1. The server's 400-byte answer is
       sent again after a timeout: retrans_rev 1. The FIN that is sent
       twice carries no payload and does not count.
    2. TCP/IPv6 2001:db8:10::10:40201 -> 2001:db8:80::80:443, client ISN
       just below 2^32: its second segment's sequence number wraps to a
       small number. Nothing is sent twice: 0 and 0.
    3. TCP/IPv4 192.0.2.10:40202 -> 198.51.100.31:22, seen from the middle
       of the connection (no SYN): the first segment sets where the stream
       is, a later copy of it counts: retrans_fwd 1, retrans_rev 0.
    4. UDP/IPv4 192.0.2.10:40203 -> 198.51.100.53:53: not TCP, both null.
    """
    c = Cap()
    s = pg.TcpSession(CLIENT4, "198.51.100.30", 40200, 80,
                      cisn=0x10000000, sisn=0x20000000)
    c.add(0.000, s.seg(True, "S", options=syn_opts(1)))
    c.add(0.020, s.seg(False, "SA", options=syn_opts(2, 1)))
    c.add(0.021, s.seg(True, "A"))
    seg = [pg.filler(100, "seg%d" % i) for i in range(3)]
    seq2 = s.nxt[True] + 100
    c.add(0.022, s.seg(True, "PA", seg[0]))
    c.add(0.023, s.seg(True, "PA", seg[1]))
    c.add(0.024, s.seg(True, "PA", seg[2]))
    first_ack = s.nxt[True] - 200
    c.add(0.042, s.seg(False, "A", ack=first_ack))
    c.add(0.044, s.seg(False, "A", ack=first_ack))
    c.add(0.045, s.seg(True, "PA", seg[1], seq=seq2))         # retransmission
    c.add(0.065, s.seg(False, "A"))
    answer_seq = s.nxt[False]
    answer = pg.filler(400, "answer")
    c.add(0.070, s.seg(False, "PA", answer))
    c.add(0.300, s.seg(False, "PA", answer, seq=answer_seq))  # retransmission
    c.add(0.301, s.seg(True, "A"))
    fin_seq = s.nxt[True]
    c.add(0.310, s.seg(True, "FA"))
    c.add(0.600, s.seg(True, "FA", seq=fin_seq))              # FIN again: no payload
    c.add(0.620, s.seg(False, "FA"))
    c.add(0.621, s.seg(True, "A"))

    w = pg.TcpSession(CLIENT6, "2001:db8:80::80", 40201, 443,
                      cisn=0xFFFFFF00, sisn=0x30000000)
    c.add(10.000, w.seg(True, "S", options=syn_opts(3)))
    c.add(10.020, w.seg(False, "SA", options=syn_opts(4, 3)))
    c.add(10.021, w.seg(True, "A"))
    c.add(10.022, w.seg(True, "PA", pg.filler(200, "w1")))   # seq 0xffffff01
    c.add(10.023, w.seg(True, "PA", pg.filler(200, "w2")))   # seq 0x000000c9
    c.add(10.043, w.seg(False, "PA", pg.filler(300, "w3")))
    c.add(10.044, w.seg(True, "A"))

    m = pg.TcpSession(CLIENT4, "198.51.100.31", 40202, 22,
                      cisn=0x41000000, sisn=0x51000000)
    mid = m.nxt[True]
    c.add(20.000, m.seg(True, "PA", pg.filler(48, "m1")))
    c.add(20.020, m.seg(False, "PA", pg.filler(64, "m2")))
    c.add(20.021, m.seg(True, "PA", pg.filler(48, "m3")))
    c.add(20.250, m.seg(True, "PA", pg.filler(48, "m1"), seq=mid))  # retransmission
    c.add(20.270, m.seg(False, "A"))

    q = pg.dns_message(0x7777, "www.example.com", 1)
    c.add(30.000, pg.udp_packet(CLIENT4, "198.51.100.53", 40203, 53, payload=q))
    return c.done()


# --------------------------------------------------------------------------
# sni.pcap


def tls_ext(kind, body):
    return struct.pack("!HH", kind, len(body)) + body


def vec8(b):
    return bytes([len(b)]) + b


def vec16(b):
    return struct.pack("!H", len(b)) + b


def client_hello(sni=None, seed="hello", ext_override=None):
    """A TLS 1.3 ClientHello in a TLS record, as a browser would start it.
    ``sni`` adds a server_name extension; ``ext_override`` replaces the whole
    extensions block (to build broken ones)."""
    exts = b""
    if sni is not None:
        name = sni.encode()
        exts += tls_ext(0, vec16(b"\x00" + vec16(name)))
    exts += tls_ext(10, vec16(struct.pack("!HHH", 0x001d, 0x0017, 0x0018)))
    exts += tls_ext(13, vec16(struct.pack("!HHHH", 0x0403, 0x0804, 0x0401, 0x0201)))
    exts += tls_ext(16, vec16(vec8(b"h2") + vec8(b"http/1.1")))
    exts += tls_ext(43, vec8(struct.pack("!HH", 0x0304, 0x0303)))
    exts += tls_ext(51, vec16(struct.pack("!HH", 0x001d, 32) + pg.filler(32, seed + "ks")))
    if ext_override is not None:
        exts = ext_override
    suites = struct.pack("!HHHHH", 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f)
    body = (struct.pack("!H", 0x0303) + pg.filler(32, seed + "random") +
            vec8(pg.filler(32, seed + "sid")) + vec16(suites) + vec8(b"\x00") +
            vec16(exts))
    handshake = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack("!H", len(handshake)) + handshake


def tls_flow(c, t, client, server, cport, payloads, sisn):
    """Handshake, the client's payload segments, the server's ACK, RST."""
    s = pg.TcpSession(client, server, cport, 443, cisn=0x60000000 + cport,
                      sisn=sisn)
    c.add(t, s.seg(True, "S", options=syn_opts(cport)))
    c.add(t + 0.020, s.seg(False, "SA", options=syn_opts(7, cport)))
    c.add(t + 0.021, s.seg(True, "A"))
    for i, p in enumerate(payloads):
        c.add(t + 0.022 + i * 0.001, s.seg(True, "PA", p))
    c.add(t + 0.045, s.seg(False, "A"))
    c.add(t + 0.050, s.seg(False, "RA"))


def make_sni():
    """Flows 10 s apart, each a TCP connection to port 443 (but the last):

    1. IPv4, a ClientHello for www.example.com: tls_hello true,
       tls_sni "www.example.com".
    2. IPv6, a ClientHello for pathobs.example.net.
    3. IPv4, a ClientHello without server_name (a client that connects to
       an address): tls_hello true, tls_sni null.
    4. IPv4, plain HTTP sent to port 443: tls_hello false, tls_sni null.
    5. IPv4, a ClientHello cut after 60 bytes (the rest, with the name,
       would follow in the next segment): tls_hello true, tls_sni null.
    6. IPv4, a ClientHello whose server_name extension claims more bytes
       than there are: tls_hello true, tls_sni null (and no chain error).
    7. IPv4, a ClientHello whose name list holds a name of another type
       first, then the host name: tls_sni "second.example.org".
    8. UDP/IPv4 to port 443 (not TCP): both null.
    """
    c = Cap()
    tls_flow(c, 0.0, CLIENT4, "203.0.113.80", 40301,
             [client_hello("www.example.com", "a")], 0x70000000)
    tls_flow(c, 10.0, CLIENT6, "2001:db8:80::80", 40302,
             [client_hello("pathobs.example.net", "b")], 0x71000000)
    tls_flow(c, 20.0, CLIENT4, "203.0.113.81", 40303,
             [client_hello(None, "c")], 0x72000000)
    tls_flow(c, 30.0, CLIENT4, "203.0.113.82", 40304,
             [b"GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n"], 0x73000000)
    whole = client_hello("split.example.com", "e")
    tls_flow(c, 40.0, CLIENT4, "203.0.113.83", 40305, [whole[:60], whole[60:]],
             0x74000000)
    liar = tls_ext(0, vec16(b"\x00" + struct.pack("!H", 200) + b"short.example"))
    tls_flow(c, 50.0, CLIENT4, "203.0.113.84", 40306,
             [client_hello(None, "f", ext_override=liar)], 0x75000000)
    names = b"\x07" + vec16(b"opaque") + b"\x00" + vec16(b"second.example.org")
    tls_flow(c, 60.0, CLIENT4, "203.0.113.85", 40307,
             [client_hello(None, "g", ext_override=tls_ext(0, vec16(names)))],
             0x76000000)
    c.add(70.0, pg.udp_packet(CLIENT4, "203.0.113.86", 40308, 443,
                              payload=pg.filler(1200, "quic")))
    return c.done()


# --------------------------------------------------------------------------
# ecn.pcap

ECT0, CE = 2, 3


def ecn_flow(c, t, server, cport, synack, data_tc=ECT0, rev_tcs=(ECT0,),
             answered=True):
    """A connection that asks for ECN (SYN with ECE and CWR). ``synack`` is
    the flags of the server's answer; ``data_tc`` marks the client's data,
    ``rev_tcs`` the server's data segments, one segment per entry."""
    client = CLIENT6 if ":" in server else CLIENT4
    s = pg.TcpSession(client, server, cport, 443, cisn=0x80000000 + cport,
                      sisn=0x90000000 + cport)
    c.add(t, s.seg(True, "SEC", options=syn_opts(cport)))
    if not answered:
        syn_seq = s.nxt[True] - 1
        c.add(t + 1.0, s.seg(True, "SEC", options=syn_opts(cport + 1000), seq=syn_seq))
        return
    c.add(t + 0.020, s.seg(False, synack, options=syn_opts(9, cport)))
    c.add(t + 0.021, s.seg(True, "A"))
    c.add(t + 0.022, s.seg(True, "PA", pg.filler(120, "q%d" % cport),
                           ip_opts={"tos": data_tc}))
    for i, tc in enumerate(rev_tcs):
        c.add(t + 0.045 + i * 0.001, s.seg(False, "PA", pg.filler(200, "r%d%d" % (cport, i)),
                                            ip_opts={"tos": tc}))
    c.add(t + 0.050, s.seg(True, "FA"))
    c.add(t + 0.070, s.seg(False, "FA"))
    c.add(t + 0.071, s.seg(True, "A"))


def make_ecn():
    """Connections that ask for ECN, 10 s apart:

    1. 203.0.113.10: SYN+ACK with ECE: negotiated; its data is ECT(0).
    2. 203.0.113.11: plain SYN+ACK: not negotiated, data unmarked.
    3. 2001:db8:80::1: negotiated; one data segment ECT(0), one CE.
    4. 203.0.113.12: negotiated, but its data arrives unmarked (a path that
       clears the ECN bits).
    5. 203.0.113.13: two SYNs with ECN, no answer; then
    6. 203.0.113.13 again without asking for ECN: connects, not negotiated.
    """
    c = Cap()
    ecn_flow(c, 0.0, "203.0.113.10", 40401, "SAE")
    ecn_flow(c, 10.0, "203.0.113.11", 40402, "SA", rev_tcs=(0,))
    ecn_flow(c, 20.0, "2001:db8:80::1", 40403, "SAE", rev_tcs=(ECT0, CE))
    ecn_flow(c, 30.0, "203.0.113.12", 40404, "SAE", rev_tcs=(0,))
    ecn_flow(c, 40.0, "203.0.113.13", 40405, "SAE", answered=False)
    s = pg.TcpSession(CLIENT4, "203.0.113.13", 40406, 443, cisn=0x81000000,
                      sisn=0x91000000)
    c.add(43.0, s.seg(True, "S", options=syn_opts(40406)))
    c.add(43.020, s.seg(False, "SA", options=syn_opts(10, 40406)))
    c.add(43.021, s.seg(True, "A"))
    c.add(43.022, s.seg(True, "PA", pg.filler(120, "plain")))
    c.add(43.045, s.seg(False, "PA", pg.filler(200, "plainr")))
    c.add(43.050, s.seg(True, "FA"))
    c.add(43.070, s.seg(False, "FA"))
    c.add(43.071, s.seg(True, "A"))
    return c.done()


# --------------------------------------------------------------------------
# dns_names.pcap

RESOLVER4, RESOLVER6 = "198.51.100.53", "2001:db8:53::53"
A, SOA, CNAME, TXT, AAAA = 1, 6, 5, 16, 28


def dns_name(name):
    """A name in wire form, without compression."""
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\x00"


def dns_rr(owner, rtype, ttl, rdata):
    """A resource record of class IN; ``owner`` in wire form (a name or a
    2-byte compression pointer)."""
    return owner + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def dns_msg(ident, flags, qname, qtype, answers=(), authority=()):
    """A DNS message with one question (class IN) and the given records
    (already in wire form)."""
    return (struct.pack("!HHHHHH", ident, flags, 1, len(answers), len(authority), 0) +
            dns_name(qname) + struct.pack("!HH", qtype, 1) + b"".join(answers) +
            b"".join(authority))


QNAME_PTR = b"\xc0\x0c"   # a pointer to the question's name, at offset 12
QUERY, REPLY, NXDOMAIN = 0x0100, 0x8180, 0x8183


def make_dns_names():
    """Flows 10 s apart, from the client to a resolver (port 53) but the last:

    1. UDP/IPv4, A www.example.com: NOERROR, two A records: dns_qname
       "www.example.com.", dns_qtype "A", dns_rcode "NOERROR",
       dns_answers 2, dns_addrs ["192.0.2.80", "192.0.2.81"].
    2. UDP/IPv6, AAAA www.example.org: a CNAME to web.example.net, whose
       AAAA record's owner is a compression pointer into the CNAME's data:
       dns_answers 2, dns_addrs ["2001:db8:80::80"].
    3. UDP/IPv4, A nope.example.com: NXDOMAIN with the zone's SOA in the
       authority section: dns_answers 0, dns_addrs null.
    4. TCP/IPv4, TXT example.com over TCP (each message after its 2-byte
       length): NOERROR, one TXT record: dns_addrs null.
    5. UDP/IPv4, A www.example.net, never answered: dns_rcode null.
    6. UDP/IPv4 to port 53, bytes that are not DNS: dns_qname null,
       dns_error says why, dns_bad holds their first 16 bytes in hex.
    7. UDP/IPv4 to port 123 (NTP): not DNS, every field null.
    """
    c = Cap()
    q = dns_msg(0x0a01, QUERY, "www.example.com", A)
    r = dns_msg(0x0a01, REPLY, "www.example.com", A, answers=[
        dns_rr(QNAME_PTR, A, 300, pg.addr_bytes("192.0.2.80")),
        dns_rr(QNAME_PTR, A, 300, pg.addr_bytes("192.0.2.81"))])
    c.add(0.000, pg.udp_packet(CLIENT4, RESOLVER4, 50001, 53, payload=q))
    c.add(0.015, pg.udp_packet(RESOLVER4, CLIENT4, 53, 50001, payload=r))

    q = dns_msg(0x0a02, QUERY, "www.example.org", AAAA)
    cname = dns_rr(QNAME_PTR, CNAME, 3600, dns_name("web.example.net"))
    target = 12 + len(dns_name("www.example.org")) + 4 + len(cname) - len(dns_name("web.example.net"))
    r = dns_msg(0x0a02, REPLY, "www.example.org", AAAA, answers=[
        cname, dns_rr(struct.pack("!H", 0xC000 | target), AAAA, 60,
                      pg.addr_bytes("2001:db8:80::80"))])
    c.add(10.000, pg.udp_packet(CLIENT6, RESOLVER6, 50002, 53, payload=q))
    c.add(10.020, pg.udp_packet(RESOLVER6, CLIENT6, 53, 50002, payload=r))

    q = dns_msg(0x0a03, QUERY, "nope.example.com", A)
    soa = (dns_name("ns.example.com") + dns_name("hostmaster.example.com") +
           struct.pack("!IIIII", 2017071401, 7200, 3600, 1209600, 300))
    r = dns_msg(0x0a03, NXDOMAIN, "nope.example.com", A,
                authority=[dns_rr(b"\xc0\x11", SOA, 300, soa)])  # example.com at 17
    c.add(20.000, pg.udp_packet(CLIENT4, RESOLVER4, 50003, 53, payload=q))
    c.add(20.011, pg.udp_packet(RESOLVER4, CLIENT4, 53, 50003, payload=r))

    s = pg.TcpSession(CLIENT4, RESOLVER4, 50004, 53, cisn=0x0d000000, sisn=0x0e000000)
    q = dns_msg(0x0a04, QUERY, "example.com", TXT)
    r = dns_msg(0x0a04, REPLY, "example.com", TXT, answers=[
        dns_rr(QNAME_PTR, TXT, 3600, b"\x0bv=spf1 -all")])
    c.add(30.000, s.seg(True, "S", options=syn_opts(30)))
    c.add(30.010, s.seg(False, "SA", options=syn_opts(31, 30)))
    c.add(30.011, s.seg(True, "A"))
    c.add(30.012, s.seg(True, "PA", struct.pack("!H", len(q)) + q))
    c.add(30.030, s.seg(False, "PA", struct.pack("!H", len(r)) + r))
    c.add(30.031, s.seg(True, "FA"))
    c.add(30.040, s.seg(False, "FA"))
    c.add(30.041, s.seg(True, "A"))

    q = dns_msg(0x0a05, QUERY, "www.example.net", A)
    c.add(40.000, pg.udp_packet(CLIENT4, RESOLVER4, 50005, 53, payload=q))

    c.add(50.000, pg.udp_packet(CLIENT4, RESOLVER4, 50006, 53,
                                payload=b"hello, resolver? " + bytes(range(8))))

    ntp = b"\x23" + bytes(47)   # an NTPv4 client request
    c.add(60.000, pg.udp_packet(CLIENT4, "203.0.113.123", 50007, 123, payload=ntp))
    return c.done()


CAPTURES = [
    ("ttl.pcap", make_ttl),
    ("retrans.pcap", make_retrans),
    ("sni.pcap", make_sni),
    ("ecn.pcap", make_ecn),
    ("dns_names.pcap", make_dns_names),
]


def main(argv):
    outdir = argv[1] if len(argv) > 1 else HERE
    os.makedirs(outdir, exist_ok=True)
    for name, make in CAPTURES:
        cap = make()
        path = os.path.join(outdir, name)
        size = cap.save(path)
        if pg.read_capture(path)[1] != cap.records:
            raise SystemExit("%s: read back differs from what was written" % path)
        print("%-24s %3d packets %6d bytes" % (path, len(cap), size))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
