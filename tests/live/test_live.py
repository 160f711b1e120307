#!/usr/bin/env python3
"""test_live.py - live capture on loopback, wall-clock timers, signals and hot reload (--watch).

Usage: test_live.py PATHOBS CAPTURES_DIR
Captures on `lo` only, with a BPF filter on this test's own ports, sends its
own traffic to 127.0.0.1 / ::1, and bounds every wait. Needs the right to open
a packet socket (root or CAP_NET_RAW); without it every check is skipped
(exit status 77). Prints one line per check and "N passed, N failed".
"""
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from checks import check, eq, report  # noqa: E402

PATHOBS, CAPS = sys.argv[1], sys.argv[2]
BASE = 47000 + os.getpid() % 1000 * 10  # this run's ports: BASE .. BASE+9
FILTER = "portrange %d-%d or icmp or icmp6" % (BASE, BASE + 9)


class Proc:
    """pathobs running in the background; stdout and stderr read line by line."""

    def __init__(self, *args, cwd=None):
        self.p = subprocess.Popen([PATHOBS, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  cwd=cwd)
        self.out, self.err = queue.Queue(), queue.Queue()
        self.err_lines = []
        for stream, q in ((self.p.stdout, self.out), (self.p.stderr, self.err)):
            threading.Thread(target=self._pump, args=(stream, q), daemon=True).start()

    @staticmethod
    def _pump(stream, q):
        for line in stream:
            q.put(line.decode("utf-8", "replace").rstrip("\n"))
        q.put(None)

    def record(self, timeout):
        """The next JSON record, or None after timeout seconds."""
        try:
            line = self.out.get(timeout=timeout)
        except queue.Empty:
            return None
        return None if line is None else json.loads(line)

    def wait_err(self, text, timeout):
        """Wait for a stderr line containing text; returns it or None."""
        end = time.time() + timeout
        while time.time() < end:
            try:
                line = self.err.get(timeout=max(0.01, end - time.time()))
            except queue.Empty:
                break
            if line is None:
                break
            self.err_lines.append(line)
            if text in line:
                return line
        return None

    def stop(self, sig=signal.SIGINT, timeout=10):
        """Send sig; returns (exit status, remaining records, all stderr lines)."""
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        recs = []
        while True:
            r = self.record(2)
            if r is None:
                break
            recs.append(r)
        while True:
            try:
                line = self.err.get(timeout=2)
            except queue.Empty:
                break
            if line is None:
                break
            self.err_lines.append(line)
        return rc, recs, self.err_lines


def udp_exchange(family, port, requests, replies):
    """Client sends `requests` datagrams to a server on port, which answers `replies`."""
    host = "127.0.0.1" if family == socket.AF_INET else "::1"
    srv = socket.socket(family, socket.SOCK_DGRAM)
    srv.bind((host, port))
    cli = socket.socket(family, socket.SOCK_DGRAM)
    cli.bind((host, port + 1))
    for _ in range(requests):
        cli.sendto(b"request", (host, port))
        srv.recvfrom(100)
    for _ in range(replies):
        srv.sendto(b"reply!", (host, port + 1))
        cli.recvfrom(100)
    cli.close()
    srv.close()


def tcp_exchange(port, family=socket.AF_INET, times=1):
    """times TCP connections to port on 127.0.0.1 (or ::1), one request and its answer each."""
    host = "127.0.0.1" if family == socket.AF_INET else "::1"
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, port))
    srv.listen(4)
    for _ in range(times):
        cli = socket.create_connection((host, port))
        conn, _ = srv.accept()
        cli.sendall(b"GET / HTTP/1.0\r\n\r\n")
        conn.recv(100)
        conn.sendall(b"HTTP/1.0 200 OK\r\n\r\nhello")
        cli.recv(100)
        cli.close()
        conn.close()
    srv.close()
    return cli






def packet_socket_open(pid):
    """Whether process pid holds a packet socket (a capture) now."""
    try:
        inodes = {line.split()[-1] for line in open("/proc/net/packet").read().splitlines()[1:]}
        for fd in os.listdir("/proc/%d/fd" % pid):
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            if link.startswith("socket:[") and link[8:-1] in inodes:
                return True
    except OSError:
        pass
    return False


