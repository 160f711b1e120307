-- test_link.lua - pathobs.link: VLAN id and MACs of a batch entry, nil where the frame has none.
local ffi = require("ffi")
local t = require("t")
local link = require("pathobs.link")

ffi.cdef[[
int po_link_batch_reserve(unsigned n);
void po_link_batch_set(unsigned from, unsigned to, const po_linkinfo *li);
]]
local C = ffi.C
t.eq(C.po_link_batch_reserve(8), 0, "room for 8 entries")
local li = ffi.new("po_linkinfo")
li.dst = { 0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc }
li.src = { 0xf0, 0x0d, 0xde, 0xad, 0xbe, 0xef }
li.vlan, li.has_mac = 42, 1
C.po_link_batch_set(2, 4, li)                    -- entries 2 and 3: Ethernet, VLAN 42
local none = ffi.new("po_linkinfo")
none.vlan, none.has_mac = 0xFFFF, 0
C.po_link_batch_set(4, 5, none)                  -- entry 4: raw IP, no link fields

local e3 = { i = 3, q = 0 }
t.eq(link.vlan(e3), 42, "VLAN id")
t.eq(link.dst_mac(e3), "00:1b:21:aa:bb:cc", "destination MAC")
t.eq(link.src_mac(e3), "f0:0d:de:ad:be:ef", "source MAC")
t.eq(link.vlan_id(e3), 42, "python-libtrace spelling vlan_id")
t.eq(link.src_macaddr({ i = 2, q = 1 }), "f0:0d:de:ad:be:ef", "a quotation's object: the same frame")
local e4 = { i = 4, q = 0 }
t.eq(link.vlan(e4), nil, "no VLAN tag: nil")
t.eq(link.src_mac(e4), nil, "no MAC: nil")
t.eq(link.dst_mac(e4), nil, "no MAC: nil")
t.eq(link.vlan({ i = 100000, q = 0 }), nil, "past the batch: nil")
-- the header objects of pathobs.headers carry their entry the same way
local headers = require("pathobs.headers")
local ip = headers.ip4[0]
ip.i = 3
t.eq(link.vlan(ip), 42, "a real header object")
headers.release()
t.raises(function() link.vlan(ip) end, "read after the call", "a released header object")
t.raises(function() link.vlan(nil) end, "pass the packet's header object", "no argument")
t.done()
