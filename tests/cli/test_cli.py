#!/usr/bin/env python3
"""test_cli.py - the pathobs command line: options, exit status, diagnostics, chains that fail.

Usage: test_cli.py PATHOBS CAPTURES_DIR
Each check runs pathobs as a user would and looks at stdout, stderr, files and
the exit status. Prints one line per check and a closing "N passed, N failed".
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from checks import check, eq, report  # noqa: E402

PATHOBS, CAPS = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
CH = os.path.join(HERE, "chains")
TCP4 = os.path.join(CAPS, "tcp4.pcap")
UDP = os.path.join(CAPS, "udp.pcap")
ICMP = os.path.join(CAPS, "icmp.pcap")
COUNTERS = re.compile(r"^pathobs: \d+ packets \(\d+ dropped, \d+ short, \d+ non-ip, \d+ fragments, \d+ reordered\) -> "
                      r"\d+ flows \(\d+ ignored, \d+ evicted\), \d+ chain errors$")


def run(*args, stdin=None, env=None, timeout=30):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([PATHOBS, *args], input=stdin, capture_output=True, timeout=timeout, env=e)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")




def records(out):
    return [json.loads(line) for line in out.splitlines()]




@check("help on stdout, exit 0")
def _():
    for flag in ("-h", "--help"):
        rc, out, err = run(flag)
        eq(rc, 0, flag)
        assert out.startswith("Usage: pathobs"), out[:80]
        assert "--chain" in out and "Example" in out
        eq(err, "", "stderr")


@check("version names every library")
def _():
    rc, out, _ = run("-V")
    eq(rc, 0)
    for lib in ("pathobs ", "libtrace 3.", "LuaJIT 2.1", "libuv 1.", "cJSON 1."):
        assert lib in out, "missing %r in %r" % (lib, out)


@check("list-chains shows basic with its description")
def _():
    rc, out, _ = run("--list-chains")
    eq(rc, 0)
    line = [l for l in out.splitlines() if l.startswith("basic ")]
    assert line and "direction" in line[0], out


@check("usage errors: one line and a hint, exit 2")
def _():
    for args in (["--bogus", TCP4], [], ["--idle-timeout", "x", TCP4], ["--max-flows", "0", TCP4],
                 [TCP4, TCP4], ["-c"]):
        rc, out, err = run(*args)
        eq(rc, 2, " ".join(args))
        eq(out, "", "stdout")
        lines = err.splitlines()
        assert len(lines) == 2 and lines[0].startswith("pathobs: ") and "--help" in lines[1], err


@check("counters line on stderr; -q silences it")
def _():
    rc, out, err = run(TCP4)
    eq(rc, 0)
    assert COUNTERS.match(err.strip()), err
    assert "15 packets" in err and "2 flows" in err, err
    rc, out2, err = run("-q", TCP4)
    eq(err, "", "quiet stderr")
    eq(out2, out, "same records")


@check("--stats writes the counters as JSON")
def _():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "s.json")
        rc, _, _ = run("-q", "--stats", path, TCP4)
        eq(rc, 0)
        s = json.load(open(path))
        eq(s["packets"], 15, "packets")
        eq(s["flows"], 2, "flows")
        eq(s["records"], 2, "records")
        eq(sorted(s), sorted(["chain_errors", "dropped", "evicted", "flows", "fragments", "ignored",
                              "non_ip", "packets", "records", "reordered", "short",
                              "source", "start", "end", "duration"]), "keys")


@check("flow rules: non-IP frames, reordered timestamps and lone fragments in the counters")
def _():
    sys.path.insert(0, os.path.join(HERE, "..", "tools"))
    import pcapgen as pg
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "s.json")
        rc, out, _ = run("-q", "--stats", path, os.path.join(CAPS, "flowrules.pcap"))
        eq(rc, 0)
        s = json.load(open(path))
        eq((s["packets"], s["non_ip"], s["fragments"], s["reordered"], s["flows"], s["records"]),
           (33, 15, 2, 1, 9, 9), "packets, non_ip, fragments, reordered, flows, records")
        # one IPv4 packet of protocol 47 (GRE) at offset 1480: no record, one fragment
        cap = pg.Capture()
        pkt = pg.ipv4(pg.filler(40, "gre"), "192.0.2.1", "198.51.100.1", 47, ident=7, frag_offset=1480)
        cap.add((1500000000, 0), pg.ether(pkt, pad=True))
        one = os.path.join(d, "gre.pcap")
        cap.save(one)
        rc, out, _ = run("-q", "--stats", path, one)
        eq((rc, out), (0, ""), "no record")
        s = json.load(open(path))
        eq((s["packets"], s["fragments"], s["flows"]), (1, 1, 0), "packets, fragments, flows")


@check("-o FILE holds what stdout would")
def _():
    _, out, _ = run("-q", TCP4)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "o.jsonl")
        open(path, "w").write("old content that must go\n" * 100)
        rc, out2, _ = run("-q", "-o", path, TCP4)
        eq(rc, 0)
        eq(out2, "", "stdout with -o")
        eq(open(path).read(), out, "file content")


@check("write errors: -o /dev/full and an unwritable path exit 1")
def _():
    rc, _, err = run("-q", "-o", "/dev/full", TCP4)
    eq(rc, 1, "/dev/full")
    assert "write error" in err and "No space" in err, err
    rc, _, err = run("-q", "-o", "/nonexistent-dir/x.jsonl", TCP4)
    eq(rc, 1, "bad path")
    assert "/nonexistent-dir/x.jsonl" in err, err


@check("stdout closed early: ends at once, quietly, status 0")
def _():
    start = time.time()
    p = subprocess.run("'%s' -q -c '%s' '%s' | head -c 10 >/dev/null; echo ${PIPESTATUS[0]}"
                       % (PATHOBS, os.path.join(CH, "huge.lua"), ICMP),
                       shell=True, executable="/bin/bash", capture_output=True, timeout=30)
    assert time.time() - start < 10
    eq(p.stdout.decode().strip(), "0", "exit status")
    eq(p.stderr.decode(), "", "stderr")


@check("standard input as source")
def _():
    _, out, _ = run("-q", TCP4)
    rc, out2, err = run("-q", "-", stdin=open(TCP4, "rb").read())
    eq(rc, 0, err)
    eq(out2, out, "records from stdin")


@check("a FIFO, a pipe as /dev/fd/N (a shell's <(...)) or a device: read as a pcap stream, like -")
def _():
    import gzip
    import threading
    data = open(TCP4, "rb").read()
    _, want, _ = run("-q", TCP4)
    with tempfile.TemporaryDirectory() as d:
        fifo = os.path.join(d, "fifo")
        os.mkfifo(fifo)
        for name, payload in (("pcap", data), ("gzip", gzip.compress(data))):
            writer = subprocess.Popen(["sh", "-c", 'cat > "$1"', "sh", fifo], stdin=subprocess.PIPE)
            threading.Thread(target=lambda: (writer.stdin.write(payload), writer.stdin.close()),
                             daemon=True).start()
            try:
                rc, out, err = run("-q", fifo, timeout=20)
            finally:
                writer.kill()
                writer.wait()
            eq((rc, err), (0, ""), "a FIFO carrying %s" % name)
            eq(out, want, "records from a FIFO carrying %s" % name)
        # --watch would open it again: refused like --watch -, before anything is opened
        rc, out, err = run("--watch", fifo, timeout=20)
        eq(rc, 2, "--watch FIFO: " + err)
        assert "cannot be read again" in err, err
    r, w = os.pipe()
    def feed():
        with os.fdopen(w, "wb") as f:
            f.write(data)
    threading.Thread(target=feed, daemon=True).start()
    try:
        p = subprocess.run([PATHOBS, "-q", "/dev/fd/%d" % r], pass_fds=(r,), capture_output=True, timeout=20)
    finally:
        os.close(r)
    eq((p.returncode, p.stderr.decode()), (0, ""), "/dev/fd/N on a pipe")
    eq(p.stdout.decode(), want, "records from /dev/fd/N")
    rc, out, err = run("/dev/null")
    eq((rc, out), (1, ""), "/dev/null")
    eq(len(err.splitlines()), 1, "one line for /dev/null: %r" % err)
    assert err.startswith("pathobs: cannot open /dev/null: "), err


@check("sources that cannot be opened: one line naming them, exit 1")
def _():
    with tempfile.TemporaryDirectory() as d:
        garbage = os.path.join(d, "garbage.pcap")
        open(garbage, "wb").write(b"this is not a capture file at all" * 10)
        empty = os.path.join(d, "empty.pcap")
        open(empty, "wb").close()
        for src in (os.path.join(d, "missing.pcap"), garbage, empty, "nosuchformat:x"):
            rc, out, err = run(src)
            eq(rc, 1, src)
            eq(out, "", "stdout")
            lines = err.splitlines()
            eq(len(lines), 1, "stderr lines for " + src)
            assert src in lines[0], lines[0]
        rc, out, err = run(d)
        eq((rc, out), (1, ""), "a folder")
        eq(err, "pathobs: cannot open %s: is a folder, not a capture file\n" % d, "a folder")


@check("-i IFACE always captures live, even beside a file of that name")
def _():
    with tempfile.TemporaryDirectory() as d:
        with open(TCP4, "rb") as src, open(os.path.join(d, "nosuchif0"), "wb") as dst:
            dst.write(src.read())
        p = subprocess.run([os.path.abspath(PATHOBS), "-q", "-i", "nosuchif0"], cwd=d, capture_output=True, timeout=30)
        eq((p.returncode, p.stdout), (1, b""), "the file was not read")
        err = p.stderr.decode()
        assert err.startswith("pathobs: cannot open int:nosuchif0: ") and "interface" in err, err
        p = subprocess.run([os.path.abspath(PATHOBS), "-q", "nosuchif0"], cwd=d, capture_output=True, timeout=30)
        eq(p.returncode, 0, "the same name as SOURCE is the file")
        eq(len(p.stdout.splitlines()), 2, "its records")


@check("a capture cut in the middle: records first, then the reason, exit 1")
def _():
    data = open(TCP4, "rb").read()
    with tempfile.TemporaryDirectory() as d:
        cut = os.path.join(d, "cut.pcap")
        open(cut, "wb").write(data[:-30])
        rc, out, err = run("-q", cut)
        eq(rc, 1)
        eq(len(records(out)), 2, "records")
        assert "Incomplete" in err, err


@check("a chain that raises: each distinct error once with file:line and its first flow, "
       "a count per place at exit, exit status 4")
def _():
    rc, out, err = run("-c", os.path.join(CH, "raise.lua"), TCP4)
    eq(rc, 4)
    recs = records(out)
    eq([r["n"] for r in recs], [5, 10], "every packet still counted")
    eq([r["t"] for r in recs], [3, 6], "the rest of a failing packet skipped")
    msgs = [l for l in err.splitlines() if "boom" in l]
    eq(len(msgs), 1, "one message for one error, whatever the flows")
    assert re.search(r"raise\.lua:6: boom on reverse \(flow 192\.0\.2\.10:4000[12] -> ", msgs[0]), msgs
    assert "pathobs: chain error at %s:6: 6 times" % os.path.join(CH, "raise.lua") in err.splitlines(), err
    assert "6 chain errors" in err, err


@check("odd error objects and clobbered globals: counted with file:line, every record written")
def _():
    rc, out, err = run("-c", "basic", "-c", os.path.join(CH, "odd_errors.lua"), TCP4)
    eq(rc, 4)
    recs = records(out)
    eq([r["n"] for r in recs], [5, 10], "every packet seen")
    eq([r["pkt_fwd"] + r["pkt_rev"] for r in recs], [5, 10], "basic counted every packet")
    eq([r["big"] for r in recs], [1234567890123456789] * 2, "int64 cdata after tostring was assigned")
    assert "15 chain errors" in err, err
    msgs = {re.sub(r" \(flow .*\)$", "", l) for l in err.splitlines()
            if "odd_errors" in l and "chain error at" not in l}
    eq(msgs, {"pathobs: %s:%d: %s" % (os.path.join(CH, "odd_errors.lua"), line, text)
              for line, text in ((11, "(error object is a table value)"), (13, "(error object is a table value)"),
                                 (15, "fine text"), (17, "(error object is a table value)"))}, "messages")


@check("a chain error with a NUL byte: the whole message and its flow")
def _():
    with tempfile.TemporaryDirectory() as d:
        chain = os.path.join(d, "nul.lua")
        with open(chain, "w") as f:
            f.write('return { ip4 = function() error("before\\0after") end }\n')
        rc, out, err = run("-c", chain, TCP4)
        eq((rc, len(records(out))), (4, 2))
        msgs = [l for l in err.splitlines() if "nul.lua" in l and "chain error at" not in l]
        assert msgs and all(re.search(r"nul\.lua:1: before\\0after \(flow 192\.0\.2\.10:", m) for m in msgs), msgs


@check("scripts that do not load: file:line, exit 3")
def _():
    cases = {"syntax.lua": r"syntax\.lua:3: unexpected symbol",
             "badreturn.lua": r"badreturn\.lua:2: a chain script must return a table",
             "unknown.lua": r"unknown\.lua:2: unknown chain 'new_flw'",
             "missing_require.lua": r"missing_require\.lua:1: module 'no_such_module' not found"}
    for name, pattern in cases.items():
        rc, out, err = run("-c", os.path.join(CH, name), TCP4)
        eq(rc, 3, name)
        eq(out, "", "stdout")
        assert re.search(pattern, err), err
    rc, _, err = run("-c", "no-such-chain", TCP4)
    eq(rc, 3, "unknown chain name")
    assert "no-such-chain" in err, err


@check("new_flow returning false ignores the flow")
def _():
    rc, out, err = run("-c", os.path.join(CH, "ignore_udp.lua"), UDP)
    eq(rc, 0)
    eq(out, "", "no records")
    assert "3 flows (3 ignored" in err, err


@check("false completes a flow: written before active ones; no return value carries on")
def _():
    rc, out, err = run("-q", "-c", "basic", "-c", os.path.join(CH, "complete_smtp.lua"), TCP4)
    eq(rc, 0)
    recs = records(out)
    eq(recs[0]["dp"], 25, "the completed flow comes first")
    eq(recs[0]["seen"], 5, "packets of an expiring flow still run the chains")
    assert "after" not in recs[0], "functions after false are skipped"
    eq(recs[1]["after"], recs[1]["seen"], "no return value means carry on")


@check("records hold no internal fields")
def _():
    rc, out, _ = run("-q", "-c", os.path.join(CH, "noop_fields.lua"), TCP4)
    for r in records(out):
        eq(sorted(r), ["pkt_first", "pkt_last"], "keys")


@check("values JSON cannot hold still give valid JSON")
def _():
    rc, out, err = run("-q", "-c", os.path.join(CH, "weird.lua"), TCP4)
    eq(rc, 0, err)
    r = records(out)[0]
    eq(r["nan"], None, "NaN")
    eq(r["inf"], None, "inf")
    eq(r["fn"], "<function>", "function")
    eq(r["cyc"], {"me": "<cycle>"}, "cycle")
    eq(r["big"], 12345678901234, "uint64 cdata")
    eq(r["list"], [1, 2.5, "x", None, {"a": True}], "list")
    eq(r["nothing"], None, "null")
    eq(r["bytes"], "\u00c0\ufffd\u0002\n", "raw bytes of 192.0.2.10: invalid byte as Latin-1, NUL as U+FFFD")


@check("flat records written from Lua and by the C serialiser are the same text")
def _():
    rc, out, err = run("-q", "-c", os.path.join(CH, "scalars.lua"), TCP4)
    eq(rc, 0, err)
    lines = out.splitlines()
    eq(len(lines), 2, "records")
    strip = lambda l: re.sub(r'"pkt_(first|last)":[0-9.e+-]+,?', "", l)
    slow, fast = sorted((strip(l) for l in lines), key=lambda l: '"fn":' not in l)
    assert '"fn":"<function>",' in slow, slow
    eq(slow.replace('"fn":"<function>",', ""), fast, "the two writers")
    r = json.loads(fast)
    eq([r["zero"], r["negzero"], r["big"], r["past53"], r["micro"], r["ts"]],
       [0, 0, 9007199254740992, 9007199254740994, 123.456789, 1700000000.25], "numbers")
    eq([r["nan"], r["inf"], r["ninf"], r["nothing"], r["yes"], r["no"]], [None] * 4 + [True, False])
    eq(r["third"], 1 / 3, "shortest text that reads back")
    eq(r["bytes"], "\u00c0\ufffd\u0002\n\"\\\t/\u007f", "bytes")
    eq(r["utf8"], "h\u00e9 \u20ac \U0001f600", "UTF-8 kept")
    eq(list(r), sorted(r, key=lambda k: k.encode()), "keys sorted by their bytes")


@check("byte-identical reruns")
def _():
    outs = {run("-q", "-c", "basic", ICMP)[1] for _ in range(3)}
    eq(len(outs), 1, "distinct outputs")


@check("SIGTERM and SIGINT: every record written, exit 0")
def _():
    for sig in (signal.SIGTERM, signal.SIGINT):
        rc, out, err = run("-c", "basic", "-c", os.path.join(CH, "killer.lua"), TCP4,
                           env={"KILLER_SIGNAL": str(int(sig))})
        eq(rc, 0, "exit status after %s" % sig.name)
        eq(len(records(out)), 2, "records after %s" % sig.name)
        assert COUNTERS.match(err.strip().splitlines()[-1]), err


@check("chains from -L folders and PATHOBS_PATH")
def _():
    rc, out, _ = run("-q", "-L", CH, "-c", "noop_fields", TCP4)
    eq(rc, 0, "-L")
    eq(len(records(out)), 2)
    rc, out, _ = run("-q", "-c", "noop_fields", TCP4, env={"PATHOBS_PATH": CH})
    eq(rc, 0, "PATHOBS_PATH")


report()
