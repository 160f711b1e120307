-- test_record.lua - record.lua makes records and writes them, through the host as pathobs binds it.
-- Run by po_luarun with PO_LUARUN_OUT=FILE: records go to FILE; host_sync() waits for them.
local t = require("t")
local record = require("pathobs.record")
local null = require("pathobs.null")

local path = assert(os.getenv("PO_LUARUN_OUT"), "run with PO_LUARUN_OUT")
assert(host_sync, "po_luarun did not bind the host")

local seen = 0 -- lines of the output read so far
-- Write the records in order; returns the lines they gave.
local function write(...)
  local q = { ... }
  record.write_queue(q, #q)
  t.eq(#q, 0, "the queue is emptied")
  host_sync()
  local lines = {}
  local f = assert(io.open(path, "rb"))
  local n = 0
  for line in f:lines() do
    n = n + 1
    if n > seen then lines[#lines + 1] = line end
  end
  f:close()
  seen = n
  return lines
end

local function one(rec) return write(rec)[1] end

-- The bound host probes the table reader: on this LuaJIT (Debian's GC64 builds) it reads.
t.eq(record.table_walk, true, "tabwalk.c reads this LuaJIT's tables")

---------------------------------------------------------------- before a template

local first_new = record.new
local r = record.new()
r.pkt_first, r.pkt_last, r.s, r.t, r.f, r.z, r.x = 1.5, 2, "abc", true, false, null, 1e300
r._scratch = "never written"
t.eq(one(r), '{"f":false,"pkt_first":1.5,"pkt_last":2,"s":"abc","t":true,"x":1e+300,"z":null}',
  "a flat record before any template")
t.ok(record.new ~= first_new, "the largest flat record so far became the template")
t.eq(record.template_in_c(), true, "records with the template's layout are read from C")

-- the loop's copy of the way records are made follows every change
local watched
record.watch_new(function(f) watched = f end)
t.eq(watched, record.new, "watch_new gives the current function at once")

---------------------------------------------------------------- with the template

local function filled(i)
  local rec = record.new()
  rec.pkt_first, rec.pkt_last, rec.s, rec.t, rec.f, rec.z, rec.x = i, i + 0.25, "s" .. i, true, false, null, -i
  return rec
end
local lines = write(filled(1), filled(2), filled(3))
t.eq(#lines, 3, "three records from C")
t.eq(lines[2], '{"f":false,"pkt_first":2,"pkt_last":2.25,"s":"s2","t":true,"x":-2,"z":null}',
  "a record read from C has the Lua writer's text")
local gap = filled(4)
gap.s = nil -- a key unset: not the template's layout, written by Lua
local extra = filled(5)
extra.y = "more"
lines = write(filled(6), gap, extra, filled(7))
t.eq(lines[1], '{"f":false,"pkt_first":6,"pkt_last":6.25,"s":"s6","t":true,"x":-6,"z":null}', "C")
t.eq(lines[2], '{"f":false,"pkt_first":4,"pkt_last":4.25,"t":true,"x":-4,"z":null}',
  "a template record with a key unset")
t.eq(lines[3], '{"f":false,"pkt_first":5,"pkt_last":5.25,"s":"s5","t":true,"x":-5,"y":"more","z":null}',
  "a template record with a key added")
t.eq(lines[4], '{"f":false,"pkt_first":7,"pkt_last":7.25,"s":"s7","t":true,"x":-7,"z":null}',
  "C again after records Lua wrote")
-- the added key made the largest record: the next template has it
t.ok(record.new()["y"] == nil, "a new record is empty")
local with_y = filled(8)
with_y.y = "y"
t.eq(one(with_y), '{"f":false,"pkt_first":8,"pkt_last":8.25,"s":"s8","t":true,"x":-8,"y":"y","z":null}',
  "the new template's layout")
t.eq(record.template_in_c(), true, "read from C with the new template")

---------------------------------------------------------------- nested tables, other keys

local nested = record.new()
nested.pkt_first, nested.list, nested.obj = 1, { 1, 2, { a = "b" } }, { k = null, [1.5] = true }
nested._scratch = {}
t.eq(one(nested), '{"list":[1,2,{"a":"b"}],"obj":{"1.5":true,"k":null},"pkt_first":1}',
  "a nested record goes to the C serialiser")
t.eq(one({ [1] = "one", two = 2 }), '{"1":"one","two":2}', "a number key")

---------------------------------------------------------------- keys with odd bytes

t.eq(one({ ["caf\xe9"] = 1, ok = 2 }), '{"caf\xc3\xa9":1,"ok":2}', "a Latin-1 key is cleaned")
t.eq(one({ ["a\0b"] = 1 }), '{"a\xef\xbf\xbdb":1}', "a NUL in a key")
t.eq(one({ ["q\"b\\s\n"] = "v", ["\xd0\xba\xd0\xbb"] = 3 }),
  '{"q\\"b\\\\s\\n":"v","\xd0\xba\xd0\xbb":3}', "escapes and UTF-8 in flat keys")
t.eq(one({ ["caf\xe9"] = 1, ["caf\xc3\xa9"] = 2 }), '{"caf\xc3\xa9":2}',
  "a key and its cleaned twin: the real one wins")
-- the same odd key again: the trie remembers it needs the general way
t.eq(one({ ["caf\xe9"] = 5, ok = 6 }), '{"caf\xc3\xa9":5,"ok":6}', "again")

---------------------------------------------------------------- keys made of data

-- more keys than the trie holds (50,000 nodes): it is dropped on the way, and
-- records keep their keys (C copies), before and after
local q = {}
for i = 1, 60000 do q[i] = { ["key" .. i] = i, pkt_first = i } end
q[#q + 1] = filled(9)
local n = #q
record.write_queue(q, n)
host_sync()
local f = assert(io.open(path, "rb"))
local all = {}
for line in f:lines() do all[#all + 1] = line end
f:close()
t.eq(#all - seen, n, "every record written")
t.eq(all[seen + 1], '{"key1":1,"pkt_first":1}', "the first")
t.eq(all[seen + 50001], '{"key50001":50001,"pkt_first":50001}', "after the trie was dropped")
t.eq(all[seen + 60000], '{"key60000":60000,"pkt_first":60000}', "the last of them")
t.eq(all[seen + n], '{"f":false,"pkt_first":9,"pkt_last":9.25,"s":"s9","t":true,"x":-9,"z":null}',
  "a template record after them")
seen = #all

---------------------------------------------------------------- new chains

record.forget()
t.eq(record.template_in_c(), false, "new chains: no template")
t.eq(watched, record.new, "the watcher saw the change")
t.eq(one({ a = 1 }), '{"a":1}', "records after forget")

t.done()
