#!/usr/bin/env python3
"""test_capture.py - capture mechanics: frames of any size on every source type, stdout holds records only.

Usage: test_capture.py PATHOBS
Captures are made here with tests/tools/pcapgen.py: a loopback-like transfer
with 65549-byte frames (caplen 65549), as pcap and pcapng, read from a path,
pcap:/pcapfile: URIs, standard input and a FIFO; Linux cooked captures in a
gzip-compressed pcap (libtrace reads it, link.c decodes it); captures without
one IP packet; VLAN frames for pathobs.link. Every run's stdout must parse as
JSON lines. Prints one line per check and "N passed, N failed".
"""
import gzip
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from checks import check, eq, report  # noqa: E402
import pcapgen as pg  # noqa: E402

PATHOBS = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="pathobs-capture-")


def path(name):
    return os.path.join(TMP, name)


class Run:
    def __init__(self, p):
        self.rc = p.returncode
        self.out = p.stdout.decode("utf-8", "replace")
        self.err = p.stderr.decode("utf-8", "replace")
        # stdout holds records and nothing else, in every run
        self.records = [json.loads(line) for line in self.out.splitlines()]


def run(*args, stdin=None, timeout=60):
    return Run(subprocess.run([PATHOBS, *args], input=stdin, capture_output=True, timeout=timeout,
                              stdin=None if stdin is not None else subprocess.DEVNULL))


def messages(err):
    return [l for l in err.splitlines() if l.strip()]


# ---- a loopback transfer with 64 KiB frames ---------------------------------
# Linux loopback: Ethernet with zero MACs, MTU 65536, so a full data segment is
# a 65535-byte IP packet in a 65549-byte frame.
CLIENT, SERVER = "127.0.0.1", "127.0.0.2"
BIG_PAYLOAD = 65535 - 20 - 20
NSEG = 12


def loopback_transfer():
    cap = pg.Capture(linktype=pg.LINKTYPE_ETHERNET, snaplen=262144)
    s = pg.TcpSession(CLIENT, SERVER, 41000, 8000)
    z = "00:00:00:00:00:00"
    t = 1700000000.0
    pkts = [(True, s.seg(True, "S")), (False, s.seg(False, "SA")), (True, s.seg(True, "A")),
            (True, s.seg(True, "PA", payload=b"GET /big HTTP/1.0\r\n\r\n"))]
    for i in range(NSEG):
        pkts.append((False, s.seg(False, "A", payload=pg.filler(BIG_PAYLOAD, seed=b"%d" % i))))
        if i % 2:
            pkts.append((True, s.seg(True, "A")))
    pkts += [(False, s.seg(False, "FA")), (True, s.seg(True, "FA")), (False, s.seg(False, "A"))]
    want = {"pkt_fwd": 0, "pkt_rev": 0, "oct_fwd": 0, "oct_rev": 0}
    for i, (fwd, p) in enumerate(pkts):
        cap.add(t + i * 0.001, pg.ether(p, src=z, dst=z, ethertype=pg.ETH_IPV4))
        d = "fwd" if fwd else "rev"
        want["pkt_" + d] += 1
        want["oct_" + d] += len(p)
    return cap, want


CAP, WANT = loopback_transfer()
BIG_PCAP, BIG_PCAPNG = path("lo-big.pcap"), path("lo-big.pcapng")
CAP.save(BIG_PCAP)
CAP.save(BIG_PCAPNG)


def flow_counts(recs):
    eq(len(recs), 1, "one flow")
    r = recs[0]
    eq((r["sip"], r["sp"], r["dip"], r["dp"]), (CLIENT, 41000, SERVER, 8000), "the client is forward")
    return {k: r[k] for k in WANT}


@check("the generated capture holds 65549-byte frames (caplen 65549 in the record headers)")
def _():
    data = open(BIG_PCAP, "rb").read()
    caplens, pos = [], 24
    while pos < len(data):
        caplen = struct.unpack("<I", data[pos + 8:pos + 12])[0]
        caplens.append(caplen)
        pos += 16 + caplen
    eq(max(caplens), 65549, "largest caplen")
    eq(caplens.count(65549), NSEG, "full-size frames")


