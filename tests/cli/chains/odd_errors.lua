-- odd_errors.lua - error objects that are not strings, and globals a chain clobbers by mistake.
return {
  new_flow = function(rec)
    rec.n, rec.big = 0, 1234567890123456789LL -- big: printed by the library's tostring, not the global
    type, pairs, tostring, pcall, xpcall, table = 1, 2, 3, 4, 5, 6 -- forgotten locals
  end,
  ip4 = function(rec)
    rec.n = rec.n + 1
    local k = rec.n % 4
    if k == 1 then
      error(setmetatable({}, { __metatable = 5 }))
    elseif k == 2 then
      error(setmetatable({}, { __tostring = function() error("no") end }))
    elseif k == 3 then
      error(setmetatable({}, { __tostring = function() return "fine text" end }))
    else
      error({})
    end
  end,
}
