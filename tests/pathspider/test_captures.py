#!/usr/bin/python3
"""test_captures.py - the Observer on every capture Debian's PATHspider ships gives what pathobs gives.

Usage: test_captures.py PATHOBS
For each pcap in pathspider/tests/data/ and each chain set (PATHspider's
chain classes as its plugins use them, and all of them at once), the records
Observer.run_flow_enqueuer puts on the flow queue equal, field by field and
type by type and in order, the JSON lines of `pathobs -c ... pcapfile:FILE`.
Also: the queue protocol (sentinel identity, irqueue on a file, a forked
process as PATHspider's measure uses), failures (missing program, bad source,
a Python chain class), and Lua chain files named by a plugin.
Skipped (77) without Debian's pathspider.
"""
import glob
import logging
import multiprocessing as mp
import os
import queue
import subprocess
import sys
import tempfile

from common import drain, need_pathspider, pathobs_records, typed, use_source_package

PATHOBS = os.path.abspath(sys.argv[1])
pathspider = need_pathspider()
use_source_package(PATHOBS)

from checks import check, eq, report  # noqa: E402
from pathspider.base import SHUTDOWN_SENTINEL  # noqa: E402
from pathspider.chains.basic import BasicChain  # noqa: E402
from pathspider.chains.dns import DNSChain  # noqa: E402
from pathspider.chains.dscp import DSCPChain  # noqa: E402
from pathspider.chains.ecn import ECNChain  # noqa: E402
from pathspider.chains.evil import EvilChain  # noqa: E402
from pathspider.chains.icmp import ICMPChain  # noqa: E402
from pathspider.chains.mss import MSSChain  # noqa: E402
from pathspider.chains.noop import NoOpChain  # noqa: E402
from pathspider.chains.tcp import TCPChain  # noqa: E402
from pathspider.chains.tfo import TFOChain  # noqa: E402
from pathspider.chains.udp import UDPChain  # noqa: E402

import pathobs_pathspider  # noqa: E402
from pathobs_pathspider import ChainMappingError, Observer  # noqa: E402

# Written out here, not taken from the package: the test checks the mapping.
LUA = {BasicChain: "basic", TCPChain: "tcp", ECNChain: "ecn", DSCPChain: "dscp",
       EvilChain: "evilbit", ICMPChain: "icmp", MSSChain: "mss", TFOChain: "tfo",
       UDPChain: "udp", DNSChain: "dns", NoOpChain: "noop"}
ALL = [BasicChain, TCPChain, ECNChain, DSCPChain, EvilChain, ICMPChain, MSSChain,
       TFOChain, UDPChain, DNSChain, NoOpChain]
# the chains of the plugin (or chain) each capture was made for
BY_PREFIX = [("basic_", [BasicChain]), ("tcp_", [BasicChain, TCPChain]),
             ("ecn_", [BasicChain, TCPChain, ECNChain]),
             ("dscp_", [BasicChain, DSCPChain, TCPChain, DNSChain]),
             ("evilbit_", [BasicChain, DNSChain, TCPChain, EvilChain]),
             ("icmp_", [BasicChain, ICMPChain]), ("mss_", [BasicChain, TCPChain, MSSChain]),
             ("tfo_", [BasicChain, TCPChain, TFOChain]), ("udp_", [BasicChain, UDPChain]),
             ("dns_", [BasicChain, DNSChain]), ("", [BasicChain, TCPChain])]

DATA = os.path.join(os.path.dirname(pathspider.__file__), "tests", "data")
CAPTURES = sorted(glob.glob(os.path.join(DATA, "*.pcap")))


def cli(chains, source, *extra):
    argv = [PATHOBS, "-q", *extra]
    for c in chains:
        argv += ["-c", LUA[c] if isinstance(c, type) else c]
    if not chains:
        argv += ["-c", "noop"]
    out = subprocess.run(argv + [source], stdout=subprocess.PIPE, check=True, timeout=120)
    return pathobs_records(out.stdout.decode())


def observe(source, chains, **kw):
    q = queue.Queue()
    Observer(source, chains, **kw).run_flow_enqueuer(q)
    return drain(q, SHUTDOWN_SENTINEL)


def same(got, want, what):
    eq(len(got), len(want), what + ": number of records")
    for i, (g, w) in enumerate(zip(got, want)):
        eq(typed(g), typed(w), "%s: record %d" % (what, i))


@check("Debian's pathspider ships test captures")
def _():
    assert len(CAPTURES) >= 40, "only %d captures in %s" % (len(CAPTURES), DATA)


for path in CAPTURES:
    name = os.path.basename(path)
    plugin = next(chains for prefix, chains in BY_PREFIX if name.startswith(prefix))
    for chains, label in ((plugin, "+".join(c.__name__ for c in plugin)), (ALL, "all chains")):
        @check("%s with %s: Observer records == pathobs records" % (name, label))
        def _(path=path, chains=chains, label=label):
            with open(path, "rb") as fh:  # libtrace 3 reads pcapng only by recognising it
                pcapng = fh.read(4) == b"\x0a\x0d\x0d\x0a"
            want = cli(chains, path if pcapng else "pcapfile:" + path)
            got = observe("pcapfile:" + path, chains)
            same(got, want, name)


