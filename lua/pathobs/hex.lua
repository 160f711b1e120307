-- pathobs.hex: binary strings as lowercase hexadecimal text, for binary fields in records.
--
-- hex(s [, sep]): "\1\171\255" -> "01abff"; with sep between the bytes,
-- hex(mac, ":") -> "02:00:5e:10:00:01".  nil gives nil (a payload that was
-- not captured); any other type raises at the caller's line.  The text is
-- built in one reused buffer: no table or intermediate string per call.

-- The globals this module calls, bound once: a chain that assigns one by
-- mistake (type = ip.proto) must not break the runtime.
local error, require, type = error, require, type
local ffi = require("ffi")
local bit = require("bit")

local band, rshift = bit.band, bit.rshift
local ffi_cast, ffi_copy, ffi_string = ffi.cast, ffi.copy, ffi.string
local u8p = ffi.typeof("const uint8_t *")
local DIGITS = ffi.new("const uint8_t[16]", { 48, 49, 50, 51, 52, 53, 54, 55, 56, 57,
                                               97, 98, 99, 100, 101, 102 }) -- 0-9 a-f
local KEEP = 65536      -- a larger buffer is made for one call and not kept
local buf = ffi.new("uint8_t[?]", 256)
local cap = 256

local function hex(s, sep)
  if s == nil then return nil end
  if type(s) ~= "string" then
    error("pathobs.hex: the value must be a string or nil, not a " .. type(s), 2)
  end
  local sl = 0
  if sep ~= nil then
    if type(sep) ~= "string" then
      error("pathobs.hex: the separator must be a string or nil, not a " .. type(sep), 2)
    end
    sl = #sep
  end
  local n = #s
  if n == 0 then return "" end
  local size = n * 2 + (n - 1) * sl
  local b = buf
  if size > cap then
    b = ffi.new("uint8_t[?]", size)
    if size <= KEEP then buf, cap = b, size end
  end
  local p = ffi_cast(u8p, s)
  local v = p[0]
  b[0], b[1] = DIGITS[rshift(v, 4)], DIGITS[band(v, 15)]
  local j = 2
  for i = 1, n - 1 do
    if sl > 0 then
      ffi_copy(b + j, sep, sl)
      j = j + sl
    end
    v = p[i]
    b[j], b[j + 1] = DIGITS[rshift(v, 4)], DIGITS[band(v, 15)]
    j = j + 2
  end
  return ffi_string(b, size)
end

return hex