@check("65549-byte frames read whole from pcap and pcapng: exact packet and octet counts")
def _():
    for src in (BIG_PCAP, BIG_PCAPNG, "pcap:" + BIG_PCAP, "pcapfile:" + BIG_PCAP, "pcap:" + BIG_PCAPNG):
        r = run("--stats", path("s.json"), src)
        eq((r.rc, [m for m in messages(r.err) if "packets" not in m]), (0, []), "%s: exit, messages" % src)
        eq(flow_counts(r.records), WANT, "%s: counts" % src)
        s = json.load(open(path("s.json")))
        eq((s["packets"], s["non_ip"], s["short"]), (len(CAP), 0, 0), "%s: counters" % src)


@check("65549-byte frames from standard input and a FIFO, pcap and pcapng (sniffed like a file)")
def _():
    for fname in (BIG_PCAP, BIG_PCAPNG):
        data = open(fname, "rb").read()
        r = run("-q", "-", stdin=data)
        eq((r.rc, r.err), (0, ""), "%s on stdin" % fname)
        eq(flow_counts(r.records), WANT, "%s on stdin: counts" % fname)
        fifo = path("fifo")
        if os.path.exists(fifo):
            os.unlink(fifo)
        os.mkfifo(fifo)

        def feed():
            with open(fifo, "wb") as f:
                f.write(data)
        t = threading.Thread(target=feed)
        t.start()
        r = run("-q", fifo)
        t.join()
        eq((r.rc, r.err), (0, ""), "%s through a FIFO" % fname)
        eq(flow_counts(r.records), WANT, "%s through a FIFO: counts" % fname)


@check("-f on 65549-byte frames (pcap, pcapng, stdin): libpcap's filter, nothing lost")
def _():
    for args, stdin in (([BIG_PCAP], None), ([BIG_PCAPNG], None), (["-"], open(BIG_PCAPNG, "rb").read())):
        r = run("-q", "-f", "tcp port 8000", *args, stdin=stdin)
        eq((r.rc, r.err), (0, ""), "exit, messages %s" % args)
        eq(flow_counts(r.records), WANT, "counts %s" % args)
        r = run("-q", "-f", "udp", *args, stdin=stdin)
        eq((r.rc, r.records), (0, []), "a filter nothing passes %s" % args)


@check("-f on a snapped capture: tcpdump's length semantics (the wire length)")
def _():
    cap = pg.Capture(snaplen=96)
    s = pg.TcpSession("192.0.2.1", "192.0.2.2", 40000, 80)
    cap.add(1, pg.ether(s.seg(True, "S")))
    cap.add(2, pg.ether(s.seg(False, "SA")))
    cap.add(3, pg.ether(s.seg(True, "PA", payload=b"x" * 1400)))  # 1454 on the wire, 96 captured
    cap.save(path("snapped.pcap"))
    r = run("-q", "-f", "greater 1000", path("snapped.pcap"))
    eq(r.rc, 0, r.err)
    eq([(x["pkt_fwd"], x["pkt_rev"]) for x in r.records], [(1, 0)], "only the large frame passes")


@check("a compressed pcap of Linux cooked frames (ARPHRD 530): flows, and stdout and stderr clean")
def _():
    cap = pg.Capture(linktype=113)
    s = pg.TcpSession("10.0.0.1", "10.0.0.2", 40000, 80)

    def sll(pkt, proto=0x0800, arphrd=530):
        return struct.pack("!HHH8sH", 0, arphrd, 0, b"", proto) + pkt
    for i, (fc, fl) in enumerate([(True, "S"), (False, "SA"), (True, "A"), (False, "FA")]):
        cap.add(100 + i, sll(s.seg(fc, fl)))
    cap.add(110, sll(b"\x00" * 28, proto=0x0806))  # ARP: not IP
    cap.save(path("sll530.pcap.gz"))
    for args, stdin in (([path("sll530.pcap.gz")], None), (["-"], open(path("sll530.pcap.gz"), "rb").read())):
        r = run("--stats", path("s.json"), *args, stdin=stdin)
        eq(r.rc, 0, "exit status %s" % args)
        eq([m for m in messages(r.err) if "packets" not in m], [], "no library line %s" % args)
        eq([(x["sip"], x["pkt_fwd"], x["pkt_rev"]) for x in r.records], [("10.0.0.1", 2, 2)], "flow %s" % args)
        eq(json.load(open(path("s.json")))["non_ip"], 1, "the ARP frame %s" % args)


