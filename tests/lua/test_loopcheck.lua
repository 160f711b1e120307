-- test_loopcheck.lua - the loop checks added to chain scripts: placed where loops start, nowhere else, lines unchanged.
local ffi = require("ffi")
local t = require("t")
local lc = require("pathobs.loopcheck")

local CHECK = " if __pathobs_loop.C.po_host_stopped() ~= 0 then __pathobs_loop.interrupted() end "
local HEAD = "local __pathobs_loop = __pathobs_loop; "

local function count(s)
  local n, i = 0, 1
  while true do
    local a, b = s:find(CHECK, i, true)
    if not a then return n end
    n, i = n + 1, b + 1
  end
end

-- What instrument() adds: HEAD, the checks, "--" before a first "#" line.
local function strip(s)
  s = s:sub(#HEAD + 1)
  local out, i = {}, 1
  while true do
    local a, b = s:find(CHECK, i, true)
    if not a then break end
    out[#out + 1] = s:sub(i, a - 1)
    i = b + 1
  end
  out[#out + 1] = s:sub(i)
  return table.concat(out)
end

local function lines(s) return select(2, s:gsub("\n", "")) end

-- Tricky inputs: how many checks each gets, and that it still loads and runs.
local cases = {
  { 'local s = "while x do end"', 0 },
  { "local s = 'for i = 1, 2 do' .. \"repeat\"", 0 },
  { 'local s = "\\"while true do" ', 0 },
  { 'local s = "\\\\" while false do end', 1 },
  { "local s = 'a\\'while 1 do'", 0 },
  { "local s = 'a\\\nwhile 1 do'", 0 },
  { "local s = [==[ for i=1,2 do ]] while 1 do ]==]", 0 },
  { "local s = [[\nwhile 1 do\n]] for i = 1, 2 do end", 1 },
  { "--[[ while true do end ]] local x = 1", 0 },
  { "--[==[ ]] while 1 do ]=] ]==] local x = 1", 0 },
  { "-- while 1 do\nlocal x = 1", 0 },
  { "--[ while 1 do\nlocal x = 1", 0 },
  { "---[[ while 1 do\nlocal x = 1", 0 },
  { "do local x = 1 end", 0 },
  { "do do end end for i = 1, 2 do do end end", 1 },
  { "while (function() do end return false end)() do end", 1 },
  { "for i = 1, (function() for j = 1, 2 do end return 2 end)() do end", 2 },
  { "repeat local y = 1 until y", 1 },
  { "local t = { ['do'] = 1, done = 2, fordo = 3, repeated = 4, whiled = 5 }", 0 },
  { "local x = 0x1d do end", 0 },
  { "local x = 1e-5 for i = 1, 1 do end", 1 },
  { "local x = 1.5e+3 while false do end", 1 },
  { "local a, b, c, d, t = false, false, false, false, {}\n"
    .. "if a then for k in pairs(t) do end elseif b then while c do end else repeat until not d end", 3 },
  { "local k = 0\n::top:: k = k + 1\nif k < 3 then goto top end", 1 },
  { "local f = function() return end while false do end", 1 },
  { "for k, v in next, {} do end", 1 },
  { "#!/usr/bin/env pathobs\nwhile false do end", 1 },
  { "local x = {} x.y = 1 while x.y > 1 do end", 1 },
  -- a loop right after a label, with no space
  { "::top::while false do end", 1 },
  { "::a::repeat until true", 1 },
  -- \z and a backslash before a two-character line break inside a string
  { 'local s = "a\\z\n  " .. "while" .. " x do"', 0 },
  { 'local s = "a\\\r\n" .. "for x do"', 0 },
}
for _, c in ipairs(cases) do
  local src, want = c[1], c[2]
  local out = lc.instrument(src)
  t.eq(count(out), want, "checks in " .. src)
  t.eq(lines(out), lines(src), "lines of " .. src)
  local fn, err = load(out, "=case")
  t.ok(fn ~= nil, "loads: " .. src .. " (" .. tostring(err) .. ")")
  if fn then t.ok(pcall(fn), "runs: " .. src) end
end

-- Every chain and module of the project: the added text is all that changes,
-- lines stay the same, and the instrumented text loads when the original does
-- (with the same message when it does not: a syntax error at the same line).
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local root = here .. "/../.."
local folders = { "chains", "examples", "tests/cli/chains", "tests/golden/chains", "lua/pathobs", "tests/lua" }
local files = 0
for _, folder in ipairs(folders) do
  local p = io.popen("ls " .. root .. "/" .. folder .. "/*.lua 2>/dev/null")
  for path in p:lines() do
    local f = assert(io.open(path, "rb"))
    local src = f:read("*a")
    f:close()
    if src:find(CHECK, 1, true) then goto next end -- this file: it spells the check out
    files = files + 1
    local out = lc.instrument(src)
    local back = strip(out)
    if src:byte(1) == 35 then back = back:sub(3) end
    t.eq(back, src, path .. ": only the checks added")
    t.eq(lines(out), lines(src), path .. ": lines")
    local f1, e1 = load(src, "@" .. path)
    local f2, e2 = load(out, "@" .. path)
    t.eq(f2 ~= nil, f1 ~= nil, path .. ": loads as before")
    t.eq(e2, e1, path .. ": load message")
    ::next::
  end
  p:close()
end
t.ok(files > 40, "files checked: " .. files)

-- Loops run as written, and errors keep their line.
local fn = assert(lc.loadfile(here .. "/t.lua"))
t.eq(type(fn), "function", "loadfile")
local src = "local s = 0\nfor i = 1, 10 do\n  s = s + i\nend\n"
  .. "local k = 0\nwhile k < 5 do k = k + 1 end\nrepeat k = k - 1 until k == 0\n"
  .. "::l:: k = k + 1 if k < 4 then goto l end\nif s > 0 then error('line 9') end\n"
local ok, err = pcall(assert(load(lc.instrument(src), "=x")))
t.eq(err, "x:9: line 9", "error line")

-- Once the flag is set (the first SIGINT/SIGTERM), a loop raises at its next
-- turn, with the loop's own file:line; code without loops runs on.
local spin = assert(load(lc.instrument("local n = 0\nreturn function()\n  while true do\n    n = n + 1\n  end\nend\n"), "@spin.lua"))()
local plain = assert(load(lc.instrument("return function(x) return x + 1 end"), "@plain.lua"))()
ffi.cdef [[ void po_host_interrupt(void); ]]
ffi.C.po_host_interrupt()
ok, err = pcall(spin)
t.eq(ok, false, "an endless loop stops")
t.eq(err, "spin.lua:3: interrupted (SIGINT/SIGTERM: pathobs is stopping)", "its message")
t.eq(plain(1), 2, "code without loops runs on")
-- A byte order mark stays first (the loader skips it only there).
t.eq(load(lc.instrument("\239\187\191return 1"))(), 1, "a script with a BOM")
-- A script at Lua's limits (60 upvalues in a function with a loop) runs as written.
do
  local src = {}
  for i = 1, 60 do src[#src + 1] = ("local u%d = %d"):format(i, i) end
  local sum = {}
  for i = 1, 60 do sum[#sum + 1] = "u" .. i end
  src[#src + 1] = "return function() local s = 0 for i = 1, 1 do s = " .. table.concat(sum, "+") .. " end return s end"
  local path = os.tmpname()
  local f = assert(io.open(path, "w")); f:write(table.concat(src, "\n")); f:close()
  local fn, err = lc.loadfile(path)
  os.remove(path)
  t.eq(err, nil, "60 upvalues: loads")
  t.eq(fn and fn()(), 1830, "60 upvalues: runs")
end
for _, loop in ipairs({ "for i = 1, 2 do end", "repeat until true", "::a:: goto b ::b::" }) do
  ok, err = pcall(assert(load(lc.instrument(loop), "@l.lua")))
  t.eq(err, "l.lua:1: interrupted (SIGINT/SIGTERM: pathobs is stopping)", loop)
end

t.done()
