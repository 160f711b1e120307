#!/usr/bin/env bash
# bench.sh - pathobs beside libtrace's own read loop (tracestats) and the peers
# (softflowd, nfpcapd, argus) on the same page-cached traces.
#
# Usage: tests/bench/bench.sh [-n RUNS] [--quick] [--only LIST] [--peers LIST] [--head] [MODE]
#   (no mode)       timings: tracestats, pathobs and the peers in alternating rounds,
#                   medians of wall, CPU and peak RSS, PASS/MISS per target
#   --profile       where pathobs spends its time, one perf record per scenario
#                   (callgrind instead with --callgrind, or where perf cannot sample)
#   --jit-verbose   LuaJIT's trace log (the -jv equivalent): traces, aborts and their places
#   --jit-profile   LuaJIT's own profiler (the -jp equivalent): VM states and hot Lua lines
#   --floor         what the record API alone costs (tests/bench/record_floor.lua, in
#                   pathobs's LuaJIT through build/tests/po_luarun): no capture, no JSON
#   --workers       -j N (worker threads): for each N of --jobs (default "1 2 4"),
#                   the basic and the eight chains on the mix trace in alternating
#                   rounds: wall, CPU seconds per million packets, speed-up and
#                   CPU against -j 1; and the flood's bytes per flow at each N
#
# Builds tests/bench/gen_trace.c with plain cc into build-bench/, makes the
# traces once into ${BENCH_DIR:-/tmp/pathobs-bench} (reused later: their names
# carry the generator's checksum and parameters), reads them once so they are
# page-cached, then runs RUNS rounds (default 5) per trace; a round is
# tracestats, pathobs once per scenario on that trace, then each installed
# peer, so that all of them see the same machine load:
#   basic   mix trace (100k flows, 0.9 M packets), -c basic
#   eight   mix trace, -c basic -c tcp -c ecn -c dscp -c mss -c tfo -c udp -c icmp
#   flood   1 M concurrent SYN-only flows, --max-flows 2000000: peak RSS per
#           flow (minus the peak RSS of the same command on a one-packet
#           capture; and, to leave out the fixed read buffers, minus that on
#           as many packets in one flow), and its speed for information
#   noop    (only with --only) mix trace, -c noop: everything but chain work
#           (records of pkt_first and pkt_last), for information
# Peers (each skipped with a note when not installed; --peers "" for none):
#   softflowd -r TRACE -n 127.0.0.1:9 -v 9 -m MAXFLOWS -c none   (Debian softflowd;
#               NetFlow v9 to a port where nothing listens; -m as pathobs's
#               --max-flows, since softflowd keeps a file's flows to its end)
#   nfpcapd -r TRACE -w DIR       (Debian nfdump; -l DIR with nfdump 1.6)
#   argus -X -r TRACE -w FILE     (Debian argus-server; -X: its built-in
#               configuration, not /etc/argus.conf)
# Records go to /dev/null.  Exit status 0 whatever the figures (they are
# figures, not assertions); 1 only when something could not run.  Every run
# is also written to $BENCH_DIR/runs.tsv.
#
# Needs: cc, tracestats (Debian libtrace-tools), /usr/bin/time (Debian time),
# for the peers softflowd, nfdump and argus-server,
# for --profile perf (Debian linux-perf) or valgrind, and a built pathobs
# (cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build -j2),
# unless --head builds the committed code itself.
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUNS=5
QUICK=0
SNAPLEN=128
ONLY="basic eight flood"
FLOOD_CHAINS="basic"
MODE=bench
HEAD=0
PEERS="softflowd nfpcapd argus"
PATHOBS=${PATHOBS:-$ROOT/build/pathobs}
BENCH_DIR=${BENCH_DIR:-/tmp/pathobs-bench}
EIGHT="basic tcp ecn dscp mss tfo udp icmp"
JOBS="1 2 4"

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
  cat <<EOF
Options:
  -n RUNS               runs of each program per scenario (default 5; -n 3 for a quick look)
  --quick               small traces (10k flows / 90k packets, 100k-flow flood) for iteration
  --only LIST           scenarios, e.g. --only "basic flood" (default: "basic eight flood";
                        "noop" measures everything but chain work)
  --full-frames         whole frames in the mix trace (default: 128-byte snaplen, headers
                        only, as flow observers usually capture)
  --flood-chains LIST   chains for the flood (default: basic; e.g. "$EIGHT")
  --peers LIST          peers timed in the same rounds (default: "softflowd nfpcapd argus";
                        --peers "" for none)
  --pathobs PATH        the binary to measure (default: build/pathobs, or \$PATHOBS)
  --head                measure the committed code: git archive HEAD, build it in
                        \$BENCH_DIR/head-COMMIT (not the work tree, not build/)
  --jobs LIST           the N of --workers (default "1 2 4")
  --profile, --callgrind, --jit-verbose, --jit-profile, --floor, --workers   see above
EOF
}

