#!/usr/bin/env python3
"""test_workers.py - pathobs -j N / --workers N (issue #18): flows sharded over worker threads.

Usage: test_workers.py PATHOBS

What -j N promises, and what this test holds it to:
* N worker threads (1 to 64), each with its own Lua state, chains and flow
  table; a packet goes to the worker of its flow's direction-free key, later
  IP fragments to the worker of their first fragment, ICMP errors to the
  worker of the flow they quote; every worker's clock follows the packets'
  time, also while that worker gets no packet.
* The records are the same MULTISET of lines for every N as with -j 1; with
  one N, the same bytes on every run; -j 1 is byte for byte the output
  without -j. The counters (--stats FILE, the stderr summary line) are the
  sums over the workers, so the same for every N. --max-flows M gives each
  worker ceil(M/N) (so the test only compares runs that evict nothing);
  --aggregate keeps one flow per IP version (one worker each).
* Records come out in emission-time order: by the packet-clock second at
  which they were written, and within one second by worker. pkt_last is not
  sorted in general, so the test checks the order where it is known:
  groups of flows that end 10 s apart, and flows idling out one second after
  another while a single flow (one worker) moves the clock.
* In a chain, require("pathobs").worker is the worker's number (1..N) and
  .workers is N, already when the script loads; module-level state of a chain
  is per worker. Without -j they are 1 and 1.
* -j 0, -j 65, -j abc are usage errors (exit 2) naming the option.

The captures are generated at test time (tests/tools/make_worker_captures.py,
whose docstring says what each scenario holds): flows, fragments, icmp, idle,
reorder, groups. Each runs with these chain sets: basic; basic +
workers_complete (a TCP flow completes at its first FIN); basic +
workers_ignore (new_flow ignores odd source ports); basic + workers_state
(module-level state, per-flow fields: a 5-tuple's flows must all reach the
same worker for its "incarnation" count to match); and the bundled tcp, icmp,
udp and dns chains (tests/cli/chains/workers_*.lua).

PATHOBS_WORKERS_DRYRUN=1 runs every check with the -j/--workers arguments
left out (the checks that need worker numbers or usage errors are then
skipped): for trying the captures, chains and invariants alone. CHECKS_ONLY=TEXT runs
only the checks whose name contains TEXT. Prints one line per check and a
closing "N passed, N failed".
"""
import collections
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from checks import check, eq, report  # noqa: E402
import make_worker_captures as mwc  # noqa: E402
import pcapgen  # noqa: E402

PATHOBS = os.path.abspath(sys.argv[1])
DRYRUN = os.environ.get("PATHOBS_WORKERS_DRYRUN") == "1"

NS = (2, 3, 4)
TMP = tempfile.mkdtemp(prefix="pathobs-workers-")
CAPS = mwc.write_all(os.path.join(TMP, "caps"))


def chain(name):
    return os.path.join(HERE, "chains", name + ".lua")


CHAIN_SETS = {
    "basic": ["basic"],
    "basic+complete": ["basic", chain("workers_complete")],
    "basic+ignore": ["basic", chain("workers_ignore")],
    "basic+state": ["basic", chain("workers_state")],
    "bundled": ["basic", "tcp", "icmp", "udp", "dns"],
}
ID_CHAINS = ["basic", chain("workers_id")]
SHORT = ["--idle-timeout", "5", "--expiry-timeout", "1"]
IDLE10 = ["--idle-timeout", "10", "--expiry-timeout", "2"]
GROUP_TIMERS = ["--idle-timeout", "2", "--expiry-timeout", "1"]
# every scenario with the option sets it is run with
SCENARIOS = {
    "flows": [[], SHORT],
    "fragments": [[]],
    "icmp": [[], SHORT],
    "idle": [IDLE10, []],
    "reorder": [[]],
    "groups": [GROUP_TIMERS],
}
RUN_KEYS = ("source", "start", "end", "duration")   # --stats fields that are not counters

# ---------------------------------------------------------------- running pathobs


class Run:
    """One run: output bytes and text, stderr, the counters of --stats, the records."""

    def __init__(self, out, err, stats):
        self.raw, self.out, self.err = out, out.decode("utf-8"), err.decode("utf-8", "replace")
        self.lines = self.out.splitlines()
        self.counters = {k: v for k, v in stats.items() if k not in RUN_KEYS}
        summary = [line for line in self.err.splitlines() if " packets (" in line]
        self.summary = summary[-1] if summary else None

    def records(self):
        return [json.loads(line) for line in self.lines]


