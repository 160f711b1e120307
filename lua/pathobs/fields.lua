-- pathobs.fields: record field names per direction, built once when a chain loads.
--
-- Chains index the result with the `rev` argument, so the per-packet path does
-- no string building:
--   local FIN = fields.dir("tcp_fin")   -- { [false] = "tcp_fin_fwd", [true] = "tcp_fin_rev" }
--   rec[FIN[rev]] = true

-- The globals this module calls, bound once: a chain that assigns one by
-- mistake (type = ip.proto) must not break the runtime.
local error, type =
  error, type
local M = {}

-- { [false] = prefix .. "_fwd", [true] = prefix .. "_rev" }
function M.dir(prefix)
  if type(prefix) ~= "string" then
    error("pathobs.fields.dir: prefix must be a string, got " .. type(prefix), 2)
  end
  return { [false] = prefix .. "_fwd", [true] = prefix .. "_rev" }
end

-- Set both names of a dir() pair to value (for new_flow functions).
function M.init(rec, names, value)
  rec[names[false]] = value
  rec[names[true]] = value
end

return M
