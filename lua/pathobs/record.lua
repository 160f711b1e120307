-- pathobs.record: makes flow records and hands finished ones to the C writer.
-- Internal to pathobs: dispatch.lua makes each new record with the function
-- record.watch_new gives it, fills it through the chains, and hands finished
-- records to record.write_queue.
--
-- One record's way through this file, top to bottom:
--   1. made: new_record(): an empty table of the right size, or a copy of the
--      template of the largest record so far ("Making records");
--   2. (filled by the chains in dispatch.lua);
--   3. queued, then written by write_queue(), the last section: a run of records
--      with the template's layout is read from C (tabwalk.c, tab.write);
--      any other record goes through write():
--   4. write() walks it with pairs() into KEYS/VALS and follows its keys, in
--      that order, down the trie to a leaf that holds their sorted order and
--      their C copies ("Sorted keys");
--   5. po_json_flat() gives an array of po_fval in the writer's page; the
--      values are stored there in sorted key order, and po_json_flat_done()
--      hands the record to the writer thread (the C hand-off);
--   6. a record that is not flat (a nested table, a key that is not a plain
--      string) goes to write_slow, json.c's general serialiser, instead.
-- Everything the writer thread reads is C memory: values are copied by
-- po_json_flat_done, keys are po_json_key's copies, kept until the end.

local error, load, math, pairs, table, type = error, load, math, pairs, table, type
local byte = string.byte
local ffi = require("ffi")
local core = require("pathobs.core")
local null = require("pathobs.null")
local tnew = require("table.new")

local C = ffi.C
local FV_NULL, FV_NUMBER, FV_STRING = core.FV_NULL, core.FV_NUMBER, core.FV_STRING
local FV_FALSE, FV_TRUE = core.FV_FALSE, core.FV_TRUE

local M = {}
M.diag = {} -- messages for the C host (dispatch.diag is this list)

------------------------------------------------------------------ setup

-- What the C host gives (see dispatch.setup, which passes its table on).
local J = nil  -- po_json *
local write_slow = nil   -- C function: writes one record the general way, returns its key count
local TAB = nil          -- the C functions of tabwalk.c (probe, template, write)
local WALK = false       -- tabwalk.c reads this LuaJIT's tables (its probe passed)

------------------------------------------------------------------ making records

-- most: the most keys a written record had so far (0 before the first).
-- hint: hash slots of a new record without a template, max(16, most), so
-- that records are made at their size, not grown.
local hint, most = 16, 0

-- How a new record is made.  At first an empty table of hint slots.  Once a
-- flat record with the most keys so far is written, a generated function
-- copies a constant table of those keys (one TDUP: the nodes at once) and
-- sets each to nil: the record is empty, and the chains' first stores find
-- their keys instead of inserting them (lj_tab_newkey, a C call each).
-- Keys that stay nil are invisible (pairs(), next() and the writers skip them).
-- Records whose key count keeps growing (keys made of data) stop the templates
-- after a few: each costs a load().  Larger records get no template: the copy
-- and the stores of one of more than about 150 keys make a trace too long for
-- LuaJIT, and the loop would make every new record in the interpreter.
local MAX_TEMPLATE, MAX_TEMPLATES = 96, 16
local function sized() return tnew(0, hint) end
local new_record, template_keys, templates = sized, 0, 0

