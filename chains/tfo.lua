-- tfo - TCP Fast Open: cookie options on SYN and SYN+ACK, data on the SYN
--
-- Fields (int, 0 until set):
--   tfo_synkind  option kind of the cookie on the SYN: 34 (IANA), or 254/255
--                (experimental option with experiment id 0xF989)
--   tfo_synclen  cookie length on the SYN (0 for a cookie request)
--   tfo_seq      sequence number of that SYN
--   tfo_dlen     TCP payload length of that SYN (from the IP length)
--   tfo_ack      acknowledgement number of the SYN+ACK (once tfo_synkind is set)
--   tfo_ackkind  option kind of the cookie on the SYN+ACK
--   tfo_ackclen  cookie length on the SYN+ACK
-- Only segments with SYN are looked at. Unlike PATHspider, a kind 255 cookie
-- on the SYN+ACK is measured from the kind 255 option itself.
local bit = require("bit")
local pathobs = require("pathobs")
local tcpopt = require("pathobs.tcpopt")

local band = bit.band
local TCP_SYN, TCP_ACK = pathobs.TCP_SYN, pathobs.TCP_ACK
local tfo_cookie = tcpopt.tfo_cookie

local function tfo_flow(rec, ip)
  rec.tfo_synkind = 0
  rec.tfo_ackkind = 0
  rec.tfo_synclen = 0
  rec.tfo_ackclen = 0
  rec.tfo_seq = 0
  rec.tfo_dlen = 0
  rec.tfo_ack = 0
  return true
end

local function tfo_segment(rec, tcp, rev)
  local flags = tcp.flags
  if band(flags, TCP_SYN) == 0 then return true end
  if band(flags, TCP_ACK) == 0 then
    local kind, clen = tfo_cookie(tcp)
    if kind ~= nil then
      rec.tfo_synkind = kind
      rec.tfo_synclen = clen
      rec.tfo_seq = tcp.seq_nbr
      rec.tfo_dlen = tcp.payload_len
      rec.tfo_ack = 0
    end
  elseif rec.tfo_synkind ~= 0 then
    rec.tfo_ack = tcp.ack_nbr
    local kind, clen = tfo_cookie(tcp)
    if kind ~= nil then
      rec.tfo_ackkind = kind
      rec.tfo_ackclen = clen
    end
  end
  return true
end

return {
  new_flow = tfo_flow,
  tcp = tfo_segment,
  exports = { tfo_flow = tfo_flow, tfo_segment = tfo_segment },
}