@check("records carry PATHspider's types: float times, str addresses, int ports, None")
def _():
    recs = observe("pcapfile:" + os.path.join(DATA, "tcp_ipv4_simple.pcap"),
                   [BasicChain, TCPChain, MSSChain])
    assert recs
    for r in recs:
        assert type(r["pkt_first"]) is float and type(r["pkt_last"]) is float, r
        assert type(r["sip"]) is str and type(r["dip"]) is str, r
        assert type(r["sp"]) is int and type(r["dp"]) is int and type(r["proto"]) is int, r
        assert type(r["tcp_connected"]) is bool, r
        assert r["mss_len_rev"] is None or type(r["mss_len_rev"]) is int, r
        assert not any(k.startswith("_") for k in r), r


@check("pcap:, pcapfile: and a plain file name give the same records")
def _():
    path = os.path.join(DATA, "ecn_ipv4_nice_ect0.pcap")
    chains = [BasicChain, TCPChain, ECNChain]
    want = observe("pcapfile:" + path, chains)
    assert want
    same(observe("pcap:" + path, chains), want, "pcap:")
    same(observe(path, chains), want, "plain file")


@check("no chains: PATHspider's empty records (pkt_first, pkt_last only)")
def _():
    recs = observe("pcapfile:" + os.path.join(DATA, "tcp_ipv4_simple.pcap"), [])
    assert recs
    for r in recs:
        eq(sorted(r), ["pkt_first", "pkt_last"], "fields")
    same(observe("pcapfile:" + os.path.join(DATA, "tcp_ipv4_simple.pcap"), None), recs, "None")


@check("idle_timeout and expiry_timeout reach pathobs")
def _():
    path = os.path.join(DATA, "real.pcap")
    want = cli([BasicChain, TCPChain], "pcapfile:" + path, "--idle-timeout", "2",
               "--expiry-timeout", "1")
    got = observe("pcapfile:" + path, [BasicChain, TCPChain], idle_timeout=2, expiry_timeout=1)
    same(got, want, "timeouts")
    ob = Observer("pcapfile:" + path, [BasicChain], idle_timeout=7, expiry_timeout=3)
    ob.run_flow_enqueuer(queue.Queue())
    assert ob.argv[ob.argv.index("--idle-timeout") + 1] == "7", ob.argv
    assert ob.argv[ob.argv.index("--expiry-timeout") + 1] == "3", ob.argv


@check("an irqueue that stays empty: a file is read to its end")
def _():
    path = os.path.join(DATA, "real.pcap")
    q, irq = queue.Queue(), queue.Queue()
    Observer("pcapfile:" + path, [BasicChain]).run_flow_enqueuer(q, irq)
    same(drain(q, SHUTDOWN_SENTINEL), cli([BasicChain], "pcapfile:" + path), "irqueue")


def _forked(ob, flowqueue, irqueue):
    ob.run_flow_enqueuer(flowqueue, irqueue)


@check("run in a forked process, as PATHspider's measure runs it (multiprocessing queues)")
def _():
    path = os.path.join(DATA, "ecn_ipv6_nice_ect0.pcap")
    ctx = mp.get_context("fork")
    flowqueue, irq = ctx.Queue(1000), ctx.Queue(1000)
    ob = Observer("pcapfile:" + path, [BasicChain, TCPChain, ECNChain])
    p = ctx.Process(target=_forked, args=(ob, flowqueue, irq), daemon=True)
    p.start()
    recs = []
    while True:
        item = flowqueue.get(timeout=60)
        if item == SHUTDOWN_SENTINEL:
            break
        recs.append(item)
    p.join(30)
    eq(p.exitcode, 0, "observer process")
    same(recs, cli([BasicChain, TCPChain, ECNChain], "pcapfile:" + path), "forked")


