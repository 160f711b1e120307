-- basic - addresses, protocol, ports, and packet and octet counts in each direction
--
-- The seed's simple observer: basic_flow (new_flow) and basic_count (ip4, ip6).
-- Fields: sip, dip (address strings), proto, sp, dp (ports of TCP, UDP, SCTP
-- and UDP-Lite, or null without ports), pkt_fwd, pkt_rev, oct_fwd, oct_rev
-- (octets counted as ip.size: the captured bytes from the IP header to the
-- end of the frame, padding included).
-- Other chains reuse the two functions as require("basic").exports.basic_flow.
local pathobs = require("pathobs")

local extract_ports = pathobs.extract_ports

local function basic_flow(rec, ip)
  rec.sip = ip.src_prefix
  rec.dip = ip.dst_prefix
  rec.proto = ip.proto
  rec.sp, rec.dp = extract_ports(ip)
  rec.pkt_fwd, rec.pkt_rev = 0, 0
  rec.oct_fwd, rec.oct_rev = 0, 0
end

local function basic_count(rec, ip, rev)
  if rev then
    rec.pkt_rev = rec.pkt_rev + 1
    rec.oct_rev = rec.oct_rev + ip.size
  else
    rec.pkt_fwd = rec.pkt_fwd + 1
    rec.oct_fwd = rec.oct_fwd + ip.size
  end
end

return {
  new_flow = basic_flow,
  ip4 = basic_count,
  ip6 = basic_count,
  exports = { basic_flow = basic_flow, basic_count = basic_count },
}
