-- pathobs.dns: "is this a DNS response?" through ldns (libldns) over the FFI.
--
-- A payload counts as a DNS response when ldns_wire2pkt parses it as a
-- complete, well-formed DNS message (LDNS_STATUS_OK) and the QR bit is set.
-- Nothing here raises on packet bytes: any malformed input is just "no".
-- Loading this module raises when libldns cannot be found (Debian: libldns3,
-- or libldns-dev for the unversioned name).

-- The globals this module calls, bound once: a chain that assigns one by
-- mistake (type = ip.proto) must not break the runtime.
local error, floor, pcall, require, string, tostring, type =
  error, math.floor, pcall, require, string, tostring, type
local ffi = require("ffi")

local byte = string.byte

-- Declared once per Lua state, even if the module is loaded again.
-- ldns_status is an enum: int-sized, LDNS_STATUS_OK is 0.
if not pcall(ffi.typeof, "po_ldns_pkt") then
  ffi.cdef[[
  typedef struct po_ldns_pkt po_ldns_pkt;
  int ldns_wire2pkt(po_ldns_pkt **packet, const uint8_t *data, size_t len);
  bool ldns_pkt_qr(const po_ldns_pkt *p);
  void ldns_pkt_free(po_ldns_pkt *packet);
  ]]
end

local function load_ldns()
  local ok, lib = pcall(ffi.load, "ldns")
  if ok then return lib end
  local ok3, lib3 = pcall(ffi.load, "libldns.so.3")
  if ok3 then return lib3 end
  error("pathobs.dns: cannot load libldns (" .. tostring(lib) .. "; " .. tostring(lib3) .. ")", 0)
end

-- The library namespace must stay reachable: when LuaJIT collects it, it
-- unloads the library, and function pointers copied out of it would dangle.
-- So the functions below call through lib (the JIT resolves that once), and
-- the module keeps it too.
local lib = load_ldns()
local LDNS_STATUS_OK = 0
local u8p = ffi.typeof("const uint8_t *")
local out = ffi.new("po_ldns_pkt *[1]") -- reused: no allocation per call

local M = { lib = lib }

-- True when bytes off .. #s-1 of string s (off defaults to 0) are a complete,
-- well-formed DNS message with QR set.  A chain that passes something else
-- than a string or nil, or an offset that is not a whole number from 0, gets
-- an error at its own line (a negative offset would read before the string).
local function is_response(s, off)
  if s == nil then return false end
  if type(s) ~= "string" then
    error("pathobs.dns: the payload must be a string or nil, not a " .. type(s), 2)
  end
  off = off or 0
  if type(off) ~= "number" or off < 0 or off ~= floor(off) then
    error("pathobs.dns: the offset must be a whole number from 0, not " .. tostring(off), 2)
  end
  local n = #s - off
  if n <= 0 then return false end
  out[0] = nil
  if lib.ldns_wire2pkt(out, ffi.cast(u8p, s) + off, n) ~= LDNS_STATUS_OK then return false end
  local pkt = out[0]
  if pkt == nil then return false end
  local qr = lib.ldns_pkt_qr(pkt)
  lib.ldns_pkt_free(pkt)
  out[0] = nil
  return qr == true
end
M.is_response = is_response

-- The same for a DNS-over-TCP payload: a 2-byte big-endian length, then
-- exactly that many bytes of DNS message.
function M.is_response_tcp(s)
  if s == nil then return false end
  local n = #s
  if n < 2 then return false end
  local hi, lo = byte(s, 1, 2)
  if hi * 256 + lo ~= n - 2 then return false end
  return is_response(s, 2)
end

return M
