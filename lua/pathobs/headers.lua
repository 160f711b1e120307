-- pathobs.headers: zero-copy header objects (python-libtrace field names) over a batch.
--
-- A header object is a tiny FFI struct {i, q}: entry i of the current batch,
-- q = 0 for the packet's own headers, 1 for the headers quoted in an ICMP
-- error.  There is one object per kind, reused for every packet, so a chain
-- must copy what it needs and never keep the object.  Fields are computed on
-- access from the packet bytes; every access is bounds-checked by the decoder
-- (fixed headers are complete) or clipped here (options, payloads).

-- The globals this module calls, bound once: a chain that assigns one by
-- mistake (type = ip.proto) must not break the runtime.
local error, getmetatable, pairs, require, setmetatable, tostring =
  error, getmetatable, pairs, require, setmetatable, tostring
local ffi = require("ffi")
local bit = require("bit")
local core = require("pathobs.core")

local band, bor, bxor, rshift, lshift = bit.band, bit.bor, bit.bxor, bit.rshift, bit.lshift
local ffi_string, ffi_cast = ffi.string, ffi.cast
local U32P = ffi.typeof("const uint32_t *")
local C = ffi.C
local L4_TCP, L4_UDP, L4_ICMP = core.L4_TCP, core.L4_UDP, core.L4_ICMP

ffi.cdef[[
struct po_ip4v { int32_t i, q; };
struct po_ip6v { int32_t i, q; };
struct po_tcpv { int32_t i, q; int32_t oo; };
struct po_udpv { int32_t i, q; };
struct po_icmpv { int32_t i, q; };
]]

local B = ffi.new("po_pkt[1]") -- replaced by bind(); a harmless empty batch until then
local ntop_buf = ffi.new("char[48]")

-- A header object is valid during the call that received it.  Within a batch
-- a kept object still reads a packet of that batch (whichever the object was
-- last handed out for), so its reads stay inside packet memory; at the end of
-- the batch release() sets every object's i to -1, and reading a kept one
-- later raises STALE instead of reading an entry that is not its packet (an
-- eviction, a packet without a quotation: no memory at all).
local STALE = setmetatable({}, { __tostring = function()
  return "a header object was read after the call that received it (copy the fields it needs instead)"
end })
local function stale() error(STALE, 0) end
local function entry(v)
  local i = v.i
  if i < 0 then stale() end
  return B[i]
end
local function hdr(v) return entry(v).h[v.q] end
local function u16(p, o) return p[o] * 256 + p[o + 1] end
local function u32(p, o) return ((p[o] * 256 + p[o + 1]) * 256 + p[o + 2]) * 256 + p[o + 3] end

-- IP payload length as the header claims it (never negative).
local function ip_payload_len(h)
  local n = h.pkt_len - h.hdr_len
  return n > 0 and n or 0
end

-- Captured bytes from offset off of the IP header, at most want of them.
local function captured(h, off, want)
  local n = h.cap - off
  if want < n then n = want end
  if n <= 0 then return nil end
  return ffi_string(h.p + off, n)
end

local function tclass(h)
  local p = h.p
  if h.version == 4 then return p[1] end
  return bor(lshift(band(p[0], 0x0f), 4), rshift(p[1], 4))
end

-- IPv4: four precomputed decimal strings joined in one concatenation (the JIT
-- builds the result in one buffer), remembered in a direct-mapped cache by
-- address: a capture usually has one address on one side of most flows (the
-- measuring host) and sees the same hosts again and again, and making a string
-- means interning it in LuaJIT's string table, a few cache misses each.  65536
-- slots (about 4 MB with their strings) hold the hosts of a busy link; the slot
-- folds the high bits in, so that one network's clients and another's servers
-- do not share slots.  IPv6: inet_ntop's compressed form (a few thousand
-- instructions: glibc prints each group with sprintf), remembered in a
-- direct-mapped cache too: V6CACHE slots, each the address's four 32-bit words
-- (compared as they are, so a hit makes no string) and its string, made the
-- first time an IPv6 address is read (a capture without IPv6 pays nothing).
local DEC = {}
for n = 0, 255 do DEC[n] = tostring(n) end
local ACACHE = 65536
local tnew = require("table.new")
local akey, astr = tnew(ACACHE, 0), tnew(ACACHE, 0)
local function addr_slot(a) return band(bxor(a, rshift(a, 16), rshift(a, 7)), ACACHE - 1) + 1 end
local V6CACHE = 16384
local v6key, v6str = nil, nil -- uint32_t[4 * V6CACHE], and the strings by slot
local V6MASK = V6CACHE - 1
local rol = bit.rol
local function v6_slot(a, b, c, d)
  local h = bxor(a, rol(b, 8), rol(c, 16), rol(d, 24))
  return band(bxor(h, rshift(h, 14)), V6MASK)
