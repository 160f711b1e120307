-- read_all.lua - for fuzz_headers.c: read every field of every header object of one packet,
-- walk its TCP options every way a chain can, and check what the values promise.
-- Returns a function(batch) that raises on any broken promise; the C side aborts then.
local ffi = require("ffi")
local headers = require("pathobs.headers")
local pathobs = require("pathobs")
local tcpopt = require("pathobs.tcpopt")

local floor = math.floor

local IP_COMMON = { "version", "proto", "traffic_class", "dscp", "ecn", "size", "pkt_len",
  "hdr_len", "payload_len", "payload", "seconds", "tcp", "udp", "icmp" }
local IP4 = { "src_prefix", "dst_prefix", "src_addr", "dst_addr", "ttl", "hop_limit", "ident",
  "has_rf", "has_df", "has_mf", "frag_offset", "checksum" }
local IP6 = { "src_prefix", "dst_prefix", "src_addr", "dst_addr", "ttl", "hop_limit",
  "flow_label", "next_hdr", "icmp6" }
local TCP = { "src_port", "dst_port", "seq_nbr", "ack_nbr", "doff", "flags", "fin_flag",
  "syn_flag", "rst_flag", "psh_flag", "ack_flag", "urg_flag", "ece_flag", "cwr_flag", "window",
  "checksum", "urg_ptr", "payload_len", "payload", "options" }
local UDP = { "src_port", "dst_port", "len", "checksum", "payload_len", "payload" }
local ICMP = { "type", "code", "checksum", "payload", "quote" }

local function fail(what, v)
  error("broken promise: " .. what .. " (got " .. tostring(v) .. ")", 2)
end

local function int(v, lo, hi, what)
  if type(v) ~= "number" or v ~= floor(v) or v < lo or v > hi then fail(what, v) end
  return v
end

local function bool(v, what)
  if type(v) ~= "boolean" then fail(what, v) end
end

