#!/usr/bin/env python3
"""test_nats.py - the NATS JetStream sink against real nats-server processes on loopback.

Usage: test_nats.py PATHOBS NATS_CONSUME
Starts nats-server itself (free 127.0.0.1 ports, JetStream stores in a temporary
folder) and stops it; exit status 77 when nats-server is not installed.  Reads
the stream back with examples/nats_consume.c (a durable consumer).  Every wait
is bounded.  Prints one line per check and "N passed, N failed".
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from checks import check, eq, report  # noqa: E402
import pcapgen as pg  # noqa: E402

PATHOBS, CONSUME = sys.argv[1], sys.argv[2]
SERVER = shutil.which("nats-server")
if SERVER is None:
    print("nats-server not installed: skipped")
    sys.exit(77)
TMP = tempfile.mkdtemp(prefix="pathobs-nats-")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(cond, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
        return True
    except OSError:
        return False


class Server:
    """One nats-server with JetStream; a cluster node when routes are given."""

    def __init__(self, name, cluster_port=None, routes=(), extra=()):
        self.name, self.port, self.cluster_port, self.routes = name, free_port(), cluster_port, routes
        self.extra = list(extra)
        self.store = os.path.join(TMP, name)
        self.proc = None
        self.log = open(os.path.join(TMP, name + ".log"), "ab")

    def start(self):
        args = [SERVER, "-js", "-sd", self.store, "-a", "127.0.0.1", "-p", str(self.port),
                "--server_name", self.name] + self.extra
        if self.cluster_port:
            args += ["--cluster_name", "c", "--cluster", "nats://127.0.0.1:%d" % self.cluster_port,
                     "--routes", ",".join("nats://127.0.0.1:%d" % p for p in self.routes)]
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log)
        wait_for(lambda: port_open(self.port), 15, "nats-server on port %d" % self.port)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def url(self):
        return "127.0.0.1:%d" % self.port


def consume(urls, stream, durable, create=None, replicas=1, idle=2, count=None):
    """(ids, records) of what the durable consumer has not had yet: count of
    them (waiting up to 60 s), or what comes until idle seconds pass without."""
    args = [CONSUME, "-s", ",".join("nats://" + u for u in urls), "--id", "--idle",
            str(idle if count is None else 60)]
    if count is not None:
        args += ["--count", str(count)]
    if create:
        args += ["--create", create, "--replicas", str(replicas), "--duplicate-window", "600"]
    end = time.time() + 60
    while True:  # after a node died, the cluster may still be electing leaders
        out = subprocess.run(args + [stream, durable], capture_output=True, text=True, timeout=120)
        if out.returncode == 0 or time.time() > end or create:
            break
        time.sleep(1)
    assert out.returncode == 0, "nats_consume: " + out.stderr
    ids, recs = [], []
    for line in out.stdout.splitlines():
        i, rec = line.split("\t", 1)
        ids.append(i)
        recs.append(rec)
    return ids, recs


def make_stream(urls, stream, subject, replicas=1):
    end = time.time() + 60
    while True:  # a new cluster elects its meta leader first
        try:
            consume(urls, stream, "setup", create=subject, replicas=replicas, idle=0)
            return
        except AssertionError:
            if time.time() > end:
                raise
            time.sleep(0.5)


def capture(path, flows, start=1500000000.0, span=300.0):
    """UDP flows of two packets each, their starts spread over span seconds."""
    cap = pg.Capture()
    for i in range(flows):
        t = start + span * i / flows
        src = "10.%d.%d.%d" % (1 + i // 65536, i // 256 % 256, i % 256)
        cap.add(t, pg.ether(pg.udp_packet(src, "192.0.2.1", 1024 + i % 60000, 53, payload=b"q")))
        cap.add(t + 0.001, pg.ether(pg.udp_packet("192.0.2.1", src, 53, 1024 + i % 60000, payload=b"ra")))
    cap.save(path)
    return path


def file_records(cap):
    out = os.path.join(TMP, "file.jsonl")
    r = subprocess.run([PATHOBS, "-q", "--idle-timeout", "2", "-o", out, cap], timeout=120)
    assert r.returncode == 0
    with open(out) as f:
        return sorted(f.read().splitlines())


class Run:
    """pathobs reading a FIFO that the test feeds in parts; its counters in a --stats file."""

    def __init__(self, uri, *extra):
        self.fifo = os.path.join(TMP, "in-%d.fifo" % time.monotonic_ns())
        os.mkfifo(self.fifo)
        self.stats = self.fifo + ".stats"
        self.err = open(self.fifo + ".err", "w+")
        self.proc = subprocess.Popen(
            [PATHOBS, "--idle-timeout", "2", "--stats", self.stats, "--stats-interval", "1",
             "-o", uri] + list(extra) + [self.fifo], stderr=self.err)
        self.w = open(self.fifo, "wb")
        self.thread = None

    def feed(self, data, wait=True):
        def go():
            try:
                self.w.write(data)
                self.w.flush()
            except (BrokenPipeError, ValueError):
                pass
        self.thread = threading.Thread(target=go, daemon=True)
        self.thread.start()
        if wait:
            self.thread.join(60)

    def counters(self):
        try:
            with open(self.stats) as f:
                return json.load(f).get("sink", {})
        except (OSError, ValueError):
            return {}

    def close_input(self):
        self.thread and self.thread.join(60)
        self.w.close()

    def wait(self, timeout=90):
        rc = self.proc.wait(timeout)
        self.err.seek(0)
        return rc, self.err.read()


def split_pcap(path, parts):
    """The pcap's header and records cut into `parts` byte strings at record bounds."""
    data = open(path, "rb").read()
    offs, pos = [], 24
    while pos < len(data):
        offs.append(pos)
        pos += 16 + int.from_bytes(data[pos + 8:pos + 12], "little")
    cuts = [24] + [offs[len(offs) * k // parts] for k in range(1, parts)] + [len(data)]
    chunks = [data[cuts[k]:cuts[k + 1]] for k in range(parts)]
    chunks[0] = data[:24] + chunks[0]
    return chunks


def unique_sequences(ids, what):
    eq(len(set(ids)), len(ids), what + ": message IDs unique")
    prefixes = {i.rsplit("-", 1)[0] for i in ids}
    eq(len(prefixes), 1, what + ": one observer and run")
    eq(sorted(int(i.rsplit("-", 1)[1]) for i in ids), list(range(1, len(ids) + 1)),
       what + ": sequences 1..N")


ONLY = os.environ.get("PATHOBS_NATS_ONLY")  # run only the checks whose name holds this


def nats_check(name):
    return check(name) if not ONLY or ONLY in name else (lambda fn: fn)


CAP = capture(os.path.join(TMP, "flows.pcap"), 6000)
WANT = file_records(CAP)


@nats_check("one server: every record of a capture in the stream exactly once, as -o FILE writes it")
def _():
    s = Server("one")
    s.start()
    try:
        make_stream([s.url()], "ONE", "flows.>")
        r = subprocess.run([PATHOBS, "--idle-timeout", "2", "--observer", "probe.a", "--stats",
                            os.path.join(TMP, "one.json"),
                            "-o", "nats://%s/flows.{observer}" % s.url(), CAP],
                           capture_output=True, text=True, timeout=120)
        eq(r.returncode, 0, "exit status " + r.stderr)
        assert "6000 published, 6000 acknowledged" in r.stderr, r.stderr
        ids, recs = consume([s.url()], "ONE", "reader", count=len(WANT))
        eq(len(recs), len(WANT), "count")
        eq(sorted(recs), WANT, "records")
        unique_sequences(ids, "one server")
        assert ids[0].startswith("probe_a-"), ids[0]  # the name, made a subject token
        st = json.load(open(os.path.join(TMP, "one.json")))
        eq(st["sink"], {"published": 6000, "acknowledged": 6000, "retried": 0, "not_delivered": 0},
           "--stats")
        again, _ = consume([s.url()], "ONE", "reader", idle=2)
        eq(again, [], "the durable consumer goes on where it stopped")
    finally:
        s.kill()


@nats_check("fault: the server stalls, then is killed mid-run and restarted: nothing lost, nothing doubled")
def _():
    s = Server("fault")
    s.start()
    try:
        make_stream([s.url()], "FAULT", "flows.>")
        parts = split_pcap(CAP, 4)
        run = Run("nats://%s/flows.x" % s.url(), "--nats-buffer", "300")
        run.feed(parts[0])
        wait_for(lambda: run.counters().get("acknowledged", 0) > 0, 30, "first acknowledgements")
        # A stalled server: no acknowledgement for longer than pathobs waits
        # (3 s), so it sends the records again; the server then stores the
        # first copies and must drop the second ones.  pathobs fills its
        # buffer meanwhile and waits, and its loop with it (so its --stats
        # file stands still).
        s.proc.send_signal(signal.SIGSTOP)
        run.feed(parts[1], wait=False)
        time.sleep(4.5)
        s.proc.send_signal(signal.SIGCONT)
        run.feed(parts[2], wait=False)
        # Killed with records in flight: those it had not stored come again.
        time.sleep(0.5)
        s.proc.send_signal(signal.SIGSTOP)
        time.sleep(1)
        s.kill()
        time.sleep(1)
        s.start()
        run.feed(parts[3])
        run.close_input()
        rc, err = run.wait()
        eq(rc, 0, "exit status " + err)
        assert "0 not delivered" in err and "disconnected" in err, err
        k = json.load(open(run.stats))["sink"]
        eq(k["acknowledged"], len(WANT), "acknowledged")
        assert k["retried"] > 0, k
        ids, recs = consume([s.url()], "FAULT", "reader", count=len(WANT))
        eq(consume([s.url()], "FAULT", "reader", idle=2)[0], [], "nothing more")
        eq(len(recs), len(WANT), "count")
        eq(sorted(recs), WANT, "records")
        unique_sequences(ids, "after the fault")
    finally:
        s.kill()


@nats_check("SIGTERM while the server is down: exit status 1, the counters say what was not delivered")
def _():
    s = Server("term")
    s.start()
    try:
        make_stream([s.url()], "TERM", "flows.>")
        parts = split_pcap(CAP, 3)
        run = Run("nats://%s/flows.x" % s.url(), "--nats-buffer", "200", "--nats-drain", "1")
        run.feed(parts[0])
        wait_for(lambda: run.counters().get("acknowledged", 0) > 0, 30, "first acknowledgements")
        s.kill()
        run.feed(parts[1], wait=False)  # more than the buffer holds
        time.sleep(2)
        run.proc.send_signal(signal.SIGTERM)
        rc, err = run.wait(60)
        eq(rc, 1, "exit status " + err)
        st = json.load(open(run.stats))
        k = st["sink"]
        assert k["not_delivered"] > 0, st
        eq(k["acknowledged"] + k["not_delivered"], st["records"], "every record acknowledged or counted")
        assert "%d records not delivered" % k["not_delivered"] in err, err
        s.start()  # what reached the stream is there once
        ids, _ = consume([s.url()], "TERM", "reader")
        eq(len(set(ids)), len(ids), "no doubles")
        assert k["acknowledged"] <= len(ids) <= k["published"], (len(ids), k)
    finally:
        s.kill()


@nats_check("three-node cluster, stream of three replicas: a node killed mid-run, every record once")
def _():
    cports = [free_port() for _ in range(3)]
    nodes = [Server("n%d" % i, cports[i], [p for p in cports if p != cports[i]]) for i in range(3)]
    for n in nodes:
        n.start()
    try:
        urls = [n.url() for n in nodes]
        make_stream(urls, "CLUSTER", "flows.>", replicas=3)
        parts = split_pcap(CAP, 3)
        run = Run("nats://%s/flows.x" % ",".join(urls), "--nats-buffer", "500")
        run.feed(parts[0])
        wait_for(lambda: run.counters().get("acknowledged", 0) > 0, 30, "first acknowledgements")
        nodes[0].kill()  # the one pathobs is connected to (the list is not shuffled)
        run.feed(parts[1])
        run.feed(parts[2])
        run.close_input()
        rc, err = run.wait(120)
        eq(rc, 0, "exit status " + err)
        ids, recs = consume(urls[1:], "CLUSTER", "reader", count=len(WANT))
        eq(consume(urls[1:], "CLUSTER", "reader", idle=2)[0], [], "nothing more")
        eq(len(recs), len(WANT), "count")
        eq(sorted(recs), WANT, "records")
        unique_sequences(ids, "cluster")
    finally:
        for n in nodes:
            n.kill()


@nats_check("bad sink settings: a clear message, usage errors exit 2")
def _():
    def run(*args):
        return subprocess.run([PATHOBS, "-q"] + list(args) + [CAP], capture_output=True, text=True,
                              timeout=30)
    r = run("-o", "nats://127.0.0.1:1")
    eq(r.returncode, 2, "no subject: " + r.stderr)
    assert "a subject" in r.stderr, r.stderr
    r = run("-o", "nats://127.0.0.1:1/a.*")
    eq(r.returncode, 2, "wildcard subject: " + r.stderr)
    assert "not a subject to publish on" in r.stderr, r.stderr
    r = run("-o", "nats://127.0.0.1:1/x", "--nats-buffer", "0")
    eq(r.returncode, 2, "--nats-buffer 0: " + r.stderr)
    r = run("-o", "nats://127.0.0.1:1/x", "--nats-tls-cert", "c.pem")
    eq(r.returncode, 2, "cert without key: " + r.stderr)
    r = run("-o", "nats://127.0.0.1:1/x", "--nats-creds", os.path.join(TMP, "none.creds"))
    eq(r.returncode, 1, "missing creds file: " + r.stderr)
    # nobody listens: pathobs waits --nats-drain seconds, then says what was lost
    r = run("-o", "nats://127.0.0.1:%d/x" % free_port(), "--nats-drain", "1", "--stats",
            os.path.join(TMP, "nobody.json"))
    eq(r.returncode, 1, "no server: " + r.stderr)
    assert "not reachable yet" in r.stderr and "6000 records not delivered" in r.stderr, r.stderr
    eq(json.load(open(os.path.join(TMP, "nobody.json")))["sink"]["not_delivered"], 6000, "counted")


@nats_check("TLS: tls:// with the CA (--nats-tls-ca) and a client certificate the server verifies")
def _():
    if shutil.which("openssl") is None:
        print("     (no openssl to make certificates: skipped)")
        return
    d = os.path.join(TMP, "tls")
    os.mkdir(d)

    def ssl(*args):
        subprocess.run(["openssl"] + list(args), cwd=d, check=True, capture_output=True, timeout=60)
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test CA",
        "-keyout", "ca.key", "-out", "ca.pem")
    with open(os.path.join(d, "ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    for who in ("server", "client"):
        ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + who, "-keyout", who + ".key",
            "-out", who + ".csr")
        ssl("x509", "-req", "-in", who + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "ext", "-out", who + ".pem")
    p = lambda n: os.path.join(d, n)  # noqa: E731
    s = Server("tls", extra=["--tlsverify", "--tlscert", p("server.pem"), "--tlskey", p("server.key"),
                             "--tlscacert", p("ca.pem")])
    s.start()
    try:
        tls = ["--nats-tls-ca", p("ca.pem"), "--nats-tls-cert", p("client.pem"),
               "--nats-tls-key", p("client.key")]
        r = subprocess.run([PATHOBS, "--nats-drain", "2", "-o", "tls://%s/flows.t" % s.url()] + tls + [CAP],
                           capture_output=True, text=True, timeout=120)
        eq(r.returncode, 1, "no stream yet, so nothing acknowledged: " + r.stderr)
        assert "no stream answers on flows.t" in r.stderr, r.stderr  # TLS itself worked
        r = subprocess.run([PATHOBS, "-q", "--nats-drain", "1", "-o", "tls://%s/flows.t" % s.url(),
                            "--nats-tls-ca", p("ca.pem"), CAP], capture_output=True, text=True, timeout=120)
        eq(r.returncode, 1, "without a client certificate: " + r.stderr)
        assert "no stream answers" not in r.stderr, r.stderr
    finally:
        s.kill()


def can_capture():
    r = subprocess.run(["timeout", "--preserve-status", "-s", "INT", "1", PATHOBS, "-q", "-f",
                        "port 1", "lo"], capture_output=True, text=True)
    return r.returncode == 0


@nats_check("live source, stalled server: intake waits, packets dropped at capture are counted, "
            "no record made is lost")
def _():
    if not can_capture():
        print("     (no right to capture on lo: skipped)")
        return
    s = Server("live")
    s.start()
    base = 30000 + os.getpid() % 500 * 60
    try:
        make_stream([s.url()], "LIVE", "flows.>")
        stats = os.path.join(TMP, "live.json")
        # only this test's datagrams: not the NATS traffic on lo
        p = subprocess.Popen([PATHOBS, "-f", "udp and dst portrange %d-%d" % (base, base + 49),
                              "--idle-timeout", "1", "--expiry-timeout", "1", "--stats", stats,
                              "--nats-buffer", "20", "-B", "64", "-o", "nats://%s/flows.live" % s.url(), "lo"],
                             stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)  # the capture opens
        cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.proc.send_signal(signal.SIGSTOP)
        # Flows enough to fill the sink's buffer and the writer's pages: records
        # are made once a flow is idle for a second, then pathobs waits.
        for rnd in range(40):
            for k in range(50):
                c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                c.sendto(b"x", ("127.0.0.1", base + k))
                c.close()
        time.sleep(4)
        for _ in range(100000):  # meanwhile nobody reads the capture: the kernel drops
            cli.sendto(b"y", ("127.0.0.1", base))
        s.proc.send_signal(signal.SIGCONT)
        time.sleep(4)
        p.send_signal(signal.SIGINT)
        err = p.communicate(timeout=60)[1]
        eq(p.returncode, 0, "exit status " + err)
        st = json.load(open(stats))
        assert st["dropped"] > 0, st
        k = st["sink"]
        eq((k["acknowledged"], k["not_delivered"]), (st["records"], 0), "every record delivered")
        ids, recs = consume([s.url()], "LIVE", "reader", count=st["records"])
        eq(consume([s.url()], "LIVE", "reader", idle=2)[0], [], "nothing more")
        eq(len(recs), st["records"], "records in the stream")
        unique_sequences(ids, "live")
    finally:
        if s.proc:
            s.proc.send_signal(signal.SIGCONT)
        s.kill()


report()
