-- chains_scripts.lua - every bundled chain loads, is a valid chain table, and behaves per chains.md.
-- A plain script that raises on failure; needs the bundled lua/ and chains/
-- folders on package.path. Header objects are faked with plain tables
-- holding the fields a chain reads; the golden tests run the real thing.
local pathobs = require("pathobs")
local dispatch = require("pathobs.dispatch")
local null = pathobs.null

local NAMES = { "basic", "tcp", "ecn", "dscp", "evilbit", "icmp", "mss", "tcpopt", "tfo",
  "udp", "dns", "noop" }

local function eq(got, want, what)
  if got ~= want then
    error(("%s: got %s, expected %s"):format(what, tostring(got), tostring(want)), 2)
  end
end

-- The fake TCP objects below have an options() iterator but no bytes: make
-- the option chains (which bind these functions when they load) walk that.
local tcpopt = require("pathobs.tcpopt")
for k, f in pairs(tcpopt.iter) do tcpopt[k] = f end

-- Load every chain script as the observer does, check its header comment and
-- its table, and that the loader accepts all of them together.
local scripts, chain = {}, {}
for _, name in ipairs(NAMES) do
  local path = assert(package.searchpath(name, package.path), "chain " .. name .. " not found")
  local f = assert(io.open(path))
  local first = f:read("*l")
  f:close()
  assert(first:sub(1, #name + 6) == "-- " .. name .. " - " and #first > #name + 10,
    path .. ": first line must be '-- " .. name .. " - description'")
  local value = assert(loadfile(path))()
  assert(type(value) == "table", path .. " returns a table")
  assert(type(value.new_flow) == "function", path .. " has new_flow")
  assert(type(value.exports) == "table", path .. " has exports")
  for k, v in pairs(value.exports) do
    assert(type(v) == "function", path .. ": export " .. k .. " is a function")
  end
  scripts[#scripts + 1] = { path = path, value = value, lastline = 1 }
  chain[name] = value
end
assert(dispatch.compose(scripts))

-- Fakes -------------------------------------------------------------------
local function opts(list)
  return function()
    local i = 0
    return function()
      i = i + 1
      local e = list[i]
      if e == nil then return nil end
      return e[1], e[2]
    end
  end
end
local function tcp(flags, o)
  o = o or {}
  return { flags = flags, payload_len = o.len or 0, payload = o.payload, seq_nbr = o.seq or 0,
    ack_nbr = o.ack or 0, options = opts(o.opts or {}) }
end
local function ip(tc, t, rf) return { traffic_class = tc, tcp = t, has_rf = rf or false } end
local function new(name)
  local rec = {}
  eq(chain[name].new_flow(rec, ip(0)), true, name .. ".new_flow returns true")
  return rec
end
local S, SA, A, F, R, FA, RA = 0x02, 0x12, 0x10, 0x01, 0x04, 0x11, 0x14

-- tcp ---------------------------------------------------------------------
local c = chain.tcp
local rec = new("tcp")
eq(rec.tcp_synflags_fwd, null, "synflags start null")
eq(rec.tcp_connected, false, "connected starts false")
eq(c.tcp(rec, tcp(S), false), true, "SYN carries on")
eq(c.tcp(rec, tcp(SA), true), true, "SYN+ACK carries on")
eq(rec.tcp_connected, false, "not connected before the ACK")
eq(c.tcp(rec, tcp(A), true), true, "reverse ACK")
eq(rec.tcp_connected, false, "a reverse ACK does not connect")
eq(c.tcp(rec, tcp(A), false), true, "forward ACK")
eq(rec.tcp_connected, true, "a forward ACK connects")
eq(c.tcp(rec, tcp(FA), true), true, "one FIN carries on")
eq(rec.tcp_fin_rev, true, "a reverse FIN is fin_rev (PATHspider swapped them)")
eq(rec.tcp_fin_fwd, false, "fin_fwd untouched")
eq(c.tcp(rec, tcp(FA), false), false, "FIN both ways completes")
rec = new("tcp")
eq(c.tcp(rec, tcp(RA), true), false, "a reverse RST completes")
eq(rec.tcp_rst_rev, true, "rst_rev")
eq(rec.tcp_synflags_rev, null, "RST+ACK is no SYN")
rec = new("tcp")
c.tcp(rec, tcp(S), false)
c.tcp(rec, tcp(0xc2), false)
eq(rec.tcp_synflags_fwd, 0xc2, "the latest SYN's flags")
eq(c.tcp(rec, tcp(R), false), false, "a forward RST completes")

-- ecn ---------------------------------------------------------------------
c = chain.ecn
rec = new("ecn")
eq(c.ip4(rec, ip(0xb8 + 2, tcp(S)), false), true, "ecn carries on")
eq(rec.ecn_ect0_syn_fwd, true, "ect0 on SYN")
c.ip6(rec, ip(1, tcp(SA)), true)
eq(rec.ecn_ect1_syn_rev, true, "ect1 on SYN+ACK")
c.ip4(rec, ip(3, tcp(A)), false)
eq(rec.ecn_ce_data_fwd, true, "ce on a pure ACK is data")
c.ip4(rec, ip(3, nil), true)
eq(rec.ecn_ce_data_rev, true, "ce on a non-TCP packet is data")
c.ip4(rec, ip(0xfc, tcp(S)), true) -- DSCP 63, not-ECT: marks nothing
local n = 0
for k, v in pairs(rec) do if k:find("^ecn_") and v == true then n = n + 1 end end
eq(n, 4, "exactly the four marks seen")

-- dscp --------------------------------------------------------------------
c = chain.dscp
rec = new("dscp")
c.ip4(rec, ip(10 * 4 + 3, tcp(S)), false)
eq(rec.dscp_mark_syn_fwd, 10, "DSCP of the SYN, ECN bits dropped")
c.ip4(rec, ip(46 * 4, tcp(A)), false)
eq(rec.dscp_mark_data_fwd, null, "a pure ACK is not looked at")
c.ip4(rec, ip(0, tcp(A, { len = 5 })), false)
eq(rec.dscp_mark_data_fwd, 0, "data with DSCP 0")
c.ip4(rec, ip(12 * 4, tcp(A, { len = 5 })), false)
eq(rec.dscp_mark_data_fwd, 12, "the first non-zero DSCP replaces 0")
c.ip4(rec, ip(20 * 4, tcp(A, { len = 5 })), false)
eq(rec.dscp_mark_data_fwd, 12, "and then stays")
c.ip6(rec, ip(26 * 4, nil), true)
eq(rec.dscp_mark_data_rev, 26, "non-TCP is data")

-- evilbit -----------------------------------------------------------------
c = chain.evilbit
rec = new("evilbit")
eq(c.ip6, nil, "evilbit has no ip6 function")
eq(c.ip4(rec, ip(0, tcp(S), true), false), true, "SYN")
eq(rec.evilbit_syn_fwd, true, "evil SYN")
c.ip4(rec, ip(0, tcp(A), true), false)
eq(rec.evilbit_data_fwd, null, "a pure ACK is not looked at")
for k = 1, 3 do
  eq(c.ip4(rec, ip(0, tcp(A, { len = 10 }), k > 1), false), true,
    "data packet " .. k .. " carries on (PATHspider ended the flow)")
end
eq(rec.evilbit_data_fwd, false, "the first data packet's bit")

-- icmp --------------------------------------------------------------------
c = chain.icmp
rec = new("icmp")
local function icmp(t) return { icmp = { type = t } } end
eq(c.icmp4(rec, icmp(3), nil, false), true, "a forward unreachable does not count")
eq(c.icmp4(rec, icmp(11), nil, true), true, "time exceeded does not count")
eq(c.icmp6(rec, icmp(3), nil, true), true, "ICMPv6 type 3 is time exceeded")
eq(rec.icmp_unreachable, false, "still false")
eq(c.icmp4(rec, icmp(3), nil, true), false, "a reverse ICMPv4 unreachable completes")
eq(rec.icmp_unreachable, true, "icmp_unreachable")
rec = new("icmp")
eq(c.icmp6(rec, icmp(1), nil, true), false, "a reverse ICMPv6 unreachable completes")

-- mss ---------------------------------------------------------------------
c = chain.mss
rec = new("mss")
c.tcp(rec, tcp(A, { opts = { { 2, "\5\180" } } }), false)
eq(rec.mss_len_fwd, null, "only segments with SYN")
c.tcp(rec, tcp(S, { opts = { { 2, "\5" } } }), false)
eq(rec.mss_len_fwd, 3, "1-byte MSS: length 3")
eq(rec.mss_value_fwd, 5, "1-byte MSS: value")
c.tcp(rec, tcp(SA, { opts = { { 1, "" }, { 2, "\5\100" }, { 2, "\1\0" } } }), true)
eq(rec.mss_value_rev, 1380, "the first MSS option")
eq(rec.mss_len_rev, 4, "length 4")

-- tcpopt ------------------------------------------------------------------
c = chain.tcpopt
rec = new("tcpopt")
c.tcp(rec, tcp(S, { opts = { { 8, "12345678" }, { 3, "\7" }, { 4, "" } } }), false)
eq(rec.tcpopt_ts, null, "the forward SYN does not count")
c.tcp(rec, tcp(A, { opts = { { 8, "12345678" } } }), true)
eq(rec.tcpopt_ts, null, "a reverse non-SYN does not count")
c.tcp(rec, tcp(SA, { opts = { { 8, "12345678" }, { 4, "" } } }), true)
eq(rec.tcpopt_ts, true, "TS on the SYN+ACK")
eq(rec.tcpopt_sack, true, "SACK-permitted on the SYN+ACK")
eq(rec.tcpopt_ws, null, "absent WS stays null")

-- tfo ---------------------------------------------------------------------
c = chain.tfo
rec = new("tfo")
eq(rec.tfo_synkind, 0, "tfo starts at 0")
c.tcp(rec, tcp(SA, { ack = 9, opts = { { 34, "12345678" } } }), true)
eq(rec.tfo_ack, 0, "a SYN+ACK before any TFO SYN is ignored")
c.tcp(rec, tcp(S, { seq = 100, len = 30, opts = { { 255, "\249\137ABCD" } } }), false)
eq(rec.tfo_synkind, 255, "synkind")
eq(rec.tfo_synclen, 4, "synclen")
eq(rec.tfo_seq, 100, "seq")
eq(rec.tfo_dlen, 30, "dlen from payload_len")
c.tcp(rec, tcp(SA, { ack = 131, opts = { { 254, "\249\137" }, { 255, "\249\137" .. ("x"):rep(16) } } }), true)
eq(rec.tfo_ack, 131, "ack")
eq(rec.tfo_ackkind, 254, "ackkind: 254 before 255")
eq(rec.tfo_ackclen, 0, "ackclen of the 254 option")
rec = new("tfo")
c.tcp(rec, tcp(S, { seq = 1 }), false)
c.tcp(rec, tcp(SA, { ack = 2, opts = { { 255, "\249\137" .. ("x"):rep(16) } } }), true)
eq(rec.tfo_ack, 0, "no TFO on the SYN: the SYN+ACK is ignored")

-- udp ---------------------------------------------------------------------
c = chain.udp
rec = new("udp")
eq(rec.udp_zero_checksum_fwd, null, "null before any datagram")
c.udp(rec, { checksum = 0 }, false)
c.udp(rec, { checksum = 0x1234 }, true)
eq(rec.udp_zero_checksum_fwd, true, "zero checksum")
eq(rec.udp_zero_checksum_rev, false, "non-zero checksum")

-- dns ---------------------------------------------------------------------
c = chain.dns
local RESPONSE = "\18\52\129\128\0\1\0\0\0\0\0\0\3www\7example\3com\0\0\1\0\1"
rec = new("dns")
eq(c.udp(rec, { payload_len = #RESPONSE, payload = RESPONSE }, false), true,
  "a forward response does not count")
eq(c.udp(rec, { payload_len = 0, payload = nil }, true), true, "no payload")
eq(c.udp(rec, { payload_len = #RESPONSE, payload = RESPONSE }, true), false,
  "a reverse response completes")
eq(rec.dns_response_valid, true, "dns_response_valid")
rec = new("dns")
local framed = "\0" .. string.char(#RESPONSE) .. RESPONSE
eq(c.tcp(rec, tcp(A, { len = #RESPONSE, payload = RESPONSE }), true), true, "TCP without prefix")
eq(c.tcp(rec, tcp(A, { len = #framed, payload = framed }), true), false, "TCP with prefix completes")

-- noop --------------------------------------------------------------------
for _, k in ipairs({ "new_flow", "ip4", "ip6", "icmp4", "icmp6", "tcp", "udp", "l4" }) do
  eq(chain.noop[k]({}, nil, nil, nil), true, "noop." .. k .. " returns true")
end

io.write("chains_scripts: ok\n")
