---@meta pathobs.fields
-- lua-language-server annotations for pathobs.fields (see ../pathobs.lua).

---Record field names per direction, built once when a chain loads, so that
---the per-packet code indexes a table with `rev` instead of building a string:
---
---    local FIN = fields.dir("tcp_fin")   -- {[false] = "tcp_fin_fwd", [true] = "tcp_fin_rev"}
---    rec[FIN[rev]] = true
---@class pathobs.fields
local fields = {}

---A direction pair: `[false]` is the forward name, `[true]` the reverse one.
---@alias PathobsDirNames table<boolean, string>

---`{[false] = prefix .. "_fwd", [true] = prefix .. "_rev"}`
---@param prefix string
---@return PathobsDirNames
function fields.dir(prefix) end

---Set both fields of a `dir` pair to `value` (for new_flow functions).
---@param rec PathobsRecord
---@param names PathobsDirNames
---@param value any
function fields.init(rec, names, value) end

return fields
