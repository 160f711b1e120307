#!/usr/bin/python3
"""test_live_shutdown.py - shutdown through irqueue on a live capture (lo) loses no record.

Usage: test_live_shutdown.py PATHOBS
Captures on `lo` with the Observer (PATHspider's interface), makes its own TCP
connections to a server on 127.0.0.1 and ::1, some closed and some still
open, then puts one item on irqueue: every connection's flow must come out
once, before the sentinel, and pathobs must have exited 0. Needs root (or
CAP_NET_RAW); skipped (77) without it or without Debian's pathspider.
"""
import ctypes
import os
import queue
import shutil
import subprocess
import socket
import sys
import threading
import time

from common import drain, need_pathspider, skip, use_source_package

PATHOBS = os.path.abspath(sys.argv[1])
need_pathspider()
use_source_package(PATHOBS)

from checks import check, eq, report  # noqa: E402
from pathspider.base import SHUTDOWN_SENTINEL  # noqa: E402
from pathspider.chains.basic import BasicChain  # noqa: E402
from pathspider.chains.tcp import TCPChain  # noqa: E402

from pathobs_pathspider import Observer  # noqa: E402

try:
    socket.socket(socket.AF_PACKET, socket.SOCK_RAW).close()
except (PermissionError, AttributeError, OSError) as err:
    skip("no right to capture on lo (%s): run as root" % err)

CLOSED, OPEN = 20, 5


def private_loopback():
    """Move this process to a network namespace of its own, whose lo carries
    only this test's traffic (other programs' bursts on the host's lo can
    overflow the capture buffer). False where that is not allowed."""
    CLONE_NEWNET = 0x40000000
    if shutil.which("ip") is None:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        return False
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=30)
    return True


# before any thread starts: threads and children inherit the namespace
PRIVATE = private_loopback()
print("capturing on the lo of %s" % ("a network namespace of this test's own" if PRIVATE
                                     else "the host (no namespace could be made)"))


def server(family, addr):
    s = socket.socket(family)
    s.bind((addr, 0))
    s.listen(64)
    return s


def connect(srv, family, addr, close):
    port = srv.getsockname()[1]
    c = socket.create_connection((addr, port), timeout=10)
    a, _ = srv.accept()
    c.sendall(b"hello")
    a.recv(16)
    sport = c.getsockname()[1]
    if close:
        c.close()
        a.close()
        return sport, None
    return sport, (c, a)


observer = Observer("int:lo", [BasicChain, TCPChain])
flowqueue, irqueue = queue.Queue(), queue.Queue()
thread = threading.Thread(target=observer.run_flow_enqueuer, args=(flowqueue, irqueue), daemon=True)
thread.start()

families = [(socket.AF_INET, "127.0.0.1")]
try:
    socket.socket(socket.AF_INET6).bind(("::1", 0))
    families.append((socket.AF_INET6, "::1"))
except OSError:
    pass

expected = {}  # (dip, sp) -> (dp, still open)
held = []
for family, addr in families:
    srv = server(family, addr)
    for i in range(CLOSED + OPEN):
        sport, conn = connect(srv, family, addr, close=i < CLOSED)
        expected[(addr, sport)] = (srv.getsockname()[1], conn is not None)
        # paced: this checks the shutdown, not how large a burst the capture buffer takes
        time.sleep(0.02)
        if conn:
            held.append(conn)
    held.append((srv,))

irqueue.put(True)
records = drain(flowqueue, SHUTDOWN_SENTINEL)
thread.join(60)
for group in held:
    for s in group:
        s.close()
mine = [r for r in records if (r.get("dip"), r.get("sp")) in expected
        and r.get("dp") == expected[(r["dip"], r["sp"])][0]]


@check("run_flow_enqueuer returned after the irqueue item, pathobs exited 0")
def _():
    assert not thread.is_alive(), "still running"
    eq(observer._proc.wait(timeout=10), 0, "pathobs exit status")


@check("every connection's flow came out exactly once (%d)" % len(expected))
def _():
    seen = {}
    for r in mine:
        seen[(r["dip"], r["sp"])] = seen.get((r["dip"], r["sp"]), 0) + 1
    missing = set(expected) - set(seen)
    ports = {sp for _, sp in missing}
    near = [r for r in records if r.get("sp") in ports or r.get("dp") in ports]
    assert not missing, "missing flows: %s (pathobs: %s); records of their ports: %s" % (
        sorted(missing), observer._counters, near)
    twice = {k: n for k, n in seen.items() if n != 1}
    assert not twice, "flows written more than once: %s" % twice


@check("closed connections are complete, open ones were flushed on shutdown")
def _():
    for r in mine:
        is_open = expected[(r["dip"], r["sp"])][1]
        assert r["tcp_connected"] is True, r
        assert r["pkt_fwd"] >= 3 and r["pkt_rev"] >= 2, r
        if is_open:
            assert not r["tcp_fin_fwd"] and not r["tcp_fin_rev"], r
        else:
            assert r["tcp_fin_fwd"] and r["tcp_fin_rev"], r
    eq(sum(1 for r in mine if expected[(r["dip"], r["sp"])][1]), OPEN * len(families),
       "open flows")


LAUNCHER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "python",
                        "pspdr-pathobs")


@check("pspdr-pathobs observe -i lo basic tcp ecn: SIGINT writes every flow, exit 0")
def _():
    import signal
    import tempfile
    import time
    from common import pathobs_records
    with tempfile.TemporaryDirectory() as d:
        out, err = os.path.join(d, "out.json"), os.path.join(d, "err.log")
        with open(err, "w") as errfh:
            p = subprocess.Popen([LAUNCHER, "observe", "-i", "lo", "--output", out,
                                  "basic", "tcp", "ecn"], stderr=errfh)
        try:
            deadline = time.monotonic() + 120
            while "registering interrupt" not in open(err).read():
                assert p.poll() is None and time.monotonic() < deadline, open(err).read()
                time.sleep(0.1)
            srv = server(socket.AF_INET, "127.0.0.1")
            ports = {connect(srv, socket.AF_INET, "127.0.0.1", close=True)[0] for _ in range(5)}
            dp = srv.getsockname()[1]
            srv.close()
            p.send_signal(signal.SIGINT)
            eq(p.wait(timeout=120), 0, "exit status: " + open(err).read())
        finally:
            if p.poll() is None:
                p.kill()
        with open(out) as fh:
            recs = [r for r in pathobs_records(fh.read()) if r["dp"] == dp and r["sp"] in ports]
    eq(sorted(r["sp"] for r in recs), sorted(ports), "flows")
    for r in recs:
        assert r["tcp_connected"] and r["ecn_ect0_syn_fwd"] is False, r


report()