while [ $# -gt 0 ]; do
  case $1 in
    -n) RUNS=${2:?-n needs a number}; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --full-frames) SNAPLEN=0; shift ;;
    --only) ONLY=${2:?--only needs a list}; shift 2 ;;
    --flood-chains) FLOOD_CHAINS=${2:?--flood-chains needs a list}; shift 2 ;;
    --peers) [ $# -ge 2 ] || { echo "bench.sh: --peers needs a list" >&2; exit 2; }
             PEERS=$2; shift 2 ;;
    --pathobs) PATHOBS=${2:?--pathobs needs a path}; shift 2 ;;
    --head) HEAD=1; shift ;;
    --profile) MODE=profile; shift ;;
    --callgrind) MODE=callgrind; shift ;;
    --jit-verbose) MODE=jitv; shift ;;
    --jit-profile) MODE=jitp; shift ;;
    --floor) MODE=floor; shift ;;
    --workers) MODE=workers; shift ;;
    --jobs) JOBS=${2:?--jobs needs a list}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
case $RUNS in ''|*[!0-9]*|0) echo "bench.sh: -n needs a positive number" >&2; exit 2 ;; esac
for sc in $ONLY; do
  case $sc in basic|eight|flood|noop) ;; *) echo "bench.sh: unknown scenario '$sc' (basic, eight, flood, noop)" >&2; exit 2 ;; esac
done
for p in $PEERS; do
  case $p in softflowd|nfpcapd|argus) ;; *) echo "bench.sh: unknown peer '$p' (softflowd, nfpcapd, argus)" >&2; exit 2 ;; esac
done

die() { echo "bench.sh: $*" >&2; exit 1; }
if [ $MODE = floor ]; then
  RUNNER=$ROOT/build/tests/po_luarun
  [ -x "$RUNNER" ] || die "no $RUNNER: build the tests (cmake --build $ROOT/build -j2)"
  exec "$RUNNER" "$ROOT/tests/bench/record_floor.lua"
fi
command -v cc >/dev/null || die "no C compiler (apt-get install build-essential)"
command -v tracestats >/dev/null || die "no tracestats (apt-get install libtrace-tools)"
[ -x /usr/bin/time ] || die "no /usr/bin/time (apt-get install time)"

if [ $QUICK = 1 ]; then
  MIX_FLOWS=10000; MIX_PACKETS=90000; FLOOD_FLOWS=100000
else
  MIX_FLOWS=100000; MIX_PACKETS=900000; FLOOD_FLOWS=1000000
fi
MAX_FLOWS=$((FLOOD_FLOWS * 2))
mkdir -p "$BENCH_DIR" "$ROOT/build-bench"

# ---- the binary ---------------------------------------------------------------
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ $HEAD = 1 ]; then
  command -v cmake >/dev/null || die "no cmake"
  HD=$BENCH_DIR/head-$COMMIT
  if [ ! -x "$HD/build/pathobs" ]; then
    echo "building commit $COMMIT in $HD" >&2
    rm -rf "$HD" && mkdir -p "$HD"
    git -C "$ROOT" archive HEAD | tar -x -C "$HD"
    cmake -S "$HD" -B "$HD/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$HD/build.log" 2>&1 &&
      cmake --build "$HD/build" -j2 --target pathobs >> "$HD/build.log" 2>&1 ||
      { cat "$HD/build.log" >&2; die "cannot build commit $COMMIT"; }
  fi
  PATHOBS=$HD/build/pathobs
  MEASURED="commit $COMMIT (built from git archive HEAD)"
else
  [ -x "$PATHOBS" ] || die "no pathobs at $PATHOBS: cmake -S $ROOT -B $ROOT/build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build $ROOT/build -j2 (or use --head)"
  MEASURED="$PATHOBS"
  case $PATHOBS in
    "$ROOT"/*)
      if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no -- src lua chains CMakeLists.txt 2>/dev/null)" ]; then
        MEASURED="$MEASURED (work tree of $COMMIT with uncommitted changes in src/lua/chains)"
      else
        MEASURED="$MEASURED (work tree of $COMMIT)"
      fi ;;
  esac
fi

# ---- the generator and the traces -------------------------------------------
SRC=$ROOT/tests/bench/gen_trace.c
GEN=$ROOT/build-bench/gen_trace
if [ ! -x "$GEN" ] || [ "$SRC" -nt "$GEN" ]; then
  cc -O2 -std=c11 -Wall -o "$GEN" "$SRC" -lm
fi
SUM=$(cksum < "$SRC" | cut -d' ' -f1)
# gen FILE MODE [options]: make the trace unless it is there (through a .part file)
gen() {
  local f=$1 mode=$2; shift 2
  if [ ! -s "$f" ]; then
    "$GEN" "$mode" "$f.part" "$@" 2>&1 | sed 's/^/  /' >&2
    mv "$f.part" "$f"
  fi
}
MIX=$BENCH_DIR/mix-$MIX_FLOWS-$MIX_PACKETS-s$SNAPLEN-$SUM.pcap
FLOOD=$BENCH_DIR/flood-$FLOOD_FLOWS-$SUM.pcap
ONE=$BENCH_DIR/one-$SUM.pcap
SAME=$BENCH_DIR/flood-$FLOOD_FLOWS-one-key-$SUM.pcap
echo "traces in $BENCH_DIR (generator checksum $SUM)" >&2
gen "$MIX" mix --flows "$MIX_FLOWS" --packets "$MIX_PACKETS" --snaplen "$SNAPLEN"
gen "$FLOOD" flood --flows "$FLOOD_FLOWS"
gen "$ONE" flood --flows 1
gen "$SAME" flood --flows "$FLOOD_FLOWS" --one-key
cat "$MIX" "$FLOOD" "$ONE" "$SAME" > /dev/null   # into the page cache

# chain_args "basic tcp": sets CHAIN_ARGS to (-c basic -c tcp)
chain_args() { local c; CHAIN_ARGS=(); for c in $1; do CHAIN_ARGS+=(-c "$c"); done; }
# scenario_cmd NAME: the pathobs command line of a scenario, one word a line
scenario_cmd() {
  case $1 in
    basic) printf '%s\n' "$PATHOBS" -q -c basic "$MIX" ;;
    noop) printf '%s\n' "$PATHOBS" -q -c noop "$MIX" ;;
    eight) chain_args "$EIGHT"; printf '%s\n' "$PATHOBS" -q "${CHAIN_ARGS[@]}" "$MIX" ;;
    flood) chain_args "$FLOOD_CHAINS"
           printf '%s\n' "$PATHOBS" -q "${CHAIN_ARGS[@]}" --max-flows "$MAX_FLOWS" "$FLOOD" ;;
  esac
}

TMP=$(mktemp -d "$BENCH_DIR/run.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# ---- --jit-verbose, --jit-profile: LuaJIT's jit.v and jit.p, started by a
# script given as the first chain (it returns no chain functions).  pathobs has
# no option for them yet; -L makes LuaJIT's own jit/*.lua loadable.
if [ $MODE = jitv ] || [ $MODE = jitp ]; then
  JITDIR=$(ls -d /usr/share/luajit-2.1*/ 2>/dev/null | awk "NR == 1")
  [ -n "$JITDIR" ] && [ -f "$JITDIR/jit/v.lua" ] || die "no LuaJIT jit/v.lua (apt-get install libluajit-5.1-common)"
  cat > "$TMP/jitv.lua" <<'EOF'