def started(p):
    """Let the capture open before traffic is sent: wait (10 s at most, on a
    busy machine) for its packet socket, then a moment for its ring."""
    for _ in range(100):
        if p.p.poll() is not None or packet_socket_open(p.p.pid):
            break
        time.sleep(0.1)
    time.sleep(0.5)
    assert p.p.poll() is None, "pathobs exited early: %s" % p.stop()[2]


def can_capture():
    p = subprocess.run(["timeout", "--preserve-status", "-s", "INT", "1", PATHOBS, "-q", "-f", "port 1", "lo"],
                       capture_output=True)
    return p.returncode == 0, p.stderr.decode()


ok, why = can_capture()
if not ok:
    print("skipping live tests: cannot capture on lo (%s)" % why.strip())
    sys.exit(77)


@check("capture on lo: records, each packet once, directions")
def _():
    with tempfile.TemporaryDirectory() as d:
        stats = os.path.join(d, "stats.json")
        p = Proc("-f", FILTER, "--stats", stats, "-i", "lo")
        started(p)
        udp_exchange(socket.AF_INET, BASE, 2, 1)
        udp_exchange(socket.AF_INET6, BASE + 2, 1, 3)
        tcp_exchange(BASE + 4)
        time.sleep(0.5)
        rc, recs, err = p.stop(signal.SIGINT)
        eq(rc, 0, "exit status")
        by_dp = {r["dp"]: r for r in recs}
        u4, u6, t = by_dp.get(BASE), by_dp.get(BASE + 2), by_dp.get(BASE + 4)
        assert u4 and u6 and t, "records: %r" % recs
        eq((u4["sip"], u4["sp"], u4["pkt_fwd"], u4["pkt_rev"]), ("127.0.0.1", BASE + 1, 2, 1), "UDPv4")
        eq((u6["sip"], u6["pkt_fwd"], u6["pkt_rev"]), ("::1", 1, 3), "UDPv6")
        eq(t["sip"], "127.0.0.1", "TCP client is forward")
        assert t["pkt_fwd"] >= 4 and t["pkt_rev"] >= 3, "TCP counts %r" % t
        s = json.load(open(stats))
        eq(s["packets"], sum(r["pkt_fwd"] + r["pkt_rev"] for r in recs), "packets counted once")


@check("an idle flow is written by the wall clock, with no further packets")
def _():
    p = Proc("-f", FILTER, "--idle-timeout", "2", "--expiry-timeout", "1", "lo")
    started(p)
    sent = time.time()
    udp_exchange(socket.AF_INET, BASE + 6, 1, 1)
    r = p.record(timeout=12)
    took = time.time() - sent
    rc, _, err = p.stop()
    assert r is not None, "no record while running; stderr: %s" % err
    eq((r["dp"], r["pkt_fwd"], r["pkt_rev"]), (BASE + 6, 1, 1), "record")
    # the clock is quantised to whole seconds: idle - 1 < took <= idle + expiry + 2
    assert 1.0 <= took <= 8.0, "written %.2f s after its last packet" % took
    eq(rc, 0, "exit status")


@check("SIGTERM and SIGINT write active flows and exit 0")
def _():
    for sig in (signal.SIGTERM, signal.SIGINT):
        p = Proc("-q", "-f", FILTER, "lo")
        started(p)
        udp_exchange(socket.AF_INET, BASE + 8, 1, 0)
        time.sleep(0.3)
        rc, recs, err = p.stop(sig)
        eq(rc, 0, "exit status on %s" % sig.name)
        eq([r["dp"] for r in recs], [BASE + 8], "records on %s" % sig.name)


@check("--stats-interval writes the counters every interval, to stderr or a file")
def _():
    p = Proc("-f", FILTER, "--stats-interval", "1", "lo")
    started(p)
    udp_exchange(socket.AF_INET, BASE + 6, 2, 0)
    lines = [p.wait_err("packets (", 6), p.wait_err("packets (", 6)]
    rc, _, err = p.stop()
    assert all(lines), "periodic counters: %s" % err
    assert "2 packets" in lines[-1], lines
    eq(rc, 0, "exit status")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "s.json")
        p = Proc("-q", "-f", FILTER, "--stats-interval", "1", "--stats", path, "lo")
        started(p)
        udp_exchange(socket.AF_INET, BASE + 6, 1, 1)
        for _ in range(50):  # the file appears within a second or two
            time.sleep(0.2)
            if os.path.exists(path) and json.load(open(path))["packets"] == 2:
                break
        s = json.load(open(path))
        rc, _, err = p.stop()
        eq(s["packets"], 2, "counters in the file while running")
        assert not any("packets (" in l for l in err), "-q with --stats: no line: %s" % err


