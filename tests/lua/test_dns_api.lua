-- test_dns_api.lua - pathobs.dns.parse / parse_tcp: DNS messages built here, read through ldns.
local t = require("t")
local dns = require("pathobs.dns")
local ffi = require("ffi")
local char, concat = string.char, table.concat

---------------------------------------------------------------------- builders
local function u16(v) return char(math.floor(v / 256) % 256, v % 256) end
local function u32(v) return u16(math.floor(v / 65536)) .. u16(v % 65536) end

-- "www.example.com" in wire form (no escapes: odd labels are built by hand).
local function name(s)
  local out = {}
  for label in s:gmatch("[^.]+") do out[#out + 1] = char(#label) .. label end
  return concat(out) .. "\0"
end

local function header(id, flags, qd, an, ns, ar)
  return u16(id) .. u16(flags) .. u16(qd) .. u16(an) .. u16(ns) .. u16(ar)
end

local function rr(owner, rtype, ttl, rdata, class)
  return owner .. u16(rtype) .. u16(class or 1) .. u32(ttl) .. u16(#rdata) .. rdata
end

local Q = 12 -- offset of the question name, the target of most pointers
local function ptr(off) return u16(0xc000 + off) end
local A, NS, CNAME, SOA, MX, TXT, AAAA, OPT = 1, 2, 5, 6, 15, 16, 28, 41

local function tcp(msg, delta) return u16(#msg + (delta or 0)) .. msg end

-- Every field of a parsed message, against a table of expected values;
-- fields absent from want must be nil.  Record lists are compared apart.
local FIELDS = { "id", "flags", "qr", "aa", "tc", "rd", "ra", "ad", "cd", "opcode",
  "opcode_name", "rcode", "rcode_name", "qdcount", "ancount", "nscount", "arcount",
  "qname", "qtype", "qtype_name", "qclass", "qclass_name", "edns_udp_size",
  "edns_version", "edns_do" }
local KNOWN = { answers = true, authority = true, additional = true }
for _, f in ipairs(FIELDS) do KNOWN[f] = true end

local function fields(m, want, what)
  t.eq(type(m), "table", what .. ": a table")
  if type(m) ~= "table" then return end
  for _, f in ipairs(FIELDS) do t.eq(m[f], want[f], what .. ": " .. f) end
  for k in pairs(m) do t.ok(KNOWN[k], what .. ": no unknown field " .. tostring(k)) end
end

local function records(list, want, what)
  t.eq(type(list), "table", what .. ": a list")
  if type(list) ~= "table" then return end
  t.eq(#list, #want, what .. ": count")
  for i, w in ipairs(want) do
    local r = list[i] or {}
    t.eq(r.name, w[1], what .. " " .. i .. ": name")
    t.eq(r.type, w[2], what .. " " .. i .. ": type")
    t.eq(r.type_name, w[3], what .. " " .. i .. ": type_name")
    t.eq(r.class, w[4] or 1, what .. " " .. i .. ": class")
    t.eq(r.class_name, w[5] or "IN", what .. " " .. i .. ": class_name")
    t.eq(r.ttl, w[6], what .. " " .. i .. ": ttl")
    t.eq(r.rdata, w[7], what .. " " .. i .. ": rdata")
    local n = 0
    for _ in pairs(r) do n = n + 1 end
    t.eq(n, 7, what .. " " .. i .. ": seven fields")
  end
end

local function fails(m, err, pattern, what)
  t.eq(m, nil, what .. ": no message")
  t.eq(type(err), "string", what .. ": an error message")
  if pattern and type(err) == "string" then
    t.ok(err:find(pattern, 1, true), what .. ": '" .. tostring(err) .. "' says '" .. pattern .. "'")
  end
end

-- The fields every message below shares unless it says otherwise.
local function base(over)
  local w = { id = 0x1234, flags = 0x0100, qr = false, aa = false, tc = false, rd = true,
    ra = false, ad = false, cd = false, opcode = 0, opcode_name = "QUERY", rcode = 0,
    rcode_name = "NOERROR", qdcount = 1, ancount = 0, nscount = 0, arcount = 0,
    qname = "www.example.com.", qtype = A, qtype_name = "A", qclass = 1, qclass_name = "IN" }
  for k, v in pairs(over) do w[k] = v end
  return w
end

---------------------------------------------------------------------- queries
local QUERY = header(0x1234, 0x0100, 1, 0, 0, 0) .. name("www.example.com") .. u16(A) .. u16(1)
fields(dns.parse(QUERY), base({}), "A query")
local m = dns.parse(QUERY)
t.eq(m.answers, nil, "no record lists unless asked")
m = dns.parse(QUERY, 0, true)
records(m.answers, {}, "query answers")
records(m.authority, {}, "query authority")
records(m.additional, {}, "query additional")
fields(dns.parse(QUERY, nil, false), base({}), "records = false")

-- AAAA query with EDNS (OPT: UDP size 1232, version 0, DO), CD and AD set;
-- the OPT record counts in arcount but is not an additional record.
local EDNSQ = header(0x0001, 0x0130, 1, 0, 0, 1) .. name("www.example.com") .. u16(AAAA) .. u16(1)
  .. "\0" .. u16(OPT) .. u16(1232) .. "\0\0" .. u16(0x8000) .. u16(0)
fields(dns.parse(EDNSQ), base({ id = 1, flags = 0x0130, ad = true, cd = true, qtype = AAAA,
  qtype_name = "AAAA", arcount = 1, edns_udp_size = 1232, edns_version = 0, edns_do = true }),
  "EDNS query")
records(dns.parse(EDNSQ, 0, true).additional, {}, "the OPT record is not listed")

-- Other opcodes, classes and types; the name's case as sent (0x20 randomisation).
local NOTIFY = header(7, 0x2400, 1, 0, 0, 0) .. name("ExAmple.COM") .. u16(SOA) .. u16(3)
fields(dns.parse(NOTIFY), base({ id = 7, flags = 0x2400, opcode = 4, opcode_name = "NOTIFY",
  rd = false, aa = true, qname = "ExAmple.COM.", qtype = SOA, qtype_name = "SOA", qclass = 3,
  qclass_name = "CH" }), "NOTIFY, class CH, mixed case")
local ODD = header(8, 0x3000, 1, 0, 0, 0) .. name("example") .. u16(65280) .. u16(4000)
fields(dns.parse(ODD), base({ id = 8, flags = 0x3000, opcode = 6, opcode_name = "OPCODE6",
  rd = false, qname = "example.", qtype = 65280, qtype_name = "TYPE65280", qclass = 4000,
  qclass_name = "CLASS4000" }), "numbers ldns has no name for")

-- The root, a dot inside a label, a byte that is not printable: escaped as
-- in zone files.
local ROOT = header(9, 0, 1, 0, 0, 0) .. "\0" .. u16(NS) .. u16(1)
fields(dns.parse(ROOT), base({ id = 9, flags = 0, rd = false, qname = ".", qtype = NS,
  qtype_name = "NS" }), "the root")
local ESC = header(10, 0, 1, 0, 0, 0) .. "\3a.b\2\0z\7example\0" .. u16(A) .. u16(1)
t.eq(dns.parse(ESC).qname, "a\\.b.\\000z.example.", "escaped labels")

-- No question: no qname, qtype, qclass.
local NOQ = header(11, 0x8000, 0, 0, 0, 0)
local want = base({ id = 11, flags = 0x8000, qr = true, rd = false, qdcount = 0 })
want.qname, want.qtype, want.qtype_name, want.qclass, want.qclass_name = nil, nil, nil, nil, nil
fields(dns.parse(NOQ), want, "no question")

---------------------------------------------------------------------- responses
local function response(qname, qtype, flags, an, ns, ar, body)
  return header(0x1234, flags or 0x8180, 1, an, ns, ar) .. name(qname) .. u16(qtype) .. u16(1)
    .. body
end

-- Two A records (the largest TTL there is on the second), names as pointers.
local RA = response("www.example.com", A, nil, 2, 0, 0,
  rr(ptr(Q), A, 300, "\192\0\2\1") .. rr(ptr(Q), A, 0xffffffff, "\198\51\100\7"))
m = dns.parse(RA, 0, true)
fields(m, base({ flags = 0x8180, qr = true, ra = true, ancount = 2 }), "A response")
records(m.answers, {
  { "www.example.com.", A, "A", 1, "IN", 300, "192.0.2.1" },
  { "www.example.com.", A, "A", 1, "IN", 4294967295, "198.51.100.7" },
}, "A answers")
records(m.authority, {}, "A authority")

local RAAAA = response("www.example.com", AAAA, 0x8580, 1, 0, 0,
  rr(ptr(Q), AAAA, 60, "\32\1\13\184" .. ("\0"):rep(11) .. "\1"))
m = dns.parse(RAAAA, 0, true)
fields(m, base({ flags = 0x8580, qr = true, aa = true, ra = true, ancount = 1, qtype = AAAA,
  qtype_name = "AAAA" }), "AAAA response")
records(m.answers, { { "www.example.com.", AAAA, "AAAA", 1, "IN", 60, "2001:db8::1" } },
  "AAAA answers")

-- A CNAME whose target (in the rdata, at offset 45) the A record's owner points to.
local CN = rr(ptr(Q), CNAME, 3600, name("web.example.net"))
local RCNAME = response("www.example.com", A, nil, 2, 0, 0, CN .. rr(ptr(45), A, 30, "\203\0\113\9"))
t.eq(#(header(0, 0, 0, 0, 0, 0) .. name("www.example.com") .. "1234" .. ptr(Q) .. "12345678" .. "12"),
  45, "the CNAME target's offset")
m = dns.parse(RCNAME, 0, true)
fields(m, base({ flags = 0x8180, qr = true, ra = true, ancount = 2 }), "CNAME response")
records(m.answers, {
  { "www.example.com.", CNAME, "CNAME", 1, "IN", 3600, "web.example.net." },
  { "web.example.net.", A, "A", 1, "IN", 30, "203.0.113.9" },
}, "CNAME answers")

-- MX: preference and an exchange that points into the question (example.com at 16).
local RMX = response("example.com", MX, nil, 1, 0, 0,
  rr(ptr(Q), MX, 7200, u16(10) .. "\4mail" .. ptr(Q)))
m = dns.parse(RMX, 0, true)
fields(m, base({ flags = 0x8180, qr = true, ra = true, ancount = 1, qname = "example.com.",
  qtype = MX, qtype_name = "MX" }), "MX response")
records(m.answers, { { "example.com.", MX, "MX", 1, "IN", 7200, "10 mail.example.com." } },
  "MX answers")

-- TXT: two character strings, one with a quote and a space.
local RTXT = response("example.com", TXT, nil, 1, 0, 0,
  rr(ptr(Q), TXT, 5, "\11v=spf1 -all\8say \"hi\""))
m = dns.parse(RTXT, 0, true)
records(m.answers, { { "example.com.", TXT, "TXT", 1, "IN", 5, '"v=spf1 -all" "say \\"hi\\""' } },
  "TXT answers")

-- NXDOMAIN from the authority, with its SOA in the authority section and an
-- A record for the name server in the additional section.
local SOA_RD = name("ns.example.com") .. name("hostmaster.example.com")
  .. u32(2024010101) .. u32(7200) .. u32(3600) .. u32(1209600) .. u32(300)
local RNX = header(0x4242, 0x8583, 1, 0, 1, 1) .. name("nope.example.com") .. u16(A) .. u16(1)
  .. rr(ptr(17), SOA, 300, SOA_RD) .. rr(name("ns.example.com"), A, 300, "\192\0\2\53")
m = dns.parse(RNX, 0, true)
fields(m, base({ id = 0x4242, flags = 0x8583, qr = true, aa = true, ra = true, rcode = 3,
  rcode_name = "NXDOMAIN", nscount = 1, arcount = 1, qname = "nope.example.com." }), "NXDOMAIN")
records(m.answers, {}, "NXDOMAIN answers")
records(m.authority, { { "example.com.", SOA, "SOA", 1, "IN", 300,
  "ns.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300" } }, "NXDOMAIN authority")
records(m.additional, { { "ns.example.com.", A, "A", 1, "IN", 300, "192.0.2.53" } },
  "NXDOMAIN additional")

-- SERVFAIL, REFUSED; an extended rcode from the OPT record (BADVERS = 16).
t.eq(dns.parse(response("x.example", A, 0x8182, 0, 0, 0, "")).rcode_name, "SERVFAIL", "SERVFAIL")
t.eq(dns.parse(response("x.example", A, 0x8185, 0, 0, 0, "")).rcode_name, "REFUSED", "REFUSED")
local BADVERS = response("x.example", A, 0x8180, 0, 0, 1,
  "\0" .. u16(OPT) .. u16(512) .. "\1\0" .. u16(0) .. u16(0))
m = dns.parse(BADVERS)
t.eq(m.rcode, 16, "extended rcode: the OPT's upper 8 bits above the header's 4")
t.eq(m.rcode_name, "RCODE16", "extended rcode name")
t.eq(m.edns_do, false, "DO clear")
t.eq(m.edns_udp_size, 512, "EDNS size 512")

-- Truncated by the server (TC set, the records left out): a valid message.
local RTC = response("www.example.com", TXT, 0x8380, 0, 0, 0, "")
fields(dns.parse(RTC), base({ flags = 0x8380, qr = true, tc = true, ra = true, qtype = TXT,
  qtype_name = "TXT" }), "TC response")

-- Types ldns does not know, and data it cannot print for its type: RFC 3597's
-- generic form, from the data's bytes.
local RUNK = response("example.com", 65280, nil, 2, 0, 0,
  rr(ptr(Q), 65280, 1, "\10\0\0\1") .. rr(ptr(Q), 42, 2, "\0\1\24"))
m = dns.parse(RUNK, 0, true)
records(m.answers, {
  { "example.com.", 65280, "TYPE65280", 1, "IN", 1, "\\# 4 0a000001" },
  { "example.com.", 42, "APL", 1, "IN", 2, "\\# 3 000118" },
}, "unknown and unprintable data")

-- Two questions (servers refuse these): the first is reported.
local TWOQ = header(5, 0x0100, 2, 0, 0, 0) .. name("one.example") .. u16(A) .. u16(1)
  .. name("two.example") .. u16(AAAA) .. u16(1)
fields(dns.parse(TWOQ), base({ id = 5, qdcount = 2, qname = "one.example." }), "two questions")

-- An answer that does not match the question is still read as sent.
t.eq(dns.parse(RA, 0, true).answers[2].rdata, "198.51.100.7", "second answer")

---------------------------------------------------------------------- malformed
local ALL = { QUERY, EDNSQ, NOTIFY, ROOT, RA, RAAAA, RCNAME, RMX, RTXT, RNX, BADVERS, RUNK, TWOQ }
-- Every proper prefix of every message fails, with an error, never a raise.
for i, msg in ipairs(ALL) do
  for n = 0, #msg - 1 do
    local ok, mm, err = pcall(dns.parse, msg:sub(1, n), 0, true)
    t.ok(ok, "prefix " .. n .. " of message " .. i .. " does not raise")
    if ok then
      t.ok(mm == nil and type(err) == "string" and err ~= "",
        "prefix " .. n .. " of message " .. i .. ": nil and an error")
    end
  end
end
fails(dns.parse(""), select(2, dns.parse("")), "no bytes at offset 0 of 0", "empty")
fails(nil, select(2, dns.parse(nil)), "no payload", "nil")
fails(nil, select(2, dns.parse(QUERY:sub(1, 11))), "not a DNS message: ", "11 bytes")
fails(nil, select(2, dns.parse(RA:sub(1, -2))), "not a DNS message: ", "last byte missing")
-- an answer promised by the header and not there
fails(nil, select(2, dns.parse(header(1, 0x8180, 1, 1, 0, 0) .. name("a.example") .. u16(A)
  .. u16(1))), "not a DNS message: ", "missing answer")
-- rdata shorter than an A record needs, and longer than the message
fails(nil, select(2, dns.parse(response("a.example", A, nil, 1, 0, 0,
  rr(ptr(Q), A, 1, "\1\2\3")))), "not a DNS message: ", "3-byte A")
fails(nil, select(2, dns.parse(response("a.example", A, nil, 1, 0, 0,
  rr(ptr(Q), A, 1, "\1\2\3\4"):sub(1, -2)))), "not a DNS message: ", "rdlength past the end")

-- Compression pointers: to itself, two pointing at each other, a label then
-- a pointer back to it (the name would grow forever), past the end.
local function qwith(wirename) return header(1, 0, 1, 0, 0, 0) .. wirename .. u16(A) .. u16(1) end
local function bad_name(wirename, what)
  local ok, mm, err = pcall(dns.parse, qwith(wirename))
  t.ok(ok, what .. ": no raise")
  fails(mm, err, "not a DNS message: ", what)
end
bad_name(ptr(Q), "pointer to itself")
bad_name(ptr(14) .. ptr(12), "two pointers in a loop")
bad_name("\1a" .. ptr(Q), "label and pointer back")
bad_name("\3abc" .. ptr(16) .. "", "pointer to itself after a label")
bad_name(ptr(0x3fff), "pointer past the end")
bad_name("\64" .. ("x"):rep(64) .. "\0", "label type 01 (0x40)")
bad_name("\128abc\0", "label type 10 (0x80)")
bad_name(("\63" .. ("x"):rep(63)):rep(4) .. "\0", "a name longer than 255 bytes")
local loopy = response("www.example.com", A, nil, 1, 0, 0, rr(ptr(33), A, 1, "\1\2\3\4"))
fails(nil, select(2, dns.parse(loopy)), "not a DNS message: ", "owner pointing at itself")
-- a pointer to a later byte is accepted by ldns (it is bounded)
t.eq(dns.parse(qwith(ptr(14) .. "\1a\0")) ~= nil, true, "forward pointer")

-- Random mutations of the messages: a table or nil and a message, never a raise.
math.randomseed(53)
local seen_ok, seen_bad = 0, 0
for _ = 1, 4000 do
  local msg = ALL[math.random(#ALL)]
  for _ = 1, math.random(1, 3) do
    local i = math.random(1, #msg)
    msg = msg:sub(1, i - 1) .. char(math.random(0, 255)) .. msg:sub(i + 1)
  end
  local ok, mm, err = pcall(dns.parse, msg, 0, true)
  if not ok then t.ok(false, "raised: " .. tostring(mm)) break end
  if mm then seen_ok = seen_ok + 1 else seen_bad = seen_bad + 1 end
  t.ok(mm ~= nil or type(err) == "string", "nil comes with an error")
end
t.ok(seen_ok > 100 and seen_bad > 100, "mutations give both outcomes (" .. seen_ok .. ", " .. seen_bad .. ")")

---------------------------------------------------------------------- offsets, arguments
fields(dns.parse("xx" .. QUERY, 2), base({}), "offset 2")
fails(nil, select(2, dns.parse(QUERY, #QUERY)), "no bytes at offset " .. #QUERY .. " of " .. #QUERY, "offset at the end")
fails(nil, select(2, dns.parse(QUERY, 99)), "no bytes at offset 99", "offset past the end")
-- trailing bytes after the message are not looked at
fields(dns.parse(QUERY .. "junk"), base({}), "trailing bytes")

local here = "test_dns_api.lua:"
t.raises(function() dns.parse({}) end, here, "a table as payload: error at the caller")
t.raises(function() dns.parse({}) end, "payload must be a string or nil, not a table", "table")
t.raises(function() dns.parse(QUERY, -1) end, "offset must be a whole number from 0, not -1", "-1")
t.raises(function() dns.parse(QUERY, 0.5) end, "not 0.5", "fraction")
t.raises(function() dns.parse(QUERY, "2") end, "not 2", "string offset")
t.raises(function() dns.parse(QUERY, 0, "yes") end, "records must be true, false or nil, not a string", "records")
t.raises(function() dns.parse(QUERY, 0, 1) end, here, "records: error at the caller")
t.raises(function() dns.parse_tcp(42) end, "not a number", "parse_tcp: number payload")
t.raises(function() dns.parse_tcp(tcp(QUERY), -2) end, "not -2", "parse_tcp: negative offset")
t.raises(function() dns.parse_tcp(tcp(QUERY), 0, {}) end, here, "parse_tcp: records")
t.raises(function() dns.is_response_tcp({}) end, here, "is_response_tcp: table")
t.raises(function() dns.is_response({}) end, here, "is_response: table")

---------------------------------------------------------------------- TCP
local msg2, nxt = dns.parse_tcp(tcp(RA), nil, true)
fields(msg2, base({ flags = 0x8180, qr = true, ra = true, ancount = 2 }), "TCP response")
t.eq(nxt, #RA + 2, "TCP: the offset after the message")
t.eq(#msg2.answers, 2, "TCP: records")
-- two messages in one segment (pipelined queries), read one after the other
local TWO = tcp(QUERY) .. tcp(EDNSQ)
local first, at = dns.parse_tcp(TWO)
t.eq(first and first.qtype_name, "A", "TCP: first of two")
t.eq(at, #QUERY + 2, "TCP: where the second starts")
local second, at2 = dns.parse_tcp(TWO, at)
t.eq(second and second.qtype_name, "AAAA", "TCP: second of two")
t.eq(at2, #TWO, "TCP: the end")
fails(nil, select(2, dns.parse_tcp(TWO, at2)), "TCP: fewer than 2 bytes, no length prefix", "TCP: after the last")
-- wrong length prefixes
fails(nil, select(2, dns.parse_tcp(tcp(RA, 1))), "TCP: the length prefix says " .. (#RA + 1)
  .. " bytes, " .. #RA .. " follow", "TCP: prefix one too large")
fails(nil, select(2, dns.parse_tcp(tcp(RA, -1))), "not a DNS message: ", "TCP: prefix one too small")
fails(nil, select(2, dns.parse_tcp(tcp(RA):sub(1, 30))), "the length prefix says", "TCP: first part of a split message")
fails(nil, select(2, dns.parse_tcp(RA)), nil, "TCP: no prefix")
fails(nil, select(2, dns.parse_tcp("\0\0" .. RA)), "TCP: the length prefix is 0", "TCP: prefix 0")
fails(nil, select(2, dns.parse_tcp("\0")), "TCP: fewer than 2 bytes", "TCP: 1 byte")
fails(nil, select(2, dns.parse_tcp("")), "TCP: fewer than 2 bytes", "TCP: empty")
fails(nil, select(2, dns.parse_tcp(nil)), "no payload", "TCP: nil")
-- python-libtrace's way: skip two bytes without looking at them
fields(dns.parse(tcp(QUERY, 5), 2), base({}), "prefix skipped unchecked")

---------------------------------------------------------------------- annotations
-- lua/types/pathobs/dns.lua annotates exactly the fields parse hands out.
local here_dir = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local f = assert(io.open(here_dir .. "/../../lua/types/pathobs/dns.lua"))
local stub, cls = { }, nil
for line in f:lines() do
  local c = line:match("^%-%-%-@class%s+([%w.]+)")
  if c then cls = c; stub[c] = {} end
  local fld = line:match("^%-%-%-@field%s+([%w_]+)")
  if fld and cls then stub[cls][fld] = true end
end
f:close()
local function same(got, want, what)
  for k in pairs(want) do t.ok(got[k], what .. " annotates " .. k) end
  for k in pairs(got) do t.ok(want[k], what .. ": " .. k .. " is a real field") end
end
same(stub.PathobsDNSMessage or {}, KNOWN, "PathobsDNSMessage")
same(stub.PathobsDNSRecord or {}, dns.parse(RA, 0, true).answers[1], "PathobsDNSRecord")

---------------------------------------------------------------------- leaks
-- Every ldns packet and string is freed before parse returns.  LuaJIT (64-bit)
-- allocates its own memory apart from malloc, so malloc's in-use bytes count
-- only ldns and the C side: a leak of one object per call would add megabytes.
ffi.cdef[[
struct po_test_mallinfo2 { size_t arena, ordblks, smblks, hblks, hblkhd, usmblks,
                           fsmblks, uordblks, fordblks, keepcost; };
struct po_test_mallinfo2 mallinfo2(void);
]]
local function in_use() return tonumber(ffi.C.mallinfo2().uordblks) end
local BAD = { "", QUERY:sub(1, 20), qwith(ptr(Q)), qwith(("\63" .. ("x"):rep(63)):rep(4) .. "\0"),
  RA:sub(1, -2), loopy }
local function round()
  for _, msg in ipairs(ALL) do
    assert(dns.parse(msg, 0, true))
    assert(dns.parse(msg))
    assert(dns.parse_tcp(tcp(msg), 0, true))
    dns.is_response(msg)
  end
  for _, msg in ipairs(BAD) do
    assert(not dns.parse(msg, 0, true))
    assert(not dns.parse_tcp(tcp(msg), 0, true))
    dns.is_response(msg)
  end
end
for _ = 1, 200 do round() end -- warm up: name caches, malloc's free lists
collectgarbage()
local before = in_use()
for _ = 1, 1000 do round() end
collectgarbage()
local grown = in_use() - before
t.ok(grown < 65536, "malloc'd bytes grew by " .. grown .. " over 1000 rounds (a leak?)")

t.done()