@check("what a library prints on standard output goes to stderr once, never into the records")
def _():
    chain = path("chatty.lua")
    with open(chain, "w") as f:  # C's printf, as libtrace 3 prints its diagnostics
        f.write("local ffi = require('ffi')\n"
                "pcall(ffi.cdef, 'int printf(const char *fmt, ...);')\n"
                "return { new_flow = function(rec, ip) ffi.C.printf('Unknown ARPHRD 00000212\\n') "
                "rec.x = 1 end }\n")
    for extra in ((), ("-o", "-")):
        r = run("-c", chain, *extra, BIG_PCAP)
        eq(r.rc, 0, r.err)
        eq([x.get("x") for x in r.records], [1], "the record, alone on stdout")
        lines = messages(r.err)
        eq([l for l in lines if "Unknown ARPHRD" in l], ["pathobs: libtrace: Unknown ARPHRD 00000212"],
           "the library line, once, with its prefix")
    # many packets, many flows: one line, and its count at the end
    cap = pg.Capture()
    for i in range(50):
        cap.add(i, pg.ether(pg.udp_packet("192.0.2.1", "192.0.2.2", 1000 + i, 53, payload=b"q")))
    cap.save(path("many.pcap"))
    r = run("-c", chain, "-o", path("out.jsonl"), path("many.pcap"))
    eq(r.rc, 0, r.err)
    eq(len(open(path("out.jsonl")).read().splitlines()), 50, "records in -o FILE")
    eq(r.out, "", "stdout with -o FILE")
    eq([l for l in messages(r.err) if "ARPHRD" in l],
       ["pathobs: libtrace: Unknown ARPHRD 00000212", "pathobs: libtrace: Unknown ARPHRD 00000212 (50 times)"],
       "once, then the count")


@check("a chain's print() and io.write() go to stderr as they are, every time, never into the records")
def _():
    chain = path("printer.lua")
    with open(chain, "w") as f:
        f.write("return { new_flow = function(rec, ip) print('flow', 1) io.write('w\\n') "
                "rec.x = 1 end }\n")
    cap = pg.Capture()
    for i in range(3):
        cap.add(i, pg.ether(pg.udp_packet("192.0.2.1", "192.0.2.2", 1000 + i, 53, payload=b"q")))
    cap.save(path("three.pcap"))
    r = run("-q", "-c", chain, path("three.pcap"))
    eq(r.rc, 0, r.err)
    eq([x.get("x") for x in r.records], [1, 1, 1], "records alone on stdout")
    eq(r.err.splitlines(), ["flow\t1", "w"] * 3, "each print and write, unprefixed")


@check("--stats /dev/stdout: the counters after the records on standard output, as before the guard")
def _():
    r = run("-q", "--stats", "/dev/stdout", BIG_PCAP)
    eq((r.rc, r.err), (0, ""), "exit, messages")
    eq([sorted(x)[:2] for x in r.records][-1], ["chain_errors", "dropped"], "the counters last")
    eq(len(r.records), 2, "one record, then the counters")


@check("a capture without one IP packet: a warning naming the link type, exit 0")
def _():
    cap = pg.Capture()
    for i in range(5):
        cap.add(i, pg.ether(pg.arp(1, "02:00:00:00:00:01", "192.0.2.1", "00:00:00:00:00:00", "192.0.2.2"),
                            ethertype=pg.ETH_ARP))
    cap.save(path("arp.pcap"))
    cap.save(path("arp.pcapng"))
    for src in (path("arp.pcap"), path("arp.pcapng")):
        r = run("-q", src)
        eq((r.rc, r.records), (0, []), src)
        eq(messages(r.err), ["pathobs: warning: no IP packet in 5 frames (link type 1, EN10MB)"], src)
    r = run("-q", BIG_PCAP)
    eq(r.err, "", "no warning when there are IP packets")


