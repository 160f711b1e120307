-- mss - length and value of the TCP MSS option on the SYN in each direction
--
-- Fields (int, or null until a SYN with an MSS option is seen in that direction):
--   mss_len_fwd, mss_len_rev      option length: data length + 2 (4 when well formed)
--   mss_value_fwd, mss_value_rev  option data as a big-endian unsigned integer,
--                                 whatever its length (a 1-byte MSS gives a 1-byte value)
-- Set on every segment with SYN that carries MSS (kind 2); the latest such
-- segment wins. Within one segment the first MSS option counts.
local bit = require("bit")
local pathobs = require("pathobs")
local fields = require("pathobs.fields")
local tcpopt = require("pathobs.tcpopt")

local band = bit.band
local null = pathobs.null
local TCP_SYN, TO_MSS = pathobs.TCP_SYN, pathobs.TO_MSS
local find_uint = tcpopt.find_uint
local LEN = fields.dir("mss_len")
local VALUE = fields.dir("mss_value")

local function mss_flow(rec, ip)
  rec.mss_len_fwd = null
  rec.mss_len_rev = null
  rec.mss_value_fwd = null
  rec.mss_value_rev = null
  return true
end

local function mss_option(rec, tcp, rev)
  if band(tcp.flags, TCP_SYN) == 0 then return true end
  local dlen, value = find_uint(tcp, TO_MSS)
  if dlen ~= nil then
    rec[LEN[rev]] = dlen + 2
    rec[VALUE[rev]] = value
  end
  return true
end

return {
  new_flow = mss_flow,
  tcp = mss_option,
  exports = { mss_flow = mss_flow, mss_option = mss_option },
}
