-- chains_helpers.lua - pathobs.fields and pathobs.tcpopt (the option look-ups of mss, tcpopt, tfo).
-- A plain script that raises on failure; needs the bundled lua/ folder on package.path.
-- The helpers only call tcp:options(), so a fake TCP object that yields
-- (kind, value) pairs from a list stands in for a packet.
local fields = require("pathobs.fields")
local tcpopt = require("pathobs.tcpopt")
local bit = require("bit")

local function eq(got, want, what)
  if got ~= want then
    error(("%s: got %s, expected %s"):format(what, tostring(got), tostring(want)), 2)
  end
end

-- A fake TCP header object whose options are {kind, value} pairs: tcp:options()
-- yields kind, value for each, as the real header object does.
local function fake(list)
  return {
    options = function()
      local i = 0
      return function()
        i = i + 1
        local e = list[i]
        if e == nil then return nil end
        return e[1], e[2]
      end
    end,
  }
end

------------------------------------------------------------------ fields
local fin = fields.dir("tcp_fin")
eq(fin[false], "tcp_fin_fwd", "dir fwd")
eq(fin[true], "tcp_fin_rev", "dir rev")
local rec = {}
fields.init(rec, fin, 7)
eq(rec.tcp_fin_fwd, 7, "init fwd")
eq(rec.tcp_fin_rev, 7, "init rev")
assert(not pcall(fields.dir, 3), "dir refuses a non-string")

------------------------------------------------------------------ both walkers
-- Every case runs through the span walker (raw option bytes in an FFI
-- buffer) and through the iterator walker (a fake object yielding the same
-- options); both must give the expected answer.
local ffi = require("ffi")
local char = string.char