class Logged(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


def failing(source, chains=(BasicChain,), env=None):
    handler = Logged()
    logging.getLogger("observer").addHandler(handler)
    old = dict(os.environ)
    os.environ.update(env or {})
    try:
        q = queue.Queue()
        Observer(source, list(chains)).run_flow_enqueuer(q, queue.Queue())
        return drain(q, SHUTDOWN_SENTINEL), [r for r in handler.records
                                             if r.levelno >= logging.ERROR]
    finally:
        os.environ.clear()
        os.environ.update(old)
        logging.getLogger("observer").removeHandler(handler)


@check("a source pathobs cannot open: an error is logged, the sentinel follows")
def _():
    recs, errors = failing("pcapfile:/nonexistent/x.pcap")
    eq(recs, [], "records")
    assert errors and "exit status 1" in errors[0].getMessage(), [e.getMessage() for e in errors]
    assert "/nonexistent/x.pcap" in errors[0].getMessage()


@check("no pathobs program: an error naming it and PATHOBS_BIN, then the sentinel")
def _():
    recs, errors = failing("pcapfile:" + CAPTURES[0], env={"PATHOBS_BIN": "/nonexistent/pathobs"})
    eq(recs, [], "records")
    assert errors and "PATHOBS_BIN" in errors[0].getMessage(), [e.getMessage() for e in errors]


@check("a Lua chain that does not load: an error (exit status 3), then the sentinel")
def _():
    with tempfile.TemporaryDirectory() as d:
        bad = os.path.join(d, "bad.lua")
        with open(bad, "w") as fh:
            fh.write("this is not lua\n")
        recs, errors = failing("pcapfile:" + CAPTURES[0], chains=[BasicChain, bad])
    eq(recs, [], "records")
    assert errors and "exit status 3" in errors[0].getMessage(), [e.getMessage() for e in errors]


class PluginChain:
    """A plugin's own Python chain."""

    def new_flow(self, rec, ip):
        return True


@check("a chain class without a Lua counterpart: a clear error naming it and docs/porting.md")
def _():
    class MyECN(ECNChain):
        pass
    for cls in (PluginChain, MyECN):
        try:
            Observer("pcapfile:" + CAPTURES[0], [BasicChain, cls])
        except ChainMappingError as err:
            assert cls.__qualname__ in str(err) and "docs/porting.md" in str(err), str(err)
        else:
            raise AssertionError("%s was accepted" % cls.__name__)
    try:
        Observer("pcapfile:" + CAPTURES[0], [BasicChain, 42])
    except ChainMappingError as err:
        assert "42" in str(err)
    else:
        raise AssertionError("42 was accepted as a chain")


@check("a plugin names Lua chains: strings, paths, and a class's pathobs_chain attribute")
def _():
    path = os.path.join(DATA, "tcp_ipv4_simple.pcap")
    with tempfile.TemporaryDirectory() as d:
        lua = os.path.join(d, "synttl.lua")
        with open(lua, "w") as fh:
            fh.write("-- synttl - TTL of the forward SYN\n"
                     "return { new_flow = function(rec) rec.syn_ttl = require('pathobs').null end,\n"
                     "  ip4 = function(rec, ip, rev) if not rev and ip.tcp ~= nil and ip.tcp.syn_flag"
                     " then rec.syn_ttl = ip.ttl end end }\n")
        want = cli(["basic", "tcp", lua], "pcapfile:" + path)
        assert want and all(type(r["syn_ttl"]) is int for r in want), want
        same(observe("pcapfile:" + path, ["basic", TCPChain, lua]), want, "strings")

        class SynTTLChain:
            pathobs_chain = "synttl.lua"  # relative: next to the plugin's module
        mod = type(sys)("synttl_plugin")
        mod.__file__ = os.path.join(d, "plugin.py")
        sys.modules["synttl_plugin"] = mod
        SynTTLChain.__module__ = "synttl_plugin"
        same(observe("pcapfile:" + path, [BasicChain, TCPChain, SynTTLChain]), want, "attribute")


LAUNCHER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "python",
                        "pspdr-pathobs")


@check("pspdr-pathobs observe -i FILE basic tcp ecn writes pathobs's records")
def _():
    for name in ("tcp_ecn.pcap", "icmp_ttl.pcap"):
        path = os.path.join(DATA, name)
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "out.json")
            run = subprocess.run([LAUNCHER, "observe", "-i", path, "--output", out,
                                  "basic", "tcp", "ecn"], stderr=subprocess.PIPE, timeout=120)
            eq(run.returncode, 0, "exit status: " + run.stderr.decode())
            with open(out) as fh:
                got = pathobs_records(fh.read())
        assert got, name
        same(got, cli([BasicChain, TCPChain, ECNChain], path), name)


@check("pspdr-pathobs runs PATHspider's command line: --help lists its commands and plugins")
def _():
    run = subprocess.run([LAUNCHER, "--help"], stdout=subprocess.PIPE, timeout=60, check=True)
    for cmd in ("measure", "observe", "filter", "test"):
        assert cmd in run.stdout.decode(), run.stdout
    run = subprocess.run([LAUNCHER, "measure", "--help"], stdout=subprocess.PIPE, timeout=60,
                         check=True)
    for plugin in ("ecn", "dscp", "mss", "evilbit", "udpzero"):
        assert plugin in run.stdout.decode(), run.stdout


@check("the package maps every chain class of PATHspider 2 (TCPOptChain too)")
def _():
    for cls, lua in LUA.items():
        eq(pathobs_pathspider.CHAIN_CLASSES[cls.__name__], lua, cls.__name__)
    eq(pathobs_pathspider.CHAIN_CLASSES["TCPOptChain"], "tcpopt", "TCPOptChain")
    listed = subprocess.run([PATHOBS, "--list-chains"], stdout=subprocess.PIPE, check=True)
    names = {line.split()[0] for line in listed.stdout.decode().splitlines() if line.strip()}
    missing = set(pathobs_pathspider.CHAIN_CLASSES.values()) - names
    assert not missing, "not bundled: %s" % missing


report()