end
local function addr_string(h, off, len)
  local p = h.p
  if len == 4 then
    local a = ((p[off] * 256 + p[off + 1]) * 256 + p[off + 2]) * 256 + p[off + 3]
    local i = addr_slot(a)
    if akey[i] == a then return astr[i] end
    local s = DEC[p[off]] .. "." .. DEC[p[off + 1]] .. "." .. DEC[p[off + 2]] .. "." .. DEC[p[off + 3]]
    akey[i], astr[i] = a, s
    return s
  end
  local w = ffi_cast(U32P, p + off)
  local a, b, c, d = w[0], w[1], w[2], w[3]
  local i = v6_slot(a, b, c, d)
  local k = v6key
  if k == nil then
    k = ffi.new("uint32_t[?]", 4 * V6CACHE)
    v6key, v6str = k, tnew(V6CACHE, 0)
  end
  local s = v6str[i]
  local j = 4 * i
  if s ~= nil and k[j] == a and k[j + 1] == b and k[j + 2] == c and k[j + 3] == d then return s end
  C.inet_ntop(10, p + off, ntop_buf, 48)
  s = ffi_string(ntop_buf)
  k[j], k[j + 1], k[j + 2], k[j + 3] = a, b, c, d
  v6str[i] = s
  return s
end

-- Views handed out by ip.tcp / ip.udp / ip.icmp / icmp.quote, one per q.
local TCP, UDP, ICMP, QUOTE = {}, {}, {}, {}

local function transport(tbl, kind)
  return function(v)
    local h = hdr(v)
    if h.l4 ~= kind then return nil end
    local t = tbl[v.q]
    t.i = v.i
    return t
  end
end

-- Build the metatype of one kind of header object (every kind is made here,
-- the same way): its fields are getter functions.  An unknown field and a
-- write raise at the chain's own line: error() is called in __index /
-- __newindex itself, so level 2 is the code that read the field.
local function view(ctype, getters, what)
  local name = what .. " header"
  return ffi.metatype(ctype, {
    __index = function(v, k)
      local g = getters[k]
      if g == nil then error(name .. " has no field '" .. tostring(k) .. "'", 2) end
      local value = g(v) -- not a tail call: the JIT inlines it into the caller's trace
      return value
    end,
    __newindex = function(_, k) error(name .. " is read-only (field '" .. tostring(k) .. "')", 2) end,
    __tostring = function() return name end,
  })
end

-- The IP header object of a transport view's packet (tcp.ip, udp.ip,
-- icmp.ip): one of the preallocated IP objects of the same q, pointed at the
-- same entry (set below, once the IP objects exist).
local IPOBJ = {}
local function ip_of(v)
  local o = IPOBJ[hdr(v).version][v.q]
  o.i = v.i
  return o
end

---------------------------------------------------------------------- IP
local ip_common = {
  version = function(v) return hdr(v).version end,
  proto = function(v) return hdr(v).proto end,
  traffic_class = function(v) return tclass(hdr(v)) end,
  dscp = function(v) return rshift(tclass(hdr(v)), 2) end,
  ecn = function(v) return band(tclass(hdr(v)), 3) end,
  size = function(v) return hdr(v).cap end,
  pkt_len = function(v) return hdr(v).pkt_len end,
  hdr_len = function(v) return hdr(v).hdr_len end,
  payload_len = function(v) return ip_payload_len(hdr(v)) end,
  payload = function(v)
    local h = hdr(v)
    return captured(h, h.hdr_len, ip_payload_len(h))
  end,
  seconds = function(v) return entry(v).ts end,
  tcp = transport(TCP, L4_TCP),
  udp = transport(UDP, L4_UDP),
  icmp = transport(ICMP, L4_ICMP),
}

local ip4 = setmetatable({
  src_prefix = function(v) return addr_string(hdr(v), 12, 4) end,
  dst_prefix = function(v) return addr_string(hdr(v), 16, 4) end,
  src_addr = function(v) return ffi_string(hdr(v).p + 12, 4) end,
  dst_addr = function(v) return ffi_string(hdr(v).p + 16, 4) end,
  ttl = function(v) return hdr(v).p[8] end,
  ident = function(v) return u16(hdr(v).p, 4) end,
  has_rf = function(v) return band(hdr(v).p[6], 0x80) ~= 0 end,
  has_df = function(v) return band(hdr(v).p[6], 0x40) ~= 0 end,
  has_mf = function(v) return band(hdr(v).p[6], 0x20) ~= 0 end,
  frag_offset = function(v) return band(u16(hdr(v).p, 6), 0x1fff) * 8 end,
  checksum = function(v) return u16(hdr(v).p, 10) end,
}, { __index = ip_common })
ip4.hop_limit = ip4.ttl

