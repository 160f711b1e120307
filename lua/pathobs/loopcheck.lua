-- pathobs.loopcheck: makes the loops of chain scripts interruptible (Ctrl-C stops `while true do end`).
-- Internal to pathobs: the host loads chain scripts and their modules through load().
--
-- LuaJIT does not run debug hooks inside compiled traces, so a hook cannot
-- stop an endless loop that was compiled.  Instead each loop of a chain
-- script gets, on the line it starts, a check of a flag that the C side sets
-- when the first SIGINT/SIGTERM comes:
--
--   while x do     ->  while x do if PO.stop ~= 0 then PO:interrupted() end
--   for ... do     ->  for ... do if PO.stop ~= 0 then PO:interrupted() end
--   repeat         ->  repeat if PO.stop ~= 0 then PO:interrupted() end
--   goto top       ->  if PO.stop ~= 0 then PO:interrupted() end goto top
--
-- The flag is read by a call to C through the FFI: LuaJIT hoists a load of
-- memory that the loop does not store to out of a compiled loop, volatile or
-- not (LuaJIT 2.1 beta3 does), but keeps a call to C in it (about 3 ns per
-- iteration).  Once the flag is set the check raises "interrupted", a chain
-- error with the loop's file:line.  The flag is also set, for the rest of a
-- batch, when that batch runs past --chain-timeout (lua_host.c).
-- Nothing is added to a line break, so every line number stays the same.

local ffi = require("ffi")
local byte, find, sub = string.byte, string.find, string.sub
local concat, error, load, package, select, tostring = table.concat, error, load, package, select, tostring

ffi.cdef [[ int po_host_stopped(void); ]]

local M = {}

-- What the checks reach through their one upvalue.
local C = ffi.C
local LOOP = {
  C = C,
  interrupted = function()
    if C.po_host_stopped() % 2 == 1 then -- PO_STOP_SIGNAL
      error("interrupted (SIGINT/SIGTERM: pathobs is stopping)", 2)
    end
    error("interrupted: this batch's chains ran past --chain-timeout", 2)
  end,
}
_G.__pathobs_loop = LOOP

local NAME = "__pathobs_loop"
local CHECK = " if " .. NAME .. ".C.po_host_stopped() ~= 0 then " .. NAME .. ".interrupted() end "
local HEAD = "local " .. NAME .. " = " .. NAME .. "; " -- a global the runtime sets: `...` stays the chunk's

local KW = { ["while"] = true, ["for"] = true, ["do"] = true, ["repeat"] = true,
  ["until"] = true, ["function"] = true, ["if"] = true, ["end"] = true, ["goto"] = true }

-- The level of a long bracket opening at i ("[", "=" * level, "["), or nil.
local function long_open(s, i)
  local j = i + 1
  while byte(s, j) == 61 do j = j + 1 end -- '='
  if byte(s, j) == 91 then return j - i - 1, j end -- '['
  return nil
end

-- Where the long bracket of this level that starts past i closes (its last
-- character), or #s when it never does (the loader then reports the error).
local function long_close(s, i, level)
  local close = "]" .. ("="):rep(level) .. "]"
  local _, e = find(s, close, i, true)
  return e or #s
end

