"""common.py - what the PATHspider tests share: skip without Debian's pathspider, paths, record comparison."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_PYTHON = os.path.normpath(os.path.join(HERE, "..", "..", "src", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
SKIP = 77


def skip(why):
    print("SKIP: " + why)
    sys.exit(SKIP)


def need_pathspider():
    """Import Debian's pathspider (python3-pathspider 2.0.1), or skip the test."""
    try:
        import pathspider.base  # noqa: F401
        import pathspider.chains.basic  # noqa: F401
    except ImportError as err:
        skip("Debian's pathspider is not installed for %s (%s): apt-get install pathspider"
             % (sys.executable, err))
    return sys.modules["pathspider"]


def use_source_package(pathobs):
    """The Observer from this source tree, running this build's pathobs."""
    os.environ["PATHOBS_BIN"] = pathobs
    sys.path.insert(0, SRC_PYTHON)


def pathobs_records(text):
    """pathobs's JSON lines as PATHspider records: pkt_first/pkt_last are floats."""
    out = []
    for line in text.splitlines():
        rec = json.loads(line)
        for key in ("pkt_first", "pkt_last"):
            if isinstance(rec.get(key), int):
                rec[key] = float(rec[key])
        out.append(rec)
    return out


def typed(rec):
    """A record with each value's type beside it, so that 1, 1.0 and True differ."""
    return {k: (type(v).__name__, v) for k, v in rec.items()}


def drain(q, sentinel, limit=1000000):
    """Records from a flow queue up to the sentinel (which must be that very object)."""
    recs = []
    while True:
        item = q.get(timeout=120)
        if item is sentinel:
            return recs
        assert item != sentinel, "a sentinel that is not pathspider.base.SHUTDOWN_SENTINEL"
        assert isinstance(item, dict), "not a record: %r" % (item,)
        recs.append(item)
        assert len(recs) < limit