local ip6 = setmetatable({
  src_prefix = function(v) return addr_string(hdr(v), 8, 16) end,
  dst_prefix = function(v) return addr_string(hdr(v), 24, 16) end,
  src_addr = function(v) return ffi_string(hdr(v).p + 8, 16) end,
  dst_addr = function(v) return ffi_string(hdr(v).p + 24, 16) end,
  ttl = function(v) return hdr(v).p[7] end,
  flow_label = function(v)
    local p = hdr(v).p
    return band(p[1], 0x0f) * 65536 + p[2] * 256 + p[3]
  end,
  next_hdr = function(v) return hdr(v).p[6] end,
}, { __index = ip_common })
ip6.hop_limit = ip6.ttl
ip6.icmp6 = ip_common.icmp

-- Plain tables so that lookups are a single hash probe (no __index chain).
local function flatten(t)
  local out = {}
  for k, f in pairs(getmetatable(t).__index) do out[k] = f end
  for k, f in pairs(t) do out[k] = f end
  return out
end
ip4, ip6 = flatten(ip4), flatten(ip6)

---------------------------------------------------------------------- TCP
local function tcp_ptr(h) return h.p + h.hdr_len end
-- python-libtrace's 12 bits: the low nibble of byte 12 (AE, formerly NS,
-- 0x100; reserved 0x200-0x800) and the flags byte.
local function tcp_flags(v)
  local h = hdr(v)
  local p, o = h.p, h.hdr_len
  return bor(lshift(band(p[o + 12], 0x0f), 8), p[o + 13])
end
local function flag(mask) return function(v) return band(tcp_flags(v), mask) ~= 0 end end
-- Header length in bytes as used to find the payload (a data offset below 5 is a lie).
local function tcp_hlen(h)
  local doff = rshift(h.p[h.hdr_len + 12], 4)
  return (doff < 5 and 5 or doff) * 4
end
local function tcp_payload_len(h)
  local n = ip_payload_len(h) - tcp_hlen(h)
  return n > 0 and n or 0
end

local tcp = {
  src_port = function(v) return u16(tcp_ptr(hdr(v)), 0) end,
  dst_port = function(v) return u16(tcp_ptr(hdr(v)), 2) end,
  seq_nbr = function(v) return u32(tcp_ptr(hdr(v)), 4) end,
  ack_nbr = function(v) return u32(tcp_ptr(hdr(v)), 8) end,
  doff = function(v) return rshift(tcp_ptr(hdr(v))[12], 4) end,
  flags = tcp_flags,
  fin_flag = flag(0x01), syn_flag = flag(0x02), rst_flag = flag(0x04), psh_flag = flag(0x08),
  ack_flag = flag(0x10), urg_flag = flag(0x20), ece_flag = flag(0x40), cwr_flag = flag(0x80),
  ae_flag = flag(0x100), ns_flag = flag(0x100),
  ip = ip_of,
  window = function(v) return u16(tcp_ptr(hdr(v)), 14) end,
  checksum = function(v) return u16(tcp_ptr(hdr(v)), 16) end,
  urg_ptr = function(v) return u16(tcp_ptr(hdr(v)), 18) end,
  payload_len = function(v) return tcp_payload_len(hdr(v)) end,
  payload = function(v)
    local h = hdr(v)
    return captured(h, h.hdr_len + tcp_hlen(h), tcp_payload_len(h))
  end,
}

-- Option bytes [first, last) of the TCP header of v, clipped to the capture.
local function option_span(v)
  local h = hdr(v)
  local base = h.hdr_len
  local last = base + rshift(h.p[base + 12], 4) * 4
  if last > h.cap then last = h.cap end
  return h.p, base + 20, last
end

-- Next option at or after offset off: kind, value string, next offset; nil at the end.
-- Stops at EOL, at a length below 2 and at a length that overruns the header.
local function option_at(p, off, last)
  while off < last do
    local kind = p[off]
    if kind == 0 then return nil end
    if kind == 1 then
      off = off + 1
    else
      if off + 1 >= last then return nil end
      local len = p[off + 1]
      if len < 2 or off + len > last then return nil end
      return kind, ffi_string(p + off + 2, len - 2), off + len
    end
  end
  return nil
end

local function options_next(v)
  local p, _, last = option_span(v)
  local kind, value, nxt = option_at(p, v.oo, last)
  if kind == nil then return nil end
  v.oo = nxt
  return kind, value
end

local tcp_methods = {
  -- for kind, value in tcp:options() do ... end  (one iteration at a time per object)
  options = function(v)
    local _, first = option_span(v)
    v.oo = first
    return options_next, v, nil
  end,
}
for k, f in pairs(tcp_methods) do tcp[k] = function() return f end end

