-- pathobs.core: the C structures and functions the Lua side shares with the C core.
-- They are declared once, in abi.h beside this file (src/po.h includes the same
-- file): it is read and ffi.cdef'd here, and the layout the FFI gives every struct
-- is checked against the C compiler's (src/abi.c) once, at load.
local ffi = require("ffi")
local bit = require("bit")
local open, getinfo, searchpath = io.open, debug.getinfo, package.searchpath
local band, rshift = bit.band, bit.rshift
local C = ffi.C

local M = {}

-- The path of abi.h: beside this file (the pair is installed together), else
-- pathobs/abi.h on path (package.path with .lua for .h).  nil and a message
-- when neither is there.
function M.find_header(source, path)
  local tried = {}
  local dir = source and source:match("^@(.*)[/\\][^/\\]*$")
  if dir then
    local f = open(dir .. "/abi.h", "r")
    if f then f:close(); return dir .. "/abi.h" end
    tried[#tried + 1] = dir .. "/abi.h"
  end
  local hpath = ((path or "") .. ";"):gsub("%.lua;", ".h;")
  local found = searchpath("pathobs.abi", hpath)
  if found then return found end
  return nil, "pathobs.core: cannot find abi.h on package.path (" .. (path or "") .. ")"
    .. (tried[1] and (" nor beside core.lua (" .. tried[1] .. ")") or "")
end

-- C text as the FFI reads it: no comments, no preprocessor lines.
function M.strip(text)
  text = text:gsub("/%*.-%*/", " "):gsub("//[^\n]*", ""):gsub("\\\r?\n", " ")
  return (("\n" .. text):gsub("\n[ \t]*#[^\n]*", "\n"))
end

local header_path, err = M.find_header(getinfo(1, "S").source, package.path)
if not header_path then error(err, 0) end
local f = assert(open(header_path, "r"))
local header = M.strip(f:read("*a"))
f:close()
ffi.cdef(header)
ffi.cdef[[ const char *inet_ntop(int af, const void *src, char *dst, uint32_t size); ]]

-- The fields of struct T as the FFI lays it out: name -> size (ffi.typeinfo,
-- LuaJIT 2.1), or nil where that reflection is missing.
local CT_FIELD = 9
function M.ffi_fields(T)
  if not ffi.typeinfo then return nil end
  local out = {}
  local id = ffi.typeinfo(tonumber(ffi.typeof(T))).sib
  while id do
    local ti = ffi.typeinfo(id)
    if rshift(ti.info, 28) == CT_FIELD and ti.name then
      out[ti.name] = ffi.typeinfo(band(ti.info, 0xffff)).size
    end
    id = ti.sib
  end
  return out
end

-- The rows of src/abi.c's table: struct, field, offset, field size, struct size.
function M.c_fields()
  local ty, fi = ffi.new("const char *[1]"), ffi.new("const char *[1]")
  local off, sz, tsz = ffi.new("size_t[1]"), ffi.new("size_t[1]"), ffi.new("size_t[1]")
  local i = 0
  return function()
    if C.po_abi_field(i, ty, fi, off, sz, tsz) == 0 then return nil end
    i = i + 1
    return ffi.string(ty[0]), ffi.string(fi[0]), tonumber(off[0]), tonumber(sz[0]),
      tonumber(tsz[0])
  end
end

local function differs(what, unit, c, lua)
  error(("pathobs.core: layout of %s differs: C says %s%d, FFI %d"):format(what, unit, c, lua), 0)
end

-- Compare the rows of rows (an iterator like c_fields) with the FFI's layout;
-- every struct named in structs (a list) must have rows, and every field the
-- FFI knows of a struct with rows must have one.  Raises the first difference.
function M.check_layout(rows, structs)
  local seen, n = {}, 0
  for T, F, off, size, tsize in rows do
    n = n + 1
    local ok, lua_off = pcall(ffi.offsetof, T, F)
    if not ok or lua_off == nil then
      error(("pathobs.core: %s.%s of src/abi.c is not declared in abi.h"):format(T, F), 0)
    end
    if lua_off ~= off then differs(T .. "." .. F, "offset ", off, lua_off) end
    if not seen[T] then seen[T] = { fields = M.ffi_fields(T), rows = {}, size = tsize } end
    local fsize = seen[T].fields and seen[T].fields[F]
    if fsize and fsize ~= size then differs(T .. "." .. F, "size ", size, fsize) end
    seen[T].rows[F] = true
  end
  for _, T in ipairs(structs or {}) do
    if not seen[T] then
      error(("pathobs.core: struct %s of abi.h has no rows in src/abi.c"):format(T), 0)
    end
  end
  for T, s in pairs(seen) do
    if ffi.sizeof(T) ~= s.size then differs(T, "size ", s.size, ffi.sizeof(T)) end
    for F in pairs(s.fields or {}) do
      if not s.rows[F] then
        error(("pathobs.core: field %s.%s of abi.h has no row in src/abi.c"):format(T, F), 0)
      end
    end
  end
  return n
end

-- The structs abi.h defines (with a body), in order.
function M.header_structs(text)
  local out = {}
  for name in text:gmatch("struct%s+([%a_][%w_]*)%s*{") do out[#out + 1] = name end
  return out
end

M.header_path = header_path
M.layout_rows = M.check_layout(M.c_fields(), M.header_structs(header)) -- rows checked

-- Every constant of abi.h's enums: PO_X as M.X, its value from the FFI.
for body in header:gmatch("enum%s*[%w_]*%s*(%b{})") do
  for item in body:sub(2, -2):gmatch("[^,]+") do
    local name = item:match("^%s*PO_([%w_]+)")
    if name then M[name] = tonumber(C["PO_" .. name]) end
  end
end

return M
