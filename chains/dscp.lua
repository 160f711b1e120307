-- dscp - DSCP on the SYN and on the first marked data packet in each direction
--
-- Fields (int, or null until a packet of that kind is seen):
--   dscp_mark_syn_fwd, dscp_mark_syn_rev    DSCP of the latest TCP segment with SYN
--   dscp_mark_data_fwd, dscp_mark_data_rev  first non-zero DSCP of a TCP segment
--                                           with payload or a non-TCP packet (0 if
--                                           all such packets carried 0)
-- DSCP is traffic_class >> 2. TCP segments without SYN and without payload
-- (pure ACKs) are not looked at. "Payload" is the TCP payload length computed
-- from the IP length, never the captured bytes.
local bit = require("bit")
local pathobs = require("pathobs")
local fields = require("pathobs.fields")

local band, rshift = bit.band, bit.rshift
local null = pathobs.null
local TCP_SYN = pathobs.TCP_SYN
local SYN = fields.dir("dscp_mark_syn")
local DATA = fields.dir("dscp_mark_data")

local function dscp_flow(rec, ip)
  rec.dscp_mark_syn_fwd = null
  rec.dscp_mark_syn_rev = null
  rec.dscp_mark_data_fwd = null
  rec.dscp_mark_data_rev = null
  return true
end

-- ip4 and ip6: the same for both versions.
local function dscp_mark(rec, ip, rev)
  local dscp = rshift(ip.traffic_class, 2)
  local tcp = ip.tcp
  if tcp ~= nil then
    if band(tcp.flags, TCP_SYN) ~= 0 then
      rec[SYN[rev]] = dscp
      return true
    end
    if tcp.payload_len == 0 then return true end
  end
  local key = DATA[rev]
  local seen = rec[key]
  if seen == null or seen == 0 then rec[key] = dscp end
  return true
end

return {
  new_flow = dscp_flow,
  ip4 = dscp_mark,
  ip6 = dscp_mark,
  exports = { dscp_flow = dscp_flow, dscp_mark = dscp_mark },
}
