-- sni - TLS ClientHello and its server name (SNI) in the client's first payload
--
-- Fields (TCP flows; both null on other flows and until the client sends data):
--   tls_hello  bool: the first forward TCP payload starts with a TLS handshake
--              record holding a ClientHello (false: something else, or bytes
--              that were not captured)
--   tls_sni    string: the host_name of the server_name extension of that
--              ClientHello; null when there is none, or when it is not within
--              the first segment (a ClientHello split over several segments)
-- Only the first segment with payload from the client is read: one string
-- per flow, no reassembly. The parser checks every length against the bytes
-- it has, so garbage, truncated or lying ClientHellos give null, never an
-- error. Reuse it as require("sni").exports.client_hello_sni(bytes).
--
--   pathobs -c basic -c examples/sni.lua examples/sni.pcap
local pathobs = require("pathobs")

local null = pathobs.null
local byte, sub = string.byte, string.sub

-- Big-endian integers at position i (1-based) of s; the caller checks that
-- the bytes are there.
local function u16(s, i)
  local a, b = byte(s, i, i + 1)
  return a * 256 + b
end

local function u24(s, i)
  local a, b, c = byte(s, i, i + 2)
  return (a * 256 + b) * 256 + c
end

-- Is s (bytes of a TCP stream, from its start) a ClientHello, and which
-- host name does it ask for? Returns hello (boolean), name (string or nil).
---@param s string
---@return boolean hello
---@return string? name
local function client_hello_sni(s)
  local n = #s
  -- TLS record header: type 22 (handshake), version 3.x, 2-byte length;
  -- handshake header: type 1 (ClientHello), 3-byte length.
  if n < 9 or byte(s, 1) ~= 22 or byte(s, 2) ~= 3 or byte(s, 6) ~= 1 then
    return false, nil
  end
  -- The last position we may read: the end of the bytes, of the record and
  -- of the handshake message, whichever comes first.
  local limit = n
  local rec_last, hs_last = 5 + u16(s, 4), 9 + u24(s, 7)
  if rec_last < limit then limit = rec_last end
  if hs_last < limit then limit = hs_last end
  -- client_version (2 bytes) and random (32) follow the headers
  local p = 10 + 2 + 32
  if p > limit then return true, nil end
  p = p + 1 + byte(s, p)                      -- session_id
  if p + 1 > limit then return true, nil end
  p = p + 2 + u16(s, p)                       -- cipher_suites
  if p > limit then return true, nil end
  p = p + 1 + byte(s, p)                      -- compression_methods
  if p + 1 > limit then return true, nil end
  local ext_last = p + 1 + u16(s, p)          -- extensions
  if ext_last < limit then limit = ext_last end
  p = p + 2
  while p + 3 <= limit do
    local kind, len = u16(s, p), u16(s, p + 2)
    local last = p + 3 + len                  -- last byte of this extension
    if last > limit then return true, nil end
    if kind == 0 then
      -- server_name: a 2-byte list length, then entries of
      -- name_type (1 byte, 0 = host_name), 2-byte length, name
      if len < 2 then return true, nil end
      local q, qlast = p + 6, p + 5 + u16(s, p + 4)
      if qlast > last then return true, nil end
      while q + 2 <= qlast do
        local name_last = q + 2 + u16(s, q + 1)
        if name_last > qlast then return true, nil end
        if byte(s, q) == 0 and name_last > q + 2 then
          return true, sub(s, q + 3, name_last)
        end
        q = name_last + 1
      end
      return true, nil
    end
    p = last + 1
  end
  return true, nil
end

---@param rec PathobsRecord
---@param ip PathobsIP
local function sni_flow(rec, ip)
  rec.tls_hello = null
  rec.tls_sni = null
end

---@param rec PathobsRecord
---@param tcp PathobsTCP
---@param rev boolean
local function sni_segment(rec, tcp, rev)
  -- once per flow: the first forward segment with payload
  if rev or rec.tls_hello ~= null or tcp.payload_len == 0 then return end
  local hello, name = client_hello_sni(tcp.payload or "")
  rec.tls_hello = hello
  if name ~= nil then rec.tls_sni = name end
end

---@type PathobsChain
local chain = {
  new_flow = sni_flow,
  tcp = sni_segment,
  exports = { client_hello_sni = client_hello_sni, sni_flow = sni_flow, sni_segment = sni_segment },
}
return chain
