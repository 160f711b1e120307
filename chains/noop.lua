-- noop - does nothing: the template to copy when writing a new chain
--
-- Fields: none.
-- Copy this file, keep the functions you need, delete the others, and fill
-- the table returned at the end. Rules for the per-packet functions (all but
-- new_flow): header objects are valid only during the call, so copy values
-- into rec and never keep the object; create no tables, closures or strings
-- per packet (build per-direction field names once, e.g. with
-- require("pathobs.fields").dir("x")); read tcp.flags once and test bits with
-- bit.band. Return false to say "this flow is complete" (from new_flow: "ignore
-- this flow"); anything else carries on. Use require("pathobs").null for
-- JSON null.

-- First packet of a flow, before any other chain: set every field this
-- chain owns to its initial value. ip is an IPv4 or IPv6 header object.
local function noop_flow(rec, ip)
  return true
end

-- Every IPv4 packet of the flow (including the first). rev is true for the
-- reverse direction (towards the flow's first sender).
local function noop_ip4(rec, ip, rev)
  return true
end

-- Every IPv6 packet of the flow.
local function noop_ip6(rec, ip6, rev)
  return true
end

-- Every ICMPv4 packet: ip is the outer header, q the quoted IP header of an
-- error message (or nil). An error joins the flow of the packet it quotes.
local function noop_icmp4(rec, ip, q, rev)
  return true
end

-- Every ICMPv6 packet, likewise.
local function noop_icmp6(rec, ip6, q, rev)
  return true
end

-- Every packet with a complete TCP header: tcp is the TCP header object.
local function noop_tcp(rec, tcp, rev)
  return true
end

-- Every packet with a complete UDP header: udp is the UDP header object.
local function noop_udp(rec, udp, rev)
  return true
end

-- Every packet whose transport is neither TCP nor UDP (ICMP included).
local function noop_l4(rec, ip, rev)
  return true
end

return {
  new_flow = noop_flow,
  ip4 = noop_ip4,
  ip6 = noop_ip6,
  icmp4 = noop_icmp4,
  icmp6 = noop_icmp6,
  tcp = noop_tcp,
  udp = noop_udp,
  l4 = noop_l4,
  -- functions other scripts may reuse, as require("noop").exports.noop_tcp
  exports = {
    noop_flow = noop_flow, noop_ip4 = noop_ip4, noop_ip6 = noop_ip6,
    noop_icmp4 = noop_icmp4, noop_icmp6 = noop_icmp6, noop_tcp = noop_tcp,
    noop_udp = noop_udp, noop_l4 = noop_l4,
  },
}
