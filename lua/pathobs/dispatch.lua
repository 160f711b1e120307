-- pathobs.dispatch: loads chain scripts into chains and runs them over each batch.
-- Internal to pathobs: the C host calls setup(), compose() and batch().  Records
-- are made and written by pathobs.record; a chain's verdict on its flow is
-- stored beside the batch entry, and the C core applies it after the batch.

-- The globals this module calls, bound once: a chain that assigns one by
-- mistake (type = ip.proto) must not break the runtime.
local assert, debug, error, getmetatable, ipairs, load, math, package, pairs, pcall, rawget, require =
  assert, debug, error, getmetatable, ipairs, load, math, package, pairs, pcall, rawget, require
local table, tostring, type, unpack, xpcall = table, tostring, type, unpack, xpcall
local ffi = require("ffi")
local core = require("pathobs.core")
local headers = require("pathobs.headers")
local record = require("pathobs.record")

local C = ffi.C
local OP_PKT, OP_NEW, OP_EMIT = core.OP_PKT, core.OP_NEW, core.OP_EMIT
local OP_NEW_QUOTE, OP_PKT_LATE = core.OP_NEW_QUOTE, core.OP_PKT_LATE
local L4_TCP, L4_UDP, L4_ICMP = core.L4_TCP, core.L4_UDP, core.L4_ICMP
local COMPLETE, IGNORE = core.VERDICT_COMPLETE, core.VERDICT_IGNORE

local M = {}

-- The chains, in call order for one packet, and their seed spellings.
-- flow_end runs once per record, before it is written.
local CHAINS = { "new_flow", "ip4", "ip6", "icmp4", "icmp6", "tcp", "udp", "l4", "flow_end" }
local KNOWN = {}
for _, name in ipairs(CHAINS) do
  KNOWN[name] = name
  KNOWN[name .. "_chain"] = name
end

local B = ffi.cast("po_pkt *", ffi.new("po_pkt[1]"))
local V = ffi.cast("uint8_t *", ffi.new("uint8_t[1]")) -- verdicts, V[j] for B[j]
local obs = nil -- po_observer *
local R = {}    -- records by flow slot
local E = {}    -- records handed to the writer by this batch, in order
local cur = 0   -- batch entry being processed (read after an error)

local IP4, IP6 = headers.ip4[0], headers.ip6[0]
local Q4, Q6 = headers.ip4[1], headers.ip6[1]
local TCP, UDP = headers.tcp[0], headers.udp[0]

local ch = {}   -- chain name -> composed function or nil

-- After a live reload, flows that began under the previous chains end under
-- them: OLD[slot] is the chain set of such a flow, nold how many there are
-- (0 in every run without a reload: the loop then only compares nold).
local OLD, nold = {}, 0

-- How a new record is made (record.lua changes it as it learns the chains'
-- keys): kept here, where the loop reads it, and refreshed by record.
local new_record
record.watch_new(function(f) new_record = f end)
local write_queue = record.write_queue

------------------------------------------------------------------ loading

local function line_of(fn)
  local info = debug.getinfo(fn, "S")
  return info and info.linedefined or 0
end

