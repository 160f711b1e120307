-- test_verdicts.lua - the loop stores a chain's verdict beside its batch entry (the C core applies it later).
local ffi = require("ffi")
local t = require("t")
local core = require("pathobs.core")
local D = require("pathobs.dispatch")

local batch, verdicts = ffi.new("po_pkt[8]"), ffi.new("uint8_t[8]")
D.setup({ batch = batch, verdicts = verdicts,
  write_slow = function() return 0 end,
  tab = { probe = function() return false end, template = function() end, write = function() end } })
-- one UDP packet 10.0.0.1:1 -> 10.0.0.2:2
local pkt = ffi.new("uint8_t[28]", { 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1,
  10, 0, 0, 2, 0, 1, 0, 2, 0, 8, 0, 0 })
local function entry(j, op, slot)
  local d = batch[j]
  d.h[0].p = pkt; d.h[0].cap = 28; d.h[0].pkt_len = 28; d.h[0].hdr_len = 20
  d.h[0].version = 4; d.h[0].proto = 17; d.h[0].l4 = core.L4_UDP
  d.ts = 100 + j; d.slot = slot; d.op = op
  verdicts[j] = core.VERDICT_NONE -- as the observer makes entries
end

local udp_calls, ignore_next = 0, false
D.compose({ { path = "v.lua", value = {
  new_flow = function(rec) return not ignore_next end,
  udp = function(rec)
    udp_calls = udp_calls + 1
    rec.n = (rec.n or 0) + 1
    if rec.n == 2 then return false end -- complete at the flow's second packet
  end,
} } })

entry(0, core.OP_NEW, 1)     -- flow 1: new, runs on
entry(1, core.OP_PKT, 1)     -- flow 1: its second packet completes it
t.eq(D.batch(2), 0, "no error")
t.eq(verdicts[0], core.VERDICT_NONE, "a packet the chains went through: no verdict")
t.eq(verdicts[1], core.VERDICT_COMPLETE, "a chain returned false: complete")
t.eq(udp_calls, 2, "udp ran for both packets")

ignore_next = true
entry(0, core.OP_NEW, 2)     -- flow 2: new_flow says ignore
entry(1, core.OP_PKT, 2)     -- flow 2's next packet in the same batch: no record, no chains
t.eq(D.batch(2), 0, "no error")
t.eq(verdicts[0], core.VERDICT_IGNORE, "new_flow returned false: ignore")
t.eq(verdicts[1], core.VERDICT_NONE, "no verdict for a packet without a record")
t.eq(udp_calls, 2, "no chain ran for the ignored flow")

t.done()
