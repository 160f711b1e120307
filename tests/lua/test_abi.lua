-- test_abi.lua - the C/Lua contract: one header (abi.h) read by both sides, every shared field in abi.c's table, a layout difference refused at load.
local ffi = require("ffi")
local t = require("t")
local core = require("pathobs.core")

local STRUCTS = { "po_hdr", "po_pkt", "po_linkinfo", "po_fval" }

-- The rows of src/abi.c's table, collected.
local rows = {}
for T, F, off, size, tsize in core.c_fields() do
  rows[#rows + 1] = { T, F, off, size, tsize }
end
local function iter(list)
  local i = 0
  return function()
    i = i + 1
    local r = list[i]
    if r then return r[1], r[2], r[3], r[4], r[5] end
  end
end
local function copy(list)
  local out = {}
  for i, r in ipairs(list) do out[i] = { r[1], r[2], r[3], r[4], r[5] } end
  return out
end

-- the header core.lua read is the one src/po.h includes
t.ok(core.header_path:find("pathobs/abi.h", 1, true) ~= nil, "core read pathobs/abi.h")
local structs = core.header_structs(core.strip(io.open(core.header_path):read("*a")))
t.eq(table.concat(structs, " "), table.concat(STRUCTS, " "), "structs abi.h defines")

-- every field the FFI reports of each shared struct has exactly one row
t.ok(ffi.typeinfo ~= nil, "ffi.typeinfo (field reflection) is there")
for _, T in ipairs(STRUCTS) do
  local fields, n = core.ffi_fields(T), 0
  local nrows, seen = 0, {}
  for _, r in ipairs(rows) do
    if r[1] == T then
      nrows = nrows + 1
      t.ok(fields[r[2]] ~= nil, T .. "." .. r[2] .. " is a field the FFI knows")
      t.ok(not seen[r[2]], T .. "." .. r[2] .. " has one row")
      seen[r[2]] = true
      t.eq(r[3], ffi.offsetof(T, r[2]), T .. "." .. r[2] .. " offset")
      t.eq(r[4], fields[r[2]], T .. "." .. r[2] .. " size")
      t.eq(r[5], ffi.sizeof(T), T .. " size")
    end
  end
  for _ in pairs(fields) do n = n + 1 end
  t.ok(n > 0, T .. " has fields")
  t.eq(nrows, n, "rows of " .. T)
end
-- a few facts by hand, so that a reflection that says nothing cannot pass
local want = { ["po_pkt.gen"] = 62, ["po_pkt.ts"] = 48, ["po_hdr.fh_off"] = 22,
  ["po_linkinfo.has_mac"] = 14, ["po_fval.kind"] = 20 }
local found = 0
for _, r in ipairs(rows) do
  local w = want[r[1] .. "." .. r[2]]
  if w then found = found + 1; t.eq(r[3], w, r[1] .. "." .. r[2] .. " offset by hand") end
end
t.eq(found, 5, "hand-checked rows found")
t.eq(ffi.sizeof("po_pkt"), 64, "a batch entry is 64 bytes")

-- the real table passes, and was checked when core loaded
t.ok(pcall(core.check_layout, iter(rows), STRUCTS), "the C table agrees with the FFI")
t.eq(core.layout_rows, #rows, "rows checked at load")

-- a C table with one offset changed is refused, naming struct.field
local function with(i, col, value)
  local l = copy(rows)
  for j, r in ipairs(l) do
    if r[1] .. "." .. r[2] == i then l[j][col] = value end
  end
  return l
end
local gen = ffi.offsetof("po_pkt", "gen")
t.raises(function() core.check_layout(iter(with("po_pkt.gen", 3, gen + 2)), STRUCTS) end,
  ("pathobs.core: layout of po_pkt.gen differs: C says offset %d, FFI %d"):format(gen + 2, gen),
  "a moved field")
t.raises(function() core.check_layout(iter(with("po_hdr.fh_off", 4, 4)), STRUCTS) end,
  "pathobs.core: layout of po_hdr.fh_off differs: C says size 4, FFI 2", "a wider field")
t.raises(function() core.check_layout(iter(with("po_fval.num", 5, 32)), STRUCTS) end,
  "pathobs.core: layout of po_fval differs: C says size 32, FFI 24", "a larger struct")
t.raises(function() core.check_layout(iter(with("po_linkinfo.vlan", 2, "vlan_id")), STRUCTS) end,
  "pathobs.core: po_linkinfo.vlan_id of src/abi.c is not declared in abi.h", "an unknown field")
-- a row missing (a field added to abi.h, not to abi.c) and a struct missing
local missing = {}
for _, r in ipairs(rows) do if r[2] ~= "fh_off" then missing[#missing + 1] = r end end
t.raises(function() core.check_layout(iter(missing), STRUCTS) end,
  "pathobs.core: field po_hdr.fh_off of abi.h has no row in src/abi.c", "a field without a row")
local nolink = {}
for _, r in ipairs(rows) do if r[1] ~= "po_linkinfo" then nolink[#nolink + 1] = r end end
t.raises(function() core.check_layout(iter(nolink), STRUCTS) end,
  "pathobs.core: struct po_linkinfo of abi.h has no rows in src/abi.c", "a struct without rows")

-- the constants come from abi.h's enums, with their values unchanged
local consts = { L4_NONE = 0, L4_TCP = 1, L4_UDP = 2, L4_ICMP = 3,
  OP_PKT = 0, OP_NEW = 1, OP_EMIT = 2, OP_NEW_QUOTE = 3, OP_PKT_LATE = 4,
  FV_NULL = 0, FV_NUMBER = 1, FV_STRING = 2, FV_FALSE = 3, FV_TRUE = 4 }
for k, v in pairs(consts) do
  t.eq(core[k], v, "core." .. k)
  t.eq(tonumber(ffi.C["PO_" .. k]), v, "ffi.C.PO_" .. k)
end

-- reading the header: comments and preprocessor lines go, declarations stay
t.eq(core.strip("#ifndef X\n/* a\n b */int a; // c\n  # define Y \\\n  1\nint b;\n"),
  "\n\n int a; \n\nint b;\n", "strip")
t.eq(core.find_header("=stdin", "/nonexistent/?.lua"), nil, "no header anywhere")
t.raises(function() error(select(2, core.find_header("@/nonexistent/pathobs/core.lua",
  "/nonexistent/?.lua")), 0) end,
  "pathobs.core: cannot find abi.h on package.path (/nonexistent/?.lua) nor beside core.lua "
  .. "(/nonexistent/pathobs/abi.h)", "the message")
t.eq(core.find_header("=stdin", package.path), core.header_path, "found on package.path too")
t.done()
