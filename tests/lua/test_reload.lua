-- test_reload.lua - a live reload: flows that began under the old chains keep them, late packets too.
local ffi = require("ffi")
local t = require("t")
local core = require("pathobs.core")
local D = require("pathobs.dispatch")

local batch, verdicts = ffi.new("po_pkt[4]"), ffi.new("uint8_t[4]")
D.setup({ batch = batch, verdicts = verdicts,
  write_slow = function() return 0 end,
  tab = { probe = function() return false end, template = function() end, write = function() end } })
-- one UDP packet 10.0.0.1:1 -> 10.0.0.2:2
local pkt = ffi.new("uint8_t[28]", { 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1,
  10, 0, 0, 2, 0, 1, 0, 2, 0, 8, 0, 0 })
local function entry(j, op, ts)
  local d = batch[j]
  d.h[0].p = pkt; d.h[0].cap = 28; d.h[0].pkt_len = 28; d.h[0].hdr_len = 20
  d.h[0].version = 4; d.h[0].proto = 17; d.h[0].l4 = core.L4_UDP
  d.ts = ts; d.slot = 1; d.op = op
end

local log = {}
D.compose({ { path = "old.lua", value = { udp = function() log[#log + 1] = "old" end } } })
entry(0, core.OP_NEW, 100)
t.eq(D.batch(1), 0, "no error")
D.compose({ { path = "new.lua", value = { udp = function() log[#log + 1] = "new" end } } })
entry(0, core.OP_PKT_LATE, 99.5) -- older than the flow's last packet
entry(1, core.OP_PKT, 100.5)
t.eq(D.batch(2), 0, "no error")
t.eq(table.concat(log, " "), "old old old", "the flow keeps the chains it began with")

t.done()