-- jitv: not a chain; starts LuaJIT's trace log (luajit -jv) into $PATHOBS_JIT_OUT
require("jit.v").start(os.getenv("PATHOBS_JIT_OUT"))
return {}
EOF
  cat > "$TMP/jitp.lua" <<'EOF'
-- jitp: not a chain; starts LuaJIT's profiler (luajit -jp=MODE) into $PATHOBS_JIT_OUT;
-- it writes its report when pathobs closes the Lua state
require("jit.p").start(os.getenv("PATHOBS_JITP_MODE"), os.getenv("PATHOBS_JIT_OUT"))
return {}
EOF
  for sc in $ONLY; do
    mapfile -t cmd < <(scenario_cmd "$sc")
    if [ $MODE = jitp ]; then
      echo "== $sc: ${cmd[*]}"
      for m in v Fl; do
        out=$BENCH_DIR/jitp.$sc.$m.txt
        PATHOBS_JITP_MODE=$m PATHOBS_JIT_OUT=$out "${cmd[0]}" -L "$JITDIR" -c "$TMP/jitp.lua" "${cmd[@]:1}" > /dev/null
        awk 'NR <= 10 { print "   " $0 }' "$out"
      done
      continue
    fi
    log=$BENCH_DIR/jitv.$sc.txt
    # the log starts when this script loads: after the core modules, before the chains
    PATHOBS_JIT_OUT=$log "${cmd[0]}" -L "$JITDIR" -c "$TMP/jitv.lua" "${cmd[@]:1}" > /dev/null
    echo "== $sc: $(grep -c '^\[TRACE *[0-9]' "$log") traces, $(grep -c '^\[TRACE ---' "$log") aborts; log: $log"
    echo "   first trace of the dispatch loop: $(grep -m1 'dispatch.lua:[0-9]* loop\]' "$log" || echo 'NONE (loop not compiled)')"
    echo "   aborts by reason:"
    sed -n 's/^\[TRACE --- .* -- \(.*\)\]$/\1/p' "$log" | sed 's/ at [^ ]*$//' | sort | uniq -c | sort -rn | awk 'NR <= 8 { print "   " $0 }'
    echo "   aborts by place (top 8):"
    sed -n 's/^\[TRACE --- \(([0-9/]*) \)\{0,1\}\([^ ]*\) -- .*$/\2/p' "$log" | sort | uniq -c | sort -rn | awk 'NR <= 8 { print "   " $0 }'
  done
  exit 0
fi

