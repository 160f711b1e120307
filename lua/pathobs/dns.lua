-- pathobs.dns: DNS messages in payloads, read through ldns (libldns) over the FFI.
--
-- is_response / is_response_tcp: "is this a complete, well-formed DNS
-- response?" (the dns chain), never raising on packet bytes.
--
-- parse / parse_tcp: the message as a Lua table (header, flags, counts, the
-- first question, optionally every record as text), or nil and an error
-- message for bytes that are not a DNS message.  ldns does all the wire
-- reading (names, compression pointers, record data); this module only asks
-- it for the values and frees what it allocated before returning.
--
-- Malformed bytes never raise; a wrong argument type (a table as payload, a
-- negative offset) raises at the caller's line.  Loading this module raises
-- when libldns cannot be found (Debian: libldns3, or libldns-dev for the
-- unversioned name).

-- The globals this module calls, bound once: a chain that assigns one by
-- mistake (type = ip.proto) must not break the runtime.
local error, floor, pcall, require, string, table, tonumber, tostring, type =
  error, math.floor, pcall, require, string, table, tonumber, tostring, type
local ffi = require("ffi")
local hex = require("pathobs.hex")

local byte, concat = string.byte, table.concat
local ffi_string, ffi_cast = ffi.string, ffi.cast

-- Declared once per Lua state, even if the module is loaded again.  ldns's
-- enums (ldns_status, ldns_rr_type, ldns_rr_class, ldns_pkt_rcode,
-- ldns_pkt_opcode) are int-sized; LDNS_STATUS_OK is 0.
if not pcall(ffi.typeof, "po_ldns_pkt") then
  ffi.cdef[[
  typedef struct po_ldns_pkt po_ldns_pkt;
  typedef struct po_ldns_rr_list po_ldns_rr_list;
  typedef struct po_ldns_rr po_ldns_rr;
  typedef struct po_ldns_rdf po_ldns_rdf;
  int ldns_wire2pkt(po_ldns_pkt **packet, const uint8_t *data, size_t len);
  void ldns_pkt_free(po_ldns_pkt *packet);
  const char *ldns_get_errorstr_by_id(int err);

  uint16_t ldns_pkt_id(const po_ldns_pkt *p);
  bool ldns_pkt_qr(const po_ldns_pkt *p);
  bool ldns_pkt_aa(const po_ldns_pkt *p);
  bool ldns_pkt_tc(const po_ldns_pkt *p);
  bool ldns_pkt_rd(const po_ldns_pkt *p);
  bool ldns_pkt_cd(const po_ldns_pkt *p);
  bool ldns_pkt_ra(const po_ldns_pkt *p);
  bool ldns_pkt_ad(const po_ldns_pkt *p);
  int ldns_pkt_get_opcode(const po_ldns_pkt *p);
  int ldns_pkt_get_rcode(const po_ldns_pkt *p);
  po_ldns_rr_list *ldns_pkt_question(const po_ldns_pkt *p);
  po_ldns_rr_list *ldns_pkt_answer(const po_ldns_pkt *p);
  po_ldns_rr_list *ldns_pkt_authority(const po_ldns_pkt *p);
  po_ldns_rr_list *ldns_pkt_additional(const po_ldns_pkt *p);
  bool ldns_pkt_edns(const po_ldns_pkt *p);
  uint16_t ldns_pkt_edns_udp_size(const po_ldns_pkt *p);
  uint8_t ldns_pkt_edns_extended_rcode(const po_ldns_pkt *p);
  uint8_t ldns_pkt_edns_version(const po_ldns_pkt *p);
  bool ldns_pkt_edns_do(const po_ldns_pkt *p);

  size_t ldns_rr_list_rr_count(const po_ldns_rr_list *l);
  po_ldns_rr *ldns_rr_list_rr(const po_ldns_rr_list *l, size_t nr);
  po_ldns_rdf *ldns_rr_owner(const po_ldns_rr *rr);
  uint32_t ldns_rr_ttl(const po_ldns_rr *rr);
  int ldns_rr_get_type(const po_ldns_rr *rr);
  int ldns_rr_get_class(const po_ldns_rr *rr);
  size_t ldns_rr_rd_count(const po_ldns_rr *rr);
  po_ldns_rdf *ldns_rr_rdf(const po_ldns_rr *rr, size_t nr);
  size_t ldns_rdf_size(const po_ldns_rdf *rd);
  uint8_t *ldns_rdf_data(const po_ldns_rdf *rd);

  char *ldns_rdf2str(const po_ldns_rdf *rdf);
  char *ldns_rr_type2str(int type);
  char *ldns_rr_class2str(int klass);
  char *ldns_pkt_rcode2str(int rcode);
  char *ldns_pkt_opcode2str(int opcode);
  ]]
end
-- The ldns *2str functions return malloc'd strings: ldns frees with free().
if not pcall(function() return ffi.C.free end) then
  ffi.cdef("void free(void *ptr);")
end
local C = ffi.C