-- A payload: nil or a string no longer than claimed and than what was captured.
local function payload(s, claimed, captured, what)
  if s == nil then return end
  if type(s) ~= "string" or #s == 0 or #s > claimed or #s > captured then
    fail(what .. " length " .. (type(s) == "string" and #s or "?") .. " claimed " .. claimed
      .. " captured " .. captured, s)
  end
end

-- Reading a field that does not exist raises the documented error; so does writing one.
local function refuses(obj, name)
  local ok, err = pcall(function() return obj.no_such_field end)
  if ok or not tostring(err):find("no field 'no_such_field'", 1, true) then
    fail(name .. " unknown field", err)
  end
  ok, err = pcall(function() obj.ttl = 1 end)
  if ok or not tostring(err):find("read-only", 1, true) then fail(name .. " assignment", err) end
end

local function read_all(obj, names, into)
  for _, k in ipairs(names) do into[k] = obj[k] end
  return into
end

local function read_tcp(tcp, ipv)
  local f = read_all(tcp, TCP, {})
  int(f.src_port, 0, 65535, "tcp src_port")
  int(f.dst_port, 0, 65535, "tcp dst_port")
  int(f.seq_nbr, 0, 4294967295, "seq_nbr")
  int(f.ack_nbr, 0, 4294967295, "ack_nbr")
  int(f.doff, 0, 15, "doff")
  int(f.flags, 0, 4095, "flags") -- 12 bits, as python-libtrace
  for _, k in ipairs(TCP) do if k:find("_flag$") then bool(f[k], k) end end
  int(f.window, 0, 65535, "window")
  int(f.checksum, 0, 65535, "tcp checksum")
  int(f.urg_ptr, 0, 65535, "urg_ptr")
  int(f.payload_len, 0, 4294967295, "tcp payload_len") -- BIG TCP, jumbograms
  local hlen = (f.doff < 5 and 5 or f.doff) * 4
  payload(f.payload, f.payload_len, ipv.size - ipv.hdr_len - hlen, "tcp payload")
  if type(f.options) ~= "function" then fail("tcp options method", f.options) end
  if tostring(tcp) ~= "TCP header" then fail("tcp tostring", tostring(tcp)) end
  refuses(tcp, "tcp")

  -- the options: what the iterator yields fits in the header, and every walker agrees
  local room = f.doff > 5 and (f.doff - 5) * 4 or 0
  local seen, first, n, used = {}, {}, 0, 0
  for kind, value in tcp:options() do
    n = n + 1
    if n > 40 then fail("options iterator ends", n) end
    int(kind, 2, 255, "option kind")
    if type(value) ~= "string" or #value > 38 then fail("option value", value) end
    used = used + 2 + #value
    if used > room then fail("options within the data offset", used) end
    seen[#seen + 1] = kind
    if first[kind] == nil then first[kind] = value end
  end
  local opts = pathobs.tcp_options(tcp)
  for kind, value in pairs(opts) do
    if first[kind] ~= value then fail("tcp_options agrees with the iterator", kind) end
  end
  -- pathobs.tcpopt: the byte-span walker (tcpopt.*) and the iterator one (tcpopt.iter.*)
  -- must agree with each other and with the iterator's values
  local iter = tcpopt.iter or {}
  for kind, value in pairs(first) do
    if opts[kind] ~= value then fail("tcp_options misses an option", kind) end
    local n, v = tcpopt.find_uint(tcp, kind)
    if n ~= #value or v ~= tcpopt.uint_be(value) then fail("tcpopt.find_uint", kind) end
    if iter.find_uint then
      local n2, v2 = iter.find_uint(tcp, kind)
      if n2 ~= n or v2 ~= v then fail("tcpopt.iter.find_uint agrees", kind) end
    end
  end
  if tcpopt.find_uint(tcp, 99) ~= (first[99] and #first[99] or nil) then fail("find_uint absent", 99) end
  local mask = tcpopt.kinds(tcp)
  int(mask, -2147483648, 2147483647, "tcpopt.kinds")
  if iter.kinds and iter.kinds(tcp) ~= mask then fail("tcpopt.iter.kinds agrees", mask) end
  local tk, tl = tcpopt.tfo_cookie(tcp)
  if tk ~= nil then int(tk, 0, 255, "tfo kind"); int(tl, 0, 38, "tfo cookie length") end
  if iter.tfo_cookie then
    local ik, il = iter.tfo_cookie(tcp)
    if ik ~= tk or (tk ~= nil and il ~= tl) then fail("tcpopt.iter.tfo_cookie agrees", ik) end
  end
  -- an options loop started afresh after a finished one sees the same options
  local again = 0
  for _ in tcp:options() do again = again + 1 end
  if again ~= n then fail("options iterator restarts", again) end
end

local function read_udp(udp, ipv)
  local f = read_all(udp, UDP, {})
  int(f.src_port, 0, 65535, "udp src_port")
  int(f.dst_port, 0, 65535, "udp dst_port")
  int(f.len, 0, 65535, "udp len")
  int(f.checksum, 0, 65535, "udp checksum")
  int(f.payload_len, 0, 4294967295, "udp payload_len") -- jumbograms
  payload(f.payload, f.payload_len, ipv.size - ipv.hdr_len - 8, "udp payload")
  refuses(udp, "udp")
end

local read_ip

local function read_icmp(icmp, ipv, depth)
  local f = read_all(icmp, ICMP, {})
  int(f.type, 0, 255, "icmp type")
  int(f.code, 0, 255, "icmp code")
  int(f.checksum, 0, 65535, "icmp checksum")
  payload(f.payload, math.max(ipv.payload_len - 8, 0), ipv.size - ipv.hdr_len - 8, "icmp payload")
  refuses(icmp, "icmp")
  if f.quote ~= nil then
    if depth > 0 then fail("a quotation inside a quotation", f.quote) end
    read_ip(f.quote, depth + 1)
  end
end

function read_ip(ip, depth)
  local f = read_all(ip, IP_COMMON, {})
  local v = int(f.version, 4, 6, "version")
  if v == 5 then fail("version", v) end
  read_all(ip, v == 4 and IP4 or IP6, f)
  int(f.proto, 0, 255, "proto")
  int(f.traffic_class, 0, 255, "traffic_class")
  int(f.dscp, 0, 63, "dscp")
  int(f.ecn, 0, 3, "ecn")
  int(f.size, v == 4 and 20 or 40, 65536, "size")
  int(f.hdr_len, v == 4 and 20 or 40, f.size, "hdr_len within size")
  int(f.pkt_len, 0, 4294967295, "pkt_len") -- jumbograms: 40 + the option's 32 bits (clamped)
  int(f.payload_len, 0, 4294967295, "payload_len")
  payload(f.payload, f.payload_len, f.size - f.hdr_len, "ip payload")
  if type(f.seconds) ~= "number" then fail("seconds", f.seconds) end
  int(f.ttl, 0, 255, "ttl")
  if f.hop_limit ~= f.ttl then fail("hop_limit", f.hop_limit) end
  local alen = v == 4 and 4 or 16
  if type(f.src_addr) ~= "string" or #f.src_addr ~= alen then fail("src_addr", f.src_addr) end
  if type(f.dst_addr) ~= "string" or #f.dst_addr ~= alen then fail("dst_addr", f.dst_addr) end
  for _, k in ipairs({ "src_prefix", "dst_prefix" }) do
    local s = f[k]
    if type(s) ~= "string" or (v == 4 and not s:match("^%d+%.%d+%.%d+%.%d+$"))
      or (v == 6 and not s:match("^[%x:%.]+$")) then
      fail(k, s)
    end
  end
  if v == 4 then
    int(f.ident, 0, 65535, "ident")
    bool(f.has_rf, "has_rf"); bool(f.has_df, "has_df"); bool(f.has_mf, "has_mf")
    int(f.frag_offset, 0, 65535, "frag_offset")
    int(f.checksum, 0, 65535, "ip checksum")
  else
    int(f.flow_label, 0, 0xfffff, "flow_label")
    int(f.next_hdr, 0, 255, "next_hdr")
    if f.icmp6 ~= f.icmp then fail("icmp6 is icmp", f.icmp6) end
  end
  if tostring(ip) ~= (v == 4 and "IPv4 header" or "IPv6 header") then fail("ip tostring", tostring(ip)) end
  refuses(ip, "ip")
  local sp, dp = pathobs.extract_ports(ip)
  local n = (f.tcp and 1 or 0) + (f.udp and 1 or 0) + (f.icmp and 1 or 0)
  if n > 1 then fail("one transport at most", n) end
  if f.tcp then
    if f.proto ~= 6 then fail("tcp object for proto", f.proto) end
    read_tcp(f.tcp, f)
  end
  if f.udp then
    if f.proto ~= 17 then fail("udp object for proto", f.proto) end
    read_udp(f.udp, f)
  end
  if f.icmp then read_icmp(f.icmp, f, depth) end
  if (f.tcp or f.udp) then
    int(sp, 0, 65535, "extract_ports src"); int(dp, 0, 65535, "extract_ports dst")
  elseif sp ~= pathobs.null or dp ~= pathobs.null then
    -- a TCP/UDP header cut short, SCTP and UDP-Lite give the four bytes of their ports, as the key does
    local pl = f.payload
    local pr = f.proto
    if (pr ~= 6 and pr ~= 17 and pr ~= 132 and pr ~= 136) or pl == nil or #pl < 4 then
      fail("extract_ports without ports", sp)
    end
    local a, b, c, d = pl:byte(1, 4)
    if sp ~= a * 256 + b or dp ~= c * 256 + d then fail("extract_ports of a cut header", sp) end
  end
end

return function(batch)
  headers.bind(batch)
  local b = ffi.cast("po_pkt *", batch)
  local ip = b[0].h[0].version == 4 and headers.ip4[0] or headers.ip6[0]
  ip.i = 0
  read_ip(ip, 0)
end