@check("a link-type field with FCS bits (Ethernet + 4-byte FCS): read, the FCS left out")
def _():
    pkt = pg.udp_packet("192.0.2.1", "192.0.2.2", 5000, 53, payload=b"q" * 10)
    cap = pg.Capture(linktype=0x24000001)  # FCS length 2 words, the F bit, Ethernet
    cap.add(1, pg.ether(pkt) + b"\xde\xad\xbe\xef")
    cap.save(path("fcs.pcap"))
    r = run("-q", path("fcs.pcap"))
    eq((r.rc, r.err), (0, ""), "exit, messages")
    eq([(x["pkt_fwd"], x["oct_fwd"]) for x in r.records], [(1, len(pkt))], "one packet, its IP length")


@check("a pcapng interface's if_fcslen on standard input and a FIFO: the FCS left out, as from a file")
def _():
    big = pg.udp_packet("10.0.0.1", "10.0.0.2", 1000, 2000, payload=pg.filler(50), ip_opts={"total_length": 0})
    small = pg.udp_packet("10.0.0.2", "10.0.0.1", 2000, 1000, payload=b"r")
    plain, fcs = pg.Capture(), pg.Capture(fcslen=4)
    for i, p in enumerate((big, small)):
        plain.add(1 + i, pg.ether(p))
        fcs.add(1 + i, pg.ether_fcs(pg.ether(p)))
    plain.save(path("nofcs.pcapng"), "pcapng")
    fcs.save(path("fcs.pcapng"), "pcapng")
    want = run("-q", path("nofcs.pcapng")).records
    eq(len(want), 1, "the flow without FCS")
    data = open(path("fcs.pcapng"), "rb").read()
    eq(run("-q", path("fcs.pcapng")).records, want, "from the file")
    eq(run("-q", "-", stdin=data).records, want, "from standard input")
    fifo = path("fcsfifo")
    os.mkfifo(fifo)
    t = threading.Thread(target=lambda: open(fifo, "wb").write(data))
    t.start()
    r = run("-q", fifo)
    t.join()
    eq(r.records, want, "through a FIFO")


@check("pathobs.link in a chain: VLAN id and MACs of Ethernet frames, nil for raw IP")
def _():
    chain = path("l2.lua")
    with open(chain, "w") as f:
        f.write("local link = require('pathobs.link')\n"
                "return { new_flow = function(rec, ip) rec.vlan = link.vlan(ip) "
                "rec.src_mac = link.src_mac(ip) rec.dst_mac = link.dst_mac(ip) end }\n")
    cap = pg.Capture()
    pkt = pg.udp_packet("192.0.2.1", "192.0.2.2", 5000, 53, payload=b"q")
    cap.add(1, pg.ether(pkt, src="02:00:00:00:00:01", dst="02:00:00:00:00:02", vlan=[7]))
    cap.save(path("vlan.pcap"))
    raw = pg.Capture(linktype=pg.LINKTYPE_RAW)
    raw.add(1, pkt)
    raw.save(path("raw.pcap"))
    for src in (path("vlan.pcap"), "-"):
        r = run("-q", "-c", "basic", "-c", chain, src,
                stdin=open(path("vlan.pcap"), "rb").read() if src == "-" else None)
        eq(r.rc, 0, r.err)
        eq([(x["vlan"], x["src_mac"], x["dst_mac"]) for x in r.records],
           [(7, "02:00:00:00:00:01", "02:00:00:00:00:02")], "Ethernet with a VLAN tag")
    with open(path("vlan.pcap"), "rb") as f:
        gz = gzip.compress(f.read())
    with open(path("vlan.pcap.gz"), "wb") as f:
        f.write(gz)
    r = run("-q", "-c", chain, path("vlan.pcap.gz"))
    eq([(x.get("vlan"), x.get("src_mac")) for x in r.records], [(7, "02:00:00:00:00:01")],
       "the same through libtrace (compressed)")
    r = run("-q", "-c", chain, path("raw.pcap"))
    eq((r.rc, [[k for k in ("vlan", "src_mac", "dst_mac") if k in x] for x in r.records]), (0, [[]]),
       "raw IP: no link fields")


@check("-B/--buffer-size: a usage error outside 64..2097151 KiB")
def _():
    for v in ("1", "63", "x", "2097152", "-5"):
        r = run("-B", v, BIG_PCAP)
        eq((r.rc, len(messages(r.err))), (2, 2), "-B %s" % v)
        assert "--buffer-size" in r.err, r.err
    r = run("-q", "--buffer-size", "1024", BIG_PCAP)
    eq(r.rc, 0, "a valid size with a file (no effect there)")