-- The one who makes records (dispatch.lua's loop) keeps new_record in a local
-- of its own, for speed: it is told each time new_record changes.
local on_new = nil
local function set_new(f)
  new_record = f
  M.new = f
  if on_new ~= nil then on_new(f) end
end
M.new = new_record

-- fn(new_record) now and whenever the way records are made changes.
function M.watch_new(fn)
  on_new = fn
  fn(new_record)
end

-- A record made from the template with every key set (the usual case: chains
-- give each of their fields a value, null included, when the flow starts)
-- has the template's hash layout: each key in the same node.  Such records
-- are written by tabwalk.c, which reads their values from the table's memory
-- in one pass over its nodes (TAB.write); the others go through write().
local TWRITE = nil -- TAB.write while a template is set in C, else nil

local function no_template(keys)
  template_keys, TWRITE = keys, nil
  set_new(sized)
  if TAB then TAB.template(nil) end
end

-- leaf: the template's leaf (see "Sorted keys"): its n keys, sorted, and
-- their C copies, which tabwalk.c names the values it reads by.
local function use_template(leaf, n)
  templates = templates + 1
  if templates > MAX_TEMPLATES then
    no_template(math.huge)
    return
  end
  local keys = leaf.keys
  local src = { "return function()\n  local t = {" }
  for i = 1, n do src[#src + 1] = ("[%q]=false,"):format(keys[i]) end
  src[#src + 1] = "}\n"
  for i = 1, n do src[#src + 1] = ("  t[%q] = nil\n"):format(keys[i]) end
  src[#src + 1] = "  return t\nend\n"
  local make = load(table.concat(src), "=pathobs.record.template")
  if not make then return end
  template_keys, TWRITE = n, nil
  set_new(make())
  if WALK then
    local sample = new_record()
    for i = 1, n do sample[keys[i]] = true end
    if TAB.template(sample, leaf.ckeys, n) then TWRITE = TAB.write end
  end
end

-- New chains: their records have other keys; learn the template again.
function M.forget()
  no_template(0)
  templates, most = 0, 0
end

-- For tests: whether records with the template's layout are now read from C.
function M.template_in_c() return TWRITE ~= nil end

------------------------------------------------------------------ sorted keys

-- A record of string keys and scalar values (the usual kind) is walked here,
-- in compiled code, and its values stored in sorted key order into an array
-- of po_fval in the writer's page (plain FFI stores, no call per value); the
-- writer thread makes the cJSON tree from it and prints it (json.c).  Anything
-- else goes to the C serialiser (write_slow), which gives the same text for
-- what both can write.
--
-- The sorted order is worked out once per order in which pairs() returns a
-- set of keys: those orders form a trie of key strings whose nodes end in
-- a leaf {idx = positions sorted by key, keys = keys sorted, ckeys = their C
-- copies (po_json_keys: an array of po_json_key's copies)}.  Records of a set
-- of chains share a few such paths.  The trie is dropped when it grows past
-- MAX_NODES (records whose keys are made of data would grow it forever); the
-- C copies stay with the po_json (bounded there: past its bound po_json_key
-- says no, and such records go to write_slow), so records still on their way
-- to the writer thread keep their keys, and nothing waits for that thread.
local LEAF = true          -- the key of a trie node's leaf (record keys are strings)
local MAX_NODES = 50000
local trie, nodes = {}, 0
local KEYS, VALS = {}, {}  -- one record's keys and values, in pairs() order
local CK, NCK = ffi.new("const char *[?]", 256), 256 -- a new leaf's C keys, before po_json_keys

local function key_less(a, b) return KEYS[a] < KEYS[b] end

-- The leaf of a new path: false when a key needs cleaning (not UTF-8, NUL),
-- or the po_json holds as many keys as it may.
local function make_leaf(node, n)
  local idx, keys = {}, {}
  for i = 1, n do idx[i] = i end
  table.sort(idx, key_less)
  if n > NCK then CK, NCK = ffi.new("const char *[?]", n), n end
  local leaf = false
  for i = 1, n do
    local k = KEYS[idx[i]]
    keys[i] = k
    CK[i - 1] = C.po_json_key(J, k, #k)
    if CK[i - 1] == nil then n = 0; break end
  end
  local ckeys = n > 0 and C.po_json_keys(J, CK, n) or nil
  if ckeys ~= nil then leaf = { idx = idx, keys = keys, ckeys = ckeys } end
  node[LEAF] = leaf
  return leaf
end

------------------------------------------------------------------ writing

-- Fields whose key starts with "_" are the chains' scratch state: never written.
local function strip_scratch(rec)
  for k in pairs(rec) do
    if type(k) == "string" and byte(k, 1) == 95 then rec[k] = nil end
  end
end

-- The general way, for a record that is not flat; learns its size.
local function write_general(rec, n)
  for i = 1, n do VALS[i] = nil end
  strip_scratch(rec)
  local keys = write_slow(rec) -- the C serialiser says how many keys it wrote
  if keys > most and keys <= 4096 then
    most = keys
    if keys > hint then hint = keys end
    if most > template_keys then no_template(0) end
  end
end

local function write(rec)
  local n, node, plain = 0, trie, true
  for k, v in pairs(rec) do
    if type(k) ~= "string" then plain = false; break end
    if byte(k, 1) ~= 95 then -- "_...": scratch state, not written
      local t = type(v)
      if t ~= "number" and t ~= "string" and t ~= "boolean" and not (t == "userdata" and v == null) then
        plain = false
        break
      end
      n = n + 1
      KEYS[n], VALS[n] = k, v
      local nx = node[k]
      if nx == nil then
        if nodes >= MAX_NODES then
          trie, nodes = {}, 0 -- the leaves' C keys stay with the po_json
          plain = false
          break
        end
        nx = {}
        node[k] = nx
        nodes = nodes + 1
      end
      node = nx
    end
  end
  local leaf = plain and n > 0 and node[LEAF]
  if leaf == nil then leaf = make_leaf(node, n) end
  if not leaf then return write_general(rec, n) end
  if n > hint then hint = n end
  if n > most then most = n end
  if n > template_keys and n >= most then
    if n <= MAX_TEMPLATE then use_template(leaf, n) else no_template(0) end
  end
  -- the C hand-off: values in sorted key order into the writer's page
  local f = C.po_json_flat(J, leaf.ckeys, n)
  if f == nil then
    for i = 1, n do VALS[i] = nil end
    M.diag[#M.diag + 1] = "out of memory while serialising a record"
    return
  end
  local idx = leaf.idx
  for i = 1, n do
    local v, e = VALS[idx[i]], f[i - 1]
    local t = type(v)
    if t == "number" then
      e.kind = FV_NUMBER
      e.num = v
    elseif t == "string" then
      e.kind = FV_STRING
      e.str = v -- the string's bytes: po_json_flat_done copies them
      e.len = #v
    elseif t == "boolean" then
      e.kind = v and FV_TRUE or FV_FALSE
    else
      e.kind = FV_NULL
    end
  end
  local bad = C.po_json_flat_done(J, f)
  for i = 1, n do VALS[i] = nil end -- keep no record's strings alive
  if bad ~= 0 then
    M.diag[#M.diag + 1] = "out of memory while serialising a record"
  end
end

-- Write q[1..n] in order and empty q: runs of records with the template's
-- layout from C, each other record through write().
function M.write_queue(q, n)
  local r = 1
  while r <= n do
    if TWRITE ~= nil then r = TWRITE(q, r, n) end
    if r <= n then
      write(q[r])
      r = r + 1
    end
  end
  for i = 1, n do q[i] = nil end
end

-- host: the table dispatch.setup was given (its json, out, write_slow and tab).
function M.setup(host)
  J = ffi.cast("po_json *", host.json)
  write_slow = host.write_slow or error("record.setup: no write_slow")
  TAB = host.tab
  WALK = TAB ~= nil and TAB.probe({ n = 1.5, s = "xy", f = false, t = true, z = null }) or false
  M.table_walk = WALK -- for tests: whether tabwalk.c reads this LuaJIT's tables
  trie, nodes = {}, 0 -- leaves hold the C keys of the po_json they came from
  M.forget() -- learn the template again, now that C may read it
end

return M
