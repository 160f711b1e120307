#!/bin/sh
# ecn_table.sh - ECN negotiation per destination, from pathobs records (jq)
#
#   pathobs -q -c basic -c tcp -c ecn CAPTURE | examples/ecn_table.sh
#   examples/ecn_table.sh flows.jsonl [more.jsonl ...]
#
# Reads the JSON lines of the basic, tcp and ecn chains and prints one
# tab-separated row per destination address, then a row "all":
#   flows       TCP flows to that destination
#   connected   flows whose handshake completed (tcp_connected)
#   negotiated  flows whose SYN asked for ECN (SYN, ECE, CWR) and whose
#               SYN+ACK agreed (ECE without CWR), as RFC 3168 says
#   ect_rev     negotiated flows in which the server's packets carried ECT
#   ce          flows with a CE mark in either direction
#   pct         negotiated / connected, in whole percent ("-" if none connected)
# Pipe it into `column -t` to line the columns up. examples/ecn_table.py
# prints the same table with pandas. Needs jq 1.5 or later.
set -eu
command -v jq >/dev/null 2>&1 || { echo "ecn_table.sh: needs jq (Debian: apt-get install jq)" >&2; exit 77; }

jq -rs '
  # jq has no bitwise operators: test one bit of a flags byte arithmetically
  def bit($b): . != null and ((. / $b | floor) % 2) == 1;
  def row($name):
    [ $name, length,
      (map(select(.tcp_connected)) | length),
      (map(select(.negotiated)) | length),
      (map(select(.negotiated and (.ecn_ect0_data_rev or .ecn_ect1_data_rev))) | length),
      (map(select(.ecn_ce_syn_fwd or .ecn_ce_data_fwd or .ecn_ce_syn_rev or .ecn_ce_data_rev)) | length)
    ] | . + [ if .[2] > 0 then (100 * .[3] / .[2] | floor) else "-" end ];
  map(select(.proto == 6)
      | .negotiated = ((.tcp_synflags_fwd | bit(2) and bit(64) and bit(128))
                       and (.tcp_synflags_rev | bit(2) and bit(16) and bit(64) and (bit(128) | not))))
  | (["dip", "flows", "connected", "negotiated", "ect_rev", "ce", "pct"] | @tsv),
    (group_by(.dip)[] | row(.[0].dip) | @tsv),
    (row("all") | @tsv)
' "$@"