# ---- --profile / --callgrind -------------------------------------------------
# perf script (tid,ip,sym,dso with call chains) -> share of samples per part of
# pathobs, decided by the functions on the stack: the reader thread (libpcap
# read, link-layer decode, IP decode and flow keys), the writer thread (cJSON print, output), the
# loop thread's record building (tabwalk.c reading records, the Lua walk under
# write_slots and the po_json_* calls it makes, or the C serialiser), Lua
# batches, flow table.
# JIT code has no unwind information: a stack that stops in it is Lua code
# (chains or the record walk).  GCC's .part/.isra/.constprop suffixes are
# dropped first.
CATEGORISE='
function flush(   c, i, has) {
  if (n == 0) return
  for (i = 1; i <= n; i++) has[sym[i]] = 1
  if ("reader_main" in has) {
    if (("po_obs_decode" in has) || ("po_decode" in has)) c = "reader thread: decode"
    else if ("po_key_ahead" in has) c = "reader thread: flow keys"
    else if ("po_link_decode" in has) c = "reader thread: link-layer decode"
    else c = "reader thread: capture read (libpcap)"
  }
  else if ("writer_main" in has) {
    if (("po_out_write" in has) || ("write" in has)) c = "writer thread: output write"
    else c = "writer thread: cJSON print"
  }
  else if (("start_thread" in has) || chain ~ /libwandio/) c = "libtrace read (wandio thread)"
  else if (sym[1] ~ /^(po_tab_|tab_write)/ || ("tab_write" in has)) c = "records: read from the table in C"
  else if (sym[1] ~ /^(po_json_|raw_number|format_number|format_micro|hold|clean_string|arena_alloc|po_writer_alloc|hook_malloc|cJSON_)/ || ("po_json_line" in has) || ("po_json_write" in has) || ("write_record" in has)) {
    if (("format_number" in has) || ("format_micro" in has) || ("raw_number" in has)) c = "records: number text"
    else c = "records: cJSON tree (C)"
  }
  else if ("po_host_flush" in has) c = "records: Lua walk of the table"
  else if (("po_out_write" in has) || ("po_out_flush" in has)) c = "output write"
  else if (("po_host_run_batch" in has) || ("lua_pcall" in has)) c = "Lua: chains over batches"
  else if (("po_source_next" in has) || ("trace_read_packet" in has) || ("pcap_next_ex" in has)) c = "capture read (loop thread)"
  else if (("po_obs_decoded" in has) || ("po_obs_packet" in has) || ("po_obs_advance" in has) || ("po_obs_flush" in has) || sym[1] ~ /^(slot_|lookup|rehash|po_key_|ports_of|bin_|evict_one|po_frag|po_decode|decode)/) c = "decode, flow table, timers (loop thread)"
  else if (("_dl_start" in has) || ("po_host_new" in has) || ("po_host_load" in has) || ("po_source_open" in has)) c = "start-up"
  else if (dso[1] ~ /JIT|perf-|luajit|unknown/ || sym[1] ~ /^0x|unknown/) c = "Lua: JIT code (stack not unwound)"
  else { c = "other (kernel memory management, misc)"; other[sym[1]]++ }
  count[c]++; total++
  n = 0; chain = ""
  delete has
}
/^[ \t]*[0-9]+[ \t]*$/ || /^$/ { flush(); next }
{
  line = $0; sub(/^[ \t]+/, "", line)
  a = index(line, " "); rest = substr(line, a + 1)
  p = match(rest, / \([^()]*\)$/)
  s = p ? substr(rest, 1, p - 1) : rest; d = p ? substr(rest, p + 2, RLENGTH - 3) : ""
  sub(/\+0x[0-9a-f]+$/, "", s)
  gsub(/\.(part|isra|constprop|cold|lto_priv)(\.[0-9]+)?/, "", s)
  n++; sym[n] = s; dso[n] = d; chain = chain " " s " " d
}
END {
  flush()
  for (c in count) printf "  %5.1f%%  %s\n", 100 * count[c] / total, c | "sort -rn"
  close("sort -rn")
  printf "  %d samples", total
  m = 0
  for (k in other) if (other[k] * 100 >= total) printf "%s %s %d", (m++ ? "," : "; other:"), k, other[k]
  printf "\n"
}'

if [ $MODE = profile ] && ! { command -v perf >/dev/null && perf record -e cpu-clock -o "$TMP/probe.data" true > /dev/null 2>&1; }; then
  echo "perf cannot sample here: using callgrind (smaller traces: --quick)" >&2
  MODE=callgrind
fi
if [ $MODE = profile ]; then
  echo "profile of $MEASURED, $(date -u '+%Y-%m-%d %H:%M UTC'); perf record -e cpu-clock --call-graph dwarf"
  for sc in $ONLY; do
    mapfile -t cmd < <(scenario_cmd "$sc")
    data=$BENCH_DIR/perf.$sc.data
    freq=999; [ $sc = flood ] && freq=249
    rm -f "$data" "$data.old"
    perf record -q -e cpu-clock -F $freq --call-graph dwarf,16384 -o "$data" -- "${cmd[@]}" > /dev/null 2> "$TMP/perf.err" ||
      { cat "$TMP/perf.err" >&2; die "perf record failed"; }
    echo "== $sc: ${cmd[*]}"
    perf script -i "$data" -F tid,ip,sym,dso --no-inline 2>/dev/null | awk "$CATEGORISE"
    echo "  top functions (self):"
    { perf report -i "$data" --no-children --sort dso,sym -g none 2>/dev/null || true; } |
      awk '!/^#/ && NF && n++ < 12 { sub(/^ */, "    "); print }'
    echo "  (perf report -i $data --children for the call graph)"
  done
  exit 0
fi
if [ $MODE = callgrind ]; then
  command -v valgrind >/dev/null || die "no valgrind (apt-get install valgrind)"
  [ $QUICK = 1 ] || echo "(callgrind runs ~50x slower: --quick keeps it to a minute)" >&2
  echo "callgrind profile of $MEASURED, $(date -u '+%Y-%m-%d %H:%M UTC'): instructions, inclusive"
  for sc in $ONLY; do
    mapfile -t cmd < <(scenario_cmd "$sc")
    out=$BENCH_DIR/callgrind.$sc.out
    valgrind --tool=callgrind --callgrind-out-file="$out" "${cmd[@]}" > /dev/null 2> "$TMP/vg.err" ||
      { tail "$TMP/vg.err" >&2; die "callgrind failed"; }
    echo "== $sc: ${cmd[*]}"
    { callgrind_annotate --inclusive=yes --auto=no "$out" 2>/dev/null || true; } |
      grep -E '^ *[0-9,]+ \( *[0-9.]+%\)  [^ ]*:(po_run|reader_main|writer_main|po_source_next|trace_read_packet|po_obs_decode|po_obs_decoded|po_obs_packet|po_obs_advance|po_obs_flush|po_decode|po_key_ahead|po_host_run_batch|po_host_flush|po_tab_stage|po_json_flat_done|po_flat_tree|po_json_write|format_number|cJSON_PrintPreallocated|po_out_write|po_out_flush|lua_pcall) ' |
      sed 's/ \[.*$//; s/^/  /' || true
    echo "  (callgrind_annotate --inclusive=yes $out for everything)"
  done
  exit 0
