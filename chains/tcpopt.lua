-- tcpopt - Timestamp, Window Scale and SACK-permitted options on the SYN+ACK
--
-- Fields (true, or null when not seen):
--   tcpopt_ts    a reverse-direction segment with SYN carried Timestamps (kind 8)
--   tcpopt_ws    ... carried Window Scale (kind 3)
--   tcpopt_sack  ... carried SACK-permitted (kind 4)
-- Only reverse-direction segments with SYN (the SYN+ACK) are looked at; an
-- option that is absent leaves its field as it was (null, as in PATHspider).
local bit = require("bit")
local pathobs = require("pathobs")
local tcpopt = require("pathobs.tcpopt")

local band = bit.band
local null = pathobs.null
local TCP_SYN = pathobs.TCP_SYN
local kinds = tcpopt.kinds
local TS, WS, SACKOK = tcpopt.bit(pathobs.TO_TS), tcpopt.bit(pathobs.TO_WS), tcpopt.bit(pathobs.TO_SACKOK)

local function tcpopt_flow(rec, ip)
  rec.tcpopt_ts = null
  rec.tcpopt_ws = null
  rec.tcpopt_sack = null
  return true
end

local function tcpopt_synack(rec, tcp, rev)
  if not rev or band(tcp.flags, TCP_SYN) == 0 then return true end
  local present = kinds(tcp)
  if band(present, TS) ~= 0 then rec.tcpopt_ts = true end
  if band(present, WS) ~= 0 then rec.tcpopt_ws = true end
  if band(present, SACKOK) ~= 0 then rec.tcpopt_sack = true end
  return true
end

return {
  new_flow = tcpopt_flow,
  tcp = tcpopt_synack,
  exports = { tcpopt_flow = tcpopt_flow, tcpopt_synack = tcpopt_synack },
}
