-- workers_id - writes require("pathobs").worker and .workers, as read when the chain loads and per flow
--
-- Fields: worker, workers (read in new_flow), worker_at_load, workers_at_load
-- (read when the script was loaded); null where the module has no such field.
local pathobs = require("pathobs")

local null = pathobs.null
local at_load, workers_at_load = pathobs.worker, pathobs.workers

return {
  new_flow = function(rec, ip)
    rec.worker = pathobs.worker or null
    rec.workers = pathobs.workers or null
    rec.worker_at_load = at_load or null
    rec.workers_at_load = workers_at_load or null
  end,
}