CHAIN = """-- version %(v)s
return {
  new_flow = function(rec, ip) rec.version = "%(v)s"; rec.n = 0 end,
  ip4 = function(rec, ip, rev)
    rec.n = (rec.n or 0) + 1
    rec.seen_by = "%(v)s"
    %(extra)s
  end,
}
"""


def save(path, text):
    """Save the way many editors do: write a new file, rename it over the old one."""
    tmp = path + ".tmp~"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


@check("--watch on a live source: flows open at the swap end under the old chains, "
       "new flows run the new ones, errors isolated")
def _():
    with tempfile.TemporaryDirectory() as d:
        chain = os.path.join(d, "ver.lua")
        save(chain, CHAIN % {"v": "A", "extra": ""})
        p = Proc("--watch", "-c", "basic", "-c", chain, "-f", FILTER, "lo")
        started(p)
        udp_exchange(socket.AF_INET, BASE, 1, 0)          # flow 1, before the swap
        time.sleep(0.3)
        save(chain, CHAIN % {"v": "B", "extra": "if rev then error('rev not allowed') end"})
        assert p.wait_err("chains reloaded", 5), "no reload reported: %s" % p.err_lines
        udp_exchange(socket.AF_INET, BASE, 1, 1)          # flow 1 again: old chains, no error
        udp_exchange(socket.AF_INET, BASE + 2, 1, 1)      # flow 2, after the swap: its reply raises
        time.sleep(0.3)
        rc, recs, err = p.stop()
        eq(rc, 4, "exit status (a chain error came)")
        by_dp = {r["dp"]: r for r in recs}
        f1, f2 = by_dp[BASE], by_dp[BASE + 2]
        eq(f1["version"], "A", "flow created before the swap keeps its new_flow")
        eq(f1["seen_by"], "A", "and its chains, to the end")
        eq(f1["n"], 3, "every packet counted")
        eq(f2["version"], "B", "flow created after the swap")
        eq(f2["seen_by"], "B", "runs the new chains")
        eq(f2["n"], 2, "both packets counted")
        assert any("ver.lua" in l and "rev not allowed" in l and ":%d " % (BASE + 2) in l for l in err), err
        assert any("1 chain errors" in l for l in err), err


@check("--watch on a file: a save re-runs the trace, a broken save is refused, SIGHUP reloads")
def _():
    with tempfile.TemporaryDirectory() as d:
        chain = os.path.join(d, "ver.lua")
        out = os.path.join(d, "out.jsonl")
        save(chain, CHAIN % {"v": "A", "extra": ""})
        p = Proc("--watch", "-c", chain, "-o", out, os.path.join(CAPS, "udp.pcap"))
        assert p.wait_err("watching", 10), p.err_lines
        first = [json.loads(l) for l in open(out)]
        eq({r["version"] for r in first}, {"A"}, "first run")
        save(chain, CHAIN % {"v": "B", "extra": ""})
        assert p.wait_err("running", 5), "no re-run: %s" % p.err_lines
        assert p.wait_err("watching", 10), p.err_lines
        second = [json.loads(l) for l in open(out)]
        eq(len(second), len(first), "output rewritten, not appended")
        eq({r["version"] for r in second}, {"B"}, "second run")
        save(chain, "return {\n  new_flow = function(rec, ip)\n    rec.x = = 1\n  end,\n}\n")
        line = p.wait_err("ver.lua:3:", 5)
        assert line, "no file:line for the broken save: %s" % p.err_lines
        assert p.wait_err("refused", 5), p.err_lines
        assert p.p.poll() is None, "still running after a broken save"
        eq({json.loads(l)["version"] for l in open(out)}, {"B"}, "output kept")
        with open(chain, "w") as f:                       # an edit in place is seen too
            f.write(CHAIN % {"v": "C", "extra": ""})
        assert p.wait_err("running", 5), "no re-run after an edit in place: %s" % p.err_lines
        assert p.wait_err("watching", 10), p.err_lines
        eq({json.loads(l)["version"] for l in open(out)}, {"C"}, "after the edit in place")
        p.p.send_signal(signal.SIGHUP)                    # no change at all: SIGHUP re-runs
        assert p.wait_err("running", 5), "no re-run on SIGHUP: %s" % p.err_lines
        assert p.wait_err("watching", 10), p.err_lines
        rc, _, err = p.stop()
        eq(rc, 0, "Ctrl-C ends it")



