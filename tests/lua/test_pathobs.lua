-- test_pathobs.lua - the pathobs module: null, constants, and chain script validation.
local t = require("t")
local pathobs = require("pathobs")
local dispatch = require("pathobs.dispatch")

t.eq(type(pathobs.null), "userdata", "null is a light userdata")
t.ok(pathobs.null ~= nil, "null is not nil")
t.eq(pathobs.TCP_SYN, 2, "TCP_SYN")
t.eq(pathobs.TCP_SA, 0x12, "TCP_SA")
t.eq(pathobs.TCP_SAEC, 0xd2, "TCP_SAEC")
t.eq(pathobs.TCP_SEC, 0xc2, "TCP_SEC")
t.eq(pathobs.TCP_SAE, 0x52, "TCP_SAE")
t.eq(pathobs.TO_FASTOPEN, 34, "TO_FASTOPEN")
t.eq(pathobs.TO_EXID_FASTOPEN, 0xf989, "TO_EXID_FASTOPEN")
t.eq(pathobs.ICMP6_UNREACHABLE, 1, "ICMP6_UNREACHABLE")
t.eq(pathobs.ICMP4_TTLEXCEEDED, 11, "ICMP4_TTLEXCEEDED")
t.eq(next(pathobs.tcp_options(nil)), nil, "tcp_options(nil) is empty")

local function f() end
local function compose(value)
  return function() dispatch.compose({ { path = "x.lua", value = value, lastline = 9 } }) end
end
t.raises(compose(42), "x.lua:9: a chain script must return a table", "wrong return type")
t.raises(compose({ tcpp = f }), "unknown chain 'tcpp'", "unknown chain name")
t.raises(compose({ tcp = 3 }), "x.lua:9: chain 'tcp' must be a function", "wrong chain value")
t.raises(compose({ tcp = { f, 3 } }), "chain 'tcp' entry 2 is a number", "wrong list entry")
t.ok(pcall(compose({ new_flow_chain = { f, f }, tcp_chain = f, exports = { g = 1 } })),
  "seed spellings and exports accepted")
t.eq(type(dispatch.chains.new_flow), "function", "composed new_flow")
t.eq(dispatch.chains.udp, nil, "absent chain")
t.done()
