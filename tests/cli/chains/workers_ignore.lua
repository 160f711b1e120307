-- workers_ignore - new_flow ignores the flows whose first packet has an odd source port
--
-- Fields: kept (true in every record written). Flows without ports (ICMP,
-- later fragments) are kept.
local pathobs = require("pathobs")

local extract_ports, null = pathobs.extract_ports, pathobs.null

return {
  new_flow = function(rec, ip)
    local sp = extract_ports(ip)
    if sp ~= null and sp % 2 == 1 then return false end
    rec.kept = true
  end,
}
