-- pkt.lua - builds IPv4/IPv6 packets as Lua strings and decodes them into a batch for the tests.
local ffi = require("ffi")
local bit = require("bit")
require("pathobs.core")
local headers = require("pathobs.headers")

ffi.cdef[[ int inet_pton(int af, const char *src, void *dst); ]]

local M = {}
local char, band, rshift = string.char, bit.band, bit.rshift

local function u16(v) return char(band(rshift(v, 8), 255), band(v, 255)) end
local function u32(v) return u16(math.floor(v / 65536) % 65536) .. u16(v % 65536) end
M.u16, M.u32 = u16, u32

local function addr(af, s, len)
  local buf = ffi.new("uint8_t[16]")
  assert(ffi.C.inet_pton(af, s, buf) == 1, "bad address " .. s)
  return ffi.string(buf, len)
end

-- o: src, dst, proto, tos, ttl, ident, flags (0x4 RF, 0x2 DF, 0x1 MF), frag (bytes),
-- total (override), options, payload
function M.ip4(o)
  local opts = o.options or ""
  local payload = o.payload or ""
  local ihl = 5 + #opts / 4
  local total = o.total or (20 + #opts + #payload)
  local ff = (o.flags or 0) * 8192 + (o.frag or 0) / 8
  return char(0x40 + ihl, o.tos or 0) .. u16(total) .. u16(o.ident or 0) .. u16(ff)
    .. char(o.ttl or 64, o.proto or 6) .. u16(o.checksum or 0)
    .. addr(2, o.src or "192.0.2.1", 4) .. addr(2, o.dst or "198.51.100.2", 4) .. opts .. payload
end

-- o: src, dst, nh, tc, flow, hlim, plen (override), payload (extension headers included)
function M.ip6(o)
  local payload = o.payload or ""
  local tc, fl = o.tc or 0, o.flow or 0
  local first = 0x60000000 + tc * 1048576 + fl
  return u32(first) .. u16(o.plen or #payload) .. char(o.nh or 6, o.hlim or 64)
    .. addr(10, o.src or "2001:db8::1", 16) .. addr(10, o.dst or "2001:db8::2", 16) .. payload
end

-- o: sp, dp, seq, ack, flags (12 bits), window, doff (override), options, payload, checksum, urg
function M.tcp(o)
  local opts = o.options or ""
  local doff = o.doff or (5 + math.ceil(#opts / 4))
  opts = opts .. string.rep("\0", (doff - 5) * 4 - #opts > 0 and (doff - 5) * 4 - #opts or 0)
  return u16(o.sp or 1234) .. u16(o.dp or 80) .. u32(o.seq or 0) .. u32(o.ack or 0)
    .. char(doff * 16 + math.floor((o.flags or 0) / 256) % 16, (o.flags or 0) % 256) .. u16(o.window or 0) .. u16(o.checksum or 0)
    .. u16(o.urg or 0) .. opts .. (o.payload or "")
end

function M.udp(o)
  local payload = o.payload or ""
  return u16(o.sp or 5353) .. u16(o.dp or 53) .. u16(o.len or (8 + #payload))
    .. u16(o.checksum or 0) .. payload
end

function M.icmp(o)
  return char(o.type or 8, o.code or 0) .. u16(o.checksum or 0) .. u32(o.rest or 0) .. (o.payload or "")
end

local batch = ffi.new("po_pkt[1]")
local keep -- the bytes the batch points into

-- Decode bytes (an IP packet, optionally followed by padding) as batch entry 0
-- and return the IP header object; cap defaults to the whole string.
function M.decode(bytes, ts, cap)
  keep = bytes
  local p = ffi.cast("const uint8_t *", keep)
  local rc = ffi.C.po_decode(p, cap or #bytes, batch[0].h[0], batch[0].h[1])
  if rc ~= 0 then return nil, rc end
  batch[0].ts = ts or 0
  headers.bind(batch)
  local ip = batch[0].h[0].version == 4 and headers.ip4[0] or headers.ip6[0]
  ip.i = 0
  return ip
end

return M