local function wire(list)
  local out = {}
  for _, e in ipairs(list) do out[#out + 1] = char(e[1], #e[2] + 2) .. e[2] end
  return table.concat(out)
end

-- bytes -> p, first, last with the options placed after 20 bytes of header
local keep = {}
local function span(bytes)
  local buf = ffi.new("uint8_t[?]", 20 + #bytes + 1)
  ffi.copy(buf + 20, bytes, #bytes)
  keep[#keep + 1] = buf
  return buf, 20, 20 + #bytes
end

local function check(list, what, fn_span, fn_iter, ...)
  local want = { ... }
  local got_s = { fn_span(span(wire(list))) }
  local got_i = { fn_iter(fake(list)) }
  for k = 1, math.max(#want, 1) do
    eq(got_s[k], want[k], what .. " (span walker, result " .. k .. ")")
    eq(got_i[k], want[k], what .. " (iterator walker, result " .. k .. ")")
  end
end

local function find_uint(list, kind, what, ...)
  check(list, what, function(p, a, b) return tcpopt.span_find_uint(p, a, b, kind) end,
    function(t) return tcpopt.iter.find_uint(t, kind) end, ...)
end
local function cookie(list, what, ...)
  check(list, what, tcpopt.span_tfo_cookie, tcpopt.iter.tfo_cookie, ...)
end
local function kinds(list, what, mask)
  check(list, what, tcpopt.span_kinds, tcpopt.iter.kinds, mask)
end

-- MSS look-up: data length and big-endian value of the first MSS option
local SYN = { { 2, "\5\180" }, { 4, "" }, { 8, ("\0"):rep(8) }, { 2, "\1\0" } }
find_uint(SYN, 2, "the first MSS", 2, 1460)
find_uint(SYN, 4, "an empty option", 0, 0)
find_uint(SYN, 3, "an absent kind", nil)
find_uint({}, 2, "no options", nil)
find_uint({ { 2, "\5" } }, 2, "a 1-byte MSS", 1, 5)
find_uint({ { 2, "\0\5\180" } }, 2, "a 3-byte MSS", 3, 1460)
find_uint({ { 2, "\1\0\0\0" } }, 2, "a 4-byte MSS", 4, 16777216)

-- kinds present
local B = tcpopt.bit
kinds(SYN, "kinds of a SYN", B(2) + B(4) + B(8))
kinds({ { 34, "" }, { 254, "\249\137" } }, "kinds above 31 do not count", 0)
kinds({}, "no options", 0)
eq(B(31), bit.lshift(1, 31), "bit 31")
assert(not pcall(B, 32), "bit refuses 32")
assert(not pcall(B, -1), "bit refuses -1")

-- TFO cookies
local EXID = "\249\137"
local COOKIE = "ABCDEFGH"
cookie({ { 34, "" } }, "IANA cookie request", 34, 0)
cookie({ { 34, COOKIE } }, "IANA cookie", 34, 8)
cookie({ { 254, EXID } }, "experiment A cookie request", 254, 0)
cookie({ { 254, EXID .. COOKIE } }, "experiment A cookie", 254, 8)
cookie({ { 255, EXID .. "1234" } }, "experiment B cookie (measured from kind 255 itself)", 255, 4)
cookie({ { 255, EXID .. "1234" }, { 254, EXID .. "123456" }, { 34, COOKIE } },
  "kind 34 wins wherever it is", 34, 8)
cookie({ { 255, EXID .. "1234" }, { 254, EXID .. "123456" } }, "254 wins over 255", 254, 6)
cookie({ { 254, EXID .. "12" }, { 254, EXID .. "123456" } }, "the first 254 wins", 254, 2)
cookie({ { 254, "\18\52" .. COOKIE }, { 255, EXID .. "1" } },
  "254 with another experiment id is not TFO", 255, 1)
cookie({ { 34, "" }, { 34, COOKIE } }, "the first 34 wins", 34, 0)
cookie({ { 254, "\249" } }, "254 too short for the id", nil)
cookie({ { 254, "\18\52" .. COOKIE } }, "254 with another experiment id", nil)
cookie({ { 2, "\5\180" }, { 3, "\7" } }, "no cookie option", nil)
cookie({}, "no options", nil)

------------------------------------------------------------------ malformed bytes
-- Only the span walker sees raw bytes (the header objects' iterator applies
-- the same rules before a chain sees anything).
local function raw_mss(bytes, what, ...)
  local want = { ... }
  local p, a, b = span(bytes)
  local n, v = tcpopt.span_find_uint(p, a, b, 2)
  eq(n, want[1], what .. " (length)")
  eq(v, want[2], what .. " (value)")
end
raw_mss("\1\1\2\4\5\180", "NOPs before MSS", 2, 1460)
raw_mss("\0\2\4\5\180", "EOL stops the walk", nil)
raw_mss("\8\0\2\4\5\180", "a length of 0 stops the walk (no hang)", nil)
raw_mss("\8\1\2\4\5\180", "a length of 1 stops the walk", nil)
raw_mss("\2\5\5\180", "a length overrunning the options", nil)
raw_mss("\1\1\1\2", "a kind without a length byte", nil)
raw_mss("\2\2", "an empty MSS", 0, 0)
raw_mss("", "no bytes", nil)
do
  local p, a, b = span("\8\0\3\3\7")
  eq(tcpopt.span_kinds(p, a, b), 0, "kinds: a length of 0 stops the walk")
  eq(tcpopt.span_tfo_cookie(span("\34\0\34\2")), nil, "cookie: a length of 0 stops the walk")
end

------------------------------------------------------------------ uint
eq(tcpopt.uint_be(""), 0, "uint_be empty")
eq(tcpopt.uint_be("\5"), 5, "uint_be 1 byte")
eq(tcpopt.uint_be("\5\180"), 1460, "uint_be 2 bytes")
eq(tcpopt.uint_be("\255\255\255\255\255\255"), 2 ^ 48 - 1, "uint_be 6 bytes exact")
do
  local p = span("\0\5\180")
  eq(tcpopt.span_uint(p, 20, 3), 1460, "span_uint 3 bytes")
  eq(tcpopt.span_uint(p, 20, 0), 0, "span_uint 0 bytes")
end

-- The header-object functions are one of the two walkers.
assert(tcpopt.walker == "span" or tcpopt.walker == "iter", "walker")
if tcpopt.walker == "iter" then
  eq(tcpopt.kinds, tcpopt.iter.kinds, "kinds walks tcp:options()")
end

io.write("chains_helpers: ok\n")