local function load_ldns()
  local ok, lib = pcall(ffi.load, "ldns")
  if ok then return lib end
  local ok3, lib3 = pcall(ffi.load, "libldns.so.3")
  if ok3 then return lib3 end
  error("pathobs.dns: cannot load libldns (" .. tostring(lib) .. "; " .. tostring(lib3) .. ")", 0)
end

-- The library namespace must stay reachable: when LuaJIT collects it, it
-- unloads the library, and function pointers copied out of it would dangle.
-- So the functions below call through lib (the JIT resolves that once), and
-- the module keeps it too.
local lib = load_ldns()
local LDNS_STATUS_OK = 0
local u8p = ffi.typeof("const uint8_t *")
local out = ffi.new("po_ldns_pkt *[1]") -- reused: no allocation per call

local M = { lib = lib }

-- Parse n bytes at offset off of s; the ldns packet, or nil and the status.
local function wire2pkt(s, off, n)
  out[0] = nil
  local status = lib.ldns_wire2pkt(out, ffi_cast(u8p, s) + off, n)
  local pkt = out[0]
  out[0] = nil
  if status ~= LDNS_STATUS_OK then
    if pkt ~= nil then lib.ldns_pkt_free(pkt) end
    return nil, status
  end
  return pkt
end

local function check_payload(s)
  if s ~= nil and type(s) ~= "string" then
    error("pathobs.dns: the payload must be a string or nil, not a " .. type(s), 3)
  end
end

local function check_offset(off)
  if off == nil then return 0 end
  if type(off) ~= "number" or off < 0 or off ~= floor(off) then
    error("pathobs.dns: the offset must be a whole number from 0, not " .. tostring(off), 3)
  end
  return off
end

-- True when bytes off .. #s-1 of string s (off defaults to 0) are a complete,
-- well-formed DNS message with QR set.  A chain that passes something else
-- than a string or nil, or an offset that is not a whole number from 0, gets
-- an error at its own line (a negative offset would read before the string).
local function is_response(s, off)
  if s == nil then return false end
  check_payload(s)
  off = check_offset(off)
  local n = #s - off
  if n <= 0 then return false end
  local pkt = wire2pkt(s, off, n)
  if pkt == nil then return false end
  local qr = lib.ldns_pkt_qr(pkt)
  lib.ldns_pkt_free(pkt)
  return qr == true
end
M.is_response = is_response

-- The same for a DNS-over-TCP payload: a 2-byte big-endian length, then
-- exactly that many bytes of DNS message.
function M.is_response_tcp(s)
  if s == nil then return false end
  check_payload(s)
  local n = #s
  if n < 2 then return false end
  local hi, lo = byte(s, 1, 2)
  if hi * 256 + lo ~= n - 2 then return false end
  return is_response(s, 2)
end

---------------------------------------------------------------------- parse

-- A Lua string from a malloc'd C string, which is freed (nil for NULL).
local function take(p)
  if p == nil then return nil end
  local s = ffi_string(p)
  C.free(p)
  return s
end

-- Names of numbers (types, classes, rcodes, opcodes), made once each by ldns
-- ("AAAA", "IN", "NXDOMAIN", "QUERY"; "TYPE65280", "CLASS3000", "RCODE16"
-- for numbers ldns has no name for) and kept: at most 65536 per table.
local TYPE, CLASS, RCODE, OPCODE = {}, {}, {}, {}
local function name_of(cache, fn, n)
  local s = cache[n]
  if s == nil then
    s = take(fn(n))
    cache[n] = s
  end
  return s
end

local function rdf_text(rdf)
  if rdf == nil then return nil end
  return take(lib.ldns_rdf2str(rdf))
end

-- The record data in RFC 3597's generic form, \# 4 c0000201, from the
-- fields' wire bytes: for the few records ldns parses but cannot print
-- (data too short or malformed for its type).
local function generic_rdata(rr, nrd)
  local parts = {}
  for i = 1, nrd do
    local rdf = lib.ldns_rr_rdf(rr, i - 1)
    parts[i] = rdf ~= nil and ffi_string(lib.ldns_rdf_data(rdf), lib.ldns_rdf_size(rdf)) or ""
  end
  local raw = concat(parts)
  if raw == "" then return "\\# 0" end
  return "\\# " .. #raw .. " " .. hex(raw)
end

-- One resource record as a table; rdata is its data in presentation form,
-- the fields separated by one space.
local function record(rr)
  local rtype, rclass = lib.ldns_rr_get_type(rr), lib.ldns_rr_get_class(rr)
  local nrd = tonumber(lib.ldns_rr_rd_count(rr))
  local rdata
  if nrd == 1 then
    rdata = rdf_text(lib.ldns_rr_rdf(rr, 0))
  elseif nrd > 1 then
    local parts = {}
    for i = 1, nrd do
      local f = rdf_text(lib.ldns_rr_rdf(rr, i - 1))
      if f == nil then parts = nil; break end
      parts[i] = f
    end
    rdata = parts and concat(parts, " ")
  else
    rdata = ""
  end
  if rdata == nil then rdata = generic_rdata(rr, nrd) end
  return {
    name = rdf_text(lib.ldns_rr_owner(rr)),
    type = rtype, type_name = name_of(TYPE, lib.ldns_rr_type2str, rtype),
    class = rclass, class_name = name_of(CLASS, lib.ldns_rr_class2str, rclass),
    ttl = lib.ldns_rr_ttl(rr),
    rdata = rdata,
  }
