#!/bin/sh
# test_install.sh - install into a temporary prefix; the installed binary finds its chains from anywhere.
# Usage: test_install.sh BUILD_DIR CAPTURE
set -eu
build=$1
capture=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
test -x "$prefix/bin/pathobs"
test -f "$prefix/share/pathobs/lua/pathobs/init.lua"
test -f "$prefix/share/pathobs/lua/pathobs/abi.h"   # the C/Lua contract pathobs.core reads
test -f "$prefix/share/pathobs/chains/basic.lua"
test -f "$prefix/share/man/man1/pathobs.1"
test -f "$prefix/share/pathobs/lua/types/pathobs.lua"
# the documentation --help and the man page point at
for f in README.md LICENSE cli.md writing-chains.md lua-api.md records.md porting.md live.md; do
  test -f "$prefix/share/doc/pathobs/$f" || { echo "FAIL: share/doc/pathobs/$f not installed"; exit 1; }
done
# --help names the documentation of this installation, found from the binary
real=$(cd "$prefix" && pwd -P)
"$prefix/bin/pathobs" --help | grep -q "in $real/share/doc/pathobs " || { echo "FAIL: --help does not name $real/share/doc/pathobs"; exit 1; }
grep -q "share/doc/pathobs" "$prefix/share/man/man1/pathobs.1" || { echo "FAIL: the man page does not name share/doc/pathobs"; exit 1; }
cd /
# the installed copy must be the one used, not the source tree
out=$("$prefix/bin/pathobs" --list-chains)
echo "$out" | grep -q '^basic ' || { echo "FAIL: --list-chains: $out"; exit 1; }
n=$("$prefix/bin/pathobs" -q -c basic "$capture" | wc -l)
[ "$n" -gt 0 ] || { echo "FAIL: no records from the installed binary"; exit 1; }
# the bundled folders it uses are the installed ones
echo 'return { new_flow = function(rec) rec.where = package.searchpath("pathobs", package.path) end }' > "$prefix/where.lua"
where=$("$prefix/bin/pathobs" -q -c "$prefix/where.lua" "$capture" | head -1)
case "$where" in
  *"$prefix/bin/../share/pathobs/lua/pathobs/init.lua"*) ;;
  *) echo "FAIL: the installed binary loads its runtime from elsewhere: $where"; exit 1 ;;
esac
# and pathobs.core read the installed abi.h beside it
echo 'return { new_flow = function(rec) rec.abi = require("pathobs.core").header_path end }' > "$prefix/abi.lua"
abi=$("$prefix/bin/pathobs" -q -c "$prefix/abi.lua" "$capture" | head -1)
case "$abi" in
  *"$prefix/bin/../share/pathobs/lua/pathobs/abi.h"*) ;;
  *) echo "FAIL: pathobs.core read another abi.h: $abi"; exit 1 ;;
esac
# an abi.h laid out unlike the binary's structs is refused at start, before any record
abi_h="$prefix/share/pathobs/lua/pathobs/abi.h"
sed 's/uint16_t gen; /uint32_t gen; /' "$abi_h" > "$prefix/abi.h.bad"
cp "$abi_h" "$prefix/abi.h.good"
cp "$prefix/abi.h.bad" "$abi_h"
cmp -s "$prefix/abi.h.bad" "$prefix/abi.h.good" && { echo "FAIL: could not alter abi.h"; exit 1; }
rc=0
out=$("$prefix/bin/pathobs" -q -c basic "$capture" 2>"$prefix/err") || rc=$?
[ "$rc" -eq 1 ] && [ -z "$out" ] || { echo "FAIL: a wrong abi.h: exit $rc, output '$out'"; exit 1; }
grep -q "pathobs.core: layout of po_pkt.gen differs: C says offset 62, FFI 64" "$prefix/err" ||
  { echo "FAIL: a wrong abi.h: $(cat "$prefix/err")"; exit 1; }
# and a missing one is named
rm "$abi_h"
rc=0
"$prefix/bin/pathobs" -q -c basic "$capture" >/dev/null 2>"$prefix/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "pathobs.core: cannot find abi.h on package.path" "$prefix/err" ||
  { echo "FAIL: no abi.h: exit $rc, $(cat "$prefix/err")"; exit 1; }
cp "$prefix/abi.h.good" "$abi_h"
echo "1 passed, 0 failed"