def pathobs(cap, chains=("basic",), opts=(), workers=None, form="-j", after_source=False):
    """Run pathobs on ``cap`` with these chains and options; -j ``workers``
    unless None (``form`` "-j", "--workers" or "--workers=")."""
    stats = os.path.join(TMP, "stats.json")
    if os.path.exists(stats):
        os.unlink(stats)
    args = ["--stats", stats]
    for c in chains:
        args += ["-c", c]
    args += list(opts)
    jarg = []
    if workers is not None and not DRYRUN:
        jarg = ["--workers=%d" % workers] if form == "--workers=" else [form, str(workers)]
    args = args + [cap] + jarg if after_source else args + jarg + [cap]
    p = subprocess.run([PATHOBS, *args], capture_output=True, timeout=180)
    what = "pathobs " + " ".join(args)
    eq(p.returncode, 0, what + ": exit status (stderr: %s)" % p.stderr.decode("utf-8", "replace")[-2000:])
    with open(stats) as f:
        return Run(p.stdout, p.stderr, json.load(f))


def same_multiset(got, want, what):
    """The lines of two runs are the same multiset; on failure, say which differ."""
    if sorted(got.lines) == sorted(want.lines):
        return
    g, w = collections.Counter(got.lines), collections.Counter(want.lines)
    extra, missing = list((g - w).elements()), list((w - g).elements())
    raise AssertionError("%s: %d records, expected %d; %d not expected, e.g. %s; %d missing, e.g. %s"
                         % (what, len(got.lines), len(want.lines), len(extra), extra[:2], len(missing),
                            missing[:2]))


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return "line %d: %s / %s" % (i + 1, x, y)
    return "lengths %d / %d" % (len(a), len(b))


def timers(opts):
    """(idle, expiry) of an option list (defaults 30 and 5)."""
    idle = int(opts[opts.index("--idle-timeout") + 1]) if "--idle-timeout" in opts else 30
    expiry = int(opts[opts.index("--expiry-timeout") + 1]) if "--expiry-timeout" in opts else 5
    return idle, expiry


def rel(ts):
    return ts - mwc.T0


def key5(r):
    """A record's direction-free 5-tuple (basic's fields)."""
    a, b = (r["sip"], r["sp"]), (r["dip"], r["dp"])
    return (r["proto"],) + tuple(sorted([a, b], key=repr))

# ---------------------------------------------------------------- order checks


def phases_in_order(recs, phases, what):
    """``phases`` is a list of predicates; every record matching an earlier
    one comes before every record matching a later one."""
    positions = []
    for pred in phases:
        idx = [i for i, r in enumerate(recs) if pred(r)]
        assert idx, "%s: a phase without records" % what
        positions.append((min(idx), max(idx)))
    for k in range(len(positions) - 1):
        assert positions[k][1] < positions[k + 1][0], (
            "%s: phase %d's last record (line %d) comes after phase %d's first (line %d)"
            % (what, k, positions[k][1] + 1, k + 1, positions[k + 1][0] + 1))


def nondecreasing(items, what):
    for i in range(1, len(items)):
        assert items[i - 1][0] <= items[i][0], "%s: %r written before %r" % (what, items[i - 1], items[i])