fi

# ---- timings ------------------------------------------------------------------
RUNLOG=$BENCH_DIR/runs.tsv
printf 'scenario\tprogram\trun\twall_s\tcpu_s\tmaxrss_kb\n' > "$RUNLOG"

# measure SCENARIO PROGRAM RUN command...: runs it (stdout to /dev/null),
# appends "wall cpu rss" to $TMP/SCENARIO.PROGRAM and to the run log.  Wall
# and CPU (user+system) seconds come from bash's time (millisecond
# resolution), the peak RSS from GNU time (whose own times have only 10 ms).
# A failure ends the bench, or with SOFT=1 (the peers) returns 1.
measure() {
  local sc=$1 prog=$2 run=$3; shift 3
  local TIMEFORMAT='%3R %3U %3S' line
  if ! { time /usr/bin/time -f '%M' -o "$TMP/rss" "$@" > /dev/null 2> "$TMP/stderr"; } 2> "$TMP/time"; then
    [ "${SOFT:-0}" = 1 ] && return 1
    echo "bench.sh: failed: $*" >&2
    cat "$TMP/stderr" "$TMP/time" "$TMP/rss" >&2
    exit 1
  fi
  line=$(awk -v rss="$(tail -1 "$TMP/rss")" '{ printf "%.3f %.3f %d", $1, $2 + $3, rss }' "$TMP/time")
  echo "$line" >> "$TMP/$sc.$prog"
  printf '%s\t%s\t%s\t%s\n' "$sc" "$prog" "$run" "${line// /$'\t'}" >> "$RUNLOG"
}

MEDIAN='{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
# median of column COL of FILE (1 wall, 2 cpu, 3 rss)
median() { awk -v c="$2" '{ print $c }' "$1" | sort -g | awk "$MEDIAN"; }
# median of the per-run ratios FILE2/FILE1 of column COL: the runs
# alternate, so each pair shares the load of its moment
pair_median() {
  paste -d' ' "$1" "$2" | awk -v c="$3" '{ print $(c + 3) / ($c > 0.001 ? $c : 0.001) }' | sort -g | awk "$MEDIAN"
}
range_of() {
  awk -v c="$2" 'NR == 1 || $c < lo { lo = $c } NR == 1 || $c > hi { hi = $c } END { printf "%.2f-%.2f", lo, hi }' "$1"
}

