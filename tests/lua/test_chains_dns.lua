-- chains_dns.lua - pathobs.dns: DNS response detection through ldns (needs libldns).
-- A plain script that raises on failure; needs the bundled lua/ folder on package.path.
local dns = require("pathobs.dns")
local char = string.char

local function u16(v) return char(math.floor(v / 256) % 256, v % 256) end

-- A DNS message with one question for www.example.com A and ancount
-- answers (A records written with a name pointer to the question).
local function message(id, flags, ancount, answers)
  local q = "\3www\7example\3com\0" .. u16(1) .. u16(1)
  local a = ""
  for _ = 1, answers or ancount do
    a = a .. u16(0xc00c) .. u16(1) .. u16(1) .. "\0\0\1\44" .. u16(4) .. "\203\0\113\80"
  end
  return u16(id) .. u16(flags) .. u16(1) .. u16(ancount) .. u16(0) .. u16(0) .. q .. a
end

local QUERY = message(0x1234, 0x0100, 0)
local RESPONSE = message(0x1234, 0x8180, 1)
local function tcp(msg, delta) return u16(#msg + (delta or 0)) .. msg end

local function is(v, want, what)
  if v ~= want then error(what .. ": got " .. tostring(v) .. ", expected " .. tostring(want), 2) end
end

-- UDP payloads
is(dns.is_response(RESPONSE), true, "a valid response")
is(dns.is_response(QUERY), false, "a query (QR clear)")
is(dns.is_response(message(0x1234, 0x8183, 0)), true, "an NXDOMAIN response is still a response")
is(dns.is_response(message(0x1234, 0x8180, 1, 0)), false, "a promised answer is missing")
is(dns.is_response(RESPONSE:sub(1, 11)), false, "shorter than a header")
is(dns.is_response(RESPONSE:sub(1, 20)), false, "cut inside the question")
is(dns.is_response(""), false, "empty")
is(dns.is_response(nil), false, "nil")
is(dns.is_response(("\255"):rep(64)), false, "garbage")
is(dns.is_response("\0\0\128\0" .. ("\255"):rep(8)), false, "65535 questions that are not there")
-- offsets
is(dns.is_response("xx" .. RESPONSE, 2), true, "offset skips a prefix")
is(dns.is_response(RESPONSE, #RESPONSE), false, "offset at the end")
is(dns.is_response(RESPONSE, #RESPONSE + 5), false, "offset past the end")
-- wrong arguments: an error at the caller's line, never a read outside the string
local function raises(pattern, what, ...)
  local ok, err = pcall(dns.is_response, ...)
  if ok or not tostring(err):find(pattern) then
    error(what .. ": got " .. tostring(ok) .. ", " .. tostring(err), 2)
  end
end
raises("offset must be a whole number from 0, not %-1000000000", "negative offset", RESPONSE, -1e9)
raises("offset must be a whole number from 0, not %-1$", "offset -1", RESPONSE, -1)
raises("offset must be a whole number from 0, not 1.5", "fractional offset", RESPONSE, 1.5)
raises("offset must be a whole number from 0, not x", "string offset", RESPONSE, "x")
raises("payload must be a string or nil, not a table", "a table as payload", {})

-- TCP payloads: 2-byte length prefix that must match the rest exactly
is(dns.is_response_tcp(tcp(RESPONSE)), true, "TCP: valid response")
is(dns.is_response_tcp(tcp(QUERY)), false, "TCP: query")
is(dns.is_response_tcp(tcp(RESPONSE, 1)), false, "TCP: prefix one too large")
is(dns.is_response_tcp(tcp(RESPONSE, -1)), false, "TCP: prefix one too small")
is(dns.is_response_tcp(RESPONSE), false, "TCP: no prefix")
is(dns.is_response_tcp(tcp(RESPONSE):sub(1, 20)), false, "TCP: first part of a split message")
is(dns.is_response_tcp("\0"), false, "TCP: 1 byte")
is(dns.is_response_tcp("\0\0"), false, "TCP: empty message")
is(dns.is_response_tcp(nil), false, "TCP: nil")
do
  local ok, err = pcall(dns.is_response_tcp, {})
  if ok or not tostring(err):find("payload must be a string or nil, not a table", 1, true) then
    error("TCP: a table as payload must raise: got " .. tostring(ok) .. ", " .. tostring(err))
  end
end

-- Many calls: no leak of ldns packets, no crash (run under valgrind to be sure).
for _ = 1, 20000 do
  assert(dns.is_response(RESPONSE))
  assert(not dns.is_response(QUERY))
  assert(not dns.is_response(RESPONSE:sub(1, 30)))
end

-- Loading the module again in the same Lua state (what --watch does after
-- forgetting the modules) must not redeclare the FFI types.
package.loaded["pathobs.dns"] = nil
local again = require("pathobs.dns")
assert(again ~= dns, "a fresh module")
is(again.is_response(RESPONSE), true, "the reloaded module works")
collectgarbage()
collectgarbage()
is(dns.is_response(RESPONSE), true, "the first module still works after a full GC")

io.write("chains_dns: ok\n")