end

local function records_of(list)
  local t = {}
  if list == nil then return t end
  for i = 1, tonumber(lib.ldns_rr_list_rr_count(list)) do
    t[i] = record(lib.ldns_rr_list_rr(list, i - 1))
  end
  return t
end

-- The message at bytes off .. off+n-1 of s (n > 0): a table, or nil, error.
local function message(s, off, n, records)
  local pkt, status = wire2pkt(s, off, n)
  if pkt == nil then
    return nil, "not a DNS message: " .. ffi_string(lib.ldns_get_errorstr_by_id(status))
  end
  -- The flags word and the counts as the header has them (ldns's arcount
  -- leaves out the EDNS OPT record it takes out of the additional section).
  local f1, f2, qd1, qd2, an1, an2, ns1, ns2, ar1, ar2 = byte(s, off + 3, off + 12)
  local rcode, opcode = lib.ldns_pkt_get_rcode(pkt), lib.ldns_pkt_get_opcode(pkt)
  local edns = lib.ldns_pkt_edns(pkt)
  if edns then rcode = lib.ldns_pkt_edns_extended_rcode(pkt) * 16 + rcode end
  local m = {
    id = lib.ldns_pkt_id(pkt),
    flags = f1 * 256 + f2,
    qr = lib.ldns_pkt_qr(pkt), aa = lib.ldns_pkt_aa(pkt), tc = lib.ldns_pkt_tc(pkt),
    rd = lib.ldns_pkt_rd(pkt), ra = lib.ldns_pkt_ra(pkt), ad = lib.ldns_pkt_ad(pkt),
    cd = lib.ldns_pkt_cd(pkt),
    opcode = opcode, opcode_name = name_of(OPCODE, lib.ldns_pkt_opcode2str, opcode),
    rcode = rcode, rcode_name = name_of(RCODE, lib.ldns_pkt_rcode2str, rcode),
    qdcount = qd1 * 256 + qd2, ancount = an1 * 256 + an2,
    nscount = ns1 * 256 + ns2, arcount = ar1 * 256 + ar2,
  }
  if edns then
    m.edns_udp_size = lib.ldns_pkt_edns_udp_size(pkt)
    m.edns_version = lib.ldns_pkt_edns_version(pkt)
    m.edns_do = lib.ldns_pkt_edns_do(pkt)
  end
  local q = lib.ldns_pkt_question(pkt)
  if q ~= nil and lib.ldns_rr_list_rr_count(q) > 0 then
    local rr = lib.ldns_rr_list_rr(q, 0)
    local qtype, qclass = lib.ldns_rr_get_type(rr), lib.ldns_rr_get_class(rr)
    m.qname = rdf_text(lib.ldns_rr_owner(rr))
    m.qtype, m.qtype_name = qtype, name_of(TYPE, lib.ldns_rr_type2str, qtype)
    m.qclass, m.qclass_name = qclass, name_of(CLASS, lib.ldns_rr_class2str, qclass)
  end
  if records then
    m.answers = records_of(lib.ldns_pkt_answer(pkt))
    m.authority = records_of(lib.ldns_pkt_authority(pkt))
    m.additional = records_of(lib.ldns_pkt_additional(pkt))
  end
  lib.ldns_pkt_free(pkt)
  return m
end

local function check_records(records)
  if records ~= nil and type(records) ~= "boolean" then
    error("pathobs.dns: records must be true, false or nil, not a " .. type(records), 3)
  end
end

-- The DNS message in bytes off .. #s-1 of s (a UDP payload; off 2 skips a
-- TCP length prefix unchecked): a table, or nil and an error message.
-- records = true adds the answers, authority and additional lists.
function M.parse(s, off, records)
  check_payload(s)
  off = check_offset(off)
  check_records(records)
  if s == nil then return nil, "no payload" end
  local n = #s - off
  if n <= 0 then return nil, "no bytes at offset " .. off .. " of " .. #s end
  return message(s, off, n, records)
end

-- The DNS-over-TCP message whose 2-byte length prefix is at offset off of s:
-- the table and the offset just after the message (#s when it was the last
-- one), or nil and an error message.  The prefix must not claim more bytes
-- than there are; bytes after the message (the next one) are left alone.
function M.parse_tcp(s, off, records)
  check_payload(s)
  off = check_offset(off)
  check_records(records)
  if s == nil then return nil, "no payload" end
  local n = #s - off
  if n < 2 then return nil, "TCP: fewer than 2 bytes, no length prefix" end
  local hi, lo = byte(s, off + 1, off + 2)
  local len = hi * 256 + lo
  if len == 0 then return nil, "TCP: the length prefix is 0" end
  if len > n - 2 then
    return nil, "TCP: the length prefix says " .. len .. " bytes, " .. (n - 2) .. " follow"
  end
  local m, err = message(s, off + 2, len, records)
  if m == nil then return nil, err end
  return m, off + 2 + len
end

return M
