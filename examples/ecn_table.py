#!/usr/bin/env python3
"""ecn_table.py - ECN negotiation per destination, from pathobs records (pandas)

    pathobs -q -c basic -c tcp -c ecn CAPTURE | python3 examples/ecn_table.py
    python3 examples/ecn_table.py flows.jsonl [more.jsonl ...]

The same table as examples/ecn_table.sh (see there for the columns), made
with pandas: one row per destination address, then "all", tab-separated.
Needs pandas (Debian: apt-get install python3-pandas; or pip install pandas);
without it the script says so and exits with status 77.
"""
import signal
import sys

signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quietly stop when piped into head

try:
    import pandas as pd
except ImportError:
    sys.stderr.write("ecn_table.py: needs pandas (Debian: apt-get install python3-pandas)\n")
    sys.exit(77)

SYN, ACK, ECE, CWR = 0x02, 0x10, 0x40, 0x80
NEEDED = ["dip", "proto", "tcp_connected", "tcp_synflags_fwd", "tcp_synflags_rev",
          "ecn_ect0_data_rev", "ecn_ect1_data_rev", "ecn_ce_syn_fwd", "ecn_ce_data_fwd",
          "ecn_ce_syn_rev", "ecn_ce_data_rev"]


def read_records(paths):
    """All records of the JSON lines files (or of standard input) as one frame."""
    frames = [pd.read_json(p, lines=True, dtype=False) for p in (paths or [sys.stdin])]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def summary(df):
    """flows, connected, negotiated, ect_rev, ce and pct for one group of flows."""
    connected = int(df["tcp_connected"].sum())
    negotiated = int(df["negotiated"].sum())
    ect_rev = int((df["negotiated"] & (df["ecn_ect0_data_rev"] | df["ecn_ect1_data_rev"])).sum())
    ce = int((df["ecn_ce_syn_fwd"] | df["ecn_ce_data_fwd"] |
              df["ecn_ce_syn_rev"] | df["ecn_ce_data_rev"]).sum())
    pct = str(100 * negotiated // connected) if connected else "-"
    return [len(df), connected, negotiated, ect_rev, ce, pct]


def main(argv):
    df = read_records(argv[1:])
    rows = [["dip", "flows", "connected", "negotiated", "ect_rev", "ce", "pct"]]
    if df.empty:
        rows.append(["all", 0, 0, 0, 0, 0, "-"])
    else:
        missing = [c for c in NEEDED if c not in df.columns]
        if missing:
            sys.stderr.write("ecn_table.py: the records lack %s: run pathobs with "
                             "-c basic -c tcp -c ecn\n" % ", ".join(missing))
            return 1
        tcp = df[df["proto"] == 6].copy()
        # null flags (no SYN seen) become 0: no bit set
        fwd = tcp["tcp_synflags_fwd"].fillna(0).astype(int)
        rev = tcp["tcp_synflags_rev"].fillna(0).astype(int)
        tcp["negotiated"] = ((fwd & (SYN | ECE | CWR)) == (SYN | ECE | CWR)) & \
                            ((rev & (SYN | ACK | ECE | CWR)) == (SYN | ACK | ECE))
        rows += [[dip] + summary(group) for dip, group in tcp.groupby("dip", sort=True)]
        rows.append(["all"] + summary(tcp))
    for row in rows:
        print("\t".join(str(v) for v in row))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
