-- t.lua - a tiny assertion library for the Lua tests: eq, ok, raises, done.
local M = { passed = 0, failed = 0 }

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

local function where()
  local info = debug.getinfo(3, "Sl")
  return info.short_src .. ":" .. info.currentline
end

function M.eq(got, want, what)
  if got == want then
    M.passed = M.passed + 1
  else
    M.failed = M.failed + 1
    io.stderr:write(where(), ": ", what or "value", " is ", show(got), ", expected ", show(want), "\n")
  end
end

function M.ok(cond, what)
  if cond then
    M.passed = M.passed + 1
  else
    M.failed = M.failed + 1
    io.stderr:write(where(), ": ", what or "condition", " is false\n")
  end
end

-- fn must raise an error whose message contains pattern (plain text).
function M.raises(fn, pattern, what)
  local ok, err = pcall(fn)
  if not ok and tostring(err):find(pattern, 1, true) then
    M.passed = M.passed + 1
  else
    M.failed = M.failed + 1
    io.stderr:write(where(), ": ", what or "call", " should raise '", pattern, "', got ",
      ok and "no error" or show(tostring(err)), "\n")
  end
end

function M.done()
  print(("%d passed, %d failed"):format(M.passed, M.failed))
  if M.failed > 0 then error("test failures", 0) end
end

return M
