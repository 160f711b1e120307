-- pathobs.dispatch: loads chain scripts into chains and runs them over each batch.
-- Internal to pathobs: the C host calls setup(), compose() and batch().

-- The globals this module calls, bound once: a chain that assigns one by
-- mistake (type = ip.proto) must not break the runtime.
local assert, debug, error, getmetatable, ipairs, load, math, package, pairs, pcall, rawget, require =
  assert, debug, error, getmetatable, ipairs, load, math, package, pairs, pcall, rawget, require
local table, tostring, type, unpack, xpcall = table, tostring, type, unpack, xpcall
local byte = string.byte
local ffi = require("ffi")
local core = require("pathobs.core")
local headers = require("pathobs.headers")
local tnew = require("table.new")

local C = ffi.C
local OP_PKT, OP_NEW, OP_EMIT = core.OP_PKT, core.OP_NEW, core.OP_EMIT
local OP_NEW_QUOTE, OP_PKT_LATE = core.OP_NEW_QUOTE, core.OP_PKT_LATE
local L4_TCP, L4_UDP, L4_ICMP = core.L4_TCP, core.L4_UDP, core.L4_ICMP
local FV_NULL, FV_NUMBER, FV_STRING = core.FV_NULL, core.FV_NUMBER, core.FV_STRING
local FV_FALSE, FV_TRUE = core.FV_FALSE, core.FV_TRUE

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

-- A record made from the template with every key set (the usual case: chains
-- give each of their fields a value, null included, when the flow starts)
-- has the template's hash layout: each key in the same node.  Such records
-- are written by tabwalk.c, which reads their values from the table's memory
-- in one pass over its nodes (TAB.write); the others go through write().
-- TLEAF is the template's leaf in the writer's trie (see there): its keys,
-- sorted.  TLEAVES keeps the leaves used so alive (the writer thread prints
-- their key strings) until the trie is dropped, which waits for the writer.
local TAB = nil      -- the C functions of tabwalk.c (probe, template, write); see setup()
local WALK = false   -- tabwalk.c reads this LuaJIT's tables (its probe passed)
local TWRITE = nil   -- TAB.write while a template is set in C, else nil
local TLEAF, TLEAVES = nil, {}

local function no_template(keys)
  new_record, template_keys, TLEAF, TWRITE = sized, keys, nil, nil
  if TAB then TAB.template(nil) end
