-- pathobs.tcpopt: TCP option look-ups shared by the mss, tcpopt and tfo chains.
--
-- Two layers:
-- * span_* functions walk raw option bytes p[first .. last-1] (p a uint8_t
--   pointer) with the same rules as the header objects' walker: stop at EOL,
--   at a length below 2 and at a length that overruns the header, so a
--   malformed option never hangs. They allocate nothing; tests feed them
--   bytes directly.
-- * find_uint, kinds and tfo_cookie take a TCP header object. When the core
--   exports headers.option_span(tcp) (p, first, last of the options, clipped
--   to the capture) they use the span walker; otherwise they walk
--   tcp:options(), which hands out one value string per option. Both give the
--   same answers. No tables and no closures are created per call.

-- The globals this module calls, bound once: a chain that assigns one by
-- mistake (type = ip.proto) must not break the runtime.
local error, require, string, type =
  error, require, string, type
local bit = require("bit")
local pathobs = require("pathobs")
local headers = require("pathobs.headers")

local bor, lshift, rshift, band = bit.bor, bit.lshift, bit.rshift, bit.band
local byte = string.byte

local TO_FASTOPEN, TO_EXPA, TO_EXPB = pathobs.TO_FASTOPEN, pathobs.TO_EXPA, pathobs.TO_EXPB
local EXID_HI = rshift(pathobs.TO_EXID_FASTOPEN, 8) -- 0xF9
local EXID_LO = band(pathobs.TO_EXID_FASTOPEN, 0xff) -- 0x89

local M = {}

-- The mask bit of one option kind (0..31), for use with kinds().
function M.bit(kind)
  if type(kind) ~= "number" or kind < 0 or kind > 31 then
    error("pathobs.tcpopt.bit: kind must be 0..31", 2)
  end
  return lshift(1, kind)
end

-- A string of bytes as a big-endian unsigned integer ("" is 0). Exact up to
-- 6 bytes; longer values lose precision like any Lua number beyond 2^53.
function M.uint_be(s)
  local n = 0
  for i = 1, #s do n = n * 256 + byte(s, i) end
  return n
end

---------------------------------------------------------------- byte spans

-- One step of the walk from offset off: kind, data offset, data length,
-- next offset; nil at the end of the options or at a malformed one. A NOP is
-- a step of its own (kind 1, no data), so that callers loop once and the JIT
-- sees no inner loop.
local function span_step(p, off, last)
  if off >= last then return nil end
  local kind = p[off]
  if kind == 0 then return nil end
  if kind == 1 then return 1, off + 1, 0, off + 1 end
  if off + 1 >= last then return nil end
  local len = p[off + 1]
  if len < 2 or off + len > last then return nil end
  return kind, off + 2, len - 2, off + len
end

-- Big-endian unsigned integer of the n bytes at p[off].
local function span_uint(p, off, n)
  if n == 2 then return p[off] * 256 + p[off + 1] end
  local v = 0
  for i = off, off + n - 1 do v = v * 256 + p[i] end
  return v
end
M.span_uint = span_uint

-- First option of this kind: data length and value as a big-endian
-- unsigned integer; nil when absent.
local function span_find_uint(p, off, last, kind)
  while true do
    local k, d, n, nxt = span_step(p, off, last)
    if k == nil then return nil end
    if k == kind and k > 1 then return n, span_uint(p, d, n) end
    off = nxt
  end
end
M.span_find_uint = span_find_uint

-- Bit mask of the option kinds below 32 that are present (bit k for kind k).
local function span_kinds(p, off, last)
  local mask = 0
  while true do
    local k, _, _, nxt = span_step(p, off, last)
    if k == nil then return mask end
    if k > 1 and k < 32 then mask = bor(mask, lshift(1, k)) end
    off = nxt
  end
end
M.span_kinds = span_kinds

-- The TCP Fast Open cookie: kind, cookie length; nil when none. Kind 34
-- (IANA): the cookie is the whole option data. Otherwise kind 254, then 255,
-- whose data starts with the experiment id 0xF9 0x89: the cookie is the data
-- after the id. Among options of the same kind the first counts.
local function span_tfo_cookie(p, off, last)
  local kind, clen = nil, 0
  while true do
    local k, d, n, nxt = span_step(p, off, last)
    if k == nil then break end
    if k == TO_FASTOPEN then return k, n end
    if (k == TO_EXPA or k == TO_EXPB) and (kind == nil or k < kind) and n >= 2
        and p[d] == EXID_HI and p[d + 1] == EXID_LO then
      kind, clen = k, n - 2
    end
    off = nxt
  end
  if kind == nil then return nil end
  return kind, clen
end
M.span_tfo_cookie = span_tfo_cookie

---------------------------------------------------------------- tcp:options()
-- The same three look-ups over the header object's option iterator.

local function iter_find_uint(tcp, kind)
  for k, v in tcp:options() do
    if k == kind then return #v, M.uint_be(v) end
  end
  return nil
end

local function iter_kinds(tcp)
  local mask = 0
  for k in tcp:options() do
    if k < 32 then mask = bor(mask, lshift(1, k)) end
  end
  return mask
end

local function iter_tfo_cookie(tcp)
  local kind, clen = nil, 0
  for k, v in tcp:options() do
    if k == TO_FASTOPEN then return k, #v end
    if (k == TO_EXPA or k == TO_EXPB) and (kind == nil or k < kind) and #v >= 2 then
      local b1, b2 = byte(v, 1, 2)
      if b1 == EXID_HI and b2 == EXID_LO then kind, clen = k, #v - 2 end
    end
  end
  if kind == nil then return nil end
  return kind, clen
end

M.iter = { find_uint = iter_find_uint, kinds = iter_kinds, tfo_cookie = iter_tfo_cookie }

---------------------------------------------------------------- header objects

local option_span = headers.option_span
if option_span ~= nil then
  -- first option of this kind: data length, big-endian value; nil when absent
  function M.find_uint(tcp, kind)
    local p, first, last = option_span(tcp)
    return span_find_uint(p, first, last, kind)
  end
  -- mask of the kinds below 32 present (test with bit.band(mask, M.bit(kind)))
  function M.kinds(tcp)
    return span_kinds(option_span(tcp))
  end
  -- TFO cookie option: kind (34, 254, 255), cookie length; nil when none
  function M.tfo_cookie(tcp)
    return span_tfo_cookie(option_span(tcp))
  end
  M.walker = "span"
else
  M.find_uint, M.kinds, M.tfo_cookie = iter_find_uint, iter_kinds, iter_tfo_cookie
  M.walker = "iter"
end

return M