@check("--watch: a chain that does not load at start-up waits for a fixed save; "
       "on standard output each re-run's records follow a marker line")
def _():
    with tempfile.TemporaryDirectory() as d:
        chain = os.path.join(d, "ver.lua")
        broken = "return {\n  new_flow = function(rec, ip)\n    rec.x = = 1\n  end,\n}\n"
        save(chain, broken)
        p = Proc("--watch", "-c", chain, os.path.join(CAPS, "udp.pcap"))
        assert p.wait_err("ver.lua:3:", 10), "no file:line for the broken script: %s" % p.err_lines
        assert p.wait_err("waiting for a fixed save", 5), p.err_lines
        assert p.p.poll() is None, "exited instead of waiting: %s" % p.err_lines
        save(chain, CHAIN % {"v": "A", "extra": ""})
        assert p.wait_err("watching", 10), "no run after the fixed save: %s" % p.err_lines
        first = []
        while True:
            r = p.record(2)
            if r is None:
                break
            first.append(r)
        assert first, "no records from the first run"
        eq({r.get("version") for r in first}, {"A"}, "first run: records only, no marker")
        save(chain, CHAIN % {"v": "B", "extra": ""})
        assert p.wait_err("running", 5), "no re-run: %s" % p.err_lines
        assert p.wait_err("watching", 10), p.err_lines
        rc, second, err = p.stop()
        eq(rc, 0, "Ctrl-C ends it")
        eq(second[0], {"pathobs_run": 2, "reason": "reload"}, "the re-run's marker line")
        eq([r.get("version") for r in second[1:]], ["B"] * len(first), "then the re-run's records")
    with tempfile.TemporaryDirectory() as d:
        chain = os.path.join(d, "never.lua")
        save(chain, "return {\n  = 1 }\n")
        p = Proc("--watch", "-c", chain, os.path.join(CAPS, "udp.pcap"))
        assert p.wait_err("waiting for a fixed save", 10), p.err_lines
        rc, recs, err = p.stop()
        eq((rc, recs), (3, []), "stopped before the chains ever loaded: %s" % err)


SLOW_LOAD = """-- loading takes a second, as a big module tree or a busy machine may
local t = os.clock() + 1.0
while os.clock() < t do end
return { new_flow = function(rec, ip) rec.version = "%s" end }
"""


@check("--watch: a save made while a reload loads the scripts is not lost")
def _():
    with tempfile.TemporaryDirectory() as d:
        chain = os.path.join(d, "slow.lua")
        out = os.path.join(d, "out.jsonl")
        save(chain, SLOW_LOAD % "1")
        p = Proc("--watch", "-c", chain, "-o", out, os.path.join(CAPS, "udp.pcap"))
        assert p.wait_err("watching", 15), p.err_lines
        save(chain, SLOW_LOAD % "2")                      # reload 1 starts 150 ms later
        time.sleep(0.6)
        with open(chain, "w") as f:                       # in place, during reload 1's load
            f.write(SLOW_LOAD % "3")
        versions = set()
        for _ in range(100):                              # 10 s at most
            time.sleep(0.1)
            versions = {json.loads(l)["version"] for l in open(out) if l.endswith("\n")}
            if versions == {"3"}:
                break
        eq(versions, {"3"}, "versions in the output, the file says 3: %s" % p.err_lines)
        time.sleep(1.5)
        rc, _, err = p.stop()
        eq(rc, 0, "Ctrl-C ends it")
        runs = sum("running" in l for l in err)
        assert 1 <= runs <= 2, "%d re-runs, one per save at most: %s" % (runs, err)


