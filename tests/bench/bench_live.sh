#!/usr/bin/env bash
# bench_live.sh - one reader against several (--readers K, PACKET_FANOUT) on a live interface (lo).
#
# Usage: tests/bench/bench_live.sh [-s SECONDS] [-p PPS] [-f FLOWS] [-z SIZE] [-n RUNS]
#                                  [-B KIB] [-k "1 2"] [-j "1 2"] [-c CHAIN]...
#   -s SECONDS  how long the sender blasts, per run (default 5)
#   -p PPS      datagrams a second (default 0: as fast as the sender can)
#   -f FLOWS    UDP flows (sender sockets), round robin in bursts of 32 (default 256)
#   -z SIZE     UDP payload bytes (default 64)
#   -n RUNS     rounds; a round runs every K, N pair once, so that all see the
#               same machine load (default 3)
#   -B KIB      each reader's capture buffer (default: pathobs's, 128 MiB)
#   -k LIST     reader counts K (default "1 2")
#   -j LIST     worker counts N (default "1 2")
#   -c CHAIN    chains (default basic), repeatable
#
# For each run: pathobs -q -i lo -f 'udp dst port P' --readers K -j N -o /dev/null
# --stats FILE starts; once its K packet sockets are open, tests/bench/udp_blast.c
# (built with cc into $BENCH_DIR) sends for SECONDS; pathobs gets SIGINT half a
# second after the sender ends.  Printed per run and as medians per K, N:
#   sent      datagrams the sender sent (each one is one captured packet on lo)
#   received  packets pathobs counted (--stats packets)
#   dropped   the kernel's drops, summed over the K sockets (--stats dropped)
#   missed    sent - received - dropped (packets the capture never saw: none
#             expected beyond the ones sent before the capture started)
#   cpu       pathobs's CPU seconds (user + system, /usr/bin/time), all threads
#   loop      of which the loop thread's (the one reader with K = 1; the merge,
#             the observer and, with N = 1, the chains with K > 1), up to the
#             signal (/proc/PID/task)
#   readers   of which the K reader threads' (K > 1: read, decode, key)
#   reord     packets counted reordered (K > 1: the sockets' blocks interleave)
#   rate      received / SECONDS
#   sender    the sender's own CPU seconds: on a machine with few cores it
#             competes with pathobs (and, on lo, the kernel's receive path
#             runs in the sender's system time)
# Runs are also appended to $BENCH_DIR/live.tsv.  Exit status 0 whatever the
# figures; 1 when something could not run.  Needs root or CAP_NET_RAW, cc,
# /usr/bin/time (Debian time) and a built pathobs ($PATHOBS, default build/pathobs).
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PATHOBS=${PATHOBS:-$ROOT/build/pathobs}
BENCH_DIR=${BENCH_DIR:-/tmp/pathobs-bench}
SECS=5 PPS=0 FLOWS=256 SIZE=64 RUNS=3 BUF="" KS="1 2" JS="1 2"
CHAINS=()
while getopts "s:p:f:z:n:B:k:j:c:h" opt; do
  case $opt in
  s) SECS=$OPTARG ;;
  p) PPS=$OPTARG ;;
  f) FLOWS=$OPTARG ;;
  z) SIZE=$OPTARG ;;
  n) RUNS=$OPTARG ;;
  B) BUF=$OPTARG ;;
  k) KS=$OPTARG ;;
  j) JS=$OPTARG ;;
  c) CHAINS+=(-c "$OPTARG") ;;
  *) sed -n '2,/^set -e/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
  esac
