-- udp - whether UDP datagrams carry a zero (absent) checksum in each direction
--
-- Fields (bool, or null until a datagram is seen in that direction):
--   udp_zero_checksum_fwd, udp_zero_checksum_rev  checksum field == 0 on the
--                                                 latest datagram in that direction
local pathobs = require("pathobs")
local fields = require("pathobs.fields")

local null = pathobs.null
local ZERO = fields.dir("udp_zero_checksum")

local function udp_flow(rec, ip)
  rec.udp_zero_checksum_fwd = null
  rec.udp_zero_checksum_rev = null
  return true
end

local function udp_checksum(rec, udp, rev)
  rec[ZERO[rev]] = udp.checksum == 0
  return true
end

return {
  new_flow = udp_flow,
  udp = udp_checksum,
  exports = { udp_flow = udp_flow, udp_checksum = udp_checksum },
}
