#!/usr/bin/env python3
"""test_conventions.py - the command-line conventions of the field, and records that are never lost.

Usage: test_conventions.py PATHOBS CAPTURES_DIR
-r/-w as in tcpdump, a trailing filter, --watch, an output that is the input,
--stats checked at start and its run fields, a closed pipe, SIGHUP, records
flushed promptly from a pipe, "listening on", mistyped interfaces and -L
folders. Prints one line per check and a closing "N passed, N failed".
"""
import json
import os
import select
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from checks import check, eq, report  # noqa: E402
import pcapgen  # noqa: E402

PATHOBS, CAPS = os.path.abspath(sys.argv[1]), sys.argv[2]
TCP4 = os.path.join(CAPS, "tcp4.pcap")
UDP = os.path.join(CAPS, "udp.pcap")
ICMP = os.path.join(CAPS, "icmp.pcap")
HUGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chains", "huge.lua")


def run(*args, stdin=None, cwd=None, timeout=30):
    p = subprocess.run([PATHOBS, *args], input=stdin, capture_output=True, timeout=timeout, cwd=cwd)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def records(out):
    return [json.loads(line) for line in out.splitlines()]


def usage(rc, out, err, what):
    eq((rc, out), (2, ""), what + ": " + err)
    lines = err.splitlines()
    assert len(lines) == 2 and lines[0].startswith("pathobs: ") and "--help" in lines[1], err


def readline(f, limit=20):
    """One line from a pipe, or '' when none comes within limit seconds (a bound, not a timing)."""
    ready, _, _ = select.select([f], [], [], limit)
    return f.readline().decode() if ready else ""


def stream_parts(n):
    """A pcap stream cut in pieces: the header, then UDP datagrams of n flows,
    each 100 s after the one before (so each ends the one before)."""
    cap = pcapgen.Capture()
    for i in range(n):
        cap.add(1500000000 + 100 * i,
                pcapgen.ether(pcapgen.udp_packet("192.0.2.1", "198.51.100.%d" % (i + 1), 5000, 53,
                                                 payload=b"x" * 600)))
    data = cap.pcap_bytes()
    parts, pos = [data[:24]], 24
    while pos < len(data):
        size = int.from_bytes(data[pos + 8:pos + 12], "little")
        parts.append(data[pos:pos + 16 + size])
        pos += 16 + size
    return parts


@check("-r FILE reads a file, -w FILE writes the records (as -o), --watch has no -w")
def _():
    _, want, _ = run("-q", TCP4)
    eq(len(records(want)), 2, "records")
    rc, out, err = run("-q", "-r", TCP4)
    eq((rc, out, err), (0, want, ""), "-r")
    with tempfile.TemporaryDirectory() as d:
        out_path = os.path.join(d, "o.jsonl")
        rc, out, err = run("-q", "-w", out_path, "-r", TCP4)
        eq((rc, out, err), (0, "", ""), "-w")
        eq(open(out_path).read(), want, "-w FILE holds the records")
    # the old habit "-w -c x.lua": not a file called -c
    rc, out, err = run("-w", "-c", "basic", TCP4)
    usage(rc, out, err, "-w -c")
    assert "--watch" in err, err
    # -r is a file, never an interface: lo exists on every Linux
    rc, out, err = run("-r", "lo")
    eq((rc, out, err), (1, "", "pathobs: cannot open lo: No such file or directory\n"), "-r lo")
    rc, out, err = run("-r", TCP4, "-i", "lo")
    usage(rc, out, err, "-r and -i")


@check("a filter after the source, as in tcpdump; not with -f")
def _():
    _, udp_only, _ = run("-q", "-f", "udp", ICMP)
    _, everything, _ = run("-q", ICMP)
    assert 0 < len(records(udp_only)) < len(records(everything)), "the capture mixes protocols"
    for args in (["-r", ICMP, "udp"], [ICMP, "udp"], ["-q", ICMP, "not", "icmp", "and", "not", "icmp6"]):
        rc, out, err = run("-q", *args)
        eq(rc, 0, " ".join(args) + ": " + err)
    eq(run("-q", "-r", ICMP, "udp")[1], udp_only, "-r FILE udp")
    eq(run("-q", ICMP, "udp")[1], udp_only, "FILE udp")
    eq(run("-q", ICMP, "udp", "or", "tcp")[1], run("-q", "-f", "udp or tcp", ICMP)[1], "several words")
    usage(*run("-f", "udp", ICMP, "tcp"), "-f and a trailing filter")
    usage(*run(TCP4, UDP), "two captures")
    rc, out, err = run(TCP4, "nonsense", "filter")
    eq((rc, out), (2, ""), "a filter that does not compile: " + err)