def order_groups(run, opts, what):
    """groups: group g's records all before group g+1's."""
    recs = run.records()
    nondecreasing([(int(rel(r["pkt_first"]) // mwc.GROUP_GAP), r["pkt_first"]) for r in recs],
                  what + ": groups in order")


def talker_deadlines(recs, opts):
    """idle: the records written while the talker moves the clock every second
    (their emission second is ceil(pkt_last + idle) + expiry), as
    (emission second, record) in output order."""
    idle, expiry = timers(opts)
    out = []
    for r in recs:
        emit = math.ceil(rel(r["pkt_last"]) + idle) + expiry
        if rel(r["pkt_last"]) < mwc.IDLE_TALK_END and emit < mwc.IDLE_TALK_END - 1:
            out.append((emit, r))
    return out


def order_idle(run, opts, what):
    """idle: what ended before the silence, then the sleepers' return, then
    the last flows; and while the talker moves the clock, records come out by
    the second they fall due, whichever worker holds them."""
    recs = run.records()
    phases_in_order(recs, [lambda r: rel(r["pkt_last"]) < mwc.IDLE_TALK_END + 1,
                           lambda r: mwc.IDLE_RESUME <= rel(r["pkt_first"]) < mwc.IDLE_LATE,
                           lambda r: rel(r["pkt_first"]) >= mwc.IDLE_LATE], what + ": phases")
    due = talker_deadlines(recs, opts)
    assert len(due) > 50, "%s: only %d records fall due while the talker talks" % (what, len(due))
    nondecreasing([(e, r["pkt_last"]) for e, r in due], what + ": records by the second they fall due")


def order_reorder(run, opts, what):
    """reorder: everything that ended before the ARP-only gap is written
    during it (ARP frames move every worker's clock), before what came after."""
    phases_in_order(run.records(), [lambda r: rel(r["pkt_last"]) < mwc.REORDER_GAP_START,
                                    lambda r: rel(r["pkt_first"]) >= mwc.REORDER_GAP_END], what + ": phases")


ORDER_CHECKS = {"groups": order_groups, "idle": order_idle, "reorder": order_reorder}

# ---------------------------------------------------------------- the captures


def frames(name):
    return pcapgen.read_capture(CAPS[name])[1]


def ip_of(frame):
    """(version, IP packet) of an Ethernet frame, or (None, None)."""
    etype = int.from_bytes(frame[12:14], "big")
    if etype == 0x0800:
        return 4, frame[14:]
    if etype == 0x86DD:
        return 6, frame[14:]
    return None, None


def frag_info(v, p):
    """(datagram id, offset, more) of a fragment, or None."""
    if v == 4 and len(p) >= 20:
        field = int.from_bytes(p[6:8], "big")
        if field & 0x3FFF:
            return (p[12:20], p[9], p[4:6]), (field & 0x1FFF) * 8, bool(field & 0x2000)
    if v == 6 and len(p) >= 40:
        nh, pos = p[6], 40
        while nh in (0, 43, 60) and pos + 8 <= len(p):
            nh, pos = p[pos], pos + (p[pos + 1] + 1) * 8
        if nh == 44 and pos + 8 <= len(p):
            off = int.from_bytes(p[pos + 2:pos + 4], "big")
            return (p[8:40], p[pos + 4:pos + 8]), off & 0xFFF8, bool(off & 1)
    return None


@check("generator: the same bytes on every run")
def _():
    again = mwc.write_all(os.path.join(TMP, "again"))
    for name, path in CAPS.items():
        with open(path, "rb") as a, open(again[name], "rb") as b:
            assert a.read() == b.read(), name + " differs between two runs"
    shutil.rmtree(os.path.join(TMP, "again"))


@check("generator: each capture holds what its scenario is for")
def _():
    f = frames("flows")
    versions = collections.Counter(ip_of(fr)[0] for _, fr, _ in f)
    flags = collections.Counter()
    for _, fr, _ in f:
        v, p = ip_of(fr)
        hl = (p[0] & 15) * 4 if v == 4 else 40
        if p[9 if v == 4 else 6] == 6:
            flags[p[hl + 13] & 0x07] += 1
    assert len(f) > 3000 and versions[4] > 1000 and versions[6] > 500, (len(f), versions)
    assert flags[2] > 200 and flags[1] > 200 and flags[4] > 20, flags   # SYN, FIN, RST

    f = frames("fragments")
    seen_first, later, interleaved, out_of_order, orphans, v6 = set(), 0, 0, 0, 0, 0
    last_offset, prev = {}, None
    for _, fr, _ in f:
        v, p = ip_of(fr)
        info = frag_info(v, p)
        if info is None:
            prev = None
            continue
        dg, off, _more = info
        v6 += v == 6
        if off == 0:
            seen_first.add(dg)
        else:
            later += 1
            if dg not in seen_first:
                orphans += 1
            elif prev is not None and prev != dg:
                interleaved += 1
            if dg in last_offset and off < last_offset[dg]:
                out_of_order += 1
        last_offset[dg] = off
        prev = dg
    assert later > 300 and v6 > 200 and interleaved > 50 and out_of_order > 5 and orphans > 10, (
        later, v6, interleaved, out_of_order, orphans)

    f = frames("icmp")
    kinds = collections.Counter()
    for _, fr, _ in f:
        v, p = ip_of(fr)
        if v == 4 and p[9] == 1:
            kinds[(4, p[20])] += 1
        elif v == 6 and p[6] == 58:
            kinds[(6, p[40])] += 1
    for k in ((4, 3), (4, 11), (4, 12), (4, 5), (4, 4), (6, 1), (6, 2), (6, 3), (6, 4)):
        assert kinds[k] > 0, ("no ICMP errors of type", k, kinds)
    assert kinds[(4, 8)] > 20 and kinds[(6, 128)] > 20, kinds

    f = frames("reorder")
    backwards = sum(1 for a, b in zip(f, f[1:]) if b[0] < a[0])
    etypes = collections.Counter(int.from_bytes(fr[12:14], "big") for _, fr, _ in f)
    short = sum(1 for _, fr, orig in f if len(fr) < orig)
    assert backwards > 40 and etypes[0x0806] > 50 and etypes[0x88CC] and etypes[0x88B5] and short == 12, (
        backwards, etypes, short)
    assert any(b[0] < a[0] - 20 * 1000000 for a, b in zip(f, f[1:])), "no step back by more than 20 s"

    f = frames("groups")
    secs = collections.Counter((m - mwc.T0 * 1000000) // 1000000 for m, _, _ in f)
    eq(sorted(secs)[:mwc.GROUPS], [g * mwc.GROUP_GAP for g in range(mwc.GROUPS)], "one second per group")

    f = frames("idle")
    talk = [m for m, _, _ in f if mwc.IDLE_TALK_START * 10 ** 6 <= m - mwc.T0 * 10 ** 6 < mwc.IDLE_TALK_END * 10 ** 6]
    assert len(talk) > 2 * (mwc.IDLE_TALK_END - mwc.IDLE_TALK_START), len(talk)
    assert not [m for m, _, _ in f if mwc.IDLE_TALK_END * 10 ** 6 < m - mwc.T0 * 10 ** 6 < mwc.IDLE_RESUME * 10 ** 6]


@check("chains and captures: every IP packet in exactly one record, every flow written once (one worker)")
def _():
    for name in SCENARIOS:
        r = pathobs(CAPS[name], ["basic"])
        c = r.counters
        recs = r.records()
        skipped = c["fragments"] + c["non_ip"] + c["short"]
        eq(sum(x["pkt_fwd"] + x["pkt_rev"] for x in recs), c["packets"] - skipped, name + ": packets in records")
        eq((len(recs), c["records"]), (c["flows"], c["flows"]), name + ": records, flows")
        assert c["flows"] >= 120, (name, c)
    c = pathobs(CAPS["fragments"], ["basic"]).counters
    assert c["fragments"] > 20, c
    c = pathobs(CAPS["reorder"], ["basic"]).counters
    assert c["reordered"] > 100 and c["non_ip"] > 100 and c["short"] == 12, c
    ign = pathobs(CAPS["flows"], CHAIN_SETS["basic+ignore"])
    assert ign.counters["ignored"] > 100 and all(x["sp"] is None or x["sp"] % 2 == 0 for x in ign.records()), \
        ign.counters
    comp = pathobs(CAPS["flows"], CHAIN_SETS["basic+complete"]).records()
    assert sum(1 for x in comp if x.get("fin_at") is not None) > 200, "flows completed at a FIN"
    state = pathobs(CAPS["flows"], CHAIN_SETS["basic+state"]).records()
    assert all(x["state_ok"] and x["pkts"] == x["pkt_fwd"] + x["pkt_rev"] for x in state), "workers_state"
    assert sum(1 for x in state if x["incarnation"] == 2) >= 30, "5-tuples used again"
    idle = collections.Counter(x["incarnation"] for x in
                               pathobs(CAPS["idle"], CHAIN_SETS["basic+state"], IDLE10).records())
    assert idle[2] >= 130 and idle[4] == 10, ("sleepers that came back", idle)


# ---------------------------------------------------------------- -j N against -j 1


def compare_all(name, opts, chains, label):
    what = "%s %s [%s]" % (name, label, " ".join(opts) or "default timers")
    base = pathobs(CAPS[name], chains, opts)
    one = pathobs(CAPS[name], chains, opts, workers=1)
    assert one.raw == base.raw, what + ": -j 1 differs from no -j: " + first_difference(one.lines, base.lines)
    eq(one.counters, base.counters, what + ": -j 1 counters")
    eq(one.summary, base.summary, what + ": -j 1 summary line")
    eq(base.counters["records"], len(base.lines), what + ": records counted")
    eq(base.counters["records"], base.counters["flows"] - base.counters["ignored"], what + ": a record per flow")
    order = None if "--aggregate" in opts else ORDER_CHECKS.get(name)
    if order:
        order(base, opts, what + " no -j")
    for n in NS:
        a = pathobs(CAPS[name], chains, opts, workers=n)
        b = pathobs(CAPS[name], chains, opts, workers=n)
        assert a.raw == b.raw, "%s -j %d: two runs differ: %s" % (what, n, first_difference(a.lines, b.lines))
        same_multiset(a, base, "%s -j %d" % (what, n))
        eq(a.counters, base.counters, "%s -j %d: counters" % (what, n))
        eq(a.summary, base.summary, "%s -j %d: summary line" % (what, n))
        if order:
            order(a, opts, "%s -j %d" % (what, n))


for _name, _optsets in SCENARIOS.items():
    for _label, _chains in CHAIN_SETS.items():
        for _opts in _optsets:
            check("%s, %s%s: -j 1 = no -j; -j 2, 3, 4: the same records and counters, the same bytes twice"
                  % (_name, _label, " " + " ".join(_opts) if _opts else ""))(
                lambda name=_name, opts=_opts, chains=_chains, label=_label: compare_all(name, opts, chains, label))


@check("--aggregate: the same records and counters for every N")
def _():
    for name in ("flows", "fragments", "icmp", "reorder"):
        for label in ("basic", "basic+state", "bundled"):
            compare_all(name, ["--aggregate"], CHAIN_SETS[label], label)


@check("--max-flows large enough to evict nothing: the same records for every N")
def _():
    for name in ("flows", "fragments", "icmp", "idle"):
        base = pathobs(CAPS[name], CHAIN_SETS["basic+state"])
        m = 4 * base.counters["flows"]          # ceil(m / 4) >= every flow: no worker evicts
        for n in (None, 1) + NS:
            r = pathobs(CAPS[name], CHAIN_SETS["basic+state"], ["--max-flows", str(m)], workers=n)
            same_multiset(r, base, "%s --max-flows %d -j %s" % (name, m, n))
            eq(r.counters, base.counters, "%s --max-flows %d -j %s: counters" % (name, m, n))
            eq(r.counters["evicted"], 0, "evicted")


@check("--max-flows that evicts: still one record per flow and every packet counted, for every N")
def _():
    for name, m in (("flows", 40), ("icmp", 25)):
        for n in (None, 1) + NS:
            r = pathobs(CAPS[name], ["basic", chain("workers_ignore")], ["--max-flows", str(m)], workers=n)
            again = pathobs(CAPS[name], ["basic", chain("workers_ignore")], ["--max-flows", str(m)], workers=n)
            c, what = r.counters, "%s --max-flows %d -j %s" % (name, m, n)
            assert r.raw == again.raw, what + ": two runs differ"
            assert c["evicted"] > 0, what + ": nothing evicted"
            eq(c["records"], len(r.lines), what + ": records")
            eq(c["records"], c["flows"] - c["ignored"], what + ": a record per flow not ignored")

# ---------------------------------------------------------------- worker numbers, options


def needs_workers():
    if DRYRUN:
        print("     (skipped in a dry run: needs -j)")
        return True
    return False


def without_ids(run):
    return sorted(json.dumps({k: v for k, v in r.items() if not k.startswith("worker")}, sort_keys=True)
                  for r in run.records())


@check("a chain sees pathobs.worker (1..N) and pathobs.workers (N), when it loads and per flow")
def _():
    if needs_workers():
        return
    for n in (None, 1):
        recs = pathobs(CAPS["flows"], ID_CHAINS, workers=n).records()
        eq({(r["worker"], r["workers"], r["worker_at_load"], r["workers_at_load"]) for r in recs}, {(1, 1, 1, 1)},
           "worker, workers, at load and per flow, -j %s" % n)
    one = pathobs(CAPS["flows"], ID_CHAINS, workers=1)
    for name in ("flows", "reorder", "idle", "icmp", "fragments"):
        for n in (3, 64):
            r = pathobs(CAPS[name], ID_CHAINS, workers=n)
            recs = r.records()
            eq({x["workers"] for x in recs} | {x["workers_at_load"] for x in recs}, {n}, name + ": workers")
            assert all(x["worker"] == x["worker_at_load"] for x in recs), name + ": worker at load and per flow"
            seen = {x["worker"] for x in recs}
            assert seen <= set(range(1, n + 1)), (name, n, seen)
            if n == 3:
                eq(seen, {1, 2, 3}, name + ": hundreds of flows over three workers")
            else:
                assert len(seen) > 32, "%s: %d flows reach only %d of 64 workers" % (name, len(recs), len(seen))
            # a 5-tuple is one key whatever the direction of its first packet: always the same worker
            by_key = collections.defaultdict(set)
            for x in recs:
                if x["sp"] is not None:
                    by_key[key5(x)].add(x["worker"])
            split = {k: w for k, w in by_key.items() if len(w) > 1}
            assert not split, "%s -j %d: flows of one 5-tuple on several workers: %s" % (
                name, n, list(split.items())[:3])
            if name == "flows":
                eq(without_ids(r), without_ids(one), "-j %d: the records but the worker fields" % n)
    for name in ("flows", "icmp"):
        for n in (2, 3):
            recs = pathobs(CAPS[name], ID_CHAINS, ["--aggregate"], workers=n).records()
            by_version = collections.defaultdict(set)
            for x in recs:
                by_version[":" in x["sip"]].add(x["worker"])
            assert all(len(w) == 1 for w in by_version.values()), (name, n, by_version)


@check("-j 64, the most, gives the records of -j 1")
def _():
    if needs_workers():
        return
    for name in ("flows", "fragments"):
        base = pathobs(CAPS[name], CHAIN_SETS["basic+state"])
        r = pathobs(CAPS[name], CHAIN_SETS["basic+state"], workers=64)
        same_multiset(r, base, name + " -j 64")
        eq(r.counters, base.counters, name + " -j 64: counters")


@check("within one packet-clock second, records come out by worker")
def _():
    if needs_workers():
        return
    for n in NS:
        recs = pathobs(CAPS["groups"], ID_CHAINS, GROUP_TIMERS, workers=n).records()
        nondecreasing([((int(rel(r["pkt_first"]) // mwc.GROUP_GAP), r["worker"]), r["sip"]) for r in recs],
                      "groups -j %d: (group, worker)" % n)
        recs = pathobs(CAPS["idle"], ID_CHAINS, IDLE10, workers=n).records()
        due = talker_deadlines(recs, IDLE10)
        assert len({r["worker"] for _, r in due}) == n, "idle -j %d: records of every worker fall due" % n
        nondecreasing([((e, r["worker"]), r["pkt_last"]) for e, r in due], "idle -j %d: (second, worker)" % n)


@check("-j N, --workers N, --workers=N and -j after SOURCE are the same")
def _():
    if needs_workers():
        return
    cap = CAPS["icmp"]
    want = pathobs(cap, ["basic"], workers=3).raw
    for form, after in (("--workers", False), ("--workers=", False), ("-j", True), ("--workers", True)):
        eq(pathobs(cap, ["basic"], workers=3, form=form, after_source=after).raw, want, "%s %s" % (form, after))


@check("-j 0, -j 65, -j abc and the like are usage errors naming the option")
def _():
    if needs_workers():
        return
    for args in (["-j", "0"], ["-j", "65"], ["-j", "abc"], ["-j", "-1"], ["-j", "1.5"], ["-j", "3x"], ["-j", ""],
                 ["--workers", "0"], ["--workers=65"], ["--workers", "abc"], ["-j"], ["--workers"]):
        argv = [PATHOBS, CAPS["icmp"], *args] if len(args) == 1 else [PATHOBS, *args, CAPS["icmp"]]
        p = subprocess.run(argv, capture_output=True, timeout=30)
        err = p.stderr.decode()
        eq((p.returncode, p.stdout), (2, b""), " ".join(args) + ": " + err)
        lines = err.splitlines()
        assert lines and lines[0].startswith("pathobs: ") and ("-j" in lines[0] or "--workers" in lines[0]), err
        assert "--help" in lines[-1], err


shutil.rmtree(TMP, ignore_errors=True)
report()