-- Compose a list of functions into one that stops at the first false.  A
-- generated function holds at most GROUP of them (LuaJIT allows 60 upvalues);
-- longer lists are composed from composed groups.
local GROUP = 50
local function compose(fns)
  if #fns == 0 then return nil end
  if #fns == 1 then return fns[1] end
  if #fns > GROUP then
    local groups = {}
    for i = 1, #fns, GROUP do
      groups[#groups + 1] = compose({ unpack(fns, i, math.min(i + GROUP - 1, #fns)) })
    end
    return compose(groups)
  end
  local src = { "local f = ...\n" }
  for k = 1, #fns do src[#src + 1] = ("local f%d = f[%d]\n"):format(k, k) end
  src[#src + 1] = "return function(a, b, c, d)\n"
  for k = 1, #fns do
    src[#src + 1] = ("  if f%d(a, b, c, d) == false then return false end\n"):format(k)
  end
  src[#src + 1] = "  return true\nend\n"
  return assert(load(table.concat(src), "=pathobs.dispatch.compose"))(fns)
end

-- Check one script's returned value and append its functions to lists.
-- Raises "path:line: message" for anything that is not a chain table.
local function collect(path, value, lastline, lists)
  if type(value) ~= "table" then
    error(("%s:%d: a chain script must return a table of chain functions, got %s")
      :format(path, lastline, type(value)), 0)
  end
  local names = {}
  for key in pairs(value) do names[#names + 1] = tostring(key) end
  table.sort(names)
  for _, key in ipairs(names) do
    local v = value[key]
    local name = KNOWN[key]
    if key == "exports" then
      -- functions offered for reuse by other scripts: not a chain
    elseif name == nil then
      local where = type(v) == "function" and line_of(v) or lastline
      error(("%s:%d: unknown chain '%s' (chains are %s; put helpers for reuse under 'exports')")
        :format(path, where, key, table.concat(CHAINS, ", ")), 0)
    elseif type(v) == "function" then
      table.insert(lists[name], v)
    elseif type(v) == "table" then
      for k = 1, #v do
        if type(v[k]) ~= "function" then
          error(("%s:%d: chain '%s' entry %d is a %s, not a function")
            :format(path, lastline, key, k, type(v[k])), 0)
        end
        table.insert(lists[name], v[k])
      end
    else
      error(("%s:%d: chain '%s' must be a function or a list of functions, got %s")
        :format(path, lastline, key, type(v)), 0)
    end
  end
end

-- scripts: list of {path = ..., value = <what the script returned>, lastline = n}.
-- Builds the new chains and installs them only when every script is valid.
function M.compose(scripts)
  local lists = {}
  for _, name in ipairs(CHAINS) do lists[name] = {} end
  for _, s in ipairs(scripts) do collect(s.path, s.value, s.lastline or 1, lists) end
  local new = {}
  for _, name in ipairs(CHAINS) do new[name] = compose(lists[name]) end
  for slot in pairs(R) do -- a live reload: the flows so far keep the chains they began with
    if OLD[slot] == nil then OLD[slot] = ch; nold = nold + 1 end
  end
  ch = new
  M.chains = new
  record.forget() -- the new chains' records have other keys
  return true
end

------------------------------------------------------------------ setup

-- The C host (lua_host.c, po_host_bind) calls setup(host) once it has an
-- observer and a sink, with one table (light userdata for the pointers):
--   batch       po_pkt *: the observer's batch, entries 0..n-1 for batch(n)
--   verdicts    uint8_t *: one PO_VERDICT_* per batch entry, stored by the loop
--   observer    po_observer *: for describing a flow in an error message
--   json        po_json *: where records are serialised (record.lua)
--   write_slow  function(rec): writes a record the general way (record.lua)
--   tab         {probe, template, write}: tabwalk.c's functions (record.lua)
-- Casting a light userdata is not compiled: each is cast once, here.
function M.setup(host)
  B = ffi.cast("po_pkt *", host.batch)
  V = ffi.cast("uint8_t *", host.verdicts)
  obs = ffi.cast("po_observer *", host.observer)
  record.setup(host)
  headers.bind(host.batch)
end

------------------------------------------------------------------ errors

local seen, nseen = {}, 0
local MAX_SEEN = 10000
local desc = ffi.new("char[160]")
M.diag = record.diag -- messages for the C host, record's included

-- The text of an error object that is not a string: its __tostring if it has
-- one that works, else its type (error({}) would print "table: 0x...": a new
-- message, and a new line, every time).  Never raises.
local function error_text(err)
  local t = type(err)
  if t == "number" then return tostring(err) end
  local mt = debug.getmetatable(err) -- the real one, whatever __metatable says
  if type(mt) == "table" and rawget(mt, "__tostring") ~= nil then
    local ok, s = pcall(tostring, err)
    if ok and type(s) == "string" then return s end
  end
  return "(error object is a " .. t .. " value)"
end

-- xpcall's handler: runs where the error was raised, so an error object that
-- is not a string still gets the file:line of the Lua code that raised it.
local STALE = headers.STALE
local function error_message(err)
  if type(err) == "string" then return err end
  local text = error_text(err)
  for level = 2, 40 do
    local info = debug.getinfo(level, "Sl")
    if info == nil then break end
    if info.what ~= "C" and info.currentline > 0
      and not (err == STALE and info.short_src:find("pathobs/headers.lua", 1, true)) then
      return info.short_src .. ":" .. info.currentline .. ": " .. text
    end
  end
  return text
end

-- Errors by place ("file:line"), in the order they first came, for the
-- report at the end of a run; failures: errors other than interruptions.
local places, order, failures = {}, {}, 0
local INTERRUPTED = "interrupted (SIGINT/SIGTERM: pathobs is stopping)"
M.strict = false  -- --strict: the first chain error (not an interruption) stops the chains
M.failed = false  -- it happened

local function chain_error(err, slot)
  if type(err) ~= "string" then err = error_text(err) end
  -- the C side prints it as a C string: a NUL would cut it, flow and all
  err = err:gsub("%z", "\\0")
  local interrupted = err:find(INTERRUPTED, 1, true) ~= nil
  if not interrupted then failures = failures + 1 end
  local place = err:match("^([^\n]-:%d+): ") or "(no position)"
  local count = places[place]
  if count ~= nil then
    places[place] = count + 1
  elseif #order < MAX_SEEN then
    places[place] = 1
    order[#order + 1] = place
  end
  if M.strict and not interrupted and not M.failed then
    -- stop here: the rest of the run writes the records without the chains
    M.failed = true
    ch, OLD, nold = {}, {}, 0
  end
  -- each distinct message once, with the flow that raised it first
  if seen[err] then return end
  if nseen >= MAX_SEEN then
    if nseen == MAX_SEEN then
      M.diag[#M.diag + 1] = "more than " .. MAX_SEEN .. " distinct chain errors; counting the rest silently"
      nseen = nseen + 1
    end
    return
  end
  seen[err] = true
  nseen = nseen + 1
  C.po_obs_describe(obs, slot, desc, 160)
  M.diag[#M.diag + 1] = err .. " (flow " .. ffi.string(desc) .. ")"
end

-- The end of a run: one line per place of the errors since the last report,
-- and how many of them were not interruptions.  Starts the counts again.
function M.error_report()
  local lines = {}
  for i, place in ipairs(order) do
    local c = places[place]
    lines[i] = ("chain error at %s: %d time%s"):format(place, c, c == 1 and "" or "s")
  end
  local f = failures
  places, order, failures = {}, {}, 0
  return lines, f
end

-- Write the records of slots[0..n-1] (the observer's list of records its
-- clock or a flush wrote, po_obs_emitted), in order, after their flow_end.
-- Returns the number of chain errors.  Once per batch, not per packet: the
-- cast of the light userdata is not compiled, and need not be.
local WQ, WQ_MAX = {}, 4096
function M.write_slots(slots, n)
  local P = ffi.cast("const uint32_t *", slots)
  local m, errors = 0, 0
  for i = 0, n - 1 do
    local s = P[i]
    local rec = R[s]
    if rec ~= nil then
      R[s] = nil
      if m == WQ_MAX then -- a flush writes every flow: a queue of a million would cost more than they
        write_queue(WQ, m)
        m = 0
      end
      m = m + 1
      WQ[m] = rec
      local c_end = ch.flow_end
      if nold > 0 then
        local o = OLD[s]
        if o ~= nil then
          OLD[s], nold = nil, nold - 1
          c_end = o.flow_end
        end
      end
      if c_end ~= nil then
        local ok, err = xpcall(c_end, error_message, rec)
        if not ok then
          errors = errors + 1
          chain_error(err, s)
        end
      end
    end
  end
  write_queue(WQ, m)
  return errors
end

------------------------------------------------------------------ the loop

local function loop(first, n)
  local set = ch -- the chain set of the locals below
  local new_flow, c_ip4, c_ip6 = ch.new_flow, ch.ip4, ch.ip6
  local c_icmp4, c_icmp6, c_tcp, c_udp, c_l4 = ch.icmp4, ch.icmp6, ch.tcp, ch.udp, ch.l4
  local c_end = ch.flow_end
  for j = first, n - 1 do
    cur = j
    local d = B[j]
    local slot = d.slot
    local op = d.op
    if nold > 0 or set ~= ch then
      -- after a live reload: a flow that began before it runs the chains it began with
      local s = ch
      if nold > 0 then
        local o = OLD[slot]
        if o ~= nil then
          if op == OP_PKT or op == OP_PKT_LATE then -- a packet of the flow, late or not
            s = o
          else -- the flow ends (its flow_end is the old one), or its slot is a new flow's
            OLD[slot], nold = nil, nold - 1
            if op == OP_EMIT then s = o end
          end
        end
      end
      if s ~= set then
        set = s
        new_flow, c_ip4, c_ip6 = s.new_flow, s.ip4, s.ip6
        c_icmp4, c_icmp6, c_tcp, c_udp, c_l4 = s.icmp4, s.icmp6, s.tcp, s.udp, s.l4
        c_end = s.flow_end
      end
    end
    if op == OP_EMIT then
      local rec = R[slot]
      if rec ~= nil then
        E[#E + 1] = rec
        R[slot] = nil
        if c_end ~= nil then c_end(rec) end -- an error here leaves the record in E
      end
    else
      local h = d.h[0]
      local v4 = h.version == 4
      local ip = v4 and IP4 or IP6
      ip.i = j
      local ts = d.ts
      local rec
      local go = true
      if op == OP_NEW or op == OP_NEW_QUOTE then -- OP_NEW_QUOTE: a flow opened by an ICMP error
        rec = new_record()
        rec.pkt_first = ts
        rec.pkt_last = ts
        R[slot] = rec
        local first = ip
        if op ~= OP_NEW then -- new_flow sees the quoted packet: the flow's forward direction
          first = d.h[1].version == 4 and Q4 or Q6
          first.i = j
        end
        if new_flow ~= nil and new_flow(rec, first) == false then
          R[slot] = nil
          V[j] = IGNORE -- applied by the C core after the batch
          go = false
        end
      else
        rec = R[slot]
        if rec == nil then go = false
        elseif op == OP_PKT then rec.pkt_last = ts
        else -- OP_PKT_LATE: older than an earlier frame; pkt_last is the latest time seen
          local last = rec.pkt_last
          if type(last) ~= "number" or ts > last then rec.pkt_last = ts end
        end
      end
      if go then
        local rev = d.rev ~= 0
        if v4 then
          if c_ip4 ~= nil then go = c_ip4(rec, ip, rev) ~= false end
        elseif c_ip6 ~= nil then
          go = c_ip6(rec, ip, rev) ~= false
        end
        local l4 = h.l4
        if go and l4 == L4_ICMP then
          local c_icmp = v4 and c_icmp4 or c_icmp6
          if c_icmp ~= nil then
            local q = nil
            if d.h[1].p ~= nil then
              q = d.h[1].version == 4 and Q4 or Q6
              q.i = j
            end
            go = c_icmp(rec, ip, q, rev) ~= false
          end
        end
        if go then
          if l4 == L4_TCP then
            if c_tcp ~= nil then TCP.i = j; go = c_tcp(rec, TCP, rev) ~= false end
          elseif l4 == L4_UDP then
            if c_udp ~= nil then UDP.i = j; go = c_udp(rec, UDP, rev) ~= false end
          elseif c_l4 ~= nil and h.proto ~= 6 and h.proto ~= 17 then
            go = c_l4(rec, ip, rev) ~= false
          end
        end
        if not go then V[j] = COMPLETE end -- applied by the C core after the batch
      end
    end
  end
end

-- Run the chains over batch entries 0..n-1.  A chain that raises skips the
-- rest of its packet only.  Returns the number of chain errors.
function M.batch(n)
  local first, errors = 0, 0
  while first < n do
    local ok, err = xpcall(loop, error_message, first, n)
    if ok then break end
    errors = errors + 1
    chain_error(err, B[cur].slot)
    first = cur + 1
  end
  headers.release() -- a header object kept by a chain raises when read later
  write_queue(E, #E) -- the records this batch emitted (evictions), in order
  return errors
end

------------------------------------------------------------------ reload

-- The runtime itself is loaded once: its FFI types cannot be defined twice.
local RUNTIME = { pathobs = true, ["pathobs.core"] = true, ["pathobs.headers"] = true,
  ["pathobs.dispatch"] = true, ["pathobs.record"] = true, ["pathobs.null"] = true,
  ["pathobs.loopcheck"] = true }

-- Files of the modules loaded so far from the module folders (for --watch).
function M.module_files()
  local out = {}
  for name in pairs(package.loaded) do
    if type(name) == "string" and not RUNTIME[name] then
      local path = package.searchpath(name, package.path)
      if path then out[#out + 1] = path end
    end
  end
  table.sort(out)
  return out
end

-- Make the next require() of every module from a file load it again.
function M.forget_modules()
  for name in pairs(package.loaded) do
    if type(name) == "string" and not RUNTIME[name] and package.searchpath(name, package.path) then
      package.loaded[name] = nil
    end
  end
end

-- Forget every record (a re-run from the start).
function M.reset()
  for k in pairs(R) do R[k] = nil end
  OLD, nold = {}, 0
  for k = #E, 1, -1 do E[k] = nil end
end

return M
