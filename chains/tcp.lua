-- tcp - SYN flags, handshake, FIN and RST per direction; completes the flow
--
-- Fields:
--   tcp_synflags_fwd, tcp_synflags_rev  int or null: the 12 flag bits (tcp.flags,
--                                       AE 0x100 included, as python-libtrace gave
--                                       them) of the latest segment with SYN in that
--                                       direction (450 for an AccECN SYN)
--   tcp_fin_fwd, tcp_fin_rev            bool: a FIN travelled in that direction
--   tcp_rst_fwd, tcp_rst_rev            bool: a RST travelled in that direction
--   tcp_connected                       bool: a forward ACK after a forward SYN
--                                       and a reverse SYN+ACK
-- The tcp function returns false (flow complete) once FIN has been seen in
-- both directions, or RST in either. Unlike PATHspider, FIN is recorded for
-- the direction it travelled (PATHspider swapped the two).
local bit = require("bit")
local pathobs = require("pathobs")

local band = bit.band
local null = pathobs.null
local TCP_FIN, TCP_SYN, TCP_RST, TCP_ACK = pathobs.TCP_FIN, pathobs.TCP_SYN, pathobs.TCP_RST, pathobs.TCP_ACK
local TCP_SA = pathobs.TCP_SA

local function tcp_flow(rec, ip)
  rec.tcp_synflags_fwd = null
  rec.tcp_synflags_rev = null
  rec.tcp_fin_fwd = false
  rec.tcp_fin_rev = false
  rec.tcp_rst_fwd = false
  rec.tcp_rst_rev = false
  rec.tcp_connected = false
  return true
end

local function tcp_segment(rec, tcp, rev)
  local flags = tcp.flags
  if band(flags, TCP_SYN) ~= 0 then
    if rev then rec.tcp_synflags_rev = flags else rec.tcp_synflags_fwd = flags end
  end
  if not rev and band(flags, TCP_ACK) ~= 0 and not rec.tcp_connected then
    local fwd, revf = rec.tcp_synflags_fwd, rec.tcp_synflags_rev
    if fwd ~= null and revf ~= null and band(fwd, TCP_SYN) ~= 0 and band(revf, TCP_SA) == TCP_SA then
      rec.tcp_connected = true
    end
  end
  if band(flags, TCP_FIN) ~= 0 then
    if rev then rec.tcp_fin_rev = true else rec.tcp_fin_fwd = true end
  end
  if band(flags, TCP_RST) ~= 0 then
    if rev then rec.tcp_rst_rev = true else rec.tcp_rst_fwd = true end
  end
  if rec.tcp_rst_fwd or rec.tcp_rst_rev or (rec.tcp_fin_fwd and rec.tcp_fin_rev) then
    return false
  end
  return true
end

return {
  new_flow = tcp_flow,
  tcp = tcp_segment,
  exports = { tcp_flow = tcp_flow, tcp_segment = tcp_segment },
}
