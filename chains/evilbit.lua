-- evilbit - the IPv4 reserved ("evil") bit on SYNs and on the first data packet
--
-- Fields (bool, or null until a packet of that kind is seen; IPv6 flows keep null):
--   evilbit_syn_fwd, evilbit_syn_rev    the bit on the latest TCP segment with SYN
--   evilbit_data_fwd, evilbit_data_rev  the bit on the first TCP segment with
--                                       payload or non-TCP packet
-- TCP segments without SYN and without payload are not looked at. Unlike
-- PATHspider, a second data packet does not end the flow.
local bit = require("bit")
local pathobs = require("pathobs")
local fields = require("pathobs.fields")

local band = bit.band
local null = pathobs.null
local TCP_SYN = pathobs.TCP_SYN
local SYN = fields.dir("evilbit_syn")
local DATA = fields.dir("evilbit_data")

local function evilbit_flow(rec, ip)
  rec.evilbit_syn_fwd = null
  rec.evilbit_syn_rev = null
  rec.evilbit_data_fwd = null
  rec.evilbit_data_rev = null
  return true
end

local function evilbit_mark(rec, ip, rev)
  local evil = ip.has_rf
  local tcp = ip.tcp
  if tcp ~= nil then
    if band(tcp.flags, TCP_SYN) ~= 0 then
      rec[SYN[rev]] = evil
      return true
    end
    if tcp.payload_len == 0 then return true end
  end
  local key = DATA[rev]
  if rec[key] == null then rec[key] = evil end
  return true
end

return {
  new_flow = evilbit_flow,
  ip4 = evilbit_mark,
  exports = { evilbit_flow = evilbit_flow, evilbit_mark = evilbit_mark },
}