done
[ ${#CHAINS[@]} -gt 0 ] || CHAINS=(-c basic)
[ -x "$PATHOBS" ] || { echo "bench_live: no pathobs at $PATHOBS (build it first)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench_live: needs /usr/bin/time (Debian time)" >&2; exit 1; }
mkdir -p "$BENCH_DIR"
BLAST=$BENCH_DIR/udp_blast
cc -O2 -o "$BLAST" "$ROOT/tests/bench/udp_blast.c" || { echo "bench_live: cannot build udp_blast" >&2; exit 1; }
PORT=$((39000 + $$ % 500 * 2))
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# the packet sockets process $1 holds
sockets() {
  local n=0 fd link inodes
  inodes=$(awk 'NR > 1 { print $NF }' /proc/net/packet)
  for fd in /proc/"$1"/fd/*; do
    link=$(readlink "$fd" 2>/dev/null) || continue
    case $link in socket:\[*\]) grep -qx "${link:8:-1}" <<<"$inodes" && n=$((n + 1)) ;; esac
  done
  echo $n
}

# CPU seconds of process $1's loop thread and of its reader threads: "LOOP READERS"
threads_cpu() {
  python3 - "$1" <<'EOF'
import os, sys
tick = os.sysconf("SC_CLK_TCK")
loop = readers = 0.0
for t in os.listdir("/proc/%s/task" % sys.argv[1]):
    try:
        st = open("/proc/%s/task/%s/stat" % (sys.argv[1], t)).read()
    except OSError:
        continue
    comm = st[st.index("(") + 1:st.rindex(")")]
    f = st[st.rindex(")") + 2:].split()
    cpu = (int(f[11]) + int(f[12])) / tick
    if t == sys.argv[1]:
        loop += cpu
    elif comm == "pathobs-reader":
        readers += cpu
print("%.2f %.2f" % (loop, readers))
EOF
}

# one run: K N -> "K N sent received dropped missed cpu loop readers reord rate sender"
run() {
  local k=$1 j=$2 tpid pid i sent scpu
  local args=(-q "${CHAINS[@]}" -i lo -f "udp dst port $PORT" --readers "$k" -j "$j" -o /dev/null
              --stats "$TMP/stats.json")
  [ -z "$BUF" ] || args+=(-B "$BUF")
  rm -f "$TMP/stats.json" "$TMP/time"
  /usr/bin/time -f "%U %S" -o "$TMP/time" "$PATHOBS" "${args[@]}" 2>"$TMP/err" &
  tpid=$!
  pid=""
  for i in $(seq 100); do # its packet sockets open: 10 s at most
    [ -n "$pid" ] || pid=$(pgrep -P "$tpid" || true)
    [ -n "$pid" ] && [ "$(sockets "$pid")" -ge "$k" ] && break
    sleep 0.1
  done
  if [ -z "$pid" ] || [ "$(sockets "$pid")" -lt "$k" ]; then
    echo "bench_live: pathobs did not start: $(cat "$TMP/err")" >&2
    [ -z "$pid" ] || kill -INT "$pid"
    wait "$tpid" || true
    return 1
  fi
  sleep 0.5
  read -r _ sent _ scpu < <("$BLAST" "$PORT" "$SECS" "$FLOWS" "$PPS" "$SIZE")
  sleep 0.5
  threads_cpu "$pid" >"$TMP/threads"
  kill -INT "$pid"
  wait "$tpid" || { echo "bench_live: pathobs failed: $(cat "$TMP/err")" >&2; return 1; }
  python3 - "$TMP/stats.json" "$TMP/time" "$TMP/threads" "$k" "$j" "$sent" "$scpu" "$SECS" <<'EOF'
import json, sys
st = json.load(open(sys.argv[1]))
u, s = open(sys.argv[2]).read().split()[-2:]
loop, readers = open(sys.argv[3]).read().split()
k, j, sent, scpu, secs = sys.argv[4], sys.argv[5], int(sys.argv[6]), float(sys.argv[7]), float(sys.argv[8])
got, drop = st["packets"], st["dropped"]
print("%s %s %d %d %d %d %.2f %s %s %d %.0f %.2f" % (k, j, sent, got, drop, sent - got - drop,
      float(u) + float(s), loop, readers, st["reordered"], got / secs, scpu))
EOF
}

echo "# $(nproc) cores; $SECS s a run, ${PPS/#0/max} datagrams/s, $FLOWS flows, $SIZE-byte payloads, chains: ${CHAINS[*]}"
FMT="%-3s %-3s %10s %10s %9s %7s %6s %6s %7s %8s %9s %6s\n"
# shellcheck disable=SC2059
printf "$FMT" K N sent received dropped missed cpu loop readers reord rate sender
: >"$TMP/all"
for r in $(seq "$RUNS"); do
  for k in $KS; do
    for j in $JS; do
      line=$(run "$k" "$j") || exit 1
      echo "$line" >>"$TMP/all"
      echo "$(date -u +%FT%TZ) $line" | tr ' ' '\t' >>"$BENCH_DIR/live.tsv"
      # shellcheck disable=SC2086,SC2059
      printf "$FMT" $line
    done
  done
done
echo "# medians"
python3 - "$TMP/all" <<'EOF'
import sys, statistics
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    rows.setdefault((f[0], f[1]), []).append([float(x) for x in f[2:]])
for (k, j), rs in rows.items():
    m = [statistics.median(c) for c in zip(*rs)]
    print("%-3s %-3s %10d %10d %9d %7d %6.2f %6.2f %7.2f %8d %9d %6.2f" % (k, j, *m))
EOF