# ---- --workers: -j N against -j 1 ----------------------------------------------
if [ $MODE = workers ]; then
  for n in $JOBS; do case $n in ''|*[!0-9]*|0) die "--jobs: '$n' is not a number of workers" ;; esac; done
  WLOG=$BENCH_DIR/workers.tsv
  printf 'scenario\tworkers\trun\twall_s\tcpu_s\tmaxrss_kb\n' > "$WLOG"
  # wmeasure FILE command...: wall, CPU and peak RSS of one run, appended to FILE
  wmeasure() {
    local f=$1; shift
    local TIMEFORMAT='%3R %3U %3S'
    { time /usr/bin/time -f '%M' -o "$TMP/rss" "$@" > /dev/null 2> "$TMP/stderr"; } 2> "$TMP/time" ||
      { cat "$TMP/stderr" >&2; die "failed: $*"; }
    awk -v rss="$(tail -1 "$TMP/rss")" '{ printf "%.3f %.3f %d\n", $1, $2 + $3, rss }' "$TMP/time" >> "$f"
  }
  LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
  START=$(date -u '+%Y-%m-%d %H:%M UTC')
  echo "running: $RUNS alternating rounds of -j $JOBS (load average $LOAD0)" >&2
  for ((i = 1; i <= RUNS; i++)); do
    for sc in basic eight; do
      mapfile -t cmd < <(scenario_cmd "$sc")
      for n in $JOBS; do
        wmeasure "$TMP/w.$sc.$n" "${cmd[0]}" -j "$n" "${cmd[@]:1}"
        printf '%s\t%s\t%s\t%s\n' "$sc" "$n" "$i" "$(tail -1 "$TMP/w.$sc.$n" | tr ' ' '\t')" >> "$WLOG"
      done
    done
  done
  PK=$("$PATHOBS" -q -c noop --stats "$TMP/wstats.json" "$MIX" > /dev/null && sed -n 's/.*"packets":\([0-9]*\).*/\1/p' "$TMP/wstats.json")
  echo
  echo "pathobs -j N, $START, $(nproc) cores, load average before $LOAD0, after $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "measured: $MEASURED; mix trace: $PK packets; $RUNS alternating rounds (every N of a round back to back)"
  echo "wall: median seconds [range]; cpu: user+system seconds per million packets (median);"
  echo "speed-up: median per-round ratio of -j 1's wall to -j N's; cpu ratio: the same of CPU, -j N over -j 1"
  printf '%-7s %3s %-20s %10s %9s %10s  %s\n' chains N "wall s [range]" "cpu s/Mp" speed-up "cpu ratio" target
  first=${JOBS%% *}
  for sc in basic eight; do
    for n in $JOBS; do
      f=$TMP/w.$sc.$n
      cpu=$(awk -v c="$(median "$f" 2)" -v p="$PK" 'BEGIN { printf "%.3f", c / p * 1e6 }')
      sp=$(pair_median "$f" "$TMP/w.$sc.$first" 1)
      cr=$(pair_median "$TMP/w.$sc.$first" "$f" 2)
      tgt=""
      if [ "$sc" = eight ] && [ "$n" = 2 ] && [ "$first" = 1 ]; then
        tgt="speed-up >= 1.3: $(awk -v v="$sp" 'BEGIN { print (v >= 1.3 ? "PASS" : "MISS") }')"
      fi
      if [ "$n" = 2 ] && [ "$first" = 1 ]; then
        tgt="${tgt:+$tgt; }cpu ratio <= 1.10: $(awk -v v="$cr" 'BEGIN { print (v <= 1.10 ? "PASS" : "MISS") }')"
      fi
      printf '%-7s %3s %-20s %10s %8.2fx %9.2fx  %s\n' "$sc" "$n" \
        "$(printf '%.3f' "$(median "$f" 1)") [$(range_of "$f" 1)]" "$cpu" "$sp" "$cr" "$tgt"
    done
  done
  # memory per flow at each N: the flood's peak RSS less that of the same
  # number of packets in one flow, over the flows
  echo
  echo "memory: $FLOOD_FLOWS concurrent flows (flood trace, -c $FLOOD_CHAINS), peak RSS less that of one flow's packets"
  chain_args "$FLOOD_CHAINS"
  for n in $JOBS; do
    for ((i = 1; i <= RUNS && i <= 3; i++)); do
      wmeasure "$TMP/m.flood.$n" "$PATHOBS" -q -j "$n" "${CHAIN_ARGS[@]}" --max-flows "$MAX_FLOWS" "$FLOOD"
      wmeasure "$TMP/m.same.$n" "$PATHOBS" -q -j "$n" "${CHAIN_ARGS[@]}" --max-flows "$MAX_FLOWS" "$SAME"
    done
    awk -v a="$(median "$TMP/m.flood.$n" 3)" -v b="$(median "$TMP/m.same.$n" 3)" -v f="$FLOOD_FLOWS" -v n="$n" \
      'BEGIN { bpf = (a - b) * 1024 / f; printf "  -j %-3s %7.1f MiB peak, %5.0f bytes/flow  (<= 600: %s)\n", n, a / 1024, bpf, bpf <= 600 ? "PASS" : "MISS" }'
  done
  echo "(every run: $WLOG)"
  exit 0
fi

# ---- the peers: flow exporters written in C, no scripting ---------------------
# peer_bin NAME: its path (softflowd and argus live in /usr/sbin, which a
# user's PATH may lack), or nothing
peer_bin() { command -v "$1" 2>/dev/null || { [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; } || true; }
peer_pkg() { case $1 in softflowd) echo softflowd ;; nfpcapd) echo nfdump ;; argus) echo argus-server ;; esac; }
PEERS_OK=""; NOTES=""
for p in $PEERS; do
  if [ -n "$(peer_bin "$p")" ]; then PEERS_OK="$PEERS_OK $p"
  else NOTES="$NOTES$p: not installed, skipped (apt-get install $(peer_pkg "$p"))"$'\n'; fi
done
NFPCAPD_DIR=-w   # nfdump 1.7; 1.6's nfpcapd takes -l
case $PEERS_OK in
  *nfpcapd*) case $(nfpcapd -h 2>&1 || true) in *"-w flowdir"*) ;; *) NFPCAPD_DIR=-l ;; esac ;;
esac
# peer_cmd NAME TRACE: its command line, one word a line.  softflowd exports
# NetFlow v9 (IPv6 included) to a port where nothing listens, keeps up to
# pathobs's --max-flows flows (it expires a file's flows only when the table
# is full, default 8192), and has no control socket; nfpcapd and argus write
# their files under $TMP (pathobs writes to /dev/null)
peer_cmd() {
  local bin; bin=$(peer_bin "$1")
  case $1 in
    softflowd) printf '%s\n' "$bin" -r "$2" -n 127.0.0.1:9 -v 9 -m "$MAX_FLOWS" -c none -p "$TMP/softflowd.pid" ;;
    nfpcapd) printf '%s\n' "$bin" -r "$2" "$NFPCAPD_DIR" "$TMP/nfpcapd" ;;
    argus) printf '%s\n' "$bin" -X -r "$2" -w "$TMP/argus.out" ;;
  esac
}
peer_prep() { rm -rf "$TMP/nfpcapd" "$TMP/argus.out"; mkdir "$TMP/nfpcapd"; }
FAILED=""
# run_peer TAG NAME RUN TRACE: one timed run; a peer that fails is left out
# of that trace's table with a note
run_peer() {
  local cmd
  case " $FAILED " in *" $1.$2 "*) return 0 ;; esac
  peer_prep
  mapfile -t cmd < <(peer_cmd "$2" "$4")
  SOFT=1 measure "$1" "$2" "$3" "${cmd[@]}" || {
    FAILED="$FAILED $1.$2"
    NOTES="$NOTES$2 on $1: failed, left out: ${cmd[*]}: $(tail -c 200 "$TMP/stderr" | tr '\n' ' ')"$'\n'
    rm -f "$TMP/$1.$2"
  }
}

