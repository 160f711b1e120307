-- pathobs.tcpopt: TCP option look-ups shared by the mss, tcpopt and tfo chains.
--
-- Every function takes a TCP header object and walks its options once with
-- tcp:options() (which stops at EOL, at a length below 2 and at a length that
-- overruns the header, so a malformed option never hangs). No tables and no
-- closures are created; the only allocation is the option value string the
-- walker hands out. Anything with an options() method yielding kind, value
-- works, which is how tests/lua/chains_tcpopt.lua tests these without packets.
local bit = require("bit")
local pathobs = require("pathobs")

local band, bor, lshift = bit.band, bit.bor, bit.lshift
local byte = string.byte

local TO_FASTOPEN, TO_EXPA, TO_EXPB = pathobs.TO_FASTOPEN, pathobs.TO_EXPA, pathobs.TO_EXPB
local EXID_HI = bit.rshift(pathobs.TO_EXID_FASTOPEN, 8) -- 0xF9
local EXID_LO = band(pathobs.TO_EXID_FASTOPEN, 0xff)    -- 0x89

local M = {}

-- Value string of the first option of this kind, or nil when absent.
function M.find(tcp, kind)
  for k, v in tcp:options() do
    if k == kind then return v end
  end
  return nil
end

-- Bit mask of the option kinds below 32 that are present: bit k for kind k
-- (test with bit.band(mask, M.bit(kind)) ~= 0). EOL and NOP never count.
function M.kinds(tcp)
  local mask = 0
  for k in tcp:options() do
    if k < 32 then mask = bor(mask, lshift(1, k)) end
  end
  return mask
end

-- The mask bit of one option kind (0..31), for use with M.kinds.
function M.bit(kind)
  if kind < 0 or kind > 31 then error("pathobs.tcpopt.bit: kind must be 0..31", 2) end
  return lshift(1, kind)
end

-- A string of bytes as a big-endian unsigned integer ("" is 0). Exact up to
-- 6 bytes; longer values lose precision like any Lua number beyond 2^53.
function M.uint_be(s)
  local n = 0
  for i = 1, #s do n = n * 256 + byte(s, i) end
  return n
end

-- The TCP Fast Open cookie option: kind, cookie length; or nil when none.
-- Kind 34 (IANA): the cookie is the whole option data. Otherwise kind 254,
-- then 255, whose data starts with the experiment id 0xF9 0x89: the cookie is
-- the data after the id. Among options of the same kind the first wins.
function M.tfo_cookie(tcp)
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

return M