@check("an output that is the input is refused before anything is written")
def _():
    data = open(TCP4, "rb").read()
    with tempfile.TemporaryDirectory() as d:
        victim = os.path.join(d, "victim.pcap")
        open(victim, "wb").write(data)
        os.symlink(victim, os.path.join(d, "link.pcap"))
        for args in (["-o", "victim.pcap", "victim.pcap"], ["-w", "./victim.pcap", "-r", "victim.pcap"],
                     ["-o", "link.pcap", "victim.pcap"], ["-w", victim, "pcapfile:victim.pcap"],
                     ["--stats", "victim.pcap", "victim.pcap"]):
            rc, out, err = run(*args, cwd=d)
            usage(rc, out, err, " ".join(args))
            assert "is the input" in err, err
            eq(open(victim, "rb").read(), data, "the capture after " + " ".join(args))


@check("--stats FILE that cannot be written: an error at start, nothing read")
def _():
    with tempfile.TemporaryDirectory() as d:
        for path in (os.path.join(d, "no", "such", "dir", "s.json"), d):
            rc, out, err = run("--stats", path, TCP4)
            eq((rc, out), (1, ""), path)
            eq(err.splitlines()[0][:len("pathobs: cannot write " + path)], "pathobs: cannot write " + path, "message")
            eq(len(err.splitlines()), 1, "one line: " + err)
        eq(sorted(os.listdir(d)), [], "the check leaves no file")


@check("--stats JSON: the counters, the source and the run's wall-clock times")
def _():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "s.json")
        rc, _, err = run("-q", "--stats", path, TCP4)
        eq(rc, 0, err)
        s = json.load(open(path))
        eq(sorted(s), sorted(["chain_errors", "dropped", "evicted", "flows", "fragments", "ignored", "non_ip",
                              "packets", "records", "reordered", "short", "source", "start", "end", "duration"]), "keys")
        eq(list(s), sorted(s), "sorted keys")
        eq((s["packets"], s["records"], s["source"]), (15, 2, TCP4), "counters and source")
        assert 1.6e9 < s["start"] <= s["end"], s
        eq(round(s["end"] - s["start"], 3), s["duration"], "duration")


@check("a closed pipe ends pathobs quietly with status 0")
def _():
    p = subprocess.run("'%s' -q -c '%s' '%s' | head -1 >/dev/null; echo ${PIPESTATUS[0]}"
                       % (PATHOBS, HUGE, ICMP), shell=True, executable="/bin/bash",
                       capture_output=True, timeout=30)
    eq((p.stdout.decode().strip(), p.stderr.decode()), ("0", ""), "status and stderr")


@check("a pipe: records flushed while it stays open; SIGHUP is ignored and loses nothing")
def _():
    parts = stream_parts(40)
    p = subprocess.Popen([PATHOBS, "--idle-timeout", "1", "--expiry-timeout", "0", "-"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # One packet at a time until a record comes back: libwandio hands over
        # what one read of the pipe gave once the next read returns (the source
        # is open after the second); the rest is pathobs's own buffering, which
        # used to keep everything until the end of the stream.
        sent, first = 0, ""
        while sent < len(parts) - 1 and not first:
            p.stdin.write(parts[sent])
            p.stdin.flush()
            sent += 1
            first = readline(p.stdout, 1 if sent < len(parts) - 1 else 20)
        assert first and sent < len(parts) - 1, "no record while the pipe is open"
        eq(json.loads(first)["dip"], "198.51.100.1", "the first flow")
        p.send_signal(signal.SIGHUP)
        notice = readline(p.stderr)
        assert notice.startswith("pathobs: SIGHUP ignored"), notice
        out, err = p.communicate(b"".join(parts[sent:]), timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    eq(p.returncode, 0, "exit status: " + err.decode())
    eq([r["dip"] for r in records(out.decode())], ["198.51.100.%d" % i for i in range(2, len(parts))],
       "the other records")


@check("a mistyped interface or -L folder says so")
def _():
    rc, out, err = run("nosuchif0")
    eq((rc, out, err), (1, "", "pathobs: no such file or interface: nosuchif0\n"), "SOURCE")
    usage(*run("-L", "no-such-folder", TCP4), "-L")
    usage(*run("-L", TCP4, TCP4), "-L FILE")


def live_ok():
    return os.geteuid() == 0 and os.path.exists("/sys/class/net/lo")


@check("a live capture says 'listening on IFACE' (unless -q); SIGHUP reloads its chains")
def _():
    if not live_ok():
        print("     (skipped: needs root for a capture on lo)")
        return
    for quiet in (False, True):
        p = subprocess.Popen([PATHOBS] + (["-q", "--stats-interval", "1"] if quiet else []) +
                             ["-i", "lo", "udp port 9"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            if quiet:  # running once the periodic counters come
                assert " packets (" in readline(p.stderr), "the counters line"
            else:
                eq(readline(p.stderr), "pathobs: listening on lo (int:lo); Ctrl-C to stop\n", "first line")
                p.send_signal(signal.SIGHUP)
                assert "reloaded" in readline(p.stderr), "SIGHUP reload"
                assert p.poll() is None, "alive after SIGHUP"
            p.send_signal(signal.SIGTERM)
            out, err = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        eq(p.returncode, 0, "exit status")
        if quiet:
            assert b"listening" not in err, err


report()
