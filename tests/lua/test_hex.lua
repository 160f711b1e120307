-- test_hex.lua - pathobs.hex: binary strings as lowercase hexadecimal text.
local t = require("t")
local pathobs = require("pathobs")
local hex = pathobs.hex

t.eq(hex("\1\171\255"), "01abff", "three bytes")
t.eq(hex("\0"), "00", "a zero byte")
t.eq(hex(""), "", "empty")
t.eq(hex(nil), nil, "nil gives nil")
t.eq(hex("\2\0\94\16\0\1", ":"), "02:00:5e:10:00:01", "a MAC with ':'")
t.eq(hex("\192\0\2\1", ""), "c0000201", "empty separator")
t.eq(hex("ab", " - "), "61 - 62", "a longer separator")
t.eq(hex("a", ":"), "61", "one byte: no separator")
t.eq(hex("a\0b", nil), "610062", "NUL inside")

-- every byte value, against string.format
local all, want = {}, {}
for b = 0, 255 do all[#all + 1] = string.char(b); want[#want + 1] = string.format("%02x", b) end
t.eq(hex(table.concat(all)), table.concat(want), "all 256 byte values")
t.eq(hex(table.concat(all), "."), table.concat(want, "."), "all 256 with a separator")

-- longer than the reused buffer, and larger than the size it keeps
local big = ("\222\173\190\239"):rep(40000)
t.eq(hex(big), ("deadbeef"):rep(40000), "160000 bytes")
t.eq(hex("\18\52"), "1234", "a short one after a long one")
t.eq(hex(("\1"):rep(300), ":"), ("01:"):rep(299) .. "01", "300 bytes with a separator")
t.eq(hex("\255"), "ff", "a short one after the buffer grew")

-- wrong arguments raise at the caller's line
t.raises(function() hex(42) end, "pathobs.hex: the value must be a string or nil, not a number", "number")
t.raises(function() hex({}) end, "test_hex.lua:", "error at the caller")
t.raises(function() hex("x", 1) end, "the separator must be a string or nil, not a number", "separator")

-- the same function as require("pathobs.hex")
t.eq(require("pathobs.hex"), hex, "one function")
t.done()