# run_rounds TAG TRACE SCENARIOS: RUNS rounds, each of tracestats, pathobs
# once per scenario and each peer, all on TRACE
run_rounds() {
  local tag=$1 trace=$2 scs=$3 sc p i cmd tr tp pp
  echo "  $tag: $RUNS rounds of: tracestats pcapfile:$trace; pathobs ($scs) > /dev/null;${PEERS_OK:- no peers}" >&2
  tracestats "pcapfile:$trace" > "$TMP/$tag.tracestats.out" 2>&1   # warm-up, and its packet count
  for ((i = 1; i <= RUNS; i++)); do
    measure "$tag" tracestats "$i" tracestats "pcapfile:$trace"
    for sc in $scs; do
      mapfile -t cmd < <(scenario_cmd "$sc")
      tr=${cmd[${#cmd[@]} - 1]}
      cmd=("${cmd[@]:0:${#cmd[@]}-1}" --stats "$TMP/stats.$sc.json" "$tr")
      [ "$i" = 1 ] && echo "    ${cmd[*]}" >&2
      measure "$sc" pathobs "$i" "${cmd[@]}"
    done
    for p in $PEERS_OK; do run_peer "$tag" "$p" "$i" "$trace"; done
  done
  tp=$(awk '/Accepted Packets:/ { print $3 }' "$TMP/$tag.tracestats.out")
  for sc in $scs; do
    [ "$sc" = "$tag" ] || cp "$TMP/$tag.tracestats" "$TMP/$sc.tracestats"   # the same runs: pairs are rounds
    pp=$(sed -n 's/.*"packets":\([0-9]*\).*/\1/p' "$TMP/stats.$sc.json")
    [ "$tp" = "$pp" ] || die "$sc: tracestats read $tp packets, pathobs $pp"
    echo "$pp" > "$TMP/$sc.packets"
    sed -n 's/.*"records":\([0-9]*\).*/\1/p' "$TMP/stats.$sc.json" > "$TMP/$sc.records"
  done
}

verdict() { # value limit aim
  awk -v v="$1" -v l="$2" -v a="$3" 'BEGIN {
    if (v <= a) print "PASS (aim met)"; else if (v <= l) print "PASS (aim missed)"; else print "MISS" }'
}

MIXSC=""; DO_FLOOD=0
for sc in $ONLY; do if [ $sc = flood ]; then DO_FLOOD=1; else MIXSC="$MIXSC $sc"; fi; done
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date -u '+%Y-%m-%d %H:%M UTC')
SECONDS=0
echo "running: $RUNS alternating rounds per trace (load average $LOAD0)" >&2
[ -n "$MIXSC" ] && run_rounds mix "$MIX" "$MIXSC"
if [ $DO_FLOOD = 1 ]; then
  # baselines: the same command on a one-packet capture, and on the same
  # number of packets in one flow (what is left is the cost per flow); the
  # peers' on the one-packet capture
  chain_args "$FLOOD_CHAINS"
  for ((i = 1; i <= RUNS; i++)); do
    measure baseline pathobs "$i" "$PATHOBS" -q "${CHAIN_ARGS[@]}" --max-flows "$MAX_FLOWS" "$ONE"
    measure onekey pathobs "$i" "$PATHOBS" -q "${CHAIN_ARGS[@]}" --max-flows "$MAX_FLOWS" "$SAME"
    for p in $PEERS_OK; do run_peer baseline "$p" "$i" "$ONE"; done
  done
  run_rounds flood "$FLOOD" flood
fi
ELAPSED=$SECONDS

# ---- the report -----------------------------------------------------------------
echo
echo "pathobs benchmark, $START, $(nproc) cores; $RUNS alternating rounds per trace, ${ELAPSED} s"
BTYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$(dirname "$PATHOBS")/CMakeCache.txt" 2>/dev/null || true)
echo "measured: $MEASURED${BTYPE:+, $BTYPE build}"
echo "load average before: $LOAD0, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "mix: $MIX_FLOWS flows, $MIX_PACKETS packets, snaplen $([ $SNAPLEN = 0 ] && echo none || echo $SNAPLEN); flood: $FLOOD_FLOWS SYN-only flows (chains: $FLOOD_CHAINS)"
echo "times: medians of wall-clock seconds [range]; ratio: median of the per-round ratios"
echo "pathobs/tracestats of wall time; cpu: the same for user+system CPU time"
echo
printf '%-8s %8s %8s %-20s %-20s %6s %7s %7s  %-15s %s\n' scenario packets records \
  "tracestats s" "pathobs s" Mpps ratio cpu "target (aim)" result
for sc in $ONLY; do
  pk=$(cat "$TMP/$sc.packets"); rc=$(cat "$TMP/$sc.records")
  tw=$(median "$TMP/$sc.tracestats" 1); pw=$(median "$TMP/$sc.pathobs" 1)
  r=$(pair_median "$TMP/$sc.tracestats" "$TMP/$sc.pathobs" 1)
  rcpu=$(pair_median "$TMP/$sc.tracestats" "$TMP/$sc.pathobs" 2)
  mpps=$(awk -v p="$pk" -v t="$pw" 'BEGIN { printf "%.3f", p / t / 1e6 }')
  case $sc in
    basic) tgt="<= 2.5x (1.3x)"; res=$(verdict "$r" 2.5 1.3) ;;
    eight) tgt="<= 5x (2.5x)"; res=$(verdict "$r" 5 2.5) ;;
    *) tgt="(none)"; res="-" ;;
  esac
  printf '%-8s %8s %8s %-20s %-20s %6s %6.2fx %6.2fx  %-15s %s\n' "$sc" "$pk" "$rc" \
    "$(printf '%.3f' "$tw") [$(range_of "$TMP/$sc.tracestats" 1)]" \
    "$(printf '%.3f' "$pw") [$(range_of "$TMP/$sc.pathobs" 1)]" "$mpps" "$r" "$rcpu" "$tgt" "$res"
