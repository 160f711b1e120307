-- icmp - whether an ICMP destination unreachable came back; completes the flow
--
-- Fields:
--   icmp_unreachable  bool: a reverse-direction ICMPv4 type 3 or ICMPv6 type 1
--                     joined the flow (an error joins the flow it quotes)
-- The icmp4 and icmp6 functions return false (flow complete) once
-- icmp_unreachable is true.
local pathobs = require("pathobs")

local ICMP4_UNREACHABLE = pathobs.ICMP4_UNREACHABLE
local ICMP6_UNREACHABLE = pathobs.ICMP6_UNREACHABLE

local function icmp_flow(rec, ip)
  rec.icmp_unreachable = false
  return true
end

local function icmp4_unreachable(rec, ip, q, rev)
  if rev then
    local icmp = ip.icmp
    if icmp ~= nil and icmp.type == ICMP4_UNREACHABLE then rec.icmp_unreachable = true end
  end
  return not rec.icmp_unreachable
end

local function icmp6_unreachable(rec, ip6, q, rev)
  if rev then
    local icmp = ip6.icmp
    if icmp ~= nil and icmp.type == ICMP6_UNREACHABLE then rec.icmp_unreachable = true end
  end
  return not rec.icmp_unreachable
end

return {
  new_flow = icmp_flow,
  icmp4 = icmp4_unreachable,
  icmp6 = icmp6_unreachable,
  exports = {
    icmp_flow = icmp_flow,
    icmp4_unreachable = icmp4_unreachable,
    icmp6_unreachable = icmp6_unreachable,
  },
}