-- Instrument the text of a chunk.  Returns the new text; raises nothing (text
-- that is not valid Lua comes out as it went in, apart from the checks, and
-- the loader reports its error at the same line).
function M.instrument(s)
  local out, n = {}, 0
  local last = 1      -- s[last..] not copied to out yet
  local stack, top = {}, 0 -- open blocks: "head" (while/for before its do), "loop", "do", "function", "if", "repeat"
  -- a UTF-8 byte order mark, which the loader skips only as the very first bytes
  if sub(s, 1, 3) == "\239\187\191" then s = sub(s, 4) end
  local i, len = 1, #s
  -- a first line "#..." is skipped by the loader: keep it a comment
  if byte(s, 1) == 35 then
    local e = find(s, "\n", 1, true) or len + 1
    n = n + 1; out[n] = "--" .. sub(s, 1, e - 1)
    last, i = e, e
  end
  local function emit(upto, text) -- copy s[last..upto], then text
    n = n + 1; out[n] = sub(s, last, upto)
    n = n + 1; out[n] = text
    last = upto + 1
  end
  local function prepend(at, text) -- text before s[at]
    n = n + 1; out[n] = sub(s, last, at - 1)
    n = n + 1; out[n] = text
    last = at
  end
  while i <= len do
    local c = byte(s, i)
    if c == 45 and byte(s, i + 1) == 45 then -- "--": a comment
      local level = byte(s, i + 2) == 91 and long_open(s, i + 2)
      if level then
        i = long_close(s, i + 2, level) + 1
      else
        i = (find(s, "\n", i, true) or len) + 1
      end
    elseif c == 91 then -- "[": a long string, or an index
      local level, j = long_open(s, i)
      if level then i = long_close(s, j + 1, level) + 1 else i = i + 1 end
    elseif c == 34 or c == 39 then -- a quoted string
      local j = i + 1
      while j <= len do
        local d = byte(s, j)
        if d == 92 then                    -- a backslash escapes the next character, but
          local e = byte(s, j + 1)
          if e == 122 then                 -- \z skips the white space that follows, line breaks too
            j = select(2, find(s, "^%s*", j + 2)) + 1
          elseif (e == 10 or e == 13) and byte(s, j + 2) == 23 - e then
            j = j + 3                      -- a line break of two characters (\r\n, \n\r)
          else
            j = j + 2
          end
        elseif d == c then break
        elseif d == 10 then break          -- unfinished: the loader says so
        else j = j + 1 end
      end
      i = j + 1
    elseif (c >= 48 and c <= 57) or (c == 46 and (byte(s, i + 1) or 0) >= 48 and (byte(s, i + 1) or 0) <= 57) then
      -- a number: LuaJIT's lexer takes digits, letters, '_' and '.', and a sign after an exponent
      local j = i + 1
      while j <= len do
        local d = byte(s, j)
        if (d == 43 or d == 45) then
          local p = byte(s, j - 1)
          if p == 101 or p == 69 or p == 112 or p == 80 then j = j + 1 else break end
        elseif (d >= 48 and d <= 57) or (d >= 65 and d <= 90) or (d >= 97 and d <= 122) or d == 95 or d == 46 then
          j = j + 1
        else
          break
        end
      end
      i = j
    elseif (c >= 65 and c <= 90) or (c >= 97 and c <= 122) or c == 95 or c >= 128 then
      local _, e = find(s, "^[%w_\128-\255]*", i + 1)
      local word = sub(s, i, e)
      if KW[word] then -- (a keyword is never a field name: t.end does not parse)
        if word == "while" or word == "for" then
          top = top + 1; stack[top] = "head"
        elseif word == "do" then
          if stack[top] == "head" then
            stack[top] = "loop"
            emit(e, CHECK)
          else
            top = top + 1; stack[top] = "do"
          end
        elseif word == "repeat" then
          top = top + 1; stack[top] = "repeat"
          emit(e, CHECK)
        elseif word == "function" or word == "if" then
          top = top + 1; stack[top] = word
        elseif word == "end" or word == "until" then
          if top > 0 then stack[top] = nil; top = top - 1 end
        elseif word == "goto" then
          prepend(i, CHECK)
        end
      end
      i = e + 1
    else
      i = i + 1
    end
  end
  if n == 0 then return HEAD .. s end
  n = n + 1; out[n] = sub(s, last)
  return HEAD .. concat(out)
end

-- Load a file as loadfile() would, its loops instrumented.  Returns the
-- function, or nil and the message.
function M.loadfile(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, "cannot open " .. path .. ": " .. tostring(err):gsub("^[^:]*: ", "") end
  local s = f:read("*a")
  f:close()
  if s == nil then return nil, "cannot read " .. path end
  if byte(s, 1) == 27 then -- bytecode: nothing to instrument (and load() checks it)
    return load(s, "@" .. path)
  end
  local fn, err = load(M.instrument(s), "@" .. path)
  if fn == nil then
    -- The check's local and upvalue can push a script that is at Lua's limits
    -- (200 locals, 60 upvalues) over them: such a script runs as written,
    -- without the checks, rather than not at all.
    local plain = load(sub(s, 1, 3) == "\239\187\191" and sub(s, 4) or s, "@" .. path)
    if plain ~= nil then return plain end
  end
  return fn, err
end

-- A package.loaders searcher, before Lua's own: the modules chains require
-- from their folders get their loops checked too; the runtime's own
-- (pathobs, pathobs.*) and LuaJIT's (jit.*) are left to Lua's searcher.
function M.searcher(name)
  if name == "pathobs" or find(name, "^pathobs%.") or find(name, "^jit%.") then return nil end
  local path = package.searchpath(name, package.path)
  if not path then return nil end -- Lua's searcher lists the files it tried
  local fn, err = M.loadfile(path)
  if not fn then
    error(("error loading module '%s' from file '%s':\n\t%s"):format(name, path, err), 0)
  end
  return fn
end

return M
