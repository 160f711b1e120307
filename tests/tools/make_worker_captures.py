#!/usr/bin/env python3
"""Generate the captures of the multi-worker test (tests/cli/test_workers.py).

    make_worker_captures.py OUTDIR          every scenario into OUTDIR/NAME.pcap

Each scenario stresses one way that sharding flows over worker threads
(``pathobs -j N``) could change what is written; the test runs every capture
with one and with several workers and compares the records:

* ``flows``: several hundred TCP and UDP flows over IPv4 and IPv6 with
  handshakes, data, FINs from either side, RSTs, flows never closed, flows
  seen from the middle (the server's packet first), and 5-tuples used again
  after their first flow was written.
* ``fragments``: fragmented UDP, TCP, ICMP echo and ICMP errors over IPv4 and
  IPv6 (hop-by-hop before and destination options after the Fragment header),
  their later fragments interleaved with other flows' packets and some out of
  offset order; later fragments that come before their first fragment, and
  later fragments whose first never comes.
* ``icmp``: ICMPv4 and ICMPv6 errors (unreachable, time exceeded, packet too
  big, parameter problem, redirect) quoting packets of flows that exist, in
  either direction, and of flows never seen (some quoted by several routers);
  errors quoting pings; quotations too short to name a flow.
* ``idle``: flows that go quiet while a single flow (so a single worker)
  keeps the clock moving; flows that trickle and stop at separated seconds;
  flows with gaps between 10 and 30 s; a 200 s silence; the quiet flows
  coming back.
* ``reorder``: frames with timestamps going backwards (swapped neighbours,
  frames delayed by seconds, a whole older capture appended as by
  ``mergecap -a``), ARP, LLDP, STP and unknown-ethertype frames interleaved,
  frames cut short, and a gap with only ARP frames moving the clock.
* ``groups``: groups of flows, each within one second, 10 s apart, then an
  ARP frame 30 s later: with ``--idle-timeout 2 --expiry-timeout 1`` every
  group is written (at one packet-clock second) before the next begins.

Standard library only; the output is deterministic (fixed seeds, same bytes
on every run). Addresses are from the documentation ranges; timestamps start
at 1700000000. ``SCENARIOS`` maps each name to its builder, ``T0`` and the
constants below say where the scenarios' phases are (the test uses them).
"""

import os
import random
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pcapgen as pg  # noqa: E402

T0 = 1700000000
S = 1000000             # microseconds in a second

# idle: phases (seconds after T0)
IDLE_TALK_START, IDLE_TALK_END = 5, 200      # one flow talks, the others sleep
IDLE_RESUME = 400                            # the sleepers come back
IDLE_LATE = 500                              # a last set of new flows

# reorder: the ARP-only gap (seconds after T0)
REORDER_GAP_START, REORDER_GAP_END = 60, 130

# groups: GROUPS groups of flows, group g within [g * GROUP_GAP, g * GROUP_GAP + 1)
GROUPS, GROUP_GAP = 8, 10


def mac_of(addr):
    """A stable, locally administered MAC for an IP address."""
    raw = pg.addr_bytes(addr)
    return b"\x02" + bytes((raw[-5:] if len(raw) >= 5 else raw.rjust(5, b"\x00")))


def eth(packet):
    if packet[0] >> 4 == 4:
        src, dst = packet[12:16], packet[16:20]
    else:
        src, dst = packet[8:24], packet[24:40]
    return pg.ether(packet, src=mac_of(src), dst=mac_of(dst), pad=True)


