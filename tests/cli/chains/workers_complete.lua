-- workers_complete - a TCP flow completes at its first FIN (either direction), so it is written early
--
-- Fields: tcp_pkts (TCP packets seen), fin_at (the TCP packet number of the
-- first FIN, or null), after_fin (TCP packets after it: they still reach the
-- completed flow until its record is written).
local bit = require("bit")
local pathobs = require("pathobs")

local band, null, TCP_FIN = bit.band, pathobs.null, pathobs.TCP_FIN

return {
  new_flow = function(rec, ip)
    rec.tcp_pkts, rec.fin_at, rec.after_fin = 0, null, 0
  end,
  tcp = function(rec, tcp, rev)
    rec.tcp_pkts = rec.tcp_pkts + 1
    if rec.fin_at ~= null then
      rec.after_fin = rec.after_fin + 1
    elseif band(tcp.flags, TCP_FIN) ~= 0 then
      rec.fin_at = rec.tcp_pkts
      return false
    end
  end,
}