---------------------------------------------------------------------- UDP
local function udp_payload_len(h)
  local len = u16(h.p, h.hdr_len + 4)
  local ipl = ip_payload_len(h)
  if ipl < len then len = ipl end
  return len > 8 and len - 8 or 0
end
local udp = {
  src_port = function(v) local h = hdr(v); return u16(h.p, h.hdr_len) end,
  dst_port = function(v) local h = hdr(v); return u16(h.p, h.hdr_len + 2) end,
  len = function(v) local h = hdr(v); return u16(h.p, h.hdr_len + 4) end,
  checksum = function(v) local h = hdr(v); return u16(h.p, h.hdr_len + 6) end,
  ip = ip_of,
  payload_len = function(v) return udp_payload_len(hdr(v)) end,
  payload = function(v)
    local h = hdr(v)
    return captured(h, h.hdr_len + 8, udp_payload_len(h))
  end,
}

---------------------------------------------------------------------- ICMP
local icmp = {
  type = function(v) local h = hdr(v); return h.p[h.hdr_len] end,
  code = function(v) local h = hdr(v); return h.p[h.hdr_len + 1] end,
  checksum = function(v) local h = hdr(v); return u16(h.p, h.hdr_len + 2) end,
  ip = ip_of,
  payload = function(v)
    local h = hdr(v)
    return captured(h, h.hdr_len + 8, ip_payload_len(h) - 8)
  end,
  quote = function(v)
    if v.q ~= 0 then return nil end
    local qh = entry(v).h[1]
    if qh.p == nil then return nil end
    local o = QUOTE[qh.version]
    o.i = v.i
    return o
  end,
}

local IP4 = view("struct po_ip4v", ip4, "IPv4")
local IP6 = view("struct po_ip6v", ip6, "IPv6")
local TCPV = view("struct po_tcpv", tcp, "TCP")
local UDPV = view("struct po_udpv", udp, "UDP")
local ICMPV = view("struct po_icmpv", icmp, "ICMP")

-- The objects: [q] for the packet (0) and its quotation (1).
local M = {
  ip4 = { [0] = IP4(0, 0), [1] = IP4(0, 1) },
  ip6 = { [0] = IP6(0, 0), [1] = IP6(0, 1) },
}
for q = 0, 1 do
  TCP[q] = TCPV(0, q, 0)
  UDP[q] = UDPV(0, q)
  ICMP[q] = ICMPV(0, q)
end
QUOTE[4], QUOTE[6] = M.ip4[1], M.ip6[1]
IPOBJ[4], IPOBJ[6] = M.ip4, M.ip6
M.tcp, M.udp, M.icmp = TCP, UDP, ICMP
-- The first four bytes after the IP header as two ports, as the flow key reads
-- them (flowkey.c, ports_of): nil for a fragment or when the IP payload (as the
-- header claims it, clipped to the capture: link padding is not payload) has
-- fewer than four bytes.  For extract_ports when the TCP header is cut short,
-- as in the 8 bytes of TCP that an ICMPv4 error usually quotes.
function M.ports(v)
  local h = hdr(v)
  if h.frag ~= 0 or h.cap < h.hdr_len + 4 or ip_payload_len(h) < 4 then return nil end
  return u16(h.p, h.hdr_len), u16(h.p, h.hdr_len + 2)
end
M.addr_slot = addr_slot -- for tests: the address cache's slot of an IPv4 address (a number)
M.V6CACHE = V6CACHE     -- for tests: the IPv6 address cache's slots
-- for tests: the IPv6 cache's slot of an address given as its 16 bytes
function M.v6_slot_of(raw)
  local w = ffi_cast(U32P, ffi_cast("const char *", raw))
  return v6_slot(w[0], w[1], w[2], w[3])
end

-- Point every object at a batch (a po_pkt * the C core owns).
function M.bind(batch)
  B = ffi.cast("po_pkt *", batch)
end

-- The end of a batch: every header object handed out so far is dead.
M.STALE = STALE
function M.release()
  for q = 0, 1 do
    M.ip4[q].i, M.ip6[q].i, TCP[q].i, UDP[q].i, ICMP[q].i = -1, -1, -1, -1, -1
  end
end
M.release()

-- The option bytes of a TCP object (pointer, first, last offset), for
-- string-free option walkers such as pathobs.tcpopt.
M.option_span = option_span

-- The option walker, shared with pathobs.tcp_options.
function M.each_option(v, fn, arg)
  local p, off, last = option_span(v)
  while true do
    local kind, value, nxt = option_at(p, off, last)
    if kind == nil then return end
    if fn(arg, kind, value) == false then return end
    off = nxt
  end
end

return M