class Trace:
    """Frames with their times (integer microseconds after T0), kept in the
    order they were added until ``ordered`` sorts them by time."""

    def __init__(self):
        self.frames = []        # [time_us, frame, caplen]

    def ip(self, t, packet, caplen=None):
        self.frames.append([int(t), eth(packet), caplen])

    def raw(self, t, frame, caplen=None):
        self.frames.append([int(t), frame, caplen])

    def ordered(self):
        """Sort by time; frames of equal time keep the order they were added."""
        self.frames.sort(key=lambda f: f[0])
        return self

    def capture(self):
        cap = pg.Capture()
        for t, frame, caplen in self.frames:
            if t < 0:
                raise ValueError("frame before T0")
            cap.add((T0 + t // S, t % S), frame, caplen=caplen)
        return cap


# --------------------------------------------------------------------------
# addresses and ports


def client(i, v6):
    if v6:
        return "2001:db8:10::%x" % (0x100 + i)
    return "%s.%d" % (("192.0.2", "198.51.100", "203.0.113")[i // 250 % 3], 1 + i % 250)


def server(j, v6):
    if v6:
        return "2001:db8:20::%x" % (0x10 + j)
    return "198.51.100.%d" % (200 + j % 50)


SERVICES_TCP = (80, 443, 25, 22, 8080, 993)
SERVICES_UDP = (53, 123, 443, 5353, 4789, 9)


class Ident:
    """IPv4 identifications and IPv6 fragment identifications, never reused."""

    def __init__(self, start):
        self.n = start

    def __call__(self):
        self.n += 1
        return self.n


# --------------------------------------------------------------------------
# flow builders (return the time of their last packet)


def gap(rng, lo=200, hi=300000):
    return rng.randrange(lo, hi)


def payload(rng, lo, hi):
    return pg.filler(rng.randrange(lo, hi), seed=str(rng.random()))


def tcp_flow(tr, rng, cli, srv, cport, sport, t, close="fin", rounds=2, mid=False,
             handshake=True, ident=None):
    """A TCP connection: handshake (unless ``mid`` or not ``handshake``),
    ``rounds`` request/response exchanges, then the close: "fin" (client
    first), "fin_srv" (server first), "rst", or "none"."""
    s = pg.TcpSession(cli, srv, cport, sport, cisn=rng.getrandbits(32), sisn=rng.getrandbits(32))
    ipo = (lambda: {"ident": ident()}) if ident is not None and ":" not in cli else (lambda: None)
    if mid:
        tr.ip(t, s.seg(False, "PA", payload(rng, 50, 900), ip_opts=ipo()))
        t += gap(rng)
        tr.ip(t, s.seg(True, "A", ip_opts=ipo()))
    elif handshake:
        tr.ip(t, s.seg(True, "S", options=[pg.opt_mss(1460), pg.opt_sackperm()], ip_opts=ipo()))
        t += gap(rng)
        tr.ip(t, s.seg(False, "SA", options=[pg.opt_mss(1400), pg.opt_sackperm()], ip_opts=ipo()))
        t += gap(rng, 100, 2000)
        tr.ip(t, s.seg(True, "A", ip_opts=ipo()))
    for _ in range(rounds):
        t += gap(rng)
        tr.ip(t, s.seg(True, "PA", payload(rng, 20, 600), ip_opts=ipo()))
        t += gap(rng)
        tr.ip(t, s.seg(False, "PA", payload(rng, 100, 1400), ip_opts=ipo()))
        t += gap(rng, 100, 5000)
        tr.ip(t, s.seg(True, "A", ip_opts=ipo()))
    if close in ("fin", "fin_srv"):
        first = close == "fin"
        t += gap(rng)
        tr.ip(t, s.seg(first, "FA", ip_opts=ipo()))
        t += gap(rng, 100, 50000)
        tr.ip(t, s.seg(not first, "FA", ip_opts=ipo()))
        t += gap(rng, 100, 50000)
        tr.ip(t, s.seg(first, "A", ip_opts=ipo()))
    elif close == "rst":
        t += gap(rng)
        tr.ip(t, s.seg(False, "RA", ip_opts=ipo()))
    return t


def udp_flow(tr, rng, cli, srv, cport, sport, t, exchanges=2, oneway=False, ident=None):
    v4 = ":" not in cli
    for _ in range(exchanges):
        opts = {"ident": ident()} if v4 and ident is not None else None
        zero = v4 and rng.random() < 0.1
        tr.ip(t, pg.udp_packet(cli, srv, cport, sport, payload=payload(rng, 20, 500),
                               checksum=0 if zero else None, ip_opts=opts))
        t += gap(rng)
        if not oneway:
            opts = {"ident": ident()} if v4 and ident is not None else None
            tr.ip(t, pg.udp_packet(srv, cli, sport, cport, payload=payload(rng, 20, 1200), ip_opts=opts))
            t += gap(rng)
    return t


def mixed_flows(tr, rng, n, start_us, span_us, first_client=0, ident=None):
    """``n`` TCP and UDP flows starting within [start, start + span);
    returns a list of (kind, cli, srv, cport, sport, last time)."""
    made = []
    for i in range(n):
        v6 = rng.random() < 0.35
        cli = client(first_client + i, v6)
        t = start_us + rng.randrange(span_us)
        cport = rng.randrange(1024, 65535)
        if rng.random() < 0.6:
            srv = server(rng.randrange(12), v6)
            sport = rng.choice(SERVICES_TCP)
            close = rng.choice(("fin", "fin", "fin", "fin_srv", "rst", "none"))
            mid = rng.random() < 0.06
            end = tcp_flow(tr, rng, cli, srv, cport, sport, t, close=close, rounds=rng.randrange(0, 4),
                           mid=mid, ident=ident)
            made.append(("tcp", cli, srv, cport, sport, end))
        else:
            srv = server(rng.randrange(12), v6)
            sport = rng.choice(SERVICES_UDP)
            end = udp_flow(tr, rng, cli, srv, cport, sport, t, exchanges=rng.randrange(1, 4),
                           oneway=rng.random() < 0.15, ident=ident)
            made.append(("udp", cli, srv, cport, sport, end))
    return made


# --------------------------------------------------------------------------
# scenarios


def make_flows():
    """Several hundred TCP/UDP flows, v4 and v6, within the first minute; then
    40 of the TCP 5-tuples again 75 to 95 s in (after their first flow was
    written, with the default timers, when it closed)."""
    rng = random.Random(18001)
    tr = Trace()
    ident = Ident(0x1000)
    made = mixed_flows(tr, rng, 460, 0, 60 * S, ident=ident)
    again = [f for f in made if f[0] == "tcp"][:40]
    for _, cli, srv, cport, sport, _ in again:
        t = 75 * S + rng.randrange(20 * S)
        tcp_flow(tr, rng, cli, srv, cport, sport, t, close=rng.choice(("fin", "none")), rounds=1, ident=ident)
    return tr.ordered()


def frag_send(tr, rng, t, frags, order="inorder"):
    """Send the fragments of one datagram from ``t`` on, a few ms apart.
    order: "inorder"; "shuffle" (the first first, the others in any order);
    "late_first" (the last fragment 5 ms before the first: it is skipped);
    "orphans" (only the later fragments: all skipped)."""
    seq = list(frags)
    if order == "shuffle":
        rest = seq[1:]
        rng.shuffle(rest)
        seq = seq[:1] + rest
    elif order == "late_first":
        tr.ip(max(0, t - 5000), seq[-1])
        seq = seq[:-1]
    elif order == "orphans":
        seq = seq[1:]
    for f in seq:
        tr.ip(t, f)
        t += gap(rng, 500, 20000)
    return t


def make_fragments():
    """Fragmented datagrams of many flows, their fragments interleaved."""
    rng = random.Random(18002)
    tr = Trace()
    ident = Ident(0x2000)
    orders = ("inorder", "inorder", "inorder", "shuffle", "late_first")

    def dgram(v6, src, dst, proto, body, exts=()):
        if v6:
            return pg.ipv6(body, src, dst, proto, exts=exts)
        return pg.ipv4(body, src, dst, proto, ident=ident())

    def split(v6, packet, sizes=(1232, 1000, 576)):
        if v6:
            return pg.fragment6(packet, rng.choice(sizes), ident())
        return pg.fragment4(packet, rng.choice(sizes[1:] if sizes[0] == 1232 else sizes))

    # UDP flows with large datagrams (v4 and v6; v6 with hop-by-hop before or
    # destination options after the Fragment header)
    for i in range(70):
        v6 = i % 2 == 1
        cli, srv = client(i, v6), server(i % 9, v6)
        cport, sport = 30000 + 7 * i, rng.choice(SERVICES_UDP)
        t = rng.randrange(30 * S)
        exts = ()
        if v6 and i % 6 == 1:
            exts = [pg.hbh()]
        elif v6 and i % 6 == 3:
            exts = [pg.dstopts()]
        for k in range(rng.randrange(2, 6)):
            fwd = k % 2 == 0
            a, b = (cli, srv) if fwd else (srv, cli)
            pa, pb = (cport, sport) if fwd else (sport, cport)
            big = rng.random() < 0.6
            body = pg.udp(a, b, pa, pb, payload=payload(rng, 1600, 6000) if big else payload(rng, 20, 300))
            packet = dgram(v6, a, b, pg.PROTO_UDP, body, exts)
            if big:
                t = frag_send(tr, rng, t, split(v6, packet), rng.choice(orders))
            else:
                tr.ip(t, packet)
            t += gap(rng, 1000, 2 * S)

    # pings with large payloads, fragmented both ways
    for i in range(24):
        v6 = i % 2 == 0
        cli, srv = client(100 + i, v6), server(20 + i % 5, v6)
        t = rng.randrange(30 * S)
        for seq in range(1, rng.randrange(2, 4)):
            data = payload(rng, 1500, 4000)
            for reply in (False, True):
                a, b = (srv, cli) if reply else (cli, srv)
                if v6:
                    packet = pg.ipv6(pg.icmp6_echo(a, b, 0x4000 + i, seq, data, reply=reply), a, b, pg.PROTO_ICMPV6)
                else:
                    packet = pg.ipv4(pg.icmp4_echo(0x4000 + i, seq, data, reply=reply), a, b, pg.PROTO_ICMP,
                                     ident=ident())
                t = frag_send(tr, rng, t, split(v6, packet), rng.choice(orders[:4]))
                t += gap(rng, 1000, S)

    # TCP connections with one fragmented data segment each
    for i in range(16):
        v6 = i % 2 == 0
        cli, srv = client(150 + i, v6), server(30 + i % 4, v6)
        s = pg.TcpSession(cli, srv, 40000 + i, 80, cisn=rng.getrandbits(32), sisn=rng.getrandbits(32))
        t = rng.randrange(30 * S)
        for fwd, flags in ((True, "S"), (False, "SA"), (True, "A")):
            tr.ip(t, s.seg(fwd, flags, ip_opts=None if v6 else {"ident": ident()}))
            t += gap(rng)
        seg = s.seg(False, "PA", payload(rng, 2000, 4000), ip_opts=None if v6 else {"ident": ident()})
        t = frag_send(tr, rng, t, split(v6, seg), rng.choice(orders[:4]))
        for fwd, flags in ((True, "A"), (True, "FA"), (False, "FA"), (True, "A")):
            t += gap(rng)
            tr.ip(t, s.seg(fwd, flags, ip_opts=None if v6 else {"ident": ident()}))

    # fragmented ICMP errors quoting whole large packets of flows above and
    # of flows never seen
    for i in range(20):
        v6 = i % 2 == 1
        cli, srv = client(200 + i, v6), server(40 + i % 3, v6)
        router = "2001:db8:ff::%x" % (1 + i % 4) if v6 else "192.0.2.%d" % (240 + i % 4)
        t = rng.randrange(30 * S)
        probe = dgram(v6, cli, srv, pg.PROTO_UDP, pg.udp(cli, srv, 50000 + i, 33434, payload=payload(rng, 1100, 1200)))
        seen = i % 4 != 0
        if seen:
            tr.ip(t, probe)
            t += gap(rng)
        if v6:
            err = pg.ipv6(pg.icmp6_error(router, cli, 3, 0, probe), router, cli, pg.PROTO_ICMPV6)
        else:
            err = pg.ipv4(pg.icmp4_error(11, 0, probe, quote_len=len(probe)), router, cli, pg.PROTO_ICMP,
                          ident=ident())
        frag_send(tr, rng, t, split(v6, err, (1000, 576, 512)), rng.choice(orders[:4]))

    # later fragments whose first fragment never comes (UDP, ICMP, GRE)
    for i in range(9):
        v6 = i % 2 == 0
        a, b = client(230 + i, v6), server(45, v6)
        proto = (pg.PROTO_UDP, pg.PROTO_ICMPV6 if v6 else pg.PROTO_ICMP, 47)[i % 3]
        body = (pg.udp(a, b, 7000 + i, 7001, payload=payload(rng, 2000, 3000)) if proto == pg.PROTO_UDP
                else payload(rng, 2000, 3000))
        packet = dgram(v6, a, b, proto, body)
        frag_send(tr, rng, rng.randrange(30 * S), split(v6, packet), "orphans")
    return tr.ordered()


def make_icmp():
    """ICMP errors about flows that exist and flows never seen."""
    rng = random.Random(18003)
    tr = Trace()
    ident = Ident(0x3000)
    routers4 = ["192.0.2.%d" % (240 + k) for k in range(8)]
    routers6 = ["2001:db8:ff::%x" % (1 + k) for k in range(8)]

    def err4(t, icmp_type, code, quoted, src, dst, quote_len=None, rest=0):
        tr.ip(t, pg.ipv4(pg.icmp4_error(icmp_type, code, quoted, quote_len, rest), src, dst, pg.PROTO_ICMP,
                         ident=ident(), ttl=250))

    def err6(t, icmp_type, code, quoted, src, dst, quote_len=None, rest=0):
        tr.ip(t, pg.ipv6(pg.icmp6_error(src, dst, icmp_type, code, quoted, quote_len, rest), src, dst,
                         pg.PROTO_ICMPV6, hlim=250))

    kinds4 = [(3, 1), (3, 3), (3, 13), (11, 0), (12, 0), (5, 1), (4, 0)]
    kinds6 = [(1, 4), (1, 0), (3, 0), (4, 0), (2, 0)]

    # probes (TCP SYNs, UDP datagrams) of flows that exist, answered by an error
    for i in range(160):
        v6 = i % 3 == 0
        cli, srv = client(i, v6), server(i % 15, v6)
        t = rng.randrange(40 * S)
        cport = rng.randrange(1024, 65535)
        if i % 2 == 0:
            s = pg.TcpSession(cli, srv, cport, rng.choice(SERVICES_TCP), cisn=rng.getrandbits(32))
            q = s.seg(True, "S", ip_opts=None if v6 else {"ident": ident()})
            tr.ip(t, q)
            if rng.random() < 0.3:      # the SYN+ACK is what draws the error
                t += gap(rng)
                q = s.seg(False, "SA", ip_opts={"hlim": 1} if v6 else {"ident": ident(), "ttl": 1})
                tr.ip(t, q)
                rsrc, rdst = (rng.choice(routers6 if v6 else routers4), srv)
            else:
                rsrc, rdst = (rng.choice(routers6 if v6 else routers4) if rng.random() < 0.6 else srv), cli
        else:
            q = pg.udp_packet(cli, srv, cport, 33434 + i, payload=payload(rng, 10, 200),
                              ip_opts=None if v6 else {"ident": ident()})
            tr.ip(t, q)
            rsrc, rdst = (rng.choice(routers6 if v6 else routers4) if rng.random() < 0.6 else srv), cli
        if rng.random() < 0.75:
            t += gap(rng)
            if v6:
                ty, co = rng.choice(kinds6)
                err6(t, ty, co, q, rsrc, rdst, rest=1280 if ty == 2 else 0)
            else:
                ty, co = rng.choice(kinds4)
                err4(t, ty, co, q, rsrc, rdst, rest=0xc0000201 if ty == 5 else 0)
        if i % 5 == 0:                  # the flow goes on after the error
            t += gap(rng, 1000, 2 * S)
            tr.ip(t, q)

    # errors quoting packets of flows never seen; some flows quoted several
    # times, by different routers, in both directions
    for i in range(90):
        v6 = i % 2 == 1
        cli, srv = client(300 + i, v6), server(60 + i % 7, v6)
        cport, sport = rng.randrange(1024, 65535), rng.choice(SERVICES_UDP + SERVICES_TCP)
        if i % 3 == 0:
            fwd = pg.tcp_packet(cli, srv, cport, sport, flags="S", seq=rng.getrandbits(32),
                                ip_opts=None if v6 else {"ident": ident()})
            rev = pg.tcp_packet(srv, cli, sport, cport, flags="SA", seq=rng.getrandbits(32), ack=1,
                                ip_opts=None if v6 else {"ident": ident()})
        else:
            fwd = pg.udp_packet(cli, srv, cport, sport, payload=b"q" * 20, ip_opts=None if v6 else {"ident": ident()})
            rev = pg.udp_packet(srv, cli, sport, cport, payload=b"r" * 20, ip_opts=None if v6 else {"ident": ident()})
        t = rng.randrange(40 * S)
        for k in range(1 + (i % 4 == 0) * rng.randrange(1, 3)):
            quoted = fwd if k % 2 == 0 else rev
            dst = cli if quoted is fwd else srv
            if v6:
                ty, co = rng.choice(kinds6)
                err6(t, ty, co, quoted, rng.choice(routers6), dst, rest=1280 if ty == 2 else 0)
            else:
                ty, co = rng.choice(kinds4)
                err4(t, ty, co, quoted, rng.choice(routers4), dst)
            t += gap(rng, 1000, 3 * S)

    # pings whose TTL runs out: time exceeded quoting ICMP echo requests; and
    # pings answered normally
    for i in range(30):
        v6 = i % 2 == 0
        cli, srv = client(400 + i, v6), server(80 + i % 3, v6)
        t = rng.randrange(40 * S)
        for seq in range(1, 4):
            data = bytes(range(56))
            if v6:
                echo = pg.ipv6(pg.icmp6_echo(cli, srv, 0x5000 + i, seq, data), cli, srv, pg.PROTO_ICMPV6, hlim=seq)
            else:
                echo = pg.ipv4(pg.icmp4_echo(0x5000 + i, seq, data), cli, srv, pg.PROTO_ICMP, ident=ident(), ttl=seq)
            tr.ip(t, echo)
            t += gap(rng)
            if seq < 3:
                if v6:
                    err6(t, 3, 0, echo, routers6[seq], cli)
                else:
                    err4(t, 11, 0, echo, routers4[seq], cli)
            elif v6:
                tr.ip(t, pg.ipv6(pg.icmp6_echo(srv, cli, 0x5000 + i, seq, data, reply=True), srv, cli,
                                 pg.PROTO_ICMPV6))
            else:
                tr.ip(t, pg.ipv4(pg.icmp4_echo(0x5000 + i, seq, data, reply=True), srv, cli, pg.PROTO_ICMP,
                                 ident=ident()))
            t += gap(rng)

    # quotations too short to name a flow: plain ICMP from the router
    for i in range(12):
        v6 = i % 2 == 0
        cli, srv = client(450 + i, v6), server(90, v6)
        lost = pg.udp_packet(cli, srv, 6000 + i, 53, payload=b"x" * 20)
        t = rng.randrange(40 * S)
        if v6:
            err6(t, 1, 3, lost, routers6[i % 8], cli, quote_len=24)
        else:
            err4(t, 3, 1, lost, routers4[i % 8], cli, quote_len=12)
    return tr.ordered()


def make_idle():
    """Sleepers, trickles and one talker; then silence, then the sleepers again.

    0-4 s: 150 flows (TCP without FIN, UDP), the "sleepers". Every third one
    trickles: a packet every 7 s until its stop time, 20 + 3k s (k = 0, 1,
    ...), so the trickles end at separated seconds. Ten of them have instead
    two packets 25 s apart (45 + 3k and 70 + 3k s). From IDLE_TALK_START to IDLE_TALK_END one UDP flow, the
    talker, sends a packet every 0.5 s: the only packets of that stretch
    besides the trickles, all of one flow, so of one worker. Nothing from
    IDLE_TALK_END to IDLE_RESUME; then every sleeper sends again; at
    IDLE_LATE 20 new flows; end."""
    rng = random.Random(18004)
    tr = Trace()
    ident = Ident(0x4000)
    sleepers = []
    for i in range(150):
        v6 = i % 3 == 1
        cli, srv = client(i, v6), server(i % 11, v6)
        cport = 20000 + 3 * i
        t = rng.randrange(100000, 3 * S)
        if i % 2 == 0:
            sport = rng.choice(SERVICES_TCP)
            tcp_flow(tr, rng, cli, srv, cport, sport, t, close="none", rounds=1, ident=ident)
            sleepers.append(("tcp", cli, srv, cport, sport))
        else:
            sport = rng.choice(SERVICES_UDP)
            udp_flow(tr, rng, cli, srv, cport, sport, t, exchanges=1, ident=ident)
            sleepers.append(("udp", cli, srv, cport, sport))

    def poke(t, flow, fwd=True):
        kind, cli, srv, cport, sport = flow
        a, b, pa, pb = (cli, srv, cport, sport) if fwd else (srv, cli, sport, cport)
        opts = None if ":" in cli else {"ident": ident()}
        if kind == "tcp":
            tr.ip(t, pg.tcp_packet(a, b, pa, pb, flags="PA", seq=rng.getrandbits(32), ack=rng.getrandbits(32),
                                   payload=payload(rng, 10, 100), ip_opts=opts))
        else:
            tr.ip(t, pg.udp_packet(a, b, pa, pb, payload=payload(rng, 10, 100), ip_opts=opts))

    trickles = sleepers[0::3]
    for k, flow in enumerate(trickles):
        stop = (20 + 3 * k) * S + 300000 + rng.randrange(200000)
        if k < 10:              # a 25 s gap: one flow with idle 30, two with idle 10
            poke(stop + 25 * S, flow)
            poke(stop + 50 * S, flow, fwd=False)
            continue
        # the phase above ends before 4 s: a packet every 7 s from 4.7 s on,
        # the last one at the stop time, keep the flow alive with idle 10
        t = 4 * S + 700000 + rng.randrange(200000)
        while t < stop:
            poke(t, flow, fwd=(t // S) % 2 == 0)
            t += 7 * S
        poke(stop, flow, fwd=False)
    talker = ("udp", "192.0.2.199", "198.51.100.199", 4000, 4001)
    t = IDLE_TALK_START * S + 123456
    while t < IDLE_TALK_END * S:
        poke(t, talker, fwd=(t // (S // 2)) % 3 != 0)
        t += S // 2
    for flow in sleepers:
        t = IDLE_RESUME * S + rng.randrange(100000, 4 * S)
        for _ in range(rng.randrange(1, 4)):
            poke(t, flow, fwd=rng.random() < 0.6)
            t += gap(rng)
    mixed_flows(tr, rng, 20, IDLE_LATE * S + 100000, 2 * S, first_client=600, ident=ident)
    return tr.ordered()


def arp_frame(rng, k):
    a = "192.0.2.%d" % (1 + k % 200)
    b = "192.0.2.%d" % (1 + (k * 7) % 200)
    if k % 3 == 2:
        return pg.ether(pg.arp(2, mac_of(a), a, mac_of(b), b), src=mac_of(a), dst=mac_of(b),
                        ethertype=pg.ETH_ARP, pad=True)
    return pg.ether(pg.arp(1, mac_of(a), a, "00:00:00:00:00:00", b), src=mac_of(a), dst="ff:ff:ff:ff:ff:ff",
                    ethertype=pg.ETH_ARP, pad=True)


def make_reorder():
    """Timestamps that go backwards, non-IP frames, frames cut short.

    Main traffic (180 flows) in the first 40 s with ARP about every 0.7 s,
    LLDP every 5 s, STP (802.3 + LLC) every 2 s, an unknown ethertype now and
    then; 5 % of neighbouring frames swapped; 25 frames delayed 2-8 s (their
    timestamps kept); 12 IPv4/IPv6 frames cut to 30 bytes. Then, as if a
    second capture were appended (mergecap -a), 30 flows stamped 10-20 s.
    From REORDER_GAP_START to REORDER_GAP_END only ARP frames, every 2 s;
    then 40 of the first flows' 5-tuples and 20 new flows."""
    rng = random.Random(18005)
    tr = Trace()
    ident = Ident(0x5000)
    made = mixed_flows(tr, rng, 180, 0, 35 * S, ident=ident)
    t, k = 0, 0
    while t < 45 * S:
        tr.raw(t, arp_frame(rng, k))
        if k % 7 == 0:
            lldp = b"\x02\x07\x04" + mac_of("192.0.2.1") + b"\x04\x03\x07" + b"p1" + b"\x06\x02\x00\x78\x00\x00"
            tr.raw(t + 1000, pg.ether(lldp, src=mac_of("192.0.2.1"), dst="01:80:c2:00:00:0e",
                                      ethertype=0x88CC, pad=True))
        if k % 3 == 0:
            bpdu = b"\x42\x42\x03" + b"\x00" * 35
            stp = pg.mac_bytes("01:80:c2:00:00:00") + mac_of("192.0.2.2") + len(bpdu).to_bytes(2, "big") + bpdu
            tr.raw(t + 2000, stp)
        if k % 11 == 5:
            tr.raw(t + 3000, pg.ether(b"\x00\x01" + b"\x00" * 44, ethertype=0x88B5))
        t += 500000 + rng.randrange(400000)
        k += 1
    for i in range(12):
        v6 = i % 2 == 1
        cli, srv = client(700 + i, v6), server(3, v6)
        tr.ip(rng.randrange(40 * S), pg.udp_packet(cli, srv, 9000 + i, 53, payload=b"y" * 60), caplen=30)
    tr.ordered()
    frames = tr.frames
    # swap neighbours (both frames keep their timestamps)
    i = 1
    while i < len(frames) - 1:
        if rng.random() < 0.05:
            frames[i], frames[i + 1] = frames[i + 1], frames[i]
            i += 2
        else:
            i += 1
    # delay frames: reinserted where the time is 2-8 s later
    for _ in range(25):
        k = rng.randrange(len(frames) // 2)
        frame = frames.pop(k)
        later = frame[0] + rng.randrange(2 * S, 8 * S)
        pos = next((j for j in range(k, len(frames)) if frames[j][0] > later), len(frames))
        frames.insert(pos, frame)
    # an older capture appended after the first one
    old = Trace()
    mixed_flows(old, rng, 30, 10 * S, 10 * S, first_client=500, ident=ident)
    frames.extend(old.ordered().frames)
    # only ARP through the gap, then traffic again
    t, k = REORDER_GAP_START * S + 250000, 1000
    while t < REORDER_GAP_END * S:
        tr.raw(t, arp_frame(rng, k))
        t += 2 * S
        k += 1
    after = Trace()
    for kind, cli, srv, cport, sport, _ in made[:40]:
        t = (REORDER_GAP_END + 1) * S + rng.randrange(5 * S)
        if kind == "tcp":
            after.ip(t, pg.tcp_packet(srv, cli, sport, cport, flags="PA", seq=5, ack=7, payload=b"late",
                                      ip_opts=None if ":" in cli else {"ident": ident()}))
        else:
            after.ip(t, pg.udp_packet(cli, srv, cport, sport, payload=b"late",
                                      ip_opts=None if ":" in cli else {"ident": ident()}))
    mixed_flows(after, rng, 20, (REORDER_GAP_END + 2) * S, 5 * S, first_client=800, ident=ident)
    frames.extend(after.ordered().frames)
    return tr


def make_groups():
    """GROUPS groups of 40 flows; group g's packets all within the second
    [g * GROUP_GAP + 0.05, g * GROUP_GAP + 0.95]: TCP with FIN, TCP without,
    UDP. An ARP frame 30 s after the last group moves the clock past every
    deadline, so no record waits for the end of the input."""
    rng = random.Random(18006)
    tr = Trace()
    ident = Ident(0x6000)
    for g in range(GROUPS):
        base = g * GROUP_GAP * S
        for i in range(40):
            v6 = i % 3 == 2
            cli, srv = client(g * 40 + i, v6), server(i % 13, v6)
            t = base + 50000 + rng.randrange(300000)
            cport = rng.randrange(1024, 65535)
            kind = i % 3
            if kind < 2:
                s = pg.TcpSession(cli, srv, cport, rng.choice(SERVICES_TCP), cisn=rng.getrandbits(32),
                                  sisn=rng.getrandbits(32))
                steps = [(True, "S"), (False, "SA"), (True, "A"), (True, "PA"), (False, "PA")]
                if kind == 0:
                    steps += [(True, "FA"), (False, "FA"), (True, "A")]
                for fwd, flags in steps:
                    tr.ip(t, s.seg(fwd, flags, payload=b"d" * 40 if "P" in flags else b"",
                                   ip_opts=None if v6 else {"ident": ident()}))
                    t += rng.randrange(1000, 60000)
            else:
                sport = rng.choice(SERVICES_UDP)
                for fwd in (True, False, True, False):
                    a, b, pa, pb = (cli, srv, cport, sport) if fwd else (srv, cli, sport, cport)
                    tr.ip(t, pg.udp_packet(a, b, pa, pb, payload=payload(rng, 20, 400),
                                           ip_opts=None if v6 else {"ident": ident()}))
                    t += rng.randrange(1000, 100000)
    tr.ordered()
    assert all(f[0] % (GROUP_GAP * S) < 950000 for f in tr.frames), "a group spills over its second"
    last = tr.frames[-1][0]
    tr.raw(last + 30 * S, arp_frame(rng, 1))
    return tr


SCENARIOS = {
    "flows": make_flows,
    "fragments": make_fragments,
    "icmp": make_icmp,
    "idle": make_idle,
    "reorder": make_reorder,
    "groups": make_groups,
}


def write_all(outdir):
    """Write every scenario as OUTDIR/NAME.pcap; returns {name: path}."""
    os.makedirs(outdir, exist_ok=True)
    paths = {}
    for name, make in SCENARIOS.items():
        path = os.path.join(outdir, name + ".pcap")
        make().capture().save(path)
        paths[name] = path
    return paths


def main():
    if len(sys.argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    for name, path in write_all(sys.argv[1]).items():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