done

# every tool of a trace, one row each: medians of wall, CPU and peak RSS,
# and the per-round ratios to tracestats
side_row() { # TRACE LABEL FILE TRACESTATS_FILE
  printf '%-6s %-15s %-20s %7.3f %8.1f %8.2fx %8.2fx\n' "$1" "$2" \
    "$(printf '%.3f' "$(median "$3" 1)") [$(range_of "$3" 1)]" "$(median "$3" 2)" \
    "$(awk -v k="$(median "$3" 3)" 'BEGIN { print k / 1024 }')" \
    "$(pair_median "$4" "$3" 1)" "$(pair_median "$4" "$3" 2)"
}
echo
echo "side by side, the same rounds (a round runs every row of its trace once, in this order):"
printf '%-6s %-15s %-20s %7s %8s %9s %9s\n' trace tool "wall s [range]" "cpu s" "RSS MiB" "wall/ts" "cpu/ts"
for tag in mix flood; do
  [ -f "$TMP/$tag.tracestats" ] || continue
  ts=$TMP/$tag.tracestats
  side_row "$tag" tracestats "$ts" "$ts"
  if [ $tag = mix ]; then
    for sc in $MIXSC; do side_row "$tag" "pathobs $sc" "$TMP/$sc.pathobs" "$ts"; done
  else
    side_row "$tag" "pathobs $(echo "$FLOOD_CHAINS" | awk '{ print (NF > 1 ? NF " chains" : $1) }')" "$TMP/flood.pathobs" "$ts"
  fi
  for p in $PEERS_OK; do [ -f "$TMP/$tag.$p" ] && side_row "$tag" "$p" "$TMP/$tag.$p" "$ts"; done
done
echo "wall s, cpu s (user+system), RSS (GNU time's peak resident set): medians; wall/ts, cpu/ts: medians"
echo "of the per-round ratios to tracestats.  Peers:${PEERS_OK:- none}"
for p in $PEERS_OK; do echo "  $(peer_cmd "$p" TRACE | tr '\n' ' ' | sed "s|$TMP/|\$TMP/|g; s|/usr/s*bin/||")"; done
[ -n "$NOTES" ] && printf '%s' "$NOTES" | sed 's/^/  /'
if [ -f "$TMP/flood.pathobs" ]; then
  peak=$(median "$TMP/flood.pathobs" 3); base=$(median "$TMP/baseline.pathobs" 3)
  same=$(median "$TMP/onekey.pathobs" 3)
  per=$(awk -v p="$peak" -v b="$base" -v n="$FLOOD_FLOWS" 'BEGIN { printf "%.0f", (p - b) * 1024 / n }')
  per2=$(awk -v p="$peak" -v b="$same" -v n="$FLOOD_FLOWS" 'BEGIN { printf "%.0f", (p - b) * 1024 / n }')
  mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
  echo
  printf '%-9s %8s %13s %13s %11s  %-15s %s\n' memory flows "peak RSS MiB" "baseline MiB" "bytes/flow" "target (aim)" result
  printf '%-9s %8s %13s %13s %11s  %-15s %s\n' flood "$FLOOD_FLOWS" "$(mib "$peak")" "$(mib "$base")" "$per" \
    "<= 700 (400)" "$(verdict "$per" 700 400)"
  printf '%-9s %8s %13s %13s %11s  %s\n' "" "" "" "$(mib "$same")" "$per2" "(per flow only: baseline with the same packets in one flow)"
  for p in $PEERS_OK; do
    [ -f "$TMP/flood.$p" ] && [ -f "$TMP/baseline.$p" ] || continue
    pk=$(median "$TMP/flood.$p" 3); bs=$(median "$TMP/baseline.$p" 3)
    printf '%-9s %8s %13s %13s %11s  %s\n' "$p" "$FLOOD_FLOWS" "$(mib "$pk")" "$(mib "$bs")" \
      "$(awk -v p="$pk" -v b="$bs" -v n="$FLOOD_FLOWS" 'BEGIN { printf "%.0f", (p - b) * 1024 / n }')" "(peer)"
  done
  echo "peak RSS: median of GNU time's maximum resident set size.  bytes/flow = (peak - baseline) / flows,"
  echo "baseline: the same command on a one-packet capture (the target's figure); the second"
  echo "line takes a capture of as many packets in one flow, so fixed costs of reading are left out"
fi
echo
echo "every run: $RUNLOG"
