-- workers_state - module-level state (one copy per worker with -j), records that hold per-flow data only
--
-- Module level: a count of the flows and packets this Lua state has seen,
-- and the number of flows seen so far per TCP/UDP 5-tuple (direction-free).
-- Fields: incarnation (how many flows of this 5-tuple, this one included,
-- the state has seen: the same with any number of workers only if every flow
-- of a 5-tuple goes to the same worker; null without ports), pkts and ttl_sum
-- (kept in scratch fields, written by flow_end), state_ok (the module-level
-- counters had counted this flow and its packets).
local pathobs = require("pathobs")

local extract_ports, null = pathobs.extract_ports, pathobs.null
local flows, packets = 0, 0      -- per Lua state, so per worker
local incarnations = {}          -- 5-tuple -> flows seen

local function count(rec, ip, rev)
  packets = packets + 1
  rec._pkts = rec._pkts + 1
  rec._ttl = rec._ttl + ip.ttl
  if packets - rec._packets_before < rec._pkts then rec._broken = true end
end

return {
  new_flow = function(rec, ip)
    flows = flows + 1
    rec._flow_no, rec._packets_before = flows, packets
    rec._pkts, rec._ttl = 0, 0
    local sp, dp = extract_ports(ip)
    if sp ~= null and (ip.proto == 6 or ip.proto == 17) then
      local a, b = ip.src_prefix .. "|" .. sp, ip.dst_prefix .. "|" .. dp
      if b < a then a, b = b, a end
      local key = ip.proto .. "|" .. a .. "|" .. b
      incarnations[key] = (incarnations[key] or 0) + 1
      rec.incarnation = incarnations[key]
    else
      rec.incarnation = null
    end
  end,
  ip4 = count,
  ip6 = count,
  flow_end = function(rec)
    rec.pkts, rec.ttl_sum = rec._pkts, rec._ttl
    rec.state_ok = not rec._broken and flows >= rec._flow_no
    rec._pkts, rec._ttl, rec._flow_no, rec._packets_before, rec._broken = nil, nil, nil, nil, nil
  end,
}