@check("-o /dev/stdout, /dev/fd/1 and --stats /dev/fd/1 write to standard output, not to the guard")
def _():
    for out in ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"):
        r = run("-q", "-o", out, BIG_PCAP)
        eq((r.rc, r.err, len(r.records)), (0, "", 1), "-o %s" % out)
    r = run("-q", "--stats", "/dev/fd/1", BIG_PCAP)
    eq((r.rc, r.err), (0, ""), "--stats /dev/fd/1")
    eq([sorted(x)[:2] for x in r.records][-1], ["chain_errors", "dropped"], "the counters last")


@check("a process a chain leaves running with our standard output does not hold pathobs at exit")
def _():
    chain = path("bg.lua")
    with open(chain, "w") as f:
        f.write("local started\nreturn { new_flow = function(rec)\n"
                "  if not started then started = true os.execute('sleep 5 &') end end }\n")
    import time
    t = time.monotonic()
    with open(path("bg.err"), "w") as err:  # the child keeps stderr: a file, not a pipe we wait on
        p = subprocess.Popen([PATHOBS, "-q", "-c", chain, BIG_PCAP], stdout=subprocess.PIPE,
                             stderr=err, stdin=subprocess.DEVNULL)
        out = p.stdout.read()  # the records' descriptor is not the child's: EOF at pathobs's exit
        rc = p.wait(timeout=30)
    took = time.monotonic() - t
    eq((rc, len(out.splitlines())), (0, 1), "exit status, records")
    assert took < 4, "pathobs waited for the child: %.1f s" % took


# ---- BIG TCP and jumbograms ----------------------------------------------------
# Linux BIG TCP: an IPv4 packet over 64 KiB has total length 0; an IPv6 one has
# payload length 0 and a Jumbo Payload option (RFC 2675) in a hop-by-hop header.
BIG = 100000  # bytes of IP packet


def big_tcp4(src, dst):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 1, 0x4000, 64, 6, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    tcp = struct.pack("!HHIIBBHHH", 40000, 80, 1, 1, 5 << 4, 0x18, 65535, 0, 0)
    return ip + tcp + b"x" * (BIG - len(ip) - len(tcp))


def jumbo6(src, dst):
    hbh = struct.pack("!BBBBI", 6, 0, 0xC2, 4, BIG - 40)
    ip = struct.pack("!IHBB16s16s", 6 << 28, 0, 0, 64, socket.inet_pton(socket.AF_INET6, src),
                     socket.inet_pton(socket.AF_INET6, dst))
    tcp = struct.pack("!HHIIBBHHH", 40000, 80, 1, 1, 5 << 4, 0x18, 65535, 0, 0)
    return ip + hbh + tcp + b"x" * (BIG - len(ip) - len(hbh) - len(tcp))


@check("BIG TCP over IPv4 (total length 0) and IPv6 jumbograms: ip.pkt_len is the packet's length, "
       "whole or cut by a snap length; octets are the captured bytes")
def _():
    chain = path("pktlen.lua")
    with open(chain, "w") as f:
        f.write("return { ip4 = function(rec, ip) rec.len = ip.pkt_len end,\n"
                "         ip6 = function(rec, ip) rec.len = ip.pkt_len end }\n")
    for name, pkt, sip in (("v4", big_tcp4("10.1.1.1", "10.1.1.2"), "10.1.1.1"),
                           ("v6", jumbo6("2001:db8::1", "2001:db8::2"), "2001:db8::1")):
        frame = pg.ether(pkt)
        for how, caplen in (("whole", None), ("cut", 128)):
            cap = pg.Capture(snaplen=262144)
            cap.add(1, frame, caplen=caplen, orig_len=len(frame))
            cap.add(2, frame, caplen=caplen, orig_len=len(frame))
            f = path("big-%s-%s.pcap" % (name, how))
            cap.save(f)
            r = run("-q", "-c", "basic", "-c", chain, f)
            eq(r.rc, 0, r.err)
            octets = 2 * (BIG if caplen is None else caplen - 14)
            eq([(x["sip"], x["pkt_fwd"], x["oct_fwd"], x["len"]) for x in r.records],
               [(sip, 2, octets, BIG)], "%s %s: one flow of two %d-byte packets" % (name, how, BIG))

report()