def bulk_transfer(port, total):
    """A TCP server on 127.0.0.1:port sends total bytes in 1 MiB writes to a client."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(1)
    cli = socket.create_connection(("127.0.0.1", port))
    conn, _ = srv.accept()

    def send():
        chunk = b"x" * (1 << 20)
        left = total
        while left > 0:
            n = min(left, len(chunk))
            conn.sendall(chunk[:n])
            left -= n
        conn.close()
    t = threading.Thread(target=send)
    t.start()
    got = 0
    while True:
        b = cli.recv(1 << 20)
        if not b:
            break
        got += len(b)
    t.join()
    cli.close()
    srv.close()
    return got


@check("a bulk transfer on lo (64 KiB frames), -i lo and pcapint:lo: no abort, the record, drops counted")
def _():
    total = 8 << 20
    for i, src in enumerate((["-i", "lo"], ["pcapint:lo"])):
        port = BASE + 6 + i
        with tempfile.TemporaryDirectory() as d:
            stats = os.path.join(d, "stats.json")
            p = Proc("-f", "port %d" % port, "--stats", stats, *src)
            started(p)
            eq(bulk_transfer(port, total), total, "bytes moved")
            time.sleep(0.5)
            rc, recs, err = p.stop(signal.SIGINT)
            eq(rc, 0, "%s exit status: %s" % (src, err))
            assert not [l for l in err if "Assertion" in l or "abort" in l.lower()], err
            flows = [r for r in recs if r["dp"] == port]
            eq(len(flows), 1, "%s: one record for the transfer: %r" % (src, recs))
            f = flows[0]
            s = json.load(open(stats))
            assert "dropped" in s, s
            eq(s["packets"], f["pkt_fwd"] + f["pkt_rev"], "%s: every packet read is in the flow" % src)
            if s["dropped"] == 0:
                # all seen: the server's octets (IP length fields) hold every byte sent
                assert f["oct_rev"] > total, "%s: server octets %d for %d bytes" % (src, f["oct_rev"], total)


@check("-i any: the any device (Linux cooked v2), each loopback packet once")
def _():
    p = Proc("-f", FILTER, "-i", "any")
    started(p)
    udp_exchange(socket.AF_INET, BASE + 8, 2, 1)
    time.sleep(0.5)
    rc, recs, err = p.stop(signal.SIGINT)
    eq(rc, 0, "exit status: %s" % err)
    u = [r for r in recs if r["dp"] == BASE + 8]
    eq([(r["sip"], r["sp"], r["pkt_fwd"], r["pkt_rev"]) for r in u], [("127.0.0.1", BASE + 9, 2, 1)], "UDP flow")


@check("pcapint:lo and pcap:lo with -f keep the first packet that passes the filter")
def _():
    for i, src in enumerate(("pcapint:lo", "pcap:lo")):
        port = BASE + 2 * i
        p = Proc("-f", "udp and port %d" % port, src)
        started(p)
        udp_exchange(socket.AF_INET, port, 1, 0)  # a one-packet flow
        time.sleep(0.5)
        rc, recs, err = p.stop(signal.SIGINT)
        eq(rc, 0, "%s exit status: %s" % (src, err))
        eq([(r["sip"], r["dp"], r["pkt_fwd"], r["pkt_rev"]) for r in recs],
           [("127.0.0.1", port, 1, 0)], "%s: the one datagram" % src)


@check("SIGINT right after a burst: the packets that came before the signal are all in the records "
       "(the kernel's ring is drained first)")
def _():
    p = Proc("-c", "basic", "-f", "udp and dst port %d" % (BASE + 8), "lo")
    assert p.wait_err("listening on", 10), p.err_lines
    time.sleep(0.5)
    for _ in range(20):  # 20 one-datagram flows, then the signal at once
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        c.sendto(b"x", ("127.0.0.1", BASE + 8))
        c.close()
    rc, recs, err = p.stop()
    eq(rc, 0, "exit status: %s" % err)
    eq(len(recs), 20, "records of the 20 flows sent before SIGINT")



@check("-j 3 on a live source: records and counters as with one worker, idle flows written by "
       "the wall clock on every worker, SIGINT writes the rest")
def _():
    with tempfile.TemporaryDirectory() as d:
        stats = os.path.join(d, "stats.json")
        ports = "portrange %d-%d" % (BASE, BASE + 9)  # no ICMP: other tests' errors stay out
        p = Proc("-j", "3", "-f", ports, "--stats", stats, "--idle-timeout", "2",
                 "--expiry-timeout", "1", "-i", "lo")
        started(p)
        sent = time.time()
        for k in range(6):  # six flows: spread over the workers by their hash
            udp_exchange(socket.AF_INET if k % 2 == 0 else socket.AF_INET6, BASE + k, 2, 1)
        got = []
        while len(got) < 6:
            r = p.record(timeout=12)
            if r is None:
                break
            got.append(r)
        took = time.time() - sent
        eq(len(got), 6, "the six idle flows written while running (no packet after them)")
        assert took <= 10.0, "written %.2f s after the last packet" % took
        tcp_exchange(BASE + 8)  # still open at the signal
        time.sleep(0.5)
        rc, recs, err = p.stop(signal.SIGINT)
        eq(rc, 0, "exit status: %s" % err)
        eq(sorted((r["dp"], r["pkt_fwd"], r["pkt_rev"]) for r in got),
           sorted((BASE + k, 2, 1) for k in range(6)), "idle flows")
        assert [r["dp"] for r in recs] == [BASE + 8], "written at the signal: %r" % recs
        s = json.load(open(stats))
        eq(s["packets"], sum(r["pkt_fwd"] + r["pkt_rev"] for r in got + recs), "packets counted once")
        eq(s["records"], 7, "records summed over the workers")


@check("-j 2 live reload (SIGHUP): every worker runs the new chains for new flows")
def _():
    with tempfile.TemporaryDirectory() as d:
        chain = os.path.join(d, "ver.lua")
        save(chain, CHAIN % {"v": "A", "extra": ""})
        p = Proc("-j", "2", "-c", "basic", "-c", chain, "-f", FILTER, "lo")
        started(p)
        save(chain, CHAIN % {"v": "B", "extra": ""})
        p.p.send_signal(signal.SIGHUP)
        assert p.wait_err("chains reloaded", 5), "no reload reported: %s" % p.err_lines
        for k in range(6):
            udp_exchange(socket.AF_INET, BASE + k, 1, 1)
        time.sleep(0.5)
        rc, recs, err = p.stop()
        eq(rc, 0, "exit status: %s" % err)
        eq(sorted(r["dp"] for r in recs), [BASE + k for k in range(6)], "records")
        eq({r["version"] for r in recs}, {"B"}, "new chains in every worker")


def packet_sockets(pid):
    """How many packet sockets (captures) process pid holds."""
    inodes = {line.split()[-1] for line in open("/proc/net/packet").read().splitlines()[1:]}
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        n += link.startswith("socket:[") and link[8:-1] in inodes
    return n


def flow_set(recs):
    return sorted((r["proto"], r["sip"], r["sp"], r["dip"], r["dp"], r["pkt_fwd"], r["pkt_rev"],
                   r["oct_fwd"], r["oct_rev"]) for r in recs)


@check("--readers 3 -j 2 (PACKET_FANOUT): the records of --readers 1 on the same packets, every packet once")
def _():
    with tempfile.TemporaryDirectory() as d:
        ports = "portrange %d-%d" % (BASE, BASE + 9)
        runs = {}
        for name, args in (("one", ["--readers", "1"]), ("fanout", ["--readers", "3", "-j", "2"])):
            stats = os.path.join(d, name + ".json")
            runs[name] = (Proc(*args, "-B", "8192", "-f", ports, "--stats", stats, "-i", "lo"), stats)
        fan = runs["fanout"][0]
        # the capture starts once the three sockets are in the group (then it says so)
        assert fan.wait_err("3 readers", 15), "no start: %s" % fan.err_lines
        for p, _ in runs.values():
            started(p)
        eq(packet_sockets(fan.p.pid), 3, "packet sockets of --readers 3")
        eq(packet_sockets(runs["one"][0].p.pid), 1, "packet sockets of --readers 1")
        for k in range(3):  # both directions, several flows a family
            udp_exchange(socket.AF_INET, BASE + 2 * k, 3, 2)
            udp_exchange(socket.AF_INET6, BASE + 2 * k, 2, 3)
        tcp_exchange(BASE + 6, socket.AF_INET, 2)
        tcp_exchange(BASE + 7, socket.AF_INET6, 2)
        time.sleep(0.5)
        out = {}
        for name, (p, stats) in runs.items():
            rc, recs, err = p.stop(signal.SIGINT)
            eq(rc, 0, "%s exit status: %s" % (name, err))
            out[name] = (recs, json.load(open(stats)), err)
        def ours(recs):  # other processes may use ports of the range (as ephemeral ones)
            mine = range(BASE, BASE + 10)
            return [r for r in recs if r["dp"] in mine and (r["proto"] == 6 or r["sp"] in mine)]
        recs1, s1, _ = out["one"]
        recs3, s3, _ = out["fanout"]
        eq(len(ours(recs1)), 10, "--readers 1: six UDP and four TCP flows: %r" % recs1)
        eq(flow_set(ours(recs3)), flow_set(ours(recs1)), "the same records, packet and octet counts")
        for name, recs, st in (("--readers 1", recs1, s1), ("--readers 3", recs3, s3)):
            eq(st["packets"], sum(r["pkt_fwd"] + r["pkt_rev"] for r in recs), "%s: packets counted once" % name)
        eq(s3["dropped"], 0, "dropped, summed over the sockets")


@check("--readers 3: SIGINT right after a burst loses nothing (each socket's last block is read)")
def _():
    for j in ("1", "2"):
        p = Proc("-c", "basic", "--readers", "3", "-j", j, "-B", "8192",
                 "-f", "udp and dst port %d" % (BASE + 8), "lo")
        assert p.wait_err("listening on", 10), p.err_lines
        time.sleep(0.5)
        for _ in range(40):  # 40 one-datagram flows, spread over the sockets, then the signal at once
            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            c.sendto(b"x", ("127.0.0.1", BASE + 8))
            c.close()
        rc, recs, err = p.stop()
        eq(rc, 0, "-j %s exit status: %s" % (j, err))
        eq(len(recs), 40, "-j %s: records of the 40 flows sent before SIGINT" % j)


@check("--readers 2: idle flows written by the wall clock; SIGHUP reloads the chains")
def _():
    with tempfile.TemporaryDirectory() as d:
        chain = os.path.join(d, "ver.lua")
        save(chain, CHAIN % {"v": "A", "extra": ""})
        both = "udp and src portrange %d-%d and dst portrange %d-%d" % (BASE, BASE + 9, BASE, BASE + 9)
        p = Proc("--readers", "2", "-B", "8192", "-c", "basic", "-c", chain, "-f", both,
                 "--idle-timeout", "2", "--expiry-timeout", "1", "lo")
        started(p)
        save(chain, CHAIN % {"v": "B", "extra": ""})
        p.p.send_signal(signal.SIGHUP)
        assert p.wait_err("chains reloaded", 5), "no reload reported: %s" % p.err_lines
        for k in range(4):
            udp_exchange(socket.AF_INET6 if k % 2 else socket.AF_INET, BASE + 2 * k, 2, 1)
        got = []
        while len(got) < 4:
            r = p.record(timeout=12)
            if r is None:
                break
            got.append(r)
        rc, recs, err = p.stop()
        eq(rc, 0, "exit status: %s" % err)
        eq(sorted((r["dp"], r["pkt_fwd"], r["pkt_rev"]) for r in got),
           [(BASE + 2 * k, 2, 1) for k in range(4)], "the idle flows, written while running")
        eq({r["version"] for r in got}, {"B"}, "new chains")


@check("--readers with a file, a pipe or a libtrace file URI: a usage error")
def _():
    cap = os.path.join(CAPS, "udp.pcap")
    for args, stdin in ((["--readers", "2", cap], None), (["--readers", "2", "-r", "-"], cap),
                        (["--readers", "3", "pcapfile:" + cap], None)):
        p = subprocess.run([PATHOBS, *args], stdin=open(stdin, "rb") if stdin else subprocess.DEVNULL,
                           capture_output=True, timeout=30)
        eq(p.returncode, 2, "%s exit status" % args)
        err = p.stderr.decode()
        assert "--readers" in err and ("read by one" in err or "not a Linux interface" in err), err
        eq(p.stdout, b"", "%s: no records" % args)
    p = subprocess.run([PATHOBS, "--readers", "17", "-i", "lo"], capture_output=True, timeout=30)
    eq(p.returncode, 2, "--readers 17")


report()
