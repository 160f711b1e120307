-- record_floor.lua - what the record API alone costs: Lua tables filled per packet and walked once.
--
-- Run with pathobs's own LuaJIT (tests/bench/bench.sh --floor does this):
--   build/tests/po_luarun tests/bench/record_floor.lua
--
-- A model of the bench's mix with no capture, no flow table, no headers and no
-- JSON: 100k records of 9 packets each, interleaved so that LIVE of them are
-- open at a time.  A record is made with its keys in place (as pathobs makes
-- them: a copy of a template, keys set to nil), gets its fields when its flow
-- starts (two of them address strings, taken from a list made beforehand:
-- making them is left out), has some fields updated by every
-- packet (constant keys, as chains write them), and is walked once with
-- pairs() when it ends: the least any writer must do.
-- "basic" has the basic chain's 11 fields and 3 updates per packet; "eight"
-- has the 48 fields of the eight chains' records and 8 updates per packet.
-- pathobs cannot be faster than this while chains fill Lua tables (spec:
-- observer.md section 5), so the figures bound what the targets leave for
-- reading, flow tracking, chains and JSON.
local RECORDS, PACKETS, RUNS = 100000, 9, 3

-- The mix's addresses (20,000 clients, 3,000 servers), made beforehand: the
-- model leaves out what making address strings costs.
local CLIENTS, SERVERS = {}, {}
for i = 1, 20000 do CLIENTS[i] = ("10.0.%d.%d"):format(math.floor(i / 256), i % 256) end
for i = 1, 3000 do SERVERS[i] = ("198.18.%d.%d"):format(math.floor(i / 256), i % 256) end
local NAMES = {}
for i = 1, 48 do NAMES[i] = ("field_%02d"):format(i) end

-- The model's loop for one record shape, generated so that every field is a
-- constant key (rec.field_01 = ...), as chains write them.
local function model_for(fields, updates)
  local make, bump = {}, {}
  for f = 1, fields - 4 do make[#make + 1] = ("rec.%s = 0"):format(NAMES[f]) end
  for f = 1, updates - 1 do bump[#bump + 1] = ("rec.%s = rec.%s + 1"):format(NAMES[f], NAMES[f]) end
  local src = ([[
local CLIENTS, SERVERS, RECORDS, PACKETS, TEMPLATE = ...
return function(live)
  local open, left = {}, {}
  for i = 1, live do left[i] = 0 end
  local done, made, j, sink = 0, 0, 0, 0
  local t0 = os.clock()
  while done < RECORDS do
    j = j %% live + 1
    if left[j] == 0 then
      local old = open[j]
      if old ~= nil then -- the flow ends: walk it as a writer would
        for _, v in pairs(old) do
          if v ~= nil then sink = sink + 1 end
        end
        done = done + 1
      end
      made = made + 1
      local rec = TEMPLATE()
      rec.pkt_first, rec.pkt_last = made, made
      rec.sip, rec.dip = CLIENTS[made %% #CLIENTS + 1], SERVERS[made %% #SERVERS + 1]
      %s
      open[j], left[j] = rec, PACKETS
    end
    local rec = open[j]
    rec.pkt_last = j
    %s
    left[j] = left[j] - 1
  end
  assert(sink > 0)
  return os.clock() - t0
end
]]):format(table.concat(make, "\n      "), table.concat(bump, "\n    "))
  -- new records as pathobs makes them (lua/pathobs/dispatch.lua): a copy of a
  -- constant table of the record's keys, each then set to nil
  local keys = { "pkt_first", "pkt_last", "sip", "dip" }
  for f = 1, fields - 4 do keys[#keys + 1] = NAMES[f] end
  local tsrc = { "return function() local t = {" }
  for _, k in ipairs(keys) do tsrc[#tsrc + 1] = ("[%q] = false,"):format(k) end
  tsrc[#tsrc + 1] = "} "
  for _, k in ipairs(keys) do tsrc[#tsrc + 1] = ("t[%q] = nil "):format(k) end
  tsrc[#tsrc + 1] = "return t end"
  local template = assert(load(table.concat(tsrc), "=record_floor.template"))()
  return assert(load(src, "=record_floor.model"))(CLIENTS, SERVERS, RECORDS, PACKETS, template)
end

local function median(t)
  table.sort(t)
  return t[math.floor((#t + 1) / 2)]
end

print(("record API floor: %d records of %d packets, medians of %d runs (CPU seconds, one thread)")
  :format(RECORDS, PACKETS, RUNS))
print("model   fields  updates/packet    live   seconds  ns/packet")
for _, m in ipairs({ { "basic", 11, 3 }, { "eight", 48, 8 } }) do
  for _, live in ipairs({ 1000, 10000 }) do
    local model, t = model_for(m[2], m[3]), {}
    for r = 1, RUNS do
      collectgarbage("collect")
      t[r] = model(live)
    end
    local s = median(t)
    print(("%-7s %6d %15d %7d %9.3f %10.0f"):format(m[1], m[2], m[3], live, s,
      s / (RECORDS * PACKETS) * 1e9))
  end
end
