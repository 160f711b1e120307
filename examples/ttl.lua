-- ttl - smallest and largest TTL (IPv6: hop limit) seen in each direction
--
-- Fields (int, or null until a packet has been seen in that direction):
--   ttl_min_fwd, ttl_max_fwd   over the packets of the forward direction
--   ttl_min_rev, ttl_max_rev   over the packets of the reverse direction
-- A spread between min and max means the packets did not all travel the
-- same number of hops: a route change, a load balancer, a middlebox that
-- answers for the server, or an ICMP error from a router, which joins the
-- flow of the packet it quotes (in the reverse direction).
--
--   pathobs -c basic -c examples/ttl.lua examples/ttl.pcap
local pathobs = require("pathobs")
local fields = require("pathobs.fields")

local null = pathobs.null

-- Field names per direction, built once: MIN[rev] is "ttl_min_fwd" or
-- "ttl_min_rev", so the per-packet code never builds a string.
local MIN, MAX = fields.dir("ttl_min"), fields.dir("ttl_max")

---@param rec PathobsRecord
---@param ip PathobsIP
local function ttl_flow(rec, ip)
  fields.init(rec, MIN, null)
  fields.init(rec, MAX, null)
end

-- The same function serves ip4 and ip6: both header objects have ttl.
---@param rec PathobsRecord
---@param ip PathobsIP
---@param rev boolean
local function ttl_packet(rec, ip, rev)
  local ttl = ip.ttl
  local lo, hi = MIN[rev], MAX[rev]
  local min = rec[lo]
  if min == null or min == nil then -- nil: a flow opened before a --watch reload
    rec[lo], rec[hi] = ttl, ttl
  elseif ttl < min then
    rec[lo] = ttl
  elseif ttl > rec[hi] then
    rec[hi] = ttl
  end
end

---@type PathobsChain
local chain = {
  new_flow = ttl_flow,
  ip4 = ttl_packet,
  ip6 = ttl_packet,
  exports = { ttl_flow = ttl_flow, ttl_packet = ttl_packet },
}
return chain