end

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
  local make = load(table.concat(src), "=pathobs.dispatch.template")
  if not make then return end
  new_record, template_keys, TLEAF, TWRITE = make(), n, leaf, nil
  TLEAVES[#TLEAVES + 1] = leaf
  if WALK then
    local sample = new_record()
    for i = 1, n do sample[keys[i]] = true end
    if TAB.template(sample, leaf.ckeys, n) then TWRITE = TAB.write end
  end
end

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
  no_template(0) -- the new chains' records have other keys
  templates, most = 0, 0
  return true
end

------------------------------------------------------------------ writing

-- A record of string keys and scalar values (the usual kind) is walked here,
-- in compiled code, and its values stored in sorted key order into an array
-- of po_fval in the writer's page (plain FFI stores, no call per value); the
-- writer thread makes the cJSON tree from it and prints it (json.c).  Anything
-- else goes to the C serialiser (slow_write), which gives the same text for
-- what both can write.
--
-- The sorted order is worked out once per order in which pairs() returns a
-- set of keys: those orders form a trie of key strings whose nodes end in
-- a leaf {idx = positions sorted by key, keys = keys sorted, ckeys = the same
-- as a C array}.  Records of a
-- set of chains share a few such paths.  The trie is dropped when it grows
-- past MAX_NODES (records whose keys are made of data would grow it forever).
-- Its key strings are the ones the trees hold (json.c does not copy them):
-- before the trie goes, the writer thread must be done with them.
local J, OUT = nil, nil     -- po_json *, po_out *
local slow_write = nil      -- C function: writes one record the general way, returns its key count
local null = require("pathobs.null")
local LEAF = true           -- the key of a trie node's leaf (record keys are strings)
local MAX_NODES = 50000
local trie, nodes = {}, 0
local KEYS, VALS = {}, {}   -- one record's keys and values, in pairs() order

local function key_less(a, b) return KEYS[a] < KEYS[b] end

-- The leaf of a new path: false when a key needs cleaning (not UTF-8, NUL).
local function make_leaf(node, n)
  local idx, keys = {}, {}
  for i = 1, n do idx[i] = i end
  table.sort(idx, key_less)
  local ckeys = ffi.new("const char *[?]", n)
  local leaf = { idx = idx, keys = keys, ckeys = ckeys }
  for i = 1, n do
    local k = KEYS[idx[i]]
    if C.po_json_key_ok(J, k, #k) == 0 then leaf = false; break end
    keys[i] = k -- keeps the string that ckeys points into
    ckeys[i - 1] = k
  end
  node[LEAF] = leaf
  return leaf
end

-- Fields whose key starts with "_" are the chains' scratch state: never written.
local function strip_scratch(rec)
  for k in pairs(rec) do
    if type(k) == "string" and byte(k, 1) == 95 then rec[k] = nil end
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
          -- the writer thread may still print trees holding the old trie's key strings
          C.po_json_sync(J)
          trie, nodes = {}, 0
          TLEAVES = { TLEAF }
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
  if not leaf then
    for i = 1, n do VALS[i] = nil end
    strip_scratch(rec)
    local keys = slow_write(rec) -- the C serialiser says how many keys it wrote
    if keys > most and keys <= 4096 then
      most = keys
      if keys > hint then hint = keys end
      if most > template_keys then no_template(0) end
    end
    return
  end
  if n > hint then hint = n end
  if n > most then most = n end
  if n > template_keys and n >= most then
    if n <= MAX_TEMPLATE then use_template(leaf, n) else no_template(0) end
  end
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
  local bad = C.po_json_flat_done(J, f, OUT)
  for i = 1, n do VALS[i] = nil end -- keep no record's strings alive
  if bad ~= 0 then
    M.diag[#M.diag + 1] = "out of memory while serialising a record"
  end
end

-- For tests: whether records with the template's layout are now read from C.
function M.template_in_c() return TWRITE ~= nil end

-- Write q[1..n] in order and empty q: runs of records with the template's
-- layout from C, each other record through write().
local function write_queue(q, n)
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

local PEND = ffi.cast("uint32_t *", ffi.new("uint32_t[1]")) -- see M.write_slots

function M.setup(batch, observer, json, out, slow, pend, tab)
  B = ffi.cast("po_pkt *", batch)
  obs = ffi.cast("po_observer *", observer)
  J = ffi.cast("po_json *", json)
  OUT = ffi.cast("po_out *", out)
  slow_write = slow
  PEND = ffi.cast("uint32_t *", pend) -- once: casting a light userdata is not compiled
  TAB = tab
  WALK = tab.probe({ n = 1.5, s = "xy", f = false, t = true, z = null })
  M.table_walk = WALK -- for tests: whether tabwalk.c reads this LuaJIT's tables
  no_template(0) -- learn the template again, now that C may read it
  templates, most = 0, 0
  headers.bind(batch)
end

------------------------------------------------------------------ errors

local seen, nseen = {}, 0
local MAX_SEEN = 10000
local desc = ffi.new("char[160]")
M.diag = {}

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

-- Write the records of PEND[0..n-1] (slots emitted by the C core), in order,
-- after their flow_end.  Returns the number of chain errors.
local WQ = {}
function M.write_slots(n)
  local m, errors = 0, 0
  for i = 0, n - 1 do
    local s = PEND[i]
    local rec = R[s]
    if rec ~= nil then
      R[s] = nil
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
          C.po_obs_ignore(obs, j)
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
        if not go then C.po_obs_complete(obs, j) end
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
  ["pathobs.dispatch"] = true, ["pathobs.null"] = true, ["pathobs.loopcheck"] = true }

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
