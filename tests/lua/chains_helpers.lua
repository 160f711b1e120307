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

------------------------------------------------------------------ find
local syn = fake({ { 2, "\5\180" }, { 4, "" }, { 8, ("\0"):rep(8) }, { 2, "\1\0" } })
eq(tcpopt.find(syn, 2), "\5\180", "find returns the first MSS")
eq(tcpopt.find(syn, 4), "", "find an empty option")
eq(tcpopt.find(syn, 3), nil, "find an absent kind")
eq(tcpopt.find(fake({}), 2), nil, "find without options")

------------------------------------------------------------------ kinds, bit
local mask = tcpopt.kinds(syn)
eq(bit.band(mask, tcpopt.bit(2)) ~= 0, true, "kinds: MSS")
eq(bit.band(mask, tcpopt.bit(4)) ~= 0, true, "kinds: SACK-permitted")
eq(bit.band(mask, tcpopt.bit(8)) ~= 0, true, "kinds: TS")
eq(bit.band(mask, tcpopt.bit(3)), 0, "kinds: no WS")
eq(tcpopt.kinds(fake({ { 34, "" }, { 254, "\249\137" } })), 0, "kinds ignores kinds above 31")
eq(tcpopt.bit(31), bit.lshift(1, 31), "bit 31")
assert(not pcall(tcpopt.bit, 32), "bit refuses 32")
assert(not pcall(tcpopt.bit, -1), "bit refuses -1")

------------------------------------------------------------------ uint_be
eq(tcpopt.uint_be(""), 0, "uint_be empty")
eq(tcpopt.uint_be("\5"), 5, "uint_be 1 byte")
eq(tcpopt.uint_be("\5\180"), 1460, "uint_be 2 bytes")
eq(tcpopt.uint_be("\0\5\180"), 1460, "uint_be 3 bytes")
eq(tcpopt.uint_be("\1\0\0\0"), 16777216, "uint_be 4 bytes")
eq(tcpopt.uint_be("\255\255\255\255\255\255"), 2 ^ 48 - 1, "uint_be 6 bytes exact")

------------------------------------------------------------------ tfo_cookie
local EXID = "\249\137"
local COOKIE = "ABCDEFGH"
local function cookie(list)
  return tcpopt.tfo_cookie(fake(list))
end
local function both(list, kind, clen, what)
  local k, c = cookie(list)
  eq(k, kind, what .. " (kind)")
  eq(c, clen, what .. " (cookie length)")
end

both({ { 34, "" } }, 34, 0, "IANA cookie request")
both({ { 34, COOKIE } }, 34, 8, "IANA cookie")
both({ { 254, EXID } }, 254, 0, "experiment A cookie request")
both({ { 254, EXID .. COOKIE } }, 254, 8, "experiment A cookie")
both({ { 255, EXID .. "1234" } }, 255, 4, "experiment B cookie (measured from kind 255 itself)")
both({ { 255, EXID .. "1234" }, { 254, EXID .. "123456" }, { 34, COOKIE } }, 34, 8,
  "kind 34 wins wherever it is")
both({ { 255, EXID .. "1234" }, { 254, EXID .. "123456" } }, 254, 6, "254 wins over 255")
both({ { 254, EXID .. "12" }, { 254, EXID .. "123456" } }, 254, 2, "the first 254 wins")
both({ { 254, "\18\52" .. COOKIE }, { 255, EXID .. "1" } }, 255, 1,
  "254 with another experiment id is not TFO")
both({ { 34, "" }, { 34, COOKIE } }, 34, 0, "the first 34 wins")
eq(cookie({ { 254, "\249" } }), nil, "254 too short for the id")
eq(cookie({ { 254, "\18\52" .. COOKIE } }), nil, "254 with another experiment id")
eq(cookie({ { 2, "\5\180" }, { 3, "\7" } }), nil, "no cookie option")
eq(cookie({}), nil, "no options")

io.write("chains_helpers: ok\n")
