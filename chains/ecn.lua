-- ecn - ECN marks (ECT(0), ECT(1), CE) on SYNs and on other packets, per direction
--
-- Fields (all bool, false until seen):
--   ecn_ect0_syn_fwd, ecn_ect1_syn_fwd, ecn_ce_syn_fwd,
--   ecn_ect0_data_fwd, ecn_ect1_data_fwd, ecn_ce_data_fwd,
--   ecn_ect0_syn_rev, ecn_ect1_syn_rev, ecn_ce_syn_rev,
--   ecn_ect0_data_rev, ecn_ect1_data_rev, ecn_ce_data_rev
-- ecn_<mark>_<kind>_<dir> becomes true when an IPv4/IPv6 packet in <dir>
-- carries <mark> in the ECN bits of its traffic class (0b10 ect0, 0b01 ect1,
-- 0b11 ce). <kind> is syn for a TCP segment with SYN, data for any other packet.
local bit = require("bit")
local pathobs = require("pathobs")

local band = bit.band
local TCP_SYN = pathobs.TCP_SYN

-- Field name by index: ECN bits (1 ect1, 2 ect0, 3 ce) + 4 on SYN + 8 on reverse.
local NAME = {}
do
  local marks = { [1] = "ect1", [2] = "ect0", [3] = "ce" }
  for e = 1, 3 do
    for s = 0, 1 do
      for r = 0, 1 do
        NAME[e + 4 * s + 8 * r] = "ecn_" .. marks[e] .. (s == 1 and "_syn" or "_data")
          .. (r == 1 and "_rev" or "_fwd")
      end
    end
  end
end

local function ecn_flow(rec, ip)
  rec.ecn_ect0_syn_fwd = false
  rec.ecn_ect1_syn_fwd = false
  rec.ecn_ce_syn_fwd = false
  rec.ecn_ect0_data_fwd = false
  rec.ecn_ect1_data_fwd = false
  rec.ecn_ce_data_fwd = false
  rec.ecn_ect0_syn_rev = false
  rec.ecn_ect1_syn_rev = false
  rec.ecn_ce_syn_rev = false
  rec.ecn_ect0_data_rev = false
  rec.ecn_ect1_data_rev = false
  rec.ecn_ce_data_rev = false
  return true
end

-- ip4 and ip6: the same for both versions.
local function ecn_mark(rec, ip, rev)
  local i = band(ip.traffic_class, 3)
  if i == 0 then return true end
  local tcp = ip.tcp
  if tcp ~= nil and band(tcp.flags, TCP_SYN) ~= 0 then i = i + 4 end
  if rev then i = i + 8 end
  rec[NAME[i]] = true
  return true
end

return {
  new_flow = ecn_flow,
  ip4 = ecn_mark,
  ip6 = ecn_mark,
  exports = { ecn_flow = ecn_flow, ecn_mark = ecn_mark },
}
